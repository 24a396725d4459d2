# The server's JVM command line, shared by bin/server and the container image's entrypoint
# (deploy/docker/sluice-server), so both run Sluice the same way. Sourced, not executed.
# JVM settings (heap and so on) go in JAVA_TOOL_OPTIONS, which the JVM reads itself.
#
#   sluice_launch JAVA CLASSPATH [server options...]     (replaces the shell)
sluice_launch() {
  local java="$1" classpath="$2"
  shift 2
  exec "$java" --enable-native-access=ALL-UNNAMED --add-modules jdk.incubator.vector \
    -Djava.util.logging.config.class=dev.sluice.api.LoggingSetup \
    -cp "$classpath" dev.sluice.api.Main "$@"
}
