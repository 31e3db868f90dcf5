//! Serving HTTPS (`serve --tls-cert --tls-key`): rustls with the aws-lc-rs provider given
//! explicitly (never the process default, which panics when two providers are linked), and
//! an accept loop that hands each TLS connection to hyper, since `axum::serve` speaks plain
//! TCP only. On shutdown it stops accepting and lets open connections finish their requests.

use std::path::Path;
use std::sync::Arc;
use std::time::Duration;

use hyper_util::rt::{TokioExecutor, TokioIo};
use hyper_util::server::conn::auto::Builder;
use hyper_util::server::graceful::GracefulShutdown;
use hyper_util::service::TowerToHyperService;
use rustls::pki_types::pem::PemObject;
use rustls::pki_types::{CertificateDer, PrivateKeyDer};

use crate::ServerError;

/// The server's TLS settings from a PEM certificate chain and a PEM private key.
///
/// # Errors
/// A file that cannot be read or holds no certificate or key, or a key that does not fit the
/// certificate.
pub(crate) fn server_config(cert: &Path, key: &Path) -> Result<rustls::ServerConfig, ServerError> {
    let invalid =
        |what: &Path, why: String| ServerError::Invalid(format!("{}: {why}", what.display()));
    let chain: Vec<CertificateDer<'static>> = CertificateDer::pem_file_iter(cert)
        .map_err(|e| invalid(cert, e.to_string()))?
        .collect::<Result<_, _>>()
        .map_err(|e| invalid(cert, e.to_string()))?;
    if chain.is_empty() {
        return Err(invalid(cert, "no certificate in it".to_owned()));
    }
    let key_der = PrivateKeyDer::from_pem_file(key).map_err(|e| invalid(key, e.to_string()))?;
    let provider = Arc::new(rustls::crypto::aws_lc_rs::default_provider());
    let mut config = rustls::ServerConfig::builder_with_provider(provider)
        .with_safe_default_protocol_versions()
        .map_err(|e| ServerError::Invalid(format!("TLS: {e}")))?
        .with_no_client_auth()
        .with_single_cert(chain, key_der)
        .map_err(|e| invalid(key, format!("does not fit the certificate: {e}")))?;
    config.alpn_protocols = vec![b"h2".to_vec(), b"http/1.1".to_vec()];
    Ok(config)
}

/// Accept TLS connections on `listener` and serve `router` on them until `shutdown`.
pub(crate) async fn serve(
    listener: tokio::net::TcpListener,
    config: rustls::ServerConfig,
    router: axum::Router,
    shutdown: impl std::future::Future<Output = ()> + Send + 'static,
) {
    let acceptor = tokio_rustls::TlsAcceptor::from(Arc::new(config));
    let graceful = GracefulShutdown::new();
    tokio::pin!(shutdown);
    loop {
        let (tcp, peer) = tokio::select! {
            accepted = listener.accept() => match accepted {
                Ok(a) => a,
                Err(e) => {
                    // Out of file descriptors and the like: wait, do not spin.
                    tracing::warn!(error = %e, "accepting a connection");
                    tokio::time::sleep(Duration::from_millis(50)).await;
                    continue;
                }
            },
            () = &mut shutdown => break,
        };
        let acceptor = acceptor.clone();
        let service = TowerToHyperService::new(router.clone());
        let watcher = graceful.watcher();
        tokio::spawn(async move {
            // A handshake that stalls must not hold a task for ever.
            let tls =
                match tokio::time::timeout(Duration::from_secs(10), acceptor.accept(tcp)).await {
                    Ok(Ok(tls)) => tls,
                    Ok(Err(e)) => {
                        tracing::debug!(%peer, error = %e, "TLS handshake failed");
                        return;
                    }
                    Err(_) => {
                        tracing::debug!(%peer, "TLS handshake timed out");
                        return;
                    }
                };
            let builder = Builder::new(TokioExecutor::new());
            let connection = builder.serve_connection_with_upgrades(TokioIo::new(tls), service);
            if let Err(e) = watcher.watch(connection.into_owned()).await {
                tracing::debug!(%peer, error = %e, "connection ended");
            }
        });
    }
    // Open connections finish their requests, within a bound.
    let _ = tokio::time::timeout(Duration::from_secs(10), graceful.shutdown()).await;
}
