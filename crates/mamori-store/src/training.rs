//! Training (clause 6(5)): courses, their materials, quiz questions and sessions, and
//! completion records. Who must take what is never stored: it is computed from each course's
//! rules ([`mamori_domain::training`]) over the people register, so that new joiners are
//! assigned at once.
//!
//! Decision: reports and the not-yet-done / overdue lists are computed from the people in the
//! reader's scope (one query for people, one for their roles, one for completions) and paged
//! in memory; the rules stay in the domain instead of being copied into SQL. At 5,000 people
//! and a dozen courses that is tens of thousands of evaluations — milliseconds. The list of
//! completion records, which are rows, uses the shared list shape (SQL filters and paging).

use crate::list::{Filter, ListQuery};
use crate::{format_ts, on_unique, Result, Store, StoreError, WriteTx};
use mamori_domain::interchange::table::Problem;
use mamori_domain::interchange::training_records::TrainingRecord;
use mamori_domain::training::{
    due_date, in_post_during, is_assigned, standing, CourseRules, CourseSeed, Question, Recurrence,
    Source, Status, Trainee, SEED_COURSES,
};
use mamori_domain::wareki::fiscal_year;
use mamori_domain::{PersonId, UnitId};
use serde::Serialize;
use sqlx::any::AnyRow;
use sqlx::Row;
use std::collections::{BTreeMap, HashMap, HashSet};
use time::{Date, OffsetDateTime};
use utoipa::ToSchema;

/// A course.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, ToSchema)]
pub struct CourseRow {
    /// Internal id.
    pub id: i64,
    /// Stable code.
    pub code: String,
    /// Title.
    pub title: String,
    /// Description.
    pub description: String,
    /// Target employment category codes.
    pub target_categories: Vec<String>,
    /// Target role codes (no targets at all: everyone).
    pub target_roles: Vec<String>,
    /// `annual` (per 年度) or `once`.
    pub recurrence: String,
    /// For new staff: due `due_days` after joining, for those who joined on or after `starts_on`.
    pub onboarding: bool,
    /// Days allowed.
    pub due_days: i64,
    /// Quiz pass mark (percent).
    pub pass_mark: i64,
    /// Start of the course (YYYY-MM-DD).
    pub starts_on: String,
    /// Assigned at all.
    pub active: bool,
    /// Quiz questions.
    pub questions: i64,
}

impl CourseRow {
    /// The recurrence.
    pub fn recurrence(&self) -> Recurrence {
        Recurrence::parse(&self.recurrence).unwrap_or(Recurrence::Annual)
    }

    /// The rules assignment depends on.
    pub fn rules(&self) -> CourseRules {
        CourseRules {
            target_categories: self.target_categories.clone(),
            target_roles: self.target_roles.clone(),
            recurrence: self.recurrence(),
            onboarding: self.onboarding,
            due_days: u32::try_from(self.due_days).unwrap_or(0),
            starts_on: mamori_domain::wareki::parse_date(&self.starts_on)
                .unwrap_or(time::Date::MIN),
            active: self.active,
        }
    }
}

/// What a course form, API call or seed supplies.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct CourseInput {
    /// Code.
    pub code: String,
    /// Title.
    pub title: String,
    /// Description.
    pub description: String,
    /// Target categories.
    pub target_categories: Vec<String>,
    /// Target roles.
    pub target_roles: Vec<String>,
    /// Recurrence.
    pub recurrence: Recurrence,
    /// Onboarding.
    pub onboarding: bool,
    /// Days allowed.
    pub due_days: u32,
    /// Pass mark.
    pub pass_mark: u32,
    /// Start.
    pub starts_on: Date,
    /// Active.
    pub active: bool,
}

impl CourseInput {
    /// A seeded course starting on `starts_on`.
    pub fn from_seed(s: &CourseSeed, starts_on: Date) -> Self {
        CourseInput {
            code: s.code.into(),
            title: s.title.into(),
            description: s.description.into(),
            target_categories: s.categories.iter().map(|c| c.to_string()).collect(),
            target_roles: s.roles.iter().map(|c| c.to_string()).collect(),
            recurrence: s.recurrence,
            onboarding: s.onboarding,
            due_days: s.due_days,
            pass_mark: 80,
            starts_on,
            active: true,
        }
    }
}

/// A quiz question.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct QuestionRow {
    /// Internal id.
    pub id: i64,
    /// Order.
    pub position: i64,
    /// The question.
    pub question: Question,
}

/// A course material.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, ToSchema, sqlx::FromRow)]
pub struct MaterialRow {
    /// Internal id.
    pub id: i64,
    /// The course.
    pub course_id: i64,
    /// SHA-256 (hex).
    pub sha256: String,
    /// Name as uploaded.
    pub filename: String,
    /// Declared type.
    pub content_type: String,
    /// Bytes.
    pub size: i64,
    /// Who uploaded it.
    pub uploaded_by: String,
    /// When (RFC 3339).
    pub uploaded_at: String,
}

/// A session (研修会).
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct TrainingSessionRow {
    /// Internal id.
    pub id: i64,
    /// The course.
    pub course_id: i64,
    /// Date (YYYY-MM-DD).
    pub held_on: String,
    /// Place.
    pub place: String,
    /// Notes.
    pub notes: String,
    /// The unit it was run for, if any.
    pub unit_id: Option<UnitId>,
    /// That unit's code.
    pub unit_code: Option<String>,
    /// Attendees recorded.
    pub attendees: i64,
}

/// What a session form supplies.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct TrainingSessionInput {
    /// Date.
    pub held_on: Date,
    /// Place.
    pub place: String,
    /// Notes.
    pub notes: String,
    /// The unit it is run for.
    pub unit_id: Option<UnitId>,
}

