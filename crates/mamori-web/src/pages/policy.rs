//! Policy documents: list, versions with their lifecycle, diff, print view, the public basic
//! policy, and acknowledgement (clause 5) with completion by unit and category.
//!
//! The lifecycle rules are `mamori_domain::policy::lifecycle`; who may read what is
//! [`may_read`] here, built on the domain's visibility rule.

use crate::error::{AppError, AppResult};
use crate::session::Principal;
use crate::view::{query_string, Chrome, Ctx, FormErrors, Pager};
use askama::Template;
use axum::extract::{Path, Query};
use axum::http::StatusCode;
use axum::response::{IntoResponse, Redirect, Response};
use axum::Form;
use mamori_domain::assets::AssetType;
use mamori_domain::authz::Target;
use mamori_domain::permission::Permission;
use mamori_domain::policy::diff::{side_by_side, DiffRow};
use mamori_domain::policy::lifecycle::{self, VersionState};
use mamori_domain::policy::markdown::{check_outline, outline, ClauseRow};
use mamori_domain::policy::render::render_html;
use mamori_store::{
    AcknowledgementFilter, AcknowledgementRow, CompletionRow, DocumentInput, DocumentRow,
    NewVersion, Store, VersionRow, BASIC_POLICY_CODE,
};
use serde::Deserialize;

/// Largest Markdown body accepted (bytes).
pub const MAX_BODY_BYTES: usize = 512 * 1024;

/// Codes that are paths of their own under `/policy/`.
const RESERVED_CODES: &[&str] = &["new", "acknowledgements"];

/// True when the principal edits or approves policy (sees drafts and every document).
fn is_policy_staff(p: &Principal) -> bool {
    p.can(Permission::PolicyEdit, &Target::Anywhere)
        || p.can(Permission::PolicyApprove, &Target::Anywhere)
}

/// May `p` (or an anonymous visitor) read `doc`'s published text?
pub fn may_read(p: Option<&Principal>, doc: &DocumentRow) -> bool {
    let visibility = lifecycle::Visibility::from_code(&doc.visibility)
        .unwrap_or(lifecycle::Visibility::Restricted);
    let holds_role = p.is_some_and(|p| doc.restricted_roles.iter().any(|r| p.roles.contains(r)));
    lifecycle::may_read(
        visibility,
        p.is_some(),
        holds_role,
        p.is_some_and(is_policy_staff),
    )
}

/// May `p` see `version` of `doc`? Drafts and versions under review are for policy staff.
fn may_see_version(p: &Principal, doc: &DocumentRow, version: &VersionRow) -> bool {
    match version.state() {
        VersionState::Published | VersionState::Superseded => may_read(Some(p), doc),
        _ => is_policy_staff(p),
    }
}

async fn document_for(ctx: &Ctx, code: &str) -> AppResult<DocumentRow> {
    let doc = ctx
        .state
        .store
        .document_by_code(code)
        .await?
        .ok_or(AppError::NotFound)?;
    // Not readable: answer as if it did not exist, so titles do not leak.
    if !may_read(ctx.principal.as_deref(), &doc) {
        return Err(AppError::NotFound);
    }
    Ok(doc)
}

/// The versions of `doc` that `p` may see, newest first.
async fn visible_versions(
    ctx: &Ctx,
    p: &Principal,
    doc: &DocumentRow,
) -> AppResult<Vec<VersionRow>> {
    Ok(ctx
        .state
        .store
        .versions(doc.id)
        .await?
        .into_iter()
        .filter(|v| may_see_version(p, doc, v))
        .collect())
}

async fn version_for(ctx: &Ctx, doc: &DocumentRow, number: i64) -> AppResult<VersionRow> {
    let v = ctx
        .state
        .store
        .version(doc.id, number)
        .await?
        .ok_or(AppError::NotFound)?;
    if !may_see_version(ctx.principal()?, doc, &v) {
        return Err(AppError::NotFound);
    }
    Ok(v)
}

/// A row of the 改版履歴 table.
pub struct HistoryRow {
    /// 版数.
    pub edition: String,
    /// 作成日 (`YYYY-MM-DD`).
    pub created_on: String,
    /// 作成者.
    pub author: String,
    /// 承認: the historic text, or the approval date (`YYYY-MM-DD`) of a Mamori version.
    pub approval: String,
    /// Whether `approval` is a date to format.
    pub approval_is_date: bool,
}

/// The 改版履歴 of a document: its approved versions, oldest first.
pub fn history(versions: &[VersionRow]) -> Vec<HistoryRow> {
    let mut rows: Vec<HistoryRow> = versions
        .iter()
        .filter(|v| {
            matches!(
                v.state(),
                VersionState::Published | VersionState::Superseded
            )
        })
        .map(|v| {
            let (approval, approval_is_date) = if v.imported {
                (v.approval_text.clone(), false)
            } else {
                (v.approved_on.clone().unwrap_or_default(), true)
            };
            HistoryRow {
                edition: v.edition.clone(),
                created_on: v.created_on.clone(),
                author: v.author.clone(),
                approval,
                approval_is_date,
            }
        })
        .collect();
    rows.reverse();
    rows
}

