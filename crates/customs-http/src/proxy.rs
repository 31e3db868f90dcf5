//! Which requests go through a proxy, decided here rather than left to reqwest's defaults so
//! that the rules are written down and tested in one place.
//!
//! reqwest 0.13 reads `HTTP_PROXY`/`HTTPS_PROXY`/`ALL_PROXY`/`NO_PROXY` by itself unless told
//! otherwise, and proxies loopback addresses too. customs turns that off (`no_proxy()` on the
//! builder) and installs one custom proxy that asks [`ProxyConfig::proxy_for`].

use std::fmt;
use std::net::IpAddr;

use reqwest::Url;
use url::Host;

use crate::HttpError;
use crate::error::redact;

/// Proxy settings: one proxy for `http://` URLs, one for `https://` URLs (tunnelled with
/// `CONNECT`), hosts reached directly, and whether loopback is ever proxied.
///
/// [`ProxyConfig::default`] uses no proxy; [`ProxyConfig::from_env`] reads the environment as
/// curl and Go do. Proxy URLs may carry `user:password@` (sent as `Proxy-Authorization:
/// Basic`); they are never shown with it.
#[derive(Clone, Default, PartialEq, Eq)]
pub struct ProxyConfig {
    /// Proxy for `http://` URLs (`http://` or `https://` proxy URL; a bare `host:port` means
    /// `http://host:port`).
    pub http: Option<String>,
    /// Proxy for `https://` URLs.
    pub https: Option<String>,
    /// Hosts reached directly, in `NO_PROXY` syntax: `*`, a domain (matching itself and its
    /// subdomains; a leading dot is optional), an IP address or a CIDR block. Ports are not
    /// part of the match.
    pub no_proxy: Vec<String>,
    /// Send loopback requests (`localhost`, `127.0.0.0/8`, `::1`) through the proxy too. Off by
    /// default: a proxy's loopback is not ours, so a local registry would be unreachable
    /// through it (Go and docker never proxy loopback either).
    pub proxy_loopback: bool,
}

impl fmt::Debug for ProxyConfig {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let shown = |p: &Option<String>| p.as_deref().map(redact_proxy);
        f.debug_struct("ProxyConfig")
            .field("http", &shown(&self.http))
            .field("https", &shown(&self.https))
            .field("no_proxy", &self.no_proxy)
            .field("proxy_loopback", &self.proxy_loopback)
            .finish()
    }
}

impl ProxyConfig {
    /// No proxy at all.
    pub fn none() -> Self {
        Self::default()
    }

    /// The process environment, read with [`ProxyConfig::from_vars`].
    pub fn from_env() -> Self {
        Self::from_vars(|name| std::env::var(name).ok())
    }

    /// Proxy settings from environment variables looked up with `var`:
    ///
    /// - `https://` URLs: `HTTPS_PROXY`, else `https_proxy`, else `ALL_PROXY`/`all_proxy`;
    /// - `http://` URLs: `HTTP_PROXY`, else `http_proxy`, else `ALL_PROXY`/`all_proxy` — except
    ///   that `HTTP_PROXY` in upper case is ignored when `REQUEST_METHOD` is set, as under CGI
    ///   a client's `Proxy:` header arrives as `HTTP_PROXY` ("httpoxy");
    /// - direct: `NO_PROXY`, else `no_proxy`, comma-separated.
    ///
    /// Upper case wins over lower case; an empty value counts as unset.
    pub fn from_vars(var: impl Fn(&str) -> Option<String>) -> Self {
        let get = |names: &[&str]| {
            names
                .iter()
                .find_map(|n| var(n).filter(|v| !v.trim().is_empty()))
                .map(|v| v.trim().to_owned())
        };
        let all = get(&["ALL_PROXY", "all_proxy"]);
        let cgi = var("REQUEST_METHOD").is_some_and(|v| !v.is_empty());
        let http = if cgi {
            get(&["http_proxy"])
        } else {
            get(&["HTTP_PROXY", "http_proxy"])
        };
        let no_proxy = get(&["NO_PROXY", "no_proxy"])
            .map(|v| {
                v.split(',')
                    .map(str::trim)
                    .filter(|e| !e.is_empty())
                    .map(str::to_owned)
                    .collect()
            })
            .unwrap_or_default();
        Self {
            http: http.or_else(|| all.clone()),
            https: get(&["HTTPS_PROXY", "https_proxy"]).or(all),
            no_proxy,
            proxy_loopback: false,
        }
    }

