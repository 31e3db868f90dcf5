//! customs' use cases, as library functions with typed results. The `customs` command line
//! only parses arguments, calls these and renders what they return; the HTTP service calls the
//! same functions, so the two cannot drift.
//!
//! | use case | function | result |
//! |---|---|---|
//! | inventory an image (`sbom`) | [`scan::inventory`] | `Inventory` |
//! | inventory and match (`scan`) | [`scan::scan`] | [`ScanReport`] |
//! | why a finding is or is not there (`explain`) | [`explain::explain`] | [`explain::Explanation`] |
//! | keep a scan (`scan --store`) | [`record::record`] | [`record::Recorded`] |
//! | re-match stored images (`rematch`) | [`rematch::rematch`] | [`rematch::RematchReport`] |
//! | send what changed (`--notify`) | [`notify::Notifier::send`] | [`notify::Delivery`] |
//! | the lifecycle loop (`watch`) | [`watch::watch`] | [`watch::WatchEvent`]s |
//! | queue a scan, run queued jobs (`worker`, the server) | [`worker::enqueue_scan`], [`worker::Worker::run`] | [`worker::Outcome`]s |
//! | a stored image's findings over time (`history`) | [`images::history`] | [`images::History`] |
//! | two stored images compared (`diff`) | [`images::diff`] | [`images::Diff`] |
//! | a stored image as an SBOM (Harbor's SBOM report) | [`images::stored_sbom`] | the document |
//! | a registry's repositories, tags and digests (`audit`, its crawl) | [`audit::crawl`] | [`audit::Crawl`] |
//! | the database (`db build`, `db update`, first use) | [`database`] | `BuildReport`, `UpdateReport` |
//! | the database as a signed OCI artifact (`db push`, `db pull`) | [`publish::push`], [`publish::pull`] | [`publish::PushReport`], [`publish::PullReport`] |
//! | the cache (`cache info`, `cache prune`) | [`CacheDir`] | [`cache::CacheInfo`], [`cache::PruneReport`] |
//! | what this customs is (`version`) | [`about::about`] | [`about::About`] |
//!
//! Stored images are named the ways `customs images` prints them ([`images::resolve`]).
//! [`paths`] says where customs keeps its files when not told; [`cache`] owns the cache
//! directory's layout.
#![forbid(unsafe_code)]
#![warn(missing_docs)]

pub mod about;
pub mod audit;
pub mod cache;
pub mod database;
mod error;
pub mod explain;
pub mod gate;
pub mod images;
pub mod keyless;
pub mod notify;
pub mod paths;
pub mod publish;
pub mod record;
pub mod rematch;
pub mod report;
pub mod scan;
pub mod signatures;
pub mod watch;
pub mod worker;

pub use cache::CacheDir;
pub use error::{AppError, Result};
pub use report::{Filter, SCAN_SCHEMA, ScanReport, View};
