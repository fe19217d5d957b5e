//! The information asset register: assets, their search index, relations and lifecycle.
//! Every write goes through [`Store::write_asset`], which keeps the sort rank, the search key
//! and its grams in step with the record and audits the change.

use crate::list::{Filter, KeyOrder, ListQuery};
use crate::tx::plain_audit_json;
use crate::values::values_list;
use crate::{format_ts, Backend, Result, Store, StoreError, WriteTx};
use mamori_domain::assets::classification::{Axis, Class, Scheme};
use mamori_domain::assets::search::{grams, plan, record_key};
use mamori_domain::assets::{AssetDraft, AssetStatus, AssetType, RelationKind, Segment};
use mamori_domain::interchange::assets::AssetRecord;
use mamori_domain::{AssetId, PersonId, UnitId};
use serde::Serialize;
use sqlx::any::AnyRow;
use sqlx::Row;
use std::cmp::Reverse;
use std::collections::BinaryHeap;
use std::fmt::Write as _;
use time::OffsetDateTime;
use utoipa::ToSchema;

/// An information asset as the register holds it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, ToSchema)]
pub struct AssetRow {
    /// 資産ID.
    #[schema(value_type = i64)]
    pub id: AssetId,
    /// 名称.
    pub name: String,
    /// 種別 (code).
    pub asset_type: String,
    /// 所管組織 (unit code).
    pub owner_unit: String,
    /// The owner unit's name.
    pub owner_unit_name: String,
    /// 管理者 (staff id).
    pub custodian: Option<String>,
    /// The custodian's name.
    pub custodian_name: Option<String>,
    /// ネットワーク区分 (code).
    pub segment: String,
    /// 機密性.
    pub confidentiality: String,
    /// 完全性.
    pub integrity: String,
    /// 可用性.
    pub availability: String,
    /// 保管場所.
    pub location: String,
    /// 説明.
    pub description: String,
    /// 個人情報.
    pub personal_data: bool,
    /// 目標復旧時間（時間）.
    pub rto_hours: Option<i64>,
    /// 次回見直し日 (YYYY-MM-DD).
    pub review_on: Option<String>,
    /// 状態 (code).
    pub status: String,
    /// 廃棄日 (YYYY-MM-DD).
    pub disposed_on: Option<String>,
    /// 廃棄方法.
    pub disposal_method: String,
    /// Created (RFC 3339).
    pub created_at: String,
    /// Last changed (RFC 3339).
    pub updated_at: String,
    /// The owner unit's id (internal).
    #[serde(skip)]
    #[schema(ignore)]
    pub owner_unit_id: UnitId,
    /// The custodian's id (internal).
    #[serde(skip)]
    #[schema(ignore)]
    pub custodian_id: Option<PersonId>,
}

fn date(s: &Option<String>) -> Result<Option<time::Date>> {
    s.as_deref()
        .map(|d| {
            time::Date::parse(d, &time::format_description::well_known::Iso8601::DATE)
                .map_err(|e| StoreError::Corrupt(format!("date {d}: {e}")))
        })
        .transpose()
}

impl AssetRow {
    /// Its class.
    pub fn class(&self) -> Class {
        Class {
            confidentiality: self.confidentiality.clone(),
            integrity: self.integrity.clone(),
            availability: self.availability.clone(),
        }
    }

    /// The record as a draft (what a form starts from, and what an update changes).
    pub fn draft(&self) -> Result<AssetDraft> {
        let corrupt = |what: &str| StoreError::Corrupt(format!("asset {}: {what}", self.id));
        Ok(AssetDraft {
            name: self.name.clone(),
            asset_type: AssetType::parse(&self.asset_type).ok_or_else(|| corrupt("type"))?,
            owner_unit: self.owner_unit_id,
            custodian: self.custodian_id,
            segment: Segment::parse(&self.segment).ok_or_else(|| corrupt("segment"))?,
            class: self.class(),
            location: self.location.clone(),
            description: self.description.clone(),
            personal_data: self.personal_data,
            rto_hours: self.rto_hours.and_then(|h| u32::try_from(h).ok()),
            review_on: date(&self.review_on)?,
            status: AssetStatus::parse(&self.status).ok_or_else(|| corrupt("status"))?,
            disposed_on: date(&self.disposed_on)?,
            disposal_method: self.disposal_method.clone(),
        })
    }

    /// The asset as a file holds it.
    pub fn to_record(&self) -> Result<AssetRecord> {
        let d = self.draft()?;
        Ok(AssetRecord {
            id: Some(self.id.to_string()),
            name: d.name,
            asset_type: d.asset_type,
            owner_unit: self.owner_unit.clone(),
            custodian: self.custodian.clone().unwrap_or_default(),
            segment: d.segment,
            confidentiality: d.class.confidentiality,
            integrity: d.class.integrity,
            availability: d.class.availability,
            location: d.location,
            description: d.description,
            personal_data: d.personal_data,
            rto_hours: d.rto_hours,
            review_on: d.review_on,
            status: d.status,
            disposed_on: d.disposed_on,
            disposal_method: d.disposal_method,
        })
    }
}

const ASSET_COLUMNS: &str = "a.id, a.name, a.asset_type, a.owner_unit_id, u.code AS unit_code, \
    u.name AS unit_name, a.custodian_id, p.staff_id AS custodian_staff_id, p.name AS custodian_name, \
    a.segment, a.confidentiality, a.integrity, a.availability, a.location, a.description, \
    a.personal_data, a.rto_hours, a.review_on, a.status, a.disposed_on, a.disposal_method, \
    a.created_at, a.updated_at";
const ASSET_FROM: &str =
    "FROM assets a JOIN units u ON u.id = a.owner_unit_id LEFT JOIN people p ON p.id = a.custodian_id";

