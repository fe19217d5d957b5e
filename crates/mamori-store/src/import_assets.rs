//! Applying imported assets and asset relations: references resolved against the register,
//! levels checked against the organisation's scheme, all or nothing.
//!
//! Built for registers of 100,000 rows: units are read once, each distinct custodian once,
//! the assets a file may update a chunk at a time, and new rows and their search grams are
//! written in multi-row statements (`Store::write_asset_batched`). Every change is still
//! audited on its own, with its before and after.

use crate::assets::{AssetBatch, AssetRefs};
use crate::{AssetRow, ImportOutcome, ImportSummary, Result, Store, WriteTx};
use mamori_domain::assets::classification::{Axis, Class, Scheme};
use mamori_domain::assets::AssetDraft;
use mamori_domain::interchange::asset_relations::RelationRecord;
use mamori_domain::interchange::assets::AssetRecord;
use mamori_domain::interchange::table::Problem;
use mamori_domain::{AssetId, PersonId, UnitId};
use std::collections::{HashMap, HashSet};

/// Units an importer may write to (the subtrees where they hold `assets.edit`); `None` for
/// the command line, which may write anywhere.
pub type AllowedUnits<'a> = Option<&'a HashSet<UnitId>>;

/// Rows whose existing assets (or relation ends) are read in one query.
const CHUNK: usize = 500;

/// A unit as an import refers to it.
struct UnitEntry {
    id: UnitId,
    code: String,
    name: String,
}

/// Every unit, by code and by name (units are few; they are read once).
struct UnitIndex {
    units: Vec<UnitEntry>,
    by_code: HashMap<String, usize>,
    by_name: HashMap<String, Vec<usize>>,
}

impl UnitIndex {
    async fn load(tx: &mut WriteTx) -> Result<UnitIndex> {
        let rows: Vec<(i64, String, String)> =
            sqlx::query_as("SELECT id, code, name FROM units ORDER BY id")
                .fetch_all(tx.conn())
                .await?;
        let mut index = UnitIndex {
            units: Vec::with_capacity(rows.len()),
            by_code: HashMap::new(),
            by_name: HashMap::new(),
        };
        for (i, (id, code, name)) in rows.into_iter().enumerate() {
            index.by_code.insert(code.clone(), i);
            index.by_name.entry(name.clone()).or_default().push(i);
            index.units.push(UnitEntry {
                id: UnitId(id),
                code,
                name,
            });
        }
        Ok(index)
    }

    /// A unit written as a code or a name (a name shared by several units is ambiguous), as
    /// [`Store::resolve_unit`] resolves it.
    fn resolve(&self, written: &str) -> std::result::Result<&UnitEntry, &'static str> {
        if let Some(i) = self.by_code.get(written) {
            return Ok(&self.units[*i]);
        }
        match self.by_name.get(written).map(Vec::as_slice) {
            Some([one]) => Ok(&self.units[*one]),
            None | Some([]) => Err("error-unknown-unit"),
            Some(_) => Err("import-ambiguous-unit"),
        }
    }
}

/// A person as an import refers to it.
#[derive(Clone)]
struct PersonEntry {
    id: PersonId,
    staff_id: String,
    name: String,
}

/// Custodians as written, each looked up once.
#[derive(Default)]
struct PersonCache {
    found: HashMap<String, std::result::Result<PersonEntry, &'static str>>,
}

impl PersonCache {
    /// A custodian written as a staff id or a name (a shared name is ambiguous).
    async fn resolve(
        &mut self,
        tx: &mut WriteTx,
        written: &str,
    ) -> Result<std::result::Result<PersonEntry, &'static str>> {
        if let Some(found) = self.found.get(written) {
            return Ok(found.clone());
        }
        let by_staff: Option<(i64, String, String)> =
            sqlx::query_as("SELECT id, staff_id, name FROM people WHERE staff_id = $1")
                .bind(written)
                .fetch_optional(tx.conn())
                .await?;
        let found = match by_staff {
            Some(p) => Ok(p),
            None => {
                let named: Vec<(i64, String, String)> =
                    sqlx::query_as("SELECT id, staff_id, name FROM people WHERE name = $1")
                        .bind(written)
                        .fetch_all(tx.conn())
                        .await?;
                match <[_; 1]>::try_from(named) {
                    Ok([one]) => Ok(one),
                    Err(v) if v.is_empty() => Err("error-unknown-person"),
                    Err(_) => Err("import-ambiguous-person"),
                }
            }
        }
        .map(|(id, staff_id, name)| PersonEntry {
            id: PersonId(id),
            staff_id,
            name,
        });
        self.found.insert(written.to_owned(), found.clone());
        Ok(found)
    }
}

