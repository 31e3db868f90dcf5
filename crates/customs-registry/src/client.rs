//! The distribution protocol over HTTP: the `/v2/` ping that tells the scheme and the auth
//! method, manifests with the right `Accept` list, blobs as resumable streams, and one retry
//! loop that every request goes through.
//!
//! Written on `reqwest` rather than `oci-client` because customs needs to own the retry and
//! resume policy, count requests, and keep the scheme and TLS choices explicit.

use std::collections::HashMap;
use std::io::{self, Read};
use std::path::PathBuf;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Mutex, OnceLock};
use std::time::{Duration, Instant};

use reqwest::StatusCode;
use reqwest::blocking::{Client as Http, RequestBuilder, Response};

use crate::auth::{self, Challenge, Credential, Secret};
use crate::{Reference, RegistryError};

/// Manifest media types customs reads, most specific first.
pub const MANIFEST_ACCEPT: &str = "application/vnd.oci.image.manifest.v1+json, \
     application/vnd.oci.image.index.v1+json, \
     application/vnd.docker.distribution.manifest.v2+json, \
     application/vnd.docker.distribution.manifest.list.v2+json";
/// The distribution registry refuses manifests over 4 MiB; so do we.
pub const MAX_MANIFEST: u64 = 4 << 20;
const MAX_ERROR_BODY: u64 = 64 << 10;
const MAX_TOKEN_BODY: u64 = 1 << 20;
const PING_TIMEOUT: Duration = Duration::from_secs(15);
/// A token is renewed this long before the server says it expires.
const TOKEN_MARGIN: Duration = Duration::from_secs(5);

/// How a [`Client`] connects and authenticates.
#[derive(Clone)]
pub struct ClientOptions {
    /// Registries (`host[:port]`) that may be reached over plain HTTP or TLS without
    /// verification. Loopback registries may use plain HTTP without being named, as with docker.
    pub insecure_registries: Vec<String>,
    /// Extra PEM CA certificates to trust, besides the system's.
    pub ca_certs: Vec<PathBuf>,
    /// Used for every registry this client talks to (`--username/--password-stdin`).
    pub credential: Option<Credential>,
    /// Fall back to `~/.docker/config.json` and its credential helpers.
    pub docker_config: bool,
    /// Retries per request on resets, timeouts, 429 and 5xx; also resumes per blob.
    pub retries: u32,
    pub backoff_base: Duration,
    pub backoff_max: Duration,
    pub connect_timeout: Duration,
    /// The longest a request or a single read may wait for the server.
    pub idle_timeout: Duration,
    pub observer: Option<Arc<dyn Observer>>,
}

impl Default for ClientOptions {
    fn default() -> Self {
        Self {
            insecure_registries: Vec::new(),
            ca_certs: Vec::new(),
            credential: None,
            docker_config: true,
            retries: 5,
            backoff_base: Duration::from_millis(200),
            backoff_max: Duration::from_secs(10),
            connect_timeout: Duration::from_secs(10),
            idle_timeout: Duration::from_secs(60),
            observer: None,
        }
    }
}

impl std::fmt::Debug for ClientOptions {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("ClientOptions")
            .field("insecure_registries", &self.insecure_registries)
            .field("ca_certs", &self.ca_certs)
            .field("credential", &self.credential)
            .field("retries", &self.retries)
            .finish_non_exhaustive()
    }
}

/// Told about retries and blob downloads, for `--verbose` output and progress bars.
pub trait Observer: Send + Sync {
    /// A request failed in a way worth retrying; it is retried after `delay`.
    fn retrying(&self, _target: &str, _attempt: u32, _delay: Duration, _why: &str) {}
    /// A blob download starts; the returned handle sees its bytes.
    fn blob(&self, _digest: &str, _size: Option<u64>) -> Option<Box<dyn BlobProgress>> {
        None
    }
}

pub trait BlobProgress: Send {
    fn advance(&mut self, bytes: u64);
    fn finish(&mut self);
}

/// What a client did, for `--verbose` and for tests.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct Stats {
    pub requests: u64,
    pub retries: u64,
    pub resumes: u64,
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
    verified: OnceLock<Result<Http, String>>,
    unverified: OnceLock<Result<Http, String>>,
    ca: Vec<reqwest::Certificate>,
    hosts: Mutex<HashMap<String, Arc<Host>>>,
    tokens: Mutex<HashMap<(String, String), (Secret, Instant)>>,
    creds: Mutex<HashMap<String, Option<Credential>>>,
    counters: Counters,
}

/// A manifest as the registry sent it.
#[derive(Debug, Clone)]
pub struct FetchedManifest {
    pub bytes: Vec<u8>,
    pub media_type: Option<String>,
    /// The `Docker-Content-Digest` header, when sent.
    pub digest_header: Option<String>,
}

impl std::fmt::Debug for Client {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Client")
            .field("options", &self.inner.opts)
            .finish_non_exhaustive()
    }
}

