//! Information assets in files (`INTERCHANGE.md` "assets"). Levels, units and custodians are
//! checked against the register (and the organisation's scheme) when the records are applied.

use super::fields::Fields;
use super::kind::Kind;
use super::table::{col, ColumnSpec, Problem, Row, Table};
use super::values::write_bool;
use crate::assets::{AssetStatus, AssetType, Segment};

/// An asset as a file holds it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct AssetRecord {
    /// 資産ID: Mamori's id (empty: a new asset).
    pub id: Option<String>,
    /// 名称, as written.
    pub name: String,
    /// 種別.
    pub asset_type: AssetType,
    /// 所管組織: unit code or name.
    pub owner_unit: String,
    /// 管理者: staff id or name (empty: none).
    pub custodian: String,
    /// ネットワーク区分.
    pub segment: Segment,
    /// 機密性 (folded; checked against the scheme later).
    pub confidentiality: String,
    /// 完全性.
    pub integrity: String,
    /// 可用性.
    pub availability: String,
    /// 保管場所, as written.
    pub location: String,
    /// 説明, as written.
    pub description: String,
    /// 個人情報.
    pub personal_data: bool,
    /// 目標復旧時間（時間）.
    pub rto_hours: Option<u32>,
    /// 次回見直し日.
    pub review_on: Option<time::Date>,
    /// 状態.
    pub status: AssetStatus,
    /// 廃棄日.
    pub disposed_on: Option<time::Date>,
    /// 廃棄方法, as written.
    pub disposal_method: String,
}

/// The `assets` kind.
#[derive(Debug)]
pub struct Assets;

const COLUMNS: &[ColumnSpec] = &[
    col("id", "資産ID", false),
    col("name", "名称", true),
    col("asset_type", "種別", true),
    col("owner_unit", "所管組織", true),
    col("custodian", "管理者", false),
    col("segment", "ネットワーク区分", false),
    col("confidentiality", "機密性", true),
    col("integrity", "完全性", true),
    col("availability", "可用性", true),
    col("location", "保管場所", false),
    col("description", "説明", false),
    col("personal_data", "個人情報", false),
    col("rto_hours", "目標復旧時間（時間）", false),
    col("review_on", "次回見直し日", false),
    col("status", "状態", false),
    col("disposed_on", "廃棄日", false),
    col("disposal_method", "廃棄方法", false),
];

/// Longest recovery time objective accepted, in hours (one year).
pub const MAX_RTO_HOURS: u32 = 8_784;

/// Checks the rules that tie fields together: a disposed asset has a date and a method, and
/// only a disposed asset has them. Returns the offending column and message id.
pub fn disposal_problems(
    status: AssetStatus,
    disposed_on: Option<time::Date>,
    method: &str,
) -> Vec<(&'static str, &'static str)> {
    let mut out = Vec::new();
    if status == AssetStatus::Disposed {
        if disposed_on.is_none() {
            out.push(("disposed_on", "error-disposal-date-required"));
        }
        if method.trim().is_empty() {
            out.push(("disposal_method", "error-disposal-method-required"));
        }
    } else if disposed_on.is_some() || !method.trim().is_empty() {
        out.push(("status", "error-disposal-without-status"));
    }
    out
}

impl Kind for Assets {
    type Record = AssetRecord;
    const NAME: &'static str = "assets";
    const COLUMNS: &'static [ColumnSpec] = COLUMNS;
    const KEY: &'static str = "id";

    fn parse(table: &Table, row: &Row) -> Result<AssetRecord, Vec<Problem>> {
        let mut f = Fields::new(table, row);
        let id = Some(f.folded("id")).filter(|s| !s.is_empty());
        if let Some(id) = &id {
            if !id.bytes().all(|b| b.is_ascii_digit()) || id.len() > 18 {
                f.problem("id", "error-asset-id", Some(id));
            }
        }
        let name = f.text("name", 200).trim().to_owned();
        let asset_type = f.choice(
            "asset_type",
            AssetType::parse,
            None,
            "error-unknown-asset-type",
        );
        let segment = f.choice(
            "segment",
            Segment::parse,
            Some(Segment::None),
            "error-unknown-segment",
        );
        let status = f.choice(
            "status",
            AssetStatus::parse,
            Some(AssetStatus::InUse),
            "error-unknown-status",
        );
        let location = f.text("location", 500);
        let description = f.text("description", 4000);
        let personal_data = f.boolean("personal_data", false);
        let rto_hours = f.number("rto_hours", MAX_RTO_HOURS);
        let review_on = f.date("review_on");
        let disposed_on = f.date("disposed_on");
        let disposal_method = f.text("disposal_method", 500);
        if let Some(status) = status {
            for (column, id) in disposal_problems(status, disposed_on, &disposal_method) {
                f.problem(column, id, None);
            }
        }
        let record = AssetRecord {
            id,
            name,
            asset_type: asset_type.unwrap_or(AssetType::Information),
            owner_unit: f.folded("owner_unit"),
            custodian: f.folded("custodian"),
            segment: segment.unwrap_or(Segment::None),
            confidentiality: f.folded("confidentiality").to_ascii_uppercase(),
            integrity: f.folded("integrity").to_ascii_uppercase(),
            availability: f.folded("availability").to_ascii_uppercase(),
            location,
            description,
            personal_data,
            rto_hours,
            review_on,
            status: status.unwrap_or(AssetStatus::InUse),
            disposed_on,
            disposal_method,
        };
        if f.problems.is_empty() {
            Ok(record)
        } else {
            Err(f.problems)
        }
    }

