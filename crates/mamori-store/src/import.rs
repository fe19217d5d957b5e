//! Applying imported records in one write transaction: all or nothing, one audit entry per
//! changed record, each carrying the import's id.

use crate::{Result, RoleHolder, Store, StoreError, UnitInput, WriteTx};
use mamori_domain::interchange::people::PersonRecord;
use mamori_domain::interchange::table::Problem;
use mamori_domain::interchange::units::UnitRecord;
use mamori_domain::interchange::values::fold;
use mamori_domain::{PersonId, UnitId};
use std::collections::{HashMap, HashSet};

/// What an import did (or, in a dry run, would do).
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct ImportSummary {
    /// New records.
    pub added: usize,
    /// Changed records.
    pub updated: usize,
    /// Records already as the file says.
    pub unchanged: usize,
}

/// Either the summary, or every problem found while applying (nothing is kept then).
pub type ImportOutcome = std::result::Result<ImportSummary, Vec<Problem>>;

/// Orders units so that a parent defined in the file comes before its children; units in a
/// cycle are reported.
fn parents_first(
    records: &[(u64, UnitRecord)],
    parent_column: &str,
) -> std::result::Result<Vec<usize>, Vec<Problem>> {
    let in_file: HashMap<&str, usize> = records
        .iter()
        .enumerate()
        .map(|(i, (_, r))| (r.code.as_str(), i))
        .collect();
    let mut placed: HashSet<usize> = HashSet::new();
    let mut order = Vec::with_capacity(records.len());
    loop {
        let before = order.len();
        for (i, (_, r)) in records.iter().enumerate() {
            if placed.contains(&i) {
                continue;
            }
            let ready = match r.parent.as_deref().and_then(|p| in_file.get(p)) {
                Some(parent_index) => placed.contains(parent_index),
                None => true,
            };
            if ready {
                placed.insert(i);
                order.push(i);
            }
        }
        if order.len() == records.len() {
            return Ok(order);
        }
        if order.len() == before {
            let problems = records
                .iter()
                .enumerate()
                .filter(|(i, _)| !placed.contains(i))
                .map(|(_, (line, r))| {
                    Problem::with(*line, parent_column, "error-unit-cycle", r.code.clone())
                })
                .collect();
            return Err(problems);
        }
    }
}

impl Store {
    /// Creates or updates units by code. `parent_column` names the parent column in problems.
    pub async fn import_units(
        tx: &mut WriteTx,
        records: &[(u64, UnitRecord)],
        parent_column: &str,
    ) -> Result<ImportOutcome> {
        let order = match parents_first(records, parent_column) {
            Ok(o) => o,
            Err(p) => return Ok(Err(p)),
        };
        let mut summary = ImportSummary::default();
        let mut problems = Vec::new();
        for i in order {
            let (line, r) = &records[i];
            let parent_id: Option<UnitId> = match &r.parent {
                Some(code) => match Self::unit_by_code_in_tx(tx, code).await? {
                    Some(p) => Some(p.id),
                    None => {
                        problems.push(Problem::with(
                            *line,
                            parent_column,
                            "error-unknown-unit",
                            code.clone(),
                        ));
                        continue;
                    }
                },
                None => None,
            };
            let input = UnitInput {
                code: r.code.clone(),
                name: r.name.clone(),
                parent_id,
                in_scope: r.in_scope,
            };
            match Self::unit_by_code_in_tx(tx, &r.code).await? {
                Some(existing) => {
                    if existing.name == input.name
                        && existing.parent_id == input.parent_id
                        && existing.in_scope == input.in_scope
                    {
                        summary.unchanged += 1;
                        continue;
                    }
                    match Self::update_unit(tx, existing.id, &input).await {
                        Ok(_) => summary.updated += 1,
                        Err(StoreError::Rule(id)) => {
                            problems.push(Problem::with(*line, parent_column, id, r.code.clone()))
                        }
                        Err(e) => return Err(e),
                    }
                }
                None => {
                    Self::create_unit(tx, &input).await?;
                    summary.added += 1;
                }
            }
        }
        Ok(if problems.is_empty() {
            Ok(summary)
        } else {
            Err(problems)
        })
    }
}

/// How a person's references were resolved, for applying.
struct ResolvedPerson {
    input: crate::PersonInput,
    roles: Option<Vec<(String, Option<UnitId>)>>,
}

