//! A policy applied to one scan's findings, detections and image facts.

use customs_match::Finding;
use customs_types::{Ecosystem, Timestamp};
use serde::Serialize;

use crate::detections::{
    AppliedDetectionException, DetectionCover, Detections, ExpiredDetectionException,
};
use crate::file::{
    Action, Exception, FindingConditions, ImageConditions, LayerOrigin, Mode, On, Op, Policy, Rule,
    VersionRange,
};

/// An installed package, as image rules see it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PackageFact {
    /// Its name.
    pub name: String,
    /// Its version.
    pub version: String,
    /// Its ecosystem (how its versions order).
    pub ecosystem: Ecosystem,
    /// Its purl, when known.
    pub purl: Option<String>,
    /// The licences it declares (SPDX ids or expressions).
    pub licenses: Vec<String>,
    /// Where it was read from: the package database for an OS package; for a language
    /// package, every file that names it (exceptions may be scoped to paths).
    pub paths: Vec<String>,
}

/// What the policy is applied to.
#[derive(Debug, Clone, Copy)]
pub struct Input<'a> {
    /// Every finding of the scan, suppressed ones included.
    pub findings: &'a [Finding],
    /// `REGISTRY/REPOSITORY` of the image, when it came from a registry (exceptions may be
    /// scoped to repositories).
    pub repository: Option<&'a str>,
    /// Whether the trust policy's verdict passed; `None` when the scan was not asked to verify
    /// signatures.
    pub signed: Option<bool>,
    /// The clock exceptions expire by and image age is measured at.
    pub now: Timestamp,
    /// Every installed package.
    pub packages: &'a [PackageFact],
    /// When the image was created (its config's `created`), when it says.
    pub created: Option<Timestamp>,
    /// The image's manifest digest (`sha256:…`), when it has one (exceptions may be scoped
    /// to images).
    pub digest: Option<&'a str>,
    /// The image it is built on; `None` when not known, and then a rule over the layer origin
    /// matches either origin.
    pub base: Option<&'a BaseImage>,
    /// The secret, config and file detections, which scanners ran, and what was skipped: a
    /// rule over detections of a scanner that did not run, or of checks that were skipped,
    /// does not pass.
    pub detections: Detections<'a>,
}

/// The image another is built on: its layers are the bottom layers of the other.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct BaseImage {
    /// How many layers, from the bottom, are the base's.
    pub layers: usize,
    /// Its manifest digest, when known.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub digest: Option<String>,
    /// Its names (`REPOSITORY:TAG`), when known.
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub names: Vec<String>,
}

/// The gate's answer.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, serde::Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum Outcome {
    /// No rule matched.
    Pass,
    /// Rules matched, none that fails (or the policy only warns).
    Warn,
    /// A `fail` rule matched under `mode: enforce`.
    Fail,
}

impl Outcome {
    /// Its name: `pass`, `warn`, `fail`.
    #[must_use]
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Pass => "pass",
            Self::Warn => "warn",
            Self::Fail => "fail",
        }
    }
}

/// Why a rule matched.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Serialize, serde::Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum ViolationCode {
    /// A finding met every condition of a findings rule.
    Finding,
    /// An exception would have covered the finding, but it has expired.
    ExceptionExpired,
    /// The image's signatures were judged and did not pass.
    NotSigned,
    /// The rule wants a signature verdict and the scan has none: not known, so not passed.
    SignatureUnknown,
    /// The image is older than the rule allows.
    ImageTooOld,
    /// The rule limits the image's age and the image has no creation time.
    ImageAgeUnknown,
    /// A banned package is installed (at a banned version, or one that cannot be compared).
    BannedPackage,
    /// A package declares a denied licence.
    DeniedLicense,
    /// A `rego:` rule gave a violation.
    Rego,
    /// A `rego:` rule could not be evaluated: not known, so not passed.
    RegoError,
    /// A secret, config or file detection met every condition of a detections rule.
    Detection,
    /// A detections rule selects a kind whose scanner did not run (`--scanners`): not known,
    /// so not passed.
    ScannerNotRun,
    /// Detections a rule could match were removed by `--skip-check` or `--skip-path`: not
    /// judged, so not passed (a policy accepts a risk with an exception, which has a reason).
    DetectionSkipped,
}

