#!/usr/bin/env bash
# The cost of the Java, Ruby, PHP and .NET analyzers (issue 19), in one run:
#
#   bench/analyzers.sh            # BASE defaults to aaa2c4d, the last commit without them
#
# 1. debian-app cold (`customs sbom --no-cache`), with the release build of BASE and of the
#    work tree, alternated REPS times: the median of each and their ratio. Target ≤ 1.10.
# 2. A 1 GB jar of nested jars (crates/customs/tests/gen-nested-jar.py): `customs sbom dir:`
#    against `syft scan dir:` (syft 1.18.1), wall time and peak RSS. Target ≤ 200 MB for
#    customs.
set -euo pipefail
BASE="${BASE:-aaa2c4d}"
# shellcheck source=bench/lib.sh
. "$(dirname "${BASH_SOURCE[0]}")/lib.sh"
build_customs
after="$CUSTOMS"
before_tree="$CORPUS/bench-base-$BASE"
if [ ! -x "$before_tree/target/release/customs" ]; then
  rm -rf "$before_tree" && mkdir -p "$before_tree"
  git -C "$ROOT" archive "$BASE" | tar -x -C "$before_tree"
  (cd "$before_tree" && cargo build --release -q)
fi
before="$before_tree/target/release/customs"

image="oci:$CORPUS/out/debian-app/oci:1"
for _ in $(seq "$REPS"); do
  measure before "$before" sbom -q --no-cache --format json "$image"
  measure after "$after" sbom -q --no-cache --format json "$image"
done
read -r bw br <<<"$(summary before)"
read -r aw ar <<<"$(summary after)"
echo "debian-app cold, median of $REPS: before ($BASE) ${bw}s ${br} MiB, after ${aw}s ${ar} MiB, ratio $(echo "$aw/$bw" | bc -l | cut -c1-5)"

mkdir -p "$work/jar"
python3 "$ROOT/crates/customs/tests/gen-nested-jar.py" "$work/jar/big.jar" > /dev/null
size=$(stat -c %s "$work/jar/big.jar")
measure big "$after" sbom -q --no-cache --format json "dir:$work/jar"
read -r cw cr <<<"$(summary big)"
echo "1 GB nested jar ($size bytes): customs ${cw}s ${cr} MiB peak RSS"
if [ -x "$SYFT" ]; then
  need_syft
  measure syftbig "$SYFT" scan -q -o json "dir:$work/jar"
  read -r sw sr <<<"$(summary syftbig)"
  "$SYFT" scan -q -o json "dir:$work/jar" | jq -r '.artifacts[] | "\(.name) \(.version)"' | sort > "$work/syft.txt"
  "$after" sbom -q --no-cache --format json "dir:$work/jar" | jq -r '.packages[] | "\(.name) \(.version)"' | sort > "$work/customs.txt"
  echo "  syft ${sw}s ${sr} MiB peak RSS; customs/syft time $(echo "$cw/$sw" | bc -l | cut -c1-5)"
  echo "  syft found $(wc -l < "$work/syft.txt") packages, customs $(wc -l < "$work/customs.txt")"
else
  echo "  (syft missing at $SYFT: run $SHARED/tools/install-peers.sh syft for the comparison)"
fi
