//! The threat catalogue and the control catalogue (issue 5; `DOMAIN.md` §4, §6a), and the
//! implementation status of each control per unit with its evidence and verification.
//!
//! Decisions:
//! - Categories (T1–T5) and measure areas (M1–M9) are data seeded once; threats and controls
//!   are seeded when their table is empty, so an organisation that removed or retired them
//!   never sees them return.
//! - A unit without a status row counts as 未実施 (`not_started`); summaries count the units
//!   in the policy's scope (`units.in_scope`) the reader may see.
//! - A status change clears its verification: a verification confirms one claimed status.
//!   Changing only the note, the links or the review date keeps it. The person who last set a
//!   status may not verify it (separation of duties).
//! - Clause anchors are checked against the basic policy in force; when none is in force (an
//!   organisation still importing its policy) any well-formed anchor is accepted.

use crate::list::{Filter, ListQuery};
use crate::{format_ts, on_unique, Result, Store, StoreError, WriteTx, BASIC_POLICY_CODE};
use mamori_domain::assets::Segment;
use mamori_domain::catalogue::{
    ControlDraft, ImplStatus, ThreatDraft, MEASURE_AREAS, SEED_CONTROLS, SEED_THREATS,
    THREAT_CATEGORIES,
};
use mamori_domain::interchange::catalogue::{ControlRecord, ThreatRecord};
use mamori_domain::interchange::table::Problem;
use mamori_domain::UnitId;
use serde::Serialize;
use sqlx::any::AnyRow;
use sqlx::Row;
use std::collections::{HashMap, HashSet};
use time::{Date, OffsetDateTime};
use utoipa::ToSchema;

/// A threat category or a measure area.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, ToSchema, sqlx::FromRow)]
pub struct GroupRow {
    /// Code (`T1`, `M6`).
    pub code: String,
    /// Japanese name.
    pub name_ja: String,
    /// English name.
    pub name_en: String,
    /// The basic policy clause (measure areas only; empty for threat categories).
    pub clause: String,
}

/// A threat.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, ToSchema)]
pub struct ThreatRow {
    /// Internal id.
    #[serde(skip)]
    pub id: i64,
    /// Stable code (`T1-01`).
    pub code: String,
    /// Category code (`T1`).
    pub category: String,
    /// Category's Japanese name.
    pub category_name: String,
    /// Title.
    pub title: String,
    /// Description.
    pub description: String,
    /// Retired: kept for history, not offered for new work.
    pub retired: bool,
    /// Last changed (RFC 3339).
    pub updated_at: String,
}

impl ThreatRow {
    /// The threat as a file row.
    pub fn to_record(&self) -> ThreatRecord {
        ThreatRecord {
            draft: ThreatDraft {
                code: self.code.clone(),
                category: self.category.clone(),
                title: self.title.clone(),
                description: self.description.clone(),
                retired: self.retired,
            },
            category_label: Some(self.category_name.clone()),
        }
    }
}

/// A control of the catalogue.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, ToSchema)]
pub struct ControlRow {
    /// Internal id.
    #[serde(skip)]
    pub id: i64,
    /// Stable code (`M6-04`).
    pub code: String,
    /// Measure area code (`M6`).
    pub area: String,
    /// Measure area's Japanese name.
    pub area_name: String,
    /// Title.
    pub title: String,
    /// Description.
    pub description: String,
    /// Anchors of the basic policy's clauses it implements (`6(6)`).
    pub clauses: Vec<String>,
    /// The responsible role's code.
    pub owner_role: String,
    /// Network segment codes it concerns (empty: every segment).
    pub segments: Vec<String>,
    /// The lowest confidentiality tier it concerns (1–3; null: every asset).
    pub min_tier: Option<i64>,
    /// Retired.
    pub retired: bool,
    /// Last changed (RFC 3339).
    pub updated_at: String,
}

impl ControlRow {
    /// The control as a draft (forms start from it).
    pub fn draft(&self) -> ControlDraft {
        ControlDraft {
            code: self.code.clone(),
            area: self.area.clone(),
            title: self.title.clone(),
            description: self.description.clone(),
            clauses: self.clauses.clone(),
            owner_role: self.owner_role.clone(),
            segments: self
                .segments
                .iter()
                .filter_map(|s| Segment::parse(s))
                .collect(),
            min_tier: self.min_tier.and_then(|t| u8::try_from(t).ok()),
            retired: self.retired,
        }
    }

    /// The control as a file row (`owner_label`: the role's Japanese label).
    pub fn to_record(&self, owner_label: Option<String>) -> ControlRecord {
        ControlRecord {
            draft: self.draft(),
            area_label: Some(self.area_name.clone()),
            owner_role_label: owner_label,
        }
    }
}

