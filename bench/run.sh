#!/usr/bin/env bash
# customs vs the peer (syft 1.18.1) and the gunzip floor, on the same OCI layouts, in one run.
#
#   bench/run.sh [IMAGE...]        (default: debian-app bookworm-big)
#
# Per image, each measured REPS times (median wall seconds, max peak RSS):
#   customs-cold   customs sbom --format json oci:LAYOUT with an empty cache dir
#   customs-warm   the same with the layer cache filled (every layer a cache hit)
#   syft           syft scan oci-dir:LAYOUT -o syft-json
#   gunzip-floor   gzip -dc of every layer blob to /dev/null, one after another
# and prints the ratios the acceptance criteria name. Needs the corpus
# (../shared/tools/build-images.sh) and syft (../shared/tools/install-peers.sh syft); it
# installs neither by itself unless BENCH_SETUP=1.
set -euo pipefail
# shellcheck source=bench/lib.sh
. "$(dirname "${BASH_SOURCE[0]}")/lib.sh"
images=("$@"); [ ${#images[@]} -gt 0 ] || images=(debian-app bookworm-big)

if [ "${BENCH_SETUP:-0}" = 1 ]; then
  bash "$SHARED/tools/build-images.sh" "${images[@]}"
  bash "$SHARED/tools/install-peers.sh" syft
fi
need_syft
build_customs
gunzip_all() { local f; for f in "$@"; do gzip -dc "$f" > /dev/null; done; }

printf '%-14s %-13s %9s %9s\n' image measure wall_s rss_MiB | tee "$RESULTS/latest.txt"
for img in "${images[@]}"; do
  layout="$CORPUS/out/$img/oci"
  [ -f "$layout/index.json" ] || { echo "no layout at $layout (build-images.sh $img)" >&2; exit 1; }
  mdig=$(jq -r '.manifests[0].digest' "$layout/index.json"); man="$layout/blobs/sha256/${mdig#sha256:}"
  mapfile -t blobs < <(jq -r '.layers[].digest | sub("sha256:"; "")' "$man" | sed "s|^|$layout/blobs/sha256/|")
  rm -f "$work"/customs-cold "$work"/customs-warm "$work"/syft "$work"/gunzip-floor
  for _ in $(seq "$REPS"); do
    # Everything reads from the page cache: the first pass of each warms it.
    rm -rf "$work/cache"
    measure customs-cold "$CUSTOMS" sbom --format json --cache-dir "$work/cache" "oci:$layout"
    measure customs-warm "$CUSTOMS" sbom --format json --cache-dir "$work/cache" "oci:$layout"
    measure syft "$SYFT" scan -q "oci-dir:$layout" -o syft-json
    measure gunzip-floor bash -c "$(declare -f gunzip_all); gunzip_all ${blobs[*]}"
  done
  for m in customs-cold customs-warm syft gunzip-floor; do
    read -r w r <<<"$(summary "$m")"
    printf '%-14s %-13s %9s %9s\n' "$img" "$m" "$w" "$r" | tee -a "$RESULTS/latest.txt"
    eval "W_${m//-/_}=$w; R_${m//-/_}=$r"
  done
  {
    printf '%-14s customs-cold / syft         = %.3f   (target <= 0.25)\n' "$img" "$(echo "$W_customs_cold/$W_syft" | bc -l)"
    printf '%-14s customs-cold / gunzip-floor = %.3f   (target <= 1.5)\n' "$img" "$(echo "$W_customs_cold/$W_gunzip_floor" | bc -l)"
    printf '%-14s customs-warm                = %.0f ms (target <= 50)\n' "$img" "$(echo "$W_customs_warm*1000" | bc -l)"
    printf '%-14s customs peak RSS            = %s MiB cold, %s MiB warm (target <= 100); syft %s MiB\n' "$img" "$R_customs_cold" "$R_customs_warm" "$R_syft"
  } | tee -a "$RESULTS/latest.txt"
done
echo "(results in $RESULTS/latest.txt; REPS=$REPS, median wall time, max RSS)"
