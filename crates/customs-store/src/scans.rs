//! Images, tags, inventories and package rows, written once for both backends ([`Scans`]):
//! storing a scan, applying a rematch, and what `images`, `history` and `rematch` read.

use std::collections::{BTreeMap, BTreeSet};

use serde_json::Value;

use crate::findings::{self, Carried};
use crate::model::{RematchInput, RematchRecord};
use crate::reconcile::{rematch_input, resolved_doc, superseded};
use crate::sql::{Backend, Param, Sql};
use crate::{
    Delta, Ecosystem, ImageDetail, ImageSummary, PackageKey, ScanRecord, Scans, Severity,
    StoreError, StoredBase, StoredVerdict, TagEvent, Timestamp, WriteStage,
};

impl<B: Backend> Scans for B {
    fn put_scan_with(
        &mut self,
        record: &ScanRecord,
        on_stage: &mut dyn FnMut(WriteStage),
    ) -> Result<Delta, StoreError> {
        let rows = ScanRows::of(record)?;
        self.write(|tx| write_scan(tx, record, &rows, on_stage))
    }

    fn apply_rematches(
        &mut self,
        batch: &[RematchRecord],
        db_built_at: Option<Timestamp>,
    ) -> Result<Vec<Delta>, StoreError> {
        let now = Timestamp::now();
        let db_built_at = db_built_at.map(|t| t.to_string());
        let digests: Vec<&str> = batch.iter().map(|r| r.digest.as_str()).collect();
        self.write(|tx| {
            // One statement and one query for the whole batch, then the writes per image.
            let sql = format!(
                "UPDATE images SET db_built_at = coalesce(?2, db_built_at) WHERE {}
                 RETURNING digest",
                tx.in_texts("digest", 1)
            );
            let known: BTreeSet<String> = tx
                .rows(
                    &sql,
                    &[
                        Param::Texts(&digests),
                        Param::OptText(db_built_at.as_deref()),
                    ],
                    |r| r.text(0),
                )?
                .into_iter()
                .collect();
            if let Some(missing) = digests.iter().find(|d| !known.contains(**d)) {
                return Err(StoreError::UnknownImage {
                    digest: (*missing).to_owned(),
                });
            }
            let mut stored = findings::load_all(tx, &digests)?;
            // The changes of the whole batch are written together, a statement per kind.
            let mut writes = findings::Writes::new(now);
            let mut seen = BTreeSet::new();
            for record in batch {
                // A digest twice in one batch reads what its first record wrote.
                let rows = if seen.insert(record.digest.as_str()) {
                    stored.remove(&record.digest).unwrap_or_default()
                } else {
                    writes.flush(tx)?;
                    findings::load(tx, &record.digest)?
                };
                writes.add(
                    &record.digest,
                    rows,
                    &record.findings,
                    record.scope.as_ref(),
                    &record.resolutions,
                    &Carried::new(),
                );
            }
            writes.finish(tx)
        })
    }

