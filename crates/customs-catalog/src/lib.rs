//! The catalog: from an image to an inventory of what is installed in it.
//!
//! Each layer is read once, as a stream, and never unpacked: the walker (`walk.rs`) hands each
//! analyzer only the entries whose paths it declared, and records whiteouts. What a layer
//! yields (`LayerFacts`, in `facts.rs`) is cached under its diff_id and the analyzer set's
//! version ([`cache_set_version`]), so a base layer shared by many images is analysed once.
//! The facts of all layers are then applied in order (`apply.rs`): whiteouts and opaque
//! directories remove what lower layers had, and each package records the layer that
//! introduced it.
//!
//! Analyzers, one file each: `os` (os-release and its fallbacks), `dpkg` (status, status.d,
//! `.list` files), `apk` (`lib/apk/db/installed`), `rpmdb` (SQLite, Berkeley DB and NDB
//! databases, read by `rpm/`); `langs` for language packages (Python, npm, Cargo, Go) from
//! installed metadata, lockfiles and binaries, parsed by `lang/`.

#![forbid(unsafe_code)]
#![warn(missing_docs)]

mod analyzer;
mod apk;
mod apply;
mod cache;
mod catalog;
mod dpkg;
mod facts;
mod inspect;
mod inventory;
mod lang;
mod langpkgs;
mod langs;
mod os;
mod osdb;
mod purl;
mod rpm;
mod rpmdb;
mod users;
mod walk;

#[cfg(any(test, feature = "fuzzing"))]
#[doc(hidden)]
pub mod fuzz;

pub use cache::{cache_set_version, is_current_cache_set};
pub use catalog::{CatalogError, CatalogOptions, Limits, SharedFacts, catalog};
pub use customs_detect;
pub use inventory::{
    Distro, Ecosystem, FileEntry, FileMeta, ImageMeta, Inspected, Inventory, LayerMeta, Package,
    SCHEMA_VERSION, Warning, pep503,
};
pub use os::debian_codename;
pub use rpmdb::split_srpm;
