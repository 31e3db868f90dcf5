//! The Alpine security database (secdb), in its YAML form (the archived `alpine-secdb`
//! repository, v3.3–v3.11) and its JSON form (`https://secdb.alpinelinux.org/<release>/<repo>.json`).
//!
//! Both hold one document per release and repository:
//!
//! ```yaml
//! distroversion: v3.10
//! reponame: main
//! packages:
//!   - pkg:
//!       name: ansible
//!       secfixes:
//!         2.8.4-r0:
//!           - CVE-2019-10206
//! ```
//!
//! Each `secfixes` key is the apk version (of the *origin*, i.e. source, package) that fixed the
//! ids under it. Alpine's APKBUILD reference says to list an issue under version `0` when it never
//! affected the Alpine package (distribution-specific code, another platform, a copy not built),
//! so `"0"` becomes [`Status::NotAffected`], not a fix at version 0.
//!
//! Quirks of the real files, all accepted:
//! - `packages` is `null` (v3.3 community) or `{}` (the JSON for an empty repository) instead of
//!   an empty list; a version's id list is `null` or `{}` when empty.
//! - An id entry is not always a bare id: `CVE-2019-5060 TALOS-2019-0844` (two ids),
//!   `CVE-2018-14468 (FrameRelay)` (a remark), `XSA-207` or `ZBX-11023` (no CVE),
//!   `CVE-????-?????  XSA-295` (a placeholder), typos such as `CVE_2019-2426`, `CVE 2018-16859`,
//!   `CVE-2019-19451.patch` and the per-patch `CVE-2017-17434-1`. The first CVE id is the
//!   advisory id, other ids are aliases, and the rest is kept as the note.
//! - Versions without `-rN` (`7.53.0`) are kept as written.
//!
//! One advisory is made per id and document, listing every package and version that fixed it.

use std::collections::{HashMap, HashSet};
use std::fmt;

use serde::Deserialize;
use serde::de::{self, Deserializer, IgnoredAny, MapAccess, SeqAccess, Visitor};

use super::FeedError;
use crate::model::{Advisory, Affected, Feed, Namespace, Status};

#[derive(Deserialize)]
struct RawSecdb {
    distroversion: String,
    #[serde(default)]
    packages: Packages,
}

#[derive(Deserialize)]
struct RawEntry {
    pkg: RawPackage,
}

#[derive(Deserialize)]
struct RawPackage {
    name: String,
    #[serde(default)]
    secfixes: Secfixes,
}

/// The package list; `null` and `{}` both mean none.
#[derive(Default)]
struct Packages(Vec<RawEntry>);

/// `version → ids`, in file order.
#[derive(Default)]
struct Secfixes(Vec<(String, Ids)>);

/// A version's ids; `null` and `{}` both mean none, and so does a `null` item.
#[derive(Default)]
struct Ids(Vec<String>);

/// Accepts `null` and an empty map as an empty collection, as the real files write them.
fn empty_map<'de, A: MapAccess<'de>>(mut map: A, what: &str) -> Result<(), A::Error> {
    if map.next_key::<IgnoredAny>()?.is_some() {
        return Err(de::Error::custom(format!("{what} must be a list")));
    }
    Ok(())
}

impl<'de> Deserialize<'de> for Packages {
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        struct V;
        impl<'de> Visitor<'de> for V {
            type Value = Packages;
            fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                f.write_str("a list of packages")
            }
            fn visit_seq<A: SeqAccess<'de>>(self, mut seq: A) -> Result<Packages, A::Error> {
                let mut out = Vec::new();
                while let Some(entry) = seq.next_element()? {
                    out.push(entry);
                }
                Ok(Packages(out))
            }
            fn visit_map<A: MapAccess<'de>>(self, map: A) -> Result<Packages, A::Error> {
                empty_map(map, "packages")?;
                Ok(Packages::default())
            }
            fn visit_unit<E: de::Error>(self) -> Result<Packages, E> {
                Ok(Packages::default())
            }
            fn visit_none<E: de::Error>(self) -> Result<Packages, E> {
                Ok(Packages::default())
            }
        }
        deserializer.deserialize_any(V)
    }
}