    fn rematch_inputs(
        &mut self,
        keys: Option<&BTreeSet<PackageKey>>,
    ) -> Result<Vec<RematchInput>, StoreError> {
        self.read(|tx| {
            // digest -> seq -> package document, as stored (the caller parses it)
            let mut packages: BTreeMap<String, BTreeMap<i64, String>> = BTreeMap::new();
            match keys {
                None => tx.query("SELECT digest, seq, data FROM packages", &[], &mut |r| {
                    packages
                        .entry(r.text(0)?)
                        .or_default()
                        .insert(r.i64(1)?, r.text(2)?);
                    Ok(())
                })?,
                Some(keys) => {
                    // One query per ecosystem with the list of names: keyed look-ups in the
                    // index's primary key (ecosystem, name, …), a handful of round trips.
                    // Each package row is a keyed look-up too, as a subquery rather than a
                    // join: PostgreSQL, misjudging how many index rows a list of names
                    // matches, would hash the whole packages table for a join.
                    let mut names: BTreeMap<Ecosystem, Vec<&str>> = BTreeMap::new();
                    for k in keys {
                        names.entry(k.ecosystem).or_default().push(&k.name);
                    }
                    let sql = format!(
                        "SELECT i.digest, i.package,
                            (SELECT p.data FROM packages p
                             WHERE p.digest = i.digest AND p.seq = i.package)
                         FROM package_index i
                         WHERE i.ecosystem = ?1 AND {}",
                        tx.in_texts("i.name", 2)
                    );
                    for (ecosystem, names) in &names {
                        tx.query(
                            &sql,
                            &[ecosystem.as_str().into(), Param::Texts(names)],
                            &mut |r| {
                                let slot = packages.entry(r.text(0)?).or_default();
                                // A schema-1 row (-1) names the image only; its inventory
                                // is read.
                                if let Some(data) = r.opt_text(2)? {
                                    slot.insert(r.i64(1)?, data);
                                }
                                Ok(())
                            },
                        )?;
                    }
                }
            }
            // With keys, only the images that have a package under one of them.
            let wanted: Vec<&str> = match keys {
                None => Vec::new(),
                Some(_) => packages.keys().map(String::as_str).collect(),
            };
            let (filter, params) = match keys {
                None => (String::new(), Vec::new()),
                Some(_) => (
                    format!("WHERE {}", tx.in_texts("i.digest", 1)),
                    vec![Param::Texts(&wanted)],
                ),
            };
            let rows = tx.rows(
                &format!(
                    "SELECT i.digest, c.context, CASE WHEN c.context IS NULL THEN
                        (SELECT v.inventory FROM inventories v WHERE v.digest = i.digest) END
                     FROM images i LEFT JOIN contexts c ON c.digest = i.digest
                     {filter} ORDER BY i.digest"
                ),
                &params,
                |r| Ok((r.text(0)?, r.opt_text(1)?, r.opt_text(2)?)),
            )?;
            rows.into_iter()
                .map(|(digest, context, inventory)| {
                    let list = packages
                        .remove(&digest)
                        .map(|m| m.into_values().collect())
                        .unwrap_or_default();
                    rematch_input(digest, context, inventory, list)
                })
                .collect()
        })
    }

    fn images(&mut self) -> Result<Vec<ImageSummary>, StoreError> {
        self.read(|tx| Ok(summaries(tx, None)?.into_iter().map(|(s, _)| s).collect()))
    }

    fn images_page(
        &mut self,
        offset: u64,
        limit: u32,
    ) -> Result<(u64, Vec<ImageSummary>), StoreError> {
        self.read(|tx| {
            let total = tx
                .row("SELECT count(*) FROM images", &[], |r| r.i64(0))?
                .unwrap_or(0);
            let mut page = tx.rows(
                "SELECT digest, repository, first_scanned_at, last_scanned_at, db_built_at
                 FROM images ORDER BY last_scanned_at DESC, digest LIMIT ?1 OFFSET ?2",
                &[
                    Param::I64(i64::from(limit)),
                    Param::I64(i64::try_from(offset).unwrap_or(i64::MAX)),
                ],
                |r| {
                    Ok(ImageSummary {
                        digest: r.text(0)?,
                        repository: r.opt_text(1)?,
                        tags: Vec::new(),
                        first_scanned_at: r.time(2)?,
                        last_scanned_at: r.time(3)?,
                        db_built_at: crate::built_at(r.opt_text(4)?)?,
                        open: BTreeMap::new(),
                    })
                },
            )?;
            let digests: Vec<&str> = page.iter().map(|i| i.digest.as_str()).collect();
            let mut tags: BTreeMap<String, Vec<String>> = BTreeMap::new();
            let mut open: BTreeMap<String, BTreeMap<Severity, u64>> = BTreeMap::new();
            if !digests.is_empty() {
                let sql = format!(
                    "SELECT t.repository, t.tag, t.digest FROM tags t
                     WHERE {} AND t.id = (SELECT max(u.id) FROM tags u
                                   WHERE u.repository = t.repository AND u.tag = t.tag)
                     ORDER BY t.repository, t.tag",
                    tx.in_texts("t.digest", 1)
                );
                tx.query(&sql, &[Param::Texts(&digests)], &mut |r| {
                    let (repository, tag) = (r.text(0)?, r.text(1)?);
                    tags.entry(r.text(2)?)
                        .or_default()
                        .push(format!("{repository}:{tag}"));
                    Ok(())
                })?;
                let sql = format!(
                    "SELECT digest, severity, count(*) FROM findings
                     WHERE resolved_at IS NULL AND {}
                     GROUP BY digest, severity",
                    tx.in_texts("digest", 1)
                );
                tx.query(&sql, &[Param::Texts(&digests)], &mut |r| {
                    open.entry(r.text(0)?).or_default().insert(
                        crate::word("severity", &r.text(1)?)?,
                        u64::try_from(r.i64(2)?).unwrap_or(0),
                    );
                    Ok(())
                })?;
            }
            for image in &mut page {
                image.tags = tags.remove(&image.digest).unwrap_or_default();
                image.open = open.remove(&image.digest).unwrap_or_default();
            }
            Ok((u64::try_from(total).unwrap_or(0), page))
        })
    }

