//! customs-app's use cases end to end, on real SQLite stores and databases.

mod fail_closed;
mod fix_dates;
mod since_db;
