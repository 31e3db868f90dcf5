//! Keeping a scan in the store (`customs scan --store`), and what the store needs of a match:
//! the keys a package is indexed under, the findings it tracks, and why findings go away.

use std::collections::BTreeMap;
use std::sync::Arc;

use customs_catalog::{Inventory, Package};
use customs_image::{SourceKind, SourceRef};
use customs_match::{Finding, Suppression};
use customs_store::{
    Delta, FindingId, FindingRecord, IndexedPackage, PackageKey, Resolutions, ResolvedReason,
    ScanRecord, Store, Timestamp,
};
use customs_vulndb::VulnDb;
use serde::Serialize;

use crate::report::ScanReport;
use crate::{AppError, Result};

/// What storing a scan did.
#[derive(Debug, Clone, Serialize)]
pub struct Recorded {
    /// The store's key for the image: its manifest digest, or `KIND:PATH` for a source without
    /// one (a root filesystem).
    pub digest: String,
    /// The repository and tag it was stored under, if any.
    pub repository: Option<String>,
    /// The tag.
    pub tag: Option<String>,
    /// What changed since the image was last stored.
    pub delta: Delta,
}

/// The keys the store indexes a package under, which are the keys advisories name it by: its
/// name as its ecosystem compares names ([`customs_types::Ecosystem::match_name`], the same
/// rule the vulnerability database keys its statements with), and for an OS package also its
/// source package. A changed advisory for (namespace ecosystem, name) reaches exactly the
/// stored packages with that key.
#[must_use]
pub fn package_keys(p: &Package) -> Vec<PackageKey> {
    let mut keys = vec![PackageKey {
        ecosystem: p.ecosystem,
        name: p.ecosystem.match_name(&p.name),
    }];
    if let Some(src) = p.source_name.as_ref().filter(|s| **s != p.name) {
        keys.push(PackageKey {
            ecosystem: p.ecosystem,
            name: p.ecosystem.match_name(src),
        });
    }
    keys
}

/// The store's key for an image: its manifest digest, or for a source without one `KIND:PATH`.
#[must_use]
pub fn image_key(inv: &Inventory) -> String {
    match inv.image.as_ref().and_then(|i| i.manifest_digest.as_ref()) {
        Some(d) => d.to_string(),
        None => format!("{}:{}", inv.source.kind, inv.source.reference),
    }
}

/// Repository and tag a scan is stored under: `registry/repository` and its tag for a
/// registry image (none when pulled by digest); `KIND:PATH` and the tag in the layout for an
/// OCI layout or archive, as `customs images` prints them and `history` takes them back; for
/// an SBOM, `sbom:` and the image it names with that name's tag (else `sbom:PATH`).
#[must_use]
pub fn repository_and_tag(inv: &Inventory) -> (Option<String>, Option<String>) {
    let reference = &inv.source.reference;
    match inv.source.kind {
        SourceKind::Registry => {
            let bare = reference
                .strip_prefix("registry:")
                .or_else(|| reference.strip_prefix("docker://"))
                .unwrap_or(reference);
            match customs_registry::Reference::parse(bare) {
                Ok(r) => (
                    Some(format!("{}/{}", r.registry, r.repository)),
                    r.tag.filter(|_| r.digest.is_none()),
                ),
                Err(_) => (Some(reference.clone()), None),
            }
        }
        SourceKind::Sbom => match &inv.source.described {
            // The image the SBOM describes, so the same image's SBOMs share one history;
            // its tag when it names one as a registry reference.
            Some(name) => {
                let tag = customs_registry::Reference::parse(name)
                    .ok()
                    .and_then(|r| r.tag.filter(|_| r.digest.is_none()));
                (Some(format!("sbom:{name}")), tag)
            }
            None => (Some(reference.clone()), None),
        },
        SourceKind::Oci | SourceKind::OciArchive | SourceKind::DockerArchive | SourceKind::Dir => {
            // The path as given, with the kind spelled out, so a detected `/x/layout` and
            // `oci:/x/layout` are one repository.
            let parsed = SourceRef::parse(reference).ok();
            let repository = parsed.as_ref().map_or_else(
                || reference.clone(),
                |s| format!("{}:{}", s.kind, s.path.display()),
            );
            let tag = inv.source.tag.clone().or_else(|| {
                parsed
                    .and_then(|s| s.selector)
                    .filter(|_| inv.source.kind != SourceKind::DockerArchive)
            });
            (Some(repository), tag)
        }
    }
}

/// Every package as the store keeps it for rematches: without its file lists (a rematch
/// reads names, versions and sources), under [`package_keys`].
fn indexed_packages(inv: &Inventory) -> Result<Vec<IndexedPackage>> {
    inv.packages
        .iter()
        .map(|p| {
            let mut data = serde_json::to_value(p).map_err(json_error)?;
            if let Some(object) = data.as_object_mut() {
                object.insert("paths".to_owned(), serde_json::Value::Array(Vec::new()));
                object.remove("owns");
                object.remove("evidence");
            }
            Ok(IndexedPackage {
                keys: package_keys(p),
                data,
            })
        })
        .collect()
}

