//! `customs cache info|prune` on a cache filled by real `customs sbom` runs: what info reports,
//! that prune removes exactly what it should (by last use, stale sets, scratch leftovers),
//! never follows a symlink out, refuses `/` and the home directory, and that a hit refreshes an
//! entry's last use.

use std::path::{Path, PathBuf};
use std::time::{Duration, SystemTime};

use serde_json::Value;
use tempfile::TempDir;

use crate::common::{Comp, LayerTar, Run, customs, dpkg_stanza, files_under, sbom, write_layout};

const DAY: Duration = Duration::from_secs(86_400);
const STALE: &str = "walk0-old";

/// A three-layer image (three distinct diff_ids, so three layer entries).
fn image() -> (TempDir, String) {
    let l0 = LayerTar::new()
        .file("etc/os-release", b"ID=debian\nVERSION_ID=\"12\"\n")
        .file("var/lib/dpkg/status", dpkg_stanza("base", "1.0").as_bytes())
        .finish();
    let l1 = LayerTar::new().file("app/one", b"1").finish();
    let l2 = LayerTar::new().file("app/two", b"2").finish();
    let dir = tempfile::tempdir().unwrap();
    write_layout(dir.path(), &[l0, l1, l2], Comp::Gzip);
    let src = format!("oci:{}", dir.path().display());
    (dir, src)
}

/// The current set's entries, sorted.
fn layer_entries(cache: &Path) -> Vec<PathBuf> {
    files_under(cache)
        .into_iter()
        .filter(|f| f.starts_with("layers/") && !f.starts_with(&format!("layers/{STALE}/")))
        .map(|f| cache.join(f))
        .collect()
}

/// The one analyzer-set directory scans created (not the stale one `populated` adds).
fn set_dir(cache: &Path) -> PathBuf {
    let sets: Vec<_> = std::fs::read_dir(cache.join("layers"))
        .unwrap()
        .map(|e| e.unwrap().path())
        .filter(|p| !p.ends_with(STALE))
        .collect();
    assert_eq!(sets.len(), 1, "{sets:?}");
    sets.into_iter().next().unwrap()
}

fn age(path: &Path, by: Duration) {
    std::fs::File::open(path)
        .unwrap()
        .set_modified(SystemTime::now() - by)
        .unwrap();
}

fn mtime(path: &Path) -> SystemTime {
    std::fs::metadata(path).unwrap().modified().unwrap()
}

fn write(path: &Path, data: &[u8]) {
    std::fs::create_dir_all(path.parent().unwrap()).unwrap();
    std::fs::write(path, data).unwrap();
}

fn ok(args: &[&str], cache: &Path) -> Run {
    let r = customs(args, cache);
    assert_eq!(r.code, 0, "customs {args:?}: {}{}", r.stdout, r.stderr);
    r
}

fn cached(inv: &Value) -> Vec<bool> {
    inv["image"]["layers"]
        .as_array()
        .unwrap()
        .iter()
        .map(|l| l["cached"].as_bool().unwrap())
        .collect()
}

/// A scanned cache plus what scans do not leave: a stale set, scratch files old and new, and a
/// file that is not customs'.
fn populated() -> (TempDir, TempDir, String) {
    let (img, src) = image();
    let cache = tempfile::tempdir().unwrap();
    let c = cache.path();
    let inv = sbom(&src, c, &[]);
    assert_eq!(cached(&inv), [false, false, false]);
    assert_eq!(layer_entries(c).len(), 3);
    write(&c.join(format!("layers/{STALE}/sha256/aa.json")), b"{}");
    write(&c.join("tmp/.tmpOLD"), b"old scratch");
    age(&c.join("tmp/.tmpOLD"), Duration::from_secs(2 * 3600));
    write(&c.join("tmp/.tmpNEW"), b"a scan running now");
    write(&c.join("notes.txt"), b"mine");
    age(&c.join("notes.txt"), 400 * DAY);
    (img, cache, src)
}

