// Package emulator starts and stops the local stand-ins for the AWS services
// the identity service uses: DynamoDB Local (the official jar, installed from
// npm into infra/local) and moto_server for Secrets Manager. Integration tests
// start their own stack on free ports; `make run` starts one on the fixed
// ports the Makefile's other targets expect.
//
// Each emulator runs in its own process group, so Stop can end it together
// with anything it spawned, and (on Linux) it is killed if the process that
// started it dies first.
package emulator

import (
	"context"
	"errors"
	"fmt"
	"net"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"sync"
	"syscall"
	"time"
)

// logLimit is how much of an emulator's output is kept for error messages.
const logLimit = 64 << 10

// stopGrace is how long Stop waits after SIGTERM before it sends SIGKILL.
const stopGrace = 5 * time.Second

// Process is a running emulator.
type Process struct {
	Name     string // e.g. "DynamoDB Local"
	Endpoint string // e.g. http://127.0.0.1:8000

	cmd     *exec.Cmd
	pgid    int // the process group cmd leads (its pid, thanks to Setpgid)
	logs    *tailBuffer
	exited  chan struct{} // closed once cmd.Wait has returned
	waitErr error         // cmd.Wait's result; read only after exited is closed

	stopOnce sync.Once
	stopErr  error
}

// Pid is the emulator's process id (the leader of its process group), for
// reading its CPU time.
func (p *Process) Pid() int { return p.pgid }

// Stop ends the emulator's process group: SIGTERM, then SIGKILL if the
// emulator has not exited within 5 seconds. It waits for the exit, is safe to
// call more than once (and on a nil *Process), and returns nil if the process
// had already exited.
func (p *Process) Stop() error {
	if p == nil {
		return nil
	}
	p.stopOnce.Do(func() { p.stopErr = p.stop() })
	return p.stopErr
}

func (p *Process) stop() error {
	select {
	case <-p.exited:
		return nil
	default:
	}
	if err := syscall.Kill(-p.pgid, syscall.SIGTERM); err != nil && !errors.Is(err, syscall.ESRCH) {
		return fmt.Errorf("stop %s (pgid %d): %w", p.Name, p.pgid, err)
	}
	select {
	case <-p.exited:
		return nil
	case <-time.After(stopGrace):
	}
	if err := syscall.Kill(-p.pgid, syscall.SIGKILL); err != nil && !errors.Is(err, syscall.ESRCH) {
		return fmt.Errorf("kill %s (pgid %d): %w", p.Name, p.pgid, err)
	}
	<-p.exited
	return nil
}

// RepoRoot walks up from the working directory to the directory containing
// go.mod. Tests run in their package's directory, so this finds the
// repository from anywhere inside it.
func RepoRoot() (string, error) {
	dir, err := os.Getwd()
	if err != nil {
		return "", err
	}
	for {
		if _, err := os.Stat(filepath.Join(dir, "go.mod")); err == nil {
			return dir, nil
		}
		parent := filepath.Dir(dir)
		if parent == dir {
			return "", errors.New("no go.mod in the working directory or any parent: run from inside the repository")
		}
		dir = parent
	}
}

// launch describes one emulator to start.
type launch struct {
	name    string
	timeout time.Duration                    // how long it may take to answer
	argv    func(host, port string) []string // the command line to listen on host:port
}

// errAddrInUse marks a start that failed because the port was taken.
var errAddrInUse = errors.New("address already in use")

// start starts l on addr. A port of 0 means a free one: it is picked by
// listening on it and closing the listener, which leaves a short window in
// which another process can take it, so a start that fails to bind is
// retried on a new port, up to three attempts in all.
func start(ctx context.Context, addr string, l launch) (*Process, error) {
	host, port, err := net.SplitHostPort(addr)
	if err != nil {
		return nil, fmt.Errorf("%s: bad address %q: %w", l.name, addr, err)
	}
	pick := port == "0" || port == ""
	for attempt := 1; ; attempt++ {
		free, err := reserve(host, port)
		if err != nil {
			return nil, fmt.Errorf("%s: %w", l.name, err)
		}
		p, err := run(ctx, host, free, l)
		if err == nil || !pick || attempt == 3 || !errors.Is(err, errAddrInUse) {
			return p, err
		}
	}
}

