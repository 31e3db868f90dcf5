//! Name/value properties the scanners attach to components: CycloneDX `properties`, and SPDX
//! annotations, which trivy and customs use the same way. Only the names that say something
//! customs' inventory records are read:
//!
//! | writer | package | image | distribution |
//! |---|---|---|---|
//! | customs | `customs:source_name`, `customs:source_version`, `customs:arch`, `customs:path`, `customs:layer:diff_id`, `customs:layer:index`, `customs:dev` | `customs:image:manifest_digest`, `…:config_digest`, `…:os`, `…:architecture`, `…:created`, `…:layer` (`INDEX DIFF_ID`), `…:label:KEY` | `customs:distro:codename` |
//! | trivy (`aquasecurity:trivy:`) | `SrcName`, `SrcVersion`, `SrcRelease`, `SrcEpoch`, `LayerDiffID`, `FilePath` | `ImageID`, `RepoDigest`, `RepoTag` | |
//! | syft | `syft:location:N:path`, `syft:location:N:layerID`, `syft:metadata:source`, `…:sourceVersion`, `…:sourceRpm`, `…:originPackage` | `syft:image:labels:KEY` | `syft:distro:id`, `…:versionID`, `…:versionCodename`, `…:prettyName`, `…:idLike` |
//!
//! trivy's image-level `DiffID`s are not read: it writes them sorted by value, not in the
//! image's order (see [`ImageFacts::layers`]).

use serde::Deserialize;

use super::build::Entry;
use super::de;
use super::distro::DistroFacts;
use super::image::{ImageFacts, rank};

const TRIVY: &str = "aquasecurity:trivy:";

/// A property of a package.
pub(crate) fn package(e: &mut Entry, name: &str, value: &str) {
    let v = value.trim();
    if v.is_empty() {
        return;
    }
    let set = |slot: &mut Option<String>| {
        if slot.is_none() {
            *slot = Some(v.to_owned());
        }
    };
    if let Some(n) = name.strip_prefix(TRIVY) {
        match n {
            "SrcName" => set(&mut e.trivy_source.name),
            "SrcVersion" => set(&mut e.trivy_source.version),
            "SrcRelease" => set(&mut e.trivy_source.release),
            "SrcEpoch" => set(&mut e.trivy_source.epoch),
            "LayerDiffID" => e.layers.push(v.to_owned()),
            "FilePath" => e.paths.push(v.to_owned()),
            _ => {}
        }
        return;
    }
    if let Some(loc) = name.strip_prefix("syft:location:") {
        if loc.ends_with(":path") {
            e.paths.push(v.to_owned());
        } else if loc.ends_with(":layerID") {
            e.layers.push(v.to_owned());
        }
        return;
    }
    match name {
        "customs:source_name" => set(&mut e.customs_source.name),
        "customs:source_version" => set(&mut e.customs_source.version),
        "customs:arch" => set(&mut e.arch),
        "customs:path" => e.paths.push(v.to_owned()),
        "customs:layer:diff_id" => set(&mut e.customs_layer),
        "customs:layer:index" => e.layer_index = e.layer_index.or(v.parse().ok()),
        "customs:dev" => e.dev = v == "true",
        "syft:metadata:source" => set(&mut e.deb_source.name),
        "syft:metadata:sourceVersion" => set(&mut e.deb_source.version),
        "syft:metadata:sourceRpm" => set(&mut e.source_rpm),
        "syft:metadata:originPackage" => set(&mut e.origin),
        _ => {}
    }
}

