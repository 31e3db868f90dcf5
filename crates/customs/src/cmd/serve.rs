//! `customs serve`, `customs worker` and `customs token`: customs as a service.

use std::io::Write;
use std::net::SocketAddr;
use std::path::PathBuf;
use std::process::ExitCode;
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};
use std::time::Duration;

use anyhow::{Context, Result, bail};
use clap::{Subcommand, ValueEnum};
use customs_app::scan::ImageOptions;
use customs_app::worker::WorkerOptions;
use customs_server::tokens::{self, Scope};

use crate::args::{DbArgs, Format, ImageArgs, StoreArgs};
use crate::render;

/// How the service logs.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, ValueEnum)]
pub(crate) enum LogFormat {
    /// Lines for people.
    #[default]
    Text,
    /// One JSON object per line, for a log collector.
    Json,
}

/// Options every job runner shares.
#[derive(clap::Args)]
pub(crate) struct RunnerArgs {
    #[command(flatten)]
    store: StoreArgs,
    #[command(flatten)]
    db: DbArgs,
    #[command(flatten)]
    image: ImageArgs,
    /// Seconds a worker holds a job without renewing its lease; a worker that dies gives up
    /// its jobs after this long.
    #[arg(long, default_value_t = 60, value_name = "SECS")]
    lease: u64,
    /// Seconds before a failed job's first retry; each later one doubles it.
    #[arg(long, default_value_t = 5, value_name = "SECS")]
    backoff: u64,
    /// Times a job runs before it is kept as a dead letter.
    #[arg(long, default_value_t = 3, value_name = "N")]
    max_attempts: u32,
    /// Seconds running jobs may take to finish on SIGTERM before they are given back.
    #[arg(long, default_value_t = 30, value_name = "SECS")]
    grace: u64,
    /// Log lines as text or as JSON (RUST_LOG sets the level; default info).
    #[arg(long, value_enum, default_value_t = LogFormat::Text)]
    log_format: LogFormat,
    /// Rematch jobs first update the database from the feeds (as `watch` does; a failed
    /// update keeps the old data).
    #[arg(long)]
    update: bool,
    /// The feeds `--update` fetches (default: every upstream feed).
    #[command(flatten)]
    feeds: crate::cmd::db::FeedArgs,
    #[command(flatten)]
    notify: crate::args::NotifyArgs,
    /// Keep layer facts in the store and share them between workers: a layer one worker has
    /// read is not read again by another, on any machine (a fleet on PostgreSQL).
    #[arg(long)]
    share_layers: bool,
}

#[derive(clap::Args)]
pub(crate) struct ServeArgs {
    /// Address to listen on.
    #[arg(long, default_value = "127.0.0.1:8080", value_name = "ADDR")]
    listen: SocketAddr,
    /// Serve HTTPS with this PEM certificate chain (with --tls-key).
    #[arg(long, value_name = "FILE", requires = "tls_key")]
    tls_cert: Option<PathBuf>,
    /// The PEM private key of --tls-cert.
    #[arg(long, value_name = "FILE", requires = "tls_cert")]
    tls_key: Option<PathBuf>,
    /// Workers in this process (0: only `customs worker` processes run jobs).
    #[arg(long, default_value_t = 2, value_name = "N")]
    workers: usize,
    /// A file holding the token registries must send to /hooks/registry (`Authorization:
    /// Bearer …` in their notifications config). Without it, scan on push is off.
    #[arg(long, env = "CUSTOMS_HOOK_TOKEN_FILE", value_name = "FILE")]
    hook_token_file: Option<PathBuf>,
    /// Requests per second each API token may make.
    #[arg(long, default_value_t = 50, value_name = "N")]
    rate: u32,
    /// Requests a token may make at once above its rate.
    #[arg(long, default_value_t = 100, value_name = "N")]
    burst: u32,
    /// Largest request body, in bytes.
    #[arg(long, default_value_t = 1 << 20, value_name = "BYTES")]
    body_limit: usize,
    /// Seconds a request may take before it is answered 408.
    #[arg(long, default_value_t = 30, value_name = "SECS")]
    request_timeout: u64,
    /// Queue a rematch at start and then this often (`45s`, `15m`, `6h`, `1d`): with
    /// --update and --notify, what `customs watch` does, run by the workers.
    #[arg(long, value_name = "DURATION", value_parser = crate::args::parse_duration)]
    rematch_every: Option<Duration>,
    #[command(flatten)]
    runner: RunnerArgs,
}

#[derive(clap::Args)]
pub(crate) struct WorkerArgs {
    /// Jobs run at once.
    #[arg(long, default_value_t = 2, value_name = "N")]
    concurrency: usize,
    /// This worker's name in the queue (default HOST:PID).
    #[arg(long, value_name = "NAME")]
    name: Option<String>,
    #[command(flatten)]
    runner: RunnerArgs,
}

