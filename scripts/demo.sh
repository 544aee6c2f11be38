#!/usr/bin/env bash
# make demo: record the bundled tour, export it to Chrome JSON, print the
# report, then open the viewer (or, with no display, write a PNG).
set -euo pipefail
build=${1:-build}
cd "$(dirname "$0")/.."
ls=$build/tracer/cli/loopscope
out=$build/demo
mkdir -p "$out"
"$ls" record -o "$out/demo.fxt" -- "$build/runtime/examples/tour"
"$ls" export "$out/demo.fxt" -o "$out/demo.json"
"$ls" report "$out/demo.fxt"
if [ -n "${DISPLAY:-}" ]; then
  exec "$ls" view "$out/demo.fxt"
fi
"$ls" view "$out/demo.fxt" --screenshot "$out/demo.png"
echo
echo "No display: the trace is $out/demo.fxt, the Chrome JSON $out/demo.json"
echo "(open it in Perfetto or chrome://tracing), the timeline picture $out/demo.png."
