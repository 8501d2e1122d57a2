package axios

import (
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"reflect"
	"time"
)

// Response is a completed request, as axios's response object. Data holds
// the body, read in full, unless the request asked for [ResponseStream]; then
// Body holds it and the caller must close it.
//
// The body is decoded from its Content-Encoding (gzip, deflate, br, zstd, or
// several of them), as axios decodes it; Headers then lack Content-Encoding
// and Content-Length, which described the bytes before decoding. A body that
// does not decode fails the request with [CodeBadResponse] (a stream's Read
// returns the error). A request that sets its own Accept-Encoding, a
// response in a coding not listed, and a 206 (a range of the encoded bytes)
// get the body as the server sent it, Content-Encoding and all.
//
// A Response is handed to one caller and the response interceptors before
// it; they may change it in turn, but it is not safe to change while another
// goroutine reads it.
//
// A Response prints (fmt) and logs (log/slog) with its credentials and its
// body left out: see [Response.Format].
type Response struct {
	Data       []byte
	Status     int
	StatusText string // as the server sent it, e.g. "Unauthorized"
	Headers    http.Header
	Config     *Config // the config that produced it, after the request interceptors
	Request    *http.Request
	Duration   time.Duration
	Body       io.ReadCloser // set only for ResponseStream
	Proto      string        // the protocol the response came over: "HTTP/1.1", "HTTP/2.0"
	Timings    *Timings      // where the time went; set only when Config.Timings asked
}

// JSON decodes the body into v: Data, or Body for a stream (which it then
// closes). An error names what failed and where.
func (r *Response) JSON(v any) error {
	if r == nil {
		return fmt.Errorf("axios: decode JSON into %s: nil response", typeName(v))
	}
	var err error
	if r.Body != nil && r.Data == nil {
		err = json.NewDecoder(r.Body).Decode(v)
		_ = r.Body.Close()
	} else {
		err = json.Unmarshal(r.Data, v)
	}
	if err != nil {
		return fmt.Errorf("axios: decode JSON into %s from %s (status %d): %w", typeName(v), r.describe(), r.Status, err)
	}
	return nil
}

func (r *Response) describe() string {
	if r.Config == nil {
		return "response"
	}
	return r.Config.Method + " " + RedactURL(joinURL(r.Config))
}

func typeName(v any) string {
	t := reflect.TypeOf(v)
	if t == nil {
		return "<nil>"
	}
	if t.Kind() == reflect.Pointer {
		t = t.Elem()
	}
	return t.String()
}

// JSON decodes a response's JSON body into a T, taking the call's results as
// they come:
//
//	user, err := axios.JSON[User](api.Get(ctx, "/me"))
//
// A request error is returned as it is; a decode error names T, the request
// and the cause.
func JSON[T any](resp *Response, err error) (T, error) {
	var v T
	if err != nil {
		return v, err
	}
	if err := resp.JSON(&v); err != nil {
		return v, err
	}
	return v, nil
}
