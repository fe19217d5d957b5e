//! Risk register endpoints of the JSON API (`/api/v1/risks`): the list with the page's
//! filters, one risk with its suggested impact and open review reasons, create and replace,
//! acceptance request and decision, review, raising a reason for review (the mechanism
//! incidents and audit findings use), and the heat map. They join the OpenAPI document through
//! [`RiskDoc`]. Authorization is the pages' ([`crate::pages::risks`]).

use crate::api::ErrorBody;
use crate::error::{AppError, AppResult};
use crate::pages::risks::{editable_risk, readable_risk, readable_units, require_edit_unit, rules};
use crate::view::Ctx;
use axum::extract::{Path, Query};
use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use axum::Json;
use mamori_domain::authz::Target;
use mamori_domain::permission::Permission;
use mamori_domain::risk::register::{RiskDraft, RiskStatus};
use mamori_domain::risk::Treatment;
use mamori_domain::wareki::{fold_fullwidth, parse_date};
use mamori_store::{HeatMap, ReviewReasonRow, RiskProblem, RiskRow, Store};
use serde::{Deserialize, Serialize};
use utoipa::{IntoParams, OpenApi, ToSchema};

/// The risk register part of the OpenAPI document.
#[derive(OpenApi)]
#[openapi(
    paths(
        list,
        create,
        get,
        update,
        request_acceptance,
        decide_acceptance,
        review,
        raise_review,
        heat_map
    ),
    components(schemas(
        RiskList,
        RiskDetail,
        RiskWrite,
        NoteBody,
        DecisionBody,
        ReviewBody,
        ReasonBody,
        RiskRow,
        ReviewReasonRow,
        HeatMap
    ))
)]
struct RiskApi;

/// Adds the risk register endpoints to the API document.
pub struct RiskDoc;

impl utoipa::Modify for RiskDoc {
    fn modify(&self, openapi: &mut utoipa::openapi::OpenApi) {
        openapi.merge(RiskApi::openapi());
    }
}

/// A page of risks.
#[derive(Debug, Serialize, ToSchema)]
pub struct RiskList {
    /// The risks.
    pub items: Vec<RiskRow>,
    /// How many match.
    pub total: i64,
}

/// Risk filters (as the list page's).
#[derive(Debug, Default, Deserialize, IntoParams)]
pub struct RiskQuery {
    /// Rows to return (1–1000, default 50).
    pub limit: Option<i64>,
    /// Rows to skip.
    pub offset: Option<i64>,
    /// Unit code (with its sub-units).
    pub unit: Option<String>,
    /// Threat code.
    pub threat: Option<String>,
    /// Threat category (`T1`–`T5`).
    pub category: Option<String>,
    /// Inherent level (`low`, `medium`, `high`).
    pub level: Option<String>,
    /// Residual level.
    pub residual_level: Option<String>,
    /// Treatment (`reduce`, `avoid`, `transfer`, `accept`).
    pub treatment: Option<String>,
    /// Acceptance (`pending`, `approved`, `rejected`).
    pub acceptance: Option<String>,
    /// `open` (default), `closed` or `all`.
    pub status: Option<String>,
    /// `true`: only risks due for review today.
    pub due: Option<bool>,
    /// Text in code, title, weakness or asset group.
    pub q: Option<String>,
    /// Treated by this control (code).
    pub control: Option<String>,
    /// Naming this asset (id).
    pub asset: Option<i64>,
    /// Inherent likelihood (with `impact`: one heat map cell).
    pub likelihood: Option<i64>,
    /// Inherent impact.
    pub impact: Option<i64>,
    /// Residual likelihood (with `residual_impact`).
    pub residual_likelihood: Option<i64>,
    /// Residual impact.
    pub residual_impact: Option<i64>,
    /// `code` (default), `level`, `residual`, `review_on`, `updated`.
    pub sort: Option<String>,
}

fn text(v: &Option<String>) -> String {
    v.clone().unwrap_or_default()
}

fn number(v: Option<i64>) -> String {
    v.map(|n| n.to_string()).unwrap_or_default()
}