/// The status of one control in one unit.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, ToSchema)]
pub struct ControlStatusRow {
    /// The control's code.
    pub control: String,
    /// The control's title.
    pub control_title: String,
    /// The control's measure area.
    pub area: String,
    /// The unit's code.
    pub unit: String,
    /// The unit's name.
    pub unit_name: String,
    /// `not_started`, `partial`, `implemented` or `not_applicable`.
    pub status: String,
    /// False when nothing has been recorded (the status is then `not_started`).
    pub recorded: bool,
    /// Comment.
    pub note: String,
    /// Evidence links.
    pub links: Vec<String>,
    /// Next review (YYYY-MM-DD).
    pub review_on: Option<String>,
    /// Who set the status.
    pub updated_by: Option<String>,
    /// When (RFC 3339).
    pub updated_at: Option<String>,
    /// Who verified it.
    pub verified_by: Option<String>,
    /// On which day (YYYY-MM-DD).
    pub verified_on: Option<String>,
    /// Internal ids.
    #[serde(skip)]
    pub control_id: i64,
    /// Internal ids.
    #[serde(skip)]
    pub unit_id: i64,
}

impl ControlStatusRow {
    /// The status.
    pub fn status(&self) -> ImplStatus {
        ImplStatus::parse(&self.status).unwrap_or(ImplStatus::NotStarted)
    }
}

/// An evidence file.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, ToSchema, sqlx::FromRow)]
pub struct EvidenceRow {
    /// Internal id.
    pub id: i64,
    /// The control.
    pub control_id: i64,
    /// The unit.
    pub unit_id: i64,
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

/// What a status form or API call supplies.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct StatusInput {
    /// The status.
    pub status: ImplStatus,
    /// Comment.
    pub note: String,
    /// Evidence links (checked by the caller).
    pub links: Vec<String>,
    /// Next review.
    pub review_on: Option<Date>,
}

/// Threat list filters.
#[derive(Debug, Clone, Default)]
pub struct ThreatFilter {
    /// Category code.
    pub category: Option<String>,
    /// Text in code, title or description.
    pub q: Option<String>,
    /// Show retired threats too.
    pub include_retired: bool,
}

/// Control list filters.
#[derive(Debug, Clone, Default)]
pub struct ControlFilter {
    /// Measure area code.
    pub area: Option<String>,
    /// Text in code, title or description.
    pub q: Option<String>,
    /// Show retired controls too.
    pub include_retired: bool,
    /// With `status`: only controls whose status in this unit is that status.
    pub unit: Option<UnitId>,
    /// Status in `unit` (`not_started` includes nothing recorded).
    pub status: Option<ImplStatus>,
}

/// Counts of statuses per control over a set of units.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, ToSchema)]
pub struct StatusTally {
    /// 実施済.
    pub implemented: i64,
    /// 一部実施.
    pub partial: i64,
    /// 未実施 (also nothing recorded).
    pub not_started: i64,
    /// 該当なし.
    pub not_applicable: i64,
}

impl StatusTally {
    /// The count of one status.
    pub fn get(&self, s: ImplStatus) -> i64 {
        match s {
            ImplStatus::Implemented => self.implemented,
            ImplStatus::Partial => self.partial,
            ImplStatus::NotStarted => self.not_started,
            ImplStatus::NotApplicable => self.not_applicable,
        }
    }
}

const THREAT_QUERY: ListQuery<'static> = ListQuery {
    columns: "t.id, t.code, t.category, g.name_ja AS category_name, t.title, t.description, t.retired, t.updated_at",
    from: "FROM threats t JOIN threat_categories g ON g.code = t.category",
    order: "g.sort_order, t.code",
    count_from: Some("FROM threats t"),
};

fn threat_from_row(r: &AnyRow) -> Result<ThreatRow> {
    Ok(ThreatRow {
        id: r.try_get("id")?,
        code: r.try_get("code")?,
        category: r.try_get("category")?,
        category_name: r.try_get("category_name")?,
        title: r.try_get("title")?,
        description: r.try_get("description")?,
        retired: r.try_get::<i64, _>("retired")? != 0,
        updated_at: r.try_get("updated_at")?,
    })
}

const CONTROL_COLUMNS: &str =
    "c.id, c.code, c.area, a.name_ja AS area_name, c.title, c.description, c.clauses, \
    c.owner_role, c.segments, c.min_tier, c.retired, c.updated_at";

fn words(s: String) -> Vec<String> {
    s.split_whitespace().map(str::to_owned).collect()
}

fn control_from_row(r: &AnyRow) -> Result<ControlRow> {
    Ok(ControlRow {
        id: r.try_get("id")?,
        code: r.try_get("code")?,
        area: r.try_get("area")?,
        area_name: r.try_get("area_name")?,
        title: r.try_get("title")?,
        description: r.try_get("description")?,
        clauses: words(r.try_get("clauses")?),
        owner_role: r.try_get("owner_role")?,
        segments: words(r.try_get("segments")?),
        min_tier: r.try_get("min_tier")?,
        retired: r.try_get::<i64, _>("retired")? != 0,
        updated_at: r.try_get("updated_at")?,
    })
}

const STATUS_COLUMNS: &str =
    "c.id AS control_id, c.code AS control, c.title AS control_title, c.area, \
    u.id AS unit_id, u.code AS unit, u.name AS unit_name, s.status, s.note, s.links, s.review_on, \
    s.updated_by, s.updated_at, s.verified_by, s.verified_on";

