//! SPDX 2.2 and 2.3 JSON: the parts an inventory needs, read leniently.
//!
//! - The described package (`documentDescribes`, or a `DESCRIBES` relationship from the
//!   document) is the image: its name, its `pkg:oci` purl, a `versionInfo` that is a digest,
//!   image annotations. When several are described, a `CONTAINER` (or `pkg:oci`) one is it.
//! - A package with `primaryPackagePurpose: OPERATING-SYSTEM` (2.3) is the distribution.
//! - Every other package is a package candidate, by its first `externalRefs` entry of
//!   `referenceType: purl`, whatever the category is spelled (`PACKAGE-MANAGER` in the 2.3
//!   schema, `PACKAGE_MANAGER` in 2.3.1's and in Konflux's documents). A package without a
//!   purl that `CONTAINS` others only groups them (trivy's per-lockfile applications).
//! - Annotations carry trivy's and customs' properties ([`props::annotation`]).
//! - syft's `OTHER` relationships with the comment `ownership-by-file-overlap` say which
//!   language packages live inside an OS package's files: the catalog records those in the OS
//!   package's `owns`, and so does this reader.

use std::collections::{HashMap, HashSet};

use serde::Deserialize;

use super::build::{Doc, Entry};
use super::cyclonedx::described_image;
use super::de::{self, Text};
use super::distro::DistroFacts;
use super::image::ImageFacts;
use super::{MAX_COMPONENTS, SbomError, SbomFormat, props};

#[derive(Deserialize)]
struct Document {
    #[serde(rename = "spdxVersion", default, deserialize_with = "de::text")]
    spdx_version: Option<String>,
    #[serde(rename = "SPDXID", default, deserialize_with = "de::text")]
    id: Option<String>,
    #[serde(rename = "documentDescribes", default, deserialize_with = "de::list")]
    describes: Vec<Text>,
    #[serde(default, deserialize_with = "de::list")]
    packages: Vec<Package>,
    #[serde(default, deserialize_with = "de::list")]
    relationships: Vec<Relationship>,
}

#[derive(Deserialize)]
struct Package {
    #[serde(rename = "SPDXID", default, deserialize_with = "de::text")]
    id: Option<String>,
    #[serde(default, deserialize_with = "de::text")]
    name: Option<String>,
    #[serde(rename = "versionInfo", default, deserialize_with = "de::text")]
    version: Option<String>,
    #[serde(
        rename = "primaryPackagePurpose",
        default,
        deserialize_with = "de::text"
    )]
    purpose: Option<String>,
    #[serde(default, deserialize_with = "de::text")]
    description: Option<String>,
    #[serde(rename = "externalRefs", default, deserialize_with = "de::list")]
    refs: Vec<ExternalRef>,
    #[serde(default, deserialize_with = "de::list")]
    annotations: Vec<Annotation>,
    #[serde(rename = "licenseDeclared", default, deserialize_with = "de::text")]
    license_declared: Option<String>,
    #[serde(default, deserialize_with = "de::text")]
    originator: Option<String>,
}

#[derive(Deserialize)]
struct ExternalRef {
    #[serde(rename = "referenceType", default, deserialize_with = "de::text")]
    ty: Option<String>,
    #[serde(rename = "referenceLocator", default, deserialize_with = "de::text")]
    locator: Option<String>,
}

#[derive(Deserialize)]
struct Annotation {
    #[serde(default, deserialize_with = "de::text")]
    annotator: Option<String>,
    #[serde(default, deserialize_with = "de::text")]
    comment: Option<String>,
}

#[derive(Deserialize)]
struct Relationship {
    #[serde(rename = "spdxElementId", default, deserialize_with = "de::text")]
    element: Option<String>,
    #[serde(rename = "relationshipType", default, deserialize_with = "de::text")]
    ty: Option<String>,
    #[serde(rename = "relatedSpdxElement", default, deserialize_with = "de::text")]
    related: Option<String>,
    #[serde(default, deserialize_with = "de::text")]
    comment: Option<String>,
}

impl Package {
    fn purl(&self) -> Option<&str> {
        self.refs
            .iter()
            .find(|r| {
                r.ty.as_deref()
                    .is_some_and(|t| t.trim().eq_ignore_ascii_case("purl"))
            })
            .and_then(|r| r.locator.as_deref())
    }

    fn properties(&self) -> impl Iterator<Item = (String, String)> {
        self.annotations.iter().filter_map(|a| {
            props::annotation(a.annotator.as_deref().unwrap_or(""), a.comment.as_deref()?)
        })
    }

    fn is_image(&self) -> bool {
        self.purpose.as_deref() == Some("CONTAINER")
            || self
                .purl()
                .is_some_and(|p| p.trim_start().starts_with("pkg:oci/"))
    }
}

