//! The threat catalogue (clause 3) and the control catalogue (clause 6) with each control's
//! implementation status per unit: evidence (files and links), verification, review dates.
//!
//! Decisions:
//! - Both catalogues are the organisation's: adding, editing, retiring and importing entries
//!   needs `catalogue.manage` organisation-wide. Every logged-in person may read them (staff
//!   should know which measures apply to their work).
//! - Statuses concern units: setting a status, adding evidence and verifying need
//!   `controls.update` on the unit. Reading them needs `people.read`, `assets.read` or
//!   `controls.update` on the unit (managers, auditors and committee members see how their
//!   units stand; ordinary staff do not). Units one may not read answer 403.
//! - The person who set a status may not verify it; the refusal is shown with its reason.
//! - Evidence files are served as downloads only (`application/octet-stream`, attachment);
//!   links must be `http(s)://` and are shown as plain links that open nothing by themselves.

use crate::error::{AppError, AppResult};
use crate::i18n::Lang;
use crate::session::Principal;
use crate::view::{query_string, Chrome, Ctx, FormErrors, Pager};
use askama::Template;
use axum::extract::{Multipart, Path, Query};
use axum::http::StatusCode;
use axum::response::Response;
use mamori_domain::assets::Segment;
use mamori_domain::authz::Target;
use mamori_domain::catalogue::{
    is_valid_evidence_link, normalise_anchor, split_list, ControlDraft, ImplStatus, ThreatDraft,
};
use mamori_domain::permission::Permission;
use mamori_domain::wareki::{fold_fullwidth, parse_date};
use mamori_domain::UnitId;
use mamori_store::{
    ControlFilter, ControlRow, ControlStatusRow, EvidenceRow, FileWriter, GroupRow, RoleRow,
    StatusInput, StatusTally, Store, StoreError, ThreatFilter, ThreatRow, UnitRow,
};
use serde::Deserialize;
use std::collections::HashMap;

/// Rows per page.
const PER_PAGE: i64 = 50;

/// The permissions that let one read the statuses of a unit.
pub(crate) const STATUS_READ: [Permission; 3] = [
    Permission::PeopleRead,
    Permission::AssetsRead,
    Permission::ControlsUpdate,
];

fn require_manage(p: &Principal) -> AppResult<()> {
    p.require(Permission::CatalogueManage, &Target::Organisation)
}

/// The units whose statuses the reader may see (`None`: every unit).
pub(crate) async fn readable_units(ctx: &Ctx, p: &Principal) -> AppResult<Option<Vec<UnitId>>> {
    super::units_with_any(&ctx.state.store, p, &STATUS_READ).await
}

/// 403 unless the reader may see the unit's statuses.
pub(crate) async fn require_read_unit(ctx: &Ctx, unit: &UnitRow) -> AppResult<()> {
    let p = ctx.principal()?;
    let lineage = ctx.state.store.unit_lineage(unit.id).await?;
    let target = Target::Unit { lineage: &lineage };
    if STATUS_READ.iter().any(|perm| p.can(*perm, &target)) {
        Ok(())
    } else {
        Err(AppError::Forbidden)
    }
}

async fn may_update(ctx: &Ctx, unit: &UnitRow) -> AppResult<bool> {
    let p = ctx.principal()?;
    let lineage = ctx.state.store.unit_lineage(unit.id).await?;
    Ok(p.can(
        Permission::ControlsUpdate,
        &Target::Unit { lineage: &lineage },
    ))
}

async fn unit_or_404(ctx: &Ctx, code: &str) -> AppResult<UnitRow> {
    ctx.state
        .store
        .unit_by_code(code)
        .await?
        .ok_or(AppError::NotFound)
}

async fn control_or_404(ctx: &Ctx, code: &str) -> AppResult<ControlRow> {
    ctx.state
        .store
        .control_by_code(code)
        .await?
        .ok_or(AppError::NotFound)
}

async fn threat_or_404(ctx: &Ctx, code: &str) -> AppResult<ThreatRow> {
    ctx.state
        .store
        .threat_by_code(code)
        .await?
        .ok_or(AppError::NotFound)
}

/// Names of areas, categories, roles and statuses in the reader's language.
pub(crate) struct Names {
    lang: Lang,
    pub(crate) groups: Vec<GroupRow>,
    pub(crate) roles: Vec<RoleRow>,
}

impl Names {
    async fn areas(ctx: &Ctx) -> AppResult<Names> {
        Ok(Names {
            lang: ctx.lang,
            groups: ctx.state.store.measure_areas().await?,
            roles: ctx.state.store.roles().await?,
        })
    }

    async fn categories(ctx: &Ctx) -> AppResult<Names> {
        Ok(Names {
            lang: ctx.lang,
            groups: ctx.state.store.threat_categories().await?,
            roles: Vec::new(),
        })
    }

    fn group(&self, code: &str) -> String {
        self.groups
            .iter()
            .find(|g| g.code == code)
            .map(|g| {
                let name = if self.lang == Lang::En {
                    &g.name_en
                } else {
                    &g.name_ja
                };
                format!("{} {name}", g.code)
            })
            .unwrap_or_else(|| code.to_owned())
    }

