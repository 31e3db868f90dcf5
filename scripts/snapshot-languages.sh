#!/usr/bin/env bash
# Rebuild data/snapshot/languages.tar.zst, the language advisories compiled into customs
# (crates/customs-app/src/database.rs), from ../shared/data/advisories: PyPA (osv-pypa-yaml),
# the Go vulnerability database (osv-go), RustSec (rustsec) and the GHSA records (ghsa). The
# tar is deterministic (sorted names, fixed times and owners), so the same data gives the same
# bytes.
set -euo pipefail
ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
SHARED="${CUSTOMS_SHARED:-$ROOT/../shared}"
tar -C "$SHARED/data/advisories" --sort=name --mtime=@0 --owner=0 --group=0 --numeric-owner \
  -cf - osv-pypa-yaml osv-go rustsec ghsa \
  | zstd -19 -q -c > "$ROOT/data/snapshot/languages.tar.zst"
ls -l "$ROOT/data/snapshot/languages.tar.zst"
