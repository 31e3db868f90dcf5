//! What the SBOM writers say about who made a package and under which licence: the
//! inventory keeps licences and authors as the package's metadata wrote them, and this turns
//! them into the forms CycloneDX and SPDX require (SPDX licence expressions whose every
//! identifier is on the SPDX licence list or a declared `LicenseRef-`, suppliers as
//! `Organization:`/`Person:`).

use std::collections::BTreeMap;

use customs_catalog::{Distro, Ecosystem, Inventory, Package};
use sha2::{Digest, Sha256};

use crate::ids::ImageName;

/// Names Debian's machine-readable copyright files and rpm spec files use that the SPDX
/// licence list spells otherwise and the `spdx` crate's loose matching does not know.
const ALIASES: &[(&str, &str)] = &[
    ("Expat", "MIT"),
    ("MIT/X11", "MIT"),
    ("X11", "X11"),
    ("ASL 2.0", "Apache-2.0"),
    ("BSD", "BSD-3-Clause"),
    ("zlib/libpng", "Zlib"),
    ("Python", "PSF-2.0"),
    ("PSF", "PSF-2.0"),
    ("PSFL", "PSF-2.0"),
    ("Public Domain", "LicenseRef-public-domain"),
    ("public-domain", "LicenseRef-public-domain"),
];

/// One licence text in SPDX form: an expression of listed identifiers, or a `LicenseRef-` for
/// a text that is not one.
fn canonical(raw: &str) -> Result<String, ()> {
    let raw = raw.trim();
    if let Some((_, to)) = ALIASES
        .iter()
        .find(|(from, _)| from.eq_ignore_ascii_case(raw))
    {
        return if to.starts_with("LicenseRef-") {
            Err(())
        } else {
            Ok((*to).to_owned())
        };
    }
    let raw = raw
        .split_whitespace()
        .map(debian_word)
        .collect::<Vec<_>>()
        .join(" ");
    // Loose spellings (`gpl-3.0+`, `Apache 2.0`, `/` for OR) have a canonical form that parses
    // strictly.
    let can = match spdx::Expression::canonicalize(&raw) {
        Ok(Some(c)) => c,
        Ok(None) => raw.clone(),
        Err(_) => return Err(()),
    };
    spdx::Expression::parse(&can).map(|_| can).map_err(|_| ())
}

/// One word of a Debian or rpm licence line in SPDX's spelling: the GNU short names
/// ([`debian_gnu`]), the few Debian names that drop SPDX's `.0`, and listed identifiers in
/// another case (`BSD-3-clause`; SPDX identifiers are case-insensitive to match, the crate's
/// lookup is not).
fn debian_word(word: &str) -> String {
    let gnu = debian_gnu(word);
    if gnu != word {
        return gnu;
    }
    match word {
        "Artistic" => return "Artistic-1.0".to_owned(),
        "Artistic-2" => return "Artistic-2.0".to_owned(),
        "BSL-1" => return "BSL-1.0".to_owned(),
        _ => {}
    }
    let (base, plus) = word.strip_suffix('+').map_or((word, ""), |b| (b, "+"));
    if spdx::license_id(base).is_none()
        && let Some(l) = spdx::identifiers::LICENSES
            .iter()
            .find(|l| l.name.eq_ignore_ascii_case(base))
    {
        return format!("{}{plus}", l.name);
    }
    word.to_owned()
}

/// Debian's short names for the GNU licences (DEP-5: `GPL-2`, `LGPL-2.1+`, `AGPL-3`,
/// `GFDL-1.3`), which leave out SPDX's `.0` and its `-only`/`-or-later`; any other word as it is.
fn debian_gnu(word: &str) -> String {
    let (base, plus) = match word.strip_suffix('+') {
        Some(b) => (b, true),
        None => (word, false),
    };
    let Some((family, version)) = base.rsplit_once('-') else {
        return word.to_owned();
    };
    let known = ["GPL", "LGPL", "AGPL", "GFDL"]
        .iter()
        .find(|f| f.eq_ignore_ascii_case(family));
    let numeric = !version.is_empty()
        && version.chars().all(|c| c.is_ascii_digit() || c == '.')
        && !version.starts_with('.');
    match known {
        Some(f) if numeric => {
            let version = if version.contains('.') {
                version.to_owned()
            } else {
                format!("{version}.0")
            };
            format!("{f}-{version}-{}", if plus { "or-later" } else { "only" })
        }
        _ => word.to_owned(),
    }
}

