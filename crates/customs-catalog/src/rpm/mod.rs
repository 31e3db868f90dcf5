//! rpm's installed-package database, whichever backend wrote it.
//!
//! rpm keeps one header blob per installed package (see `header.rs`) in a database whose
//! storage changed over the years. [`parse_db`] takes the database file's bytes and tells the
//! backend from its magic:
//!
//! | backend | file under `/var/lib/rpm` or `/usr/lib/sysimage/rpm` | written by | magic |
//! |---|---|---|---|
//! | `SQLite` (`sqlite.rs`) | `rpmdb.sqlite` | rpm ≥ 4.16: Fedora 33+, RHEL 9+, Mariner, AL2023 | `SQLite format 3\0` |
//! | Berkeley DB hash (`bdb.rs`) | `Packages` | rpm ≤ 4.15: RHEL/CentOS ≤ 8, Amazon Linux 2 | `0x00061561` at 12, either byte order |
//! | NDB (`ndb.rs`) | `Packages.db` | SUSE: SLES 15 SP3+, openSUSE | `RpmP` |
//!
//! What comes out is what `rpm -qa` lists, with one deliberate exception: `gpg-pubkey`. rpm
//! stores every imported signing key as a pseudo-package header (name `gpg-pubkey`, version
//! the key id, no arch) and `rpm -qa` prints them: checked with rpm 4.18, where `rpmkeys
//! --import` of one key makes `rpm -qa` list `gpg-pubkey-8783d481-63ceb953`. They are not
//! installed software and own no files, so they are dropped here.
//!
//! The bytes come from image layers, that is from strangers. Every backend bounds its loops
//! by the file's page or slot count, allocates only what the file's size can back, and never
//! panics. One unreadable package record is skipped so that the rest of the image is still
//! inventoried; only a database in which no record at all could be read is an error.

mod bdb;
mod header;
mod ndb;
mod sqlite;

use serde::{Deserialize, Serialize};

/// One installed rpm, as read from a header blob.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub(crate) struct RpmPackage {
    pub(crate) name: String,
    pub(crate) epoch: Option<u32>,
    pub(crate) version: String,
    pub(crate) release: String,
    pub(crate) arch: Option<String>,
    /// The SOURCERPM tag, e.g. `openssl-3.0.7-1.el9.src.rpm`.
    pub(crate) source_rpm: Option<String>,
    /// The LICENSE tag (`GPLv2+`, `MIT AND BSD-3-Clause`).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub(crate) license: Option<String>,
    /// The VENDOR tag (`Red Hat, Inc.`).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub(crate) vendor: Option<String>,
    /// REQUIRENAME, without rpm's own `rpmlib(…)` features: package names, capabilities
    /// (`libc.so.6()(64bit)`) and file paths (`/bin/sh`).
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub(crate) requires: Vec<String>,
    /// PROVIDENAME: the capabilities it provides.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub(crate) provides: Vec<String>,
    /// Absolute paths of the files the package owns, in header order.
    pub(crate) files: Vec<String>,
}

/// Why an rpm database could not be read.
///
/// Variants that wrap another error keep it as their `source`, so print the whole chain.
#[derive(Debug, thiserror::Error)]
pub(crate) enum RpmError {
    #[error("not an rpm database: no SQLite, Berkeley DB hash or NDB magic")]
    UnknownFormat,
    #[error("SQLite: {what}")]
    Sqlite {
        what: &'static str,
        #[source]
        source: rusqlite::Error,
    },
    #[error("SQLite: {0}")]
    SqliteLayout(String),
    #[error("Berkeley DB: {0}")]
    Bdb(String),
    #[error("NDB: {0}")]
    Ndb(String),
    #[error("package header #{hnum} is corrupt")]
    Header {
        hnum: i64,
        #[source]
        source: header::HeaderError,
    },
    #[error(
        "package records add up to more than the file's {file_len} bytes: they share storage, \
         so the database is corrupt"
    )]
    Oversized { file_len: usize },
    #[error("no package could be read: all {corrupt} package records are corrupt, the first:")]
    NothingReadable {
        corrupt: usize,
        #[source]
        first: Box<RpmError>,
    },
}

/// The name rpm gives the pseudo-packages that hold imported signing keys.
const GPG_PUBKEY: &str = "gpg-pubkey";

const SQLITE_MAGIC: &[u8] = b"SQLite format 3\0";
const NDB_MAGIC: &[u8] = b"RpmP";
const BDB_HASH_MAGIC: u32 = 0x0006_1561;

