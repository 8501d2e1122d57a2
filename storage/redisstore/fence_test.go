package redisstore_test

import (
	"context"
	"errors"
	"fmt"
	"net"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/redis/go-redis/v9"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	"golang.org/x/oauth2"

	"github.com/axiosgo/axios/internal/redistest"
	"github.com/axiosgo/axios/storage"
	"github.com/axiosgo/axios/storage/redisstore"
)

// Fencing: while a Store holds its lock, its Save and Clear land only if
// the lock key still holds this Store's lease, so a holder whose lease ran
// out cannot overwrite the token a newer holder saved (DESIGN.md, Storage:
// "saves under the lock are fenced").

// named is a token whose values carry name, and "s3cr3t", which must never
// show up in an error message.
func named(name string) *oauth2.Token {
	return &oauth2.Token{
		AccessToken:  "s3cr3t-access-" + name,
		TokenType:    "Bearer",
		RefreshToken: "s3cr3t-refresh-" + name,
	}
}

// partition stands between one client and Redis: cut closes the client's
// connections and makes its dials fail, as a network partition, or a
// process stalled past its lease, does; heal lets it through again.
type partition struct {
	mu    sync.Mutex
	down  bool
	conns []net.Conn
}

func (p *partition) dial(ctx context.Context, network, addr string) (net.Conn, error) {
	p.mu.Lock()
	defer p.mu.Unlock()
	if p.down {
		return nil, errors.New("partitioned")
	}
	var d net.Dialer
	c, err := d.DialContext(ctx, network, addr)
	if err == nil {
		p.conns = append(p.conns, c)
	}
	return c, err
}

func (p *partition) cut() {
	p.mu.Lock()
	defer p.mu.Unlock()
	p.down = true
	for _, c := range p.conns {
		_ = c.Close()
	}
	p.conns = nil
}

func (p *partition) heal() {
	p.mu.Lock()
	defer p.mu.Unlock()
	p.down = false
}

// assertStored checks that the key holds want.
func assertStored(t *testing.T, s *redisstore.Store, want *oauth2.Token) {
	t.Helper()
	got, err := s.Load(context.WithoutCancel(t.Context()))
	require.NoError(t, err)
	assert.Equal(t, want.AccessToken, got.AccessToken)
	assert.Equal(t, want.RefreshToken, got.RefreshToken)
}

// assertLockLost checks the error of a fenced write whose lease ran out.
func assertLockLost(t *testing.T, err error, op string) {
	t.Helper()
	require.ErrorIs(t, err, storage.ErrLockExpired, "a %s by a holder whose lease ran out must fail", op)
	assert.True(t, strings.HasPrefix(err.Error(), "redisstore: "+op+": "), err.Error())
	assert.NotContains(t, err.Error(), "s3cr3t")
}

// The case: A takes the lock and stalls past its lease (here its
// network is cut, so its renewals fail and the lease runs out in Redis); B
// takes the lock, refreshes and saves T2. A wakes up and saves T1, whose
// refresh token rotation has made useless: the save must fail and leave T2.
func TestFencedSaveAfterLeaseRanOutKeepsNewerToken(t *testing.T) {
	srv := redistest.Start(t)
	var p partition
	rdbA := redis.NewClient(&redis.Options{Addr: srv.Addr, Dialer: p.dial})
	t.Cleanup(func() { _ = rdbA.Close() })
	a := redisstore.New(rdbA, "token")
	a.LockTTL = 300 * time.Millisecond
	b := redisstore.New(srv.Client(), "token") // another process
	ctx := t.Context()
	require.NoError(t, b.Save(ctx, named("T0")))

	unlockA, err := a.Lock(ctx)
	require.NoError(t, err)
	p.cut()
	lctx, cancel := context.WithTimeout(ctx, 10*time.Second)
	defer cancel()
	unlockB, err := b.Lock(lctx)
	require.NoError(t, err, "A's lease did not run out")
	require.NoError(t, b.Save(ctx, named("T2")))
	require.NoError(t, unlockB(ctx))
	p.heal()

	err = a.Save(ctx, named("T1"))
	assertLockLost(t, err, "save")
	assertStored(t, b, named("T2"))
	require.ErrorIs(t, unlockA(ctx), storage.ErrLockExpired)

	// A's next turn is a holder like any other again.
	unlockA, err = a.Lock(ctx)
	require.NoError(t, err)
	require.NoError(t, a.Save(ctx, named("T3")))
	require.NoError(t, unlockA(ctx))
	assertStored(t, b, named("T3"))
}

