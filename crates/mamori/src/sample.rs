//! `mamori generate-sample`: realistic registers of a Japanese municipal body, for trying
//! Mamori out and for measuring it. Seven files in the `INTERCHANGE.md` format (labels in the
//! header, UTF-8 with BOM), the same for the same seed, which import cleanly into a fresh data
//! directory in this order: `units.csv`, `people.csv`, `assets.csv`, `asset-relations.csv`,
//! `controls.csv`, `control-status.csv`, `risks.csv`. The first four do not depend on the
//! counts of the last three (the same seed writes them byte for byte as before those existed).
//!
//! - Units: 課 under the five seeded bodies and 係 under the 課, coded `sec-001`….
//! - People: Japanese names with their readings, all eight employment categories, a few who
//!   have left, a few unit managers.
//! - Assets: ids 1…N (a new row keeps its id, so the relations file can name them), names
//!   built from the parts a municipality's register is made of, all seven types, segments and
//!   the guideline's levels, review dates on both sides of today, about 2 % disposed.
//!   Descriptions stay short: the search index grows with them.
//! - Relations: systems run on equipment and hold information; networks connect systems and
//!   equipment; never with a disposed asset.
//! - Controls: the organisation's own controls beyond the seeded catalogue (`M6-101`…), so
//!   that the catalogue holds `--controls` in all; each in a measure area, owned by a role the
//!   seeded controls of that area use, citing the area's clause of the seeded basic policy
//!   (sometimes another clause the seed cites), some limited to a segment or a tier.
//! - Control status: every control (seeded and generated) in every generated unit, 実施済
//!   45 %, 一部実施 25 %, 未実施 20 %, 該当なし 10 %, some with notes, links and review dates.
//! - Risks: `R-00001`…, each on one to three assets (not disposed) of one unit, which owns
//!   the risk; a seeded threat, zero to three controls, ratings on the default 3×3 scale with
//!   the impact the assets' classes suggest (or another one with a reason), residual ratings
//!   never above the inherent ones, 受容 only at a residual level of 低, review dates on both
//!   sides of today, about 5 % closed.

use crate::transfer::{Dest, EncodingArg, Exporter, FormatArg};
use anyhow::{Context, Result};
use mamori_domain::assets::classification::Class;
use mamori_domain::assets::{AssetStatus, AssetType, RelationKind, Segment};
use mamori_domain::catalogue::{
    ControlDraft, ImplStatus, MEASURE_AREAS, SEED_CONTROLS, SEED_THREATS,
};
use mamori_domain::interchange::asset_relations::{AssetRelations, RelationRecord};
use mamori_domain::interchange::assets::{AssetRecord, Assets};
use mamori_domain::interchange::catalogue::{ControlRecord, Controls};
use mamori_domain::interchange::control_status::{ControlStatusRecord, ControlStatuses};
use mamori_domain::interchange::people::{People, PersonRecord, RoleRef};
use mamori_domain::interchange::risks::{RiskRecord, Risks};
use mamori_domain::interchange::units::{UnitRecord, Units};
use mamori_domain::risk::register::{RiskDraft, RiskStatus};
use mamori_domain::risk::{RiskLevel, RiskScale, Treatment};
use mamori_domain::seed::{CATEGORIES, UNITS};
use rand::rngs::StdRng;
use rand::seq::SliceRandom;
use rand::{Rng, SeedableRng};
use std::collections::{BTreeMap, HashSet};
use std::path::Path;
use time::{Date, Month};

/// How much to generate.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Counts {
    /// 課 and 係 (besides the five seeded bodies).
    pub units: usize,
    /// People.
    pub people: usize,
    /// Assets.
    pub assets: usize,
    /// Controls in the catalogue in all, the seeded ones included (only those beyond the seed
    /// are written).
    pub controls: usize,
    /// Risks.
    pub risks: usize,
}

/// What was written.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub struct Written {
    /// Units.
    pub units: usize,
    /// People.
    pub people: usize,
    /// Assets.
    pub assets: usize,
    /// Relations.
    pub relations: usize,
    /// Controls beyond the seeded catalogue.
    pub controls: usize,
    /// Control statuses (control × unit).
    pub statuses: usize,
    /// Risks.
    pub risks: usize,
}