impl RiskQuery {
    fn as_page_query(&self) -> AppResult<crate::pages::risks::RiskQuery> {
        for (field, value) in [
            ("level", &self.level),
            ("residual_level", &self.residual_level),
        ] {
            if value
                .as_deref()
                .is_some_and(|v| !["low", "medium", "high"].contains(&v))
            {
                return Err(bad(field));
            }
        }
        if self
            .treatment
            .as_deref()
            .is_some_and(|t| Treatment::ALL.iter().all(|x| x.code() != t))
        {
            return Err(bad("treatment"));
        }
        if self
            .sort
            .as_deref()
            .is_some_and(|s| mamori_store::RiskSort::parse(s).is_none())
        {
            return Err(bad("sort"));
        }
        if self
            .status
            .as_deref()
            .is_some_and(|s| !["open", "closed", "all"].contains(&s))
        {
            return Err(bad("status"));
        }
        Ok(crate::pages::risks::RiskQuery {
            unit: text(&self.unit),
            category: text(&self.category),
            threat: text(&self.threat),
            level: text(&self.level),
            residual_level: text(&self.residual_level),
            treatment: text(&self.treatment),
            acceptance: text(&self.acceptance),
            status: text(&self.status),
            due: if self.due.unwrap_or(false) {
                "1".into()
            } else {
                String::new()
            },
            q: text(&self.q),
            control: text(&self.control),
            asset: number(self.asset),
            l: number(self.likelihood),
            i: number(self.impact),
            rl: number(self.residual_likelihood),
            ri: number(self.residual_impact),
            sort: text(&self.sort),
            ..Default::default()
        })
    }
}

fn bad(field: &str) -> AppError {
    AppError::Invalid(vec![(field.to_owned(), "error-bad-filter".into())])
}

/// List the risks the caller may read (`assets.read` or `risks.edit` on their units).
#[utoipa::path(get, path = "/api/v1/risks", params(RiskQuery),
    responses((status = 200, body = RiskList), (status = 400, body = ErrorBody), (status = 401, body = ErrorBody), (status = 403, body = ErrorBody)))]
pub async fn list(ctx: Ctx, Query(q): Query<RiskQuery>) -> AppResult<Json<RiskList>> {
    let paging = crate::api::Paging {
        limit: q.limit,
        offset: q.offset,
        q: None,
    };
    let (limit, offset) = (paging.limit()?, paging.offset()?);
    let page_query = q.as_page_query()?;
    let p = ctx.principal()?;
    let visible = readable_units(&ctx, p).await?;
    let filter = page_query.filter(&ctx, visible).await?;
    let sort = mamori_store::RiskSort::parse(&page_query.sort).unwrap_or_default();
    let (items, total) = ctx
        .state
        .store
        .risks_page(&filter, sort, limit, offset)
        .await?;
    Ok(Json(RiskList { items, total }))
}

/// One risk, with what its page shows besides.
#[derive(Debug, Serialize, ToSchema)]
pub struct RiskDetail {
    /// The risk.
    #[serde(flatten)]
    pub risk: RiskRow,
    /// The impact its linked assets' classes suggest.
    pub suggested_impact: Option<u8>,
    /// Whether it is due for review today.
    pub due_for_review: bool,
    /// Reasons for review raised since its last review.
    pub review_reasons: Vec<ReviewReasonRow>,
}

/// A risk as written: references as codes (unit code or name, owner staff id, threat code,
/// asset ids, control codes). Ratings are checked against the organisation's scale.
#[derive(Debug, Deserialize, ToSchema)]
pub struct RiskWrite {
    /// Code (new risks only; empty: the register numbers it).
    #[serde(default)]
    pub code: String,
    /// Title.
    pub title: String,
    /// Owner unit (code or name).
    pub unit: String,
    /// Owner's staff id.
    #[serde(default)]
    pub owner: String,
    /// Threat code.
    pub threat: String,
    /// Weakness.
    #[serde(default)]
    pub weakness: String,
    /// Asset group in words.
    #[serde(default)]
    pub asset_group: String,
    /// Linked asset ids.
    #[serde(default)]
    pub assets: Vec<i64>,
    /// Linked control codes.
    #[serde(default)]
    pub controls: Vec<String>,
    /// Likelihood.
    pub likelihood: i64,
    /// Impact.
    pub impact: i64,
    /// Why the impact differs from the suggestion.
    #[serde(default)]
    pub impact_reason: String,
    /// Treatment (`reduce` default, `avoid`, `transfer`, `accept`).
    pub treatment: Option<String>,
    /// How it is treated.
    #[serde(default)]
    pub treatment_note: String,
    /// Residual likelihood (default: the likelihood).
    pub residual_likelihood: Option<i64>,
    /// Residual impact (default: the impact).
    pub residual_impact: Option<i64>,
    /// Next review date (`YYYY-MM-DD` or any spelling the files accept).
    pub review_on: Option<String>,
    /// `open` (default) or `closed`.
    pub status: Option<String>,
}

