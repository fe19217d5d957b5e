//! Coverage and traceability: each clause of the basic policy in force → the controls that
//! implement it → their status across units → the open risks they treat → the assets behind
//! those risks. Counts first, with a detail page per clause; and the `control-status` export.
//!
//! Decisions (the counting rules are the store's, see `mamori_store::coverage`):
//! - The pages, the API and the export are for status readers (`people.read`, `assets.read`
//!   or `controls.update` on some unit). Statuses are counted over the units where the reader
//!   holds one of those; risks over the units where the reader holds `assets.read` or
//!   `risks.edit` (unit grants cover sub-units). The `unit` filter narrows both to that unit
//!   and the units beneath it; a unit the reader may not read statuses of answers 403.
//! - The assets behind a clause's risks are listed by name (and linked) only where the reader
//!   holds `assets.read` on the owner unit; others show as an asset one may not read, so the
//!   count stays honest without revealing names.

use crate::error::{AppError, AppResult};
use crate::i18n::{tr, Lang};
use crate::session::Principal;
use crate::view::{query_string, Chrome, Ctx, Pager};
use askama::Template;
use axum::extract::{Path, Query};
use axum::response::Response;
use mamori_domain::assets::AssetType;
use mamori_domain::authz::Target;
use mamori_domain::interchange::control_status::{ControlStatusRecord, ControlStatuses};
use mamori_domain::permission::Permission;
use mamori_domain::UnitId;
use mamori_store::{
    ControlStatusFilter, CoverageAsset, CoverageClause, CoverageControl, CoverageScope, Store,
    UnitRow,
};
use serde::Deserialize;
use std::collections::HashSet;

/// Assets per page on a clause's page.
const PER_PAGE: i64 = 50;

use super::units_with_any as units_with;

fn intersect(a: Option<Vec<UnitId>>, b: Option<&[UnitId]>) -> Option<Vec<UnitId>> {
    match (a, b) {
        (None, None) => None,
        (None, Some(b)) => Some(b.to_vec()),
        (Some(a), None) => Some(a),
        (Some(a), Some(b)) => {
            let b: HashSet<&UnitId> = b.iter().collect();
            Some(a.into_iter().filter(|u| b.contains(u)).collect())
        }
    }
}

/// The unit named by a `unit` filter (400 when unknown, 403 when its statuses are not the
/// reader's to see) and its subtree.
pub(crate) async fn unit_filter(
    store: &Store,
    p: &Principal,
    code: &str,
) -> AppResult<Option<(UnitRow, Vec<UnitId>)>> {
    let code = code.trim();
    if code.is_empty() {
        return Ok(None);
    }
    let unit = store
        .unit_by_code(code)
        .await?
        .ok_or(AppError::BadRequest("error-bad-filter"))?;
    let lineage = store.unit_lineage(unit.id).await?;
    let target = Target::Unit { lineage: &lineage };
    if !crate::pages::catalogue::STATUS_READ
        .iter()
        .any(|perm| p.can(*perm, &target))
    {
        return Err(AppError::Forbidden);
    }
    let subtree = store.unit_subtrees(&[unit.id]).await?;
    Ok(Some((unit, subtree)))
}

/// What the reader may count, narrowed to `subtree` when given.
pub(crate) async fn scope(
    store: &Store,
    p: &Principal,
    subtree: Option<&[UnitId]>,
) -> AppResult<CoverageScope> {
    let statuses = units_with(store, p, &crate::pages::catalogue::STATUS_READ).await?;
    let risks = units_with(store, p, &crate::pages::risks::RISK_READ).await?;
    Ok(CoverageScope {
        status_units: intersect(statuses, subtree),
        risk_units: intersect(risks, subtree),
    })
}

/// The `unit` filter.
#[derive(Debug, Default, Deserialize)]
pub struct CoverageQuery {
    #[serde(default)]
    unit: String,
    page: Option<i64>,
}

struct Labels {
    lang: Lang,
}

impl Labels {
    fn asset_type(&self, code: &str) -> String {
        AssetType::parse(code).map_or(code.to_owned(), |t| tr(self.lang, &t.message_id()))
    }
}

#[derive(Template)]
#[template(path = "coverage.html")]
struct CoveragePage {
    c: Chrome,
    clauses: Vec<CoverageClause>,
    units: Vec<UnitRow>,
    unit: String,
    export_query: String,
}

impl CoveragePage {
    fn clause_link(&self, anchor: &str) -> String {
        format!("/coverage/{}{}", anchor, self.export_query)
    }
}

/// The units offered in the filter: those whose statuses the reader may see.
async fn filter_units(store: &Store, p: &Principal) -> AppResult<Vec<UnitRow>> {
    let visible = units_with(store, p, &crate::pages::catalogue::STATUS_READ).await?;
    let visible: Option<HashSet<UnitId>> = visible.map(|v| v.into_iter().collect());
    let mut units: Vec<UnitRow> = store
        .units()
        .await?
        .into_iter()
        .filter(|u| u.in_scope && visible.as_ref().is_none_or(|v| v.contains(&u.id)))
        .collect();
    units.sort_by(|a, b| a.code.cmp(&b.code));
    Ok(units)
}

