//! `customs scan SOURCE`: inventory + findings, as a table grouped by package or as JSON, with
//! the filters and the exit code of Trivy's and Grype's `--only-fixed`, `--severity` and
//! `--fail-on`.

use std::collections::BTreeMap;
use std::io::Write;
use std::process::ExitCode;

use anyhow::Result;
use customs_app::database;
use customs_app::report::{Filter, Gap, ScanReport, View};
use customs_match::Finding;
use customs_types::{Ecosystem, Severity};

use crate::args::{DbArgs, ImageArgs, InspectArgs, StoreArgs};
use crate::output::OutputArgs;
use crate::render;

#[derive(clap::Args)]
pub(crate) struct ScanArgs {
    /// What to scan: as for `customs sbom`.
    source: String,
    #[command(flatten)]
    output: OutputArgs,
    /// Exit 1 when a finding at or above this severity remains after filtering. Exit 2 when
    /// the scan cannot tell: the database is empty, or holds no advisories for an ecosystem
    /// the image has packages of.
    #[arg(long, value_name = "SEVERITY", value_parser = Severity::parse_lenient)]
    fail_on: Option<Severity>,
    /// With --fail-on: pass an image although the database has no advisories for this
    /// ecosystem (deb, apk, rpm, pypi, npm, cargo, golang); comma-separated or repeated.
    #[arg(long, value_delimiter = ',', value_name = "ECOSYSTEM", value_parser = str::parse::<Ecosystem>)]
    allow_missing_coverage: Vec<Ecosystem>,
    /// Only findings with a fixed version available.
    #[arg(long)]
    only_fixed: bool,
    /// Only these severities (comma-separated: critical,high,medium,low,negligible,unknown).
    #[arg(long, value_delimiter = ',', value_name = "LIST", value_parser = Severity::parse_lenient)]
    severity: Vec<Severity>,
    /// Also show not-affected, won't-fix and unimportant findings.
    #[arg(long)]
    show_suppressed: bool,
    /// Keep the image, its tags, inventory and findings in the store, and say what changed
    /// since the image was last stored.
    #[arg(long)]
    store: bool,
    #[command(flatten)]
    store_args: StoreArgs,
    /// Verify the image's signatures against this trust policy first, and scan the digest
    /// that was verified; the verdict goes into the report and the stored scan. A failed
    /// verdict (an enforced policy not satisfied, no policy for the repository, a source
    /// outside a registry) exits 1.
    #[arg(long, value_name = "FILE")]
    trust_policy: Option<std::path::PathBuf>,
    /// The trusted root for keyless signatures (default: the Sigstore production root).
    #[arg(long, value_name = "FILE", requires = "trust_policy")]
    trusted_root: Option<std::path::PathBuf>,
    /// Judge the scan by this policy file (docs/policy.md): rules over findings and the
    /// image, and exceptions with an owner and an expiry. The verdict goes into the report;
    /// a failed one exits 1. As with --fail-on, a scan with coverage gaps exits 2 (not
    /// known is not passed). A mistake in the file exits 2 naming FILE:LINE:COLUMN.
    #[arg(long, value_name = "FILE")]
    policy: Option<std::path::PathBuf>,
    /// Apply this VEX document (OpenVEX 0.2, CycloneDX 1.4-1.6 VEX or CSAF 2.0 VEX); repeat
    /// for several. A finding whose latest statement is not_affected or fixed is suppressed,
    /// so neither --fail-on nor the policy blocks on it (docs/vex.md).
    #[arg(long, value_name = "FILE")]
    vex: Vec<std::path::PathBuf>,
    /// Also apply the OpenVEX attestations on the image, each only when an authority of
    /// --trust-policy for the repository signed it; the others are listed in the report as
    /// ignored, with why.
    #[arg(long, requires = "trust_policy")]
    vex_attestations: bool,
    /// The clock the policy's exceptions expire by: RFC 3339 or YYYY-MM-DD (default: now).
    #[arg(long, value_name = "TIME", requires = "policy", value_parser = customs_types::Timestamp::parse_lenient)]
    now: Option<customs_types::Timestamp>,
    #[command(flatten)]
    inspect: InspectArgs,
    #[command(flatten)]
    db: DbArgs,
    #[command(flatten)]
    image: ImageArgs,
}

