//! A policy applied to one scan's findings and image facts.

use customs_match::Finding;
use customs_types::Timestamp;
use serde::Serialize;

use crate::file::{Action, Exception, FindingConditions, Mode, On, Policy};

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
    /// The clock exceptions expire by.
    pub now: Timestamp,
}

/// The gate's answer.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "kebab-case")]
pub enum Outcome {
    /// No rule matched.
    Pass,
    /// Rules matched, none that fails (or the policy only warns).
    Warn,
    /// A `fail` rule matched under `mode: enforce`.
    Fail,
}

/// Why a rule matched.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
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
    /// The clock it was judged at (RFC 3339).
    pub evaluated_at: String,
}

fn package_label(f: &Finding) -> String {
    format!("{}@{}", f.package.name, f.package.version)
}

fn names(f: &Finding) -> impl Iterator<Item = &str> {
    std::iter::once(f.package.name.as_str()).chain(f.package.purl.as_deref())
}

/// Which of a policy's exceptions covers a finding.
#[derive(Debug, Clone, Copy)]
pub enum Covering<'a> {
    /// None does.
    No,
    /// This one, in force.
    Live(&'a Exception),
    /// Only this one, past its date.
    Expired(&'a Exception),
}

impl Policy {
    /// The exception that covers `f` in `repository` at `now`: the first in force, else the
    /// first that has expired.
    #[must_use]
    pub fn covering(&self, f: &Finding, repository: Option<&str>, now: Timestamp) -> Covering<'_> {
        let mut all = self.exceptions.iter().filter(|e| covers(e, f, repository));
        let Some(first) = all.next() else {
            return Covering::No;
        };
        std::iter::once(first)
            .chain(all)
            .find(|e| !expired(e, now))
            .map_or(Covering::Expired(first), Covering::Live)
    }
}

fn covers(e: &Exception, f: &Finding, repository: Option<&str>) -> bool {
    let id = e.vulnerability.as_str();
    let names_it =
        f.id.eq_ignore_ascii_case(id) || f.aliases.iter().any(|a| a.eq_ignore_ascii_case(id));
    let package = e.packages.is_empty() || e.packages.any_match(names(f));
    // An exception scoped to repositories does not cover an image from nowhere in particular.
    let repository =
        e.repositories.is_empty() || repository.is_some_and(|r| e.repositories.any_match([r]));
    names_it && package && repository
}

fn expired(e: &Exception, now: Timestamp) -> bool {
    // It applies through its last day (UTC): `YYYY-MM-DD` strings order as dates.
    e.expires
        .as_deref()
        .is_some_and(|d| now.date().as_str() > d)
}

fn matches(c: &FindingConditions, f: &Finding) -> bool {
    c.severity_at_least.is_none_or(|s| f.severity >= s)
        && c.fixable.is_none_or(|x| f.fixable() == x)
        && c.kev.is_none_or(|x| f.kev.is_some() == x)
        && c.epss_above
            .is_none_or(|x| f.epss.as_ref().is_some_and(|e| e.probability > x))
        && (c.ecosystems.is_empty() || c.ecosystems.contains(&f.package.ecosystem))
        && (c.packages.is_empty() || c.packages.any_match(names(f)))
}

/// The policy applied to `input`.
#[must_use]
pub fn evaluate(policy: &Policy, input: &Input<'_>) -> Verdict {
    let mut applied: Vec<AppliedException> = Vec::new();
    let mut lapsed: Vec<ExpiredException> = Vec::new();
    // Exceptions first, over every finding the vendor has not suppressed, whether a rule
    // matches it or not: the report shows each one that applied, and each that expired.
    let covering: Vec<Covering<'_>> = input
        .findings
        .iter()
        .map(|f| {
            if f.suppressed.is_some() {
                return Covering::No;
            }
            let c = policy.covering(f, input.repository, input.now);
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
                Covering::Expired(e) => match lapsed.iter_mut().find(|x| x.line == e.line) {
                    Some(x) if !x.packages.contains(&label) => x.packages.push(label),
                    Some(_) => {}
                    None => lapsed.push(ExpiredException {
                        vulnerability: e.vulnerability.clone(),
                        owner: e.owner.clone(),
                        expired: e.expires.clone().unwrap_or_default(),
                        packages: vec![label],
                        line: e.line,
                    }),
                },
            }
            c
        })
        .collect();
    let mut violations = Vec::new();
    for rule in &policy.rules {
        match &rule.on {
            On::Findings(c) => {
                for (f, cover) in input.findings.iter().zip(&covering) {
                    // The vendor's word that nothing needs doing, or a risk accepted: never a
                    // violation.
                    if f.suppressed.is_some()
                        || matches!(cover, Covering::Live(_))
                        || !matches(c, f)
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
                            format!("{} in {} ({})", f.id, package_label(f), f.severity),
                        ),
                    };
                    violations.push(Violation {
                        rule: rule.name.clone(),
                        action: rule.action,
                        code,
                        vulnerability: Some(f.id.clone()),
                        package: Some(package_label(f)),
                        detail,
                    });
                }
            }
            On::Image(c) => {
                if c.signed {
                    let (code, detail) = match input.signed {
                        Some(true) => continue,
                        Some(false) => (
                            ViolationCode::NotSigned,
                            "the image is not signed as the trust policy requires".to_owned(),
                        ),
                        None => (
                            ViolationCode::SignatureUnknown,
                            "no signature verdict: scan with --trust-policy".to_owned(),
                        ),
                    };
                    violations.push(Violation {
                        rule: rule.name.clone(),
                        action: rule.action,
                        code,
                        vulnerability: None,
                        package: None,
                        detail,
                    });
                }
            }
        }
    }
    let outcome = if violations.is_empty() {
        Outcome::Pass
    } else if policy.mode == Mode::Enforce && violations.iter().any(|v| v.action == Action::Fail) {
        Outcome::Fail
    } else {
        Outcome::Warn
    };
    Verdict {
        policy: policy.path.display().to_string(),
        mode: policy.mode,
        outcome,
        violations,
        exceptions: applied,
        expired: lapsed,
        evaluated_at: input.now.to_string(),
    }
}
