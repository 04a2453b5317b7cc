#!/usr/bin/env bash
# Packs bin/kubectl-region as a krew archive and writes its manifest from
# hack/krew/region.yaml: bin/krew/kubectl-region_<version>_linux_amd64.tar.gz and
# bin/krew/region.yaml. KREW_URI is where the archive will be published (a release's
# download address); KREW_HOMEPAGE the project's page.
set -euo pipefail
version=${1:?version}
root=$(cd "$(dirname "$0")/.." && pwd)
out=$root/bin/krew
mkdir -p "$out/pack"
cp "$root/bin/kubectl-region" "$out/pack/"
if [ -f "$root/LICENSE" ]; then cp "$root/LICENSE" "$out/pack/"; else echo "See the project's repository." > "$out/pack/LICENSE"; fi
archive=kubectl-region_${version}_linux_amd64.tar.gz
tar -C "$out/pack" -czf "$out/$archive" kubectl-region LICENSE
sum=$(sha256sum "$out/$archive" | cut -d' ' -f1)
uri=${KREW_URI:-file://$out/$archive}
sed -e "s|{{VERSION}}|$version|" -e "s|{{URI}}|$uri|" -e "s|{{SHA256}}|$sum|" -e "s|{{HOMEPAGE}}|${KREW_HOMEPAGE:-https://example.invalid/region-operator}|" \
  "$root/hack/krew/region.yaml" > "$out/region.yaml"
echo "bin/krew/$archive (sha256 $sum) and bin/krew/region.yaml"
