//! The distribution an SBOM names, as os-release would have: from its operating-system
//! record, else from its purls' `distro` qualifiers.

use std::collections::BTreeMap;

use customs_catalog::Distro;

use super::purl;

/// What the document says about the distribution.
#[derive(Default, Clone)]
pub(crate) struct DistroFacts {
    pub(crate) id: Option<String>,
    pub(crate) version_id: Option<String>,
    pub(crate) codename: Option<String>,
    pub(crate) pretty_name: Option<String>,
    pub(crate) id_like: Vec<String>,
}

/// os-release's `ID` for a distribution named the way trivy names OS families (`redhat`,
/// `alma`, `amazon`, …); other names are taken as the `ID` itself.
fn os_release_id(name: &str) -> String {
    let n = name.trim().to_ascii_lowercase();
    match n.as_str() {
        "redhat" | "red hat" | "red hat enterprise linux" => "rhel",
        "alma" => "almalinux",
        "amazon" | "amazon linux" => "amzn",
        "oracle" | "oracle linux" => "ol",
        "suse linux enterprise server" | "sles" => "sles",
        "opensuse.leap" | "opensuse leap" => "opensuse-leap",
        "opensuse.tumbleweed" | "opensuse tumbleweed" => "opensuse-tumbleweed",
        "cbl-mariner" => "mariner",
        "debian gnu/linux" => "debian",
        _ => return n,
    }
    .to_owned()
}

/// The distribution: the document's own record, else the purls' most common `distro`
/// qualifier.
pub(crate) fn distro(
    facts: Option<DistroFacts>,
    votes: &BTreeMap<String, usize>,
    origin: &str,
) -> Option<Distro> {
    let facts = facts.filter(|f| f.id.as_deref().is_some_and(|i| !i.trim().is_empty()));
    let facts = facts.or_else(|| {
        let (q, _) = votes
            .iter()
            .max_by_key(|(q, n)| (**n, std::cmp::Reverse(*q)))?;
        let (id, v) = purl::split_distro(q);
        Some(DistroFacts {
            id: Some(id.to_owned()),
            version_id: v.map(str::to_owned),
            ..DistroFacts::default()
        })
    })?;
    let id = os_release_id(facts.id.as_deref().unwrap_or_default());
    let mut version_id = facts.version_id.filter(|v| !v.trim().is_empty());
    let mut codename = facts.codename.filter(|c| !c.trim().is_empty());
    if id == "debian"
        && let Some(v) = version_id.as_deref()
    {
        // os-release's VERSION_ID is the major (`12`); trivy writes debian_version's `10.2`.
        let major = v.split('.').next().unwrap_or(v);
        if !major.is_empty() && major.bytes().all(|b| b.is_ascii_digit()) {
            if codename.is_none() {
                codename = customs_catalog::debian_codename(major).map(str::to_owned);
            }
            version_id = Some(major.to_owned());
        }
    }
    Some(Distro {
        id,
        version_id,
        codename,
        pretty_name: facts.pretty_name.filter(|p| !p.trim().is_empty()),
        id_like: facts.id_like,
        source_file: origin.to_owned(),
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn distro_from_votes() {
        let votes: BTreeMap<String, usize> =
            [("debian-10.2".to_owned(), 5), ("debian-9".to_owned(), 1)].into();
        let d = distro(None, &votes, "x.json").unwrap();
        assert_eq!(
            (
                d.id.as_str(),
                d.version_id.as_deref(),
                d.codename.as_deref()
            ),
            ("debian", Some("10"), Some("buster"))
        );
        let votes: BTreeMap<String, usize> = [("rhel-9.7".to_owned(), 1)].into();
        let d = distro(None, &votes, "x.json").unwrap();
        assert_eq!(
            (d.id.as_str(), d.version_id.as_deref()),
            ("rhel", Some("9.7"))
        );
        let f = DistroFacts {
            id: Some("redhat".into()),
            version_id: Some("8.9".into()),
            ..DistroFacts::default()
        };
        assert_eq!(distro(Some(f), &votes, "x").unwrap().id, "rhel");
    }
}
