#!/usr/bin/env bash
# A DPO step at a real vocabulary: prefstream (DJL) and the PyTorch eager anchor on the same model and pairs.
# The model is Llama-shaped with Qwen2's vocabulary (151,936; hidden 896, 4 layers, 14 heads / 2 kv heads,
# intermediate 4864, tied embeddings: 196M parameters), 8 pairs of ~24 + ~40 tokens a step.
# Needs: ./mvnw -B -q package -DskipTests; apt-get install -y python3-torch libopenblas0-pthread
# Memory: each side peaks at several GB; run it with >= 16 GB free.
# Usage: bench/real-size.sh [steps] [anchor.py]   (defaults: 3 timed steps after 1 warm-up; ../shared/anchors/torch_dpo_step.py)
set -euo pipefail
cd "$(dirname "$0")/.."
steps="${1:-3}"
anchor="${2:-../shared/anchors/torch_dpo_step.py}"
out=bench-out/real-size
mkdir -p "$out"
vocab=151936
[ -f "$out/model/config.json" ] || bin/prefstream init-model --arch llama --vocab "$vocab" --layers 4 --hidden 896 --heads 14 \
  --kv-heads 2 --intermediate 4864 --max-positions 512 --seed 0 --out "$out/model" > /dev/null
python3 bench/make_pairs.py --vocab "$vocab" --count 64 --prompt 24 --response 40 --out "$out/pairs.jsonl"
# each side at its best thread count on this 2-core machine: prefstream 2, Debian's PyTorch 1 (its OpenBLAS uses both cores)
ours=$(bin/prefstream bench step --model "$out/model" --pairs "$out/pairs.jsonl" --batch 8 --steps "$steps" --warmup 1 --threads 2 2>/dev/null | grep '^RESULT')
echo "prefstream (DJL), threads=2: $ours"
theirs=$(/usr/bin/python3 "$anchor" --model "$out/model" --pairs "$out/pairs.jsonl" --batch 8 --steps "$steps" --warmup 1 --threads 1 | grep '^RESULT')
echo "PyTorch eager anchor, threads=1: $theirs"
field() { sed -n "s/.*$1=\([0-9.]*\).*/\1/p" <<< "$2"; }
python3 - "$(field ms_per_step "$ours")" "$(field ms_per_step "$theirs")" "$(field peak_rss_mib "$ours")" "$(field peak_rss_mib "$theirs")" <<'PY'
import sys
ours_ms, theirs_ms, ours_rss, theirs_rss = map(float, sys.argv[1:])
print("RESULT real_size step_time_ratio=%.2f peak_rss_ratio=%.2f (prefstream / PyTorch eager; targets <= 1.0 and <= 0.8)"
      % (ours_ms / theirs_ms, ours_rss / theirs_rss))
PY
