#!/usr/bin/env bash
# Reruns every benchmark of docs/benchmarks.md in one go, on an otherwise idle machine:
#   1. PyTorch / onnxruntime / NumPy peers (if a probe_peers.py is given and torch is importable),
#   2. every method of this crate on every size (examples/compare),
#   3. the plot (examples/plot_bench).
# Usage: scripts/bench.sh [PATH/TO/probe_peers.py]    (default scripts/probe_peers.py; outputs in docs/bench/ and docs/images/)
set -euo pipefail
cd "$(dirname "$0")/.."
peers=${1:-scripts/probe_peers.py}
make deps
cargo build --release --features bench --example compare --example plot_bench
if [ -n "$peers" ] && python3 -c 'import torch, onnxruntime' 2>/dev/null; then
  python3 "$peers" --sizes seed,mnist,cifar,wide,big --json-out docs/bench/peers.json --out docs/bench/peers.md
fi
./target/release/examples/compare --size all --peak --min-time 2 > docs/bench/ours.jsonl
args=(docs/bench/ours.jsonl docs/images/bench.svg)
[ -f docs/bench/peers.json ] && args+=(--peers docs/bench/peers.json)
./target/release/examples/plot_bench "${args[@]}"
cat docs/bench/ours.jsonl