    fn image(&mut self, reference: &str) -> Result<Option<ImageDetail>, StoreError> {
        let r = parse_reference(reference);
        self.read(|tx| {
            let mut found = summaries(tx, Some(r.digest))?;
            if found.is_empty()
                && let Some((repository, tag)) = r.tag
                && let Some(digest) = latest_tag(tx, repository, tag)?
            {
                found = summaries(tx, Some(&digest))?;
            }
            let Some((summary, inventory)) = found.pop() else {
                return Ok(None);
            };
            let signature = tx.row(
                "SELECT verdict, checked_at FROM signature_verdicts WHERE digest = ?1",
                &[summary.digest.as_str().into()],
                |r| {
                    Ok(StoredVerdict {
                        verdict: r
                            .opt_json(0, "signature_verdicts.verdict")?
                            .unwrap_or_default(),
                        checked_at: r.time(1)?,
                    })
                },
            )?;
            Ok(Some(ImageDetail {
                summary,
                inventory: inventory.unwrap_or(Value::Null),
                signature,
            }))
        })
    }

    fn tag_history(&mut self, repository: &str, tag: &str) -> Result<Vec<TagEvent>, StoreError> {
        self.read(|tx| {
            tx.rows(
                "SELECT digest, seen_at FROM tags WHERE repository = ?1 AND tag = ?2 ORDER BY id",
                &[repository.into(), tag.into()],
                |r| {
                    Ok(TagEvent {
                        repository: repository.to_owned(),
                        tag: tag.to_owned(),
                        digest: r.text(0)?,
                        seen_at: r.time(1)?,
                    })
                },
            )
        })
    }

    fn images_with_package(
        &mut self,
        ecosystem: Ecosystem,
        name: &str,
    ) -> Result<Vec<String>, StoreError> {
        self.read(|tx| {
            tx.rows(
                "SELECT DISTINCT digest FROM package_index WHERE ecosystem = ?1 AND name = ?2
                 ORDER BY digest",
                &[ecosystem.as_str().into(), name.into()],
                |r| r.text(0),
            )
        })
    }

    fn base_of(
        &mut self,
        digest: &str,
        chain: &[String],
    ) -> Result<Option<StoredBase>, StoreError> {
        let Some(bottom) = chain.first() else {
            return Ok(None);
        };
        self.read(|tx| {
            // Every stored chain that starts with the same bottom layer, in order.
            let mut chains: BTreeMap<String, Vec<String>> = BTreeMap::new();
            tx.query(
                "SELECT l.digest, l.diff_id FROM image_layers l
                 WHERE l.digest IN (SELECT b.digest FROM image_layers b
                                    WHERE b.idx = 0 AND b.diff_id = ?1)
                   AND l.digest <> ?2
                 ORDER BY l.digest, l.idx",
                &[bottom.as_str().into(), digest.into()],
                &mut |r| {
                    chains.entry(r.text(0)?).or_default().push(r.text(1)?);
                    Ok(())
                },
            )?;
            // The longest proper prefix; of equal ones (one image under two manifests), the
            // first digest, so the answer is stable.
            let Some((base, layers)) = chains
                .into_iter()
                .filter(|(_, c)| c.len() < chain.len() && chain.starts_with(c))
                .fold(None::<(String, usize)>, |best, (d, c)| match best {
                    Some((_, n)) if n >= c.len() => best,
                    _ => Some((d, c.len())),
                })
            else {
                return Ok(None);
            };
            let mut names = tx.rows(
                "SELECT DISTINCT repository, tag FROM tags WHERE digest = ?1",
                &[base.as_str().into()],
                |r| Ok(format!("{}:{}", r.text(0)?, r.text(1)?)),
            )?;
            if names.is_empty() {
                names.extend(tx.row(
                    "SELECT repository FROM images WHERE digest = ?1 AND repository IS NOT NULL",
                    &[base.as_str().into()],
                    |r| r.text(0),
                )?);
            }
            names.sort();
            Ok(Some(StoredBase {
                digest: base,
                layers,
                names,
            }))
        })
    }
}

