//! The gate over stored images: `customs policy check` (a verdict without reading the image
//! again) and `customs vex export` (OpenVEX for what the gate and the vendor let pass).

use std::io::Write;
use std::path::PathBuf;
use std::process::ExitCode;

use anyhow::Result;
use customs_types::{Ecosystem, Timestamp};

use crate::args::{DbArgs, Format, StoreArgs};
use crate::cmd::scan::{gaps_block, open_db, policy_summary, vex_summary};

#[derive(clap::Subcommand)]
pub(crate) enum PolicyCmd {
    /// Judge a stored image by a policy file, without reading the image again: its stored
    /// inventory is matched against the database now. Exit 0 pass or warn, 1 fail, 2 a
    /// mistake in the file or a coverage gap.
    Check(CheckArgs),
    /// Run the examples written in a policy file (`examples:`, docs/policy.md): each input
    /// and the verdict it must get. Exit 0 when all pass, 1 when one does not, 2 when the
    /// file has a mistake or no examples.
    Test(TestArgs),
}

#[derive(clap::Args)]
pub(crate) struct TestArgs {
    /// The policy file.
    policy: PathBuf,
    /// The clock for examples without their own `now` (default: now).
    #[arg(long, value_name = "TIME", value_parser = Timestamp::parse_lenient)]
    now: Option<Timestamp>,
    #[arg(long, short, value_enum, default_value = "table")]
    format: Format,
}

#[derive(clap::Subcommand)]
pub(crate) enum ExceptionsCmd {
    /// The exceptions of a policy file: scope, owner, dates, and whether each is in force,
    /// expiring or expired at --now.
    List(ListArgs),
    /// A Harbor CVE allowlist (JSON, as Harbor's API gives it) as exceptions for a policy
    /// file, on standard output: one per CVE, with the allowlist's expiry and the owner and
    /// reason given here.
    ImportHarbor(ImportArgs),
    /// Every change to a policy's exceptions the store has seen (`scan --store --policy`,
    /// `rematch --policy`): added, changed, removed, with who ran customs and when.
    History(HistoryArgs),
}

#[derive(clap::Args)]
pub(crate) struct HistoryArgs {
    /// Only this policy file (as it was given).
    #[arg(long, value_name = "FILE")]
    policy: Option<String>,
    #[arg(long, short, value_enum, default_value = "table")]
    format: Format,
    #[command(flatten)]
    store: StoreArgs,
}

#[derive(clap::Args)]
pub(crate) struct ListArgs {
    /// The policy file.
    #[arg(long, value_name = "FILE")]
    policy: PathBuf,
    /// Only those past their date.
    #[arg(long, conflicts_with = "expiring")]
    expired: bool,
    /// Only those in force that end within this many days (`14d` or `14`).
    #[arg(long, value_name = "DAYS", value_parser = days)]
    expiring: Option<i64>,
    /// The clock (default: now).
    #[arg(long, value_name = "TIME", value_parser = Timestamp::parse_lenient)]
    now: Option<Timestamp>,
    #[arg(long, short, value_enum, default_value = "table")]
    format: Format,
}

#[derive(clap::Args)]
pub(crate) struct ImportArgs {
    /// The allowlist file.
    file: PathBuf,
    /// Who accepts the risks (Harbor does not record it).
    #[arg(long)]
    owner: String,
    /// Why (Harbor does not record it).
    #[arg(long)]
    reason: String,
    /// Scope them to these repositories (REGISTRY/REPOSITORY globs), as a project's list is.
    #[arg(long, value_name = "GLOB")]
    repositories: Vec<String>,
    /// The creation date when the allowlist has none (default: today).
    #[arg(long, value_name = "TIME", value_parser = Timestamp::parse_lenient)]
    now: Option<Timestamp>,
}

/// `14d` or `14`: a number of days.
fn days(s: &str) -> Result<i64, String> {
    s.strip_suffix('d')
        .unwrap_or(s)
        .parse::<i64>()
        .ok()
        .filter(|d| *d >= 0)
        .ok_or_else(|| format!("{s:?}: a number of days, like 14d"))
}