/// A completion record as lists and the API show it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, ToSchema)]
pub struct RecordRow {
    /// Internal id.
    pub id: i64,
    /// 職員番号.
    pub staff_id: String,
    /// 氏名.
    pub name: String,
    /// The person's unit code.
    pub unit: String,
    /// The person's unit name.
    pub unit_name: String,
    /// Course code.
    pub course: String,
    /// Course title.
    pub course_title: String,
    /// 年度 (the year it starts in).
    pub fiscal_year: i64,
    /// 修了日 (YYYY-MM-DD).
    pub completed_on: String,
    /// `manager`, `import`, `session` or `quiz`.
    pub source: String,
    /// 得点 (percent).
    pub score: Option<i64>,
    /// Who recorded it.
    pub recorded_by: String,
    /// When (RFC 3339).
    pub recorded_at: String,
}

impl RecordRow {
    /// The record as files hold it.
    pub fn to_record(&self) -> Result<TrainingRecord> {
        let d = mamori_domain::wareki::parse_date(&self.completed_on)
            .map_err(|_| StoreError::Corrupt(format!("training record {}", self.id)))?;
        Ok(TrainingRecord::new(
            self.staff_id.clone(),
            self.course.clone(),
            d,
            Source::parse(&self.source).unwrap_or(Source::Import),
            self.score.and_then(|s| u32::try_from(s).ok()),
        ))
    }
}

/// Filters for completion records and reports.
#[derive(Debug, Clone, Default)]
pub struct TrainingFilter {
    /// Restrict to people in these units and beneath them (`None`: everywhere).
    pub unit_roots: Option<Vec<UnitId>>,
    /// One unit and the units beneath it.
    pub unit: Option<UnitId>,
    /// Course code.
    pub course: Option<String>,
    /// 年度.
    pub fiscal_year: Option<i32>,
    /// 職員番号.
    pub staff_id: Option<String>,
    /// Employment category code (reports).
    pub category: Option<String>,
}

/// A completion to record.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct CompletionInput {
    /// The person.
    pub person: PersonId,
    /// The course id.
    pub course_id: i64,
    /// 修了日.
    pub completed_on: Date,
    /// How.
    pub source: Source,
    /// 得点.
    pub score: Option<u32>,
    /// The session, for attendance.
    pub session_id: Option<i64>,
}

/// A person as training sees them.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct TraineeRow {
    /// Id.
    pub id: PersonId,
    /// 職員番号.
    pub staff_id: String,
    /// 氏名.
    pub name: String,
    /// Unit.
    pub unit_id: UnitId,
    /// Unit code.
    pub unit_code: String,
    /// Unit name.
    pub unit_name: String,
    /// What assignment depends on.
    pub trainee: Trainee,
}

/// Done / assigned for one group.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize)]
pub struct Tally {
    /// Group key (unit code, category code, course code, 年度).
    pub key: String,
    /// Group name (unit name, course title; the key otherwise).
    pub label: String,
    /// Requirements (person × course) in the group.
    pub assigned: i64,
    /// Completed.
    pub done: i64,
    /// Overdue.
    pub overdue: i64,
}

impl Tally {
    /// Completion rate in whole percent (100 when nothing is assigned).
    pub fn rate(&self) -> i64 {
        if self.assigned == 0 {
            100
        } else {
            self.done * 100 / self.assigned
        }
    }
}

/// Completion figures for one 年度.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize)]
pub struct TrainingReport {
    /// 年度.
    pub fiscal_year: i32,
    /// Everything.
    pub total: Tally,
    /// By the person's unit.
    pub by_unit: Vec<Tally>,
    /// By employment category.
    pub by_category: Vec<Tally>,
    /// By course.
    pub by_course: Vec<Tally>,
}

/// A requirement not yet met.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct PendingRow {
    /// 職員番号.
    pub staff_id: String,
    /// 氏名.
    pub name: String,
    /// Unit code.
    pub unit: String,
    /// Unit name.
    pub unit_name: String,
    /// Course code.
    pub course: String,
    /// Course title.
    pub course_title: String,
    /// Due date (YYYY-MM-DD).
    pub due_on: String,
    /// `due` or `overdue`.
    pub status: Status,
}

/// One course on a person's own page.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct MyCourse {
    /// The course.
    pub course: CourseRow,
    /// Due date, when assigned.
    pub due_on: Option<Date>,
    /// Where they stand.
    pub status: Status,
    /// When completed (this 年度 for annual courses).
    pub completed_on: Option<String>,
}

const COURSE_SELECT: &str =
    "SELECT c.id, c.code, c.title, c.description, c.target_categories, c.target_roles, \
    c.recurrence, c.onboarding, c.due_days, c.pass_mark, c.starts_on, c.active, \
    (SELECT COUNT(*) FROM training_questions q WHERE q.course_id = c.id) AS questions \
    FROM training_courses c";

fn words(s: String) -> Vec<String> {
    s.split_whitespace().map(str::to_owned).collect()
}

fn course_from_row(r: &AnyRow) -> Result<CourseRow> {
    Ok(CourseRow {
        id: r.try_get("id")?,
        code: r.try_get("code")?,
        title: r.try_get("title")?,
        description: r.try_get("description")?,
        target_categories: words(r.try_get("target_categories")?),
        target_roles: words(r.try_get("target_roles")?),
        recurrence: r.try_get("recurrence")?,
        onboarding: r.try_get::<i64, _>("onboarding")? != 0,
        due_days: r.try_get("due_days")?,
        pass_mark: r.try_get("pass_mark")?,
        starts_on: r.try_get("starts_on")?,
        active: r.try_get::<i64, _>("active")? != 0,
        questions: r.try_get("questions")?,
    })
}

