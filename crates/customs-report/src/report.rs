//! The typed result of a scan, which every renderer reads.

use std::collections::BTreeSet;
use std::path::PathBuf;

use customs_catalog::Inventory;
use customs_catalog::customs_detect::{Detection, DetectionKind, Scanners};
use customs_match::{Coverage, Finding};
use customs_policy::AppliedDetectionException;
use customs_types::Timestamp;
use customs_types::{Ecosystem, Namespace, Severity};
use customs_vulndb::VulnDb;
use serde::Serialize;

/// The JSON schema the scan report is written in: the inventory's fields plus the scan's.
/// 1.1: times are `YYYY-MM-DDTHH:MM:SS.ffffffZ` (1.0 wrote `built_at` without a fraction).
/// 1.2: `coverage`, and `vulnerability_db.empty`.
/// 1.3: the inventory's 1.3 fields (`source.kind` `sbom`, `source.described`, `unchecked`).
/// 1.9: `scanners`; `detections` (the inventory's 1.6 field) as the filter shows them, each
/// with `suppressed`, and `detections_hidden`; the policy verdict's detection violations and
/// exceptions.
pub const SCAN_SCHEMA: &str = "customs.scan/1.9";

/// An inventory matched against a vulnerability database.
#[derive(Debug, Clone)]
pub struct ScanReport {
    /// What is installed.
    pub inventory: Inventory,
    /// Every finding, sorted by package name, version, severity (worst first) and id. Those
    /// with [`Finding::suppressed`] set carry the vendor's reason for hiding them: see
    /// [`open`](Self::open) and [`suppressed`](Self::suppressed).
    pub findings: Vec<Finding>,
    /// The advisory namespaces of the image's distribution release.
    pub namespaces: Vec<Namespace>,
    /// The database matched against.
    pub database: DatabaseInfo,
    /// Versions that could not be compared (an advisory's or the image's).
    pub match_warnings: Vec<String>,
    /// (advisory id or alias, package, version) of withdrawn advisories that named an
    /// installed package: why a finding stored before may have gone.
    pub withdrawn: BTreeSet<(String, String, String)>,
    /// Per ecosystem of the image: its packages, and whether the database holds advisories
    /// for it and how recent they are.
    pub coverage: Vec<Coverage>,
    /// Who signed the image, judged by a trust policy, when the scan was asked to check.
    pub signature: Option<SignatureVerdict>,
    /// The gate's verdict (`scan --policy`), when the scan was asked for one.
    pub policy: Option<customs_policy::Verdict>,
    /// The VEX documents the scan was given (`scan --vex`) and what they suppressed.
    pub vex: Option<customs_policy::vex::VexReport>,
    /// The scanners that ran (`--scanners`). Without `vuln`, `findings` and `coverage` are
    /// empty because nothing was matched, not because nothing is vulnerable: see
    /// [`not_run`](Self::not_run). The secret, config and file detections are the
    /// inventory's (`inventory.detections`); an exception of the policy that covers one is in
    /// the verdict ([`detection_suppression`](Self::detection_suppression)).
    pub scanners: Scanners,
}

/// The scanners a stored or read-back inventory records as run: `secret`, `config` and `file`
/// as its `inspected.scanners` lists them (none for an inventory written before they
/// existed), and `vuln` as the caller matches it. A report rebuilt from a stored inventory
/// takes these, so that a policy over detections the scan never looked for does not pass.
#[must_use]
pub fn recorded_scanners(inventory: &Inventory, vuln: bool) -> Scanners {
    let ran = |kind: DetectionKind| {
        inventory
            .inspected
            .as_ref()
            .is_some_and(|i| i.scanners.iter().any(|s| s == kind.as_str()))
    };
    Scanners {
        vuln,
        secret: ran(DetectionKind::Secret),
        config: ran(DetectionKind::Config),
        file: ran(DetectionKind::File),
    }
}

