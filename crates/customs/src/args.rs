//! Option groups shared by several commands. Each command flattens only the groups it uses,
//! so its `--help` lists only its own options.

use std::io::Read;
use std::path::PathBuf;
use std::time::Duration;

use anyhow::{Context, Result, bail};
use clap::ValueEnum;
use customs_app::CacheDir;
use customs_app::database::DbLocation;

/// How a command prints its result.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, ValueEnum)]
pub(crate) enum Format {
    /// For people.
    #[default]
    Table,
    /// For programs.
    Json,
}

/// `-q`.
#[derive(clap::Args, Debug, Clone, Default)]
pub(crate) struct Quiet {
    /// Print nothing but the result: no warnings or progress on standard error.
    #[arg(long, short)]
    pub(crate) quiet: bool,
}

/// `--cache-dir`.
#[derive(clap::Args, Debug, Clone, Default)]
pub(crate) struct CacheArgs {
    /// customs' cache directory (default `$XDG_CACHE_HOME/customs`, else `~/.cache/customs`).
    #[arg(long, env = "CUSTOMS_CACHE_DIR", value_name = "DIR")]
    pub(crate) cache_dir: Option<PathBuf>,
}

impl CacheArgs {
    pub(crate) fn cache(&self) -> Result<CacheDir> {
        Ok(match &self.cache_dir {
            Some(d) => CacheDir::new(d),
            None => CacheDir::default_location()?,
        })
    }
}

/// `--db`.
#[derive(clap::Args, Debug, Clone, Default)]
pub(crate) struct DbArgs {
    /// The vulnerability database (default: `vuln.db` in customs' data directory, built from
    /// the snapshot compiled into customs on first use).
    #[arg(long, env = "CUSTOMS_DB", value_name = "FILE")]
    pub(crate) db: Option<PathBuf>,
}

impl DbArgs {
    pub(crate) fn location(&self) -> DbLocation {
        DbLocation(self.db.clone())
    }
}

/// `--store-url`.
#[derive(clap::Args, Debug, Clone, Default)]
pub(crate) struct StoreArgs {
    /// Where scans are kept: `sqlite:PATH` (default `store.db` in customs' data directory) or
    /// `postgres://USER@HOST/DB`.
    #[arg(long, env = "CUSTOMS_STORE_URL", value_name = "URL")]
    pub(crate) store_url: Option<String>,
    /// Also trust this CA (PEM) for a PostgreSQL store's TLS, besides the system's roots
    /// (the URL's `sslrootcert=`; `sslmode=verify-full` in the URL checks the host name too).
    #[arg(long, env = "CUSTOMS_STORE_CA_CERT", value_name = "FILE")]
    pub(crate) store_ca_cert: Option<PathBuf>,
}

impl StoreArgs {
    pub(crate) fn open(&self) -> Result<Box<dyn customs_store::Store>> {
        let url = self.url()?;
        customs_store::open(&url).with_context(|| format!("opening the store {}", redact(&url)))
    }

    /// The store's URL, the default made ready when none is given; `--store-ca-cert` becomes
    /// its `sslrootcert`, so every connection made from the URL (a worker's, the service's
    /// pool) trusts it.
    pub(crate) fn url(&self) -> Result<String> {
        let url = self.plain_url()?;
        let Some(ca) = &self.store_ca_cert else {
            return Ok(url);
        };
        if !(url.starts_with("postgres://") || url.starts_with("postgresql://")) {
            bail!(
                "--store-ca-cert is for a PostgreSQL store; the store is {}",
                redact(&url)
            );
        }
        if url.contains("sslrootcert=") {
            bail!("--store-ca-cert and sslrootcert= in the store URL: give one");
        }
        let path = ca
            .to_str()
            .context("--store-ca-cert: the path is not UTF-8")?;
        let encoded: String = path
            .bytes()
            .map(|b| {
                if b.is_ascii_alphanumeric() || b"/._-~".contains(&b) {
                    char::from(b).to_string()
                } else {
                    format!("%{b:02X}")
                }
            })
            .collect();
        let sep = if url.contains('?') { '&' } else { '?' };
        Ok(format!("{url}{sep}sslrootcert={encoded}"))
    }

