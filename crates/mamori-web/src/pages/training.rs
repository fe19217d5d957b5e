//! Training (研修, clause 6(5)): the person's own training, the course catalogue, course pages
//! (targets, materials, quiz, sessions, completion), course editing, manager entry of
//! completions, quizzes, and the completion report.
//!
//! Decisions:
//! - Courses, their materials and quizzes are the organisation's: creating and editing them
//!   needs `training.manage` organisation-wide. Every logged-in person may read the catalogue
//!   and download materials (they are what staff are meant to study).
//! - Completions concern people: recording one (by hand, by session attendance or by import)
//!   needs `training.manage` on the person's unit; a session run for a unit needs it there.
//! - Completion records and the report are shown for the people in units where the reader
//!   holds `training.manage` or `people.read` (auditors and committees see the figures).
//! - A person completes a course themselves only by passing its quiz, and only for a course
//!   assigned to them; anything else is refused with a message, not a bare error.

use crate::error::{AppError, AppResult};
use crate::i18n::{tr, Lang};
use crate::session::Principal;
use crate::view::{query_string, Chrome, Ctx, FormErrors, Pager};
use askama::Template;
use axum::extract::{Multipart, Path, Query};
use axum::http::StatusCode;
use axum::response::Response;
use mamori_domain::authz::Target;
use mamori_domain::permission::Permission;
use mamori_domain::training::{
    course_problems, fiscal_year_label, material_problem, passed, score, Question, Recurrence,
    Source, Status,
};
use mamori_domain::wareki::{fiscal_year, fold_fullwidth, parse_date};
use mamori_domain::UnitId;
use mamori_store::{
    CategoryRow, CompletionInput, CourseInput, CourseRow, FileWriter, MaterialRow, MyCourse,
    PendingRow, QuestionRow, RecordRow, RoleRow, Store, StoreError, TrainingFilter, TrainingReport,
    TrainingSessionInput, TrainingSessionRow,
};
use serde::Deserialize;

/// Rows per page.
const PER_PAGE: i64 = 50;

/// The units whose people the reader may see training for (`None`: everywhere).
pub(crate) fn reader_roots(p: &Principal) -> Option<Vec<UnitId>> {
    let a = p.grants.unit_roots(Permission::TrainingManage);
    let b = p.grants.unit_roots(Permission::PeopleRead);
    match (a, b) {
        (None, _) | (_, None) => None,
        (Some(mut a), Some(b)) => {
            a.extend(b);
            a.sort();
            a.dedup();
            Some(a)
        }
    }
}

/// Courses are the organisation's: changing them needs `training.manage` organisation-wide.
fn require_org(p: &Principal) -> AppResult<()> {
    p.require(Permission::TrainingManage, &Target::Organisation)
}

async fn course_or_404(ctx: &Ctx, code: &str) -> AppResult<CourseRow> {
    ctx.state
        .store
        .course_by_code(code)
        .await?
        .ok_or(AppError::NotFound)
}

/// `training.manage` on a unit.
async fn require_on_unit(ctx: &Ctx, unit: UnitId) -> AppResult<()> {
    let p = ctx.principal()?;
    let lineage = ctx.state.store.unit_lineage(unit).await?;
    p.require(
        Permission::TrainingManage,
        &Target::Unit { lineage: &lineage },
    )
}

fn label_of(lang: Lang, ja: &str, en: &str) -> String {
    if lang == Lang::En {
        en.to_owned()
    } else {
        ja.to_owned()
    }
}

/// A 年度 as templates hold it.
pub(crate) trait FyArg {
    fn year(&self) -> i32;
}

impl FyArg for i64 {
    fn year(&self) -> i32 {
        i32::try_from(*self).unwrap_or(0)
    }
}

impl FyArg for i32 {
    fn year(&self) -> i32 {
        *self
    }
}

impl<T: FyArg> FyArg for &T {
    fn year(&self) -> i32 {
        (**self).year()
    }
}

/// Shared helpers for templates.
pub(crate) struct Labels {
    lang: Lang,
    style: mamori_domain::wareki::DateStyle,
    categories: Vec<CategoryRow>,
    roles: Vec<RoleRow>,
}

impl Labels {
    async fn load(ctx: &Ctx) -> AppResult<Labels> {
        Ok(Labels {
            lang: ctx.lang,
            style: ctx.settings.date_style,
            categories: ctx.state.store.categories().await?,
            roles: ctx.state.store.roles().await?,
        })
    }

    fn category(&self, code: &str) -> String {
        self.categories
            .iter()
            .find(|c| c.code == code)
            .map(|c| label_of(self.lang, &c.label_ja, &c.label_en))
            .unwrap_or_else(|| code.to_owned())
    }

    fn role(&self, code: &str) -> String {
        self.roles
            .iter()
            .find(|r| r.code == code)
            .map(|r| label_of(self.lang, &r.label_ja, &r.label_en))
            .unwrap_or_else(|| code.to_owned())
    }

    fn fy<T: FyArg>(&self, fy: T) -> String {
        fiscal_year_label(fy.year(), self.style, self.lang)
    }

    fn targets(&self, c: &CourseRow) -> String {
        if c.target_categories.is_empty() && c.target_roles.is_empty() {
            return tr(self.lang, "training-everyone");
        }
        let mut parts: Vec<String> = c
            .target_categories
            .iter()
            .map(|x| self.category(x))
            .collect();
        parts.extend(c.target_roles.iter().map(|x| self.role(x)));
        parts.join(", ")
    }