    fn role(&self, code: &str) -> String {
        self.roles
            .iter()
            .find(|r| r.code == code)
            .map(|r| {
                if self.lang == Lang::En {
                    r.label_en.clone()
                } else {
                    r.label_ja.clone()
                }
            })
            .unwrap_or_else(|| code.to_owned())
    }

    fn segments(&self, c: &ControlRow) -> String {
        if c.segments.is_empty() {
            return crate::i18n::tr(self.lang, "catalogue-all-segments");
        }
        c.segments
            .iter()
            .map(|s| Segment::parse(s).map(|s| s.label()).unwrap_or(s.as_str()))
            .collect::<Vec<_>>()
            .join(", ")
    }

    fn tier(&self, c: &ControlRow) -> String {
        match c.min_tier {
            None => crate::i18n::tr(self.lang, "catalogue-all-assets"),
            Some(t) => crate::i18n::tr_args(
                self.lang,
                "catalogue-tier-and-above",
                &[("tier", t.to_string())],
            ),
        }
    }

    fn status(&self, code: &str) -> String {
        crate::i18n::tr(self.lang, &format!("catalogue-status-{code}"))
    }
}

// ---- threats ----

/// Threat list filters.
#[derive(Debug, Default, Deserialize)]
pub struct ThreatQuery {
    #[serde(default)]
    category: String,
    #[serde(default)]
    q: String,
    #[serde(default)]
    retired: String,
    page: Option<i64>,
}

struct ThreatLine {
    heading: Option<String>,
    t: ThreatRow,
}

#[derive(Template)]
#[template(path = "catalogue_threats.html")]
struct ThreatsPage {
    c: Chrome,
    n: Names,
    lines: Vec<ThreatLine>,
    f: ThreatQuery,
    pager: Pager,
    can_manage: bool,
}

/// GET `/threats`: the threat catalogue by category.
pub async fn threats(ctx: Ctx, Query(f): Query<ThreatQuery>) -> AppResult<Response> {
    let p = ctx.principal()?;
    let filter = ThreatFilter {
        category: Some(f.category.clone()).filter(|s| !s.is_empty()),
        q: Some(f.q.clone()).filter(|s| !s.trim().is_empty()),
        include_retired: !f.retired.is_empty(),
    };
    let mut pager = Pager::new(
        f.page,
        PER_PAGE,
        query_string(&[
            ("category", &f.category),
            ("q", &f.q),
            ("retired", &f.retired),
        ]),
    );
    let (rows, total) = ctx
        .state
        .store
        .threats_page(&filter, pager.per_page, pager.offset())
        .await?;
    pager.total = total;
    let n = Names::categories(&ctx).await?;
    let mut last = String::new();
    let lines = rows
        .into_iter()
        .map(|t| {
            let heading = (t.category != last).then(|| n.group(&t.category));
            last = t.category.clone();
            ThreatLine { heading, t }
        })
        .collect();
    Ok(ctx.page(&ThreatsPage {
        c: ctx.chrome(),
        n,
        lines,
        f,
        pager,
        can_manage: p.can(Permission::CatalogueManage, &Target::Organisation),
    }))
}

/// The threat form.
#[derive(Debug, Clone, Default, Deserialize)]
pub struct ThreatForm {
    #[serde(default)]
    pub(crate) code: String,
    #[serde(default)]
    pub(crate) category: String,
    #[serde(default)]
    pub(crate) title: String,
    #[serde(default)]
    pub(crate) description: String,
    #[serde(default)]
    pub(crate) retired: Option<String>,
}

#[derive(Template)]
#[template(path = "catalogue_threat_form.html")]
struct ThreatFormPage {
    c: Chrome,
    n: Names,
    threat: Option<ThreatRow>,
    v: ThreatForm,
    errors: FormErrors,
}

/// Checks a threat form.
pub(crate) async fn validate_threat(
    ctx: &Ctx,
    form: &ThreatForm,
) -> AppResult<Result<ThreatDraft, FormErrors>> {
    let d = ThreatDraft {
        code: fold_fullwidth(form.code.trim()),
        category: fold_fullwidth(form.category.trim()),
        title: form.title.trim().to_owned(),
        description: form.description.clone(),
        retired: form.retired.is_some(),
    };
    let mut errors = FormErrors::default();
    for (field, id) in d.problems() {
        errors.add(ctx.lang, field, id);
    }
    let categories = ctx.state.store.threat_categories().await?;
    if !d.category.is_empty() && !categories.iter().any(|c| c.code == d.category) {
        errors.add(ctx.lang, "category", "catalogue-error-category");
    }
    Ok(if errors.is_empty() {
        Ok(d)
    } else {
        Err(errors)
    })
}

/// GET `/threats/new`.
pub async fn threat_new_form(ctx: Ctx) -> AppResult<Response> {
    require_manage(ctx.principal()?)?;
    Ok(ctx.page(&ThreatFormPage {
        c: ctx.chrome(),
        n: Names::categories(&ctx).await?,
        threat: None,
        v: ThreatForm::default(),
        errors: FormErrors::default(),
    }))
}

