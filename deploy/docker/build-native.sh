#!/usr/bin/env bash
# Image stage "native": builds llama.cpp's shared libraries from the pinned source
# (native-bindings/scripts/build-llama.sh: node-llama-cpp@3.22.1 from the npm registry, checked
# against its pinned sha512) and copies them to DEST/lib.
#
#   deploy/docker/build-native.sh DEST [build-llama.sh options]
#
# The Dockerfile passes --portable (GGML_NATIVE=OFF, every x86 CPU variant loaded at run time:
# the image runs on CPUs other than the builder's) and --cpu or --cuda.
# deploy/docker/test-stages.sh runs this outside a container.
set -euo pipefail
dest="${1:?usage: build-native.sh DEST [build-llama.sh options]}"
shift
root="$(cd "$(dirname "$0")/../.." && pwd)"
install="$("$root/native-bindings/scripts/build-llama.sh" "$@" | tail -n1)"
mkdir -p "$dest/lib"
cp -a "$install/lib/." "$dest/lib/"
cp "$install/build-info.txt" "$dest/" 2>/dev/null || true
# Only the shared libraries are needed at run time.
find "$dest/lib" -mindepth 1 -maxdepth 1 ! -name '*.so*' -exec rm -rf {} +
echo "[build-native] $(ls "$dest/lib" | wc -l) libraries from $install in $dest/lib" >&2
