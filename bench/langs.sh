#!/usr/bin/env bash
# Language packages: customs against the peer (syft 1.18.1), in one run.
#
#   bench/langs.sh
#
# 1. A real node project tree (npm install --ignore-scripts of jest, webpack, eslint, babel,
#    typescript and react-scripts into $CUSTOMS_CORPUS/bench-node, made once; ~45k files,
#    ~1.6k packages in node_modules): `customs sbom dir:` cold against `syft scan dir:`,
#    REPS times each; prints files/s and the ratio.
# 2. debian-app: the language packages syft finds and customs does not, and the reverse, so
#    the differences can be explained.
# Needs the corpus (build-images.sh), npm and syft (../shared/tools/install-peers.sh syft).
set -euo pipefail
REPS="${REPS:-3}"
# shellcheck source=bench/lib.sh
. "$(dirname "${BASH_SOURCE[0]}")/lib.sh"
need_syft
TREE="$CORPUS/bench-node"

if [ ! -f "$TREE/package-lock.json" ]; then
  mkdir -p "$TREE"
  (cd "$TREE" && npm init -y >/dev/null &&
   npm install --ignore-scripts --no-audit --no-fund --legacy-peer-deps \
     jest@29 webpack@5 eslint@8 @babel/core@7 typescript@5 react-scripts@5 >/dev/null)
fi
build_customs

files=$(find "$TREE" -type f | wc -l)
pkgs=$(jq '[.packages | keys[] | select(startswith("node_modules/") or contains("/node_modules/"))] | length' "$TREE/package-lock.json")
t() { /usr/bin/time -f '%e %M' -o "$work/t" "$@" > "$work/out" 2>/dev/null; cat "$work/t"; }
: > "$work/c"; : > "$work/s"
for _ in $(seq "$REPS"); do
  t "$CUSTOMS" sbom -q --no-cache --format json "dir:$TREE" >> "$work/c"
  cp "$work/out" "$work/customs.json"
  t "$SYFT" scan -q "dir:$TREE" -o syft-json >> "$work/s"
  cp "$work/out" "$work/syft.json"
done
cw=$(cut -d' ' -f1 "$work/c" | median); sw=$(cut -d' ' -f1 "$work/s" | median)
cr=$(cut -d' ' -f2 "$work/c" | sort -n | tail -1); sr=$(cut -d' ' -f2 "$work/s" | sort -n | tail -1)
cn=$(jq '[.packages[] | select(.ecosystem=="npm")] | length' "$work/customs.json")
sn=$(jq '[.artifacts[] | select(.type=="npm")] | length' "$work/syft.json")
{
  echo "node tree: $files files, $pkgs node_modules packages in package-lock.json"
  printf 'customs sbom dir:  %6.2f s  %8.0f files/s  %5.0f MiB  %d npm packages\n' "$cw" "$(echo "$files/$cw" | bc -l)" "$(echo "$cr/1024" | bc -l)" "$cn"
  printf 'syft scan dir:     %6.2f s  %8.0f files/s  %5.0f MiB  %d npm packages\n' "$sw" "$(echo "$files/$sw" | bc -l)" "$(echo "$sr/1024" | bc -l)" "$sn"
  printf 'customs / syft = %.3f\n' "$(echo "$cw/$sw" | bc -l)"
} | tee "$RESULTS/langs-latest.txt"

# debian-app: language packages by (type, lower-cased name, version).
img="$CORPUS/out/debian-app/oci"
"$CUSTOMS" sbom -q --no-cache --format json "oci:$img:1" |
  jq -r '.packages[] | select(.ecosystem != "deb") | "\(.ecosystem) \(.name|ascii_downcase) \(.version)"' |
  sed 's/^cargo /rust /; s/^pypi /python /' | sort > "$work/c.txt"
"$SYFT" scan -q "oci-dir:$img" -o syft-json |
  jq -r '.artifacts[] | select(.type != "deb") | "\(.type) \(.name|ascii_downcase) \(.version)"' |
  sed 's/^rust-crate /rust /; s/^java-archive /java /' | sort > "$work/s.txt"
{
  echo "debian-app: syft finds, customs does not:"; comm -13 "$work/c.txt" "$work/s.txt" | sed 's/^/  /'
  echo "debian-app: customs finds, syft does not:"; comm -23 "$work/c.txt" "$work/s.txt" | sed 's/^/  /'
} | tee -a "$RESULTS/langs-latest.txt"
