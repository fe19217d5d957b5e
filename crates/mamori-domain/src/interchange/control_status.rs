//! The implementation status of controls per unit in files (`docs/interchange.md`
//! "control-status"). A row is keyed by the pair (control, unit): a pair repeated within one
//! file is refused. The control is written by its code, the unit by its code or name, the
//! status as a code or its Japanese label. `verified_by` and `verified_on` are written by
//! exports and ignored on import: verification is recorded by a second person in the app, and
//! a status change clears it.

use super::fields::Fields;
use super::kind::Kind;
use super::table::{ColumnSpec, Problem, Row, Table};
use super::values::fold;
use crate::catalogue::{is_valid_evidence_link, ImplStatus};
use time::Date;

/// The longest note.
pub const MAX_NOTE: usize = 4000;
/// The most evidence links per status.
pub const MAX_LINKS: usize = 20;

/// A control's status in one unit, as a file holds it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ControlStatusRecord {
    /// The control's code.
    pub control: String,
    /// The unit's code (or its name, as an import may write it).
    pub unit: String,
    /// The status.
    pub status: ImplStatus,
    /// Comment.
    pub note: String,
    /// Evidence links (`http(s)://`).
    pub links: Vec<String>,
    /// Next review.
    pub review_on: Option<Date>,
    /// Who verified the status (exports only).
    pub verified_by: Option<String>,
    /// When (exports only).
    pub verified_on: Option<Date>,
    key: String,
}

impl ControlStatusRecord {
    /// A record; `verified_*` are for exports.
    #[allow(clippy::too_many_arguments)]
    pub fn new(
        control: String,
        unit: String,
        status: ImplStatus,
        note: String,
        links: Vec<String>,
        review_on: Option<Date>,
        verified_by: Option<String>,
        verified_on: Option<Date>,
    ) -> Self {
        let key = format!("{control}@{unit}");
        ControlStatusRecord {
            control,
            unit,
            status,
            note,
            links,
            review_on,
            verified_by,
            verified_on,
            key,
        }
    }

    /// The pair as one text (`M6-04@soumu`).
    pub fn key(&self) -> &str {
        &self.key
    }
}

/// The `control-status` kind.
#[derive(Debug)]
pub struct ControlStatuses;

const COLUMNS: &[ColumnSpec] = &[
    ColumnSpec {
        code: "control",
        label: "管理策コード",
        required: true,
    },
    ColumnSpec {
        code: "unit",
        label: "組織コード",
        required: true,
    },
    ColumnSpec {
        code: "status",
        label: "実施状況",
        required: true,
    },
    ColumnSpec {
        code: "note",
        label: "備考",
        required: false,
    },
    ColumnSpec {
        code: "links",
        label: "根拠リンク",
        required: false,
    },
    ColumnSpec {
        code: "review_on",
        label: "次回見直し日",
        required: false,
    },
    ColumnSpec {
        code: "verified_by",
        label: "確認者",
        required: false,
    },
    ColumnSpec {
        code: "verified_on",
        label: "確認日",
        required: false,
    },
];

/// Splits a links cell: one per line or `;`-separated.
pub fn split_links(written: &str) -> Vec<String> {
    written
        .split(['\n', ';', '；'])
        .map(|s| s.trim().to_owned())
        .filter(|s| !s.is_empty())
        .collect()
}

impl Kind for ControlStatuses {
    type Record = ControlStatusRecord;
    const NAME: &'static str = "control-status";
    const COLUMNS: &'static [ColumnSpec] = COLUMNS;
    const KEY: &'static str = "control";

    fn parse(table: &Table, row: &Row) -> Result<ControlStatusRecord, Vec<Problem>> {
        let mut f = Fields::new(table, row);
        let control = f.folded("control");
        let unit = f
            .raw("unit")
            .map(|u| u.trim().to_owned())
            .unwrap_or_default();
        // A unit written by its code may use full-width letters; a name is kept as written.
        let folded = fold(&unit);
        let unit = if folded.is_ascii() { folded } else { unit };
        let status = f.choice("status", ImplStatus::parse, None, "catalogue-error-status");
        let note = f.text("note", MAX_NOTE);
        let links = split_links(f.raw("links").unwrap_or_default());
        for l in links.iter().filter(|l| !is_valid_evidence_link(l)) {
            f.problem("links", "catalogue-error-link", Some(l));
        }
        if links.len() > MAX_LINKS {
            f.problem("links", "catalogue-error-links-count", None);
        }
        let review_on = f.date("review_on");
        match (status, f.problems.is_empty()) {
            (Some(status), true) => Ok(ControlStatusRecord::new(
                control, unit, status, note, links, review_on, None, None,
            )),
            _ => Err(f.problems),
        }
    }