/// GET `/threats/{threat}/edit`.
pub async fn threat_edit_form(ctx: Ctx, Path(code): Path<String>) -> AppResult<Response> {
    require_manage(ctx.principal()?)?;
    let t = threat_or_404(&ctx, &code).await?;
    Ok(ctx.page(&ThreatFormPage {
        c: ctx.chrome(),
        n: Names::categories(&ctx).await?,
        v: ThreatForm {
            code: t.code.clone(),
            category: t.category.clone(),
            title: t.title.clone(),
            description: t.description.clone(),
            retired: t.retired.then(|| "on".into()),
        },
        threat: Some(t),
        errors: FormErrors::default(),
    }))
}

async fn save_threat(
    ctx: &Ctx,
    existing: Option<ThreatRow>,
    mut form: ThreatForm,
) -> AppResult<Response> {
    let p = ctx.principal()?;
    require_manage(p)?;
    if let Some(t) = &existing {
        form.code = t.code.clone();
    }
    let errors = match validate_threat(ctx, &form).await? {
        Ok(d) => {
            let mut tx = ctx.state.store.begin(p.actor(&ctx.ip)).await?;
            let saved = match &existing {
                Some(t) => Store::update_threat(&mut tx, &t.code, &d)
                    .await
                    .map(|(_, changed)| changed),
                None => Store::create_threat(&mut tx, &d).await.map(|_| true),
            };
            match saved {
                Ok(changed) => {
                    if changed {
                        ctx.state.commit(tx).await?;
                    }
                    let flash = if changed {
                        "flash-saved"
                    } else {
                        "catalogue-unchanged"
                    };
                    return Ok(
                        ctx.redirect_flash(&format!("/threats?category={}", d.category), flash)
                    );
                }
                Err(StoreError::Duplicate(_)) => {
                    FormErrors::one(ctx.lang, "code", "catalogue-error-code-taken")
                }
                Err(e) => return Err(e.into()),
            }
        }
        Err(e) => e,
    };
    let page = ThreatFormPage {
        c: ctx.chrome(),
        n: Names::categories(ctx).await?,
        threat: existing,
        v: form,
        errors,
    };
    Ok(ctx.page_with_status(StatusCode::UNPROCESSABLE_ENTITY, &page))
}

/// POST `/threats`.
pub async fn threat_create(
    ctx: Ctx,
    axum::Form(form): axum::Form<ThreatForm>,
) -> AppResult<Response> {
    save_threat(&ctx, None, form).await
}

/// POST `/threats/{threat}`.
pub async fn threat_update(
    ctx: Ctx,
    Path(code): Path<String>,
    axum::Form(form): axum::Form<ThreatForm>,
) -> AppResult<Response> {
    require_manage(ctx.principal()?)?;
    let t = threat_or_404(&ctx, &code).await?;
    save_threat(&ctx, Some(t), form).await
}

// ---- controls ----

/// Control list filters.
#[derive(Debug, Default, Deserialize)]
pub struct ControlQuery {
    #[serde(default)]
    area: String,
    #[serde(default)]
    q: String,
    #[serde(default)]
    retired: String,
    page: Option<i64>,
}

struct ControlLine {
    heading: Option<String>,
    c: ControlRow,
    tally: Option<StatusTally>,
}

#[derive(Template)]
#[template(path = "catalogue_controls.html")]
struct ControlsPage {
    c: Chrome,
    n: Names,
    lines: Vec<ControlLine>,
    f: ControlQuery,
    pager: Pager,
    can_manage: bool,
    /// Units whose statuses the reader may open (none: no summary shown).
    units: Vec<UnitRow>,
    statuses: [ImplStatus; 4],
}

async fn readable_unit_rows(ctx: &Ctx, p: &Principal) -> AppResult<Vec<UnitRow>> {
    let readable = readable_units(ctx, p).await?;
    Ok(ctx
        .state
        .store
        .units()
        .await?
        .into_iter()
        .filter(|u| u.in_scope)
        .filter(|u| readable.as_ref().is_none_or(|r| r.contains(&u.id)))
        .collect())
}

/// GET `/controls`: the catalogue by measure area, with each control's status summary over
/// the units the reader may see.
pub async fn controls(ctx: Ctx, Query(f): Query<ControlQuery>) -> AppResult<Response> {
    let p = ctx.principal()?;
    let filter = ControlFilter {
        area: Some(f.area.clone()).filter(|s| !s.is_empty()),
        q: Some(f.q.clone()).filter(|s| !s.trim().is_empty()),
        include_retired: !f.retired.is_empty(),
        ..ControlFilter::default()
    };
    let mut pager = Pager::new(
        f.page,
        PER_PAGE,
        query_string(&[("area", &f.area), ("q", &f.q), ("retired", &f.retired)]),
    );
    let (rows, total) = ctx
        .state
        .store
        .controls_page(&filter, pager.per_page, pager.offset())
        .await?;
    pager.total = total;
    let units = readable_unit_rows(&ctx, p).await?;
    let mut tallies: HashMap<i64, StatusTally> = if units.is_empty() {
        HashMap::new()
    } else {
        let ids: Vec<UnitId> = units.iter().map(|u| u.id).collect();
        ctx.state.store.control_tallies(Some(&ids)).await?
    };
    let n = Names::areas(&ctx).await?;
    let mut last = String::new();
    let lines = rows
        .into_iter()
        .map(|c| {
            let heading = (c.area != last).then(|| n.group(&c.area));
            last = c.area.clone();
            ControlLine {
                heading,
                tally: tallies.remove(&c.id),
                c,
            }
        })
        .collect();
    Ok(ctx.page(&ControlsPage {
        c: ctx.chrome(),
        n,
        lines,
        f,
        pager,
        can_manage: p.can(Permission::CatalogueManage, &Target::Organisation),
        units,
        statuses: ImplStatus::ALL,
    }))
}

