//! Detections in SARIF: a rule per code, a result per detection.

use std::collections::BTreeMap;

use customs_catalog::customs_detect::Detection;

use super::{
    Configuration, Help, LogicalLocation, Region, Rule, RuleProperties, SarifResult, Text,
    band_middle, level, location,
};
use crate::ids::{ImageName, sha256_hex};
use crate::report::ShownDetection;

/// `config-root-user` → `ConfigRootUser`: a rule's name, as SARIF's examples spell them.
fn pascal(code: &str) -> String {
    code.split(['-', '_'])
        .filter(|w| !w.is_empty())
        .map(|w| {
            let mut c = w.chars();
            c.next()
                .map(|first| first.to_uppercase().chain(c).collect::<String>())
                .unwrap_or_default()
        })
        .collect()
}

/// A path in the image as a relative URI reference under `ROOTPATH`: without its leading `/`,
/// and with every byte but unreserved characters, `/` and a few harmless sub-delimiters
/// percent-encoded, so that a file name with a space, `%`, `#` or `:` still reads as one path.
fn uri_path(path: &str) -> String {
    let mut out = String::with_capacity(path.len());
    for b in path.trim_start_matches('/').bytes() {
        if b.is_ascii_alphanumeric() || b"-._~/!$&'()*+,;=@".contains(&b) {
            out.push(char::from(b));
        } else {
            out.push_str(&format!("%{b:02X}"));
        }
    }
    out
}

/// What a detection code's rule says: its title and references, those of all its detections.
pub(super) struct RuleText {
    title: String,
    references: Vec<String>,
}

/// Each code's [`RuleText`]. Most checks give every detection the same title; one that does
/// not (`secret-in-layer-history` names the secret's rule: `AWS secret access key in a
/// deleted or replaced file`, `GitHub personal access token in a deleted or replaced file`)
/// gets the words its titles end with, after its kind (`Secret in a deleted or replaced
/// file`), or `Secret check CODE` when they share none. The references are those every
/// detection of the code has.
pub(super) fn rule_texts<'a>(
    detections: impl IntoIterator<Item = &'a Detection>,
) -> BTreeMap<&'a str, RuleText> {
    let mut out: BTreeMap<&str, RuleText> = BTreeMap::new();
    for d in detections {
        let Some(t) = out.get_mut(d.code.as_str()) else {
            out.insert(
                &d.code,
                RuleText {
                    title: d.title.clone(),
                    references: d.references.clone(),
                },
            );
            continue;
        };
        t.references.retain(|r| d.references.contains(r));
        if t.title == d.title {
            continue;
        }
        let (a, b): (Vec<&str>, Vec<&str>) = (
            t.title.split(' ').rev().collect(),
            d.title.split(' ').rev().collect(),
        );
        let shared = a.iter().zip(&b).take_while(|(x, y)| x == y).count();
        let kind = d.kind.as_str();
        let mut kind_word = kind.to_owned();
        kind_word[..1].make_ascii_uppercase();
        t.title = if shared == 0 {
            format!("{kind_word} check {}", d.code)
        } else {
            let tail: Vec<&str> = a[..shared].iter().rev().copied().collect();
            format!("{kind_word} {}", tail.join(" "))
        };
    }
    out
}

/// The rule of a detection code.
pub(super) fn detection_rule(d: &Detection, text: &RuleText) -> Rule {
    let kind = d.kind.as_str();
    let title: String = text.title.chars().take(200).collect();
    let references = if text.references.is_empty() {
        "none".to_owned()
    } else {
        text.references.join(", ")
    };
    Rule {
        id: d.code.clone(),
        name: pascal(&d.code),
        short_description: Text {
            text: title.clone(),
        },
        full_description: Text {
            text: format!(
                "{title}: customs' {kind} check {} (docs/checks.md).",
                d.code
            ),
        },
        default_configuration: Configuration {
            level: level(d.severity),
        },
        help_uri: None,
        help: Help {
            text: format!(
                "{title}\nCheck: {} ({kind})\nSeverity: {}\nReferences: {references}\n\
                 What it finds, why it matters and how to fix it: docs/checks.md, under {}.",
                d.code, d.severity, d.code
            ),
            markdown: format!(
                "**{title}**\n\nCheck: `{}` ({kind})\n\nSeverity: {}\n\nReferences: \
                 {references}\n\nWhat it finds, why it matters and how to fix it: \
                 docs/checks.md, under `{}`.",
                d.code, d.severity, d.code
            ),
        },
        properties: RuleProperties {
            security_severity: band_middle(d.severity),
            // A secret rule's pattern can match a look-alike; a mode bit or a config field
            // is what it is.
            precision: if kind == "secret" {
                "high"
            } else {
                "very-high"
            },
            tags: vec!["security".to_owned(), kind.to_owned()],
        },
    }
}

/// One detection's result: its level, message, location (the file and line, or the image
/// with the config location as a logical one), its redacted evidence as the region's snippet,
/// and its layers in `properties`.
pub(super) fn detection_result(
    image: &ImageName,
    shown: &ShownDetection<'_>,
    rule_index: usize,
) -> SarifResult {
    let d = shown.detection;
    let l = &d.location;
    let mut text = d.message.clone();
    let suppressed = shown.suppressed();
    if let Some(s) = &suppressed {
        text.push_str(&format!("; suppressed: {s}"));
    }
    let in_file = l.path.starts_with('/');
    let mut location = location(
        if in_file {
            uri_path(&l.path)
        } else {
            "image".to_owned()
        },
        match l.line {
            Some(line) => format!("{}: {}:{line}", image.display(), l.path),
            None => format!("{}: {}", image.display(), l.path),
        },
    );
    let region = &mut location.physical_location.region;
    if let Some(line) = l.line {
        *region = Region {
            start_line: line,
            start_column: None,
            end_line: Some(line),
            end_column: None,
            snippet: None,
        };
    }
    region.snippet = d.evidence.clone().map(|text| Text { text });
    if !in_file {
        location.logical_locations.push(LogicalLocation {
            fully_qualified_name: l.path.clone(),
            kind: "property",
        });
    }
    let mut fingerprints = BTreeMap::new();
    let index = |i: Option<usize>| i.map_or_else(String::new, |i| i.to_string());
    fingerprints.insert(
        "customsDetection/v1",
        sha256_hex(
            format!(
                "{}\n{}\n{}\n{}\n{}",
                d.code,
                l.path,
                index(l.line),
                index(l.layer_index),
                index(d.removed_in.as_ref().and_then(|r| r.layer_index))
            )
            .as_bytes(),
        ),
    );
    let mut properties = serde_json::Map::new();
    properties.insert("kind".to_owned(), d.kind.as_str().into());
    if let Some(layer) = &l.layer {
        properties.insert("layer".to_owned(), layer.to_string().into());
    }
    if let Some(i) = l.layer_index {
        properties.insert("layerIndex".to_owned(), i.into());
    }
    if let Some(r) = &d.removed_in {
        if let Some(layer) = &r.layer {
            properties.insert("removedInLayer".to_owned(), layer.to_string().into());
        }
        if let Some(i) = r.layer_index {
            properties.insert("removedInLayerIndex".to_owned(), i.into());
        }
    }
    if !d.references.is_empty() {
        properties.insert("references".to_owned(), d.references.clone().into());
    }
    if let Some(s) = suppressed {
        properties.insert("suppressed".to_owned(), s.into());
    }
    SarifResult {
        rule_id: d.code.clone(),
        rule_index,
        level: level(d.severity),
        message: Text { text },
        locations: vec![location],
        partial_fingerprints: fingerprints,
        properties,
    }
}
