//! The one retry policy: which failures and statuses are worth another request, and how long
//! to wait before it.

use std::error::Error as StdError;
use std::io;
use std::time::{Duration, SystemTime};

use customs_types::Timestamp;
use reqwest::StatusCode;
use reqwest::header::HeaderMap;

use crate::dns::ResolveError;

/// How many times to retry and how long to wait between tries. The rules of what is retried
/// are fixed (see the crate documentation); only the budget and the waits are options.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct RetryPolicy {
    /// Retries after the first request (so at most `retries + 1` requests).
    pub retries: u32,
    /// The first backoff; each retry doubles it.
    pub backoff_base: Duration,
    /// No backoff is longer than this.
    pub backoff_max: Duration,
    /// A server's `Retry-After` is honoured up to this long, so a hostile or confused server
    /// cannot park customs for hours.
    pub retry_after_max: Duration,
}

impl Default for RetryPolicy {
    fn default() -> Self {
        Self {
            retries: 5,
            backoff_base: Duration::from_millis(200),
            backoff_max: Duration::from_secs(10),
            retry_after_max: Duration::from_secs(60),
        }
    }
}

impl RetryPolicy {
    /// Whether an answer with `status` is worth another request: 408, 429, 502, 503 and 504.
    ///
    /// 500 is not: it says the server failed on this very request, which usually fails the
    /// same way again, and proxies answer 500 when they cannot resolve or reach the host
    /// (tinyproxy does), which would turn a DNS failure behind a proxy into retries. Overload
    /// and restarts show as 429, 502, 503 and 504.
    pub fn retryable_status(status: StatusCode) -> bool {
        matches!(status.as_u16(), 408 | 429 | 502 | 503 | 504)
    }

    /// Whether this answer is worth another request: [`RetryPolicy::retryable_status`], except
    /// a proxy's own report that it could not resolve the host (squid's 503 with
    /// `X-Squid-Error: ERR_DNS_FAIL`), which is a DNS failure and final.
    pub fn retryable_response(status: StatusCode, headers: &HeaderMap) -> bool {
        let proxy_dns_failure = headers
            .get("x-squid-error")
            .and_then(|v| v.to_str().ok())
            .is_some_and(|v| v.starts_with("ERR_DNS_FAIL"));
        Self::retryable_status(status) && !proxy_dns_failure
    }

    /// The wait before retry number `retry` (1 for the first): `backoff_base·2^(retry-1)`,
    /// capped at `backoff_max`, scaled by a random factor in [0.5, 1) so that clients that
    /// failed together do not come back together.
    pub fn backoff(&self, retry: u32) -> Duration {
        let exp = self
            .backoff_base
            .saturating_mul(1u32 << retry.saturating_sub(1).min(16));
        exp.min(self.backoff_max)
            .mul_f64(0.5 + fastrand::f64() * 0.5)
    }

    /// The wait before retry number `retry`: what the server asked for with `Retry-After`
    /// (capped at `retry_after_max`), else [`RetryPolicy::backoff`].
    pub fn delay(&self, retry: u32, retry_after: Option<Duration>) -> Duration {
        match retry_after {
            Some(d) => d.min(self.retry_after_max),
            None => self.backoff(retry),
        }
    }
}

/// What kind of failure an attempt met; [`FailureKind::is_retryable`] is the policy.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[non_exhaustive]
pub enum FailureKind {
    /// The host name did not resolve. Final: the resolver has already retried, and a name
    /// that does not exist will not exist in a second.
    Resolve,
    /// The server's certificate was refused (an unknown issuer, a wrong name, expired). Final:
    /// it fails the same way again; trusting its CA (`--ca-cert`) is the cure.
    Certificate,
    /// Any other TLS failure: a handshake that cannot succeed (a plain-HTTP server on an
    /// `https://` URL, no common protocol version). Final.
    Tls,
    /// The proxy would not open a tunnel for an `https://` URL: it wants credentials (407), or
    /// answered `CONNECT` with another refusal, which is how a proxy says it cannot resolve or
    /// reach the host or may not go there. Final, like a refused request: its status is not
    /// passed on by hyper, so a proxy's passing 503 cannot be told from a DNS failure.
    Proxy,
    /// The connection could not be made (refused, unreachable). Retried: servers restart.
    Connect,
    /// No answer in time (connecting, or waiting for the answer or the next bytes). Retried.
    Timeout,
    /// The connection broke: reset, closed before the answer was complete, a body cut short.
    /// Retried.
    Interrupted,
    /// Anything else: an invalid request, a redirect loop, an undecodable answer. Final.
    Other,
}

