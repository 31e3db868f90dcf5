//! SARIF 2.1.0, as code-scanning dashboards (GitHub's among them) read it: one rule per
//! vulnerability id with `security-severity`, one result per finding with a level from its
//! severity, the package's path in the image as its location, and `partialFingerprints` from
//! (id, purl, path) so that uploading the same scan again adds nothing.
//!
//! Secret, config and file detections the same way: one rule per code (tagged `security` and
//! the kind), one result per detection located at its path in the image (without the leading
//! `/`) with the line of a secret as `region.startLine` and its redacted evidence as the
//! region's snippet; a location in the config (`config:Env NAME`, `history[7].created_by`) is
//! the image, as for a package without a file, with the config location as a logical
//! location. Each result's `properties` name its layer (and for `secret-in-layer-history` the
//! layer that removed the file).

use std::collections::BTreeMap;

use customs_match::Finding;
use customs_types::{Ecosystem, Severity};
use serde::Serialize;

use crate::cyclonedx::advisory_url;
use crate::ids::{ImageName, PackageRefs, sha256_hex};
use crate::output::DocOptions;
use crate::report::{Filter, Outcome, ScanReport, ShownDetection};

mod detections;
use detections::{detection_result, detection_rule, rule_texts};

/// GitHub's limit on results per run: more are refused on upload.
pub const MAX_RESULTS: usize = 25_000;
/// GitHub's limit on an upload's size, which it counts gzip-compressed (the upload action
/// compresses the file); customs measures the document the same way.
pub const MAX_BYTES: usize = 10 * 1024 * 1024;

const SCHEMA: &str = "https://json.schemastore.org/sarif-2.1.0.json";
const INFORMATION_URI: &str = "https://example.invalid/customs";

#[derive(Serialize)]
struct Log {
    #[serde(rename = "$schema")]
    schema: &'static str,
    version: &'static str,
    runs: Vec<Run>,
}

#[derive(Serialize)]
#[serde(rename_all = "camelCase")]
struct Run {
    tool: Tool,
    results: Vec<SarifResult>,
    invocations: Vec<Invocation>,
    original_uri_base_ids: BTreeMap<&'static str, ArtifactLocation>,
    column_kind: &'static str,
    properties: BTreeMap<&'static str, serde_json::Value>,
}

#[derive(Serialize)]
struct Tool {
    driver: Driver,
}

#[derive(Serialize)]
#[serde(rename_all = "camelCase")]
struct Driver {
    name: &'static str,
    version: String,
    semantic_version: String,
    information_uri: &'static str,
    rules: Vec<Rule>,
}

#[derive(Serialize)]
#[serde(rename_all = "camelCase")]
struct Rule {
    id: String,
    name: String,
    short_description: Text,
    full_description: Text,
    default_configuration: Configuration,
    #[serde(skip_serializing_if = "Option::is_none")]
    help_uri: Option<String>,
    help: Help,
    properties: RuleProperties,
}

#[derive(Serialize)]
struct Text {
    text: String,
}

#[derive(Serialize)]
struct Help {
    text: String,
    markdown: String,
}

#[derive(Serialize)]
struct Configuration {
    level: &'static str,
}

#[derive(Serialize)]
#[serde(rename_all = "kebab-case")]
struct RuleProperties {
    #[serde(skip_serializing_if = "Option::is_none")]
    security_severity: Option<String>,
    precision: &'static str,
    tags: Vec<String>,
}

#[derive(Serialize)]
#[serde(rename_all = "camelCase")]
struct SarifResult {
    rule_id: String,
    rule_index: usize,
    level: &'static str,
    message: Text,
    locations: Vec<Location>,
    partial_fingerprints: BTreeMap<&'static str, String>,
    #[serde(skip_serializing_if = "serde_json::Map::is_empty")]
    properties: serde_json::Map<String, serde_json::Value>,
}

#[derive(Serialize)]
#[serde(rename_all = "camelCase")]
struct Location {
    physical_location: PhysicalLocation,
    #[serde(skip_serializing_if = "Vec::is_empty")]
    logical_locations: Vec<LogicalLocation>,
    message: Text,
}

