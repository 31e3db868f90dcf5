//! The distribution protocol over HTTP: the `/v2/` ping that tells the scheme and the auth
//! method, manifests with the right `Accept` list, blobs as resumable streams.
//!
//! Written on `reqwest` rather than `oci-client` because customs needs to own the retry and
//! resume policy, count requests, and keep the scheme and TLS choices explicit. Connections,
//! TLS, proxies and the decision to retry a request are `customs-http`'s: every request goes
//! through [`Transport::send`], and the ping and the blob resumes, which retry on their own
//! terms, ask its [`RetryPolicy`].

use std::collections::HashMap;
use std::io::{self, Read};
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant, SystemTime};

use customs_http::{
    Failure, FailureKind, HttpError, HttpOptions, RetryPolicy, Transport, retry_after,
};
use reqwest::StatusCode;
use reqwest::blocking::{Client as Http, RequestBuilder, Response};

use crate::auth::{self, Challenge, Credential, Secret};
use crate::{Reference, RegistryError};

/// Manifest media types customs reads, most specific first.
pub const MANIFEST_ACCEPT: &str = "application/vnd.oci.image.manifest.v1+json, \
     application/vnd.oci.image.index.v1+json, \
     application/vnd.docker.distribution.manifest.v2+json, \
     application/vnd.docker.distribution.manifest.list.v2+json";
const OCI_INDEX: &str = "application/vnd.oci.image.index.v1+json";
/// The distribution registry refuses manifests over 4 MiB; so do we.
pub const MAX_MANIFEST: u64 = 4 << 20;
const MAX_ERROR_BODY: u64 = 64 << 10;
const MAX_TOKEN_BODY: u64 = 1 << 20;
const PING_TIMEOUT: Duration = Duration::from_secs(15);
/// A token is renewed this long before the server says it expires.
const TOKEN_MARGIN: Duration = Duration::from_secs(5);

/// How a [`Client`] authenticates, and who sees its downloads. How it connects (TLS, proxies,
/// timeouts, retries) is the [`Transport`]'s, given to [`Client::new`].
#[derive(Clone)]
pub struct ClientOptions {
    /// Used for every registry this client talks to (`--username/--password-stdin`).
    pub credential: Option<Credential>,
    /// Fall back to `~/.docker/config.json` and its credential helpers.
    pub docker_config: bool,
    /// Sees blob downloads (progress bars). Retries are told to the transport's
    /// [`customs_http::Observer`].
    pub observer: Option<Arc<dyn Observer>>,
}

impl Default for ClientOptions {
    fn default() -> Self {
        Self {
            credential: None,
            docker_config: true,
            observer: None,
        }
    }
}

impl std::fmt::Debug for ClientOptions {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("ClientOptions")
            .field("credential", &self.credential)
            .field("docker_config", &self.docker_config)
            .finish_non_exhaustive()
    }
}

/// Told about blob downloads, for progress bars. (Retries, resumed downloads among them, are
/// told to the transport's [`customs_http::Observer`].)
pub trait Observer: Send + Sync {
    /// A blob download starts; the returned handle sees its bytes.
    fn blob(&self, _digest: &str, _size: Option<u64>) -> Option<Box<dyn BlobProgress>> {
        None
    }
}

/// The progress of one blob download, as handed out by [`Observer::blob`].
pub trait BlobProgress: Send {
    /// `bytes` more bytes of the blob arrived (an increment, not a total). Bytes skipped to
    /// resume from a server that ignores `Range` are not counted twice.
    fn advance(&mut self, bytes: u64);
    /// The blob was read to its end. Not called when the download fails: the handle is then
    /// just dropped.
    fn finish(&mut self);
}

/// What a client did, for `--verbose` and for tests.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct Stats {
    /// HTTP requests sent, every kind counted: pings, token requests, manifests, blobs,
    /// retries and resumes.
    pub requests: u64,
    /// Requests sent again after a failure, resumes included.
    pub retries: u64,
    /// Blob downloads continued after the connection broke (a subset of `retries`).
    pub resumes: u64,
    /// Blob bytes received and handed to readers; manifests and tokens are not counted.
    pub blob_bytes: u64,
}

#[derive(Default)]
struct Counters {
    requests: AtomicU64,
    retries: AtomicU64,
    resumes: AtomicU64,
    blob_bytes: AtomicU64,
}

/// What the `/v2/` ping taught us about a registry.
#[derive(Debug)]
struct Host {
    base: String,
    unverified: bool,
    auth: HostAuth,
}

#[derive(Debug, Clone)]
enum HostAuth {
    None,
    Basic,
    Bearer {
        realm: String,
        service: Option<String>,
    },
}

/// A registry client. Cheap to clone; shared by the threads that fetch layers.
#[derive(Clone)]
pub struct Client {
    inner: Arc<Inner>,
}

struct Inner {
    opts: ClientOptions,
    transport: Transport,
    hosts: Mutex<HashMap<String, Arc<Host>>>,
    tokens: Mutex<HashMap<(String, String), (Secret, Instant)>>,
    creds: Mutex<HashMap<String, Option<Credential>>>,
    counters: Counters,
}