#[derive(Template)]
#[template(path = "documents.html")]
struct ListPage {
    c: Chrome,
    documents: Vec<DocumentRow>,
    can_create: bool,
    today: String,
}

/// GET `/policy`: the documents the person may read.
pub async fn list(ctx: Ctx) -> AppResult<Response> {
    let p = ctx.principal()?;
    let documents = ctx
        .state
        .store
        .documents()
        .await?
        .into_iter()
        .filter(|d| may_read(Some(p), d))
        .collect();
    Ok(ctx.page(&ListPage {
        c: ctx.chrome(),
        documents,
        can_create: p.can(Permission::PolicyEdit, &Target::Anywhere),
        today: ctx.today().to_string(),
    }))
}

/// The next review date of a document (from its version in force), `YYYY-MM-DD`.
pub fn next_review(doc: &DocumentRow) -> Option<String> {
    let published = doc.published.as_ref()?.published_on.as_deref()?;
    let date = mamori_domain::wareki::parse_date(published).ok()?;
    let months = u32::try_from(doc.review_interval_months).unwrap_or(12);
    Some(lifecycle::next_review(date, months).to_string())
}

/// GET `/policy/{code}`: the version in force (or, for policy staff, the newest).
pub async fn show(ctx: Ctx, Path(code): Path<String>) -> AppResult<Response> {
    let doc = document_for(&ctx, &code).await?;
    let number = match &doc.published {
        Some(v) => v.number,
        None => {
            let newest = visible_versions(&ctx, ctx.principal()?, &doc).await?;
            newest.first().ok_or(AppError::NotFound)?.number
        }
    };
    Ok(Redirect::to(&format!("/policy/{}/versions/{number}", doc.code)).into_response())
}

#[derive(Template)]
#[template(path = "document.html")]
struct VersionPage {
    c: Chrome,
    doc: DocumentRow,
    version: VersionRow,
    body_html: String,
    versions: Vec<VersionRow>,
    history: Vec<HistoryRow>,
    next_review: Option<String>,
    pending_ack: bool,
    acknowledged_at: Option<String>,
    can_edit: bool,
    can_approve: bool,
    can_submit: bool,
    can_publish: bool,
    can_return: bool,
    can_manage: bool,
    can_follow: bool,
    refusal: Option<String>,
}

/// GET `/policy/{code}/versions/{number}`.
pub async fn version_page(
    ctx: Ctx,
    Path((code, number)): Path<(String, i64)>,
) -> AppResult<Response> {
    let doc = document_for(&ctx, &code).await?;
    let version = version_for(&ctx, &doc, number).await?;
    render_version(&ctx, doc, version, None, StatusCode::OK).await
}

async fn render_version(
    ctx: &Ctx,
    doc: DocumentRow,
    version: VersionRow,
    refusal: Option<String>,
    status: StatusCode,
) -> AppResult<Response> {
    let p = ctx.principal()?;
    let versions = visible_versions(ctx, p, &doc).await?;
    let pending_ack = ctx.pending_acks.iter().any(|a| a.version_id == version.id);
    let acknowledged_at = match p.user.person_id {
        Some(person) => {
            ctx.state
                .store
                .acknowledged_at(version.id, person.0)
                .await?
        }
        None => None,
    };
    let editor = p.can(Permission::PolicyEdit, &Target::Anywhere);
    let approver = p.can(Permission::PolicyApprove, &Target::Anywhere);
    let state = version.state();
    let page = VersionPage {
        c: ctx.chrome(),
        body_html: render_html(&version.body),
        history: history(&versions),
        next_review: next_review(&doc),
        pending_ack,
        acknowledged_at,
        can_edit: editor && state == VersionState::Draft,
        can_submit: editor && state == VersionState::Draft,
        can_approve: approver && state == VersionState::InReview,
        can_return: (editor || approver) && state == VersionState::InReview,
        can_publish: (editor || approver) && state == VersionState::Approved,
        can_manage: editor,
        can_follow: editor || p.can(Permission::PeopleRead, &Target::Anywhere),
        refusal,
        doc,
        version,
        versions,
    };
    Ok(ctx.page_with_status(status, &page))
}

/// POST `/policy/{code}/versions/{number}/acknowledge`: the person confirms having read it.
pub async fn acknowledge(
    ctx: Ctx,
    Path((code, number)): Path<(String, i64)>,
) -> AppResult<Response> {
    let p = ctx.principal()?;
    let doc = document_for(&ctx, &code).await?;
    let version = version_for(&ctx, &doc, number).await?;
    let person = p
        .user
        .person_id
        .ok_or(AppError::Conflict("ack-refused-no-person", String::new()))?;
    let mut tx = ctx
        .state
        .store
        .begin(ctx.principal()?.actor(&ctx.ip))
        .await?;
    let added =
        Store::acknowledge(&mut tx, &version, person.0, Some(p.user.id.0), &ctx.ip.0).await?;
    if added {
        tx.commit().await?;
    }
    let to = format!("/policy/{}/versions/{}", doc.code, version.number);
    Ok(ctx.redirect_flash(&to, "flash-acknowledged"))
}

