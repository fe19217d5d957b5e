//! The risk register (issue 5; `DOMAIN.md` §5): risks with their linked assets and controls,
//! ratings on the organisation's scale, treatment, acceptance by the CISO, review, and the
//! heat map. The rules are the domain's (`mamori_domain::risk`); this module resolves
//! references, stores and audits.
//!
//! Decisions:
//! - A risk's code is the organisation's stable key (`R-0001` when the register numbers it).
//! - Levels are stored as the matrix gave them when the risk was written. The scale can only
//!   change while the register is empty (see [`Store::save_settings`]), so they never go stale.
//! - Linking a disposed asset is refused; a link made before the asset was disposed stays, as
//!   history, and no longer counts towards the suggested impact.
//! - Reasons for review raised by something else (a linked asset's class changed, and later
//!   incidents and audit findings) are rows of `risk_review_reasons`, raised through
//!   [`Store::raise_risk_review`] and cleared together when the risk is reviewed.
//! - A scheme switch (classification.rs) relabels levels and does not raise reasons; an edit or
//!   an import that changes an asset's class or its personal-data flag does.

use crate::list::{Filter, ListQuery};
use crate::{format_ts, Result, Store, StoreError, WriteTx};
use mamori_domain::assets::classification::Class;
use mamori_domain::risk::register::{
    acceptance_after_write, numbered_code, Acceptance, AcceptanceBefore, RiskDraft, RiskStatus,
};
use mamori_domain::risk::{decide_acceptance, RiskLevel, RiskScale, Treatment};
use mamori_domain::settings::OrgSettings;
use mamori_domain::UnitId;
use serde::Serialize;
use sqlx::any::AnyRow;
use sqlx::Row;
use std::collections::HashMap;
use time::{Date, OffsetDateTime};
use utoipa::ToSchema;

/// A risk of the register.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, ToSchema)]
pub struct RiskRow {
    /// Internal id.
    #[serde(skip)]
    pub id: i64,
    /// Stable code (`R-0001`).
    pub code: String,
    /// Title.
    pub title: String,
    /// Owner unit's code.
    pub unit: String,
    /// Owner unit's name.
    pub unit_name: String,
    /// Owner unit's id.
    #[serde(skip)]
    pub unit_id: UnitId,
    /// The responsible person's staff id.
    pub owner: Option<String>,
    /// The responsible person's name.
    pub owner_name: Option<String>,
    /// Threat code.
    pub threat: String,
    /// Threat title.
    pub threat_title: String,
    /// Threat category (`T1`–`T5`).
    pub threat_category: String,
    /// The weakness the threat would exploit.
    pub weakness: String,
    /// An asset group in words.
    pub asset_group: String,
    /// Linked asset ids.
    pub assets: Vec<i64>,
    /// Linked control codes.
    pub controls: Vec<String>,
    /// Likelihood.
    pub likelihood: i64,
    /// Impact.
    pub impact: i64,
    /// Why the impact differs from the suggestion.
    pub impact_reason: String,
    /// Inherent level (`low`, `medium`, `high`).
    pub level: String,
    /// Treatment (`reduce`, `avoid`, `transfer`, `accept`).
    pub treatment: String,
    /// How it is treated.
    pub treatment_note: String,
    /// Residual likelihood.
    pub residual_likelihood: i64,
    /// Residual impact.
    pub residual_impact: i64,
    /// Residual level.
    pub residual_level: String,
    /// Acceptance above the threshold: `pending`, `approved` or `rejected`.
    pub acceptance: Option<String>,
    /// Who requested the acceptance.
    pub acceptance_requested_by: Option<String>,
    /// When (RFC 3339).
    pub acceptance_requested_at: Option<String>,
    /// Who decided it.
    pub acceptance_decided_by: Option<String>,
    /// When (RFC 3339).
    pub acceptance_decided_at: Option<String>,
    /// The requester's or the decider's note.
    pub acceptance_note: String,
    /// Next review date.
    pub review_on: Option<String>,
    /// Last review date.
    pub reviewed_on: Option<String>,
    /// `open` or `closed`.
    pub status: String,
    /// Reasons for review raised since the last review.
    pub open_review_reasons: i64,
    /// Created (RFC 3339).
    pub created_at: String,
    /// Last changed (RFC 3339).
    pub updated_at: String,
}

impl RiskRow {
    /// The treatment.
    pub fn treatment(&self) -> Treatment {
        Treatment::parse(&self.treatment).unwrap_or(Treatment::Reduce)
    }

    /// The acceptance.
    pub fn acceptance(&self) -> Option<Acceptance> {
        self.acceptance.as_deref().and_then(Acceptance::from_code)
    }

    /// The inherent level.
    pub fn level(&self) -> RiskLevel {
        RiskLevel::from_code(&self.level).unwrap_or(RiskLevel::High)
    }

    /// The residual level.
    pub fn residual_level(&self) -> RiskLevel {
        RiskLevel::from_code(&self.residual_level).unwrap_or(RiskLevel::High)
    }

    /// Whether the risk is due for review on `today`: its date has passed, or a reason was
    /// raised since its last review (closed risks never are).
    pub fn due_for_review(&self, today: Date) -> bool {
        self.status == RiskStatus::Open.code()
            && (self.open_review_reasons > 0
                || self
                    .review_on
                    .as_deref()
                    .is_some_and(|d| d < today.to_string().as_str()))
    }

    /// The risk as a draft (forms and files start from it).
    pub fn draft(&self) -> RiskDraft {
        RiskDraft {
            code: self.code.clone(),
            title: self.title.clone(),
            unit: self.unit.clone(),
            owner: self.owner.clone().unwrap_or_default(),
            threat: self.threat.clone(),
            weakness: self.weakness.clone(),
            asset_group: self.asset_group.clone(),
            assets: self.assets.clone(),
            controls: self.controls.clone(),
            likelihood: self.likelihood,
            impact: self.impact,
            impact_reason: self.impact_reason.clone(),
            treatment: Some(self.treatment()),
            treatment_note: self.treatment_note.clone(),
            residual_likelihood: Some(self.residual_likelihood),
            residual_impact: Some(self.residual_impact),
            review_on: self.review_on.as_deref().and_then(parse_day),
            status: RiskStatus::parse(&self.status),
        }
    }

    /// The risk as a file row.
    pub fn to_record(&self) -> mamori_domain::interchange::risks::RiskRecord {
        mamori_domain::interchange::risks::RiskRecord {
            draft: self.draft(),
            level: Some(self.level()),
            residual_level: Some(self.residual_level()),
            acceptance: self.acceptance(),
            acceptance_requested_by: self.acceptance_requested_by.clone().unwrap_or_default(),
            acceptance_decided_by: self.acceptance_decided_by.clone().unwrap_or_default(),
            reviewed_on: self.reviewed_on.as_deref().and_then(parse_day),
        }
    }
}

