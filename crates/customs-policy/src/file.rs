//! Reading and checking a policy file.

use std::path::{Path, PathBuf};

use customs_detect::DetectionKind;
use customs_types::{Ecosystem, Severity, Timestamp};

use crate::detections::{DetectionConditions, DetectionException};
use serde::{Deserialize, Serialize};
use serde_saphyr::{Location, Spanned};

use crate::PolicyError;

/// A policy file is a few kilobytes; exceptions make it longer, not megabytes.
const MAX_FILE: u64 = 4 << 20;

/// Whether a violation fails the gate or is only reported.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum Mode {
    /// A `fail` rule's violation fails the verdict.
    #[default]
    Enforce,
    /// Every violation is a warning.
    Warn,
}

/// What a rule's violation does.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum Action {
    /// Fails the verdict (under `mode: enforce`).
    #[default]
    Fail,
    /// Only warns.
    Warn,
}

/// A policy file, read and checked.
#[derive(Debug)]
pub struct Policy {
    /// The file it came from.
    pub path: PathBuf,
    /// Enforce or warn.
    pub mode: Mode,
    /// Its rules, in file order.
    pub rules: Vec<Rule>,
    /// Its exceptions for vulnerabilities (`vulnerability:`), in file order.
    pub exceptions: Vec<Exception>,
    /// Its exceptions for secret, config and file detections (`code:`), in file order.
    pub detection_exceptions: Vec<DetectionException>,
    /// Its examples (`policy test`), in file order.
    pub examples: Vec<crate::examples::Example>,
    /// Changes for images of some repositories, in file order.
    pub overrides: Vec<Override>,
}

/// Changes to the policy for images of some repositories: every override whose globs match
/// the image's repository applies, in file order.
#[derive(Debug)]
pub struct Override {
    /// `REGISTRY/REPOSITORY` globs it applies to.
    pub repositories: Globs,
    /// The mode for these images, when it changes it.
    pub mode: Option<Mode>,
    /// Rules (by name) that do not apply to these images.
    pub disable: Vec<String>,
    /// Rules added for these images; one named as an earlier rule replaces it.
    pub rules: Vec<Rule>,
    /// Where it is written (1-based line), for reports.
    pub line: u64,
}

/// Which layers a finding's package came from.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum LayerOrigin {
    /// The layers of the image it was built on.
    Base,
    /// The layers added on top of the base.
    Application,
}

/// One rule: what it matches, and what a match does.
#[derive(Debug)]
pub struct Rule {
    /// Its name (verdicts quote it).
    pub name: String,
    /// Fail or warn.
    pub action: Action,
    /// Over each finding, or over the image.
    pub on: On,
}

/// What a rule looks at.
#[derive(Debug)]
pub enum On {
    /// Each finding, by conditions that must all hold.
    Findings(FindingConditions),
    /// Each secret, config or file detection, by conditions that must all hold.
    Detections(DetectionConditions),
    /// The image as a whole.
    Image(ImageConditions),
    /// A Rego module's verdict over the findings, packages and image.
    Rego(Box<crate::rego::RegoRule>),
}

/// Conditions over one finding; those not given hold.
#[derive(Debug, Default)]
pub struct FindingConditions {
    /// The finding's severity is at least this.
    pub severity_at_least: Option<Severity>,
    /// A fixed version exists (or does not).
    pub fixable: Option<bool>,
    /// The vulnerability is (or is not) in CISA's KEV catalog.
    pub kev: Option<bool>,
    /// The EPSS probability is strictly above this; a finding without a score does not match.
    pub epss_above: Option<f64>,
    /// The package is in one of these ecosystems.
    pub ecosystems: Vec<Ecosystem>,
    /// The package's name or purl matches one of these globs.
    pub packages: Globs,
    /// A fix has been available for at least this many days. A fixable finding whose fix no
    /// feed dates matches: not known is not passed.
    pub fix_available_days: Option<u32>,
    /// The package came from the base image's layers, or from those added on top. A finding
    /// whose origin is not known (the base is not known) matches either.
    pub layer: Option<LayerOrigin>,
}

/// Conditions over the image; each given is checked on its own.
#[derive(Debug, Default)]
pub struct ImageConditions {
    /// The trust policy's verdict must have passed.
    pub signed: bool,
    /// The image must have been created at most this many days before the clock.
    pub max_age_days: Option<u32>,
    /// Packages that must not be installed (at the versions given).
    pub banned_packages: Vec<Banned>,
    /// Licences (SPDX ids or expressions, as globs) no package may declare.
    pub denied_licenses: Globs,
}

