//! `customs scan SOURCE`: inventory + findings, as a table grouped by package or as JSON, with
//! the filters and the exit code of Trivy's and Grype's `--only-fixed`, `--severity` and
//! `--fail-on`.

use std::collections::BTreeMap;
use std::io::Write;
use std::process::ExitCode;

use anyhow::Result;
use comfy_table::{Table, presets::UTF8_FULL_CONDENSED};
use customs_catalog::Inventory;
use customs_match::{Finding, MatchReport};
use customs_vulndb::Severity;
use serde::Serialize;

use crate::db::DbArgs;
use crate::{CommonArgs, Format};

/// The scan report's JSON schema version (the inventory's fields plus these).
pub(crate) const SCAN_SCHEMA: &str = "customs.scan/1.0";

#[derive(clap::Args)]
pub(crate) struct ScanArgs {
    /// What to scan: as for `customs sbom`.
    source: String,
    #[arg(long, short, value_enum, default_value = "table")]
    format: Format,
    /// Exit 1 when a finding at or above this severity remains after filtering.
    #[arg(long, value_name = "SEVERITY")]
    fail_on: Option<String>,
    /// Only findings with a fixed version available.
    #[arg(long)]
    only_fixed: bool,
    /// Only these severities (comma-separated: critical,high,medium,low,negligible,unknown).
    #[arg(long, value_delimiter = ',', value_name = "LIST")]
    severity: Vec<String>,
    /// Also show not-affected, won't-fix and unimportant findings.
    #[arg(long)]
    show_suppressed: bool,
    /// Keep the image, its tags, inventory and findings in the store, and say what changed
    /// since the image was last stored.
    #[arg(long)]
    store: bool,
    #[command(flatten)]
    store_args: crate::store::StoreArgs,
    #[command(flatten)]
    db: DbArgs,
    #[command(flatten)]
    common: CommonArgs,
}

fn parse_severity(s: &str) -> Result<Severity> {
    Ok(Severity::parse_lenient(s)?)
}

#[derive(Serialize)]
pub(crate) struct DbMeta {
    pub(crate) path: String,
    pub(crate) built_at: Option<customs_types::Timestamp>,
    pub(crate) newest_advisory: Option<customs_types::Timestamp>,
}

/// What a scan adds to the inventory's fields.
#[derive(Serialize)]
struct ScanReport<'a> {
    vulnerability_db: DbMeta,
    namespaces: &'a [customs_types::Namespace],
    findings: Vec<&'a Finding>,
    /// Findings hidden by the filters (suppressed, --only-fixed, --severity).
    hidden: usize,
    match_warnings: &'a [String],
}

/// Inventory and match a source.
pub(crate) fn scan(
    source: &str,
    common: &CommonArgs,
    db: &DbArgs,
) -> Result<(Inventory, MatchReport, DbMeta, Option<String>)> {
    let db = crate::db::open(db, common.quiet)?;
    let inv = crate::sbom::inventory(source, common, false)?;
    let report = customs_match::match_inventory(&db, &inv)?;
    let m = db.meta()?;
    let meta = DbMeta {
        path: db.path().display().to_string(),
        built_at: m.built_at,
        newest_advisory: m.newest_advisory,
    };
    Ok((inv, report, meta, crate::db::age_warning(&db)))
}