/// A manifest as the registry sent it.
#[derive(Debug, Clone)]
pub struct FetchedManifest {
    /// The body exactly as received (at most [`MAX_MANIFEST`] bytes), unchecked: its digest
    /// is the caller's to verify.
    pub bytes: Vec<u8>,
    /// The `Content-Type` header without parameters (`application/vnd.oci.image.index.v1+json`),
    /// when sent.
    pub media_type: Option<String>,
    /// The `Docker-Content-Digest` header, when sent.
    pub digest_header: Option<String>,
}

impl std::fmt::Debug for Client {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Client")
            .field("options", &self.inner.opts)
            .field("transport", &self.inner.transport)
            .finish_non_exhaustive()
    }
}

impl Client {
    /// A client that connects through `transport` (shared with the rest of customs).
    pub fn new(transport: Transport, opts: ClientOptions) -> Self {
        Self {
            inner: Arc::new(Inner {
                opts,
                transport,
                hosts: Mutex::new(HashMap::new()),
                tokens: Mutex::new(HashMap::new()),
                creds: Mutex::new(HashMap::new()),
                counters: Counters::default(),
            }),
        }
    }

    /// A client on a transport of its own with default options: the system's roots, proxies
    /// from the environment, docker's credentials.
    ///
    /// # Errors
    /// The proxy environment names an unusable proxy.
    pub fn with_defaults() -> Result<Self, RegistryError> {
        let transport = Transport::new(HttpOptions::default()).map_err(from_http)?;
        Ok(Self::new(transport, ClientOptions::default()))
    }

    /// The transport this client connects through.
    pub fn transport(&self) -> &Transport {
        &self.inner.transport
    }

    /// What this client (and its clones, which share the counters) has done so far.
    pub fn stats(&self) -> Stats {
        let c = &self.inner.counters;
        Stats {
            requests: c.requests.load(Ordering::Relaxed),
            retries: c.retries.load(Ordering::Relaxed),
            resumes: c.resumes.load(Ordering::Relaxed),
            blob_bytes: c.blob_bytes.load(Ordering::Relaxed),
        }
    }

    /// Fetch a manifest or index by tag or digest (`reference`), bounded to [`MAX_MANIFEST`].
    /// The caller checks its digest: this crate moves bytes, the image crate judges them.
    pub fn manifest(
        &self,
        image: &Reference,
        reference: &str,
    ) -> Result<FetchedManifest, RegistryError> {
        let target = format!(
            "{}/{} manifest {reference}",
            image.registry, image.repository
        );
        let path = format!("/v2/{}/manifests/{reference}", image.repository);
        self.document(image, &path, MANIFEST_ACCEPT, &target)
    }

    /// The referrers of `digest` from the OCI 1.1 referrers API (an image index listing the
    /// manifests whose `subject` is `digest`), or `None` when the registry has no such API
    /// (it answers 404; a registry that has it answers every digest, with an empty index if
    /// need be). The caller falls back to the `sha256-<hex>` tag then.
    ///
    /// # Errors
    /// Transport, auth and status errors other than 404.
    pub fn referrers(
        &self,
        image: &Reference,
        digest: &str,
    ) -> Result<Option<FetchedManifest>, RegistryError> {
        let target = format!(
            "{}/{} referrers of {digest}",
            image.registry, image.repository
        );
        let path = format!("/v2/{}/referrers/{digest}", image.repository);
        match self.document(image, &path, OCI_INDEX, &target) {
            Ok(m) => Ok(Some(m)),
            Err(RegistryError::NotFound { .. }) => Ok(None),
            Err(e) => Err(e),
        }
    }

    /// Every repository of the registry `image` names (its repository is not read), from
    /// `/v2/_catalog` in pages of `page` names (at most [`MAX_PAGE`]); the token asked for is `registry:catalog:*`.
    ///
    /// # Errors
    /// Transport, auth and status errors (a registry without the catalog API answers 404 or
    /// 401/403), or a page that is not the catalog's JSON.
    pub fn catalog(&self, image: &Reference, page: usize) -> Result<Vec<String>, RegistryError> {
        let target = format!("{} catalog", image.registry);
        self.listing(
            image,
            "/v2/_catalog",
            "repositories",
            page,
            Access::Catalog,
            &target,
        )
    }

    /// Every tag of the image's repository, from `/v2/NAME/tags/list` in pages of `page` (at
    /// most [`MAX_PAGE`]).
    ///
    /// # Errors
    /// Transport, auth and status errors, or a page that is not the tag list's JSON.
    pub fn tags(&self, image: &Reference, page: usize) -> Result<Vec<String>, RegistryError> {
        let target = format!("{}/{} tags", image.registry, image.repository);
        let path = format!("/v2/{}/tags/list", image.repository);
        self.listing(image, &path, "tags", page, Access::Pull, &target)
    }

