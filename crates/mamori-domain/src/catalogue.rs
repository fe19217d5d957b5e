//! The threat catalogue (clause 3, `DOMAIN.md` §4) and the control catalogue (clause 6,
//! `DOMAIN.md` §6a) with the implementation status of each control per unit.
//!
//! Everything listed here is *starting content*: the store writes it as data on first start
//! and organisations edit, add and retire entries afterwards (a release is never needed to
//! change a threat or a control). Only the four implementation statuses are fixed in code,
//! because reports and self-inspections compare them.
//!
//! Decisions:
//! - Codes are stable identifiers for files, the API and citations: 1–32 ASCII letters, digits,
//!   `-`, `_`, `.`, starting with a letter or digit (`T1-01`, `M6-04`, an organisation's own
//!   `KI-M6-99`). Codes are never renamed; a control that is no longer wanted is *retired*
//!   (kept for history and for the statuses recorded against it, hidden from new work).
//! - A control cites the clauses of the basic policy it implements by anchor (`6(1)`,
//!   `6(8)`); the anchors are checked against the clauses of the basic policy in force when a
//!   control is saved or imported, so a citation always points at real text.
//! - Applicability is deliberately simple: the network segments a control concerns (none
//!   listed: every segment) and the lowest confidentiality *tier* it concerns (1, 2 or 3; see
//!   [`crate::assets`]: 3A–3C and classic 3 are tier 3), empty for every
//!   asset. Tiers keep the catalogue independent of the classification scheme.
//! - A unit without a recorded status counts as 未実施 (`not_started`): nothing has been
//!   claimed for it yet.

use crate::assets::Segment;
use crate::interchange::values::fold;

/// The longest title.
pub const MAX_TITLE: usize = 200;
/// The longest description.
pub const MAX_DESCRIPTION: usize = 4000;

/// A code of the catalogues (`T1-01`, `M6-04`): 1–32 ASCII letters, digits, `-`, `_`, `.`,
/// starting with a letter or digit.
pub fn is_valid_catalogue_code(code: &str) -> bool {
    let b = code.as_bytes();
    !b.is_empty()
        && b.len() <= 32
        && b[0].is_ascii_alphanumeric()
        && b.iter()
            .all(|c| c.is_ascii_alphanumeric() || b"-_.".contains(c))
}

/// A clause anchor as written (`6(1)`, `６（８）`, ` 7 `) in its stored spelling, or `None`
/// when it cannot be an anchor: a number, then any `(n)` groups, then optionally a circled
/// digit (`4(2)①`).
pub fn normalise_anchor(written: &str) -> Option<String> {
    let a: String = fold(written)
        .chars()
        .filter(|c| !c.is_whitespace())
        .collect();
    let mut chars = a.chars().peekable();
    let mut digits = 0;
    while chars.peek().is_some_and(|c| c.is_ascii_digit()) {
        chars.next();
        digits += 1;
    }
    if digits == 0 {
        return None;
    }
    while chars.peek() == Some(&'(') {
        chars.next();
        let mut n = 0;
        while chars.peek().is_some_and(|c| c.is_ascii_digit()) {
            chars.next();
            n += 1;
        }
        if n == 0 || chars.next() != Some(')') {
            return None;
        }
    }
    if let Some(c) = chars.next() {
        if !('①'..='⑳').contains(&c) || chars.next().is_some() {
            return None;
        }
    }
    Some(a)
}

/// Splits a list written in one cell or field (`6(1); 6(4)`, `6(1)、6(4)`, one per line).
pub fn split_list(written: &str) -> Vec<String> {
    written
        .split([';', '；', '、', ',', '，', '\n'])
        .map(|s| s.trim().to_owned())
        .filter(|s| !s.is_empty())
        .collect()
}

/// Implementation status of a control in a unit.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum ImplStatus {
    /// 未実施 (also: nothing recorded yet).
    NotStarted,
    /// 一部実施.
    Partial,
    /// 実施済.
    Implemented,
    /// 該当なし: the control does not concern the unit.
    NotApplicable,
}

impl ImplStatus {
    /// Every status, in display order.
    pub const ALL: [ImplStatus; 4] = [
        ImplStatus::Implemented,
        ImplStatus::Partial,
        ImplStatus::NotStarted,
        ImplStatus::NotApplicable,
    ];

