# Shared by the launchers in bin/: find a JDK >= 25 and the native llama.cpp build.
# Sourced, not executed.

SLUICE_ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)"
SLUICE_MIN_JAVA=25

sluice_java_major() { # prints the feature version of the JDK at $1, or nothing
  local release="$1/release"
  [ -x "$1/bin/java" ] && [ -x "$1/bin/javac" ] || return 0
  if [ -f "$release" ]; then
    sed -n 's/^JAVA_VERSION="\([0-9]*\).*/\1/p' "$release"
  else
    "$1/bin/java" -XshowSettings:properties -version 2>&1 | sed -n 's/^ *java.specification.version = \([0-9]*\).*/\1/p'
  fi
}

# Exports JAVA_HOME (and PATH) for a JDK >= 25: $JAVA_HOME if new enough, else Temurin 25 at its
# Debian path, else any JDK >= 25 under /usr/lib/jvm. Exits with a clear message otherwise.
sluice_use_jdk() {
  local candidate major
  for candidate in "${JAVA_HOME:-}" /usr/lib/jvm/temurin-25-jdk-amd64 /usr/lib/jvm/*; do
    [ -n "$candidate" ] && [ -d "$candidate" ] || continue
    major="$(sluice_java_major "$candidate")"
    if [ -n "$major" ] && [ "$major" -ge "$SLUICE_MIN_JAVA" ]; then
      export JAVA_HOME="$candidate"
      export PATH="$JAVA_HOME/bin:$PATH"
      return 0
    fi
  done
  echo "error: Sluice needs a JDK $SLUICE_MIN_JAVA or later (found none in \$JAVA_HOME or /usr/lib/jvm)." >&2
  echo "       Install one, e.g. Eclipse Temurin 25 (apt package temurin-25-jdk from packages.adoptium.net)," >&2
  echo "       or point JAVA_HOME at it." >&2
  exit 1
}

sluice_require() {
  command -v "$1" >/dev/null 2>&1 || { echo "error: '$1' is required: $2" >&2; exit 1; }
}

# Builds llama.cpp from the pinned source if the cache lacks it (minutes, once), and exports
# SLUICE_LLAMA_LIB / SLUICE_LLAMA_SOURCE for the JVM. Extra arguments go to build-llama.sh.
sluice_native() {
  local install
  install="$("$SLUICE_ROOT/native-bindings/scripts/build-llama.sh" "$@" | tail -n1)"
  export SLUICE_LLAMA_LIB="$install/lib"
  export SLUICE_LLAMA_SOURCE="$("$SLUICE_ROOT/native-bindings/scripts/build-llama.sh" --source-only --quiet | tail -n1)"
}

# The browser tests (api's BrowserTest) drive a headless Chromium through chromedriver. Installs
# Debian's chromium and chromium-driver when they are missing and this can (root, or sudo without
# a password, and apt-get); otherwise says so, and the tests skip themselves with the same advice.
# SLUICE_SKIP_BROWSER_INSTALL=1 leaves the system alone.
sluice_browser() {
  if { command -v chromium >/dev/null 2>&1 || [ -x /usr/lib/chromium/chromium ]; } && command -v chromedriver >/dev/null 2>&1; then
    return 0
  fi
  if [ "${SLUICE_SKIP_BROWSER_INSTALL:-}" = 1 ] || ! command -v apt-get >/dev/null 2>&1; then
    echo "[bin/test] no chromium/chromedriver: the browser tests will be skipped (apt-get install chromium chromium-driver)" >&2
    return 0
  fi
  local sudo=""
  if [ "$(id -u)" -ne 0 ]; then
    if command -v sudo >/dev/null 2>&1 && sudo -n true 2>/dev/null; then
      sudo="sudo -n"
    else
      echo "[bin/test] no chromium/chromedriver and no root to install them: the browser tests will be skipped" >&2
      return 0
    fi
  fi
  echo "[bin/test] installing chromium and chromium-driver for the browser tests (apt-get)"
  if ! { $sudo env DEBIAN_FRONTEND=noninteractive apt-get install -y --no-install-recommends chromium chromium-driver \
         || { $sudo apt-get update -q && $sudo env DEBIAN_FRONTEND=noninteractive apt-get install -y --no-install-recommends \
              chromium chromium-driver; }; } >/dev/null; then
    echo "[bin/test] could not install chromium: the browser tests will be skipped" >&2
  fi
}

# kubectl renders deploy/kubernetes in DeployManifestsTest (which skips, saying so, without it).
# Installs it with apt-get where that works (root, and a package list that has it); never fatal.
sluice_kubectl() {
  command -v kubectl >/dev/null 2>&1 && return 0
  if [ "$(id -u)" = 0 ] && command -v apt-get >/dev/null 2>&1; then
    echo "[sluice] installing kubectl for the manifest tests (apt-get install kubectl)" >&2
    { apt-get install -y -q kubectl || { apt-get update -q && apt-get install -y -q kubectl; }; } >/dev/null 2>&1 || true
  fi
  command -v kubectl >/dev/null 2>&1 \
    || echo "[sluice] kubectl not available: the Kubernetes manifest tests will be skipped" >&2
  return 0
}
