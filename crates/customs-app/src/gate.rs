//! The gate (`customs scan --policy`): a policy file applied to one scan report, with the
//! image's repository (exceptions may be scoped to it) and the signature verdict (a rule may
//! want the image signed).

use customs_policy::vex::{VexDocument, VexIgnored};
use customs_policy::{BaseImage, Input, Policy, Verdict};
use customs_types::Timestamp;

use crate::report::{Outcome, ScanReport};
use crate::{AppError, Result};

/// `REGISTRY/REPOSITORY` of a scanned image when it came from a registry.
#[must_use]
pub fn repository_of(report: &ScanReport) -> Option<String> {
    let parsed = customs_image::SourceRef::parse(&report.inventory.source.reference).ok()?;
    if parsed.kind != customs_image::SourceKind::Registry {
        return None;
    }
    parsed
        .image
        .map(|r| format!("{}/{}", r.registry, r.repository))
}

/// What a policy reads of a report besides its findings, owned so that an [`Input`] can
/// borrow it while the findings change.
struct Facts {
    repository: Option<String>,
    digest: Option<String>,
    packages: Vec<customs_policy::PackageFact>,
    created: Option<Timestamp>,
    signed: Option<bool>,
    detections: Vec<customs_catalog::customs_detect::Detection>,
    scanners: customs_catalog::customs_detect::Scanners,
    skipped: std::collections::BTreeMap<String, usize>,
}

impl Facts {
    fn of(report: &ScanReport) -> Self {
        let packages = report
            .inventory
            .packages
            .iter()
            .map(|p| customs_policy::PackageFact {
                name: p.name.clone(),
                version: p.version.clone(),
                ecosystem: p.ecosystem,
                purl: p.purl.clone(),
                licenses: p.licenses.clone(),
                // A language package is placed by the files that name it; an OS package by
                // its database.
                paths: if p.ecosystem.is_os() || p.paths.is_empty() {
                    vec![p.found_in.clone()]
                } else {
                    p.paths.clone()
                },
            })
            .collect();
        let image = report.inventory.image.as_ref();
        Self {
            repository: repository_of(report),
            digest: image
                .and_then(|i| i.manifest_digest.as_ref())
                .map(ToString::to_string),
            packages,
            created: image
                .and_then(|i| i.created.as_deref())
                .and_then(|c| Timestamp::parse_lenient(c).ok()),
            signed: report
                .signature
                .as_ref()
                .map(|v| v.outcome == Outcome::Pass),
            detections: report.inventory.detections.clone(),
            scanners: report.scanners,
            skipped: report
                .inventory
                .inspected
                .as_ref()
                .map(|i| i.skipped.clone())
                .unwrap_or_default(),
        }
    }

    fn input<'a>(
        &'a self,
        findings: &'a [customs_match::Finding],
        now: Timestamp,
        base: Option<&'a BaseImage>,
    ) -> Input<'a> {
        Input {
            findings,
            repository: self.repository.as_deref(),
            signed: self.signed,
            now,
            packages: &self.packages,
            created: self.created,
            digest: self.digest.as_deref(),
            base,
            detections: customs_policy::Detections {
                found: &self.detections,
                scanners: self.scanners,
                skipped: &self.skipped,
            },
        }
    }
}

/// `policy` applied to `report` at `now`, with the image's `base` when it is known (see
/// [`base_image`]). The signature counts as signed only when the trust policy's verdict
/// passed; a scan without one leaves it unknown, which a rule that wants a signature does not
/// pass.
#[must_use]
pub fn judge(
    policy: &Policy,
    report: &ScanReport,
    now: Timestamp,
    base: Option<&BaseImage>,
) -> Verdict {
    let facts = Facts::of(report);
    customs_policy::evaluate(policy, &facts.input(&report.findings, now, base))
}

/// The OCI annotations (also accepted as config labels) naming the image an image was built
/// on.
const BASE_DIGEST: &str = "org.opencontainers.image.base.digest";
const BASE_NAME: &str = "org.opencontainers.image.base.name";

