#!/usr/bin/env bash
# Run every test of customs on a fresh Debian machine with the Rust toolchain:
#   1. install the Debian packages the tests use (image build tools, rpm for reference lists),
#   2. start the local registries (../shared/tools/registry-up.sh all) and build the real test
#      images from Debian's archive (../shared/tools/build-images.sh; cached under
#      $CUSTOMS_CORPUS after the first run), pushing them to the registry,
#   3. install the peer syft and the formats' validators (scripts/format-tools.sh),
#   4. check formatting (cargo fmt --check), cargo test the whole workspace, and run clippy with
#      warnings as errors,
#   5. fetch every platform's crates (cargo fetch --locked: cargo deny reads the whole graph,
#      which a build on this platform never downloads) and audit the dependencies offline (scripts/deny.sh: cargo deny against the shared RustSec
#      snapshot, licences, bans, sources),
#   6. run every fuzz target briefly (scripts/fuzz.sh; its instrumented build is cached under
#      $CUSTOMS_FUZZ_TARGET, default /var/tmp/customs-fuzz-target, like the image corpus).
# Tests that need the image corpus fail loudly when it is missing; nothing is skipped.
set -euo pipefail
ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
SHARED="${CUSTOMS_SHARED:-$ROOT/../shared}"
export CUSTOMS_SHARED="$SHARED"
export CUSTOMS_CORPUS="${CUSTOMS_CORPUS:-/var/tmp/customs-corpus}"

# command -> Debian package; only what is missing is installed (this machine's Node.js may come
# from elsewhere with its own npm, which conflicts with Debian's npm package).
need=(debootstrap:debootstrap umoci:umoci skopeo:skopeo jq:jq rpm:rpm dpkg-query:dpkg
      objcopy:binutils curl:curl npm:npm docker-registry:docker-registry htpasswd:apache2-utils
      openssl:openssl python3:python3 ss:iproute2 tinyproxy:tinyproxy
      chromium:chromium chromedriver:chromium-driver
      ruby:ruby bundle:ruby-bundler git:git composer:composer php:php-cli)
