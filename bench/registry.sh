#!/usr/bin/env bash
# Registry pulls: customs against the peer (syft 1.18.1), on the same images in the same local
# registry (../shared/tools/registry-up.sh plain, images pushed by build-images.sh), in one run.
#
#   bench/registry.sh [IMAGE...]     (default: debian-app bookworm-big)
#
# Per image, each measured REPS times (median wall seconds, max peak RSS):
#   customs-cold   customs sbom --format json 127.0.0.1:5000/IMAGE:1, empty cache (pull + inventory)
#   customs-warm   the same with the layer cache filled: only the manifest and config are fetched
#   syft           syft scan registry:127.0.0.1:5000/IMAGE:1 -o syft-json (pull + inventory)
# and prints customs-cold/syft and the warm time against its 100 ms target. Needs the corpus
# pushed (build-images.sh with PUSH=1, or scripts/test.sh) and syft
# (../shared/tools/install-peers.sh syft).
set -euo pipefail
# shellcheck source=bench/lib.sh
. "$(dirname "${BASH_SOURCE[0]}")/lib.sh"
REG="${REG:-127.0.0.1:5000}"
images=("$@"); [ ${#images[@]} -gt 0 ] || images=(debian-app bookworm-big)
need_syft
curl -sf -o /dev/null "http://$REG/v2/" || { echo "no registry at $REG: $SHARED/tools/registry-up.sh plain" >&2; exit 1; }
export SYFT_REGISTRY_INSECURE_USE_HTTP=true
build_customs


printf '%-14s %-13s %9s %9s\n' image measure wall_s rss_MiB | tee "$RESULTS/registry-latest.txt"
for img in "${images[@]}"; do
  ref="$REG/$img:1"
  rm -f "$work"/customs-cold "$work"/customs-warm "$work"/syft
  for _ in $(seq "$REPS"); do
    rm -rf "$work/cache"
    measure customs-cold "$CUSTOMS" sbom -q --format json --cache-dir "$work/cache" "$ref"
    measure customs-warm "$CUSTOMS" sbom -q --format json --cache-dir "$work/cache" "$ref"
    measure syft "$SYFT" scan -q "registry:$ref" -o syft-json
  done
  for m in customs-cold customs-warm syft; do
    read -r w r <<<"$(summary "$m")"
    printf '%-14s %-13s %9s %9s\n' "$img" "$m" "$w" "$r" | tee -a "$RESULTS/registry-latest.txt"
    eval "W_${m//-/_}=$w"
  done
  {
    printf '%-14s customs-cold / syft = %.3f\n' "$img" "$(echo "$W_customs_cold/$W_syft" | bc -l)"
    printf '%-14s customs-warm        = %.0f ms (target <= 100)\n' "$img" "$(echo "$W_customs_warm*1000" | bc -l)"
  } | tee -a "$RESULTS/registry-latest.txt"
done
echo "(results in $RESULTS/registry-latest.txt; REPS=$REPS, median wall time, max RSS)"
