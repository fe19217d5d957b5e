//! The risk register's pages (issue 5; `DOMAIN.md` §5): the list with its filters and
//! exports, a risk with its assets, controls, acceptance and review, the form (with the
//! impact suggested from the linked assets' classes), and the heat map.
//!
//! Who may do what:
//! - Read a risk: `assets.read` or `risks.edit` on its unit (risks describe weaknesses, so
//!   staff who read only the basic asset register do not see them).
//! - Record, change, request acceptance, review: `risks.edit` on the unit (both units when a
//!   risk moves).
//! - Approve or reject an acceptance: `risk.accept` (the CISO), never the requester.

use crate::error::{AppError, AppResult};
use crate::session::Principal;
use crate::view::{query_string, Chrome, Ctx, FormErrors, Pager};
use askama::Template;
use axum::extract::{Path, Query, RawForm};
use axum::http::StatusCode;
use axum::response::Response;
use mamori_domain::authz::Target;
use mamori_domain::permission::Permission;
use mamori_domain::risk::register::{RiskDraft, RiskStatus};
use mamori_domain::risk::{RiskScale, Treatment};
use mamori_domain::wareki::{fold_fullwidth, parse_date, Lang};
use mamori_domain::UnitId;
use mamori_store::{
    ControlFilter, ControlRow, GroupRow, HeatMap, ReviewReasonRow, RiskAssetRow, RiskFilter,
    RiskProblem, RiskRow, RiskRules, RiskSort, Store, ThreatFilter, ThreatRow, UnitRow,
};
use serde::Deserialize;

/// Rows per page.
const PER_PAGE: i64 = 50;

/// The permissions that let one read a unit's risks.
pub(crate) const RISK_READ: [Permission; 2] = [Permission::AssetsRead, Permission::RisksEdit];

/// The units whose risks the reader may see (`None`: every unit).
pub(crate) async fn readable_units(ctx: &Ctx, p: &Principal) -> AppResult<Option<Vec<UnitId>>> {
    super::units_with_any(&ctx.state.store, p, &RISK_READ).await
}

async fn can_on_unit(ctx: &Ctx, perms: &[Permission], unit: UnitId) -> AppResult<bool> {
    let p = ctx.principal()?;
    let lineage = ctx.state.store.unit_lineage(unit).await?;
    let target = Target::Unit { lineage: &lineage };
    Ok(perms.iter().any(|perm| p.can(*perm, &target)))
}

/// The risk `code` if the reader may see it (404 when unknown, 403 when not theirs).
pub(crate) async fn readable_risk(ctx: &Ctx, code: &str) -> AppResult<RiskRow> {
    let risk = ctx
        .state
        .store
        .risk_by_code(code)
        .await?
        .ok_or(AppError::NotFound)?;
    if can_on_unit(ctx, &RISK_READ, risk.unit_id).await? {
        Ok(risk)
    } else {
        Err(AppError::Forbidden)
    }
}

/// The risk `code` if the reader may change it.
pub(crate) async fn editable_risk(ctx: &Ctx, code: &str) -> AppResult<RiskRow> {
    let risk = readable_risk(ctx, code).await?;
    if can_on_unit(ctx, &[Permission::RisksEdit], risk.unit_id).await? {
        Ok(risk)
    } else {
        Err(AppError::Forbidden)
    }
}

/// 403 unless the writer may record risks for the unit written in the draft (an unknown
/// unit is left to the store, which names the field).
pub(crate) async fn require_edit_unit(ctx: &Ctx, written: &str) -> AppResult<()> {
    let units = ctx.state.store.units().await?;
    let found = units
        .iter()
        .find(|u| u.code == written)
        .or_else(|| units.iter().find(|u| u.name == written));
    match found {
        Some(u) if !can_on_unit(ctx, &[Permission::RisksEdit], u.id).await? => {
            Err(AppError::Forbidden)
        }
        _ => Ok(()),
    }
}

/// The rules in force now.
pub(crate) fn rules(ctx: &Ctx) -> RiskRules {
    RiskRules::new(&ctx.settings, ctx.today())
}

/// Store problems as field errors (the value at fault in brackets).
pub(crate) fn form_errors(lang: Lang, problems: &[RiskProblem]) -> FormErrors {
    let mut errors = FormErrors::default();
    for p in problems {
        let message = crate::i18n::tr(lang, p.message_id);
        match &p.detail {
            Some(d) => errors.add_text(p.field, format!("{message}（{d}）")),
            None => errors.add_text(p.field, message),
        }
    }
    errors
}

/// The label of a rating on the organisation's scale (`2 ときどき`).
pub(crate) fn rating_label(lang: Lang, scale: RiskScale, impact: bool, value: i64) -> String {
    let axis = if impact { "impact" } else { "likelihood" };
    let id = format!("risk-{axis}-{}-{value}", scale.max());
    let label = crate::i18n::tr(lang, &id);
    if label == id {
        value.to_string()
    } else {
        format!("{value} {label}")
    }
}