// The same for Clear, while the new holder still holds the lock: a late
// Clear (a logout, or a refused refresh) must not delete its token.
func TestFencedClearAfterLeaseLostKeepsNewerToken(t *testing.T) {
	srv := redistest.Start(t)
	rdb := srv.Client()
	a := redisstore.New(rdb, "token")
	b := redisstore.New(srv.Client(), "token")
	ctx := t.Context()

	unlockA, err := a.Lock(ctx)
	require.NoError(t, err)
	require.NoError(t, a.Save(ctx, named("T1")))
	// A's lease runs out under it.
	require.NoError(t, rdb.Del(ctx, a.LockKey()).Err())
	unlockB, err := b.Lock(ctx)
	require.NoError(t, err)
	require.NoError(t, b.Save(ctx, named("T2")))

	assertLockLost(t, a.Clear(ctx), "clear")
	assertStored(t, b, named("T2"))
	assertLockLost(t, a.Save(ctx, named("T1")), "save")
	assertStored(t, b, named("T2"))
	assert.Equal(t, int64(1), rdb.Exists(ctx, b.LockKey()).Val(), "a fenced write touched the lock")

	require.NoError(t, unlockB(ctx))
	require.ErrorIs(t, unlockA(ctx), storage.ErrLockExpired)
}

// A lease that ran out with nobody taking the lock since is lost all the
// same: the store cannot tell it from a holder that came and went.
func TestFencedSaveAfterLeaseLostToNobodyFails(t *testing.T) {
	srv := redistest.Start(t)
	rdb := srv.Client()
	a := redisstore.New(rdb, "token")
	ctx := t.Context()
	require.NoError(t, a.Save(ctx, named("T0")))
	unlock, err := a.Lock(ctx)
	require.NoError(t, err)
	require.NoError(t, rdb.Del(ctx, a.LockKey()).Err()) // the lease runs out

	assertLockLost(t, a.Save(ctx, named("T1")), "save")
	assertLockLost(t, a.Clear(ctx), "clear")
	assertStored(t, a, named("T0"))
	require.ErrorIs(t, unlock(ctx), storage.ErrLockExpired)
}

// A holder's Save and Clear land, and leave its lock alone.
func TestHolderSavesAndClears(t *testing.T) {
	srv := redistest.Start(t)
	rdb := srv.Client()
	a := redisstore.New(rdb, "token")
	other := redisstore.New(srv.Client(), "token")
	ctx := t.Context()

	unlock, err := a.Lock(ctx)
	require.NoError(t, err)
	require.NoError(t, a.Save(ctx, named("T1")))
	assertStored(t, other, named("T1"))
	require.NoError(t, a.Save(ctx, named("T2")))
	assertStored(t, other, named("T2"))
	assert.Equal(t, time.Duration(-1), rdb.TTL(ctx, a.Key()).Val(), "the token key must not expire")
	keys, err := rdb.Keys(ctx, "*").Result()
	require.NoError(t, err)
	assert.ElementsMatch(t, []string{"token", "{token}:lock"}, keys)
	assert.Greater(t, rdb.PTTL(ctx, a.LockKey()).Val(), time.Duration(0), "a fenced save changed the lock's lease")

	require.NoError(t, a.Clear(ctx))
	_, err = other.Load(ctx)
	require.ErrorIs(t, err, storage.ErrNoToken)
	require.NoError(t, a.Clear(ctx), "clearing an empty store under the lock")
	require.NoError(t, unlock(ctx))
	assert.Equal(t, int64(0), rdb.Exists(ctx, a.LockKey()).Val())
}

