//! Turning the language facts of the merged image into packages, once each.
//!
//! Two rules, both stated here because getting them wrong is what users complain about most:
//!
//! 1. **One package per (ecosystem, name, version).** The same crate named by a `Cargo.lock` and
//!    compiled into an auditable binary, or an npm package both installed under
//!    `node_modules/` and listed in `package-lock.json`, is one package with every file as
//!    evidence. Only lockfiles know what is a development dependency (installed metadata and
//!    binaries cannot say, except composer's installed.json), so a package is `dev` when
//!    lockfiles mention it and every one of them marks it dev.
//! 2. **OS packages own their files.** A language package whose evidence file an OS package
//!    installed (dpkg `.list`, the rpm file list, apk's `R:` lines) is not reported again as a
//!    language package: Debian's `python3-urllib3` ships `urllib3-1.26.12.dist-info`, and the
//!    distro, not PyPI, says which fixes that build carries. The OS package lists it under
//!    `owns` instead. A package with evidence both owned and not owned (the same version also
//!    installed by pip elsewhere) is still reported, with only the unowned files.

use std::collections::{BTreeMap, HashMap};

use crate::apply::Merged;
use crate::facts::Fact;
use crate::inventory::{Ecosystem, Package, pep503};
use crate::lang::{Evidence, LangEcosystem, LangPackage};

fn ecosystem(e: LangEcosystem) -> Ecosystem {
    match e {
        LangEcosystem::PyPI => Ecosystem::PyPI,
        LangEcosystem::Npm => Ecosystem::Npm,
        LangEcosystem::Cargo => Ecosystem::Cargo,
        LangEcosystem::Go => Ecosystem::Go,
        LangEcosystem::Maven => Ecosystem::Maven,
        LangEcosystem::Gem => Ecosystem::Gem,
        LangEcosystem::Composer => Ecosystem::Composer,
        LangEcosystem::NuGet => Ecosystem::NuGet,
    }
}

fn evidence_name(e: Evidence) -> &'static str {
    match e {
        Evidence::Installed => "installed",
        Evidence::Lockfile => "lockfile",
        Evidence::Binary => "binary",
    }
}

/// Where a language package's evidence lives, for ownership: the metadata file, or for the
/// egg-info and dist-info forms also their directory (an OS package's list names either).
fn owned_by(path: &str, owners: &HashMap<&str, usize>) -> Option<usize> {
    let abs = format!("/{path}");
    if let Some(i) = owners.get(abs.as_str()) {
        return Some(*i);
    }
    let (dir, _) = abs.rsplit_once('/')?;
    let dir_base = dir.rsplit('/').next().unwrap_or(dir);
    if dir_base.ends_with(".dist-info") || dir_base.ends_with(".egg-info") {
        return owners.get(dir).copied();
    }
    None
}

struct Gathered {
    pkg: LangPackage,
    paths: Vec<String>,
    evidence: Vec<Evidence>,
    /// Lockfile mentions, and how many of them mark it dev.
    locked: usize,
    locked_dev: usize,
    notes: Vec<String>,
    layer: Option<usize>,
}

