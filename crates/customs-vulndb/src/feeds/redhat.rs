//! Red Hat's CSAF VEX documents (`https://security.access.redhat.com/data/csaf/v2/vex/`), one
//! file per CVE, in the CSAF 2.0 `csaf_vex` profile.
//!
//! A product id in `vulnerabilities[].product_status` is a *relationship*: in
//! `AppStream-9.3.0.Z.MAIN:curl-0:7.76.1-26.el9_3.2.x86_64` the part before the first colon is a
//! platform (a `product_name` branch whose CPE says which product and release it is) and the rest a
//! component (a `product_version` branch with a purl). `product_tree.relationships` links the two;
//! parsing the id itself would break on module components, which contain colons of their own
//! (`nodejs:18:8080020231016120048:ad008a3a:nodejs-1:18.18.2-…`).
//!
//! - Only RHEL platforms are kept: CPE product `enterprise_linux` (`cpe:/o:redhat:enterprise_linux:9`,
//!   `cpe:/a:redhat:enterprise_linux:9::appstream`) and the extended-support streams `rhel_eus`,
//!   `rhel_aus`, `rhel_e4s`, `rhel_tus`, `rhel_els`, all named `rhel:<major>`. Middleware,
//!   OpenShift, Satellite, … are skipped, as are components that are not RPMs (containers).
//! - Components are named by the purl (`pkg:rpm/redhat/curl@7.76.1-26.el9_3.2?arch=x86_64&epoch=1`),
//!   or by the NEVRA in the branch name when there is none. The package is the RPM name (binary,
//!   or source for `.src`); the fixed version is the EVR, epoch only when not 0, without the arch.
//! - `fixed` → fixed in that EVR; `known_affected` → unfixed, or won't fix when a
//!   `no_fix_planned` remediation names the product; `known_not_affected` → not affected (the
//!   CSAF flag, e.g. `vulnerable_code_not_present`, as the reason); `under_investigation`.
//! - `threats` of category `impact` give Red Hat's severity per product (Low, Moderate,
//!   Important, Critical), `document.aggregate_severity` the advisory's; `scores` the CVSS.
//! - A withdrawn CVE is published as a document with `tracking.status: "deleted"` and nothing
//!   else; it becomes a withdrawn advisory with no package.
//!
//! The model has one namespace per major release, but Red Hat fixes a CVE once per stream:
//! `AppStream-9.3.0.Z.MAIN` (the current minor release), `AppStream-9.2.0.Z.MAIN.EUS`,
//! `AppStream-9.0.0.Z.EUS`, each with its own EVR. One statement per `rhel:<major>` and package
//! is kept: main streams before extended-support-only ones (an EUS-only fix must not hide that
//! the main stream is still affected), then the most telling state (fixed, unfixed, won't fix,
//! under investigation, not affected), then the newest minor release. The other streams'
//! fixes are listed in the note, with the RHSA that shipped the chosen one.

use std::collections::{BTreeMap, HashMap, HashSet};

use serde::Deserialize;

use super::FeedError;
use crate::model::{Advisory, Affected, Cvss, Feed, Namespace, Severity, Status};

#[derive(Deserialize)]
struct Document {
    document: Meta,
    #[serde(default)]
    product_tree: ProductTree,
    #[serde(default)]
    vulnerabilities: Vec<Vulnerability>,
}

#[derive(Deserialize)]
struct Meta {
    #[serde(default)]
    title: Option<String>,
    #[serde(default)]
    aggregate_severity: Option<Text>,
    #[serde(default)]
    tracking: Tracking,
}

#[derive(Deserialize)]
struct Text {
    text: String,
}

#[derive(Deserialize, Default)]
struct Tracking {
    #[serde(default)]
    id: Option<String>,
    #[serde(default)]
    status: Option<String>,
    #[serde(default)]
    initial_release_date: Option<String>,
    #[serde(default)]
    current_release_date: Option<String>,
}

#[derive(Deserialize, Default)]
struct ProductTree {
    #[serde(default)]
    branches: Vec<Branch>,
    #[serde(default)]
    relationships: Vec<Relationship>,
}

#[derive(Deserialize)]
struct Branch {
    #[serde(default)]
    category: String,
    #[serde(default)]
    product: Option<Product>,
    #[serde(default)]
    branches: Vec<Branch>,
}

#[derive(Deserialize)]
struct Product {
    product_id: String,
    #[serde(default)]
    name: String,
    #[serde(default)]
    product_identification_helper: Option<Helper>,
}

