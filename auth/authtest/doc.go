// Package authtest provides a loopback OAuth-style API server for tests,
// examples and benchmarks of code that logs in (as a user, or as a service
// with the client credentials grant), calls protected routes and refreshes
// expired access tokens. It issues short-lived HS256 JWT access tokens and
// opaque refresh tokens, optionally rotates refresh tokens, counts what
// happens, and injects faults into refreshes and client credentials grants on
// demand.
//
// Start one with [NewServer] and stop it with [Server.Close]:
//
//	srv := authtest.NewServer(authtest.Options{AccessTTL: time.Second, Rotate: true})
//	defer srv.Close()
//	tok := srv.Issue("demo") // or POST /login
//
// # Endpoints
//
//	Method  Path                 Request                                Success (200)
//	------  -------------------  -------------------------------------  ---------------------------------------------
//	POST    /login               JSON {"username","password"}           token response (below)
//	POST    /refresh             JSON {"refresh_token"}                 token response
//	POST    /auth/refresh        Authorization: Bearer <refresh token>  {"resultCode":"OK","data":{"accessToken",
//	                             no body                                "refreshToken","tokenType","expiresIn"}}
//	POST    /oauth/token         form grant_type=refresh_token          RFC 6749 token response
//	                             &refresh_token=...; or grant_type=
//	                             password&username=...&password=...
//	POST    /oauth/token         form grant_type=client_credentials     token response without refresh_token,
//	                             [&scope=...]; the client's id and      with "scope" when one was asked for;
//	                             secret as Basic auth, or as fields     the token's user is the client id
//	                             client_id and client_secret
//	any     /api/...             Authorization: Bearer <access token>   {"path","method","user","body"}
//	any     /api/status/{code}   as /api/...                            status {code} (200-599), same body
//	any     /api/slow?ms=N       as /api/...                            the same, after N milliseconds
//	any     /api/envelope        as /api/...                            {"resultCode":"OK","data":{"path",...}}
//
// The token response is {"access_token","token_type":"Bearer",
// "refresh_token","expires_in"}, with expires_in the access TTL in whole
// seconds (at least 1).
//
// Failures:
//
//	/login          bad credentials: 401 {"error":"invalid_credentials"}; bad JSON: 400 invalid_request
//	/refresh        unknown, reused or revoked refresh token: 400 {"error":"invalid_grant"};
//	                bad JSON or no refresh_token: 400 {"error":"invalid_request"}
//	/auth/refresh   missing, unknown, reused or revoked refresh token: 401 {"resultCode":"UNAUTHORIZED"}
//	/oauth/token    400 invalid_grant; invalid_request (a malformed body, a
//	                parameter missing or sent twice); unsupported_grant_type;
//	                401 invalid_client with WWW-Authenticate: Basic, while a client is
//	                registered (Options.Clients, Options.ClientID) and the credentials
//	                (Basic auth or client_id/client_secret fields) are none of theirs,
//	                and for the client_credentials grant while none is registered
//	/api/...        missing, malformed, badly signed, expired or revoked access token:
//	                Options.DenyStatus (401 by default) {"error":"invalid_token"} and
//	                WWW-Authenticate: Bearer error="invalid_token"; for no token
//	                at all, WWW-Authenticate: Bearer realm="authtest", with no
//	                error code (RFC 6750 section 3.1)
//
// Token responses (and the refresh endpoints' errors) carry Cache-Control:
// no-store and Pragma: no-cache (RFC 6749 section 5.1). Every /api/ response
// carries X-Request-Count, the number of /api/ requests
// received so far. No response body or error ever contains a token, and the
// server logs nothing about tokens.
//
// # Tokens
//
// An access token is an HS256 JWT with sub (the user, or the client id for
// the client credentials grant), iss (the server's
// URL), jti (unique, so two tokens minted in the same instant differ), iat,
// exp, and gen, the revocation generation. A protected route accepts it while
// the server's clock ([Options.Now]) is before exp and gen is current;
// [Server.Revoke] moves the generation on. [Server.Verify] applies the same
// checks; [ParseClaims] decodes a token without a server.
//
// Refresh tokens are opaque random strings. Without [Options.Rotate] a
// refresh answers the same refresh token again; with it, each refresh answers
// a new one and the used one is answered invalid_grant from then on. Of two
// concurrent refreshes with one token under rotation, exactly one succeeds.
//
// # Counters and faults
//
// [Server.RefreshCalls], [Server.Refreshes], [Server.InvalidGrants],
// [Server.Denied], [Server.Served], [Server.Logins], [Server.Requests] and
// [Server.ClientCredentialsCalls] count atomically, before the response is
// written, so a client that has a response sees the counters that include
// it. [Server.FailRefresh], [Server.DropRefresh] and [Server.SetRefreshDelay]
// affect refresh calls on all three refresh endpoints (the password and
// client_credentials grants are logins, not refreshes);
// [Server.FailClientCredentials], [Server.DropClientCredentials] and
// [Server.SetClientCredentialsDelay] affect client_credentials grants alone.
// All may be changed while requests are in flight.
package authtest
