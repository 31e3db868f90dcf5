//! `customs vercmp ECOSYSTEM A B`: how an ecosystem orders two versions.

use std::cmp::Ordering;
use std::io::{BufRead, Write};
use std::process::ExitCode;

use anyhow::{Result, bail};
use customs_types::Ecosystem;

#[derive(clap::Args)]
pub(crate) struct VercmpArgs {
    /// deb, rpm, apk (also debian, ubuntu, redhat, rhel, alpine), pypi, npm, cargo
    /// (crates.io), golang (go), maven, gem (rubygems), composer (packagist) or nuget.
    #[arg(value_parser = str::parse::<Ecosystem>)]
    ecosystem: Ecosystem,
    a: Option<String>,
    b: Option<String>,
    /// Read `A B` pairs, one per line, from standard input; print one answer per line
    /// (`error: …` for an invalid pair; the exit code is then 2).
    #[arg(long, conflicts_with_all = ["a", "b"])]
    stdin: bool,
}

fn sign(o: Ordering) -> &'static str {
    match o {
        Ordering::Less => "<",
        Ordering::Equal => "=",
        Ordering::Greater => ">",
    }
}

/// Print `<`, `=` or `>`; exit 2 with a message when a version is invalid.
pub(crate) fn run(args: &VercmpArgs, out: &mut impl Write) -> Result<ExitCode> {
    let eco = args.ecosystem;
    if args.stdin {
        let mut bad = false;
        for line in std::io::stdin().lock().lines() {
            let line = line?;
            let mut it = line.split_whitespace();
            let answer = match (it.next(), it.next(), it.next()) {
                (Some(a), Some(b), None) => match customs_version::compare(eco, a, b) {
                    Ok(o) => sign(o).to_owned(),
                    Err(e) => {
                        bad = true;
                        format!("error: {e}")
                    }
                },
                _ => {
                    bad = true;
                    "error: expected two versions".to_owned()
                }
            };
            writeln!(out, "{answer}")?;
        }
        return Ok(if bad {
            ExitCode::from(2)
        } else {
            ExitCode::SUCCESS
        });
    }
    let (Some(a), Some(b)) = (&args.a, &args.b) else {
        bail!("give two versions, or --stdin");
    };
    let o = customs_version::compare(eco, a, b)?;
    writeln!(out, "{}", sign(o))?;
    Ok(ExitCode::SUCCESS)
}
