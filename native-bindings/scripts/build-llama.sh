#!/usr/bin/env bash
# Builds llama.cpp's shared libraries from the source pinned in the npm registry
# (node-llama-cpp@3.22.1 ships llama.cpp tag v0.5.0 as a git bundle) into a cache
# outside the repository, and prints the install directory on the last line of stdout.
#
#   build-llama.sh [--cpu | --cuda] [--portable] [--tools] [--print-dir] [--quiet]
#
#   --cuda       build the CUDA backend (default: on when nvidia-smi sees a GPU and nvcc exists)
#   --cpu        never build CUDA, even where a GPU is present
#   --portable   GGML_NATIVE=OFF with dynamically loaded CPU variants for every x86 level,
#                the way release binaries are made (default: tuned for this CPU)
#   --tools      also build llama-server, llama-bench and llama-batched-bench (~16 min on 2 cores)
#   --print-dir  only print the install directory these options map to; build nothing
#   --source-only  fetch and unpack the pinned source, print its directory; build nothing
#
# Environment: SLUICE_CACHE (default ${XDG_CACHE_HOME:-~/.cache}/sluice), SLUICE_BUILD_JOBS.
# A finished build is marked with a .complete file; later runs reuse it and return at once.
set -euo pipefail

readonly NPM_PACKAGE="node-llama-cpp"
readonly NPM_VERSION="3.22.1"
readonly LLAMA_TAG="v0.5.0"
# sha512 the npm registry publishes for node-llama-cpp-3.22.1.tgz (dist.integrity).
readonly NPM_INTEGRITY="sha512-bltIipuWmc123H7tMIgDGKSsSrhmhlQYeVUC48XTjVW7XGJJiJJyCdlTMzQ/LiWoPkGDpcL4FviDpgw7qfTiDw=="
# Bump when this script changes what it builds, so stale caches are not reused.
readonly RECIPE_VERSION="2"

backend=auto portable=0 tools=0 print_only=0 source_only=0 quiet=0
for arg in "$@"; do
  case "$arg" in
    --cuda) backend=cuda ;;
    --cpu) backend=cpu ;;
    --portable) portable=1 ;;
    --tools) tools=1 ;;
    --print-dir) print_only=1 ;;
    --source-only) source_only=1 ;;
    --quiet) quiet=1 ;;
    -h|--help) sed -n '2,17p' "$0" | sed 's/^# \{0,1\}//'; exit 0 ;;
    *) echo "build-llama.sh: unknown option '$arg' (see --help)" >&2; exit 2 ;;
  esac
done

log() { [ "$quiet" = 1 ] || echo "[build-llama] $*" >&2; }
die() { echo "[build-llama] error: $*" >&2; exit 1; }

if [ "$backend" = auto ]; then
  if command -v nvidia-smi >/dev/null 2>&1 && nvidia-smi -L 2>/dev/null | grep -q GPU \
     && { command -v nvcc >/dev/null 2>&1 || [ -x /usr/local/cuda/bin/nvcc ]; }; then
    backend=cuda
  else
    backend=cpu
  fi
fi

cache_root="${SLUICE_CACHE:-${XDG_CACHE_HOME:-$HOME/.cache}/sluice}"
jobs="${SLUICE_BUILD_JOBS:-$(nproc)}"

cmake_flags=(
  -DCMAKE_BUILD_TYPE=Release
  -DBUILD_SHARED_LIBS=ON
  -DLLAMA_BUILD_TESTS=OFF
  -DLLAMA_BUILD_EXAMPLES=OFF
  -DLLAMA_BUILD_APP=OFF
  -DLLAMA_OPENSSL=OFF
  -DLLAMA_BUILD_UI=OFF
  -DLLAMA_USE_PREBUILT_UI=OFF
  # ggml's own thread pool instead of OpenMP's team: Sluice creates it (idle workers sleep),
  # chooses how many of its threads each graph uses (fewer while the host is busy), and knows the
  # workers' thread ids, to watch how long they wait for a CPU. Engine steps are as fast as with
  # OpenMP on an idle host (benchmarks/README.md).
  -DGGML_OPENMP=OFF
)
if [ "$tools" = 1 ]; then
  cmake_flags+=(-DLLAMA_BUILD_COMMON=ON -DLLAMA_BUILD_TOOLS=ON -DLLAMA_BUILD_SERVER=ON -DLLAMA_TOOLS_INSTALL=ON)
else
  cmake_flags+=(-DLLAMA_BUILD_COMMON=OFF -DLLAMA_BUILD_TOOLS=OFF -DLLAMA_BUILD_SERVER=OFF)
fi
if [ "$portable" = 1 ]; then
  cmake_flags+=(-DGGML_NATIVE=OFF -DGGML_BACKEND_DL=ON -DGGML_CPU_ALL_VARIANTS=ON)
else
  cmake_flags+=(-DGGML_NATIVE=ON)
  # No AMX: on a Xeon that advertises it (amx_tile, amx_int8), llama.cpp repacks Q8_0 weights into
  # AMX buffers and its AMX matmul dies with SIGILL or a general-protection fault inside
  # llama_decode, from a plain C program as from the JVM. Sluice's own graphs never use those
  # buffers; this build is also the reference the parity tests and bin/head-to-head compare with,
  # so it leaves AMX out (explicit -mno- flags win over -march=native whatever their order).
  if [ "$(uname -m)" = x86_64 ]; then
    no_amx="-mno-amx-tile -mno-amx-int8 -mno-amx-bf16"
    cmake_flags+=("-DCMAKE_C_FLAGS=$no_amx" "-DCMAKE_CXX_FLAGS=$no_amx")
  fi
