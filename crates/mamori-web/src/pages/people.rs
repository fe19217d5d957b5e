//! People (職員等): list, create, edit, and their role assignments.

use crate::error::{AppError, AppResult};
use crate::i18n::Lang;
use crate::view::{query_string, Chrome, Ctx, FormErrors, Pager};
use askama::Template;
use axum::extract::{Path, Query};
use axum::http::StatusCode;
use axum::response::Response;
use axum::Form;
use mamori_domain::authz::Target;
use mamori_domain::permission::{parse_permission_list, Permission};
use mamori_domain::wareki::{fold_fullwidth, parse_date};
use mamori_domain::{PersonId, UnitId};
use mamori_store::{
    CategoryRow, PeopleFilter, PersonInput, PersonRow, RoleAssignmentRow, RoleHolder, RoleRow,
    Store, UnitRow,
};
use serde::Deserialize;

/// Rows per page.
const PER_PAGE: i64 = 50;

#[derive(Template)]
#[template(path = "people.html")]
struct ListPage {
    c: Chrome,
    people: Vec<PersonRow>,
    pager: Pager,
    q: String,
    can_create: bool,
}

impl ListPage {
    /// The CSV of exactly what is shown (same search).
    fn csv_link(&self) -> String {
        format!("/admin/people.csv?{}", query_string(&[("q", &self.q)]))
    }
}

/// List filters.
#[derive(Debug, Deserialize)]
pub struct ListQuery {
    #[serde(default)]
    q: String,
    page: Option<i64>,
}

/// GET `/admin/people`.
pub async fn list(ctx: Ctx, Query(query): Query<ListQuery>) -> AppResult<Response> {
    let p = ctx.principal()?;
    let filter = PeopleFilter {
        unit_roots: p.grants.unit_roots(Permission::PeopleRead),
        query: Some(query.q.clone()),
        ..Default::default()
    };
    let mut pager = Pager::new(query.page, PER_PAGE, query_string(&[("q", &query.q)]));
    let (people, total) = ctx
        .state
        .store
        .people_page(&filter, pager.per_page, pager.offset())
        .await?;
    pager.total = total;
    let can_create = p.can(Permission::PeopleManage, &Target::Anywhere);
    Ok(ctx.page(&ListPage {
        c: ctx.chrome(),
        people,
        pager,
        q: query.q,
        can_create,
    }))
}

/// GET `/admin/people.csv`: exactly the people the list shows (same search, same scope), in
/// the file format imports read.
pub async fn export_csv(ctx: Ctx, Query(query): Query<ListQuery>) -> AppResult<Response> {
    let p = ctx.principal()?;
    let filter = PeopleFilter {
        unit_roots: p.grants.unit_roots(Permission::PeopleRead),
        query: Some(query.q.clone()),
        ..Default::default()
    };
    let categories = ctx.state.store.categories().await?;
    let records: Vec<_> = ctx
        .state
        .store
        .people_all(&filter)
        .await?
        .iter()
        .map(|person| {
            let mut r = person.to_record();
            if let Some(c) = categories.iter().find(|c| c.code == r.category) {
                r.category = c.label_ja.clone();
            }
            r
        })
        .collect();
    let body = mamori_domain::interchange::kind::write_csv::<
        mamori_domain::interchange::people::People,
    >(&records, true)
    .map_err(AppError::Internal)?;
    Ok(crate::view::csv_download("people.csv", body))
}

#[derive(Template)]
#[template(path = "person_form.html")]
struct FormPage {
    c: Chrome,
    person: Option<PersonRow>,
    values: PersonForm,
    units: Vec<UnitRow>,
    categories: Vec<CategoryRow>,
    roles: Vec<RoleRow>,
    assignments: Vec<RoleAssignmentRow>,
    errors: FormErrors,
    can_edit: bool,
}

impl FormPage {
    fn category_label(&self, c: &CategoryRow) -> String {
        if self.c.lang == Lang::En {
            c.label_en.clone()
        } else {
            c.label_ja.clone()
        }
    }

    fn text_fields(&self) -> Vec<(&'static str, &'static str, String)> {
        vec![
            ("staff_id", "person-staff-id", self.values.staff_id.clone()),
            ("name", "person-name", self.values.name.clone()),
            ("kana", "person-kana", self.values.kana.clone()),
            ("email", "person-email", self.values.email.clone()),
        ]
    }

    fn date_fields(&self) -> Vec<(&'static str, &'static str, String)> {
        vec![
            (
                "joined_on",
                "person-joined-on",
                self.values.joined_on.clone(),
            ),
            ("left_on", "person-left-on", self.values.left_on.clone()),
        ]
    }

