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
    let PolicyCmd::Check(args) = cmd;
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
    let verdict = customs_app::gate::judge(&policy, &report, now);
    match args.format {
        Format::Json => crate::render::json(out, &verdict)?,
        Format::Table => writeln!(
            out,
            "{}: {} ({} violations, {} exceptions applied, {} expired)",
            customs_app::record::image_key(&report.inventory),
            match verdict.outcome {
                customs_policy::Outcome::Pass => "pass",
                customs_policy::Outcome::Warn => "warn",
                customs_policy::Outcome::Fail => "fail",
            },
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
