#!/usr/bin/env bash
# Run every test of customs on a fresh Debian machine with the Rust toolchain:
#   1. install the Debian packages the tests use (image build tools, rpm for reference lists),
#   2. build the real test images from Debian's archive (../shared/tools/build-images.sh; cached
#      under $CUSTOMS_CORPUS after the first run),
#   3. cargo test the whole workspace.
# Tests that need the image corpus fail loudly when it is missing; nothing is skipped.
set -euo pipefail
ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
SHARED="${CUSTOMS_SHARED:-$ROOT/../shared}"
export CUSTOMS_SHARED="$SHARED"
export CUSTOMS_CORPUS="${CUSTOMS_CORPUS:-/var/tmp/customs-corpus}"

need=(debootstrap umoci skopeo jq rpm dpkg-query objcopy curl npm)
missing=()
for t in "${need[@]}"; do command -v "$t" >/dev/null || missing+=("$t"); done
if [ ${#missing[@]} -gt 0 ]; then
  echo "== installing test prerequisites (missing: ${missing[*]})"
  SUDO=""; [ "$(id -u)" = 0 ] || SUDO="sudo"
  $SUDO apt-get update -qq
  DEBIAN_FRONTEND=noninteractive $SUDO apt-get install -y -qq \
    debootstrap umoci skopeo jq rpm binutils curl npm docker-registry apache2-utils >/dev/null
fi

echo "== building the test image corpus in $CUSTOMS_CORPUS (cached after the first run)"
t0=$(date +%s)
if ! PUSH=0 bash "$SHARED/tools/build-images.sh" > "${TMPDIR:-/tmp}/customs-build-images.log" 2>&1; then
  tail -40 "${TMPDIR:-/tmp}/customs-build-images.log" >&2
  echo "build-images.sh failed (log above)" >&2
  exit 1
fi
echo "   corpus ready in $(( $(date +%s) - t0 ))s"

echo "== cargo test"
cd "$ROOT"
log="$(mktemp)"; trap 'rm -f "$log"' EXIT
set +e
cargo test --workspace "$@" 2>&1 | tee "$log"
rc=${PIPESTATUS[0]}
set -e
# One closing line for the whole run (cargo prints one per test binary).
awk '/^test result:/ { for (i = 1; i <= NF; i++) { if ($(i+1) ~ /^passed/) p += $i; if ($(i+1) ~ /^failed/) f += $i } }
     END { printf "summary: %d passed, %d failed\n", p, f }' "$log"
exit "$rc"
