//! CycloneDX 1.6 JSON: the inventory as an SBOM, and with a scan's findings a
//! `vulnerabilities` array (a vulnerability disclosure report).
//!
//! A scan's secret, config and file detections are `vulnerabilities` entries too, affecting
//! the image (the metadata component): `id` is the code and where it is
//! (`secret-aws-access-key@/app/.env:3`), the source `customs`, one rating of its severity
//! (method `other`), the message as `description`, the redacted evidence as `detail`, and
//! `customs:detection:*` properties for the kind, path, line and layers.
//!
//! The types are written here rather than taken from `cyclonedx-bom`, which cannot parse the
//! 1.6 documents syft and trivy write; they only serialize, and only what customs knows, so
//! every document they produce is held to the 1.6 schema by the tests. Reading is
//! [`crate::sbom`]'s, and lenient.

use std::collections::{BTreeMap, HashMap};

use customs_catalog::{Distro, Inventory, Package};
use customs_match::{Finding, FindingStatus, Suppression};
use customs_types::Severity;
use serde::Serialize;

use crate::ids::{ImageName, PackageRefs, content_uuid};
use crate::output::{DocOptions, Subject};

mod detections;
use detections::{detection_id, detection_vulnerability};

/// The specification version written.
pub const SPEC_VERSION: &str = "1.6";

/// Paths listed per language package; a package found in more files says how many more.
const MAX_PATHS: usize = 16;

#[derive(Serialize)]
#[serde(rename_all = "camelCase")]
struct Bom<'a> {
    bom_format: &'static str,
    spec_version: &'static str,
    serial_number: String,
    version: u32,
    metadata: Metadata<'a>,
    components: Vec<Component>,
    dependencies: Vec<Dependency>,
    #[serde(skip_serializing_if = "Vec::is_empty")]
    vulnerabilities: Vec<Vulnerability>,
}

#[derive(Serialize)]
struct Metadata<'a> {
    timestamp: String,
    tools: Tools<'a>,
    component: Component,
    #[serde(skip_serializing_if = "Vec::is_empty")]
    properties: Vec<Property>,
}

#[derive(Serialize)]
struct Tools<'a> {
    components: Vec<ToolComponent<'a>>,
}

#[derive(Serialize)]
struct ToolComponent<'a> {
    #[serde(rename = "type")]
    ty: &'static str,
    name: &'static str,
    version: &'a str,
}

#[derive(Serialize)]
struct Component {
    #[serde(rename = "bom-ref")]
    bom_ref: String,
    #[serde(rename = "type")]
    ty: &'static str,
    name: String,
    #[serde(skip_serializing_if = "Option::is_none")]
    version: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    description: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    supplier: Option<Entity>,
    #[serde(skip_serializing_if = "Vec::is_empty")]
    authors: Vec<Contact>,
    #[serde(skip_serializing_if = "Option::is_none")]
    purl: Option<String>,
    #[serde(skip_serializing_if = "Vec::is_empty")]
    licenses: Vec<LicenseChoice>,
    #[serde(skip_serializing_if = "Vec::is_empty")]
    properties: Vec<Property>,
}

/// An `organizationalEntity`.
#[derive(Serialize)]
struct Entity {
    name: String,
}

/// An `organizationalContact`.
#[derive(Serialize)]
struct Contact {
    name: String,
    #[serde(skip_serializing_if = "Option::is_none")]
    email: Option<String>,
}

/// The schema allows either one `expression` or a list of `license` objects, never both.
#[derive(Serialize)]
#[serde(untagged)]
enum LicenseChoice {
    Expression { expression: String },
    License { license: LicenseName },
}

#[derive(Serialize)]
struct LicenseName {
    name: String,
}

/// A package's licences: one SPDX expression when every licence is one; otherwise each as
/// the package named it, since an expression would have to use `LicenseRef-`s that
/// CycloneDX has nowhere to define.
fn licenses(p: &Package) -> Vec<LicenseChoice> {
    match crate::meta::declared(&p.licenses) {
        None => Vec::new(),
        Some(d) if d.all_listed => vec![LicenseChoice::Expression {
            expression: d.expression,
        }],
        Some(_) => p
            .licenses
            .iter()
            .map(|l| LicenseChoice::License {
                license: LicenseName { name: l.clone() },
            })
            .collect(),
    }
}