/// Where in the image's config a detection is (`config:Env NAME`, `history[7].created_by`).
#[derive(Serialize)]
#[serde(rename_all = "camelCase")]
struct LogicalLocation {
    fully_qualified_name: String,
    kind: &'static str,
}

#[derive(Serialize)]
#[serde(rename_all = "camelCase")]
struct PhysicalLocation {
    artifact_location: ArtifactLocation,
    region: Region,
}

#[derive(Serialize)]
#[serde(rename_all = "camelCase")]
struct ArtifactLocation {
    uri: String,
    #[serde(skip_serializing_if = "Option::is_none")]
    uri_base_id: Option<&'static str>,
}

#[derive(Serialize)]
#[serde(rename_all = "camelCase")]
struct Region {
    start_line: usize,
    #[serde(skip_serializing_if = "Option::is_none")]
    start_column: Option<usize>,
    #[serde(skip_serializing_if = "Option::is_none")]
    end_line: Option<usize>,
    #[serde(skip_serializing_if = "Option::is_none")]
    end_column: Option<usize>,
    #[serde(skip_serializing_if = "Option::is_none")]
    snippet: Option<Text>,
}

#[derive(Serialize)]
#[serde(rename_all = "camelCase")]
struct Invocation {
    execution_successful: bool,
    #[serde(skip_serializing_if = "Vec::is_empty")]
    tool_execution_notifications: Vec<Notification>,
}

#[derive(Serialize)]
struct Notification {
    level: &'static str,
    message: Text,
}

/// SARIF's level for a severity: critical and high are errors, medium a warning, the rest
/// notes.
#[must_use]
pub fn level(s: Severity) -> &'static str {
    match s {
        Severity::Critical | Severity::High => "error",
        Severity::Medium => "warning",
        Severity::Low | Severity::Negligible | Severity::Unknown => "note",
    }
}

/// GitHub's `security-severity` (a CVSS-like score it buckets at 9.0, 7.0 and 4.0): the CVSS
/// base score when the finding has one whose band agrees with its severity, else the middle
/// of the severity's band. `None` for an unknown severity, which GitHub then does not rank.
fn security_severity(f: &Finding) -> Option<String> {
    if let Some(score) = f.cvss.as_ref().and_then(|c| c.score)
        && Severity::from_cvss_score(score) == f.severity
    {
        return Some(format!("{score:.1}"));
    }
    band_middle(f.severity)
}

/// The middle of a severity's `security-severity` band; `None` for an unknown severity.
fn band_middle(s: Severity) -> Option<String> {
    let mid = match s {
        Severity::Critical => 9.5,
        Severity::High => 8.0,
        Severity::Medium => 5.5,
        Severity::Low => 2.0,
        Severity::Negligible => 0.1,
        Severity::Unknown => return None,
    };
    Some(format!("{mid:.1}"))
}

/// Where a package lives in the image, as a path relative to the filesystem root: its own
/// file for a language package, the database that lists it for an OS package.
fn package_path(report: &ScanReport, refs: &PackageRefs, f: &Finding) -> String {
    let p = refs
        .index_of(&f.package)
        .and_then(|i| report.inventory.packages.get(i));
    let path = p.map_or("", |p| {
        if p.ecosystem.is_os() {
            p.found_in.as_str()
        } else {
            p.paths.first().map_or(p.found_in.as_str(), String::as_str)
        }
    });
    let path = path.trim_start_matches('/');
    if path.is_empty() {
        "image".to_owned()
    } else {
        path.to_owned()
    }
}

fn rule_name(e: Ecosystem) -> &'static str {
    if e.is_os() {
        "OsPackageVulnerability"
    } else {
        "LanguagePackageVulnerability"
    }
}

/// One result to write: a finding or a detection.
#[derive(Clone, Copy)]
enum Item<'a> {
    Finding(&'a Finding),
    Detection(&'a ShownDetection<'a>),
}

impl Item<'_> {
    fn severity(&self) -> Severity {
        match self {
            Self::Finding(f) => f.severity,
            Self::Detection(d) => d.detection.severity,
        }
    }
}

