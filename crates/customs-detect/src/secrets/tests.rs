//! The secret scanner's tests. Secret-shaped values are assembled at run time (as
//! `shared/tools/build-images.sh` does), so this file holds none whole.

use super::*;

mod user_file;

/// The fake values the debian-app image plants (`fake_secret_strings`).
fn planted_aws_id() -> String {
    ["AKIA", "Z3MHQF7XW5TKD2PQ"].concat()
}
fn planted_aws_secret() -> String {
    ["q8J2nV5xR+3kLm0P", "a7TzW9yB4cD6eF1gH2iJ3kL4"].concat()
}
fn planted_gh_token() -> String {
    ["ghp", "_", "x7K2mN9pQ4rS6tU8vW0yZ1aB3cD5eF7gH9iJ"].concat()
}
fn fake_pem() -> String {
    let body = [
        "wDM0YE8baU8zHvztVgO91vNNtgTZInndlKOca1lPr8NBXc1wlAs9Dq62qj/tzu7h",
        "0t5P7PdG3PzQDyR99VRpLYQUnomlHv+vpCxzXmGZClQP+cP9goses94CNtVwNCpL",
        "r3cBjo2x8EhdsctSmZ/MW+sJrWs1LvxIcNUfo4Vhbd3El64WDxt1x6tDKlZEa3OF",
    ]
    .join("\n");
    format!(
        "-----BEGIN RSA {k}-----\n{body}\n-----END RSA {k}-----\n",
        k = "PRIVATE KEY"
    )
}

fn scan(path: &str, text: &str) -> Vec<SecretHit> {
    RuleSet::builtin().scan_file(path, text.as_bytes(), &mut SecretStats::default())
}

fn rules_of(hits: &[SecretHit]) -> Vec<&str> {
    hits.iter().map(|h| h.rule.as_str()).collect()
}

fn user_rules(text: &str) -> Result<RuleSet, RuleError> {
    RuleSet::with_toml("user.toml", text)
}

/// The values rule `r` confirms in an example (what evidence must never show).
fn secrets_in(set: &RuleSet, r: usize, path: Option<&str>, text: &str) -> Vec<String> {
    let opts = scan::Opts {
        path,
        entries: false,
        inline: false,
        only: Some(r),
    };
    scan::run(set, text.as_bytes(), &opts)
        .masked
        .into_iter()
        .map(|s| String::from_utf8_lossy(&text.as_bytes()[s]).into_owned())
        .collect()
}

// ---------------------------------------------------------------------------- the rules

#[test]
fn every_builtin_example() {
    let set = RuleSet::builtin();
    let mut checked = 0;
    for (r, rule) in set.rules.iter().enumerate() {
        let path = rule.examples.path.as_deref().unwrap_or("/srv/example.txt");
        assert!(
            !rule.examples.true_positives.is_empty(),
            "{}: no true positive",
            rule.id
        );
        for (i, tp) in rule.examples.true_positives.iter().enumerate() {
            let hits = set.scan_file(path, tp.as_bytes(), &mut SecretStats::default());
            let mine: Vec<_> = hits.iter().filter(|h| h.rule == rule.id).collect();
            assert!(
                !mine.is_empty(),
                "{} true_positives[{i}] yields no hit of its rule: {hits:?}",
                rule.id
            );
            if rule.paths.is_none() {
                let from_text = set.scan_text(tp);
                assert!(
                    from_text.iter().any(|h| h.rule == rule.id),
                    "{} true_positives[{i}] as a text: {from_text:?}",
                    rule.id
                );
            }
            for secret in secrets_in(&set, r, Some(path), tp) {
                for h in &hits {
                    assert!(
                        !h.evidence.contains(&secret),
                        "{}: evidence shows the secret: {}",
                        rule.id,
                        h.evidence
                    );
                }
                assert!(h_code_ok(&mine[0].code));
                checked += 1;
            }
        }
        for (i, fp) in rule.examples.false_positives.iter().enumerate() {
            let hits = set.scan_file(path, fp.as_bytes(), &mut SecretStats::default());
            assert!(
                hits.iter().all(|h| h.rule != rule.id),
                "{} false_positives[{i}] yields a hit of its rule: {hits:?}",
                rule.id
            );
        }
        scan::check_examples(&set, r).unwrap_or_else(|e| panic!("{}: {e}", rule.id));
    }
    assert!(checked > 40, "only {checked} secrets checked");
}

