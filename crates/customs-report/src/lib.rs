//! The typed result of a scan ([`ScanReport`]) and every format customs writes it in or reads
//! an inventory back from.
//!
//! | format | out | in |
//! |---|---|---|
//! | CycloneDX 1.6 JSON (SBOM, and VDR with findings) | [`cyclonedx`] | [`sbom`] (1.4–1.7) |
//! | SPDX 2.3 JSON | [`spdx`] | [`sbom`] (2.2, 2.3) |
//! | syft JSON | | [`sbom`] |
//! | SARIF 2.1.0 | [`sarif`] | |
//! | user templates (minijinja) | [`template`] | |
//! | one self-contained HTML page | [`html`] | |
//!
//! A scan's secret, config and file detections go into every scan format beside its findings:
//! the JSON's `detections`, a SARIF rule per code and a result per detection, a CycloneDX
//! `vulnerabilities` entry per detection, the HTML page's "Secrets, configuration and files"
//! section, and templates' `detections`. Their evidence is redacted before a detection is
//! made; the writers only copy it.
#![forbid(unsafe_code)]
#![warn(missing_docs)]

pub mod cyclonedx;
#[cfg(any(test, feature = "fuzzing"))]
#[doc(hidden)]
pub mod fuzz;
pub mod html;
mod ids;
mod meta;
pub mod output;
pub mod report;
pub mod sarif;
pub mod sbom;
pub mod spdx;
pub mod template;

/// The image's `pkg:oci` purl as the documents name it (`pkg:oci/NAME@sha256:…` with
/// `repository_url` and `tag` when known); `None` without a manifest digest.
#[must_use]
pub fn image_purl(inv: &customs_catalog::Inventory) -> Option<String> {
    ids::ImageName::of(inv).purl()
}

pub use output::{DocOptions, Format, OutputSpec, RenderError, Subject, render};
pub use report::{
    AuthorityResult, DatabaseInfo, Filter, Gap, Outcome, SCAN_SCHEMA, ScanReport, ShownDetection,
    SignatureVerdict, View, recorded_scanners,
};