#[derive(Template)]
#[template(path = "catalogue_control.html")]
struct ControlPage {
    c: Chrome,
    n: Names,
    control: ControlRow,
    statuses: Vec<ControlStatusRow>,
    may_read_statuses: bool,
    can_manage: bool,
}

/// GET `/controls/{control}`: one control and its status in each unit the reader may see.
pub async fn control_show(ctx: Ctx, Path(code): Path<String>) -> AppResult<Response> {
    let p = ctx.principal()?;
    let control = control_or_404(&ctx, &code).await?;
    let readable = readable_units(&ctx, p).await?;
    let may_read_statuses = readable.as_ref().is_none_or(|r| !r.is_empty());
    let statuses = if may_read_statuses {
        ctx.state
            .store
            .control_statuses(control.id, readable.as_deref())
            .await?
    } else {
        Vec::new()
    };
    Ok(ctx.page(&ControlPage {
        c: ctx.chrome(),
        n: Names::areas(&ctx).await?,
        control,
        statuses,
        may_read_statuses,
        can_manage: p.can(Permission::CatalogueManage, &Target::Organisation),
    }))
}

/// The control form (`segment` repeats).
#[derive(Debug, Clone, Default)]
pub struct ControlForm {
    pub(crate) code: String,
    pub(crate) area: String,
    pub(crate) title: String,
    pub(crate) description: String,
    pub(crate) clauses: String,
    pub(crate) owner_role: String,
    pub(crate) segments: Vec<String>,
    pub(crate) min_tier: String,
    pub(crate) retired: bool,
}

impl ControlForm {
    fn from_pairs(pairs: Vec<(String, String)>) -> ControlForm {
        let mut f = ControlForm::default();
        for (k, v) in pairs {
            match k.as_str() {
                "code" => f.code = v,
                "area" => f.area = v,
                "title" => f.title = v,
                "description" => f.description = v,
                "clauses" => f.clauses = v,
                "owner_role" => f.owner_role = v,
                "segment" => f.segments.push(v),
                "min_tier" => f.min_tier = v,
                "retired" => f.retired = true,
                _ => {}
            }
        }
        f
    }

    fn from_control(c: &ControlRow) -> ControlForm {
        ControlForm {
            code: c.code.clone(),
            area: c.area.clone(),
            title: c.title.clone(),
            description: c.description.clone(),
            clauses: c.clauses.join("; "),
            owner_role: c.owner_role.clone(),
            segments: c.segments.clone(),
            min_tier: c.min_tier.map(|t| t.to_string()).unwrap_or_default(),
            retired: c.retired,
        }
    }
}

/// Checks a control form against the rules, the data and the basic policy in force.
pub(crate) async fn validate_control(
    ctx: &Ctx,
    form: &ControlForm,
) -> AppResult<Result<ControlDraft, FormErrors>> {
    let mut errors = FormErrors::default();
    let mut clauses = Vec::new();
    let mut bad_clauses = Vec::new();
    for written in split_list(&form.clauses) {
        match normalise_anchor(&written) {
            Some(a) if !clauses.contains(&a) => clauses.push(a),
            Some(_) => {}
            None => bad_clauses.push(written),
        }
    }
    let mut segments = Vec::new();
    for s in &form.segments {
        match Segment::parse(s) {
            Some(s) if !segments.contains(&s) => segments.push(s),
            Some(_) => {}
            None => errors.add(ctx.lang, "segments", "error-unknown-segment"),
        }
    }
    let tier = fold_fullwidth(form.min_tier.trim());
    let min_tier = if tier.is_empty() {
        None
    } else {
        match tier.parse::<u8>() {
            Ok(t) => Some(t),
            Err(_) => {
                errors.add(ctx.lang, "min_tier", "catalogue-error-tier");
                None
            }
        }
    };
    let d = ControlDraft {
        code: fold_fullwidth(form.code.trim()),
        area: fold_fullwidth(form.area.trim()),
        title: form.title.trim().to_owned(),
        description: form.description.clone(),
        clauses,
        owner_role: form.owner_role.trim().to_owned(),
        segments,
        min_tier,
        retired: form.retired,
    };
    for (field, id) in d.problems() {
        errors.add(ctx.lang, field, id);
    }
    if !bad_clauses.is_empty() {
        errors.add_text(
            "clauses",
            format!(
                "{} ({})",
                crate::i18n::tr(ctx.lang, "catalogue-error-clause"),
                bad_clauses.join(", ")
            ),
        );
    }
    let store = &ctx.state.store;
    if !d.area.is_empty()
        && !store
            .measure_areas()
            .await?
            .iter()
            .any(|a| a.code == d.area)
    {
        errors.add(ctx.lang, "area", "catalogue-error-area");
    }
    if !d.owner_role.is_empty() && !store.roles().await?.iter().any(|r| r.code == d.owner_role) {
        errors.add(ctx.lang, "owner_role", "error-unknown-role");
    }
    if let Some(anchors) = store.basic_policy_anchors().await? {
        let unknown: Vec<&str> = d
            .clauses
            .iter()
            .filter(|c| !anchors.contains(*c))
            .map(String::as_str)
            .collect();
        if !unknown.is_empty() {
            errors.add_text(
                "clauses",
                format!(
                    "{} ({})",
                    crate::i18n::tr(ctx.lang, "catalogue-error-unknown-clause"),
                    unknown.join(", ")
                ),
            );
        }
    }
    Ok(if errors.is_empty() {
        Ok(d)
    } else {
        Err(errors)
    })
}