    fn plain_url(&self) -> Result<String> {
        Ok(match &self.store_url {
            Some(u) => u.clone(),
            None => {
                let path = customs_app::paths::default_store()
                    .context("no home directory: pass --store-url")?;
                if let Some(dir) = path.parent() {
                    std::fs::create_dir_all(dir).with_context(|| dir.display().to_string())?;
                }
                format!("sqlite:{}", path.display())
            }
        })
    }
}

/// A URL fit for a message: any password in it replaced.
fn redact(url: &str) -> String {
    match (url.find("://"), url.rfind('@')) {
        (Some(s), Some(at)) if at > s => {
            let userinfo = &url[s + 3..at];
            match userinfo.split_once(':') {
                Some((user, _)) => format!("{}{user}:***{}", &url[..s + 3], &url[at..]),
                None => url.to_owned(),
            }
        }
        _ => url.to_owned(),
    }
}

/// How every network request is made: the registry's, the feeds', the webhooks'. Proxies come
/// from `HTTPS_PROXY`, `HTTP_PROXY`, `ALL_PROXY` and `NO_PROXY` (loopback is always direct).
#[derive(clap::Args, Debug, Clone, Default)]
pub(crate) struct HttpArgs {
    /// Also trust the CA certificates in this PEM file for TLS (repeatable).
    #[arg(long = "ca-cert", value_name = "FILE")]
    pub(crate) ca_certs: Vec<PathBuf>,
    /// Retries per request on resets, timeouts, 408, 429, 502, 503 and 504 (and resumes per
    /// layer download). A name that does not resolve and a refused certificate are not retried.
    #[arg(long, default_value_t = 5, value_name = "N")]
    pub(crate) retries: u32,
    /// Seconds a server may stay silent (connecting, answering, or mid-download) before the
    /// request is retried.
    #[arg(
        long = "timeout",
        alias = "registry-timeout",
        default_value_t = 60,
        value_name = "SECS"
    )]
    pub(crate) timeout: u64,
}

impl HttpArgs {
    /// The transport these options describe, with hosts allowed plain HTTP or unverified TLS
    /// and who hears of retries.
    pub(crate) fn transport(
        &self,
        insecure_hosts: &[String],
        observer: Option<std::sync::Arc<dyn customs_http::Observer>>,
    ) -> Result<customs_http::Transport> {
        Ok(customs_http::Transport::new(customs_http::HttpOptions {
            ca_certs: self.ca_certs.clone(),
            insecure_hosts: insecure_hosts.to_vec(),
            retry: customs_http::RetryPolicy {
                retries: self.retries,
                ..customs_http::RetryPolicy::default()
            },
            idle_timeout: Duration::from_secs(self.timeout.max(1)),
            connect_timeout: Duration::from_secs(self.timeout.clamp(1, 10)),
            observer,
            ..customs_http::HttpOptions::default()
        })?)
    }
}

/// What reading an image needs besides the source.
#[derive(clap::Args, Debug, Clone, Default)]
pub(crate) struct ImageArgs {
    /// Platform to pick from a multi-platform index, as OS/ARCH[/VARIANT]. Default: this
    /// machine's.
    #[arg(long, value_name = "OS/ARCH")]
    pub(crate) platform: Option<String>,
    /// Leave out language packages only needed for development (npm devDependencies,
    /// Pipfile `develop`, ...); by default they are reported, marked `dev`.
    #[arg(long)]
    pub(crate) exclude_dev: bool,
    /// Neither read nor write the layer cache.
    #[arg(long)]
    pub(crate) no_cache: bool,
    /// Say more on standard error: registry retries, and what a pull cost.
    #[arg(long, short)]
    pub(crate) verbose: bool,
    #[command(flatten)]
    pub(crate) quiet: Quiet,
    #[command(flatten)]
    pub(crate) cache: CacheArgs,
    #[command(flatten)]
    pub(crate) registry: RegistryArgs,
    #[command(flatten)]
    pub(crate) http: HttpArgs,
}