impl ViolationCode {
    /// Its name, as the report writes it.
    #[must_use]
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Finding => "finding",
            Self::ExceptionExpired => "exception-expired",
            Self::NotSigned => "not-signed",
            Self::SignatureUnknown => "signature-unknown",
            Self::ImageTooOld => "image-too-old",
            Self::ImageAgeUnknown => "image-age-unknown",
            Self::BannedPackage => "banned-package",
            Self::DeniedLicense => "denied-license",
            Self::Rego => "rego",
            Self::RegoError => "rego-error",
            Self::Detection => "detection",
            Self::ScannerNotRun => "scanner-not-run",
            Self::DetectionSkipped => "detection-skipped",
        }
    }
}

/// One rule's match.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Violation {
    /// The rule's name.
    pub rule: String,
    /// Fail or warn.
    pub action: Action,
    /// Why.
    pub code: ViolationCode,
    /// The vulnerability, for a findings rule.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub vulnerability: Option<String>,
    /// The package (`name@version`), for a findings rule.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub package: Option<String>,
    /// The detection's code (`secret-aws-access-key`), for a detections rule; with
    /// `detection-skipped`, the code that was skipped.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub detection: Option<String>,
    /// Where the detection is (`layer`, `layer_index`, `path`, `line`), for a detections rule.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub location: Option<customs_detect::Location>,
    /// For people.
    pub detail: String,
}

/// An exception that covered findings.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct AppliedException {
    /// The vulnerability it names.
    pub vulnerability: String,
    /// Who accepted the risk, and why.
    pub owner: String,
    /// Why.
    pub reason: String,
    /// Its last day, if it has one.
    pub expires: Option<String>,
    /// The packages (`name@version`) it covered here.
    pub packages: Vec<String>,
    /// Its line in the policy file.
    pub line: u64,
}

/// An exception past its date that would have covered findings.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct ExpiredException {
    /// The vulnerability it names.
    pub vulnerability: String,
    /// Who had accepted the risk.
    pub owner: String,
    /// Its last day.
    pub expired: String,
    /// The packages (`name@version`) it no longer covers.
    pub packages: Vec<String>,
    /// Its line in the policy file.
    pub line: u64,
}

/// The policy's verdict on one scan.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Verdict {
    /// The policy file.
    pub policy: String,
    /// Its mode.
    pub mode: Mode,
    /// Pass, warn or fail.
    pub outcome: Outcome,
    /// Every rule's match, in rule order, then finding order.
    pub violations: Vec<Violation>,
    /// Exceptions that covered findings.
    pub exceptions: Vec<AppliedException>,
    /// Exceptions past their date that would have covered findings.
    pub expired: Vec<ExpiredException>,
    /// Exceptions (`code:`) that covered detections.
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub detection_exceptions: Vec<AppliedDetectionException>,
    /// Exceptions (`code:`) past their date that would have covered detections.
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub detection_expired: Vec<ExpiredDetectionException>,
    /// The per-repository overrides that applied, in file order.
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub overrides: Vec<AppliedOverride>,
    /// The base image layer rules judged by, when one is known and a rule asks.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub base: Option<BaseImage>,
    /// The clock it was judged at (RFC 3339).
    pub evaluated_at: String,
}

/// A per-repository override that applied to the image.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct AppliedOverride {
    /// Its line in the policy file.
    pub line: u64,
    /// Its repository globs.
    pub repositories: Vec<String>,
}

fn package_label(f: &Finding) -> String {
    format!("{}@{}", f.package.name, f.package.version)
}

fn names(f: &Finding) -> impl Iterator<Item = &str> {
    std::iter::once(f.package.name.as_str()).chain(f.package.purl.as_deref())
}

