// Package interceptors holds ready-made interceptors for an [axios.Client],
// one file each: [Logger] logs every request attempt with its secrets
// redacted, [Loading] tracks requests in flight for a loading indicator,
// [Headers] adds per-request headers such as a user id or a tenant code,
// [StatusHook] runs a handler for chosen statuses, and [Retry] retries
// transient failures with backoff: what axios apps write by hand in their
// own interceptors.
//
// Each is a value with an Install method that registers its handlers on a
// client, as auth.Authenticator does. All are safe for concurrent use once
// made; none offers a setter that changes it while requests run.
//
// The order of Install calls matters, because request interceptors run last
// registered first (axios's default) and response interceptors run in
// registration order. For a client with all of them and the auth pair:
//
//	logger.Install(api)  // request side runs last, response side first: one line per attempt
//	headers.Install(api)
//	authn.Install(api)
//	retry.Install(api)
//	hook.Install(api)    // sees each request's final outcome
//	loading.Install(api) // response side last: the flag stays on across retries
//
// Retries through the instance ([Retry], the auth pair) resend the failed
// attempt's Config, so its Meta travels to the next attempt: that is how
// [Attempt] numbers attempts and how [Loading] counts a retried request once.
package interceptors
