#!/usr/bin/env bash
# GPU throughput of a DPO step at a real size: tokens/s and MFU against the GPU's dense TF32 peak,
# full fine-tuning and LoRA (r 8 on the attention projections), on the Qwen-vocabulary Llama shape
# (151,936 vocab, hidden 896, 4 layers, 14 heads / 2 kv heads, 196M parameters), 16 pairs a step.
# Needs a CUDA build of libtorch 2.7.1 that DJL loads (see the README's GPU section) and nvidia-smi.
# MFU counts model FLOPs per trained token: full 8N (policy forward 2N + backward 4N, reference
# forward 2N), LoRA 6N (no weight gradients of the base), N = the base's parameters.
# Matmuls run in TF32 (TORCH_ALLOW_TF32_CUBLAS_OVERRIDE=1 unless already set); PEAK_TFLOPS overrides the table.
# Status: written without a GPU machine; not yet run.
set -euo pipefail
cd "$(dirname "$0")/.."
command -v nvidia-smi > /dev/null || { echo "gpu.sh: nvidia-smi not found; this benchmark needs an NVIDIA GPU" >&2; exit 2; }
gpu=$(nvidia-smi --query-gpu=name --format=csv,noheader | head -1)
case "$gpu" in # dense TF32 tensor-core peaks, TFLOPS (NVIDIA data sheets; sparsity figures halved)
  *H100*|*H200*|*GH200*) table=494.7 ;;
  *A100*) table=156 ;;
  *L40S*) table=183 ;;
  *L4*) table=60 ;;
  *A10*) table=62.5 ;;
  *) table= ;;
esac
peak="${PEAK_TFLOPS:-$table}"
[ -n "$peak" ] || { echo "gpu.sh: no TF32 peak known for '$gpu'; set PEAK_TFLOPS" >&2; exit 2; }
export TORCH_ALLOW_TF32_CUBLAS_OVERRIDE="${TORCH_ALLOW_TF32_CUBLAS_OVERRIDE:-1}"
out=bench-out/gpu
mkdir -p "$out"
[ -f "$out/model/config.json" ] || bin/prefstream init-model --arch llama --vocab 151936 --layers 4 --hidden 896 --heads 14 \
  --kv-heads 2 --intermediate 4864 --max-positions 512 --seed 0 --out "$out/model" > /dev/null
python3 bench/make_pairs.py --vocab 151936 --count 256 --prompt 24 --response 40 --out "$out/pairs.jsonl"
field() { sed -n "s/.*$1=\([0-9.]*\).*/\1/p" <<< "$2"; }
full=$(bin/prefstream bench step --model "$out/model" --pairs "$out/pairs.jsonl" --batch 16 --steps 20 --warmup 3 2>/dev/null | grep '^RESULT')
lora=$(bin/prefstream bench step --model "$out/model" --pairs "$out/pairs.jsonl" --batch 16 --steps 20 --warmup 3 --lora 2>/dev/null | grep '^RESULT')
echo "full: $full"
echo "lora: $lora"
python3 - "$gpu" "$peak" "$(field trainable_params "$full")" "$(field tokens_per_s "$full")" "$(field tokens_per_s "$lora")" <<'PY'
import sys
gpu, peak, n, full, lora = sys.argv[1], float(sys.argv[2]), float(sys.argv[3]), float(sys.argv[4]), float(sys.argv[5])
for mode, tokens, flops in (("full", full, 8 * n), ("lora", lora, 6 * n)):
    print("RESULT gpu=%r mode=%s tokens_per_s=%.0f mfu_tf32=%.3f peak_tflops=%.1f" % (gpu, mode, tokens, tokens * flops / (peak * 1e12), peak))
PY