const SECTIONS: &[&str] = &[
    "総務課",
    "人事課",
    "企画課",
    "財政課",
    "情報政策課",
    "税務課",
    "市民課",
    "保険年金課",
    "介護保険課",
    "福祉課",
    "子育て支援課",
    "健康推進課",
    "環境課",
    "廃棄物対策課",
    "建設課",
    "都市計画課",
    "上下水道課",
    "会計課",
    "契約管財課",
    "防災危機管理課",
    "広報広聴課",
    "施設管理課",
    "教育総務課",
    "学校教育課",
    "生涯学習課",
    "債権管理課",
    "議事課",
    "調査課",
    "監査課",
    "選挙課",
];
const AREAS: &[&str] = &["", "北部", "南部", "東部", "西部", "中央", "第二", "第三"];
const GROUPS: &[&str] = &[
    "庶務係",
    "管理係",
    "企画係",
    "調整係",
    "システム係",
    "給付係",
    "認定係",
    "賦課係",
    "収納係",
    "窓口係",
    "審査係",
    "指導係",
    "施設係",
    "計画係",
    "経理係",
    "記録係",
];
/// Surnames with their readings.
const SURNAMES: &[(&str, &str)] = &[
    ("佐藤", "さとう"),
    ("鈴木", "すずき"),
    ("高橋", "たかはし"),
    ("田中", "たなか"),
    ("伊藤", "いとう"),
    ("渡辺", "わたなべ"),
    ("山本", "やまもと"),
    ("中村", "なかむら"),
    ("小林", "こばやし"),
    ("加藤", "かとう"),
    ("吉田", "よしだ"),
    ("山田", "やまだ"),
    ("佐々木", "ささき"),
    ("山口", "やまぐち"),
    ("松本", "まつもと"),
    ("井上", "いのうえ"),
    ("木村", "きむら"),
    ("林", "はやし"),
    ("斎藤", "さいとう"),
    ("清水", "しみず"),
    ("山崎", "やまざき"),
    ("森", "もり"),
    ("池田", "いけだ"),
    ("橋本", "はしもと"),
    ("阿部", "あべ"),
    ("石川", "いしかわ"),
    ("水谷", "みずたに"),
    ("近藤", "こんどう"),
    ("服部", "はっとり"),
    ("長﨑", "ながさき"),
    ("髙木", "たかぎ"),
    ("桑原", "くわばら"),
];
/// Given names with their readings.
const GIVEN: &[(&str, &str)] = &[
    ("太郎", "たろう"),
    ("花子", "はなこ"),
    ("一郎", "いちろう"),
    ("美咲", "みさき"),
    ("健太", "けんた"),
    ("陽子", "ようこ"),
    ("翔", "しょう"),
    ("由美", "ゆみ"),
    ("大輔", "だいすけ"),
    ("明美", "あけみ"),
    ("誠", "まこと"),
    ("恵子", "けいこ"),
    ("拓也", "たくや"),
    ("直美", "なおみ"),
    ("浩二", "こうじ"),
    ("真由美", "まゆみ"),
    ("悠", "ゆう"),
    ("さくら", "さくら"),
    ("蓮", "れん"),
    ("結衣", "ゆい"),
    ("剛", "つよし"),
    ("智子", "ともこ"),
    ("修", "おさむ"),
    ("千尋", "ちひろ"),
];
/// Employment categories (code) with how often they occur.
const CATEGORY_WEIGHTS: &[(&str, u32)] = &[
    ("regular", 55),
    ("fiscal_year", 20),
    ("reappointed", 6),
    ("fixed_term", 4),
    ("temporary", 4),
    ("dispatched", 4),
    ("special_part_time", 3),
    ("assembly_member", 4),
];
const SYSTEMS: &[&str] = &[
    "住民基本台帳",
    "介護保険",
    "財務会計",
    "人事給与",
    "文書管理",
    "税務",
    "国民健康保険",
    "後期高齢者医療",
    "児童手当",
    "生活保護",
    "選挙人名簿管理",
    "議会会議録検索",
    "電子決裁",
    "施設予約",
    "統合宛名",
    "障害者福祉",
    "上下水道料金",
    "固定資産税",
    "軽自動車税",
    "庁内ポータル",
];
const INFORMATION: &[&str] = &[
    "住民基本台帳データ",
    "課税台帳",
    "監査資料",
    "選挙人名簿",
    "職員名簿",
    "議事録",
    "予算編成資料",
    "決算資料",
    "介護認定調査票データ",
    "滞納整理記録",
    "契約台帳",
    "問合せ対応記録",
    "公文書目録",
    "会議録音データ",
    "統計調査票データ",
    "健診結果データ",
];
const EQUIPMENT: &[&str] = &[
    "ファイルサーバ",
    "データベースサーバ",
    "認証サーバ",
    "業務端末",
    "ノートPC",
    "ネットワーク機器",
    "L3スイッチ",
    "ファイアウォール",
    "複合機",
    "UPS",
    "無線アクセスポイント",
    "バックアップ装置",
];
const MEDIA: &[&str] = &[
    "USBメモリ",
    "外付けHDD",
    "バックアップテープ",
    "DVD-R",
    "SDカード",
];
const PRINTED: &[&str] = &[
    "申請書綴り",
    "監査調書",
    "会議録（紙）",
    "契約書綴り",
    "住民票交付申請書",
    "税務調査記録",
    "議案書",
    "例規集",
];
const DOCUMENTS: &[&str] = &[
    "設計書",
    "運用手順書",
    "ネットワーク構成図",
    "保守契約書",
    "障害対応記録",
    "操作マニュアル",
];
const NETWORKS: &[&str] = &[
    "庁内LAN",
    "LGWAN接続回線",
    "インターネット接続回線",
    "無線LAN",
    "議会棟LAN",
    "マイナンバー利用事務系ネットワーク",
    "VPN回線",
];
const LOCATIONS: &[&str] = &[
    "本庁舎1階 サーバ室",
    "本庁舎3階 執務室",
    "本庁舎地下 書庫",
    "第二庁舎2階 執務室",
    "データセンター（県内）",
    "LGWAN-ASP（クラウド）",
    "耐火金庫",
    "議会棟2階",
    "分庁舎 倉庫",
];
const DESCRIPTIONS: &[&str] = &[
    "月次バックアップあり",
    "保存年限10年",
    "外部委託先で運用",
    "個人番号を含む",
    "令和9年度更新予定",
    "庁外持ち出し禁止",
    "保守契約あり（24時間）",
    "紙と電子で二重管理",
];
const DISPOSALS: &[&str] = &[
    "物理破壊",
    "溶解処理",
    "データ消去ソフトによる上書き消去",
    "シュレッダー裁断",
    "専門業者による廃棄（証明書あり）",
];
const TYPE_WEIGHTS: &[(AssetType, u32)] = &[
    (AssetType::Information, 35),
    (AssetType::Equipment, 18),
    (AssetType::Printed, 14),
    (AssetType::System, 12),
    (AssetType::Media, 8),
    (AssetType::SystemDocument, 9),
    (AssetType::Network, 4),
];
const CONFIDENTIALITY: &[(&str, u32)] = &[("3A", 5), ("3B", 20), ("3C", 25), ("2", 35), ("1", 15)];
const RTO_HOURS: &[u32] = &[4, 8, 24, 48, 72, 168];

fn pick<'a, T>(rng: &mut StdRng, items: &'a [T]) -> &'a T {
    &items[rng.gen_range(0..items.len())]
}

fn weighted<T: Copy>(rng: &mut StdRng, items: &[(T, u32)]) -> T {
    let total: u32 = items.iter().map(|(_, w)| w).sum();
    let mut n = rng.gen_range(0..total);
    for (item, w) in items {
        if n < *w {
            return *item;
        }
        n -= w;
    }
    items[items.len() - 1].0
}

fn chance(rng: &mut StdRng, percent: u32) -> bool {
    rng.gen_range(0..100) < percent
}