/// What a trust policy says of an image's signatures (`customs verify --trust-policy`).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, serde::Deserialize)]
pub struct SignatureVerdict {
    /// The reference as given.
    pub reference: String,
    /// The digest it resolved to: what was verified, and what the scan read.
    pub digest: String,
    /// When that digest is an index: the platform manifest's digest whose signatures were
    /// also read.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub platform_digest: Option<String>,
    /// The policy that applied (`None`: no policy names the repository, or the source is not
    /// in a registry).
    pub policy: Option<String>,
    /// Its mode: `enforce`, `warn` or `skip`.
    pub mode: Option<String>,
    /// How many authorities had to have signed.
    pub required: usize,
    /// Each authority, and whether it signed.
    pub authorities: Vec<AuthorityResult>,
    /// Signatures found on the image.
    pub signatures: usize,
    /// Whether enough authorities signed.
    pub satisfied: bool,
    /// `pass`, `warn` (not satisfied, mode warn), `fail`, or `skip` (the policy says not to
    /// verify: nothing was checked).
    pub outcome: Outcome,
    /// Why not satisfied: a stable reason code (`no-policy`, `no-signature`,
    /// `untrusted-key`, …).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub code: Option<String>,
}

impl SignatureVerdict {
    /// One line for people and for the formats that carry the verdict as text:
    /// `fail: no-signature (policy production; 0 of 1 required authorities signed)`.
    #[must_use]
    pub fn summary(&self) -> String {
        let policy = self.policy.as_deref().unwrap_or("none");
        let signed = self.authorities.iter().filter(|a| a.signed).count();
        let counts = format!("{signed} of {} required authorities signed", self.required);
        match (self.outcome, &self.code) {
            (Outcome::Skip, _) => format!("skip: policy {policy} does not verify signatures"),
            (o, Some(code)) => format!("{}: {code} (policy {policy}; {counts})", o.as_str()),
            (o, None) => format!("{} (policy {policy}; {counts})", o.as_str()),
        }
    }

    /// Each authority as `NAME signed` or `NAME not signed: CODE`.
    #[must_use]
    pub fn authority_lines(&self) -> Vec<String> {
        self.authorities
            .iter()
            .map(|a| match (&a.code, a.signed) {
                (_, true) => format!("{} signed", a.name),
                (Some(c), false) => format!("{} not signed: {c}", a.name),
                (None, false) => format!("{} not signed", a.name),
            })
            .collect()
    }
}

/// A signature verdict's outcome.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, serde::Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum Outcome {
    /// Signed as the policy requires.
    Pass,
    /// Not, and the policy only warns.
    Warn,
    /// Not, and the policy enforces (or none applies: a gate that does not know fails).
    Fail,
    /// Not checked: the policy's mode is `skip` (Notation's level of that name).
    Skip,
}

impl Outcome {
    /// `pass`, `warn`, `fail` or `skip`.
    #[must_use]
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Pass => "pass",
            Self::Warn => "warn",
            Self::Fail => "fail",
            Self::Skip => "skip",
        }
    }
}

/// One authority of a trust policy, judged.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, serde::Deserialize)]
pub struct AuthorityResult {
    /// Its name in the policy.
    pub name: String,
    /// Whether one of the image's signatures is by it.
    pub signed: bool,
    /// Why not: the reason code.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub code: Option<String>,
    /// The refusal's detail.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub detail: Option<String>,
}

/// Why a scan cannot say an image is clean: the gate fails closed on each.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[serde(tag = "gap", rename_all = "kebab-case")]
pub enum Gap {
    /// The database holds no advisory at all.
    EmptyDatabase,
    /// The source lists packages customs has no ecosystem for (an SBOM's gems or jars).
    Unsupported {
        /// Their kind: the package-URL type, or `unknown`.
        kind: String,
        /// How many went unjudged.
        packages: usize,
    },
    /// The image has packages of an ecosystem the database holds no advisories for.
    NotCovered {
        /// The ecosystem.
        ecosystem: Ecosystem,
        /// How many packages of it went unjudged.
        packages: usize,
    },
}