    fn key(record: &ControlStatusRecord) -> Option<&str> {
        Some(record.key())
    }

    fn cells(r: &ControlStatusRecord, labels: bool) -> Vec<String> {
        vec![
            r.control.clone(),
            r.unit.clone(),
            if labels {
                r.status.label()
            } else {
                r.status.code()
            }
            .to_owned(),
            r.note.clone(),
            r.links.join("\n"),
            r.review_on.map(|d| d.to_string()).unwrap_or_default(),
            r.verified_by.clone().unwrap_or_default(),
            r.verified_on.map(|d| d.to_string()).unwrap_or_default(),
        ]
    }

    fn json(r: &ControlStatusRecord) -> serde_json::Value {
        serde_json::json!({
            "control": r.control, "unit": r.unit, "status": r.status.code(), "note": r.note,
            "links": r.links, "review_on": r.review_on.map(|d| d.to_string()),
            "verified_by": r.verified_by, "verified_on": r.verified_on.map(|d| d.to_string()),
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::interchange::kind::{read_file, write_csv};

    fn record(control: &str, unit: &str, status: ImplStatus) -> ControlStatusRecord {
        ControlStatusRecord::new(
            control.into(),
            unit.into(),
            status,
            "=SUM(A1)\n二行目".into(),
            vec!["https://example.jp/a".into(), "http://example.jp/b".into()],
            Some(time::macros::date!(2026 - 04 - 01)),
            None,
            None,
        )
    }

    #[test]
    fn statuses_round_trip_with_codes_and_labels() {
        let records = vec![
            record("M6-04", "soumu", ImplStatus::Implemented),
            record("M6-04", "kaikei", ImplStatus::NotApplicable),
        ];
        for labels in [false, true] {
            let csv = write_csv::<ControlStatuses>(&records, labels).expect("csv");
            let back: Vec<_> = read_file::<ControlStatuses>(csv.as_bytes())
                .expect("read")
                .into_iter()
                .map(|(_, r)| r)
                .collect();
            assert_eq!(back, records);
        }
    }

    #[test]
    fn rows_are_refused_in_place_and_pairs_may_not_repeat() {
        let csv = "管理策コード,組織コード,実施状況,根拠リンク,次回見直し日,確認者,確認日\n\
                   Ｍ６-04,soumu,実施済,https://a.example/x; http://b.example/y,R8.4.1,誰か,無効な日付\n\
                   M6-04,soumu,一部実施,,,,\n\
                   M6-05,soumu,たぶん,ftp://x,2026-13-01,,\n\
                   M6-06,総務課,未実施,,令和8年4月1日,,\n";
        let p = read_file::<ControlStatuses>(csv.as_bytes()).expect_err("bad");
        let got: Vec<(u64, &str, &str)> = p
            .iter()
            .map(|p| (p.line, p.column.as_str(), p.message_id))
            .collect();
        assert_eq!(got[0], (3, "管理策コード", "import-duplicate-key"));
        assert!(got.contains(&(4, "実施状況", "catalogue-error-status")));
        assert!(got.contains(&(4, "根拠リンク", "catalogue-error-link")));
        assert!(got.iter().any(|g| g.0 == 4 && g.1 == "次回見直し日"));
        assert!(!got.iter().any(|g| g.0 == 2 || g.0 == 5), "{got:?}");
        let ok = "control,unit,status,links,review_on,verified_on\n\
                  Ｍ６-04,ｓｏｕｍｕ,partial,\"https://a.example/x\nhttps://b.example/y\",R8.4.1,nonsense\n\
                  M6-06,総務課,未実施,,令和8年4月1日,\n";
        let r = read_file::<ControlStatuses>(ok.as_bytes()).expect("ok");
        assert_eq!(r[0].1.control, "M6-04");
        assert_eq!(r[0].1.unit, "soumu");
        assert_eq!(r[0].1.links.len(), 2);
        assert_eq!(r[0].1.verified_on, None, "ignored on import");
        assert_eq!(r[1].1.unit, "総務課");
        assert_eq!(r[1].1.status, ImplStatus::NotStarted);
        assert_eq!(r[1].1.review_on, Some(time::macros::date!(2026 - 04 - 01)));
    }
}
