//! Risk analysis rules of clause 8 (`DOMAIN.md` §5): likelihood and impact scales, the level
//! matrix, the impact suggested from the linked assets' classes, treatments, the acceptance
//! rule and when a risk is due for review. Pure functions; the register stores what they decide.

use crate::assets::classification::Class;
use serde::{Deserialize, Serialize};

pub mod register;

/// The scale an organisation rates likelihood and impact on.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
pub enum RiskScale {
    /// 3×3 (the default): likelihood まれ / ときどき / 頻繁, impact 軽微 / 重大 / 甚大.
    #[serde(rename = "3x3")]
    ThreeByThree,
    /// 5×5.
    #[serde(rename = "5x5")]
    FiveByFive,
}

/// A risk level, as the matrix gives it.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum RiskLevel {
    /// 低.
    Low,
    /// 中.
    Medium,
    /// 高.
    High,
}

impl RiskLevel {
    /// Stable code (`low`, `medium`, `high`).
    pub fn code(self) -> &'static str {
        match self {
            RiskLevel::Low => "low",
            RiskLevel::Medium => "medium",
            RiskLevel::High => "high",
        }
    }

    /// Parses a code.
    pub fn from_code(code: &str) -> Option<RiskLevel> {
        [RiskLevel::Low, RiskLevel::Medium, RiskLevel::High]
            .into_iter()
            .find(|l| l.code() == code)
    }

    /// The Japanese label (低 / 中 / 高), as the policy's own tables write it.
    pub fn japanese(self) -> &'static str {
        match self {
            RiskLevel::Low => "低",
            RiskLevel::Medium => "中",
            RiskLevel::High => "高",
        }
    }
}

/// A rating outside the scale (Fluent message id and the allowed maximum).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct OutOfScale {
    /// `risk-likelihood-out-of-scale` or `risk-impact-out-of-scale`.
    pub message: &'static str,
    /// The largest value the scale allows.
    pub max: u8,
}

impl RiskScale {
    /// Stable code (`3x3`, `5x5`).
    pub fn code(self) -> &'static str {
        match self {
            RiskScale::ThreeByThree => "3x3",
            RiskScale::FiveByFive => "5x5",
        }
    }

    /// Parses a code.
    pub fn from_code(code: &str) -> Option<RiskScale> {
        match code {
            "3x3" => Some(RiskScale::ThreeByThree),
            "5x5" => Some(RiskScale::FiveByFive),
            _ => None,
        }
    }

    /// The largest rating on either axis.
    pub fn max(self) -> u8 {
        match self {
            RiskScale::ThreeByThree => 3,
            RiskScale::FiveByFive => 5,
        }
    }

    /// Checks a likelihood rating.
    pub fn likelihood(self, value: i64) -> Result<u8, OutOfScale> {
        self.rating(value, "risk-likelihood-out-of-scale")
    }

    /// Checks an impact rating.
    pub fn impact(self, value: i64) -> Result<u8, OutOfScale> {
        self.rating(value, "risk-impact-out-of-scale")
    }

    fn rating(self, value: i64, message: &'static str) -> Result<u8, OutOfScale> {
        match u8::try_from(value) {
            Ok(v) if (1..=self.max()).contains(&v) => Ok(v),
            _ => Err(OutOfScale {
                message,
                max: self.max(),
            }),
        }
    }

    /// The level of likelihood × impact (both already checked): on 3×3, 1–2 低, 3–4 中,
    /// 6–9 高; on 5×5, 1–4 低, 5–12 中, 15–25 高 (`DOMAIN.md` §5).
    pub fn level(self, likelihood: u8, impact: u8) -> RiskLevel {
        let product = u16::from(likelihood) * u16::from(impact);
        let (low_max, medium_max) = match self {
            RiskScale::ThreeByThree => (2, 4),
            RiskScale::FiveByFive => (4, 12),
        };
        if product <= low_max {
            RiskLevel::Low
        } else if product <= medium_max {
            RiskLevel::Medium
        } else {
            RiskLevel::High
        }
    }

    /// The impact suggested by the linked assets' classes, the highest winning (`None` when
    /// no asset is linked). On the 3-point basis: 3 when confidentiality is 3A or 3B (classic
    /// 3); 2 when it is 3C or 2, or integrity or availability is 2; otherwise 1; one step
    /// higher, up to 3, when the asset holds personal data. On 5×5 the 3-point value is spread
    /// over the scale (1 → 1, 2 → 3, 3 → 5) and personal data adds one step, up to 5.
    pub fn suggest_impact<'a>(
        self,
        assets: impl IntoIterator<Item = (&'a Class, bool)>,
    ) -> Option<u8> {
        assets
            .into_iter()
            .map(|(class, personal_data)| {
                let base = three_point_impact(class);
                match self {
                    RiskScale::ThreeByThree => (base + u8::from(personal_data)).min(3),
                    RiskScale::FiveByFive => (base * 2 - 1 + u8::from(personal_data)).min(5),
                }
            })
            .max()
    }
}

