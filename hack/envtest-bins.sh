#!/usr/bin/env bash
# Builds the control plane the tests and the demo run against: kube-apiserver and etcd,
# from their Go modules at the versions pinned in hack/tools/*/go.mod, into bin/k8s/.
# Nothing is downloaded but Go modules. A binary already built from the same go.sum is
# reused. Prints the directory to use as KUBEBUILDER_ASSETS.
set -euo pipefail
root=$(cd "$(dirname "$0")/.." && pwd)
out="$root/bin/k8s"
mkdir -p "$out"

build() { # name module-dir package
  local name=$1 dir=$2 pkg=$3
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

build etcd "$root/hack/tools/etcd" go.etcd.io/etcd/server/v3
build kube-apiserver "$root/hack/tools/kube-apiserver" k8s.io/kubernetes/cmd/kube-apiserver
echo "$out"
