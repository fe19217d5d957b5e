//! Policy documents (基本方針, 対策基準, 実施手順), their versions with clause trees, and the
//! acknowledgements of clause 5. The lifecycle rules live in `mamori_domain::policy`; this
//! module only stores what those rules decided.

use crate::list::{Filter, ListQuery};
use crate::{Result, Store, StoreError, WriteTx};
use mamori_domain::policy::lifecycle::VersionState;
use mamori_domain::policy::markdown::{clauses_to_rows, ClauseRow};
use mamori_domain::policy::text::{import_text, ImportedPolicy};
use mamori_domain::policy::SEED_BASIC_POLICY;
use serde_json::json;
use sqlx::any::AnyRow;
use sqlx::{FromRow, Row};

/// A document as listed and shown.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize, utoipa::ToSchema)]
pub struct DocumentRow {
    /// Row id.
    pub id: i64,
    /// Stable code (`basic-policy`).
    pub code: String,
    /// `basic_policy`, `standards` or `procedures`.
    pub layer: String,
    /// Title.
    pub title: String,
    /// `public`, `internal` or `restricted`.
    pub visibility: String,
    /// Roles that may read a restricted document.
    pub restricted_roles: Vec<String>,
    /// The system asset a 実施手順 concerns.
    pub asset_id: Option<i64>,
    /// Whether publishing asks everyone in scope to acknowledge.
    pub requires_ack: bool,
    /// Months between reviews.
    pub review_interval_months: i64,
    /// Raised by findings, incidents or an editor.
    pub review_required: bool,
    /// Why a review is required.
    pub review_reason: String,
    /// The version in force, if any.
    pub published: Option<VersionBrief>,
}

/// The few facts of a version that lists need.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize, utoipa::ToSchema)]
pub struct VersionBrief {
    /// Row id.
    pub id: i64,
    /// 1 for 初版.
    pub number: i64,
    /// 版数 as shown (初版, 第2版).
    pub edition: String,
    /// When it was published (`YYYY-MM-DD`).
    pub published_on: Option<String>,
}

/// New or changed document settings.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct DocumentInput {
    /// Stable code.
    pub code: String,
    /// Layer code.
    pub layer: String,
    /// Title.
    pub title: String,
    /// Visibility code.
    pub visibility: String,
    /// Roles for a restricted document.
    pub restricted_roles: Vec<String>,
    /// Linked system asset.
    pub asset_id: Option<i64>,
    /// Acknowledgement on publication.
    pub requires_ack: bool,
    /// Review interval in months.
    pub review_interval_months: i64,
}

/// One version of a document.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize, utoipa::ToSchema)]
pub struct VersionRow {
    /// Row id.
    pub id: i64,
    /// The document.
    pub document_id: i64,
    /// 1 for 初版.
    pub number: i64,
    /// 版数 as shown.
    pub edition: String,
    /// Lifecycle state code.
    pub state: String,
    /// Markdown body.
    pub body: String,
    /// What changed, in the author's words.
    pub change_summary: String,
    /// 作成日 (`YYYY-MM-DD`).
    pub created_on: String,
    /// Author (a user), for versions made in Mamori.
    pub author_user_id: Option<i64>,
    /// 作成者 as shown: the historic text, or the author's display name.
    pub author: String,
    /// Approver (a user), for versions made in Mamori.
    pub approver_user_id: Option<i64>,
    /// 承認 as written, for imported versions.
    pub approval_text: String,
    /// Approver's display name.
    pub approver: String,
    /// Date of approval.
    pub approved_on: Option<String>,
    /// Date of publication.
    pub published_on: Option<String>,
    /// Why it was sent back to draft.
    pub return_reason: String,
    /// Imported from an existing document (historic 作成者 and 承認).
    pub imported: bool,
}

impl VersionRow {
    /// The lifecycle state.
    pub fn state(&self) -> VersionState {
        VersionState::from_code(&self.state).unwrap_or(VersionState::Draft)
    }
}

/// A version to store.
#[derive(Debug, Clone)]
pub struct NewVersion<'a> {
    /// Markdown body.
    pub body: &'a str,
    /// Its clause outline.
    pub clauses: &'a [ClauseRow],
    /// What changed.
    pub change_summary: &'a str,
    /// 作成日.
    pub created_on: &'a str,
    /// The author, for versions made in Mamori.
    pub author_user_id: Option<i64>,
    /// Historic imported facts (作成者, 承認 text, 承認 date, 版数); `None` for a new draft.
    pub historic: Option<HistoricFacts<'a>>,
}

/// What an imported version keeps as written.
#[derive(Debug, Clone, Copy)]
pub struct HistoricFacts<'a> {
    /// 版数.
    pub edition: &'a str,
    /// 作成者.
    pub author: &'a str,
    /// 承認.
    pub approval: &'a str,
    /// Approval date, when the text is a date.
    pub approved_on: Option<&'a str>,
    /// Whether this version is the one in force (published) or an earlier one (superseded).
    pub in_force: bool,
}

/// A clause as stored.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize, utoipa::ToSchema, sqlx::FromRow)]
pub struct StoredClause {
    /// `6(8)`.
    pub anchor: String,
    /// Parent anchor.
    pub parent: Option<String>,
    /// 0 for top clauses.
    pub depth: i64,
    /// Order within the version.
    pub ordinal: i64,
    /// `6.`, `(8)`, `①`.
    pub label: String,
    /// Title, for clauses that have one.
    pub title: Option<String>,
    /// Text.
    pub body: String,
}

