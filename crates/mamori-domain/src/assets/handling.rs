//! Handling rules (取扱制限): what a class means in practice. A rule applies to an asset when
//! any axis reaches the rule's minimum tier on that axis, so one rule table serves every
//! scheme (`C 3A–3C` and classic `C 3` are both tier 3). The table is data the organisation
//! edits; [`RULES`] is its starting content (`DOMAIN.md` §3).

use super::classification::{Axis, Class, Scheme};

/// A handling rule: which tiers on which axes require it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct HandlingRule {
    /// Stable code.
    pub code: String,
    /// What staff must do (Japanese).
    pub label_ja: String,
    /// What staff must do (English).
    pub label_en: String,
    /// Minimum confidentiality tier requiring it (`None`: confidentiality does not).
    pub min_c: Option<u8>,
    /// Minimum integrity tier requiring it.
    pub min_i: Option<u8>,
    /// Minimum availability tier requiring it.
    pub min_a: Option<u8>,
}

impl HandlingRule {
    /// The minimum tier on one axis.
    pub fn min(&self, axis: Axis) -> Option<u8> {
        match axis {
            Axis::Confidentiality => self.min_c,
            Axis::Integrity => self.min_i,
            Axis::Availability => self.min_a,
        }
    }

    /// True when an asset of this class must follow the rule.
    pub fn applies(&self, scheme: &Scheme, class: &Class) -> bool {
        Axis::ALL.into_iter().any(|axis| {
            let tier = scheme.level(axis, class.get(axis)).map(|l| l.tier);
            matches!((self.min(axis), tier), (Some(min), Some(t)) if t >= min)
        })
    }
}

/// The rules that apply to a class, in table order.
pub fn rules_for<'a>(
    rules: &'a [HandlingRule],
    scheme: &Scheme,
    class: &Class,
) -> Vec<&'a HandlingRule> {
    rules.iter().filter(|r| r.applies(scheme, class)).collect()
}

/// A starting rule.
#[derive(Debug, Clone, Copy)]
pub struct RuleSeed {
    /// Stable code.
    pub code: &'static str,
    /// Japanese text.
    pub label_ja: &'static str,
    /// English text.
    pub label_en: &'static str,
    /// Minimum tiers (C, I, A).
    pub min: (Option<u8>, Option<u8>, Option<u8>),
}

impl From<&RuleSeed> for HandlingRule {
    fn from(s: &RuleSeed) -> Self {
        HandlingRule {
            code: s.code.to_owned(),
            label_ja: s.label_ja.to_owned(),
            label_en: s.label_en.to_owned(),
            min_c: s.min.0,
            min_i: s.min.1,
            min_a: s.min.2,
        }
    }
}

/// The starting table of `DOMAIN.md` §3.
pub const RULES: &[RuleSeed] = &[
    RuleSeed {
        code: "issued_devices_only",
        label_ja: "支給された端末でのみ取り扱う（私物端末の利用禁止）",
        label_en: "Work only on issued devices; no private devices",
        min: (Some(3), None, None),
    },
    RuleSeed {
        code: "no_copy",
        label_ja: "必要以上の複製・配付の禁止",
        label_en: "No copying or distribution beyond need",
        min: (Some(2), None, None),
    },
    RuleSeed {
        code: "restricted_storage",
        label_ja: "保管場所の制限、媒体の施錠保管",
        label_en: "Restricted storage location; media in lockable storage",
        min: (Some(2), Some(2), Some(2)),
    },
    RuleSeed {
        code: "encrypt_in_transit",
        label_ja: "送信・運搬時の暗号化又はパスワード設定",
        label_en: "Encrypt or password-protect when sending or carrying",
        min: (Some(2), None, None),
    },
    RuleSeed {
        code: "take_out_approval",
        label_ja: "持出しの承認と記録",
        label_en: "Approval and record to take out (持出し)",
        min: (Some(2), None, None),
    },
    RuleSeed {
        code: "irrecoverable_disposal",
        label_ja: "復元不可能な方法による廃棄と廃棄記録",
        label_en: "Destroy irrecoverably, with a disposal record",
        min: (Some(2), None, None),
    },
    RuleSeed {
        code: "offsite_safeguards",
        label_ja: "外部で処理する場合の安全管理措置の規定",
        label_en: "Defined safeguards for off-site processing",
        min: (Some(2), Some(2), Some(2)),
    },
    RuleSeed {
        code: "backups",
        label_ja: "バックアップの取得",
        label_en: "Backups",
        min: (None, Some(2), Some(2)),
    },
    RuleSeed {
        code: "tamper_detection",
        label_ja: "改ざん検知又は電子署名",
        label_en: "Tamper detection or electronic signature",
        min: (None, Some(2), None),
    },
    RuleSeed {
        code: "restore_within_rto",
        label_ja: "定められた時間内の復旧（目標復旧時間を資産に記録）",
        label_en: "Restore within a set time (RTO recorded on the asset)",
        min: (None, None, Some(2)),
    },
    RuleSeed {
        code: "classification_label",
        label_ja: "文書・ファイル名・メール件名への分類の表示",
        label_en: "Label shown on the document, file name or mail subject",
        min: (Some(2), None, None),
    },
];

#[cfg(test)]
mod tests {
    use super::*;
    use crate::assets::classification::{CLASSIC, GUIDELINE_R6};

    fn class(c: &str, i: &str, a: &str) -> Class {
        Class {
            confidentiality: c.into(),
            integrity: i.into(),
            availability: a.into(),
        }
    }

    fn codes(scheme: &Scheme, c: &Class) -> Vec<String> {
        let rules: Vec<HandlingRule> = RULES.iter().map(HandlingRule::from).collect();
        rules_for(&rules, scheme, c)
            .into_iter()
            .map(|r| r.code.clone())
            .collect()
    }

    #[test]
    fn the_starting_table_per_class() {
        let g = Scheme::from_preset(&GUIDELINE_R6);
        assert_eq!(codes(&g, &class("1", "1", "1")), Vec::<String>::new());
        assert_eq!(
            codes(&g, &class("1", "1", "2")),
            [
                "restricted_storage",
                "offsite_safeguards",
                "backups",
                "restore_within_rto"
            ]
        );
        let secret = codes(&g, &class("3B", "1", "1"));
        assert!(secret.contains(&"issued_devices_only".to_string()));
        assert!(!codes(&g, &class("2", "1", "1")).contains(&"issued_devices_only".to_string()));
        assert!(codes(&g, &class("1", "2", "1")).contains(&"tamper_detection".to_string()));
    }

    #[test]
    fn classic_three_gets_what_3a_to_3c_get() {
        let g = Scheme::from_preset(&GUIDELINE_R6);
        let c = Scheme::from_preset(&CLASSIC);
        for level in ["3A", "3B", "3C"] {
            assert_eq!(
                codes(&g, &class(level, "2", "2")),
                codes(&c, &class("3", "2", "2"))
            );
        }
    }
}
