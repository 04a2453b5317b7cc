#!/usr/bin/env bash
# Stops what `make dev-up` and `make run` started.
# Usage: hack/dev-down.sh <dir>
set -uo pipefail
dir=$1
for name in operator devenv; do
  pidfile=$dir/$name.pid
  [[ -f $pidfile ]] || continue
  pid=$(cat "$pidfile")
  if kill "$pid" 2>/dev/null; then
    for _ in $(seq 1 40); do kill -0 "$pid" 2>/dev/null || break; sleep 0.25; done
    echo "stopped $name ($pid)"
  fi
  rm -f "$pidfile"
done
rm -f "$dir/kubeconfig"