// reserve returns port, or a free port if port is 0, after checking that
// nothing listens on it: otherwise the readiness check would be answered by
// whatever already holds the port.
func reserve(host, port string) (string, error) {
	if port == "" {
		port = "0"
	}
	ln, err := net.Listen("tcp", net.JoinHostPort(host, port))
	if err != nil {
		return "", fmt.Errorf("%s is in use: %w", net.JoinHostPort(host, port), err)
	}
	defer ln.Close()
	_, port, err = net.SplitHostPort(ln.Addr().String())
	return port, err
}

// run starts l on port and waits until it answers.
func run(ctx context.Context, host, port string, l launch) (*Process, error) {
	argv := l.argv(host, port)
	cmd := exec.Command(argv[0], argv[1:]...)
	logs := &tailBuffer{limit: logLimit}
	cmd.Stdout, cmd.Stderr = logs, logs
	cmd.SysProcAttr = sysProcAttr()
	// Output is copied through pipes; don't let a stray descendant holding
	// them open make Wait hang after the emulator itself has exited.
	cmd.WaitDelay = time.Second
	if err := cmd.Start(); err != nil {
		return nil, fmt.Errorf("start %s: %w", l.name, err)
	}
	if host == "" || net.ParseIP(host).IsUnspecified() {
		host = "127.0.0.1" // bound to every interface: reach it on loopback
	}
	p := &Process{
		Name:     l.name,
		Endpoint: "http://" + net.JoinHostPort(host, port),
		cmd:      cmd,
		pgid:     cmd.Process.Pid,
		logs:     logs,
		exited:   make(chan struct{}),
	}
	go func() {
		p.waitErr = cmd.Wait()
		close(p.exited)
	}()
	began := time.Now()
	if err := p.waitReady(ctx, l.timeout); err != nil {
		p.Stop()
		if strings.Contains(p.logs.String(), "Address already in use") {
			err = fmt.Errorf("%w (%w)", err, errAddrInUse)
		}
		return nil, fmt.Errorf("%s on %s did not start after %s: %w\n--- %s output (last %d KiB) ---\n%s",
			l.name, p.Endpoint, time.Since(began).Round(time.Millisecond), err, l.name, logLimit>>10, p.logs)
	}
	return p, nil
}

// waitReady polls the endpoint until it answers any HTTP response, the
// process exits, ctx is done or the timeout passes.
func (p *Process) waitReady(ctx context.Context, timeout time.Duration) error {
	ctx, cancel := context.WithTimeout(ctx, timeout)
	defer cancel()
	// moto loads a service's backend on its first request, which takes
	// seconds on a loaded machine: give an attempt time to be answered.
	client := &http.Client{
		Timeout:   5 * time.Second,
		Transport: &http.Transport{Proxy: nil, DisableKeepAlives: true},
	}
	tick := time.NewTicker(100 * time.Millisecond)
	defer tick.Stop()
	for {
		req, err := http.NewRequestWithContext(ctx, http.MethodPost, p.Endpoint, nil)
		if err != nil {
			return err
		}
		if resp, err := client.Do(req); err == nil {
			resp.Body.Close()
			return nil
		}
		select {
		case <-p.exited:
			return fmt.Errorf("it exited (%v)", p.waitErr)
		case <-ctx.Done():
			return ctx.Err()
		case <-tick.C:
		}
	}
}

// tailBuffer is an io.Writer that keeps the last limit bytes written to it.
type tailBuffer struct {
	mu    sync.Mutex
	buf   []byte
	limit int
}

func (b *tailBuffer) Write(p []byte) (int, error) {
	b.mu.Lock()
	defer b.mu.Unlock()
	b.buf = append(b.buf, p...)
	if over := len(b.buf) - b.limit; over > 0 {
		b.buf = append(b.buf[:0], b.buf[over:]...)
	}
	return len(p), nil
}

func (b *tailBuffer) String() string {
	b.mu.Lock()
	defer b.mu.Unlock()
	return string(b.buf)
}

// CPU is the CPU time (user and system) the emulator and the descendants
// it waited for used, once it has exited; 0 before, or if another process
// started it.
func (p *Process) CPU() time.Duration {
	if p == nil || p.cmd == nil {
		return 0
	}
	select {
	case <-p.exited:
	default:
		return 0
	}
	if st := p.cmd.ProcessState; st != nil {
		return st.UserTime() + st.SystemTime()
	}
	return 0
}
