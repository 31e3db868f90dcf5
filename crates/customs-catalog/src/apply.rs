//! Applying layers in order: whiteouts and opaque directories remove what lower layers had,
//! links are resolved inside the image, and each package is attributed to the layer that
//! introduced it at its current version.

use std::collections::{BTreeMap, HashMap};

use crate::facts::{Entry, Fact, FileMeta, LayerFacts, path_hash};

/// The merged view of every wanted path: what stands there and which layer put it there.
pub(crate) struct Merged {
    pub(crate) files: BTreeMap<String, (usize, Entry)>,
    /// The whole file tree, when a listing was asked for.
    pub(crate) listing: BTreeMap<String, (usize, FileMeta)>,
    /// The entries the file and config checks read, as the final filesystem has them.
    pub(crate) notable: BTreeMap<String, (usize, FileMeta)>,
    /// Per package database path: (package key) → (version, layer that introduced it).
    pub(crate) introduced: HashMap<String, HashMap<String, (String, usize)>>,
}

/// The key and version of every package a database fact lists.
fn packages_of(fact: &Fact) -> Vec<(String, String)> {
    match fact {
        Fact::OsPackages(p) => p.iter().map(|p| (p.key(), p.version.clone())).collect(),
        _ => Vec::new(),
    }
}

fn remove_under<T>(files: &mut BTreeMap<String, T>, dir: &str, include_self: bool) -> Vec<String> {
    let prefix = if dir.is_empty() {
        String::new()
    } else {
        format!("{dir}/")
    };
    let mut gone: Vec<String> = files
        .range(prefix.clone()..)
        .take_while(|(k, _)| k.starts_with(&prefix))
        .map(|(k, _)| k.clone())
        .collect();
    if include_self && files.contains_key(dir) {
        gone.push(dir.to_owned());
    }
    for k in &gone {
        files.remove(k);
    }
    gone
}

pub(crate) fn apply(layers: &[LayerFacts]) -> Merged {
    let mut files: BTreeMap<String, (usize, Entry)> = BTreeMap::new();
    let mut introduced: HashMap<String, HashMap<String, (String, usize)>> = HashMap::new();
    let mut listing: BTreeMap<String, (usize, FileMeta)> = BTreeMap::new();
    let mut notable: BTreeMap<String, (usize, FileMeta)> = BTreeMap::new();
    for (i, layer) in layers.iter().enumerate() {
        // A layer's whiteouts hide lower layers only, so they go before its own files.
        let mut gone = Vec::new();
        for dir in &layer.opaque {
            gone.extend(remove_under(&mut files, dir, false));
            remove_under(&mut listing, dir, false);
            remove_under(&mut notable, dir, false);
        }
        for w in &layer.whiteouts {
            gone.extend(remove_under(&mut files, w, true));
            remove_under(&mut listing, w, true);
            remove_under(&mut notable, w, true);
        }
        // An entry of this layer replaces a lower one even when it is not notable itself (a
        // later `chmod u-s`).
        if !layer.present.is_empty() {
            notable.retain(|p, _| layer.present.binary_search(&path_hash(p)).is_err());
        }
        for (path, meta) in &layer.notable {
            notable.insert(path.clone(), (i, meta.clone()));
        }
        for (path, meta) in &layer.listing {
            // A non-directory replacing a directory replaces its whole subtree.
            if meta.kind != "dir" {
                remove_under(&mut listing, path, false);
            }
            listing.insert(path.clone(), (i, meta.clone()));
        }
        for g in gone {
            introduced.remove(&g);
        }
        for (path, entry) in &layer.files {
            // A hard link's target may be in this layer or below: copy what stands there now.
            let entry = match entry {
                Entry::Hardlink { target } => match layer
                    .files
                    .get(target)
                    .or_else(|| files.get(target).map(|(_, e)| e))
                {
                    Some(e @ Entry::Fact { .. }) => e.clone(),
                    _ => entry.clone(),
                },
                e => e.clone(),
            };
            if let Entry::Fact { fact } = &entry {
                let pkgs = packages_of(fact);
                if !pkgs.is_empty() || matches!(fact, Fact::OsPackages(_)) {
                    let old = introduced.remove(path).unwrap_or_default();
                    let new = pkgs
                        .into_iter()
                        .map(|(k, v)| {
                            let layer = match old.get(&k) {
                                Some((ov, ol)) if *ov == v => *ol,
                                _ => i,
                            };
                            (k, (v, layer))
                        })
                        .collect();
                    introduced.insert(path.clone(), new);
                }
            } else {
                introduced.remove(path);
            }
            files.insert(path.clone(), (i, entry));
        }
    }
    Merged {
        files,
        listing,
        notable,
        introduced,
    }
}

