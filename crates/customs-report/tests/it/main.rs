//! customs-report's integration tests: one binary, a module per area.

mod html_browser;
mod sbom_in;