/// A package that must not be installed.
#[derive(Debug)]
pub struct Banned {
    /// Its name or purl, as globs.
    pub packages: Globs,
    /// Only at versions in this range (in the package's ecosystem's order); any when `None`.
    pub versions: Option<VersionRange>,
}

/// Comparison operator of a version range.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Op {
    /// `<`
    Lt,
    /// `<=`
    Le,
    /// `>`
    Gt,
    /// `>=`
    Ge,
    /// `=`
    Eq,
    /// `!=`
    Ne,
}

/// Comparators that must all hold (`>= 2.0, < 2.17.1`), as written.
#[derive(Debug, Clone)]
pub struct VersionRange {
    /// As written.
    pub text: String,
    /// Each comparator.
    pub comparators: Vec<(Op, String)>,
}

impl VersionRange {
    /// Parses `OP VERSION[, OP VERSION…]`.
    ///
    /// # Errors
    /// What is wrong, for the caller to place.
    pub fn parse(text: &str) -> Result<Self, String> {
        let mut comparators = Vec::new();
        for part in text.split(',') {
            let part = part.trim();
            let (op, rest) = [
                ("<=", Op::Le),
                (">=", Op::Ge),
                ("!=", Op::Ne),
                ("<", Op::Lt),
                (">", Op::Gt),
                ("=", Op::Eq),
            ]
            .into_iter()
            .find_map(|(p, op)| part.strip_prefix(p).map(|r| (op, r.trim())))
            .ok_or_else(|| {
                format!("{part:?}: a comparator is OP VERSION with OP one of < <= > >= = !=")
            })?;
            if rest.is_empty() || rest.contains(char::is_whitespace) {
                return Err(format!("{part:?}: no single version after the operator"));
            }
            comparators.push((op, rest.to_owned()));
        }
        Ok(Self {
            text: text.trim().to_owned(),
            comparators,
        })
    }
}

/// An accepted risk: a vulnerability that does not count, for a time, with who and why.
#[derive(Debug)]
pub struct Exception {
    /// The vulnerability id (a finding's id or one of its aliases).
    pub vulnerability: String,
    /// Only for these packages (name or purl globs); any when empty.
    pub packages: Globs,
    /// Only in these repositories (`REGISTRY/REPOSITORY` globs); any when empty.
    pub repositories: Globs,
    /// Only for packages found at these paths (globs over the files a package was read
    /// from); any when empty.
    pub paths: Globs,
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

/// Globs with the text they were written as.
#[derive(Debug, Default)]
pub struct Globs {
    /// As written.
    pub patterns: Vec<String>,
    set: Option<globset::GlobSet>,
}

impl Globs {
    /// Whether none was given.
    #[must_use]
    pub fn is_empty(&self) -> bool {
        self.patterns.is_empty()
    }

    /// Whether any of `candidates` matches one of the globs.
    #[must_use]
    pub fn any_match<'a>(&self, candidates: impl IntoIterator<Item = &'a str>) -> bool {
        let Some(set) = &self.set else {
            return false;
        };
        candidates.into_iter().any(|c| set.is_match(c))
    }
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields, rename_all = "kebab-case")]
struct FileDoc {
    version: Spanned<u32>,
    #[serde(default)]
    mode: Mode,
    #[serde(default)]
    allow_permanent_exceptions: bool,
    #[serde(default)]
    rules: Vec<Spanned<RuleDoc>>,
    #[serde(default)]
    exceptions: Vec<Spanned<ExceptionDoc>>,
    #[serde(default)]
    examples: Vec<Spanned<crate::examples::ExampleDoc>>,
    #[serde(default)]
    overrides: Vec<Spanned<OverrideDoc>>,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct OverrideDoc {
    repositories: Vec<Spanned<String>>,
    #[serde(default)]
    mode: Option<Mode>,
    #[serde(default)]
    disable: Vec<Spanned<String>>,
    #[serde(default)]
    rules: Vec<Spanned<RuleDoc>>,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct RuleDoc {
    name: String,
    #[serde(default)]
    action: Action,
    #[serde(default)]
    findings: Option<Spanned<FindingsDoc>>,
    #[serde(default)]
    detections: Option<Spanned<DetectionsDoc>>,
    #[serde(default)]
    image: Option<Spanned<ImageDoc>>,
    #[serde(default)]
    rego: Option<Spanned<RegoDoc>>,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct RegoDoc {
    /// The module, inline.
    #[serde(default)]
    module: Option<String>,
    /// Or a file beside the policy.
    #[serde(default)]
    file: Option<String>,
    /// The rule path whose value is the violations.
    #[serde(default)]
    query: Option<String>,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields, rename_all = "kebab-case")]
struct FindingsDoc {
    #[serde(default)]
    severity_at_least: Option<Severity>,
    #[serde(default)]
    fixable: Option<bool>,
    #[serde(default)]
    kev: Option<bool>,
    #[serde(default)]
    epss_above: Option<Spanned<f64>>,
    #[serde(default)]
    ecosystems: Vec<Ecosystem>,
    #[serde(default)]
    packages: Vec<Spanned<String>>,
    #[serde(default)]
    fix_available_days: Option<u32>,
    #[serde(default)]
    layer: Option<LayerOrigin>,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields, rename_all = "kebab-case")]
struct DetectionsDoc {
    #[serde(default)]
    codes: Vec<Spanned<String>>,
    #[serde(default)]
    kinds: Vec<DetectionKind>,
    #[serde(default)]
    severity_at_least: Option<Severity>,
    #[serde(default)]
    paths: Vec<Spanned<String>>,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields, rename_all = "kebab-case")]
