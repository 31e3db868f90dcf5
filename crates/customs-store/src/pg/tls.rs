//! TLS to PostgreSQL with libpq's `sslmode` and `sslrootcert`.
//!
//! rust-postgres' own parser knows `sslmode` only as `disable`, `prefer` and `require`, and has
//! no `sslrootcert`. So both parameters are taken out of the connection string here (URL or
//! `key=value` form), the rest goes to [`postgres::Config`], and the modes map onto
//! rust-postgres' three plus a certificate verifier:
//!
//! | `sslmode` | TLS | the server's certificate |
//! |---|---|---|
//! | `disable` | never | — |
//! | `allow` | only if a plain connection fails | as `require` |
//! | `prefer` (default) | if the server offers it and the handshake succeeds, else plain | as `require` |
//! | `require` | always | not checked: encryption without authentication (libpq's `require` does the same); but checked as `verify-ca` when a root certificate is given (libpq too, when its root file exists) |
//! | `verify-ca` | always | its chain, up to a system root or a given CA |
//! | `verify-full` | always | its chain, and that it names the host connected to |
//!
//! Trusted roots are the system's (`rustls-native-certs`: the OS store, or `SSL_CERT_FILE` /
//! `SSL_CERT_DIR`), plus the PEM files of `sslrootcert=PATH` and of
//! [`StoreOptions::ca_certs`](crate::StoreOptions::ca_certs). `sslrootcert=system` means the
//! system roots alone and, as in libpq 16, makes `verify-full` the default and refuses weaker
//! modes. Unlike libpq, `~/.postgresql/root.crt` is not read, and the system roots are trusted
//! in every verifying mode.
//!
//! Even when the certificate is not checked, the handshake signatures are: the session is
//! encrypted with whoever holds the key the server presented. rustls runs on the aws-lc-rs
//! provider, passed to the configuration explicitly, never the process default (with `ring`
//! also in a graph, relying on the default panics; DEPENDENCIES.md).

use std::error::Error as _;
use std::io;
use std::path::PathBuf;
use std::sync::Arc;

use postgres::config::SslMode as PgSslMode;
use postgres::{Client, NoTls};
use rustls::client::WebPkiServerVerifier;
use rustls::client::danger::{HandshakeSignatureValid, ServerCertVerified, ServerCertVerifier};
use rustls::crypto::{CryptoProvider, WebPkiSupportedAlgorithms};
use rustls::pki_types::pem::PemObject;
use rustls::pki_types::{CertificateDer, ServerName, UnixTime};
use rustls::{
    CertificateError, ClientConfig, DigitallySignedStruct, RootCertStore, SignatureScheme,
};
use tokio_postgres_rustls::MakeRustlsConnect;

use crate::StoreError;

/// libpq's `sslmode` values.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum SslMode {
    Disable,
    Allow,
    Prefer,
    Require,
    VerifyCa,
    VerifyFull,
}

impl SslMode {
    fn parse(value: &str) -> Result<Self, StoreError> {
        Ok(match value {
            "disable" => Self::Disable,
            "allow" => Self::Allow,
            "prefer" => Self::Prefer,
            "require" => Self::Require,
            "verify-ca" => Self::VerifyCa,
            "verify-full" => Self::VerifyFull,
            _ => {
                return Err(settings(format!(
                    "unknown sslmode `{value}` in the store URL: expected disable, allow, prefer, \
                     require, verify-ca or verify-full"
                )));
            }
        })
    }
}

/// How much of the server's certificate is checked.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum Check {
    /// Nothing but the handshake signatures (`require`, `prefer` and `allow` without roots).
    Signatures,
    /// The chain up to a trusted root, not the name (`verify-ca`).
    Chain,
    /// The chain and the host name (`verify-full`).
    Full,
}

/// A connection string's TLS settings, taken out of it.
#[derive(Debug, PartialEq, Eq)]
struct Settings {
    /// The connection string without `sslmode` and `sslrootcert`, for `postgres::Config`.
    rest: String,
    mode: SslMode,
    /// Extra trusted roots: `sslrootcert`'s file, then the option's.
    ca_files: Vec<PathBuf>,
}

