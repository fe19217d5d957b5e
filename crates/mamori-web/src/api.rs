//! The JSON API under `/api/v1`, and its OpenAPI 3.1 document generated from this code.
//!
//! Lists take `limit` (default 50, at most 1000) and `offset` and answer
//! `{"items": [...], "total": N}`; errors answer `{"error": {"code", "message"}}`.

use crate::error::{AppError, AppResult};
use crate::session::DataVersion;
use crate::session::Principal;
use crate::view::Ctx;
use crate::AppState;
use axum::body::Bytes;
use axum::extract::Path;
use axum::extract::{OriginalUri, Query, State};
use axum::http::StatusCode;
use axum::http::{header, HeaderValue};
use axum::response::{IntoResponse, Response};
use axum::{Extension, Json};
use mamori_domain::authz::Target;
use mamori_domain::permission::Permission;
use mamori_store::Store;
use mamori_store::{PeopleFilter, PersonRow, UnitRow};
use serde::{Deserialize, Serialize};
use std::sync::Arc;
use utoipa::{IntoParams, OpenApi, ToSchema};
// Training
use crate::api_training::TrainingDoc;
// Catalogue
use crate::api_catalogue::CatalogueDoc;
use crate::api_risks::RiskDoc;
// Coverage
use crate::api_coverage::CoverageDoc;

/// The OpenAPI document.
#[derive(OpenApi)]
#[openapi(
    info(title = "Mamori API", version = "1", description = "Mamori (守り) ISMS for Japanese local governments."),
    paths(list_units, get_unit, create_unit, update_unit, list_people, get_person, create_person, update_person,
        crate::api_assets::list, crate::api_assets::get, crate::api_assets::create, crate::api_assets::update,
        crate::api_assets::dispose, crate::api_assets::relations,
        crate::api_policy::list_documents, crate::api_policy::get_document, crate::api_policy::create_document,
        crate::api_policy::list_versions, crate::api_policy::create_version,
        crate::api_policy::list_acknowledgements, crate::api_policy::acknowledge),
    components(schemas(UnitList, UnitWrite, PersonWrite, PersonList, UnitRow, PersonRow, ErrorBody, ErrorDetail, FieldProblem,
        crate::api_assets::AssetList, crate::api_assets::AssetWrite, crate::api_assets::AssetDetail,
        crate::api_assets::DisposeBody, crate::api_assets::RelationList, crate::api_assets::RelationItem,
        crate::api_assets::RuleRef, mamori_store::AssetRow, mamori_store::RelationRow, mamori_store::AssetBrief,
        crate::api_policy::DocumentList, crate::api_policy::VersionList, crate::api_policy::VersionDetail,
        crate::api_policy::AcknowledgementList, crate::api_policy::DocumentWrite, crate::api_policy::VersionWrite,
        crate::api_policy::AcknowledgementWrite, mamori_store::DocumentRow, mamori_store::VersionBrief,
        mamori_store::VersionRow, mamori_store::StoredClause, mamori_store::AcknowledgementRow)),
    // Training: `TrainingDoc` merges the training endpoints.
    // Catalogue: `CatalogueDoc` merges the threat and control endpoints.
    // Coverage: `CoverageDoc` merges the coverage endpoint.
    modifiers(&BearerAuth, &TrainingDoc, &CatalogueDoc, &CoverageDoc, &RiskDoc),
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
    /// For `invalid`: the problem with each field.
    pub fields: Option<Vec<FieldProblem>>,
}

/// A problem with one field of a request body.
#[derive(Debug, Serialize, ToSchema)]
pub struct FieldProblem {
    /// The field.
    pub field: String,
    /// What is wrong, in the user's language.
    pub message: String,
}

/// A unit to create, or a unit's new state.
#[derive(Debug, Deserialize, ToSchema)]
pub struct UnitWrite {
    /// Stable code (`a-z`, `0-9`, `_`, `-`, `.`).
    pub code: String,
    /// Name.
    pub name: String,
    /// The parent unit's code; absent or null for a top-level unit.
    pub parent: Option<String>,
    /// In the policy's scope (default true).
    #[serde(default = "yes")]
    pub in_scope: bool,
}

fn yes() -> bool {
    true
}

impl UnitWrite {
    fn form(&self) -> crate::pages::units::UnitForm {
        crate::pages::units::UnitForm {
            code: self.code.clone(),
            name: self.name.clone(),
            parent: self.parent.clone().unwrap_or_default(),
            in_scope: self.in_scope.then(|| "on".to_owned()),
        }
    }
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
    pub(crate) fn limit(&self) -> AppResult<i64> {
        match self.limit {
            None => Ok(50),
            Some(l) if (1..=1000).contains(&l) => Ok(l),
            Some(_) => Err(AppError::BadRequest("api-limit-range")),
        }
    }

