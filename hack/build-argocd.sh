#!/usr/bin/env bash
# Builds Argo CD (one binary: application controller, repo server, CLI), argocd-health (the
# controller's health evaluation as a command) and kustomize (the repo server runs it for
# kustomizations) from the Go module proxy into the tools cache, keyed by version; installs git,
# redis-server and jq from Debian when missing (the repo server clones with git, the controller
# needs redis, argocd/README.md's argocd-cm merge command uses jq). Idempotent: what is present
# at its pinned version is not rebuilt.
set -euo pipefail
root=$(cd "$(dirname "$0")/.." && pwd)
# shellcheck source=/dev/null
source "$root/tools/argocd/versions.env"
cache=${MODELARTS_TOOLS_DIR:-${XDG_CACHE_HOME:-$HOME/.cache}/modelarts-operator/tools}
export CGO_ENABLED=0 GOTOOLCHAIN=${GOTOOLCHAIN:-local} GOFLAGS=${GOFLAGS:--buildvcs=false}
out_dir=$cache/argocd-$ARGOCD_VERSION
mkdir -p "$out_dir"

say() { printf '[argocd] %s\n' "$*"; }

if ! grep -Eq "^(require )?[[:space:]]*github.com/argoproj/argo-cd/v3 $ARGOCD_VERSION\$" "$root/tools/argocd/go.mod"; then
  echo "tools/argocd/go.mod does not require argo-cd $ARGOCD_VERSION (tools/argocd/versions.env)" >&2
  exit 1
fi

install_debian() {  # $@ = command:package pairs
  local missing=()
  for pair in "$@"; do command -v "${pair%%:*}" >/dev/null || missing+=("${pair#*:}"); done
  ((${#missing[@]})) || return 0
  say "installing ${missing[*]} from Debian"
  local sudo=(); [[ $(id -u) == 0 ]] || sudo=(sudo)
  "${sudo[@]}" apt-get update -qq
  DEBIAN_FRONTEND=noninteractive "${sudo[@]}" apt-get install -y -qq --no-install-recommends \
    "${missing[@]}" >/dev/null
}

# $1 = output name, $2 = package; builds inside the wrapper module. A temporary directory of
# this build's own: two builds at once must not share one, or the second fails at mv.
build_in_module() {
  local out=$out_dir/$1
  if [[ -x $out ]]; then say "$1 $ARGOCD_VERSION present ($out)"; return; fi
  say "building $1 $ARGOCD_VERSION (cold: several minutes)"
  local t0=$SECONDS tmp; tmp=$(mktemp -d "$out.XXXXXX")
  (cd "$root/tools/argocd" && go build -trimpath -ldflags "-s -w \
    -X github.com/argoproj/argo-cd/v3/common.version=${ARGOCD_VERSION#v} \
    -X github.com/argoproj/argo-cd/v3/common.gitTreeState=clean \
    -X github.com/argoproj/argo-cd/v3/common.buildDate=1970-01-01T00:00:00Z" \
    -o "$tmp/$1" "$2")
  mv "$tmp/$1" "$out" && rmdir "$tmp"
  say "built $1 in $((SECONDS - t0))s"
}

build_kustomize() {
  local out=$out_dir/kustomize
  if [[ -x $out ]]; then say "kustomize $KUSTOMIZE_VERSION present ($out)"; return; fi
  say "building kustomize $KUSTOMIZE_VERSION"
  local t0=$SECONDS tmp; tmp=$(mktemp -d "$out.XXXXXX")
  GOBIN=$tmp go install -trimpath -ldflags "-s -w" \
    "sigs.k8s.io/kustomize/kustomize/v5@$KUSTOMIZE_VERSION"
  mv "$tmp/kustomize" "$out" && rmdir "$tmp"
  say "built kustomize in $((SECONDS - t0))s"
}

# Argo CD's own CRDs (Application, AppProject, ApplicationSet) from the same module version,
# for the test harness that runs Argo CD against the local control plane.
copy_crds() {
  local out=$out_dir/crds
  if [[ -f $out/application-crd.yaml ]]; then say "CRDs $ARGOCD_VERSION present ($out)"; return; fi
  local src tmp; tmp=$(mktemp -d "$out.XXXXXX")
  src=$(cd "$root/tools/argocd" && go list -m -f '{{.Dir}}' github.com/argoproj/argo-cd/v3)
  cp "$src"/manifests/crds/{application,appproject,applicationset}-crd.yaml "$tmp/"
  chmod 644 "$tmp"/*.yaml
  mv "$tmp" "$out"
  say "copied Argo CD's CRDs to $out"
}

install_debian git:git redis-server:redis-server jq:jq
build_in_module argocd-health ./cmd/argocd-health
build_in_module argocd github.com/argoproj/argo-cd/v3/cmd
build_kustomize
copy_crds

say "versions:"
"$out_dir/argocd" version --client --short 2>/dev/null | sed 's/^/  /'
"$out_dir/kustomize" version | sed 's/^/  /'
redis-server --version | sed 's/^/  /'
