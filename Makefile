# Dovira: one verb per task. Every verb installs what is missing first (scripts/install-deps.sh).
.PHONY: deps build web web-test test asan tsan bench bench-scale run screenshots fuzz fuzz-smoke format tidy coverage-doc clean

JOBS ?= $(shell nproc)
# ccache (installed by scripts/install-deps.sh) keeps compiled objects between builds and between
# the build configurations' unchanged files; CCACHE=0 builds without it.
CCACHE ?= 1
export CCACHE_BASEDIR := $(CURDIR)
export CCACHE_NOHASHDIR := 1
LAUNCHER := $(if $(filter 1,$(CCACHE)),$(if $(shell command -v ccache),-DCMAKE_CXX_COMPILER_LAUNCHER=ccache -DCMAKE_C_COMPILER_LAUNCHER=ccache))
FUZZ_SECONDS ?= 60

deps:
	@bash scripts/install-deps.sh

build: deps
	@cmake --preset release $(LAUNCHER) >/dev/null
	@cmake --build build/release -j $(JOBS)

# The web pages, the cookie banner and the form snippet (web/dist), from the pinned npm packages.
web: deps
	@cd web && { [ node_modules/.package-lock.json -nt package-lock.json ] || npm ci --no-audit --no-fund; } \
		&& npm run build --silent

# Browser tests of web/ against the real server and Debian's Chromium (needs the release build).
web-test: build web
	@cd web && npm test --silent

# The whole test suite: unit tests beside the code, black-box tests against the real binary, and
# the browser tests of the web pages.
test: build
	@cd build/release && ctest --output-on-failure -j $(JOBS)
	@$(MAKE) --no-print-directory web-test

# The whole test suite under AddressSanitizer + UndefinedBehaviorSanitizer. The asan build (clang)
# also links the fuzz targets, so `make fuzz` after it builds nothing more.
asan: deps
	@cmake --preset asan $(LAUNCHER) >/dev/null
	@cmake --build build/asan -j $(JOBS)
	@cd build/asan && ASAN_OPTIONS=detect_leaks=1:abort_on_error=1 UBSAN_OPTIONS=print_stacktrace=1:halt_on_error=1 \
		ctest --output-on-failure -j $(JOBS)

# The tests under ThreadSanitizer: the event loops, the worker pool, the writer thread and the
# caches they share. A data race is a failure (halt_on_error; the black-box tests start the
# ThreadSanitizer build of the server, which then exits on the first race). TSAN_TESTS, when set,
# names the test programs to build and run (with the server they start; CI: the store, service and
# black-box server tests); unset, every program is built and run. TSAN_EXCLUDE, when set, leaves
# out the tests whose names match it (ctest -E).
TSAN_TESTS ?=
TSAN_EXCLUDE ?=
empty :=
space := $(empty) $(empty)
tsan: deps
	@cmake --preset tsan $(LAUNCHER) >/dev/null
	@cmake --build build/tsan -j $(JOBS) $(if $(TSAN_TESTS),--target $(TSAN_TESTS) dovira)
	@cd build/tsan && TSAN_OPTIONS=halt_on_error=1:abort_on_error=1:second_deadlock_stack=1 \
		ctest --output-on-failure -j $(JOBS) $(if $(TSAN_TESTS),-L '^($(subst $(space),|,$(strip $(TSAN_TESTS))))$$') \
		$(if $(TSAN_EXCLUDE),-E '$(TSAN_EXCLUDE)')

bench: build
	@python3 bench/run.py --build build/release --out docs/performance.md

# One school grown to 10k, 100k and 1M subjects on SQLite and on PostgreSQL (about an hour).
bench-scale: build
	@python3 bench/scale_bench.py --build build/release --out docs/performance.md

run: build web
	@bash scripts/run-demo.sh build/release

# PNGs of the main public pages in docs/screenshots/.
screenshots: build web
	@cd web && npm run screenshots --silent

# Coverage-guided fuzzing (libFuzzer) of every parser of untrusted input, FUZZ_SECONDS each:
# policy (TOML loader, checker, notice), http_request (the adapter's request parsing), headers
# (cookies, CSRF, query, language, CORS, static paths), api_body (the JSON body of every route
# through the real Api), testdata_export (a test-data export through its check, R91), import_rows
# (a bulk import file, CSV or JSON lines, each row through the intake's validation). The fuzz
# binaries come from the asan build (clang, ASan + UBSan). FUZZ_TARGETS picks some; `make
# fuzz-smoke` runs each for 30 seconds (CI).
# Each run starts from its seeds (fuzz/corpus/<name>, fuzz/regressions/<name>) and keeps what it
# learns in build/asan/fuzz/corpus/<name>; a crash stops with its input in
# build/asan/fuzz/crashes/<name>/, which then belongs in fuzz/regressions/<name>/ (replayed by
# ctest in every build).
FUZZ_TARGETS ?= policy http_request headers api_body testdata_export import_rows
FUZZ_DIR := build/asan/fuzz
fuzz: deps
	@cmake --preset asan $(LAUNCHER) >/dev/null
	@cmake --build build/asan -j $(JOBS) --target $(addsuffix _fuzz,$(FUZZ_TARGETS))
	@set -e; for t in $(FUZZ_TARGETS); do \
		mkdir -p $(FUZZ_DIR)/corpus/$$t $(FUZZ_DIR)/crashes/$$t; \
		seeds="fuzz/corpus/$$t"; [ -d fuzz/regressions/$$t ] && seeds="$$seeds fuzz/regressions/$$t"; \
		[ $$t = policy ] && seeds="$$seeds policies"; \
		dict=""; [ -f fuzz/$$t.dict ] && dict="-dict=fuzz/$$t.dict"; \
		echo "== fuzz $$t ($(FUZZ_SECONDS) s)"; \
		./$(FUZZ_DIR)/$${t}_fuzz -max_total_time=$(FUZZ_SECONDS) -max_len=65536 -timeout=30 \
			-rss_limit_mb=4096 -print_final_stats=1 $$dict \
			-artifact_prefix=$(FUZZ_DIR)/crashes/$$t/ $(FUZZ_DIR)/corpus/$$t $$seeds \
			2>$(FUZZ_DIR)/$$t.log || { tail -60 $(FUZZ_DIR)/$$t.log; exit 1; }; \
		grep -E "^(Done|stat::number_of_executed_units)" $(FUZZ_DIR)/$$t.log | sed "s/^/  $$t: /"; \
	done

fuzz-smoke:
	@$(MAKE) --no-print-directory fuzz FUZZ_SECONDS=30

format:
	@find src tests fuzz bench -name '*.cc' -o -name '*.h' | xargs clang-format -i

tidy: build
	@find src -name '*.cc' ! -name '*_test.cc' | xargs clang-tidy -p build/release --quiet

clean:
	@rm -rf build

# docs/requirements-coverage.md: per requirement row, the behaviour tests that name it and, apart,
# the tests that only pin a policy value or a checker rule.
coverage-doc:
	@python3 scripts/coverage.py