fn status_from_row(r: &AnyRow) -> Result<ControlStatusRow> {
    let status: Option<String> = r.try_get("status")?;
    let links: Option<String> = r.try_get("links")?;
    Ok(ControlStatusRow {
        control_id: r.try_get("control_id")?,
        control: r.try_get("control")?,
        control_title: r.try_get("control_title")?,
        area: r.try_get("area")?,
        unit_id: r.try_get("unit_id")?,
        unit: r.try_get("unit")?,
        unit_name: r.try_get("unit_name")?,
        recorded: status.is_some(),
        status: status.unwrap_or_else(|| ImplStatus::NotStarted.code().to_owned()),
        note: r.try_get::<Option<String>, _>("note")?.unwrap_or_default(),
        links: links
            .unwrap_or_default()
            .lines()
            .filter(|l| !l.is_empty())
            .map(str::to_owned)
            .collect(),
        review_on: r.try_get("review_on")?,
        updated_by: r.try_get("updated_by")?,
        updated_at: r.try_get("updated_at")?,
        verified_by: r.try_get("verified_by")?,
        verified_on: r.try_get("verified_on")?,
    })
}

fn audit_value<T: Serialize>(v: &T) -> Option<serde_json::Value> {
    serde_json::to_value(v).ok()
}

fn ids(units: &[UnitId]) -> String {
    units
        .iter()
        .map(|u| u.0.to_string())
        .collect::<Vec<_>>()
        .join(", ")
}

impl Store {
    /// The threat categories, in order.
    pub async fn threat_categories(&self) -> Result<Vec<GroupRow>> {
        Ok(sqlx::query_as(
            "SELECT code, name_ja, name_en, '' AS clause FROM threat_categories ORDER BY sort_order, code",
        )
        .fetch_all(&self.pool)
        .await?)
    }

    /// The measure areas, in order.
    pub async fn measure_areas(&self) -> Result<Vec<GroupRow>> {
        Ok(sqlx::query_as(
            "SELECT code, name_ja, name_en, clause FROM measure_areas ORDER BY sort_order, code",
        )
        .fetch_all(&self.pool)
        .await?)
    }

    fn threat_filter(filter: &ThreatFilter) -> Filter {
        let mut f = Filter::default();
        f.eq("t.category", filter.category.as_deref());
        f.contains_any(&["t.code", "t.title", "t.description"], filter.q.as_deref());
        if !filter.include_retired {
            f.raw("t.retired = 0".into());
        }
        f
    }

    /// A page of threats by category, then code.
    pub async fn threats_page(
        &self,
        filter: &ThreatFilter,
        limit: i64,
        offset: i64,
    ) -> Result<(Vec<ThreatRow>, i64)> {
        THREAT_QUERY
            .page(
                &self.pool,
                &Self::threat_filter(filter),
                limit,
                offset,
                threat_from_row,
            )
            .await
    }

    /// Every matching threat, in the page order (exports).
    pub async fn threats_for_each(
        &self,
        filter: &ThreatFilter,
        sink: impl FnMut(ThreatRow) -> Result<()>,
    ) -> Result<()> {
        THREAT_QUERY
            .for_each(
                &self.pool,
                &Self::threat_filter(filter),
                threat_from_row,
                sink,
            )
            .await
    }

    /// One threat by code.
    pub async fn threat_by_code(&self, code: &str) -> Result<Option<ThreatRow>> {
        let sql = format!(
            "SELECT {} {} WHERE t.code = $1",
            THREAT_QUERY.columns, THREAT_QUERY.from
        );
        let row = sqlx::query(&sql)
            .bind(code)
            .fetch_optional(&self.pool)
            .await?;
        row.as_ref().map(threat_from_row).transpose()
    }

    async fn threat_in_tx(tx: &mut WriteTx, code: &str) -> Result<Option<ThreatRow>> {
        let sql = format!(
            "SELECT {} {} WHERE t.code = $1",
            THREAT_QUERY.columns, THREAT_QUERY.from
        );
        let row = sqlx::query(&sql)
            .bind(code)
            .fetch_optional(tx.conn())
            .await?;
        row.as_ref().map(threat_from_row).transpose()
    }

    async fn group_exists(tx: &mut WriteTx, table: &str, code: &str) -> Result<bool> {
        let n: i64 = sqlx::query_scalar(&format!("SELECT COUNT(*) FROM {table} WHERE code = $1"))
            .bind(code)
            .fetch_one(tx.conn())
            .await?;
        Ok(n > 0)
    }

    /// Adds a threat (`Duplicate("code")`, `Missing("category")`).
    pub async fn create_threat(tx: &mut WriteTx, d: &ThreatDraft) -> Result<ThreatRow> {
        if !Self::group_exists(tx, "threat_categories", &d.category).await? {
            return Err(StoreError::Missing("category"));
        }
        let now = format_ts(OffsetDateTime::now_utc());
        sqlx::query(
            "INSERT INTO threats (code, category, title, description, retired, created_at, updated_at) \
             VALUES ($1, $2, $3, $4, $5, $6, $6)",
        )
        .bind(&d.code)
        .bind(&d.category)
        .bind(&d.title)
        .bind(&d.description)
        .bind(i64::from(d.retired))
        .bind(&now)
        .execute(tx.conn())
        .await
        .map_err(on_unique("code"))?;
        let row = Self::threat_in_tx(tx, &d.code)
            .await?
            .ok_or(StoreError::Missing("threat"))?;
        tx.audit(
            "threat.create",
            "threat",
            &row.code,
            None,
            audit_value(&row),
        )
        .await?;
        Ok(row)
    }