fn asset_from_row(r: &AnyRow) -> Result<AssetRow> {
    Ok(AssetRow {
        id: AssetId(r.try_get("id")?),
        name: r.try_get("name")?,
        asset_type: r.try_get("asset_type")?,
        owner_unit_id: UnitId(r.try_get("owner_unit_id")?),
        owner_unit: r.try_get("unit_code")?,
        owner_unit_name: r.try_get("unit_name")?,
        custodian_id: r.try_get::<Option<i64>, _>("custodian_id")?.map(PersonId),
        custodian: r.try_get("custodian_staff_id")?,
        custodian_name: r.try_get("custodian_name")?,
        segment: r.try_get("segment")?,
        confidentiality: r.try_get("confidentiality")?,
        integrity: r.try_get("integrity")?,
        availability: r.try_get("availability")?,
        location: r.try_get("location")?,
        description: r.try_get("description")?,
        personal_data: r.try_get::<i64, _>("personal_data")? != 0,
        rto_hours: r.try_get("rto_hours")?,
        review_on: r.try_get("review_on")?,
        status: r.try_get("status")?,
        disposed_on: r.try_get("disposed_on")?,
        disposal_method: r.try_get("disposal_method")?,
        created_at: r.try_get("created_at")?,
        updated_at: r.try_get("updated_at")?,
    })
}

/// Which assets a principal may see: everything on the `full` units (and beneath them), and
/// on the `basic` units only those whose confidentiality is one of `basic_levels`.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct AssetScope {
    /// Units (roots) where every asset is visible.
    pub full: Vec<UnitId>,
    /// Units (roots) where only `basic_levels` are visible.
    pub basic: Vec<UnitId>,
    /// Confidentiality levels visible on `basic` units.
    pub basic_levels: Vec<String>,
}

/// Which lifecycle states a list shows.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum StatusFilter {
    /// Every state.
    #[default]
    Any,
    /// Registered and in use (not disposed).
    Active,
    /// One state.
    Is(AssetStatus),
}

/// How a list is ordered (always ending with the id, so pages are stable).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum AssetSort {
    /// 資産ID.
    Id,
    /// 名称.
    #[default]
    Name,
    /// 種別.
    Type,
    /// 所管組織.
    Unit,
    /// 機密性 (strictest first when descending).
    Confidentiality,
    /// 次回見直し日.
    Review,
    /// Last changed.
    Updated,
}

impl AssetSort {
    /// Every sort, with its code (as the list's `sort` parameter takes it).
    pub const ALL: &'static [(&'static str, AssetSort)] = &[
        ("id", AssetSort::Id),
        ("name", AssetSort::Name),
        ("asset_type", AssetSort::Type),
        ("owner_unit", AssetSort::Unit),
        ("confidentiality", AssetSort::Confidentiality),
        ("review_on", AssetSort::Review),
        ("updated_at", AssetSort::Updated),
    ];

    /// Parses a sort code.
    pub fn parse(code: &str) -> Option<AssetSort> {
        Self::ALL.iter().find(|(c, _)| *c == code).map(|(_, s)| *s)
    }

    /// The column sorted on (before the id, which breaks ties).
    fn key(self) -> &'static str {
        match self {
            AssetSort::Id => "a.id",
            AssetSort::Name => "a.name",
            AssetSort::Type => "a.asset_type",
            AssetSort::Unit => "u.code",
            AssetSort::Confidentiality => "a.c_rank",
            AssetSort::Review => "a.review_on",
            AssetSort::Updated => "a.updated_at",
        }
    }

    fn sql(self, descending: bool) -> String {
        let dir = if descending { "DESC" } else { "ASC" };
        match self {
            AssetSort::Id => format!("a.id {dir}"),
            other => format!("{} {dir}, a.id {dir}", other.key()),
        }
    }
}

/// Filters for the asset list.
#[derive(Debug, Clone, Default)]
pub struct AssetFilter {
    /// Visibility (`None`: everything).
    pub scope: Option<AssetScope>,
    /// 種別.
    pub asset_type: Option<AssetType>,
    /// ネットワーク区分.
    pub segment: Option<Segment>,
    /// 所管組織, with the units beneath it.
    pub unit: Option<UnitId>,
    /// Level on each axis.
    pub levels: Vec<(Axis, String)>,
    /// 個人情報.
    pub personal_data: Option<bool>,
    /// 状態.
    pub status: StatusFilter,
    /// Review date before this day (and not disposed): overdue.
    pub overdue_on: Option<time::Date>,
    /// 管理者.
    pub custodian: Option<PersonId>,
    /// Free text (name, location, description; `#123` or a bare number also finds the id).
    pub query: Option<String>,
    /// Order.
    pub sort: AssetSort,
    /// Descending.
    pub descending: bool,
}

impl AssetFilter {
    /// True when a free-text query narrows the list.
    fn searches(&self) -> bool {
        self.query.as_deref().is_some_and(|q| !q.trim().is_empty())
    }
}

fn id_list(ids: &[UnitId]) -> String {
    ids.iter()
        .map(|u| u.0.to_string())
        .collect::<Vec<_>>()
        .join(",")
}

