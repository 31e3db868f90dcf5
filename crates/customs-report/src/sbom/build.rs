//! From what a format's reader found ([`Doc`]) to the [`Inventory`] a scan of the image would
//! have given: one conversion for every format, so that a package reads the same from
//! CycloneDX, SPDX and syft JSON.
//!
//! The readers only collect: each package-like element becomes an [`Entry`] (its name, version,
//! purl and whatever the writer said about its source package, layer and files), the image and
//! its distribution become [`ImageFacts`] (`image.rs`) and [`DistroFacts`] (`distro.rs`). Here the purl decides the
//! ecosystem, name and version; the source package is filled in as the catalog fills it (see
//! [`source_of`]); entries customs cannot check are counted into one warning per kind; the
//! packages are de-duplicated and sorted as the catalog sorts them.

use std::collections::{BTreeMap, HashMap, HashSet};

use customs_catalog::{Inventory, Package, Warning};
use customs_image::{SourceInfo, SourceKind};
use customs_types::{Digest, Ecosystem};

use super::distro::{DistroFacts, distro};
use super::image::{ImageFacts, arch_fits, image_meta, ordered_layers};
use super::purl::{self, Purl};
use super::{MAX_FIELD_BYTES, SbomFormat};

/// At most this many components are named in warnings of their own; the others are counted in
/// one, so a hostile document cannot fill the report with warnings.
const MAX_NAMED: usize = 20;
/// A name or id is quoted in a warning up to this many characters.
const MAX_SHOWN: usize = 100;
/// Examples named in a warning that counts components.
const MAX_EXAMPLES: usize = 3;

/// What a reader found in a document.
pub(crate) struct Doc {
    pub(crate) format: SbomFormat,
    /// The image the SBOM says it describes, as it names it.
    pub(crate) described: Option<String>,
    pub(crate) image: ImageFacts,
    /// From an operating-system component or the writer's own distro record; `None` when the
    /// document has neither (the purls' `distro` qualifiers are the fallback).
    pub(crate) distro: Option<DistroFacts>,
    pub(crate) entries: Vec<Entry>,
    /// Problems the reader found, as sentences.
    pub(crate) problems: Vec<String>,
}

/// A source package as one writer states it.
#[derive(Default, Clone)]
pub(crate) struct SourceClaim {
    pub(crate) name: Option<String>,
    pub(crate) version: Option<String>,
}

/// trivy's source package, in four properties (`SrcName`, `SrcVersion`, `SrcRelease`,
/// `SrcEpoch`).
#[derive(Default, Clone)]
pub(crate) struct TrivySource {
    pub(crate) name: Option<String>,
    pub(crate) version: Option<String>,
    pub(crate) release: Option<String>,
    pub(crate) epoch: Option<String>,
}

impl TrivySource {
    /// `[EPOCH:]VERSION[-RELEASE]`, as dpkg and rpm spell it.
    fn full_version(&self) -> Option<String> {
        let v = self.version.as_deref()?;
        let mut out = String::new();
        if let Some(e) = self.epoch.as_deref().filter(|e| *e != "0") {
            out.push_str(e);
            out.push(':');
        }
        out.push_str(v);
        if let Some(r) = &self.release {
            out.push('-');
            out.push_str(r);
        }
        Some(out)
    }
}