#[derive(Deserialize)]
struct Helper {
    #[serde(default)]
    cpe: Option<String>,
    #[serde(default)]
    purl: Option<String>,
}

#[derive(Deserialize)]
struct Relationship {
    full_product_name: FullName,
    product_reference: String,
    relates_to_product_reference: String,
}

#[derive(Deserialize)]
struct FullName {
    product_id: String,
}

#[derive(Deserialize)]
struct Vulnerability {
    #[serde(default)]
    cve: Option<String>,
    #[serde(default)]
    title: Option<String>,
    #[serde(default)]
    release_date: Option<String>,
    #[serde(default)]
    product_status: ProductStatus,
    #[serde(default)]
    remediations: Vec<Remediation>,
    #[serde(default)]
    threats: Vec<Threat>,
    #[serde(default)]
    scores: Vec<Score>,
    #[serde(default)]
    flags: Vec<Flag>,
}

#[derive(Deserialize, Default)]
struct ProductStatus {
    #[serde(default)]
    fixed: Vec<String>,
    #[serde(default)]
    known_affected: Vec<String>,
    #[serde(default)]
    known_not_affected: Vec<String>,
    #[serde(default)]
    under_investigation: Vec<String>,
}

#[derive(Deserialize)]
struct Remediation {
    category: String,
    #[serde(default)]
    details: Option<String>,
    #[serde(default)]
    product_ids: Vec<String>,
    #[serde(default)]
    url: Option<String>,
    #[serde(default)]
    date: Option<String>,
}

#[derive(Deserialize)]
struct Threat {
    category: String,
    #[serde(default)]
    details: Option<String>,
    #[serde(default)]
    product_ids: Vec<String>,
}

#[derive(Deserialize)]
struct Score {
    #[serde(default)]
    cvss_v3: Option<RawCvss>,
    #[serde(default)]
    cvss_v2: Option<RawCvss>,
}

#[derive(Deserialize)]
#[serde(rename_all = "camelCase")]
struct RawCvss {
    vector_string: String,
    #[serde(default)]
    base_score: Option<f64>,
    #[serde(default)]
    version: Option<String>,
}

#[derive(Deserialize)]
struct Flag {
    label: String,
    #[serde(default)]
    product_ids: Vec<String>,
}

/// A RHEL platform: the namespace, and how it ranks against the other streams of the release.
struct Platform {
    namespace: Namespace,
    /// Main stream (true) or extended-support only.
    main: bool,
    minor: u32,
}

/// An RPM component.
struct Component {
    name: String,
    evr: Option<String>,
    module: Option<String>,
}

/// Parses one CSAF VEX document.
pub(crate) fn parse_csaf_vex(origin: &str, text: &str) -> Result<Vec<Advisory>, FeedError> {
    let doc: Document =
        serde_json::from_str(text).map_err(|e| FeedError::new(origin, e.to_string()))?;
    let tracking = &doc.document.tracking;
    if tracking.status.as_deref() == Some("deleted") {
        let id = tracking
            .id
            .clone()
            .ok_or_else(|| FeedError::new(origin, "deleted document without tracking.id"))?;
        return Ok(vec![Advisory {
            record: format!("{origin}:{id}"),
            id,
            aliases: Vec::new(),
            feed: Feed::RedhatCsaf,
            published: None,
            modified: tracking.current_release_date.clone(),
            summary: None,
            severity: None,
            cvss: Vec::new(),
            affected: Vec::new(),
            withdrawn: true,
        }]);
    }

    let mut platforms: HashMap<&str, Platform> = HashMap::new();
    let mut components: HashMap<&str, Component> = HashMap::new();
    let mut stack: Vec<&Branch> = doc.product_tree.branches.iter().collect();
    while let Some(branch) = stack.pop() {
        stack.extend(&branch.branches);
        let Some(product) = &branch.product else {
            continue;
        };
        let helper = product.product_identification_helper.as_ref();
        match branch.category.as_str() {
            "product_name" => {
                if let Some(platform) = helper
                    .and_then(|h| h.cpe.as_deref())
                    .and_then(|cpe| rhel_platform(cpe, &product.product_id))
                {
                    platforms.insert(&product.product_id, platform);
                }
            }
            "product_version" => {
                let component = match helper.and_then(|h| h.purl.as_deref()) {
                    Some(purl) => rpm_purl(purl),
                    None => Some(nevra(&product.name)),
                };
                if let Some(component) = component {
                    components.insert(&product.product_id, component);
                }
            }
            _ => {}
        }
    }
    let relationships: HashMap<&str, (&str, &str)> = doc
        .product_tree
        .relationships
        .iter()
        .map(|r| {
            (
                r.full_product_name.product_id.as_str(),
                (
                    r.relates_to_product_reference.as_str(),
                    r.product_reference.as_str(),
                ),
            )
        })
        .collect();
    let resolve = |id: &str| -> Option<(&str, &Platform, &Component)> {
        let (platform_id, component_id) = relationships.get(id)?;
        Some((
            platform_id,
            platforms.get(platform_id)?,
            components.get(component_id)?,
        ))
    };

    let mut out = Vec::new();
    for (index, vulnerability) in doc.vulnerabilities.iter().enumerate() {
        let id = vulnerability
            .cve
            .clone()
            .or_else(|| tracking.id.clone())
            .ok_or_else(|| {
                FeedError::new(origin, format!("vulnerabilities[{index}] has no cve"))
            })?;
        out.push(Advisory {
            record: format!("{origin}:{id}"),
            aliases: Vec::new(),
            feed: Feed::RedhatCsaf,
            published: vulnerability
                .release_date
                .clone()
                .or_else(|| tracking.initial_release_date.clone()),
            modified: tracking.current_release_date.clone(),
            summary: vulnerability
                .title
                .clone()
                .or_else(|| doc.document.title.clone()),
            severity: doc
                .document
                .aggregate_severity
                .as_ref()
                .and_then(|s| severity(&s.text)),
            cvss: scores(&vulnerability.scores),
            affected: affected(vulnerability, &resolve),
            withdrawn: false,
            id,
        });
    }
    Ok(out)
}

