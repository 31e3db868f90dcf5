//! What the store holds, read back: naming a stored image the ways `customs images` prints it,
//! an image's findings over time (`customs history`), and two images compared
//! (`customs diff`).

use std::collections::{BTreeMap, BTreeSet};

use customs_catalog::Inventory;
use customs_store::{FindingHistory, ImageDetail, ResolvedReason, Store, TagEvent};
use customs_types::Ecosystem;
use serde::Serialize;

use crate::{AppError, Result};

/// The fewest hex digits a digest prefix may have: `customs images` prints twelve.
pub const MIN_PREFIX: usize = 12;

/// Find a stored image by any name `customs images` shows for it:
/// - its digest, whole (`sha256:…`) or a unique prefix of at least [`MIN_PREFIX`] hex digits,
///   with or without `sha256:`; also `REPOSITORY@DIGEST`;
/// - `REPOSITORY:TAG`, or `REPOSITORY` alone for `:latest`, the tag's latest digest;
/// - a repository without tags (`oci:/path`, `dir:/rootfs`): its most recent scan.
///
/// # Errors
/// [`AppError::UnknownImage`], [`AppError::AmbiguousImage`], or the store's errors.
pub fn resolve(store: &mut dyn Store, reference: &str) -> Result<ImageDetail> {
    let digest_part = reference.rsplit_once('@').map_or(reference, |(_, d)| d);
    if let Some(prefix) = digest_prefix(digest_part) {
        let candidates: Vec<String> = store
            .images()?
            .into_iter()
            .map(|i| i.digest)
            .filter(|d| d.strip_prefix("sha256:").unwrap_or(d).starts_with(prefix))
            .collect();
        return match candidates.as_slice() {
            [one] => store
                .image(one)?
                .ok_or_else(|| AppError::UnknownImage(reference.to_owned())),
            [] => Err(AppError::UnknownImage(reference.to_owned())),
            _ => Err(AppError::AmbiguousImage {
                reference: reference.to_owned(),
                candidates,
            }),
        };
    }
    if let Some(found) = store.image(reference)? {
        return Ok(found);
    }
    // A repository named without a tag: the most recently scanned image stored under it
    // (`images()` lists the most recent first).
    let latest = store
        .images()?
        .into_iter()
        .find(|i| i.repository.as_deref() == Some(reference));
    match latest {
        Some(i) => store
            .image(&i.digest)?
            .ok_or_else(|| AppError::UnknownImage(reference.to_owned())),
        None => Err(AppError::UnknownImage(reference.to_owned())),
    }
}

/// A tag whose digest moved: its last move, and what that move fixed and brought.
#[derive(Debug, Clone, Serialize)]
pub struct TagDrift {
    /// The repository, as the store names it (`registry/name`, `oci:/path`).
    pub repository: String,
    /// The tag.
    pub tag: String,
    /// The digest the tag pointed at before its last move.
    pub from: String,
    /// The digest it points at now.
    pub to: String,
    /// When the move was first seen (the scan that found the new digest).
    pub moved_at: customs_types::Timestamp,
    /// Findings open in the old digest just before the move that the new one does not have
    /// (`removed`: fixed by the move), and those the new one brought (`added`).
    pub findings: FindingChanges,
}

/// Every stored tag whose digest moved, with its last move and, from the store alone, the
/// findings the move fixed and brought: those open in the old digest when the tag was last
/// seen at it and not open in the new one now, and the other way round. (The store resolves
/// the old digest's findings when its tag moves on, so its findings now would say nothing.) Tags
/// are read from the store's tag history: a tag seen once, or only ever at one digest, has
/// not drifted.
///
/// # Errors
/// The store's errors.
pub fn drift(store: &mut dyn Store) -> Result<Vec<TagDrift>> {
    let tags = crate::audit::tag_histories(store)?;
    drift_in(store, &tags)
}

/// [`drift`] over tag histories the caller has read.
pub(crate) fn drift_in(
    store: &mut dyn Store,
    tags: &crate::audit::TagHistories,
) -> Result<Vec<TagDrift>> {
    let mut out = Vec::new();
    for ((repository, tag), history) in tags {
        let Some(last) = history.last() else {
            continue;
        };
        // The first sighting of the current digest after the last other one.
        let Some(i) = history.iter().rposition(|e| e.digest != last.digest) else {
            continue;
        };
        let from = history[i].digest.clone();
        let moved_at = history[i + 1].seen_at;
        // Open at a time: seen by then, not resolved by then.
        let open = |rows: Vec<FindingHistory>, at: Option<customs_types::Timestamp>| {
            rows.into_iter()
                .filter(|f| match at {
                    None => f.resolved_at.is_none(),
                    Some(at) => f.first_seen <= at && f.resolved_at.is_none_or(|r| r > at),
                })
                .map(|f| DiffFinding {
                    id: f.id,
                    package: f.package_name,
                })
                .collect::<BTreeSet<_>>()
        };
        // The old digest as the tag last showed it.
        let before = open(store.history(&from)?, Some(history[i].seen_at));
        let now = open(store.history(&last.digest)?, None);
        out.push(TagDrift {
            repository: repository.clone(),
            tag: tag.clone(),
            from,
            to: last.digest.clone(),
            moved_at,
            findings: FindingChanges {
                added: now.difference(&before).cloned().collect(),
                removed: before.difference(&now).cloned().collect(),
            },
        });
    }
    Ok(out)
}

