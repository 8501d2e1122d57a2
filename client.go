package axios

import (
	"context"
	"io"
	"net/http"
	"sync"

	"github.com/go-resty/resty/v2"
)

// Client is an axios instance: defaults every request starts from, and the
// interceptors every request runs through. Make one with [Create].
//
// A Client is safe for concurrent use. Set Defaults before the first request,
// as with http.Client's fields; interceptors may be added and removed at any
// time, and each request runs the chain as it was when the request started.
type Client struct {
	// Defaults is what every request's Config is merged over.
	Defaults Config
	// Interceptors are the request and response interceptor lists.
	Interceptors Interceptors

	once  sync.Once
	resty *resty.Client
}

// Interceptors holds a client's two interceptor lists, as axios's
// instance.interceptors.
type Interceptors struct {
	Request  *RequestInterceptors
	Response *ResponseInterceptors
}

// baseDefaults are what every instance starts from, as axios's lib/defaults.
// axios's Node adapter sends an Accept-Encoding too, unless the caller set
// one; here it is a default header, so a caller sees it and may remove it.
func baseDefaults() Config {
	return Config{
		Headers: http.Header{
			"Accept":          {"application/json, text/plain, */*"},
			"Accept-Encoding": {defaultAcceptEncoding},
			"User-Agent":      {"axios-go/1"},
		},
	}
}

// Create returns a new Client whose defaults are defaults over the library's
// own (an Accept header that prefers JSON, an Accept-Encoding of the codings
// the client decodes, User-Agent: axios-go/1), as axios.create.
func Create(defaults Config) *Client {
	base := baseDefaults()
	c := &Client{
		Defaults: *mergeConfig(&base, &defaults),
		Interceptors: Interceptors{
			Request:  new(RequestInterceptors),
			Response: new(ResponseInterceptors),
		},
	}
	c.Defaults.Method = defaults.Method
	c.init()
	return c
}

// Default is the instance the package-level functions use, as axios's
// default export.
var Default = Create(Config{})

func (c *Client) init() {
	c.once.Do(func() {
		if c.resty == nil {
			c.resty = newResty()
		}
	})
}

// Resty returns the resty client that owns the connection layer: requests
// are sent through its *http.Client (GetClient), so its transport
// (SetTransport, httpmock.NewMockTransport), TLS settings
// (SetTLSClientConfig, SetRootCertificate), proxy (SetProxy), cookie jar
// (SetCookieJar; none by default, unlike resty.New's) and the http.Client's
// Timeout apply to every request. The Client builds each request itself:
// resty's request-level settings (SetHeader, SetBaseURL, SetAuthToken,
// SetPathParam, retries, hooks, middleware) are not used. The http.Client's
// CheckRedirect is the policy of requests with neither a Config.MaxRedirects
// nor a Config.BeforeRedirect; the Client's own drops credentials
// (Authorization, Proxy-Authorization, Cookie) on a redirect to another
// origin, and one set through resty replaces that.
//
// Configure it before the first request: resty's setters are not safe to
// call while requests run.
func (c *Client) Resty() *resty.Client {
	c.init()
	return c.resty
}

// GetURI returns the URL cfg would be sent to, merged over the client's
// defaults as a request is (BaseURL, PathParams, Params and its serializer),
// as axios's instance.getUri. Interceptors do not run. Errors are as
// [Config.FullURL]'s.
func (c *Client) GetURI(cfg Config) (string, error) {
	return mergeConfig(&c.Defaults, &cfg).FullURL()
}

// CloseIdleConnections closes the idle keep-alive connections of the
// client's *http.Client, as http.Client.CloseIdleConnections does; requests
// in flight are not interrupted, and later requests open new connections.
// It is safe to call at any time, from any goroutine.
func (c *Client) CloseIdleConnections() {
	c.Resty().GetClient().CloseIdleConnections()
}

