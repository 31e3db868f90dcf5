//! Fill a store with synthetic images for the lifecycle benchmark (`bench/lifecycle.sh`):
//! COUNT copies of a real inventory (from `customs sbom --format json`), each under its own
//! digest, with package versions varied so that images differ.
//!
//!     cargo run --release -p customs-store --example synth -- STORE_URL INVENTORY.json COUNT

use std::io::Write;
use std::time::Instant;

use customs_store::{PackageKey, ResolvedReason, ScanRecord, Timestamp};

fn main() -> Result<(), Box<dyn std::error::Error>> {
    let args: Vec<String> = std::env::args().collect();
    let [_, url, inventory, count] = args.as_slice() else {
        return Err("usage: synth STORE_URL INVENTORY.json COUNT".into());
    };
    let count: usize = count.parse()?;
    let base: serde_json::Value = serde_json::from_slice(&std::fs::read(inventory)?)?;
    let mut store = customs_store::open(url)?;
    let t = Instant::now();
    for i in 0..count {
        let mut inv = base.clone();
        let digest = format!("sha256:{i:064x}");
        inv["image"]["manifest_digest"] = digest.clone().into();
        let mut packages = Vec::new();
        if let Some(list) = inv["packages"].as_array_mut() {
            for (j, p) in list.iter_mut().enumerate() {
                // Vary versions: every seventh PyPI package of every third image gets a
                // trailing `.0`, which PEP 440 orders equal, so findings stay comparable.
                if i % 3 == 0 && j % 7 == i % 7 && p["ecosystem"] == "pypi" {
                    let v = p["version"].as_str().unwrap_or_default().to_owned();
                    p["version"] = format!("{v}.0").into();
                }
                let eco = p["ecosystem"].as_str().unwrap_or_default().to_owned();
                let name = p["name"].as_str().unwrap_or_default().to_owned();
                let name = if eco == "pypi" {
                    customs_version::pep503_name(&name)
                } else {
                    name
                };
                packages.push(PackageKey {
                    ecosystem: eco.clone(),
                    name,
                });
                if let Some(src) = p["source_name"].as_str() {
                    packages.push(PackageKey {
                        ecosystem: eco,
                        name: src.to_owned(),
                    });
                }
            }
        }
        store.put_scan(&ScanRecord {
            digest,
            repository: Some(format!("bench.example/app{}", i % 100)),
            tag: Some(format!("build-{i}")),
            inventory: inv,
            packages,
            findings: Vec::new(),
            scanned_at: Timestamp::now(),
            db_built_at: None,
            resolved_reason: ResolvedReason::NoLongerMatched,
        })?;
    }
    writeln!(
        std::io::stderr(),
        "stored {count} images in {:.1} s",
        t.elapsed().as_secs_f64()
    )?;
    Ok(())
}
