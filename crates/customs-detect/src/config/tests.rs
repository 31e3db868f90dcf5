use super::*;

use super::caches::human_bytes;
use super::credentials::run_build_args;
use super::history::{Step, parse_step, step_layers};

/// The config blob of the corpus image `debian-app`
/// (`/var/tmp/customs-corpus/out/debian-app/oci`, config `sha256:e5f5f8f1d3fd…`), whose
/// history umoci wrote. The fixture token is spliced in at run time so that secret scanners
/// of this repository do not take the test for a leak.
const DEBIAN_APP_CONFIG: &str = r#"{
      "created": "2025-01-01T00:00:00Z",
      "architecture": "amd64",
      "os": "linux",
      "config": {
        "User": "app",
        "ExposedPorts": {"8080/tcp": {}},
        "Env": [
          "PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin",
          "APP_ENV=production",
          "LANG=C.UTF-8",
          "GITHUB_TOKEN=@TOKEN@"
        ],
        "Cmd": ["/app/start.sh"],
        "WorkingDir": "/app"
      },
      "rootfs": {
        "type": "layers",
        "diff_ids": [
          "sha256:fa9e728d8fcbf9d428b1400949a1c1cce053681d69fcafe55a6e310d5940f3ed",
          "sha256:76b65115991c53232b14a743465242f9862f9240e6e36b2405cc14a9cfa22166"
        ]
      },
      "history": [
        {"created_by": "debootstrap --variant=minbase bookworm", "comment": "base: Debian bookworm minbase"},
        {"created_by": "COPY app/ /", "comment": "app layer: python/npm/cargo/java deps, secrets, setuid, whiteouts"},
        {"created_by": "config: --config.cmd /app/start.sh --config.user app --config.workingdir /app --config.env PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin --config.env APP_ENV=production --config.env LANG=C", "empty_layer": true}
      ]
    }"#;

fn debian_app_token() -> String {
    ["ghp_", "x7K2mN9pQ4rS6tU8vW0y", "Z1aB3cD5eF7gH9iJ"].concat()
}

/// What the catalog hands over, read from a config blob as the catalog reads it.
fn input_from_config(json: &str) -> ConfigInput {
    let v: serde_json::Value = serde_json::from_str(json).unwrap();
    let config = &v["config"];
    let strings = |v: &serde_json::Value| -> Vec<String> {
        v.as_array()
            .map(|a| {
                a.iter()
                    .filter_map(|s| s.as_str().map(str::to_owned))
                    .collect()
            })
            .unwrap_or_default()
    };
    ConfigInput {
        user: config["User"].as_str().map(str::to_owned),
        env: strings(&config["Env"]),
        history: v["history"]
            .as_array()
            .unwrap()
            .iter()
            .map(|h| HistoryStep {
                created_by: h["created_by"].as_str().unwrap_or("").to_owned(),
                empty_layer: h["empty_layer"].as_bool().unwrap_or(false),
            })
            .collect(),
        healthcheck: config.get("Healthcheck").map(|h| strings(&h["Test"])),
        exposed_ports: config["ExposedPorts"]
            .as_object()
            .map(|o| o.keys().cloned().collect())
            .unwrap_or_default(),
        packages: Vec::new(),
        caches: Vec::new(),
        layers: v["rootfs"]["diff_ids"]
            .as_array()
            .unwrap()
            .iter()
            .map(|d| d.as_str().and_then(|d| d.parse().ok()))
            .collect(),
    }
}

fn digest(n: u8) -> Digest {
    format!("sha256:{}", format!("{n:02x}").repeat(32))
        .parse()
        .unwrap()
}