/// A version someone still has to acknowledge.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize, utoipa::ToSchema, sqlx::FromRow)]
pub struct PendingAcknowledgement {
    /// Document code.
    pub document_code: String,
    /// Document title.
    pub title: String,
    /// Version id.
    pub version_id: i64,
    /// Version number.
    pub number: i64,
    /// 版数.
    pub edition: String,
    /// When the last reminder was sent, if any.
    pub reminded_at: Option<String>,
}

/// Completion of one group (a unit or an employment category).
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize, utoipa::ToSchema, sqlx::FromRow)]
pub struct CompletionRow {
    /// Unit or category code.
    pub code: String,
    /// Its name.
    pub name: String,
    /// People in scope.
    pub total: i64,
    /// Of whom acknowledged.
    pub done: i64,
}

/// One person's acknowledgement status for a version (lists and exports).
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize, utoipa::ToSchema, sqlx::FromRow)]
pub struct AcknowledgementRow {
    /// Document code.
    pub document_code: String,
    /// 版数.
    pub edition: String,
    /// Version number.
    pub number: i64,
    /// 職員番号.
    pub staff_id: String,
    /// Name.
    pub name: String,
    /// Unit code.
    pub unit_code: String,
    /// Unit name.
    pub unit_name: String,
    /// Employment category code.
    pub category: String,
    /// When acknowledged (RFC 3339), or `None` while outstanding.
    pub acknowledged_at: Option<String>,
    /// The address it was confirmed from.
    pub source: Option<String>,
}

/// Which acknowledgement rows to list.
#[derive(Debug, Clone, Default)]
pub struct AcknowledgementFilter {
    /// The version (required).
    pub version_id: i64,
    /// Only people of this unit.
    pub unit_id: Option<i64>,
    /// Only this employment category.
    pub category: Option<String>,
    /// `Some(true)`: acknowledged only; `Some(false)`: outstanding only.
    pub acknowledged: Option<bool>,
    /// Units the reader may see (`None`: all).
    pub visible_units: Option<Vec<i64>>,
}

const DOCUMENT_COLUMNS: &str = "d.id, d.code, d.layer, d.title, d.visibility, d.restricted_roles, \
    d.asset_id, d.requires_ack, d.review_interval_months, d.review_required, d.review_reason, \
    v.id AS v_id, v.number AS v_number, v.edition AS v_edition, v.published_on AS v_published_on";
const DOCUMENT_FROM: &str = "FROM documents d LEFT JOIN document_versions v \
    ON v.document_id = d.id AND v.state = 'published'";

fn document_from_row(r: &AnyRow) -> Result<DocumentRow> {
    let roles: String = r.try_get("restricted_roles")?;
    let v_id: Option<i64> = r.try_get("v_id")?;
    let published = match v_id {
        Some(id) => Some(VersionBrief {
            id,
            number: r.try_get("v_number")?,
            edition: r.try_get("v_edition")?,
            published_on: r.try_get("v_published_on")?,
        }),
        None => None,
    };
    Ok(DocumentRow {
        id: r.try_get("id")?,
        code: r.try_get("code")?,
        layer: r.try_get("layer")?,
        title: r.try_get("title")?,
        visibility: r.try_get("visibility")?,
        restricted_roles: roles.split_whitespace().map(str::to_owned).collect(),
        asset_id: r.try_get("asset_id")?,
        requires_ack: r.try_get::<i64, _>("requires_ack")? != 0,
        review_interval_months: r.try_get("review_interval_months")?,
        review_required: r.try_get::<i64, _>("review_required")? != 0,
        review_reason: r.try_get("review_reason")?,
        published,
    })
}

const VERSION_COLUMNS: &str = "v.id, v.document_id, v.number, v.edition, v.state, v.body, \
    v.change_summary, v.created_on, v.author_user_id, v.author_text, a.display_name AS author_name, \
    v.approver_user_id, v.approval_text, p.display_name AS approver_name, v.approved_on, \
    v.published_on, v.return_reason, v.imported";
const VERSION_FROM: &str = "FROM document_versions v LEFT JOIN users a ON a.id = v.author_user_id \
    LEFT JOIN users p ON p.id = v.approver_user_id";

fn version_from_row(r: &AnyRow) -> Result<VersionRow> {
    let author_text: String = r.try_get("author_text")?;
    let author_name: Option<String> = r.try_get("author_name")?;
    let approver_name: Option<String> = r.try_get("approver_name")?;
    Ok(VersionRow {
        id: r.try_get("id")?,
        document_id: r.try_get("document_id")?,
        number: r.try_get("number")?,
        edition: r.try_get("edition")?,
        state: r.try_get("state")?,
        body: r.try_get("body")?,
        change_summary: r.try_get("change_summary")?,
        created_on: r.try_get("created_on")?,
        author_user_id: r.try_get("author_user_id")?,
        author: author_name.unwrap_or(author_text),
        approver_user_id: r.try_get("approver_user_id")?,
        approval_text: r.try_get("approval_text")?,
        approver: approver_name.unwrap_or_default(),
        approved_on: r.try_get("approved_on")?,
        published_on: r.try_get("published_on")?,
        return_reason: r.try_get("return_reason")?,
        imported: r.try_get::<i64, _>("imported")? != 0,
    })
}

