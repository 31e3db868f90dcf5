//! What the builder left in an image, besides its packages: secrets, unsafe image
//! configuration and risky files, each a typed [`Detection`] with a stable code.
//!
//! - [`secrets`]: the secret rules (data, in `rules/secrets.toml`, extended or overridden by a
//!   user's file), a keyword prefilter and regex confirmation, and redaction.
//! - [`config`]: checks on the image config and its build history.
//! - [`files`]: checks on file modes and owners.
//!
//! Nothing here reads an image: `customs-catalog` walks the layers and hands each file's bytes
//! and metadata to these functions, so a secret is found in every layer, not only in the final
//! filesystem.

pub mod config;
pub mod detection;
pub mod files;
pub mod secrets;

pub use detection::{Detection, DetectionKind, Location, Scanners};
pub use secrets::{RuleSet, SecretHit};
