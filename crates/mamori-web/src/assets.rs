//! What pages and the API share about assets: who sees which asset, the list filters as a
//! query string, and turning submitted fields (a form or a JSON body) into an [`AssetDraft`].
//!
//! Decisions (issue 3): `assets.read` on a unit shows all its assets; everyone's role gives
//! `assets.read_basic` on their own unit, which shows assets of confidentiality tier ≤ 2;
//! `assets.edit` on the owning unit changes an asset (moving it needs the permission on both
//! units). An asset the principal may not see answers 404, not 403, so its existence is not
//! revealed.

use crate::error::{AppError, AppResult};
use crate::session::Principal;
use crate::AppState;
use mamori_domain::assets::classification::{Axis, Class, Scheme};
use mamori_domain::assets::{may_see_asset, AssetDraft, AssetStatus, AssetType, Segment};
use mamori_domain::authz::Target;
use mamori_domain::interchange::values::{fold, parse_bool};
use mamori_domain::permission::Permission;
use mamori_domain::wareki::parse_date;
use mamori_domain::{AssetId, UnitId};
use mamori_store::{AssetFilter, AssetRow, AssetScope, AssetSort, StatusFilter};
use serde::Deserialize;

/// The confidentiality tier of a level (unknown levels count as the strictest).
pub fn tier(scheme: &Scheme, confidentiality: &str) -> u8 {
    scheme
        .level(Axis::Confidentiality, confidentiality)
        .map_or(3, |l| l.tier)
}

/// The visibility of the asset register for a principal (`None`: everything).
pub async fn scope(
    state: &AppState,
    p: &Principal,
    scheme: &Scheme,
) -> AppResult<Option<AssetScope>> {
    let Some(full) = p.grants.unit_roots(Permission::AssetsRead) else {
        return Ok(None);
    };
    let basic = match p.grants.unit_roots(Permission::AssetsReadBasic) {
        Some(b) => b,
        None => state
            .store
            .units()
            .await?
            .into_iter()
            .filter(|u| u.parent_id.is_none())
            .map(|u| u.id)
            .collect(),
    };
    Ok(Some(AssetScope {
        full,
        basic,
        basic_levels: scheme
            .basic_confidentiality_levels()
            .into_iter()
            .map(String::from)
            .collect(),
    }))
}

/// An asset the principal may see, with its unit's lineage; 404 otherwise.
pub async fn visible(
    state: &AppState,
    p: &Principal,
    scheme: &Scheme,
    id: i64,
) -> AppResult<(AssetRow, Vec<UnitId>)> {
    let asset = state
        .store
        .asset(AssetId(id))
        .await?
        .ok_or(AppError::NotFound)?;
    let lineage = state.store.unit_lineage(asset.owner_unit_id).await?;
    if !may_see_asset(&p.grants, &lineage, tier(scheme, &asset.confidentiality)) {
        return Err(AppError::NotFound);
    }
    Ok((asset, lineage))
}

/// An asset the principal may see and change; 404 when hidden, 403 when only visible.
pub async fn editable(
    state: &AppState,
    p: &Principal,
    scheme: &Scheme,
    id: i64,
) -> AppResult<AssetRow> {
    let (asset, lineage) = visible(state, p, scheme, id).await?;
    p.require(Permission::AssetsEdit, &Target::Unit { lineage: &lineage })?;
    Ok(asset)
}

/// True when the principal may change assets of the unit with this lineage.
pub fn may_edit(p: &Principal, lineage: &[UnitId]) -> bool {
    p.can(Permission::AssetsEdit, &Target::Unit { lineage })
}

/// List filters as a page or the API takes them (all optional, as strings).
#[derive(Debug, Clone, Default, Deserialize)]
#[serde(default)]
pub struct ListParams {
    /// Free text.
    pub q: String,
    /// 種別 code.
    pub asset_type: String,
    /// ネットワーク区分 code.
    pub segment: String,
    /// Owner unit code (with the units beneath it).
    pub unit: String,
    /// 機密性.
    pub confidentiality: String,
    /// 完全性.
    pub integrity: String,
    /// 可用性.
    pub availability: String,
    /// `true` / `false`.
    pub personal_data: String,
    /// `active`, `all`, or a status code.
    pub status: String,
    /// `true`: review date passed.
    pub overdue: String,
    /// 管理者 staff id.
    pub custodian: String,
    /// Sort code (see [`AssetSort::ALL`]).
    pub sort: String,
    /// `desc` for descending.
    pub order: String,
}

impl ListParams {
    /// The parameters as a query string (for paging, export links and sorting links).
    pub fn query_string(&self) -> String {
        crate::view::query_string(&self.pairs())
    }