impl<'de> Deserialize<'de> for Secfixes {
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        struct V;
        impl<'de> Visitor<'de> for V {
            type Value = Secfixes;
            fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                f.write_str("a map of fixed versions to ids")
            }
            fn visit_map<A: MapAccess<'de>>(self, mut map: A) -> Result<Secfixes, A::Error> {
                let mut out = Vec::new();
                while let Some(entry) = map.next_entry::<String, Ids>()? {
                    out.push(entry);
                }
                Ok(Secfixes(out))
            }
            fn visit_unit<E: de::Error>(self) -> Result<Secfixes, E> {
                Ok(Secfixes::default())
            }
            fn visit_none<E: de::Error>(self) -> Result<Secfixes, E> {
                Ok(Secfixes::default())
            }
        }
        deserializer.deserialize_any(V)
    }
}

impl<'de> Deserialize<'de> for Ids {
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        struct V;
        impl<'de> Visitor<'de> for V {
            type Value = Ids;
            fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                f.write_str("a list of ids")
            }
            fn visit_seq<A: SeqAccess<'de>>(self, mut seq: A) -> Result<Ids, A::Error> {
                let mut out = Vec::new();
                while let Some(id) = seq.next_element::<Option<String>>()? {
                    out.extend(id);
                }
                Ok(Ids(out))
            }
            fn visit_map<A: MapAccess<'de>>(self, map: A) -> Result<Ids, A::Error> {
                empty_map(map, "a version's ids")?;
                Ok(Ids::default())
            }
            fn visit_unit<E: de::Error>(self) -> Result<Ids, E> {
                Ok(Ids::default())
            }
            fn visit_none<E: de::Error>(self) -> Result<Ids, E> {
                Ok(Ids::default())
            }
        }
        deserializer.deserialize_any(V)
    }
}

/// Parses one secdb document in YAML.
pub(crate) fn parse_secdb_yaml(origin: &str, text: &str) -> Result<Vec<Advisory>, FeedError> {
    // The budget's defaults (250,000 nodes, depth 64, 64 MiB of scalars) bound what a hostile
    // file can make the parser allocate; the largest real file has about 12,000 nodes.
    // Without the snippet the message is one line, as warnings are; it still names the line.
    let raw: RawSecdb = serde_saphyr::from_str(text)
        .map_err(|e| FeedError::new(origin, e.without_snippet().to_string()))?;
    convert(origin, raw)
}

/// Parses one secdb document in JSON.
pub(crate) fn parse_secdb_json(origin: &str, text: &str) -> Result<Vec<Advisory>, FeedError> {
    let raw: RawSecdb =
        serde_json::from_str(text).map_err(|e| FeedError::new(origin, e.to_string()))?;
    convert(origin, raw)
}

/// `v3.10` → `alpine:3.10`, `edge` → `alpine:edge`.
fn namespace(distroversion: &str) -> Option<Namespace> {
    if distroversion == "edge" {
        return Namespace::distro("alpine", "edge").ok();
    }
    let version = distroversion.strip_prefix('v').unwrap_or(distroversion);
    let (major, minor) = version.split_once('.')?;
    let digits = |s: &str| !s.is_empty() && s.len() <= 4 && s.bytes().all(|b| b.is_ascii_digit());
    if !(digits(major) && digits(minor)) {
        return None;
    }
    Namespace::distro("alpine", &format!("{major}.{minor}")).ok()
}

