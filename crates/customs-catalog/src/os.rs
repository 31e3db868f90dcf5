//! Which distribution an image is: `/etc/os-release` (a symlink to `/usr/lib/os-release` on
//! most distributions), then the older release files.

use std::collections::BTreeMap;

use crate::analyzer::{Analyzer, Parsed, Root};
use crate::facts::Fact;
use crate::inventory::Distro;

pub(crate) const OS_RELEASE: &str = "etc/os-release";
pub(crate) const USR_OS_RELEASE: &str = "usr/lib/os-release";
const ALPINE: &str = "etc/alpine-release";
const DEBIAN: &str = "etc/debian_version";
const REDHAT: &str = "etc/redhat-release";
const SUSE: &str = "etc/SuSE-release";
const CENTOS: &str = "etc/centos-release";

pub(crate) struct OsAnalyzer;

impl Analyzer for OsAnalyzer {
    fn name(&self) -> &'static str {
        "os"
    }
    fn version(&self) -> u32 {
        1
    }
    fn roots(&self) -> &'static [Root] {
        const ROOTS: &[Root] = &[Root::flat("etc"), Root::flat("usr/lib")];
        ROOTS
    }
    fn wants(&self, path: &str) -> bool {
        matches!(
            path,
            OS_RELEASE | USR_OS_RELEASE | ALPINE | DEBIAN | REDHAT | SUSE | CENTOS
        )
    }
    fn max_size(&self) -> u64 {
        64 << 10
    }
    fn parse(&self, path: &str, bytes: &[u8]) -> Result<Parsed, String> {
        let text = String::from_utf8_lossy(bytes);
        if path == OS_RELEASE || path == USR_OS_RELEASE {
            return Ok(Fact::OsRelease(parse_os_release(&text)).into());
        }
        let first = text.lines().next().unwrap_or("").trim().to_owned();
        Ok(Fact::ReleaseFile(first).into())
    }
}

/// Parse os-release(5): `KEY=VALUE` lines, values optionally quoted with shell escapes.
pub(crate) fn parse_os_release(text: &str) -> BTreeMap<String, String> {
    let mut out = BTreeMap::new();
    for line in text.lines() {
        let line = line.trim();
        if line.is_empty() || line.starts_with('#') {
            continue;
        }
        let Some((k, v)) = line.split_once('=') else {
            continue;
        };
        let k = k.trim();
        if k.is_empty() || !k.bytes().all(|b| b.is_ascii_alphanumeric() || b == b'_') {
            continue;
        }
        out.insert(k.to_owned(), unquote(v.trim()));
    }
    out
}

fn unquote(v: &str) -> String {
    let inner = match v.as_bytes() {
        [q @ (b'"' | b'\''), .., last] if last == q && v.len() >= 2 => &v[1..v.len() - 1],
        _ => v,
    };
    let mut out = String::with_capacity(inner.len());
    let mut chars = inner.chars();
    while let Some(c) = chars.next() {
        if c == '\\' {
            if let Some(n) = chars.next() {
                out.push(n);
            }
        } else {
            out.push(c);
        }
    }
    out
}

/// Debian's codename of a major version (`12` → `bookworm`); `None` for one customs does not
/// know.
#[must_use]
pub fn debian_codename(major: &str) -> Option<&'static str> {
    Some(match major {
        "7" => "wheezy",
        "8" => "jessie",
        "9" => "stretch",
        "10" => "buster",
        "11" => "bullseye",
        "12" => "bookworm",
        "13" => "trixie",
        "14" => "forky",
        _ => return None,
    })
}

/// Build the distro from the files found (already resolved through symlinks), preferring
/// os-release.
pub(crate) fn detect(files: &BTreeMap<&str, &Fact>) -> Option<Distro> {
    let os = [OS_RELEASE, USR_OS_RELEASE]
        .iter()
        .find_map(|p| match files.get(p) {
            Some(Fact::OsRelease(m)) if m.contains_key("ID") => Some(m),
            _ => None,
        });
    if let Some(m) = os {
        return Some(from_os_release(m, files));
    }
    let release = |p: &str| match files.get(p) {
        Some(Fact::ReleaseFile(s)) if !s.is_empty() => Some(s.clone()),
        _ => None,
    };
    if let Some(v) = release(ALPINE) {
        return Some(Distro {
            id: "alpine".to_owned(),
            version_id: Some(v.clone()),
            codename: None,
            pretty_name: Some(format!("Alpine Linux v{v}")),
            id_like: Vec::new(),
            source_file: format!("/{ALPINE}"),
        });
    }
    for p in [REDHAT, CENTOS, SUSE] {
        if let Some(line) = release(p) {
            return Some(from_release_line(&line, p));
        }
    }
    if let Some(v) = release(DEBIAN) {
        // "12.4", or "bookworm/sid" on testing/unstable.
        let major = v.split('.').next().unwrap_or("").to_owned();
        let numeric = !major.is_empty() && major.bytes().all(|b| b.is_ascii_digit());
        return Some(Distro {
            id: "debian".to_owned(),
            version_id: numeric.then(|| major.clone()),
            codename: if numeric {
                debian_codename(&major).map(str::to_owned)
            } else {
                v.split('/').next().map(str::to_owned)
            },
            pretty_name: Some(format!("Debian GNU/Linux {v}")),
            id_like: Vec::new(),
            source_file: format!("/{DEBIAN}"),
        });
    }
    None
}