// A Store that does not hold the lock saves without a fence, as before:
// auth saves a login without the lock when the lock cannot be taken. Once
// a holder unlocked, its Store is such a Store again.
func TestSaveWithoutTheLockIsNotFenced(t *testing.T) {
	srv := redistest.Start(t)
	rdb := srv.Client()
	a := redisstore.New(rdb, "token")
	b := redisstore.New(srv.Client(), "token")
	ctx := t.Context()

	require.NoError(t, a.Save(ctx, named("T1")), "no lock anywhere")
	assertStored(t, b, named("T1"))

	unlock, err := a.Lock(ctx)
	require.NoError(t, err)
	require.NoError(t, unlock(ctx))
	unlockB, err := b.Lock(ctx)
	require.NoError(t, err)
	require.NoError(t, a.Save(ctx, named("T2")), "a Store that unlocked is not fenced by its old lease")
	assertStored(t, b, named("T2"))
	require.NoError(t, a.Clear(ctx))
	_, err = b.Load(ctx)
	require.ErrorIs(t, err, storage.ErrNoToken)
	require.NoError(t, unlockB(ctx))
}

// Redis being down is not a lost lease: the holder's save fails with the
// network's error, which auth retries, not with ErrLockExpired, on which
// it gives up.
func TestFencedSaveWhileRedisIsDownIsNotLockExpired(t *testing.T) {
	srv := redistest.Start(t)
	var p partition
	rdb := redis.NewClient(&redis.Options{Addr: srv.Addr, Dialer: p.dial})
	t.Cleanup(func() { _ = rdb.Close() })
	s := redisstore.New(rdb, "token")
	ctx := t.Context()
	unlock, err := s.Lock(ctx)
	require.NoError(t, err)
	p.cut()
	for name, err := range map[string]error{"save": s.Save(ctx, named("T1")), "clear": s.Clear(ctx)} {
		require.Error(t, err, name)
		assert.NotErrorIs(t, err, storage.ErrLockExpired, name)
		assert.True(t, strings.HasPrefix(err.Error(), "redisstore: "+name+": "), err.Error())
		assert.NotContains(t, err.Error(), "s3cr3t")
	}
	p.heal()
	require.NoError(t, s.Save(ctx, named("T1")), "the lease outlived the short outage")
	require.NoError(t, unlock(ctx))
}

// Many holders on one Store, and on two Stores sharing the key, while a
// thief now and then takes the lock over from whoever holds it (as a
// process does once a holder's lease ran out) and saves its own token. No
// holder's save may land while the thief holds the lock, and every error is
// a fenced write's or a late unlock's ErrLockExpired.
func TestFencingUnderConcurrency(t *testing.T) {
	for _, stores := range []int{1, 2} {
		t.Run(fmt.Sprintf("%d stores", stores), func(t *testing.T) {
			srv := redistest.Start(t)
			rdb := srv.Client()
			var ss []*redisstore.Store
			for range stores {
				ss = append(ss, redisstore.New(srv.Client(), "token"))
			}
			lockKey := ss[0].LockKey()
			ctx := t.Context()

			const workers, rounds = 8, 8
			var saved sync.Map // access tokens saved without error
			var landed, fenced atomic.Int64
			errs := make(chan error, 2*workers*rounds)
			var wg sync.WaitGroup
			for w := range workers {
				s := ss[w%stores]
				wg.Add(1)
				go func() {
					defer wg.Done()
					for r := range rounds {
						lctx, cancel := context.WithTimeout(ctx, 20*time.Second)
						unlock, err := s.Lock(lctx)
						cancel()
						if err != nil {
							errs <- err
							return
						}
						time.Sleep(time.Millisecond) // the refresh
						tok := named(fmt.Sprintf("w%d-r%d", w, r))
						switch err := s.Save(ctx, tok); {
						case err == nil:
							saved.Store(tok.AccessToken, true)
							landed.Add(1)
						case errors.Is(err, storage.ErrLockExpired):
							fenced.Add(1)
						default:
							errs <- err
						}
						if err := unlock(ctx); err != nil && !errors.Is(err, storage.ErrLockExpired) {
							errs <- err
						}
					}
				}()
			}

			stop := make(chan struct{})
			thiefDone := make(chan struct{})
			var thefts int
			var overwritten []string
			go func() {
				defer close(thiefDone)
				for i := 0; ; i++ {
					select {
					case <-stop:
						return
					case <-time.After(20 * time.Millisecond):
					}
					tok := named(fmt.Sprintf("thief-%d", i))
					raw := fmt.Sprintf(`{"access_token":%q,"token_type":"Bearer","refresh_token":%q}`, tok.AccessToken, tok.RefreshToken)
					_, err := rdb.TxPipelined(ctx, func(p redis.Pipeliner) error {
						p.Set(ctx, lockKey, "thief", time.Minute)
						p.Set(ctx, "token", raw, 0)
						return nil
					})
					if err != nil {
						errs <- err
						return
					}
					thefts++
					saved.Store(tok.AccessToken, true)
					time.Sleep(5 * time.Millisecond) // stale holders try to save now
					got, err := ss[0].Load(ctx)
					if err != nil {
						errs <- err
						return
					}
					if got.AccessToken != tok.AccessToken {
						overwritten = append(overwritten, strings.TrimPrefix(got.AccessToken, "s3cr3t-access-"))
					}
					if err := rdb.Del(ctx, lockKey).Err(); err != nil {
						errs <- err
						return
					}
				}
			}()
			wg.Wait()
			close(stop)
			<-thiefDone
			close(errs)
			for err := range errs {
				t.Error(err)
			}
			assert.Empty(t, overwritten, "holders' saves landed while the thief held the lock")
			got, err := ss[0].Load(ctx)
			require.NoError(t, err)
			_, ok := saved.Load(got.AccessToken)
			assert.True(t, ok, "the final token %q is nobody's", got.AccessToken)
			assert.Positive(t, landed.Load(), "no holder's save landed")
			t.Logf("%d saves landed, %d fenced off, %d thefts", landed.Load(), fenced.Load(), thefts)
		})
	}
}

