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

use customs_image::Platform;
use customs_registry::{Client, Reference, RegistryError};
use customs_sign::SigningKey;
use customs_sign::attestation::{self as att, Attested};
use customs_sign::bundle::{BundleError, Signer, TrustedRoot};
use customs_sign::cosign;
use customs_sign::image::{self, BUNDLE_ARTIFACT_TYPE, COSIGN_SIGN_PREDICATE, Checked, Layout};
use customs_sign::notation;
use customs_sign::policy::{AuthorityKind, Mode, SignedObject, TrustPolicy};
use customs_types::Timestamp;

pub use crate::report::{AuthorityResult, Outcome, SignatureVerdict};
use customs_types::{Algorithm, Digest};
use serde::{Deserialize, Serialize};

use crate::publish::read_blob;
use crate::{AppError, Result};

/// Referrers read per image before the rest are taken as hostile.
const MAX_REFERRERS: usize = 64;
/// A bundle is a few kilobytes.
const MAX_BUNDLE: u64 = 1 << 20;
const OCI_MANIFEST: &str = "application/vnd.oci.image.manifest.v1+json";

/// One signature or attestation found, and what became of it; `T` is what a verified one
/// tells ([`Checked`] for a signature, [`Attested`] for an attestation).
#[derive(Debug, Clone, Serialize)]
pub struct Check<T> {
    /// Legacy layer, v3 bundle or Notation signature.
    pub layout: Layout,
    /// Where it was: `TAG#N` for a legacy layer, the referrer manifest's digest otherwise.
    pub source: String,
    /// Who signed (and for an attestation, what it states), when it verified.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub verified: Option<T>,
    /// Why not, when it did not: a stable reason code.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub code: Option<&'static str>,
    /// What exactly went wrong.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub detail: Option<String>,
}

/// One signature found, and what became of it.
pub type SignatureCheck = Check<Checked>;
/// One attestation found, and what became of it.
pub type AttestationCheck = Check<Attested>;