fn three_point_impact(class: &Class) -> u8 {
    match class.confidentiality.as_str() {
        "3A" | "3B" | "3" => 3,
        "3C" | "2" => 2,
        _ if class.integrity == "2" || class.availability == "2" => 2,
        _ => 1,
    }
}

/// How a risk is treated.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Treatment {
    /// 低減.
    Reduce,
    /// 回避.
    Avoid,
    /// 移転.
    Transfer,
    /// 受容.
    Accept,
}

impl Treatment {
    /// Every treatment, in the order people read them.
    pub const ALL: [Treatment; 4] = [
        Treatment::Reduce,
        Treatment::Avoid,
        Treatment::Transfer,
        Treatment::Accept,
    ];

    /// Stable code.
    pub fn code(self) -> &'static str {
        match self {
            Treatment::Reduce => "reduce",
            Treatment::Avoid => "avoid",
            Treatment::Transfer => "transfer",
            Treatment::Accept => "accept",
        }
    }

    /// The Japanese label (低減, 回避, 移転, 受容), also accepted in files.
    pub fn japanese(self) -> &'static str {
        match self {
            Treatment::Reduce => "低減",
            Treatment::Avoid => "回避",
            Treatment::Transfer => "移転",
            Treatment::Accept => "受容",
        }
    }

    /// Parses a code or a Japanese label.
    pub fn parse(text: &str) -> Option<Treatment> {
        let text = text.trim();
        Treatment::ALL
            .into_iter()
            .find(|t| t.code() == text || t.japanese() == text)
    }
}

/// Whether accepting a risk at `residual` needs the CISO's approval: at or above the
/// organisation's `threshold` (default 中).
pub fn acceptance_needs_approval(residual: RiskLevel, threshold: RiskLevel) -> bool {
    residual >= threshold
}

/// Why an acceptance approval was refused (a Fluent message id).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ApprovalRefusal {
    /// The approver asked for the acceptance.
    ApproverIsRequester,
    /// The treatment is not 受容, or no approval is needed.
    NothingToApprove,
    /// Already approved.
    AlreadyApproved,
}

impl ApprovalRefusal {
    /// The Fluent message id.
    pub fn message_id(self) -> &'static str {
        match self {
            ApprovalRefusal::ApproverIsRequester => "risk-refused-approver-is-requester",
            ApprovalRefusal::NothingToApprove => "risk-refused-nothing-to-approve",
            ApprovalRefusal::AlreadyApproved => "risk-refused-already-approved",
        }
    }
}

/// Decides a CISO's decision (approval or rejection) on an acceptance: there must be a
/// pending request, and the decider is never the requester.
pub fn decide_acceptance(
    treatment: Treatment,
    acceptance: Option<register::Acceptance>,
    requested_by: Option<&str>,
    decider: &str,
) -> Result<(), ApprovalRefusal> {
    use register::Acceptance;
    match acceptance {
        Some(Acceptance::Approved) => return Err(ApprovalRefusal::AlreadyApproved),
        Some(Acceptance::Pending) if treatment == Treatment::Accept => {}
        _ => return Err(ApprovalRefusal::NothingToApprove),
    }
    if requested_by == Some(decider) {
        return Err(ApprovalRefusal::ApproverIsRequester);
    }
    Ok(())
}

/// Why a risk is due for review, as the register shows it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub enum ReviewReason {
    /// Its review date has passed.
    DatePassed,
    /// A linked asset's classification changed.
    AssetClassChanged {
        /// The asset's id.
        asset_id: i64,
    },
    /// Something was linked to it as a reason for review (an incident, an audit finding…):
    /// the one mechanism every later record uses.
    Linked {
        /// The kind of record (`incident`, `finding`…).
        kind: String,
        /// Its reference.
        reference: String,
        /// The reason in the linker's words.
        reason: String,
    },
}

/// Whether a risk is due for review on `today` (`YYYY-MM-DD` dates compare as text), given
/// its review date and the reasons raised since its last review.
pub fn due_for_review(
    review_on: Option<&str>,
    today: &str,
    raised: &[ReviewReason],
) -> Vec<ReviewReason> {
    let mut reasons = Vec::new();
    if review_on.is_some_and(|d| d < today) {
        reasons.push(ReviewReason::DatePassed);
    }
    reasons.extend(raised.iter().cloned());
    reasons
}

#[cfg(test)]
mod tests {
    use super::*;

    fn class(c: &str, i: &str, a: &str) -> Class {
        Class {
            confidentiality: c.into(),
            integrity: i.into(),
            availability: a.into(),
        }
    }

