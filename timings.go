package axios

import (
	"context"
	"crypto/tls"
	"net/http/httptrace"
	"sync"
	"time"
)

// Timings says where a request's time went, as net/http's httptrace saw
// it: set in Response.Timings when [Config.Timings] asks for it (the default
// adapter only). A phase that did not happen is 0: DNS for an IP address,
// every dial phase on a reused connection. For a redirected request they are
// the last hop's, and FirstByte counts from the first hop's start;
// Response.Duration is the total.
type Timings struct {
	DNS       time.Duration // name lookup
	Connect   time.Duration // TCP connect (the dial that won)
	TLS       time.Duration // TLS handshake
	Wait      time.Duration // request written to first response byte: the server's time
	FirstByte time.Duration // start to first response byte
	// Reused reports a connection from the pool; IdleTime is how long it
	// had been idle.
	Reused     bool
	IdleTime   time.Duration
	RemoteAddr string // the peer's address, "ip:port"
}

// timingTrace collects a request's httptrace events into Timings. Its
// callbacks may run on net/http's goroutines (a dial racing another), so
// they take the mutex.
type timingTrace struct {
	mu                       sync.Mutex
	start                    time.Time
	t                        Timings
	dns, connect, tls, wrote time.Time
}

func (tt *timingTrace) withTrace(ctx context.Context) context.Context {
	return httptrace.WithClientTrace(ctx, &httptrace.ClientTrace{
		GetConn: func(string) {
			// A new hop (the first, or a redirect's): the last one's dial
			// phases are not this one's.
			tt.mu.Lock()
			defer tt.mu.Unlock()
			tt.dns, tt.connect, tt.tls = time.Time{}, time.Time{}, time.Time{}
			tt.t.DNS, tt.t.Connect, tt.t.TLS = 0, 0, 0
		},
		DNSStart: func(httptrace.DNSStartInfo) { tt.at(&tt.dns) },
		DNSDone: func(httptrace.DNSDoneInfo) {
			tt.since(&tt.dns, &tt.t.DNS)
		},
		ConnectStart: func(string, string) { tt.at(&tt.connect) },
		ConnectDone: func(_, _ string, err error) {
			if err == nil {
				tt.since(&tt.connect, &tt.t.Connect)
			}
		},
		TLSHandshakeStart: func() { tt.at(&tt.tls) },
		TLSHandshakeDone: func(_ tls.ConnectionState, err error) {
			if err == nil {
				tt.since(&tt.tls, &tt.t.TLS)
			}
		},
		GotConn: func(info httptrace.GotConnInfo) {
			tt.mu.Lock()
			defer tt.mu.Unlock()
			tt.t.Reused, tt.t.IdleTime = info.Reused, info.IdleTime
			if info.Conn != nil {
				tt.t.RemoteAddr = info.Conn.RemoteAddr().String()
			}
		},
		WroteRequest: func(httptrace.WroteRequestInfo) { tt.at(&tt.wrote) },
		GotFirstResponseByte: func() {
			tt.mu.Lock()
			defer tt.mu.Unlock()
			now := time.Now()
			tt.t.FirstByte = now.Sub(tt.start)
			if !tt.wrote.IsZero() {
				tt.t.Wait = now.Sub(tt.wrote)
			}
		},
	})
}

func (tt *timingTrace) at(t *time.Time) {
	tt.mu.Lock()
	*t = time.Now()
	tt.mu.Unlock()
}

func (tt *timingTrace) since(from *time.Time, d *time.Duration) {
	tt.mu.Lock()
	if !from.IsZero() {
		*d = time.Since(*from)
	}
	tt.mu.Unlock()
}

// result is a copy of what was collected so far.
func (tt *timingTrace) result() *Timings {
	tt.mu.Lock()
	defer tt.mu.Unlock()
	t := tt.t
	return &t
}
