//! Training (人的セキュリティ, clause 6(5) of the basic policy; `DOMAIN.md` §10).
//!
//! Decisions, as a demanding user would want them:
//! - **Assignment is computed, never stored.** A course names its targets (employment category
//!   codes and/or role codes); a person is assigned when their category is one of the target
//!   categories *or* they hold one of the target roles. A course with no targets at all is for
//!   everyone. Because nothing is stored, a person who joins later, changes category or gains a
//!   role is assigned (or no longer assigned) at once, with no job to run.
//! - **Recurrence.** `annual` courses are due once per 年度 (April–March) by its last day
//!   (31 March); a completion counts for the 年度 of its date. `once` courses are due once:
//!   a completion in any year counts.
//! - **Onboarding.** An onboarding course is always `once`, and is assigned only to people who
//!   joined on or after the course's start date (people already in post when it was set up
//!   are not sent back to onboarding); each must complete it within `due_days` days of joining.
//!   A person without a 着任日 is not assigned onboarding.
//! - **Due dates of other `once` courses.** `due_days` after the later of the course's start
//!   and the person's 着任日; with `due_days` 0, the end of that 年度.
//! - **Which 年度 a requirement belongs to** (for reports): an annual course belongs to every
//!   年度 in which the person was in post for at least one day; a `once` course belongs to the
//!   年度 in which it became due-running (the later of start and 着任日).
//! - **Quizzes.** Each question has two or more choices and exactly one correct choice; the
//!   score is the percentage of questions answered correctly, rounded down; a person passes
//!   with a score at or above the course's pass mark. An unanswered question counts as wrong.
//!   Self-completion is only possible through a passed quiz: a course without questions is
//!   recorded by a manager, a session or an import.
//! - **Inactive courses** are assigned to nobody (their records stay).

use crate::wareki::{fiscal_year, DateStyle, EraTable, Lang};
use serde::{Deserialize, Serialize};
use time::{Date, Duration, Month};

/// How often a course is due.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Recurrence {
    /// Once per 年度 (April–March).
    Annual,
    /// Once.
    Once,
}

impl Recurrence {
    /// Every recurrence, in display order.
    pub const ALL: [Recurrence; 2] = [Recurrence::Annual, Recurrence::Once];

    /// The stored code.
    pub fn code(self) -> &'static str {
        match self {
            Recurrence::Annual => "annual",
            Recurrence::Once => "once",
        }
    }

    /// The Japanese label (files).
    pub fn label(self) -> &'static str {
        match self {
            Recurrence::Annual => "毎年度",
            Recurrence::Once => "1回",
        }
    }

    /// Parses a code or label.
    pub fn parse(s: &str) -> Option<Recurrence> {
        let s = s.trim();
        Self::ALL
            .into_iter()
            .find(|r| r.code() == s || r.label() == s)
    }
}

/// How a completion came to be recorded.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Source {
    /// Entered by a manager (情報セキュリティ管理者).
    Manager,
    /// Imported from a file.
    Import,
    /// Attendance at a session (研修会).
    Session,
    /// The person passed the course's quiz.
    Quiz,
}

impl Source {
    /// Every source, in display order.
    pub const ALL: [Source; 4] = [
        Source::Manager,
        Source::Import,
        Source::Session,
        Source::Quiz,
    ];

    /// The stored code.
    pub fn code(self) -> &'static str {
        match self {
            Source::Manager => "manager",
            Source::Import => "import",
            Source::Session => "session",
            Source::Quiz => "quiz",
        }
    }

    /// The Japanese label (files).
    pub fn label(self) -> &'static str {
        match self {
            Source::Manager => "管理者入力",
            Source::Import => "取込",
            Source::Session => "研修会",
            Source::Quiz => "確認テスト",
        }
    }

    /// Parses a code or label.
    pub fn parse(s: &str) -> Option<Source> {
        let s = s.trim();
        Self::ALL
            .into_iter()
            .find(|r| r.code() == s || r.label() == s)
    }
}

