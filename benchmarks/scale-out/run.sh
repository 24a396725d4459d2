#!/usr/bin/env bash
# Scale-out simulation on one machine: three Sluice replicas on loopback behind HAProxy
# (haproxy.cfg: round-robin vs. session affinity on X-Session-Id), driven by bin/bench.
#
#   benchmarks/scale-out/run.sh [OUT_DIR]     (needs haproxy: apt-get install haproxy)
#
# For each workload (multi-turn, shared-prefix) and policy, the replicas are restarted (empty
# prefix caches), bin/bench sends the same seeded requests through the policy's frontend, and the
# replicas' /metrics give the prefix-cache hit rate (tokens served from cache / tokens looked up).
# Then a failure run: round-robin, multi-turn, one replica killed (SIGKILL) mid-run; bin/bench's
# failures are compared with the requests that replica held when it died.
# Each replica: the generated tiny-qwen2 model (random weights), 1 thread, a KV cache of 4096
# tokens: less than the 16 conversations' histories together, as on a real cluster where the
# sessions outnumber what one replica's KV cache holds.
set -euo pipefail
here="$(cd "$(dirname "$0")" && pwd)"
root="$(cd "$here/../.." && pwd)"
out="${1:-$root/benchmarks/results/scale-out}"
mkdir -p "$out"
command -v haproxy >/dev/null || { echo "haproxy is needed (apt-get install haproxy)" >&2; exit 1; }
CONCURRENCY="${CONCURRENCY:-6}"
BASE="${PORT_BASE:-38080}"  # round-robin frontend; sticky BASE+10; replicas BASE+1..3
R=("" $((BASE + 1)) $((BASE + 2)) $((BASE + 3)))
for port in "$BASE" $((BASE + 10)) "${R[1]}" "${R[2]}" "${R[3]}"; do
  ! ss -ltn | grep -q ":$port " || { echo "port $port is in use: set PORT_BASE" >&2; exit 1; }
done
REQUESTS="${REQUESTS:-96}"
pids=()
haproxy_pid=""
stop_replicas() {
  for p in "${pids[@]}"; do kill -TERM "$p" 2>/dev/null || true; done
  for p in "${pids[@]}"; do wait "$p" 2>/dev/null || true; done
  pids=()
}
cleanup() { stop_replicas; [ -n "$haproxy_pid" ] && kill "$haproxy_pid" 2>/dev/null; true; }
trap cleanup EXIT

start_replicas() {
  for i in 1 2 3; do
    "$root/bin/server" --port "${R[$i]}" --demo-preset tiny-qwen2 --threads 1 --kv-cache-tokens 4096 \
      --max-model-len 2048 --shutdown-drain-seconds 2 > "$out/replica$i.log" 2>&1 &
    pids+=($!)
  done
  for i in 1 2 3; do
    for _ in $(seq 1 180); do
      curl -fs "http://127.0.0.1:${R[$i]}/health/ready" >/dev/null 2>&1 && break
      kill -0 "${pids[$((i - 1))]}" 2>/dev/null || { tail "$out/replica$i.log"; exit 1; }
      sleep 1
    done
    curl -fs "http://127.0.0.1:${R[$i]}/health/ready" >/dev/null || { tail "$out/replica$i.log"; exit 1; }
  done
  sleep 2 # HAProxy's checks see them up (rise 2 x 0.5 s)
}

metric() { # metric PORT NAME: the sum of a family's samples on one replica
  curl -fs "http://127.0.0.1:$1/metrics" | awk -v n="$2" '$1 ~ "^"n"(\\{|$)" {s += $2} END {print s+0}'
}

hit_rate() { # prints "hits queries per-replica-queries"
  local hits=0 queries=0 per=""
  for i in 1 2 3; do
    h=$(metric "${R[$i]}" sluice:prefix_cache_hits_total); q=$(metric "${R[$i]}" sluice:prefix_cache_queries_total)
    hits=$((hits + ${h%.*})); queries=$((queries + ${q%.*})); per="$per ${q%.*}"
  done
  echo "$hits $queries$per"
}

sed -e "s/@RR@/$BASE/" -e "s/@STICKY@/$((BASE + 10))/" -e "s/@R1@/${R[1]}/" -e "s/@R2@/${R[2]}/" \
  -e "s/@R3@/${R[3]}/" "$here/haproxy.cfg" > "$out/haproxy.cfg"
haproxy -f "$out/haproxy.cfg" -db > "$out/haproxy.log" 2>&1 &
haproxy_pid=$!
"$root/bin/bench" --help >/dev/null # builds the jar once

summary="$out/summary.tsv"
printf 'workload\tpolicy\tprefix_hits\tprefix_queries\tqueries_r1\tqueries_r2\tqueries_r3\n' > "$summary"
for workload in multi-turn shared-prefix; do
  for policy in rr sticky; do
    port=$BASE; [ "$policy" = sticky ] && port=$((BASE + 10))
    start_replicas
    echo "[scale-out] $workload via $policy" >&2
    "$root/bin/bench" --base-url "http://127.0.0.1:$port" --workload "$workload" --concurrency "$CONCURRENCY" \
      --num-requests "$REQUESTS" --vocab-max 4000 --seed 11 --session-header X-Session-Id \
      --label "$workload-$policy" --out "$out/$workload-$policy.json" --markdown "$out/$workload-$policy.md" \
      --no-progress > "$out/$workload-$policy.txt" 2>&1
    read -r hits queries q1 q2 q3 <<< "$(hit_rate)"
    printf '%s\t%s\t%s\t%s\t%s\t%s\t%s\n' "$workload" "$policy" "$hits" "$queries" "$q1" "$q2" "$q3" >> "$summary"
    stop_replicas
  done
done

echo "[scale-out] failure run: round-robin, replica 2 killed mid-run" >&2
start_replicas
"$root/bin/bench" --base-url "http://127.0.0.1:$BASE" --workload multi-turn --concurrency "$CONCURRENCY" \
  --num-requests "$REQUESTS" --vocab-max 4000 --seed 12 --session-header X-Session-Id \
  --label kill --out "$out/kill.json" --markdown "$out/kill.md" --no-progress > "$out/kill.txt" 2>&1 &
bench=$!
# Kill replica 2 once it has served a third of its share, while it holds requests.
for _ in $(seq 1 600); do
  done2=$(metric "${R[2]}" sluice:e2e_request_latency_seconds_count)
  [ "${done2%.*}" -ge $((REQUESTS / 9)) ] && break
  sleep 0.2
done
held=$(( $(metric "${R[2]}" sluice:num_requests_running) + $(metric "${R[2]}" sluice:num_requests_waiting) ))
kill -KILL "${pids[1]}"
wait "$bench" || true
printf 'killed replica 2 holding %s requests (running + waiting, read just before SIGKILL) after it finished %s\n' \
  "$held" "${done2%.*}" > "$out/kill-held.txt"
stop_replicas
echo "[scale-out] done: $out" >&2
