//! Acknowledgements of a policy version in files (`docs/interchange.md` "acknowledgements"):
//! one row per person in scope, acknowledged or not, for the 委員会's spreadsheets. Mamori
//! writes these files; acknowledgements are made by people themselves, so they are not
//! imported.

use super::kind::Kind;
use super::table::{ColumnSpec, Problem, Row, Table};

/// One person's acknowledgement status for one version.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct AcknowledgementRecord {
    /// Document code.
    pub document: String,
    /// 版数.
    pub edition: String,
    /// 職員番号.
    pub staff_id: String,
    /// 氏名.
    pub name: String,
    /// 組織コード.
    pub unit: String,
    /// 組織名.
    pub unit_name: String,
    /// 雇用区分 code.
    pub category: String,
    /// When acknowledged (RFC 3339 UTC); `None` while outstanding.
    pub acknowledged_at: Option<String>,
    /// The address it was confirmed from.
    pub source: Option<String>,
}

/// The `acknowledgements` kind (export only).
#[derive(Debug)]
pub struct Acknowledgements;

const fn col(code: &'static str, label: &'static str) -> ColumnSpec {
    ColumnSpec {
        code,
        label,
        required: false,
    }
}

const COLUMNS: &[ColumnSpec] = &[
    col("document", "文書コード"),
    col("edition", "版数"),
    col("staff_id", "職員番号"),
    col("name", "氏名"),
    col("unit", "組織コード"),
    col("unit_name", "組織名"),
    col("category", "雇用区分"),
    col("status", "状況"),
    col("acknowledged_at", "確認日時"),
    col("source", "確認元アドレス"),
];

impl Kind for Acknowledgements {
    type Record = AcknowledgementRecord;
    const NAME: &'static str = "acknowledgements";
    const COLUMNS: &'static [ColumnSpec] = COLUMNS;
    const KEY: &'static str = "staff_id";

    /// Acknowledgements are not imported: every row is refused with that reason.
    fn parse(_table: &Table, row: &Row) -> Result<AcknowledgementRecord, Vec<Problem>> {
        Err(vec![Problem::new(row.line, "", "import-export-only")])
    }

    fn key(record: &AcknowledgementRecord) -> Option<&str> {
        Some(&record.staff_id)
    }

    fn cells(r: &AcknowledgementRecord, labels: bool) -> Vec<String> {
        let status = match (r.acknowledged_at.is_some(), labels) {
            (true, true) => "確認済",
            (false, true) => "未確認",
            (true, false) => "acknowledged",
            (false, false) => "pending",
        };
        vec![
            r.document.clone(),
            r.edition.clone(),
            r.staff_id.clone(),
            r.name.clone(),
            r.unit.clone(),
            r.unit_name.clone(),
            r.category.clone(),
            status.to_owned(),
            r.acknowledged_at.clone().unwrap_or_default(),
            r.source.clone().unwrap_or_default(),
        ]
    }

    fn json(r: &AcknowledgementRecord) -> serde_json::Value {
        serde_json::json!({
            "document": r.document,
            "edition": r.edition,
            "staff_id": r.staff_id,
            "name": r.name,
            "unit": r.unit,
            "unit_name": r.unit_name,
            "category": r.category,
            "status": if r.acknowledged_at.is_some() { "acknowledged" } else { "pending" },
            "acknowledged_at": r.acknowledged_at,
            "source": r.source,
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::interchange::kind::write_csv;

    fn record(at: Option<&str>) -> AcknowledgementRecord {
        AcknowledgementRecord {
            document: "basic-policy".into(),
            edition: "第2版".into(),
            staff_id: "=S001".into(),
            name: "桑名 花子".into(),
            unit: "jimukyoku".into(),
            unit_name: "事務局".into(),
            category: "kaikei_nendo".into(),
            acknowledged_at: at.map(str::to_owned),
            source: at.map(|_| "192.0.2.1".to_owned()),
        }
    }

    #[test]
    fn labels_status_and_stays_formula_safe() {
        let csv = write_csv::<Acknowledgements>(
            &[record(Some("2026-04-01T00:00:00.000000Z")), record(None)],
            true,
        )
        .unwrap_or_default();
        let lines: Vec<&str> = csv.trim_start_matches('\u{feff}').split("\r\n").collect();
        assert!(lines[0].starts_with("文書コード,版数,職員番号"));
        assert!(lines[1].contains(",確認済,2026-04-01T00:00:00.000000Z,192.0.2.1"));
        assert!(lines[2].contains(",未確認,,"));
        assert!(
            lines[1].contains("'=S001"),
            "a cell starting with = must not become a formula: {}",
            lines[1]
        );
    }

    #[test]
    fn import_is_refused_row_by_row() {
        let bytes = "職員番号\nS001\n".as_bytes();
        let problems = crate::interchange::kind::read_file::<Acknowledgements>(bytes)
            .err()
            .unwrap_or_default();
        assert_eq!(problems.len(), 1);
        assert_eq!(problems[0].message_id, "import-export-only");
    }
}
