//! `customs cache info|prune`: what customs' cache holds, and removing what has not been used
//! lately. The layout and the rules are `customs_app::cache`'s.

use std::io::Write;
use std::process::ExitCode;
use std::time::Duration;

use anyhow::{Result, bail};
use comfy_table::CellAlignment;
use customs_app::cache::{CacheInfo, Kind, PruneOptions, State};

use crate::args::{CacheArgs, Format};
use crate::render;

#[derive(clap::Subcommand)]
pub(crate) enum CacheCmd {
    /// Where the cache is, its size, and per kind the entries and their oldest and newest use.
    Info(InfoArgs),
    /// Remove stale analyzer sets, scratch leftovers, and (with --older-than) what has not been
    /// used lately.
    Prune(PruneArgs),
}

#[derive(clap::Args)]
pub(crate) struct InfoArgs {
    #[command(flatten)]
    cache: CacheArgs,
    #[arg(long, short, value_enum, default_value = "table")]
    format: Format,
}

#[derive(clap::Args)]
pub(crate) struct PruneArgs {
    #[command(flatten)]
    cache: CacheArgs,
    /// Also remove layer facts not used within DURATION: a whole number and a unit, s, m, h,
    /// d or w (`30d`, `12h`, `2w`).
    #[arg(long, value_name = "DURATION", value_parser = crate::args::parse_duration, conflicts_with = "all")]
    older_than: Option<Duration>,
    /// Remove everything customs keeps in the cache.
    #[arg(long)]
    all: bool,
    /// List what would be removed, and remove nothing.
    #[arg(long)]
    dry_run: bool,
}

pub(crate) fn run(cmd: &CacheCmd, out: &mut impl Write) -> Result<ExitCode> {
    match cmd {
        CacheCmd::Info(args) => {
            let info = args.cache.cache()?.info()?;
            match args.format {
                Format::Json => render::json(out, &info)?,
                Format::Table => print_info(out, &info)?,
            }
        }
        CacheCmd::Prune(args) => prune(args, out)?,
    }
    Ok(ExitCode::SUCCESS)
}

fn print_info(out: &mut impl Write, r: &CacheInfo) -> Result<()> {
    if !r.exists {
        writeln!(out, "cache:  {} (does not exist)", r.path.display())?;
        return Ok(());
    }
    writeln!(out, "cache:  {}", r.path.display())?;
    writeln!(
        out,
        "total:  {} in {}",
        render::human(r.bytes),
        render::entries(r.entries)
    )?;
    if r.groups.is_empty() {
        return Ok(());
    }
    let mut t = render::table([
        "KIND",
        "NAME",
        "STATE",
        "ENTRIES",
        "SIZE",
        "OLDEST USE",
        "NEWEST USE",
    ]);
    for g in &r.groups {
        let state = match (g.kind, g.state) {
            (_, Some(State::Current)) => "current",
            (_, Some(State::Stale)) => "stale",
            (Kind::Other, None) => "not customs'",
            _ => "",
        };
        let kind = serde_json::to_value(g.kind)?;
        t.add_row([
            kind.as_str().unwrap_or_default().to_owned(),
            g.name.clone(),
            state.to_owned(),
            g.entries.to_string(),
            render::human(g.bytes),
            g.oldest_use.map(render::when).unwrap_or_default(),
            g.newest_use.map(render::when).unwrap_or_default(),
        ]);
    }
    for i in [3, 4] {
        if let Some(c) = t.column_mut(i) {
            c.set_cell_alignment(CellAlignment::Right);
        }
    }
    writeln!(out, "{t}")?;
    if r.groups.iter().any(|g| g.state == Some(State::Stale)) {
        writeln!(
            out,
            "stale analyzer sets are never read again: `customs cache prune` removes them"
        )?;
    }
    Ok(())
}

fn prune(args: &PruneArgs, out: &mut impl Write) -> Result<()> {
    let cache = args.cache.cache()?;
    let report = cache.prune(&PruneOptions {
        older_than: args.older_than,
        all: args.all,
        dry_run: args.dry_run,
    })?;
    let given = report.path.display();
    if !report.exists {
        writeln!(out, "nothing to remove: {given} does not exist")?;
        return Ok(());
    }
    if report.dry_run {
        for f in &report.files {
            writeln!(
                out,
                "would remove {} ({}, last used {})",
                f.path.display(),
                render::human(f.bytes),
                render::when(f.last_used)
            )?;
        }
    }
    if report.files.is_empty() {
        writeln!(out, "nothing to remove from {given}")?;
    } else {
        let verb = if report.dry_run {
            "would remove"
        } else {
            "removed"
        };
        writeln!(
            out,
            "{verb} {}, {} from {given}",
            render::entries(report.entries()),
            render::human(report.bytes())
        )?;
        for g in &report.groups {
            let why = g.why.map(|w| format!(" ({w})")).unwrap_or_default();
            writeln!(
                out,
                "  {}{why}: {}, {}",
                g.name,
                render::entries(g.entries),
                render::human(g.bytes)
            )?;
        }
    }
    for (path, why) in &report.failed {
        writeln!(
            std::io::stderr(),
            "customs: removing {}: {why}",
            path.display()
        )?;
    }
    if !report.failed.is_empty() {
        bail!(
            "{} entries could not be removed (named above)",
            report.failed.len()
        );
    }
    Ok(())
}
