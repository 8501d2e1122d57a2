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
// # Fenced saves
//
// A holder can outlive its lease: a GC pause, a network partition or failing
// renewals let the lease on the lock key run out while the holder still
// thinks it holds the lock, and another process takes the lock, refreshes
// and saves a newer token. With refresh-token rotation the first holder's
// refresh token is then spent, and were its late save to land, every
// process sharing the key would be logged out. So while a Store holds its
// lock, its Save and Clear are fenced: one Lua script reads the lock key
// and writes the token key only if the lock key still holds this Store's
// lease value (redislock's token); otherwise nothing is written and the
// error wraps storage.ErrLockExpired. A lease that ran out with nobody
// taking the lock since is lost all the same: the store cannot tell it from
// a holder that came and went. A Save or Clear while the Store does not
// hold its lock is a plain SET or DEL.
//
// A Store has one holder at a time: the goroutines of a process that share
// a Store wait for each other before they try Redis, also once the holder's
// lease ran out, since a second holder on the Store would let the first
// one's saves through the fence again. Every Save and Clear through the
// Store while it holds the lock is fenced, the holder's or not.
//
// The script needs the token key and the lock key on one server. The lock
// key is "{key}:lock" (key+":lock" when key already holds a hash tag, as
// "{myapp}:token" does), which a *redis.ClusterClient or a *redis.Ring
// hashes as it hashes key: both share a hash slot, and the store works
// unchanged on a Redis Cluster, fenced. (Earlier versions used key+":lock"
// for every key; processes of both versions sharing a key do not exclude
// each other.) Only a key with a '}' but no hash tag, which no tag can
// name, keeps key+":lock" and stays unfenced on a sharded client.
//
// A minimal use:
//
//	rdb := redis.NewClient(&redis.Options{Addr: "localhost:6379"})
//	defer rdb.Close() // the store never closes the client
//	store := redisstore.New(rdb, "myapp:token")
//	authn, err := auth.New(auth.Options{Store: store, Refresh: refresh})
package redisstore
