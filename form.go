package axios

import (
	"bytes"
	"encoding/json"
	"fmt"
	"maps"
	"net/http"
	"net/url"
	"slices"
	"strconv"
	"strings"
)

// A map or a struct given as Config.Data under a form Content-Type is sent
// as a form, as axios's transformRequest sends an object: url-encoded for
// application/x-www-form-urlencoded, as multipart parts for
// multipart/form-data. Its fields are named as axios's toFormData names
// them (lib/helpers/toFormData.js, with its default formSerializer: no
// dots, no indexes, meta tokens), checked against axios 1.7.9's output:
//
//	{"a": {"b": 1}}             a[b]=1
//	{"a": {"b": {"c": "d"}}}    a[b][c]=d
//	{"ids": [1, 2]}             ids[]=1&ids[]=2     (a flat array at the top)
//	{"a": {"b": [1, 2]}}        a[b][0]=1&a[b][1]=2 (any deeper array)
//	{"a": [{"b": 1}]}           a[0][b]=1           (an array of objects)
//	{"a{}": {"b": 1}}           a{}={"b":1}         (a "{}" key: its value as JSON)
//	{"a": null}, [1, null]      nothing for the null
//
// The value is first encoded as JSON (json.Marshal's rules: a struct's json
// tags name its fields, omitempty and "-" apply, a map's keys are sorted),
// then the JSON is walked: strings go as they are, numbers as JSON wrote
// them (JavaScript's String(n) for the same number), booleans as "true" and
// "false", a time.Time as RFC 3339 (what toISOString gives for a UTC time in
// milliseconds). Values JSON cannot encode (a func, a channel, NaN) and a
// scalar at the top, which axios refuses too, are errors.

// formField is one name and value of a form, in the order sent.
type formField struct{ name, value string }

// formFields flattens v into fields as axios's toFormData does.
func formFields(v any) ([]formField, error) {
	raw, err := marshalJSON(v)
	if err != nil {
		return nil, fmt.Errorf("encode request body as a form: %w", err)
	}
	root, err := parseFormNode(raw)
	if err != nil {
		return nil, fmt.Errorf("encode request body as a form: %w", err)
	}
	var fields []formField
	switch root.kind {
	case nodeNull:
		return nil, nil
	case nodeScalar:
		return nil, fmt.Errorf("a %T cannot be sent as a form: give a map, a struct, url.Values or a *FormData", v)
	}
	for i, key := range root.keys {
		node := root.elems[i]
		if node.kind == nodeNull {
			continue // as build's check for null and undefined
		}
		// Top-level keys go to the visitor trimmed, and into the path of
		// what lies below them as they are.
		name := strings.TrimSpace(key)
		if root.kind == nodeArray {
			name = key // a number in JavaScript: never trimmed
		}
		switch {
		case node.kind == nodeScalar:
			fields = append(fields, formField{name, node.text}) // renderKey(undefined, key): the key as it is
		case strings.HasSuffix(name, "{}"):
			fields = append(fields, formField{name, string(node.raw)})
		case node.kind == nodeArray && (node.flat() || strings.HasSuffix(name, "[]")):
			if !node.flat() {
				return nil, fmt.Errorf("form field %q: an array under a name ending in [] cannot hold objects or arrays", name)
			}
			name = strings.TrimSuffix(name, "[]") + "[]"
			for _, el := range node.elems {
				if el.kind != nodeNull {
					fields = append(fields, formField{name, el.text})
				}
			}
		default:
			fields = node.appendFields(fields, []string{key})
		}
	}
	return fields, nil
}

// appendFields is toFormData's build below the top: every scalar is named
// by its path, rendered as renderKey renders it.
func (n *formNode) appendFields(fields []formField, path []string) []formField {
	for i, el := range n.elems {
		key := strconv.Itoa(i)
		if n.kind == nodeObject {
			key = n.keys[i]
		}
		switch el.kind {
		case nodeNull:
		case nodeScalar:
			name := key
			if n.kind == nodeObject {
				name = strings.TrimSpace(key)
			}
			fields = append(fields, formField{renderKey(path, name), el.text})
		default:
			fields = el.appendFields(fields, append(slices.Clip(path), key))
		}
	}
	return fields
}

// renderKey is toFormData's renderKey without dots: the first token as it
// is, the others in brackets, each without a trailing "[]".
func renderKey(path []string, key string) string {
	var b strings.Builder
	for i, tok := range append(slices.Clip(path), key) {
		tok = strings.TrimSuffix(tok, "[]")
		if i == 0 {
			b.WriteString(tok)
			continue
		}
		b.WriteByte('[')
		b.WriteString(tok)
		b.WriteByte(']')
	}
	return b.String()
}

type nodeKind uint8

const (
	nodeNull nodeKind = iota
	nodeScalar
	nodeObject
	nodeArray
)

// formNode is a JSON value with its object keys in order.
type formNode struct {
	kind  nodeKind
	text  string      // a scalar's value as a form sends it
	keys  []string    // an object's keys
	elems []*formNode // an object's values, an array's elements
	raw   []byte      // the JSON of a top-level value, for a "{}" key
}