/// The SARIF 2.1.0 log of `report`'s findings and detections that `filter` shows, within
/// GitHub's limits: past [`MAX_RESULTS`] results or [`MAX_BYTES`] bytes the worst are kept
/// and a notification in the run's invocation says how many were left out.
///
/// # Errors
/// Serialization failures (none in practice).
pub fn write(
    report: &ScanReport,
    filter: &Filter,
    opts: &DocOptions,
) -> serde_json::Result<String> {
    let view = report.view(filter);
    let mut items: Vec<Item<'_>> = view
        .shown
        .iter()
        .map(|f| Item::Finding(f))
        .chain(view.detections.iter().map(Item::Detection))
        .collect();
    // Worst first, so truncation drops the least severe.
    items.sort_by_key(|i| std::cmp::Reverse(i.severity()));
    let total = Totals {
        findings: view.shown.len(),
        detections: view.detections.len(),
    };
    let mut keep = items.len().min(MAX_RESULTS);
    loop {
        let out = render(report, &items[..keep], total, opts)?;
        let size = gzip_size(out.as_bytes());
        if size <= MAX_BYTES || keep == 0 {
            return Ok(out);
        }
        // Scale down by how far over the limit the document is, with a margin for the rules
        // that go with the results.
        let ratio = MAX_BYTES as f64 / size as f64;
        keep = ((keep as f64 * ratio * 0.95) as usize).min(keep - 1);
    }
}

/// The size of `bytes` gzip-compressed, as GitHub counts an upload.
#[must_use]
pub fn gzip_size(bytes: &[u8]) -> usize {
    use std::io::Write as _;
    struct Count(usize);
    impl std::io::Write for Count {
        fn write(&mut self, b: &[u8]) -> std::io::Result<usize> {
            self.0 += b.len();
            Ok(b.len())
        }
        fn flush(&mut self) -> std::io::Result<()> {
            Ok(())
        }
    }
    let mut gz = flate2::write::GzEncoder::new(Count(0), flate2::Compression::default());
    // Writing to a counter cannot fail.
    let _ = gz.write_all(bytes);
    gz.finish().map_or(usize::MAX, |c| c.0)
}

/// How many findings and detections the filter shows, written or not.
#[derive(Clone, Copy)]
struct Totals {
    findings: usize,
    detections: usize,
}

