//! SPDX 2.3 JSON: the image as the described package, every package with its purl as a
//! package-manager reference, `DESCRIBES` and `CONTAINS` relationships, and what customs knows
//! beyond SPDX's fields (layer, source package, where found) as annotations, as trivy and syft
//! write theirs. The document namespace is derived from the content, so it is unique per
//! document and the same for the same input.

use customs_catalog::{Distro, Package};
use serde::Serialize;

use crate::ids::{ImageName, content_uuid};
use crate::meta;
use crate::output::{DocOptions, Subject};

/// The specification version written.
pub const SPEC_VERSION: &str = "SPDX-2.3";

/// Where document namespaces live: a URI customs owns the form of, never fetched.
const NAMESPACE_BASE: &str = "https://customs.invalid/spdx";

#[derive(Serialize)]
#[serde(rename_all = "camelCase")]
struct Document {
    spdx_version: &'static str,
    data_license: &'static str,
    #[serde(rename = "SPDXID")]
    spdx_id: &'static str,
    name: String,
    document_namespace: String,
    creation_info: CreationInfo,
    packages: Vec<SpdxPackage>,
    relationships: Vec<Relationship>,
    #[serde(skip_serializing_if = "Vec::is_empty")]
    has_extracted_licensing_infos: Vec<ExtractedLicense>,
}

/// The text of a `LicenseRef-` a licence expression uses: a licence as the package named it,
/// which is not on the SPDX licence list.
#[derive(Serialize)]
#[serde(rename_all = "camelCase")]
struct ExtractedLicense {
    license_id: String,
    extracted_text: String,
    name: String,
}

#[derive(Serialize)]
#[serde(rename_all = "camelCase")]
struct CreationInfo {
    created: String,
    creators: Vec<String>,
}

#[derive(Serialize)]
#[serde(rename_all = "camelCase")]
struct SpdxPackage {
    name: String,
    #[serde(rename = "SPDXID")]
    spdx_id: String,
    #[serde(skip_serializing_if = "Option::is_none")]
    version_info: Option<String>,
    supplier: String,
    #[serde(skip_serializing_if = "Option::is_none")]
    originator: Option<String>,
    download_location: &'static str,
    files_analyzed: bool,
    #[serde(skip_serializing_if = "Vec::is_empty")]
    checksums: Vec<Checksum>,
    #[serde(skip_serializing_if = "Option::is_none")]
    source_info: Option<String>,
    license_concluded: &'static str,
    license_declared: String,
    copyright_text: &'static str,
    #[serde(skip_serializing_if = "Option::is_none")]
    description: Option<String>,
    #[serde(skip_serializing_if = "Vec::is_empty")]
    external_refs: Vec<ExternalRef>,
    primary_package_purpose: &'static str,
    #[serde(skip_serializing_if = "Vec::is_empty")]
    annotations: Vec<Annotation>,
}

#[derive(Serialize)]
#[serde(rename_all = "camelCase")]
struct Checksum {
    algorithm: &'static str,
    checksum_value: String,
}

#[derive(Serialize)]
#[serde(rename_all = "camelCase")]
struct ExternalRef {
    reference_category: &'static str,
    reference_type: &'static str,
    reference_locator: String,
}

#[derive(Serialize)]
#[serde(rename_all = "camelCase")]
struct Annotation {
    annotation_date: String,
    annotation_type: &'static str,
    annotator: String,
    comment: String,
}

#[derive(Serialize)]
#[serde(rename_all = "camelCase")]
struct Relationship {
    spdx_element_id: String,
    relationship_type: &'static str,
    related_spdx_element: String,
}

/// An SPDXID: `SPDXRef-` and letters, digits, `.` and `-` only.
fn spdx_id(kind: &str, n: usize, name: &str) -> String {
    let clean: String = name
        .chars()
        .take(64)
        .map(|c| {
            if c.is_ascii_alphanumeric() || c == '.' || c == '-' {
                c
            } else {
                '-'
            }
        })
        .collect();
    format!("SPDXRef-{kind}-{n}-{clean}")
}