    /// A paged listing (`_catalog`, `tags/list`): pages of `n` names, following the `Link`
    /// header's `rel="next"` when the registry sends one, else asking again from the last
    /// name (`last=`) while pages come back full. Registries differ here: some ignore `n`
    /// and send everything at once (Debian's docker-registry 2.8 on `tags/list`), some page
    /// without a `Link`. A page that brings nothing new ends the listing, so a registry that
    /// repeats itself cannot keep customs asking for ever.
    fn listing(
        &self,
        image: &Reference,
        path: &str,
        field: &str,
        n: usize,
        access: Access,
        target: &str,
    ) -> Result<Vec<String>, RegistryError> {
        // The distribution registry refuses a page larger than its `catalog.maxentries`
        // (1,000 by default) with 400 PAGINATION_NUMBER_INVALID.
        let n = n.clamp(1, MAX_PAGE);
        let mut out: Vec<String> = Vec::new();
        let mut seen = std::collections::HashSet::new();
        let mut next = Some(format!("{path}?n={n}"));
        while let Some(url) = next.take() {
            let resp = self.request(
                image,
                &Request {
                    method: reqwest::Method::GET,
                    path: &url,
                    headers: vec![("accept", "application/json".to_owned())],
                    body: None,
                    access,
                },
                target,
            )?;
            let link = resp
                .headers()
                .get("link")
                .and_then(|v| v.to_str().ok())
                .and_then(next_link);
            let mut bytes = Vec::new();
            resp.take(MAX_MANIFEST + 1)
                .read_to_end(&mut bytes)
                .map_err(|e| RegistryError::Transport {
                    target: target.to_owned(),
                    why: format!("reading the listing: {e}"),
                    attempts: 1,
                })?;
            if bytes.len() as u64 > MAX_MANIFEST {
                return Err(too_large(target));
            }
            let names = listed_names(&bytes, field).map_err(|why| RegistryError::Protocol {
                target: target.to_owned(),
                why,
            })?;
            let full = names.len() >= n;
            let mut new = false;
            for name in names {
                if seen.insert(name.clone()) {
                    out.push(name);
                    new = true;
                }
            }
            if !new {
                break;
            }
            next = match link {
                Some(l) => Some(l),
                None if full => out
                    .last()
                    .map(|last| format!("{path}?n={n}&last={}", query_escape(last))),
                None => None,
            };
        }
        Ok(out)
    }

    /// The digest a tag points at, from a `HEAD` request for its manifest
    /// (`Docker-Content-Digest`); a registry that leaves the header out is asked for the
    /// manifest, whose bytes' SHA-256 is the digest.
    ///
    /// # Errors
    /// Transport, auth and status errors (404 for a tag that is gone).
    pub fn resolve(&self, image: &Reference, tag: &str) -> Result<String, RegistryError> {
        let target = format!("{}/{} manifest {tag}", image.registry, image.repository);
        let path = format!("/v2/{}/manifests/{tag}", image.repository);
        let resp = self.request(
            image,
            &Request {
                method: reqwest::Method::HEAD,
                path: &path,
                headers: vec![("accept", MANIFEST_ACCEPT.to_owned())],
                body: None,
                access: Access::Pull,
            },
            &target,
        )?;
        let header = resp
            .headers()
            .get("docker-content-digest")
            .and_then(|v| v.to_str().ok())
            .map(str::to_owned);
        if let Some(d) = header.filter(|d| is_sha256_digest(d)) {
            return Ok(d);
        }
        let m = self.manifest(image, tag)?;
        Ok(format!(
            "sha256:{}",
            hex::encode(<sha2::Sha256 as sha2::Digest>::digest(&m.bytes))
        ))
    }

    /// A JSON document (manifest, index), bounded to [`MAX_MANIFEST`].
    fn document(
        &self,
        image: &Reference,
        path: &str,
        accept: &str,
        target: &str,
    ) -> Result<FetchedManifest, RegistryError> {
        let target = target.to_owned();
        let resp = self.get(image, path, Some(accept), None, &target)?;
        let header = |name: &str| {
            resp.headers()
                .get(name)
                .and_then(|v| v.to_str().ok())
                .map(str::to_owned)
        };
        let media_type = header("content-type")
            .map(|m| m.split(';').next().unwrap_or_default().trim().to_owned());
        let digest_header = header("docker-content-digest");
        if resp.content_length().is_some_and(|n| n > MAX_MANIFEST) {
            return Err(too_large(&target));
        }
        let mut bytes = Vec::new();
        resp.take(MAX_MANIFEST + 1)
            .read_to_end(&mut bytes)
            .map_err(|e| RegistryError::Transport {
                target: target.clone(),
                why: format!("reading the manifest: {e}"),
                attempts: 1,
            })?;
        if bytes.len() as u64 > MAX_MANIFEST {
            return Err(too_large(&target));
        }
        Ok(FetchedManifest {
            bytes,
            media_type,
            digest_header,
        })
    }

    /// Open a blob as a stream that resumes where it broke off (with a `Range` request) when
    /// the connection fails. The caller verifies the digest of what it reads.
    pub fn blob(
        &self,
        image: &Reference,
        digest: &str,
        size: Option<u64>,
    ) -> Result<BlobReader, RegistryError> {
        let target = format!("{}/{} blob {digest}", image.registry, image.repository);
        let path = format!("/v2/{}/blobs/{digest}", image.repository);
        let resp = self.get(image, &path, None, None, &target)?;
        let progress = self
            .inner
            .opts
            .observer
            .as_ref()
            .and_then(|o| o.blob(digest, size));
        Ok(BlobReader {
            client: self.clone(),
            image: image.clone(),
            path,
            target,
            size,
            offset: 0,
            resp: Some(resp),
            resumes_left: self.inner.transport.policy().retries,
            progress,
        })
    }