/// What assignment and due dates depend on in a course.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct CourseRules {
    /// Employment category codes (empty with no roles: everyone).
    pub target_categories: Vec<String>,
    /// Role codes.
    pub target_roles: Vec<String>,
    /// How often it is due.
    pub recurrence: Recurrence,
    /// For new staff only.
    pub onboarding: bool,
    /// Days allowed (onboarding: after joining).
    pub due_days: u32,
    /// The course's start: onboarding applies to people who joined on or after it.
    pub starts_on: Date,
    /// Assigned at all.
    pub active: bool,
}

/// What assignment depends on in a person.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct Trainee {
    /// Employment category code.
    pub category: String,
    /// Role codes held (any scope).
    pub roles: Vec<String>,
    /// 着任日.
    pub joined_on: Option<Date>,
    /// 離任日.
    pub left_on: Option<Date>,
}

/// Where a person stands with one course.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Status {
    /// Completed (for this 年度, or once).
    Done,
    /// Assigned, not completed, due date not passed.
    Due,
    /// Assigned, not completed, due date passed.
    Overdue,
    /// Not assigned.
    NotAssigned,
}

impl Status {
    /// The code (and Fluent id suffix: `training-status-{code}`).
    pub fn code(self) -> &'static str {
        match self {
            Status::Done => "done",
            Status::Due => "due",
            Status::Overdue => "overdue",
            Status::NotAssigned => "not_assigned",
        }
    }
}

/// The first day of 年度 `fy`.
pub fn fiscal_year_start(fy: i32) -> Date {
    Date::from_calendar_date(fy, Month::April, 1).unwrap_or(Date::MIN)
}

/// The last day of 年度 `fy` (31 March of the next year).
pub fn fiscal_year_end(fy: i32) -> Date {
    Date::from_calendar_date(fy + 1, Month::March, 31).unwrap_or(Date::MAX)
}

/// 年度 as people write it: `令和8年度` (和暦 styles), `2026年度` (西暦), `FY2026` (English).
/// The era is the one in force at the end of the 年度, so 2019年度 is 令和元年度.
pub fn fiscal_year_label(fy: i32, style: DateStyle, lang: Lang) -> String {
    if lang == Lang::En {
        return format!("FY{fy}");
    }
    if style == DateStyle::Seireki {
        return format!("{fy}年度");
    }
    match EraTable::builtin().era_of(fiscal_year_end(fy)) {
        Some((era, _)) => {
            let n = fy - era.first_day.year() + 1;
            let n = if n == 1 {
                "元".to_owned()
            } else {
                n.to_string()
            };
            if style == DateStyle::Both {
                format!("{}{n}年度（{fy}年度）", era.name)
            } else {
                format!("{}{n}年度", era.name)
            }
        }
        None => format!("{fy}年度"),
    }
}

/// Parses a 年度 as files write it: `2026`, `2026年度`, `FY2026`, `令和8年度`, `R8`, `令和元年度`
/// (full-width digits folded first). `None` when it is not a 年度.
pub fn parse_fiscal_year(input: &str) -> Option<i32> {
    let s = crate::wareki::fold_fullwidth(input.trim());
    let s = s.trim_end_matches("年度").trim();
    let s = s
        .strip_prefix("FY")
        .or_else(|| s.strip_prefix("fy"))
        .unwrap_or(s);
    if let Ok(y) = s.parse::<i32>() {
        return (1900..=2999).contains(&y).then_some(y);
    }
    let table = EraTable::builtin();
    let (era, rest) = table.eras().iter().find_map(|e| {
        s.strip_prefix(e.name.as_str())
            .or_else(|| s.strip_prefix(e.abbrev))
            .or_else(|| s.strip_prefix(e.abbrev.to_ascii_lowercase()))
            .map(|rest| (e, rest))
    })?;
    let n: i32 = if rest == "元" {
        1
    } else {
        rest.parse().ok().filter(|n| *n >= 1)?
    };
    Some(era.first_day.year() + n - 1)
}

