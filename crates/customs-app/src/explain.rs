//! Why a vulnerability is reported for an image, or why it is not (`customs explain`).

use std::cmp::Ordering;
use std::fmt;

use customs_match::Finding;
use customs_types::{Feed, Namespace};
use customs_vulndb::{Status, VulnDb};
use serde::Serialize;

use crate::Result;
use crate::report::ScanReport;

/// What the database says about an id that produced no finding, statement by statement.
#[derive(Debug, Clone, Serialize)]
pub struct Statement {
    /// The advisory.
    pub advisory: String,
    /// Its feed.
    pub feed: Feed,
    /// Where in the feed.
    pub record: String,
    /// Whether the advisory was withdrawn.
    pub withdrawn: bool,
    /// Where the statement applies.
    pub namespace: Namespace,
    /// The package it names.
    pub package: String,
    /// Why it gave no finding here.
    pub verdict: Verdict,
}

/// Why one statement gave no finding.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[serde(tag = "verdict", rename_all = "kebab-case")]
pub enum Verdict {
    /// The statement is about another distribution or release.
    OtherNamespace,
    /// No installed package is the one named, or built from it.
    NotInstalled,
    /// The installed version is below the fix: a finding should exist (a filter hid it?).
    ShouldMatch {
        /// The installed (source) version.
        installed: String,
        /// The fixed version.
        fixed: String,
    },
    /// The installed version has the fix.
    AlreadyFixed {
        /// The installed (source) version.
        installed: String,
        /// The fixed version.
        fixed: String,
    },
    /// The versions could not be compared.
    CannotCompare {
        /// Why.
        why: String,
    },
    /// Any other status, as the database states it.
    Status {
        /// The status.
        status: String,
    },
}

impl fmt::Display for Verdict {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Self::OtherNamespace => f.write_str("namespace does not apply to this image"),
            Self::NotInstalled => f.write_str("no installed package is it or built from it"),
            Self::ShouldMatch { installed, fixed } => {
                write!(
                    f,
                    "installed {installed} < fixed {fixed}: should match (filtered?)"
                )
            }
            Self::AlreadyFixed { installed, fixed } => {
                write!(f, "installed {installed} >= fixed {fixed}: already fixed")
            }
            Self::CannotCompare { why } => write!(f, "cannot compare: {why}"),
            Self::Status { status } => write!(f, "status {status}"),
        }
    }
}

/// Why `id` is or is not a finding of a scan.
#[derive(Debug, Clone, Serialize)]
pub struct Explanation {
    /// The id asked about.
    pub id: String,
    /// The findings with that id or alias.
    pub findings: Vec<Finding>,
    /// When there is none: every statement the database has about the id. Empty with no
    /// findings: the database does not know the id at all.
    pub statements: Vec<Statement>,
}

/// Explain `id` (a CVE or an advisory id, or an alias) for a scan.
///
/// # Errors
/// The database's errors.
pub fn explain(report: &ScanReport, db: &VulnDb, id: &str) -> Result<Explanation> {
    let findings: Vec<Finding> = report
        .findings
        .iter()
        .filter(|f| f.id == id || f.aliases.iter().any(|a| a == id))
        .cloned()
        .collect();
    let mut statements = Vec::new();
    if findings.is_empty() {
        for (head, affected) in db.advisories_named(id)? {
            for a in affected {
                let verdict = verdict(report, &a);
                statements.push(Statement {
                    advisory: head.id.clone(),
                    feed: head.feed,
                    record: head.record.clone(),
                    withdrawn: head.withdrawn,
                    namespace: a.namespace,
                    package: a.package,
                    verdict,
                });
            }
        }
    }
    Ok(Explanation {
        id: id.to_owned(),
        findings,
        statements,
    })
}

fn verdict(report: &ScanReport, a: &customs_vulndb::Affected) -> Verdict {
    let language = a.namespace.is_osv()
        && a.namespace
            .ecosystem()
            .is_some_and(|e| !e.is_os() && Namespace::language(e).as_ref() == Some(&a.namespace));
    if !language && !report.namespaces.contains(&a.namespace) {
        return Verdict::OtherNamespace;
    }
    let installed = report.inventory.packages.iter().find(|p| {
        (p.source_name.as_deref() == Some(a.package.as_str()) || p.name == a.package)
            && (!language || a.namespace.ecosystem() == Some(p.ecosystem))
    });
    let Some(p) = installed else {
        return Verdict::NotInstalled;
    };
    let v = p
        .source_version
        .clone()
        .unwrap_or_else(|| p.version.clone());
    match &a.status {
        Status::Fixed { fixed, .. } => match customs_version::compare(p.ecosystem, &v, fixed) {
            Ok(Ordering::Less) => Verdict::ShouldMatch {
                installed: v,
                fixed: fixed.clone(),
            },
            Ok(_) => Verdict::AlreadyFixed {
                installed: v,
                fixed: fixed.clone(),
            },
            Err(e) => Verdict::CannotCompare { why: e.to_string() },
        },
        other => Verdict::Status {
            status: format!("{other:?}"),
        },
    }
}
