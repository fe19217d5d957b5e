//! Coverage and traceability (issue 5): which controls implement each clause of the basic
//! policy in force, how far they are implemented across units, and which open risks (and the
//! assets behind them) they treat; and the `control-status` file kind (the controls that
//! apply to each unit with their status), exported and imported.
//!
//! Decisions:
//! - *Applicability.* A control with neither segments nor a minimum tier applies to every
//!   in-scope unit. Otherwise it applies to a unit that owns a non-disposed asset it
//!   `applies_to` (segment, confidentiality tier). Computed from one aggregate over assets
//!   (owner unit × segment → highest tier), so 100,000 assets cost one `GROUP BY`. A pair
//!   with a recorded status is always exported, even when no asset makes it apply (the status
//!   was claimed, so it is shown).
//! - *Exporting and importing changes nothing*: a `not_started` row with no note, links or
//!   review date for a pair that has no status recorded is counted unchanged and writes
//!   nothing (no row already means 未実施).
//! - *Clause coverage.* A clause's controls are the controls that cite it directly. A clause
//!   counts as covered when it or any clause beneath it is cited; a clause covered only through
//!   its sub-clauses shows no controls of its own. Status counts are over (control, unit)
//!   pairs of the clause's controls and the visible in-scope units (every unit, as the
//!   catalogue's tallies count: a unit with nothing recorded is 未実施). Risks are the open
//!   risks treated by the clause's controls that the reader may see; assets are the distinct
//!   assets those risks name. Every count is one aggregate query, never a query per row.

use crate::{ControlStatusRow, StatusInput, StatusTally};
use crate::{Result, Store, StoreError, WriteTx, BASIC_POLICY_CODE};
use mamori_domain::assets::Segment;
use mamori_domain::catalogue::ImplStatus;
use mamori_domain::interchange::control_status::ControlStatusRecord;
use mamori_domain::interchange::table::Problem;
use mamori_domain::wareki::parse_date;
use mamori_domain::UnitId;
use serde::Serialize;
use sqlx::Row;
use std::collections::{HashMap, HashSet};
use utoipa::ToSchema;

/// Which units a `control-status` export covers.
#[derive(Debug, Clone, Default)]
pub struct ControlStatusFilter {
    /// The units to include (in-scope units only; `None`: every in-scope unit).
    pub units: Option<Vec<UnitId>>,
}

/// What a coverage view may count.
#[derive(Debug, Clone, Default)]
pub struct CoverageScope {
    /// Units whose statuses are counted (in-scope units only; `None`: every unit).
    pub status_units: Option<Vec<UnitId>>,
    /// Units whose risks are counted (`None`: every unit).
    pub risk_units: Option<Vec<UnitId>>,
}

/// A control as a clause lists it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, ToSchema)]
pub struct CoverageControl {
    /// Internal id.
    #[serde(skip)]
    pub id: i64,
    /// Code.
    pub code: String,
    /// Title.
    pub title: String,
    /// Status counts over the visible in-scope units.
    pub statuses: StatusTally,
    /// Open risks it treats (readable ones).
    pub open_risks: i64,
}

/// One clause of the basic policy in force with what implements it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, ToSchema)]
pub struct CoverageClause {
    /// Anchor (`6(4)`).
    pub anchor: String,
    /// Parent anchor.
    pub parent: Option<String>,
    /// 0 for top clauses.
    pub depth: i64,
    /// `6.`, `(4)`.
    pub label: String,
    /// Title, when the clause has one.
    pub title: Option<String>,
    /// Codes of the controls that cite it directly.
    pub controls: Vec<String>,
    /// Cited directly or through a sub-clause.
    pub covered: bool,
    /// Status counts over (control, unit) pairs of its controls.
    pub statuses: StatusTally,
    /// Distinct open risks its controls treat.
    pub open_risks: i64,
    /// Distinct assets those risks name.
    pub assets: i64,
}

