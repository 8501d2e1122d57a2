package axios

import (
	"bytes"
	"encoding/json"
	"errors"
	"io"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// gateReader hands out one chunk per release, so a test decides when a
// Read of the source returns.
type gateReader struct {
	chunks chan string
}

func (g *gateReader) Read(p []byte) (int, error) {
	s, ok := <-g.chunks
	if !ok {
		return 0, io.EOF
	}
	return copy(p, s), nil
}

// waitReading waits until an attempt is blocked in a Read of s's source.
func waitReading(t *testing.T, s *onceSource) {
	t.Helper()
	require.Eventually(t, func() bool {
		s.mu.Lock()
		defer s.mu.Unlock()
		return s.reading
	}, 5*time.Second, time.Millisecond)
}

func lowerMaxReplay(t *testing.T, n int) {
	old := maxReplay
	maxReplay = n
	t.Cleanup(func() { maxReplay = old })
}

// An attempt opened while an older one's Read of the source is under way
// waits for that read and gets its bytes; the older attempt is told it was
// superseded, and nothing is lost or read twice.
func TestOnceSourceHandsAnInFlightReadToTheNewestAttempt(t *testing.T) {
	g := &gateReader{chunks: make(chan string)}
	s := newOnceSource(g, "")
	first, err := s.open()
	require.NoError(t, err)

	go func() { g.chunks <- "abc" }()
	buf := make([]byte, 8)
	n, err := first.Read(buf)
	require.NoError(t, err)
	assert.Equal(t, "abc", string(buf[:n]))

	done := make(chan error, 1)
	go func() { // the first attempt reads on, and blocks in the source
		_, err := first.Read(make([]byte, 8))
		done <- err
	}()
	waitReading(t, s)
	second, err := s.open() // a 307: net/http opens the body again
	require.NoError(t, err)
	n, err = second.Read(buf)
	require.NoError(t, err)
	assert.Equal(t, "abc", string(buf[:n]), "the kept bytes first")

	got := make(chan string, 1)
	go func() {
		b, err := io.ReadAll(second)
		assert.NoError(t, err)
		got <- string(b)
	}()
	g.chunks <- "def" // ends the first attempt's read
	assert.ErrorIs(t, <-done, errSuperseded)
	g.chunks <- "ghi"
	close(g.chunks)
	assert.Equal(t, "defghi", <-got)

	third, err := s.open()
	require.NoError(t, err)
	b, err := io.ReadAll(third)
	require.NoError(t, err)
	assert.Equal(t, "abcdefghi", string(b), "a replay after the end")
}

// Past maxReplay the bytes are dropped as they are sent, and a new attempt
// fails with the replay error instead of sending a partial body.
func TestOnceSourcePastTheLimitRefusesANewAttempt(t *testing.T) {
	lowerMaxReplay(t, 10)
	s := newOnceSource(strings.NewReader(strings.Repeat("x", 25)), "file")
	r, err := s.open()
	require.NoError(t, err)
	b, err := io.ReadAll(io.LimitReader(r, 12))
	require.NoError(t, err)
	assert.Len(t, b, 12)
	_, err = s.open()
	var re *replayError
	require.ErrorAs(t, err, &re)
	assert.Contains(t, err.Error(), `FormData part "file"`)
	rest, err := io.ReadAll(r)
	require.NoError(t, err)
	assert.Len(t, rest, 13, "the attempt under way goes on")
	assert.Nil(t, s.kept, "nothing is held past the limit")
}

// A read that an older attempt had under way is kept even past the limit,
// since the newest attempt, still replaying, needs it; only then is the
// source closed to new attempts.
func TestOnceSourceKeepsASupersededReadPastTheLimit(t *testing.T) {
	lowerMaxReplay(t, 4)
	g := &gateReader{chunks: make(chan string)}
	s := newOnceSource(g, "")
	first, _ := s.open()
	go func() { g.chunks <- "abc" }()
	_, err := first.Read(make([]byte, 8))
	require.NoError(t, err)
	done := make(chan error, 1)
	go func() {
		_, err := first.Read(make([]byte, 8))
		done <- err
	}()
	waitReading(t, s)
	second, err := s.open()
	require.NoError(t, err)
	g.chunks <- "defg" // 7 bytes read in all: over the limit of 4
	require.ErrorIs(t, <-done, errSuperseded)
	close(g.chunks)
	b, err := io.ReadAll(second)
	require.NoError(t, err)
	assert.Equal(t, "abcdefg", string(b))
	_, err = s.open()
	assert.True(t, errors.As(err, new(*replayError)))
}

// A source that failed cannot be replayed: a new attempt gets its error.
func TestOnceSourceFailureIsNotReplayed(t *testing.T) {
	boom := errors.New("boom")
	s := newOnceSource(io.MultiReader(strings.NewReader("ab"), errReader{boom}), "")
	r, _ := s.open()
	_, err := io.ReadAll(r)
	require.ErrorIs(t, err, boom)
	_, err = s.open()
	assert.ErrorIs(t, err, boom)
}

type errReader struct{ err error }

func (e errReader) Read([]byte) (int, error) { return 0, e.err }

// BenchmarkJSONBody measures marshalJSON, which pools its encoder, against
// json.Marshal (which escapes HTML, so is not what is sent) and an encoder
// made per call.
func BenchmarkJSONBody(b *testing.B) {
	type user struct {
		Name  string `json:"name"`
		Query string `json:"query"`
		IDs   []int  `json:"ids"`
	}
	v := user{Name: "kim", Query: "<a&b>", IDs: []int{1, 2, 3}}
	b.Run("marshalJSON", func(b *testing.B) {
		b.ReportAllocs()
		for b.Loop() {
			if _, err := marshalJSON(v); err != nil {
				b.Fatal(err)
			}
		}
	})
	b.Run("json.Marshal", func(b *testing.B) {
		b.ReportAllocs()
		for b.Loop() {
			if _, err := json.Marshal(v); err != nil {
				b.Fatal(err)
			}
		}
	})
	b.Run("encoder-per-call", func(b *testing.B) {
		b.ReportAllocs()
		for b.Loop() {
			var buf bytes.Buffer
			enc := json.NewEncoder(&buf)
			enc.SetEscapeHTML(false)
			if err := enc.Encode(v); err != nil {
				b.Fatal(err)
			}
			_ = bytes.TrimSuffix(buf.Bytes(), []byte{'\n'})
		}
	})
}