/// One package-like element of a document, as its reader found it.
#[derive(Default)]
pub(crate) struct Entry {
    /// How warnings name it: its bom-ref, SPDXID or syft id.
    pub(crate) id: String,
    pub(crate) name: Option<String>,
    pub(crate) version: Option<String>,
    pub(crate) purl: Option<String>,
    /// When the purl has no `arch` qualifier.
    pub(crate) arch: Option<String>,
    /// `customs:source_name` and `customs:source_version`.
    pub(crate) customs_source: SourceClaim,
    pub(crate) trivy_source: TrivySource,
    /// A deb's `source`/`sourceVersion` in syft's metadata.
    pub(crate) deb_source: SourceClaim,
    /// An rpm's `sourceRpm` in syft's metadata (an SRPM file name).
    pub(crate) source_rpm: Option<String>,
    /// An apk's `originPackage` in syft's metadata.
    pub(crate) origin: Option<String>,
    /// diff_ids of the layers the writer found it in, as written.
    pub(crate) layers: Vec<String>,
    /// `customs:layer:diff_id`: the layer that introduced it.
    pub(crate) customs_layer: Option<String>,
    /// `customs:layer:index`.
    pub(crate) layer_index: Option<usize>,
    pub(crate) paths: Vec<String>,
    /// `customs:dev`.
    pub(crate) dev: bool,
    /// The id of an OS package whose files hold this one (syft's ownership-by-file-overlap).
    pub(crate) owner: Option<String>,
    /// Declared licences: CycloneDX `licenses`, SPDX `licenseDeclared`, syft `licenses`.
    pub(crate) licenses: Vec<String>,
    /// CycloneDX `authors`/`author`, SPDX `originator`.
    pub(crate) author: Option<String>,
}

/// The licence texts of a CycloneDX `licenses` list (`{"license": {"id"|"name"}}`,
/// `{"expression"}`) or a syft one (`{"spdxExpression", "value"}`, or plain strings). Read
/// from loose JSON: a licence the reader does not understand is skipped, not an error.
pub(crate) fn license_texts(values: &[serde_json::Value]) -> Vec<String> {
    use serde_json::Value;
    fn text(v: Option<&Value>) -> Option<&str> {
        v.and_then(Value::as_str)
            .map(str::trim)
            .filter(|s| !s.is_empty())
    }
    values
        .iter()
        .filter_map(|v| match v {
            Value::String(s) => Some(s.trim().to_owned()).filter(|s| !s.is_empty()),
            Value::Object(o) => text(o.get("expression"))
                .or_else(|| {
                    let l = o.get("license")?.as_object()?;
                    text(l.get("id")).or_else(|| text(l.get("name")))
                })
                .or_else(|| text(o.get("spdxExpression")))
                .or_else(|| text(o.get("value")))
                .map(str::to_owned),
            _ => None,
        })
        .collect()
}

/// At most this many licences are kept per package.
const MAX_LICENSES: usize = 32;

/// Warnings about one document, with a bound on how many name a component.
struct Notes<'a> {
    origin: &'a str,
    out: Vec<Warning>,
    named: usize,
    unnamed: usize,
}

impl<'a> Notes<'a> {
    fn new(origin: &'a str) -> Self {
        Self {
            origin,
            out: Vec::new(),
            named: 0,
            unnamed: 0,
        }
    }

    fn push(&mut self, problem: String) {
        self.out.push(Warning {
            file: self.origin.to_owned(),
            problem,
            layer: None,
        });
    }

    /// A component left out, for a reason of its own.
    fn skip(&mut self, id: &str, why: &str) {
        if self.named < MAX_NAMED {
            self.named += 1;
            self.push(format!("component {} left out: {why}", shown(id)));
        } else {
            self.unnamed += 1;
        }
    }

    fn finish(mut self) -> Vec<Warning> {
        if self.unnamed > 0 {
            let n = self.unnamed;
            self.push(format!(
                "{n} more components left out for reasons like those above (only the first {MAX_NAMED} are named): they were not checked for vulnerabilities"
            ));
        }
        self.out
    }
}

/// `items` without repeats, in their first order. A set rather than `Vec::contains`: a hostile
/// component may list a path a million times.
fn unique(items: impl IntoIterator<Item = String>) -> Vec<String> {
    let mut seen = HashSet::new();
    items
        .into_iter()
        .filter(|s| !s.is_empty() && seen.insert(s.clone()))
        .collect()
}

/// A string from the document, quoted with escapes (it ends up on a terminal) and cut short.
pub(crate) fn shown(s: &str) -> String {
    let mut cut: String = s.chars().take(MAX_SHOWN).collect();
    if cut.len() < s.len() {
        cut.push('…');
    }
    format!("{cut:?}")
}