/// Who supplies a package, for SPDX's `supplier` (an NTIA minimum element; see
/// [`meta::supplier`]); `NOASSERTION` when customs cannot tell, rather than a guess.
fn supplier(p: &Package, distro: Option<&Distro>) -> String {
    meta::supplier(p, distro).map_or_else(
        || "NOASSERTION".to_owned(),
        |s| format!("Organization: {s}"),
    )
}

fn distro_supplier(d: &Distro) -> String {
    format!("Organization: {}", meta::distro_name(d))
}

/// SPDX's `originator`, "from whom the package originally came": the author or maintainer
/// its metadata names.
fn originator(p: &Package) -> Option<String> {
    meta::author(p).map(|(name, email)| match email {
        Some(e) => format!("Person: {name} ({e})"),
        None => format!("Person: {name}"),
    })
}

/// The image's supplier ([`meta::image_supplier`]); `NOASSERTION` when nothing names one.
fn image_supplier(inv: &customs_catalog::Inventory, image: &ImageName) -> String {
    meta::image_supplier(inv, image).map_or_else(
        || "NOASSERTION".to_owned(),
        |v| format!("Organization: {v}"),
    )
}

fn package_annotations(p: &Package, date: &str, annotator: &str) -> Vec<Annotation> {
    let mut notes = Vec::new();
    if let Some(d) = &p.layer {
        notes.push(format!("customs:layer:diff_id={d}"));
    }
    if let Some(i) = p.layer_index {
        notes.push(format!("customs:layer:index={i}"));
    }
    if let Some(s) = &p.source_name {
        notes.push(format!("customs:source_name={s}"));
    }
    if let Some(s) = &p.source_version {
        notes.push(format!("customs:source_version={s}"));
    }
    notes.push(format!("customs:found_in={}", p.found_in));
    notes
        .into_iter()
        .map(|comment| Annotation {
            annotation_date: date.to_owned(),
            annotation_type: "OTHER",
            annotator: annotator.to_owned(),
            comment,
        })
        .collect()
}