fn h_code_ok(code: &str) -> bool {
    code.starts_with("secret-") && !code.contains(char::is_uppercase)
}

#[test]
fn builtin_rules_have_the_required_ids_and_codes() {
    let set = RuleSet::builtin();
    let rules: Vec<_> = set.rules().collect();
    let mut ids: Vec<_> = rules.iter().map(|r| r.id).collect();
    ids.sort_unstable();
    let n = ids.len();
    ids.dedup();
    assert_eq!(ids.len(), n, "duplicate rule ids");
    for (id, code) in [
        ("aws-access-key-id", "secret-aws-access-key"),
        ("aws-secret-access-key", "secret-aws-secret-key"),
        ("gcp-service-account", "secret-gcp-service-account"),
        ("azure-storage-key", "secret-azure-storage-key"),
        ("github-pat", "secret-github-token"),
        ("github-fine-grained-pat", "secret-github-token"),
        ("github-oauth-token", "secret-github-token"),
        ("github-app-token", "secret-github-token"),
        ("github-refresh-token", "secret-github-token"),
        ("gitlab-pat", "secret-gitlab-token"),
        ("slack-token", "secret-slack-token"),
        ("slack-webhook", "secret-slack-webhook"),
        ("stripe-key", "secret-stripe-key"),
        ("private-key", "secret-private-key"),
        ("jwt", "secret-jwt"),
        ("url-password", "secret-url-password"),
        ("npmrc-auth", "secret-npmrc-auth"),
        ("pypirc-password", "secret-pypirc-password"),
        ("netrc-password", "secret-netrc-password"),
        ("docker-config-auth", "secret-docker-config-auth"),
        ("generic-assignment", "secret-generic-assignment"),
    ] {
        assert!(
            rules.iter().any(|r| r.id == id && r.code == code),
            "no rule {id} with code {code}"
        );
    }
    assert_eq!(RuleSet::builtin().fingerprint().len(), 16);
    assert_eq!(RuleSet::builtin().fingerprint(), set.fingerprint());
}

// ------------------------------------------------------------------- the planted secrets

#[test]
fn debian_app_planted_secrets() {
    let (id, secret, gh) = (planted_aws_id(), planted_aws_secret(), planted_gh_token());
    let env = format!(
        "APP_ENV=production\nAWS_ACCESS_KEY_ID={id}\nAWS_SECRET_ACCESS_KEY={secret}\nAWS_DEFAULT_REGION=eu-west-1\n"
    );
    let hits = scan("/app/config/.env", &env);
    assert_eq!(
        rules_of(&hits),
        ["aws-access-key-id", "aws-secret-access-key"],
        "{hits:?}"
    );
    assert_eq!((hits[0].line, hits[1].line), (2, 3));
    assert_eq!(hits[0].evidence, "AWS_ACCESS_KEY_ID=********");
    assert_eq!(hits[1].evidence, "AWS_SECRET_ACCESS_KEY=********");
    assert_eq!(hits[0].code, "secret-aws-access-key");
    assert_eq!(hits[0].severity, Severity::Critical);

    let creds = format!("[default]\naws_access_key_id = {id}\naws_secret_access_key = {secret}\n");
    let hits = scan("/home/app/.aws/credentials", &creds);
    assert_eq!(
        rules_of(&hits),
        ["aws-access-key-id", "aws-secret-access-key"],
        "{hits:?}"
    );
    assert_eq!(hits[1].evidence, "aws_secret_access_key = ********");

    let deploy = format!(
        "#!/bin/sh\n# deploy helper\nexport GITHUB_TOKEN={gh}\ngit clone https://github.com/example/demo.git\n"
    );
    let hits = scan("/app/config/deploy.sh", &deploy);
    assert_eq!(rules_of(&hits), ["github-pat"], "{hits:?}");
    assert_eq!(hits[0].line, 3);

    let hits = scan("/home/app/.ssh/id_rsa", &fake_pem());
    assert_eq!(rules_of(&hits), ["private-key"], "{hits:?}");
    assert_eq!(hits[0].line, 1);
    assert_eq!(hits[0].evidence, "-----BEGIN RSA PRIVATE KEY-----");
}

