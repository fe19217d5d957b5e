//! Importing files from the browser: upload, a preview of what will be added and changed (or
//! every problem, with its row and column), then confirmation. The same rules as
//! `mamori import`; nothing is written until confirmed, and then all or nothing.
//!
//! Decision: whole-register imports need the permission organisation-wide (`units.manage` for
//! units, `people.manage` for people); unit-scoped managers use the forms.

use crate::error::{AppError, AppResult};
use crate::i18n::tr;
use crate::view::{Chrome, Ctx};
use askama::Template;
use axum::extract::Multipart;
use axum::response::Response;
use axum::Form;
use base64::Engine as _;
use mamori_domain::authz::Target;
use mamori_domain::interchange::kind::{read_file, Kind};
use mamori_domain::interchange::people::People;
use mamori_domain::interchange::table::Problem;
use mamori_domain::interchange::units::Units;
use mamori_domain::permission::Permission;
use mamori_store::{ImportOutcome, ImportSummary, Store};
use serde::Deserialize;

#[derive(Template)]
#[template(path = "import.html")]
struct ImportPage {
    c: Chrome,
    kind: String,
    filename: String,
    content: String,
    summary: Option<ImportSummary>,
    problems: Vec<String>,
    done: bool,
}

/// GET `/admin/import`.
pub async fn form(ctx: Ctx) -> AppResult<Response> {
    let page = ImportPage {
        c: ctx.chrome(),
        kind: "people".into(),
        filename: String::new(),
        content: String::new(),
        summary: None,
        problems: Vec::new(),
        done: false,
    };
    Ok(ctx.page(&page))
}

fn permission_for(kind: &str) -> AppResult<Permission> {
    match kind {
        "units" => Ok(Permission::UnitsManage),
        "people" => Ok(Permission::PeopleManage),
        _ => Err(AppError::BadRequest("error-bad-request")),
    }
}

fn columns(
    bytes: &[u8],
    columns: &'static [mamori_domain::interchange::table::ColumnSpec],
) -> impl Fn(&str) -> String {
    let table = mamori_domain::interchange::decode::decode(bytes)
        .ok()
        .and_then(|(text, _)| mamori_domain::interchange::table::read_csv(&text, columns).ok());
    move |code: &str| match &table {
        Some(t) => t.column_name(code),
        None => columns
            .iter()
            .find(|c| c.code == code)
            .map_or(code, |c| c.label)
            .to_owned(),
    }
}

/// Runs the import in a transaction; commits only when `apply` and there are no problems.
async fn run(ctx: &Ctx, kind: &str, bytes: &[u8], apply: bool) -> AppResult<ImportOutcome> {
    let p = ctx.principal()?;
    p.require(permission_for(kind)?, &Target::Organisation)?;
    let mut tx = ctx.state.store.begin(p.actor(&ctx.ip)).await?;
    tx.annotate(
        "import_id",
        &format!(
            "import-{}",
            time::OffsetDateTime::now_utc().unix_timestamp_nanos()
        ),
    );
    let outcome = match kind {
        "units" => match read_file::<Units>(bytes) {
            Ok(records) => {
                Store::import_units(&mut tx, &records, &columns(bytes, Units::COLUMNS)("parent"))
                    .await?
            }
            Err(p) => Err(p),
        },
        _ => match read_file::<People>(bytes) {
            Ok(records) => {
                Store::import_people(&mut tx, &records, columns(bytes, People::COLUMNS)).await?
            }
            Err(p) => Err(p),
        },
    };
    if let Ok(summary) = &outcome {
        if apply && summary.added + summary.updated > 0 {
            ctx.state.commit(tx).await?;
        }
    }
    Ok(outcome)
}

fn describe(ctx: &Ctx, filename: &str, problems: &[Problem]) -> Vec<String> {
    problems
        .iter()
        .map(|p| {
            let detail = p
                .detail
                .as_deref()
                .map(|d| format!(" ({d})"))
                .unwrap_or_default();
            format!(
                "{filename}:{}: {}: {}{detail}",
                p.line,
                p.column,
                tr(ctx.lang, p.message_id)
            )
        })
        .collect()
}

/// POST `/admin/import/preview` (multipart: `kind`, `file`): nothing is written.
pub async fn preview(ctx: Ctx, mut multipart: Multipart) -> AppResult<Response> {
    let (mut kind, mut filename, mut bytes) = (String::new(), String::new(), Vec::new());
    while let Some(field) = multipart
        .next_field()
        .await
        .map_err(|_| AppError::BadRequest("error-bad-request"))?
    {
        match field.name() {
            Some("kind") => {
                kind = field
                    .text()
                    .await
                    .map_err(|_| AppError::BadRequest("error-bad-request"))?
            }
            Some("file") => {
                filename = field
                    .file_name()
                    .unwrap_or("upload.csv")
                    .chars()
                    .filter(|c| !c.is_control())
                    .take(100)
                    .collect();
                bytes = field
                    .bytes()
                    .await
                    .map_err(|_| AppError::BadRequest("error-too-large"))?
                    .to_vec();
            }
            _ => {}
        }
    }
    if bytes.is_empty() {
        return Err(AppError::BadRequest("import-empty-file"));
    }
    let outcome = run(&ctx, &kind, &bytes, false).await?;
    let (summary, problems) = match outcome {
        Ok(s) => (Some(s), Vec::new()),
        Err(p) => (None, describe(&ctx, &filename, &p)),
    };
    let page = ImportPage {
        c: ctx.chrome(),
        kind,
        filename,
        content: base64::engine::general_purpose::STANDARD.encode(&bytes),
        summary,
        problems,
        done: false,
    };
    Ok(ctx.page(&page))
}

/// The confirmation form: the previewed file travels back unchanged.
#[derive(Debug, Deserialize)]
pub struct ApplyForm {
    kind: String,
    #[serde(default)]
    filename: String,
    content: String,
}

/// POST `/admin/import/apply`.
pub async fn apply(ctx: Ctx, Form(form): Form<ApplyForm>) -> AppResult<Response> {
    let bytes = base64::engine::general_purpose::STANDARD
        .decode(form.content.as_bytes())
        .map_err(|_| AppError::BadRequest("error-bad-request"))?;
    let outcome = run(&ctx, &form.kind, &bytes, true).await?;
    let (summary, problems) = match outcome {
        Ok(s) => (Some(s), Vec::new()),
        Err(p) => (None, describe(&ctx, &form.filename, &p)),
    };
    let done = summary.is_some();
    let page = ImportPage {
        c: ctx.chrome(),
        kind: form.kind,
        filename: form.filename,
        content: String::new(),
        summary,
        problems,
        done,
    };
    Ok(ctx.page(&page))
}
