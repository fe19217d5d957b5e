//! Organisation units: list, create, edit.

use crate::error::{AppError, AppResult};
use crate::view::{Chrome, Ctx, FormErrors};
use askama::Template;
use axum::extract::Path;
use axum::http::StatusCode;
use axum::response::Response;
use axum::Form;
use mamori_domain::authz::Target;
use mamori_domain::permission::Permission;
use mamori_domain::{is_valid_code, UnitId};
use mamori_store::{Store, UnitInput, UnitRow};
use serde::Deserialize;

#[derive(Template)]
#[template(path = "units.html")]
struct ListPage {
    c: Chrome,
    units: Vec<UnitRow>,
    can_create: bool,
}

#[derive(Template)]
#[template(path = "unit_form.html")]
struct FormPage {
    c: Chrome,
    unit: Option<UnitRow>,
    values: UnitForm,
    parents: Vec<UnitRow>,
    errors: FormErrors,
    can_edit: bool,
}

/// The unit form.
#[derive(Debug, Clone, Default, Deserialize)]
pub struct UnitForm {
    #[serde(default)]
    pub(crate) code: String,
    #[serde(default)]
    pub(crate) name: String,
    #[serde(default)]
    pub(crate) parent: String,
    pub(crate) in_scope: Option<String>,
}

/// GET `/admin/units`.
pub async fn list(ctx: Ctx) -> AppResult<Response> {
    let p = ctx.principal()?;
    let units = ctx.state.store.units().await?;
    let can_create = p.can(Permission::UnitsManage, &Target::Anywhere);
    Ok(ctx.page(&ListPage {
        c: ctx.chrome(),
        units,
        can_create,
    }))
}

async fn manageable_parents(ctx: &Ctx) -> AppResult<Vec<UnitRow>> {
    let p = ctx.principal()?;
    let mut out = Vec::new();
    for u in ctx.state.store.units().await? {
        let lineage = ctx.state.store.unit_lineage(u.id).await?;
        if p.can(Permission::UnitsManage, &Target::Unit { lineage: &lineage }) {
            out.push(u);
        }
    }
    Ok(out)
}

/// GET `/admin/units.csv`: the list as shown, in the file format imports read.
pub async fn export_csv(ctx: Ctx) -> AppResult<Response> {
    let records: Vec<_> = ctx
        .state
        .store
        .units()
        .await?
        .iter()
        .map(|u| u.to_record())
        .collect();
    let body = mamori_domain::interchange::kind::write_csv::<
        mamori_domain::interchange::units::Units,
    >(&records, true)
    .map_err(AppError::Internal)?;
    Ok(crate::view::csv_download("units.csv", body))
}

/// GET `/admin/units/new`.
pub async fn new_form(ctx: Ctx) -> AppResult<Response> {
    let parents = manageable_parents(&ctx).await?;
    let values = UnitForm {
        in_scope: Some("on".into()),
        ..Default::default()
    };
    Ok(ctx.page(&FormPage {
        c: ctx.chrome(),
        unit: None,
        values,
        parents,
        errors: FormErrors::default(),
        can_edit: true,
    }))
}

/// GET `/admin/units/{id}`.
pub async fn edit_form(ctx: Ctx, Path(id): Path<i64>) -> AppResult<Response> {
    let p = ctx.principal()?;
    let unit = ctx
        .state
        .store
        .unit(UnitId(id))
        .await?
        .ok_or(AppError::NotFound)?;
    let lineage = ctx.state.store.unit_lineage(unit.id).await?;
    let can_edit = p.can(Permission::UnitsManage, &Target::Unit { lineage: &lineage });
    let values = UnitForm {
        code: unit.code.clone(),
        name: unit.name.clone(),
        parent: unit.parent.clone().unwrap_or_default(),
        in_scope: unit.in_scope.then(|| "on".into()),
    };
    let parents = manageable_parents(&ctx)
        .await?
        .into_iter()
        .filter(|u| u.id != unit.id)
        .collect();
    Ok(ctx.page(&FormPage {
        c: ctx.chrome(),
        unit: Some(unit),
        values,
        parents,
        errors: FormErrors::default(),
        can_edit,
    }))
}