impl Settings {
    fn parse(conninfo: &str, ca_certs: &[PathBuf]) -> Result<Self, StoreError> {
        let raw = if conninfo.starts_with("postgres://") || conninfo.starts_with("postgresql://") {
            split_url(conninfo)?
        } else {
            split_keywords(conninfo)
        };
        let mode = raw.mode.as_deref().map(SslMode::parse).transpose()?;
        let system = raw.root_cert.as_deref() == Some("system");
        let mode = match (mode, system) {
            (Some(mode), false) | (Some(mode @ SslMode::VerifyFull), true) => mode,
            (None, false) => SslMode::Prefer,
            (None, true) => SslMode::VerifyFull,
            (Some(_), true) => {
                return Err(settings(format!(
                    "sslmode `{}` is too weak for sslrootcert=system in the store URL: use \
                     sslmode=verify-full (as libpq requires)",
                    raw.mode.unwrap_or_default()
                )));
            }
        };
        let ca_files = raw
            .root_cert
            .filter(|_| !system)
            .map(PathBuf::from)
            .into_iter()
            .chain(ca_certs.iter().cloned())
            .collect();
        Ok(Self {
            rest: raw.rest,
            mode,
            ca_files,
        })
    }

    /// What the verifier checks when TLS is used.
    fn check(&self) -> Check {
        match self.mode {
            SslMode::VerifyFull => Check::Full,
            SslMode::VerifyCa => Check::Chain,
            _ if !self.ca_files.is_empty() => Check::Chain,
            _ => Check::Signatures,
        }
    }
}

/// Connect as libpq would for the connection string's `sslmode` and `sslrootcert`, with
/// `ca_certs` as more trusted roots.
pub(super) fn connect(conninfo: &str, ca_certs: &[PathBuf]) -> Result<Client, StoreError> {
    let settings = Settings::parse(conninfo, ca_certs)?;
    let mut config: postgres::Config = settings
        .rest
        .parse()
        .map_err(|source| StoreError::Postgres { source })?;
    let tls = || connector(settings.check(), &settings.ca_files);
    let plain = |config: &mut postgres::Config| {
        config
            .ssl_mode(PgSslMode::Disable)
            .connect(NoTls)
            .map_err(connect_error)
    };
    match settings.mode {
        SslMode::Disable => plain(&mut config),
        SslMode::Allow => plain(&mut config).or_else(|_| {
            config
                .ssl_mode(PgSslMode::Require)
                .connect(tls()?)
                .map_err(connect_error)
        }),
        // rust-postgres goes plain when the server declines TLS; libpq also when the handshake
        // fails. Not when a root certificate was given: an untrusted server is not plain-text
        // material.
        SslMode::Prefer => match config
            .ssl_mode(PgSslMode::Prefer)
            .connect(tls()?)
            .map_err(connect_error)
        {
            Err(StoreError::PostgresTls { .. }) if settings.check() == Check::Signatures => {
                plain(&mut config)
            }
            other => other,
        },
        SslMode::Require | SslMode::VerifyCa | SslMode::VerifyFull => config
            .ssl_mode(PgSslMode::Require)
            .connect(tls()?)
            .map_err(connect_error),
    }
}

/// rustls on aws-lc-rs with the verifier `check` calls for.
fn connector(check: Check, ca_files: &[PathBuf]) -> Result<MakeRustlsConnect, StoreError> {
    let provider = Arc::new(rustls::crypto::aws_lc_rs::default_provider());
    let builder = ClientConfig::builder_with_provider(Arc::clone(&provider))
        .with_safe_default_protocol_versions()
        .map_err(|e| settings(format!("TLS setup: {e}")))?;
    let config = match check {
        Check::Signatures => builder
            .dangerous()
            .with_custom_certificate_verifier(Arc::new(AnyCertificate(
                provider.signature_verification_algorithms,
            ))),
        Check::Chain => builder
            .dangerous()
            .with_custom_certificate_verifier(Arc::new(ChainOnly(webpki(&provider, ca_files)?))),
        Check::Full => builder.with_webpki_verifier(webpki(&provider, ca_files)?),
    };
    Ok(MakeRustlsConnect::new(config.with_no_client_auth()))
}

/// rustls' standard verifier over the system roots and the PEM files of `ca_files`.
fn webpki(
    provider: &Arc<CryptoProvider>,
    ca_files: &[PathBuf],
) -> Result<Arc<WebPkiServerVerifier>, StoreError> {
    let mut roots = RootCertStore::empty();
    // A system store that partly fails to load still gives the roots it could read; with none
    // at all, the handshake says the certificate is not trusted, which names the remedy.
    roots.add_parsable_certificates(rustls_native_certs::load_native_certs().certs);
    for path in ca_files {
        let problem = |detail: &dyn std::fmt::Display| {
            settings(format!(
                "cannot use `{}` as CA certificates: {detail}",
                path.display()
            ))
        };
        let pem = std::fs::read(path).map_err(|e| problem(&e))?;
        let certs = CertificateDer::pem_slice_iter(&pem)
            .collect::<Result<Vec<_>, _>>()
            .map_err(|e| problem(&e))?;
        if certs.is_empty() {
            return Err(problem(&"it holds no PEM certificate"));
        }
        for cert in certs {
            roots.add(cert).map_err(|e| problem(&e))?;
        }
    }
    WebPkiServerVerifier::builder_with_provider(Arc::new(roots), Arc::clone(provider))
        .build()
        .map_err(|e| settings(format!("no trusted root certificates: {e}")))
}

