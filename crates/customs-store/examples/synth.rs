//! Fill a store with synthetic images for the lifecycle benchmark (`bench/lifecycle.sh`):
//! COUNT images made from real inventories (from `customs sbom --format json`), taken in
//! turn, each under its own digest and with package versions varied so that images differ.
//!
//!     cargo run --release -p customs-store --example synth -- STORE_URL COUNT INVENTORY.json...
//!
//! The records are built as `customs scan --store` builds them (crates/customs/src/store.rs):
//! the context is the inventory without packages and files, each package is kept without its
//! file lists, and it is indexed under its name (PyPI's normalised) and its source package.

use std::io::Write;
use std::time::Instant;

use customs_store::{IndexedPackage, PackageKey, Resolutions, ScanRecord, Timestamp};
use serde_json::Value;

fn main() -> Result<(), Box<dyn std::error::Error>> {
    let args: Vec<String> = std::env::args().collect();
    let [_, url, count, inventories @ ..] = args.as_slice() else {
        return Err("usage: synth STORE_URL COUNT INVENTORY.json...".into());
    };
    let count: usize = count.parse()?;
    let bases: Vec<Value> = inventories
        .iter()
        .map(|f| Ok(serde_json::from_slice(&std::fs::read(f)?)?))
        .collect::<Result<_, Box<dyn std::error::Error>>>()?;
    if bases.is_empty() {
        return Err("no inventories given".into());
    }
    let mut store = customs_store::open(url)?;
    let t = Instant::now();
    for i in 0..count {
        let mut inv = bases[i % bases.len()].clone();
        let digest = format!("sha256:{i:064x}");
        inv["image"]["manifest_digest"] = digest.clone().into();
        let mut packages = Vec::new();
        if let Some(list) = inv["packages"].as_array_mut() {
            for (j, p) in list.iter_mut().enumerate() {
                vary(p, i, j);
                packages.push(indexed(p));
            }
        }
        let mut context = inv.clone();
        if let Some(object) = context.as_object_mut() {
            object.remove("packages");
            object.remove("files");
        }
        store.put_scan(&ScanRecord {
            digest,
            repository: Some(format!("bench.example/app{}", i % 100)),
            tag: Some(format!("build-{i}")),
            also_tagged: Vec::new(),
            inventory: inv,
            context,
            packages,
            findings: Vec::new(),
            scanned_at: Timestamp::now(),
            db_built_at: None,
            resolutions: Resolutions::default(),
            scope: None,
            signature: None,
        })?;
    }
    writeln!(
        std::io::stderr(),
        "stored {count} images in {:.1} s",
        t.elapsed().as_secs_f64()
    )?;
    Ok(())
}

/// Vary versions so images differ the way rebuilds do: in every third image, every seventh
/// package gets an older build of its version (`~bench` sorts before the release in dpkg, and
/// rpm; a PyPI `.0` suffix orders equal), so some findings appear and others go.
fn vary(p: &mut Value, image: usize, package: usize) {
    if !image.is_multiple_of(3) || package % 7 != image % 7 {
        return;
    }
    let suffix = match p["ecosystem"].as_str() {
        Some("deb" | "rpm" | "apk") => "~bench",
        Some("pypi") => ".0",
        _ => return,
    };
    for key in ["version", "source_version"] {
        if let Some(v) = p[key].as_str().map(str::to_owned) {
            p[key] = format!("{v}{suffix}").into();
        }
    }
}

fn indexed(p: &Value) -> IndexedPackage {
    let eco = p["ecosystem"].as_str().unwrap_or_default().to_owned();
    let name = p["name"].as_str().unwrap_or_default();
    let eco: customs_store::Ecosystem = eco.parse().expect("an inventory ecosystem");
    let name = eco.match_name(name);
    let mut keys = vec![PackageKey {
        ecosystem: eco,
        name,
    }];
    if let Some(src) = p["source_name"].as_str() {
        keys.push(PackageKey {
            ecosystem: eco,
            name: src.to_owned(),
        });
    }
    let mut data = p.clone();
    if let Some(object) = data.as_object_mut() {
        object.insert("paths".to_owned(), Value::Array(Vec::new()));
        object.remove("owns");
        object.remove("evidence");
    }
    IndexedPackage { keys, data }
}
