//go:build unix

package main

import "syscall"

// fdLimit returns the open-file limit. Go raises the soft limit to the hard
// one at startup (since Go 1.19), so this is the hard limit unless
// something lowered it.
func fdLimit() (uint64, error) {
	var r syscall.Rlimit
	if err := syscall.Getrlimit(syscall.RLIMIT_NOFILE, &r); err != nil {
		return 0, err
	}
	return uint64(r.Cur), nil
}
