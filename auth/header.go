package auth

// HeaderName returns the canonical name of the request header the token is
// sent in: Options.Header, or "Authorization". Give it to the Logger of
// package interceptors (LogRedactHeaders) when the name is one
// axios.IsSecretHeader does not know, so that the token is never logged:
//
//	interceptors.NewLogger(l, interceptors.LogRedactHeaders(authn.HeaderName()))
//
// It is safe for concurrent use.
func (a *Authenticator) HeaderName() string { return a.header }