impl RiskWrite {
    fn draft(&self) -> AppResult<RiskDraft> {
        let mut problems = Vec::new();
        let treatment = match self.treatment.as_deref().map(str::trim) {
            None | Some("") => None,
            Some(t) => {
                let found = Treatment::parse(t);
                if found.is_none() {
                    problems.push(("treatment".to_owned(), "risk-error-treatment".to_owned()));
                }
                found
            }
        };
        let status = match self.status.as_deref().map(str::trim) {
            None | Some("") => None,
            Some(s) => {
                let found = RiskStatus::parse(s);
                if found.is_none() {
                    problems.push(("status".to_owned(), "risk-error-status".to_owned()));
                }
                found
            }
        };
        let review_on = match self.review_on.as_deref().map(fold_fullwidth) {
            None => None,
            Some(t) if t.trim().is_empty() => None,
            Some(t) => match parse_date(t.trim()) {
                Ok(d) => Some(d),
                Err(e) => {
                    problems.push(("review_on".to_owned(), e.message_id().to_owned()));
                    None
                }
            },
        };
        if !problems.is_empty() {
            return Err(AppError::Invalid(problems));
        }
        Ok(RiskDraft {
            code: self.code.trim().to_owned(),
            title: self.title.trim().to_owned(),
            unit: self.unit.trim().to_owned(),
            owner: self.owner.trim().to_owned(),
            threat: self.threat.trim().to_owned(),
            weakness: self.weakness.clone(),
            asset_group: self.asset_group.clone(),
            assets: self.assets.clone(),
            controls: self.controls.clone(),
            likelihood: self.likelihood,
            impact: self.impact,
            impact_reason: self.impact_reason.clone(),
            treatment,
            treatment_note: self.treatment_note.clone(),
            residual_likelihood: self.residual_likelihood,
            residual_impact: self.residual_impact,
            review_on,
            status,
        })
    }
}

fn invalid(problems: Vec<RiskProblem>) -> AppError {
    AppError::Invalid(
        problems
            .into_iter()
            .map(|p| (p.field.to_owned(), p.message_id.to_owned()))
            .collect(),
    )
}

/// Commits a write that produced a risk; a refused write is rolled back (dropped) and answered
/// with its error.
async fn committed(
    ctx: &Ctx,
    tx: mamori_store::WriteTx,
    outcome: Result<RiskRow, AppError>,
) -> AppResult<RiskRow> {
    let risk = outcome?;
    ctx.state.commit(tx).await?;
    Ok(risk)
}

async fn detail(ctx: &Ctx, risk: RiskRow) -> AppResult<RiskDetail> {
    let store = &ctx.state.store;
    Ok(RiskDetail {
        suggested_impact: store
            .suggested_impact(ctx.settings.risk_scale, &risk.assets)
            .await?,
        due_for_review: risk.due_for_review(ctx.today()),
        review_reasons: store.risk_review_reasons(risk.id, true).await?,
        risk,
    })
}

/// Get one risk.
#[utoipa::path(get, path = "/api/v1/risks/{risk}", params(("risk" = String, Path, description = "リスクコード")),
    responses((status = 200, body = RiskDetail), (status = 403, body = ErrorBody), (status = 404, body = ErrorBody)))]
pub async fn get(ctx: Ctx, Path(code): Path<String>) -> AppResult<Json<RiskDetail>> {
    let risk = readable_risk(&ctx, &code).await?;
    Ok(Json(detail(&ctx, risk).await?))
}

/// Record a risk (needs `risks.edit` on its unit). 受容 at or above the threshold is refused
/// here: request it through `/acceptance`.
#[utoipa::path(post, path = "/api/v1/risks", request_body = RiskWrite,
    responses((status = 201, body = RiskRow), (status = 403, body = ErrorBody), (status = 422, body = ErrorBody)))]
pub async fn create(ctx: Ctx, Json(body): Json<RiskWrite>) -> AppResult<Response> {
    let draft = body.draft()?;
    require_edit_unit(&ctx, &draft.unit).await?;
    let p = ctx.principal()?;
    let mut tx = ctx.state.store.begin(p.actor(&ctx.ip)).await?;
    let outcome = Store::create_risk(&mut tx, &draft, &rules(&ctx)).await?;
    let risk = committed(&ctx, tx, outcome.map_err(invalid)).await?;
    Ok((StatusCode::CREATED, Json(risk)).into_response())
}

