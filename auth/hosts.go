package auth

import (
	"fmt"
	"net"
	"net/url"
	"strings"
	"sync"
	"sync/atomic"

	"github.com/axiosgo/axios"
)

// scope is where the token may go: the origins of the BaseURLs of the
// clients the pair is installed on, and Options.Hosts. With neither, every
// origin gets it, as axios sends its headers everywhere.
type scope struct {
	mu    sync.Mutex // serializes add
	hosts []string   // Options.Hosts: origins ("https://api.example.com") or bare host names
	set   atomic.Pointer[scopeSet]
}

// scopeSet is one published state of a scope; never changed once published.
type scopeSet struct {
	bases   []string        // BaseURLs as given, for a relative request's cheap check
	origins map[string]bool // "scheme://host[:port]", lower case
	names   map[string]bool // bare host names, any scheme and port
}

func newScope(hosts []string) *scope {
	s := &scope{hosts: hosts}
	set := &scopeSet{origins: map[string]bool{}, names: map[string]bool{}}
	for _, h := range hosts {
		if o, ok := origin(h); ok {
			set.origins[o] = true
		} else if _, port, err := net.SplitHostPort(h); err == nil && port != "" {
			// "host:port": that port, on either scheme.
			for _, scheme := range [...]string{"http://", "https://"} {
				if o, ok := origin(scheme + h); ok {
					set.origins[o] = true
				}
			}
		} else if h != "" {
			set.names[strings.ToLower(h)] = true
		}
	}
	s.set.Store(set)
	return s
}

// checkHosts reports an Options.Hosts entry that could never match a
// request: a host name that is not ASCII (requests carry its ASCII, xn--
// form, and converting it would take x/net/idna into every program), or an
// origin without a host.
func checkHosts(hosts []string) error {
	for _, h := range hosts {
		for i := 0; i < len(h); i++ {
			if h[i] >= 0x80 {
				return fmt.Errorf("auth: Options.Hosts: %q is not ASCII: give the host in its ASCII (xn--) form", h)
			}
		}
		if isAbsolute(h) {
			if _, ok := origin(h); !ok {
				return fmt.Errorf("auth: Options.Hosts: %q is not an http or https origin", h)
			}
		}
	}
	return nil
}

// add lets the token go to baseURL's origin.
func (s *scope) add(baseURL string) {
	o, ok := origin(baseURL)
	if !ok {
		return
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	old := s.set.Load()
	next := &scopeSet{bases: append(append([]string(nil), old.bases...), baseURL), origins: make(map[string]bool, len(old.origins)+1), names: old.names}
	for k := range old.origins {
		next.origins[k] = true
	}
	next.origins[o] = true
	s.set.Store(next)
}

// allows reports whether the request cfg describes may carry the token.
func (s *scope) allows(cfg *axios.Config) bool {
	set := s.set.Load()
	if len(set.origins) == 0 && len(set.names) == 0 {
		return true
	}
	target := cfg.URL
	// As the core joins them: with AllowAbsoluteURLs false, an absolute
	// URL goes under BaseURL, so BaseURL's origin is the target.
	joined := cfg.BaseURL != "" && cfg.AllowAbsoluteURLs != nil && !*cfg.AllowAbsoluteURLs
	if !isAbsolute(target) || joined {
		if cfg.BaseURL == "" {
			return true // relative to the client's own BaseURL, which it merges in
		}
		for _, b := range set.bases {
			if cfg.BaseURL == b {
				return true // the common case: no parse
			}
		}
		target = cfg.BaseURL
	}
	u, err := url.Parse(target)
	if err != nil || u.Host == "" {
		return false
	}
	return set.allowsURL(u)
}

func (set *scopeSet) allowsURL(u *url.URL) bool {
	if len(set.origins) == 0 && len(set.names) == 0 {
		return true
	}
	if o, ok := originOf(u); ok && set.origins[o] {
		return true
	}
	return set.names[strings.ToLower(u.Hostname())]
}

// origin returns raw's "scheme://host[:port]", lower case, when raw is an
// absolute http(s) URL.
func origin(raw string) (string, bool) {
	if !strings.Contains(raw, "://") {
		return "", false
	}
	u, err := url.Parse(raw)
	if err != nil {
		return "", false
	}
	return originOf(u)
}

func originOf(u *url.URL) (string, bool) {
	scheme := strings.ToLower(u.Scheme)
	if (scheme != "http" && scheme != "https") || u.Host == "" {
		return "", false
	}
	host := strings.ToLower(u.Host)
	// The default port is the same origin as none.
	if scheme == "http" {
		host = strings.TrimSuffix(host, ":80")
	} else {
		host = strings.TrimSuffix(host, ":443")
	}
	return scheme + "://" + host, true
}

// isAbsolute reports whether a request URL ignores BaseURL, as axios's
// isAbsoluteURL: a scheme followed by "//", or a protocol-relative "//host".
func isAbsolute(s string) bool {
	if strings.HasPrefix(s, "//") {
		return true
	}
	i := strings.Index(s, "://")
	if i <= 0 {
		return false
	}
	for _, c := range s[:i] {
		if !(c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z' || c >= '0' && c <= '9' || c == '+' || c == '-' || c == '.') {
			return false
		}
	}
	return true
}
