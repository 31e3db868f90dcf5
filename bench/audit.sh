#!/usr/bin/env bash
# The registry audit (issue 18): `customs audit REGISTRY` over a population of tags, against
# scanning each of its images on its own, on the local plain registry (127.0.0.1:5000 from
# ../shared/tools/registry-up.sh plain, the corpus pushed by build-images.sh or
# scripts/test.sh), whose access log (registry/run/plain.log) says which blobs were fetched.
#
#   bench/audit.sh
#
# The population, under a prefix of its own (bench-audit-TIME-PID/; its manifests deleted on
# exit unless KEEP=1): TAGS tags (default 30) over REPOS repositories (default 6) naming the
# distinct images made from SOURCES (default: the corpus's single-platform tags; the OCI and
# docker forms of an image are two digests over the same layers, and debian-app and
# bookworm-big share their base layer), each source also in REBUILDS rebuilds (default 1):
# its layers under a config with one more label, another digest, as a rebuild on an unchanged
# base. Tag vT is put in repository r(T / ceil(TAGS/REPOS)) and names image T modulo the
# number of images, so an image has one or two tags, in different repositories. Made with the registry's API (blobs mounted from the source
# repository, manifests put): nothing is pulled. Then, REPS times (default 5):
#   audit cold   customs audit REG --repos 'PREFIX/*' --concurrency CONCURRENCY (default 4),
#                an empty layer cache and store; and the same at --concurrency 1
#   audit warm   the same again: every image already stored, nothing scanned or pulled
#   alone        customs scan --store of each distinct image (REPO@DIGEST), one after another,
#                each with an empty layer cache of its own (process start included)
# and prints images per minute of each (median wall time), the ratio audit/alone, and the
# share of the audit's layer reads served from its cache: 1 - layer blob GETs (the access log)
# / layer references (over the distinct images). Nothing asserts on the times.
set -euo pipefail
# shellcheck source=bench/lib.sh
. "$(dirname "${BASH_SOURCE[0]}")/lib.sh"
REG="${REG:-127.0.0.1:5000}"
LOG="${LOG:-$CORPUS/registry/run/plain.log}"
TAGS="${TAGS:-30}"
REPOS="${REPOS:-6}"
REBUILDS="${REBUILDS:-1}"
CONCURRENCY="${CONCURRENCY:-4}"
SOURCES="${SOURCES:-debian-app:1 debian-app:1-docker debian-app:1-zstd bookworm-big:1 bookworm-big:1-docker bullseye-minbase:1 bullseye-minbase:1-docker trixie-minbase:1 trixie-minbase:1-docker}"
PREFIX="bench-audit-$(date +%s)-$$"
api="http://$REG/v2"
curl -sf -o /dev/null "$api/" || { echo "no registry at $REG: $SHARED/tools/registry-up.sh plain" >&2; exit 1; }
[ -r "$LOG" ] || { echo "no access log at $LOG (LOG=...)" >&2; exit 1; }
build_customs

A="$SHARED/data/advisories"
"$CUSTOMS" db build --out "$work/vuln.db" "osv-yaml:$A/osv-pypa-yaml" \
  "debian-dsa:$A/debian-tracker/data/DSA/list" "debian-dla:$A/debian-tracker/data/DLA/list" \
  "$A/alpine-secdb-yaml/v3.10" "$A/rustsec" "kev-json:$A/kev/known_exploited_vulnerabilities.json" > /dev/null