#[derive(Serialize, PartialEq, Eq, PartialOrd, Ord)]
struct Property {
    name: String,
    value: String,
}

fn prop(name: &str, value: impl Into<String>) -> Property {
    Property {
        name: name.to_owned(),
        value: value.into(),
    }
}

#[derive(Serialize)]
#[serde(rename_all = "camelCase")]
struct Dependency {
    #[serde(rename = "ref")]
    reference: String,
    depends_on: Vec<String>,
}

#[derive(Serialize)]
struct Vulnerability {
    #[serde(rename = "bom-ref")]
    bom_ref: String,
    id: String,
    source: Source,
    #[serde(skip_serializing_if = "Vec::is_empty")]
    references: Vec<Reference>,
    ratings: Vec<Rating>,
    #[serde(skip_serializing_if = "Option::is_none")]
    description: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    detail: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    recommendation: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    analysis: Option<Analysis>,
    affects: Vec<Affects>,
    #[serde(skip_serializing_if = "Vec::is_empty")]
    properties: Vec<Property>,
}

#[derive(Serialize)]
struct Source {
    name: String,
    #[serde(skip_serializing_if = "Option::is_none")]
    url: Option<String>,
}

#[derive(Serialize)]
struct Reference {
    id: String,
    source: Source,
}

#[derive(Serialize)]
struct Rating {
    #[serde(skip_serializing_if = "Option::is_none")]
    source: Option<Source>,
    #[serde(skip_serializing_if = "Option::is_none")]
    score: Option<f64>,
    severity: &'static str,
    #[serde(skip_serializing_if = "Option::is_none")]
    method: Option<&'static str>,
    #[serde(skip_serializing_if = "Option::is_none")]
    vector: Option<String>,
}

#[derive(Serialize)]
struct Analysis {
    state: &'static str,
    #[serde(skip_serializing_if = "Vec::is_empty")]
    response: Vec<&'static str>,
    #[serde(skip_serializing_if = "Option::is_none")]
    detail: Option<String>,
}

#[derive(Serialize)]
struct Affects {
    #[serde(rename = "ref")]
    reference: String,
    #[serde(skip_serializing_if = "Vec::is_empty")]
    versions: Vec<AffectedVersion>,
}

#[derive(Serialize)]
struct AffectedVersion {
    version: String,
    status: &'static str,
}

/// CycloneDX's word for a severity. Negligible (Debian's unimportant) is `info`: the vendor
/// sees no real risk, which is what CycloneDX's lowest rating says.
#[must_use]
pub fn severity_word(s: Severity) -> &'static str {
    match s {
        Severity::Critical => "critical",
        Severity::High => "high",
        Severity::Medium => "medium",
        Severity::Low => "low",
        Severity::Negligible => "info",
        Severity::Unknown => "unknown",
    }
}

fn cvss_method(version: &str) -> &'static str {
    match version {
        "2.0" | "2" => "CVSSv2",
        "3.0" | "3" => "CVSSv3",
        "3.1" => "CVSSv31",
        "4.0" | "4" => "CVSSv4",
        _ => "other",
    }
}

/// The URL a person reads a vulnerability at, by its id's form.
#[must_use]
pub fn advisory_url(id: &str) -> Option<String> {
    let url = if id.starts_with("CVE-") {
        format!("https://nvd.nist.gov/vuln/detail/{id}")
    } else if id.starts_with("GHSA-") {
        format!("https://github.com/advisories/{id}")
    } else if id.starts_with("RUSTSEC-")
        || id.starts_with("PYSEC-")
        || id.starts_with("GO-")
        || id.starts_with("OSV-")
    {
        format!("https://osv.dev/vulnerability/{id}")
    } else if id.starts_with("DSA-") || id.starts_with("DLA-") {
        format!("https://security-tracker.debian.org/tracker/{id}")
    } else if id.starts_with("RHSA-") {
        format!("https://access.redhat.com/errata/{id}")
    } else {
        return None;
    };
    Some(url)
}

