# Service Vault Timers. The README's two commands are `make run` and `make test`.
SHELL := /bin/bash
.DEFAULT_GOAL := help
SWIFT_BUILD_FLAGS ?=
# Swift Testing captures a backtrace at every Swift error thrown in the test
# process, caught or not: the codec's suites took 1.7 times the CPU time with
# it (45.5 s against 26.7 s). On two CPUs those seconds are taken
# from the same cooperative threads that resume every other test's calls.
export SWT_SWIFT_ERROR_BACKTRACING_ENABLED = 0

.PHONY: help bootstrap build test redis-cluster-up examples interop interop-only proto fuzz faults soak bench bench-scale bench-smoke bench-smoke-only profile-rpc venv certs services-up services-down run clean

help:
	@echo "make test   install what is missing, build, start PostgreSQL and Redis under .run/, run every test"
	@echo "make run    build timerd, start PostgreSQL and Redis under .run/, serve on 127.0.0.1:50051 with a demo user and token"
	@echo "make examples  build each package in examples/ and check its output against a live timerd (part of make test)"
	@echo "make interop  gRPC interop with grpcio both ways and the HTTP/2 attack suite (part of make test)"
	@echo "make proto  regenerate everything made from proto/ (C code, descriptor sets, Swift stubs)"
	@echo "make fuzz   run the codec and server-session fuzzers (FUZZ_SECONDS each, default 60; or FUZZ_RUNS executions)"
	@echo "make faults the fault harness at length: FAULT_ROUNDS rounds (default 5) of killing timerd, Redis and PostgreSQL under load (one round is part of make test)"
	@echo "make soak   SOAK_SECONDS (default 600) of mixed load with 1,000 watchers: timerd's memory and descriptors and Redis' memory must stay flat"
	@echo "make bench  every benchmark in one run, written to BENCHMARKS.md: codec against protobuf-c; gRPC health calls on timerd against nghttpd and grpcio and timer calls (h2load); timer changes against pgbench; WatchTimers with 1,000 and 10,000 subscribers across instances; timer calls through nginx before one and three instances, on one Redis and on a Redis Cluster"
	@echo "make bench-scale  timer calls through one timerd, nginx before one and three, on one Redis and on a Redis Cluster: calls/s, latency, CPU per call of each process (BENCH_SCALE_SECONDS each, default 10; .run/bench/scale.md)"
	@echo "make profile-rpc  where a health call's CPU goes, timerd beside nghttpd, from perf (needs linux-perf; .run/bench/profile.md)"
	@echo "make bench-smoke  each benchmark for a few seconds on debug builds, checking it runs (.run/bench/smoke.md; part of make test)"
	@echo "make clean  stop the services and remove build output and .run/"

bootstrap:
	@scripts/bootstrap

build: bootstrap
	swift build --build-tests $(SWIFT_BUILD_FLAGS)

services-up: bootstrap
	@scripts/services up

venv: bootstrap
	@scripts/venv

certs: bootstrap
	@scripts/test-certs

services-down:
	@scripts/redis-cluster down
	@scripts/services down

# The tests' Redis Cluster (scripts/redis-cluster): LiveStore's tests run on it
# as well as on the single Redis.
redis-cluster-up: bootstrap
	@scripts/redis-cluster up > /dev/null

# Every suite runs twice in parts (scripts/test-parts says why): under the
# sanitizer, then as built; then the PostgreSQL suites on partitioned tables.
test: build services-up redis-cluster-up venv certs
	@eval "$$(scripts/services env)" && eval "$$(scripts/redis-cluster env)" && scripts/leak-check
	@eval "$$(scripts/services env)" && eval "$$(scripts/redis-cluster env)" && scripts/test-parts $(SWIFT_BUILD_FLAGS)
	@eval "$$(scripts/services env)" && TIMERD_TEST_DATABASE_PARTITIONS=8 swift test --skip-build $(SWIFT_BUILD_FLAGS) --filter '^(StorageTests|RPCServerTests)\.'
	@TIMERD_FAULTS=1 swift test --skip-build $(SWIFT_BUILD_FLAGS) --filter 'TimerdTests.FaultTests'
	@TIMERD_CLUSTER=1 swift test --skip-build $(SWIFT_BUILD_FLAGS) --filter 'TimerdTests.ClusterTests'
	@TIMERD_BINARY="$$(swift build --show-bin-path $(SWIFT_BUILD_FLAGS))/timerd" scripts/examples-test
	@$(MAKE) --no-print-directory interop-only
	@$(MAKE) --no-print-directory bench-smoke-only

