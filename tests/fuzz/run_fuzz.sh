#!/usr/bin/env bash
# Builds the reader's libFuzzer target with clang (the main build may use gcc)
# and runs it for a bounded time on a seed corpus of spec fixtures.
# Usage: run_fuzz.sh SOURCE_DIR WORK_DIR SEEDS_TOOL [SECONDS]
# Exits 77 (ctest: skipped) with a message when clang or libFuzzer is missing.
set -euo pipefail
src=$1 work=$2 seeds_tool=$3 seconds=${4:-${LS_FUZZ_SECONDS:-60}}
mkdir -p "$work"
cd "$work"

clang=${CLANG:-}
if [ -z "$clang" ]; then
  for c in clang clang-16 clang-15 clang-14; do
    if command -v "$c" >/dev/null 2>&1; then clang=$c; break; fi
  done
fi
if [ -z "$clang" ]; then
  echo "fuzz: SKIPPED: clang not found (apt-get install clang to fuzz the reader)"
  exit 77
fi
flags=(-g -O1 -fsanitize=fuzzer,address,undefined -fno-sanitize-recover=undefined)
echo 'int LLVMFuzzerTestOneInput(const char *d, unsigned long n) { return d && n; }' > probe.c
if ! "$clang" "${flags[@]}" probe.c -o probe >probe.log 2>&1; then
  echo "fuzz: SKIPPED: $clang cannot build a libFuzzer target:"
  sed 's/^/  /' probe.log
  exit 77
fi

fmt=$src/tracer/format
"$clang" "${flags[@]}" -std=gnu17 -Wall -Wextra -I"$fmt/include" \
  "$src/tests/fuzz/fuzz_reader.c" "$fmt/src/reader.c" "$fmt/src/writer.c" \
  "$fmt/src/vocab.c" -o fuzz_reader

rm -rf seeds && "$seeds_tool" seeds
mkdir -p corpus artifacts
echo "fuzz: running the reader for ${seconds}s ($(ls seeds | wc -l) seeds)"
ASAN_OPTIONS=detect_leaks=1 ./fuzz_reader -max_total_time="$seconds" \
  -timeout=10 -rss_limit_mb=1024 -max_len=65536 -print_final_stats=1 \
  -artifact_prefix=artifacts/ corpus seeds
