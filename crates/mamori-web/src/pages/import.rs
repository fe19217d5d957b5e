//! Importing files from the browser: upload, a preview of what will be added and changed (or
//! every problem, with its row and column), then confirmation. The same rules as
//! `mamori import`; nothing is written until confirmed, and then all or nothing.
//!
//! Decision: whole-register imports of units and people need the permission
//! organisation-wide (`units.manage`, `people.manage`); unit-scoped managers use the forms.
//! Assets and asset relations may be imported by anyone holding `assets.edit`, for the units
//! where they hold it: a row for another unit is reported, and nothing is written.

use crate::error::{AppError, AppResult};
use crate::i18n::tr;
use crate::view::{Chrome, Ctx};
use askama::Template;
use axum::extract::Multipart;
use axum::response::Response;
use axum::Form;
use base64::Engine as _;
use mamori_domain::authz::Target;
use mamori_domain::interchange::asset_relations::AssetRelations;
use mamori_domain::interchange::assets::Assets;
use mamori_domain::interchange::decode::decode;
use mamori_domain::interchange::kind::{parse_table, Kind};
use mamori_domain::interchange::people::People;
use mamori_domain::interchange::table::{read_csv, ColumnSpec, Problem, Table};
use mamori_domain::interchange::units::Units;
use mamori_domain::interchange::xlsx::{read_xlsx, ZIP_MAGIC};
use mamori_domain::permission::Permission;
use mamori_domain::UnitId;
use mamori_store::{ImportOutcome, ImportSummary, Store};
use serde::Deserialize;
use std::collections::HashSet;

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

/// The kind to preselect (`?kind=assets`).
#[derive(Debug, Deserialize)]
pub struct KindQuery {
    #[serde(default)]
    kind: String,
}

impl ImportPage {
    fn back_link(&self) -> &'static str {
        match self.kind.as_str() {
            "units" => "/admin/units",
            "people" => "/admin/people",
            // Training
            "training-records" => "/training/report",
            // Catalogue
            "controls" => "/controls",
            // Coverage
            "control-status" => "/coverage",
            // Risk register
            "risks" => "/risks",
            _ => "/assets",
        }
    }
}

/// GET `/admin/import`.
pub async fn form(
    ctx: Ctx,
    axum::extract::Query(q): axum::extract::Query<KindQuery>,
) -> AppResult<Response> {
    let kind = if permission_for(&q.kind).is_ok() {
        q.kind
    } else {
        "people".into()
    };
    let page = ImportPage {
        c: ctx.chrome(),
        kind,
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
        "assets" | "asset-relations" => Ok(Permission::AssetsEdit),
        // Training: for the units where the importer holds `training.manage`.
        "training-records" => Ok(Permission::TrainingManage),
        // Catalogue: the organisation's catalogue, organisation-wide.
        "controls" => Ok(Permission::CatalogueManage),
        // Coverage: for the units where the importer holds `controls.update`.
        "control-status" => Ok(Permission::ControlsUpdate),
        // Risk register: for the units where the importer holds `risks.edit`.
        "risks" => Ok(Permission::RisksEdit),
        _ => Err(AppError::BadRequest("error-bad-request")),
    }
}

/// The file as a table: an XLSX workbook (checked before it is opened) or CSV.
fn table(bytes: &[u8], columns: &'static [ColumnSpec]) -> Result<Table, Vec<Problem>> {
    if bytes.starts_with(ZIP_MAGIC) {
        read_xlsx(bytes, columns)
    } else {
        let (text, _) = decode(bytes).map_err(|e| vec![Problem::new(1, "", e.message_id())])?;
        read_csv(&text, columns)
    }
}

/// A file whose name says one format while its content is another (an `.xlsx` that is not a
/// workbook, a `.csv` that is one) is refused rather than guessed.
fn declared_type_problem(filename: &str, bytes: &[u8]) -> Option<Problem> {
    let name = filename.to_lowercase();
    let is_zip = bytes.starts_with(ZIP_MAGIC);
    let mismatch = (name.ends_with(".xlsx") && !is_zip)
        || ((name.ends_with(".csv") || name.ends_with(".txt")) && is_zip);
    mismatch.then(|| Problem::new(1, "", "import-type-mismatch"))
}

/// Imports at least this large refresh the planner's statistics afterwards.
pub const STATISTICS_AFTER_ROWS: usize = 1_000;

/// Reads the file as kind `K` and hands its records and column names to `apply`.
async fn with_records<K: Kind, F, Fut>(bytes: &[u8], apply: F) -> AppResult<ImportOutcome>
where
    F: FnOnce(Vec<(u64, K::Record)>, Table) -> Fut,
    Fut: std::future::Future<Output = Result<ImportOutcome, mamori_store::StoreError>>,
{
    let t = match table(bytes, K::COLUMNS) {
        Ok(t) => t,
        Err(p) => return Ok(Err(p)),
    };
    match parse_table::<K>(&t) {
        Ok(records) => Ok(apply(records, t).await?),
        Err(p) => Ok(Err(p)),
    }
}