    /// Whether the image's repository holds the blob `digest` (a `HEAD` request).
    ///
    /// # Errors
    /// Transport, auth and status errors other than 404.
    pub fn has_blob(&self, image: &Reference, digest: &str) -> Result<bool, RegistryError> {
        let target = format!("{}/{} blob {digest}", image.registry, image.repository);
        let path = format!("/v2/{}/blobs/{digest}", image.repository);
        let req = Request {
            method: reqwest::Method::HEAD,
            path: &path,
            headers: Vec::new(),
            body: None,
            access: Access::Push,
        };
        match self.request(image, &req, &target) {
            Ok(_) => Ok(true),
            Err(RegistryError::NotFound { .. }) => Ok(false),
            Err(e) => Err(e),
        }
    }

    /// Upload `bytes` as the blob `digest` unless the repository already holds it: one
    /// monolithic upload (`POST` an upload session, `PUT` the bytes with the digest), which
    /// the registry checks against the digest. Returns whether anything was uploaded.
    ///
    /// # Errors
    /// Transport, auth and status errors; a registry that opens no upload session.
    pub fn push_blob(
        &self,
        image: &Reference,
        digest: &str,
        bytes: bytes::Bytes,
    ) -> Result<bool, RegistryError> {
        if self.has_blob(image, digest)? {
            return Ok(false);
        }
        let target = format!("{}/{} upload {digest}", image.registry, image.repository);
        let start = format!("/v2/{}/blobs/uploads/", image.repository);
        let resp = self.request(
            image,
            &Request {
                method: reqwest::Method::POST,
                path: &start,
                headers: vec![("content-length", "0".to_owned())],
                body: None,
                access: Access::Push,
            },
            &target,
        )?;
        let location = resp
            .headers()
            .get("location")
            .and_then(|v| v.to_str().ok())
            .map(str::to_owned)
            .ok_or_else(|| RegistryError::Protocol {
                target: target.clone(),
                why: "the upload session came without a Location".to_owned(),
            })?;
        let sep = if location.contains('?') { '&' } else { '?' };
        let put = format!("{location}{sep}digest={digest}");
        self.request(
            image,
            &Request {
                method: reqwest::Method::PUT,
                path: &put,
                headers: vec![("content-type", "application/octet-stream".to_owned())],
                body: Some(bytes),
                access: Access::Push,
            },
            &target,
        )?;
        Ok(true)
    }

    /// Store `bytes` as a manifest of `media_type` under `reference` (a tag, or its digest).
    /// Every blob it names must be in the repository already. Returns the digest the registry
    /// reports (`Docker-Content-Digest`), when it does.
    ///
    /// # Errors
    /// Transport, auth and status errors (a registry refuses a manifest whose blobs are
    /// missing, or that it cannot parse).
    pub fn put_manifest(
        &self,
        image: &Reference,
        reference: &str,
        media_type: &str,
        bytes: bytes::Bytes,
    ) -> Result<Option<String>, RegistryError> {
        let target = format!(
            "{}/{} manifest {reference}",
            image.registry, image.repository
        );
        let path = format!("/v2/{}/manifests/{reference}", image.repository);
        let resp = self.request(
            image,
            &Request {
                method: reqwest::Method::PUT,
                path: &path,
                headers: vec![("content-type", media_type.to_owned())],
                body: Some(bytes),
                access: Access::Push,
            },
            &target,
        )?;
        Ok(resp
            .headers()
            .get("docker-content-digest")
            .and_then(|v| v.to_str().ok())
            .map(str::to_owned))
    }

    fn http(&self, unverified: bool) -> Result<&Http, RegistryError> {
        let t = &self.inner.transport;
        if unverified {
            t.unverified_client().map_err(from_http)
        } else {
            Ok(t.client())
        }
    }