/// The draft a record becomes once its references are resolved.
fn draft_of(r: &AssetRecord, owner_unit: UnitId, custodian: Option<PersonId>) -> AssetDraft {
    AssetDraft {
        name: r.name.clone(),
        asset_type: r.asset_type,
        owner_unit,
        custodian,
        segment: r.segment,
        class: Class {
            confidentiality: r.confidentiality.clone(),
            integrity: r.integrity.clone(),
            availability: r.availability.clone(),
        },
        location: r.location.clone(),
        description: r.description.clone(),
        personal_data: r.personal_data,
        rto_hours: r.rto_hours,
        review_on: r.review_on,
        status: r.status,
        disposed_on: r.disposed_on,
        disposal_method: r.disposal_method.clone(),
    }
}

fn given_id(r: &AssetRecord) -> Option<i64> {
    r.id.as_deref().and_then(|i| i.parse::<i64>().ok())
}

impl Store {
    /// Creates or updates assets by id (a row without an id, or with an id the register does
    /// not hold, is new; a given id is kept). `column` names a column as the file does.
    pub async fn import_assets(
        tx: &mut WriteTx,
        records: &[(u64, AssetRecord)],
        column: impl Fn(&str) -> String,
        allowed: AllowedUnits<'_>,
    ) -> Result<ImportOutcome> {
        Self::import_assets_with_progress(tx, records, column, allowed, |_| {}).await
    }

