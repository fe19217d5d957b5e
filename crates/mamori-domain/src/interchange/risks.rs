//! The risk register in files (`docs/interchange.md` "risks"). A row is keyed by its code: a
//! code that exists updates that risk, a new code adds one, an empty code adds one the
//! register numbers, and a code repeated within one file is refused. References are codes:
//! the owner unit (code or name), the owner's staff id, the threat code, asset ids and control
//! codes (`;`-separated). Levels, the acceptance and the last review are written for reading
//! and ignored on import: they are decided by the register, never by a file.

use super::fields::Fields;
use super::kind::Kind;
use super::table::{col, ColumnSpec, Problem, Row, Table};
use crate::catalogue::{is_valid_catalogue_code, split_list, MAX_TITLE};
use crate::risk::register::{Acceptance, RiskDraft, RiskStatus, MAX_LINKS, MAX_NOTE};
use crate::risk::{RiskLevel, Treatment};

/// A risk as a file holds it.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct RiskRecord {
    /// The risk as written.
    pub draft: RiskDraft,
    /// Inherent level (export only).
    pub level: Option<RiskLevel>,
    /// Residual level (export only).
    pub residual_level: Option<RiskLevel>,
    /// Where an acceptance stands (export only).
    pub acceptance: Option<Acceptance>,
    /// Who requested the acceptance (export only).
    pub acceptance_requested_by: String,
    /// Who decided it (export only).
    pub acceptance_decided_by: String,
    /// The last review (export only).
    pub reviewed_on: Option<time::Date>,
}

/// The `risks` kind.
#[derive(Debug)]
pub struct Risks;

const COLUMNS: &[ColumnSpec] = &[
    col("code", "リスクコード", false),
    col("title", "名称", true),
    col("unit", "所管組織", true),
    col("owner", "リスク所有者", false),
    col("threat", "脅威コード", true),
    col("weakness", "脆弱性", false),
    col("asset_group", "資産グループ", false),
    col("assets", "対象資産", false),
    col("controls", "管理策", false),
    col("likelihood", "発生可能性", true),
    col("impact", "影響度", true),
    col("impact_reason", "影響度の理由", false),
    col("level", "リスクレベル", false),
    col("treatment", "対応", false),
    col("treatment_note", "対応内容", false),
    col("residual_likelihood", "残留発生可能性", false),
    col("residual_impact", "残留影響度", false),
    col("residual_level", "残留リスクレベル", false),
    col("acceptance", "受容の承認", false),
    col("acceptance_requested_by", "受容の申請者", false),
    col("acceptance_decided_by", "受容の判断者", false),
    col("review_on", "次回見直し日", false),
    col("reviewed_on", "前回見直し日", false),
    col("status", "状態", false),
];

/// The largest rating a file may hold (the register checks it against its own scale).
const MAX_RATING: u32 = 99;

impl Kind for Risks {
    type Record = RiskRecord;
    const NAME: &'static str = "risks";
    const COLUMNS: &'static [ColumnSpec] = COLUMNS;
    const KEY: &'static str = "code";

