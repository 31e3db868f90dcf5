//! The secret, config and file checks over a catalog run: secrets found in each layer are
//! judged against the layers above them (a file deleted or replaced later is still in the
//! image), the config's `Env` and history are scanned and then redacted, and the config and
//! file checks of `customs-detect` run on the final filesystem.

use std::collections::{BTreeMap, HashSet};

use customs_detect::config::{CacheUse, ConfigInput, HistoryStep};
use customs_detect::files::{FileFacts, FilesInput};
use customs_detect::secrets::SecretStats;
use customs_detect::{Detection, DetectionKind, Location, RuleSet, Scanners, SecretHit};
use customs_image::Digest;
use customs_types::Severity;

use crate::apply::Merged;
use crate::facts::{Fact, LayerFacts, path_hash};
use crate::inventory::{ConfigMeta, Inspected, Package};

/// What the checks need of the image beyond the layers.
pub(crate) struct Context<'a> {
    pub(crate) scanners: Scanners,
    pub(crate) rules: &'a RuleSet,
    /// Each layer's diff_id, base first (one `None` for a `dir:` source).
    pub(crate) layers: Vec<Option<Digest>>,
    /// Whether the source is a root filesystem (one layer, no history).
    pub(crate) rootfs: bool,
}

impl Context<'_> {
    fn at(&self, index: usize, path: String, line: Option<usize>) -> Location {
        Location {
            layer: self.layers.get(index).cloned().flatten(),
            layer_index: (!self.rootfs).then_some(index),
            path,
            line,
        }
    }
}

/// Run the scanners `ctx` names, redact `config` (always: a secret in `Env` must not reach
/// a report or the store even when the secret scanner is off), and say what was covered.
pub(crate) fn run(
    ctx: &Context<'_>,
    layers: &[LayerFacts],
    merged: &Merged,
    packages: &[Package],
    config: Option<&mut ConfigMeta>,
) -> (Vec<Detection>, Option<Inspected>) {
    let mut out = Vec::new();
    if ctx.scanners.secret {
        out.extend(layer_secrets(ctx, layers));
    }
    if let Some(config) = config {
        if ctx.scanners.secret {
            out.extend(config_secrets(ctx, config));
        }
        redact(ctx.rules, config);
        if ctx.scanners.config {
            out.extend(customs_detect::config::check(&config_input(
                ctx, config, merged, packages,
            )));
        }
    } else if ctx.scanners.config {
        // A root filesystem has no config; its package caches are still worth naming.
        out.extend(
            customs_detect::config::check(&ConfigInput {
                caches: caches(merged),
                packages: os_package_names(packages),
                layers: ctx.layers.clone(),
                ..Default::default()
            })
            .into_iter()
            .filter(|d| d.code == "config-package-cache" || d.code == "config-sudo-installed"),
        );
    }
    if ctx.scanners.file {
        out.extend(customs_detect::files::check(&files_input(
            ctx, merged, packages,
        )));
    }
    out.sort_by(|a, b| (a.kind, &a.code, &a.location).cmp(&(b.kind, &b.code, &b.location)));
    let ran: Vec<String> = [
        DetectionKind::Secret,
        DetectionKind::Config,
        DetectionKind::File,
    ]
    .into_iter()
    .filter(|k| ctx.scanners.runs(*k))
    .map(|k| k.as_str().to_owned())
    .collect();
    if ran.is_empty() {
        return (out, None);
    }
    let mut secrets = SecretStats::default();
    for l in layers {
        secrets.add(&l.secret_stats);
    }
    let inspected = Inspected {
        scanners: ran,
        secrets,
        rules: if ctx.scanners.secret {
            ctx.rules.fingerprint()
        } else {
            String::new()
        },
        skipped: BTreeMap::new(),
    };
    (out, Some(inspected))
}

/// The first layer above `below` that deletes or replaces `path`, if any.
fn removed_above(layers: &[LayerFacts], below: usize, path: &str) -> Option<usize> {
    let hash = path_hash(path);
    let covers = |dir: &str, self_too: bool| {
        (self_too && dir == path)
            || dir.is_empty()
            || (path.len() > dir.len()
                && path.starts_with(dir)
                && path.as_bytes()[dir.len()] == b'/')
    };
    layers
        .iter()
        .enumerate()
        .skip(below + 1)
        .find(|(_, l)| {
            l.whiteouts.iter().any(|w| covers(w, true))
                || l.opaque.iter().any(|o| covers(o, false))
                || l.present.binary_search(&hash).is_ok()
        })
        .map(|(j, _)| j)
}

fn secret(hit: &SecretHit, location: Location) -> Detection {
    Detection {
        code: hit.code.clone(),
        kind: DetectionKind::Secret,
        severity: hit.severity,
        title: hit.title.clone(),
        message: format!("{} in {}.", hit.title, location.path),
        location,
        removed_in: None,
        evidence: Some(hit.evidence.clone()),
        references: vec![hit.rule.clone()],
    }
}

fn layer_secrets(ctx: &Context<'_>, layers: &[LayerFacts]) -> Vec<Detection> {
    let mut out = Vec::new();
    for (i, layer) in layers.iter().enumerate() {
        for (path, hits) in &layer.secrets {
            let abs = format!("/{path}");
            let gone = removed_above(layers, i, path);
            for hit in hits {
                let here = ctx.at(i, abs.clone(), Some(hit.line));
                let Some(j) = gone else {
                    out.push(secret(hit, here));
                    continue;
                };
                let mut d = secret(hit, here);
                d.code = "secret-in-layer-history".to_owned();
                d.severity = d.severity.max(Severity::High);
                d.title = format!("{} in a deleted or replaced file", hit.title);
                d.message = format!(
                    "{} in {abs}, which layer {i} added and layer {j} deleted or replaced. The file is still in layer {i}: anyone who pulls the image can read it. Revoke the secret, and keep it out of every build step (use build secrets, not files).",
                    hit.title
                );
                d.references.insert(0, hit.code.clone());
                d.removed_in = Some(ctx.at(j, abs.clone(), None));
                out.push(d);
            }
        }
    }
    out
}