impl std::fmt::Display for Gap {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            Self::EmptyDatabase => {
                f.write_str("the vulnerability database holds no advisories: nothing was matched")
            }
            Self::Unsupported { kind, packages } => write!(
                f,
                "customs has no ecosystem for the {packages} {kind} package(s) the source lists: they went unchecked"
            ),
            Self::NotCovered {
                ecosystem,
                packages,
            } => write!(
                f,
                "the vulnerability database has no advisories for {} packages: {packages} of them went unchecked",
                ecosystem.label()
            ),
        }
    }
}

/// Which findings a reader asked to see (`--only-fixed`, `--severity`, `--show-suppressed`).
///
/// Detections are shown by the same severities and the same `show_suppressed` (an exception of
/// the policy suppresses one as it does a finding); `only_fixed` is about a package's fixed
/// version, which a detection has none of, so it does not hide them.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Filter {
    /// Also the suppressed ones (not affected, won't fix, unimportant).
    pub show_suppressed: bool,
    /// Only those with a fixed version.
    pub only_fixed: bool,
    /// Only these severities; all when empty.
    pub severities: Vec<Severity>,
}

impl Filter {
    /// Whether `f` is shown.
    #[must_use]
    pub fn shows(&self, f: &Finding) -> bool {
        (self.show_suppressed || f.suppressed.is_none())
            && (!self.only_fixed || f.fixable())
            && (self.severities.is_empty() || self.severities.contains(&f.severity))
    }

    /// Whether detection `d` is shown, `suppressed` saying whether an exception covers it.
    #[must_use]
    pub fn shows_detection(&self, d: &Detection, suppressed: bool) -> bool {
        (self.show_suppressed || !suppressed)
            && (self.severities.is_empty() || self.severities.contains(&d.severity))
    }
}

/// A detection a filter shows, with the policy's exception that covers it, if one does. It
/// serializes as the detection with `suppressed` added (`excepted: OWNER until DATE:
/// REASON`, or `null`), as the scan report writes it.
#[derive(Debug, Clone, Serialize)]
pub struct ShownDetection<'r> {
    /// The detection.
    #[serde(flatten)]
    pub detection: &'r Detection,
    /// The exception in force that covers it.
    #[serde(rename = "suppressed", serialize_with = "suppression")]
    pub exception: Option<&'r AppliedDetectionException>,
}

impl ShownDetection<'_> {
    /// Why it is suppressed: `excepted: OWNER until DATE: REASON`.
    #[must_use]
    pub fn suppressed(&self) -> Option<String> {
        self.exception.map(AppliedDetectionException::suppression)
    }
}

/// `ShownDetection::exception` as the report writes it: the exception's words, or `null`.
fn suppression<S: serde::Serializer>(
    e: &Option<&AppliedDetectionException>,
    s: S,
) -> Result<S::Ok, S::Error> {
    e.map(AppliedDetectionException::suppression).serialize(s)
}

/// The findings and detections a filter shows, in report order, and how many it hides.
#[derive(Debug, Clone)]
pub struct View<'r> {
    /// Shown.
    pub shown: Vec<&'r Finding>,
    /// Hidden by the filter (suppressed or filtered out).
    pub hidden: usize,
    /// The secret, config and file detections shown, in the inventory's order (kind, code,
    /// location).
    pub detections: Vec<ShownDetection<'r>>,
    /// Detections hidden by the filter.
    pub detections_hidden: usize,
}

impl View<'_> {
    /// Whether a shown finding or detection at or above `min` fails the gate (`--fail-on`).
    /// Suppressed ones never fail it, even when shown. A report whose scanners did not all
    /// run is not clean for what was not looked at: see [`ScanReport::not_run`].
    #[must_use]
    pub fn fails_at(&self, min: Severity) -> bool {
        self.shown
            .iter()
            .any(|f| f.suppressed.is_none() && f.severity >= min)
            || self
                .detections
                .iter()
                .any(|d| d.exception.is_none() && d.detection.severity >= min)
    }
}

impl ScanReport {
    /// Findings that are not suppressed: what the store tracks and a gate judges.
    pub fn open(&self) -> impl Iterator<Item = &Finding> {
        self.findings.iter().filter(|f| f.suppressed.is_none())
    }

