//! Rules and exceptions over the secret, config and file detections: the conditions of a
//! `detections:` rule and a `code:` exception (`file.rs` reads them from the policy file),
//! which exception covers each detection, the violations a rule finds, and what a verdict
//! says of them.
//!
//! A detection is judged as a finding is: an exception in force covers it (it never matches a
//! rule, and the verdict lists the exception), an exception past its date covers nothing (a
//! rule's match names it, `exception-expired`), else every rule whose conditions it meets
//! matches it (`detection`). A rule that cannot be judged does not pass: one that selects a
//! kind whose scanner did not run is a `scanner-not-run` violation, and one that could match
//! detections `--skip-check` or `--skip-path` removed is a `detection-skipped` violation
//! (unless an exception in force, scoped to no path, accepts that code).

use std::collections::BTreeMap;

use customs_detect::{Detection, DetectionKind, Location, Scanners};
use customs_types::Severity;
use serde::Serialize;

use crate::eval::{Covering, Input, Verdict, Violation, ViolationCode, lapsed};
use crate::file::{Globs, Policy, Rule};

/// Conditions over one secret, config or file detection; those not given hold. A rule with
/// none matches every detection.
#[derive(Debug, Default)]
pub struct DetectionConditions {
    /// The detection's code matches one of these globs (`secret-*`, `config-root-user`).
    pub codes: Globs,
    /// It was made by one of these scanners.
    pub kinds: Vec<DetectionKind>,
    /// Its severity is at least this.
    pub severity_at_least: Option<Severity>,
    /// Its path matches one of these globs: the path in the image (`/app/**`), or where in the
    /// config it is (`config:Env *`, `history[*].created_by`).
    pub paths: Globs,
}

impl DetectionConditions {
    /// Whether the rule can match a detection of `kind`: the kind is named (or none is), and
    /// one of the code globs can match a code of that kind (`secret-*` only secrets; `*`,
    /// `*-root-user` any). A detection's code starts with its kind (`secret-`, `config-`,
    /// `file-`), so the part of a glob before its first wildcard tells.
    #[must_use]
    pub fn selects(&self, kind: DetectionKind) -> bool {
        if !self.kinds.is_empty() && !self.kinds.contains(&kind) {
            return false;
        }
        if self.codes.is_empty() {
            return true;
        }
        let prefix = format!("{}-", kind.as_str());
        self.codes.patterns.iter().any(|p| {
            let literal = p
                .find(['*', '?', '[', '{', '\\'])
                .map_or(p.as_str(), |i| &p[..i]);
            literal.starts_with(&prefix) || prefix.starts_with(literal)
        })
    }
}

/// An accepted risk for secret, config or file detections: a code (glob) that does not count,
/// for a time, with who and why.
#[derive(Debug)]
pub struct DetectionException {
    /// The detection codes it covers, as written (`config-no-healthcheck`, `file-*`).
    pub code: String,
    /// `code` as a glob.
    pub codes: Globs,
    /// Only for detections at these paths (globs over the path in the image, or the config
    /// location: `config:Env NAME`); any when empty.
    pub paths: Globs,
    /// Only in these repositories (`REGISTRY/REPOSITORY` globs); any when empty.
    pub repositories: Globs,
    /// Only in these images (manifest digests, `sha256:…`); any when empty.
    pub images: Vec<String>,
    /// Why the risk is accepted.
    pub reason: String,
    /// Who accepted it.
    pub owner: String,
    /// When (`YYYY-MM-DD`).
    pub created: String,
    /// The last day it applies (`YYYY-MM-DD`); `None` only where the policy allows permanent
    /// exceptions.
    pub expires: Option<String>,
    /// A link to the decision.
    pub ticket: Option<String>,
    /// Where it is written (1-based line), for reports.
    pub line: u64,
}