/// An input with this history, one layer per non-empty step.
fn with_history(steps: &[(&str, bool)]) -> ConfigInput {
    let history: Vec<HistoryStep> = steps
        .iter()
        .map(|(created_by, empty_layer)| HistoryStep {
            created_by: (*created_by).to_owned(),
            empty_layer: *empty_layer,
        })
        .collect();
    let layers = (0..history.iter().filter(|s| !s.empty_layer).count())
        .map(|i| Some(digest(u8::try_from(i).unwrap())))
        .collect();
    ConfigInput {
        user: Some("1000".to_owned()),
        healthcheck: Some(vec!["CMD".to_owned(), "/healthz".to_owned()]),
        history,
        layers,
        ..ConfigInput::default()
    }
}

fn codes(found: &[Detection]) -> Vec<&str> {
    found.iter().map(|d| d.code.as_str()).collect()
}

fn only<'a>(found: &'a [Detection], code: &str) -> Vec<&'a Detection> {
    found.iter().filter(|d| d.code == code).collect()
}

#[test]
fn debian_app_corpus_image() {
    let json = DEBIAN_APP_CONFIG.replace("@TOKEN@", &debian_app_token());
    let input = input_from_config(&json);
    let found = check(&input);
    assert_eq!(
        codes(&found),
        ["config-no-healthcheck", "config-secret-env"]
    );
    let env = &found[1];
    assert_eq!(env.location.path, "config:Env GITHUB_TOKEN");
    assert_eq!(env.evidence.as_deref(), Some("GITHUB_TOKEN=********"));
    assert_eq!(env.severity, Severity::High);
    assert_eq!(env.kind, DetectionKind::Config);
    assert_eq!(env.references, ["CIS-DI-0010", "CIS Docker Benchmark 4.10"]);
    let out = serde_json::to_string(&found).unwrap();
    assert!(!out.contains(&debian_app_token()[4..]), "{out}");
    // umoci's steps pair with the two layers; the config step is empty.
    assert_eq!(
        step_layers(&input),
        [Some(0), Some(1), None],
        "history pairs with rootfs.diff_ids"
    );
}

#[test]
fn root_user_fires_for_no_user_root_and_uid_0() {
    for user in [
        None,
        Some(""),
        Some("  "),
        Some("root"),
        Some("0"),
        Some("root:root"),
        Some("0:1000"),
        Some("00"),
    ] {
        let input = ConfigInput {
            user: user.map(str::to_owned),
            ..ConfigInput::default()
        };
        let found = check(&input);
        let root = only(&found, "config-root-user");
        assert_eq!(root.len(), 1, "{user:?}");
        assert_eq!(root[0].location.path, "config:User");
        assert_eq!(
            root[0].references,
            ["CIS-DI-0001", "CIS Docker Benchmark 4.1"]
        );
    }
    let unset = check(&ConfigInput::default());
    assert_eq!(
        only(&unset, "config-root-user")[0].message,
        "The image runs as root: no USER is set. Add a USER with a non-zero uid."
    );
}

#[test]
fn root_user_quiet_for_non_root_users() {
    for user in [
        "1000",
        "app",
        "nobody",
        "1000:0",
        "app:root",
        "rootless",
        "65534:65534",
    ] {
        let input = ConfigInput {
            user: Some(user.to_owned()),
            ..ConfigInput::default()
        };
        assert!(
            only(&check(&input), "config-root-user").is_empty(),
            "{user}"
        );
    }
}

#[test]
fn secret_env_fires_on_credential_names_with_values() {
    let env = [
        "DB_PASS=hunter2hunter2",
        "BASIC_AUTH=admin:s3cret",
        "AWS_SECRET_ACCESS_KEY=wJalrXUtnFEMI/K7MDENG/bPxRfiCYEXAMPLEKEY",
        "SECRET_KEY_BASE=9f8e7d6c5b4a",
        "api-key=x1y2z3",
        "NPM_AUTH_TOKEN=npm_abcdef",
        "MYSQL_ROOT_PASSWORD=changeme",
        "PRIVATE_KEY=-----BEGIN",
        "REGISTRY_CREDENTIALS=user:pw",
        "GIT_AUTH=https://user:pw@git.example.com/",
    ];
    let input = ConfigInput {
        env: env.iter().map(|e| (*e).to_owned()).collect(),
        ..ConfigInput::default()
    };
    let found = check(&input);
    let secret = only(&found, "config-secret-env");
    assert_eq!(secret.len(), env.len(), "{secret:#?}");
    let out = serde_json::to_string(&found).unwrap();
    for e in env {
        let (name, value) = e.split_once('=').unwrap();
        assert!(out.contains(&format!("config:Env {name}")), "{name}");
        assert!(!out.contains(value), "{value} leaked: {out}");
    }
}