#[derive(Template)]
#[template(path = "catalogue_control_form.html")]
struct ControlFormPage {
    c: Chrome,
    n: Names,
    control: Option<ControlRow>,
    v: ControlForm,
    errors: FormErrors,
    segments: Vec<Segment>,
}

impl ControlFormPage {
    fn has_segment(&self, code: &str) -> bool {
        self.v.segments.iter().any(|s| s == code)
    }
}

async fn control_form_page(
    ctx: &Ctx,
    control: Option<ControlRow>,
    v: ControlForm,
    errors: FormErrors,
) -> AppResult<ControlFormPage> {
    Ok(ControlFormPage {
        c: ctx.chrome(),
        n: Names::areas(ctx).await?,
        control,
        v,
        errors,
        segments: vec![
            Segment::Mynumber,
            Segment::Lgwan,
            Segment::Internet,
            Segment::Standalone,
            Segment::None,
        ],
    })
}

/// GET `/controls/new`.
pub async fn control_new_form(ctx: Ctx) -> AppResult<Response> {
    require_manage(ctx.principal()?)?;
    let page = control_form_page(&ctx, None, ControlForm::default(), FormErrors::default()).await?;
    Ok(ctx.page(&page))
}

/// GET `/controls/{control}/edit`.
pub async fn control_edit_form(ctx: Ctx, Path(code): Path<String>) -> AppResult<Response> {
    require_manage(ctx.principal()?)?;
    let c = control_or_404(&ctx, &code).await?;
    let v = ControlForm::from_control(&c);
    let page = control_form_page(&ctx, Some(c), v, FormErrors::default()).await?;
    Ok(ctx.page(&page))
}

async fn save_control(
    ctx: &Ctx,
    existing: Option<ControlRow>,
    mut form: ControlForm,
) -> AppResult<Response> {
    let p = ctx.principal()?;
    require_manage(p)?;
    if let Some(c) = &existing {
        form.code = c.code.clone();
    }
    let errors = match validate_control(ctx, &form).await? {
        Ok(d) => {
            let mut tx = ctx.state.store.begin(p.actor(&ctx.ip)).await?;
            let saved = match &existing {
                Some(c) => Store::update_control(&mut tx, &c.code, &d)
                    .await
                    .map(|(_, changed)| changed),
                None => Store::create_control(&mut tx, &d).await.map(|_| true),
            };
            match saved {
                Ok(changed) => {
                    if changed {
                        ctx.state.commit(tx).await?;
                    }
                    let flash = if changed {
                        "flash-saved"
                    } else {
                        "catalogue-unchanged"
                    };
                    return Ok(ctx.redirect_flash(&format!("/controls/{}", d.code), flash));
                }
                Err(StoreError::Duplicate(_)) => {
                    FormErrors::one(ctx.lang, "code", "catalogue-error-code-taken")
                }
                Err(e) => return Err(e.into()),
            }
        }
        Err(e) => e,
    };
    let page = control_form_page(ctx, existing, form, errors).await?;
    Ok(ctx.page_with_status(StatusCode::UNPROCESSABLE_ENTITY, &page))
}

fn pairs(body: &[u8]) -> AppResult<Vec<(String, String)>> {
    serde_urlencoded::from_bytes(body).map_err(|_| AppError::BadRequest("error-bad-request"))
}

/// POST `/controls`.
pub async fn control_create(
    ctx: Ctx,
    axum::extract::RawForm(body): axum::extract::RawForm,
) -> AppResult<Response> {
    save_control(&ctx, None, ControlForm::from_pairs(pairs(&body)?)).await
}

/// POST `/controls/{control}`.
pub async fn control_update(
    ctx: Ctx,
    Path(code): Path<String>,
    axum::extract::RawForm(body): axum::extract::RawForm,
) -> AppResult<Response> {
    require_manage(ctx.principal()?)?;
    let c = control_or_404(&ctx, &code).await?;
    save_control(&ctx, Some(c), ControlForm::from_pairs(pairs(&body)?)).await
}

// ---- statuses ----

/// A unit's status filters.
#[derive(Debug, Default, Deserialize)]
pub struct UnitQuery {
    #[serde(default)]
    area: String,
    #[serde(default)]
    status: String,
    page: Option<i64>,
}

#[derive(Template)]
#[template(path = "catalogue_unit.html")]
struct UnitPage {
    c: Chrome,
    n: Names,
    unit: UnitRow,
    rows: Vec<ControlStatusRow>,
    f: UnitQuery,
    pager: Pager,
    can_update: bool,
    statuses: [ImplStatus; 4],
}

