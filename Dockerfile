# Sluice's container image: llama.cpp built from its pinned source, the server's jars, a Java 25
# runtime trimmed with jlink, a non-root user. Models are mounted (at /models), never baked in.
#
#   docker build -t sluice:cpu .
#   docker build -t sluice:cuda --build-arg BACKEND=cuda \
#     --build-arg BUILD_IMAGE=nvidia/cuda:12.8.1-devel-ubuntu24.04 \
#     --build-arg RUNTIME_IMAGE=nvidia/cuda:12.8.1-runtime-ubuntu24.04 .
#   docker run -p 8080:8080 -v ~/models:/models:ro sluice:cpu --model /models/qwen2.5-0.5b-instruct-q8_0.gguf
#
# Options and SLUICE_* variables are bin/server's. Each stage runs a script of deploy/docker/,
# which deploy/docker/test-stages.sh runs outside a container. docs/deploy.md has more.
ARG BUILD_IMAGE=debian:bookworm
ARG JDK_IMAGE=eclipse-temurin:25-jdk-noble
ARG RUNTIME_IMAGE=debian:bookworm-slim

# ---- native: llama.cpp's shared libraries, for every x86 CPU level (or CUDA) -----------------
FROM ${BUILD_IMAGE} AS native
ARG BACKEND=cpu
# --portable: every x86 CPU level, chosen at run time. An image only for the builder's own kind of
# CPU builds faster and runs a little faster with --build-arg LLAMA_BUILD_FLAGS= (GGML_NATIVE=ON).
ARG LLAMA_BUILD_FLAGS=--portable
RUN apt-get update \
 && apt-get install -y --no-install-recommends cmake make g++ git nodejs npm ca-certificates coreutils \
 && rm -rf /var/lib/apt/lists/*
WORKDIR /src
COPY native-bindings/scripts/build-llama.sh native-bindings/scripts/
COPY deploy/docker/build-native.sh deploy/docker/
RUN SLUICE_CACHE=/tmp/sluice-cache deploy/docker/build-native.sh /out ${LLAMA_BUILD_FLAGS} --${BACKEND} \
 && rm -rf /tmp/sluice-cache

# ---- java: the jars, and a jlinked runtime (jlink strips native debug symbols with binutils' objcopy)
FROM ${JDK_IMAGE} AS java
RUN apt-get update \
 && apt-get install -y --no-install-recommends maven binutils \
 && rm -rf /var/lib/apt/lists/*
WORKDIR /src
COPY pom.xml ./
COPY native-bindings/pom.xml native-bindings/
COPY engine/pom.xml engine/
COPY scheduler/pom.xml scheduler/
COPY api/pom.xml api/
COPY benchmarks/pom.xml benchmarks/
COPY native-bindings/src native-bindings/src
COPY engine/src engine/src
COPY scheduler/src scheduler/src
COPY api/src api/src
COPY deploy/docker/build-java.sh deploy/docker/
RUN deploy/docker/build-java.sh /out

# ---- runtime --------------------------------------------------------------------------------------
FROM ${RUNTIME_IMAGE}
RUN apt-get update \
 && apt-get install -y --no-install-recommends libstdc++6 libgomp1 \
 && rm -rf /var/lib/apt/lists/* \
 && groupadd --system --gid 10001 sluice \
 && useradd --system --uid 10001 --gid sluice --home-dir /nonexistent --shell /usr/sbin/nologin sluice \
 && mkdir -p /models /var/cache/sluice && chown sluice:sluice /var/cache/sluice
COPY --from=java /out/java /opt/sluice/java
COPY --from=java /out/lib /opt/sluice/lib
COPY --from=native /out/lib /opt/sluice/native
COPY bin/lib/launch.sh deploy/docker/sluice-server /opt/sluice/bin/
# SLUICE_LLAMA_LIB: where the libraries are; SLUICE_CACHE: where a generated demo model goes.
ENV SLUICE_LLAMA_LIB=/opt/sluice/native \
    SLUICE_CACHE=/var/cache/sluice \
    SLUICE_HOST=0.0.0.0
USER 10001:10001
EXPOSE 8080
VOLUME ["/models"]
ENTRYPOINT ["/opt/sluice/bin/sluice-server"]