fn date(y: i32, m: Month, d: u8) -> Date {
    Date::from_calendar_date(y, m, d).unwrap_or(Date::MIN)
}

/// A day from `from` up to and including `to`.
fn day_between(rng: &mut StdRng, from: Date, to: Date) -> Date {
    let span = to.to_julian_day() - from.to_julian_day();
    Date::from_julian_day(from.to_julian_day() + rng.gen_range(0..=span)).unwrap_or(from)
}

/// Writes the seven files into `dir`.
pub fn generate(dir: &Path, counts: Counts, seed: u64) -> Result<Written> {
    std::fs::create_dir_all(dir).with_context(|| dir.display().to_string())?;
    let mut rng = StdRng::seed_from_u64(seed);
    let units = write_units(&mut rng, &dir.join("units.csv"), counts.units)?;
    let (people, custodians) =
        write_people(&mut rng, &dir.join("people.csv"), counts.people, &units)?;
    let assets = write_assets(
        &mut rng,
        &dir.join("assets.csv"),
        counts.assets,
        &units,
        &custodians,
    )?;
    let relations = write_relations(&mut rng, &dir.join("asset-relations.csv"), &assets)?;
    // Everything above is drawn first, so that its files do not depend on what follows.
    let controls = write_controls(&mut rng, &dir.join("controls.csv"), counts.controls)?;
    let all_controls: Vec<String> = SEED_CONTROLS
        .iter()
        .map(|c| c.code.to_owned())
        .chain(controls.iter().cloned())
        .collect();
    let statuses = write_statuses(
        &mut rng,
        &dir.join("control-status.csv"),
        &all_controls,
        &units,
    )?;
    let risks = write_risks(
        &mut rng,
        &dir.join("risks.csv"),
        counts.risks,
        &assets,
        &custodians,
        &all_controls,
    )?;
    Ok(Written {
        units: units.len(),
        people,
        assets: assets.len(),
        relations,
        controls: controls.len(),
        statuses,
        risks,
    })
}

fn exporter<'p, K: mamori_domain::interchange::kind::Kind>(
    path: &'p Path,
) -> Result<Exporter<'p, K>> {
    Exporter::<K>::new(FormatArg::Csv, EncodingArg::Utf8, true, Dest::File(path))
}

/// A generated unit: its code and the seeded body it belongs to.
struct GenUnit {
    code: String,
    body: &'static str,
}

/// 課 (about a quarter) under the seeded bodies, mostly the 事務局, then 係 under the 課.
fn write_units(rng: &mut StdRng, path: &Path, n: usize) -> Result<Vec<GenUnit>> {
    let mut out = exporter::<Units>(path)?;
    let sections = if n == 0 { 0 } else { n.div_ceil(4) };
    let mut made: Vec<(GenUnit, String)> = Vec::with_capacity(n);
    let bodies: &[(&str, u32)] = &[
        ("secretariat", 80),
        ("audit_office", 5),
        ("election_board", 5),
        ("assembly", 2),
        ("assembly_office", 8),
    ];
    for i in 0..n {
        let code = format!("sec-{:03}", i + 1);
        let (name, parent, body) = if i < sections {
            let base = SECTIONS[i % SECTIONS.len()];
            let area = AREAS[(i / SECTIONS.len()) % AREAS.len()];
            let round = i / (SECTIONS.len() * AREAS.len());
            let name = if round == 0 {
                format!("{area}{base}")
            } else {
                format!("{area}{base}{}", round + 1)
            };
            let body = weighted(rng, bodies);
            (name, body.to_owned(), body)
        } else {
            let (section, section_name) = &made[rng.gen_range(0..sections)];
            let group = GROUPS[(i - sections) % GROUPS.len()];
            (
                format!("{section_name}{group}"),
                section.code.clone(),
                section.body,
            )
        };
        out.push(UnitRecord {
            code: code.clone(),
            name: name.clone(),
            parent: Some(parent),
            in_scope: !chance(rng, 5),
        })?;
        made.push((GenUnit { code, body }, name));
    }
    out.finish()?;
    Ok(made.into_iter().map(|(u, _)| u).collect())
}

/// The unit a person or an asset belongs to: a generated one, else a seeded body.
fn some_unit(rng: &mut StdRng, units: &[GenUnit]) -> String {
    if units.is_empty() {
        pick(rng, UNITS).code.to_owned()
    } else {
        pick(rng, units).code.clone()
    }
}

/// Someone who may be a custodian or a risk owner (still here, not an assembly member): staff
/// id and unit code.
type Custodian = (String, String);

/// People; returns how many, and those who may be custodians.
fn write_people(
    rng: &mut StdRng,
    path: &Path,
    n: usize,
    units: &[GenUnit],
) -> Result<(usize, Vec<Custodian>)> {
    let mut out = exporter::<People>(path)?;
    let mut custodians = Vec::new();
    for i in 0..n {
        let staff_id = format!("{:06}", i + 1);
        // Every category appears (the first eight people take one each).
        let category = match CATEGORY_WEIGHTS.get(i) {
            Some((code, _)) => *code,
            None => weighted(rng, CATEGORY_WEIGHTS),
        };
        let label = CATEGORIES
            .iter()
            .find(|c| c.code == category)
            .map_or(category, |c| c.label_ja);
        let (surname, surname_kana) = *pick(rng, SURNAMES);
        let (given, given_kana) = *pick(rng, GIVEN);
        let unit = if category == "assembly_member" {
            "assembly".to_owned()
        } else {
            some_unit(rng, units)
        };
        let joined = if chance(rng, 70) {
            date(rng.gen_range(1990..=2026), Month::April, 1)
        } else {
            day_between(
                rng,
                date(1995, Month::January, 1),
                date(2026, Month::October, 31),
            )
        };
        let left = (chance(rng, 3) && joined < date(2025, Month::March, 31))
            .then(|| date(2025, Month::March, 31));
        let email = if category != "assembly_member" && chance(rng, 70) {
            format!("s{staff_id}@city.example.lg.jp")
        } else {
            String::new()
        };
        let roles = if category == "regular" && chance(rng, 2) {
            vec![RoleRef {
                role: "unit_manager".into(),
                unit: Some(unit.clone()),
            }]
        } else {
            Vec::new()
        };
        if left.is_none() && category != "assembly_member" {
            custodians.push((staff_id.clone(), unit.clone()));
        }
        out.push(PersonRecord {
            staff_id,
            name: format!("{surname} {given}"),
            kana: format!("{surname_kana} {given_kana}"),
            unit,
            category: label.to_owned(),
            email,
            roles: Some(roles),
            joined_on: Some(joined),
            left_on: left,
        })?;
    }
    out.finish()?;
    Ok((n, custodians))
}

