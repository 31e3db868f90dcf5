//! `customs db build|update|info`.

use std::io::Write;
use std::path::PathBuf;
use std::process::ExitCode;

use anyhow::{Context, Result};
use customs_app::database::{self, DatabaseInfo};
use customs_vulndb::{FeedKind, SourceInfo};

use crate::args::{CacheArgs, DbArgs, Format, HttpArgs, Quiet, RegistryArgs};
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
    /// Sources, record counts, newest advisory date, build time, and what `db update` last
    /// fetched.
    Info(InfoArgs),
    /// Advisories added, changed, withdrawn and removed between two database files.
    Diff(DiffArgs),
    /// The feeds `db update` fetches by default: name (for --feeds), kind and URL.
    Feeds(FeedsArgs),
    /// Publish the database to a registry as an OCI artifact (one zstd layer per feed),
    /// signed with a private key in cosign's format.
    Push(PushArgs),
    /// Fetch a database artifact, verify its signature with a public key and every blob's
    /// digest, and swap it in; layers already fetched are not downloaded again.
    Pull(PullArgs),
}

#[derive(clap::Args)]
pub(crate) struct PushArgs {
    /// Where to publish: REGISTRY/REPO:TAG.
    target: String,
    /// The signing key: a PEM private key, ECDSA P-256 or Ed25519, unencrypted (e.g. from
    /// `openssl genpkey -algorithm EC -pkeyopt ec_paramgen_curve:P-256 -out db.key`).
    #[arg(long, value_name = "FILE")]
    key: PathBuf,
    #[command(flatten)]
    db: DbArgs,
    #[command(flatten)]
    cache: CacheArgs,
    #[command(flatten)]
    registry: RegistryArgs,
    #[command(flatten)]
    http: HttpArgs,
    #[arg(long, short, value_enum, default_value = "table")]
    format: Format,
}

#[derive(clap::Args)]
pub(crate) struct PullArgs {
    /// What to fetch: REGISTRY/REPO:TAG or REGISTRY/REPO@sha256:….
    source: String,
    /// The public key the signature must verify with (PEM, as `cosign.pub`; `openssl pkey
    /// -in db.key -pubout` writes it).
    #[arg(long, value_name = "FILE", env = "CUSTOMS_DB_KEY")]
    key: PathBuf,
    #[command(flatten)]
    db: DbArgs,
    #[command(flatten)]
    cache: CacheArgs,
    #[command(flatten)]
    registry: RegistryArgs,
    #[command(flatten)]
    http: HttpArgs,
    #[arg(long, short, value_enum, default_value = "table")]
    format: Format,
}

fn client(registry: &RegistryArgs, http: &HttpArgs) -> Result<customs_registry::Client> {
    Ok(customs_registry::Client::new(
        http.transport(&registry.insecure_registries, None)?,
        customs_registry::ClientOptions {
            credential: registry.credential()?,
            ..customs_registry::ClientOptions::default()
        },
    ))
}

/// One line per artifact layer: feed, short digest, size, and whether it moved (`words`:
/// what to say when it did, and when it did not).
fn layer_rows(
    out: &mut impl Write,
    layers: &[customs_app::publish::Layer],
    words: (&str, &str),
) -> Result<()> {
    for l in layers {
        writeln!(
            out,
            "  {:<28} {} {:>9}  {}",
            l.feed,
            l.digest.short(),
            render::human(l.size),
            if l.transferred { words.0 } else { words.1 }
        )?;
    }
    Ok(())
}

fn reference(s: &str) -> Result<customs_registry::Reference> {
    customs_registry::Reference::parse(s)
        .with_context(|| format!("{s:?} is not a registry reference"))
}

#[derive(clap::Args)]
pub(crate) struct DiffArgs {
    /// The older database file.
    old: PathBuf,
    /// The newer database file.
    new: PathBuf,
    #[arg(long, short, value_enum, default_value = "table")]
    format: Format,
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

/// Which feeds an update fetches, and from where (`db update` and `watch`).
#[derive(clap::Args)]
pub(crate) struct FeedArgs {
    /// A feed to fetch instead of the defaults, as KIND=URL (repeatable), e.g.
    /// debian-dsa=https://…/data/DSA/list. Kinds: see `customs db build --help`.
    #[arg(long = "feed", value_name = "KIND=URL")]
    feed: Vec<String>,
    /// Only these of the default feeds (comma-separated names from `customs db feeds`:
    /// debian, alpine, osv-pypi, kev, …).
    #[arg(
        long,
        value_delimiter = ',',
        value_name = "NAMES",
        conflicts_with = "feed"
    )]
    feeds: Vec<String>,
    /// Fetch every feed from this mirror instead, laid out like upstream with one folder per
    /// host: https://HOST/PATH is read from MIRROR/HOST/PATH (what `wget --mirror` writes).
    #[arg(long, value_name = "URL")]
    mirror: Option<String>,
}