/// The date from which a `once` course runs for a person: the later of the course's start
/// and their 着任日.
fn anchor(course: &CourseRules, trainee: &Trainee) -> Date {
    match trainee.joined_on {
        Some(j) if j > course.starts_on => j,
        _ => course.starts_on,
    }
}

/// Does the course apply to the person (targets, onboarding, active)? Independent of 年度.
pub fn is_assigned(course: &CourseRules, trainee: &Trainee) -> bool {
    if !course.active {
        return false;
    }
    let for_everyone = course.target_categories.is_empty() && course.target_roles.is_empty();
    let targeted = for_everyone
        || course.target_categories.contains(&trainee.category)
        || trainee
            .roles
            .iter()
            .any(|r| course.target_roles.contains(r));
    if !targeted {
        return false;
    }
    if course.onboarding {
        return trainee.joined_on.is_some_and(|j| j >= course.starts_on);
    }
    true
}

/// Was the person in post for at least one day of 年度 `fy`?
pub fn in_post_during(trainee: &Trainee, fy: i32) -> bool {
    trainee.joined_on.is_none_or(|j| j <= fiscal_year_end(fy))
        && trainee.left_on.is_none_or(|l| l >= fiscal_year_start(fy))
}

/// Does the requirement belong to 年度 `fy` (for reports by 年度)? Assumes [`is_assigned`].
pub fn belongs_to_year(course: &CourseRules, trainee: &Trainee, fy: i32) -> bool {
    match course.recurrence {
        Recurrence::Annual => in_post_during(trainee, fy) && fiscal_year(course.starts_on) <= fy,
        Recurrence::Once => fiscal_year(anchor(course, trainee)) == fy,
    }
}

/// The due date for the person in 年度 `fy` (annual courses: the 年度's last day; `once`
/// courses: see the module's decisions, whatever `fy`), or `None` when not assigned.
pub fn due_date(course: &CourseRules, trainee: &Trainee, fy: i32) -> Option<Date> {
    if !is_assigned(course, trainee) {
        return None;
    }
    Some(match course.recurrence {
        Recurrence::Annual => fiscal_year_end(fy),
        Recurrence::Once => {
            let start = anchor(course, trainee);
            if course.due_days == 0 {
                fiscal_year_end(fiscal_year(start))
            } else {
                start
                    .checked_add(Duration::days(i64::from(course.due_days)))
                    .unwrap_or(Date::MAX)
            }
        }
    })
}

/// Does a completion recorded for 年度 `completion_fy` satisfy the course in 年度 `fy`?
pub fn completion_counts(course: &CourseRules, completion_fy: i32, fy: i32) -> bool {
    match course.recurrence {
        Recurrence::Annual => completion_fy == fy,
        Recurrence::Once => true,
    }
}

/// The status from assignment (its due date), completion and today.
pub fn status(due: Option<Date>, completed: bool, today: Date) -> Status {
    match (due, completed) {
        (None, _) => Status::NotAssigned,
        (Some(_), true) => Status::Done,
        (Some(d), false) if today > d => Status::Overdue,
        (Some(_), false) => Status::Due,
    }
}

/// Where a person stands with a course in 年度 `fy`, given the 年度s of their completions of
/// it: `None` when the course is not theirs in that 年度.
pub fn standing(
    course: &CourseRules,
    trainee: &Trainee,
    fy: i32,
    completion_years: &[i32],
    today: Date,
) -> Option<(Date, Status)> {
    if !is_assigned(course, trainee) || !belongs_to_year(course, trainee, fy) {
        return None;
    }
    let due = due_date(course, trainee, fy)?;
    let done = completion_years
        .iter()
        .any(|y| completion_counts(course, *y, fy));
    Some((due, status(Some(due), done, today)))
}