    /// [`Store::import_assets`], calling `progress` with the number of records applied so far
    /// (after every record is checked, which needs no call).
    pub async fn import_assets_with_progress(
        tx: &mut WriteTx,
        records: &[(u64, AssetRecord)],
        column: impl Fn(&str) -> String,
        allowed: AllowedUnits<'_>,
        mut progress: impl FnMut(usize),
    ) -> Result<ImportOutcome> {
        let scheme = Self::scheme_in_tx(tx).await?;
        if !tx.is_postgres() {
            if let Ok(kb) = std::env::var("MAMORI_EXP_CACHE_KB") {
                sqlx::query(&format!("PRAGMA cache_size = -{kb}"))
                    .execute(tx.conn())
                    .await?;
            }
            if let Ok(t) = std::env::var("MAMORI_EXP_TEMP") {
                sqlx::query(&format!("PRAGMA temp_store = {t}"))
                    .execute(tx.conn())
                    .await?;
            }
        }
        let units = UnitIndex::load(tx).await?;
        let mut people = PersonCache::default();
        let t0 = std::time::Instant::now();

        // Check every row first; nothing is written unless all are right.
        let mut problems = Vec::new();
        for (line, r) in records {
            let unit = match units.resolve(&r.owner_unit) {
                Ok(u) if allowed.is_some_and(|a| !a.contains(&u.id)) => {
                    problems.push(Problem::with(
                        *line,
                        column("owner_unit"),
                        "error-forbidden-unit",
                        r.owner_unit.clone(),
                    ));
                    None
                }
                Ok(u) => Some(u.id),
                Err(id) => {
                    problems.push(Problem::with(
                        *line,
                        column("owner_unit"),
                        id,
                        r.owner_unit.clone(),
                    ));
                    None
                }
            };
            let custodian = if r.custodian.is_empty() {
                Some(None)
            } else {
                match people.resolve(tx, &r.custodian).await? {
                    Ok(p) => Some(Some(p.id)),
                    Err(id) => {
                        problems.push(Problem::with(
                            *line,
                            column("custodian"),
                            id,
                            r.custodian.clone(),
                        ));
                        None
                    }
                }
            };
            let mut levels_ok = true;
            for axis in Axis::ALL {
                let written = match axis {
                    Axis::Confidentiality => &r.confidentiality,
                    Axis::Integrity => &r.integrity,
                    Axis::Availability => &r.availability,
                };
                if scheme.level(axis, written).is_none() {
                    levels_ok = false;
                    problems.push(Problem::with(
                        *line,
                        column(axis.column()),
                        "error-unknown-level",
                        written.clone(),
                    ));
                }
            }
            if let (Some(owner_unit), Some(custodian), true) = (unit, custodian, levels_ok) {
                for (field, id) in draft_of(r, owner_unit, custodian).problems(&scheme) {
                    problems.push(Problem::new(*line, column(field), id));
                }
            }
        }
        if !problems.is_empty() {
            return Ok(Err(problems));
        }

        if std::env::var("MAMORI_EXP_TIMING").is_ok() {
            eprintln!("pass1 {:?}", t0.elapsed());
        }
        let mut apply = Apply {
            scheme: &scheme,
            units: &units,
            people: &mut people,
            batch: AssetBatch::default(),
            summary: ImportSummary::default(),
            done: 0,
        };
        // Rows that name an id first: the register's assets among them are updated (or left
        // unchanged), the others created with that id.
        let with_id: Vec<&(u64, AssetRecord)> = records
            .iter()
            .filter(|(_, r)| given_id(r).is_some())
            .collect();
        for chunk in with_id.chunks(CHUNK) {
            let ids: Vec<i64> = chunk.iter().filter_map(|(_, r)| given_id(r)).collect();
            let mut existing: HashMap<i64, AssetRow> = Self::assets_by_ids_in_tx(tx, &ids)
                .await?
                .into_iter()
                .map(|a| (a.id.0, a))
                .collect();
            for (line, r) in chunk {
                let id = given_id(r).map(AssetId);
                let before = id.and_then(|i| existing.remove(&i.0));
                if let Some(b) = &before {
                    if allowed.is_some_and(|a| !a.contains(&b.owner_unit_id)) {
                        problems.push(Problem::with(
                            *line,
                            column("id"),
                            "error-forbidden-unit",
                            b.owner_unit.clone(),
                        ));
                        continue;
                    }
                }
                apply.one(tx, r, before, id).await?;
                progress(apply.done);
            }
        }
        if std::env::var("MAMORI_EXP_TIMING").is_ok() {
            eprintln!("phaseA {:?}", t0.elapsed());
        }
        apply.batch.flush(tx).await?;
        if std::env::var("MAMORI_EXP_TIMING").is_ok() {
            eprintln!("flush {:?}", t0.elapsed());
        }
        if tx.is_postgres() && apply.summary.added > 0 {
            // Explicit ids do not move the identity sequence; the rows below (and later
            // creates) must be numbered after them.
            sqlx::query(
                "SELECT setval(pg_get_serial_sequence('assets', 'id'), GREATEST((SELECT MAX(id) FROM assets), 1))",
            )
            .execute(tx.conn())
            .await?;
        }
        // Rows without an id are new; the database numbers them.
        for (_, r) in records.iter().filter(|(_, r)| given_id(r).is_none()) {
            apply.one(tx, r, None, None).await?;
            progress(apply.done);
        }
        apply.batch.flush(tx).await?;
        if !problems.is_empty() {
            return Ok(Err(problems));
        }
        Ok(Ok(apply.summary))
    }
}

/// The second pass of an asset import: every row is known to be right.
struct Apply<'a> {
    scheme: &'a Scheme,
    units: &'a UnitIndex,
    people: &'a mut PersonCache,
    batch: AssetBatch,
    summary: ImportSummary,
    done: usize,
}

