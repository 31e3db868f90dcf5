//! The matcher: keyed look-ups per installed package, the distro's verdict, severity,
//! enrichment, and merging the same vulnerability reported by several feeds.

use std::cmp::Ordering;
use std::collections::hash_map::Entry;
use std::collections::{BTreeMap, BTreeSet, HashMap};

use customs_catalog::{Ecosystem, Inventory, Package};
use customs_types::{Feed, Namespace, Severity, Timestamp};
use customs_vulndb::{Cvss, DbError, Hit, Status, VulnDb};
use serde::Serialize;

use crate::finding::{
    CvssScore, DataSource, Finding, FindingStatus, FixDate, FixDateSource, PackageRef, Suppression,
};
use crate::namespace::namespaces;

/// Why matching stopped. A version that cannot be compared is not an error: it becomes a
/// warning in the report.
#[derive(Debug, thiserror::Error)]
pub enum MatchError {
    /// The vulnerability database could not be read.
    #[error(transparent)]
    Db(#[from] DbError),
}

/// What matching an inventory gave.
#[derive(Debug, Clone, Serialize)]
pub struct MatchReport {
    /// The namespaces the image's OS packages were looked up in, from its distribution (see
    /// [`namespaces`]), whether or not the database holds anything for them; empty when the
    /// distribution is unknown. Language packages are looked up in their ecosystem's
    /// namespace, not listed here.
    pub namespaces: Vec<Namespace>,
    /// Every finding, suppressed ones included (filters are the caller's), sorted by package
    /// name, version, severity (worst first) and id.
    pub findings: Vec<Finding>,
    /// Versions that could not be compared (a feed's or the image's), with the advisory.
    pub warnings: Vec<String>,
    /// (advisory id or alias, package name, package version) of withdrawn or rejected
    /// advisories naming an installed package: why a finding they once caused went away.
    #[serde(skip)]
    pub withdrawn: BTreeSet<(String, String, String)>,
    /// For each ecosystem the inventory has packages of, whether the database could judge
    /// them: a package looked up in no namespace the database holds is not "clean", it is
    /// unknown. Ordered by ecosystem.
    pub coverage: Vec<Coverage>,
}

/// Whether the database holds advisories for one ecosystem of an image.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Coverage {
    /// The ecosystem.
    pub ecosystem: Ecosystem,
    /// How many of the inventory's packages are of it.
    pub packages: usize,
    /// The namespaces its packages were looked up in that the database holds statements in,
    /// with the feeds behind them. Empty: not covered.
    pub sources: Vec<CoverageSource>,
}

/// One namespace and feed behind an ecosystem's coverage.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct CoverageSource {
    /// The namespace (`debian:12`, `osv:PyPI`).
    pub namespace: Namespace,
    /// The feed with statements there.
    pub feed: Feed,
    /// The newest date that feed gave a record in the namespace: how current the data is.
    pub newest: Option<Timestamp>,
}

/// The ecosystems of `coverage` the database holds no advisories for: their packages went
/// unjudged, so a finding of theirs that is missing now is not known to be fixed.
#[must_use]
pub fn unchecked(coverage: &[Coverage]) -> Vec<Ecosystem> {
    coverage
        .iter()
        .filter(|c| !c.covered())
        .map(|c| c.ecosystem)
        .collect()
}

impl Coverage {
    /// Whether any advisory data was there to match the ecosystem's packages against.
    #[must_use]
    pub fn covered(&self) -> bool {
        !self.sources.is_empty()
    }

    /// The newest record date among the feeds behind it.
    #[must_use]
    pub fn newest(&self) -> Option<Timestamp> {
        self.sources.iter().filter_map(|s| s.newest).max()
    }
}

/// Who a severity is credited to: `osv (pypi)` for OSV databases, `debian` for every Debian
/// feed, else the distribution the namespace names (`ubuntu`, `alpine`, `rhel`).
fn severity_source(feed: Feed, namespace: &Namespace) -> String {
    if namespace.is_osv() {
        return format!("osv ({})", namespace.family().to_lowercase());
    }
    match feed {
        Feed::DebianCveList | Feed::DebianDsa | Feed::DebianDla | Feed::DebianJson => {
            "debian".to_owned()
        }
        _ => namespace.family().to_owned(),
    }
}

/// Which feeds speak first when two say the same thing about one package: the distribution's
/// per-package tracker, then Debian's JSON export, then advisories (DSA/DLA), then the rest.
fn feed_rank(feed: Feed) -> u8 {
    match feed {
        Feed::DebianCveList | Feed::UbuntuUct | Feed::AlpineSecdb | Feed::RedhatCsaf => 0,
        Feed::DebianJson => 1,
        Feed::DebianDsa | Feed::DebianDla => 2,
        Feed::Osv | Feed::RustSec | Feed::Nvd | Feed::Kev | Feed::Epss => 3,
    }
}

