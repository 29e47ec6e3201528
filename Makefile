# The Makefile is the interface: run, test, build, invoke, admin, deploy,
# lint, bench. `sam build` also calls the build-<LogicalId> targets here
# (BuildMethod: makefile) with ARTIFACTS_DIR set.

SHELL := /bin/bash
GO    ?= go

# Each Lambda function of template.yaml as <LogicalId>:<GoPackage>, read from
# the template itself (the GoPackage line of each function's Metadata; see the
# comment at the top of template.yaml): adding a function to the template adds
# its build target. infra/template/build_test.go checks this list against the
# template's parser and builds every function through its target.
TEMPLATE  := $(dir $(lastword $(MAKEFILE_LIST)))template.yaml
FUNCTIONS := $(shell awk '/^  [A-Za-z0-9]+:[ ]*$$/ {id=$$1; sub(":","",id)} /^      GoPackage:/ {print id":"$$2}' $(TEMPLATE))
gopackage  = $(patsubst $(1):%,%,$(filter $(1):%,$(FUNCTIONS)))

LAMBDA_FLAGS := -tags lambda.norpc -trimpath -ldflags "-s -w"
NODE_STAMP   := infra/local/node_modules/.package-lock.json
PYENV_SHIMS  := $(HOME)/.pyenv/shims
export PATH  := $(PATH):$(PYENV_SHIMS)

# What `make admin` and `make invoke` use to reach the stack of `make run`.
LOCAL_ENV := AWS_REGION=us-east-1 AWS_ACCESS_KEY_ID=local AWS_SECRET_ACCESS_KEY=local \
	AWS_ENDPOINT_URL_DYNAMODB=http://127.0.0.1:8000 AWS_ENDPOINT_URL_SECRETS_MANAGER=http://127.0.0.1:4566 \
	TABLE_NAME=identity-local SECRET_PREFIX=identity-local ISSUER=http://127.0.0.1:3000/identity \
	AWS_ENDPOINT_URL_EVENTBRIDGE=http://127.0.0.1:4566

.PHONY: run test test-faults unit build functions generate invoke admin deploy lint bench bench-profile deps tools clean

## run: the whole service on http://127.0.0.1:3000 with DynamoDB Local and the Secrets Manager emulator
# Built, then run, rather than `go run`: go run exits 1 on Ctrl-C even when
# the program stops cleanly (infra/local/foreground_linux.go says why Ctrl-C
# then ends with status 0).
run: deps generate
	$(GO) build -o .local/bin/local ./infra/local
	.local/bin/local

## test: every test (unit, integration on emulators, Lambda events), the fault matrix and cfn-lint
# Every package's tests record the AWS calls of each function's code and
# fail on a call its policy in template.yaml denies; afterwards the actions
# no recorded call used are listed (each must be commented in the template).
# cfn-lint runs inside the tests (infra/template TestCfnLint, no finding
# allowed), so it is not run a second time here.
# The packages share one emulator stack, started once by infra/teststack
# (each package has its own table and secret prefix on it; `go test ./x`
# alone starts its own), and `go test` skips its vet pass (`go vet ./...`
# just ran every analyzer): each package's own DynamoDB Local cost about
# 3 s of CPU to start and 3 s more to warm up, moto about 1 s, and the
# second vet pass about 20 s in all.
# The fault matrix, the longest package, runs beside the other packages on
# a stack of its own rather than after them. Its lines are held in
# .local/test-faults.out and printed once both have finished, so its
# counts are not interleaved with the others' lines.
# The other packages run 4 at a time (-p 4, where go test's default is one
# per core): several of them spend most of their time waiting, not
# computing (infra/apitest's stalled-store cases wait out the functions'
# Timeouts, 36 s of its 44 s), and two at a time left a core idle.
# They run at a lower priority (nice 10) than the fault matrix, the run's
# longest path: the matrix takes the CPU when both want it, and they fill
# the time it waits.
test: FAULTS_VET := -vet=off
# -trimpath for every go command of the run, the test binaries' own builds
# of the functions and the local binary too (they inherit GOFLAGS): without
# it each compiled package's cache key holds the checkout's path, so a
# fresh clone in a new directory compiled every package again (about 36 s
# of CPU) before linking; with it a clone reuses the machine's build cache.
test test-faults: export GOFLAGS := -trimpath $(GOFLAGS)
test: deps
	$(GO) vet ./...
	rm -rf .local/awscalls
	@mkdir -p .local/bin
	$(GO) build -o .local/bin/teststack ./infra/teststack
	@($(TEST_FAULTS)) >.local/test-faults.out 2>&1 & faults=$$!; \
	AWSCALLS_DIR=$(CURDIR)/.local/awscalls nice -n 10 .local/bin/teststack $(GO) test -vet=off -count=1 -p 4 -timeout 25m $$($(GO) list ./... | grep -v /infra/faultmatrix); rest=$$?; \
	wait $$faults; matrix=$$?; echo "make test-faults:"; cat .local/test-faults.out; \
	test $$rest -eq 0 -a $$matrix -eq 0
	$(GO) run ./infra/unusedactions -dir .local/awscalls