    /// Findings the vendor's verdict hides, each with its reason.
    pub fn suppressed(&self) -> impl Iterator<Item = &Finding> {
        self.findings.iter().filter(|f| f.suppressed.is_some())
    }

    /// The findings and detections `filter` shows.
    #[must_use]
    pub fn view(&self, filter: &Filter) -> View<'_> {
        let shown: Vec<&Finding> = self.findings.iter().filter(|f| filter.shows(f)).collect();
        let found = &self.inventory.detections;
        let detections: Vec<ShownDetection<'_>> = found
            .iter()
            .map(|d| ShownDetection {
                detection: d,
                exception: self.policy.as_ref().and_then(|v| v.detection_exception(d)),
            })
            .filter(|s| filter.shows_detection(s.detection, s.exception.is_some()))
            .collect();
        View {
            hidden: self.findings.len() - shown.len(),
            shown,
            detections_hidden: found.len() - detections.len(),
            detections,
        }
    }

    /// Why detection `d` is suppressed: the words of the policy's exception that covers it
    /// (`excepted: OWNER until DATE: REASON`), when the scan was judged by a policy and one
    /// does.
    #[must_use]
    pub fn detection_suppression(&self, d: &Detection) -> Option<String> {
        self.policy
            .as_ref()?
            .detection_exception(d)
            .map(AppliedDetectionException::suppression)
    }

    /// The scanners that did not run (`vuln`, `secret`, `config`, `file`), for a renderer to
    /// say "not scanned for: …": a report without findings or detections is clean only for
    /// what was looked at.
    #[must_use]
    pub fn not_run(&self) -> Vec<&'static str> {
        let s = self.scanners;
        [
            (s.vuln, "vuln"),
            (s.secret, "secret"),
            (s.config, "config"),
            (s.file, "file"),
        ]
        .into_iter()
        .filter_map(|(ran, name)| (!ran).then_some(name))
        .collect()
    }

    /// What the scan could not judge: an empty database, each ecosystem of the image
    /// without advisory data, except those in `allowed` (`--allow-missing-coverage`), and
    /// packages of a kind customs has no ecosystem for. A gate that meets any of them must
    /// not pass the image.
    ///
    /// None when the vulnerability scanner did not run (`--scanners` without `vuln`): nothing
    /// was matched by choice, which [`not_run`](Self::not_run) says, not a gap in the data.
    #[must_use]
    pub fn gaps(&self, allowed: &[Ecosystem]) -> Vec<Gap> {
        if !self.scanners.vuln {
            return Vec::new();
        }
        if self.database.empty {
            return vec![Gap::EmptyDatabase];
        }
        let mut gaps: Vec<Gap> = self
            .coverage
            .iter()
            .filter(|c| !c.covered() && !allowed.contains(&c.ecosystem))
            .map(|c| Gap::NotCovered {
                ecosystem: c.ecosystem,
                packages: c.packages,
            })
            .collect();
        gaps.extend(
            self.inventory
                .unchecked
                .iter()
                .map(|(kind, n)| Gap::Unsupported {
                    kind: kind.clone(),
                    packages: *n,
                }),
        );
        gaps
    }

    /// Warnings about the scan as a whole: old data, gaps in the data, a distribution without
    /// advisories. None of them when the vulnerability scanner did not run: the data was not
    /// used.
    #[must_use]
    pub fn scan_warnings(&self) -> Vec<String> {
        if !self.scanners.vuln {
            return Vec::new();
        }
        let mut out: Vec<String> = self.database.age_warning().into_iter().collect();
        out.extend(self.gaps(&[]).iter().map(ToString::to_string));
        if self.namespaces.is_empty() {
            out.push(
                "no advisory namespace for this image's distribution; OS packages were not matched"
                    .to_owned(),
            );
        }
        out
    }

    /// The report as `customs.scan/1.9` JSON: the inventory's own fields, then the scan's,
    /// with the findings and detections `filter` shows. The inventory's `detections` are
    /// written once, replaced by those the filter shows (each with `suppressed`); its
    /// `inspected` stays as the inventory has it.
    ///
    /// # Errors
    /// Serialization failures (none in practice: every field is plain data).
    pub fn to_json(&self, filter: &Filter) -> serde_json::Result<serde_json::Value> {
        #[derive(Serialize)]
        struct Scan<'a> {
            scanners: Vec<&'static str>,
            vulnerability_db: &'a DatabaseInfo,
            namespaces: &'a [Namespace],
            coverage: Vec<CoverageJson<'a>>,
            findings: Vec<&'a Finding>,
            /// Findings hidden by the filters (suppressed, --only-fixed, --severity).
            hidden: usize,
            detections: Vec<ShownDetection<'a>>,
            /// Detections hidden by the filters (suppressed, --severity).
            detections_hidden: usize,
            match_warnings: &'a [String],
            #[serde(skip_serializing_if = "Option::is_none")]
            signature: Option<&'a SignatureVerdict>,
            #[serde(skip_serializing_if = "Option::is_none")]
            policy: Option<&'a customs_policy::Verdict>,
            #[serde(skip_serializing_if = "Option::is_none")]
            vex: Option<&'a customs_policy::vex::VexReport>,
        }
        #[derive(Serialize)]
        struct CoverageJson<'a> {
            #[serde(flatten)]
            coverage: &'a Coverage,
            covered: bool,
            newest: Option<customs_types::Timestamp>,
        }
        let view = self.view(filter);
        let mut doc = serde_json::to_value(&self.inventory)?;
        let scan = serde_json::to_value(Scan {
            scanners: self.scanners.names(),
            vulnerability_db: &self.database,
            namespaces: &self.namespaces,
            coverage: self
                .coverage
                .iter()
                .map(|c| CoverageJson {
                    coverage: c,
                    covered: c.covered(),
                    newest: c.newest(),
                })
                .collect(),
            findings: view.shown,
            hidden: view.hidden,
            detections: view.detections,
            detections_hidden: view.detections_hidden,
            match_warnings: &self.match_warnings,
            signature: self.signature.as_ref(),
            policy: self.policy.as_ref(),
            vex: self.vex.as_ref(),
        })?;
        if let (Some(d), serde_json::Value::Object(extra)) = (doc.as_object_mut(), scan) {
            d.insert("schema".to_owned(), SCAN_SCHEMA.into());
            d.extend(extra);
        }
        Ok(doc)
    }
}

