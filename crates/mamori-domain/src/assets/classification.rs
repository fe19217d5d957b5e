//! Classification schemes (`DOMAIN.md` §3): the levels of confidentiality, integrity and
//! availability an organisation uses, their order, and switching from one scheme to another
//! through a level mapping.
//!
//! Every level has a *rank* (its order within its axis, higher is stricter) and a *tier* (1, 2
//! or 3: what the level means whatever the scheme — 3A, 3B, 3C and classic 3 are all tier 3).
//! Ranks order levels for the container warning and for sorting; tiers let handling rules and
//! visibility be written once for every scheme.

use crate::interchange::values::fold;
use std::collections::BTreeMap;

/// One of the three properties an asset is classified by.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum Axis {
    /// 機密性.
    Confidentiality,
    /// 完全性.
    Integrity,
    /// 可用性.
    Availability,
}

impl Axis {
    /// The three axes in their usual order.
    pub const ALL: [Axis; 3] = [Axis::Confidentiality, Axis::Integrity, Axis::Availability];

    /// The stable code (`c`, `i`, `a`).
    pub fn code(self) -> &'static str {
        match self {
            Axis::Confidentiality => "c",
            Axis::Integrity => "i",
            Axis::Availability => "a",
        }
    }

    /// Parses an axis code.
    pub fn from_code(code: &str) -> Option<Axis> {
        Axis::ALL.into_iter().find(|a| a.code() == code)
    }

    /// The column code the asset files use (`confidentiality`…).
    pub fn column(self) -> &'static str {
        match self {
            Axis::Confidentiality => "confidentiality",
            Axis::Integrity => "integrity",
            Axis::Availability => "availability",
        }
    }
}

/// A level as a preset defines it.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct LevelSeed {
    /// The axis.
    pub axis: Axis,
    /// The code written in files (`3A`).
    pub code: &'static str,
    /// Order within the axis: higher is stricter.
    pub rank: u8,
    /// Meaning across schemes (1–3).
    pub tier: u8,
    /// Starting definition (Japanese).
    pub definition_ja: &'static str,
    /// Starting definition (English).
    pub definition_en: &'static str,
}

/// A preset scheme.
#[derive(Debug, Clone, Copy)]
pub struct SchemePreset {
    /// Stable code (`guideline-r6`).
    pub code: &'static str,
    /// Its levels.
    pub levels: &'static [LevelSeed],
}

const I2_JA: &str = "改ざん、誤びゅう又は破損により、住民の権利が侵害される又は行政事務の適確な遂行に支障（軽微なものを除く。）を及ぼすおそれがある情報資産";
const I2_EN: &str = "Tampering, error or damage would harm residents' rights or seriously obstruct the accurate conduct of administration.";
const I1_JA: &str = "完全性2の情報資産以外の情報資産";
const I1_EN: &str = "Every other information asset.";
const A2_JA: &str = "滅失、紛失又は当該情報資産が利用不可能であることにより、住民の権利が侵害される又は行政事務の安定的な遂行に支障（軽微なものを除く。）を及ぼすおそれがある情報資産";
const A2_EN: &str = "Loss or unavailability would harm residents' rights or seriously obstruct the stable conduct of administration.";
const A1_JA: &str = "可用性2の情報資産以外の情報資産";
const A1_EN: &str = "Every other information asset.";

const fn level(
    axis: Axis,
    code: &'static str,
    rank: u8,
    tier: u8,
    definition_ja: &'static str,
    definition_en: &'static str,
) -> LevelSeed {
    LevelSeed {
        axis,
        code,
        rank,
        tier,
        definition_ja,
        definition_en,
    }
}

/// The 令和6年10月 guideline's scheme (the default).
pub const GUIDELINE_R6: SchemePreset = SchemePreset {
    code: "guideline-r6",
    levels: &[
        level(Axis::Confidentiality, "3A", 5, 3,
            "行政文書の管理に関するガイドラインに定める秘密文書に相当する機密性を要する情報資産",
            "Equivalent to a secret document (秘密文書) as the national guideline on administrative documents defines it."),
        level(Axis::Confidentiality, "3B", 4, 3,
            "漏えい等が生じた際に、個人の権利利益に重大な影響を及ぼすおそれがある情報資産（大量の住民の個人情報、特定個人情報等。業務の規模を勘案する）",
            "A leak would seriously harm individuals' rights and interests (e.g. large volumes of resident personal data, 特定個人情報), weighed with the scale of the work."),
        level(Axis::Confidentiality, "3C", 3, 3,
            "3A及び3B以外で、漏えい等が生じた際に個人の権利利益を侵害し又は行政事務の遂行に支障を及ぼすおそれがある情報資産",
            "Other information whose leak could harm individuals' rights or obstruct administration."),
        level(Axis::Confidentiality, "2", 2, 2,
            "秘密文書に相当する機密性は要しないが、直ちに一般に公表することを前提としていない情報資産",
            "Not secret, but not meant for immediate publication."),
        level(Axis::Confidentiality, "1", 1, 1,
            "機密性2以上の情報資産以外の情報資産（公表されている又は公表を前提とするもの）",
            "Everything else (public or publishable)."),
        level(Axis::Integrity, "2", 2, 2, I2_JA, I2_EN),
        level(Axis::Integrity, "1", 1, 1, I1_JA, I1_EN),
        level(Axis::Availability, "2", 2, 2, A2_JA, A2_EN),
        level(Axis::Availability, "1", 1, 1, A1_JA, A1_EN),
    ],
};

