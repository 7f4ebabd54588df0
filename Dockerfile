# syntax=docker/dockerfile:1
# modelarts-operator image: `docker build -t modelarts-operator:0.1.0 .` (`make image` builds it
# daemonless with buildah). The operator alone, on a root filesystem of exactly the Debian
# packages in tools/image/debian.lock - Python 3.11 and the libraries it links, each .deb
# checked against its SHA-256 - with no shell, no package manager, no perl; the operator and its
# dependencies in a virtualenv installed from uv.lock with hashes; the build's own tools (uv,
# hatchling) pinned by hash in tools/image/build-tools.txt. Runs as UID 65532 on a read-only
# root filesystem (the Helm chart mounts an emptyDir at /tmp); all bytecode is compiled here.
# Behind a TLS-intercepting proxy, pass your CA bundle as the build secret `build-ca`
# (`--secret id=build-ca,src=/etc/ssl/certs/ca-certificates.crt`): the steps that download from
# PyPI trust it while they run; no layer stores it. `make image` does this.
#
# DEBIAN_IMAGE only hosts the build stages (nothing of it is shipped): Debian 12 of 2025-12-29,
# the amd64 image by digest as debuerreotype/docker-debian-artifacts publishes it (arm64:
# sha256:409529ea1ed9728a9a5fb4960fdf9163e8b608c34db681a1273c617c056d325d, with a lock written
# on an arm64 host by `hack/build-image.sh lock`). Without a registry, hack/build-image.sh
# builds a stand-in from Debian packages and passes it here.
ARG DEBIAN_IMAGE=debian:bookworm-20251229@sha256:4216e8fe27fdd803d2822d08ed9de39825a41a47e34c32b71a23ac074f91eaf4

