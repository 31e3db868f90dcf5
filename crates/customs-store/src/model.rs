//! What goes into the store and what comes out of it.
//!
//! The inventory and finding types belong to `customs-catalog` and `customs-match`; the store
//! takes them as JSON ([`serde_json::Value`]) plus the few keys it indexes on, so it does not
//! depend on those crates and keeps whatever fields the scan report writes.

use std::collections::{BTreeMap, BTreeSet};
use std::fmt;
use std::str::FromStr;
use std::sync::Arc;

use serde::Serialize;
use serde_json::Value;

use crate::{Ecosystem, Severity, Timestamp};

/// One scan to store with [`Scans::put_scan`](crate::Scans::put_scan).
#[derive(Debug, Clone)]
pub struct ScanRecord {
    /// The manifest digest (`sha256:…`), or for a source without one a content key chosen by
    /// the caller. The image's primary key.
    pub digest: String,
    /// Repository the image was pulled from (`docker.io/library/debian`), if any.
    pub repository: Option<String>,
    /// Tag the image was referred to by. Requires `repository`.
    pub tag: Option<String>,
    /// Further `(repository, tag)`s that point at the image, stored with it as `tag` is (each
    /// tag's history, a moved tag's findings carried over): an image scanned once for all the
    /// tags a registry audit found on it.
    pub also_tagged: Vec<(String, String)>,
    /// The inventory document, as `customs-catalog` serialises it.
    pub inventory: Value,
    /// What a rematch needs of the inventory besides its packages (the distro, the source),
    /// as a JSON object; [`Scans::rematch_inputs`](crate::Scans::rematch_inputs) gives the
    /// packages back beside it.
    pub context: Value,
    /// Every package of `inventory`, in the compact form a rematch reads, with the keys the
    /// package index finds it by.
    pub packages: Vec<IndexedPackage>,
    /// Every finding of this scan (the complete set: open findings missing here get resolved).
    pub findings: Vec<FindingRecord>,
    /// When the scan ran: first/last scanned, tag `seen_at`, and finding timestamps.
    pub scanned_at: Timestamp,
    /// `built_at` of the vulnerability database the findings come from.
    pub db_built_at: Option<Timestamp>,
    /// Why open findings that this scan no longer has are resolved.
    pub resolutions: Resolutions,
    /// Names of the packages this scan judged; `None`: all of them. Stored findings of other
    /// packages are left as they are (those of an ecosystem the database had no advisories
    /// for: a missing feed is not a fix).
    pub scope: Option<BTreeSet<String>>,
    /// The image's signature verdict under a trust policy, when this scan checked one: kept
    /// with the scan time. `None` leaves a verdict stored before as it is.
    pub signature: Option<Value>,
}

/// A package as the package index keys it.
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct PackageKey {
    /// The package's ecosystem.
    pub ecosystem: Ecosystem,
    /// Package name (as advisories name it: a PyPI name normalised, a source package).
    pub name: String,
}

/// One package of a stored inventory.
#[derive(Debug, Clone, PartialEq)]
pub struct IndexedPackage {
    /// The keys advisories find it by (its own name; for an OS package also its source).
    pub keys: Vec<PackageKey>,
    /// The package document a rematch reads (`name` and `version` are read for tag moves).
    pub data: Value,
}

/// The typed view of a finding that the store needs; `data` is the finding itself.
#[derive(Debug, Clone, PartialEq)]
pub struct FindingRecord {
    /// Advisory or vulnerability id (`CVE-2024-1234`, `GHSA-…`).
    pub id: String,
    /// Affected package name.
    pub package_name: String,
    /// Installed version of the package.
    pub package_version: String,
    /// Severity; a change is reported in [`Delta::changed`].
    pub severity: Severity,
    /// Listed in CISA's Known Exploited Vulnerabilities catalog; becoming so is reported in
    /// [`Delta::kev`].
    pub kev: bool,
    /// The finding as the scan report writes it.
    pub data: Value,
}

impl FindingRecord {
    pub(crate) fn key(&self) -> FindingId {
        FindingId {
            id: self.id.clone(),
            package_name: self.package_name.clone(),
            package_version: self.package_version.clone(),
        }
    }
}

/// Identity of a finding within one image.
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct FindingId {
    /// Advisory or vulnerability id.
    pub id: String,
    /// Affected package name.
    pub package_name: String,
    /// Installed version.
    pub package_version: String,
}