/// The long-standing scheme many bodies still use.
pub const CLASSIC: SchemePreset = SchemePreset {
    code: "classic",
    levels: &[
        level(Axis::Confidentiality, "3", 3, 3,
            "行政事務で取り扱う情報資産のうち、秘密文書に相当する機密性を要する情報資産",
            "Information needing the confidentiality of a secret document."),
        level(Axis::Confidentiality, "2", 2, 2,
            "秘密文書に相当する機密性は要しないが、直ちに一般に公表することを前提としていない情報資産",
            "Not secret, but not meant for immediate publication."),
        level(Axis::Confidentiality, "1", 1, 1,
            "機密性2又は機密性3の情報資産以外の情報資産",
            "Everything else (public or publishable)."),
        level(Axis::Integrity, "2", 2, 2, I2_JA, I2_EN),
        level(Axis::Integrity, "1", 1, 1, I1_JA, I1_EN),
        level(Axis::Availability, "2", 2, 2, A2_JA, A2_EN),
        level(Axis::Availability, "1", 1, 1, A1_JA, A1_EN),
    ],
};

/// Every preset, the default first.
pub const PRESETS: &[SchemePreset] = &[GUIDELINE_R6, CLASSIC];

/// The preset with this code.
pub fn preset(code: &str) -> Option<&'static SchemePreset> {
    PRESETS.iter().find(|p| p.code == code)
}

/// A level of the organisation's scheme, with its (editable) definitions.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Level {
    /// The axis.
    pub axis: Axis,
    /// The code written in files.
    pub code: String,
    /// Order within the axis: higher is stricter.
    pub rank: u8,
    /// Meaning across schemes (1–3).
    pub tier: u8,
    /// Definition shown where the level is chosen (Japanese).
    pub definition_ja: String,
    /// Definition (English).
    pub definition_en: String,
}

impl From<&LevelSeed> for Level {
    fn from(s: &LevelSeed) -> Self {
        Level {
            axis: s.axis,
            code: s.code.to_owned(),
            rank: s.rank,
            tier: s.tier,
            definition_ja: s.definition_ja.to_owned(),
            definition_en: s.definition_en.to_owned(),
        }
    }
}

/// The scheme an organisation classifies by.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Scheme {
    /// The preset it came from.
    pub code: String,
    /// Its levels, strictest first within each axis.
    pub levels: Vec<Level>,
}

impl Scheme {
    /// The scheme of a preset, with the preset's definitions.
    pub fn from_preset(p: &SchemePreset) -> Scheme {
        let mut levels: Vec<Level> = p.levels.iter().map(Level::from).collect();
        levels.sort_by(|a, b| a.axis.cmp(&b.axis).then(b.rank.cmp(&a.rank)));
        Scheme {
            code: p.code.to_owned(),
            levels,
        }
    }

    /// The levels of one axis, strictest first.
    pub fn axis(&self, axis: Axis) -> impl Iterator<Item = &Level> {
        self.levels.iter().filter(move |l| l.axis == axis)
    }

    /// The level with this code on an axis.
    pub fn level(&self, axis: Axis, code: &str) -> Option<&Level> {
        self.axis(axis).find(|l| l.code == code)
    }

    /// A level as a file or form writes it: full-width folded, trimmed, case-insensitive
    /// (`３ａ` is `3A`).
    pub fn parse(&self, axis: Axis, written: &str) -> Option<&Level> {
        let folded = fold(written).to_ascii_uppercase();
        self.axis(axis).find(|l| l.code == folded)
    }

    /// The confidentiality levels everyone on a unit may see (tier ≤ 2).
    pub fn basic_confidentiality_levels(&self) -> Vec<&str> {
        self.axis(Axis::Confidentiality)
            .filter(|l| l.tier <= super::BASIC_READ_MAX_TIER)
            .map(|l| l.code.as_str())
            .collect()
    }
}

/// An asset's class: one level code per axis.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub struct Class {
    /// 機密性.
    pub confidentiality: String,
    /// 完全性.
    pub integrity: String,
    /// 可用性.
    pub availability: String,
}

impl Class {
    /// The level code on one axis.
    pub fn get(&self, axis: Axis) -> &str {
        match axis {
            Axis::Confidentiality => &self.confidentiality,
            Axis::Integrity => &self.integrity,
            Axis::Availability => &self.availability,
        }
    }