/// People to whom acknowledgement applies on `today`: active, joined, in a unit in scope.
fn in_scope_people(today_param: &str) -> String {
    format!(
        "p.unit_id IN (SELECT id FROM units WHERE in_scope = 1) \
         AND (p.left_on IS NULL OR p.left_on = '' OR p.left_on > {today_param}) \
         AND (p.joined_on IS NULL OR p.joined_on = '' OR p.joined_on <= {today_param})"
    )
}

impl Store {
    /// Every document, in order.
    pub async fn documents(&self) -> Result<Vec<DocumentRow>> {
        let sql = format!("SELECT {DOCUMENT_COLUMNS} {DOCUMENT_FROM} ORDER BY d.sort_order, d.id");
        let rows = sqlx::query(&sql).fetch_all(&self.pool).await?;
        rows.iter().map(document_from_row).collect()
    }

    /// One document by code.
    pub async fn document_by_code(&self, code: &str) -> Result<Option<DocumentRow>> {
        let sql = format!("SELECT {DOCUMENT_COLUMNS} {DOCUMENT_FROM} WHERE d.code = $1");
        let row = sqlx::query(&sql)
            .bind(code)
            .fetch_optional(&self.pool)
            .await?;
        row.as_ref().map(document_from_row).transpose()
    }

    /// One document by id.
    pub async fn document(&self, id: i64) -> Result<Option<DocumentRow>> {
        let sql = format!("SELECT {DOCUMENT_COLUMNS} {DOCUMENT_FROM} WHERE d.id = $1");
        let row = sqlx::query(&sql)
            .bind(id)
            .fetch_optional(&self.pool)
            .await?;
        row.as_ref().map(document_from_row).transpose()
    }

    /// Creates a document (no versions yet).
    pub async fn create_document(tx: &mut WriteTx, input: &DocumentInput) -> Result<i64> {
        let taken: Option<i64> = sqlx::query_scalar("SELECT id FROM documents WHERE code = $1")
            .bind(&input.code)
            .fetch_optional(tx.conn())
            .await?;
        if taken.is_some() {
            return Err(StoreError::Duplicate("code"));
        }
        let now = crate::format_ts(time::OffsetDateTime::now_utc());
        let order: i64 =
            sqlx::query_scalar("SELECT COALESCE(MAX(sort_order), 0) + 1 FROM documents")
                .fetch_one(tx.conn())
                .await?;
        let id: i64 = sqlx::query_scalar(
            "INSERT INTO documents (code, layer, title, visibility, restricted_roles, asset_id, \
             requires_ack, review_interval_months, sort_order, created_at, updated_at) \
             VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $10) RETURNING id",
        )
        .bind(&input.code)
        .bind(&input.layer)
        .bind(&input.title)
        .bind(&input.visibility)
        .bind(input.restricted_roles.join(" "))
        .bind(input.asset_id)
        .bind(i64::from(input.requires_ack))
        .bind(input.review_interval_months)
        .bind(order)
        .bind(&now)
        .fetch_one(tx.conn())
        .await?;
        tx.audit(
            "document.create",
            "document",
            &input.code,
            None,
            Some(document_json(input)),
        )
        .await?;
        Ok(id)
    }

    /// Changes a document's settings (not its code).
    pub async fn update_document(
        tx: &mut WriteTx,
        before: &DocumentRow,
        input: &DocumentInput,
    ) -> Result<()> {
        let now = crate::format_ts(time::OffsetDateTime::now_utc());
        sqlx::query(
            "UPDATE documents SET layer = $1, title = $2, visibility = $3, restricted_roles = $4, \
             asset_id = $5, requires_ack = $6, review_interval_months = $7, updated_at = $8 \
             WHERE id = $9",
        )
        .bind(&input.layer)
        .bind(&input.title)
        .bind(&input.visibility)
        .bind(input.restricted_roles.join(" "))
        .bind(input.asset_id)
        .bind(i64::from(input.requires_ack))
        .bind(input.review_interval_months)
        .bind(&now)
        .bind(before.id)
        .execute(tx.conn())
        .await?;
        let old = DocumentInput {
            code: before.code.clone(),
            layer: before.layer.clone(),
            title: before.title.clone(),
            visibility: before.visibility.clone(),
            restricted_roles: before.restricted_roles.clone(),
            asset_id: before.asset_id,
            requires_ack: before.requires_ack,
            review_interval_months: before.review_interval_months,
        };
        tx.audit(
            "document.update",
            "document",
            &before.code,
            Some(document_json(&old)),
            Some(document_json(input)),
        )
        .await?;
        Ok(())
    }

    /// Raises (or, with `None`, clears) the "review required" flag of a document with its
    /// reason. This is the one mechanism findings, incidents and editors use.
    pub async fn flag_document_review(
        tx: &mut WriteTx,
        document_id: i64,
        reason: Option<&str>,
    ) -> Result<()> {
        let code: Option<String> = sqlx::query_scalar("SELECT code FROM documents WHERE id = $1")
            .bind(document_id)
            .fetch_optional(tx.conn())
            .await?;
        let code = code.ok_or(StoreError::Missing("document"))?;
        let now = crate::format_ts(time::OffsetDateTime::now_utc());
        sqlx::query(
            "UPDATE documents SET review_required = $1, review_reason = $2, updated_at = $3 WHERE id = $4",
        )
        .bind(i64::from(reason.is_some()))
        .bind(reason.unwrap_or(""))
        .bind(&now)
        .bind(document_id)
        .execute(tx.conn())
        .await?;
        let action = if reason.is_some() {
            "document.review_required"
        } else {
            "document.review_cleared"
        };
        tx.audit(
            action,
            "document",
            &code,
            None,
            Some(json!({ "reason": reason })),
        )
        .await?;
        Ok(())
    }