/// The rows a scan writes besides its documents, prepared before the transaction (the
/// parameters borrow from the record).
pub(crate) struct ScanRows<'r> {
    packages: Vec<Param<'r>>,
    index: Vec<Param<'r>>,
    layers: Vec<String>,
    db_built_at: Option<String>,
}

impl<'r> ScanRows<'r> {
    pub(crate) fn of(record: &'r ScanRecord) -> Result<Self, StoreError> {
        validate(record)?;
        let digest = record.digest.as_str();
        // The image's package rows and index rows, each index row once (a package can list
        // a key twice, as its name and as its source).
        let mut packages = Vec::with_capacity(record.packages.len() * 3);
        let mut index = Vec::new();
        let mut indexed = BTreeSet::new();
        for (seq, p) in (0_i64..).zip(&record.packages) {
            packages.extend([Param::Text(digest), Param::I64(seq), Param::Json(&p.data)]);
            for k in &p.keys {
                if indexed.insert((k, seq)) {
                    index.extend([
                        Param::Text(k.ecosystem.as_str()),
                        Param::Text(&k.name),
                        Param::Text(digest),
                        Param::I64(seq),
                    ]);
                }
            }
        }
        let layers = crate::layer_chain(&record.inventory);
        Ok(Self {
            packages,
            index,
            layers,
            db_built_at: record.db_built_at.map(|t| t.to_string()),
        })
    }
}