#[derive(Subcommand)]
pub(crate) enum TokenCmd {
    /// Make an API token; it is printed once and kept only as a hash.
    Create(TokenCreateArgs),
    /// The tokens: name, scope, made, revoked.
    List(TokenListArgs),
    /// Revoke a token by name: it is refused from the next request on.
    Revoke(TokenRevokeArgs),
}

#[derive(clap::Args)]
pub(crate) struct TokenCreateArgs {
    /// Its name (who or what holds it): letters, digits, '.', '_' or '-'.
    #[arg(long)]
    name: String,
    /// What it may do: read; scan (also queue scans); admin (also queue rematches).
    #[arg(long, value_enum)]
    scope: ScopeArg,
    #[command(flatten)]
    store: StoreArgs,
}

#[derive(clap::Args)]
pub(crate) struct TokenListArgs {
    #[arg(long, value_enum, default_value_t = Format::Table)]
    format: Format,
    #[command(flatten)]
    store: StoreArgs,
}

#[derive(clap::Args)]
pub(crate) struct TokenRevokeArgs {
    /// The token's name.
    name: String,
    #[command(flatten)]
    store: StoreArgs,
}

#[derive(Clone, Copy, Debug, PartialEq, Eq, ValueEnum)]
pub(crate) enum ScopeArg {
    Read,
    Scan,
    Admin,
}

impl From<ScopeArg> for Scope {
    fn from(s: ScopeArg) -> Self {
        match s {
            ScopeArg::Read => Self::Read,
            ScopeArg::Scan => Self::Scan,
            ScopeArg::Admin => Self::Admin,
        }
    }
}

fn init_logs(format: LogFormat) {
    let filter = tracing_subscriber::EnvFilter::try_from_default_env()
        // The PostgreSQL client logs every server NOTICE at info.
        .unwrap_or_else(|_| {
            tracing_subscriber::EnvFilter::new("info,postgres=warn,tokio_postgres=warn")
        });
    let builder = tracing_subscriber::fmt()
        .with_env_filter(filter)
        .with_ansi(std::io::IsTerminal::is_terminal(&std::io::stderr()))
        .with_writer(std::io::stderr);
    // A second init (tests calling run twice in one process) keeps the first.
    let _ = match format {
        LogFormat::Json => builder.json().try_init(),
        LogFormat::Text => builder.try_init(),
    };
}

impl RunnerArgs {
    /// The workers' settings; made before any tokio runtime exists, because the registry
    /// client is blocking (see `customs_server::serve`).
    fn worker_options(&self, name: String) -> Result<WorkerOptions> {
        let store_url = self.store.url()?;
        let client = crate::progress::registry_client(&ImageArgs {
            quiet: crate::args::Quiet { quiet: true },
            ..self.image.clone()
        })?;
        Ok(WorkerOptions {
            store_url,
            name,
            lease: Duration::from_secs(self.lease.max(1)),
            idle: Duration::from_millis(250),
            backoff: Duration::from_secs(self.backoff),
            db: self.db.location(),
            image: ImageOptions {
                platform: self.image.platform.as_deref().map(str::parse).transpose()?,
                exclude_dev: self.image.exclude_dev,
                list_files: false,
                cache: self.image.cache.cache()?,
                use_layer_cache: !self.image.no_cache,
                registry: Some(client),
                shared_layers: None,
                inspect: customs_app::scan::Inspect::default(),
            },
            lifecycle: Some(customs_app::worker::Lifecycle {
                feeds: self.update.then(|| self.feeds.sources()).transpose()?,
                cache: self.image.cache.cache()?,
                http: self
                    .image
                    .http
                    .transport(&self.image.registry.insecure_registries, None)?,
                notifier: self.notify.notifier(&self.image.http)?,
            }),
            share_layers: self.share_layers,
        })
    }
}

fn host_name() -> String {
    std::fs::read_to_string("/proc/sys/kernel/hostname")
        .map(|h| h.trim().to_owned())
        .ok()
        .filter(|h| !h.is_empty())
        .unwrap_or_else(|| "customs".to_owned())
}

/// A flag set by SIGTERM or SIGINT.
fn stop_flag() -> Result<Arc<AtomicBool>> {
    let stop = Arc::new(AtomicBool::new(false));
    for sig in [signal_hook::consts::SIGTERM, signal_hook::consts::SIGINT] {
        signal_hook::flag::register(sig, Arc::clone(&stop))
            .context("installing signal handlers")?;
    }
    Ok(stop)
}