    fn recurrence(&self, c: &CourseRow) -> String {
        let id = if c.onboarding {
            "training-onboarding"
        } else {
            match c.recurrence() {
                Recurrence::Annual => "training-recurrence-annual",
                Recurrence::Once => "training-recurrence-once",
            }
        };
        tr(self.lang, id)
    }

    fn status(&self, s: &Status) -> String {
        tr(self.lang, &format!("training-status-{}", s.code()))
    }
}

// ---- my training ----

#[derive(Template)]
#[template(path = "training_my.html")]
struct MyPage {
    c: Chrome,
    l: Labels,
    linked: bool,
    fy: i64,
    items: Vec<MyCourse>,
}

/// GET `/training`: what is assigned to me, due, overdue and done.
pub async fn my_training(ctx: Ctx) -> AppResult<Response> {
    let p = ctx.principal()?;
    let today = ctx.today();
    let items = match p.user.person_id {
        Some(person) => ctx.state.store.my_training(person, today).await?,
        None => Vec::new(),
    };
    Ok(ctx.page(&MyPage {
        c: ctx.chrome(),
        l: Labels::load(&ctx).await?,
        linked: p.user.person_id.is_some(),
        fy: i64::from(fiscal_year(today)),
        items,
    }))
}

// ---- catalogue and course page ----

#[derive(Template)]
#[template(path = "training_courses.html")]
struct CoursesPage {
    c: Chrome,
    l: Labels,
    courses: Vec<CourseRow>,
    can_manage: bool,
    can_report: bool,
}

/// GET `/training/courses`.
pub async fn courses(ctx: Ctx) -> AppResult<Response> {
    let p = ctx.principal()?;
    Ok(ctx.page(&CoursesPage {
        c: ctx.chrome(),
        l: Labels::load(&ctx).await?,
        courses: ctx.state.store.courses().await?,
        can_manage: p.can(Permission::TrainingManage, &Target::Organisation),
        can_report: p.can(Permission::TrainingManage, &Target::Anywhere)
            || p.can(Permission::PeopleRead, &Target::Anywhere),
    }))
}

#[derive(Template)]
#[template(path = "training_course.html")]
struct CoursePage {
    c: Chrome,
    l: Labels,
    course: CourseRow,
    materials: Vec<MaterialRow>,
    questions: Vec<QuestionRow>,
    sessions: Vec<TrainingSessionRow>,
    units: Vec<mamori_store::UnitRow>,
    report: Option<TrainingReport>,
    can_edit: bool,
    can_sessions: bool,
    errors: FormErrors,
}

async fn course_page(ctx: &Ctx, course: CourseRow, errors: FormErrors) -> AppResult<CoursePage> {
    let p = ctx.principal()?;
    let store = &ctx.state.store;
    let can_report = p.can(Permission::TrainingManage, &Target::Anywhere)
        || p.can(Permission::PeopleRead, &Target::Anywhere);
    let report = if can_report {
        let filter = TrainingFilter {
            unit_roots: reader_roots(p),
            course: Some(course.code.clone()),
            ..TrainingFilter::default()
        };
        Some(
            store
                .training_report(&filter, fiscal_year(ctx.today()), ctx.today())
                .await?,
        )
    } else {
        None
    };
    let can_sessions = p.can(Permission::TrainingManage, &Target::Anywhere);
    let mut units = Vec::new();
    if can_sessions {
        for u in store.units().await? {
            let lineage = store.unit_lineage(u.id).await?;
            if p.can(
                Permission::TrainingManage,
                &Target::Unit { lineage: &lineage },
            ) {
                units.push(u);
            }
        }
    }
    Ok(CoursePage {
        c: ctx.chrome(),
        l: Labels::load(ctx).await?,
        materials: store.course_materials(course.id).await?,
        questions: store.course_questions(course.id).await?,
        sessions: store.course_sessions(course.id).await?,
        units,
        report,
        can_edit: p.can(Permission::TrainingManage, &Target::Organisation),
        can_sessions,
        errors,
        course,
    })
}

/// GET `/training/courses/{course}`.
pub async fn show(ctx: Ctx, Path(code): Path<String>) -> AppResult<Response> {
    let course = course_or_404(&ctx, &code).await?;
    let page = course_page(&ctx, course, FormErrors::default()).await?;
    Ok(ctx.page(&page))
}

// ---- course form ----

#[derive(Template)]
#[template(path = "training_course_form.html")]
struct CourseFormPage {
    c: Chrome,
    l: Labels,
    course: Option<CourseRow>,
    v: CourseForm,
    errors: FormErrors,
}

impl CourseFormPage {
    fn has_category(&self, code: &str) -> bool {
        self.v.categories().iter().any(|c| c == code)
    }

    fn has_role(&self, code: &str) -> bool {
        self.v.roles().iter().any(|c| c == code)
    }
}

/// The course form (`categories` and `roles` repeat; as JSON they are arrays).
#[derive(Debug, Clone, Default, Deserialize)]
pub struct CourseForm {
    #[serde(default)]
    pub(crate) code: String,
    #[serde(default)]
    pub(crate) title: String,
    #[serde(default)]
    pub(crate) description: String,
    #[serde(default)]
    pub(crate) target: Vec<(String, String)>,
    #[serde(default)]
    pub(crate) recurrence: String,
    #[serde(default)]
    pub(crate) onboarding: Option<String>,
    #[serde(default)]
    pub(crate) due_days: String,
    #[serde(default)]
    pub(crate) pass_mark: String,
    #[serde(default)]
    pub(crate) starts_on: String,
    #[serde(default)]
    pub(crate) active: Option<String>,
}