/// What the relations and risks need to know of a generated asset.
struct GenAsset {
    asset_type: AssetType,
    disposed: bool,
    unit: String,
    name: String,
    class: Class,
    personal_data: bool,
}

fn asset_name(rng: &mut StdRng, t: AssetType) -> String {
    let reiwa = rng.gen_range(1..=8);
    match t {
        AssetType::System => {
            let base = pick(rng, SYSTEMS);
            match rng.gen_range(0..10) {
                0..=5 => format!("{base}システム"),
                6..=7 => format!("{base}システム 第{}期", rng.gen_range(2..=5)),
                _ => format!("{base}システム（令和{reiwa}年度更新）"),
            }
        }
        AssetType::Information => {
            let base = pick(rng, INFORMATION);
            if chance(rng, 60) {
                format!("令和{reiwa}年度{base}")
            } else {
                (*base).to_owned()
            }
        }
        AssetType::Equipment => {
            format!("{} {:02}号機", pick(rng, EQUIPMENT), rng.gen_range(1..=40))
        }
        AssetType::Media => format!(
            "{} 管理番号{:04}",
            pick(rng, MEDIA),
            rng.gen_range(1..=2000)
        ),
        AssetType::Printed => format!("令和{reiwa}年度{}", pick(rng, PRINTED)),
        AssetType::SystemDocument => {
            format!("{}システム{}", pick(rng, SYSTEMS), pick(rng, DOCUMENTS))
        }
        AssetType::Network => {
            let base = pick(rng, NETWORKS);
            if chance(rng, 50) {
                format!(
                    "{base}（{}）",
                    pick(rng, &["本庁舎", "第二庁舎", "分庁舎", "議会棟"])
                )
            } else {
                (*base).to_owned()
            }
        }
    }
}

fn write_assets(
    rng: &mut StdRng,
    path: &Path,
    n: usize,
    units: &[GenUnit],
    custodians: &[Custodian],
) -> Result<Vec<GenAsset>> {
    let mut out = exporter::<Assets>(path)?;
    let mut made = Vec::with_capacity(n);
    for id in 1..=n {
        let t = weighted(rng, TYPE_WEIGHTS);
        let segment = match t {
            AssetType::System | AssetType::Equipment | AssetType::Network => weighted(
                rng,
                &[
                    (Segment::Mynumber, 25),
                    (Segment::Lgwan, 45),
                    (Segment::Internet, 20),
                    (Segment::Standalone, 10),
                ],
            ),
            AssetType::Printed => Segment::None,
            _ => weighted(
                rng,
                &[
                    (Segment::Lgwan, 40),
                    (Segment::Mynumber, 15),
                    (Segment::Internet, 10),
                    (Segment::None, 35),
                ],
            ),
        };
        let confidentiality = weighted(rng, CONFIDENTIALITY);
        let personal_data = if confidentiality.starts_with('3') && confidentiality != "3C" {
            chance(rng, 70)
        } else {
            chance(rng, 10)
        };
        let integrity = if chance(rng, 45) { "2" } else { "1" };
        let availability_two = (matches!(t, AssetType::System | AssetType::Network)
            && chance(rng, 70))
            || chance(rng, 25);
        let rto_hours = (availability_two && chance(rng, 50)).then(|| *pick(rng, RTO_HOURS));
        let status = match rng.gen_range(0..100) {
            0..=1 => AssetStatus::Disposed,
            2..=4 => AssetStatus::Registered,
            _ => AssetStatus::InUse,
        };
        let disposed = status == AssetStatus::Disposed;
        let location = match t {
            AssetType::Information if chance(rng, 60) => String::new(),
            _ => (*pick(rng, LOCATIONS)).to_owned(),
        };
        let description = if chance(rng, 75) {
            String::new()
        } else {
            (*pick(rng, DESCRIPTIONS)).to_owned()
        };
        let custodian = if !custodians.is_empty() && chance(rng, 70) {
            pick(rng, custodians).0.clone()
        } else {
            String::new()
        };
        let name = asset_name(rng, t);
        let owner_unit = some_unit(rng, units);
        let class = Class {
            confidentiality: confidentiality.to_owned(),
            integrity: integrity.to_owned(),
            availability: if availability_two { "2" } else { "1" }.to_owned(),
        };
        made.push(GenAsset {
            asset_type: t,
            disposed,
            unit: owner_unit.clone(),
            name: name.clone(),
            class: class.clone(),
            personal_data,
        });
        out.push(AssetRecord {
            id: Some(id.to_string()),
            name,
            asset_type: t,
            owner_unit,
            custodian,
            segment,
            confidentiality: class.confidentiality,
            integrity: class.integrity,
            availability: class.availability,
            location,
            description,
            personal_data,
            rto_hours,
            // About a fifth are already due (the overdue filter finds them).
            review_on: Some(day_between(
                rng,
                date(2025, Month::April, 1),
                date(2030, Month::March, 31),
            )),
            status,
            disposed_on: disposed.then(|| {
                day_between(
                    rng,
                    date(2019, Month::April, 1),
                    date(2025, Month::March, 31),
                )
            }),
            disposal_method: if disposed {
                (*pick(rng, DISPOSALS)).to_owned()
            } else {
                String::new()
            },
        })?;
    }
    out.finish()?;
    Ok(made)
}