/// Read every package from an rpm database file's bytes, whatever its backend, sorted by
/// name, then version, release, epoch and arch.
pub(crate) fn parse_db(bytes: &[u8]) -> Result<Vec<RpmPackage>, RpmError> {
    let mut records = Records::new(bytes.len());
    if bytes.starts_with(SQLITE_MAGIC) {
        sqlite::read(bytes, &mut records)?;
    } else if bytes.starts_with(NDB_MAGIC) {
        ndb::read(bytes, &mut records)?;
    } else if bdb::has_magic(bytes) {
        bdb::read(bytes, &mut records)?;
    } else {
        return Err(RpmError::UnknownFormat);
    }
    records.finish()
}

/// One header blob on its own, for the fuzz targets: the backends reach it only through a
/// database, which makes the header parser a small part of their input space.
#[cfg(any(test, feature = "fuzzing"))]
pub(crate) fn parse_header(blob: &[u8]) -> Result<RpmPackage, header::HeaderError> {
    header::parse_package(blob)
}

/// What the backends found: packages, and the records that could not be read.
struct Records {
    /// Header bytes still allowed. A sound database holds each blob once, so the blobs of a
    /// file can never add up to more than its size; going past it means records overlap,
    /// and reading on would let a small hostile file cost quadratic time and memory.
    budget: usize,
    file_len: usize,
    packages: Vec<RpmPackage>,
    pubkeys: usize,
    corrupt: usize,
    first_corrupt: Option<RpmError>,
}

impl Records {
    fn new(file_len: usize) -> Self {
        Records {
            budget: file_len,
            file_len,
            packages: Vec::new(),
            pubkeys: 0,
            corrupt: 0,
            first_corrupt: None,
        }
    }

    /// Take one header blob; only an exhausted budget stops the backend.
    fn header(&mut self, hnum: i64, blob: &[u8]) -> Result<(), RpmError> {
        self.budget = self
            .budget
            .checked_sub(blob.len())
            .ok_or(RpmError::Oversized {
                file_len: self.file_len,
            })?;
        match header::parse_package(blob) {
            Ok(package) if package.name == GPG_PUBKEY => self.pubkeys += 1,
            Ok(package) => self.packages.push(package),
            Err(source) => self.corrupt(RpmError::Header { hnum, source }),
        }
        Ok(())
    }

    /// Note a record the backend could not even get a header blob out of.
    fn corrupt(&mut self, error: RpmError) {
        self.corrupt += 1;
        self.first_corrupt.get_or_insert(error);
    }

    fn finish(self) -> Result<Vec<RpmPackage>, RpmError> {
        let mut packages = self.packages;
        if packages.is_empty()
            && self.pubkeys == 0
            && let Some(first) = self.first_corrupt
        {
            return Err(RpmError::NothingReadable {
                corrupt: self.corrupt,
                first: Box::new(first),
            });
        }
        packages.sort_by(|a, b| {
            (&a.name, &a.version, &a.release, a.epoch, &a.arch)
                .cmp(&(&b.name, &b.version, &b.release, b.epoch, &b.arch))
        });
        Ok(packages)
    }
}

#[cfg(test)]
mod tests {
    use std::fmt::Write as _;
    use std::path::PathBuf;

    use sha2::{Digest as _, Sha256};

    use super::header::tests::{blob, package, string};
    use super::*;

    /// The real databases live outside the repository, in the shared data folder next to it.
    fn real_db(name: &str) -> Vec<u8> {
        let path = PathBuf::from(env!("CARGO_MANIFEST_DIR"))
            .join("../../../shared/data/packagedb/rpm")
            .join(name);
        std::fs::read(&path).unwrap_or_else(|err| {
            panic!(
                "the rpm test databases must be present: cannot read {}: {err}",
                path.display()
            )
        })
    }

    fn fixture(name: &str) -> String {
        let path = PathBuf::from(env!("CARGO_MANIFEST_DIR"))
            .join("tests/fixtures/rpm")
            .join(name);
        std::fs::read_to_string(&path)
            .unwrap_or_else(|err| panic!("cannot read fixture {}: {err}", path.display()))
    }

    fn fixture_lines(name: &str) -> Vec<String> {
        let mut lines: Vec<String> = fixture(name)
            .lines()
            .filter(|line| !line.starts_with('#') && !line.is_empty())
            .map(str::to_owned)
            .collect();
        lines.sort();
        lines
    }

    /// One package as `rpm --qf '%{NAME}\t%{EPOCHNUM}\t%{VERSION}\t%{RELEASE}\t%{ARCH}\t%{SOURCERPM}'`
    /// prints it.
    fn qa_line(package: &RpmPackage) -> String {
        format!(
            "{}\t{}\t{}\t{}\t{}\t{}",
            package.name,
            package.epoch.unwrap_or(0),
            package.version,
            package.release,
            package.arch.as_deref().unwrap_or("(none)"),
            package.source_rpm.as_deref().unwrap_or("(none)"),
        )
    }