/// What the secret, config and file scanners reported, as a policy reads it.
#[derive(Debug, Clone, Copy)]
pub struct Detections<'a> {
    /// Every detection of the scan (the inventory's `detections`).
    pub found: &'a [Detection],
    /// Which scanners ran.
    pub scanners: Scanners,
    /// How many detections `--skip-check` and `--skip-path` removed, by code (the inventory's
    /// `inspected.skipped`).
    pub skipped: &'a BTreeMap<String, usize>,
}

/// No skipped detections, for [`Detections::not_scanned`].
static NO_SKIPS: BTreeMap<String, usize> = BTreeMap::new();

impl Detections<'static> {
    /// None, because only the vulnerability scanner ran: a rule over detections is then a
    /// `scanner-not-run` violation, never a pass.
    #[must_use]
    pub fn not_scanned() -> Self {
        Self {
            found: &[],
            scanners: Scanners {
                vuln: true,
                secret: false,
                config: false,
                file: false,
            },
            skipped: &NO_SKIPS,
        }
    }
}

/// A detection a verdict names: its code and where it is.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct DetectionRef {
    /// Its code.
    pub code: String,
    /// Where it is.
    #[serde(flatten)]
    pub location: Location,
}

impl DetectionRef {
    /// The reference to `d`.
    #[must_use]
    pub fn of(d: &Detection) -> Self {
        Self {
            code: d.code.clone(),
            location: d.location.clone(),
        }
    }

    /// Whether it names `d`.
    #[must_use]
    pub fn names(&self, d: &Detection) -> bool {
        self.code == d.code && self.location == d.location
    }
}

/// An exception (`code:`) that covered detections.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct AppliedDetectionException {
    /// The code (glob) it names.
    pub code: String,
    /// Who accepted the risk.
    pub owner: String,
    /// Why.
    pub reason: String,
    /// Its last day, if it has one.
    pub expires: Option<String>,
    /// The detections it covered here.
    pub detections: Vec<DetectionRef>,
    /// Its line in the policy file.
    pub line: u64,
}

impl AppliedDetectionException {
    /// Who accepted the risk, until when, and why: `OWNER until DATE: REASON` (`OWNER no end:
    /// REASON` for a permanent one).
    #[must_use]
    pub fn accepted(&self) -> String {
        let until = self
            .expires
            .as_deref()
            .map_or_else(|| "no end".to_owned(), |d| format!("until {d}"));
        format!("{} {until}: {}", self.owner, self.reason)
    }

    /// How a report marks a detection it covers, in the words a finding an exception covers
    /// gets: `excepted: OWNER until DATE: REASON`.
    #[must_use]
    pub fn suppression(&self) -> String {
        customs_match::Suppression::Excepted {
            reason: self.accepted(),
        }
        .to_string()
    }
}

/// An exception (`code:`) past its date that would have covered detections.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct ExpiredDetectionException {
    /// The code (glob) it names.
    pub code: String,
    /// Who had accepted the risk.
    pub owner: String,
    /// Its last day.
    pub expired: String,
    /// The detections it no longer covers.
    pub detections: Vec<DetectionRef>,
    /// Its line in the policy file.
    pub line: u64,
}

impl Verdict {
    /// The exception in force that covered `d`, if one did.
    #[must_use]
    pub fn detection_exception(&self, d: &Detection) -> Option<&AppliedDetectionException> {
        self.detection_exceptions
            .iter()
            .find(|e| e.detections.iter().any(|r| r.names(d)))
    }
}

impl Policy {
    /// The exception that covers detection `d` in the image `input` describes, at its clock:
    /// the first in force, else the first that has expired.
    #[must_use]
    pub fn covering_detection(
        &self,
        d: &Detection,
        input: &Input<'_>,
    ) -> Covering<'_, DetectionException> {
        let mut all = self
            .detection_exceptions
            .iter()
            .filter(|e| e.codes.any_match([d.code.as_str()]) && in_scope(e, input))
            .filter(|e| e.paths.is_empty() || e.paths.any_match([d.location.path.as_str()]));
        let Some(first) = all.next() else {
            return Covering::No;
        };
        std::iter::once(first)
            .chain(all)
            .find(|e| !lapsed(e.expires.as_deref(), input.now))
            .map_or(Covering::Expired(first), Covering::Live)
    }
}

