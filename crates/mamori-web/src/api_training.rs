//! Training endpoints of the JSON API: courses and completion records. They join the OpenAPI
//! document through [`TrainingDoc`], a modifier of [`crate::api::ApiDoc`].

use crate::api::{cached_json, ErrorBody};
use crate::error::{AppError, AppResult};
use crate::pages::training::{
    reader_roots, validate_course, validate_record, CourseForm, RecordForm,
};
use crate::session::{DataVersion, Principal};
use crate::view::Ctx;
use crate::AppState;
use axum::extract::{OriginalUri, Path, Query, State};
use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use axum::{Extension, Json};
use mamori_domain::training::{parse_fiscal_year, Source};
use mamori_store::{CourseRow, RecordRow, Store, TrainingFilter};
use serde::{Deserialize, Serialize};
use std::sync::Arc;
use utoipa::{IntoParams, OpenApi, ToSchema};

/// The training part of the OpenAPI document.
#[derive(OpenApi)]
#[openapi(
    paths(list_courses, get_course, create_course, list_records, create_record),
    components(schemas(CourseList, CourseWrite, RecordList, RecordWrite, CourseRow, RecordRow))
)]
struct TrainingApi;

/// Adds the training endpoints to the API document.
pub struct TrainingDoc;

impl utoipa::Modify for TrainingDoc {
    fn modify(&self, openapi: &mut utoipa::openapi::OpenApi) {
        openapi.merge(TrainingApi::openapi());
    }
}

fn invalid(errors: crate::view::FormErrors) -> AppError {
    AppError::Invalid(errors.0.into_iter().map(|e| (e.field, e.message)).collect())
}

/// A page of courses.
#[derive(Debug, Serialize, ToSchema)]
pub struct CourseList {
    /// The courses.
    pub items: Vec<CourseRow>,
    /// How many there are.
    pub total: i64,
}

/// Paging.
#[derive(Debug, Deserialize, IntoParams)]
pub struct CoursePaging {
    /// Rows to return (1–1000, default 50).
    pub limit: Option<i64>,
    /// Rows to skip.
    pub offset: Option<i64>,
}

/// List courses (every logged-in account may read the catalogue).
#[utoipa::path(get, path = "/api/v1/courses", params(CoursePaging),
    responses((status = 200, body = CourseList), (status = 401, body = ErrorBody)))]
pub async fn list_courses(
    State(state): State<AppState>,
    Extension(p): Extension<Arc<Principal>>,
    Extension(version): Extension<DataVersion>,
    uri: OriginalUri,
    Query(q): Query<CoursePaging>,
) -> AppResult<Response> {
    let paging = crate::api::Paging {
        limit: q.limit,
        offset: q.offset,
        q: None,
    };
    let (limit, offset) = (paging.limit()?, paging.offset()?);
    cached_json(&state, &p, version, &uri, || async {
        let all = state.store.courses().await?;
        let total = all.len() as i64;
        let items = all
            .into_iter()
            .skip(offset as usize)
            .take(limit as usize)
            .collect();
        Ok(CourseList { items, total })
    })
    .await
}

/// One course by code.
#[utoipa::path(get, path = "/api/v1/courses/{code}", params(("code" = String, Path, description = "Course code")),
    responses((status = 200, body = CourseRow), (status = 404, body = ErrorBody)))]
pub async fn get_course(
    State(state): State<AppState>,
    Path(code): Path<String>,
) -> AppResult<Json<CourseRow>> {
    Ok(Json(
        state
            .store
            .course_by_code(&code)
            .await?
            .ok_or(AppError::NotFound)?,
    ))
}

/// A course to create. Targets empty: everyone.
#[derive(Debug, Deserialize, ToSchema)]
pub struct CourseWrite {
    /// Stable code.
    pub code: String,
    /// Title.
    pub title: String,
    /// Description.
    #[serde(default)]
    pub description: String,
    /// Employment category codes.
    #[serde(default)]
    pub target_categories: Vec<String>,
    /// Role codes.
    #[serde(default)]
    pub target_roles: Vec<String>,
    /// `annual` or `once`.
    pub recurrence: String,
    /// For new staff (then `once`, with `due_days`).
    #[serde(default)]
    pub onboarding: bool,
    /// Days allowed.
    #[serde(default)]
    pub due_days: u32,
    /// Quiz pass mark (percent, default 80).
    pub pass_mark: Option<u32>,
    /// Start (西暦 or 和暦; default today).
    pub starts_on: Option<String>,
    /// Assigned at all (default true).
    pub active: Option<bool>,
}

/// Create a course (needs `training.manage` organisation-wide).
#[utoipa::path(post, path = "/api/v1/courses", request_body = CourseWrite,
    responses((status = 201, body = CourseRow), (status = 403, body = ErrorBody), (status = 409, body = ErrorBody), (status = 422, body = ErrorBody)))]