/// A package's declared licences as one SPDX expression, and the texts of the
/// `LicenseRef-`s it uses.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct Declared {
    pub(crate) expression: String,
    /// Whether every licence was an SPDX expression (no `LicenseRef-` was needed).
    pub(crate) all_listed: bool,
    /// `LicenseRef-…` id → the text it stands for.
    pub(crate) refs: BTreeMap<String, String>,
}

/// The `LicenseRef-` for a text that is not an SPDX expression: its letters and digits, then a
/// short hash of the text so two texts never share an id.
fn license_ref(raw: &str) -> String {
    let clean: String = raw
        .chars()
        .take(40)
        .map(|c| {
            if c.is_ascii_alphanumeric() || c == '.' {
                c
            } else {
                '-'
            }
        })
        .collect();
    let hash = hex::encode(&Sha256::digest(raw.as_bytes())[..4]);
    format!("LicenseRef-{}-{hash}", clean.trim_matches('-'))
}

/// All of a package's licences hold at once (a copyright file listing several files'
/// licences), so they join with `AND`; `None` when it declares none.
pub(crate) fn declared(licenses: &[String]) -> Option<Declared> {
    let mut parts: Vec<String> = Vec::new();
    let mut refs = BTreeMap::new();
    for raw in licenses.iter().map(|l| l.trim()).filter(|l| !l.is_empty()) {
        let part = canonical(raw).unwrap_or_else(|()| {
            let id = license_ref(raw);
            refs.insert(id.clone(), raw.to_owned());
            id
        });
        if !parts.contains(&part) {
            parts.push(part);
        }
    }
    if parts.is_empty() {
        return None;
    }
    let several = parts.len() > 1;
    let expression = parts
        .iter()
        .map(|p| {
            if several && p.contains(' ') {
                format!("({p})")
            } else {
                p.clone()
            }
        })
        .collect::<Vec<_>>()
        .join(" AND ");
    Some(Declared {
        expression,
        all_listed: refs.is_empty(),
        refs,
    })
}

/// Who distributes a package, for SPDX's `supplier` and CycloneDX's `supplier` (NTIA's
/// "supplier name"): the distribution for its own packages, as it builds and ships them (rpm's
/// `Vendor` when the database names one); the ecosystem's registry for a language package, as
/// its package URL type says (a `pkg:pypi` package comes from PyPI unless it says otherwise);
/// for a Go module, the host and owner its module path names. `None` when customs cannot tell
/// (a crate from a git or path source).
pub(crate) fn supplier(p: &Package, distro: Option<&Distro>) -> Option<String> {
    if p.ecosystem.is_os() {
        if p.ecosystem == Ecosystem::Rpm
            && let Some(v) = p.author.as_deref().filter(|v| plain(v))
        {
            return Some(v.to_owned());
        }
        return distro.map(distro_name);
    }
    match p.ecosystem {
        Ecosystem::PyPI => Some("PyPI".to_owned()),
        Ecosystem::Npm => Some("npm".to_owned()),
        Ecosystem::Cargo => {
            let other_source = p
                .notes
                .iter()
                .any(|n| n.starts_with("git+") || n == "path" || n.starts_with("path+"));
            (!other_source).then(|| "crates.io".to_owned())
        }
        Ecosystem::Go => Some(go_owner(&p.name)),
        // A purl's default repository for these types is the ecosystem's public registry.
        Ecosystem::Maven => Some("Maven Central".to_owned()),
        Ecosystem::Gem => Some("RubyGems.org".to_owned()),
        Ecosystem::Composer => Some("Packagist".to_owned()),
        Ecosystem::NuGet => Some("NuGet Gallery".to_owned()),
        _ => None,
    }
}

/// `github.com/spf13/cobra` → `github.com/spf13`; `golang.org/x/net` → `golang.org/x`; the
/// standard library → `Go`.
fn go_owner(module: &str) -> String {
    if module == "stdlib" || !module.contains('.') {
        return "Go".to_owned();
    }
    let parts: Vec<&str> = module.split('/').take(2).collect();
    parts.join("/")
}