/// Why findings that a write no longer has are resolved: a reason per finding where the
/// caller knows one (the vendor now says not affected), else per advisory id (withdrawn
/// advisories), else `default`.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Resolutions {
    /// The reason for findings found in neither map.
    pub default: ResolvedReason,
    /// Known reasons. Entries for findings that stay open are ignored.
    pub by_finding: BTreeMap<FindingId, ResolvedReason>,
    /// Reasons by advisory id, for every image of a run alike (hence shared).
    pub by_advisory: Arc<BTreeMap<String, ResolvedReason>>,
}

impl Resolutions {
    pub(crate) fn of(&self, key: &FindingId) -> ResolvedReason {
        self.by_finding
            .get(key)
            .or_else(|| self.by_advisory.get(&key.id))
            .copied()
            .unwrap_or(self.default)
    }
}

/// A rematch of one stored image, for [`Scans::apply_rematches`](crate::Scans::apply_rematches).
#[derive(Debug, Clone, Default)]
pub struct RematchRecord {
    /// The stored image.
    pub digest: String,
    /// Every finding the rematch produced for the packages in `scope`.
    pub findings: Vec<FindingRecord>,
    /// Names of the packages that were re-evaluated; `None`: all of them. Stored findings of
    /// other packages are left as they are.
    pub scope: Option<BTreeSet<String>>,
    /// Why findings no longer produced are resolved.
    pub resolutions: Resolutions,
}

/// A stored image as a rematch reads it, from
/// [`Scans::rematch_inputs`](crate::Scans::rematch_inputs).
#[derive(Debug, Clone, PartialEq)]
pub struct RematchInput {
    /// The image.
    pub digest: String,
    /// An inventory-shaped JSON document, as text: the stored context, with `"packages"`
    /// empty (they are in [`packages`](RematchInput::packages)). Text, for the caller to parse
    /// straight into its own type on its own threads.
    pub document: String,
    /// The packages asked for, in the inventory's order: each the JSON text stored for it,
    /// one element of an inventory's `"packages"`. Text rather than [`Value`]s, for the
    /// caller to parse straight into its own type, in parallel if it likes: a full rematch
    /// reads every package of the store, and a `Value` of each would cost gigabytes.
    pub packages: Vec<String>,
    /// Stored before the package rows existed (schema 1): `document` is the whole stored
    /// inventory, every package in it, whatever was asked for; `packages` is empty.
    pub whole_inventory: bool,
}

/// Why a finding stopped being open.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Default, Serialize)]
#[serde(rename_all = "kebab-case")]
pub enum ResolvedReason {
    /// The tag moved to a digest with another version of the package, without the finding.
    PackageUpgraded,
    /// The tag moved to a digest without the package.
    PackageRemoved,
    /// The advisory was withdrawn or rejected.
    AdvisoryWithdrawn,
    /// The vendor marked the package not affected.
    NotAffected,
    /// The distro's verdict now hides it: will not fix, postponed, unimportant.
    Suppressed,
    /// The finding is no longer produced, for no more specific known reason.
    #[default]
    NoLongerMatched,
}

impl ResolvedReason {
    /// Every reason, in declaration order.
    pub const ALL: [Self; 6] = [
        Self::PackageUpgraded,
        Self::PackageRemoved,
        Self::AdvisoryWithdrawn,
        Self::NotAffected,
        Self::Suppressed,
        Self::NoLongerMatched,
    ];

    /// The stable kebab-case code stored in `findings.resolved_reason`.
    #[must_use]
    pub const fn as_str(self) -> &'static str {
        match self {
            Self::PackageUpgraded => "package-upgraded",
            Self::PackageRemoved => "package-removed",
            Self::AdvisoryWithdrawn => "advisory-withdrawn",
            Self::NotAffected => "not-affected",
            Self::Suppressed => "suppressed",
            Self::NoLongerMatched => "no-longer-matched",
        }
    }
}

impl fmt::Display for ResolvedReason {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// A string that is not one of the [`ResolvedReason`] codes.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("unknown resolved reason `{0}`")]
pub struct UnknownReason(pub String);

impl FromStr for ResolvedReason {
    type Err = UnknownReason;