    fn parse(table: &Table, row: &Row) -> Result<RiskRecord, Vec<Problem>> {
        let mut f = Fields::new(table, row);
        let code = f.folded("code");
        if !code.is_empty() && !is_valid_catalogue_code(&code) {
            f.problem("code", "risk-error-code", Some(&code));
        }
        let title = f.text("title", MAX_TITLE);
        let unit = f.folded("unit");
        let owner = f.folded("owner");
        let threat = f.folded("threat");
        let weakness = f.text("weakness", MAX_NOTE);
        let asset_group = f.text("asset_group", MAX_NOTE);
        let mut assets = Vec::new();
        for written in split_list(&f.folded("assets")) {
            match written.parse::<i64>() {
                Ok(id) if id > 0 => {
                    if !assets.contains(&id) {
                        assets.push(id);
                    }
                }
                _ => f.problem("assets", "risk-error-asset-id", Some(&written)),
            }
        }
        let mut controls = Vec::new();
        for written in split_list(&f.folded("controls")) {
            if !controls.contains(&written) {
                controls.push(written);
            }
        }
        if assets.len() > MAX_LINKS || controls.len() > MAX_LINKS {
            f.problem("assets", "risk-error-too-many-links", None);
        }
        // Required cells are checked when the table is read; the scale by the register.
        let rating = |f: &mut Fields<'_>, code: &str| f.number(code, MAX_RATING).map(i64::from);
        let likelihood = rating(&mut f, "likelihood");
        let impact = rating(&mut f, "impact");
        let impact_reason = f.text("impact_reason", MAX_NOTE);
        let treatment = f.choice("treatment", Treatment::parse, None, "risk-error-treatment");
        let treatment_note = f.text("treatment_note", MAX_NOTE);
        let residual_likelihood = rating(&mut f, "residual_likelihood");
        let residual_impact = rating(&mut f, "residual_impact");
        let review_on = f.date("review_on");
        let status = f.choice("status", RiskStatus::parse, None, "risk-error-status");
        if !f.problems.is_empty() {
            return Err(f.problems);
        }
        Ok(RiskRecord {
            draft: RiskDraft {
                code,
                title,
                unit,
                owner,
                threat,
                weakness,
                asset_group,
                assets,
                controls,
                likelihood: likelihood.unwrap_or_default(),
                impact: impact.unwrap_or_default(),
                impact_reason,
                treatment,
                treatment_note,
                residual_likelihood,
                residual_impact,
                review_on,
                status,
            },
            ..RiskRecord::default()
        })
    }

    fn key(record: &RiskRecord) -> Option<&str> {
        Some(record.draft.code.as_str()).filter(|c| !c.is_empty())
    }

    fn cells(r: &RiskRecord, labels: bool) -> Vec<String> {
        let d = &r.draft;
        let level = |l: Option<RiskLevel>| {
            l.map(|l| if labels { l.japanese() } else { l.code() })
                .unwrap_or_default()
                .to_owned()
        };
        let date = |d: Option<time::Date>| d.map(|d| d.to_string()).unwrap_or_default();
        let treatment = d.treatment();
        let status = d.status.unwrap_or(RiskStatus::Open);
        vec![
            d.code.clone(),
            d.title.clone(),
            d.unit.clone(),
            d.owner.clone(),
            d.threat.clone(),
            d.weakness.clone(),
            d.asset_group.clone(),
            d.assets
                .iter()
                .map(i64::to_string)
                .collect::<Vec<_>>()
                .join("; "),
            d.controls.join("; "),
            d.likelihood.to_string(),
            d.impact.to_string(),
            d.impact_reason.clone(),
            level(r.level),
            if labels {
                treatment.japanese()
            } else {
                treatment.code()
            }
            .to_owned(),
            d.treatment_note.clone(),
            d.residual_likelihood
                .map(|v| v.to_string())
                .unwrap_or_default(),
            d.residual_impact.map(|v| v.to_string()).unwrap_or_default(),
            level(r.residual_level),
            r.acceptance
                .map(|a| a.code().to_owned())
                .unwrap_or_default(),
            r.acceptance_requested_by.clone(),
            r.acceptance_decided_by.clone(),
            date(d.review_on),
            date(r.reviewed_on),
            if labels {
                status.japanese()
            } else {
                status.code()
            }
            .to_owned(),
        ]
    }

