#!/usr/bin/env bash
# LoRA vs full fine-tuning: peak RSS and step time of DPO steps on the same ~25M-parameter Llama and
# batch, each in its own JVM so each peak is its own. Needs: ./mvnw -B -q package -DskipTests
# Usage: bench/lora.sh
set -euo pipefail
cd "$(dirname "$0")/.."
out=bench-out
mkdir -p "$out"
[ -f "$out/llama25m/config.json" ] || bin/prefstream init-model --arch llama --vocab 4096 --layers 6 --hidden 512 --heads 8 \
  --intermediate 1536 --max-positions 256 --tie-embeddings false --seed 0 --out "$out/llama25m" > /dev/null
python3 bench/make_pairs.py --vocab 4096 --count 64 --prompt 24 --response 40 --out "$out/pairs4096.jsonl"
for mode in full lora; do
  echo "$mode fine-tuning"
  bin/prefstream bench step --model "$out/llama25m" --pairs "$out/pairs4096.jsonl" --batch 8 --steps 8 --warmup 2 \
    $([ "$mode" = lora ] && echo --lora) 2>/dev/null | grep RESULT
done
