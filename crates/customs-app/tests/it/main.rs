//! customs-app's use cases end to end, on real SQLite stores and databases.

mod fail_closed;
mod since_db;