/// The SPDX 2.3 document for `subject` (its inventory: SPDX 2.3 has no place for findings),
/// with two-space indentation and a final newline.
///
/// # Errors
/// Serialization failures (none in practice).
pub fn write(subject: Subject<'_>, opts: &DocOptions) -> serde_json::Result<String> {
    let inv = subject.inventory();
    let image = ImageName::of(inv);
    let created = opts.created_rfc3339();
    let annotator = format!("Tool: customs-{}", opts.tool_version);
    let mut packages = Vec::with_capacity(inv.packages.len() + 2);
    let mut relationships = Vec::with_capacity(inv.packages.len() + 2);
    let root_id = spdx_id("Image", 0, &image.name);
    let mut root_refs = Vec::new();
    if let Some(p) = image.purl() {
        root_refs.push(ExternalRef {
            reference_category: "PACKAGE-MANAGER",
            reference_type: "purl",
            reference_locator: p,
        });
    }
    packages.push(SpdxPackage {
        name: image.display(),
        spdx_id: root_id.clone(),
        version_info: image.digest.clone(),
        supplier: image_supplier(inv, &image),
        originator: None,
        download_location: "NOASSERTION",
        files_analyzed: false,
        checksums: image
            .digest
            .as_deref()
            .and_then(|d| d.strip_prefix("sha256:"))
            .map(|hex| Checksum {
                algorithm: "SHA256",
                checksum_value: hex.to_owned(),
            })
            .into_iter()
            .collect(),
        source_info: Some(format!("read by customs from {}", inv.source.reference)),
        license_concluded: "NOASSERTION",
        license_declared: "NOASSERTION".to_owned(),
        copyright_text: "NOASSERTION",
        description: None,
        external_refs: root_refs,
        primary_package_purpose: "CONTAINER",
        annotations: Vec::new(),
    });
    relationships.push(Relationship {
        spdx_element_id: "SPDXRef-DOCUMENT".to_owned(),
        relationship_type: "DESCRIBES",
        related_spdx_element: root_id.clone(),
    });
    if let Some(d) = &inv.distro {
        let id = spdx_id("OperatingSystem", 0, &d.id);
        packages.push(SpdxPackage {
            name: d.id.clone(),
            spdx_id: id.clone(),
            version_info: d.version_id.clone(),
            supplier: distro_supplier(d),
            originator: None,
            download_location: "NOASSERTION",
            files_analyzed: false,
            checksums: Vec::new(),
            source_info: Some(format!("read from {}", d.source_file)),
            license_concluded: "NOASSERTION",
            license_declared: "NOASSERTION".to_owned(),
            copyright_text: "NOASSERTION",
            description: d.pretty_name.clone(),
            external_refs: Vec::new(),
            primary_package_purpose: "OPERATING-SYSTEM",
            annotations: Vec::new(),
        });
        relationships.push(Relationship {
            spdx_element_id: root_id.clone(),
            relationship_type: "CONTAINS",
            related_spdx_element: id,
        });
    }
    let mut extracted: std::collections::BTreeMap<String, String> = Default::default();
    let ids: Vec<String> = inv
        .packages
        .iter()
        .enumerate()
        .map(|(i, p)| spdx_id("Package", i + 1, &format!("{}-{}", p.name, p.version)))
        .collect();
    let by_purl: std::collections::HashMap<&str, &str> = inv
        .packages
        .iter()
        .zip(&ids)
        .filter_map(|(p, id)| Some((p.purl.as_deref()?, id.as_str())))
        .collect();
    for (p, id) in inv.packages.iter().zip(&ids) {
        let id = id.clone();
        let declared = meta::declared(&p.licenses);
        if let Some(d) = &declared {
            extracted.extend(d.refs.clone());
        }
        for dep in &p.depends {
            if let Some(to) = by_purl.get(dep.as_str()) {
                relationships.push(Relationship {
                    spdx_element_id: id.clone(),
                    relationship_type: "DEPENDS_ON",
                    related_spdx_element: (*to).to_owned(),
                });
            }
        }
        packages.push(SpdxPackage {
            name: p.name.clone(),
            spdx_id: id.clone(),
            version_info: Some(p.version.clone()),
            supplier: supplier(p, inv.distro.as_ref()),
            originator: originator(p),
            download_location: "NOASSERTION",
            files_analyzed: false,
            checksums: Vec::new(),
            source_info: Some(format!("found in {}", p.found_in)),
            license_concluded: "NOASSERTION",
            license_declared: declared.map_or_else(|| "NOASSERTION".to_owned(), |d| d.expression),
            copyright_text: "NOASSERTION",
            description: None,
            external_refs: p
                .purl
                .iter()
                .map(|purl| ExternalRef {
                    reference_category: "PACKAGE-MANAGER",
                    reference_type: "purl",
                    reference_locator: purl.clone(),
                })
                .collect(),
            primary_package_purpose: "LIBRARY",
            annotations: package_annotations(p, &created, &annotator),
        });
        relationships.push(Relationship {
            spdx_element_id: root_id.clone(),
            relationship_type: "CONTAINS",
            related_spdx_element: id,
        });
    }
    let mut doc = Document {
        spdx_version: SPEC_VERSION,
        data_license: "CC0-1.0",
        spdx_id: "SPDXRef-DOCUMENT",
        name: image.display(),
        document_namespace: String::new(),
        creation_info: CreationInfo {
            created: String::new(),
            creators: vec![
                format!("Tool: customs-{}", opts.tool_version),
                "Organization: customs".to_owned(),
            ],
        },
        packages,
        relationships,
        has_extracted_licensing_infos: extracted
            .into_iter()
            .map(|(license_id, text)| ExtractedLicense {
                license_id,
                name: text.clone(),
                extracted_text: text,
            })
            .collect(),
    };
    // Annotation dates carry the creation time; blank them for the content hash so that the
    // namespace depends on what the document says, not when it was written.
    let mut probe = serde_json::to_value(&doc)?;
    strip_dates(&mut probe);
    let content = serde_json::to_vec(&probe)?;
    doc.document_namespace = format!("{NAMESPACE_BASE}/{}-{}", image.name, content_uuid(&content));
    doc.creation_info.created = created;
    let mut out = serde_json::to_string_pretty(&doc)?;
    out.push('\n');
    Ok(out)
}

fn strip_dates(v: &mut serde_json::Value) {
    match v {
        serde_json::Value::Object(m) => {
            m.remove("annotationDate");
            m.values_mut().for_each(strip_dates);
        }
        serde_json::Value::Array(a) => a.iter_mut().for_each(strip_dates),
        _ => {}
    }
}