#[test]
fn config_env_and_history() {
    let gh = planted_gh_token();
    let set = RuleSet::builtin();
    let hits = set.scan_text(&format!("GITHUB_TOKEN={gh}"));
    assert_eq!(rules_of(&hits), ["github-pat"]);
    assert_eq!(hits[0].line, 1);
    assert_eq!(hits[0].evidence, "GITHUB_TOKEN=********");
    let step = format!("/bin/sh -c #(nop)  ENV GITHUB_TOKEN={gh}");
    assert_eq!(rules_of(&set.scan_text(&step)), ["github-pat"]);
    // Path-scoped rules do not run on texts.
    assert!(set.scan_text("password hunter22").is_empty());
}

// ---------------------------------------------------------------------------- redaction

#[test]
fn redact_borrows_clean_text_and_hides_planted_values() {
    let set = RuleSet::builtin();
    for clean in [
        "PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin",
        "/bin/sh -c apt-get update && apt-get install -y curl",
        "",
    ] {
        assert!(matches!(set.redact(clean), Cow::Borrowed(_)), "{clean}");
    }
    let (id, secret, gh) = (planted_aws_id(), planted_aws_secret(), planted_gh_token());
    let text = format!(
        "RUN echo {gh} > /t && AWS_ACCESS_KEY_ID={id} AWS_SECRET_ACCESS_KEY={secret} aws s3 ls"
    );
    let r = set.redact(&text);
    assert!(matches!(r, Cow::Owned(_)));
    for v in [&id, &secret, &gh] {
        assert!(!r.contains(v.as_str()), "{r}");
    }
    assert_eq!(
        r,
        "RUN echo ******** > /t && AWS_ACCESS_KEY_ID=******** AWS_SECRET_ACCESS_KEY=******** aws s3 ls"
    );
    // Non-ASCII around a value stays whole.
    let t = format!("jeton «{gh}» é");
    let r = set.redact(&t);
    assert_eq!(r, "jeton «********» é");
    // An inline comment does not keep a value out of redaction.
    let t = format!("T={gh} # customs:allow a test fixture");
    let r = set.redact(&t);
    assert!(!r.contains(&gh));
}

