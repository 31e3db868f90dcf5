//! Trust: the system roots plus `--ca-cert`, hosts named insecure, and TLS failures that are
//! final. The server is a rustls origin with the TLS registry's certificate.

use std::path::PathBuf;

use customs_http::{FailureKind, HttpError, Transport};

use crate::origin::{Origin, Reply, tls_files};
use crate::{options, transport};

#[test]
fn an_extra_ca_makes_the_server_trusted() {
    let origin = Origin::start_tls(vec![Reply::ok("over TLS")]);
    let (ca, _, _) = tls_files();

    let (opts, rec) = options(3);
    let e = transport(opts)
        .get_bytes(&origin.url("/"), 1024)
        .unwrap_err();
    assert_eq!(
        (e.kind(), e.attempts()),
        (Some(FailureKind::Certificate), 1),
        "{e}"
    );
    let msg = e.to_string();
    assert!(
        msg.contains("TLS certificate refused") && msg.contains("UnknownIssuer"),
        "{msg}"
    );
    assert!(rec.events().is_empty());

    let (mut opts, _) = options(3);
    opts.ca_certs = vec![ca];
    assert_eq!(
        transport(opts).get_bytes(&origin.url("/"), 1024).unwrap(),
        b"over TLS"
    );
}

#[test]
fn a_host_named_insecure_is_not_verified() {
    let origin = Origin::start_tls(vec![Reply::ok("unverified")]);
    let (mut opts, _) = options(0);
    opts.insecure_hosts = vec!["127.0.0.1".into()];
    let t = transport(opts);
    assert!(t.allows_insecure(origin.url("").trim_start_matches("https://")));
    assert_eq!(t.get_bytes(&origin.url("/"), 1024).unwrap(), b"unverified");

    // Named with another port: not this server.
    let (mut opts, _) = options(0);
    opts.insecure_hosts = vec!["127.0.0.1:1".into()];
    let e = transport(opts)
        .get_bytes(&origin.url("/"), 1024)
        .unwrap_err();
    assert_eq!(e.kind(), Some(FailureKind::Certificate), "{e}");
}

#[test]
fn plain_http_on_an_https_url_is_final() {
    let origin = Origin::start(vec![Reply::ok("plain")]);
    let (opts, rec) = options(3);
    let url = origin.url("/").replace("http://", "https://");
    let e = transport(opts).get_bytes(&url, 1024).unwrap_err();
    assert_eq!((e.kind(), e.attempts()), (Some(FailureKind::Tls), 1), "{e}");
    assert!(e.to_string().contains("TLS handshake failed"), "{e}");
    assert!(rec.events().is_empty());
}

#[test]
fn ca_files_are_checked_up_front() {
    crate::origin::crypto();
    let dir = tempfile::tempdir().unwrap();
    let not_pem = dir.path().join("not-a-cert.pem");
    std::fs::write(&not_pem, "hello").unwrap();
    for (file, want) in [
        (not_pem, "holds no PEM certificate"),
        (PathBuf::from("/nonexistent/ca.pem"), "No such file"),
    ] {
        let (mut opts, _) = options(0);
        opts.ca_certs = vec![file.clone()];
        let e = Transport::new(opts).unwrap_err();
        assert!(matches!(e, HttpError::Config { .. }), "{e}");
        let msg = e.to_string();
        assert!(
            msg.contains(&file.display().to_string()) && msg.contains(want),
            "{msg}"
        );
    }
}