/// A property of the image (on the component or package the document describes, or the
/// document's own).
pub(crate) fn image(img: &mut ImageFacts, name: &str, value: &str) {
    let v = value.trim();
    if v.is_empty() {
        return;
    }
    let label = name
        .strip_prefix("customs:image:label:")
        .or_else(|| name.strip_prefix("syft:image:labels:"));
    if let Some(k) = label {
        img.labels
            .entry(k.to_owned())
            .or_insert_with(|| value.to_owned());
        return;
    }
    let set = |slot: &mut Option<String>| {
        if slot.is_none() {
            *slot = Some(v.to_owned());
        }
    };
    match name {
        "customs:image:manifest_digest" => img.manifest.push((rank::CUSTOMS, v.to_owned())),
        "customs:image:config_digest" => img.config.push((rank::CUSTOMS, v.to_owned())),
        "customs:image:os" => set(&mut img.os),
        "customs:image:architecture" => set(&mut img.architecture),
        "customs:image:created" => set(&mut img.created),
        "customs:image:layer" => {
            if let Some((i, d)) = v.split_once(' ')
                && let Ok(i) = i.parse()
            {
                img.layers.push((i, d.trim().to_owned()));
            }
        }
        "aquasecurity:trivy:ImageID" => img.config.push((rank::TRIVY, v.to_owned())),
        "aquasecurity:trivy:RepoDigest" => {
            if let Some((_, d)) = v.rsplit_once('@') {
                img.manifest.push((rank::REPO_DIGEST, d.to_owned()));
            }
        }
        _ => {}
    }
}

/// A property of the operating-system component.
pub(crate) fn distro(d: &mut DistroFacts, name: &str, value: &str) {
    let v = value.trim();
    if v.is_empty() {
        return;
    }
    let set = |slot: &mut Option<String>| {
        if slot.is_none() {
            *slot = Some(v.to_owned());
        }
    };
    match name {
        "syft:distro:id" => set(&mut d.id),
        "syft:distro:versionID" => set(&mut d.version_id),
        "syft:distro:versionCodename" | "customs:distro:codename" => set(&mut d.codename),
        "syft:distro:prettyName" => set(&mut d.pretty_name),
        n if n.starts_with("syft:distro:idLike") => {
            d.id_like.extend(v.split_whitespace().map(str::to_owned));
        }
        _ => {}
    }
}

/// An SPDX annotation as a property: customs writes `customs:NAME=VALUE`, trivy
/// `Name: Value` (annotator `Tool: trivy-…`), Konflux `{"name": …, "value": …}`.
pub(crate) fn annotation(annotator: &str, comment: &str) -> Option<(String, String)> {
    #[derive(Deserialize)]
    struct NameValue {
        #[serde(default, deserialize_with = "de::text")]
        name: Option<String>,
        #[serde(default, deserialize_with = "de::text")]
        value: Option<String>,
    }
    let c = comment.trim();
    if c.starts_with('{') {
        let nv: NameValue = serde_json::from_str(c).ok()?;
        return Some((nv.name?, nv.value?));
    }
    if c.starts_with("customs:") {
        let (k, v) = c.split_once('=')?;
        return Some((k.to_owned(), v.to_owned()));
    }
    if annotator.to_ascii_lowercase().contains("trivy") {
        let (k, v) = c.split_once(':')?;
        let k = k.trim();
        if !k.is_empty() && !k.contains(char::is_whitespace) {
            return Some((format!("{TRIVY}{k}"), v.trim().to_owned()));
        }
    }
    None
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn annotations() {
        assert_eq!(
            annotation("Tool: trivy-dev", "SrcName: glibc"),
            Some(("aquasecurity:trivy:SrcName".into(), "glibc".into()))
        );
        assert_eq!(
            annotation("Tool: customs-0.1.0", "customs:layer:index=1"),
            Some(("customs:layer:index".into(), "1".into()))
        );
        assert_eq!(
            annotation(
                "Tool: konflux:jsonencoded",
                r#"{"name":"konflux:container:is_builder_image:for_stage","value":"0"}"#
            ),
            Some((
                "konflux:container:is_builder_image:for_stage".into(),
                "0".into()
            ))
        );
        assert_eq!(annotation("Person: someone", "Looks good: yes"), None);
    }
}
