//! Advisory feeds and the vulnerability database (being written).
#![forbid(unsafe_code)]

mod build;
mod db;
pub mod feeds;
mod model;
mod update;

pub use build::{
    BuildReport, FeedKind, build, build_embedded, detect, now_rfc3339, parse_input, rfc3339,
};
pub use db::{
    AdvisoryHead, DB_SCHEMA_VERSION, DbError, DbInfo, DbWriter, Epss, Hit, Kev, NvdRecord,
    SourceInfo, VulnDb,
};
pub use feeds::FeedError;
pub use model::{Advisory, Affected, Cvss, Enrichment, Event, Feed, Range, Severity, Status};
pub use update::{FeedSource, UpdateError, UpdateReport, default_sources, update};
