//! What the user sees while a pull runs: a progress bar per layer on a terminal, retries under
//! `--verbose`, and what the pull cost.

use std::io::{IsTerminal, Write};
use std::sync::Arc;
use std::time::Duration;

use anyhow::Result;
use customs_registry::{BlobProgress, Client, ClientOptions};
use indicatif::{MultiProgress, ProgressBar, ProgressDrawTarget, ProgressStyle};

use crate::args::ImageArgs;

/// The registry client for a command that reads images: credentials, TLS, and the reporter.
pub(crate) fn registry_client(args: &ImageArgs) -> Result<Client> {
    let show_bars = !args.quiet.quiet && std::io::stderr().is_terminal();
    let reporter = Arc::new(Reporter {
        verbose: args.verbose,
        bars: show_bars.then(|| MultiProgress::with_draw_target(ProgressDrawTarget::stderr())),
    });
    let transport = args
        .http
        .transport(&args.registry.insecure_registries, Some(reporter.clone()))?;
    Ok(Client::new(
        transport,
        ClientOptions {
            credential: args.registry.credential()?,
            observer: Some(reporter),
            ..ClientOptions::default()
        },
    ))
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

impl customs_registry::Observer for Reporter {
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