/// Replace a risk's fields (its code stays; needs `risks.edit` on its unit and on the new
/// one when it moves).
#[utoipa::path(put, path = "/api/v1/risks/{risk}", request_body = RiskWrite, params(("risk" = String, Path, description = "リスクコード")),
    responses((status = 200, body = RiskRow), (status = 403, body = ErrorBody), (status = 404, body = ErrorBody), (status = 422, body = ErrorBody)))]
pub async fn update(
    ctx: Ctx,
    Path(code): Path<String>,
    Json(body): Json<RiskWrite>,
) -> AppResult<Json<RiskRow>> {
    let risk = editable_risk(&ctx, &code).await?;
    let draft = body.draft()?;
    require_edit_unit(&ctx, &draft.unit).await?;
    let p = ctx.principal()?;
    let mut tx = ctx.state.store.begin(p.actor(&ctx.ip)).await?;
    let outcome = Store::update_risk(&mut tx, &risk.code, &draft, &rules(&ctx)).await?;
    Ok(Json(committed(&ctx, tx, outcome.map_err(invalid)).await?))
}

/// A note with a request.
#[derive(Debug, Default, Deserialize, ToSchema)]
pub struct NoteBody {
    /// Why the residual risk can be accepted.
    #[serde(default)]
    pub note: String,
}

/// Request acceptance of the residual risk (treatment 受容): pending for the CISO at or above
/// the threshold, accepted at once below it.
#[utoipa::path(post, path = "/api/v1/risks/{risk}/acceptance", request_body = NoteBody, params(("risk" = String, Path, description = "リスクコード")),
    responses((status = 200, body = RiskRow), (status = 403, body = ErrorBody), (status = 404, body = ErrorBody), (status = 422, body = ErrorBody)))]
pub async fn request_acceptance(
    ctx: Ctx,
    Path(code): Path<String>,
    Json(body): Json<NoteBody>,
) -> AppResult<Json<RiskRow>> {
    let risk = editable_risk(&ctx, &code).await?;
    let p = ctx.principal()?;
    let mut tx = ctx.state.store.begin(p.actor(&ctx.ip)).await?;
    let outcome =
        Store::request_risk_acceptance(&mut tx, &risk.code, body.note.trim(), &rules(&ctx)).await?;
    Ok(Json(committed(&ctx, tx, outcome.map_err(invalid)).await?))
}

/// The CISO's decision.
#[derive(Debug, Deserialize, ToSchema)]
pub struct DecisionBody {
    /// `true`: approve; `false`: reject (a note is then required).
    pub approve: bool,
    /// The reason.
    #[serde(default)]
    pub note: String,
}

/// Approve or reject a pending acceptance (`risk.accept`; never the requester: 409).
#[utoipa::path(post, path = "/api/v1/risks/{risk}/acceptance/decision", request_body = DecisionBody, params(("risk" = String, Path, description = "リスクコード")),
    responses((status = 200, body = RiskRow), (status = 403, body = ErrorBody), (status = 404, body = ErrorBody), (status = 409, body = ErrorBody)))]
pub async fn decide_acceptance(
    ctx: Ctx,
    Path(code): Path<String>,
    Json(body): Json<DecisionBody>,
) -> AppResult<Json<RiskRow>> {
    let p = ctx.principal()?;
    p.require(Permission::RiskAccept, &Target::Organisation)?;
    let risk = readable_risk(&ctx, &code).await?;
    let mut tx = ctx.state.store.begin(p.actor(&ctx.ip)).await?;
    let outcome =
        Store::decide_risk_acceptance(&mut tx, &risk.code, body.approve, body.note.trim()).await?;
    let refused = |message_id| AppError::Conflict(message_id, String::new());
    Ok(Json(committed(&ctx, tx, outcome.map_err(refused)).await?))
}

/// A review.
#[derive(Debug, Deserialize, ToSchema)]
pub struct ReviewBody {
    /// The next review date (after today).
    pub next_review_on: String,
}

/// Record a review: clears the raised reasons and sets the next review date.
#[utoipa::path(post, path = "/api/v1/risks/{risk}/review", request_body = ReviewBody, params(("risk" = String, Path, description = "リスクコード")),
    responses((status = 200, body = RiskRow), (status = 403, body = ErrorBody), (status = 404, body = ErrorBody), (status = 422, body = ErrorBody)))]