#[test]
fn evidence_hides_every_secret_on_the_line_and_is_bounded() {
    let (id, gh) = (planted_aws_id(), planted_gh_token());
    let line = format!("{{\"a\": \"{id}\", \"b\": \"{gh}\"}}");
    let hits = scan("/x.json", &line);
    assert_eq!(rules_of(&hits), ["aws-access-key-id", "github-pat"]);
    for h in &hits {
        assert_eq!(h.evidence, r#"{"a": "********", "b": "********"}"#);
    }
    // A long line: a window around the match, at most 200 characters, the value hidden.
    let long = format!("{}{gh}{}", "é".repeat(5000), " x".repeat(5000));
    let hits = scan("/min.js", &long);
    assert_eq!(hits.len(), 1);
    let e = &hits[0].evidence;
    assert!(e.chars().count() <= 200, "{}", e.chars().count());
    assert!(e.contains(REDACTED) && !e.contains(&gh[..8]), "{e}");
    assert!(e.starts_with('…') && e.ends_with('…'), "{e}");
    // Exactly 200 characters once redacted: kept whole; one more: cut, with an ellipsis.
    let e = &scan("/x", &format!("{} {gh}", "a".repeat(191)))[0].evidence;
    assert_eq!((e.chars().count(), e.ends_with(REDACTED)), (200, true));
    let e = &scan("/x", &format!("{} {gh}", "a".repeat(192)))[0].evidence;
    assert!(
        e.chars().count() <= 200 && e.starts_with("…a") && e.ends_with(REDACTED),
        "{e}"
    );
    // A long line with the match far in: the window shows the match.
    let e = &scan(
        "/x",
        &format!("{} {gh} {}", "a".repeat(230), "b".repeat(300)),
    )[0]
    .evidence;
    assert!(e.chars().count() <= 200 && e.contains(" ******** b"), "{e}");
    assert!(e.starts_with('…') && e.ends_with('…'), "{e}");
    // Control characters are not passed to a terminal.
    let hits = scan("/x", &format!("\x1b[31mTOKEN={gh}\x07"));
    assert!(!hits[0].evidence.contains('\x1b'), "{:?}", hits[0].evidence);
    // Invalid UTF-8 on the line.
    let mut bytes = b"\xff\xfe key=".to_vec();
    bytes.extend_from_slice(gh.as_bytes());
    let hits = RuleSet::builtin().scan_file("/x", &bytes, &mut SecretStats::default());
    assert_eq!(hits[0].evidence, "\u{fffd}\u{fffd} key=********");
}

#[test]
fn lines_are_counted_and_hits_deduplicated() {
    let gh = planted_gh_token();
    let text = format!("one\ntwo\r\n\nfour {gh} {gh}\nfive\n{gh}");
    let hits = scan("/x", &text);
    assert_eq!(
        hits.iter().map(|h| h.line).collect::<Vec<_>>(),
        [4, 6],
        "one hit per rule and line"
    );
    assert_eq!(hits[0].evidence, "four ******** ********");
}

#[test]
fn a_private_key_is_reported_once_at_its_begin_line() {
    let text = format!("# the deploy key\n\n{}", fake_pem());
    let hits = scan("/root/.ssh/id_rsa", &text);
    assert_eq!(rules_of(&hits), ["private-key"]);
    assert_eq!(hits[0].line, 3);
    let redacted = RuleSet::builtin().redact(&text);
    assert_eq!(
        redacted,
        "# the deploy key\n\n-----BEGIN RSA PRIVATE KEY-----********-----END RSA PRIVATE KEY-----\n"
    );
}

// --------------------------------------------------------------------- docker config.json

#[test]
fn docker_config_auths_are_decoded() {
    use base64::Engine as _;
    let b64 = |s: &str| base64::engine::general_purpose::STANDARD.encode(s);
    let with_password = b64(&["ci-bot:", "vcVNDUCnMyXnNTTlur2Z"].concat());
    let no_password = b64("ci-bot:");
    let config = format!(
        r#"{{
	"auths": {{
		"https://index.docker.io/v1/": {{
			"auth": "{with_password}"
		}},
		"ghcr.io": {{
			"auth": "{no_password}"
		}},
		"corp.azurecr.io": {{
			"auth": "{no_password}",
			"identitytoken": "{token}"
		}}
	}},
	"credHelpers": {{
		"123456789012.dkr.ecr.eu-west-1.amazonaws.com": "ecr-login"
	}}
}}
"#,
        token = ["Ri1u8QjGKXoe7Z6j", "CuJDp6ELxJJUDknp"].concat(),
    );
    let hits = scan("/root/.docker/config.json", &config);
    assert_eq!(
        hits.iter()
            .map(|h| (h.rule.as_str(), h.line))
            .collect::<Vec<_>>(),
        [("docker-config-auth", 4), ("docker-config-auth", 11)],
        "{hits:?}"
    );
    assert_eq!(hits[0].evidence, r#""auth": "********""#);
    assert_eq!(hits[0].code, "secret-docker-config-auth");
    // Only a credential store: nothing to report.
    let store = "{\n  \"auths\": {\n    \"ghcr.io\": {},\n    \"https://index.docker.io/v1/\": {}\n  },\n  \"credsStore\": \"desktop\"\n}\n";
    assert!(scan("/home/app/.docker/config.json", store).is_empty());
    // The same file elsewhere is not a Docker config (the generic rule sees the token).
    assert_eq!(
        rules_of(&scan("/srv/config.json", &config)),
        ["generic-assignment"]
    );
    // The old .dockercfg format, and a file that is not JSON (judged value by value).
    let old =
        format!("{{\"registry.corp.lan\": {{\"auth\": \"{with_password}\", \"email\": \"\"}}}}");
    assert_eq!(
        rules_of(&scan("/root/.dockercfg", &old)),
        ["docker-config-auth"]
    );
    let broken = format!("{{\"auths\": {{\"r\": {{\"auth\": \"{with_password}\"}}");
    assert_eq!(
        rules_of(&scan("/root/.docker/config.json", &broken)),
        ["docker-config-auth"]
    );
}

// ------------------------------------------------------------------------- allow-listing