/// Fluent id of a level.
fn level_id(code: &str) -> &'static str {
    match code {
        "low" => "risk-level-low",
        "medium" => "risk-level-medium",
        _ => "risk-level-high",
    }
}

/// Fluent id of a treatment.
fn treatment_id(code: &str) -> &'static str {
    match code {
        "avoid" => "risk-treatment-avoid",
        "transfer" => "risk-treatment-transfer",
        "accept" => "risk-treatment-accept",
        _ => "risk-treatment-reduce",
    }
}

/// Fluent id of an acceptance state.
fn acceptance_id(code: &str) -> &'static str {
    match code {
        "pending" => "risk-acceptance-pending",
        "approved" => "risk-acceptance-approved",
        _ => "risk-acceptance-rejected",
    }
}

/// Labels the templates use.
pub(crate) struct RiskNames {
    lang: Lang,
    scale: RiskScale,
    categories: Vec<GroupRow>,
}

impl RiskNames {
    async fn load(ctx: &Ctx) -> AppResult<RiskNames> {
        Ok(RiskNames {
            lang: ctx.lang,
            scale: ctx.settings.risk_scale,
            categories: ctx.state.store.threat_categories().await?,
        })
    }

    fn level(&self, code: &str) -> String {
        crate::i18n::tr(self.lang, level_id(code))
    }

    fn treatment(&self, code: &str) -> String {
        crate::i18n::tr(self.lang, treatment_id(code))
    }

    fn acceptance(&self, code: &str) -> String {
        crate::i18n::tr(self.lang, acceptance_id(code))
    }

    fn likelihood(&self, v: &i64) -> String {
        rating_label(self.lang, self.scale, false, *v)
    }

    fn impact(&self, v: &i64) -> String {
        rating_label(self.lang, self.scale, true, *v)
    }

    fn category(&self, code: &str) -> String {
        self.categories
            .iter()
            .find(|g| g.code == code)
            .map(|g| {
                let name = if self.lang == Lang::En {
                    &g.name_en
                } else {
                    &g.name_ja
                };
                format!("{} {name}", g.code)
            })
            .unwrap_or_else(|| code.to_owned())
    }

    /// 1…scale maximum.
    fn ratings(&self) -> Vec<i64> {
        (1..=i64::from(self.scale.max())).collect()
    }

    fn levels(&self) -> &'static [&'static str] {
        &["low", "medium", "high"]
    }

    fn treatments(&self) -> &'static [&'static str] {
        &["reduce", "avoid", "transfer", "accept"]
    }
}

// ---- the list ----

/// Risk list filters (the heat map links here with a cell).
#[derive(Debug, Clone, Default, Deserialize)]
pub struct RiskQuery {
    #[serde(default)]
    pub(crate) unit: String,
    #[serde(default)]
    pub(crate) category: String,
    #[serde(default)]
    pub(crate) threat: String,
    #[serde(default)]
    pub(crate) level: String,
    #[serde(default)]
    pub(crate) residual_level: String,
    #[serde(default)]
    pub(crate) treatment: String,
    #[serde(default)]
    pub(crate) acceptance: String,
    #[serde(default)]
    pub(crate) status: String,
    #[serde(default)]
    pub(crate) due: String,
    #[serde(default)]
    pub(crate) q: String,
    #[serde(default)]
    pub(crate) control: String,
    #[serde(default)]
    pub(crate) asset: String,
    #[serde(default)]
    pub(crate) l: String,
    #[serde(default)]
    pub(crate) i: String,
    #[serde(default)]
    pub(crate) rl: String,
    #[serde(default)]
    pub(crate) ri: String,
    #[serde(default)]
    pub(crate) sort: String,
    pub(crate) page: Option<i64>,
}

impl RiskQuery {
    fn pairs(&self) -> Vec<(&'static str, &str)> {
        vec![
            ("unit", &self.unit),
            ("category", &self.category),
            ("threat", &self.threat),
            ("level", &self.level),
            ("residual_level", &self.residual_level),
            ("treatment", &self.treatment),
            ("acceptance", &self.acceptance),
            ("status", &self.status),
            ("due", &self.due),
            ("q", &self.q),
            ("control", &self.control),
            ("asset", &self.asset),
            ("l", &self.l),
            ("i", &self.i),
            ("rl", &self.rl),
            ("ri", &self.ri),
            ("sort", &self.sort),
        ]
    }

    /// The query string of these filters (without the page).
    pub(crate) fn query(&self) -> String {
        query_string(&self.pairs())
    }