/// Problems with a course's fields (message ids by field).
#[allow(clippy::too_many_arguments)]
pub fn course_problems(
    code: &str,
    title: &str,
    description: &str,
    recurrence: Recurrence,
    onboarding: bool,
    due_days: u32,
    pass_mark: u32,
) -> Vec<(&'static str, &'static str)> {
    let mut p = Vec::new();
    if !crate::is_valid_code(code) {
        p.push(("code", "error-code-format"));
    }
    if title.trim().is_empty() || title.chars().count() > 200 {
        p.push(("title", "error-required-text"));
    }
    if description.chars().count() > 10_000 {
        p.push(("description", "error-too-long"));
    }
    if onboarding && recurrence != Recurrence::Once {
        p.push(("recurrence", "training-error-onboarding-once"));
    }
    if onboarding && due_days == 0 {
        p.push(("due_days", "training-error-due-days"));
    }
    if due_days > 3650 {
        p.push(("due_days", "error-number"));
    }
    if pass_mark > 100 {
        p.push(("pass_mark", "error-number"));
    }
    p
}

/// One quiz question.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Question {
    /// The question.
    pub text: String,
    /// The choices (two to ten).
    pub choices: Vec<String>,
    /// Index of the correct choice.
    pub correct: usize,
}

impl Question {
    /// Problems (message ids by field).
    pub fn problems(&self) -> Vec<(&'static str, &'static str)> {
        let mut p = Vec::new();
        if self.text.trim().is_empty() || self.text.chars().count() > 2000 {
            p.push(("text", "error-required-text"));
        }
        if self.choices.len() < 2
            || self.choices.len() > 10
            || self
                .choices
                .iter()
                .any(|c| c.trim().is_empty() || c.chars().count() > 500)
        {
            p.push(("choices", "training-error-choices"));
        }
        if self.correct >= self.choices.len() {
            p.push(("correct", "training-error-correct"));
        }
        p
    }
}

/// The score in percent (rounded down) for `answers[i]`, the chosen index for question `i`
/// (`None`: unanswered, counted wrong). An empty quiz scores 0.
pub fn score(questions: &[Question], answers: &[Option<usize>]) -> u32 {
    if questions.is_empty() {
        return 0;
    }
    let right = questions
        .iter()
        .enumerate()
        .filter(|(i, q)| answers.get(*i).copied().flatten() == Some(q.correct))
        .count();
    (right * 100 / questions.len()) as u32
}

/// Passed: a score at or above the pass mark (and a quiz with at least one question).
pub fn passed(questions: &[Question], score: u32, pass_mark: u32) -> bool {
    !questions.is_empty() && score >= pass_mark
}

/// File extensions accepted as course materials: documents, slides, text, images, audio and
/// video. Executables, scripts, archives and web pages are refused (materials are downloaded
/// by every member of staff, so they must not carry anything that runs).
pub const MATERIAL_EXTENSIONS: &[&str] = &[
    "pdf", "doc", "docx", "xls", "xlsx", "ppt", "pptx", "odt", "ods", "odp", "txt", "csv", "md",
    "png", "jpg", "jpeg", "gif", "mp3", "mp4", "m4v", "webm",
];