const RECORD_COLUMNS: &str = "r.id, p.staff_id, p.name, u.code AS unit_code, u.name AS unit_name, \
    c.code AS course_code, c.title AS course_title, r.fiscal_year, r.completed_on, r.source, r.score, \
    r.recorded_by, r.recorded_at";
const RECORD_FROM: &str = "FROM training_records r JOIN people p ON p.id = r.person_id \
    JOIN units u ON u.id = p.unit_id JOIN training_courses c ON c.id = r.course_id";

fn record_from_row(r: &AnyRow) -> Result<RecordRow> {
    Ok(RecordRow {
        id: r.try_get("id")?,
        staff_id: r.try_get("staff_id")?,
        name: r.try_get("name")?,
        unit: r.try_get("unit_code")?,
        unit_name: r.try_get("unit_name")?,
        course: r.try_get("course_code")?,
        course_title: r.try_get("course_title")?,
        fiscal_year: r.try_get("fiscal_year")?,
        completed_on: r.try_get("completed_on")?,
        source: r.try_get("source")?,
        score: r.try_get("score")?,
        recorded_by: r.try_get("recorded_by")?,
        recorded_at: r.try_get("recorded_at")?,
    })
}

fn audit_value<T: Serialize>(v: &T) -> Option<serde_json::Value> {
    serde_json::to_value(v).ok()
}

impl Store {
    /// Every course (inactive ones too), seeded ones first.
    pub async fn courses(&self) -> Result<Vec<CourseRow>> {
        let rows = sqlx::query(&format!("{COURSE_SELECT} ORDER BY c.sort_order, c.code"))
            .fetch_all(&self.pool)
            .await?;
        rows.iter().map(course_from_row).collect()
    }

    /// One course by code.
    pub async fn course_by_code(&self, code: &str) -> Result<Option<CourseRow>> {
        let row = sqlx::query(&format!("{COURSE_SELECT} WHERE c.code = $1"))
            .bind(code)
            .fetch_optional(&self.pool)
            .await?;
        row.as_ref().map(course_from_row).transpose()
    }

    async fn course_in_tx(tx: &mut WriteTx, id: i64) -> Result<CourseRow> {
        let row = sqlx::query(&format!("{COURSE_SELECT} WHERE c.id = $1"))
            .bind(id)
            .fetch_optional(tx.conn())
            .await?
            .ok_or(StoreError::Missing("course"))?;
        course_from_row(&row)
    }

    /// Creates a course (code unique: `Duplicate("code")`).
    pub async fn create_course(tx: &mut WriteTx, input: &CourseInput) -> Result<CourseRow> {
        let now = format_ts(OffsetDateTime::now_utc());
        let order: i64 =
            sqlx::query_scalar("SELECT COALESCE(MAX(sort_order), 0) + 1 FROM training_courses")
                .fetch_one(tx.conn())
                .await?;
        let id: i64 = sqlx::query_scalar(
            "INSERT INTO training_courses (code, title, description, target_categories, target_roles, recurrence, \
             onboarding, due_days, pass_mark, starts_on, active, sort_order, created_at, updated_at) \
             VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13, $13) RETURNING id",
        )
        .bind(&input.code)
        .bind(&input.title)
        .bind(&input.description)
        .bind(input.target_categories.join(" "))
        .bind(input.target_roles.join(" "))
        .bind(input.recurrence.code())
        .bind(i64::from(input.onboarding))
        .bind(i64::from(input.due_days))
        .bind(i64::from(input.pass_mark))
        .bind(input.starts_on.to_string())
        .bind(i64::from(input.active))
        .bind(order)
        .bind(&now)
        .fetch_one(tx.conn())
        .await
        .map_err(on_unique("code"))?;
        let row = Self::course_in_tx(tx, id).await?;
        tx.audit(
            "training.course.create",
            "training_course",
            &row.code,
            None,
            audit_value(&row),
        )
        .await?;
        Ok(row)
    }

    /// Replaces a course's fields (its code stays).
    pub async fn update_course(
        tx: &mut WriteTx,
        id: i64,
        input: &CourseInput,
    ) -> Result<CourseRow> {
        let before = Self::course_in_tx(tx, id).await?;
        sqlx::query(
            "UPDATE training_courses SET title = $1, description = $2, target_categories = $3, target_roles = $4, \
             recurrence = $5, onboarding = $6, due_days = $7, pass_mark = $8, starts_on = $9, active = $10, \
             updated_at = $11 WHERE id = $12",
        )
        .bind(&input.title)
        .bind(&input.description)
        .bind(input.target_categories.join(" "))
        .bind(input.target_roles.join(" "))
        .bind(input.recurrence.code())
        .bind(i64::from(input.onboarding))
        .bind(i64::from(input.due_days))
        .bind(i64::from(input.pass_mark))
        .bind(input.starts_on.to_string())
        .bind(i64::from(input.active))
        .bind(format_ts(OffsetDateTime::now_utc()))
        .bind(id)
        .execute(tx.conn())
        .await?;
        let after = Self::course_in_tx(tx, id).await?;
        tx.audit(
            "training.course.update",
            "training_course",
            &after.code,
            audit_value(&before),
            audit_value(&after),
        )
        .await?;
        Ok(after)
    }

    /// Seeds the starting courses (`DOMAIN.md` §10) when there are none; true when it did.
    pub(crate) async fn seed_training(tx: &mut WriteTx) -> Result<bool> {
        let n: i64 = sqlx::query_scalar("SELECT COUNT(*) FROM training_courses")
            .fetch_one(tx.conn())
            .await?;
        if n > 0 {
            return Ok(false);
        }
        let today = OffsetDateTime::now_utc().date();
        for s in SEED_COURSES {
            Self::create_course(tx, &CourseInput::from_seed(s, today)).await?;
        }
        Ok(true)
    }

