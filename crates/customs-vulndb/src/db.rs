//! The vulnerability database: one SQLite file.
//!
//! Advisories are stored once each; their per-package statements go in `affected`, indexed by
//! (namespace, package), so a scan asks only for the packages it has and never loads the whole
//! database. CVE-keyed enrichment (NVD, KEV, EPSS) sits in its own tables. `meta` records the
//! schema version and the build time, `sources` each input with its record count and newest date.

use std::collections::BTreeSet;
use std::path::{Path, PathBuf};

use rusqlite::{Connection, OpenFlags, OptionalExtension, params};
use serde::Serialize;

use customs_types::Timestamp;

use crate::model::{Advisory, Affected, Cvss, Enrichment, Feed, Namespace, Severity, Status};

/// Bumped when the tables change; an older file is refused with a message to rebuild it.
pub const DB_SCHEMA_VERSION: i64 = 4;

/// Why a database could not be opened, read or written.
#[derive(Debug, thiserror::Error)]
pub enum DbError {
    /// SQLite failed on the file: creating, writing, querying, or (when a build finishes)
    /// renaming it into place.
    #[error("{path}: {source}")]
    Sqlite {
        /// The database file; while a build is writing, the `.building` file beside it.
        path: PathBuf,
        /// SQLite's error (for the final rename, the I/O error wrapped in one).
        #[source]
        source: rusqlite::Error,
    },
    /// The file is missing, not SQLite, or has no customs `meta` table or schema version.
    #[error("{path}: not a customs vulnerability database ({why})")]
    NotADb {
        /// The file that was to be opened.
        path: PathBuf,
        /// `no such file`, `no schema version`, or SQLite's complaint.
        why: String,
    },
    /// A customs database of another schema version: it must be rebuilt, not read.
    #[error(
        "{path}: database schema {found}, this customs reads {DB_SCHEMA_VERSION}: rebuild it with `customs db build` or `customs db update`"
    )]
    Schema {
        /// The database file.
        path: PathBuf,
        /// The schema version the file records (this build reads [`DB_SCHEMA_VERSION`]).
        found: i64,
    },
    /// A build read no record from any input: it writes no database, since one matched
    /// against would find nothing and so pass every image.
    #[error("no advisory or enrichment record was read from any input, so no database was written:\n  {}", .problems.join("\n  "))]
    NothingRead {
        /// Each input or file that gave nothing, with why.
        problems: Vec<String>,
    },
}

const SCHEMA: &str = "
CREATE TABLE meta (key TEXT PRIMARY KEY, value TEXT NOT NULL);
CREATE TABLE sources (feed TEXT NOT NULL, input TEXT NOT NULL, records INTEGER NOT NULL, newest TEXT);
CREATE TABLE advisories (
  rowid INTEGER PRIMARY KEY,
  id TEXT NOT NULL, feed TEXT NOT NULL, record TEXT NOT NULL, aliases TEXT NOT NULL,
  published TEXT, modified TEXT, summary TEXT, severity TEXT, cvss TEXT NOT NULL, withdrawn INTEGER NOT NULL
);
CREATE INDEX advisories_id ON advisories(id);
CREATE TABLE affected (
  advisory INTEGER NOT NULL REFERENCES advisories(rowid),
  namespace TEXT NOT NULL, package TEXT NOT NULL, status TEXT NOT NULL, severity TEXT, note TEXT
);
CREATE INDEX affected_ns_pkg ON affected(namespace, package);
CREATE TABLE aliases (alias TEXT NOT NULL, advisory INTEGER NOT NULL);
CREATE INDEX aliases_alias ON aliases(alias);
CREATE TABLE nvd (cve TEXT PRIMARY KEY, description TEXT, cvss TEXT NOT NULL, published TEXT, rejected INTEGER NOT NULL);
CREATE TABLE kev (cve TEXT PRIMARY KEY, date_added TEXT, due_date TEXT, ransomware TEXT, name TEXT);
CREATE TABLE epss (cve TEXT PRIMARY KEY, probability REAL NOT NULL, percentile REAL NOT NULL, date TEXT);
";

fn to_json<T: Serialize>(v: &T) -> String {
    serde_json::to_string(v).unwrap_or_else(|_| "null".to_owned())
}