    /// Changes a threat's category, title, description and retirement (its code stays);
    /// returns the row and whether anything changed (nothing is audited when not).
    pub async fn update_threat(
        tx: &mut WriteTx,
        code: &str,
        d: &ThreatDraft,
    ) -> Result<(ThreatRow, bool)> {
        let before = Self::threat_in_tx(tx, code)
            .await?
            .ok_or(StoreError::Missing("threat"))?;
        if !Self::group_exists(tx, "threat_categories", &d.category).await? {
            return Err(StoreError::Missing("category"));
        }
        if before.category == d.category
            && before.title == d.title
            && before.description == d.description
            && before.retired == d.retired
        {
            return Ok((before, false));
        }
        sqlx::query(
            "UPDATE threats SET category = $1, title = $2, description = $3, retired = $4, updated_at = $5 \
             WHERE code = $6",
        )
        .bind(&d.category)
        .bind(&d.title)
        .bind(&d.description)
        .bind(i64::from(d.retired))
        .bind(format_ts(OffsetDateTime::now_utc()))
        .bind(code)
        .execute(tx.conn())
        .await?;
        let after = Self::threat_in_tx(tx, code)
            .await?
            .ok_or(StoreError::Missing("threat"))?;
        tx.audit(
            "threat.update",
            "threat",
            code,
            audit_value(&before),
            audit_value(&after),
        )
        .await?;
        Ok((after, true))
    }

    fn control_filter(filter: &ControlFilter) -> Filter {
        let mut f = Filter::default();
        f.eq("c.area", filter.area.as_deref());
        f.contains_any(&["c.code", "c.title", "c.description"], filter.q.as_deref());
        if !filter.include_retired {
            f.raw("c.retired = 0".into());
        }
        if let (Some(unit), Some(status)) = (filter.unit, filter.status) {
            let sub = format!(
                "(SELECT s.status FROM control_status s WHERE s.control_id = c.id AND s.unit_id = {})",
                unit.0
            );
            if status == ImplStatus::NotStarted {
                f.add(
                    &format!("COALESCE({sub}, 'not_started') = ?"),
                    status.code(),
                );
            } else {
                f.add(&format!("{sub} = ?"), status.code());
            }
        }
        f
    }

    /// A page of controls by measure area, then code.
    pub async fn controls_page(
        &self,
        filter: &ControlFilter,
        limit: i64,
        offset: i64,
    ) -> Result<(Vec<ControlRow>, i64)> {
        CONTROL_QUERY
            .page(
                &self.pool,
                &Self::control_filter(filter),
                limit,
                offset,
                control_from_row,
            )
            .await
    }

    /// Every matching control, in the page order (exports).
    pub async fn controls_for_each(
        &self,
        filter: &ControlFilter,
        sink: impl FnMut(ControlRow) -> Result<()>,
    ) -> Result<()> {
        CONTROL_QUERY
            .for_each(
                &self.pool,
                &Self::control_filter(filter),
                control_from_row,
                sink,
            )
            .await
    }

    /// One control by code.
    pub async fn control_by_code(&self, code: &str) -> Result<Option<ControlRow>> {
        let sql = format!(
            "SELECT {CONTROL_COLUMNS} {} WHERE c.code = $1",
            CONTROL_QUERY.from
        );
        let row = sqlx::query(&sql)
            .bind(code)
            .fetch_optional(&self.pool)
            .await?;
        row.as_ref().map(control_from_row).transpose()
    }

    async fn control_in_tx(tx: &mut WriteTx, code: &str) -> Result<Option<ControlRow>> {
        let sql = format!(
            "SELECT {CONTROL_COLUMNS} {} WHERE c.code = $1",
            CONTROL_QUERY.from
        );
        let row = sqlx::query(&sql)
            .bind(code)
            .fetch_optional(tx.conn())
            .await?;
        row.as_ref().map(control_from_row).transpose()
    }

    /// The clause anchors of the basic policy in force (`None` when none is in force).
    pub async fn basic_policy_anchors(&self) -> Result<Option<HashSet<String>>> {
        let version: Option<i64> = sqlx::query_scalar(
            "SELECT v.id FROM document_versions v JOIN documents d ON d.id = v.document_id \
             WHERE d.code = $1 AND v.state = 'published'",
        )
        .bind(BASIC_POLICY_CODE)
        .fetch_optional(&self.pool)
        .await?;
        let Some(version) = version else {
            return Ok(None);
        };
        let anchors: Vec<String> =
            sqlx::query_scalar("SELECT anchor FROM document_clauses WHERE version_id = $1")
                .bind(version)
                .fetch_all(&self.pool)
                .await?;
        Ok(Some(anchors.into_iter().collect()))
    }

