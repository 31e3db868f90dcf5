//! Name resolution with an error of our own type, so that the retry policy can tell "this host
//! does not resolve" from "the connection failed" by type rather than by the wording of
//! hyper's messages. Same lookup as reqwest's default (the system's `getaddrinfo` on the
//! runtime's blocking pool).

use std::io;
use std::net::{SocketAddr, ToSocketAddrs};

use reqwest::dns::{Addrs, Name, Resolve, Resolving};

/// A host name that did not resolve.
#[derive(Debug)]
pub(crate) struct ResolveError {
    host: String,
    source: io::Error,
}

impl std::fmt::Display for ResolveError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "could not resolve host {}: {}", self.host, self.source)
    }
}

impl std::error::Error for ResolveError {
    fn source(&self) -> Option<&(dyn std::error::Error + 'static)> {
        Some(&self.source)
    }
}

pub(crate) struct SystemResolver;

impl Resolve for SystemResolver {
    fn resolve(&self, name: Name) -> Resolving {
        let host = name.as_str().to_owned();
        Box::pin(async move {
            let lookup = host.clone();
            let found = tokio::task::spawn_blocking(move || {
                (lookup.as_str(), 0)
                    .to_socket_addrs()
                    .map(Iterator::collect::<Vec<SocketAddr>>)
            })
            .await?;
            match found {
                Ok(addrs) if !addrs.is_empty() => Ok(Box::new(addrs.into_iter()) as Addrs),
                Ok(_) => Err(Box::new(ResolveError {
                    host,
                    source: io::Error::new(io::ErrorKind::NotFound, "no addresses"),
                }) as _),
                Err(source) => Err(Box::new(ResolveError { host, source }) as _),
            }
        })
    }
}