/// Open the database a command matches against, saying so when it is first built.
pub(crate) fn open_db(db: &DbArgs, quiet: bool) -> Result<customs_vulndb::VulnDb> {
    let location = db.location();
    if !quiet && location.0.is_none() {
        let path = location.path()?;
        if !path.is_file() {
            writeln!(
                std::io::stderr(),
                "customs: building the vulnerability database from the built-in snapshot at {} (first use)",
                path.display()
            )?;
        }
    }
    Ok(database::open(&location)?.db)
}

/// Inventory and match a source with the command line's options.
/// Inventory and match a source with the command line's options. Without the `vuln`
/// scanner no database is opened (`None`), and the report says nothing was matched.
pub(crate) fn scan(
    source: &str,
    image: &ImageArgs,
    db: &DbArgs,
    inspect: customs_app::scan::Inspect,
) -> Result<(ScanReport, Option<customs_vulndb::VulnDb>)> {
    let scanners = inspect.scanners;
    if !scanners.vuln {
        let inv = crate::cmd::sbom::inventory(source, image, false, inspect)?;
        return Ok((customs_app::scan::unmatched(inv, scanners), None));
    }
    let vulndb = open_db(db, image.quiet.quiet)?;
    let inv = crate::cmd::sbom::inventory(source, image, false, inspect)?;
    let report = customs_app::scan::match_inventory(inv, &vulndb)?;
    Ok((report, Some(vulndb)))
}