// Request sends the request cfg describes through the interceptor chain, as
// axios's instance.request: cfg is merged over c.Defaults into the request's
// own copy, the request interceptors run, the adapter sends it, the status is
// checked, and the response interceptors run. A failure is an [*Error]
// unless an interceptor returned another error. A panic in an interceptor or
// in the Adapter does not escape: it becomes an [*Error] whose cause is a
// [*PanicError], passed on through the rest of the chain as any error is. A
// nil ctx means context.Background().
func (c *Client) Request(ctx context.Context, cfg Config) (*Response, error) {
	if ctx == nil {
		ctx = context.Background()
	}
	ch := chain{client: c, cfg: mergeConfig(&c.Defaults, &cfg)}
	ch.reqs, ch.order = c.Interceptors.Request.snapshot()
	ch.resps = c.Interceptors.Response.snapshot()
	for !ch.run(ctx) {
	}
	ch.endBody()
	if d := ch.dispatched; d != nil && d.Body != nil && (ch.err != nil || ch.resp.Body == nil) {
		// A stream nobody will read (the chain failed, or recovered with a
		// response of its own that has none): free its connection and
		// timer.
		_ = d.Body.Close()
	}
	if ch.err != nil {
		return nil, ch.err
	}
	return ch.resp, nil
}

// dispatch sends cfg through its adapter under cfg.Timeout and applies
// ValidateStatus, as axios's dispatchRequest and settle.
func (c *Client) dispatch(parent context.Context, cfg *Config) (*Response, error) {
	if err := parent.Err(); err != nil {
		return nil, classify(parent, parent, cfg, err)
	}
	ctx, cancel := parent, context.CancelFunc(nil)
	if cfg.Timeout > 0 {
		ctx, cancel = context.WithTimeout(parent, cfg.Timeout)
		// Deferred, so that a panicking adapter does not hold the timer
		// until the deadline; a stream takes it over (cancel set to nil).
		defer func() {
			if cancel != nil {
				cancel()
			}
		}()
	}
	// Again after the request interceptors, which may have set it, as
	// axios upper-cases the method it sends.
	cfg.Method = upperMethod(cfg.Method)
	var resp *Response
	var err error
	if cfg.Adapter != nil {
		resp, err = cfg.Adapter(ctx, cfg)
		if err == nil && resp == nil {
			err = &Error{Message: "the adapter returned a nil *Response and no error", Code: CodeBadOptionValue, Config: cfg}
		}
	} else {
		resp, err = c.send(ctx, cfg)
	}
	if err != nil {
		return nil, classify(parent, ctx, cfg, err)
	}
	if resp.Config == nil {
		resp.Config = cfg
	}
	if resp.Body != nil && cancel != nil {
		// A stream is read after dispatch returns: its deadline ends when
		// the caller closes it.
		resp.Body = &cancelOnClose{ReadCloser: resp.Body, cancel: cancel}
		cancel = nil
	}
	validate := cfg.ValidateStatus
	if validate == nil {
		validate = defaultValidateStatus
	}
	if !validate(resp.Status) {
		if resp.Body != nil {
			// The error carries what the server said; nobody reads a stream
			// from an error.
			resp.Data, _ = readBody(resp.Body, -1, errorBodyLimit(cfg))
			_ = resp.Body.Close()
			resp.Body = nil
		}
		return nil, statusError(resp)
	}
	return resp, nil
}

func errorBodyLimit(cfg *Config) int64 {
	if cfg.MaxContentLength > 0 {
		return cfg.MaxContentLength
	}
	return 1 << 20
}

func defaultValidateStatus(status int) bool { return status >= 200 && status < 300 }

type cancelOnClose struct {
	io.ReadCloser
	cancel context.CancelFunc
}

func (c *cancelOnClose) Close() error {
	err := c.ReadCloser.Close()
	c.cancel()
	return err
}

func withMethod(method, url string, data any, cfg []Config) Config {
	var out Config
	if len(cfg) > 0 {
		out = cfg[0]
	}
	out.Method, out.URL = method, url
	if data != nil {
		out.Data = data
	}
	return out
}

// Get sends a GET request for url; cfg, if given, is its Config.
func (c *Client) Get(ctx context.Context, url string, cfg ...Config) (*Response, error) {
	return c.Request(ctx, withMethod(http.MethodGet, url, nil, cfg))
}

// Delete sends a DELETE request for url.
func (c *Client) Delete(ctx context.Context, url string, cfg ...Config) (*Response, error) {
	return c.Request(ctx, withMethod(http.MethodDelete, url, nil, cfg))
}

// Head sends a HEAD request for url.
func (c *Client) Head(ctx context.Context, url string, cfg ...Config) (*Response, error) {
	return c.Request(ctx, withMethod(http.MethodHead, url, nil, cfg))
}

// Options sends an OPTIONS request for url.
func (c *Client) Options(ctx context.Context, url string, cfg ...Config) (*Response, error) {
	return c.Request(ctx, withMethod(http.MethodOptions, url, nil, cfg))
}