/// The stored image `report`'s image is built on. The one its `org.opencontainers.image.base.
/// digest` annotation (or label) names, when that image is stored and its layers are this
/// one's bottom layers; else the stored image whose layers are the longest proper prefix of
/// its layers. `None` for a source without layers, or when the store holds no such image (scan
/// the base with `--store` once and its images are placed). An annotation is only believed
/// when the layers agree: a name alone proves nothing about which layers are the base's.
///
/// # Errors
/// The store's.
pub fn base_image(
    store: &mut dyn customs_store::Store,
    report: &ScanReport,
) -> Result<Option<BaseImage>> {
    base_of_inventory(store, &report.inventory)
}

/// [`base_image`] of an inventory (a stored image's, say).
///
/// # Errors
/// The store's.
pub fn base_of_inventory(
    store: &mut dyn customs_store::Store,
    inventory: &customs_catalog::Inventory,
) -> Result<Option<BaseImage>> {
    let Some(image) = &inventory.image else {
        return Ok(None);
    };
    let chain: Option<Vec<String>> = image
        .layers
        .iter()
        .map(|l| l.layer.diff_id.as_ref().map(ToString::to_string))
        .collect();
    let Some(chain) = chain else {
        return Ok(None);
    };
    let said = |key: &str| {
        image
            .annotations
            .get(key)
            .or_else(|| image.config.labels.get(key))
            .map(|v| v.trim().to_owned())
    };
    let named = said(BASE_DIGEST).and_then(|d| d.parse::<customs_types::Digest>().ok());
    if let Some(d) = named
        && let Some(base) = store.image(&d.to_string())?
    {
        let layers = customs_store::layer_chain(&base.inventory);
        if !layers.is_empty() && layers.len() < chain.len() && chain.starts_with(&layers) {
            let mut names: Vec<String> = said(BASE_NAME).into_iter().collect();
            for t in base.summary.tags {
                if !names.contains(&t) {
                    names.push(t);
                }
            }
            return Ok(Some(BaseImage {
                layers: layers.len(),
                digest: Some(base.summary.digest),
                names,
            }));
        }
    }
    let digest = image
        .manifest_digest
        .as_ref()
        .map(ToString::to_string)
        .unwrap_or_default();
    Ok(store.base_of(&digest, &chain)?.map(|b| BaseImage {
        layers: b.layers,
        digest: Some(b.digest),
        names: b.names,
    }))
}

/// Marks the findings an exception of `policy` covers (at `now`) as suppressed
/// (`excepted: OWNER until DATE: REASON`), so that the report's views, `--fail-on` and the
/// policy agree: a risk accepted never blocks, and shows with its owner where suppressed
/// findings show. Findings the vendor already suppressed keep the vendor's reason.
pub fn mark_exceptions(policy: &Policy, report: &mut ScanReport, now: Timestamp) {
    let facts = Facts::of(report);
    let input = facts.input(&[], now, None);
    for f in &mut report.findings {
        if f.suppressed.is_some() {
            continue;
        }
        if let customs_policy::Covering::Live(e) = policy.covering(f, &input) {
            let until = e
                .expires
                .as_deref()
                .map_or_else(|| "no end".to_owned(), |d| format!("until {d}"));
            f.suppressed = Some(customs_match::Suppression::Excepted {
                reason: format!("{} {until}: {}", e.owner, e.reason),
            });
        }
    }
}

/// Applies VEX documents to `report`: each finding the latest statement about it calls
/// `not_affected` or `fixed` is suppressed with the statement's words, and the report says
/// which documents were read, what they suppressed, and which were found but `ignored`.
/// Run it before [`judge`], so that the policy and `--fail-on` agree on what VEX suppressed.
pub fn apply_vex(documents: &[VexDocument], ignored: Vec<VexIgnored>, report: &mut ScanReport) {
    let image = customs_report::image_purl(&report.inventory);
    let mut vex = customs_policy::vex::apply(documents, &mut report.findings, image.as_deref());
    vex.ignored = ignored;
    report.vex = Some(vex);
}

