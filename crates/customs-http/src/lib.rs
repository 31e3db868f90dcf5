//! The one HTTP transport of customs: the registry client, the vulnerability-feed downloads
//! and the webhook notifications all connect, trust, proxy, time out and retry the same way.
//!
//! - [`HttpOptions`] → [`Transport`]: the reqwest blocking clients, built once (the verified
//!   one at once; the one that skips TLS verification only when a caller asks for it, for
//!   hosts named insecure). Clones share the clients and their connection pools.
//! - [`Transport::send`]: one request under the retry policy, for callers with a protocol of
//!   their own (the registry keeps its ping, auth, tokens, `Range` resumes and counters).
//! - [`Transport::get_with`], [`Transport::get_bytes`], [`Transport::get_to_file`],
//!   [`Transport::post_json`]: whole requests with retries, for the feeds and the webhooks.
//!
//! # Trust
//! rustls with the system's roots (through `rustls-platform-verifier`) plus the PEM files of
//! [`HttpOptions::ca_certs`] (`--ca-cert`). Hosts in [`HttpOptions::insecure_hosts`] may be
//! reached with TLS unverified ([`Transport::client_for`]) — and by the registry over plain
//! HTTP.
//!
//! # Retries ([`RetryPolicy`])
//! - Retried: connections refused or unreachable, timeouts (connecting, or the server idle
//!   past [`HttpOptions::idle_timeout`]), connections reset or closed before the answer or
//!   body was complete, and the statuses 408, 429, 502, 503 and 504.
//! - Not retried: a host name that does not resolve ([`FailureKind::Resolve`]: "could not
//!   resolve host nosuchhost.invalid: …", one attempt), TLS refused ([`FailureKind::Certificate`]
//!   for an unknown issuer and the like, [`FailureKind::Tls`] for a plain-HTTP server on
//!   `https://`), invalid requests, redirect loops, 500 (the server
//!   failed on this very request; proxies also answer 500 for hosts they cannot resolve) and
//!   every other 4xx and 5xx. Through a proxy, the proxy resolves names: tinyproxy's 500 is
//!   final as any 500, squid's 503 with `X-Squid-Error: ERR_DNS_FAIL` is a DNS failure, and a
//!   proxy that refuses a `CONNECT` tunnel (407, or any other refusal, which is how it reports
//!   a host it cannot resolve or reach) is [`FailureKind::Proxy`], final.
//! - The wait before retry *n* is the server's `Retry-After` (seconds or an HTTP date), at
//!   most [`RetryPolicy::retry_after_max`]; without one, `backoff_base·2^(n-1)` capped at
//!   `backoff_max`, times a random factor in [0.5, 1).
//! - The [`Observer`] hears of every retry before the wait: target, retry number, delay,
//!   reason.
//! - Errors ([`HttpError`]) name the target (URLs without user information or query), the
//!   attempts made, and the reason, by kind ([`FailureKind`]) and in words.
//! - Below this policy, reqwest itself only re-sends requests a server refused before
//!   reading them (HTTP/2 `REFUSED_STREAM` and the like), which is always safe.
//!
//! # Proxies ([`ProxyConfig`])
//! reqwest 0.13 would read the proxy variables by itself, and proxy loopback addresses too;
//! customs turns that off and decides per request with [`ProxyConfig::proxy_for`]:
//! - `https://` URLs go through `HTTPS_PROXY` (tunnelled with `CONNECT`), `http://` URLs
//!   through `HTTP_PROXY`, either falling back to `ALL_PROXY`; lower-case names are read when
//!   the upper-case ones are unset; `HTTP_PROXY` is ignored under CGI (`REQUEST_METHOD` set).
//!   Proxy URLs are `http://` or `https://` (a bare `host:port` is `http://`), optionally with
//!   `user:password@`; anything else is a configuration error, not silently a direct
//!   connection.
//! - `NO_PROXY` (comma-separated: `*`, domains with their subdomains, IP addresses, CIDR
//!   blocks) names hosts reached directly.
//! - Loopback (`localhost`, `127.0.0.0/8`, `::1`) is always reached directly, as Go and docker
//!   do: a proxy's loopback is not ours. [`ProxyConfig::proxy_loopback`] turns that off.
//! - [`HttpOptions::default`] reads the process environment; pass a [`ProxyConfig`] to decide
//!   otherwise (tests do, as the environment is shared by the whole process).
//!
//! # Timeouts and the rest
//! [`HttpOptions::connect_timeout`] bounds opening a connection;
//! [`HttpOptions::idle_timeout`] bounds each wait for the server, not a whole download. Every
//! request says `User-Agent: customs/<version>` ([`USER_AGENT`]). Bodies arrive as the server
//! sent them (the registry hashes blobs byte for byte); only the download helpers ask for
//! gzip and undo it.

#![forbid(unsafe_code)]
#![warn(missing_docs)]

mod dns;
mod error;
mod fetch;
mod proxy;
mod retry;
mod transport;

pub use error::{HttpError, redact_url};
pub use fetch::{Conditional, Posted, Validators};
pub use proxy::{ProxyConfig, is_loopback_host};
pub use retry::{Failure, FailureKind, RetryPolicy, parse_http_date, retry_after};
pub use transport::{HttpOptions, Observer, Sent, Transport, USER_AGENT};
