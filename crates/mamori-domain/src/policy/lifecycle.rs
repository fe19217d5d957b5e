//! Policy documents and their versions: layers, visibility, states and transitions
//! (`DOMAIN.md` §6).
//!
//! A version made in Mamori goes Draft → InReview → Approved → Published, and the version
//! published before it becomes Superseded. The transitions below are the only way between
//! states for such versions. **Imported historic versions** (from an existing document's
//! 改版履歴) are created directly as [`VersionState::Published`] (or Superseded) with their
//! 作成者 and 承認 kept as written: they are outside these rules, including the
//! separation-of-duties check of [`approve`].

use time::{Date, Month};

/// Why a transition was refused: a Fluent message id and its arguments.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct LifecycleRefusal {
    /// The Fluent message id (`policy-refused-…`).
    pub message: &'static str,
    /// The message's arguments.
    pub args: Vec<(&'static str, String)>,
}

impl LifecycleRefusal {
    fn new(message: &'static str) -> Self {
        LifecycleRefusal {
            message,
            args: Vec::new(),
        }
    }

    fn state(message: &'static str, state: VersionState) -> Self {
        LifecycleRefusal {
            message,
            args: vec![("state", state.code().to_string())],
        }
    }
}

impl std::fmt::Display for LifecycleRefusal {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(self.message)?;
        for (name, value) in &self.args {
            write!(f, " {name}={value:?}")?;
        }
        Ok(())
    }
}

impl std::error::Error for LifecycleRefusal {}

/// The Fluent id: only a draft can be submitted for review (arg `state`).
pub const REFUSED_NOT_DRAFT: &str = "policy-refused-not-draft";
/// The Fluent id: the version is not in review (arg `state`).
pub const REFUSED_NOT_IN_REVIEW: &str = "policy-refused-not-in-review";
/// The Fluent id: returning a version to draft needs a reason.
pub const REFUSED_REASON_REQUIRED: &str = "policy-refused-reason-required";
/// The Fluent id: the approver wrote the version.
pub const REFUSED_APPROVER_IS_AUTHOR: &str = "policy-refused-approver-is-author";
/// The Fluent id: the version is already approved.
pub const REFUSED_ALREADY_APPROVED: &str = "policy-refused-already-approved";
/// The Fluent id: only an approved version can be published (arg `state`).
pub const REFUSED_NOT_APPROVED: &str = "policy-refused-not-approved";
/// The Fluent id: only the published version can be superseded (arg `state`).
pub const REFUSED_NOT_PUBLISHED: &str = "policy-refused-not-published";