#[test]
fn info_reports_each_kind() {
    let (_img, cache, _) = populated();
    let c = cache.path();
    let info = ok(&["cache", "info", "--format", "json"], c).json();
    assert_eq!(info["path"], c.display().to_string());
    assert_eq!(info["exists"], true);
    let groups = info["groups"].as_array().unwrap();
    let find = |name: &str| {
        groups
            .iter()
            .find(|g| g["name"] == name)
            .unwrap_or_else(|| panic!("no group {name} in {info:#}"))
    };
    let current: Vec<&Value> = groups.iter().filter(|g| g["state"] == "current").collect();
    assert_eq!(current.len(), 1, "{info:#}");
    let cur = current[0];
    assert_eq!(cur["kind"], "layers");
    assert_eq!(cur["entries"], 3);
    let on_disk: u64 = layer_entries(c)
        .iter()
        .map(|p| std::fs::metadata(p).unwrap().len())
        .sum();
    assert_eq!(cur["bytes"], on_disk);
    assert!(cur["oldest_use"].as_str().unwrap().ends_with('Z'));
    let stale = find(&format!("layers/{STALE}"));
    assert_eq!(stale["state"], "stale");
    assert_eq!(stale["entries"], 1);
    let tmp = find("tmp");
    assert_eq!(tmp["kind"], "tmp");
    assert_eq!(tmp["entries"], 2);
    assert_eq!(find("notes.txt")["kind"], "other");
    assert_eq!(info["entries"], 3 + 1 + 2 + 1);

    let table = ok(&["cache", "info"], c).stdout;
    for word in ["current", "stale", "tmp", "not customs'", "7 entries"] {
        assert!(table.contains(word), "{word:?} missing from:\n{table}");
    }
}

#[test]
fn prune_older_than_removes_exactly_the_unused() {
    let (_img, cache, src) = populated();
    let c = cache.path();
    let mut old = layer_entries(c);
    let kept = old.pop().unwrap();
    for p in &old {
        age(p, 40 * DAY);
    }
    // Used 29 days ago: inside the window.
    age(&kept, 29 * DAY);

    let r = ok(&["cache", "prune", "--older-than", "30d"], c);
    assert!(r.stdout.contains("removed 4 entries"), "{}", r.stdout);
    assert!(
        r.stdout.contains("layers/walk0-old (stale analyzer set)"),
        "{}",
        r.stdout
    );
    let set = set_dir(c);
    let rel = |p: &Path| p.strip_prefix(c).unwrap().display().to_string();
    assert_eq!(
        files_under(c),
        [rel(&kept), "notes.txt".into(), "tmp/.tmpNEW".into()],
    );
    assert!(!c.join("layers").join(STALE).exists());
    assert!(set.is_dir());

    // The pruned layers are read again and cached again; the kept one is a hit.
    let inv = sbom(&src, c, &[]);
    assert_eq!(cached(&inv).iter().filter(|c| **c).count(), 1);
    assert_eq!(inv["packages"][0]["name"], "base");
    assert_eq!(layer_entries(c).len(), 3);
}

#[test]
fn without_older_than_only_garbage_goes() {
    let (_img, cache, _) = populated();
    let c = cache.path();
    for p in layer_entries(c) {
        age(&p, 400 * DAY);
    }
    let r = ok(&["cache", "prune"], c);
    assert!(r.stdout.contains("removed 2 entries"), "{}", r.stdout);
    assert_eq!(layer_entries(c).len(), 3);
    assert!(!c.join("layers").join(STALE).exists());
    assert!(!c.join("tmp/.tmpOLD").exists());
    assert!(c.join("tmp/.tmpNEW").exists());
}

#[test]
fn dry_run_removes_nothing() {
    let (_img, cache, _) = populated();
    let c = cache.path();
    for p in layer_entries(c) {
        age(&p, 40 * DAY);
    }
    let before = files_under(c);
    let r = ok(&["cache", "prune", "--older-than", "30d", "--dry-run"], c);
    assert_eq!(files_under(c), before);
    assert!(r.stdout.contains("would remove 5 entries"), "{}", r.stdout);
    assert!(
        r.stdout
            .contains("would remove layers/walk0-old/sha256/aa.json"),
        "{}",
        r.stdout
    );
    assert!(
        r.stdout.contains("would remove tmp/.tmpOLD"),
        "{}",
        r.stdout
    );
    assert!(!r.stdout.contains("notes.txt"), "{}", r.stdout);

    let r = ok(&["cache", "prune", "--all", "--dry-run"], c);
    assert_eq!(files_under(c), before);
    assert!(r.stdout.contains("would remove 6 entries"), "{}", r.stdout);
}

#[test]
fn all_empties_the_cache_and_a_scan_repopulates_it() {
    let (_img, cache, src) = populated();
    let c = cache.path();
    let r = ok(&["cache", "prune", "--all"], c);
    assert!(r.stdout.contains("removed 6 entries"), "{}", r.stdout);
    // What is not customs' stays; tmp/ stays for scans starting meanwhile.
    assert_eq!(files_under(c), ["notes.txt"]);
    assert!(!c.join("layers").exists());
    let info = ok(&["cache", "info", "--format", "json"], c).json();
    assert_eq!(info["entries"], 1, "{info:#}");

    let inv = sbom(&src, c, &[]);
    assert_eq!(cached(&inv), [false, false, false]);
    assert_eq!(layer_entries(c).len(), 3);
    let inv = sbom(&src, c, &[]);
    assert_eq!(cached(&inv), [true, true, true]);
}

