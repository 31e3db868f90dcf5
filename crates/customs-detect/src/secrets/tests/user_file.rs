//! The user's rule file: extending, overriding, disabling, allow-listing, and every error.

use super::*;

#[test]
fn user_rules_extend_and_override() {
    let set = user_rules(
        r#"
[[rules]]
id = "acme-token"
code = "secret-acme-token"
title = "ACME API token"
severity = "high"
keywords = ["acme_"]
regex = '\b(acme_[a-z0-9]{24})\b'
secret_group = 1
[rules.examples]
true_positives = ["ACME=acme_q2w3e4r5t6y7u8i9o0p1a2s3"]
false_positives = ["acme_short"]

[[rules]]
id = "github-pat"
code = "secret-github-token"
title = "GitHub token (ours)"
severity = "low"
keywords = ["ghp_"]
regex = '(ghp_[A-Za-z0-9]{36})'
[rules.examples]
true_positives = ["ghp_aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa"]
"#,
    )
    .unwrap();
    let n = RuleSet::builtin().rules().count();
    assert_eq!(set.rules().count(), n + 1);
    let hits = set.scan_text("x acme_q2w3e4r5t6y7u8i9o0p1a2s3 y");
    assert_eq!(rules_of(&hits), ["acme-token"]);
    assert_eq!(hits[0].code, "secret-acme-token");
    assert_eq!(hits[0].evidence, "x ******** y");
    let hits = set.scan_text("ghp_aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa");
    assert_eq!(rules_of(&hits), ["github-pat"]);
    assert_eq!(
        (hits[0].severity, hits[0].title.as_str()),
        (Severity::Low, "GitHub token (ours)")
    );
    assert_ne!(set.fingerprint(), RuleSet::builtin().fingerprint());
}

#[test]
fn user_file_disables_and_allows() {
    let gh = planted_gh_token();
    let id = planted_aws_id();
    let set = user_rules(
        r#"
disable = ["secret-jwt", "url-password"]

[allow]
paths = ["**/testdata/**", "/opt/vendor/*.pem"]

[[allow.entries]]
rule = "github-pat"
path = "/app/tests/**"
reason = "fixtures with revoked tokens"

[[allow.entries]]
rule = "secret-aws-access-key"
value = "^AKIAZ3MH"
reason = "the scanner corpus' fake key"
"#,
    )
    .unwrap();
    assert!(!set.rules().any(|r| r.id == "jwt" || r.id == "url-password"));
    assert!(!set.wants_path("/src/testdata/keys/a.txt"));
    assert!(!set.wants_path("/opt/vendor/a.pem"));
    assert!(
        set.wants_path("/opt/vendor/sub/a.pem"),
        "* stays within a segment"
    );
    assert!(set.wants_path("/app/main.py"));
    let mut stats = SecretStats::default();
    assert!(
        set.scan_file("/src/testdata/t", gh.as_bytes(), &mut stats)
            .is_empty()
    );
    assert_eq!(
        stats,
        SecretStats::default(),
        "an allowed path is not scanned"
    );
    assert!(
        set.scan_file("/app/tests/t.py", gh.as_bytes(), &mut stats)
            .is_empty()
    );
    assert_eq!(
        rules_of(&set.scan_file("/app/t.py", gh.as_bytes(), &mut stats)),
        ["github-pat"]
    );
    assert!(set.scan_text(&format!("ID={id}")).is_empty());
    assert!(
        set.redact(&format!("ID={id}")).contains(&id),
        "an allowed value is not a secret"
    );
    // A path entry never covers a text.
    assert_eq!(rules_of(&set.scan_text(&gh)), ["github-pat"]);
    assert!(
        set.scan_text("postgres://app:Zq3vT8nWp2@db.internal:5432/app")
            .is_empty()
    );
}

