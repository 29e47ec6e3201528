// Command teststack runs a command beside one local stack (DynamoDB Local
// and moto_server on free ports) and stops the stack when the command
// exits, with the command's exit status. The command and its children find
// the stack through TESTENV_STACK (emulator.SharedEnv): `make test` runs
// `go test` of every package under it, so the packages share one stack
// instead of starting one each (a JVM start and its warm-up cost seconds
// of CPU per package); testenv gives each package its own table and
// secret prefix on it. A test run without it starts its own stack.
//
//	teststack [-quiet] command [args...]
package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"os"
	"os/exec"
	"os/signal"
	"syscall"
	"time"

	"identityservice/infra/emulator"
)

func main() {
	quiet := flag.Bool("quiet", false, "do not print the emulators' CPU time at the end")
	flag.Usage = func() {
		fmt.Fprintln(os.Stderr, "usage: teststack [-quiet] command [args...]")
		flag.PrintDefaults()
	}
	flag.Parse()
	if flag.NArg() == 0 {
		flag.Usage()
		os.Exit(2)
	}
	// Ctrl-C reaches the command too (same process group): let it end,
	// then stop the stack. A SIGTERM sent to this process alone is passed
	// on to the command. (Notify, not Ignore: an ignored signal would stay
	// ignored in the command.)
	signals := make(chan os.Signal, 1)
	signal.Notify(signals, os.Interrupt, syscall.SIGTERM)
	stack, err := emulator.StartStack(context.Background(), "127.0.0.1:0", "127.0.0.1:0")
	if err != nil {
		fmt.Fprintln(os.Stderr, "teststack:", err)
		os.Exit(1)
	}
	cmd := exec.Command(flag.Arg(0), flag.Args()[1:]...)
	cmd.Stdin, cmd.Stdout, cmd.Stderr = os.Stdin, os.Stdout, os.Stderr
	cmd.Env = append(os.Environ(), emulator.SharedEnv+"="+stack.Shared())
	code := 0
	err = cmd.Start()
	if err == nil {
		go func() {
			for sig := range signals {
				if sig == syscall.SIGTERM {
					cmd.Process.Signal(sig)
				}
			}
		}()
		err = cmd.Wait()
	}
	if err != nil {
		var exit *exec.ExitError
		if errors.As(err, &exit) && exit.ExitCode() > 0 {
			code = exit.ExitCode()
		} else {
			fmt.Fprintln(os.Stderr, "teststack:", err)
			code = 1
		}
	}
	stack.Stop()
	if !*quiet {
		fmt.Fprintf(os.Stderr, "teststack: the shared stack used %s of CPU (DynamoDB Local %s, moto_server %s)\n",
			(stack.DynamoDB.CPU() + stack.SecretsManager.CPU()).Round(100*time.Millisecond),
			stack.DynamoDB.CPU().Round(100*time.Millisecond), stack.SecretsManager.CPU().Round(100*time.Millisecond))
	}
	os.Exit(code)
}
