#!/usr/bin/env bash
# The lifecycle at scale: N stored images (default 10,000) synthesised from debian-app's real
# inventory (crates/customs-store/examples/synth.rs: each its own digest, some versions
# varied), then
#   rematch-first   a full `customs rematch` against DB v1 (every finding is new)
#   since-db        `customs rematch --since-db v1 --db v2`, v2 = v1 + 500 more PyPA advisories
#   rematch-full    a full `customs rematch` against v2 (nothing new by then)
# on SQLite, and on the local PostgreSQL (127.0.0.1:5432, database test, a throw-away schema).
set -euo pipefail
# shellcheck source=bench/lib.sh
. "$(dirname "${BASH_SOURCE[0]}")/lib.sh"
N="${N:-10000}"
build_customs
(cd "$ROOT" && cargo build --release -q -p customs-store --example synth)
SYNTH="$ROOT/target/release/examples/synth"
A="$SHARED/data/advisories"

"$CUSTOMS" sbom -q --no-cache --format json "oci:$CORPUS/out/debian-app/oci:1" > "$work/inv.json"
mkdir -p "$work/pypa-v1"
cp -r "$A/osv-pypa-yaml/vulns" "$work/pypa-v1/"
find "$work/pypa-v1" -name '*.yaml' | sort | awk 'NR % 5 == 0 && n++ < 500' | xargs rm -f
"$CUSTOMS" db build --out "$work/v1.db" "osv-yaml:$work/pypa-v1" "$A/rustsec" > /dev/null
"$CUSTOMS" db build --out "$work/v2.db" "$A/osv-pypa-yaml" "$A/rustsec" > /dev/null

secs() { /usr/bin/time -f '%e' -o "$work/t" "$@" > /dev/null; cat "$work/t"; }
run() { # LABEL STORE_URL
  local label="$1" url="$2" s1 s2 s3
  "$SYNTH" "$url" "$work/inv.json" "$N"
  s1=$(secs "$CUSTOMS" rematch -q --store-url "$url" --db "$work/v1.db")
  s2=$(secs "$CUSTOMS" rematch -q --store-url "$url" --db "$work/v2.db" --since-db "$work/v1.db")
  s3=$(secs "$CUSTOMS" rematch -q --store-url "$url" --db "$work/v2.db")
  printf '%-10s %6d images  rematch-first %6.1f s  since-db %6.2f s (target <= 2)  rematch-full %6.1f s (target <= 30)\n' \
    "$label" "$N" "$s1" "$s2" "$s3" | tee -a "$RESULTS/lifecycle-latest.txt"
}
: > "$RESULTS/lifecycle-latest.txt"
run sqlite "sqlite:$work/store.db"
schema="customs_bench_$$"
psql -q -h 127.0.0.1 -U postgres -d test -c "CREATE SCHEMA $schema"
trap 'psql -q -h 127.0.0.1 -U postgres -d test -c "DROP SCHEMA IF EXISTS $schema CASCADE"; rm -rf "$work"' EXIT
run postgres "postgres://postgres@127.0.0.1:5432/test?options=-csearch_path%3D$schema"