/// Add the language packages of the merged image to `out`, which already holds the OS
/// packages (whose `paths` decide ownership).
pub(crate) fn collect(m: &Merged, out: &mut Vec<Package>) {
    let mut owners: HashMap<&str, usize> = HashMap::new();
    for (i, p) in out.iter().enumerate() {
        for path in &p.paths {
            owners.entry(path.as_str()).or_insert(i);
        }
    }
    let mut owned: Vec<(usize, String)> = Vec::new();
    let mut gathered: BTreeMap<(Ecosystem, String, String), Gathered> = BTreeMap::new();
    for (path, (layer, _)) in &m.files {
        let Some((real, Fact::Lang(pkgs))) = m.resolve(path) else {
            continue;
        };
        // A link to a metadata file is the same evidence as its target.
        if real != path {
            continue;
        }
        // A go.sum speaks only where no go.mod does (see `lang::golang::parse_go_sum`).
        if let Some(dir) = path.strip_suffix("go.sum")
            && (dir.is_empty() || dir.ends_with('/'))
            && matches!(m.resolve(&format!("{dir}go.mod")), Some((_, Fact::Lang(_))))
        {
            continue;
        }
        let owner = owned_by(path, &owners);
        for p in pkgs {
            let eco = ecosystem(p.ecosystem);
            if let Some(o) = owner {
                owned.push((
                    o,
                    format!("{}:{}@{} /{path}", eco.as_str(), p.name, p.version),
                ));
                continue;
            }
            let key = (eco, eco.match_name(&p.name), p.version.clone());
            let g = gathered.entry(key).or_insert_with(|| Gathered {
                pkg: p.clone(),
                paths: Vec::new(),
                evidence: Vec::new(),
                locked: 0,
                locked_dev: 0,
                notes: Vec::new(),
                layer: None,
            });
            // A package inside an archive inside this file is shown through it, as
            // `/app/app.jar!/BOOT-INF/lib/log4j-core-2.14.1.jar`.
            let shown = match (&p.location, p.ecosystem) {
                (Some(inner), LangEcosystem::Maven) => format!("/{path}!/{inner}"),
                _ => format!("/{path}"),
            };
            if !g.paths.contains(&shown) {
                g.paths.push(shown);
            }
            if !g.evidence.contains(&p.evidence) {
                g.evidence.push(p.evidence);
            }
            if let Some(n) = &p.note
                && !g.notes.contains(n)
            {
                g.notes.push(n.clone());
            }
            // Installed metadata that does say (composer 2's `dev-package-names`) counts as a
            // lockfile's word.
            if p.evidence == Evidence::Lockfile || p.dev {
                g.locked += 1;
                g.locked_dev += usize::from(p.dev);
            }
            // Installed metadata names the package best (dist-info spells `Jinja2`, a
            // lockfile may say `jinja2`).
            if p.evidence < g.pkg.evidence {
                let (licenses, author) = (std::mem::take(&mut g.pkg.licenses), g.pkg.author.take());
                g.pkg = p.clone();
                if g.pkg.licenses.is_empty() {
                    g.pkg.licenses = licenses;
                }
                g.pkg.author = g.pkg.author.take().or(author);
            } else {
                if g.pkg.licenses.is_empty() {
                    g.pkg.licenses.clone_from(&p.licenses);
                }
                if g.pkg.author.is_none() {
                    g.pkg.author.clone_from(&p.author);
                }
            }
            g.layer = Some(g.layer.map_or(*layer, |l: usize| l.min(*layer)));
        }
    }
    for (o, text) in owned {
        if let Some(p) = out.get_mut(o)
            && !p.owns.contains(&text)
        {
            p.owns.push(text);
        }
    }
    for ((eco, _, _), mut g) in gathered {
        g.evidence.sort();
        let found_in = g.paths.first().cloned().unwrap_or_default();
        out.push(Package {
            purl: purl(eco, &g.pkg.name, &g.pkg.version),
            name: g.pkg.name.clone(),
            version: g.pkg.version.clone(),
            ecosystem: eco,
            source_name: None,
            source_version: None,
            arch: None,
            layer: None,
            layer_index: g.layer,
            found_in,
            paths: g.paths,
            dev: g.locked > 0 && g.locked == g.locked_dev,
            evidence: g
                .evidence
                .iter()
                .map(|e| evidence_name(*e).to_owned())
                .collect(),
            owns: Vec::new(),
            notes: g.notes,
            licenses: g.pkg.licenses,
            author: g.pkg.author,
            depends: Vec::new(),
        });
    }
}