/// Registry credentials and transport.
#[derive(clap::Args, Debug, Clone, Default)]
pub(crate) struct RegistryArgs {
    /// A registry (HOST[:PORT]) that may be reached over plain HTTP or TLS without
    /// verification. Loopback registries may use plain HTTP without it, as with docker.
    #[arg(long = "insecure-registry", value_name = "HOST[:PORT]")]
    pub(crate) insecure_registries: Vec<String>,
    /// Registry user name; the password is read from standard input (--password-stdin).
    /// Without it, docker's config.json and credential helpers are used.
    #[arg(long, env = "CUSTOMS_REGISTRY_USERNAME", value_name = "USER")]
    pub(crate) username: Option<String>,
    /// Read the registry password (or token) from standard input.
    #[arg(long)]
    pub(crate) password_stdin: bool,
}

impl RegistryArgs {
    /// The credential given on the command line, if any.
    pub(crate) fn credential(&self) -> Result<Option<customs_registry::Credential>> {
        match (&self.username, self.password_stdin) {
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
                Ok(Some(customs_registry::Credential::Basic {
                    username: user.clone(),
                    password: customs_registry::Secret::new(pw),
                }))
            }
            (Some(_), false) => bail!("--username needs --password-stdin"),
            (None, true) => bail!("--password-stdin needs --username"),
            (None, false) => Ok(None),
        }
    }
}

/// Where a rematch's delta goes.
#[derive(clap::Args, Debug, Clone, Default)]
pub(crate) struct NotifyArgs {
    /// Where to send what changed: `webhook=URL` (POST, JSON, HMAC-signed) or `exec=CMD`
    /// (the JSON on its standard input). Repeatable.
    #[arg(long = "notify", value_name = "TARGET")]
    pub(crate) targets: Vec<String>,
    /// File holding the webhook's HMAC secret (else `CUSTOMS_WEBHOOK_SECRET`).
    #[arg(long, value_name = "FILE")]
    pub(crate) webhook_secret_file: Option<PathBuf>,
}

impl NotifyArgs {
    /// The targets checked and the secret read, before any work is done.
    pub(crate) fn notifier(&self, http: &HttpArgs) -> Result<customs_app::notify::Notifier> {
        let targets = self
            .targets
            .iter()
            .map(|t| t.parse())
            .collect::<Result<Vec<_>, _>>()?;
        let secret = match &self.webhook_secret_file {
            Some(f) => {
                let s = std::fs::read(f).with_context(|| f.display().to_string())?;
                let s = s.trim_ascii().to_vec();
                if s.is_empty() {
                    bail!("{}: the webhook secret is empty", f.display());
                }
                Some(s)
            }
            None => std::env::var("CUSTOMS_WEBHOOK_SECRET")
                .ok()
                .filter(|s| !s.is_empty())
                .map(String::into_bytes),
        };
        Ok(customs_app::notify::Notifier {
            targets,
            secret,
            http: http.transport(&[], None)?,
        })
    }
}

