package emulator

import "syscall"

// sysProcAttr puts the emulator in its own process group, so that Stop can
// signal it with everything it spawned and a Ctrl-C in the terminal does not
// reach it before Stop does, and has the kernel kill it if the thread that
// started it dies (Go keeps that thread as long as the process lives unless
// it was locked with runtime.LockOSThread and its goroutine exited).
func sysProcAttr() *syscall.SysProcAttr {
	return &syscall.SysProcAttr{Setpgid: true, Pdeathsig: syscall.SIGKILL}
}