    fn pairs(&self) -> Vec<(&'static str, &str)> {
        vec![
            ("q", &self.q),
            ("asset_type", &self.asset_type),
            ("segment", &self.segment),
            ("unit", &self.unit),
            ("confidentiality", &self.confidentiality),
            ("integrity", &self.integrity),
            ("availability", &self.availability),
            ("personal_data", &self.personal_data),
            ("status", &self.status),
            ("overdue", &self.overdue),
            ("custodian", &self.custodian),
            ("sort", &self.sort),
            ("order", &self.order),
        ]
    }

    /// The store filter, or the first parameter that is not understood (400, naming it).
    /// `default_status` applies when `status` is empty (pages hide disposed assets by default;
    /// the API lists everything).
    pub async fn filter(
        &self,
        state: &AppState,
        scheme: &Scheme,
        scope: Option<AssetScope>,
        default_status: StatusFilter,
        today: time::Date,
    ) -> AppResult<AssetFilter> {
        let bad =
            |field: &str| AppError::Invalid(vec![(field.to_owned(), "error-bad-filter".into())]);
        let asset_type = opt(&self.asset_type)
            .map(|v| AssetType::parse(v).ok_or_else(|| bad("asset_type")))
            .transpose()?;
        let segment = opt(&self.segment)
            .map(|v| Segment::parse(v).ok_or_else(|| bad("segment")))
            .transpose()?;
        let unit = match opt(&self.unit) {
            Some(code) => Some(
                state
                    .store
                    .unit_by_code(&fold(code))
                    .await?
                    .ok_or_else(|| bad("unit"))?
                    .id,
            ),
            None => None,
        };
        let mut levels = Vec::new();
        for (axis, v) in [
            (Axis::Confidentiality, &self.confidentiality),
            (Axis::Integrity, &self.integrity),
            (Axis::Availability, &self.availability),
        ] {
            if let Some(v) = opt(v) {
                let level = scheme.parse(axis, v).ok_or_else(|| bad(axis.column()))?;
                levels.push((axis, level.code.clone()));
            }
        }
        let personal_data = opt(&self.personal_data)
            .map(|v| parse_bool(v).ok_or_else(|| bad("personal_data")))
            .transpose()?;
        let status = match opt(&self.status) {
            None => default_status,
            Some("active") => StatusFilter::Active,
            Some("all") => StatusFilter::Any,
            Some(v) => StatusFilter::Is(AssetStatus::parse(v).ok_or_else(|| bad("status"))?),
        };
        let overdue = opt(&self.overdue)
            .map(|v| parse_bool(v).ok_or_else(|| bad("overdue")))
            .transpose()?
            .unwrap_or(false);
        let custodian = match opt(&self.custodian) {
            Some(staff) => Some(
                state
                    .store
                    .person_by_staff_id(&fold(staff))
                    .await?
                    .ok_or_else(|| bad("custodian"))?
                    .id,
            ),
            None => None,
        };
        let sort = match opt(&self.sort) {
            Some(s) => AssetSort::parse(s).ok_or_else(|| bad("sort"))?,
            None => AssetSort::default(),
        };
        let descending = match opt(&self.order) {
            None | Some("asc") => false,
            Some("desc") => true,
            Some(_) => return Err(bad("order")),
        };
        Ok(AssetFilter {
            scope,
            asset_type,
            segment,
            unit,
            levels,
            personal_data,
            status,
            overdue_on: overdue.then_some(today),
            custodian,
            query: opt(&self.q).map(str::to_owned),
            sort,
            descending,
        })
    }
}

/// A trimmed, non-empty parameter.
fn opt(v: &str) -> Option<&str> {
    Some(v.trim()).filter(|v| !v.is_empty())
}

/// An asset's fields as submitted (a form, or the API's JSON turned into the same strings).
#[derive(Debug, Clone, Default, Deserialize)]
#[serde(default)]
pub struct AssetFields {
    /// 名称.
    pub name: String,
    /// 種別.
    pub asset_type: String,
    /// 所管組織 (code).
    pub owner_unit: String,
    /// 管理者 (staff id).
    pub custodian: String,
    /// ネットワーク区分.
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
    /// A checkbox (`on`) or a boolean word.
    pub personal_data: String,
    /// 目標復旧時間（時間）.
    pub rto_hours: String,
    /// 次回見直し日 (any date spelling).
    pub review_on: String,
    /// 状態.
    pub status: String,
    /// 廃棄日.
    pub disposed_on: String,
    /// 廃棄方法.
    pub disposal_method: String,
}

