//! `customs audit REGISTRY`: crawl a registry and scan each distinct image once into the store.

use std::io::{IsTerminal, Write};
use std::process::ExitCode;

use anyhow::{Context as _, Result};
use customs_app::audit::{AuditProgress, CrawlOptions};
use indicatif::{ProgressBar, ProgressDrawTarget, ProgressStyle};

use crate::args::{DbArgs, Format, ImageArgs, StoreArgs};
use crate::render;

#[derive(clap::Args)]
#[command(args_conflicts_with_subcommands = true, subcommand_negates_reqs = true)]
pub(crate) struct AuditArgs {
    #[command(subcommand)]
    command: Option<AuditCmd>,
    /// The registry, as HOST[:PORT] (127.0.0.1:5000, reg.lan).
    #[arg(required = true)]
    registry: Option<String>,
    /// Only repositories matching this glob (`team/*`; `*` stays within a path segment,
    /// `**` crosses them); repeated, any of them. Default: every repository in the catalog.
    #[arg(long, value_name = "GLOB")]
    repos: Vec<String>,
    /// Which image tags of each repository to scan: all; current (`latest`, tags whose image
    /// was built within --window-days of the repository's newest build, and undated ones);
    /// latest:N (the N newest builds by their config's date, and undated ones).
    #[arg(long, default_value = "all", value_name = "all|current|latest:N")]
    tags: customs_app::audit::TagSelection,
    /// With --tags current: the window, in days.
    #[arg(long, default_value_t = 90, value_name = "DAYS")]
    window_days: u32,
    /// A known base image (REGISTRY/REPOSITORY:TAG, here or in another registry), scanned and
    /// stored with the audit so that images built on it are placed on it; repeated.
    #[arg(long = "base", value_name = "REF")]
    bases: Vec<String>,
    /// Known base images from a file: one reference per line; `#` starts a comment.
    #[arg(long, value_name = "FILE")]
    bases_file: Option<std::path::PathBuf>,
    /// Hand the scans to the service's queue in the store (`customs serve`'s workers, and any
    /// `customs worker` on the same --store-url) and wait for them, rather than scan here: a
    /// fleet shares the crawl.
    #[arg(long)]
    queue: bool,
    /// With --queue: give up waiting after this many seconds (the jobs stay queued).
    #[arg(long, value_name = "SECONDS", requires = "queue")]
    wait: Option<u64>,
    /// Images scanned at once.
    #[arg(long, default_value_t = 4, value_parser = clap::value_parser!(u16).range(1..=64))]
    concurrency: u16,
    #[arg(long, short, value_enum, default_value = "table")]
    format: Format,
    #[command(flatten)]
    store: StoreArgs,
    #[command(flatten)]
    db: DbArgs,
    #[command(flatten)]
    image: ImageArgs,
}

#[derive(clap::Subcommand)]
pub(crate) enum AuditCmd {
    /// The audit's report, from the store (nothing is pulled): the share of images with
    /// critical or high findings over all tags and over current tags, images by age and by
    /// base, fixable findings, KEV, top packages, findings by layer origin, the rebuild list.
    Report(ReportArgs),
}

#[derive(clap::Args)]
pub(crate) struct ReportArgs {
    /// Only repositories under this prefix (`127.0.0.1:5000/`, `reg.lan/team/`).
    #[arg(long, value_name = "PREFIX")]
    prefix: Option<String>,
    /// A tag is current when its image was built within this many days of its repository's
    /// newest (and `latest` always is).
    #[arg(long, default_value_t = 90, value_name = "DAYS")]
    window_days: u32,
    /// The clock ages are counted by (RFC 3339 or YYYY-MM-DD; default: now).
    #[arg(long, value_name = "TIME", value_parser = customs_types::Timestamp::parse_lenient)]
    now: Option<customs_types::Timestamp>,
    /// json (`customs.audit-report/1`, docs/audit-report.schema.json), csv (a line per
    /// image), markdown, or html (one page with SVG charts that fetches nothing).
    #[arg(long, short, value_enum, default_value = "markdown")]
    format: ReportFormat,
    #[command(flatten)]
    store: StoreArgs,
    /// The vulnerability database: which of the images' packages had advisory data (those
    /// without are named in the report, not counted clean).
    #[command(flatten)]
    db: DbArgs,
}