#[test]
fn user_file_errors_name_the_file_and_the_problem() {
    let cases: &[(&str, &[&str])] = &[
        (
            "[[allow.entries]]\nrule = \"github-pat\"\npath = \"/x/**\"\n",
            &["user.toml", "line 1", "no reason"],
        ),
        (
            "[[allow.entries]]\nrule = \"github-pat\"\nreason = \"  \"\n",
            &["no reason"],
        ),
        (
            "[[allow.entries]]\nreason = \"why not\"\n",
            &["every secret"],
        ),
        (
            "[[allow.entries]]\nrule = \"nope\"\nreason = \"typo\"\n",
            &["\"nope\"", "no rule"],
        ),
        (
            "disable = [\"no-such-rule\"]\n",
            &["line 1", "no-such-rule"],
        ),
        ("[allow]\npaths = [\"a/{b\"]\n", &["bad glob"]),
        ("rules = 3 4\n", &["user.toml", "line 1"]),
        ("[[rules]]\nid = \"x\"\n", &["user.toml", "missing field"]),
        ("unknown = 1\n", &["unknown field"]),
        (
            "\n\n[[rules]]\nid = \"bad-re\"\ncode = \"secret-x\"\ntitle = \"t\"\nseverity = \"high\"\nkeywords = [\"k\"]\nregex = 'k(['\n",
            &["line 3", "rule `bad-re`", "bad regex"],
        ),
        (
            "[[rules]]\nid = \"sev\"\ncode = \"secret-x\"\ntitle = \"t\"\nseverity = \"dire\"\nkeywords = [\"k\"]\nregex = 'k'\n",
            &["rule `sev`", "unknown severity"],
        ),
        (
            "[[rules]]\nid = \"Bad_Id\"\ncode = \"secret-x\"\ntitle = \"t\"\nseverity = \"low\"\nkeywords = [\"k\"]\nregex = 'k'\n",
            &["kebab-case"],
        ),
        (
            "[[rules]]\nid = \"c\"\ncode = \"x-token\"\ntitle = \"t\"\nseverity = \"low\"\nkeywords = [\"k\"]\nregex = 'k'\n",
            &["secret-"],
        ),
        (
            "[[rules]]\nid = \"noex\"\ncode = \"secret-x\"\ntitle = \"t\"\nseverity = \"low\"\nkeywords = [\"k\"]\nregex = 'k'\n",
            &["rule `noex`", "true positive"],
        ),
        (
            "[[rules]]\nid = \"nokw\"\ncode = \"secret-x\"\ntitle = \"t\"\nseverity = \"low\"\nregex = 'k'\n[rules.examples]\ntrue_positives = [\"k\"]\n",
            &["no keywords"],
        ),
        (
            "[[rules]]\nid = \"tp\"\ncode = \"secret-x\"\ntitle = \"t\"\nseverity = \"low\"\nkeywords = [\"tok\"]\nregex = 'tok[0-9]+'\n[rules.examples]\ntrue_positives = [\"tok1\", \"tokX\"]\n",
            &["rule `tp`", "true_positives[1]"],
        ),
        (
            "[[rules]]\nid = \"kw\"\ncode = \"secret-x\"\ntitle = \"t\"\nseverity = \"low\"\nkeywords = [\"zzz\"]\nregex = 'tok[0-9]+'\n[rules.examples]\ntrue_positives = [\"tok1\"]\n",
            &["rule `kw`", "true_positives[0]", "keywords"],
        ),
        (
            "[[rules]]\nid = \"fp\"\ncode = \"secret-x\"\ntitle = \"t\"\nseverity = \"low\"\nkeywords = [\"tok\"]\nregex = 'tok[0-9]+'\n[rules.examples]\ntrue_positives = [\"tok1\"]\nfalse_positives = [\"tok2\"]\n",
            &["rule `fp`", "false_positives[0]"],
        ),
        (
            "[[rules]]\nid = \"grp\"\ncode = \"secret-x\"\ntitle = \"t\"\nseverity = \"low\"\nkeywords = [\"tok\"]\nregex = 'tok[0-9]+'\nsecret_group = 2\n[rules.examples]\ntrue_positives = [\"tok1\"]\n",
            &["secret_group 2"],
        ),
        (
            "[[rules]]\nid = \"p\"\ncode = \"secret-x\"\ntitle = \"t\"\nseverity = \"low\"\npaths = [\"**/.tokrc\"]\nregex = 'tok[0-9]+'\n[rules.examples]\ntrue_positives = [\"tok1\"]\n",
            &["examples need one too"],
        ),
        (
            "[[rules]]\nid = \"d\"\ncode = \"secret-x\"\ntitle = \"t\"\nseverity = \"low\"\nkeywords = [\"tok\"]\nregex = 'tok[0-9]+'\ndecode = \"rot13\"\n[rules.examples]\ntrue_positives = [\"tok1\"]\n",
            &["decode \"rot13\""],
        ),
    ];
    for (text, wants) in cases {
        let e = user_rules(text).map(|_| ()).unwrap_err();
        assert_eq!(e.file, "user.toml");
        let shown = e.to_string();
        for w in *wants {
            assert!(shown.contains(w), "{text}\n=> {shown}\n(wanted {w:?})");
        }
    }
}