fn convert(origin: &str, raw: RawSecdb) -> Result<Vec<Advisory>, FeedError> {
    let namespace = namespace(raw.distroversion.trim()).ok_or_else(|| {
        FeedError::new(
            origin,
            format!("distroversion {:?} is not vX.Y or edge", raw.distroversion),
        )
    })?;
    let mut out: Vec<Advisory> = Vec::new();
    let mut index: HashMap<String, usize> = HashMap::new();
    // Repeats are dropped through sets, so a hostile file cannot make this quadratic.
    let mut seen_aliases: HashSet<(usize, String)> = HashSet::new();
    let mut seen_affected: HashSet<(usize, String, String, Option<String>)> = HashSet::new();
    for RawEntry { pkg } in raw.packages.0 {
        let package = pkg.name.trim();
        if package.is_empty() || package.contains(char::is_whitespace) {
            return Err(FeedError::new(
                origin,
                format!("bad package name {:?}", pkg.name),
            ));
        }
        for (version, Ids(ids)) in pkg.secfixes.0 {
            let version = version.trim();
            if version.is_empty() || version.contains(char::is_whitespace) {
                return Err(FeedError::new(
                    origin,
                    format!("{package}: bad fixed version {version:?}"),
                ));
            }
            for entry in ids {
                let parsed = parse_entry(&entry).ok_or_else(|| {
                    FeedError::new(
                        origin,
                        format!("{package} {version}: {entry:?} names no vulnerability id"),
                    )
                })?;
                let status = if version == "0" {
                    Status::NotAffected {
                        reason: Some("listed under version 0: never affected in Alpine".into()),
                    }
                } else {
                    Status::Fixed {
                        fixed: version.to_owned(),
                        date: None,
                    }
                };
                let affected = Affected {
                    namespace: namespace.clone(),
                    package: package.to_owned(),
                    status,
                    severity: None,
                    note: parsed.note,
                };
                let slot = *index.entry(parsed.id.clone()).or_insert_with(|| {
                    out.push(Advisory {
                        id: parsed.id.clone(),
                        aliases: Vec::new(),
                        feed: Feed::AlpineSecdb,
                        record: format!("{origin}:{}", parsed.id),
                        published: None,
                        modified: None,
                        summary: None,
                        severity: None,
                        cvss: Vec::new(),
                        affected: Vec::new(),
                        withdrawn: false,
                    });
                    out.len() - 1
                });
                let advisory = &mut out[slot];
                for alias in parsed.aliases {
                    if seen_aliases.insert((slot, alias.clone())) {
                        advisory.aliases.push(alias);
                    }
                }
                let key = (
                    slot,
                    affected.package.clone(),
                    version.to_owned(),
                    affected.note.clone(),
                );
                if seen_affected.insert(key) {
                    advisory.affected.push(affected);
                }
            }
        }
    }
    Ok(out)
}

struct Entry {
    id: String,
    aliases: Vec<String>,
    note: Option<String>,
}

/// Reads one id entry; `None` when it holds no usable id.
fn parse_entry(original: &str) -> Option<Entry> {
    let original = original.trim();
    // Repair the two typos of "CVE-" seen in the real files.
    let repaired = match original.get(..4) {
        Some(head)
            if head.eq_ignore_ascii_case("CVE_")
                || (head.eq_ignore_ascii_case("CVE ")
                    && original[4..].starts_with(|c: char| c.is_ascii_digit())) =>
        {
            Some(format!("CVE-{}", &original[4..]))
        }
        _ => None,
    };
    let text = repaired.as_deref().unwrap_or(original);
    let (head, remark) = match text.find('(') {
        Some(at) => (&text[..at], Some(&text[at..])),
        None => (text, None),
    };
    let mut ids: Vec<String> = Vec::new();
    let mut unused = false;
    for token in head.split_whitespace() {
        let bare = token.strip_suffix(".patch").unwrap_or(token);
        match identifier(bare) {
            Some(id) => {
                unused |= id != bare;
                if !ids.contains(&id) {
                    ids.push(id);
                }
            }
            None => unused = true,
        }
    }
    if ids.is_empty() {
        return None;
    }
    let primary = ids
        .iter()
        .position(|id| id.starts_with("CVE-"))
        .unwrap_or(0);
    let id = ids.remove(primary);
    // Whatever did not become an id stays readable, in the feed's own words.
    let noted = unused || remark.is_some() || repaired.is_some();
    Some(Entry {
        id,
        aliases: ids,
        note: noted.then(|| original.to_owned()),
    })
}

