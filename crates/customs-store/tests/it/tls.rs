//! PostgreSQL over TLS: `sslmode` and `sslrootcert` against a real server with a certificate
//! of a test CA. The server on 127.0.0.1:5432 cannot serve here (its certificate is not ours),
//! so these tests start their own throwaway PostgreSQL ([`crate::pg_tls_server`]): TLS-only,
//! and one that offers only TLS 1.1 and lets plain clients in, for `prefer`'s fallback.
//!
//! Each test has a database of its own: what its connections are (`pg_stat_ssl`) is then read
//! from the server side, by database name.

use std::path::Path;

use customs_store::{SCHEMA_VERSION, Store, StoreError, StoreOptions};

use crate::pg_tls_server::{Kind, Server, server, server_of};

fn options(ca: &Path) -> StoreOptions {
    StoreOptions {
        ca_certs: vec![ca.to_owned()],
    }
}

fn open(url: &str, options: &StoreOptions) -> Result<Box<dyn Store>, StoreError> {
    customs_store::open_with(url, options)
}

/// `open` must fail; its error, with its sources, as text.
fn refused(url: &str, options: &StoreOptions) -> (StoreError, String) {
    let Err(e) = open(url, options) else {
        panic!("{url} connected");
    };
    let mut text = e.to_string();
    let mut source = std::error::Error::source(&e);
    while let Some(s) = source {
        text = format!("{text}: {s}");
        source = s.source();
    }
    (e, text)
}

/// The store works, and its connection is over TLS.
fn assert_works_over_tls(server: &Server, name: &str, mut store: Box<dyn Store>) {
    assert_eq!(store.schema_version().unwrap(), SCHEMA_VERSION);
    store.check().unwrap();
    assert!(store.images().unwrap().is_empty());
    let ssl = server.ssl_of(name);
    assert!(
        !ssl.is_empty() && ssl.iter().all(|s| *s),
        "{name}: ssl {ssl:?}"
    );
}

#[test]
fn verify_full_with_the_ca_connects_and_the_store_works() {
    let server = server();
    let name = "verify_full_ok";
    let url = server.database(name, "localhost");
    let ca = server.ca.display();
    let store = open(
        &format!("{url}?sslmode=verify-full&sslrootcert={ca}"),
        &StoreOptions::default(),
    )
    .unwrap();
    assert_works_over_tls(&server, name, store);
}

#[test]
fn the_ca_option_is_trusted_like_sslrootcert() {
    let server = server();
    let name = "ca_option";
    let url = server.database(name, "localhost");
    let store = open(&format!("{url}?sslmode=verify-full"), &options(&server.ca)).unwrap();
    assert_works_over_tls(&server, name, store);
}

#[test]
fn keyword_strings_take_sslmode_and_sslrootcert_too() {
    let server = server();
    let name = "keywords";
    server.database(name, "localhost");
    let conninfo = format!(
        "host=localhost port={} user=postgres dbname={name} sslmode=verify-full sslrootcert='{}'",
        server.port,
        server.ca.display()
    );
    let store = customs_store::PgStore::connect(&conninfo).unwrap();
    assert_works_over_tls(&server, name, Box::new(store));
}

#[test]
fn verify_full_without_the_ca_is_not_trusted() {
    let server = server();
    let url = server.database("verify_full_no_ca", "localhost");
    let (e, text) = refused(
        &format!("{url}?sslmode=verify-full"),
        &StoreOptions::default(),
    );
    assert!(matches!(e, StoreError::PostgresTls { .. }), "{text}");
    assert!(text.contains("certificate is not trusted"), "{text}");
    assert!(text.contains("UnknownIssuer"), "{text}");
}

#[test]
fn verify_full_refuses_a_host_name_the_certificate_lacks() {
    let server = server();
    // The certificate names localhost, not 127.0.0.1.
    let url = server.database("verify_full_wrong_name", "127.0.0.1");
    let (e, text) = refused(&format!("{url}?sslmode=verify-full"), &options(&server.ca));
    assert!(matches!(e, StoreError::PostgresTls { .. }), "{text}");
    assert!(
        text.contains("not valid for the host name connected to"),
        "{text}"
    );
}

