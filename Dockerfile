# Multi-stage build of the prefstream launcher.
#   docker build -t prefstream .                 # CPU image (PyTorch 2.7.1 CPU, bundled by DJL)
#   docker build --target gpu -t prefstream:gpu . # GPU image (libtorch 2.7.1 + CUDA 12.8)

FROM eclipse-temurin:17-jdk AS build
WORKDIR /src
COPY . .
RUN ./mvnw -B -q package -DskipTests

FROM eclipse-temurin:17-jre AS runtime
WORKDIR /opt/prefstream
COPY --from=build /src/app/target/prefstream.jar app/target/prefstream.jar
COPY --from=build /src/bin/prefstream bin/prefstream
# DJL unpacks its native PyTorch here on first start; keep it in the image's writable layer.
ENV DJL_CACHE_DIR=/opt/prefstream/djl-cache OPT_OUT_TRACKING=true
# The services run as an unprivileged user that owns only what they write: the DJL cache, its
# home (Kafka Streams state under ~/.prefstream) and the usual mount points.
RUN useradd --system --uid 10001 --home-dir /home/prefstream --create-home prefstream \
 && mkdir -p /opt/prefstream/djl-cache /work /serving /models /keys/private /keys/public \
 && chown prefstream /opt/prefstream/djl-cache /work /serving /models /keys/private /keys/public
USER prefstream
ENTRYPOINT ["/opt/prefstream/bin/prefstream"]

# GPU: Maven Central has no CUDA build of PyTorch 2.7.1, so DJL loads a local libtorch instead.
# DJL 0.36.0's engine with the pytorch-jni 2.7.1 build (its cu128 JNI library is in the jar)
# needs exactly libtorch 2.7.1 for CUDA 12.8 (cxx11 ABI).
FROM runtime AS gpu
USER root
RUN apt-get update && apt-get install -y --no-install-recommends curl unzip && rm -rf /var/lib/apt/lists/* \
 && curl -fsSL -o /tmp/libtorch.zip https://download.pytorch.org/libtorch/cu128/libtorch-cxx11-abi-shared-with-deps-2.7.1%2Bcu128.zip \
 && unzip -q /tmp/libtorch.zip -d /opt && rm /tmp/libtorch.zip
ENV PYTORCH_LIBRARY_PATH=/opt/libtorch/lib
USER prefstream