pub(crate) fn serve(args: &ServeArgs) -> Result<ExitCode> {
    init_logs(args.runner.log_format);
    let store_url = args.runner.store.url()?;
    let hook_token = match &args.hook_token_file {
        Some(f) => {
            let t = std::fs::read_to_string(f).with_context(|| f.display().to_string())?;
            let t = t.trim().to_owned();
            if t.len() < 16 {
                bail!(
                    "{}: the hook token must be at least 16 characters",
                    f.display()
                );
            }
            Some(t)
        }
        None => None,
    };
    let opts = args
        .runner
        .worker_options(format!("{}:{}", host_name(), std::process::id()))?;
    // The default database is built from the built-in snapshot on first use, as every
    // command does; a named one that is missing leaves the service not ready (/readyz) rather
    // than scanning against nothing.
    if args.runner.db.db.is_none() {
        customs_app::database::open(&args.runner.db.location())
            .context("building the default vulnerability database")?;
    }
    let metrics = customs_server::Metrics::new();
    let workers = customs_server::spawn_workers(&opts, args.workers, Some(metrics.clone()));
    let mut config = customs_server::Config::new(store_url, args.runner.db.location());
    config.hook_token = hook_token;
    config.rate_per_second = args.rate;
    config.rate_burst = args.burst;
    config.body_limit = args.body_limit;
    config.request_timeout = Duration::from_secs(args.request_timeout.max(1));
    config.max_attempts = args.runner.max_attempts.max(1);
    config.grace = Duration::from_secs(args.runner.grace);
    config.rematch_every = args.rematch_every;
    config.tls = args.tls_cert.clone().zip(args.tls_key.clone());
    let stop = stop_flag()?;
    let listen = args.listen;
    let runtime = tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()
        .context("starting the async runtime")?;
    let result = runtime.block_on(async move {
        let listener = tokio::net::TcpListener::bind(listen)
            .await
            .with_context(|| format!("listening on {listen}"))?;
        let shutdown = async move {
            while !stop.load(Ordering::SeqCst) {
                tokio::time::sleep(Duration::from_millis(50)).await;
            }
        };
        customs_server::serve(config, listener, metrics, workers, shutdown)
            .await
            .context("serving")
    });
    // The workers' blocking clients are dropped off the runtime.
    drop(opts);
    runtime.shutdown_timeout(Duration::from_secs(1));
    result.map(|()| ExitCode::SUCCESS)
}

pub(crate) fn worker(args: &WorkerArgs) -> Result<ExitCode> {
    init_logs(args.runner.log_format);
    if args.concurrency == 0 {
        bail!("--concurrency must be at least 1");
    }
    let name = args
        .name
        .clone()
        .unwrap_or_else(|| format!("{}:{}", host_name(), std::process::id()));
    let opts = args.runner.worker_options(name)?;
    // Open (and migrate) once, so the workers start on a ready store.
    customs_store::open(&opts.store_url).context("opening the store")?;
    let stop = stop_flag()?;
    let pool = customs_server::spawn_workers(&opts, args.concurrency, None);
    tracing::info!(workers = pool.len(), "customs worker: running jobs");
    while !stop.load(Ordering::SeqCst) {
        std::thread::sleep(Duration::from_millis(50));
    }
    let stopped = pool.shutdown(Duration::from_secs(args.runner.grace));
    tracing::info!(
        finished = stopped.finished,
        released = stopped.released,
        "stopped"
    );
    Ok(ExitCode::SUCCESS)
}

pub(crate) fn token(cmd: &TokenCmd, out: &mut impl Write) -> Result<ExitCode> {
    match cmd {
        TokenCmd::Create(a) => {
            let mut store = a.store.open()?;
            let made = tokens::create(store.as_mut(), &a.name, a.scope.into())?;
            writeln!(out, "{}", made.secret)?;
            let mut err = std::io::stderr().lock();
            let _ = writeln!(
                err,
                "token {:?} (scope {}) made; it is shown only this once",
                made.record.name, made.record.scope
            );
        }
        TokenCmd::List(a) => {
            let mut store = a.store.open()?;
            let list = store.tokens()?;
            match a.format {
                Format::Json => render::json(out, &list)?,
                Format::Table => {
                    for t in list {
                        writeln!(
                            out,
                            "{}\t{}\t{}\t{}",
                            t.name,
                            t.scope,
                            t.created_at,
                            t.revoked_at
                                .map_or_else(|| "live".to_owned(), |r| format!("revoked {r}"))
                        )?;
                    }
                }
            }
        }
        TokenCmd::Revoke(a) => {
            let mut store = a.store.open()?;
            if !tokens::revoke(store.as_mut(), &a.name)? {
                bail!("no live token named {:?}", a.name);
            }
            writeln!(out, "revoked {}", a.name)?;
        }
    }
    Ok(ExitCode::SUCCESS)
}
