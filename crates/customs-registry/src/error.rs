/// Why a registry operation failed. Every variant names what was being fetched; none carries
/// a password or token (credentials are never formatted into messages).
#[derive(Debug, Clone, thiserror::Error)]
pub enum RegistryError {
    #[error("invalid image reference {input:?}: {why}")]
    BadReference { input: String, why: String },
    #[error("{target}: unauthorized (HTTP 401): {why}")]
    Unauthorized { target: String, why: String },
    #[error("{target}: access denied (HTTP 403): {why}")]
    Denied { target: String, why: String },
    #[error("{target}: not found (HTTP 404): {why}")]
    NotFound { target: String, why: String },
    #[error("{target}: HTTP {status}: {why}")]
    Status {
        target: String,
        status: u16,
        why: String,
    },
    #[error("{target}: {why}{}", gave_up(*.attempts))]
    Transport {
        target: String,
        why: String,
        attempts: u32,
    },
    #[error("{target}: {why}")]
    Protocol { target: String, why: String },
    #[error("credentials for {registry}: {why}")]
    Credentials { registry: String, why: String },
    #[error("{path}: {why}")]
    Config { path: String, why: String },
}

fn gave_up(attempts: u32) -> String {
    if attempts > 1 {
        format!(" (gave up after {attempts} attempts)")
    } else {
        String::new()
    }
}
