#!/usr/bin/env bash
# Vulnerability database and matching benchmarks, in one run:
#   db-build      customs db build over every feed in ../shared/data/advisories: time, size
#   match-1k      customs scan of a root filesystem holding ~1,100 real Debian packages (this
#                 machine's dpkg status plus the texlive status from shared data), warm: the
#                 database already built and in the page cache
#   scan-app      customs scan of debian-app (OCI layout, empty layer cache) vs syft scan of the
#                 same layout (inventory only: syft does not match)
# Prints median wall seconds over REPS runs.
set -euo pipefail
# shellcheck source=bench/lib.sh
. "$(dirname "${BASH_SOURCE[0]}")/lib.sh"
build_customs
C="$CUSTOMS"
# Wall seconds of one run, measured by GNU time (no extra processes inside the interval).
timeit() { /usr/bin/time -f '%e' -o "$work/t" "$@" > /dev/null 2>&1 || true; cat "$work/t"; }

A="$SHARED/data/advisories"
t=$(timeit "$C" db build --out "$work/all.db" "$A")
printf 'db-build (all of shared/data/advisories): %.2f s, %.1f MB\n' "$t" "$(echo "$(stat -c %s "$work/all.db")/1000000" | bc -l)"
"$C" db info --db "$work/all.db" | sed 's/^/  /'

mkdir -p "$work/root/var/lib/dpkg" "$work/root/etc"
{ cat /var/lib/dpkg/status; echo; cat "$SHARED/data/packagedb/dpkg/texlive.status"; } > "$work/root/var/lib/dpkg/status"
printf 'ID=debian\nVERSION_ID="12"\nVERSION_CODENAME=bookworm\n' > "$work/root/etc/os-release"
n=$("$C" sbom -f json --no-cache "dir:$work/root" | jq '.packages|length')
"$C" scan -q --db "$work/all.db" --no-cache "dir:$work/root" > /dev/null 2>&1 || true
for _ in $(seq "$REPS"); do timeit "$C" scan -q -f json --db "$work/all.db" --no-cache "dir:$work/root"; done | median > "$work/m"
printf 'match-%s-packages (scan dir:, warm): %.0f ms  (target <= 20 ms)\n' "$n" "$(echo "$(cat "$work/m")*1000" | bc -l)"

layout="$CORPUS/out/debian-app/oci"
for _ in $(seq "$REPS"); do timeit "$C" scan -q -f json --db "$work/all.db" --cache-dir "$work/c$RANDOM" "oci:$layout"; done | median > "$work/s"
if [ -x "$SYFT" ]; then
  for _ in $(seq "$REPS"); do timeit "$SYFT" scan -q "oci-dir:$layout" -o syft-json; done | median > "$work/y"
  printf 'scan debian-app: customs %.2f s (inventory + match), syft %.2f s (inventory only): ratio %.3f\n' "$(cat "$work/s")" "$(cat "$work/y")" "$(echo "$(cat "$work/s")/$(cat "$work/y")" | bc -l)"
else
  printf 'scan debian-app: customs %.2f s (syft not installed)\n' "$(cat "$work/s")"
fi