/// Why a course material is refused, from its name and first bytes (at least the first
/// 512, or all when shorter): an extension not in [`MATERIAL_EXTENSIONS`], an executable
/// whatever its name, or content that does not match its extension (a PDF that is not one, a
/// text file with binary content).
pub fn material_problem(filename: &str, head: &[u8]) -> Option<&'static str> {
    let ext = filename
        .rsplit_once('.')
        .map(|(_, e)| e.to_ascii_lowercase())
        .unwrap_or_default();
    if !MATERIAL_EXTENSIONS.contains(&ext.as_str()) {
        return Some("training-material-type");
    }
    let executable = head.starts_with(b"MZ")
        || head.starts_with(b"\x7fELF")
        || head.starts_with(b"#!")
        || head.starts_with(&[0xCA, 0xFE, 0xBA, 0xBE])
        || head.starts_with(&[0xFE, 0xED, 0xFA, 0xCE])
        || head.starts_with(&[0xFE, 0xED, 0xFA, 0xCF])
        || head.starts_with(&[0xCE, 0xFA, 0xED, 0xFE])
        || head.starts_with(&[0xCF, 0xFA, 0xED, 0xFE]);
    if executable {
        return Some("training-material-content");
    }
    let matches = match ext.as_str() {
        "pdf" => head.starts_with(b"%PDF"),
        "docx" | "xlsx" | "pptx" | "odt" | "ods" | "odp" => head.starts_with(b"PK\x03\x04"),
        "doc" | "xls" | "ppt" => head.starts_with(&[0xD0, 0xCF, 0x11, 0xE0]),
        "png" => head.starts_with(b"\x89PNG"),
        "jpg" | "jpeg" => head.starts_with(&[0xFF, 0xD8, 0xFF]),
        "gif" => head.starts_with(b"GIF8"),
        "txt" | "csv" | "md" => !head.contains(&0),
        _ => true,
    };
    (!matches).then_some("training-material-content")
}

/// A course seeded on first start (`DOMAIN.md` §10), as data.
#[derive(Debug, Clone, Copy)]
pub struct CourseSeed {
    /// Stable code.
    pub code: &'static str,
    /// Japanese title.
    pub title: &'static str,
    /// Description.
    pub description: &'static str,
    /// Target categories.
    pub categories: &'static [&'static str],
    /// Target roles.
    pub roles: &'static [&'static str],
    /// Recurrence.
    pub recurrence: Recurrence,
    /// Onboarding.
    pub onboarding: bool,
    /// Due days.
    pub due_days: u32,
}

const ALL_CATEGORIES: &[&str] = &[
    "regular",
    "assembly_member",
    "reappointed",
    "fixed_term",
    "temporary",
    "fiscal_year",
    "special_part_time",
    "dispatched",
];

/// The starting courses: at least one course a year for every 職員等, onboarding, role
/// training for managers and the CSIRT, targeted-mail drills and emergency exercises.
pub const SEED_COURSES: &[CourseSeed] = &[
    CourseSeed {
        code: "security-annual",
        title: "情報セキュリティ研修",
        description: "全ての職員等が毎年度受講する情報セキュリティポリシーの研修。",
        categories: ALL_CATEGORIES,
        roles: &[],
        recurrence: Recurrence::Annual,
        onboarding: false,
        due_days: 0,
    },
    CourseSeed {
        code: "onboarding",
        title: "新規採用者研修",
        description: "新たに着任した職員等が着任後30日以内に受講する研修。",
        categories: ALL_CATEGORIES,
        roles: &[],
        recurrence: Recurrence::Once,
        onboarding: true,
        due_days: 30,
    },
    CourseSeed {
        code: "manager",
        title: "管理者研修",
        description: "情報セキュリティ責任者・管理者等の役割に応じた研修。",
        categories: &[],
        roles: &[
            "ciso",
            "chief_officer",
            "unit_officer",
            "unit_manager",
            "system_manager",
        ],
        recurrence: Recurrence::Annual,
        onboarding: false,
        due_days: 0,
    },
    CourseSeed {
        code: "csirt",
        title: "CSIRT研修",
        description: "CSIRT要員のインシデント対応研修。",
        categories: &[],
        roles: &["csirt"],
        recurrence: Recurrence::Annual,
        onboarding: false,
        due_days: 0,
    },
    CourseSeed {
        code: "phishing-drill",
        title: "標的型メール訓練",
        description: "標的型攻撃メールへの対応訓練。",
        categories: ALL_CATEGORIES,
        roles: &[],
        recurrence: Recurrence::Annual,
        onboarding: false,
        due_days: 0,
    },
    CourseSeed {
        code: "emergency-exercise",
        title: "緊急時対応訓練",
        description: "緊急時対応計画に基づく訓練。",
        categories: &[],
        roles: &[
            "ciso",
            "chief_officer",
            "unit_officer",
            "unit_manager",
            "system_manager",
            "system_staff",
            "csirt",
        ],
        recurrence: Recurrence::Annual,
        onboarding: false,
        due_days: 0,
    },
];