fi
if [ "$backend" = cuda ]; then
  cmake_flags+=(-DGGML_CUDA=ON)
  [ -x /usr/local/cuda/bin/nvcc ] && ! command -v nvcc >/dev/null 2>&1 && export PATH="/usr/local/cuda/bin:$PATH"
fi

# A native build is tuned for this CPU: key the cache on its feature flags too.
cpu_key=""
if [ "$portable" = 0 ]; then
  cpu_key=$(grep -m1 '^flags' /proc/cpuinfo 2>/dev/null | cut -d: -f2 | tr ' ' '\n' | sort | tr '\n' ' ' || true)
fi
options_hash=$(printf '%s\n' "$RECIPE_VERSION" "$LLAMA_TAG" "${cmake_flags[*]}" "$cpu_key" | sha256sum | cut -c1-12)
variant="$backend"
[ "$portable" = 1 ] && variant+="-portable"
[ "$tools" = 1 ] && variant+="-tools"
install_dir="$cache_root/llama.cpp-$LLAMA_TAG-$variant-$options_hash"

if [ "$print_only" = 1 ]; then echo "$install_dir"; exit 0; fi
if [ "$source_only" = 0 ] && [ -f "$install_dir/.complete" ]; then
  log "reusing $install_dir"
  echo "$install_dir"; exit 0
fi

for tool in cmake git npm sha512sum base64 od; do
  command -v "$tool" >/dev/null 2>&1 || die "'$tool' is required (Debian: apt-get install cmake git nodejs npm coreutils)"
done
command -v c++ >/dev/null 2>&1 || die "a C++ compiler is required (Debian: apt-get install g++)"

mkdir -p "$cache_root/downloads"
tarball="$cache_root/downloads/$NPM_PACKAGE-$NPM_VERSION.tgz"

# The registry's integrity is base64 of the sha512 digest; compare it as hex with coreutils only.
expected_sha512=$(printf '%s' "${NPM_INTEGRITY#sha512-}" | base64 -d | od -An -v -tx1 | tr -d ' \n')
verify_tarball() {
  [ "$(sha512sum -b "$1" | cut -d' ' -f1)" = "$expected_sha512" ]
}

if [ ! -f "$tarball" ] || ! verify_tarball "$tarball"; then
  log "fetching $NPM_PACKAGE@$NPM_VERSION from the npm registry"
  published=$(npm view "$NPM_PACKAGE@$NPM_VERSION" dist.integrity 2>/dev/null | tail -n1 || true)
  [ "$published" = "$NPM_INTEGRITY" ] || die "the registry publishes integrity '$published' for $NPM_PACKAGE@$NPM_VERSION, expected '$NPM_INTEGRITY'"
  tmp=$(mktemp -d "$cache_root/downloads/pack.XXXXXX")
  (cd "$tmp" && npm pack "$NPM_PACKAGE@$NPM_VERSION" --silent >/dev/null 2>&1) || die "npm pack $NPM_PACKAGE@$NPM_VERSION failed (is the npm registry reachable?)"
  verify_tarball "$tmp/$NPM_PACKAGE-$NPM_VERSION.tgz" || die "downloaded tarball does not match $NPM_INTEGRITY"
  mv "$tmp/$NPM_PACKAGE-$NPM_VERSION.tgz" "$tarball"
  rm -rf "$tmp"
fi

src="$cache_root/src/llama.cpp-$LLAMA_TAG"
if [ ! -f "$src/.complete" ]; then
  log "unpacking llama.cpp $LLAMA_TAG from the git bundle"
  rm -rf "$src" "$src.tmp"
  mkdir -p "$src.tmp"
  tar -xzf "$tarball" -C "$src.tmp" package/llama/gitRelease.bundle package/llama/llama.cpp.info.json
  grep -q "\"$LLAMA_TAG\"" "$src.tmp/package/llama/llama.cpp.info.json" || die "bundle is not llama.cpp $LLAMA_TAG"
  git -c advice.detachedHead=false clone -q "$src.tmp/package/llama/gitRelease.bundle" "$src.tmp/llama.cpp"
  mv "$src.tmp/llama.cpp" "$src"
  rm -rf "$src.tmp"
  touch "$src/.complete"
fi

if [ "$source_only" = 1 ]; then echo "$src"; exit 0; fi

build_dir="$install_dir.build"
log "building llama.cpp $LLAMA_TAG ($variant) with $jobs jobs into $install_dir"
log "cmake ${cmake_flags[*]}"
start=$(date +%s)
# An interrupted build leaves its build directory (keyed by the same hash): cmake resumes it.
rm -rf "$install_dir"
cmake -S "$src" -B "$build_dir" "${cmake_flags[@]}" -DCMAKE_INSTALL_PREFIX="$install_dir" -DCMAKE_INSTALL_LIBDIR=lib >&2
cmake --build "$build_dir" --config Release -j "$jobs" >&2
cmake --install "$build_dir" >&2
if [ "$portable" = 1 ]; then
  # Dynamically loaded backends are installed next to the binaries; keep them with the libraries.
  find "$install_dir/bin" -maxdepth 1 -name 'libggml-*.so' -exec mv {} "$install_dir/lib/" \; 2>/dev/null || true
fi
printf 'tag=%s\nvariant=%s\nflags=%s\n' "$LLAMA_TAG" "$variant" "${cmake_flags[*]}" > "$install_dir/build-info.txt"
rm -rf "$build_dir"
touch "$install_dir/.complete"
log "done in $(( $(date +%s) - start )) s"
echo "$install_dir"
