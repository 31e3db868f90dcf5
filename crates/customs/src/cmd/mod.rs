//! One module per command: its arguments, the library call, and the rendering.

pub(crate) mod audit;
pub(crate) mod cache;
pub(crate) mod db;
pub(crate) mod docs;
pub(crate) mod explain;
pub(crate) mod gate;
pub(crate) mod images;
pub(crate) mod rematch;
pub(crate) mod sbom;
pub(crate) mod scan;
pub(crate) mod serve;
pub(crate) mod vercmp;
pub(crate) mod verify;
pub(crate) mod version;