    pub(crate) fn offset(&self) -> AppResult<i64> {
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

/// People list parameters.
#[derive(Debug, Deserialize, IntoParams)]
pub struct PeopleQuery {
    /// Rows to return (1–1000, default 50).
    pub limit: Option<i64>,
    /// Rows to skip.
    pub offset: Option<i64>,
    /// Free text over staff id, name and kana.
    pub q: Option<String>,
    /// A unit code (with the units beneath it).
    pub unit: Option<String>,
    /// Employment category code.
    pub category: Option<String>,
    /// `active` (not left), `left`, or `all` (default).
    pub status: Option<String>,
}

/// List people (only those in units where the caller may read people).
#[utoipa::path(get, path = "/api/v1/people", params(PeopleQuery),
    responses((status = 200, body = PersonList), (status = 401, body = ErrorBody), (status = 403, body = ErrorBody)))]
pub async fn list_people(
    State(state): State<AppState>,
    Extension(p): Extension<Arc<Principal>>,
    Extension(version): Extension<DataVersion>,
    uri: OriginalUri,
    Extension(settings): Extension<Arc<mamori_domain::settings::OrgSettings>>,
    Query(query): Query<PeopleQuery>,
) -> AppResult<Response> {
    let paging = Paging {
        limit: query.limit,
        offset: query.offset,
        q: None,
    };
    let (limit, offset) = (paging.limit()?, paging.offset()?);
    let bad = |field: &str| AppError::Invalid(vec![(field.to_owned(), "error-bad-filter".into())]);
    let unit = match query
        .unit
        .as_deref()
        .map(str::trim)
        .filter(|u| !u.is_empty())
    {
        Some(code) => Some(
            state
                .store
                .unit_by_code(code)
                .await?
                .ok_or_else(|| bad("unit"))?
                .id,
        ),
        None => None,
    };
    let now = time::OffsetDateTime::now_utc();
    let today = mamori_domain::settings::local_date(now.unix_timestamp(), &settings.time_zone)
        .unwrap_or(now.date());
    let (on, left_only) = match query.status.as_deref().unwrap_or("all") {
        "all" | "" => (None, false),
        "active" => (Some(today), false),
        "left" => (Some(today), true),
        _ => return Err(bad("status")),
    };
    cached_json(&state, &p, version, &uri, || async {
        let filter = PeopleFilter {
            unit_roots: p.grants.unit_roots(Permission::PeopleRead),
            query: query.q.clone(),
            unit,
            category: query.category.clone().filter(|c| !c.trim().is_empty()),
            on,
            left_only,
        };
        let (items, total) = state.store.people_page(&filter, limit, offset).await?;
        Ok(PersonList { items, total })
    })
    .await
}

/// Serves a list from the response cache when nothing has changed since it was computed for
/// this account (same data version, same query), else computes, stores and serves it.
pub(crate) async fn cached_json<T, F, Fut>(
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

/// One unit by code.
#[utoipa::path(get, path = "/api/v1/units/{code}", params(("code" = String, Path, description = "Unit code")),
    responses((status = 200, body = UnitRow), (status = 404, body = ErrorBody)))]
pub async fn get_unit(
    State(state): State<AppState>,
    Path(code): Path<String>,
) -> AppResult<Json<UnitRow>> {
    Ok(Json(
        state
            .store
            .unit_by_code(&code)
            .await?
            .ok_or(AppError::NotFound)?,
    ))
}

fn invalid(errors: crate::view::FormErrors) -> AppError {
    AppError::Invalid(errors.0.into_iter().map(|e| (e.field, e.message)).collect())
}

/// Create a unit (needs `units.manage` on the parent, or organisation-wide for a top-level unit).
#[utoipa::path(post, path = "/api/v1/units", request_body = UnitWrite,
    responses((status = 201, body = UnitRow), (status = 403, body = ErrorBody), (status = 409, body = ErrorBody), (status = 422, body = ErrorBody)))]
pub async fn create_unit(ctx: Ctx, Json(body): Json<UnitWrite>) -> AppResult<Response> {
    let p = ctx.principal()?.clone();
    let input = crate::pages::units::validate(&ctx, &body.form(), None)
        .await?
        .map_err(invalid)?;
    let mut tx = ctx.state.store.begin(p.actor(&ctx.ip)).await?;
    let unit = Store::create_unit(&mut tx, &input).await?;
    ctx.state.commit(tx).await?;
    Ok((StatusCode::CREATED, Json(unit)).into_response())
}

/// Replace a unit's fields (needs `units.manage` on the unit).
#[utoipa::path(put, path = "/api/v1/units/{code}", request_body = UnitWrite, params(("code" = String, Path, description = "Unit code")),
    responses((status = 200, body = UnitRow), (status = 403, body = ErrorBody), (status = 404, body = ErrorBody), (status = 422, body = ErrorBody)))]
