#!/usr/bin/env bash
# Times one DPO step shape on both sides, each at its best on this 2-core machine (prefstream as the
# trainer runs it: two workers of one PyTorch thread each on small models, one worker of PyTorch's
# default threads otherwise; Debian's PyTorch 1 thread, whose OpenBLAS then uses both cores), and
# prints both RESULT lines and the ratios. Used by step.sh and real-size.sh.
# Usage: bench/compare.sh NAME MODEL_DIR PAIRS_FILE STEPS WARMUP [anchor.py]
set -euo pipefail
cd "$(dirname "$0")/.."
name="$1" model="$2" pairs="$3" steps="$4" warmup="$5"
anchor="${6:-../shared/anchors/torch_dpo_step.py}"
ours=$(bin/prefstream bench step --model "$model" --pairs "$pairs" --batch 8 --steps "$steps" --warmup "$warmup" 2>/dev/null | grep '^RESULT')
echo "[$name] prefstream (DJL): $ours"
if ! /usr/bin/python3 -c 'import torch' 2>/dev/null; then
  echo "[$name] anchor skipped: /usr/bin/python3 has no torch (apt-get install -y python3-torch libopenblas0-pthread)"
  exit 0
fi
theirs=$(/usr/bin/python3 "$anchor" --model "$model" --pairs "$pairs" --batch 8 --steps "$steps" --warmup "$warmup" --threads 1 | grep '^RESULT')
echo "[$name] PyTorch eager, threads=1: $theirs"
field() { sed -n "s/.* $1=\([0-9.]*\).*/\1/p" <<< " $2"; }
python3 - "$name" "$(field ms_per_step "$ours")" "$(field ms_per_step "$theirs")" "$(field peak_rss_mib "$ours")" "$(field peak_rss_mib "$theirs")" <<'PY'
import sys
name = sys.argv[1]
ours_ms, theirs_ms, ours_rss, theirs_rss = map(float, sys.argv[2:])
print("RESULT shape=%s step_time_ratio=%.2f peak_rss_ratio=%.2f ms_per_step=%.0f/%.0f peak_rss_mib=%d/%d (prefstream/PyTorch)"
      % (name, ours_ms / theirs_ms, ours_rss / theirs_rss, ours_ms, theirs_ms, ours_rss, theirs_rss))
PY
