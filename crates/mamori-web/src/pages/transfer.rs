//! 人事異動 and 離任: moving a person to another unit, or seeing them out, and handing on
//! everything they hold — assets in their custody, roles, their account — in one audited
//! step. The leavers list shows who has left and still holds something.
//!
//! Decisions: the page needs `people.manage` on the person's unit (and on the new unit);
//! handing on an asset needs `assets.edit` on its unit; ending a role follows the rule for
//! taking roles away (nobody takes away more than they could give). Disabling the account of
//! someone who has left needs only `people.manage`: it can only remove access.

use crate::error::{AppError, AppResult};
use crate::view::{Chrome, Ctx, FormErrors};
use askama::Template;
use axum::extract::Path;
use axum::http::StatusCode;
use axum::response::Response;
use axum::Form;
use mamori_domain::authz::Target;
use mamori_domain::interchange::values::fold;
use mamori_domain::permission::Permission;
use mamori_domain::AssetId;
use mamori_store::{Holdings, LeaverRow, PersonRow, Store, TransferPlan, UnitRow};
use std::collections::HashMap;

#[derive(Template)]
#[template(path = "leavers.html")]
struct LeaversPage {
    c: Chrome,
    leavers: Vec<LeaverRow>,
}

/// GET `/admin/people/leavers`: people who have left and still hold something.
pub async fn leavers(ctx: Ctx) -> AppResult<Response> {
    let p = ctx.principal()?;
    let mut leavers = Vec::new();
    for l in ctx.state.store.leavers_with_holdings(ctx.today()).await? {
        let lineage = ctx.state.store.unit_lineage(l.person.unit_id).await?;
        if p.can(Permission::PeopleRead, &Target::Unit { lineage: &lineage }) {
            leavers.push(l);
        }
    }
    Ok(ctx.page(&LeaversPage {
        c: ctx.chrome(),
        leavers,
    }))
}

#[derive(Template)]
#[template(path = "transfer.html")]
struct TransferPage {
    c: Chrome,
    person: PersonRow,
    holdings: Holdings,
    units: Vec<UnitRow>,
    has_left: bool,
    values: HashMap<String, String>,
    errors: FormErrors,
}

impl TransferPage {
    fn value(&self, key: &str) -> String {
        self.values.get(key).cloned().unwrap_or_default()
    }
    fn unit_selected(&self, code: &str) -> bool {
        match self.values.get("unit") {
            Some(v) => v == code,
            None => self.person.unit == code,
        }
    }
    /// Unit-scoped roles are ended by default when moving; all roles when leaving.
    fn role_checked(&self, a: &mamori_store::RoleAssignmentRow) -> bool {
        match self.values.get(&format!("remove_{}", a.id)) {
            Some(v) => v == "on",
            None => self.has_left || a.unit_id.is_some(),
        }
    }
    fn current_unit_missing(&self) -> bool {
        !self.units.iter().any(|u| u.code == self.person.unit)
    }
    fn custodian_field(&self, a: &mamori_store::AssetRow) -> String {
        format!("custodian_{}", a.id)
    }
    fn disable_checked(&self) -> bool {
        match self.values.get("disable_account") {
            Some(v) => v == "on",
            None => self.has_left,
        }
    }
}

async fn page(
    ctx: &Ctx,
    person: PersonRow,
    values: HashMap<String, String>,
    errors: FormErrors,
) -> AppResult<TransferPage> {
    let p = ctx.principal()?;
    let mut units = Vec::new();
    for u in ctx.state.store.units().await? {
        let lineage = ctx.state.store.unit_lineage(u.id).await?;
        if p.can(
            Permission::PeopleManage,
            &Target::Unit { lineage: &lineage },
        ) {
            units.push(u);
        }
    }
    let has_left = crate::session::has_left(
        person.left_on.as_deref(),
        &ctx.settings,
        time::OffsetDateTime::now_utc(),
    );
    Ok(TransferPage {
        c: ctx.chrome(),
        holdings: ctx.state.store.holdings(person.id).await?,
        person,
        units,
        has_left,
        values,
        errors,
    })
}

