package axios_test

import (
	"context"
	"fmt"
	"go/ast"
	"go/parser"
	"go/token"
	"log"
	"os"
	"strings"
	"testing"
	"time"

	"github.com/jarcoal/httpmock"
	"github.com/redis/go-redis/v9"
	"golang.org/x/oauth2"

	"github.com/axiosgo/axios"
	"github.com/axiosgo/axios/auth"
	"github.com/axiosgo/axios/auth/authtest"
	"github.com/axiosgo/axios/storage"
	"github.com/axiosgo/axios/storage/redisstore"
)

// The README's Go code blocks are the bodies of the Example_readme*
// functions below, verbatim: go test compiles and runs them and checks their
// Output, and TestREADMEGoBlocksAreExamples fails when a README block and its
// example drift apart. To change a block, change the example, then paste its
// body (one tab of indentation removed) into README.md.

func Example_readmeTour() {
	srv := authtest.NewServer(authtest.Options{}) // a loopback OAuth-style API to try things on
	defer srv.Close()
	ctx := context.Background()

	// axios.create({baseURL, timeout})
	api := axios.Create(axios.Config{BaseURL: srv.URL, Timeout: 5 * time.Second})
	defer api.CloseIdleConnections()

	// api.interceptors.request.use(config => { ...; return config })
	api.Interceptors.Request.Use(func(ctx context.Context, cfg *axios.Config) (*axios.Config, error) {
		cfg.Headers.Set("X-Tenant", "acme")
		return cfg, nil
	}, nil)

	// The auth pair: attach the token, refresh it once when refused, retry.
	authn, err := auth.New(auth.Options{
		Store: storage.NewMemory(), // or storage.NewFile(path), redisstore.New(rdb, key)
		Refresh: auth.JSONRefresher(api, auth.JSONEndpoint{
			URL:  "/refresh",
			Body: func(t *oauth2.Token) any { return map[string]string{"refresh_token": t.RefreshToken} },
		}),
	})
	if err != nil {
		log.Fatal(err)
	}
	authn.Install(api)
	if err := authn.SetToken(ctx, srv.Issue("demo")); err != nil { // after your login call
		log.Fatal(err)
	}

	srv.Revoke() // the server now refuses that token: the next call refreshes and retries
	type Echo struct{ User, Path string }
	me, err := axios.JSON[Echo](api.Get(ctx, "/api/me"))
	fmt.Println(me.User, me.Path, err, authn.Stats().Refreshes)
	// Output: demo /api/me <nil> 1
}

func Example_readmeHTTPMock() {
	api := axios.Create(axios.Config{BaseURL: "https://api.example.com"})
	mock := httpmock.NewMockTransport()
	api.Resty().SetTransport(mock) // everything below the interceptors is mocked
	mock.RegisterResponder("GET", "https://api.example.com/users/7",
		httpmock.NewStringResponder(200, `{"id":7,"name":"kim"}`))

	type User struct{ Name string }
	user, err := axios.JSON[User](api.Get(context.Background(), "/users/7"))
	fmt.Println(user.Name, err, mock.GetCallCountInfo()["GET https://api.example.com/users/7"])
	// Output: kim <nil> 1
}

// Example_readmeManyProcesses needs a Redis, so it has no Output: go test
// compiles it and does not run it. examples/redis-worker and
// examples/cluster-worker run the same setup.
func Example_readmeManyProcesses() {
	api := axios.Create(axios.Config{BaseURL: "https://api.example.com"})

	// Every process: the same key on the same Redis.
	rdb := redis.NewClient(&redis.Options{Addr: "localhost:6379"})
	// On a Redis Cluster, the same call with a ClusterClient:
	// rdb := redis.NewClusterClient(&redis.ClusterOptions{Addrs: []string{"10.0.0.1:6379", "10.0.0.2:6379"}})
	defer rdb.Close() // the store never closes it

	authn, err := auth.New(auth.Options{
		Store: redisstore.New(rdb, "myapp:token"), // a TokenStore and a Locker
		Refresh: auth.OAuth2(&oauth2.Config{
			Endpoint: oauth2.Endpoint{TokenURL: "https://id.example.com/oauth/token"},
		}),
	})
	if err != nil {
		log.Fatal(err)
	}
	authn.Install(api)
}