#[derive(clap::ValueEnum, Clone, Copy)]
pub(crate) enum ReportFormat {
    Json,
    Csv,
    Markdown,
    Html,
}

/// A progress bar on a terminal; nothing elsewhere.
struct Bar(Option<ProgressBar>);

impl AuditProgress for Bar {
    fn advanced(&self, done: usize, total: usize) {
        if let Some(bar) = &self.0 {
            bar.set_length(total as u64);
            bar.set_position(done as u64);
        }
    }
}

/// Exit 0 when every image was scanned or already stored; 2 when a repository, a tag or an
/// image could not be read (the audit is then incomplete, and says where).
pub(crate) fn run(args: &AuditArgs, out: &mut impl Write) -> Result<ExitCode> {
    if let Some(AuditCmd::Report(r)) = &args.command {
        return report(r, out);
    }
    let Some(registry) = &args.registry else {
        anyhow::bail!("give the registry to audit, as HOST[:PORT]");
    };
    let mut store = args.store.open()?;
    let (image, client) = crate::cmd::sbom::image_options(&args.image, false)?;
    let mut crawl = customs_app::audit::crawl(
        &client,
        registry,
        &CrawlOptions {
            repos: args.repos.clone(),
            page: 0,
            bases: known_bases(args)?,
        },
    )?;
    customs_app::audit::select_tags(
        &mut crawl,
        store.as_mut(),
        &image,
        args.tags,
        args.window_days,
    )?;
    let bar = Bar(
        (!args.image.quiet.quiet && std::io::stderr().is_terminal()).then(|| {
            let bar = ProgressBar::with_draw_target(None, ProgressDrawTarget::stderr());
            if let Ok(style) = ProgressStyle::with_template("{bar:40} {pos}/{len} images {elapsed}")
            {
                bar.set_style(style);
            }
            bar
        }),
    );
    let run = if args.queue {
        customs_app::audit::queue_crawl(
            store.as_mut(),
            &crawl,
            &customs_app::audit::QueueOptions {
                wait: args.wait.map(std::time::Duration::from_secs),
                ..Default::default()
            },
            &bar,
        )?
    } else {
        let db = crate::cmd::scan::open_db(&args.db, args.image.quiet.quiet)?;
        customs_app::audit::scan_crawl(
            store.as_mut(),
            &db,
            &crawl,
            &image,
            usize::from(args.concurrency),
            &bar,
        )?
    };
    if let Some(b) = &bar.0 {
        b.finish_and_clear();
    }
    let repo_errors: usize = crawl
        .repositories
        .iter()
        .map(|r| r.errors.len())
        .sum::<usize>()
        + crawl.bases.iter().filter(|b| b.error.is_some()).count();
    match args.format {
        Format::Json => {
            serde_json::to_writer_pretty(
                &mut *out,
                &serde_json::json!({"crawl": crawl, "run": run}),
            )?;
            writeln!(out)?;
        }
        Format::Table => {
            let tags: usize = crawl.repositories.iter().map(|r| r.tags.len()).sum();
            let artifacts: usize = crawl
                .repositories
                .iter()
                .map(|r| r.artifact_tags.len())
                .sum();
            let left_out: usize = crawl.repositories.iter().map(|r| r.left_out.len()).sum();
            writeln!(
                out,
                "{}: {} repositories, {tags} image tags ({artifacts} signature, attestation and SBOM tags set apart, {left_out} left out by --tags), {} distinct images",
                render::clean(&crawl.registry),
                crawl.repositories.len(),
                run.images
            )?;
            writeln!(
                out,
                "scanned {}, already stored {}, failed {}",
                run.scanned.len(),
                run.already_stored,
                run.failed.len()
            )?;
            for r in &crawl.repositories {
                for e in &r.errors {
                    writeln!(
                        out,
                        "error: {}: {}",
                        render::clean(&r.name),
                        render::clean(e)
                    )?;
                }
            }
            for b in &crawl.bases {
                if let Some(e) = &b.error {
                    writeln!(
                        out,
                        "error: known base {}:{}: {}",
                        render::clean(&b.repository),
                        render::clean(&b.tag),
                        render::clean(e)
                    )?;
                }
            }
            for f in &run.failed {
                writeln!(
                    out,
                    "failed: {}: {}",
                    render::clean(&f.reference),
                    render::clean(&f.error)
                )?;
            }
        }
    }
    Ok(if run.failed.is_empty() && repo_errors == 0 {
        ExitCode::SUCCESS
    } else {
        ExitCode::from(2)
    })
}

