//! `/api/v1/documents` and `/api/v1/acknowledgements`: policy documents, their versions and
//! acknowledgement status for scripts and the 委員会's spreadsheets. Who may read what is
//! decided by [`crate::pages::policy::may_read`], as for the pages.

use crate::api::{ErrorBody, Paging};
use crate::error::{AppError, AppResult};
use crate::pages::policy::{self, may_read, DocumentForm};
use crate::view::Ctx;
use axum::extract::{Path, Query};
use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use axum::Json;
use mamori_domain::authz::Target;
use mamori_domain::permission::Permission;
use mamori_store::{
    AcknowledgementFilter, AcknowledgementRow, DocumentRow, Store, StoredClause, VersionRow,
};
use serde::{Deserialize, Serialize};
use utoipa::{IntoParams, ToSchema};

/// A page of documents.
#[derive(Debug, Serialize, ToSchema)]
pub struct DocumentList {
    /// The documents the caller may read.
    pub items: Vec<DocumentRow>,
    /// How many.
    pub total: i64,
}

/// A page of versions.
#[derive(Debug, Serialize, ToSchema)]
pub struct VersionList {
    /// Versions, newest first (drafts only for policy editors and approvers).
    pub items: Vec<VersionDetail>,
    /// How many.
    pub total: i64,
}

/// A version with its clause tree.
#[derive(Debug, Serialize, ToSchema)]
pub struct VersionDetail {
    /// The version.
    #[serde(flatten)]
    pub version: VersionRow,
    /// Its clauses, in document order (anchors such as `6(8)`).
    pub clauses: Vec<StoredClause>,
}

/// A page of acknowledgement rows.
#[derive(Debug, Serialize, ToSchema)]
pub struct AcknowledgementList {
    /// One row per person in scope.
    pub items: Vec<AcknowledgementRow>,
    /// How many match.
    pub total: i64,
}

/// A document to create.
#[derive(Debug, Deserialize, ToSchema)]
pub struct DocumentWrite {
    /// Stable code.
    pub code: String,
    /// `basic_policy`, `standards` or `procedures`.
    pub layer: String,
    /// Title.
    pub title: String,
    /// `public`, `internal` or `restricted`.
    pub visibility: String,
    /// Role codes that may read a restricted document.
    #[serde(default)]
    pub restricted_roles: Vec<String>,
    /// Publishing asks everyone in scope to acknowledge (default true).
    #[serde(default = "yes")]
    pub requires_ack: bool,
    /// Months between reviews (default 12).
    #[serde(default = "twelve")]
    pub review_interval_months: i64,
}

fn yes() -> bool {
    true
}

fn twelve() -> i64 {
    12
}

/// A new draft version.
#[derive(Debug, Deserialize, ToSchema)]
pub struct VersionWrite {
    /// The body in Markdown (clauses as `## 1. 目的`, `### (1) 題`, `- (1) …`, `- ① …`).
    pub body: String,
    /// What changed.
    #[serde(default)]
    pub change_summary: String,
}

/// Confirming one's own acknowledgement.
#[derive(Debug, Deserialize, ToSchema)]
pub struct AcknowledgementWrite {
    /// Document code.
    pub document: String,
    /// Version number (must be the version in force).
    pub version: i64,
}

async fn document(ctx: &Ctx, id: &str) -> AppResult<DocumentRow> {
    let doc = match id.parse::<i64>() {
        Ok(n) => ctx.state.store.document(n).await?,
        Err(_) => ctx.state.store.document_by_code(id).await?,
    }
    .ok_or(AppError::NotFound)?;
    if may_read(ctx.principal.as_deref(), &doc) {
        Ok(doc)
    } else {
        Err(AppError::NotFound)
    }
}

/// List the documents the caller may read.
#[utoipa::path(get, path = "/api/v1/documents",
    responses((status = 200, body = DocumentList), (status = 401, body = ErrorBody)))]