# The runtime's root filesystem: the locked packages, extracted (no maintainer script runs:
# the image has nothing to run them with), with their control files in /var/lib/dpkg/status.d
# so image scanners see what is installed, copyright files kept, docs and manuals dropped, and
# glibc's iconv modules (gconv, 8 MB) too: Python's codecs are its own.
FROM ${DEBIAN_IMAGE} AS rootfs
COPY tools/image/debian.lock /tmp/debian.lock
WORKDIR /tmp/debs
RUN apt-get update -qq \
    && awk '!/^#/ && NF {print $1"="$2}' /tmp/debian.lock > packages \
    && awk '!/^#/ && NF {f=$1"_"$2"_"$3".deb"; sub(/:/, "%3a", f); print $4"  "f}' \
        /tmp/debian.lock > SHA256SUMS \
    && xargs apt-get download -qq < packages \
    && set -- ./*.deb && [ "$#" -eq "$(wc -l < SHA256SUMS)" ] \
    && { sha256sum --check --strict --quiet SHA256SUMS \
         || { echo "a .deb differs from tools/image/debian.lock (hack/build-image.sh lock)"; exit 1; }; } \
    && mkdir -p /rootfs/var/lib/dpkg/status.d /rootfs/tmp /rootfs/etc \
    && for deb in *.deb; do \
         dpkg-deb --extract "$deb" /rootfs \
         && dpkg-deb --field "$deb" > "/rootfs/var/lib/dpkg/status.d/$(dpkg-deb --field "$deb" Package)" \
         || exit 1; \
       done \
    && find /rootfs/usr/share/doc -type f ! -name copyright -delete \
    && rm -rf /rootfs/usr/share/man /rootfs/usr/share/info /rootfs/usr/share/lintian \
        /rootfs/usr/share/locale /rootfs/usr/share/gdb /rootfs/usr/share/gcc \
        /rootfs/usr/lib/*/gconv \
    && ln -s python3.11 /rootfs/usr/bin/python3 \
    && chmod 1777 /rootfs/tmp \
    && printf 'root:x:0:0:root:/root:/sbin/nologin\nnonroot:x:65532:65532:nonroot:/nonexistent:/sbin/nologin\n' \
        > /rootfs/etc/passwd \
    && printf 'root:x:0:\nnonroot:x:65532:\n' > /rootfs/etc/group \
    && rm -rf /var/lib/apt/lists/*

# The operator's virtualenv, built with the same Debian Python (the venv's interpreter is
# /usr/bin/python3.11 of the root filesystem), and the bytecode of the standard library.
FROM ${DEBIAN_IMAGE} AS build
ENV PIP_NO_CACHE_DIR=1 \
    PIP_DISABLE_PIP_VERSION_CHECK=1 \
    UV_NO_CACHE=1 \
    UV_PYTHON_DOWNLOADS=never \
    PYTHONDONTWRITEBYTECODE=1
COPY tools/image/debian.lock tools/image/build-tools.txt /tmp/
# Python at the locked version; pip only to install the hash-pinned build tools (this stage is
# not shipped).
# hadolint ignore=DL3008
RUN version=$(awk '$1 == "python3.11-minimal" {print $2}' /tmp/debian.lock) \
    && apt-get update -qq \
    && apt-get install -y -qq --no-install-recommends "python3.11-minimal=$version" \
        "libpython3.11-stdlib=$version" "python3.11=$version" python3-pip >/dev/null \
    && rm -rf /var/lib/apt/lists/*
RUN --mount=type=secret,id=build-ca \
    if [ -f /run/secrets/build-ca ]; then export PIP_CERT=/run/secrets/build-ca; fi \
    && python3.11 -m pip install --quiet --require-hashes --requirement /tmp/build-tools.txt \
        --target /opt/build-tools
ENV PATH=/opt/build-tools/bin:$PATH \
    PYTHONPATH=/opt/build-tools
WORKDIR /src
COPY pyproject.toml uv.lock README.md LICENSE ./
# The workspace's other member, the test bed: its manifest only (uv reads the workspace whole);
# nothing of it is installed.
COPY testbed/pyproject.toml testbed/
# Runtime dependencies exactly as locked (hashes included), without the project itself; a
# layer of their own, so a change to the sources alone does not download them again.
# The kubernetes library is 128 MB with bytecode, of which the operator runs its kubeconfig
# loader and Configuration: kubernetes/aio (a second, asyncio copy of the generated client)
# is dropped, nothing imports it; the generated API and model classes (about 1,400 modules
# that `import kubernetes.client` loads and nothing calls) keep their bytecode only.
# tests/unit/chart/test_dockerfile.py checks that the operator imports neither.
RUN --mount=type=secret,id=build-ca \
    if [ -f /run/secrets/build-ca ]; then \
        export SSL_CERT_FILE=/run/secrets/build-ca UV_SYSTEM_CERTS=1; fi \
    && uv export --frozen --no-dev --no-emit-project --no-emit-workspace --format requirements-txt \
        --output-file /tmp/requirements.txt >/dev/null \
    && uv venv --quiet --python /usr/bin/python3.11 /opt/modelarts-operator \
    && uv pip install --quiet --python /opt/modelarts-operator/bin/python --require-hashes \
        --requirement /tmp/requirements.txt \
    && k8s=/opt/modelarts-operator/lib/python3.11/site-packages/kubernetes \
    && rm -rf "$k8s/aio" \
    && python3.11 -m compileall -q -b --invalidation-mode unchecked-hash \
        "$k8s/client/api" "$k8s/client/models" \
    && find "$k8s/client/api" "$k8s/client/models" -name '*.py' -delete
COPY operator/ operator/
COPY --from=rootfs /rootfs /rootfs
# The wheel (hatchling from build-tools.txt, no build isolation: nothing unpinned is fetched),
# then bytecode for everything: nothing is written at run time on the read-only root filesystem.
RUN python3.11 -m pip wheel --quiet --no-deps --no-build-isolation --no-index --wheel-dir /tmp/wheel . \
    && uv pip install --quiet --python /opt/modelarts-operator/bin/python --no-deps /tmp/wheel/*.whl \
    && python3.11 -m compileall -q --invalidation-mode unchecked-hash /opt/modelarts-operator \
    && python3.11 -m compileall -q --invalidation-mode unchecked-hash -s /rootfs -p / \
        /rootfs/usr/lib/python3.11

FROM scratch
LABEL org.opencontainers.image.title="modelarts-operator" \
      org.opencontainers.image.description="Kubernetes operator for Huawei Cloud ModelArts" \
      org.opencontainers.image.licenses="Apache-2.0"
COPY --from=build /rootfs /
COPY --from=build /opt/modelarts-operator /opt/modelarts-operator
ENV PATH=/opt/modelarts-operator/bin:/usr/bin \
    PYTHONUNBUFFERED=1 \
    PYTHONDONTWRITEBYTECODE=1 \
    LANG=C.UTF-8 \
    HOME=/tmp \
    TMPDIR=/tmp
USER 65532:65532
WORKDIR /tmp
# 8080: kopf liveness endpoint (/healthz); 9090: Prometheus metrics (/metrics).
EXPOSE 8080 9090
ENTRYPOINT ["modelarts-operator"]
CMD ["run"]
