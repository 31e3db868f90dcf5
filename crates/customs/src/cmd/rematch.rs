//! `customs rematch` and `customs watch`: the lifecycle over the store.

use std::io::Write;
use std::path::PathBuf;
use std::process::ExitCode;
use std::sync::Arc;
use std::sync::atomic::AtomicBool;
use std::time::Duration;

use anyhow::{Context, Result};
use customs_app::notify::Delivery;
use customs_app::rematch::{Gate, RematchOptions, RematchReport};
use customs_app::watch::{WatchEvent, WatchOptions, rematch_and_notify, watch};
use customs_types::{Ecosystem, Severity};

use crate::args::{CacheArgs, DbArgs, Format, HttpArgs, NotifyArgs, Quiet, StoreArgs};
use crate::render;

#[derive(clap::Args)]
pub(crate) struct RematchArgs {
    /// The database the stored findings were last matched against: only packages named by
    /// advisories that changed between it and --db are re-evaluated, and only the images that
    /// hold them (a keyed look-up in the store's package index).
    #[arg(long, value_name = "PREVIOUS.db")]
    since_db: Option<PathBuf>,
    /// Exit 1 when this rematch brought findings (new, raised, newly exploited) at or above
    /// this severity. Exit 2 when it cannot tell: the database is empty, or holds no
    /// advisories for an ecosystem of a stored image.
    #[arg(long, value_name = "SEVERITY", value_parser = Severity::parse_lenient)]
    fail_on: Option<Severity>,
    /// With --fail-on: accept that the database has no advisories for this ecosystem (deb,
    /// apk, rpm, pypi, npm, cargo, golang); comma-separated or repeated.
    #[arg(long, value_delimiter = ',', value_name = "ECOSYSTEM", value_parser = str::parse::<Ecosystem>)]
    allow_missing_coverage: Vec<Ecosystem>,
    /// With --policy: the clock exceptions expire by (RFC 3339 or YYYY-MM-DD; default: now).
    #[arg(long, value_name = "TIME", requires = "policy", value_parser = customs_types::Timestamp::parse_lenient)]
    now: Option<customs_types::Timestamp>,
    #[command(flatten)]
    lifecycle: LifecycleArgs,
}

/// What `rematch` and `watch` share: the format, the store, the database, and where the delta
/// goes.
#[derive(clap::Args)]
pub(crate) struct LifecycleArgs {
    #[arg(long, short, value_enum, default_value = "table")]
    format: Format,
    #[command(flatten)]
    quiet: Quiet,
    #[command(flatten)]
    store: StoreArgs,
    #[command(flatten)]
    db: DbArgs,
    #[command(flatten)]
    notify: NotifyArgs,
    #[command(flatten)]
    http: HttpArgs,
    /// Also judge every stored image by this policy file (docs/policy.md), without reading
    /// the images, and report (and notify) the images whose verdict changed since it last
    /// judged them: an exception expired, a KEV entry appeared.
    #[arg(long, value_name = "FILE")]
    policy: Option<PathBuf>,
    /// With --policy: VEX documents to apply to every image before it is judged, as for
    /// `scan --vex` (the VEX a scan applied is not stored with it).
    #[arg(long, value_name = "FILE", requires = "policy")]
    vex: Vec<PathBuf>,
}