    /// The stable code.
    pub fn code(self) -> &'static str {
        match self {
            ImplStatus::NotStarted => "not_started",
            ImplStatus::Partial => "partial",
            ImplStatus::Implemented => "implemented",
            ImplStatus::NotApplicable => "not_applicable",
        }
    }

    /// The Japanese label.
    pub fn label(self) -> &'static str {
        match self {
            ImplStatus::NotStarted => "未実施",
            ImplStatus::Partial => "一部実施",
            ImplStatus::Implemented => "実施済",
            ImplStatus::NotApplicable => "該当なし",
        }
    }

    /// Parses a code or a label (full-width folded, trimmed).
    pub fn parse(written: &str) -> Option<ImplStatus> {
        let w = fold(written);
        ImplStatus::ALL
            .into_iter()
            .find(|s| s.code() == w || s.label() == w)
    }
}

/// A threat as forms, files and the seed supply it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ThreatDraft {
    /// Stable code.
    pub code: String,
    /// Category code (`T1`–`T5` as seeded).
    pub category: String,
    /// Title (Japanese).
    pub title: String,
    /// Description.
    pub description: String,
    /// Retired: kept for history, not offered for new work.
    pub retired: bool,
}

impl ThreatDraft {
    /// What is wrong with the draft on its own, as (field, message id). Whether the category
    /// exists is checked against the data.
    pub fn problems(&self) -> Vec<(&'static str, &'static str)> {
        let mut p = Vec::new();
        if !is_valid_catalogue_code(&self.code) {
            p.push(("code", "catalogue-error-code"));
        }
        if self.category.trim().is_empty() {
            p.push(("category", "catalogue-error-category"));
        }
        text_problems(&mut p, &self.title, &self.description);
        p
    }
}

fn text_problems(p: &mut Vec<(&'static str, &'static str)>, title: &str, description: &str) {
    if title.trim().is_empty() {
        p.push(("title", "error-required"));
    } else if title.chars().count() > MAX_TITLE {
        p.push(("title", "error-too-long"));
    }
    if description.chars().count() > MAX_DESCRIPTION {
        p.push(("description", "error-too-long"));
    }
}

/// A control as forms, files and the seed supply it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ControlDraft {
    /// Stable code.
    pub code: String,
    /// Measure area code (`M1`–`M9` as seeded).
    pub area: String,
    /// Title (Japanese).
    pub title: String,
    /// Description.
    pub description: String,
    /// Anchors of the basic policy's clauses it implements (normalised).
    pub clauses: Vec<String>,
    /// The role code responsible for it.
    pub owner_role: String,
    /// Network segments it concerns (empty: every segment).
    pub segments: Vec<Segment>,
    /// The lowest confidentiality tier it concerns (1–3; `None`: every asset).
    pub min_tier: Option<u8>,
    /// Retired.
    pub retired: bool,
}

impl ControlDraft {
    /// What is wrong with the draft on its own, as (field, message id). Area, owner role and
    /// clause anchors are checked against the data.
    pub fn problems(&self) -> Vec<(&'static str, &'static str)> {
        let mut p = Vec::new();
        if !is_valid_catalogue_code(&self.code) {
            p.push(("code", "catalogue-error-code"));
        }
        if self.area.trim().is_empty() {
            p.push(("area", "catalogue-error-area"));
        }
        text_problems(&mut p, &self.title, &self.description);
        if self.owner_role.trim().is_empty() {
            p.push(("owner_role", "error-unknown-role"));
        }
        if self.clauses.iter().any(|c| normalise_anchor(c).is_none()) {
            p.push(("clauses", "catalogue-error-clause"));
        }
        if self.min_tier.is_some_and(|t| !(1..=3).contains(&t)) {
            p.push(("min_tier", "catalogue-error-tier"));
        }
        p
    }

    /// True when the control concerns an asset in `segment` at confidentiality `tier`.
    pub fn applies_to(&self, segment: Segment, tier: u8) -> bool {
        (self.segments.is_empty() || self.segments.contains(&segment))
            && self.min_tier.is_none_or(|m| tier >= m)
    }
}

/// Checks a web link given as evidence: `http://` or `https://`, no spaces or control
/// characters, at most 2,000 characters.
pub fn is_valid_evidence_link(link: &str) -> bool {
    let l = link.trim();
    (l.starts_with("https://") || l.starts_with("http://"))
        && l.len() > "https://".len()
        && l.len() <= 2000
        && !l.chars().any(|c| c.is_whitespace() || c.is_control())
}