    /// The person's unit is not one the user may choose (shown so the form stays truthful).
    fn current_unit_missing(&self) -> bool {
        self.person
            .as_ref()
            .is_some_and(|p| !self.units.iter().any(|u| u.code == p.unit))
    }

    fn role_label(&self, code: &str) -> String {
        self.roles
            .iter()
            .find(|r| r.code == code)
            .map(|r| {
                if self.c.lang == Lang::En {
                    r.label_en.clone()
                } else {
                    r.label_ja.clone()
                }
            })
            .unwrap_or_else(|| code.to_owned())
    }
}

/// The person form.
#[derive(Debug, Clone, Default, Deserialize)]
pub struct PersonForm {
    #[serde(default)]
    pub(crate) staff_id: String,
    #[serde(default)]
    pub(crate) name: String,
    #[serde(default)]
    pub(crate) kana: String,
    #[serde(default)]
    pub(crate) unit: String,
    #[serde(default)]
    pub(crate) category: String,
    #[serde(default)]
    pub(crate) email: String,
    #[serde(default)]
    pub(crate) joined_on: String,
    #[serde(default)]
    pub(crate) left_on: String,
}

async fn units_where(ctx: &Ctx, permission: Permission) -> AppResult<Vec<UnitRow>> {
    let p = ctx.principal()?;
    let mut out = Vec::new();
    for u in ctx.state.store.units().await? {
        let lineage = ctx.state.store.unit_lineage(u.id).await?;
        if p.can(permission, &Target::Unit { lineage: &lineage }) {
            out.push(u);
        }
    }
    Ok(out)
}

async fn form_page(
    ctx: &Ctx,
    person: Option<PersonRow>,
    values: PersonForm,
    errors: FormErrors,
) -> AppResult<FormPage> {
    let p = ctx.principal()?;
    let (assignments, can_edit) = match &person {
        Some(person) => {
            let lineage = ctx.state.store.unit_lineage(person.unit_id).await?;
            (
                ctx.state.store.person_roles(person.id).await?,
                p.can(
                    Permission::PeopleManage,
                    &Target::Unit { lineage: &lineage },
                ),
            )
        }
        None => (Vec::new(), true),
    };
    Ok(FormPage {
        c: ctx.chrome(),
        person,
        values,
        units: units_where(ctx, Permission::PeopleManage).await?,
        categories: ctx.state.store.categories().await?,
        roles: ctx.state.store.roles().await?,
        assignments,
        errors,
        can_edit,
    })
}

/// GET `/admin/people/new`.
pub async fn new_form(ctx: Ctx) -> AppResult<Response> {
    let page = form_page(
        &ctx,
        None,
        PersonForm {
            category: "regular".into(),
            ..Default::default()
        },
        FormErrors::default(),
    )
    .await?;
    Ok(ctx.page(&page))
}

pub(crate) async fn visible_person(ctx: &Ctx, id: i64) -> AppResult<(PersonRow, Vec<UnitId>)> {
    let p = ctx.principal()?;
    let person = ctx
        .state
        .store
        .person(PersonId(id))
        .await?
        .ok_or(AppError::NotFound)?;
    let lineage = ctx.state.store.unit_lineage(person.unit_id).await?;
    if !p.can(Permission::PeopleRead, &Target::Unit { lineage: &lineage }) {
        // Not revealing whether the record exists.
        return Err(AppError::NotFound);
    }
    Ok((person, lineage))
}

/// GET `/admin/people/{id}`.
pub async fn edit_form(ctx: Ctx, Path(id): Path<i64>) -> AppResult<Response> {
    let (person, _) = visible_person(&ctx, id).await?;
    let values = PersonForm {
        staff_id: person.staff_id.clone(),
        name: person.name.clone(),
        kana: person.kana.clone(),
        unit: person.unit.clone(),
        category: person.category.clone(),
        email: person.email.clone(),
        joined_on: person.joined_on.clone().unwrap_or_default(),
        left_on: person.left_on.clone().unwrap_or_default(),
    };
    let page = form_page(&ctx, Some(person), values, FormErrors::default()).await?;
    Ok(ctx.page(&page))
}

fn date_field(ctx: &Ctx, errors: &mut FormErrors, field: &str, value: &str) -> Option<String> {
    let v = value.trim();
    if v.is_empty() {
        return None;
    }
    match parse_date(v) {
        Ok(d) => Some(d.to_string()),
        Err(e) => {
            errors.add(ctx.lang, field, e.message_id());
            None
        }
    }
}