    fn from_str(s: &str) -> Result<Self, Self::Err> {
        Self::ALL
            .into_iter()
            .find(|r| r.as_str() == s)
            .ok_or_else(|| UnknownReason(s.to_owned()))
    }
}

/// What a write changed in an image's findings. Each list holds findings as the scan report
/// writes them (`data`), sorted by (id, package name, package version).
#[derive(Debug, Clone, Default, PartialEq, Serialize)]
pub struct Delta {
    /// Findings that were not open before: never seen, or seen, resolved, and back again.
    pub new: Vec<Value>,
    /// Findings that were open and are now resolved: their last stored data, with
    /// `resolved_reason` added (and `digest` where it is another image's: the digest a tag
    /// moved away from).
    pub resolved: Vec<Value>,
    /// Open findings whose severity changed (their new data).
    pub changed: Vec<Value>,
    /// Open findings newly listed as known exploited (CISA KEV), new ones included.
    pub kev: Vec<Value>,
}

impl Delta {
    /// Whether nothing changed.
    #[must_use]
    pub fn is_empty(&self) -> bool {
        self.new.is_empty()
            && self.resolved.is_empty()
            && self.changed.is_empty()
            && self.kev.is_empty()
    }
}

/// A stored image another is built on (see [`Scans::base_of`](crate::Scans::base_of)).
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct StoredBase {
    /// Its manifest digest.
    pub digest: String,
    /// How many layers it has: the bottom layers of the image built on it.
    pub layers: usize,
    /// The `REPOSITORY:TAG` names it was stored under, sorted; its repository alone when it
    /// had no tag.
    pub names: Vec<String>,
}

/// One stored image, as `customs images` lists it.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct ImageSummary {
    /// Manifest digest or content key.
    pub digest: String,
    /// Repository of the latest scan, if any.
    pub repository: Option<String>,
    /// `repository:tag` references whose latest tag row points at this digest, sorted.
    pub tags: Vec<String>,
    /// First time this digest was stored.
    pub first_scanned_at: Timestamp,
    /// Latest scan of this digest.
    pub last_scanned_at: Timestamp,
    /// `built_at` of the vulnerability database of the latest scan or rematch.
    pub db_built_at: Option<Timestamp>,
    /// Open findings by severity.
    pub open: BTreeMap<Severity, u64>,
}

/// One stored image with its inventory, from [`Scans::image`](crate::Scans::image).
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct ImageDetail {
    /// What [`Scans::images`](crate::Scans::images) lists for it.
    #[serde(flatten)]
    pub summary: ImageSummary,
    /// The stored inventory document.
    pub inventory: Value,
    /// The last signature verdict stored for it, and when it was checked.
    pub signature: Option<StoredVerdict>,
}

/// A signature verdict as stored with a scan.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct StoredVerdict {
    /// The verdict document (`customs verify --trust-policy -f json`'s).
    pub verdict: Value,
    /// When the scan that checked it ran.
    pub checked_at: Timestamp,
}

/// One finding's timeline in one image, from [`Findings::history`](crate::Findings::history).
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct FindingHistory {
    /// Advisory or vulnerability id.
    pub id: String,
    /// Affected package name.
    pub package_name: String,
    /// Installed version.
    pub package_version: String,
    /// Latest severity.
    pub severity: Severity,
    /// When it was first stored for this image.
    pub first_seen: Timestamp,
    /// When it was resolved; `None` while open.
    pub resolved_at: Option<Timestamp>,
    /// Why it was resolved; `None` while open.
    pub resolved_reason: Option<ResolvedReason>,
    /// Last time it was opened, resolved, reopened, or changed severity.
    pub last_changed: Timestamp,
    /// The latest stored finding document.
    pub data: Value,
}

/// One row of a tag's history: the tag pointed at `digest` when seen at `seen_at`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct TagEvent {
    /// Repository.
    pub repository: String,
    /// Tag.
    pub tag: String,
    /// Digest the tag resolved to.
    pub digest: String,
    /// When the scan saw it (a row is only added when the tag is new or moved).
    pub seen_at: Timestamp,
}

/// A notification waiting for delivery.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct OutboxEntry {
    /// Id to pass to `mark_delivered` / `mark_failed`.
    pub id: i64,
    /// Where it goes (`webhook=URL`, `exec=CMD`: the caller's spelling).
    pub target: String,
    /// The document to deliver.
    pub payload: Value,
    /// Failed attempts so far.
    pub attempts: u32,
    /// Error of the last failed attempt.
    pub last_error: Option<String>,
    /// When it was enqueued.
    pub created_at: Timestamp,
}

/// Points inside [`Scans::put_scan_with`](crate::Scans::put_scan_with)'s transaction, in
/// order. Nothing is visible to other connections before the commit that follows the last one.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum WriteStage {
    /// The image row (inventory, scan times) is written.
    ImageWritten,
    /// The tag row is added (or found current).
    TagWritten,
    /// The image's package index rows are rebuilt.
    PackagesIndexed,
    /// Findings are reconciled; the commit comes next.
    FindingsReconciled,
}