/// A category of threats (clause 3), seeded on first start.
#[derive(Debug, Clone, Copy)]
pub struct CategorySeed {
    /// Stable code.
    pub code: &'static str,
    /// Japanese name (the policy's words).
    pub name_ja: &'static str,
    /// English name.
    pub name_en: &'static str,
}

/// The five threat categories of clause 3.
pub const THREAT_CATEGORIES: &[CategorySeed] = &[
    CategorySeed {
        code: "T1",
        name_ja: "意図的な要因",
        name_en: "Intentional (cyber attacks, intrusion, insider fraud)",
    },
    CategorySeed {
        code: "T2",
        name_ja: "非意図的な要因",
        name_en: "Unintentional (mistakes, defects, misconfiguration, failures)",
    },
    CategorySeed {
        code: "T3",
        name_ja: "災害",
        name_en: "Disaster (earthquake, lightning, fire)",
    },
    CategorySeed {
        code: "T4",
        name_ja: "疾病による要員不足",
        name_en: "Staff shortage through illness",
    },
    CategorySeed {
        code: "T5",
        name_ja: "インフラの障害",
        name_en: "Infrastructure failure (power, communications, water)",
    },
];

/// A measure area (clause 6): one chapter of the 対策基準.
#[derive(Debug, Clone, Copy)]
pub struct AreaSeed {
    /// Stable code.
    pub code: &'static str,
    /// Japanese name.
    pub name_ja: &'static str,
    /// English name.
    pub name_en: &'static str,
    /// The clause of the basic policy it belongs to.
    pub clause: &'static str,
}

/// The nine measure areas of clause 6.
pub const MEASURE_AREAS: &[AreaSeed] = &[
    AreaSeed {
        code: "M1",
        name_ja: "組織体制",
        name_en: "Organisation",
        clause: "6(1)",
    },
    AreaSeed {
        code: "M2",
        name_ja: "情報資産の分類と管理",
        name_en: "Classification and management of information assets",
        clause: "6(2)",
    },
    AreaSeed {
        code: "M3",
        name_ja: "情報システム全体の強靱性の向上",
        name_en: "Resilience of the information systems as a whole",
        clause: "6(3)",
    },
    AreaSeed {
        code: "M4",
        name_ja: "物理的セキュリティ",
        name_en: "Physical security",
        clause: "6(4)",
    },
    AreaSeed {
        code: "M5",
        name_ja: "人的セキュリティ",
        name_en: "Human security",
        clause: "6(5)",
    },
    AreaSeed {
        code: "M6",
        name_ja: "技術的セキュリティ",
        name_en: "Technical security",
        clause: "6(6)",
    },
    AreaSeed {
        code: "M7",
        name_ja: "運用",
        name_en: "Operations",
        clause: "6(7)",
    },
    AreaSeed {
        code: "M8",
        name_ja: "業務委託と外部サービス",
        name_en: "Outsourcing and external services",
        clause: "6(8)",
    },
    AreaSeed {
        code: "M9",
        name_ja: "評価・見直し",
        name_en: "Evaluation and review",
        clause: "6(9)",
    },
];

/// A threat seeded on first start: (code, category, title, description).
pub type ThreatSeed = (&'static str, &'static str, &'static str, &'static str);