# Registry API helpers. mount REPO DIGEST FROM: a blob of FROM linked into REPO (no data
# moves). upload REPO FILE DIGEST: a blob pushed whole.
mount() {
  local code
  code=$(curl -sS -o /dev/null -w '%{http_code}' -X POST "$api/$1/blobs/uploads/?mount=$2&from=$3")
  [ "$code" = 201 ] || { echo "mounting $2 from $3 into $1: HTTP $code" >&2; exit 1; }
}
upload() {
  local loc sep='?'
  loc=$(curl -fsS -X POST -D - -o /dev/null "$api/$1/blobs/uploads/" | tr -d '\r' | awk 'tolower($1) == "location:" { print $2 }')
  case "$loc" in /*) loc="http://$REG$loc" ;; esac
  case "$loc" in *\?*) sep='&' ;; esac
  curl -fsS -o /dev/null -X PUT -H 'Content-Type: application/octet-stream' --data-binary "@$2" "$loc${sep}digest=$3"
}
sha() { echo "sha256:$(sha256sum < "$1" | cut -d' ' -f1)"; }

# The distinct images: manifest $work/m$i (the bytes put), its media type, the repository its
# blobs are mounted from, its digest, and its config $work/c$i (put as a blob for a rebuild).
accept='application/vnd.oci.image.manifest.v1+json, application/vnd.docker.distribution.manifest.v2+json'
src_repo=(); media=(); digest=(); rebuilt=()
n=0
for src in $SOURCES; do
  repo="${src%:*}"
  curl -fsS -D "$work/h" -H "Accept: $accept" -o "$work/m$n" "$api/$repo/manifests/${src##*:}"
  type=$(tr -d '\r' < "$work/h" | awk 'tolower($1) == "content-type:" { print $2 }')
  case "$type" in
    application/vnd.oci.image.manifest.v1+json | application/vnd.docker.distribution.manifest.v2+json) ;;
    *) echo "$src: $type is not a single image's manifest (SOURCES takes no index)" >&2; exit 1 ;;
  esac
  base=$n
  src_repo[n]="$repo"; media[n]="$type"; digest[n]=$(sha "$work/m$n"); rebuilt[n]=0; n=$((n + 1))
  curl -fsS -o "$work/c$base" "$api/$repo/blobs/$(jq -r .config.digest "$work/m$base")"
  for v in $(seq "$REBUILDS"); do
    jq -c --arg v "$v" '.config.Labels = ((.config.Labels // {}) + {"bench.audit.rebuild": $v})' "$work/c$base" > "$work/c$n"
    jq -c --arg d "$(sha "$work/c$n")" --argjson s "$(stat -c %s "$work/c$n")" \
      '.config.digest = $d | .config.size = $s' "$work/m$base" > "$work/m$n"
    src_repo[n]="$repo"; media[n]="$type"; digest[n]=$(sha "$work/m$n"); rebuilt[n]=1; n=$((n + 1))
  done
done
[ "$TAGS" -ge "$n" ] || { echo "TAGS=$TAGS is fewer than the $n distinct images" >&2; exit 1; }

# put IMAGE REPO TAG
put() {
  local i="$1" blob
  for blob in $(jq -r '.layers[].digest' "$work/m$i"); do mount "$2" "$blob" "${src_repo[i]}"; done
  if [ "${rebuilt[i]}" = 1 ]; then
    upload "$2" "$work/c$i" "$(jq -r .config.digest "$work/m$i")"
  else
    mount "$2" "$(jq -r .config.digest "$work/m$i")" "${src_repo[i]}"
  fi
  curl -fsS -o /dev/null -X PUT -H "Content-Type: ${media[i]}" --data-binary "@$work/m$i" "$api/$2/manifests/$3"
  echo "$2 ${digest[i]}" >> "$work/placed"
}
cleanup() {
  if [ "${KEEP:-0}" = 1 ]; then echo "kept $REG/$PREFIX/" >&2; return; fi
  [ -f "$work/placed" ] || return 0
  sort -u "$work/placed" | while read -r repo d; do
    curl -s -o /dev/null -X DELETE "$api/$repo/manifests/$d" || true
  done
}
trap 'cleanup; rm -rf "$work"' EXIT
per=$(( (TAGS + REPOS - 1) / REPOS ))
home=()  # the first repository each image was put in: where `alone` scans it from
for t in $(seq 0 $((TAGS - 1))); do
  i=$((t % n)); repo="$PREFIX/r$((t / per))"
  put "$i" "$repo" "v$t"
  [ -n "${home[i]:-}" ] || home[i]="$repo"
done
repos=$(cut -d' ' -f1 "$work/placed" | sort -u | wc -l)

# Layer references over the distinct images, the distinct layer blobs, and the distinct
# layer contents (the configs' diff_ids: a zstd layer and the gzip one of the same tar are
# two blobs of one content, and customs' cache is keyed by content).
for i in $(seq 0 $((n - 1))); do jq -r '.layers[].digest' "$work/m$i"; done > "$work/refs"
refs=$(wc -l < "$work/refs")
sort -u "$work/refs" > "$work/layers"
layers=$(wc -l < "$work/layers")
contents=$(for i in $(seq 0 $((n - 1))); do jq -r '.rootfs.diff_ids[]' "$work/c$i"; done | sort -u | wc -l)

# gets FROM OUT: the digests of the blob GETs of the prefix's repositories logged after byte
# FROM of the access log, one a line, into OUT. The log is written as responses complete:
# read again until that list stops changing.
gets() {
  local last="" now k
  for k in $(seq 30); do
    sleep 0.3
    now=$(tail -c +"$(($1 + 1))" "$LOG" | grep -o "\"GET /v2/$PREFIX/[^ ]*/blobs/sha256:[0-9a-f]*" | sed 's,.*/blobs/,,' || true)
    [ "$k" -gt 1 ] && [ "$now" = "$last" ] && break
    last="$now"
  done
  if [ -n "$now" ]; then printf '%s\n' "$now"; fi > "$2"
}
layer_gets() { grep -cxFf "$work/layers" "$1" || true; }
# timed OUT CMD... -> wall seconds; the command's standard output into OUT
timed() {
  local out="$1"; shift
  /usr/bin/time -f '%e' -o "$work/t" "$@" > "$out" 2> "$work/err" || { cat "$work/err" >&2; echo "failed: $*" >&2; exit 1; }
  cat "$work/t"
}
audit=("$CUSTOMS" audit "$REG" -q --repos "$PREFIX/*" --store-url "sqlite:$work/audit.db" --db "$work/vuln.db"
  --cache-dir "$work/audit-cache" --format json)