/// `30d`, `12h`, `90m`, `45s`, `2w`: a whole number and one unit.
pub(crate) fn parse_duration(s: &str) -> Result<Duration, String> {
    let split = s.find(|c: char| !c.is_ascii_digit()).unwrap_or(s.len());
    let (num, unit) = s.split_at(split);
    let per = match unit {
        _ if num.is_empty() => {
            return Err("expected a whole number and a unit (s, m, h, d or w), e.g. 30d".into());
        }
        "s" => 1,
        "m" => 60,
        "h" => 3600,
        "d" => 86_400,
        "w" => 7 * 86_400,
        "" => {
            return Err(format!(
                "missing unit: {num}s, {num}m, {num}h, {num}d or {num}w"
            ));
        }
        _ => {
            return Err(format!(
                "unknown unit {unit:?}: use s, m, h, d or w, e.g. 30d"
            ));
        }
    };
    num.parse::<u64>()
        .ok()
        .and_then(|n| n.checked_mul(per))
        .map(Duration::from_secs)
        .ok_or_else(|| "too long".into())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn passwords_are_redacted() {
        assert_eq!(redact("postgres://u:secret@h/db"), "postgres://u:***@h/db");
        assert_eq!(redact("postgres://u@h/db"), "postgres://u@h/db");
        assert_eq!(redact("sqlite:/x/y.db"), "sqlite:/x/y.db");
    }

    #[test]
    fn durations() {
        assert_eq!(parse_duration("45s"), Ok(Duration::from_secs(45)));
        assert_eq!(parse_duration("90m"), Ok(Duration::from_secs(90 * 60)));
        assert_eq!(parse_duration("12h"), Ok(Duration::from_secs(12 * 3600)));
        assert_eq!(parse_duration("30d"), Ok(Duration::from_secs(30 * 86_400)));
        assert_eq!(parse_duration("2w"), Ok(Duration::from_secs(14 * 86_400)));
        assert_eq!(parse_duration("0d"), Ok(Duration::ZERO));
    }

    #[test]
    fn junk_durations_are_refused_with_a_reason() {
        for (junk, why) in [
            ("", "expected a whole number"),
            ("d", "expected a whole number"),
            ("-5d", "expected a whole number"),
            ("1.5d", "unknown unit \".5d\""),
            ("30", "missing unit: 30s"),
            ("30D", "unknown unit \"D\""),
            ("30 d", "unknown unit \" d\""),
            ("1d12h", "unknown unit \"d12h\""),
            ("30days", "unknown unit \"days\""),
            ("99999999999999999999d", "too long"),
            ("999999999999999w", "too long"),
        ] {
            let e = parse_duration(junk).expect_err(junk);
            assert!(e.contains(why), "{junk:?}: {e}");
        }
    }
}

/// Which scanners run, and what they leave out (docs/checks.md).
#[derive(clap::Args, Debug, Clone, Default)]
pub(crate) struct InspectArgs {
    /// The scanners to run, comma-separated: vuln (known vulnerabilities), secret (secrets in
    /// every layer, the config's Env and the history), config (the image config and history),
    /// file (file modes and owners).
    #[arg(long, value_name = "LIST", default_value = "vuln,secret,config,file")]
    pub(crate) scanners: String,
    /// A secret rule file (TOML, docs/secrets.md) that adds rules, overrides built-in ones by
    /// id, disables them, and allow-lists paths and values (each with a reason).
    #[arg(long, value_name = "FILE")]
    pub(crate) secret_config: Option<PathBuf>,
    /// Leave out the detections of this check (a code or a glob: config-no-healthcheck,
    /// file-*); repeat for several. The report counts what was left out.
    #[arg(long = "skip-check", value_name = "CODE")]
    pub(crate) skip_checks: Vec<String>,
    /// Leave out the detections at paths matching this glob (/app/testdata/**); repeat for
    /// several.
    #[arg(long = "skip-path", value_name = "GLOB")]
    pub(crate) skip_paths: Vec<String>,
}

impl InspectArgs {
    /// The library's options; a bad scanner name, rule file or glob is an error naming it.
    pub(crate) fn inspect(&self) -> Result<customs_app::scan::Inspect> {
        use customs_catalog::customs_detect::{RuleSet, Scanners};
        let scanners =
            Scanners::parse(&self.scanners).map_err(|e| anyhow::anyhow!("--scanners: {e}"))?;
        let rules = self
            .secret_config
            .as_deref()
            .map(RuleSet::with_file)
            .transpose()?
            .map(std::sync::Arc::new);
        let inspect = customs_app::scan::Inspect {
            scanners,
            rules,
            skip_checks: self.skip_checks.clone(),
            skip_paths: self.skip_paths.clone(),
        };
        inspect.validate()?;
        Ok(inspect)
    }
}