/// Components counted into one warning, with a few named.
#[derive(Default)]
struct Tally {
    count: usize,
    examples: Vec<String>,
}

impl Tally {
    fn add(&mut self, example: impl FnOnce() -> String) {
        self.count += 1;
        if self.examples.len() < MAX_EXAMPLES {
            let e = example();
            if !self.examples.contains(&e) {
                self.examples.push(e);
            }
        }
    }

    /// `N THING` or `N THINGs`, and how many there are.
    fn counted(&self, one: &str, many: &str) -> String {
        let n = self.count;
        if n == 1 {
            format!("{n} {one}")
        } else {
            format!("{n} {many}")
        }
    }

    fn examples(&self) -> String {
        let mut s: Vec<String> = self.examples.iter().map(|e| shown(e)).collect();
        if self.count > self.examples.len() {
            s.push("…".to_owned());
        }
        s.join(", ")
    }
}

/// A package with what the merge of duplicates needs to know.
struct Built {
    pkg: Package,
    /// The source package was stated by the document, not taken from the package itself.
    stated_source: bool,
    id: String,
    owner: Option<String>,
    /// Copies were merged into it: its lists may repeat.
    merged: bool,
}

/// Everything that is counted rather than named.
#[derive(Default)]
struct Tallies {
    no_purl: Tally,
    by_type: BTreeMap<String, Tally>,
    source_rpms: Tally,
    foreign: BTreeMap<String, Tally>,
}

/// The inventory of a document; `bytes` are the document's, whose digest names the image
/// when the document names no manifest.
pub(crate) fn inventory(doc: Doc, bytes: &[u8], origin: &str) -> Inventory {
    let mut notes = Notes::new(origin);
    for p in doc.problems {
        notes.push(p);
    }
    let order = ordered_layers(&doc.image.layers).unwrap_or_else(|why| {
        notes.push(why);
        Vec::new()
    });
    let positions: HashMap<Digest, usize> = order
        .iter()
        .enumerate()
        .map(|(i, d)| (d.clone(), i))
        .collect();
    let image_arch = doc.image.architecture.as_deref();
    let found_in = format!("sbom:{}", doc.format.as_str());
    let mut tallies = Tallies::default();
    let mut votes: BTreeMap<String, usize> = BTreeMap::new();
    let mut built = Vec::with_capacity(doc.entries.len());
    for e in doc.entries {
        if let Some(b) = package(
            e,
            &positions,
            image_arch,
            &found_in,
            &mut tallies,
            &mut votes,
            &mut notes,
        ) {
            built.push(b);
        }
    }
    let packages = merge(adopt(built));
    let distro = distro(doc.distro, &votes, origin);
    report_tallies(&tallies, image_arch, &mut notes);
    let mut unchecked: BTreeMap<String, usize> = tallies
        .by_type
        .iter()
        .filter(|(ty, _)| ty.as_str() != "oci")
        .map(|(ty, t)| (ty.clone(), t.count))
        .collect();
    if tallies.no_purl.count > 0 {
        unchecked.insert("unknown".to_owned(), tallies.no_purl.count);
    }
    Inventory {
        schema: customs_catalog::SCHEMA_VERSION.to_owned(),
        source: SourceInfo {
            kind: SourceKind::Sbom,
            reference: format!("sbom:{origin}"),
            tag: None,
            described: doc.described,
        },
        image: image_meta(doc.image, &order, bytes),
        distro,
        packages,
        files: None,
        warnings: notes.finish(),
        unchecked,
        detections: Vec::new(),
        inspected: None,
    }
}

