//! customs-report's integration tests: one binary, a module per area.

mod browser;
mod detections;
mod html_browser;
mod sarif_limits;
mod sbom_in;