/// `--base` and the lines of `--bases-file`.
fn known_bases(args: &AuditArgs) -> Result<Vec<String>> {
    let mut bases = args.bases.clone();
    if let Some(file) = &args.bases_file {
        let text = std::fs::read_to_string(file)
            .with_context(|| format!("reading the known bases {}", file.display()))?;
        for line in text.lines() {
            let line = line.split_once('#').map_or(line, |(l, _)| l).trim();
            if !line.is_empty() {
                bases.push(line.to_owned());
            }
        }
    }
    Ok(bases)
}

#[derive(clap::Args)]
pub(crate) struct BaseArgs {
    /// The stored image, named as for `customs history` (REPOSITORY:TAG, a digest or prefix).
    image: String,
    #[arg(long, short, value_enum, default_value = "table")]
    format: Format,
    #[command(flatten)]
    store: StoreArgs,
}

pub(crate) fn base(args: &BaseArgs, out: &mut impl Write) -> Result<ExitCode> {
    let mut store = args.store.open()?;
    let report = customs_app::audit::base_report(store.as_mut(), &args.image)?;
    match args.format {
        Format::Json => render::json(out, &report)?,
        Format::Table => {
            match &report.base {
                Some(b) => writeln!(
                    out,
                    "{} is built on {} ({}, {} layers)",
                    render::short(&report.digest),
                    render::clean(&b.names.join(", ")),
                    b.digest.as_deref().map(render::short).unwrap_or_default(),
                    b.layers
                )?,
                None => writeln!(
                    out,
                    "{}: no stored image is its base (store the base images to place it)",
                    render::short(&report.digest)
                )?,
            }
            writeln!(
                out,
                "open findings: {} from the base's layers, {} from the image's own, {} unplaced",
                report.from_base.len(),
                report.from_image.len(),
                report.unplaced.len()
            )?;
            for r in &report.rebuilds {
                writeln!(
                    out,
                    "rebuild on {} ({}) fixes {} of {}",
                    render::clean(&r.on),
                    render::short(&r.current),
                    r.fixes.len(),
                    r.of
                )?;
            }
        }
    }
    Ok(ExitCode::SUCCESS)
}

fn report(args: &ReportArgs, out: &mut impl Write) -> Result<ExitCode> {
    let db = crate::cmd::scan::open_db(&args.db, true)?;
    let mut store = args.store.open()?;
    let opts = customs_app::audit::report::ReportOptions {
        prefix: args.prefix.clone(),
        window_days: args.window_days,
        now: args.now.unwrap_or_else(customs_types::Timestamp::now),
        ..Default::default()
    };
    let report = customs_app::audit::report::report(store.as_mut(), &db, &opts)?;
    match args.format {
        ReportFormat::Json => render::json(out, &report)?,
        ReportFormat::Csv => out.write_all(report.to_csv().as_bytes())?,
        ReportFormat::Markdown => out.write_all(report.to_markdown().as_bytes())?,
        ReportFormat::Html => out.write_all(report.to_html().as_bytes())?,
    }
    Ok(ExitCode::SUCCESS)
}