impl Store {
    /// Resolves a unit written as a code or a name (a name shared by several units is
    /// ambiguous and refused).
    pub(crate) async fn resolve_unit(
        tx: &mut WriteTx,
        written: &str,
    ) -> Result<std::result::Result<UnitId, &'static str>> {
        if let Some(u) = Self::unit_by_code_in_tx(tx, written).await? {
            return Ok(Ok(u.id));
        }
        let ids: Vec<i64> = sqlx::query_scalar("SELECT id FROM units WHERE name = $1")
            .bind(written)
            .fetch_all(tx.conn())
            .await?;
        Ok(match ids.as_slice() {
            [one] => Ok(UnitId(*one)),
            [] => Err("error-unknown-unit"),
            _ => Err("import-ambiguous-unit"),
        })
    }

    /// Creates or updates people by staff id; when the file has a roles column, each person's
    /// role assignments become exactly what it says. `column` gives a column's name in the
    /// file for problems.
    pub async fn import_people(
        tx: &mut WriteTx,
        records: &[(u64, PersonRecord)],
        column: impl Fn(&str) -> String,
    ) -> Result<ImportOutcome> {
        let categories = sqlx::query_as::<_, (String, String, String)>(
            "SELECT code, label_ja, label_en FROM employment_categories",
        )
        .fetch_all(tx.conn())
        .await?;
        let roles: Vec<String> = sqlx::query_scalar("SELECT code FROM roles")
            .fetch_all(tx.conn())
            .await?;
        let mut problems = Vec::new();
        let mut resolved = Vec::new();
        for (line, r) in records {
            let unit = match Self::resolve_unit(tx, &r.unit).await? {
                Ok(u) => Some(u),
                Err(id) => {
                    problems.push(Problem::with(*line, column("unit"), id, r.unit.clone()));
                    None
                }
            };
            let category = categories
                .iter()
                .find(|(code, ja, en)| [code, ja, en].iter().any(|v| fold(v) == r.category))
                .map(|(code, _, _)| code.clone());
            if category.is_none() {
                problems.push(Problem::with(
                    *line,
                    column("category"),
                    "error-unknown-category",
                    r.category.clone(),
                ));
            }
            let mut role_refs = Vec::new();
            for role in r.roles.iter().flatten() {
                if !roles.contains(&role.role) {
                    problems.push(Problem::with(
                        *line,
                        column("roles"),
                        "error-unknown-role",
                        role.role.clone(),
                    ));
                    continue;
                }
                let scope = match &role.unit {
                    Some(u) => match Self::resolve_unit(tx, u).await? {
                        Ok(id) => Some(id),
                        Err(id) => {
                            problems.push(Problem::with(*line, column("roles"), id, u.clone()));
                            continue;
                        }
                    },
                    None => None,
                };
                role_refs.push((role.role.clone(), scope));
            }
            if let (Some(unit_id), Some(category)) = (unit, category) {
                resolved.push((
                    *line,
                    ResolvedPerson {
                        input: crate::PersonInput {
                            staff_id: r.staff_id.clone(),
                            name: r.name.clone(),
                            kana: r.kana.clone(),
                            unit_id,
                            category,
                            email: r.email.clone(),
                            joined_on: r.joined_on.map(|d| d.to_string()),
                            left_on: r.left_on.map(|d| d.to_string()),
                        },
                        roles: r.roles.as_ref().map(|_| role_refs),
                    },
                ));
            }
        }
        if !problems.is_empty() {
            return Ok(Err(problems));
        }
        let mut summary = ImportSummary::default();
        for (_, p) in resolved {
            let existing: Option<i64> =
                sqlx::query_scalar("SELECT id FROM people WHERE staff_id = $1")
                    .bind(&p.input.staff_id)
                    .fetch_optional(tx.conn())
                    .await?;
            let (id, mut changed) = match existing {
                Some(id) => {
                    let id = PersonId(id);
                    let current = Self::person_in_tx(tx, id).await?;
                    let same = current.name == p.input.name
                        && current.kana == p.input.kana
                        && current.unit_id == p.input.unit_id
                        && current.category == p.input.category
                        && current.email == p.input.email
                        && current.joined_on == p.input.joined_on
                        && current.left_on == p.input.left_on;
                    if !same {
                        Self::update_person(tx, id, &p.input).await?;
                    }
                    (id, !same)
                }
                None => {
                    let created = Self::create_person(tx, &p.input).await?;
                    summary.added += 1;
                    (created.id, false)
                }
            };
            if let Some(wanted) = p.roles {
                let held: Vec<(i64, String, Option<i64>)> = sqlx::query_as(
                    "SELECT id, role_code, unit_id FROM role_assignments WHERE person_id = $1",
                )
                .bind(id.0)
                .fetch_all(tx.conn())
                .await?;
                for (assignment, role, unit) in &held {
                    if !wanted
                        .iter()
                        .any(|(r, u)| r == role && u.map(|u| u.0) == *unit)
                    {
                        Self::unassign_role(tx, *assignment).await?;
                        changed = true;
                    }
                }
                for (role, unit) in &wanted {
                    if !held
                        .iter()
                        .any(|(_, r, u)| r == role && *u == unit.map(|u| u.0))
                    {
                        Self::assign_role(tx, RoleHolder::Person(id), role, *unit).await?;
                        changed = true;
                    }
                }
            }
            if existing.is_some() {
                if changed {
                    summary.updated += 1;
                } else {
                    summary.unchanged += 1;
                }
            }
        }
        Ok(Ok(summary))
    }
}
