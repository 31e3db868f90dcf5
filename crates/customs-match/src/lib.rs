//! Matching: an [`Inventory`](customs_catalog::Inventory) against a
//! [`VulnDb`](customs_vulndb::VulnDb) gives [`Finding`]s.
//!
//! - The namespace comes from the distro and release (`debian:12`, `ubuntu:22.04`,
//!   `alpine:3.10`, `rhel:9`), plus the OSV spelling of the same release.
//! - Debian and Ubuntu binary packages match through their source package, and compare the
//!   source version (the feeds name source packages and source versions); Alpine packages through
//!   their origin; rpm packages by name and by source rpm name, comparing the full EVR.
//! - The distro's own statement decides: a fixed version, no fix yet, won't fix, not affected.
//!   Won't-fix, not-affected and Debian's "unimportant" are kept but marked suppressed, hidden by
//!   default and never counted as fixable.
//! - Severity is the vendor's when it gives one, else NVD's CVSS; KEV and EPSS are attached by CVE.

#![forbid(unsafe_code)]
#![warn(missing_docs)]

mod finding;
mod matcher;
mod namespace;
mod ranges;

pub use finding::{
    CvssScore, DataSource, Finding, FindingStatus, FixDate, FixDateSource, PackageRef, Suppression,
    UnknownSuppression,
};
pub use matcher::{
    Coverage, CoverageSource, MatchError, MatchReport, Matcher, match_inventory, unchecked,
};
pub use namespace::namespaces;