pub(crate) fn rematch(rematch: &RematchArgs, out: &mut impl Write) -> Result<ExitCode> {
    let args = &rematch.lifecycle;
    let notifier = args.notify.notifier(&args.http)?;
    let db = crate::cmd::scan::open_db(&args.db, args.quiet.quiet)?;
    let mut store = args.store.open()?;
    let before = rematch
        .since_db
        .as_ref()
        .map(|p| {
            customs_vulndb::VulnDb::open(p).with_context(|| format!("--since-db {}", p.display()))
        })
        .transpose()?;
    let policy = args
        .policy
        .as_deref()
        .map(customs_policy::Policy::from_file)
        .transpose()?;
    let vex = crate::cmd::gate::read_vex(&args.vex)?;
    let by = customs_app::gate::actor();
    let opts = RematchOptions {
        since: before.as_ref(),
        workers: None,
        rejudge: policy.as_ref().map(|policy| customs_app::rematch::Rejudge {
            policy,
            now: rematch.now,
            by: &by,
            vex: &vex,
        }),
    };
    let (report, delivery) = rematch_and_notify(store.as_mut(), &db, &opts, &notifier)?;
    if let Some(d) = &delivery {
        undelivered(d, args.quiet.quiet)?;
    }
    print(out, &report, args.format)?;
    held(&report, args.quiet.quiet)?;
    let Some(min) = rematch.fail_on else {
        return Ok(ExitCode::SUCCESS);
    };
    let mut err = std::io::stderr().lock();
    Ok(match report.gate(min, &rematch.allow_missing_coverage) {
        Gate::Pass => ExitCode::SUCCESS,
        Gate::Fail(found) => {
            if !args.quiet.quiet {
                for (image, id, package) in &found {
                    writeln!(
                        err,
                        "customs: --fail-on {min}: {id} in {package} of {image}"
                    )?;
                }
            }
            ExitCode::from(1)
        }
        Gate::Unknown(gaps) => {
            for (ecosystem, images) in &gaps {
                writeln!(
                    err,
                    "customs: error: --fail-on {min}: the vulnerability database has no advisories for {} ({images} stored image(s) hold such packages); fetch them with `customs db update`, or accept the gap with --allow-missing-coverage {ecosystem}",
                    ecosystem.label()
                )?;
            }
            ExitCode::from(2)
        }
        Gate::Unsupported(kinds) => {
            for (kind, images) in &kinds {
                writeln!(
                    err,
                    "customs: error: --fail-on {min}: customs has no ecosystem for the {kind} packages {images} stored image(s) list: they went unchecked"
                )?;
            }
            ExitCode::from(2)
        }
    })
}

/// Findings left open for want of advisory data, on standard error.
fn held(report: &RematchReport, quiet: bool) -> Result<()> {
    if quiet {
        return Ok(());
    }
    let mut err = std::io::stderr().lock();
    for (ecosystem, images) in report.unchecked() {
        writeln!(
            err,
            "warning: the vulnerability database has no advisories for {}: the stored findings of those packages in {images} image(s) were left as they were",
            ecosystem.label()
        )?;
    }
    Ok(())
}

/// Notifications kept for the next run, on standard error.
fn undelivered(d: &Delivery, quiet: bool) -> Result<()> {
    if quiet {
        return Ok(());
    }
    let mut err = std::io::stderr().lock();
    for u in &d.undelivered {
        writeln!(
            err,
            "customs: notification {} to {} not delivered (attempt {}), kept for the next run: {}",
            u.id, u.target, u.attempts, u.error
        )?;
    }
    Ok(())
}

fn print(out: &mut impl Write, report: &RematchReport, format: Format) -> Result<()> {
    match format {
        Format::Json => render::json(out, report)?,
        Format::Table => {
            // Unchanged images are counted, not listed: a fleet is thousands of them.
            for image in report.changed() {
                let d = &image.delta;
                writeln!(
                    out,
                    "{}: {} new, {} resolved, {} changed, {} newly exploited (KEV)",
                    image.digest,
                    d.new.len(),
                    d.resolved.len(),
                    d.changed.len(),
                    d.kev.len()
                )?;
                for (label, list) in [
                    ("new", &d.new),
                    ("resolved", &d.resolved),
                    ("changed", &d.changed),
                    ("kev", &d.kev),
                ] {
                    for f in list {
                        let why = f["resolved_reason"]
                            .as_str()
                            .map(|r| format!(" [{r}]"))
                            .unwrap_or_default();
                        writeln!(
                            out,
                            "  {label:<8} {} {} {} ({}){why}",
                            f["id"].as_str().unwrap_or(""),
                            f["package"]["name"].as_str().unwrap_or(""),
                            f["package"]["version"].as_str().unwrap_or(""),
                            f["severity"].as_str().unwrap_or("")
                        )?;
                    }
                }
            }
            for v in &report.verdicts {
                writeln!(
                    out,
                    "{}: verdict {} -> {} under {}",
                    v.digest, v.before, v.after, v.policy
                )?;
                for e in &v.expired {
                    writeln!(out, "  expired  the exception for {e}")?;
                }
                for x in &v.violations {
                    writeln!(out, "  violates {x}")?;
                }
            }
            writeln!(
                out,
                "{} stored images re-matched, {} changed",
                report.images.len(),
                report.changed().count()
            )?;
            if !report.verdicts.is_empty() {
                writeln!(out, "{} verdicts changed", report.verdicts.len())?;
            }
        }
    }
    out.flush()?;
    Ok(())
}

