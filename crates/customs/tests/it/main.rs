//! customs' integration tests: one binary, a module per area. They run the real `customs`
//! binary against real images (built by ../shared/tools/build-images.sh), real package
//! databases from ../shared/data, and images generated here (the hostile corpus).

mod audit;
mod audit_page;
#[path = "../../../customs-report/tests/it/browser.rs"]
mod browser;
mod cachecmd;
mod cli;
mod common;
mod corpus;
mod dbpush;
mod dogfood;
mod feeds;
mod fixtures;
mod formats;
mod gate;
mod hostile;
mod java;
mod langs;
mod lifecycle;
mod packagedb;
#[path = "../../../customs-store/tests/it/pg_tls_server.rs"]
mod pg_tls_server;
mod proxy;
mod registry;
mod scan;
mod secrets;
mod serve;
mod signatures;
mod sigstore;
mod vex;
mod whiteouts;
