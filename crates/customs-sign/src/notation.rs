//! Notation (Notary Project) signatures: JWS envelopes over a target artifact descriptor,
//! signed by an X.509 certificate whose chain (`x5c`) must end at a certificate of the trust
//! store, checked at the levels of Notation's trust policy.
//!
//! | check | strict | permissive | audit |
//! |---|---|---|---|
//! | integrity (the signature over the envelope) | enforce | enforce | enforce |
//! | authenticity (the chain to the trust store) | enforce | enforce | log |
//! | authentic timestamp (the chain valid at the clock) | enforce | log | log |
//! | expiry (`io.cncf.notary.expiry`) | enforce | log | log |
//!
//! The clock is injected: `verify` takes the time to check at, so signatures whose
//! certificates have expired since can be checked as of a given date. A level of `skip` checks
//! nothing and is the caller's to honour (it never calls `verify`). Revocation (OCSP, CRL)
//! needs the network, which verification here never uses: a certificate that names a
//! revocation endpoint is reported `revocation-unchecked`, enforced at `strict`; one that names
//! none cannot be revoked. Plugins are not run: an envelope that requires one is refused.
//!
//! `rustls-webpki` (already linked by rustls) builds and checks the chain; aws-lc-rs checks the
//! signatures. COSE envelopes are not read yet.

use std::path::Path;

use base64::Engine as _;
use customs_types::{Digest, Timestamp};
use rustls_pki_types::{CertificateDer, UnixTime};
use serde::{Deserialize, Serialize};

use crate::bundle::BundleError;

/// A Notation signature manifest's `artifactType`.
pub const ARTIFACT_TYPE: &str = "application/vnd.cncf.notary.signature";
/// The media type of a JWS envelope layer.
pub const JWS: &str = "application/jose+json";
/// The JWS content type of a Notation payload.
const PAYLOAD_TYPE: &str = "application/vnd.cncf.notary.payload.v1+json";
/// id-kp-codeSigning (1.3.6.1.5.5.7.3.3), DER contents: Notation's leaf certificates carry it.
const CODE_SIGNING: &[u8] = &[0x2b, 0x06, 0x01, 0x05, 0x05, 0x07, 0x03, 0x03];
/// An envelope is a few kilobytes (a payload and a short chain).
pub const MAX_ENVELOPE: u64 = 4 << 20;

/// Notation's verification levels.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum Level {
    /// Every check enforced.
    #[default]
    Strict,
    /// Integrity and authenticity enforced; the rest logged.
    Permissive,
    /// Integrity enforced; the rest logged.
    Audit,
}

/// Which signing scheme a trust store serves (`x509/ca/NAME` or `x509/signingAuthority/NAME`).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub enum StoreKind {
    /// `notary.x509`.
    Ca,
    /// `notary.x509.signingAuthority`.
    SigningAuthority,
}

/// The certificates a Notation signature's chain must end at.
#[derive(Debug, Clone)]
pub struct TrustStore {
    /// Its kind.
    pub kind: StoreKind,
    /// The folder it was read from.
    pub name: String,
    certs: Vec<CertificateDer<'static>>,
}

fn error(code: &'static str, detail: impl Into<String>) -> BundleError {
    BundleError {
        code,
        detail: detail.into(),
    }
}

impl TrustStore {
    /// Reads every certificate file (PEM, several per file allowed, or DER) directly in
    /// `dir`; sub-folders are not read, as in Notation.
    ///
    /// # Errors
    /// `invalid-trust-store`: an unreadable folder, a file that holds no certificate, or no
    /// certificate at all.
    pub fn from_dir(dir: &Path, kind: StoreKind) -> Result<Self, BundleError> {
        let name = dir.display().to_string();
        let bad = |why: String| error("invalid-trust-store", format!("{name}: {why}"));
        let mut files: Vec<_> = std::fs::read_dir(dir)
            .map_err(|e| bad(e.to_string()))?
            .filter_map(Result::ok)
            .map(|e| e.path())
            .filter(|p| p.is_file())
            .collect();
        files.sort();
        let mut certs = Vec::new();
        for f in files {
            let bytes = std::fs::read(&f).map_err(|e| bad(format!("{}: {e}", f.display())))?;
            let found = certificates(&bytes);
            if found.is_empty() {
                return Err(bad(format!("{}: no certificate", f.display())));
            }
            certs.extend(found.into_iter().map(CertificateDer::from));
        }
        if certs.is_empty() {
            return Err(bad("no certificate".to_owned()));
        }
        Ok(Self { kind, name, certs })
    }
}

