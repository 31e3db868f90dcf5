//! Manifests, indexes and image configs, in both the OCI and the Docker v2 spelling.
//!
//! These are our own serde types rather than `oci-spec`'s: images in the wild carry `null`
//! where the spec says "array", Docker media types, and missing `mediaType` fields, and a scan
//! must read all of them. The shapes follow the OCI image spec (manifest.md, image-index.md,
//! config.md) and Docker's image manifest v2 schema 2.

use std::collections::BTreeMap;

use serde::{Deserialize, Deserializer, Serialize};

use crate::{Digest, ImageError};

pub(crate) const OCI_MANIFEST: &str = "application/vnd.oci.image.manifest.v1+json";
pub(crate) const OCI_INDEX: &str = "application/vnd.oci.image.index.v1+json";
pub(crate) const DOCKER_MANIFEST: &str = "application/vnd.docker.distribution.manifest.v2+json";
pub(crate) const DOCKER_LIST: &str = "application/vnd.docker.distribution.manifest.list.v2+json";
const DOCKER_SCHEMA1: &str = "application/vnd.docker.distribution.manifest.v1+json";
const DOCKER_SCHEMA1_SIGNED: &str = "application/vnd.docker.distribution.manifest.v1+prettyjws";
const OCI_ARTIFACT: &str = "application/vnd.oci.artifact.manifest.v1+json";
const OCI_CONFIG: &str = "application/vnd.oci.image.config.v1+json";
const DOCKER_CONFIG: &str = "application/vnd.docker.container.image.v1+json";

/// `null` and absent both mean "empty".
fn null_default<'de, D, T>(d: D) -> Result<T, D::Error>
where
    D: Deserializer<'de>,
    T: Default + Deserialize<'de>,
{
    Ok(Option::<T>::deserialize(d)?.unwrap_or_default())
}

#[derive(Debug, Clone, Deserialize)]
#[serde(rename_all = "camelCase")]
pub(crate) struct Descriptor {
    #[serde(default)]
    pub(crate) media_type: Option<String>,
    pub(crate) digest: Digest,
    #[serde(default)]
    pub(crate) size: Option<i64>,
    #[serde(default)]
    pub(crate) platform: Option<DescPlatform>,
    #[serde(default, deserialize_with = "null_default")]
    pub(crate) annotations: BTreeMap<String, String>,
}

#[derive(Debug, Clone, Deserialize)]
pub(crate) struct DescPlatform {
    #[serde(default)]
    pub(crate) os: String,
    #[serde(default)]
    pub(crate) architecture: String,
    #[serde(default)]
    pub(crate) variant: Option<String>,
}

/// A manifest or an index, as classified from its media type (or shape).
#[derive(Debug)]
pub(crate) enum Parsed {
    Manifest(ImageManifest),
    Index(ImageIndex),
}

#[derive(Debug, Deserialize)]
#[serde(rename_all = "camelCase")]
pub(crate) struct ImageManifest {
    pub(crate) config: Descriptor,
    #[serde(default, deserialize_with = "null_default")]
    pub(crate) layers: Vec<Descriptor>,
    #[serde(default, deserialize_with = "null_default")]
    pub(crate) annotations: BTreeMap<String, String>,
}

#[derive(Debug, Deserialize)]
#[serde(rename_all = "camelCase")]
pub(crate) struct ImageIndex {
    #[serde(default, deserialize_with = "null_default")]
    pub(crate) manifests: Vec<Descriptor>,
}

#[derive(Deserialize)]
#[serde(rename_all = "camelCase")]
struct Probe {
    #[serde(default)]
    schema_version: Option<i64>,
    #[serde(default)]
    media_type: Option<String>,
    #[serde(default)]
    config: Option<serde_json::Value>,
    #[serde(default)]
    manifests: Option<serde_json::Value>,
    #[serde(default)]
    fs_layers: Option<serde_json::Value>,
}

