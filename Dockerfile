# syntax=docker/dockerfile:1
# modelarts-operator image: `docker build -t modelarts-operator:0.1.0 .`
# Stage 1 builds the wheel and a hash-pinned requirements file from uv.lock; stage 2 installs
# both into a clean slim Python with no build tools, running as a non-root user (UID 65532)
# on a read-only root filesystem (the Helm chart mounts an emptyDir at /tmp).
# Behind a TLS-intercepting proxy, pass your CA bundle as the build secret `build-ca`
# (`--secret id=build-ca,src=/etc/ssl/certs/ca-certificates.crt`): the steps that download
# trust it while they run; no layer stores it. `make image` does this.
ARG PYTHON_IMAGE=python:3.11.13-slim-bookworm

FROM ${PYTHON_IMAGE} AS build
ENV PIP_NO_CACHE_DIR=1 \
    PIP_DISABLE_PIP_VERSION_CHECK=1 \
    UV_PYTHON_DOWNLOADS=never
RUN --mount=type=secret,id=build-ca \
    if [ -f /run/secrets/build-ca ]; then export PIP_CERT=/run/secrets/build-ca; fi \
    && pip install --no-cache-dir "uv==0.13.9"
WORKDIR /src
COPY pyproject.toml uv.lock README.md LICENSE ./
# Runtime dependencies exactly as locked (hashes included), without the project itself; a
# layer of their own, so a change to the sources alone does not download them again.
RUN uv export --frozen --no-dev --no-emit-project --format requirements-txt \
        --output-file /dist/deps/requirements.txt
COPY operator/ operator/
RUN --mount=type=secret,id=build-ca \
    if [ -f /run/secrets/build-ca ]; then \
        export SSL_CERT_FILE=/run/secrets/build-ca UV_SYSTEM_CERTS=1; fi \
    && uv build --wheel --out-dir /dist/wheel

FROM ${PYTHON_IMAGE}
LABEL org.opencontainers.image.title="modelarts-operator" \
      org.opencontainers.image.description="Kubernetes operator for Huawei Cloud ModelArts" \
      org.opencontainers.image.licenses="Apache-2.0"
ENV PYTHONUNBUFFERED=1 \
    PYTHONDONTWRITEBYTECODE=1 \
    PIP_NO_CACHE_DIR=1 \
    PIP_DISABLE_PIP_VERSION_CHECK=1 \
    HOME=/tmp \
    TMPDIR=/tmp
COPY --from=build /dist/deps/ /tmp/deps/
RUN --mount=type=secret,id=build-ca \
    if [ -f /run/secrets/build-ca ]; then export PIP_CERT=/run/secrets/build-ca; fi \
    && pip install --no-cache-dir --require-hashes --requirement /tmp/deps/requirements.txt \
    && rm -rf /tmp/deps
COPY --from=build /dist/wheel/ /tmp/dist/
# Then the wheel; precompile bytecode so nothing needs to be written at run time (the root
# filesystem is read-only in the cluster).
RUN pip install --no-cache-dir --no-deps /tmp/dist/*.whl \
    && python -m compileall -q "$(python -c 'import sysconfig; print(sysconfig.get_paths()["purelib"])')" \
    && rm -rf /tmp/dist \
    && groupadd --gid 65532 nonroot \
    && useradd --uid 65532 --gid 65532 --no-create-home --home-dir /nonexistent \
        --shell /usr/sbin/nologin nonroot
USER 65532:65532
WORKDIR /tmp
# 8080: kopf liveness endpoint (/healthz); 9090: Prometheus metrics (/metrics).
EXPOSE 8080 9090
ENTRYPOINT ["modelarts-operator"]
CMD ["run"]
