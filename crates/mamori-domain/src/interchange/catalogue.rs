//! The threat and control catalogues in files (`docs/interchange.md` "threats", "controls").
//! A row is keyed by its code: a code that exists updates that entry, a new code adds one, and
//! a code repeated within one file is refused. Category, measure area and owner role may be
//! written as codes or as their Japanese names; they, and the clause anchors, are checked
//! against the organisation's data when the records are applied.

use super::fields::Fields;
use super::kind::Kind;
use super::table::{ColumnSpec, Problem, Row, Table};
use super::values::write_bool;
use crate::assets::Segment;
use crate::catalogue::{
    is_valid_catalogue_code, normalise_anchor, split_list, ControlDraft, ThreatDraft,
    MAX_DESCRIPTION, MAX_TITLE,
};

/// A threat as a file holds it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ThreatRecord {
    /// The threat.
    pub draft: ThreatDraft,
    /// The category's Japanese name, written instead of its code in label exports.
    pub category_label: Option<String>,
}

/// The `threats` kind.
#[derive(Debug)]
pub struct Threats;

const THREAT_COLUMNS: &[ColumnSpec] = &[
    ColumnSpec {
        code: "code",
        label: "脅威コード",
        required: true,
    },
    ColumnSpec {
        code: "category",
        label: "分類",
        required: true,
    },
    ColumnSpec {
        code: "title",
        label: "名称",
        required: true,
    },
    ColumnSpec {
        code: "description",
        label: "説明",
        required: false,
    },
    ColumnSpec {
        code: "retired",
        label: "廃止",
        required: false,
    },
];

fn code_cell(f: &mut Fields<'_>) -> String {
    let code = f.folded("code");
    if !is_valid_catalogue_code(&code) {
        f.problem("code", "catalogue-error-code", Some(&code));
    }
    code
}

impl Kind for Threats {
    type Record = ThreatRecord;
    const NAME: &'static str = "threats";
    const COLUMNS: &'static [ColumnSpec] = THREAT_COLUMNS;
    const KEY: &'static str = "code";

    fn parse(table: &Table, row: &Row) -> Result<ThreatRecord, Vec<Problem>> {
        let mut f = Fields::new(table, row);
        let code = code_cell(&mut f);
        let category = f.folded("category");
        let title = f.text("title", MAX_TITLE);
        let description = f.text("description", MAX_DESCRIPTION);
        let retired = f.boolean("retired", false);
        if f.problems.is_empty() {
            Ok(ThreatRecord {
                draft: ThreatDraft {
                    code,
                    category,
                    title,
                    description,
                    retired,
                },
                category_label: None,
            })
        } else {
            Err(f.problems)
        }
    }

    fn key(record: &ThreatRecord) -> Option<&str> {
        Some(&record.draft.code)
    }

    fn cells(r: &ThreatRecord, labels: bool) -> Vec<String> {
        let d = &r.draft;
        vec![
            d.code.clone(),
            label_or_code(labels, &r.category_label, &d.category),
            d.title.clone(),
            d.description.clone(),
            write_bool(d.retired, labels).to_owned(),
        ]
    }

    fn json(r: &ThreatRecord) -> serde_json::Value {
        let d = &r.draft;
        serde_json::json!({
            "code": d.code, "category": d.category, "title": d.title,
            "description": d.description, "retired": d.retired,
        })
    }
}

fn label_or_code(labels: bool, label: &Option<String>, code: &str) -> String {
    match label {
        Some(l) if labels => l.clone(),
        _ => code.to_owned(),
    }
}

/// A control as a file holds it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ControlRecord {
    /// The control.
    pub draft: ControlDraft,
    /// The measure area's Japanese name, for label exports.
    pub area_label: Option<String>,
    /// The owner role's Japanese label, for label exports.
    pub owner_role_label: Option<String>,
}

/// The `controls` kind.
#[derive(Debug)]
pub struct Controls;

const CONTROL_COLUMNS: &[ColumnSpec] = &[
    ColumnSpec {
        code: "code",
        label: "管理策コード",
        required: true,
    },
    ColumnSpec {
        code: "area",
        label: "対策分野",
        required: true,
    },
    ColumnSpec {
        code: "title",
        label: "名称",
        required: true,
    },
    ColumnSpec {
        code: "description",
        label: "説明",
        required: false,
    },
    ColumnSpec {
        code: "clauses",
        label: "基本方針の条項",
        required: false,
    },
    ColumnSpec {
        code: "owner_role",
        label: "責任者の役割",
        required: true,
    },
    ColumnSpec {
        code: "segments",
        label: "対象ネットワーク区分",
        required: false,
    },
    ColumnSpec {
        code: "min_tier",
        label: "対象とする機密性の下限",
        required: false,
    },
    ColumnSpec {
        code: "retired",
        label: "廃止",
        required: false,
    },
];

impl Kind for Controls {
    type Record = ControlRecord;
    const NAME: &'static str = "controls";
    const COLUMNS: &'static [ColumnSpec] = CONTROL_COLUMNS;
    const KEY: &'static str = "code";

