//! `customs audit report`: what the store says of the audited images, without reading any
//! image again. Its JSON is `customs.audit-report/1`, described by
//! `docs/audit-report.schema.json`.
//!
//! The Banyan objection (a study that counts every old tag overstates what people pull) is
//! answered by giving each figure twice: over every tag, and over the current tags only. A tag
//! is current when its image was built within [`ReportOptions::window_days`] of the newest
//! image of its repository, or when it is `latest`, or when its image carries no build date
//! (an image of unknown age is not let off). Every other figure is over all images.

use std::collections::{BTreeMap, BTreeSet};

use customs_store::Store;
use customs_types::{Severity, Timestamp};
use customs_vulndb::VulnDb;
use serde::Serialize;

use crate::{AppError, Result};

/// The schema name of the report's JSON.
pub const SCHEMA: &str = "customs.audit-report/1";

/// What the report covers.
#[derive(Debug, Clone)]
pub struct ReportOptions {
    /// Only repositories under this prefix (`127.0.0.1:5000/`, `reg.lan/team/`); `None`: every
    /// stored repository.
    pub prefix: Option<String>,
    /// A tag is current when its image was built within this many days of its repository's
    /// newest.
    pub window_days: u32,
    /// The clock images' ages are counted by.
    pub now: Timestamp,
    /// How many packages the top list names.
    pub top: usize,
}

impl Default for ReportOptions {
    fn default() -> Self {
        Self {
            prefix: None,
            window_days: 90,
            now: Timestamp::now(),
            top: 10,
        }
    }
}

/// The share of images with critical or high findings, over a population of tags.
#[derive(Debug, Clone, Default, PartialEq, Serialize)]
pub struct Population {
    /// Repositories with at least one such tag.
    pub repositories: usize,
    /// Tags.
    pub tags: usize,
    /// Distinct images those tags point at.
    pub images: usize,
    /// Of them, images with an open critical or high finding.
    pub with_critical_or_high: usize,
    /// `with_critical_or_high / images` (0 for no images).
    pub share_critical_or_high: f64,
    /// Of them, images with packages no advisory data covered (an ecosystem the database has
    /// no feed for, a kind of package customs has no ecosystem for): their findings may be
    /// missing, so `share_critical_or_high` is a lower bound when this is not 0.
    pub with_gaps: usize,
}

/// A group of images (an age bracket, a base image).
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Group {
    /// The group's name.
    pub name: String,
    /// Images in it.
    pub images: usize,
    /// Of them, images with an open critical or high finding.
    pub with_critical_or_high: usize,
}

/// Open findings over every image, counted once per image.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize)]
pub struct Totals {
    /// Open findings.
    pub open: usize,
    /// With a fixed version known.
    pub fixable: usize,
    /// Without one.
    pub not_fixable: usize,
    /// In CISA's Known Exploited Vulnerabilities.
    pub kev: usize,
    /// In packages the image's base brought.
    pub from_base: usize,
    /// In packages the image's own layers brought.
    pub from_image: usize,
    /// In packages whose layer is not recorded.
    pub unplaced: usize,
}

/// A package and how many images have open findings in it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct PackageCount {
    /// The package's name.
    pub package: String,
    /// Images with an open finding in it.
    pub images: usize,
    /// Open findings in it, over those images.
    pub findings: usize,
}

/// An image that a rebuild fixes findings of.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct RebuildAdvice {
    /// The image.
    pub digest: String,
    /// Its tags.
    pub tags: Vec<String>,
    /// What to do: `rebuild on BASE:TAG` or `update to REPO:TAG`.
    pub advice: String,
    /// The digest that advice leads to.
    pub to: String,
    /// Findings it fixes.
    pub fixes: usize,
    /// Of how many (the image's base findings for a rebuild, its open findings for an update).
    pub of: usize,
}

