# courier-traffic: every entry point. `make help` lists them.
#
# The two commands of the README's quick start:
#   make demo   the main job (the classic daily report) on an embedded sample log, no server needed
#   make test   every test: lint, unit, golden, fuzz seeds, and integration tests against a real
#               InfluxDB 1.8.10 that the tests build (once, cached) and start on loopback themselves

SHELL        := /bin/bash
GO           ?= go
BUILD        ?= build
PLUGIN_SO    := $(BUILD)/out_courier_influxdb.so
CLI          := $(BUILD)/courier-traffic
LOGGEN       := $(BUILD)/courier-loggen
FUZZTIME     ?= 30s
FUZZTIME_CI  ?= 20000x
BENCHCOUNT   ?= 6
BENCHTIME    ?= 1s
GOTESTFLAGS  ?=

export CGO_ENABLED := 1

.PHONY: help all build plugin cli loggen demo package test test-go lint deps influxd bench fuzz fuzz-short stress e2e clean

help: ## list the targets
	@grep -hE '^[a-z0-9-]+:.*## ' $(MAKEFILE_LIST) | sed -E 's/:.*## /\t/' | expand -t 14

all: build ## same as build

build: plugin cli ## build the plugin .so and the CLI into build/

plugin: ## build the Fluent Bit output plugin build/out_courier_influxdb.so (c-shared)
	$(GO) build -buildmode=c-shared -trimpath -o $(PLUGIN_SO) ./plugin

# The CLI needs no cgo: built static, as in the Docker image, it runs on any Linux
# of its architecture whatever the glibc, and starts 0.6 ms sooner (no dynamic loader).
cli: ## build the CLI build/courier-traffic (static)
	CGO_ENABLED=0 $(GO) build -trimpath -o $(CLI) ./cmd/courier-traffic

loggen: ## build the test-log generator build/courier-loggen
	$(GO) build -trimpath -o $(LOGGEN) ./cmd/courier-loggen

demo: ## the main job on the embedded sample: the classic report, no server needed
	$(GO) run ./cmd/courier-traffic report --date 'Jul 23' --year 2026 --tz UTC testdata/quickstart/mail.log

# packaging/build.sh cross-builds the arm64 plugin with Debian's aarch64-linux-gnu-gcc and runs the
# pinned nfpm with `go run`; the package test then checks all four (make test checks amd64 only).
package: ## .deb and .rpm for amd64 and arm64 into build/dist/ (with SHA256SUMS), checked by internal/pkgtest
	rm -rf $(BUILD)/dist
	GO="$(GO)" packaging/build.sh $(BUILD)/dist amd64 arm64
	COURIER_PKG_DIST="$(abspath $(BUILD)/dist)" $(GO) test -count=1 -v -run TestPackages ./internal/pkgtest/

deps: ## install what the tests need (Debian packages, Node's Flux parser, the InfluxDB server)
	scripts/install-deps.sh

influxd: ## build the InfluxDB 1.8.10 test server once into the cache
	scripts/influxd-build.sh

test: deps lint test-go fuzz-short ## every test (what CI runs)

test-go: ## go test over every package (integration tests start their own InfluxDB)
	INFLUXD="$$(scripts/influxd-build.sh)" $(GO) test -count=1 $(GOTESTFLAGS) ./...

lint: ## gofmt must print nothing, go vet must pass
	@out="$$(gofmt -l $$(git ls-files -co --exclude-standard '*.go'))"; \
	if [ -n "$$out" ]; then echo "gofmt -l:"; echo "$$out"; exit 1; fi
	$(GO) vet ./...

fuzz: ## run every fuzz target for FUZZTIME each (default 30s)
	@scripts/fuzz-all.sh $(FUZZTIME)

# A count of inputs, not a duration: a loaded machine then cannot hit the fuzzer's
# "context deadline exceeded" when -fuzztime expires during minimisation.
fuzz-short: ## run every fuzz target on FUZZTIME_CI (20000) inputs; part of make test
	@scripts/fuzz-all.sh $(FUZZTIME_CI)

bench: ## benchmarks (benchstat summary) and the CLI against the classic script
	scripts/bench.sh

stress: ## faults, load, hostile input and memory; prints the summary table
	scripts/stress.sh

# Not part of make test: it needs a Fluent Bit binary, which no Go or Debian package provides
# here. FLUENT_BIT names it (official packages: /opt/fluent-bit/bin/fluent-bit); docs/e2e.md.
# Without FLUENT_BIT nothing runs, and it says so instead of passing.
e2e: ## end-to-end scenarios through a real Fluent Bit: make e2e FLUENT_BIT=/path/to/fluent-bit
	@if [ -z "$(FLUENT_BIT)" ]; then \
		echo "" >&2; \
		echo "******************************************************************************" >&2; \
		echo "make e2e: FLUENT_BIT is not set; no end-to-end scenario ran (not a pass)" >&2; \
		echo "          run: make e2e FLUENT_BIT=/path/to/fluent-bit   (see docs/e2e.md)" >&2; \
		echo "******************************************************************************" >&2; \
		echo "" >&2; \
		exit 0; \
	fi; \
	fb="$(FLUENT_BIT)"; case "$$fb" in */*) fb="$$(realpath -- "$$fb")";; *) fb="$$(command -v -- "$$fb")";; esac; \
	if [ ! -x "$$fb" ] || [ -d "$$fb" ]; then echo "make e2e: FLUENT_BIT=$(FLUENT_BIT): no such executable" >&2; exit 1; fi; \
	echo "make e2e: Fluent Bit $$fb ($$("$$fb" --version 2>/dev/null | head -n 1))"; \
	$(MAKE) --no-print-directory plugin && \
	COURIER_E2E_FLUENT_BIT="$$fb" COURIER_E2E_PLUGIN="$(abspath $(PLUGIN_SO))" \
	INFLUXD="$$(scripts/influxd-build.sh)" $(GO) test -count=1 -v -timeout 30m $(GOTESTFLAGS) ./internal/e2e/

clean: ## remove build output
	rm -rf $(BUILD)
	$(GO) clean -testcache