    fn parse(table: &Table, row: &Row) -> Result<ControlRecord, Vec<Problem>> {
        let mut f = Fields::new(table, row);
        let code = code_cell(&mut f);
        let area = f.folded("area");
        let title = f.text("title", MAX_TITLE);
        let description = f.text("description", MAX_DESCRIPTION);
        let mut clauses = Vec::new();
        for written in split_list(f.raw("clauses").unwrap_or_default()) {
            match normalise_anchor(&written) {
                Some(a) if !clauses.contains(&a) => clauses.push(a),
                Some(_) => {}
                None => f.problem("clauses", "catalogue-error-clause", Some(&written)),
            }
        }
        let owner_role = f.folded("owner_role");
        let mut segments = Vec::new();
        for written in split_list(f.raw("segments").unwrap_or_default()) {
            match Segment::parse(&written) {
                Some(s) if !segments.contains(&s) => segments.push(s),
                Some(_) => {}
                None => f.problem("segments", "error-unknown-segment", Some(&written)),
            }
        }
        let min_tier = match f.number("min_tier", 3) {
            Some(0) => {
                f.problem("min_tier", "catalogue-error-tier", Some("0"));
                None
            }
            other => other.map(|t| t as u8),
        };
        let retired = f.boolean("retired", false);
        if f.problems.is_empty() {
            Ok(ControlRecord {
                draft: ControlDraft {
                    code,
                    area,
                    title,
                    description,
                    clauses,
                    owner_role,
                    segments,
                    min_tier,
                    retired,
                },
                area_label: None,
                owner_role_label: None,
            })
        } else {
            Err(f.problems)
        }
    }

    fn key(record: &ControlRecord) -> Option<&str> {
        Some(&record.draft.code)
    }

    fn cells(r: &ControlRecord, labels: bool) -> Vec<String> {
        let d = &r.draft;
        let segments: Vec<&str> = d
            .segments
            .iter()
            .map(|s| if labels { s.label() } else { s.code() })
            .collect();
        vec![
            d.code.clone(),
            label_or_code(labels, &r.area_label, &d.area),
            d.title.clone(),
            d.description.clone(),
            d.clauses.join("; "),
            label_or_code(labels, &r.owner_role_label, &d.owner_role),
            segments.join("; "),
            d.min_tier.map(|t| t.to_string()).unwrap_or_default(),
            write_bool(d.retired, labels).to_owned(),
        ]
    }

    fn json(r: &ControlRecord) -> serde_json::Value {
        let d = &r.draft;
        serde_json::json!({
            "code": d.code, "area": d.area, "title": d.title, "description": d.description,
            "clauses": d.clauses, "owner_role": d.owner_role,
            "segments": d.segments.iter().map(|s| s.code()).collect::<Vec<_>>(),
            "min_tier": d.min_tier, "retired": d.retired,
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::catalogue::SEED_CONTROLS;
    use crate::interchange::kind::{read_file, write_csv};

    #[test]
    fn controls_round_trip_with_codes_and_labels() {
        let records: Vec<ControlRecord> = SEED_CONTROLS
            .iter()
            .map(|s| ControlRecord {
                draft: s.draft(),
                area_label: None,
                owner_role_label: None,
            })
            .collect();
        for labels in [false, true] {
            let csv = write_csv::<Controls>(&records, labels).expect("csv");
            let back: Vec<ControlRecord> = read_file::<Controls>(csv.as_bytes())
                .expect("read")
                .into_iter()
                .map(|(_, r)| r)
                .collect();
            assert_eq!(back, records);
        }
    }

    #[test]
    fn control_rows_are_refused_in_place() {
        let csv = "管理策コード,対策分野,名称,基本方針の条項,責任者の役割,対象ネットワーク区分,対象とする機密性の下限\n\
                   KI-01,M6,パッチ,６（６）；7,system_manager,ＬＧＷＡＮ接続系,２\n\
                   bad code,M6,x,六,system_manager,moon,0\n\
                   KI-01,M6,重複,6(6),system_manager,,\n";
        let p = read_file::<Controls>(csv.as_bytes()).expect_err("bad");
        let got: Vec<(u64, &str, &str)> = p
            .iter()
            .map(|p| (p.line, p.column.as_str(), p.message_id))
            .collect();
        assert_eq!(
            got,
            [
                (3, "管理策コード", "catalogue-error-code"),
                (3, "基本方針の条項", "catalogue-error-clause"),
                (3, "対象ネットワーク区分", "error-unknown-segment"),
                (3, "対象とする機密性の下限", "catalogue-error-tier"),
                (4, "管理策コード", "import-duplicate-key"),
            ]
        );
        let ok = "code,area,title,clauses,owner_role,segments,min_tier\nKI-01,M6,パッチ,６（６）；7,system_manager,ＬＧＷＡＮ接続系,２\n";
        let r = read_file::<Controls>(ok.as_bytes()).expect("ok");
        assert_eq!(r[0].1.draft.clauses, ["6(6)", "7"]);
        assert_eq!(r[0].1.draft.segments, [Segment::Lgwan]);
        assert_eq!(r[0].1.draft.min_tier, Some(2));
    }

    #[test]
    fn threats_round_trip() {
        let records = vec![ThreatRecord {
            draft: ThreatDraft {
                code: "T1-01".into(),
                category: "T1".into(),
                title: "ランサムウェア".into(),
                description: "=説明\n二行目".into(),
                retired: true,
            },
            category_label: None,
        }];
        let csv = write_csv::<Threats>(&records, true).expect("csv");
        let back = read_file::<Threats>(csv.as_bytes()).expect("read");
        assert_eq!(back[0].1, records[0]);
    }
}