    /// Every version of a document, newest first.
    pub async fn versions(&self, document_id: i64) -> Result<Vec<VersionRow>> {
        let sql = format!(
            "SELECT {VERSION_COLUMNS} {VERSION_FROM} WHERE v.document_id = $1 ORDER BY v.number DESC"
        );
        let rows = sqlx::query(&sql)
            .bind(document_id)
            .fetch_all(&self.pool)
            .await?;
        rows.iter().map(version_from_row).collect()
    }

    /// One version by its document and number.
    pub async fn version(&self, document_id: i64, number: i64) -> Result<Option<VersionRow>> {
        let sql = format!(
            "SELECT {VERSION_COLUMNS} {VERSION_FROM} WHERE v.document_id = $1 AND v.number = $2"
        );
        let row = sqlx::query(&sql)
            .bind(document_id)
            .bind(number)
            .fetch_optional(&self.pool)
            .await?;
        row.as_ref().map(version_from_row).transpose()
    }

    /// One version by id.
    pub async fn version_by_id(&self, id: i64) -> Result<Option<VersionRow>> {
        let sql = format!("SELECT {VERSION_COLUMNS} {VERSION_FROM} WHERE v.id = $1");
        let row = sqlx::query(&sql)
            .bind(id)
            .fetch_optional(&self.pool)
            .await?;
        row.as_ref().map(version_from_row).transpose()
    }

    /// The clause tree of a version, in document order.
    pub async fn clauses(&self, version_id: i64) -> Result<Vec<StoredClause>> {
        Ok(sqlx::query_as(
            "SELECT anchor, parent, depth, ordinal, label, title, body FROM document_clauses \
             WHERE version_id = $1 ORDER BY ordinal",
        )
        .bind(version_id)
        .fetch_all(&self.pool)
        .await?)
    }

    /// Adds a version as the next number: a draft, or (for imports) a historic version as
    /// written. A historic version in force supersedes the version published before it.
    pub async fn add_version(
        tx: &mut WriteTx,
        document_id: i64,
        version: &NewVersion<'_>,
    ) -> Result<i64> {
        let doc_code: Option<String> =
            sqlx::query_scalar("SELECT code FROM documents WHERE id = $1")
                .bind(document_id)
                .fetch_optional(tx.conn())
                .await?;
        let doc_code = doc_code.ok_or(StoreError::Missing("document"))?;
        let number: i64 = sqlx::query_scalar(
            "SELECT COALESCE(MAX(number), 0) + 1 FROM document_versions WHERE document_id = $1",
        )
        .bind(document_id)
        .fetch_one(tx.conn())
        .await?;
        let now = crate::format_ts(time::OffsetDateTime::now_utc());
        let (edition, state, author_text, approval_text, approved_on, published_on, imported) =
            match &version.historic {
                Some(h) => (
                    h.edition.to_owned(),
                    if h.in_force {
                        VersionState::Published
                    } else {
                        VersionState::Superseded
                    },
                    h.author.to_owned(),
                    h.approval.to_owned(),
                    h.approved_on.map(str::to_owned),
                    h.approved_on.map(str::to_owned),
                    1,
                ),
                None => (
                    mamori_domain::policy::lifecycle::edition_label(
                        u32::try_from(number).unwrap_or(u32::MAX),
                    ),
                    VersionState::Draft,
                    String::new(),
                    String::new(),
                    None,
                    None,
                    0,
                ),
            };
        if state == VersionState::Published {
            supersede_published(tx, document_id).await?;
        }
        let id: i64 = sqlx::query_scalar(
            "INSERT INTO document_versions (document_id, number, edition, state, body, \
             change_summary, created_on, author_user_id, author_text, approval_text, approved_on, \
             published_on, imported, created_at, updated_at) \
             VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13, $14, $14) RETURNING id",
        )
        .bind(document_id)
        .bind(number)
        .bind(&edition)
        .bind(state.code())
        .bind(version.body)
        .bind(version.change_summary)
        .bind(version.created_on)
        .bind(version.author_user_id)
        .bind(&author_text)
        .bind(&approval_text)
        .bind(&approved_on)
        .bind(&published_on)
        .bind(imported)
        .bind(&now)
        .fetch_one(tx.conn())
        .await?;
        write_clauses(tx, id, version.clauses).await?;
        tx.audit(
            if imported == 1 {
                "document_version.import"
            } else {
                "document_version.create"
            },
            "document_version",
            &format!("{doc_code}/{number}"),
            None,
            Some(json!({
                "edition": edition,
                "state": state.code(),
                "created_on": version.created_on,
                "author": author_text,
                "approval": approval_text,
                "change_summary": version.change_summary,
                "body_sha256": sha256_hex(version.body),
                "clauses": version.clauses.len(),
            })),
        )
        .await?;
        Ok(id)
    }