impl<T> Check<T> {
    fn of(layout: Layout, source: String, r: std::result::Result<T, BundleError>) -> Self {
        let (verified, code, detail) = match r {
            Ok(v) => (Some(v), None, None),
            Err(e) => (None, Some(e.code), Some(e.detail)),
        };
        Self {
            layout,
            source,
            verified,
            code,
            detail,
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
    config: Option<Descriptor>,
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
pub(crate) fn resolve(
    client: &Client,
    reference: &Reference,
) -> Result<(Digest, Option<String>, Vec<u8>)> {
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
    Ok((digest, fetched.media_type, fetched.bytes))
}

/// The signatures of one image, fetched once, to be judged against any number of signers.
#[derive(Debug)]
pub struct Collected {
    /// The reference as given.
    pub reference: String,
    /// The digest it resolved to.
    pub digest: Digest,
    /// The manifest's media type.
    pub media_type: Option<String>,
    /// Whether the registry answered the referrers API.
    pub referrers_api: bool,
    found: Vec<Found>,
}

#[derive(Debug)]
struct Found {
    layout: Layout,
    source: String,
    material: std::result::Result<Material, BundleError>,
}

#[derive(Debug, Clone)]
enum Material {
    Legacy {
        payload: Vec<u8>,
        layer: cosign::SignatureLayer,
    },
    Bundle {
        json: String,
    },
    Notation {
        envelope: Vec<u8>,
    },
}

/// Who must have signed: a Sigstore signer with its root, or a Notation trust store with its
/// level and the clock to check at.
#[derive(Debug, Clone, Copy)]
pub enum Who<'a> {
    /// A cosign key or keyless identity.
    Sigstore(&'a Signer, &'a TrustedRoot),
    /// A Notation trust store.
    Notation(&'a notation::TrustStore, notation::Level, Timestamp),
}

impl Collected {
    /// How many signatures were found (readable or not).
    #[must_use]
    pub fn len(&self) -> usize {
        self.found.len()
    }

    /// Whether none was found.
    #[must_use]
    pub fn is_empty(&self) -> bool {
        self.found.is_empty()
    }

    /// Every signature checked against `signer` with `root`.
    #[must_use]
    pub fn judge(&self, signer: &Signer, root: &TrustedRoot) -> Verification {
        self.judge_with(Who::Sigstore(signer, root))
    }

    /// Every signature checked against `who`. A signature of the other scheme (Notation
    /// for a Sigstore signer, and the reverse) is refused as `other-scheme`.
    #[must_use]
    pub fn judge_with(&self, who: Who<'_>) -> Verification {
        let other = || BundleError {
            code: "other-scheme",
            detail: "a signature of another scheme (cosign or Notation)".to_owned(),
        };
        let signatures: Vec<SignatureCheck> = self
            .found
            .iter()
            .map(|f| {
                let r = f
                    .material
                    .as_ref()
                    .map_err(Clone::clone)
                    .and_then(|m| match (m, who) {
                        (Material::Legacy { payload, layer }, Who::Sigstore(signer, root)) => {
                            image::check(
                                image::Material::Legacy { payload, layer },
                                &self.digest,
                                signer,
                                root,
                                COSIGN_SIGN_PREDICATE,
                            )
                        }
                        (Material::Bundle { json }, Who::Sigstore(signer, root)) => image::check(
                            image::Material::Bundle { json },
                            &self.digest,
                            signer,
                            root,
                            COSIGN_SIGN_PREDICATE,
                        ),
                        (Material::Notation { envelope }, Who::Notation(store, level, now)) => {
                            notation::verify(envelope, &self.digest, store, level, now).map(|n| {
                                Checked {
                                    verified: customs_sign::bundle::Verified {
                                        identity: Some(n.subject),
                                        issuer: None,
                                        integrated_time: n.signing_time,
                                        tlog: false,
                                        key: None,
                                    },
                                    docker_reference: None,
                                    logged: n.logged,
                                }
                            })
                        }
                        _ => Err(other()),
                    });
                SignatureCheck::of(f.layout, f.source.clone(), r)
            })
            .collect();
        let verified = signatures.iter().filter(|s| s.verified.is_some()).count();
        let satisfied = verified > 0;
        let code = if satisfied {
            None
        } else {
            Some(telling(signatures.iter().filter_map(|s| s.code)))
        };
        Verification {
            reference: self.reference.clone(),
            digest: self.digest.clone(),
            media_type: self.media_type.clone(),
            referrers_api: self.referrers_api,
            signatures,
            verified,
            satisfied,
            code,
        }
    }
}

/// Every cosign signature of the image `reference` names, fetched (nothing is judged yet).
///
/// # Errors
/// The registry's errors (unreachable, unauthorised, no such image): nothing could be
/// checked. A signature that cannot be read is kept as such, and refused when judged.
pub fn collect(client: &Client, reference: &Reference) -> Result<Collected> {
    let (digest, media_type, _) = resolve(client, reference)?;
    collect_at(client, reference, digest, media_type)
}

fn collect_at(
    client: &Client,
    reference: &Reference,
    digest: Digest,
    media_type: Option<String>,
) -> Result<Collected> {
    let mut found = legacy(client, reference, &digest)?;
    let (referrers_api, bundles) = bundles(client, reference, &digest, COSIGN_SIGN_PREDICATE)?;
    found.extend(bundles);
    Ok(Collected {
        reference: display(reference),
        digest,
        media_type,
        referrers_api,
        found,
    })
}

/// Every cosign signature of the image `reference` names, each checked against `signer`
/// with `root` (offline: no Sigstore service is asked anything).
///
/// # Errors
/// As [`collect`].
pub fn verify(
    client: &Client,
    reference: &Reference,
    signer: &Signer,
    root: &TrustedRoot,
) -> Result<Verification> {
    Ok(collect(client, reference)?.judge(signer, root))
}

/// The refusal code that says most: a signature by someone else says less than one by the
/// right signer that failed a check (an expired certificate, another digest); none at all is
/// `no-signature`.
fn telling<'a>(codes: impl Iterator<Item = &'a str> + Clone) -> &'a str {
    let by_others =
        |c: &&str| matches!(*c, "untrusted-key" | "certificate-missing" | "other-scheme");
    codes
        .clone()
        .find(|c| !by_others(c))
        .or_else(|| codes.clone().next())
        .unwrap_or("no-signature")
}

fn unusable(layout: Layout, source: String, code: &'static str, detail: String) -> Found {
    Found {
        layout,
        source,
        material: Err(BundleError { code, detail }),
    }
}

fn legacy(client: &Client, reference: &Reference, digest: &Digest) -> Result<Vec<Found>> {
    let tag = cosign::signature_tag(digest);
    let manifest = match client.manifest(reference, &tag) {
        Ok(m) => m,
        Err(RegistryError::NotFound { .. }) => return Ok(Vec::new()),
        Err(e) => return Err(e.into()),
    };
    let layers = match cosign::signature_layers(&manifest.bytes) {
        Ok(l) => l,
        Err(e) => {
            let f = unusable(Layout::Legacy, tag, "signature-malformed", e.to_string());
            return Ok(vec![f]);
        }
    };
    Ok(layers
        .into_iter()
        .enumerate()
        .map(|(n, layer)| {
            let source = format!("{tag}#{}", n + 1);
            if layer.size > cosign::MAX_PAYLOAD {
                let why = format!(
                    "a {}-byte payload; a signature payload is small",
                    layer.size
                );
                return unusable(Layout::Legacy, source, "signature-malformed", why);
            }
            match read_blob(client, reference, &layer.digest, cosign::MAX_PAYLOAD) {
                Err(why) => {
                    let why = format!("{source}: {why}");
                    unusable(Layout::Legacy, source, "signature-unreadable", why)
                }
                Ok(payload) => Found {
                    layout: Layout::Legacy,
                    source,
                    material: Ok(Material::Legacy { payload, layer }),
                },
            }
        })
        .collect())
}

/// The bundles attached to `digest`: whether the referrers API answered, and each bundle
/// that claims to be of `predicate` (a signature's, or an attestation's).
fn bundles(
    client: &Client,
    reference: &Reference,
    digest: &Digest,
    predicate: &str,
) -> Result<(bool, Vec<Found>)> {
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
            let why = format!("the referrers index: {e}");
            let f = unusable(
                Layout::Bundle,
                "referrers".into(),
                "signature-malformed",
                why,
            );
            return Ok((api, vec![f]));
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
                .is_none_or(|p| p == predicate)
        })
        .collect();
    let mut out: Vec<Found> = candidates
        .iter()
        .take(MAX_REFERRERS)
        .map(|d| Found {
            layout: Layout::Bundle,
            source: d.digest.clone(),
            material: bundle_of(client, reference, digest, d).map(|json| Material::Bundle { json }),
        })
        .collect();
    if predicate == COSIGN_SIGN_PREDICATE {
        let notations = index
            .manifests
            .iter()
            .filter(|d| d.artifact_type.as_deref() == Some(notation::ARTIFACT_TYPE))
            .take(MAX_REFERRERS);
        out.extend(notations.map(|d| {
            Found {
                layout: Layout::Notation,
                source: d.digest.clone(),
                material: notation_of(client, reference, digest, d)
                    .map(|envelope| Material::Notation { envelope }),
            }
        }));
    }
    if candidates.len() > MAX_REFERRERS {
        let why = format!(
            "{} signature referrers; the first {MAX_REFERRERS} were read",
            candidates.len()
        );
        out.push(unusable(
            Layout::Bundle,
            "referrers".into(),
            "signature-malformed",
            why,
        ));
    }
    Ok((api, out))
}