/// Whether the exception's repository and image scopes hold for the image. Scoped to
/// repositories or images, it does not cover an image that cannot be placed.
fn in_scope(e: &DetectionException, input: &Input<'_>) -> bool {
    let repository = e.repositories.is_empty()
        || input
            .repository
            .is_some_and(|r| e.repositories.any_match([r]));
    let image = e.images.is_empty()
        || input
            .digest
            .is_some_and(|d| e.images.iter().any(|i| i == d));
    repository && image
}

/// The kind a code names by its prefix (`secret-…`); `None` for a code of no known kind.
fn kind_of(code: &str) -> Option<DetectionKind> {
    [
        DetectionKind::Secret,
        DetectionKind::Config,
        DetectionKind::File,
    ]
    .into_iter()
    .find(|k| {
        code.strip_prefix(k.as_str())
            .is_some_and(|rest| rest.starts_with('-'))
    })
}

fn matches(c: &DetectionConditions, d: &Detection) -> bool {
    (c.codes.is_empty() || c.codes.any_match([d.code.as_str()]))
        && (c.kinds.is_empty() || c.kinds.contains(&d.kind))
        && c.severity_at_least.is_none_or(|s| d.severity >= s)
        && (c.paths.is_empty() || c.paths.any_match([d.location.path.as_str()]))
}

/// `/app/.env:3 in layer 2`, `config:User`.
pub(crate) fn place(l: &Location) -> String {
    let mut out = l.path.clone();
    if let Some(line) = l.line {
        out.push_str(&format!(":{line}"));
    }
    if let Some(i) = l.layer_index {
        out.push_str(&format!(" in layer {i}"));
    }
    out
}

/// The detections of one scan with the exception that covers each: computed once, before the
/// rules, so that the verdict lists every exception that applied or expired whether a rule
/// matches its detections or not.
pub(crate) struct DetectionCover<'a> {
    policy: &'a Policy,
    found: &'a [Detection],
    covering: Vec<Covering<'a, DetectionException>>,
}

impl<'a> DetectionCover<'a> {
    pub(crate) fn of(policy: &'a Policy, input: &Input<'a>) -> Self {
        Self {
            policy,
            found: input.detections.found,
            covering: input
                .detections
                .found
                .iter()
                .map(|d| policy.covering_detection(d, input))
                .collect(),
        }
    }

    /// The detections no exception in force covers.
    pub(crate) fn open(&self) -> impl Iterator<Item = &'a Detection> + '_ {
        self.found
            .iter()
            .zip(&self.covering)
            .filter(|(_, c)| !matches!(c, Covering::Live(_)))
            .map(|(d, _)| d)
    }

    /// The exceptions in force that covered detections, in the order they first did.
    pub(crate) fn applied(&self) -> Vec<AppliedDetectionException> {
        let mut out: Vec<AppliedDetectionException> = Vec::new();
        for (d, c) in self.found.iter().zip(&self.covering) {
            let Covering::Live(e) = c else { continue };
            match out.iter_mut().find(|a| a.line == e.line) {
                Some(a) => a.detections.push(DetectionRef::of(d)),
                None => out.push(AppliedDetectionException {
                    code: e.code.clone(),
                    owner: e.owner.clone(),
                    reason: e.reason.clone(),
                    expires: e.expires.clone(),
                    detections: vec![DetectionRef::of(d)],
                    line: e.line,
                }),
            }
        }
        out
    }