/// One entry as a package, or `None` when it is left out (counted or warned).
fn package(
    e: Entry,
    order: &HashMap<Digest, usize>,
    image_arch: Option<&str>,
    found_in: &str,
    tallies: &mut Tallies,
    votes: &mut BTreeMap<String, usize>,
    notes: &mut Notes<'_>,
) -> Option<Built> {
    if let Some(why) = oversized(&e) {
        notes.skip(&e.id, &why);
        return None;
    }
    let Some(raw) = e.purl.as_deref().map(str::trim).filter(|p| !p.is_empty()) else {
        tallies
            .no_purl
            .add(|| e.name.clone().unwrap_or_else(|| e.id.clone()));
        return None;
    };
    let p = match Purl::parse(raw) {
        Ok(p) => p,
        Err(why) => {
            notes.skip(
                &e.id,
                &format!("its package URL {} does not parse ({why})", shown(raw)),
            );
            return None;
        }
    };
    let Some(eco) = p.ecosystem() else {
        let example = || match (&e.name, &e.version) {
            (Some(n), Some(v)) => format!("{n}@{v}"),
            (Some(n), None) => n.clone(),
            _ => raw.to_owned(),
        };
        tallies
            .by_type
            .entry(p.ty().to_owned())
            .or_default()
            .add(example);
        return None;
    };
    let name = p.name(eco, e.name.as_deref());
    let Some(mut version) = p
        .version(eco)
        .or_else(|| e.version.clone().filter(|v| !v.trim().is_empty()))
    else {
        notes.skip(
            &e.id,
            &format!("{eco} package {} has no version", shown(&name)),
        );
        return None;
    };
    if eco == Ecosystem::Go && name == "stdlib" {
        version = go_toolchain_version(&version);
    }
    let arch = if eco.is_os() {
        p.qualifier("arch")
            .map(str::to_owned)
            .or_else(|| e.arch.clone().filter(|a| !a.trim().is_empty()))
    } else {
        None
    };
    if eco == Ecosystem::Rpm && matches!(arch.as_deref(), Some("src" | "nosrc")) {
        tallies.source_rpms.add(|| format!("{name}@{version}"));
        return None;
    }
    if let (Some(img), Some(a)) = (image_arch, arch.as_deref())
        && eco.is_os()
        && !arch_fits(img, a)
    {
        tallies
            .foreign
            .entry(a.to_owned())
            .or_default()
            .add(|| format!("{name}@{version}"));
        return None;
    }
    if eco.is_os()
        && let Some(d) = p.qualifier("distro")
    {
        *votes.entry(d.to_owned()).or_default() += 1;
    }
    let (source, stated_source) = if eco.is_os() {
        let (n, v, stated) = source_of(eco, &e, &p, &name, &version);
        (Some((n, v)), stated)
    } else {
        (None, false)
    };
    let layers: Vec<Digest> = e
        .customs_layer
        .iter()
        .chain(&e.layers)
        .filter_map(|l| l.trim().parse().ok())
        .collect();
    // customs' own layer is the one that introduced the package; else a package seen in
    // several layers (its files, its database rewritten later) was brought by the lowest, as
    // the catalog says.
    let lowest = layers
        .iter()
        .filter_map(|d| order.get(d).map(|i| (*i, d)))
        .min_by_key(|(i, _)| *i);
    let (layer, layer_index) = match (&e.customs_layer, lowest) {
        (None, Some((i, d))) => (Some(d.clone()), Some(e.layer_index.unwrap_or(i))),
        _ => (layers.first().cloned(), e.layer_index),
    };
    let paths = unique(e.paths);
    let (source_name, source_version) = source.unzip();
    Some(Built {
        pkg: Package {
            name,
            version,
            ecosystem: eco,
            purl: Some(raw.to_owned()),
            source_name,
            source_version,
            arch,
            layer,
            layer_index,
            found_in: found_in.to_owned(),
            paths,
            dev: e.dev,
            evidence: if eco.is_os() {
                Vec::new()
            } else {
                vec!["sbom".to_owned()]
            },
            owns: Vec::new(),
            notes: Vec::new(),
            licenses: unique(
                e.licenses
                    .into_iter()
                    .filter(|l| l.len() <= MAX_FIELD_BYTES),
            )
            .into_iter()
            .take(MAX_LICENSES)
            .collect(),
            author: e
                .author
                .filter(|a| !a.is_empty() && a.len() <= MAX_FIELD_BYTES),
            depends: Vec::new(),
        },
        stated_source,
        id: e.id,
        owner: e.owner,
        merged: false,
    })
}