    /// Whether no request is ever proxied.
    pub fn is_empty(&self) -> bool {
        self.http.is_none() && self.https.is_none()
    }

    /// The proxy a request to `url` goes through, or `None` for a direct connection: none for
    /// loopback hosts (unless [`ProxyConfig::proxy_loopback`]), none for hosts matching
    /// [`ProxyConfig::no_proxy`], else the proxy for the URL's scheme.
    ///
    /// # Errors
    /// A proxy URL that is not an `http://` or `https://` URL with a host.
    pub fn proxy_for(&self, url: &Url) -> Result<Option<Url>, HttpError> {
        Ok(Resolved::new(self)?.pick(url))
    }
}

/// A [`ProxyConfig`] with its URLs parsed and its `NO_PROXY` list compiled, as the client's
/// proxy callback needs it for every request.
#[derive(Clone)]
pub(crate) struct Resolved {
    http: Option<Url>,
    https: Option<Url>,
    direct: NoProxy,
    proxy_loopback: bool,
}

impl Resolved {
    pub(crate) fn new(cfg: &ProxyConfig) -> Result<Self, HttpError> {
        Ok(Self {
            http: cfg.http.as_deref().map(parse_proxy).transpose()?,
            https: cfg.https.as_deref().map(parse_proxy).transpose()?,
            direct: NoProxy::parse(&cfg.no_proxy),
            proxy_loopback: cfg.proxy_loopback,
        })
    }

    pub(crate) fn is_empty(&self) -> bool {
        self.http.is_none() && self.https.is_none()
    }

    pub(crate) fn pick(&self, url: &Url) -> Option<Url> {
        let proxy = match url.scheme() {
            "http" => self.http.as_ref()?,
            "https" => self.https.as_ref()?,
            _ => return None,
        };
        let host = url.host()?;
        if !self.proxy_loopback && is_loopback(&host) {
            return None;
        }
        if self.direct.matches(&host) {
            return None;
        }
        Some(proxy.clone())
    }
}

fn parse_proxy(raw: &str) -> Result<Url, HttpError> {
    let with_scheme = if raw.contains("://") {
        raw.to_owned()
    } else {
        format!("http://{raw}")
    };
    let bad = |why: &str| HttpError::Config {
        what: format!("proxy {}", redact_proxy(raw)),
        why: why.to_owned(),
    };
    let url = Url::parse(&with_scheme).map_err(|e| bad(&format!("not a URL: {e}")))?;
    if !matches!(url.scheme(), "http" | "https") {
        return Err(bad("only http:// and https:// proxies are supported"));
    }
    if url.host_str().is_none_or(str::is_empty) {
        return Err(bad("no host"));
    }
    Ok(url)
}

/// A proxy URL as it may be shown: without its password.
fn redact_proxy(raw: &str) -> String {
    let with_scheme = if raw.contains("://") {
        raw.to_owned()
    } else {
        format!("http://{raw}")
    };
    match Url::parse(&with_scheme) {
        Ok(u) => redact(&u),
        Err(_) if raw.contains('@') => "<proxy URL with credentials>".to_owned(),
        Err(_) => raw.to_owned(),
    }
}

fn is_loopback(host: &Host<&str>) -> bool {
    match host {
        Host::Domain(d) => d.trim_end_matches('.').eq_ignore_ascii_case("localhost"),
        Host::Ipv4(ip) => ip.is_loopback(),
        Host::Ipv6(ip) => {
            ip.is_loopback() || ip.to_ipv4_mapped().is_some_and(|v4| v4.is_loopback())
        }
    }
}

/// `localhost`, `127.x.y.z` or `[::1]`, with or without a port: the hosts that docker (and
/// customs) let speak plain HTTP without being named, and that are never proxied.
pub fn is_loopback_host(host_port: &str) -> bool {
    let host = split_host(host_port);
    host == "localhost" || host.parse::<IpAddr>().is_ok_and(|ip| ip.is_loopback())
}