/// Classify and parse a manifest or index. `declared` is the media type the referrer gave (a
/// descriptor's `mediaType`), used when the document has none of its own.
pub(crate) fn parse(
    what: &str,
    bytes: &[u8],
    declared: Option<&str>,
) -> Result<Parsed, ImageError> {
    let json = |source| ImageError::Json {
        what: what.to_owned(),
        source,
    };
    let probe: Probe = serde_json::from_slice(bytes).map_err(json)?;
    let media = probe.media_type.as_deref().or(declared);
    let schema1 = "Docker image manifest schema 1 is deprecated and not supported; \
                   re-push the image with a current client (docker push, skopeo copy) to get schema 2";
    if probe.schema_version == Some(1)
        || probe.fs_layers.is_some()
        || matches!(media, Some(DOCKER_SCHEMA1 | DOCKER_SCHEMA1_SIGNED))
    {
        return Err(ImageError::unsupported(what, schema1));
    }
    if let Some(v) = probe.schema_version
        && v != 2
    {
        return Err(ImageError::unsupported(
            what,
            format!("manifest schemaVersion {v} (only 2 is defined)"),
        ));
    }
    let kind = match media {
        Some(OCI_MANIFEST | DOCKER_MANIFEST) => Kind::Manifest,
        Some(OCI_INDEX | DOCKER_LIST) => Kind::Index,
        Some(OCI_ARTIFACT) => {
            return Err(ImageError::unsupported(
                what,
                "an OCI artifact manifest, not a container image",
            ));
        }
        Some(other) => {
            return Err(ImageError::unsupported(
                what,
                format!("manifest media type {other:?}"),
            ));
        }
        // No media type anywhere: the OCI spec allows this; decide by shape.
        None if probe.manifests.is_some() => Kind::Index,
        None if probe.config.is_some() => Kind::Manifest,
        None => {
            return Err(ImageError::invalid(
                what,
                "neither an image manifest (no \"config\") nor an index (no \"manifests\")",
            ));
        }
    };
    match kind {
        Kind::Manifest => {
            let m: ImageManifest = serde_json::from_slice(bytes).map_err(json)?;
            if let Some(mt) = m.config.media_type.as_deref()
                && mt != OCI_CONFIG
                && mt != DOCKER_CONFIG
            {
                return Err(ImageError::unsupported(
                    what,
                    format!("config media type {mt:?}: this is an artifact, not a container image"),
                ));
            }
            Ok(Parsed::Manifest(m))
        }
        Kind::Index => Ok(Parsed::Index(serde_json::from_slice(bytes).map_err(json)?)),
    }
}

enum Kind {
    Manifest,
    Index,
}

/// The image config (OCI config.md; Docker's container image v1 is the same shape).
#[derive(Debug, Clone, Default, Deserialize, Serialize)]
pub struct ImageConfig {
    /// The CPU architecture the image's binaries are built for, in Go's spelling (`amd64`,
    /// `arm64`), as the build tool recorded it.
    #[serde(default)]
    pub architecture: Option<String>,
    /// The operating system, in Go's spelling (`linux`, `windows`).
    #[serde(default)]
    pub os: Option<String>,
    /// The CPU variant (`v7` for `arm`, `v8` for `arm64`), when the builder recorded one.
    #[serde(default)]
    pub variant: Option<String>,
    /// When the image was built, as the RFC 3339 string the config holds (kept as text:
    /// reproducible builds write the epoch, some tools write nothing).
    #[serde(default)]
    pub created: Option<String>,
    /// Who made and maintains the image (the image spec's `author`; Dockerfile
    /// `MAINTAINER`), when the builder recorded it.
    #[serde(default)]
    pub author: Option<String>,
    /// What a container of this image runs with.
    #[serde(default, deserialize_with = "null_default")]
    pub config: RunConfig,
    /// The layer chain: one `diff_id` per layer, base first.
    #[serde(default, deserialize_with = "null_default")]
    pub rootfs: RootFs,
    /// How the image was built, one entry per build step, oldest first. Steps that made no
    /// layer are marked [`HistoryEntry::empty_layer`], so entries and layers pair up only once
    /// those are skipped.
    #[serde(default, deserialize_with = "null_default")]
    pub history: Vec<HistoryEntry>,
}