fn cve_ids<'a>(id: &'a str, aliases: &'a [String]) -> impl Iterator<Item = &'a str> {
    std::iter::once(id)
        .chain(aliases.iter().map(String::as_str))
        .filter(|i| i.starts_with("CVE-"))
}

/// The best CVSS entry: the newest v3, then v4, then v2.
fn best_cvss(list: &[Cvss]) -> Option<&Cvss> {
    let rank = |c: &Cvss| match c.version.as_str() {
        "3.1" => 0,
        "3.0" => 1,
        "4.0" => 2,
        _ => 3,
    };
    list.iter().min_by_key(|c| rank(c))
}

/// Match every package of the inventory.
pub fn match_inventory(db: &VulnDb, inv: &Inventory) -> Result<MatchReport, MatchError> {
    Matcher::new(db).match_inventory(inv)
}

/// What matching one package gave, kept for the next package like it.
#[derive(Default)]
struct PackageMatch {
    findings: Vec<Finding>,
    warnings: Vec<String>,
    /// Ids and aliases of withdrawn advisories that named the package.
    withdrawn: Vec<String>,
}

/// What a package's match depends on besides the database: the namespaces searched and the
/// package fields the look-ups and comparisons read.
#[derive(Clone, PartialEq, Eq, Hash)]
struct PackageKey {
    namespaces: Vec<Namespace>,
    ecosystem: Ecosystem,
    name: String,
    version: String,
    source_name: Option<String>,
    source_version: Option<String>,
}

/// Matches inventories against one database. Many stored images share packages (one base
/// image under many builds), so a re-match of thousands of them is mostly the same look-ups
/// again: each distinct package (with its namespaces) is matched once and its findings are
/// reused, with the package's own purl and layer. One `Matcher` per thread; it lives as long
/// as the database it borrows and is meant for one run.
pub struct Matcher<'db> {
    db: &'db VulnDb,
    /// Whether the database holds anything for a namespace (`osv:PyPI`, `debian:12`, …).
    present: HashMap<Namespace, bool>,
    /// `debian:unstable`, when the database holds the tracker's CVE list for it.
    sid_fallback: Option<Namespace>,
    cache: HashMap<PackageKey, PackageMatch>,
}

impl<'db> Matcher<'db> {
    /// A matcher on `db`, with nothing cached yet.
    pub fn new(db: &'db VulnDb) -> Self {
        Self {
            db,
            present: HashMap::new(),
            sid_fallback: Namespace::distro("debian", "unstable")
                .ok()
                .filter(|sid| db.has(sid, Some(Feed::DebianCveList))),
            cache: HashMap::new(),
        }
    }

    fn has(&mut self, namespace: &Namespace) -> bool {
        if let Some(&known) = self.present.get(namespace) {
            return known;
        }
        let known = self.db.has(namespace, None);
        self.present.insert(namespace.clone(), known);
        known
    }

