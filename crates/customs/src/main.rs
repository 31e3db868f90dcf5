//! The `customs` command line: parses arguments, calls `customs-app`, renders. Nothing else:
//! every use case is a library function the HTTP service calls too.

use std::io::Write;
use std::process::ExitCode;

use clap::{Parser, Subcommand};

mod args;
mod cmd;
mod output;
mod progress;
mod render;

#[derive(Parser)]
#[command(
    name = "customs",
    version,
    about = "Inventory, scan and watch container images"
)]
pub(crate) struct Cli {
    #[command(subcommand)]
    command: Command,
}

#[derive(Subcommand)]
enum Command {
    /// Inventory what is installed in an image or root filesystem.
    Sbom(cmd::sbom::SbomArgs),
    /// Inventory and match against the vulnerability database.
    Scan(cmd::scan::ScanArgs),
    /// Why a vulnerability is (or is not) reported for an image.
    Explain(cmd::explain::ExplainArgs),
    /// Build and inspect the vulnerability database.
    #[command(subcommand)]
    Db(cmd::db::DbCmd),
    /// The images kept by `scan --store`: repository, tags, digest, open findings.
    Images(cmd::images::ImagesArgs),
    /// A stored image's findings over time: first seen, resolved at and why.
    History(cmd::images::HistoryArgs),
    /// Two stored images: packages added, removed and upgraded, and findings gained and lost.
    Diff(cmd::images::DiffArgs),
    /// Audit a registry: crawl its repositories and tags, scan each distinct image once into
    /// the store (a rerun continues an interrupted audit).
    Audit(cmd::audit::AuditArgs),
    /// A stored image's base: which image it is built on, its findings from the base's
    /// layers and from its own, and what a rebuild on the base's current build would fix.
    Base(cmd::audit::BaseArgs),
    /// Re-match every stored inventory against the database and report what changed.
    Rematch(cmd::rematch::RematchArgs),
    /// Keep watching: update the database, re-match every stored image, notify; every
    /// --interval, until SIGTERM.
    Watch(cmd::rematch::WatchArgs),
    /// The gate's policy file: `policy check` of a stored image, `policy test` of its examples.
    #[command(subcommand)]
    Policy(cmd::gate::PolicyCmd),
    /// VEX documents: `vex export` of a stored image's accepted and not-affected findings.
    #[command(subcommand)]
    Vex(cmd::gate::VexCmd),
    /// A policy file's exceptions: `exceptions list`, `exceptions import-harbor`.
    #[command(subcommand)]
    Exceptions(cmd::gate::ExceptionsCmd),
    /// Run customs as a service: the HTTP API, scan on push, and workers for the job queue;
    /// until SIGTERM, which lets running jobs finish (or gives them back to the queue).
    Serve(cmd::serve::ServeArgs),
    /// Run queued jobs from a shared store (PostgreSQL for a fleet), until SIGTERM.
    Worker(cmd::serve::WorkerArgs),
    /// The service's API tokens: `token create`, `token list`, `token revoke`.
    #[command(subcommand)]
    Token(cmd::serve::TokenCmd),
    /// Inspect and prune customs' cache.
    #[command(subcommand)]
    Cache(cmd::cache::CacheCmd),
    /// Verify a Sigstore bundle for a file or a digest, offline: who signed it, by certificate
    /// identity and issuer or by key. Exit 0 verified, 1 refused (with a reason code), 2 on
    /// unusable input.
    VerifyBlob(cmd::verify::VerifyBlobArgs),
    /// Verify an image's cosign signatures (legacy `.sig` tags and v3 bundles as referrers),
    /// offline: keyed or keyless. Exit 0 verified, 1 refused (with a reason code), 2 on errors.
    Verify(cmd::verify::VerifyArgs),
    /// Sign an image with a key, as `cosign sign --key` does (legacy layout), in its registry.
    Sign(cmd::verify::SignArgs),
    /// Verify an image's in-toto attestations of one predicate type (legacy `.att` and v3
    /// bundles), offline: who signed, subject, type. Exit 0 verified, 1 refused, 2 on errors.
    VerifyAttestation(cmd::verify::VerifyAttestationArgs),
    /// Attest a predicate about an image with a key, as `cosign attest --key` does.
    Attest(cmd::verify::AttestArgs),
    /// The public half of a private key (also cosign's encrypted keys), as PEM.
    PublicKey(cmd::verify::PublicKeyArgs),
    /// Sign a file keylessly with an OIDC identity token (Fulcio, Rekor): a Sigstore bundle.
    SignBlob(cmd::verify::SignBlobArgs),
    /// How an ecosystem orders two versions: prints <, = or >.
    Vercmp(cmd::vercmp::VercmpArgs),
    /// This build of customs, and the vulnerability database it matches against.
    Version(cmd::version::VersionArgs),
    /// Shell completions, on standard output.
    Completions(cmd::docs::CompletionsArgs),
    /// The manual page (roff), on standard output or one per command into a directory.
    Man(cmd::docs::ManArgs),
}

