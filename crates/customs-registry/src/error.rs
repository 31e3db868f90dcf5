/// Why a registry operation failed. Every variant names what was being fetched; none carries
/// a password or token (credentials are never formatted into messages).
///
/// A `target` field names the request as every message spells it: `REGISTRY/REPO manifest REF`,
/// `REGISTRY/REPO blob DIGEST`, `HOST/v2/` for the ping, `token server REALM` for a token
/// request.
#[derive(Debug, Clone, thiserror::Error)]
pub enum RegistryError {
    /// The input is not an image reference docker would accept (see [`Reference::parse`]).
    ///
    /// [`Reference::parse`]: crate::Reference::parse
    #[error("invalid image reference {input:?}: {why}")]
    BadReference {
        /// The reference as given.
        input: String,
        /// Which rule it breaks.
        why: String,
    },
    /// HTTP 401 from the registry or 401/403 from its token server, after one fresh token was
    /// tried: no credentials where they are needed, or credentials refused.
    #[error("{target}: unauthorized (HTTP 401): {why}")]
    Unauthorized {
        /// The request refused (see [`RegistryError`]).
        target: String,
        /// Whose credentials were refused (the user name, never the secret), or how to give
        /// some, followed by the registry's error body.
        why: String,
    },
    /// HTTP 403: authenticated, but not allowed to pull this repository.
    #[error("{target}: access denied (HTTP 403): {why}")]
    Denied {
        /// The request refused (see [`RegistryError`]).
        target: String,
        /// The registry's error body as one line (`CODE: message; …`), or the status reason.
        why: String,
    },
    /// HTTP 404: no such repository, tag, manifest or blob. Registries also answer 404 for a
    /// private repository the credentials cannot see.
    #[error("{target}: not found (HTTP 404): {why}")]
    NotFound {
        /// The request (see [`RegistryError`]).
        target: String,
        /// The registry's error body as one line (`CODE: message; …`), or the status reason.
        why: String,
    },
    /// Any other unsuccessful HTTP status, once retries (for 429, 502, 503, 504) are spent.
    #[error("{target}: HTTP {status}: {why}")]
    Status {
        /// The request (see [`RegistryError`]).
        target: String,
        /// The HTTP status code of the last answer.
        status: u16,
        /// The registry's error body as one line (`CODE: message; …`), or the status reason.
        why: String,
    },
    /// No usable answer: the host does not resolve, the connection or TLS handshake failed,
    /// the proxy refused, a read timed out or a download broke off once resumes were spent.
    #[error("{target}: {why}{}", gave_up(*.attempts))]
    Transport {
        /// The request (see [`RegistryError`]).
        target: String,
        /// The failure, with a hint (`--ca-cert`, `--insecure-registry`) when one applies.
        why: String,
        /// How many times the request was sent, retries included; the message mentions it
        /// only when above 1.
        attempts: u32,
    },
    /// The registry answered, but not as the distribution protocol says: a 401 without a
    /// usable challenge, a malformed token response, a manifest over [`MAX_MANIFEST`], a blob
    /// longer than its manifest says or a resumed range that does not fit.
    ///
    /// [`MAX_MANIFEST`]: crate::MAX_MANIFEST
    #[error("{target}: {why}")]
    Protocol {
        /// The request, or the registry host (see [`RegistryError`]).
        target: String,
        /// What was wrong with the answer.
        why: String,
    },
    /// docker's configured credentials could not be read: a credential helper failed or is
    /// missing, or an `auth` entry does not decode. (No credential configured is not an
    /// error: the registry is asked anonymously.)
    #[error("credentials for {registry}: {why}")]
    Credentials {
        /// The key the credential is stored under (`https://index.docker.io/v1/` for Docker
        /// Hub, else `host[:port]`).
        registry: String,
        /// What failed; never the helper's output, which may hold the secret.
        why: String,
    },
    /// A connection setting is unusable: a `--ca-cert` file that cannot be read or holds no
    /// certificate, a proxy URL that does not parse or is not `http://` or `https://`.
    #[error("{path}: {why}")]
    Config {
        /// The setting at fault: a `--ca-cert` path, or `proxy URL` with any password left
        /// out.
        path: String,
        /// What is wrong with it.
        why: String,
    },
}

fn gave_up(attempts: u32) -> String {
    if attempts > 1 {
        format!(" (gave up after {attempts} attempts)")
    } else {
        String::new()
    }
}
