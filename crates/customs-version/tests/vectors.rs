//! Every comparison vector of OSV's `semantic` test data for deb, rpm, apk, PyPI, SemVer (npm,
//! crates.io, Go), Maven, RubyGems, Packagist (Composer) and NuGet must hold, every one of them:
//! a single failing line fails the test.
//!
//! The files live in `shared/data/versions/osv-semantic/`, beside the work tree. Each line is
//! `A op B` with `op` one of `<`, `=`, `>`; blank lines and `#` or `//` comments are skipped. A
//! vector is checked in both directions, and every failing line is reported with its line
//! number before the test fails. A missing or empty file fails the test: these tests never pass
//! by checking nothing.
//!
//! Besides the vectors themselves, every distinct version of a file is checked for
//! consistency: the typed version prints back as given and parses again to an equal value, and
//! sorting them all with [`compare`] gives a sequence that is ordered pair by pair (which a
//! comparison that is not a total order fails, or makes `sort_by` panic). That last check
//! cannot hold where the reference ordering itself is not transitive on the file's versions
//! (Maven's `ComparableVersion`); such a file names a cycle instead, made of its own vector
//! lines, and the test checks that the lines say so and that [`compare`] answers each step as
//! they do.

use std::cmp::Ordering;
use std::fmt::Write as _;
use std::str::FromStr;

use customs_version::{
    ApkVersion, CargoVersion, ComposerVersion, DebVersion, Ecosystem, GemVersion, GoVersion,
    MavenVersion, NpmVersion, NuGetVersion, PypiVersion, RpmVersion, compare,
};

macro_rules! vectors {
    ($name:literal) => {
        (
            concat!(
                env!("CARGO_MANIFEST_DIR"),
                "/../../../shared/data/versions/osv-semantic/",
                $name
            ),
            $name,
        )
    };
}

/// One `A op B` line.
struct Vector<'a> {
    line: usize,
    text: &'a str,
    a: &'a str,
    b: &'a str,
    expected: Ordering,
}

fn parse_line(line: usize, text: &str) -> Result<Option<Vector<'_>>, String> {
    let content = text.trim();
    if content.is_empty() || content.starts_with('#') || content.starts_with("//") {
        return Ok(None);
    }
    let fields: Vec<&str> = content.split_whitespace().collect();
    let [a, op, b] = fields[..] else {
        return Err(format!("line {line}: expected `A op B`, found {text:?}"));
    };
    let expected = match op {
        "<" => Ordering::Less,
        "=" => Ordering::Equal,
        ">" => Ordering::Greater,
        _ => return Err(format!("line {line}: unknown operator {op:?} in {text:?}")),
    };
    Ok(Some(Vector {
        line,
        text: content,
        a,
        b,
        expected,
    }))
}

fn symbol(o: Ordering) -> &'static str {
    match o {
        Ordering::Less => "<",
        Ordering::Equal => "=",
        Ordering::Greater => ">",
    }
}

fn show(result: &Result<Ordering, customs_version::VersionError>) -> String {
    match result {
        Ok(o) => symbol(*o).to_owned(),
        Err(e) => format!("error ({e})"),
    }
}

/// Checks one vector; `typed` compares the parsed version types when both sides parse, so
/// that their `Ord` and `==` are held to the same vectors as [`compare`].
fn check(
    eco: Ecosystem,
    v: &Vector<'_>,
    typed: fn(&str, &str) -> Option<(Ordering, bool)>,
    failures: &mut Vec<String>,
) {
    let forward = compare(eco, v.a, v.b);
    let backward = compare(eco, v.b, v.a);
    if forward.as_ref().ok() != Some(&v.expected)
        || backward.as_ref().ok() != Some(&v.expected.reverse())
    {
        failures.push(format!(
            "line {}: `{}`: compare(A, B) gave {}, compare(B, A) gave {}",
            v.line,
            v.text,
            show(&forward),
            show(&backward)
        ));
        return;
    }
    for side in [v.a, v.b] {
        let itself = compare(eco, side, side);
        if itself.as_ref().ok() != Some(&Ordering::Equal) {
            failures.push(format!(
                "line {}: `{}`: {side} vs itself gave {}",
                v.line,
                v.text,
                show(&itself)
            ));
        }
    }
    if let Some((order, equal)) = typed(v.a, v.b)
        && (order != v.expected || equal != (v.expected == Ordering::Equal))
    {
        failures.push(format!(
            "line {}: `{}`: the parsed versions gave {} and == {equal}",
            v.line,
            v.text,
            symbol(order)
        ));
    }
}

