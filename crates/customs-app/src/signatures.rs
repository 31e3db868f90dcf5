//! Image signatures in a registry: `customs verify` finds every cosign signature of the digest
//! a reference resolves to and checks each against who must have signed; `customs sign` adds a
//! cosign-compatible signature.
//!
//! **Where signatures are looked for.** The legacy tag `sha256-<hex>.sig` (one layer per
//! signature), and cosign v3 bundles attached as OCI 1.1 referrers: from the referrers API when
//! the registry has one, else from the referrers tag fallback, an index tagged `sha256-<hex>`.
//! Every document is fetched by digest and checked against it, within small bounds.
//!
//! **The digest is fixed first.** The reference is resolved once; every signature is checked
//! against that digest, and the report names it, so the caller scans what was verified even if
//! the tag moves meanwhile.

use std::collections::BTreeMap;

use customs_registry::{Client, Reference, RegistryError};
use customs_sign::SigningKey;
use customs_sign::bundle::{BundleError, Signer, TrustedRoot};
use customs_sign::cosign;
use customs_sign::image::{self, BUNDLE_ARTIFACT_TYPE, COSIGN_SIGN_PREDICATE, Checked, Layout};
use customs_types::{Algorithm, Digest};
use serde::{Deserialize, Serialize};

use crate::publish::read_blob;
use crate::{AppError, Result};

/// Referrers read per image before the rest are taken as hostile.
const MAX_REFERRERS: usize = 64;
/// A bundle is a few kilobytes.
const MAX_BUNDLE: u64 = 1 << 20;
const OCI_MANIFEST: &str = "application/vnd.oci.image.manifest.v1+json";

/// One signature found, and what became of it.
#[derive(Debug, Clone, Serialize)]
pub struct SignatureCheck {
    /// Legacy `.sig` layer or v3 bundle.
    pub layout: Layout,
    /// Where it was: `TAG#N` for a legacy layer, the referrer manifest's digest for a bundle.
    pub source: String,
    /// Who signed, when it verified.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub verified: Option<Checked>,
    /// Why not, when it did not: a stable reason code.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub code: Option<&'static str>,
    /// What exactly went wrong.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub detail: Option<String>,
}

impl SignatureCheck {
    fn of(layout: Layout, source: String, r: std::result::Result<Checked, BundleError>) -> Self {
        match r {
            Ok(c) => Self {
                layout,
                source,
                verified: Some(c),
                code: None,
                detail: None,
            },
            Err(e) => Self {
                layout,
                source,
                verified: None,
                code: Some(e.code),
                detail: Some(e.detail),
            },
        }
    }
}

/// What `customs verify` found for an image.
#[derive(Debug, Clone, Serialize)]
pub struct Verification {
    /// The reference as given.
    pub reference: String,
    /// The digest it resolved to: what was verified, and what a scan should read.
    pub digest: Digest,
    /// The manifest's media type (an index's signatures are the index's, not its platforms').
    pub media_type: Option<String>,
    /// Whether the registry answered the referrers API (else the tag fallback was read).
    pub referrers_api: bool,
    /// Every signature found, verified or refused.
    pub signatures: Vec<SignatureCheck>,
    /// How many verified.
    pub verified: usize,
    /// Whether the image is signed as required.
    pub satisfied: bool,
    /// Why not, when it is not: `no-signature`, or the first refusal's code.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub code: Option<&'static str>,
}

#[derive(Deserialize)]
struct Index {
    #[serde(default)]
    manifests: Vec<Descriptor>,
}

#[derive(Deserialize)]
struct Descriptor {
    #[serde(rename = "mediaType", default)]
    media_type: String,
    digest: String,
    size: u64,
    #[serde(rename = "artifactType", default)]
    artifact_type: Option<String>,
    #[serde(default)]
    annotations: BTreeMap<String, String>,
}

#[derive(Deserialize)]
struct ArtifactManifest {
    #[serde(rename = "artifactType", default)]
    artifact_type: Option<String>,
    #[serde(default)]
    layers: Vec<Descriptor>,
    subject: Option<Descriptor>,
}

fn display(r: &Reference) -> String {
    let mut s = format!("{}/{}", r.registry, r.repository);
    if let Some(t) = &r.tag {
        s.push(':');
        s.push_str(t);
    }
    if let Some(d) = &r.digest {
        s.push('@');
        s.push_str(d);
    }
    s
}

/// The digest `reference` names now, checked against the digest it pins, if any.
fn resolve(client: &Client, reference: &Reference) -> Result<(Digest, Option<String>)> {
    let fetched = client.manifest(reference, reference.manifest_ref())?;
    let digest = Digest::compute(Algorithm::Sha256, &fetched.bytes);
    if let Some(pinned) = &reference.digest
        && *pinned != digest.to_string()
    {
        return Err(AppError::invalid(
            display(reference),
            format!("the registry sent a manifest whose digest is {digest}"),
        ));
    }
    Ok((digest, fetched.media_type))
}

