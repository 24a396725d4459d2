#!/usr/bin/env bash
# Image stage "java": builds the server's jars with Maven (tests are bin/test's job) and a Java
# runtime trimmed with jlink to the modules they use, into DEST:
#   DEST/java       the runtime (no javac, no jmods)
#   DEST/lib/*.jar  sluice-api and its dependencies
#
#   deploy/docker/build-java.sh DEST      (needs a JDK 25 as JAVA_HOME, and mvn)
# deploy/docker/test-stages.sh runs this outside a container.
set -euo pipefail
dest="${1:?usage: build-java.sh DEST}"
root="$(cd "$(dirname "$0")/../.." && pwd)"
: "${JAVA_HOME:?JAVA_HOME must point at a JDK 25}"
cd "$root"
mvn -B -ntp -q ${MAVEN_OFFLINE:+-o} package -DskipTests -pl api -am
mkdir -p "$dest/lib"
cp api/target/sluice-api-*.jar "$dest/lib/"
cp api/target/lib/*.jar "$dest/lib/"
rm -f "$dest"/lib/*-tests.jar

# The modules the jars need, by jdeps; plus jdk.incubator.vector (the server adds it at launch),
# jdk.crypto.ec (TLS clients of the JDK), and jdk.zipfs and jdk.localedata for safety's sake.
modules="$("$JAVA_HOME/bin/jdeps" --ignore-missing-deps --print-module-deps --multi-release 25 \
  --class-path "$dest/lib/*" "$dest"/lib/sluice-api-*.jar)"
modules="$modules,jdk.incubator.vector,jdk.crypto.ec,jdk.zipfs,jdk.localedata"
echo "[build-java] jlink modules: $modules" >&2
rm -rf "$dest/java"
"$JAVA_HOME/bin/jlink" --add-modules "$modules" --strip-debug --no-man-pages --no-header-files \
  --compress zip-6 --output "$dest/java"
echo "[build-java] runtime $(du -sh "$dest/java" | cut -f1), jars $(du -sh "$dest/lib" | cut -f1)" >&2