fn typed<T: FromStr + Ord>(a: &str, b: &str) -> Option<(Ordering, bool)> {
    let (a, b) = (T::from_str(a).ok()?, T::from_str(b).ok()?);
    Some((a.cmp(&b), a == b))
}

/// For a version that parses as `T`: whether it prints back as given and parses again to an
/// equal value. `None` when it does not parse.
fn round_trip<T: FromStr + Ord + std::fmt::Display>(v: &str) -> Option<bool> {
    let parsed = T::from_str(v).ok()?;
    let shown = parsed.to_string();
    Some(shown == v && T::from_str(&shown).is_ok_and(|again| again == parsed))
}

/// Checks that the typed versions print and parse back; returns how many of `versions` are
/// valid typed versions.
fn check_round_trips(
    versions: &[&str],
    round_trip: fn(&str) -> Option<bool>,
    failures: &mut Vec<String>,
) -> usize {
    let mut typed_count = 0;
    for v in versions {
        match round_trip(v) {
            Some(true) => typed_count += 1,
            Some(false) => failures.push(format!("{v:?} does not print and parse back")),
            None => {}
        }
    }
    typed_count
}

/// Checks that the typed versions print and parse back, and that `compare` sorts `versions`
/// consistently; returns how many of them are valid typed versions.
fn check_consistency(
    eco: Ecosystem,
    versions: &mut [&str],
    round_trip: fn(&str) -> Option<bool>,
    failures: &mut Vec<String>,
) -> usize {
    let typed_count = check_round_trips(versions, round_trip, failures);
    let cmp = |a: &&str, b: &&str| compare(eco, a, b).unwrap_or(Ordering::Equal);
    versions.sort_by(cmp);
    // Adjacent pairs, and pairs further apart, must be in order.
    for gap in [1, 2, 7, 61, 997] {
        for (a, b) in versions.iter().zip(versions.iter().skip(gap)) {
            if cmp(a, b) == Ordering::Greater {
                failures.push(format!("sorted {a:?} before {b:?}, which compares greater"));
            }
        }
    }
    typed_count
}

/// How the distinct versions of a file are checked against one another.
enum Sorting {
    /// The reference ordering is a total order on them: sorting them with [`compare`] gives a
    /// sequence ordered pair by pair.
    Total,
    /// The reference ordering is not transitive on them, so no sort can be consistent: the
    /// cycle, as the file's vectors state it.
    Cycle(&'static Cycle),
}

/// A cycle `A₀ op A₁ op … op A₀` (each `op` `<` or `=`, at least one `<`), so no total order
/// agrees with the steps.
struct Cycle {
    /// The steps in order: the vector line that states it (`None` for a step no line states,
    /// which [`compare`] must answer all the same), and the vector as the file has it.
    steps: &'static [(Option<usize>, &'static str)],
    why: &'static str,
}

/// Checks that `cycle` is a cycle, that its lines read as recorded, and that [`compare`]
/// answers every step as stated.
fn check_cycle(eco: Ecosystem, text: &str, cycle: &Cycle, failures: &mut Vec<String>) {
    let lines: Vec<&str> = text.lines().collect();
    let mut steps = Vec::new();
    for &(line, step) in cycle.steps {
        if let Some(line) = line
            && lines.get(line - 1).map(|l| l.trim()) != Some(step)
        {
            failures.push(format!(
                "the cycle's step `{step}` is not line {line} ({:?}): {}",
                lines.get(line - 1),
                cycle.why
            ));
        }
        match parse_line(line.unwrap_or(0), step) {
            Ok(Some(v)) => steps.push(v),
            _ => failures.push(format!("the cycle's step `{step}` is not `A op B`")),
        }
    }
    let linked = steps
        .iter()
        .zip(steps.iter().cycle().skip(1))
        .all(|(x, y)| x.b == y.a);
    let strict = steps.iter().any(|v| v.expected == Ordering::Less)
        && steps.iter().all(|v| v.expected != Ordering::Greater);
    if !linked || !strict {
        failures.push(format!("the steps {:?} are not a cycle", cycle.steps));
    }
    for v in &steps {
        let got = compare(eco, v.a, v.b);
        if got.as_ref().ok() != Some(&v.expected) {
            failures.push(format!(
                "the cycle's step `{}` gave {}: {}",
                v.text,
                show(&got),
                cycle.why
            ));
        }
    }
}