pub(crate) fn run(args: &ScanArgs, out: &mut impl Write) -> Result<ExitCode> {
    let filter = Filter {
        show_suppressed: args.show_suppressed,
        only_fixed: args.only_fixed,
        severities: args.severity.clone(),
    };
    let specs = args.output.specs(true)?;
    // Read before the scan: a policy with a mistake stops here, naming its line.
    let gate = args
        .policy
        .as_deref()
        .map(customs_policy::Policy::from_file)
        .transpose()?;
    // So are VEX documents: one that cannot be read stops the scan rather than pass silently.
    let mut vex = crate::cmd::gate::read_vex(&args.vex)?;
    let mut vex_ignored = Vec::new();
    let (source, verdict) = match &args.trust_policy {
        None => (args.source.clone(), None),
        Some(file) => {
            let policy = customs_sign::policy::TrustPolicy::from_file(file)?;
            let root = customs_sign::bundle::trusted_root(args.trusted_root.as_deref())?;
            let client = crate::progress::registry_client(&args.image)?;
            let platform = match &args.image.platform {
                Some(p) => p.parse::<customs_image::Platform>()?,
                None => customs_image::Platform::host(),
            };
            let (pinned, v) = customs_app::signatures::verify_source(
                &client,
                &args.source,
                &policy,
                &root,
                &platform,
                customs_types::Timestamp::now(),
            )?;
            if args.vex_attestations {
                let reference = customs_registry::Reference::parse(&pinned)?;
                let (docs, ignored) =
                    customs_app::gate::vex_attestations(&client, &reference, &policy, &root)?;
                vex.extend(docs);
                vex_ignored = ignored;
            }
            (pinned, Some(v))
        }
    };
    let (mut report, db) = scan(&source, &args.image, &args.db, args.inspect.inspect()?)?;
    report.signature = verdict;
    let now = args.now.unwrap_or_else(customs_types::Timestamp::now);
    let mut stored = None;
    if args.store {
        let Some(db) = &db else {
            anyhow::bail!(
                "--store keeps an image's findings to re-match them later: it needs the vuln scanner in --scanners"
            );
        };
        let mut store = args.store_args.open()?;
        let recorded = customs_app::record::record(store.as_mut(), db, &report)?;
        if !args.image.quiet.quiet {
            let d = &recorded.delta;
            writeln!(
                std::io::stderr(),
                "stored {}: {} new, {} resolved, {} changed findings since it was last stored",
                recorded.digest,
                d.new.len(),
                d.resolved.len(),
                d.changed.len()
            )?;
        }
        stored = Some((store, recorded.digest));
    }
    // After the store (which keeps the vendor's verdicts, not the team's): VEX and the
    // exceptions suppress findings in the views and before the policy judges, so --fail-on and
    // the policy agree on what they suppressed.
    if !vex.is_empty() || !vex_ignored.is_empty() {
        customs_app::gate::apply_vex(&vex, vex_ignored, &mut report);
    }
    if let Some(p) = &gate {
        // The base image is known from the store: an image stored earlier whose layers
        // are this one's bottom layers.
        let base = match &mut stored {
            Some((store, _)) => customs_app::gate::base_image(store.as_mut(), &report)?,
            None => None,
        };
        let verdict = customs_app::gate::judge(p, &report, now, base.as_ref());
        if let Some((store, digest)) = &mut stored {
            let (_, events) = customs_app::gate::record_verdict(
                store.as_mut(),
                p,
                digest,
                &verdict,
                &customs_app::gate::actor(),
                now,
            )?;
            if !args.image.quiet.quiet {
                for e in &events {
                    writeln!(
                        std::io::stderr(),
                        "policy: exception {} {} (recorded in the store)",
                        e.key,
                        e.change
                    )?;
                }
            }
        }
        report.policy = Some(verdict);
        customs_app::gate::mark_exceptions(p, &mut report, now);
    }
    let view = report.view(&filter);
    crate::output::write_all(
        &specs,
        customs_report::Subject::Scan(&report, &filter),
        out,
        |buf, color| table(buf, &report, &view, color),
    )?;
    if !args.image.quiet.quiet {
        crate::cmd::sbom::warn_inventory(&report.inventory, false)?;
        let mut err = std::io::stderr().lock();
        for w in report.match_warnings.iter().chain(&report.scan_warnings()) {
            writeln!(err, "warning: {}", render::clean(w))?;
        }
        vex_summary(&report)?;
    }
    let signature_failed = match &report.signature {
        None => false,
        Some(v) => {
            let mut err = std::io::stderr().lock();
            let why = v.code.as_deref().unwrap_or_default();
            let policy = v.policy.as_deref().unwrap_or("none");
            match v.outcome {
                customs_app::signatures::Outcome::Pass => {
                    if !args.image.quiet.quiet {
                        writeln!(err, "signature: pass (policy {policy}, {})", v.digest)?;
                    }
                    false
                }
                customs_app::signatures::Outcome::Warn => {
                    writeln!(
                        err,
                        "warning: signature: {why} (policy {policy} only warns)"
                    )?;
                    false
                }
                customs_app::signatures::Outcome::Fail => {
                    writeln!(err, "customs: signature: fail: {why} (policy {policy})")?;
                    true
                }
                customs_app::signatures::Outcome::Skip => {
                    writeln!(
                        err,
                        "signature: not checked: policy {policy} skips verification"
                    )?;
                    false
                }
            }
        }
    };
    let policy_failed = match &report.policy {
        None => false,
        Some(v) => policy_summary(v, args.image.quiet.quiet)?,
    };
    let gate = match (args.fail_on, &args.policy) {
        (Some(min), _) => format!("--fail-on {min}"),
        (None, Some(_)) => "--policy".to_owned(),
        (None, None) => return Ok(ExitCode::from(u8::from(signature_failed))),
    };
    // A gate that does not know must not pass: gaps outrank findings.
    if gaps_block(&report, &args.allow_missing_coverage, &gate)? {
        return Ok(ExitCode::from(2));
    }
    let findings_failed = args.fail_on.is_some_and(|min| view.fails_at(min));
    Ok(if signature_failed || policy_failed || findings_failed {
        ExitCode::from(1)
    } else {
        ExitCode::SUCCESS
    })
}

/// What the scan's VEX documents did, on stderr.
pub(crate) fn vex_summary(report: &ScanReport) -> Result<()> {
    let Some(v) = &report.vex else {
        return Ok(());
    };
    let mut err = std::io::stderr().lock();
    for d in &v.documents {
        writeln!(
            err,
            "vex: {} ({}, {} statements): {} findings suppressed",
            render::clean(&d.source),
            d.format,
            d.statements,
            d.suppressed
        )?;
        for w in &d.warnings {
            writeln!(
                err,
                "warning: vex: {}: {}",
                render::clean(&d.source),
                render::clean(w)
            )?;
        }
    }
    for i in &v.ignored {
        writeln!(
            err,
            "warning: vex: {} ignored: {} ({})",
            render::clean(&i.source),
            i.code,
            render::clean(&i.detail)
        )?;
    }
    Ok(())
}

