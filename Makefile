# heapscan: make demo (build, make a sample core, analyse it), make test, make bench.
SWIFT ?= swift
# Swift's default x86-64 target is SSE2 only; the scan kernels run ~3x faster with AVX2.
ARCH_FLAGS := $(shell grep -qw avx2 /proc/cpuinfo 2>/dev/null && echo "-Xswiftc -target-cpu -Xswiftc haswell")
RELEASE := $(SWIFT) build -c release $(ARCH_FLAGS)
BIN := .build/release
CORES := .build-cores
DEMO_SAMPLE := classes

.PHONY: all deps build demo test bench clean-cores

all: build

deps:
	@scripts/ensure-packages

build: deps
	$(RELEASE)

demo: build
	@mkdir -p $(CORES)
	@core=$$(Samples/make-core --out $(CORES) $(DEMO_SAMPLE) | tail -n 1) && \
	  echo "== heapscan info $$core" && $(BIN)/heapscan info "$$core" && \
	  echo && echo "== heapscan types $$core" && $(BIN)/heapscan types "$$core"

test: deps
	$(SWIFT) test

bench: deps
	$(RELEASE) --product heapscan-bench
	$(BIN)/heapscan-bench

clean-cores:
	rm -rf $(CORES)