    /// A course's quiz, in order.
    pub async fn course_questions(&self, course_id: i64) -> Result<Vec<QuestionRow>> {
        let rows: Vec<(i64, i64, String, String, i64)> = sqlx::query_as(
            "SELECT id, position, text, choices, correct FROM training_questions WHERE course_id = $1 ORDER BY position, id",
        )
        .bind(course_id)
        .fetch_all(&self.pool)
        .await?;
        rows.into_iter()
            .map(|(id, position, text, choices, correct)| {
                let choices: Vec<String> = serde_json::from_str(&choices)
                    .map_err(|e| StoreError::Corrupt(format!("question {id}: {e}")))?;
                Ok(QuestionRow {
                    id,
                    position,
                    question: Question {
                        text,
                        choices,
                        correct: usize::try_from(correct).unwrap_or(usize::MAX),
                    },
                })
            })
            .collect()
    }

    /// Adds a question at the end of a course's quiz.
    pub async fn add_question(tx: &mut WriteTx, course_id: i64, q: &Question) -> Result<i64> {
        let course = Self::course_in_tx(tx, course_id).await?;
        let position: i64 = sqlx::query_scalar(
            "SELECT COALESCE(MAX(position), 0) + 1 FROM training_questions WHERE course_id = $1",
        )
        .bind(course_id)
        .fetch_one(tx.conn())
        .await?;
        let choices =
            serde_json::to_string(&q.choices).map_err(|e| StoreError::Corrupt(e.to_string()))?;
        let id: i64 = sqlx::query_scalar(
            "INSERT INTO training_questions (course_id, position, text, choices, correct) VALUES ($1, $2, $3, $4, $5) RETURNING id",
        )
        .bind(course_id)
        .bind(position)
        .bind(&q.text)
        .bind(choices)
        .bind(q.correct as i64)
        .fetch_one(tx.conn())
        .await?;
        tx.audit(
            "training.question.add",
            "training_course",
            &course.code,
            None,
            audit_value(&serde_json::json!({"question_id": id, "question": q})),
        )
        .await?;
        Ok(id)
    }

    /// Removes a question from a course's quiz (`Missing` when it is not that course's).
    pub async fn delete_question(tx: &mut WriteTx, course_id: i64, question_id: i64) -> Result<()> {
        let course = Self::course_in_tx(tx, course_id).await?;
        let row: Option<(String, String, i64)> = sqlx::query_as(
            "SELECT text, choices, correct FROM training_questions WHERE id = $1 AND course_id = $2",
        )
        .bind(question_id)
        .bind(course_id)
        .fetch_optional(tx.conn())
        .await?;
        let Some((text, choices, correct)) = row else {
            return Err(StoreError::Missing("question"));
        };
        sqlx::query("DELETE FROM training_questions WHERE id = $1")
            .bind(question_id)
            .execute(tx.conn())
            .await?;
        tx.audit(
            "training.question.delete",
            "training_course",
            &course.code,
            Some(serde_json::json!({"question_id": question_id, "text": text, "choices": choices, "correct": correct})),
            None,
        )
        .await?;
        Ok(())
    }

    /// Attaches a stored file (see [`crate::FileWriter`]) to a course as material.
    pub async fn add_material(
        tx: &mut WriteTx,
        course_id: i64,
        sha256: &str,
        size: u64,
        filename: &str,
        content_type: &str,
    ) -> Result<MaterialRow> {
        let course = Self::course_in_tx(tx, course_id).await?;
        let at = format_ts(OffsetDateTime::now_utc());
        let by = tx.actor().name.clone();
        let id: i64 = sqlx::query_scalar(
            "INSERT INTO training_materials (course_id, sha256, filename, content_type, size, uploaded_by, uploaded_at) \
             VALUES ($1, $2, $3, $4, $5, $6, $7) RETURNING id",
        )
        .bind(course_id)
        .bind(sha256)
        .bind(filename)
        .bind(content_type)
        .bind(size as i64)
        .bind(&by)
        .bind(&at)
        .fetch_one(tx.conn())
        .await
        .map_err(on_unique("file"))?;
        let row = MaterialRow {
            id,
            course_id,
            sha256: sha256.to_owned(),
            filename: filename.to_owned(),
            content_type: content_type.to_owned(),
            size: size as i64,
            uploaded_by: by,
            uploaded_at: at,
        };
        tx.audit(
            "training.material.add",
            "training_course",
            &course.code,
            None,
            audit_value(&row),
        )
        .await?;
        Ok(row)
    }

    /// A course's materials, newest first.
    pub async fn course_materials(&self, course_id: i64) -> Result<Vec<MaterialRow>> {
        Ok(sqlx::query_as(
            "SELECT id, course_id, sha256, filename, content_type, size, uploaded_by, uploaded_at \
             FROM training_materials WHERE course_id = $1 ORDER BY id DESC",
        )
        .bind(course_id)
        .fetch_all(&self.pool)
        .await?)
    }

    /// Creates a session of a course.
    pub async fn create_training_session(
        tx: &mut WriteTx,
        course_id: i64,
        input: &TrainingSessionInput,
    ) -> Result<i64> {
        let course = Self::course_in_tx(tx, course_id).await?;
        let id: i64 = sqlx::query_scalar(
            "INSERT INTO training_sessions (course_id, held_on, place, notes, unit_id, created_by, created_at) \
             VALUES ($1, $2, $3, $4, $5, $6, $7) RETURNING id",
        )
        .bind(course_id)
        .bind(input.held_on.to_string())
        .bind(&input.place)
        .bind(&input.notes)
        .bind(input.unit_id.map(|u| u.0))
        .bind(tx.actor().name.clone())
        .bind(format_ts(OffsetDateTime::now_utc()))
        .fetch_one(tx.conn())
        .await
        .map_err(on_unique("session"))?;
        tx.audit(
            "training.session.create",
            "training_session",
            &id.to_string(),
            None,
            Some(
                serde_json::json!({"course": course.code, "held_on": input.held_on.to_string(),
                "place": input.place, "notes": input.notes, "unit_id": input.unit_id}),
            ),
        )
        .await?;
        Ok(id)
    }

