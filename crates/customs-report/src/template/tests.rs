use std::io::Write as _;

use super::*;
use crate::html::tests::{fixture, opts};
use crate::report::Filter;

const MARKDOWN: &str = include_str!("../../templates/markdown.tmpl");
const CSV: &str = include_str!("../../templates/csv.tmpl");

fn scan(template: &str, name: &str) -> Result<String, TemplateError> {
    let report = fixture();
    render(
        template,
        name,
        Subject::Scan(&report, &Filter::default()),
        &opts(),
    )
}

fn err(template: &str, name: &str) -> TemplateError {
    scan(template, name).expect_err("the template should fail")
}

#[test]
fn markdown_example() {
    let out = scan(MARKDOWN, "markdown.tmpl").unwrap();
    let expected = "\
# customs scan of `registry.example/shop/api:2.4.1`

- Digest: `sha256:05b3abf2579a5eb66403cd78be557fd860633a1fe2103c7642030defe32c657f`
- Distribution: Debian GNU/Linux 12 (bookworm)
- Packages: 12
- Vulnerability data: newest advisory 2024-02-09T22:41:07.000000Z
- Written 2024-02-12T08:00:00Z by customs 0.1.0

> [!WARNING]
> **Not checked**, so this report cannot call these packages clean:
> - the vulnerability database has no advisories for PyPI packages: 3 of them went unchecked

## Summary

| Severity | Findings |
|---|---:|
| critical | 1 |
| high | 4 |
| medium | 2 |
| low | 2 |
| negligible | 0 |
| unknown | 0 |
| **total** | **9** |

8 fixable, 1 known exploited (CISA KEV), 2 suppressed by the vendor's verdict.

## Findings

| ID | Package | Installed | Severity | Fixed in | Layer |
|---|---|---|---|---|---:|
| CVE-2024-5535 | libssl3 | 3.0.11-1~deb12u2 | critical | 3.0.14-1~deb12u1 | 1 |
| CVE-2023-4911 (KEV) | libc6 | 2.36-9+deb12u1 | high | 2.36-9+deb12u3 | 0 |
| CVE-2024-2961 | libc6 | 2.36-9+deb12u1 | high | 2.36-9+deb12u6 | 0 |
| CVE-2024-6119 | libssl3 | 3.0.11-1~deb12u2 | high | 3.0.14-1~deb12u2 | 1 |
| CVE-2024-6119 | openssl | 3.0.11-1~deb12u2 | high | 3.0.14-1~deb12u2 | 1 |
| CVE-2023-46218 | curl | 7.88.1-10+deb12u4 | medium | 7.88.1-10+deb12u5 | 1 |
| CVE-2024-2398 | curl | 7.88.1-10+deb12u4 | medium | 7.88.1-10+deb12u6 | 1 |
| CVE-2023-5678 | libssl3 | 3.0.11-1~deb12u2 | low | 3.0.13-1~deb12u1 | 1 |
| CVE-2024-13176 | libssl3 | 3.0.11-1~deb12u2 | low | no fix | 1 |";
    assert_eq!(out, expected);
}

#[test]
fn markdown_example_renders_an_inventory_too() {
    let report = fixture();
    let out = render(
        MARKDOWN,
        "markdown.tmpl",
        Subject::Inventory(&report.inventory),
        &opts(),
    )
    .unwrap();
    assert!(
        out.contains("- Packages: 12\n- Written 2024-02-12T08:00:00Z"),
        "{out}"
    );
    assert!(!out.contains("## Findings"));
}