/// The starting threat catalogue (`DOMAIN.md` §4).
pub const SEED_THREATS: &[ThreatSeed] = &[
    (
        "T1-01",
        "T1",
        "ランサムウェア",
        "端末やサーバのデータが暗号化され、業務が停止し、情報が窃取・公開される。",
    ),
    (
        "T1-02",
        "T1",
        "標的型攻撃メール",
        "業務を装ったメールの添付ファイルやリンクから端末が乗っ取られる。",
    ),
    (
        "T1-03",
        "T1",
        "不正アクセス",
        "脆弱性や窃取された認証情報を使って、システムや情報に権限なく到達される。",
    ),
    (
        "T1-04",
        "T1",
        "ウェブサイトの改ざん",
        "公式ウェブサイトが書き換えられ、偽情報の掲載やマルウェアの配布に使われる。",
    ),
    (
        "T1-05",
        "T1",
        "サービス妨害（DoS）攻撃",
        "大量の通信により、住民向けサービスや庁内システムが利用できなくなる。",
    ),
    (
        "T1-06",
        "T1",
        "パソコン・記録媒体の盗難",
        "庁舎内外で端末や記録媒体が盗まれ、記録された情報が漏えいする。",
    ),
    (
        "T1-07",
        "T1",
        "職員等・委託事業者による情報の持出し",
        "権限のある者が情報を不正に持ち出し、漏えい・売却する。",
    ),
    (
        "T1-08",
        "T1",
        "特権の悪用",
        "管理者権限が業務外の目的で使われ、情報の閲覧・改ざん・削除が行われる。",
    ),
    (
        "T2-01",
        "T2",
        "メール・FAXの誤送信",
        "宛先や添付ファイルの誤りにより、情報が意図しない相手に届く。",
    ),
    (
        "T2-02",
        "T2",
        "USBメモリ・ノートパソコンの紛失",
        "持ち出した記録媒体や端末を紛失し、記録された情報が漏えいするおそれが生じる。",
    ),
    (
        "T2-03",
        "T2",
        "ウェブサイトへの誤掲載",
        "公開してはならない情報（個人情報等）をウェブサイトに掲載してしまう。",
    ),
    (
        "T2-04",
        "T2",
        "ファイアウォール・クラウド共有設定の誤り",
        "設定の誤りにより、内部の情報やシステムが外部から参照できる状態になる。",
    ),
    (
        "T2-05",
        "T2",
        "セキュリティパッチの未適用",
        "修正プログラムの適用漏れにより、既知の脆弱性を突かれる。",
    ),
    (
        "T2-06",
        "T2",
        "保守作業の誤り",
        "保守・設定変更の手順誤りにより、データの消失やシステム停止が起きる。",
    ),
    (
        "T2-07",
        "T2",
        "委託事業者による不適切な取扱い",
        "委託先での管理不備により、預けた情報が漏えい・滅失する。",
    ),
    (
        "T2-08",
        "T2",
        "ディスク・機器の故障",
        "記憶装置や機器の故障により、データが失われ、業務が止まる。",
    ),
    (
        "T2-09",
        "T2",
        "ソフトウェアの不具合",
        "プログラムの誤りにより、誤った処理結果やデータの破損が生じる。",
    ),
    (
        "T2-10",
        "T2",
        "許可されていないソフトウェアの利用",
        "無許可のソフトウェアやクラウドサービスの利用により、情報が管理外に出る。",
    ),
    (
        "T3-01",
        "T3",
        "地震によるサーバ室の被災",
        "地震によりサーバ室の機器が転倒・損壊し、システムが長期間停止する。",
    ),
    (
        "T3-02",
        "T3",
        "落雷による過電流被害",
        "雷サージにより機器や通信回線装置が損傷する。",
    ),
    (
        "T3-03",
        "T3",
        "火災・水害",
        "火災、消火水、浸水により、機器や紙の文書が失われる。",
    ),
    (
        "T3-04",
        "T3",
        "庁舎への立入り不能",
        "災害により庁舎に入れず、システムの運用や業務の継続ができなくなる。",
    ),
    (
        "T4-01",
        "T4",
        "主要な管理者の不在",
        "感染症等によりシステム管理者が不在となり、運用や障害対応ができなくなる。",
    ),
    (
        "T4-02",
        "T4",
        "緊急時テレワークでの安全でない端末の利用",
        "急な在宅勤務で、管理されていない端末から業務情報が扱われる。",
    ),
    (
        "T4-03",
        "T4",
        "パッチ適用・監視の遅延",
        "要員不足により、修正プログラムの適用やログの監視が滞る。",
    ),
    (
        "T5-01",
        "T5",
        "無停電電源装置の能力を超える停電",
        "長時間の停電により、サーバやネットワーク機器が停止する。",
    ),
    (
        "T5-02",
        "T5",
        "LGWAN・通信事業者の障害",
        "回線や通信事業者の障害により、外部との通信や共同利用システムが使えなくなる。",
    ),
    (
        "T5-03",
        "T5",
        "クラウドサービスの障害",
        "利用しているクラウドサービスが停止し、業務が行えなくなる。",
    ),
    (
        "T5-04",
        "T5",
        "空調設備の故障",
        "サーバ室の冷却が止まり、機器が高温で停止・故障する。",
    ),
];

