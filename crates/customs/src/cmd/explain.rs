//! `customs explain ID SOURCE`: why a finding is there, or why it is not.

use std::io::Write;
use std::process::ExitCode;

use anyhow::Result;
use customs_match::{Finding, FindingStatus};

use crate::args::{DbArgs, ImageArgs};

#[derive(clap::Args)]
pub(crate) struct ExplainArgs {
    /// A CVE id or an advisory id (DSA-…, GHSA-…, …).
    id: String,
    /// What to scan: as for `customs sbom`.
    source: String,
    #[command(flatten)]
    db: DbArgs,
    #[command(flatten)]
    image: ImageArgs,
}

pub(crate) fn run(args: &ExplainArgs, out: &mut impl Write) -> Result<ExitCode> {
    let (report, db) = crate::cmd::scan::scan(
        &args.source,
        &args.image,
        &args.db,
        customs_app::scan::Inspect::none(),
    )?;
    let db = db.ok_or_else(|| anyhow::anyhow!("explain needs the vulnerability database"))?;
    let why = customs_app::explain::explain(&report, &db, &args.id)?;
    let id = &why.id;
    writeln!(
        out,
        "{id} in {} (database {}, built {})",
        args.source,
        report.database.path.display(),
        report
            .database
            .built_at
            .map_or_else(|| "-".to_owned(), |t| t.to_string())
    )?;
    let ns: Vec<&str> = report.namespaces.iter().map(|n| n.as_str()).collect();
    writeln!(
        out,
        "image namespaces: {}",
        if ns.is_empty() {
            "none (distribution not recognised)".to_owned()
        } else {
            ns.join(", ")
        }
    )?;
    for f in &why.findings {
        finding(out, f)?;
    }
    if !why.findings.is_empty() {
        return Ok(ExitCode::SUCCESS);
    }
    if why.statements.is_empty() {
        writeln!(
            out,
            "\nNO FINDING: the database has no advisory {id} or alias of it."
        )?;
        return Ok(ExitCode::SUCCESS);
    }
    writeln!(out, "\nNO FINDING. What the database says about {id}:")?;
    let mut last: Option<&str> = None;
    for s in &why.statements {
        if last != Some(s.advisory.as_str()) {
            writeln!(
                out,
                "  {} ({} record {}){}",
                s.advisory,
                s.feed,
                s.record,
                if s.withdrawn { " — withdrawn" } else { "" }
            )?;
            last = Some(&s.advisory);
        }
        writeln!(out, "    {} {}: {}", s.namespace, s.package, s.verdict)?;
    }
    Ok(ExitCode::SUCCESS)
}

fn finding(out: &mut impl Write, f: &Finding) -> Result<()> {
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
        FindingStatus::Fixed => format!(
            "installed {} < fixed {}",
            f.installed_version,
            f.fixed_versions.join(", ")
        ),
        FindingStatus::Affected => {
            "the vendor lists the package as affected with no fix".to_owned()
        }
        FindingStatus::UnderInvestigation => "the vendor is still investigating".to_owned(),
        FindingStatus::WontFix => "the vendor will not fix it (suppressed by default)".to_owned(),
        FindingStatus::NotAffected => {
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
    Ok(())
}