    /// The registry's scheme and auth method, from a `/v2/` ping made once per registry.
    fn host(&self, image: &Reference) -> Result<Arc<Host>, RegistryError> {
        let mut hosts = self
            .inner
            .hosts
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner);
        if let Some(h) = hosts.get(&image.registry) {
            return Ok(Arc::clone(h));
        }
        let h = Arc::new(self.ping(image)?);
        hosts.insert(image.registry.clone(), Arc::clone(&h));
        Ok(h)
    }

    fn ping(&self, image: &Reference) -> Result<Host, RegistryError> {
        let t = &self.inner.transport;
        let api = image.api_host();
        let insecure = t.allows_insecure(&image.registry) || t.allows_insecure(api);
        let mut candidates = vec![(format!("https://{api}"), insecure)];
        if insecure || image.is_loopback() {
            candidates.push((format!("http://{api}"), false));
        }
        let target = format!("{api}/v2/");
        let policy = *t.policy();
        let mut attempt = 0;
        // The policy's rules, applied to the candidates together: retried when one of them
        // failed in a way worth retrying, reported with the first one's failure.
        loop {
            let mut first_error: Option<Failure> = None;
            let mut transient = false;
            let mut wait = None;
            for (base, unverified) in &candidates {
                self.inner.counters.requests.fetch_add(1, Ordering::Relaxed);
                // A server that swallows a TLS hello without answering must not cost a full
                // idle timeout before plain HTTP is tried.
                let sent = self
                    .http(*unverified)?
                    .get(format!("{base}/v2/"))
                    .timeout(t.options().idle_timeout.min(PING_TIMEOUT))
                    .send();
                let resp = match sent {
                    Ok(r) => r,
                    Err(e) => {
                        let f = Failure::of(&e);
                        transient |= f.kind.is_retryable();
                        first_error.get_or_insert(f);
                        continue;
                    }
                };
                let status = resp.status();
                let auth = match status.as_u16() {
                    200..=299 => HostAuth::None,
                    401 => match resp
                        .headers()
                        .get("www-authenticate")
                        .and_then(|v| v.to_str().ok())
                        .and_then(auth::parse_challenge)
                    {
                        Some(Challenge::Basic) => HostAuth::Basic,
                        Some(Challenge::Bearer { realm, service, .. }) => {
                            HostAuth::Bearer { realm, service }
                        }
                        None => {
                            return Err(RegistryError::Protocol {
                                target,
                                why: "answered 401 without a Basic or Bearer challenge".to_owned(),
                            });
                        }
                    },
                    _ if RetryPolicy::retryable_response(status, resp.headers()) => {
                        transient = true;
                        wait = wait.or(retry_after(resp.headers(), SystemTime::now()));
                        first_error.get_or_insert(status_failure(status));
                        continue;
                    }
                    _ if status.is_server_error() => {
                        first_error.get_or_insert(status_failure(status));
                        continue;
                    }
                    // A plain-HTTP request to a TLS port, or a web server that is not a registry.
                    _ => {
                        first_error.get_or_insert(Failure {
                            kind: FailureKind::Other,
                            reason: format!(
                                "{base}/v2/ answered HTTP {status}: not a registry API"
                            ),
                        });
                        continue;
                    }
                };
                return Ok(Host {
                    base: base.clone(),
                    unverified: *unverified,
                    auth,
                });
            }
            let failure = first_error.unwrap_or_else(|| status_failure(StatusCode::BAD_GATEWAY));
            if transient && attempt < policy.retries {
                attempt += 1;
                self.inner.counters.retries.fetch_add(1, Ordering::Relaxed);
                t.pause(
                    &target,
                    attempt,
                    policy.delay(attempt, wait),
                    &failure.reason,
                );
                continue;
            }
            let hint = match failure.kind {
                FailureKind::Certificate => {
                    "; trust its CA with --ca-cert FILE, or name it with --insecure-registry"
                }
                // Nothing the registry options could change.
                FailureKind::Resolve | FailureKind::Proxy => "",
                _ if !insecure && !image.is_loopback() => {
                    "; a registry without TLS must be named with --insecure-registry"
                }
                _ => "",
            };
            return Err(RegistryError::Transport {
                target,
                why: format!("{}{hint}", failure.reason),
                attempts: attempt + 1,
            });
        }
    }

    fn credential(&self, image: &Reference) -> Result<Option<Credential>, RegistryError> {
        if let Some(c) = &self.inner.opts.credential {
            return Ok(Some(c.clone()));
        }
        if !self.inner.opts.docker_config {
            return Ok(None);
        }
        let mut creds = self
            .inner
            .creds
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner);
        if let Some(c) = creds.get(image.auth_key()) {
            return Ok(c.clone());
        }
        let c = auth::docker_config_credential(image.auth_key())?;
        creds.insert(image.auth_key().to_owned(), c.clone());
        Ok(c)
    }

    /// A bearer token for `scope`, from the cache while it lives, else from the realm.
    fn token(
        &self,
        image: &Reference,
        realm: &str,
        service: Option<&str>,
        scope: &str,
        refresh: bool,
    ) -> Result<Secret, RegistryError> {
        let cred = self.credential(image)?;
        if let Some(Credential::Bearer(token)) = &cred {
            return Ok(token.clone());
        }
        let key = (
            format!("{realm}|{}", service.unwrap_or("")),
            scope.to_owned(),
        );
        if !refresh
            && let Some((t, until)) = self
                .inner
                .tokens
                .lock()
                .unwrap_or_else(std::sync::PoisonError::into_inner)
                .get(&key)
            && Instant::now() < *until
        {
            return Ok(t.clone());
        }
        let mut url = reqwest::Url::parse(realm).map_err(|e| RegistryError::Protocol {
            target: image.registry.clone(),
            why: format!("token realm {realm:?} is not a URL: {e}"),
        })?;
        let http = self.http(false)?;
        let resp = match &cred {
            Some(Credential::IdentityToken(refresh_token)) => {
                // Docker's identity tokens are OAuth2 refresh tokens, exchanged by POST.
                let mut form = reqwest::Url::parse("form:").unwrap_or_else(|_| url.clone());
                {
                    let mut q = form.query_pairs_mut();
                    q.append_pair("grant_type", "refresh_token")
                        .append_pair("client_id", "customs")
                        .append_pair("scope", scope)
                        .append_pair("refresh_token", refresh_token.expose());
                    if let Some(s) = service {
                        q.append_pair("service", s);
                    }
                }
                let body = form.query().unwrap_or_default().to_owned();
                self.execute(realm, &|| {
                    http.post(url.clone())
                        .header("content-type", "application/x-www-form-urlencoded")
                        .body(body.clone())
                        .send()
                })?
            }
            basic => {
                {
                    let mut q = url.query_pairs_mut();
                    if let Some(s) = service {
                        q.append_pair("service", s);
                    }
                    q.append_pair("scope", scope);
                }
                let header = basic.as_ref().and_then(Credential::basic_header);
                self.execute(realm, &|| {
                    let mut rb = http.get(url.clone());
                    if let Some(h) = &header {
                        rb = rb.header("authorization", h);
                    }
                    rb.send()
                })?
            }
        };
        let status = resp.status();
        if status == StatusCode::UNAUTHORIZED || status == StatusCode::FORBIDDEN {
            return Err(RegistryError::Unauthorized {
                target: format!("token server {realm}"),
                why: match &cred {
                    Some(c) => format!("the token server rejected {}", c.describe()),
                    None => "the token server refuses anonymous access; give credentials with \
                             --username/--password-stdin or docker login"
                        .to_owned(),
                },
            });
        }
        if !status.is_success() {
            return Err(RegistryError::Status {
                target: format!("token server {realm}"),
                status: status.as_u16(),
                why: error_detail(resp),
            });
        }
        let mut body = Vec::new();
        resp.take(MAX_TOKEN_BODY)
            .read_to_end(&mut body)
            .map_err(|e| RegistryError::Transport {
                target: realm.to_owned(),
                why: e.to_string(),
                attempts: 1,
            })?;
        let (token, life) = auth::parse_token(&body, realm)?;
        let until = Instant::now() + life.saturating_sub(TOKEN_MARGIN);
        self.inner
            .tokens
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner)
            .insert(key, (token.clone(), until));
        Ok(token)
    }

    /// GET `path` on the image's registry with auth, retries, and status mapped to errors.
    fn get(
        &self,
        image: &Reference,
        path: &str,
        accept: Option<&str>,
        range_from: Option<u64>,
        target: &str,
    ) -> Result<Response, RegistryError> {
        let mut headers = Vec::new();
        if let Some(a) = accept {
            headers.push(("accept", a.to_owned()));
        }
        if let Some(from) = range_from {
            headers.push(("range", format!("bytes={from}-")));
        }
        self.request(
            image,
            &Request {
                method: reqwest::Method::GET,
                path,
                headers,
                body: None,
                access: Access::Pull,
            },
            target,
        )
    }

    /// Send `req` to the image's registry with auth (a token scoped to pull, or to pull and
    /// push), retries, and status mapped to errors.
    fn request(
        &self,
        image: &Reference,
        req: &Request<'_>,
        target: &str,
    ) -> Result<Response, RegistryError> {
        let host = self.host(image)?;
        let http = self.http(host.unverified)?;
        // An upload's next URL comes back in `Location`, absolute or relative to the host.
        let url = if req.path.starts_with("http://") || req.path.starts_with("https://") {
            req.path.to_owned()
        } else {
            format!("{}{}", host.base, req.path)
        };
        let scope = match req.access {
            Access::Pull => format!("repository:{}:pull", image.repository),
            Access::Push => format!("repository:{}:pull,push", image.repository),
            Access::Catalog => "registry:catalog:*".to_owned(),
        };
        let mut refreshed = false;
        loop {
            let authz = match &host.auth {
                HostAuth::None => None,
                HostAuth::Basic => self
                    .credential(image)?
                    .as_ref()
                    .and_then(Credential::basic_header),
                HostAuth::Bearer { realm, service } => Some(format!(
                    "Bearer {}",
                    self.token(image, realm, service.as_deref(), &scope, refreshed)?
                        .expose()
                )),
            };
            let send = || -> reqwest::Result<Response> {
                let mut rb: RequestBuilder = http.request(req.method.clone(), &url);
                for (name, value) in &req.headers {
                    rb = rb.header(*name, value);
                }
                if let Some(a) = &authz {
                    rb = rb.header("authorization", a);
                }
                if let Some(b) = &req.body {
                    rb = rb.body(b.clone());
                }
                rb.send()
            };
            let resp = self.execute(target, &send)?;
            let status = resp.status();
            if status.is_success() {
                return Ok(resp);
            }
            // An expired or too narrow token: fetch a fresh one once.
            if status == StatusCode::UNAUTHORIZED
                && matches!(host.auth, HostAuth::Bearer { .. })
                && !refreshed
            {
                refreshed = true;
                continue;
            }
            let detail = error_detail(resp);
            return Err(match status.as_u16() {
                401 => RegistryError::Unauthorized {
                    target: target.to_owned(),
                    why: match self.credential(image)? {
                        Some(c) => format!("the registry rejected {} ({detail})", c.describe()),
                        None => format!(
                            "authentication required; give credentials with --username and \
                             --password-stdin, or docker login ({detail})"
                        ),
                    },
                },
                403 => RegistryError::Denied {
                    target: target.to_owned(),
                    why: detail,
                },
                404 => RegistryError::NotFound {
                    target: target.to_owned(),
                    why: detail,
                },
                s => RegistryError::Status {
                    target: target.to_owned(),
                    status: s,
                    why: detail,
                },
            });
        }
    }

    /// Send under the transport's retry policy, counting every request and retry. Returns
    /// the last answer when retries run out on a status, so its error body can be read.
    fn execute(
        &self,
        target: &str,
        send: &dyn Fn() -> reqwest::Result<Response>,
    ) -> Result<Response, RegistryError> {
        let c = &self.inner.counters;
        let counted = || {
            c.requests.fetch_add(1, Ordering::Relaxed);
            send()
        };
        match self.inner.transport.send(target, &counted) {
            Ok(sent) => {
                c.retries
                    .fetch_add(u64::from(sent.attempts - 1), Ordering::Relaxed);
                Ok(sent.response)
            }
            Err(e) => {
                c.retries
                    .fetch_add(u64::from(e.attempts().saturating_sub(1)), Ordering::Relaxed);
                Err(from_http(e))
            }
        }
    }
}