    async fn check_control_refs(tx: &mut WriteTx, d: &ControlDraft) -> Result<()> {
        if !Self::group_exists(tx, "measure_areas", &d.area).await? {
            return Err(StoreError::Missing("area"));
        }
        let role: i64 = sqlx::query_scalar("SELECT COUNT(*) FROM roles WHERE code = $1")
            .bind(&d.owner_role)
            .fetch_one(tx.conn())
            .await?;
        if role == 0 {
            return Err(StoreError::Missing("owner_role"));
        }
        Ok(())
    }

    /// Adds a control (`Duplicate("code")`, `Missing("area")`, `Missing("owner_role")`).
    /// Clause anchors are checked by the caller ([`Store::basic_policy_anchors`]).
    pub async fn create_control(tx: &mut WriteTx, d: &ControlDraft) -> Result<ControlRow> {
        Self::check_control_refs(tx, d).await?;
        let now = format_ts(OffsetDateTime::now_utc());
        let segments: Vec<&str> = d.segments.iter().map(|s| s.code()).collect();
        sqlx::query(
            "INSERT INTO controls (code, area, title, description, clauses, owner_role, segments, min_tier, \
             retired, created_at, updated_at) VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $10)",
        )
        .bind(&d.code)
        .bind(&d.area)
        .bind(&d.title)
        .bind(&d.description)
        .bind(d.clauses.join(" "))
        .bind(&d.owner_role)
        .bind(segments.join(" "))
        .bind(d.min_tier.map(i64::from))
        .bind(i64::from(d.retired))
        .bind(&now)
        .execute(tx.conn())
        .await
        .map_err(on_unique("code"))?;
        let row = Self::control_in_tx(tx, &d.code)
            .await?
            .ok_or(StoreError::Missing("control"))?;
        tx.audit(
            "control.create",
            "control",
            &row.code,
            None,
            audit_value(&row),
        )
        .await?;
        Ok(row)
    }

    /// Changes a control (its code stays); returns the row and whether anything changed.
    pub async fn update_control(
        tx: &mut WriteTx,
        code: &str,
        d: &ControlDraft,
    ) -> Result<(ControlRow, bool)> {
        let before = Self::control_in_tx(tx, code)
            .await?
            .ok_or(StoreError::Missing("control"))?;
        Self::check_control_refs(tx, d).await?;
        let mut same = d.clone();
        same.code = before.code.clone();
        if before.draft() == same {
            return Ok((before, false));
        }
        let segments: Vec<&str> = d.segments.iter().map(|s| s.code()).collect();
        sqlx::query(
            "UPDATE controls SET area = $1, title = $2, description = $3, clauses = $4, owner_role = $5, \
             segments = $6, min_tier = $7, retired = $8, updated_at = $9 WHERE code = $10",
        )
        .bind(&d.area)
        .bind(&d.title)
        .bind(&d.description)
        .bind(d.clauses.join(" "))
        .bind(&d.owner_role)
        .bind(segments.join(" "))
        .bind(d.min_tier.map(i64::from))
        .bind(i64::from(d.retired))
        .bind(format_ts(OffsetDateTime::now_utc()))
        .bind(code)
        .execute(tx.conn())
        .await?;
        let after = Self::control_in_tx(tx, code)
            .await?
            .ok_or(StoreError::Missing("control"))?;
        tx.audit(
            "control.update",
            "control",
            code,
            audit_value(&before),
            audit_value(&after),
        )
        .await?;
        Ok((after, true))
    }

    /// Status counts per control id over `units` (in-scope units only; `None`: all of them).
    pub async fn control_tallies(
        &self,
        units: Option<&[UnitId]>,
    ) -> Result<HashMap<i64, StatusTally>> {
        let mut unit_sql = String::from("SELECT COUNT(*) FROM units WHERE in_scope = 1");
        let mut status_sql = String::from(
            "SELECT s.control_id, s.status, COUNT(*) FROM control_status s \
             JOIN units u ON u.id = s.unit_id WHERE u.in_scope = 1",
        );
        if let Some(units) = units {
            if units.is_empty() {
                return Ok(HashMap::new());
            }
            unit_sql.push_str(&format!(" AND id IN ({})", ids(units)));
            status_sql.push_str(&format!(" AND u.id IN ({})", ids(units)));
        }
        status_sql.push_str(" GROUP BY s.control_id, s.status");
        let total: i64 = sqlx::query_scalar(&unit_sql).fetch_one(&self.pool).await?;
        let rows: Vec<(i64, String, i64)> =
            sqlx::query_as(&status_sql).fetch_all(&self.pool).await?;
        let control_ids: Vec<i64> = sqlx::query_scalar("SELECT id FROM controls")
            .fetch_all(&self.pool)
            .await?;
        let mut out: HashMap<i64, StatusTally> = control_ids
            .into_iter()
            .map(|id| {
                (
                    id,
                    StatusTally {
                        not_started: total,
                        ..StatusTally::default()
                    },
                )
            })
            .collect();
        for (control, status, n) in rows {
            let t = out.entry(control).or_default();
            match ImplStatus::parse(&status) {
                Some(ImplStatus::Implemented) => t.implemented += n,
                Some(ImplStatus::Partial) => t.partial += n,
                Some(ImplStatus::NotApplicable) => t.not_applicable += n,
                _ => continue,
            }
            t.not_started -= n;
        }
        Ok(out)
    }