/// Who supplies the image: its OCI labels (`org.opencontainers.image.vendor`, else
/// `…authors`), else the config's `author`, which its builder sets; else, for an image read
/// from a registry, the owner of its repository (`ghcr.io/acme` for `ghcr.io/acme/app`, the
/// registry for a top-level repository), who publishes it there. `None` for a layout or
/// archive that says none of these: nothing names who made it.
pub(crate) fn image_supplier(inv: &Inventory, image: &ImageName) -> Option<String> {
    let labels = inv.image.as_ref().map(|i| &i.config.labels);
    labels
        .and_then(|l| {
            l.get("org.opencontainers.image.vendor")
                .or_else(|| l.get("org.opencontainers.image.authors"))
        })
        .or_else(|| inv.image.as_ref()?.config.author.as_ref())
        .map(|v| v.trim())
        .filter(|v| plain(v))
        .map(str::to_owned)
        .or_else(|| {
            let repo = image.repository_url.as_deref()?;
            repo.rsplit_once('/').map(|(owner, _)| owner.to_owned())
        })
}

/// A string fit for an SPDX `Organization:`/`Person:` value: one line of printable text, not
/// absurdly long (it comes from the image, and a reader may print it on a terminal).
fn plain(s: &str) -> bool {
    !s.trim().is_empty() && s.len() <= 200 && !s.chars().any(char::is_control)
}

/// The distribution as an organisation: Red Hat for its family, else the first word of its
/// name (`Debian`, `Alpine`, `Ubuntu`), else its id.
pub(crate) fn distro_name(d: &Distro) -> String {
    match d.id.as_str() {
        "rhel" | "centos" | "fedora" => "Red Hat".to_owned(),
        _ => d
            .pretty_name
            .as_deref()
            .and_then(|n| n.split_whitespace().next())
            .unwrap_or(&d.id)
            .to_owned(),
    }
}

