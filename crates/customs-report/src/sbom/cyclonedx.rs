//! CycloneDX JSON, spec versions 1.4 to 1.7: the parts an inventory needs, read leniently.
//!
//! - `metadata.component`: the image the BOM describes (its name, a `pkg:oci` purl, a version
//!   that is a digest, trivy's and customs' image properties). `metadata.tools` changed from an
//!   array (1.4) to an object (1.5) and is not read.
//! - `metadata.properties`: syft's image labels.
//! - `components`, and their nested `components` (walked without recursion, at most
//!   [`MAX_DEPTH`] deep): an `operating-system` component is the distribution (trivy, syft and
//!   customs all write one); a component without a purl that holds others only groups them
//!   (trivy's per-lockfile applications); every other component is a package candidate.

use serde::Deserialize;

use super::build::{Doc, Entry};
use super::distro::DistroFacts;
use super::image::{ImageFacts, rank};
use super::purl::Purl;
use super::{MAX_COMPONENTS, MAX_DEPTH, SbomError, SbomFormat, de, props};

#[derive(Deserialize)]
struct Bom {
    #[serde(rename = "specVersion", default, deserialize_with = "de::text")]
    spec_version: Option<String>,
    #[serde(default)]
    metadata: Option<Metadata>,
    #[serde(default, deserialize_with = "de::list")]
    components: Vec<Component>,
}

#[derive(Deserialize)]
struct Metadata {
    #[serde(default)]
    component: Option<Component>,
    #[serde(default, deserialize_with = "de::list")]
    properties: Vec<Property>,
}

#[derive(Deserialize)]
struct Component {
    #[serde(rename = "bom-ref", default, deserialize_with = "de::text")]
    bom_ref: Option<String>,
    #[serde(rename = "type", default, deserialize_with = "de::text")]
    ty: Option<String>,
    #[serde(default, deserialize_with = "de::text")]
    name: Option<String>,
    #[serde(default, deserialize_with = "de::text")]
    version: Option<String>,
    #[serde(default, deserialize_with = "de::text")]
    description: Option<String>,
    #[serde(default, deserialize_with = "de::text")]
    purl: Option<String>,
    #[serde(default, deserialize_with = "de::list")]
    properties: Vec<Property>,
    #[serde(default, deserialize_with = "de::list")]
    components: Vec<Component>,
    #[serde(default, deserialize_with = "de::list")]
    licenses: Vec<serde_json::Value>,
    /// 1.6's list of contacts.
    #[serde(default, deserialize_with = "de::list")]
    authors: Vec<serde_json::Value>,
    /// Before 1.6, one string.
    #[serde(default, deserialize_with = "de::text")]
    author: Option<String>,
}

#[derive(Deserialize)]
struct Property {
    #[serde(default, deserialize_with = "de::text")]
    name: Option<String>,
    #[serde(default, deserialize_with = "de::text")]
    value: Option<String>,
}

impl Component {
    fn properties(&self) -> impl Iterator<Item = (&str, &str)> {
        self.properties
            .iter()
            .filter_map(|p| Some((p.name.as_deref()?, p.value.as_deref()?)))
    }
}

/// The spec versions read, as a message says them.
pub(crate) const SUPPORTED: &str = "1.4 to 1.7";

pub(crate) fn read(bytes: &[u8], origin: &str) -> Result<Doc, SbomError> {
    let bom: Bom = serde_json::from_slice(bytes)
        .map_err(|e| SbomError::from_json(e, origin, Some(SbomFormat::CycloneDx)))?;
    let version = bom.spec_version.as_deref().map(str::trim);
    if !matches!(version, Some("1.4" | "1.5" | "1.6" | "1.7")) {
        return Err(SbomError::UnsupportedVersion {
            origin: origin.to_owned(),
            format: SbomFormat::CycloneDx,
            found: version.unwrap_or("none (no specVersion)").to_owned(),
            supported: SUPPORTED,
        });
    }
    let mut doc = Doc {
        format: SbomFormat::CycloneDx,
        described: None,
        image: ImageFacts::default(),
        distro: None,
        entries: Vec::new(),
        problems: Vec::new(),
    };
    let mut children: Vec<(&Component, usize)> = Vec::new();
    if let Some(meta) = &bom.metadata {
        for p in &meta.properties {
            if let (Some(n), Some(v)) = (&p.name, &p.value) {
                props::image(&mut doc.image, n, v);
            }
        }
        if let Some(c) = &meta.component {
            described(c, &mut doc);
            children.extend(c.components.iter().rev().map(|c| (c, 2)));
        }
    }
    children.extend(bom.components.iter().rev().map(|c| (c, 1)));
    let mut seen = 0usize;
    while let Some((c, depth)) = children.pop() {
        seen += 1;
        if seen > MAX_COMPONENTS {
            return Err(SbomError::TooManyComponents {
                origin: origin.to_owned(),
                max: MAX_COMPONENTS,
            });
        }
        if depth > MAX_DEPTH {
            return Err(SbomError::TooDeep {
                origin: origin.to_owned(),
                what: format!("components nested more than {MAX_DEPTH} levels deep"),
            });
        }
        children.extend(c.components.iter().rev().map(|k| (k, depth + 1)));
        if c.ty.as_deref() == Some("operating-system") {
            if doc.distro.is_none() {
                doc.distro = Some(distro(c));
            }
            continue;
        }
        if c.purl.is_none() && !c.components.is_empty() {
            continue;
        }
        doc.entries.push(entry(c, doc.entries.len()));
    }
    Ok(doc)
}