pub(crate) fn run(args: &ScanArgs) -> Result<ExitCode> {
    let fail_on = args.fail_on.as_deref().map(parse_severity).transpose()?;
    let wanted: Vec<Severity> = args
        .severity
        .iter()
        .map(|s| parse_severity(s))
        .collect::<Result<_>>()?;
    let (inv, report, db_meta, age) = scan(&args.source, &args.common, &args.db)?;
    if args.store {
        let mut store = args.store_args.open()?;
        let (digest, delta) = crate::store::record(
            store.as_mut(),
            &customs_vulndb::VulnDb::open(std::path::Path::new(&db_meta.path))?,
            &inv,
            &report,
            db_meta.built_at,
        )?;
        if !args.common.quiet {
            writeln!(
                std::io::stderr(),
                "stored {digest}: {} new, {} resolved, {} changed findings since it was last stored",
                delta.new.len(),
                delta.resolved.len(),
                delta.changed.len()
            )?;
        }
    }
    let shown: Vec<&Finding> = report
        .findings
        .iter()
        .filter(|f| args.show_suppressed || f.suppressed.is_none())
        .filter(|f| !args.only_fixed || f.fixable())
        .filter(|f| wanted.is_empty() || wanted.contains(&f.severity))
        .collect();
    let hidden = report.findings.len() - shown.len();
    let mut out = std::io::BufWriter::new(std::io::stdout().lock());
    match args.format {
        Format::Json => {
            let r = ScanReport {
                vulnerability_db: db_meta,
                namespaces: &report.namespaces,
                findings: shown.clone(),
                hidden,
                match_warnings: &report.warnings,
            };
            // The inventory's own fields, with the scan's schema version and the scan's fields.
            let mut doc = serde_json::to_value(&inv)?;
            if let (Some(d), serde_json::Value::Object(extra)) =
                (doc.as_object_mut(), serde_json::to_value(&r)?)
            {
                d.insert("schema".to_owned(), SCAN_SCHEMA.into());
                d.extend(extra);
            }
            serde_json::to_writer_pretty(&mut out, &doc)?;
            writeln!(out)?;
        }
        Format::Table => print_table(&mut out, &inv, &shown, hidden, &report.namespaces)?,
    }
    out.flush()?;
    if !args.common.quiet {
        let mut err = std::io::stderr().lock();
        for w in &inv.warnings {
            writeln!(err, "warning: {}: {}", w.file, w.problem)?;
        }
        for w in &report.warnings {
            writeln!(err, "warning: {w}")?;
        }
        if let Some(a) = age {
            writeln!(err, "warning: {a}")?;
        }
        if report.namespaces.is_empty() {
            writeln!(
                err,
                "warning: no advisory namespace for this image's distribution; OS packages were not matched"
            )?;
        }
    }
    // Suppressed findings never fail a build, even when shown.
    let failing = fail_on.is_some_and(|min| {
        shown
            .iter()
            .any(|f| f.suppressed.is_none() && f.severity >= min)
    });
    Ok(if failing {
        ExitCode::from(1)
    } else {
        ExitCode::SUCCESS
    })
}

fn print_table(
    out: &mut impl Write,
    inv: &Inventory,
    shown: &[&Finding],
    hidden: usize,
    ns: &[customs_types::Namespace],
) -> Result<()> {
    let color = std::io::IsTerminal::is_terminal(&std::io::stdout());
    let paint = |s: Severity, text: &str| -> String {
        if !color {
            return text.to_owned();
        }
        let code = match s {
            Severity::Critical => "1;31",
            Severity::High => "31",
            Severity::Medium => "33",
            Severity::Low => "36",
            _ => "2",
        };
        format!("\x1b[{code}m{text}\x1b[0m")
    };
    let mut by_pkg: BTreeMap<(String, String), Vec<&Finding>> = BTreeMap::new();
    for f in shown {
        by_pkg
            .entry((f.package.name.clone(), f.package.version.clone()))
            .or_default()
            .push(f);
    }
    let mut t = Table::new();
    t.load_preset(UTF8_FULL_CONDENSED);
    t.set_header([
        "PACKAGE",
        "INSTALLED",
        "VULNERABILITY",
        "SEVERITY",
        "STATUS",
        "FIXED IN",
        "KEV",
        "EPSS",
        "LAYER",
    ]);
    for ((name, version), fs) in &by_pkg {
        for (i, f) in fs.iter().enumerate() {
            let status = match &f.suppressed {
                Some(s) => s.to_string(),
                None => f.status.as_str().to_owned(),
            };
            t.add_row([
                if i == 0 { name.clone() } else { String::new() },
                if i == 0 {
                    version.clone()
                } else {
                    String::new()
                },
                f.id.clone(),
                paint(f.severity, f.severity.as_str()),
                status,
                f.fixed_versions.join(", "),
                if f.kev.is_some() {
                    "yes".to_owned()
                } else {
                    String::new()
                },
                f.epss
                    .map(|e| format!("{:.1}%", e.probability * 100.0))
                    .unwrap_or_default(),
                f.package
                    .layer_index
                    .map(|l| l.to_string())
                    .unwrap_or_default(),
            ]);
        }
    }
    if !shown.is_empty() {
        writeln!(out, "{t}")?;
    }
    let mut counts: BTreeMap<Severity, usize> = BTreeMap::new();
    for f in shown {
        *counts.entry(f.severity).or_default() += 1;
    }
    let summary: Vec<String> = counts
        .iter()
        .rev()
        .map(|(s, n)| format!("{n} {}", s.as_str()))
        .collect();
    let distro = inv.distro.as_ref().map_or_else(
        || "unknown distribution".to_owned(),
        |d| d.pretty_name.clone().unwrap_or_else(|| d.id.clone()),
    );
    writeln!(
        out,
        "{} packages, {} findings ({}), {} fixable; {hidden} hidden (suppressed or filtered); {distro}; namespaces: {}",
        inv.packages.len(),
        shown.len(),
        if summary.is_empty() {
            "none".to_owned()
        } else {
            summary.join(", ")
        },
        shown.iter().filter(|f| f.fixable()).count(),
        if ns.is_empty() {
            "none".to_owned()
        } else {
            ns.iter()
                .map(ToString::to_string)
                .collect::<Vec<_>>()
                .join(", ")
        }
    )?;
    Ok(())
}
