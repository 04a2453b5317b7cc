#!/usr/bin/env bash
# Starts the local control plane in the background and waits for its kubeconfig.
# Usage: hack/dev-up.sh <devenv binary> <dir>
set -euo pipefail
devenv=$1 dir=$2
mkdir -p "$dir"
if [[ -f $dir/devenv.pid ]] && kill -0 "$(cat "$dir/devenv.pid")" 2>/dev/null; then
  echo "the local control plane is already running; kubeconfig: $dir/kubeconfig"
  exit 0
fi
rm -f "$dir/kubeconfig"
nohup "$devenv" --dir "$dir" >"$dir/devenv.log" 2>&1 &
echo $! >"$dir/devenv.pid"
for _ in $(seq 1 120); do
  if [[ -f $dir/kubeconfig ]]; then
    cat "$dir/devenv.log"
    echo "next: export KUBECONFIG=$dir/kubeconfig; make run (the operator), then kubectl apply -k config/samples"
    exit 0
  fi
  if ! kill -0 "$(cat "$dir/devenv.pid")" 2>/dev/null; then
    cat "$dir/devenv.log" >&2
    exit 1
  fi
  sleep 0.5
done
echo "the control plane did not come up in 60s; see $dir/devenv.log" >&2
exit 1
