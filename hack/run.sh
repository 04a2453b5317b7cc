#!/usr/bin/env bash
# Runs the operator in the foreground against the local control plane when `make dev-up`
# started one, else against the current kubeconfig. `make dev-down` stops it too.
set -euo pipefail
bin=$1 dir=$2
shift 2
args=(--metrics-bind-address=:8080 --health-probe-bind-address=:8081)
if [[ -f $dir/kubeconfig ]]; then
  args+=(--kubeconfig="$dir/kubeconfig")
  echo $$ >"$dir/operator.pid"
fi
exec "$bin" "${args[@]}" "$@"