/// Store a scan inside the write transaction `tx` (what [`Scans::put_scan_with`] does, and
/// what a job's completion does with its job row in the same transaction).
pub(crate) fn write_scan(
    tx: &mut dyn Sql,
    record: &ScanRecord,
    rows: &ScanRows<'_>,
    on_stage: &mut dyn FnMut(WriteStage),
) -> Result<Delta, StoreError> {
    let digest = record.digest.as_str();
    let now = record.scanned_at;
    let (packages, index, layers) = (&rows.packages, &rows.index, &rows.layers);
    let db_built_at = &rows.db_built_at;
    // CASE rather than two-argument min()/max(), which PostgreSQL spells least() and
    // greatest().
    tx.execute(
        "INSERT INTO images (digest, repository, first_scanned_at, last_scanned_at,
                db_built_at)
             VALUES (?1, ?2, ?3, ?3, ?4)
             ON CONFLICT (digest) DO UPDATE SET
                repository = coalesce(excluded.repository, images.repository),
                first_scanned_at = CASE
                    WHEN excluded.first_scanned_at < images.first_scanned_at
                    THEN excluded.first_scanned_at ELSE images.first_scanned_at END,
                last_scanned_at = CASE
                    WHEN excluded.last_scanned_at > images.last_scanned_at
                    THEN excluded.last_scanned_at ELSE images.last_scanned_at END,
                db_built_at = coalesce(excluded.db_built_at, images.db_built_at)",
        &[
            digest.into(),
            Param::OptText(record.repository.as_deref()),
            now.into(),
            Param::OptText(db_built_at.as_deref()),
        ],
    )?;
    // Inventories (hundreds of kilobytes) live apart from the image rows, which a
    // rematch updates by the thousand, and apart from the contexts it reads.
    tx.execute(
        "INSERT INTO inventories (digest, inventory) VALUES (?1, ?2)
             ON CONFLICT (digest) DO UPDATE SET inventory = excluded.inventory",
        &[digest.into(), Param::Json(&record.inventory)],
    )?;
    // The layer chain, for telling an image's base (the stored image whose chain is
    // the longest proper prefix of it).
    tx.execute(
        "DELETE FROM image_layers WHERE digest = ?1",
        &[digest.into()],
    )?;
    for (idx, diff_id) in (0_i64..).zip(layers) {
        tx.execute(
            "INSERT INTO image_layers (digest, idx, diff_id) VALUES (?1, ?2, ?3)",
            &[digest.into(), Param::I64(idx), Param::Text(diff_id)],
        )?;
    }
    tx.execute(
        "INSERT INTO contexts (digest, context) VALUES (?1, ?2)
             ON CONFLICT (digest) DO UPDATE SET context = excluded.context",
        &[digest.into(), Param::Json(&record.context)],
    )?;
    if let Some(verdict) = &record.signature {
        tx.execute(
            "INSERT INTO signature_verdicts (digest, verdict, checked_at)
                 VALUES (?1, ?2, ?3)
                 ON CONFLICT (digest) DO UPDATE SET verdict = excluded.verdict,
                    checked_at = excluded.checked_at",
            &[digest.into(), Param::Json(verdict), now.into()],
        )?;
    }
    on_stage(WriteStage::ImageWritten);
    // The digests the record's tags pointed at before, where they moved.
    let mut previous: Vec<String> = Vec::new();
    let primary = match (&record.repository, &record.tag) {
        (Some(repository), Some(tag)) => Some((repository, tag)),
        _ => None,
    };
    for (repository, tag) in primary
        .into_iter()
        .chain(record.also_tagged.iter().map(|(r, t)| (r, t)))
    {
        let current = latest_tag(tx, repository, tag)?;
        if current.as_deref() != Some(digest) {
            tx.execute(
                "INSERT INTO tags (repository, tag, digest, seen_at)
                     VALUES (?1, ?2, ?3, ?4)",
                &[repository.into(), tag.into(), digest.into(), now.into()],
            )?;
            if let Some(p) = current
                && !previous.contains(&p)
            {
                previous.push(p);
            }
        }
    }
    on_stage(WriteStage::TagWritten);
    tx.execute(
        "DELETE FROM package_index WHERE digest = ?1",
        &[digest.into()],
    )?;
    tx.execute("DELETE FROM packages WHERE digest = ?1", &[digest.into()])?;
    tx.insert_many("packages", &["digest", "seq", "data"], packages)?;
    tx.insert_many(
        "package_index",
        &["ecosystem", "name", "digest", "package"],
        index,
    )?;
    on_stage(WriteStage::PackagesIndexed);
    let mut carried = Carried::new();
    for p in &previous {
        for (key, first) in findings::first_seen(tx, p)? {
            let at = carried.entry(key).or_insert(first);
            if first < *at {
                *at = first;
            }
        }
    }
    let stored = findings::load(tx, digest)?;
    let mut delta = findings::write(
        tx,
        digest,
        stored,
        &record.findings,
        record.scope.as_ref(),
        &record.resolutions,
        now,
        &carried,
    )?;
    for previous in previous {
        if is_tagged(tx, &previous)? {
            continue;
        }
        let stored = findings::load(tx, &previous)?;
        for (key, why, data) in superseded(stored, &record.findings, &record.packages, &mut |k| {
            findings::stored_data(tx, &previous, k)
        })? {
            findings::resolve(tx, &previous, &key, why, now)?;
            let mut doc = resolved_doc(data, why);
            if let Some(object) = doc.as_object_mut() {
                object.insert("digest".to_owned(), previous.clone().into());
            }
            delta.resolved.push(doc);
        }
    }
    on_stage(WriteStage::FindingsReconciled);
    Ok(delta)
}

/// The digest a tag's latest row points at.
fn latest_tag(tx: &mut dyn Sql, repository: &str, tag: &str) -> Result<Option<String>, StoreError> {
    tx.row(
        "SELECT digest FROM tags WHERE repository = ?1 AND tag = ?2 ORDER BY id DESC LIMIT 1",
        &[repository.into(), tag.into()],
        |r| r.text(0),
    )
}

/// Whether any tag's latest row points at `digest`.
fn is_tagged(tx: &mut dyn Sql, digest: &str) -> Result<bool, StoreError> {
    Ok(tx
        .row(
            "SELECT EXISTS (SELECT 1 FROM tags t WHERE t.digest = ?1
                AND t.id = (SELECT max(u.id) FROM tags u
                            WHERE u.repository = t.repository AND u.tag = t.tag))",
            &[digest.into()],
            |r| r.bool(0),
        )?
        .unwrap_or(false))
}