/// The spec versions read, as a message says them.
pub(crate) const SUPPORTED: &str = "SPDX-2.2 and SPDX-2.3";

pub(crate) fn read(bytes: &[u8], origin: &str) -> Result<Doc, SbomError> {
    let spdx: Document = serde_json::from_slice(bytes)
        .map_err(|e| SbomError::from_json(e, origin, Some(SbomFormat::Spdx)))?;
    let version = spdx.spdx_version.as_deref().map(str::trim);
    if !matches!(version, Some("SPDX-2.2" | "SPDX-2.3")) {
        return Err(SbomError::UnsupportedVersion {
            origin: origin.to_owned(),
            format: SbomFormat::Spdx,
            found: version.unwrap_or("none").to_owned(),
            supported: SUPPORTED,
        });
    }
    if spdx.packages.len() > MAX_COMPONENTS {
        return Err(SbomError::TooManyComponents {
            origin: origin.to_owned(),
            max: MAX_COMPONENTS,
        });
    }
    let doc_id = spdx.id.as_deref().unwrap_or("SPDXRef-DOCUMENT");
    let mut described: HashSet<&str> = spdx
        .describes
        .iter()
        .filter_map(|t| t.0.as_deref())
        .collect();
    let mut groups: HashSet<&str> = HashSet::new();
    let mut owners: HashMap<&str, &str> = HashMap::new();
    for r in &spdx.relationships {
        let (Some(a), Some(ty), Some(b)) =
            (r.element.as_deref(), r.ty.as_deref(), r.related.as_deref())
        else {
            continue;
        };
        match ty {
            "DESCRIBES" if a == doc_id => {
                described.insert(b);
            }
            "DESCRIBED_BY" if b == doc_id => {
                described.insert(a);
            }
            "CONTAINS" => {
                groups.insert(a);
            }
            "CONTAINED_BY" => {
                groups.insert(b);
            }
            "OTHER"
                if r.comment
                    .as_deref()
                    .is_some_and(|c| c.starts_with("ownership-by-file-overlap")) =>
            {
                owners.insert(b, a);
            }
            _ => {}
        }
    }
    let image_id = spdx
        .packages
        .iter()
        .filter(|p| p.id.as_deref().is_some_and(|id| described.contains(&id)))
        .max_by_key(|p| p.is_image())
        .and_then(|p| p.id.as_deref());
    let mut doc = Doc {
        format: SbomFormat::Spdx,
        described: None,
        image: ImageFacts::default(),
        distro: None,
        entries: Vec::new(),
        problems: Vec::new(),
    };
    for (n, p) in spdx.packages.iter().enumerate() {
        let id = p.id.as_deref();
        if id.is_some() && id == image_id {
            image(p, &mut doc);
            continue;
        }
        if id.is_some_and(|id| described.contains(&id)) {
            continue;
        }
        if p.purpose.as_deref() == Some("OPERATING-SYSTEM") {
            if doc.distro.is_none() {
                doc.distro = Some(distro(p));
            }
            continue;
        }
        if p.purl().is_none() && id.is_some_and(|id| groups.contains(id)) {
            continue;
        }
        let mut e = Entry {
            id: id.map_or_else(|| format!("#{}", n + 1), str::to_owned),
            name: p.name.clone(),
            version: p.version.clone(),
            purl: p.purl().map(str::to_owned),
            licenses: p
                .license_declared
                .iter()
                .map(|l| l.trim())
                .filter(|l| !matches!(*l, "" | "NOASSERTION" | "NONE"))
                .map(str::to_owned)
                .collect(),
            // `Person: NAME (EMAIL)` or `Organization: NAME`.
            author: p
                .originator
                .as_deref()
                .map(|o| o.split_once(':').map_or(o, |(_, v)| v).trim())
                .filter(|o| !o.is_empty() && *o != "NOASSERTION")
                .map(str::to_owned),
            ..Entry::default()
        };
        for (name, value) in p.properties() {
            props::package(&mut e, &name, &value);
        }
        e.owner = id
            .and_then(|id| owners.get(id))
            .map(|owner| (*owner).to_owned());
        doc.entries.push(e);
    }
    Ok(doc)
}

fn image(p: &Package, doc: &mut Doc) {
    for (n, v) in p.properties() {
        props::image(&mut doc.image, &n, &v);
    }
    described_image(doc, p.purl(), p.name.as_deref(), p.version.as_deref());
}

fn distro(p: &Package) -> DistroFacts {
    let mut d = DistroFacts::default();
    for (n, v) in p.properties() {
        props::distro(&mut d, &n, &v);
    }
    d.id = d.id.or_else(|| p.name.clone());
    d.version_id = d.version_id.or_else(|| p.version.clone());
    d.pretty_name = d.pretty_name.or_else(|| p.description.clone());
    d
}