fn package_component(p: &Package, bom_ref: &str, distro: Option<&Distro>) -> Component {
    let mut properties = vec![
        prop("customs:ecosystem", p.ecosystem.to_string()),
        prop("customs:found_in", p.found_in.clone()),
    ];
    if let Some(i) = p.layer_index {
        properties.push(prop("customs:layer:index", i.to_string()));
    }
    if let Some(d) = &p.layer {
        properties.push(prop("customs:layer:diff_id", d.to_string()));
    }
    if let Some(s) = &p.source_name {
        properties.push(prop("customs:source_name", s.clone()));
    }
    if let Some(s) = &p.source_version {
        properties.push(prop("customs:source_version", s.clone()));
    }
    if let Some(a) = &p.arch {
        properties.push(prop("customs:arch", a.clone()));
    }
    // An OS package's paths are every file it installed: the database it was read from
    // (found_in) says where it is without listing thousands of files.
    if !p.ecosystem.is_os() {
        for path in p.paths.iter().take(MAX_PATHS) {
            properties.push(prop("customs:path", path.clone()));
        }
        if p.paths.len() > MAX_PATHS {
            properties.push(prop(
                "customs:paths_not_listed",
                (p.paths.len() - MAX_PATHS).to_string(),
            ));
        }
    }
    for e in &p.evidence {
        properties.push(prop("customs:evidence", e.clone()));
    }
    if p.dev {
        properties.push(prop("customs:dev", "true"));
    }
    Component {
        bom_ref: bom_ref.to_owned(),
        ty: "library",
        name: p.name.clone(),
        version: Some(p.version.clone()),
        description: None,
        supplier: crate::meta::supplier(p, distro).map(|name| Entity { name }),
        authors: crate::meta::author(p)
            .map(|(name, email)| Contact { name, email })
            .into_iter()
            .collect(),
        purl: p.purl.clone(),
        licenses: licenses(p),
        properties,
    }
}

fn image_component(inv: &Inventory, image: &ImageName) -> Component {
    let purl = image.purl();
    let mut properties = Vec::new();
    if let Some(meta) = &inv.image {
        if let Some(d) = &meta.manifest_digest {
            properties.push(prop("customs:image:manifest_digest", d.to_string()));
        }
        if let Some(d) = &meta.config_digest {
            properties.push(prop("customs:image:config_digest", d.to_string()));
        }
        if let Some(os) = &meta.os {
            properties.push(prop("customs:image:os", os.clone()));
        }
        if let Some(a) = &meta.architecture {
            properties.push(prop("customs:image:architecture", a.clone()));
        }
        if let Some(c) = &meta.created {
            properties.push(prop("customs:image:created", c.clone()));
        }
        for l in &meta.layers {
            if let Some(d) = &l.layer.diff_id {
                properties.push(prop(
                    "customs:image:layer",
                    format!("{} {d}", l.layer.index),
                ));
            }
        }
        for (k, v) in &meta.config.labels {
            properties.push(prop(&format!("customs:image:label:{k}"), v.clone()));
        }
    }
    if let Some(t) = &image.tag {
        properties.push(prop("customs:image:tag", t.clone()));
    }
    if let Some(r) = &image.repository_url {
        properties.push(prop("customs:image:repository", r.clone()));
    }
    properties.push(prop("customs:source", inv.source.reference.clone()));
    Component {
        bom_ref: purl
            .clone()
            .unwrap_or_else(|| format!("image:{}", image.name)),
        ty: "container",
        name: image.display(),
        version: image.digest.clone(),
        description: None,
        supplier: crate::meta::image_supplier(inv, image).map(|name| Entity { name }),
        authors: Vec::new(),
        purl,
        licenses: Vec::new(),
        properties,
    }
}

