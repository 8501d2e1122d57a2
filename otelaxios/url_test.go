package otelaxios

import (
	"net/url"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	"go.opentelemetry.io/otel/semconv/v1.39.0/httpconv"
)

func TestRedactURL(t *testing.T) {
	cases := []struct{ in, want string }{
		{"https://api.example.com/v1/users", "https://api.example.com/v1/users"},
		{"https://api.example.com/v1?token=abc&page=2", "https://api.example.com/v1?token=REDACTED&page=REDACTED"},
		{"https://api.example.com/v1?a=1&a=2&b=", "https://api.example.com/v1?a=REDACTED&a=REDACTED&b=REDACTED"},
		{"https://api.example.com/hook?0123456789abcdef", "https://api.example.com/hook?REDACTED"},
		{"https://api.example.com/v1?x=1&&y", "https://api.example.com/v1?x=REDACTED&&REDACTED"},
		{"https://user:pass@api.example.com/", "https://REDACTED:REDACTED@api.example.com/"},
		{"https://user@api.example.com/", "https://REDACTED@api.example.com/"},
		{"https://api.example.com/callback#access_token=abc", "https://api.example.com/callback"},
		{"http://[::1]:8080/x?q=1", "http://[::1]:8080/x?q=REDACTED"},
	}
	for _, tc := range cases {
		u, err := url.Parse(tc.in)
		require.NoError(t, err, tc.in)
		assert.Equal(t, tc.want, redactURL(u), tc.in)
	}
}

func TestServerOf(t *testing.T) {
	cases := []struct {
		in   string
		host string
		port int
	}{
		{"http://example.com/", "example.com", 80},
		{"https://example.com/", "example.com", 443},
		{"HTTPS://example.com/", "example.com", 443},
		{"http://example.com:8080/", "example.com", 8080},
		{"https://[::1]:8443/", "::1", 8443},
	}
	for _, tc := range cases {
		u, err := url.Parse(tc.in)
		require.NoError(t, err)
		host, port := serverOf(u)
		assert.Equal(t, tc.host, host, tc.in)
		assert.Equal(t, tc.port, port, tc.in)
	}
}

func TestRequestMethod(t *testing.T) {
	cases := []struct {
		in       string
		method   httpconv.RequestMethodAttr
		original string
	}{
		{"", httpconv.RequestMethodGet, ""},
		{"get", httpconv.RequestMethodGet, ""},
		{"POST", httpconv.RequestMethodPost, ""},
		{"QUERY", httpconv.RequestMethodQuery, ""},
		{"purge", httpconv.RequestMethodOther, "PURGE"},
	}
	for _, tc := range cases {
		m, orig := requestMethod(tc.in)
		assert.Equal(t, tc.method, m, tc.in)
		assert.Equal(t, tc.original, orig, tc.in)
	}
}

func TestProtocolVersion(t *testing.T) {
	for proto, want := range map[string]string{
		"HTTP/1.1": "1.1", "HTTP/1.0": "1.0", "HTTP/2.0": "2", "HTTP/3.0": "3", "HTTP/2": "2",
		"": "", "HTTP/": "", "SPDY/3": "",
	} {
		assert.Equal(t, want, protocolVersion(proto), "Proto %q", proto)
	}
}
