//! Applying imported assets and asset relations: references resolved against the register,
//! levels checked against the organisation's scheme, all or nothing.
//!
//! Built for registers of 100,000 rows: units are read once, people once (a large file) or
//! each distinct custodian once, the assets a file may update a chunk at a time; new rows are
//! numbered in one step and written in multi-row statements, each step prepared while the
//! database writes the one before (`NewAssets`); the search grams of every row are written
//! last, in gram order (`AssetBatch`). Every change is still audited on its own, with its
//! before and after.

use crate::assets::{AssetBatch, AssetRefs, NewAssets};
use crate::{AssetRow, ImportOutcome, ImportSummary, Result, Store, WriteTx};
use mamori_domain::assets::classification::{Axis, Class, Scheme};
use mamori_domain::assets::{AssetDraft, AssetStatus, AssetType};
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

/// Every person, by staff id and by name: read in one query for a large import instead of
/// one query per custodian (a register of 100,000 assets names thousands).
struct PeopleIndex {
    by_staff_id: HashMap<String, PersonEntry>,
    by_name: HashMap<String, Vec<PersonEntry>>,
}

impl PeopleIndex {
    async fn load(tx: &mut WriteTx) -> Result<PeopleIndex> {
        let rows: Vec<(i64, String, String)> =
            sqlx::query_as("SELECT id, staff_id, name FROM people ORDER BY id")
                .fetch_all(tx.conn())
                .await?;
        let mut index = PeopleIndex {
            by_staff_id: HashMap::with_capacity(rows.len()),
            by_name: HashMap::new(),
        };
        for (id, staff_id, name) in rows {
            let entry = PersonEntry {
                id: PersonId(id),
                staff_id: staff_id.clone(),
                name: name.clone(),
            };
            index.by_name.entry(name).or_default().push(entry.clone());
            index.by_staff_id.insert(staff_id, entry);
        }
        Ok(index)
    }
}

/// Custodians as written, each looked up once.
struct PersonCache {
    found: HashMap<String, std::result::Result<PersonEntry, &'static str>>,
    /// Everyone, when the import is large enough to read them all at once.
    everyone: Option<PeopleIndex>,
}

impl PersonCache {
    /// A cache for an import of `rows` rows: from [`TUNE_FROM_ROWS`] rows on, everyone is
    /// read at once.
    async fn for_rows(tx: &mut WriteTx, rows: usize) -> Result<PersonCache> {
        let everyone = if rows >= TUNE_FROM_ROWS {
            Some(PeopleIndex::load(tx).await?)
        } else {
            None
        };
        Ok(PersonCache {
            found: HashMap::new(),
            everyone,
        })
    }

    /// A custodian [`PersonCache::resolve`] found before (no query).
    fn found(&self, written: &str) -> Result<&PersonEntry> {
        match self.found.get(written) {
            Some(Ok(p)) => Ok(p),
            _ => Err(crate::StoreError::Missing("person")),
        }
    }

    /// A custodian written as a staff id or a name (a shared name is ambiguous).
    async fn resolve(
        &mut self,
        tx: &mut WriteTx,
        written: &str,
    ) -> Result<std::result::Result<PersonEntry, &'static str>> {
        if let Some(found) = self.found.get(written) {
            return Ok(found.clone());
        }
        let (by_staff, named) = match &self.everyone {
            Some(index) => (
                index.by_staff_id.get(written).cloned(),
                index.by_name.get(written).cloned().unwrap_or_default(),
            ),
            None => Self::query(tx, written).await?,
        };
        let found = match by_staff {
            Some(p) => Ok(p),
            None => match <[_; 1]>::try_from(named) {
                Ok([one]) => Ok(one),
                Err(v) if v.is_empty() => Err("error-unknown-person"),
                Err(_) => Err("import-ambiguous-person"),
            },
        };
        self.found.insert(written.to_owned(), found.clone());
        Ok(found)
    }

    /// The person whose staff id is `written` or else those named `written`, from the database.
    async fn query(
        tx: &mut WriteTx,
        written: &str,
    ) -> Result<(Option<PersonEntry>, Vec<PersonEntry>)> {
        let entry = |(id, staff_id, name): (i64, String, String)| PersonEntry {
            id: PersonId(id),
            staff_id,
            name,
        };
        let by_staff: Option<(i64, String, String)> =
            sqlx::query_as("SELECT id, staff_id, name FROM people WHERE staff_id = $1")
                .bind(written)
                .fetch_optional(tx.conn())
                .await?;
        if let Some(p) = by_staff {
            return Ok((Some(entry(p)), Vec::new()));
        }
        let named: Vec<(i64, String, String)> =
            sqlx::query_as("SELECT id, staff_id, name FROM people WHERE name = $1")
                .bind(written)
                .fetch_all(tx.conn())
                .await?;
        Ok((None, named.into_iter().map(entry).collect()))
    }
}