/// One request to a registry, before auth is added.
struct Request<'a> {
    method: reqwest::Method,
    /// A path on the registry's host, or an absolute URL (an upload's `Location`).
    path: &'a str,
    headers: Vec<(&'static str, String)>,
    /// Cheap to clone, so a retry sends it again without copying.
    body: Option<bytes::Bytes>,
    /// What the token is asked for.
    access: Access,
}

/// What a bearer token is asked for.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Access {
    /// Pull the request's repository.
    Pull,
    /// Pull and push it.
    Push,
    /// List the registry's repositories (`registry:catalog:*`).
    Catalog,
}

fn status_failure(status: StatusCode) -> Failure {
    Failure {
        kind: FailureKind::Other,
        reason: format!("HTTP {status}"),
    }
}

/// A transport error as the registry reports it.
fn from_http(e: HttpError) -> RegistryError {
    let attempts = e.attempts();
    match e {
        HttpError::Config { what, why } => RegistryError::Config { path: what, why },
        HttpError::Failed {
            target, failure, ..
        } => RegistryError::Transport {
            target,
            why: failure.reason,
            attempts,
        },
        other => RegistryError::Transport {
            target: "HTTP".to_owned(),
            why: other.to_string(),
            attempts,
        },
    }
}

fn too_large(target: &str) -> RegistryError {
    RegistryError::Protocol {
        target: target.to_owned(),
        why: format!("manifest larger than the {MAX_MANIFEST}-byte limit"),
    }
}