/// `cpe:/o:redhat:enterprise_linux:9::baseos` → `rhel:9`; other products → `None`.
fn rhel_platform(cpe: &str, product_id: &str) -> Option<Platform> {
    let fields: Vec<&str> = if let Some(rest) = cpe.strip_prefix("cpe:2.3:") {
        rest.split(':').collect()
    } else {
        cpe.strip_prefix("cpe:/")?.split(':').collect()
    };
    let [_part, "redhat", product, version, ..] = fields.as_slice() else {
        return None;
    };
    let extended = match *product {
        "enterprise_linux" => false,
        "rhel_eus" | "rhel_aus" | "rhel_e4s" | "rhel_tus" | "rhel_els" => true,
        _ => return None,
    };
    let major = version.split('.').next()?;
    if major.is_empty() || major.len() > 3 || !major.bytes().all(|b| b.is_ascii_digit()) {
        return None;
    }
    // "AppStream-9.2.0.Z.MAIN.EUS": the stream's minor release, and whether it is (or was) the
    // main stream. "red_hat_enterprise_linux_9" names the release as a whole.
    let stream = product_id.split_once('-').map_or("", |(_, s)| s);
    let minor = stream
        .split('.')
        .nth(1)
        .and_then(|m| m.parse().ok())
        .unwrap_or(0);
    let upper = product_id.to_ascii_uppercase();
    let extended_id = [".EUS", ".AUS", ".E4S", ".TUS"]
        .iter()
        .any(|s| upper.contains(s))
        && !upper.contains(".MAIN");
    Some(Platform {
        namespace: Namespace::distro("rhel", major).ok()?,
        main: !extended && !extended_id,
        minor,
    })
}

/// `pkg:rpm/redhat/curl@7.76.1-26.el9_3.2?arch=x86_64&epoch=1&rpmmod=…`; `None` for a purl of
/// another type (an OCI image).
fn rpm_purl(purl: &str) -> Option<Component> {
    let rest = purl.strip_prefix("pkg:rpm/")?;
    let (path, qualifiers) = rest.split_once('?').unwrap_or((rest, ""));
    let path = path.split('#').next().unwrap_or_default();
    let (path, version) = match path.split_once('@') {
        Some((path, version)) => (path, Some(decode(version))),
        None => (path, None),
    };
    let name = decode(path.rsplit('/').next()?);
    if name.is_empty() {
        return None;
    }
    let mut epoch = None;
    let mut module = None;
    for pair in qualifiers.split('&') {
        match pair.split_once('=') {
            Some(("epoch", value)) => epoch = Some(decode(value)),
            Some(("rpmmod", value)) => module = Some(decode(value)),
            _ => {}
        }
    }
    // A module stream as the version (`go-toolset@rhel8`) is not an EVR.
    let evr = version
        .filter(|v| v.contains('-'))
        .map(|v| match epoch.as_deref() {
            Some(e) if !e.is_empty() && e != "0" => format!("{e}:{v}"),
            _ => v,
        });
    Some(Component { name, evr, module })
}

