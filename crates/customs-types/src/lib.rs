//! The words every customs crate shares, defined once at the bottom of the crate graph.
//!
//! | type | what it names | spelled |
//! |---|---|---|
//! | [`Ecosystem`] | the package manager behind a package | `deb`, `apk`, `rpm`, `pypi`, `npm`, `cargo`, `golang` |
//! | [`Severity`] | how bad a finding is | `unknown` < `negligible` < `low` < `medium` < `high` < `critical` |
//! | [`Feed`] | the upstream data set an advisory came from | `debian-dsa`, `osv`, `rust-sec`, … |
//! | [`Namespace`] | where an advisory statement applies | `debian:12`, `osv:PyPI` |
//! | [`Digest`] | content addresses | `sha256:<64 hex>` |
//! | [`Timestamp`] | instants, UTC, microseconds | `2026-11-28T12:34:56.123456Z` |
//!
//! Each has `FromStr` and `Display` that agree with its serde form, so JSON, the database, the
//! store and the command line spell it the same way; the enums spell each variant once, in
//! their serde attributes. Nothing else in the workspace turns these into strings and back.
//!
//! ```
//! use customs_types::{Ecosystem, Namespace, Severity};
//!
//! let ns: Namespace = "osv:crates.io".parse()?;
//! assert_eq!(ns.ecosystem(), Some(Ecosystem::Cargo));
//! assert_eq!("cargo".parse::<Ecosystem>()?, Ecosystem::Cargo);
//! assert!(Severity::parse_lenient("Moderate")? < Severity::High);
//! # Ok::<(), Box<dyn std::error::Error>>(())
//! ```
#![forbid(unsafe_code)]
#![warn(missing_docs)]

mod digest;
mod ecosystem;
mod feed;
mod name;
mod namespace;
mod severity;
mod timestamp;

pub use digest::{Algorithm, Digest, DigestError, Hasher};
pub use ecosystem::{Ecosystem, pep503_name};
pub use feed::Feed;
pub use namespace::{Namespace, NamespaceError};
pub use severity::Severity;
pub use timestamp::{Timestamp, TimestampError};

/// A name that is none of a vocabulary type's names.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("unknown {what} {}: expected one of {}", excerpt(.given), .expected.join(", "))]
pub struct UnknownName {
    what: &'static str,
    given: String,
    expected: Vec<&'static str>,
}

impl UnknownName {
    fn new<const N: usize>(what: &'static str, given: &str, expected: [&'static str; N]) -> Self {
        Self {
            what,
            given: given.chars().take(80).collect(),
            expected: expected.to_vec(),
        }
    }
}

/// At most the first 60 characters of untrusted text, quoted, for an error message.
pub(crate) fn excerpt(s: &str) -> String {
    let mut out: String = s.chars().take(60).collect();
    if out.len() < s.len() {
        out.push('…');
    }
    format!("{out:?}")
}