/// Data older than this many days earns a warning.
const STALE_AFTER_DAYS: i64 = 7;

/// What a report says about the database it was matched against.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct DatabaseInfo {
    /// The file.
    pub path: PathBuf,
    /// When it was built.
    pub built_at: Option<Timestamp>,
    /// The newest record date of any feed in it.
    pub newest_advisory: Option<Timestamp>,
    /// Whether it holds no advisory statement at all: a match against it knows nothing.
    pub empty: bool,
}

impl DatabaseInfo {
    /// The database's identity and age.
    ///
    /// # Errors
    /// The database's own errors.
    pub fn of(db: &VulnDb) -> Result<Self, customs_vulndb::DbError> {
        let meta = db.meta()?;
        Ok(Self {
            path: db.path().to_owned(),
            built_at: meta.built_at,
            newest_advisory: meta.newest_advisory,
            empty: db.is_empty(),
        })
    }

    /// How many days old the data is at `now`, by its newest record (else its build time),
    /// when that is more than a week: a warning, never a failure.
    #[must_use]
    pub fn stale_days(&self, now: Timestamp) -> Option<(i64, Timestamp)> {
        let newest = self.newest_advisory.or(self.built_at)?;
        let days = newest.days_until(now);
        (days > STALE_AFTER_DAYS).then_some((days, newest))
    }

    /// The warning for old data, if it is.
    #[must_use]
    pub fn age_warning(&self) -> Option<String> {
        self.stale_days(Timestamp::now()).map(|(days, newest)| {
            format!(
                "the vulnerability data is {days} days old (newest advisory {}); run `customs db update` for current data",
                newest.date()
            )
        })
    }
}