impl Apply<'_> {
    async fn one(
        &mut self,
        tx: &mut WriteTx,
        r: &AssetRecord,
        before: Option<AssetRow>,
        id: Option<AssetId>,
    ) -> Result<()> {
        self.done += 1;
        let unit = self
            .units
            .resolve(&r.owner_unit)
            .map_err(|_| crate::StoreError::Missing("unit"))?;
        let custodian = if r.custodian.is_empty() {
            None
        } else {
            // Cached by the first pass: no query.
            Some(
                self.people
                    .resolve(tx, &r.custodian)
                    .await?
                    .map_err(|_| crate::StoreError::Missing("person"))?,
            )
        };
        let draft = draft_of(r, unit.id, custodian.as_ref().map(|p| p.id));
        let refs = AssetRefs {
            unit_code: unit.code.clone(),
            unit_name: unit.name.clone(),
            custodian: custodian.map(|p| (p.staff_id, p.name)),
        };
        match before {
            Some(before) => {
                if before.draft()? == draft {
                    self.summary.unchanged += 1;
                } else {
                    Store::write_asset_batched(
                        tx,
                        self.scheme,
                        Some(before),
                        None,
                        &draft,
                        &refs,
                        "asset.update",
                        &mut self.batch,
                    )
                    .await?;
                    self.summary.updated += 1;
                }
            }
            None => {
                Store::write_asset_batched(
                    tx,
                    self.scheme,
                    None,
                    id,
                    &draft,
                    &refs,
                    "asset.create",
                    &mut self.batch,
                )
                .await?;
                self.summary.added += 1;
            }
        }
        Ok(())
    }
}

impl Store {
    /// Adds the relations a file lists (a relation already held is unchanged; relations are
    /// never removed by an import).
    pub async fn import_relations(
        tx: &mut WriteTx,
        records: &[(u64, RelationRecord)],
        column: impl Fn(&str) -> String,
        allowed: AllowedUnits<'_>,
    ) -> Result<ImportOutcome> {
        Self::import_relations_with_progress(tx, records, column, allowed, |_| {}).await
    }

    /// [`Store::import_relations`], calling `progress` with the number of rows handled so far.
    pub async fn import_relations_with_progress(
        tx: &mut WriteTx,
        records: &[(u64, RelationRecord)],
        column: impl Fn(&str) -> String,
        allowed: AllowedUnits<'_>,
        mut progress: impl FnMut(usize),
    ) -> Result<ImportOutcome> {
        let mut problems = Vec::new();
        let mut summary = ImportSummary::default();
        let mut done = 0;
        for chunk in records.chunks(CHUNK) {
            // The owner unit of every asset the chunk names, and the relations already held
            // from them.
            let ids: HashSet<i64> = chunk.iter().flat_map(|(_, r)| [r.from, r.to]).collect();
            let list = ids.iter().map(i64::to_string).collect::<Vec<_>>().join(",");
            let owners: HashMap<i64, i64> = sqlx::query_as::<_, (i64, i64)>(&format!(
                "SELECT id, owner_unit_id FROM assets WHERE id IN ({list})"
            ))
            .fetch_all(tx.conn())
            .await?
            .into_iter()
            .collect();
            let froms: HashSet<i64> = chunk.iter().map(|(_, r)| r.from).collect();
            let from_list = froms
                .iter()
                .map(i64::to_string)
                .collect::<Vec<_>>()
                .join(",");
            let held: HashSet<(i64, i64, String)> = sqlx::query_as::<_, (i64, i64, String)>(
                &format!(
                    "SELECT from_id, to_id, kind FROM asset_relations WHERE from_id IN ({from_list})"
                ),
            )
            .fetch_all(tx.conn())
            .await?
            .into_iter()
            .collect();
            for (line, r) in chunk {
                done += 1;
                progress(done);
                let mut missing = false;
                for (code, id) in [("from", r.from), ("to", r.to)] {
                    match owners.get(&id) {
                        None => {
                            problems.push(Problem::with(
                                *line,
                                column(code),
                                "error-unknown-asset",
                                id.to_string(),
                            ));
                            missing = true;
                        }
                        Some(u) if allowed.is_some_and(|a| !a.contains(&UnitId(*u))) => {
                            problems.push(Problem::with(
                                *line,
                                column(code),
                                "error-forbidden-unit",
                                id.to_string(),
                            ));
                            missing = true;
                        }
                        Some(_) => {}
                    }
                }
                if missing {
                    continue;
                }
                if held.contains(&(r.from, r.to, r.kind.code().to_owned())) {
                    summary.unchanged += 1;
                    continue;
                }
                match Self::add_relation(tx, AssetId(r.from), AssetId(r.to), r.kind).await {
                    Ok(_) => summary.added += 1,
                    Err(crate::StoreError::Rule(id)) => {
                        problems.push(Problem::with(*line, column("kind"), id, r.kind.code()))
                    }
                    Err(e) => return Err(e),
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