#[test]
fn a_hit_refreshes_the_last_use() {
    let (_img, src) = image();
    let cache = tempfile::tempdir().unwrap();
    let c = cache.path();
    sbom(&src, c, &[]);
    let entries = layer_entries(c);
    for p in &entries {
        age(p, 90 * DAY);
    }
    let inv = sbom(&src, c, &[]);
    assert_eq!(cached(&inv), [true, true, true]);
    let recent = SystemTime::now() - Duration::from_secs(3600);
    for p in &entries {
        assert!(mtime(p) > recent, "{} was not refreshed", p.display());
    }
    // So a prune right after keeps them all.
    ok(&["cache", "prune", "--older-than", "1d"], c);
    assert_eq!(layer_entries(c), entries);
}

#[cfg(unix)]
#[test]
fn symlinks_are_removed_never_followed() {
    let (_img, cache, _) = populated();
    let c = cache.path();
    let outside = tempfile::tempdir().unwrap();
    let o = outside.path();
    write(&o.join("precious/old.json"), b"not the cache's");
    age(&o.join("precious/old.json"), 400 * DAY);
    let set = set_dir(c);
    std::os::unix::fs::symlink(o.join("precious"), set.join("sha512")).unwrap();
    std::os::unix::fs::symlink(o.join("precious/old.json"), c.join("feeds-link")).unwrap();
    write(&c.join("feeds/sub/real"), b"feed");
    std::os::unix::fs::symlink(o.join("precious"), c.join("feeds/sub/dir-link")).unwrap();
    std::os::unix::fs::symlink(o, c.join("tmp/escape")).unwrap();

    ok(&["cache", "prune", "--older-than", "30d"], c);
    ok(&["cache", "prune", "--all"], c);
    assert_eq!(files_under(o), ["precious/old.json"]);
    assert!(!c.join("feeds").exists());
    assert!(std::fs::symlink_metadata(set.join("sha512")).is_err());
    // Top-level names that are not customs' directories are never removed.
    assert!(std::fs::symlink_metadata(c.join("feeds-link")).is_ok());
}

#[test]
fn refuses_the_root_and_the_home_directory() {
    let cache = tempfile::tempdir().unwrap();
    let c = cache.path();
    // --dry-run: even a broken refusal must not delete anything here.
    for dir in [
        "/".to_owned(),
        c.join("home").display().to_string(),
        c.display().to_string(),
    ] {
        std::fs::create_dir_all(c.join("home")).unwrap();
        let r = customs(
            &["cache", "prune", "--all", "--dry-run", "--cache-dir", &dir],
            c,
        );
        assert_eq!(r.code, 2, "{dir}: {}{}", r.stdout, r.stderr);
        assert!(
            r.stderr.contains("refusing to prune"),
            "{dir}: {}",
            r.stderr
        );
    }
}

#[test]
fn junk_durations_are_refused() {
    let cache = tempfile::tempdir().unwrap();
    for (junk, why) in [
        ("30x", "unknown unit"),
        ("30", "missing unit"),
        ("d", "expected a whole number"),
    ] {
        let r = customs(&["cache", "prune", "--older-than", junk], cache.path());
        assert_eq!(r.code, 2, "{junk}");
        assert!(r.stderr.contains(why), "{junk}: {}", r.stderr);
    }
    let r = customs(
        &["cache", "prune", "--older-than", "1d", "--all"],
        cache.path(),
    );
    assert_eq!(r.code, 2);
    assert!(r.stderr.contains("cannot be used with"), "{}", r.stderr);
}

#[test]
fn a_missing_cache_is_empty() {
    let cache = tempfile::tempdir().unwrap();
    let missing = cache.path().join("never-created");
    let m = missing.display().to_string();
    let info = ok(
        &["cache", "info", "--format", "json", "--cache-dir", &m],
        cache.path(),
    )
    .json();
    assert_eq!(info["exists"], false);
    assert_eq!(info["entries"], 0);
    let r = ok(
        &["cache", "prune", "--all", "--cache-dir", &m],
        cache.path(),
    );
    assert!(r.stdout.contains("nothing to remove"), "{}", r.stdout);
    assert!(!missing.exists());
}