    /// A course's sessions, newest first.
    pub async fn course_sessions(&self, course_id: i64) -> Result<Vec<TrainingSessionRow>> {
        self.sessions_where("s.course_id = $1", course_id).await
    }

    /// One session.
    pub async fn training_session(&self, id: i64) -> Result<Option<TrainingSessionRow>> {
        Ok(self.sessions_where("s.id = $1", id).await?.pop())
    }

    async fn sessions_where(&self, clause: &str, value: i64) -> Result<Vec<TrainingSessionRow>> {
        let rows = sqlx::query(&format!(
            "SELECT s.id, s.course_id, s.held_on, s.place, s.notes, s.unit_id, u.code AS unit_code, \
                 (SELECT COUNT(*) FROM training_attendees a WHERE a.session_id = s.id) AS attendees \
                 FROM training_sessions s LEFT JOIN units u ON u.id = s.unit_id WHERE {clause} \
                 ORDER BY s.held_on DESC, s.id DESC"
        ))
        .bind(value)
        .fetch_all(&self.pool)
        .await?;
        rows.iter()
            .map(|r| {
                Ok(TrainingSessionRow {
                    id: r.try_get("id")?,
                    course_id: r.try_get("course_id")?,
                    held_on: r.try_get("held_on")?,
                    place: r.try_get("place")?,
                    notes: r.try_get("notes")?,
                    unit_id: r.try_get::<Option<i64>, _>("unit_id")?.map(UnitId),
                    unit_code: r.try_get("unit_code")?,
                    attendees: r.try_get("attendees")?,
                })
            })
            .collect()
    }

    /// The people recorded as attending a session (staff id, name), by staff id.
    pub async fn session_attendees(&self, session_id: i64) -> Result<Vec<(String, String)>> {
        Ok(sqlx::query_as(
            "SELECT p.staff_id, p.name FROM training_attendees a JOIN people p ON p.id = a.person_id \
             WHERE a.session_id = $1 ORDER BY p.staff_id",
        )
        .bind(session_id)
        .fetch_all(&self.pool)
        .await?)
    }

    /// Records attendance at a session: each person attended, and has completed the course
    /// on the session's date (source `session`). Returns how many were newly recorded.
    pub async fn record_attendance(
        tx: &mut WriteTx,
        session: &TrainingSessionRow,
        people: &[PersonId],
    ) -> Result<usize> {
        let held_on = mamori_domain::wareki::parse_date(&session.held_on)
            .map_err(|_| StoreError::Corrupt(format!("session {}", session.id)))?;
        let mut added = 0;
        for p in people {
            let exists: Option<i64> = sqlx::query_scalar(
                "SELECT person_id FROM training_attendees WHERE session_id = $1 AND person_id = $2",
            )
            .bind(session.id)
            .bind(p.0)
            .fetch_optional(tx.conn())
            .await?;
            if exists.is_some() {
                continue;
            }
            sqlx::query("INSERT INTO training_attendees (session_id, person_id) VALUES ($1, $2)")
                .bind(session.id)
                .bind(p.0)
                .execute(tx.conn())
                .await
                .map_err(on_unique("person"))?;
            tx.audit(
                "training.session.attend",
                "training_session",
                &session.id.to_string(),
                None,
                Some(serde_json::json!({"person_id": p.0})),
            )
            .await?;
            Self::record_completion(
                tx,
                &CompletionInput {
                    person: *p,
                    course_id: session.course_id,
                    completed_on: held_on,
                    source: Source::Session,
                    score: None,
                    session_id: Some(session.id),
                },
            )
            .await?;
            added += 1;
        }
        Ok(added)
    }

    /// Records (or updates) the completion of a course by a person for the 年度 of its date.
    /// Returns the record and whether anything changed (an identical record is left alone and
    /// not audited).
    pub async fn record_completion(
        tx: &mut WriteTx,
        input: &CompletionInput,
    ) -> Result<(RecordRow, bool)> {
        let fy = i64::from(fiscal_year(input.completed_on));
        let existing: Option<(i64, String, String, Option<i64>)> = sqlx::query_as(
            "SELECT id, completed_on, source, score FROM training_records WHERE person_id = $1 AND course_id = $2 AND fiscal_year = $3",
        )
        .bind(input.person.0)
        .bind(input.course_id)
        .bind(fy)
        .fetch_optional(tx.conn())
        .await?;
        let score = input.score.map(i64::from);
        let date = input.completed_on.to_string();
        let now = format_ts(OffsetDateTime::now_utc());
        let by = tx.actor().name.clone();
        let (id, before, changed) = match existing {
            Some((id, d, s, sc)) if d == date && s == input.source.code() && sc == score => {
                (id, None, false)
            }
            Some((id, d, s, sc)) => {
                sqlx::query(
                    "UPDATE training_records SET completed_on = $1, source = $2, score = $3, session_id = $4, \
                     recorded_by = $5, recorded_at = $6 WHERE id = $7",
                )
                .bind(&date)
                .bind(input.source.code())
                .bind(score)
                .bind(input.session_id)
                .bind(&by)
                .bind(&now)
                .bind(id)
                .execute(tx.conn())
                .await?;
                (
                    id,
                    Some(serde_json::json!({"completed_on": d, "source": s, "score": sc})),
                    true,
                )
            }
            None => {
                let id: i64 = sqlx::query_scalar(
                    "INSERT INTO training_records (person_id, course_id, fiscal_year, completed_on, source, score, session_id, recorded_by, recorded_at) \
                     VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9) RETURNING id",
                )
                .bind(input.person.0)
                .bind(input.course_id)
                .bind(fy)
                .bind(&date)
                .bind(input.source.code())
                .bind(score)
                .bind(input.session_id)
                .bind(&by)
                .bind(&now)
                .fetch_one(tx.conn())
                .await
                .map_err(on_unique("record"))?;
                (id, None, true)
            }
        };
        let row = sqlx::query(&format!(
            "SELECT {RECORD_COLUMNS} {RECORD_FROM} WHERE r.id = $1"
        ))
        .bind(id)
        .fetch_one(tx.conn())
        .await?;
        let row = record_from_row(&row)?;
        if changed {
            tx.audit(
                "training.record",
                "training_record",
                &format!("{} {} {}", row.staff_id, row.course, row.fiscal_year),
                before,
                audit_value(&row),
            )
            .await?;
        }
        Ok((row, changed))
    }

