//! VEX in: OpenVEX 0.2, CycloneDX 1.4–1.6 VEX and CSAF 2.0 VEX documents read into one form,
//! and the statement that decides a finding.
//!
//! A statement names a vulnerability, products and a status. Products are purls: a package, or
//! the image (`pkg:oci/NAME@sha256:…`) with the packages inside it as subcomponents. A purl
//! without a version or qualifiers names every version; one with them names only those. For a
//! finding, every statement that names its vulnerability (or an alias) and its package is
//! found; the latest wins (a statement without a timestamp has its document's), and only
//! `not_affected` and `fixed` suppress it.
//!
//! What is not applied, on purpose, because it would pass what nobody said is safe:
//! - a product with subcomponents that is not the image (a package inside another package):
//!   customs has no dependency graph to place one under the other;
//! - a CSAF product that is a component of a platform named only by a CPE (`cpe:/o:redhat:
//!   enterprise_linux:6`) when the component's purl has no version: the image may be another
//!   release of that platform;
//! - a CycloneDX `affects` entry whose versions are given only as ranges.
//!
//! Each is counted in the document's warnings.

use std::collections::HashMap;
use std::fmt;
use std::path::Path;

use customs_match::Finding;
use customs_types::Timestamp;
use serde::{Deserialize, Serialize};
use serde_json::Value;

use crate::PolicyError;

/// VEX documents are at most a few megabytes (Red Hat's largest CSAF VEX files are ~3 MB).
const MAX_FILE: u64 = 64 << 20;

/// The format a VEX document was written in.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "lowercase")]
pub enum VexFormat {
    /// OpenVEX (`@context` `https://openvex.dev/ns/…`).
    OpenVex,
    /// A CycloneDX BOM with `vulnerabilities[].analysis`.
    CycloneDx,
    /// CSAF 2.0 of category `csaf_vex`.
    Csaf,
}

impl fmt::Display for VexFormat {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self {
            Self::OpenVex => "openvex",
            Self::CycloneDx => "cyclonedx",
            Self::Csaf => "csaf",
        })
    }
}

/// What a statement says of its products, in OpenVEX's words.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum VexStatus {
    /// No remediation is needed.
    NotAffected,
    /// The products contain the fix.
    Fixed,
    /// Affected: something must be done.
    Affected,
    /// Not known yet.
    UnderInvestigation,
}

impl VexStatus {
    /// Whether it suppresses a finding.
    #[must_use]
    pub fn suppresses(self) -> bool {
        matches!(self, Self::NotAffected | Self::Fixed)
    }
}

impl fmt::Display for VexStatus {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self {
            Self::NotAffected => "not_affected",
            Self::Fixed => "fixed",
            Self::Affected => "affected",
            Self::UnderInvestigation => "under_investigation",
        })
    }
}

/// A purl as a selector: type, namespace and name must equal the package's; a version, when
/// given, too; each qualifier given must be the package's.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PurlSelector {
    /// As written.
    pub text: String,
    ty: String,
    namespace: Option<String>,
    name: String,
    version: Option<String>,
    qualifiers: Vec<(String, String)>,
}

impl PurlSelector {
    /// Parses a purl; `None` when it is not one.
    #[must_use]
    pub fn parse(text: &str) -> Option<Self> {
        let p: packageurl::PackageUrl<'_> = text.trim().parse().ok()?;
        let ty = p.ty().to_ascii_lowercase();
        // Types whose names the purl spec makes case-insensitive; PyPI also folds `_` and `.`.
        let fold = |s: &str| match ty.as_str() {
            "pypi" => s.to_ascii_lowercase().replace(['_', '.'], "-"),
            "deb" | "apk" | "npm" | "oci" | "alpm" | "github" | "bitbucket" => {
                s.to_ascii_lowercase()
            }
            _ => s.to_owned(),
        };
        let mut qualifiers: Vec<(String, String)> = p
            .qualifiers()
            .iter()
            .map(|(k, v)| (k.to_ascii_lowercase(), v.to_string()))
            .collect();
        qualifiers.sort();
        Some(Self {
            text: text.trim().to_owned(),
            namespace: p.namespace().map(&fold),
            name: fold(p.name()),
            version: p.version().map(|v| {
                // A digest's algorithm and hex are case-insensitive.
                if ty == "oci" {
                    v.to_ascii_lowercase()
                } else {
                    v.to_owned()
                }
            }),
            qualifiers,
            ty,
        })
    }