#[cfg(test)]
mod tests {
    use super::*;
    use time::macros::date;

    fn course(recurrence: Recurrence) -> CourseRules {
        CourseRules {
            target_categories: vec![],
            target_roles: vec![],
            recurrence,
            onboarding: false,
            due_days: 0,
            starts_on: date!(2026 - 04 - 01),
            active: true,
        }
    }

    fn person(category: &str, roles: &[&str], joined: Option<Date>) -> Trainee {
        Trainee {
            category: category.into(),
            roles: roles.iter().map(|r| r.to_string()).collect(),
            joined_on: joined,
            left_on: None,
        }
    }

    #[test]
    fn targets_by_category_or_role_and_empty_means_everyone() {
        let mut c = course(Recurrence::Annual);
        assert!(is_assigned(&c, &person("regular", &[], None)));
        c.target_categories = vec!["fiscal_year".into()];
        assert!(!is_assigned(&c, &person("regular", &[], None)));
        assert!(is_assigned(&c, &person("fiscal_year", &[], None)));
        c.target_roles = vec!["csirt".into()];
        assert!(is_assigned(&c, &person("regular", &["csirt"], None)));
        c.active = false;
        assert!(!is_assigned(&c, &person("fiscal_year", &[], None)));
    }

    #[test]
    fn onboarding_is_for_those_who_joined_after_the_start_within_due_days() {
        let mut c = course(Recurrence::Once);
        c.onboarding = true;
        c.due_days = 30;
        let old = person("regular", &[], Some(date!(2020 - 04 - 01)));
        let unknown = person("regular", &[], None);
        let new = person("regular", &[], Some(date!(2026 - 06 - 15)));
        assert!(!is_assigned(&c, &old));
        assert!(!is_assigned(&c, &unknown));
        assert!(is_assigned(&c, &new));
        assert_eq!(due_date(&c, &new, 2026), Some(date!(2026 - 07 - 15)));
        assert_eq!(
            status(due_date(&c, &new, 2026), false, date!(2026 - 07 - 15)),
            Status::Due
        );
        assert_eq!(
            status(due_date(&c, &new, 2026), false, date!(2026 - 07 - 16)),
            Status::Overdue
        );
        assert!(belongs_to_year(&c, &new, 2026));
        assert!(!belongs_to_year(&c, &new, 2027));
        // A completion in a later 年度 still counts for a once course.
        assert_eq!(
            standing(&c, &new, 2026, &[2027], date!(2027 - 05 - 01)).map(|s| s.1),
            Some(Status::Done)
        );
    }

    #[test]
    fn annual_courses_are_due_by_the_end_of_each_nendo() {
        let c = course(Recurrence::Annual);
        let p = person("regular", &[], Some(date!(2010 - 04 - 01)));
        assert_eq!(due_date(&c, &p, 2026), Some(date!(2027 - 03 - 31)));
        let today = date!(2027 - 04 - 01);
        assert_eq!(
            standing(&c, &p, 2026, &[2025], today),
            Some((date!(2027 - 03 - 31), Status::Overdue)),
            "last year's completion does not count"
        );
        assert_eq!(
            standing(&c, &p, 2026, &[2026], today).map(|s| s.1),
            Some(Status::Done)
        );
        assert_eq!(
            standing(&c, &p, 2025, &[], today),
            None,
            "not before the course started"
        );
        let mut left = p.clone();
        left.left_on = Some(date!(2026 - 03 - 31));
        assert_eq!(standing(&c, &left, 2026, &[], today), None);
        assert_eq!(
            status(None, true, today),
            Status::NotAssigned,
            "not assigned wins"
        );
    }