    fn record_filter(&self, filter: &TrainingFilter, units: Option<Vec<UnitId>>) -> Filter {
        let mut f = Filter::default();
        if let Some(units) = units {
            let list: Vec<String> = units.iter().map(|u| u.0.to_string()).collect();
            f.raw(format!("p.unit_id IN ({})", list.join(",")));
        }
        f.eq("c.code", filter.course.as_deref());
        f.eq("p.staff_id", filter.staff_id.as_deref());
        f.eq("p.category", filter.category.as_deref());
        if let Some(fy) = filter.fiscal_year {
            // A whole number, never text from the request.
            f.raw(format!("r.fiscal_year = {fy}"));
        }
        f
    }

    /// The units a filter covers (`None`: everywhere); empty when nothing can match.
    async fn filter_units(&self, filter: &TrainingFilter) -> Result<Option<Vec<UnitId>>> {
        let mut units: Option<HashSet<UnitId>> = match &filter.unit_roots {
            Some(roots) => Some(self.unit_subtrees(roots).await?.into_iter().collect()),
            None => None,
        };
        if let Some(unit) = filter.unit {
            let sub: HashSet<UnitId> = self.unit_subtrees(&[unit]).await?.into_iter().collect();
            units = Some(match units {
                Some(u) => u.intersection(&sub).copied().collect(),
                None => sub,
            });
        }
        Ok(units.map(|u| {
            let mut v: Vec<UnitId> = u.into_iter().collect();
            v.sort();
            v
        }))
    }

    /// A page of completion records, newest 年度 first, then by staff id and course.
    pub async fn training_records_page(
        &self,
        filter: &TrainingFilter,
        limit: i64,
        offset: i64,
    ) -> Result<(Vec<RecordRow>, i64)> {
        let units = self.filter_units(filter).await?;
        if units.as_ref().is_some_and(|u| u.is_empty()) {
            return Ok((Vec::new(), 0));
        }
        let f = self.record_filter(filter, units);
        RECORD_QUERY
            .page(&self.pool, &f, limit, offset, record_from_row)
            .await
    }

    /// Every matching completion record, streamed in the page order (exports).
    pub async fn training_records_for_each(
        &self,
        filter: &TrainingFilter,
        sink: impl FnMut(RecordRow) -> Result<()>,
    ) -> Result<()> {
        let units = self.filter_units(filter).await?;
        if units.as_ref().is_some_and(|u| u.is_empty()) {
            return Ok(());
        }
        let f = self.record_filter(filter, units);
        RECORD_QUERY
            .for_each(&self.pool, &f, record_from_row, sink)
            .await
    }

    /// People in the filter's units (category filter applied) with what assignment needs.
    pub async fn trainees(&self, filter: &TrainingFilter) -> Result<Vec<TraineeRow>> {
        let units = self.filter_units(filter).await?;
        if units.as_ref().is_some_and(|u| u.is_empty()) {
            return Ok(Vec::new());
        }
        let mut f = Filter::default();
        if let Some(units) = units {
            let list: Vec<String> = units.iter().map(|u| u.0.to_string()).collect();
            f.raw(format!("p.unit_id IN ({})", list.join(",")));
        }
        f.eq("p.category", filter.category.as_deref());
        f.eq("p.staff_id", filter.staff_id.as_deref());
        let query = ListQuery {
            columns:
                "p.id, p.staff_id, p.name, p.unit_id, u.code AS unit_code, u.name AS unit_name, \
                      p.category, p.joined_on, p.left_on",
            from: "FROM people p JOIN units u ON u.id = p.unit_id",
            order: "p.staff_id",
            count_from: None,
        };
        let mut people = Vec::new();
        query
            .for_each(
                &self.pool,
                &f,
                |r| {
                    let date = |c: &str| -> Result<Option<Date>> {
                        Ok(r.try_get::<Option<String>, _>(c)?
                            .and_then(|d| mamori_domain::wareki::parse_date(&d).ok()))
                    };
                    Ok(TraineeRow {
                        id: PersonId(r.try_get("id")?),
                        staff_id: r.try_get("staff_id")?,
                        name: r.try_get("name")?,
                        unit_id: UnitId(r.try_get("unit_id")?),
                        unit_code: r.try_get("unit_code")?,
                        unit_name: r.try_get("unit_name")?,
                        trainee: Trainee {
                            category: r.try_get("category")?,
                            roles: Vec::new(),
                            joined_on: date("joined_on")?,
                            left_on: date("left_on")?,
                        },
                    })
                },
                |t| {
                    people.push(t);
                    Ok(())
                },
            )
            .await?;
        // Roles held by the person, or by the account linked to them.
        let roles: Vec<(i64, String)> = sqlx::query_as(
            "SELECT person_id, role_code FROM role_assignments WHERE person_id IS NOT NULL \
             UNION SELECT u.person_id, a.role_code FROM role_assignments a JOIN users u ON u.id = a.user_id \
             WHERE u.person_id IS NOT NULL",
        )
        .fetch_all(&self.pool)
        .await?;
        let index: HashMap<i64, usize> = people
            .iter()
            .enumerate()
            .map(|(i, p)| (p.id.0, i))
            .collect();
        for (pid, role) in roles {
            if let Some(i) = index.get(&pid) {
                let r = &mut people[*i].trainee.roles;
                if !r.contains(&role) {
                    r.push(role);
                }
            }
        }
        Ok(people)
    }

