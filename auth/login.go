package auth

import (
	"context"

	"golang.org/x/oauth2"
	"golang.org/x/oauth2/clientcredentials"
)

// ClientCredentials returns an [Options.Login] for a service with no user:
// the OAuth2 client credentials grant (RFC 6749 section 4.4) through
// x/oauth2/clientcredentials, with cfg's client id, secret, token URL and
// scopes. The HTTP client is the one in ctx under oauth2.HTTPClient, else
// http.DefaultClient; Login runs on the refresh's own context, so to use
// another client wrap it:
//
//	login := auth.ClientCredentials(cfg)
//	opts.Login = func(ctx context.Context) (*oauth2.Token, error) {
//		return login(context.WithValue(ctx, oauth2.HTTPClient, myClient))
//	}
//
// Its errors are as [OAuth2]'s: they wrap the
// *oauth2.RetrieveError, and [ErrRefused] for a 400, 401 or 403 answer.
func ClientCredentials(cfg *clientcredentials.Config) func(ctx context.Context) (*oauth2.Token, error) {
	return func(ctx context.Context) (*oauth2.Token, error) {
		tok, err := cfg.Token(ctx)
		if err != nil {
			return nil, grantError("client credentials", err)
		}
		return tok, nil
	}
}