missing=()
for t in "${need[@]}"; do command -v "${t%%:*}" >/dev/null || missing+=("${t#*:}"); done
if [ ${#missing[@]} -gt 0 ]; then
  echo "== installing test prerequisites: ${missing[*]}"
  SUDO=""; [ "$(id -u)" = 0 ] || SUDO="sudo"
  $SUDO apt-get update -qq
  DEBIAN_FRONTEND=noninteractive $SUDO apt-get install -y -qq "${missing[@]}" >/dev/null
fi

# Files the Java tests read -> the Debian package that installs them (real jars with their
# pom.properties), and the JDK's `jar` that builds nested archives from them.
need_files=(/usr/share/java/log4j-core.jar:liblog4j2-java
            /usr/share/java/commons-lang3.jar:libcommons-lang3-java
            /usr/share/java/jackson-databind.jar:libjackson2-databind-java
            /usr/bin/jar:default-jdk-headless /usr/bin/time:time)
missing=()
for f in "${need_files[@]}"; do [ -e "${f%%:*}" ] || missing+=("${f#*:}"); done
if [ ${#missing[@]} -gt 0 ]; then
  echo "== installing test prerequisites: ${missing[*]}"
  SUDO=""; [ "$(id -u)" = 0 ] || SUDO="sudo"
  $SUDO apt-get update -qq
  DEBIAN_FRONTEND=noninteractive $SUDO apt-get install -y -qq "${missing[@]}" >/dev/null
fi

# Debian's Ruby libraries whose installed gem specifications the Ruby tests read (they have no
# command to look for).
need_pkgs=(ruby-rack ruby-json rake)
missing=()
for p in "${need_pkgs[@]}"; do
  dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q 'ok installed' || missing+=("$p")
done
if [ ${#missing[@]} -gt 0 ]; then
  echo "== installing test prerequisites: ${missing[*]}"
  SUDO=""; [ "$(id -u)" = 0 ] || SUDO="sudo"
  $SUDO apt-get update -qq
  DEBIAN_FRONTEND=noninteractive $SUDO apt-get install -y -qq "${missing[@]}" >/dev/null
fi

echo "== PostgreSQL on 127.0.0.1:5432 (the store tests use it; started if it is not running)"
if ! (exec 3<>/dev/tcp/127.0.0.1/5432) 2>/dev/null; then
  command -v pg_ctlcluster >/dev/null || { SUDO=""; [ "$(id -u)" = 0 ] || SUDO="sudo";
    DEBIAN_FRONTEND=noninteractive $SUDO apt-get install -y -qq postgresql >/dev/null; }
  pg_ctlcluster --skip-systemctl-redirect "$(ls /etc/postgresql | head -1)" main start
fi

echo "== starting the local registries (plain :5000, basic auth :5001, TLS :5002, bearer token :5003)"
bash "$SHARED/tools/registry-up.sh" all

echo "== building the test image corpus in $CUSTOMS_CORPUS and pushing it (cached after the first run)"
t0=$(date +%s)
# build-images.sh unmounts the chroot's /proc before `umoci repack` and ignores a failure; once
# (2026-12-05) the unmount failed, and umoci then read the chroot's /proc/kmsg, which never
# ends. So a build gets a time limit (it takes 3 to 6 minutes), and a failed or stuck one is
# retried once after whatever it left mounted under the corpus is unmounted.
unmount_corpus() {
  awk -v c="$CUSTOMS_CORPUS/" 'index($2, c) == 1 { print $2 }' /proc/mounts | sort -r |
    while read -r m; do umount -l "$m" 2>/dev/null || true; done
}
build_log="${TMPDIR:-/tmp}/customs-build-images.log"
ok=0
for attempt in 1 2; do
  unmount_corpus
  if PUSH=1 timeout 1500 bash "$SHARED/tools/build-images.sh" > "$build_log" 2>&1; then ok=1; break; fi
  tail -20 "$build_log" >&2
  echo "build-images.sh failed or timed out (attempt $attempt; log above)" >&2
  # What the killed script started (umoci, chroot) names the build folder; the registries don't.
  pkill -f -- "$CUSTOMS_CORPUS/build/" 2>/dev/null || true; sleep 1
  # build-images.sh skips an image whose OCI layout exists, and writes summary.json last: an
  # image without one was cut short, and would pass for built with layers missing.
  for d in "$CUSTOMS_CORPUS"/out/*/; do
    [ -d "$d/oci" ] && ! [ -f "$d/summary.json" ] && { echo "   removing the half-built $d" >&2; rm -rf "$d"; }
  done
done
unmount_corpus
[ "$ok" = 1 ] || exit 1
echo "   corpus ready in $(( $(date +%s) - t0 ))s"

echo "== the peer syft and the formats' own validators (cached in $CUSTOMS_CORPUS)"
t0=$(date +%s)
bash "$SHARED/tools/install-peers.sh" syft > "${TMPDIR:-/tmp}/customs-peers.log" 2>&1 || { tail -20 "${TMPDIR:-/tmp}/customs-peers.log" >&2; exit 1; }
bash "$ROOT/scripts/format-tools.sh"
# A local Sigstore (Fulcio, CT log, Rekor on :5010) and sigstore-python, for the image
# signature tests; installed into the corpus on first use. npm in a bare environment trusts
# only Node's own CAs, not the system's (where a registry proxy's CA lives): give it those,
# as scripts/format-tools.sh does.
if [ -z "${NODE_EXTRA_CA_CERTS:-}" ] && [ -f "${SSL_CERT_FILE:-/etc/ssl/certs/ca-certificates.crt}" ]; then
  export NODE_EXTRA_CA_CERTS="${SSL_CERT_FILE:-/etc/ssl/certs/ca-certificates.crt}"
fi
bash "$SHARED/tools/sigstore-local.sh" up > "${TMPDIR:-/tmp}/customs-sigstore.log" 2>&1 || { tail -20 "${TMPDIR:-/tmp}/customs-sigstore.log" >&2; exit 1; }
echo "   ready in $(( $(date +%s) - t0 ))s"

cd "$ROOT"
# A clean build gains nothing from incremental state, which would be gigabytes on disk.
export CARGO_INCREMENTAL="${CARGO_INCREMENTAL:-0}"
# Free space at each stage: a run that fails for lack of disk says where it went.
disk() { echo "   disk: $(df -h --output=avail "$ROOT" | tail -1 | tr -d ' ') free; target $(du -sh "${CARGO_TARGET_DIR:-$ROOT/target}" 2>/dev/null | cut -f1)"; }
disk
echo "== cargo fmt --check"
cargo fmt --all --check

echo "== cargo test"
log="$(mktemp)"; trap 'rm -f "$log"' EXIT
set +e
cargo test --workspace "$@" 2>&1 | tee "$log"
rc=${PIPESTATUS[0]}
set -e
# One closing line for the whole run (cargo prints one per test binary).
awk '/^test result:/ { for (i = 1; i <= NF; i++) { if ($(i+1) ~ /^passed/) p += $i; if ($(i+1) ~ /^failed/) f += $i } }
     END { printf "summary: %d passed, %d failed\n", p, f }' "$log"
disk
[ "$rc" = 0 ] || exit "$rc"

# Verification needs no network. Run again, each in a network namespace of its own
# (`unshare -n`): customs-sign's own suites (bundles, legacy and v3 image signatures,
# attestations, Notation, the trust policy) with no interface up at all; and the CLI's signature
# and conformance tests (it::signatures, it::sigstore) with only a loopback, on which a registry
# and a local Sigstore of their own are started: nothing outside the machine can be reached.
# The test binaries just built are run as they are (`cargo test -p` alone would unify features
# differently and build them again).
echo "== verification without a network (unshare -n)"
unshare -n true || { echo "unshare -n needs root (or CAP_SYS_ADMIN)" >&2; exit 1; }
bins_json="$(cargo test --workspace --locked --offline --no-run --message-format=json 2>/dev/null)"
mapfile -t sign_bins < <(jq -r 'select(.reason == "compiler-artifact" and .profile.test and (.manifest_path | endswith("crates/customs-sign/Cargo.toml"))) | .executable' <<<"$bins_json")
it_bin="$(jq -r 'select(.reason == "compiler-artifact" and .profile.test and .target.name == "it" and (.manifest_path | endswith("crates/customs/Cargo.toml"))) | .executable' <<<"$bins_json")"
[ "${#sign_bins[@]}" -ge 3 ] && [ -x "$it_bin" ] || { echo "test binaries not found (${#sign_bins[@]}, '$it_bin')" >&2; exit 1; }
for bin in "${sign_bins[@]}"; do
  offline_log="$(mktemp)"
  if ! (cd "$ROOT/crates/customs-sign" && unshare -n "$bin") > "$offline_log" 2>&1; then
    cat "$offline_log" >&2; echo "$bin failed without a network (log above)" >&2; exit 1
  fi
  echo "   $(basename "$bin"): $(grep -E '^test result:' "$offline_log")"; rm -f "$offline_log"
done
netns="$(mktemp -d)"
mkdir -p "$netns/sigstore"
# The local Sigstore's packages were installed above; the namespace cannot fetch them.
ln -s "$CUSTOMS_CORPUS/sigstore/node" "$netns/sigstore/node"
ln -s "$CUSTOMS_CORPUS/sigstore/venv" "$netns/sigstore/venv"
offline_log="$(mktemp)"
set +e
REG_ROOT="$netns/registry" SIGSTORE_ROOT="$netns/sigstore" unshare -n bash -c '
  set -e
  ip link set lo up
  trap "bash \"$0/tools/registry-down.sh\" all > /dev/null 2>&1; for r in \"$SIGSTORE_ROOT\" \"$SIGSTORE_ROOT\"-behind \"$SIGSTORE_ROOT\"-seconds; do SIGSTORE_ROOT=\$r bash \"$0/tools/sigstore-local.sh\" down > /dev/null 2>&1 || true; done" EXIT
  bash "$0/tools/registry-up.sh" all > /dev/null
  bash "$0/tools/sigstore-local.sh" up > /dev/null
  cd "$1/crates/customs" && "$2" signatures:: sigstore::
' "$SHARED" "$ROOT" "$it_bin" > "$offline_log" 2>&1
rc=$?
set -e
if [ "$rc" != 0 ]; then cat "$offline_log" >&2; echo "the signature tests failed in a namespace with only a loopback (log above)" >&2; exit 1; fi
echo "   it (signatures::, sigstore::, loopback only): $(grep -E '^test result:' "$offline_log")"
rm -rf "$offline_log" "$netns"

echo "== cargo clippy --all-targets -- -D warnings"
t0=$(date +%s)
cargo clippy --workspace --all-targets --locked -- -D warnings
echo "   clippy done in $(( $(date +%s) - t0 ))s"
disk

echo "== cargo deny (offline, against ../shared/data/advisories/rustsec)"
t0=$(date +%s)
# cargo deny runs `cargo metadata` for every platform; a build here fetched only this one's
# crates, and --offline would refuse to download the rest (windows-sys, ...).
cargo fetch --locked
deny_log="$(mktemp)"
if ! bash "$ROOT/scripts/deny.sh" > "$deny_log" 2>&1; then
  cat "$deny_log" >&2; echo "cargo deny failed (log above)" >&2; exit 1
fi
# The duplicate-version warnings and their trees are long; the verdict line is what matters.
grep -E '^(==|cargo-deny |advisories )' "$deny_log" || true
echo "   deny done in $(( $(date +%s) - t0 ))s"

echo "== fuzzing every parser briefly (scripts/fuzz.sh)"
t0=$(date +%s)
FUZZ_TARGET_DIR="${CUSTOMS_FUZZ_TARGET:-/var/tmp/customs-fuzz-target}" bash "$ROOT/scripts/fuzz.sh"
echo "   fuzzing done in $(( $(date +%s) - t0 ))s"
disk