#[test]
fn inline_allow_needs_a_reason() {
    let gh = planted_gh_token();
    for allowed in [
        format!("TOKEN={gh} # customs:allow test fixture, revoked"),
        format!("// customs:allow: documented sample\nx; TOKEN=\"{gh}\" // customs:allow sample"),
        format!("<!-- customs:allow docs example --> {gh}"),
    ] {
        let last = allowed.lines().last().unwrap();
        assert!(scan("/x", last).is_empty(), "{last}");
    }
    for not_allowed in [
        format!("TOKEN={gh} # customs:allow"),
        format!("TOKEN={gh} # customs:allow   "),
        format!("TOKEN={gh} <!-- customs:allow -->"),
        format!("# customs:allow fixture\nTOKEN={gh}"),
    ] {
        assert_eq!(
            rules_of(&scan("/x", &not_allowed)),
            ["github-pat"],
            "{not_allowed}"
        );
    }
}

#[test]
fn documentation_keys_are_allowed_and_not_reported_twice() {
    // AWS's documentation pair: allow-listed by the AWS rules, and the generic rule yields
    // to them.
    let doc = [
        "aws_access_key_id = AKIAIOSFODNN7EXAMPLE",
        "aws_secret_access_key = wJalrXUtnFEMI/K7MDENG/bPxRfiCYEXAMPLEKEY",
    ]
    .join("\n");
    assert!(scan("/usr/share/doc/awscli/examples.txt", &doc).is_empty());
    // A value two rules match is reported by the specific one only.
    let gh = planted_gh_token();
    assert_eq!(
        rules_of(&scan("/x", &format!("api_token: {gh}"))),
        ["github-pat"]
    );
}

#[test]
fn generic_rule_skips_code_and_placeholders() {
    for line in [
        "password = os.environ['DB_PASSWORD']",
        "    self.token = token_generator.next()",
        "secret: {{ vault_secret }}",
        "PASSWORD=$1",
        "token=${GITHUB_TOKEN:-}",
        "api_key = getpass.getpass('API key: ')",
        "my $password = shift;",
        "password=None",
        "secret_key = settings.SECRET_KEY",
        "token: null",
        "PASSWD_FILE=/etc/passwd",
        "password: <your-password-here>",
        "  --password=PASSWORD   read the password from PASSWORD",
        "TOKEN_EXPIRY_SECONDS=86400000000",
        "password_hash_algorithm: argon2id",
        "access_key: ${{ secrets.ACCESS_KEY }}",
        "ENCRYPT_METHOD SHA512",
        "password\trequisite\t\t\tpam_pwquality.so retry=3",
    ] {
        assert!(
            scan("/etc/app.conf", line).is_empty(),
            "{line}: {:?}",
            scan("/etc/app.conf", line)
        );
    }
    let hits = scan("/etc/app.conf", "db.password = \"Vt4mQ9xLp2Rz8Kc1\"");
    assert_eq!(rules_of(&hits), ["generic-assignment"]);
    assert_eq!(hits[0].evidence, "db.password = \"********\"");
}

// ------------------------------------------------------------------ skips and hostile input

#[test]
fn binary_and_large_files_are_skipped_and_counted() {
    let set = RuleSet::builtin();
    let gh = planted_gh_token();
    let mut stats = SecretStats::default();
    let mut elf = b"\x7fELF\x02\x01\x01\x00".to_vec();
    elf.extend_from_slice(gh.as_bytes());
    assert!(set.scan_file("/usr/bin/x", &elf, &mut stats).is_empty());
    let mut large = gh.clone().into_bytes();
    large.resize(usize::try_from(set.max_file_size()).unwrap() + 1, b'a');
    assert!(set.scan_file("/var/big.log", &large, &mut stats).is_empty());
    // A NUL past the first 8 KiB does not make a file binary.
    let mut late_nul = vec![b' '; 9000];
    late_nul.push(0);
    late_nul.extend_from_slice(gh.as_bytes());
    assert_eq!(set.scan_file("/x", &late_nul, &mut stats).len(), 1);
    assert_eq!(
        stats,
        SecretStats {
            files: 1,
            bytes: late_nul.len() as u64,
            skipped_binary: 1,
            skipped_large: 1,
            hits_dropped: 0,
        }
    );
    assert_eq!(
        serde_json::to_string(&SecretStats::default()).unwrap(),
        r#"{"files":0,"bytes":0,"skipped_binary":0,"skipped_large":0}"#,
        "hits_dropped shows only when not 0"
    );
    let mut total = SecretStats::default();
    total.add(&stats);
    total.add(&stats);
    assert_eq!(total.skipped_binary, 2);
}