/// A stored image's inventory as an SBOM document (`format`: CycloneDX or SPDX JSON), read
/// from the store alone: the image is not pulled again. Gives the image's digest and the
/// document.
///
/// # Errors
/// [`AppError::Invalid`] for a format that is not an SBOM's, as [`resolve`], a stored
/// inventory that does not read back, or the writer's errors.
pub fn stored_sbom(
    store: &mut dyn Store,
    reference: &str,
    format: &customs_report::Format,
    opts: &customs_report::DocOptions,
) -> Result<(String, String)> {
    if !matches!(
        format,
        customs_report::Format::CycloneDx | customs_report::Format::SpdxJson
    ) {
        return Err(AppError::Invalid {
            what: "format".to_owned(),
            why: format!("{format} is not an SBOM format (cyclonedx, spdx-json)"),
        });
    }
    let image = resolve(store, reference)?;
    let digest = image.summary.digest;
    let inventory: Inventory =
        serde_json::from_value(image.inventory).map_err(|source| AppError::StoredInventory {
            digest: digest.clone(),
            source,
        })?;
    let document =
        customs_report::render(format, customs_report::Subject::Inventory(&inventory), opts)?;
    Ok((digest, document))
}

/// The hex digits of a digest or digest prefix, if that is what `s` is.
fn digest_prefix(s: &str) -> Option<&str> {
    let hex = s.strip_prefix("sha256:").unwrap_or(s);
    (hex.len() >= MIN_PREFIX
        && hex.len() <= 64
        && hex.bytes().all(|b| matches!(b, b'0'..=b'9' | b'a'..=b'f')))
    .then_some(hex)
}

/// `REPOSITORY:TAG` (or `REPOSITORY`, meaning `:latest`) when the reference names a tag.
fn tag_of(reference: &str) -> Option<(&str, &str)> {
    if reference.contains('@') || digest_prefix(reference).is_some() {
        return None;
    }
    let last_slash = reference.rfind('/').map_or(0, |i| i + 1);
    Some(match reference[last_slash..].rfind(':') {
        Some(i) => (
            &reference[..last_slash + i],
            &reference[last_slash + i + 1..],
        ),
        None => (reference, "latest"),
    })
}

/// A finding a tag move resolved in the digest the tag left.
#[derive(Debug, Clone, Serialize)]
pub struct Superseded {
    /// The digest the tag pointed at before.
    pub digest: String,
    /// The finding there.
    #[serde(flatten)]
    pub finding: FindingHistory,
}

/// A stored image's findings over time.
#[derive(Debug, Clone, Serialize)]
pub struct History {
    /// The image.
    pub digest: String,
    /// Its findings: first seen, resolved at and why.
    pub findings: Vec<FindingHistory>,
    /// For a tag: every digest it pointed at, oldest first.
    pub tag_history: Vec<TagEvent>,
    /// For a tag: the findings its moves resolved in the digests it left.
    pub resolved_by_tag_moves: Vec<Superseded>,
}

/// The history of the image `reference` names ([`resolve`]); for a tag, also its moves and
/// what they resolved.
///
/// # Errors
/// As [`resolve`], or the store's errors.
pub fn history(store: &mut dyn Store, reference: &str) -> Result<History> {
    let image = resolve(store, reference)?;
    let digest = image.summary.digest;
    let findings = store.history(&digest)?;
    let tag_history = match tag_of(reference) {
        Some((repository, tag)) => store.tag_history(repository, tag)?,
        None => Vec::new(),
    };
    let mut resolved_by_tag_moves = Vec::new();
    let left: BTreeSet<&str> = tag_history
        .iter()
        .map(|m| m.digest.as_str())
        .filter(|d| *d != digest)
        .collect();
    for old in left {
        for finding in store.history(old)? {
            if matches!(
                finding.resolved_reason,
                Some(ResolvedReason::PackageUpgraded | ResolvedReason::PackageRemoved)
            ) {
                resolved_by_tag_moves.push(Superseded {
                    digest: old.to_owned(),
                    finding,
                });
            }
        }
    }
    Ok(History {
        digest,
        findings,
        tag_history,
        resolved_by_tag_moves,
    })
}

/// A package in a diff.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct DiffPackage {
    /// Its ecosystem.
    pub ecosystem: Ecosystem,
    /// Its name.
    pub name: String,
    /// Its version.
    pub version: String,
}

