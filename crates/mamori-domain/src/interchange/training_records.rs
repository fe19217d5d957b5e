//! Training completion records in files (`docs/interchange.md` "training-records"). A row
//! names a person by staff id and a course by code; both are checked against the register
//! when the records are applied. A record is keyed by person, course and 年度: a row for a key
//! that exists updates it, and the same key twice in one file is an error.

use super::fields::Fields;
use super::kind::Kind;
use super::table::{ColumnSpec, Problem, Row, Table};
use crate::training::{parse_fiscal_year, Source};
use crate::wareki::fiscal_year;

/// A completion as a file holds it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct TrainingRecord {
    /// 職員番号.
    pub staff_id: String,
    /// 研修コード.
    pub course: String,
    /// 修了日.
    pub completed_on: time::Date,
    /// 年度 (from the date when the file leaves it out).
    pub fiscal_year: i32,
    /// How it was recorded (`import` when the file leaves it out).
    pub source: Source,
    /// 得点 (percent), for quizzes and tests.
    pub score: Option<u32>,
    key: String,
}

impl TrainingRecord {
    /// A record; the 年度 is that of `completed_on`.
    pub fn new(
        staff_id: String,
        course: String,
        completed_on: time::Date,
        source: Source,
        score: Option<u32>,
    ) -> Self {
        let fy = fiscal_year(completed_on);
        TrainingRecord {
            key: format!("{staff_id} {course} {fy}"),
            staff_id,
            course,
            completed_on,
            fiscal_year: fy,
            source,
            score,
        }
    }
}

/// The `training-records` kind.
#[derive(Debug)]
pub struct TrainingRecords;

const COLUMNS: &[ColumnSpec] = &[
    ColumnSpec {
        code: "staff_id",
        label: "職員番号",
        required: true,
    },
    ColumnSpec {
        code: "course",
        label: "研修コード",
        required: true,
    },
    ColumnSpec {
        code: "completed_on",
        label: "修了日",
        required: true,
    },
    ColumnSpec {
        code: "fiscal_year",
        label: "年度",
        required: false,
    },
    ColumnSpec {
        code: "source",
        label: "記録方法",
        required: false,
    },
    ColumnSpec {
        code: "score",
        label: "得点",
        required: false,
    },
];

impl Kind for TrainingRecords {
    type Record = TrainingRecord;
    const NAME: &'static str = "training-records";
    const COLUMNS: &'static [ColumnSpec] = COLUMNS;
    const KEY: &'static str = "staff_id";

    fn parse(table: &Table, row: &Row) -> Result<TrainingRecord, Vec<Problem>> {
        let mut f = Fields::new(table, row);
        let staff_id = f.folded("staff_id");
        if staff_id.chars().count() > 64 {
            f.problem("staff_id", "error-too-long", None);
        }
        let course = f.folded("course");
        if !crate::is_valid_code(&course) {
            f.problem("course", "training-error-unknown-course", Some(&course));
        }
        let completed_on = f.date("completed_on");
        let written_fy = match f.raw("fiscal_year") {
            None => None,
            Some(raw) => match parse_fiscal_year(raw) {
                Some(fy) => Some(fy),
                None => {
                    f.problem("fiscal_year", "training-error-fiscal-year", Some(raw));
                    None
                }
            },
        };
        if let (Some(d), Some(fy)) = (completed_on, written_fy) {
            if fiscal_year(d) != fy {
                let detail = format!("{fy} / {d}");
                f.problem(
                    "fiscal_year",
                    "training-error-fiscal-year-mismatch",
                    Some(&detail),
                );
            }
        }
        let source = f.choice(
            "source",
            Source::parse,
            Some(Source::Import),
            "training-error-source",
        );
        let score = f.number("score", 100);
        match (completed_on, source) {
            (Some(d), Some(source)) if f.problems.is_empty() => {
                Ok(TrainingRecord::new(staff_id, course, d, source, score))
            }
            _ => Err(f.problems),
        }
    }

    fn key(record: &TrainingRecord) -> Option<&str> {
        Some(&record.key)
    }

    fn cells(r: &TrainingRecord, labels: bool) -> Vec<String> {
        vec![
            r.staff_id.clone(),
            r.course.clone(),
            r.completed_on.to_string(),
            r.fiscal_year.to_string(),
            if labels {
                r.source.label()
            } else {
                r.source.code()
            }
            .to_owned(),
            r.score.map(|s| s.to_string()).unwrap_or_default(),
        ]
    }

    fn json(r: &TrainingRecord) -> serde_json::Value {
        serde_json::json!({
            "staff_id": r.staff_id, "course": r.course, "completed_on": r.completed_on.to_string(),
            "fiscal_year": r.fiscal_year, "source": r.source.code(), "score": r.score,
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::interchange::kind::{read_file, write_csv};
    use time::macros::date;

    #[test]
    fn round_trip_with_labels_and_codes() {
        let rs = vec![
            TrainingRecord::new(
                "000123".into(),
                "security-annual".into(),
                date!(2027 - 03 - 31),
                Source::Quiz,
                Some(90),
            ),
            TrainingRecord::new(
                "0042".into(),
                "onboarding".into(),
                date!(2026 - 04 - 01),
                Source::Import,
                None,
            ),
        ];
        for labels in [true, false] {
            let csv = write_csv::<TrainingRecords>(&rs, labels).expect("write");
            let back: Vec<_> = read_file::<TrainingRecords>(csv.as_bytes())
                .expect("read")
                .into_iter()
                .map(|(_, r)| r)
                .collect();
            assert_eq!(back, rs);
        }
        assert_eq!(rs[0].fiscal_year, 2026);
    }

    #[test]
    fn wareki_dates_nendo_and_problems_in_place() {
        let csv = "職員番号,研修コード,修了日,年度,記録方法,得点\n\
                   １２３,security-annual,R8.5.1,令和8年度,研修会,８０\n\
                   124,security-annual,R8.5.1,令和7年度,,\n\
                   125,security-annual,2026-13-01,,メール,101\n\
                   123,security-annual,2026-06-01,,,\n";
        let p = read_file::<TrainingRecords>(csv.as_bytes()).expect_err("bad");
        let got: Vec<(u64, &str, &str)> = p
            .iter()
            .map(|p| (p.line, p.column.as_str(), p.message_id))
            .collect();
        assert_eq!(
            got,
            [
                (3, "年度", "training-error-fiscal-year-mismatch"),
                (4, "修了日", "date-no-such-date"),
                (4, "記録方法", "training-error-source"),
                (4, "得点", "error-number"),
                (5, "職員番号", "import-duplicate-key"),
            ]
        );
        let ok = "staff_id,course,completed_on\n123,security-annual,R8.5.1\n";
        let r = read_file::<TrainingRecords>(ok.as_bytes()).expect("ok");
        assert_eq!(r[0].1.source, Source::Import);
        assert_eq!(r[0].1.fiscal_year, 2026);
    }
}