/// One image of the report.
#[derive(Debug, Clone, Serialize)]
pub struct ImageRow {
    /// Its digest.
    pub digest: String,
    /// Its tags (`REPOSITORY:TAG`), sorted.
    pub tags: Vec<String>,
    /// Whether one of its tags is current.
    pub current: bool,
    /// The config's build date, when it has one.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub created: Option<Timestamp>,
    /// Days from `created` to the report's clock.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub age_days: Option<i64>,
    /// Its base image's name (or digest), when one is stored.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub base: Option<String>,
    /// Its base image's digest, when one is stored.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub base_digest: Option<String>,
    /// Open findings by severity.
    pub open: BTreeMap<Severity, usize>,
    /// Open findings with a fixed version known.
    pub fixable: usize,
    /// Open findings in KEV.
    pub kev: usize,
    /// What was not checked for it: ecosystems the vulnerability database holds no advisories
    /// for (`pypi`), kinds of package customs has no ecosystem for (`gem`); sorted.
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub unchecked: Vec<String>,
}

/// `customs audit report`.
#[derive(Debug, Clone, Serialize)]
pub struct AuditReport {
    /// [`SCHEMA`].
    pub schema: &'static str,
    /// When it was written (the options' clock).
    pub generated_at: Timestamp,
    /// The repositories' prefix it covers; `None`: every stored repository.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub prefix: Option<String>,
    /// The window that makes a tag current, in days.
    pub current_window_days: u32,
    /// The build time of the oldest vulnerability database the images' stored findings were
    /// matched against: the findings are as current as that (`customs rematch` brings them up
    /// to date). `None` when no image's database had a build time.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub findings_as_of: Option<Timestamp>,
    /// The newest advisory of the database the report checked coverage with: data this old
    /// knows nothing of later vulnerabilities.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub newest_advisory: Option<Timestamp>,
    /// Every tag.
    pub all: Population,
    /// Current tags only.
    pub current: Population,
    /// Images by age: under 30 days, 30–90, 90–365, over a year, unknown.
    pub by_age: Vec<Group>,
    /// Images by base image (`none known` when no stored image is their base).
    pub by_base: Vec<Group>,
    /// Open findings.
    pub findings: Totals,
    /// Images with at least one open finding in KEV.
    pub kev_images: usize,
    /// Packages by how many images have open findings in them, most first.
    pub top_packages: Vec<PackageCount>,
    /// Images a rebuild on the current base, or an update to the tag's current digest,
    /// would fix findings of; most fixed first.
    pub rebuilds: Vec<RebuildAdvice>,
    /// Every image, by digest.
    pub images: Vec<ImageRow>,
}

/// The age brackets of [`AuditReport::by_age`].
const AGES: [(&str, i64); 4] = [
    ("under 30 days", 30),
    ("30 to 90 days", 90),
    ("90 days to a year", 365),
    ("over a year", i64::MAX),
];