impl Client {
    pub fn new(opts: ClientOptions) -> Result<Self, RegistryError> {
        let mut ca = Vec::new();
        for path in &opts.ca_certs {
            let pem = std::fs::read(path).map_err(|e| RegistryError::Config {
                path: path.display().to_string(),
                why: e.to_string(),
            })?;
            let certs =
                reqwest::Certificate::from_pem_bundle(&pem).map_err(|e| RegistryError::Config {
                    path: path.display().to_string(),
                    why: format!("not a PEM certificate bundle: {e}"),
                })?;
            if certs.is_empty() {
                return Err(RegistryError::Config {
                    path: path.display().to_string(),
                    why: "holds no PEM certificate".to_owned(),
                });
            }
            ca.extend(certs);
        }
        Ok(Self {
            inner: Arc::new(Inner {
                opts,
                verified: OnceLock::new(),
                unverified: OnceLock::new(),
                ca,
                hosts: Mutex::new(HashMap::new()),
                tokens: Mutex::new(HashMap::new()),
                creds: Mutex::new(HashMap::new()),
                counters: Counters::default(),
            }),
        })
    }

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
        let resp = self.get(image, &path, Some(MANIFEST_ACCEPT), None, &target)?;
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
            resumes_left: self.inner.opts.retries,
            progress,
        })
    }

    fn http(&self, unverified: bool) -> Result<&Http, RegistryError> {
        let cell = if unverified {
            &self.inner.unverified
        } else {
            &self.inner.verified
        };
        cell.get_or_init(|| {
            let o = &self.inner.opts;
            let mut b = Http::builder()
                .user_agent(concat!("customs/", env!("CARGO_PKG_VERSION")))
                .connect_timeout(o.connect_timeout)
                .timeout(o.idle_timeout)
                // Blobs are hashed byte for byte: never let the client decompress them.
                .no_gzip()
                .tls_certs_merge(self.inner.ca.iter().cloned());
            if unverified {
                b = b
                    .tls_danger_accept_invalid_certs(true)
                    .tls_danger_accept_invalid_hostnames(true);
            }
            b.build().map_err(|e| chain(&e))
        })
        .as_ref()
        .map_err(|why| RegistryError::Protocol {
            target: "HTTP client".to_owned(),
            why: why.clone(),
        })
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
        let api = image.api_host();
        let insecure = self
            .inner
            .opts
            .insecure_registries
            .iter()
            .any(|i| i == &image.registry || i == api);
        let mut candidates = vec![(format!("https://{api}"), insecure)];
        if insecure || image.is_loopback() {
            candidates.push((format!("http://{api}"), false));
        }
        let target = format!("{api}/v2/");
        let mut attempt = 0;
        loop {
            let mut first_error: Option<(String, bool)> = None;
            let mut transient = false;
            for (base, unverified) in &candidates {
                self.inner.counters.requests.fetch_add(1, Ordering::Relaxed);
                // A server that swallows a TLS hello without answering must not cost a full
                // idle timeout before plain HTTP is tried.
                let sent = self
                    .http(*unverified)?
                    .get(format!("{base}/v2/"))
                    .timeout(self.inner.opts.idle_timeout.min(PING_TIMEOUT))
                    .send();
                let resp = match sent {
                    Ok(r) => r,
                    Err(e) => {
                        let t = is_transient(&e);
                        transient |= t;
                        first_error.get_or_insert((chain(&e), is_cert_error(&e)));
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
                    429 | 500 | 502 | 503 | 504 => {
                        transient = true;
                        first_error.get_or_insert((format!("HTTP {status}"), false));
                        continue;
                    }
                    // A plain-HTTP request to a TLS port, or a web server that is not a registry.
                    _ => {
                        first_error.get_or_insert((
                            format!("{base}/v2/ answered HTTP {status}: not a registry API"),
                            false,
                        ));
                        continue;
                    }
                };
                return Ok(Host {
                    base: base.clone(),
                    unverified: *unverified,
                    auth,
                });
            }
            let (why, cert) = first_error.unwrap_or_default();
            if transient && attempt < self.inner.opts.retries {
                attempt += 1;
                self.wait_before_retry(&target, attempt, None, &why);
                continue;
            }
            let hint = if cert {
                "; trust its CA with --ca-cert FILE, or name it with --insecure-registry"
            } else if !insecure && !image.is_loopback() {
                "; a registry without TLS must be named with --insecure-registry"
            } else {
                ""
            };
            return Err(RegistryError::Transport {
                target,
                why: format!("{why}{hint}"),
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
        let cred = self.credential(image)?;
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
                    Some(Credential::Basic { username, .. }) => {
                        format!("the token server rejected the credentials of user {username:?}")
                    }
                    Some(Credential::IdentityToken(_)) => {
                        "the token server rejected the identity token".to_owned()
                    }
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
        let host = self.host(image)?;
        let http = self.http(host.unverified)?;
        let url = format!("{}{path}", host.base);
        let scope = format!("repository:{}:pull", image.repository);
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
                let mut rb: RequestBuilder = http.get(&url);
                if let Some(a) = accept {
                    rb = rb.header("accept", a);
                }
                if let Some(from) = range_from {
                    rb = rb.header("range", format!("bytes={from}-"));
                }
                if let Some(a) = &authz {
                    rb = rb.header("authorization", a);
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
                        Some(Credential::Basic { username, .. }) => {
                            format!(
                                "the registry rejected the credentials of user {username:?} ({detail})"
                            )
                        }
                        Some(Credential::IdentityToken(_)) => {
                            format!("the registry rejected the identity token ({detail})")
                        }
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

    /// Send, retrying transport failures and 429/5xx with exponential backoff and jitter
    /// (honouring `Retry-After`). Returns the last response when retries run out on a status.
    fn execute(
        &self,
        target: &str,
        send: &dyn Fn() -> reqwest::Result<Response>,
    ) -> Result<Response, RegistryError> {
        let mut attempt = 0;
        loop {
            self.inner.counters.requests.fetch_add(1, Ordering::Relaxed);
            let (why, retry_after) = match send() {
                Ok(resp) => {
                    let s = resp.status().as_u16();
                    if !matches!(s, 429 | 500 | 502 | 503 | 504)
                        || attempt >= self.inner.opts.retries
                    {
                        return Ok(resp);
                    }
                    (format!("HTTP {}", resp.status()), retry_after(&resp))
                }
                Err(e) => {
                    if !is_transient(&e) || attempt >= self.inner.opts.retries {
                        return Err(RegistryError::Transport {
                            target: target.to_owned(),
                            why: chain(&e),
                            attempts: attempt + 1,
                        });
                    }
                    (chain(&e), None)
                }
            };
            attempt += 1;
            self.wait_before_retry(target, attempt, retry_after, &why);
        }
    }

    fn wait_before_retry(&self, target: &str, attempt: u32, fixed: Option<Duration>, why: &str) {
        self.inner.counters.retries.fetch_add(1, Ordering::Relaxed);
        let delay = fixed.unwrap_or_else(|| self.backoff(attempt));
        if let Some(o) = &self.inner.opts.observer {
            o.retrying(target, attempt, delay, why);
        }
        std::thread::sleep(delay);
    }

    /// Exponential backoff with jitter: base·2^(n-1), capped, scaled by a random 50–100%.
    fn backoff(&self, attempt: u32) -> Duration {
        let o = &self.inner.opts;
        let exp = o
            .backoff_base
            .saturating_mul(1u32 << attempt.saturating_sub(1).min(16));
        exp.min(o.backoff_max).mul_f64(0.5 + fastrand::f64() * 0.5)
    }
}

fn too_large(target: &str) -> RegistryError {
    RegistryError::Protocol {
        target: target.to_owned(),
        why: format!("manifest larger than the {MAX_MANIFEST}-byte limit"),
    }
}

/// `Retry-After` in seconds (HTTP dates are rare from registries; they fall back to backoff),
/// capped so a hostile server cannot park us for hours.
fn retry_after(resp: &Response) -> Option<Duration> {
    let secs: u64 = resp
        .headers()
        .get("retry-after")?
        .to_str()
        .ok()?
        .trim()
        .parse()
        .ok()?;
    Some(Duration::from_secs(secs.min(60)))
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

/// An error and its causes on one line (reqwest's own message alone says only "error sending
/// request").
fn chain(e: &(dyn std::error::Error + 'static)) -> String {
    let mut parts: Vec<String> = vec![e.to_string()];
    let mut cur = e.source();
    while let Some(s) = cur {
        let m = s.to_string();
        if !parts.iter().any(|p| p.contains(&m)) {
            parts.push(m);
        }
        cur = s.source();
    }
    parts.join(": ")
}

fn is_cert_error(e: &reqwest::Error) -> bool {
    let text = chain(e).to_ascii_lowercase();
    text.contains("certificate") || text.contains("unknownissuer")
}

/// Worth retrying: connection refused or reset, timeouts, a body cut short. Not: TLS that
/// will fail the same way again, or a malformed URL.
fn is_transient(e: &reqwest::Error) -> bool {
    if e.is_builder() || e.is_redirect() || is_cert_error(e) {
        return false;
    }
    let text = chain(e).to_ascii_lowercase();
    if text.contains("corrupt message") || text.contains("invalidcontenttype") {
        return false;
    }
    e.is_timeout() || e.is_connect() || e.is_request() || e.is_body()
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
        if self.resumes_left == 0 {
            return Err(io::Error::other(RegistryError::Transport {
                target: self.target.clone(),
                why: format!("download broke off at byte {}: {why}", self.offset),
                attempts: self.client.inner.opts.retries + 1,
            }));
        }
        self.resumes_left -= 1;
        let c = &self.client.inner;
        c.counters.resumes.fetch_add(1, Ordering::Relaxed);
        let attempt = c.opts.retries - self.resumes_left;
        self.client.wait_before_retry(
            &self.target,
            attempt,
            None,
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
                Err(e) => self.resume_or_fail(e.to_string())?,
            }
        }
    }
}