/// Which of a policy's exceptions covers a finding (or, with `E` =
/// [`DetectionException`](crate::DetectionException), a detection).
#[derive(Debug)]
pub enum Covering<'a, E = Exception> {
    /// None does.
    No,
    /// This one, in force.
    Live(&'a E),
    /// Only this one, past its date.
    Expired(&'a E),
}

impl<E> Clone for Covering<'_, E> {
    fn clone(&self) -> Self {
        *self
    }
}

impl<E> Copy for Covering<'_, E> {}

impl Policy {
    /// The exception that covers `f` in the image `input` describes, at its clock: the first
    /// in force, else the first that has expired.
    #[must_use]
    pub fn covering(&self, f: &Finding, input: &Input<'_>) -> Covering<'_> {
        let now = input.now;
        let mut all = self.exceptions.iter().filter(|e| covers(e, f, input));
        let Some(first) = all.next() else {
            return Covering::No;
        };
        std::iter::once(first)
            .chain(all)
            .find(|e| !lapsed(e.expires.as_deref(), now))
            .map_or(Covering::Expired(first), Covering::Live)
    }
}

fn covers(e: &Exception, f: &Finding, input: &Input<'_>) -> bool {
    let id = e.vulnerability.as_str();
    let names_it =
        f.id.eq_ignore_ascii_case(id) || f.aliases.iter().any(|a| a.eq_ignore_ascii_case(id));
    let package = e.packages.is_empty() || e.packages.any_match(names(f));
    // An exception scoped to repositories, images or paths does not cover an image or a
    // package that cannot be placed.
    let repository = e.repositories.is_empty()
        || input
            .repository
            .is_some_and(|r| e.repositories.any_match([r]));
    let image = e.images.is_empty()
        || input
            .digest
            .is_some_and(|d| e.images.iter().any(|i| i == d));
    let path = e.paths.is_empty() || e.paths.any_match(paths_of(f, input.packages));
    names_it && package && repository && image && path
}

/// The paths the finding's package was read from.
fn paths_of<'a>(f: &'a Finding, packages: &'a [PackageFact]) -> impl Iterator<Item = &'a str> {
    packages
        .iter()
        .filter(move |p| {
            p.name == f.package.name
                && p.version == f.package.version
                && p.ecosystem == f.package.ecosystem
                && p.purl == f.package.purl
        })
        .flat_map(|p| p.paths.iter().map(String::as_str))
}

/// Whether an exception that `expires` (its last day) no longer applies at `now`.
pub(crate) fn lapsed(expires: Option<&str>, now: Timestamp) -> bool {
    // It applies through its last day (UTC): `YYYY-MM-DD` strings order as dates.
    expires.is_some_and(|d| now.date().as_str() > d)
}

/// Where the finding's package came from; `None` when the base is not known, or the package
/// has no layer (a `dir:` source).
fn origin(f: &Finding, base_layers: Option<usize>) -> Option<LayerOrigin> {
    let index = f.package.layer_index?;
    let base = base_layers?;
    Some(if index < base {
        LayerOrigin::Base
    } else {
        LayerOrigin::Application
    })
}

fn matches(c: &FindingConditions, f: &Finding, input: &Input<'_>) -> bool {
    // Not known is not passed: a fixable finding without a fix date has waited long enough,
    // and one of unknown origin is of whichever origin the rule names.
    let waited = |days: u32| {
        f.fixable()
            && f.fix_date.as_ref().is_none_or(|d| {
                Timestamp::parse_lenient(&d.date)
                    .map_or(true, |t| t.days_until(input.now) >= i64::from(days))
            })
    };
    c.fix_available_days.is_none_or(waited)
        && c.layer
            .is_none_or(|l| origin(f, input.base.map(|b| b.layers)).is_none_or(|o| o == l))
        && c.severity_at_least.is_none_or(|s| f.severity >= s)
        && c.fixable.is_none_or(|x| f.fixable() == x)
        && c.kev.is_none_or(|x| f.kev.is_some() == x)
        && c.epss_above
            .is_none_or(|x| f.epss.as_ref().is_some_and(|e| e.probability > x))
        && (c.ecosystems.is_empty() || c.ecosystems.contains(&f.package.ecosystem))
        && (c.packages.is_empty() || c.packages.any_match(names(f)))
}

/// The document a `rego:` rule sees as `input`: the findings no vendor verdict, VEX or
/// exception in force suppresses, the detections no exception in force covers, the scanners
/// that ran, the packages, the image and the clock.
fn rego_input(
    input: &Input<'_>,
    covering: &[Covering<'_>],
    detection_cover: &DetectionCover<'_>,
) -> serde_json::Value {
    let findings: Vec<&Finding> = input
        .findings
        .iter()
        .zip(covering)
        .filter(|(f, c)| f.suppressed.is_none() && !matches!(c, Covering::Live(_)))
        .map(|(f, _)| f)
        .collect();
    let packages: Vec<serde_json::Value> = input
        .packages
        .iter()
        .map(|p| {
            serde_json::json!({"name": p.name, "version": p.version, "ecosystem": p.ecosystem,
                               "purl": p.purl, "licenses": p.licenses})
        })
        .collect();
    serde_json::json!({
        "findings": findings,
        "detections": detection_cover.open().collect::<Vec<_>>(),
        "scanners": input.detections.scanners.names(),
        "packages": packages,
        "image": {"repository": input.repository, "digest": input.digest,
                  "signed": input.signed, "base": input.base,
                  "created": input.created.map(|t| t.to_string())},
        "now": input.now.to_string(),
    })
}

/// What an image rule finds: (code, package, detail) for each violation.
fn image_violations(
    c: &ImageConditions,
    input: &Input<'_>,
) -> Vec<(ViolationCode, Option<String>, String)> {
    let mut out = Vec::new();
    if c.signed {
        match input.signed {
            Some(true) => {}
            Some(false) => out.push((
                ViolationCode::NotSigned,
                None,
                "the image is not signed as the trust policy requires".to_owned(),
            )),
            None => out.push((
                ViolationCode::SignatureUnknown,
                None,
                "no signature verdict: scan with --trust-policy".to_owned(),
            )),
        }
    }
    if let Some(max) = c.max_age_days {
        match input.created {
            None => out.push((
                ViolationCode::ImageAgeUnknown,
                None,
                format!(
                    "the image has no creation time: its age (at most {max} days) is not known"
                ),
            )),
            Some(t) => {
                let days = t.days_until(input.now);
                if days > i64::from(max) {
                    out.push((
                        ViolationCode::ImageTooOld,
                        None,
                        format!(
                            "created {}, {days} days before {}: more than {max}",
                            t.date(),
                            input.now.date()
                        ),
                    ));
                }
            }
        }
    }
    for b in &c.banned_packages {
        for p in input.packages {
            let names = std::iter::once(p.name.as_str()).chain(p.purl.as_deref());
            if !b.packages.any_match(names) {
                continue;
            }
            let label = format!("{}@{}", p.name, p.version);
            let banned = b.packages.patterns.join(", ");
            let detail = match &b.versions {
                None => format!("{label} is banned ({banned})"),
                Some(r) => match in_range(p, r) {
                    Ok(false) => continue,
                    Ok(true) => format!("{label} is banned ({banned} {})", r.text),
                    // Not known is not passed.
                    Err(e) => format!(
                        "{label}: its version cannot be compared with {banned} {} ({e})",
                        r.text
                    ),
                },
            };
            out.push((ViolationCode::BannedPackage, Some(label), detail));
        }
    }
    if !c.denied_licenses.is_empty() {
        for p in input.packages {
            // Each licence id of an expression on its own: `GPL-3.0-only OR MIT` declares
            // GPL-3.0-only whichever a user may pick.
            let denied = p.licenses.iter().find(|l| {
                l.split(|ch: char| ch.is_whitespace() || ch == '(' || ch == ')')
                    .filter(|id| !id.is_empty() && !["AND", "OR", "WITH"].contains(id))
                    .any(|id| c.denied_licenses.any_match([id]))
            });
            if let Some(l) = denied {
                let label = format!("{}@{}", p.name, p.version);
                out.push((
                    ViolationCode::DeniedLicense,
                    Some(label.clone()),
                    format!("{label} declares {l}"),
                ));
            }
        }
    }
    out
}

/// Whether the package's version is in the range, by its ecosystem's order.
fn in_range(p: &PackageFact, r: &VersionRange) -> Result<bool, String> {
    use std::cmp::Ordering;
    for (op, v) in &r.comparators {
        let o = customs_version::compare(p.ecosystem, &p.version, v).map_err(|e| e.to_string())?;
        let holds = match op {
            Op::Lt => o == Ordering::Less,
            Op::Le => o != Ordering::Greater,
            Op::Gt => o == Ordering::Greater,
            Op::Ge => o != Ordering::Less,
            Op::Eq => o == Ordering::Equal,
            Op::Ne => o != Ordering::Equal,
        };
        if !holds {
            return Ok(false);
        }
    }
    Ok(true)
}

/// The policy applied to `input`.
#[must_use]
pub fn evaluate(policy: &Policy, input: &Input<'_>) -> Verdict {
    let mut applied: Vec<AppliedException> = Vec::new();
    let mut expired_exceptions: Vec<ExpiredException> = Vec::new();
    // Exceptions first, over every finding the vendor has not suppressed, whether a rule
    // matches it or not: the report shows each one that applied, and each that expired.
    let covering: Vec<Covering<'_>> = input
        .findings
        .iter()
        .map(|f| {
            if f.suppressed.is_some() {
                return Covering::No;
            }
            let c = policy.covering(f, input);
            let label = package_label(f);
            match c {
                Covering::No => {}
                Covering::Live(e) => match applied.iter_mut().find(|a| a.line == e.line) {
                    Some(a) if !a.packages.contains(&label) => a.packages.push(label),
                    Some(_) => {}
                    None => applied.push(AppliedException {
                        vulnerability: e.vulnerability.clone(),
                        owner: e.owner.clone(),
                        reason: e.reason.clone(),
                        expires: e.expires.clone(),
                        packages: vec![label],
                        line: e.line,
                    }),
                },
                Covering::Expired(e) => {
                    match expired_exceptions.iter_mut().find(|x| x.line == e.line) {
                        Some(x) if !x.packages.contains(&label) => x.packages.push(label),
                        Some(_) => {}
                        None => expired_exceptions.push(ExpiredException {
                            vulnerability: e.vulnerability.clone(),
                            owner: e.owner.clone(),
                            expired: e.expires.clone().unwrap_or_default(),
                            packages: vec![label],
                            line: e.line,
                        }),
                    }
                }
            }
            c
        })
        .collect();
    let detection_cover = DetectionCover::of(policy, input);
    let (mode, rules, overrides) = effective(policy, input.repository);
    let mut violations = Vec::new();
    for rule in &rules {
        match &rule.on {
            On::Findings(c) => {
                for (f, cover) in input.findings.iter().zip(&covering) {
                    // The vendor's word that nothing needs doing, or a risk accepted: never a
                    // violation.
                    if f.suppressed.is_some()
                        || matches!(cover, Covering::Live(_))
                        || !matches(c, f, input)
                    {
                        continue;
                    }
                    let (code, detail) = match cover {
                        Covering::Expired(e) => (
                            ViolationCode::ExceptionExpired,
                            format!(
                                "{} in {} ({}); the exception by {} (line {}) expired after {}",
                                f.id,
                                package_label(f),
                                f.severity,
                                e.owner,
                                e.line,
                                e.expires.as_deref().unwrap_or_default()
                            ),
                        ),
                        _ => (
                            ViolationCode::Finding,
                            format!(
                                "{} in {} ({}){}",
                                f.id,
                                package_label(f),
                                f.severity,
                                qualifiers(c, f, input)
                            ),
                        ),
                    };
                    violations.push(Violation {
                        rule: rule.name.clone(),
                        action: rule.action,
                        code,
                        vulnerability: Some(f.id.clone()),
                        package: Some(package_label(f)),
                        detection: None,
                        location: None,
                        detail,
                    });
                }
            }
            On::Detections(c) => violations.extend(detection_cover.violations(rule, c, input)),
            On::Rego(r) => {
                let messages = r.eval(&rego_input(input, &covering, &detection_cover));
                let found: Vec<(ViolationCode, String)> = match messages {
                    Ok(list) => list.into_iter().map(|m| (ViolationCode::Rego, m)).collect(),
                    // Not known is not passed.
                    Err(e) => vec![(
                        ViolationCode::RegoError,
                        format!("{} could not be evaluated: {e}", r.query),
                    )],
                };
                for (code, detail) in found {
                    violations.push(Violation {
                        rule: rule.name.clone(),
                        action: rule.action,
                        code,
                        vulnerability: None,
                        package: None,
                        detection: None,
                        location: None,
                        detail,
                    });
                }
            }
            On::Image(c) => {
                for (code, package, detail) in image_violations(c, input) {
                    violations.push(Violation {
                        rule: rule.name.clone(),
                        action: rule.action,
                        code,
                        vulnerability: None,
                        package,
                        detection: None,
                        location: None,
                        detail,
                    });
                }
            }
        }
    }
    let outcome = if violations.is_empty() {
        Outcome::Pass
    } else if mode == Mode::Enforce && violations.iter().any(|v| v.action == Action::Fail) {
        Outcome::Fail
    } else {
        Outcome::Warn
    };
    Verdict {
        policy: policy.path.display().to_string(),
        mode,
        outcome,
        violations,
        exceptions: applied,
        expired: expired_exceptions,
        detection_exceptions: detection_cover.applied(),
        detection_expired: detection_cover.expired(),
        overrides,
        base: input
            .base
            .filter(|_| {
                rules
                    .iter()
                    .any(|r| matches!(&r.on, On::Findings(c) if c.layer.is_some()))
            })
            .cloned(),
        evaluated_at: input.now.to_string(),
    }
}

/// The mode and rules for an image of `repository`: the file's, changed by every override
/// whose globs match it, in file order. An image from no registry gets no override.
fn effective<'p>(
    policy: &'p Policy,
    repository: Option<&str>,
) -> (Mode, Vec<&'p Rule>, Vec<AppliedOverride>) {
    let mut mode = policy.mode;
    let mut rules: Vec<&Rule> = policy.rules.iter().collect();
    let mut applied = Vec::new();
    let Some(repository) = repository else {
        return (mode, rules, applied);
    };
    for o in policy
        .overrides
        .iter()
        .filter(|o| o.repositories.any_match([repository]))
    {
        mode = o.mode.unwrap_or(mode);
        rules.retain(|r| !o.disable.contains(&r.name));
        for r in &o.rules {
            match rules.iter_mut().find(|x| x.name == r.name) {
                Some(slot) => *slot = r,
                None => rules.push(r),
            }
        }
        applied.push(AppliedOverride {
            line: o.line,
            repositories: o.repositories.patterns.clone(),
        });
    }
    (mode, rules, applied)
}

/// What a findings rule's conditions about time and layers saw, for the violation's detail.
fn qualifiers(c: &FindingConditions, f: &Finding, input: &Input<'_>) -> String {
    let mut out = String::new();
    if c.fix_available_days.is_some() {
        match &f.fix_date {
            Some(d) => {
                out.push_str(&format!("; fixed since {} ({})", d.date, d.source.as_str()));
            }
            None => out.push_str("; no feed dates the fix"),
        }
    }
    if c.layer.is_some() {
        match (
            f.package.layer_index,
            origin(f, input.base.map(|b| b.layers)),
        ) {
            (Some(i), Some(o)) => out.push_str(&format!(
                "; layer {i}, {}",
                match o {
                    LayerOrigin::Base => "base",
                    LayerOrigin::Application => "application",
                }
            )),
            (None, _) => out.push_str("; the package has no layer"),
            (Some(i), None) => out.push_str(&format!("; layer {i}, the base image is not known")),
        }
    }
    out
}