    /// Whether this selector names `target` (a package's or the image's full purl).
    #[must_use]
    pub fn selects(&self, target: &Self) -> bool {
        self.ty == target.ty
            && self.namespace == target.namespace
            && self.name == target.name
            && self
                .version
                .as_ref()
                .is_none_or(|v| target.version.as_ref() == Some(v))
            && self
                .qualifiers
                .iter()
                .all(|q| target.qualifiers.iter().any(|t| t == q))
    }

    /// Whether it names a version.
    #[must_use]
    pub fn has_version(&self) -> bool {
        self.version.is_some()
    }

    /// Whether it is an OCI artifact (an image).
    #[must_use]
    pub fn is_oci(&self) -> bool {
        self.ty == "oci"
    }
}

/// A product a statement is about.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Product {
    /// The product.
    pub id: PurlSelector,
    /// Packages inside it the statement is about; empty: the whole product.
    pub subcomponents: Vec<PurlSelector>,
}

/// One VEX statement, whatever format it came from.
#[derive(Debug, Clone, PartialEq)]
pub struct Statement {
    /// The vulnerability it is about.
    pub vulnerability: String,
    /// Other ids of it.
    pub aliases: Vec<String>,
    /// The products it is about.
    pub products: Vec<Product>,
    /// What it says.
    pub status: VexStatus,
    /// Why not affected, as the format names it (`vulnerable_code_not_in_execute_path`,
    /// `code_not_reachable`, …).
    pub justification: Option<String>,
    /// The author's words (OpenVEX `impact_statement`, CycloneDX `detail`).
    pub impact: Option<String>,
    /// When it was made: its own timestamp, else its document's.
    pub timestamp: Option<Timestamp>,
}

/// A VEX document, read.
#[derive(Debug, Clone)]
pub struct VexDocument {
    /// Where it came from (a file, or an attestation).
    pub source: String,
    /// Its format.
    pub format: VexFormat,
    /// Its author or publisher.
    pub author: Option<String>,
    /// Its statements.
    pub statements: Vec<Statement>,
    /// What in it was not applied, and why.
    pub warnings: Vec<String>,
}

impl VexDocument {
    /// Reads a VEX document from a file; the format is recognised from its content.
    ///
    /// # Errors
    /// A [`PolicyError`] naming the file (and the line and column of a JSON error).
    pub fn from_file(path: &Path) -> Result<Self, PolicyError> {
        let text = PolicyError::read(path, MAX_FILE)?;
        Self::parse(&text, &path.display().to_string())
    }

    /// Reads a VEX document; `source` names it in errors.
    ///
    /// # Errors
    /// A [`PolicyError`] naming `source`.
    pub fn parse(text: &str, source: &str) -> Result<Self, PolicyError> {
        let value: Value = serde_json::from_str(text).map_err(|e| PolicyError {
            file: source.to_owned(),
            line: Some(e.line() as u64),
            column: Some(e.column() as u64),
            message: format!("not JSON: {e}"),
        })?;
        let plain = |message: String| PolicyError {
            file: source.to_owned(),
            line: None,
            column: None,
            message,
        };
        let context = value.get("@context").and_then(Value::as_str);
        let (format, author, statements, warnings) = if context
            .is_some_and(|c| c.starts_with("https://openvex.dev/ns"))
        {
            let doc: OpenVexDoc = serde_json::from_value(value)
                .map_err(|e| plain(format!("not an OpenVEX document: {e}")))?;
            let (s, w) = openvex(doc.statements, doc.timestamp.as_deref(), &plain)?;
            (VexFormat::OpenVex, doc.author, s, w)
        } else if value.get("bomFormat").and_then(Value::as_str) == Some("CycloneDX") {
            let (a, s, w) = cyclonedx(&value, &plain)?;
            (VexFormat::CycloneDx, a, s, w)
        } else if value.pointer("/document/csaf_version").is_some() {
            let (a, s, w) = csaf(&value, &plain)?;
            (VexFormat::Csaf, a, s, w)
        } else {
            return Err(plain(
                    "not a VEX document: neither OpenVEX (@context https://openvex.dev/ns/…), CycloneDX (bomFormat) nor CSAF (document.csaf_version)".to_owned(),
                ));
        };
        Ok(Self {
            source: source.to_owned(),
            format,
            author,
            statements,
            warnings,
        })
    }
}

