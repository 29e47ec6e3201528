package main

import (
	"os"
	"os/signal"
	"syscall"

	"golang.org/x/sys/unix"
)

// takeForeground moves this process into a process group of its own and
// makes that group the terminal's foreground group, so that Ctrl-C signals
// only this process and not `make` above it. Without it, the terminal sends
// SIGINT to its whole foreground group: GNU make waits for its recipe and
// then kills itself with SIGINT (exit status 130), and `go run` exits 1
// (cmd/go's builder counts an interrupted build as failed), which make
// reported as "make: *** [Makefile:32: run] Error 1" after a clean stop.
// With the handover, run stops everything it started, gives the terminal
// back, and exits 0, and so does make.
//
// It does nothing unless the process is in the terminal's foreground group
// (tests, scripts and CI run without one). Ctrl-Z is ignored while the
// terminal is ours: a stopped group that the shell does not know as a job
// could not be resumed. The returned function gives the terminal back to
// the group that had it.
func takeForeground() (restore func()) {
	noop := func() {}
	tty, err := os.OpenFile("/dev/tty", os.O_RDWR, 0)
	if err != nil {
		return noop // no controlling terminal
	}
	fd := int(tty.Fd())
	fg, err := unix.IoctlGetInt(fd, unix.TIOCGPGRP)
	if err != nil || fg != unix.Getpgrp() {
		tty.Close()
		return noop // in the background, or not ours to take
	}
	// A process outside the foreground group that sets it is sent SIGTTOU
	// (which stops it) unless it ignores the signal.
	signal.Ignore(syscall.SIGTTOU, syscall.SIGTSTP, syscall.SIGTTIN)
	if err := unix.Setpgid(0, 0); err != nil {
		tty.Close()
		return noop
	}
	if err := unix.IoctlSetPointerInt(fd, unix.TIOCSPGRP, unix.Getpid()); err != nil {
		unix.Setpgid(0, fg) // back into the group we came from
		tty.Close()
		return noop
	}
	return func() {
		unix.IoctlSetPointerInt(fd, unix.TIOCSPGRP, fg) // fails only if that group is gone: nothing to give back
		tty.Close()
	}
}