/// The registry's error body (`{"errors":[{"code":…,"message":…}]}`) as one line, or the status.
fn error_detail(resp: Response) -> String {
    #[derive(serde::Deserialize)]
    struct Body {
        errors: Vec<Item>,
    }
    #[derive(serde::Deserialize)]
    struct Item {
        code: Option<String>,
        message: Option<String>,
    }
    let status = resp.status();
    let mut bytes = Vec::new();
    let _ = resp.take(MAX_ERROR_BODY).read_to_end(&mut bytes);
    match serde_json::from_slice::<Body>(&bytes) {
        Ok(b) if !b.errors.is_empty() => b
            .errors
            .iter()
            .map(|e| {
                format!(
                    "{}: {}",
                    e.code.as_deref().unwrap_or("ERROR"),
                    e.message.as_deref().unwrap_or("")
                )
            })
            .collect::<Vec<_>>()
            .join("; "),
        _ => status.canonical_reason().unwrap_or("error").to_owned(),
    }
}

/// A blob download that resumes with `Range: bytes=N-` when the connection breaks, up to the
/// client's retry budget. A server that ignores the range answers 200 and the first N bytes
/// are skipped instead.
pub struct BlobReader {
    client: Client,
    image: Reference,
    path: String,
    target: String,
    size: Option<u64>,
    offset: u64,
    resp: Option<Response>,
    resumes_left: u32,
    progress: Option<Box<dyn BlobProgress>>,
}

impl BlobReader {
    /// The blob's size: the manifest's, else the registry's `Content-Length`.
    pub fn expected_len(&self) -> Option<u64> {
        self.size
            .or_else(|| self.resp.as_ref().and_then(Response::content_length))
    }

    fn reopen(&mut self) -> io::Result<()> {
        let from = self.offset;
        let mut resp = self
            .client
            .get(&self.image, &self.path, None, Some(from), &self.target)
            .map_err(io::Error::other)?;
        if resp.status() == StatusCode::PARTIAL_CONTENT {
            let start = resp
                .headers()
                .get("content-range")
                .and_then(|v| v.to_str().ok())
                .and_then(|v| v.strip_prefix("bytes "))
                .and_then(|v| v.split('-').next())
                .and_then(|v| v.parse::<u64>().ok());
            if start != Some(from) {
                return Err(io::Error::other(RegistryError::Protocol {
                    target: self.target.clone(),
                    why: format!("asked to resume at byte {from}, the registry sent another range"),
                }));
            }
        } else {
            let skipped = io::copy(&mut (&mut resp).take(from), &mut io::sink())?;
            if skipped < from {
                return Err(io::Error::other(RegistryError::Protocol {
                    target: self.target.clone(),
                    why: format!("blob is shorter on a second read ({skipped} < {from} bytes)"),
                }));
            }
        }
        self.resp = Some(resp);
        Ok(())
    }

    /// Spend one resume, or give up with the reason.
    fn resume_or_fail(&mut self, why: String) -> io::Result<()> {
        self.resp = None;
        let c = &self.client.inner;
        let policy = *c.transport.policy();
        if self.resumes_left == 0 {
            return Err(io::Error::other(RegistryError::Transport {
                target: self.target.clone(),
                why: format!("download broke off at byte {}: {why}", self.offset),
                attempts: policy.retries + 1,
            }));
        }
        self.resumes_left -= 1;
        c.counters.resumes.fetch_add(1, Ordering::Relaxed);
        c.counters.retries.fetch_add(1, Ordering::Relaxed);
        let attempt = policy.retries - self.resumes_left;
        c.transport.pause(
            &self.target,
            attempt,
            policy.backoff(attempt),
            &format!(
                "download broke off at byte {}: {why}; resuming",
                self.offset
            ),
        );
        self.reopen()
    }
}

