//! The gate (`customs scan --policy`): a policy file applied to one scan report, with the
//! image's repository (exceptions may be scoped to it) and the signature verdict (a rule may
//! want the image signed).

use customs_policy::vex::{VexDocument, VexIgnored};
use customs_policy::{Input, Policy, Verdict};
use customs_types::Timestamp;

use crate::report::{Outcome, ScanReport};

/// `REGISTRY/REPOSITORY` of a scanned image when it came from a registry.
#[must_use]
pub fn repository_of(report: &ScanReport) -> Option<String> {
    let parsed = customs_image::SourceRef::parse(&report.inventory.source.reference).ok()?;
    if parsed.kind != customs_image::SourceKind::Registry {
        return None;
    }
    parsed
        .image
        .map(|r| format!("{}/{}", r.registry, r.repository))
}

/// `policy` applied to `report` at `now`. The signature counts as signed only when the trust
/// policy's verdict passed; a scan without one leaves it unknown, which a rule that wants a
/// signature does not pass.
#[must_use]
pub fn judge(policy: &Policy, report: &ScanReport, now: Timestamp) -> Verdict {
    let repository = repository_of(report);
    customs_policy::evaluate(
        policy,
        &Input {
            findings: &report.findings,
            repository: repository.as_deref(),
            signed: report
                .signature
                .as_ref()
                .map(|v| v.outcome == Outcome::Pass),
            now,
        },
    )
}

/// Marks the findings an exception of `policy` covers (at `now`) as suppressed
/// (`excepted: OWNER until DATE: REASON`), so that the report's views, `--fail-on` and the
/// policy agree: a risk accepted never blocks, and shows with its owner where suppressed
/// findings show. Findings the vendor already suppressed keep the vendor's reason.
pub fn mark_exceptions(policy: &Policy, report: &mut ScanReport, now: Timestamp) {
    let repository = repository_of(report);
    for f in &mut report.findings {
        if f.suppressed.is_some() {
            continue;
        }
        if let customs_policy::Covering::Live(e) = policy.covering(f, repository.as_deref(), now) {
            let until = e
                .expires
                .as_deref()
                .map_or_else(|| "no end".to_owned(), |d| format!("until {d}"));
            f.suppressed = Some(customs_match::Suppression::Excepted {
                reason: format!("{} {until}: {}", e.owner, e.reason),
            });
        }
    }
}

/// Applies VEX documents to `report`: each finding the latest statement about it calls
/// `not_affected` or `fixed` is suppressed with the statement's words, and the report says
/// which documents were read, what they suppressed, and which were found but `ignored`.
/// Run it before [`judge`], so that the policy and `--fail-on` agree on what VEX suppressed.
pub fn apply_vex(documents: &[VexDocument], ignored: Vec<VexIgnored>, report: &mut ScanReport) {
    let image = customs_report::image_purl(&report.inventory);
    let mut vex = customs_policy::vex::apply(documents, &mut report.findings, image.as_deref());
    vex.ignored = ignored;
    report.vex = Some(vex);
}