/// Imports of at least this many rows run with [`ImportSettings::raise`].
const TUNE_FROM_ROWS: usize = 1_000;

/// The page cache a large import runs with on SQLite, in KiB (the default is 2 MiB).
const IMPORT_CACHE_KIB: i64 = 32 * 1024;

/// Connection settings a large import changes for its duration, and restores (every large
/// import: assets, relations, control statuses, risks).
pub(crate) enum ImportSettings {
    /// SQLite: the page cache as it was.
    Sqlite { cache_size: i64 },
    /// PostgreSQL: `enable_seqscan` as it was.
    Postgres { enable_seqscan: String },
}

impl ImportSettings {
    /// For an import of [`TUNE_FROM_ROWS`] rows or more:
    ///
    /// - SQLite: a page cache of at least [`IMPORT_CACHE_KIB`] (so the index pages an import
    ///   keeps appending to stay in memory instead of being written to the WAL and read back).
    ///   Statement journals are in memory on every connection (`temp_store`, set at connect).
    /// - PostgreSQL: no sequential scans. A foreign-key check is planned at its first use,
    ///   while the referenced table may still be a few pages; a sequential scan then looks
    ///   cheapest and stays cached while the table grows in the same transaction, so every
    ///   check reads the whole table (when `asset_grams` still referenced `assets`, an import
    ///   of 100,000 assets ran for more than 15 minutes instead of 45 s).
    ///
    /// Returns what to restore.
    pub(crate) async fn raise(tx: &mut WriteTx, rows: usize) -> Result<Option<ImportSettings>> {
        if rows < TUNE_FROM_ROWS {
            return Ok(None);
        }
        if tx.is_postgres() {
            let enable_seqscan: String =
                sqlx::query_scalar("SELECT current_setting('enable_seqscan')")
                    .fetch_one(tx.conn())
                    .await?;
            sqlx::query("SET LOCAL enable_seqscan = off")
                .execute(tx.conn())
                .await?;
            return Ok(Some(ImportSettings::Postgres { enable_seqscan }));
        }
        let cache_size: i64 = sqlx::query_scalar("PRAGMA cache_size")
            .fetch_one(tx.conn())
            .await?;
        // Negative: KiB; positive: pages (of 4 KiB, Mamori's page size).
        let kib = if cache_size < 0 {
            -cache_size
        } else {
            cache_size * 4
        };
        if kib < IMPORT_CACHE_KIB {
            sqlx::query(&format!("PRAGMA cache_size = -{IMPORT_CACHE_KIB}"))
                .execute(tx.conn())
                .await?;
        }
        Ok(Some(ImportSettings::Sqlite { cache_size }))
    }

    /// Restores what [`ImportSettings::raise`] changed (when it changed anything) and hands
    /// back the import's outcome; the outcome's error wins over a failed restore.
    pub(crate) async fn finish<T>(
        tuned: Option<ImportSettings>,
        tx: &mut WriteTx,
        outcome: Result<T>,
    ) -> Result<T> {
        let Some(settings) = tuned else {
            return outcome;
        };
        let restored = settings.restore(tx).await;
        let outcome = outcome?;
        restored?;
        Ok(outcome)
    }

    async fn restore(self, tx: &mut WriteTx) -> Result<()> {
        match self {
            ImportSettings::Sqlite { cache_size } => {
                sqlx::query(&format!("PRAGMA cache_size = {cache_size}"))
                    .execute(tx.conn())
                    .await?;
            }
            ImportSettings::Postgres { enable_seqscan } => {
                sqlx::query("SELECT set_config('enable_seqscan', $1, true)")
                    .bind(enable_seqscan)
                    .execute(tx.conn())
                    .await?;
            }
        }
        Ok(())
    }
}

/// `1,2,3` for an `IN` list of ids (numbers, never text from a file).
fn id_list<'a>(ids: impl Iterator<Item = &'a i64>) -> String {
    ids.map(i64::to_string).collect::<Vec<_>>().join(",")
}