/// A vulnerability id such as `CVE-2019-5060`, `XSA-207`, `TALOS-2019-0844`,
/// `wnpa-sec-2017-18`. A CVE id with a suffix (`CVE-2017-17434-1`) is cut to the CVE id.
fn identifier(token: &str) -> Option<String> {
    if token.len() >= 4 && token[..4].eq_ignore_ascii_case("CVE-") {
        let rest = &token[4..];
        let (year, number) = rest.split_once('-')?;
        let number_len = number.bytes().take_while(u8::is_ascii_digit).count();
        let good = year.len() == 4 && year.bytes().all(|b| b.is_ascii_digit()) && number_len >= 4;
        return good.then(|| format!("CVE-{year}-{}", &number[..number_len]));
    }
    let mut parts = token.split('-');
    let prefix = parts.next()?;
    let good = !prefix.is_empty()
        && prefix.bytes().all(|b| b.is_ascii_alphabetic())
        && token.contains('-')
        && parts.all(|p| !p.is_empty() && p.bytes().all(|b| b.is_ascii_alphanumeric()))
        && token.bytes().any(|b| b.is_ascii_digit());
    good.then(|| token.to_owned())
}

#[cfg(test)]
mod tests {
    use super::*;

    const DATA: &str = concat!(
        env!("CARGO_MANIFEST_DIR"),
        "/../../../shared/data/advisories"
    );

    fn read(relative: &str) -> String {
        let path = format!("{DATA}/{relative}");
        std::fs::read_to_string(&path)
            .unwrap_or_else(|e| panic!("real test data missing: {path}: {e} (see shared/data)"))
    }

    fn files(folder: &str, ext: &str) -> Vec<String> {
        let mut out = Vec::new();
        let mut stack = vec![format!("{DATA}/{folder}")];
        while let Some(dir) = stack.pop() {
            let entries = std::fs::read_dir(&dir)
                .unwrap_or_else(|e| panic!("real test data missing: {dir}: {e}"));
            for entry in entries {
                let path = entry.unwrap().path();
                if path.is_dir() {
                    stack.push(path.display().to_string());
                } else if path.extension().is_some_and(|e| e == ext) {
                    out.push(path.display().to_string());
                }
            }
        }
        out.sort();
        out
    }

