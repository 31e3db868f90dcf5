//! Package URLs as SBOMs write them, read into what customs' catalog would have recorded: the
//! ecosystem from the purl type, the name and version as the package manager spells them, and
//! the qualifiers scanners agree on (`arch`, `epoch`, `upstream`, `distro`).
//!
//! Writers differ in where an epoch goes: syft keeps it in the version
//! (`pkg:deb/debian/bsdutils@1:2.38.1-5%2Bdeb12u3`), trivy and the purl spec's rpm examples move
//! it to a qualifier (`@2.33.1-0.1?epoch=1`). Both read as `1:2.33.1-0.1`, the dpkg and rpm
//! spelling the catalog uses.

use packageurl::PackageUrl;

use customs_types::{Ecosystem, pep503_name};

/// A parsed purl, with the accessors the readers need.
pub(crate) struct Purl(PackageUrl<'static>);

impl Purl {
    /// Parse a purl; the error says what is wrong, for a warning.
    pub(crate) fn parse(s: &str) -> Result<Self, String> {
        s.trim()
            .parse::<PackageUrl<'static>>()
            .map(Self)
            .map_err(|e| e.to_string())
    }

    /// The purl type, lower case (`deb`, `gem`, `oci`).
    pub(crate) fn ty(&self) -> &str {
        self.0.ty()
    }

    /// The ecosystem of the purl type, when customs has one.
    pub(crate) fn ecosystem(&self) -> Option<Ecosystem> {
        Ecosystem::ALL.into_iter().find(|e| e.as_str() == self.ty())
    }

    /// A qualifier's value; an empty one (syft writes `arch=`) is absent.
    pub(crate) fn qualifier(&self, key: &str) -> Option<&str> {
        self.0
            .qualifiers()
            .get(key)
            .map(AsRef::as_ref)
            .filter(|v: &&str| !v.trim().is_empty())
    }

    /// The version as written, without the epoch qualifier applied.
    pub(crate) fn raw_version(&self) -> Option<&str> {
        self.0.version().filter(|v| !v.is_empty())
    }

    /// The epoch qualifier, when it is a number.
    pub(crate) fn epoch(&self) -> Option<u32> {
        self.qualifier("epoch").and_then(|e| e.trim().parse().ok())
    }

    /// The version as the package manager prints it: for deb and rpm, with the epoch
    /// qualifier in front (`1:2.33.1-0.1`) unless the version already carries one, and
    /// without an epoch of 0, which rpm does not print.
    pub(crate) fn version(&self, eco: Ecosystem) -> Option<String> {
        let v = self.raw_version()?;
        match (eco, self.epoch()) {
            (Ecosystem::Deb | Ecosystem::Rpm, Some(e)) if e > 0 && !has_epoch(v) => {
                Some(format!("{e}:{v}"))
            }
            _ => Some(v.to_owned()),
        }
    }

    /// The package name as the catalog spells it. The purl library lower-cases what the purl
    /// spec says is case-insensitive (PyPI and npm names, Go module namespaces), so the
    /// component's own name is kept when it is the same package: Go module paths are
    /// case-sensitive (`github.com/BurntSushi/toml`), and the catalog keeps the installed
    /// spelling of a Python name (`Jinja2`).
    pub(crate) fn name(&self, eco: Ecosystem, component_name: Option<&str>) -> String {
        let own = component_name.map(str::trim).filter(|n| !n.is_empty());
        let full = match self.0.namespace().filter(|ns| !ns.is_empty()) {
            Some(ns) if matches!(eco, Ecosystem::Npm | Ecosystem::Go | Ecosystem::Composer) => {
                format!("{ns}/{}", self.0.name())
            }
            // The catalog (and OSV) name an artifact `groupId:artifactId`.
            Some(ns) if eco == Ecosystem::Maven => format!("{ns}:{}", self.0.name()),
            _ => self.0.name().to_owned(),
        };
        match own {
            Some(n) if eco == Ecosystem::PyPI && pep503_name(n) == pep503_name(&full) => {
                n.to_owned()
            }
            Some(n)
                if matches!(eco, Ecosystem::Npm | Ecosystem::Go)
                    && n.eq_ignore_ascii_case(&full) =>
            {
                n.to_owned()
            }
            _ => full,
        }
    }
}

/// Whether a deb or rpm version starts with `EPOCH:`.
fn has_epoch(v: &str) -> bool {
    v.split_once(':')
        .is_some_and(|(e, _)| !e.is_empty() && e.bytes().all(|b| b.is_ascii_digit()))
}

/// `NAME` or `NAME@VERSION`, as syft writes a deb's `upstream` qualifier
/// (`util-linux@2.38.1-5+deb12u3`).
pub(crate) fn split_upstream(u: &str) -> (&str, Option<&str>) {
    match u.split_once('@') {
        Some((n, v)) if !v.is_empty() => (n, Some(v)),
        Some((n, _)) => (n, None),
        None => (u, None),
    }
}

/// A purl `distro` qualifier (`debian-12`, `alpine-3.19.1`, `rhel-9.7`, `opensuse-leap-15.5`,
/// `debian`) as (id, version): the version is what follows the last `-` that a digit follows.
pub(crate) fn split_distro(q: &str) -> (&str, Option<&str>) {
    match q.rsplit_once('-') {
        Some((id, v)) if !id.is_empty() && v.starts_with(|c: char| c.is_ascii_digit()) => {
            (id, Some(v))
        }
        _ => (q, None),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn epochs_move_into_the_version() {
        let p =
            Purl::parse("pkg:deb/debian/bsdutils@2.33.1-0.1?arch=amd64&distro=debian-10.2&epoch=1")
                .unwrap();
        assert_eq!(p.version(Ecosystem::Deb).as_deref(), Some("1:2.33.1-0.1"));
        let p = Purl::parse("pkg:deb/debian/bsdutils@1:2.38.1-5%2Bdeb12u3?epoch=1").unwrap();
        assert_eq!(
            p.version(Ecosystem::Deb).as_deref(),
            Some("1:2.38.1-5+deb12u3")
        );
        let p = Purl::parse("pkg:rpm/redhat/dbus@1.12.20-8.el9?arch=x86_64&epoch=1").unwrap();
        assert_eq!(
            p.version(Ecosystem::Rpm).as_deref(),
            Some("1:1.12.20-8.el9")
        );
        let p = Purl::parse("pkg:rpm/redhat/bash@5.1.8-9.el9?epoch=0").unwrap();
        assert_eq!(p.version(Ecosystem::Rpm).as_deref(), Some("5.1.8-9.el9"));
        assert_eq!(p.qualifier("arch"), None);
    }

    #[test]
    fn names_keep_the_components_spelling() {
        let p = Purl::parse("pkg:golang/github.com/BurntSushi/toml@v1.2.1").unwrap();
        assert_eq!(
            p.name(Ecosystem::Go, Some("github.com/BurntSushi/toml")),
            "github.com/BurntSushi/toml"
        );
        let p = Purl::parse("pkg:pypi/jinja2@2.11.2").unwrap();
        assert_eq!(p.name(Ecosystem::PyPI, Some("Jinja2")), "Jinja2");
        assert_eq!(p.name(Ecosystem::PyPI, Some("markupsafe")), "jinja2");
        let p = Purl::parse("pkg:npm/%40babel/core@7.0.0").unwrap();
        assert_eq!(p.name(Ecosystem::Npm, Some("core")), "@babel/core");
        assert_eq!(p.name(Ecosystem::Npm, None), "@babel/core");
    }

    #[test]
    fn qualifier_forms() {
        assert_eq!(
            split_upstream("util-linux@2.38.1-5+deb12u3"),
            ("util-linux", Some("2.38.1-5+deb12u3"))
        );
        assert_eq!(split_upstream("glibc"), ("glibc", None));
        assert_eq!(
            customs_catalog::split_srpm("util-linux-2.32.1-42.el8_8.src.rpm"),
            Some(("util-linux".into(), "2.32.1-42.el8_8".into()))
        );
        assert_eq!(customs_catalog::split_srpm("junk"), None);
        assert_eq!(split_distro("debian-12"), ("debian", Some("12")));
        assert_eq!(
            split_distro("opensuse-leap-15.5"),
            ("opensuse-leap", Some("15.5"))
        );
        assert_eq!(split_distro("debian"), ("debian", None));
        assert_eq!(split_distro("wolfi-rolling"), ("wolfi-rolling", None));
    }
}