/// A stored image's report, for a gate or a VEX document about it without reading the image
/// again: its stored inventory matched against `db` now, with the signature verdict stored by
/// its last scan.
///
/// # Errors
/// As [`images::resolve`](crate::images::resolve), a stored inventory that does not read back,
/// or the database's errors.
pub fn stored_report(
    store: &mut dyn customs_store::Store,
    reference: &str,
    db: &customs_vulndb::VulnDb,
) -> Result<ScanReport> {
    report_of(crate::images::resolve(store, reference)?, db)
}

/// A stored image's report from its stored inventory and signature verdict.
fn report_of(image: customs_store::ImageDetail, db: &customs_vulndb::VulnDb) -> Result<ScanReport> {
    let digest = image.summary.digest;
    let inventory =
        serde_json::from_value(image.inventory).map_err(|source| AppError::StoredInventory {
            digest: digest.clone(),
            source,
        })?;
    let mut report = crate::scan::match_inventory(inventory, db)?;
    report.signature = image
        .signature
        .and_then(|s| serde_json::from_value(s.verdict).ok());
    Ok(report)
}

/// The predicate types of OpenVEX attestations: cosign's `--type openvex`, and the versioned
/// one vexctl writes.
pub const OPENVEX_PREDICATES: [&str; 2] =
    ["https://openvex.dev/ns", "https://openvex.dev/ns/v0.2.0"];

/// The OpenVEX attestations on the image `reference` names that an authority of the trust
/// policy for its repository signed, read as VEX documents; and every other one found, with
/// why it does not count (unsigned, signed by someone else, not for this image, not VEX). A
/// VEX statement from a stranger is never applied: without a policy for the repository, none
/// is. Keyless authorities without a trusted root of their own use `root`.
///
/// # Errors
/// The registry's errors.
pub fn vex_attestations(
    client: &customs_registry::Client,
    reference: &customs_registry::Reference,
    policy: &customs_sign::policy::TrustPolicy,
    root: &customs_sign::bundle::TrustedRoot,
) -> Result<(Vec<VexDocument>, Vec<VexIgnored>)> {
    use customs_sign::policy::{AuthorityKind, Mode};
    use std::collections::BTreeMap;
    let repository = format!("{}/{}", reference.registry, reference.repository);
    let ignored = |code: &str, detail: String| VexIgnored {
        source: repository.clone(),
        code: code.to_owned(),
        detail,
    };
    let Some(p) = policy.for_repository(&repository) else {
        return Ok((
            Vec::new(),
            vec![ignored(
                "no-policy",
                format!(
                    "no policy of {} names {repository}: its VEX attestations are not read",
                    policy.path.display()
                ),
            )],
        ));
    };
    if p.mode == Mode::Skip {
        return Ok((
            Vec::new(),
            vec![ignored(
                "verification-skipped",
                format!(
                    "policy {} skips verification: its VEX attestations are not read",
                    p.name
                ),
            )],
        ));
    }
    // Source → the first authority that verified it and its statement; or why none did.
    let mut verified: BTreeMap<String, (String, serde_json::Value)> = BTreeMap::new();
    let mut refused: BTreeMap<String, (String, String)> = BTreeMap::new();
    let mut sigstore = 0;
    for a in &p.authorities {
        let AuthorityKind::Sigstore {
            signer,
            trusted_root,
        } = &a.kind
        else {
            continue;
        };
        sigstore += 1;
        for predicate in OPENVEX_PREDICATES {
            let v = crate::signatures::verify_attestations(
                client,
                reference,
                signer,
                trusted_root.as_ref().unwrap_or(root),
                predicate,
            )?;
            for c in v.attestations {
                match c.verified {
                    Some(att) => {
                        verified
                            .entry(c.source)
                            .or_insert((a.name.clone(), att.statement));
                    }
                    None => {
                        refused.entry(c.source).or_insert((
                            c.code.unwrap_or("refused").to_owned(),
                            format!("authority {}: {}", a.name, c.detail.unwrap_or_default()),
                        ));
                    }
                }
            }
        }
    }
    let mut out = Vec::new();
    let mut skipped: Vec<VexIgnored> = refused
        .into_iter()
        .filter(|(source, _)| !verified.contains_key(source))
        .map(|(source, (code, detail))| VexIgnored {
            source,
            code,
            detail,
        })
        .collect();
    if sigstore == 0 {
        skipped.push(ignored(
            "no-sigstore-authority",
            format!(
                "policy {} names no cosign key or identity to check VEX attestations by",
                p.name
            ),
        ));
    }
    for (source, (authority, statement)) in verified {
        let label = format!("attestation {source} (signed by {authority})");
        let predicate = statement.get("predicate").cloned().unwrap_or_default();
        match VexDocument::parse(&predicate.to_string(), &label) {
            Ok(d) => out.push(d),
            Err(e) => skipped.push(VexIgnored {
                source,
                code: "vex-malformed".to_owned(),
                detail: e.to_string(),
            }),
        }
    }
    Ok((out, skipped))
}

