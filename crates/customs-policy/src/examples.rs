//! Examples written inside a policy file (`examples:`), each an input and the verdict it must
//! get: `customs policy test` runs them, so a policy's intent is checked with the policy.
//!
//! ```yaml
//! examples:
//!   - name: a fixable critical fails
//!     now: 2026-12-01                # the clock (default: when the test runs)
//!     repository: registry.example/app/web
//!     signed: true                   # the trust policy's verdict; left out: unknown
//!     created: 2026-11-01            # the image's creation time; left out: unknown
//!     digest: sha256:…               # the manifest digest; left out: none
//!     base-layers: 2                 # layers 0 and 1 are the base image's; left out: unknown
//!     findings:
//!       - {id: CVE-2024-1, package: openssl, version: 3.0.1, ecosystem: deb,
//!          severity: critical, fixed: 3.0.2, fixed-on: 2026-10-01, layer: 0,
//!          kev: true, epss: 0.7}
//!     packages:
//!       - {name: openssl, version: 3.0.1, ecosystem: deb, licenses: [Apache-2.0],
//!          paths: [/var/lib/dpkg/status]}
//!     scanners: [vuln, secret, config, file]   # which ran; left out: all four
//!     detections:                    # kind from the code's prefix unless `kind:` is given
//!       - {code: secret-aws-access-key, severity: high, path: /app/.env, line: 3, layer: 1}
//!       - {code: secret-in-layer-history, severity: high, path: /root/.npmrc, layer: 1,
//!          removed-in: 2}
//!     skipped: {config-no-healthcheck: 1}      # detections --skip-check/--skip-path removed
//!     expect:
//!       outcome: fail                # pass, warn or fail
//!       codes: [finding]             # optional: the violation codes, as a set
//!       rules: [fixable-critical]    # optional: the rules that matched, as a set
//! ```

use std::collections::{BTreeMap, BTreeSet};

use customs_detect::{Detection, DetectionKind, Scanners};

use customs_match::{
    DataSource, Finding, FindingStatus, FixDate, FixDateSource, PackageRef, Suppression,
};
use customs_types::{Ecosystem, Feed, Namespace, Severity, Timestamp};
use serde::{Deserialize, Serialize};
use serde_saphyr::{Location, Spanned};

use crate::PolicyError;
use crate::detections::Detections;
use crate::eval::{BaseImage, Input, Outcome, PackageFact, ViolationCode, evaluate};
use crate::file::Policy;

/// One example of a policy file.
#[derive(Debug)]
pub struct Example {
    /// Its name.
    pub name: String,
    /// Its line in the file.
    pub line: u64,
    now: Option<Timestamp>,
    repository: Option<String>,
    signed: Option<bool>,
    created: Option<Timestamp>,
    digest: Option<String>,
    base: Option<BaseImage>,
    findings: Vec<Finding>,
    packages: Vec<PackageFact>,
    scanners: Scanners,
    detections: Vec<Detection>,
    skipped: BTreeMap<String, usize>,
    expect: Expectation,
}

/// What an example must get.
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Expectation {
    /// The outcome.
    pub outcome: Outcome,
    /// The violation codes, as a set, when given.
    #[serde(default)]
    pub codes: Option<BTreeSet<ViolationCode>>,
    /// The rules that matched, as a set, when given.
    #[serde(default)]
    pub rules: Option<BTreeSet<String>>,
}

/// What running one example gave.
#[derive(Debug, Clone, Serialize)]
pub struct ExampleResult {
    /// Its name.
    pub name: String,
    /// Its line in the file.
    pub line: u64,
    /// Whether it got what it expects.
    pub passed: bool,
    /// The outcome it got.
    pub outcome: Outcome,
    /// The violation codes it got.
    pub codes: BTreeSet<ViolationCode>,
    /// The rules that matched.
    pub rules: BTreeSet<String>,
    /// How it differs from what it expects.
    pub problems: Vec<String>,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields, rename_all = "kebab-case")]
pub(crate) struct ExampleDoc {
    name: String,
    #[serde(default)]
    now: Option<Spanned<String>>,
    #[serde(default)]
    repository: Option<String>,
    #[serde(default)]
    signed: Option<bool>,
    #[serde(default)]
    created: Option<Spanned<String>>,
    #[serde(default)]
    digest: Option<Spanned<String>>,
    #[serde(default)]
    base_layers: Option<usize>,
    #[serde(default)]
    findings: Vec<Spanned<FindingDoc>>,
    #[serde(default)]
    packages: Vec<PackageDoc>,
    #[serde(default)]
    scanners: Option<Spanned<Vec<String>>>,
    #[serde(default)]
    detections: Vec<Spanned<DetectionDoc>>,
    #[serde(default)]
    skipped: BTreeMap<String, usize>,
    expect: Expectation,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields, rename_all = "kebab-case")]