/// Whether the report has coverage gaps `allow` does not accept, said on stderr for `gate`:
/// a gate that does not know cannot pass (exit 2).
pub(crate) fn gaps_block(report: &ScanReport, allow: &[Ecosystem], gate: &str) -> Result<bool> {
    let gaps = report.gaps(allow);
    if gaps.is_empty() {
        return Ok(false);
    }
    let mut err = std::io::stderr().lock();
    for g in &gaps {
        writeln!(err, "customs: error: {gate}: {g}")?;
    }
    if gaps.iter().any(|g| matches!(g, Gap::Unsupported { .. })) {
        writeln!(
            err,
            "customs: the SBOM lists packages customs cannot check yet; a gate cannot pass them"
        )?;
    }
    if gaps.iter().any(|g| matches!(g, Gap::NotCovered { .. })) {
        writeln!(
            err,
            "customs: fetch the missing data with `customs db update`, or accept the gap with --allow-missing-coverage ECOSYSTEM"
        )?;
    }
    Ok(true)
}

/// The policy's verdict on stderr: exceptions that applied or expired, then each violation;
/// returns whether it failed.
pub(crate) fn policy_summary(v: &customs_policy::Verdict, quiet: bool) -> Result<bool> {
    use customs_policy::Outcome;
    let mut err = std::io::stderr().lock();
    for e in &v.expired {
        writeln!(
            err,
            "warning: policy: the exception for {} by {} ({}:{}) expired after {}; it no longer covers {}",
            e.vulnerability,
            e.owner,
            v.policy,
            e.line,
            e.expired,
            e.packages.join(", ")
        )?;
    }
    for e in &v.detection_expired {
        writeln!(
            err,
            "warning: policy: the exception for {} by {} ({}:{}) expired after {}; it no longer covers {} detections",
            e.code,
            e.owner,
            v.policy,
            e.line,
            e.expired,
            e.detections.len()
        )?;
    }
    if !quiet {
        for e in &v.detection_exceptions {
            writeln!(
                err,
                "policy: exception for {} by {} covers {} detections",
                e.code,
                e.accepted(),
                e.detections.len()
            )?;
        }
        for e in &v.exceptions {
            writeln!(
                err,
                "policy: exception for {} by {} ({}) covers {}{}",
                e.vulnerability,
                e.owner,
                e.reason,
                e.packages.join(", "),
                e.expires
                    .as_deref()
                    .map(|d| format!(" until {d}"))
                    .unwrap_or_default()
            )?;
        }
    }
    let prefix = match v.outcome {
        Outcome::Pass => {
            if !quiet {
                writeln!(err, "policy: pass ({})", v.policy)?;
            }
            return Ok(false);
        }
        Outcome::Warn => "warning: policy",
        Outcome::Fail => "customs: policy: fail",
    };
    for x in &v.violations {
        let action = match x.action {
            customs_policy::Action::Fail => "fail",
            customs_policy::Action::Warn => "warn",
        };
        writeln!(err, "{prefix}: rule {} ({action}): {}", x.rule, x.detail)?;
    }
    Ok(v.outcome == Outcome::Fail)
}

fn paint(s: Severity, color: bool) -> String {
    if !color {
        return s.to_string();
    }
    let code = match s {
        Severity::Critical => "1;31",
        Severity::High => "31",
        Severity::Medium => "33",
        Severity::Low => "36",
        Severity::Negligible | Severity::Unknown => "2",
    };
    format!("\x1b[{code}m{s}\x1b[0m")
}

fn table(out: &mut impl Write, report: &ScanReport, view: &View<'_>, color: bool) -> Result<()> {
    if report.scanners.vuln {
        vuln_table(out, report, view, color)?;
    } else {
        writeln!(
            out,
            "{} packages; vulnerabilities not scanned (--scanners {})",
            report.inventory.packages.len(),
            report.scanners.names().join(",")
        )?;
    }
    detection_table(out, report, view, color)
}