    /// One control's status in every in-scope unit among `units` (`None`: every in-scope
    /// unit), by unit code; units with nothing recorded show `not_started`.
    pub async fn control_statuses(
        &self,
        control_id: i64,
        units: Option<&[UnitId]>,
    ) -> Result<Vec<ControlStatusRow>> {
        let mut sql = format!(
            "SELECT {STATUS_COLUMNS} FROM units u JOIN controls c ON c.id = $1 \
             LEFT JOIN control_status s ON s.control_id = c.id AND s.unit_id = u.id WHERE u.in_scope = 1"
        );
        if let Some(units) = units {
            if units.is_empty() {
                return Ok(Vec::new());
            }
            sql.push_str(&format!(" AND u.id IN ({})", ids(units)));
        }
        sql.push_str(" ORDER BY u.code");
        let rows = sqlx::query(&sql)
            .bind(control_id)
            .fetch_all(&self.pool)
            .await?;
        rows.iter().map(status_from_row).collect()
    }

    /// A page of one unit's statuses, by measure area and code (retired controls left out).
    pub async fn unit_control_statuses(
        &self,
        unit: UnitId,
        area: Option<&str>,
        status: Option<ImplStatus>,
        limit: i64,
        offset: i64,
    ) -> Result<(Vec<ControlStatusRow>, i64)> {
        let from = format!(
            "FROM controls c JOIN units u ON u.id = {} \
             LEFT JOIN control_status s ON s.control_id = c.id AND s.unit_id = u.id",
            unit.0
        );
        let q = ListQuery {
            columns: STATUS_COLUMNS,
            from: &from,
            order: "c.area, c.code",
            count_from: None,
        };
        let mut f = Filter::default();
        f.raw("c.retired = 0".into());
        f.eq("c.area", area);
        if let Some(s) = status {
            f.add("COALESCE(s.status, 'not_started') = ?", s.code());
        }
        q.page(&self.pool, &f, limit, offset, status_from_row).await
    }

    /// The status of one control in one unit.
    pub async fn control_status(
        &self,
        control_id: i64,
        unit: UnitId,
    ) -> Result<Option<ControlStatusRow>> {
        let sql = format!(
            "SELECT {STATUS_COLUMNS} FROM controls c JOIN units u ON u.id = $2 \
             LEFT JOIN control_status s ON s.control_id = c.id AND s.unit_id = u.id WHERE c.id = $1"
        );
        let row = sqlx::query(&sql)
            .bind(control_id)
            .bind(unit.0)
            .fetch_optional(&self.pool)
            .await?;
        row.as_ref().map(status_from_row).transpose()
    }

    // Coverage: one query for a page of controls (the API's `?unit=`), never one per row.
    /// The status of each of `control_ids` in one unit, by control id (`not_started` rows for
    /// controls with nothing recorded).
    pub async fn control_statuses_in_unit(
        &self,
        unit: UnitId,
        control_ids: &[i64],
    ) -> Result<HashMap<i64, ControlStatusRow>> {
        if control_ids.is_empty() {
            return Ok(HashMap::new());
        }
        let list: Vec<String> = (0..control_ids.len())
            .map(|i| format!("${}", i + 2))
            .collect();
        let sql = format!(
            "SELECT {STATUS_COLUMNS} FROM controls c JOIN units u ON u.id = $1 \
             LEFT JOIN control_status s ON s.control_id = c.id AND s.unit_id = u.id \
             WHERE c.id IN ({})",
            list.join(", ")
        );
        let mut q = sqlx::query(&sql).bind(unit.0);
        for id in control_ids {
            q = q.bind(*id);
        }
        let rows = q.fetch_all(&self.pool).await?;
        rows.iter()
            .map(|r| status_from_row(r).map(|s| (s.control_id, s)))
            .collect()
    }

    async fn status_in_tx(
        tx: &mut WriteTx,
        control_id: i64,
        unit: UnitId,
    ) -> Result<ControlStatusRow> {
        let sql = format!(
            "SELECT {STATUS_COLUMNS} FROM controls c JOIN units u ON u.id = $2 \
             LEFT JOIN control_status s ON s.control_id = c.id AND s.unit_id = u.id WHERE c.id = $1"
        );
        let row = sqlx::query(&sql)
            .bind(control_id)
            .bind(unit.0)
            .fetch_optional(tx.conn())
            .await?
            .ok_or(StoreError::Missing("control"))?;
        status_from_row(&row)
    }

