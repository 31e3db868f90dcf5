//! The retry policy against a scripted origin: what is retried, what is not, how long the
//! waits are, and what the errors say.

use std::io::Write;
use std::net::TcpListener;
use std::time::{Duration, Instant, SystemTime};

use customs_http::{FailureKind, HttpError, RetryPolicy};
use customs_types::Timestamp;

use crate::origin::{Origin, Reply};
use crate::{options, transport};

#[test]
fn dns_failure_fails_after_one_attempt_and_quickly() {
    let (mut opts, rec) = options(5);
    // Were it retried, the first wait alone would take at least 2.5 s.
    opts.retry.backoff_base = Duration::from_secs(5);
    opts.retry.backoff_max = Duration::from_secs(5);
    let t = transport(opts);
    let started = Instant::now();
    let e = t
        .get_bytes("http://nosuchhost.invalid/x", 1024)
        .expect_err("a host that cannot resolve");
    let took = started.elapsed();
    assert_eq!(e.kind(), Some(FailureKind::Resolve), "{e}");
    assert_eq!(e.attempts(), 1, "{e}");
    let msg = e.to_string();
    assert!(
        msg.starts_with(
            "GET http://nosuchhost.invalid/x: could not resolve host nosuchhost.invalid"
        ),
        "{msg}"
    );
    assert!(!msg.contains("gave up"), "{msg}");
    assert!(rec.events().is_empty(), "{:?}", rec.events());
    assert!(took < Duration::from_secs(2), "took {took:?}");

    // The same through `send`, as the registry calls it.
    let e = t
        .send("ping", &|| {
            t.client().get("https://nosuchhost.invalid/v2/").send()
        })
        .expect_err("a host that cannot resolve");
    assert_eq!((e.kind(), e.attempts()), (Some(FailureKind::Resolve), 1));
}

#[test]
fn service_unavailable_with_retry_after_is_retried_then_succeeds() {
    let origin = Origin::start(vec![
        Reply::status(503, "busy").with_header("Retry-After", "1"),
        Reply::ok("hello"),
    ]);
    let (mut opts, rec) = options(3);
    // Backoff alone would wait at least 2.5 s: a wait of 1 s is the server's.
    opts.retry.backoff_base = Duration::from_secs(5);
    opts.retry.backoff_max = Duration::from_secs(5);
    let t = transport(opts);
    let started = Instant::now();
    let body = t.get_bytes(&origin.url("/feed"), 1024).unwrap();
    let took = started.elapsed();
    assert_eq!(body, b"hello");
    assert_eq!(origin.seen().len(), 2);
    let ev = rec.events();
    assert_eq!(ev.len(), 1, "{ev:?}");
    let (target, retry, delay, why) = &ev[0];
    assert_eq!(target, &format!("GET {}", origin.url("/feed")));
    assert_eq!((*retry, *delay), (1, Duration::from_secs(1)));
    assert!(why.contains("HTTP 503"), "{why}");
    assert!(
        took >= Duration::from_secs(1) && took < Duration::from_millis(2400),
        "{took:?}"
    );
}

/// `Sun, 06 Nov 1994 08:49:37 GMT` for `t`.
fn http_date(t: SystemTime) -> String {
    let secs = Timestamp::from(t).unix_secs();
    let days = secs.div_euclid(86_400);
    let weekday = ["Thu", "Fri", "Sat", "Sun", "Mon", "Tue", "Wed"][days.rem_euclid(7) as usize];
    let iso = Timestamp::from_unix_secs(secs).to_string(); // 2026-12-02T10:00:00.000000Z
    let (y, m, d) = (&iso[0..4], &iso[5..7], &iso[8..10]);
    let months = [
        "Jan", "Feb", "Mar", "Apr", "May", "Jun", "Jul", "Aug", "Sep", "Oct", "Nov", "Dec",
    ];
    let month = months[m.parse::<usize>().unwrap() - 1];
    format!("{weekday}, {d} {month} {y} {} GMT", &iso[11..19])
}

#[test]
fn retry_after_as_an_http_date() {
    let when = SystemTime::now() + Duration::from_secs(2);
    let origin = Origin::start(vec![
        Reply::status(429, "slow down").with_header("Retry-After", &http_date(when)),
        Reply::ok("done"),
    ]);
    let (mut opts, rec) = options(3);
    opts.retry.backoff_base = Duration::from_secs(30);
    opts.retry.backoff_max = Duration::from_secs(30);
    let t = transport(opts);
    assert_eq!(t.get_bytes(&origin.url("/"), 1024).unwrap(), b"done");
    let ev = rec.events();
    assert_eq!(ev.len(), 1, "{ev:?}");
    // Whole seconds: the wait is what is left of the 2 s when the answer is read.
    assert!(ev[0].2 <= Duration::from_secs(2), "{ev:?}");
    assert!(ev[0].3.contains("HTTP 429"), "{ev:?}");
}