    /// The exceptions past their date that would have covered detections.
    pub(crate) fn expired(&self) -> Vec<ExpiredDetectionException> {
        let mut out: Vec<ExpiredDetectionException> = Vec::new();
        for (d, c) in self.found.iter().zip(&self.covering) {
            let Covering::Expired(e) = c else { continue };
            match out.iter_mut().find(|x| x.line == e.line) {
                Some(x) => x.detections.push(DetectionRef::of(d)),
                None => out.push(ExpiredDetectionException {
                    code: e.code.clone(),
                    owner: e.owner.clone(),
                    expired: e.expires.clone().unwrap_or_default(),
                    detections: vec![DetectionRef::of(d)],
                    line: e.line,
                }),
            }
        }
        out
    }

    /// What a detections rule finds: first what it cannot judge (a scanner that did not run,
    /// skipped checks), then each detection it matches.
    pub(crate) fn violations(
        &self,
        rule: &Rule,
        c: &DetectionConditions,
        input: &Input<'_>,
    ) -> Vec<Violation> {
        let violation = |code, detection: Option<&Detection>, detail: String| Violation {
            rule: rule.name.clone(),
            action: rule.action,
            code,
            vulnerability: None,
            package: None,
            detection: detection.map(|d| d.code.clone()),
            location: detection.map(|d| d.location.clone()),
            detail,
        };
        let mut out = Vec::new();
        let scanners = input.detections.scanners;
        for kind in [
            DetectionKind::Secret,
            DetectionKind::Config,
            DetectionKind::File,
        ] {
            if c.selects(kind) && !scanners.runs(kind) {
                let ran = scanners.names().join(",");
                out.push(violation(
                    ViolationCode::ScannerNotRun,
                    None,
                    format!(
                        "the {kind} scanner did not run (--scanners {ran}): the image was not \
                         looked at for {kind} detections",
                        kind = kind.as_str(),
                        ran = if ran.is_empty() { "none" } else { &ran },
                    ),
                ));
            }
        }
        for (code, n) in input.detections.skipped {
            // Only the code is known of a skipped detection: a rule that names its code (or
            // none) and its kind could match it, whatever its severity and path were.
            let could = (c.codes.is_empty() || c.codes.any_match([code.as_str()]))
                && kind_of(code).is_none_or(|k| c.kinds.is_empty() || c.kinds.contains(&k));
            if !could || *n == 0 || self.accepts_everywhere(code, input) {
                continue;
            }
            out.push(Violation {
                detection: Some(code.clone()),
                ..violation(
                    ViolationCode::DetectionSkipped,
                    None,
                    format!(
                        "{n} {code} detection{} skipped (--skip-check or --skip-path) cannot be \
                         judged by this rule; accept them with an exception, which has a reason",
                        if *n == 1 { " was" } else { "s were" }
                    ),
                )
            });
        }
        for (d, cover) in self.found.iter().zip(&self.covering) {
            if matches!(cover, Covering::Live(_)) || !matches(c, d) {
                continue;
            }
            let what = format!("{} ({}) at {}", d.code, d.severity, place(&d.location));
            let (code, detail) = match cover {
                Covering::Expired(e) => (
                    ViolationCode::ExceptionExpired,
                    format!(
                        "{what}; the exception by {} (line {}) expired after {}",
                        e.owner,
                        e.line,
                        e.expires.as_deref().unwrap_or_default()
                    ),
                ),
                _ => {
                    let mut detail = format!("{what}: {}", d.title);
                    if let Some(r) = &d.removed_in {
                        detail.push_str(&format!("; removed at {}", place(r)));
                    }
                    (ViolationCode::Detection, detail)
                }
            };
            out.push(violation(code, Some(d), detail));
        }
        out
    }

    /// Whether an exception in force, scoped to no path, accepts every detection of `code` in
    /// this image: then skipping them hid nothing the policy would have counted.
    fn accepts_everywhere(&self, code: &str, input: &Input<'_>) -> bool {
        self.policy.detection_exceptions.iter().any(|e| {
            e.paths.is_empty()
                && e.codes.any_match([code])
                && in_scope(e, input)
                && !lapsed(e.expires.as_deref(), input.now)
        })
    }
}
