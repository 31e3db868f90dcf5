//! The [`Transport`]: the reqwest clients, built once from [`HttpOptions`], and the one loop
//! that sends a request under the [`RetryPolicy`].

use std::path::PathBuf;
use std::sync::{Arc, OnceLock};
use std::time::{Duration, SystemTime};

use reqwest::blocking::{Client, Response};
use reqwest::{Certificate, Url};

use crate::dns::SystemResolver;
use crate::proxy::{Resolved, split_host};
use crate::retry::{Failure, retry_after};
use crate::{HttpError, ProxyConfig, RetryPolicy};

/// `customs/<version>`, sent with every request.
pub const USER_AGENT: &str = concat!("customs/", env!("CARGO_PKG_VERSION"));

/// How a [`Transport`] connects: trust, proxies, timeouts, retries, who hears of retries.
#[derive(Clone)]
pub struct HttpOptions {
    /// PEM files of CA certificates to trust besides the system's (`--ca-cert`).
    pub ca_certs: Vec<PathBuf>,
    /// Hosts (`host` or `host:port`) that may be reached over plain HTTP or TLS without
    /// verification (`--insecure-registry`). A bare `host` covers all its ports.
    pub insecure_hosts: Vec<String>,
    /// Which requests go through a proxy. The default reads the environment
    /// ([`ProxyConfig::from_env`]).
    pub proxy: ProxyConfig,
    /// The longest a connection may take to open (TCP and TLS).
    pub connect_timeout: Duration,
    /// The longest the server may stay silent: waiting for the answer's head, or for the next
    /// bytes of its body. Not a bound on a whole download.
    pub idle_timeout: Duration,
    /// Retries and waits.
    pub retry: RetryPolicy,
    /// The `User-Agent` header.
    pub user_agent: String,
    /// Told about each retry (the registry's `--verbose` prints them).
    pub observer: Option<Arc<dyn Observer>>,
}

impl Default for HttpOptions {
    fn default() -> Self {
        Self {
            ca_certs: Vec::new(),
            insecure_hosts: Vec::new(),
            proxy: ProxyConfig::from_env(),
            connect_timeout: Duration::from_secs(10),
            idle_timeout: Duration::from_secs(60),
            retry: RetryPolicy::default(),
            user_agent: USER_AGENT.to_owned(),
            observer: None,
        }
    }
}

impl std::fmt::Debug for HttpOptions {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("HttpOptions")
            .field("ca_certs", &self.ca_certs)
            .field("insecure_hosts", &self.insecure_hosts)
            .field("proxy", &self.proxy)
            .field("connect_timeout", &self.connect_timeout)
            .field("idle_timeout", &self.idle_timeout)
            .field("retry", &self.retry)
            .field("user_agent", &self.user_agent)
            .field("observer", &self.observer.is_some())
            .finish()
    }
}

/// Told about retries, for `--verbose` output now and metrics in the server later.
pub trait Observer: Send + Sync {
    /// An attempt at `target` failed in a way worth retrying (`why`); retry number `retry`
    /// (1 for the first) follows after `delay`.
    fn retrying(&self, _target: &str, _retry: u32, _delay: Duration, _why: &str) {}
}

/// The HTTP transport every part of customs uses. Cheap to clone: clones share the clients
/// and their connection pools.
#[derive(Clone)]
pub struct Transport {
    inner: Arc<Inner>,
}

struct Inner {
    opts: HttpOptions,
    ca: Vec<Certificate>,
    proxies: Resolved,
    verified: Client,
    unverified: OnceLock<Result<Client, String>>,
}

impl std::fmt::Debug for Transport {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Transport")
            .field("options", &self.inner.opts)
            .finish_non_exhaustive()
    }
}

/// A final answer from [`Transport::send`], and how many requests it took.
#[derive(Debug)]
pub struct Sent {
    /// The answer: a success, a status not worth retrying, or the last retryable one.
    pub response: Response,
    /// Requests made, the first included.
    pub attempts: u32,
}