    fn qa_lines(packages: &[RpmPackage]) -> Vec<String> {
        let mut lines: Vec<String> = packages.iter().map(qa_line).collect();
        lines.sort();
        lines
    }

    /// `name\tfile count\tsha256 of the paths, each followed by a newline`, for every package
    /// that owns files: the form `regen.sh` writes, small enough to commit for thousands of
    /// files.
    fn file_digests(packages: &[RpmPackage]) -> Vec<String> {
        let mut lines: Vec<String> = packages
            .iter()
            .filter(|package| !package.files.is_empty())
            .map(|package| {
                let mut sha = Sha256::new();
                for file in &package.files {
                    sha.update(file.as_bytes());
                    sha.update(b"\n");
                }
                let digest = sha.finalize().iter().fold(String::new(), |mut hex, byte| {
                    let _ = write!(hex, "{byte:02x}");
                    hex
                });
                format!("{}\t{}\t{digest}", package.name, package.files.len())
            })
            .collect();
        lines.sort();
        lines
    }

    #[test]
    fn mariner_sqlite_matches_rpm_qa() {
        let packages = parse_db(&real_db("mariner-2.0-rpmdb.sqlite")).expect("readable database");
        assert_eq!(packages.len(), 129);
        assert_eq!(
            qa_lines(&packages),
            fixture_lines("mariner-2.0-rpmdb.sqlite.qa.tsv")
        );
    }

    #[test]
    fn mariner_sqlite_file_lists_match_rpm() {
        let packages = parse_db(&real_db("mariner-2.0-rpmdb.sqlite")).expect("readable database");
        assert_eq!(
            file_digests(&packages),
            fixture_lines("mariner-2.0-rpmdb.sqlite.files.tsv")
        );
        let bash = packages
            .iter()
            .find(|p| p.name == "bash")
            .expect("bash is installed");
        assert_eq!(bash.files.first().map(String::as_str), Some("/bin/bash"));
    }

    #[test]
    fn rhel8_bdb_matches_rpm_qa() {
        let packages = parse_db(&real_db("rhel8-libuuid-Packages.bdb")).expect("readable database");
        assert_eq!(
            qa_lines(&packages),
            fixture_lines("rhel8-libuuid-Packages.bdb.qa.tsv")
        );
    }

    #[test]
    fn rhel8_bdb_file_list_matches_rpm_ql() {
        let packages = parse_db(&real_db("rhel8-libuuid-Packages.bdb")).expect("readable database");
        let [libuuid] = packages.as_slice() else {
            panic!("expected one package, got {packages:?}");
        };
        let expected: Vec<String> = fixture("rhel8-libuuid-Packages.bdb.files.txt")
            .lines()
            .filter(|line| !line.starts_with('#'))
            .map(str::to_owned)
            .collect();
        assert_eq!(libuuid.files, expected);
    }

    #[test]
    fn sle15_ndb_matches_the_go_rpmdb_list() {
        let packages = parse_db(&real_db("sle15-bci-Packages.db")).expect("readable database");
        assert_eq!(packages.len(), 35);
        assert_eq!(
            qa_lines(&packages),
            fixture_lines("sle15-bci-Packages.db.qa.tsv")
        );
    }

    #[test]
    fn sle15_ndb_file_lists_match_rpm() {
        let packages = parse_db(&real_db("sle15-bci-Packages.db")).expect("readable database");
        assert_eq!(
            file_digests(&packages),
            fixture_lines("sle15-bci-Packages.db.files.tsv")
        );
    }

    #[test]
    fn packages_come_sorted() {
        let packages = parse_db(&real_db("mariner-2.0-rpmdb.sqlite")).expect("readable database");
        assert!(packages.windows(2).all(|pair| pair[0].name <= pair[1].name));
    }

    /// An in-memory `rpmdb.sqlite` holding `blobs`, the way rpm lays it out.
    fn sqlite_db(blobs: &[Vec<u8>]) -> Vec<u8> {
        let conn = rusqlite::Connection::open_in_memory().expect("in-memory database");
        conn.execute_batch(
            "CREATE TABLE Packages (hnum INTEGER PRIMARY KEY AUTOINCREMENT, blob BLOB NOT NULL)",
        )
        .expect("create table");
        for blob in blobs {
            conn.execute("INSERT INTO Packages (blob) VALUES (?1)", [blob])
                .expect("insert");
        }
        conn.serialize("main").expect("serialize").to_vec()
    }