fn parse_day(text: &str) -> Option<Date> {
    Date::parse(
        text,
        time::macros::format_description!("[year]-[month]-[day]"),
    )
    .ok()
}

/// A reason a risk must be reviewed.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, ToSchema, sqlx::FromRow)]
pub struct ReviewReasonRow {
    /// Internal id.
    pub id: i64,
    /// What raised it (`asset`, `incident`, `finding`…).
    pub kind: String,
    /// Its reference (an asset id, an incident number…).
    pub reference: String,
    /// The reason, as the raiser gave it.
    pub reason: String,
    /// Who raised it.
    pub raised_by: String,
    /// When (RFC 3339).
    pub raised_at: String,
    /// Who cleared it by reviewing the risk.
    pub cleared_by: Option<String>,
    /// When (RFC 3339).
    pub cleared_at: Option<String>,
}

/// A linked asset as the risk page shows it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, ToSchema, sqlx::FromRow)]
pub struct RiskAssetRow {
    /// Asset id.
    pub id: i64,
    /// Name.
    pub name: String,
    /// 機密性.
    pub confidentiality: String,
    /// 完全性.
    pub integrity: String,
    /// 可用性.
    pub availability: String,
    /// Holds personal data (0/1).
    pub personal_data: i64,
    /// Status code (`disposed` stays as history).
    pub status: String,
}

impl RiskAssetRow {
    fn class(&self) -> Class {
        Class {
            confidentiality: self.confidentiality.clone(),
            integrity: self.integrity.clone(),
            availability: self.availability.clone(),
        }
    }
}

/// Risk list filters.
#[derive(Debug, Clone, Default)]
pub struct RiskFilter {
    /// Only risks of these units (`None`: every unit) — the reader's visible units.
    pub visible_units: Option<Vec<UnitId>>,
    /// Only risks of these units (a unit and its sub-units, chosen by the reader).
    pub units: Option<Vec<UnitId>>,
    /// Threat code.
    pub threat: Option<String>,
    /// Threat category (`T1`–`T5`).
    pub category: Option<String>,
    /// Inherent level code.
    pub level: Option<String>,
    /// Residual level code.
    pub residual_level: Option<String>,
    /// Treatment code.
    pub treatment: Option<String>,
    /// Acceptance code.
    pub acceptance: Option<String>,
    /// `open` (the default when `None`), `closed` or `all`.
    pub status: Option<String>,
    /// Only risks due for review on this day.
    pub due_on: Option<Date>,
    /// Text in code, title, weakness or asset group.
    pub q: Option<String>,
    /// Treated by this control (code).
    pub control: Option<String>,
    /// Naming this asset.
    pub asset: Option<i64>,
    /// Inherent cell of the heat map.
    pub cell: Option<(i64, i64)>,
    /// Residual cell of the heat map.
    pub residual_cell: Option<(i64, i64)>,
}

impl RiskFilter {
    fn to_filter(&self) -> Filter {
        let mut f = Filter::default();
        for units in [&self.visible_units, &self.units].into_iter().flatten() {
            f.raw(format!("r.unit_id IN ({})", id_list(units)));
        }
        match self.status.as_deref() {
            Some("all") => {}
            Some(s @ ("open" | "closed")) => f.add("r.status = ?", s),
            _ => f.add("r.status = ?", "open"),
        }
        if let Some(t) = self.threat.as_deref().filter(|t| !t.is_empty()) {
            f.add("r.threat_id IN (SELECT id FROM threats WHERE code = ?)", t);
        }
        if let Some(c) = self.category.as_deref().filter(|c| !c.is_empty()) {
            f.add(
                "r.threat_id IN (SELECT id FROM threats WHERE category = ?)",
                c,
            );
        }
        f.eq("r.level", self.level.as_deref());
        f.eq("r.residual_level", self.residual_level.as_deref());
        f.eq("r.treatment", self.treatment.as_deref());
        f.eq("r.acceptance", self.acceptance.as_deref());
        if let Some(day) = self.due_on {
            f.add(
                "(r.review_on < ? OR EXISTS (SELECT 1 FROM risk_review_reasons rr \
                 WHERE rr.risk_id = r.id AND rr.cleared_at IS NULL))",
                day.to_string(),
            );
        }
        f.contains_any(
            &["r.code", "r.title", "r.weakness", "r.asset_group"],
            self.q.as_deref(),
        );
        if let Some(c) = self.control.as_deref().filter(|c| !c.is_empty()) {
            f.add(
                "r.id IN (SELECT rc.risk_id FROM risk_controls rc JOIN controls c \
                 ON c.id = rc.control_id WHERE c.code = ?)",
                c,
            );
        }
        if let Some(a) = self.asset {
            f.raw(format!(
                "r.id IN (SELECT risk_id FROM risk_assets WHERE asset_id = {a})"
            ));
        }
        if let Some((l, i)) = self.cell {
            f.raw(format!("r.likelihood = {l} AND r.impact = {i}"));
        }
        if let Some((l, i)) = self.residual_cell {
            f.raw(format!(
                "r.residual_likelihood = {l} AND r.residual_impact = {i}"
            ));
        }
        f
    }
}

fn id_list(units: &[UnitId]) -> String {
    if units.is_empty() {
        return "NULL".into();
    }
    units
        .iter()
        .map(|u| u.0.to_string())
        .collect::<Vec<_>>()
        .join(",")
}

/// How the risk list is ordered.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum RiskSort {
    /// By code.
    #[default]
    Code,
    /// Highest inherent rating first.
    Inherent,
    /// Highest residual rating first.
    Residual,
    /// Soonest review first.
    ReviewOn,
    /// Most recently changed first.
    Updated,
}

impl RiskSort {
    /// Parses a sort key (`code`, `level`, `residual`, `review_on`, `updated`).
    pub fn parse(text: &str) -> Option<RiskSort> {
        Some(match text {
            "code" => RiskSort::Code,
            "level" => RiskSort::Inherent,
            "residual" => RiskSort::Residual,
            "review_on" => RiskSort::ReviewOn,
            "updated" => RiskSort::Updated,
            _ => return None,
        })
    }

    fn order(self) -> &'static str {
        match self {
            RiskSort::Code => "r.code",
            RiskSort::Inherent => "r.likelihood * r.impact DESC, r.impact DESC, r.code",
            RiskSort::Residual => {
                "r.residual_likelihood * r.residual_impact DESC, r.residual_impact DESC, r.code"
            }
            RiskSort::ReviewOn => {
                "CASE WHEN r.review_on IS NULL THEN 1 ELSE 0 END, r.review_on, r.code"
            }
            RiskSort::Updated => "r.updated_at DESC, r.code",
        }
    }
}