    /// Match every package of the inventory.
    pub fn match_inventory(&mut self, inv: &Inventory) -> Result<MatchReport, MatchError> {
        let ns: Vec<Namespace> = inv.distro.as_ref().map(namespaces).unwrap_or_default();
        // Only namespaces the database holds anything for: each empty one would cost a
        // look-up per package.
        let present: Vec<Namespace> = ns.iter().filter(|n| self.has(n)).cloned().collect();
        let mut findings = Vec::new();
        let mut warnings = Vec::new();
        let mut withdrawn = BTreeSet::new();
        let mut coverage: BTreeMap<Ecosystem, (usize, BTreeSet<Namespace>)> = BTreeMap::new();
        for pkg in &inv.packages {
            // A language package is matched against its ecosystem's advisories (OSV,
            // RustSec, GHSA), whatever the distro.
            let namespaces = match Namespace::language(pkg.ecosystem) {
                Some(namespace) => {
                    if self.has(&namespace) {
                        vec![namespace]
                    } else {
                        vec![]
                    }
                }
                None => present.clone(),
            };
            let covered = coverage.entry(pkg.ecosystem).or_default();
            covered.0 += 1;
            covered.1.extend(namespaces.iter().cloned());
            let key = PackageKey {
                namespaces,
                ecosystem: pkg.ecosystem,
                name: pkg.name.clone(),
                version: pkg.version.clone(),
                source_name: pkg.source_name.clone(),
                source_version: pkg.source_version.clone(),
            };
            let found = match self.cache.entry(key) {
                Entry::Occupied(e) => e.into_mut(),
                Entry::Vacant(e) => {
                    let found = match_package(
                        self.db,
                        pkg,
                        &e.key().namespaces,
                        self.sid_fallback.as_ref(),
                    )?;
                    e.insert(found)
                }
            };
            for f in &found.findings {
                let mut f = f.clone();
                f.package = package_ref(pkg);
                findings.push(f);
            }
            warnings.extend(found.warnings.iter().cloned());
            for id in &found.withdrawn {
                withdrawn.insert((id.clone(), pkg.name.clone(), pkg.version.clone()));
            }
        }
        findings.sort_by(|a, b| {
            (
                &a.package.name,
                &a.package.version,
                std::cmp::Reverse(a.severity),
                &a.id,
            )
                .cmp(&(
                    &b.package.name,
                    &b.package.version,
                    std::cmp::Reverse(b.severity),
                    &b.id,
                ))
        });
        let coverage = coverage
            .into_iter()
            .map(|(ecosystem, (packages, namespaces))| Coverage {
                ecosystem,
                packages,
                sources: namespaces
                    .iter()
                    .flat_map(|namespace| {
                        self.db
                            .feeds_in(namespace)
                            .into_iter()
                            .map(|(feed, newest)| CoverageSource {
                                namespace: namespace.clone(),
                                feed,
                                newest,
                            })
                    })
                    .collect(),
            })
            .collect();
        Ok(MatchReport {
            namespaces: ns,
            findings,
            warnings,
            withdrawn,
            coverage,
        })
    }
}

/// Look a package up in each namespace (by the names that namespace files it under) and
/// evaluate every hit.
fn match_package(
    db: &VulnDb,
    pkg: &Package,
    namespaces: &[Namespace],
    sid_fallback: Option<&Namespace>,
) -> Result<PackageMatch, MatchError> {
    let mut out = PackageMatch::default();
    let mut per_pkg: Vec<Finding> = Vec::new();
    for namespace in namespaces {
        let mut keys: Vec<&str> = Vec::new();
        match pkg.ecosystem {
            Ecosystem::PyPI
            | Ecosystem::Npm
            | Ecosystem::Cargo
            | Ecosystem::Go
            | Ecosystem::Maven
            | Ecosystem::Gem
            | Ecosystem::Composer
            | Ecosystem::NuGet => {
                keys.push(&pkg.name);
            }
            Ecosystem::Rpm => {
                keys.push(&pkg.name);
                keys.extend(pkg.source_name.as_deref());
            }
            Ecosystem::Deb | Ecosystem::Apk => keys.extend(pkg.source_name.as_deref()),
        }
        if pkg.ecosystem == Ecosystem::Apk || keys.is_empty() {
            keys.push(&pkg.name);
        }
        keys.dedup();
        let mut seen = BTreeSet::new();
        for key in keys {
            if !seen.insert(key) {
                continue;
            }
            let mut hits = db.lookup(namespace, key)?;
            // The tracker's CVE list states a release only where it differs from sid: a
            // `- pkg VERSION` line without `[release]` holds for every release that has no
            // line of its own.
            if let Some(sid) = sid_fallback
                && !namespace.is_osv()
                && namespace.family() == sid.family()
                && namespace != sid
            {
                let own: BTreeSet<String> = hits.iter().map(|h| h.advisory.id.clone()).collect();
                hits.extend(db.lookup(sid, key)?.into_iter().filter(|h| {
                    h.advisory.feed == Feed::DebianCveList && !own.contains(&h.advisory.id)
                }));
            }
            for hit in hits {
                if hit.advisory.withdrawn {
                    out.withdrawn.push(hit.advisory.id.clone());
                    out.withdrawn.extend(hit.advisory.aliases.iter().cloned());
                    continue;
                }
                if let Some(f) = evaluate(db, pkg, &hit, &mut out.warnings)? {
                    per_pkg.push(f);
                }
            }
        }
    }
    out.findings = merge(per_pkg);
    Ok(out)
}

