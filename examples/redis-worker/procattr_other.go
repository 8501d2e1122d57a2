//go:build !linux

package main

import "syscall"

// orphanKill has no portable form outside Linux: there, a killed example
// leaves its redis-server running, and the signals main handles are the
// way out.
func orphanKill() *syscall.SysProcAttr { return nil }
