//! Image sources for customs.
//!
//! This crate turns what a user names on the command line into an [`Image`]: its manifest and
//! config digests, its parsed config and an ordered list of layers, each of which can be opened
//! as a decompressed tar stream. It reads:
//!
//! - OCI image layouts (`oci:DIR[:TAG]`), per the OCI image-layout spec: `index.json`, then a
//!   manifest, or an index from which one platform is picked;
//! - oci-archive and docker-archive tarballs (`oci-archive:FILE`, `docker-archive:FILE`),
//!   without unpacking them: the outer tar is indexed once and each blob is read in place;
//!   docker-archive covers the legacy `manifest.json` form (including skopeo's symlinked
//!   layers) and Docker 25's form, which is an OCI layout inside the tar;
//! - root filesystem directories (`dir:DIR`), which have no layers and are walked by the
//!   catalog instead.
//!
//! Every blob read is bounded, every layer stream checks its digest as it goes, and every
//! manifest is classified by media type (and by shape when it has none): Docker schema 1 and
//! non-image artifacts are refused with a message that says so.

#![forbid(unsafe_code)]
#![warn(missing_docs)]

mod archive;
mod error;
mod layout;
mod manifest;
mod platform;
mod source;
mod store;
mod stream;

#[cfg(any(test, feature = "fuzzing"))]
#[doc(hidden)]
pub mod fuzz;

pub use customs_types::{Algorithm, Digest};
pub use error::ImageError;
pub use layout::{Image, Layer, OpenOptions, SourceInfo, open};
pub use manifest::{Healthcheck, HistoryEntry, ImageConfig, RootFs, RunConfig};
pub use platform::Platform;
pub use source::{SourceKind, SourceRef};
pub use stream::{Compression, LayerReader, StreamLimits};