/// A package's author split into a name and an email address, from `Name <email>`: the
/// address only when it looks like one (a CycloneDX contact's `email` is format-checked).
pub(crate) fn author(p: &Package) -> Option<(String, Option<String>)> {
    let a = p.author.as_deref().filter(|a| plain(a))?.trim();
    if let Some((name, rest)) = a.split_once('<')
        && let Some((email, _)) = rest.split_once('>')
    {
        let email = email.trim();
        let name = name.trim().trim_matches('"').trim();
        let looks = email.split_once('@').is_some_and(|(l, d)| {
            !l.is_empty() && d.contains('.') && !email.contains([' ', '<', '>', ','])
        });
        let name = if name.is_empty() { email } else { name };
        return Some((name.to_owned(), looks.then(|| email.to_owned())));
    }
    Some((a.to_owned(), None))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn expr(l: &[&str]) -> Option<(String, bool)> {
        let v: Vec<String> = l.iter().map(|s| (*s).to_owned()).collect();
        declared(&v).map(|d| (d.expression, d.all_listed))
    }

    #[test]
    fn licences_become_spdx_expressions() {
        assert_eq!(expr(&[]), None);
        assert_eq!(expr(&["MIT"]), Some(("MIT".into(), true)));
        // Debian's DEP-5 names.
        assert_eq!(expr(&["GPL-2+"]), Some(("GPL-2.0-or-later".into(), true)));
        assert_eq!(expr(&["Expat"]), Some(("MIT".into(), true)));
        assert_eq!(
            expr(&["GPL-2+", "LGPL-2.1+", "GPL-2+"]),
            Some(("GPL-2.0-or-later AND LGPL-2.1-or-later".into(), true))
        );
        // Compound parts keep their meaning when joined.
        assert_eq!(
            expr(&["MIT OR Apache-2.0", "BSD-3-Clause"]),
            Some(("(MIT OR Apache-2.0) AND BSD-3-Clause".into(), true))
        );
        // rpm's Fedora names.
        assert_eq!(expr(&["ASL 2.0"]), Some(("Apache-2.0".into(), true)));
        let d = declared(&["public-domain".to_owned(), "MIT".to_owned()]).unwrap();
        assert!(!d.all_listed);
        let (id, text) = d.refs.iter().next().unwrap();
        assert!(id.starts_with("LicenseRef-public-domain-"), "{id}");
        assert_eq!(text, "public-domain");
        assert_eq!(d.expression, format!("{id} AND MIT"));
        // Every expression written parses strictly.
        for l in [
            "GPL-2+ with OpenSSL exception",
            "BSD-3-clause",
            "Artistic or GPL-1+",
            "zlib",
        ] {
            let d = declared(&[l.to_owned()]).unwrap();
            let strict = spdx::Expression::parse(&d.expression);
            assert!(
                strict.is_ok() || d.expression.starts_with("LicenseRef-"),
                "{l} -> {}",
                d.expression
            );
        }
    }

    #[test]
    fn authors_split_name_and_address() {
        let p = |a: &str| {
            let mut pkg: Package = serde_json::from_value(serde_json::json!({
                "name": "x", "version": "1", "ecosystem": "npm", "purl": null,
                "source_name": null, "source_version": null, "arch": null, "layer": null,
                "layer_index": null, "found_in": "/x", "paths": []
            }))
            .unwrap();
            pkg.author = Some(a.to_owned());
            author(&pkg)
        };
        assert_eq!(
            p("Debian OpenSSL Team <pkg-openssl-devel@alioth-lists.debian.net>"),
            Some((
                "Debian OpenSSL Team".into(),
                Some("pkg-openssl-devel@alioth-lists.debian.net".into())
            ))
        );
        assert_eq!(p("Jane Doe"), Some(("Jane Doe".into(), None)));
        assert_eq!(p("<not an address>"), Some(("not an address".into(), None)));
        assert_eq!(p("two\nlines"), None);
        assert_eq!(p("\u{1b}[31mred"), None);
    }

    #[test]
    fn debian_gnu_names() {
        assert_eq!(debian_gnu("GPL-2+"), "GPL-2.0-or-later");
        assert_eq!(debian_gnu("LGPL-2.1"), "LGPL-2.1-only");
        assert_eq!(debian_gnu("AGPL-3+"), "AGPL-3.0-or-later");
        assert_eq!(debian_gnu("GPL-2.0-or-later"), "GPL-2.0-or-later");
        assert_eq!(debian_gnu("BSD-3-clause"), "BSD-3-clause");
        assert_eq!(debian_gnu("or"), "or");
        assert_eq!(debian_word("BSD-3-clause"), "BSD-3-Clause");
        assert_eq!(debian_word("Artistic"), "Artistic-1.0");
        assert_eq!(debian_word("Ms-PL"), "MS-PL");
        assert_eq!(
            expr(&["GPL-1+ or Artistic"]),
            Some(("GPL-1.0-or-later OR Artistic-1.0".into(), true))
        );
    }

    #[test]
    fn image_supplier_from_labels_author_or_repository() {
        let inv = |labels: serde_json::Value, author: Option<&str>, reference: &str| -> Inventory {
            serde_json::from_value(serde_json::json!({
                "schema": "customs.inventory/1.4",
                "source": {"kind": if reference.starts_with("oci:") { "oci" } else { "registry" },
                           "reference": reference},
                "image": {"manifest_digest": null, "config_digest": null, "os": null,
                          "architecture": null, "created": null, "layers": [],
                          "config": {"user": null, "env": [], "entrypoint": [], "cmd": [],
                                     "working_dir": null, "labels": labels,
                                     "exposed_ports": [], "history": [], "author": author}},
                "distro": null, "packages": [], "warnings": []
            }))
            .unwrap()
        };
        let supplier = |i: &Inventory| image_supplier(i, &ImageName::of(i));
        let vendor = serde_json::json!({"org.opencontainers.image.vendor": "Acme"});
        assert_eq!(
            supplier(&inv(vendor, Some("x"), "oci:/a/oci:1")).as_deref(),
            Some("Acme")
        );
        let none = serde_json::json!({});
        assert_eq!(
            supplier(&inv(
                none.clone(),
                Some("Jo <jo@example.org>"),
                "oci:/a/oci:1"
            ))
            .as_deref(),
            Some("Jo <jo@example.org>")
        );
        assert_eq!(
            supplier(&inv(none.clone(), None, "ghcr.io/acme/app:1")).as_deref(),
            Some("ghcr.io/acme")
        );
        assert_eq!(supplier(&inv(none, None, "oci:/a/oci:1")), None);
    }

    #[test]
    fn go_module_owners() {
        assert_eq!(go_owner("github.com/spf13/cobra"), "github.com/spf13");
        assert_eq!(go_owner("golang.org/x/net"), "golang.org/x");
        assert_eq!(go_owner("stdlib"), "Go");
    }
}
