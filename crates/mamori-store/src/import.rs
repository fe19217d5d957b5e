//! Applying imported records in one write transaction: all or nothing, one audit entry per
//! changed record, each carrying the import's id.

use crate::{Result, Store, StoreError, UnitInput, WriteTx};
use mamori_domain::interchange::table::Problem;
use mamori_domain::interchange::units::UnitRecord;
use mamori_domain::UnitId;
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
