//! Reading and appending the audit trail. Appending happens only through
//! [`crate::WriteTx::audit`]; nothing here updates or deletes.

use crate::list::{Filter, ListQuery};
use crate::values::{insert_failing, values_list};
use crate::{Result, Store};
use futures_util::TryStreamExt;
use mamori_domain::audit::{
    AuditEntry, AuditRecord, ChainBreak, ChainVerifier, Checkpoint, CheckpointError,
};
use sqlx::any::AnyRow;
use sqlx::{Any, Row, Transaction};

/// Audit entries per multi-row INSERT (11 parameters each).
pub(crate) const ENTRIES_PER_INSERT: usize = 250;

/// Appends `entries` (already chained, in order) in multi-row statements of at most
/// [`ENTRIES_PER_INSERT`].
pub(crate) async fn insert_entries(
    tx: &mut Transaction<'static, Any>,
    postgres: bool,
    entries: &[AuditEntry],
) -> Result<()> {
    for chunk in entries.chunks(ENTRIES_PER_INSERT) {
        let sql = format!(
            "{} INTO audit_log ({COLUMNS}) VALUES {}",
            insert_failing(postgres),
            values_list(postgres, chunk.len(), 11)
        );
        let mut q = sqlx::query(&sql);
        for e in chunk {
            q = q
                .bind(e.seq)
                .bind(&e.record.at)
                .bind(&e.record.actor)
                .bind(&e.record.source)
                .bind(&e.record.action)
                .bind(&e.record.entity_type)
                .bind(&e.record.entity_id)
                .bind(&e.record.before)
                .bind(&e.record.after)
                .bind(&e.prev_hash)
                .bind(&e.hash);
        }
        q.execute(&mut **tx).await?;
    }
    Ok(())
}

const COLUMNS: &str =
    "seq, at, actor, source, action, entity_type, entity_id, before_json, after_json, prev_hash, hash";

fn entry_from_row(row: &AnyRow) -> Result<AuditEntry> {
    Ok(AuditEntry {
        seq: row.try_get("seq")?,
        record: AuditRecord {
            at: row.try_get("at")?,
            actor: row.try_get("actor")?,
            source: row.try_get("source")?,
            action: row.try_get("action")?,
            entity_type: row.try_get("entity_type")?,
            entity_id: row.try_get("entity_id")?,
            before: row.try_get("before_json")?,
            after: row.try_get("after_json")?,
        },
        prev_hash: row.try_get("prev_hash")?,
        hash: row.try_get("hash")?,
    })
}

/// Filters for the audit-log page and export. Empty fields do not filter.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct AuditFilter {
    /// Exact actor.
    pub actor: Option<String>,
    /// Entity type (`unit`, `user`…).
    pub entity_type: Option<String>,
    /// Entity id.
    pub entity_id: Option<String>,
    /// Action prefix (`login` matches `login.failure`).
    pub action_prefix: Option<String>,
    /// From this time (inclusive, stored format).
    pub from: Option<String>,
    /// Before this time (exclusive, stored format).
    pub until: Option<String>,
}

/// The result of verifying the whole chain (and optionally checkpoints).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct AuditVerifyReport {
    /// Entries that verified.
    pub count: i64,
    /// The head hash after them.
    pub head: String,
    /// The first break, if any.
    pub chain_break: Option<ChainBreak>,
    /// Checkpoint failures, in the order given.
    pub checkpoint_errors: Vec<CheckpointError>,
}

impl AuditVerifyReport {
    /// True when nothing failed.
    pub fn ok(&self) -> bool {
        self.chain_break.is_none() && self.checkpoint_errors.is_empty()
    }
}

impl Store {
    fn audit_filter(filter: &AuditFilter) -> Filter {
        let mut f = Filter::default();
        f.eq("actor", filter.actor.as_deref());
        f.eq("entity_type", filter.entity_type.as_deref());
        f.eq("entity_id", filter.entity_id.as_deref());
        f.starts_with("action", filter.action_prefix.as_deref());
        if let Some(from) = filter.from.as_deref().filter(|v| !v.is_empty()) {
            f.add("at >= ?", from);
        }
        if let Some(until) = filter.until.as_deref().filter(|v| !v.is_empty()) {
            f.add("at < ?", until);
        }
        f
    }