/// The host of `host[:port]` or `[v6][:port]`.
pub(crate) fn split_host(host_port: &str) -> &str {
    if let Some(rest) = host_port.strip_prefix('[') {
        rest.split(']').next().unwrap_or("")
    } else if host_port.matches(':').count() > 1 {
        // A bare IPv6 address has no port.
        host_port
    } else {
        host_port.split(':').next().unwrap_or("")
    }
}

/// A compiled `NO_PROXY` list.
#[derive(Clone, Debug, Default)]
struct NoProxy {
    all: bool,
    domains: Vec<String>,
    ips: Vec<IpAddr>,
    nets: Vec<(IpAddr, u8)>,
}

impl NoProxy {
    fn parse(entries: &[String]) -> Self {
        let mut n = Self::default();
        for e in entries {
            let e = e.trim();
            if e == "*" {
                n.all = true;
            } else if let Ok(ip) = e.trim_start_matches('[').trim_end_matches(']').parse() {
                n.ips.push(ip);
            } else if let Some((ip, bits)) = e.split_once('/')
                && let (Ok(ip), Ok(bits)) = (ip.parse::<IpAddr>(), bits.parse::<u8>())
                && bits <= if ip.is_ipv4() { 32 } else { 128 }
            {
                n.nets.push((ip, bits));
            } else {
                let d = e.trim_start_matches("*.").trim_start_matches('.');
                if !d.is_empty() {
                    n.domains.push(d.trim_end_matches('.').to_ascii_lowercase());
                }
            }
        }
        n
    }

    fn matches(&self, host: &Host<&str>) -> bool {
        if self.all {
            return true;
        }
        let ip = match host {
            Host::Domain(d) => {
                let d = d.trim_end_matches('.').to_ascii_lowercase();
                return self.domains.iter().any(|e| {
                    d == *e || (d.ends_with(e.as_str()) && d[..d.len() - e.len()].ends_with('.'))
                });
            }
            Host::Ipv4(ip) => IpAddr::V4(*ip),
            Host::Ipv6(ip) => IpAddr::V6(*ip),
        };
        self.ips.contains(&ip) || self.nets.iter().any(|&(net, bits)| in_net(ip, net, bits))
    }
}

fn in_net(ip: IpAddr, net: IpAddr, bits: u8) -> bool {
    match (ip, net) {
        (IpAddr::V4(a), IpAddr::V4(n)) => {
            let mask = u32::MAX.checked_shl(32 - u32::from(bits)).unwrap_or(0);
            u32::from(a) & mask == u32::from(n) & mask
        }
        (IpAddr::V6(a), IpAddr::V6(n)) => {
            let mask = u128::MAX.checked_shl(128 - u32::from(bits)).unwrap_or(0);
            u128::from(a) & mask == u128::from(n) & mask
        }
        _ => false,
    }
}

#[cfg(test)]
mod tests {
    use std::collections::HashMap;

    use super::*;

    fn vars(pairs: &[(&str, &str)]) -> ProxyConfig {
        let map: HashMap<String, String> = pairs
            .iter()
            .map(|(k, v)| ((*k).to_owned(), (*v).to_owned()))
            .collect();
        ProxyConfig::from_vars(|k| map.get(k).cloned())
    }

    fn via(cfg: &ProxyConfig, url: &str) -> Option<String> {
        cfg.proxy_for(&Url::parse(url).unwrap())
            .unwrap()
            .map(|u| u.to_string())
    }

    #[test]
    fn environment_as_curl_reads_it() {
        let c = vars(&[
            ("HTTPS_PROXY", "http://secure:3128"),
            ("https_proxy", "http://ignored:1"),
            ("http_proxy", "plain:8080"),
            ("NO_PROXY", " internal.example , 10.0.0.0/8,, "),
        ]);
        assert_eq!(c.https.as_deref(), Some("http://secure:3128"));
        assert_eq!(c.http.as_deref(), Some("plain:8080"));
        assert_eq!(c.no_proxy, ["internal.example", "10.0.0.0/8"]);
        assert_eq!(
            via(&c, "https://ghcr.io/v2/").as_deref(),
            Some("http://secure:3128/")
        );
        assert_eq!(
            via(&c, "http://example.org/x").as_deref(),
            Some("http://plain:8080/")
        );
        assert_eq!(via(&c, "https://reg.internal.example/v2/"), None);
        assert_eq!(via(&c, "https://10.1.2.3:5000/v2/"), None);
        assert_eq!(
            via(&c, "https://notinternal.example/").as_deref(),
            Some("http://secure:3128/")
        );
    }