#[test]
fn secret_env_quiet_on_near_misses() {
    let env = [
        "TOKEN_URL=https://auth.example.com/oauth/token",
        "SECRET_NAME=app-db",
        "PASSWORD_FILE=/run/secrets/db_password",
        "API_KEY=$API_KEY",
        "DB_PASSWORD=${DB_PASSWORD}",
        "DB_PASSWORD=",
        "PASSWORD_MIN_LENGTH=12",
        "AUTH_ENABLED=true",
        "TOKENIZERS_PARALLELISM=false",
        "GPG_KEY=A035C8C19219BA821ECEA86B64E628F8D684696D",
        "AUTHOR=Jane",
        "GOOGLE_APPLICATION_CREDENTIALS=/var/secrets/google/key.json",
        "AWS_ACCESS_KEY_ID=AKIAIOSFODNN7EXAMPLE",
        "PWD=/app",
        "OAUTH_SERVER=https://login.example.com",
        "SECRET_TOKEN=<your token here>",
        "PATH=/usr/local/bin:/usr/bin",
        "no-equals-sign-TOKEN",
    ];
    let input = ConfigInput {
        env: env.iter().map(|e| (*e).to_owned()).collect(),
        ..ConfigInput::default()
    };
    assert!(only(&check(&input), "config-secret-env").is_empty());
}

#[test]
fn buildkit_run_build_arg_fires_and_value_is_nowhere_in_the_output() {
    // Written to BuildKit's format: `ARG NAME` without a default is an empty step, and each
    // RUN in its scope records `|N NAME=value` before the shell.
    let token = "ghp_R4nd0mV4lu3Th4tMustN3v3rL34k00000000";
    let run = format!(
        "RUN |1 GITHUB_TOKEN={token} /bin/sh -c git clone https://$GITHUB_TOKEN@github.com/org/private.git /src # buildkit"
    );
    let input = with_history(&[
        ("/bin/sh -c #(nop) ADD file:0a1b2c3d in / ", false),
        ("ARG GITHUB_TOKEN", true),
        (&run, false),
    ]);
    let found = check(&input);
    assert_eq!(codes(&found), ["config-secret-build-arg"]);
    let d = &found[0];
    assert_eq!(d.location.path, "history[2].created_by");
    assert_eq!(d.location.layer_index, Some(1));
    assert_eq!(d.location.layer, Some(digest(1)));
    assert_eq!(d.evidence.as_deref(), Some("GITHUB_TOKEN=********"));
    assert_eq!(d.references, ["CIS-DI-0010", "CIS Docker Benchmark 4.10"]);
    let out = serde_json::to_string(&found).unwrap();
    assert!(!out.contains(token), "{out}");
    assert!(!out.contains("R4nd0m"), "{out}");
}

#[test]
fn build_arg_default_and_its_uses_are_one_finding() {
    // BuildKit records `ARG NAME=default` (an empty step) and then the value in each RUN.
    let input = with_history(&[
        ("ARG NPM_TOKEN=npm_a1b2c3d4e5 VERSION=1.2.3", true),
        (
            "RUN |2 NPM_TOKEN=npm_a1b2c3d4e5 VERSION=1.2.3 /bin/sh -c npm ci # buildkit",
            false,
        ),
        (
            "RUN |2 NPM_TOKEN=npm_a1b2c3d4e5 VERSION=1.2.3 /bin/sh -c npm run build # buildkit",
            false,
        ),
    ]);
    let found = check(&input);
    assert_eq!(codes(&found), ["config-secret-build-arg"]);
    assert_eq!(found[0].location.path, "history[0].created_by");
    assert_eq!(
        found[0].location.layer_index, None,
        "an empty step has no layer"
    );
    assert_eq!(found[0].location.layer, None);
    assert!(
        found[0].message.contains("2 later steps"),
        "{}",
        found[0].message
    );
}