    /// The store filter for a reader who sees `visible` units.
    pub(crate) async fn filter(
        &self,
        ctx: &Ctx,
        visible: Option<Vec<UnitId>>,
    ) -> AppResult<RiskFilter> {
        let some = |s: &str| Some(s.trim().to_owned()).filter(|s| !s.is_empty());
        let units = match some(&self.unit) {
            Some(code) => {
                let unit = ctx.state.store.unit_by_code(&code).await?;
                Some(match unit {
                    Some(u) => ctx.state.store.unit_subtrees(&[u.id]).await?,
                    None => Vec::new(),
                })
            }
            None => None,
        };
        let number = |s: &str| fold_fullwidth(s).trim().parse::<i64>().ok();
        let pair = |a: &str, b: &str| number(a).zip(number(b));
        Ok(RiskFilter {
            visible_units: visible,
            units,
            threat: some(&self.threat),
            category: some(&self.category),
            level: some(&self.level),
            residual_level: some(&self.residual_level),
            treatment: some(&self.treatment),
            acceptance: some(&self.acceptance),
            status: some(&self.status),
            due_on: (!self.due.is_empty()).then(|| ctx.today()),
            q: some(&self.q),
            control: some(&self.control),
            asset: number(&self.asset),
            cell: pair(&self.l, &self.i),
            residual_cell: pair(&self.rl, &self.ri),
        })
    }

    fn sort(&self) -> RiskSort {
        RiskSort::parse(&self.sort).unwrap_or_default()
    }
}

#[derive(Template)]
#[template(path = "risks.html")]
struct RisksPage {
    c: Chrome,
    n: RiskNames,
    rows: Vec<RiskRow>,
    f: RiskQuery,
    query: String,
    pager: Pager,
    units: Vec<UnitRow>,
    can_edit: bool,
    today: time::Date,
}

impl RisksPage {
    fn due(&self, r: &RiskRow) -> bool {
        r.due_for_review(self.today)
    }

    /// Filters that have no control of their own on the form (set by links), kept hidden.
    fn hidden_filters(&self) -> Vec<(&'static str, String)> {
        let f = &self.f;
        [
            ("control", &f.control),
            ("asset", &f.asset),
            ("threat", &f.threat),
            ("l", &f.l),
            ("i", &f.i),
            ("rl", &f.rl),
            ("ri", &f.ri),
        ]
        .into_iter()
        .filter(|(_, v)| !v.is_empty())
        .map(|(k, v)| (k, v.clone()))
        .collect()
    }
}

/// The in-scope units among `readable` (`None`: all), for pickers.
pub(crate) async fn unit_choices(
    ctx: &Ctx,
    readable: Option<&[UnitId]>,
) -> AppResult<Vec<UnitRow>> {
    Ok(ctx
        .state
        .store
        .units()
        .await?
        .into_iter()
        .filter(|u| readable.is_none_or(|r| r.contains(&u.id)))
        .collect())
}

/// GET `/risks`.
pub async fn list(ctx: Ctx, Query(f): Query<RiskQuery>) -> AppResult<Response> {
    let p = ctx.principal()?;
    let visible = readable_units(&ctx, p).await?;
    let units = unit_choices(&ctx, visible.as_deref()).await?;
    let filter = f.filter(&ctx, visible).await?;
    let query = f.query();
    let mut pager = Pager::new(f.page, PER_PAGE, query.clone());
    let (rows, total) = ctx
        .state
        .store
        .risks_page(&filter, f.sort(), pager.per_page, pager.offset())
        .await?;
    pager.total = total;
    Ok(ctx.page(&RisksPage {
        c: ctx.chrome(),
        n: RiskNames::load(&ctx).await?,
        rows,
        query,
        f,
        pager,
        units,
        can_edit: p.can(Permission::RisksEdit, &Target::Anywhere),
        today: ctx.today(),
    }))
}

async fn records(
    ctx: &Ctx,
    f: &RiskQuery,
) -> AppResult<Vec<mamori_domain::interchange::risks::RiskRecord>> {
    let p = ctx.principal()?;
    let visible = readable_units(ctx, p).await?;
    let filter = f.filter(ctx, visible).await?;
    let mut out = Vec::new();
    ctx.state
        .store
        .risks_for_each(&filter, |r| {
            out.push(r.to_record());
            Ok(())
        })
        .await?;
    Ok(out)
}

/// GET `/risks.csv`: the risks the list shows (every page), in the import format.
pub async fn list_csv(ctx: Ctx, Query(f): Query<RiskQuery>) -> AppResult<Response> {
    use mamori_domain::interchange::risks::Risks;
    let records = records(&ctx, &f).await?;
    let csv = mamori_domain::interchange::kind::write_csv::<Risks>(&records, true)
        .map_err(AppError::Internal)?;
    Ok(crate::view::csv_download("risks.csv", csv))
}

/// GET `/risks.xlsx`.
pub async fn list_xlsx(ctx: Ctx, Query(f): Query<RiskQuery>) -> AppResult<Response> {
    use mamori_domain::interchange::risks::Risks;
    let records = records(&ctx, &f).await?;
    crate::view::xlsx_download::<Risks>("risks.xlsx", records).await
}

// ---- one risk ----