pub async fn review(
    ctx: Ctx,
    Path(code): Path<String>,
    Json(body): Json<ReviewBody>,
) -> AppResult<Json<RiskRow>> {
    let risk = editable_risk(&ctx, &code).await?;
    let next = parse_date(fold_fullwidth(&body.next_review_on).trim()).map_err(|e| {
        AppError::Invalid(vec![("next_review_on".into(), e.message_id().to_owned())])
    })?;
    let p = ctx.principal()?;
    let mut tx = ctx.state.store.begin(p.actor(&ctx.ip)).await?;
    let outcome = Store::review_risk(&mut tx, &risk.code, next, ctx.today()).await?;
    let refused = |message_id: &str| {
        AppError::Invalid(vec![("next_review_on".into(), message_id.to_owned())])
    };
    Ok(Json(committed(&ctx, tx, outcome.map_err(refused)).await?))
}

/// Something linked to a risk as a reason to review it.
#[derive(Debug, Deserialize, ToSchema)]
pub struct ReasonBody {
    /// The kind of record (`incident`, `finding`, …): lowercase letters, digits, `-`, `_`.
    pub kind: String,
    /// Its reference (an incident number, a finding code).
    pub reference: String,
    /// The reason, in the linker's words.
    pub reason: String,
}

/// Link something to a risk as a reason for review (the risk becomes due for review, with
/// the reason shown, until it is reviewed).
#[utoipa::path(post, path = "/api/v1/risks/{risk}/review-reasons", request_body = ReasonBody, params(("risk" = String, Path, description = "リスクコード")),
    responses((status = 201, body = ReviewReasonRow), (status = 403, body = ErrorBody), (status = 404, body = ErrorBody), (status = 422, body = ErrorBody)))]
pub async fn raise_review(
    ctx: Ctx,
    Path(code): Path<String>,
    Json(body): Json<ReasonBody>,
) -> AppResult<Response> {
    let risk = editable_risk(&ctx, &code).await?;
    let mut problems = Vec::new();
    let kind_ok = !body.kind.is_empty()
        && body.kind.len() <= 32
        && body
            .kind
            .bytes()
            .all(|b| b.is_ascii_lowercase() || b.is_ascii_digit() || b == b'-' || b == b'_');
    if !kind_ok || body.kind == "asset" {
        problems.push(("kind".to_owned(), "risk-error-reason-kind".to_owned()));
    }
    for (field, value, max) in [
        ("reference", &body.reference, 200),
        ("reason", &body.reason, 4000),
    ] {
        let n = value.trim().chars().count();
        if n == 0 {
            problems.push((field.to_owned(), "error-required".to_owned()));
        } else if n > max {
            problems.push((field.to_owned(), "error-too-long".to_owned()));
        }
    }
    if !problems.is_empty() {
        return Err(AppError::Invalid(problems));
    }
    let p = ctx.principal()?;
    let mut tx = ctx.state.store.begin(p.actor(&ctx.ip)).await?;
    let row = Store::raise_risk_review(
        &mut tx,
        &risk.code,
        &body.kind,
        body.reference.trim(),
        body.reason.trim(),
    )
    .await?;
    ctx.state.commit(tx).await?;
    Ok((StatusCode::CREATED, Json(row)).into_response())
}

/// Heat map filters.
#[derive(Debug, Default, Deserialize, IntoParams)]
pub struct HeatMapQuery {
    /// Unit code (with its sub-units).
    pub unit: Option<String>,
    /// Threat category.
    pub category: Option<String>,
}

/// Counts of open risks per cell, inherent and residual, over the caller's units.
#[utoipa::path(get, path = "/api/v1/risks/heatmap", params(HeatMapQuery),
    responses((status = 200, body = HeatMap), (status = 401, body = ErrorBody), (status = 403, body = ErrorBody)))]
pub async fn heat_map(ctx: Ctx, Query(q): Query<HeatMapQuery>) -> AppResult<Json<HeatMap>> {
    let p = ctx.principal()?;
    let visible = readable_units(&ctx, p).await?;
    let page_query = crate::pages::risks::RiskQuery {
        unit: text(&q.unit),
        category: text(&q.category),
        ..Default::default()
    };
    let filter = page_query.filter(&ctx, visible).await?;
    Ok(Json(
        ctx.state
            .store
            .risk_heat_map(&filter, ctx.settings.risk_scale)
            .await?,
    ))
}
