//! Proxies, through a real forward proxy: Debian's tinyproxy, started per test on a free
//! loopback port with a config of its own. A missing tinyproxy fails the tests (install it
//! with `apt-get install tinyproxy`; scripts/test.sh does).
//!
//! The origin is on loopback, which customs never proxies unless told
//! ([`ProxyConfig::proxy_loopback`]); the tests that need the proxy say so, and one checks the
//! default. The environment is the whole process's, so proxies are given per transport, and
//! the one test of the environment variables runs in a child process.

use std::net::{SocketAddr, TcpListener, TcpStream};
use std::path::PathBuf;
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

use customs_http::{FailureKind, HttpOptions, ProxyConfig, Transport};

use crate::origin::{Origin, Reply, Seen, tls_files};
use crate::{options, transport};

pub(crate) struct Tinyproxy {
    child: Child,
    addr: SocketAddr,
    dir: tempfile::TempDir,
}

impl Tinyproxy {
    pub(crate) fn start() -> Tinyproxy {
        Self::start_with("")
    }

    /// With `extra` lines added to its config.
    pub(crate) fn start_with(extra: &str) -> Tinyproxy {
        let exe = std::env::var_os("PATH")
            .into_iter()
            .flat_map(|p| std::env::split_paths(&p).collect::<Vec<_>>())
            .map(|d| d.join("tinyproxy"))
            .find(|p| p.is_file())
            .unwrap_or_else(|| {
                panic!(
                    "tinyproxy is not installed: apt-get install tinyproxy \
                     (scripts/test.sh installs it)"
                )
            });
        // The port is free when chosen; another process could take it before tinyproxy
        // binds it, so a start that does not come up is tried again on another port.
        let mut last_log = String::new();
        for _ in 0..3 {
            let dir = tempfile::tempdir().expect("a directory for tinyproxy");
            let port = TcpListener::bind("127.0.0.1:0")
                .and_then(|l| l.local_addr())
                .expect("a free port")
                .port();
            let conf = dir.path().join("tinyproxy.conf");
            std::fs::write(
                &conf,
                format!(
                    "Port {port}\nListen 127.0.0.1\nTimeout 30\nMaxClients 50\n\
                     Allow 127.0.0.1\nLogLevel Connect\nLogFile \"{}\"\n{extra}\n",
                    dir.path().join("tinyproxy.log").display()
                ),
            )
            .expect("write the tinyproxy config");
            let mut child = Command::new(&exe)
                .arg("-d")
                .arg("-c")
                .arg(&conf)
                .stdin(Stdio::null())
                .stdout(Stdio::null())
                .stderr(Stdio::null())
                .spawn()
                .expect("start tinyproxy");
            let addr = SocketAddr::from(([127, 0, 0, 1], port));
            let deadline = Instant::now() + Duration::from_secs(10);
            while Instant::now() < deadline {
                if TcpStream::connect_timeout(&addr, Duration::from_millis(200)).is_ok() {
                    return Tinyproxy { child, addr, dir };
                }
                if child.try_wait().ok().flatten().is_some() {
                    break;
                }
                std::thread::sleep(Duration::from_millis(50));
            }
            let _ = child.kill();
            let _ = child.wait();
            last_log =
                std::fs::read_to_string(dir.path().join("tinyproxy.log")).unwrap_or_default();
        }
        panic!("tinyproxy did not start; its log:\n{last_log}");
    }

    pub(crate) fn url(&self) -> String {
        format!("http://{}", self.addr)
    }

    pub(crate) fn log(&self) -> String {
        std::fs::read_to_string(self.log_path()).unwrap_or_default()
    }

    fn log_path(&self) -> PathBuf {
        self.dir.path().join("tinyproxy.log")
    }
}

