//! syft's own JSON (`syft -o json`; schema 16 in syft 1.x), read leniently.
//!
//! - `source`: the image. `metadata.userInput` names it, `manifestDigest` and `imageID` are its
//!   digests, `layers[].digest` its layers' diff_ids in order (syft reads uncompressed layers:
//!   these are diff_ids, and `size` is the uncompressed size, not the blob's).
//! - `distro`: os-release as syft read it.
//! - `artifacts`: packages, each with its purl, the `locations` (path and layer) it was found
//!   at, and type-specific `metadata`, of which the source package is read: a deb's `source`
//!   and `sourceVersion`, an rpm's `sourceRpm`, an apk's `originPackage`.
//! - `artifactRelationships` of type `ownership-by-file-overlap`: a language package inside an
//!   OS package's files, recorded in that package's `owns` as the catalog does.

use std::collections::HashMap;

use serde::Deserialize;

use super::build::{Doc, Entry};
use super::de::{self, Text};
use super::distro::DistroFacts;
use super::image::{ImageFacts, rank};
use super::{MAX_COMPONENTS, SbomError, SbomFormat};

#[derive(Deserialize)]
struct Document {
    #[serde(default, deserialize_with = "de::list")]
    artifacts: Vec<Artifact>,
    #[serde(
        rename = "artifactRelationships",
        default,
        deserialize_with = "de::list"
    )]
    relationships: Vec<Relationship>,
    #[serde(default)]
    source: Option<Source>,
    #[serde(default)]
    distro: Option<Distro>,
}

#[derive(Deserialize)]
struct Source {
    #[serde(default, deserialize_with = "de::text")]
    name: Option<String>,
    #[serde(default)]
    metadata: Option<SourceMetadata>,
}

#[derive(Deserialize)]
struct SourceMetadata {
    #[serde(rename = "userInput", default, deserialize_with = "de::text")]
    user_input: Option<String>,
    #[serde(rename = "imageID", default, deserialize_with = "de::text")]
    image_id: Option<String>,
    #[serde(rename = "manifestDigest", default, deserialize_with = "de::text")]
    manifest_digest: Option<String>,
    #[serde(default, deserialize_with = "de::list")]
    tags: Vec<Text>,
    #[serde(default, deserialize_with = "de::list")]
    layers: Vec<SourceLayer>,
    #[serde(default, deserialize_with = "de::text")]
    architecture: Option<String>,
    #[serde(default, deserialize_with = "de::text")]
    os: Option<String>,
    #[serde(default)]
    labels: Option<serde_json::Map<String, serde_json::Value>>,
}

#[derive(Deserialize)]
struct SourceLayer {
    #[serde(default, deserialize_with = "de::text")]
    digest: Option<String>,
}

#[derive(Deserialize)]
struct Distro {
    #[serde(default, deserialize_with = "de::text")]
    id: Option<String>,
    #[serde(rename = "versionID", default, deserialize_with = "de::text")]
    version_id: Option<String>,
    #[serde(rename = "versionCodename", default, deserialize_with = "de::text")]
    codename: Option<String>,
    #[serde(rename = "prettyName", default, deserialize_with = "de::text")]
    pretty_name: Option<String>,
    /// A list in schema 16, a space-separated string in older ones.
    #[serde(rename = "idLike", default)]
    id_like: Option<serde_json::Value>,
}

#[derive(Deserialize)]
struct Artifact {
    #[serde(default, deserialize_with = "de::text")]
    id: Option<String>,
    #[serde(default, deserialize_with = "de::text")]
    name: Option<String>,
    #[serde(default, deserialize_with = "de::text")]
    version: Option<String>,
    #[serde(rename = "type", default, deserialize_with = "de::text")]
    ty: Option<String>,
    #[serde(default, deserialize_with = "de::text")]
    purl: Option<String>,
    #[serde(default, deserialize_with = "de::list")]
    locations: Vec<Location>,
    #[serde(default)]
    metadata: Option<ArtifactMetadata>,
    #[serde(default, deserialize_with = "de::list")]
    licenses: Vec<serde_json::Value>,
}

#[derive(Deserialize)]
struct Location {
    #[serde(default, deserialize_with = "de::text")]
    path: Option<String>,
    #[serde(rename = "layerID", default, deserialize_with = "de::text")]
    layer_id: Option<String>,
}