impl Read for BlobReader {
    fn read(&mut self, buf: &mut [u8]) -> io::Result<usize> {
        if buf.is_empty() {
            return Ok(0);
        }
        loop {
            let Some(resp) = self.resp.as_mut() else {
                self.reopen()?;
                continue;
            };
            match resp.read(buf) {
                Ok(0) => {
                    if let Some(size) = self.size
                        && self.offset < size
                    {
                        self.resume_or_fail(format!(
                            "connection closed after {} of {size} bytes",
                            self.offset
                        ))?;
                        continue;
                    }
                    if let Some(p) = self.progress.as_mut() {
                        p.finish();
                    }
                    return Ok(0);
                }
                Ok(n) => {
                    self.offset += n as u64;
                    if let Some(size) = self.size
                        && self.offset > size
                    {
                        return Err(io::Error::other(RegistryError::Protocol {
                            target: self.target.clone(),
                            why: format!("blob is longer than the {size} bytes the manifest says"),
                        }));
                    }
                    self.client
                        .inner
                        .counters
                        .blob_bytes
                        .fetch_add(n as u64, Ordering::Relaxed);
                    if let Some(p) = self.progress.as_mut() {
                        p.advance(n as u64);
                    }
                    return Ok(n);
                }
                Err(e) if e.kind() == io::ErrorKind::Interrupted => {}
                Err(e) => {
                    let f = Failure::of_read(&e);
                    if !f.kind.is_retryable() {
                        return Err(e);
                    }
                    self.resume_or_fail(f.reason)?;
                }
            }
        }
    }
}

/// The largest page asked of a listing: the distribution registry's default limit.
pub const MAX_PAGE: usize = 1000;

/// The target of a `Link: <URL>; rel="next"` header (RFC 8288), as a path on the registry or
/// an absolute URL.
fn next_link(header: &str) -> Option<String> {
    header.split(',').find_map(|part| {
        let (url, params) = part.trim().split_once(';')?;
        let url = url.trim().strip_prefix('<')?.strip_suffix('>')?;
        let next = params.split(';').any(|p| {
            let p = p.trim().replace(' ', "");
            p == "rel=\"next\"" || p == "rel=next"
        });
        (next && !url.is_empty()).then(|| url.to_owned())
    })
}

/// The names of a listing page: `{"repositories": [...]}` or `{"name": …, "tags": [...]}`
/// (`null` for a repository without tags).
fn listed_names(bytes: &[u8], field: &str) -> Result<Vec<String>, String> {
    let v: serde_json::Value =
        serde_json::from_slice(bytes).map_err(|e| format!("not JSON: {e}"))?;
    match v.get(field) {
        None | Some(serde_json::Value::Null) => Ok(Vec::new()),
        Some(serde_json::Value::Array(a)) => a
            .iter()
            .map(|n| {
                n.as_str()
                    .map(str::to_owned)
                    .ok_or_else(|| format!("`{field}` holds {n}, not a name"))
            })
            .collect(),
        Some(other) => Err(format!("`{field}` is {other}, not a list")),
    }
}

/// `sha256:` and 64 lowercase hex digits.
fn is_sha256_digest(d: &str) -> bool {
    d.strip_prefix("sha256:")
        .is_some_and(|h| h.len() == 64 && h.bytes().all(|b| matches!(b, b'0'..=b'9' | b'a'..=b'f')))
}

/// `s` escaped for a query string: everything but unreserved characters and `/`. (Names in a
/// registry's listing are plain by the distribution grammar; a registry that sends others is
/// still asked correctly.)
fn query_escape(s: &str) -> String {
    let mut out = String::with_capacity(s.len());
    for b in s.bytes() {
        if b.is_ascii_alphanumeric() || b"-._~/".contains(&b) {
            out.push(char::from(b));
        } else {
            out.push_str(&format!("%{b:02X}"));
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_next_link_is_found_among_others() {
        assert_eq!(
            next_link(r#"</v2/_catalog?last=b&n=2>; rel="next""#).as_deref(),
            Some("/v2/_catalog?last=b&n=2")
        );
        assert_eq!(
            next_link(r#"<https://r.lan/a>; rel="prev", <https://r.lan/b?n=1>; rel=next"#)
                .as_deref(),
            Some("https://r.lan/b?n=1")
        );
        assert_eq!(next_link(r#"</x>; rel="prev""#), None);
        assert_eq!(next_link("garbage"), None);
        assert_eq!(next_link(r#"<>; rel="next""#), None);
    }

    #[test]
    fn listing_pages_are_read_strictly() {
        assert_eq!(
            listed_names(br#"{"repositories":["a","b/c"]}"#, "repositories").unwrap(),
            ["a", "b/c"]
        );
        // A repository without tags lists `null`.
        assert!(
            listed_names(br#"{"name":"a","tags":null}"#, "tags")
                .unwrap()
                .is_empty()
        );
        assert!(listed_names(br#"{"tags":[1]}"#, "tags").is_err());
        assert!(listed_names(br#"{"tags":"a"}"#, "tags").is_err());
        assert!(listed_names(b"<html>", "tags").is_err());
    }

    #[test]
    fn names_are_escaped_for_the_query() {
        assert_eq!(query_escape("team/app-1.2_x~"), "team/app-1.2_x~");
        assert_eq!(query_escape("a b&c=d"), "a%20b%26c%3Dd");
    }
}