pub(crate) async fn validate(
    ctx: &Ctx,
    form: &PersonForm,
) -> AppResult<Result<PersonInput, FormErrors>> {
    let p = ctx.principal()?;
    let mut errors = FormErrors::default();
    let staff_id = fold_fullwidth(form.staff_id.trim());
    if staff_id.is_empty() || staff_id.chars().count() > 64 {
        errors.add(ctx.lang, "staff_id", "error-required-text");
    }
    let name = form.name.trim().to_owned();
    if name.is_empty() || name.chars().count() > 200 {
        errors.add(ctx.lang, "name", "error-required-text");
    }
    if form.kana.chars().count() > 200 {
        errors.add(ctx.lang, "kana", "error-too-long");
    }
    let email = fold_fullwidth(form.email.trim());
    if !email.is_empty()
        && (!email.contains('@') || email.len() > 254 || email.contains(char::is_whitespace))
    {
        errors.add(ctx.lang, "email", "error-email");
    }
    let unit = match ctx.state.store.unit_by_code(form.unit.trim()).await? {
        Some(u) => {
            let lineage = ctx.state.store.unit_lineage(u.id).await?;
            if !p.can(
                Permission::PeopleManage,
                &Target::Unit { lineage: &lineage },
            ) {
                errors.add(ctx.lang, "unit", "error-unit-not-permitted");
            }
            Some(u.id)
        }
        None => {
            errors.add(ctx.lang, "unit", "error-unknown-unit");
            None
        }
    };
    let categories = ctx.state.store.categories().await?;
    if !categories.iter().any(|c| c.code == form.category) {
        errors.add(ctx.lang, "category", "error-unknown-category");
    }
    let joined_on = date_field(ctx, &mut errors, "joined_on", &form.joined_on);
    let left_on = date_field(ctx, &mut errors, "left_on", &form.left_on);
    if let (Some(j), Some(l)) = (&joined_on, &left_on) {
        if l < j {
            errors.add(ctx.lang, "left_on", "error-left-before-joined");
        }
    }
    match unit {
        Some(unit_id) if errors.is_empty() => Ok(Ok(PersonInput {
            staff_id,
            name,
            kana: form.kana.trim().to_owned(),
            unit_id,
            category: form.category.clone(),
            email,
            joined_on,
            left_on,
        })),
        _ => Ok(Err(errors)),
    }
}

/// Validates and saves a person (new when `existing` is `None`); with problems, the form
/// again with each message at its field.
async fn save(ctx: &Ctx, existing: Option<PersonRow>, form: PersonForm) -> AppResult<Response> {
    let p = ctx.principal()?.clone();
    let errors = match validate(ctx, &form).await? {
        Ok(input) => {
            let mut tx = ctx.state.store.begin(p.actor(&ctx.ip)).await?;
            let saved = match &existing {
                Some(person) => Store::update_person(&mut tx, person.id, &input).await,
                None => Store::create_person(&mut tx, &input).await,
            };
            // A 離任日 in the past ends the person's sessions and tokens in the same step.
            if saved.is_ok() && input.left_on.is_some() {
                Store::revoke_access_of_leavers(&mut tx, ctx.today()).await?;
            }
            match saved {
                Ok(row) => {
                    ctx.state.commit(tx).await?;
                    let flash = if existing.is_some() {
                        "flash-saved"
                    } else {
                        "flash-person-created"
                    };
                    return Ok(ctx.redirect_flash(&format!("/admin/people/{}", row.id), flash));
                }
                Err(mamori_store::StoreError::Duplicate(_)) => {
                    let mut e = FormErrors::default();
                    e.add(ctx.lang, "staff_id", "error-staff-id-taken");
                    e
                }
                Err(e) => return Err(e.into()),
            }
        }
        Err(errors) => errors,
    };
    let page = form_page(ctx, existing, form, errors).await?;
    Ok(ctx.page_with_status(StatusCode::UNPROCESSABLE_ENTITY, &page))
}

/// POST `/admin/people`.
pub async fn create(ctx: Ctx, Form(form): Form<PersonForm>) -> AppResult<Response> {
    save(&ctx, None, form).await
}

/// POST `/admin/people/{id}`.
pub async fn update(
    ctx: Ctx,
    Path(id): Path<i64>,
    Form(form): Form<PersonForm>,
) -> AppResult<Response> {
    let person = managed_person(&ctx, id).await?;
    save(&ctx, Some(person), form).await
}

