//! `/api/v1/assets`: the asset register for scripts — the list with the page's filters, one
//! asset with its handling rules, create, replace, dispose (assets are never deleted), and an
//! asset's relations with the container warning. Access rules are in [`crate::assets`].

use crate::api::{cached_json, ErrorBody};
use crate::assets::{self as access, AssetFields, ListParams};
use crate::error::{AppError, AppResult};
use crate::session::{DataVersion, Principal};
use crate::view::Ctx;
use crate::AppState;
use axum::extract::{OriginalUri, Path, Query, State};
use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use axum::{Extension, Json};
use mamori_domain::assets::classification::lower_axes;
use mamori_domain::assets::handling::rules_for;
use mamori_domain::interchange::values::fold;
use mamori_store::{AssetRow, RelationRow, StatusFilter, Store};
use serde::{Deserialize, Serialize};
use std::sync::Arc;
use utoipa::{IntoParams, ToSchema};

/// A page of assets.
#[derive(Debug, Serialize, ToSchema)]
pub struct AssetList {
    /// The assets.
    pub items: Vec<AssetRow>,
    /// How many match.
    pub total: i64,
}

/// List parameters: paging plus the filters of the asset list page.
#[derive(Debug, Deserialize, IntoParams)]
pub struct AssetQuery {
    /// Rows to return (1–1000, default 50).
    pub limit: Option<i64>,
    /// Rows to skip.
    pub offset: Option<i64>,
    /// Free text over name, location and description (NFKC- and case-folded; Japanese
    /// fragments of two characters or more use the n-gram index); `#123` finds an id.
    pub q: Option<String>,
    /// 種別 code.
    pub asset_type: Option<String>,
    /// ネットワーク区分 code.
    pub segment: Option<String>,
    /// Owner unit code (and the units beneath it).
    pub unit: Option<String>,
    /// 機密性 level.
    pub confidentiality: Option<String>,
    /// 完全性 level.
    pub integrity: Option<String>,
    /// 可用性 level.
    pub availability: Option<String>,
    /// `true` / `false`.
    pub personal_data: Option<String>,
    /// `active` (not disposed), `all` (default), or a status code.
    pub status: Option<String>,
    /// `true`: review date passed (and not disposed).
    pub overdue: Option<String>,
    /// 管理者 staff id.
    pub custodian: Option<String>,
    /// `id`, `name` (default), `asset_type`, `owner_unit`, `confidentiality`, `review_on`,
    /// `updated_at`.
    pub sort: Option<String>,
    /// `asc` (default) or `desc`.
    pub order: Option<String>,
}

impl AssetQuery {
    fn params(&self) -> ListParams {
        let s = |v: &Option<String>| v.clone().unwrap_or_default();
        ListParams {
            q: s(&self.q),
            asset_type: s(&self.asset_type),
            segment: s(&self.segment),
            unit: s(&self.unit),
            confidentiality: s(&self.confidentiality),
            integrity: s(&self.integrity),
            availability: s(&self.availability),
            personal_data: s(&self.personal_data),
            status: s(&self.status),
            overdue: s(&self.overdue),
            custodian: s(&self.custodian),
            sort: s(&self.sort),
            order: s(&self.order),
        }
    }
}

/// Assets the caller may see, filtered, sorted and paged.
#[utoipa::path(get, path = "/api/v1/assets", params(AssetQuery),
    responses((status = 200, body = AssetList), (status = 400, body = ErrorBody), (status = 422, body = ErrorBody)))]
pub async fn list(
    State(state): State<AppState>,
    Extension(p): Extension<Arc<Principal>>,
    Extension(version): Extension<DataVersion>,
    Extension(settings): Extension<Arc<mamori_domain::settings::OrgSettings>>,
    uri: OriginalUri,
    Query(query): Query<AssetQuery>,
) -> AppResult<Response> {
    let paging = crate::api::Paging {
        limit: query.limit,
        offset: query.offset,
        q: None,
    };
    let (limit, offset) = (paging.limit()?, paging.offset()?);
    cached_json(&state, &p, version, &uri, || async {
        let scheme = state.store.scheme().await?;
        let scope = access::scope(&state, &p, &scheme).await?;
        let now = time::OffsetDateTime::now_utc();
        let today = mamori_domain::settings::local_date(now.unix_timestamp(), &settings.time_zone)
            .unwrap_or(now.date());
        let filter = query
            .params()
            .filter(&state, &scheme, scope, StatusFilter::Any, today)
            .await?;
        let (items, total) = state.store.assets_page(&filter, limit, offset).await?;
        Ok(AssetList { items, total })
    })
    .await
}

/// A handling rule that applies to an asset.
#[derive(Debug, Serialize, ToSchema)]
pub struct RuleRef {
    /// Rule code.
    pub code: String,
    /// What it requires (Japanese).
    pub label_ja: String,
    /// What it requires (English).
    pub label_en: String,
}

