//! Tar streams built to break a reader: link chains, hard links to nowhere, very deep trees,
//! a million entries, PAX records that lie about sizes, and streams cut short.

use std::io::Write;

use crate::common::{Comp, LayerTar, compress, sha256_hex, write_layout};

use super::{has_warning, layout_with_blob, names, scan, status, timed, warnings};

const GZIP: &str = "application/vnd.oci.image.layer.v1.tar+gzip";
const PLAIN: &str = "application/vnd.oci.image.layer.v1.tar";

/// One 512-byte header. Sizes past the 11 octal digits of ustar use the base-256 form GNU tar
/// writes (a leading 0x80), so a header can claim up to 2^63 bytes.
fn header(name: &[u8], kind: u8, size: u64, link: &[u8]) -> [u8; 512] {
    let mut h = [0u8; 512];
    h[..name.len()].copy_from_slice(name);
    h[100..108].copy_from_slice(b"0000644\0");
    h[108..116].copy_from_slice(b"0000000\0");
    h[116..124].copy_from_slice(b"0000000\0");
    if size < 8u64.pow(11) {
        h[124..136].copy_from_slice(format!("{size:011o}\0").as_bytes());
    } else {
        h[124] = 0x80;
        h[128..136].copy_from_slice(&size.to_be_bytes());
    }
    h[136..148].copy_from_slice(b"15000000000\0");
    h[156] = kind;
    h[157..157 + link.len()].copy_from_slice(link);
    h[257..263].copy_from_slice(b"ustar ");
    h[263..265].copy_from_slice(b" \0");
    h[148..156].copy_from_slice(b"        ");
    let sum: u32 = h.iter().map(|b| u32::from(*b)).sum();
    h[148..156].copy_from_slice(format!("{sum:06o}\0 ").as_bytes());
    h
}

/// Writes a tar stream straight into `W` (an encoder, a file), so that no test holds a whole
/// uncompressed layer in memory.
struct TarOut<W: Write> {
    out: W,
}

impl<W: Write> TarOut<W> {
    fn raw(&mut self, b: &[u8]) {
        self.out.write_all(b).unwrap();
    }

    fn padded(&mut self, data: &[u8]) {
        self.raw(data);
        self.raw(&vec![0u8; (512 - data.len() % 512) % 512]);
    }

    /// A header, preceded by a GNU long-name entry when the name does not fit in 100 bytes.
    fn entry(&mut self, name: &str, kind: u8, size: u64, link: &str) {
        let name = name.as_bytes();
        if name.len() > 100 {
            let mut long = name.to_vec();
            long.push(0);
            self.raw(&header(b"././@LongLink", b'L', long.len() as u64, b""));
            self.padded(&long);
        }
        self.raw(&header(
            &name[..name.len().min(100)],
            kind,
            size,
            link.as_bytes(),
        ));
    }

    fn file(&mut self, name: &str, data: &[u8]) {
        self.entry(name, b'0', data.len() as u64, "");
        self.padded(data);
    }

    /// A PAX extended header (`x`) carrying the given records for the entry that follows.
    fn pax(&mut self, records: &[(&str, &str)]) {
        let mut body = Vec::new();
        for (k, v) in records {
            // The length prefix counts itself: find the fixed point.
            let rest = k.len() + v.len() + 3;
            let mut n = rest + 1;
            while n.to_string().len() + rest != n {
                n = n.to_string().len() + rest;
            }
            body.extend_from_slice(format!("{n} {k}={v}\n").as_bytes());
        }
        self.raw(&header(b"PaxHeaders/x", b'x', body.len() as u64, b""));
        self.padded(&body);
    }

    fn end(mut self) -> W {
        self.raw(&[0u8; 1024]);
        self.out
    }
}

/// A tar stream written by `build` and ended, compressed on the fly.
fn stream(comp: Comp, build: impl FnOnce(&mut TarOut<&mut dyn Write>)) -> Vec<u8> {
    fn write_all(out: &mut dyn Write, build: impl FnOnce(&mut TarOut<&mut dyn Write>)) {
        let mut t = TarOut { out };
        build(&mut t);
        t.end();
    }
    match comp {
        Comp::Gzip => {
            let mut e = flate2::write::GzEncoder::new(Vec::new(), flate2::Compression::fast());
            write_all(&mut e, build);
            e.finish().unwrap()
        }
        Comp::Zstd => {
            let mut e = zstd::stream::write::Encoder::new(Vec::new(), 1).unwrap();
            write_all(&mut e, build);
            e.finish().unwrap()
        }
        Comp::None => {
            let mut v = Vec::new();
            write_all(&mut v, build);
            v
        }
    }
}