#[test]
fn csv_example() {
    let report = fixture();
    let all = Filter {
        show_suppressed: true,
        ..Filter::default()
    };
    let out = render(CSV, "csv.tmpl", Subject::Scan(&report, &all), &opts()).unwrap();
    let lines: Vec<&str> = out.lines().collect();
    assert_eq!(
        lines[0],
        "id,package,version,ecosystem,severity,status,fixed_versions,suppressed,cvss,epss,kev,layer,title"
    );
    assert_eq!(lines.len(), 1 + report.findings.len());
    assert_eq!(
        lines[1],
        "CVE-2023-46218,curl,7.88.1-10+deb12u4,deb,medium,fixed,7.88.1-10+deb12u5,,6.5,0.00183,no,1,\
         curl: information disclosure by exploiting a mixed case flaw"
    );
    let zlib = lines
        .iter()
        .find(|l| l.starts_with("CVE-2023-45853,"))
        .unwrap();
    assert_eq!(
        *zlib,
        "CVE-2023-45853,zlib1g,1:1.2.13.dfsg-1,deb,critical,wont-fix,,\
         wont-fix: ignored: contrib/minizip not built into src:zlib,9.8,0.01453,no,0,\
         zlib: integer overflow and resultant heap-based buffer overflow in zipOpenNewFileInZip4_6"
    );
    assert!(out.ends_with('\n'));
}

#[test]
fn csv_fields_are_quoted_and_never_formulas() {
    let mut report = fixture();
    report.findings[0].package.name = "=HYPERLINK(\"http://x\",\"y\")".to_owned();
    report.findings[0].title = Some("two\nlines, \"quoted\"".to_owned());
    let out = render(
        CSV,
        "csv.tmpl",
        Subject::Scan(&report, &Filter::default()),
        &opts(),
    )
    .unwrap();
    assert!(
        out.contains(",\"'=HYPERLINK(\"\"http://x\"\",\"\"y\"\")\","),
        "{out}"
    );
    assert!(out.contains(",\"two\nlines, \"\"quoted\"\"\"\n"), "{out}");
    for (input, field) in [
        ("plain", "plain"),
        ("+1", "'+1"),
        ("-cmd", "'-cmd"),
        ("@SUM(A1)", "'@SUM(A1)"),
        ("a,b", "\"a,b\""),
        ("", ""),
    ] {
        assert_eq!(csv_field(&Value::from(input)), field);
    }
    assert_eq!(csv_field(&Value::from(())), "");
    assert_eq!(csv_field(&Value::from(3)), "3");
}

#[test]
fn the_context_has_the_report_its_keys_and_the_document_settings() {
    let out = scan(
        "{{ report.schema }} {{ schema }} {{ findings|length }} {{ report.findings|length }} \
         {{ hidden }} {{ summary.suppressed }} {{ gaps[0].gap }} {{ gaps[0].ecosystem }} \
         {{ created }} {{ tool_version }} {{ image.layers|length }} {{ scanners|join(\",\") }} \
         {{ not_scanned|length }} {{ detections|length }} {{ detections_hidden }}",
        "t.txt",
    )
    .unwrap();
    assert_eq!(
        out,
        "customs.scan/1.9 customs.scan/1.9 9 9 2 2 not-covered pypi 2024-02-12T08:00:00Z 0.1.0 3 \
         vuln,secret,config,file 0 0 0"
    );
    let report = fixture();
    let out = render(
        "{{ schema }} {{ report.packages|length }} {{ findings is defined }} {{ summary is defined }}",
        "t.txt",
        Subject::Inventory(&report.inventory),
        &opts(),
    )
    .unwrap();
    // Jinja spells booleans the Python way.
    assert_eq!(out, "customs.inventory/1.2 12 False False");
}

#[test]
fn severity_filters_rank_by_severity_not_by_name() {
    let out = scan(
        "{{ 'critical'|severity_rank }}{{ 'Moderate'|severity_rank }}{{ 'unknown'|severity_rank }}",
        "t.txt",
    )
    .unwrap();
    assert_eq!(out, "530");
    let out = scan(
        "{% for f in findings|by_severity %}{{ f.severity[0] }}{% endfor %}",
        "t.txt",
    )
    .unwrap();
    assert_eq!(out, "chhhhmmll");
    let e = err("{{ 'severe'|severity_rank }}", "t.txt");
    assert!(e.to_string().contains("severe"), "{e}");
    let out = scan("{{ image.layers[0].diff_id|short_digest }}", "t.txt").unwrap();
    assert_eq!(out, "374aa538f3b5");
    assert_eq!(short_digest("sha256:0123456789abcdef"), "0123456789ab");
}

