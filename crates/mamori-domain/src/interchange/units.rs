//! Organisation units in files (`INTERCHANGE.md` "units").

use super::kind::Kind;
use super::table::{ColumnSpec, Problem, Row, Table};
use super::values::fold;
use crate::is_valid_code;

/// A unit as a file holds it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct UnitRecord {
    /// 組織コード.
    pub code: String,
    /// 名称 (as written).
    pub name: String,
    /// 上位組織コード.
    pub parent: Option<String>,
    /// 適用範囲.
    pub in_scope: bool,
}

/// The `units` kind.
#[derive(Debug)]
pub struct Units;

const COLUMNS: &[ColumnSpec] = &[
    ColumnSpec {
        code: "code",
        label: "組織コード",
        required: true,
    },
    ColumnSpec {
        code: "name",
        label: "名称",
        required: true,
    },
    ColumnSpec {
        code: "parent",
        label: "上位組織コード",
        required: false,
    },
    ColumnSpec {
        code: "in_scope",
        label: "適用範囲",
        required: false,
    },
];

fn parse_in_scope(value: &str) -> Option<bool> {
    match fold(value).as_str() {
        "対象" => Some(true),
        "対象外" => Some(false),
        other => super::values::parse_bool(other),
    }
}

impl Kind for Units {
    type Record = UnitRecord;
    const NAME: &'static str = "units";
    const COLUMNS: &'static [ColumnSpec] = COLUMNS;
    const KEY: &'static str = "code";

    fn parse(table: &Table, row: &Row) -> Result<UnitRecord, Vec<Problem>> {
        let mut problems = Vec::new();
        let code = fold(row.raw(COLUMNS, "code").unwrap_or_default());
        if !is_valid_code(&code) {
            problems.push(Problem::with(
                row.line,
                table.column_name("code"),
                "error-code-format",
                code.clone(),
            ));
        }
        let name = row
            .raw(COLUMNS, "name")
            .unwrap_or_default()
            .trim()
            .to_owned();
        if name.chars().count() > 200 {
            problems.push(Problem::new(
                row.line,
                table.column_name("name"),
                "error-too-long",
            ));
        }
        let parent = row
            .raw(COLUMNS, "parent")
            .map(fold)
            .filter(|p| !p.is_empty());
        if parent.as_deref() == Some(code.as_str()) {
            problems.push(Problem::new(
                row.line,
                table.column_name("parent"),
                "error-unit-cycle",
            ));
        }
        let in_scope = match row.raw(COLUMNS, "in_scope") {
            None => true,
            Some(v) => parse_in_scope(v).unwrap_or_else(|| {
                problems.push(Problem::with(
                    row.line,
                    table.column_name("in_scope"),
                    "import-bad-boolean",
                    v,
                ));
                true
            }),
        };
        if problems.is_empty() {
            Ok(UnitRecord {
                code,
                name,
                parent,
                in_scope,
            })
        } else {
            Err(problems)
        }
    }

    fn key(record: &UnitRecord) -> Option<&str> {
        Some(&record.code)
    }

    fn cells(r: &UnitRecord, labels: bool) -> Vec<String> {
        let scope = match (r.in_scope, labels) {
            (true, true) => "対象",
            (false, true) => "対象外",
            (true, false) => "true",
            (false, false) => "false",
        };
        vec![
            r.code.clone(),
            r.name.clone(),
            r.parent.clone().unwrap_or_default(),
            scope.to_owned(),
        ]
    }

    fn json(r: &UnitRecord) -> serde_json::Value {
        serde_json::json!({"code": r.code, "name": r.name, "parent": r.parent, "in_scope": r.in_scope})
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::interchange::kind::{read_file, to_cp932, write_csv};

    #[test]
    fn the_shared_cp932_sample_reads() {
        let bytes = include_bytes!("../../../../../shared/samples/units.cp932.csv");
        let records = read_file::<Units>(bytes).expect("reads");
        assert_eq!(records.len(), 3);
        assert_eq!(
            records[1].1,
            UnitRecord {
                code: "general-affairs".into(),
                name: "総務係".into(),
                parent: Some("secretariat".into()),
                in_scope: true
            }
        );
        assert_eq!(records[1].0, 3);
    }

    #[test]
    fn export_then_import_changes_nothing() {
        let records = vec![
            UnitRecord {
                code: "a".into(),
                name: "=危険な名前".into(),
                parent: None,
                in_scope: false,
            },
            UnitRecord {
                code: "b".into(),
                name: "複数\n行, \"引用\"".into(),
                parent: Some("a".into()),
                in_scope: true,
            },
        ];
        for labels in [true, false] {
            let csv = write_csv::<Units>(&records, labels).expect("write");
            assert!(csv.starts_with('\u{feff}') && csv.contains("\r\n"));
            assert!(
                csv.contains("'=危険な名前"),
                "a formula is never written bare"
            );
            let back: Vec<UnitRecord> = read_file::<Units>(csv.as_bytes())
                .expect("read")
                .into_iter()
                .map(|(_, r)| r)
                .collect();
            assert_eq!(back, records);
            let cp = to_cp932(&csv).expect("cp932");
            let back: Vec<UnitRecord> = read_file::<Units>(&cp)
                .expect("read cp932")
                .into_iter()
                .map(|(_, r)| r)
                .collect();
            assert_eq!(back, records);
        }
    }

    #[test]
    fn bad_rows_are_all_reported_with_place() {
        let csv = "組織コード,名称,適用範囲\nok,名前,対象\nBad Code,x,たぶん\nok,重複,\n";
        let problems = read_file::<Units>(csv.as_bytes()).expect_err("bad");
        let got: Vec<(u64, &str, &str)> = problems
            .iter()
            .map(|p| (p.line, p.column.as_str(), p.message_id))
            .collect();
        assert_eq!(
            got,
            [
                (3, "組織コード", "error-code-format"),
                (3, "適用範囲", "import-bad-boolean"),
                (4, "組織コード", "import-duplicate-key")
            ]
        );
    }

    #[test]
    fn cp932_export_names_characters_it_cannot_hold() {
        let records = vec![UnitRecord {
            code: "a".into(),
            name: "😀課".into(),
            parent: None,
            in_scope: true,
        }];
        let csv = write_csv::<Units>(&records, true).expect("write");
        assert_eq!(to_cp932(&csv), Err(vec!['😀']));
    }
}
