//! The image an SBOM describes: its digests, architecture, labels and layers, as the readers
//! found them, and the inventory's [`ImageMeta`] made of them.

use std::collections::BTreeMap;

use customs_catalog::ImageMeta;
use customs_types::{Algorithm, Digest};

/// How sure a manifest or config digest is: lower is preferred.
pub(crate) mod rank {
    /// customs' own `customs:image:manifest_digest` (and `config_digest`).
    pub(crate) const CUSTOMS: u8 = 0;
    /// syft JSON's `manifestDigest` (and `imageID`).
    pub(crate) const SYFT: u8 = 1;
    /// The version of a `pkg:oci` purl naming the image.
    pub(crate) const PURL: u8 = 2;
    /// A described component's version that is a digest (syft's CycloneDX and SPDX).
    pub(crate) const VERSION: u8 = 3;
    /// trivy's `RepoDigest`: a registry's digest for the reference pulled, which for a
    /// multi-platform image may be the index's rather than the platform manifest's.
    pub(crate) const REPO_DIGEST: u8 = 4;
    /// trivy's `ImageID` (a config digest).
    pub(crate) const TRIVY: u8 = 5;
}

/// What the document says about the image.
#[derive(Default)]
pub(crate) struct ImageFacts {
    /// Candidate manifest digests with their [`rank`].
    pub(crate) manifest: Vec<(u8, String)>,
    /// Candidate config digests (customs', syft's `imageID`, trivy's `ImageID`) with their
    /// [`rank`].
    pub(crate) config: Vec<(u8, String)>,
    pub(crate) os: Option<String>,
    pub(crate) architecture: Option<String>,
    pub(crate) created: Option<String>,
    pub(crate) labels: BTreeMap<String, String>,
    /// Layer diff_ids in the image's order, base first, when the document gives the order
    /// (syft JSON's `source.metadata.layers`, customs' `customs:image:layer`) as (index,
    /// diff_id). trivy lists its `DiffID`s sorted by value, and syft's CycloneDX names a
    /// package's layer without saying where it stands: such layers are kept on the packages
    /// only, never given an index that would be a guess.
    pub(crate) layers: Vec<(usize, String)>,
}

/// The layers in order, checked: a list with a gap, a duplicate index or a bad digest is not
/// an order to rely on: the error says why, for a warning.
pub(crate) fn ordered_layers(layers: &[(usize, String)]) -> Result<Vec<Digest>, String> {
    if layers.is_empty() {
        return Ok(Vec::new());
    }
    let mut sorted: Vec<&(usize, String)> = layers.iter().collect();
    sorted.sort_by_key(|(i, _)| *i);
    let mut out = Vec::with_capacity(sorted.len());
    for (pos, (i, d)) in sorted.into_iter().enumerate() {
        match d.trim().parse::<Digest>() {
            Ok(d) if *i == pos => out.push(d),
            Ok(_) => {
                return Err(
                    "the image's layer list is not numbered 0, 1, 2, …: it is not used, and packages have no layer index"
                        .to_owned(),
                );
            }
            Err(e) => {
                return Err(format!(
                    "the image's layer {i} has a bad diff_id ({e}): the layer list is not used, and packages have no layer index"
                ));
            }
        }
    }
    Ok(out)
}

/// Whether a package built for `pkg` can be installed on an image of architecture `image`:
/// the same family, or one the family runs (32-bit x86 on amd64, as Debian multiarch and RHEL
/// multilib install; 32-bit Arm on arm64). `noarch`, `all` and names customs does not know fit
/// any image.
pub(crate) fn arch_fits(image: &str, pkg: &str) -> bool {
    match (arch_family(image), arch_family(pkg)) {
        (Some(i), Some(p)) => i == p || (i == "arm64" && p == "arm"),
        _ => true,
    }
}

/// The architecture family of an OCI, Debian, rpm or apk architecture name.
fn arch_family(a: &str) -> Option<&'static str> {
    Some(match a.to_ascii_lowercase().as_str() {
        "amd64" | "x86_64" | "x86-64" | "386" | "i386" | "i486" | "i586" | "i686" | "x86" => "x86",
        "arm64" | "aarch64" => "arm64",
        "arm" | "armhf" | "armel" | "armhfp" | "armv6l" | "armv7" | "armv7l" | "armv7hl" => "arm",
        "ppc64le" | "ppc64el" => "ppc64le",
        "ppc64" => "ppc64",
        "s390x" => "s390x",
        "riscv64" => "riscv64",
        "loong64" | "loongarch64" => "loong64",
        "mips64el" | "mips64le" => "mips64le",
        _ => return None,
    })
}

/// The image's record. `ConfigMeta` is not exported by customs-catalog: it is built as a
/// stored inventory is read, through serde; `None` only if that shape ever stops matching,
/// which the tests would show.
pub(crate) fn image_meta(facts: ImageFacts, order: &[Digest], bytes: &[u8]) -> Option<ImageMeta> {
    let mut manifest = facts.manifest;
    manifest.sort_by_key(|(rank, _)| *rank);
    let manifest_digest = manifest
        .iter()
        .find_map(|(_, d)| d.trim().parse::<Digest>().ok())
        .unwrap_or_else(|| Digest::compute(Algorithm::Sha256, bytes));
    let mut config = facts.config;
    config.sort_by_key(|(rank, _)| *rank);
    let config_digest = config
        .iter()
        .find_map(|(_, d)| d.trim().parse::<Digest>().ok());
    let layers: Vec<serde_json::Value> = order
        .iter()
        .enumerate()
        .map(
            |(i, d)| serde_json::json!({"index": i, "digest": null, "diff_id": d, "cached": false}),
        )
        .collect();
    let nonempty = |s: Option<String>| s.filter(|s| !s.trim().is_empty());
    serde_json::from_value(serde_json::json!({
        "manifest_digest": manifest_digest,
        "config_digest": config_digest,
        "os": nonempty(facts.os),
        "architecture": nonempty(facts.architecture),
        "created": nonempty(facts.created),
        "layers": layers,
        "config": {
            "user": null,
            "env": [],
            "entrypoint": [],
            "cmd": [],
            "working_dir": null,
            "labels": facts.labels,
            "exposed_ports": [],
            "history": [],
        },
    }))
    .ok()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn architectures() {
        assert!(arch_fits("amd64", "x86_64"));
        assert!(arch_fits("amd64", "i686"));
        assert!(arch_fits("amd64", "noarch"));
        assert!(arch_fits("amd64", "all"));
        assert!(!arch_fits("amd64", "aarch64"));
        assert!(!arch_fits("amd64", "s390x"));
        assert!(arch_fits("arm64", "armhf"));
        assert!(!arch_fits("arm", "arm64"));
        assert!(arch_fits("weird", "s390x"));
    }
}