#[test]
fn verify_ca_checks_the_chain_not_the_name() {
    let server = server();
    let name = "verify_ca";
    let url = server.database(name, "127.0.0.1");
    let store = open(&format!("{url}?sslmode=verify-ca"), &options(&server.ca)).unwrap();
    assert_works_over_tls(&server, name, store);
    let (_, text) = refused(
        &format!("{url}?sslmode=verify-ca"),
        &options(&server.other_ca),
    );
    assert!(text.contains("certificate is not trusted"), "{text}");
}

#[test]
fn require_encrypts_without_the_ca() {
    let server = server();
    let name = "require";
    let url = server.database(name, "127.0.0.1");
    let store = open(&format!("{url}?sslmode=require"), &StoreOptions::default()).unwrap();
    assert_works_over_tls(&server, name, store);
}

#[test]
fn require_with_a_root_certificate_checks_the_chain() {
    let server = server();
    let url = server.database("require_wrong_ca", "localhost");
    let other = server.other_ca.display();
    let (_, text) = refused(
        &format!("{url}?sslmode=require&sslrootcert={other}"),
        &StoreOptions::default(),
    );
    assert!(text.contains("certificate is not trusted"), "{text}");
}

#[test]
fn disable_is_refused_by_a_hostssl_only_server() {
    let server = server();
    let url = server.database("disable", "127.0.0.1");
    let (e, text) = refused(&format!("{url}?sslmode=disable"), &StoreOptions::default());
    assert!(matches!(e, StoreError::Postgres { .. }), "{text}");
    assert!(text.contains("no pg_hba.conf entry"), "{text}");
    assert!(text.contains("no encryption"), "{text}");
}

#[test]
fn prefer_uses_tls_when_offered() {
    let server = server();
    for (name, query) in [("prefer", "?sslmode=prefer"), ("prefer_default", "")] {
        let url = server.database(name, "127.0.0.1");
        let store = open(&format!("{url}{query}"), &StoreOptions::default()).unwrap();
        assert_works_over_tls(&server, name, store);
    }
}

#[test]
fn allow_falls_back_to_tls() {
    let server = server();
    let name = "allow";
    let url = server.database(name, "127.0.0.1");
    let store = open(&format!("{url}?sslmode=allow"), &StoreOptions::default()).unwrap();
    assert_works_over_tls(&server, name, store);
}

#[test]
fn an_unknown_sslmode_is_a_clear_error() {
    // Refused before connecting: no server needed.
    let (e, text) = refused(
        "postgres://postgres:hunter2@localhost:1/x?sslmode=verify_full",
        &StoreOptions::default(),
    );
    assert!(matches!(e, StoreError::PostgresSettings { .. }), "{text}");
    assert!(text.contains("unknown sslmode `verify_full`"), "{text}");
    assert!(text.contains("verify-full"), "{text}");
    assert!(!text.contains("hunter2"), "{text}");
}

#[test]
fn an_unreadable_ca_file_is_a_clear_error() {
    let (e, text) = refused(
        "postgres://postgres@localhost:1/x?sslmode=verify-full",
        &options(Path::new("/nonexistent/ca.pem")),
    );
    assert!(matches!(e, StoreError::PostgresSettings { .. }), "{text}");
    assert!(text.contains("/nonexistent/ca.pem"), "{text}");
}

#[test]
fn prefer_goes_plain_when_the_handshake_fails() {
    let server = server_of(Kind::OldTls);
    let name = "prefer_old_tls";
    let url = server.database(name, "127.0.0.1");
    let mut store = open(&url, &StoreOptions::default()).unwrap();
    assert_eq!(store.schema_version().unwrap(), SCHEMA_VERSION);
    assert_eq!(server.ssl_of(name), [false]);
    drop(store);
    // Not with a root certificate: a refused server is not talked to in plain text.
    let (e, text) = refused(&format!("{url}?sslmode=prefer"), &options(&server.ca));
    assert!(matches!(e, StoreError::PostgresTls { .. }), "{text}");
    // And never with require.
    let (e, text) = refused(&format!("{url}?sslmode=require"), &StoreOptions::default());
    assert!(matches!(e, StoreError::PostgresTls { .. }), "{text}");
}