/// What the container runs with: the `config` object of an image config.
#[derive(Debug, Clone, Default, Deserialize, Serialize)]
#[serde(rename_all = "PascalCase")]
pub struct RunConfig {
    /// The Dockerfile `USER`: `name`, `uid`, `name:group` or `uid:gid`. `None` or empty means
    /// root.
    #[serde(default)]
    pub user: Option<String>,
    /// The environment, as `KEY=VALUE` strings in the order the config lists them.
    #[serde(default, deserialize_with = "null_default")]
    pub env: Vec<String>,
    /// The Dockerfile `ENTRYPOINT`, as an argument vector (a shell-form entrypoint is already
    /// `["/bin/sh", "-c", "…"]`).
    #[serde(default, deserialize_with = "null_default")]
    pub entrypoint: Vec<String>,
    /// The Dockerfile `CMD`: the arguments to the entrypoint, or the command when there is
    /// none.
    #[serde(default, deserialize_with = "null_default")]
    pub cmd: Vec<String>,
    /// The Dockerfile `WORKDIR`, an absolute path in the image; `None` or empty means `/`.
    #[serde(default)]
    pub working_dir: Option<String>,
    /// The image labels (Dockerfile `LABEL`), including those inherited from the base image.
    #[serde(default, deserialize_with = "null_default")]
    pub labels: BTreeMap<String, String>,
    /// The Dockerfile `EXPOSE` ports as keys, `PORT/PROTOCOL` (`80/tcp`); the values are
    /// always empty objects.
    #[serde(default, deserialize_with = "null_default")]
    pub exposed_ports: BTreeMap<String, serde_json::Value>,
    /// The Dockerfile `VOLUME` paths as keys; the values are always empty objects.
    #[serde(default, deserialize_with = "null_default")]
    pub volumes: BTreeMap<String, serde_json::Value>,
    /// The Dockerfile `STOPSIGNAL`, by name (`SIGTERM`) or number, as written.
    #[serde(default)]
    pub stop_signal: Option<String>,
    /// The Dockerfile `HEALTHCHECK` (Docker's config field; OCI's spec does not name it, and
    /// Docker and BuildKit write it in both); `None` when the image declares none.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub healthcheck: Option<Healthcheck>,
}

/// A container health check (`HEALTHCHECK CMD …`).
#[derive(Debug, Clone, Default, Deserialize, Serialize)]
#[serde(rename_all = "PascalCase")]
pub struct Healthcheck {
    /// `["NONE"]` disables a check the base image set; `["CMD", args…]` runs a command;
    /// `["CMD-SHELL", command]` runs it with the shell.
    #[serde(default, deserialize_with = "null_default")]
    pub test: Vec<String>,
}

/// The `rootfs` object of an image config: the uncompressed digests of its layers.
#[derive(Debug, Clone, Default, Deserialize, Serialize)]
pub struct RootFs {
    /// Always `layers` in a valid config; kept as read, not checked.
    #[serde(rename = "type", default)]
    pub kind: String,
    /// The digest of each layer's uncompressed tar, base first; one per manifest layer when
    /// present.
    #[serde(default, deserialize_with = "null_default")]
    pub diff_ids: Vec<Digest>,
}

/// One build step in the image config's `history`.
#[derive(Debug, Clone, Default, Deserialize, Serialize)]
pub struct HistoryEntry {
    /// When the step ran, as the RFC 3339 string the config holds.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub created: Option<String>,
    /// The command that made the step, as the builder recorded it (`/bin/sh -c #(nop) ADD …`
    /// from the classic builder, `RUN /bin/sh -c …` from BuildKit).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub created_by: Option<String>,
    /// The author, when the builder recorded one (Dockerfile `MAINTAINER`).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub author: Option<String>,
    /// A free-form note from the builder (BuildKit writes `buildkit.dockerfile.v0`).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub comment: Option<String>,
    /// The step changed only the config (`ENV`, `CMD`, …) and made no layer.
    #[serde(default, skip_serializing_if = "std::ops::Not::not")]
    pub empty_layer: bool,
}

