#!/usr/bin/env bash
# The DPO step benchmark: prefstream (DJL) and the PyTorch eager anchor on the same model and pairs.
# Needs: ./mvnw -B -q package -DskipTests; for the anchor, apt-get install -y python3-torch libopenblas0-pthread
# Usage: bench/step.sh [anchor.py]   (default anchor: ../shared/anchors/torch_dpo_step.py)
set -euo pipefail
cd "$(dirname "$0")/.."
anchor="${1:-../shared/anchors/torch_dpo_step.py}"
out=bench-out
mkdir -p "$out"
[ -f "$out/model/config.json" ] || bin/prefstream init-model --arch gpt2 --vocab 512 --layers 4 --hidden 256 --heads 4 \
  --max-positions 128 --seed 0 --out "$out/model" > /dev/null
python3 bench/make_pairs.py --vocab 512 --count 64 --prompt 24 --response 40 --out "$out/pairs.jsonl"
for threads in 1 2; do
  echo "prefstream (DJL), threads=$threads"
  bin/prefstream bench step --model "$out/model" --pairs "$out/pairs.jsonl" --batch 8 --steps 20 --threads "$threads" 2>/dev/null
done
if [ -x /usr/bin/python3 ] && /usr/bin/python3 -c 'import torch' 2>/dev/null; then
  for threads in 1 2; do
    echo "PyTorch eager anchor, threads=$threads"
    /usr/bin/python3 "$anchor" --model "$out/model" --pairs "$out/pairs.jsonl" --batch 8 --steps 20 --threads "$threads" | grep RESULT
  done
else
  echo "anchor skipped: /usr/bin/python3 has no torch (apt-get install -y python3-torch libopenblas0-pthread)"
fi