    /// Replaces the body of a draft (refused for any other state).
    pub async fn update_draft(
        tx: &mut WriteTx,
        before: &VersionRow,
        body: &str,
        clauses: &[ClauseRow],
        change_summary: &str,
    ) -> Result<()> {
        let now = crate::format_ts(time::OffsetDateTime::now_utc());
        let changed = sqlx::query(
            "UPDATE document_versions SET body = $1, change_summary = $2, updated_at = $3 \
             WHERE id = $4 AND state = 'draft'",
        )
        .bind(body)
        .bind(change_summary)
        .bind(&now)
        .bind(before.id)
        .execute(tx.conn())
        .await?
        .rows_affected();
        if changed != 1 {
            return Err(StoreError::Rule("policy-refused-not-draft"));
        }
        sqlx::query("DELETE FROM document_clauses WHERE version_id = $1")
            .bind(before.id)
            .execute(tx.conn())
            .await?;
        write_clauses(tx, before.id, clauses).await?;
        tx.audit(
            "document_version.edit",
            "document_version",
            &before.id.to_string(),
            Some(json!({"body_sha256": sha256_hex(&before.body), "change_summary": before.change_summary})),
            Some(json!({"body_sha256": sha256_hex(body), "change_summary": change_summary})),
        )
        .await?;
        Ok(())
    }

    /// Moves a version from `before.state` to `to` (already decided by the domain's lifecycle
    /// rules), recording the approver, dates and reason that go with the move. The update is
    /// conditional on the state read, so two racing approvals cannot both succeed.
    pub async fn move_version(
        tx: &mut WriteTx,
        before: &VersionRow,
        to: VersionState,
        by_user: Option<i64>,
        on_date: &str,
        reason: &str,
    ) -> Result<()> {
        if to == VersionState::Published {
            supersede_published(tx, before.document_id).await?;
        }
        let now = crate::format_ts(time::OffsetDateTime::now_utc());
        // $1 state, $2 updated_at, $3 id, $4 state read; then what goes with the move.
        let query = match to {
            VersionState::Approved => sqlx::query(
                "UPDATE document_versions SET state = $1, updated_at = $2, approver_user_id = $5, \
                 approved_on = $6 WHERE id = $3 AND state = $4",
            ),
            VersionState::Published => sqlx::query(
                "UPDATE document_versions SET state = $1, updated_at = $2, published_on = $5 \
                 WHERE id = $3 AND state = $4",
            ),
            VersionState::Draft => sqlx::query(
                "UPDATE document_versions SET state = $1, updated_at = $2, return_reason = $5 \
                 WHERE id = $3 AND state = $4",
            ),
            _ => sqlx::query(
                "UPDATE document_versions SET state = $1, updated_at = $2 WHERE id = $3 AND state = $4",
            ),
        }
        .bind(to.code())
        .bind(&now)
        .bind(before.id)
        .bind(&before.state);
        let query = match to {
            VersionState::Approved => query.bind(by_user).bind(on_date),
            VersionState::Published => query.bind(on_date),
            VersionState::Draft => query.bind(reason),
            _ => query,
        };
        let changed = query.execute(tx.conn()).await?.rows_affected();
        if changed != 1 {
            return Err(StoreError::Rule("policy-refused-changed-meanwhile"));
        }
        tx.audit(
            &format!("document_version.{}", to.code()),
            "document_version",
            &before.id.to_string(),
            Some(json!({"state": before.state})),
            Some(
                json!({"state": to.code(), "date": on_date, "reason": reason, "by_user": by_user}),
            ),
        )
        .await?;
        Ok(())
    }

    /// The versions in force that `person_id` has not acknowledged yet, given today's date
    /// (`YYYY-MM-DD`). Empty for people out of scope.
    pub async fn pending_acknowledgements(
        &self,
        person_id: i64,
        today: &str,
    ) -> Result<Vec<PendingAcknowledgement>> {
        let sql = format!(
            "SELECT d.code AS document_code, d.title, v.id AS version_id, v.number, v.edition, \
               (SELECT MAX(r.sent_at) FROM acknowledgement_reminders r WHERE r.version_id = v.id \
                  AND (r.unit_id IS NULL OR r.unit_id = p.unit_id)) AS reminded_at \
             FROM people p \
             JOIN document_versions v ON v.state = 'published' \
             JOIN documents d ON d.id = v.document_id AND d.requires_ack = 1 \
             WHERE p.id = $1 AND {} \
               AND NOT EXISTS (SELECT 1 FROM acknowledgements k WHERE k.version_id = v.id AND k.person_id = p.id) \
             ORDER BY d.sort_order, d.id",
            in_scope_people("$2")
        );
        Ok(sqlx::query_as(&sql)
            .bind(person_id)
            .bind(today)
            .fetch_all(&self.pool)
            .await?)
    }