#[test]
fn with_file_reads_the_file_and_names_it() {
    let dir = tempfile::tempdir().unwrap();
    let good = dir.path().join("rules.toml");
    std::fs::write(&good, "disable = [\"generic-assignment\"]\n").unwrap();
    let set = RuleSet::with_file(&good).unwrap();
    assert!(!set.rules().any(|r| r.code == "secret-generic-assignment"));
    let bad = dir.path().join("bad.toml");
    std::fs::write(&bad, "[[rules]\n").unwrap();
    let e = RuleSet::with_file(&bad).unwrap_err();
    assert!(
        e.file.ends_with("bad.toml") && e.problem.contains("line 1"),
        "{e}"
    );
    let e = RuleSet::with_file(&dir.path().join("missing.toml")).unwrap_err();
    assert!(e.problem.contains("cannot read"), "{e}");
}

#[test]
fn user_path_rules_run_on_their_files_only() {
    let set = user_rules(
        r#"
[[rules]]
id = "tokrc"
code = "secret-tokrc"
title = "Token in .tokrc"
severity = "medium"
paths = ["**/.tokrc"]
regex = '(?m)^token\s*=\s*(\S+)'
secret_group = 1
[rules.examples]
path = "/root/.tokrc"
true_positives = ["token = abc"]
"#,
    )
    .unwrap();
    assert_eq!(
        rules_of(&set.scan_file(
            "/home/u/.tokrc",
            b"token = s3cret",
            &mut SecretStats::default()
        )),
        ["tokrc"]
    );
    assert!(
        set.scan_file(
            "/home/u/tokrc",
            b"token = s3cret",
            &mut SecretStats::default()
        )
        .is_empty()
    );
    assert!(set.scan_text("token = s3cret").is_empty());
}

#[test]
fn the_documented_rule_file_loads() {
    let doc = std::fs::read_to_string(concat!(
        env!("CARGO_MANIFEST_DIR"),
        "/../../docs/secrets.md"
    ))
    .expect("docs/secrets.md");
    let block = doc
        .split("```toml\n")
        .nth(1)
        .and_then(|b| b.split("```").next())
        .expect("a toml block in docs/secrets.md");
    let set = user_rules(block).unwrap_or_else(|e| panic!("{e}"));
    assert!(!set.wants_path("/usr/share/doc/x/README"));
    let token = ["acme_", "q2w3e4r5t6y7u8i9o0p1a2s3"].concat();
    assert_eq!(
        rules_of(&set.scan_text(&format!("T={token}"))),
        ["acme-token"]
    );
    assert!(set.scan_text(&planted_aws_id()).is_empty());
}
