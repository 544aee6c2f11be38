#!/usr/bin/env bash
# Runs the whole test suite: an optimised build, an ASan+UBSan build and a
# valgrind pass over the tests that can run under it (label "novalgrind" marks
# those that cannot: fuzzing, kill -9 timing, eBPF, GUI).
set -euo pipefail
cd "$(dirname "$0")/.."
jobs=$(nproc)
step() { printf '\n== %s\n' "$*"; }

configure_build() { # dir, extra cmake flags...
  local dir=$1; shift
  cmake -S . -B "$dir" -DCMAKE_BUILD_TYPE=RelWithDebInfo "$@" >/dev/null
  cmake --build "$dir" -j "$jobs"
}

status=0
step "build (RelWithDebInfo)"
configure_build build
step "tests"
ctest --test-dir build --output-on-failure || status=1

step "build (ASan+UBSan)"
configure_build build-asan -DLS_SANITIZE=ON -DLS_BPF=OFF
step "tests under ASan+UBSan"
ASAN_OPTIONS=detect_leaks=1:abort_on_error=0 UBSAN_OPTIONS=print_stacktrace=1:halt_on_error=1 \
  ctest --test-dir build-asan --output-on-failure -LE nosanitize || status=1

step "build (Release, as make bench builds it: -O3 warns about other things)"
configure_build build-bench -DCMAKE_BUILD_TYPE=Release || status=1

step "tests under valgrind"
configure_build build-valgrind -DLS_VALGRIND=ON -DLS_BPF=OFF -DLS_VIEWER=OFF
ctest --test-dir build-valgrind --output-on-failure -LE novalgrind || status=1

if [ $status -eq 0 ]; then step "all test passes succeeded"; else step "some tests FAILED"; fi
exit $status