// On a Ring (and a Cluster) the lock key "{key}:lock" is on the token key's
// server, even for a key whose key+":lock" (the lock key of earlier
// versions) is on the other one: a key without a hash tag is fenced too.
func TestRingFencesEveryKey(t *testing.T) {
	srvs := []*redistest.Server{redistest.Start(t), redistest.Start(t)}
	ring := redis.NewRing(&redis.RingOptions{Addrs: map[string]string{"a": srvs[0].Addr, "b": srvs[1].Addr}})
	t.Cleanup(func() { _ = ring.Close() })
	ctx := t.Context()
	// shard tells which server holds key.
	shard := func(key string) int {
		for i, srv := range srvs {
			if srv.Client().Exists(ctx, key).Val() == 1 {
				return i
			}
		}
		return -1
	}
	split := ""
	for i := 0; split == "" && i < 100; i++ {
		key := fmt.Sprintf("token%d", i)
		require.NoError(t, ring.Set(ctx, key, "x", 0).Err())
		require.NoError(t, ring.Set(ctx, key+":lock", "x", 0).Err())
		if shard(key) != shard(key+":lock") {
			split = key
		}
		require.NoError(t, ring.Del(ctx, key).Err())
		require.NoError(t, ring.Del(ctx, key+":lock").Err())
	}
	require.NotEmpty(t, split, "no key whose key+\":lock\" is on the other server")

	for _, key := range []string{split, "{app}:token"} {
		a := redisstore.New(ring, key)
		b := redisstore.New(ring, key)
		unlock, err := a.Lock(ctx)
		require.NoError(t, err)
		require.NoError(t, a.Save(ctx, named("T1")))
		assert.Equal(t, shard(a.Key()), shard(a.LockKey()), "%s: the lock key is on the token key's server", key)
		require.NoError(t, ring.Del(ctx, a.LockKey()).Err()) // the lease runs out
		unlockB, err := b.Lock(ctx)
		require.NoError(t, err)
		require.NoError(t, b.Save(ctx, named("T2")))
		assertLockLost(t, a.Save(ctx, named("T1")), "save")
		assertStored(t, b, named("T2"))
		require.NoError(t, unlockB(ctx))
		require.ErrorIs(t, unlock(ctx), storage.ErrLockExpired)
	}

	// A key with a '}' but no hash tag cannot be named by one: its lock key
	// is key+":lock", and a holder's save on a sharded client is unfenced
	// rather than refused.
	odd := redisstore.New(ring, "a{}b")
	assert.Equal(t, "a{}b:lock", odd.LockKey())
	unlock, err := odd.Lock(ctx)
	require.NoError(t, err)
	require.NoError(t, odd.Save(ctx, named("T1")))
	assertStored(t, odd, named("T1"))
	require.NoError(t, odd.Clear(ctx))
	require.NoError(t, unlock(ctx))
}