/// Percent-decoding of purl parts; malformed escapes are kept as written.
fn decode(text: &str) -> String {
    let bytes = text.as_bytes();
    let mut out = Vec::with_capacity(bytes.len());
    let mut i = 0;
    while i < bytes.len() {
        let hex = |b: u8| char::from(b).to_digit(16);
        if bytes[i] == b'%'
            && let (Some(hi), Some(lo)) = (
                bytes.get(i + 1).copied().and_then(hex),
                bytes.get(i + 2).copied().and_then(hex),
            )
        {
            out.push(u8::try_from(hi * 16 + lo).unwrap_or(b'?'));
            i += 3;
        } else {
            out.push(bytes[i]);
            i += 1;
        }
    }
    String::from_utf8_lossy(&out).into_owned()
}

const ARCHES: &[&str] = &[
    ".src", ".noarch", ".x86_64", ".i686", ".i386", ".aarch64", ".ppc64le", ".ppc64", ".ppc",
    ".s390x", ".s390",
];

/// `curl-0:7.76.1-26.el9_3.2.x86_64`, `samba.src`, or a plain name.
fn nevra(text: &str) -> Component {
    let bare = ARCHES
        .iter()
        .find_map(|arch| text.strip_suffix(arch))
        .unwrap_or(text);
    let plain = || Component {
        name: bare.to_owned(),
        evr: None,
        module: None,
    };
    // name-epoch:version-release, where the name may carry a module prefix "module:stream:…:".
    let Some((before_release, release)) = bare.rsplit_once('-') else {
        return plain();
    };
    let Some((name, epoch_version)) = before_release.rsplit_once('-') else {
        return plain();
    };
    let Some((epoch, version)) = epoch_version.split_once(':') else {
        return plain();
    };
    if epoch.is_empty() || !epoch.bytes().all(|b| b.is_ascii_digit()) || version.is_empty() {
        return plain();
    }
    let (module, name) = match name.rsplit_once(':') {
        Some((module, name)) => (Some(module.to_owned()), name),
        None => (None, name),
    };
    let evr = if epoch == "0" {
        format!("{version}-{release}")
    } else {
        format!("{epoch}:{version}-{release}")
    };
    Component {
        name: name.to_owned(),
        evr: Some(evr),
        module,
    }
}

fn severity(text: &str) -> Option<Severity> {
    match text.to_ascii_lowercase().as_str() {
        "low" => Some(Severity::Low),
        "moderate" => Some(Severity::Medium),
        "important" => Some(Severity::High),
        "critical" => Some(Severity::Critical),
        _ => None,
    }
}

fn scores(scores: &[Score]) -> Vec<Cvss> {
    let mut out: Vec<Cvss> = Vec::new();
    let mut seen = HashSet::new();
    for score in scores {
        for (raw, default_version) in [(&score.cvss_v3, "3.0"), (&score.cvss_v2, "2.0")] {
            let Some(raw) = raw else { continue };
            let version = raw.version.clone().unwrap_or_else(|| {
                raw.vector_string
                    .strip_prefix("CVSS:")
                    .and_then(|v| v.split('/').next())
                    .unwrap_or(default_version)
                    .to_owned()
            });
            let cvss = Cvss {
                version,
                vector: raw.vector_string.clone(),
                score: raw.base_score,
                source: Some("secalert@redhat.com".to_owned()),
            };
            if seen.insert((cvss.vector.clone(), cvss.score.map(f64::to_bits))) {
                out.push(cvss);
            }
        }
    }
    out
}

/// One product's statement, before the streams of a release are folded into one.
struct Candidate<'a> {
    platform_id: &'a str,
    main: bool,
    minor: u32,
    rank: u8,
    status: Status,
    product_id: &'a str,
    module: Option<&'a str>,
}

/// The four lists of `product_status`.
#[derive(Clone, Copy)]
enum Listed {
    Fixed,
    KnownAffected,
    UnderInvestigation,
    KnownNotAffected,
}