impl Store {
    async fn asset_where(&self, filter: &AssetFilter) -> Result<Option<Filter>> {
        let mut f = Filter::default();
        if let Some(scope) = &filter.scope {
            let full = self.unit_subtrees(&scope.full).await?;
            let basic: Vec<UnitId> = self
                .unit_subtrees(&scope.basic)
                .await?
                .into_iter()
                .filter(|u| !full.contains(u))
                .collect();
            let mut ors = Vec::new();
            if !full.is_empty() {
                ors.push(format!("a.owner_unit_id IN ({})", id_list(&full)));
            }
            if !basic.is_empty() && !scope.basic_levels.is_empty() {
                ors.push(format!(
                    "(a.owner_unit_id IN ({}) AND a.confidentiality IN ({}))",
                    id_list(&basic),
                    f.params(scope.basic_levels.iter().cloned())
                ));
            }
            if ors.is_empty() {
                return Ok(None);
            }
            f.raw(format!("({})", ors.join(" OR ")));
        }
        if let Some(unit) = filter.unit {
            let units = self.unit_subtrees(&[unit]).await?;
            f.raw(format!("a.owner_unit_id IN ({})", id_list(&units)));
        }
        f.eq("a.asset_type", filter.asset_type.map(|t| t.code()));
        f.eq("a.segment", filter.segment.map(|s| s.code()));
        for (axis, level) in &filter.levels {
            f.eq(&format!("a.{}", axis.column()), Some(level.as_str()));
        }
        if let Some(p) = filter.personal_data {
            f.raw(format!("a.personal_data = {}", i64::from(p)));
        }
        match filter.status {
            StatusFilter::Any => {}
            StatusFilter::Active => f.raw("a.status <> 'disposed'".into()),
            StatusFilter::Is(s) => f.eq("a.status", Some(s.code())),
        }
        if let Some(day) = filter.overdue_on {
            f.add("a.review_on < ?", day.to_string());
            f.raw("a.status <> 'disposed'".into());
        }
        if let Some(c) = filter.custodian {
            f.raw(format!("a.custodian_id = {}", c.0));
        }
        if let Some(q) = filter
            .query
            .as_deref()
            .map(str::trim)
            .filter(|q| !q.is_empty())
        {
            let id = q.trim_start_matches('#');
            if !id.is_empty() && id.len() <= 18 && id.bytes().all(|b| b.is_ascii_digit()) {
                f.raw(format!("a.id = {id}"));
            } else {
                let plan = plan(q);
                let confirm = if plan.grams.is_empty() {
                    plan.words.iter().map(String::as_str).collect()
                } else {
                    // Candidates come from the rarest gram alone (one index range, no
                    // aggregate); the words are then confirmed as substrings of the key.
                    let Some((rarest, count)) = self.rarest_gram(&plan.grams).await? else {
                        return Ok(None);
                    };
                    let clause = if self.backend == Backend::Postgres && count < GRAM_COUNT_CAP {
                        // PostgreSQL underestimates a gram's assets and then hash-joins them
                        // with a scan of the whole register; given as an array, they are
                        // looked up by id in one index scan.
                        "a.id = ANY(ARRAY(SELECT asset_id FROM asset_grams WHERE gram = ?))"
                    } else {
                        "a.id IN (SELECT asset_id FROM asset_grams WHERE gram = ?)"
                    };
                    f.add(clause, rarest.clone());
                    plan.words_to_confirm(&rarest)
                };
                for word in confirm {
                    let escaped = word
                        .replace('\\', "\\\\")
                        .replace('%', "\\%")
                        .replace('_', "\\_");
                    f.add("a.search_text LIKE ? ESCAPE '\\'", format!("%{escaped}%"));
                }
            }
        }
        Ok(Some(f))
    }

    /// The gram of `grams` that the fewest assets are indexed under and their number
    /// (counting at most [`GRAM_COUNT_CAP`] each), or `None` when one of them indexes none:
    /// then nothing matches.
    async fn rarest_gram(&self, grams: &[String]) -> Result<Option<(String, i64)>> {
        let mut rarest: Option<(i64, &String)> = None;
        for gram in grams {
            let n: i64 = sqlx::query_scalar(
                "SELECT COUNT(*) FROM (SELECT 1 FROM asset_grams WHERE gram = $1 LIMIT $2) t",
            )
            .bind(gram)
            .bind(GRAM_COUNT_CAP)
            .fetch_one(&self.pool)
            .await?;
            if n == 0 {
                return Ok(None);
            }
            if rarest.is_none_or(|(m, _)| n < m) {
                rarest = Some((n, gram));
            }
        }
        Ok(rarest.map(|(n, g)| (g.clone(), n)))
    }

    /// A page of assets matching the filter, and the total.
    pub async fn assets_page(
        &self,
        filter: &AssetFilter,
        limit: i64,
        offset: i64,
    ) -> Result<(Vec<AssetRow>, i64)> {
        let Some(f) = self.asset_where(filter).await? else {
            return Ok((Vec::new(), 0));
        };
        let order = filter.sort.sql(filter.descending);
        let narrow_from = if filter.sort == AssetSort::Unit {
            "FROM assets a JOIN units u ON u.id = a.owner_unit_id"
        } else {
            "FROM assets a"
        };
        let query = ListQuery {
            columns: ASSET_COLUMNS,
            from: ASSET_FROM,
            order: &order,
            count_from: Some(narrow_from),
        };
        if filter.searches() {
            // Thousands of matches for a common fragment: read them once, not twice.
            let order = KeyOrder {
                id: "a.id",
                key: filter.sort.key(),
                descending: filter.descending,
                from: narrow_from,
            };
            return query
                .page_one_pass(&self.pool, &f, &order, limit, offset, asset_from_row)
                .await;
        }
        query
            .page(&self.pool, &f, limit, offset, asset_from_row)
            .await
    }

    /// Every asset matching the filter, in order, streamed to `sink` (exports).
    pub async fn assets_for_each(
        &self,
        filter: &AssetFilter,
        sink: impl FnMut(AssetRow) -> Result<()>,
    ) -> Result<()> {
        let Some(f) = self.asset_where(filter).await? else {
            return Ok(());
        };
        let order = filter.sort.sql(filter.descending);
        ListQuery {
            columns: ASSET_COLUMNS,
            from: ASSET_FROM,
            order: &order,
            count_from: None,
        }
        .for_each(&self.pool, &f, asset_from_row, sink)
        .await
    }

    /// One asset.
    pub async fn asset(&self, id: AssetId) -> Result<Option<AssetRow>> {
        let row = sqlx::query(&format!(
            "SELECT {ASSET_COLUMNS} {ASSET_FROM} WHERE a.id = $1"
        ))
        .bind(id.0)
        .fetch_optional(&self.pool)
        .await?;
        row.as_ref().map(asset_from_row).transpose()
    }

    pub(crate) async fn asset_in_tx(tx: &mut WriteTx, id: AssetId) -> Result<AssetRow> {
        let row = sqlx::query(&format!(
            "SELECT {ASSET_COLUMNS} {ASSET_FROM} WHERE a.id = $1"
        ))
        .bind(id.0)
        .fetch_optional(tx.conn())
        .await?
        .ok_or(StoreError::Missing("asset"))?;
        asset_from_row(&row)
    }