/// An asset behind a clause's risks.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, ToSchema)]
pub struct CoverageAsset {
    /// Id.
    pub id: i64,
    /// Name.
    pub name: String,
    /// Type code.
    pub asset_type: String,
    /// Owner unit's id.
    #[serde(skip)]
    pub owner_unit_id: i64,
    /// Owner unit's code.
    pub owner_unit: String,
    /// Owner unit's name.
    pub owner_unit_name: String,
}

/// One clause with its controls and a page of the assets behind its risks.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, ToSchema)]
pub struct CoverageDetail {
    /// The clause and its counts.
    pub clause: CoverageClause,
    /// Its direct sub-clauses.
    pub children: Vec<CoverageClause>,
    /// Its controls with their counts.
    pub controls: Vec<CoverageControl>,
    /// A page of the assets behind its open risks.
    pub assets: Vec<CoverageAsset>,
    /// How many assets in all.
    pub assets_total: i64,
}

/// `$start, $start+1, …` for `n` values.
fn placeholders(start: usize, n: usize) -> String {
    (start..start + n)
        .map(|i| format!("${i}"))
        .collect::<Vec<_>>()
        .join(", ")
}

/// An integer-parameterised condition under construction.
#[derive(Default)]
struct Ints {
    args: Vec<i64>,
}

impl Ints {
    /// Binds `values` and returns their placeholders.
    fn list(&mut self, values: impl IntoIterator<Item = i64>) -> String {
        let start = self.args.len() + 1;
        self.args.extend(values);
        placeholders(start, self.args.len() + 1 - start)
    }

    fn one(&mut self, v: i64) -> String {
        self.args.push(v);
        format!("${}", self.args.len())
    }

    fn bind<'q>(
        &self,
        mut q: sqlx::query::Query<'q, sqlx::Any, sqlx::any::AnyArguments<'q>>,
    ) -> sqlx::query::Query<'q, sqlx::Any, sqlx::any::AnyArguments<'q>> {
        for a in &self.args {
            q = q.bind(*a);
        }
        q
    }
}

/// The SQL condition "risk `r` is open and readable", binding the units.
fn open_risk_condition(ints: &mut Ints, units: Option<&[UnitId]>) -> String {
    let mut sql = String::from("r.status = 'open'");
    if let Some(units) = units {
        if units.is_empty() {
            sql.push_str(" AND 1 = 0");
        } else {
            let list = ints.list(units.iter().map(|u| u.0));
            sql.push_str(&format!(" AND r.unit_id IN ({list})"));
        }
    }
    sql
}

struct ClauseRow {
    anchor: String,
    parent: Option<String>,
    depth: i64,
    label: String,
    title: Option<String>,
}

struct CatalogueControl {
    id: i64,
    code: String,
    title: String,
    clauses: Vec<String>,
}

impl Store {
    async fn policy_clauses(&self) -> Result<Vec<ClauseRow>> {
        let rows = sqlx::query(
            "SELECT c.anchor, c.parent, c.depth, c.label, c.title FROM document_clauses c \
             JOIN document_versions v ON v.id = c.version_id JOIN documents d ON d.id = v.document_id \
             WHERE d.code = $1 AND v.state = 'published' ORDER BY c.ordinal",
        )
        .bind(BASIC_POLICY_CODE)
        .fetch_all(&self.pool)
        .await?;
        rows.iter()
            .map(|r| {
                Ok(ClauseRow {
                    anchor: r.try_get("anchor")?,
                    parent: r.try_get("parent")?,
                    depth: r.try_get("depth")?,
                    label: r.try_get("label")?,
                    title: r.try_get("title")?,
                })
            })
            .collect()
    }