#[derive(clap::Args)]
pub(crate) struct WatchArgs {
    /// Time between rounds: `45s`, `15m`, `6h`, `1d`.
    #[arg(long, default_value = "6h", value_name = "DURATION", value_parser = crate::args::parse_duration)]
    interval: Duration,
    /// Feeds to fetch each round, as for `customs db update` (default: every upstream feed).
    #[command(flatten)]
    feeds: crate::cmd::db::FeedArgs,
    /// Do not fetch feeds: re-match against the database as it stands (kept current by
    /// something else).
    #[arg(long, conflicts_with_all = ["feed", "feeds", "mirror"])]
    no_update: bool,
    /// Stop after this many rounds (default: until SIGTERM or SIGINT).
    #[arg(long, value_name = "N")]
    rounds: Option<u64>,
    #[command(flatten)]
    cache: CacheArgs,
    #[command(flatten)]
    lifecycle: LifecycleArgs,
}

/// The lifecycle loop: update the database, re-match every stored image, notify; then wait.
/// SIGTERM and SIGINT end it between steps, never in the middle of a store write.
pub(crate) fn run_watch(watch_args: &WatchArgs, out: &mut impl Write) -> Result<ExitCode> {
    let args = &watch_args.lifecycle;
    let opts = WatchOptions {
        interval: watch_args.interval,
        feeds: if watch_args.no_update {
            None
        } else {
            Some(watch_args.feeds.sources()?)
        },
        rounds: watch_args.rounds,
        db: args.db.location(),
        cache: watch_args.cache.cache()?,
        http: args.http.transport(&[], None)?,
        notifier: args.notify.notifier(&args.http)?,
        policy: args
            .policy
            .as_deref()
            .map(customs_policy::Policy::from_file)
            .transpose()?
            .map(Arc::new),
        by: customs_app::gate::actor(),
        vex: crate::cmd::gate::read_vex(&args.vex)?,
    };
    let stop = Arc::new(AtomicBool::new(false));
    for sig in [signal_hook::consts::SIGTERM, signal_hook::consts::SIGINT] {
        signal_hook::flag::register(sig, Arc::clone(&stop))
            .context("installing signal handlers")?;
    }
    let mut store = args.store.open()?;
    let quiet = args.quiet.quiet;
    let mut failure: Option<anyhow::Error> = None;
    let rounds = watch(store.as_mut(), &opts, &stop, &mut |event| {
        let shown = match event {
            WatchEvent::Updated(report) => {
                if !quiet {
                    let _ = writeln!(
                        std::io::stderr(),
                        "customs watch: database updated: {} advisories from {} feeds ({} failed)",
                        report.build.advisories,
                        report.fetched.len(),
                        report.failed.len()
                    );
                }
                Ok(())
            }
            // A failed fetch leaves the previous database; the round re-matches against it.
            WatchEvent::UpdateFailed(e) => writeln!(
                std::io::stderr(),
                "customs watch: update failed: {:#}",
                anyhow::Error::from(e)
            )
            .map_err(Into::into),
            WatchEvent::Rematched(report) => print(out, &report, args.format),
            WatchEvent::RematchFailed(e) => writeln!(
                std::io::stderr(),
                "customs watch: rematch failed: {:#}",
                anyhow::Error::from(e)
            )
            .map_err(Into::into),
            WatchEvent::Notified(d) => undelivered(&d, quiet),
        };
        if let Err(e) = shown {
            // Output that cannot be written (a closed pipe) ends the loop.
            failure.get_or_insert(e);
            stop.store(true, std::sync::atomic::Ordering::Relaxed);
        }
    })?;
    if let Some(e) = failure {
        return Err(e);
    }
    if !quiet {
        writeln!(
            std::io::stderr(),
            "customs watch: stopped after {rounds} rounds"
        )?;
    }
    Ok(ExitCode::SUCCESS)
}
