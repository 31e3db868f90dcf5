#!/usr/bin/env bash
# The standard formats against the peer (syft 1.18.1), on the same OCI layouts, in one run.
#
#   bench/formats.sh [IMAGE...]    (default: debian-app bookworm-big)
#
# Per image, each measured REPS times (median wall seconds, max peak RSS):
#   customs-cdx     customs sbom -o cyclonedx oci:LAYOUT, empty cache (a cold CycloneDX SBOM)
#   syft-cdx        syft scan oci-dir:LAYOUT -o cyclonedx-json
#   customs-spdx    customs sbom -o spdx-json, empty cache
#   syft-spdx       syft scan oci-dir:LAYOUT -o spdx-json
#   customs-all     customs scan -o json= -o cyclonedx= -o spdx-json= -o sarif= -o html=, warm
#                   cache: one scan, five documents
#   scan-image      customs scan -o json oci:LAYOUT, warm cache
#   scan-sbom       customs scan -o json sbom:FILE of syft's CycloneDX of the image: matching
#                   an SBOM, no image read
# and prints the ratios. Needs the corpus and syft, as bench/run.sh.
set -euo pipefail
# shellcheck source=bench/lib.sh
. "$(dirname "${BASH_SOURCE[0]}")/lib.sh"
images=("$@"); [ ${#images[@]} -gt 0 ] || images=(debian-app bookworm-big)
need_syft
build_customs
export XDG_DATA_HOME="$work/data"   # the built-in snapshot becomes vuln.db here, once, below
"$CUSTOMS" scan -q -o json --cache-dir "$work/cache" "oci:$CORPUS/out/${images[0]}/oci" > /dev/null

labels=(customs-cdx syft-cdx customs-spdx syft-spdx customs-all scan-image scan-sbom)
printf '%-14s %-13s %9s %9s\n' image measure wall_s rss_MiB | tee "$RESULTS/formats.txt"
for img in "${images[@]}"; do
  layout="$CORPUS/out/$img/oci"
  [ -f "$layout/index.json" ] || { echo "no layout at $layout (build-images.sh $img)" >&2; exit 1; }
  "$SYFT" scan -q "oci-dir:$layout" -o "cyclonedx-json=$work/$img.syft.cdx.json"
  for l in "${labels[@]}"; do rm -f "$work/$l"; done
  for _ in $(seq "$REPS"); do
    rm -rf "$work/cold"
    measure customs-cdx "$CUSTOMS" sbom -q -o cyclonedx --cache-dir "$work/cold" "oci:$layout"
    measure syft-cdx "$SYFT" scan -q "oci-dir:$layout" -o cyclonedx-json
    rm -rf "$work/cold"
    measure customs-spdx "$CUSTOMS" sbom -q -o spdx-json --cache-dir "$work/cold" "oci:$layout"
    measure syft-spdx "$SYFT" scan -q "oci-dir:$layout" -o spdx-json
    measure customs-all "$CUSTOMS" scan -q --cache-dir "$work/cache" -o "json=$work/s.json" \
      -o "cyclonedx=$work/s.cdx.json" -o "spdx-json=$work/s.spdx.json" -o "sarif=$work/s.sarif" \
      -o "html=$work/s.html" "oci:$layout"
    measure scan-image "$CUSTOMS" scan -q -o json --cache-dir "$work/cache" "oci:$layout"
    measure scan-sbom "$CUSTOMS" scan -q -o json --cache-dir "$work/cache" "sbom:$work/$img.syft.cdx.json"
  done
  for m in "${labels[@]}"; do
    read -r w r <<<"$(summary "$m")"
    printf '%-14s %-13s %9s %9s\n' "$img" "$m" "$w" "$r" | tee -a "$RESULTS/formats.txt"
    eval "W_${m//-/_}=$w"
  done
  {
    printf '%-14s customs-cdx / syft-cdx     = %.3f\n' "$img" "$(echo "$W_customs_cdx/$W_syft_cdx" | bc -l)"
    printf '%-14s customs-spdx / syft-spdx   = %.3f\n' "$img" "$(echo "$W_customs_spdx/$W_syft_spdx" | bc -l)"
    printf '%-14s five documents, one scan   = %.0f ms (one json scan: %.0f ms)\n' "$img" \
      "$(echo "$W_customs_all*1000" | bc -l)" "$(echo "$W_scan_image*1000" | bc -l)"
    printf '%-14s scan of syft SBOM          = %.0f ms\n' "$img" "$(echo "$W_scan_sbom*1000" | bc -l)"
  } | tee -a "$RESULTS/formats.txt"
done
echo "(results in $RESULTS/formats.txt; REPS=$REPS, median wall time, max RSS)"