    async fn citing_controls(&self) -> Result<Vec<CatalogueControl>> {
        let rows: Vec<(i64, String, String, String)> = sqlx::query_as(
            "SELECT id, code, title, clauses FROM controls WHERE retired = 0 ORDER BY code",
        )
        .fetch_all(&self.pool)
        .await?;
        Ok(rows
            .into_iter()
            .map(|(id, code, title, clauses)| CatalogueControl {
                id,
                code,
                title,
                clauses: clauses.split_whitespace().map(str::to_owned).collect(),
            })
            .collect())
    }

    /// Every clause of the basic policy in force, in order, with its controls, their status
    /// counts, the open risks they treat and the assets behind those (empty when no basic
    /// policy is in force). Four queries whatever the sizes.
    pub async fn coverage(&self, scope: &CoverageScope) -> Result<Vec<CoverageClause>> {
        Ok(self.coverage_with(scope, None).await?.0)
    }

    /// [`Store::coverage`], with the risk and asset counts only for `focus` and its direct
    /// sub-clauses when it is given (a clause's page needs no more), and the status tallies
    /// per control it read.
    async fn coverage_with(
        &self,
        scope: &CoverageScope,
        focus: Option<&str>,
    ) -> Result<(Vec<CoverageClause>, HashMap<i64, StatusTally>)> {
        let clauses = self.policy_clauses().await?;
        if clauses.is_empty() {
            return Ok((Vec::new(), HashMap::new()));
        }
        let controls = self.citing_controls().await?;
        let tallies = self.control_tallies(scope.status_units.as_deref()).await?;
        let index: HashMap<&str, usize> = clauses
            .iter()
            .enumerate()
            .map(|(i, c)| (c.anchor.as_str(), i))
            .collect();
        let mut direct: Vec<Vec<&CatalogueControl>> = vec![Vec::new(); clauses.len()];
        for c in &controls {
            for a in &c.clauses {
                if let Some(i) = index.get(a.as_str()) {
                    direct[*i].push(c);
                }
            }
        }
        let mut covered = vec![false; clauses.len()];
        for (i, _) in direct.iter().enumerate().filter(|(_, d)| !d.is_empty()) {
            let mut at = Some(i);
            while let Some(j) = at {
                if covered[j] && j != i {
                    break;
                }
                covered[j] = true;
                at = clauses[j]
                    .parent
                    .as_deref()
                    .and_then(|p| index.get(p).copied());
            }
        }
        // Distinct open risks and assets per clause, in one aggregate.
        let mut counts: HashMap<i64, (i64, i64)> = HashMap::new();
        let counted = |i: usize| {
            focus.is_none_or(|f| clauses[i].anchor == f || clauses[i].parent.as_deref() == Some(f))
        };
        let pairs: Vec<(i64, i64)> = direct
            .iter()
            .enumerate()
            .filter(|(i, _)| counted(*i))
            .flat_map(|(i, cs)| cs.iter().map(move |c| (i as i64, c.id)))
            .collect();
        if !pairs.is_empty() {
            let mut ints = Ints::default();
            let values: Vec<String> = pairs
                .iter()
                .map(|(k, c)| format!("({}, {})", ints.one(*k), ints.one(*c)))
                .collect();
            let cond = open_risk_condition(&mut ints, scope.risk_units.as_deref());
            // From the pairs outwards: CROSS JOIN keeps SQLite to that order.
            let sql = format!(
                "WITH cc(k, control_id) AS (VALUES {}) \
                 SELECT cc.k, COUNT(DISTINCT r.id), COUNT(DISTINCT ra.asset_id) FROM cc \
                 CROSS JOIN risk_controls rc CROSS JOIN risks r \
                 LEFT JOIN risk_assets ra ON ra.risk_id = r.id \
                 WHERE rc.control_id = cc.control_id AND r.id = rc.risk_id AND {cond} \
                 GROUP BY cc.k",
                values.join(", ")
            );
            let rows = ints.bind(sqlx::query(&sql)).fetch_all(&self.pool).await?;
            for r in rows {
                let k: i64 = r.try_get(0)?;
                counts.insert(k, (r.try_get(1)?, r.try_get(2)?));
            }
        }
        let rows = clauses
            .into_iter()
            .enumerate()
            .map(|(i, c)| {
                let mut statuses = StatusTally::default();
                for ctl in &direct[i] {
                    if let Some(t) = tallies.get(&ctl.id) {
                        statuses.implemented += t.implemented;
                        statuses.partial += t.partial;
                        statuses.not_started += t.not_started;
                        statuses.not_applicable += t.not_applicable;
                    }
                }
                let (open_risks, assets) = counts.get(&(i as i64)).copied().unwrap_or((0, 0));
                CoverageClause {
                    anchor: c.anchor,
                    parent: c.parent,
                    depth: c.depth,
                    label: c.label,
                    title: c.title,
                    controls: direct[i].iter().map(|c| c.code.clone()).collect(),
                    covered: covered[i],
                    statuses,
                    open_risks,
                    assets,
                }
            })
            .collect();
        Ok((rows, tallies))
    }