/// The inventory without its packages and files: what else a rematch reads (the distro).
fn match_context(inv: &Inventory) -> Result<serde_json::Value> {
    let mut context = serde_json::to_value(inv).map_err(json_error)?;
    if let Some(object) = context.as_object_mut() {
        object.remove("packages");
        object.remove("files");
    }
    Ok(context)
}

fn json_error(e: serde_json::Error) -> AppError {
    AppError::invalid("serializing the inventory", e.to_string())
}

/// The findings a store tracks: the open ones (a suppressed finding is the vendor's verdict
/// that nothing needs doing).
///
/// # Errors
/// Serialization failures (none in practice).
pub fn finding_records<'f>(
    findings: impl IntoIterator<Item = &'f Finding>,
) -> Result<Vec<FindingRecord>> {
    findings
        .into_iter()
        .filter(|f| f.suppressed.is_none())
        .map(|f| {
            Ok(FindingRecord {
                id: f.id.clone(),
                package_name: f.package.name.clone(),
                package_version: f.package.version.clone(),
                severity: f.severity,
                kev: f.kev.is_some(),
                data: serde_json::to_value(f).map_err(json_error)?,
            })
        })
        .collect()
}

/// Every withdrawn or rejected advisory id of the database, as resolution reasons: shared by
/// every image of a run.
///
/// # Errors
/// The database's errors.
pub fn withdrawn_ids(db: &VulnDb) -> Result<Arc<BTreeMap<String, ResolvedReason>>> {
    Ok(Arc::new(
        db.withdrawn_ids()?
            .into_iter()
            .map(|id| (id, ResolvedReason::AdvisoryWithdrawn))
            .collect(),
    ))
}

/// Why a finding the store has open could be missing from a match: the advisory was withdrawn
/// (`withdrawn`, from [`withdrawn_ids`], and the advisories the match saw withdrawn), or the
/// distro now says not affected or hides it. Anything else is `no-longer-matched`.
#[must_use]
pub fn resolutions(
    findings: &[Finding],
    withdrawn_seen: &std::collections::BTreeSet<(String, String, String)>,
    withdrawn: &Arc<BTreeMap<String, ResolvedReason>>,
) -> Resolutions {
    let mut by_finding = BTreeMap::new();
    let id = |id: &str, name: &str, version: &str| FindingId {
        id: id.to_owned(),
        package_name: name.to_owned(),
        package_version: version.to_owned(),
    };
    for (advisory, name, version) in withdrawn_seen {
        by_finding.insert(
            id(advisory, name, version),
            ResolvedReason::AdvisoryWithdrawn,
        );
    }
    for f in findings {
        let why = match &f.suppressed {
            None => continue,
            Some(Suppression::NotAffected { .. }) => ResolvedReason::NotAffected,
            Some(
                Suppression::WontFix { .. }
                | Suppression::Unimportant
                | Suppression::Excepted { .. }
                | Suppression::Vex { .. },
            ) => ResolvedReason::Suppressed,
        };
        for name in std::iter::once(&f.id).chain(&f.aliases) {
            by_finding.insert(id(name, &f.package.name, &f.package.version), why);
        }
    }
    Resolutions {
        default: ResolvedReason::NoLongerMatched,
        by_finding,
        by_advisory: Arc::clone(withdrawn),
    }
}

/// Store a scan: the image, its tag, its inventory and its findings; returns what changed
/// since it was last stored.
///
/// # Errors
/// The store's or the database's errors.
pub fn record(store: &mut dyn Store, db: &VulnDb, report: &ScanReport) -> Result<Recorded> {
    let rec = scan_record(db, report)?;
    let delta = store.put_scan(&rec)?;
    Ok(Recorded {
        digest: rec.digest,
        repository: rec.repository,
        tag: rec.tag,
        delta,
    })
}

/// What [`record`] stores of a scan, for a caller that stores it itself (a worker, with its
/// job's completion in the same transaction).
///
/// # Errors
/// The database's errors, or an inventory that does not serialise.
pub fn scan_record(db: &VulnDb, report: &ScanReport) -> Result<ScanRecord> {
    let inv = &report.inventory;
    let (repository, tag) = repository_and_tag(inv);
    let unchecked = customs_match::unchecked(&report.coverage);
    Ok(ScanRecord {
        digest: image_key(inv),
        repository,
        tag,
        also_tagged: Vec::new(),
        inventory: serde_json::to_value(inv).map_err(json_error)?,
        context: match_context(inv)?,
        packages: indexed_packages(inv)?,
        findings: finding_records(&report.findings)?,
        scanned_at: Timestamp::now(),
        db_built_at: report.database.built_at,
        resolutions: resolutions(&report.findings, &report.withdrawn, &withdrawn_ids(db)?),
        scope: crate::rematch::held_out(inv, &unchecked, None),
        signature: report
            .signature
            .as_ref()
            .map(serde_json::to_value)
            .transpose()
            .map_err(json_error)?,
    })
}