/// What one attempt inside [`Transport::with_retries`] came to, when it did not succeed.
pub(crate) enum Miss {
    /// No answer; retried when its kind is.
    Failure(Failure),
    /// An answer other than success: retried when `retryable` and retries are left, else
    /// reported with `detail`.
    Status {
        status: u16,
        retryable: bool,
        retry_after: Option<Duration>,
        detail: String,
    },
    /// Not retried, reported as it is.
    Fatal(HttpError),
}

impl Transport {
    /// Read the CA files, check the proxy settings and build the verified client.
    ///
    /// # Errors
    /// A CA file that cannot be read or holds no PEM certificate, a proxy URL that is not
    /// `http://` or `https://`, or a client that reqwest cannot build.
    pub fn new(opts: HttpOptions) -> Result<Self, HttpError> {
        let mut ca = Vec::new();
        for path in &opts.ca_certs {
            let what = path.display().to_string();
            let pem = std::fs::read(path).map_err(|e| HttpError::Config {
                what: what.clone(),
                why: e.to_string(),
            })?;
            let certs = Certificate::from_pem_bundle(&pem).map_err(|e| HttpError::Config {
                what: what.clone(),
                why: format!("not a PEM certificate bundle: {e}"),
            })?;
            if certs.is_empty() {
                return Err(HttpError::Config {
                    what,
                    why: "holds no PEM certificate".to_owned(),
                });
            }
            ca.extend(certs);
        }
        let proxies = Resolved::new(&opts.proxy)?;
        let verified = build(&opts, &ca, &proxies, false).map_err(|why| HttpError::Config {
            what: "HTTP client".to_owned(),
            why,
        })?;
        Ok(Self {
            inner: Arc::new(Inner {
                opts,
                ca,
                proxies,
                verified,
                unverified: OnceLock::new(),
            }),
        })
    }

    /// The options this transport was built with.
    pub fn options(&self) -> &HttpOptions {
        &self.inner.opts
    }

    /// The retry policy every request goes through.
    pub fn policy(&self) -> &RetryPolicy {
        &self.inner.opts.retry
    }

    /// The client that verifies TLS against the system roots and the extra CAs.
    pub fn client(&self) -> &Client {
        &self.inner.verified
    }

    /// The client that accepts any certificate, built on first use. Only for hosts the
    /// options name as insecure ([`Transport::allows_insecure`]).
    ///
    /// # Errors
    /// reqwest could not build it.
    pub fn unverified_client(&self) -> Result<&Client, HttpError> {
        let i = &self.inner;
        i.unverified
            .get_or_init(|| build(&i.opts, &i.ca, &i.proxies, true))
            .as_ref()
            .map_err(|why| HttpError::Config {
                what: "HTTP client without TLS verification".to_owned(),
                why: why.clone(),
            })
    }

    /// The client for `url`: unverified for an `https://` URL whose host the options name as
    /// insecure, else verified.
    ///
    /// # Errors
    /// The unverified client could not be built.
    pub fn client_for(&self, url: &Url) -> Result<&Client, HttpError> {
        let authority = match (url.host_str(), url.port()) {
            (Some(h), Some(p)) => format!("{h}:{p}"),
            (Some(h), None) => h.to_owned(),
            (None, _) => return Ok(self.client()),
        };
        if url.scheme() == "https" && self.allows_insecure(&authority) {
            self.unverified_client()
        } else {
            Ok(self.client())
        }
    }

    /// Whether `host[:port]` is named in [`HttpOptions::insecure_hosts`], exactly or by its
    /// host alone.
    pub fn allows_insecure(&self, host_port: &str) -> bool {
        let host = split_host(host_port);
        self.inner.opts.insecure_hosts.iter().any(|i| {
            i.eq_ignore_ascii_case(host_port) || (!i.contains(':') && i.eq_ignore_ascii_case(host))
        })
    }