/// A control seeded on first start.
#[derive(Debug, Clone, Copy)]
pub struct ControlSeed {
    /// Stable code.
    pub code: &'static str,
    /// Measure area.
    pub area: &'static str,
    /// Title.
    pub title: &'static str,
    /// Description.
    pub description: &'static str,
    /// Clause anchors of the basic policy.
    pub clauses: &'static [&'static str],
    /// Responsible role.
    pub owner_role: &'static str,
    /// Segments concerned (empty: all).
    pub segments: &'static [Segment],
    /// Lowest confidentiality tier concerned.
    pub min_tier: Option<u8>,
}

macro_rules! controls {
    ($( $code:literal, $area:literal, $owner:literal, [$($clause:literal),*], [$($seg:ident),*], $tier:expr, $title:literal, $desc:literal; )*) => {
        /// The starting control catalogue (`DOMAIN.md` §6a).
        pub const SEED_CONTROLS: &[ControlSeed] = &[
            $( ControlSeed {
                code: $code,
                area: $area,
                title: $title,
                description: $desc,
                clauses: &[$($clause),*],
                owner_role: $owner,
                segments: &[$(Segment::$seg),*],
                min_tier: $tier,
            }, )*
        ];
    };
}

controls! {
    "M1-01", "M1", "ciso", ["6(1)"], [], None, "責任体制の任命（代理者を含む）", "CISO、統括情報セキュリティ責任者、情報セキュリティ責任者・管理者等を任命し、それぞれの代理者を定める。";
    "M1-02", "M1", "ciso", ["6(1)"], [], None, "情報セキュリティ委員会の開催", "情報セキュリティ委員会を少なくとも年1回開催し、議事を記録する。";
    "M1-03", "M1", "chief_officer", ["6(1)", "6(7)"], [], None, "CSIRTの設置と連絡体制", "CSIRTを設置し、要員と連絡先一覧を定め、最新に保つ。";
    "M1-04", "M1", "chief_officer", ["6(1)"], [], None, "役割の台帳の維持", "情報セキュリティに関する役割と担当者を台帳で管理し、異動の都度更新する。";
    "M1-05", "M1", "chief_officer", ["6(1)"], [], None, "承認と監査における職務の分離", "申請者自身による承認や、自所属の監査を行わない。";
    "M1-06", "M1", "chief_officer", ["6(1)"], [], None, "外部専門家の活用", "必要に応じて外部の専門家の助言を受ける体制を定める。";
    "M2-01", "M2", "unit_manager", ["6(2)"], [], None, "情報資産台帳の整備", "情報資産ごとに所管、管理者、機密性・完全性・可用性の分類を台帳に記録し、最新に保つ。";
    "M2-02", "M2", "unit_manager", ["6(2)"], [], Some(2), "分類の表示", "文書、ファイル名、メールの件名等に機密性の分類を表示する。";
    "M2-03", "M2", "unit_manager", ["6(2)"], [], Some(2), "分類に応じた取扱制限", "分類ごとの取扱制限（複製・配布・保管・送信の制限）を定め、遵守させる。";
    "M2-04", "M2", "unit_manager", ["6(2)"], [], Some(2), "情報資産の持出しの承認と記録", "情報資産を庁外に持ち出すときは承認を得て、持出しと返却を記録する。";
    "M2-05", "M2", "unit_manager", ["6(2)", "6(4)"], [], Some(2), "復元不可能な廃棄と記録", "記録媒体や文書は復元できない方法で廃棄し、廃棄の記録（証明書）を残す。";
    "M2-06", "M2", "system_manager", ["6(2)", "6(6)"], [], None, "バックアップの取得", "完全性2・可用性2の情報資産のバックアップを取得し、復元を確認する。";
    "M3-01", "M3", "chief_officer", ["6(3)"], [Mynumber, Lgwan, Internet], None, "三層の対策による分離", "マイナンバー利用事務系、LGWAN接続系、インターネット接続系を分離する。";
    "M3-02", "M3", "system_manager", ["6(3)"], [Mynumber], None, "マイナンバー利用事務系の二要素認証", "マイナンバー利用事務系の端末へのログインに二要素認証を用いる。";
    "M3-03", "M3", "system_manager", ["6(3)"], [Mynumber], None, "マイナンバー利用事務系からの情報の持出し禁止", "マイナンバー利用事務系から記録媒体等への情報の書出しを禁止する。";
    "M3-04", "M3", "system_manager", ["6(3)"], [Lgwan], None, "無害化したファイルの取込み", "インターネット接続系からLGWAN接続系へはファイルを無害化して取り込む。";
    "M3-05", "M3", "chief_officer", ["6(3)"], [Internet], None, "自治体情報セキュリティクラウド経由の接続", "インターネットへの接続は都道府県の自治体情報セキュリティクラウドを経由する。";
    "M3-06", "M3", "system_manager", ["6(3)"], [], None, "情報システムのネットワーク区分の記録", "情報システムごとに属するネットワーク区分を台帳に記録する。";
    "M3-07", "M3", "chief_officer", ["6(3)"], [Internet], None, "不正通信の監視", "インターネット接続系の通信を監視し、不正な通信を検知して対応する。";
    "M4-01", "M4", "system_manager", ["6(4)"], [], None, "サーバ室の入退室管理", "サーバ室への入退室を許可された者に限り、その記録を残す。";
    "M4-02", "M4", "system_manager", ["6(4)"], [], None, "無停電電源・耐震・防火・落雷対策", "サーバ等に無停電電源装置、耐震固定、消火設備、落雷対策を備える。";
    "M4-03", "M4", "system_manager", ["6(4)"], [], None, "電源と回線の冗長化", "重要なシステムの電源と通信回線を冗長化する。";
    "M4-04", "M4", "system_manager", ["6(4)"], [], None, "配線の保護", "通信ケーブルや電源ケーブルを損傷や盗聴から保護する。";
    "M4-05", "M4", "unit_manager", ["6(4)", "6(5)"], [], None, "クリアデスク・クリアスクリーン", "離席時は画面をロックし、机上に書類や記録媒体を放置しない。";
    "M4-06", "M4", "unit_manager", ["6(4)"], [], Some(2), "記録媒体の施錠保管", "記録媒体を施錠できる場所に保管し、所在を管理する。";
    "M4-07", "M4", "unit_manager", ["6(4)"], [], None, "保守要員・来訪者の管理", "保守要員や来訪者の立入りは承認し、同行して記録する。";
    "M5-01", "M5", "unit_manager", ["5", "6(5)"], [], None, "遵守事項の周知", "私物端末や無許可のソフトウェアの利用禁止、無断持出しの禁止等を周知する。";
    "M5-02", "M5", "unit_manager", ["5", "6(5)"], [], None, "誓約書の取得", "会計年度任用職員や派遣職員を含む全ての職員等から、着任時に誓約書を得る。";
    "M5-03", "M5", "unit_manager", ["6(5)"], [], None, "研修と訓練", "全ての職員等に年1回以上の研修を行い、標的型攻撃メール訓練等を実施する。";
    "M5-04", "M5", "unit_manager", ["6(5)", "6(7)"], [], None, "インシデントの速やかな報告", "インシデントやその兆候を見つけた職員等が速やかに報告する手順を定め、周知する。";
    "M5-05", "M5", "unit_manager", ["6(5)"], [], None, "ICカード・パスワードの管理", "ICカードやパスワードを他人と共有せず、適切に管理させる。";
    "M5-06", "M5", "unit_manager", ["6(5)", "6(6)"], [], None, "異動・退職時のIDの返却", "異動や退職の際は、IDとICカードを速やかに返却・無効化する。";
    "M6-01", "M6", "system_manager", ["6(6)"], [], None, "最小権限のアクセス制御", "利用者には業務に必要な最小限の権限だけを与え、定期的に見直す。";
    "M6-02", "M6", "system_manager", ["6(6)"], [], None, "IDのライフサイクル管理", "IDの登録、変更、削除を申請と承認に基づいて行い、不要なIDを残さない。";
    "M6-03", "M6", "system_manager", ["6(6)"], [], None, "多要素認証", "管理者権限や外部からの接続に多要素認証を用いる。";
    "M6-04", "M6", "system_manager", ["6(6)"], [], None, "期間を定めたパッチ適用", "セキュリティパッチを定めた期間内に適用し、適用状況を記録する。";
    "M6-05", "M6", "system_manager", ["6(6)"], [], None, "マルウェア対策・EDR", "マルウェア対策ソフトウェアやEDRを導入し、定義ファイルを最新に保つ。";
    "M6-06", "M6", "system_manager", ["6(6)", "6(7)"], [], None, "ログの取得と時刻同期", "アクセスログや操作ログを取得・保管し、機器の時刻を同期する。";
    "M6-07", "M6", "system_manager", ["6(6)"], [], None, "変更管理", "システムの変更は計画、承認、試験、記録の手順に従って行う。";
    "M6-08", "M6", "system_manager", ["6(6)"], [], None, "セキュアな開発と受入試験", "システムの調達・開発でセキュリティ要件を定め、受入時に確認する。";
    "M6-09", "M6", "system_manager", ["6(6)"], [], Some(2), "暗号化", "機密性2以上の情報を送信・持出し・保管するときは暗号化する。";
    "M6-10", "M6", "chief_officer", ["6(6)"], [], None, "脆弱性情報の収集", "利用している製品の脆弱性情報を収集し、影響を評価して対応する。";
    "M7-01", "M7", "chief_officer", ["6(7)"], [], None, "ログとアラートの監視", "ログやセキュリティ機器のアラートを定期的に確認し、異常に対応する。";
    "M7-02", "M7", "unit_officer", ["6(7)"], [], None, "遵守状況の定期的な確認", "ポリシーの遵守状況を定期的に確認し、問題を是正する。";
    "M7-03", "M7", "unit_officer", ["6(7)"], [], None, "例外措置の承認と期限", "ポリシーの例外は理由と期限を定めて承認し、期限到来時に見直す。";
    "M7-04", "M7", "unit_officer", ["6(7)"], [], None, "法令の遵守", "個人情報保護法、番号法、著作権法等の関係法令を遵守する。";
    "M7-05", "M7", "chief_officer", ["6(7)"], [], None, "違反時の対応の規定", "ポリシーに違反した場合の懲戒等の対応を定め、周知する。";
    "M7-06", "M7", "chief_officer", ["6(7)"], [], None, "緊急時対応計画の維持と訓練", "緊急時対応計画を最新に保ち、定期的に訓練を行う。";
    "M8-01", "M8", "unit_manager", ["6(8)"], [], None, "委託事業者の選定基準", "ISMSやプライバシーマークの認証等、委託事業者の選定基準を定めて確認する。";
    "M8-02", "M8", "unit_manager", ["6(8)"], [], None, "契約へのセキュリティ条項", "守秘義務、目的外利用の禁止、事故時の報告、監査等の条項を契約に定める。";
    "M8-03", "M8", "unit_manager", ["6(8)"], [], None, "再委託の承認", "再委託は事前の承認がある場合に限る。";
    "M8-04", "M8", "unit_manager", ["6(8)"], [], None, "委託先の定期的な確認", "委託先からの報告を受け、セキュリティ対策の実施状況を定期的に確認する。";
    "M8-05", "M8", "chief_officer", ["6(8)"], [], None, "クラウドサービスの承認と登録", "クラウドサービスは利用前に承認し、台帳に登録する（ISMAP登録のサービスを優先する）。";
    "M8-06", "M8", "unit_manager", ["6(8)"], [], None, "終了時の計画", "委託や外部サービスの終了時の情報の返却・削除と移行の計画を定める。";
    "M8-07", "M8", "unit_manager", ["6(8)"], [], None, "ソーシャルメディアアカウントの管理", "アカウントを台帳に登録し、責任者を定め、多要素認証を用いる。";
    "M9-01", "M9", "unit_officer", ["6(9)", "7"], [], None, "自己点検の実施", "年1回以上自己点検を行い、結果をCISOと委員会に報告する。";
    "M9-02", "M9", "audit_lead", ["6(9)", "7"], [], None, "監査計画", "中期及び年度の監査計画を定め、独立した監査人により監査を行う。";
    "M9-03", "M9", "unit_officer", ["6(9)", "7"], [], None, "指摘事項の是正", "監査や自己点検の指摘事項を担当者と期限を定めて是正し、完了を確認する。";
    "M9-04", "M9", "chief_officer", ["6(9)", "8"], [], None, "リスク分析", "脅威の発生可能性と損失に基づくリスク分析を行い、対策を見直す。";
    "M9-05", "M9", "ciso", ["8"], [], None, "ポリシーの見直し", "監査結果や状況の変化を受けて、委員会を通じてポリシーを改定する。";
}

