//go:build unix && !linux

package lambdaruntime

import "syscall"

// sysProcAttr puts the bootstrap in its own process group, so that Invoke
// can kill it with anything it spawned.
func sysProcAttr() *syscall.SysProcAttr {
	return &syscall.SysProcAttr{Setpgid: true}
}
