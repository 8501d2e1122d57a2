package axios_test

import (
	"bytes"
	"context"
	"fmt"
	"log/slog"
	"net/http"
	"net/url"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/axiosgo/axios"
)

// tok is the secret every field of secretConfig carries in some form; each
// copy has its own suffix, so a failure says which one leaked.
const tok = "tok3n"

// metaToken is a value an interceptor keeps in Meta, as the auth pair does.
type metaToken struct{ Token string }

func secretConfig() *axios.Config {
	return &axios.Config{
		Method:  "POST",
		URL:     "https://alice:" + tok + "-userinfo@api.test/users?access_token=" + tok + "-query&page=2#" + tok + "-fragment",
		BaseURL: "https://" + tok + "-user@api.test/v1?key=" + tok + "-base",
		Headers: http.Header{
			"Accept":              {"application/json"},
			"Authorization":       {"Bearer " + tok + "-authorization"},
			"Proxy-Authorization": {"Basic " + tok + "-proxy"},
			"Cookie":              {"sid=" + tok + "-cookie"},
			"X-Api-Token":         {tok + "-x-api-token"},
			"Xc-Auth":             {tok + "-xc-auth"},
			"X-Session-Id":        {tok + "-session"},
			"X-Client-Secret":     {tok + "-secret"},
			"X-Password":          {tok + "-password"},
			"X-Api-Key":           {tok + "-key"},
			"Referer":             {"https://api.test/login?code=" + tok + "-referer"},
		},
		Params:  url.Values{"access_token": {tok + "-params"}, "page": {"2"}},
		Data:    []byte(`{"password":"` + tok + `-body"}`),
		Timeout: 5 * time.Second,
		Auth:    &axios.BasicAuth{Username: "alice", Password: tok + "-basic"},
		Meta:    map[string]any{"auth.sent": metaToken{tok + "-meta"}, "axios.attempt": 2},
		ValidateStatus: func(int) bool {
			return true
		},
	}
}

func secretResponse() *axios.Response {
	cfg := secretConfig()
	req, _ := http.NewRequest(http.MethodPost, "https://api.test/users?access_token="+tok+"-request-url", nil)
	req.Header.Set("Authorization", "Bearer "+tok+"-request-header")
	return &axios.Response{
		Data:       []byte(`{"access_token":"` + tok + `-response-body"}`),
		Status:     http.StatusOK,
		StatusText: "OK",
		Headers: http.Header{
			"Content-Type": {"application/json"},
			"Set-Cookie":   {"sid=" + tok + "-set-cookie"},
			"Location":     {"https://api.test/cb?code=" + tok + "-location"},
		},
		Config:   cfg,
		Request:  req,
		Duration: time.Millisecond,
	}
}

// formats renders v every way fmt and slog can, labelled.
func formats(v any) map[string]string {
	out := map[string]string{}
	for _, verb := range []string{"%v", "%+v", "%#v", "%s", "%q", "%x", "%d"} {
		out[verb] = fmt.Sprintf(verb, v)
	}
	out["Sprint"] = fmt.Sprint(v)
	out["Sprintln"] = fmt.Sprintln(v)
	out["in a slice"] = fmt.Sprintf("%+v", []any{v})
	out["in a struct"] = fmt.Sprintf("%+v", struct{ V any }{v})
	var text, js bytes.Buffer
	slog.New(slog.NewTextHandler(&text, nil)).Info("msg", "v", v)
	slog.New(slog.NewJSONHandler(&js, nil)).Info("msg", "v", v)
	out["slog text"] = text.String()
	out["slog json"] = js.String()
	return out
}

func TestConfigResponseAndErrorFormatWithoutSecrets(t *testing.T) {
	resp := secretResponse()
	values := map[string]any{
		"Config":    *secretConfig(),
		"*Config":   secretConfig(),
		"Response":  *resp,
		"*Response": resp,
		"*Error": &axios.Error{
			Message: "Request failed with status code 401", Code: axios.CodeBadRequest,
			Config: secretConfig(), Request: resp.Request, Response: resp,
		},
		"BasicAuth":  axios.BasicAuth{Username: "alice", Password: tok + "-basic"},
		"*BasicAuth": &axios.BasicAuth{Username: "alice", Password: tok + "-basic"},
	}
	for name, v := range values {
		for how, s := range formats(v) {
			assert.NotContains(t, s, tok, "%s formatted with %s:\n%s", name, how, s)
		}
	}
}