fn from_os_release(m: &BTreeMap<String, String>, files: &BTreeMap<&str, &Fact>) -> Distro {
    let id = m.get("ID").cloned().unwrap_or_default().to_lowercase();
    let mut version_id = m.get("VERSION_ID").cloned();
    let mut codename = m
        .get("VERSION_CODENAME")
        .filter(|c| !c.is_empty())
        .cloned()
        .or_else(|| {
            // VERSION="12 (bookworm)"
            let v = m.get("VERSION")?;
            let (_, rest) = v.split_once('(')?;
            let name = rest.split(')').next()?.trim();
            (!name.is_empty() && !name.contains(' ')).then(|| name.to_lowercase())
        });
    if id == "debian" {
        // Debian testing/sid and distroless omit VERSION_ID; debian_version still tells.
        if version_id.is_none()
            && let Some(Fact::ReleaseFile(v)) = files.get(DEBIAN)
        {
            let major = v.split('.').next().unwrap_or("");
            if !major.is_empty() && major.bytes().all(|b| b.is_ascii_digit()) {
                version_id = Some(major.to_owned());
            }
        }
        if codename.is_none() {
            codename = version_id
                .as_deref()
                .and_then(debian_codename)
                .map(str::to_owned);
        }
    }
    Distro {
        id,
        version_id,
        codename,
        pretty_name: m.get("PRETTY_NAME").or_else(|| m.get("NAME")).cloned(),
        id_like: m
            .get("ID_LIKE")
            .map(|s| s.split_whitespace().map(str::to_owned).collect())
            .unwrap_or_default(),
        source_file: if files.contains_key(OS_RELEASE) {
            format!("/{OS_RELEASE}")
        } else {
            format!("/{USR_OS_RELEASE}")
        },
    }
}