/// Why a relation may not be added, by the rules of [`Store::add_relation`]: an asset with
/// itself, a disposed asset on either side, a kind that does not fit the two types. The
/// sides are (owner unit, type code, status code).
fn relation_problem(
    r: &RelationRecord,
    from: &(i64, String, String),
    to: &(i64, String, String),
) -> Option<&'static str> {
    let disposed = AssetStatus::Disposed.code();
    if r.from == r.to {
        Some("error-relation-self")
    } else if from.2 == disposed || to.2 == disposed {
        Some("error-asset-disposed")
    } else {
        match (AssetType::parse(&from.1), AssetType::parse(&to.1)) {
            (Some(a), Some(b)) if r.kind.allows(a, b) => None,
            _ => Some("error-relation-types"),
        }
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
        progress: impl FnMut(usize),
    ) -> Result<ImportOutcome> {
        let tuned = ImportSettings::raise(tx, records.len()).await?;
        let outcome = Self::apply_assets(tx, records, column, allowed, progress).await;
        ImportSettings::finish(tuned, tx, outcome).await
    }

    async fn apply_assets(
        tx: &mut WriteTx,
        records: &[(u64, AssetRecord)],
        column: impl Fn(&str) -> String,
        allowed: AllowedUnits<'_>,
        mut progress: impl FnMut(usize),
    ) -> Result<ImportOutcome> {
        let scheme = Self::scheme_in_tx(tx).await?;
        let units = UnitIndex::load(tx).await?;
        let mut people = PersonCache::for_rows(tx, records.len()).await?;

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

        let mut apply = Apply {
            scheme: &scheme,
            units: &units,
            people: &people,
            batch: AssetBatch::default(),
            summary: ImportSummary::default(),
            done: 0,
        };
        // Rows naming an id the register holds are updates (or unchanged); the rest are new.
        let with_id: Vec<&(u64, AssetRecord)> = records
            .iter()
            .filter(|(_, r)| given_id(r).is_some())
            .collect();
        let mut new: Vec<(&AssetRecord, Option<AssetId>)> = Vec::new();
        for chunk in with_id.chunks(CHUNK) {
            let ids: Vec<i64> = chunk.iter().filter_map(|(_, r)| given_id(r)).collect();
            let mut existing: HashMap<i64, AssetRow> = Self::assets_by_ids_in_tx(tx, &ids)
                .await?
                .into_iter()
                .map(|a| (a.id.0, a))
                .collect();
            for (line, r) in chunk {
                let id = given_id(r).map(AssetId);
                let Some(before) = id.and_then(|i| existing.remove(&i.0)) else {
                    new.push((r, id));
                    continue;
                };
                if allowed.is_some_and(|a| !a.contains(&before.owner_unit_id)) {
                    problems.push(Problem::with(
                        *line,
                        column("id"),
                        "error-forbidden-unit",
                        before.owner_unit.clone(),
                    ));
                    continue;
                }
                apply.update(tx, r, before).await?;
                progress(apply.done);
            }
        }
        if !problems.is_empty() {
            return Ok(Err(problems));
        }
        new.extend(
            records
                .iter()
                .filter(|(_, r)| given_id(r).is_none())
                .map(|(_, r)| (r, None)),
        );
        let new = Self::number_new_assets(tx, new).await?;
        apply.create_all(tx, &new, &mut progress).await?;
        apply.batch.flush(tx).await?;
        Ok(Ok(apply.summary))
    }

    /// Gives every new asset its id: a row's own, or for a row without one the next free id
    /// (after every id the register holds, has handed out, or the file gives). New ids are
    /// taken in one step instead of one `INSERT … RETURNING` each, so that every new row is
    /// written in multi-row statements.
    async fn number_new_assets<'r>(
        tx: &mut WriteTx,
        new: Vec<(&'r AssetRecord, Option<AssetId>)>,
    ) -> Result<Vec<(&'r AssetRecord, AssetId)>> {
        if new.is_empty() {
            return Ok(Vec::new());
        }
        let missing = new.iter().filter(|(_, id)| id.is_none()).count();
        let given_max = new
            .iter()
            .filter_map(|(_, id)| id.map(|i| i.0))
            .max()
            .unwrap_or(0);
        let mut fresh: Vec<i64> = if tx.is_postgres() {
            // The identity sequence moves past the given ids (it never moves back), then
            // hands out the new ones; other servers' creates keep taking their own.
            sqlx::query(
                "SELECT setval(pg_get_serial_sequence('assets', 'id'), m) \
                 FROM (SELECT GREATEST((SELECT MAX(id) FROM assets), $1) AS m) AS t \
                 WHERE m > COALESCE(pg_sequence_last_value(CAST(pg_get_serial_sequence('assets', 'id') AS regclass)), 0)",
            )
            .bind(given_max)
            .execute(tx.conn())
            .await?;
            let mut ids: Vec<i64> = sqlx::query_scalar(
                "SELECT nextval(pg_get_serial_sequence('assets', 'id')) FROM generate_series(1, $1)",
            )
            .bind(i64::try_from(missing).unwrap_or(i64::MAX))
            .fetch_all(tx.conn())
            .await?;
            ids.sort_unstable();
            ids
        } else if missing > 0 {
            // The writer lock is held, so nobody else numbers assets meanwhile; AUTOINCREMENT
            // remembers the highest id ever used in sqlite_sequence, which explicit ids move.
            let held: i64 = sqlx::query_scalar(
                "SELECT MAX(COALESCE((SELECT MAX(id) FROM assets), 0), \
                 COALESCE((SELECT seq FROM sqlite_sequence WHERE name = 'assets'), 0))",
            )
            .fetch_one(tx.conn())
            .await?;
            let first = held.max(given_max) + 1;
            (first..).take(missing).collect()
        } else {
            Vec::new()
        };
        fresh.reverse();
        new.into_iter()
            .map(|(r, id)| match id {
                Some(id) => Ok((r, id)),
                None => fresh
                    .pop()
                    .map(|i| (r, AssetId(i)))
                    .ok_or(crate::StoreError::Missing("asset id")),
            })
            .collect()
    }
}