    /// Records that `person_id` read and confirmed `version`. Refused unless the version is
    /// in force and requires acknowledgement; a repeated confirmation changes nothing and
    /// returns `false`.
    pub async fn acknowledge(
        tx: &mut WriteTx,
        version: &VersionRow,
        person_id: i64,
        user_id: Option<i64>,
        source: &str,
    ) -> Result<bool> {
        if version.state() != VersionState::Published {
            return Err(StoreError::Rule("ack-refused-not-in-force"));
        }
        let exists: Option<i64> = sqlx::query_scalar(
            "SELECT person_id FROM acknowledgements WHERE version_id = $1 AND person_id = $2",
        )
        .bind(version.id)
        .bind(person_id)
        .fetch_optional(tx.conn())
        .await?;
        if exists.is_some() {
            return Ok(false);
        }
        let now = crate::format_ts(time::OffsetDateTime::now_utc());
        sqlx::query(
            "INSERT INTO acknowledgements (version_id, person_id, acknowledged_at, source, user_id) \
             VALUES ($1, $2, $3, $4, $5)",
        )
        .bind(version.id)
        .bind(person_id)
        .bind(&now)
        .bind(source)
        .bind(user_id)
        .execute(tx.conn())
        .await?;
        let staff_id: Option<String> =
            sqlx::query_scalar("SELECT staff_id FROM people WHERE id = $1")
                .bind(person_id)
                .fetch_optional(tx.conn())
                .await?;
        tx.audit(
            "acknowledgement.confirm",
            "document_version",
            &version.id.to_string(),
            None,
            Some(json!({
                "staff_id": staff_id,
                "edition": version.edition,
                "at": now,
                "source": source,
            })),
        )
        .await?;
        Ok(true)
    }

    /// Completion of `version_id` by unit and by employment category, for people in scope on
    /// `today`; `visible_units` limits the units counted.
    pub async fn acknowledgement_completion(
        &self,
        version_id: i64,
        today: &str,
        visible_units: Option<&[i64]>,
    ) -> Result<(Vec<CompletionRow>, Vec<CompletionRow>)> {
        let unit_limit = match visible_units {
            Some([]) => " AND 1 = 0".to_owned(),
            Some(ids) => format!(
                " AND p.unit_id IN ({})",
                ids.iter()
                    .map(i64::to_string)
                    .collect::<Vec<_>>()
                    .join(", ")
            ),
            None => String::new(),
        };
        let scope = in_scope_people("$2");
        let done = "CAST(SUM(CASE WHEN k.person_id IS NULL THEN 0 ELSE 1 END) AS BIGINT)";
        let by_unit = format!(
            "SELECT u.code AS code, u.name AS name, COUNT(*) AS total, {done} AS done \
             FROM people p JOIN units u ON u.id = p.unit_id \
             LEFT JOIN acknowledgements k ON k.version_id = $1 AND k.person_id = p.id \
             WHERE {scope}{unit_limit} GROUP BY u.code, u.name, u.sort_order ORDER BY u.sort_order, u.code"
        );
        let by_category = format!(
            "SELECT c.code AS code, c.label_ja AS name, COUNT(*) AS total, {done} AS done \
             FROM people p JOIN employment_categories c ON c.code = p.category \
             LEFT JOIN acknowledgements k ON k.version_id = $1 AND k.person_id = p.id \
             WHERE {scope}{unit_limit} GROUP BY c.code, c.label_ja, c.sort_order ORDER BY c.sort_order"
        );
        let read = |sql: String| async move {
            sqlx::query_as::<_, CompletionRow>(&sql)
                .bind(version_id)
                .bind(today)
                .fetch_all(&self.pool)
                .await
        };
        Ok((read(by_unit).await?, read(by_category).await?))
    }

    /// One page of people with their acknowledgement status for a version.
    pub async fn acknowledgements_page(
        &self,
        filter: &AcknowledgementFilter,
        today: &str,
        limit: i64,
        offset: i64,
    ) -> Result<(Vec<AcknowledgementRow>, i64)> {
        let (f, query) = acknowledgement_query(filter, today);
        query
            .page(&self.pool, &f, limit, offset, acknowledgement_from_row)
            .await
    }

    /// Every matching row, streamed (exports).
    pub async fn for_each_acknowledgement(
        &self,
        filter: &AcknowledgementFilter,
        today: &str,
        sink: impl FnMut(AcknowledgementRow) -> Result<()>,
    ) -> Result<()> {
        let (f, query) = acknowledgement_query(filter, today);
        query
            .for_each(&self.pool, &f, acknowledgement_from_row, sink)
            .await
    }

    /// Records a reminder to those who have not acknowledged `version_id` (of one unit, or
    /// everyone); their banner shows it.
    pub async fn remind_acknowledgement(
        tx: &mut WriteTx,
        version_id: i64,
        unit_id: Option<i64>,
        user_id: Option<i64>,
        message: &str,
    ) -> Result<()> {
        let now = crate::format_ts(time::OffsetDateTime::now_utc());
        sqlx::query(
            "INSERT INTO acknowledgement_reminders (version_id, unit_id, message, sent_by, sent_at) \
             VALUES ($1, $2, $3, $4, $5)",
        )
        .bind(version_id)
        .bind(unit_id)
        .bind(message)
        .bind(user_id)
        .bind(&now)
        .execute(tx.conn())
        .await?;
        tx.audit(
            "acknowledgement.remind",
            "document_version",
            &version_id.to_string(),
            None,
            Some(json!({"unit_id": unit_id, "message": message})),
        )
        .await?;
        Ok(())
    }
}