/// "Red Hat Enterprise Linux release 8.9 (Ootpa)", "CentOS Linux release 7.9.2009 (Core)",
/// "SUSE Linux Enterprise Server 11 (x86_64)".
fn from_release_line(line: &str, path: &str) -> Distro {
    let lower = line.to_lowercase();
    let id = if lower.starts_with("red hat") {
        "rhel"
    } else if lower.starts_with("centos") {
        "centos"
    } else if lower.starts_with("rocky") {
        "rocky"
    } else if lower.starts_with("almalinux") {
        "almalinux"
    } else if lower.starts_with("fedora") {
        "fedora"
    } else if lower.starts_with("oracle") {
        "ol"
    } else if lower.contains("suse") {
        "sles"
    } else {
        "unknown"
    };
    let version_id = line
        .split_whitespace()
        .find(|w| w.starts_with(|c: char| c.is_ascii_digit()))
        .map(|w| w.trim_end_matches(|c: char| !c.is_ascii_digit()).to_owned());
    let codename = line
        .split_once('(')
        .and_then(|(_, r)| r.split(')').next())
        .map(str::to_owned);
    Distro {
        id: id.to_owned(),
        version_id,
        codename,
        pretty_name: Some(line.to_owned()),
        id_like: Vec::new(),
        source_file: format!("/{path}"),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn os_release_quotes_and_comments() {
        let m = parse_os_release(
            "# comment\nPRETTY_NAME=\"Debian GNU/Linux 12 (bookworm)\"\nID=debian\nVERSION_ID='12'\nNAME=\"a \\\"b\\\"\"\n",
        );
        assert_eq!(m["PRETTY_NAME"], "Debian GNU/Linux 12 (bookworm)");
        assert_eq!(m["VERSION_ID"], "12");
        assert_eq!(m["NAME"], "a \"b\"");
    }

    #[test]
    fn fallbacks() {
        let f = Fact::ReleaseFile("3.10.4".to_owned());
        let files = BTreeMap::from([(ALPINE, &f)]);
        let d = detect(&files).unwrap();
        assert_eq!(
            (d.id.as_str(), d.version_id.as_deref()),
            ("alpine", Some("3.10.4"))
        );

        let f = Fact::ReleaseFile("Red Hat Enterprise Linux release 8.9 (Ootpa)".to_owned());
        let files = BTreeMap::from([(REDHAT, &f)]);
        let d = detect(&files).unwrap();
        assert_eq!(
            (
                d.id.as_str(),
                d.version_id.as_deref(),
                d.codename.as_deref()
            ),
            ("rhel", Some("8.9"), Some("Ootpa"))
        );

        let f = Fact::ReleaseFile("12.4".to_owned());
        let files = BTreeMap::from([(DEBIAN, &f)]);
        let d = detect(&files).unwrap();
        assert_eq!(
            (d.version_id.as_deref(), d.codename.as_deref()),
            (Some("12"), Some("bookworm"))
        );
    }

    /// os-release files as the distributions ship them (transcribed from the images).
    #[test]
    fn distributions() {
        let cases = [
            (
                "PRETTY_NAME=\"Ubuntu 22.04.4 LTS\"\nNAME=\"Ubuntu\"\nVERSION_ID=\"22.04\"\nVERSION=\"22.04.4 LTS (Jammy Jellyfish)\"\nVERSION_CODENAME=jammy\nID=ubuntu\nID_LIKE=debian\nUBUNTU_CODENAME=jammy\n",
                ("ubuntu", Some("22.04"), Some("jammy")),
            ),
            (
                "NAME=\"Red Hat Enterprise Linux\"\nVERSION=\"9.3 (Plow)\"\nID=\"rhel\"\nID_LIKE=\"fedora\"\nVERSION_ID=\"9.3\"\nPLATFORM_ID=\"platform:el9\"\nPRETTY_NAME=\"Red Hat Enterprise Linux 9.3 (Plow)\"\n",
                ("rhel", Some("9.3"), Some("plow")),
            ),
            (
                "NAME=\"Rocky Linux\"\nVERSION=\"9.3 (Blue Onyx)\"\nID=\"rocky\"\nID_LIKE=\"rhel centos fedora\"\nVERSION_ID=\"9.3\"\nPRETTY_NAME=\"Rocky Linux 9.3 (Blue Onyx)\"\n",
                ("rocky", Some("9.3"), None),
            ),
            (
                "NAME=\"SLES\"\nVERSION=\"15-SP5\"\nVERSION_ID=\"15.5\"\nPRETTY_NAME=\"SUSE Linux Enterprise Server 15 SP5\"\nID=\"sles\"\nID_LIKE=\"suse\"\n",
                ("sles", Some("15.5"), None),
            ),
            (
                "NAME=\"Alpine Linux\"\nID=alpine\nVERSION_ID=3.19.1\nPRETTY_NAME=\"Alpine Linux v3.19\"\n",
                ("alpine", Some("3.19.1"), None),
            ),
            (
                "NAME=\"Amazon Linux\"\nVERSION=\"2023\"\nID=\"amzn\"\nID_LIKE=\"fedora\"\nVERSION_ID=\"2023\"\nPRETTY_NAME=\"Amazon Linux 2023\"\n",
                ("amzn", Some("2023"), None),
            ),
            (
                "PRETTY_NAME=\"Debian GNU/Linux trixie/sid\"\nNAME=\"Debian GNU/Linux\"\nVERSION_CODENAME=trixie\nID=debian\n",
                ("debian", None, Some("trixie")),
            ),
        ];
        for (text, (id, version, codename)) in cases {
            let f = Fact::OsRelease(parse_os_release(text));
            let files = BTreeMap::from([(OS_RELEASE, &f)]);
            let d = detect(&files).unwrap();
            assert_eq!(
                (
                    d.id.as_str(),
                    d.version_id.as_deref(),
                    d.codename.as_deref()
                ),
                (id, version, codename),
                "{text}"
            );
        }
    }

    #[test]
    fn distroless_debian_without_version_id() {
        let os = Fact::OsRelease(parse_os_release(
            "PRETTY_NAME=\"Distroless\"\nNAME=\"Debian GNU/Linux\"\nID=\"debian\"\nVERSION_ID=\"12\"\nVERSION=\"Debian GNU/Linux 12 (bookworm)\"\n",
        ));
        let files = BTreeMap::from([(OS_RELEASE, &os)]);
        let d = detect(&files).unwrap();
        assert_eq!(d.codename.as_deref(), Some("bookworm"));
        assert_eq!(d.pretty_name.as_deref(), Some("Distroless"));
    }
}