/// Counts of risks per cell of the matrix, inherent and residual.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, ToSchema)]
pub struct HeatMap {
    /// The scale (`3x3`, `5x5`).
    pub scale: String,
    /// `inherent[l-1][i-1]`: risks rated likelihood `l`, impact `i`.
    pub inherent: Vec<Vec<i64>>,
    /// The same for residual ratings.
    pub residual: Vec<Vec<i64>>,
}

/// Context a risk write needs: the organisation's scale and threshold, and today.
#[derive(Debug, Clone, Copy)]
pub struct RiskRules {
    /// Rating scale.
    pub scale: RiskScale,
    /// Acceptance threshold.
    pub threshold: RiskLevel,
    /// Today (organisation's time zone).
    pub today: Date,
}

impl RiskRules {
    /// The rules in force under `settings` on `today`.
    pub fn new(settings: &OrgSettings, today: Date) -> RiskRules {
        RiskRules {
            scale: settings.risk_scale,
            threshold: settings.risk_acceptance_threshold,
            today,
        }
    }
}

/// A problem with one field of a risk: (field, Fluent message id, the value at fault).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RiskProblem {
    /// The field (a column code of the `risks` kind).
    pub field: &'static str,
    /// Fluent message id.
    pub message_id: &'static str,
    /// The value at fault, when there is one to show.
    pub detail: Option<String>,
}

impl RiskProblem {
    fn new(field: &'static str, message_id: &'static str) -> RiskProblem {
        RiskProblem {
            field,
            message_id,
            detail: None,
        }
    }

    fn with(field: &'static str, message_id: &'static str, detail: String) -> RiskProblem {
        RiskProblem {
            field,
            message_id,
            detail: Some(detail),
        }
    }
}

/// A write's result: the risk, or every problem by field (nothing written then).
pub type RiskOutcome = std::result::Result<RiskRow, Vec<RiskProblem>>;

/// What a writer wants done.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum WriteMode {
    /// A form, the API or an import row.
    Plain,
    /// A request for acceptance.
    Request,
}

/// References resolved once per write transaction (units, threats and controls are few).
pub(crate) struct RiskRefs {
    units: HashMap<String, Vec<(i64, String)>>,
    threats: HashMap<String, (i64, bool)>,
    controls: HashMap<String, (i64, bool)>,
    people: HashMap<String, Option<i64>>,
    next_number: i64,
}

impl RiskRefs {
    pub(crate) async fn load(tx: &mut WriteTx) -> Result<RiskRefs> {
        let mut units: HashMap<String, Vec<(i64, String)>> = HashMap::new();
        let rows: Vec<(i64, String, String)> = sqlx::query_as("SELECT id, code, name FROM units")
            .fetch_all(tx.conn())
            .await?;
        for (id, code, name) in rows {
            units
                .entry(code.clone())
                .or_default()
                .push((id, code.clone()));
            if !units.contains_key(&name) || units[&name].iter().all(|(i, _)| *i != id) {
                units.entry(name).or_default().push((id, code));
            }
        }
        let threats =
            sqlx::query_as::<_, (String, i64, i64)>("SELECT code, id, retired FROM threats")
                .fetch_all(tx.conn())
                .await?
                .into_iter()
                .map(|(c, id, r)| (c, (id, r != 0)))
                .collect();
        let controls =
            sqlx::query_as::<_, (String, i64, i64)>("SELECT code, id, retired FROM controls")
                .fetch_all(tx.conn())
                .await?
                .into_iter()
                .map(|(c, id, r)| (c, (id, r != 0)))
                .collect();
        let codes: Vec<String> = sqlx::query_scalar("SELECT code FROM risks WHERE code LIKE 'R-%'")
            .fetch_all(tx.conn())
            .await?;
        let next_number = codes
            .iter()
            .filter_map(|c| c.strip_prefix("R-")?.parse::<i64>().ok())
            .max()
            .unwrap_or(0)
            + 1;
        Ok(RiskRefs {
            units,
            threats,
            controls,
            people: HashMap::new(),
            next_number,
        })
    }

    /// A unit written as its code, or as a name only one unit has.
    fn unit(&self, written: &str) -> std::result::Result<i64, &'static str> {
        match self.units.get(written).map(Vec::as_slice) {
            Some([(id, _)]) => Ok(*id),
            Some(many) if many.len() > 1 => {
                // A code wins over a name.
                many.iter()
                    .find(|(_, code)| code == written)
                    .map(|(id, _)| *id)
                    .ok_or("import-ambiguous-unit")
            }
            _ => Err("error-unknown-unit"),
        }
    }

    async fn person(&mut self, tx: &mut WriteTx, staff_id: &str) -> Result<Option<i64>> {
        if let Some(found) = self.people.get(staff_id) {
            return Ok(*found);
        }
        let id: Option<i64> = sqlx::query_scalar("SELECT id FROM people WHERE staff_id = $1")
            .bind(staff_id)
            .fetch_optional(tx.conn())
            .await?;
        self.people.insert(staff_id.to_owned(), id);
        Ok(id)
    }

    fn take_code(&mut self) -> String {
        let code = numbered_code(self.next_number);
        self.next_number += 1;
        code
    }
}

const RISK_COLUMNS: &str = "r.id, r.code, r.title, u.code AS unit, u.name AS unit_name, \
    r.unit_id, p.staff_id AS owner, p.name AS owner_name, t.code AS threat, \
    t.title AS threat_title, t.category AS threat_category, r.weakness, r.asset_group, \
    r.likelihood, r.impact, r.impact_reason, r.level, r.treatment, r.treatment_note, \
    r.residual_likelihood, r.residual_impact, r.residual_level, r.acceptance, \
    r.acceptance_requested_by, r.acceptance_requested_at, r.acceptance_decided_by, \
    r.acceptance_decided_at, r.acceptance_note, r.review_on, r.reviewed_on, r.status, \
    (SELECT COUNT(*) FROM risk_review_reasons rr WHERE rr.risk_id = r.id \
     AND rr.cleared_at IS NULL) AS open_review_reasons, r.created_at, r.updated_at";

const RISK_FROM: &str = "FROM risks r JOIN units u ON u.id = r.unit_id \
    JOIN threats t ON t.id = r.threat_id LEFT JOIN people p ON p.id = r.owner_id";

fn risk_query(sort: RiskSort) -> ListQuery<'static> {
    ListQuery {
        columns: RISK_COLUMNS,
        from: RISK_FROM,
        order: sort.order(),
        count_from: Some("FROM risks r"),
    }
}