/// The DER certificates of a file: PEM blocks, or the file itself as DER.
fn certificates(bytes: &[u8]) -> Vec<Vec<u8>> {
    const BEGIN: &str = "-----BEGIN CERTIFICATE-----";
    const END: &str = "-----END CERTIFICATE-----";
    let Ok(text) = std::str::from_utf8(bytes) else {
        // DER starts with a SEQUENCE.
        return if bytes.first() == Some(&0x30) {
            vec![bytes.to_vec()]
        } else {
            Vec::new()
        };
    };
    let mut out = Vec::new();
    let mut rest = text;
    while let Some(start) = rest.find(BEGIN) {
        let after = &rest[start + BEGIN.len()..];
        let Some(end) = after.find(END) else { break };
        let body: String = after[..end].split_whitespace().collect();
        if let Ok(der) = base64::engine::general_purpose::STANDARD.decode(body) {
            out.push(der);
        }
        rest = &after[end + END.len()..];
    }
    out
}

#[derive(Deserialize)]
struct Envelope {
    payload: String,
    protected: String,
    header: Header,
    signature: String,
}

#[derive(Deserialize)]
struct Header {
    #[serde(default)]
    x5c: Vec<String>,
}

#[derive(Deserialize)]
struct Protected {
    alg: String,
    #[serde(default)]
    crit: Vec<String>,
    #[serde(default)]
    cty: String,
    #[serde(rename = "io.cncf.notary.signingScheme", default)]
    scheme: String,
    #[serde(rename = "io.cncf.notary.signingTime")]
    signing_time: Option<String>,
    #[serde(rename = "io.cncf.notary.authenticSigningTime")]
    authentic_signing_time: Option<String>,
    #[serde(rename = "io.cncf.notary.expiry")]
    expiry: Option<String>,
}

#[derive(Deserialize)]
struct Payload {
    #[serde(rename = "targetArtifact")]
    target: Target,
}

#[derive(Deserialize)]
struct Target {
    digest: String,
}

/// A Notation signature that verified at the level asked for.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Verified {
    /// The signing certificate's subject (RFC 4514-ish, as the certificate spells it).
    pub subject: String,
    /// When the signer says it signed.
    pub signing_time: Option<String>,
    /// The checks the level only logs, and that failed: `authenticity: …`, `expiry: …`.
    pub logged: Vec<String>,
}

