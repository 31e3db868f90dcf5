//! `rpmdb.sqlite`, the backend of rpm ≥ 4.16 (Fedora 33+, RHEL 9+, Mariner, Amazon Linux 2023).
//!
//! One table matters: `Packages(hnum INTEGER PRIMARY KEY, blob BLOB)`, one header blob per
//! installed package. The other tables (`Name`, `Basenames`, …) are indexes rpm derives from
//! the blobs.
//!
//! Quirks:
//! - The database is opened from the bytes in memory (`sqlite3_deserialize`); nothing is
//!   written to disk.
//! - rpm runs the database in WAL mode, marked by header bytes 18 and 19 being 2. `SQLite`
//!   refuses to open a WAL database that lives in memory, as WAL needs a shared-memory file,
//!   so the in-memory copy is marked as a rollback-journal database (1 and 1). The page
//!   layout is the same in both modes. Transactions still sitting in a `-wal` file beside the
//!   database are not seen, which matches an image that shipped a checkpointed database.
//! - The file is untrusted, and SQL schemas can compute: `Packages` must be a plain table (a
//!   view could recurse forever) whose two columns are stored, not generated, and
//!   `trusted_schema` is off so the schema cannot call functions with side effects.

use std::io::Read as _;

use rusqlite::types::ValueRef;
use rusqlite::{Connection, OptionalExtension as _};

use super::{Records, RpmError};

/// The database header is 100 bytes; the read/write format versions are bytes 18 and 19.
const HEADER_LEN: usize = 100;
const FORMAT_VERSIONS: std::ops::Range<usize> = 18..20;
const ROLLBACK_JOURNAL: [u8; 2] = [1, 1];

pub(super) fn read(bytes: &[u8], records: &mut Records) -> Result<(), RpmError> {
    let conn = open(bytes)?;
    check_schema(&conn)?;
    let mut statement = conn
        .prepare("SELECT hnum, blob FROM Packages")
        .map_err(|source| RpmError::Sqlite {
            what: "cannot query the Packages table",
            source,
        })?;
    let mut rows = statement.query([]).map_err(|source| RpmError::Sqlite {
        what: "cannot query the Packages table",
        source,
    })?;
    loop {
        let row = match rows.next() {
            Ok(Some(row)) => row,
            Ok(None) => break,
            // A damaged b-tree stops the scan; what was read before it still counts.
            Err(source) => {
                records.corrupt(RpmError::Sqlite {
                    what: "reading Packages stopped",
                    source,
                });
                break;
            }
        };
        let Ok(ValueRef::Integer(hnum)) = row.get_ref(0) else {
            records.corrupt(RpmError::SqliteLayout(
                "a Packages row has no integer hnum".to_owned(),
            ));
            continue;
        };
        match row.get_ref(1) {
            Ok(ValueRef::Blob(blob)) => records.header(hnum, blob)?,
            _ => records.corrupt(RpmError::SqliteLayout(format!(
                "Packages row {hnum} holds no blob"
            ))),
        }
    }
    Ok(())
}

fn open(bytes: &[u8]) -> Result<Connection, RpmError> {
    let too_short = || {
        RpmError::SqliteLayout(format!(
            "file is {} bytes, shorter than the {HEADER_LEN}-byte database header",
            bytes.len()
        ))
    };
    if bytes.len() < HEADER_LEN {
        return Err(too_short());
    }
    let head = bytes.get(..FORMAT_VERSIONS.start).ok_or_else(too_short)?;
    let tail = bytes.get(FORMAT_VERSIONS.end..).ok_or_else(too_short)?;
    let mut conn = Connection::open_in_memory().map_err(|source| RpmError::Sqlite {
        what: "cannot open an in-memory database",
        source,
    })?;
    let image = head.chain(&ROLLBACK_JOURNAL[..]).chain(tail);
    conn.deserialize_read_exact("main", image, bytes.len(), true)
        .map_err(|source| RpmError::Sqlite {
            what: "cannot load the database image",
            source,
        })?;
    conn.execute_batch("PRAGMA trusted_schema = OFF; PRAGMA query_only = ON;")
        .map_err(|source| RpmError::Sqlite {
            what: "cannot restrict the connection",
            source,
        })?;
    Ok(conn)
}