fn acknowledgement_query(
    filter: &AcknowledgementFilter,
    today: &str,
) -> (Filter, ListQuery<'static>) {
    let mut f = Filter::default();
    f.raw(format!("v.id = {}", filter.version_id));
    f.add(
        "(p.left_on IS NULL OR p.left_on = '' OR p.left_on > ?)",
        today,
    );
    f.add(
        "(p.joined_on IS NULL OR p.joined_on = '' OR p.joined_on <= ?)",
        today,
    );
    f.raw("u.in_scope = 1".into());
    if let Some(unit) = filter.unit_id {
        f.raw(format!("p.unit_id = {unit}"));
    }
    if let Some(units) = &filter.visible_units {
        if units.is_empty() {
            f.raw("1 = 0".into());
        } else {
            f.raw(format!(
                "p.unit_id IN ({})",
                units
                    .iter()
                    .map(i64::to_string)
                    .collect::<Vec<_>>()
                    .join(", ")
            ));
        }
    }
    f.eq("p.category", filter.category.as_deref());
    match filter.acknowledged {
        Some(true) => f.raw("k.person_id IS NOT NULL".into()),
        Some(false) => f.raw("k.person_id IS NULL".into()),
        None => {}
    }
    let query = ListQuery {
        columns:
            "d.code AS document_code, v.edition, v.number, p.staff_id, p.name, \
                  u.code AS unit_code, u.name AS unit_name, p.category, k.acknowledged_at, k.source",
        from: "FROM people p JOIN units u ON u.id = p.unit_id \
               JOIN document_versions v ON 1 = 1 JOIN documents d ON d.id = v.document_id \
               LEFT JOIN acknowledgements k ON k.version_id = v.id AND k.person_id = p.id",
        order: "u.sort_order, u.code, p.staff_id",
        count_from: None,
    };
    (f, query)
}

fn acknowledgement_from_row(r: &AnyRow) -> Result<AcknowledgementRow> {
    Ok(AcknowledgementRow::from_row(r)?)
}

async fn supersede_published(tx: &mut WriteTx, document_id: i64) -> Result<()> {
    let published: Option<i64> = sqlx::query_scalar(
        "SELECT id FROM document_versions WHERE document_id = $1 AND state = 'published'",
    )
    .bind(document_id)
    .fetch_optional(tx.conn())
    .await?;
    if let Some(id) = published {
        let now = crate::format_ts(time::OffsetDateTime::now_utc());
        sqlx::query(
            "UPDATE document_versions SET state = 'superseded', updated_at = $1 WHERE id = $2",
        )
        .bind(&now)
        .bind(id)
        .execute(tx.conn())
        .await?;
        tx.audit(
            "document_version.superseded",
            "document_version",
            &id.to_string(),
            Some(json!({"state": "published"})),
            Some(json!({"state": "superseded"})),
        )
        .await?;
    }
    Ok(())
}

async fn write_clauses(tx: &mut WriteTx, version_id: i64, clauses: &[ClauseRow]) -> Result<()> {
    for c in clauses {
        sqlx::query(
            "INSERT INTO document_clauses (version_id, anchor, parent, depth, ordinal, label, title, body) \
             VALUES ($1, $2, $3, $4, $5, $6, $7, $8)",
        )
        .bind(version_id)
        .bind(&c.anchor)
        .bind(&c.parent)
        .bind(i64::from(c.depth))
        .bind(i64::from(c.ordinal))
        .bind(&c.label)
        .bind(&c.title)
        .bind(&c.text)
        .execute(tx.conn())
        .await?;
    }
    Ok(())
}

fn document_json(d: &DocumentInput) -> serde_json::Value {
    json!({
        "layer": d.layer,
        "title": d.title,
        "visibility": d.visibility,
        "restricted_roles": d.restricted_roles,
        "asset_id": d.asset_id,
        "requires_ack": d.requires_ack,
        "review_interval_months": d.review_interval_months,
    })
}

fn sha256_hex(text: &str) -> String {
    use sha2::Digest;
    hex::encode(sha2::Sha256::digest(text.as_bytes()))
}

/// The code of the basic policy, the document imported on first start.
pub const BASIC_POLICY_CODE: &str = "basic-policy";

impl Store {
    /// Records an imported document's 改版履歴 as its versions, as written: every row but the
    /// last is kept as history (no text), the last carries the text and is the version in
    /// force. Used on first start for the organisation's own policy.
    pub async fn import_policy_history(
        tx: &mut WriteTx,
        document_id: i64,
        imported: &ImportedPolicy,
    ) -> Result<i64> {
        let clauses = clauses_to_rows(&imported.clauses);
        let last = imported.history.len().saturating_sub(1);
        let mut in_force = None;
        for (i, row) in imported.history.iter().enumerate() {
            let created_on = row
                .created_on
                .map(|d| d.to_string())
                .unwrap_or_else(today_utc);
            let approved_on = row.approved_on.map(|d| d.to_string());
            let is_last = i == last;
            let id = Store::add_version(
                tx,
                document_id,
                &NewVersion {
                    body: if is_last { &imported.body_markdown } else { "" },
                    clauses: if is_last { &clauses } else { &[] },
                    change_summary: "",
                    created_on: &created_on,
                    author_user_id: None,
                    historic: Some(HistoricFacts {
                        edition: &row.edition,
                        author: &row.author,
                        approval: &row.approval,
                        approved_on: approved_on.as_deref(),
                        in_force: is_last,
                    }),
                },
            )
            .await?;
            if is_last {
                in_force = Some(id);
            }
        }
        in_force.ok_or(StoreError::Rule("policy-import-no-history"))
    }