#[test]
fn symlink_chains_that_leave_the_root_are_not_followed() {
    timed("symlink chains", || {
        // a -> b -> c -> ../../.. : every hop but the last stays inside; the status file
        // points into the chain. os-release points at a link that climbs out itself, and
        // the apk database loops on itself.
        let layer = LayerTar::new()
            .symlink("a", "b")
            .symlink("b", "c")
            .symlink("c", "../../..")
            .symlink("var/lib/dpkg/status", "../../../a/var/lib/dpkg/status")
            .symlink("etc/os-release", "../usr/lib/os-release")
            .symlink("usr/lib/os-release", "../../../../etc/os-release")
            .symlink("lib/apk/db/installed", "installed")
            .finish();
        let dir = tempfile::tempdir().unwrap();
        write_layout(dir.path(), &[layer], Comp::Gzip);
        let (run, inv) = scan(dir.path());
        let inv = inv.unwrap_or_else(|| panic!("{}", run.stderr));
        assert!(
            has_warning(&inv, "/c", r#"symlink to "../../.." leaves the image root"#),
            "{:?}",
            warnings(&inv)
        );
        assert!(has_warning(
            &inv,
            "/usr/lib/os-release",
            r#"symlink to "../../../../etc/os-release" leaves the image root"#
        ));
        // Only the links that climb out are named; the in-root hops are not.
        assert_eq!(warnings(&inv).len(), 2, "{:?}", warnings(&inv));
        assert!(inv["distro"].is_null(), "{}", inv["distro"]);
        assert!(names(&inv).is_empty(), "{:?}", names(&inv));
    });
}

#[test]
fn hard_links_outside_the_root_or_to_nothing() {
    timed("hard links", || {
        let layer = LayerTar::new()
            .hardlink("var/lib/dpkg/status", "/etc/passwd")
            .hardlink("lib/apk/db/installed", "lib/apk/db/not-in-the-image")
            .hardlink("usr/lib/os-release", "usr/../../../etc/os-release")
            .finish();
        let dir = tempfile::tempdir().unwrap();
        write_layout(dir.path(), &[layer], Comp::Gzip);
        let (run, inv) = scan(dir.path());
        let inv = inv.unwrap_or_else(|| panic!("{}", run.stderr));
        assert!(
            has_warning(
                &inv,
                "/var/lib/dpkg/status",
                r#"hard link to "/etc/passwd" leaves the image root"#
            ),
            "{:?}",
            warnings(&inv)
        );
        assert!(has_warning(
            &inv,
            "/usr/lib/os-release",
            r#"hard link to "usr/../../../etc/os-release" leaves the image root"#
        ));
        // A hard link to a path no layer holds resolves to nothing: no package, and (for now)
        // no warning, as the target may come from a lower layer and only the merge, which
        // has no warning channel yet, can tell.
        assert_eq!(warnings(&inv).len(), 2, "{:?}", warnings(&inv));
        assert!(names(&inv).is_empty());
        assert!(inv["distro"].is_null());
    });
}

#[test]
fn ten_thousand_deep_directories() {
    timed("10,000-deep directories", || {
        let blob = stream(Comp::Gzip, |t| {
            let mut path = String::new();
            for _ in 0..10_000 {
                path.push_str("d/");
                t.entry(&path, b'5', 0, "");
            }
            t.file(&format!("{path}f"), b"deep");
            t.file("var/lib/dpkg/status", &status(&[("last", "1")]));
        });
        let dir = tempfile::tempdir().unwrap();
        layout_with_blob(dir.path(), &blob, None, GZIP);
        let (run, inv) = scan(dir.path());
        let inv = inv.unwrap_or_else(|| panic!("{}", run.stderr));
        assert_eq!(
            names(&inv),
            ["last"],
            "the entry after the deep tree is read"
        );
        // "d/" × 2048 is 4096 bytes: the levels below it, and the file, are refused.
        let w = warnings(&inv);
        assert_eq!(w.len(), 101, "100 listed and a count of the rest");
        assert!(
            w[..100].iter().all(
                |(f, p)| f.starts_with("d/d/d/") && p == "path longer than 4096 bytes: skipped"
            ),
            "{:?}",
            &w[..2]
        );
        let refused = 10_000 - 2048 + 1;
        assert_eq!(
            w[100].1,
            format!("{} more warnings in this layer not listed", refused - 100)
        );
    });
}

#[test]
fn a_million_entries() {
    timed("1,000,000 entries", || {
        let blob = stream(Comp::Gzip, |t| {
            for i in 0..1_000_000u32 {
                t.entry(&format!("m/{:03}/{i}", i % 1000), b'0', 0, "");
            }
            t.file("var/lib/dpkg/status", &status(&[("last", "1")]));
        });
        let dir = tempfile::tempdir().unwrap();
        layout_with_blob(dir.path(), &blob, None, GZIP);
        let (run, inv) = scan(dir.path());
        let inv = inv.unwrap_or_else(|| panic!("{}", run.stderr));
        assert_eq!(names(&inv), ["last"]);
        assert!(warnings(&inv).is_empty(), "{:?}", warnings(&inv));
    });
}

#[test]
fn pax_size_record_of_two_to_the_62() {
    timed("PAX size 2^62", || {
        let blob = stream(Comp::Gzip, |t| {
            t.file("etc/hostname", b"fine");
            t.pax(&[("size", &(1u64 << 62).to_string())]);
            t.file("var/lib/dpkg/status", &status(&[("liar", "1")]));
        });
        let dir = tempfile::tempdir().unwrap();
        layout_with_blob(dir.path(), &blob, None, GZIP);
        let (run, inv) = scan(dir.path());
        let inv = inv.unwrap_or_else(|| panic!("{}", run.stderr));
        assert!(
            has_warning(
                &inv,
                "/var/lib/dpkg/status",
                "4611686018427387904 bytes, over the 67108864-byte limit of the dpkg analyzer: skipped"
            ),
            "{:?}",
            warnings(&inv)
        );
        assert!(
            has_warning(&inv, "blobs/sha256/", "could not be read to the end"),
            "{:?}",
            warnings(&inv)
        );
        assert!(names(&inv).is_empty());
    });
}

#[test]
fn header_size_field_of_two_to_the_62() {
    timed("base-256 size 2^62", || {
        let blob = stream(Comp::Gzip, |t| {
            t.entry("usr/share/big", b'0', 1 << 62, "");
            t.padded(b"short");
        });
        let dir = tempfile::tempdir().unwrap();
        layout_with_blob(dir.path(), &blob, None, GZIP);
        let (run, inv) = scan(dir.path());
        let inv = inv.unwrap_or_else(|| panic!("{}", run.stderr));
        assert!(
            has_warning(&inv, "blobs/sha256/", "could not be read to the end"),
            "{:?}",
            warnings(&inv)
        );
    });
}

/// A PAX extended header claiming 2^62 bytes: the reader must not try to hold it.
#[test]
fn pax_extended_header_of_two_to_the_62_bytes() {
    timed("PAX header length 2^62", || {
        let blob = stream(Comp::Gzip, |t| {
            t.raw(&header(b"PaxHeaders/x", b'x', 1 << 62, b""));
            t.padded(b"30 path=var/lib/dpkg/status\n");
            t.file("var/lib/dpkg/status", &status(&[("after", "1")]));
        });
        let dir = tempfile::tempdir().unwrap();
        layout_with_blob(dir.path(), &blob, None, GZIP);
        let (run, inv) = scan(dir.path());
        let inv = inv.unwrap_or_else(|| panic!("{}", run.stderr));
        assert!(
            has_warning(
                &inv,
                "blobs/sha256/",
                "tar extension header (PAX or GNU long name) of 4611686018427387904 bytes, over the 1048576-byte limit"
            ),
            "{:?}",
            warnings(&inv)
        );
        assert!(names(&inv).is_empty());
    });
}

/// A PAX extended header that really is 600 MiB long, in an uncompressed layer (so no
/// bomb guard sees a ratio): held in memory it would pass the 1 GiB ceiling.
#[test]
fn pax_extended_header_that_really_is_huge() {
    timed("PAX header of 600 MiB", || {
        let dir = tempfile::tempdir().unwrap();
        let size: u64 = 600 << 20;
        let path = dir.path().join("layer.tar");
        {
            let f = std::io::BufWriter::new(std::fs::File::create(&path).unwrap());
            let mut t = TarOut { out: f };
            t.raw(&header(b"PaxHeaders/x", b'x', size, b""));
            let chunk = b"12 a=aaaaaa\n".repeat(1 << 16);
            let mut left = size;
            while left > 0 {
                let n = usize::try_from(left.min(chunk.len() as u64)).unwrap();
                t.raw(&chunk[..n]);
                left -= n as u64;
            }
            t.file("var/lib/dpkg/status", &status(&[("after", "1")]));
            t.end().flush().unwrap();
        }
        let blob = std::fs::read(&path).unwrap();
        std::fs::remove_file(&path).unwrap();
        let layout = dir.path().join("layout");
        layout_with_blob(&layout, &blob, None, PLAIN);
        drop(blob);
        let (run, inv) = scan(&layout);
        let inv = inv.unwrap_or_else(|| panic!("{}", run.stderr));
        assert!(
            has_warning(
                &inv,
                "blobs/sha256/",
                "tar extension header (PAX or GNU long name) of 629145600 bytes, over the 1048576-byte limit"
            ),
            "{:?}",
            warnings(&inv)
        );
    });
}

/// A tar cut in the middle of a header and in the middle of a file's data, each plain,
/// gzip- and zstd-compressed (the compressed streams themselves are whole: the tar inside is
/// what ends early). The layer below is still read; the cut file is named, never parsed as if
/// it were whole.
#[test]
fn truncated_tar_streams() {
    let base = LayerTar::new()
        .file("var/lib/dpkg/status", &status(&[("base", "1")]))
        .finish();
    let mut big = String::new();
    for i in 0..200 {
        big.push_str(&crate::common::dpkg_stanza(&format!("pkg{i}"), "1.0"));
    }
    let whole = LayerTar::new()
        .file("etc/hostname", b"x")
        .file("var/lib/dpkg/status", big.as_bytes())
        .finish();
    let status_at = 1024; // etc/hostname: header + one data block
    for (comp, label) in [
        (Comp::None, "plain"),
        (Comp::Gzip, "gzip"),
        (Comp::Zstd, "zstd"),
    ] {
        timed(&format!("truncated tar ({label})"), || {
            // Mid-header: 100 bytes into the status file's header.
            let cut = whole[..status_at + 100].to_vec();
            let blob = sha256_hex(&compress(&cut, comp));
            let dir = tempfile::tempdir().unwrap();
            write_layout(dir.path(), &[base.clone(), cut], comp);
            let (run, inv) = scan(dir.path());
            let inv = inv.unwrap_or_else(|| panic!("{label}: {}", run.stderr));
            assert_eq!(names(&inv), ["base"], "{label}");
            assert!(
                has_warning(&inv, &blob, "could not be read to the end"),
                "{label}: {:?}",
                warnings(&inv)
            );

            // Mid-data: half of the status file.
            let cut = whole[..status_at + 512 + big.len() / 2].to_vec();
            let blob = sha256_hex(&compress(&cut, comp));
            let dir = tempfile::tempdir().unwrap();
            write_layout(dir.path(), &[base.clone(), cut], comp);
            let (run, inv) = scan(dir.path());
            let inv = inv.unwrap_or_else(|| panic!("{label}: {}", run.stderr));
            assert!(
                has_warning(
                    &inv,
                    "/var/lib/dpkg/status",
                    &format!(
                        "cut short: the layer ends {} bytes into its {} bytes",
                        big.len() / 2,
                        big.len()
                    )
                ),
                "{label}: {:?}",
                warnings(&inv)
            );
            assert!(
                has_warning(&inv, &blob, "could not be read to the end"),
                "{label}: {:?}",
                warnings(&inv)
            );
            // The half-read status did not replace the lower layer's as if it were whole.
            assert_eq!(names(&inv), Vec::<String>::new(), "{label}");
        });
    }
}

#[test]
fn truncated_zstd_stream() {
    timed("truncated zstd stream", || {
        let base = LayerTar::new()
            .file("var/lib/dpkg/status", &status(&[("base", "1")]))
            .finish();
        let mut filler = LayerTar::new();
        for i in 0..2000 {
            filler = filler.file(&format!("junk/{i}"), format!("{i:0>4000}").as_bytes());
        }
        let z = compress(&filler.finish(), Comp::Zstd);
        let cut = &z[..z.len() / 2];
        let dir = tempfile::tempdir().unwrap();
        // One layout with two layers: the base (zstd) and the cut stream, declared by digest.
        let base_z = compress(&base, Comp::Zstd);
        super::layout_with_blobs(
            dir.path(),
            &[
                (
                    base_z.as_slice(),
                    "application/vnd.oci.image.layer.v1.tar+zstd",
                ),
                (cut, "application/vnd.oci.image.layer.v1.tar+zstd"),
            ],
        );
        let (run, inv) = scan(dir.path());
        let inv = inv.unwrap_or_else(|| panic!("{}", run.stderr));
        assert_eq!(names(&inv), ["base"]);
        assert!(
            has_warning(&inv, &sha256_hex(cut), "could not be read to the end"),
            "{:?}",
            warnings(&inv)
        );
    });
}