/// The fields of syft's per-type metadata that name a source package or an architecture;
/// which apply depends on the artifact's type (`source` is a deb's source package, but a
/// crate's registry).
#[derive(Deserialize)]
struct ArtifactMetadata {
    #[serde(default, deserialize_with = "de::text")]
    source: Option<String>,
    #[serde(rename = "sourceVersion", default, deserialize_with = "de::text")]
    source_version: Option<String>,
    #[serde(rename = "sourceRpm", default, deserialize_with = "de::text")]
    source_rpm: Option<String>,
    #[serde(rename = "originPackage", default, deserialize_with = "de::text")]
    origin: Option<String>,
    #[serde(default, deserialize_with = "de::text")]
    architecture: Option<String>,
    #[serde(default, deserialize_with = "de::text")]
    arch: Option<String>,
}

#[derive(Deserialize)]
struct Relationship {
    #[serde(default, deserialize_with = "de::text")]
    parent: Option<String>,
    #[serde(default, deserialize_with = "de::text")]
    child: Option<String>,
    #[serde(rename = "type", default, deserialize_with = "de::text")]
    ty: Option<String>,
}

pub(crate) fn read(bytes: &[u8], origin: &str) -> Result<Doc, SbomError> {
    let syft: Document = serde_json::from_slice(bytes)
        .map_err(|e| SbomError::from_json(e, origin, Some(SbomFormat::SyftJson)))?;
    if syft.artifacts.len() > MAX_COMPONENTS {
        return Err(SbomError::TooManyComponents {
            origin: origin.to_owned(),
            max: MAX_COMPONENTS,
        });
    }
    let mut doc = Doc {
        format: SbomFormat::SyftJson,
        described: None,
        image: ImageFacts::default(),
        distro: syft.distro.map(distro),
        entries: Vec::with_capacity(syft.artifacts.len()),
        problems: Vec::new(),
    };
    if let Some(src) = syft.source {
        source(src, &mut doc);
    }
    let owners: HashMap<String, String> = syft
        .relationships
        .into_iter()
        .filter(|r| r.ty.as_deref() == Some("ownership-by-file-overlap"))
        .filter_map(|r| Some((r.child?, r.parent?)))
        .collect();
    for (n, a) in syft.artifacts.into_iter().enumerate() {
        let id = a.id.unwrap_or_else(|| format!("#{}", n + 1));
        let mut e = Entry {
            owner: owners.get(&id).cloned(),
            id,
            name: a.name,
            version: a.version,
            purl: a.purl,
            licenses: super::build::license_texts(&a.licenses),
            ..Entry::default()
        };
        for l in a.locations {
            e.paths.extend(l.path);
            e.layers.extend(l.layer_id);
        }
        if let Some(m) = a.metadata {
            match a.ty.as_deref() {
                Some("deb") => {
                    e.deb_source.name = m.source;
                    e.deb_source.version = m.source_version;
                    e.arch = m.architecture;
                }
                Some("rpm") => {
                    e.source_rpm = m.source_rpm;
                    e.arch = m.arch;
                }
                Some("apk") => {
                    e.origin = m.origin;
                    e.arch = m.architecture.or(m.arch);
                }
                _ => {}
            }
        }
        doc.entries.push(e);
    }
    Ok(doc)
}

fn source(src: Source, doc: &mut Doc) {
    let Some(m) = src.metadata else {
        doc.described = src.name;
        return;
    };
    if let Some(d) = m.manifest_digest {
        doc.image.manifest.push((rank::SYFT, d));
    }
    doc.image.config.extend(m.image_id.map(|d| (rank::SYFT, d)));
    doc.image.os = m.os.filter(|o| !o.trim().is_empty());
    doc.image.architecture = m.architecture.filter(|a| !a.trim().is_empty());
    doc.image.layers = m
        .layers
        .into_iter()
        .enumerate()
        .filter_map(|(i, l)| Some((i, l.digest?)))
        .collect();
    for (k, v) in m.labels.into_iter().flatten() {
        if let serde_json::Value::String(v) = v {
            doc.image.labels.insert(k, v);
        }
    }
    let input = m.user_input.filter(|u| !u.trim().is_empty());
    doc.described = input
        .or_else(|| m.tags.into_iter().find_map(|t| t.0))
        .or(src.name);
}

fn distro(d: Distro) -> DistroFacts {
    let id_like = match d.id_like {
        Some(serde_json::Value::String(s)) => s.split_whitespace().map(str::to_owned).collect(),
        Some(serde_json::Value::Array(a)) => a
            .into_iter()
            .filter_map(|v| match v {
                serde_json::Value::String(s) => Some(s),
                _ => None,
            })
            .collect(),
        _ => Vec::new(),
    };
    DistroFacts {
        id: d.id,
        version_id: d.version_id,
        codename: d.codename,
        pretty_name: d.pretty_name,
        id_like,
    }
}