#[test]
fn not_found_is_not_retried() {
    let origin = Origin::start(vec![Reply::status(404, "no such feed\n  here")]);
    let (opts, rec) = options(5);
    let t = transport(opts);
    let e = t.get_bytes(&origin.url("/missing"), 1024).unwrap_err();
    assert_eq!(e.status(), Some(404));
    assert_eq!(e.attempts(), 1);
    assert_eq!(
        e.to_string(),
        format!(
            "GET {}: HTTP 404: no such feed here",
            origin.url("/missing")
        )
    );
    assert_eq!(origin.seen().len(), 1);
    assert!(rec.events().is_empty());
}

#[test]
fn internal_server_error_is_not_retried() {
    let origin = Origin::start(vec![Reply::status(500, "bug")]);
    let (opts, _) = options(5);
    let e = transport(opts)
        .get_bytes(&origin.url("/"), 1024)
        .unwrap_err();
    assert_eq!((e.status(), e.attempts()), (Some(500), 1));
    assert_eq!(origin.seen().len(), 1);
}

#[test]
fn connection_reset_is_retried() {
    let origin = Origin::start(vec![Reply::Reset, Reply::ok("after the reset")]);
    let (opts, rec) = options(3);
    let t = transport(opts);
    assert_eq!(
        t.get_bytes(&origin.url("/"), 1024).unwrap(),
        b"after the reset"
    );
    assert_eq!(origin.seen().len(), 2);
    let ev = rec.events();
    assert_eq!(ev.len(), 1, "{ev:?}");
    assert!(ev[0].3.to_ascii_lowercase().contains("reset"), "{ev:?}");
}

#[test]
fn body_cut_short_is_fetched_again() {
    let origin = Origin::start(vec![
        Reply::Cut {
            len: 1000,
            sent: 10,
        },
        Reply::ok("whole"),
    ]);
    let (opts, rec) = options(3);
    let t = transport(opts);
    assert_eq!(t.get_bytes(&origin.url("/"), 1024).unwrap(), b"whole");
    assert_eq!(rec.events().len(), 1, "{:?}", rec.events());
}

#[test]
fn retries_run_out_with_the_last_status_and_its_detail() {
    let origin = Origin::start(vec![
        Reply::status(503, "first"),
        Reply::status(503, "second"),
        Reply::status(503, "third"),
    ]);
    let (opts, rec) = options(2);
    let e = transport(opts)
        .get_bytes(&origin.url("/"), 1024)
        .unwrap_err();
    assert_eq!((e.status(), e.attempts()), (Some(503), 3));
    assert!(
        e.to_string()
            .ends_with("HTTP 503: third (gave up after 3 attempts)"),
        "{e}"
    );
    let retries: Vec<u32> = rec.events().iter().map(|e| e.1).collect();
    assert_eq!(retries, [1, 2]);
}

#[test]
fn send_returns_the_last_retryable_answer() {
    let origin = Origin::start(vec![Reply::status(502, "a"), Reply::status(502, "b")]);
    let (opts, _) = options(1);
    let t = transport(opts);
    let url = origin.url("/v2/");
    let sent = t.send("ping", &|| t.client().get(&url).send()).unwrap();
    assert_eq!((sent.response.status().as_u16(), sent.attempts), (502, 2));
    assert_eq!(sent.response.text().unwrap(), "b");
}

#[test]
fn refused_connections_are_retried_then_reported() {
    let port = {
        let l = TcpListener::bind("127.0.0.1:0").unwrap();
        l.local_addr().unwrap().port()
    };
    let (opts, rec) = options(2);
    let e = transport(opts)
        .get_bytes(&format!("http://127.0.0.1:{port}/"), 1024)
        .unwrap_err();
    assert_eq!(
        (e.kind(), e.attempts()),
        (Some(FailureKind::Connect), 3),
        "{e}"
    );
    assert!(e.to_string().contains("gave up after 3 attempts"), "{e}");
    assert_eq!(rec.events().len(), 2);
}

#[test]
fn a_silent_server_times_out_and_is_retried() {
    let origin = Origin::start(vec![Reply::Silent]);
    let (mut opts, _) = options(1);
    opts.idle_timeout = Duration::from_millis(300);
    let started = Instant::now();
    let e = transport(opts)
        .get_bytes(&origin.url("/"), 1024)
        .unwrap_err();
    assert_eq!(
        (e.kind(), e.attempts()),
        (Some(FailureKind::Timeout), 2),
        "{e}"
    );
    assert!(e.to_string().contains("timed out"), "{e}");
    assert!(started.elapsed() < Duration::from_secs(5));
    assert_eq!(origin.seen().len(), 2);
}