/// The image `metadata.component` names.
fn described(c: &Component, doc: &mut Doc) {
    for (n, v) in c.properties() {
        props::image(&mut doc.image, n, v);
    }
    described_image(
        doc,
        c.purl.as_deref(),
        c.name.as_deref(),
        c.version.as_deref(),
    );
}

/// What a document's described image entry (CycloneDX's metadata component, SPDX's described
/// package) says of the image: its manifest digest from a `pkg:oci` purl or a digest version,
/// the architecture, and the image's name.
pub(crate) fn described_image(
    doc: &mut Doc,
    purl: Option<&str>,
    name: Option<&str>,
    version: Option<&str>,
) {
    let oci = purl
        .and_then(|p| Purl::parse(p).ok())
        .filter(|p| p.ty() == "oci");
    if let Some(p) = &oci {
        if let Some(v) = p.raw_version() {
            doc.image.manifest.push((rank::PURL, v.to_owned()));
        }
        if let Some(a) = p.qualifier("arch") {
            doc.image.architecture.get_or_insert_with(|| a.to_owned());
        }
    }
    let version = version.map(str::trim).filter(|v| !v.is_empty());
    if let Some(v) = version.filter(|v| v.starts_with("sha256:")) {
        doc.image.manifest.push((rank::VERSION, v.to_owned()));
    }
    doc.described = oci
        .as_ref()
        .and_then(image_reference)
        .or_else(|| name_and_version(name, version));
}

/// `REPOSITORY[:TAG]@DIGEST` from a `pkg:oci` purl's `repository_url` and `tag` qualifiers and
/// its version, when it has a repository.
pub(crate) fn image_reference(p: &Purl) -> Option<String> {
    let repo = p.qualifier("repository_url")?;
    let mut out = repo.to_owned();
    if let Some(t) = p.qualifier("tag")
        && !repo.rsplit('/').next().unwrap_or(repo).contains(':')
    {
        out.push(':');
        out.push_str(t);
    }
    if let Some(d) = p.raw_version() {
        out.push('@');
        out.push_str(d);
    }
    Some(out)
}

/// `NAME`, `NAME:TAG` or `NAME@DIGEST`: an image named with a version that is its tag or
/// its digest.
pub(crate) fn name_and_version(name: Option<&str>, version: Option<&str>) -> Option<String> {
    let name = name.map(str::trim).filter(|n| !n.is_empty())?;
    Some(match version {
        Some(v) if v.starts_with("sha256:") && !name.contains('@') => format!("{name}@{v}"),
        Some(v)
            if !name.contains('@') && !name.rsplit('/').next().unwrap_or(name).contains(':') =>
        {
            format!("{name}:{v}")
        }
        _ => name.to_owned(),
    })
}

fn distro(c: &Component) -> DistroFacts {
    let mut d = DistroFacts::default();
    for (n, v) in c.properties() {
        props::distro(&mut d, n, v);
    }
    d.id = d.id.or_else(|| c.name.clone());
    d.version_id = d.version_id.or_else(|| c.version.clone());
    d.pretty_name = d.pretty_name.or_else(|| c.description.clone());
    d
}

fn entry(c: &Component, n: usize) -> Entry {
    let mut e = Entry {
        id: c
            .bom_ref
            .clone()
            .or_else(|| c.name.clone())
            .unwrap_or_else(|| format!("#{}", n + 1)),
        name: c.name.clone(),
        version: c.version.clone(),
        purl: c.purl.clone(),
        licenses: super::build::license_texts(&c.licenses),
        author: c
            .authors
            .iter()
            .find_map(|a| a.get("name")?.as_str().map(str::to_owned))
            .or_else(|| c.author.clone()),
        ..Entry::default()
    };
    for (name, value) in c.properties() {
        props::package(&mut e, name, value);
    }
    e
}