impl Drop for Tinyproxy {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

/// tinyproxy adds `Via: 1.1 tinyproxy (tinyproxy/…)` to what it forwards.
fn proxied(seen: &Seen) -> bool {
    seen.header("via").is_some_and(|v| v.contains("tinyproxy"))
}

fn through(proxy: &Tinyproxy) -> ProxyConfig {
    ProxyConfig {
        http: Some(proxy.url()),
        https: Some(proxy.url()),
        proxy_loopback: true,
        ..ProxyConfig::none()
    }
}

#[test]
fn http_goes_through_the_proxy_unless_no_proxy_names_the_host() {
    let proxy = Tinyproxy::start();
    let origin = Origin::start(vec![Reply::ok("hello")]);

    let (mut opts, _) = options(0);
    opts.proxy = through(&proxy);
    assert_eq!(
        transport(opts).get_bytes(&origin.url("/a"), 64).unwrap(),
        b"hello"
    );
    let seen = origin.seen();
    assert!(proxied(&seen[0]), "{:?}", seen[0]);
    assert!(
        proxy.log().contains(&format!("GET {}", origin.url("/a"))),
        "{}",
        proxy.log()
    );

    let (mut opts, _) = options(0);
    opts.proxy = ProxyConfig {
        no_proxy: vec!["example.org".into(), "127.0.0.0/8".into()],
        ..through(&proxy)
    };
    assert_eq!(
        transport(opts).get_bytes(&origin.url("/b"), 64).unwrap(),
        b"hello"
    );
    assert!(!proxied(&origin.seen()[1]), "{:?}", origin.seen()[1]);
    assert!(!proxy.log().contains("/b "), "{}", proxy.log());
}

#[test]
fn https_is_tunnelled_through_the_proxy() {
    let proxy = Tinyproxy::start();
    let origin = Origin::start_tls(vec![Reply::ok("secret")]);
    let (mut opts, _) = options(0);
    opts.proxy = through(&proxy);
    opts.ca_certs = vec![tls_files().0];
    assert_eq!(
        transport(opts).get_bytes(&origin.url("/"), 64).unwrap(),
        b"secret"
    );
    let authority = origin.url("").trim_start_matches("https://").to_owned();
    assert!(
        proxy.log().contains(&format!("CONNECT {authority}")),
        "{}",
        proxy.log()
    );
}

#[test]
fn proxy_credentials_come_from_the_proxy_url() {
    let proxy = Tinyproxy::start_with("BasicAuth scanner s3cret");
    let plain = Origin::start(vec![Reply::ok("plain")]);
    let tls = Origin::start_tls(vec![Reply::ok("tunnelled")]);
    let with_auth = proxy.url().replace("://", "://scanner:s3cret@");

    let (mut opts, _) = options(0);
    opts.proxy = ProxyConfig {
        http: Some(with_auth.clone()),
        https: Some(with_auth),
        proxy_loopback: true,
        ..ProxyConfig::none()
    };
    opts.ca_certs = vec![tls_files().0];
    let t = transport(opts);
    assert_eq!(t.get_bytes(&plain.url("/"), 64).unwrap(), b"plain");
    assert_eq!(t.get_bytes(&tls.url("/"), 64).unwrap(), b"tunnelled");

    // Without them the proxy answers 407, which is final, for a request and for a tunnel.
    let (mut opts, rec) = options(3);
    opts.proxy = through(&proxy);
    let t = transport(opts);
    let e = t.get_bytes(&plain.url("/"), 64).unwrap_err();
    assert_eq!((e.status(), e.attempts()), (Some(407), 1), "{e}");
    let e = t.get_bytes(&tls.url("/"), 64).unwrap_err();
    assert_eq!(
        (e.kind(), e.attempts()),
        (Some(FailureKind::Proxy), 1),
        "{e}"
    );
    assert!(
        e.to_string()
            .contains("the proxy refused the tunnel: proxy authorization required"),
        "{e}"
    );
    assert!(rec.events().is_empty());
}

#[test]
fn loopback_is_reached_directly_by_default() {
    let proxy = Tinyproxy::start();
    let origin = Origin::start(vec![Reply::ok("direct")]);
    let (mut opts, _) = options(0);
    opts.proxy = ProxyConfig {
        http: Some(proxy.url()),
        ..ProxyConfig::none()
    };
    assert_eq!(
        transport(opts).get_bytes(&origin.url("/"), 64).unwrap(),
        b"direct"
    );
    assert!(!proxied(&origin.seen()[0]));
    assert!(!proxy.log().contains("Request"), "{}", proxy.log());
}

#[test]
fn a_name_the_proxy_cannot_resolve_is_one_attempt() {
    let proxy = Tinyproxy::start();
    let (mut opts, rec) = options(5);
    opts.proxy = through(&proxy);
    let t = transport(opts);
    let e = t.get_bytes("http://nosuchhost.invalid/x", 64).unwrap_err();
    // tinyproxy says "500 Unable to connect"; 500 is not retried.
    assert_eq!((e.status(), e.attempts()), (Some(500), 1), "{e}");
    assert!(rec.events().is_empty());

    // Tunnelled, the proxy's refusal is all that comes back: final too.
    let e = t.get_bytes("https://nosuchhost.invalid/x", 64).unwrap_err();
    assert_eq!(
        (e.kind(), e.attempts()),
        (Some(FailureKind::Proxy), 1),
        "{e}"
    );
    assert!(rec.events().is_empty());
    let log = proxy.log();
    assert!(log.contains("GET http://nosuchhost.invalid/x"), "{log}");
    assert!(log.contains("CONNECT nosuchhost.invalid:443"), "{log}");
}

#[test]
fn a_dead_proxy_is_a_connection_failure() {
    let port = TcpListener::bind("127.0.0.1:0")
        .and_then(|l| l.local_addr())
        .unwrap()
        .port();
    let (mut opts, _) = options(1);
    opts.proxy = ProxyConfig {
        http: Some(format!("127.0.0.1:{port}")),
        proxy_loopback: true,
        ..ProxyConfig::none()
    };
    let e = transport(opts)
        .get_bytes("http://127.0.0.1:9/", 64)
        .unwrap_err();
    assert_eq!(
        (e.kind(), e.attempts()),
        (Some(FailureKind::Connect), 2),
        "{e}"
    );
}

/// Name of the test a child process runs; it does nothing unless its parent set the origin.
const CHILD: &str = "proxy::child_reads_the_proxy_from_its_environment";

#[test]
#[ignore = "run by proxy_variables_of_the_environment, in a child process"]
fn child_reads_the_proxy_from_its_environment() {
    let url = std::env::var("CUSTOMS_HTTP_TEST_ORIGIN").expect("run by its parent test");
    let mut opts = HttpOptions::default();
    opts.proxy.proxy_loopback = true;
    crate::origin::crypto();
    let body = Transport::new(opts).unwrap().get_bytes(&url, 64).unwrap();
    assert_eq!(body, b"env");
}

#[test]
fn proxy_variables_of_the_environment() {
    let proxy = Tinyproxy::start();
    let origin = Origin::start(vec![Reply::ok("env")]);
    let run = |env: &[(&str, &str)]| {
        let mut cmd = Command::new(std::env::current_exe().unwrap());
        cmd.args([CHILD, "--exact", "--ignored", "--nocapture"])
            .env("CUSTOMS_HTTP_TEST_ORIGIN", origin.url("/"));
        for v in [
            "HTTP_PROXY",
            "http_proxy",
            "HTTPS_PROXY",
            "https_proxy",
            "ALL_PROXY",
            "all_proxy",
            "NO_PROXY",
            "no_proxy",
            "REQUEST_METHOD",
        ] {
            cmd.env_remove(v);
        }
        cmd.envs(env.iter().copied());
        let out = cmd.output().expect("run the child test");
        assert!(
            out.status.success() && String::from_utf8_lossy(&out.stdout).contains("1 passed"),
            "child failed:\n{}\n{}",
            String::from_utf8_lossy(&out.stdout),
            String::from_utf8_lossy(&out.stderr)
        );
    };
    run(&[("http_proxy", &proxy.url())]);
    assert!(proxied(&origin.seen()[0]), "{:?}", origin.seen()[0]);
    run(&[("ALL_PROXY", &proxy.url())]);
    assert!(proxied(&origin.seen()[1]), "{:?}", origin.seen()[1]);
    run(&[
        ("HTTP_PROXY", &proxy.url()),
        ("NO_PROXY", "localhost,127.0.0.1"),
    ]);
    assert!(!proxied(&origin.seen()[2]), "{:?}", origin.seen()[2]);
    run(&[("HTTP_PROXY", &proxy.url()), ("REQUEST_METHOD", "GET")]);
    assert!(!proxied(&origin.seen()[3]), "{:?}", origin.seen()[3]);
    assert_eq!(origin.seen().len(), 4);
}