## test-faults: the fault matrix, races and leak checks of infra/faultmatrix (issue 9); prints its counts
TEST_FAULTS = set -o pipefail; $(GO) test $(FAULTS_VET) -count=1 -parallel 4 -timeout 20m -v ./infra/faultmatrix | grep -E '^(--- FAIL|FAIL|ok|fault matrix:|races:|leaks:)|_test\.go:[0-9]+:'
test-faults: deps
	@$(TEST_FAULTS)

## unit: the tests that need no emulator: validation, the Service's rules and the storage contract on the in-memory store (seconds)
unit:
	$(GO) test -count=1 -short ./shared/identity/...

## deps: install what a fresh machine lacks (pinned npm packages, Go modules, Java, Chromium)
deps: tools $(NODE_STAMP)
	@$(GO) mod download

$(NODE_STAMP): infra/local/package.json infra/local/package-lock.json
	npm ci --prefix infra/local --no-audit --no-fund
	@touch $@

# Each check's message reads "<tool> is missing: <install command>";
# infra/template/prereq_test.go holds the README's prerequisites to them.
tools:
	@command -v $(GO) >/dev/null || { echo "Go is missing: install Go 1.26 from https://go.dev/dl/"; exit 1; }
	@command -v npm >/dev/null || { echo "npm is missing: apt-get install nodejs npm"; exit 1; }
	@command -v java >/dev/null || { echo "installing Java 17 (DynamoDB Local needs it)"; \
		(apt-get update -qq && apt-get install -y -qq openjdk-17-jre-headless) >/dev/null || \
		{ echo "Java is missing: apt-get install openjdk-17-jre-headless"; exit 1; }; }
	@command -v moto_server >/dev/null || { echo "moto_server is missing: pip install 'moto[server]'"; exit 1; }
	@command -v cfn-lint >/dev/null || { echo "cfn-lint is missing: pip install cfn-lint"; exit 1; }
	@command -v openapi-spec-validator >/dev/null || { echo "openapi-spec-validator is missing: pip install openapi-spec-validator"; exit 1; }
	@command -v chromium >/dev/null || { echo "installing Chromium from Debian (the portal's browser test drives it headless)"; \
		(apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq chromium) >/dev/null || \
		{ echo "Chromium is missing: apt-get install chromium"; exit 1; }; }