/// An image's latest verdict under one policy ([`Gates`](crate::Gates)).
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct StoredPolicyVerdict {
    /// The policy (its file, as given).
    pub policy: String,
    /// `pass`, `warn` or `fail`.
    pub outcome: String,
    /// The verdict document.
    pub verdict: Value,
    /// When it was judged.
    pub judged_at: Timestamp,
}

/// One change to one exception of a policy ([`Gates::sync_exceptions`](crate::Gates)).
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct ExceptionEvent {
    /// Its order among all events.
    pub id: i64,
    /// The policy (its file, as given).
    pub policy: String,
    /// What the exception covers: its vulnerability and scope.
    pub key: String,
    /// `added`, `changed` or `removed`.
    pub change: String,
    /// The exception as it is after the change (as it was, for `removed`).
    pub exception: Value,
    /// Who ran customs when the change was seen.
    pub by: String,
    /// When.
    pub at: Timestamp,
}

/// Where a job is in its life.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize)]
#[serde(rename_all = "kebab-case")]
pub enum JobState {
    /// Waiting for a worker (new, or retrying after a failure once `run_at` has come).
    Queued,
    /// Held by a worker until its lease ends.
    Running,
    /// Finished; its result is kept.
    Done,
    /// Failed `max_attempts` times: the dead letter, kept for a person to look at.
    Dead,
}

impl JobState {
    /// The word the store and the API use.
    #[must_use]
    pub const fn as_str(self) -> &'static str {
        match self {
            Self::Queued => "queued",
            Self::Running => "running",
            Self::Done => "done",
            Self::Dead => "dead",
        }
    }
}

impl std::str::FromStr for JobState {
    type Err = String;

    fn from_str(s: &str) -> Result<Self, Self::Err> {
        Ok(match s {
            "queued" => Self::Queued,
            "running" => Self::Running,
            "done" => Self::Done,
            "dead" => Self::Dead,
            _ => return Err(format!("{s:?} is not a job state")),
        })
    }
}

/// A job to queue.
#[derive(Debug, Clone)]
pub struct NewJob<'a> {
    /// What to do (`scan`, `rematch`, `notify`); the worker decides what each means.
    pub kind: &'a str,
    /// What makes two jobs the same: while one is queued or running, another with the same
    /// kind and key is not queued again (a digest pushed twice is scanned once).
    pub key: &'a str,
    /// The job's arguments.
    pub payload: &'a Value,
    /// How many times it runs before it is dead.
    pub max_attempts: u32,
}

/// What [`Jobs::enqueue`](crate::Jobs::enqueue) did.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
pub struct Enqueued {
    /// The job's id: the new one, or the live job with the same kind and key.
    pub id: i64,
    /// `false` when a live job with the same kind and key was there already.
    pub created: bool,
}

/// A job as the store holds it.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Job {
    /// Its id, in the order jobs were queued.
    pub id: i64,
    /// What to do.
    pub kind: String,
    /// Its de-duplication key.
    pub key: String,
    /// Its arguments.
    pub payload: Value,
    /// Where it is.
    pub state: JobState,
    /// How many times a worker has taken it.
    pub attempts: u32,
    /// How many times it may be taken before it is dead.
    pub max_attempts: u32,
    /// When it may run (later than now while it waits for a retry).
    pub run_at: Timestamp,
    /// While running: when its worker's lease ends.
    pub lease_until: Option<Timestamp>,
    /// The worker that holds it or last held it.
    pub worker: Option<String>,
    /// The last failure.
    pub last_error: Option<String>,
    /// What it produced, once done.
    pub result: Option<Value>,
    /// When it was queued.
    pub created_at: Timestamp,
    /// When it was done or declared dead.
    pub finished_at: Option<Timestamp>,
}

/// A job held by a worker. The attempt number fences it: once the lease has ended and
/// another worker has taken the job, this lease can no longer change it.
#[derive(Debug, Clone, PartialEq)]
pub struct Lease {
    /// The job, as it was when claimed.
    pub job: Job,
    /// The worker holding it.
    pub worker: String,
}

/// How many jobs are in each state.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize)]
pub struct QueueCounts {
    /// Waiting, ready or not.
    pub queued: u64,
    /// Held by a worker.
    pub running: u64,
    /// Finished.
    pub done: u64,
    /// Dead letters.
    pub dead: u64,
}

/// An API token as the store keeps it: its hash, never the token.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct TokenRecord {
    /// Its id.
    pub id: i64,
    /// Its unique name (who or what holds it).
    pub name: String,
    /// What it may do: `read`, `scan` or `admin`.
    pub scope: String,
    /// When it was made.
    pub created_at: Timestamp,
    /// When it was revoked; a revoked token is refused.
    pub revoked_at: Option<Timestamp>,
}
