#!/usr/bin/env bash
# The formats' own validators, which the format tests run on every document customs writes:
#   check-jsonschema (CycloneDX 1.6 and SARIF 2.1.0 schemas), pyspdxtools (spdx-tools), ntia-checker
#   (ntia-conformance-checker) from PyPI, and @microsoft/sarif-multitool from npm.
# Installed once into $CUSTOMS_FORMAT_TOOLS (default $CUSTOMS_CORPUS/tools, cached like the corpus).
set -euo pipefail
TOOLS="${CUSTOMS_FORMAT_TOOLS:-${CUSTOMS_CORPUS:-/var/tmp/customs-corpus}/tools}"
mkdir -p "$TOOLS"
if ! [ -x "$TOOLS/venv/bin/ntia-checker" ] || ! [ -x "$TOOLS/venv/bin/pyspdxtools" ] || ! [ -x "$TOOLS/venv/bin/check-jsonschema" ]; then
  python3 -m venv "$TOOLS/venv"
  log="$TOOLS/pip-install.log"
  "$TOOLS/venv/bin/pip" install check-jsonschema==0.39.0 spdx-tools==0.8.5 ntia-conformance-checker==6.0.0 > "$log" 2>&1 \
    || { tail -20 "$log" >&2; echo "pip install of the validators failed (log above)" >&2; exit 1; }
fi
if ! [ -x "$TOOLS/npm/node_modules/@microsoft/sarif-multitool-linux/Sarif.Multitool" ]; then
  # Node reads only its own CA list unless told: a registry behind a proxy with its own CA
  # (as pip is told with SSL_CERT_FILE) needs the system bundle.
  if [ -z "${NODE_EXTRA_CA_CERTS:-}" ] && [ -f "${SSL_CERT_FILE:-/etc/ssl/certs/ca-certificates.crt}" ]; then
    export NODE_EXTRA_CA_CERTS="${SSL_CERT_FILE:-/etc/ssl/certs/ca-certificates.crt}"
  fi
  log="$TOOLS/npm-install.log"
  npm install --no-audit --no-fund --prefix "$TOOLS/npm" @microsoft/sarif-multitool@5.7.0 > "$log" 2>&1 \
    || { tail -20 "$log" >&2; echo "npm install @microsoft/sarif-multitool failed (log above)" >&2; exit 1; }
fi
# schemathesis, which the service's tests run against its OpenAPI document (its own venv: its
# jsonschema pins differ from check-jsonschema's).
if ! [ -x "$TOOLS/schemathesis/bin/schemathesis" ]; then
  python3 -m venv "$TOOLS/schemathesis"
  log="$TOOLS/pip-schemathesis.log"
  "$TOOLS/schemathesis/bin/pip" install schemathesis==4.32.5 > "$log" 2>&1 \
    || { tail -20 "$log" >&2; echo "pip install schemathesis failed (log above)" >&2; exit 1; }
fi
echo "format validators ready in $TOOLS"