#[derive(Deserialize)]
struct OpenVexDoc {
    #[serde(default)]
    author: Option<String>,
    #[serde(default)]
    timestamp: Option<String>,
    #[serde(default)]
    statements: Vec<OpenVexStatement>,
}

#[derive(Deserialize)]
struct OpenVexStatement {
    vulnerability: OpenVexVulnerability,
    #[serde(default)]
    products: Vec<OpenVexProduct>,
    status: VexStatus,
    #[serde(default)]
    justification: Option<String>,
    #[serde(default)]
    impact_statement: Option<String>,
    #[serde(default)]
    timestamp: Option<String>,
    #[serde(default)]
    last_updated: Option<String>,
}

/// OpenVEX 0.0.1 wrote the vulnerability and each product as a plain string; 0.2 as objects.
#[derive(Deserialize)]
#[serde(untagged)]
enum OpenVexVulnerability {
    Name(String),
    Object {
        name: String,
        #[serde(default)]
        aliases: Vec<String>,
    },
}

impl OpenVexVulnerability {
    fn name(&self) -> &str {
        match self {
            Self::Name(n) | Self::Object { name: n, .. } => n,
        }
    }
}

#[derive(Deserialize)]
#[serde(from = "ProductForm")]
struct OpenVexProduct {
    id: Option<String>,
    identifiers: HashMap<String, String>,
    subcomponents: Vec<OpenVexProduct>,
}

#[derive(Deserialize)]
#[serde(untagged)]
enum ProductForm {
    Id(String),
    Object {
        #[serde(rename = "@id", default)]
        id: Option<String>,
        #[serde(default)]
        identifiers: HashMap<String, String>,
        #[serde(default)]
        subcomponents: Vec<OpenVexProduct>,
    },
}

impl From<ProductForm> for OpenVexProduct {
    fn from(p: ProductForm) -> Self {
        match p {
            ProductForm::Id(id) => Self {
                id: Some(id),
                identifiers: HashMap::new(),
                subcomponents: Vec::new(),
            },
            ProductForm::Object {
                id,
                identifiers,
                subcomponents,
            } => Self {
                id,
                identifiers,
                subcomponents,
            },
        }
    }
}

impl OpenVexProduct {
    /// Its purl: the `@id` when it is one, else `identifiers.purl`.
    fn purl(&self) -> Option<PurlSelector> {
        self.id
            .as_deref()
            .filter(|i| i.starts_with("pkg:"))
            .and_then(PurlSelector::parse)
            .or_else(|| {
                self.identifiers
                    .get("purl")
                    .and_then(|p| PurlSelector::parse(p))
            })
    }

    fn label(&self) -> String {
        self.id
            .clone()
            .or_else(|| self.identifiers.values().next().cloned())
            .unwrap_or_else(|| "(no @id)".to_owned())
    }
}

type Plain<'a> = &'a dyn Fn(String) -> PolicyError;

fn time(s: Option<&str>, what: &str, plain: Plain<'_>) -> Result<Option<Timestamp>, PolicyError> {
    s.map(|t| {
        Timestamp::parse_lenient(t).map_err(|_| plain(format!("{what} {t:?} is not a timestamp")))
    })
    .transpose()
}

fn openvex(
    statements: Vec<OpenVexStatement>,
    doc_time: Option<&str>,
    plain: Plain<'_>,
) -> Result<(Vec<Statement>, Vec<String>), PolicyError> {
    let doc_time = time(doc_time, "timestamp", plain)?;
    let mut out = Vec::new();
    let mut warnings = Vec::new();
    for (n, s) in statements.into_iter().enumerate() {
        let at = format!("statement {}", n + 1);
        if s.status == VexStatus::NotAffected
            && s.justification.is_none()
            && s.impact_statement.is_none()
        {
            // The spec requires one of them: a bare "not affected" is not a statement.
            warnings.push(format!(
                "{at} ({}): not_affected without a justification or impact_statement: not applied",
                s.vulnerability.name()
            ));
            continue;
        }
        let mut products = Vec::new();
        for p in &s.products {
            let Some(id) = p.purl() else {
                warnings.push(format!(
                    "{at} ({}): product {} is not a purl: not applied",
                    s.vulnerability.name(),
                    p.label()
                ));
                continue;
            };
            let mut subcomponents = Vec::new();
            for c in &p.subcomponents {
                match c.purl() {
                    Some(c) => subcomponents.push(c),
                    None => warnings.push(format!(
                        "{at} ({}): subcomponent {} is not a purl: not applied",
                        s.vulnerability.name(),
                        c.label()
                    )),
                }
            }
            if !p.subcomponents.is_empty() && subcomponents.is_empty() {
                continue;
            }
            products.push(Product { id, subcomponents });
        }
        let own = time(
            s.last_updated.as_deref().or(s.timestamp.as_deref()),
            &format!("{at}'s timestamp"),
            plain,
        )?;
        let (vulnerability, aliases) = match s.vulnerability {
            OpenVexVulnerability::Name(n) => (n, Vec::new()),
            OpenVexVulnerability::Object { name, aliases } => (name, aliases),
        };
        out.push(Statement {
            vulnerability,
            aliases,
            products,
            status: s.status,
            justification: s.justification,
            impact: s.impact_statement,
            timestamp: own.or(doc_time),
        });
    }
    Ok((out, warnings))
}

