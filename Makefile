# heapscan: make demo (build, make a sample core, analyse it), make test, make bench.
SWIFT ?= swift
# Swift's default x86-64 target is SSE2 only; the scan kernels run ~3x faster with AVX2.
ARCH_FLAGS := $(shell grep -qw avx2 /proc/cpuinfo 2>/dev/null && echo "-Xswiftc -target-cpu -Xswiftc haswell")
RELEASE := $(SWIFT) build -c release $(ARCH_FLAGS)
BIN := .build/release
CORES := .build-cores

.PHONY: all deps build demo test bench bench-jemalloc fuzz clean-cores install

all: build

deps:
	@scripts/ensure-packages

build: deps
	$(RELEASE)

# The classes sample shows per-type counts; the leaker sample is the leak hunt itself.
demo: build
	@mkdir -p $(CORES)
	@core=$$(Samples/make-core --out $(CORES) classes | tail -n 1) && \
	  echo "== heapscan types $$core" && $(BIN)/heapscan types "$$core"
	@core=$$(Samples/make-core --out $(CORES) leaker | tail -n 1) && \
	  echo && echo "== heapscan heap $$core --top 5" && $(BIN)/heapscan heap "$$core" --top 5 && \
	  echo && echo "== heapscan leaks $$core" && $(BIN)/heapscan leaks "$$core"

test: deps
	$(SWIFT) test

bench: deps
	$(RELEASE) --product heapscan-bench
	$(BIN)/heapscan-bench

# The jemalloc vote and walk on a 10 M-key redis-server core (about 1.5 GB; needs redis-server).
bench-jemalloc: deps
	$(RELEASE) --product heapscan-bench
	@core=$$(scripts/redis-core 10000000 $(CORES) | tail -n 1) && $(BIN)/heapscan-bench jemalloc "$$core"

# The mutation fuzzers (ELF/notes, glibc, jemalloc, pymalloc, leak pipeline), one after the other, for
# FUZZ_SECONDS each, or FUZZ_RUNS inputs each with no time limit (FUZZ_RUNS=1000000 is the
# campaign docs/fuzzing.md reports); FUZZ_TARGET=elf-notes|glibc|leaks|jemalloc|pymalloc runs one target.
# make test runs them for a few seconds. Optimised, so a long run covers many inputs; a crash
# leaves its input in /dev/shm/heapscan-fuzz (HEAPSCAN_FUZZ_REPLAY=PATH with the same filter
# reruns it).
FUZZ_SECONDS ?= 600
FUZZ_ITERATIONS ?=
FUZZ_RUNS ?= $(FUZZ_ITERATIONS)
FUZZ_TARGET ?=
FUZZ_TEST_elf-notes := elfAndNotesParserSurvivesMutations
FUZZ_TEST_glibc := glibcWalkerSurvivesMutations
FUZZ_TEST_leaks := leakPipelineSurvivesMutations
FUZZ_TEST_jemalloc := jemallocWalkerSurvivesMutations
FUZZ_TEST_pymalloc := pymallocWalkerSurvivesMutations
FUZZ_FILTER := $(if $(FUZZ_TARGET),FuzzTests.$(or $(FUZZ_TEST_$(FUZZ_TARGET)),$(error FUZZ_TARGET: one of elf-notes glibc leaks jemalloc pymalloc)),FuzzTests)
fuzz: deps
	HEAPSCAN_FUZZ_SECONDS=$(if $(FUZZ_RUNS),inf,$(FUZZ_SECONDS)) HEAPSCAN_FUZZ_ITERATIONS=$(FUZZ_RUNS) \
	  $(SWIFT) test -c release -Xswiftc -enable-testing --no-parallel --filter '$(FUZZ_FILTER)'

clean-cores:
	rm -rf $(CORES)

# make install PREFIX=DIR: the heapscan binary with Swift's runtime and Foundation linked in, so
# it runs where no Swift toolchain is installed (it needs only Debian's elfutils and compression
# libraries), its man page and bash, zsh and fish completions. The man page comes from
# swift-argument-parser's generate-manual (the GenerateManual plugin's tool, built by asking the
# plugin for its help), run on the installed binary: the same text as --help. Built for any
# x86-64 (no ARCH_FLAGS: the binary may be copied to another machine) in its own scratch
# directory, so the ordinary build in .build keeps its binary and a running `swift test` its lock.
PREFIX ?= /usr/local
INSTALL_BUILD := .build-install
install: deps
	$(SWIFT) build -c release --static-swift-stdlib --scratch-path $(INSTALL_BUILD) --product heapscan
	$(SWIFT) package --scratch-path $(INSTALL_BUILD) plugin generate-manual --help >/dev/null
	rm -rf $(INSTALL_BUILD)/manual && mkdir -p $(INSTALL_BUILD)/manual
	$$(find $(INSTALL_BUILD) -name generate-manual-tool -type f | head -n 1) $(INSTALL_BUILD)/release/heapscan \
	  --output-directory $(INSTALL_BUILD)/manual
	install -d $(DESTDIR)$(PREFIX)/bin $(DESTDIR)$(PREFIX)/share/man/man1 \
	  $(DESTDIR)$(PREFIX)/share/bash-completion/completions $(DESTDIR)$(PREFIX)/share/zsh/site-functions \
	  $(DESTDIR)$(PREFIX)/share/fish/vendor_completions.d
	install -m 755 $(INSTALL_BUILD)/release/heapscan $(DESTDIR)$(PREFIX)/bin/heapscan
	install -m 644 $(INSTALL_BUILD)/manual/heapscan.1 $(DESTDIR)$(PREFIX)/share/man/man1/heapscan.1
	$(INSTALL_BUILD)/release/heapscan --generate-completion-script bash > $(DESTDIR)$(PREFIX)/share/bash-completion/completions/heapscan
	$(INSTALL_BUILD)/release/heapscan --generate-completion-script zsh > $(DESTDIR)$(PREFIX)/share/zsh/site-functions/_heapscan
	$(INSTALL_BUILD)/release/heapscan --generate-completion-script fish > $(DESTDIR)$(PREFIX)/share/fish/vendor_completions.d/heapscan.fish
	@echo "installed $(DESTDIR)$(PREFIX)/bin/heapscan ($$(du -h $(INSTALL_BUILD)/release/heapscan | cut -f1))"