/// A reason for review as the page shows it.
struct ReasonLine {
    text: String,
    raised_by: String,
    raised_at: String,
}

fn reason_text(lang: Lang, r: &ReviewReasonRow, assets: &[RiskAssetRow]) -> String {
    match r.kind.as_str() {
        "asset" => {
            let name = assets
                .iter()
                .find(|a| a.id.to_string() == r.reference)
                .map(|a| format!("{} {}", a.id, a.name))
                .unwrap_or_else(|| r.reference.clone());
            crate::i18n::tr_args(
                lang,
                "risk-reason-asset-class",
                &[("asset", name), ("change", r.reason.clone())],
            )
        }
        _ => crate::i18n::tr_args(
            lang,
            "risk-reason-linked",
            &[
                ("kind", r.kind.clone()),
                ("reference", r.reference.clone()),
                ("reason", r.reason.clone()),
            ],
        ),
    }
}

#[derive(Template)]
#[template(path = "risk.html")]
struct RiskPage {
    c: Chrome,
    n: RiskNames,
    r: RiskRow,
    assets: Vec<RiskAssetRow>,
    controls: Vec<ControlRow>,
    suggested: Option<i64>,
    reasons: Vec<ReasonLine>,
    due: bool,
    can_edit: bool,
    can_decide: bool,
    needs_approval: bool,
    history: Vec<(String, String, String)>,
    errors: FormErrors,
}

async fn risk_page(ctx: &Ctx, r: RiskRow, errors: FormErrors) -> AppResult<RiskPage> {
    let store = &ctx.state.store;
    let p = ctx.principal()?;
    let assets = store.risk_assets(r.id).await?;
    let suggested = store
        .suggested_impact(ctx.settings.risk_scale, &r.assets)
        .await?
        .map(i64::from);
    let reasons = store
        .risk_review_reasons(r.id, true)
        .await?
        .iter()
        .map(|x| ReasonLine {
            text: reason_text(ctx.lang, x, &assets),
            raised_by: x.raised_by.clone(),
            raised_at: x.raised_at.clone(),
        })
        .collect();
    let mut controls = Vec::new();
    for code in &r.controls {
        if let Some(c) = store.control_by_code(code).await? {
            controls.push(c);
        }
    }
    let (entries, _) = store
        .audit_page(
            &mamori_store::AuditFilter {
                entity_type: Some("risk".into()),
                entity_id: Some(r.code.clone()),
                ..Default::default()
            },
            30,
            0,
        )
        .await?;
    let history = entries
        .into_iter()
        .map(|e| {
            let what = match e.record.action.as_str() {
                "risk.create" => "risk-history-create",
                "risk.update" => "risk-history-update",
                "risk.acceptance_request" => "risk-history-request",
                "risk.acceptance_approve" => "risk-history-approve",
                "risk.acceptance_reject" => "risk-history-reject",
                "risk.review" => "risk-history-review",
                _ => "risk-history-review-required",
            };
            (e.record.at, e.record.actor, crate::i18n::tr(ctx.lang, what))
        })
        .collect();
    let can_edit = can_on_unit(ctx, &[Permission::RisksEdit], r.unit_id).await?;
    let needs_approval = mamori_domain::risk::acceptance_needs_approval(
        r.residual_level(),
        ctx.settings.risk_acceptance_threshold,
    );
    Ok(RiskPage {
        c: ctx.chrome(),
        n: RiskNames::load(ctx).await?,
        due: r.due_for_review(ctx.today()),
        can_decide: p.can(Permission::RiskAccept, &Target::Organisation)
            && r.acceptance.as_deref() == Some("pending")
            && r.acceptance_requested_by.as_deref() != Some(p.user.username.as_str()),
        can_edit,
        needs_approval,
        assets,
        controls,
        suggested,
        reasons,
        history,
        errors,
        r,
    })
}

/// GET `/risks/{code}`.
pub async fn show(ctx: Ctx, Path(code): Path<String>) -> AppResult<Response> {
    let r = readable_risk(&ctx, &code).await?;
    let page = risk_page(&ctx, r, FormErrors::default()).await?;
    Ok(ctx.page(&page))
}

// ---- the form ----

/// The risk form, as posted (`control` repeats).
#[derive(Debug, Clone, Default)]
pub struct RiskForm {
    pub(crate) code: String,
    pub(crate) title: String,
    pub(crate) unit: String,
    pub(crate) owner: String,
    pub(crate) threat: String,
    pub(crate) weakness: String,
    pub(crate) asset_group: String,
    pub(crate) assets: String,
    pub(crate) controls: Vec<String>,
    pub(crate) likelihood: String,
    pub(crate) impact: String,
    pub(crate) impact_reason: String,
    pub(crate) treatment: String,
    pub(crate) treatment_note: String,
    pub(crate) residual_likelihood: String,
    pub(crate) residual_impact: String,
    pub(crate) review_on: String,
    pub(crate) status: String,
    pub(crate) action: String,
}

