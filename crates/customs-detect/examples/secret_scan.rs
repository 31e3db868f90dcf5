//! Scan every regular file of a tar (a root filesystem or an uncompressed layer) for
//! secrets, print the hits and how fast it went.
//!
//! ```text
//! cargo run --release -p customs-detect --example secret_scan -- FILE.tar [--rules rules.toml]
//! ```
//!
//! Two rates are printed: the tar's bytes over the wall time (reading, the binary and size
//! checks and the scan together), and the scanned bytes over the time spent in
//! `scan_file` alone.

#![expect(
    clippy::print_stdout,
    clippy::print_stderr,
    reason = "an example's output is its point"
)]

use std::fs::File;
use std::io::{BufReader, Read};
use std::path::PathBuf;
use std::process::ExitCode;
use std::sync::Arc;
use std::time::{Duration, Instant};

use customs_detect::secrets::{RuleSet, SecretStats};

fn main() -> ExitCode {
    match run() {
        Ok(()) => ExitCode::SUCCESS,
        Err(e) => {
            eprintln!("secret_scan: {e}");
            ExitCode::FAILURE
        }
    }
}

fn run() -> Result<(), Box<dyn std::error::Error>> {
    let mut tar_path = None;
    let mut rules_path = None;
    let mut args = std::env::args().skip(1);
    while let Some(a) = args.next() {
        match a.as_str() {
            "--rules" => rules_path = Some(PathBuf::from(args.next().ok_or("--rules FILE")?)),
            _ if tar_path.is_none() => tar_path = Some(PathBuf::from(a)),
            _ => return Err(format!("unexpected argument {a:?}").into()),
        }
    }
    let tar_path = tar_path.ok_or("usage: secret_scan FILE.tar [--rules rules.toml]")?;
    let rules = match &rules_path {
        Some(p) => Arc::new(RuleSet::with_file(p)?),
        None => RuleSet::builtin(),
    };
    let tar_bytes = std::fs::metadata(&tar_path)?.len();
    let started = Instant::now();
    let mut archive = tar::Archive::new(BufReader::with_capacity(1 << 20, File::open(&tar_path)?));
    let mut stats = SecretStats::default();
    let mut scanning = Duration::ZERO;
    let mut hits = 0;
    let mut bytes = Vec::new();
    for entry in archive.entries()? {
        let mut entry = entry?;
        if entry.header().entry_type() != tar::EntryType::Regular {
            continue;
        }
        let path = entry.path()?.to_string_lossy().into_owned();
        let abs = format!("/{}", path.trim_start_matches("./").trim_start_matches('/'));
        if !rules.wants_path(&abs) {
            continue;
        }
        if entry.size() > rules.max_file_size() {
            stats.skipped_large += 1;
            continue;
        }
        bytes.clear();
        entry.read_to_end(&mut bytes)?;
        let t = Instant::now();
        let found = rules.scan_file(&abs, &bytes, &mut stats);
        scanning += t.elapsed();
        for h in found {
            hits += 1;
            println!("{abs}:{} {} [{}] {}", h.line, h.code, h.rule, h.evidence);
        }
    }
    let wall = started.elapsed();
    #[expect(clippy::cast_precision_loss, reason = "a rate to print")]
    let rate = |b: u64, d: Duration| b as f64 / 1e6 / d.as_secs_f64().max(1e-9);
    println!("--");
    println!(
        "rules: {} ({} rules)",
        rules.fingerprint(),
        rules.rules().count()
    );
    println!("hits: {hits}");
    println!(
        "files scanned: {}, bytes scanned: {}, skipped binary: {}, skipped large: {}, hits dropped: {}",
        stats.files, stats.bytes, stats.skipped_binary, stats.skipped_large, stats.hits_dropped
    );
    println!(
        "tar: {tar_bytes} bytes in {:.3} s = {:.0} MB/s; scan: {} bytes in {:.3} s = {:.0} MB/s",
        wall.as_secs_f64(),
        rate(tar_bytes, wall),
        stats.bytes,
        scanning.as_secs_f64(),
        rate(stats.bytes, scanning)
    );
    Ok(())
}
