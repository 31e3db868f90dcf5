//! The one shape every secret, config and file finding takes.

use customs_types::{Digest, Severity};
use serde::{Deserialize, Serialize};

/// What kind of check made a detection; also the names `--scanners` takes (with `vuln`).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum DetectionKind {
    /// A credential in a file, the environment or the build history.
    Secret,
    /// The image config or build history.
    Config,
    /// A file's mode or owner.
    File,
}

impl DetectionKind {
    /// The name `--scanners` and the reports use.
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Secret => "secret",
            Self::Config => "config",
            Self::File => "file",
        }
    }
}

/// Which scanners a scan runs (`--scanners vuln,secret,config,file`; all four by default).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[allow(clippy::struct_excessive_bools)]
pub struct Scanners {
    /// Known vulnerabilities of the packages.
    pub vuln: bool,
    /// Secrets in every layer's files, the config's `Env` and the history.
    pub secret: bool,
    /// The image config and history checks.
    pub config: bool,
    /// File mode and owner checks.
    pub file: bool,
}

impl Default for Scanners {
    fn default() -> Self {
        Self {
            vuln: true,
            secret: true,
            config: true,
            file: true,
        }
    }
}

impl Scanners {
    /// Parse a comma-separated list (`vuln,secret`); an unknown name is an error naming it.
    pub fn parse(list: &str) -> Result<Self, String> {
        let mut s = Self {
            vuln: false,
            secret: false,
            config: false,
            file: false,
        };
        for name in list.split(',').map(str::trim).filter(|n| !n.is_empty()) {
            match name {
                "vuln" | "vulns" | "vulnerability" => s.vuln = true,
                "secret" | "secrets" => s.secret = true,
                "config" | "misconfig" => s.config = true,
                "file" | "files" => s.file = true,
                other => {
                    return Err(format!(
                        "unknown scanner {other:?}: the scanners are vuln, secret, config and file"
                    ));
                }
            }
        }
        if !(s.vuln || s.secret || s.config || s.file) {
            return Err("no scanner named: give one or more of vuln, secret, config, file".into());
        }
        Ok(s)
    }

    /// Whether the scanner of this kind runs.
    pub fn runs(&self, kind: DetectionKind) -> bool {
        match kind {
            DetectionKind::Secret => self.secret,
            DetectionKind::Config => self.config,
            DetectionKind::File => self.file,
        }
    }

    /// The names of the scanners that run, in the order `--scanners` lists them.
    pub fn names(&self) -> Vec<&'static str> {
        [
            (self.vuln, "vuln"),
            (self.secret, "secret"),
            (self.config, "config"),
            (self.file, "file"),
        ]
        .into_iter()
        .filter_map(|(on, n)| on.then_some(n))
        .collect()
    }
}

/// Where a detection is.
#[derive(Debug, Clone, Default, PartialEq, Eq, PartialOrd, Ord, Serialize, Deserialize)]
pub struct Location {
    /// The diff_id of the layer it is in (for a history secret: the layer that added the
    /// file); `None` for a `dir:` source and for findings on the config as a whole.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub layer: Option<Digest>,
    /// That layer's index, 0 at the base.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub layer_index: Option<usize>,
    /// The absolute path in the image (`/app/config/.env`), or where in the config it is
    /// (`config:Env GITHUB_TOKEN`, `history[7].created_by`).
    pub path: String,
    /// The 1-based line, for a secret in a file.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub line: Option<usize>,
}

/// One secret, config or file finding.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Detection {
    /// The stable kebab-case code (`secret-aws-access-key`, `config-root-user`,
    /// `file-setuid`, `secret-in-layer-history`); policies and `--skip-check` name it.
    pub code: String,
    /// Which scanner made it.
    pub kind: DetectionKind,
    /// How bad it is.
    pub severity: Severity,
    /// A one-line title (`AWS access key ID`).
    pub title: String,
    /// What was found, in a sentence. Never holds a secret's value: matched values are
    /// redacted before a detection is made.
    pub message: String,
    /// Where.
    pub location: Location,
    /// For `secret-in-layer-history`: the later layer that deleted or replaced the file.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub removed_in: Option<Location>,
    /// The matched line with the secret redacted (`AWS_ACCESS_KEY_ID=********`).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub evidence: Option<String>,
    /// The secret rule (for `secret-in-layer-history`, the rule that matched) or the check's
    /// external ids: `CIS-DI-0001`, `DKL-DI-0005`, CIS Docker Benchmark `4.1`.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub references: Vec<String>,
}
