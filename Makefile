# Berth — make targets. `make help` lists them.
GO        ?= go
BIN       ?= bin/berth
GOBIN_DIR := $(shell $(GO) env GOPATH)/bin
GOLANGCI  := $(GOBIN_DIR)/golangci-lint
LINT_VERSION := v2.15.0
PKGS      := ./...

.PHONY: help build test test-short lint lint-install fmt vet check fuzz clean bench bench-smoke

help: ## show this help
	@grep -E '^[a-zA-Z_-]+:.*?## ' $(MAKEFILE_LIST) | awk 'BEGIN {FS = ":.*?## "}; {printf "  %-14s %s\n", $$1, $$2}'

build: ## build bin/berth and bin/berth-guest, the microVM guest init (static, CGO disabled)
	CGO_ENABLED=0 $(GO) build -trimpath -o $(BIN) ./cmd/berth
	CGO_ENABLED=0 $(GO) build -trimpath -o $(dir $(BIN))berth-guest ./cmd/berth-guest

test: ## run every test with the race detector
	$(GO) test -race -count=1 -timeout 15m $(PKGS)

test-short: ## run the fast tests only
	$(GO) test -short -count=1 $(PKGS)

vet: ## go vet
	$(GO) vet $(PKGS)

fmt: ## gofmt every file in place
	gofmt -w $$(git ls-files '*.go')

lint-install: ## install the pinned golangci-lint if it is missing
	@test -x $(GOLANGCI) && $(GOLANGCI) version 2>/dev/null | grep -q $(patsubst v%,%,$(LINT_VERSION)) || \
		GOFLAGS= $(GO) install github.com/golangci/golangci-lint/v2/cmd/golangci-lint@$(LINT_VERSION)

lint: lint-install ## gofmt check, go vet and golangci-lint
	@out=$$(gofmt -l $$(git ls-files '*.go')); if [ -n "$$out" ]; then echo "gofmt needed:"; echo "$$out"; exit 1; fi
	$(GO) vet $(PKGS)
	$(GOLANGCI) run $(PKGS)

fuzz: ## run each fuzz target for 20s
	$(GO) test -run=NONE -fuzz=FuzzParseARN -fuzztime=20s ./internal/catalog
	$(GO) test -run=NONE -fuzz=FuzzVerify -fuzztime=20s ./internal/auth

check: lint test ## everything CI runs: lint then the full test suite

bench: ## run the benchmark harness (all drivers, microvm under TCG included: about 15 min) into bench/results
	./bench/install-tools.sh
	$(GO) run ./bench

bench-smoke: ## the benchmark harness in -short mode (seconds, speed not judged), into a temp dir
	$(GO) run ./bench -short -out $$(mktemp -d)

clean: ## remove build output
	rm -rf bin