#[test]
fn hostile_input_is_bounded() {
    let set = RuleSet::builtin();
    let started = std::time::Instant::now();
    let mut stats = SecretStats::default();
    // 10 MiB of keywords, one long line.
    let akia = "AKIA".repeat((10 << 20) / 4);
    assert!(set.scan_file("/x", akia.as_bytes(), &mut stats).is_empty());
    // Many secrets: capped at 100 hits, the rest counted.
    let gh = planted_gh_token();
    let many = (0..5000)
        .map(|i| format!("t{i}={gh}\n"))
        .collect::<String>();
    let hits = set.scan_file("/x", many.as_bytes(), &mut stats);
    assert_eq!(hits.len(), scan::MAX_HITS);
    assert!(stats.hits_dropped >= 4900, "{stats:?}");
    // Every keyword, over and over, with invalid UTF-8 between.
    let mut soup = Vec::new();
    while soup.len() < 4 << 20 {
        for r in &set.rules {
            for k in &r.keywords {
                soup.extend_from_slice(k.as_bytes());
                soup.extend_from_slice(b"=\xff\xc3 :@ ");
            }
        }
    }
    set.scan_file("/root/.docker/config.json", &soup, &mut stats);
    set.scan_file("/root/.npmrc", &soup, &mut stats);
    // Pseudo-random bytes without NULs.
    let mut x: u64 = 0x9e37_79b9_7f4a_7c15;
    let noise: Vec<u8> = (0..(2 << 20))
        .map(|_| {
            x ^= x << 13;
            x ^= x >> 7;
            x ^= x << 17;
            (x.to_le_bytes()[0]).max(1)
        })
        .collect();
    set.scan_file("/x", &noise, &mut stats);
    let _ = set.redact(&String::from_utf8_lossy(&noise));
    assert!(
        started.elapsed() < std::time::Duration::from_secs(60),
        "{:?}",
        started.elapsed()
    );
}

/// Whether `token` occurs in `text` as a token: not inside a longer word.
fn standalone(text: &str, token: &str) -> bool {
    let word = |c: Option<char>| c.is_some_and(|c| c.is_ascii_alphanumeric() || c == '_');
    text.match_indices(token).any(|(i, _)| {
        !word(text[..i].chars().next_back()) && !word(text[i + token.len()..].chars().next())
    })
}

#[test]
fn random_short_inputs_never_panic_or_leak() {
    let set = RuleSet::builtin();
    let gh = planted_gh_token();
    let pieces: Vec<Vec<u8>> = [
        gh.as_str(),
        &planted_aws_id(),
        &planted_aws_secret(),
        "-----BEGIN RSA PRIVATE KEY-----",
        "-----END RSA PRIVATE KEY-----",
        "\n",
        "\r\n",
        " ",
        "\"auth\": \"",
        "\"",
        "password=",
        "customs:allow",
        " fixture key",
        "://u:",
        "@h",
        "é",
        "AKIA",
        "ghp_",
        "eyJ",
        ".",
        "=",
    ]
    .iter()
    .map(|s| s.as_bytes().to_vec())
    .chain([b"\xff".to_vec(), b"\xc3".to_vec(), vec![b'a'; 300]])
    .collect();
    let mut x: u64 = 0x2545_f491_4f6c_dd1d;
    let mut next = |n: usize| {
        x ^= x << 13;
        x ^= x >> 7;
        x ^= x << 17;
        usize::try_from(x % n as u64).unwrap()
    };
    for _ in 0..3000 {
        let mut input = Vec::new();
        for _ in 0..next(24) {
            input.extend_from_slice(&pieces[next(pieces.len())]);
        }
        for path in [
            "/x",
            "/root/.docker/config.json",
            "/root/.npmrc",
            "/root/.netrc",
        ] {
            for h in set.scan_file(path, &input, &mut SecretStats::default()) {
                assert!(h.evidence.chars().count() <= 200);
                assert!(!standalone(&h.evidence, &gh), "{}", h.evidence);
                assert!(h.line >= 1);
            }
        }
        let text = String::from_utf8_lossy(&input);
        let _ = set.scan_text(&text);
        assert!(!standalone(&set.redact(&text), &gh), "{text}");
    }
}