/// Checks a JWS envelope: it signs `digest`, by a chain ending at `store`, at `level`, with
/// `now` as the clock.
///
/// # Errors
/// A [`BundleError`]: `signature-malformed`, `signature-invalid` (integrity),
/// `digest-mismatch`, `certificate-untrusted` (authenticity), `certificate-expired`
/// (authentic timestamp), `signature-expired`, `revocation-unchecked`, `plugin-unsupported`.
pub fn verify(
    envelope: &[u8],
    digest: &Digest,
    store: &TrustStore,
    level: Level,
    now: Timestamp,
) -> Result<Verified, BundleError> {
    let b64url = base64::engine::general_purpose::URL_SAFE_NO_PAD;
    let malformed = |why: String| error("signature-malformed", why);
    let env: Envelope =
        serde_json::from_slice(envelope).map_err(|e| malformed(format!("JWS envelope: {e}")))?;
    let protected_raw = b64url
        .decode(env.protected.trim_end_matches('='))
        .map_err(|e| malformed(format!("protected header: {e}")))?;
    let protected: Protected = serde_json::from_slice(&protected_raw)
        .map_err(|e| malformed(format!("protected header: {e}")))?;
    if protected.cty != PAYLOAD_TYPE {
        return Err(malformed(format!("content type {:?}", protected.cty)));
    }
    // Critical attributes this verifier does not understand must fail it (RFC 7515 4.1.11).
    let known = [
        "io.cncf.notary.signingScheme",
        "io.cncf.notary.expiry",
        "io.cncf.notary.authenticSigningTime",
    ];
    if protected
        .crit
        .iter()
        .any(|c| c == "io.cncf.notary.verificationPlugin")
    {
        return Err(error(
            "plugin-unsupported",
            "the signature requires a verification plugin; customs runs none",
        ));
    }
    if let Some(c) = protected.crit.iter().find(|c| !known.contains(&c.as_str())) {
        return Err(malformed(format!("unknown critical attribute {c:?}")));
    }
    let wanted_kind = match protected.scheme.as_str() {
        "notary.x509" => StoreKind::Ca,
        "notary.x509.signingAuthority" => StoreKind::SigningAuthority,
        other => return Err(malformed(format!("signing scheme {other:?}"))),
    };
    let chain: Vec<CertificateDer<'static>> = env
        .header
        .x5c
        .iter()
        .map(|c| {
            base64::engine::general_purpose::STANDARD
                .decode(c)
                .map(CertificateDer::from)
                .map_err(|e| malformed(format!("x5c: {e}")))
        })
        .collect::<Result<_, _>>()?;
    let leaf_der = chain
        .first()
        .ok_or_else(|| malformed("no x5c chain".to_owned()))?;
    let leaf = webpki::EndEntityCert::try_from(leaf_der)
        .map_err(|e| malformed(format!("the signing certificate: {e:?}")))?;

    // Integrity: the signature over `protected.payload` with the leaf's key.
    let signing_input = format!("{}.{}", env.protected, env.payload);
    let signature = b64url
        .decode(env.signature.trim_end_matches('='))
        .map_err(|e| malformed(format!("signature: {e}")))?;
    let (alg, signature) = jws_algorithm(&protected.alg, signature)?;
    leaf.verify_signature(alg, signing_input.as_bytes(), &signature)
        .map_err(|e| {
            error(
                "signature-invalid",
                format!("the envelope's signature: {e:?}"),
            )
        })?;
    let payload: Payload = b64url
        .decode(env.payload.trim_end_matches('='))
        .ok()
        .and_then(|p| serde_json::from_slice(&p).ok())
        .ok_or_else(|| malformed("the payload is not a target artifact descriptor".to_owned()))?;
    if payload.target.digest != digest.to_string() {
        return Err(error(
            "digest-mismatch",
            format!(
                "the signature is for {}, not {digest}",
                payload.target.digest
            ),
        ));
    }

    let mut logged = Vec::new();
    let mut check = |enforced: bool, code: &'static str, why: String| {
        if enforced {
            Err(error(code, why))
        } else {
            logged.push(format!("{code}: {why}"));
            Ok(())
        }
    };
    // Authenticity: a chain to the store, of the scheme's kind. The chain is first checked at
    // the clock; if only time fails it, again at the signing time, so that an expired
    // certificate fails the authentic-timestamp check rather than authenticity.
    let signing_time = protected
        .authentic_signing_time
        .as_deref()
        .or(protected.signing_time.as_deref())
        .and_then(|t| Timestamp::parse_lenient(t).ok());
    let anchors: Vec<_> = store
        .certs
        .iter()
        .filter_map(|c| webpki::anchor_from_trusted_cert(c).ok())
        .collect();
    let at = |t: Timestamp| {
        let secs = u64::try_from(t.unix_secs()).unwrap_or(0);
        leaf.verify_for_usage(
            webpki::ALL_VERIFICATION_ALGS,
            &anchors,
            &chain[1..],
            UnixTime::since_unix_epoch(std::time::Duration::from_secs(secs)),
            webpki::KeyUsage::required_if_present(CODE_SIGNING),
            None,
            None,
        )
        .map(|_| ())
    };
    let authentic = level != Level::Audit;
    if store.kind != wanted_kind {
        check(
            authentic,
            "certificate-untrusted",
            format!(
                "a {} signature, and {} is a {:?} trust store",
                protected.scheme, store.name, store.kind
            ),
        )?;
    } else {
        match at(now) {
            Ok(()) => {}
            Err(webpki::Error::CertExpired { .. } | webpki::Error::CertNotValidYet { .. }) => {
                match signing_time.map(at) {
                    Some(Ok(())) => check(
                        level == Level::Strict,
                        "certificate-expired",
                        format!("the chain is not valid at {now}; it was when signed"),
                    )?,
                    _ => check(
                        authentic,
                        "certificate-untrusted",
                        format!("the chain is not valid at {now} nor when signed"),
                    )?,
                }
            }
            Err(e) => check(
                authentic,
                "certificate-untrusted",
                format!("no chain to the trust store {}: {e:?}", store.name),
            )?,
        }
    }
    if let Some(expiry) = protected.expiry.as_deref() {
        match Timestamp::parse_lenient(expiry) {
            Ok(t) if t < now => check(
                level == Level::Strict,
                "signature-expired",
                format!("the signature expired at {expiry}"),
            )?,
            Ok(_) => {}
            Err(e) => return Err(malformed(format!("expiry {expiry:?}: {e}"))),
        }
    }
    if chain.iter().any(|c| names_revocation_endpoint(c)) {
        check(
            level == Level::Strict,
            "revocation-unchecked",
            "a certificate of the chain names a revocation endpoint, which an offline check \
             cannot ask"
                .to_owned(),
        )?;
    }
    Ok(Verified {
        subject: subject_of(leaf_der),
        signing_time: protected.authentic_signing_time.or(protected.signing_time),
        logged,
    })
}