/// `require` without a root certificate: any server certificate is accepted, as libpq's
/// `require` accepts it, but the handshake signatures are still verified against the key it
/// holds. Encryption, not authentication: who holds that key is not known.
#[derive(Debug)]
struct AnyCertificate(WebPkiSupportedAlgorithms);

impl ServerCertVerifier for AnyCertificate {
    fn verify_server_cert(
        &self,
        _end_entity: &CertificateDer<'_>,
        _intermediates: &[CertificateDer<'_>],
        _server_name: &ServerName<'_>,
        _ocsp_response: &[u8],
        _now: UnixTime,
    ) -> Result<ServerCertVerified, rustls::Error> {
        Ok(ServerCertVerified::assertion())
    }

    fn verify_tls12_signature(
        &self,
        message: &[u8],
        cert: &CertificateDer<'_>,
        dss: &DigitallySignedStruct,
    ) -> Result<HandshakeSignatureValid, rustls::Error> {
        rustls::crypto::verify_tls12_signature(message, cert, dss, &self.0)
    }

    fn verify_tls13_signature(
        &self,
        message: &[u8],
        cert: &CertificateDer<'_>,
        dss: &DigitallySignedStruct,
    ) -> Result<HandshakeSignatureValid, rustls::Error> {
        rustls::crypto::verify_tls13_signature(message, cert, dss, &self.0)
    }

    fn supported_verify_schemes(&self) -> Vec<SignatureScheme> {
        self.0.supported_schemes()
    }
}

/// `verify-ca`: rustls' verifier, with a wrong host name forgiven. That verifier checks the
/// chain (trust, validity dates, key usage) first and the name last, so a name error means
/// everything else passed (tested: `verify_ca_*` in tests/it/tls.rs).
#[derive(Debug)]
struct ChainOnly(Arc<WebPkiServerVerifier>);

impl ServerCertVerifier for ChainOnly {
    fn verify_server_cert(
        &self,
        end_entity: &CertificateDer<'_>,
        intermediates: &[CertificateDer<'_>],
        server_name: &ServerName<'_>,
        ocsp_response: &[u8],
        now: UnixTime,
    ) -> Result<ServerCertVerified, rustls::Error> {
        match self
            .0
            .verify_server_cert(end_entity, intermediates, server_name, ocsp_response, now)
        {
            Err(rustls::Error::InvalidCertificate(
                CertificateError::NotValidForName | CertificateError::NotValidForNameContext { .. },
            )) => Ok(ServerCertVerified::assertion()),
            other => other,
        }
    }

    fn verify_tls12_signature(
        &self,
        message: &[u8],
        cert: &CertificateDer<'_>,
        dss: &DigitallySignedStruct,
    ) -> Result<HandshakeSignatureValid, rustls::Error> {
        self.0.verify_tls12_signature(message, cert, dss)
    }

    fn verify_tls13_signature(
        &self,
        message: &[u8],
        cert: &CertificateDer<'_>,
        dss: &DigitallySignedStruct,
    ) -> Result<HandshakeSignatureValid, rustls::Error> {
        self.0.verify_tls13_signature(message, cert, dss)
    }

    fn supported_verify_schemes(&self) -> Vec<SignatureScheme> {
        self.0.supported_verify_schemes()
    }
}

fn settings(problem: String) -> StoreError {
    StoreError::PostgresSettings { problem }
}

/// A failed connection; a TLS failure explained in words (the details, rustls' error among
/// them, are in the source chain).
fn connect_error(source: postgres::Error) -> StoreError {
    let mut cause: Option<&(dyn std::error::Error + 'static)> = source.source();
    let mut reason = None;
    while let Some(e) = cause {
        let rustls = e.downcast_ref::<rustls::Error>().or_else(|| {
            e.downcast_ref::<io::Error>()
                .and_then(io::Error::get_ref)
                .and_then(|inner| inner.downcast_ref::<rustls::Error>())
        });
        if let Some(rustls) = rustls {
            reason = Some(explain(rustls).to_owned());
            break;
        }
        cause = e.source();
    }
    // rust-postgres' TLS errors without a rustls error: "server does not support TLS".
    if reason.is_none() && source.to_string() == "error performing TLS handshake" {
        reason = Some("TLS with the server failed".to_owned());
    }
    match reason {
        Some(reason) => StoreError::PostgresTls { reason, source },
        None => StoreError::Postgres { source },
    }
}

fn explain(e: &rustls::Error) -> &'static str {
    match e {
        rustls::Error::InvalidCertificate(CertificateError::UnknownIssuer) => {
            "the server's certificate is not trusted: no system root and no CA given \
             (sslrootcert in the URL, or the CA certificate option) issued it"
        }
        rustls::Error::InvalidCertificate(
            CertificateError::NotValidForName | CertificateError::NotValidForNameContext { .. },
        ) => {
            "the server's certificate is not valid for the host name connected to: connect by \
             a name it carries, or use sslmode=verify-ca"
        }
        rustls::Error::InvalidCertificate(_) => "the server's certificate is refused",
        _ => "TLS with the server failed",
    }
}

/// What a connection string says about TLS, before interpretation.
#[derive(Debug, Default, PartialEq, Eq)]
struct Raw {
    rest: String,
    mode: Option<String>,
    root_cert: Option<String>,
}

/// Take `sslmode` and `sslrootcert` out of a `postgres://` URL's query, splitting it where
/// rust-postgres does: the query starts at the first `?` after the credentials (which end at
/// the first `@`, if any).
fn split_url(url: &str) -> Result<Raw, StoreError> {
    let scheme_end = url.find("://").map_or(0, |i| i + 3);
    let after_scheme = &url[scheme_end..];
    let credentials_end = after_scheme.find('@').map_or(0, |i| i + 1);
    let Some(q) = after_scheme[credentials_end..].find('?') else {
        return Ok(Raw {
            rest: url.to_owned(),
            ..Raw::default()
        });
    };
    let q = scheme_end + credentials_end + q;
    let mut raw = Raw::default();
    let mut kept = Vec::new();
    for pair in url[q + 1..].split('&') {
        let (key, value) = pair.split_once('=').unwrap_or((pair, ""));
        match percent_decode(key)?.as_str() {
            "sslmode" => raw.mode = Some(percent_decode(value)?),
            "sslrootcert" => raw.root_cert = Some(percent_decode(value)?),
            _ => kept.push(pair),
        }
    }
    raw.rest = if kept.is_empty() {
        url[..q].to_owned()
    } else {
        format!("{}?{}", &url[..q], kept.join("&"))
    };
    Ok(raw)
}

fn percent_decode(text: &str) -> Result<String, StoreError> {
    let bytes = text.as_bytes();
    let mut out = Vec::with_capacity(bytes.len());
    let mut i = 0;
    while i < bytes.len() {
        let hex = bytes
            .get(i + 1..i + 3)
            .and_then(|h| std::str::from_utf8(h).ok())
            .and_then(|h| u8::from_str_radix(h, 16).ok());
        match (bytes[i], hex) {
            (b'%', Some(byte)) => {
                out.push(byte);
                i += 3;
            }
            (byte, _) => {
                out.push(byte);
                i += 1;
            }
        }
    }
    String::from_utf8(out)
        .map_err(|_| settings("a parameter of the store URL is not UTF-8".to_owned()))
}

/// Take `sslmode` and `sslrootcert` out of a `key=value …` connection string (values
/// unquoted or in single quotes, with backslash escapes). A string that does not tokenise is
/// passed on whole, for rust-postgres to report.
fn split_keywords(conninfo: &str) -> Raw {
    let mut raw = Raw::default();
    let mut kept = Vec::new();
    let mut chars = conninfo.char_indices().peekable();
    let skip_space = |chars: &mut std::iter::Peekable<std::str::CharIndices<'_>>| {
        while chars.next_if(|(_, c)| c.is_whitespace()).is_some() {}
    };
    loop {
        skip_space(&mut chars);
        let Some(&(start, _)) = chars.peek() else {
            break;
        };
        let mut key = String::new();
        while let Some((_, c)) = chars.next_if(|(_, c)| *c != '=' && !c.is_whitespace()) {
            key.push(c);
        }
        skip_space(&mut chars);
        if chars.next_if(|(_, c)| *c == '=').is_none() {
            return Raw {
                rest: conninfo.to_owned(),
                ..Raw::default()
            };
        }
        skip_space(&mut chars);
        let mut value = String::new();
        if chars.next_if(|(_, c)| *c == '\'').is_some() {
            loop {
                match chars.next() {
                    Some((_, '\'')) => break,
                    Some((_, '\\')) => match chars.next() {
                        Some((_, c)) => value.push(c),
                        None => {
                            return Raw {
                                rest: conninfo.to_owned(),
                                ..Raw::default()
                            };
                        }
                    },
                    Some((_, c)) => value.push(c),
                    None => {
                        return Raw {
                            rest: conninfo.to_owned(),
                            ..Raw::default()
                        };
                    }
                }
            }
        } else {
            while let Some((_, c)) = chars.next_if(|(_, c)| !c.is_whitespace()) {
                if c == '\\' {
                    if let Some((_, escaped)) = chars.next() {
                        value.push(escaped);
                    }
                } else {
                    value.push(c);
                }
            }
        }
        let end = chars.peek().map_or(conninfo.len(), |&(i, _)| i);
        match key.as_str() {
            "sslmode" => raw.mode = Some(value),
            "sslrootcert" => raw.root_cert = Some(value),
            _ => kept.push(&conninfo[start..end]),
        }
    }
    raw.rest = kept.join(" ");
    raw
}

#[cfg(test)]
mod tests {
    use super::*;

