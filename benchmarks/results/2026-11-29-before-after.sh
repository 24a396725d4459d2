#!/bin/bash
# Before/after served throughput: alternates the two builds per (model, temperature).
set -u
OUT=/tmp/perf; mkdir -p $OUT
BENCH="/usr/lib/jvm/temurin-25-jdk-amd64/bin/java -cp /work/main/benchmarks/target/benchmarks.jar dev.sluice.bench.load.LoadGenerator"
start() { # dir port model
  (cd $1 && bin/server --model $3 --port $2 --kv-cache-tokens 65536 > $OUT/server-$2.log 2>&1 &)
  for i in $(seq 1 120); do curl -s localhost:$2/health | grep -q ready && return 0; sleep 1; done; echo "no server on $2"; }
stop() { pkill -f -- "--port $1" ; sleep 2; }
for spec in "smollm2:$HOME/.cache/sluice/models/random-smollm2-135m-shape-q8_0-seed42-v1.gguf:1,16,64:1 0" "qwen:$HOME/.cache/sluice/models/$(ls ~/.cache/sluice/models | grep qwen2.5-0.5b | head -1):1,16:1"; do
  IFS=: read name model levels temps <<<"$spec"
  for t in $temps; do
    for build in before after; do
      dir=/work/wt-before; [ $build = after ] && dir=/work/main
      start $dir 18200 $model
      $BENCH --base-url http://127.0.0.1:18200 --concurrency $levels --temperature $t --duration 40 --num-requests 100000 --warmup-requests 2 --no-progress --label $build-$name-t$t --out $OUT/$build-$name-t$t.json > $OUT/$build-$name-t$t.txt 2>&1
      stop 18200
    done
  done
done
echo done
