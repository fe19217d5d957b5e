//! `mamori generate-sample`: realistic registers of a Japanese municipal body, for trying
//! Mamori out and for measuring it. Four files in the `INTERCHANGE.md` format (labels in the
//! header, UTF-8 with BOM), the same for the same seed, which import cleanly into a fresh data
//! directory in this order: `units.csv`, `people.csv`, `assets.csv`, `asset-relations.csv`.
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

use crate::transfer::{Dest, EncodingArg, Exporter, FormatArg};
use anyhow::{Context, Result};
use mamori_domain::assets::{AssetStatus, AssetType, RelationKind, Segment};
use mamori_domain::interchange::asset_relations::{AssetRelations, RelationRecord};
use mamori_domain::interchange::assets::{AssetRecord, Assets};
use mamori_domain::interchange::people::{People, PersonRecord, RoleRef};
use mamori_domain::interchange::units::{UnitRecord, Units};
use mamori_domain::seed::{CATEGORIES, UNITS};
use rand::rngs::StdRng;
use rand::seq::SliceRandom;
use rand::{Rng, SeedableRng};
use std::collections::HashSet;
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

/// Writes the four files into `dir`.
pub fn generate(dir: &Path, counts: Counts, seed: u64) -> Result<Written> {
    std::fs::create_dir_all(dir).with_context(|| dir.display().to_string())?;
    let mut rng = StdRng::seed_from_u64(seed);
    let units = write_units(&mut rng, &dir.join("units.csv"), counts.units)?;
    let (people, custodians) =
        write_people(&mut rng, &dir.join("people.csv"), counts.people, &units)?;
    let kinds = write_assets(
        &mut rng,
        &dir.join("assets.csv"),
        counts.assets,
        &units,
        &custodians,
    )?;
    let relations = write_relations(&mut rng, &dir.join("asset-relations.csv"), &kinds)?;
    Ok(Written {
        units: units.len(),
        people,
        assets: kinds.len(),
        relations,
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

/// People; returns how many, and the staff ids of those who may be custodians (still here,
/// not assembly members).
fn write_people(
    rng: &mut StdRng,
    path: &Path,
    n: usize,
    units: &[GenUnit],
) -> Result<(usize, Vec<String>)> {
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
            custodians.push(staff_id.clone());
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

/// What the relations need to know of each asset: its type, and whether it is disposed.
type AssetKinds = Vec<(AssetType, bool)>;

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
    custodians: &[String],
) -> Result<AssetKinds> {
    let mut out = exporter::<Assets>(path)?;
    let mut kinds = Vec::with_capacity(n);
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
            pick(rng, custodians).clone()
        } else {
            String::new()
        };
        out.push(AssetRecord {
            id: Some(id.to_string()),
            name: asset_name(rng, t),
            asset_type: t,
            owner_unit: some_unit(rng, units),
            custodian,
            segment,
            confidentiality: confidentiality.to_owned(),
            integrity: integrity.to_owned(),
            availability: if availability_two { "2" } else { "1" }.to_owned(),
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
        kinds.push((t, disposed));
    }
    out.finish()?;
    Ok(kinds)
}

fn write_relations(rng: &mut StdRng, path: &Path, kinds: &AssetKinds) -> Result<usize> {
    let ids_of = |wanted: &[AssetType]| -> Vec<i64> {
        kinds
            .iter()
            .enumerate()
            .filter(|(_, (t, disposed))| !disposed && wanted.contains(t))
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
        ] {
            let fa = std::fs::read(a.path().join(f)).expect("a");
            assert_eq!(fa, std::fs::read(b.path().join(f)).expect("b"), "{f}");
            assert!(fa.starts_with(UTF8_BOM_BYTES), "{f} starts with a BOM");
        }
        assert_ne!(
            std::fs::read(a.path().join("assets.csv")).expect("a"),
            std::fs::read(c.path().join("assets.csv")).expect("c")
        );
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
    }
}