impl RiskForm {
    fn from_pairs(pairs: Vec<(String, String)>) -> RiskForm {
        let mut f = RiskForm::default();
        for (k, v) in pairs {
            match k.as_str() {
                "code" => f.code = v,
                "title" => f.title = v,
                "unit" => f.unit = v,
                "owner" => f.owner = v,
                "threat" => f.threat = v,
                "weakness" => f.weakness = v,
                "asset_group" => f.asset_group = v,
                "assets" => f.assets = v,
                "control" => f.controls.push(v),
                "likelihood" => f.likelihood = v,
                "impact" => f.impact = v,
                "impact_reason" => f.impact_reason = v,
                "treatment" => f.treatment = v,
                "treatment_note" => f.treatment_note = v,
                "residual_likelihood" => f.residual_likelihood = v,
                "residual_impact" => f.residual_impact = v,
                "review_on" => f.review_on = v,
                "status" => f.status = v,
                "action" => f.action = v,
                _ => {}
            }
        }
        f
    }

    fn from_risk(r: &RiskRow) -> RiskForm {
        RiskForm {
            code: r.code.clone(),
            title: r.title.clone(),
            unit: r.unit.clone(),
            owner: r.owner.clone().unwrap_or_default(),
            threat: r.threat.clone(),
            weakness: r.weakness.clone(),
            asset_group: r.asset_group.clone(),
            assets: r
                .assets
                .iter()
                .map(i64::to_string)
                .collect::<Vec<_>>()
                .join("; "),
            controls: r.controls.clone(),
            likelihood: r.likelihood.to_string(),
            impact: r.impact.to_string(),
            impact_reason: r.impact_reason.clone(),
            treatment: r.treatment.clone(),
            treatment_note: r.treatment_note.clone(),
            residual_likelihood: r.residual_likelihood.to_string(),
            residual_impact: r.residual_impact.to_string(),
            review_on: r.review_on.clone().unwrap_or_default(),
            status: r.status.clone(),
            action: String::new(),
        }
    }

    /// The asset ids written (`12; 40`, full-width digits folded); the words that are not ids.
    fn asset_ids(&self) -> (Vec<i64>, Vec<String>) {
        let mut ids = Vec::new();
        let mut bad = Vec::new();
        for w in mamori_domain::catalogue::split_list(&fold_fullwidth(&self.assets))
            .into_iter()
            .flat_map(|w| w.split_whitespace().map(str::to_owned).collect::<Vec<_>>())
        {
            match w.trim_start_matches('#').parse::<i64>() {
                Ok(id) if id > 0 => {
                    if !ids.contains(&id) {
                        ids.push(id);
                    }
                }
                _ => bad.push(w),
            }
        }
        (ids, bad)
    }

    /// The draft and the problems found while reading the form itself.
    fn draft(&self, lang: Lang) -> (RiskDraft, FormErrors) {
        let mut errors = FormErrors::default();
        let (assets, bad) = self.asset_ids();
        for w in bad {
            errors.add_text(
                "assets",
                format!("{}（{w}）", crate::i18n::tr(lang, "risk-error-asset-id")),
            );
        }
        let mut rating = |field: &str, text: &str, required: bool| -> Option<i64> {
            let t = fold_fullwidth(text);
            let t = t.trim();
            if t.is_empty() {
                if required {
                    errors.add(lang, field, "error-required");
                }
                return None;
            }
            match t.parse::<i64>() {
                Ok(v) => Some(v),
                Err(_) => {
                    errors.add(lang, field, "error-number");
                    None
                }
            }
        };
        let likelihood = rating("likelihood", &self.likelihood, true).unwrap_or(0);
        let impact = rating("impact", &self.impact, true).unwrap_or(0);
        let residual_likelihood = rating("residual_likelihood", &self.residual_likelihood, false);
        let residual_impact = rating("residual_impact", &self.residual_impact, false);
        let review_on = match fold_fullwidth(&self.review_on).trim() {
            "" => None,
            t => match parse_date(t) {
                Ok(d) => Some(d),
                Err(e) => {
                    errors.add(lang, "review_on", e.message_id());
                    None
                }
            },
        };
        let treatment = match self.treatment.trim() {
            "" => None,
            t => {
                let found = Treatment::parse(t);
                if found.is_none() {
                    errors.add(lang, "treatment", "risk-error-treatment");
                }
                found
            }
        };
        let draft = RiskDraft {
            code: fold_fullwidth(&self.code).trim().to_owned(),
            title: self.title.trim().to_owned(),
            unit: self.unit.trim().to_owned(),
            owner: fold_fullwidth(&self.owner).trim().to_owned(),
            threat: self.threat.trim().to_owned(),
            weakness: self.weakness.clone(),
            asset_group: self.asset_group.clone(),
            assets,
            controls: self.controls.clone(),
            likelihood,
            impact,
            impact_reason: self.impact_reason.clone(),
            treatment,
            treatment_note: self.treatment_note.clone(),
            residual_likelihood,
            residual_impact,
            review_on,
            status: RiskStatus::parse(&self.status),
        };
        (draft, errors)
    }

