//! `customs db build|info`, and where the database lives.

use std::io::Write;
use std::path::PathBuf;
use std::process::ExitCode;

use anyhow::{Context, Result, bail};
use customs_vulndb::{FeedKind, VulnDb};

use crate::Format;

#[derive(clap::Subcommand)]
pub(crate) enum DbCmd {
    /// Build a database from feed files or folders (format detected, or KIND:PATH with KIND one
    /// of debian-cve-list, debian-dsa, debian-dla, debian-json, alpine-yaml, alpine-json,
    /// ubuntu-uct, redhat-csaf, osv-json, osv-yaml, rustsec, nvd, kev-json, kev-csv, epss).
    Build {
        #[arg(long, short, value_name = "FILE")]
        out: PathBuf,
        #[arg(required = true, value_name = "INPUT")]
        inputs: Vec<String>,
    },
    /// Fetch the upstream feeds (or those named with --feed) and rebuild the database.
    Update {
        #[command(flatten)]
        db: DbArgs,
        /// A feed to fetch instead of the defaults, as KIND=URL (repeatable), e.g.
        /// debian-dsa=https://…/data/DSA/list. Kinds: see `customs db build --help`.
        #[arg(long = "feed", value_name = "KIND=URL")]
        feeds: Vec<String>,
        #[command(flatten)]
        common: crate::CommonArgs,
    },
    /// Sources, record counts, newest advisory date, build time.
    Info {
        #[command(flatten)]
        db: DbArgs,
        #[arg(long, short, value_enum, default_value = "table")]
        format: Format,
    },
}

#[derive(clap::Args, Debug, Clone, Default)]
pub(crate) struct DbArgs {
    /// The vulnerability database (default: customs' data directory).
    #[arg(long, env = "CUSTOMS_DB", value_name = "FILE")]
    pub(crate) db: Option<PathBuf>,
}

/// `$XDG_DATA_HOME/customs/vuln.db`, else `~/.local/share/customs/vuln.db`.
pub(crate) fn default_db() -> Option<PathBuf> {
    let xdg = std::env::var_os("XDG_DATA_HOME")
        .filter(|v| !v.is_empty())
        .map(PathBuf::from);
    let home = std::env::var_os("HOME").map(|h| PathBuf::from(h).join(".local/share"));
    xdg.or(home).map(|d| d.join("customs/vuln.db"))
}

/// The snapshot of real advisory data compiled into the binary (see data/snapshot/SOURCES.md),
/// so a fresh install scans offline.
const SNAPSHOT: &[(FeedKind, &str, &str)] = &[
    (
        FeedKind::DebianDsa,
        "snapshot:debian/DSA/list",
        include_str!("../../../data/snapshot/debian/DSA/list"),
    ),
    (
        FeedKind::DebianDla,
        "snapshot:debian/DLA/list",
        include_str!("../../../data/snapshot/debian/DLA/list"),
    ),
    (
        FeedKind::AlpineYaml,
        "snapshot:alpine/v3.10/main.yaml",
        include_str!("../../../data/snapshot/alpine/v3.10/main.yaml"),
    ),
    (
        FeedKind::AlpineYaml,
        "snapshot:alpine/v3.10/community.yaml",
        include_str!("../../../data/snapshot/alpine/v3.10/community.yaml"),
    ),
    (
        FeedKind::AlpineYaml,
        "snapshot:alpine/v3.11/main.yaml",
        include_str!("../../../data/snapshot/alpine/v3.11/main.yaml"),
    ),
    (
        FeedKind::AlpineYaml,
        "snapshot:alpine/v3.11/community.yaml",
        include_str!("../../../data/snapshot/alpine/v3.11/community.yaml"),
    ),
    (
        FeedKind::KevJson,
        "snapshot:kev/known_exploited_vulnerabilities.json",
        include_str!("../../../data/snapshot/kev/known_exploited_vulnerabilities.json"),
    ),
];

/// Open the database: `--db`/`CUSTOMS_DB`, else the default one, built from the built-in
/// snapshot on first use.
pub(crate) fn open(args: &DbArgs, quiet: bool) -> Result<VulnDb> {
    if let Some(p) = &args.db {
        if !p.is_file() {
            bail!(
                "{}: no vulnerability database there; build one with `customs db build --out {} FEEDS...`, \
                 fetch one with `customs db update --db {}`, or drop --db to use the built-in snapshot",
                p.display(),
                p.display(),
                p.display()
            );
        }
        return Ok(VulnDb::open(p)?);
    }
    let path = default_db().context("no home directory: pass --db FILE")?;
    // A default database from an older customs is rebuilt rather than refused.
    let stale = path.is_file()
        && matches!(
            VulnDb::open(&path),
            Err(customs_vulndb::DbError::Schema { .. })
        );
    if !path.is_file() || stale {
        if let Some(dir) = path.parent() {
            std::fs::create_dir_all(dir).with_context(|| dir.display().to_string())?;
        }
        if !quiet {
            writeln!(
                std::io::stderr(),
                "customs: building the vulnerability database from the built-in snapshot at {} (first use)",
                path.display()
            )?;
        }
        customs_vulndb::build_embedded(&path, SNAPSHOT, customs_types::Timestamp::now())?;
    }
    Ok(VulnDb::open(&path)?)
}