    fn parse(conninfo: &str) -> Result<Settings, StoreError> {
        Settings::parse(conninfo, &[])
    }

    #[test]
    fn url_parameters_are_taken_out() {
        let s = parse(
            "postgres://u:p%3Fw@db.example:5432/customs?sslmode=verify-full&options=-csearch_path%3Dx&sslrootcert=%2Fetc%2Fca.pem",
        )
        .unwrap();
        assert_eq!(
            s.rest,
            "postgres://u:p%3Fw@db.example:5432/customs?options=-csearch_path%3Dx"
        );
        assert_eq!(s.mode, SslMode::VerifyFull);
        assert_eq!(s.ca_files, [PathBuf::from("/etc/ca.pem")]);
        assert_eq!(s.check(), Check::Full);

        let s = parse("postgresql://db/customs?sslmode=disable").unwrap();
        assert_eq!(s.rest, "postgresql://db/customs");
        assert_eq!(s.mode, SslMode::Disable);
    }

    #[test]
    fn a_question_mark_in_the_password_is_not_the_query() {
        let s = parse("postgres://u:a?b@db/x?sslmode=require").unwrap();
        assert_eq!(s.rest, "postgres://u:a?b@db/x");
        assert_eq!(s.mode, SslMode::Require);
    }

    #[test]
    fn prefer_is_the_default() {
        let s = parse("postgres://db/x").unwrap();
        assert_eq!(
            (s.rest.as_str(), s.mode),
            ("postgres://db/x", SslMode::Prefer)
        );
        assert_eq!(s.check(), Check::Signatures);
    }