fn str_at<'a>(v: &'a Value, pointer: &str) -> Option<&'a str> {
    v.pointer(pointer).and_then(Value::as_str)
}

type Read = (Option<String>, Vec<Statement>, Vec<String>);

fn cyclonedx(doc: &Value, plain: Plain<'_>) -> Result<Read, PolicyError> {
    // bom-ref → purl, over the described component and every component, nested ones too.
    let mut refs: HashMap<&str, &str> = HashMap::new();
    let mut stack: Vec<&Value> = doc.pointer("/metadata/component").into_iter().collect();
    if let Some(c) = doc.get("components").and_then(Value::as_array) {
        stack.extend(c);
    }
    while let Some(c) = stack.pop() {
        if let (Some(r), Some(p)) = (str_at(c, "/bom-ref"), str_at(c, "/purl")) {
            refs.insert(r, p);
        }
        if let Some(children) = c.get("components").and_then(Value::as_array) {
            stack.extend(children);
        }
    }
    let author = str_at(doc, "/metadata/manufacturer/name")
        .or_else(|| str_at(doc, "/metadata/supplier/name"))
        .or_else(|| str_at(doc, "/metadata/authors/0/name"))
        .map(str::to_owned);
    let doc_time = time(
        str_at(doc, "/metadata/timestamp"),
        "metadata.timestamp",
        plain,
    )?;
    let mut out = Vec::new();
    let mut warnings = Vec::new();
    let vulnerabilities = doc
        .get("vulnerabilities")
        .and_then(Value::as_array)
        .map_or(&[][..], Vec::as_slice);
    for (n, v) in vulnerabilities.iter().enumerate() {
        let Some(id) = str_at(v, "/id") else {
            warnings.push(format!("vulnerabilities[{n}] has no id: not applied"));
            continue;
        };
        let Some(state) = str_at(v, "/analysis/state") else {
            // A vulnerability without an analysis is a finding, not a VEX statement.
            continue;
        };
        let status = match state {
            "not_affected" | "false_positive" => VexStatus::NotAffected,
            "resolved" | "resolved_with_pedigree" => VexStatus::Fixed,
            "exploitable" => VexStatus::Affected,
            "in_triage" => VexStatus::UnderInvestigation,
            other => {
                warnings.push(format!(
                    "{id}: analysis.state {other:?} is not a CycloneDX state: not applied"
                ));
                continue;
            }
        };
        let mut products = Vec::new();
        for a in v
            .get("affects")
            .and_then(Value::as_array)
            .map_or(&[][..], Vec::as_slice)
        {
            let Some(r) = str_at(a, "/ref") else { continue };
            // A BOM-Link (`urn:cdx:SERIAL/VERSION#REF`) names a component by its bom-ref.
            let local = r
                .strip_prefix("urn:cdx:")
                .and_then(|l| l.split_once('#'))
                .map_or(r, |(_, f)| f);
            let purl = if local.starts_with("pkg:") {
                Some(local)
            } else {
                refs.get(local).copied()
            };
            let Some(purl) = purl.and_then(PurlSelector::parse) else {
                warnings.push(format!(
                    "{id}: affects {r}: no component with a purl has that bom-ref: not applied"
                ));
                continue;
            };
            let versions = a
                .get("versions")
                .and_then(Value::as_array)
                .map_or(&[][..], Vec::as_slice);
            // A ref to one version is about that version: `versions` then describe the
            // vulnerability, not which of the component's versions the analysis is for.
            if versions.is_empty() || purl.has_version() {
                products.push(Product {
                    id: purl,
                    subcomponents: Vec::new(),
                });
                continue;
            }
            // A versionless ref with versions: the statement holds for the versions it calls
            // unaffected (for a state that suppresses) or affected (for one that does not).
            let wanted = if status.suppresses() {
                "unaffected"
            } else {
                "affected"
            };
            for e in versions {
                let entry_status = str_at(e, "/status").unwrap_or("affected");
                if entry_status != wanted {
                    continue;
                }
                let Some(version) = str_at(e, "/version") else {
                    warnings.push(format!(
                        "{id}: affects {r}: a version range is not evaluated: not applied"
                    ));
                    continue;
                };
                let mut with = purl.clone();
                with.version = Some(version.to_owned());
                products.push(Product {
                    id: with,
                    subcomponents: Vec::new(),
                });
            }
        }
        let aliases = v
            .get("references")
            .and_then(Value::as_array)
            .map_or(&[][..], Vec::as_slice)
            .iter()
            .filter_map(|r| str_at(r, "/id").map(str::to_owned))
            .collect();
        let own = time(
            str_at(v, "/analysis/lastUpdated")
                .or_else(|| str_at(v, "/analysis/firstIssued"))
                .or_else(|| str_at(v, "/updated"))
                .or_else(|| str_at(v, "/published")),
            &format!("{id}'s analysis time"),
            plain,
        )?;
        out.push(Statement {
            vulnerability: id.to_owned(),
            aliases,
            products,
            status,
            justification: str_at(v, "/analysis/justification").map(str::to_owned),
            impact: str_at(v, "/analysis/detail").map(str::to_owned),
            timestamp: own.or(doc_time),
        });
    }
    Ok((author, out, warnings))
}

