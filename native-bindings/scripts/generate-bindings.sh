#!/usr/bin/env bash
# Regenerates the jextract bindings in src/main/java/dev/sluice/bindings/raw from the headers of
# the pinned llama.cpp source (fetched by build-llama.sh). jextract is not in any registry the
# build can reach, so it is not part of the build: bring your own and point JEXTRACT at it.
#
#   JEXTRACT=/path/to/jextract native-bindings/scripts/generate-bindings.sh
#
# Only symbols declared in llama.cpp's own headers are kept (libc and friends are filtered out
# through jextract's --dump-includes list). No -l option is passed: the typed layer loads the
# libraries with System.load, and the generated code finds symbols through the loader lookup.
set -euo pipefail

: "${JEXTRACT:?set JEXTRACT to a jextract launcher (jextract 25 or later)}"
module_dir="$(cd "$(dirname "$0")/.." && pwd)"
wrapper="$module_dir/jextract/llama_cpp.h"
out_root="$module_dir/src/main/java"
package="dev.sluice.bindings.raw"

src="$("$module_dir/scripts/build-llama.sh" --source-only --quiet | tail -n1)"
includes=(-I "$src/include" -I "$src/ggml/include")

work="$(mktemp -d)"
trap 'rm -rf "$work"' EXIT

"$JEXTRACT" "${includes[@]}" --dump-includes "$work/all.txt" "$wrapper" >/dev/null
# Keep declarations from llama.cpp's headers only; drop the trailing "# path" comments.
grep -E "[[:space:]]$src/(include|ggml/include)/[^[:space:]]+\$" "$work/all.txt" \
  | sed -E 's/[[:space:]]+#.*$//' > "$work/includes.txt"

rm -rf "$out_root/${package//.//}"
"$JEXTRACT" "${includes[@]}" \
  --target-package "$package" \
  --header-class-name llama_cpp \
  --output "$out_root" \
  @"$work/includes.txt" "$wrapper" 2> >(grep -v 'warning: Skipping' >&2)

echo "generated $(find "$out_root/${package//.//}" -name '*.java' | wc -l) files in $out_root/${package//.//}"