/// The version form.
#[derive(Debug, Clone, Default, Deserialize)]
pub struct VersionForm {
    #[serde(default)]
    body: String,
    #[serde(default)]
    change_summary: String,
}

#[derive(Template)]
#[template(path = "version_form.html")]
struct VersionFormPage {
    c: Chrome,
    doc: DocumentRow,
    version: Option<VersionRow>,
    values: VersionForm,
    errors: FormErrors,
}

/// GET `/policy/{code}/versions/new`: a new draft, starting from the newest text.
pub async fn new_version_form(ctx: Ctx, Path(code): Path<String>) -> AppResult<Response> {
    let doc = document_for(&ctx, &code).await?;
    let newest = ctx.state.store.versions(doc.id).await?;
    let body = newest
        .iter()
        .find(|v| !v.body.is_empty())
        .map(|v| v.body.clone())
        .unwrap_or_default();
    Ok(ctx.page(&VersionFormPage {
        c: ctx.chrome(),
        doc,
        version: None,
        values: VersionForm {
            body,
            change_summary: String::new(),
        },
        errors: FormErrors::default(),
    }))
}

/// A body ready to store: its text with newlines normalised, and its clause outline.
pub(crate) type CheckedBody = (String, Vec<ClauseRow>);
/// Problems as (field, message in the user's language).
pub(crate) type Problems = Vec<(String, String)>;

/// Checks a submitted body (size, text only, not empty, a clause outline with unique and
/// ordered numbers) and returns it with newlines normalised, and its outline; or the
/// problems as (field, message).
pub(crate) fn checked_body(lang: crate::i18n::Lang, body: &str) -> Result<CheckedBody, Problems> {
    let problem = |id: &str| vec![("body".to_owned(), crate::i18n::tr(lang, id))];
    if body.len() > MAX_BODY_BYTES {
        return Err(problem("policy-body-too-large"));
    }
    if body
        .chars()
        .any(|c| c.is_control() && !matches!(c, '\n' | '\r' | '\t'))
    {
        return Err(problem("policy-body-binary"));
    }
    if body.trim().is_empty() {
        return Err(problem("error-required-text"));
    }
    let body = body.replace("\r\n", "\n").replace('\r', "\n");
    let clauses = outline(&body);
    let outline_problems = check_outline(&clauses);
    if !outline_problems.is_empty() {
        return Err(outline_problems
            .iter()
            .map(|p| {
                let args: Vec<(&str, String)> = p.args.clone();
                (
                    "body".to_owned(),
                    crate::i18n::tr_args(lang, p.message, &args),
                )
            })
            .collect());
    }
    Ok((body, clauses))
}

/// The form's errors, or its checked body and outline.
fn check_form(ctx: &Ctx, form: &VersionForm) -> Result<CheckedBody, FormErrors> {
    let mut errors = FormErrors::default();
    if form.change_summary.chars().count() > 2000 {
        errors.add(ctx.lang, "change_summary", "error-too-long");
    }
    match checked_body(ctx.lang, &form.body) {
        Ok(checked) if errors.is_empty() => Ok(checked),
        Ok(_) => Err(errors),
        Err(problems) => {
            for (field, message) in problems {
                errors.add_text(&field, message);
            }
            Err(errors)
        }
    }
}

/// Stores a checked body as a new draft of `doc` by the principal; returns the new version.
pub(crate) async fn save_draft(
    ctx: &Ctx,
    doc: &DocumentRow,
    (body, clauses): CheckedBody,
    change_summary: &str,
) -> AppResult<VersionRow> {
    let p = ctx.principal()?;
    let mut tx = ctx.state.store.begin(p.actor(&ctx.ip)).await?;
    let id = Store::add_version(
        &mut tx,
        doc.id,
        &NewVersion {
            body: &body,
            clauses: &clauses,
            change_summary: change_summary.trim(),
            created_on: &ctx.today().to_string(),
            author_user_id: Some(p.user.id.0),
            historic: None,
        },
    )
    .await?;
    tx.commit().await?;
    ctx.state
        .store
        .version_by_id(id)
        .await?
        .ok_or(AppError::NotFound)
}

/// POST `/policy/{code}/versions`: saves a new draft.
pub async fn create_version(
    ctx: Ctx,
    Path(code): Path<String>,
    Form(form): Form<VersionForm>,
) -> AppResult<Response> {
    let doc = document_for(&ctx, &code).await?;
    let checked = match check_form(&ctx, &form) {
        Ok(checked) => checked,
        Err(errors) => {
            return Ok(ctx.page_with_status(
                StatusCode::UNPROCESSABLE_ENTITY,
                &VersionFormPage {
                    c: ctx.chrome(),
                    doc,
                    version: None,
                    values: form,
                    errors,
                },
            ))
        }
    };
    let v = save_draft(&ctx, &doc, checked, &form.change_summary).await?;
    Ok(ctx.redirect_flash(
        &format!("/policy/{}/versions/{}", doc.code, v.number),
        "flash-saved",
    ))
}

