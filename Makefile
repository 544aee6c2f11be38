# Thin wrapper over CMake. `make demo` and `make test` work on a fresh Debian 12
# machine as root: both install what is missing first.
JOBS   ?= $(shell nproc)
BUILD  ?= build
CMAKE_FLAGS ?=
LS     := $(BUILD)/tracer/cli/loopscope
DEMO   := $(BUILD)/demo

.PHONY: all deps build test test-release test-asan test-valgrind demo bench clean

all: build

deps:
	@bash scripts/deps.sh

build: deps
	cmake -S . -B $(BUILD) -DCMAKE_BUILD_TYPE=RelWithDebInfo $(CMAKE_FLAGS) >/dev/null
	cmake --build $(BUILD) -j $(JOBS)

# Every test, three ways: optimised, ASan+UBSan, and under valgrind.
test: deps
	@bash scripts/test.sh

demo: build
	@bash scripts/demo.sh $(BUILD)

bench: deps
	cmake -S . -B build-bench -DCMAKE_BUILD_TYPE=Release $(CMAKE_FLAGS) >/dev/null
	cmake --build build-bench -j $(JOBS)
	@bash bench/run.sh build-bench

clean:
	rm -rf $(BUILD) build-asan build-valgrind build-bench
