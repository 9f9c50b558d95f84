# The front door. `make demo` runs the main job on SQLite; `make test` runs every test.
BUILD ?= build
JOBS ?= $(shell nproc 2>/dev/null || echo 2)
CMAKE_ARGS ?=

.PHONY: all setup build demo test bench install asan tsan tsan-stress stress clean

all: build

setup:
	@scripts/setup.sh

$(BUILD)/CMakeCache.txt: | setup
	cmake -S . -B $(BUILD) $(CMAKE_ARGS)

build: setup $(BUILD)/CMakeCache.txt
	cmake --build $(BUILD) -j$(JOBS)

demo: build
	$(BUILD)/examples/quickstart
	$(BUILD)/examples/tour
	$(BUILD)/examples/migrations
	@echo; echo '$$ dal history tour_accounts 1'; $(BUILD)/cli/dal history tour_accounts 1
	@echo; echo '$$ dal audit verify'; $(BUILD)/cli/dal audit verify

test: build
	ctest --test-dir $(BUILD) --output-on-failure -j$(JOBS)

# PostgreSQL runs on a throwaway server, started and stopped here; a durable one (fsync and
# synchronous_commit on, the server's defaults), so the figures are the ones users see.
bench: build
	@dir=/tmp/dal-pg-bench-$$$$; \
	DAL_PG_DURABLE=1 scripts/pg-test-server.sh start $$dir >/dev/null || { echo "bench: cannot start PostgreSQL" >&2; exit 1; }; \
	DAL_BENCH_PG_URL=$$(cat $$dir/url) $(BUILD)/bench/dal_bench; rc=$$?; \
	DAL_BENCH_PG_URL=$$(cat $$dir/url) $(BUILD)/bench/dal_bench_pool || rc=1; \
	DAL_BENCH_PG_URL=$$(cat $$dir/url) $(BUILD)/bench/dal_bench_bulk || rc=1; \
	DAL_BENCH_PG_URL=$$(cat $$dir/url) $(BUILD)/bench/dal_bench_floor || rc=1; \
	scripts/pg-test-server.sh stop $$dir >/dev/null; exit $$rc

# How costs grow as the data grows: `bench <engine> scale_<name> small= large= ratio=` lines.
.PHONY: bench-scale
bench-scale: build
	@dir=/tmp/dal-pg-scale-$$$$; \
	DAL_PG_DURABLE=1 scripts/pg-test-server.sh start $$dir >/dev/null || { echo "bench-scale: cannot start PostgreSQL" >&2; exit 1; }; \
	$(BUILD)/bench/dal_bench_scale; rc=$$?; \
	DAL_BENCH_PG_URL=$$(cat $$dir/url) $(BUILD)/bench/dal_bench_scale_db || rc=1; \
	scripts/pg-test-server.sh stop $$dir >/dev/null; exit $$rc

install: build
	cmake --install $(BUILD) $(if $(PREFIX),--prefix $(PREFIX))

# The whole suite under AddressSanitizer + UndefinedBehaviorSanitizer.
asan:
	$(MAKE) BUILD=build-asan CMAKE_ARGS="-DCMAKE_BUILD_TYPE=Debug -DDAL_SANITIZE=address,undefined -DDAL_BUILD_BENCH=OFF" test

# The whole suite under ThreadSanitizer.
TSAN_ARGS = -DCMAKE_BUILD_TYPE=Debug -DDAL_SANITIZE=thread -DDAL_BUILD_BENCH=OFF
tsan:
	$(MAKE) BUILD=build-tsan CMAKE_ARGS="$(TSAN_ARGS)" test

# The tests that run threads, under ThreadSanitizer (run by .ci/run): pool, units of
# work, metrics and the restart storm on PostgreSQL, the read cache on SQLite file and
# PostgreSQL, and the conformance cases (metrics, pool, cross-thread units, cache) on
# SQLite file and PostgreSQL. DuckDB is left
# out: libduckdb.so's own threads are not instrumented and would give false reports.
# ctest adds the pg fixture's start and stop tests itself.
TSAN_TESTS = ^(conformance-(sqlite-file|postgres)|stress-(pool|uow-counter|restart-storm)-postgres|stress-cache-(sqlite-file|postgres))$$
tsan-stress:
	$(MAKE) BUILD=build-tsan CMAKE_ARGS="$(TSAN_ARGS)" build
	ctest --test-dir build-tsan --output-on-failure -j$(JOBS) -R '$(TSAN_TESTS)'

# Longer runs of the probes than make test gives them: the stress-labelled tests in
# their long modes (DAL_STRESS_LONG=1; crash_kill: 100 kills per engine), the disk-full
# and server-faults probes with more rounds (the PostgreSQL ones start and stop a
# server of their own).
stress: build
	DAL_STRESS_LONG=1 ctest --test-dir $(BUILD) --output-on-failure -j$(JOBS) -L stress -E 'stress-(disk-full|server-faults)'
	$(BUILD)/tests/disk_full sqlite-file 20
	$(BUILD)/tests/disk_full duckdb 10
	DAL_PG_DURABLE=1 $(BUILD)/tests/server_faults scripts/pg-test-server.sh /tmp/dal-pg-faults-long-$$$$ 8
	rm -f /tmp/dal-hostile-long.db*; $(BUILD)/tests/hostile_input sqlite-file sqlite:////tmp/dal-hostile-long.db 100000

# The fuzzers, then the out-of-memory sweep exhaustively: fail-once and fail-always at
# every n of every call (make test runs it with fail-once on a stride).
.PHONY: fuzz
fuzz: build
	ctest --test-dir $(BUILD) --output-on-failure -L fuzz
	for e in sqlite-memory sqlite-file duckdb; do $(BUILD)/tests/oom_sweep $$e --exhaustive || exit 1; done

clean:
	rm -rf build build-asan build-tsan