    fn has_control(&self, code: &str) -> bool {
        self.controls.iter().any(|c| c == code)
    }
}

#[derive(Template)]
#[template(path = "risk_form.html")]
struct RiskFormPage {
    c: Chrome,
    n: RiskNames,
    existing: Option<RiskRow>,
    v: RiskForm,
    errors: FormErrors,
    units: Vec<UnitRow>,
    threats: Vec<ThreatRow>,
    controls: Vec<ControlRow>,
    areas: Vec<GroupRow>,
    linked: Vec<RiskAssetRow>,
    suggested: Option<i64>,
}

impl RiskFormPage {
    fn area_name(&self, code: &str) -> String {
        self.areas
            .iter()
            .find(|a| a.code == code)
            .map(|a| {
                if self.c.is_en() {
                    format!("{} {}", a.code, a.name_en)
                } else {
                    format!("{} {}", a.code, a.name_ja)
                }
            })
            .unwrap_or_else(|| code.to_owned())
    }

    fn is_selected_rating(&self, field: &str, v: &i64) -> bool {
        let given = match field {
            "likelihood" => &self.v.likelihood,
            "impact" => &self.v.impact,
            "residual_likelihood" => &self.v.residual_likelihood,
            _ => &self.v.residual_impact,
        };
        fold_fullwidth(given).trim() == v.to_string()
    }
}

async fn form_page(
    ctx: &Ctx,
    existing: Option<RiskRow>,
    v: RiskForm,
    errors: FormErrors,
) -> AppResult<RiskFormPage> {
    let store = &ctx.state.store;
    let p = ctx.principal()?;
    let editable = super::units_with_any(store, p, &[Permission::RisksEdit]).await?;
    let units = unit_choices(ctx, editable.as_deref()).await?;
    let threats = store
        .threats_page(&ThreatFilter::default(), 1000, 0)
        .await?
        .0;
    let controls = store
        .controls_page(&ControlFilter::default(), 1000, 0)
        .await?
        .0;
    let (ids, _) = v.asset_ids();
    let linked = store.assets_for_risk(&ids).await?;
    let suggested = store
        .suggested_impact(ctx.settings.risk_scale, &ids)
        .await?
        .map(i64::from);
    Ok(RiskFormPage {
        c: ctx.chrome(),
        n: RiskNames::load(ctx).await?,
        existing,
        v,
        errors,
        units,
        threats,
        controls,
        areas: store.measure_areas().await?,
        linked,
        suggested,
    })
}

/// Query of the new-risk form: start from an asset (the asset page links here).
#[derive(Debug, Default, Deserialize)]
pub struct NewQuery {
    #[serde(default)]
    asset: String,
}

/// GET `/risks/new`.
pub async fn new_form(ctx: Ctx, Query(q): Query<NewQuery>) -> AppResult<Response> {
    let mut v = RiskForm {
        treatment: Treatment::Reduce.code().into(),
        ..RiskForm::default()
    };
    if let Ok(id) = q.asset.trim().parse::<i64>() {
        v.assets = id.to_string();
        if let Some(a) = ctx.state.store.asset(mamori_domain::AssetId(id)).await? {
            v.unit = a.owner_unit.clone();
        }
        // The suggestion is where a person expects it: already in the impact.
        if let Some(s) = ctx
            .state
            .store
            .suggested_impact(ctx.settings.risk_scale, &[id])
            .await?
        {
            v.impact = s.to_string();
        }
    }
    let page = form_page(&ctx, None, v, FormErrors::default()).await?;
    Ok(ctx.page(&page))
}

/// GET `/risks/{code}/edit`.
pub async fn edit_form(ctx: Ctx, Path(code): Path<String>) -> AppResult<Response> {
    let r = editable_risk(&ctx, &code).await?;
    let v = RiskForm::from_risk(&r);
    let page = form_page(&ctx, Some(r), v, FormErrors::default()).await?;
    Ok(ctx.page(&page))
}

fn pairs(body: &[u8]) -> AppResult<Vec<(String, String)>> {
    serde_urlencoded::from_bytes(body).map_err(|_| AppError::BadRequest("error-bad-request"))
}