/// GET `/policy/{code}/versions/{number}/edit` (drafts only).
pub async fn edit_version_form(
    ctx: Ctx,
    Path((code, number)): Path<(String, i64)>,
) -> AppResult<Response> {
    let doc = document_for(&ctx, &code).await?;
    let version = version_for(&ctx, &doc, number).await?;
    if version.state() != VersionState::Draft {
        return Err(AppError::Conflict(
            "policy-refused-not-draft",
            String::new(),
        ));
    }
    let values = VersionForm {
        body: version.body.clone(),
        change_summary: version.change_summary.clone(),
    };
    Ok(ctx.page(&VersionFormPage {
        c: ctx.chrome(),
        doc,
        version: Some(version),
        values,
        errors: FormErrors::default(),
    }))
}

/// POST `/policy/{code}/versions/{number}`: saves a draft's text.
pub async fn update_version(
    ctx: Ctx,
    Path((code, number)): Path<(String, i64)>,
    Form(form): Form<VersionForm>,
) -> AppResult<Response> {
    let doc = document_for(&ctx, &code).await?;
    let version = version_for(&ctx, &doc, number).await?;
    let (body, clauses) = match check_form(&ctx, &form) {
        Ok(checked) => checked,
        Err(errors) => {
            return Ok(ctx.page_with_status(
                StatusCode::UNPROCESSABLE_ENTITY,
                &VersionFormPage {
                    c: ctx.chrome(),
                    doc,
                    version: Some(version),
                    values: form,
                    errors,
                },
            ))
        }
    };
    let mut tx = ctx
        .state
        .store
        .begin(ctx.principal()?.actor(&ctx.ip))
        .await?;
    Store::update_draft(
        &mut tx,
        &version,
        &body,
        &clauses,
        form.change_summary.trim(),
    )
    .await?;
    tx.commit().await?;
    Ok(ctx.redirect_flash(
        &format!("/policy/{}/versions/{}", doc.code, version.number),
        "flash-saved",
    ))
}

/// A reason given with a transition (return to draft).
#[derive(Debug, Clone, Default, Deserialize)]
pub struct ReasonForm {
    #[serde(default)]
    reason: String,
}

/// The lifecycle step a POST asks for.
#[derive(Debug, Clone, Copy)]
enum Step {
    Submit,
    Return,
    Approve,
    Publish,
}

async fn transition(
    ctx: Ctx,
    code: String,
    number: i64,
    step: Step,
    reason: String,
) -> AppResult<Response> {
    let p = ctx.principal()?;
    let doc = document_for(&ctx, &code).await?;
    let version = version_for(&ctx, &doc, number).await?;
    let state = version.state();
    let user = p.user.id.0;
    let decided = match step {
        Step::Submit => lifecycle::submit(state),
        Step::Return => lifecycle::return_to_draft(state, &reason),
        Step::Approve => lifecycle::approve(
            state,
            version.author_user_id,
            user,
            version.approver_user_id,
        ),
        Step::Publish => lifecycle::publish(state),
    };
    let to = match decided {
        Ok(to) => to,
        Err(refusal) => {
            let args: Vec<(&str, String)> = refusal.args.clone();
            let message = crate::i18n::tr_args(ctx.lang, refusal.message, &args);
            return render_version(&ctx, doc, version, Some(message), StatusCode::CONFLICT).await;
        }
    };
    let by = matches!(step, Step::Approve).then_some(user);
    let mut tx = ctx
        .state
        .store
        .begin(ctx.principal()?.actor(&ctx.ip))
        .await?;
    Store::move_version(
        &mut tx,
        &version,
        to,
        by,
        &ctx.today().to_string(),
        reason.trim(),
    )
    .await?;
    tx.commit().await?;
    let flash = match step {
        Step::Submit => "flash-policy-submitted",
        Step::Return => "flash-policy-returned",
        Step::Approve => "flash-policy-approved",
        Step::Publish => "flash-policy-published",
    };
    Ok(ctx.redirect_flash(
        &format!("/policy/{}/versions/{}", doc.code, version.number),
        flash,
    ))
}

/// POST `/policy/{code}/versions/{number}/submit`.
pub async fn submit(ctx: Ctx, Path((code, number)): Path<(String, i64)>) -> AppResult<Response> {
    transition(ctx, code, number, Step::Submit, String::new()).await
}

/// POST `/policy/{code}/versions/{number}/return`.
pub async fn send_back(
    ctx: Ctx,
    Path((code, number)): Path<(String, i64)>,
    Form(form): Form<ReasonForm>,
) -> AppResult<Response> {
    transition(ctx, code, number, Step::Return, form.reason).await
}

/// POST `/policy/{code}/versions/{number}/approve` (the CISO; never the author).
pub async fn approve(ctx: Ctx, Path((code, number)): Path<(String, i64)>) -> AppResult<Response> {
    transition(ctx, code, number, Step::Approve, String::new()).await
}

/// POST `/policy/{code}/versions/{number}/publish`: in force from today; opens the
/// acknowledgement for everyone in scope.
pub async fn publish(ctx: Ctx, Path((code, number)): Path<(String, i64)>) -> AppResult<Response> {
    transition(ctx, code, number, Step::Publish, String::new()).await
}

/// Which two versions to compare.
#[derive(Debug, Deserialize)]
pub struct DiffQuery {
    from: Option<i64>,
    to: Option<i64>,
}