    /// Sets the level code on one axis.
    pub fn set(&mut self, axis: Axis, code: String) {
        match axis {
            Axis::Confidentiality => self.confidentiality = code,
            Axis::Integrity => self.integrity = code,
            Axis::Availability => self.availability = code,
        }
    }
}

/// The axes on which `container` is classified lower than `part` — a bundle is at least as
/// high as its highest part (`DOMAIN.md` §3). Levels unknown to the scheme are not compared.
pub fn lower_axes(scheme: &Scheme, container: &Class, part: &Class) -> Vec<Axis> {
    Axis::ALL
        .into_iter()
        .filter(|&axis| {
            match (
                scheme.level(axis, container.get(axis)),
                scheme.level(axis, part.get(axis)),
            ) {
                (Some(c), Some(p)) => c.rank < p.rank,
                _ => false,
            }
        })
        .collect()
}

/// A mapping from the levels of one scheme to another: for each axis, old code → new code.
pub type LevelMapping = BTreeMap<(Axis, String), String>;

/// A problem with a level mapping.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum MappingProblem {
    /// A level in use has no target.
    Unmapped(Axis, String),
    /// A target is not a level of the new scheme.
    UnknownTarget(Axis, String),
}

/// The suggested mapping between two presets: the same code where the new scheme has it, else
/// by tier (classic 3 → 3B, the guideline's middle tier-3 level; 3A/3B/3C → classic 3).
pub fn suggest_mapping(from: &Scheme, to: &Scheme) -> LevelMapping {
    let mut mapping = LevelMapping::new();
    for l in &from.levels {
        let target = to
            .level(l.axis, &l.code)
            .or_else(|| {
                let same_tier: Vec<&Level> = to.axis(l.axis).filter(|n| n.tier == l.tier).collect();
                same_tier.get(same_tier.len() / 2).copied()
            })
            .map(|n| n.code.clone());
        if let Some(t) = target {
            mapping.insert((l.axis, l.code.clone()), t);
        }
    }
    mapping
}

/// Checks that every level in use is mapped to a level of the new scheme.
pub fn check_mapping(
    to: &Scheme,
    in_use: &[(Axis, String)],
    mapping: &LevelMapping,
) -> Vec<MappingProblem> {
    let mut problems = Vec::new();
    for (axis, code) in in_use {
        match mapping.get(&(*axis, code.clone())) {
            None => problems.push(MappingProblem::Unmapped(*axis, code.clone())),
            Some(t) if to.level(*axis, t).is_none() => {
                problems.push(MappingProblem::UnknownTarget(*axis, t.clone()))
            }
            Some(_) => {}
        }
    }
    problems
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
    fn guideline_levels_are_ordered_and_tiered() {
        let s = Scheme::from_preset(&GUIDELINE_R6);
        let c: Vec<&str> = s
            .axis(Axis::Confidentiality)
            .map(|l| l.code.as_str())
            .collect();
        assert_eq!(c, ["3A", "3B", "3C", "2", "1"]);
        assert_eq!(
            s.parse(Axis::Confidentiality, " ３ｂ ").map(|l| l.tier),
            Some(3)
        );
        assert_eq!(
            s.parse(Axis::Integrity, "3A"),
            None,
            "integrity has only 2 and 1"
        );
        assert_eq!(s.basic_confidentiality_levels(), ["2", "1"]);
    }

    #[test]
    fn a_container_lower_than_its_part_is_named_per_axis() {
        let s = Scheme::from_preset(&GUIDELINE_R6);
        assert_eq!(
            lower_axes(&s, &class("3C", "2", "1"), &class("3B", "1", "2")),
            [Axis::Confidentiality, Axis::Availability]
        );
        assert!(lower_axes(&s, &class("3A", "2", "2"), &class("3B", "2", "2")).is_empty());
    }

    #[test]
    fn classic_to_guideline_suggests_3b_and_checks_every_level_in_use() {
        let classic = Scheme::from_preset(&CLASSIC);
        let guideline = Scheme::from_preset(&GUIDELINE_R6);
        let m = suggest_mapping(&classic, &guideline);
        assert_eq!(m[&(Axis::Confidentiality, "3".into())], "3B");
        assert_eq!(m[&(Axis::Confidentiality, "2".into())], "2");
        let back = suggest_mapping(&guideline, &classic);
        for l in ["3A", "3B", "3C"] {
            assert_eq!(back[&(Axis::Confidentiality, l.into())], "3");
        }
        let mut broken = m.clone();
        broken.remove(&(Axis::Confidentiality, "2".into()));
        broken.insert((Axis::Confidentiality, "3".into()), "9".into());
        let in_use = [
            (Axis::Confidentiality, "3".to_string()),
            (Axis::Confidentiality, "2".to_string()),
        ];
        assert_eq!(
            check_mapping(&guideline, &in_use, &broken),
            [
                MappingProblem::UnknownTarget(Axis::Confidentiality, "9".into()),
                MappingProblem::Unmapped(Axis::Confidentiality, "2".into())
            ]
        );
        assert!(check_mapping(&guideline, &in_use, &m).is_empty());
    }
}