/// The report of the stored images under `opts.prefix` (see the module's documentation).
/// `db` says which of the images' packages had advisory data to be checked against: an image
/// with packages it does not cover is marked ([`ImageRow::unchecked`]), never counted clean
/// without a word.
///
/// # Errors
/// [`AppError::Invalid`] when the store holds no tagged image in scope (an empty report would
/// read as a clean registry); the store's errors, a stored inventory that does not read
/// back, or the database's.
pub fn report(store: &mut dyn Store, db: &VulnDb, opts: &ReportOptions) -> Result<AuditReport> {
    let mut matcher = customs_match::Matcher::new(db);
    let all_tags = super::tag_histories(store)?;
    let in_scope = |repository: &str| {
        opts.prefix
            .as_deref()
            .is_none_or(|p| repository.starts_with(p))
    };
    // digest -> its (repository, tag)s in scope
    let mut by_digest: BTreeMap<String, Vec<(String, String)>> = BTreeMap::new();
    for ((repository, tag), history) in all_tags.iter().filter(|((r, _), _)| in_scope(r)) {
        if let Some(last) = history.last() {
            by_digest
                .entry(last.digest.clone())
                .or_default()
                .push((repository.clone(), tag.clone()));
        }
    }
    let mut rows = Vec::new();
    let mut totals = Totals::default();
    let mut packages: BTreeMap<String, (BTreeSet<String>, usize)> = BTreeMap::new();
    let mut rebuilds = Vec::new();
    let mut findings_as_of = None;
    for (digest, tags) in &by_digest {
        let Some(image) = store.image(digest)? else {
            continue;
        };
        if let Some(at) = image.summary.db_built_at {
            findings_as_of = Some(findings_as_of.map_or(at, |o: Timestamp| o.min(at)));
        }
        let inventory: customs_catalog::Inventory = serde_json::from_value(image.inventory)
            .map_err(|source| AppError::StoredInventory {
                digest: digest.clone(),
                source,
            })?;
        let created = inventory
            .image
            .as_ref()
            .and_then(|i| i.created.as_deref())
            .and_then(|c| Timestamp::parse_lenient(c).ok());
        // The inventory read above: resolving the digest again would read it twice, and list
        // every stored image to match a prefix.
        let history = store.history(digest)?;
        let base = super::base_report_of(store, digest.clone(), &inventory, &history, &all_tags)?;
        // The stored findings are the lifecycle's; the match here is only asked what it
        // could check.
        let coverage = matcher.match_inventory(&inventory)?.coverage;
        let mut unchecked: Vec<String> = customs_match::unchecked(&coverage)
            .into_iter()
            .map(|e| e.to_string())
            .chain(inventory.unchecked.keys().cloned())
            .collect();
        unchecked.sort();
        unchecked.dedup();
        let open: Vec<&customs_store::FindingHistory> =
            history.iter().filter(|f| f.resolved_at.is_none()).collect();
        let mut row = ImageRow {
            digest: digest.clone(),
            tags: tags.iter().map(|(r, t)| format!("{r}:{t}")).collect(),
            current: false,
            created,
            age_days: created.map(|c| c.days_until(opts.now)),
            base: base.base.as_ref().map(|b| {
                b.names
                    .first()
                    .cloned()
                    .or_else(|| b.digest.clone())
                    .unwrap_or_default()
            }),
            base_digest: base.base.as_ref().and_then(|b| b.digest.clone()),
            open: BTreeMap::new(),
            fixable: 0,
            kev: 0,
            unchecked,
        };
        row.tags.sort();
        for f in &open {
            *row.open.entry(f.severity).or_insert(0) += 1;
            let fixed = f.data["fixed_versions"]
                .as_array()
                .is_some_and(|v| !v.is_empty());
            if fixed {
                row.fixable += 1;
            }
            if f.data.get("kev").is_some_and(|k| !k.is_null()) {
                row.kev += 1;
            }
            let entry = packages.entry(f.package_name.clone()).or_default();
            entry.0.insert(digest.clone());
            entry.1 += 1;
        }
        totals.open += open.len();
        totals.fixable += row.fixable;
        totals.kev += row.kev;
        totals.from_base += base.from_base.len();
        totals.from_image += base.from_image.len();
        totals.unplaced += base.unplaced.len();
        for r in &base.rebuilds {
            if !r.fixes.is_empty() {
                rebuilds.push(RebuildAdvice {
                    digest: digest.clone(),
                    tags: row.tags.clone(),
                    advice: format!("rebuild on {}", r.on),
                    to: r.current.clone(),
                    fixes: r.fixes.len(),
                    of: r.of,
                });
            }
        }
        rows.push(row);
    }
    // Fail closed: a report of nothing would read as a registry without findings.
    if rows.is_empty() {
        return Err(AppError::invalid(
            "the audit report",
            format!(
                "the store holds no tagged image{}: run `customs audit REGISTRY` first",
                opts.prefix
                    .as_deref()
                    .map(|p| format!(" under {p:?}"))
                    .unwrap_or_default()
            ),
        ));
    }
    totals.not_fixable = totals.open - totals.fixable;
    // Images a tag left behind are not in the population (no tag points at them); a tag's
    // move that fixed findings is advice for whoever still runs the old digest.
    for d in crate::images::drift_in(store, &all_tags)? {
        if in_scope(&d.repository) && !d.findings.removed.is_empty() {
            let of = store
                .history(&d.from)?
                .iter()
                .filter(|f| f.first_seen <= d.moved_at)
                .count();
            rebuilds.push(RebuildAdvice {
                digest: d.from.clone(),
                tags: Vec::new(),
                advice: format!("update to {}:{}", d.repository, d.tag),
                to: d.to.clone(),
                fixes: d.findings.removed.len(),
                of,
            });
        }
    }
    rebuilds.sort_by(|a, b| b.fixes.cmp(&a.fixes).then_with(|| a.digest.cmp(&b.digest)));
    let current_tags = mark_current(&mut rows, &by_digest, opts.window_days);
    let serious = |r: &ImageRow| {
        r.open.get(&Severity::Critical).copied().unwrap_or(0)
            + r.open.get(&Severity::High).copied().unwrap_or(0)
            > 0
    };
    let population = |rows: &[&ImageRow]| {
        let repositories: BTreeSet<&str> = rows
            .iter()
            .flat_map(|r| r.tags.iter())
            .filter_map(|t| t.rsplit_once(':').map(|(r, _)| r))
            .collect();
        let images = rows.len();
        let with = rows.iter().filter(|r| serious(r)).count();
        Population {
            repositories: repositories.len(),
            tags: rows.iter().map(|r| r.tags.len()).sum(),
            images,
            with_critical_or_high: with,
            with_gaps: rows.iter().filter(|r| !r.unchecked.is_empty()).count(),
            share_critical_or_high: if images == 0 {
                0.0
            } else {
                f64::from(u32::try_from(with).unwrap_or(u32::MAX))
                    / f64::from(u32::try_from(images).unwrap_or(u32::MAX))
            },
        }
    };
    let every: Vec<&ImageRow> = rows.iter().collect();
    let current: Vec<&ImageRow> = rows.iter().filter(|r| r.current).collect();
    let mut all = population(&every);
    let mut of_current = population(&current);
    of_current.tags = current_tags;
    all.tags = by_digest.values().map(Vec::len).sum();
    let group = |name: String, members: &[&ImageRow]| Group {
        name,
        images: members.len(),
        with_critical_or_high: members.iter().filter(|r| serious(r)).count(),
    };
    let mut by_age = Vec::new();
    let mut lower = i64::MIN;
    for (name, upper) in AGES {
        let members: Vec<&ImageRow> = every
            .iter()
            .copied()
            .filter(|r| r.age_days.is_some_and(|a| a >= lower.max(0) && a < upper))
            .collect();
        by_age.push(group(name.to_owned(), &members));
        lower = upper;
    }
    let unknown: Vec<&ImageRow> = every
        .iter()
        .copied()
        .filter(|r| r.age_days.is_none_or(|a| a < 0))
        .collect();
    by_age.push(group("unknown".to_owned(), &unknown));
    let mut bases: BTreeMap<String, Vec<&ImageRow>> = BTreeMap::new();
    for r in &every {
        bases
            .entry(r.base.clone().unwrap_or_else(|| "none known".to_owned()))
            .or_default()
            .push(r);
    }
    let mut by_base: Vec<Group> = bases.into_iter().map(|(n, m)| group(n, &m)).collect();
    by_base.sort_by(|a, b| b.images.cmp(&a.images).then_with(|| a.name.cmp(&b.name)));
    let mut top_packages: Vec<PackageCount> = packages
        .into_iter()
        .map(|(package, (images, findings))| PackageCount {
            package,
            images: images.len(),
            findings,
        })
        .collect();
    top_packages.sort_by(|a, b| {
        b.images
            .cmp(&a.images)
            .then_with(|| b.findings.cmp(&a.findings))
            .then_with(|| a.package.cmp(&b.package))
    });
    top_packages.truncate(opts.top);
    Ok(AuditReport {
        schema: SCHEMA,
        generated_at: opts.now,
        findings_as_of,
        newest_advisory: customs_report::DatabaseInfo::of(db)?.newest_advisory,
        prefix: opts.prefix.clone(),
        current_window_days: opts.window_days,
        kev_images: rows.iter().filter(|r| r.kev > 0).count(),
        all,
        current: of_current,
        by_age,
        by_base,
        findings: totals,
        top_packages,
        rebuilds,
        images: rows,
    })
}