fn helper_purl(p: &Value) -> Option<&str> {
    str_at(p, "/product_identification_helper/purl")
        .or_else(|| str_at(p, "/product_identification_helper/purls/0"))
}

/// A CSAF product: its purl, and for a relationship, the platform it is a component of.
struct CsafProduct<'a> {
    purl: Option<&'a str>,
    platform: Option<&'a str>,
}

fn csaf(doc: &Value, plain: Plain<'_>) -> Result<Read, PolicyError> {
    let category = str_at(doc, "/document/category").unwrap_or_default();
    if category != "csaf_vex" {
        return Err(plain(format!(
            "a CSAF document of category {category:?}, not csaf_vex: not VEX"
        )));
    }
    // product_id → purl, over the branches (nested) and full_product_names.
    let mut purls: HashMap<&str, Option<&str>> = HashMap::new();
    let tree = doc.get("product_tree");
    let mut stack: Vec<&Value> = tree
        .and_then(|t| t.get("branches"))
        .and_then(Value::as_array)
        .map(|b| b.iter().collect())
        .unwrap_or_default();
    let mut named: Vec<&Value> = tree
        .and_then(|t| t.get("full_product_names"))
        .and_then(Value::as_array)
        .map(|b| b.iter().collect())
        .unwrap_or_default();
    while let Some(b) = stack.pop() {
        if let Some(p) = b.get("product") {
            named.push(p);
        }
        if let Some(children) = b.get("branches").and_then(Value::as_array) {
            stack.extend(children);
        }
    }
    for p in named {
        if let Some(id) = str_at(p, "/product_id") {
            purls.insert(id, helper_purl(p));
        }
    }
    let mut products: HashMap<&str, CsafProduct<'_>> = purls
        .iter()
        .map(|(id, purl)| {
            (
                *id,
                CsafProduct {
                    purl: *purl,
                    platform: None,
                },
            )
        })
        .collect();
    for r in tree
        .and_then(|t| t.get("relationships"))
        .and_then(Value::as_array)
        .map_or(&[][..], Vec::as_slice)
    {
        let (Some(id), Some(component), Some(platform)) = (
            str_at(r, "/full_product_name/product_id"),
            str_at(r, "/product_reference"),
            str_at(r, "/relates_to_product_reference"),
        ) else {
            continue;
        };
        products.insert(
            id,
            CsafProduct {
                purl: purls.get(component).copied().flatten(),
                platform: Some(platform),
            },
        );
    }
    let author = str_at(doc, "/document/publisher/name").map(str::to_owned);
    let doc_time = time(
        str_at(doc, "/document/tracking/current_release_date"),
        "document.tracking.current_release_date",
        plain,
    )?;
    let mut out = Vec::new();
    let mut warnings = Vec::new();
    let mut unplaced = 0usize;
    let mut no_purl = 0usize;
    for v in doc
        .get("vulnerabilities")
        .and_then(Value::as_array)
        .map_or(&[][..], Vec::as_slice)
    {
        let Some(id) = str_at(v, "/cve").or_else(|| str_at(v, "/ids/0/text")) else {
            warnings.push("a vulnerability with neither cve nor ids: not applied".to_owned());
            continue;
        };
        let aliases: Vec<String> = v
            .get("ids")
            .and_then(Value::as_array)
            .map_or(&[][..], Vec::as_slice)
            .iter()
            .filter_map(|i| str_at(i, "/text").map(str::to_owned))
            .filter(|i| i != id)
            .collect();
        // The justification flag of each product id.
        let mut flags: HashMap<&str, &str> = HashMap::new();
        for f in v
            .get("flags")
            .and_then(Value::as_array)
            .map_or(&[][..], Vec::as_slice)
        {
            if let (Some(label), Some(ids)) = (
                str_at(f, "/label"),
                f.get("product_ids").and_then(Value::as_array),
            ) {
                for i in ids.iter().filter_map(Value::as_str) {
                    flags.insert(i, label);
                }
            }
        }
        let own = time(
            str_at(v, "/release_date"),
            &format!("{id}'s release_date"),
            plain,
        )?;
        for (field, status) in [
            ("known_not_affected", VexStatus::NotAffected),
            ("fixed", VexStatus::Fixed),
            ("first_fixed", VexStatus::Fixed),
            ("known_affected", VexStatus::Affected),
            ("first_affected", VexStatus::Affected),
            ("last_affected", VexStatus::Affected),
            ("under_investigation", VexStatus::UnderInvestigation),
        ] {
            let ids = v
                .pointer(&format!("/product_status/{field}"))
                .and_then(Value::as_array)
                .map_or(&[][..], Vec::as_slice);
            // One statement per justification, so each keeps its own.
            let mut by_flag: Vec<(Option<&str>, Vec<Product>)> = Vec::new();
            for pid in ids.iter().filter_map(Value::as_str) {
                let Some(p) = products.get(pid) else {
                    no_purl += 1;
                    continue;
                };
                let Some(purl) = p.purl.and_then(PurlSelector::parse) else {
                    no_purl += 1;
                    continue;
                };
                let platform = p
                    .platform
                    .and_then(|pl| purls.get(pl).copied().flatten())
                    .and_then(PurlSelector::parse);
                let product = match platform {
                    Some(pl) if pl.is_oci() => Product {
                        id: pl,
                        subcomponents: vec![purl],
                    },
                    // A component of a platform customs cannot place the image in: only an
                    // exact build (a purl with its version) says something of this image.
                    _ if p.platform.is_some() && !purl.has_version() => {
                        unplaced += 1;
                        continue;
                    }
                    _ => Product {
                        id: purl,
                        subcomponents: Vec::new(),
                    },
                };
                let flag = flags.get(pid).copied();
                match by_flag.iter_mut().find(|(f, _)| *f == flag) {
                    Some((_, list)) => list.push(product),
                    None => by_flag.push((flag, vec![product])),
                }
            }
            for (flag, products) in by_flag {
                out.push(Statement {
                    vulnerability: id.to_owned(),
                    aliases: aliases.clone(),
                    products,
                    status,
                    justification: flag.map(str::to_owned),
                    impact: None,
                    timestamp: own.or(doc_time),
                });
            }
        }
    }
    if unplaced > 0 {
        warnings.push(format!(
            "{unplaced} product entries are versionless components of a platform named only by CPE: not applied (the image may be another release of it)"
        ));
    }
    if no_purl > 0 {
        warnings.push(format!(
            "{no_purl} product entries have no purl: not applied"
        ));
    }
    Ok((author, out, warnings))
}

