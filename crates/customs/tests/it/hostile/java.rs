//! Hostile Java archives in one layer beside a good one: a zip bomb, nesting past the depth
//! limit, entry names that climb out, a central directory claiming billions of entries,
//! garbage and a cut archive. Each costs only itself, with a warning naming it; the good jar
//! and the good parts are still read, under the memory ceiling, and nothing is extracted.

use std::io::Write;

use crate::common::{Comp, LayerTar, write_layout};

use super::{has_warning, scan, timed};

fn jar(entries: &[(&str, &[u8])], method: zip::CompressionMethod) -> Vec<u8> {
    let mut w = zip::ZipWriter::new(std::io::Cursor::new(Vec::new()));
    let level = (method == zip::CompressionMethod::Deflated).then_some(9);
    let opts = zip::write::SimpleFileOptions::default()
        .compression_method(method)
        .compression_level(level)
        .large_file(true);
    for (name, data) in entries {
        w.start_file(*name, opts).unwrap();
        w.write_all(data).unwrap();
    }
    w.finish().unwrap().into_inner()
}

/// As Java's `ZipOutputStream` writes a deflated entry: its sizes in a data descriptor after
/// its data, so a reader without the central directory must inflate it to find its end.
fn jar_streamed(entries: &[(&str, &[u8])]) -> Vec<u8> {
    let mut out = Vec::new();
    let mut w = zip::ZipWriter::new_stream(&mut out);
    let opts = zip::write::SimpleFileOptions::default()
        .compression_method(zip::CompressionMethod::Deflated)
        .compression_level(Some(9))
        .large_file(true);
    for (name, data) in entries {
        w.start_file(*name, opts).unwrap();
        w.write_all(data).unwrap();
    }
    w.finish().unwrap();
    out
}

fn props(group: &str, artifact: &str, version: &str) -> (String, Vec<u8>) {
    (
        format!("META-INF/maven/{group}/{artifact}/pom.properties"),
        format!("groupId={group}\nartifactId={artifact}\nversion={version}\n").into_bytes(),
    )
}

fn coords(inv: &serde_json::Value) -> Vec<(String, String)> {
    let mut out: Vec<_> = inv["packages"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|p| p["ecosystem"] == "maven")
        .map(|p| {
            (
                p["name"].as_str().unwrap().to_owned(),
                p["version"].as_str().unwrap().to_owned(),
            )
        })
        .collect();
    out.sort();
    out
}

#[test]
fn hostile_jars_cost_only_themselves() {
    timed("hostile jars", || {
        use zip::CompressionMethod::{Deflated, Stored};
        let good = props("org.example", "good", "1.0");
        let good_jar = jar(&[(&good.0, &good.1)], Deflated);
        // 512 MiB of zeros deflate to about half a MiB; with its size after its data, the
        // entry must be inflated to be skipped.
        let zeros = vec![0u8; 512 << 20];
        let bomb = jar_streamed(&[("data.bin", &zeros), (&good.0, &good.1)]);
        assert_eq!(bomb[6] & 0x8, 0x8, "a data descriptor");
        drop(zeros);
        assert!(bomb.len() < 2 << 20, "{}", bomb.len());
        let inner = props("org.example", "deepest", "9");
        let mut deep = jar(&[(&inner.0, &inner.1)], Deflated);
        for i in 0..12 {
            deep = jar(&[(&format!("lib/nest{i}.jar"), &deep)], Stored);
        }
        let climbing = jar(
            &[
                ("../../../../etc/cron.d/evil.jar", &good_jar),
                ("/abs/evil.jar", &good_jar),
                (
                    &props("org.example", "climber", "2").0,
                    &props("org.example", "climber", "2").1,
                ),
            ],
            Deflated,
        );
        // The end of central directory record claims 65535 entries in a 4 GiB directory at an
        // offset past the file; the zip64 locator is absent. Only local headers are read.
        let mut lying = jar(
            &[(
                &props("org.example", "liar", "3").0,
                &props("org.example", "liar", "3").1,
            )],
            Deflated,
        );
        let eocd = lying.len() - 22;
        assert_eq!(&lying[eocd..eocd + 4], b"PK\x05\x06");
        lying[eocd + 8..eocd + 12].copy_from_slice(&[0xff; 4]);
        lying[eocd + 12..eocd + 20].copy_from_slice(&[0xff; 8]);
        let cut = good_jar[..good_jar.len() / 2].to_vec();
        let layer = LayerTar::new()
            .dir("app/")
            .file("app/good-1.0.jar", &good_jar)
            .file("app/bomb.jar", &bomb)
            .file("app/deep.jar", &deep)
            .file("app/climbing.jar", &climbing)
            .file("app/lying.jar", &lying)
            .file("app/garbage.jar", b"\x7fELF not a jar at all")
            .file("app/cut.jar", &cut)
            .finish();
        let dir = tempfile::tempdir().unwrap();
        write_layout(dir.path(), &[layer], Comp::Gzip);
        let (run, inv) = scan(dir.path());
        let inv = inv.unwrap_or_else(|| panic!("exit {}: {}", run.code, run.stderr));
        assert_eq!(
            coords(&inv),
            [
                ("org.example:climber".to_owned(), "2".to_owned()),
                ("org.example:good".to_owned(), "1.0".to_owned()),
                ("org.example:liar".to_owned(), "3".to_owned()),
            ],
            "{}",
            inv["warnings"]
        );
        assert!(
            has_warning(&inv, "/app/bomb.jar", "zip bomb"),
            "{}",
            inv["warnings"]
        );
        assert!(
            has_warning(&inv, "/app/deep.jar", "nested more than 8 deep"),
            "{}",
            inv["warnings"]
        );
        assert!(
            has_warning(
                &inv,
                "/app/climbing.jar",
                "../../../../etc/cron.d/evil.jar: entry name climbs out"
            ),
            "{}",
            inv["warnings"]
        );
        assert!(has_warning(
            &inv,
            "/app/climbing.jar",
            "/abs/evil.jar: entry name climbs out"
        ));
        assert!(has_warning(&inv, "/app/garbage.jar", "not a zip archive"));
        assert!(
            has_warning(&inv, "/app/cut.jar", "ends inside"),
            "{}",
            inv["warnings"]
        );
    });
}