impl FeedArgs {
    pub(crate) fn sources(&self) -> Result<Vec<customs_vulndb::FeedSource>> {
        let mut list = if self.feed.is_empty() {
            customs_vulndb::default_sources()
        } else {
            self.feed
                .iter()
                .map(|f| {
                    customs_vulndb::FeedSource::parse(f).with_context(|| {
                        format!("--feed {f:?}: expected KIND=URL with a known KIND")
                    })
                })
                .collect::<Result<_>>()?
        };
        if !self.feeds.is_empty() {
            for name in &self.feeds {
                if !list.iter().any(|f| f.group == *name) {
                    anyhow::bail!("--feeds {name}: no such feed (`customs db feeds` lists them)");
                }
            }
            list.retain(|f| self.feeds.contains(&f.group));
        }
        if let Some(base) = &self.mirror {
            list = list.iter().map(|f| f.mirrored(base)).collect();
        }
        Ok(list)
    }
}

#[derive(clap::Args)]
pub(crate) struct UpdateArgs {
    #[command(flatten)]
    db: DbArgs,
    #[command(flatten)]
    feeds: FeedArgs,
    /// Take this feed's download even when it holds more than 20 % fewer records than its
    /// previous one (by kind, e.g. debian-dsa; repeatable).
    #[arg(long, value_name = "FEED")]
    allow_shrink: Vec<String>,
    /// Milliseconds between two requests to NVD's API: its rule is 6000, or 600 with an API
    /// key (NVD_API_KEY, sent as the apiKey header).
    #[arg(long, env = "CUSTOMS_NVD_DELAY_MS", value_name = "MS")]
    nvd_delay_ms: Option<u64>,
    #[command(flatten)]
    cache: CacheArgs,
    #[command(flatten)]
    http: HttpArgs,
    #[command(flatten)]
    quiet: Quiet,
}

#[derive(clap::Args)]
pub(crate) struct FeedsArgs {
    #[arg(long, short, value_enum, default_value = "table")]
    format: Format,
}