/// Parses and checks the form; authorizes the parent. Returns the input or the errors.
///
/// `current_parent` is the unit's parent when editing: keeping it needs no permission on it.
pub(crate) async fn validate(
    ctx: &Ctx,
    form: &UnitForm,
    current_parent: Option<Option<String>>,
) -> AppResult<Result<UnitInput, FormErrors>> {
    let p = ctx.principal()?;
    let mut errors = FormErrors::default();
    let code = mamori_domain::wareki::fold_fullwidth(form.code.trim());
    if !is_valid_code(&code) {
        errors.add(ctx.lang, "code", "error-code-format");
    }
    let name = form.name.trim().to_owned();
    if name.is_empty() || name.chars().count() > 200 {
        errors.add(ctx.lang, "name", "error-required-text");
    }
    let unchanged = current_parent
        .as_ref()
        .is_some_and(|c| c.as_deref().unwrap_or("") == form.parent.trim());
    let parent = if form.parent.trim().is_empty() {
        if !unchanged && !p.can(Permission::UnitsManage, &Target::Organisation) {
            errors.add(ctx.lang, "parent", "unit-parent-required");
        }
        None
    } else {
        match ctx.state.store.unit_by_code(form.parent.trim()).await? {
            Some(u) => {
                let lineage = ctx.state.store.unit_lineage(u.id).await?;
                if !unchanged
                    && !p.can(Permission::UnitsManage, &Target::Unit { lineage: &lineage })
                {
                    return Err(AppError::Forbidden);
                }
                Some(u.id)
            }
            None => {
                errors.add(ctx.lang, "parent", "error-unknown-unit");
                None
            }
        }
    };
    if !errors.is_empty() {
        return Ok(Err(errors));
    }
    Ok(Ok(UnitInput {
        code,
        name,
        parent_id: parent,
        in_scope: form.in_scope.is_some(),
    }))
}

fn store_errors(ctx: &Ctx, e: mamori_store::StoreError, errors: &mut FormErrors) -> AppResult<()> {
    match e {
        mamori_store::StoreError::Duplicate(_) => errors.add(ctx.lang, "code", "error-code-taken"),
        mamori_store::StoreError::Rule(id) => errors.add(ctx.lang, "parent", id),
        other => return Err(other.into()),
    }
    Ok(())
}

/// POST `/admin/units`.
pub async fn create(ctx: Ctx, Form(form): Form<UnitForm>) -> AppResult<Response> {
    let p = ctx.principal()?.clone();
    let mut errors = match validate(&ctx, &form, None).await? {
        Ok(input) => {
            let mut tx = ctx.state.store.begin(p.actor(&ctx.ip)).await?;
            match Store::create_unit(&mut tx, &input).await {
                Ok(unit) => {
                    ctx.state.commit(tx).await?;
                    return Ok(ctx.redirect_flash(
                        &format!("/admin/units/{}", unit.id),
                        "flash-unit-created",
                    ));
                }
                Err(e) => {
                    let mut errors = FormErrors::default();
                    store_errors(&ctx, e, &mut errors)?;
                    errors
                }
            }
        }
        Err(errors) => errors,
    };
    let parents = manageable_parents(&ctx).await?;
    errors.0.sort_by_key(|e| e.field.clone());
    let page = FormPage {
        c: ctx.chrome(),
        unit: None,
        values: form,
        parents,
        errors,
        can_edit: true,
    };
    Ok(ctx.page_with_status(StatusCode::UNPROCESSABLE_ENTITY, &page))
}

/// POST `/admin/units/{id}`.
pub async fn update(
    ctx: Ctx,
    Path(id): Path<i64>,
    Form(form): Form<UnitForm>,
) -> AppResult<Response> {
    let p = ctx.principal()?.clone();
    let unit = ctx
        .state
        .store
        .unit(UnitId(id))
        .await?
        .ok_or(AppError::NotFound)?;
    let lineage = ctx.state.store.unit_lineage(unit.id).await?;
    p.require(Permission::UnitsManage, &Target::Unit { lineage: &lineage })?;
    let errors = match validate(&ctx, &form, Some(unit.parent.clone())).await? {
        Ok(input) => {
            let mut tx = ctx.state.store.begin(p.actor(&ctx.ip)).await?;
            match Store::update_unit(&mut tx, unit.id, &input).await {
                Ok(_) => {
                    ctx.state.commit(tx).await?;
                    return Ok(ctx.redirect_flash(&format!("/admin/units/{id}"), "flash-saved"));
                }
                Err(e) => {
                    let mut errors = FormErrors::default();
                    store_errors(&ctx, e, &mut errors)?;
                    errors
                }
            }
        }
        Err(errors) => errors,
    };
    let parents = manageable_parents(&ctx)
        .await?
        .into_iter()
        .filter(|u| u.id != unit.id)
        .collect();
    let page = FormPage {
        c: ctx.chrome(),
        unit: Some(unit),
        values: form,
        parents,
        errors,
        can_edit: true,
    };
    Ok(ctx.page_with_status(StatusCode::UNPROCESSABLE_ENTITY, &page))
}