impl FailureKind {
    /// Whether the failure is worth another request.
    pub fn is_retryable(self) -> bool {
        matches!(self, Self::Connect | Self::Timeout | Self::Interrupted)
    }
}

/// One attempt's failure: its kind, and a reason a person can read (without the URL: the
/// caller names the target).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Failure {
    /// What went wrong, as the retry policy sees it.
    pub kind: FailureKind,
    /// Why, on one line (`could not resolve host nosuchhost.invalid: …`).
    pub reason: String,
}

impl Failure {
    /// Sort a reqwest error into a [`FailureKind`] by the types in its source chain: the
    /// resolver's own error, rustls' errors, I/O error kinds; then reqwest's flags.
    pub fn of(e: &reqwest::Error) -> Self {
        let causes = causes(e);
        let reason = || reason(&causes, e);
        if let Some(r) = causes.iter().find_map(|c| c.downcast_ref::<ResolveError>()) {
            return Self {
                kind: FailureKind::Resolve,
                reason: r.to_string(),
            };
        }
        if let Some(t) = causes
            .iter()
            .find_map(|c| c.downcast_ref::<rustls::Error>())
        {
            let (kind, lead) = match t {
                rustls::Error::InvalidCertificate(_) | rustls::Error::NoCertificatesPresented => {
                    (FailureKind::Certificate, "TLS certificate refused")
                }
                _ => (FailureKind::Tls, "TLS handshake failed"),
            };
            return Self {
                kind,
                reason: format!("{lead}: {t}"),
            };
        }
        if let Some(refusal) = causes.iter().find_map(|c| tunnel_refusal(&c.to_string())) {
            return Self {
                kind: FailureKind::Proxy,
                reason: format!("the proxy refused the tunnel: {refusal}"),
            };
        }
        if e.is_timeout() {
            return Self {
                kind: FailureKind::Timeout,
                reason: "timed out".to_owned(),
            };
        }
        if e.is_builder() || e.is_redirect() || e.is_decode() {
            return Self {
                kind: FailureKind::Other,
                reason: reason(),
            };
        }
        let io_kind = causes
            .iter()
            .find_map(|c| c.downcast_ref::<io::Error>())
            .map(io::Error::kind);
        let kind = match io_kind {
            Some(io::ErrorKind::TimedOut) => FailureKind::Timeout,
            Some(
                io::ErrorKind::ConnectionReset
                | io::ErrorKind::ConnectionAborted
                | io::ErrorKind::BrokenPipe
                | io::ErrorKind::UnexpectedEof,
            ) => FailureKind::Interrupted,
            _ if e.is_connect() => FailureKind::Connect,
            _ if e.is_request() || e.is_body() => FailureKind::Interrupted,
            _ => FailureKind::Other,
        };
        Self {
            kind,
            reason: reason(),
        }
    }

    /// Sort an error met while reading a body: reqwest's own (through the `io::Error` it is
    /// wrapped in), else by its I/O kind (a timeout, else the connection broke).
    pub fn of_read(e: &io::Error) -> Self {
        if let Some(r) = e.get_ref().and_then(|i| i.downcast_ref::<reqwest::Error>()) {
            let mut f = Self::of(r);
            // Mid-body, reqwest reports many breaks as "decode" or "request" errors; the
            // connection is what failed, so it is worth resuming.
            if f.kind == FailureKind::Other {
                f.kind = FailureKind::Interrupted;
            }
            return f;
        }
        let kind = if e.kind() == io::ErrorKind::TimedOut {
            FailureKind::Timeout
        } else {
            FailureKind::Interrupted
        };
        Self {
            kind,
            reason: if kind == FailureKind::Timeout {
                "timed out".to_owned()
            } else {
                e.to_string()
            },
        }
    }
}