/// The first string of an entry that is longer than [`MAX_FIELD_BYTES`], as a reason.
fn oversized(e: &Entry) -> Option<String> {
    let fields = [
        ("name", e.name.as_deref()),
        ("version", e.version.as_deref()),
        ("package URL", e.purl.as_deref()),
        ("arch", e.arch.as_deref()),
        ("source name", e.customs_source.name.as_deref()),
        ("source version", e.customs_source.version.as_deref()),
        ("source name", e.trivy_source.name.as_deref()),
        ("source version", e.trivy_source.version.as_deref()),
        ("source release", e.trivy_source.release.as_deref()),
        ("source epoch", e.trivy_source.epoch.as_deref()),
        ("source name", e.deb_source.name.as_deref()),
        ("source version", e.deb_source.version.as_deref()),
        ("source rpm", e.source_rpm.as_deref()),
        ("origin", e.origin.as_deref()),
    ];
    let long = |s: &str| s.len() > MAX_FIELD_BYTES;
    if let Some((what, s)) = fields
        .iter()
        .find_map(|(w, s)| s.filter(|s| long(s)).map(|s| (w, s)))
    {
        return Some(format!(
            "its {what} is {} bytes, more than the {MAX_FIELD_BYTES} customs reads",
            s.len()
        ));
    }
    if let Some(s) = e
        .paths
        .iter()
        .chain(&e.layers)
        .chain(&e.customs_layer)
        .find(|s| long(s))
    {
        return Some(format!(
            "one of its paths or layers is {} bytes, more than the {MAX_FIELD_BYTES} customs reads",
            s.len()
        ));
    }
    None
}

/// The Go toolchain's version as the catalog records it from a binary (`go1.22.1`): syft
/// writes the stdlib's version `go1.22.1` but its purl `1.22.1`, trivy `v1.22.1`.
fn go_toolchain_version(v: &str) -> String {
    let bare = v.strip_prefix('v').unwrap_or(v);
    if bare.starts_with(|c: char| c.is_ascii_digit()) {
        format!("go{bare}")
    } else {
        v.to_owned()
    }
}

