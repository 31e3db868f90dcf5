//! The store read back: `customs images`, `customs history`, `customs diff`.

use std::io::Write;
use std::process::ExitCode;

use anyhow::Result;
use customs_app::images;
use customs_types::Severity;

use crate::args::{Format, StoreArgs};
use crate::render;

#[derive(clap::Args)]
pub(crate) struct ImagesArgs {
    /// Tags whose digest moved instead: each tag's last move, old and new digests, and the
    /// open findings the move fixed and brought (from the store, nothing pulled).
    #[arg(long)]
    drift: bool,
    #[arg(long, short, value_enum, default_value = "table")]
    format: Format,
    #[command(flatten)]
    store: StoreArgs,
}

pub(crate) fn list(args: &ImagesArgs, out: &mut impl Write) -> Result<ExitCode> {
    let mut store = args.store.open()?;
    if args.drift {
        let drifted = customs_app::images::drift(store.as_mut())?;
        match args.format {
            Format::Json => render::json(out, &drifted)?,
            Format::Table => {
                let mut t = render::table(["TAG", "FROM", "TO", "MOVED AT", "FIXED", "ADDED"]);
                for d in &drifted {
                    t.add_row([
                        render::clean(&format!("{}:{}", d.repository, d.tag)).into_owned(),
                        render::short(&d.from),
                        render::short(&d.to),
                        render::when(d.moved_at),
                        d.findings.removed.len().to_string(),
                        d.findings.added.len().to_string(),
                    ]);
                }
                writeln!(out, "{t}")?;
                writeln!(out, "{} tags moved", drifted.len())?;
            }
        }
        return Ok(ExitCode::SUCCESS);
    }
    let list = store.images()?;
    match args.format {
        Format::Json => render::json(out, &list)?,
        Format::Table => {
            let mut t = render::table([
                "DIGEST",
                "REPOSITORY",
                "TAGS",
                "SCANNED AT",
                "CRITICAL",
                "HIGH",
                "MEDIUM",
                "LOW",
                "OTHER",
            ]);
            for i in &list {
                let n = |k: Severity| i.open.get(&k).copied().unwrap_or(0);
                let other: u64 = i
                    .open
                    .iter()
                    .filter(|(k, _)| **k < Severity::Low)
                    .map(|(_, v)| *v)
                    .sum();
                t.add_row([
                    render::short(&i.digest),
                    i.repository.clone().unwrap_or_default(),
                    i.tags.join(", "),
                    render::when(i.last_scanned_at),
                    n(Severity::Critical).to_string(),
                    n(Severity::High).to_string(),
                    n(Severity::Medium).to_string(),
                    n(Severity::Low).to_string(),
                    other.to_string(),
                ]);
            }
            writeln!(out, "{t}")?;
            writeln!(out, "{} images stored", list.len())?;
        }
    }
    Ok(ExitCode::SUCCESS)
}

#[derive(clap::Args)]
pub(crate) struct HistoryArgs {
    /// A stored image, as `customs images` shows it: its digest or a unique prefix of at least
    /// 12 hex digits, REPOSITORY:TAG, REPOSITORY@DIGEST, or a repository without tags
    /// (`oci:/path`) for its latest scan.
    reference: String,
    #[arg(long, short, value_enum, default_value = "table")]
    format: Format,
    #[command(flatten)]
    store: StoreArgs,
}

pub(crate) fn history(args: &HistoryArgs, out: &mut impl Write) -> Result<ExitCode> {
    let mut store = args.store.open()?;
    let h = images::history(store.as_mut(), &args.reference)?;
    match args.format {
        Format::Json => render::json(out, &h)?,
        Format::Table => {
            for m in &h.tag_history {
                writeln!(
                    out,
                    "{}:{} → {} at {}",
                    m.repository, m.tag, m.digest, m.seen_at
                )?;
            }
            let mut t = render::table([
                "ID",
                "PACKAGE",
                "VERSION",
                "SEVERITY",
                "FIRST SEEN",
                "RESOLVED AT",
                "REASON",
            ]);
            let rows = h.findings.iter().map(|f| (None, f)).chain(
                h.resolved_by_tag_moves
                    .iter()
                    .map(|s| (Some(&s.digest), &s.finding)),
            );
            for (old, f) in rows {
                let reason = match (f.resolved_reason, old) {
                    (Some(r), Some(d)) => format!("{r} (in {})", render::short(d)),
                    (Some(r), None) => r.to_string(),
                    (None, _) => "open".to_owned(),
                };
                t.add_row([
                    f.id.clone(),
                    f.package_name.clone(),
                    f.package_version.clone(),
                    f.severity.to_string(),
                    render::when(f.first_seen),
                    f.resolved_at.map(render::when).unwrap_or_default(),
                    reason,
                ]);
            }
            writeln!(out, "{}", h.digest)?;
            writeln!(out, "{t}")?;
            let open = h
                .findings
                .iter()
                .filter(|f| f.resolved_at.is_none())
                .count();
            writeln!(
                out,
                "{} findings seen, {open} open, {} resolved; {} resolved by tag moves",
                h.findings.len(),
                h.findings.len() - open,
                h.resolved_by_tag_moves.len()
            )?;
        }
    }
    Ok(ExitCode::SUCCESS)
}

#[derive(clap::Args)]
pub(crate) struct DiffArgs {
    /// The older image, named as for `customs history`.
    from: String,
    /// The newer image.
    to: String,
    #[arg(long, short, value_enum, default_value = "table")]
    format: Format,
    #[command(flatten)]
    store: StoreArgs,
}

pub(crate) fn diff(args: &DiffArgs, out: &mut impl Write) -> Result<ExitCode> {
    let mut store = args.store.open()?;
    let d = images::diff(store.as_mut(), &args.from, &args.to)?;
    match args.format {
        Format::Json => render::json(out, &d)?,
        Format::Table => {
            writeln!(out, "{} → {}", d.from, d.to)?;
            let p = &d.packages;
            if !(p.added.is_empty() && p.removed.is_empty() && p.changed.is_empty()) {
                let mut t = render::table(["", "ECOSYSTEM", "PACKAGE", "FROM", "TO"]);
                for x in &p.added {
                    t.add_row(["+", x.ecosystem.as_str(), &x.name, "", &x.version]);
                }
                for x in &p.removed {
                    t.add_row(["-", x.ecosystem.as_str(), &x.name, &x.version, ""]);
                }
                for x in &p.changed {
                    t.add_row(["~", x.ecosystem.as_str(), &x.name, &x.from, &x.to]);
                }
                writeln!(out, "{t}")?;
            }
            let f = &d.findings;
            if !(f.added.is_empty() && f.removed.is_empty()) {
                let mut t = render::table(["", "VULNERABILITY", "PACKAGE"]);
                for x in &f.added {
                    t.add_row(["+", &x.id, &x.package]);
                }
                for x in &f.removed {
                    t.add_row(["-", &x.id, &x.package]);
                }
                writeln!(out, "{t}")?;
            }
            writeln!(
                out,
                "packages: {} added, {} removed, {} changed; findings: {} added, {} removed",
                p.added.len(),
                p.removed.len(),
                p.changed.len(),
                f.added.len(),
                f.removed.len()
            )?;
        }
    }
    Ok(ExitCode::SUCCESS)
}