    fn json(r: &RiskRecord) -> serde_json::Value {
        let d = &r.draft;
        let date = |d: Option<time::Date>| d.map(|d| d.to_string());
        serde_json::json!({
            "code": d.code, "title": d.title, "unit": d.unit,
            "owner": Some(&d.owner).filter(|o| !o.is_empty()),
            "threat": d.threat, "weakness": d.weakness, "asset_group": d.asset_group,
            "assets": d.assets, "controls": d.controls,
            "likelihood": d.likelihood, "impact": d.impact, "impact_reason": d.impact_reason,
            "level": r.level.map(RiskLevel::code), "treatment": d.treatment().code(),
            "treatment_note": d.treatment_note,
            "residual_likelihood": d.residual_likelihood, "residual_impact": d.residual_impact,
            "residual_level": r.residual_level.map(RiskLevel::code),
            "acceptance": r.acceptance.map(Acceptance::code),
            "acceptance_requested_by": Some(&r.acceptance_requested_by).filter(|s| !s.is_empty()),
            "acceptance_decided_by": Some(&r.acceptance_decided_by).filter(|s| !s.is_empty()),
            "review_on": date(d.review_on), "reviewed_on": date(r.reviewed_on),
            "status": d.status.unwrap_or(RiskStatus::Open).code(),
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::interchange::kind::{read_file, write_csv};

    fn record() -> RiskRecord {
        RiskRecord {
            draft: RiskDraft {
                code: "R-0001".into(),
                title: "=ランサムウェアによる停止".into(),
                unit: "zaisei".into(),
                owner: "000123".into(),
                threat: "T1-01".into(),
                weakness: "オフラインのバックアップがない\n二行目".into(),
                asset_group: String::new(),
                assets: vec![12, 40],
                controls: vec!["M6-04".into(), "M6-05".into()],
                likelihood: 2,
                impact: 3,
                impact_reason: String::new(),
                treatment: Some(Treatment::Accept),
                treatment_note: "保険で補う".into(),
                residual_likelihood: Some(1),
                residual_impact: Some(3),
                review_on: time::Date::from_calendar_date(2027, time::Month::March, 31).ok(),
                status: Some(RiskStatus::Open),
            },
            level: Some(RiskLevel::High),
            residual_level: Some(RiskLevel::Medium),
            acceptance: Some(Acceptance::Approved),
            acceptance_requested_by: "sato".into(),
            acceptance_decided_by: "ciso".into(),
            reviewed_on: None,
        }
    }

    #[test]
    fn risks_round_trip_with_codes_and_labels_and_drop_what_the_register_decides() {
        for labels in [false, true] {
            let csv = write_csv::<Risks>(&[record()], labels).expect("csv");
            let back = read_file::<Risks>(csv.as_bytes()).expect("read");
            assert_eq!(back.len(), 1);
            assert_eq!(back[0].1.draft, record().draft, "labels: {labels}");
            assert_eq!(back[0].1.level, None, "levels are not read");
            assert_eq!(back[0].1.acceptance, None, "nor the acceptance");
        }
    }

    #[test]
    fn bad_rows_are_named_by_line_and_column() {
        let csv =
            "リスクコード,名称,所管組織,脅威コード,対象資産,発生可能性,影響度,対応,次回見直し日\n\
                   R-1,停止,zaisei,T1-01,12；４０,２,３,受容,R9.3.31\n\
                   R 2,停止,zaisei,T1-01,twelve,x,9,保留,2027-02-30\n\
                   R-1,重複,zaisei,T1-01,,1,1,,\n";
        let p = read_file::<Risks>(csv.as_bytes()).expect_err("bad");
        let got: Vec<(u64, &str, &str)> = p
            .iter()
            .map(|p| (p.line, p.column.as_str(), p.message_id))
            .collect();
        assert_eq!(
            got,
            [
                (3, "リスクコード", "risk-error-code"),
                (3, "対象資産", "risk-error-asset-id"),
                (3, "発生可能性", "error-number"),
                (3, "対応", "risk-error-treatment"),
                (3, "次回見直し日", "date-no-such-date"),
                (4, "リスクコード", "import-duplicate-key"),
            ]
        );
        let ok = "code,title,unit,threat,assets,likelihood,impact,treatment\n,停止,zaisei,T1-01,12；４０,２,３,受容\n";
        let r = read_file::<Risks>(ok.as_bytes()).expect("ok");
        let d = &r[0].1.draft;
        assert_eq!(d.code, "", "an empty code is a new risk");
        assert_eq!(d.assets, [12, 40]);
        assert_eq!((d.likelihood, d.impact), (2, 3));
        assert_eq!(d.treatment, Some(Treatment::Accept));
    }
}
