# Meridian build targets. `make demo` and `make test` are the two commands a
# fresh machine needs; see README.md.

GO       ?= go
PKGS     ?= ./...
# make test must stay under 15 minutes on 2 cores.
TESTFLAGS ?= -timeout 14m
BENCHFLAGS ?= -benchmem -count 1

.PHONY: build test demo bench bench-pg lint fuzz clean proto

build:
	$(GO) build $(PKGS)
	$(GO) build -o bin/meridian ./cmd/meridian

# The whole suite, lint included (internal/lint runs gofmt, go vet and the
# project's own rules).
# A local PostgreSQL (for the workload tests) is started when its server is
# installed; .ci/run installs it.
test:
	@bash -c '. .ci/postgres.sh && maybe_start_postgres && $(GO) test $(TESTFLAGS) $(PKGS)'

demo: build
	./bin/meridian demo --serve

bench:
	$(GO) test -run '^$$' -bench . $(BENCHFLAGS) $(PKGS)

# Meridian against PostgreSQL on this machine (pgbench, one-row INSERT,
# TPC-C): a table of ratios. Needs root and Debian's postgresql server.
bench-pg: build
	scripts/bench-pg.sh

lint:
	$(GO) test -count 1 ./internal/lint/

# Run each fuzz target for FUZZTIME (the checked-in seeds run in make test).
FUZZTIME ?= 30s
fuzz:
	@for pkg in $$($(GO) list $(PKGS)); do \
	  for f in $$($(GO) test -list '^Fuzz' $$pkg | grep '^Fuzz'); do \
	    echo "== $$pkg $$f"; $(GO) test -run '^$$' -fuzz "^$$f$$" -fuzztime $(FUZZTIME) $$pkg || exit 1; \
	  done; \
	done

clean:
	rm -rf bin

# Regenerate protobuf code (needs protoc from Debian's protobuf-compiler, and
# protoc-gen-go v1.36.12 / protoc-gen-go-grpc v1.5.1 on PATH). The generated
# files are committed; builds and CI do not need protoc.
proto:
	protoc -I . --go_out=. --go_opt=paths=source_relative \
	  --go-grpc_out=. --go-grpc_opt=paths=source_relative \
	  range/rangepb/*.proto server/serverpb/*.proto