impl CourseForm {
    fn categories(&self) -> Vec<String> {
        self.target
            .iter()
            .filter(|(k, _)| k == "category")
            .map(|(_, v)| v.clone())
            .collect()
    }

    fn roles(&self) -> Vec<String> {
        self.target
            .iter()
            .filter(|(k, _)| k == "role")
            .map(|(_, v)| v.clone())
            .collect()
    }

    fn from_pairs(pairs: Vec<(String, String)>) -> CourseForm {
        let mut f = CourseForm::default();
        for (k, v) in pairs {
            match k.as_str() {
                "code" => f.code = v,
                "title" => f.title = v,
                "description" => f.description = v,
                "category" | "role" => f.target.push((k, v)),
                "recurrence" => f.recurrence = v,
                "onboarding" => f.onboarding = Some(v),
                "due_days" => f.due_days = v,
                "pass_mark" => f.pass_mark = v,
                "starts_on" => f.starts_on = v,
                "active" => f.active = Some(v),
                _ => {}
            }
        }
        f
    }

    fn from_course(c: &CourseRow) -> CourseForm {
        let mut target: Vec<(String, String)> = c
            .target_categories
            .iter()
            .map(|x| ("category".to_owned(), x.clone()))
            .collect();
        target.extend(
            c.target_roles
                .iter()
                .map(|x| ("role".to_owned(), x.clone())),
        );
        CourseForm {
            code: c.code.clone(),
            title: c.title.clone(),
            description: c.description.clone(),
            target,
            recurrence: c.recurrence.clone(),
            onboarding: c.onboarding.then(|| "on".to_owned()),
            due_days: c.due_days.to_string(),
            pass_mark: c.pass_mark.to_string(),
            starts_on: c.starts_on.clone(),
            active: c.active.then(|| "on".to_owned()),
        }
    }
}

/// Checks a course form against the rules and the register.
pub(crate) async fn validate_course(
    ctx: &Ctx,
    form: &CourseForm,
) -> AppResult<Result<CourseInput, FormErrors>> {
    let mut errors = FormErrors::default();
    let number = |s: &str, default: u32| -> Option<u32> {
        let s = fold_fullwidth(s.trim());
        if s.is_empty() {
            Some(default)
        } else {
            s.parse().ok()
        }
    };
    let due_days = number(&form.due_days, 0);
    if due_days.is_none() {
        errors.add(ctx.lang, "due_days", "error-number");
    }
    let pass_mark = number(&form.pass_mark, 80);
    if pass_mark.is_none() {
        errors.add(ctx.lang, "pass_mark", "error-number");
    }
    let recurrence = Recurrence::parse(&form.recurrence);
    if recurrence.is_none() {
        errors.add(ctx.lang, "recurrence", "training-error-recurrence");
    }
    let starts_on = if form.starts_on.trim().is_empty() {
        Some(ctx.today())
    } else {
        match parse_date(&fold_fullwidth(form.starts_on.trim())) {
            Ok(d) => Some(d),
            Err(e) => {
                errors.add(ctx.lang, "starts_on", e.message_id());
                None
            }
        }
    };
    let code = fold_fullwidth(form.code.trim());
    let title = form.title.trim().to_owned();
    let onboarding = form.onboarding.is_some();
    for (field, id) in course_problems(
        &code,
        &title,
        &form.description,
        recurrence.unwrap_or(Recurrence::Once),
        onboarding,
        due_days.unwrap_or(0),
        pass_mark.unwrap_or(0),
    ) {
        errors.add(ctx.lang, field, id);
    }
    let known_categories = ctx.state.store.categories().await?;
    let known_roles = ctx.state.store.roles().await?;
    let categories = form.categories();
    let roles = form.roles();
    if categories
        .iter()
        .any(|c| !known_categories.iter().any(|k| &k.code == c))
    {
        errors.add(ctx.lang, "targets", "error-unknown-category");
    }
    if roles
        .iter()
        .any(|r| !known_roles.iter().any(|k| &k.code == r))
    {
        errors.add(ctx.lang, "targets", "error-unknown-role");
    }
    match (recurrence, due_days, pass_mark, starts_on) {
        (Some(recurrence), Some(due_days), Some(pass_mark), Some(starts_on))
            if errors.is_empty() =>
        {
            Ok(Ok(CourseInput {
                code,
                title,
                description: form.description.clone(),
                target_categories: categories,
                target_roles: roles,
                recurrence,
                onboarding,
                due_days,
                pass_mark,
                starts_on,
                active: form.active.is_some(),
            }))
        }
        _ => Ok(Err(errors)),
    }
}

/// GET `/training/courses/new`.
pub async fn new_form(ctx: Ctx) -> AppResult<Response> {
    require_org(ctx.principal()?)?;
    Ok(ctx.page(&CourseFormPage {
        c: ctx.chrome(),
        l: Labels::load(&ctx).await?,
        course: None,
        v: CourseForm {
            recurrence: "annual".into(),
            pass_mark: "80".into(),
            active: Some("on".into()),
            ..CourseForm::default()
        },
        errors: FormErrors::default(),
    }))
}