/// The layer each history step made (`None` for a step that made none).
fn step_layers(history: &[customs_image::HistoryEntry]) -> Vec<Option<usize>> {
    let mut next = 0;
    history
        .iter()
        .map(|h| {
            if h.empty_layer {
                None
            } else {
                next += 1;
                Some(next - 1)
            }
        })
        .collect()
}

fn config_secrets(ctx: &Context<'_>, config: &ConfigMeta) -> Vec<Detection> {
    let mut out = Vec::new();
    for entry in &config.env {
        let name = entry.split_once('=').map_or(entry.as_str(), |(n, _)| n);
        for hit in ctx.rules.scan_text(entry) {
            let mut d = secret(
                &hit,
                Location {
                    path: format!("config:Env {name}"),
                    ..Location::default()
                },
            );
            d.message = format!(
                "{} in the image config's environment ({name}): every container of the image, and anyone who pulls it, sees it. Revoke it, and pass it at run time instead.",
                hit.title
            );
            out.push(d);
        }
    }
    for (k, (h, layer)) in config
        .history
        .iter()
        .zip(step_layers(&config.history))
        .enumerate()
    {
        let Some(by) = &h.created_by else { continue };
        for hit in ctx.rules.scan_text(by) {
            let location = match layer {
                Some(i) => ctx.at(i, format!("history[{k}].created_by"), None),
                None => Location {
                    path: format!("history[{k}].created_by"),
                    ..Location::default()
                },
            };
            let mut d = secret(&hit, location);
            d.message = format!(
                "{} in build step {k}'s command, which the image's history keeps for anyone who pulls it. Revoke it, and use build secrets instead of arguments.",
                hit.title
            );
            out.push(d);
        }
    }
    out
}

/// What the secret rules match, and then what the config checks call a credential by its name
/// alone, replaced by `********` in `Env` and in each history step.
fn redact(rules: &RuleSet, config: &mut ConfigMeta) {
    use std::borrow::Cow;
    for e in &mut config.env {
        let by_rules = rules.redact(e);
        if let Cow::Owned(r) = customs_detect::config::redact_env(&by_rules) {
            *e = r;
        } else if let Cow::Owned(r) = by_rules {
            *e = r;
        }
    }
    for h in &mut config.history {
        if let Some(by) = &mut h.created_by {
            let by_rules = rules.redact(by);
            if let Cow::Owned(r) = customs_detect::config::redact_step(&by_rules) {
                *by = r;
            } else if let Cow::Owned(r) = by_rules {
                *by = r;
            }
        }
    }
}

fn os_package_names(packages: &[Package]) -> Vec<String> {
    packages
        .iter()
        .filter(|p| p.ecosystem.is_os())
        .map(|p| p.name.clone())
        .collect()
}

fn caches(merged: &Merged) -> Vec<CacheUse> {
    let mut by_dir: BTreeMap<&str, CacheUse> = BTreeMap::new();
    for (path, (layer, meta)) in &merged.notable {
        if meta.kind != "file" {
            continue;
        }
        let Some(dir) = customs_detect::files::cache_dir_of(path) else {
            continue;
        };
        let c = by_dir.entry(dir).or_insert_with(|| CacheUse {
            path: format!("/{dir}"),
            files: 0,
            bytes: 0,
            layer_index: None,
        });
        c.files += 1;
        c.bytes += meta.size;
        c.layer_index = c.layer_index.max(Some(*layer));
    }
    by_dir.into_values().collect()
}

fn config_input(
    ctx: &Context<'_>,
    config: &ConfigMeta,
    merged: &Merged,
    packages: &[Package],
) -> ConfigInput {
    ConfigInput {
        user: config.user.clone(),
        env: config.env.clone(),
        history: config
            .history
            .iter()
            .map(|h| HistoryStep {
                created_by: h.created_by.clone().unwrap_or_default(),
                empty_layer: h.empty_layer,
            })
            .collect(),
        healthcheck: config.healthcheck.clone(),
        exposed_ports: config.exposed_ports.clone(),
        packages: os_package_names(packages),
        caches: caches(merged),
        layers: ctx.layers.clone(),
    }
}

fn files_input(ctx: &Context<'_>, merged: &Merged, packages: &[Package]) -> FilesInput {
    let owned: HashSet<String> = packages
        .iter()
        .filter(|p| p.ecosystem.is_os())
        .flat_map(|p| p.paths.iter().cloned())
        .collect();
    let known_uids = match merged.resolve(crate::users::PASSWD) {
        Some((_, Fact::Users(u))) => Some(u.clone()),
        _ => None,
    };
    FilesInput {
        entries: merged
            .notable
            .iter()
            .map(|(path, (i, m))| FileFacts {
                path: format!("/{path}"),
                kind: m.kind.clone(),
                mode: m.mode,
                uid: m.uid,
                layer: ctx.layers.get(*i).cloned().flatten(),
                layer_index: (!ctx.rootfs).then_some(*i),
            })
            .collect(),
        owned,
        known_uids,
    }
}