/// The person, if the caller may read and manage people of their unit.
pub(crate) async fn managed_person(ctx: &Ctx, id: i64) -> AppResult<PersonRow> {
    let p = ctx.principal()?;
    let (person, lineage) = visible_person(ctx, id).await?;
    p.require(
        Permission::PeopleManage,
        &Target::Unit { lineage: &lineage },
    )?;
    Ok(person)
}

/// Giving or taking away `role` in a scope (a unit, or the organisation when `None`) is
/// allowed only to whoever may hand out everything the role grants there; a refusal is
/// audited.
pub(crate) async fn require_may_give(
    ctx: &Ctx,
    p: &crate::session::Principal,
    role: &RoleRow,
    scope_unit: Option<UnitId>,
    route: &str,
) -> AppResult<()> {
    let permissions = parse_permission_list(&role.permissions)
        .map_err(|_| AppError::Internal("bad role".into()))?;
    let lineage = match scope_unit {
        Some(u) => Some(ctx.state.store.unit_lineage(u).await?),
        None => None,
    };
    let target = match &lineage {
        Some(l) => Target::Unit { lineage: l },
        None => Target::Organisation,
    };
    if p.grants.may_assign(&permissions, &target) {
        return Ok(());
    }
    crate::routes::audit_denied(
        &ctx.state,
        p,
        &ctx.ip,
        "POST",
        &format!("{route} ({})", role.code),
    )
    .await;
    Err(AppError::Forbidden)
}

/// The add-role form.
#[derive(Debug, Deserialize)]
pub struct RoleForm {
    #[serde(default)]
    role: String,
    #[serde(default)]
    scope: String,
}

/// POST `/admin/people/{id}/roles`: nobody gives a role with more than they hold there.
pub async fn add_role(
    ctx: Ctx,
    Path(id): Path<i64>,
    Form(form): Form<RoleForm>,
) -> AppResult<Response> {
    let p = ctx.principal()?.clone();
    let person = managed_person(&ctx, id).await?;
    let role = ctx
        .state
        .store
        .roles()
        .await?
        .into_iter()
        .find(|r| r.code == form.role);
    let mut errors = FormErrors::default();
    let Some(role) = role else {
        errors.add(ctx.lang, "role", "error-unknown-role");
        let page = form_page(&ctx, Some(person), PersonForm::default(), errors).await?;
        return Ok(ctx.page_with_status(StatusCode::UNPROCESSABLE_ENTITY, &page));
    };
    let scope_unit = if form.scope.trim().is_empty() {
        None
    } else {
        let unit = ctx
            .state
            .store
            .unit_by_code(form.scope.trim())
            .await?
            .ok_or(AppError::BadRequest("error-unknown-unit"))?;
        Some(unit.id)
    };
    require_may_give(
        &ctx,
        &p,
        &role,
        scope_unit,
        &format!("/admin/people/{id}/roles"),
    )
    .await?;
    let mut tx = ctx.state.store.begin(p.actor(&ctx.ip)).await?;
    Store::assign_role(
        &mut tx,
        RoleHolder::Person(person.id),
        &role.code,
        scope_unit,
    )
    .await?;
    ctx.state.commit(tx).await?;
    Ok(ctx.redirect_flash(&format!("/admin/people/{id}"), "flash-role-added"))
}

/// POST `/admin/people/{id}/roles/{assignment}/delete`.
pub async fn remove_role(
    ctx: Ctx,
    Path((id, assignment)): Path<(i64, i64)>,
) -> AppResult<Response> {
    let p = ctx.principal()?.clone();
    let person = managed_person(&ctx, id).await?;
    let held = ctx.state.store.person_roles(person.id).await?;
    let a = held
        .iter()
        .find(|a| a.id == assignment)
        .ok_or(AppError::NotFound)?;
    let role = ctx
        .state
        .store
        .roles()
        .await?
        .into_iter()
        .find(|r| r.code == a.role_code)
        .ok_or(AppError::NotFound)?;
    require_may_give(
        &ctx,
        &p,
        &role,
        a.unit_id,
        &format!("/admin/people/{id}/roles/{assignment}/delete"),
    )
    .await?;
    let mut tx = ctx.state.store.begin(p.actor(&ctx.ip)).await?;
    Store::unassign_role(&mut tx, assignment).await?;
    ctx.state.commit(tx).await?;
    Ok(ctx.redirect_flash(&format!("/admin/people/{id}"), "flash-role-removed"))
}