/// Checks every vector of a file and fails with the full list of failing lines.
#[expect(
    clippy::print_stdout,
    reason = "the count of vectors checked is part of the test's report"
)]
fn run(
    eco: Ecosystem,
    (path, name): (&str, &str),
    typed: fn(&str, &str) -> Option<(Ordering, bool)>,
    round_trip: fn(&str) -> Option<bool>,
    sorting: Sorting,
) {
    let text = std::fs::read_to_string(path).unwrap_or_else(|e| {
        panic!("cannot read the vector file {path}: {e}; it belongs in shared/data")
    });
    let mut failures = Vec::new();
    let mut checked = 0;
    let mut versions = Vec::new();
    for (index, line) in text.lines().enumerate() {
        match parse_line(index + 1, line) {
            Ok(Some(vector)) => {
                check(eco, &vector, typed, &mut failures);
                versions.extend([vector.a, vector.b]);
                checked += 1;
            }
            Ok(None) => {}
            Err(malformed) => failures.push(malformed),
        }
    }
    let failed_vectors = failures.len();
    versions.sort_unstable();
    versions.dedup();
    let typed_count = match sorting {
        Sorting::Total => check_consistency(eco, &mut versions, round_trip, &mut failures),
        Sorting::Cycle(cycle) => {
            check_cycle(eco, &text, cycle, &mut failures);
            check_round_trips(&versions, round_trip, &mut failures)
        }
    };
    println!(
        "{name}: {} of {checked} {eco} vectors hold; {} distinct versions ({typed_count} valid \
         as the typed version); {} failures in all",
        checked - failed_vectors,
        versions.len(),
        failures.len()
    );
    assert!(checked > 0, "{path} holds no vectors");
    if !failures.is_empty() {
        let mut report = format!(
            "{failed_vectors} of {checked} vectors in {name} failed, {} failures in all:\n",
            failures.len()
        );
        for failure in &failures {
            let _ = writeln!(report, "  {failure}");
        }
        panic!("{report}");
    }
}

#[test]
fn debian_versions() {
    run(
        Ecosystem::Deb,
        vectors!("debian-versions.txt"),
        typed::<DebVersion>,
        round_trip::<DebVersion>,
        Sorting::Total,
    );
}

#[test]
fn debian_versions_generated() {
    run(
        Ecosystem::Deb,
        vectors!("debian-versions-generated.txt"),
        typed::<DebVersion>,
        round_trip::<DebVersion>,
        Sorting::Total,
    );
}

#[test]
fn redhat_versions() {
    run(
        Ecosystem::Rpm,
        vectors!("redhat-versions.txt"),
        typed::<RpmVersion>,
        round_trip::<RpmVersion>,
        Sorting::Total,
    );
}

#[test]
fn alpine_versions() {
    run(
        Ecosystem::Apk,
        vectors!("alpine-versions.txt"),
        typed::<ApkVersion>,
        round_trip::<ApkVersion>,
        Sorting::Total,
    );
}

#[test]
fn alpine_versions_generated() {
    run(
        Ecosystem::Apk,
        vectors!("alpine-versions-generated.txt"),
        typed::<ApkVersion>,
        round_trip::<ApkVersion>,
        Sorting::Total,
    );
}

#[test]
fn pypi_versions() {
    run(
        Ecosystem::PyPI,
        vectors!("pypi-versions.txt"),
        typed::<PypiVersion>,
        round_trip::<PypiVersion>,
        Sorting::Total,
    );
}

#[test]
fn pypi_versions_generated() {
    run(
        Ecosystem::PyPI,
        vectors!("pypi-versions-generated.txt"),
        typed::<PypiVersion>,
        round_trip::<PypiVersion>,
        Sorting::Total,
    );
}

/// OSV's SemVer vectors hold for each ecosystem that OSV orders by SemVer.
#[test]
fn semver_versions_npm() {
    run(
        Ecosystem::Npm,
        vectors!("semver-versions.txt"),
        typed::<NpmVersion>,
        round_trip::<NpmVersion>,
        Sorting::Total,
    );
}

