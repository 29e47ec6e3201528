package main_test

import (
	"bytes"
	"errors"
	"fmt"
	"io"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"syscall"
	"testing"
	"time"

	"golang.org/x/sys/unix"
)

// ready is what the local server prints once it serves the API.
const ready = "The identity client service is running on"

// buildLocal builds this command into a temporary directory.
func buildLocal(t *testing.T) string {
	t.Helper()
	bin := filepath.Join(t.TempDir(), "local")
	if out, err := exec.Command("go", "build", "-o", bin, ".").CombinedOutput(); err != nil {
		t.Fatalf("go build: %v\n%s", err, out)
	}
	return bin
}

// localArgs puts the API and both emulators on free ports and the
// credentials file in dir, so the test runs beside `make run`.
func localArgs(dir string) []string {
	return []string{"-addr", "127.0.0.1:0", "-dynamodb", "127.0.0.1:0", "-secretsmanager", "127.0.0.1:0",
		"-bootstrap", filepath.Join(dir, "bootstrap.json")}
}

// TestInterruptStopsEverything: SIGINT (what Ctrl-C sends) stops the
// server and both emulators, and the exit status is 0, a clean stop.
func TestInterruptStopsEverything(t *testing.T) {
	bin := buildLocal(t)
	out := newOutput(t)
	cmd := exec.Command(bin, localArgs(t.TempDir())...)
	cmd.Stdout, cmd.Stderr = out.f, out.f
	// A group of its own: outside the terminal's foreground group (if the
	// test has a terminal), so it does not take the terminal over.
	cmd.SysProcAttr = &syscall.SysProcAttr{Setpgid: true}
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { cmd.Process.Kill() })
	waitFor(t, out, ready)
	started := descendants(cmd.Process.Pid)
	if len(started) < 2 {
		t.Fatalf("the server runs %d processes (%v), want both emulators", len(started), started)
	}

	if err := cmd.Process.Signal(os.Interrupt); err != nil {
		t.Fatal(err)
	}
	err := cmd.Wait()
	if code := cmd.ProcessState.ExitCode(); err != nil || code != 0 {
		t.Errorf("exit status after SIGINT: %v (code %d), want 0\n%s", err, code, out.String())
	}
	if !strings.Contains(out.String(), "stopping ...") {
		t.Errorf("output does not say it is stopping:\n%s", out.String())
	}
	assertGone(t, started)
}