/// The newest build date of each repository's tagged images.
fn newest_by_repository(
    rows: &[ImageRow],
    by_digest: &BTreeMap<String, Vec<(String, String)>>,
) -> BTreeMap<String, Timestamp> {
    let mut newest: BTreeMap<String, Timestamp> = BTreeMap::new();
    for r in rows {
        let Some(created) = r.created else { continue };
        for (repository, _) in by_digest.get(&r.digest).into_iter().flatten() {
            let n = newest.entry(repository.clone()).or_insert(created);
            if created > *n {
                *n = created;
            }
        }
    }
    newest
}

/// Mark each row current when one of its tags is, and count the current tags (an image also
/// tagged with old tags counts its current ones only).
fn mark_current(
    rows: &mut [ImageRow],
    by_digest: &BTreeMap<String, Vec<(String, String)>>,
    window_days: u32,
) -> usize {
    let newest = newest_by_repository(rows, by_digest);
    let mut tags = 0;
    for r in rows.iter_mut() {
        let current = by_digest
            .get(&r.digest)
            .into_iter()
            .flatten()
            .filter(|(repo, tag)| {
                super::is_current_tag(tag, r.created, newest.get(repo).copied(), window_days)
            })
            .count();
        r.current = current > 0;
        tags += current;
    }
    tags
}

