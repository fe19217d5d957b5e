//! The rules of one entry of the risk register (`DOMAIN.md` §5): what a risk must name, how
//! its ratings are checked and levelled, when an impact that differs from the suggestion
//! needs a reason, and what becomes of an acceptance when the risk is written.
//!
//! Decisions:
//! - A risk names linked assets, or an asset group in words ("住民情報系の端末一式"), or both;
//!   one of the two is required.
//! - Residual ratings default to the inherent ones and may not exceed them (controls and
//!   treatment lower a risk, they never raise it).
//! - An impact other than the one suggested from the linked assets' classes needs a reason,
//!   kept with the risk.
//! - 受容 at or above the acceptance threshold is never saved by a plain edit: it is
//!   *requested* (the register records who asked) and decided by the CISO. A later edit that
//!   keeps the treatment and the residual ratings keeps the acceptance as it stands; changing
//!   either asks again.

use super::{RiskLevel, RiskScale, Treatment};
use crate::catalogue::{MAX_DESCRIPTION, MAX_TITLE};
use serde::{Deserialize, Serialize};
use time::Date;

/// Where an acceptance above the threshold stands.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Acceptance {
    /// Requested, waiting for the CISO.
    Pending,
    /// Approved by the CISO.
    Approved,
    /// Rejected by the CISO: the treatment must be reconsidered.
    Rejected,
}

impl Acceptance {
    /// Stable code.
    pub fn code(self) -> &'static str {
        match self {
            Acceptance::Pending => "pending",
            Acceptance::Approved => "approved",
            Acceptance::Rejected => "rejected",
        }
    }

    /// Parses a code.
    pub fn from_code(code: &str) -> Option<Acceptance> {
        [
            Acceptance::Pending,
            Acceptance::Approved,
            Acceptance::Rejected,
        ]
        .into_iter()
        .find(|a| a.code() == code)
    }
}

/// Whether a risk is still being managed.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum RiskStatus {
    /// 対応中: counted in the heat map and coverage.
    Open,
    /// 終了: kept for history (the asset was retired, the threat no longer applies).
    Closed,
}

impl RiskStatus {
    /// Stable code.
    pub fn code(self) -> &'static str {
        match self {
            RiskStatus::Open => "open",
            RiskStatus::Closed => "closed",
        }
    }

    /// The Japanese label, also accepted in files.
    pub fn japanese(self) -> &'static str {
        match self {
            RiskStatus::Open => "対応中",
            RiskStatus::Closed => "終了",
        }
    }

    /// Parses a code or the Japanese label.
    pub fn parse(text: &str) -> Option<RiskStatus> {
        let text = text.trim();
        [RiskStatus::Open, RiskStatus::Closed]
            .into_iter()
            .find(|s| s.code() == text || s.japanese() == text)
    }
}

/// A risk as a form, the API or a file gives it. References are as written (unit code or
/// name, owner staff id, threat code, asset ids, control codes); the store resolves them.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct RiskDraft {
    /// Stable code (`R-0001`); empty on a new risk: the register numbers it.
    pub code: String,
    /// What could happen, in a line.
    pub title: String,
    /// The unit that owns the risk (code or name).
    pub unit: String,
    /// The person responsible (staff id; empty: nobody named yet).
    pub owner: String,
    /// Threat code (`T1-01`).
    pub threat: String,
    /// The weakness or missing control the threat would exploit.
    pub weakness: String,
    /// An asset group in words, when the risk concerns more than named assets.
    pub asset_group: String,
    /// Linked assets (Mamori's asset ids).
    pub assets: Vec<i64>,
    /// Linked controls (codes).
    pub controls: Vec<String>,
    /// Likelihood (1…scale maximum).
    pub likelihood: i64,
    /// Impact (1…scale maximum).
    pub impact: i64,
    /// Why the impact differs from the suggested one.
    pub impact_reason: String,
    /// Treatment; `None` when not given (defaults to 低減).
    pub treatment: Option<Treatment>,
    /// How it is treated, in words.
    pub treatment_note: String,
    /// Residual likelihood (defaults to the likelihood).
    pub residual_likelihood: Option<i64>,
    /// Residual impact (defaults to the impact).
    pub residual_impact: Option<i64>,
    /// Next review date.
    pub review_on: Option<Date>,
    /// Open or closed (default open).
    pub status: Option<RiskStatus>,
}