#[test]
fn html_templates_are_escaped_and_others_are_not() {
    let mut report = fixture();
    report.findings[0].package.name = "<b>&x</b>".to_owned();
    let t = "{{ findings[0].package.name }}";
    let out =
        |name: &str| render(t, name, Subject::Scan(&report, &Filter::default()), &opts()).unwrap();
    assert_eq!(out("r.html"), "&lt;b&gt;&amp;x&lt;&#x2f;b&gt;");
    assert_eq!(out("R.HTM"), "&lt;b&gt;&amp;x&lt;&#x2f;b&gt;");
    assert_eq!(out("r.html.j2"), "&lt;b&gt;&amp;x&lt;&#x2f;b&gt;");
    assert_eq!(out("r.md"), "<b>&x</b>");
    assert_eq!(out("r.json"), "<b>&x</b>");
    assert_eq!(out("html"), "<b>&x</b>");
    let safe = render(
        "{{ '<br>'|safe }}",
        "r.html",
        Subject::Scan(&report, &Filter::default()),
        &opts(),
    )
    .unwrap();
    assert_eq!(safe, "<br>");
}

#[test]
fn syntax_errors_name_the_file_and_line() {
    let e = err(
        "line one\n{% if findings %}\nok\n{% for f in %}\n{% endif %}\n",
        "r.md",
    );
    assert_eq!(e.line(), Some(4), "{e}");
    assert!(matches!(
        e,
        TemplateError::Template {
            kind: ErrorKind::SyntaxError,
            ..
        }
    ));
    let text = e.to_string();
    assert!(text.starts_with("r.md:4: syntax error: "), "{text}");
    assert!(text.ends_with("(in `{% for f in %}`)"), "{text}");

    let e = err("a\nb\n{% for f in findings %}\n{{ f.id }}\n", "r.md");
    assert!(e.to_string().starts_with("r.md:"), "{e}");
    assert!(e.line().is_some_and(|l| l >= 3), "{e}");
}

#[test]
fn undefined_values_fail_with_their_line() {
    let e = err("# title\n\n{{ findings[0].package.nme }}\n", "r.md");
    assert_eq!(e.line(), Some(3), "{e}");
    assert!(matches!(
        e,
        TemplateError::Template {
            kind: ErrorKind::UndefinedError,
            ..
        }
    ));
    assert!(
        e.to_string()
            .starts_with("r.md:3: undefined value (in `{{ findings[0].package.nme }}`)"),
        "{e}"
    );

    // Inside a loop, on the line of the bad expression, not the loop's.
    let e = err(
        "{% for f in findings %}\n{{ f.id }}\n{{ f.severty }}\n{% endfor %}",
        "r.md",
    );
    assert_eq!(e.line(), Some(3), "{e}");
    let e = err("{% for x in nothing %}{% endfor %}", "r.md");
    assert_eq!(e.line(), Some(1), "{e}");

    // Testing for one is fine: serde leaves some fields out when they are empty.
    let out = scan(
        "{% if findings[0].nope %}yes{% else %}no{% endif %} {{ nope is defined }}",
        "r.md",
    )
    .unwrap();
    assert_eq!(out, "no False");
}

#[test]
fn runaway_loops_run_out_of_fuel() {
    let e = err(
        "ok\n{% for a in range(100000) %}{% for b in range(100000) %}{% endfor %}{% endfor %}",
        "r.md",
    );
    assert!(
        matches!(
            e,
            TemplateError::Template {
                kind: ErrorKind::OutOfFuel,
                ..
            }
        ),
        "{e}"
    );
    assert_eq!(e.line(), Some(2), "{e}");
}