impl AssetFields {
    /// The fields of a stored asset (what an edit form starts from).
    pub fn of(a: &AssetRow) -> AssetFields {
        AssetFields {
            name: a.name.clone(),
            asset_type: a.asset_type.clone(),
            owner_unit: a.owner_unit.clone(),
            custodian: a.custodian.clone().unwrap_or_default(),
            segment: a.segment.clone(),
            confidentiality: a.confidentiality.clone(),
            integrity: a.integrity.clone(),
            availability: a.availability.clone(),
            location: a.location.clone(),
            description: a.description.clone(),
            personal_data: if a.personal_data {
                "on".into()
            } else {
                String::new()
            },
            rto_hours: a.rto_hours.map(|h| h.to_string()).unwrap_or_default(),
            review_on: a.review_on.clone().unwrap_or_default(),
            status: a.status.clone(),
            disposed_on: a.disposed_on.clone().unwrap_or_default(),
            disposal_method: a.disposal_method.clone(),
        }
    }
}

/// Field problems as (field, message id).
pub type FieldProblems = Vec<(&'static str, &'static str)>;

/// Turns submitted fields into a draft: every reference resolved, the principal allowed to
/// edit on the owner unit, every rule of [`AssetDraft::problems`] checked.
pub async fn draft(
    state: &AppState,
    p: &Principal,
    scheme: &Scheme,
    f: &AssetFields,
) -> AppResult<Result<AssetDraft, FieldProblems>> {
    let mut problems: FieldProblems = Vec::new();
    let asset_type = AssetType::parse(&f.asset_type);
    if asset_type.is_none() {
        problems.push(("asset_type", "error-unknown-asset-type"));
    }
    let segment = if f.segment.trim().is_empty() {
        Some(Segment::None)
    } else {
        Segment::parse(&f.segment)
    };
    if segment.is_none() {
        problems.push(("segment", "error-unknown-segment"));
    }
    let status = if f.status.trim().is_empty() {
        Some(AssetStatus::InUse)
    } else {
        AssetStatus::parse(&f.status)
    };
    if status.is_none() {
        problems.push(("status", "error-unknown-status"));
    }
    let owner_unit = match state.store.unit_by_code(&fold(&f.owner_unit)).await? {
        Some(u) => {
            let lineage = state.store.unit_lineage(u.id).await?;
            if !may_edit(p, &lineage) {
                problems.push(("owner_unit", "error-unit-not-permitted"));
            }
            Some(u.id)
        }
        None => {
            problems.push(("owner_unit", "error-unknown-unit"));
            None
        }
    };
    let custodian = match fold(&f.custodian) {
        s if s.is_empty() => Some(None),
        s => match state.store.person_by_staff_id(&s).await? {
            Some(person) => Some(Some(person.id)),
            None => {
                problems.push(("custodian", "error-unknown-person"));
                None
            }
        },
    };
    let mut date = |field: &'static str, v: &str| -> Option<time::Date> {
        let v = fold(v);
        if v.is_empty() {
            return None;
        }
        match parse_date(&v) {
            Ok(d) => Some(d),
            Err(e) => {
                problems.push((field, e.message_id()));
                None
            }
        }
    };
    let review_on = date("review_on", &f.review_on);
    let disposed_on = date("disposed_on", &f.disposed_on);
    let rto_hours = match fold(&f.rto_hours) {
        s if s.is_empty() => None,
        s => match s.parse::<u32>() {
            Ok(h) => Some(h),
            Err(_) => {
                problems.push(("rto_hours", "error-number"));
                None
            }
        },
    };
    let personal_data = match f.personal_data.trim() {
        "" => false,
        "on" => true,
        v => parse_bool(v).unwrap_or_else(|| {
            problems.push(("personal_data", "import-bad-boolean"));
            false
        }),
    };
    let level = |axis: Axis, v: &str| {
        scheme
            .parse(axis, v)
            .map_or_else(|| fold(v).to_ascii_uppercase(), |l| l.code.clone())
    };
    let (Some(asset_type), Some(segment), Some(status), Some(owner_unit), Some(custodian)) =
        (asset_type, segment, status, owner_unit, custodian)
    else {
        return Ok(Err(problems));
    };
    let d = AssetDraft {
        name: f.name.trim().to_owned(),
        asset_type,
        owner_unit,
        custodian,
        segment,
        class: Class {
            confidentiality: level(Axis::Confidentiality, &f.confidentiality),
            integrity: level(Axis::Integrity, &f.integrity),
            availability: level(Axis::Availability, &f.availability),
        },
        location: f.location.clone(),
        description: f.description.clone(),
        personal_data,
        rto_hours,
        review_on,
        status,
        disposed_on,
        disposal_method: f.disposal_method.trim().to_owned(),
    };
    problems.extend(d.problems(scheme));
    if f.location.chars().count() > 500 {
        problems.push(("location", "error-too-long"));
    }
    if f.description.chars().count() > 4000 {
        problems.push(("description", "error-too-long"));
    }
    Ok(if problems.is_empty() {
        Ok(d)
    } else {
        Err(problems)
    })
}