struct DetectionDoc {
    code: String,
    #[serde(default)]
    kind: Option<DetectionKind>,
    #[serde(default = "unknown")]
    severity: Severity,
    #[serde(default)]
    path: Option<String>,
    #[serde(default)]
    line: Option<usize>,
    #[serde(default)]
    layer: Option<usize>,
    #[serde(default)]
    removed_in: Option<usize>,
}

fn default_version() -> String {
    "1".to_owned()
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields, rename_all = "kebab-case")]
struct FindingDoc {
    id: String,
    #[serde(default)]
    aliases: Vec<String>,
    package: String,
    #[serde(default = "default_version")]
    version: String,
    #[serde(default = "default_ecosystem")]
    ecosystem: Ecosystem,
    #[serde(default)]
    purl: Option<String>,
    #[serde(default = "unknown")]
    severity: Severity,
    #[serde(default)]
    fixed: Option<String>,
    #[serde(default)]
    fixed_on: Option<Spanned<String>>,
    #[serde(default)]
    layer: Option<usize>,
    #[serde(default)]
    kev: bool,
    #[serde(default)]
    epss: Option<f64>,
    #[serde(default)]
    suppressed: Option<String>,
}

fn unknown() -> Severity {
    Severity::Unknown
}

fn default_ecosystem() -> Ecosystem {
    Ecosystem::Deb
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct PackageDoc {
    name: String,
    #[serde(default = "default_version")]
    version: String,
    #[serde(default = "default_ecosystem")]
    ecosystem: Ecosystem,
    #[serde(default)]
    purl: Option<String>,
    #[serde(default)]
    licenses: Vec<String>,
    #[serde(default)]
    paths: Vec<String>,
}

fn time(
    s: Option<&Spanned<String>>,
    at: &dyn Fn(&Location, String) -> PolicyError,
) -> Result<Option<Timestamp>, PolicyError> {
    s.map(|t| {
        Timestamp::parse_lenient(&t.value)
            .map_err(|_| at(&t.referenced, format!("{:?} is not a time", t.value)))
    })
    .transpose()
}

pub(crate) fn example(
    e: Spanned<ExampleDoc>,
    at: &dyn Fn(&Location, String) -> PolicyError,
) -> Result<Example, PolicyError> {
    let line = e.referenced.line();
    let e = e.value;
    let mut findings = Vec::new();
    for f in e.findings {
        let loc = f.referenced;
        let f = f.value;
        let suppressed = f
            .suppressed
            .map(|s| s.parse::<Suppression>())
            .transpose()
            .map_err(|err| at(&loc, err.to_string()))?;
        if let Some(x) = f.epss
            && !(0.0..=1.0).contains(&x)
        {
            return Err(at(
                &loc,
                format!("epss {x}: an EPSS probability is between 0 and 1"),
            ));
        }
        let namespace = Namespace::osv("example").map_err(|err| at(&loc, err.to_string()))?;
        let fix_date = match (&f.fixed, time(f.fixed_on.as_ref(), at)?) {
            (Some(_), Some(t)) => Some(FixDate {
                date: t.date(),
                source: FixDateSource::Advisory,
            }),
            (None, Some(_)) => {
                return Err(at(
                    &loc,
                    "fixed-on without fixed: no fix to date".to_owned(),
                ));
            }
            (_, None) => None,
        };
        findings.push(Finding {
            id: f.id,
            aliases: f.aliases,
            package: PackageRef {
                name: f.package.clone(),
                version: f.version.clone(),
                ecosystem: f.ecosystem,
                purl: f.purl,
                source_name: None,
                source_version: None,
                layer: None,
                layer_index: f.layer,
            },
            installed_version: f.version,
            status: if f.fixed.is_some() {
                FindingStatus::Fixed
            } else {
                FindingStatus::Affected
            },
            fixed_versions: f.fixed.into_iter().collect(),
            fix_date,
            suppressed,
            severity: f.severity,
            severity_source: None,
            cvss: None,
            kev: f.kev.then_some(customs_vulndb::Kev {
                date_added: None,
                due_date: None,
                ransomware: None,
                name: None,
            }),
            epss: f.epss.map(|p| customs_vulndb::Epss {
                probability: p,
                percentile: 0.0,
            }),
            title: None,
            note: None,
            data_source: DataSource {
                feed: Feed::Osv,
                record: format!("policy example {line}"),
                namespace,
                package: f.package,
            },
        });
    }
    let scanners = match &e.scanners {
        None => Scanners::default(),
        Some(list) => {
            Scanners::parse(&list.value.join(",")).map_err(|err| at(&list.referenced, err))?
        }
    };
    let mut detections = Vec::new();
    for d in e.detections {
        let loc = d.referenced;
        let d = d.value;
        let kind = d
            .kind
            .or_else(|| {
                [
                    DetectionKind::Secret,
                    DetectionKind::Config,
                    DetectionKind::File,
                ]
                .into_iter()
                .find(|k| d.code.starts_with(&format!("{}-", k.as_str())))
            })
            .ok_or_else(|| {
                at(
                    &loc,
                    format!(
                        "detection {:?}: its code names no kind (secret-, config-, file-); give kind:",
                        d.code
                    ),
                )
            })?;
        let path = d.path.unwrap_or_else(|| "/".to_owned());
        detections.push(Detection {
            title: d.code.clone(),
            message: format!("policy example {line}"),
            code: d.code,
            kind,
            severity: d.severity,
            location: customs_detect::Location {
                layer: None,
                layer_index: d.layer,
                path: path.clone(),
                line: d.line,
            },
            removed_in: d.removed_in.map(|i| customs_detect::Location {
                layer: None,
                layer_index: Some(i),
                path,
                line: None,
            }),
            evidence: None,
            references: Vec::new(),
        });
    }
    Ok(Example {
        name: e.name,
        line,
        now: time(e.now.as_ref(), at)?,
        repository: e.repository,
        signed: e.signed,
        created: time(e.created.as_ref(), at)?,
        digest: e
            .digest
            .map(|d| {
                d.value
                    .parse::<customs_types::Digest>()
                    .map(|x| x.to_string())
                    .map_err(|err| at(&d.referenced, format!("digest {:?}: {err}", d.value)))
            })
            .transpose()?,
        base: e.base_layers.map(|layers| BaseImage {
            layers,
            digest: None,
            names: Vec::new(),
        }),
        findings,
        packages: e
            .packages
            .into_iter()
            .map(|p| PackageFact {
                name: p.name,
                version: p.version,
                ecosystem: p.ecosystem,
                purl: p.purl,
                licenses: p.licenses,
                paths: p.paths,
            })
            .collect(),
        scanners,
        detections,
        skipped: e.skipped,
        expect: e.expect,
    })
}

impl Policy {
    /// Runs the file's examples; those without a clock of their own are judged at `now`.
    #[must_use]
    pub fn run_examples(&self, now: Timestamp) -> Vec<ExampleResult> {
        self.examples
            .iter()
            .map(|e| {
                let v = evaluate(
                    self,
                    &Input {
                        findings: &e.findings,
                        repository: e.repository.as_deref(),
                        signed: e.signed,
                        now: e.now.unwrap_or(now),
                        packages: &e.packages,
                        created: e.created,
                        digest: e.digest.as_deref(),
                        base: e.base.as_ref(),
                        detections: Detections {
                            found: &e.detections,
                            scanners: e.scanners,
                            skipped: &e.skipped,
                        },
                    },
                );
                let codes: BTreeSet<ViolationCode> = v.violations.iter().map(|x| x.code).collect();
                let rules: BTreeSet<String> = v.violations.iter().map(|x| x.rule.clone()).collect();
                let mut problems = Vec::new();
                if v.outcome != e.expect.outcome {
                    problems.push(format!(
                        "outcome {}, expected {}",
                        v.outcome.as_str(),
                        e.expect.outcome.as_str()
                    ));
                }
                if let Some(want) = &e.expect.codes
                    && *want != codes
                {
                    problems.push(format!("codes {codes:?}, expected {want:?}"));
                }
                if let Some(want) = &e.expect.rules
                    && *want != rules
                {
                    problems.push(format!("rules {rules:?}, expected {want:?}"));
                }
                ExampleResult {
                    name: e.name.clone(),
                    line: e.line,
                    passed: problems.is_empty(),
                    outcome: v.outcome,
                    codes,
                    rules,
                    problems,
                }
            })
            .collect()
    }
}