pub(crate) fn parse_config(what: &str, bytes: &[u8]) -> Result<ImageConfig, ImageError> {
    serde_json::from_slice(bytes).map_err(|source| ImageError::Json {
        what: what.to_owned(),
        source,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn refuses_schema1_and_artifacts() {
        let s1 = br#"{"schemaVersion":1,"name":"x","tag":"y","fsLayers":[]}"#;
        let e = parse("m", s1, None).unwrap_err().to_string();
        assert!(e.contains("schema 1"), "{e}");
        let art = br#"{"mediaType":"application/vnd.oci.artifact.manifest.v1+json","blobs":[]}"#;
        assert!(
            parse("m", art, None)
                .unwrap_err()
                .to_string()
                .contains("artifact")
        );
        let junk = br#"{"schemaVersion":2}"#;
        assert!(parse("m", junk, None).is_err());
        assert!(
            parse("m", b"not json", None)
                .unwrap_err()
                .to_string()
                .contains("JSON")
        );
    }

    #[test]
    fn shape_decides_without_media_type() {
        let idx = br#"{"schemaVersion":2,"manifests":[]}"#;
        assert!(matches!(parse("i", idx, None).unwrap(), Parsed::Index(_)));
    }

    /// Every manifest fixture from containers/image is classified, or refused with the reason.
    #[test]
    fn manifest_fixtures() {
        let dir = concat!(
            env!("CARGO_MANIFEST_DIR"),
            "/../../../shared/data/images/format-fixtures/manifests"
        );
        let cases: &[(&str, Result<&str, &str>)] = &[
            ("non-json.manifest.json", Err("not valid JSON")),
            ("oci1.index.everything.json", Ok("index")),
            ("oci1.index.zstd-selection.json", Ok("index")),
            ("oci1.index.zstd-selection2.json", Ok("index")),
            ("oci1index.json", Ok("index")),
            ("ocilist-variants.json", Ok("index")),
            ("ociv1.artifact.json", Err("artifact")),
            ("ociv1.image.index.json", Ok("index")),
            ("ociv1.manifest.json", Ok("manifest")),
            ("ociv1nomime.artifact.json", Err("artifact")),
            ("ociv1nomime.image.index.json", Ok("index")),
            ("ociv1nomime.manifest.json", Ok("manifest")),
            ("schema2list-variants.json", Ok("index")),
            ("schema2list.json", Ok("index")),
            ("unknown-version.manifest.json", Err("schemaVersion 99")),
            ("v2list.everything.json", Ok("index")),
            ("v2list.manifest.json", Ok("index")),
            ("v2s1-invalid-signatures.manifest.json", Err("schema 1")),
            ("v2s1-unsigned.manifest.json", Err("schema 1")),
            ("v2s1.manifest.json", Err("schema 1")),
            ("v2s2.manifest.json", Ok("manifest")),
            ("v2s2nomime.manifest.json", Ok("manifest")),
        ];
        let n = std::fs::read_dir(dir)
            .expect("shared manifest fixtures")
            .count();
        assert_eq!(n, cases.len(), "every fixture has a case");
        for (file, want) in cases {
            let bytes = std::fs::read(format!("{dir}/{file}")).unwrap();
            let got = parse(file, &bytes, None);
            match (want, got) {
                (Ok("index"), Ok(Parsed::Index(_))) | (Ok("manifest"), Ok(Parsed::Manifest(_))) => {
                }
                (Err(msg), Err(e)) => assert!(e.to_string().contains(msg), "{file}: {e}"),
                (want, got) => panic!("{file}: wanted {want:?}, got {got:?}"),
            }
        }
    }

    #[test]
    fn config_tolerates_nulls() {
        let c = br#"{"config":{"Env":null,"Cmd":null,"Labels":null},"rootfs":{"type":"layers","diff_ids":[]},"history":null}"#;
        let c = parse_config("c", c).unwrap();
        assert!(c.config.env.is_empty());
    }
}