fn vulnerability(f: &Finding, affected_ref: String, n: usize) -> Vulnerability {
    let mut ratings = vec![Rating {
        source: f.severity_source.as_ref().map(|s| Source {
            name: s.clone(),
            url: None,
        }),
        score: None,
        severity: severity_word(f.severity),
        method: None,
        vector: None,
    }];
    if let Some(c) = &f.cvss {
        ratings.push(Rating {
            source: c.source.as_ref().map(|s| Source {
                name: s.clone(),
                url: None,
            }),
            score: c.score,
            severity: c
                .score
                .map_or("unknown", |s| severity_word(Severity::from_cvss_score(s))),
            method: Some(cvss_method(&c.version)),
            vector: Some(c.vector.clone()),
        });
    }
    let references = f
        .aliases
        .iter()
        .map(|a| Reference {
            id: a.clone(),
            source: Source {
                name: alias_source(a).to_owned(),
                url: advisory_url(a),
            },
        })
        .collect();
    let analysis = match (&f.suppressed, f.status) {
        (Some(Suppression::NotAffected { reason }), _) => Some(Analysis {
            state: "not_affected",
            response: Vec::new(),
            detail: Some(reason.clone().unwrap_or_else(|| {
                format!("{} says the package is not affected", f.data_source.feed)
            })),
        }),
        (Some(Suppression::WontFix { reason }), _) => Some(Analysis {
            state: "exploitable",
            response: vec!["will_not_fix"],
            detail: Some(reason.clone()),
        }),
        (Some(Suppression::Excepted { reason }), _) => Some(Analysis {
            state: "exploitable",
            response: vec!["will_not_fix"],
            detail: Some(format!("risk accepted by the policy's exception: {reason}")),
        }),
        (Some(Suppression::Vex { reason }), _) => Some(Analysis {
            state: if reason.starts_with("fixed") {
                "resolved"
            } else {
                "not_affected"
            },
            response: Vec::new(),
            detail: Some(format!("VEX: {reason}")),
        }),
        (Some(Suppression::Unimportant), _) => Some(Analysis {
            state: "exploitable",
            response: vec!["will_not_fix"],
            detail: Some(format!(
                "{} rates it unimportant: no fix is planned",
                f.data_source.feed
            )),
        }),
        (None, FindingStatus::UnderInvestigation) => Some(Analysis {
            state: "in_triage",
            response: Vec::new(),
            detail: Some(format!("{} is still analysing it", f.data_source.feed)),
        }),
        (None, FindingStatus::Fixed) => Some(Analysis {
            state: "exploitable",
            response: vec!["update"],
            detail: None,
        }),
        _ => None,
    };
    let mut properties = vec![
        prop("customs:status", f.status.as_str()),
        prop("customs:installed_version", f.installed_version.clone()),
        prop("customs:data_source", f.data_source.record.clone()),
        prop("customs:namespace", f.data_source.namespace.to_string()),
    ];
    for v in &f.fixed_versions {
        properties.push(prop("customs:fixed_version", v.clone()));
    }
    if let Some(k) = &f.kev {
        properties.push(prop(
            "customs:kev:date_added",
            k.date_added.clone().unwrap_or_default(),
        ));
    }
    if let Some(e) = f.epss {
        properties.push(prop("customs:epss:probability", e.probability.to_string()));
        properties.push(prop("customs:epss:percentile", e.percentile.to_string()));
    }
    if let Some(s) = &f.suppressed {
        properties.push(prop("customs:suppressed", s.to_string()));
    }
    Vulnerability {
        bom_ref: format!("vuln:{}#{n}", f.id),
        id: f.id.clone(),
        source: Source {
            name: f.data_source.feed.to_string(),
            url: advisory_url(&f.id),
        },
        references,
        ratings,
        description: f.title.clone(),
        detail: f.note.clone(),
        recommendation: (!f.fixed_versions.is_empty()).then(|| {
            format!(
                "Upgrade {} to {}",
                f.package.name,
                f.fixed_versions.join(" or ")
            )
        }),
        analysis,
        affects: vec![Affects {
            reference: affected_ref,
            versions: vec![AffectedVersion {
                version: f.package.version.clone(),
                status: if matches!(f.suppressed, Some(Suppression::NotAffected { .. })) {
                    "unaffected"
                } else if f.status == FindingStatus::UnderInvestigation {
                    "unknown"
                } else {
                    "affected"
                },
            }],
        }],
        properties,
    }
}