    /// Records a control's status in a unit; returns the row and whether anything changed
    /// (nothing is written or audited when not). A new status clears the verification.
    pub async fn set_control_status(
        tx: &mut WriteTx,
        control_id: i64,
        unit: UnitId,
        input: &StatusInput,
    ) -> Result<(ControlStatusRow, bool)> {
        let before = Self::status_in_tx(tx, control_id, unit).await?;
        let review_on = input.review_on.map(|d| d.to_string());
        if before.recorded
            && before.status == input.status.code()
            && before.note == input.note
            && before.links == input.links
            && before.review_on == review_on
        {
            return Ok((before, false));
        }
        let by = tx.actor().name.clone();
        let now = format_ts(OffsetDateTime::now_utc());
        let keep_verification = before.recorded && before.status == input.status.code();
        sqlx::query("DELETE FROM control_status WHERE control_id = $1 AND unit_id = $2")
            .bind(control_id)
            .bind(unit.0)
            .execute(tx.conn())
            .await?;
        sqlx::query(
            "INSERT INTO control_status (control_id, unit_id, status, note, links, review_on, updated_by, \
             updated_at, verified_by, verified_on) VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10)",
        )
        .bind(control_id)
        .bind(unit.0)
        .bind(input.status.code())
        .bind(&input.note)
        .bind(input.links.join("\n"))
        .bind(review_on)
        .bind(&by)
        .bind(&now)
        .bind(
            before
                .verified_by
                .clone()
                .filter(|_| keep_verification),
        )
        .bind(
            before
                .verified_on
                .clone()
                .filter(|_| keep_verification),
        )
        .execute(tx.conn())
        .await?;
        let after = Self::status_in_tx(tx, control_id, unit).await?;
        tx.audit(
            "control.status.set",
            "control_status",
            &format!("{}@{}", after.control, after.unit),
            before.recorded.then(|| audit_value(&before)).flatten(),
            audit_value(&after),
        )
        .await?;
        Ok((after, true))
    }

    /// Records that `verifier` checked the status on `on`. Refused when nothing is recorded
    /// (`Missing("status")`) or when the verifier set the status (`Rule`).
    pub async fn verify_control_status(
        tx: &mut WriteTx,
        control_id: i64,
        unit: UnitId,
        on: Date,
    ) -> Result<ControlStatusRow> {
        let before = Self::status_in_tx(tx, control_id, unit).await?;
        if !before.recorded {
            return Err(StoreError::Missing("status"));
        }
        let verifier = tx.actor().name.clone();
        if before.updated_by.as_deref() == Some(verifier.as_str()) {
            return Err(StoreError::Rule("catalogue-verify-own"));
        }
        sqlx::query(
            "UPDATE control_status SET verified_by = $1, verified_on = $2 WHERE control_id = $3 AND unit_id = $4",
        )
        .bind(&verifier)
        .bind(on.to_string())
        .bind(control_id)
        .bind(unit.0)
        .execute(tx.conn())
        .await?;
        let after = Self::status_in_tx(tx, control_id, unit).await?;
        tx.audit(
            "control.status.verify",
            "control_status",
            &format!("{}@{}", after.control, after.unit),
            audit_value(&before),
            audit_value(&after),
        )
        .await?;
        Ok(after)
    }

    /// Attaches a stored file (see [`crate::FileWriter`]) as evidence of a control in a unit.
    pub async fn add_control_evidence(
        tx: &mut WriteTx,
        control_id: i64,
        unit: UnitId,
        file: (&str, u64),
        filename: &str,
        content_type: &str,
    ) -> Result<EvidenceRow> {
        let status = Self::status_in_tx(tx, control_id, unit).await?;
        let (sha256, size) = file;
        let at = format_ts(OffsetDateTime::now_utc());
        let by = tx.actor().name.clone();
        let id: i64 = sqlx::query_scalar(
            "INSERT INTO control_evidence (control_id, unit_id, sha256, filename, content_type, size, uploaded_by, \
             uploaded_at) VALUES ($1, $2, $3, $4, $5, $6, $7, $8) RETURNING id",
        )
        .bind(control_id)
        .bind(unit.0)
        .bind(sha256)
        .bind(filename)
        .bind(content_type)
        .bind(size as i64)
        .bind(&by)
        .bind(&at)
        .fetch_one(tx.conn())
        .await
        .map_err(on_unique("file"))?;
        let row = EvidenceRow {
            id,
            control_id,
            unit_id: unit.0,
            sha256: sha256.to_owned(),
            filename: filename.to_owned(),
            content_type: content_type.to_owned(),
            size: size as i64,
            uploaded_by: by,
            uploaded_at: at,
        };
        tx.audit(
            "control.evidence.add",
            "control_status",
            &format!("{}@{}", status.control, status.unit),
            None,
            audit_value(&row),
        )
        .await?;
        Ok(row)
    }

    /// The evidence files of a control in a unit, newest first.
    pub async fn control_evidence(
        &self,
        control_id: i64,
        unit: UnitId,
    ) -> Result<Vec<EvidenceRow>> {
        Ok(sqlx::query_as(
            "SELECT id, control_id, unit_id, sha256, filename, content_type, size, uploaded_by, uploaded_at \
             FROM control_evidence WHERE control_id = $1 AND unit_id = $2 ORDER BY id DESC",
        )
        .bind(control_id)
        .bind(unit.0)
        .fetch_all(&self.pool)
        .await?)
    }