fn check_schema(conn: &Connection) -> Result<(), RpmError> {
    let kind: Option<String> = conn
        .query_row(
            "SELECT type FROM sqlite_schema WHERE name = 'Packages' COLLATE NOCASE",
            [],
            |row| row.get(0),
        )
        .optional()
        .map_err(|source| RpmError::Sqlite {
            what: "cannot read the schema",
            source,
        })?;
    match kind.as_deref() {
        Some("table") => {}
        Some(other) => {
            return Err(RpmError::SqliteLayout(format!(
                "Packages is a {other}, not a table"
            )));
        }
        None => {
            return Err(RpmError::SqliteLayout(
                "there is no Packages table".to_owned(),
            ));
        }
    }
    // `hidden` is 0 for an ordinary column, 2 or 3 for a generated one, 1 in virtual tables.
    let mut plain = conn
        .prepare("SELECT name FROM pragma_table_xinfo('Packages') WHERE hidden = 0")
        .map_err(|source| RpmError::Sqlite {
            what: "cannot read the schema",
            source,
        })?;
    let columns = plain
        .query_map([], |row| row.get::<_, String>(0))
        .and_then(Iterator::collect::<Result<Vec<_>, _>>)
        .map_err(|source| RpmError::Sqlite {
            what: "cannot read the schema",
            source,
        })?;
    for wanted in ["hnum", "blob"] {
        if !columns
            .iter()
            .any(|column| column.eq_ignore_ascii_case(wanted))
        {
            return Err(RpmError::SqliteLayout(format!(
                "Packages has no stored column {wanted}"
            )));
        }
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::super::header::tests::package;
    use super::*;

    fn parse(bytes: &[u8]) -> Result<Vec<String>, RpmError> {
        let mut records = Records::new(bytes.len());
        read(bytes, &mut records)?;
        Ok(records.finish()?.into_iter().map(|p| p.name).collect())
    }

    fn database(schema: &str, blobs: &[Vec<u8>]) -> Vec<u8> {
        let conn = Connection::open_in_memory().expect("in-memory database");
        conn.execute_batch(schema).expect("schema");
        for blob in blobs {
            conn.execute("INSERT INTO Packages (blob) VALUES (?1)", [blob])
                .expect("insert");
        }
        conn.serialize("main").expect("serialize").to_vec()
    }

    #[test]
    fn reads_a_wal_mode_database_from_memory() {
        let mut bytes = database(
            "CREATE TABLE Packages (hnum INTEGER PRIMARY KEY, blob BLOB NOT NULL)",
            &[package("zlib")],
        );
        bytes[18] = 2;
        bytes[19] = 2;
        assert_eq!(parse(&bytes).expect("readable"), ["zlib"]);
    }

    #[test]
    fn a_view_named_packages_is_refused() {
        // Were it queried, this view would never end.
        let bytes = database(
            "CREATE TABLE t (x); \
             CREATE VIEW Packages AS WITH RECURSIVE n(hnum, blob) AS \
             (SELECT 1, x'00' UNION ALL SELECT hnum + 1, blob FROM n) SELECT * FROM n",
            &[],
        );
        let err = parse(&bytes).expect_err("refused");
        assert_eq!(err.to_string(), "SQLite: Packages is a view, not a table");
    }

    #[test]
    fn a_generated_blob_column_is_refused() {
        let bytes = database(
            "CREATE TABLE Packages (hnum INTEGER PRIMARY KEY, \
             blob BLOB AS (zeroblob(1000000000)) VIRTUAL)",
            &[],
        );
        let err = parse(&bytes).expect_err("refused");
        assert_eq!(
            err.to_string(),
            "SQLite: Packages has no stored column blob"
        );
    }

    #[test]
    fn a_missing_table_is_an_error() {
        let bytes = database("CREATE TABLE Other (x)", &[]);
        let err = parse(&bytes).expect_err("refused");
        assert_eq!(err.to_string(), "SQLite: there is no Packages table");
    }

    #[test]
    fn rows_without_a_blob_are_skipped() {
        let bytes = database(
            "CREATE TABLE Packages (hnum INTEGER PRIMARY KEY, blob); \
             INSERT INTO Packages (blob) VALUES ('text'), (NULL), (42);",
            &[package("bash")],
        );
        assert_eq!(parse(&bytes).expect("readable"), ["bash"]);
    }

    #[test]
    fn a_truncated_header_page_is_an_error() {
        assert!(parse(b"SQLite format 3\0").is_err());
        assert!(parse(&[&b"SQLite format 3\0"[..], &[0; 90]].concat()).is_err());
    }
}