fn write_relations(rng: &mut StdRng, path: &Path, assets: &[GenAsset]) -> Result<usize> {
    let ids_of = |wanted: &[AssetType]| -> Vec<i64> {
        assets
            .iter()
            .enumerate()
            .filter(|(_, a)| !a.disposed && wanted.contains(&a.asset_type))
            .map(|(i, _)| i as i64 + 1)
            .collect()
    };
    let systems = ids_of(&[AssetType::System]);
    let equipment = ids_of(&[AssetType::Equipment]);
    let information = ids_of(&[AssetType::Information]);
    let networks = ids_of(&[AssetType::Network]);
    let attached = ids_of(&[AssetType::System, AssetType::Equipment]);
    let mut out = exporter::<AssetRelations>(path)?;
    let mut seen: HashSet<(i64, i64, RelationKind)> = HashSet::new();
    let mut add =
        |out: &mut Exporter<'_, AssetRelations>, from: i64, to: i64, kind| -> Result<()> {
            if from != to && seen.insert((from, to, kind)) {
                out.push(RelationRecord::new(from, to, kind))?;
            }
            Ok(())
        };
    for &system in &systems {
        if !equipment.is_empty() && chance(rng, 80) {
            add(
                &mut out,
                system,
                *pick(rng, &equipment),
                RelationKind::RunsOn,
            )?;
        }
        if !information.is_empty() {
            for _ in 0..rng.gen_range(1..=2) {
                add(
                    &mut out,
                    system,
                    *pick(rng, &information),
                    RelationKind::Holds,
                )?;
            }
        }
    }
    for &network in &networks {
        if attached.is_empty() {
            break;
        }
        let n = rng.gen_range(1..=3).min(attached.len());
        for &to in attached.choose_multiple(rng, n) {
            add(&mut out, network, to, RelationKind::Connects)?;
        }
    }
    let count = out.count();
    out.finish()?;
    Ok(count)
}

/// Controls an organisation adds to the seeded catalogue, per measure area (titles).
const OWN_CONTROLS: &[(&str, &[&str])] = &[
    (
        "M1",
        &[
            "情報セキュリティ担当者の指名",
            "部局間の連絡会議の開催",
            "緊急連絡網の年次更新",
            "情報セキュリティ年次計画の策定",
        ],
    ),
    (
        "M2",
        &[
            "情報資産の棚卸し",
            "個人情報ファイル簿の整備",
            "保存期間を過ぎた情報の廃棄",
            "複製の管理",
            "共有フォルダの整理",
        ],
    ),
    (
        "M3",
        &[
            "端末のネットワーク区分の表示",
            "区分間のデータ受渡しの記録",
            "外部記録媒体の接続制限",
            "仮想ブラウザの利用",
        ],
    ),
    (
        "M4",
        &[
            "執務室の施錠確認",
            "書庫の鍵の管理",
            "端末の盗難防止ワイヤ",
            "複合機の印刷物の放置防止",
            "機器の廃棄時のデータ消去",
        ],
    ),
    (
        "M5",
        &[
            "新任職員への研修",
            "会計年度任用職員への説明",
            "標的型攻撃メール訓練の結果の共有",
            "テレワーク時の遵守事項の周知",
        ],
    ),
    (
        "M6",
        &[
            "管理者アカウントの棚卸し",
            "パスワードの強度の確認",
            "サーバの設定の定期確認",
            "操作ログの定期確認",
            "バックアップからの復元訓練",
            "端末の画面ロック設定",
            "不要なサービスの停止",
        ],
    ),
    (
        "M7",
        &[
            "インシデント対応手順の訓練",
            "外部からの脆弱性通報の受付",
            "例外措置の台帳の確認",
            "情報システムの稼働監視",
        ],
    ),
    (
        "M8",
        &[
            "委託先の再委託状況の確認",
            "委託契約終了時のデータ消去の確認",
            "クラウドサービスの利用状況の確認",
            "委託先への立入検査",
        ],
    ),
    (
        "M9",
        &[
            "部署ごとの自己点検",
            "点検結果の委員会への報告",
            "是正状況の追跡",
        ],
    ),
];
/// How often each measure area gets one of the organisation's own controls.
const AREA_WEIGHTS: &[(&str, u32)] = &[
    ("M1", 5),
    ("M2", 15),
    ("M3", 10),
    ("M4", 12),
    ("M5", 12),
    ("M6", 25),
    ("M7", 9),
    ("M8", 8),
    ("M9", 4),
];
const STATUS_WEIGHTS: &[(ImplStatus, u32)] = &[
    (ImplStatus::Implemented, 45),
    (ImplStatus::Partial, 25),
    (ImplStatus::NotStarted, 20),
    (ImplStatus::NotApplicable, 10),
];
const STATUS_NOTES: &[&str] = &[
    "令和8年度中に対応予定",
    "一部の係で未対応",
    "委託先の対応を確認中",
    "手順書を改訂済み",
    "予算要求中",
    "システム更新に合わせて対応",
    "当課では該当する業務なし",
];
const WEAKNESSES: &[&str] = &[
    "オフラインのバックアップがない",
    "多要素認証が導入されていない",
    "操作ログを定期的に確認していない",
    "持出しの記録が徹底されていない",
    "委託先の管理状況を確認していない",
    "パッチの適用が遅れがちである",
    "担当者が一人しかいない",
    "停電時の手順が定められていない",
];
const TREATMENT_NOTES: &[&str] = &[
    "管理策の実施状況を四半期ごとに確認する",
    "次期システム更新で対策する",
    "保守契約で復旧時間を定める",
    "職員研修で周知する",
    "業務を外部サービスに移す",
    "当面は現状の対策で受け入れる",
];

