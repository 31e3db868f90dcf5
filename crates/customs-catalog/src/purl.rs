//! Package URLs for OS packages, per the purl spec's `deb`, `apk` and `rpm` types, with the
//! qualifiers scanners agree on (`arch`, `epoch`, `distro`, `upstream`).

use packageurl::PackageUrl;

use crate::inventory::Distro;

pub(crate) struct PurlParts<'a> {
    pub(crate) ty: &'static str,
    pub(crate) name: &'a str,
    pub(crate) version: &'a str,
    pub(crate) arch: Option<&'a str>,
    pub(crate) epoch: Option<u32>,
    pub(crate) upstream: Option<&'a str>,
}

/// `None` only when a name is empty (which the parsers already refuse).
pub(crate) fn build(
    parts: &PurlParts<'_>,
    distro: Option<&Distro>,
    default_ns: &str,
) -> Option<String> {
    let mut p = PackageUrl::new(parts.ty, parts.name).ok()?;
    // The purl spec's rpm examples (and scanners) say `redhat` where os-release says `rhel`.
    let ns = match distro.map(|d| d.id.as_str()) {
        Some("rhel") => "redhat",
        Some(id) => id,
        None => default_ns,
    };
    if !ns.is_empty() {
        p.with_namespace(ns.to_owned()).ok()?;
    }
    if !parts.version.is_empty() {
        p.with_version(parts.version.to_owned()).ok()?;
    }
    if let Some(a) = parts.arch.filter(|a| !a.is_empty()) {
        p.add_qualifier("arch", a.to_owned()).ok()?;
    }
    if let Some(e) = parts.epoch.filter(|e| *e > 0) {
        p.add_qualifier("epoch", e.to_string()).ok()?;
    }
    if let Some(u) = parts.upstream.filter(|u| *u != parts.name && !u.is_empty()) {
        p.add_qualifier("upstream", u.to_owned()).ok()?;
    }
    if let Some(d) = distro {
        let q = match &d.version_id {
            Some(v) => format!("{}-{v}", d.id),
            None => d.id.clone(),
        };
        p.add_qualifier("distro", q).ok()?;
    }
    Some(p.to_string())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn deb_purl() {
        let d = Distro {
            id: "debian".into(),
            version_id: Some("12".into()),
            codename: None,
            pretty_name: None,
            id_like: vec![],
            source_file: String::new(),
        };
        let p = build(
            &PurlParts {
                ty: "deb",
                name: "libssl3",
                version: "3.0.11-1~deb12u2",
                arch: Some("amd64"),
                epoch: None,
                upstream: Some("openssl"),
            },
            Some(&d),
            "debian",
        )
        .unwrap();
        assert_eq!(
            p,
            "pkg:deb/debian/libssl3@3.0.11-1~deb12u2?arch=amd64&distro=debian-12&upstream=openssl"
        );
        let p = build(
            &PurlParts {
                ty: "deb",
                name: "bash",
                version: "1:5.2-1",
                arch: None,
                epoch: None,
                upstream: None,
            },
            None,
            "debian",
        )
        .unwrap();
        assert_eq!(p, "pkg:deb/debian/bash@1:5.2-1");
    }
}