pub async fn create_course(ctx: Ctx, Json(body): Json<CourseWrite>) -> AppResult<Response> {
    let p = ctx.principal()?.clone();
    p.require(
        mamori_domain::permission::Permission::TrainingManage,
        &mamori_domain::authz::Target::Organisation,
    )?;
    let mut target: Vec<(String, String)> = body
        .target_categories
        .iter()
        .map(|c| ("category".to_owned(), c.clone()))
        .collect();
    target.extend(
        body.target_roles
            .iter()
            .map(|r| ("role".to_owned(), r.clone())),
    );
    let form = CourseForm {
        code: body.code,
        title: body.title,
        description: body.description,
        target,
        recurrence: body.recurrence,
        onboarding: body.onboarding.then(|| "on".to_owned()),
        due_days: body.due_days.to_string(),
        pass_mark: body.pass_mark.unwrap_or(80).to_string(),
        starts_on: body.starts_on.unwrap_or_default(),
        active: body.active.unwrap_or(true).then(|| "on".to_owned()),
    };
    let input = validate_course(&ctx, &form).await?.map_err(invalid)?;
    let mut tx = ctx.state.store.begin(p.actor(&ctx.ip)).await?;
    let course = Store::create_course(&mut tx, &input).await?;
    ctx.state.commit(tx).await?;
    Ok((StatusCode::CREATED, Json(course)).into_response())
}

/// A page of completion records.
#[derive(Debug, Serialize, ToSchema)]
pub struct RecordList {
    /// The records.
    pub items: Vec<RecordRow>,
    /// How many match.
    pub total: i64,
}

/// Completion record filters.
#[derive(Debug, Deserialize, IntoParams)]
pub struct RecordQuery {
    /// Rows to return (1–1000, default 50).
    pub limit: Option<i64>,
    /// Rows to skip.
    pub offset: Option<i64>,
    /// Course code.
    pub course: Option<String>,
    /// 年度 (`2026`, `令和8年度`, `R8`, `FY2026`).
    pub fiscal_year: Option<String>,
    /// A unit code (with the units beneath it).
    pub unit: Option<String>,
    /// A person's staff id.
    pub person: Option<String>,
}

/// List completion records of the people in units where the caller holds `training.manage`
/// or `people.read`, newest 年度 first.
#[utoipa::path(get, path = "/api/v1/training-records", params(RecordQuery),
    responses((status = 200, body = RecordList), (status = 401, body = ErrorBody), (status = 403, body = ErrorBody), (status = 422, body = ErrorBody)))]
pub async fn list_records(
    State(state): State<AppState>,
    Extension(p): Extension<Arc<Principal>>,
    Extension(version): Extension<DataVersion>,
    uri: OriginalUri,
    Query(q): Query<RecordQuery>,
) -> AppResult<Response> {
    let paging = crate::api::Paging {
        limit: q.limit,
        offset: q.offset,
        q: None,
    };
    let (limit, offset) = (paging.limit()?, paging.offset()?);
    let bad = |field: &str| AppError::Invalid(vec![(field.to_owned(), "error-bad-filter".into())]);
    let nonempty = |v: &Option<String>| {
        v.as_deref()
            .map(str::trim)
            .filter(|s| !s.is_empty())
            .map(str::to_owned)
    };
    let fiscal_year = match nonempty(&q.fiscal_year) {
        Some(fy) => Some(parse_fiscal_year(&fy).ok_or_else(|| bad("fiscal_year"))?),
        None => None,
    };
    let unit = match nonempty(&q.unit) {
        Some(code) => Some(
            state
                .store
                .unit_by_code(&code)
                .await?
                .ok_or_else(|| bad("unit"))?
                .id,
        ),
        None => None,
    };
    cached_json(&state, &p, version, &uri, || async {
        let filter = TrainingFilter {
            unit_roots: reader_roots(&p),
            unit,
            course: nonempty(&q.course),
            fiscal_year,
            staff_id: nonempty(&q.person),
            category: None,
        };
        let (items, total) = state
            .store
            .training_records_page(&filter, limit, offset)
            .await?;
        Ok(RecordList { items, total })
    })
    .await
}

/// A completion to record (the 年度 is that of the date).
#[derive(Debug, Deserialize, ToSchema)]
pub struct RecordWrite {
    /// 職員番号.
    pub staff_id: String,
    /// Course code.
    pub course: String,
    /// 修了日 (西暦 or 和暦).
    pub completed_on: String,
    /// 得点 (percent).
    pub score: Option<u32>,
}

/// Record a completion (needs `training.manage` on the person's unit). Recording it again
/// for the same 年度 replaces it.
#[utoipa::path(post, path = "/api/v1/training-records", request_body = RecordWrite,
    responses((status = 201, body = RecordRow), (status = 403, body = ErrorBody), (status = 422, body = ErrorBody)))]
pub async fn create_record(ctx: Ctx, Json(body): Json<RecordWrite>) -> AppResult<Response> {
    let p = ctx.principal()?.clone();
    let form = RecordForm {
        staff_id: body.staff_id,
        course: body.course,
        completed_on: body.completed_on,
        score: body.score.map(|s| s.to_string()).unwrap_or_default(),
    };
    let input = validate_record(&ctx, &form, Source::Manager)
        .await?
        .map_err(invalid)?;
    let mut tx = ctx.state.store.begin(p.actor(&ctx.ip)).await?;
    let (row, changed) = Store::record_completion(&mut tx, &input).await?;
    if changed {
        ctx.state.commit(tx).await?;
        Ok((StatusCode::CREATED, Json(row)).into_response())
    } else {
        Ok((StatusCode::OK, Json(row)).into_response())
    }
}