macro_rules! coded_enum {
    ($(#[$doc:meta])* $name:ident, $prefix:literal { $( $(#[$vdoc:meta])* $variant:ident = $code:literal, )* }) => {
        $(#[$doc])*
        #[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
        pub enum $name { $( $(#[$vdoc])* $variant, )* }

        impl $name {
            /// Every value, in order.
            pub const ALL: &'static [$name] = &[$($name::$variant),*];

            /// The stable code.
            pub fn code(self) -> &'static str {
                match self { $($name::$variant => $code,)* }
            }

            /// The value of a code.
            pub fn from_code(code: &str) -> Option<$name> {
                match code { $($code => Some($name::$variant),)* _ => None }
            }

            /// The Fluent message id of the label (`
            #[doc = $prefix]
            /// -<code>`).
            pub fn message_id(self) -> String {
                format!("{}-{}", $prefix, self.code())
            }
        }

        impl std::fmt::Display for $name {
            fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
                f.write_str(self.code())
            }
        }
    };
}

coded_enum! {
    /// The state of a policy version.
    VersionState, "policy-state" {
        /// Being written (下書き).
        Draft = "draft",
        /// Submitted for review (審査中).
        InReview = "in_review",
        /// Approved by the CISO, not yet published (承認済み).
        Approved = "approved",
        /// The version in force (公開中).
        Published = "published",
        /// Replaced by a later published version (旧版).
        Superseded = "superseded",
    }
}

coded_enum! {
    /// The layer of a policy document.
    DocumentLayer, "policy-layer" {
        /// 基本方針 (public).
        BasicPolicy = "basic_policy",
        /// 対策基準 (internal).
        Standards = "standards",
        /// 実施手順 (internal, per system).
        Procedures = "procedures",
    }
}

coded_enum! {
    /// Who may read a policy document.
    Visibility, "policy-visibility" {
        /// Everyone, without logging in.
        Public = "public",
        /// Any logged-in person.
        Internal = "internal",
        /// People holding one of the document's named roles, and policy editors/approvers.
        Restricted = "restricted",
    }
}

impl DocumentLayer {
    /// The Japanese name as documents write it (基本方針, 対策基準, 実施手順).
    pub fn japanese(self) -> &'static str {
        match self {
            DocumentLayer::BasicPolicy => "基本方針",
            DocumentLayer::Standards => "対策基準",
            DocumentLayer::Procedures => "実施手順",
        }
    }

    /// The visibility a new document of this layer starts with: the 基本方針 is public, the
    /// others internal (they would help an attacker).
    pub fn default_visibility(self) -> Visibility {
        match self {
            DocumentLayer::BasicPolicy => Visibility::Public,
            DocumentLayer::Standards | DocumentLayer::Procedures => Visibility::Internal,
        }
    }
}

/// Whether someone may read a document: public ones everyone; internal ones any logged-in
/// person; restricted ones logged-in people holding one of the document's named roles, and
/// policy editors/approvers.
pub fn may_read(
    visibility: Visibility,
    logged_in: bool,
    holds_named_role: bool,
    is_editor: bool,
) -> bool {
    match visibility {
        Visibility::Public => true,
        Visibility::Internal => logged_in,
        Visibility::Restricted => logged_in && (holds_named_role || is_editor),
    }
}

/// Submits a draft for review.
pub fn submit(state: VersionState) -> Result<VersionState, LifecycleRefusal> {
    match state {
        VersionState::Draft => Ok(VersionState::InReview),
        other => Err(LifecycleRefusal::state(REFUSED_NOT_DRAFT, other)),
    }
}

/// Returns a version in review to its author as a draft; the reason must not be blank.
pub fn return_to_draft(
    state: VersionState,
    reason: &str,
) -> Result<VersionState, LifecycleRefusal> {
    if state != VersionState::InReview {
        return Err(LifecycleRefusal::state(REFUSED_NOT_IN_REVIEW, state));
    }
    if reason.trim().is_empty() {
        return Err(LifecycleRefusal::new(REFUSED_REASON_REQUIRED));
    }
    Ok(VersionState::Draft)
}

/// Approves a version in review. Checked in this order: already approved (the state is
/// Approved or a recorded approver exists), not in review, approver is the author.
/// `author_person` is `None` when the author is not a person in the register (then nobody is
/// refused as the author).
pub fn approve(
    state: VersionState,
    author_person: Option<i64>,
    approver_person: i64,
    already_approved_by: Option<i64>,
) -> Result<VersionState, LifecycleRefusal> {
    if state == VersionState::Approved || already_approved_by.is_some() {
        return Err(LifecycleRefusal::new(REFUSED_ALREADY_APPROVED));
    }
    if state != VersionState::InReview {
        return Err(LifecycleRefusal::state(REFUSED_NOT_IN_REVIEW, state));
    }
    if author_person == Some(approver_person) {
        return Err(LifecycleRefusal::new(REFUSED_APPROVER_IS_AUTHOR));
    }
    Ok(VersionState::Approved)
}

/// Publishes an approved version. The document's previously published version, if any, is
/// then [`supersede`]d in the same change.
pub fn publish(state: VersionState) -> Result<VersionState, LifecycleRefusal> {
    match state {
        VersionState::Approved => Ok(VersionState::Published),
        other => Err(LifecycleRefusal::state(REFUSED_NOT_APPROVED, other)),
    }
}

/// The previously published version when a newer one is published.
pub fn supersede(state: VersionState) -> Result<VersionState, LifecycleRefusal> {
    match state {
        VersionState::Published => Ok(VersionState::Superseded),
        other => Err(LifecycleRefusal::state(REFUSED_NOT_PUBLISHED, other)),
    }
}

/// The 版数 as the 改版履歴 writes it: 1 → `初版`, n → `第n版` (the document's own Japanese
/// table content, not a user-interface string).
pub fn edition_label(number: u32) -> String {
    if number == 1 {
        "初版".to_string()
    } else {
        format!("第{number}版")
    }
}

/// The edition number of a 版数 as written (`初版` → 1, `第2版`/`第２版` → 2, `2` → 2).
pub fn parse_edition(label: &str) -> Option<u32> {
    let folded = crate::wareki::fold_fullwidth(label);
    let text = folded.trim();
    if text == "初版" {
        return Some(1);
    }
    let number = text
        .strip_prefix('第')
        .and_then(|t| t.strip_suffix('版'))
        .unwrap_or(text)
        .trim();
    if number.is_empty() || number.len() > 9 || !number.bytes().all(|b| b.is_ascii_digit()) {
        return None;
    }
    number.parse().ok().filter(|n| *n > 0)
}

/// The next review date: `interval_months` after `from`, the day clamped to the month's end
/// (2026-01-31 + 1 month = 2026-02-28). Saturates at [`Date::MAX`].
pub fn next_review(from: Date, interval_months: u32) -> Date {
    let months = i64::from(from.year()) * 12 + i64::from(u8::from(from.month())) - 1
        + i64::from(interval_months);
    let year = months.div_euclid(12);
    let month_number = months.rem_euclid(12) + 1;
    let (Ok(year), Ok(month_number)) = (i32::try_from(year), u8::try_from(month_number)) else {
        return Date::MAX;
    };
    let Ok(month) = Month::try_from(month_number) else {
        return Date::MAX;
    };
    let day = from.day().min(month.length(year));
    Date::from_calendar_date(year, month, day).unwrap_or(Date::MAX)
}