/// New assets per step of an import's pipeline: prepared while the step before is written.
const PIPELINE_STEP: usize = 250;

/// Assets prepared between two looks at whether the database finished a statement.
const PREPARED_BETWEEN_YIELDS: usize = 25;

/// The second pass of an asset import: every row is known to be right.
struct Apply<'a> {
    scheme: &'a Scheme,
    units: &'a UnitIndex,
    people: &'a PersonCache,
    batch: AssetBatch,
    summary: ImportSummary,
    done: usize,
}

impl Apply<'_> {
    /// The draft of a row and what its references resolved to (by the first pass).
    fn resolve(&self, r: &AssetRecord) -> Result<(AssetDraft, AssetRefs)> {
        let unit = self
            .units
            .resolve(&r.owner_unit)
            .map_err(|_| crate::StoreError::Missing("unit"))?;
        let custodian = if r.custodian.is_empty() {
            None
        } else {
            Some(self.people.found(&r.custodian)?)
        };
        let draft = draft_of(r, unit.id, custodian.map(|p| p.id));
        let refs = AssetRefs {
            unit_code: unit.code.clone(),
            unit_name: unit.name.clone(),
            custodian: custodian.map(|p| (p.staff_id.clone(), p.name.clone())),
        };
        Ok((draft, refs))
    }

    /// Updates an asset the register holds (or counts it unchanged).
    async fn update(&mut self, tx: &mut WriteTx, r: &AssetRecord, before: AssetRow) -> Result<()> {
        self.done += 1;
        let (draft, refs) = self.resolve(r)?;
        if before.draft()? == draft {
            self.summary.unchanged += 1;
            return Ok(());
        }
        Store::update_asset_batched(tx, self.scheme, before, &draft, &refs, &mut self.batch)
            .await?;
        self.summary.updated += 1;
        Ok(())
    }

    /// Creates the new assets in steps of [`PIPELINE_STEP`]: while the database writes one
    /// step (on SQLite's worker thread or in the PostgreSQL server), this thread prepares the
    /// next — drafts, search grams, audit text — so the import is not the sum of the two.
    async fn create_all(
        &mut self,
        tx: &mut WriteTx,
        new: &[(&AssetRecord, AssetId)],
        progress: &mut impl FnMut(usize),
    ) -> Result<()> {
        let annotation = tx.annotation().cloned();
        let mut steps = new.chunks(PIPELINE_STEP);
        let Some(first) = steps.next() else {
            return Ok(());
        };
        let mut ready = self.prepare(first, annotation.as_ref()).await?;
        for step in steps {
            let writing = ready.len();
            let (written, next) =
                tokio::join!(ready.write(tx), self.prepare(step, annotation.as_ref()));
            self.batch.queue(written?);
            self.created(writing, progress);
            ready = next?;
        }
        let last = ready.len();
        let grams = ready.write(tx).await?;
        self.batch.queue(grams);
        self.created(last, progress);
        Ok(())
    }

    /// Counts `n` assets created and reports progress.
    fn created(&mut self, n: usize, progress: &mut impl FnMut(usize)) {
        self.done += n;
        self.summary.added += n;
        progress(self.done);
    }

    /// Prepares one step of new assets, letting the write of the step before go on every
    /// [`PREPARED_BETWEEN_YIELDS`] assets.
    async fn prepare(
        &self,
        step: &[(&AssetRecord, AssetId)],
        annotation: Option<&(String, String)>,
    ) -> Result<NewAssets> {
        let mut out = NewAssets::default();
        for (i, (r, id)) in step.iter().enumerate() {
            if i > 0 && i % PREPARED_BETWEEN_YIELDS == 0 {
                tokio::task::yield_now().await;
            }
            let (draft, refs) = self.resolve(r)?;
            out.push(self.scheme, *id, draft, &refs, annotation)?;
        }
        Ok(out)
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
            // Every asset the chunk names (owner unit, type, state), and the relations already
            // held from them.
            let ids: HashSet<i64> = chunk.iter().flat_map(|(_, r)| [r.from, r.to]).collect();
            let assets: HashMap<i64, (i64, String, String)> =
                sqlx::query_as::<_, (i64, i64, String, String)>(&format!(
                    "SELECT id, owner_unit_id, asset_type, status FROM assets WHERE id IN ({})",
                    id_list(ids.iter())
                ))
                .fetch_all(tx.conn())
                .await?
                .into_iter()
                .map(|(id, unit, t, status)| (id, (unit, t, status)))
                .collect();
            let froms: HashSet<i64> = chunk.iter().map(|(_, r)| r.from).collect();
            let held: HashSet<(i64, i64, String)> =
                sqlx::query_as::<_, (i64, i64, String)>(&format!(
                    "SELECT from_id, to_id, kind FROM asset_relations WHERE from_id IN ({})",
                    id_list(froms.iter())
                ))
                .fetch_all(tx.conn())
                .await?
                .into_iter()
                .collect();
            let mut new = Vec::new();
            for (line, r) in chunk {
                done += 1;
                progress(done);
                let mut missing = false;
                for (code, id) in [("from", r.from), ("to", r.to)] {
                    match assets.get(&id) {
                        None => {
                            problems.push(Problem::with(
                                *line,
                                column(code),
                                "error-unknown-asset",
                                id.to_string(),
                            ));
                            missing = true;
                        }
                        Some((u, _, _)) if allowed.is_some_and(|a| !a.contains(&UnitId(*u))) => {
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
                let (Some(from), Some(to)) = (assets.get(&r.from), assets.get(&r.to)) else {
                    continue;
                };
                match relation_problem(r, from, to) {
                    Some(id) => {
                        problems.push(Problem::with(*line, column("kind"), id, r.kind.code()))
                    }
                    None => new.push(r),
                }
            }
            summary.added += new.len();
            Self::insert_relations(tx, &new).await?;
        }
        Ok(if problems.is_empty() {
            Ok(summary)
        } else {
            Err(problems)
        })
    }

    /// Adds checked relations in one statement and audits each as [`Store::add_relation`]
    /// does (`asset.relate`, with from, to and kind).
    async fn insert_relations(tx: &mut WriteTx, relations: &[&RelationRecord]) -> Result<()> {
        if relations.is_empty() {
            return Ok(());
        }
        let postgres = tx.is_postgres();
        let mut values = Vec::with_capacity(relations.len());
        for i in 0..relations.len() {
            let p: Vec<String> = (1..=4)
                .map(|c| {
                    if postgres {
                        format!("${}", i * 4 + c)
                    } else {
                        "?".to_owned()
                    }
                })
                .collect();
            values.push(format!("({})", p.join(", ")));
        }
        let sql = format!(
            "INSERT INTO asset_relations (from_id, to_id, kind, created_at) VALUES {} \
             RETURNING id, from_id, to_id, kind",
            values.join(", ")
        );
        let at = crate::format_ts(time::OffsetDateTime::now_utc());
        let mut q = sqlx::query_as::<_, (i64, i64, i64, String)>(&sql);
        for r in relations {
            q = q.bind(r.from).bind(r.to).bind(r.kind.code()).bind(&at);
        }
        let created: HashMap<(i64, i64, String), i64> = q
            .fetch_all(tx.conn())
            .await
            .map_err(crate::on_unique("relation"))?
            .into_iter()
            .map(|(id, from, to, kind)| ((from, to, kind), id))
            .collect();
        for r in relations {
            let id = created
                .get(&(r.from, r.to, r.kind.code().to_owned()))
                .ok_or(crate::StoreError::Missing("relation"))?;
            tx.audit(
                "asset.relate",
                "asset_relation",
                &id.to_string(),
                None,
                Some(serde_json::json!({"from": r.from, "to": r.to, "kind": r.kind.code()})),
            )
            .await?;
        }
        Ok(())
    }
}