    #[test]
    fn a_root_certificate_makes_require_check_the_chain() {
        let s =
            Settings::parse("postgres://db/x?sslmode=require", &[PathBuf::from("/ca")]).unwrap();
        assert_eq!((s.mode, s.check()), (SslMode::Require, Check::Chain));
        assert_eq!(s.ca_files, [PathBuf::from("/ca")]);
    }

    #[test]
    fn sslrootcert_system() {
        let s = parse("postgres://db/x?sslrootcert=system").unwrap();
        assert_eq!((s.mode, s.ca_files.len()), (SslMode::VerifyFull, 0));
        let e = parse("postgres://db/x?sslrootcert=system&sslmode=require").unwrap_err();
        assert!(e.to_string().contains("verify-full"), "{e}");
    }

    #[test]
    fn unknown_modes_are_refused_without_the_password() {
        let e = parse("postgres://u:secret@db/x?sslmode=verify_full").unwrap_err();
        let text = e.to_string();
        assert!(text.contains("unknown sslmode `verify_full`"), "{text}");
        assert!(!text.contains("secret"), "{text}");
    }

    #[test]
    fn keyword_strings() {
        let s = parse(
            "host=db sslmode = verify-ca  user='a b' sslrootcert='/tmp/my ca.pem' dbname=x\\ y",
        )
        .unwrap();
        assert_eq!(s.rest, "host=db user='a b' dbname=x\\ y");
        assert_eq!(s.mode, SslMode::VerifyCa);
        assert_eq!(s.ca_files, [PathBuf::from("/tmp/my ca.pem")]);
        // Not tokenisable: passed on whole.
        assert_eq!(parse("host=db user").unwrap().rest, "host=db user");
    }
}
