#!/usr/bin/env bash
# Runs every benchmark of a build. Each prints one line per figure:
#   name  ours  theirs  ratio
# with both sides measured in this same run.
set -uo pipefail
build=${1:-build-bench}
cd "$(dirname "$0")/.."
found=0
printf '%-44s %14s %14s %8s\n' name ours theirs ratio
for b in $(find "$build/bench" -maxdepth 2 -type f -name 'bench_*' -perm -u+x | sort); do
  found=1
  "$b" || echo "bench: $(basename "$b") failed (exit $?)" >&2
done
[ $found -eq 1 ] || { echo "bench: no benchmarks built in $build/bench" >&2; exit 1; }