#[derive(Template)]
#[template(path = "policy_diff.html")]
struct DiffPage {
    c: Chrome,
    doc: DocumentRow,
    versions: Vec<VersionRow>,
    from: VersionRow,
    to: VersionRow,
    rows: Vec<DiffRow>,
}

/// GET `/policy/{code}/diff?from=N&to=M`: side by side.
pub async fn diff(
    ctx: Ctx,
    Path(code): Path<String>,
    Query(q): Query<DiffQuery>,
) -> AppResult<Response> {
    let p = ctx.principal()?;
    let doc = document_for(&ctx, &code).await?;
    let versions = visible_versions(&ctx, p, &doc).await?;
    let pick = |n: Option<i64>, fallback: usize| -> AppResult<VersionRow> {
        match n {
            Some(n) => versions.iter().find(|v| v.number == n).cloned(),
            None => versions.get(fallback).cloned(),
        }
        .ok_or(AppError::NotFound)
    };
    let to = pick(q.to, 0)?;
    let from = pick(q.from, 1).or_else(|_| pick(None, 0))?;
    let rows = side_by_side(&from.body, &to.body);
    Ok(ctx.page(&DiffPage {
        c: ctx.chrome(),
        doc,
        versions,
        from,
        to,
        rows,
    }))
}

#[derive(Template)]
#[template(path = "policy_print.html")]
struct PrintPage {
    c: Chrome,
    doc: DocumentRow,
    version: VersionRow,
    body_html: String,
    history: Vec<HistoryRow>,
}

/// GET `/policy/{code}/versions/{number}/print`: A4 for the 委員会.
pub async fn print(ctx: Ctx, Path((code, number)): Path<(String, i64)>) -> AppResult<Response> {
    let p = ctx.principal()?;
    let doc = document_for(&ctx, &code).await?;
    let version = version_for(&ctx, &doc, number).await?;
    let versions = visible_versions(&ctx, p, &doc).await?;
    Ok(ctx.page(&PrintPage {
        c: ctx.chrome(),
        body_html: render_html(&version.body),
        history: history(&versions),
        doc,
        version,
    }))
}

#[derive(Template)]
#[template(path = "public_policy.html")]
struct PublicPage {
    c: Chrome,
    doc: DocumentRow,
    version: VersionRow,
    body_html: String,
    history: Vec<HistoryRow>,
}

/// GET `/public/policy`: the basic policy in force, without login.
pub async fn public_policy(ctx: Ctx) -> AppResult<Response> {
    let doc = ctx
        .state
        .store
        .document_by_code(BASIC_POLICY_CODE)
        .await?
        .filter(|d| d.visibility == "public")
        .ok_or(AppError::NotFound)?;
    let number = doc.published.as_ref().ok_or(AppError::NotFound)?.number;
    let version = ctx
        .state
        .store
        .version(doc.id, number)
        .await?
        .ok_or(AppError::NotFound)?;
    let versions = ctx.state.store.versions(doc.id).await?;
    Ok(ctx.page(&PublicPage {
        c: ctx.chrome(),
        body_html: render_html(&version.body),
        history: history(&versions),
        doc,
        version,
    }))
}

/// The document settings form.
#[derive(Debug, Clone, Default, Deserialize)]
pub struct DocumentForm {
    #[serde(default)]
    pub(crate) code: String,
    #[serde(default)]
    pub(crate) layer: String,
    #[serde(default)]
    pub(crate) title: String,
    #[serde(default)]
    pub(crate) visibility: String,
    #[serde(default)]
    pub(crate) restricted_roles: String,
    #[serde(default)]
    pub(crate) asset: String,
    pub(crate) requires_ack: Option<String>,
    #[serde(default)]
    pub(crate) review_interval_months: String,
}

impl DocumentForm {
    fn from_row(d: &DocumentRow) -> Self {
        DocumentForm {
            code: d.code.clone(),
            layer: d.layer.clone(),
            title: d.title.clone(),
            visibility: d.visibility.clone(),
            restricted_roles: d.restricted_roles.join(" "),
            asset: d.asset_id.map(|a| a.to_string()).unwrap_or_default(),
            requires_ack: d.requires_ack.then(|| "on".into()),
            review_interval_months: d.review_interval_months.to_string(),
        }
    }
}

#[derive(Template)]
#[template(path = "document_form.html")]
struct DocumentFormPage {
    c: Chrome,
    doc: Option<DocumentRow>,
    values: DocumentForm,
    roles: Vec<mamori_store::RoleRow>,
    errors: FormErrors,
}

/// The document form, for a new document (`doc` is `None`) or a document's settings.
async fn document_form_page(
    ctx: &Ctx,
    status: StatusCode,
    doc: Option<DocumentRow>,
    values: DocumentForm,
    errors: FormErrors,
) -> AppResult<Response> {
    let roles = ctx.state.store.roles().await?;
    Ok(ctx.page_with_status(
        status,
        &DocumentFormPage {
            c: ctx.chrome(),
            doc,
            values,
            roles,
            errors,
        },
    ))
}