// flat reports whether an array holds no object and no array, as
// toFormData's isFlatArray.
func (n *formNode) flat() bool {
	return !slices.ContainsFunc(n.elems, func(el *formNode) bool {
		return el.kind == nodeObject || el.kind == nodeArray
	})
}

// parseFormNode parses JSON written by marshalJSON, keeping the raw JSON of
// the top-level values.
func parseFormNode(raw []byte) (*formNode, error) {
	dec := json.NewDecoder(bytes.NewReader(raw))
	dec.UseNumber()
	tok, err := dec.Token()
	if err != nil {
		return nil, err
	}
	d, ok := tok.(json.Delim)
	if !ok {
		return scalarNode(tok), nil
	}
	root := &formNode{kind: nodeObject}
	if d == '[' {
		root.kind = nodeArray
	}
	for i := 0; dec.More(); i++ {
		key := strconv.Itoa(i)
		if root.kind == nodeObject {
			k, err := dec.Token()
			if err != nil {
				return nil, err
			}
			key = k.(string)
		}
		start := dec.InputOffset()
		el, err := readFormNode(dec)
		if err != nil {
			return nil, err
		}
		el.raw = bytes.TrimLeft(raw[start:dec.InputOffset()], ":, \t\r\n")
		root.keys = append(root.keys, key)
		root.elems = append(root.elems, el)
	}
	return root, nil
}

func readFormNode(dec *json.Decoder) (*formNode, error) {
	tok, err := dec.Token()
	if err != nil {
		return nil, err
	}
	d, ok := tok.(json.Delim)
	if !ok {
		return scalarNode(tok), nil
	}
	n := &formNode{kind: nodeObject}
	if d == '[' {
		n.kind = nodeArray
	}
	for dec.More() {
		if n.kind == nodeObject {
			k, err := dec.Token()
			if err != nil {
				return nil, err
			}
			n.keys = append(n.keys, k.(string))
		}
		el, err := readFormNode(dec)
		if err != nil {
			return nil, err
		}
		n.elems = append(n.elems, el)
	}
	_, err = dec.Token() // the closing delimiter
	return n, err
}

func scalarNode(tok json.Token) *formNode {
	switch v := tok.(type) {
	case string:
		return &formNode{kind: nodeScalar, text: v}
	case json.Number:
		return &formNode{kind: nodeScalar, text: v.String()}
	case bool:
		return &formNode{kind: nodeScalar, text: strconv.FormatBool(v)}
	}
	return &formNode{kind: nodeNull}
}

// valuesFields is url.Values as fields, keys sorted as url.Values.Encode
// sorts them.
func valuesFields(v url.Values) []formField {
	var fields []formField
	for _, k := range slices.Sorted(maps.Keys(v)) {
		for _, val := range v[k] {
			fields = append(fields, formField{k, val})
		}
	}
	return fields
}

// urlEncode writes fields as URLSearchParams.toString does (the WHATWG
// application/x-www-form-urlencoded serializer): a space as "+", every byte
// but ASCII letters, digits and *-._ percent-encoded.
func urlEncode(fields []formField) []byte {
	var b []byte
	for i, f := range fields {
		if i > 0 {
			b = append(b, '&')
		}
		b = appendFormEscaped(b, f.name)
		b = append(b, '=')
		b = appendFormEscaped(b, f.value)
	}
	return b
}

func appendFormEscaped(b []byte, s string) []byte {
	const hex = "0123456789ABCDEF"
	for i := 0; i < len(s); i++ {
		switch c := s[i]; {
		case 'a' <= c && c <= 'z', 'A' <= c && c <= 'Z', '0' <= c && c <= '9', c == '*', c == '-', c == '.', c == '_':
			b = append(b, c)
		case c == ' ':
			b = append(b, '+')
		default:
			b = append(b, '%', hex[c>>4], hex[c&15])
		}
	}
	return b
}

// multipartBody sends fields as multipart/form-data, in memory: they are
// text, already held.
func multipartBody(cfg *Config, fields []formField) (*bodyReader, error) {
	var w framing
	mw := newMultipartWriter(&w, useBoundary(cfg, ""))
	for _, f := range fields {
		mw.field(f.name, f.value)
	}
	_ = mw.Close() // framing's Write never fails
	data := w.cut()
	return &bodyReader{src: bytes.NewReader(data), data: data, n: int64(len(data)), progress: newUploadProgress(cfg.OnUploadProgress)}, nil
}

// withForm is withMethod with the Content-Type of a form, unless cfg has one.
func withForm(method, u string, data any, cfg []Config) Config {
	out := withMethod(method, u, data, cfg)
	for k := range out.Headers {
		if strings.EqualFold(k, "Content-Type") {
			return out
		}
	}
	ctype := "multipart/form-data"
	if _, ok := out.Data.(url.Values); ok {
		ctype = formURLEncodedType
	}
	h := make(http.Header, len(out.Headers)+1)
	maps.Copy(h, out.Headers) // the caller's map stays as it was
	h["Content-Type"] = []string{ctype}
	out.Headers = h
	return out
}
