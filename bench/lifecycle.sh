#!/usr/bin/env bash
# The lifecycle at scale: N stored images (default 10,000) synthesised from the real package
# lists of the corpus images (debian-app, bookworm-big, bullseye-minbase, trixie-minbase) and
# the real alpine:3.10 archive, taken in turn, each its own digest, with versions varied in
# every third image (crates/customs-store/examples/synth.rs). Then:
#   rematch-first   a full `customs rematch` against DB v1 (every finding is new: the heaviest
#                   write)
#   since-db        `customs rematch --since-db v1 --db v2`, where v2 = v1 + 500 advisories:
#                   300 PyPA advisories and the 200 newest DSAs (the DSA list is newest first)
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

corpus_inventories

# v1 and v2: the feeds these images are matched against, v1 without 500 advisories. Both are
# built from the same paths, as a real update rebuilds from the same feed folders: a finding
# names the file its advisory came from, and a path that moved would change every finding.
feeds="$work/feeds"; mkdir -p "$feeds/dsa"
cp -r "$A/osv-pypa-yaml" "$feeds/pypa"
find "$feeds/pypa" -name '*.yaml' | sort | awk 'NR % 5 == 0 && n++ < 300' | xargs rm -f
awk '/^\[/ { n++ } n > 200' "$A/debian-tracker/data/DSA/list" > "$feeds/dsa/list"
build() { # OUT: the database of the feeds as they are now
  "$CUSTOMS" db build --out "$1" "osv-yaml:$feeds/pypa" "debian-dsa:$feeds/dsa/list" \
    "debian-dla:$A/debian-tracker/data/DLA/list" "$A/alpine-secdb-yaml/v3.10" "$A/rustsec" \
    "kev-json:$A/kev/known_exploited_vulnerabilities.json" > /dev/null
}
build "$work/v1.db"
cp -r "$A/osv-pypa-yaml/." "$feeds/pypa/"
cp "$A/debian-tracker/data/DSA/list" "$feeds/dsa/list"
build "$work/v2.db"

secs() { /usr/bin/time -f '%e' -o "$work/t" "$@" > "$work/out" 2> "$work/err" || { cat "$work/err" >&2; exit 1; }; cat "$work/t"; }
run() { # LABEL STORE_URL
  local label="$1" url="$2" s1 s2 s3 touched
  "$SYNTH" "$url" "$N" "${inventories[@]}"
  s1=$(secs "$CUSTOMS" rematch -q --store-url "$url" --db "$work/v1.db")
  s2=$(secs "$CUSTOMS" rematch -q --store-url "$url" --db "$work/v2.db" --since-db "$work/v1.db")
  touched=$(tail -1 "$work/out")
  s3=$(secs "$CUSTOMS" rematch -q --store-url "$url" --db "$work/v2.db")
  printf '%-10s %6d images  rematch-first %6.1f s  since-db %6.2f s (target <= 2; %s)  rematch-full %6.1f s (target <= 30)\n' \
    "$label" "$N" "$s1" "$s2" "$touched" "$s3" | tee -a "$RESULTS/lifecycle-latest.txt"
}
: > "$RESULTS/lifecycle-latest.txt"
run sqlite "sqlite:$work/store.db"
pg_schema
run postgres "$pg_url"