#[test]
fn classic_builder_build_args() {
    // Written to the classic builder's format: `|N NAME=value` then the shell, no `RUN`.
    let input = with_history(&[
        ("|1 NPM_TOKEN=abcd1234efgh /bin/sh -c npm ci", false),
        ("|1 TARGETARCH=amd64 /bin/sh -c apt-get update", false),
        ("/bin/sh -c #(nop)  ARG DB_PASSWORD=s3cr3t-default", true),
        ("/bin/sh -c #(nop)  ARG TOKEN_TTL=3600", true),
    ]);
    let found = check(&input);
    let paths: Vec<_> = found.iter().map(|d| d.location.path.as_str()).collect();
    assert_eq!(codes(&found), ["config-secret-build-arg"; 2]);
    assert_eq!(paths, ["history[0].created_by", "history[2].created_by"]);
    assert_eq!(found[0].evidence.as_deref(), Some("NPM_TOKEN=********"));
    assert_eq!(found[1].evidence.as_deref(), Some("DB_PASSWORD=********"));
}

#[test]
fn build_args_that_are_not_credentials() {
    let input = with_history(&[
        (
            "RUN |1 TARGETARCH=amd64 /bin/sh -c apt-get update # buildkit",
            false,
        ),
        (
            "RUN |2 DEBIAN_FRONTEND=noninteractive TOKEN_URL=https://x.example/t /bin/sh -c true # buildkit",
            false,
        ),
        ("RUN |1 API_TOKEN= /bin/sh -c true # buildkit", false),
        (
            "RUN |1 API_TOKEN=$CI_TOKEN /bin/sh -c true # buildkit",
            false,
        ),
        ("ARG NPM_TOKEN", true),
    ]);
    assert!(check(&input).is_empty());
}

#[test]
fn several_build_args_in_one_run() {
    let pairs = run_build_args("3 A=1 NPM_TOKEN=xyz123abc B=two words /bin/sh -c true");
    assert_eq!(
        pairs,
        [
            ("A".to_owned(), "1".to_owned()),
            ("NPM_TOKEN".to_owned(), "xyz123abc".to_owned()),
            ("B".to_owned(), "two".to_owned()),
        ]
    );
    let spaced = run_build_args("2 MSG=hello world TOKEN=abc /bin/sh -c true");
    assert_eq!(spaced[0], ("MSG".to_owned(), "hello world".to_owned()));
    assert_eq!(spaced[1], ("TOKEN".to_owned(), "abc".to_owned()));
}

#[test]
fn add_of_a_remote_url() {
    let input = with_history(&[
        // classic builder's own ADD of the base tarball: not remote
        ("/bin/sh -c #(nop) ADD file:abc in / ", false),
        (
            "/bin/sh -c #(nop) ADD https://example.com/tool.tar.gz in /opt/ ",
            false,
        ),
        (
            "ADD https://user:pw@dl.example.com/app.tgz?sig=abc /srv/ # buildkit",
            false,
        ),
        (
            "ADD --checksum=sha256:24454f830cdb571e2c4ad15481119c43b3cafd48dd869a9b2945d1036d1dc68d https://example.com/x.tgz /x # buildkit",
            false,
        ),
        ("ADD app.tar.gz /srv/ # buildkit", false),
        ("COPY https-notes.txt /srv/ # buildkit", false),
    ]);
    let found = check(&input);
    assert_eq!(codes(&found), ["config-add-remote-url"; 2]);
    assert_eq!(found[0].location.path, "history[1].created_by");
    assert_eq!(
        found[0].references,
        ["CIS-DI-0009", "CIS Docker Benchmark 4.9"]
    );
    assert_eq!(found[1].location.path, "history[2].created_by");
    assert_eq!(
        found[1].evidence.as_deref(),
        Some("ADD https://********@dl.example.com/app.tgz")
    );
    let out = serde_json::to_string(&found).unwrap();
    assert!(!out.contains("pw@") && !out.contains("sig=abc"), "{out}");
}

