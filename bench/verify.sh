#!/usr/bin/env bash
# Image signatures: `customs verify` against the loopback registry, and `customs verify-blob`
# against the peer, sigstore-python 4.3.0, on the same bundle.
#
#   bench/verify.sh [IMAGE]        (default: trixie-minbase; REPS, default 20)
#
# IMAGE's OCI layout is pushed to 127.0.0.1:5000/bench/verify:1 and signed twice: a cosign
# key (legacy `.sig`) and keylessly through the local Sigstore (a cosign v3 bundle as a
# referrer, found through the tag fallback). Then, each REPS times (median and max wall
# milliseconds, process start included; no verification cache exists, so every run is cold):
#   verify-key        customs verify REF --key
#   verify-keyless    customs verify REF --certificate-identity ... --trusted-root (local root)
#   verify-policy     customs verify REF --trust-policy (both authorities required)
#   blob-customs      customs verify-blob --bundle B sha256:DIGEST (offline)
#   blob-python       sigstore-python verify identity --offline on the same bundle and digest
# Needs the corpus, the plain registry and the local Sigstore (scripts/test.sh starts both;
# this script starts them if they are down).
set -euo pipefail
# shellcheck source=bench/lib.sh
. "$(dirname "${BASH_SOURCE[0]}")/lib.sh"
img="${1:-trixie-minbase}"
REPS="${REPS:-20}"
layout="$CORPUS/out/$img/oci"
[ -f "$layout/index.json" ] || { echo "no layout at $layout (build-images.sh $img)" >&2; exit 1; }
export CUSTOMS_CORPUS="$CORPUS"
bash "$SHARED/tools/registry-up.sh" plain > /dev/null
bash "$SHARED/tools/sigstore-local.sh" up > /dev/null
eval "$(bash "$SHARED/tools/sigstore-local.sh" env)"
build_customs
export CUSTOMS_CACHE_DIR="$work/cache"

ref="127.0.0.1:5000/bench/verify:1"
skopeo copy -q --dest-tls-verify=false "oci:$layout" "docker://$ref"
openssl genpkey -algorithm EC -pkeyopt ec_paramgen_curve:P-256 -out "$work/k.key" 2> /dev/null
openssl pkey -in "$work/k.key" -pubout -out "$work/k.pub"
"$CUSTOMS" sign "$ref" --key "$work/k.key" > /dev/null
token="$(bash "$SHARED/tools/sigstore-local.sh" token "$SIGSTORE_EMAIL")"
digest="$("$CUSTOMS" sign "$ref" --identity-token "$token" --fulcio-url "$SIGSTORE_URL" \
  --rekor-url "$SIGSTORE_URL" --trusted-root "$SIGSTORE_TRUSTED_ROOT" \
  --output-bundle "$work/bundle.json" -f json | jq -r .digest)"
cat > "$work/trust.yaml" <<YAML
version: 1
policies:
  - name: bench
    repositories: ["127.0.0.1:5000/bench/*"]
    required: 2
    authorities:
      - name: key
        key: k.pub
      - name: ci
        keyless:
          identity: $SIGSTORE_EMAIL
          issuer: $SIGSTORE_ISSUER
          trusted-root: $SIGSTORE_TRUSTED_ROOT
YAML
identity=(--certificate-identity "$SIGSTORE_EMAIL" --certificate-oidc-issuer "$SIGSTORE_ISSUER")

# time_ms LABEL CMD... -> appends the wall milliseconds to $work/LABEL; the command must pass
time_ms() {
  local label="$1" s e; shift
  s=$(date +%s%N)
  "$@" > /dev/null 2> "$work/err" || { echo "$label failed:" >&2; cat "$work/err" >&2; exit 1; }
  e=$(date +%s%N)
  echo $(( (e - s) / 1000000 )) >> "$work/$label"
}
for _ in $(seq "$REPS"); do
  time_ms verify-key "$CUSTOMS" verify "$ref" --key "$work/k.pub"
  time_ms verify-keyless "$CUSTOMS" verify "$ref" "${identity[@]}" --trusted-root "$SIGSTORE_TRUSTED_ROOT"
  time_ms verify-policy "$CUSTOMS" verify "$ref" --trust-policy "$work/trust.yaml"
  time_ms blob-customs "$CUSTOMS" verify-blob --bundle "$work/bundle.json" "${identity[@]}" \
    --trusted-root "$SIGSTORE_TRUSTED_ROOT" "$digest"
  time_ms blob-python "$SIGSTORE_PYTHON" -m sigstore --trust-config "$SIGSTORE_TRUST_CONFIG" verify identity \
    --offline --bundle "$work/bundle.json" --cert-identity "$SIGSTORE_EMAIL" --cert-oidc-issuer "$SIGSTORE_ISSUER" "$digest"
done
printf '%-16s %9s %7s\n' measure median_ms max_ms | tee "$RESULTS/verify.txt"
for m in verify-key verify-keyless verify-policy blob-customs blob-python; do
  printf '%-16s %9s %7s\n' "$m" "$(median < "$work/$m")" "$(sort -n "$work/$m" | tail -1)" | tee -a "$RESULTS/verify.txt"
done
printf 'blob-customs / blob-python = %.3f\n' \
  "$(echo "$(median < "$work/blob-customs") / $(median < "$work/blob-python")" | bc -l)" | tee -a "$RESULTS/verify.txt"
echo "(REPS=$REPS; $ref@$digest; results in $RESULTS/verify.txt)"