/// GET `/training/courses/{course}/edit`.
pub async fn edit_form(ctx: Ctx, Path(code): Path<String>) -> AppResult<Response> {
    require_org(ctx.principal()?)?;
    let course = course_or_404(&ctx, &code).await?;
    Ok(ctx.page(&CourseFormPage {
        c: ctx.chrome(),
        l: Labels::load(&ctx).await?,
        v: CourseForm::from_course(&course),
        course: Some(course),
        errors: FormErrors::default(),
    }))
}

async fn save_course(
    ctx: &Ctx,
    existing: Option<CourseRow>,
    mut form: CourseForm,
) -> AppResult<Response> {
    let p = ctx.principal()?;
    require_org(p)?;
    if let Some(c) = &existing {
        form.code = c.code.clone();
    }
    let errors = match validate_course(ctx, &form).await? {
        Ok(input) => {
            let mut tx = ctx.state.store.begin(p.actor(&ctx.ip)).await?;
            let saved = match &existing {
                Some(c) => Store::update_course(&mut tx, c.id, &input).await,
                None => Store::create_course(&mut tx, &input).await,
            };
            match saved {
                Ok(row) => {
                    ctx.state.commit(tx).await?;
                    return Ok(ctx.redirect_flash(
                        &format!("/training/courses/{}", row.code),
                        "flash-saved",
                    ));
                }
                Err(StoreError::Duplicate(_)) => {
                    FormErrors::one(ctx.lang, "code", "training-error-code-taken")
                }
                Err(e) => return Err(e.into()),
            }
        }
        Err(e) => e,
    };
    let page = CourseFormPage {
        c: ctx.chrome(),
        l: Labels::load(ctx).await?,
        course: existing,
        v: form,
        errors,
    };
    Ok(ctx.page_with_status(StatusCode::UNPROCESSABLE_ENTITY, &page))
}

/// POST `/training/courses`.
pub async fn create(
    ctx: Ctx,
    axum::extract::RawForm(body): axum::extract::RawForm,
) -> AppResult<Response> {
    let pairs: Vec<(String, String)> = serde_urlencoded::from_bytes(&body)
        .map_err(|_| AppError::BadRequest("error-bad-request"))?;
    save_course(&ctx, None, CourseForm::from_pairs(pairs)).await
}

/// POST `/training/courses/{course}`.
pub async fn update(
    ctx: Ctx,
    Path(code): Path<String>,
    axum::extract::RawForm(body): axum::extract::RawForm,
) -> AppResult<Response> {
    require_org(ctx.principal()?)?;
    let course = course_or_404(&ctx, &code).await?;
    let pairs: Vec<(String, String)> = serde_urlencoded::from_bytes(&body)
        .map_err(|_| AppError::BadRequest("error-bad-request"))?;
    save_course(&ctx, Some(course), CourseForm::from_pairs(pairs)).await
}

// ---- quiz questions ----

/// A question form: choices one per line, the correct one by number (1 = first).
#[derive(Debug, Deserialize)]
pub struct QuestionForm {
    #[serde(default)]
    text: String,
    #[serde(default)]
    choices: String,
    #[serde(default)]
    correct: String,
}

/// POST `/training/courses/{course}/questions`.
pub async fn add_question(
    ctx: Ctx,
    Path(code): Path<String>,
    axum::Form(form): axum::Form<QuestionForm>,
) -> AppResult<Response> {
    let p = ctx.principal()?;
    require_org(p)?;
    let course = course_or_404(&ctx, &code).await?;
    let choices: Vec<String> = form
        .choices
        .lines()
        .map(str::trim)
        .filter(|l| !l.is_empty())
        .map(str::to_owned)
        .collect();
    let correct = fold_fullwidth(form.correct.trim())
        .parse::<usize>()
        .ok()
        .and_then(|n| n.checked_sub(1))
        .unwrap_or(usize::MAX);
    let q = Question {
        text: form.text.trim().to_owned(),
        choices,
        correct,
    };
    let problems = q.problems();
    if !problems.is_empty() {
        let mut errors = FormErrors::default();
        for (field, id) in problems {
            errors.add(ctx.lang, &format!("question_{field}"), id);
        }
        let page = course_page(&ctx, course, errors).await?;
        return Ok(ctx.page_with_status(StatusCode::UNPROCESSABLE_ENTITY, &page));
    }
    let mut tx = ctx.state.store.begin(p.actor(&ctx.ip)).await?;
    Store::add_question(&mut tx, course.id, &q).await?;
    ctx.state.commit(tx).await?;
    Ok(ctx.redirect_flash(&format!("/training/courses/{code}#quiz"), "flash-saved"))
}

/// POST `/training/courses/{course}/questions/{question}/delete`.
pub async fn delete_question(
    ctx: Ctx,
    Path((code, question)): Path<(String, i64)>,
) -> AppResult<Response> {
    let p = ctx.principal()?;
    require_org(p)?;
    let course = course_or_404(&ctx, &code).await?;
    let mut tx = ctx.state.store.begin(p.actor(&ctx.ip)).await?;
    match Store::delete_question(&mut tx, course.id, question).await {
        Err(StoreError::Missing(_)) => return Err(AppError::NotFound),
        other => other?,
    }
    ctx.state.commit(tx).await?;
    Ok(ctx.redirect_flash(&format!("/training/courses/{code}#quiz"), "flash-saved"))
}