#[test]
fn curl_piped_into_a_shell() {
    let fires = [
        "/bin/sh -c curl -fsSL https://get.docker.com | sh",
        "RUN /bin/sh -c curl -sL https://deb.nodesource.com/setup_20.x | bash - # buildkit",
        "RUN /bin/sh -c wget -O- https://example.com/install.sh | sh # buildkit",
        "/bin/sh -c apt-get update && wget -qO- https://example.com/i.sh| sudo bash",
        "RUN /bin/sh -c curl -fsSL https://x.example/setup | sudo -E bash - # buildkit",
        "RUN /bin/sh -c curl https://sh.rustup.rs -sSf | sh -s -- -y # buildkit",
        "RUN /bin/sh -c curl -sSL https://x.example/i | /bin/bash # buildkit",
        r#"RUN /bin/sh -c sh -c "$(curl -fsSL https://raw.githubusercontent.com/ohmyzsh/ohmyzsh/master/tools/install.sh)" # buildkit"#,
        "RUN /bin/bash -o pipefail -c bash <(curl -s https://x.example/install) # buildkit",
        r#"/bin/sh -c eval "$(wget -qO- https://x.example/env)""#,
        "RUN |1 V=1 /bin/sh -c curl -fsSL https://x.example/$V/install | env FOO=1 bash # buildkit",
        "buildah: curl -fsSL https://get.example.com | sh",
    ];
    for created_by in fires {
        let found = check(&with_history(&[(created_by, false)]));
        assert_eq!(codes(&found), ["config-curl-pipe-shell"], "{created_by}");
        assert_eq!(found[0].location.layer_index, Some(0));
    }
}

#[test]
fn downloads_that_are_checked_or_not_run() {
    let quiet = [
        // the documented way: download, check, unpack
        r#"RUN /bin/sh -c curl -fsSLo /tmp/node.tgz https://nodejs.org/dist/v20.0.0/node.tgz && echo "abc  /tmp/node.tgz" | sha256sum -c - && tar -xzf /tmp/node.tgz # buildkit"#,
        "RUN /bin/sh -c curl -fsSL https://x.example/key.gpg | gpg --dearmor -o /usr/share/keyrings/x.gpg # buildkit",
        "RUN /bin/sh -c curl -fsSL https://x.example/a.tgz | tar -xz -C /usr/local/bin # buildkit",
        "RUN /bin/sh -c curl -fsSL https://x.example/a.sha | shasum -a 256 -c # buildkit",
        r#"RUN /bin/sh -c curl -s https://api.github.com/repos/x/y/releases/latest | python3 -c "import json,sys; print(json.load(sys.stdin)['tag_name'])" # buildkit"#,
        "/bin/sh -c echo hi | sh",
        "/bin/sh -c curl -o /tmp/x https://x.example/x; cat /tmp/x | sha256sum",
        "/bin/sh -c #(nop)  CMD [\"sh\" \"-c\" \"curl https://x | sh\"]",
        "LABEL install=\"curl https://x | sh\"",
    ];
    for created_by in quiet {
        let found = check(&with_history(&[(created_by, false)]));
        assert!(found.is_empty(), "{created_by}: {found:#?}");
    }
}

