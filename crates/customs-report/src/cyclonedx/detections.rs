//! Detections in CycloneDX: a `vulnerabilities` entry per detection, affecting the image.

use super::{Affects, Analysis, Rating, Source, Vulnerability, prop, severity_word};
use crate::report::ShownDetection;

/// A detection's `id`: its code and where it is, `CODE@PATH[:LINE]`
/// (`secret-aws-access-key@/app/.env:3`, `config-root-user@config:User`).
pub(super) fn detection_id(d: &customs_catalog::customs_detect::Detection) -> String {
    match d.location.line {
        Some(line) => format!("{}@{}:{line}", d.code, d.location.path),
        None => format!("{}@{}", d.code, d.location.path),
    }
}

pub(super) fn detection_vulnerability(
    shown: &ShownDetection<'_>,
    id: String,
    image_ref: String,
    n: usize,
) -> Vulnerability {
    let d = shown.detection;
    let l = &d.location;
    let mut properties = vec![
        prop("customs:detection:kind", d.kind.as_str()),
        prop("customs:detection:code", d.code.clone()),
        prop("customs:detection:path", l.path.clone()),
    ];
    if let Some(line) = l.line {
        properties.push(prop("customs:detection:line", line.to_string()));
    }
    if let Some(layer) = &l.layer {
        properties.push(prop("customs:detection:layer", layer.to_string()));
    }
    if let Some(i) = l.layer_index {
        properties.push(prop("customs:detection:layer-index", i.to_string()));
    }
    if let Some(r) = &d.removed_in {
        if let Some(layer) = &r.layer {
            properties.push(prop(
                "customs:detection:removed-in-layer",
                layer.to_string(),
            ));
        }
        if let Some(i) = r.layer_index {
            properties.push(prop(
                "customs:detection:removed-in-layer-index",
                i.to_string(),
            ));
        }
    }
    for r in &d.references {
        properties.push(prop("customs:detection:reference", r.clone()));
    }
    if let Some(s) = shown.suppressed() {
        properties.push(prop("customs:suppressed", s));
    }
    Vulnerability {
        bom_ref: format!("detection:{id}#{n}"),
        id,
        source: Source {
            name: "customs".to_owned(),
            url: None,
        },
        references: Vec::new(),
        ratings: vec![Rating {
            source: None,
            score: None,
            severity: severity_word(d.severity),
            method: Some("other"),
            vector: None,
        }],
        description: Some(d.message.clone()),
        detail: d.evidence.clone(),
        recommendation: None,
        analysis: shown.exception.map(|e| Analysis {
            state: "exploitable",
            response: vec!["will_not_fix"],
            detail: Some(format!(
                "risk accepted by the policy's exception: {}",
                e.accepted()
            )),
        }),
        affects: vec![Affects {
            reference: image_ref,
            versions: Vec::new(),
        }],
        properties,
    }
}