func TestConfigFormatKeepsWhatIsNoSecret(t *testing.T) {
	cfg := secretConfig()
	for _, verb := range []string{"%v", "%+v", "%s"} {
		s := fmt.Sprintf(verb, cfg)
		for _, want := range []string{
			"Method:POST", "https://REDACTED@api.test/users?access_token=REDACTED&page=REDACTED",
			"Accept:[application/json]", "Authorization:[REDACTED]", "Xc-Auth:[REDACTED]",
			"Referer:[https://api.test/login?code=REDACTED]",
			"Data:25 bytes", "Timeout:5s", "Auth:{Username:alice Password:REDACTED}",
			"Meta:[auth.sent axios.attempt]", "ValidateStatus:func",
		} {
			assert.Contains(t, s, want, verb)
		}
		assert.NotContains(t, s, "MaxRedirects", "zero fields are left out")
	}
	assert.True(t, strings.HasPrefix(fmt.Sprintf("%#v", cfg), `axios.Config{Method:"POST", `), fmt.Sprintf("%#v", cfg))
	assert.True(t, strings.HasPrefix(fmt.Sprintf("%#v", *cfg), `axios.Config{Method:"POST", `), fmt.Sprintf("%#v", *cfg))
	assert.Equal(t, "<nil>", fmt.Sprintf("%v", (*axios.Config)(nil)))

	for _, tc := range []struct {
		data any
		want string
	}{
		{"héllo", "Data:6 bytes"},
		{strings.NewReader("x"), "Data:*strings.Reader"},
		{url.Values{"password": {tok}}, "Data:url.Values"},
		{map[string]string{"password": tok}, "Data:map[string]string"},
	} {
		s := fmt.Sprintf("%v", axios.Config{Data: tc.data})
		assert.Contains(t, s, tc.want)
		assert.NotContains(t, s, tok)
	}
}

func TestConfigLogValueIsAGroup(t *testing.T) {
	var js bytes.Buffer
	slog.New(slog.NewJSONHandler(&js, nil)).Info("msg", "cfg", secretConfig())

	s := js.String()
	assert.Contains(t, s, `"method":"POST"`)
	assert.Contains(t, s, `"Authorization":"REDACTED"`)
	assert.Contains(t, s, `"Accept":"application/json"`)
	assert.Contains(t, s, `"data":"25 bytes"`)
	assert.Contains(t, s, `"password":"REDACTED"`)
	assert.NotContains(t, s, tok)
}

func TestResponseFormatKeepsWhatIsNoSecret(t *testing.T) {
	s := fmt.Sprintf("%v", secretResponse())
	for _, want := range []string{
		"Status:200", "StatusText:OK", "Content-Type:[application/json]", "Set-Cookie:[REDACTED]",
		"Location:[https://api.test/cb?code=REDACTED]", "Data:38 bytes", "Duration:1ms",
		"Request:POST https://api.test/users?access_token=REDACTED", "Config:{Method:POST",
	} {
		assert.Contains(t, s, want)
	}
}

func TestFormattingACallsResultsLeaksNothing(t *testing.T) {
	c := newClient(t, axios.Config{
		BaseURL: "https://api.test",
		Headers: http.Header{"Authorization": {"Bearer " + tok + "-defaults"}},
		Adapter: func(_ context.Context, cfg *axios.Config) (*axios.Response, error) {
			return &axios.Response{Status: http.StatusUnauthorized, Data: []byte(tok + "-body"), Config: cfg}, nil
		},
	})
	_, err := c.Get(context.Background(), "/me", axios.Config{Params: url.Values{"token": {tok + "-param"}}})
	axErr, ok := axios.AsError(err)
	require.True(t, ok)

	for how, s := range formats(axErr) {
		assert.NotContains(t, s, tok, how)
	}
	for how, s := range formats(axErr.Config) {
		assert.NotContains(t, s, tok, how)
	}
	for how, s := range formats(axErr.Response) {
		assert.NotContains(t, s, tok, how)
	}
}

func TestIsSecretHeader(t *testing.T) {
	for name, want := range map[string]bool{
		"Authorization": true, "proxy-authorization": true, "Cookie": true, "Set-Cookie": true,
		"X-Api-Token": true, "Requesttoken": true, "Xc-Auth": true, "X-API-KEY": true,
		"X-Session-Id": true, "X-Client-Secret": true, "X-Password": true, "X-Amz-Signature": true,
		"Accept": false, "Content-Type": false, "User-Agent": false, "X-Request-Id": false, "Location": false,
	} {
		assert.Equal(t, want, axios.IsSecretHeader(name), name)
	}
}