/// Checks the document form against the domain's codes.
pub(crate) async fn validate_document(
    ctx: &Ctx,
    form: &DocumentForm,
) -> AppResult<(DocumentInput, FormErrors)> {
    let mut errors = FormErrors::default();
    let code = form.code.trim().to_owned();
    if !mamori_domain::is_valid_code(&code) || RESERVED_CODES.contains(&code.as_str()) {
        errors.add(ctx.lang, "code", "error-code-format");
    }
    if lifecycle::DocumentLayer::from_code(&form.layer).is_none() {
        errors.add(ctx.lang, "layer", "error-bad-choice");
    }
    let title = form.title.trim().to_owned();
    if title.is_empty() || title.chars().count() > 200 {
        errors.add(ctx.lang, "title", "error-required-text");
    }
    if lifecycle::Visibility::from_code(&form.visibility).is_none() {
        errors.add(ctx.lang, "visibility", "error-bad-choice");
    }
    let known_roles = ctx.state.store.roles().await?;
    let restricted_roles: Vec<String> = form
        .restricted_roles
        .split([' ', ','])
        .filter(|r| !r.is_empty())
        .map(str::to_owned)
        .collect();
    if restricted_roles
        .iter()
        .any(|r| !known_roles.iter().any(|k| &k.code == r))
    {
        errors.add(ctx.lang, "restricted_roles", "error-bad-choice");
    }
    if form.visibility == "restricted" && restricted_roles.is_empty() {
        errors.add(
            ctx.lang,
            "restricted_roles",
            "policy-restricted-needs-roles",
        );
    }
    let asset_id = match form.asset.trim() {
        "" => None,
        text => match text.parse::<i64>() {
            Ok(id)
                if ctx
                    .state
                    .store
                    .asset(mamori_domain::AssetId(id))
                    .await?
                    .is_some_and(|a| a.asset_type == AssetType::System.code()) =>
            {
                Some(id)
            }
            _ => {
                errors.add(ctx.lang, "asset", "policy-asset-not-system");
                None
            }
        },
    };
    let review_interval_months = match form.review_interval_months.trim().parse::<i64>() {
        Ok(m) if (1..=120).contains(&m) => m,
        _ => {
            errors.add(
                ctx.lang,
                "review_interval_months",
                "policy-review-interval-range",
            );
            12
        }
    };
    Ok((
        DocumentInput {
            code,
            layer: form.layer.clone(),
            title,
            visibility: form.visibility.clone(),
            restricted_roles,
            asset_id,
            requires_ack: form.requires_ack.is_some(),
            review_interval_months,
        },
        errors,
    ))
}

/// GET `/policy/new`.
pub async fn new_document_form(ctx: Ctx) -> AppResult<Response> {
    let values = DocumentForm {
        layer: "standards".into(),
        visibility: "internal".into(),
        requires_ack: Some("on".into()),
        review_interval_months: "12".into(),
        ..Default::default()
    };
    document_form_page(&ctx, StatusCode::OK, None, values, FormErrors::default()).await
}

/// POST `/policy`: creates a document.
pub async fn create_document(ctx: Ctx, Form(form): Form<DocumentForm>) -> AppResult<Response> {
    let (input, mut errors) = validate_document(&ctx, &form).await?;
    if errors.is_empty()
        && ctx
            .state
            .store
            .document_by_code(&input.code)
            .await?
            .is_some()
    {
        errors.add(ctx.lang, "code", "error-duplicate");
    }
    if !errors.is_empty() {
        return document_form_page(&ctx, StatusCode::UNPROCESSABLE_ENTITY, None, form, errors)
            .await;
    }
    let mut tx = ctx
        .state
        .store
        .begin(ctx.principal()?.actor(&ctx.ip))
        .await?;
    Store::create_document(&mut tx, &input).await?;
    tx.commit().await?;
    Ok(ctx.redirect_flash(&format!("/policy/{}/settings", input.code), "flash-saved"))
}

/// GET `/policy/{code}/settings`.
pub async fn settings_form(ctx: Ctx, Path(code): Path<String>) -> AppResult<Response> {
    let doc = document_for(&ctx, &code).await?;
    let values = DocumentForm::from_row(&doc);
    document_form_page(
        &ctx,
        StatusCode::OK,
        Some(doc),
        values,
        FormErrors::default(),
    )
    .await
}

/// POST `/policy/{code}/settings` (the code does not change).
pub async fn update_settings(
    ctx: Ctx,
    Path(code): Path<String>,
    Form(mut form): Form<DocumentForm>,
) -> AppResult<Response> {
    let doc = document_for(&ctx, &code).await?;
    form.code = doc.code.clone();
    let (input, errors) = validate_document(&ctx, &form).await?;
    if !errors.is_empty() {
        return document_form_page(
            &ctx,
            StatusCode::UNPROCESSABLE_ENTITY,
            Some(doc),
            form,
            errors,
        )
        .await;
    }
    let mut tx = ctx
        .state
        .store
        .begin(ctx.principal()?.actor(&ctx.ip))
        .await?;
    Store::update_document(&mut tx, &doc, &input).await?;
    tx.commit().await?;
    Ok(ctx.redirect_flash(&format!("/policy/{}/settings", doc.code), "flash-saved"))
}