fn alias_source(id: &str) -> &'static str {
    match id.split('-').next().unwrap_or("") {
        "CVE" => "nvd",
        "GHSA" => "github",
        "DSA" | "DLA" => "debian",
        "RHSA" => "redhat",
        "USN" => "ubuntu",
        _ => "osv",
    }
}

/// The CycloneDX 1.6 document for `subject`, serialized with two-space indentation and a final
/// newline. The serial number is derived from the document's content (everything but the
/// timestamp), so the same inventory and findings give the same serial.
///
/// # Errors
/// Serialization failures (none in practice: the types hold plain data).
pub fn write(subject: Subject<'_>, opts: &DocOptions) -> serde_json::Result<String> {
    let inv = subject.inventory();
    let image = ImageName::of(inv);
    let refs = PackageRefs::new(&inv.packages);
    let root = image_component(inv, &image);
    let mut components = Vec::with_capacity(inv.packages.len() + 1);
    let os_ref = inv.distro.as_ref().map(|d| {
        let version = d.version_id.clone();
        let bom_ref = format!("os:{}@{}", d.id, version.as_deref().unwrap_or("unknown"));
        let mut properties = vec![prop("customs:distro:source_file", d.source_file.clone())];
        if let Some(c) = &d.codename {
            properties.push(prop("customs:distro:codename", c.clone()));
        }
        components.push(Component {
            bom_ref: bom_ref.clone(),
            ty: "operating-system",
            name: d.id.clone(),
            version,
            description: d.pretty_name.clone(),
            supplier: Some(Entity {
                name: crate::meta::distro_name(d),
            }),
            authors: Vec::new(),
            purl: None,
            licenses: Vec::new(),
            properties,
        });
        bom_ref
    });
    let mut os_packages = Vec::new();
    let mut top = Vec::new();
    for (i, p) in inv.packages.iter().enumerate() {
        let r = refs.get(i).to_owned();
        components.push(package_component(p, &r, inv.distro.as_ref()));
        if p.ecosystem.is_os() && os_ref.is_some() {
            os_packages.push(r);
        } else {
            top.push(r);
        }
    }
    let mut dependencies = Vec::new();
    let mut root_deps: Vec<String> = os_ref.iter().cloned().collect();
    root_deps.extend(top.iter().cloned());
    dependencies.push(Dependency {
        reference: root.bom_ref.clone(),
        depends_on: root_deps,
    });
    if let Some(os) = &os_ref {
        dependencies.push(Dependency {
            reference: os.clone(),
            depends_on: os_packages,
        });
    }
    // Package to package, where the database records it (dpkg). A package without an entry
    // has no dependencies customs knows of, which is not the same as none.
    let by_purl: HashMap<&str, usize> = inv
        .packages
        .iter()
        .enumerate()
        .filter_map(|(i, p)| Some((p.purl.as_deref()?, i)))
        .collect();
    for (i, p) in inv.packages.iter().enumerate() {
        if p.depends.is_empty() {
            continue;
        }
        let mut depends_on: Vec<String> = p
            .depends
            .iter()
            .filter_map(|d| by_purl.get(d.as_str()).map(|j| refs.get(*j).to_owned()))
            .collect();
        depends_on.dedup();
        dependencies.push(Dependency {
            reference: refs.get(i).to_owned(),
            depends_on,
        });
    }
    let mut vulnerabilities = Vec::new();
    if let Some(findings) = subject.findings() {
        let mut n: BTreeMap<&str, usize> = BTreeMap::new();
        for f in findings {
            let Some(r) = refs.of(&f.package) else {
                continue;
            };
            let count = n.entry(f.id.as_str()).or_default();
            *count += 1;
            vulnerabilities.push(vulnerability(f, r.to_owned(), *count));
        }
    }
    if let Some(detections) = subject.detections() {
        let mut n: BTreeMap<String, usize> = BTreeMap::new();
        for d in &detections {
            let id = detection_id(d.detection);
            let count = n.entry(id.clone()).or_default();
            *count += 1;
            vulnerabilities.push(detection_vulnerability(d, id, root.bom_ref.clone(), *count));
        }
    }
    let mut properties = Vec::new();
    if let Subject::Scan(report, _) = subject {
        // The database's age, not its path: a path on the scanning machine says nothing to a
        // reader and would make the same scan's documents differ between machines.
        if let Some(t) = report.database.built_at {
            properties.push(prop(
                "customs:vulnerability_db:built_at",
                crate::output::rfc3339_secs(t),
            ));
        }
        if let Some(t) = report.database.newest_advisory {
            properties.push(prop(
                "customs:vulnerability_db:newest_advisory",
                crate::output::rfc3339_secs(t),
            ));
        }
        for gap in report.gaps(&[]) {
            properties.push(prop("customs:gap", gap.to_string()));
        }
        // What was looked for: a document without vulnerabilities of a kind says nothing of
        // that kind when its scanner did not run.
        for s in report.scanners.names() {
            properties.push(prop("customs:scanner", s));
        }
        for s in report.not_run() {
            properties.push(prop("customs:not-scanned", s));
        }
        if let Some(i) = report
            .inventory
            .inspected
            .as_ref()
            .filter(|_| report.scanners.secret)
        {
            let s = &i.secrets;
            properties.push(prop("customs:secret-scan:files", s.files.to_string()));
            properties.push(prop("customs:secret-scan:bytes", s.bytes.to_string()));
            properties.push(prop(
                "customs:secret-scan:skipped-binary",
                s.skipped_binary.to_string(),
            ));
            properties.push(prop(
                "customs:secret-scan:skipped-large",
                s.skipped_large.to_string(),
            ));
        }
        // The trust policy's verdict on who signed the digest this document describes.
        if let Some(v) = &report.signature {
            properties.push(prop("customs:signature:outcome", v.outcome.as_str()));
            properties.push(prop("customs:signature:digest", v.digest.clone()));
            if let Some(p) = &v.policy {
                properties.push(prop("customs:signature:policy", p.clone()));
            }
            if let Some(c) = &v.code {
                properties.push(prop("customs:signature:code", c.clone()));
            }
            for a in v.authority_lines() {
                properties.push(prop("customs:signature:authority", a));
            }
        }
        // The gate's verdict (scan --policy), and what VEX suppressed.
        if let Some(v) = &report.policy {
            properties.push(prop("customs:policy:outcome", v.outcome.as_str()));
            properties.push(prop("customs:policy:file", v.policy.clone()));
            for x in &v.violations {
                properties.push(prop(
                    "customs:policy:violation",
                    format!("{}: {}: {}", x.rule, x.code.as_str(), x.detail),
                ));
            }
            for e in &v.expired {
                properties.push(prop(
                    "customs:policy:expired-exception",
                    format!(
                        "{} by {} (expired after {})",
                        e.vulnerability, e.owner, e.expired
                    ),
                ));
            }
            for e in &v.detection_expired {
                properties.push(prop(
                    "customs:policy:expired-exception",
                    format!("{} by {} (expired after {})", e.code, e.owner, e.expired),
                ));
            }
        }
        if let Some(v) = &report.vex {
            for d in &v.documents {
                properties.push(prop(
                    "customs:vex:document",
                    format!("{} ({}): {} suppressed", d.source, d.format, d.suppressed),
                ));
            }
            for i in &v.ignored {
                properties.push(prop(
                    "customs:vex:ignored",
                    format!("{}: {}", i.source, i.code),
                ));
            }
        }
    }
    let mut bom = Bom {
        bom_format: "CycloneDX",
        spec_version: SPEC_VERSION,
        serial_number: String::new(),
        version: 1,
        metadata: Metadata {
            timestamp: String::new(),
            tools: Tools {
                components: vec![ToolComponent {
                    ty: "application",
                    name: "customs",
                    version: &opts.tool_version,
                }],
            },
            component: root,
            properties,
        },
        components,
        dependencies,
        vulnerabilities,
    };
    let content = serde_json::to_vec(&bom)?;
    bom.serial_number = format!("urn:uuid:{}", content_uuid(&content));
    bom.metadata.timestamp = opts.created_rfc3339();
    let mut out = serde_json::to_string_pretty(&bom)?;
    out.push('\n');
    Ok(out)
}