    #[test]
    fn the_default_matrix_and_the_five_point_one() {
        let s = RiskScale::ThreeByThree;
        let grid: Vec<Vec<&str>> = (1..=3)
            .map(|l| (1..=3).map(|i| s.level(l, i).japanese()).collect())
            .collect();
        assert_eq!(
            grid,
            [["低", "低", "中"], ["低", "中", "高"], ["中", "高", "高"]]
        );
        let f = RiskScale::FiveByFive;
        assert_eq!(f.level(1, 4), RiskLevel::Low);
        assert_eq!(f.level(1, 5), RiskLevel::Medium);
        assert_eq!(f.level(3, 4), RiskLevel::Medium);
        assert_eq!(f.level(3, 5), RiskLevel::High);
    }

    #[test]
    fn ratings_outside_the_scale_are_refused() {
        let s = RiskScale::ThreeByThree;
        assert_eq!(s.likelihood(3), Ok(3));
        assert_eq!(
            s.likelihood(4).map_err(|e| (e.message, e.max)),
            Err(("risk-likelihood-out-of-scale", 3))
        );
        assert!(s.impact(0).is_err());
        assert!(s.impact(-1).is_err());
        assert_eq!(RiskScale::FiveByFive.impact(5), Ok(5));
    }

    #[test]
    fn impact_is_suggested_from_the_highest_linked_class() {
        let s = RiskScale::ThreeByThree;
        let zaimu = class("3B", "2", "2");
        let notice = class("1", "1", "1");
        let internal = class("2", "1", "1");
        assert_eq!(s.suggest_impact([(&notice, false)]), Some(1));
        assert_eq!(s.suggest_impact([(&notice, true)]), Some(2));
        assert_eq!(s.suggest_impact([(&internal, false)]), Some(2));
        assert_eq!(s.suggest_impact([(&class("1", "2", "1"), false)]), Some(2));
        assert_eq!(s.suggest_impact([(&class("3C", "1", "1"), true)]), Some(3));
        assert_eq!(
            s.suggest_impact([(&notice, false), (&zaimu, false)]),
            Some(3)
        );
        assert_eq!(s.suggest_impact([(&class("3", "1", "1"), false)]), Some(3));
        assert_eq!(s.suggest_impact(std::iter::empty()), None);
        let f = RiskScale::FiveByFive;
        assert_eq!(f.suggest_impact([(&notice, false)]), Some(1));
        assert_eq!(f.suggest_impact([(&internal, true)]), Some(4));
        assert_eq!(f.suggest_impact([(&zaimu, true)]), Some(5));
    }

    #[test]
    fn accepting_above_the_threshold_needs_someone_else() {
        assert!(!acceptance_needs_approval(
            RiskLevel::Low,
            RiskLevel::Medium
        ));
        assert!(acceptance_needs_approval(
            RiskLevel::Medium,
            RiskLevel::Medium
        ));
        assert!(acceptance_needs_approval(
            RiskLevel::High,
            RiskLevel::Medium
        ));
        use register::Acceptance::{Approved, Pending, Rejected};
        let accept = Treatment::Accept;
        assert_eq!(
            decide_acceptance(accept, Some(Pending), Some("sato"), "sato"),
            Err(ApprovalRefusal::ApproverIsRequester)
        );
        assert_eq!(
            decide_acceptance(accept, Some(Pending), Some("sato"), "ciso"),
            Ok(())
        );
        assert_eq!(
            decide_acceptance(accept, Some(Approved), Some("sato"), "ciso2"),
            Err(ApprovalRefusal::AlreadyApproved)
        );
        assert_eq!(
            decide_acceptance(accept, Some(Rejected), Some("sato"), "ciso"),
            Err(ApprovalRefusal::NothingToApprove)
        );
        assert_eq!(
            decide_acceptance(Treatment::Reduce, Some(Pending), Some("sato"), "ciso"),
            Err(ApprovalRefusal::NothingToApprove)
        );
        assert_eq!(Treatment::parse("受容"), Some(Treatment::Accept));
        assert_eq!(Treatment::parse("reduce"), Some(Treatment::Reduce));
        assert_eq!(Treatment::parse("保留"), None);
    }

    #[test]
    fn a_risk_is_due_when_its_date_passes_or_a_reason_is_linked() {
        assert!(due_for_review(Some("2026-12-31"), "2026-12-03", &[]).is_empty());
        assert_eq!(
            due_for_review(Some("2026-12-01"), "2026-12-03", &[]),
            [ReviewReason::DatePassed]
        );
        let linked = ReviewReason::Linked {
            kind: "incident".into(),
            reference: "INC-2026-004".into(),
            reason: "ランサムウェア感染".into(),
        };
        let changed = ReviewReason::AssetClassChanged { asset_id: 12 };
        assert_eq!(
            due_for_review(None, "2026-12-03", &[changed.clone(), linked.clone()]),
            [changed, linked]
        );
    }
}