    /// (person id, course id) → 年度s with a completion, up to and including `up_to`, with
    /// their dates.
    async fn completions(
        &self,
        up_to: Option<i32>,
        person: Option<PersonId>,
    ) -> Result<HashMap<(i64, i64), Vec<(i32, String)>>> {
        let rows: Vec<(i64, i64, i64, String)> = sqlx::query_as(
            "SELECT person_id, course_id, fiscal_year, completed_on FROM training_records \
             WHERE fiscal_year <= $1 AND ($2 = 0 OR person_id = $2)",
        )
        .bind(i64::from(up_to.unwrap_or(i32::MAX)))
        .bind(person.map_or(0, |p| p.0))
        .fetch_all(&self.pool)
        .await?;
        let mut map: HashMap<(i64, i64), Vec<(i32, String)>> = HashMap::new();
        for (p, c, fy, d) in rows {
            map.entry((p, c))
                .or_default()
                .push((i32::try_from(fy).unwrap_or(0), d));
        }
        Ok(map)
    }

    /// Every requirement of 年度 `fy` in the filter's scope, with its standing on `today`.
    async fn standings(
        &self,
        filter: &TrainingFilter,
        fy: i32,
        today: Date,
    ) -> Result<Vec<(TraineeRow, CourseRow, Date, Status)>> {
        let courses: Vec<CourseRow> = self
            .courses()
            .await?
            .into_iter()
            .filter(|c| filter.course.as_ref().is_none_or(|code| *code == c.code))
            .collect();
        let rules: Vec<CourseRules> = courses.iter().map(CourseRow::rules).collect();
        let done = self.completions(None, None).await?;
        let mut out = Vec::new();
        for t in self.trainees(filter).await? {
            for (c, r) in courses.iter().zip(&rules) {
                let years: Vec<i32> = done
                    .get(&(t.id.0, c.id))
                    .map(|v| v.iter().map(|(y, _)| *y).filter(|y| *y <= fy).collect())
                    .unwrap_or_default();
                if let Some((due, status)) = standing(r, &t.trainee, fy, &years, today) {
                    out.push((t.clone(), c.clone(), due, status));
                }
            }
        }
        Ok(out)
    }

    /// Completion figures (done / assigned) of 年度 `fy` by unit, category and course, as of
    /// `today` (which decides what is overdue).
    pub async fn training_report(
        &self,
        filter: &TrainingFilter,
        fy: i32,
        today: Date,
    ) -> Result<TrainingReport> {
        let mut units: BTreeMap<String, Tally> = BTreeMap::new();
        let mut categories: BTreeMap<String, Tally> = BTreeMap::new();
        let mut courses: BTreeMap<(i64, String), Tally> = BTreeMap::new();
        let mut total = Tally {
            key: fy.to_string(),
            label: fy.to_string(),
            ..Tally::default()
        };
        let order: HashMap<String, i64> = self
            .courses()
            .await?
            .iter()
            .enumerate()
            .map(|(i, c)| (c.code.clone(), i as i64))
            .collect();
        for (t, c, _, status) in self.standings(filter, fy, today).await? {
            let groups = [
                units.entry(t.unit_code.clone()).or_insert_with(|| Tally {
                    key: t.unit_code.clone(),
                    label: t.unit_name.clone(),
                    ..Tally::default()
                }),
                categories
                    .entry(t.trainee.category.clone())
                    .or_insert_with(|| Tally {
                        key: t.trainee.category.clone(),
                        label: t.trainee.category.clone(),
                        ..Tally::default()
                    }),
                courses
                    .entry((order.get(&c.code).copied().unwrap_or(0), c.code.clone()))
                    .or_insert_with(|| Tally {
                        key: c.code.clone(),
                        label: c.title.clone(),
                        ..Tally::default()
                    }),
                &mut total,
            ];
            for g in groups {
                g.assigned += 1;
                match status {
                    Status::Done => g.done += 1,
                    Status::Overdue => g.overdue += 1,
                    _ => {}
                }
            }
        }
        Ok(TrainingReport {
            fiscal_year: fy,
            total,
            by_unit: units.into_values().collect(),
            by_category: categories.into_values().collect(),
            by_course: courses.into_values().collect(),
        })
    }

    /// A page of the requirements of 年度 `fy` not yet met (only the overdue ones with
    /// `overdue_only`), by unit, staff id and course, and how many there are.
    pub async fn training_pending_page(
        &self,
        filter: &TrainingFilter,
        fy: i32,
        today: Date,
        overdue_only: bool,
        limit: i64,
        offset: i64,
    ) -> Result<(Vec<PendingRow>, i64)> {
        let mut rows: Vec<PendingRow> = self
            .standings(filter, fy, today)
            .await?
            .into_iter()
            .filter(|(_, _, _, s)| match s {
                Status::Overdue => true,
                Status::Due => !overdue_only,
                _ => false,
            })
            .map(|(t, c, due, status)| PendingRow {
                staff_id: t.staff_id,
                name: t.name,
                unit: t.unit_code,
                unit_name: t.unit_name,
                course: c.code,
                course_title: c.title,
                due_on: due.to_string(),
                status,
            })
            .collect();
        rows.sort_by(|a, b| {
            (&a.unit, &a.staff_id, &a.course).cmp(&(&b.unit, &b.staff_id, &b.course))
        });
        let total = rows.len() as i64;
        let page = rows
            .into_iter()
            .skip(usize::try_from(offset.max(0)).unwrap_or(0))
            .take(usize::try_from(limit.clamp(1, 1000)).unwrap_or(50))
            .collect();
        Ok((page, total))
    }