#[derive(clap::Args)]
pub(crate) struct InfoArgs {
    #[command(flatten)]
    db: DbArgs,
    #[command(flatten)]
    cache: CacheArgs,
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
            let feeds = args.feeds.sources()?;
            let http = args.http.transport(&[], None)?;
            let mut opts = customs_vulndb::UpdateOptions {
                allow_shrink: args.allow_shrink.clone(),
                ..customs_vulndb::UpdateOptions::default()
            };
            if let Some(ms) = args.nvd_delay_ms {
                opts.nvd.delay = std::time::Duration::from_millis(ms);
            }
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
            if report.rebuilt {
                writeln!(
                    out,
                    "{}: {} advisories, {} enrichment records; {} feeds fetched, {} unchanged, {} failed; {} parsed, the rest merged as they were",
                    path.display(),
                    report.build.advisories,
                    report.build.enrichment,
                    report.fetched.len(),
                    report.unchanged.len(),
                    report.failed.len(),
                    report.parsed.len()
                )?;
            } else {
                writeln!(
                    out,
                    "{}: not rebuilt, no feed changed ({} unchanged, {} failed)",
                    path.display(),
                    report.unchanged.len(),
                    report.failed.len()
                )?;
            }
            if !report.failed.is_empty() {
                return Ok(ExitCode::from(FEEDS_FAILED));
            }
        }
        DbCmd::Info(args) => {
            let db = crate::cmd::scan::open_db(&args.db, false)?;
            let info = db.info()?;
            let feeds = customs_vulndb::feed_status(&args.cache.cache()?.feeds());
            match args.format {
                Format::Json => {
                    #[derive(serde::Serialize)]
                    struct Info<'a> {
                        #[serde(flatten)]
                        info: &'a customs_vulndb::DbInfo,
                        /// What `db update` last fetched into the cache.
                        feeds: &'a [customs_vulndb::FeedStatus],
                    }
                    render::json(
                        out,
                        &Info {
                            info: &info,
                            feeds: &feeds,
                        },
                    )?;
                }
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
                    if !feeds.is_empty() {
                        writeln!(out, "downloads (db update):")?;
                    }
                    for f in &feeds {
                        let validator = match (&f.validators.etag, &f.validators.last_modified) {
                            (Some(e), _) => format!("ETag {e}"),
                            (None, Some(m)) => format!("Last-Modified {m}"),
                            (None, None) => "no validator".to_owned(),
                        };
                        writeln!(
                            out,
                            "  {}: {} records, fetched {}, checked {}, {validator}",
                            f.url,
                            f.records,
                            time(f.fetched_at),
                            time(f.checked_at)
                        )?;
                    }
                }
            }
            if let Some(w) = DatabaseInfo::of(&db)?.age_warning() {
                writeln!(std::io::stderr(), "warning: {w}")?;
            }
        }
        DbCmd::Feeds(args) => {
            let list = customs_vulndb::default_sources();
            match args.format {
                Format::Json => render::json(out, &list)?,
                Format::Table => {
                    let mut t = render::table(["NAME", "KIND", "URL"]);
                    for f in &list {
                        t.add_row([f.group.as_str(), f.kind.as_str(), f.url.as_str()]);
                    }
                    writeln!(out, "{t}")?;
                }
            }
        }
        DbCmd::Push(args) => {
            let key = customs_sign::SigningKey::from_file(&args.key)?;
            let target = reference(&args.target)?;
            let r = customs_app::publish::push(
                &client(&args.registry, &args.http)?,
                &args.db.location(),
                &args.cache.cache()?,
                &target,
                &key,
            )?;
            match args.format {
                Format::Json => render::json(out, &r)?,
                Format::Table => {
                    writeln!(out, "pushed {}@{}", r.reference, r.digest)?;
                    layer_rows(out, &r.layers, ("uploaded", "already there"))?;
                    writeln!(
                        out,
                        "signed with {} key {}: tag {}",
                        key.scheme(),
                        r.key,
                        r.signature_tag
                    )?;
                }
            }
        }
        DbCmd::Pull(args) => {
            let key = customs_sign::VerifyingKey::from_file(&args.key)?;
            let source = reference(&args.source)?;
            let r = customs_app::publish::pull(
                &client(&args.registry, &args.http)?,
                &args.db.location(),
                &args.cache.cache()?,
                &source,
                &key,
            )?;
            match args.format {
                Format::Json => render::json(out, &r)?,
                Format::Table => {
                    writeln!(
                        out,
                        "verified {}@{}: signed for {} with key {}",
                        r.reference, r.digest, r.claims.docker_reference, r.key
                    )?;
                    layer_rows(out, &r.layers, ("downloaded", "cached"))?;
                    let time = |t: Option<customs_types::Timestamp>| {
                        t.map_or_else(|| "-".to_owned(), |t| t.to_string())
                    };
                    writeln!(
                        out,
                        "{}: {} advisories, built {}, newest {}{}",
                        r.path.display(),
                        r.config.advisories,
                        time(r.config.built_at),
                        time(r.config.newest_advisory),
                        if r.unchanged {
                            " (already this artifact: not rebuilt)"
                        } else {
                            ""
                        }
                    )?;
                }
            }
        }
        DbCmd::Diff(args) => {
            let d = database::diff(&args.old, &args.new)?;
            match args.format {
                Format::Json => render::json(out, &d)?,
                Format::Table => {
                    for (mark, list) in [
                        ("+", &d.added),
                        ("~", &d.changed),
                        ("w", &d.withdrawn),
                        ("-", &d.removed),
                    ] {
                        for (feed, id) in list {
                            writeln!(out, "{mark} {feed} {id}")?;
                        }
                    }
                    writeln!(
                        out,
                        "{} added, {} changed, {} withdrawn, {} removed",
                        d.added.len(),
                        d.changed.len(),
                        d.withdrawn.len(),
                        d.removed.len()
                    )?;
                }
            }
        }
    }
    Ok(ExitCode::SUCCESS)
}