pub async fn list_documents(ctx: Ctx) -> AppResult<Json<DocumentList>> {
    let p = ctx.principal()?;
    let items: Vec<DocumentRow> = ctx
        .state
        .store
        .documents()
        .await?
        .into_iter()
        .filter(|d| may_read(Some(p), d))
        .collect();
    let total = i64::try_from(items.len()).unwrap_or(i64::MAX);
    Ok(Json(DocumentList { items, total }))
}

/// One document by id or code.
#[utoipa::path(get, path = "/api/v1/documents/{id}", params(("id" = String, Path, description = "Document id or code")),
    responses((status = 200, body = DocumentRow), (status = 404, body = ErrorBody)))]
pub async fn get_document(ctx: Ctx, Path(id): Path<String>) -> AppResult<Json<DocumentRow>> {
    Ok(Json(document(&ctx, &id).await?))
}

/// Create a document (`policy.edit`).
#[utoipa::path(post, path = "/api/v1/documents", request_body = DocumentWrite,
    responses((status = 201, body = DocumentRow), (status = 409, body = ErrorBody), (status = 422, body = ErrorBody)))]
pub async fn create_document(ctx: Ctx, Json(body): Json<DocumentWrite>) -> AppResult<Response> {
    let form = DocumentForm {
        code: body.code.clone(),
        layer: body.layer.clone(),
        title: body.title.clone(),
        visibility: body.visibility.clone(),
        restricted_roles: body.restricted_roles.join(" "),
        asset: String::new(),
        requires_ack: body.requires_ack.then(|| "on".to_owned()),
        review_interval_months: body.review_interval_months.to_string(),
    };
    let (input, errors) = policy::validate_document(&ctx, &form).await?;
    if !errors.is_empty() {
        return Err(AppError::Invalid(
            errors.0.into_iter().map(|e| (e.field, e.message)).collect(),
        ));
    }
    let mut tx = ctx
        .state
        .store
        .begin(ctx.principal()?.actor(&ctx.ip))
        .await?;
    Store::create_document(&mut tx, &input).await?;
    tx.commit().await?;
    let doc = ctx
        .state
        .store
        .document_by_code(&input.code)
        .await?
        .ok_or(AppError::NotFound)?;
    Ok((StatusCode::CREATED, Json(doc)).into_response())
}

/// The versions of a document the caller may see, each with its clause tree.
#[utoipa::path(get, path = "/api/v1/documents/{id}/versions", params(("id" = String, Path, description = "Document id or code")),
    responses((status = 200, body = VersionList), (status = 404, body = ErrorBody)))]
pub async fn list_versions(ctx: Ctx, Path(id): Path<String>) -> AppResult<Json<VersionList>> {
    let p = ctx.principal()?;
    let doc = document(&ctx, &id).await?;
    let staff = p.can(Permission::PolicyEdit, &Target::Anywhere)
        || p.can(Permission::PolicyApprove, &Target::Anywhere);
    let mut items = Vec::new();
    for version in ctx.state.store.versions(doc.id).await? {
        let visible = staff || matches!(version.state.as_str(), "published" | "superseded");
        if visible {
            let clauses = ctx.state.store.clauses(version.id).await?;
            items.push(VersionDetail { version, clauses });
        }
    }
    let total = i64::try_from(items.len()).unwrap_or(i64::MAX);
    Ok(Json(VersionList { items, total }))
}

/// Add a draft version (`policy.edit`); the caller is its author.
#[utoipa::path(post, path = "/api/v1/documents/{id}/versions", request_body = VersionWrite, params(("id" = String, Path, description = "Document id or code")),
    responses((status = 201, body = VersionDetail), (status = 422, body = ErrorBody)))]
pub async fn create_version(
    ctx: Ctx,
    Path(id): Path<String>,
    Json(body): Json<VersionWrite>,
) -> AppResult<Response> {
    let doc = document(&ctx, &id).await?;
    let checked = policy::checked_body(ctx.lang, &body.body).map_err(AppError::Invalid)?;
    let version = policy::save_draft(&ctx, &doc, checked, &body.change_summary).await?;
    let clauses = ctx.state.store.clauses(version.id).await?;
    Ok((
        StatusCode::CREATED,
        Json(VersionDetail { version, clauses }),
    )
        .into_response())
}

