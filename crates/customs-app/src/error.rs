//! Why a use case failed.

use std::path::PathBuf;

/// Why a use case could not give its result. Problems inside an image are not errors: they are
/// warnings in the report.
#[derive(Debug, thiserror::Error)]
pub enum AppError {
    /// The image could not be opened or read.
    #[error(transparent)]
    Image(#[from] customs_image::ImageError),
    /// The image could not be catalogued.
    #[error("cataloguing {source_ref}")]
    Catalog {
        /// The source as the user named it.
        source_ref: String,
        /// What went wrong.
        #[source]
        source: customs_catalog::CatalogError,
    },
    /// An SBOM given as the source that cannot be read.
    #[error(transparent)]
    Sbom(#[from] customs_report::sbom::SbomError),
    /// An HTTP request failed (after its retries), or the transport could not be set up.
    #[error(transparent)]
    Http(#[from] customs_http::HttpError),
    /// The registry client could not be set up.
    #[error(transparent)]
    Registry(#[from] customs_registry::RegistryError),
    /// The vulnerability database failed.
    #[error(transparent)]
    Db(#[from] customs_vulndb::DbError),
    /// Fetching the feeds failed.
    #[error(transparent)]
    Update(#[from] customs_vulndb::UpdateError),
    /// Matching failed.
    #[error(transparent)]
    Match(#[from] customs_match::MatchError),
    /// The scan store failed.
    #[error(transparent)]
    Store(#[from] customs_store::StoreError),
    /// A file or directory of customs' own could not be read or written.
    #[error("{}", path.display())]
    Io {
        /// The path.
        path: PathBuf,
        /// What the system said.
        #[source]
        source: std::io::Error,
    },
    /// `--db FILE` names no database.
    #[error(
        "{}: no vulnerability database there; build one with `customs db build --out {} FEEDS...`, \
         fetch one with `customs db update --db {}`, or drop --db to use the built-in snapshot",
        .0.display(), .0.display(), .0.display()
    )]
    NoDatabase(PathBuf),
    /// The database holds no advisory: matched against it, every stored finding would look
    /// fixed.
    #[error(
        "{}: the vulnerability database holds no advisories; nothing was re-matched and the \
         stored findings are as they were (run `customs db update`)",
        .0.display()
    )]
    EmptyDatabase(PathBuf),
    /// Neither `HOME` nor the XDG variables say where customs keeps its files.
    #[error("no home directory: {0}")]
    NoHome(&'static str),
    /// A stored image named by the user is not in the store.
    #[error("{0}: no such image in the store (see `customs images`)")]
    UnknownImage(String),
    /// A reference names several stored images.
    #[error("{reference}: names {} stored images ({}); give more of the digest", .candidates.len(), .candidates.join(", "))]
    AmbiguousImage {
        /// What the user gave.
        reference: String,
        /// The digests it could mean.
        candidates: Vec<String>,
    },
    /// A stored inventory does not read back as an inventory.
    #[error("{digest}: the stored inventory does not read back")]
    StoredInventory {
        /// The image.
        digest: String,
        /// Why.
        #[source]
        source: serde_json::Error,
    },
    /// A document could not be written.
    #[error(transparent)]
    Render(#[from] customs_report::RenderError),
    /// A value the user gave is not valid.
    #[error("{what}: {why}")]
    Invalid {
        /// Which option or argument.
        what: String,
        /// What is wrong with it.
        why: String,
    },
    /// `db pull` refused what the registry sent.
    #[error(transparent)]
    Pull(#[from] crate::publish::PullError),
    /// A key could not be read.
    #[error(transparent)]
    Sign(#[from] customs_sign::SignError),
    /// A worker thread panicked.
    #[error("a {0} worker panicked")]
    WorkerPanicked(&'static str),
}

impl AppError {
    pub(crate) fn io(path: impl Into<PathBuf>) -> impl FnOnce(std::io::Error) -> Self {
        let path = path.into();
        move |source| Self::Io { path, source }
    }

    pub(crate) fn invalid(what: impl Into<String>, why: impl Into<String>) -> Self {
        Self::Invalid {
            what: what.into(),
            why: why.into(),
        }
    }
}

/// The result of a use case.
pub type Result<T, E = AppError> = std::result::Result<T, E>;
