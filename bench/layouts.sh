#!/usr/bin/env bash
# What each batch layout gives: `prefstream bench step --layout padded|shared|packed` back to back on
# the small shapes of bench/step.sh (run it first: it makes the model folders and pairs), prefstream
# only, 2 threads. padded is the textbook batch (each response after its own copy of the prompt, as
# the PyTorch anchor); shared computes each prompt once; packed also puts several examples in a row.
# Usage: bench/layouts.sh [steps]   (default 10 timed steps after 2 warm-ups)
set -euo pipefail
cd "$(dirname "$0")/.."
steps="${1:-10}"
out=bench-out/step
for shape in "gpt2-padding-heavy gpt2-260 padding-heavy" "llama-long-prompts llama-1024 long-prompts" "gpt2-24+40 gpt2-512 pairs"; do
  read -r name model pairs <<< "$shape"
  if [ ! -f "$out/$model/config.json" ]; then
    echo "[$name] skipped: run bench/step.sh first"
    continue
  fi
  for layout in padded shared packed; do
    result=$(bin/prefstream bench step --model "$out/$model" --pairs "$out/$pairs.jsonl" --batch 8 --steps "$steps" --warmup 2 --layout "$layout" 2>/dev/null | grep '^RESULT')
    echo "[$name] $result"
  done
done