    /// Creates an asset.
    pub async fn create_asset(tx: &mut WriteTx, draft: &AssetDraft) -> Result<AssetRow> {
        let scheme = Self::scheme_in_tx(tx).await?;
        Self::write_asset(tx, &scheme, None, draft, "asset.create").await
    }

    /// Changes an asset.
    pub async fn update_asset(
        tx: &mut WriteTx,
        id: AssetId,
        draft: &AssetDraft,
    ) -> Result<AssetRow> {
        let scheme = Self::scheme_in_tx(tx).await?;
        let before = Self::asset_in_tx(tx, id).await?;
        Self::write_asset(tx, &scheme, Some(before), draft, "asset.update").await
    }

    /// Records the disposal of an asset (it stays in the register, with its history).
    pub async fn dispose_asset(
        tx: &mut WriteTx,
        id: AssetId,
        on: time::Date,
        method: &str,
    ) -> Result<AssetRow> {
        let scheme = Self::scheme_in_tx(tx).await?;
        let before = Self::asset_in_tx(tx, id).await?;
        if before.status == AssetStatus::Disposed.code() {
            return Err(StoreError::Rule("error-already-disposed"));
        }
        let mut draft = before.draft()?;
        draft.status = AssetStatus::Disposed;
        draft.disposed_on = Some(on);
        draft.disposal_method = method.to_owned();
        Self::write_asset(tx, &scheme, Some(before), &draft, "asset.dispose").await
    }

    /// The one write path: checks the draft's rules, writes the row with its rank and search
    /// key, refreshes its grams and audits. `before` is the current row for an update; for a
    /// create, `with_id` may name the id to use (imports keep the file's ids).
    pub(crate) async fn write_asset(
        tx: &mut WriteTx,
        scheme: &Scheme,
        before: Option<AssetRow>,
        draft: &AssetDraft,
        action: &str,
    ) -> Result<AssetRow> {
        Self::write_asset_with_id(tx, scheme, before, None, draft, action).await
    }

    pub(crate) async fn write_asset_with_id(
        tx: &mut WriteTx,
        scheme: &Scheme,
        before: Option<AssetRow>,
        with_id: Option<AssetId>,
        draft: &AssetDraft,
        action: &str,
    ) -> Result<AssetRow> {
        let prepared = Prepared::new(scheme, draft)?;
        let id = match &before {
            Some(b) => {
                update_row(tx, b.id, draft, &prepared).await?;
                b.id
            }
            None => insert_row(tx, with_id, draft, &prepared).await?,
        };
        let mut grams = Vec::new();
        refresh_grams(tx, before.as_ref(), id, draft, &prepared.key, &mut grams).await?;
        insert_grams(tx, &grams).await?;
        let after = Self::asset_in_tx(tx, id).await?;
        if let Some(b) = &before {
            // Risk register: a changed class calls the risks naming the asset into question.
            Self::raise_reviews_if_class_changed(tx, b, &after).await?;
        }
        tx.audit_plain(
            action,
            "asset",
            &id.to_string(),
            before.as_ref(),
            Some(&after),
        )
        .await?;
        Ok(after)
    }

    /// [`Store::write_asset_with_id`] for an import's update of `before`, whose references
    /// the import resolved already: the written row is built from the draft and `refs`
    /// instead of being read back (the same columns a read gives), and the new grams are
    /// queued in `batch` for multi-row statements. Audited here, before/after as always. The
    /// caller must [`AssetBatch::flush`] before anything reads the grams and before
    /// committing. (New assets of an import go through [`NewAssets`].)
    pub(crate) async fn update_asset_batched(
        tx: &mut WriteTx,
        scheme: &Scheme,
        before: AssetRow,
        draft: &AssetDraft,
        refs: &AssetRefs,
        batch: &mut AssetBatch,
    ) -> Result<()> {
        let prepared = Prepared::new(scheme, draft)?;
        let id = before.id;
        update_row(tx, id, draft, &prepared).await?;
        refresh_grams(
            tx,
            Some(&before),
            id,
            draft,
            &prepared.key,
            batch.gathering(),
        )
        .await?;
        let after = written_row(id, draft, refs, &prepared, Some(&before));
        // Risk register: a changed class calls the risks naming the asset into question.
        Self::raise_reviews_if_class_changed(tx, &before, &after).await?;
        tx.audit_plain(
            "asset.update",
            "asset",
            &id.to_string(),
            Some(&before),
            Some(&after),
        )
        .await?;
        Ok(())
    }

    /// The assets with these ids (those that exist), in one query (imports read the rows
    /// they may update a chunk at a time).
    pub(crate) async fn assets_by_ids_in_tx(
        tx: &mut WriteTx,
        ids: &[i64],
    ) -> Result<Vec<AssetRow>> {
        if ids.is_empty() {
            return Ok(Vec::new());
        }
        let list = ids.iter().map(i64::to_string).collect::<Vec<_>>().join(",");
        let rows = sqlx::query(&format!(
            "SELECT {ASSET_COLUMNS} {ASSET_FROM} WHERE a.id IN ({list})"
        ))
        .fetch_all(tx.conn())
        .await?;
        rows.iter().map(asset_from_row).collect()
    }
}

/// What an import resolved an asset's references to, so the written row need not be read
/// back: the owner unit's code and name, the custodian's staff id and name.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct AssetRefs {
    pub unit_code: String,
    pub unit_name: String,
    pub custodian: Option<(String, String)>,
}

/// What a write derives from a draft: the confidentiality rank, the search key and the time.
#[derive(Debug, Clone)]
struct Prepared {
    c_rank: i64,
    key: String,
    at: String,
}