#[derive(clap::Args)]
pub(crate) struct CheckArgs {
    /// A stored image: digest (or a prefix of 12+), REPOSITORY:TAG, or REPOSITORY.
    reference: String,
    /// The policy file (docs/policy.md).
    #[arg(long, value_name = "FILE")]
    policy: PathBuf,
    /// VEX documents to apply first, as for `scan --vex`.
    #[arg(long, value_name = "FILE")]
    vex: Vec<PathBuf>,
    /// The clock exceptions expire by: RFC 3339 or YYYY-MM-DD (default: now).
    #[arg(long, value_name = "TIME", value_parser = Timestamp::parse_lenient)]
    now: Option<Timestamp>,
    /// Pass an image although the database has no advisories for this ecosystem.
    #[arg(long, value_delimiter = ',', value_name = "ECOSYSTEM", value_parser = str::parse::<Ecosystem>)]
    allow_missing_coverage: Vec<Ecosystem>,
    #[arg(long, short, value_enum, default_value = "table")]
    format: Format,
    /// Only errors on stderr.
    #[arg(long, short)]
    quiet: bool,
    #[command(flatten)]
    store: StoreArgs,
    #[command(flatten)]
    db: DbArgs,
}

#[derive(clap::Subcommand)]
pub(crate) enum VexCmd {
    /// OpenVEX 0.2 on standard output for a stored image: a not_affected statement for each
    /// finding an exception of --policy covers, and for each the vendor says is not affected.
    /// Attest it with `customs attest --type openvex`; apply it with
    /// `customs scan --vex`.
    Export(ExportArgs),
}

#[derive(clap::Args)]
pub(crate) struct ExportArgs {
    /// A stored image: digest (or a prefix of 12+), REPOSITORY:TAG, or REPOSITORY.
    #[arg(long, value_name = "REF")]
    image: String,
    /// The policy whose exceptions (in force at --now) go into the document.
    #[arg(long, value_name = "FILE")]
    policy: Option<PathBuf>,
    /// The clock exceptions expire by, and the document's timestamp (default: now).
    #[arg(long, value_name = "TIME", value_parser = Timestamp::parse_lenient)]
    now: Option<Timestamp>,
    /// The document's author.
    #[arg(long, default_value = "customs")]
    author: String,
    /// Only errors on stderr.
    #[arg(long, short)]
    quiet: bool,
    #[command(flatten)]
    store: StoreArgs,
    #[command(flatten)]
    db: DbArgs,
}

pub(crate) fn policy(cmd: &PolicyCmd, out: &mut impl Write) -> Result<ExitCode> {
    match cmd {
        PolicyCmd::Check(args) => check(args, out),
        PolicyCmd::Test(args) => test(args, out),
    }
}

fn test(args: &TestArgs, out: &mut impl Write) -> Result<ExitCode> {
    let policy = customs_policy::Policy::from_file(&args.policy)?;
    if policy.examples.is_empty() {
        anyhow::bail!(
            "{}: no examples to run (docs/policy.md: examples)",
            args.policy.display()
        );
    }
    let results = policy.run_examples(args.now.unwrap_or_else(Timestamp::now));
    let failed = results.iter().filter(|r| !r.passed).count();
    match args.format {
        Format::Json => crate::render::json(out, &results)?,
        Format::Table => {
            for r in &results {
                let codes: Vec<&str> = r.codes.iter().map(|c| c.as_str()).collect();
                writeln!(
                    out,
                    "{} {} (line {}): {} [{}]",
                    if r.passed { "ok  " } else { "FAIL" },
                    crate::render::clean(&r.name),
                    r.line,
                    r.outcome.as_str(),
                    codes.join(", ")
                )?;
                for p in &r.problems {
                    writeln!(out, "       {p}")?;
                }
            }
            writeln!(
                out,
                "{} examples: {} passed, {failed} failed",
                results.len(),
                results.len() - failed
            )?;
        }
    }
    Ok(ExitCode::from(u8::from(failed > 0)))
}

