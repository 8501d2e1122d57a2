package otelaxios

import (
	"net/url"
	"strconv"
	"strings"
)

// redacted replaces what url.full must not show, as the conventions write
// it.
const redacted = "REDACTED"

// redactURL returns u fit for url.full: every query value replaced by
// REDACTED (the names kept, so the attribute still says what was asked; a
// part without "=" may be a bare token and is replaced whole), the user
// information replaced by REDACTED (REDACTED:REDACTED with a password), and
// the fragment dropped, since it is never sent.
func redactURL(u *url.URL) string {
	r := *u
	r.Fragment, r.RawFragment = "", ""
	if r.User != nil {
		if _, ok := r.User.Password(); ok {
			r.User = url.UserPassword(redacted, redacted)
		} else {
			r.User = url.User(redacted)
		}
	}
	if r.RawQuery != "" {
		r.RawQuery = redactQuery(r.RawQuery)
	}
	return r.String()
}

func redactQuery(q string) string {
	var b strings.Builder
	b.Grow(len(q) + 8)
	for i, part := range strings.Split(q, "&") {
		if i > 0 {
			b.WriteByte('&')
		}
		switch name, _, ok := strings.Cut(part, "="); {
		case ok:
			b.WriteString(name)
			b.WriteString("=" + redacted)
		case part != "":
			b.WriteString(redacted)
		}
	}
	return b.String()
}

// serverOf returns server.address and server.port: the URL's host and its
// port, or the scheme's default port when it names none.
func serverOf(u *url.URL) (string, int) {
	host := u.Hostname()
	if p := u.Port(); p != "" {
		if n, err := strconv.Atoi(p); err == nil {
			return host, n
		}
	}
	if strings.EqualFold(u.Scheme, "https") {
		return host, 443
	}
	return host, 80
}