impl Prepared {
    /// Checks the draft's rules and derives what is written besides it.
    fn new(scheme: &Scheme, draft: &AssetDraft) -> Result<Prepared> {
        if let Some((_, message)) = draft.problems(scheme).first() {
            return Err(StoreError::Rule(message));
        }
        Ok(Prepared {
            c_rank: scheme
                .level(Axis::Confidentiality, &draft.class.confidentiality)
                .map_or(0, |l| i64::from(l.rank)),
            key: record_key([
                draft.name.as_str(),
                draft.location.as_str(),
                draft.description.as_str(),
            ]),
            at: format_ts(OffsetDateTime::now_utc()),
        })
    }
}

fn day(d: Option<time::Date>) -> Option<String> {
    d.map(|d| d.to_string())
}

type AnyQuery<'q> = sqlx::query::Query<'q, sqlx::Any, sqlx::any::AnyArguments<'q>>;

/// Binds an asset's stored fields in column order, from `name` to `disposal_method`, then its
/// search key and the time (the one list of them every write shares).
fn bind_fields<'q>(q: AnyQuery<'q>, draft: &'q AssetDraft, p: &'q Prepared) -> AnyQuery<'q> {
    q.bind(&draft.name)
        .bind(draft.asset_type.code())
        .bind(draft.owner_unit.0)
        .bind(draft.custodian.map(|p| p.0))
        .bind(draft.segment.code())
        .bind(&draft.class.confidentiality)
        .bind(&draft.class.integrity)
        .bind(&draft.class.availability)
        .bind(p.c_rank)
        .bind(&draft.location)
        .bind(&draft.description)
        .bind(i64::from(draft.personal_data))
        .bind(draft.rto_hours.map(i64::from))
        .bind(day(draft.review_on))
        .bind(draft.status.code())
        .bind(day(draft.disposed_on))
        .bind(&draft.disposal_method)
        .bind(&p.key)
        .bind(&p.at)
}

async fn update_row(tx: &mut WriteTx, id: AssetId, draft: &AssetDraft, p: &Prepared) -> Result<()> {
    bind_fields(
        sqlx::query(
            "UPDATE assets SET name = $1, asset_type = $2, owner_unit_id = $3, custodian_id = $4, segment = $5, \
             confidentiality = $6, integrity = $7, availability = $8, c_rank = $9, location = $10, description = $11, \
             personal_data = $12, rto_hours = $13, review_on = $14, status = $15, disposed_on = $16, \
             disposal_method = $17, search_text = $18, updated_at = $19 WHERE id = $20",
        ),
        draft,
        p,
    )
    .bind(id.0)
    .execute(tx.conn())
    .await
    .map_err(crate::on_unique("asset"))?;
    Ok(())
}

async fn insert_row(
    tx: &mut WriteTx,
    with_id: Option<AssetId>,
    draft: &AssetDraft,
    p: &Prepared,
) -> Result<AssetId> {
    let id_column = if with_id.is_some() { "id, " } else { "" };
    let id_value = with_id.map_or(String::new(), |i| format!("{}, ", i.0));
    let sql = format!(
        "INSERT INTO assets ({id_column}name, asset_type, owner_unit_id, custodian_id, segment, confidentiality, \
         integrity, availability, c_rank, location, description, personal_data, rto_hours, review_on, status, \
         disposed_on, disposal_method, search_text, created_at, updated_at) \
         VALUES ({id_value}$1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13, $14, $15, $16, $17, $18, $19, $19) RETURNING id"
    );
    let row = bind_fields(sqlx::query(&sql), draft, p)
        .fetch_one(tx.conn())
        .await
        .map_err(crate::on_unique("asset"))?;
    Ok(AssetId(row.try_get(0)?))
}

/// How far a gram's assets are counted when choosing the rarest: beyond this, grams are
/// equally common for the purpose.
const GRAM_COUNT_CAP: i64 = 20_000;

/// A gram waiting to be written: its two characters and the asset's id (16 bytes and no
/// allocation each).
pub(crate) type QueuedGram = ([char; 2], i64);

/// Replaces an asset's grams when its search key changed (or it is new): the old ones are
/// deleted now, the new ones appended to `out` for [`insert_grams`].
async fn refresh_grams(
    tx: &mut WriteTx,
    before: Option<&AssetRow>,
    id: AssetId,
    draft: &AssetDraft,
    key: &str,
    out: &mut Vec<QueuedGram>,
) -> Result<()> {
    let key_changed = before.is_none_or(|b| {
        b.name != draft.name || b.location != draft.location || b.description != draft.description
    });
    if key_changed {
        if let Some(b) = before {
            // The old grams, from the old key (the gram index is by gram only: an index by
            // asset would cost every import a second entry per gram).
            let old_key =
                record_key([b.name.as_str(), b.location.as_str(), b.description.as_str()]);
            let old: Vec<String> = grams(&old_key).into_iter().collect();
            let old = serde_json::to_string(&old)
                .map_err(|e| StoreError::Corrupt(format!("grams as JSON: {e}")))?;
            let sql = if tx.is_postgres() {
                "DELETE FROM asset_grams WHERE asset_id = $1 \
                 AND gram IN (SELECT json_array_elements_text(CAST($2 AS json)))"
            } else {
                "DELETE FROM asset_grams WHERE asset_id = $1 AND gram IN (SELECT value FROM json_each($2))"
            };
            sqlx::query(sql)
                .bind(id.0)
                .bind(old)
                .execute(tx.conn())
                .await?;
        }
        push_grams(key, id, out)?;
    }
    Ok(())
}

/// Appends the grams of `key` for asset `id` to `out`.
fn push_grams(key: &str, id: AssetId, out: &mut Vec<QueuedGram>) -> Result<()> {
    for g in grams(key) {
        let mut chars = g.chars();
        let (Some(a), Some(b), None) = (chars.next(), chars.next(), chars.next()) else {
            return Err(StoreError::Corrupt(format!(
                "gram {g:?} is not two characters"
            )));
        };
        // `insert_grams` separates grams with spaces on PostgreSQL.
        if a.is_whitespace() || b.is_whitespace() {
            return Err(StoreError::Corrupt(format!("gram {g:?} holds whitespace")));
        }
        out.push(([a, b], id.0));
    }
    Ok(())
}