#[test]
fn curl_evidence_is_redacted() {
    let created_by = r#"RUN /bin/sh -c curl -H "Authorization: Bearer sekr1tbearer" -H "X-Vault-Token: hvs.vaulttok" --oauth2-bearer oauthtok -u bob:hunter2pw "https://alice:pa55@x.example/i.sh?token=qwerty123" | API_TOKEN=zzz999yyy sh # buildkit"#;
    let found = check(&with_history(&[(created_by, false)]));
    assert_eq!(codes(&found), ["config-curl-pipe-shell"]);
    let evidence = found[0].evidence.as_deref().unwrap();
    for secret in [
        "sekr1tbearer",
        "hunter2pw",
        "pa55",
        "qwerty123",
        "zzz999yyy",
    ] {
        assert!(!evidence.contains(secret), "{secret} in {evidence}");
    }
    assert!(evidence.contains("curl"), "{evidence}");
}

#[test]
fn healthcheck_missing_or_disabled() {
    for test in [None, Some(vec![]), Some(vec!["NONE".to_owned()])] {
        let input = ConfigInput {
            user: Some("app".to_owned()),
            healthcheck: test.clone(),
            ..ConfigInput::default()
        };
        let found = check(&input);
        assert_eq!(codes(&found), ["config-no-healthcheck"], "{test:?}");
        assert_eq!(found[0].severity, Severity::Low);
        assert_eq!(
            found[0].references,
            ["CIS-DI-0006", "CIS Docker Benchmark 4.6"]
        );
    }
    let declared = ConfigInput {
        user: Some("app".to_owned()),
        healthcheck: Some(vec![
            "CMD-SHELL".to_owned(),
            "curl -f http://localhost/ || exit 1".to_owned(),
        ]),
        ..ConfigInput::default()
    };
    assert!(check(&declared).is_empty());
}

#[test]
fn ssh_and_telnet_ports() {
    let ports = |specs: &[&str]| {
        let input = ConfigInput {
            exposed_ports: specs.iter().map(|s| (*s).to_owned()).collect(),
            ..with_history(&[])
        };
        check(&input)
    };
    let found = ports(&["22/tcp", "22", "23/tcp", "8080/tcp"]);
    assert_eq!(codes(&found), ["config-expose-ssh", "config-expose-telnet"]);
    assert_eq!(found[0].location.path, "config:ExposedPorts 22/tcp");
    assert_eq!(found[0].severity, Severity::Medium);
    assert_eq!(found[1].severity, Severity::High);
    let range = ports(&["20-25/tcp"]);
    assert_eq!(codes(&range), ["config-expose-ssh", "config-expose-telnet"]);
    let quiet = ports(&[
        "22/udp",
        "2222/tcp",
        "8022",
        "230/tcp",
        "99999/tcp",
        "/tcp",
        "-",
        "25-20/tcp",
        "",
    ]);
    assert!(quiet.is_empty(), "{quiet:#?}");
}

#[test]
fn sudo_and_doas_packages() {
    let input = ConfigInput {
        packages: ["bash", "sudo", "sudo", "doas", "libsudo-dev", "pseudo"]
            .map(str::to_owned)
            .to_vec(),
        ..with_history(&[])
    };
    let found = check(&input);
    assert_eq!(codes(&found), ["config-sudo-installed"; 2]);
    assert_eq!(found[0].location.path, "package:doas");
    assert_eq!(found[1].location.path, "package:sudo");
    assert_eq!(found[1].references, ["DKL-DI-0001"]);
}

