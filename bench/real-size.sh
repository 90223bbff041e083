#!/usr/bin/env bash
# A DPO step at a real vocabulary: prefstream (DJL) and the PyTorch eager anchor on the same model and pairs.
# The model is Llama-shaped with Qwen2's vocabulary (151,936; hidden 896, 4 layers, 14 heads / 2 kv heads,
# intermediate 4864, tied embeddings: 196M parameters), 8 pairs of ~24 + ~40 tokens a step.
# Needs: ./mvnw -B -q package -DskipTests; apt-get install -y python3-torch libopenblas0-pthread
# Memory: the two sides run one after the other and each peaks at several GB; run it with >= 16 GB free.
# Usage: bench/real-size.sh [steps]   (default: 3 timed steps after 1 warm-up)
set -euo pipefail
cd "$(dirname "$0")/.."
out=bench-out/real-size
mkdir -p "$out"
[ -f "$out/model/config.json" ] || bin/prefstream init-model --arch llama --vocab 151936 --layers 4 --hidden 896 --heads 14 \
  --kv-heads 2 --intermediate 4864 --max-positions 512 --seed 0 --out "$out/model" > /dev/null
python3 bench/make_pairs.py --vocab 151936 --count 64 --prompt 24 --response 40 --out "$out/pairs.jsonl"
bench/compare.sh qwen-vocab-896h "$out/model" "$out/pairs.jsonl" "${1:-3}" 1
echo "targets: step_time_ratio <= 1.0, peak_rss_ratio <= 0.8"