/// The row an import writes, built from the draft and what its references resolved to (the
/// same columns a read gives), so that it need not be read back.
fn written_row(
    id: AssetId,
    draft: &AssetDraft,
    refs: &AssetRefs,
    prepared: &Prepared,
    before: Option<&AssetRow>,
) -> AssetRow {
    AssetRow {
        id,
        name: draft.name.clone(),
        asset_type: draft.asset_type.code().to_owned(),
        owner_unit: refs.unit_code.clone(),
        owner_unit_name: refs.unit_name.clone(),
        custodian: refs
            .custodian
            .as_ref()
            .map(|(staff_id, _)| staff_id.clone()),
        custodian_name: refs.custodian.as_ref().map(|(_, name)| name.clone()),
        segment: draft.segment.code().to_owned(),
        confidentiality: draft.class.confidentiality.clone(),
        integrity: draft.class.integrity.clone(),
        availability: draft.class.availability.clone(),
        location: draft.location.clone(),
        description: draft.description.clone(),
        personal_data: draft.personal_data,
        rto_hours: draft.rto_hours.map(i64::from),
        review_on: day(draft.review_on),
        status: draft.status.code().to_owned(),
        disposed_on: day(draft.disposed_on),
        disposal_method: draft.disposal_method.clone(),
        created_at: before.map_or_else(|| prepared.at.clone(), |b| b.created_at.clone()),
        updated_at: prepared.at.clone(),
        owner_unit_id: draft.owner_unit,
        custodian_id: draft.custodian,
    }
}

/// A new asset waiting for its multi-row INSERT.
#[derive(Debug)]
struct PendingInsert {
    id: AssetId,
    draft: AssetDraft,
    prepared: Prepared,
}

/// The grams an import writes (of its updates and its new assets), kept until every row is
/// written and then inserted in gram order: sorted, each insert lands next to the one before
/// in the gram index instead of anywhere in it, and into an empty index every insert appends
/// (an import of 100,000 new assets went from 8.3 to 6.3 s on SQLite; PostgreSQL inserts its
/// 1.6 million grams in 2.4 s sorted, 7.0 s in random order). Kept as sorted runs, merged
/// while writing, so that the grams are never copied into one growing array.
#[derive(Debug, Default)]
pub(crate) struct AssetBatch {
    /// Sorted runs.
    runs: Vec<Vec<QueuedGram>>,
    /// Grams of updates, gathered until they make a run of [`AssetBatch::RUN`].
    gathering: Vec<QueuedGram>,
}

/// New assets per multi-row INSERT (21 parameters each).
const ASSETS_PER_INSERT: usize = 100;

impl AssetBatch {
    /// Grams gathered from updates before they are sorted into a run.
    const RUN: usize = 4096;

    /// Keeps grams for [`AssetBatch::flush`].
    pub(crate) fn queue(&mut self, mut grams: Vec<QueuedGram>) {
        if !grams.is_empty() {
            grams.sort_unstable();
            self.runs.push(grams);
        }
    }

    /// Where an update's grams are gathered.
    fn gathering(&mut self) -> &mut Vec<QueuedGram> {
        if self.gathering.len() >= Self::RUN {
            let full = std::mem::take(&mut self.gathering);
            self.queue(full);
        }
        &mut self.gathering
    }

    /// Writes everything queued, in gram order.
    pub(crate) async fn flush(&mut self, tx: &mut WriteTx) -> Result<()> {
        let gathered = std::mem::take(&mut self.gathering);
        self.queue(gathered);
        let runs = std::mem::take(&mut self.runs);
        // The next gram of each run, smallest first.
        let mut heads: BinaryHeap<Reverse<(QueuedGram, usize, usize)>> = runs
            .iter()
            .enumerate()
            .filter_map(|(r, run)| run.first().map(|g| Reverse((*g, r, 0))))
            .collect();
        let mut statement = Vec::with_capacity(GRAMS_PER_STATEMENT);
        while let Some(Reverse((gram, r, i))) = heads.pop() {
            statement.push(gram);
            if let Some(next) = runs[r].get(i + 1) {
                heads.push(Reverse((*next, r, i + 1)));
            }
            if statement.len() == GRAMS_PER_STATEMENT {
                insert_grams(tx, &statement).await?;
                statement.clear();
            }
        }
        insert_grams(tx, &statement).await
    }
}

/// New assets of an import with their ids, prepared for writing without the database: the
/// rows, their grams and their audit text (`asset.create`, after only, as
/// [`Store::write_asset_with_id`] writes it). An import prepares the next of these while the
/// database writes the last (see `import_assets.rs`), so the two cores share the work.
#[derive(Debug, Default)]
pub(crate) struct NewAssets {
    inserts: Vec<PendingInsert>,
    grams: Vec<QueuedGram>,
    /// Each row's id, time and audit `after`.
    audits: Vec<(AssetId, String, Option<String>)>,
}

impl NewAssets {
    /// Prepares asset `id` from `draft`; `annotation` is the write transaction's
    /// ([`WriteTx::annotation`]).
    pub(crate) fn push(
        &mut self,
        scheme: &Scheme,
        id: AssetId,
        draft: AssetDraft,
        refs: &AssetRefs,
        annotation: Option<&(String, String)>,
    ) -> Result<()> {
        let prepared = Prepared::new(scheme, &draft)?;
        push_grams(&prepared.key, id, &mut self.grams)?;
        let after = written_row(id, &draft, refs, &prepared, None);
        let after = plain_audit_json(Some(&after), annotation)?;
        self.audits.push((id, prepared.at.clone(), after));
        self.inserts.push(PendingInsert {
            id,
            draft,
            prepared,
        });
        Ok(())
    }

    /// How many assets are prepared.
    pub(crate) fn len(&self) -> usize {
        self.inserts.len()
    }