/// Each exception of `policy` as the store versions it: a key naming what it covers (its
/// vulnerability and scope) and its record (what it says, without its line in the file).
#[must_use]
pub fn exception_records(policy: &Policy) -> Vec<(String, serde_json::Value)> {
    policy
        .exceptions
        .iter()
        .map(|e| {
            let mut key = format!(
                "{} packages=[{}] repositories=[{}]",
                e.vulnerability,
                e.packages.patterns.join(","),
                e.repositories.patterns.join(",")
            );
            let mut record = serde_json::json!({
                "vulnerability": e.vulnerability,
                "packages": e.packages.patterns,
                "repositories": e.repositories.patterns,
                "reason": e.reason,
                "owner": e.owner,
                "created": e.created,
                "expires": e.expires,
                "ticket": e.ticket,
            });
            add_scopes(&mut key, &mut record, &e.paths.patterns, &e.images);
            (key, record)
        })
        .chain(policy.detection_exceptions.iter().map(|e| {
            // `code:` keys never collide with a vulnerability id's.
            let mut key = format!(
                "code:{} repositories=[{}]",
                e.code,
                e.repositories.patterns.join(",")
            );
            let mut record = serde_json::json!({
                "code": e.code,
                "repositories": e.repositories.patterns,
                "reason": e.reason,
                "owner": e.owner,
                "created": e.created,
                "expires": e.expires,
                "ticket": e.ticket,
            });
            add_scopes(&mut key, &mut record, &e.paths.patterns, &e.images);
            (key, record)
        }))
        .collect()
}

/// An exception's `paths` and `images` scopes, in its key and record only when given, so that
/// the keys and records of exceptions written before these scopes existed stay the same (an
/// unchanged exception records no event).
fn add_scopes(
    key: &mut String,
    record: &mut serde_json::Value,
    paths: &[String],
    images: &[String],
) {
    for (name, scope) in [("paths", paths), ("images", images)] {
        if !scope.is_empty() {
            key.push_str(&format!(" {name}=[{}]", scope.join(",")));
            record[name] = serde_json::json!(scope);
        }
    }
}

/// Who runs customs, for the records it keeps: `CUSTOMS_USER`, else the login name.
#[must_use]
pub fn actor() -> String {
    ["CUSTOMS_USER", "USER", "LOGNAME"]
        .iter()
        .find_map(|v| std::env::var(v).ok().filter(|s| !s.trim().is_empty()))
        .unwrap_or_else(|| "unknown".to_owned())
}

/// Keeps `verdict` as the image's latest under `policy`, after recording how the policy's
/// exceptions changed since the store last saw them. Returns the verdict it replaces and the
/// exception changes.
///
/// # Errors
/// The store's errors.
pub fn record_verdict(
    store: &mut dyn customs_store::Store,
    policy: &Policy,
    digest: &str,
    verdict: &Verdict,
    by: &str,
    now: Timestamp,
) -> Result<(
    Option<customs_store::StoredPolicyVerdict>,
    Vec<customs_store::ExceptionEvent>,
)> {
    let events = sync_exceptions(store, policy, by, now)?;
    Ok((keep_verdict(store, policy, digest, verdict, now)?, events))
}