/// Runs the import in a transaction; commits only when `apply` and there are no problems.
/// Units and people need their permission organisation-wide; assets and relations may be
/// imported by anyone who edits assets, for the units where they do.
async fn run(ctx: &Ctx, kind: &str, bytes: &[u8], apply: bool) -> AppResult<ImportOutcome> {
    let p = ctx.principal()?;
    let permission = permission_for(kind)?;
    let allowed: Option<HashSet<UnitId>> = if permission == Permission::AssetsEdit
        // Training
        || permission == Permission::TrainingManage
        // Coverage
        || permission == Permission::ControlsUpdate
        // Risk register
        || permission == Permission::RisksEdit
    {
        p.require(permission, &Target::Anywhere)?;
        match p.grants.unit_roots(permission) {
            None => None,
            Some(roots) => Some(
                ctx.state
                    .store
                    .unit_subtrees(&roots)
                    .await?
                    .into_iter()
                    .collect(),
            ),
        }
    } else {
        p.require(permission, &Target::Organisation)?;
        None
    };
    let mut tx = ctx.state.store.begin(p.actor(&ctx.ip)).await?;
    tx.annotate(
        "import_id",
        &format!(
            "import-{}",
            time::OffsetDateTime::now_utc().unix_timestamp_nanos()
        ),
    );
    let tx_ref = &mut tx;
    let allowed = allowed.as_ref();
    let outcome = match kind {
        "units" => {
            with_records::<Units, _, _>(bytes, |r, t| async move {
                Store::import_units(tx_ref, &r, &t.column_name("parent")).await
            })
            .await?
        }
        "people" => {
            with_records::<People, _, _>(bytes, |r, t| async move {
                Store::import_people(tx_ref, &r, |c| t.column_name(c)).await
            })
            .await?
        }
        "assets" => {
            with_records::<Assets, _, _>(bytes, |r, t| async move {
                Store::import_assets(tx_ref, &r, |c| t.column_name(c), allowed).await
            })
            .await?
        }
        // Training
        "training-records" => {
            with_records::<mamori_domain::interchange::training_records::TrainingRecords, _, _>(
                bytes,
                |r, t| async move {
                    Store::import_training_records(tx_ref, &r, |c| t.column_name(c), allowed).await
                },
            )
            .await?
        }
        // Catalogue
        "controls" => {
            let anchors = ctx.state.store.basic_policy_anchors().await?;
            with_records::<mamori_domain::interchange::catalogue::Controls, _, _>(
                bytes,
                |r, t| async move {
                    Store::import_controls(tx_ref, &r, |c| t.column_name(c), anchors.as_ref()).await
                },
            )
            .await?
        }
        // Coverage
        "control-status" => {
            with_records::<mamori_domain::interchange::control_status::ControlStatuses, _, _>(
                bytes,
                |r, t| async move {
                    Store::import_control_statuses(tx_ref, &r, |c| t.column_name(c), allowed).await
                },
            )
            .await?
        }
        // Risk register
        "risks" => {
            let rules = crate::pages::risks::rules(ctx);
            with_records::<mamori_domain::interchange::risks::Risks, _, _>(
                bytes,
                |r, t| async move {
                    Store::import_risks(tx_ref, &r, |c| t.column_name(c), &rules, allowed).await
                },
            )
            .await?
        }
        _ => {
            with_records::<AssetRelations, _, _>(bytes, |r, t| async move {
                Store::import_relations(tx_ref, &r, |c| t.column_name(c), allowed).await
            })
            .await?
        }
    };
    if let Ok(summary) = &outcome {
        if apply && summary.added + summary.updated > 0 {
            if kind == "people" {
                Store::revoke_access_of_leavers(&mut tx, ctx.today()).await?;
            }
            ctx.state.commit(tx).await?;
            if summary.added + summary.updated >= STATISTICS_AFTER_ROWS {
                ctx.state.store.refresh_statistics().await?;
            }
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
        .map_err(crate::error::multipart_error)?
    {
        match field.name() {
            Some("kind") => kind = field.text().await.map_err(crate::error::multipart_error)?,
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
                    .map_err(crate::error::multipart_error)?
                    .to_vec();
            }
            _ => {}
        }
    }
    if bytes.is_empty() {
        return Err(AppError::BadRequest("import-empty-file"));
    }
    let outcome = match declared_type_problem(&filename, &bytes) {
        Some(problem) => Err(vec![problem]),
        None => run(&ctx, &kind, &bytes, false).await?,
    };
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