    /// Puts an imported document in force as its 改版履歴 says (another organisation's own
    /// policy, say). When everything the document holds so far was imported and nobody has
    /// acknowledged it (the starting content of a fresh installation), those versions are
    /// replaced, so the 改版履歴 is the file's own; otherwise the imported versions are added
    /// and supersede the version in force, and history stays. Returns whether it replaced,
    /// and the id of the version now in force.
    pub async fn import_policy_in_force(
        tx: &mut WriteTx,
        document_id: i64,
        imported: &ImportedPolicy,
    ) -> Result<(bool, i64)> {
        let own_versions: i64 = sqlx::query_scalar(
            "SELECT COUNT(*) FROM document_versions WHERE document_id = $1 AND imported = 0",
        )
        .bind(document_id)
        .fetch_one(tx.conn())
        .await?;
        let acknowledged: i64 = sqlx::query_scalar(
            "SELECT COUNT(*) FROM acknowledgements k JOIN document_versions v ON v.id = k.version_id \
             WHERE v.document_id = $1",
        )
        .bind(document_id)
        .fetch_one(tx.conn())
        .await?;
        let replace = own_versions == 0 && acknowledged == 0;
        if replace {
            let editions: Vec<String> = sqlx::query_scalar(
                "SELECT edition FROM document_versions WHERE document_id = $1 ORDER BY number",
            )
            .bind(document_id)
            .fetch_all(tx.conn())
            .await?;
            for table in ["document_clauses", "acknowledgement_reminders"] {
                sqlx::query(&format!(
                    "DELETE FROM {table} WHERE version_id IN \
                     (SELECT id FROM document_versions WHERE document_id = $1)"
                ))
                .bind(document_id)
                .execute(tx.conn())
                .await?;
            }
            sqlx::query("DELETE FROM document_versions WHERE document_id = $1")
                .bind(document_id)
                .execute(tx.conn())
                .await?;
            sqlx::query("UPDATE documents SET title = $1, updated_at = $2 WHERE id = $3")
                .bind(&imported.title)
                .bind(crate::format_ts(time::OffsetDateTime::now_utc()))
                .bind(document_id)
                .execute(tx.conn())
                .await?;
            tx.audit(
                "document.replace_imported",
                "document",
                &document_id.to_string(),
                Some(json!({ "editions": editions })),
                Some(json!({ "title": imported.title, "organisation": imported.organisation })),
            )
            .await?;
        }
        let id = Store::import_policy_history(tx, document_id, imported).await?;
        Ok((replace, id))
    }

    /// Adds an imported document's text as a new draft version of `document_id`.
    pub async fn import_policy_draft(
        tx: &mut WriteTx,
        document_id: i64,
        imported: &ImportedPolicy,
        author_user_id: Option<i64>,
        summary: &str,
    ) -> Result<i64> {
        let clauses = clauses_to_rows(&imported.clauses);
        Store::add_version(
            tx,
            document_id,
            &NewVersion {
                body: &imported.body_markdown,
                clauses: &clauses,
                change_summary: summary,
                created_on: &today_utc(),
                author_user_id,
                historic: None,
            },
        )
        .await
    }

    /// On first start: the organisation's own basic policy, published as its 改版履歴 says.
    pub(crate) async fn seed_basic_policy(tx: &mut WriteTx) -> Result<bool> {
        let any: i64 = sqlx::query_scalar("SELECT COUNT(*) FROM documents")
            .fetch_one(tx.conn())
            .await?;
        if any > 0 {
            return Ok(false);
        }
        let imported = import_text(SEED_BASIC_POLICY)
            .map_err(|_| StoreError::Rule("policy-import-seed-unreadable"))?;
        let id = Store::create_document(
            tx,
            &DocumentInput {
                code: BASIC_POLICY_CODE.into(),
                layer: "basic_policy".into(),
                title: imported.title.clone(),
                visibility: "public".into(),
                restricted_roles: Vec::new(),
                asset_id: None,
                requires_ack: true,
                review_interval_months: 12,
            },
        )
        .await?;
        Store::import_policy_history(tx, id, &imported).await?;
        Ok(true)
    }
}

fn today_utc() -> String {
    time::OffsetDateTime::now_utc().date().to_string()
}

impl AcknowledgementRow {
    /// The row as the `acknowledgements` file kind holds it.
    pub fn to_record(&self) -> mamori_domain::interchange::acknowledgements::AcknowledgementRecord {
        mamori_domain::interchange::acknowledgements::AcknowledgementRecord {
            document: self.document_code.clone(),
            edition: self.edition.clone(),
            staff_id: self.staff_id.clone(),
            name: self.name.clone(),
            unit: self.unit_code.clone(),
            unit_name: self.unit_name.clone(),
            category: self.category.clone(),
            acknowledged_at: self.acknowledged_at.clone(),
            source: self.source.clone(),
        }
    }
}

impl Store {
    /// When `person_id` acknowledged `version_id`, if they have.
    pub async fn acknowledged_at(&self, version_id: i64, person_id: i64) -> Result<Option<String>> {
        Ok(sqlx::query_scalar(
            "SELECT acknowledged_at FROM acknowledgements WHERE version_id = $1 AND person_id = $2",
        )
        .bind(version_id)
        .bind(person_id)
        .fetch_optional(&self.pool)
        .await?)
    }
}