/// A CSV field, quoted when it must be (RFC 4180).
fn csv_field(s: &str) -> String {
    if s.contains([',', '"', '\n', '\r']) {
        format!("\"{}\"", s.replace('"', "\"\""))
    } else {
        s.to_owned()
    }
}

impl AuditReport {
    /// The two populations side by side, a row per figure: what every format's first table
    /// shows.
    pub(crate) fn population_rows(&self) -> [(&'static str, String, String); 6] {
        let (a, c) = (&self.all, &self.current);
        let pct = |x: f64| format!("{:.1} %", x * 100.0);
        [
            (
                "repositories",
                a.repositories.to_string(),
                c.repositories.to_string(),
            ),
            ("tags", a.tags.to_string(), c.tags.to_string()),
            ("images", a.images.to_string(), c.images.to_string()),
            (
                "with critical or high findings",
                a.with_critical_or_high.to_string(),
                c.with_critical_or_high.to_string(),
            ),
            (
                "share with critical or high",
                pct(a.share_critical_or_high),
                pct(c.share_critical_or_high),
            ),
            (
                "with unchecked packages",
                a.with_gaps.to_string(),
                c.with_gaps.to_string(),
            ),
        ]
    }

    /// How old the stored findings' vulnerability data is, as a sentence.
    pub(crate) fn findings_age(&self) -> Option<String> {
        let built = self.findings_as_of.map(|at| {
            format!(
                "Findings as of the vulnerability database built {at} ({} days before this report); `customs rematch` brings them up to date.",
                at.days_until(self.generated_at)
            )
        });
        let newest = self.newest_advisory.map(|at| {
            format!(
                "The newest advisory known is of {at} ({} days before this report).",
                at.days_until(self.generated_at)
            )
        });
        match (built, newest) {
            (None, None) => None,
            (b, n) => Some([b, n].into_iter().flatten().collect::<Vec<_>>().join(" ")),
        }
    }

    /// One line per image (RFC 4180, with a header): digest, tags (space-separated), current,
    /// created, age in days, base, open findings by severity, fixable, KEV, what was not
    /// checked (space-separated).
    #[must_use]
    pub fn to_csv(&self) -> String {
        let mut out = String::from("digest,tags,current,created,age_days,base");
        // Worst first.
        for s in Severity::ALL.into_iter().rev() {
            out.push(',');
            out.push_str(s.as_str());
        }
        out.push_str(",fixable,kev,unchecked\r\n");
        for r in &self.images {
            let mut fields = vec![
                csv_field(&r.digest),
                csv_field(&r.tags.join(" ")),
                r.current.to_string(),
                r.created.map(|c| c.to_string()).unwrap_or_default(),
                r.age_days.map(|a| a.to_string()).unwrap_or_default(),
                csv_field(r.base.as_deref().unwrap_or_default()),
            ];
            for s in Severity::ALL.into_iter().rev() {
                fields.push(r.open.get(&s).copied().unwrap_or(0).to_string());
            }
            fields.push(r.fixable.to_string());
            fields.push(r.kev.to_string());
            fields.push(csv_field(&r.unchecked.join(" ")));
            out.push_str(&fields.join(","));
            out.push_str("\r\n");
        }
        out
    }

    /// The report for people, in Markdown: the two populations side by side, then each
    /// breakdown as a table. Names from the store are escaped for Markdown tables.
    #[must_use]
    pub fn to_markdown(&self) -> String {
        use std::fmt::Write as _;
        let cell = |s: &str| s.replace('|', "\\|").replace(['\n', '\r'], " ");
        let mut md = String::new();
        let _ = writeln!(md, "# Registry audit");
        let _ = writeln!(
            md,
            "\n{} · generated {} · a tag is current within {} days of its repository's newest build, or `latest`\n",
            cell(self.prefix.as_deref().unwrap_or("every stored repository")),
            self.generated_at,
            self.current_window_days
        );
        if let Some(line) = self.findings_age() {
            let _ = writeln!(md, "{line}\n");
        }
        let _ = writeln!(md, "| | all tags | current tags |\n|---|---|---|");
        for (name, all, current) in self.population_rows() {
            let _ = writeln!(md, "| {name} | {all} | {current} |");
        }
        let gaps: Vec<&ImageRow> = self
            .images
            .iter()
            .filter(|r| !r.unchecked.is_empty())
            .collect();
        if !gaps.is_empty() {
            let _ = writeln!(
                md,
                "\n**Not checked:** {} of {} images hold packages no advisory data covered; the shares above are lower bounds.\n",
                gaps.len(),
                self.images.len()
            );
            for r in gaps {
                let _ = writeln!(
                    md,
                    "- `{}`: {}",
                    cell(&r.digest),
                    cell(&r.unchecked.join(", "))
                );
            }
        }
        let f = &self.findings;
        let _ = writeln!(
            md,
            "\n## Findings\n\n{} open: {} fixable, {} not; {} in KEV (in {} images); {} from base images, {} from the images' own layers, {} unplaced.",
            f.open,
            f.fixable,
            f.not_fixable,
            f.kev,
            self.kev_images,
            f.from_base,
            f.from_image,
            f.unplaced
        );
        for (title, groups) in [("By age", &self.by_age), ("By base image", &self.by_base)] {
            let _ = writeln!(
                md,
                "\n## {title}\n\n| | images | with critical or high |\n|---|---|---|"
            );
            for g in groups {
                let _ = writeln!(
                    md,
                    "| {} | {} | {} |",
                    cell(&g.name),
                    g.images,
                    g.with_critical_or_high
                );
            }
        }
        let _ = writeln!(
            md,
            "\n## Top packages\n\n| package | images | findings |\n|---|---|---|"
        );
        for p in &self.top_packages {
            let _ = writeln!(
                md,
                "| {} | {} | {} |",
                cell(&p.package),
                p.images,
                p.findings
            );
        }
        let _ = writeln!(
            md,
            "\n## Rebuild list\n\n| image | tags | advice | fixes |\n|---|---|---|---|"
        );
        for r in &self.rebuilds {
            let _ = writeln!(
                md,
                "| `{}` | {} | {} | {} of {} |",
                cell(&r.digest),
                cell(&r.tags.join(", ")),
                cell(&r.advice),
                r.fixes,
                r.of
            );
        }
        md
    }
}
