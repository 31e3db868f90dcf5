//! `customs version`: this build, and the database it would match against.

use std::io::Write;
use std::process::ExitCode;

use anyhow::Result;
use customs_app::about::{DbStatus, about};

use crate::args::{DbArgs, Format};
use crate::render;

#[derive(clap::Args)]
pub(crate) struct VersionArgs {
    #[arg(long, short, value_enum, default_value = "table")]
    format: Format,
    #[command(flatten)]
    db: DbArgs,
}

pub(crate) fn run(args: &VersionArgs, out: &mut impl Write) -> Result<ExitCode> {
    let profile = if cfg!(debug_assertions) {
        "debug"
    } else {
        "release"
    };
    let a = about(&args.db.location(), env!("CUSTOMS_TARGET"), profile);
    if args.format == Format::Json {
        render::json(out, &a)?;
        return Ok(ExitCode::SUCCESS);
    }
    writeln!(out, "customs {} ({}, {})", a.version, a.target, a.profile)?;
    writeln!(
        out,
        "schemas:          {}, {}, database {}, store {}",
        a.inventory_schema, a.scan_schema, a.db_schema, a.store_schema
    )?;
    let Some(db) = &a.vulnerability_db else {
        writeln!(out, "vulnerability db: none (no home directory: pass --db)")?;
        return Ok(ExitCode::SUCCESS);
    };
    writeln!(out, "vulnerability db: {}", db.path.display())?;
    match &db.status {
        DbStatus::Missing => writeln!(
            out,
            "                  not built yet: the first scan builds it from the built-in snapshot"
        )?,
        DbStatus::Unusable(why) => writeln!(out, "                  unusable: {why}")?,
        DbStatus::Ready => {
            let time = |t: Option<customs_types::Timestamp>| {
                t.map_or_else(|| "-".to_owned(), |t| t.to_string())
            };
            if let Some(info) = &db.info {
                writeln!(out, "  built at:       {}", time(info.built_at))?;
                writeln!(out, "  newest record:  {}", time(info.newest_advisory))?;
            }
            if let Some(n) = db.advisories {
                writeln!(out, "  advisories:     {n}")?;
            }
        }
    }
    Ok(ExitCode::SUCCESS)
}