    fn key(record: &AssetRecord) -> Option<&str> {
        record.id.as_deref()
    }

    fn cells(r: &AssetRecord, labels: bool) -> Vec<String> {
        let pick = |code: &str, label: &str| {
            if labels {
                label.to_owned()
            } else {
                code.to_owned()
            }
        };
        let date = |d: Option<time::Date>| d.map(|d| d.to_string()).unwrap_or_default();
        vec![
            r.id.clone().unwrap_or_default(),
            r.name.clone(),
            pick(r.asset_type.code(), r.asset_type.label()),
            r.owner_unit.clone(),
            r.custodian.clone(),
            pick(r.segment.code(), r.segment.label()),
            r.confidentiality.clone(),
            r.integrity.clone(),
            r.availability.clone(),
            r.location.clone(),
            r.description.clone(),
            write_bool(r.personal_data, labels).to_owned(),
            r.rto_hours.map(|h| h.to_string()).unwrap_or_default(),
            date(r.review_on),
            pick(r.status.code(), r.status.label()),
            date(r.disposed_on),
            r.disposal_method.clone(),
        ]
    }

    fn json(r: &AssetRecord) -> serde_json::Value {
        let date = |d: Option<time::Date>| d.map(|d| d.to_string());
        serde_json::json!({
            "id": r.id.as_ref().and_then(|i| i.parse::<i64>().ok()),
            "name": r.name, "asset_type": r.asset_type.code(), "owner_unit": r.owner_unit,
            "custodian": Some(&r.custodian).filter(|c| !c.is_empty()),
            "segment": r.segment.code(), "confidentiality": r.confidentiality,
            "integrity": r.integrity, "availability": r.availability, "location": r.location,
            "description": r.description, "personal_data": r.personal_data,
            "rto_hours": r.rto_hours, "review_on": date(r.review_on), "status": r.status.code(),
            "disposed_on": date(r.disposed_on), "disposal_method": r.disposal_method,
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::interchange::kind::{read_file, write_csv};

    fn sample() -> AssetRecord {
        AssetRecord {
            id: Some("42".into()),
            name: "介護保険システム\n（本番）".into(),
            asset_type: AssetType::System,
            owner_unit: "secretariat".into(),
            custodian: "000123".into(),
            segment: Segment::Mynumber,
            confidentiality: "3B".into(),
            integrity: "2".into(),
            availability: "2".into(),
            location: "=サーバ室".into(),
            description: "住民の介護保険情報, 要介護認定".into(),
            personal_data: true,
            rto_hours: Some(24),
            review_on: time::Date::from_calendar_date(2027, time::Month::March, 31).ok(),
            status: AssetStatus::InUse,
            disposed_on: None,
            disposal_method: String::new(),
        }
    }

    #[test]
    fn round_trip_with_labels_and_codes_is_exact() {
        let r = sample();
        for labels in [true, false] {
            let csv = write_csv::<Assets>(std::slice::from_ref(&r), labels).expect("write");
            assert!(csv.contains("'=サーバ室"), "formula guarded");
            let back = read_file::<Assets>(csv.as_bytes()).expect("read");
            assert_eq!(back[0].1, r);
        }
    }

    #[test]
    fn full_width_levels_and_wareki_dates_fold() {
        let csv = "名称,種別,所管組織,機密性,完全性,可用性,次回見直し日,個人情報\n台帳,情報（電磁的記録）,secretariat,３ａ,２,１,R9.3.31,○\n";
        let r = &read_file::<Assets>(csv.as_bytes()).expect("reads")[0].1;
        assert_eq!(r.confidentiality, "3A");
        assert_eq!(r.asset_type, AssetType::Information);
        assert_eq!(r.segment, Segment::None, "default segment");
        assert_eq!(r.status, AssetStatus::InUse, "default status");
        assert!(r.personal_data);
        assert_eq!(
            r.review_on,
            time::Date::from_calendar_date(2027, time::Month::March, 31).ok()
        );
    }

    #[test]
    fn every_bad_field_is_named() {
        let csv = "id,name,asset_type,owner_unit,confidentiality,integrity,availability,segment,status,disposed_on,rto_hours\n\
                   x1,a,server,u,1,1,1,dmz,in_use,,\n\
                   ,b,system,u,1,1,1,none,disposed,,-3\n\
                   ,c,system,u,1,1,1,none,in_use,2026-04-01,\n";
        let p = read_file::<Assets>(csv.as_bytes()).expect_err("bad");
        let got: Vec<(u64, &str, &str)> = p
            .iter()
            .map(|p| (p.line, p.column.as_str(), p.message_id))
            .collect();
        assert_eq!(
            got,
            [
                (2, "id", "error-asset-id"),
                (2, "asset_type", "error-unknown-asset-type"),
                (2, "segment", "error-unknown-segment"),
                (3, "rto_hours", "error-number"),
                (3, "disposed_on", "error-disposal-date-required"),
                (3, "廃棄方法", "error-disposal-method-required"),
                (4, "status", "error-disposal-without-status"),
            ]
        );
    }
}