    /// A person's own courses on `today`: every active course assigned to them, with its due
    /// date and standing (annual courses for the current 年度), then the others they completed.
    pub async fn my_training(&self, person: PersonId, today: Date) -> Result<Vec<MyCourse>> {
        let Some(p) = self.person(person).await? else {
            return Ok(Vec::new());
        };
        let me = self
            .trainees(&TrainingFilter {
                staff_id: Some(p.staff_id.clone()),
                ..TrainingFilter::default()
            })
            .await?
            .into_iter()
            .find(|t| t.id == person);
        let Some(me) = me else {
            return Ok(Vec::new());
        };
        let fy = fiscal_year(today);
        let done = self.completions(None, Some(person)).await?;
        let mut out = Vec::new();
        for c in self.courses().await? {
            let rules = c.rules();
            let mine = done.get(&(person.0, c.id)).cloned().unwrap_or_default();
            let completed_on = match rules.recurrence {
                Recurrence::Annual => mine.iter().find(|(y, _)| *y == fy).map(|(_, d)| d.clone()),
                Recurrence::Once => mine.iter().map(|(_, d)| d.clone()).min(),
            };
            let assigned = is_assigned(&rules, &me.trainee)
                && (rules.recurrence == Recurrence::Once
                    || (in_post_during(&me.trainee, fy) && fiscal_year(rules.starts_on) <= fy));
            let due = if assigned {
                due_date(&rules, &me.trainee, fy)
            } else {
                None
            };
            let status = mamori_domain::training::status(due, completed_on.is_some(), today);
            if status != Status::NotAssigned || completed_on.is_some() {
                out.push(MyCourse {
                    course: c,
                    due_on: due,
                    status,
                    completed_on,
                });
            }
        }
        let rank = |s: Status| match s {
            Status::Overdue => 0,
            Status::Due => 1,
            Status::Done => 2,
            Status::NotAssigned => 3,
        };
        out.sort_by_key(|m| (rank(m.status), m.due_on));
        Ok(out)
    }

    /// Creates or updates completion records from a file, by staff id, course and 年度. People
    /// outside `allowed` (units where the importer holds `training.manage`; `None`: anywhere)
    /// are refused by row.
    pub async fn import_training_records(
        tx: &mut WriteTx,
        records: &[(u64, TrainingRecord)],
        column: impl Fn(&str) -> String,
        allowed: Option<&HashSet<UnitId>>,
    ) -> Result<crate::ImportOutcome> {
        let courses: HashMap<String, i64> =
            sqlx::query_as::<_, (String, i64)>("SELECT code, id FROM training_courses")
                .fetch_all(tx.conn())
                .await?
                .into_iter()
                .collect();
        let mut problems = Vec::new();
        let mut resolved = Vec::new();
        for (line, r) in records {
            let person: Option<(i64, i64)> =
                sqlx::query_as("SELECT id, unit_id FROM people WHERE staff_id = $1")
                    .bind(&r.staff_id)
                    .fetch_optional(tx.conn())
                    .await?;
            let person = match person {
                None => {
                    problems.push(Problem::with(
                        *line,
                        column("staff_id"),
                        "training-error-unknown-person",
                        r.staff_id.clone(),
                    ));
                    None
                }
                Some((_, unit)) if allowed.is_some_and(|a| !a.contains(&UnitId(unit))) => {
                    problems.push(Problem::with(
                        *line,
                        column("staff_id"),
                        "error-unit-not-permitted",
                        r.staff_id.clone(),
                    ));
                    None
                }
                Some((id, _)) => Some(PersonId(id)),
            };
            let course = courses.get(&r.course).copied();
            if course.is_none() {
                problems.push(Problem::with(
                    *line,
                    column("course"),
                    "training-error-unknown-course",
                    r.course.clone(),
                ));
            }
            if let (Some(person), Some(course_id)) = (person, course) {
                resolved.push(CompletionInput {
                    person,
                    course_id,
                    completed_on: r.completed_on,
                    source: r.source,
                    score: r.score,
                    session_id: None,
                });
            }
        }
        if !problems.is_empty() {
            return Ok(Err(problems));
        }
        let mut summary = crate::ImportSummary::default();
        for input in resolved {
            let exists: Option<i64> = sqlx::query_scalar(
                "SELECT id FROM training_records WHERE person_id = $1 AND course_id = $2 AND fiscal_year = $3",
            )
            .bind(input.person.0)
            .bind(input.course_id)
            .bind(i64::from(fiscal_year(input.completed_on)))
            .fetch_optional(tx.conn())
            .await?;
            let (_, changed) = Self::record_completion(tx, &input).await?;
            match (exists.is_some(), changed) {
                (false, _) => summary.added += 1,
                (true, true) => summary.updated += 1,
                (true, false) => summary.unchanged += 1,
            }
        }
        Ok(Ok(summary))
    }
}

const RECORD_QUERY: ListQuery<'static> = ListQuery {
    columns: RECORD_COLUMNS,
    from: RECORD_FROM,
    order: "r.fiscal_year DESC, p.staff_id, c.code",
    count_from: None,
};
