//! An OCI distribution client for customs.
//!
//! - [`Reference`]: image references normalised as docker does (`nginx` is
//!   `docker.io/library/nginx:latest`).
//! - [`Client`]: the `/v2/` ping (scheme and auth method), manifests and blobs, the catalog
//!   and tag lists (paged) and tags resolved to digests; anonymous, HTTP
//!   Basic and bearer-token auth (the `WWW-Authenticate: Bearer realm=…` flow, tokens cached for
//!   their lifetime), credentials from the command line or docker's config and credential
//!   helpers; blob streams that resume with `Range` requests; request counters.
//! - Connections are `customs-http`'s [`customs_http::Transport`]: TLS with the system roots
//!   plus `--ca-cert` files, proxies, timeouts, and the one retry policy (resets, timeouts,
//!   429/502/503/504 with `Retry-After`; never a host that does not resolve). Plain HTTP and
//!   unverified TLS only for registries the transport names insecure; plain HTTP also for
//!   loopback, as docker allows.
//!
//! This crate moves bytes; it does not judge them. Digests are checked by `customs-image`
//! while it reads.

#![forbid(unsafe_code)]
#![warn(missing_docs)]

mod auth;
mod client;
mod error;
mod reference;

pub use auth::{Credential, Secret, docker_config_credential};
pub use client::{
    BlobProgress, BlobReader, Client, ClientOptions, FetchedManifest, MANIFEST_ACCEPT,
    MAX_MANIFEST, MAX_PAGE, Observer, Stats,
};
pub use customs_http::is_loopback_host;
pub use error::RegistryError;
pub use reference::{DOCKER_HUB, DOCKER_HUB_API, DOCKER_HUB_AUTH_KEY, Reference};
