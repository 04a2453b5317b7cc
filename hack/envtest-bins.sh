#!/usr/bin/env bash
# Builds the tools the tests and the demo run, from their Go modules at the versions
# pinned in hack/tools/*/go.mod: kube-apiserver, etcd and kubectl into bin/k8s/ (prints that
# directory, for KUBEBUILDER_ASSETS); with the argument "helm" bin/helm instead, with
# "lint" bin/golangci-lint.
# Nothing is downloaded but Go modules. A binary already built from the same go.mod and
# go.sum is reused.
set -euo pipefail
root=$(cd "$(dirname "$0")/.." && pwd)

build() { # out-dir name module-dir package
  local out=$1 name=$2 dir=$3 pkg=$4
  mkdir -p "$out"
  local stamp
  stamp=$(cat "$dir/go.mod" "$dir/go.sum" | sha256sum | cut -c1-16)
  if [[ -x "$out/$name" && -f "$out/$name.stamp" && $(cat "$out/$name.stamp") == "$stamp" ]]; then
    return
  fi
  echo "building $name from $(grep -m1 -E '^require' "$dir/go.mod" | cut -d' ' -f2-) (first time takes minutes)" >&2
  (cd "$dir" && CGO_ENABLED=0 GOFLAGS=-mod=mod go build -trimpath -o "$out/$name.tmp" "$pkg")
  mv "$out/$name.tmp" "$out/$name"
  echo "$stamp" >"$out/$name.stamp"
}

if [[ ${1:-} == helm ]]; then
  build "$root/bin" helm "$root/hack/tools/helm" helm.sh/helm/v3/cmd/helm
  exit 0
fi
if [[ ${1:-} == lint ]]; then
  build "$root/bin" golangci-lint "$root/hack/tools/golangci-lint" github.com/golangci/golangci-lint/v2/cmd/golangci-lint
  exit 0
fi
build "$root/bin/k8s" etcd "$root/hack/tools/etcd" go.etcd.io/etcd/server/v3
build "$root/bin/k8s" kube-apiserver "$root/hack/tools/kube-apiserver" k8s.io/kubernetes/cmd/kube-apiserver
# kubectl, of the same Kubernetes, for the tests that run the Makefile's install and
# removal targets.
build "$root/bin/k8s" kubectl "$root/hack/tools/kube-apiserver" k8s.io/kubernetes/cmd/kubectl
echo "$root/bin/k8s"
