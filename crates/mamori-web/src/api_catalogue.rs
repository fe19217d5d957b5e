//! Catalogue endpoints of the JSON API: threats and controls (with a unit's statuses). They
//! join the OpenAPI document through [`CatalogueDoc`], a modifier of [`crate::api::ApiDoc`].

use crate::api::{cached_json, ErrorBody};
use crate::error::{AppError, AppResult};
use crate::session::{DataVersion, Principal};
use crate::AppState;
use axum::extract::{OriginalUri, Query, State};
use axum::response::Response;
use axum::Extension;
use mamori_domain::authz::Target;
use mamori_domain::catalogue::ImplStatus;
use mamori_store::{ControlFilter, ControlRow, ControlStatusRow, ThreatFilter, ThreatRow};
use serde::{Deserialize, Serialize};
use std::sync::Arc;
use utoipa::{IntoParams, OpenApi, ToSchema};

/// The catalogue part of the OpenAPI document.
#[derive(OpenApi)]
#[openapi(
    paths(list_threats, list_controls),
    components(schemas(
        ThreatList,
        ControlList,
        ControlItem,
        ThreatRow,
        ControlRow,
        ControlStatusRow
    ))
)]
struct CatalogueApi;

/// Adds the catalogue endpoints to the API document.
pub struct CatalogueDoc;

impl utoipa::Modify for CatalogueDoc {
    fn modify(&self, openapi: &mut utoipa::openapi::OpenApi) {
        openapi.merge(CatalogueApi::openapi());
    }
}

fn bad(field: &str) -> AppError {
    AppError::Invalid(vec![(field.to_owned(), "error-bad-filter".into())])
}

fn nonempty(v: &Option<String>) -> Option<String> {
    v.as_deref()
        .map(str::trim)
        .filter(|s| !s.is_empty())
        .map(str::to_owned)
}

/// A page of threats.
#[derive(Debug, Serialize, ToSchema)]
pub struct ThreatList {
    /// The threats, by category and code.
    pub items: Vec<ThreatRow>,
    /// How many match.
    pub total: i64,
}

/// Threat filters.
#[derive(Debug, Deserialize, IntoParams)]
pub struct ThreatQuery {
    /// Rows to return (1–1000, default 50).
    pub limit: Option<i64>,
    /// Rows to skip.
    pub offset: Option<i64>,
    /// Category code (`T1`–`T5`).
    pub category: Option<String>,
    /// Text in code, title or description.
    pub q: Option<String>,
    /// `true`: retired threats too.
    pub include_retired: Option<bool>,
}

/// List the threat catalogue (every logged-in account may read it).
#[utoipa::path(get, path = "/api/v1/threats", params(ThreatQuery),
    responses((status = 200, body = ThreatList), (status = 401, body = ErrorBody), (status = 400, body = ErrorBody)))]
pub async fn list_threats(
    State(state): State<AppState>,
    Extension(p): Extension<Arc<Principal>>,
    Extension(version): Extension<DataVersion>,
    uri: OriginalUri,
    Query(q): Query<ThreatQuery>,
) -> AppResult<Response> {
    let paging = crate::api::Paging {
        limit: q.limit,
        offset: q.offset,
        q: None,
    };
    let (limit, offset) = (paging.limit()?, paging.offset()?);
    cached_json(&state, &p, version, &uri, || async {
        let filter = ThreatFilter {
            category: nonempty(&q.category),
            q: nonempty(&q.q),
            include_retired: q.include_retired.unwrap_or(false),
        };
        let (items, total) = state.store.threats_page(&filter, limit, offset).await?;
        Ok(ThreatList { items, total })
    })
    .await
}

/// A control, with its status in the unit asked for.
#[derive(Debug, Serialize, ToSchema)]
pub struct ControlItem {
    /// The control.
    #[serde(flatten)]
    pub control: ControlRow,
    /// Its status in `unit` (only when the request names a unit).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub unit_status: Option<ControlStatusRow>,
}

/// A page of controls.
#[derive(Debug, Serialize, ToSchema)]
pub struct ControlList {
    /// The controls, by measure area and code.
    pub items: Vec<ControlItem>,
    /// How many match.
    pub total: i64,
}

/// Control filters.
#[derive(Debug, Deserialize, IntoParams)]
pub struct ControlQuery {
    /// Rows to return (1–1000, default 50).
    pub limit: Option<i64>,
    /// Rows to skip.
    pub offset: Option<i64>,
    /// Measure area code (`M1`–`M9`).
    pub area: Option<String>,
    /// A unit code: each item carries its status there (needs `people.read`, `assets.read`
    /// or `controls.update` on the unit).
    pub unit: Option<String>,
    /// With `unit`: only controls with this status there (`not_started` includes nothing
    /// recorded).
    pub status: Option<String>,
    /// Text in code, title or description.
    pub q: Option<String>,
    /// `true`: retired controls too.
    pub include_retired: Option<bool>,
}

/// List the control catalogue; with `unit`, each control's status in that unit.
#[utoipa::path(get, path = "/api/v1/controls", params(ControlQuery),
    responses((status = 200, body = ControlList), (status = 401, body = ErrorBody), (status = 403, body = ErrorBody), (status = 422, body = ErrorBody)))]
pub async fn list_controls(
    State(state): State<AppState>,
    Extension(p): Extension<Arc<Principal>>,
    Extension(version): Extension<DataVersion>,
    uri: OriginalUri,
    Query(q): Query<ControlQuery>,
) -> AppResult<Response> {
    let paging = crate::api::Paging {
        limit: q.limit,
        offset: q.offset,
        q: None,
    };
    let (limit, offset) = (paging.limit()?, paging.offset()?);
    let status = match nonempty(&q.status) {
        Some(s) => Some(ImplStatus::parse(&s).ok_or_else(|| bad("status"))?),
        None => None,
    };
    let unit = match nonempty(&q.unit) {
        Some(code) => {
            let unit = state
                .store
                .unit_by_code(&code)
                .await?
                .ok_or_else(|| bad("unit"))?;
            let lineage = state.store.unit_lineage(unit.id).await?;
            let target = Target::Unit { lineage: &lineage };
            if !crate::pages::catalogue::STATUS_READ
                .iter()
                .any(|perm| p.can(*perm, &target))
            {
                return Err(AppError::Forbidden);
            }
            Some(unit)
        }
        None if status.is_some() => return Err(bad("unit")),
        None => None,
    };
    if let Some(area) = nonempty(&q.area) {
        if !state
            .store
            .measure_areas()
            .await?
            .iter()
            .any(|a| a.code == area)
        {
            return Err(bad("area"));
        }
    }
    cached_json(&state, &p, version, &uri, || async {
        let filter = ControlFilter {
            area: nonempty(&q.area),
            q: nonempty(&q.q),
            include_retired: q.include_retired.unwrap_or(false),
            unit: unit.as_ref().map(|u| u.id),
            status,
        };
        let (rows, total) = state.store.controls_page(&filter, limit, offset).await?;
        // Coverage: the page's statuses in one query.
        let mut statuses = match &unit {
            Some(u) => {
                let ids: Vec<i64> = rows.iter().map(|c| c.id).collect();
                state.store.control_statuses_in_unit(u.id, &ids).await?
            }
            None => std::collections::HashMap::new(),
        };
        let items: Vec<ControlItem> = rows
            .into_iter()
            .map(|control| ControlItem {
                unit_status: statuses.remove(&control.id),
                control,
            })
            .collect();
        Ok(ControlList { items, total })
    })
    .await
}