// Post sends a POST request for url with data as its body (see Config.Data).
func (c *Client) Post(ctx context.Context, url string, data any, cfg ...Config) (*Response, error) {
	return c.Request(ctx, withMethod(http.MethodPost, url, data, cfg))
}

// Put sends a PUT request for url with data as its body.
func (c *Client) Put(ctx context.Context, url string, data any, cfg ...Config) (*Response, error) {
	return c.Request(ctx, withMethod(http.MethodPut, url, data, cfg))
}

// Patch sends a PATCH request for url with data as its body.
func (c *Client) Patch(ctx context.Context, url string, data any, cfg ...Config) (*Response, error) {
	return c.Request(ctx, withMethod(http.MethodPatch, url, data, cfg))
}

// PostForm sends a POST request for url with data as a form, as axios's
// postForm: the Content-Type is multipart/form-data, so a *FormData, a map
// or a struct is sent as multipart parts (see [Config.Data] for how a map's
// fields are named). url.Values is the exception: it is sent url-encoded,
// application/x-www-form-urlencoded, as http.PostForm sends it. A
// Content-Type in cfg wins over both, and the body follows it. Data that is
// no form (a string, bytes, a reader) fails with [CodeBadOptionValue] under
// multipart/form-data, which it could not be.
func (c *Client) PostForm(ctx context.Context, url string, data any, cfg ...Config) (*Response, error) {
	return c.Request(ctx, withForm(http.MethodPost, url, data, cfg))
}

// PutForm sends a PUT request for url with data as a form, as [Client.PostForm].
func (c *Client) PutForm(ctx context.Context, url string, data any, cfg ...Config) (*Response, error) {
	return c.Request(ctx, withForm(http.MethodPut, url, data, cfg))
}

// PatchForm sends a PATCH request for url with data as a form, as [Client.PostForm].
func (c *Client) PatchForm(ctx context.Context, url string, data any, cfg ...Config) (*Response, error) {
	return c.Request(ctx, withForm(http.MethodPatch, url, data, cfg))
}

// GetURI returns the URL cfg would be sent to through [Default].
func GetURI(cfg Config) (string, error) { return Default.GetURI(cfg) }

// Request sends cfg through [Default].
func Request(ctx context.Context, cfg Config) (*Response, error) { return Default.Request(ctx, cfg) }

// Get sends a GET request through [Default].
func Get(ctx context.Context, url string, cfg ...Config) (*Response, error) {
	return Default.Get(ctx, url, cfg...)
}

// Delete sends a DELETE request through [Default].
func Delete(ctx context.Context, url string, cfg ...Config) (*Response, error) {
	return Default.Delete(ctx, url, cfg...)
}

// Head sends a HEAD request through [Default].
func Head(ctx context.Context, url string, cfg ...Config) (*Response, error) {
	return Default.Head(ctx, url, cfg...)
}

// Options sends an OPTIONS request through [Default].
func Options(ctx context.Context, url string, cfg ...Config) (*Response, error) {
	return Default.Options(ctx, url, cfg...)
}

// Post sends a POST request through [Default].
func Post(ctx context.Context, url string, data any, cfg ...Config) (*Response, error) {
	return Default.Post(ctx, url, data, cfg...)
}

// Put sends a PUT request through [Default].
func Put(ctx context.Context, url string, data any, cfg ...Config) (*Response, error) {
	return Default.Put(ctx, url, data, cfg...)
}

// Patch sends a PATCH request through [Default].
func Patch(ctx context.Context, url string, data any, cfg ...Config) (*Response, error) {
	return Default.Patch(ctx, url, data, cfg...)
}

// PostForm sends a POST request with a form through [Default]; see [Client.PostForm].
func PostForm(ctx context.Context, url string, data any, cfg ...Config) (*Response, error) {
	return Default.PostForm(ctx, url, data, cfg...)
}

// PutForm sends a PUT request with a form through [Default].
func PutForm(ctx context.Context, url string, data any, cfg ...Config) (*Response, error) {
	return Default.PutForm(ctx, url, data, cfg...)
}

// PatchForm sends a PATCH request with a form through [Default].
func PatchForm(ctx context.Context, url string, data any, cfg ...Config) (*Response, error) {
	return Default.PatchForm(ctx, url, data, cfg...)
}