struct ImageDoc {
    #[serde(default)]
    signed: bool,
    #[serde(default)]
    max_age_days: Option<u32>,
    #[serde(default)]
    banned_packages: Vec<Spanned<BannedDoc>>,
    #[serde(default)]
    denied_licenses: Vec<Spanned<String>>,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct BannedDoc {
    name: Spanned<String>,
    #[serde(default)]
    versions: Option<Spanned<String>>,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct ExceptionDoc {
    #[serde(default)]
    vulnerability: Option<Spanned<String>>,
    #[serde(default)]
    code: Option<Spanned<String>>,
    #[serde(default)]
    packages: Vec<Spanned<String>>,
    #[serde(default)]
    repositories: Vec<Spanned<String>>,
    #[serde(default)]
    paths: Vec<Spanned<String>>,
    #[serde(default)]
    images: Vec<Spanned<String>>,
    reason: Spanned<String>,
    owner: Spanned<String>,
    created: Spanned<String>,
    #[serde(default)]
    expires: Option<Spanned<String>>,
    #[serde(default)]
    ticket: Option<String>,
}

impl Policy {
    /// Reads and checks a policy file.
    ///
    /// # Errors
    /// A [`PolicyError`] with the line and column of the mistake.
    pub fn from_file(path: &Path) -> Result<Self, PolicyError> {
        let file = path.display().to_string();
        let text = PolicyError::read(path, MAX_FILE)?;
        Self::parse(&text, &file)
    }

    /// Parses policy text; `file` names it in errors.
    ///
    /// # Errors
    /// A [`PolicyError`] with the line and column of the mistake.
    pub fn parse(text: &str, file: &str) -> Result<Self, PolicyError> {
        let doc: FileDoc =
            serde_saphyr::from_str(text).map_err(|e| PolicyError::from_yaml(&e, file))?;
        let at = |loc: &Location, message: String| PolicyError::at(file, loc, message);
        if doc.version.value != 1 {
            return Err(at(
                &doc.version.referenced,
                format!("version {}: customs reads version 1", doc.version.value),
            ));
        }
        let rules = doc
            .rules
            .into_iter()
            .map(|r| rule(r, file, &at))
            .collect::<Result<Vec<_>, _>>()?;
        let mut overrides = Vec::new();
        for o in doc.overrides {
            let line = o.referenced.line();
            let loc = o.referenced;
            let o = o.value;
            if o.repositories.is_empty() {
                return Err(at(
                    &loc,
                    "an override names no repositories: give REGISTRY/REPOSITORY globs".to_owned(),
                ));
            }
            // A rule name that is not there is a typo that would silently keep the rule.
            let known = |name: &str| {
                rules.iter().any(|r: &Rule| r.name == name)
                    || overrides
                        .iter()
                        .any(|x: &Override| x.rules.iter().any(|r| r.name == name))
            };
            let mut disable = Vec::new();
            for d in o.disable {
                if !known(&d.value) {
                    return Err(at(
                        &d.referenced,
                        format!("disable {:?}: no rule of that name", d.value),
                    ));
                }
                disable.push(d.value);
            }
            overrides.push(Override {
                repositories: globs(o.repositories, true, &at)?,
                mode: o.mode,
                disable,
                rules: o
                    .rules
                    .into_iter()
                    .map(|r| rule(r, file, &at))
                    .collect::<Result<_, _>>()?,
                line,
            });
        }
        let mut exceptions = Vec::new();
        let mut detection_exceptions = Vec::new();
        for e in doc.exceptions {
            match exception(e, doc.allow_permanent_exceptions, &at)? {
                Granted::Vulnerability(e) => exceptions.push(e),
                Granted::Detection(e) => detection_exceptions.push(e),
            }
        }
        let examples = doc
            .examples
            .into_iter()
            .map(|e| crate::examples::example(e, &at))
            .collect::<Result<_, _>>()?;
        Ok(Self {
            path: PathBuf::from(file),
            mode: doc.mode,
            rules,
            exceptions,
            detection_exceptions,
            examples,
            overrides,
        })
    }
}

fn rule(
    r: Spanned<RuleDoc>,
    file: &str,
    at: &dyn Fn(&Location, String) -> PolicyError,
) -> Result<Rule, PolicyError> {
    let loc = r.referenced;
    let r = r.value;
    let on = match (r.findings, r.detections, r.image, r.rego) {
        (Some(f), None, None, None) => On::Findings(findings(f.value, at)?),
        (None, Some(d), None, None) => On::Detections(detections(d.value, at)?),
        (None, None, Some(i), None) => On::Image(image(i, at)?),
        (None, None, None, Some(g)) => On::Rego(Box::new(rego(&r.name, g, file, at)?)),
        _ => {
            return Err(at(
                &loc,
                format!(
                    "rule {:?}: give findings, detections, image or rego, one of them",
                    r.name
                ),
            ));
        }
    };
    Ok(Rule {
        name: r.name,
        action: r.action,
        on,
    })
}

fn globs(
    patterns: Vec<Spanned<String>>,
    literal_separator: bool,
    at: &dyn Fn(&Location, String) -> PolicyError,
) -> Result<Globs, PolicyError> {
    if patterns.is_empty() {
        return Ok(Globs::default());
    }
    let mut set = globset::GlobSetBuilder::new();
    for p in &patterns {
        let glob = globset::GlobBuilder::new(&p.value)
            .literal_separator(literal_separator)
            .build()
            .map_err(|e| at(&p.referenced, format!("glob {:?}: {e}", p.value)))?;
        set.add(glob);
    }
    let set = set
        .build()
        .map_err(|e| at(&patterns[0].referenced, e.to_string()))?;
    Ok(Globs {
        patterns: patterns.into_iter().map(|p| p.value).collect(),
        set: Some(set),
    })
}

fn findings(
    d: FindingsDoc,
    at: &dyn Fn(&Location, String) -> PolicyError,
) -> Result<FindingConditions, PolicyError> {
    if let Some(e) = &d.epss_above
        && !(0.0..=1.0).contains(&e.value)
    {
        return Err(at(
            &e.referenced,
            format!(
                "epss-above {}: an EPSS probability is between 0 and 1",
                e.value
            ),
        ));
    }
    Ok(FindingConditions {
        severity_at_least: d.severity_at_least,
        fixable: d.fixable,
        kev: d.kev,
        epss_above: d.epss_above.map(|e| e.value),
        ecosystems: d.ecosystems,
        // A purl's slashes are part of one name: `*` may cross them.
        packages: globs(d.packages, false, at)?,
        fix_available_days: d.fix_available_days,
        layer: d.layer,
    })
}

fn detections(
    d: DetectionsDoc,
    at: &dyn Fn(&Location, String) -> PolicyError,
) -> Result<DetectionConditions, PolicyError> {
    Ok(DetectionConditions {
        codes: globs(d.codes, false, at)?,
        kinds: d.kinds,
        severity_at_least: d.severity_at_least,
        // A path in the image: `*` stays within one directory, `**` crosses them.
        paths: globs(d.paths, true, at)?,
    })
}

fn image(
    i: Spanned<ImageDoc>,
    at: &dyn Fn(&Location, String) -> PolicyError,
) -> Result<ImageConditions, PolicyError> {
    let loc = i.referenced;
    let i = i.value;
    let mut banned = Vec::new();
    for b in i.banned_packages {
        let b = b.value;
        let versions = b
            .versions
            .map(|v| VersionRange::parse(&v.value).map_err(|e| at(&v.referenced, e)))
            .transpose()?;
        banned.push(Banned {
            packages: globs(vec![b.name], false, at)?,
            versions,
        });
    }
    let c = ImageConditions {
        signed: i.signed,
        max_age_days: i.max_age_days,
        banned_packages: banned,
        denied_licenses: globs(i.denied_licenses, false, at)?,
    };
    if !c.signed
        && c.max_age_days.is_none()
        && c.banned_packages.is_empty()
        && c.denied_licenses.is_empty()
    {
        return Err(at(
            &loc,
            "an image rule with no condition: give signed, max-age-days, banned-packages or denied-licenses".to_owned(),
        ));
    }
    Ok(c)
}

fn rego(
    name: &str,
    g: Spanned<RegoDoc>,
    file: &str,
    at: &dyn Fn(&Location, String) -> PolicyError,
) -> Result<crate::rego::RegoRule, PolicyError> {
    let loc = g.referenced;
    let g = g.value;
    let module = match (g.module, g.file) {
        (Some(m), None) => m,
        (None, Some(f)) => {
            // Beside the policy file, as a relative path in it reads.
            let path = Path::new(file)
                .parent()
                .unwrap_or_else(|| Path::new("."))
                .join(&f);
            PolicyError::read(&path, MAX_FILE).map_err(|e| at(&loc, e.to_string()))?
        }
        _ => {
            return Err(at(
                &loc,
                format!("rule {name:?}: a rego rule gives module or file, one of them"),
            ));
        }
    };
    let query = g.query.unwrap_or_else(|| "data.customs.deny".to_owned());
    crate::rego::RegoRule::compile(name, &module, &query)
        .map_err(|e| at(&loc, format!("rule {name:?}: {e}")))
}

/// `YYYY-MM-DD`, checked.
fn date(
    s: &Spanned<String>,
    at: &dyn Fn(&Location, String) -> PolicyError,
) -> Result<String, PolicyError> {
    let v = s.value.trim();
    let ok = v.len() == 10 && Timestamp::parse_lenient(v).is_ok();
    if !ok {
        return Err(at(
            &s.referenced,
            format!("{v:?} is not a date (YYYY-MM-DD)"),
        ));
    }
    Ok(v.to_owned())
}

/// An exception, of a vulnerability or of detections.
enum Granted {
    Vulnerability(Exception),
    Detection(DetectionException),
}

fn exception(
    e: Spanned<ExceptionDoc>,
    allow_permanent: bool,
    at: &dyn Fn(&Location, String) -> PolicyError,
) -> Result<Granted, PolicyError> {
    let loc = e.referenced;
    let e = e.value;
    for (field, value) in [("reason", &e.reason), ("owner", &e.owner)] {
        if value.value.trim().is_empty() {
            return Err(at(
                &value.referenced,
                format!("an exception's {field} is empty"),
            ));
        }
    }
    let (names, code) = match (&e.vulnerability, &e.code) {
        (Some(v), None) => (v, false),
        (None, Some(c)) => (c, true),
        _ => {
            return Err(at(
                &loc,
                "an exception names a vulnerability or a detection code (code:), one of them"
                    .to_owned(),
            ));
        }
    };
    if names.value.trim().is_empty() {
        let what = if code {
            "detection code"
        } else {
            "vulnerability"
        };
        return Err(at(
            &names.referenced,
            format!("an exception names no {what}"),
        ));
    }
    if code && let Some(p) = e.packages.first() {
        return Err(at(
            &p.referenced,
            "packages: an exception of detections is scoped by paths, repositories and images"
                .to_owned(),
        ));
    }
    let created = date(&e.created, at)?;
    let expires = match &e.expires {
        Some(x) => {
            let d = date(x, at)?;
            if d < created {
                return Err(at(
                    &x.referenced,
                    format!("expires {d} is before created {created}"),
                ));
            }
            Some(d)
        }
        None if allow_permanent => None,
        None => {
            return Err(at(
                &loc,
                format!(
                    "the exception for {} has no expires date; set one, or allow-permanent-exceptions: true",
                    names.value
                ),
            ));
        }
    };
    let mut images = Vec::new();
    for d in e.images {
        let digest: customs_types::Digest = d.value.trim().parse().map_err(|err| {
            at(
                &d.referenced,
                format!("images: {:?} is not a manifest digest ({err})", d.value),
            )
        })?;
        images.push(digest.to_string());
    }
    let name = names.value.trim().to_owned();
    if code {
        let pattern = Spanned {
            value: name.clone(),
            referenced: names.referenced,
            defined: names.defined,
        };
        return Ok(Granted::Detection(DetectionException {
            codes: globs(vec![pattern], false, at)?,
            code: name,
            paths: globs(e.paths, true, at)?,
            repositories: globs(e.repositories, true, at)?,
            images,
            reason: e.reason.value,
            owner: e.owner.value,
            created,
            expires,
            ticket: e.ticket,
            line: loc.line(),
        }));
    }
    Ok(Granted::Vulnerability(Exception {
        vulnerability: name,
        packages: globs(e.packages, false, at)?,
        repositories: globs(e.repositories, true, at)?,
        paths: globs(e.paths, true, at)?,
        images,
        reason: e.reason.value,
        owner: e.owner.value,
        created,
        expires,
        ticket: e.ticket,
        line: loc.line(),
    }))
}
