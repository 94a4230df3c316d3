# Developer and CI entry points. `make help` lists the targets.

SHELL := bash
.SHELLFLAGS := -euo pipefail -c
.DEFAULT_GOAL := help

GO_TEST_FLAGS ?= -count=1 -timeout 40m
# Seconds each fuzz target runs in `make fuzz`.
FUZZ_TIME ?= 10s

.PHONY: help build vault test test-ha vet fuzz demo demo-down ha-demo ha-demo-down bench clean

help: ## List the targets
	@grep -E '^[a-z-]+:.*## ' $(MAKEFILE_LIST) | awk -F ':.*## ' '{ printf "  %-10s %s\n", $$1, $$2 }'

build: ## Build the plugin into ./bin and print its SHA-256
	scripts/build-plugin.sh bin

vault: ## Print the Vault binary for the tests, building Vault v1.21.0 on first use (about 20 minutes)
	scripts/vault-bin.sh

# go test writes each package's result as soon as it finishes; nothing here
# buffers its output.
# The packages that run inside the plugin are tested under the race
# detector; the end-to-end packages drive separate processes and run without.
RACE_PACKAGES := ./approval/... ./backend/... ./roles/... ./cmd/...
SERVER_PACKAGES := ./e2e/... ./internal/... ./bench/...

test: vault ## Run every test against a real Vault dev server and PostgreSQL
	scripts/pg-cluster.sh check
	vault_bin="$$(scripts/vault-bin.sh)"; \
	ZSP_VAULT_BIN="$$vault_bin" go test $(GO_TEST_FLAGS) -race $(RACE_PACKAGES) && \
	ZSP_VAULT_BIN="$$vault_bin" go test $(GO_TEST_FLAGS) $(SERVER_PACKAGES)

vet: ## Run go vet on every package
	go vet ./...

fuzz: ## Run each fuzz target for FUZZ_TIME (default 10s)
	for pkg in $$(go list ./...); do \
		dir="$$(go list -f '{{.Dir}}' "$$pkg")"; \
		for target in $$(grep -ho '^func Fuzz[A-Za-z0-9_]*' "$$dir"/*_test.go 2>/dev/null | cut -d ' ' -f 2); do \
			echo "fuzz $$pkg $$target for $(FUZZ_TIME)"; \
			go test -run '^$$' -fuzz "^$$target\$$" -fuzztime $(FUZZ_TIME) "$$pkg"; \
		done; \
	done

demo: ## Start PostgreSQL and Vault with the plugin mounted and example task roles
	bootstrap/demo.sh up

demo-down: ## Stop the demo and delete its state
	bootstrap/demo.sh down

ha-demo: ## Start a three-node Vault HA cluster (raft) with the plugin and a throwaway PostgreSQL
	scripts/ha-demo.sh up

ha-demo-down: ## Stop the HA demo and delete .ha-demo/
	scripts/ha-demo.sh down

test-ha: vault ## Run only the HA cluster tests (about 70 seconds; make test runs them too)
	ZSP_VAULT_BIN="$$(scripts/vault-bin.sh)" go test $(GO_TEST_FLAGS) -run 'TestHA|TestCluster' ./e2e/ ./internal/testenv/

bench: ## Run the benchmarks against the contenders
	scripts/bench.sh

clean: ## Delete build and benchmark output (the cached Vault binary stays)
	rm -rf bin .bench
