//! `customs explain ID SOURCE`: why a finding is there, or why it is not.

use std::cmp::Ordering;
use std::io::Write;
use std::process::ExitCode;

use anyhow::Result;
use customs_vulndb::Status;

use crate::CommonArgs;
use crate::db::DbArgs;

#[derive(clap::Args)]
pub(crate) struct ExplainArgs {
    /// A CVE id or an advisory id (DSA-…, GHSA-…, …).
    id: String,
    source: String,
    #[command(flatten)]
    db: DbArgs,
    #[command(flatten)]
    common: CommonArgs,
}

pub(crate) fn run(args: &ExplainArgs) -> Result<ExitCode> {
    let (inv, report, db_meta, _) = crate::scan::scan(&args.source, &args.common, &args.db)?;
    let mut out = std::io::stdout().lock();
    let id = args.id.as_str();
    let hits: Vec<_> = report
        .findings
        .iter()
        .filter(|f| f.id == id || f.aliases.iter().any(|a| a == id))
        .collect();
    writeln!(
        out,
        "{id} in {} (database {}, built {})",
        args.source,
        db_meta.path,
        db_meta
            .built_at
            .map_or_else(|| "-".to_owned(), |t| t.to_string())
    )?;
    writeln!(
        out,
        "image namespaces: {}",
        if report.namespaces.is_empty() {
            "none (distribution not recognised)".to_owned()
        } else {
            report
                .namespaces
                .iter()
                .map(ToString::to_string)
                .collect::<Vec<_>>()
                .join(", ")
        }
    )?;
    for f in &hits {
        writeln!(
            out,
            "\nFINDING {} in {} {}",
            f.id, f.package.name, f.package.version
        )?;
        writeln!(out, "  aliases:         {}", f.aliases.join(", "))?;
        writeln!(
            out,
            "  package:         {} {} ({}), source package {} {}",
            f.package.name,
            f.package.version,
            f.package.ecosystem,
            f.package.source_name.as_deref().unwrap_or("-"),
            f.package.source_version.as_deref().unwrap_or("-")
        )?;
        writeln!(
            out,
            "  layer:           {}",
            f.package.layer_index.map_or_else(
                || "-".to_owned(),
                |l| format!(
                    "{l} ({})",
                    f.package
                        .layer
                        .as_ref()
                        .map(ToString::to_string)
                        .unwrap_or_default()
                )
            )
        )?;
        writeln!(
            out,
            "  namespace:       {} (the feed names package {:?})",
            f.data_source.namespace, f.data_source.package
        )?;
        writeln!(
            out,
            "  installed:       {} (the version compared)",
            f.installed_version
        )?;
        writeln!(
            out,
            "  fixed in:        {}",
            if f.fixed_versions.is_empty() {
                "no fix".to_owned()
            } else {
                f.fixed_versions.join(", ")
            }
        )?;
        let rule = match f.status {
            customs_match::FindingStatus::Fixed => format!(
                "installed {} < fixed {}",
                f.installed_version,
                f.fixed_versions.join(", ")
            ),
            customs_match::FindingStatus::Affected => {
                "the vendor lists the package as affected with no fix".to_owned()
            }
            customs_match::FindingStatus::UnderInvestigation => {
                "the vendor is still investigating".to_owned()
            }
            customs_match::FindingStatus::WontFix => {
                "the vendor will not fix it (suppressed by default)".to_owned()
            }
            customs_match::FindingStatus::NotAffected => {
                "the vendor states the package is not affected (suppressed)".to_owned()
            }
        };
        writeln!(out, "  rule:            {rule}")?;
        writeln!(
            out,
            "  status:          {}{}",
            f.status.as_str(),
            f.suppressed
                .as_ref()
                .map(|s| format!(", suppressed: {s}"))
                .unwrap_or_default()
        )?;
        writeln!(
            out,
            "  severity:        {} (from {})",
            f.severity,
            f.severity_source.as_deref().unwrap_or("nobody")
        )?;
        if let Some(c) = &f.cvss {
            writeln!(
                out,
                "  cvss:            {} {} {}",
                c.version,
                c.score.map(|s| s.to_string()).unwrap_or_default(),
                c.vector
            )?;
        }
        writeln!(
            out,
            "  kev:             {}",
            f.kev.as_ref().map_or_else(
                || "no".to_owned(),
                |k| format!("yes, added {}", k.date_added.as_deref().unwrap_or("?"))
            )
        )?;
        if let Some(e) = f.epss {
            writeln!(
                out,
                "  epss:            {:.4} (percentile {:.3})",
                e.probability, e.percentile
            )?;
        }
        writeln!(
            out,
            "  data source:     {} record {}",
            f.data_source.feed, f.data_source.record
        )?;
        if let Some(n) = &f.note {
            writeln!(out, "  note:            {n}")?;
        }
    }
    if !hits.is_empty() {
        return Ok(ExitCode::SUCCESS);
    }
    // No finding: say why for every statement the database has about this id.
    let db = crate::db::open(&args.db, true)?;
    let named = db.advisories_named(id)?;
    if named.is_empty() {
        writeln!(
            out,
            "\nNO FINDING: the database has no advisory {id} or alias of it."
        )?;
        return Ok(ExitCode::SUCCESS);
    }
    writeln!(out, "\nNO FINDING. What the database says about {id}:")?;
    for (head, affected) in &named {
        writeln!(
            out,
            "  {} ({} record {}){}",
            head.id,
            head.feed,
            head.record,
            if head.withdrawn { " — withdrawn" } else { "" }
        )?;
        for a in affected {
            let in_ns = report.namespaces.contains(&a.namespace);
            let installed: Vec<_> = inv
                .packages
                .iter()
                .filter(|p| {
                    p.source_name.as_deref() == Some(a.package.as_str()) || p.name == a.package
                })
                .collect();
            let why = if !in_ns {
                format!("namespace {} does not apply to this image", a.namespace)
            } else if installed.is_empty() {
                format!("no installed package is {} or built from it", a.package)
            } else {
                let p = installed[0];
                let v = p
                    .source_version
                    .clone()
                    .unwrap_or_else(|| p.version.clone());
                match &a.status {
                    Status::Fixed { fixed } => {
                        match customs_version::compare(p.ecosystem, &v, fixed) {
                            Ok(Ordering::Less) => {
                                format!("installed {v} < fixed {fixed}: should match (filtered?)")
                            }
                            Ok(_) => format!("installed {v} >= fixed {fixed}: already fixed"),
                            Err(e) => format!("cannot compare: {e}"),
                        }
                    }
                    other => format!("status {other:?}"),
                }
            };
            writeln!(out, "    {} {}: {why}", a.namespace, a.package)?;
        }
    }
    Ok(ExitCode::SUCCESS)
}
