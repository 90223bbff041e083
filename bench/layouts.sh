#!/usr/bin/env bash
# What each technique gives: on the small shapes of bench/step.sh (run it first: it makes the model folders
# and pairs), back to back, the PyTorch eager anchor (1 thread, as in step.sh) and `prefstream bench step` with
# --layout padded (the textbook batch: each response after its own copy of the prompt, as the anchor), shared
# (each prompt once), packed (the default: also several examples a row), then packed on one worker of two
# intra-op threads instead of the default two workers of one thread each.
# Usage: bench/layouts.sh [steps] [rounds]   (default 10 timed steps after 2 warm-ups, 2 rounds)
set -euo pipefail
cd "$(dirname "$0")/.."
steps="${1:-10}"
rounds="${2:-2}"
out=bench-out/step
for round in $(seq "$rounds"); do
  for shape in "gpt2-padding-heavy gpt2-260 padding-heavy" "llama-long-prompts llama-1024 long-prompts" "gpt2-24+40 gpt2-512 pairs"; do
    read -r name model pairs <<< "$shape"
    if [ ! -f "$out/$model/config.json" ]; then
      echo "[$name] skipped: run bench/step.sh first"
      continue
    fi
    if /usr/bin/python3 -c 'import torch' 2>/dev/null; then
      result=$(/usr/bin/python3 ../shared/anchors/torch_dpo_step.py --model "$out/$model" --pairs "$out/$pairs.jsonl" --batch 8 --steps "$steps" --warmup 2 --threads 1 | grep '^RESULT')
      echo "[$name] round $round PyTorch eager: $result"
    fi
    for variant in "padded --layout padded" "shared --layout shared" "packed --layout packed" "packed,one-worker --layout packed --workers 1"; do
      read -r label args <<< "$variant"
      # shellcheck disable=SC2086 # args is a list of options
      result=$(bin/prefstream bench step --model "$out/$model" --pairs "$out/$pairs.jsonl" --batch 8 --steps "$steps" --warmup 2 $args 2>/dev/null | grep '^RESULT')
      echo "[$name] round $round $label: $result"
    done
  done
done