/// How telling a statement is, when streams of one release disagree.
fn rank(status: &Status) -> u8 {
    match status {
        Status::Fixed { .. } => 5,
        Status::Unfixed => 4,
        Status::WontFix { .. } => 3,
        Status::UnderInvestigation => 2,
        Status::NotAffected { .. } | Status::Ranges { .. } => 1,
    }
}

fn affected<'a>(
    v: &'a Vulnerability,
    resolve: &impl Fn(&str) -> Option<(&'a str, &'a Platform, &'a Component)>,
) -> Vec<Affected> {
    // Indexed once: real documents list thousands of products in each of these.
    let mut remediations: HashMap<(&str, &str), &Remediation> = HashMap::new();
    for r in &v.remediations {
        for id in &r.product_ids {
            remediations
                .entry((r.category.as_str(), id.as_str()))
                .or_insert(r);
        }
    }
    let in_remediation = |category: &str, id: &str| remediations.get(&(category, id)).copied();
    let mut flags: HashMap<&str, &str> = HashMap::new();
    for f in &v.flags {
        for id in &f.product_ids {
            flags.entry(id.as_str()).or_insert(f.label.as_str());
        }
    }
    let flag = |id: &str| flags.get(id).map(|label| (*label).to_owned());
    let mut threats: HashMap<&str, Severity> = HashMap::new();
    for t in v.threats.iter().filter(|t| t.category == "impact") {
        if let Some(level) = t.details.as_deref().and_then(severity) {
            for id in &t.product_ids {
                threats.entry(id.as_str()).or_insert(level);
            }
        }
    }
    let status_lists = [
        (&v.product_status.fixed, Listed::Fixed),
        (&v.product_status.known_affected, Listed::KnownAffected),
        (
            &v.product_status.under_investigation,
            Listed::UnderInvestigation,
        ),
        (
            &v.product_status.known_not_affected,
            Listed::KnownNotAffected,
        ),
    ];
    let mut by_package: BTreeMap<(&Namespace, &str), Vec<Candidate<'a>>> = BTreeMap::new();
    for (ids, listed) in status_lists {
        for id in ids {
            let Some((platform_id, platform, component)) = resolve(id) else {
                continue;
            };
            let status = match listed {
                Listed::Fixed => match &component.evr {
                    // The erratum's release dates the fix; a remediation without a date
                    // leaves it to the CVE's public date.
                    Some(evr) => Status::Fixed {
                        fixed: evr.clone(),
                        date: in_remediation("vendor_fix", id)
                            .and_then(|r| r.date.clone())
                            .filter(|d| !d.is_empty()),
                    },
                    // A fix with no version cannot be compared against anything.
                    None => continue,
                },
                Listed::KnownAffected => match in_remediation("no_fix_planned", id) {
                    Some(r) => Status::WontFix {
                        reason: match r.details.as_deref() {
                            Some(d) => format!("no_fix_planned: {d}"),
                            None => "no_fix_planned".to_owned(),
                        },
                    },
                    None => Status::Unfixed,
                },
                Listed::UnderInvestigation => Status::UnderInvestigation,
                Listed::KnownNotAffected => Status::NotAffected { reason: flag(id) },
            };
            by_package
                .entry((&platform.namespace, component.name.as_str()))
                .or_default()
                .push(Candidate {
                    platform_id,
                    main: platform.main,
                    minor: platform.minor,
                    rank: rank(&status),
                    status,
                    product_id: id,
                    module: component.module.as_deref(),
                });
        }
    }

    by_package
        .into_iter()
        .filter_map(|((namespace, package), candidates)| {
            let best = candidates
                .iter()
                .max_by_key(|c| (c.main, c.rank, c.minor))?;
            let mut notes: Vec<String> = Vec::new();
            if let Some(module) = best.module {
                notes.push(format!("module {module}"));
            }
            if matches!(best.status, Status::Fixed { .. }) {
                let erratum = in_remediation("vendor_fix", best.product_id)
                    .and_then(|r| r.url.as_deref())
                    .and_then(|u| u.rsplit('/').next());
                notes.push(match erratum {
                    Some(e) => format!("{e} in {}", best.platform_id),
                    None => format!("fixed in {}", best.platform_id),
                });
            } else if let Some(r) = in_remediation("none_available", best.product_id) {
                notes.extend(r.details.clone());
            }
            let mut others: Vec<String> = Vec::new();
            let mut seen = HashSet::new();
            for c in &candidates {
                if let Status::Fixed { fixed, .. } = &c.status
                    && c.status != best.status
                {
                    let other = format!("{} {fixed}", c.platform_id);
                    if seen.insert(other.clone()) {
                        others.push(other);
                    }
                }
            }
            if !others.is_empty() {
                notes.push(format!("also fixed in {}", others.join(", ")));
            }
            Some(Affected {
                namespace: namespace.clone(),
                package: package.to_owned(),
                status: best.status.clone(),
                severity: threats.get(best.product_id).copied(),
                note: (!notes.is_empty()).then(|| notes.join("; ")),
            })
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    const DATA: &str = concat!(
        env!("CARGO_MANIFEST_DIR"),
        "/../../../shared/data/advisories/redhat-csaf-vex"
    );

    fn parse(name: &str) -> Vec<Advisory> {
        let path = format!("{DATA}/{name}");
        let text = std::fs::read_to_string(&path)
            .unwrap_or_else(|e| panic!("real test data missing: {path}: {e} (see shared/data)"));
        parse_csaf_vex(name, &text).unwrap_or_else(|e| panic!("{e}"))
    }

    fn one(name: &str) -> Advisory {
        let mut list = parse(name);
        assert_eq!(list.len(), 1, "{name}");
        list.remove(0)
    }

    fn get<'a>(a: &'a Advisory, namespace: &str, package: &str) -> &'a Affected {
        a.affected
            .iter()
            .find(|x| x.namespace == namespace && x.package == package)
            .unwrap_or_else(|| panic!("{namespace} {package} not in {}", a.id))
    }

    fn fixed(version: &str) -> Status {
        Status::Fixed {
            fixed: version.to_owned(),
            date: None,
        }
    }

    /// Fixed, dated by the erratum's release.
    fn fixed_on(version: &str, date: &str) -> Status {
        Status::Fixed {
            fixed: version.to_owned(),
            date: Some(date.to_owned()),
        }
    }

    fn code_not_present() -> Status {
        Status::NotAffected {
            reason: Some("vulnerable_code_not_present".into()),
        }
    }

    #[test]
    #[expect(clippy::print_stderr, reason = "the test reports what it parsed")]
    fn every_real_file() {
        let entries = std::fs::read_dir(DATA)
            .unwrap_or_else(|e| panic!("real test data missing: {DATA}: {e} (see shared/data)"));
        let mut names: Vec<String> = entries
            .map(|e| e.unwrap().file_name().to_string_lossy().into_owned())
            .filter(|n| n.ends_with(".json"))
            .collect();
        names.sort();
        assert_eq!(names.len(), 9);
        let (mut advisories, mut statements) = (0, 0);
        for name in &names {
            let list = parse(name);
            let count: usize = list.iter().map(|a| a.affected.len()).sum();
            eprintln!("{name}: {} advisories / {count} statements", list.len());
            advisories += list.len();
            statements += count;
        }
        eprintln!("redhat-csaf-vex: {advisories} advisories / {statements} statements");
        assert_eq!((advisories, statements), (9, 275));
    }

    #[test]
    fn curl_socks5() {
        let a = one("cve-2023-38545.json");
        assert_eq!(a.id, "CVE-2023-38545");
        assert_eq!(a.record, "cve-2023-38545.json:CVE-2023-38545");
        assert_eq!(a.feed, Feed::RedhatCsaf);
        assert_eq!(a.severity, Some(Severity::High));
        assert_eq!(a.published.as_deref(), Some("2023-10-11T00:00:00+00:00"));
        assert_eq!(a.modified.as_deref(), Some("2025-11-21T14:31:32+00:00"));
        assert_eq!(
            a.summary.as_deref(),
            Some("curl: heap based buffer overflow in the SOCKS5 proxy handshake")
        );
        assert_eq!(
            a.cvss,
            [Cvss {
                version: "3.1".into(),
                vector: "CVSS:3.1/AV:N/AC:H/PR:N/UI:N/S:U/C:H/I:H/A:H".into(),
                score: Some(8.1),
                source: Some("secalert@redhat.com".into()),
            }]
        );
        // RHEL 9: fixed in three streams; the 9.3 main stream is the one kept.
        let curl = get(&a, "rhel:9", "curl");
        // Dated by RHSA-2023:6745's `vendor_fix` remediation.
        let shipped = fixed_on("7.76.1-26.el9_3.2", "2023-11-07T10:27:03+00:00");
        assert_eq!(curl.status, shipped);
        assert_eq!(curl.severity, Some(Severity::High));
        let note = curl.note.as_deref().unwrap();
        assert!(note.starts_with("RHSA-2023:6745 in "), "{note}");
        assert!(
            note.contains("AppStream-9.2.0.Z.MAIN.EUS 7.76.1-23.el9_2.4"),
            "{note}"
        );
        assert!(note.contains("9.0.0.Z.EUS 7.76.1-14.el9_0.9"), "{note}");
        for package in [
            "libcurl",
            "libcurl-minimal",
            "curl-minimal",
            "libcurl-devel",
        ] {
            assert_eq!(get(&a, "rhel:9", package).status, shipped);
        }
        // RHEL 6, 7, 8: not affected, binary and source alike.
        for release in ["rhel:6", "rhel:7", "rhel:8"] {
            assert_eq!(get(&a, release, "curl").status, code_not_present());
            assert_eq!(get(&a, release, "libcurl").status, code_not_present());
        }
        assert_eq!(
            get(&a, "rhel:8", "libcurl-minimal").status,
            code_not_present()
        );
        // Satellite, JBCS and the rest are other products.
        assert!(a.affected.iter().all(|x| x.namespace.starts_with("rhel:")));
        assert!(!a.affected.iter().any(|x| x.package.starts_with("jbcs-")));
        assert!(!a.affected.iter().any(|x| x.package == "puppet-agent"));
    }

    #[test]
    fn samba_not_affected_anywhere() {
        for name in ["cve-2023-4154.json", "cve-2023-42670.json"] {
            let a = one(name);
            assert_eq!(a.severity, Some(Severity::Medium));
            // 165 products: 135 in RHEL 6 to 9, where `samba.src` folds into `samba`, and
            // Red Hat Storage, skipped.
            assert_eq!(a.affected.len(), 125, "{name}");
            assert!(a.affected.iter().all(|x| x.status == code_not_present()));
            assert_eq!(get(&a, "rhel:9", "samba").severity, Some(Severity::Medium));
            get(&a, "rhel:6", "samba4");
            get(&a, "rhel:8", "samba-winexe");
        }
    }

    #[test]
    fn snakeyaml_wont_fix_on_rhel7() {
        let a = one("cve-2022-38752.json");
        assert_eq!(a.severity, Some(Severity::Medium));
        assert_eq!(
            a.affected,
            [Affected {
                namespace: "rhel:7".parse().unwrap(),
                package: "snakeyaml".into(),
                status: Status::WontFix {
                    reason: "no_fix_planned: Out of support scope".into()
                },
                severity: Some(Severity::Medium),
                note: None,
            }]
        );
    }

    #[test]
    fn test_documents() {
        // RHEL 10 AppStream: one fix, two open; the bad rpmmod is kept as a note.
        let a = one("cve-2024-24786-bad-rpmmod.json");
        assert_eq!(
            get(&a, "rhel:10", "cri-tools").status,
            fixed("1.29.0-3.1.el9")
        );
        assert_eq!(
            get(&a, "rhel:10", "cri-tools").note.as_deref(),
            Some("RHSA-2024:0000 in AppStream-10")
        );
        assert_eq!(get(&a, "rhel:10", "good-pkg").status, Status::Unfixed);
        let flatpak = get(&a, "rhel:10", "firefox-flatpak");
        assert_eq!(flatpak.status, Status::Unfixed);
        assert_eq!(flatpak.note.as_deref(), Some("module rhel10"));
        assert_eq!(a.affected.len(), 3);

        // A module component: the package is the RPM name, the stream the note.
        let a = one("cve-2024-24786-illegal-module.json");
        assert_eq!(
            a.affected,
            [Affected {
                namespace: "rhel:8".parse().unwrap(),
                package: "go-toolset".into(),
                status: Status::Unfixed,
                severity: Some(Severity::Medium),
                note: Some("module go-toolset:rhel8".into()),
            }]
        );

        // OpenShift only: nothing for RHEL, but the record is still read.
        let a = one("cve-2024-24786-simple.json");
        assert_eq!(a.id, "CVE-2024-24786");
        assert!(a.affected.is_empty());

        for name in ["delete_CVE-2023-0030.json", "delete_CVE-2023-0031.json"] {
            let a = one(name);
            assert!(a.withdrawn);
            assert!(a.affected.is_empty());
            assert!(a.id.starts_with("CVE-2023-003"));
        }
    }

    #[test]
    fn names_and_platforms() {
        let c = nevra(
            "nodejs:18:8080020231016120048:ad008a3a:nodejs-1:18.18.2-2.module+el8.8.0+20218+1b6f0d89.x86_64",
        );
        assert_eq!(c.name, "nodejs");
        assert_eq!(
            c.evr.as_deref(),
            Some("1:18.18.2-2.module+el8.8.0+20218+1b6f0d89")
        );
        assert_eq!(
            c.module.as_deref(),
            Some("nodejs:18:8080020231016120048:ad008a3a")
        );
        let c = nevra("curl-0:7.76.1-26.el9_3.2.src");
        assert_eq!(
            (c.name.as_str(), c.evr.as_deref()),
            ("curl", Some("7.76.1-26.el9_3.2"))
        );
        assert_eq!(nevra("samba.src").name, "samba");
        assert_eq!(nevra("python3.11").name, "python3.11");
        assert!(nevra("libcurl-devel").evr.is_none());

        let c = rpm_purl("pkg:rpm/redhat/nodejs@18.18.2-2.module%2Bel8.8.0?arch=x86_64&epoch=1&rpmmod=nodejs:18:1:ad").unwrap();
        assert_eq!(c.evr.as_deref(), Some("1:18.18.2-2.module+el8.8.0"));
        assert!(rpm_purl("pkg:oci/openshift-logging/elasticsearch6-rhel8").is_none());
        assert_eq!(decode("a%2"), "a%2");
        assert_eq!(decode("%zz%41"), "%zzA");

        let p = rhel_platform(
            "cpe:/a:redhat:enterprise_linux:9::appstream",
            "AppStream-9.3.0.Z.MAIN",
        )
        .unwrap();
        assert_eq!((p.namespace.as_str(), p.main, p.minor), ("rhel:9", true, 3));
        let p = rhel_platform("cpe:/o:redhat:rhel_eus:9.0::baseos", "BaseOS-9.0.0.Z.EUS").unwrap();
        assert_eq!(
            (p.namespace.as_str(), p.main, p.minor),
            ("rhel:9", false, 0)
        );
        let p = rhel_platform("cpe:2.3:o:redhat:enterprise_linux:8:*:*:*:*:*:*:*", "x").unwrap();
        assert_eq!(p.namespace, "rhel:8");
        assert!(rhel_platform("cpe:/a:redhat:rhel_satellite_client:6::el7", "x").is_none());
        assert!(rhel_platform("cpe:/a:redhat:openshift:4.16::el9", "x").is_none());
        assert!(rhel_platform("cpe:/o:redhat:enterprise_linux:x", "x").is_none());
    }

    #[test]
    fn garbage_is_an_error() {
        for bad in [
            "",
            "{",
            "[]",
            "{}",
            r#"{"document": 3}"#,
            r#"{"document": {}, "vulnerabilities": [{"product_status": {"fixed": 1}}]}"#,
            r#"{"document": {}, "vulnerabilities": [{}]}"#,
            r#"{"document": {"tracking": {"status": "deleted"}}}"#,
        ] {
            let err = parse_csaf_vex("bad.json", bad).unwrap_err();
            assert_eq!(err.file, "bad.json", "{bad}");
        }
        let err = parse_csaf_vex("bad.json", "{\n\"document\": [}").unwrap_err();
        assert!(err.problem.contains("line 2"), "{err}");
        // Relationships to products that are not in the tree are skipped, not followed.
        let dangling = r#"{"document": {}, "product_tree": {"relationships": [
            {"full_product_name": {"product_id": "a:b"}, "product_reference": "b", "relates_to_product_reference": "a"}]},
            "vulnerabilities": [{"cve": "CVE-1", "product_status": {"fixed": ["a:b", "nowhere"]}}]}"#;
        assert!(
            parse_csaf_vex("d.json", dangling).unwrap()[0]
                .affected
                .is_empty()
        );
        let deep = format!(
            "{{\"document\": {{}}, \"product_tree\": {{\"branches\": {}{}}}}}",
            "[{\"branches\": ".repeat(5_000),
            "[]}]".repeat(5_000)
        );
        assert!(parse_csaf_vex("deep.json", &deep).is_err());
        let real =
            std::fs::read_to_string(format!("{DATA}/cve-2024-24786-bad-rpmmod.json")).unwrap();
        for cut in (0..real.len()).step_by(13) {
            let _ = parse_csaf_vex("cut", &real[..real.floor_char_boundary(cut)]);
        }
    }
}