/// A column holding a vocabulary word (severity, feed, namespace), read back into its type.
fn parsed<T>(r: &rusqlite::Row<'_>, idx: usize) -> rusqlite::Result<T>
where
    T: std::str::FromStr,
    T::Err: std::error::Error + Send + Sync + 'static,
{
    let text: String = r.get(idx)?;
    text.parse().map_err(|e| {
        rusqlite::Error::FromSqlConversionFailure(idx, rusqlite::types::Type::Text, Box::new(e))
    })
}

/// As [`parsed`], for a nullable column.
fn parsed_opt<T>(r: &rusqlite::Row<'_>, idx: usize) -> rusqlite::Result<Option<T>>
where
    T: std::str::FromStr,
    T::Err: std::error::Error + Send + Sync + 'static,
{
    match r.get_ref(idx)? {
        rusqlite::types::ValueRef::Null => Ok(None),
        _ => parsed(r, idx).map(Some),
    }
}

/// One input's contribution, for `sources`.
#[derive(Debug, Clone, Serialize)]
pub struct SourceInfo {
    /// The format read, by its [`FeedKind`](crate::FeedKind) name (`debian-dsa`, `osv-json`).
    pub feed: String,
    /// The input as given to the build (a file or a folder, without any `KIND:` prefix), or
    /// an embedded feed's name. A folder holding several formats gives one row per format.
    pub input: String,
    /// Advisories (or enrichment records) read from it.
    pub records: i64,
    /// The newest `modified` (else `published`) date among its advisories, as written;
    /// compared as text, so mixed date forms may not pick the true newest. `None` for
    /// enrichment and for feeds that date nothing.
    pub newest: Option<String>,
}

/// Writes a new database file.
pub struct DbWriter {
    conn: Connection,
    path: PathBuf,
}

impl DbWriter {
    /// Create `path` (replacing any file there only when the build commits, so a failed build
    /// leaves the old database in place).
    pub fn create(path: &Path) -> Result<Self, DbError> {
        let tmp = path.with_extension("building");
        let _ = std::fs::remove_file(&tmp);
        let err = |source| DbError::Sqlite {
            path: tmp.clone(),
            source,
        };
        let conn = Connection::open(&tmp).map_err(err)?;
        conn.execute_batch("PRAGMA journal_mode=OFF; PRAGMA synchronous=OFF; BEGIN;")
            .map_err(err)?;
        conn.execute_batch(SCHEMA).map_err(err)?;
        Ok(Self {
            conn,
            path: path.to_owned(),
        })
    }

    fn err(&self, source: rusqlite::Error) -> DbError {
        DbError::Sqlite {
            path: self.path.clone(),
            source,
        }
    }

    /// Store advisories: each record once, its statements indexed by (namespace, package)
    /// (PyPI names PEP 503-normalised, as [`VulnDb::lookup`] asks for them), its aliases
    /// indexed for [`VulnDb::advisories_named`].
    pub fn add_advisories(&mut self, advisories: &[Advisory]) -> Result<(), DbError> {
        let mut adv = self
            .conn
            .prepare_cached("INSERT INTO advisories (id, feed, record, aliases, published, modified, summary, severity, cvss, withdrawn) VALUES (?1,?2,?3,?4,?5,?6,?7,?8,?9,?10)")
            .map_err(|e| DbError::Sqlite { path: self.path.clone(), source: e })?;
        let mut aff = self
            .conn
            .prepare_cached("INSERT INTO affected (advisory, namespace, package, status, severity, note) VALUES (?1,?2,?3,?4,?5,?6)")
            .map_err(|e| DbError::Sqlite { path: self.path.clone(), source: e })?;
        let mut ali = self
            .conn
            .prepare_cached("INSERT INTO aliases (alias, advisory) VALUES (?1,?2)")
            .map_err(|e| DbError::Sqlite {
                path: self.path.clone(),
                source: e,
            })?;
        let path = self.path.clone();
        let err = |source| DbError::Sqlite {
            path: path.clone(),
            source,
        };
        for a in advisories {
            adv.execute(params![
                a.id,
                a.feed.as_str(),
                a.record,
                to_json(&a.aliases),
                a.published,
                a.modified,
                a.summary,
                a.severity.map(Severity::as_str),
                to_json(&a.cvss),
                a.withdrawn
            ])
            .map_err(err)?;
            let rowid = self.conn.last_insert_rowid();
            for f in &a.affected {
                aff.execute(params![
                    rowid,
                    f.namespace.as_str(),
                    package_key(&f.namespace, &f.package),
                    to_json(&f.status),
                    f.severity.map(Severity::as_str),
                    f.note
                ])
                .map_err(err)?;
            }
            for alias in &a.aliases {
                ali.execute(params![alias, rowid]).map_err(err)?;
            }
        }
        Ok(())
    }

    /// Store NVD, KEV and EPSS records. One row per CVE and kind: a later record for the same
    /// CVE replaces an earlier one.
    pub fn add_enrichment(&mut self, items: &[Enrichment]) -> Result<(), DbError> {
        let path = self.path.clone();
        let err = |source| DbError::Sqlite {
            path: path.clone(),
            source,
        };
        for e in items {
            match e {
                Enrichment::Nvd { cve, description, cvss, published, rejected } => self.conn.execute(
                    "INSERT OR REPLACE INTO nvd (cve, description, cvss, published, rejected) VALUES (?1,?2,?3,?4,?5)",
                    params![cve, description, to_json(cvss), published, rejected],
                ),
                Enrichment::Kev { cve, date_added, due_date, ransomware, name } => self.conn.execute(
                    "INSERT OR REPLACE INTO kev (cve, date_added, due_date, ransomware, name) VALUES (?1,?2,?3,?4,?5)",
                    params![cve, date_added, due_date, ransomware, name],
                ),
                Enrichment::Epss { cve, probability, percentile, date } => self.conn.execute(
                    "INSERT OR REPLACE INTO epss (cve, probability, percentile, date) VALUES (?1,?2,?3,?4)",
                    params![cve, probability, percentile, date],
                ),
            }
            .map_err(err)?;
        }
        Ok(())
    }

    /// Record what one input contributed, for `db info` and the database's freshness.
    pub fn add_source(&mut self, s: &SourceInfo) -> Result<(), DbError> {
        self.conn
            .execute(
                "INSERT INTO sources (feed, input, records, newest) VALUES (?1,?2,?3,?4)",
                params![s.feed, s.input, s.records, s.newest],
            )
            .map(|_| ())
            .map_err(|e| self.err(e))
    }

    /// Copy every record of another database file into this one (a feed's staging database
    /// of `db update`, built when that feed last changed): merging a feed costs SQL copies,
    /// not parsing it again.
    ///
    /// # Errors
    /// [`DbError::NotADb`] / [`DbError::Schema`] for a file that is not a database of this
    /// schema; SQLite's errors.
    pub fn merge(&mut self, other: &Path) -> Result<(), DbError> {
        // Opening checks the schema version; the handle itself is not needed.
        drop(VulnDb::open(other)?);
        let err = |e| self.err(e);
        // ATTACH is refused inside a transaction; the file being built has no journal, so
        // committing in between costs nothing.
        self.conn.execute_batch("COMMIT;").map_err(err)?;
        self.conn
            .execute(
                "ATTACH DATABASE ?1 AS staged",
                [other.to_string_lossy().as_ref()],
            )
            .map_err(err)?;
        let offset: i64 = self
            .conn
            .query_row("SELECT coalesce(max(rowid), 0) FROM advisories", [], |r| {
                r.get(0)
            })
            .map_err(err)?;
        // Advisories keep their order; their rowids move by the offset, and the statements
        // and aliases that point at them move with them.
        let copied = self.conn.execute_batch(&format!(
            "BEGIN;
             INSERT INTO advisories (rowid, id, feed, record, aliases, published, modified, summary, severity, cvss, withdrawn)
               SELECT rowid + {offset}, id, feed, record, aliases, published, modified, summary, severity, cvss, withdrawn
               FROM staged.advisories ORDER BY rowid;
             INSERT INTO affected (advisory, namespace, package, status, severity, note)
               SELECT advisory + {offset}, namespace, package, status, severity, note FROM staged.affected;
             INSERT INTO aliases (alias, advisory) SELECT alias, advisory + {offset} FROM staged.aliases;
             INSERT OR REPLACE INTO nvd SELECT cve, description, cvss, published, rejected FROM staged.nvd;
             INSERT OR REPLACE INTO kev SELECT cve, date_added, due_date, ransomware, name FROM staged.kev;
             INSERT OR REPLACE INTO epss SELECT cve, probability, percentile, date FROM staged.epss;
             INSERT INTO sources (feed, input, records, newest)
               SELECT feed, input, records, newest FROM staged.sources;
             COMMIT;"
        ));
        if copied.is_err() {
            let _ = self.conn.execute_batch("ROLLBACK;");
        }
        let detached = self.conn.execute_batch("DETACH DATABASE staged; BEGIN;");
        copied.map_err(err)?;
        detached.map_err(err)
    }

    /// Give up: remove the partly written file and leave any database at the path as it was.
    pub fn abandon(self) {
        let tmp = self.path.with_extension("building");
        drop(self.conn);
        let _ = std::fs::remove_file(tmp);
    }

    /// Commit and move the finished file into place.
    pub fn finish(self, built_at: Timestamp) -> Result<(), DbError> {
        let tmp = self.path.with_extension("building");
        let err = |source| DbError::Sqlite {
            path: tmp.clone(),
            source,
        };
        self.conn
            .execute(
                "INSERT INTO meta (key, value) VALUES ('schema_version', ?1), ('built_at', ?2)",
                params![DB_SCHEMA_VERSION.to_string(), built_at.to_string()],
            )
            .map_err(err)?;
        // Which namespaces (and which feeds) hold anything, so a scan skips empty look-ups.
        self.conn
            .execute_batch(
                "CREATE TABLE namespaces AS SELECT f.namespace AS namespace, a.feed AS feed, count(*) AS n,
                        max(coalesce(a.modified, a.published)) AS newest
                   FROM affected f JOIN advisories a ON a.rowid = f.advisory GROUP BY f.namespace, a.feed;",
            )
            .map_err(err)?;
        // No ANALYZE: with the bundled SQLite's STAT4 statistics, every new bound value makes
        // SQLite re-prepare the look-up (measured: 85% of a scan's time). The index on
        // (namespace, package) is the right plan without statistics.
        self.conn.execute_batch("COMMIT;").map_err(err)?;
        drop(self.conn);
        std::fs::rename(&tmp, &self.path).map_err(|e| DbError::Sqlite {
            path: self.path.clone(),
            source: rusqlite::Error::ToSqlConversionFailure(Box::new(e)),
        })
    }
}

/// A statement about a package, with its advisory.
#[derive(Debug, Clone)]
pub struct Hit {
    /// The advisory that makes the statement.
    pub advisory: AdvisoryHead,
    /// The statement. Its `package` is the name as stored: for PyPI, PEP 503-normalised
    /// (`zope-interface`), not the spelling the feed or the image used.
    pub affected: Affected,
}

/// An advisory without its `affected` list.
#[derive(Debug, Clone, Serialize)]
pub struct AdvisoryHead {
    /// See [`Advisory::id`].
    pub id: String,
    /// See [`Advisory::aliases`].
    pub aliases: Vec<String>,
    /// See [`Advisory::feed`].
    pub feed: Feed,
    /// See [`Advisory::record`].
    pub record: String,
    /// See [`Advisory::published`].
    pub published: Option<String>,
    /// See [`Advisory::modified`].
    pub modified: Option<String>,
    /// See [`Advisory::summary`].
    pub summary: Option<String>,
    /// See [`Advisory::severity`].
    pub severity: Option<Severity>,
    /// See [`Advisory::cvss`].
    pub cvss: Vec<Cvss>,
    /// See [`Advisory::withdrawn`].
    pub withdrawn: bool,
}

/// What NVD says about a CVE.
#[derive(Debug, Clone, Serialize)]
pub struct NvdRecord {
    /// NVD's English description.
    pub description: Option<String>,
    /// Every CVSS metric NVD lists, newest CVSS version first; `source` tells NVD's own
    /// (`nvd@nist.gov`) from a CNA's.
    pub cvss: Vec<Cvss>,
    /// NVD marks the CVE `Rejected`.
    pub rejected: bool,
    /// NVD's `published` date-time, as written (`2021-12-10T10:15:09.143`, no zone).
    pub published: Option<String>,
}

/// A CVE's entry in CISA's Known Exploited Vulnerabilities catalog: being there means it is
/// exploited in the wild.
#[derive(Debug, Clone, Serialize, serde::Deserialize)]
pub struct Kev {
    /// When CISA added the CVE to the catalog (`YYYY-MM-DD`).
    pub date_added: Option<String>,
    /// The remediation deadline CISA set for US federal agencies (`YYYY-MM-DD`).
    pub due_date: Option<String>,
    /// Whether the CVE is known to be used in ransomware campaigns: `Known` or `Unknown`, as
    /// CISA writes it.
    pub ransomware: Option<String>,
    /// CISA's name for the vulnerability.
    pub name: Option<String>,
}

/// A CVE's FIRST EPSS score, from the scores file the database was built with.
#[derive(Debug, Clone, Copy, Serialize, serde::Deserialize)]
pub struct Epss {
    /// The probability, 0 to 1, of exploitation activity in the next 30 days.
    pub probability: f64,
    /// The share, 0 to 1, of scored CVEs whose score is at most this one's.
    pub percentile: f64,
}

/// What `db info` shows about a database file.
#[derive(Debug, Clone, Serialize)]
pub struct DbInfo {
    /// The file, as opened.
    pub path: PathBuf,
    /// Always [`DB_SCHEMA_VERSION`]: a file of another version does not open.
    pub schema_version: i64,
    /// When the database was built; `None` if the recorded time does not parse.
    pub built_at: Option<Timestamp>,
    /// Advisory records, withdrawn ones included.
    pub advisories: i64,
    /// Per-package statements across all advisories.
    pub affected: i64,
    /// CVEs with an NVD record.
    pub nvd: i64,
    /// CVEs in the KEV catalog.
    pub kev: i64,
    /// CVEs with an EPSS score.
    pub epss: i64,
    /// See [`DbMeta::newest_advisory`].
    pub newest_advisory: Option<Timestamp>,
    /// One row per input and format, ordered by format then input.
    pub sources: Vec<SourceInfo>,
    /// The file's size on disk; 0 if it cannot be read.
    pub size_bytes: u64,
}

/// An advisory head from the first ten columns of a row, in the `advisories` table's order:
/// id, aliases, feed, record, published, modified, summary, severity, cvss, withdrawn.
fn head_from_row(r: &rusqlite::Row<'_>) -> rusqlite::Result<AdvisoryHead> {
    let aliases: String = r.get(1)?;
    let cvss: String = r.get(8)?;
    Ok(AdvisoryHead {
        id: r.get(0)?,
        aliases: serde_json::from_str(&aliases).unwrap_or_default(),
        feed: parsed(r, 2)?,
        record: r.get(3)?,
        published: r.get(4)?,
        modified: r.get(5)?,
        summary: r.get(6)?,
        severity: parsed_opt(r, 7)?,
        cvss: serde_json::from_str(&cvss).unwrap_or_default(),
        withdrawn: r.get(9)?,
    })
}

/// A path as an SQLite URI path: `%`, `?` and `#` escaped.
fn uri_escape(path: &Path) -> String {
    let abs = std::path::absolute(path).unwrap_or_else(|_| path.to_owned());
    abs.to_string_lossy()
        .chars()
        .map(|c| match c {
            '%' => "%25".to_owned(),
            '?' => "%3f".to_owned(),
            '#' => "%23".to_owned(),
            c => c.to_string(),
        })
        .collect()
}

/// The database's build time and newest advisory date, without counting rows.
#[derive(Debug, Clone, Serialize)]
pub struct DbMeta {
    /// When the database was built (the time `db build` or `db update` was given); `None` if
    /// the recorded time does not parse.
    pub built_at: Option<Timestamp>,
    /// The newest date any feed gave a record (published or modified).
    pub newest_advisory: Option<Timestamp>,
}

/// A read-only handle on a database file.
pub struct VulnDb {
    conn: Connection,
    path: PathBuf,
    /// (namespace, feed) pairs that hold statements, with the newest record date of each.
    present: std::collections::HashMap<(Namespace, Feed), Option<Timestamp>>,
}

impl VulnDb {
    /// Open a database read-only. The file must not be rewritten in place while open (a
    /// rebuild replaces it by rename, which is safe).
    ///
    /// # Errors
    /// [`DbError::NotADb`] for a missing file or one that is not a customs database,
    /// [`DbError::Schema`] for one of another schema version.
    pub fn open(path: &Path) -> Result<Self, DbError> {
        let err = |source| DbError::Sqlite {
            path: path.to_owned(),
            source,
        };
        if !path.is_file() {
            return Err(DbError::NotADb {
                path: path.to_owned(),
                why: "no such file".to_owned(),
            });
        }
        // immutable=1: the file is never written while open (a rebuild replaces it by rename), so
        // SQLite can skip the per-query file locks and journal checks, which otherwise cost
        // three system calls per look-up; mmap serves pages without a read call each.
        let uri = format!("file:{}?immutable=1", uri_escape(path));
        let conn = Connection::open_with_flags(
            uri,
            OpenFlags::SQLITE_OPEN_READ_ONLY
                | OpenFlags::SQLITE_OPEN_NO_MUTEX
                | OpenFlags::SQLITE_OPEN_URI,
        )
        .map_err(err)?;
        conn.execute_batch("PRAGMA mmap_size = 1073741824;")
            .map_err(err)?;
        let version: Option<String> = conn
            .query_row(
                "SELECT value FROM meta WHERE key = 'schema_version'",
                [],
                |r| r.get(0),
            )
            .optional()
            .map_err(|e| DbError::NotADb {
                path: path.to_owned(),
                why: e.to_string(),
            })?;
        let found = version
            .and_then(|v| v.parse::<i64>().ok())
            .ok_or_else(|| DbError::NotADb {
                path: path.to_owned(),
                why: "no schema version".to_owned(),
            })?;
        if found != DB_SCHEMA_VERSION {
            return Err(DbError::Schema {
                path: path.to_owned(),
                found,
            });
        }
        let present = conn
            .prepare("SELECT namespace, feed, newest FROM namespaces")
            .and_then(|mut st| {
                st.query_map([], |r| {
                    let newest: Option<String> = r.get(2)?;
                    Ok((
                        (parsed(r, 0)?, parsed(r, 1)?),
                        newest.and_then(|t| Timestamp::parse_lenient(&t).ok()),
                    ))
                })
                .map(|rows| rows.filter_map(Result::ok).collect())
            })
            .map_err(err)?;
        Ok(Self {
            conn,
            path: path.to_owned(),
            present,
        })
    }

    fn err(&self, source: rusqlite::Error) -> DbError {
        DbError::Sqlite {
            path: self.path.clone(),
            source,
        }
    }

    /// Every statement about `package` in `namespace`, with its advisory. PyPI names match as
    /// PEP 503 says, whatever their spelling (`Jinja2`, `jinja2`,
    /// `zope.interface`/`zope-interface`).
    pub fn lookup(&self, namespace: &Namespace, package: &str) -> Result<Vec<Hit>, DbError> {
        let mut st = self
            .conn
            .prepare_cached(
                "SELECT a.id, a.aliases, a.feed, a.record, a.published, a.modified, a.summary, a.severity, a.cvss, a.withdrawn,
                        f.namespace, f.package, f.status, f.severity, f.note
                 FROM affected f JOIN advisories a ON a.rowid = f.advisory
                 WHERE f.namespace = ?1 AND f.package = ?2",
            )
            .map_err(|e| self.err(e))?;
        let rows = st
            .query_map(
                params![namespace.as_str(), package_key(namespace, package)],
                |r| {
                    let status: String = r.get(12)?;
                    Ok((
                        head_from_row(r)?,
                        parsed::<Namespace>(r, 10)?,
                        r.get::<_, String>(11)?,
                        status,
                        parsed_opt(r, 13)?,
                        r.get::<_, Option<String>>(14)?,
                    ))
                },
            )
            .map_err(|e| self.err(e))?;
        let mut out = Vec::new();
        for row in rows {
            let (advisory, namespace, package, status, severity, note) =
                row.map_err(|e| self.err(e))?;
            // A status this build cannot read is skipped rather than guessed.
            let Ok(status) = serde_json::from_str::<Status>(&status) else {
                continue;
            };
            out.push(Hit {
                advisory,
                affected: Affected {
                    namespace,
                    package,
                    status,
                    severity,
                    note,
                },
            });
        }
        Ok(out)
    }

    /// NVD's CVSS entries and description for a CVE.
    pub fn nvd(&self, cve: &str) -> Result<Option<NvdRecord>, DbError> {
        self.conn
            .prepare_cached("SELECT description, cvss, rejected, published FROM nvd WHERE cve = ?1")
            .and_then(|mut s| {
                s.query_row([cve], |r| {
                    let c: String = r.get(1)?;
                    Ok(NvdRecord {
                        description: r.get(0)?,
                        cvss: serde_json::from_str(&c).unwrap_or_default(),
                        rejected: r.get(2)?,
                        published: r.get(3)?,
                    })
                })
                .optional()
            })
            .map_err(|e| self.err(e))
    }

    /// The CVE's KEV catalog entry, if it is in the catalog.
    pub fn kev(&self, cve: &str) -> Result<Option<Kev>, DbError> {
        self.conn
            .prepare_cached("SELECT date_added, due_date, ransomware, name FROM kev WHERE cve = ?1")
            .and_then(|mut s| {
                s.query_row([cve], |r| {
                    Ok(Kev {
                        date_added: r.get(0)?,
                        due_date: r.get(1)?,
                        ransomware: r.get(2)?,
                        name: r.get(3)?,
                    })
                })
                .optional()
            })
            .map_err(|e| self.err(e))
    }

    /// The CVE's EPSS score, if the scores file had one.
    pub fn epss(&self, cve: &str) -> Result<Option<Epss>, DbError> {
        self.conn
            .prepare_cached("SELECT probability, percentile FROM epss WHERE cve = ?1")
            .and_then(|mut s| {
                s.query_row([cve], |r| {
                    Ok(Epss {
                        probability: r.get(0)?,
                        percentile: r.get(1)?,
                    })
                })
                .optional()
            })
            .map_err(|e| self.err(e))
    }

    /// Advisories whose id or alias is `id`, for `explain`.
    pub fn advisories_named(
        &self,
        id: &str,
    ) -> Result<Vec<(AdvisoryHead, Vec<Affected>)>, DbError> {
        let mut st = self
            .conn
            .prepare_cached(
                "SELECT rowid FROM advisories WHERE id = ?1 UNION SELECT advisory FROM aliases WHERE alias = ?1",
            )
            .map_err(|e| self.err(e))?;
        let ids: Vec<i64> = st
            .query_map([id], |r| r.get(0))
            .map_err(|e| self.err(e))?
            .filter_map(Result::ok)
            .collect();
        let mut out = Vec::new();
        for rowid in ids {
            let head = self
                .conn
                .query_row(
                    "SELECT id, aliases, feed, record, published, modified, summary, severity, cvss, withdrawn FROM advisories WHERE rowid = ?1",
                    [rowid],
                    head_from_row,
                )
                .map_err(|e| self.err(e))?;
            let mut st = self
                .conn
                .prepare_cached("SELECT namespace, package, status, severity, note FROM affected WHERE advisory = ?1")
                .map_err(|e| self.err(e))?;
            let affected = st
                .query_map([rowid], |r| {
                    let status: String = r.get(2)?;
                    Ok((
                        parsed::<Namespace>(r, 0)?,
                        r.get::<_, String>(1)?,
                        status,
                        parsed_opt(r, 3)?,
                        r.get::<_, Option<String>>(4)?,
                    ))
                })
                .map_err(|e| self.err(e))?
                .filter_map(Result::ok)
                .filter_map(|(namespace, package, status, severity, note)| {
                    Some(Affected {
                        namespace,
                        package,
                        status: serde_json::from_str(&status).ok()?,
                        severity,
                        note,
                    })
                })
                .collect();
            out.push((head, affected));
        }
        Ok(out)
    }

    /// Ids and aliases of every withdrawn or rejected advisory, and of CVEs NVD rejected:
    /// why a finding that named one went away. A rejected CVE often names no package any
    /// more, so the package look-ups of a match never meet it.
    pub fn withdrawn_ids(&self) -> Result<BTreeSet<String>, DbError> {
        let mut st = self
            .conn
            .prepare(
                "SELECT id FROM advisories WHERE withdrawn = 1
                 UNION SELECT l.alias FROM aliases l JOIN advisories a ON a.rowid = l.advisory
                    WHERE a.withdrawn = 1
                 UNION SELECT cve FROM nvd WHERE rejected = 1",
            )
            .map_err(|e| self.err(e))?;
        let rows = st
            .query_map([], |r| r.get::<_, String>(0))
            .map_err(|e| self.err(e))?;
        rows.collect::<Result<_, _>>().map_err(|e| self.err(e))
    }

    /// A fingerprint of everything the database says about each (namespace, package): the
    /// advisories naming it, their status, severity, aliases, CVSS and withdrawal. Two
    /// databases' fingerprints differ exactly for the packages an advisory change touches,
    /// which is what `rematch --since-db` re-evaluates. (Fingerprints compare within one
    /// process only: the hasher is not stable across builds.)
    pub fn package_fingerprints(
        &self,
    ) -> Result<std::collections::HashMap<(Namespace, String), u64>, DbError> {
        use std::hash::{Hash, Hasher};
        let mut st = self
            .conn
            .prepare(
                "SELECT f.namespace, f.package, a.id, a.withdrawn, a.severity, a.cvss, a.aliases,
                        f.status, f.severity, f.note
                 FROM affected f JOIN advisories a ON a.rowid = f.advisory",
            )
            .map_err(|e| self.err(e))?;
        let mut out: std::collections::HashMap<(Namespace, String), u64> =
            std::collections::HashMap::new();
        let mut rows = st.query([]).map_err(|e| self.err(e))?;
        while let Some(r) = rows.next().map_err(|e| self.err(e))? {
            let key: (Namespace, String) = (
                parsed(r, 0).map_err(|e| self.err(e))?,
                r.get(1).map_err(|e| self.err(e))?,
            );
            let mut h = std::collections::hash_map::DefaultHasher::new();
            for i in 2..10 {
                let v: rusqlite::types::Value = r.get(i).map_err(|e| self.err(e))?;
                format!("{v:?}").hash(&mut h);
            }
            // Summed, so the order rows come in does not matter.
            let e = out.entry(key).or_insert(0);
            *e = e.wrapping_add(h.finish());
        }
        Ok(out)
    }

    /// Whether any statement is in `namespace` (from `feed`, when given).
    pub fn has(&self, namespace: &Namespace, feed: Option<Feed>) -> bool {
        self.present
            .keys()
            .any(|(n, f)| n == namespace && feed.is_none_or(|want| want == *f))
    }

    /// The feeds with statements in `namespace`, each with the newest date it gave a record
    /// there (`None` where its records carry no date). Empty: the database knows nothing of
    /// the namespace, so it cannot say a package there is unaffected.
    #[must_use]
    pub fn feeds_in(&self, namespace: &Namespace) -> Vec<(Feed, Option<Timestamp>)> {
        let mut out: Vec<(Feed, Option<Timestamp>)> = self
            .present
            .iter()
            .filter(|((n, _), _)| n == namespace)
            .map(|((_, f), t)| (*f, *t))
            .collect();
        out.sort();
        out
    }

    /// Whether the database holds no statement about any package: matched against it, every
    /// image would look clean.
    #[must_use]
    pub fn is_empty(&self) -> bool {
        self.present.is_empty()
    }

    /// The build time and the newest record date.
    pub fn meta(&self) -> Result<DbMeta, DbError> {
        let built_at: Option<String> = self
            .conn
            .query_row("SELECT value FROM meta WHERE key = 'built_at'", [], |r| {
                r.get(0)
            })
            .optional()
            .map_err(|e| self.err(e))?;
        // Feeds write dates in several forms (a date, a time with an offset), so the newest
        // is found after reading them, not by comparing text.
        let mut st = self
            .conn
            .prepare("SELECT DISTINCT newest FROM sources WHERE newest IS NOT NULL")
            .map_err(|e| self.err(e))?;
        let newest_advisory = st
            .query_map([], |r| r.get::<_, String>(0))
            .map_err(|e| self.err(e))?
            .filter_map(|r| Timestamp::parse_lenient(&r.ok()?).ok())
            .max();
        Ok(DbMeta {
            built_at: built_at.and_then(|t| Timestamp::parse_lenient(&t).ok()),
            newest_advisory,
        })
    }

    /// What `db info` shows: the meta, the record counts, the sources.
    pub fn info(&self) -> Result<DbInfo, DbError> {
        let count = |sql: &str| -> Result<i64, DbError> {
            self.conn
                .query_row(sql, [], |r| r.get(0))
                .map_err(|e| self.err(e))
        };
        let meta = self.meta()?;
        let mut st = self
            .conn
            .prepare("SELECT feed, input, records, newest FROM sources ORDER BY feed, input")
            .map_err(|e| self.err(e))?;
        let sources = st
            .query_map([], |r| {
                Ok(SourceInfo {
                    feed: r.get(0)?,
                    input: r.get(1)?,
                    records: r.get(2)?,
                    newest: r.get(3)?,
                })
            })
            .map_err(|e| self.err(e))?
            .filter_map(Result::ok)
            .collect();
        Ok(DbInfo {
            path: self.path.clone(),
            schema_version: DB_SCHEMA_VERSION,
            built_at: meta.built_at,
            advisories: count("SELECT count(*) FROM advisories")?,
            affected: count("SELECT count(*) FROM affected")?,
            nvd: count("SELECT count(*) FROM nvd")?,
            kev: count("SELECT count(*) FROM kev")?,
            epss: count("SELECT count(*) FROM epss")?,
            newest_advisory: meta.newest_advisory,
            sources,
            size_bytes: std::fs::metadata(&self.path).map(|m| m.len()).unwrap_or(0),
        })
    }

    /// The file this handle reads.
    pub fn path(&self) -> &Path {
        &self.path
    }
}

/// How a package name is stored and looked up: PyPI names PEP 503-normalised, since PyPI
/// treats those spellings as one project; others as written.
fn package_key(namespace: &Namespace, package: &str) -> String {
    match namespace.ecosystem() {
        Some(ecosystem) => ecosystem.match_name(package),
        None => package.to_owned(),
    }
}

/// How two databases differ, advisory by advisory (`customs db diff`): each list holds
/// `(feed, id)` pairs, sorted.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize)]
pub struct DbDiff {
    /// In the new database only.
    pub added: Vec<(Feed, String)>,
    /// In both, with anything they say different: a fixed version, a status, a package, the
    /// severity, CVSS, aliases, the summary.
    pub changed: Vec<(Feed, String)>,
    /// In both, and withdrawn (or rejected) in the new one only.
    pub withdrawn: Vec<(Feed, String)>,
    /// In the old database only (its feed no longer lists it, or the feed is missing).
    pub removed: Vec<(Feed, String)>,
}

impl DbDiff {
    /// Whether the two databases say the same.
    #[must_use]
    pub fn is_empty(&self) -> bool {
        self.added.is_empty()
            && self.changed.is_empty()
            && self.withdrawn.is_empty()
            && self.removed.is_empty()
    }
}

/// Per `(feed, id)`: whether withdrawn, and a fingerprint of everything the advisory says.
type AdvisoryPrints = std::collections::HashMap<(Feed, String), (bool, u64)>;

impl VulnDb {
    /// Per advisory, `(withdrawn, fingerprint of everything it says)`. Rows are hashed one by
    /// one and summed, so the order they come in does not matter; where a build recorded one
    /// record twice (a feed that repeats an id), both are summed in.
    fn advisory_fingerprints(&self) -> Result<AdvisoryPrints, DbError> {
        use std::hash::{Hash, Hasher};
        let mut st = self
            .conn
            .prepare(
                "SELECT a.feed, a.id, a.withdrawn, a.aliases, a.severity, a.cvss, a.summary,
                        f.namespace, f.package, f.status, f.severity, f.note
                 FROM advisories a LEFT JOIN affected f ON f.advisory = a.rowid",
            )
            .map_err(|e| self.err(e))?;
        let mut out = AdvisoryPrints::new();
        let mut rows = st.query([]).map_err(|e| self.err(e))?;
        while let Some(r) = rows.next().map_err(|e| self.err(e))? {
            let key = (
                parsed::<Feed>(r, 0).map_err(|e| self.err(e))?,
                r.get::<_, String>(1).map_err(|e| self.err(e))?,
            );
            let withdrawn: bool = r.get(2).map_err(|e| self.err(e))?;
            let mut h = std::collections::hash_map::DefaultHasher::new();
            for i in 3..12 {
                let v: rusqlite::types::Value = r.get(i).map_err(|e| self.err(e))?;
                format!("{v:?}").hash(&mut h);
            }
            let e = out.entry(key).or_insert((false, 0));
            e.0 |= withdrawn;
            e.1 = e.1.wrapping_add(h.finish());
        }
        Ok(out)
    }

    /// What changed from `old` to `self`, advisory by advisory.
    ///
    /// # Errors
    /// Either database's errors.
    pub fn diff_from(&self, old: &VulnDb) -> Result<DbDiff, DbError> {
        let (before, after) = (old.advisory_fingerprints()?, self.advisory_fingerprints()?);
        let mut d = DbDiff::default();
        for (key, (withdrawn, print)) in &after {
            match before.get(key) {
                None => d.added.push(key.clone()),
                Some((was_withdrawn, _)) if *withdrawn && !was_withdrawn => {
                    d.withdrawn.push(key.clone());
                }
                Some((_, was)) if was != print => d.changed.push(key.clone()),
                Some(_) => {}
            }
        }
        d.removed = before
            .keys()
            .filter(|k| !after.contains_key(*k))
            .cloned()
            .collect();
        for list in [
            &mut d.added,
            &mut d.changed,
            &mut d.withdrawn,
            &mut d.removed,
        ] {
            list.sort();
        }
        Ok(d)
    }
}
