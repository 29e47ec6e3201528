package lambdaruntime

import "syscall"

// sysProcAttr puts the bootstrap in its own process group, so that Invoke
// can kill it with anything it spawned, and has the kernel kill it if the
// thread that started it dies.
func sysProcAttr() *syscall.SysProcAttr {
	return &syscall.SysProcAttr{Setpgid: true, Pdeathsig: syscall.SIGKILL}
}
