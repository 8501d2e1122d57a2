package redistest

import "syscall"

// sysProcAttr kills redis-server when the test binary dies without running
// its cleanups (a panic, a go test -timeout), so no server outlives its test.
func sysProcAttr() *syscall.SysProcAttr {
	return &syscall.SysProcAttr{Pdeathsig: syscall.SIGKILL}
}