    fn find<'a>(advisories: &'a [Advisory], id: &str) -> &'a Advisory {
        advisories
            .iter()
            .find(|a| a.id == id)
            .unwrap_or_else(|| panic!("{id} not parsed"))
    }

    fn fixed(version: &str) -> Status {
        Status::Fixed {
            fixed: version.to_owned(),
            date: None,
        }
    }

    #[test]
    #[expect(clippy::print_stderr, reason = "the test reports what it parsed")]
    fn every_real_yaml_file() {
        let paths = files("alpine-secdb-yaml", "yaml");
        assert_eq!(paths.len(), 18);
        let mut total = (0, 0);
        for path in &paths {
            let text = std::fs::read_to_string(path).unwrap();
            let list = parse_secdb_yaml(path, &text).unwrap_or_else(|e| panic!("{e}"));
            let statements: usize = list.iter().map(|a| a.affected.len()).sum();
            eprintln!(
                "{path}: {} advisories / {statements} statements",
                list.len()
            );
            assert!(list.iter().all(|a| a.feed == Feed::AlpineSecdb));
            total.0 += list.len();
            total.1 += statements;
        }
        eprintln!(
            "alpine-secdb-yaml: {} advisories / {} statements",
            total.0, total.1
        );
        // 12,028 id entries, 19 of them repeated under the same package and version.
        assert_eq!(total, (11_451, 12_009));
    }

    #[test]
    #[expect(clippy::print_stderr, reason = "the test reports what it parsed")]
    fn every_real_json_file() {
        let paths = files("alpine-secdb-json", "json");
        assert_eq!(paths.len(), 5);
        let mut total = 0;
        for path in &paths {
            let text = std::fs::read_to_string(path).unwrap();
            let list = parse_secdb_json(path, &text).unwrap_or_else(|e| panic!("{e}"));
            eprintln!("{path}: {} advisories", list.len());
            total += list.len();
        }
        eprintln!("alpine-secdb-json: {total} advisories");
        assert_eq!(total, 3);
    }

    #[test]
    fn known_yaml_records() {
        let list = parse_secdb_yaml(
            "v3.10/main.yaml",
            &read("alpine-secdb-yaml/v3.10/main.yaml"),
        )
        .unwrap();
        let ansible = find(&list, "CVE-2019-10206");
        assert_eq!(ansible.record, "v3.10/main.yaml:CVE-2019-10206");
        assert_eq!(
            ansible.affected,
            [Affected {
                namespace: "alpine:3.10".parse().unwrap(),
                package: "ansible".into(),
                status: fixed("2.8.4-r0"),
                severity: None,
                note: None,
            }]
        );
        // A second id on the line becomes an alias, the whole text the note.
        let sdl = find(&list, "CVE-2019-5060");
        assert_eq!(sdl.aliases, ["TALOS-2019-0844"]);
        assert_eq!(sdl.affected[0].package, "sdl2_image");
        assert_eq!(sdl.affected[0].status, fixed("2.0.5-r0"));
        // A remark in parentheses.
        let tcpdump = find(&list, "CVE-2018-14468");
        assert_eq!(tcpdump.affected[0].status, fixed("4.9.3-r0"));
        assert_eq!(
            tcpdump.affected[0].note.as_deref(),
            Some("CVE-2018-14468 (FrameRelay)")
        );
        // No CVE: the XSA is the id.
        let xsa = find(&list, "XSA-207");
        assert_eq!(xsa.affected[0].package, "xen");
        assert_eq!(xsa.affected[0].status, fixed("4.7.1-r5"));
        // Per-patch suffixes fold into the CVE, both patches fixed by one version.
        let rsync = find(&list, "CVE-2017-17434");
        assert_eq!(rsync.affected.len(), 2);
        assert!(rsync.affected.iter().all(|a| a.status == fixed("3.1.2-r7")));
        // Versions without a revision.
        assert_eq!(
            find(&list, "CVE-2017-2629").affected[0].status,
            fixed("7.53.0")
        );

        let community = parse_secdb_yaml(
            "v3.10/community.yaml",
            &read("alpine-secdb-yaml/v3.10/community.yaml"),
        )
        .unwrap();
        let typo = find(&community, "CVE-2019-2426");
        assert_eq!(typo.affected[0].package, "openjdk7");
        assert_eq!(typo.affected[0].status, fixed("7.211.2.6.17-r0"));

        // Version "0": never affected.
        let v38 =
            parse_secdb_yaml("v3.8/main.yaml", &read("alpine-secdb-yaml/v3.8/main.yaml")).unwrap();
        let db = find(&v38, "CVE-2016-0682");
        assert_eq!(db.affected[0].package, "db");
        assert_eq!(db.affected[0].namespace, "alpine:3.8");
        assert!(matches!(db.affected[0].status, Status::NotAffected { .. }));

        let v39 =
            parse_secdb_yaml("v3.9/main.yaml", &read("alpine-secdb-yaml/v3.9/main.yaml")).unwrap();
        assert_eq!(find(&v39, "CVE-2018-16859").affected[0].package, "ansible");

        // v3.3 community has `packages:` with nothing under it.
        let empty = parse_secdb_yaml(
            "v3.3/community.yaml",
            &read("alpine-secdb-yaml/v3.3/community.yaml"),
        )
        .unwrap();
        assert!(empty.is_empty());
    }

    #[test]
    fn known_json_records() {
        let list =
            parse_secdb_json("312-main.json", &read("alpine-secdb-json/312-main.json")).unwrap();
        // "2.8.0-r0": {} lists nothing.
        assert_eq!(list.len(), 1);
        assert_eq!(list[0].id, "CVE-2018-16876");
        assert_eq!(
            list[0].affected,
            [Affected {
                namespace: "alpine:3.12".parse().unwrap(),
                package: "ansible".into(),
                status: fixed("2.7.9-r0"),
                severity: None,
                note: None,
            }]
        );
        let main311 =
            parse_secdb_json("311-main.json", &read("alpine-secdb-json/311-main.json")).unwrap();
        let ids: Vec<_> = main311.iter().map(|a| a.id.as_str()).collect();
        assert_eq!(ids, ["CVE-2018-1333", "CVE-2018-8011"]);
        assert_eq!(main311[0].affected[0].namespace, "alpine:3.11");
        assert_eq!(main311[0].affected[0].status, fixed("2.4.34-r0"));
        let edge = parse_secdb_json(
            "edge-community.json",
            &read("alpine-secdb-json/edge-community.json"),
        )
        .unwrap();
        assert!(edge.is_empty());
    }

    #[test]
    fn entries() {
        let e = parse_entry("CVE-????-?????  XSA-295").unwrap();
        assert_eq!((e.id.as_str(), e.aliases.len()), ("XSA-295", 0));
        assert!(e.note.is_some());
        let e = parse_entry("CVE-2019-19451.patch").unwrap();
        assert_eq!(e.id, "CVE-2019-19451");
        let e = parse_entry("wnpa-sec-2017-18").unwrap();
        assert_eq!((e.id.as_str(), e.note), ("wnpa-sec-2017-18", None));
        let e = parse_entry("CVE 2018-16859").unwrap();
        assert_eq!(e.id, "CVE-2018-16859");
        let e = parse_entry("XSA-1 CVE-2020-1234").unwrap();
        assert_eq!(
            (e.id.as_str(), e.aliases),
            ("CVE-2020-1234", vec!["XSA-1".to_owned()])
        );
        for nothing in ["", "CVE", "(remark)", "CVE-????-?????", "fixed things", "-"] {
            assert!(parse_entry(nothing).is_none(), "{nothing:?}");
        }
    }

    #[test]
    fn garbage_is_an_error() {
        for bad in [
            "",
            "distroversion: v3.10\npackages: 3\n",
            "distroversion: 3\n",
            "distroversion: vX.Y\npackages: []\n",
            "distroversion: v3.10\npackages:\n  - pkg:\n      name: a\n      secfixes:\n        1.0-r0:\n          - nonsense\n",
            "distroversion: v3.10\npackages:\n  - pkg:\n      name: a\n      secfixes:\n        1.0-r0: [\n",
            "distroversion: v3.10\npackages:\n  - pkg: {secfixes: {}}\n",
            "distroversion: v3.10\npackages: {a: 1}\n",
            "distroversion: v3.10\npackages:\n  - pkg:\n      name: a\n      secfixes:\n        '': [CVE-2020-1234]\n",
            "a: &a [*a, *a]\n",
            "\t- [",
        ] {
            let err = parse_secdb_yaml("bad.yaml", bad).unwrap_err();
            assert_eq!(err.file, "bad.yaml", "{bad:?}");
        }
        let err = parse_secdb_yaml("bad.yaml", "distroversion: v3.10\npackages:\n  - pkg: [\n")
            .unwrap_err();
        assert!(err.problem.contains("line 3"), "{err}");
        for bad in [
            "",
            "{",
            "[]",
            r#"{"distroversion": "v3.1", "packages": [{"pkg": {"name": "a", "secfixes": {"1": 2}}}]}"#,
        ] {
            let err = parse_secdb_json("bad.json", bad).unwrap_err();
            assert_eq!(err.file, "bad.json", "{bad:?}");
        }
        // A deeply nested document is refused by the parser's budget, not the stack.
        let deep = format!(
            "distroversion: v3.1\npackages: {}{}\n",
            "[".repeat(10_000),
            "]".repeat(10_000)
        );
        assert!(parse_secdb_yaml("deep.yaml", &deep).is_err());
        let deep = format!(
            "{{\"distroversion\": \"v3.1\", \"packages\": {}{}}}",
            "[".repeat(10_000),
            "]".repeat(10_000)
        );
        assert!(parse_secdb_json("deep.json", &deep).is_err());
        // Truncated real files: errors or fewer records, never a panic.
        let real = read("alpine-secdb-yaml/v3.10/main.yaml");
        for cut in (0..real.len()).step_by(997) {
            let _ = parse_secdb_yaml("cut", &real[..real.floor_char_boundary(cut)]);
        }
    }
}
