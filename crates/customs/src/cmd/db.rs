//! `customs db build|update|info`.

use std::io::Write;
use std::path::PathBuf;
use std::process::ExitCode;

use anyhow::{Context, Result};
use customs_app::database::{self, DatabaseInfo};
use customs_vulndb::{FeedKind, SourceInfo};

use crate::args::{CacheArgs, DbArgs, Format, HttpArgs, Quiet};
use crate::render;

#[derive(clap::Subcommand)]
pub(crate) enum DbCmd {
    /// Build a database from feed files or folders (format detected, or KIND:PATH; `customs db
    /// build --help` lists the kinds).
    Build(BuildArgs),
    /// Fetch the upstream feeds (or those named with --feed) and rebuild the database. Each
    /// download must parse, hold records, and not shrink by more than 20 %; a feed that fails
    /// keeps its previous data, is named on standard error, and the exit status is 3.
    Update(UpdateArgs),
    /// Sources, record counts, newest advisory date, build time.
    Info(InfoArgs),
}

#[derive(clap::Args)]
#[command(after_help = kinds_help())]
pub(crate) struct BuildArgs {
    /// The database file to write (replaced only when the build succeeds).
    #[arg(long, short, value_name = "FILE")]
    out: PathBuf,
    /// Feed files or folders, each detected or named as KIND:PATH.
    #[arg(required = true, value_name = "INPUT")]
    inputs: Vec<String>,
}

fn kinds_help() -> String {
    let kinds: Vec<&str> = FeedKind::ALL.iter().map(|k| k.as_str()).collect();
    format!("Feed kinds (KIND:PATH): {}", kinds.join(", "))
}

#[derive(clap::Args)]
pub(crate) struct UpdateArgs {
    #[command(flatten)]
    db: DbArgs,
    /// A feed to fetch instead of the defaults, as KIND=URL (repeatable), e.g.
    /// debian-dsa=https://…/data/DSA/list. Kinds: see `customs db build --help`.
    #[arg(long = "feed", value_name = "KIND=URL")]
    feeds: Vec<String>,
    /// Take this feed's download even when it holds more than 20 % fewer records than its
    /// previous one (by kind, e.g. debian-dsa; repeatable).
    #[arg(long, value_name = "FEED")]
    allow_shrink: Vec<String>,
    #[command(flatten)]
    cache: CacheArgs,
    #[command(flatten)]
    http: HttpArgs,
    #[command(flatten)]
    quiet: Quiet,
}

impl UpdateArgs {
    pub(crate) fn sources(feeds: &[String]) -> Result<Vec<customs_vulndb::FeedSource>> {
        if feeds.is_empty() {
            return Ok(customs_vulndb::default_sources());
        }
        feeds
            .iter()
            .map(|f| {
                customs_vulndb::FeedSource::parse(f)
                    .with_context(|| format!("--feed {f:?}: expected KIND=URL with a known KIND"))
            })
            .collect()
    }
}

#[derive(clap::Args)]
pub(crate) struct InfoArgs {
    #[command(flatten)]
    db: DbArgs,
    #[arg(long, short, value_enum, default_value = "table")]
    format: Format,
}

fn sources(out: &mut impl Write, list: &[SourceInfo], indent: &str) -> Result<()> {
    for s in list {
        writeln!(
            out,
            "{indent}{:<16} {:>8} records  newest {:<25} {}",
            s.feed,
            s.records,
            s.newest.as_deref().unwrap_or("-"),
            s.input
        )?;
    }
    Ok(())
}

/// `db update`'s exit status when some feeds failed: the database was rebuilt, those feeds
/// with their previous data (or without them, when they had none).
pub(crate) const FEEDS_FAILED: u8 = 3;

pub(crate) fn run(cmd: &DbCmd, out: &mut impl Write) -> Result<ExitCode> {
    match cmd {
        DbCmd::Build(args) => {
            let t = std::time::Instant::now();
            let report = database::build(&args.out, &args.inputs)?;
            let mut err = std::io::stderr().lock();
            for w in report.warnings.iter().chain(&report.skipped) {
                writeln!(err, "warning: {w}")?;
            }
            sources(out, &report.sources, "")?;
            let size = std::fs::metadata(&args.out).map(|m| m.len()).unwrap_or(0);
            writeln!(
                out,
                "{}: {} advisories, {} enrichment records, {} files skipped, {} warnings; {} in {:.1} s",
                args.out.display(),
                report.advisories,
                report.enrichment,
                report.skipped.len(),
                report.warnings.len(),
                render::human(size),
                t.elapsed().as_secs_f64()
            )?;
        }
        DbCmd::Update(args) => {
            let feeds = UpdateArgs::sources(&args.feeds)?;
            let http = args.http.transport(&[], None)?;
            let opts = customs_vulndb::UpdateOptions {
                allow_shrink: args.allow_shrink.clone(),
                ..customs_vulndb::UpdateOptions::default()
            };
            let (path, report) = database::update(
                &http,
                &args.db.location(),
                &feeds,
                &args.cache.cache()?,
                &opts,
            )?;
            let mut err = std::io::stderr().lock();
            if !args.quiet.quiet {
                for f in &report.fetched {
                    writeln!(err, "fetched {f}")?;
                }
                for w in report.build.warnings.iter().chain(&report.build.skipped) {
                    writeln!(err, "warning: {w}")?;
                }
            }
            // Failures are not chatter: --quiet does not hide them.
            for f in &report.failed {
                writeln!(err, "customs: error: {f}")?;
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
            if !report.failed.is_empty() {
                return Ok(ExitCode::from(FEEDS_FAILED));
            }
        }
        DbCmd::Info(args) => {
            let db = crate::cmd::scan::open_db(&args.db, false)?;
            let info = db.info()?;
            match args.format {
                Format::Json => render::json(out, &info)?,
                Format::Table => {
                    let time = |t: Option<customs_types::Timestamp>| {
                        t.map_or_else(|| "-".to_owned(), |t| t.to_string())
                    };
                    writeln!(out, "database:   {}", info.path.display())?;
                    writeln!(out, "schema:     {}", info.schema_version)?;
                    writeln!(out, "built at:   {}", time(info.built_at))?;
                    writeln!(out, "newest:     {}", time(info.newest_advisory))?;
                    writeln!(
                        out,
                        "records:    {} advisories, {} package statements, {} NVD, {} KEV, {} EPSS",
                        info.advisories, info.affected, info.nvd, info.kev, info.epss
                    )?;
                    writeln!(out, "size:       {}", render::human(info.size_bytes))?;
                    sources(out, &info.sources, "  ")?;
                }
            }
            if let Some(w) = DatabaseInfo::of(&db)?.age_warning() {
                writeln!(std::io::stderr(), "warning: {w}")?;
            }
        }
    }
    Ok(ExitCode::SUCCESS)
}