fn render(
    report: &ScanReport,
    items: &[Item<'_>],
    total: Totals,
    opts: &DocOptions,
) -> serde_json::Result<String> {
    let image = ImageName::of(&report.inventory);
    let refs = PackageRefs::new(&report.inventory.packages);
    let mut rules: Vec<Rule> = Vec::new();
    let mut rule_index: BTreeMap<&str, usize> = BTreeMap::new();
    let mut results = Vec::with_capacity(items.len());
    let (mut findings_written, mut detections_written) = (0_usize, 0_usize);
    let texts = rule_texts(items.iter().filter_map(|i| match i {
        Item::Detection(d) => Some(d.detection),
        Item::Finding(_) => None,
    }));
    for item in items {
        let f = match item {
            Item::Finding(f) => *f,
            Item::Detection(d) => {
                let index = *rule_index
                    .entry(d.detection.code.as_str())
                    .or_insert_with(|| {
                        rules.push(detection_rule(
                            d.detection,
                            &texts[d.detection.code.as_str()],
                        ));
                        rules.len() - 1
                    });
                results.push(detection_result(&image, d, index));
                detections_written += 1;
                continue;
            }
        };
        findings_written += 1;
        let index = *rule_index.entry(f.id.as_str()).or_insert_with(|| {
            rules.push(rule(f));
            rules.len() - 1
        });
        let path = package_path(report, &refs, f);
        let fixed = if f.fixed_versions.is_empty() {
            "no fixed version".to_owned()
        } else {
            format!("fixed in {}", f.fixed_versions.join(", "))
        };
        let mut text = format!(
            "{} {}@{} ({}): {} severity, {}",
            f.id, f.package.name, f.package.version, f.package.ecosystem, f.severity, fixed
        );
        if let Some(s) = &f.suppressed {
            text.push_str(&format!("; suppressed: {s}"));
        }
        let purl = f.package.purl.as_deref().unwrap_or(&f.package.name);
        let mut fingerprints = BTreeMap::new();
        fingerprints.insert(
            "customsFinding/v1",
            sha256_hex(format!("{}\n{purl}\n{path}", f.id).as_bytes()),
        );
        results.push(SarifResult {
            rule_id: f.id.clone(),
            rule_index: index,
            level: level(f.severity),
            message: Text { text },
            locations: vec![location(
                path,
                format!(
                    "{}: {}@{}",
                    image.display(),
                    f.package.name,
                    f.package.version
                ),
            )],
            partial_fingerprints: fingerprints,
            properties: serde_json::Map::new(),
        });
    }
    // An image the trust policy does not clear is a result of its own, as severe as the
    // policy's mode: enforce is an error, warn a warning; pass and skip are in the properties.
    if let Some(v) = &report.signature
        && matches!(v.outcome, Outcome::Fail | Outcome::Warn)
    {
        let level = if v.outcome == Outcome::Fail {
            "error"
        } else {
            "warning"
        };
        let index = rules.len();
        rules.push(signature_rule(level));
        let mut fingerprints = BTreeMap::new();
        fingerprints.insert(
            "customsSignature/v1",
            sha256_hex(format!("{}\n{}", v.digest, v.policy.as_deref().unwrap_or("")).as_bytes()),
        );
        let mut text = format!(
            "{}@{} is not signed as its trust policy requires: {}",
            v.reference,
            v.digest,
            v.summary()
        );
        for a in v.authority_lines() {
            text.push_str("; ");
            text.push_str(&a);
        }
        results.push(SarifResult {
            rule_id: SIGNATURE_RULE.to_owned(),
            rule_index: index,
            level,
            message: Text { text },
            // A relative reference: the colon of a registry's port would read as a scheme.
            locations: vec![location(
                image.name.replace(':', "%3A"),
                format!("{}@{}", v.reference, v.digest),
            )],
            partial_fingerprints: fingerprints,
            properties: serde_json::Map::new(),
        });
    }
    let mut notifications = Vec::new();
    let all = total.findings + total.detections;
    if items.len() < all {
        notifications.push(Notification {
            level: "warning",
            message: Text {
                text: format!(
                    "{} of {all} findings are left out to keep within GitHub's limits ({MAX_RESULTS} results, {MAX_BYTES} bytes); the most severe are kept",
                    all - items.len()
                ),
            },
        });
    }
    let not_run = report.not_run();
    if !not_run.is_empty() {
        notifications.push(Notification {
            level: "note",
            message: Text {
                text: format!(
                    "not scanned for: {} (--scanners {}): no result of that kind means none was looked for",
                    not_run.join(", "),
                    report.scanners.names().join(",")
                ),
            },
        });
    }
    for gap in report.gaps(&[]) {
        notifications.push(Notification {
            level: "error",
            message: Text {
                text: gap.to_string(),
            },
        });
    }
    let mut properties = BTreeMap::new();
    properties.insert("imageName", serde_json::Value::from(image.display()));
    if let Some(d) = &image.digest {
        properties.insert("imageDigest", d.clone().into());
    }
    properties.insert("findingsTotal", total.findings.into());
    properties.insert("findingsWritten", findings_written.into());
    properties.insert("detectionsTotal", total.detections.into());
    properties.insert("detectionsWritten", detections_written.into());
    properties.insert("scanners", report.scanners.names().into());
    if !not_run.is_empty() {
        properties.insert("notScanned", not_run.into());
    }
    if let Some(i) = &report.inventory.inspected
        && report.scanners.secret
    {
        properties.insert(
            "secretScan",
            serde_json::json!({
                "files": i.secrets.files,
                "bytes": i.secrets.bytes,
                "skippedBinary": i.secrets.skipped_binary,
                "skippedLarge": i.secrets.skipped_large,
            }),
        );
    }
    if let Some(v) = &report.policy {
        properties.insert("policyOutcome", v.outcome.as_str().into());
        properties.insert("policyFile", v.policy.clone().into());
        properties.insert("policyViolations", v.violations.len().into());
        properties.insert(
            "policyExceptionsApplied",
            (v.exceptions.len() + v.detection_exceptions.len()).into(),
        );
        properties.insert(
            "policyExceptionsExpired",
            (v.expired.len() + v.detection_expired.len()).into(),
        );
    }
    if let Some(v) = &report.vex {
        properties.insert("vexSuppressed", v.suppressed.len().into());
        properties.insert("vexIgnored", v.ignored.len().into());
    }
    if let Some(v) = &report.signature {
        properties.insert("signatureOutcome", v.outcome.as_str().into());
        properties.insert("signatureDigest", v.digest.clone().into());
        if let Some(p) = &v.policy {
            properties.insert("signaturePolicy", p.clone().into());
        }
        if let Some(c) = &v.code {
            properties.insert("signatureCode", c.clone().into());
        }
    }
    let mut bases = BTreeMap::new();
    bases.insert(
        "ROOTPATH",
        ArtifactLocation {
            uri: "file:///".to_owned(),
            uri_base_id: None,
        },
    );
    let log = Log {
        schema: SCHEMA,
        version: "2.1.0",
        runs: vec![Run {
            tool: Tool {
                driver: Driver {
                    name: "customs",
                    version: opts.tool_version.clone(),
                    semantic_version: opts.tool_version.clone(),
                    information_uri: INFORMATION_URI,
                    rules,
                },
            },
            results,
            invocations: vec![Invocation {
                execution_successful: true,
                tool_execution_notifications: notifications,
            }],
            original_uri_base_ids: bases,
            column_kind: "utf16CodeUnits",
            properties,
        }],
    };
    let mut out = serde_json::to_string_pretty(&log)?;
    out.push('\n');
    Ok(out)
}

/// The first line of `uri` under `ROOTPATH`: findings and signatures have no lines of their own.
fn location(uri: String, message: String) -> Location {
    Location {
        physical_location: PhysicalLocation {
            artifact_location: ArtifactLocation {
                uri,
                uri_base_id: Some("ROOTPATH"),
            },
            region: Region {
                start_line: 1,
                start_column: Some(1),
                end_line: Some(1),
                end_column: Some(1),
                snippet: None,
            },
        },
        logical_locations: Vec::new(),
        message: Text { text: message },
    }
}

/// The rule of an image that its trust policy does not clear.
const SIGNATURE_RULE: &str = "customs/image-signature";

fn signature_rule(level: &'static str) -> Rule {
    let text = "The image is not signed as its trust policy requires".to_owned();
    Rule {
        id: SIGNATURE_RULE.to_owned(),
        name: "ImageSignature".to_owned(),
        short_description: Text { text: text.clone() },
        full_description: Text {
            text: "customs verified the image's cosign and Notation signatures against the \
                   trust policy given with --trust-policy, and the policy's authorities did not \
                   sign the digest that was scanned."
                .to_owned(),
        },
        default_configuration: Configuration { level },
        help_uri: None,
        help: Help {
            text: format!(
                "{text}. The result names the policy, the reason code and each authority."
            ),
            markdown: format!(
                "**{text}.** The result names the policy, the reason code and each authority."
            ),
        },
        properties: RuleProperties {
            security_severity: None,
            precision: "very-high",
            tags: vec!["security".to_owned(), "supply-chain".to_owned()],
        },
    }
}

fn rule(f: &Finding) -> Rule {
    let title = f.title.clone().unwrap_or_else(|| f.id.clone());
    let short: String = title.chars().take(200).collect();
    let url = advisory_url(&f.id);
    let link = url
        .as_ref()
        .map(|u| format!("\n[{}]({u})", f.id))
        .unwrap_or_default();
    Rule {
        id: f.id.clone(),
        name: rule_name(f.package.ecosystem).to_owned(),
        short_description: Text { text: short },
        full_description: Text {
            text: title.clone(),
        },
        default_configuration: Configuration {
            level: level(f.severity),
        },
        help_uri: url,
        help: Help {
            text: format!("Vulnerability {}\nSeverity: {}\n{title}", f.id, f.severity),
            markdown: format!(
                "**Vulnerability {}**\n\nSeverity: {}\n\n{title}{link}",
                f.id, f.severity
            ),
        },
        properties: RuleProperties {
            security_severity: security_severity(f),
            precision: "very-high",
            tags: vec![
                "vulnerability".to_owned(),
                "security".to_owned(),
                f.severity.to_string(),
            ],
        },
    }
}
