//! Fixtures: one store per test, on either backend, and record builders.

use std::sync::atomic::{AtomicUsize, Ordering};
use std::time::{SystemTime, UNIX_EPOCH};

use customs_store::{
    FindingRecord, IndexedPackage, PackageKey, Resolutions, ScanRecord, Store, Timestamp,
};
use serde_json::{Value, json};

/// Run a test function against both backends: `both!(name, …)` makes `name::sqlite` and
/// `name::postgres`.
macro_rules! both {
    ($($name:ident),* $(,)?) => {$(
        mod $name {
            #[test]
            fn sqlite() {
                super::$name(&crate::support::Fixture::sqlite());
            }
            #[test]
            fn postgres() {
                super::$name(&crate::support::Fixture::postgres());
            }
        }
    )*};
}
pub(crate) use both;

enum Kind {
    Sqlite(
        #[expect(dead_code, reason = "kept alive for the file")] tempfile::TempDir,
        String,
    ),
    Postgres {
        base: String,
        schema: String,
    },
}

/// An empty store location; a PostgreSQL schema is dropped on drop.
pub(crate) struct Fixture {
    url: String,
    kind: Kind,
}

impl Fixture {
    pub(crate) fn sqlite() -> Self {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("store.db").display().to_string();
        Self {
            url: format!("sqlite:{path}"),
            kind: Kind::Sqlite(dir, path),
        }
    }

    pub(crate) fn postgres() -> Self {
        static N: AtomicUsize = AtomicUsize::new(0);
        let base = std::env::var("CUSTOMS_TEST_POSTGRES_URL")
            .unwrap_or_else(|_| "postgres://postgres@127.0.0.1:5432/test".to_owned());
        let nanos = SystemTime::now()
            .duration_since(UNIX_EPOCH)
            .unwrap()
            .subsec_nanos();
        let schema = format!(
            "customs_test_{}_{}_{nanos}",
            std::process::id(),
            N.fetch_add(1, Ordering::Relaxed)
        );
        let mut client = postgres::Client::connect(&base, postgres::NoTls).unwrap_or_else(|e| {
            panic!(
                "this test needs PostgreSQL at {base} (set CUSTOMS_TEST_POSTGRES_URL to \
                 another server): {e}"
            )
        });
        client
            .batch_execute(&format!("CREATE SCHEMA {schema}"))
            .unwrap();
        let sep = if base.contains('?') { '&' } else { '?' };
        Self {
            url: format!("{base}{sep}options=-csearch_path%3D{schema}"),
            kind: Kind::Postgres { base, schema },
        }
    }

    pub(crate) fn url(&self) -> &str {
        &self.url
    }

    pub(crate) fn is_sqlite(&self) -> bool {
        matches!(self.kind, Kind::Sqlite(..))
    }

    pub(crate) fn open(&self) -> Box<dyn Store> {
        customs_store::open(&self.url).unwrap()
    }

    /// Run SQL on the store's database outside the store, returning the first column of the
    /// first row as an integer (for counts), or 0 when there is no row.
    pub(crate) fn query_i64(&self, sql: &str) -> i64 {
        match &self.kind {
            Kind::Sqlite(_, path) => {
                let conn = rusqlite::Connection::open(path).unwrap();
                let mut stmt = conn.prepare(sql).unwrap();
                let mut rows = stmt.query([]).unwrap();
                rows.next().unwrap().map_or(0, |r| r.get(0).unwrap())
            }
            Kind::Postgres { .. } => {
                let mut client = postgres::Client::connect(&self.url, postgres::NoTls).unwrap();
                client
                    .query(sql, &[])
                    .unwrap()
                    .first()
                    .map_or(0, |r| r.get(0))
            }
        }
    }

    pub(crate) fn exec(&self, sql: &str) {
        match &self.kind {
            Kind::Sqlite(_, path) => rusqlite::Connection::open(path)
                .unwrap()
                .execute_batch(sql)
                .unwrap(),
            Kind::Postgres { .. } => postgres::Client::connect(&self.url, postgres::NoTls)
                .unwrap()
                .batch_execute(sql)
                .unwrap(),
        }
    }

    /// SQLite's query plan for `sql` (one line per step).
    pub(crate) fn sqlite_plan(&self, sql: &str) -> String {
        let Kind::Sqlite(_, path) = &self.kind else {
            panic!("SQLite only")
        };
        let conn = rusqlite::Connection::open(path).unwrap();
        let mut stmt = conn.prepare(&format!("EXPLAIN QUERY PLAN {sql}")).unwrap();
        let rows = stmt.query_map([], |r| r.get::<_, String>(3)).unwrap();
        rows.map(Result::unwrap).collect::<Vec<_>>().join("\n")
    }
}

impl Drop for Fixture {
    fn drop(&mut self) {
        if let Kind::Postgres { base, schema } = &self.kind {
            let dropped = postgres::Client::connect(base, postgres::NoTls)
                .and_then(|mut c| c.batch_execute(&format!("DROP SCHEMA {schema} CASCADE")));
            if let Err(e) = dropped
                && !std::thread::panicking()
            {
                panic!("dropping schema {schema}: {e}");
            }
        }
    }
}

/// `2026-01-01T00:00:00Z` plus `minutes`.
pub(crate) fn at(minutes: i64) -> Timestamp {
    let base: Timestamp = "2026-01-01T00:00:00Z".parse().unwrap();
    Timestamp::from_micros(base.as_micros() + minutes * 60_000_000)
}

/// A finding `id` in package `pkg` 1.0 with `severity`.
pub(crate) fn finding(id: &str, pkg: &str, severity: &str) -> FindingRecord {
    FindingRecord {
        id: id.to_owned(),
        package_name: pkg.to_owned(),
        package_version: "1.0".to_owned(),
        severity: severity.parse().expect("a severity"),
        kev: false,
        data: json!({
            "id": id,
            "severity": severity,
            "package": {"name": pkg, "version": "1.0"},
        }),
    }
}

/// A scan of `digest` with deb packages `packages` and `findings`.
pub(crate) fn scan(
    digest: &str,
    reference: Option<(&str, &str)>,
    packages: &[&str],
    findings: Vec<FindingRecord>,
    minutes: i64,
) -> ScanRecord {
    ScanRecord {
        digest: digest.to_owned(),
        repository: reference.map(|(r, _)| r.to_owned()),
        tag: reference.map(|(_, t)| t.to_owned()),
        also_tagged: Vec::new(),
        inventory: json!({"packages": packages}),
        context: json!({"distro": "test"}),
        packages: packages
            .iter()
            .map(|p| IndexedPackage {
                keys: vec![PackageKey {
                    ecosystem: customs_store::Ecosystem::Deb,
                    name: (*p).to_owned(),
                }],
                data: json!({"name": p, "version": "1.0"}),
            })
            .collect(),
        findings,
        scanned_at: at(minutes),
        db_built_at: Some("2026-01-01T00:00:00Z".parse().unwrap()),
        resolutions: Resolutions::default(),
        scope: None,
        signature: None,
    }
}

/// The `id` fields of a list of finding documents.
pub(crate) fn ids(findings: &[Value]) -> Vec<&str> {
    findings.iter().map(|f| f["id"].as_str().unwrap()).collect()
}
