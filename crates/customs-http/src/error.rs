//! What can go wrong, each variant naming what was being done. No variant carries a password:
//! URLs are shown without their user information and query (see [`redact_url`]).

use std::path::PathBuf;

use crate::retry::{Failure, FailureKind};

/// Why an HTTP operation failed.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum HttpError {
    /// An option that cannot be used: a CA file that is not PEM, a proxy URL.
    #[error("{what}: {why}")]
    Config {
        /// The file or setting at fault.
        what: String,
        /// What is wrong with it.
        why: String,
    },
    /// Not an absolute `http://` or `https://` URL.
    #[error("{url:?} is not an http:// or https:// URL")]
    BadUrl {
        /// The URL as given (redacted).
        url: String,
    },
    /// No usable answer: the name did not resolve, TLS was refused, the connection failed or
    /// timed out.
    #[error("{target}: {}{}", .failure.reason, gave_up(*.attempts))]
    Failed {
        /// What was being fetched or sent.
        target: String,
        /// The last attempt's failure.
        failure: Failure,
        /// Requests made, the first included.
        attempts: u32,
    },
    /// The server answered with a status other than success.
    #[error("{target}: HTTP {status}{}{}", detail_suffix(.detail), gave_up(*.attempts))]
    Status {
        /// What was being fetched or sent.
        target: String,
        /// The last answer's status.
        status: u16,
        /// A one-line excerpt of the answer's body, when it was text; else empty.
        detail: String,
        /// Requests made, the first included.
        attempts: u32,
    },
    /// The body is larger than the caller allows.
    #[error("{target}: larger than the {limit}-byte limit")]
    TooLarge {
        /// What was being fetched.
        target: String,
        /// The limit in bytes.
        limit: u64,
    },
    /// What the caller did with the body failed (writing it out, decompressing it); the
    /// network was not at fault, so this is not retried.
    #[error("{target}: {source}")]
    Body {
        /// What was being fetched.
        target: String,
        /// The caller's error.
        #[source]
        source: std::io::Error,
    },
    /// A local file could not be written.
    #[error("{}: {source}", .path.display())]
    Local {
        /// The file.
        path: PathBuf,
        /// Why.
        #[source]
        source: std::io::Error,
    },
}

impl HttpError {
    /// Requests made before giving up, for [`HttpError::Failed`] and [`HttpError::Status`]; 1
    /// for an answer whose body was refused ([`HttpError::TooLarge`], [`HttpError::Body`]:
    /// the one that counted); 0 when no request was made.
    pub fn attempts(&self) -> u32 {
        match self {
            Self::Failed { attempts, .. } | Self::Status { attempts, .. } => *attempts,
            Self::TooLarge { .. } | Self::Body { .. } => 1,
            Self::Config { .. } | Self::BadUrl { .. } | Self::Local { .. } => 0,
        }
    }

    /// The kind of network failure, for [`HttpError::Failed`].
    pub fn kind(&self) -> Option<FailureKind> {
        match self {
            Self::Failed { failure, .. } => Some(failure.kind),
            _ => None,
        }
    }

    /// The status of the last answer, for [`HttpError::Status`].
    pub fn status(&self) -> Option<u16> {
        match self {
            Self::Status { status, .. } => Some(*status),
            _ => None,
        }
    }
}

fn gave_up(attempts: u32) -> String {
    if attempts > 1 {
        format!(" (gave up after {attempts} attempts)")
    } else {
        String::new()
    }
}

fn detail_suffix(detail: &str) -> String {
    if detail.is_empty() {
        String::new()
    } else {
        format!(": {detail}")
    }
}

/// `url` as it may be shown: without user information, and with the query replaced by `?…`
/// (tokens travel there). Not a URL: returned as `<invalid URL>`.
pub fn redact_url(url: &str) -> String {
    match reqwest::Url::parse(url) {
        Ok(u) => redact(&u),
        Err(_) => "<invalid URL>".to_owned(),
    }
}

pub(crate) fn redact(url: &reqwest::Url) -> String {
    let mut u = url.clone();
    let _ = u.set_username("");
    let _ = u.set_password(None);
    let had_query = u.query().is_some();
    u.set_query(None);
    u.set_fragment(None);
    let mut s = u.to_string();
    if had_query {
        s.push_str("?…");
    }
    s
}