    #[test]
    fn once_courses_without_days_are_due_at_the_end_of_their_nendo() {
        let mut c = course(Recurrence::Once);
        c.target_roles = vec!["unit_manager".into()];
        let m = person("regular", &["unit_manager"], Some(date!(2027 - 01 - 10)));
        assert_eq!(due_date(&c, &m, 2030), Some(date!(2027 - 03 - 31)));
        c.due_days = 90;
        assert_eq!(due_date(&c, &m, 2030), Some(date!(2027 - 04 - 10)));
        assert!(belongs_to_year(&c, &m, 2026));
    }

    #[test]
    fn quiz_scores_round_down_and_pass_at_the_mark() {
        let q = |correct| Question {
            text: "?".into(),
            choices: vec!["a".into(), "b".into(), "c".into()],
            correct,
        };
        let qs = vec![q(0), q(1), q(2)];
        assert_eq!(score(&qs, &[Some(0), Some(1), Some(2)]), 100);
        assert_eq!(score(&qs, &[Some(0), Some(1), None]), 66);
        assert_eq!(score(&qs, &[Some(0)]), 33);
        assert!(passed(&qs, 66, 66));
        assert!(!passed(&qs, 66, 67));
        assert!(!passed(&[], 100, 0), "no quiz, no self-completion");
        assert_eq!(score(&[], &[]), 0);
        assert!(q(3)
            .problems()
            .contains(&("correct", "training-error-correct")));
        let one_choice = Question {
            text: "?".into(),
            choices: vec!["a".into()],
            correct: 0,
        };
        assert!(!one_choice.problems().is_empty());
    }

    #[test]
    fn fiscal_year_labels_and_parsing() {
        assert_eq!(
            fiscal_year_label(2026, DateStyle::Wareki, Lang::Ja),
            "令和8年度"
        );
        assert_eq!(
            fiscal_year_label(2019, DateStyle::Wareki, Lang::Ja),
            "令和元年度"
        );
        assert_eq!(
            fiscal_year_label(2018, DateStyle::Wareki, Lang::Ja),
            "平成30年度"
        );
        assert_eq!(
            fiscal_year_label(2026, DateStyle::Seireki, Lang::Ja),
            "2026年度"
        );
        assert_eq!(
            fiscal_year_label(2026, DateStyle::Wareki, Lang::En),
            "FY2026"
        );
        for s in ["2026", "２０２６年度", "FY2026", "令和8年度", "R8", "r8"] {
            assert_eq!(parse_fiscal_year(s), Some(2026), "{s}");
        }
        assert_eq!(parse_fiscal_year("令和元年度"), Some(2019));
        assert_eq!(parse_fiscal_year("H30"), Some(2018));
        assert_eq!(parse_fiscal_year("来年"), None);
        assert_eq!(parse_fiscal_year("R0"), None);
    }

    #[test]
    fn materials_must_be_documents_and_match_their_names() {
        assert_eq!(material_problem("slides.pdf", b"%PDF-1.7\n"), None);
        assert_eq!(material_problem("notes.txt", "研修".as_bytes()), None);
        assert_eq!(
            material_problem("setup.exe", b"MZ\x90\0"),
            Some("training-material-type")
        );
        assert_eq!(
            material_problem("slides.pdf", b"MZ\x90\0"),
            Some("training-material-content")
        );
        assert_eq!(
            material_problem("notes.txt", b"ab\0cd"),
            Some("training-material-content")
        );
        assert_eq!(
            material_problem("page.html", b"<html>"),
            Some("training-material-type")
        );
        assert_eq!(material_problem("deck.pptx", b"PK\x03\x04"), None);
    }

    #[test]
    fn seed_courses_are_valid() {
        for c in SEED_COURSES {
            assert!(
                course_problems(
                    c.code,
                    c.title,
                    c.description,
                    c.recurrence,
                    c.onboarding,
                    c.due_days,
                    80
                )
                .is_empty(),
                "{}",
                c.code
            );
        }
        assert_eq!(SEED_COURSES[0].categories.len(), 8);
    }
}
