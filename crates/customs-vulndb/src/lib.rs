//! Advisory feeds and the vulnerability database (being written).
#![forbid(unsafe_code)]

pub mod feeds;
mod db;
mod model;

pub use db::{AdvisoryHead, DbError, DbInfo, DbWriter, Epss, Hit, Kev, SourceInfo, VulnDb, DB_SCHEMA_VERSION};
pub use feeds::FeedError;
pub use model::{Advisory, Affected, Cvss, Enrichment, Event, Feed, Range, Severity, Status};
