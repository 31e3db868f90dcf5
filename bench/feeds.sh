#!/usr/bin/env bash
# The vulnerability data's own costs, in one run:
#   full-build   customs db build over every folder of ../shared/data/advisories (time, size)
#   first        db update --mirror from a local mirror of every default feed with local data
#                (bench/feeds.py builds it; python3 -m http.server serves it, with
#                Last-Modified and 304 answers to If-Modified-Since)
#   no-change    the same update again: every feed asked conditionally, nothing parsed
#   one-feed     after the DSA list changes: one feed fetched and parsed, the rest merged
#   push / pull  db push of that database to the local registry (127.0.0.1:5000, started by
#                ../shared/tools/registry-up.sh), a pull into an empty cache, and after the
#                one-feed update a second push and pull: the layers each moved
# and the ratios the acceptance criteria name (no-change <= 1 s; one-feed <= 20 % of a full
# build). Needs ../shared/data, PyYAML (python3 -m pip install pyyaml), zstd, openssl and the
# registry.
set -euo pipefail
. "$(dirname "${BASH_SOURCE[0]}")/lib.sh"
build_customs
A="$SHARED/data/advisories"
secs() { /usr/bin/time -f '%e' -o "$work/t" "$@" > "$work/out" 2> "$work/err" || { cat "$work/err" >&2; exit 1; }; cat "$work/t"; }
size() { stat -c %s "$1"; }

full=$(secs "$CUSTOMS" db build --out "$work/full.db" "$A"/*)
groups=$(python3 "$ROOT/bench/feeds.py" "$CUSTOMS" "$SHARED" "$work/mirror")
port=$(python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])')
python3 -m http.server "$port" --bind 127.0.0.1 --directory "$work/mirror" > /dev/null 2>&1 &
server=$!
trap 'kill $server 2>/dev/null; rm -rf "$work"' EXIT
for _ in $(seq 50); do curl -fs "http://127.0.0.1:$port/" > /dev/null && break; sleep 0.1; done
update() { secs "$CUSTOMS" db update -q --db "$work/vuln.db" --cache-dir "$work/cache" \
  --mirror "http://127.0.0.1:$port" --feeds "$groups"; }
curl -fs http://127.0.0.1:5000/v2/ > /dev/null || { echo "no registry on 127.0.0.1:5000: ../shared/tools/registry-up.sh plain" >&2; exit 1; }
openssl genpkey -algorithm EC -pkeyopt ec_paramgen_curve:P-256 -out "$work/db.key" 2> /dev/null
openssl pkey -in "$work/db.key" -pubout -out "$work/db.pub"
repo="127.0.0.1:5000/customs-bench/db-$$-$(date +%s):latest"
push() { secs "$CUSTOMS" db push "$repo" --key "$work/db.key" --db "$work/vuln.db" --cache-dir "$work/cache" --format json; }
pull() { secs "$CUSTOMS" db pull "$repo" --key "$work/db.pub" --db "$work/pulled.db" --cache-dir "$work/pull-cache" --format json; }
moved() { jq -r '"\([.layers[]|select(.transferred)]|length) of \(.layers|length) layers, \([.layers[]|select(.transferred)|.size]|add // 0) bytes"' "$work/out"; }
first=$(update)
push1=$(push); pushed1=$(moved)
pull1=$(pull); pulled1=$(moved)
nochange=$(update)
grep -q "not rebuilt" "$work/out" || { echo "the no-change update rebuilt: $(cat "$work/out")" >&2; exit 1; }
dsa=$(find "$work/mirror" -path '*DSA/list')
{ printf '[01 Dec 2026] DSA-9999-1 zlib - security update\n\t{CVE-2099-0001}\n\t[bullseye] - zlib 1:1.2.11.dfsg-9\n'; cat "$dsa"; } > "$dsa.new"
mv "$dsa.new" "$dsa"
sleep 1  # a new Last-Modified second, as http.server dates files to the second
onefeed=$(update)
grep -q "; 1 parsed" "$work/out" || { echo "the one-feed update parsed more: $(cat "$work/out")" >&2; exit 1; }
push2=$(push); pushed2=$(moved)
pull2=$(pull); pulled2=$(moved)
{
  printf 'full-build   %6.2f s  %s bytes (every folder of shared/data/advisories)\n' "$full" "$(size "$work/full.db")"
  printf 'first        %6.2f s  %s bytes (db update --mirror, feeds: %s)\n' "$first" "$(size "$work/vuln.db")" "$groups"
  printf 'no-change    %6.2f s  (target <= 1)\n' "$nochange"
  printf 'one-feed     %6.2f s  = %.0f %% of the full build (target <= 20 %%), %.0f %% of the first update\n' \
    "$onefeed" "$(echo "100*$onefeed/$full" | bc -l)" "$(echo "100*$onefeed/$first" | bc -l)"
  printf 'push         %6.2f s  uploaded %s\n' "$push1" "$pushed1"
  printf 'pull         %6.2f s  downloaded %s (empty cache)\n' "$pull1" "$pulled1"
  printf 'push again   %6.2f s  uploaded %s (after the one-feed update)\n' "$push2" "$pushed2"
  printf 'pull again   %6.2f s  downloaded %s\n' "$pull2" "$pulled2"
} | tee "$RESULTS/feeds-latest.txt"