fn run(command: &Command) -> anyhow::Result<ExitCode> {
    let mut out = std::io::BufWriter::new(std::io::stdout().lock());
    let code = match command {
        Command::Sbom(a) => cmd::sbom::run(a, &mut out),
        Command::Scan(a) => cmd::scan::run(a, &mut out),
        Command::Explain(a) => cmd::explain::run(a, &mut out),
        Command::Db(c) => cmd::db::run(c, &mut out),
        Command::Images(a) => cmd::images::list(a, &mut out),
        Command::History(a) => cmd::images::history(a, &mut out),
        Command::Diff(a) => cmd::images::diff(a, &mut out),
        Command::Audit(a) => cmd::audit::run(a, &mut out),
        Command::Base(a) => cmd::audit::base(a, &mut out),
        Command::Rematch(a) => cmd::rematch::rematch(a, &mut out),
        Command::Watch(a) => cmd::rematch::run_watch(a, &mut out),
        Command::Policy(c) => cmd::gate::policy(c, &mut out),
        Command::Vex(c) => cmd::gate::vex(c, &mut out),
        Command::Exceptions(c) => cmd::gate::exceptions(c, &mut out),
        Command::Serve(a) => cmd::serve::serve(a),
        Command::Worker(a) => cmd::serve::worker(a),
        Command::Token(c) => cmd::serve::token(c, &mut out),
        Command::Cache(c) => cmd::cache::run(c, &mut out),
        Command::VerifyBlob(a) => cmd::verify::run(a, &mut out),
        Command::Verify(a) => cmd::verify::verify(a, &mut out),
        Command::Sign(a) => cmd::verify::sign(a, &mut out),
        Command::VerifyAttestation(a) => cmd::verify::verify_attestation(a, &mut out),
        Command::Attest(a) => cmd::verify::attest(a, &mut out),
        Command::PublicKey(a) => cmd::verify::public_key(a, &mut out),
        Command::SignBlob(a) => cmd::verify::sign_blob(a, &mut out),
        Command::Vercmp(a) => cmd::vercmp::run(a, &mut out),
        Command::Version(a) => cmd::version::run(a, &mut out),
        Command::Completions(a) => cmd::docs::completions(a, &mut out),
        Command::Man(a) => cmd::docs::man(a, &mut out),
    }?;
    out.flush()?;
    Ok(code)
}

/// Whether the error is a write to a closed pipe (`customs sbom X | head`): the reader has
/// what it wanted, which is not a failure.
fn closed_pipe(e: &anyhow::Error) -> bool {
    e.chain().any(|c| {
        let kind = c
            .downcast_ref::<std::io::Error>()
            .map(std::io::Error::kind)
            // serde_json wraps the write's error and does not give it as its source.
            .or_else(|| c.downcast_ref::<serde_json::Error>()?.io_error_kind());
        kind == Some(std::io::ErrorKind::BrokenPipe)
    })
}

fn main() -> ExitCode {
    // Two TLS crypto providers can end up in the graph (DEPENDENCIES.md); pick one before any
    // client is built, or rustls panics at the first handshake.
    let _ = rustls::crypto::aws_lc_rs::default_provider().install_default();
    let cli = Cli::parse();
    match run(&cli.command) {
        Ok(code) => code,
        Err(e) if closed_pipe(&e) => ExitCode::SUCCESS,
        Err(e) => {
            let mut err = std::io::stderr().lock();
            let _ = writeln!(err, "customs: error: {e:#}");
            ExitCode::from(2)
        }
    }
}
