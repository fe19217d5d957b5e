//! People (職員等) in files (`INTERCHANGE.md` "people"). References (unit, category, roles)
//! are checked against the register when the records are applied.

use super::kind::Kind;
use super::table::{ColumnSpec, Problem, Row, Table};
use super::values::fold;
use crate::wareki::parse_date;

/// A role held, as a file writes it: `role` or `role@unit`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RoleRef {
    /// Role code.
    pub role: String,
    /// Unit code or name, when scoped.
    pub unit: Option<String>,
}

/// A person as a file holds it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PersonRecord {
    /// 職員番号 (text: leading zeros kept).
    pub staff_id: String,
    /// 氏名, as written.
    pub name: String,
    /// ふりがな, as written.
    pub kana: String,
    /// 所属: unit code or name.
    pub unit: String,
    /// 任用区分: category code or label.
    pub category: String,
    /// メールアドレス.
    pub email: String,
    /// 役割, when the file has the column (`None`: leave roles as they are).
    pub roles: Option<Vec<RoleRef>>,
    /// 着任日.
    pub joined_on: Option<time::Date>,
    /// 離任日.
    pub left_on: Option<time::Date>,
}

/// The `people` kind.
#[derive(Debug)]
pub struct People;

const COLUMNS: &[ColumnSpec] = &[
    ColumnSpec {
        code: "staff_id",
        label: "職員番号",
        required: true,
    },
    ColumnSpec {
        code: "name",
        label: "氏名",
        required: true,
    },
    ColumnSpec {
        code: "kana",
        label: "ふりがな",
        required: false,
    },
    ColumnSpec {
        code: "unit",
        label: "所属",
        required: true,
    },
    ColumnSpec {
        code: "category",
        label: "任用区分",
        required: true,
    },
    ColumnSpec {
        code: "email",
        label: "メールアドレス",
        required: false,
    },
    ColumnSpec {
        code: "roles",
        label: "役割",
        required: false,
    },
    ColumnSpec {
        code: "joined_on",
        label: "着任日",
        required: false,
    },
    ColumnSpec {
        code: "left_on",
        label: "離任日",
        required: false,
    },
];

/// Parses `role@unit; role` (full-width `；` and `＠` too).
pub fn parse_roles(value: &str) -> Vec<RoleRef> {
    fold(value)
        .split(';')
        .map(str::trim)
        .filter(|s| !s.is_empty())
        .map(|s| match s.split_once('@') {
            Some((r, u)) => RoleRef {
                role: r.trim().to_owned(),
                unit: Some(u.trim().to_owned()).filter(|u| !u.is_empty()),
            },
            None => RoleRef {
                role: s.to_owned(),
                unit: None,
            },
        })
        .collect()
}

impl Kind for People {
    type Record = PersonRecord;
    const NAME: &'static str = "people";
    const COLUMNS: &'static [ColumnSpec] = COLUMNS;
    const KEY: &'static str = "staff_id";

    fn parse(table: &Table, row: &Row) -> Result<PersonRecord, Vec<Problem>> {
        let mut problems = Vec::new();
        let text = |code: &str| row.raw(COLUMNS, code).unwrap_or_default().to_owned();
        let staff_id = fold(&text("staff_id"));
        if staff_id.chars().count() > 64 {
            problems.push(Problem::new(
                row.line,
                table.column_name("staff_id"),
                "error-too-long",
            ));
        }
        let name = text("name");
        if name.chars().count() > 200 {
            problems.push(Problem::new(
                row.line,
                table.column_name("name"),
                "error-too-long",
            ));
        }
        let email = fold(&text("email"));
        if !email.is_empty()
            && (!email.contains('@') || email.contains(char::is_whitespace) || email.len() > 254)
        {
            problems.push(Problem::with(
                row.line,
                table.column_name("email"),
                "error-email",
                email.clone(),
            ));
        }
        let mut date = |code: &str| -> Option<time::Date> {
            let raw = row.raw(COLUMNS, code)?;
            match parse_date(&fold(raw)) {
                Ok(d) => Some(d),
                Err(e) => {
                    problems.push(Problem::with(
                        row.line,
                        table.column_name(code),
                        e.message_id(),
                        raw,
                    ));
                    None
                }
            }
        };
        let joined_on = date("joined_on");
        let left_on = date("left_on");
        if let (Some(j), Some(l)) = (joined_on, left_on) {
            if l < j {
                problems.push(Problem::new(
                    row.line,
                    table.column_name("left_on"),
                    "error-left-before-joined",
                ));
            }
        }
        let roles = table.has("roles").then(|| parse_roles(&text("roles")));
        if problems.is_empty() {
            Ok(PersonRecord {
                staff_id,
                name,
                kana: text("kana"),
                unit: fold(&text("unit")),
                category: fold(&text("category")),
                email,
                roles,
                joined_on,
                left_on,
            })
        } else {
            Err(problems)
        }
    }