/// Raising or clearing "review required".
#[derive(Debug, Clone, Default, Deserialize)]
pub struct ReviewForm {
    #[serde(default)]
    reason: String,
    #[serde(default)]
    clear: Option<String>,
}

/// POST `/policy/{code}/review`: raises (with a reason) or clears the review flag.
pub async fn flag_review(
    ctx: Ctx,
    Path(code): Path<String>,
    Form(form): Form<ReviewForm>,
) -> AppResult<Response> {
    let doc = document_for(&ctx, &code).await?;
    let reason = form.reason.trim();
    if form.clear.is_none() && (reason.is_empty() || reason.chars().count() > 1000) {
        return Err(AppError::Invalid(vec![(
            "reason".into(),
            crate::i18n::tr(ctx.lang, "policy-review-reason-required"),
        )]));
    }
    let mut tx = ctx
        .state
        .store
        .begin(ctx.principal()?.actor(&ctx.ip))
        .await?;
    Store::flag_document_review(&mut tx, doc.id, form.clear.is_none().then_some(reason)).await?;
    tx.commit().await?;
    Ok(ctx.redirect_flash(&format!("/policy/{}/settings", doc.code), "flash-saved"))
}

/// The units whose people `p` may follow up, or `None` for all.
pub(crate) async fn followed_units(ctx: &Ctx, p: &Principal) -> AppResult<Option<Vec<i64>>> {
    if p.can(Permission::PolicyEdit, &Target::Anywhere) {
        return Ok(None);
    }
    match p.grants.unit_roots(Permission::PeopleRead) {
        None => Ok(None),
        Some(roots) => Ok(Some(
            ctx.state
                .store
                .unit_subtrees(&roots)
                .await?
                .into_iter()
                .map(|u| u.0)
                .collect(),
        )),
    }
}

/// One document's acknowledgement overview.
pub struct AckOverview {
    /// The document.
    pub doc: DocumentRow,
    /// People in scope.
    pub total: i64,
    /// Of whom acknowledged.
    pub done: i64,
}

#[derive(Template)]
#[template(path = "acknowledgements.html")]
struct OverviewPage {
    c: Chrome,
    rows: Vec<AckOverview>,
}

/// GET `/policy/acknowledgements`: completion of every version in force.
pub async fn acknowledgements_overview(ctx: Ctx) -> AppResult<Response> {
    let p = ctx.principal()?;
    let units = followed_units(&ctx, p).await?;
    let today = ctx.today().to_string();
    let mut rows = Vec::new();
    for doc in ctx.state.store.documents().await? {
        let Some(v) = doc.published.as_ref().filter(|_| doc.requires_ack) else {
            continue;
        };
        let (by_unit, _) = ctx
            .state
            .store
            .acknowledgement_completion(v.id, &today, units.as_deref())
            .await?;
        rows.push(AckOverview {
            total: by_unit.iter().map(|r| r.total).sum(),
            done: by_unit.iter().map(|r| r.done).sum(),
            doc,
        });
    }
    Ok(ctx.page(&OverviewPage {
        c: ctx.chrome(),
        rows,
    }))
}

/// Filters of the completion page.
#[derive(Debug, Clone, Default, Deserialize)]
pub struct CompletionQuery {
    #[serde(default)]
    version: Option<i64>,
    #[serde(default)]
    unit: String,
    #[serde(default)]
    category: String,
    #[serde(default)]
    status: String,
    page: Option<i64>,
}

#[derive(Template)]
#[template(path = "acknowledgement_completion.html")]
struct CompletionPage {
    c: Chrome,
    doc: DocumentRow,
    version: VersionRow,
    by_unit: Vec<CompletionRow>,
    by_category: Vec<CompletionRow>,
    total: i64,
    done: i64,
    rows: Vec<AcknowledgementRow>,
    pager: Pager,
    q: CompletionQuery,
    can_remind: bool,
    export_query: String,
    units: Vec<mamori_store::UnitRow>,
    categories: Vec<mamori_store::CategoryRow>,
}

impl CompletionPage {
    /// An employment category's label in the page's language.
    fn category_label(&self, code: &str) -> String {
        self.categories
            .iter()
            .find(|c| c.code == code)
            .map(|c| {
                if self.c.is_en() {
                    c.label_en.clone()
                } else {
                    c.label_ja.clone()
                }
            })
            .unwrap_or_else(|| code.to_owned())
    }
}

/// The version a request names, or the version in force.
pub(crate) fn version_number(doc: &DocumentRow, requested: Option<i64>) -> AppResult<i64> {
    match (requested, &doc.published) {
        (Some(n), _) => Ok(n),
        (None, Some(v)) => Ok(v.number),
        (None, None) => Err(AppError::NotFound),
    }
}

/// The id of a unit named by code in a filter (empty: none).
pub(crate) async fn unit_filter(ctx: &Ctx, code: &str) -> AppResult<Option<i64>> {
    match code.trim() {
        "" => Ok(None),
        code => Ok(Some(
            ctx.state
                .store
                .unit_by_code(code)
                .await?
                .ok_or(AppError::BadRequest("error-bad-filter"))?
                .id
                .0,
        )),
    }
}