/// The webpki algorithm of a JWS `alg`, and the signature as webpki wants it (ECDSA in DER,
/// where JWS has the fixed-width `r || s`).
fn jws_algorithm(
    alg: &str,
    signature: Vec<u8>,
) -> Result<
    (
        &'static dyn rustls_pki_types::SignatureVerificationAlgorithm,
        Vec<u8>,
    ),
    BundleError,
> {
    use webpki::aws_lc_rs as a;
    Ok(match alg {
        "PS256" => (a::RSA_PSS_2048_8192_SHA256_LEGACY_KEY, signature),
        "PS384" => (a::RSA_PSS_2048_8192_SHA384_LEGACY_KEY, signature),
        "PS512" => (a::RSA_PSS_2048_8192_SHA512_LEGACY_KEY, signature),
        "ES256" => (a::ECDSA_P256_SHA256, fixed_to_der(&signature)),
        "ES384" => (a::ECDSA_P384_SHA384, fixed_to_der(&signature)),
        "ES512" => (a::ECDSA_P521_SHA512, fixed_to_der(&signature)),
        other => {
            return Err(error(
                "signature-malformed",
                format!("JWS algorithm {other:?}; Notation uses PS256/384/512 and ES256/384/512"),
            ));
        }
    })
}

/// `r || s` (each half the length) as the DER `SEQUENCE { INTEGER r, INTEGER s }`.
fn fixed_to_der(sig: &[u8]) -> Vec<u8> {
    fn integer(mut v: &[u8]) -> Vec<u8> {
        while v.len() > 1 && v[0] == 0 {
            v = &v[1..];
        }
        let mut out = vec![0x02];
        let pad = v.first().is_some_and(|b| b & 0x80 != 0);
        let len = v.len() + usize::from(pad);
        out.extend(der_len(len));
        if pad {
            out.push(0);
        }
        out.extend_from_slice(v);
        out
    }
    fn der_len(n: usize) -> Vec<u8> {
        match u8::try_from(n) {
            Ok(b) if b < 0x80 => vec![b],
            Ok(b) => vec![0x81, b],
            // Two bytes cover every ECDSA signature.
            Err(_) => vec![0x82, (n >> 8) as u8, n as u8],
        }
    }
    let (r, s) = sig.split_at(sig.len() / 2);
    let body = [integer(r), integer(s)].concat();
    let mut out = vec![0x30];
    out.extend(der_len(body.len()));
    out.extend(body);
    out
}

/// Whether a certificate carries a CRL distribution point (2.5.29.31) or an authority
/// information access (1.3.6.1.5.5.7.1.1) extension: where a revocation check would ask.
fn names_revocation_endpoint(cert: &CertificateDer<'_>) -> bool {
    use x509_cert::der::Decode as _;
    const CRL_DP: &str = "2.5.29.31";
    const AIA: &str = "1.3.6.1.5.5.7.1.1";
    let Ok(c) = x509_cert::Certificate::from_der(cert.as_ref()) else {
        return true;
    };
    c.tbs_certificate.extensions.iter().flatten().any(|e| {
        let id = e.extn_id.to_string();
        id == CRL_DP || id == AIA
    })
}

fn subject_of(cert: &CertificateDer<'_>) -> String {
    use x509_cert::der::Decode as _;
    x509_cert::Certificate::from_der(cert.as_ref())
        .map(|c| c.tbs_certificate.subject.to_string())
        .unwrap_or_default()
}
