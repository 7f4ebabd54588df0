#!/usr/bin/env bash
# Installs the Debian packages the single-node cluster and the daemonless image build need:
# containerd + runc + CNI plugins (the node's runtime and pod network), iptables/conntrack
# (kube-proxy), socat (kubectl port-forward), buildah/mmdebstrap/skopeo (the image without a
# registry or daemon) and gcc (the pause program). Idempotent: quiet when all are present,
# `apt-get update` at most once otherwise.
set -euo pipefail
packages=(containerd runc containernetworking-plugins iptables iproute2 conntrack socat
  buildah mmdebstrap skopeo gcc libc6-dev)
missing=()
for pkg in "${packages[@]}"; do
  status=$(dpkg-query -W -f='${Status}' "$pkg" 2>/dev/null || true)
  [[ $status == "install ok installed" ]] || missing+=("$pkg")
done
((${#missing[@]} == 0)) && exit 0
sudo=()
if ((EUID != 0)); then
  command -v sudo >/dev/null || { echo "node-deps: need root (or sudo) to install: ${missing[*]}" >&2; exit 1; }
  sudo=(sudo)
fi
echo "[node-deps] installing: ${missing[*]}"
export DEBIAN_FRONTEND=noninteractive
"${sudo[@]}" apt-get update -qq
"${sudo[@]}" apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null
echo "[node-deps] installed"