/// The statement that decides a finding, and the document it is in.
#[derive(Debug, Clone, Copy)]
pub struct Decision<'a> {
    /// The document.
    pub document: &'a VexDocument,
    /// The statement: the latest of those that name the finding.
    pub statement: &'a Statement,
}

/// The latest statement in `documents` about `finding`'s vulnerability in its package, the
/// package either named itself or as a subcomponent of `image` (the image's `pkg:oci` purl,
/// when it has one). Of statements with equal times, the later one read wins.
#[must_use]
pub fn decide<'a>(
    documents: &'a [VexDocument],
    finding: &Finding,
    image: Option<&PurlSelector>,
) -> Option<Decision<'a>> {
    let package = finding
        .package
        .purl
        .as_deref()
        .and_then(PurlSelector::parse)?;
    let names_it = |s: &Statement| {
        std::iter::once(&s.vulnerability)
            .chain(&s.aliases)
            .any(|v| {
                finding.id.eq_ignore_ascii_case(v)
                    || finding.aliases.iter().any(|a| a.eq_ignore_ascii_case(v))
            })
    };
    let covers = |p: &Product| {
        let on_image = image.is_some_and(|i| p.id.selects(i));
        if p.subcomponents.is_empty() {
            on_image || p.id.selects(&package)
        } else {
            on_image && p.subcomponents.iter().any(|c| c.selects(&package))
        }
    };
    let mut best: Option<Decision<'a>> = None;
    for document in documents {
        for statement in &document.statements {
            if !names_it(statement) || !statement.products.iter().any(covers) {
                continue;
            }
            if best.is_none_or(|b| statement.timestamp >= b.statement.timestamp) {
                best = Some(Decision {
                    document,
                    statement,
                });
            }
        }
    }
    best
}

