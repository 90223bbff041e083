#!/usr/bin/env bash
# Times one DPO step shape on both sides, each at its best on this 2-core machine (prefstream as the
# trainer runs it: two workers of one PyTorch thread each on small models, one worker of PyTorch's
# default threads otherwise; Debian's PyTorch 1 thread, whose OpenBLAS then uses both cores), and
# prints both RESULT lines and the ratios. Used by step.sh and real-size.sh.
# The machine's own speed moves by up to ~30% within minutes, more than a change being measured, so
# with ROUNDS > 1 the sides alternate, each round timing both back to back: the ratio printed is the
# median of the rounds' ratios, the times each side's median, the peak RSS each side's largest.
# Usage: bench/compare.sh NAME MODEL_DIR PAIRS_FILE STEPS WARMUP [ROUNDS] [anchor.py]
set -euo pipefail
cd "$(dirname "$0")/.."
name="$1" model="$2" pairs="$3" steps="$4" warmup="$5" rounds="${6:-1}"
anchor="${7:-../shared/anchors/torch_dpo_step.py}"
[[ "$rounds" =~ ^[1-9][0-9]*$ ]] || { echo "compare.sh: ROUNDS must be a whole number >= 1, got '$rounds'" >&2; exit 2; }
field() { sed -n "s/.* $1=\([0-9.]*\).*/\1/p" <<< " $2"; }
measured=()
mkdir -p bench-out/logs
for round in $(seq "$rounds"); do
  log="bench-out/logs/$name.round$round.log"   # the JVM's own lines, kept for a round that fails
  ours=$(bin/prefstream bench step --model "$model" --pairs "$pairs" --batch 8 --steps "$steps" --warmup "$warmup" 2>"$log" | grep '^RESULT') \
    || { echo "[$name] round $round/$rounds: prefstream printed no RESULT; see $log" >&2; exit 1; }
  echo "[$name] round $round/$rounds prefstream (DJL): $ours"
  if ! /usr/bin/python3 -c 'import torch' 2>/dev/null; then
    echo "[$name] anchor skipped: /usr/bin/python3 has no torch (apt-get install -y python3-torch libopenblas0-pthread)"
    exit 0
  fi
  theirs=$(/usr/bin/python3 "$anchor" --model "$model" --pairs "$pairs" --batch 8 --steps "$steps" --warmup "$warmup" --threads 1 | grep '^RESULT')
  echo "[$name] round $round/$rounds PyTorch eager, threads=1: $theirs"
  measured+=("$(field ms_per_step "$ours") $(field ms_per_step "$theirs") $(field peak_rss_mib "$ours") $(field peak_rss_mib "$theirs")")
done
python3 - "$name" "${measured[@]}" <<'PY'
import statistics, sys
name = sys.argv[1]
rounds = [[float(x) for x in r.split()] for r in sys.argv[2:]]
ours_ms, theirs_ms, ours_rss, theirs_rss = zip(*rounds)
ratios = [o / t for o, t in zip(ours_ms, theirs_ms)]
print("RESULT shape=%s step_time_ratio=%.2f peak_rss_ratio=%.2f ms_per_step=%.0f/%.0f peak_rss_mib=%d/%d rounds=%d round_ratios=%s (prefstream/PyTorch)"
      % (name, statistics.median(ratios), max(ours_rss) / max(theirs_rss), statistics.median(ours_ms), statistics.median(theirs_ms),
         max(ours_rss), max(theirs_rss), len(rounds), ",".join("%.2f" % r for r in ratios)))
PY