    /// Writes the prepared assets and their audit entries, and hands back their grams for an
    /// [`AssetBatch`] (flushed before anything reads the grams and before committing).
    pub(crate) async fn write(self, tx: &mut WriteTx) -> Result<Vec<QueuedGram>> {
        for chunk in self.inserts.chunks(ASSETS_PER_INSERT) {
            insert_rows(tx, chunk).await?;
        }
        for (id, at, after) in self.audits {
            tx.audit_text(at, "asset.create", "asset", &id.0.to_string(), None, after)
                .await?;
        }
        Ok(self.grams)
    }
}

/// Columns of a new asset row written with its id (`created_at` and `updated_at` are bound to
/// the same time).
const INSERT_COLUMNS: &str = "id, name, asset_type, owner_unit_id, custodian_id, segment, confidentiality, \
     integrity, availability, c_rank, location, description, personal_data, rto_hours, review_on, status, \
     disposed_on, disposal_method, search_text, created_at, updated_at";
const INSERT_PARAMS: usize = 21;

/// Writes new rows with one round trip to the database: on PostgreSQL one multi-row
/// `INSERT`, on SQLite one single-row `INSERT` per row sent as one query. SQLite keeps a
/// statement journal of every page a multi-row statement touches whenever a foreign key
/// (here the owner unit and the custodian) might abort it — a fifth of an import's database
/// work, copying pages of the table and its eight indexes — and none for a single row.
async fn insert_rows(tx: &mut WriteTx, rows: &[PendingInsert]) -> Result<()> {
    if rows.is_empty() {
        return Ok(());
    }
    let sql = if tx.is_postgres() {
        format!(
            "INSERT INTO assets ({INSERT_COLUMNS}) VALUES {}",
            values_list(true, rows.len(), INSERT_PARAMS)
        )
    } else {
        format!(
            "INSERT INTO assets ({INSERT_COLUMNS}) VALUES {};",
            values_list(false, 1, INSERT_PARAMS)
        )
        .repeat(rows.len())
    };
    let mut q = sqlx::query(&sql);
    for r in rows {
        q = bind_fields(q.bind(r.id.0), &r.draft, &r.prepared).bind(&r.prepared.at);
    }
    q.execute(tx.conn())
        .await
        .map_err(crate::on_unique("asset"))?;
    Ok(())
}

/// Most grams in one INSERT.
const GRAMS_PER_STATEMENT: usize = 5000;

/// Inserts (gram, asset id) pairs, [`GRAMS_PER_STATEMENT`] to a statement, each statement's
/// pairs bound as one or two parameters: binding two parameters per pair cost more than the
/// database's own work on the index (an import of 100,000 assets writes 1.6 million grams).
/// SQLite reads them as one JSON array; PostgreSQL as two space-separated lists (a gram never
/// holds whitespace: see [`grams`]), which it splits faster than it parses JSON.
async fn insert_grams(tx: &mut WriteTx, grams: &[QueuedGram]) -> Result<()> {
    for chunk in grams.chunks(GRAMS_PER_STATEMENT) {
        if tx.is_postgres() {
            let mut gram_list = String::with_capacity(chunk.len() * 7);
            let mut id_list = String::with_capacity(chunk.len() * 7);
            for (i, (g, id)) in chunk.iter().enumerate() {
                if i > 0 {
                    gram_list.push(' ');
                    id_list.push(' ');
                }
                gram_list.extend(g);
                // Writing to a String cannot fail.
                let _ = write!(id_list, "{id}");
            }
            sqlx::query(
                "INSERT INTO asset_grams (gram, asset_id) \
                 SELECT g, CAST(i AS BIGINT) FROM unnest(string_to_array($1, ' '), string_to_array($2, ' ')) AS t(g, i)",
            )
            .bind(gram_list)
            .bind(id_list)
            .execute(tx.conn())
            .await?;
        } else {
            let pairs: Vec<(String, i64)> = chunk
                .iter()
                .map(|(g, id)| (String::from_iter(g), *id))
                .collect();
            let json = serde_json::to_string(&pairs)
                .map_err(|e| StoreError::Corrupt(format!("grams as JSON: {e}")))?;
            // OR FAIL: see `insert_failing`.
            sqlx::query(
                "INSERT OR FAIL INTO asset_grams (gram, asset_id) SELECT value ->> 0, value ->> 1 FROM json_each($1)",
            )
            .bind(json)
            .execute(tx.conn())
            .await?;
        }
    }
    Ok(())
}

/// One side of a relation, briefly.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, ToSchema)]
pub struct AssetBrief {
    /// 資産ID.
    #[schema(value_type = i64)]
    pub id: AssetId,
    /// 名称.
    pub name: String,
    /// 種別 (code).
    pub asset_type: String,
    /// 機密性.
    pub confidentiality: String,
    /// 完全性.
    pub integrity: String,
    /// 可用性.
    pub availability: String,
    /// 状態 (code).
    pub status: String,
    /// The owner unit's id (internal).
    #[serde(skip)]
    #[schema(ignore)]
    pub owner_unit_id: UnitId,
}

impl AssetBrief {
    /// Its class.
    pub fn class(&self) -> Class {
        Class {
            confidentiality: self.confidentiality.clone(),
            integrity: self.integrity.clone(),
            availability: self.availability.clone(),
        }
    }
}

/// A relation between two assets.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, ToSchema)]
pub struct RelationRow {
    /// Internal id.
    pub id: i64,
    /// Relation kind (code).
    pub kind: String,
    /// The `from` asset.
    pub from: AssetBrief,
    /// The `to` asset.
    pub to: AssetBrief,
}

impl RelationRow {
    /// The relation kind.
    pub fn relation_kind(&self) -> Option<RelationKind> {
        RelationKind::parse(&self.kind)
    }
}

const RELATION_COLUMNS: &str = "r.id, r.kind, \
    f.id AS f_id, f.name AS f_name, f.asset_type AS f_type, f.confidentiality AS f_c, f.integrity AS f_i, f.availability AS f_a, f.status AS f_status, f.owner_unit_id AS f_unit, \
    t.id AS t_id, t.name AS t_name, t.asset_type AS t_type, t.confidentiality AS t_c, t.integrity AS t_i, t.availability AS t_a, t.status AS t_status, t.owner_unit_id AS t_unit";