/// A document the scan read, and what came of it.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct VexDocumentSummary {
    /// Where it came from.
    pub source: String,
    /// Its format.
    pub format: VexFormat,
    /// Its author or publisher.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub author: Option<String>,
    /// How many statements it has.
    pub statements: usize,
    /// How many findings it suppressed.
    pub suppressed: usize,
    /// What in it was not applied, and why.
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub warnings: Vec<String>,
}

/// A finding a statement suppressed.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct VexApplied {
    /// The finding's vulnerability.
    pub vulnerability: String,
    /// Its package (`name@version`).
    pub package: String,
    /// `not_affected` or `fixed`.
    pub status: VexStatus,
    /// Why, as the document says.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub justification: Option<String>,
    /// The document.
    pub source: String,
}

/// A VEX document that was found but not used, and why (an attestation whose signer the
/// trust policy does not accept).
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct VexIgnored {
    /// Where it was.
    pub source: String,
    /// A stable reason code (`signature-untrusted`, `no-trust-policy`, …).
    pub code: String,
    /// For people.
    pub detail: String,
}

/// What the scan's VEX did.
#[derive(Debug, Clone, Default, PartialEq, Serialize)]
pub struct VexReport {
    /// The documents read.
    pub documents: Vec<VexDocumentSummary>,
    /// The findings they suppressed.
    pub suppressed: Vec<VexApplied>,
    /// Documents found and not used.
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub ignored: Vec<VexIgnored>,
}

/// Marks each finding the latest statement about it says is `not_affected` or `fixed` as
/// suppressed ([`Suppression::Vex`](customs_match::Suppression::Vex)). Findings the vendor
/// already suppressed keep the vendor's reason. `image` is the image's `pkg:oci` purl.
pub fn apply(
    documents: &[VexDocument],
    findings: &mut [Finding],
    image: Option<&str>,
) -> VexReport {
    let image = image.and_then(PurlSelector::parse);
    let mut report = VexReport {
        documents: documents
            .iter()
            .map(|d| VexDocumentSummary {
                source: d.source.clone(),
                format: d.format,
                author: d.author.clone(),
                statements: d.statements.len(),
                suppressed: 0,
                warnings: d.warnings.clone(),
            })
            .collect(),
        ..VexReport::default()
    };
    for f in findings.iter_mut().filter(|f| f.suppressed.is_none()) {
        let Some(d) = decide(documents, f, image.as_ref()) else {
            continue;
        };
        let s = d.statement;
        if !s.status.suppresses() {
            continue;
        }
        let why = s
            .justification
            .as_deref()
            .or(s.impact.as_deref())
            .map(|j| format!(" ({j})"))
            .unwrap_or_default();
        let by = d
            .document
            .author
            .as_deref()
            .map(|a| format!(" by {a}"))
            .unwrap_or_default();
        f.suppressed = Some(customs_match::Suppression::Vex {
            reason: format!("{}{why}{by} in {}", s.status, d.document.source),
        });
        if let Some(n) = documents.iter().position(|x| std::ptr::eq(x, d.document)) {
            report.documents[n].suppressed += 1;
        }
        report.suppressed.push(VexApplied {
            vulnerability: f.id.clone(),
            package: format!("{}@{}", f.package.name, f.package.version),
            status: s.status,
            justification: s.justification.clone().or_else(|| s.impact.clone()),
            source: d.document.source.clone(),
        });
    }
    report
}