/// Package URLs per the purl spec's types: `pypi` names lower-cased with `_` as `-`, npm
/// scopes as the namespace (`pkg:npm/%40babel/core@7.0.0`), Go module paths and Composer's
/// `vendor/name` split into namespace and name, Maven's groupId as the namespace, Cargo, gem
/// and NuGet plain.
pub(crate) fn purl(eco: Ecosystem, name: &str, version: &str) -> Option<String> {
    // The purl type is the ecosystem's own name.
    let ty = eco.as_str();
    let (namespace, name) = match eco {
        Ecosystem::PyPI => (None, pep503(name)),
        Ecosystem::Npm => match name.strip_prefix('@').and_then(|n| n.split_once('/')) {
            Some((scope, n)) => (Some(format!("@{scope}")), n.to_owned()),
            None => (None, name.to_owned()),
        },
        Ecosystem::Cargo | Ecosystem::Gem | Ecosystem::NuGet => (None, name.to_owned()),
        Ecosystem::Go | Ecosystem::Composer => match name.rsplit_once('/') {
            Some((ns, n)) => (Some(ns.to_owned()), n.to_owned()),
            None => (None, name.to_owned()),
        },
        // Maven's purl namespace is the groupId; customs names an artifact `groupId:artifactId`,
        // as OSV does.
        Ecosystem::Maven => match name.split_once(':') {
            Some((group, artifact)) => (Some(group.to_owned()), artifact.to_owned()),
            None => (None, name.to_owned()),
        },
        Ecosystem::Deb | Ecosystem::Apk | Ecosystem::Rpm => return None,
    };
    let mut p = packageurl::PackageUrl::new(ty, name).ok()?;
    if let Some(ns) = namespace {
        p.with_namespace(ns).ok()?;
    }
    if !version.is_empty() {
        p.with_version(version.to_owned()).ok()?;
    }
    Some(p.to_string())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn purls_per_spec() {
        assert_eq!(
            purl(Ecosystem::PyPI, "Jinja2", "2.11.2").as_deref(),
            Some("pkg:pypi/jinja2@2.11.2")
        );
        assert_eq!(
            purl(Ecosystem::PyPI, "zope_interface", "5.0").as_deref(),
            Some("pkg:pypi/zope-interface@5.0")
        );
        assert_eq!(
            purl(Ecosystem::Npm, "@babel/core", "7.0.0").as_deref(),
            Some("pkg:npm/%40babel/core@7.0.0")
        );
        assert_eq!(
            purl(Ecosystem::Npm, "lodash", "4.17.15").as_deref(),
            Some("pkg:npm/lodash@4.17.15")
        );
        assert_eq!(
            purl(Ecosystem::Cargo, "smallvec", "1.6.0").as_deref(),
            Some("pkg:cargo/smallvec@1.6.0")
        );
        assert_eq!(
            purl(Ecosystem::Go, "golang.org/x/text", "v0.3.7").as_deref(),
            Some("pkg:golang/golang.org/x/text@v0.3.7")
        );
        assert_eq!(
            purl(
                Ecosystem::Maven,
                "org.apache.logging.log4j:log4j-core",
                "2.14.1"
            )
            .as_deref(),
            Some("pkg:maven/org.apache.logging.log4j/log4j-core@2.14.1")
        );
        assert_eq!(
            purl(Ecosystem::Composer, "symfony/console", "v5.4.0").as_deref(),
            Some("pkg:composer/symfony/console@v5.4.0")
        );
        assert_eq!(
            purl(Ecosystem::Gem, "rack", "2.2.3").as_deref(),
            Some("pkg:gem/rack@2.2.3")
        );
        assert_eq!(
            purl(Ecosystem::NuGet, "Newtonsoft.Json", "12.0.1").as_deref(),
            Some("pkg:nuget/Newtonsoft.Json@12.0.1")
        );
        assert_eq!(purl(Ecosystem::Deb, "x", "1"), None);
    }

    #[test]
    fn pep503_names() {
        assert_eq!(pep503("Jinja2"), "jinja2");
        assert_eq!(pep503("zope.interface"), "zope-interface");
        assert_eq!(pep503("A__B-._C"), "a-b-c");
        assert_eq!(pep503("_x_"), "-x-");
    }
}