/// A referrer manifest fetched by its digest (checked) that refers to `digest`, and the
/// maker of its `signature-malformed` errors.
#[allow(clippy::type_complexity)]
fn referrer_manifest<'d>(
    client: &Client,
    reference: &Reference,
    digest: &Digest,
    d: &'d Descriptor,
) -> std::result::Result<(ArtifactManifest, impl Fn(String) -> BundleError + 'd), BundleError> {
    let unreadable = |why: String| BundleError {
        code: "signature-unreadable",
        detail: format!("{}: {why}", d.digest),
    };
    let malformed = move |why: String| BundleError {
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
    match &m.subject {
        Some(s) if s.digest == digest.to_string() => Ok((m, malformed)),
        other => Err(BundleError {
            code: "digest-mismatch",
            detail: format!(
                "{} refers to {}, not {digest}",
                d.digest,
                other.as_ref().map_or("nothing", |s| s.digest.as_str())
            ),
        }),
    }
}

/// The JWS envelope a Notation signature manifest holds, checked as a bundle's is.
fn notation_of(
    client: &Client,
    reference: &Reference,
    digest: &Digest,
    d: &Descriptor,
) -> std::result::Result<Vec<u8>, BundleError> {
    let (m, malformed) = referrer_manifest(client, reference, digest, d)?;
    let kind = m
        .artifact_type
        .as_deref()
        .or(m.config.as_ref().map(|c| c.media_type.as_str()));
    if kind != Some(notation::ARTIFACT_TYPE) {
        return Err(malformed(format!("artifact type {kind:?}")));
    }
    let layer = match m.layers.as_slice() {
        [l] if l.media_type == notation::JWS => l,
        [l] if l.media_type == "application/cose" => {
            return Err(BundleError {
                code: "signature-unsupported",
                detail: format!("{}: a COSE envelope; customs reads JWS", d.digest),
            });
        }
        _ => return Err(malformed("not one JWS layer".to_owned())),
    };
    if layer.size > notation::MAX_ENVELOPE {
        return Err(malformed(format!("a {}-byte envelope", layer.size)));
    }
    let blob: Digest = layer
        .digest
        .parse()
        .map_err(|e| malformed(format!("{e}")))?;
    read_blob(client, reference, &blob, notation::MAX_ENVELOPE).map_err(|why| BundleError {
        code: "signature-unreadable",
        detail: format!("{}: {why}", d.digest),
    })
}

/// The bundle JSON a referrer manifest holds, every document checked against its digest and
/// the manifest against the image it claims to refer to.
fn bundle_of(
    client: &Client,
    reference: &Reference,
    digest: &Digest,
    d: &Descriptor,
) -> std::result::Result<String, BundleError> {
    let (m, malformed) = referrer_manifest(client, reference, digest, d)?;
    let unreadable = |why: String| BundleError {
        code: "signature-unreadable",
        detail: format!("{}: {why}", d.digest),
    };
    if m.artifact_type.as_deref() != Some(BUNDLE_ARTIFACT_TYPE) {
        return Err(malformed(format!("artifactType {:?}", m.artifact_type)));
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
    let (digest, _, _) = resolve(client, reference)?;
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

/// Checks the image `reference` names against the trust policy: the first policy whose glob
/// matches its repository says who must have signed, how many, and whether a failure is
/// enforced. Keyless authorities without a trusted root of their own use `root`.
///
/// # Errors
/// As [`collect`].
pub fn verify_policy(
    client: &Client,
    reference: &Reference,
    policy: &TrustPolicy,
    root: &TrustedRoot,
    platform: &Platform,
    now: Timestamp,
) -> Result<SignatureVerdict> {
    let repository = format!("{}/{}", reference.registry, reference.repository);
    let (digest, media_type, bytes) = resolve(client, reference)?;
    if let Some(p) = policy.for_repository(&repository)
        && p.mode == Mode::Skip
    {
        // Notation's skip: no signature is fetched, and the verdict says so.
        return Ok(SignatureVerdict {
            reference: display(reference),
            digest: digest.to_string(),
            platform_digest: None,
            policy: Some(p.name.clone()),
            mode: Some("skip".to_owned()),
            required: 0,
            authorities: Vec::new(),
            signatures: 0,
            satisfied: false,
            outcome: Outcome::Skip,
            code: Some("verification-skipped".to_owned()),
        });
    }
    // An index: the platform's manifest may carry the signature instead (cosign sign
    // --recursive signs both).
    let platform_digest = platform_manifest(media_type.as_deref(), &bytes, platform);
    let collected = collect_at(client, reference, digest, media_type)?;
    let on_platform = match &platform_digest {
        None => None,
        Some(d) => Some(collect_at(client, reference, d.clone(), None)?),
    };
    let Some(p) = policy.for_repository(&repository) else {
        return Ok(SignatureVerdict {
            reference: collected.reference,
            digest: collected.digest.to_string(),
            platform_digest: platform_digest.map(|d| d.to_string()),
            policy: None,
            mode: None,
            required: 0,
            authorities: Vec::new(),
            signatures: collected.found.len(),
            satisfied: false,
            outcome: Outcome::Fail,
            code: Some("no-policy".to_owned()),
        });
    };
    let authorities: Vec<AuthorityResult> = p
        .authorities
        .iter()
        .map(|a| {
            let who = match &a.kind {
                AuthorityKind::Sigstore {
                    signer,
                    trusted_root,
                } => Who::Sigstore(signer, trusted_root.as_ref().unwrap_or(root)),
                AuthorityKind::Notation { store, level } => Who::Notation(store, *level, now),
            };
            let index = collected.judge_with(who);
            let Some(platform) = on_platform.as_ref().map(|c| c.judge_with(who)) else {
                return authority_result(&a.name, &index);
            };
            match (p.signed_object, index.satisfied, platform.satisfied) {
                (SignedObject::Either, true, _) | (SignedObject::Index, true, _) => {
                    authority_result(&a.name, &index)
                }
                (SignedObject::Either | SignedObject::Platform, _, true) => {
                    authority_result(&a.name, &platform)
                }
                (SignedObject::Index, false, true) => AuthorityResult {
                    name: a.name.clone(),
                    signed: false,
                    code: Some("index-not-signed".to_owned()),
                    detail: Some(format!(
                        "the platform manifest {} is signed, the index {} is not, and the \
                         policy wants the index signed",
                        platform.digest, index.digest
                    )),
                },
                (SignedObject::Platform, true, false) => AuthorityResult {
                    name: a.name.clone(),
                    signed: false,
                    code: Some("platform-not-signed".to_owned()),
                    detail: Some(format!(
                        "the index {} is signed, the platform manifest {} is not, and the \
                         policy wants the platform signed",
                        index.digest, platform.digest
                    )),
                },
                (SignedObject::Platform, false, false) => authority_result(&a.name, &platform),
                (_, false, false) => authority_result(&a.name, &index),
            }
        })
        .collect();
    let signed = authorities.iter().filter(|a| a.signed).count();
    let satisfied = signed >= p.required;
    let code = (!satisfied)
        .then(|| telling(authorities.iter().filter_map(|a| a.code.as_deref())).to_owned());
    let outcome = match (satisfied, p.mode) {
        (true, _) => Outcome::Pass,
        (false, Mode::Warn) => Outcome::Warn,
        (false, Mode::Enforce) => Outcome::Fail,
        (false, Mode::Skip) => Outcome::Skip,
    };
    Ok(SignatureVerdict {
        reference: collected.reference,
        digest: collected.digest.to_string(),
        platform_digest: platform_digest.map(|d| d.to_string()),
        policy: Some(p.name.clone()),
        mode: Some(match p.mode {
            Mode::Enforce => "enforce".to_owned(),
            Mode::Warn => "warn".to_owned(),
            Mode::Skip => "skip".to_owned(),
        }),
        required: p.required,
        authorities,
        signatures: collected.found.len() + on_platform.map_or(0, |c| c.found.len()),
        satisfied,
        outcome,
        code,
    })
}

fn authority_result(name: &str, v: &Verification) -> AuthorityResult {
    let refusal = v
        .signatures
        .iter()
        .find(|s| s.code.is_some() && s.code == v.code);
    AuthorityResult {
        name: name.to_owned(),
        signed: v.satisfied,
        code: v.code.map(str::to_owned),
        detail: refusal.and_then(|s| s.detail.clone()),
    }
}

/// The digest of `platform`'s manifest when `bytes` is an index (OCI or Docker list).
fn platform_manifest(
    media_type: Option<&str>,
    bytes: &[u8],
    platform: &Platform,
) -> Option<Digest> {
    #[derive(Deserialize)]
    struct List {
        #[serde(rename = "mediaType", default)]
        media_type: Option<String>,
        #[serde(default)]
        manifests: Vec<Entry>,
    }
    #[derive(Deserialize)]
    struct Entry {
        digest: String,
        platform: Option<EntryPlatform>,
    }
    #[derive(Deserialize)]
    struct EntryPlatform {
        os: String,
        architecture: String,
        variant: Option<String>,
    }
    const LISTS: [&str; 2] = [
        "application/vnd.oci.image.index.v1+json",
        "application/vnd.docker.distribution.manifest.list.v2+json",
    ];
    let list: List = serde_json::from_slice(bytes).ok()?;
    let kind = media_type.or(list.media_type.as_deref())?;
    if !LISTS.contains(&kind) {
        return None;
    }
    list.manifests.iter().find_map(|m| {
        let p = m.platform.as_ref()?;
        platform
            .accepts(&p.os, &p.architecture, p.variant.as_deref())
            .then(|| m.digest.parse().ok())
            .flatten()
    })
}

/// For `scan --trust-policy`: verifies the image a registry source names, and returns the
/// source pinned to the digest that was verified (the scan then reads exactly that, even if
/// the tag moves meanwhile), with the verdict. A source outside a registry (a file, a
/// layout, a root filesystem, an SBOM) cannot show its signatures: its verdict fails with
/// `not-in-registry`, so a gate never passes it unverified.
///
/// # Errors
/// A source that does not parse; as [`verify_policy`].
pub fn verify_source(
    client: &Client,
    source: &str,
    policy: &TrustPolicy,
    root: &TrustedRoot,
    platform: &Platform,
    now: Timestamp,
) -> Result<(String, SignatureVerdict)> {
    let parsed = customs_image::SourceRef::parse(source)?;
    let Some(reference) = parsed
        .image
        .filter(|_| parsed.kind == customs_image::SourceKind::Registry)
    else {
        return Ok((
            source.to_owned(),
            SignatureVerdict {
                reference: source.to_owned(),
                digest: String::new(),
                platform_digest: None,
                policy: None,
                mode: None,
                required: 0,
                authorities: Vec::new(),
                signatures: 0,
                satisfied: false,
                outcome: Outcome::Fail,
                code: Some("not-in-registry".to_owned()),
            },
        ));
    };
    let verdict = verify_policy(client, &reference, policy, root, platform, now)?;
    let mut pinned = format!("{}/{}", reference.registry, reference.repository);
    if let Some(tag) = &reference.tag {
        pinned.push(':');
        pinned.push_str(tag);
    }
    pinned.push('@');
    pinned.push_str(&verdict.digest);
    Ok((pinned, verdict))
}

/// What `customs verify-attestation` found.
#[derive(Debug, Clone, Serialize)]
pub struct AttestationVerification {
    /// The reference as given.
    pub reference: String,
    /// The digest it resolved to.
    pub digest: Digest,
    /// The predicate type asked for.
    pub predicate_type: String,
    /// Every attestation of that type found, verified or refused.
    pub attestations: Vec<AttestationCheck>,
    /// How many verified.
    pub verified: usize,
    /// Whether at least one did.
    pub satisfied: bool,
    /// Why not: `no-attestation`, or the refusal that says most.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub code: Option<&'static str>,
}

/// The legacy `.att` layers of `predicate_type` (by their unsigned hint), each checked.
fn legacy_attestations(
    client: &Client,
    reference: &Reference,
    digest: &Digest,
    signer: &Signer,
    root: &TrustedRoot,
    predicate_type: &str,
) -> Result<Vec<AttestationCheck>> {
    let tag = att::attestation_tag(digest);
    let manifest = match client.manifest(reference, &tag) {
        Err(RegistryError::NotFound { .. }) => return Ok(Vec::new()),
        Err(e) => return Err(e.into()),
        Ok(m) => m,
    };
    let layers = match att::attestation_layers(&manifest.bytes) {
        Err(e) => return Ok(vec![AttestationCheck::of(Layout::Legacy, tag, Err(e))]),
        Ok(l) => l,
    };
    let mut out = Vec::new();
    for (n, l) in layers.iter().enumerate() {
        if l.predicate_type
            .as_deref()
            .is_some_and(|p| p != predicate_type)
        {
            continue;
        }
        let source = format!("{tag}#{}", n + 1);
        let r = if l.size > att::MAX_ENVELOPE {
            Err(BundleError {
                code: "signature-malformed",
                detail: format!("a {}-byte envelope", l.size),
            })
        } else {
            read_blob(client, reference, &l.digest, att::MAX_ENVELOPE)
                .map_err(|why| BundleError {
                    code: "signature-unreadable",
                    detail: format!("{source}: {why}"),
                })
                .and_then(|envelope| {
                    att::check_legacy(&envelope, l, digest, signer, root, predicate_type)
                })
        };
        out.push(AttestationCheck::of(Layout::Legacy, source, r));
    }
    Ok(out)
}

/// Every attestation of `predicate_type` about the image `reference` names (legacy `.att`
/// layers and v3 bundles), each checked against `signer`: who signed, the subject, the type.
///
/// # Errors
/// The registry's errors.
pub fn verify_attestations(
    client: &Client,
    reference: &Reference,
    signer: &Signer,
    root: &TrustedRoot,
    predicate_type: &str,
) -> Result<AttestationVerification> {
    let (digest, _, _) = resolve(client, reference)?;
    let mut out = legacy_attestations(client, reference, &digest, signer, root, predicate_type)?;
    let (_, found) = bundles(client, reference, &digest, predicate_type)?;
    for f in found {
        let r = f.material.and_then(|m| match m {
            Material::Bundle { json } => image::check(
                image::Material::Bundle { json: &json },
                &digest,
                signer,
                root,
                predicate_type,
            )
            .map(|c| Attested {
                verified: c.verified,
                predicate_type: predicate_type.to_owned(),
                statement: image::statement(&json).unwrap_or_default(),
            }),
            Material::Legacy { .. } | Material::Notation { .. } => Err(BundleError {
                code: "signature-malformed",
                detail: "not a bundle".to_owned(),
            }),
        });
        out.push(AttestationCheck::of(f.layout, f.source, r));
    }
    let verified = out.iter().filter(|a| a.verified.is_some()).count();
    let code = (verified == 0).then(|| {
        if out.is_empty() {
            "no-attestation"
        } else {
            telling(out.iter().filter_map(|a| a.code))
        }
    });
    Ok(AttestationVerification {
        reference: display(reference),
        digest,
        predicate_type: predicate_type.to_owned(),
        attestations: out,
        verified,
        satisfied: verified > 0,
        code,
    })
}

/// What `customs attest` did.
#[derive(Debug, Clone, Serialize)]
pub struct AttestReport {
    /// The reference as given.
    pub reference: String,
    /// The digest attested.
    pub digest: Digest,
    /// The tag the attestation is stored under.
    pub attestation_tag: String,
    /// The predicate type.
    pub predicate_type: String,
    /// The signing key's fingerprint.
    pub key: String,
}

/// Attest `predicate` (JSON) of `predicate_type` about the image, signed with `key`, stored
/// as `cosign attest --key` stores it (a DSSE envelope layer of the `sha256-<hex>.att`
/// manifest, beside those already there).
///
/// # Errors
/// The registry's errors; a predicate that is not JSON.
pub fn attest(
    client: &Client,
    reference: &Reference,
    key: &SigningKey,
    predicate_type: &str,
    predicate: &[u8],
) -> Result<AttestReport> {
    let (digest, _, _) = resolve(client, reference)?;
    let repository = format!("{}/{}", reference.registry, reference.repository);
    let a = att::attest(key, &repository, &digest, predicate_type, predicate)
        .map_err(|e| AppError::invalid("--predicate", e.detail))?;
    let tag = att::attestation_tag(&digest);
    let existing = match client.manifest(reference, &tag) {
        Ok(m) => Some(m.bytes),
        Err(RegistryError::NotFound { .. }) => None,
        Err(e) => return Err(e.into()),
    };
    let (config, manifest) = att::merged(existing.as_deref(), &a)
        .map_err(|e| AppError::invalid(format!("{repository}:{tag}"), e.detail))?;
    client.push_blob(reference, &a.digest.to_string(), a.envelope.into())?;
    let config_digest = Digest::compute(Algorithm::Sha256, &config);
    client.push_blob(reference, &config_digest.to_string(), config.into())?;
    client.put_manifest(reference, &tag, cosign::OCI_MANIFEST, manifest.into())?;
    Ok(AttestReport {
        reference: display(reference),
        digest,
        attestation_tag: tag,
        predicate_type: predicate_type.to_owned(),
        key: key.verifying_key().fingerprint(),
    })
}
