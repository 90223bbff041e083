#!/usr/bin/env bash
# The DPO step benchmark: prefstream (DJL) and the PyTorch eager anchor on the same model folders and
# pairs, four shapes, each side at its best thread count; per shape both RESULT lines and the ratios.
# Needs: ./mvnw -B -q package -DskipTests; for the anchor, apt-get install -y python3-torch libopenblas0-pthread
# Usage: bench/step.sh [steps] [small|all] [rounds]   (default 10 timed steps after 2 warm-ups; the Qwen-vocabulary
#        shape 3 after 1; "small" skips the Qwen-vocabulary shape, e.g. while another run holds the memory; rounds:
#        how many times compare.sh alternates the two sides on each small shape, default 3, the Qwen shape once)
set -euo pipefail
cd "$(dirname "$0")/.."
steps="${1:-10}"
only_small="${2:-}"
rounds="${3:-3}"
out=bench-out/step
mkdir -p "$out"
model() { # name, init-model arguments...
  local dir="$out/$1"; shift
  [ -f "$dir/config.json" ] || bin/prefstream init-model "$@" --seed 0 --out "$dir" > /dev/null
}
model gpt2-260 --arch gpt2 --vocab 260 --layers 4 --hidden 256 --heads 4 --max-positions 256
python3 bench/make_pairs.py --vocab 260 --count 64 --prompt-range 16-48 --response-range 32-96 --out "$out/padding-heavy.jsonl"
bench/compare.sh gpt2-padding-heavy "$out/gpt2-260" "$out/padding-heavy.jsonl" "$steps" 2 "$rounds"

model llama-1024 --arch llama --vocab 1024 --layers 4 --hidden 256 --heads 4 --kv-heads 2 --max-positions 256
python3 bench/make_pairs.py --vocab 1024 --count 64 --prompt-range 64-128 --response-range 16-48 --out "$out/long-prompts.jsonl"
bench/compare.sh llama-long-prompts "$out/llama-1024" "$out/long-prompts.jsonl" "$steps" 2 "$rounds"

if [ "$only_small" = small ]; then
  echo "[llama-qwen-vocab] skipped: small shapes only"
elif [ "$(awk '/MemAvailable/ {print int($2 / 1048576)}' /proc/meminfo)" -ge 16 ]; then
  model llama-qwen-vocab --arch llama --vocab 151936 --layers 4 --hidden 896 --heads 14 --kv-heads 2 --intermediate 4864 --max-positions 512
  python3 bench/make_pairs.py --vocab 151936 --count 64 --prompt 24 --response 40 --out "$out/qwen-vocab.jsonl"
  bench/compare.sh llama-qwen-vocab "$out/llama-qwen-vocab" "$out/qwen-vocab.jsonl" 3 1
else
  echo "[llama-qwen-vocab] skipped: needs 16 GB available"
fi

model gpt2-512 --arch gpt2 --vocab 512 --layers 4 --hidden 256 --heads 4 --max-positions 128
python3 bench/make_pairs.py --vocab 512 --count 64 --prompt 24 --response 40 --out "$out/pairs.jsonl"
bench/compare.sh gpt2-24+40 "$out/gpt2-512" "$out/pairs.jsonl" "$steps" 2 "$rounds"
