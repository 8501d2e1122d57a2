package axios_test

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"log/slog"
	"net/http"
	"testing"

	"github.com/jarcoal/httpmock"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/axiosgo/axios"
)

// Config.Format shows PathParams as keys only (a path segment may be a
// token, a reset link's), and so does a Response of that request, whose
// Request it describes from the Config with the values redacted.
func TestResponseFormatHidesASecretPathParamAsConfigFormatDoes(t *testing.T) {
	const secret = "r3set-t0ken"
	c := newClient(t, axios.Config{BaseURL: "http://api.test"})
	mock := httpmock.NewMockTransport()
	mock.RegisterResponder("GET", "http://api.test/password-reset/"+secret, httpmock.NewStringResponder(http.StatusOK, ""))
	c.Resty().SetTransport(mock)

	resp, err := c.Get(context.Background(), "/password-reset/{token}",
		axios.Config{PathParams: map[string]string{"token": secret}})
	require.NoError(t, err)
	require.NotContains(t, fmt.Sprintf("%v", resp.Config), secret, "the Config hides it")

	for how, s := range formats(resp) {
		assert.NotContains(t, s, secret, how)
	}
}

// A nil *Config or *Response logs as fmt prints it, "<nil>", not as a
// recovered panic with a stack trace: `slog.Info("done", "resp", resp,
// "err", err)` after a failed request, where resp is nil, is the everyday
// case.
func TestSlogOfANilConfigOrResponseLogsNoPanic(t *testing.T) {
	for name, v := range map[string]any{
		"*Config":   (*axios.Config)(nil),
		"*Response": (*axios.Response)(nil),
	} {
		for _, h := range []func(*bytes.Buffer) slog.Handler{
			func(b *bytes.Buffer) slog.Handler { return slog.NewTextHandler(b, nil) },
			func(b *bytes.Buffer) slog.Handler { return slog.NewJSONHandler(b, nil) },
		} {
			var b bytes.Buffer
			slog.New(h(&b)).Info("done", "v", v)
			assert.NotContains(t, b.String(), "panicked", "%s: %s", name, b.String())
			assert.Contains(t, b.String(), "<nil>", name)
		}
	}
}

// A Config, a Response or BasicAuth logged by value (not by pointer) is
// redacted too: the text handler prints it with Format, the JSON handler
// with MarshalJSON.
func TestSlogByValueIsRedacted(t *testing.T) {
	cfg := axios.Config{
		URL:     "/me",
		Headers: http.Header{"Authorization": {"Bearer s3cr3t-token"}},
		Auth:    &axios.BasicAuth{Username: "kim", Password: "pa55word"},
	}
	resp := axios.Response{Status: 200, Headers: http.Header{"Set-Cookie": {"session=c00kie"}}, Config: &cfg}
	for name, v := range map[string]any{"Config": cfg, "Response": resp, "BasicAuth": *cfg.Auth} {
		for hn, h := range map[string]func(*bytes.Buffer) slog.Handler{
			"text": func(b *bytes.Buffer) slog.Handler { return slog.NewTextHandler(b, nil) },
			"json": func(b *bytes.Buffer) slog.Handler { return slog.NewJSONHandler(b, nil) },
		} {
			var b bytes.Buffer
			slog.New(h(&b)).Info("done", "v", v)
			for _, secret := range []string{"s3cr3t-token", "pa55word", "c00kie"} {
				assert.NotContains(t, b.String(), secret, "%s by value, %s handler", name, hn)
			}
			assert.NotContains(t, b.String(), "!ERROR", "%s by value, %s handler: %s", name, hn, b.String())
		}
	}
	j, err := json.Marshal(cfg)
	require.NoError(t, err)
	assert.Contains(t, string(j), `"url":"/me"`)
	assert.Contains(t, string(j), `"password":"REDACTED"`)
}
