//! The JSON API under `/api/v1`, and its OpenAPI 3.1 document generated from this code.
//!
//! Lists take `limit` (default 50, at most 1000) and `offset` and answer
//! `{"items": [...], "total": N}`; errors answer `{"error": {"code", "message"}}`.

use crate::error::{AppError, AppResult};
use crate::session::DataVersion;
use crate::session::Principal;
use crate::AppState;
use axum::body::Bytes;
use axum::extract::{OriginalUri, Query, State};
use axum::http::{header, HeaderValue};
use axum::response::{IntoResponse, Response};
use axum::{Extension, Json};
use mamori_domain::permission::Permission;
use mamori_store::{PeopleFilter, PersonRow, UnitRow};
use serde::{Deserialize, Serialize};
use std::sync::Arc;
use utoipa::{IntoParams, OpenApi, ToSchema};

/// The OpenAPI document.
#[derive(OpenApi)]
#[openapi(
    info(title = "Mamori API", version = "1", description = "Mamori (守り) ISMS for Japanese local governments."),
    paths(list_units, list_people),
    components(schemas(UnitList, PersonList, UnitRow, PersonRow, ErrorBody, ErrorDetail)),
    modifiers(&BearerAuth),
    security(("bearer" = []))
)]
pub struct ApiDoc;

struct BearerAuth;

impl utoipa::Modify for BearerAuth {
    fn modify(&self, openapi: &mut utoipa::openapi::OpenApi) {
        use utoipa::openapi::security::{HttpAuthScheme, HttpBuilder, SecurityScheme};
        let components = openapi.components.get_or_insert_with(Default::default);
        components.add_security_scheme(
            "bearer",
            SecurityScheme::Http(
                HttpBuilder::new()
                    .scheme(HttpAuthScheme::Bearer)
                    .description(Some("mamori token create"))
                    .build(),
            ),
        );
    }
}

/// An error body.
#[derive(Debug, Serialize, ToSchema)]
pub struct ErrorBody {
    /// The error.
    pub error: ErrorDetail,
}

/// The error's code and message.
#[derive(Debug, Serialize, ToSchema)]
pub struct ErrorDetail {
    /// Stable code (`not_found`, `unauthorized`, `forbidden`, `bad_request`…).
    pub code: String,
    /// A message for people, in the user's language.
    pub message: String,
}

/// Paging parameters.
#[derive(Debug, Deserialize, IntoParams)]
pub struct Paging {
    /// Rows to return (1–1000, default 50).
    pub limit: Option<i64>,
    /// Rows to skip.
    pub offset: Option<i64>,
    /// Free-text filter (people: staff id, name, kana).
    pub q: Option<String>,
}

impl Paging {
    fn limit(&self) -> AppResult<i64> {
        match self.limit {
            None => Ok(50),
            Some(l) if (1..=1000).contains(&l) => Ok(l),
            Some(_) => Err(AppError::BadRequest("api-limit-range")),
        }
    }

    fn offset(&self) -> AppResult<i64> {
        match self.offset {
            None => Ok(0),
            Some(o) if o >= 0 => Ok(o),
            Some(_) => Err(AppError::BadRequest("api-offset-range")),
        }
    }
}

/// A page of units.
#[derive(Debug, Serialize, ToSchema)]
pub struct UnitList {
    /// The units.
    pub items: Vec<UnitRow>,
    /// How many match.
    pub total: i64,
}

/// A page of people.
#[derive(Debug, Serialize, ToSchema)]
pub struct PersonList {
    /// The people.
    pub items: Vec<PersonRow>,
    /// How many match.
    pub total: i64,
}

/// GET `/api/v1/openapi.json`.
pub async fn openapi_json() -> Response {
    Json(ApiDoc::openapi()).into_response()
}

/// List organisation units.
#[utoipa::path(get, path = "/api/v1/units", params(Paging),
    responses((status = 200, body = UnitList), (status = 401, body = ErrorBody), (status = 403, body = ErrorBody)))]
pub async fn list_units(
    State(state): State<AppState>,
    Extension(p): Extension<Arc<Principal>>,
    Extension(version): Extension<DataVersion>,
    uri: OriginalUri,
    Query(paging): Query<Paging>,
) -> AppResult<Response> {
    let (limit, offset) = (paging.limit()?, paging.offset()?);
    cached_json(&state, &p, version, &uri, || async {
        let all = state.store.units().await?;
        let total = all.len() as i64;
        let items = all
            .into_iter()
            .skip(offset as usize)
            .take(limit as usize)
            .collect();
        Ok(UnitList { items, total })
    })
    .await
}

/// List people (only those in units where the caller may read people).
#[utoipa::path(get, path = "/api/v1/people", params(Paging),
    responses((status = 200, body = PersonList), (status = 401, body = ErrorBody), (status = 403, body = ErrorBody)))]
pub async fn list_people(
    State(state): State<AppState>,
    Extension(p): Extension<Arc<Principal>>,
    Extension(version): Extension<DataVersion>,
    uri: OriginalUri,
    Query(paging): Query<Paging>,
) -> AppResult<Response> {
    let (limit, offset) = (paging.limit()?, paging.offset()?);
    cached_json(&state, &p, version, &uri, || async {
        let filter = PeopleFilter {
            unit_roots: p.grants.unit_roots(Permission::PeopleRead),
            query: paging.q.clone(),
        };
        let (items, total) = state.store.people_page(&filter, limit, offset).await?;
        Ok(PersonList { items, total })
    })
    .await
}

/// Serves a list from the response cache when nothing has changed since it was computed for
/// this account (same data version, same query), else computes, stores and serves it.
async fn cached_json<T, F, Fut>(
    state: &AppState,
    p: &Principal,
    version: DataVersion,
    uri: &OriginalUri,
    compute: F,
) -> AppResult<Response>
where
    T: Serialize,
    F: FnOnce() -> Fut,
    Fut: std::future::Future<Output = AppResult<T>>,
{
    let read_only = matches!(&p.auth, crate::session::Auth::Token(t) if t.read_only);
    let key = format!("{}:{}:{}", p.user.id, read_only, uri.0);
    let body = match state.responses.get(&key, version.0) {
        Some(body) => body,
        None => {
            let value = compute().await?;
            let body = Bytes::from(
                serde_json::to_vec(&value).map_err(|e| AppError::Internal(e.to_string()))?,
            );
            state.responses.insert(key, version.0, body.clone());
            body
        }
    };
    Ok((
        [(
            header::CONTENT_TYPE,
            HeaderValue::from_static("application/json"),
        )],
        body,
    )
        .into_response())
}

#[cfg(test)]
mod tests {
    use super::*;

    /// The API contract is a promise: this fails when the generated document drifts from the
    /// committed snapshot. Run with `UPDATE_SNAPSHOTS=1` after an intended change.
    #[test]
    fn openapi_matches_snapshot() {
        let doc = ApiDoc::openapi().to_pretty_json().unwrap_or_default();
        assert!(doc.contains("\"openapi\": \"3.1.0\""));
        let path = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("openapi.snapshot.json");
        if std::env::var("UPDATE_SNAPSHOTS").is_ok() {
            std::fs::write(&path, &doc).unwrap_or_default();
        }
        let snapshot = std::fs::read_to_string(&path).unwrap_or_default();
        assert_eq!(
            snapshot.trim(),
            doc.trim(),
            "OpenAPI document drifted; review and run with UPDATE_SNAPSHOTS=1"
        );
    }
}