/// The source chain below reqwest's own message (which repeats the URL), looking inside
/// `io::Error`s too: their `source()` skips the error they wrap.
fn causes<'a>(e: &'a reqwest::Error) -> Vec<&'a (dyn StdError + 'static)> {
    let mut out: Vec<&'a (dyn StdError + 'static)> = Vec::new();
    let mut next = e.source();
    // Bounded: a cycle in a source chain would be a bug elsewhere, not a reason to hang.
    while let Some(c) = next.take()
        && out.len() < 32
    {
        out.push(c);
        next = match c.downcast_ref::<io::Error>().and_then(io::Error::get_ref) {
            Some(inner) => Some(inner as &(dyn StdError + 'static)),
            None => c.source(),
        };
    }
    out
}

/// A proxy's refusal to open a tunnel, from hyper-util's message: its `TunnelError` is not
/// exported, so its text is all there is. Broken connections to the proxy (`unexpected end of
/// file`, I/O errors) are not refusals and stay retryable.
fn tunnel_refusal(message: &str) -> Option<String> {
    let what = message.strip_prefix("tunnel error: ")?;
    matches!(
        what,
        "proxy authorization required"
            | "unsuccessful"
            | "missing destination host"
            | "proxy response headers too long"
    )
    .then(|| what.to_owned())
}

/// The causes on one line, without the wrappers' repetitions.
fn reason(causes: &[&(dyn StdError + 'static)], e: &reqwest::Error) -> String {
    let mut parts: Vec<String> = Vec::new();
    for c in causes {
        let m = c.to_string();
        // hyper's "client error (Connect)" and the like say nothing the next cause doesn't.
        if m.starts_with("client error (") || m.is_empty() {
            continue;
        }
        if !parts.iter().any(|p| p.contains(&m)) {
            parts.push(m);
        }
    }
    if parts.is_empty() {
        let kind = if e.is_connect() {
            "could not connect"
        } else if e.is_body() {
            "the body could not be read"
        } else if e.is_redirect() {
            "too many redirects"
        } else {
            "request failed"
        };
        return kind.to_owned();
    }
    parts.join(": ")
}

/// The wait a `Retry-After` header asks for, in seconds or as an HTTP date (compared with
/// `now`; a date in the past means no wait). `None` when absent or unreadable.
pub fn retry_after(headers: &HeaderMap, now: SystemTime) -> Option<Duration> {
    let v = headers
        .get(reqwest::header::RETRY_AFTER)?
        .to_str()
        .ok()?
        .trim();
    if !v.is_empty() && v.bytes().all(|b| b.is_ascii_digit()) {
        return Some(Duration::from_secs(v.parse().unwrap_or(u64::MAX)));
    }
    let at = SystemTime::from(parse_http_date(v)?);
    Some(at.duration_since(now).unwrap_or(Duration::ZERO))
}

/// An HTTP date (RFC 9110 §5.6.7) in any of its three forms: IMF-fixdate
/// (`Sun, 06 Nov 1994 08:49:37 GMT`), the obsolete RFC 850 form
/// (`Sunday, 06-Nov-94 08:49:37 GMT`) and asctime (`Sun Nov  6 08:49:37 1994`).
pub fn parse_http_date(s: &str) -> Option<Timestamp> {
    let parts: Vec<&str> = s.split_whitespace().collect();
    let (day, month, year, time) = match parts.as_slice() {
        [_, d, m, y, t, "GMT"] => (*d, *m, (*y).to_owned(), *t),
        [_, dmy, t, "GMT"] => {
            let mut it = dmy.split('-');
            let (d, m, yy) = (it.next()?, it.next()?, it.next()?);
            if it.next().is_some() || yy.len() != 2 {
                return None;
            }
            (d, m, rfc850_year(yy.parse().ok()?), *t)
        }
        [_, m, d, t, y] => (*d, *m, (*y).to_owned(), *t),
        _ => return None,
    };
    const MONTHS: [&str; 12] = [
        "Jan", "Feb", "Mar", "Apr", "May", "Jun", "Jul", "Aug", "Sep", "Oct", "Nov", "Dec",
    ];
    let m = MONTHS.iter().position(|n| *n == month)? + 1;
    let d: u32 = day.parse().ok()?;
    if year.len() != 4 || time.len() != 8 {
        return None;
    }
    Timestamp::parse_lenient(&format!("{year}-{m:02}-{d:02}T{time}Z")).ok()
}

/// RFC 9110: a two-digit year more than 50 years in the future is in the past century.
fn rfc850_year(yy: u32) -> String {
    let this_year: u32 = Timestamp::now()
        .date()
        .get(..4)
        .and_then(|y| y.parse().ok())
        .unwrap_or(2000);
    let mut y = this_year - this_year % 100 + yy;
    if y > this_year + 50 {
        y -= 100;
    }
    y.to_string()
}

#[cfg(test)]
mod tests {
    use super::*;
    use reqwest::header::HeaderValue;

    fn headers(v: &str) -> HeaderMap {
        let mut h = HeaderMap::new();
        h.insert("retry-after", HeaderValue::from_str(v).unwrap());
        h
    }

    #[test]
    fn http_dates_in_all_three_forms() {
        let want = Timestamp::parse_lenient("1994-11-06T08:49:37Z").unwrap();
        for s in [
            "Sun, 06 Nov 1994 08:49:37 GMT",
            "Sunday, 06-Nov-94 08:49:37 GMT",
            "Sun Nov  6 08:49:37 1994",
        ] {
            assert_eq!(parse_http_date(s), Some(want), "{s}");
        }
        for bad in [
            "",
            "yesterday",
            "Sun, 06 Nov 1994 08:49:37 CET",
            "Sun, 31 Feb 1994 08:49:37 GMT",
            "Sun, 06 Nov 1994 8:49:37 GMT",
        ] {
            assert_eq!(parse_http_date(bad), None, "{bad}");
        }
    }

    #[test]
    fn retry_after_seconds_and_dates() {
        let now = SystemTime::from(Timestamp::parse_lenient("2026-12-02T10:00:00Z").unwrap());
        assert_eq!(
            retry_after(&headers("7"), now),
            Some(Duration::from_secs(7))
        );
        assert_eq!(
            retry_after(&headers("Wed, 02 Dec 2026 10:00:30 GMT"), now),
            Some(Duration::from_secs(30))
        );
        assert_eq!(
            retry_after(&headers("Wed, 02 Dec 2026 09:00:00 GMT"), now),
            Some(Duration::ZERO)
        );
        assert_eq!(retry_after(&headers("soon"), now), None);
        assert_eq!(retry_after(&HeaderMap::new(), now), None);
        assert_eq!(
            retry_after(&headers("99999999999999999999999"), now),
            Some(Duration::from_secs(u64::MAX))
        );
    }

    #[test]
    fn delays() {
        let p = RetryPolicy {
            retries: 5,
            backoff_base: Duration::from_millis(100),
            backoff_max: Duration::from_millis(350),
            retry_after_max: Duration::from_secs(2),
        };
        for (retry, full) in [(1, 100), (2, 200), (3, 350), (30, 350)] {
            let d = p.backoff(retry);
            let full = Duration::from_millis(full);
            assert!(d >= full / 2 && d < full, "retry {retry}: {d:?}");
        }
        assert_eq!(
            p.delay(1, Some(Duration::from_secs(1))),
            Duration::from_secs(1)
        );
        assert_eq!(
            p.delay(1, Some(Duration::from_secs(3600))),
            Duration::from_secs(2)
        );
    }

    #[test]
    fn statuses() {
        for s in [408, 429, 502, 503, 504] {
            assert!(
                RetryPolicy::retryable_status(StatusCode::from_u16(s).unwrap()),
                "{s}"
            );
        }
        for s in [200, 301, 400, 401, 403, 404, 500, 501, 505] {
            assert!(
                !RetryPolicy::retryable_status(StatusCode::from_u16(s).unwrap()),
                "{s}"
            );
        }
        let mut h = HeaderMap::new();
        h.insert("x-squid-error", HeaderValue::from_static("ERR_DNS_FAIL 0"));
        assert!(!RetryPolicy::retryable_response(
            StatusCode::SERVICE_UNAVAILABLE,
            &h
        ));
        assert!(RetryPolicy::retryable_response(
            StatusCode::SERVICE_UNAVAILABLE,
            &HeaderMap::new()
        ));
    }
}
