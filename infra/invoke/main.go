// Command invoke runs a function's bootstrap with one event under a local
// Lambda Runtime API (see infra/lambdaruntime), like `sam local invoke`
// without Docker:
//
//	go run ./infra/invoke -bootstrap .local/invoke/<function>/bootstrap -event events/<function>/<case>.json [-function <function>]
//
// An HTTP event without an Authorization header gets a bearer token of the
// demo Account Administrator client of `make run` (.local/bootstrap.json),
// and the token events get that client's credentials. The function's
// response goes to stdout, pretty-printed, and its logs to stderr. The exit
// status is 1 if the function answered an HTTP status of 400 or more (the
// answer is printed all the same), reports an error (printed as Lambda
// returns it), or the invocation fails.
package main

import (
	"bytes"
	"context"
	"encoding/json"
	"flag"
	"fmt"
	"io"
	"os"
	"os/signal"
	"syscall"
	"time"

	"identityservice/infra/lambdaruntime"
	"identityservice/infra/template"
)

func main() {
	bootstrap := flag.String("bootstrap", "", "path of the function's `bootstrap` executable")
	eventFile := flag.String("event", "", "`file` holding the event JSON (- for stdin)")
	function := flag.String("function", "function", "the function's `name`, as AWS_LAMBDA_FUNCTION_NAME")
	timeout := flag.Duration("timeout", 0, "the function's timeout (default: its Timeout in template.yaml, as Lambda gives it)")
	boot := flag.String("bootstrap-file", ".local/bootstrap.json", "`file` written by `make run`, whose demo client fills in credentials the event lacks (see withCredentials)")
	flag.Parse()
	if *bootstrap == "" || *eventFile == "" || flag.NArg() > 0 {
		flag.Usage()
		os.Exit(2)
	}
	if *timeout == 0 {
		*timeout = templateTimeout(*function)
	}
	if err := run(*bootstrap, *eventFile, *function, *boot, *timeout); err != nil {
		fmt.Fprintln(os.Stderr, "invoke:", err)
		os.Exit(1)
	}
}

// templateTimeout is the Timeout in template.yaml of the function in
// functions/<function>, or 30 s when there is none to read.
func templateTimeout(function string) time.Duration {
	if tpl, err := template.Load("template.yaml"); err == nil {
		for _, f := range tpl.Functions() {
			if f.Dir == "functions/"+function {
				return f.Timeout
			}
		}
	}
	return 30 * time.Second
}

func run(bootstrap, eventFile, function, bootPath string, timeout time.Duration) error {
	var event []byte
	var err error
	if eventFile == "-" {
		event, err = io.ReadAll(os.Stdin)
	} else {
		event, err = os.ReadFile(eventFile)
	}
	if err != nil {
		return err
	}
	event = withCredentials(event, bootPath)
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()
	res, err := lambdaruntime.Invoke(ctx, lambdaruntime.Options{
		Bootstrap: bootstrap, Event: event, FunctionName: function, Timeout: timeout,
	})
	if err != nil {
		return err
	}
	os.Stderr.WriteString(res.Logs)
	if res.Error != nil {
		b, _ := json.Marshal(res.Error)
		printJSON(b)
		return fmt.Errorf("the function failed: %s: %s", res.Error.ErrorType, res.Error.ErrorMessage)
	}
	printJSON(res.Payload)
	// An HTTP function's answer is a success to Lambda whatever its status;
	// a script or CI needs the status in the exit code, as curl --fail gives.
	if status := httpStatus(res.Payload); status >= 400 {
		return fmt.Errorf("the function answered HTTP %d", status)
	}
	return nil
}

// httpStatus is the statusCode of an API Gateway v2 response payload, or 0
// for a payload that is not one (the sweeper's counts).
func httpStatus(payload []byte) int {
	var res struct {
		StatusCode int `json:"statusCode"`
	}
	if json.Unmarshal(payload, &res) != nil {
		return 0
	}
	return res.StatusCode
}

// printJSON prints b indented, or as it is if it is not JSON.
func printJSON(b []byte) {
	var out bytes.Buffer
	if json.Indent(&out, b, "", "  ") != nil {
		out.Reset()
		out.Write(b)
	}
	out.WriteByte('\n')
	os.Stdout.Write(out.Bytes())
}
