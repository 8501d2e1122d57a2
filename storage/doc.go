// Package storage keeps OAuth2 tokens for the auth package: where the current
// access and refresh token live between requests, and, for stores shared by
// several processes, the lock that lets exactly one of them refresh.
//
// Two stores come with the package:
//
//   - [Memory] keeps the token in the process. It is the default of
//     auth.Options.Store and is lost when the process exits.
//   - [File] keeps the token in a JSON file readable by its owner only,
//     replaced atomically on every save. It is also a [Locker], so several
//     processes on one machine can share a token. It refuses a symlink, FIFO
//     or directory at its path, and a directory anyone may write to that has
//     no sticky bit.
//
// A third, in package storage/redisstore, keeps the token as JSON under one
// Redis key. It is also a [Locker], so any number of processes on any number
// of machines can share a token and still refresh it once per expiry. It is
// a package of its own so that this one does not link a Redis client.
//
// [NewEncrypted] wraps any of them so that what it keeps is sealed with
// AES-256-GCM: a reader of the file, the Redis value or their backups sees
// no token. It is a [Locker] when the store it wraps is one.
//
// A store of your own implements [TokenStore], optionally [Locker], and can be
// checked with the contract suite in package storage/storagetest.
//
// Errors from this package start with "storage:" and never contain a token
// value, so they are safe to log.
//
// A minimal use:
//
//	store := storage.NewFile(filepath.Join(dir, "token.json"))
//	if err := store.Save(ctx, tok); err != nil {
//		return err
//	}
//	tok, err := store.Load(ctx)
//	if errors.Is(err, storage.ErrNoToken) {
//		// not logged in yet
//	}
package storage
