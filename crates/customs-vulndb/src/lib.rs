//! Advisory feeds and the vulnerability database.
//!
//! Every upstream format is parsed into one model ([`Advisory`]: per namespace and package, a
//! fixed version, no fix, won't fix, not affected, or OSV ranges), and stored in one SQLite file
//! indexed by (namespace, package) so a scan queries only the packages it has ([`VulnDb`]).
//! [`build`] reads files or folders (format detected, or `KIND:PATH`); [`update`] fetches the
//! feeds over HTTP(S) first. CVE-keyed enrichment (NVD, KEV, EPSS) has its own tables.
#![forbid(unsafe_code)]
#![warn(missing_docs)]

mod build;
mod db;
mod feeds;
mod model;
mod nvd_api;
mod update;
mod vex_archive;

#[cfg(any(test, feature = "fuzzing"))]
#[doc(hidden)]
pub mod fuzz;

pub use build::{BuildReport, FeedKind, build, build_embedded, count_records, detect, parse_input};
pub use db::{
    AdvisoryHead, DB_SCHEMA_VERSION, DbDiff, DbError, DbInfo, DbMeta, DbWriter, Epss, Hit, Kev,
    NvdRecord, SourceInfo, VulnDb,
};
pub use feeds::FeedError;
pub use model::{
    Advisory, Affected, Cvss, Enrichment, Event, Feed, Namespace, Range, RangeKind, Severity,
    Status,
};
pub use nvd_api::NvdOptions;
pub use update::{
    FeedFailure, FeedSource, FeedStatus, FileStamp, UpdateError, UpdateOptions, UpdateReport,
    built_from, default_sources, feed_status, update,
};
