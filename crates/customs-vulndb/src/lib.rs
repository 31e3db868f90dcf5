//! Advisory feeds and the vulnerability database (being written).
#![forbid(unsafe_code)]

pub mod feeds;
mod model;

pub use feeds::FeedError;
pub use model::{Advisory, Affected, Cvss, Enrichment, Event, Feed, Range, Severity, Status};
