//! Which advisory namespaces apply to a distro release.

use customs_catalog::Distro;
use customs_vulndb::Namespace;

/// Debian's release numbers by codename, for images whose os-release lacks VERSION_ID.
fn debian_number(codename: &str) -> Option<&'static str> {
    Some(match codename {
        "squeeze" => "6",
        "wheezy" => "7",
        "jessie" => "8",
        "stretch" => "9",
        "buster" => "10",
        "bullseye" => "11",
        "bookworm" => "12",
        "trixie" => "13",
        "forky" => "14",
        _ => return None,
    })
}

fn major_minor(v: &str) -> String {
    v.split('.').take(2).collect::<Vec<_>>().join(".")
}

/// The namespaces to look packages up in, native feed first, then OSV's spelling.
pub fn namespaces(d: &Distro) -> Vec<Namespace> {
    let v = d.version_id.as_deref();
    let spelled: Vec<String> = match d.id.as_str() {
        "debian" => {
            let n = v
                .map(|v| v.split('.').next().unwrap_or(v).to_owned())
                .or_else(|| {
                    d.codename
                        .as_deref()
                        .and_then(debian_number)
                        .map(str::to_owned)
                });
            match n {
                Some(n) => vec![format!("debian:{n}"), format!("osv:Debian:{n}")],
                None => vec!["debian:unstable".to_owned()],
            }
        }
        "ubuntu" => v.map_or_else(Vec::new, |v| {
            vec![
                format!("ubuntu:{v}"),
                format!("osv:Ubuntu:{v}"),
                format!("osv:Ubuntu:{v}:LTS"),
            ]
        }),
        "alpine" => v.map_or_else(Vec::new, |v| {
            let mm = major_minor(v);
            vec![format!("alpine:{mm}"), format!("osv:Alpine:v{mm}")]
        }),
        "rhel" | "centos" | "rocky" | "almalinux" | "ol" => v.map_or_else(Vec::new, |v| {
            vec![format!("rhel:{}", v.split('.').next().unwrap_or(v))]
        }),
        _ => Vec::new(),
    };
    // The release comes from the image's os-release: one that does not make a namespace
    // (empty, control characters) names none.
    spelled.iter().filter_map(|s| s.parse().ok()).collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn d(id: &str, v: Option<&str>, c: Option<&str>) -> Distro {
        Distro {
            id: id.into(),
            version_id: v.map(Into::into),
            codename: c.map(Into::into),
            pretty_name: None,
            id_like: vec![],
            source_file: String::new(),
        }
    }

    #[test]
    fn releases() {
        assert_eq!(namespaces(&d("debian", Some("12"), None))[0], "debian:12");
        assert_eq!(
            namespaces(&d("debian", None, Some("bullseye")))[0],
            "debian:11"
        );
        assert_eq!(
            namespaces(&d("debian", None, Some("trixie")))[0],
            "debian:13"
        );
        assert_eq!(
            namespaces(&d("alpine", Some("3.10.4"), None)),
            ["alpine:3.10", "osv:Alpine:v3.10"]
        );
        assert_eq!(
            namespaces(&d("ubuntu", Some("22.04"), None))[0],
            "ubuntu:22.04"
        );
        assert_eq!(namespaces(&d("rocky", Some("9.3"), None)), ["rhel:9"]);
        assert!(namespaces(&d("gentoo", Some("2.14"), None)).is_empty());
    }
}