// readmeExample is the name prefix of the examples the README shows.
const readmeExample = "Example_readme"

func TestREADMEGoBlocksAreExamples(t *testing.T) {
	readme, err := os.ReadFile("README.md")
	if err != nil {
		t.Fatal(err)
	}
	blocks := goBlocks(string(readme))
	bodies := exampleBodies(t, "readme_test.go")
	if len(blocks) == 0 {
		t.Fatal("README.md has no ```go blocks")
	}

	shown := map[string]bool{}
	for i, block := range blocks {
		name, ok := matchBody(block, bodies)
		if !ok {
			t.Errorf("README.md ```go block %d is not the body of any %s* function in readme_test.go: %s",
				i+1, readmeExample, firstDifference(block, bodies))
			continue
		}
		shown[name] = true
	}
	for name := range bodies {
		if !shown[name] {
			t.Errorf("%s in readme_test.go is not shown in README.md: paste its body into a ```go block", name)
		}
	}
}

// goBlocks returns the contents of the fenced ```go blocks of a Markdown
// text, without the fences.
func goBlocks(md string) []string {
	var blocks, cur []string
	in := false
	for _, line := range strings.Split(md, "\n") {
		switch {
		case !in && strings.TrimSpace(line) == "```go":
			in, cur = true, nil
		case in && strings.TrimSpace(line) == "```":
			in = false
			blocks = append(blocks, strings.Join(cur, "\n"))
		case in:
			cur = append(cur, line)
		}
	}
	return blocks
}

// exampleBodies returns the bodies of path's readme examples, by name, as
// they appear in the README: without the braces and with one tab of
// indentation removed.
func exampleBodies(t *testing.T, path string) map[string]string {
	t.Helper()
	src, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	fset := token.NewFileSet()
	f, err := parser.ParseFile(fset, path, src, parser.ParseComments)
	if err != nil {
		t.Fatal(err)
	}
	bodies := map[string]string{}
	for _, decl := range f.Decls {
		fn, ok := decl.(*ast.FuncDecl)
		if !ok || !strings.HasPrefix(fn.Name.Name, readmeExample) || fn.Body == nil {
			continue
		}
		body := string(src[fset.Position(fn.Body.Lbrace).Offset+1 : fset.Position(fn.Body.Rbrace).Offset])
		lines := strings.Split(strings.Trim(body, "\n"), "\n")
		for i, l := range lines {
			lines[i] = strings.TrimPrefix(l, "\t")
		}
		bodies[fn.Name.Name] = strings.Join(lines, "\n")
	}
	if len(bodies) == 0 {
		t.Fatalf("%s has no %s* functions", path, readmeExample)
	}
	return bodies
}

func matchBody(block string, bodies map[string]string) (string, bool) {
	for name, body := range bodies {
		if body == block {
			return name, true
		}
	}
	return "", false
}

// firstDifference describes where block departs from the example it is
// most like: the one sharing the longest run of leading lines.
func firstDifference(block string, bodies map[string]string) string {
	bl := strings.Split(block, "\n")
	best, bestName, bestLines := -1, "", []string(nil)
	for name, body := range bodies {
		el := strings.Split(body, "\n")
		n := 0
		for n < len(bl) && n < len(el) && bl[n] == el[n] {
			n++
		}
		if n > best {
			best, bestName, bestLines = n, name, el
		}
	}
	line := func(ls []string, i int) string {
		if i < len(ls) {
			return fmt.Sprintf("%q", ls[i])
		}
		return "(end)"
	}
	return fmt.Sprintf("closest is %s; line %d differs:\n  README:  %s\n  example: %s",
		bestName, best+1, line(bl, best), line(bestLines, best))
}