    #[test]
    fn gpg_pubkeys_are_not_packages() {
        let key = blob(&[
            string(1000, "gpg-pubkey"),
            string(1001, "8783d481"),
            string(1002, "63ceb953"),
        ]);
        let packages = parse_db(&sqlite_db(&[key.clone(), package("zlib")])).expect("readable");
        assert_eq!(
            packages.iter().map(|p| p.name.as_str()).collect::<Vec<_>>(),
            ["zlib"]
        );
        // A database of keys only is an empty system, not a broken one.
        assert_eq!(parse_db(&sqlite_db(&[key])).expect("readable"), []);
    }

    #[test]
    fn a_corrupt_header_is_skipped() {
        let mut broken = package("broken");
        broken[0] = 0x80;
        let packages =
            parse_db(&sqlite_db(&[package("zlib"), broken, package("bash")])).expect("readable");
        assert_eq!(
            packages.iter().map(|p| p.name.as_str()).collect::<Vec<_>>(),
            ["bash", "zlib"]
        );
    }

    #[test]
    fn only_corrupt_headers_is_an_error() {
        let mut broken = package("broken");
        broken.truncate(20);
        let err = parse_db(&sqlite_db(&[broken.clone(), broken])).expect_err("nothing readable");
        let RpmError::NothingReadable { corrupt: 2, first } = &err else {
            panic!("unexpected error {err:?}");
        };
        assert!(
            matches!(**first, RpmError::Header { hnum: 1, .. }),
            "{first:?}"
        );
    }

    #[test]
    fn an_empty_database_has_no_packages() {
        assert_eq!(parse_db(&sqlite_db(&[])).expect("readable"), []);
    }

    #[test]
    fn unknown_bytes_are_rejected() {
        for bytes in [
            &b""[..],
            b"RpmX",
            b"\x7fELF\x02\x01\x01\0\0\0\0\0\0\0\0\0",
            &[0; 4096],
        ] {
            assert!(matches!(parse_db(bytes), Err(RpmError::UnknownFormat)));
        }
    }

    /// A small deterministic generator (xorshift64*), so failures replay exactly.
    struct Rng(u64);

    impl Rng {
        fn below(&mut self, n: usize) -> usize {
            self.0 ^= self.0 >> 12;
            self.0 ^= self.0 << 25;
            self.0 ^= self.0 >> 27;
            let wide = self.0.wrapping_mul(0x2545_f491_4f6c_dd1d) % n as u64;
            usize::try_from(wide).expect("below n")
        }
    }

    /// Damaged real databases must give packages or an error, never a panic or a hang.
    fn survives_damage(name: &str, rounds: usize) {
        let original = real_db(name);
        let mut rng = Rng(0x9e37_79b9_7f4a_7c15);
        let step = (original.len() / 61).max(1);
        for len in (0..original.len())
            .step_by(step)
            .chain([original.len() - 1])
        {
            let _ = parse_db(&original[..len]);
        }
        for _ in 0..rounds {
            let mut bytes = original.clone();
            for _ in 0..=rng.below(8) {
                let at = rng.below(bytes.len());
                bytes[at] = u8::try_from(rng.below(256)).expect("a byte");
            }
            let _ = parse_db(&bytes);
        }
    }

    /// Random damage mostly lands in file contents; the index entries and sizes at the front
    /// of a header are where a hostile file aims, so every byte there gets the worst values.
    #[test]
    fn damaged_real_header_indexes_never_panic() {
        let conn = rusqlite::Connection::open_in_memory().expect("in-memory database");
        let mut bytes = real_db("mariner-2.0-rpmdb.sqlite");
        bytes[18..20].copy_from_slice(&[1, 1]);
        let mut conn = conn;
        conn.deserialize_read_exact("main", bytes.as_slice(), bytes.len(), true)
            .expect("load");
        let blobs: Vec<Vec<u8>> = conn
            .prepare("SELECT blob FROM Packages ORDER BY hnum LIMIT 2")
            .expect("query")
            .query_map([], |row| row.get(0))
            .expect("rows")
            .collect::<Result<_, _>>()
            .expect("blobs");
        for blob in blobs {
            let front = blob.len().min(8 + 16 * 40);
            for at in 0..front {
                for value in [0x00, 0x01, 0x7f, 0x80, 0xff] {
                    let mut damaged = blob.clone();
                    damaged[at] = value;
                    let _ = header::parse_package(&damaged);
                }
            }
        }
    }

    #[test]
    fn damaged_sqlite_never_panics() {
        survives_damage("mariner-2.0-rpmdb.sqlite", 40);
    }

    #[test]
    fn damaged_bdb_never_panics() {
        survives_damage("rhel8-libuuid-Packages.bdb", 400);
    }

    #[test]
    fn damaged_ndb_never_panics() {
        survives_damage("sle15-bci-Packages.db", 100);
    }
}