    /// One clause with its controls (status counts and open risks each) and a page of the
    /// assets behind its open risks, by id; `None` when the basic policy in force has no such
    /// clause.
    pub async fn coverage_detail(
        &self,
        anchor: &str,
        scope: &CoverageScope,
        limit: i64,
        offset: i64,
    ) -> Result<Option<CoverageDetail>> {
        let (all, tallies) = self.coverage_with(scope, Some(anchor)).await?;
        let Some(clause) = all.iter().find(|c| c.anchor == anchor).cloned() else {
            return Ok(None);
        };
        let children: Vec<CoverageClause> = all
            .iter()
            .filter(|c| c.parent.as_deref() == Some(anchor))
            .cloned()
            .collect();
        let catalogue = self.citing_controls().await?;
        let mine: Vec<&CatalogueControl> = catalogue
            .iter()
            .filter(|c| c.clauses.iter().any(|a| a == anchor))
            .collect();
        if mine.is_empty() {
            return Ok(Some(CoverageDetail {
                clause,
                children,
                controls: Vec::new(),
                assets: Vec::new(),
                assets_total: 0,
            }));
        }
        let mut ints = Ints::default();
        let list = ints.list(mine.iter().map(|c| c.id));
        let cond = open_risk_condition(&mut ints, scope.risk_units.as_deref());
        let sql = format!(
            "SELECT rc.control_id, COUNT(*) FROM risk_controls rc JOIN risks r ON r.id = rc.risk_id \
             WHERE rc.control_id IN ({list}) AND {cond} GROUP BY rc.control_id"
        );
        let per_control: HashMap<i64, i64> = ints
            .bind(sqlx::query(&sql))
            .fetch_all(&self.pool)
            .await?
            .iter()
            .map(|r| Ok((r.try_get::<i64, _>(0)?, r.try_get::<i64, _>(1)?)))
            .collect::<Result<_>>()?;
        let controls = mine
            .iter()
            .map(|c| CoverageControl {
                id: c.id,
                code: c.code.clone(),
                title: c.title.clone(),
                statuses: tallies.get(&c.id).cloned().unwrap_or_default(),
                open_risks: per_control.get(&c.id).copied().unwrap_or(0),
            })
            .collect();
        // From the clause's controls outwards (CROSS JOIN keeps SQLite to that order; a plan
        // from every open risk was 4–6 times slower with 20,000 risks).
        let behind = format!(
            "a.id IN (SELECT ra.asset_id FROM risk_controls rc CROSS JOIN risks r \
             CROSS JOIN risk_assets ra WHERE rc.control_id IN ({list}) AND r.id = rc.risk_id \
             AND ra.risk_id = r.id AND {cond})"
        );
        let total: i64 = ints
            .bind(sqlx::query(&format!(
                "SELECT COUNT(*) FROM assets a WHERE {behind}"
            )))
            .fetch_one(&self.pool)
            .await?
            .try_get(0)?;
        let mut page_ints = Ints {
            args: ints.args.clone(),
        };
        let (l, o) = (page_ints.one(limit), page_ints.one(offset));
        let rows = page_ints
            .bind(sqlx::query(&format!(
                "SELECT a.id, a.name, a.asset_type, a.owner_unit_id, u.code, u.name AS unit_name \
                 FROM assets a JOIN units u ON u.id = a.owner_unit_id WHERE {behind} \
                 ORDER BY a.id LIMIT {l} OFFSET {o}"
            )))
            .fetch_all(&self.pool)
            .await?;
        let assets = rows
            .iter()
            .map(|r| {
                Ok(CoverageAsset {
                    id: r.try_get("id")?,
                    name: r.try_get("name")?,
                    asset_type: r.try_get("asset_type")?,
                    owner_unit_id: r.try_get("owner_unit_id")?,
                    owner_unit: r.try_get("code")?,
                    owner_unit_name: r.try_get("unit_name")?,
                })
            })
            .collect::<Result<Vec<_>>>()?;
        Ok(Some(CoverageDetail {
            clause,
            children,
            controls,
            assets,
            assets_total: total,
        }))
    }

