#!/usr/bin/env bash
# Builds the images the single-node cluster runs, daemonless (buildah, no Docker, no registry):
#   pause     the pod sandbox image, from hack/pause/pause.c (static, in an empty image)
#   operator  the operator image from the Dockerfile, as modelarts-operator:dev
# and writes each as an archive containerd imports (the node loads them at start; `make image`
# also loads the operator into a running node).
#
# Without a reachable registry the Dockerfile's DEBIAN_IMAGE (the build stages' host) is made
# here from Debian packages (mmdebstrap, the host's apt sources), cached by its inputs; with one,
# the Dockerfile's default (pinned by digest) is used. `lock` rewrites tools/image/debian.lock
# (the image's Debian packages with their hashes) from the host's apt indexes. The build trusts the host's CA bundle through a
# build secret (RUN --mount=type=secret): it is visible to the RUN steps only and never stored
# in a layer, so a TLS-intercepting proxy works and the final image carries no extra CA.
set -euo pipefail
root=$(cd "$(dirname "$0")/.." && pwd)
# shellcheck source=/dev/null
source "$root/tools/versions.env"
cache=${MODELARTS_IMAGE_CACHE:-${XDG_CACHE_HOME:-$HOME/.cache}/modelarts-operator/images}
out=${MODELARTS_IMAGE_OUT:-$root/.cluster/images}
host_ca=${MODELARTS_BUILD_CA:-/etc/ssl/certs/ca-certificates.crt}
runc=$(command -v runc || echo /usr/sbin/runc)  # buildah's default crun refuses hybrid cgroups
mkdir -p "$cache" "$out"
buildah=(buildah --root "$cache/storage" --runroot "$cache/runroot" --storage-driver overlay)

say() { printf '[image] %s\n' "$*"; }
has_image() { "${buildah[@]}" inspect --type image "$1" >/dev/null 2>&1; }
archive() {  # $1 image, $2 name inside the archive, $3 file; skipped when $3 holds that image
  local id; id=$("${buildah[@]}" inspect --type image --format '{{.FromImageID}}' "$1")
  if [[ -f $3 && $(cat "$3.id" 2>/dev/null) == "$id" ]]; then return; fi
  rm -f "$3.tmp"
  "${buildah[@]}" push --quiet "$1" "docker-archive:$3.tmp:$2" >/dev/null
  mv "$3.tmp" "$3" && echo "$id" >"$3.id"
}

build_pause() {
  local tag; tag=$(sha256sum "$root/hack/pause/pause.c" | cut -c1-12)
  local image=localhost/modelarts-pause:$tag file=$out/pause.tar
  if ! has_image "$image"; then
    say "building the pause image"
    local work; work=$(mktemp -d)
    gcc -static -Os -s -o "$work/pause" "$root/hack/pause/pause.c"
    local ctr; ctr=$("${buildah[@]}" from scratch)
    "${buildah[@]}" copy "$ctr" "$work/pause" /pause >/dev/null
    "${buildah[@]}" config --entrypoint '["/pause"]' --user 65535:65535 "$ctr"
    "${buildah[@]}" commit --quiet "$ctr" "$image" >/dev/null
    "${buildah[@]}" rm "$ctr" >/dev/null
    rm -rf "$work"
  fi
  # The name the node's containerd is configured with as its sandbox image.
  archive "$image" "$NODE_PAUSE_IMAGE" "$file"
  say "pause image: $NODE_PAUSE_IMAGE ($file)"
}

registry_reachable() {
  timeout 20 skopeo inspect --retry-times 0 "docker://docker.io/library/$1" >/dev/null 2>&1
}

# The Dockerfile's DEBIAN_IMAGE (it hosts the build stages only) from Debian packages: a
# minimal Debian 12 with apt and the host's apt sources, cached under a name derived from its
# inputs (the suite, the apt sources and this function), so it is built once. What the image
# ships comes from tools/image/debian.lock and uv.lock, checked by hash, whatever hosts the build.
debian_base() {
  local sources; sources=$(ls /etc/apt/sources.list.d/*.sources /etc/apt/sources.list 2>/dev/null | head -n1)
  local key; key=$( { echo bookworm; cat "$sources"; declare -f debian_base; } | sha256sum | cut -c1-12)
  local image=localhost/modelarts-debian:bookworm-$key
  if has_image "$image"; then echo "$image"; return; fi
  say "building the Debian build base from Debian packages (cold: about a minute)" >&2
  local t0=$SECONDS work; work=$(mktemp -d)
  mmdebstrap --quiet --variant=minbase \
    --customize-hook='rm -rf "$1"/var/lib/apt/lists/* "$1"/var/cache/apt/*' \
    bookworm "$work/rootfs.tar" "$sources" >&2
  local ctr; ctr=$("${buildah[@]}" from scratch)
  "${buildah[@]}" add "$ctr" "$work/rootfs.tar" / >/dev/null
  "${buildah[@]}" config --env PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin \
    --env LANG=C.UTF-8 --cmd '["bash"]' "$ctr"
  "${buildah[@]}" commit --quiet "$ctr" "$image" >/dev/null
  "${buildah[@]}" rm "$ctr" >/dev/null
  rm -rf "$work"
  say "built $image in $((SECONDS - t0))s" >&2
  echo "$image"
}

build_operator() {
  local default; default=$(sed -n 's/^ARG DEBIAN_IMAGE=//p' "$root/Dockerfile")
  local base_args=()
  if registry_reachable "$default"; then
    say "registry reachable: build base $default"
  else
    local base; base=$(debian_base)
    say "no registry: build base $base (from Debian packages)"
    base_args=(--pull=never --build-arg "DEBIAN_IMAGE=$base")
  fi
  local secret=()
  [[ -f $host_ca ]] && secret=(--secret "id=build-ca,src=$host_ca")
  local t0=$SECONDS
  "${buildah[@]}" build --quiet --layers --runtime "$runc" "${base_args[@]}" "${secret[@]}" \
    --tag localhost/modelarts-operator:dev --file "$root/Dockerfile" "$root" >/dev/null
  archive localhost/modelarts-operator:dev docker.io/library/modelarts-operator:dev \
    "$out/modelarts-operator-dev.tar"
  say "operator image modelarts-operator:dev built in $((SECONDS - t0))s," \
    "archive $(du -h "$out/modelarts-operator-dev.tar" | cut -f1) ($out/modelarts-operator-dev.tar)"
}

case ${1:-all} in
  pause) build_pause ;;
  operator) build_operator ;;
  all) build_pause; build_operator ;;
  lock) python3 "$root/hack/debian-lock.py" ;;  # after `apt-get update`
  *) echo "usage: $0 [pause|operator|all|lock]" >&2; exit 2 ;;
esac