/// Secrets, config and file detections, and what the secret scanner covered.
fn detection_table(
    out: &mut impl Write,
    report: &ScanReport,
    view: &View<'_>,
    color: bool,
) -> Result<()> {
    let Some(inspected) = &report.inventory.inspected else {
        return Ok(());
    };
    if !view.detections.is_empty() {
        let mut t = render::table(["SEVERITY", "CODE", "LOCATION", "LAYER", "DETAIL"]);
        for shown in &view.detections {
            let d = shown.detection;
            let mut location = render::clean(&d.location.path).into_owned();
            if let Some(line) = d.location.line {
                location.push_str(&format!(":{line}"));
            }
            let mut layer = d
                .location
                .layer_index
                .map(|l| l.to_string())
                .unwrap_or_default();
            if let Some(r) = d.removed_in.as_ref().and_then(|r| r.layer_index) {
                layer.push_str(&format!(" (gone in {r})"));
            }
            let mut detail = render::clean(d.evidence.as_deref().unwrap_or(&d.title)).into_owned();
            if shown.exception.is_some() {
                detail.push_str(" (excepted by the policy)");
            }
            t.add_row([
                paint(d.severity, color),
                d.code.clone(),
                location,
                layer,
                detail,
            ]);
        }
        writeln!(out, "{t}")?;
    }
    let mut counts: BTreeMap<Severity, usize> = BTreeMap::new();
    for d in &view.detections {
        *counts.entry(d.detection.severity).or_default() += 1;
    }
    let summary: Vec<String> = counts
        .iter()
        .rev()
        .map(|(s, n)| format!("{n} {s}"))
        .collect();
    let skipped: usize = inspected.skipped.values().sum();
    writeln!(
        out,
        "{} detections ({}), {} hidden, from the {} scanners{}",
        view.detections.len(),
        if summary.is_empty() {
            "none".to_owned()
        } else {
            summary.join(", ")
        },
        view.detections_hidden,
        inspected.scanners.join(", "),
        if skipped > 0 {
            format!("; {skipped} left out by --skip-check/--skip-path")
        } else {
            String::new()
        }
    )?;
    if inspected.scanners.iter().any(|s| s == "secret") {
        let s = &inspected.secrets;
        writeln!(
            out,
            "secrets: {} files read ({:.1} MB); {} binary and {} large files skipped",
            s.files,
            s.bytes as f64 / 1e6,
            s.skipped_binary,
            s.skipped_large
        )?;
    }
    Ok(())
}

fn vuln_table(
    out: &mut impl Write,
    report: &ScanReport,
    view: &View<'_>,
    color: bool,
) -> Result<()> {
    let mut by_pkg: BTreeMap<(&str, &str), Vec<&Finding>> = BTreeMap::new();
    for f in &view.shown {
        by_pkg
            .entry((&f.package.name, &f.package.version))
            .or_default()
            .push(f);
    }
    let mut t = render::table([
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
                if i == 0 {
                    (*name).to_owned()
                } else {
                    String::new()
                },
                if i == 0 {
                    (*version).to_owned()
                } else {
                    String::new()
                },
                f.id.clone(),
                paint(f.severity, color),
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
    if !view.shown.is_empty() {
        writeln!(out, "{t}")?;
    }
    let mut counts: BTreeMap<Severity, usize> = BTreeMap::new();
    for f in &view.shown {
        *counts.entry(f.severity).or_default() += 1;
    }
    let summary: Vec<String> = counts
        .iter()
        .rev()
        .map(|(s, n)| format!("{n} {s}"))
        .collect();
    let inv = &report.inventory;
    let distro = inv.distro.as_ref().map_or_else(
        || "unknown distribution".to_owned(),
        |d| d.pretty_name.clone().unwrap_or_else(|| d.id.clone()),
    );
    let ns: Vec<&str> = report.namespaces.iter().map(|n| n.as_str()).collect();
    writeln!(
        out,
        "{} packages, {} findings ({}), {} fixable; {} hidden (suppressed or filtered); {distro}; namespaces: {}",
        inv.packages.len(),
        view.shown.len(),
        if summary.is_empty() {
            "none".to_owned()
        } else {
            summary.join(", ")
        },
        view.shown.iter().filter(|f| f.fixable()).count(),
        view.hidden,
        if ns.is_empty() {
            "none".to_owned()
        } else {
            ns.join(", ")
        }
    )?;
    let coverage: Vec<String> = report
        .coverage
        .iter()
        .map(|c| {
            let data = if !c.covered() {
                "NO ADVISORY DATA".to_owned()
            } else {
                let feeds: std::collections::BTreeSet<String> =
                    c.sources.iter().map(|s| s.feed.to_string()).collect();
                let feeds: Vec<String> = feeds.into_iter().collect();
                let newest = c
                    .newest()
                    .map(|t| format!(", newest {}", t.date()))
                    .unwrap_or_default();
                format!("{}{newest}", feeds.join(" + "))
            };
            format!("{} {} ({data})", c.ecosystem, c.packages)
        })
        .collect();
    if !coverage.is_empty() {
        writeln!(out, "coverage: {}", coverage.join("; "))?;
    }
    Ok(())
}