#[test]
fn semver_versions_cargo() {
    run(
        Ecosystem::Cargo,
        vectors!("semver-versions.txt"),
        typed::<CargoVersion>,
        round_trip::<CargoVersion>,
        Sorting::Total,
    );
}

#[test]
fn semver_versions_go() {
    run(
        Ecosystem::Go,
        vectors!("semver-versions.txt"),
        typed::<GoVersion>,
        round_trip::<GoVersion>,
        Sorting::Total,
    );
}

/// maven-versions-generated.txt was made with maven-artifact 3.8.6 (osv-scanner's
/// `GenerateMavenVersions.java`) by sorting each package's versions, and 3.8.6's
/// `ComparableVersion` is not transitive: `2.9.0.RC3` < `2.9.0` (the `0` is skipped against
/// the end, and `RC3` is older than the release), `2.9.0` < `2.9.0-1`, and `2.9.0-1` <
/// `2.9.0.RC1` (a nested list is older than a number, here the `0`). Lines 5774 to 5777 state
/// four steps of that cycle; the fifth, `2.9.0.RC2` < `2.9.0.RC3`, is what line 5771 states for
/// 2.8.2 and every Maven answers.
const MAVEN_GENERATED_CYCLE: Cycle = Cycle {
    steps: &[
        (Some(5774), "2.9.0.RC3 < 2.9.0"),
        (Some(5775), "2.9.0 < 2.9.0-1"),
        (Some(5776), "2.9.0-1 < 2.9.0.RC1"),
        (Some(5777), "2.9.0.RC1 < 2.9.0.RC2"),
        (None, "2.9.0.RC2 < 2.9.0.RC3"),
    ],
    why: "maven-artifact 3.8.6's ComparableVersion, which made the file, is not transitive",
};

#[test]
fn maven_versions() {
    run(
        Ecosystem::Maven,
        vectors!("maven-versions.txt"),
        typed::<MavenVersion>,
        round_trip::<MavenVersion>,
        Sorting::Total,
    );
}

#[test]
fn maven_versions_generated() {
    run(
        Ecosystem::Maven,
        vectors!("maven-versions-generated.txt"),
        typed::<MavenVersion>,
        round_trip::<MavenVersion>,
        Sorting::Cycle(&MAVEN_GENERATED_CYCLE),
    );
}

#[test]
fn nuget_versions() {
    run(
        Ecosystem::NuGet,
        vectors!("nuget-versions.txt"),
        typed::<NuGetVersion>,
        round_trip::<NuGetVersion>,
        Sorting::Total,
    );
}

#[test]
fn packagist_versions() {
    run(
        Ecosystem::Composer,
        vectors!("packagist-versions.txt"),
        typed::<ComposerVersion>,
        round_trip::<ComposerVersion>,
        Sorting::Total,
    );
}

#[test]
fn packagist_versions_generated() {
    run(
        Ecosystem::Composer,
        vectors!("packagist-versions-generated.txt"),
        typed::<ComposerVersion>,
        round_trip::<ComposerVersion>,
        Sorting::Total,
    );
}

#[test]
fn rubygems_versions() {
    run(
        Ecosystem::Gem,
        vectors!("rubygems-versions.txt"),
        typed::<GemVersion>,
        round_trip::<GemVersion>,
        Sorting::Total,
    );
}

#[test]
fn rubygems_versions_generated() {
    run(
        Ecosystem::Gem,
        vectors!("rubygems-versions-generated.txt"),
        typed::<GemVersion>,
        round_trip::<GemVersion>,
        Sorting::Total,
    );
}

#[test]
fn malformed_lines_are_reported() {
    assert!(parse_line(1, "1.0 <= 2.0").is_err());
    assert!(parse_line(2, "1.0 <").is_err());
    assert!(parse_line(3, "  # comment").unwrap().is_none());
    assert!(parse_line(3, "// epoch comparing").unwrap().is_none());
    assert!(parse_line(4, "").unwrap().is_none());
    let v = parse_line(5, " 1.0  >  0.9 ").unwrap().unwrap();
    assert_eq!(
        (v.a, v.b, v.expected, v.line),
        ("1.0", "0.9", Ordering::Greater, 5)
    );
}
