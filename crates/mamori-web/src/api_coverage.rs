//! Coverage in the JSON API: each clause of the basic policy in force with its controls,
//! their status counts, the open risks they treat and the assets behind them (the rules of
//! `pages::coverage`). Joins the OpenAPI document through [`CoverageDoc`].

use crate::api::{cached_json, ErrorBody};
use crate::error::AppResult;
use crate::session::{DataVersion, Principal};
use crate::AppState;
use axum::extract::{OriginalUri, Query, State};
use axum::response::Response;
use axum::Extension;
use mamori_store::{CoverageClause, StatusTally};
use serde::{Deserialize, Serialize};
use std::sync::Arc;
use utoipa::{IntoParams, OpenApi, ToSchema};

/// The coverage part of the OpenAPI document.
#[derive(OpenApi)]
#[openapi(
    paths(coverage),
    components(schemas(CoverageList, CoverageClause, StatusTally))
)]
struct CoverageApi;

/// Adds the coverage endpoint to the API document.
pub struct CoverageDoc;

impl utoipa::Modify for CoverageDoc {
    fn modify(&self, openapi: &mut utoipa::openapi::OpenApi) {
        openapi.merge(CoverageApi::openapi());
    }
}

/// The clauses of the basic policy in force, in order.
#[derive(Debug, Serialize, ToSchema)]
pub struct CoverageList {
    /// Every clause with its counts (empty when no basic policy is in force).
    pub items: Vec<CoverageClause>,
    /// How many clauses.
    pub total: i64,
}

/// Coverage filters.
#[derive(Debug, Deserialize, IntoParams)]
pub struct CoverageQuery {
    /// A unit code: count only that unit and the units beneath it (needs `people.read`,
    /// `assets.read` or `controls.update` on the unit).
    pub unit: Option<String>,
}

/// Coverage of the basic policy: per clause, the controls citing it, their statuses over the
/// units the caller may see, the open risks they treat and the assets behind those risks. A
/// clause no control cites, directly or through a sub-clause, has `covered: false`.
#[utoipa::path(get, path = "/api/v1/coverage", params(CoverageQuery),
    responses((status = 200, body = CoverageList), (status = 401, body = ErrorBody), (status = 403, body = ErrorBody), (status = 400, body = ErrorBody)))]
pub async fn coverage(
    State(state): State<AppState>,
    Extension(p): Extension<Arc<Principal>>,
    Extension(version): Extension<DataVersion>,
    uri: OriginalUri,
    Query(q): Query<CoverageQuery>,
) -> AppResult<Response> {
    let filter =
        crate::pages::coverage::unit_filter(&state.store, &p, q.unit.as_deref().unwrap_or(""))
            .await?;
    let scope =
        crate::pages::coverage::scope(&state.store, &p, filter.as_ref().map(|(_, s)| s.as_slice()))
            .await?;
    cached_json(&state, &p, version, &uri, || async {
        let items = state.store.coverage(&scope).await?;
        Ok(CoverageList {
            total: items.len() as i64,
            items,
        })
    })
    .await
}