/// One asset, with the handling rules its class requires.
#[derive(Debug, Serialize, ToSchema)]
pub struct AssetDetail {
    /// The asset.
    #[serde(flatten)]
    pub asset: AssetRow,
    /// 取扱制限.
    pub handling_rules: Vec<RuleRef>,
}

/// One asset.
#[utoipa::path(get, path = "/api/v1/assets/{id}", params(("id" = i64, Path, description = "資産ID")),
    responses((status = 200, body = AssetDetail), (status = 404, body = ErrorBody)))]
pub async fn get(ctx: Ctx, Path(id): Path<i64>) -> AppResult<Json<AssetDetail>> {
    let p = ctx.principal()?;
    let scheme = ctx.state.store.scheme().await?;
    let (asset, _) = access::visible(&ctx.state, p, &scheme, id).await?;
    let rules = ctx.state.store.handling_rules().await?;
    let handling_rules = rules_for(&rules, &scheme, &asset.class())
        .into_iter()
        .map(|r| RuleRef {
            code: r.code.clone(),
            label_ja: r.label_ja.clone(),
            label_en: r.label_en.clone(),
        })
        .collect();
    Ok(Json(AssetDetail {
        asset,
        handling_rules,
    }))
}

/// An asset to create, or an asset's new state (every field; absent optional fields are
/// cleared).
#[derive(Debug, Deserialize, ToSchema)]
pub struct AssetWrite {
    /// 名称.
    pub name: String,
    /// 種別 code.
    pub asset_type: String,
    /// 所管組織 (unit code).
    pub owner_unit: String,
    /// 管理者 (staff id).
    pub custodian: Option<String>,
    /// ネットワーク区分 code (default `none`).
    pub segment: Option<String>,
    /// 機密性.
    pub confidentiality: String,
    /// 完全性.
    pub integrity: String,
    /// 可用性.
    pub availability: String,
    /// 保管場所.
    #[serde(default)]
    pub location: String,
    /// 説明.
    #[serde(default)]
    pub description: String,
    /// 個人情報.
    #[serde(default)]
    pub personal_data: bool,
    /// 目標復旧時間（時間）.
    pub rto_hours: Option<u32>,
    /// 次回見直し日 (YYYY-MM-DD, or any spelling files accept).
    pub review_on: Option<String>,
    /// `registered` or `in_use` (default); dispose through `/dispose`.
    pub status: Option<String>,
}

impl AssetWrite {
    fn fields(&self) -> AssetFields {
        AssetFields {
            name: self.name.clone(),
            asset_type: self.asset_type.clone(),
            owner_unit: self.owner_unit.clone(),
            custodian: self.custodian.clone().unwrap_or_default(),
            segment: self.segment.clone().unwrap_or_default(),
            confidentiality: self.confidentiality.clone(),
            integrity: self.integrity.clone(),
            availability: self.availability.clone(),
            location: self.location.clone(),
            description: self.description.clone(),
            personal_data: self.personal_data.to_string(),
            rto_hours: self.rto_hours.map(|h| h.to_string()).unwrap_or_default(),
            review_on: self.review_on.clone().unwrap_or_default(),
            status: self.status.clone().unwrap_or_default(),
            disposed_on: String::new(),
            disposal_method: String::new(),
        }
    }
}

fn invalid(ctx: &Ctx, problems: &[(&'static str, &'static str)]) -> AppError {
    AppError::Invalid(
        problems
            .iter()
            .map(|(f, id)| ((*f).to_owned(), crate::i18n::tr(ctx.lang, id)))
            .collect(),
    )
}

async fn draft(ctx: &Ctx, body: &AssetWrite) -> AppResult<mamori_domain::assets::AssetDraft> {
    let p = ctx.principal()?;
    let scheme = ctx.state.store.scheme().await?;
    if body.status.as_deref().map(fold).as_deref() == Some("disposed") {
        return Err(invalid(ctx, &[("status", "error-dispose-via-endpoint")]));
    }
    match access::draft(&ctx.state, p, &scheme, &body.fields()).await? {
        Ok(d) => Ok(d),
        Err(problems) => {
            if problems
                .iter()
                .any(|(_, id)| *id == "error-unit-not-permitted")
            {
                return Err(AppError::Forbidden);
            }
            Err(invalid(ctx, &problems))
        }
    }
}

/// Create an asset (needs `assets.edit` on the owner unit).
#[utoipa::path(post, path = "/api/v1/assets", request_body = AssetWrite,
    responses((status = 201, body = AssetRow), (status = 403, body = ErrorBody), (status = 422, body = ErrorBody)))]
pub async fn create(ctx: Ctx, Json(body): Json<AssetWrite>) -> AppResult<Response> {
    let p = ctx.principal()?.clone();
    let d = draft(&ctx, &body).await?;
    let mut tx = ctx.state.store.begin(p.actor(&ctx.ip)).await?;
    let asset = Store::create_asset(&mut tx, &d).await?;
    ctx.state.commit(tx).await?;
    Ok((StatusCode::CREATED, Json(asset)).into_response())
}