    fn key(record: &PersonRecord) -> Option<&str> {
        Some(&record.staff_id)
    }

    fn cells(r: &PersonRecord, _labels: bool) -> Vec<String> {
        let roles = r
            .roles
            .iter()
            .flatten()
            .map(|x| match &x.unit {
                Some(u) => format!("{}@{u}", x.role),
                None => x.role.clone(),
            })
            .collect::<Vec<_>>()
            .join(";");
        vec![
            r.staff_id.clone(),
            r.name.clone(),
            r.kana.clone(),
            r.unit.clone(),
            r.category.clone(),
            r.email.clone(),
            roles,
            r.joined_on.map(|d| d.to_string()).unwrap_or_default(),
            r.left_on.map(|d| d.to_string()).unwrap_or_default(),
        ]
    }

    fn json(r: &PersonRecord) -> serde_json::Value {
        let cells = Self::cells(r, false);
        serde_json::json!({
            "staff_id": r.staff_id, "name": r.name, "kana": r.kana, "unit": r.unit,
            "category": r.category, "email": r.email,
            "roles": cells[6].split(';').filter(|s| !s.is_empty()).collect::<Vec<_>>(),
            "joined_on": r.joined_on.map(|d| d.to_string()), "left_on": r.left_on.map(|d| d.to_string()),
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::interchange::kind::{read_file, write_csv};

    #[test]
    fn the_shared_cp932_sample_reads_with_wareki_dates_and_vendor_characters() {
        let bytes = include_bytes!("../../../../../shared/samples/people.cp932.csv");
        let records = read_file::<People>(bytes).expect("reads");
        assert_eq!(records.len(), 3);
        let nagasaki = &records[1].1;
        assert_eq!(nagasaki.name, "長﨑 悠");
        assert_eq!(
            nagasaki.category, "会計年度任用職員",
            "labels are resolved against the register later"
        );
        assert_eq!(
            nagasaki.joined_on,
            time::Date::from_calendar_date(2025, time::Month::April, 1).ok()
        );
        let ito = &records[2].1;
        assert_eq!(
            ito.roles,
            Some(vec![RoleRef {
                role: "auditor".into(),
                unit: Some("audit_office".into())
            }])
        );
        assert_eq!(
            ito.left_on,
            time::Date::from_calendar_date(2026, time::Month::March, 31).ok()
        );
    }

    #[test]
    fn impossible_dates_and_bad_values_are_reported_in_place() {
        let csv = "職員番号,氏名,所属,任用区分,着任日,離任日,メールアドレス\n007,a,u,regular,H31.5.1,,x\n008,b,u,regular,2026-04-01,2026-03-31,\n";
        let p = read_file::<People>(csv.as_bytes()).expect_err("bad");
        let got: Vec<(u64, &str, &str)> = p
            .iter()
            .map(|p| (p.line, p.column.as_str(), p.message_id))
            .collect();
        assert_eq!(
            got,
            [
                (2, "メールアドレス", "error-email"),
                (2, "着任日", "date-outside-era"),
                (3, "離任日", "error-left-before-joined")
            ]
        );
    }

    #[test]
    fn round_trip_keeps_leading_zeros_and_text() {
        let r = PersonRecord {
            staff_id: "000123".into(),
            name: "髙橋 ①".into(),
            kana: "ﾀｶﾊｼ".into(),
            unit: "general-affairs".into(),
            category: "fiscal_year".into(),
            email: String::new(),
            roles: Some(vec![
                RoleRef {
                    role: "unit_manager".into(),
                    unit: Some("general-affairs".into()),
                },
                RoleRef {
                    role: "csirt".into(),
                    unit: None,
                },
            ]),
            joined_on: time::Date::from_calendar_date(2019, time::Month::May, 1).ok(),
            left_on: None,
        };
        let csv = write_csv::<People>(std::slice::from_ref(&r), true).expect("write");
        let back = read_file::<People>(csv.as_bytes()).expect("read");
        assert_eq!(back[0].1, r);
    }
}