/// A package in both images at different versions.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct ChangedPackage {
    /// Its ecosystem.
    pub ecosystem: Ecosystem,
    /// Its name.
    pub name: String,
    /// The version in the older image.
    pub from: String,
    /// The version in the newer image.
    pub to: String,
}

/// An open finding in a diff.
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord, Serialize)]
pub struct DiffFinding {
    /// The vulnerability id.
    pub id: String,
    /// The package it is in.
    pub package: String,
}

/// Packages in a diff.
#[derive(Debug, Clone, Default, Serialize)]
pub struct PackageChanges {
    /// In the newer image only.
    pub added: Vec<DiffPackage>,
    /// In the older image only.
    pub removed: Vec<DiffPackage>,
    /// In both, at different versions.
    pub changed: Vec<ChangedPackage>,
}

/// Open findings in a diff.
#[derive(Debug, Clone, Default, Serialize)]
pub struct FindingChanges {
    /// Open in the newer image only.
    pub added: Vec<DiffFinding>,
    /// Open in the older image only.
    pub removed: Vec<DiffFinding>,
}

/// Two stored images compared.
#[derive(Debug, Clone, Serialize)]
pub struct Diff {
    /// The older image's digest.
    pub from: String,
    /// The newer image's digest.
    pub to: String,
    /// Packages added, removed and changed.
    pub packages: PackageChanges,
    /// Open findings gained and lost.
    pub findings: FindingChanges,
}

/// One side of a diff: the digest, each package's version, the open findings.
type Side = (
    String,
    BTreeMap<(Ecosystem, String), String>,
    BTreeSet<DiffFinding>,
);

/// Compare two stored images (two builds of one tag, say): packages added, removed and
/// upgraded, and the open findings each has that the other has not. Read from the store only.
///
/// # Errors
/// As [`resolve`], a stored inventory that does not read back, or the store's errors.
pub fn diff(store: &mut dyn Store, from: &str, to: &str) -> Result<Diff> {
    let mut load = |r: &str| -> Result<Side> {
        let image = resolve(store, r)?;
        let digest = image.summary.digest;
        let inventory: Inventory = serde_json::from_value(image.inventory).map_err(|source| {
            AppError::StoredInventory {
                digest: digest.clone(),
                source,
            }
        })?;
        let packages = inventory
            .packages
            .into_iter()
            .map(|p| ((p.ecosystem, p.name), p.version))
            .collect();
        let open = store
            .history(&digest)?
            .into_iter()
            .filter(|f| f.resolved_at.is_none())
            .map(|f| DiffFinding {
                id: f.id,
                package: f.package_name,
            })
            .collect();
        Ok((digest, packages, open))
    };
    let (from, pa, open_a) = load(from)?;
    let (to, pb, open_b) = load(to)?;
    let pkg = |(ecosystem, name): &(Ecosystem, String), version: &str| DiffPackage {
        ecosystem: *ecosystem,
        name: name.clone(),
        version: version.to_owned(),
    };
    let packages = PackageChanges {
        added: pb
            .iter()
            .filter(|(k, _)| !pa.contains_key(*k))
            .map(|(k, v)| pkg(k, v))
            .collect(),
        removed: pa
            .iter()
            .filter(|(k, _)| !pb.contains_key(*k))
            .map(|(k, v)| pkg(k, v))
            .collect(),
        changed: pa
            .iter()
            .filter_map(|((ecosystem, name), va)| {
                let vb = pb.get(&(*ecosystem, name.clone())).filter(|vb| *vb != va)?;
                Some(ChangedPackage {
                    ecosystem: *ecosystem,
                    name: name.clone(),
                    from: va.clone(),
                    to: vb.clone(),
                })
            })
            .collect(),
    };
    let findings = FindingChanges {
        added: open_b.difference(&open_a).cloned().collect(),
        removed: open_a.difference(&open_b).cloned().collect(),
    };
    Ok(Diff {
        from,
        to,
        packages,
        findings,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn digest_prefixes() {
        let hex = "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855";
        assert_eq!(digest_prefix(&format!("sha256:{hex}")), Some(hex));
        assert_eq!(digest_prefix(&hex[..12]), Some(&hex[..12]));
        assert_eq!(
            digest_prefix(&hex[..11]),
            None,
            "too short to be unique in practice"
        );
        assert_eq!(digest_prefix("deadbeefcafe-x"), None);
        assert_eq!(digest_prefix("registry.local/app:1"), None);
    }

    #[test]
    fn tags() {
        assert_eq!(tag_of("reg:5000/app:1.2"), Some(("reg:5000/app", "1.2")));
        assert_eq!(tag_of("reg:5000/app"), Some(("reg:5000/app", "latest")));
        assert_eq!(tag_of("oci:/x/layout:1"), Some(("oci:/x/layout", "1")));
        assert_eq!(tag_of("app@sha256:ab"), None);
        assert_eq!(tag_of("e3b0c44298fc"), None);
    }
}