async fn save(ctx: &Ctx, existing: Option<RiskRow>, v: RiskForm) -> AppResult<Response> {
    let (draft, mut errors) = v.draft(ctx.lang);
    // 「推奨を表示」: show the suggestion for the assets written, save nothing.
    if v.action == "suggest" {
        let mut v = v;
        let (ids, _) = v.asset_ids();
        if let Some(s) = ctx
            .state
            .store
            .suggested_impact(ctx.settings.risk_scale, &ids)
            .await?
        {
            v.impact = s.to_string();
        }
        let page = form_page(ctx, existing, v, errors).await?;
        return Ok(ctx.page(&page));
    }
    require_edit_unit(ctx, &draft.unit).await?;
    if errors.is_empty() {
        let p = ctx.principal()?;
        let mut tx = ctx.state.store.begin(p.actor(&ctx.ip)).await?;
        let outcome = match &existing {
            Some(r) => Store::update_risk(&mut tx, &r.code, &draft, &rules(ctx)).await?,
            None => Store::create_risk(&mut tx, &draft, &rules(ctx)).await?,
        };
        match outcome {
            Ok(saved) => {
                ctx.state.commit(tx).await?;
                return Ok(ctx.redirect_flash(&format!("/risks/{}", saved.code), "flash-saved"));
            }
            Err(problems) => errors = form_errors(ctx.lang, &problems),
        }
    }
    let page = form_page(ctx, existing, v, errors).await?;
    Ok(ctx.page_with_status(StatusCode::UNPROCESSABLE_ENTITY, &page))
}

/// POST `/risks`.
pub async fn create(ctx: Ctx, RawForm(body): RawForm) -> AppResult<Response> {
    save(&ctx, None, RiskForm::from_pairs(pairs(&body)?)).await
}

/// POST `/risks/{code}`.
pub async fn update(
    ctx: Ctx,
    Path(code): Path<String>,
    RawForm(body): RawForm,
) -> AppResult<Response> {
    let r = editable_risk(&ctx, &code).await?;
    save(&ctx, Some(r), RiskForm::from_pairs(pairs(&body)?)).await
}

// ---- acceptance and review ----

/// A note posted with a request or a decision.
#[derive(Debug, Default, Deserialize)]
pub struct NoteForm {
    #[serde(default)]
    note: String,
    #[serde(default)]
    decision: String,
    #[serde(default)]
    next_review_on: String,
}

async fn refused(ctx: &Ctx, code: &str, field: &str, message_id: &str) -> AppResult<Response> {
    let r = readable_risk(ctx, code).await?;
    let page = risk_page(ctx, r, FormErrors::one(ctx.lang, field, message_id)).await?;
    Ok(ctx.page_with_status(StatusCode::CONFLICT, &page))
}

/// POST `/risks/{code}/acceptance`: request acceptance of the residual risk.
pub async fn request_acceptance(
    ctx: Ctx,
    Path(code): Path<String>,
    axum::Form(f): axum::Form<NoteForm>,
) -> AppResult<Response> {
    let r = editable_risk(&ctx, &code).await?;
    let p = ctx.principal()?;
    let mut tx = ctx.state.store.begin(p.actor(&ctx.ip)).await?;
    match Store::request_risk_acceptance(&mut tx, &r.code, f.note.trim(), &rules(&ctx)).await? {
        Ok(_) => {
            ctx.state.commit(tx).await?;
            Ok(ctx.redirect_flash(&format!("/risks/{}", r.code), "flash-saved"))
        }
        Err(problems) => {
            drop(tx);
            let page = risk_page(&ctx, r, form_errors(ctx.lang, &problems)).await?;
            Ok(ctx.page_with_status(StatusCode::UNPROCESSABLE_ENTITY, &page))
        }
    }
}

/// POST `/risks/{code}/acceptance/decision`: the CISO approves or rejects.
pub async fn decide_acceptance(
    ctx: Ctx,
    Path(code): Path<String>,
    axum::Form(f): axum::Form<NoteForm>,
) -> AppResult<Response> {
    let p = ctx.principal()?;
    p.require(Permission::RiskAccept, &Target::Organisation)?;
    let r = readable_risk(&ctx, &code).await?;
    let approve = match f.decision.as_str() {
        "approve" => true,
        "reject" => false,
        _ => return Err(AppError::BadRequest("error-bad-request")),
    };
    let mut tx = ctx.state.store.begin(p.actor(&ctx.ip)).await?;
    match Store::decide_risk_acceptance(&mut tx, &r.code, approve, f.note.trim()).await? {
        Ok(_) => {
            ctx.state.commit(tx).await?;
            Ok(ctx.redirect_flash(&format!("/risks/{}", r.code), "flash-saved"))
        }
        Err(message_id) => {
            drop(tx);
            refused(&ctx, &code, "decision", message_id).await
        }
    }
}

/// POST `/risks/{code}/review`: record a review and the next review date.
pub async fn review(
    ctx: Ctx,
    Path(code): Path<String>,
    axum::Form(f): axum::Form<NoteForm>,
) -> AppResult<Response> {
    let r = editable_risk(&ctx, &code).await?;
    let next = match parse_date(fold_fullwidth(&f.next_review_on).trim()) {
        Ok(d) => d,
        Err(e) => return refused(&ctx, &code, "next_review_on", e.message_id()).await,
    };
    let p = ctx.principal()?;
    let mut tx = ctx.state.store.begin(p.actor(&ctx.ip)).await?;
    match Store::review_risk(&mut tx, &r.code, next, ctx.today()).await? {
        Ok(_) => {
            ctx.state.commit(tx).await?;
            Ok(ctx.redirect_flash(&format!("/risks/{}", r.code), "flash-saved"))
        }
        Err(message_id) => {
            drop(tx);
            refused(&ctx, &code, "next_review_on", message_id).await
        }
    }
}