fn evaluate(
    db: &VulnDb,
    pkg: &Package,
    hit: &Hit,
    warnings: &mut Vec<String>,
) -> Result<Option<Finding>, DbError> {
    let a = &hit.advisory;
    let eco = pkg.ecosystem;
    // Debian and Ubuntu feeds state source versions; binNMUs (+b1) exist only in binaries.
    let installed = match pkg.ecosystem {
        Ecosystem::Deb => pkg
            .source_version
            .clone()
            .unwrap_or_else(|| pkg.version.clone()),
        _ => pkg.version.clone(),
    };
    let mut bad = |v: &str, e: String| {
        warnings.push(format!(
            "{} {}: cannot compare {installed} with {v}: {e}",
            a.id, pkg.name
        ))
    };
    let mut cmp = |x: &str, y: &str| -> Option<Ordering> {
        match customs_version::compare(eco, x, y) {
            Ok(o) => Some(o),
            Err(e) => {
                bad(y, e.to_string());
                None
            }
        }
    };
    let (status, fixed, suppressed) = match &hit.affected.status {
        Status::Fixed { fixed, .. } => match cmp(&installed, fixed) {
            Some(Ordering::Less) => (FindingStatus::Fixed, vec![fixed.clone()], None),
            _ => return Ok(None),
        },
        Status::Unfixed => (FindingStatus::Affected, vec![], None),
        Status::UnderInvestigation => (FindingStatus::UnderInvestigation, vec![], None),
        Status::WontFix { reason } => (
            FindingStatus::WontFix,
            vec![],
            Some(Suppression::WontFix {
                reason: reason.clone(),
            }),
        ),
        Status::NotAffected { reason } => (
            FindingStatus::NotAffected,
            vec![],
            Some(Suppression::NotAffected {
                reason: reason.clone(),
            }),
        ),
        Status::Ranges { ranges, versions } => {
            let mut c = |x: &str, y: &str| cmp(x, y);
            if !crate::ranges::affected(ranges, versions, &installed, &mut c) {
                return Ok(None);
            }
            let rustsec = ranges
                .iter()
                .any(|r| r.kind == customs_vulndb::RangeKind::Rustsec);
            let fixed: Vec<String> = ranges
                .iter()
                .flat_map(|r| r.events.iter())
                .filter_map(|e| match e {
                    customs_vulndb::Event::Fixed(v) => Some(v.clone()),
                    _ => None,
                })
                // RustSec's fixes are requirements (`>= 1.6.1`), shown as written.
                .filter(|v| {
                    rustsec
                        || matches!(
                            customs_version::compare(eco, &installed, v),
                            Ok(Ordering::Less)
                        )
                })
                .collect();
            let status = if fixed.is_empty() {
                FindingStatus::Affected
            } else {
                FindingStatus::Fixed
            };
            (status, fixed, None)
        }
    };
    let vendor_sev = hit
        .affected
        .severity
        .or(a.severity)
        .filter(|s| *s != Severity::Unknown);
    let debian = !hit.affected.namespace.is_osv() && hit.affected.namespace.family() == "debian";
    let suppressed = suppressed.or_else(|| {
        (vendor_sev == Some(Severity::Negligible) && debian).then_some(Suppression::Unimportant)
    });
    let cves: Vec<&str> = cve_ids(&a.id, &a.aliases).collect();
    let first_cve = cves.first().copied();
    let nvd = match first_cve {
        Some(c) => db.nvd(c)?,
        None => None,
    };
    let nvd_cvss = nvd.as_ref().and_then(|n| best_cvss(&n.cvss)).cloned();
    let vendor_cvss = best_cvss(&a.cvss).cloned();
    let (severity, severity_source) = match (vendor_sev, &nvd_cvss) {
        (Some(s), _) => (s, Some(severity_source(a.feed, &hit.affected.namespace))),
        (None, Some(c)) if c.score.is_some() => (
            Severity::from_cvss_score(c.score.unwrap_or(0.0)),
            Some("nvd".to_owned()),
        ),
        _ => match vendor_cvss.as_ref().and_then(|c| c.score) {
            Some(s) => (
                Severity::from_cvss_score(s),
                Some(severity_source(a.feed, &hit.affected.namespace)),
            ),
            None => (Severity::Unknown, None),
        },
    };
    let cvss = vendor_cvss.or(nvd_cvss).map(|c| CvssScore {
        version: c.version,
        vector: c.vector,
        score: c.score,
        source: c.source,
    });
    let mut kev = None;
    let mut epss = None;
    for c in &cves {
        if kev.is_none() {
            kev = db.kev(c)?;
        }
        if epss.is_none() {
            epss = db.epss(c)?;
        }
    }
    let vendor_fix = match &hit.affected.status {
        Status::Fixed { date, .. } => date.as_deref(),
        _ => None,
    };
    let fix_date = (status == FindingStatus::Fixed)
        .then(|| fix_date(a, vendor_fix, nvd.as_ref()))
        .flatten();
    let title = a
        .summary
        .clone()
        .or_else(|| nvd.and_then(|n| n.description));
    Ok(Some(Finding {
        id: a.id.clone(),
        aliases: a.aliases.clone(),
        package: package_ref(pkg),
        installed_version: installed,
        fixed_versions: fixed,
        status,
        fix_date,
        suppressed,
        severity,
        severity_source,
        cvss,
        kev,
        epss,
        title,
        note: hit.affected.note.clone(),
        data_source: DataSource {
            feed: a.feed,
            record: a.record.clone(),
            namespace: hit.affected.namespace.clone(),
            package: hit.affected.package.clone(),
        },
    }))
}