// ---- materials ----

fn clean_filename(name: &str) -> String {
    let base = name.rsplit(['/', '\\']).next().unwrap_or(name);
    let cleaned: String = base.chars().filter(|c| !c.is_control()).take(200).collect();
    if cleaned.trim().is_empty() {
        "file".to_owned()
    } else {
        cleaned
    }
}

/// POST `/training/courses/{course}/materials` (multipart `file`): a course material. Too
/// large a file, or one that is not a document of an accepted kind (executables, archives,
/// content that does not match its name), is refused with a message next to the field.
pub async fn upload_material(
    ctx: Ctx,
    Path(code): Path<String>,
    mut multipart: Multipart,
) -> AppResult<Response> {
    let p = ctx.principal()?;
    require_org(p)?;
    let course = course_or_404(&ctx, &code).await?;
    let max = ctx.state.config.max_upload_bytes;
    let mut tx = ctx.state.store.begin(p.actor(&ctx.ip)).await?;
    let mut refusal: Option<&'static str> = None;
    let mut stored = None;
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
        let mut head: Vec<u8> = Vec::new();
        let mut checked = false;
        while let Some(chunk) = field.chunk().await.map_err(crate::error::multipart_error)? {
            if !checked {
                head.extend_from_slice(&chunk[..chunk.len().min(512 - head.len().min(512))]);
                if head.len() >= 512 {
                    checked = true;
                    if let Some(id) = material_problem(&filename, &head) {
                        refusal = Some(id);
                        break;
                    }
                }
            }
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
        if !checked && !head.is_empty() {
            refusal = material_problem(&filename, &head);
        }
        let (sha, size) = writer.finish(&mut tx).await?;
        if size > 0 && refusal.is_none() {
            stored = Some((sha, size, filename, content_type));
        }
    }
    let refusal = refusal.or(stored.is_none().then_some("error-file-empty"));
    if let Some(id) = refusal {
        drop(tx);
        let mut errors = FormErrors::default();
        errors.add(ctx.lang, "file", id);
        let page = course_page(&ctx, course, errors).await?;
        let status = if id == "error-file-too-large" {
            StatusCode::PAYLOAD_TOO_LARGE
        } else {
            StatusCode::UNPROCESSABLE_ENTITY
        };
        return Ok(ctx.page_with_status(status, &page));
    }
    if let Some((sha, size, filename, content_type)) = stored {
        Store::add_material(&mut tx, course.id, &sha, size, &filename, &content_type).await?;
    }
    ctx.state.commit(tx).await?;
    Ok(ctx.redirect_flash(
        &format!("/training/courses/{code}#materials"),
        "flash-saved",
    ))
}

/// GET `/training/courses/{course}/materials/{material}`: always a download.
pub async fn download_material(
    ctx: Ctx,
    Path((code, material)): Path<(String, i64)>,
) -> AppResult<Response> {
    let course = course_or_404(&ctx, &code).await?;
    let m = ctx
        .state
        .store
        .course_materials(course.id)
        .await?
        .into_iter()
        .find(|m| m.id == material)
        .ok_or(AppError::NotFound)?;
    Ok(crate::pages::assets::stored_file(
        &ctx.state.store,
        &m.sha256,
        &m.filename,
        m.size,
    ))
}

// ---- sessions ----

/// A session form.
#[derive(Debug, Deserialize)]
pub struct SessionForm {
    #[serde(default)]
    held_on: String,
    #[serde(default)]
    place: String,
    #[serde(default)]
    notes: String,
    #[serde(default)]
    unit: String,
}

/// POST `/training/courses/{course}/sessions`: a session, run for a unit (needs
/// `training.manage` there) or for the whole organisation (needs it organisation-wide).
pub async fn create_session(
    ctx: Ctx,
    Path(code): Path<String>,
    axum::Form(form): axum::Form<SessionForm>,
) -> AppResult<Response> {
    let p = ctx.principal()?;
    let course = course_or_404(&ctx, &code).await?;
    let unit = if form.unit.trim().is_empty() {
        require_org(p)?;
        None
    } else {
        let u = ctx
            .state
            .store
            .unit_by_code(form.unit.trim())
            .await?
            .ok_or(AppError::BadRequest("error-unknown-unit"))?;
        require_on_unit(&ctx, u.id).await?;
        Some(u.id)
    };
    let mut errors = FormErrors::default();
    let held_on = match parse_date(&fold_fullwidth(form.held_on.trim())) {
        Ok(d) => Some(d),
        Err(e) => {
            errors.add(ctx.lang, "held_on", e.message_id());
            None
        }
    };
    if form.place.chars().count() > 200 || form.notes.chars().count() > 4000 {
        errors.add(ctx.lang, "place", "error-too-long");
    }
    let Some(held_on) = held_on.filter(|_| errors.is_empty()) else {
        let page = course_page(&ctx, course, errors).await?;
        return Ok(ctx.page_with_status(StatusCode::UNPROCESSABLE_ENTITY, &page));
    };
    let mut tx = ctx.state.store.begin(p.actor(&ctx.ip)).await?;
    Store::create_training_session(
        &mut tx,
        course.id,
        &TrainingSessionInput {
            held_on,
            place: form.place.trim().to_owned(),
            notes: form.notes.trim().to_owned(),
            unit_id: unit,
        },
    )
    .await?;
    ctx.state.commit(tx).await?;
    Ok(ctx.redirect_flash(&format!("/training/courses/{code}#sessions"), "flash-saved"))
}