/// GET `/controls/unit/{unit}`: a unit's control statuses.
pub async fn unit_statuses(
    ctx: Ctx,
    Path(code): Path<String>,
    Query(f): Query<UnitQuery>,
) -> AppResult<Response> {
    let unit = unit_or_404(&ctx, &code).await?;
    require_read_unit(&ctx, &unit).await?;
    let status = match f.status.as_str() {
        "" => None,
        s => Some(ImplStatus::parse(s).ok_or(AppError::BadRequest("error-bad-filter"))?),
    };
    let mut pager = Pager::new(
        f.page,
        PER_PAGE,
        query_string(&[("area", &f.area), ("status", &f.status)]),
    );
    let (rows, total) = ctx
        .state
        .store
        .unit_control_statuses(
            unit.id,
            Some(f.area.as_str()).filter(|a| !a.is_empty()),
            status,
            pager.per_page,
            pager.offset(),
        )
        .await?;
    pager.total = total;
    Ok(ctx.page(&UnitPage {
        c: ctx.chrome(),
        n: Names::areas(&ctx).await?,
        can_update: may_update(&ctx, &unit).await?,
        unit,
        rows,
        f,
        pager,
        statuses: ImplStatus::ALL,
    }))
}

#[derive(Template)]
#[template(path = "catalogue_status.html")]
struct StatusPage {
    c: Chrome,
    n: Names,
    control: ControlRow,
    unit: UnitRow,
    s: ControlStatusRow,
    evidence: Vec<EvidenceRow>,
    can_update: bool,
    v: StatusForm,
    errors: FormErrors,
    statuses: [ImplStatus; 4],
    /// The status's history from the audit trail, newest first: (time, who, what).
    history: Vec<(String, String, String)>,
}

/// The status form.
#[derive(Debug, Clone, Default, Deserialize)]
pub struct StatusForm {
    #[serde(default)]
    pub(crate) status: String,
    #[serde(default)]
    pub(crate) note: String,
    #[serde(default)]
    pub(crate) links: String,
    #[serde(default)]
    pub(crate) review_on: String,
}

async fn status_page(
    ctx: &Ctx,
    control: ControlRow,
    unit: UnitRow,
    form: Option<StatusForm>,
    errors: FormErrors,
) -> AppResult<StatusPage> {
    let store = &ctx.state.store;
    let s = store
        .control_status(control.id, unit.id)
        .await?
        .ok_or(AppError::NotFound)?;
    let v = form.unwrap_or_else(|| StatusForm {
        status: s.status.clone(),
        note: s.note.clone(),
        links: s.links.join("\n"),
        review_on: s.review_on.clone().unwrap_or_default(),
    });
    let (entries, _) = store
        .audit_page(
            &mamori_store::AuditFilter {
                entity_type: Some("control_status".into()),
                entity_id: Some(format!("{}@{}", control.code, unit.code)),
                ..Default::default()
            },
            20,
            0,
        )
        .await?;
    let history = entries
        .into_iter()
        .map(|e| {
            let what = match e.record.action.as_str() {
                "control.status.set" => "catalogue-history-set",
                "control.status.verify" => "catalogue-history-verify",
                _ => "catalogue-history-evidence",
            };
            (e.record.at, e.record.actor, crate::i18n::tr(ctx.lang, what))
        })
        .collect();
    Ok(StatusPage {
        c: ctx.chrome(),
        n: Names::areas(ctx).await?,
        history,
        evidence: store.control_evidence(control.id, unit.id).await?,
        can_update: may_update(ctx, &unit).await?,
        control,
        unit,
        s,
        v,
        errors,
        statuses: ImplStatus::ALL,
    })
}

async fn status_target(ctx: &Ctx, control: &str, unit: &str) -> AppResult<(ControlRow, UnitRow)> {
    let unit = unit_or_404(ctx, unit).await?;
    require_read_unit(ctx, &unit).await?;
    let control = control_or_404(ctx, control).await?;
    Ok((control, unit))
}

async fn require_update(ctx: &Ctx, unit: &UnitRow) -> AppResult<()> {
    if may_update(ctx, unit).await? {
        Ok(())
    } else {
        Err(AppError::Forbidden)
    }
}

/// GET `/controls/{control}/units/{unit}`.
pub async fn status_show(
    ctx: Ctx,
    Path((control, unit)): Path<(String, String)>,
) -> AppResult<Response> {
    let (control, unit) = status_target(&ctx, &control, &unit).await?;
    let page = status_page(&ctx, control, unit, None, FormErrors::default()).await?;
    Ok(ctx.page(&page))
}

