//! The typed result of a scan: [`customs_report`] owns it, with every renderer over it.

pub use customs_report::report::*;