/// The attendance form: staff ids separated by lines, spaces or commas.
#[derive(Debug, Deserialize)]
pub struct AttendeesForm {
    #[serde(default)]
    staff_ids: String,
}

/// POST `/training/sessions/{session}/attendees`: attendance, which records completion on the
/// session's date. Needs `training.manage` on the session's unit (if any) and on every
/// attendee's unit; an unknown staff id refuses the whole list.
pub async fn record_attendees(
    ctx: Ctx,
    Path(session): Path<i64>,
    axum::Form(form): axum::Form<AttendeesForm>,
) -> AppResult<Response> {
    let p = ctx.principal()?;
    require_any_manage(p)?;
    let session = ctx
        .state
        .store
        .training_session(session)
        .await?
        .ok_or(AppError::NotFound)?;
    if let Some(u) = session.unit_id {
        require_on_unit(&ctx, u).await?;
    }
    let course = ctx
        .state
        .store
        .courses()
        .await?
        .into_iter()
        .find(|c| c.id == session.course_id)
        .ok_or(AppError::NotFound)?;
    let mut people = Vec::new();
    let mut unknown = Vec::new();
    for id in fold_fullwidth(&form.staff_ids)
        .split(|c: char| c.is_whitespace() || c == ',' || c == '、')
        .filter(|s| !s.is_empty())
    {
        match ctx.state.store.person_by_staff_id(id).await? {
            Some(person) => {
                require_on_unit(&ctx, person.unit_id).await?;
                people.push(person.id);
            }
            None => unknown.push(id.to_owned()),
        }
    }
    if !unknown.is_empty() || people.is_empty() {
        let mut errors = FormErrors::default();
        if unknown.is_empty() {
            errors.add(ctx.lang, "staff_ids", "error-required-text");
        } else {
            errors.add_text(
                "staff_ids",
                format!(
                    "{} ({})",
                    tr(ctx.lang, "training-error-unknown-person"),
                    unknown.join(", ")
                ),
            );
        }
        let page = course_page(&ctx, course, errors).await?;
        return Ok(ctx.page_with_status(StatusCode::UNPROCESSABLE_ENTITY, &page));
    }
    let mut tx = ctx.state.store.begin(p.actor(&ctx.ip)).await?;
    let added = Store::record_attendance(&mut tx, &session, &people).await?;
    if added == 0 {
        return Ok(ctx.redirect_flash(
            &format!("/training/courses/{}#sessions", course.code),
            "flash-training-unchanged",
        ));
    }
    ctx.state.commit(tx).await?;
    Ok(ctx.redirect_flash(
        &format!("/training/courses/{}#sessions", course.code),
        "flash-saved",
    ))
}

fn require_any_manage(p: &Principal) -> AppResult<()> {
    p.require(Permission::TrainingManage, &Target::Anywhere)
}

// ---- manager entry ----

#[derive(Template)]
#[template(path = "training_record_form.html")]
struct RecordFormPage {
    c: Chrome,
    courses: Vec<CourseRow>,
    v: RecordForm,
    errors: FormErrors,
}

/// The completion form.
#[derive(Debug, Clone, Default, Deserialize)]
pub struct RecordForm {
    #[serde(default)]
    pub(crate) staff_id: String,
    #[serde(default)]
    pub(crate) course: String,
    #[serde(default)]
    pub(crate) completed_on: String,
    #[serde(default)]
    pub(crate) score: String,
}

/// GET `/training/records/new`.
pub async fn record_form(ctx: Ctx, Query(v): Query<RecordForm>) -> AppResult<Response> {
    require_any_manage(ctx.principal()?)?;
    Ok(ctx.page(&RecordFormPage {
        c: ctx.chrome(),
        courses: ctx.state.store.courses().await?,
        v,
        errors: FormErrors::default(),
    }))
}

/// Checks a completion form: the person must exist and be in a unit where the caller holds
/// `training.manage` (otherwise 403, audited); the course must exist; the date may not be in
/// the future.
pub(crate) async fn validate_record(
    ctx: &Ctx,
    form: &RecordForm,
    source: Source,
) -> AppResult<Result<CompletionInput, FormErrors>> {
    let mut errors = FormErrors::default();
    let person = ctx
        .state
        .store
        .person_by_staff_id(&fold_fullwidth(form.staff_id.trim()))
        .await?;
    match &person {
        Some(person) => require_on_unit(ctx, person.unit_id).await?,
        None => errors.add(ctx.lang, "staff_id", "training-error-unknown-person"),
    }
    let course = ctx
        .state
        .store
        .course_by_code(&fold_fullwidth(form.course.trim()))
        .await?;
    if course.is_none() {
        errors.add(ctx.lang, "course", "training-error-unknown-course");
    }
    let completed_on = match parse_date(&fold_fullwidth(form.completed_on.trim())) {
        Ok(d) if d > ctx.today() => {
            errors.add(ctx.lang, "completed_on", "training-error-future");
            None
        }
        Ok(d) => Some(d),
        Err(e) => {
            errors.add(ctx.lang, "completed_on", e.message_id());
            None
        }
    };
    let score = match fold_fullwidth(form.score.trim()).as_str() {
        "" => None,
        s => match s.parse::<u32>() {
            Ok(n) if n <= 100 => Some(n),
            _ => {
                errors.add(ctx.lang, "score", "error-number");
                None
            }
        },
    };
    match (person, course, completed_on) {
        (Some(person), Some(course), Some(completed_on)) if errors.is_empty() => {
            Ok(Ok(CompletionInput {
                person: person.id,
                course_id: course.id,
                completed_on,
                source,
                score,
                session_id: None,
            }))
        }
        _ => Ok(Err(errors)),
    }
}

