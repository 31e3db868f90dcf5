//! Names the document formats share: the image's purl and name, each package's reference
//! inside one document, and identifiers derived from the content so that the same input gives
//! the same document.

use std::collections::{BTreeMap, HashMap};

use customs_catalog::{Inventory, Package};
use customs_image::SourceKind;
use customs_match::PackageRef;
use customs_types::Ecosystem;
use sha2::{Digest as _, Sha256};

/// The image as the documents name it: a short name, the purl (`pkg:oci/NAME@sha256:…` with
/// `repository_url` and `tag` when known) and the tag.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct ImageName {
    /// The repository's last component (`app`), else the layout's directory or file name.
    pub(crate) name: String,
    /// `registry/repository` for a registry image.
    pub(crate) repository_url: Option<String>,
    /// The tag the image was read under.
    pub(crate) tag: Option<String>,
    /// The manifest digest, `sha256:…`.
    pub(crate) digest: Option<String>,
}

impl ImageName {
    pub(crate) fn of(inv: &Inventory) -> Self {
        let digest = inv
            .image
            .as_ref()
            .and_then(|i| i.manifest_digest.as_ref())
            .map(ToString::to_string);
        let reference = match inv.source.kind {
            SourceKind::Registry => Some(
                inv.source
                    .reference
                    .trim_start_matches("registry:")
                    .trim_start_matches("docker://")
                    .to_owned(),
            ),
            SourceKind::Sbom => inv.source.described.clone(),
            _ => None,
        };
        if let Some(r) = reference
            .as_deref()
            .and_then(|r| customs_registry::Reference::parse(r).ok())
        {
            let name = r
                .repository
                .rsplit('/')
                .next()
                .unwrap_or(&r.repository)
                .to_owned();
            return Self {
                name,
                repository_url: Some(format!("{}/{}", r.registry, r.repository)),
                tag: r.tag.or_else(|| inv.source.tag.clone()),
                digest: r.digest.or(digest),
            };
        }
        // A layout or archive: its file or directory name, as an OCI purl name must be one
        // lower-case path segment.
        let path = reference.unwrap_or_else(|| inv.source.reference.clone());
        let path = path
            .split_once(':')
            .filter(|(k, _)| ["oci", "oci-archive", "docker-archive", "dir", "sbom"].contains(k))
            .map_or(path.as_str(), |(_, p)| p);
        let base = path
            .trim_end_matches('/')
            .rsplit('/')
            .find(|s| !s.is_empty() && *s != "oci" && *s != ".")
            .unwrap_or("image");
        let name: String = base
            .to_ascii_lowercase()
            .chars()
            .map(|c| {
                if c.is_ascii_alphanumeric() || "._-".contains(c) {
                    c
                } else {
                    '-'
                }
            })
            .collect();
        Self {
            name,
            repository_url: None,
            tag: inv.source.tag.clone(),
            digest,
        }
    }

    /// `pkg:oci/NAME@DIGEST?repository_url=…&tag=…`; `None` without a digest (a root
    /// filesystem is no OCI artifact).
    pub(crate) fn purl(&self) -> Option<String> {
        let digest = self.digest.as_ref()?;
        let mut p = packageurl::PackageUrl::new("oci", self.name.clone()).ok()?;
        p.with_version(digest.clone()).ok()?;
        if let Some(r) = &self.repository_url {
            p.add_qualifier("repository_url", r.clone()).ok()?;
        }
        if let Some(t) = &self.tag {
            p.add_qualifier("tag", t.clone()).ok()?;
        }
        Some(p.to_string())
    }

    /// The name a person reads: `repository:tag` or the name, and the digest.
    pub(crate) fn display(&self) -> String {
        let base = self.repository_url.as_deref().unwrap_or(&self.name);
        match &self.tag {
            Some(t) => format!("{base}:{t}"),
            None => base.to_owned(),
        }
    }
}

/// A reference for each package unique inside one document: its purl, else
/// `ECOSYSTEM:NAME@VERSION`, with `#N` added to the second and later of equal ones.
pub(crate) struct PackageRefs {
    refs: Vec<String>,
    by_identity: HashMap<(Ecosystem, String, String, Option<String>), usize>,
}

impl PackageRefs {
    pub(crate) fn new(packages: &[Package]) -> Self {
        let mut seen: BTreeMap<String, usize> = BTreeMap::new();
        let mut by_identity = HashMap::new();
        let refs = packages
            .iter()
            .enumerate()
            .map(|(i, p)| {
                by_identity
                    .entry((
                        p.ecosystem,
                        p.name.clone(),
                        p.version.clone(),
                        p.purl.clone(),
                    ))
                    .or_insert(i);
                let base = p
                    .purl
                    .clone()
                    .unwrap_or_else(|| format!("{}:{}@{}", p.ecosystem, p.name, p.version));
                let n = seen.entry(base.clone()).or_default();
                *n += 1;
                if *n == 1 { base } else { format!("{base}#{n}") }
            })
            .collect();
        Self { refs, by_identity }
    }

    /// The reference of the package at `index` in the inventory.
    pub(crate) fn get(&self, index: usize) -> &str {
        &self.refs[index]
    }

    /// The index of the package a finding is about.
    pub(crate) fn index_of(&self, p: &PackageRef) -> Option<usize> {
        self.by_identity
            .get(&(
                p.ecosystem,
                p.name.clone(),
                p.version.clone(),
                p.purl.clone(),
            ))
            .copied()
    }

    /// The reference of the package a finding is about.
    pub(crate) fn of(&self, p: &PackageRef) -> Option<&str> {
        self.index_of(p).map(|i| self.get(i))
    }
}

/// A UUID made from a hash of `content`, so the same content always gets the same one. The
/// version nibble says 8 (RFC 9562's custom UUID), the variant bits RFC 4122's.
pub(crate) fn content_uuid(content: &[u8]) -> String {
    let h = Sha256::digest(content);
    let mut b = [0_u8; 16];
    b.copy_from_slice(&h[..16]);
    b[6] = (b[6] & 0x0f) | 0x80;
    b[8] = (b[8] & 0x3f) | 0x80;
    let hex = hex::encode(b);
    format!(
        "{}-{}-{}-{}-{}",
        &hex[..8],
        &hex[8..12],
        &hex[12..16],
        &hex[16..20],
        &hex[20..]
    )
}

/// The hex SHA-256 of `content`.
pub(crate) fn sha256_hex(content: &[u8]) -> String {
    hex::encode(Sha256::digest(content))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn content_uuids_are_stable_and_well_formed() {
        let a = content_uuid(b"x");
        assert_eq!(a, content_uuid(b"x"));
        assert_ne!(a, content_uuid(b"y"));
        assert_eq!(a.len(), 36);
        assert_eq!(&a[14..15], "8");
        assert!(matches!(&a[19..20], "8" | "9" | "a" | "b"), "{a}");
    }
}
