//go:build unix && !linux

package emulator

import "syscall"

// sysProcAttr puts the emulator in its own process group, so that Stop can
// signal it with everything it spawned. There is no parent-death signal
// outside Linux: an emulator outlives a parent killed before calling Stop.
func sysProcAttr() *syscall.SysProcAttr {
	return &syscall.SysProcAttr{Setpgid: true}
}