/// The organisation's own controls: `total` minus the seeded ones. Returns their codes.
fn write_controls(rng: &mut StdRng, path: &Path, total: usize) -> Result<Vec<String>> {
    let mut out = exporter::<Controls>(path)?;
    // Every clause the seeded controls cite: clauses of the seeded basic policy.
    let mut anchors: Vec<&str> = Vec::new();
    for c in SEED_CONTROLS {
        for a in c.clauses {
            if !anchors.contains(a) {
                anchors.push(a);
            }
        }
    }
    let mut next: BTreeMap<&str, usize> = BTreeMap::new();
    let mut codes = Vec::new();
    for _ in SEED_CONTROLS.len()..total {
        let area = weighted(rng, AREA_WEIGHTS);
        let number = next.entry(area).or_insert(101);
        let code = format!("{area}-{number}");
        *number += 1;
        let titles = OWN_CONTROLS
            .iter()
            .find(|(a, _)| *a == area)
            .map_or(&[][..], |(_, t)| *t);
        let base = pick(rng, titles);
        let title = if chance(rng, 50) {
            format!("{base}（{}システム）", pick(rng, SYSTEMS))
        } else {
            (*base).to_owned()
        };
        let roles: Vec<&str> = SEED_CONTROLS
            .iter()
            .filter(|c| c.area == area)
            .map(|c| c.owner_role)
            .collect();
        let owner_role = (*pick(rng, &roles)).to_owned();
        let clause = MEASURE_AREAS
            .iter()
            .find(|a| a.code == area)
            .map_or("6(6)", |a| a.clause);
        let mut clauses = vec![clause.to_owned()];
        if chance(rng, 20) {
            let other = *pick(rng, &anchors);
            if other != clause {
                clauses.push(other.to_owned());
            }
        }
        let segments = if chance(rng, 15) {
            vec![*pick(
                rng,
                &[Segment::Mynumber, Segment::Lgwan, Segment::Internet],
            )]
        } else {
            Vec::new()
        };
        let min_tier = match rng.gen_range(0..100) {
            0..=19 => Some(2),
            20..=24 => Some(3),
            _ => None,
        };
        out.push(ControlRecord {
            draft: ControlDraft {
                code: code.clone(),
                area: area.to_owned(),
                description: format!("{base}について、手順を定めて実施し、記録を残す。"),
                title,
                clauses,
                owner_role,
                segments,
                min_tier,
                retired: false,
            },
            area_label: None,
            owner_role_label: None,
        })?;
        codes.push(code);
    }
    out.finish()?;
    Ok(codes)
}

/// A status for every control in every generated unit (the seeded bodies when none is).
fn write_statuses(
    rng: &mut StdRng,
    path: &Path,
    controls: &[String],
    units: &[GenUnit],
) -> Result<usize> {
    let mut out = exporter::<ControlStatuses>(path)?;
    let unit_codes: Vec<&str> = if units.is_empty() {
        UNITS.iter().map(|u| u.code).collect()
    } else {
        units.iter().map(|u| u.code.as_str()).collect()
    };
    for unit in unit_codes {
        for control in controls {
            let status = weighted(rng, STATUS_WEIGHTS);
            let note = match status {
                ImplStatus::Partial | ImplStatus::NotStarted if chance(rng, 30) => {
                    (*pick(rng, STATUS_NOTES)).to_owned()
                }
                ImplStatus::NotApplicable if chance(rng, 50) => {
                    "当課では該当する業務なし".to_owned()
                }
                _ => String::new(),
            };
            let links = if status == ImplStatus::Implemented && chance(rng, 10) {
                vec![format!(
                    "https://intra.city.example.lg.jp/isms/{control}/{unit}"
                )]
            } else {
                Vec::new()
            };
            let review_on = (status != ImplStatus::NotApplicable && chance(rng, 60)).then(|| {
                day_between(
                    rng,
                    date(2026, Month::April, 1),
                    date(2028, Month::March, 31),
                )
            });
            out.push(ControlStatusRecord::new(
                control.clone(),
                unit.to_owned(),
                status,
                note,
                links,
                review_on,
                None,
                None,
            ))?;
        }
    }
    let count = out.count();
    out.finish()?;
    Ok(count)
}

/// What a threat of each category does to an asset, for the risk's title.
fn consequence(category: &str) -> &'static str {
    match category {
        "T1" => "情報漏えい・停止",
        "T2" => "誤処理・情報漏えい",
        "T3" => "損壊・長期停止",
        "T4" => "運用の停滞",
        _ => "停止",
    }
}

