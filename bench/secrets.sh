#!/usr/bin/env bash
# The cost of the secret, config and file scanners (issue 20), in one run:
#
#   bench/secrets.sh
#
# 1. The secret scanner alone on the bookworm minbase base layer (the uncompressed rootfs
#    tar the corpus builds): crates/customs-detect/examples/secret_scan.rs, in MB/s of tar
#    and of the text it scanned (median of REPS).
# 2. debian-app cold (`customs scan --no-cache`) with `--scanners vuln` and with all four,
#    alternated REPS times against the same database: the medians and their ratio.
#    Target ≤ 1.5.
set -euo pipefail
# shellcheck source=bench/lib.sh
. "$(dirname "${BASH_SOURCE[0]}")/lib.sh"
build_customs
(cd "$ROOT" && cargo build --release -q -p customs-detect --example secret_scan)
scanner="$ROOT/target/release/examples/secret_scan"

layer="$CORPUS/cache/bookworm-minbase.rootfs.tar"
[ -f "$layer" ] || { echo "missing $layer: run scripts/test.sh (it builds the corpus)" >&2; exit 1; }
for _ in $(seq "$REPS"); do
  "$scanner" "$layer" 2>/dev/null | grep -E '^tar:' >> "$work/layer" || true
done
echo "secret scanner on $(basename "$layer") ($(stat -c %s "$layer") bytes), $REPS runs:"
cat "$work/layer"

db="$work/vuln.db"
"$CUSTOMS" db build --out "$db" "$SHARED/data/advisories/rustsec" "$SHARED/data/advisories/osv-pypa-yaml" > /dev/null 2>&1
image="oci:$CORPUS/out/debian-app/oci:1"
for _ in $(seq "$REPS"); do
  measure vuln "$CUSTOMS" scan -q --no-cache --db "$db" --scanners vuln --format json "$image"
  measure all "$CUSTOMS" scan -q --no-cache --db "$db" --format json "$image"
done
read -r vw vr <<<"$(summary vuln)"
read -r aw ar <<<"$(summary all)"
echo "debian-app cold, median of $REPS: vuln only ${vw}s ${vr} MiB; vuln,secret,config,file ${aw}s ${ar} MiB; ratio $(echo "$aw/$vw" | bc -l | cut -c1-5) (target <= 1.5)"