/// A warning when the data is old; never a failure.
pub(crate) fn age_warning(db: &VulnDb) -> Option<String> {
    let meta = db.meta().ok()?;
    let newest = meta.newest_advisory.or(meta.built_at)?;
    let days = newest.days_until(customs_types::Timestamp::now());
    (days > 7).then(|| {
        format!(
            "the vulnerability data is {days} days old (newest advisory {}); run `customs db update` for current data",
            newest.date()
        )
    })
}

pub(crate) fn run(cmd: &DbCmd) -> Result<ExitCode> {
    let mut out = std::io::stdout().lock();
    match cmd {
        DbCmd::Build { out: path, inputs } => {
            let t = std::time::Instant::now();
            let report = customs_vulndb::build(path, inputs, customs_types::Timestamp::now())?;
            let mut err = std::io::stderr().lock();
            for w in &report.warnings {
                writeln!(err, "warning: {w}")?;
            }
            for s in &report.sources {
                writeln!(
                    out,
                    "{:<16} {:>8} records  newest {:<25} {}",
                    s.feed,
                    s.records,
                    s.newest.as_deref().unwrap_or("-"),
                    s.input
                )?;
            }
            let size = std::fs::metadata(path).map(|m| m.len()).unwrap_or(0);
            writeln!(
                out,
                "{}: {} advisories, {} enrichment records, {} files skipped, {} warnings; {:.1} MB in {:.1} s",
                path.display(),
                report.advisories,
                report.enrichment,
                report.skipped,
                report.warnings.len(),
                size as f64 / 1e6,
                t.elapsed().as_secs_f64()
            )?;
            Ok(ExitCode::SUCCESS)
        }
        DbCmd::Update { db, feeds, common } => {
            let sources = if feeds.is_empty() {
                customs_vulndb::default_sources()
            } else {
                feeds
                    .iter()
                    .map(|f| {
                        customs_vulndb::FeedSource::parse(f).with_context(|| {
                            format!("--feed {f:?}: expected KIND=URL with a known KIND")
                        })
                    })
                    .collect::<Result<Vec<_>>>()?
            };
            let path = match &db.db {
                Some(p) => p.clone(),
                None => default_db().context("no home directory: pass --db FILE")?,
            };
            if let Some(dir) = path.parent().filter(|d| !d.as_os_str().is_empty()) {
                std::fs::create_dir_all(dir).with_context(|| dir.display().to_string())?;
            }
            let downloads = common
                .cache_root()
                .context("no cache directory: pass --cache-dir")?
                .join("feeds");
            let transport = crate::pull::transport(&common.registry, None)?;
            let report = customs_vulndb::update(
                &transport,
                &path,
                &sources,
                &downloads,
                customs_types::Timestamp::now(),
            )?;
            let mut err = std::io::stderr().lock();
            for f in &report.fetched {
                writeln!(err, "fetched {f}")?;
            }
            for f in &report.failed {
                writeln!(err, "warning: {f}")?;
            }
            for w in &report.build.warnings {
                writeln!(err, "warning: {w}")?;
            }
            writeln!(
                out,
                "{}: {} advisories, {} enrichment records from {} feeds ({} failed)",
                path.display(),
                report.build.advisories,
                report.build.enrichment,
                report.fetched.len(),
                report.failed.len()
            )?;
            Ok(ExitCode::SUCCESS)
        }
        DbCmd::Info { db, format } => {
            let db = open(db, false)?;
            let info = db.info()?;
            match format {
                Format::Json => {
                    serde_json::to_writer_pretty(&mut out, &info)?;
                    writeln!(out)?;
                }
                Format::Table => {
                    writeln!(out, "database:   {}", info.path.display())?;
                    writeln!(out, "schema:     {}", info.schema_version)?;
                    writeln!(
                        out,
                        "built at:   {}",
                        info.built_at
                            .map_or_else(|| "-".to_owned(), |t| t.to_string())
                    )?;
                    writeln!(
                        out,
                        "newest:     {}",
                        info.newest_advisory
                            .map_or_else(|| "-".to_owned(), |t| t.to_string())
                    )?;
                    writeln!(
                        out,
                        "records:    {} advisories, {} package statements, {} NVD, {} KEV, {} EPSS",
                        info.advisories, info.affected, info.nvd, info.kev, info.epss
                    )?;
                    writeln!(out, "size:       {:.1} MB", info.size_bytes as f64 / 1e6)?;
                    for s in &info.sources {
                        writeln!(
                            out,
                            "  {:<16} {:>8} records  newest {:<25} {}",
                            s.feed,
                            s.records,
                            s.newest.as_deref().unwrap_or("-"),
                            s.input
                        )?;
                    }
                }
            }
            if let Some(w) = age_warning(&db) {
                writeln!(std::io::stderr(), "warning: {w}")?;
            }
            Ok(ExitCode::SUCCESS)
        }
    }
}