/// Records how `policy`'s exceptions changed since the store last saw them.
fn sync_exceptions(
    store: &mut dyn customs_store::Store,
    policy: &Policy,
    by: &str,
    now: Timestamp,
) -> Result<Vec<customs_store::ExceptionEvent>> {
    let name = policy.path.display().to_string();
    Ok(store.sync_exceptions(&name, &exception_records(policy), by, now)?)
}

/// Keeps `verdict` as the image's latest under `policy`; returns the one it replaces.
fn keep_verdict(
    store: &mut dyn customs_store::Store,
    policy: &Policy,
    digest: &str,
    verdict: &Verdict,
    now: Timestamp,
) -> Result<Option<customs_store::StoredPolicyVerdict>> {
    let document = serde_json::to_value(verdict)
        .map_err(|e| AppError::invalid("the policy verdict", e.to_string()))?;
    let name = policy.path.display().to_string();
    Ok(store.put_policy_verdict(digest, &name, verdict.outcome.as_str(), &document, now)?)
}

/// An image whose verdict under a policy changed.
#[derive(Debug, Clone, PartialEq, serde::Serialize)]
pub struct VerdictChange {
    /// The image.
    pub digest: String,
    /// Its repository, when it has one.
    pub repository: Option<String>,
    /// The policy.
    pub policy: String,
    /// The verdict before (`pass`, `warn`, `fail`).
    pub before: String,
    /// The verdict now.
    pub after: String,
    /// Why, now: each violation's code, vulnerability and package.
    pub violations: Vec<String>,
    /// Exceptions that expired since, by their vulnerability.
    pub expired: Vec<String>,
}

/// Judges every stored image by `r.policy` from its stored inventory (the images are not
/// read), keeps each verdict, and returns the images whose verdict differs from the one kept
/// before (an exception expired, a KEV entry appeared, a fix was published). An image judged
/// for the first time is recorded, not reported.
///
/// # Errors
/// The store's and the database's errors.
pub fn rejudge(
    store: &mut dyn customs_store::Store,
    db: &customs_vulndb::VulnDb,
    r: &crate::rematch::Rejudge<'_>,
) -> Result<Vec<VerdictChange>> {
    let now = r.now.unwrap_or_else(Timestamp::now);
    // The exceptions once for the round, not once per image.
    sync_exceptions(store, r.policy, r.by, now)?;
    let mut out = Vec::new();
    for image in store.images()? {
        // By its full digest: `stored_report`'s resolving would list every image again.
        let Some(detail) = store.image(&image.digest)? else {
            continue;
        };
        let mut report = report_of(detail, db)?;
        if !r.vex.is_empty() {
            apply_vex(r.vex, Vec::new(), &mut report);
        }
        let base = base_image(store, &report)?;
        let verdict = judge(r.policy, &report, now, base.as_ref());
        let Some(previous) = keep_verdict(store, r.policy, &image.digest, &verdict, now)? else {
            continue;
        };
        if previous.outcome == verdict.outcome.as_str() {
            continue;
        }
        out.push(VerdictChange {
            digest: image.digest.clone(),
            repository: image.repository.clone(),
            policy: verdict.policy.clone(),
            before: previous.outcome,
            after: verdict.outcome.as_str().to_owned(),
            violations: verdict
                .violations
                .iter()
                .map(|v| {
                    let what = [
                        v.vulnerability.as_deref(),
                        v.package.as_deref(),
                        v.detection.as_deref(),
                        v.location.as_ref().map(|l| l.path.as_str()),
                    ]
                    .into_iter()
                    .flatten()
                    .collect::<Vec<_>>()
                    .join(" in ");
                    format!("{}: {} {what}", v.rule, v.code.as_str())
                        .trim_end()
                        .to_owned()
                })
                .collect(),
            expired: verdict
                .expired
                .iter()
                .map(|e| e.vulnerability.clone())
                .chain(
                    verdict
                        .detection_expired
                        .iter()
                        .map(|e| format!("code:{}", e.code)),
                )
                .collect(),
        });
    }
    Ok(out)
}