/// POST `/training/records`: a manager records a completion for a person of their unit.
pub async fn record(ctx: Ctx, axum::Form(form): axum::Form<RecordForm>) -> AppResult<Response> {
    let p = ctx.principal()?;
    require_any_manage(p)?;
    match validate_record(&ctx, &form, Source::Manager).await? {
        Ok(input) => {
            let mut tx = ctx.state.store.begin(p.actor(&ctx.ip)).await?;
            let (_, changed) = Store::record_completion(&mut tx, &input).await?;
            let next = format!(
                "/training/records/new?{}",
                query_string(&[("course", &form.course)])
            );
            if !changed {
                return Ok(ctx.redirect_flash(&next, "flash-training-unchanged"));
            }
            ctx.state.commit(tx).await?;
            Ok(ctx.redirect_flash(&next, "flash-training-recorded"))
        }
        Err(errors) => {
            let page = RecordFormPage {
                c: ctx.chrome(),
                courses: ctx.state.store.courses().await?,
                v: form,
                errors,
            };
            Ok(ctx.page_with_status(StatusCode::UNPROCESSABLE_ENTITY, &page))
        }
    }
}

// ---- quiz ----

#[derive(Template)]
#[template(path = "training_quiz.html")]
struct QuizPage {
    c: Chrome,
    course: CourseRow,
    questions: Vec<QuestionRow>,
    /// Why the quiz cannot be taken (message), if so.
    refusal: Option<String>,
    /// After an attempt: score and whether it passed.
    result: Option<(u32, bool)>,
}

/// Why a person may not take a course's quiz (message id), if so.
async fn quiz_refusal(
    ctx: &Ctx,
    course: &CourseRow,
    questions: &[QuestionRow],
) -> AppResult<Option<&'static str>> {
    let p = ctx.principal()?;
    let Some(person) = p.user.person_id else {
        return Ok(Some("training-no-person"));
    };
    if questions.is_empty() {
        return Ok(Some("training-no-quiz"));
    }
    let mine = ctx.state.store.my_training(person, ctx.today()).await?;
    Ok(
        match mine
            .iter()
            .find(|m| m.course.id == course.id)
            .map(|m| m.status)
        {
            None | Some(Status::NotAssigned) => Some("training-quiz-not-assigned"),
            Some(_) => None,
        },
    )
}

/// GET `/training/courses/{course}/quiz`.
pub async fn quiz(ctx: Ctx, Path(code): Path<String>) -> AppResult<Response> {
    let course = course_or_404(&ctx, &code).await?;
    let questions = ctx.state.store.course_questions(course.id).await?;
    let refusal = quiz_refusal(&ctx, &course, &questions).await?;
    let status = if refusal.is_some() {
        StatusCode::UNPROCESSABLE_ENTITY
    } else {
        StatusCode::OK
    };
    let page = QuizPage {
        c: ctx.chrome(),
        refusal: refusal.map(|id| tr(ctx.lang, id)),
        questions: if refusal.is_some() {
            Vec::new()
        } else {
            questions
        },
        course,
        result: None,
    };
    Ok(ctx.page_with_status(status, &page))
}

/// POST `/training/courses/{course}/quiz` (fields `q{question id}` = chosen index): scores
/// the answers; a pass records the completion (source `quiz`, with the score) unless the
/// course is already done. Every attempt is audited. A course not assigned to the person is
/// refused with a message (422), and nothing is recorded.
pub async fn answer_quiz(
    ctx: Ctx,
    Path(code): Path<String>,
    axum::Form(answers): axum::Form<Vec<(String, String)>>,
) -> AppResult<Response> {
    let p = ctx.principal()?;
    let course = course_or_404(&ctx, &code).await?;
    let questions = ctx.state.store.course_questions(course.id).await?;
    if let Some(id) = quiz_refusal(&ctx, &course, &questions).await? {
        let page = QuizPage {
            c: ctx.chrome(),
            refusal: Some(tr(ctx.lang, id)),
            questions: Vec::new(),
            course,
            result: None,
        };
        return Ok(ctx.page_with_status(StatusCode::UNPROCESSABLE_ENTITY, &page));
    }
    let chosen: Vec<Option<usize>> = questions
        .iter()
        .map(|q| {
            let key = format!("q{}", q.id);
            answers
                .iter()
                .find(|(k, _)| *k == key)
                .and_then(|(_, v)| v.parse().ok())
        })
        .collect();
    let qs: Vec<Question> = questions.iter().map(|q| q.question.clone()).collect();
    let score = score(&qs, &chosen);
    let pass_mark = u32::try_from(course.pass_mark).unwrap_or(100);
    let ok = passed(&qs, score, pass_mark);
    let person = p.user.person_id.ok_or(AppError::Forbidden)?;
    let mut tx = ctx.state.store.begin(p.actor(&ctx.ip)).await?;
    tx.audit(
        "training.quiz",
        "training_course",
        &course.code,
        None,
        Some(serde_json::json!({"person_id": person.0, "score": score, "passed": ok})),
    )
    .await?;
    if ok {
        let status = ctx
            .state
            .store
            .my_training(person, ctx.today())
            .await?
            .into_iter()
            .find(|m| m.course.id == course.id)
            .map(|m| m.status);
        if status != Some(Status::Done) {
            Store::record_completion(
                &mut tx,
                &CompletionInput {
                    person,
                    course_id: course.id,
                    completed_on: ctx.today(),
                    source: Source::Quiz,
                    score: Some(score),
                    session_id: None,
                },
            )
            .await?;
        }
    }
    ctx.state.commit(tx).await?;
    let page = QuizPage {
        c: ctx.chrome(),
        refusal: None,
        questions: if ok { Vec::new() } else { questions },
        course,
        result: Some((score, ok)),
    };
    Ok(ctx.page(&page))
}