check() { # JSON SCANNED STORED: the run saw every image, scanned and already stored as given
  jq -e --argjson n "$n" --argjson s "$2" --argjson k "$3" \
    '.run.images == $n and (.run.scanned | length) == $s and .run.already_stored == $k and (.run.failed | length) == 0' "$1" > /dev/null \
    || { echo "unexpected audit run:" >&2; jq -c .run "$1" >&2; exit 1; }
}
per_min() { echo "$1 * 60 / $2" | bc -l; }

# REPS times: the audit cold (a fresh layer cache and store), at --concurrency 1 too, and
# warm (the same again); then each image scanned alone. Wall seconds, and blob GETs by count.
for _ in $(seq "$REPS"); do
  for c in "$CONCURRENCY" 1; do
    rm -rf "$work/audit-cache" "$work"/audit.db*
    from=$(stat -c %s "$LOG")
    timed "$work/cold.json" "${audit[@]}" --concurrency "$c" >> "$work/cold-$c"
    check "$work/cold.json" "$n" 0
    gets "$from" "$work/gets"
    layer_gets "$work/gets" >> "$work/cold-$c-layer-gets"
    wc -l < "$work/gets" >> "$work/cold-$c-gets"
  done
  from=$(stat -c %s "$LOG")
  timed "$work/warm.json" "${audit[@]}" --concurrency "$CONCURRENCY" >> "$work/warm"
  check "$work/warm.json" 0 "$n"
  gets "$from" "$work/gets"
  wc -l < "$work/gets" >> "$work/warm-gets"

  rm -f "$work"/alone.db*
  from=$(stat -c %s "$LOG")
  total=0
  for i in $(seq 0 $((n - 1))); do
    rm -rf "$work/alone-cache"
    s=$(timed /dev/null "$CUSTOMS" scan -q --format json --db "$work/vuln.db" --cache-dir "$work/alone-cache" \
      --store --store-url "sqlite:$work/alone.db" "$REG/${home[i]}@${digest[i]}")
    total=$(echo "$total + $s" | bc -l)
  done
  echo "$total" >> "$work/alone"
  gets "$from" "$work/gets"
  layer_gets "$work/gets" >> "$work/alone-layer-gets"
done

# range FILE: its numbers as "N" when all equal, else "MIN-MAX"
range() { sort -n "$1" | awk 'NR == 1 { lo = $1 } { hi = $1 } END { print (lo == hi ? lo : lo "-" hi) }'; }
s_cold=$(median < "$work/cold-$CONCURRENCY")
s_cold1=$(median < "$work/cold-1")
s_warm=$(median < "$work/warm")
s_alone=$(median < "$work/alone")
cold_layer_gets=$(median < "$work/cold-$CONCURRENCY-layer-gets")
r_cold=$(per_min "$n" "$s_cold")
r_cold1=$(per_min "$n" "$s_cold1")
r_alone=$(per_min "$n" "$s_alone")
row() { printf '  %-36s %9s %s\n' "$@" | sed 's/ *$//'; }
{
  printf 'registry audit: %s/%s/*, %s cores, REPS=%s (median wall seconds)\n' "$REG" "$PREFIX" "$(nproc)" "$REPS"
  row 'images (distinct digests)' "$n" "($TAGS tags, $repos repositories)"
  row 'layer references' "$refs" ''
  row 'distinct layers' "$layers" "($contents distinct contents by diff_id)"
  row 'layer blob GETs, audit cold' "$(range "$work/cold-$CONCURRENCY-layer-gets")" \
    "($(range "$work/cold-$CONCURRENCY-gets") blob GETs with the configs; --concurrency 1: $(range "$work/cold-1-layer-gets"))"
  row 'layer reads served from cache' "$(printf '%.1f%%' "$(echo "100 * (1 - $cold_layer_gets / $refs)" | bc -l)")" \
    "$(printf '(1 - GETs/references; at most %.1f%% by content)' "$(echo "100 * (1 - $contents / $refs)" | bc -l)")"
  row "audit cold, --concurrency $CONCURRENCY" "$(printf '%.2f s' "$s_cold")" "$(printf '%8.1f images/min' "$r_cold")"
  row 'audit cold, --concurrency 1' "$(printf '%.2f s' "$s_cold1")" "$(printf '%8.1f images/min' "$r_cold1")"
  row 'audit warm (all already stored)' "$(printf '%.2f s' "$s_warm")" "$(printf '%8s blob GETs' "$(range "$work/warm-gets")")"
  row 'alone (scan each, own cache)' "$(printf '%.2f s' "$s_alone")" \
    "$(printf '%8.1f images/min (%s layer blob GETs)' "$r_alone" "$(range "$work/alone-layer-gets")")"
  row 'audit cold / alone (images/min)' "$(printf '%.2f' "$(echo "$r_cold / $r_alone" | bc -l)")" \
    "$(printf '(--concurrency 1: %.2f)' "$(echo "$r_cold1 / $r_alone" | bc -l)")"
} | tee "$RESULTS/audit-latest.txt"
echo "(results in $RESULTS/audit-latest.txt)"