/// Checks a status form.
pub(crate) fn validate_status(ctx: &Ctx, form: &StatusForm) -> Result<StatusInput, FormErrors> {
    let mut errors = FormErrors::default();
    let status = ImplStatus::parse(&form.status);
    if status.is_none() {
        errors.add(ctx.lang, "status", "catalogue-error-status");
    }
    let links: Vec<String> = form
        .links
        .lines()
        .map(str::trim)
        .filter(|l| !l.is_empty())
        .map(str::to_owned)
        .collect();
    if links.iter().any(|l| !is_valid_evidence_link(l)) {
        errors.add(ctx.lang, "links", "catalogue-error-link");
    }
    if links.len() > 20 {
        errors.add(ctx.lang, "links", "catalogue-error-links-count");
    }
    if form.note.chars().count() > 4000 {
        errors.add(ctx.lang, "note", "error-too-long");
    }
    let review_on = match form.review_on.trim() {
        "" => None,
        d => match parse_date(&fold_fullwidth(d)) {
            Ok(d) => Some(d),
            Err(e) => {
                errors.add(ctx.lang, "review_on", e.message_id());
                None
            }
        },
    };
    match status {
        Some(status) if errors.is_empty() => Ok(StatusInput {
            status,
            note: form.note.trim().to_owned(),
            links,
            review_on,
        }),
        _ => Err(errors),
    }
}

/// POST `/controls/{control}/units/{unit}`: sets the status, note, links and review date.
pub async fn status_update(
    ctx: Ctx,
    Path((control, unit)): Path<(String, String)>,
    axum::Form(form): axum::Form<StatusForm>,
) -> AppResult<Response> {
    let (control, unit) = status_target(&ctx, &control, &unit).await?;
    require_update(&ctx, &unit).await?;
    let p = ctx.principal()?;
    match validate_status(&ctx, &form) {
        Ok(input) => {
            let mut tx = ctx.state.store.begin(p.actor(&ctx.ip)).await?;
            let (_, changed) =
                Store::set_control_status(&mut tx, control.id, unit.id, &input).await?;
            if changed {
                ctx.state.commit(tx).await?;
            }
            Ok(ctx.redirect_flash(
                &format!("/controls/{}/units/{}", control.code, unit.code),
                if changed {
                    "flash-saved"
                } else {
                    "catalogue-unchanged"
                },
            ))
        }
        Err(errors) => {
            let page = status_page(&ctx, control, unit, Some(form), errors).await?;
            Ok(ctx.page_with_status(StatusCode::UNPROCESSABLE_ENTITY, &page))
        }
    }
}

/// POST `/controls/{control}/units/{unit}/verify`: the reader confirms the recorded status
/// (never their own).
pub async fn verify(
    ctx: Ctx,
    Path((control, unit)): Path<(String, String)>,
) -> AppResult<Response> {
    let (control, unit) = status_target(&ctx, &control, &unit).await?;
    require_update(&ctx, &unit).await?;
    let p = ctx.principal()?;
    let mut tx = ctx.state.store.begin(p.actor(&ctx.ip)).await?;
    let refusal =
        match Store::verify_control_status(&mut tx, control.id, unit.id, ctx.today()).await {
            Ok(_) => None,
            Err(StoreError::Rule(id)) => Some(id),
            Err(StoreError::Missing(_)) => Some("catalogue-verify-nothing"),
            Err(e) => return Err(e.into()),
        };
    if let Some(id) = refusal {
        drop(tx);
        let mut errors = FormErrors::default();
        errors.add(ctx.lang, "verify", id);
        let page = status_page(&ctx, control, unit, None, errors).await?;
        return Ok(ctx.page_with_status(StatusCode::UNPROCESSABLE_ENTITY, &page));
    }
    ctx.state.commit(tx).await?;
    Ok(ctx.redirect_flash(
        &format!("/controls/{}/units/{}", control.code, unit.code),
        "flash-saved",
    ))
}

fn clean_filename(name: &str) -> String {
    let base = name.rsplit(['/', '\\']).next().unwrap_or(name);
    let cleaned: String = base.chars().filter(|c| !c.is_control()).take(200).collect();
    if cleaned.trim().is_empty() {
        "file".to_owned()
    } else {
        cleaned
    }
}

/// POST `/controls/{control}/units/{unit}/evidence` (multipart `file`): an evidence file.
pub async fn evidence_upload(
    ctx: Ctx,
    Path((control, unit)): Path<(String, String)>,
    mut multipart: Multipart,
) -> AppResult<Response> {
    let (control, unit) = status_target(&ctx, &control, &unit).await?;
    require_update(&ctx, &unit).await?;
    let p = ctx.principal()?;
    let max = ctx.state.config.max_upload_bytes;
    let mut tx = ctx.state.store.begin(p.actor(&ctx.ip)).await?;
    let mut stored = None;
    let mut refusal = None;
    while let Some(mut field) = multipart
        .next_field()
        .await
        .map_err(crate::error::multipart_error)?
    {
        if field.name() != Some("file") || refusal.is_some() {
            continue;
        }
        let filename = clean_filename(field.file_name().unwrap_or(""));
        let content_type = field
            .content_type()
            .filter(|t| t.len() < 100 && t.bytes().all(|b| b.is_ascii_graphic()))
            .unwrap_or("application/octet-stream")
            .to_owned();
        let mut writer = FileWriter::begin(&mut tx, max).await?;
        while let Some(chunk) = field.chunk().await.map_err(crate::error::multipart_error)? {
            match writer.write(&mut tx, &chunk).await {
                Err(StoreError::Rule(id)) => {
                    refusal = Some(id);
                    break;
                }
                other => other?,
            }
        }
        if refusal.is_some() {
            continue;
        }
        let (sha, size) = writer.finish(&mut tx).await?;
        if size > 0 {
            stored = Some((sha, size, filename, content_type));
        }
    }
    let refusal = refusal.or(stored.is_none().then_some("error-file-empty"));
    if let Some(id) = refusal {
        drop(tx);
        let mut errors = FormErrors::default();
        errors.add(ctx.lang, "file", id);
        let page = status_page(&ctx, control, unit, None, errors).await?;
        let status = if id == "error-file-too-large" {
            StatusCode::PAYLOAD_TOO_LARGE
        } else {
            StatusCode::UNPROCESSABLE_ENTITY
        };
        return Ok(ctx.page_with_status(status, &page));
    }
    if let Some((sha, size, filename, content_type)) = stored {
        Store::add_control_evidence(
            &mut tx,
            control.id,
            unit.id,
            (&sha, size),
            &filename,
            &content_type,
        )
        .await?;
    }
    ctx.state.commit(tx).await?;
    Ok(ctx.redirect_flash(
        &format!("/controls/{}/units/{}#evidence", control.code, unit.code),
        "flash-saved",
    ))
}

