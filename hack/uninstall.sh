#!/usr/bin/env bash
# Removes region-operator's CRDs. Deleting a CRD deletes every object of it: a Region
# deleted that way while no operator runs stays Terminating for ever (its finalizer is
# the operator's to release), and with the operator running it is deleted as its
# deletionPolicy says, without a person choosing. So this refuses while Regions exist:
# delete them first, while the operator runs (README: Removing), or set FORCE=true.
set -euo pipefail
kubectl=${KUBECTL:-kubectl}
root=$(cd "$(dirname "$0")/.." && pwd)

if $kubectl get crd regions.platform.jiceng.io >/dev/null 2>&1; then
  regions=$($kubectl get regions.platform.jiceng.io -o name)
  if [[ -n $regions && ${FORCE:-} != true ]]; then
    n=$(wc -l <<<"$regions")
    echo "make uninstall: $n Region(s) still exist:" >&2
    sed 's/^/  /' <<<"$regions" >&2
    echo "Delete them while the operator runs (kubectl delete regions --all; a Region under" >&2
    echo "deletionPolicy Delete waits for its confirmation annotation), then make undeploy," >&2
    echo "then make uninstall. FORCE=true deletes the CRDs anyway." >&2
    exit 1
  fi
fi
$kubectl delete --ignore-not-found -f "$root/config/crd/bases"
