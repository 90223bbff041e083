#!/usr/bin/env bash
# Full fine-tuning of a 335M-parameter model, end to end, with the launcher's default heap: a Llama
# with Qwen2's vocabulary (151,936) and an UNTIED head (hidden 1024, 4 layers, 16 heads / 2 kv heads,
# intermediate 1280), a local broker, ingest and the trainer as separate processes, as the README's
# "On one machine" section runs them. Two pairs go in as JSON; the trainer makes one step and publishes
# checkpoint v1 (weights and AdamW state, ~4 GB); then `checkpoints get` fetches its serving folder,
# verifying every chunk and file hash, and those files are compared with what the trainer wrote.
# Needs: ./mvnw -B -q package -DskipTests; kcat; ~10 GB of free memory and ~15 GB of disk.
# Prints: RESULT shape=llama-qwen-vocab-335m-untied params=.. time_to_first_checkpoint_s=.. checkpoint_bytes=..
#         fetched_bytes=.. trainer_peak_rss_mib=.. get_peak_rss_mib=.. get_s=.. hash_check=OK|FAILED
# (checkpoint_bytes: weights and AdamW state as published; fetched_bytes: the serving folder that `get` writes)
set -euo pipefail
cd "$(dirname "$0")/.."
out=bench-out/real-size-checkpoint
port="${BROKER_PORT:-19292}" registry="${REGISTRY_PORT:-18281}"
rm -rf "$out/run" && mkdir -p "$out/run"
run="$out/run"
pids=()
cleanup() { for p in "${pids[@]}"; do kill "$p" 2> /dev/null || true; done; wait 2> /dev/null || true; }
trap cleanup EXIT

[ -f "$out/model/config.json" ] || bin/prefstream init-model --arch llama --vocab 151936 --layers 4 --hidden 1024 --heads 16 \
  --kv-heads 2 --intermediate 1280 --max-positions 512 --tie-embeddings false --seed 0 --out "$out/model" > "$out/init-model.json"

bin/prefstream broker --port "$port" --schema-registry-port "$registry" --dir "$run/kafka" > "$run/broker.log" 2>&1 &
pids+=($!)
timeout 120 bash -c "until grep -q 'schema registry:' '$run/broker.log'; do sleep 1; done"
bin/prefstream topics create --bootstrap "localhost:$port" > /dev/null

cat > "$run/ingest.properties" <<EOF
bootstrap.servers=localhost:$port
schema.registry.url=http://localhost:$registry
state.dir=$run/ingest-state
metrics.port=-1
EOF
cat > "$run/trainer.properties" <<EOF
bootstrap.servers=localhost:$port
schema.registry.url=http://localhost:$registry
model.name=big
model.dir=$out/model
batch.pairs=2
checkpoint.steps=1
max.length=64
eval.fraction=0
metrics.port=-1
EOF
echo "schema.registry.url=http://localhost:$registry" > "$run/client.properties"

bin/prefstream ingest --config "$run/ingest.properties" > "$run/ingest.log" 2>&1 &
pids+=($!)
start=$(date +%s.%N)
bin/prefstream train --config "$run/trainer.properties" --work-dir "$run/trainer-work" > "$run/trainer.log" 2>&1 &
trainer=$!
pids+=($trainer)
for i in 1 2; do
  echo "{\"event_id\":\"e$i\",\"prompt\":\"Write a short review of the film $i.\",\"chosen\":\"A warm, funny and clever film.\",\"rejected\":\"Bad.\"}"
done | kcat -P -b "localhost:$port" -t feedback.pairs
until grep -q 'checkpoint v1 at step' "$run/trainer.log"; do
  if ! kill -0 "$trainer" 2> /dev/null; then echo "trainer stopped:"; tail -20 "$run/trainer.log"; exit 1; fi
  sleep 1
done
end=$(date +%s.%N)
trainer_rss=$(($(sed -n 's/^VmHWM:\s*\([0-9]*\) kB/\1/p' "/proc/$trainer/status") / 1024))
kill "$trainer"
wait "$trainer" 2> /dev/null || true

get_start=$(date +%s.%N)
/usr/bin/time -v bin/prefstream checkpoints get --bootstrap "localhost:$port" --consumer-config "$run/client.properties" \
  --model big --out "$run/fetched" > "$run/get.log" 2> "$run/get.time"
get_end=$(date +%s.%N)
get_rss=$(($(sed -n 's/.*Maximum resident set size (kbytes): \([0-9]*\)/\1/p' "$run/get.time") / 1024))

# what `checkpoints get` wrote (the serving folder) against what the trainer published, file by file
(cd "$run/trainer-work/publish/1/model" && sha256sum * | sort -k2) > "$run/published.sha256"
(cd "$run/fetched/1" && sha256sum * | sort -k2) > "$run/fetched.sha256"
check=FAILED
cmp -s "$run/published.sha256" "$run/fetched.sha256" && check=OK
bytes=$(du -sb "$run/trainer-work/publish/1" | cut -f1)   # serving folder and trainer state (AdamW moments)
fetched=$(du -sb "$run/fetched/1" | cut -f1)
params=$(sed -n 's/.*"parameters":\([0-9]*\).*/\1/p' "$out/init-model.json" 2> /dev/null || true)
python3 - "$start" "$end" "$get_start" "$get_end" "$bytes" "$trainer_rss" "$get_rss" "$check" "${params:-?}" "$fetched" <<'PY'
import sys
start, end, gs, ge = map(float, sys.argv[1:5])
print("RESULT shape=llama-qwen-vocab-335m-untied params=%s time_to_first_checkpoint_s=%.0f checkpoint_bytes=%s fetched_bytes=%s trainer_peak_rss_mib=%s get_peak_rss_mib=%s get_s=%.0f hash_check=%s"
      % (sys.argv[9], end - start, sys.argv[5], sys.argv[10], sys.argv[6], sys.argv[7], ge - gs, sys.argv[8]))
PY
