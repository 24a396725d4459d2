#!/usr/bin/env bash
# Runs the image's stages outside a container, as far as this machine allows, and checks the
# result the way the image runs it:
#   1. native: deploy/docker/build-native.sh (the Dockerfile's command; --portable only with
#      --portable here, since it builds every CPU variant: long on a small machine);
#   2. java: deploy/docker/build-java.sh (Maven package and jlink);
#   3. runtime: lays the files out as the Dockerfile's COPY lines do under a scratch /opt/sluice,
#      then runs the entrypoint as uid 10001 with only the image's environment (and a model,
#      port and small sizes), with the jlinked java: /health/ready, a completion, the GIE gauges
#      on /metrics, and SIGTERM ends it with status 0.
#
#   deploy/docker/test-stages.sh [--portable] [--offline]     (JDK 25 as JAVA_HOME, and mvn)
set -euo pipefail
root="$(cd "$(dirname "$0")/../.." && pwd)"
source "$root/bin/lib/common.sh"
sluice_use_jdk
native_flags=(--cpu)
for arg in "$@"; do
  case "$arg" in
    --portable) native_flags=(--portable --cpu) ;;
    --offline) export MAVEN_OFFLINE=1 ;;
    *) echo "unknown option $arg" >&2; exit 2 ;;
  esac
done
work="$(mktemp -d /tmp/sluice-stages.XXXXXX)"
chmod 755 "$work"
pid=""
cleanup() { [ -n "$pid" ] && kill "$pid" 2>/dev/null; rm -rf "$work"; }
trap cleanup EXIT
step() { echo "[test-stages] $*" >&2; }
fail() { echo "[test-stages] FAIL: $*" >&2; exit 1; }

# The Dockerfile must still run these scripts and copy what this script lays out.
for line in 'deploy/docker/build-native.sh /out' 'deploy/docker/build-java.sh /out' \
    'COPY --from=java /out/java /opt/sluice/java' 'COPY --from=java /out/lib /opt/sluice/lib' \
    'COPY --from=native /out/lib /opt/sluice/native' 'COPY bin/lib/launch.sh deploy/docker/sluice-server /opt/sluice/bin/' \
    'SLUICE_LLAMA_LIB=/opt/sluice/native' 'USER 10001:10001' 'ENTRYPOINT ["/opt/sluice/bin/sluice-server"]'; do
  grep -qF "$line" "$root/Dockerfile" || fail "the Dockerfile no longer has: $line"
done

step "stage native: build-native.sh ${native_flags[*]}"
"$root/deploy/docker/build-native.sh" "$work/native-out" "${native_flags[@]}"
step "stage java: build-java.sh"
"$root/deploy/docker/build-java.sh" "$work/java-out"
[ ! -e "$work/java-out/java/bin/javac" ] || fail "the runtime has javac: not jlinked"

step "runtime: /opt/sluice as the image has it"
opt="$work/opt/sluice"
mkdir -p "$opt/bin" "$work/cache" "$work/models"
cp -a "$work/java-out/java" "$opt/java"
cp -a "$work/java-out/lib" "$opt/lib"
cp -a "$work/native-out/lib" "$opt/native"
cp "$root/bin/lib/launch.sh" "$root/deploy/docker/sluice-server" "$opt/bin/"
model="$root/../shared/models/stories260K.gguf"
[ -f "$model" ] || fail "no test model at $model"
cp "$model" "$work/models/model.gguf"
chown -R 10001:10001 "$work/cache"
chmod -R a+rX "$work"

port=$(python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])')
step "runtime: the entrypoint as uid 10001 on port $port"
env -i PATH=/usr/sbin:/usr/bin:/sbin:/bin SLUICE_LLAMA_LIB="$opt/native" SLUICE_CACHE="$work/cache" \
  SLUICE_HOST=0.0.0.0 SLUICE_PORT="$port" SLUICE_MODEL="$work/models/model.gguf" SLUICE_THREADS=1 \
  SLUICE_KV_CACHE_MEMORY=8MiB SLUICE_SHUTDOWN_DRAIN_SECONDS=5 \
  setpriv --reuid 10001 --regid 10001 --clear-groups "$opt/bin/sluice-server" > "$work/server.log" 2>&1 &
pid=$!
for _ in $(seq 1 120); do
  curl -fs "http://127.0.0.1:$port/health/ready" >/dev/null 2>&1 && break
  kill -0 "$pid" 2>/dev/null || { cat "$work/server.log" >&2; fail "the server exited"; }
  sleep 1
done
curl -fs "http://127.0.0.1:$port/health/ready" | grep -q '"ready"' || { tail -20 "$work/server.log" >&2; fail "not ready"; }
curl -fs "http://127.0.0.1:$port/health/live" | grep -q '"live"' || fail "not live"
curl -fs "http://127.0.0.1:$port/v1/completions" -H 'Content-Type: application/json' \
  -d '{"prompt":"Once upon a time","max_tokens":8}' | grep -q '"text_completion"' || fail "no completion"
curl -fs "http://127.0.0.1:$port/metrics" | grep -q '^vllm:num_requests_waiting 0$' || fail "no GIE gauges"
# setpriv and the entrypoint exec: the process is the jlinked java itself.
[ "$(readlink /proc/"$pid"/exe)" = "$opt/java/bin/java" ] || fail "not the jlinked java: $(readlink /proc/"$pid"/exe)"
[ "$(stat -c %u /proc/"$pid")" = 10001 ] || fail "not running as uid 10001"
kill -TERM "$pid"
status=0
wait "$pid" || status=$?
pid=""
[ "$status" = 0 ] || { tail -20 "$work/server.log" >&2; fail "SIGTERM ended it with status $status"; }
step "PASS: native and java stages built, the runtime layout served as uid 10001 and drained on SIGTERM"