#[test]
fn the_examples_fit_a_large_report_s_fuel() {
    // 5,000 findings, as a large image with old packages has: the examples must not be
    // the templates that run out.
    let mut report = fixture();
    let base = report.findings.clone();
    report.findings = (0..5000)
        .map(|i| {
            let mut f = base[i % base.len()].clone();
            f.id = format!("CVE-2024-{i:05}");
            f
        })
        .collect();
    let all = Filter {
        show_suppressed: true,
        ..Filter::default()
    };
    for (t, name) in [(MARKDOWN, "markdown.tmpl"), (CSV, "csv.tmpl")] {
        let out = render(t, name, Subject::Scan(&report, &all), &opts()).unwrap();
        assert!(out.contains("CVE-2024-04999"), "{name}");
    }
}

#[test]
fn templates_read_nothing_else() {
    let e = err("{% include '/etc/passwd' %}", "r.md");
    assert!(
        matches!(
            e,
            TemplateError::Template {
                kind: ErrorKind::TemplateNotFound,
                ..
            }
        ),
        "{e}"
    );
}

#[test]
fn files_name_their_path_in_errors() {
    let dir = tempfile::tempdir().unwrap();
    let report = fixture();
    let subject = Subject::Scan(&report, &Filter::default());

    let missing = dir.path().join("missing.tmpl");
    let e = render_file(&missing, subject, &opts()).unwrap_err();
    assert!(matches!(e, TemplateError::Read { .. }));
    assert!(
        e.to_string()
            .starts_with(&format!("cannot read template {}: ", missing.display())),
        "{e}"
    );

    let bad = dir.path().join("bad.md");
    std::fs::write(&bad, "ok\n\n{{ findings|nosuchfilter }}\n").unwrap();
    let e = render_file(&bad, subject, &opts()).unwrap_err();
    assert_eq!(e.line(), Some(3));
    assert!(
        e.to_string()
            .starts_with(&format!("{}:3: unknown filter", bad.display())),
        "{e}"
    );

    let latin1 = dir.path().join("latin1.md");
    std::fs::write(&latin1, b"caf\xe9 {{ created }}").unwrap();
    let e = render_file(&latin1, subject, &opts()).unwrap_err();
    assert!(e.to_string().contains("not UTF-8 (byte 3)"), "{e}");

    let good = dir.path().join("report.html");
    std::fs::write(&good, "<p>{{ findings|length }} {{ '<' }}</p>").unwrap();
    assert_eq!(
        render_file(&good, subject, &opts()).unwrap(),
        "<p>9 &lt;</p>"
    );
}

#[test]
fn oversized_templates_are_refused() {
    let big = "x".repeat(usize::try_from(MAX_TEMPLATE_BYTES).unwrap() + 1);
    let e = err(&big, "big.md");
    assert!(matches!(e, TemplateError::TooLarge { size, .. } if size == MAX_TEMPLATE_BYTES + 1));

    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("big.md");
    let mut f = std::fs::File::create(&path).unwrap();
    f.write_all(big.as_bytes()).unwrap();
    f.write_all(&big.as_bytes()[..1000]).unwrap();
    drop(f);
    let report = fixture();
    let e = render_file(&path, Subject::Scan(&report, &Filter::default()), &opts()).unwrap_err();
    assert!(
        matches!(e, TemplateError::TooLarge { size, limit, .. } if size == MAX_TEMPLATE_BYTES + 1001 && limit == MAX_TEMPLATE_BYTES),
        "{e}"
    );
    // Exactly the limit is accepted.
    let fits = "x".repeat(usize::try_from(MAX_TEMPLATE_BYTES).unwrap());
    assert_eq!(scan(&fits, "fits.md").unwrap().len(), fits.len());
}

#[test]
fn fuel_grows_with_the_report() {
    assert!(fuel_for(0) < fuel_for(1000));
    assert_eq!(fuel_for(usize::MAX), u64::MAX);
}
