#!/usr/bin/env bash
# Builds the pinned test-cluster binaries from the Go module proxy into a cache outside git,
# keyed by version. Idempotent: a binary that is already present at its pinned version is not
# rebuilt.
#   hack/build-tools.sh demo   what `make demo` and `make cluster` run: etcd, kube-apiserver, kubectl
#   hack/build-tools.sh [all]  those, and what the tests use besides: helm, promtool, and the
#                              single-node cluster's kubelet, kube-controller-manager,
#                              kube-scheduler, kube-proxy
set -euo pipefail
root=$(cd "$(dirname "$0")/.." && pwd)
# shellcheck source=/dev/null
source "$root/tools/versions.env"
cache=${MODELARTS_TOOLS_DIR:-${XDG_CACHE_HOME:-$HOME/.cache}/modelarts-operator/tools}
export CGO_ENABLED=0 GOTOOLCHAIN=${GOTOOLCHAIN:-local} GOFLAGS=${GOFLAGS:--buildvcs=false}
kube_bin=$cache/kubernetes-$KUBE_VERSION
etcd_bin=$cache/etcd-$ETCD_VERSION
helm_bin=$cache/helm-$HELM_VERSION
prometheus_bin=$cache/prometheus-$PROMETHEUS_VERSION
mkdir -p "$kube_bin" "$etcd_bin" "$helm_bin" "$prometheus_bin"

say() { printf '[tools] %s\n' "$*"; }
minor=${KUBE_VERSION#v1.}; minor=${minor%%.*}
ldflags="-s -w"
for pkg in k8s.io/component-base/version k8s.io/client-go/pkg/version; do
  ldflags+=" -X $pkg.gitVersion=$KUBE_VERSION -X $pkg.gitMajor=1 -X $pkg.gitMinor=$minor"
  ldflags+=" -X $pkg.gitTreeState=clean -X $pkg.buildDate=1970-01-01T00:00:00Z"
done

build_kube() {  # $1 = command name under k8s.io/kubernetes/cmd
  local out=$kube_bin/$1
  if [[ -x $out ]]; then say "$1 $KUBE_VERSION present ($out)"; return; fi
  say "building $1 $KUBE_VERSION (cold: several minutes)"
  local t0=$SECONDS
  # A temporary file of this build's own: two builds at once (two clones, or make -j) must not
  # share one, or the second fails at mv.
  local tmp; tmp=$(mktemp -d "$out.XXXXXX")
  (cd "$root/tools/k8s" && go build -trimpath -ldflags "$ldflags" -o "$tmp/$1" "k8s.io/kubernetes/cmd/$1")
  mv "$tmp/$1" "$out" && rmdir "$tmp"
  say "built $1 in $((SECONDS - t0))s"
}

build_etcd() {
  local out=$etcd_bin/etcd
  if [[ -x $out ]]; then say "etcd $ETCD_VERSION present ($out)"; return; fi
  say "building etcd $ETCD_VERSION"
  local t0=$SECONDS
  local tmp; tmp=$(mktemp -d "$out.XXXXXX")
  (cd "$root/tools/etcd" && go build -trimpath -ldflags "-s -w" -o "$tmp/etcd" go.etcd.io/etcd/server/v3)
  mv "$tmp/etcd" "$out" && rmdir "$tmp"
  say "built etcd in $((SECONDS - t0))s"
}

# $1 = output binary, $2 = its version (for the messages), $3 = ldflags, $4 = package@version:
# `go install` into a temporary directory of this build's own (two builds at once must not share
# one), then into place.
go_install() {
  local out=$1 name; name=$(basename "$1")
  if [[ -x $out ]]; then say "$name $2 present ($out)"; return; fi
  say "building $name $2"
  local t0=$SECONDS tmp; tmp=$(mktemp -d "$(dirname "$out").XXXXXX")
  GOBIN=$tmp go install -trimpath -ldflags "$3" "$4"
  mv "$tmp/$name" "$out" && rmdir "$tmp"
  say "built $name in $((SECONDS - t0))s"
}

build_helm() {
  go_install "$helm_bin/helm" "$HELM_VERSION" \
    "-s -w -X helm.sh/helm/v3/internal/version.version=$HELM_VERSION" \
    "helm.sh/helm/v3/cmd/helm@$HELM_VERSION"
}

build_promtool() {
  local release="3.${PROMETHEUS_VERSION#v0.3}"  # module v0.316.0 is Prometheus 3.16.0
  go_install "$prometheus_bin/promtool" "$PROMETHEUS_VERSION" \
    "-s -w -X github.com/prometheus/common/version.Version=$release" \
    "github.com/prometheus/prometheus/cmd/promtool@$PROMETHEUS_VERSION"
}

what=${1:-all}
case $what in
  demo|all) ;;
  *) echo "usage: $0 [demo|all]" >&2; exit 2 ;;
esac
node_cmds=(kube-controller-manager kube-scheduler kube-proxy kubelet)
build_etcd
build_kube kube-apiserver
build_kube kubectl
if [[ $what == all ]]; then
  build_helm
  build_promtool
  for cmd in "${node_cmds[@]}"; do build_kube "$cmd"; done
fi

# sed -n, not head: head exits early, the writer gets SIGPIPE and pipefail fails the build (exit 141).
say "versions:"
"$etcd_bin/etcd" --version | sed -n '1s/^/  /p'
"$kube_bin/kube-apiserver" --version | sed 's/^/  /'
"$kube_bin/kubectl" version --client 2>/dev/null | sed -n '1s/^/  /p'
[[ $what == all ]] || exit 0
"$helm_bin/helm" version --short | sed 's/^/  /'
"$prometheus_bin/promtool" --version | sed -n '1s/^/  /p'
for cmd in "${node_cmds[@]}"; do
  "$kube_bin/$cmd" --version | sed 's/^/  /'
done