/// Ratings checked against the scale, with their levels.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Rating {
    /// Likelihood.
    pub likelihood: u8,
    /// Impact.
    pub impact: u8,
    /// Level of likelihood × impact.
    pub level: RiskLevel,
    /// Residual likelihood.
    pub residual_likelihood: u8,
    /// Residual impact.
    pub residual_impact: u8,
    /// Residual level.
    pub residual_level: RiskLevel,
}

/// The longest weakness, treatment note or reason.
pub const MAX_NOTE: usize = MAX_DESCRIPTION;
/// The most assets or controls one risk may link.
pub const MAX_LINKS: usize = 500;

/// A problem with one field of a draft: (field, Fluent message id).
pub type FieldProblem = (&'static str, &'static str);

/// The register's code for its `n`th risk (`R-0001`).
pub fn numbered_code(n: i64) -> String {
    format!("R-{n:04}")
}

impl RiskDraft {
    /// Checks the draft against the scale and the impact suggested by its linked assets'
    /// classes (`None` when no linked asset gives one), returning its ratings or every
    /// problem by field.
    pub fn rate(
        &self,
        scale: RiskScale,
        suggested_impact: Option<u8>,
    ) -> Result<Rating, Vec<FieldProblem>> {
        let mut p = Vec::new();
        if !self.code.is_empty() && !crate::catalogue::is_valid_catalogue_code(&self.code) {
            p.push(("code", "risk-error-code"));
        }
        if self.title.trim().is_empty() {
            p.push(("title", "error-required"));
        } else if self.title.chars().count() > MAX_TITLE {
            p.push(("title", "error-too-long"));
        }
        if self.unit.trim().is_empty() {
            p.push(("unit", "error-required"));
        }
        if self.threat.trim().is_empty() {
            p.push(("threat", "error-required"));
        }
        if self.assets.is_empty() && self.asset_group.trim().is_empty() {
            p.push(("assets", "risk-error-no-assets"));
        }
        if self.assets.len() > MAX_LINKS || self.controls.len() > MAX_LINKS {
            p.push(("assets", "risk-error-too-many-links"));
        }
        for (field, text) in [
            ("weakness", &self.weakness),
            ("asset_group", &self.asset_group),
            ("impact_reason", &self.impact_reason),
            ("treatment_note", &self.treatment_note),
        ] {
            if text.chars().count() > MAX_NOTE {
                p.push((field, "error-too-long"));
            }
        }
        let mut rating = |field: &'static str, value: i64, impact: bool| {
            let checked = if impact {
                scale.impact(value)
            } else {
                scale.likelihood(value)
            };
            checked.map_err(|e| p.push((field, e.message))).ok()
        };
        let likelihood = rating("likelihood", self.likelihood, false);
        let impact = rating("impact", self.impact, true);
        // A residual rating not given is the inherent one (checked once, above).
        let residual_likelihood = match self.residual_likelihood {
            Some(v) => rating("residual_likelihood", v, false),
            None => likelihood,
        };
        let residual_impact = match self.residual_impact {
            Some(v) => rating("residual_impact", v, true),
            None => impact,
        };
        if let (Some(i), Some(s)) = (impact, suggested_impact) {
            if i != s && self.impact_reason.trim().is_empty() {
                p.push(("impact_reason", "risk-error-impact-reason"));
            }
        }
        if let (Some(l), Some(rl)) = (likelihood, residual_likelihood) {
            if rl > l {
                p.push(("residual_likelihood", "risk-error-residual-above-inherent"));
            }
        }
        if let (Some(i), Some(ri)) = (impact, residual_impact) {
            if ri > i {
                p.push(("residual_impact", "risk-error-residual-above-inherent"));
            }
        }
        match (likelihood, impact, residual_likelihood, residual_impact) {
            (Some(l), Some(i), Some(rl), Some(ri)) if p.is_empty() => Ok(Rating {
                likelihood: l,
                impact: i,
                level: scale.level(l, i),
                residual_likelihood: rl,
                residual_impact: ri,
                residual_level: scale.level(rl, ri),
            }),
            _ => Err(p),
        }
    }

    /// The treatment, 低減 when none was given.
    pub fn treatment(&self) -> Treatment {
        self.treatment.unwrap_or(Treatment::Reduce)
    }
}