/// The source package of an OS package, as the catalog would have recorded it, and whether
/// the document stated it (rather than it being the package's own name and version).
///
/// What the document states wins, in this order: customs' own properties, trivy's `Src*`
/// properties, syft's metadata (a deb's `source`/`sourceVersion`, an rpm's `sourceRpm`, an
/// apk's `originPackage`), the purl's `upstream` qualifier. Then, as the catalog does:
/// - deb: a source named without a version has the package's own version, which is what
///   dpkg-query's `${source:Version}` gives for a `Source:` field without one. syft's
///   `upstream=NAME@VERSION` carries the `Source:` field's version as written, which has no
///   epoch when the source package has none (bsdutils `1:2.38.1-5+deb12u3` is built from
///   util-linux `2.38.1-5+deb12u3`): the same as the catalog's.
/// - rpm: the SRPM file name split into name and `VERSION-RELEASE`, with the package's own
///   epoch in front (an SRPM's file name carries none; the catalog does the same).
/// - apk: the origin, at the package's own version.
/// - nothing stated: the package's own name and version.
fn source_of(
    eco: Ecosystem,
    e: &Entry,
    p: &Purl,
    name: &str,
    version: &str,
) -> (String, String, bool) {
    let nonempty = |s: &Option<String>| s.clone().filter(|s| !s.trim().is_empty());
    if let Some(n) = nonempty(&e.customs_source.name) {
        let v = nonempty(&e.customs_source.version).unwrap_or_else(|| version.to_owned());
        return (n, v, true);
    }
    if let Some(n) = nonempty(&e.trivy_source.name) {
        let v = e
            .trivy_source
            .full_version()
            .unwrap_or_else(|| version.to_owned());
        return (n, v, true);
    }
    let epoch = || {
        version
            .split_once(':')
            .map(|(ep, _)| ep)
            .filter(|ep| !ep.is_empty() && ep.bytes().all(|b| b.is_ascii_digit()))
    };
    let upstream = p.qualifier("upstream");
    match eco {
        Ecosystem::Deb => {
            if let Some(n) = nonempty(&e.deb_source.name) {
                let v = nonempty(&e.deb_source.version).unwrap_or_else(|| version.to_owned());
                return (n, v, true);
            }
            if let Some(u) = upstream {
                let (n, v) = purl::split_upstream(u);
                if !n.is_empty() {
                    return (n.to_owned(), v.unwrap_or(version).to_owned(), true);
                }
            }
        }
        Ecosystem::Rpm => {
            let srpm = e.source_rpm.as_deref().or(upstream);
            if let Some(s) = srpm {
                if let Some((n, v)) = customs_catalog::split_srpm(s.trim()) {
                    let v = match epoch() {
                        Some(ep) => format!("{ep}:{v}"),
                        None => v,
                    };
                    return (n, v, true);
                }
                // Not a file name: a source named as such (`upstream=openssl`).
                if !s.contains(char::is_whitespace) && !s.is_empty() {
                    return (s.to_owned(), version.to_owned(), true);
                }
            }
        }
        Ecosystem::Apk => {
            if let Some(o) = nonempty(&e.origin).or_else(|| upstream.map(str::to_owned)) {
                return (o, version.to_owned(), true);
            }
        }
        Ecosystem::PyPI
        | Ecosystem::Npm
        | Ecosystem::Cargo
        | Ecosystem::Go
        | Ecosystem::Maven
        | Ecosystem::Gem
        | Ecosystem::Composer
        | Ecosystem::NuGet => {}
    }
    (name.to_owned(), version.to_owned(), false)
}

/// Language packages the document says live in an OS package's files, moved into that
/// package's `owns` as the catalog records them (`ECOSYSTEM:NAME@VERSION PATH`), rather than
/// listed (and matched) a second time.
fn adopt(mut built: Vec<Built>) -> Vec<Built> {
    let by_id: HashMap<String, usize> = built
        .iter()
        .enumerate()
        .filter(|(_, b)| b.pkg.ecosystem.is_os())
        .map(|(i, b)| (b.id.clone(), i))
        .collect();
    let mut owned: Vec<(usize, String)> = Vec::new();
    let mut keep = vec![true; built.len()];
    for (i, b) in built.iter().enumerate() {
        let Some(o) = b.owner.as_ref().and_then(|o| by_id.get(o)) else {
            continue;
        };
        if b.pkg.ecosystem.is_os() {
            continue;
        }
        let p = &b.pkg;
        let text = match p.paths.first() {
            Some(path) => format!("{}:{}@{} {path}", p.ecosystem, p.name, p.version),
            None => format!("{}:{}@{}", p.ecosystem, p.name, p.version),
        };
        owned.push((*o, text));
        keep[i] = false;
    }
    for (o, text) in owned {
        built[o].pkg.owns.push(text);
    }
    for b in &mut built {
        if !b.pkg.owns.is_empty() {
            b.pkg.owns = unique(std::mem::take(&mut b.pkg.owns));
        }
    }
    let mut keep = keep.into_iter();
    built.retain(|_| keep.next().unwrap_or(true));
    built
}