#[test]
fn post_json_sends_the_body_and_headers_and_retries() {
    let origin = Origin::start(vec![Reply::status(502, "down"), Reply::status(204, "")]);
    let (opts, rec) = options(3);
    let t = transport(opts);
    let body = br#"{"new":["CVE-2024-1"]}"#;
    let posted = t
        .post_json(
            &origin.url("/hook"),
            body,
            &[("X-Customs-Signature", "sha256=00ff")],
        )
        .unwrap();
    assert_eq!((posted.status, posted.attempts), (204, 2));
    let seen = origin.seen();
    assert_eq!(seen.len(), 2);
    for s in &seen {
        assert_eq!((s.method.as_str(), s.target.as_str()), ("POST", "/hook"));
        assert_eq!(s.body, body);
        assert_eq!(s.header("content-type"), Some("application/json"));
        assert_eq!(s.header("x-customs-signature"), Some("sha256=00ff"));
        assert_eq!(s.header("user-agent"), Some(customs_http::USER_AGENT));
    }
    assert!(rec.events()[0].0.starts_with("POST http://127.0.0.1:"));

    let refused = Origin::start(vec![Reply::status(401, "bad signature")]);
    let e = t.post_json(&refused.url("/hook"), body, &[]).unwrap_err();
    assert_eq!((e.status(), e.attempts()), (Some(401), 1));
    assert!(e.to_string().contains("bad signature"), "{e}");

    let e = t
        .post_json(&origin.url("/hook"), body, &[("bad header", "x")])
        .unwrap_err();
    assert_eq!(
        (e.kind(), e.attempts()),
        (Some(FailureKind::Other), 1),
        "{e}"
    );
}

#[test]
fn get_to_file_replaces_the_file_only_when_complete() {
    let dir = tempfile::tempdir().unwrap();
    let dest = dir.path().join("feed.json");
    let mut gz = flate2::write::GzEncoder::new(Vec::new(), flate2::Compression::default());
    gz.write_all(b"{\"v\":1}").unwrap();
    let origin = Origin::start(vec![
        Reply::Answer {
            status: 200,
            headers: vec![("Content-Encoding".into(), "gzip".into())],
            body: gz.finish().unwrap(),
        },
        Reply::status(404, "gone"),
        Reply::ok(&"x".repeat(100)),
    ]);
    let (opts, _) = options(0);
    let t = transport(opts);
    assert_eq!(t.get_to_file(&origin.url("/f"), &dest, 1024).unwrap(), 7);
    assert_eq!(std::fs::read(&dest).unwrap(), b"{\"v\":1}");
    assert_eq!(origin.seen()[0].header("accept-encoding"), Some("gzip"));

    assert_eq!(
        t.get_to_file(&origin.url("/f"), &dest, 1024)
            .unwrap_err()
            .status(),
        Some(404)
    );
    let e = t.get_to_file(&origin.url("/f"), &dest, 10).unwrap_err();
    assert!(matches!(e, HttpError::TooLarge { limit: 10, .. }), "{e}");
    assert_eq!(std::fs::read(&dest).unwrap(), b"{\"v\":1}");
    let left: Vec<_> = std::fs::read_dir(dir.path()).unwrap().collect();
    assert_eq!(left.len(), 1, "temporary files left behind: {left:?}");
}

#[test]
fn a_consumer_error_is_not_retried() {
    let origin = Origin::start(vec![Reply::ok("not gzip")]);
    let (opts, rec) = options(3);
    let e = transport(opts)
        .get_with(&origin.url("/x.gz"), |body| {
            std::io::copy(
                &mut flate2::read::GzDecoder::new(body),
                &mut std::io::sink(),
            )
        })
        .unwrap_err();
    assert!(matches!(e, HttpError::Body { .. }), "{e}");
    assert_eq!(origin.seen().len(), 1);
    assert!(rec.events().is_empty());
}

#[test]
fn urls_are_checked_and_shown_without_secrets() {
    let (opts, _) = options(0);
    let t = transport(opts);
    for bad in ["ftp://x/", "not a url", "/relative"] {
        assert!(
            matches!(t.get_bytes(bad, 1), Err(HttpError::BadUrl { .. })),
            "{bad}"
        );
    }
    let origin = Origin::start(vec![Reply::status(403, "")]);
    let url = origin.url("/x?token=s3cret").replace("://", "://user:pw@");
    let e = t.get_bytes(&url, 1).unwrap_err().to_string();
    assert!(!e.contains("s3cret") && !e.contains("pw"), "{e}");
    assert!(e.contains("/x?…"), "{e}");
}

#[test]
fn the_default_policy() {
    let p = RetryPolicy::default();
    assert_eq!(p.retries, 5);
    assert!(p.backoff_base < p.backoff_max && p.backoff_max <= p.retry_after_max);
}
