//! The `customs` command line: parses arguments and calls the library crates.

use std::io::Write;
use std::path::PathBuf;
use std::process::ExitCode;

use clap::{Parser, Subcommand, ValueEnum};

mod cache;
mod db;
mod explain;
mod notify;
mod pull;
mod sbom;
mod scan;
mod store;
mod version;

#[derive(Parser)]
#[command(
    name = "customs",
    version,
    about = "Inventory, scan and watch container images"
)]
struct Cli {
    #[command(subcommand)]
    command: Command,
}

#[derive(Subcommand)]
enum Command {
    /// Inventory what is installed in an image or root filesystem.
    Sbom(sbom::SbomArgs),
    /// Inventory and match against the vulnerability database.
    Scan(scan::ScanArgs),
    /// Why a vulnerability is (or is not) reported for an image.
    Explain(explain::ExplainArgs),
    /// Build and inspect the vulnerability database.
    #[command(subcommand)]
    Db(db::DbCmd),
    /// Version ordering per ecosystem.
    #[command(subcommand)]
    Version(version::VersionCmd),
    /// The images kept by `scan --store`: repository, tags, digest, open findings.
    Images(store::ImagesArgs),
    /// A stored image's findings over time: first seen, resolved at and why.
    History(store::HistoryArgs),
    /// Re-match every stored inventory against the database and report what changed.
    Rematch(store::RematchArgs),
    /// Keep watching: update the database, re-match every stored image, notify; every
    /// --interval, until SIGTERM.
    Watch(store::WatchArgs),
    /// Two stored images: packages added, removed and upgraded, and findings gained and lost.
    Diff(store::DiffArgs),
    /// Inspect and prune customs' cache.
    #[command(subcommand)]
    Cache(cache::CacheCmd),
}

/// Options every command that reads images shares.
#[derive(clap::Args, Debug, Clone, Default)]
pub(crate) struct CommonArgs {
    /// customs' cache directory (layer facts, decompressed archives).
    #[arg(long, env = "CUSTOMS_CACHE_DIR", value_name = "DIR")]
    pub(crate) cache_dir: Option<PathBuf>,
    /// Neither read nor write the layer cache.
    #[arg(long)]
    pub(crate) no_cache: bool,
    /// Platform to pick from a multi-platform index, as OS/ARCH[/VARIANT]. Default: this
    /// machine's.
    #[arg(long, value_name = "OS/ARCH")]
    pub(crate) platform: Option<String>,
    /// Print nothing but the result.
    #[arg(long, short)]
    pub(crate) quiet: bool,
    /// Leave out language packages only needed for development (npm devDependencies,
    /// Pipfile `develop`, ...); by default they are reported, marked `dev`.
    #[arg(long)]
    pub(crate) exclude_dev: bool,
    /// Say more on standard error: registry retries, and what a pull cost.
    #[arg(long, short)]
    pub(crate) verbose: bool,
    #[command(flatten)]
    pub(crate) registry: pull::RegistryArgs,
}

impl CommonArgs {
    /// `--cache-dir`, else `$XDG_CACHE_HOME/customs`, else `~/.cache/customs`.
    pub(crate) fn cache_root(&self) -> Option<PathBuf> {
        if let Some(d) = &self.cache_dir {
            return Some(d.clone());
        }
        cache::default_root()
    }
}

#[derive(Clone, Copy, Debug, ValueEnum)]
pub(crate) enum Format {
    Table,
    Json,
}

fn main() -> ExitCode {
    // Two TLS crypto providers can end up in the graph (DEPENDENCIES.md); pick one before any
    // client is built, or rustls panics at the first handshake.
    let _ = rustls::crypto::aws_lc_rs::default_provider().install_default();
    let cli = Cli::parse();
    let result = match cli.command {
        Command::Sbom(args) => sbom::run(&args),
        Command::Scan(args) => scan::run(&args),
        Command::Explain(args) => explain::run(&args),
        Command::Db(cmd) => db::run(&cmd),
        Command::Version(cmd) => version::run(&cmd),
        Command::Cache(cmd) => cache::run(&cmd),
        Command::Images(args) => store::images(&args),
        Command::History(args) => store::history(&args),
        Command::Rematch(args) => store::rematch(&args),
        Command::Diff(args) => store::diff(&args),
        Command::Watch(args) => store::watch(&args),
    };
    match result {
        Ok(code) => code,
        Err(e) => {
            let mut err = std::io::stderr().lock();
            let _ = writeln!(err, "customs: error: {e:#}");
            ExitCode::from(2)
        }
    }
}