/// Filters of the acknowledgement list.
#[derive(Debug, Deserialize, IntoParams)]
pub struct AcknowledgementQuery {
    /// Rows to return (1–1000, default 50).
    pub limit: Option<i64>,
    /// Rows to skip.
    pub offset: Option<i64>,
    /// Document code (default `basic-policy`).
    pub document: Option<String>,
    /// Version number (default: the version in force).
    pub version: Option<i64>,
    /// Unit code.
    pub unit: Option<String>,
    /// Employment category code.
    pub category: Option<String>,
    /// `acknowledged`, `pending` or `all` (default).
    pub status: Option<String>,
}

/// Acknowledgement status per person in scope, for units whose people the caller may read.
#[utoipa::path(get, path = "/api/v1/acknowledgements", params(AcknowledgementQuery),
    responses((status = 200, body = AcknowledgementList), (status = 400, body = ErrorBody), (status = 404, body = ErrorBody)))]
pub async fn list_acknowledgements(
    ctx: Ctx,
    Query(q): Query<AcknowledgementQuery>,
) -> AppResult<Json<AcknowledgementList>> {
    let p = ctx.principal()?;
    let paging = Paging {
        limit: q.limit,
        offset: q.offset,
        q: None,
    };
    let (limit, offset) = (paging.limit()?, paging.offset()?);
    let doc = document(
        &ctx,
        q.document
            .as_deref()
            .unwrap_or(mamori_store::BASIC_POLICY_CODE),
    )
    .await?;
    let version = ctx
        .state
        .store
        .version(doc.id, policy::version_number(&doc, q.version)?)
        .await?
        .ok_or(AppError::NotFound)?;
    let bad = |field: &str| {
        AppError::Invalid(vec![(
            field.to_owned(),
            crate::i18n::tr(ctx.lang, "error-bad-filter"),
        )])
    };
    let unit_id = match q.unit.as_deref().map(str::trim).filter(|u| !u.is_empty()) {
        Some(code) => Some(
            ctx.state
                .store
                .unit_by_code(code)
                .await?
                .ok_or_else(|| bad("unit"))?
                .id
                .0,
        ),
        None => None,
    };
    let acknowledged = match q.status.as_deref().unwrap_or("all") {
        "all" | "" => None,
        "acknowledged" => Some(true),
        "pending" => Some(false),
        _ => return Err(bad("status")),
    };
    let visible_units = policy::followed_units(&ctx, p).await?;
    let filter = AcknowledgementFilter {
        version_id: version.id,
        unit_id,
        category: q.category.clone().filter(|c| !c.trim().is_empty()),
        acknowledged,
        visible_units,
    };
    let (items, total) = ctx
        .state
        .store
        .acknowledgements_page(&filter, &ctx.today().to_string(), limit, offset)
        .await?;
    Ok(Json(AcknowledgementList { items, total }))
}

/// Confirm having read the version in force (the caller's own acknowledgement; the client
/// address is recorded).
#[utoipa::path(post, path = "/api/v1/acknowledgements", request_body = AcknowledgementWrite,
    responses((status = 201, description = "Recorded"), (status = 200, description = "Already recorded"), (status = 409, body = ErrorBody)))]
pub async fn acknowledge(ctx: Ctx, Json(body): Json<AcknowledgementWrite>) -> AppResult<Response> {
    let p = ctx.principal()?;
    let doc = document(&ctx, &body.document).await?;
    let version = ctx
        .state
        .store
        .version(doc.id, body.version)
        .await?
        .ok_or(AppError::NotFound)?;
    let person = p
        .user
        .person_id
        .ok_or(AppError::Conflict("ack-refused-no-person", String::new()))?;
    let mut tx = ctx.state.store.begin(p.actor(&ctx.ip)).await?;
    let added =
        Store::acknowledge(&mut tx, &version, person.0, Some(p.user.id.0), &ctx.ip.0).await?;
    if added {
        tx.commit().await?;
        Ok(StatusCode::CREATED.into_response())
    } else {
        Ok(StatusCode::OK.into_response())
    }
}