/// What [`export`] wrote.
#[derive(Debug, Clone)]
pub struct Exported {
    /// The OpenVEX 0.2 document.
    pub document: Value,
    /// How many statements it has.
    pub statements: usize,
    /// Findings left out because their package has no purl.
    pub without_purl: usize,
}

/// OpenVEX 0.2 for the findings an exception covers (`Suppression::Excepted`) and those the
/// vendor says are not affected, as `not_affected` statements about the packages inside the
/// image (`image`, its `pkg:oci` purl; without one, about the packages themselves). Fed back
/// with `scan --vex`, it suppresses those findings and no others. The `@id` is derived from the
/// statements, so the same findings give the same document.
#[must_use]
pub fn export(findings: &[Finding], image: Option<&str>, author: &str, now: Timestamp) -> Exported {
    use customs_match::Suppression;
    use sha2::Digest as _;
    // One statement per vulnerability and reason, with every package it is said of.
    let mut statements: Vec<(String, Vec<String>, String, Vec<String>)> = Vec::new();
    let mut without_purl = 0;
    for f in findings {
        let impact = match &f.suppressed {
            Some(Suppression::NotAffected { reason }) => reason.clone().unwrap_or_else(|| {
                format!("{} says the package is not affected", f.data_source.feed)
            }),
            Some(Suppression::Excepted { reason }) => format!("risk accepted by {reason}"),
            _ => continue,
        };
        let Some(purl) = f.package.purl.clone() else {
            without_purl += 1;
            continue;
        };
        match statements
            .iter_mut()
            .find(|(id, _, i, _)| *id == f.id && *i == impact)
        {
            Some((_, _, _, purls)) if !purls.contains(&purl) => purls.push(purl),
            Some(_) => {}
            None => statements.push((f.id.clone(), f.aliases.clone(), impact, vec![purl])),
        }
    }
    // The digest names the image: a `tag` qualifier would tie the statements to one name of it.
    let image = image.map(|i| {
        i.parse::<packageurl::PackageUrl<'_>>()
            .ok()
            .and_then(|p| {
                let mut q =
                    packageurl::PackageUrl::new(p.ty().to_owned(), p.name().to_owned()).ok()?;
                if let Some(v) = p.version() {
                    q.with_version(v.to_owned()).ok()?;
                }
                for (k, v) in p.qualifiers() {
                    if k.as_ref() != "tag" {
                        q.add_qualifier(k.to_string(), v.to_string()).ok()?;
                    }
                }
                Some(q.to_string())
            })
            .unwrap_or_else(|| i.to_owned())
    });
    let list: Vec<Value> = statements
        .iter()
        .map(|(id, aliases, impact, purls)| {
            let subjects: Vec<Value> = purls
                .iter()
                .map(|p| serde_json::json!({ "@id": p }))
                .collect();
            let products = match &image {
                Some(i) => serde_json::json!([{ "@id": i, "subcomponents": subjects }]),
                None => Value::Array(subjects),
            };
            let mut vulnerability = serde_json::json!({ "name": id });
            let mut aliases = aliases.clone();
            aliases.sort();
            aliases.dedup();
            aliases.retain(|a| a != id);
            if !aliases.is_empty() {
                vulnerability["aliases"] = serde_json::json!(aliases);
            }
            serde_json::json!({
                "vulnerability": vulnerability,
                "products": products,
                "status": "not_affected",
                "impact_statement": impact,
            })
        })
        .collect();
    let hash = sha2::Sha256::digest(serde_json::to_vec(&list).unwrap_or_default());
    let document = serde_json::json!({
        "@context": "https://openvex.dev/ns/v0.2.0",
        "@id": format!("urn:customs:vex:sha256:{}", hex::encode(hash)),
        "author": author,
        "role": "customs vex export",
        "timestamp": now.to_string(),
        "version": 1,
        "tooling": concat!("customs ", env!("CARGO_PKG_VERSION")),
        "statements": list,
    });
    Exported {
        statements: statements.len(),
        document,
        without_purl,
    }
}