    #[test]
    fn all_proxy_is_the_fallback_and_empty_is_unset() {
        let c = vars(&[("ALL_PROXY", "http://all:1"), ("HTTPS_PROXY", "  ")]);
        assert_eq!(c.http.as_deref(), Some("http://all:1"));
        assert_eq!(c.https.as_deref(), Some("http://all:1"));
        assert!(vars(&[]).is_empty());
    }

    #[test]
    fn upper_case_http_proxy_is_ignored_under_cgi() {
        let c = vars(&[("REQUEST_METHOD", "GET"), ("HTTP_PROXY", "http://evil:1")]);
        assert_eq!(c.http, None);
        let c = vars(&[("REQUEST_METHOD", "GET"), ("http_proxy", "http://ok:1")]);
        assert_eq!(c.http.as_deref(), Some("http://ok:1"));
    }

    #[test]
    fn loopback_is_direct_unless_asked() {
        let mut c = ProxyConfig {
            http: Some("http://p:1".into()),
            https: Some("http://p:1".into()),
            ..ProxyConfig::none()
        };
        for u in [
            "http://localhost:5000/v2/",
            "http://LOCALHOST./",
            "https://127.0.0.1:5002/v2/",
            "https://127.9.9.9/",
            "http://[::1]:5000/",
            "http://[::ffff:127.0.0.1]/",
        ] {
            assert_eq!(via(&c, u), None, "{u}");
        }
        assert!(via(&c, "http://localhost.example.com/").is_some());
        c.proxy_loopback = true;
        assert!(via(&c, "http://127.0.0.1:5000/").is_some());
    }

    #[test]
    fn no_proxy_rules() {
        let c = ProxyConfig {
            https: Some("http://p:1".into()),
            no_proxy: [
                "example.com",
                ".dot.org",
                "192.168.1.7",
                "fd00::/8",
                "[::2]",
            ]
            .map(String::from)
            .to_vec(),
            ..ProxyConfig::none()
        };
        for direct in [
            "https://example.com/",
            "https://a.b.EXAMPLE.com:8443/",
            "https://dot.org/",
            "https://x.dot.org/",
            "https://192.168.1.7/",
            "https://[fd12::1]/",
            "https://[::2]/",
        ] {
            assert_eq!(via(&c, direct), None, "{direct}");
        }
        for proxied in [
            "https://notexample.com/",
            "https://example.com.evil/",
            "https://192.168.1.8/",
            "https://[fe80::1]/",
        ] {
            assert!(via(&c, proxied).is_some(), "{proxied}");
        }
        let star = ProxyConfig {
            no_proxy: vec!["*".into()],
            ..c
        };
        assert_eq!(via(&star, "https://anything/"), None);
    }

    #[test]
    fn bad_proxy_urls_are_refused_without_their_password() {
        let c = ProxyConfig {
            https: Some("socks5://user:s3cret@p:1080".into()),
            ..ProxyConfig::none()
        };
        let e = c
            .proxy_for(&Url::parse("https://x/").unwrap())
            .unwrap_err()
            .to_string();
        assert!(e.contains("only http:// and https://"), "{e}");
        assert!(!e.contains("s3cret"), "{e}");
        assert!(!format!("{c:?}").contains("s3cret"));
    }

    #[test]
    fn loopback_hosts() {
        for h in [
            "localhost",
            "localhost:5000",
            "127.0.0.1:5000",
            "127.1.2.3",
            "[::1]:5000",
            "::1",
        ] {
            assert!(is_loopback_host(h), "{h}");
        }
        for h in [
            "docker.io",
            "10.0.0.1:5000",
            "localhost.example.com",
            "ghcr.io",
        ] {
            assert!(!is_loopback_host(h), "{h}");
        }
    }
}