// TestCtrlCUnderMake presses Ctrl-C in a terminal in which make runs the
// server, as `make run` does: make must exit 0 without an "Error" line,
// and every process the server started must be gone. Without the
// terminal handover (foreground_linux.go) make is killed by the SIGINT.
func TestCtrlCUnderMake(t *testing.T) {
	if _, err := exec.LookPath("make"); err != nil {
		t.Fatal("make is not installed")
	}
	bin := buildLocal(t)
	dir := t.TempDir()
	makefile := filepath.Join(dir, "Makefile")
	recipe := strings.Join(append([]string{bin}, localArgs(dir)...), " ")
	if err := os.WriteFile(makefile, []byte("run:\n\t"+recipe+"\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	master, slave := openPTY(t)
	cmd := exec.Command("make", "--no-print-directory", "-f", makefile, "run")
	cmd.Stdin, cmd.Stdout, cmd.Stderr = slave, slave, slave
	// make leads a new session whose controlling terminal is the pty, as
	// a login shell's job would have it.
	cmd.SysProcAttr = &syscall.SysProcAttr{Setsid: true, Setctty: true, Ctty: 0}
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	slave.Close()
	t.Cleanup(func() { syscall.Kill(-cmd.Process.Pid, syscall.SIGKILL) })
	out := newOutput(t)
	go io.Copy(out.f, master) // until the pty's last holder exits
	waitFor(t, out, ready)
	started := descendants(cmd.Process.Pid)
	if len(started) < 3 {
		t.Fatalf("make runs %d processes (%v), want the server and both emulators", len(started), started)
	}

	if _, err := master.Write([]byte{0x03}); err != nil { // Ctrl-C
		t.Fatal(err)
	}
	done := make(chan error, 1)
	go func() { done <- cmd.Wait() }()
	var err error
	select {
	case err = <-done:
	case <-time.After(time.Minute):
		t.Fatalf("make still runs a minute after Ctrl-C\n%s", out.String())
	}
	ws := cmd.ProcessState.Sys().(syscall.WaitStatus)
	if err != nil || ws.Signaled() || ws.ExitStatus() != 0 {
		t.Errorf("make after Ctrl-C: %v (signaled %v, status %d), want exit status 0\n%s", err, ws.Signaled(), ws.ExitStatus(), out.String())
	}
	if strings.Contains(out.String(), "Error") {
		t.Errorf("make reports an error after a clean stop:\n%s", out.String())
	}
	assertGone(t, started)
}

// openPTY opens a pseudo-terminal pair (what creack/pty does, in the four
// calls Linux needs).
func openPTY(t *testing.T) (master, slave *os.File) {
	t.Helper()
	master, err := os.OpenFile("/dev/ptmx", os.O_RDWR|syscall.O_NOCTTY, 0)
	if err != nil {
		t.Fatalf("no pseudo-terminal: %v", err)
	}
	t.Cleanup(func() { master.Close() })
	fd := int(master.Fd())
	if err := unix.IoctlSetPointerInt(fd, unix.TIOCSPTLCK, 0); err != nil {
		t.Fatalf("unlock the pty: %v", err)
	}
	n, err := unix.IoctlGetUint32(fd, unix.TIOCGPTN)
	if err != nil {
		t.Fatalf("pty number: %v", err)
	}
	slave, err = os.OpenFile(fmt.Sprintf("/dev/pts/%d", n), os.O_RDWR|syscall.O_NOCTTY, 0)
	if err != nil {
		t.Fatal(err)
	}
	return master, slave
}

// descendants lists the processes below pid (children, grandchildren, ...).
func descendants(pid int) []int {
	parent := map[int]int{}
	entries, _ := os.ReadDir("/proc")
	for _, e := range entries {
		p, err := strconv.Atoi(e.Name())
		if err != nil {
			continue
		}
		stat, err := os.ReadFile(filepath.Join("/proc", e.Name(), "stat"))
		if err != nil {
			continue
		}
		// "pid (comm) state ppid ...": comm may hold spaces and parentheses.
		fields := strings.Fields(string(stat[bytes.LastIndexByte(stat, ')')+1:]))
		if len(fields) > 1 {
			parent[p], _ = strconv.Atoi(fields[1])
		}
	}
	var out []int
	var walk func(int)
	walk = func(pp int) {
		for p, par := range parent {
			if par == pp {
				out = append(out, p)
				walk(p)
			}
		}
	}
	walk(pid)
	return out
}

// assertGone fails for each pid that is still a process (zombies included).
func assertGone(t *testing.T, pids []int) {
	t.Helper()
	deadline := time.Now().Add(10 * time.Second)
	for _, pid := range pids {
		for {
			err := syscall.Kill(pid, 0)
			if errors.Is(err, syscall.ESRCH) {
				break
			}
			if time.Now().After(deadline) {
				cmdline, _ := os.ReadFile(fmt.Sprintf("/proc/%d/cmdline", pid))
				t.Errorf("process %d (%s) still runs after the stop", pid, bytes.ReplaceAll(cmdline, []byte{0}, []byte{' '}))
				break
			}
			time.Sleep(100 * time.Millisecond)
		}
	}
}

// output is a file a process writes to, read while it runs.
type output struct {
	f *os.File
}

func newOutput(t *testing.T) *output {
	f, err := os.Create(filepath.Join(t.TempDir(), "output"))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { f.Close() })
	return &output{f}
}

func (o *output) String() string {
	b, _ := os.ReadFile(o.f.Name())
	return string(b)
}

// waitFor waits until out holds s, or fails after three minutes (the
// emulators take seconds to start on a loaded machine).
func waitFor(t *testing.T, out *output, s string) {
	t.Helper()
	deadline := time.Now().Add(3 * time.Minute)
	for !strings.Contains(out.String(), s) {
		if time.Now().After(deadline) {
			t.Fatalf("no %q after 3 minutes:\n%s", s, out.String())
		}
		time.Sleep(100 * time.Millisecond)
	}
}