    /// For every in-scope unit of the filter, by unit code, every control that applies to it
    /// (see the module's decisions), by measure area and code, with its status (`not_started`
    /// when nothing is recorded). Rows go to `sink` one at a time.
    pub async fn control_statuses_for_each(
        &self,
        filter: &ControlStatusFilter,
        mut sink: impl FnMut(ControlStatusRow) -> Result<()>,
    ) -> Result<()> {
        let wanted: Option<HashSet<UnitId>> =
            filter.units.as_ref().map(|u| u.iter().copied().collect());
        let units: Vec<(i64, String, String)> =
            sqlx::query_as("SELECT id, code, name FROM units WHERE in_scope = 1 ORDER BY code")
                .fetch_all(&self.pool)
                .await?;
        let units: Vec<(i64, String, String)> = units
            .into_iter()
            .filter(|(id, _, _)| wanted.as_ref().is_none_or(|w| w.contains(&UnitId(*id))))
            .collect();
        if units.is_empty() {
            return Ok(());
        }
        let controls: Vec<(i64, String, String, String, String, Option<i64>)> = sqlx::query_as(
            "SELECT c.id, c.code, c.title, c.area, c.segments, c.min_tier FROM controls c \
             JOIN measure_areas a ON a.code = c.area WHERE c.retired = 0 ORDER BY a.sort_order, c.code",
        )
        .fetch_all(&self.pool)
        .await?;
        // Owner unit × segment → the highest confidentiality tier of its live assets.
        let groups: Vec<(i64, String, Option<i64>)> = sqlx::query_as(
            "SELECT a.owner_unit_id, a.segment, MAX(l.tier) FROM assets a \
             LEFT JOIN classification_levels l ON l.axis = 'c' AND l.code = a.confidentiality \
             WHERE a.status <> 'disposed' GROUP BY a.owner_unit_id, a.segment",
        )
        .fetch_all(&self.pool)
        .await?;
        let mut held: HashMap<i64, Vec<(Segment, u8)>> = HashMap::new();
        for (unit, segment, tier) in groups {
            let segment = Segment::parse(&segment).unwrap_or(Segment::None);
            let tier = tier.and_then(|t| u8::try_from(t).ok()).unwrap_or(1);
            held.entry(unit).or_default().push((segment, tier));
        }
        let mut ints = Ints::default();
        let mut sql = String::from(
            "SELECT s.control_id, s.unit_id, s.status, s.note, s.links, s.review_on, s.updated_by, \
             s.updated_at, s.verified_by, s.verified_on FROM control_status s",
        );
        if wanted.is_some() {
            let list = ints.list(units.iter().map(|u| u.0));
            sql.push_str(&format!(" WHERE s.unit_id IN ({list})"));
        }
        let mut recorded: HashMap<(i64, i64), sqlx::any::AnyRow> = HashMap::new();
        for r in ints.bind(sqlx::query(&sql)).fetch_all(&self.pool).await? {
            let key = (r.try_get::<i64, _>(0)?, r.try_get::<i64, _>(1)?);
            recorded.insert(key, r);
        }
        let parse_segments =
            |s: &str| -> Vec<Segment> { s.split_whitespace().filter_map(Segment::parse).collect() };
        let drafts: Vec<(Vec<Segment>, Option<u8>)> = controls
            .iter()
            .map(|c| (parse_segments(&c.4), c.5.and_then(|t| u8::try_from(t).ok())))
            .collect();
        for (unit_id, unit_code, unit_name) in &units {
            let assets = held.get(unit_id).map(Vec::as_slice).unwrap_or(&[]);
            for (i, (control_id, code, title, area, _, _)) in controls.iter().enumerate() {
                let (segments, min_tier) = &drafts[i];
                let row = recorded.get(&(*control_id, *unit_id));
                let applies = (segments.is_empty() && min_tier.is_none())
                    || assets.iter().any(|(s, t)| {
                        (segments.is_empty() || segments.contains(s))
                            && min_tier.is_none_or(|m| *t >= m)
                    });
                if !applies && row.is_none() {
                    continue;
                }
                let get = |c: &str| -> Result<Option<String>> {
                    Ok(match row {
                        Some(r) => r.try_get::<Option<String>, _>(c)?,
                        None => None,
                    })
                };
                let links = get("links")?.unwrap_or_default();
                sink(ControlStatusRow {
                    control: code.clone(),
                    control_title: title.clone(),
                    area: area.clone(),
                    unit: unit_code.clone(),
                    unit_name: unit_name.clone(),
                    recorded: row.is_some(),
                    status: get("status")?
                        .unwrap_or_else(|| ImplStatus::NotStarted.code().to_owned()),
                    note: get("note")?.unwrap_or_default(),
                    links: links
                        .lines()
                        .filter(|l| !l.is_empty())
                        .map(str::to_owned)
                        .collect(),
                    review_on: get("review_on")?,
                    updated_by: get("updated_by")?,
                    updated_at: get("updated_at")?,
                    verified_by: get("verified_by")?,
                    verified_on: get("verified_on")?,
                    control_id: *control_id,
                    unit_id: *unit_id,
                })?;
            }
        }
        Ok(())
    }

