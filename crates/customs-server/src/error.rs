//! What goes wrong in the service, and how each is answered over HTTP.

use axum::Json;
use axum::http::{HeaderValue, StatusCode, header};
use axum::response::{IntoResponse, Response};
use serde::Serialize;

/// An error of the service.
#[derive(Debug, thiserror::Error)]
pub enum ServerError {
    /// The store failed.
    #[error(transparent)]
    Store(#[from] customs_store::StoreError),
    /// A use case failed.
    #[error(transparent)]
    App(#[from] customs_app::AppError),
    /// A request or a setting that is not valid.
    #[error("{0}")]
    Invalid(String),
    /// Nothing by that name.
    #[error("{0}")]
    NotFound(String),
    /// No token, or one customs does not know.
    #[error("{0}")]
    Unauthorized(String),
    /// A token whose scope does not allow this.
    #[error("{0}")]
    Forbidden(String),
    /// Too many requests from one token.
    #[error("rate limit exceeded; retry in {retry_after} s")]
    RateLimited {
        /// Seconds until a request will be let through.
        retry_after: u64,
    },
    /// The service is stopping.
    #[error("the service is shutting down")]
    ShuttingDown,
    /// A file or socket.
    #[error("{what}: {source}")]
    Io {
        /// What was being done.
        what: String,
        /// Why it failed.
        source: std::io::Error,
    },
    /// A bug or a broken invariant.
    #[error("{0}")]
    Internal(String),
}

/// The body of every error answer.
#[derive(Debug, Serialize, utoipa::ToSchema)]
pub(crate) struct ErrorBody {
    /// What went wrong.
    pub(crate) error: ErrorDetail,
}

/// One error.
#[derive(Debug, Serialize, utoipa::ToSchema)]
pub(crate) struct ErrorDetail {
    /// A stable code: `invalid`, `not-found`, `unauthorized`, `forbidden`, `rate-limited`,
    /// `unavailable` or `internal`.
    pub(crate) code: String,
    /// For people.
    pub(crate) message: String,
}

impl ServerError {
    fn status(&self) -> (StatusCode, &'static str) {
        match self {
            Self::Invalid(_) => (StatusCode::BAD_REQUEST, "invalid"),
            Self::App(customs_app::AppError::Invalid { .. }) => {
                (StatusCode::BAD_REQUEST, "invalid")
            }
            Self::NotFound(_) | Self::App(customs_app::AppError::UnknownImage(_)) => {
                (StatusCode::NOT_FOUND, "not-found")
            }
            Self::App(customs_app::AppError::AmbiguousImage { .. }) => {
                (StatusCode::BAD_REQUEST, "invalid")
            }
            Self::Unauthorized(_) => (StatusCode::UNAUTHORIZED, "unauthorized"),
            Self::Forbidden(_) => (StatusCode::FORBIDDEN, "forbidden"),
            Self::RateLimited { .. } => (StatusCode::TOO_MANY_REQUESTS, "rate-limited"),
            Self::ShuttingDown => (StatusCode::SERVICE_UNAVAILABLE, "unavailable"),
            Self::App(
                customs_app::AppError::NoDatabase(_) | customs_app::AppError::EmptyDatabase(_),
            ) => (StatusCode::SERVICE_UNAVAILABLE, "unavailable"),
            _ => (StatusCode::INTERNAL_SERVER_ERROR, "internal"),
        }
    }
}

impl IntoResponse for ServerError {
    fn into_response(self) -> Response {
        let (status, code) = self.status();
        if status.is_server_error() {
            tracing::error!(error = %self, "request failed");
        }
        let body = ErrorBody {
            error: ErrorDetail {
                code: code.to_owned(),
                message: self.to_string(),
            },
        };
        let mut response = (status, Json(body)).into_response();
        match &self {
            Self::Unauthorized(_) => {
                response.headers_mut().insert(
                    header::WWW_AUTHENTICATE,
                    HeaderValue::from_static("Bearer realm=\"customs\""),
                );
            }
            Self::RateLimited { retry_after } => {
                if let Ok(v) = HeaderValue::from_str(&retry_after.to_string()) {
                    response.headers_mut().insert(header::RETRY_AFTER, v);
                }
            }
            _ => {}
        }
        response
    }
}