async fn editable(ctx: &Ctx, id: i64) -> AppResult<AssetRow> {
    let scheme = ctx.state.store.scheme().await?;
    access::editable(&ctx.state, ctx.principal()?, &scheme, id).await
}

/// Replace an asset's fields (needs `assets.edit` on its unit, and on the new one when it
/// moves).
#[utoipa::path(put, path = "/api/v1/assets/{id}", request_body = AssetWrite, params(("id" = i64, Path, description = "資産ID")),
    responses((status = 200, body = AssetRow), (status = 403, body = ErrorBody), (status = 404, body = ErrorBody), (status = 409, body = ErrorBody), (status = 422, body = ErrorBody)))]
pub async fn update(
    ctx: Ctx,
    Path(id): Path<i64>,
    Json(body): Json<AssetWrite>,
) -> AppResult<Json<AssetRow>> {
    let asset = editable(&ctx, id).await?;
    if asset.status == "disposed" {
        return Err(AppError::Conflict("error-already-disposed", String::new()));
    }
    let d = draft(&ctx, &body).await?;
    let p = ctx.principal()?;
    let mut tx = ctx.state.store.begin(p.actor(&ctx.ip)).await?;
    let updated = Store::update_asset(&mut tx, asset.id, &d).await?;
    ctx.state.commit(tx).await?;
    Ok(Json(updated))
}

/// A disposal record.
#[derive(Debug, Deserialize, ToSchema)]
pub struct DisposeBody {
    /// 廃棄日.
    pub disposed_on: String,
    /// 廃棄方法.
    pub disposal_method: String,
}

/// Record an asset's disposal (it stays in the register with its history).
#[utoipa::path(post, path = "/api/v1/assets/{id}/dispose", request_body = DisposeBody, params(("id" = i64, Path, description = "資産ID")),
    responses((status = 200, body = AssetRow), (status = 403, body = ErrorBody), (status = 404, body = ErrorBody), (status = 409, body = ErrorBody), (status = 422, body = ErrorBody)))]
pub async fn dispose(
    ctx: Ctx,
    Path(id): Path<i64>,
    Json(body): Json<DisposeBody>,
) -> AppResult<Json<AssetRow>> {
    let asset = editable(&ctx, id).await?;
    let mut problems = Vec::new();
    let date = match mamori_domain::wareki::parse_date(&fold(&body.disposed_on)) {
        Ok(d) => Some(d),
        Err(e) => {
            problems.push(("disposed_on", e.message_id()));
            None
        }
    };
    if body.disposal_method.trim().is_empty() {
        problems.push(("disposal_method", "error-disposal-method-required"));
    }
    let Some(date) = date.filter(|_| problems.is_empty()) else {
        return Err(invalid(&ctx, &problems));
    };
    let p = ctx.principal()?;
    let mut tx = ctx.state.store.begin(p.actor(&ctx.ip)).await?;
    let disposed =
        Store::dispose_asset(&mut tx, asset.id, date, body.disposal_method.trim()).await?;
    ctx.state.commit(tx).await?;
    Ok(Json(disposed))
}

/// A relation, with the axes on which the container is classified lower than its part.
#[derive(Debug, Serialize, ToSchema)]
pub struct RelationItem {
    /// The relation.
    #[serde(flatten)]
    pub relation: RelationRow,
    /// `c`, `i`, `a`: where the container is lower (empty: none).
    pub container_lower_on: Vec<String>,
}

/// An asset's relations.
#[derive(Debug, Serialize, ToSchema)]
pub struct RelationList {
    /// The relations.
    pub items: Vec<RelationItem>,
    /// How many.
    pub total: i64,
}

/// The relations an asset takes part in.
#[utoipa::path(get, path = "/api/v1/assets/{id}/relations", params(("id" = i64, Path, description = "資産ID")),
    responses((status = 200, body = RelationList), (status = 404, body = ErrorBody)))]
pub async fn relations(ctx: Ctx, Path(id): Path<i64>) -> AppResult<Json<RelationList>> {
    let p = ctx.principal()?;
    let scheme = ctx.state.store.scheme().await?;
    let (asset, _) = access::visible(&ctx.state, p, &scheme, id).await?;
    let items: Vec<RelationItem> = ctx
        .state
        .store
        .asset_relations(asset.id)
        .await?
        .into_iter()
        .map(|relation| {
            let container_lower_on = relation
                .relation_kind()
                .map(|k| {
                    let (c, part) = k.container_first(&relation.from, &relation.to);
                    lower_axes(&scheme, &c.class(), &part.class())
                        .into_iter()
                        .map(|a| a.code().to_owned())
                        .collect()
                })
                .unwrap_or_default();
            RelationItem {
                relation,
                container_lower_on,
            }
        })
        .collect();
    let total = items.len() as i64;
    Ok(Json(RelationList { items, total }))
}