fn risk_from_row(r: &AnyRow) -> Result<RiskRow> {
    Ok(RiskRow {
        id: r.try_get("id")?,
        code: r.try_get("code")?,
        title: r.try_get("title")?,
        unit: r.try_get("unit")?,
        unit_name: r.try_get("unit_name")?,
        unit_id: UnitId(r.try_get("unit_id")?),
        owner: r.try_get("owner")?,
        owner_name: r.try_get("owner_name")?,
        threat: r.try_get("threat")?,
        threat_title: r.try_get("threat_title")?,
        threat_category: r.try_get("threat_category")?,
        weakness: r.try_get("weakness")?,
        asset_group: r.try_get("asset_group")?,
        assets: Vec::new(),
        controls: Vec::new(),
        likelihood: r.try_get("likelihood")?,
        impact: r.try_get("impact")?,
        impact_reason: r.try_get("impact_reason")?,
        level: r.try_get("level")?,
        treatment: r.try_get("treatment")?,
        treatment_note: r.try_get("treatment_note")?,
        residual_likelihood: r.try_get("residual_likelihood")?,
        residual_impact: r.try_get("residual_impact")?,
        residual_level: r.try_get("residual_level")?,
        acceptance: r.try_get("acceptance")?,
        acceptance_requested_by: r.try_get("acceptance_requested_by")?,
        acceptance_requested_at: r.try_get("acceptance_requested_at")?,
        acceptance_decided_by: r.try_get("acceptance_decided_by")?,
        acceptance_decided_at: r.try_get("acceptance_decided_at")?,
        acceptance_note: r.try_get("acceptance_note")?,
        review_on: r.try_get("review_on")?,
        reviewed_on: r.try_get("reviewed_on")?,
        status: r.try_get("status")?,
        open_review_reasons: r.try_get("open_review_reasons")?,
        created_at: r.try_get("created_at")?,
        updated_at: r.try_get("updated_at")?,
    })
}

/// Links of the given risks: (risk id → asset ids, risk id → control codes).
type Links = (HashMap<i64, Vec<i64>>, HashMap<i64, Vec<String>>);

async fn links_for<'c, E>(conn: E, ids: Option<&[i64]>) -> Result<Links>
where
    E: sqlx::Executor<'c, Database = sqlx::Any> + Copy,
{
    let scope = match ids {
        Some([]) => return Ok(Default::default()),
        Some(ids) => format!(
            " WHERE risk_id IN ({})",
            ids.iter().map(i64::to_string).collect::<Vec<_>>().join(",")
        ),
        None => String::new(),
    };
    let mut assets: HashMap<i64, Vec<i64>> = HashMap::new();
    let rows: Vec<(i64, i64)> = sqlx::query_as(&format!(
        "SELECT risk_id, asset_id FROM risk_assets{scope} ORDER BY risk_id, asset_id"
    ))
    .fetch_all(conn)
    .await?;
    for (r, a) in rows {
        assets.entry(r).or_default().push(a);
    }
    let mut controls: HashMap<i64, Vec<String>> = HashMap::new();
    let rows: Vec<(i64, String)> = sqlx::query_as(&format!(
        "SELECT rc.risk_id, c.code FROM risk_controls rc JOIN controls c ON c.id = rc.control_id{} \
         ORDER BY rc.risk_id, c.code",
        scope.replace("risk_id", "rc.risk_id")
    ))
    .fetch_all(conn)
    .await?;
    for (r, c) in rows {
        controls.entry(r).or_default().push(c);
    }
    Ok((assets, controls))
}

fn attach(rows: &mut [RiskRow], links: &mut Links) {
    for r in rows {
        r.assets = links.0.remove(&r.id).unwrap_or_default();
        r.controls = links.1.remove(&r.id).unwrap_or_default();
    }
}

impl Store {
    /// One page of risks (with their links) and the total.
    pub async fn risks_page(
        &self,
        filter: &RiskFilter,
        sort: RiskSort,
        limit: i64,
        offset: i64,
    ) -> Result<(Vec<RiskRow>, i64)> {
        let (mut rows, total) = risk_query(sort)
            .page(
                &self.pool,
                &filter.to_filter(),
                limit,
                offset,
                risk_from_row,
            )
            .await?;
        let ids: Vec<i64> = rows.iter().map(|r| r.id).collect();
        let mut links = links_for(&self.pool, Some(&ids)).await?;
        attach(&mut rows, &mut links);
        Ok((rows, total))
    }

    /// Every matching risk, in code order, with its links (exports).
    pub async fn risks_for_each(
        &self,
        filter: &RiskFilter,
        mut sink: impl FnMut(RiskRow) -> Result<()>,
    ) -> Result<()> {
        let mut links = links_for(&self.pool, None).await?;
        risk_query(RiskSort::Code)
            .for_each(&self.pool, &filter.to_filter(), risk_from_row, |mut r| {
                r.assets = links.0.remove(&r.id).unwrap_or_default();
                r.controls = links.1.remove(&r.id).unwrap_or_default();
                sink(r)
            })
            .await
    }

    /// A risk by code.
    pub async fn risk_by_code(&self, code: &str) -> Result<Option<RiskRow>> {
        let row = sqlx::query(&format!(
            "SELECT {RISK_COLUMNS} {RISK_FROM} WHERE r.code = $1"
        ))
        .bind(code)
        .fetch_optional(&self.pool)
        .await?;
        let Some(row) = row else { return Ok(None) };
        let mut risk = risk_from_row(&row)?;
        let mut links = links_for(&self.pool, Some(&[risk.id])).await?;
        attach(std::slice::from_mut(&mut risk), &mut links);
        Ok(Some(risk))
    }

    async fn risk_in_tx(tx: &mut WriteTx, code: &str) -> Result<Option<RiskRow>> {
        let row = sqlx::query(&format!(
            "SELECT {RISK_COLUMNS} {RISK_FROM} WHERE r.code = $1"
        ))
        .bind(code)
        .fetch_optional(tx.conn())
        .await?;
        let Some(row) = row else { return Ok(None) };
        let mut risk = risk_from_row(&row)?;
        let assets: Vec<i64> = sqlx::query_scalar(
            "SELECT asset_id FROM risk_assets WHERE risk_id = $1 ORDER BY asset_id",
        )
        .bind(risk.id)
        .fetch_all(tx.conn())
        .await?;
        let controls: Vec<String> = sqlx::query_scalar(
            "SELECT c.code FROM risk_controls rc JOIN controls c ON c.id = rc.control_id \
             WHERE rc.risk_id = $1 ORDER BY c.code",
        )
        .bind(risk.id)
        .fetch_all(tx.conn())
        .await?;
        risk.assets = assets;
        risk.controls = controls;
        Ok(Some(risk))
    }

    /// The linked assets of a risk as its page shows them.
    pub async fn risk_assets(&self, risk_id: i64) -> Result<Vec<RiskAssetRow>> {
        Ok(sqlx::query_as(
            "SELECT a.id, a.name, a.confidentiality, a.integrity, a.availability, \
             a.personal_data, a.status FROM risk_assets ra JOIN assets a ON a.id = ra.asset_id \
             WHERE ra.risk_id = $1 ORDER BY a.id",
        )
        .bind(risk_id)
        .fetch_all(&self.pool)
        .await?)
    }