/// What a risk held before a write, for deciding its acceptance.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct AcceptanceBefore {
    /// The treatment.
    pub treatment: Treatment,
    /// Residual likelihood.
    pub residual_likelihood: u8,
    /// Residual impact.
    pub residual_impact: u8,
    /// Where its acceptance stood.
    pub acceptance: Option<Acceptance>,
}

/// The acceptance a risk holds after a plain write (a form, the API, an import row), or the
/// refusal `risk-error-accept-needs-request` when the write would accept a risk at or above
/// the threshold without a request. `requesting` is true for the request itself, which always
/// starts a new decision.
pub fn acceptance_after_write(
    treatment: Treatment,
    rating: &Rating,
    threshold: RiskLevel,
    before: Option<AcceptanceBefore>,
    requesting: bool,
) -> Result<Option<Acceptance>, FieldProblem> {
    if treatment != Treatment::Accept
        || !super::acceptance_needs_approval(rating.residual_level, threshold)
    {
        return Ok(None);
    }
    if requesting {
        return Ok(Some(Acceptance::Pending));
    }
    match before {
        Some(b)
            if b.treatment == Treatment::Accept
                && b.residual_likelihood == rating.residual_likelihood
                && b.residual_impact == rating.residual_impact
                && b.acceptance.is_some() =>
        {
            Ok(b.acceptance)
        }
        _ => Err(("treatment", "risk-error-accept-needs-request")),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn draft() -> RiskDraft {
        RiskDraft {
            title: "ランサムウェアによる財務会計システムの停止".into(),
            unit: "zaisei".into(),
            threat: "T1-01".into(),
            assets: vec![12],
            likelihood: 2,
            impact: 3,
            ..RiskDraft::default()
        }
    }

    #[test]
    fn a_draft_is_rated_on_the_scale_with_residual_defaulting_to_inherent() {
        let r = draft()
            .rate(RiskScale::ThreeByThree, Some(3))
            .expect("valid");
        assert_eq!((r.likelihood, r.impact, r.level), (2, 3, RiskLevel::High));
        assert_eq!(
            (r.residual_likelihood, r.residual_impact, r.residual_level),
            (2, 3, RiskLevel::High)
        );
        let lowered = RiskDraft {
            residual_likelihood: Some(1),
            residual_impact: Some(2),
            ..draft()
        };
        let r = lowered.rate(RiskScale::ThreeByThree, Some(3)).expect("ok");
        assert_eq!(r.residual_level, RiskLevel::Low);
    }

    #[test]
    fn every_problem_is_named_by_its_field() {
        let bad = RiskDraft {
            code: "R 1".into(),
            title: " ".into(),
            threat: String::new(),
            assets: vec![],
            likelihood: 4,
            impact: 0,
            residual_likelihood: Some(9),
            ..draft()
        };
        let p = bad.rate(RiskScale::ThreeByThree, None).expect_err("bad");
        let fields: Vec<&str> = p.iter().map(|(f, _)| *f).collect();
        assert_eq!(
            fields,
            [
                "code",
                "title",
                "threat",
                "assets",
                "likelihood",
                "impact",
                "residual_likelihood"
            ]
        );
        assert!(p.contains(&("likelihood", "risk-likelihood-out-of-scale")));
        assert!(p.contains(&("impact", "risk-impact-out-of-scale")));
        // The same 4 is fine on 5×5.
        let five = RiskDraft {
            likelihood: 4,
            impact: 5,
            ..draft()
        };
        assert!(five.rate(RiskScale::FiveByFive, None).is_ok());
    }

    #[test]
    fn an_asset_group_in_words_stands_in_for_linked_assets() {
        let group = RiskDraft {
            assets: vec![],
            asset_group: "窓口端末一式".into(),
            ..draft()
        };
        assert!(group.rate(RiskScale::ThreeByThree, None).is_ok());
    }

    #[test]
    fn an_impact_other_than_the_suggestion_needs_a_reason() {
        let lower = RiskDraft {
            impact: 2,
            ..draft()
        };
        assert_eq!(
            lower.rate(RiskScale::ThreeByThree, Some(3)),
            Err(vec![("impact_reason", "risk-error-impact-reason")])
        );
        let reasoned = RiskDraft {
            impact_reason: "バックアップから半日で復旧できる".into(),
            ..lower
        };
        assert!(reasoned.rate(RiskScale::ThreeByThree, Some(3)).is_ok());
        assert!(draft().rate(RiskScale::ThreeByThree, None).is_ok());
    }

    #[test]
    fn residual_ratings_never_exceed_the_inherent_ones() {
        let worse = RiskDraft {
            likelihood: 1,
            residual_likelihood: Some(2),
            ..draft()
        };
        assert_eq!(
            worse.rate(RiskScale::ThreeByThree, Some(3)),
            Err(vec![(
                "residual_likelihood",
                "risk-error-residual-above-inherent"
            )])
        );
    }

    #[test]
    fn accepting_above_the_threshold_is_requested_and_kept_only_while_unchanged() {
        let scale = RiskScale::ThreeByThree;
        let high = draft().rate(scale, Some(3)).expect("ok");
        let low = RiskDraft {
            residual_likelihood: Some(1),
            residual_impact: Some(1),
            ..draft()
        }
        .rate(scale, Some(3))
        .expect("ok");
        let medium = RiskLevel::Medium;
        let accept = Treatment::Accept;
        // Below the threshold: accepted without anyone's approval.
        assert_eq!(
            acceptance_after_write(accept, &low, medium, None, false),
            Ok(None)
        );
        // Above it: a plain write is refused; the request starts a decision.
        assert_eq!(
            acceptance_after_write(accept, &high, medium, None, false),
            Err(("treatment", "risk-error-accept-needs-request"))
        );
        assert_eq!(
            acceptance_after_write(accept, &high, medium, None, true),
            Ok(Some(Acceptance::Pending))
        );
        let approved = AcceptanceBefore {
            treatment: accept,
            residual_likelihood: 2,
            residual_impact: 3,
            acceptance: Some(Acceptance::Approved),
        };
        assert_eq!(
            acceptance_after_write(accept, &high, medium, Some(approved), false),
            Ok(Some(Acceptance::Approved))
        );
        // A changed residual rating is a new question.
        let other = AcceptanceBefore {
            residual_impact: 2,
            ..approved
        };
        assert!(acceptance_after_write(accept, &high, medium, Some(other), false).is_err());
        // Another treatment drops any acceptance.
        assert_eq!(
            acceptance_after_write(Treatment::Reduce, &high, medium, Some(approved), false),
            Ok(None)
        );
        // A higher threshold lets 高 through… only when 高 is below it: never on this scale.
        assert!(acceptance_after_write(accept, &high, RiskLevel::High, None, false).is_err());
        assert_eq!(numbered_code(7), "R-0007");
    }
}