/// Risks on the assets that are not disposed; none when there is no such asset.
fn write_risks(
    rng: &mut StdRng,
    path: &Path,
    n: usize,
    assets: &[GenAsset],
    custodians: &[Custodian],
    controls: &[String],
) -> Result<usize> {
    let mut out = exporter::<Risks>(path)?;
    let live: Vec<usize> = (0..assets.len()).filter(|&i| !assets[i].disposed).collect();
    let mut by_unit: BTreeMap<&str, Vec<usize>> = BTreeMap::new();
    for &i in &live {
        by_unit.entry(assets[i].unit.as_str()).or_default().push(i);
    }
    let mut owners: BTreeMap<&str, Vec<&str>> = BTreeMap::new();
    for (staff_id, unit) in custodians {
        owners
            .entry(unit.as_str())
            .or_default()
            .push(staff_id.as_str());
    }
    let scale = RiskScale::ThreeByThree;
    for i in 0..n {
        if live.is_empty() {
            break;
        }
        let first = *pick(rng, &live);
        let unit = assets[first].unit.as_str();
        let mut linked = vec![first];
        let same_unit = &by_unit[unit];
        for _ in 0..rng.gen_range(0..=2) {
            let other = *pick(rng, same_unit);
            if !linked.contains(&other) {
                linked.push(other);
            }
        }
        let (threat, category, threat_title, _) = *pick(rng, SEED_THREATS);
        let title = format!(
            "{threat_title}による{}の{}",
            assets[first].name,
            consequence(category)
        );
        let suggested = scale
            .suggest_impact(
                linked
                    .iter()
                    .map(|&a| (&assets[a].class, assets[a].personal_data)),
            )
            .unwrap_or(1);
        let likelihood = weighted(rng, &[(1u8, 40), (2, 40), (3, 20)]);
        let (impact, impact_reason) = if chance(rng, 85) {
            (suggested, String::new())
        } else {
            (
                rng.gen_range(1..=scale.max()),
                "生成データ: 所管課の判断による".to_owned(),
            )
        };
        let residual_likelihood = rng.gen_range(1..=likelihood);
        let residual_impact = rng.gen_range(1..=impact);
        let residual = scale.level(residual_likelihood, residual_impact);
        let treatment = if residual == RiskLevel::Low && chance(rng, 30) {
            Treatment::Accept
        } else {
            weighted(
                rng,
                &[
                    (Treatment::Reduce, 75),
                    (Treatment::Transfer, 15),
                    (Treatment::Avoid, 10),
                ],
            )
        };
        let mut control_codes: Vec<String> = Vec::new();
        for _ in 0..rng.gen_range(0..=3) {
            let c = pick(rng, controls);
            if !control_codes.contains(c) {
                control_codes.push(c.clone());
            }
        }
        let owner = match owners.get(unit) {
            Some(people) if chance(rng, 60) => (*pick(rng, people)).to_owned(),
            _ => String::new(),
        };
        let weakness = if chance(rng, 60) {
            (*pick(rng, WEAKNESSES)).to_owned()
        } else {
            String::new()
        };
        let treatment_note = if chance(rng, 70) {
            (*pick(rng, TREATMENT_NOTES)).to_owned()
        } else {
            String::new()
        };
        // About a third are already due (today is in December 2026).
        let review_on = Some(day_between(
            rng,
            date(2026, Month::April, 1),
            date(2028, Month::March, 31),
        ));
        let status = if chance(rng, 5) {
            RiskStatus::Closed
        } else {
            RiskStatus::Open
        };
        out.push(RiskRecord {
            draft: RiskDraft {
                code: format!("R-{:05}", i + 1),
                title,
                unit: unit.to_owned(),
                owner,
                threat: threat.to_owned(),
                weakness,
                asset_group: String::new(),
                assets: linked.iter().map(|&a| a as i64 + 1).collect(),
                controls: control_codes,
                likelihood: i64::from(likelihood),
                impact: i64::from(impact),
                impact_reason,
                treatment: Some(treatment),
                treatment_note,
                residual_likelihood: Some(i64::from(residual_likelihood)),
                residual_impact: Some(i64::from(residual_impact)),
                review_on,
                status: Some(status),
            },
            ..RiskRecord::default()
        })?;
    }
    let count = out.count();
    out.finish()?;
    Ok(count)
}

#[cfg(test)]
mod tests {
    use super::*;
    use mamori_domain::interchange::kind::read_file;
    use mamori_domain::interchange::values::fold;

    fn generated(seed: u64) -> (tempfile::TempDir, Written) {
        let dir = tempfile::tempdir().expect("dir");
        let counts = Counts {
            units: 20,
            people: 50,
            assets: 600,
            controls: 80,
            risks: 300,
        };
        let written = generate(dir.path(), counts, seed).expect("generate");
        (dir, written)
    }

    #[test]
    fn the_same_seed_writes_the_same_files_and_another_seed_does_not() {
        let (a, wa) = generated(7);
        let (b, wb) = generated(7);
        let (c, _) = generated(8);
        assert_eq!(wa, wb);
        for f in [
            "units.csv",
            "people.csv",
            "assets.csv",
            "asset-relations.csv",
            "controls.csv",
            "control-status.csv",
            "risks.csv",
        ] {
            let fa = std::fs::read(a.path().join(f)).expect("a");
            assert_eq!(fa, std::fs::read(b.path().join(f)).expect("b"), "{f}");
            assert!(fa.starts_with(UTF8_BOM_BYTES), "{f} starts with a BOM");
        }
        for f in ["assets.csv", "control-status.csv", "risks.csv"] {
            assert_ne!(
                std::fs::read(a.path().join(f)).expect("a"),
                std::fs::read(c.path().join(f)).expect("c"),
                "{f}"
            );
        }
    }

    #[test]
    fn the_first_four_files_do_not_depend_on_the_catalogue_and_risk_counts() {
        let (a, _) = generated(5);
        let b = tempfile::tempdir().expect("dir");
        let counts = Counts {
            units: 20,
            people: 50,
            assets: 600,
            controls: 0,
            risks: 0,
        };
        let written = generate(b.path(), counts, 5).expect("generate");
        assert_eq!((written.controls, written.risks), (0, 0));
        for f in [
            "units.csv",
            "people.csv",
            "assets.csv",
            "asset-relations.csv",
        ] {
            assert_eq!(
                std::fs::read(a.path().join(f)).expect("a"),
                std::fs::read(b.path().join(f)).expect("b"),
                "{f}"
            );
        }
    }

    const UTF8_BOM_BYTES: &[u8] = &[0xEF, 0xBB, 0xBF];