#[test]
fn package_caches_with_size_and_layer() {
    let mut input = with_history(&[("base", false), ("RUN apt-get install -y curl", false)]);
    input.caches = vec![
        CacheUse {
            path: "/var/cache/apt/archives".to_owned(),
            files: 12,
            bytes: 36_700_160,
            layer_index: Some(1),
        },
        CacheUse {
            path: "/root/.cache/pip".to_owned(),
            files: 1,
            bytes: 1536,
            layer_index: None,
        },
        CacheUse {
            path: "/var/cache/apk".to_owned(),
            files: 0,
            bytes: 0,
            layer_index: Some(1),
        },
    ];
    let found = check(&input);
    assert_eq!(codes(&found), ["config-package-cache"; 2]);
    let pip = &found[0];
    assert_eq!(pip.location.path, "/root/.cache/pip");
    assert!(pip.message.contains("1 file (1.5 KiB)"), "{}", pip.message);
    assert!(pip.message.contains("--no-cache-dir"), "{}", pip.message);
    assert_eq!(pip.references, ["DKL-LI-0003"]);
    let apt = &found[1];
    assert_eq!(apt.location.layer_index, Some(1));
    assert_eq!(apt.location.layer, Some(digest(1)));
    assert!(
        apt.message.contains("12 files (35.0 MiB)"),
        "{}",
        apt.message
    );
    assert_eq!(apt.references, ["DKL-DI-0005"]);
}

#[test]
fn human_readable_sizes() {
    assert_eq!(human_bytes(0), "0 B");
    assert_eq!(human_bytes(1023), "1023 B");
    assert_eq!(human_bytes(1024), "1.0 KiB");
    assert_eq!(human_bytes(5 << 30), "5.0 GiB");
    assert_eq!(human_bytes(u64::MAX), "16383.9 PiB", "rounded down");
}

#[test]
fn history_steps_parse_per_builder() {
    assert_eq!(
        parse_step("/bin/sh -c #(nop) ADD file:abc in / "),
        Step::Add("file:abc in / ")
    );
    assert_eq!(parse_step("/bin/sh -c #(nop)  ENV A=b"), Step::Other);
    assert_eq!(
        parse_step("/bin/sh -c apt-get update"),
        Step::Run {
            args: None,
            command: "apt-get update"
        }
    );
    assert_eq!(
        parse_step("RUN |1 A=b /bin/sh -c x # buildkit"),
        Step::Run {
            args: Some("1 A=b /bin/sh -c x # buildkit"),
            command: "|1 A=b /bin/sh -c x # buildkit"
        }
    );
    assert_eq!(parse_step("ARG A=1"), Step::Arg("A=1"));
    assert_eq!(parse_step("COPY . /app # buildkit"), Step::Other);
    assert!(matches!(
        parse_step("debootstrap --variant=minbase bookworm"),
        Step::Run { args: None, .. }
    ));
}

#[test]
fn unpaired_history_leaves_layers_unknown() {
    let mut input = with_history(&[("RUN /bin/sh -c curl https://x | sh # buildkit", false)]);
    input.layers.push(Some(digest(9)));
    let found = check(&input);
    assert_eq!(found[0].location.layer_index, None);
    assert_eq!(found[0].location.layer, None);
}

#[test]
fn sorted_by_code_then_natural_path() {
    let steps: Vec<String> = (0..12)
        .map(|i| format!("RUN |1 TOKEN_{i}=v4lue{i}xyz /bin/sh -c true # buildkit"))
        .collect();
    let steps: Vec<(&str, bool)> = steps.iter().map(|s| (s.as_str(), false)).collect();
    let found = check(&with_history(&steps));
    let paths: Vec<_> = found.iter().map(|d| d.location.path.clone()).collect();
    let want: Vec<_> = (0..12)
        .map(|i| format!("history[{i}].created_by"))
        .collect();
    assert_eq!(paths, want);
}

#[test]
fn every_code_is_listed_once_in_order() {
    let codes: Vec<_> = CHECKS.iter().map(|c| c.code).collect();
    let mut sorted = codes.clone();
    sorted.sort_unstable();
    sorted.dedup();
    assert_eq!(codes, sorted);
    assert!(codes.iter().all(|c| c.starts_with("config-")));
}

