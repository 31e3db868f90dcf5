//! The schema, written once for both backends: the migrations runner, the schema version and
//! the integrity check ([`Store`]). The scripts themselves are the backends' (`MIGRATIONS` in
//! `sqlite.rs` and `pg.rs`): the column types differ.

use crate::sql::Backend;
use crate::{INVARIANTS, SCHEMA_VERSION, Store, StoreError, Timestamp};

/// Bring the store's schema to [`SCHEMA_VERSION`], in one write transaction: the versions
/// missing from `schema_migrations`, in order. A store migrated by a newer customs is refused,
/// and left as it is.
pub(crate) fn migrate<B: Backend>(db: &mut B) -> Result<(), StoreError> {
    db.write(|tx| {
        tx.batch(B::BOOKKEEPING)?;
        let found = tx
            .row(
                "SELECT coalesce(max(version), 0) FROM schema_migrations",
                &[],
                |r| r.i64(0),
            )?
            .unwrap_or(0);
        if found > SCHEMA_VERSION {
            return Err(StoreError::SchemaTooNew {
                found,
                supported: SCHEMA_VERSION,
            });
        }
        for (version, script) in (1_i64..)
            .zip(B::MIGRATIONS)
            .skip(usize::try_from(found).unwrap_or(0))
        {
            tx.batch(script)?;
            tx.execute(
                "INSERT INTO schema_migrations (version, applied_at) VALUES (?1, ?2)",
                &[version.into(), Timestamp::now().into()],
            )?;
        }
        Ok(())
    })
}

impl<B: Backend> Store for B {
    fn schema_version(&mut self) -> Result<i64, StoreError> {
        self.read(|tx| {
            Ok(tx
                .row("SELECT max(version) FROM schema_migrations", &[], |r| {
                    r.opt_i64(0)
                })?
                .flatten()
                .unwrap_or(0))
        })
    }

    fn check(&mut self) -> Result<(), StoreError> {
        let version = self.schema_version()?;
        self.read(|tx| {
            let mut problems = B::engine_check(tx)?;
            for (what, sql) in INVARIANTS {
                let n = tx.row(sql, &[], |r| r.i64(0))?.unwrap_or(0);
                if n != 0 {
                    problems.push(format!("{n} {what}"));
                }
            }
            if version != SCHEMA_VERSION {
                problems.push(format!(
                    "schema version {version}, expected {SCHEMA_VERSION}"
                ));
            }
            if problems.is_empty() {
                Ok(())
            } else {
                Err(StoreError::Integrity { problems })
            }
        })
    }
}