pub(crate) fn exceptions(cmd: &ExceptionsCmd, out: &mut impl Write) -> Result<ExitCode> {
    match cmd {
        ExceptionsCmd::List(args) => list(args, out),
        ExceptionsCmd::History(args) => {
            let mut store = args.store.open()?;
            let events = store.exception_events(args.policy.as_deref())?;
            match args.format {
                Format::Json => crate::render::json(out, &events)?,
                Format::Table => {
                    let mut t = crate::render::table([
                        "AT",
                        "POLICY",
                        "CHANGE",
                        "EXCEPTION",
                        "OWNER",
                        "EXPIRES",
                        "BY",
                    ]);
                    for e in &events {
                        let field = |k: &str| e.exception[k].as_str().unwrap_or("").to_owned();
                        t.add_row([
                            crate::render::when(e.at),
                            e.policy.clone(),
                            e.change.clone(),
                            e.key.clone(),
                            field("owner"),
                            field("expires"),
                            e.by.clone(),
                        ]);
                    }
                    writeln!(out, "{t}")?;
                    writeln!(out, "{} changes", events.len())?;
                }
            }
            Ok(ExitCode::SUCCESS)
        }
        ExceptionsCmd::ImportHarbor(args) => {
            let list = customs_policy::harbor::import_allowlist(
                &args.file,
                &customs_policy::harbor::ImportOptions {
                    owner: &args.owner,
                    reason: &args.reason,
                    repositories: &args.repositories,
                    now: args.now.unwrap_or_else(Timestamp::now),
                },
            )?;
            write!(out, "{}", customs_policy::harbor::to_yaml(&list))?;
            let mut err = std::io::stderr().lock();
            writeln!(
                err,
                "{} exceptions from {}",
                list.len(),
                args.file.display()
            )?;
            if list.iter().any(|e| e.expires.is_none()) {
                writeln!(
                    err,
                    "warning: the allowlist does not expire: a policy takes these only with allow-permanent-exceptions: true"
                )?;
            }
            Ok(ExitCode::SUCCESS)
        }
    }
}

fn no_text(s: &&str) -> bool {
    s.is_empty()
}

#[derive(serde::Serialize)]
struct Listed<'a> {
    /// The vulnerability id or alias, for an exception over findings.
    #[serde(skip_serializing_if = "no_text")]
    vulnerability: &'a str,
    /// The detection code (glob), for an exception over detections.
    #[serde(skip_serializing_if = "Option::is_none")]
    code: Option<&'a str>,
    packages: &'a [String],
    repositories: &'a [String],
    paths: &'a [String],
    images: &'a [String],
    owner: &'a str,
    reason: &'a str,
    created: &'a str,
    expires: Option<&'a str>,
    ticket: Option<&'a str>,
    line: u64,
    /// `in-force`, `expiring` (within --expiring) or `expired`.
    state: &'static str,
    /// Days left after today (negative: since it ended); `None` without an end.
    days_left: Option<i64>,
}

fn list(args: &ListArgs, out: &mut impl Write) -> Result<ExitCode> {
    let policy = customs_policy::Policy::from_file(&args.policy)?;
    let now = args.now.unwrap_or_else(Timestamp::now);
    let days_and_state = |expires: Option<&str>| {
        let days_left = expires
            .and_then(|d| Timestamp::parse_lenient(d).ok())
            .map(|end| now.days_until(end));
        let state = match days_left {
            Some(d) if d < 0 => "expired",
            Some(d) if args.expiring.is_some_and(|w| d <= w) => "expiring",
            _ => "in-force",
        };
        (days_left, state)
    };
    let detection_rows = policy.detection_exceptions.iter().map(|e| {
        let (days_left, state) = days_and_state(e.expires.as_deref());
        Listed {
            vulnerability: "",
            code: Some(&e.code),
            packages: &[],
            repositories: &e.repositories.patterns,
            paths: &e.paths.patterns,
            images: &e.images,
            owner: &e.owner,
            reason: &e.reason,
            created: &e.created,
            expires: e.expires.as_deref(),
            ticket: e.ticket.as_deref(),
            line: e.line,
            state,
            days_left,
        }
    });
    let rows: Vec<Listed<'_>> = policy
        .exceptions
        .iter()
        .map(|e| {
            let (days_left, state) = days_and_state(e.expires.as_deref());
            Listed {
                vulnerability: &e.vulnerability,
                code: None,
                packages: &e.packages.patterns,
                repositories: &e.repositories.patterns,
                paths: &e.paths.patterns,
                images: &e.images,
                owner: &e.owner,
                reason: &e.reason,
                created: &e.created,
                expires: e.expires.as_deref(),
                ticket: e.ticket.as_deref(),
                line: e.line,
                state,
                days_left,
            }
        })
        .chain(detection_rows)
        .filter(|r| match (args.expired, args.expiring) {
            (true, _) => r.state == "expired",
            (_, Some(_)) => r.state == "expiring",
            _ => true,
        })
        .collect();
    match args.format {
        Format::Json => crate::render::json(out, &rows)?,
        Format::Table => {
            let mut t = crate::render::table([
                "LINE",
                "VULNERABILITY",
                "SCOPE",
                "OWNER",
                "CREATED",
                "EXPIRES",
                "STATE",
            ]);
            for r in &rows {
                let scope: Vec<&str> = r
                    .packages
                    .iter()
                    .chain(r.repositories)
                    .chain(r.paths)
                    .chain(r.images)
                    .map(String::as_str)
                    .collect();
                t.add_row([
                    r.line.to_string(),
                    r.code
                        .map_or_else(|| r.vulnerability.to_owned(), |c| format!("code {c}")),
                    if scope.is_empty() {
                        "any".to_owned()
                    } else {
                        scope.join(", ")
                    },
                    r.owner.to_owned(),
                    r.created.to_owned(),
                    r.expires.unwrap_or("never").to_owned(),
                    match r.days_left {
                        Some(d) if d < 0 => format!("expired {} days ago", -d),
                        Some(d) => format!("{} ({d} days left)", r.state),
                        None => r.state.to_owned(),
                    },
                ]);
            }
            writeln!(out, "{t}")?;
            writeln!(out, "{} exceptions", rows.len())?;
        }
    }
    Ok(ExitCode::SUCCESS)
}