const RELATION_FROM: &str =
    "FROM asset_relations r JOIN assets f ON f.id = r.from_id JOIN assets t ON t.id = r.to_id";

fn relation_from_row(r: &AnyRow) -> Result<RelationRow> {
    let brief = |p: &str| -> Result<AssetBrief> {
        Ok(AssetBrief {
            id: AssetId(r.try_get(format!("{p}_id").as_str())?),
            name: r.try_get(format!("{p}_name").as_str())?,
            asset_type: r.try_get(format!("{p}_type").as_str())?,
            confidentiality: r.try_get(format!("{p}_c").as_str())?,
            integrity: r.try_get(format!("{p}_i").as_str())?,
            availability: r.try_get(format!("{p}_a").as_str())?,
            status: r.try_get(format!("{p}_status").as_str())?,
            owner_unit_id: UnitId(r.try_get(format!("{p}_unit").as_str())?),
        })
    };
    Ok(RelationRow {
        id: r.try_get("id")?,
        kind: r.try_get("kind")?,
        from: brief("f")?,
        to: brief("t")?,
    })
}

impl Store {
    /// The relations an asset takes part in, either side.
    pub async fn asset_relations(&self, id: AssetId) -> Result<Vec<RelationRow>> {
        let rows = sqlx::query(&format!(
            "SELECT {RELATION_COLUMNS} {RELATION_FROM} WHERE r.from_id = $1 OR r.to_id = $1 ORDER BY r.kind, r.id"
        ))
        .bind(id.0)
        .fetch_all(&self.pool)
        .await?;
        rows.iter().map(relation_from_row).collect()
    }

    /// One relation.
    pub async fn relation(&self, id: i64) -> Result<Option<RelationRow>> {
        let row = sqlx::query(&format!(
            "SELECT {RELATION_COLUMNS} {RELATION_FROM} WHERE r.id = $1"
        ))
        .bind(id)
        .fetch_optional(&self.pool)
        .await?;
        row.as_ref().map(relation_from_row).transpose()
    }

    /// Every relation (exports), ordered by from, kind and to.
    pub async fn relations_for_each(
        &self,
        scope_units: Option<Vec<UnitId>>,
        sink: impl FnMut(RelationRow) -> Result<()>,
    ) -> Result<()> {
        let mut f = Filter::default();
        if let Some(units) = scope_units {
            let ids = id_list(&units);
            if ids.is_empty() {
                return Ok(());
            }
            f.raw(format!(
                "f.owner_unit_id IN ({ids}) AND t.owner_unit_id IN ({ids})"
            ));
        }
        ListQuery {
            columns: RELATION_COLUMNS,
            from: RELATION_FROM,
            order: "r.from_id, r.kind, r.to_id",
            count_from: None,
        }
        .for_each(&self.pool, &f, relation_from_row, sink)
        .await
    }

    /// Relates two assets. Refused: an asset with itself, a kind that does not fit the types,
    /// a disposed asset, the same relation twice.
    pub async fn add_relation(
        tx: &mut WriteTx,
        from: AssetId,
        to: AssetId,
        kind: RelationKind,
    ) -> Result<i64> {
        if from == to {
            return Err(StoreError::Rule("error-relation-self"));
        }
        let a = Self::asset_in_tx(tx, from).await?;
        let b = Self::asset_in_tx(tx, to).await?;
        let disposed = AssetStatus::Disposed.code();
        if a.status == disposed || b.status == disposed {
            return Err(StoreError::Rule("error-asset-disposed"));
        }
        let (Some(ta), Some(tb)) = (
            AssetType::parse(&a.asset_type),
            AssetType::parse(&b.asset_type),
        ) else {
            return Err(StoreError::Corrupt("asset type".into()));
        };
        if !kind.allows(ta, tb) {
            return Err(StoreError::Rule("error-relation-types"));
        }
        let id: i64 = sqlx::query_scalar(
            "INSERT INTO asset_relations (from_id, to_id, kind, created_at) VALUES ($1, $2, $3, $4) RETURNING id",
        )
        .bind(from.0)
        .bind(to.0)
        .bind(kind.code())
        .bind(format_ts(OffsetDateTime::now_utc()))
        .fetch_one(tx.conn())
        .await
        .map_err(crate::on_unique("relation"))?;
        tx.audit(
            "asset.relate",
            "asset_relation",
            &id.to_string(),
            None,
            Some(serde_json::json!({"from": from.0, "to": to.0, "kind": kind.code()})),
        )
        .await?;
        Ok(id)
    }

    /// Removes a relation.
    pub async fn remove_relation(tx: &mut WriteTx, id: i64) -> Result<()> {
        let row: Option<(i64, i64, String)> =
            sqlx::query_as("SELECT from_id, to_id, kind FROM asset_relations WHERE id = $1")
                .bind(id)
                .fetch_optional(tx.conn())
                .await?;
        let Some((from, to, kind)) = row else {
            return Err(StoreError::Missing("relation"));
        };
        sqlx::query("DELETE FROM asset_relations WHERE id = $1")
            .bind(id)
            .execute(tx.conn())
            .await?;
        tx.audit(
            "asset.unrelate",
            "asset_relation",
            &id.to_string(),
            Some(serde_json::json!({"from": from, "to": to, "kind": kind})),
            None,
        )
        .await?;
        Ok(())
    }

    /// Assets a person is custodian of (not disposed): what must be reassigned when they leave.
    pub async fn assets_in_custody(&self, person: PersonId) -> Result<Vec<AssetRow>> {
        let rows = sqlx::query(&format!(
            "SELECT {ASSET_COLUMNS} {ASSET_FROM} WHERE a.custodian_id = $1 AND a.status <> 'disposed' ORDER BY a.name, a.id"
        ))
        .bind(person.0)
        .fetch_all(&self.pool)
        .await?;
        rows.iter().map(asset_from_row).collect()
    }
}
