// Package auth is the axios auth interceptor pair: an [Authenticator] that
// sends the current access token with every request, refreshes it when the
// server refuses it (or shortly before it expires), and resumes every
// request that was waiting with the new token.
//
// It is the classic axios refresh interceptor, made safe: an isRefreshing
// flag and a list of subscribers under one mutex. The first request that needs a
// new token starts the refresh; every other request subscribes and waits;
// when the refresh ends, all of them resume with the new token or with its
// error. A 401 for a token older than the current one is simply retried
// with the current token, so N concurrent 401s cost one refresh and all N
// are retried. The refresh runs on its own context, bounded by
// Options.RefreshTimeout, so one caller giving up never fails it for the
// others; a waiting caller whose context ends leaves the queue at once.
//
//	a, err := auth.New(auth.Options{
//		Store:   storage.NewFile(path), // shared by processes: one refresh per expiry
//		Refresh: auth.OAuth2(oauthConfig),
//	})
//	a.Install(api)
//	err = a.SetToken(ctx, loginToken)
//	me, err := axios.JSON[User](api.Get(ctx, "/me"))
//
// Refreshers: [OAuth2] for the standard refresh_token grant, [JSONRefresher]
// for custom JSON endpoints, or any
// [Refresher] func. [ParseTokenResponse] reads a token response, and
// [TokenSource] adapts an Authenticator to oauth2.TokenSource.
//
// No error or log line of this package contains a token. docs/auth.md has
// the sequence of a 401 storm, the failure and cancellation rules, and a
// comparison with axios-auth-refresh, x/oauth2, Dio and OkHttp.
package auth