/// Every cosign signature of the image `reference` names, each checked against `signer`
/// with `root` (offline: no Sigstore service is asked anything).
///
/// # Errors
/// The registry's errors (unreachable, unauthorised, no such image): nothing could be
/// checked. A signature that cannot be read or does not verify is a refused
/// [`SignatureCheck`], not an error.
pub fn verify(
    client: &Client,
    reference: &Reference,
    signer: &Signer,
    root: &TrustedRoot,
) -> Result<Verification> {
    let (digest, media_type) = resolve(client, reference)?;
    let mut signatures = legacy(client, reference, &digest, signer, root)?;
    let (referrers_api, bundles) = bundles(client, reference, &digest, signer, root)?;
    signatures.extend(bundles);
    let verified = signatures.iter().filter(|s| s.verified.is_some()).count();
    let satisfied = verified > 0;
    let code = if satisfied {
        None
    } else {
        // A signature by someone else says less than one by the right signer that failed a
        // check (an expired certificate, another digest): the latter is the reason given.
        let by_others = |c: &str| matches!(c, "untrusted-key" | "certificate-missing");
        let codes = || signatures.iter().filter_map(|s| s.code);
        Some(
            codes()
                .find(|c| !by_others(c))
                .or_else(|| codes().next())
                .unwrap_or("no-signature"),
        )
    };
    Ok(Verification {
        reference: display(reference),
        digest,
        media_type,
        referrers_api,
        signatures,
        verified,
        satisfied,
        code,
    })
}

fn refused(code: &'static str, detail: String) -> std::result::Result<Checked, BundleError> {
    Err(BundleError { code, detail })
}

fn legacy(
    client: &Client,
    reference: &Reference,
    digest: &Digest,
    signer: &Signer,
    root: &TrustedRoot,
) -> Result<Vec<SignatureCheck>> {
    let tag = cosign::signature_tag(digest);
    let manifest = match client.manifest(reference, &tag) {
        Ok(m) => m,
        Err(RegistryError::NotFound { .. }) => return Ok(Vec::new()),
        Err(e) => return Err(e.into()),
    };
    let layers = match cosign::signature_layers(&manifest.bytes) {
        Ok(l) => l,
        Err(e) => {
            let r = refused("signature-malformed", e.to_string());
            return Ok(vec![SignatureCheck::of(Layout::Legacy, tag, r)]);
        }
    };
    Ok(layers
        .iter()
        .enumerate()
        .map(|(n, layer)| {
            let source = format!("{tag}#{}", n + 1);
            let r = if layer.size > cosign::MAX_PAYLOAD {
                refused(
                    "signature-malformed",
                    format!(
                        "a {}-byte payload; a signature payload is small",
                        layer.size
                    ),
                )
            } else {
                match read_blob(client, reference, &layer.digest, cosign::MAX_PAYLOAD) {
                    Err(why) => refused("signature-unreadable", format!("{source}: {why}")),
                    Ok(payload) => image::check(
                        image::Material::Legacy {
                            payload: &payload,
                            layer,
                        },
                        digest,
                        signer,
                        root,
                        COSIGN_SIGN_PREDICATE,
                    ),
                }
            };
            SignatureCheck::of(Layout::Legacy, source, r)
        })
        .collect())
}

/// The bundles attached to `digest`: whether the referrers API answered, and each bundle
/// that claims to be a signature, checked.
fn bundles(
    client: &Client,
    reference: &Reference,
    digest: &Digest,
    signer: &Signer,
    root: &TrustedRoot,
) -> Result<(bool, Vec<SignatureCheck>)> {
    let (api, index) = match client.referrers(reference, &digest.to_string())? {
        Some(m) => (true, Some(m)),
        None => {
            let tag = format!("{}-{}", digest.algorithm().as_str(), digest.hex());
            match client.manifest(reference, &tag) {
                Ok(m) => (false, Some(m)),
                Err(RegistryError::NotFound { .. }) => (false, None),
                Err(e) => return Err(e.into()),
            }
        }
    };
    let Some(index) = index else {
        return Ok((api, Vec::new()));
    };
    let index: Index = match serde_json::from_slice(&index.bytes) {
        Ok(i) => i,
        Err(e) => {
            let r = refused("signature-malformed", format!("the referrers index: {e}"));
            return Ok((
                api,
                vec![SignatureCheck::of(Layout::Bundle, "referrers".into(), r)],
            ));
        }
    };
    // Attestations and other artifacts share the index; a bundle whose (unsigned) predicate
    // hint names something else is not a signature. The hint only selects: the signed
    // statement's predicate type is checked after verification.
    let candidates: Vec<&Descriptor> = index
        .manifests
        .iter()
        .filter(|d| d.artifact_type.as_deref() == Some(BUNDLE_ARTIFACT_TYPE))
        .filter(|d| {
            d.annotations
                .get(image::PREDICATE_ANNOTATION)
                .is_none_or(|p| p == COSIGN_SIGN_PREDICATE)
        })
        .collect();
    let mut out = Vec::new();
    for d in candidates.iter().take(MAX_REFERRERS) {
        let r = bundle_of(client, reference, digest, d).and_then(|json| {
            image::check(
                image::Material::Bundle { json: &json },
                digest,
                signer,
                root,
                COSIGN_SIGN_PREDICATE,
            )
        });
        out.push(SignatureCheck::of(Layout::Bundle, d.digest.clone(), r));
    }
    if candidates.len() > MAX_REFERRERS {
        let r = refused(
            "signature-malformed",
            format!(
                "{} signature referrers; the first {MAX_REFERRERS} were read",
                candidates.len()
            ),
        );
        out.push(SignatureCheck::of(Layout::Bundle, "referrers".into(), r));
    }
    Ok((api, out))
}

