//! The store's error type.

/// Why a store operation failed.
#[derive(Debug, thiserror::Error)]
pub enum StoreError {
    /// `open` was given something that is neither a SQLite path nor a PostgreSQL URL.
    #[error(
        "unsupported store URL `{url}`: expected `sqlite:PATH`, a file path, or `postgres://…`"
    )]
    UnsupportedUrl {
        /// The URL as given.
        url: String,
    },
    /// A SQLite call failed.
    #[error("SQLite store `{path}`")]
    Sqlite {
        /// The database file.
        path: String,
        /// What SQLite said.
        #[source]
        source: rusqlite::Error,
    },
    /// A PostgreSQL call failed.
    #[error("PostgreSQL store")]
    Postgres {
        /// What the server or the client said.
        #[source]
        source: postgres::Error,
    },
    /// The PostgreSQL connection settings cannot be used: an unknown `sslmode`, a CA file that
    /// cannot be read. The message never holds the URL (it may hold a password).
    #[error("PostgreSQL store: {problem}")]
    PostgresSettings {
        /// What is wrong, naming the parameter or file.
        problem: String,
    },
    /// Connecting to PostgreSQL failed in TLS: the server's certificate is not trusted or does
    /// not name the host, the server does not offer TLS, or the handshake failed.
    #[error("PostgreSQL store: {reason}")]
    PostgresTls {
        /// The failure in words.
        reason: String,
        /// rust-postgres' error, with rustls' below it.
        #[source]
        source: postgres::Error,
    },
    /// The store was migrated by a newer customs.
    #[error(
        "the store's schema is version {found}, newer than version {supported} that this customs \
         knows; upgrade customs (or use another store)"
    )]
    SchemaTooNew {
        /// Highest version in `schema_migrations`.
        found: i64,
        /// [`SCHEMA_VERSION`](crate::SCHEMA_VERSION).
        supported: i64,
    },
    /// A [`ScanRecord`](crate::ScanRecord) that cannot be stored.
    #[error("cannot store the scan of `{digest}`: {reason}")]
    InvalidRecord {
        /// The record's digest.
        digest: String,
        /// What is wrong with it.
        reason: String,
    },
    /// A rematch for a digest that is not stored.
    #[error("no stored image has digest `{digest}`")]
    UnknownImage {
        /// The digest asked for.
        digest: String,
    },
    /// A job change by a worker whose lease has ended (the job was taken by another worker,
    /// or released): nothing was changed.
    #[error("job {id} is no longer held by worker {worker}: its lease ended")]
    LeaseLost {
        /// The job.
        id: i64,
        /// The worker whose lease it was.
        worker: String,
    },
    /// A token name that is already used.
    #[error("a token named {name:?} exists already")]
    TokenNameTaken {
        /// The name.
        name: String,
    },
    /// `mark_delivered` / `mark_failed` with an id that is not in the outbox.
    #[error("no outbox entry has id {id}")]
    UnknownOutboxEntry {
        /// The id asked for.
        id: i64,
    },
    /// A stored value that does not parse (JSON, timestamp, reason).
    #[error("stored {what} is not valid: {detail}")]
    Corrupt {
        /// Which column.
        what: &'static str,
        /// The parse error.
        detail: String,
    },
    /// [`Store::check`](crate::Store::check) found problems.
    #[error("store integrity check failed: {}", problems.join("; "))]
    Integrity {
        /// One line per problem.
        problems: Vec<String>,
    },
}

impl StoreError {
    /// Whether this is SQLite's "database is busy/locked", worth retrying.
    pub(crate) fn is_busy(&self) -> bool {
        matches!(
            self,
            Self::Sqlite { source: rusqlite::Error::SqliteFailure(e, _), .. }
                if matches!(e.code, rusqlite::ErrorCode::DatabaseBusy | rusqlite::ErrorCode::DatabaseLocked)
        )
    }
}

pub(crate) fn json(text: &str, what: &'static str) -> Result<serde_json::Value, StoreError> {
    serde_json::from_str(text).map_err(|e| StoreError::Corrupt {
        what,
        detail: e.to_string(),
    })
}

pub(crate) fn reason(text: &str) -> Result<crate::ResolvedReason, StoreError> {
    text.parse()
        .map_err(|e: crate::model::UnknownReason| StoreError::Corrupt {
            what: "findings.resolved_reason",
            detail: e.to_string(),
        })
}
