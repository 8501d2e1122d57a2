package axios_test

import (
	"math"
	"net/http"
	"net/url"
	"strings"
	"testing"
	"time"

	"github.com/axiosgo/axios"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

var urlEncodedForm = axios.Config{Headers: http.Header{"Content-Type": {"application/x-www-form-urlencoded"}}}

// The expected bodies are what axios 1.7.9 sends for the same object with
// Content-Type application/x-www-form-urlencoded (its transformRequest,
// toURLEncodedForm and toFormData, URLSearchParams.toString), recorded from
// node with an adapter that returns config.data. Go maps are sent in key
// order, so each JavaScript object here lists its keys sorted.
func TestFormFieldsAreNamedAsAxiosToFormData(t *testing.T) {
	type inner struct {
		B []int `json:"b"`
	}
	type profile struct {
		Name    string   `json:"name"`
		Nick    string   `json:"nick,omitempty"`
		Secret  string   `json:"-"`
		Tags    []string `json:"tags"`
		Inner   inner    `json:"inner"`
		Missing *inner   `json:"missing"`
		Plain   int
	}
	for _, tc := range []struct {
		name string
		data any
		want string
	}{
		{"flat", map[string]any{"a": 1, "b": "x y", "c": true, "d": false}, "a=1&b=x+y&c=true&d=false"},
		{"nested", map[string]any{"a": map[string]any{"b": 1}}, "a%5Bb%5D=1"},
		{"deeper", map[string]any{"a": map[string]any{"b": map[string]any{"c": "d"}}}, "a%5Bb%5D%5Bc%5D=d"},
		{"flat array", map[string]any{"ids": []int{1, 2}}, "ids%5B%5D=1&ids%5B%5D=2"},
		{"array in object", map[string]any{"a": map[string]any{"b": []int{1, 2}}}, "a%5Bb%5D%5B0%5D=1&a%5Bb%5D%5B1%5D=2"},
		{"array of objects", map[string]any{"a": []any{map[string]int{"b": 1}, map[string]int{"b": 2}}}, "a%5B0%5D%5Bb%5D=1&a%5B1%5D%5Bb%5D=2"},
		{"array of arrays", map[string]any{"a": [][]int{{1, 2}, {3}}}, "a%5B0%5D%5B0%5D=1&a%5B0%5D%5B1%5D=2&a%5B1%5D%5B0%5D=3"},
		{"nulls", map[string]any{"a": nil, "b": map[string]any{"c": nil, "d": 1}, "e": []any{1, nil, 2}, "f": []any{map[string]any{"g": nil}}}, "b%5Bd%5D=1&e%5B%5D=1&e%5B%5D=2"},
		{"empty string", map[string]any{"a": ""}, "a="},
		{"empty containers", map[string]any{"a": map[string]any{}, "b": []int{}}, ""},
		{"{} key sends JSON", map[string]any{"a{}": map[string]any{"b": []any{1, "x"}, "c": nil}}, "a%7B%7D=%7B%22b%22%3A%5B1%2C%22x%22%5D%2C%22c%22%3Anull%7D"},
		{"[] key", map[string]any{"ids[]": []int{1, 2}}, "ids%5B%5D=1&ids%5B%5D=2"},
		{"[] key on a scalar", map[string]any{"a[]": 1}, "a%5B%5D=1"},
		{"[] key on an object", map[string]any{"a[]": map[string]int{"b": 1}}, "a%5Bb%5D=1"},
		{"keys trimmed at the leaf only", map[string]any{" a ": 1, " n ": map[string]int{" b ": 2}}, "a=1&+n+%5Bb%5D=2"},
		{"escaping", map[string]any{"k&=": "v*-._~!'()é+/?"}, "k%26%3D=v*-._%7E%21%27%28%29%C3%A9%2B%2F%3F"},
		{"numbers", map[string]any{"f": 1.5, "g": 1e21, "h": 1e-7, "j": 100}, "f=1.5&g=1e%2B21&h=1e-7&j=100"},
		{"array at the top", []int{1, 2}, "0=1&1=2"},
		{"time as toISOString", map[string]any{"t": time.Date(2024, 1, 2, 3, 4, 5, 678e6, time.UTC)}, "t=2024-01-02T03%3A04%3A05.678Z"},
		// Not from axios: a struct is named by its json tags, as encoding/json does.
		{"struct", profile{Name: "kim", Secret: "s", Tags: []string{"x", "y"}, Inner: inner{B: []int{7}}, Plain: 3},
			"name=kim&tags%5B%5D=x&tags%5B%5D=y&inner%5Bb%5D%5B0%5D=7&Plain=3"},
		{"pointer to struct", &inner{B: []int{1}}, "b%5B%5D=1"},
		{"nil pointer", (*inner)(nil), ""},
	} {
		t.Run(tc.name, func(t *testing.T) {
			c, last := captureClient(t)
			_, err := c.Post(ctx, "/form", tc.data, urlEncodedForm)
			require.NoError(t, err)
			got := last()
			assert.Equal(t, tc.want, string(got.body))
			assert.Equal(t, "application/x-www-form-urlencoded", got.header.Get("Content-Type"))
		})
	}
}

// A map under multipart/form-data is sent as parts named as axios's
// toFormData names them (axios 1.7.9's postForm of the same object sends
// these parts in this order), with a boundary in the Content-Type.
func TestMultipartFromMap(t *testing.T) {
	c, last := captureClient(t)
	data := map[string]any{"a": map[string]any{"b": []int{1, 2}}, "ids": []int{1, 2}, "n": nil, "s": "v"}
	_, err := c.Post(ctx, "/form", data, axios.Config{Headers: http.Header{"Content-Type": {"multipart/form-data"}}})
	require.NoError(t, err)
	got := last()
	assert.Equal(t, []string{"a[b][0]=1", "a[b][1]=2", "ids[]=1", "ids[]=2", "s=v"}, parts(t, got.header, strings.NewReader(string(got.body))))

	t.Run("a caller's boundary is kept", func(t *testing.T) {
		ctype := "multipart/form-data; boundary=caller-boundary-1234"
		_, err := c.Post(ctx, "/form", map[string]string{"k": "v"}, axios.Config{Headers: http.Header{"Content-Type": {ctype}}})
		require.NoError(t, err)
		got := last()
		assert.Equal(t, ctype, got.header.Get("Content-Type"))
		assert.Equal(t, []string{"k=v"}, parts(t, got.header, strings.NewReader(string(got.body))))
	})
	t.Run("url.Values too", func(t *testing.T) {
		_, err := c.Post(ctx, "/form", url.Values{"b": {"2", "3"}, "a": {"1"}}, axios.Config{Headers: http.Header{"Content-Type": {"multipart/form-data"}}})
		require.NoError(t, err)
		got := last()
		assert.Equal(t, []string{"a=1", "b=2", "b=3"}, parts(t, got.header, strings.NewReader(string(got.body))))
	})
}

// PostForm presets multipart/form-data, as axios's postForm; url.Values
// goes url-encoded, as http.PostForm sends it; the caller's Content-Type
// wins; data that is no form is refused rather than sent under a form's
// name.
func TestPostForm(t *testing.T) {
	c, last := captureClient(t)
	_, err := c.PostForm(ctx, "/form", map[string]any{"user": map[string]string{"name": "kim"}})
	require.NoError(t, err)
	got := last()
	assert.Equal(t, []string{"user[name]=kim"}, parts(t, got.header, strings.NewReader(string(got.body))))

	_, err = c.PutForm(ctx, "/form", url.Values{"a": {"1"}, "b": {"x y"}})
	require.NoError(t, err)
	got = last()
	assert.Equal(t, "application/x-www-form-urlencoded", got.header.Get("Content-Type"))
	assert.Equal(t, "a=1&b=x+y", string(got.body))

	fd := axios.NewFormData()
	fd.Append("k", "v")
	_, err = c.PatchForm(ctx, "/form", fd)
	require.NoError(t, err)
	got = last()
	assert.Equal(t, []string{"k=v"}, parts(t, got.header, strings.NewReader(string(got.body))))

	headers := http.Header{"content-type": {"application/x-www-form-urlencoded"}}
	_, err = c.PostForm(ctx, "/form", map[string]int{"n": 1}, axios.Config{Headers: headers})
	require.NoError(t, err)
	assert.Equal(t, "n=1", string(last().body))
	assert.Equal(t, http.Header{"content-type": {"application/x-www-form-urlencoded"}}, headers, "the caller's map is not changed")

	_, err = c.PostForm(ctx, "/form", "a=1")
	axErr, ok := axios.AsError(err)
	require.True(t, ok)
	assert.Equal(t, axios.CodeBadOptionValue, axErr.Code)
	assert.Contains(t, axErr.Message, "without a boundary")
}

func TestPackageLevelFormCallsUseDefault(t *testing.T) {
	srv := echoServer(t)
	t.Cleanup(func() { axios.Default.CloseIdleConnections() })
	for _, call := range []func() (*axios.Response, error){
		func() (*axios.Response, error) { return axios.PostForm(ctx, srv.URL+"/post", url.Values{"a": {"1"}}) },
		func() (*axios.Response, error) { return axios.PutForm(ctx, srv.URL+"/put", url.Values{"a": {"1"}}) },
		func() (*axios.Response, error) { return axios.PatchForm(ctx, srv.URL+"/patch", url.Values{"a": {"1"}}) },
	} {
		e := echoOf(t)(call())
		assert.Equal(t, strings.ToUpper(strings.TrimPrefix(e.Path, "/")), e.Method)
		assert.Equal(t, "a=1", e.Body)
	}
}

// What a form cannot hold fails with ERR_BAD_OPTION_VALUE, never a panic.
func TestUnencodableFormDataIsBadOptionValue(t *testing.T) {
	c, _ := captureClient(t)
	multipartForm := axios.Config{Headers: http.Header{"Content-Type": {"multipart/form-data"}}}
	for _, tc := range []struct {
		name string
		data any
		cfg  axios.Config
	}{
		{"func", map[string]any{"f": func() {}}, urlEncodedForm},
		{"channel in multipart", map[string]any{"c": make(chan int)}, multipartForm},
		{"NaN", map[string]any{"x": math.NaN()}, urlEncodedForm},
		{"number at the top", 5, urlEncodedForm},
		{"bool at the top", true, multipartForm},
		{"objects under a [] key", map[string]any{"a[]": []any{map[string]int{"b": 1}}}, urlEncodedForm},
		{"cycle", cyclic(), urlEncodedForm},
		{"FormData by value", *axios.NewFormData(), axios.Config{}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			_, err := c.Post(ctx, "/form", tc.data, tc.cfg)
			axErr, ok := axios.AsError(err)
			require.True(t, ok, "%v", err)
			assert.Equal(t, axios.CodeBadOptionValue, axErr.Code)
		})
	}
}

func cyclic() any {
	m := map[string]any{}
	m["self"] = m
	return m
}