    #[test]
    fn the_files_read_back_and_cover_the_vocabularies() {
        let (dir, written) = generated(1);
        let read = |f: &str| std::fs::read(dir.path().join(f)).expect("read");
        let units = read_file::<Units>(&read("units.csv")).expect("units");
        assert_eq!(units.len(), 20);
        assert_eq!(units[0].1.code, "sec-001");
        let seeded: Vec<&str> = UNITS.iter().map(|u| u.code).collect();
        for (_, u) in &units {
            let parent = u.parent.as_deref().expect("parent");
            let earlier = units.iter().take_while(|(_, x)| x.code != u.code);
            assert!(
                seeded.contains(&parent) || earlier.clone().any(|(_, x)| x.code == parent),
                "{} comes after its parent {parent}",
                u.code
            );
        }
        let people = read_file::<People>(&read("people.csv")).expect("people");
        assert_eq!(people.len(), 50);
        assert_eq!(people[0].1.staff_id, "000001", "leading zeros");
        for c in CATEGORIES {
            assert!(
                people.iter().any(|(_, p)| p.category == fold(c.label_ja)),
                "category {}",
                c.code
            );
        }
        let staff: HashSet<&str> = people.iter().map(|(_, p)| p.staff_id.as_str()).collect();
        let assets = read_file::<Assets>(&read("assets.csv")).expect("assets");
        assert_eq!(assets.len(), written.assets);
        for (i, (_, a)) in assets.iter().enumerate() {
            assert_eq!(a.id.as_deref(), Some((i + 1).to_string().as_str()));
            assert!(a.custodian.is_empty() || staff.contains(a.custodian.as_str()));
            assert!(a.description.chars().count() < 30);
        }
        for t in AssetType::ALL {
            assert!(assets.iter().any(|(_, a)| a.asset_type == *t), "type {t}");
        }
        for c in ["3A", "3B", "3C", "2", "1"] {
            assert!(
                assets.iter().any(|(_, a)| a.confidentiality == c),
                "level {c}"
            );
        }
        let disposed = assets
            .iter()
            .filter(|(_, a)| a.status == AssetStatus::Disposed)
            .count();
        assert!((1..=30).contains(&disposed), "about 2 %: {disposed}");
        let past = date(2026, Month::January, 1);
        assert!(assets
            .iter()
            .any(|(_, a)| a.review_on.is_some_and(|d| d < past)));
        assert!(assets.iter().any(|(_, a)| a.personal_data));

        let relations = read_file::<AssetRelations>(&read("asset-relations.csv")).expect("rel");
        assert_eq!(relations.len(), written.relations);
        assert!(!relations.is_empty());
        for (_, r) in &relations {
            let of = |id: i64| &assets[(id - 1) as usize].1;
            let (from, to) = (of(r.from), of(r.to));
            assert!(r.kind.allows(from.asset_type, to.asset_type), "{r:?}");
            assert!(from.status != AssetStatus::Disposed && to.status != AssetStatus::Disposed);
        }
        for k in [
            RelationKind::Holds,
            RelationKind::RunsOn,
            RelationKind::Connects,
        ] {
            assert!(relations.iter().any(|(_, r)| r.kind == k), "kind {k}");
        }

        // Controls: 80 in all, 20 beyond the seed, each valid against the seeded data.
        let controls = read_file::<Controls>(&read("controls.csv")).expect("controls");
        assert_eq!(controls.len(), 80 - SEED_CONTROLS.len());
        assert_eq!(written.controls, controls.len());
        let roles: HashSet<&str> = mamori_domain::seed::ROLES.iter().map(|r| r.code).collect();
        let cited: HashSet<&str> = SEED_CONTROLS
            .iter()
            .flat_map(|c| c.clauses.iter().copied())
            .collect();
        for (_, c) in &controls {
            let d = &c.draft;
            assert!(d.problems().is_empty(), "{}: {:?}", d.code, d.problems());
            assert!(
                !SEED_CONTROLS.iter().any(|s| s.code == d.code),
                "{}",
                d.code
            );
            assert!(d.code.starts_with(&d.area));
            assert!(MEASURE_AREAS.iter().any(|a| a.code == d.area));
            assert!(roles.contains(d.owner_role.as_str()), "{}", d.owner_role);
            assert!(!d.clauses.is_empty());
            assert!(d.clauses.iter().all(|a| cited.contains(a.as_str())));
        }
        let codes: Vec<String> = SEED_CONTROLS
            .iter()
            .map(|c| c.code.to_owned())
            .chain(controls.iter().map(|(_, c)| c.draft.code.clone()))
            .collect();

        // Statuses: every control in every generated unit, every status present.
        let statuses = read_file::<ControlStatuses>(&read("control-status.csv")).expect("statuses");
        assert_eq!(statuses.len(), 80 * 20);
        assert_eq!(written.statuses, statuses.len());
        let unit_codes: HashSet<&str> = units.iter().map(|(_, u)| u.code.as_str()).collect();
        for (_, s) in &statuses {
            assert!(codes.contains(&s.control), "{}", s.control);
            assert!(unit_codes.contains(s.unit.as_str()), "{}", s.unit);
        }
        for st in ImplStatus::ALL {
            assert!(statuses.iter().any(|(_, s)| s.status == st), "{st:?}");
        }

        // Risks: on live assets of the risk's unit, rated as the register would accept.
        let risks = read_file::<Risks>(&read("risks.csv")).expect("risks");
        assert_eq!(risks.len(), 300);
        assert_eq!(written.risks, risks.len());
        assert_eq!(risks[0].1.draft.code, "R-00001");
        let threats: HashSet<&str> = SEED_THREATS.iter().map(|t| t.0).collect();
        let scale = RiskScale::ThreeByThree;
        let today = date(2026, Month::December, 3);
        for (_, r) in &risks {
            let d = &r.draft;
            assert!(threats.contains(d.threat.as_str()), "{}", d.threat);
            assert!((1..=3).contains(&d.assets.len()), "{}", d.code);
            assert!(d.controls.len() <= 3 && d.controls.iter().all(|c| codes.contains(c)));
            let linked: Vec<&AssetRecord> = d
                .assets
                .iter()
                .map(|id| &assets[(*id - 1) as usize].1)
                .collect();
            for a in &linked {
                assert_eq!(a.owner_unit, d.unit, "{}", d.code);
                assert_ne!(a.status, AssetStatus::Disposed, "{}", d.code);
            }
            let classes: Vec<(Class, bool)> = linked
                .iter()
                .map(|a| {
                    let class = Class {
                        confidentiality: a.confidentiality.clone(),
                        integrity: a.integrity.clone(),
                        availability: a.availability.clone(),
                    };
                    (class, a.personal_data)
                })
                .collect();
            let suggested = scale.suggest_impact(classes.iter().map(|(c, p)| (c, *p)));
            let rating = d.rate(scale, suggested).expect("rated");
            assert!(d.owner.is_empty() || staff.contains(d.owner.as_str()));
            if d.treatment == Some(Treatment::Accept) {
                assert_eq!(rating.residual_level, RiskLevel::Low, "{}", d.code);
            }
        }
        assert!(risks
            .iter()
            .any(|(_, r)| r.draft.review_on.is_some_and(|d| d < today)));
        assert!(risks
            .iter()
            .any(|(_, r)| r.draft.review_on.is_some_and(|d| d > today)));
        assert!(risks.iter().any(|(_, r)| !r.draft.impact_reason.is_empty()));
        for t in Treatment::ALL {
            assert!(
                risks.iter().any(|(_, r)| r.draft.treatment == Some(t)),
                "{t:?}"
            );
        }
    }
}
