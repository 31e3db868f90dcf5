//! customs-store integration tests. Every test runs twice through the same function: on a
//! SQLite file in a temporary directory and on PostgreSQL (127.0.0.1:5432, database `test`, or
//! `CUSTOMS_TEST_POSTGRES_URL`) in a schema of its own, dropped afterwards. PostgreSQL being
//! unreachable fails the test.

mod support;

mod concurrency;
mod crash;
mod gates;
mod invariants;
mod jobs;
mod migrations;
mod outbox;
mod packages;
mod pg_tls_server;
mod rematch;
mod scans;
mod tags;
mod tls;