/// GET `/admin/people/{id}/transfer`.
pub async fn form(ctx: Ctx, Path(id): Path<i64>) -> AppResult<Response> {
    let person = crate::pages::people::managed_person(&ctx, id).await?;
    let page = page(&ctx, person, HashMap::new(), FormErrors::default()).await?;
    Ok(ctx.page(&page))
}

/// POST `/admin/people/{id}/transfer`: `unit`, `custodian_all`, `custodian_<asset id>`,
/// `remove_<assignment id>=on`, `disable_account=on`.
pub async fn submit(
    ctx: Ctx,
    Path(id): Path<i64>,
    Form(form): Form<HashMap<String, String>>,
) -> AppResult<Response> {
    let p = ctx.principal()?.clone();
    let person = crate::pages::people::managed_person(&ctx, id).await?;
    let holdings = ctx.state.store.holdings(person.id).await?;
    let mut errors = FormErrors::default();
    let mut plan = TransferPlan::default();

    let unit_code = form.get("unit").map(|u| fold(u)).unwrap_or_default();
    if !unit_code.is_empty() && unit_code != person.unit {
        match ctx.state.store.unit_by_code(&unit_code).await? {
            Some(u) => {
                let lineage = ctx.state.store.unit_lineage(u.id).await?;
                if p.can(
                    Permission::PeopleManage,
                    &Target::Unit { lineage: &lineage },
                ) {
                    plan.new_unit = Some(u.id);
                } else {
                    errors.add(ctx.lang, "unit", "error-unit-not-permitted");
                }
            }
            None => errors.add(ctx.lang, "unit", "error-unknown-unit"),
        }
    }

    let all = form
        .get("custodian_all")
        .map(|v| fold(v))
        .unwrap_or_default();
    for asset in &holdings.assets {
        let field = format!("custodian_{}", asset.id);
        let own = form.get(&field).map(|v| fold(v)).unwrap_or_default();
        let target = if own.is_empty() { all.clone() } else { own };
        if target.is_empty() {
            continue;
        }
        let lineage = ctx.state.store.unit_lineage(asset.owner_unit_id).await?;
        if !p.can(Permission::AssetsEdit, &Target::Unit { lineage: &lineage }) {
            errors.add(ctx.lang, &field, "error-forbidden-unit");
            continue;
        }
        if target == "-" {
            plan.reassign.push((AssetId(asset.id.0), None));
            continue;
        }
        match ctx.state.store.person_by_staff_id(&target).await? {
            Some(next) if next.id == person.id => {}
            Some(next)
                if crate::session::has_left(
                    next.left_on.as_deref(),
                    &ctx.settings,
                    time::OffsetDateTime::now_utc(),
                ) =>
            {
                errors.add(ctx.lang, &field, "error-custodian-has-left");
            }
            Some(next) => plan.reassign.push((asset.id, Some(next.id))),
            None => errors.add(ctx.lang, &field, "error-unknown-person"),
        }
    }

    let roles = ctx.state.store.roles().await?;
    for a in &holdings.roles {
        if form.get(&format!("remove_{}", a.id)).map(String::as_str) != Some("on") {
            continue;
        }
        let role = roles
            .iter()
            .find(|r| r.code == a.role_code)
            .ok_or(AppError::NotFound)?;
        crate::pages::people::require_may_give(
            &ctx,
            &p,
            role,
            a.unit_id,
            &format!("/admin/people/{id}/transfer"),
        )
        .await?;
        plan.remove_roles.push(a.id);
    }
    plan.disable_account = form.get("disable_account").map(String::as_str) == Some("on")
        && holdings.account.as_ref().is_some_and(|a| !a.disabled);

    if !errors.is_empty() {
        let page = page(&ctx, person, form, errors).await?;
        return Ok(ctx.page_with_status(StatusCode::UNPROCESSABLE_ENTITY, &page));
    }
    let mut tx = ctx.state.store.begin(p.actor(&ctx.ip)).await?;
    Store::transfer_person(&mut tx, person.id, &plan).await?;
    ctx.state.commit(tx).await?;
    Ok(ctx.redirect_flash(&format!("/admin/people/{id}"), "flash-transferred"))
}
