//! customs-app's use cases end to end, on real SQLite stores and databases.

mod since_db;
