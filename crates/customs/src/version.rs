//! `customs version compare ECOSYSTEM A B`: how the ecosystem orders two versions.

use std::cmp::Ordering;
use std::io::{BufRead, Write};
use std::process::ExitCode;

use anyhow::{Context, Result, bail};
use customs_version::Ecosystem;

#[derive(clap::Subcommand)]
pub(crate) enum VersionCmd {
    /// Print `<`, `=` or `>`; exit 2 with a message when a version is invalid.
    Compare {
        /// deb, rpm, apk (also debian, ubuntu, redhat, rhel, alpine), pypi, npm, cargo
        /// (crates.io) or go.
        ecosystem: String,
        a: Option<String>,
        b: Option<String>,
        /// Read `A B` pairs, one per line, from standard input; print one answer per line
        /// (`error: …` for an invalid pair; the exit code is then 2).
        #[arg(long, conflicts_with_all = ["a", "b"])]
        stdin: bool,
    },
}

fn sign(o: Ordering) -> &'static str {
    match o {
        Ordering::Less => "<",
        Ordering::Equal => "=",
        Ordering::Greater => ">",
    }
}

pub(crate) fn run(cmd: &VersionCmd) -> Result<ExitCode> {
    let VersionCmd::Compare {
        ecosystem,
        a,
        b,
        stdin,
    } = cmd;
    let eco: Ecosystem = ecosystem
        .parse()
        .map_err(|e| anyhow::anyhow!("{e}"))
        .with_context(|| format!("unknown ecosystem {ecosystem:?}"))?;
    let mut out = std::io::stdout().lock();
    if *stdin {
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
    let (Some(a), Some(b)) = (a, b) else {
        bail!("give two versions, or --stdin");
    };
    let o = customs_version::compare(eco, a, b)?;
    writeln!(out, "{}", sign(o))?;
    Ok(ExitCode::SUCCESS)
}