    /// Send a request made by `request` (called once per attempt) until it gets a final
    /// answer: retries connection failures, timeouts and broken connections, and answers
    /// [`RetryPolicy::retryable_response`] says are worth it, waiting
    /// [`RetryPolicy::delay`] between attempts (telling the observer). A retryable status on
    /// the last attempt is returned as the answer, so the caller can read its body.
    ///
    /// # Errors
    /// [`HttpError::Failed`] when no answer came: at once for DNS, TLS and other final
    /// failures, after the retries for the others.
    pub fn send(
        &self,
        target: &str,
        request: &dyn Fn() -> reqwest::Result<Response>,
    ) -> Result<Sent, HttpError> {
        let (response, attempts) = self.with_retries(target, |last| match request() {
            Err(e) => Err(Miss::Failure(Failure::of(&e))),
            Ok(r) if !last && RetryPolicy::retryable_response(r.status(), r.headers()) => {
                Err(Miss::Status {
                    status: r.status().as_u16(),
                    retryable: true,
                    retry_after: retry_after(r.headers(), SystemTime::now()),
                    detail: String::new(),
                })
            }
            Ok(r) => Ok(r),
        })?;
        Ok(Sent { response, attempts })
    }

    /// Tell the observer, then wait `delay` before retry number `retry` of `target`. For
    /// callers that retry something of their own (the registry resuming a broken download).
    pub fn pause(&self, target: &str, retry: u32, delay: Duration, why: &str) {
        if let Some(o) = &self.inner.opts.observer {
            o.retrying(target, retry, delay, why);
        }
        std::thread::sleep(delay);
    }

    /// The retry loop: `attempt(last)` is called until it succeeds, fails for good, or the
    /// retries run out; `last` tells it no retry will follow.
    pub(crate) fn with_retries<T>(
        &self,
        target: &str,
        mut attempt: impl FnMut(bool) -> Result<T, Miss>,
    ) -> Result<(T, u32), HttpError> {
        let policy = self.policy();
        let mut n = 1;
        loop {
            let last = n > policy.retries;
            let (why, after) = match attempt(last) {
                Ok(v) => return Ok((v, n)),
                Err(Miss::Fatal(e)) => return Err(e),
                Err(Miss::Failure(failure)) => {
                    if last || !failure.kind.is_retryable() {
                        return Err(HttpError::Failed {
                            target: target.to_owned(),
                            failure,
                            attempts: n,
                        });
                    }
                    (failure.reason, None)
                }
                Err(Miss::Status {
                    status,
                    retryable,
                    retry_after,
                    detail,
                }) => {
                    if last || !retryable {
                        return Err(HttpError::Status {
                            target: target.to_owned(),
                            status,
                            detail,
                            attempts: n,
                        });
                    }
                    let reason = reqwest::StatusCode::from_u16(status)
                        .map_or_else(|_| status.to_string(), |s| s.to_string());
                    (format!("HTTP {reason}"), retry_after)
                }
            };
            self.pause(target, n, policy.delay(n, after), &why);
            n += 1;
        }
    }
}

fn build(
    opts: &HttpOptions,
    ca: &[Certificate],
    proxies: &Resolved,
    unverified: bool,
) -> Result<Client, String> {
    let mut b = Client::builder()
        .user_agent(opts.user_agent.as_str())
        .connect_timeout(opts.connect_timeout)
        // reqwest's blocking client applies this to the wait for the answer and to each read
        // of the body: an idle timeout, not a deadline for the whole transfer.
        .timeout(opts.idle_timeout)
        // Bytes as the server sent them: registry blobs are hashed byte for byte and resumed
        // by offset. The download helpers negotiate gzip themselves.
        .no_gzip()
        .dns_resolver(Arc::new(SystemResolver))
        .tls_certs_merge(ca.iter().cloned());
    // reqwest would read the proxy variables itself, with its own rules (loopback proxied);
    // ours are in proxy.rs, so its own are turned off in every case.
    b = b.no_proxy();
    if !proxies.is_empty() {
        let p = proxies.clone();
        b = b.proxy(reqwest::Proxy::custom(move |url| p.pick(url)));
    }
    if unverified {
        b = b
            .tls_danger_accept_invalid_certs(true)
            .tls_danger_accept_invalid_hostnames(true);
    }
    b.build().map_err(|e| {
        let mut parts = vec![e.to_string()];
        let mut cur = std::error::Error::source(&e);
        while let Some(c) = cur {
            parts.push(c.to_string());
            cur = c.source();
        }
        parts.join(": ")
    })
}