fn unit_query(unit: &str) -> String {
    let q = query_string(&[("unit", unit)]);
    if q.is_empty() {
        q
    } else {
        format!("?{q}")
    }
}

/// GET `/coverage`.
pub async fn index(ctx: Ctx, Query(q): Query<CoverageQuery>) -> AppResult<Response> {
    let p = ctx.principal()?;
    let store = &ctx.state.store;
    let filter = unit_filter(store, p, &q.unit).await?;
    let scope = scope(store, p, filter.as_ref().map(|(_, s)| s.as_slice())).await?;
    let clauses = store.coverage(&scope).await?;
    let unit = filter.map(|(u, _)| u.code).unwrap_or_default();
    Ok(ctx.page(&CoveragePage {
        c: ctx.chrome(),
        clauses,
        units: filter_units(store, p).await?,
        export_query: unit_query(&unit),
        unit,
    }))
}

#[derive(Template)]
#[template(path = "coverage_clause.html")]
struct ClausePage {
    c: Chrome,
    l: Labels,
    clause: CoverageClause,
    children: Vec<CoverageClause>,
    controls: Vec<CoverageControl>,
    assets: Vec<(CoverageAsset, bool)>,
    pager: Pager,
    unit: String,
    unit_query: String,
}

impl ClausePage {
    fn risks_link(&self, control: &str) -> String {
        let q = query_string(&[("control", control), ("unit", &self.unit)]);
        format!("/risks?{q}")
    }
}

/// GET `/coverage/{anchor}`.
pub async fn clause(
    ctx: Ctx,
    Path(anchor): Path<String>,
    Query(q): Query<CoverageQuery>,
) -> AppResult<Response> {
    let p = ctx.principal()?;
    let store = &ctx.state.store;
    let filter = unit_filter(store, p, &q.unit).await?;
    let scope = scope(store, p, filter.as_ref().map(|(_, s)| s.as_slice())).await?;
    let unit = filter.map(|(u, _)| u.code).unwrap_or_default();
    let mut pager = Pager::new(q.page, PER_PAGE, query_string(&[("unit", &unit)]));
    let detail = store
        .coverage_detail(&anchor, &scope, pager.per_page, pager.offset())
        .await?
        .ok_or(AppError::NotFound)?;
    pager.total = detail.assets_total;
    let readable: Option<HashSet<UnitId>> = units_with(store, p, &[Permission::AssetsRead])
        .await?
        .map(|v| v.into_iter().collect());
    let assets = detail
        .assets
        .into_iter()
        .map(|a| {
            let shown = readable
                .as_ref()
                .is_none_or(|r| r.contains(&UnitId(a.owner_unit_id)));
            (a, shown)
        })
        .collect();
    Ok(ctx.page(&ClausePage {
        c: ctx.chrome(),
        l: Labels { lang: ctx.lang },
        clause: detail.clause,
        children: detail.children,
        controls: detail.controls,
        assets,
        pager,
        unit_query: unit_query(&unit),
        unit,
    }))
}

/// The `control-status` records for the reader's units (narrowed by `unit`), streamed from
/// the store as the CLI export reads them.
async fn status_records(ctx: &Ctx, unit: &str) -> AppResult<Vec<ControlStatusRecord>> {
    let p = ctx.principal()?;
    let store = &ctx.state.store;
    let filter = unit_filter(store, p, unit).await?;
    let visible = units_with(store, p, &crate::pages::catalogue::STATUS_READ).await?;
    let units = intersect(visible, filter.as_ref().map(|(_, s)| s.as_slice()));
    let mut records = Vec::new();
    store
        .control_statuses_for_each(&ControlStatusFilter { units }, |r| {
            records.push(r.to_record()?);
            Ok(())
        })
        .await?;
    Ok(records)
}

/// GET `/coverage/control-status.xlsx?unit=CODE`: the `control-status` kind, Japanese labels.
pub async fn export_xlsx(ctx: Ctx, Query(q): Query<CoverageQuery>) -> AppResult<Response> {
    let records = status_records(&ctx, &q.unit).await?;
    crate::view::xlsx_download::<ControlStatuses>("control-status.xlsx", records).await
}

/// GET `/coverage/control-status.csv?unit=CODE`.
pub async fn export_csv(ctx: Ctx, Query(q): Query<CoverageQuery>) -> AppResult<Response> {
    let records = status_records(&ctx, &q.unit).await?;
    let csv = mamori_domain::interchange::kind::write_csv::<ControlStatuses>(&records, true)
        .map_err(AppError::Internal)?;
    Ok(crate::view::csv_download("control-status.csv", csv))
}