#[test]
fn hostile_inputs_do_not_panic_or_leak() {
    // a curl | sh past the cap is not read
    let mut long = "RUN /bin/sh -c true ".to_owned();
    long.push_str(&"é".repeat(MAX_STEP_BYTES));
    long.push_str(" && curl https://x | sh");
    // a multibyte character across the cap
    let mut boundary = "x".repeat(MAX_STEP_BYTES - 1);
    boundary.push('€');
    // 60 KB of `curl |` then a shell, inside the cap
    let pipes = format!("RUN /bin/sh -c {}sh", "curl |".repeat(10_000));
    let bars = format!("RUN |{} A=b", "9".repeat(40));
    let many_pairs = format!("RUN |999999 {}", "K=v ".repeat(10_000));
    let input = ConfigInput {
        user: Some(format!("0:{}", "\u{202e}".repeat(10_000))),
        env: vec![
            String::new(),
            "=".to_owned(),
            "=value".to_owned(),
            format!("{}TOKEN=abc123", "\u{0}".repeat(1000)),
            format!("{}=x", "A".repeat(1 << 20)),
            "TOKEN\u{202e}\u{1b}[31m=abcdef123".to_owned(),
            "\u{202e}NEKOT_IPA=abcdef123".to_owned(),
        ],
        history: [
            long.as_str(),
            boundary.as_str(),
            pipes.as_str(),
            bars.as_str(),
            many_pairs.as_str(),
            "",
            "|",
            "RUN |",
            "RUN |2",
            "ADD",
            "/bin/sh -c",
            "/bin/sh -c #(nop)",
        ]
        .iter()
        .map(|s| HistoryStep {
            created_by: (*s).to_owned(),
            empty_layer: false,
        })
        .collect(),
        healthcheck: Some(vec![String::new()]),
        exposed_ports: vec!["\u{0}/\u{0}".to_owned(), "22/tcp/tcp".to_owned()],
        packages: vec![String::new()],
        caches: vec![CacheUse {
            path: "\u{1b}[2J/var/cache/apt".repeat(1000),
            files: u64::MAX,
            bytes: u64::MAX,
            layer_index: Some(usize::MAX),
        }],
        layers: vec![None; 3],
    };
    let found = check(&input);
    let out = serde_json::to_string(&found).unwrap();
    assert!(
        !out.contains("abc123") && !out.contains("abcdef123"),
        "{out}"
    );
    assert!(!out.contains('\u{1b}'), "control characters are dropped");
    assert!(
        !out.contains('\u{202e}'),
        "bidirectional overrides are dropped"
    );
    assert!(found.iter().all(|d| d.message.chars().count() < 1000));
    let curl = only(&found, "config-curl-pipe-shell");
    assert_eq!(curl.len(), 1, "not the one past the cap");
    assert_eq!(curl[0].location.path, "history[2].created_by");
    assert_eq!(only(&found, "config-root-user").len(), 1);
    assert!(
        check(&ConfigInput::default()).len() == 2,
        "root and no healthcheck"
    );
}

#[test]
fn what_the_checks_call_a_credential_is_redacted() {
    assert_eq!(
        super::redact_env("DB_PASSWORD=hunter2hunter2"),
        "DB_PASSWORD=********"
    );
    assert!(matches!(
        super::redact_env("PATH=/usr/bin"),
        std::borrow::Cow::Borrowed(_)
    ));
    assert!(matches!(
        super::redact_env("PASSWORD_FILE=/run/secrets/db"),
        std::borrow::Cow::Borrowed(_)
    ));
    let step = "RUN |2 NPM_TOKEN=abcdefgh12 VERSION=1.2 /bin/sh -c curl -u bob:pw https://x.test/i.sh | sh";
    let r = super::redact_step(step);
    assert!(!r.contains("abcdefgh12") && !r.contains("bob:pw"), "{r}");
    assert!(r.contains("VERSION=1.2"), "{r}");
    assert!(matches!(
        super::redact_step("RUN /bin/sh -c apt-get update"),
        std::borrow::Cow::Borrowed(_)
    ));
}