    /// Seeds categories, measure areas, threats and controls where missing; true when it did.
    pub(crate) async fn seed_catalogue(tx: &mut WriteTx) -> Result<bool> {
        let mut changed = false;
        let n: i64 = sqlx::query_scalar("SELECT COUNT(*) FROM threat_categories")
            .fetch_one(tx.conn())
            .await?;
        if n == 0 {
            for (i, c) in THREAT_CATEGORIES.iter().enumerate() {
                sqlx::query("INSERT INTO threat_categories (code, name_ja, name_en, sort_order) VALUES ($1, $2, $3, $4)")
                    .bind(c.code)
                    .bind(c.name_ja)
                    .bind(c.name_en)
                    .bind(i as i64)
                    .execute(tx.conn())
                    .await?;
                tx.audit(
                    "threat_category.seed",
                    "threat_category",
                    c.code,
                    None,
                    Some(serde_json::json!({"name_ja": c.name_ja})),
                )
                .await?;
            }
            changed = true;
        }
        let n: i64 = sqlx::query_scalar("SELECT COUNT(*) FROM measure_areas")
            .fetch_one(tx.conn())
            .await?;
        if n == 0 {
            for (i, a) in MEASURE_AREAS.iter().enumerate() {
                sqlx::query("INSERT INTO measure_areas (code, name_ja, name_en, clause, sort_order) VALUES ($1, $2, $3, $4, $5)")
                    .bind(a.code)
                    .bind(a.name_ja)
                    .bind(a.name_en)
                    .bind(a.clause)
                    .bind(i as i64)
                    .execute(tx.conn())
                    .await?;
                tx.audit(
                    "measure_area.seed",
                    "measure_area",
                    a.code,
                    None,
                    Some(serde_json::json!({"name_ja": a.name_ja, "clause": a.clause})),
                )
                .await?;
            }
            changed = true;
        }
        let n: i64 = sqlx::query_scalar("SELECT COUNT(*) FROM threats")
            .fetch_one(tx.conn())
            .await?;
        if n == 0 {
            for (code, category, title, description) in SEED_THREATS {
                let d = ThreatDraft {
                    code: (*code).into(),
                    category: (*category).into(),
                    title: (*title).into(),
                    description: (*description).into(),
                    retired: false,
                };
                Self::create_threat(tx, &d).await?;
            }
            changed = true;
        }
        let n: i64 = sqlx::query_scalar("SELECT COUNT(*) FROM controls")
            .fetch_one(tx.conn())
            .await?;
        if n == 0 {
            for c in SEED_CONTROLS {
                Self::create_control(tx, &c.draft()).await?;
            }
            changed = true;
        }
        Ok(changed)
    }

    /// Creates or updates controls from a file, by code. Measure areas and owner roles may be
    /// written as codes or Japanese names; clause anchors must be clauses of the basic policy
    /// in force. Every problem is reported by row and column, and nothing is applied unless
    /// there are none.
    pub async fn import_controls(
        tx: &mut WriteTx,
        records: &[(u64, ControlRecord)],
        column: impl Fn(&str) -> String,
        anchors: Option<&HashSet<String>>,
    ) -> Result<crate::ImportOutcome> {
        let areas: Vec<(String, String)> =
            sqlx::query_as("SELECT code, name_ja FROM measure_areas")
                .fetch_all(tx.conn())
                .await?;
        let roles: Vec<(String, String)> = sqlx::query_as("SELECT code, label_ja FROM roles")
            .fetch_all(tx.conn())
            .await?;
        let resolve = |list: &[(String, String)], written: &str| {
            list.iter()
                .find(|(code, name)| code == written || name == written)
                .map(|(code, _)| code.clone())
        };
        let mut problems = Vec::new();
        let mut drafts = Vec::new();
        for (line, r) in records {
            let mut d = r.draft.clone();
            match resolve(&areas, &d.area) {
                Some(code) => d.area = code,
                None => problems.push(Problem::with(
                    *line,
                    column("area"),
                    "catalogue-error-area",
                    d.area.clone(),
                )),
            }
            match resolve(&roles, &d.owner_role) {
                Some(code) => d.owner_role = code,
                None => problems.push(Problem::with(
                    *line,
                    column("owner_role"),
                    "error-unknown-role",
                    d.owner_role.clone(),
                )),
            }
            if let Some(anchors) = anchors {
                for c in d.clauses.iter().filter(|c| !anchors.contains(*c)) {
                    problems.push(Problem::with(
                        *line,
                        column("clauses"),
                        "catalogue-error-unknown-clause",
                        c.clone(),
                    ));
                }
            }
            drafts.push(d);
        }
        if !problems.is_empty() {
            return Ok(Err(problems));
        }
        let mut summary = crate::ImportSummary::default();
        for d in drafts {
            if Self::control_in_tx(tx, &d.code).await?.is_some() {
                let (_, changed) = Self::update_control(tx, &d.code, &d).await?;
                if changed {
                    summary.updated += 1;
                } else {
                    summary.unchanged += 1;
                }
            } else {
                Self::create_control(tx, &d).await?;
                summary.added += 1;
            }
        }
        Ok(Ok(summary))
    }
}

const CONTROL_QUERY: ListQuery<'static> = ListQuery {
    columns: CONTROL_COLUMNS,
    from: "FROM controls c JOIN measure_areas a ON a.code = c.area",
    order: "a.sort_order, c.code",
    count_from: Some("FROM controls c"),
};
