//! The gate: a policy file that says which findings, which secret, config and file detections
//! and which image facts block an image, the exceptions a team has granted (each with an
//! owner, a reason and an expiry), and the verdict they give for one scan.
//!
//! ```yaml
//! version: 1
//! mode: enforce                      # or warn: the verdict is reported, never a failure
//! allow-permanent-exceptions: false  # an exception without `expires` is an error unless true
//! rules:
//!   - name: critical-fixable
//!     action: fail                   # fail (default) or warn
//!     findings:                      # every condition given must hold for a finding
//!       severity-at-least: high      # unknown < negligible < low < medium < high < critical
//!       fixable: true
//!       kev: true                    # in CISA's Known Exploited Vulnerabilities catalog
//!       epss-above: 0.5              # EPSS probability strictly above
//!       ecosystems: [deb, pypi]
//!       packages: ["openssl", "pkg:deb/debian/libc6*"]   # name or purl globs
//!   - name: no-secrets
//!     detections:                    # every condition given must hold for a detection
//!       codes: ["secret-*"]          # globs over the code (docs/checks.md)
//!       kinds: [secret]              # secret, config, file
//!       severity-at-least: medium
//!       paths: ["/app/**"]           # globs over the path (or `config:Env *`)
//!   - name: signed
//!     image:
//!       signed: true                 # the trust policy's verdict (scan --trust-policy) passed
//! exceptions:
//!   - vulnerability: CVE-2023-1234   # the finding's id or one of its aliases
//!     packages: ["pkg:deb/debian/openssl*"]        # optional: name or purl globs
//!     repositories: ["registry.example/app/**"]    # optional: REGISTRY/REPOSITORY globs
//!     reason: the vulnerable function is not called
//!     owner: alice@example.com
//!     created: 2026-11-01
//!     expires: 2027-01-31            # applies through that day, not after
//!     ticket: https://tracker.example/SEC-12
//!   - code: config-no-healthcheck    # or a detection code (glob) instead of a vulnerability
//!     paths: ["config:Healthcheck"]  # optional: globs over the detection's path
//!     repositories: ["registry.example/jobs/*"]
//!     reason: batch jobs run to completion; Kubernetes probes them
//!     owner: bob@example.com
//!     created: 2026-11-01
//!     expires: 2027-05-01
//! ```
//!
//! A finding the vendor suppressed (not affected, won't fix, unimportant) or an exception
//! covers never matches a rule. An exception past its date stops applying, and a finding it
//! used to cover names it. A rule about the image that cannot be judged (no signature verdict,
//! a detections rule whose scanner did not run or whose checks were skipped) is a violation,
//! not a pass. Every mistake in the file is an error with its line and column.

mod detections;
mod eval;
mod examples;
mod file;
pub mod harbor;
mod rego;
pub mod vex;

pub use detections::{
    AppliedDetectionException, DetectionConditions, DetectionException, DetectionRef, Detections,
    ExpiredDetectionException,
};
pub use eval::{
    AppliedException, AppliedOverride, BaseImage, Covering, ExpiredException, Input, Outcome,
    PackageFact, Verdict, Violation, ViolationCode, evaluate,
};
pub use examples::{Example, ExampleResult, Expectation};
pub use file::{
    Action, Banned, Exception, FindingConditions, Globs, ImageConditions, LayerOrigin, Mode, On,
    Op, Override, Policy, Rule, VersionRange,
};
pub use rego::RegoRule;

pub use customs_sign::policy::PolicyError;
