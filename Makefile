# mesa — make targets. `make demo` runs mesa; `make test` runs every test,
# installing and starting what the tests need (see scripts/test-deps.sh).
GO        ?= go
BIN       := bin/mesa
PKGS      := ./...
FUZZTIME  ?= 20s
STATICCHECK_VERSION := v0.8.2
export CGO_ENABLED ?= 0

.PHONY: build run test lint fuzz bench demo clean deps

build:
	$(GO) build -trimpath -o $(BIN) ./cmd/mesa

run: build
	./$(BIN) serve

deps:
	./scripts/test-deps.sh

test: deps
	./scripts/gotest.sh -timeout 20m $(PKGS)

lint:
	@out=$$(gofmt -l $$(git ls-files '*.go')); if [ -n "$$out" ]; then echo "gofmt needed:"; echo "$$out"; exit 1; fi
	$(GO) vet $(PKGS)
	$(GO) run honnef.co/go/tools/cmd/staticcheck@$(STATICCHECK_VERSION) $(PKGS)

# Every Fuzz* target, FUZZTIME each.
fuzz:
	@set -e; for pkg in $$($(GO) list $(PKGS)); do \
	  for f in $$($(GO) test -list '^Fuzz' $$pkg | grep '^Fuzz' || true); do \
	    echo "== $$pkg $$f"; $(GO) test -run '^$$' -fuzz "^$$f$$" -fuzztime $(FUZZTIME) $$pkg; \
	  done; done

bench:
	$(GO) test -run '^$$' -bench . -benchmem $(PKGS)

# The whole daemon on an in-process mail system, seeded with a dozen mails;
# prints the status page and each demo ticket's link.
demo: build
	./$(BIN) demo

clean:
	rm -rf bin mesa.db mesa.db-wal mesa.db-shm