## build: every function as bin/<LogicalId>/bootstrap for provided.al2023 on arm64
build: generate
	@set -e; for f in $(FUNCTIONS); do \
		$(MAKE) --no-print-directory build-$${f%%:*} ARTIFACTS_DIR=$(CURDIR)/bin/$${f%%:*}; done
	@ls -l bin/*/bootstrap

# The target `sam build` runs for each function (BuildMethod: makefile), with
# ARTIFACTS_DIR set: build-<LogicalId> builds that function's GoPackage.
build-%Function:
	@test -n "$(call gopackage,$*Function)" || { echo "$*Function is not a function of template.yaml (GoPackage)"; exit 2; }
	GOOS=linux GOARCH=arm64 CGO_ENABLED=0 $(GO) build $(LAMBDA_FLAGS) -o $(ARTIFACTS_DIR)/bootstrap ./$(call gopackage,$*Function)

## generate: derive infra/local/server/functions_gen.go (which constructor serves each
##   function's routes locally) from template.yaml and the functions' main.go; commit
##   the result (`make test` fails while it is stale)
generate:
	$(GO) generate ./infra/local/server

## functions: the functions of template.yaml, one <LogicalId>:<GoPackage> a line
functions:
	@printf '%s\n' $(FUNCTIONS)

## invoke: run a function's real bootstrap under a local Lambda Runtime API with one event
##   make invoke FUNCTION=clientcredentialclients EVENT=events/clientcredentialclients/create.json
##   With `make run` up, a bearer token (or the token events' credentials) of the demo
##   Account Administrator client is filled in; secret id placeholders
##   (00000000-0000-4000-8000-00000000000N) are replaced by hand (README, "Sample events").
##   Exits 1 when the function answers an HTTP status of 400 or more (the answer is printed).
invoke:
	@test -n "$(FUNCTION)" -a -n "$(EVENT)" || { echo "usage: make invoke FUNCTION=<dir under functions/> EVENT=events/<dir>/<case>.json"; exit 2; }
	@mkdir -p .local/invoke/$(FUNCTION)
	CGO_ENABLED=0 $(GO) build $(LAMBDA_FLAGS) -o .local/invoke/$(FUNCTION)/bootstrap ./functions/$(FUNCTION)
	@$(LOCAL_ENV) $(GO) run ./infra/invoke -bootstrap .local/invoke/$(FUNCTION)/bootstrap -event $(EVENT) -function $(FUNCTION)

## admin: the operator CLI against the stack of `make run`, e.g. make admin ARGS='tenant create --name X'
admin:
	@$(LOCAL_ENV) $(GO) run ./infra/admin $(ARGS)

## deploy: build and deploy with SAM (needs the sam CLI and AWS credentials)
deploy:
	sam build && sam deploy

## lint: go vet, gofmt and cfn-lint
lint:
	$(GO) vet ./...
	@test -z "$$(gofmt -l $$(git ls-files '*.go'))" || { gofmt -l $$(git ls-files '*.go'); exit 1; }
	cfn-lint template.yaml

## bench: measure the service on a local stack of its own and write docs/BENCHMARKS.md
##   (timings live here, never in pass/fail tests; about 10 minutes on 2 cores)
BENCH_RUNS ?= 5
BENCH_FLAGS ?=
BENCH_PKGS  = $(sort $(dir $(shell grep -rl --include='*_test.go' '^func Benchmark' shared infra)))
bench: deps
	@mkdir -p .local/bench
	set -o pipefail; $(GO) test -run '^$$' -bench . -benchmem -benchtime 300ms -count $(BENCH_RUNS) $(addprefix ./,$(BENCH_PKGS)) | tee .local/bench/gobench.txt
	$(GO) run ./infra/bench -runs $(BENCH_RUNS) $(BENCH_FLAGS) -gobench .local/bench/gobench.txt -out docs/BENCHMARKS.md

## bench-profile: CPU profiles of the token endpoint and a client GET (concurrency 16) in .local/bench
bench-profile: deps
	$(GO) run ./infra/bench -profile token -cpuprofile .local/bench/token.pprof
	$(GO) run ./infra/bench -profile get -cpuprofile .local/bench/get.pprof
	$(GO) tool pprof -top -nodecount 35 .local/bench/token.pprof 2>/dev/null | head -45
	$(GO) tool pprof -top -nodecount 35 .local/bench/get.pprof 2>/dev/null | head -45

clean:
	rm -rf bin .local/invoke .aws-sam