    /// The assets with these ids (those that exist), as a risk shows them.
    pub async fn assets_for_risk(&self, ids: &[i64]) -> Result<Vec<RiskAssetRow>> {
        let mut rows = assets_by_id(&self.pool, ids).await?;
        rows.sort_by_key(|a| ids.iter().position(|i| *i == a.id));
        Ok(rows)
    }

    /// The impact the given assets' classes suggest on `scale` (disposed assets and unknown
    /// ids do not count).
    pub async fn suggested_impact(&self, scale: RiskScale, assets: &[i64]) -> Result<Option<u8>> {
        let rows = assets_by_id(&self.pool, assets).await?;
        Ok(suggest(scale, &rows))
    }

    /// Reasons for review of a risk, newest first (`open_only`: not yet cleared).
    pub async fn risk_review_reasons(
        &self,
        risk_id: i64,
        open_only: bool,
    ) -> Result<Vec<ReviewReasonRow>> {
        let open = if open_only {
            " AND cleared_at IS NULL"
        } else {
            ""
        };
        Ok(sqlx::query_as(&format!(
            "SELECT id, kind, reference, reason, raised_by, raised_at, cleared_by, cleared_at \
             FROM risk_review_reasons WHERE risk_id = $1{open} ORDER BY id DESC"
        ))
        .bind(risk_id)
        .fetch_all(&self.pool)
        .await?)
    }

    /// Counts of matching risks per cell, inherent and residual, on `scale`.
    pub async fn risk_heat_map(&self, filter: &RiskFilter, scale: RiskScale) -> Result<HeatMap> {
        let n = usize::from(scale.max());
        let mut map = HeatMap {
            scale: scale.code().to_owned(),
            inherent: vec![vec![0; n]; n],
            residual: vec![vec![0; n]; n],
        };
        let f = filter.to_filter();
        for (columns, grid) in [
            ("r.likelihood, r.impact", &mut map.inherent),
            (
                "r.residual_likelihood, r.residual_impact",
                &mut map.residual,
            ),
        ] {
            let rows = f.grouped(&self.pool, "FROM risks r", columns).await?;
            for (l, i, count) in rows {
                let (Ok(l), Ok(i)) = (usize::try_from(l - 1), usize::try_from(i - 1)) else {
                    continue;
                };
                if let Some(cell) = grid.get_mut(l).and_then(|row| row.get_mut(i)) {
                    *cell += count;
                }
            }
        }
        Ok(map)
    }

    /// Records a new risk. An empty code is numbered by the register.
    pub async fn create_risk(
        tx: &mut WriteTx,
        draft: &RiskDraft,
        rules: &RiskRules,
    ) -> Result<RiskOutcome> {
        let mut refs = RiskRefs::load(tx).await?;
        Self::write_risk(tx, &mut refs, None, draft, rules, WriteMode::Plain).await
    }

    /// Changes the risk `code` as the draft says (its code stays).
    pub async fn update_risk(
        tx: &mut WriteTx,
        code: &str,
        draft: &RiskDraft,
        rules: &RiskRules,
    ) -> Result<RiskOutcome> {
        let before = existing(tx, code).await?;
        let mut refs = RiskRefs::load(tx).await?;
        Self::write_risk(tx, &mut refs, Some(before), draft, rules, WriteMode::Plain).await
    }

    /// Requests acceptance of the risk's residual rating (treatment 受容). Above the threshold
    /// it waits for the CISO; below it the risk is accepted at once.
    pub async fn request_risk_acceptance(
        tx: &mut WriteTx,
        code: &str,
        note: &str,
        rules: &RiskRules,
    ) -> Result<RiskOutcome> {
        let before = existing(tx, code).await?;
        let mut draft = before.draft();
        draft.treatment = Some(Treatment::Accept);
        let mut refs = RiskRefs::load(tx).await?;
        let outcome = Self::write_risk(
            tx,
            &mut refs,
            Some(before),
            &draft,
            rules,
            WriteMode::Request,
        )
        .await?;
        let Ok(risk) = outcome else {
            return Ok(outcome);
        };
        if risk.acceptance() == Some(Acceptance::Pending) {
            let at = format_ts(OffsetDateTime::now_utc());
            let who = tx.actor().name.clone();
            sqlx::query(
                "UPDATE risks SET acceptance_requested_by = $1, acceptance_requested_at = $2, \
                 acceptance_decided_by = NULL, acceptance_decided_at = NULL, acceptance_note = $3 \
                 WHERE id = $4",
            )
            .bind(&who)
            .bind(&at)
            .bind(note)
            .bind(risk.id)
            .execute(tx.conn())
            .await?;
            let after = audited(tx, "risk.acceptance_request", code, Some(&risk)).await?;
            return Ok(Ok(after));
        }
        Ok(Ok(risk))
    }