/// Resolves the version and filter of a completion request.
async fn completion_filter(
    ctx: &Ctx,
    doc: &DocumentRow,
    q: &CompletionQuery,
) -> AppResult<(VersionRow, AcknowledgementFilter)> {
    let p = ctx.principal()?;
    let version = version_for(ctx, doc, version_number(doc, q.version)?).await?;
    let unit_id = unit_filter(ctx, &q.unit).await?;
    let acknowledged = match q.status.as_str() {
        "" | "all" => None,
        "done" => Some(true),
        "pending" => Some(false),
        _ => return Err(AppError::BadRequest("error-bad-filter")),
    };
    let filter = AcknowledgementFilter {
        version_id: version.id,
        unit_id,
        category: Some(q.category.trim().to_owned()).filter(|c| !c.is_empty()),
        acknowledged,
        visible_units: followed_units(ctx, p).await?,
    };
    Ok((version, filter))
}

/// GET `/policy/{code}/acknowledgements`: completion by unit and category, and who has not.
pub async fn completion(
    ctx: Ctx,
    Path(code): Path<String>,
    Query(q): Query<CompletionQuery>,
) -> AppResult<Response> {
    let p = ctx.principal()?;
    let doc = document_for(&ctx, &code).await?;
    let (version, filter) = completion_filter(&ctx, &doc, &q).await?;
    let today = ctx.today().to_string();
    let (by_unit, by_category) = ctx
        .state
        .store
        .acknowledgement_completion(version.id, &today, filter.visible_units.as_deref())
        .await?;
    let version_text = q.version.map(|v| v.to_string()).unwrap_or_default();
    let base = query_string(&[
        ("version", &version_text),
        ("unit", &q.unit),
        ("category", &q.category),
        ("status", &q.status),
    ]);
    let mut pager = Pager::new(q.page, 50, base.clone());
    let (rows, total_rows) = ctx
        .state
        .store
        .acknowledgements_page(&filter, &today, pager.per_page, pager.offset())
        .await?;
    pager.total = total_rows;
    Ok(ctx.page(&CompletionPage {
        c: ctx.chrome(),
        total: by_unit.iter().map(|r| r.total).sum(),
        done: by_unit.iter().map(|r| r.done).sum(),
        by_unit,
        by_category,
        rows,
        pager,
        can_remind: p.can(Permission::PolicyEdit, &Target::Anywhere),
        export_query: base,
        units: ctx.state.store.units().await?,
        categories: ctx.state.store.categories().await?,
        q,
        doc,
        version,
    }))
}

/// GET `/policy/{code}/acknowledgements.csv`: the same rows as a file.
pub async fn completion_csv(
    ctx: Ctx,
    Path(code): Path<String>,
    Query(q): Query<CompletionQuery>,
) -> AppResult<Response> {
    let doc = document_for(&ctx, &code).await?;
    let (_, filter) = completion_filter(&ctx, &doc, &q).await?;
    let mut records = Vec::new();
    ctx.state
        .store
        .for_each_acknowledgement(&filter, &ctx.today().to_string(), |r| {
            records.push(r.to_record());
            Ok(())
        })
        .await?;
    let body = mamori_domain::interchange::kind::write_csv::<
        mamori_domain::interchange::acknowledgements::Acknowledgements,
    >(&records, true)
    .map_err(AppError::Internal)?;
    Ok(crate::view::csv_download("acknowledgements.csv", body))
}

/// The reminder form.
#[derive(Debug, Clone, Default, Deserialize)]
pub struct RemindForm {
    /// The version number (default: the version in force).
    #[serde(default)]
    version: Option<i64>,
    #[serde(default)]
    unit: String,
    #[serde(default)]
    message: String,
}

/// POST `/policy/{code}/acknowledgements/remind`: reminds those who have not acknowledged
/// (their banner shows the reminder).
pub async fn remind(
    ctx: Ctx,
    Path(code): Path<String>,
    Form(form): Form<RemindForm>,
) -> AppResult<Response> {
    let p = ctx.principal()?;
    let doc = document_for(&ctx, &code).await?;
    let number = match (form.version, &doc.published) {
        (Some(n), _) => n,
        (None, Some(v)) => v.number,
        (None, None) => {
            return Err(AppError::Conflict(
                "ack-refused-not-in-force",
                String::new(),
            ))
        }
    };
    let version = version_for(&ctx, &doc, number).await?;
    if version.state() != VersionState::Published {
        return Err(AppError::Conflict(
            "ack-refused-not-in-force",
            String::new(),
        ));
    }
    let unit_id = unit_filter(&ctx, &form.unit).await?;
    let message: String = form.message.trim().chars().take(500).collect();
    let mut tx = ctx
        .state
        .store
        .begin(ctx.principal()?.actor(&ctx.ip))
        .await?;
    Store::remind_acknowledgement(&mut tx, version.id, unit_id, Some(p.user.id.0), &message)
        .await?;
    tx.commit().await?;
    Ok(ctx.redirect_flash(
        &format!(
            "/policy/{}/acknowledgements?version={}",
            doc.code, version.number
        ),
        "flash-reminded",
    ))
}
