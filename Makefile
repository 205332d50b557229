# mesa — make targets. `make demo` runs mesa; `make test` runs every test,
# installing and starting what the tests need (see scripts/test-deps.sh).
GO        ?= go
BIN       := bin/mesa
PKGS      := ./...
FUZZTIME  ?= 20s
FUZZFLAGS ?=
STATICCHECK_VERSION := v0.8.2
export CGO_ENABLED ?= 0
# mesa version prints these (cmd/mesa/buildinfo.go); without git, the build
# information Go embeds is used.
VERSION    ?= $(shell git describe --tags --always --dirty 2>/dev/null)
COMMIT     ?= $(shell git rev-parse HEAD 2>/dev/null)
BUILD_DATE ?= $(shell date -u +%Y-%m-%dT%H:%M:%SZ)
LDFLAGS    := -X main.buildVersion=$(VERSION) -X main.buildCommit=$(COMMIT) -X main.buildDate=$(BUILD_DATE)

.PHONY: build run test test-race e2e soak lint fuzz bench demo clean deps model

# The embedded model is a build output: trained from the shipped corpus
# (rules/testdata) by `mesa rules train`, dated by the last commit that
# touched rules/ (so the same sources give the same bytes; without git,
# today), written to rules/modeldata/ and embedded by the next build.
MODEL      := rules/modeldata/model.bin
MODEL_DATE ?= $(or $(shell git log -1 --format=%cs -- rules 2>/dev/null),$(shell date -u +%Y-%m-%d))

model: $(MODEL)

$(MODEL): $(shell git ls-files rules 2>/dev/null)
	$(GO) run ./cmd/mesa rules train --date $(MODEL_DATE) --out $@.tmp
	mv $@.tmp $@

build: $(MODEL)
	$(GO) build -trimpath -ldflags "$(LDFLAGS)" -o $(BIN) ./cmd/mesa

run: build
	./$(BIN) serve

deps:
	./scripts/test-deps.sh

test: deps $(MODEL)
	./scripts/gotest.sh -timeout 20m $(PKGS)

# The whole suite under the race detector (needs cgo and a C compiler).
test-race: deps $(MODEL)
	CGO_ENABLED=1 ./scripts/gotest.sh -race -timeout 40m $(PKGS)

lint:
	@out=$$(gofmt -l $$(git ls-files '*.go')); if [ -n "$$out" ]; then echo "gofmt needed:"; echo "$$out"; exit 1; fi
	$(GO) vet $(PKGS)
	$(GO) vet -tags bench ./cmd/mesa
	$(GO) run honnef.co/go/tools/cmd/staticcheck@$(STATICCHECK_VERSION) $(PKGS)
	$(GO) run honnef.co/go/tools/cmd/staticcheck@$(STATICCHECK_VERSION) -tags bench ./cmd/mesa

# Every Fuzz* target, FUZZTIME each (the reliability run: FUZZTIME=10m).
# A crasher stays in the package's testdata/fuzz and fails `make test` until fixed.
fuzz: $(MODEL)
	@failed=""; for pkg in $$($(GO) list $(PKGS)); do \
	  for f in $$($(GO) test -list '^Fuzz' $$pkg | grep '^Fuzz' || true); do \
	    echo "== $$pkg $$f"; \
	    $(GO) test -run '^$$' -fuzz "^$$f$$" -fuzztime $(FUZZTIME) $(FUZZFLAGS) $$pkg || failed="$$failed $$pkg.$$f"; \
	  done; done; \
	if [ -n "$$failed" ]; then echo "fuzz failures:$$failed"; exit 1; fi

# The chaos run at full size: 5,000 mails to two instances while one of them
# is SIGKILLed every 1–5 s, Dovecot restarted twice, PostgreSQL once, SMTP
# away for 60 s (make test runs it with 400 mails, kills every 0.2–1 s and
# a 3 s outage). Results: docs/RELIABILITY.md.
e2e: deps $(MODEL)
	MESA_CHAOS_MAILS=5000 MESA_CHAOS_KILL_EVERY=1s-5s MESA_CHAOS_SMTP_OUTAGE=60s \
	  $(GO) test -count=1 -timeout 40m -run '^TestChaosKill$$' -v ./cmd/mesa

# Thirty minutes at 10 mails/s with mesa's memory and goroutines sampled
# (make test runs 20 s of it). Results: docs/RELIABILITY.md.
soak: deps $(MODEL)
	MESA_SOAK_DURATION=30m $(GO) test -count=1 -timeout 45m -run '^TestSoak$$' -v ./cmd/mesa

# Every benchmark of docs/BENCHMARKS.md, rerun, and one table of the results
# written into it (scripts/benchtable); a missed target is a NO there. The
# intake benchmark is bin/mesa-bench: mesa built with -tags bench, the only
# build that links the throwaway Dovecot and PostgreSQL of the tests.
bench: deps build
	$(GO) build -trimpath -tags bench -o bin/mesa-bench ./cmd/mesa
	$(GO) run ./scripts/benchtable

# The whole daemon on an in-process mail system, seeded with a dozen mails;
# prints the status page and each demo ticket's link.
demo: build
	./$(BIN) demo

clean:
	rm -rf bin mesa.db mesa.db-wal mesa.db-shm $(MODEL)