// ---- report ----

#[derive(Template)]
#[template(path = "training_report.html")]
struct ReportPage {
    c: Chrome,
    l: Labels,
    q: ReportQuery,
    fy: i64,
    years: Vec<i64>,
    courses: Vec<CourseRow>,
    report: TrainingReport,
    history: Vec<(i64, mamori_store::Tally)>,
    rows: Vec<PendingRow>,
    pager: Pager,
    can_record: bool,
}

impl ReportPage {
    fn sections(&self) -> Vec<(&'static str, &Vec<mamori_store::Tally>)> {
        vec![
            ("training-by-unit", &self.report.by_unit),
            ("training-by-category", &self.report.by_category),
            ("training-by-course", &self.report.by_course),
        ]
    }

    fn csv_link(&self) -> String {
        format!(
            "/training/records.csv?{}",
            query_string(&[
                ("fy", &self.fy.to_string()),
                ("course", &self.q.course),
                ("unit", &self.q.unit),
            ])
        )
    }
}

/// Report filters.
#[derive(Debug, Clone, Default, Deserialize)]
pub struct ReportQuery {
    #[serde(default)]
    fy: String,
    #[serde(default)]
    course: String,
    #[serde(default)]
    unit: String,
    /// `pending` (default) or `overdue`.
    #[serde(default)]
    list: String,
    page: Option<i64>,
}

async fn report_filter(ctx: &Ctx, q: &ReportQuery) -> AppResult<(TrainingFilter, i32)> {
    let p = ctx.principal()?;
    let fy = mamori_domain::training::parse_fiscal_year(&q.fy)
        .unwrap_or_else(|| fiscal_year(ctx.today()));
    let unit = match q.unit.trim() {
        "" => None,
        code => Some(
            ctx.state
                .store
                .unit_by_code(code)
                .await?
                .ok_or(AppError::BadRequest("error-unknown-unit"))?
                .id,
        ),
    };
    Ok((
        TrainingFilter {
            unit_roots: reader_roots(p),
            unit,
            course: Some(q.course.trim().to_owned()).filter(|c| !c.is_empty()),
            ..TrainingFilter::default()
        },
        fy,
    ))
}

/// GET `/training/report`: completion by unit, category and course for a 年度 (with the two
/// before it), then the not-yet-done or overdue list.
pub async fn report(ctx: Ctx, Query(q): Query<ReportQuery>) -> AppResult<Response> {
    let p = ctx.principal()?;
    let (filter, fy) = report_filter(&ctx, &q).await?;
    let today = ctx.today();
    let store = &ctx.state.store;
    let report = store.training_report(&filter, fy, today).await?;
    let mut history = Vec::new();
    for y in (fy - 2)..fy {
        history.push((
            i64::from(y),
            store.training_report(&filter, y, today).await?.total,
        ));
    }
    history.push((i64::from(fy), report.total.clone()));
    let overdue = q.list == "overdue";
    let mut pager = Pager::new(
        q.page,
        PER_PAGE,
        query_string(&[
            ("fy", &fy.to_string()),
            ("course", &q.course),
            ("unit", &q.unit),
            ("list", &q.list),
        ]),
    );
    let (rows, total) = store
        .training_pending_page(&filter, fy, today, overdue, pager.per_page, pager.offset())
        .await?;
    pager.total = total;
    let current = fiscal_year(today);
    Ok(ctx.page(&ReportPage {
        c: ctx.chrome(),
        l: Labels::load(&ctx).await?,
        fy: i64::from(fy),
        years: ((current - 4)..=current).rev().map(i64::from).collect(),
        courses: store.courses().await?,
        report,
        history,
        rows,
        pager,
        can_record: p.can(Permission::TrainingManage, &Target::Anywhere),
        q,
    }))
}

/// GET `/training/records.csv`: the completion records the reader may see for the report's
/// filters, in the file format imports read.
pub async fn export_csv(ctx: Ctx, Query(q): Query<ReportQuery>) -> AppResult<Response> {
    let (mut filter, fy) = report_filter(&ctx, &q).await?;
    filter.fiscal_year = Some(fy);
    let mut records = Vec::new();
    ctx.state
        .store
        .training_records_for_each(&filter, |r: RecordRow| {
            records.push(r.to_record()?);
            Ok(())
        })
        .await?;
    let body = mamori_domain::interchange::kind::write_csv::<
        mamori_domain::interchange::training_records::TrainingRecords,
    >(&records, true)
    .map_err(AppError::Internal)?;
    Ok(crate::view::csv_download("training-records.csv", body))
}