# The example packages (examples/), built in debug against this checkout and run
# against a live timerd (scripts/examples-test).
examples: build services-up
	@TIMERD_BINARY="$$(swift build --show-bin-path $(SWIFT_BUILD_FLAGS))/timerd" scripts/examples-test

# gRPC interop with grpcio both ways, and the HTTP/2 attack suite (Tests/interop, pytest).
interop: build venv certs
	@$(MAKE) --no-print-directory interop-only

interop-only:
	PYTHONDONTWRITEBYTECODE=1 INTEROP_BIN_DIR="$$(swift build --show-bin-path $(SWIFT_BUILD_FLAGS))" .run/venv/bin/python -m pytest Tests/interop -q -p no:cacheprovider

proto: bootstrap
	scripts/gen-proto

fuzz: bootstrap
	scripts/fuzz

# The fault harness (Tests/TimerdTests/FaultTests.swift) at length, on its own
# PostgreSQL and Redis under .run/faults/: FAULT_ROUNDS rounds of every fault
# with FAULT_LOAD_SECONDS of load around each, FAULT_RATE calls a second per
# client (0, the default here: as fast as they are answered; make test paces
# them at 20).
faults: build
	@TIMERD_FAULTS=1 TIMERD_FAULT_ROUNDS=$${FAULT_ROUNDS:-5} TIMERD_FAULT_LOAD_SECONDS=$${FAULT_LOAD_SECONDS:-3} TIMERD_FAULT_RATE=$${FAULT_RATE:-0} \
		swift test --skip-build $(SWIFT_BUILD_FLAGS) --filter FaultTests

# The soak (Tests/TimerdTests/FaultTests.swift): SOAK_SECONDS of mixed load with
# 1,000 watchers; memory and descriptors flat after the warm-up, every rule
# holding at the end. Not part of make test.
soak: build
	@TIMERD_SOAK_SECONDS=$${SOAK_SECONDS:-600} swift test --skip-build $(SWIFT_BUILD_FLAGS) --filter soakKeepsMemoryAndDescriptorsFlat

# Every benchmark in one run; the report goes to BENCHMARKS.md (scripts/bench).
bench: bootstrap venv
	scripts/bench

# Timer calls (TimerCycleBench) through one timerd directly, nginx before one
# and before three instances (scripts/cluster), on one Redis and on a Redis
# Cluster (scripts/redis-cluster) where timerd takes one: calls/s, latency and
# the CPU per call of timerd, nginx, PostgreSQL and Redis, into
# .run/bench/scale.md (scripts/bench-scale; also a step of make bench).
bench-scale: bootstrap
	scripts/bench-scale

# Where a unary call's CPU goes on timerd and on nghttpd, by shared object and
# symbol, from perf (scripts/bench-profile, also a step of make bench).
profile-rpc: bootstrap
	scripts/bench-profile

# Each benchmark for a few seconds on debug builds, into .run/bench/smoke.md
# (never BENCHMARKS.md): checks that it runs and gives figures, measures nothing.
bench-smoke: build services-up venv
	@$(MAKE) --no-print-directory bench-smoke-only

bench-smoke-only:
	@BENCH_SMOKE=1 BENCH_TIMERD="$$(swift build --show-bin-path $(SWIFT_BUILD_FLAGS))/timerd" scripts/bench

# Builds timerd, starts the services, serves on 127.0.0.1:50051 with demo records and a
# token, and waits; Ctrl-C stops timerd (scripts/run).
run: bootstrap
	@SWIFT_BUILD_FLAGS="$(SWIFT_BUILD_FLAGS)" scripts/run

clean: services-down
	rm -rf .build .build-fuzz .build-asan .run FuzzTesting/crashes Benchmarks/.build
