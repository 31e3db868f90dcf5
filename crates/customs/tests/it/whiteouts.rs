//! Layer application against a real tool: random stacks of small layers (files, directories,
//! symlinks, `.wh.` whiteouts, `.wh..wh..opq` opaque directories) are written as an OCI
//! layout, unpacked by `umoci raw unpack --rootless`, and listed by `customs sbom --files`.
//! The two trees must agree on every path, its type, a file's size (each file's size is
//! unique to the layer that wrote it, so it tells which layer's copy survived) and a symlink's
//! target.

use std::collections::{BTreeMap, BTreeSet};
use std::path::Path;
use std::process::Command;

use proptest::prelude::*;

use crate::common::{Comp, LayerTar, customs, write_layout};

/// Names at three levels (a, a/b, a/b/c, …): small enough that layers collide often.
const NAMES: [&str; 3] = ["a", "b", "c"];

fn paths() -> Vec<String> {
    let mut out = Vec::new();
    for x in NAMES {
        out.push(x.to_owned());
        for y in NAMES {
            out.push(format!("{x}/{y}"));
            for z in NAMES {
                out.push(format!("{x}/{y}/{z}"));
            }
        }
    }
    out
}

#[derive(Debug, Clone)]
enum Op {
    File(usize),
    Dir(usize),
    Symlink(usize, usize),
    Whiteout(usize),
    Opaque(usize),
}

fn op() -> impl Strategy<Value = Op> {
    let n = paths().len();
    prop_oneof![
        3 => (0..n).prop_map(Op::File),
        2 => (0..n).prop_map(Op::Dir),
        1 => (0..n, 0..NAMES.len()).prop_map(|(p, t)| Op::Symlink(p, t)),
        2 => (0..n).prop_map(Op::Whiteout),
        1 => (0..n).prop_map(Op::Opaque),
    ]
}

#[derive(Debug, Clone, PartialEq, Eq)]
enum Kind {
    File,
    Dir,
    Symlink(String),
}

/// One layer's entries, as a well-behaved tool writes them: every path once, parents as
/// directories before their children, whiteouts and opaque markers never next to an entry
/// they would hide in the same layer (the OCI spec lets a whiteout hide lower layers only).
fn layer_entries(ops: &[Op]) -> BTreeMap<String, Kind> {
    let all = paths();
    let mut entries: BTreeMap<String, Kind> = BTreeMap::new();
    let mut hidden: BTreeSet<String> = BTreeSet::new();
    let under = |p: &str, root: &str| p == root || p.starts_with(&format!("{root}/"));
    for op in ops {
        let (path, kind) = match op {
            Op::File(p) => (all[*p].clone(), Some(Kind::File)),
            Op::Dir(p) => (all[*p].clone(), Some(Kind::Dir)),
            Op::Symlink(p, t) => (all[*p].clone(), Some(Kind::Symlink(NAMES[*t].to_owned()))),
            Op::Whiteout(p) => (all[*p].clone(), None),
            Op::Opaque(p) => (all[*p].clone(), Some(Kind::Dir)),
        };
        let parents: Vec<String> = path
            .match_indices('/')
            .map(|(i, _)| path[..i].to_owned())
            .collect();
        let parent_ok = parents
            .iter()
            .all(|d| matches!(entries.get(d), None | Some(Kind::Dir)) && !hidden.contains(d));
        let clash =
            entries.keys().any(|e| under(e, &path)) || hidden.iter().any(|h| under(&path, h));
        if !parent_ok
            || (clash && !matches!(op, Op::Opaque(_) if entries.get(&path) == Some(&Kind::Dir)))
        {
            continue;
        }
        for d in parents {
            entries.insert(d, Kind::Dir);
        }
        match (op, kind) {
            (Op::Whiteout(_), _) => {
                let (dir, base) = path.rsplit_once('/').unwrap_or(("", &path));
                let marker = if dir.is_empty() {
                    format!(".wh.{base}")
                } else {
                    format!("{dir}/.wh.{base}")
                };
                hidden.insert(path.clone());
                entries.insert(marker, Kind::File);
            }
            (Op::Opaque(_), _) => {
                entries.insert(path.clone(), Kind::Dir);
                entries.insert(format!("{path}/.wh..wh..opq"), Kind::File);
            }
            (_, Some(k)) => {
                entries.insert(path, k);
            }
            (_, None) => unreachable!(),
        }
    }
    entries
}