    /// Sets statuses from a file, by (control, unit), through [`Store::set_control_status`]
    /// (each change audited; a new status clears its verification). Units may be written as
    /// codes or names; units outside `allowed` (where the importer holds `controls.update`;
    /// `None`: anywhere) are refused by row. All problems or all changes.
    pub async fn import_control_statuses(
        tx: &mut WriteTx,
        records: &[(u64, ControlStatusRecord)],
        column: impl Fn(&str) -> String,
        allowed: Option<&HashSet<UnitId>>,
    ) -> Result<crate::ImportOutcome> {
        let tuned = crate::import_assets::ImportSettings::raise(tx, records.len()).await?;
        let outcome = Self::apply_control_statuses(tx, records, column, allowed).await;
        crate::import_assets::ImportSettings::finish(tuned, tx, outcome).await
    }

    async fn apply_control_statuses(
        tx: &mut WriteTx,
        records: &[(u64, ControlStatusRecord)],
        column: impl Fn(&str) -> String,
        allowed: Option<&HashSet<UnitId>>,
    ) -> Result<crate::ImportOutcome> {
        let controls: HashMap<String, (i64, bool)> =
            sqlx::query_as::<_, (String, i64, i64)>("SELECT code, id, retired FROM controls")
                .fetch_all(tx.conn())
                .await?
                .into_iter()
                .map(|(code, id, retired)| (code, (id, retired != 0)))
                .collect();
        let units: Vec<(i64, String, String)> = sqlx::query_as("SELECT id, code, name FROM units")
            .fetch_all(tx.conn())
            .await?;
        let resolve_unit = |written: &str| -> std::result::Result<(i64, String), &'static str> {
            if let Some(u) = units.iter().find(|u| u.1 == written) {
                return Ok((u.0, u.1.clone()));
            }
            let named: Vec<&(i64, String, String)> =
                units.iter().filter(|u| u.2 == written).collect();
            match named.as_slice() {
                [one] => Ok((one.0, one.1.clone())),
                [] => Err("error-unknown-unit"),
                _ => Err("import-ambiguous-unit"),
            }
        };
        let mut problems = Vec::new();
        let mut resolved = Vec::new();
        let mut seen: HashMap<(i64, i64), u64> = HashMap::new();
        for (line, r) in records {
            let control = match controls.get(&r.control) {
                None => {
                    problems.push(Problem::with(
                        *line,
                        column("control"),
                        "coverage-error-unknown-control",
                        r.control.clone(),
                    ));
                    None
                }
                Some((_, true)) => {
                    problems.push(Problem::with(
                        *line,
                        column("control"),
                        "coverage-error-retired-control",
                        r.control.clone(),
                    ));
                    None
                }
                Some((id, false)) => Some(*id),
            };
            let unit = match resolve_unit(&r.unit) {
                Err(m) => {
                    problems.push(Problem::with(*line, column("unit"), m, r.unit.clone()));
                    None
                }
                Ok((id, code)) if allowed.is_some_and(|a| !a.contains(&UnitId(id))) => {
                    problems.push(Problem::with(
                        *line,
                        column("unit"),
                        "coverage-error-unit-not-permitted",
                        code,
                    ));
                    None
                }
                Ok((id, _)) => Some(id),
            };
            if let (Some(c), Some(u)) = (control, unit) {
                // The same pair written once by code and once by name.
                if let Some(first) = seen.insert((c, u), *line) {
                    problems.push(Problem::with(
                        *line,
                        column("control"),
                        "import-duplicate-key",
                        format!("{} ({first})", r.key()),
                    ));
                }
                resolved.push((c, UnitId(u), r));
            }
        }
        if !problems.is_empty() {
            return Ok(Err(problems));
        }
        let mut summary = crate::ImportSummary::default();
        for (control_id, unit, r) in resolved {
            let recorded: i64 = sqlx::query_scalar(
                "SELECT COUNT(*) FROM control_status WHERE control_id = $1 AND unit_id = $2",
            )
            .bind(control_id)
            .bind(unit.0)
            .fetch_one(tx.conn())
            .await?;
            if recorded == 0
                && r.status == ImplStatus::NotStarted
                && r.note.is_empty()
                && r.links.is_empty()
                && r.review_on.is_none()
            {
                summary.unchanged += 1;
                continue;
            }
            let input = StatusInput {
                status: r.status,
                note: r.note.clone(),
                links: r.links.clone(),
                review_on: r.review_on,
            };
            let (_, changed) = Self::set_control_status(tx, control_id, unit, &input).await?;
            match (recorded > 0, changed) {
                (false, _) => summary.added += 1,
                (true, true) => summary.updated += 1,
                (true, false) => summary.unchanged += 1,
            }
        }
        Ok(Ok(summary))
    }
}

impl ControlStatusRow {
    /// The status as a `control-status` file row (the unit by its code).
    pub fn to_record(&self) -> Result<ControlStatusRecord> {
        let date = |d: &Option<String>| -> Result<Option<time::Date>> {
            d.as_deref()
                .map(|s| parse_date(s).map_err(|_| StoreError::Corrupt(format!("date {s}"))))
                .transpose()
        };
        Ok(ControlStatusRecord::new(
            self.control.clone(),
            self.unit.clone(),
            self.status(),
            self.note.clone(),
            self.links.clone(),
            date(&self.review_on)?,
            self.verified_by.clone(),
            date(&self.verified_on)?,
        ))
    }
}