impl ControlSeed {
    /// The seed as a draft.
    pub fn draft(&self) -> ControlDraft {
        ControlDraft {
            code: self.code.into(),
            area: self.area.into(),
            title: self.title.into(),
            description: self.description.into(),
            clauses: self.clauses.iter().map(|c| c.to_string()).collect(),
            owner_role: self.owner_role.into(),
            segments: self.segments.to_vec(),
            min_tier: self.min_tier,
            retired: false,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::collections::HashSet;

    #[test]
    fn seeds_are_valid_unique_and_complete() {
        assert!(SEED_THREATS.len() >= 20);
        assert!(SEED_CONTROLS.len() >= 40);
        let cats: HashSet<&str> = THREAT_CATEGORIES.iter().map(|c| c.code).collect();
        let mut seen = HashSet::new();
        for (code, cat, title, desc) in SEED_THREATS {
            assert!(seen.insert(*code), "{code} repeated");
            assert!(cats.contains(cat), "{code}");
            let d = ThreatDraft {
                code: code.to_string(),
                category: cat.to_string(),
                title: title.to_string(),
                description: desc.to_string(),
                retired: false,
            };
            assert!(d.problems().is_empty(), "{code}: {:?}", d.problems());
            assert!(code.starts_with(cat));
        }
        let areas: HashSet<&str> = MEASURE_AREAS.iter().map(|a| a.code).collect();
        let roles: HashSet<&str> = crate::seed::ROLES.iter().map(|r| r.code).collect();
        for c in SEED_CONTROLS {
            assert!(seen.insert(c.code), "{} repeated", c.code);
            assert!(areas.contains(c.area), "{}", c.code);
            assert!(roles.contains(c.owner_role), "{}", c.code);
            assert!(c.code.starts_with(c.area));
            assert!(c.draft().problems().is_empty(), "{}", c.code);
            assert!(!c.clauses.is_empty(), "{}", c.code);
        }
        // Every area has controls.
        for a in MEASURE_AREAS {
            assert!(SEED_CONTROLS.iter().any(|c| c.area == a.code), "{}", a.code);
        }
    }

    #[test]
    fn anchors_are_normalised_or_refused() {
        assert_eq!(normalise_anchor(" ６（８） ").as_deref(), Some("6(8)"));
        assert_eq!(normalise_anchor("7").as_deref(), Some("7"));
        assert_eq!(normalise_anchor("4(2)①").as_deref(), Some("4(2)①"));
        assert_eq!(normalise_anchor("6 (3)(1)").as_deref(), Some("6(3)(1)"));
        for bad in ["", "(1)", "6(", "6()", "6(a)", "六", "6(1)x", "6.1"] {
            assert_eq!(normalise_anchor(bad), None, "{bad}");
        }
        assert_eq!(split_list("6(1); 6(4)、7\n8"), ["6(1)", "6(4)", "7", "8"]);
    }

    #[test]
    fn statuses_codes_and_labels() {
        for s in ImplStatus::ALL {
            assert_eq!(ImplStatus::parse(s.code()), Some(s));
            assert_eq!(ImplStatus::parse(s.label()), Some(s));
        }
        assert_eq!(
            ImplStatus::parse(" ｐａｒｔｉａｌ "),
            Some(ImplStatus::Partial)
        );
        assert_eq!(ImplStatus::parse("done"), None);
    }

    #[test]
    fn codes_drafts_and_applicability() {
        assert!(is_valid_catalogue_code("M1-01"));
        assert!(is_valid_catalogue_code("ki.m6_99"));
        for bad in ["", "-M1", "M 1", "Ｍ1", &"x".repeat(33)] {
            assert!(!is_valid_catalogue_code(bad), "{bad}");
        }
        let mut d = SEED_CONTROLS[0].draft();
        d.code = "bad code".into();
        d.title = " ".into();
        d.clauses = vec!["六".into()];
        d.min_tier = Some(4);
        let fields: Vec<&str> = d.problems().iter().map(|(f, _)| *f).collect();
        assert_eq!(fields, ["code", "title", "clauses", "min_tier"]);
        let m302 = SEED_CONTROLS
            .iter()
            .find(|c| c.code == "M3-02")
            .expect("seed");
        assert!(m302.draft().applies_to(Segment::Mynumber, 1));
        assert!(!m302.draft().applies_to(Segment::Internet, 3));
        let m602 = SEED_CONTROLS
            .iter()
            .find(|c| c.code == "M2-02")
            .expect("seed");
        assert!(!m602.draft().applies_to(Segment::None, 1));
        assert!(m602.draft().applies_to(Segment::None, 3));
    }

    #[test]
    fn evidence_links() {
        assert!(is_valid_evidence_link("https://intra.example.lg.jp/docs/1"));
        for bad in ["javascript:alert(1)", "https://", "ftp://x", "https://a b"] {
            assert!(!is_valid_evidence_link(bad), "{bad}");
        }
    }
}