/// Every image's summary, or with `only` that image's, with its inventory.
fn summaries(
    tx: &mut dyn Sql,
    only: Option<&str>,
) -> Result<Vec<(ImageSummary, Option<Value>)>, StoreError> {
    // Two spellings of each query rather than `?1 IS NULL OR digest = ?1`, so that one image
    // is a keyed look-up.
    let params: Vec<Param<'_>> = only.map(Param::Text).into_iter().collect();
    let digest_is = |column: &str| {
        only.map(|_| format!("AND {column} = ?1"))
            .unwrap_or_default()
    };
    let mut tags: BTreeMap<String, Vec<String>> = BTreeMap::new();
    tx.query(
        &format!(
            "SELECT t.repository, t.tag, t.digest FROM tags t
             WHERE t.id = (SELECT max(u.id) FROM tags u
                           WHERE u.repository = t.repository AND u.tag = t.tag)
               {}
             ORDER BY t.repository, t.tag",
            digest_is("t.digest")
        ),
        &params,
        &mut |r| {
            let (repository, tag) = (r.text(0)?, r.text(1)?);
            tags.entry(r.text(2)?)
                .or_default()
                .push(format!("{repository}:{tag}"));
            Ok(())
        },
    )?;
    let mut open: BTreeMap<String, BTreeMap<Severity, u64>> = BTreeMap::new();
    tx.query(
        &format!(
            "SELECT digest, severity, count(*) FROM findings
             WHERE resolved_at IS NULL {}
             GROUP BY digest, severity",
            digest_is("digest")
        ),
        &params,
        &mut |r| {
            open.entry(r.text(0)?).or_default().insert(
                crate::word("severity", &r.text(1)?)?,
                u64::try_from(r.i64(2)?).unwrap_or(0),
            );
            Ok(())
        },
    )?;
    let images = match only {
        None => {
            "SELECT digest, repository, first_scanned_at, last_scanned_at, db_built_at
                 FROM images ORDER BY last_scanned_at DESC, digest"
        }
        Some(_) => {
            "SELECT digest, repository, first_scanned_at, last_scanned_at, db_built_at,
                (SELECT v.inventory FROM inventories v WHERE v.digest = images.digest)
             FROM images WHERE digest = ?1"
        }
    };
    tx.rows(images, &params, |r| {
        let digest = r.text(0)?;
        Ok((
            ImageSummary {
                tags: tags.remove(&digest).unwrap_or_default(),
                open: open.remove(&digest).unwrap_or_default(),
                digest,
                repository: r.opt_text(1)?,
                first_scanned_at: r.time(2)?,
                last_scanned_at: r.time(3)?,
                db_built_at: crate::built_at(r.opt_text(4)?)?,
            },
            only.map(|_| r.json(5, "images.inventory")).transpose()?,
        ))
    })
}

/// Checks before a record is written.
fn validate(record: &ScanRecord) -> Result<(), StoreError> {
    let invalid = |reason: &str| {
        Err(StoreError::InvalidRecord {
            digest: record.digest.clone(),
            reason: reason.to_owned(),
        })
    };
    if record.digest.is_empty() {
        return invalid("empty digest");
    }
    if record.tag.is_some() && record.repository.is_none() {
        return invalid("a tag needs a repository");
    }
    if record
        .also_tagged
        .iter()
        .any(|(r, t)| r.is_empty() || t.is_empty())
    {
        return invalid("a further tag without a repository or a name");
    }
    if record.inventory.is_null() {
        return invalid("the inventory is null");
    }
    if !record.context.is_object() {
        return invalid("the context is not a JSON object");
    }
    Ok(())
}

/// How [`Scans::image`] reads a reference: a digest to try as is, then a tag.
struct Reference<'a> {
    digest: &'a str,
    tag: Option<(&'a str, &'a str)>,
}

fn parse_reference(reference: &str) -> Reference<'_> {
    if let Some((_, digest)) = reference.rsplit_once('@') {
        return Reference { digest, tag: None };
    }
    let last_slash = reference.rfind('/').map_or(0, |i| i + 1);
    let tag = match reference[last_slash..].rfind(':') {
        Some(i) => (
            &reference[..last_slash + i],
            &reference[last_slash + i + 1..],
        ),
        None => (reference, "latest"),
    };
    Reference {
        digest: reference,
        tag: Some(tag),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn references() {
        let r = parse_reference("reg:5000/app@sha256:ab");
        assert_eq!((r.digest, r.tag), ("sha256:ab", None));
        let r = parse_reference("reg:5000/app:1.2");
        assert_eq!(r.tag, Some(("reg:5000/app", "1.2")));
        let r = parse_reference("reg:5000/app");
        assert_eq!(r.tag, Some(("reg:5000/app", "latest")));
    }
}