    /// The CISO's decision on a pending acceptance: approved, or rejected with a reason. The
    /// decider is never the requester.
    pub async fn decide_risk_acceptance(
        tx: &mut WriteTx,
        code: &str,
        approve: bool,
        note: &str,
    ) -> Result<std::result::Result<RiskRow, &'static str>> {
        let before = existing(tx, code).await?;
        let decider = tx.actor().name.clone();
        if let Err(refusal) = decide_acceptance(
            before.treatment(),
            before.acceptance(),
            before.acceptance_requested_by.as_deref(),
            &decider,
        ) {
            return Ok(Err(refusal.message_id()));
        }
        if !approve && note.trim().is_empty() {
            return Ok(Err("risk-error-rejection-reason"));
        }
        let decision = if approve {
            Acceptance::Approved
        } else {
            Acceptance::Rejected
        };
        let at = format_ts(OffsetDateTime::now_utc());
        sqlx::query(
            "UPDATE risks SET acceptance = $1, acceptance_decided_by = $2, \
             acceptance_decided_at = $3, acceptance_note = $4, updated_at = $3 WHERE id = $5",
        )
        .bind(decision.code())
        .bind(&decider)
        .bind(&at)
        .bind(note)
        .bind(before.id)
        .execute(tx.conn())
        .await?;
        let action = if approve {
            "risk.acceptance_approve"
        } else {
            "risk.acceptance_reject"
        };
        let after = audited(tx, action, code, Some(&before)).await?;
        Ok(Ok(after))
    }

    /// Records a review of the risk: the reasons raised since the last one are cleared and
    /// the next review date set (it must lie after `today`).
    pub async fn review_risk(
        tx: &mut WriteTx,
        code: &str,
        next_review_on: Date,
        today: Date,
    ) -> Result<std::result::Result<RiskRow, &'static str>> {
        if next_review_on <= today {
            return Ok(Err("risk-error-next-review"));
        }
        let before = existing(tx, code).await?;
        let at = format_ts(OffsetDateTime::now_utc());
        let who = tx.actor().name.clone();
        sqlx::query(
            "UPDATE risk_review_reasons SET cleared_by = $1, cleared_at = $2 \
             WHERE risk_id = $3 AND cleared_at IS NULL",
        )
        .bind(&who)
        .bind(&at)
        .bind(before.id)
        .execute(tx.conn())
        .await?;
        sqlx::query(
            "UPDATE risks SET reviewed_on = $1, review_on = $2, updated_at = $3 WHERE id = $4",
        )
        .bind(today.to_string())
        .bind(next_review_on.to_string())
        .bind(&at)
        .bind(before.id)
        .execute(tx.conn())
        .await?;
        Ok(Ok(audited(tx, "risk.review", code, Some(&before)).await?))
    }

    /// Raises a reason to review the risk `code`: the one mechanism every record that can
    /// call a risk into question uses (`kind`: `incident`, `finding`…; `reference`: its
    /// number; `reason`: in the raiser's words). Audited.
    pub async fn raise_risk_review(
        tx: &mut WriteTx,
        code: &str,
        kind: &str,
        reference: &str,
        reason: &str,
    ) -> Result<ReviewReasonRow> {
        let risk = existing(tx, code).await?;
        let row = insert_reason(tx, risk.id, kind, reference, reason).await?;
        tx.audit(
            "risk.review_required",
            "risk",
            code,
            None,
            serde_json::to_value(&row).ok(),
        )
        .await?;
        Ok(row)
    }

    /// Raises a review of every open risk naming the asset when an edit or an import changed
    /// its class or its personal-data flag. The reason reads `2/1/1 → 3B/2/2/PD`: C/I/A, and
    /// `PD` when the asset holds personal data.
    pub(crate) async fn raise_reviews_if_class_changed(
        tx: &mut WriteTx,
        before: &crate::AssetRow,
        after: &crate::AssetRow,
    ) -> Result<()> {
        let label = |a: &crate::AssetRow| {
            format!(
                "{}/{}/{}{}",
                a.confidentiality,
                a.integrity,
                a.availability,
                if a.personal_data { "/PD" } else { "" }
            )
        };
        let (b, a) = (label(before), label(after));
        if b == a {
            return Ok(());
        }
        Self::raise_reviews_for_asset(tx, after.id.0, &b, &a).await
    }

    async fn raise_reviews_for_asset(
        tx: &mut WriteTx,
        asset_id: i64,
        before: &str,
        after: &str,
    ) -> Result<()> {
        let risks: Vec<(i64, String)> = sqlx::query_as(
            "SELECT r.id, r.code FROM risk_assets ra JOIN risks r ON r.id = ra.risk_id \
             WHERE ra.asset_id = $1 AND r.status = 'open' ORDER BY r.id",
        )
        .bind(asset_id)
        .fetch_all(tx.conn())
        .await?;
        let reason = format!("{before} → {after}");
        for (risk_id, code) in risks {
            let row = insert_reason(tx, risk_id, "asset", &asset_id.to_string(), &reason).await?;
            tx.audit(
                "risk.review_required",
                "risk",
                &code,
                None,
                serde_json::to_value(&row).ok(),
            )
            .await?;
        }
        Ok(())
    }

    /// Creates or updates risks from a file, by code (an empty code adds a numbered risk).
    /// Every problem is reported by row and column, and nothing is applied unless there are
    /// none. `allowed`: the units the importer may record risks for (`None`: every unit).
    pub async fn import_risks(
        tx: &mut WriteTx,
        records: &[(u64, mamori_domain::interchange::risks::RiskRecord)],
        column: impl Fn(&str) -> String,
        rules: &RiskRules,
        allowed: Option<&std::collections::HashSet<UnitId>>,
    ) -> Result<crate::ImportOutcome> {
        let tuned = crate::import_assets::ImportSettings::raise(tx, records.len()).await?;
        let outcome = Self::apply_risks(tx, records, column, rules, allowed).await;
        crate::import_assets::ImportSettings::finish(tuned, tx, outcome).await
    }

    async fn apply_risks(
        tx: &mut WriteTx,
        records: &[(u64, mamori_domain::interchange::risks::RiskRecord)],
        column: impl Fn(&str) -> String,
        rules: &RiskRules,
        allowed: Option<&std::collections::HashSet<UnitId>>,
    ) -> Result<crate::ImportOutcome> {
        use mamori_domain::interchange::table::Problem;
        let mut refs = RiskRefs::load(tx).await?;
        // Numbers given to rows without a code follow every numbered code, the file's too.
        let in_file = records
            .iter()
            .filter_map(|(_, r)| r.draft.code.strip_prefix("R-")?.parse::<i64>().ok())
            .max()
            .unwrap_or(0);
        refs.next_number = refs.next_number.max(in_file + 1);
        let mut problems = Vec::new();
        let mut summary = crate::ImportSummary::default();
        for (line, record) in records {
            let d = &record.draft;
            if let (Some(allowed), Ok(unit)) = (allowed, refs.unit(&d.unit)) {
                if !allowed.contains(&UnitId(unit)) {
                    problems.push(Problem::with(
                        *line,
                        column("unit"),
                        "error-forbidden-unit",
                        d.unit.clone(),
                    ));
                    continue;
                }
            }
            let before = if d.code.is_empty() {
                None
            } else {
                Self::risk_in_tx(tx, &d.code).await?
            };
            if let Some(b) = &before {
                if risk_unchanged(b, d) {
                    summary.unchanged += 1;
                    continue;
                }
            }
            let is_update = before.is_some();
            match Self::write_risk(tx, &mut refs, before, d, rules, WriteMode::Plain).await? {
                Ok(_) if is_update => summary.updated += 1,
                Ok(_) => summary.added += 1,
                Err(found) => problems.extend(found.into_iter().map(|p| match p.detail {
                    Some(detail) => Problem::with(*line, column(p.field), p.message_id, detail),
                    None => Problem::new(*line, column(p.field), p.message_id),
                })),
            }
        }
        if problems.is_empty() {
            Ok(Ok(summary))
        } else {
            Ok(Err(problems))
        }
    }

    /// The one write path: resolves references, checks the domain's rules, writes the row and
    /// its links, and audits. Problems are returned by field, and nothing is written then.
    async fn write_risk(
        tx: &mut WriteTx,
        refs: &mut RiskRefs,
        before: Option<RiskRow>,
        draft: &RiskDraft,
        rules: &RiskRules,
        mode: WriteMode,
    ) -> Result<RiskOutcome> {
        let mut problems = Vec::new();
        let unit = match refs.unit(draft.unit.trim()) {
            Ok(id) => Some(id),
            Err(_) if draft.unit.trim().is_empty() => None,
            Err(message) => {
                problems.push(RiskProblem::with("unit", message, draft.unit.clone()));
                None
            }
        };
        let owner = match draft.owner.trim() {
            "" => None,
            staff_id => {
                let found = refs.person(tx, staff_id).await?;
                if found.is_none() {
                    problems.push(RiskProblem::with(
                        "owner",
                        "risk-error-unknown-owner",
                        staff_id.to_owned(),
                    ));
                }
                found
            }
        };
        let threat = match refs.threats.get(draft.threat.trim()) {
            Some((id, retired)) => {
                let unchanged = before.as_ref().is_some_and(|b| b.threat == draft.threat);
                if *retired && !unchanged {
                    problems.push(RiskProblem::with(
                        "threat",
                        "risk-error-retired-threat",
                        draft.threat.clone(),
                    ));
                }
                Some(*id)
            }
            None if draft.threat.trim().is_empty() => None,
            None => {
                problems.push(RiskProblem::with(
                    "threat",
                    "risk-error-unknown-threat",
                    draft.threat.clone(),
                ));
                None
            }
        };
        let mut control_ids = Vec::new();
        for code in &draft.controls {
            match refs.controls.get(code.as_str()) {
                Some((id, retired)) => {
                    let kept = before.as_ref().is_some_and(|b| b.controls.contains(code));
                    if *retired && !kept {
                        problems.push(RiskProblem::with(
                            "controls",
                            "risk-error-retired-control",
                            code.clone(),
                        ));
                    }
                    control_ids.push(*id);
                }
                None => problems.push(RiskProblem::with(
                    "controls",
                    "risk-error-unknown-control",
                    code.clone(),
                )),
            }
        }
        let assets = assets_by_id(tx.conn(), &draft.assets).await?;
        for id in &draft.assets {
            match assets.iter().find(|a| a.id == *id) {
                None => problems.push(RiskProblem::with(
                    "assets",
                    "risk-error-unknown-asset",
                    id.to_string(),
                )),
                Some(a) if a.status == "disposed" => {
                    let kept = before.as_ref().is_some_and(|b| b.assets.contains(id));
                    if !kept {
                        problems.push(RiskProblem::with(
                            "assets",
                            "risk-error-disposed-asset",
                            id.to_string(),
                        ));
                    }
                }
                Some(_) => {}
            }
        }
        let suggested = suggest(rules.scale, &assets);
        let rating = match draft.rate(rules.scale, suggested) {
            Ok(r) => Some(r),
            Err(found) => {
                problems.extend(found.into_iter().map(|(f, m)| RiskProblem::new(f, m)));
                None
            }
        };
        let treatment = draft.treatment();
        let acceptance = match &rating {
            Some(rating) => {
                let prior = before.as_ref().map(|b| AcceptanceBefore {
                    treatment: b.treatment(),
                    residual_likelihood: u8::try_from(b.residual_likelihood).unwrap_or(0),
                    residual_impact: u8::try_from(b.residual_impact).unwrap_or(0),
                    acceptance: b.acceptance(),
                });
                match acceptance_after_write(
                    treatment,
                    rating,
                    rules.threshold,
                    prior,
                    mode == WriteMode::Request,
                ) {
                    Ok(a) => a,
                    Err((f, m)) => {
                        problems.push(RiskProblem::new(f, m));
                        None
                    }
                }
            }
            None => None,
        };
        let code = match &before {
            Some(b) => b.code.clone(),
            None if draft.code.is_empty() => refs.take_code(),
            None => {
                let taken: Option<i64> = sqlx::query_scalar("SELECT id FROM risks WHERE code = $1")
                    .bind(&draft.code)
                    .fetch_optional(tx.conn())
                    .await?;
                if taken.is_some() {
                    problems.push(RiskProblem::with(
                        "code",
                        "risk-error-code-taken",
                        draft.code.clone(),
                    ));
                }
                draft.code.clone()
            }
        };
        let (Some(unit), Some(threat), Some(rating), true) =
            (unit, threat, rating, problems.is_empty())
        else {
            return Ok(Err(problems));
        };
        let at = format_ts(OffsetDateTime::now_utc());
        let status = draft.status.unwrap_or(RiskStatus::Open);
        let kept_acceptance = before
            .as_ref()
            .is_some_and(|b| acceptance.is_some() && b.acceptance() == acceptance);
        let (requested_by, requested_at, decided_by, decided_at, note) = match &before {
            Some(b) if kept_acceptance => (
                b.acceptance_requested_by.clone(),
                b.acceptance_requested_at.clone(),
                b.acceptance_decided_by.clone(),
                b.acceptance_decided_at.clone(),
                b.acceptance_note.clone(),
            ),
            _ => (None, None, None, None, String::new()),
        };
        let values = RiskValues {
            code: &code,
            draft,
            unit,
            owner,
            threat,
            level: rating.level,
            residual: (
                rating.residual_likelihood,
                rating.residual_impact,
                rating.residual_level,
            ),
            ratings: (rating.likelihood, rating.impact),
            acceptance,
            acceptance_people: (requested_by, requested_at, decided_by, decided_at, note),
            status,
            at: &at,
        };
        let id = match &before {
            Some(b) => {
                values.update(tx, b.id).await?;
                b.id
            }
            None => values.insert(tx).await?,
        };
        replace_links(
            tx,
            id,
            before.as_ref(),
            &draft.assets,
            &control_ids,
            &draft.controls,
        )
        .await?;
        let action = if before.is_some() {
            "risk.update"
        } else {
            "risk.create"
        };
        let after = audited(tx, action, &code, before.as_ref()).await?;
        Ok(Ok(after))
    }
}

