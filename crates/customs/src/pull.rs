//! Registry options shared by every command that reads images, and what the user sees while a
//! pull runs: a progress bar per layer on a terminal, retries under `--verbose`.

use std::io::{IsTerminal, Read, Write};
use std::path::PathBuf;
use std::sync::Arc;
use std::time::Duration;

use anyhow::{Context, Result, bail};
use customs_http::{HttpOptions, RetryPolicy, Transport};
use customs_registry::{BlobProgress, Client, ClientOptions, Credential, Observer, Secret};
use indicatif::{MultiProgress, ProgressBar, ProgressDrawTarget, ProgressStyle};

#[derive(clap::Args, Debug, Clone, Default)]
pub(crate) struct RegistryArgs {
    /// A registry (HOST[:PORT]) that may be reached over plain HTTP or TLS without
    /// verification. Loopback registries may use plain HTTP without it, as with docker.
    #[arg(long = "insecure-registry", value_name = "HOST[:PORT]")]
    pub(crate) insecure_registries: Vec<String>,
    /// Also trust the CA certificates in this PEM file for registry TLS.
    #[arg(long = "ca-cert", value_name = "FILE")]
    pub(crate) ca_certs: Vec<PathBuf>,
    /// Registry user name; the password is read from standard input (--password-stdin).
    /// Without it, docker's config.json and credential helpers are used.
    #[arg(long, env = "CUSTOMS_REGISTRY_USERNAME", value_name = "USER")]
    pub(crate) username: Option<String>,
    /// Read the registry password (or token) from standard input.
    #[arg(long)]
    pub(crate) password_stdin: bool,
    /// Retries per registry request (and resumes per layer download).
    #[arg(long, default_value_t = 5, value_name = "N")]
    pub(crate) retries: u32,
    /// Seconds a registry may stay silent (connecting, answering, or mid-download) before the
    /// request is retried.
    #[arg(long = "registry-timeout", default_value_t = 60, value_name = "SECS")]
    pub(crate) timeout: u64,
}

/// Build the registry client for a scan: credentials, TLS, and the reporter.
pub(crate) fn client(args: &RegistryArgs, quiet: bool, verbose: bool) -> Result<Client> {
    let credential = match (&args.username, args.password_stdin) {
        (Some(user), true) => {
            let mut pw = String::new();
            std::io::stdin()
                .take(64 << 10)
                .read_to_string(&mut pw)
                .context("reading the password from standard input")?;
            let pw = pw.trim_end_matches(['\n', '\r']).to_owned();
            if pw.is_empty() {
                bail!("--password-stdin: standard input was empty");
            }
            Some(Credential::Basic {
                username: user.clone(),
                password: Secret::new(pw),
            })
        }
        (Some(_), false) => bail!("--username needs --password-stdin"),
        (None, true) => bail!("--password-stdin needs --username"),
        (None, false) => None,
    };
    let show_bars = !quiet && std::io::stderr().is_terminal();
    let reporter = Reporter {
        verbose,
        bars: show_bars.then(|| MultiProgress::with_draw_target(ProgressDrawTarget::stderr())),
    };
    let reporter = Arc::new(reporter);
    Ok(Client::new(
        transport(args, Some(reporter.clone()))?,
        ClientOptions {
            credential,
            observer: Some(reporter),
            ..ClientOptions::default()
        },
    ))
}

/// The HTTP transport the registry options describe (TLS, timeouts, retries).
pub(crate) fn transport(
    args: &RegistryArgs,
    observer: Option<Arc<dyn customs_http::Observer>>,
) -> Result<Transport> {
    Ok(Transport::new(HttpOptions {
        insecure_hosts: args.insecure_registries.clone(),
        ca_certs: args.ca_certs.clone(),
        retry: RetryPolicy {
            retries: args.retries,
            ..RetryPolicy::default()
        },
        idle_timeout: Duration::from_secs(args.timeout.max(1)),
        connect_timeout: Duration::from_secs(args.timeout.clamp(1, 10)),
        observer,
        ..HttpOptions::default()
    })?)
}

/// One line on what the pull cost, for `--verbose`.
pub(crate) fn report(client: &Client) {
    let s = client.stats();
    let mut err = std::io::stderr().lock();
    let _ = writeln!(
        err,
        "registry: {} requests, {} retries, {} resumed downloads, {} blob bytes",
        s.requests, s.retries, s.resumes, s.blob_bytes
    );
}

struct Reporter {
    verbose: bool,
    bars: Option<MultiProgress>,
}

impl customs_http::Observer for Reporter {
    fn retrying(&self, target: &str, attempt: u32, delay: Duration, why: &str) {
        if !self.verbose {
            return;
        }
        let line = format!(
            "retry {attempt} of {target} in {:.1}s: {why}",
            delay.as_secs_f64()
        );
        match &self.bars {
            Some(m) => {
                let _ = m.println(line);
            }
            None => {
                let _ = writeln!(std::io::stderr().lock(), "{line}");
            }
        }
    }
}

impl Observer for Reporter {
    fn blob(&self, digest: &str, size: Option<u64>) -> Option<Box<dyn BlobProgress>> {
        let m = self.bars.as_ref()?;
        let bar = m.add(ProgressBar::new(size.unwrap_or(0)));
        let style = ProgressStyle::with_template(
            "{prefix} [{bar:30}] {bytes}/{total_bytes} {bytes_per_sec}",
        )
        .map_or_else(
            |_| ProgressStyle::default_bar(),
            |s| s.progress_chars("=> "),
        );
        bar.set_style(style);
        let short = digest.split(':').nth(1).unwrap_or(digest);
        bar.set_prefix(short.chars().take(12).collect::<String>());
        Some(Box::new(Bar(bar)))
    }
}

struct Bar(ProgressBar);

impl BlobProgress for Bar {
    fn advance(&mut self, bytes: u64) {
        self.0.inc(bytes);
    }

    fn finish(&mut self) {
        self.0.finish();
    }
}