/// The bundle JSON a referrer manifest holds, every document checked against its digest and
/// the manifest against the image it claims to refer to.
fn bundle_of(
    client: &Client,
    reference: &Reference,
    digest: &Digest,
    d: &Descriptor,
) -> std::result::Result<String, BundleError> {
    let unreadable = |why: String| BundleError {
        code: "signature-unreadable",
        detail: format!("{}: {why}", d.digest),
    };
    let malformed = |why: String| BundleError {
        code: "signature-malformed",
        detail: format!("{}: {why}", d.digest),
    };
    let want: Digest = d.digest.parse().map_err(|e| malformed(format!("{e}")))?;
    if d.media_type != OCI_MANIFEST {
        return Err(malformed(format!("media type {:?}", d.media_type)));
    }
    let m = client
        .manifest(reference, &want.to_string())
        .map_err(|e| unreadable(e.to_string()))?;
    if !want.matches(&m.bytes) {
        return Err(unreadable("the registry sent another manifest".to_owned()));
    }
    let m: ArtifactManifest =
        serde_json::from_slice(&m.bytes).map_err(|e| malformed(e.to_string()))?;
    if m.artifact_type.as_deref() != Some(BUNDLE_ARTIFACT_TYPE) {
        return Err(malformed(format!("artifactType {:?}", m.artifact_type)));
    }
    match &m.subject {
        Some(s) if s.digest == digest.to_string() => {}
        other => {
            return Err(BundleError {
                code: "digest-mismatch",
                detail: format!(
                    "{} refers to {}, not {digest}",
                    d.digest,
                    other.as_ref().map_or("nothing", |s| s.digest.as_str())
                ),
            });
        }
    }
    let layer = match m.layers.as_slice() {
        [l] if l.media_type == BUNDLE_ARTIFACT_TYPE => l,
        _ => return Err(malformed("not one bundle layer".to_owned())),
    };
    if layer.size > MAX_BUNDLE {
        return Err(malformed(format!("a {}-byte bundle", layer.size)));
    }
    let blob: Digest = layer
        .digest
        .parse()
        .map_err(|e| malformed(format!("{e}")))?;
    let bytes = read_blob(client, reference, &blob, MAX_BUNDLE).map_err(unreadable)?;
    String::from_utf8(bytes).map_err(|_| malformed("the bundle is not UTF-8".to_owned()))
}

/// What `customs sign` did.
#[derive(Debug, Clone, Serialize)]
pub struct SignReport {
    /// The reference as given.
    pub reference: String,
    /// The digest signed.
    pub digest: Digest,
    /// The tag the signature is stored under.
    pub signature_tag: String,
    /// The signing key's fingerprint.
    pub key: String,
    /// Signatures the tag holds now (the new one included).
    pub signatures: usize,
}

/// Sign the image `reference` names with `key`, as `cosign sign --key` does in its legacy
/// layout: a simple signing payload for the digest, added to the `sha256-<hex>.sig` manifest
/// beside the signatures already there. `cosign verify --key` accepts it.
///
/// # Errors
/// The registry's errors; a `.sig` manifest already there that is not one.
pub fn sign(client: &Client, reference: &Reference, key: &SigningKey) -> Result<SignReport> {
    let (digest, _) = resolve(client, reference)?;
    let repository = format!("{}/{}", reference.registry, reference.repository);
    let signed = cosign::sign(key, &repository, &digest, &BTreeMap::new());
    let tag = cosign::signature_tag(&digest);
    let existing = match client.manifest(reference, &tag) {
        Ok(m) => Some(m.bytes),
        Err(RegistryError::NotFound { .. }) => None,
        Err(e) => return Err(e.into()),
    };
    let (config, manifest) = cosign::merged(existing.as_deref(), &signed)
        .map_err(|e| AppError::invalid(format!("{repository}:{tag}"), e.to_string()))?;
    let signatures = cosign::signature_layers(&manifest)
        .map(|l| l.len())
        .unwrap_or_default();
    client.push_blob(
        reference,
        &signed.payload_digest.to_string(),
        signed.payload.into(),
    )?;
    let config_digest = Digest::compute(Algorithm::Sha256, &config);
    client.push_blob(reference, &config_digest.to_string(), config.into())?;
    client.put_manifest(reference, &tag, cosign::OCI_MANIFEST, manifest.into())?;
    Ok(SignReport {
        reference: display(reference),
        digest,
        signature_tag: tag,
        key: key.verifying_key().fingerprint(),
        signatures,
    })
}