/// Whether a file row says exactly what the risk holds (so an import of an export changes
/// nothing).
fn risk_unchanged(before: &RiskRow, draft: &RiskDraft) -> bool {
    let mut held = before.draft();
    let mut given = draft.clone();
    held.assets.sort_unstable();
    given.assets.sort_unstable();
    held.controls.sort();
    given.controls.sort();
    given.treatment = Some(given.treatment());
    given.status = Some(given.status.unwrap_or(RiskStatus::Open));
    given.residual_likelihood = Some(given.residual_likelihood.unwrap_or(given.likelihood));
    given.residual_impact = Some(given.residual_impact.unwrap_or(given.impact));
    // The unit may be written by name.
    if given.unit == before.unit_name {
        given.unit = before.unit.clone();
    }
    held == given
}

/// The values of one risk row.
struct RiskValues<'a> {
    code: &'a str,
    draft: &'a RiskDraft,
    unit: i64,
    owner: Option<i64>,
    threat: i64,
    ratings: (u8, u8),
    level: RiskLevel,
    residual: (u8, u8, RiskLevel),
    acceptance: Option<Acceptance>,
    acceptance_people: (
        Option<String>,
        Option<String>,
        Option<String>,
        Option<String>,
        String,
    ),
    status: RiskStatus,
    at: &'a str,
}

const RISK_VALUE_COLUMNS: &str = "code, title, unit_id, owner_id, threat_id, weakness, \
    asset_group, likelihood, impact, impact_reason, level, treatment, treatment_note, \
    residual_likelihood, residual_impact, residual_level, acceptance, acceptance_requested_by, \
    acceptance_requested_at, acceptance_decided_by, acceptance_decided_at, acceptance_note, \
    review_on, status, updated_at";