fn check(args: &CheckArgs, out: &mut impl Write) -> Result<ExitCode> {
    // Both read before the store: a mistake stops here, naming its line.
    let policy = customs_policy::Policy::from_file(&args.policy)?;
    let vex = read_vex(&args.vex)?;
    let db = open_db(&args.db, args.quiet)?;
    let mut store = args.store.open()?;
    let mut report = customs_app::gate::stored_report(store.as_mut(), &args.reference, &db)?;
    let now = args.now.unwrap_or_else(Timestamp::now);
    if !vex.is_empty() {
        customs_app::gate::apply_vex(&vex, Vec::new(), &mut report);
        if !args.quiet {
            vex_summary(&report)?;
        }
    }
    let base = customs_app::gate::base_image(store.as_mut(), &report)?;
    let verdict = customs_app::gate::judge(&policy, &report, now, base.as_ref());
    match args.format {
        Format::Json => crate::render::json(out, &verdict)?,
        Format::Table => writeln!(
            out,
            "{}: {} ({} violations, {} exceptions applied, {} expired)",
            customs_app::record::image_key(&report.inventory),
            verdict.outcome.as_str(),
            verdict.violations.len(),
            verdict.exceptions.len(),
            verdict.expired.len()
        )?,
    }
    let failed = policy_summary(&verdict, args.quiet)?;
    if gaps_block(&report, &args.allow_missing_coverage, "policy check")? {
        return Ok(ExitCode::from(2));
    }
    Ok(ExitCode::from(u8::from(failed)))
}

pub(crate) fn vex(cmd: &VexCmd, out: &mut impl Write) -> Result<ExitCode> {
    let VexCmd::Export(args) = cmd;
    let policy = args
        .policy
        .as_deref()
        .map(customs_policy::Policy::from_file)
        .transpose()?;
    let db = open_db(&args.db, args.quiet)?;
    let mut store = args.store.open()?;
    let mut report = customs_app::gate::stored_report(store.as_mut(), &args.image, &db)?;
    let now = args.now.unwrap_or_else(Timestamp::now);
    if let Some(p) = &policy {
        customs_app::gate::mark_exceptions(p, &mut report, now);
    }
    let image = customs_report::image_purl(&report.inventory);
    let exported =
        customs_policy::vex::export(&report.findings, image.as_deref(), &args.author, now);
    crate::render::json(out, &exported.document)?;
    if !args.quiet {
        let mut err = std::io::stderr().lock();
        writeln!(
            err,
            "vex: {} statements for {}",
            exported.statements,
            image
                .as_deref()
                .unwrap_or("the image's packages (it has no digest)")
        )?;
        if exported.without_purl > 0 {
            writeln!(
                err,
                "warning: vex: {} findings left out: their packages have no purl",
                exported.without_purl
            )?;
        }
    }
    Ok(ExitCode::SUCCESS)
}

/// VEX documents, each read before any work: one that cannot be read is an error naming it.
pub(crate) fn read_vex(files: &[PathBuf]) -> Result<Vec<customs_policy::vex::VexDocument>> {
    Ok(files
        .iter()
        .map(|f| customs_policy::vex::VexDocument::from_file(f))
        .collect::<Result<Vec<_>, _>>()?)
}