/// The tar of layer `i`. A file's size is `i * 40 + its position`, unique in the stack.
fn layer_tar(i: usize, entries: &BTreeMap<String, Kind>) -> Vec<u8> {
    let mut t = LayerTar::new();
    // Sorted paths put parents before children, and `.wh.` entries before their siblings.
    for (n, (path, kind)) in entries.iter().enumerate() {
        t = match kind {
            Kind::Dir => t.dir(path),
            Kind::Symlink(target) => t.symlink(path, target),
            Kind::File if path.contains(".wh.") => t.file(path, b""),
            Kind::File => t.file(path, &vec![b'x'; i * 40 + n + 1]),
        };
    }
    t.finish()
}

type Tree = BTreeMap<String, (String, u64, Option<String>)>;

fn umoci_tree(layout: &Path, out: &Path) -> Tree {
    let o = Command::new("umoci")
        .args(["raw", "unpack", "--rootless", "--image"])
        .arg(format!("{}:1", layout.display()))
        .arg(out)
        .output()
        .expect("umoci is needed for this test: apt-get install umoci (scripts/test.sh does)");
    assert!(
        o.status.success(),
        "umoci: {}",
        String::from_utf8_lossy(&o.stderr)
    );
    let mut tree = Tree::new();
    let mut stack = vec![out.to_owned()];
    while let Some(d) = stack.pop() {
        for e in std::fs::read_dir(&d).unwrap() {
            let e = e.unwrap();
            let p = e.path();
            let rel = p.strip_prefix(out).unwrap().display().to_string();
            let m = std::fs::symlink_metadata(&p).unwrap();
            let row = if m.is_dir() {
                stack.push(p.clone());
                ("dir".to_owned(), 0, None)
            } else if m.file_type().is_symlink() {
                let t = std::fs::read_link(&p).unwrap().display().to_string();
                ("symlink".to_owned(), 0, Some(t))
            } else {
                ("file".to_owned(), m.len(), None)
            };
            tree.insert(rel, row);
        }
    }
    tree
}

fn customs_tree(layout: &Path) -> Tree {
    let cache = tempfile::tempdir().unwrap();
    let r = customs(
        &[
            "sbom",
            "--format",
            "json",
            "--files",
            &format!("oci:{}:1", layout.display()),
        ],
        cache.path(),
    );
    assert_eq!(r.code, 0, "{}", r.stderr);
    let inv = r.json();
    inv["files"]
        .as_array()
        .expect("files listed")
        .iter()
        .map(|f| {
            let kind = f["kind"].as_str().unwrap().to_owned();
            let size = if kind == "file" {
                f["size"].as_u64().unwrap()
            } else {
                0
            };
            let link = f["link"].as_str().map(str::to_owned);
            (
                f["path"]
                    .as_str()
                    .unwrap()
                    .trim_start_matches('/')
                    .to_owned(),
                (kind, size, link),
            )
        })
        .collect()
}

proptest! {
    #![proptest_config(ProptestConfig {
        cases: 32,
        // Failures print the shrunk stack; no regression files in the shared work tree.
        failure_persistence: None,
        ..ProptestConfig::default()
    })]

    #[test]
    fn layer_application_matches_umoci(stack in prop::collection::vec(prop::collection::vec(op(), 0..8), 1..5)) {
        let layers: Vec<Vec<u8>> = stack
            .iter()
            .enumerate()
            .map(|(i, ops)| layer_tar(i, &layer_entries(ops)))
            .collect();
        let dir = tempfile::tempdir().unwrap();
        let layout = dir.path().join("layout");
        write_layout(&layout, &layers, Comp::Gzip);
        let want = umoci_tree(&layout, &dir.path().join("rootfs"));
        let got = customs_tree(&layout);
        prop_assert_eq!(got, want);
    }
}