impl RiskValues<'_> {
    fn bind<'q>(
        &'q self,
        q: sqlx::query::Query<'q, sqlx::Any, sqlx::any::AnyArguments<'q>>,
    ) -> sqlx::query::Query<'q, sqlx::Any, sqlx::any::AnyArguments<'q>> {
        let d = self.draft;
        let (rq_by, rq_at, dc_by, dc_at, note) = &self.acceptance_people;
        q.bind(self.code)
            .bind(d.title.trim())
            .bind(self.unit)
            .bind(self.owner)
            .bind(self.threat)
            .bind(&d.weakness)
            .bind(&d.asset_group)
            .bind(i64::from(self.ratings.0))
            .bind(i64::from(self.ratings.1))
            .bind(&d.impact_reason)
            .bind(self.level.code())
            .bind(d.treatment().code())
            .bind(&d.treatment_note)
            .bind(i64::from(self.residual.0))
            .bind(i64::from(self.residual.1))
            .bind(self.residual.2.code())
            .bind(self.acceptance.map(Acceptance::code))
            .bind(rq_by.clone())
            .bind(rq_at.clone())
            .bind(dc_by.clone())
            .bind(dc_at.clone())
            .bind(note.clone())
            .bind(d.review_on.map(|d| d.to_string()))
            .bind(self.status.code())
            .bind(self.at)
    }

    async fn insert(&self, tx: &mut WriteTx) -> Result<i64> {
        let placeholders = (1..=25).map(|n| format!("${n}")).collect::<Vec<_>>();
        let sql = format!(
            "INSERT INTO risks ({RISK_VALUE_COLUMNS}, created_at) VALUES ({}, $25) RETURNING id",
            placeholders.join(", ")
        );
        let row = self
            .bind(sqlx::query(&sql))
            .fetch_one(tx.conn())
            .await
            .map_err(crate::on_unique("code"))?;
        Ok(row.try_get(0)?)
    }

    async fn update(&self, tx: &mut WriteTx, id: i64) -> Result<()> {
        let sets = RISK_VALUE_COLUMNS
            .split(',')
            .enumerate()
            .map(|(i, c)| format!("{} = ${}", c.trim(), i + 1))
            .collect::<Vec<_>>()
            .join(", ");
        let sql = format!("UPDATE risks SET {sets} WHERE id = $26");
        self.bind(sqlx::query(&sql))
            .bind(id)
            .execute(tx.conn())
            .await?;
        Ok(())
    }
}

/// Replaces a risk's links when they changed.
async fn replace_links(
    tx: &mut WriteTx,
    id: i64,
    before: Option<&RiskRow>,
    assets: &[i64],
    control_ids: &[i64],
    control_codes: &[String],
) -> Result<()> {
    fn set<T: Ord + Clone>(items: &[T]) -> Vec<T> {
        let mut v = items.to_vec();
        v.sort();
        v.dedup();
        v
    }
    if before.is_none_or(|b| set(&b.assets) != set(assets)) {
        replace_link_set(tx, "risk_assets", "asset_id", id, &set(assets)).await?;
    }
    if before.is_none_or(|b| set(&b.controls) != set(control_codes)) {
        replace_link_set(tx, "risk_controls", "control_id", id, &set(control_ids)).await?;
    }
    Ok(())
}

/// Rewrites the rows of a link `table` (`risk_assets`, `risk_controls`: names from code, never
/// from input) of risk `id`.
async fn replace_link_set(
    tx: &mut WriteTx,
    table: &str,
    column: &str,
    id: i64,
    ids: &[i64],
) -> Result<()> {
    sqlx::query(&format!("DELETE FROM {table} WHERE risk_id = $1"))
        .bind(id)
        .execute(tx.conn())
        .await?;
    for other in ids {
        sqlx::query(&format!(
            "INSERT INTO {table} (risk_id, {column}) VALUES ($1, $2)"
        ))
        .bind(id)
        .bind(other)
        .execute(tx.conn())
        .await?;
    }
    Ok(())
}

/// The risk `code`, which must exist.
async fn existing(tx: &mut WriteTx, code: &str) -> Result<RiskRow> {
    Store::risk_in_tx(tx, code)
        .await?
        .ok_or(StoreError::Missing("risk"))
}

/// Reads the risk back after a change and audits `action` with what it was before.
async fn audited(
    tx: &mut WriteTx,
    action: &str,
    code: &str,
    before: Option<&RiskRow>,
) -> Result<RiskRow> {
    let after = existing(tx, code).await?;
    tx.audit(
        action,
        "risk",
        code,
        before.and_then(|b| serde_json::to_value(b).ok()),
        serde_json::to_value(&after).ok(),
    )
    .await?;
    Ok(after)
}

async fn insert_reason(
    tx: &mut WriteTx,
    risk_id: i64,
    kind: &str,
    reference: &str,
    reason: &str,
) -> Result<ReviewReasonRow> {
    let at = format_ts(OffsetDateTime::now_utc());
    let who = tx.actor().name.clone();
    let id: i64 = sqlx::query_scalar(
        "INSERT INTO risk_review_reasons (risk_id, kind, reference, reason, raised_by, raised_at) \
         VALUES ($1, $2, $3, $4, $5, $6) RETURNING id",
    )
    .bind(risk_id)
    .bind(kind)
    .bind(reference)
    .bind(reason)
    .bind(&who)
    .bind(&at)
    .fetch_one(tx.conn())
    .await?;
    Ok(ReviewReasonRow {
        id,
        kind: kind.to_owned(),
        reference: reference.to_owned(),
        reason: reason.to_owned(),
        raised_by: who,
        raised_at: at,
        cleared_by: None,
        cleared_at: None,
    })
}

async fn assets_by_id<'c, E>(conn: E, ids: &[i64]) -> Result<Vec<RiskAssetRow>>
where
    E: sqlx::Executor<'c, Database = sqlx::Any>,
{
    if ids.is_empty() {
        return Ok(Vec::new());
    }
    let list = ids.iter().map(i64::to_string).collect::<Vec<_>>().join(",");
    Ok(sqlx::query_as(&format!(
        "SELECT id, name, confidentiality, integrity, availability, personal_data, status \
         FROM assets WHERE id IN ({list})"
    ))
    .fetch_all(conn)
    .await?)
}

fn suggest(scale: RiskScale, assets: &[RiskAssetRow]) -> Option<u8> {
    let classes: Vec<(Class, bool)> = assets
        .iter()
        .filter(|a| a.status != "disposed")
        .map(|a| (a.class(), a.personal_data != 0))
        .collect();
    scale.suggest_impact(classes.iter().map(|(c, p)| (c, *p)))
}