/// When the fix the advisory names became available: the day the vendor released it (a Red
/// Hat erratum, `vendor_fix`) or a distribution's advisory announced it, else the day an
/// OSV-style advisory naming it was published, else the vulnerability's public date (see
/// [`FixDateSource`]).
fn fix_date(
    a: &customs_vulndb::AdvisoryHead,
    vendor_fix: Option<&str>,
    nvd: Option<&customs_vulndb::NvdRecord>,
) -> Option<FixDate> {
    let day = |s: &str| Timestamp::parse_lenient(s).ok().map(|t| t.date());
    if let Some(date) = vendor_fix.and_then(day) {
        return Some(FixDate {
            date,
            source: FixDateSource::Announced,
        });
    }
    let own = a.published.as_deref().and_then(day);
    let source = match a.feed {
        Feed::DebianDsa | Feed::DebianDla => FixDateSource::Announced,
        Feed::Osv | Feed::RustSec => FixDateSource::Advisory,
        _ => FixDateSource::Disclosed,
    };
    own.map(|date| FixDate { date, source }).or_else(|| {
        nvd.and_then(|n| n.published.as_deref())
            .and_then(day)
            .map(|date| FixDate {
                date,
                source: FixDateSource::Disclosed,
            })
    })
}

fn package_ref(p: &Package) -> PackageRef {
    PackageRef {
        name: p.name.clone(),
        version: p.version.clone(),
        ecosystem: p.ecosystem,
        purl: p.purl.clone(),
        source_name: p.source_name.clone(),
        source_version: p.source_version.clone(),
        layer: p.layer.clone(),
        layer_index: p.layer_index,
    }
}

/// One finding per vulnerability per package. The same id from several feeds keeps the most
/// authoritative feed's verdict. A DSA/DLA whose CVEs all have findings of their own is folded
/// into them as an alias; otherwise it stands as its own finding.
fn merge(mut list: Vec<Finding>) -> Vec<Finding> {
    list.sort_by_key(|f| (feed_rank(f.data_source.feed), f.id.clone()));
    let mut by_id: BTreeMap<String, Finding> = BTreeMap::new();
    let mut advisories: Vec<Finding> = Vec::new();
    for f in list {
        if !f.id.starts_with("CVE-")
            && f.aliases.iter().any(|a| a.starts_with("CVE-"))
            && matches!(f.data_source.feed, Feed::DebianDsa | Feed::DebianDla)
        {
            advisories.push(f);
            continue;
        }
        match by_id.get_mut(&f.id) {
            Some(kept) => {
                for a in f.aliases {
                    if !kept.aliases.contains(&a) && a != kept.id {
                        kept.aliases.push(a);
                    }
                }
            }
            None => {
                by_id.insert(f.id.clone(), f);
            }
        }
    }
    for adv in advisories {
        let cves: Vec<&String> = adv
            .aliases
            .iter()
            .filter(|a| a.starts_with("CVE-"))
            .collect();
        if cves.iter().all(|c| by_id.contains_key(*c)) {
            for c in cves {
                if let Some(kept) = by_id.get_mut(c) {
                    if !kept.aliases.contains(&adv.id) {
                        kept.aliases.push(adv.id.clone());
                    }
                    // The distribution's announcement dates the fix better than the CVE's
                    // public date; of several, the first announced.
                    if kept.status == FindingStatus::Fixed
                        && let Some(d) = &adv.fix_date
                        && kept
                            .fix_date
                            .as_ref()
                            .is_none_or(|k| k.source != FixDateSource::Announced || d.date < k.date)
                    {
                        kept.fix_date = Some(d.clone());
                    }
                }
            }
        } else if let Some(kept) = by_id.get_mut(&adv.id) {
            for a in adv.aliases {
                if !kept.aliases.contains(&a) {
                    kept.aliases.push(a);
                }
            }
        } else {
            by_id.insert(adv.id.clone(), adv);
        }
    }
    by_id.into_values().collect()
}