/// GET `/controls/{control}/units/{unit}/evidence/{evidence}`: always a download.
pub async fn evidence_download(
    ctx: Ctx,
    Path((control, unit, evidence)): Path<(String, String, i64)>,
) -> AppResult<Response> {
    let (control, unit) = status_target(&ctx, &control, &unit).await?;
    let e = ctx
        .state
        .store
        .control_evidence(control.id, unit.id)
        .await?
        .into_iter()
        .find(|e| e.id == evidence)
        .ok_or(AppError::NotFound)?;
    Ok(crate::pages::assets::stored_file(
        &ctx.state.store,
        &e.sha256,
        &e.filename,
        e.size,
    ))
}

// ---- exports of exactly what the list shows (every page) ----

fn spreadsheet(name: &'static str, csv: Result<String, String>) -> AppResult<Response> {
    Ok(crate::view::csv_download(
        name,
        csv.map_err(AppError::Internal)?,
    ))
}

async fn threat_records(
    ctx: &Ctx,
    f: &ThreatQuery,
) -> AppResult<Vec<mamori_domain::interchange::catalogue::ThreatRecord>> {
    let filter = ThreatFilter {
        category: Some(f.category.clone()).filter(|s| !s.is_empty()),
        q: Some(f.q.clone()).filter(|s| !s.trim().is_empty()),
        include_retired: !f.retired.is_empty(),
    };
    let mut records = Vec::new();
    ctx.state
        .store
        .threats_for_each(&filter, |t| {
            records.push(t.to_record());
            Ok(())
        })
        .await?;
    Ok(records)
}

async fn control_records(
    ctx: &Ctx,
    f: &ControlQuery,
) -> AppResult<Vec<mamori_domain::interchange::catalogue::ControlRecord>> {
    let filter = ControlFilter {
        area: Some(f.area.clone()).filter(|s| !s.is_empty()),
        q: Some(f.q.clone()).filter(|s| !s.trim().is_empty()),
        include_retired: !f.retired.is_empty(),
        ..ControlFilter::default()
    };
    let roles = ctx.state.store.roles().await?;
    let mut records = Vec::new();
    ctx.state
        .store
        .controls_for_each(&filter, |c| {
            let owner = roles
                .iter()
                .find(|r| r.code == c.owner_role)
                .map(|r| r.label_ja.clone());
            records.push(c.to_record(owner));
            Ok(())
        })
        .await?;
    Ok(records)
}

/// GET `/threats.csv`: the threats the list shows, as CSV with Japanese labels.
pub async fn threats_csv(ctx: Ctx, Query(f): Query<ThreatQuery>) -> AppResult<Response> {
    use mamori_domain::interchange::catalogue::Threats;
    let records = threat_records(&ctx, &f).await?;
    spreadsheet(
        "threats.csv",
        mamori_domain::interchange::kind::write_csv::<Threats>(&records, true),
    )
}

/// GET `/threats.xlsx`.
pub async fn threats_xlsx(ctx: Ctx, Query(f): Query<ThreatQuery>) -> AppResult<Response> {
    use mamori_domain::interchange::catalogue::Threats;
    let records = threat_records(&ctx, &f).await?;
    crate::view::xlsx_download::<Threats>("threats.xlsx", records).await
}

/// GET `/controls.csv`: the controls the list shows, in the import format.
pub async fn controls_csv(ctx: Ctx, Query(f): Query<ControlQuery>) -> AppResult<Response> {
    use mamori_domain::interchange::catalogue::Controls;
    let records = control_records(&ctx, &f).await?;
    spreadsheet(
        "controls.csv",
        mamori_domain::interchange::kind::write_csv::<Controls>(&records, true),
    )
}

/// GET `/controls.xlsx`.
pub async fn controls_xlsx(ctx: Ctx, Query(f): Query<ControlQuery>) -> AppResult<Response> {
    use mamori_domain::interchange::catalogue::Controls;
    let records = control_records(&ctx, &f).await?;
    crate::view::xlsx_download::<Controls>("controls.xlsx", records).await
}