impl Merged {
    /// The fact at `path`, following symlinks (inside the image, at most 40 hops as the kernel
    /// allows).
    pub(crate) fn resolve(&self, path: &str) -> Option<(&str, &Fact)> {
        let mut p = path.to_owned();
        for _ in 0..40 {
            let (k, (_, e)) = self.files.get_key_value(&p)?;
            match e {
                Entry::Fact { fact } => return Some((k.as_str(), fact)),
                Entry::Symlink { target } => p = crate::walk::resolve_target(&p, target)?,
                Entry::Hardlink { target } => p.clone_from(target),
                Entry::Unreadable => return None,
            }
        }
        None
    }

    pub(crate) fn layer_of(&self, db: &str, key: &str) -> Option<usize> {
        self.introduced.get(db)?.get(key).map(|(_, l)| *l)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::dpkg::DpkgPackage;

    fn status(pkgs: &[(&str, &str)]) -> Entry {
        Entry::Fact {
            fact: Fact::OsPackages(
                pkgs.iter()
                    .map(|(n, v)| {
                        DpkgPackage {
                            name: (*n).into(),
                            version: (*v).into(),
                            arch: Some("amd64".into()),
                            source_name: (*n).into(),
                            source_version: (*v).into(),
                            maintainer: None,
                            depends: Vec::new(),
                            provides: Vec::new(),
                        }
                        .into()
                    })
                    .collect(),
            ),
        }
    }

    fn layer(files: Vec<(&str, Entry)>, whiteouts: &[&str], opaque: &[&str]) -> LayerFacts {
        LayerFacts {
            files: files.into_iter().map(|(k, v)| (k.to_owned(), v)).collect(),
            whiteouts: whiteouts.iter().map(|s| (*s).to_owned()).collect(),
            opaque: opaque.iter().map(|s| (*s).to_owned()).collect(),
            ..Default::default()
        }
    }

    #[test]
    fn attribution_follows_versions() {
        let s = "var/lib/dpkg/status";
        let l0 = layer(vec![(s, status(&[("a", "1"), ("b", "1")]))], &[], &[]);
        let l1 = layer(
            vec![(s, status(&[("a", "1"), ("b", "2"), ("c", "1")]))],
            &[],
            &[],
        );
        let m = apply(&[l0, l1]);
        assert_eq!(m.layer_of(s, "a:amd64"), Some(0));
        assert_eq!(m.layer_of(s, "b:amd64"), Some(1));
        assert_eq!(m.layer_of(s, "c:amd64"), Some(1));
    }

    #[test]
    fn whiteouts_and_opaque_dirs() {
        let s = "var/lib/dpkg/status";
        let l0 = layer(
            vec![
                (s, status(&[("a", "1")])),
                ("etc/os-release", Entry::Unreadable),
            ],
            &[],
            &[],
        );
        let l1 = layer(vec![], &["var/lib/dpkg"], &["etc"]);
        let m = apply(&[l0, l1]);
        assert!(m.files.is_empty());
        assert!(m.introduced.is_empty());
    }

    #[test]
    fn opaque_keeps_same_layer_files() {
        let l0 = layer(vec![("etc/a", Entry::Unreadable)], &[], &[]);
        let l1 = layer(vec![("etc/b", Entry::Unreadable)], &[], &["etc"]);
        let m = apply(&[l0, l1]);
        assert_eq!(m.files.keys().collect::<Vec<_>>(), ["etc/b"]);
    }

    #[test]
    fn symlink_loops_end() {
        let l0 = layer(
            vec![
                ("a", Entry::Symlink { target: "b".into() }),
                ("b", Entry::Symlink { target: "a".into() }),
            ],
            &[],
            &[],
        );
        assert!(apply(&[l0]).resolve("a").is_none());
    }
}