pub async fn update_unit(
    ctx: Ctx,
    Path(code): Path<String>,
    Json(body): Json<UnitWrite>,
) -> AppResult<Json<UnitRow>> {
    let p = ctx.principal()?.clone();
    let unit = ctx
        .state
        .store
        .unit_by_code(&code)
        .await?
        .ok_or(AppError::NotFound)?;
    let lineage = ctx.state.store.unit_lineage(unit.id).await?;
    p.require(Permission::UnitsManage, &Target::Unit { lineage: &lineage })?;
    let input = crate::pages::units::validate(&ctx, &body.form(), Some(unit.parent.clone()))
        .await?
        .map_err(invalid)?;
    let mut tx = ctx.state.store.begin(p.actor(&ctx.ip)).await?;
    let updated = Store::update_unit(&mut tx, unit.id, &input).await?;
    ctx.state.commit(tx).await?;
    Ok(Json(updated))
}

/// A person to create, or a person's new state. Dates accept 西暦 and 和暦 (`R8.4.1`).
#[derive(Debug, Deserialize, ToSchema)]
pub struct PersonWrite {
    /// 職員番号.
    pub staff_id: String,
    /// 氏名.
    pub name: String,
    /// ふりがな.
    #[serde(default)]
    pub kana: String,
    /// The unit's code.
    pub unit: String,
    /// Employment category code.
    pub category: String,
    /// E-mail.
    #[serde(default)]
    pub email: String,
    /// 着任日.
    pub joined_on: Option<String>,
    /// 離任日 (a person who has left loses access).
    pub left_on: Option<String>,
}

impl PersonWrite {
    fn form(&self) -> crate::pages::people::PersonForm {
        crate::pages::people::PersonForm {
            staff_id: self.staff_id.clone(),
            name: self.name.clone(),
            kana: self.kana.clone(),
            unit: self.unit.clone(),
            category: self.category.clone(),
            email: self.email.clone(),
            joined_on: self.joined_on.clone().unwrap_or_default(),
            left_on: self.left_on.clone().unwrap_or_default(),
        }
    }
}

/// The person with a staff id, if the caller may read people of their unit (404 otherwise).
async fn person_by_staff_id(
    ctx: &Ctx,
    staff_id: &str,
) -> AppResult<(PersonRow, Vec<mamori_domain::UnitId>)> {
    let person = ctx
        .state
        .store
        .person_by_staff_id(staff_id)
        .await?
        .ok_or(AppError::NotFound)?;
    crate::pages::people::visible_person(ctx, person.id.0).await
}

/// One person by staff id.
#[utoipa::path(get, path = "/api/v1/people/{staff_id}", params(("staff_id" = String, Path, description = "職員番号")),
    responses((status = 200, body = PersonRow), (status = 404, body = ErrorBody)))]
pub async fn get_person(ctx: Ctx, Path(staff_id): Path<String>) -> AppResult<Json<PersonRow>> {
    Ok(Json(person_by_staff_id(&ctx, &staff_id).await?.0))
}

/// Register a person (needs `people.manage` on the unit).
#[utoipa::path(post, path = "/api/v1/people", request_body = PersonWrite,
    responses((status = 201, body = PersonRow), (status = 409, body = ErrorBody), (status = 422, body = ErrorBody)))]
pub async fn create_person(ctx: Ctx, Json(body): Json<PersonWrite>) -> AppResult<Response> {
    let p = ctx.principal()?.clone();
    let input = crate::pages::people::validate(&ctx, &body.form())
        .await?
        .map_err(invalid)?;
    let mut tx = ctx.state.store.begin(p.actor(&ctx.ip)).await?;
    let person = Store::create_person(&mut tx, &input).await?;
    ctx.state.commit(tx).await?;
    Ok((StatusCode::CREATED, Json(person)).into_response())
}

/// Replace a person's fields (needs `people.manage` on their unit and on the new one).
#[utoipa::path(put, path = "/api/v1/people/{staff_id}", request_body = PersonWrite, params(("staff_id" = String, Path, description = "職員番号")),
    responses((status = 200, body = PersonRow), (status = 403, body = ErrorBody), (status = 404, body = ErrorBody), (status = 422, body = ErrorBody)))]
pub async fn update_person(
    ctx: Ctx,
    Path(staff_id): Path<String>,
    Json(body): Json<PersonWrite>,
) -> AppResult<Json<PersonRow>> {
    let p = ctx.principal()?.clone();
    let (person, lineage) = person_by_staff_id(&ctx, &staff_id).await?;
    p.require(
        Permission::PeopleManage,
        &Target::Unit { lineage: &lineage },
    )?;
    let input = crate::pages::people::validate(&ctx, &body.form())
        .await?
        .map_err(invalid)?;
    let mut tx = ctx.state.store.begin(p.actor(&ctx.ip)).await?;
    let updated = Store::update_person(&mut tx, person.id, &input).await?;
    if input.left_on.is_some() {
        Store::revoke_access_of_leavers(&mut tx, ctx.today()).await?;
    }
    ctx.state.commit(tx).await?;
    Ok(Json(updated))
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