// ---- the heat map ----

/// One cell of a drawn matrix.
pub(crate) struct HeatCell {
    x: i64,
    y: i64,
    count: i64,
    level: &'static str,
    href: String,
    label: String,
}

/// One drawn matrix (inherent or residual).
pub(crate) struct HeatGrid {
    id: &'static str,
    title: String,
    cells: Vec<HeatCell>,
    /// Axis ticks: (position, label).
    x_ticks: Vec<(i64, String)>,
    y_ticks: Vec<(i64, String)>,
    size: i64,
    total: i64,
}

/// Cell size and the margin for the axis labels, in SVG units.
const CELL: i64 = 72;
const MARGIN: i64 = 120;

impl HeatGrid {
    fn width(&self) -> i64 {
        MARGIN + self.size * CELL + 8
    }

    fn height(&self) -> i64 {
        self.size * CELL + 56
    }

    fn cell_size(&self) -> i64 {
        CELL - 4
    }
}

fn grid(
    ctx: &Ctx,
    id: &'static str,
    counts: &[Vec<i64>],
    scale: RiskScale,
    residual: bool,
    base_query: &str,
) -> HeatGrid {
    let n = i64::from(scale.max());
    let lang = ctx.lang;
    let mut cells = Vec::new();
    for l in 1..=n {
        for i in 1..=n {
            let count = counts
                .get((l - 1) as usize)
                .and_then(|row| row.get((i - 1) as usize))
                .copied()
                .unwrap_or(0);
            let level = scale.level(l as u8, i as u8);
            let (lk, ik) = if residual { ("rl", "ri") } else { ("l", "i") };
            let mut href = format!("/risks?{lk}={l}&{ik}={i}");
            if !base_query.is_empty() {
                href.push('&');
                href.push_str(base_query);
            }
            let label = crate::i18n::tr_args(
                lang,
                "risk-heatmap-cell",
                &[
                    ("likelihood", rating_label(lang, scale, false, l)),
                    ("impact", rating_label(lang, scale, true, i)),
                    ("count", count.to_string()),
                    ("level", crate::i18n::tr(lang, level_id(level.code()))),
                ],
            );
            cells.push(HeatCell {
                // Impact grows to the right, likelihood upwards.
                x: MARGIN + (i - 1) * CELL,
                y: (n - l) * CELL,
                count,
                level: level.code(),
                href,
                label,
            });
        }
    }
    let total = counts.iter().flatten().sum();
    HeatGrid {
        id,
        title: crate::i18n::tr(
            lang,
            if residual {
                "risk-heatmap-residual"
            } else {
                "risk-heatmap-inherent"
            },
        ),
        cells,
        x_ticks: (1..=n)
            .map(|i| {
                (
                    MARGIN + (i - 1) * CELL + CELL / 2,
                    rating_label(lang, scale, true, i),
                )
            })
            .collect(),
        y_ticks: (1..=n)
            .map(|l| {
                (
                    (n - l) * CELL + CELL / 2,
                    rating_label(lang, scale, false, l),
                )
            })
            .collect(),
        size: n,
        total,
    }
}

#[derive(Template)]
#[template(path = "risk_heatmap.html")]
struct HeatMapPage {
    c: Chrome,
    n: RiskNames,
    grids: Vec<HeatGrid>,
    f: RiskQuery,
    units: Vec<UnitRow>,
}

/// GET `/risks/heatmap`: inherent beside residual, over the risks the reader may see (open
/// risks; unit and category filters), each cell a link to its risks.
pub async fn heat_map(ctx: Ctx, Query(f): Query<RiskQuery>) -> AppResult<Response> {
    let p = ctx.principal()?;
    let visible = readable_units(&ctx, p).await?;
    let units = unit_choices(&ctx, visible.as_deref()).await?;
    let only = RiskQuery {
        unit: f.unit.clone(),
        category: f.category.clone(),
        ..RiskQuery::default()
    };
    let filter = only.filter(&ctx, visible).await?;
    let scale = ctx.settings.risk_scale;
    let map: HeatMap = ctx.state.store.risk_heat_map(&filter, scale).await?;
    let base = only.query();
    let grids = vec![
        grid(&ctx, "inherent", &map.inherent, scale, false, &base),
        grid(&ctx, "residual", &map.residual, scale, true, &base),
    ];
    Ok(ctx.page(&HeatMapPage {
        c: ctx.chrome(),
        n: RiskNames::load(&ctx).await?,
        grids,
        f: only,
        units,
    }))
}
