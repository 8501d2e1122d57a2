// Package redisstore keeps an OAuth2 token in Redis, for tokens shared by
// processes on several machines. Its [Store] is a storage.TokenStore and a
// storage.Locker, so any number of processes sharing one key refresh the
// token once per expiry, not once each.
//
// It is a package of its own so that importing auth or storage does not link
// go-redis and bsm/redislock into programs that keep their token elsewhere.
//
// The token is the same JSON that storage.File writes; a value of another
// shape is an error wrapping storage.ErrCorrupt, an absent key is
// storage.ErrNoToken. Errors from this package start with "redisstore:" and
// never contain a token value, so they are safe to log.
//
// A minimal use:
//
//	rdb := redis.NewClient(&redis.Options{Addr: "localhost:6379"})
//	defer rdb.Close() // the store never closes the client
//	store := redisstore.New(rdb, "myapp:token")
//	authn, err := auth.New(auth.Options{Store: store, Refresh: refresh})
package redisstore
