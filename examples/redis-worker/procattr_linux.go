package main

import "syscall"

// orphanKill makes the kernel kill redis-server when this example dies
// without running its deferred stop (SIGKILL, the OOM killer), so the
// server never outlives it.
func orphanKill() *syscall.SysProcAttr {
	return &syscall.SysProcAttr{Pdeathsig: syscall.SIGKILL}
}