    /// One page of entries, newest first, and the total matching.
    pub async fn audit_page(
        &self,
        filter: &AuditFilter,
        limit: i64,
        offset: i64,
    ) -> Result<(Vec<AuditEntry>, i64)> {
        let query = ListQuery {
            columns: COLUMNS,
            from: "FROM audit_log",
            order: "seq DESC",
            count_from: None,
        };
        query
            .page(
                &self.pool,
                &Self::audit_filter(filter),
                limit,
                offset,
                entry_from_row,
            )
            .await
    }

    /// Streams every matching entry, oldest first, to `sink` (for CSV export of any size).
    pub async fn audit_for_each(
        &self,
        filter: &AuditFilter,
        sink: impl FnMut(AuditEntry) -> Result<()>,
    ) -> Result<()> {
        let query = ListQuery {
            columns: COLUMNS,
            from: "FROM audit_log",
            order: "seq",
            count_from: None,
        };
        query
            .for_each(
                &self.pool,
                &Self::audit_filter(filter),
                entry_from_row,
                sink,
            )
            .await
    }

    /// The number of entries and the head hash.
    pub async fn audit_head(&self) -> Result<(i64, String)> {
        let head: Option<(i64, String)> =
            sqlx::query_as("SELECT seq, hash FROM audit_log ORDER BY seq DESC LIMIT 1")
                .fetch_optional(&self.pool)
                .await?;
        Ok(head.unwrap_or((0, mamori_domain::audit::GENESIS_HASH.to_owned())))
    }

    /// Verifies the whole chain in one read, then each checkpoint against it. `progress` is
    /// called with the number of entries checked so far.
    pub async fn audit_verify(
        &self,
        checkpoints: &[Checkpoint],
        mut progress: impl FnMut(i64),
    ) -> Result<AuditVerifyReport> {
        let mut verifier = ChainVerifier::default();
        let mut chain_break = None;
        let mut wanted: std::collections::HashMap<i64, Option<String>> =
            checkpoints.iter().map(|c| (c.count, None)).collect();
        let sql = format!("SELECT {COLUMNS} FROM audit_log ORDER BY seq");
        let mut rows = sqlx::query(&sql).fetch(&self.pool);
        let mut total = 0i64;
        while let Some(row) = rows.try_next().await? {
            let entry = entry_from_row(&row)?;
            total += 1;
            if let Some(slot) = wanted.get_mut(&entry.seq) {
                *slot = Some(entry.hash.clone());
            }
            if chain_break.is_none() {
                if let Err(b) = verifier.push(&entry) {
                    chain_break = Some(b);
                }
            }
            if total % 10_000 == 0 {
                progress(total);
            }
        }
        progress(total);
        let max_seq: Option<i64> = sqlx::query_scalar("SELECT MAX(seq) FROM audit_log")
            .fetch_one(&self.pool)
            .await?;
        let chain_len = max_seq.unwrap_or(0);
        let checkpoint_errors = checkpoints
            .iter()
            .filter_map(|c| {
                let hash = wanted.get(&c.count).and_then(|h| h.as_deref());
                c.check_against(chain_len, hash).err()
            })
            .collect();
        Ok(AuditVerifyReport {
            count: verifier.count(),
            head: verifier.head().to_owned(),
            chain_break,
            checkpoint_errors,
        })
    }
}

impl Store {
    /// The sequence number of the newest audit entry: a version stamp of all data, because
    /// every change appends to the trail in its own transaction. Caches keyed by it are exact
    /// across several servers sharing one database: the version returned was read after this
    /// call began, so it includes every change committed before (concurrent calls share one
    /// such read, see `version.rs`).
    pub async fn data_version(&self) -> Result<i64> {
        self.version_reads
            .current(|| async {
                let seq: Option<i64> =
                    sqlx::query_scalar("SELECT seq FROM audit_log ORDER BY seq DESC LIMIT 1")
                        .fetch_optional(&self.pool)
                        .await?;
                Ok(seq.unwrap_or(0))
            })
            .await
    }
}