/// One package per (ecosystem, name, version, arch), sorted as the catalog sorts. Writers list
/// a package twice (Konflux SBOMs: once as syft found it installed, once as the build
/// prefetched it); the copies are merged, the stated source package preferred.
fn merge(built: Vec<Built>) -> Vec<Package> {
    let mut index: HashMap<(Ecosystem, String, String, Option<String>), usize> = HashMap::new();
    let mut out: Vec<Built> = Vec::with_capacity(built.len());
    for b in built {
        let p = &b.pkg;
        let key = (
            p.ecosystem,
            p.ecosystem.match_name(&p.name),
            p.version.clone(),
            p.arch.clone(),
        );
        match index.get(&key) {
            Some(&i) => {
                let first = &mut out[i];
                if !first.stated_source && b.stated_source {
                    first.pkg.source_name = b.pkg.source_name;
                    first.pkg.source_version = b.pkg.source_version;
                    first.stated_source = true;
                }
                first.pkg.paths.extend(b.pkg.paths);
                first.pkg.owns.extend(b.pkg.owns);
                first.merged = true;
                if first.pkg.layer.is_none() {
                    first.pkg.layer = b.pkg.layer;
                }
                first.pkg.layer_index = match (first.pkg.layer_index, b.pkg.layer_index) {
                    (Some(a), Some(b)) => Some(a.min(b)),
                    (a, b) => a.or(b),
                };
                first.pkg.dev &= b.pkg.dev;
            }
            None => {
                index.insert(key, out.len());
                out.push(b);
            }
        }
    }
    let mut packages: Vec<Package> = out
        .into_iter()
        .map(|mut b| {
            if b.merged {
                b.pkg.paths = unique(std::mem::take(&mut b.pkg.paths));
                b.pkg.owns = unique(std::mem::take(&mut b.pkg.owns));
            }
            b.pkg
        })
        .collect();
    packages.sort_by(|a, b| {
        (a.ecosystem, &a.name, &a.arch, &a.version).cmp(&(
            b.ecosystem,
            &b.name,
            &b.arch,
            &b.version,
        ))
    });
    packages
}

fn report_tallies(t: &Tallies, image_arch: Option<&str>, notes: &mut Notes<'_>) {
    if t.no_purl.count > 0 {
        notes.push(format!(
            "{} without a package URL left out ({}): customs cannot tell their ecosystem, so they were not checked for vulnerabilities",
            t.no_purl.counted("component", "components"),
            t.no_purl.examples()
        ));
    }
    for (ty, tally) in &t.by_type {
        if ty == "oci" {
            notes.push(format!(
                "{} named in the SBOM left out ({}): an image is not a package; scan each on its own to check it",
                tally.counted("other container image", "other container images"),
                tally.examples()
            ));
        } else {
            notes.push(format!(
                "{} of package URL type {} left out ({}): customs has no ecosystem for them, so they were not checked for vulnerabilities",
                tally.counted("component", "components"),
                shown(ty),
                tally.examples()
            ));
        }
    }
    if t.source_rpms.count > 0 {
        notes.push(format!(
            "{} (arch=src) left out ({}): they are what packages are built from, not installed packages",
            t.source_rpms.counted("source rpm", "source rpms"),
            t.source_rpms.examples()
        ));
    }
    for (arch, tally) in &t.foreign {
        notes.push(format!(
            "{} for {} left out ({}): the SBOM says the image is {}, which does not install them (a multi-platform build's SBOM lists every platform's packages)",
            tally.counted("package", "packages"),
            shown(arch),
            tally.examples(),
            shown(image_arch.unwrap_or_default())
        ));
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn trivy_source_versions() {
        let t = TrivySource {
            name: Some("util-linux".into()),
            version: Some("2.33.1".into()),
            release: Some("0.1".into()),
            epoch: None,
        };
        assert_eq!(t.full_version().as_deref(), Some("2.33.1-0.1"));
        let t = TrivySource {
            epoch: Some("1".into()),
            release: None,
            ..t
        };
        assert_eq!(t.full_version().as_deref(), Some("1:2.33.1"));
    }

    #[test]
    fn go_toolchain() {
        assert_eq!(go_toolchain_version("1.22.1"), "go1.22.1");
        assert_eq!(go_toolchain_version("v1.22.1"), "go1.22.1");
        assert_eq!(go_toolchain_version("go1.22.1"), "go1.22.1");
    }
}
