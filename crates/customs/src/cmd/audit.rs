//! `customs audit REGISTRY`: crawl a registry and scan each distinct image once into the store.

use std::io::{IsTerminal, Write};
use std::process::ExitCode;

use anyhow::Result;
use customs_app::audit::{AuditProgress, CrawlOptions};
use indicatif::{ProgressBar, ProgressDrawTarget, ProgressStyle};

use crate::args::{DbArgs, Format, ImageArgs, StoreArgs};
use crate::render;

#[derive(clap::Args)]
pub(crate) struct AuditArgs {
    /// The registry, as HOST[:PORT] (127.0.0.1:5000, reg.lan).
    registry: String,
    /// Only repositories matching this glob (`team/*`; `*` stays within a path segment,
    /// `**` crosses them); repeated, any of them. Default: every repository in the catalog.
    #[arg(long, value_name = "GLOB")]
    repos: Vec<String>,
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
    let db = crate::cmd::scan::open_db(&args.db, args.image.quiet.quiet)?;
    let mut store = args.store.open()?;
    let (image, client) = crate::cmd::sbom::image_options(&args.image, false)?;
    let crawl = customs_app::audit::crawl(
        &client,
        &args.registry,
        &CrawlOptions {
            repos: args.repos.clone(),
            page: 0,
        },
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
    let run = customs_app::audit::scan_crawl(
        store.as_mut(),
        &db,
        &crawl,
        &image,
        usize::from(args.concurrency),
        &bar,
    )?;
    if let Some(b) = &bar.0 {
        b.finish_and_clear();
    }
    let repo_errors: usize = crawl.repositories.iter().map(|r| r.errors.len()).sum();
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
            writeln!(
                out,
                "{}: {} repositories, {tags} image tags ({artifacts} signature, attestation and SBOM tags set apart), {} distinct images",
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
