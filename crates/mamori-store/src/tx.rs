//! The one path for changes: a write transaction that must append to the audit trail before
//! it may commit.

use crate::{Backend, Result, Store, StoreError};
use mamori_domain::audit::{redact, AuditEntry, AuditRecord};
use sqlx::{Any, Transaction};
use time::OffsetDateTime;

/// Who is making a change, and from where.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Actor {
    /// A username, `cli:<OS user>`, `system` or `anonymous`.
    pub name: String,
    /// The client address, or `cli` / `system`.
    pub source: String,
}

impl Actor {
    /// An actor for the command line: `cli:<OS user>`.
    pub fn cli() -> Actor {
        let user = std::env::var("USER")
            .or_else(|_| std::env::var("USERNAME"))
            .unwrap_or_else(|_| "unknown".into());
        Actor {
            name: format!("cli:{user}"),
            source: "cli".into(),
        }
    }

    /// The server itself (seeding, scheduled jobs).
    pub fn system() -> Actor {
        Actor {
            name: "system".into(),
            source: "system".into(),
        }
    }
}

/// A write transaction. Dropping it without [`WriteTx::commit`] rolls everything back.
pub struct WriteTx {
    pub(crate) tx: Transaction<'static, Any>,
    backend: Backend,
    actor: Actor,
    /// The first sequence number this transaction appended, and the head it appended last
    /// (kept instead of the entries, so a 100,000-row import does not hold them all).
    first_seq: Option<i64>,
    head: Option<(i64, String)>,
    /// Entries chained but not yet written: they go in multi-row statements of
    /// [`crate::audit::ENTRIES_PER_INSERT`], the last of them at [`WriteTx::commit`] (an import
    /// of 100,000 rows makes 400 statements instead of 100,000). Nothing reads the trail
    /// inside a write transaction, and appenders are serialised, so holding them back changes
    /// neither the chain nor what is committed.
    pending: Vec<AuditEntry>,
    annotation: Option<(String, String)>,
    _guard: Option<tokio::sync::OwnedMutexGuard<()>>,
}

impl Store {
    /// Begins a change made by `actor`.
    pub async fn begin(&self, actor: Actor) -> Result<WriteTx> {
        let guard = match self.backend {
            Backend::Sqlite => Some(self.write_lock.clone().lock_owned().await),
            Backend::Postgres => None,
        };
        let tx = self.pool.begin().await?;
        Ok(WriteTx {
            tx,
            backend: self.backend,
            actor,
            first_seq: None,
            head: None,
            pending: Vec::new(),
            annotation: None,
            _guard: guard,
        })
    }
}

impl WriteTx {
    /// The actor of this change.
    pub fn actor(&self) -> &Actor {
        &self.actor
    }

    /// Adds `key: value` to the `after` of every following audit entry (e.g. the import id
    /// that ties together the entries of one import).
    pub fn annotate(&mut self, key: &str, value: &str) {
        self.annotation = Some((key.to_owned(), value.to_owned()));
    }

    /// Appends an audit entry in this transaction. `before` / `after` are redacted of secrets.
    pub async fn audit(
        &mut self,
        action: &str,
        entity_type: &str,
        entity_id: &str,
        before: Option<serde_json::Value>,
        after: Option<serde_json::Value>,
    ) -> Result<AuditEntry> {
        let at = crate::format_ts(OffsetDateTime::now_utc());
        self.audit_at(at, action, entity_type, entity_id, before, after)
            .await
    }

    /// [`WriteTx::audit`] for a record whose fields hold no secrets (such as an asset):
    /// `before` and `after` are serialised to text directly (see [`plain_audit_json`]).
    pub(crate) async fn audit_plain<T: serde::Serialize>(
        &mut self,
        action: &str,
        entity_type: &str,
        entity_id: &str,
        before: Option<&T>,
        after: Option<&T>,
    ) -> Result<AuditEntry> {
        let before = plain_audit_json(before, None)?;
        let after = plain_audit_json(after, self.annotation.as_ref())?;
        let at = crate::format_ts(OffsetDateTime::now_utc());
        self.audit_text(at, action, entity_type, entity_id, before, after)
            .await
    }

    /// The annotation of [`WriteTx::annotate`], which every following entry's `after` carries.
    pub(crate) fn annotation(&self) -> Option<&(String, String)> {
        self.annotation.as_ref()
    }

    /// Appends an entry whose `before` and `after` are already text: redacted, or made by
    /// [`plain_audit_json`] (with this transaction's [`WriteTx::annotation`] for `after`).
    pub(crate) async fn audit_text(
        &mut self,
        at: String,
        action: &str,
        entity_type: &str,
        entity_id: &str,
        before: Option<String>,
        after: Option<String>,
    ) -> Result<AuditEntry> {
        let record = AuditRecord {
            at,
            actor: self.actor.name.clone(),
            source: self.actor.source.clone(),
            action: action.to_owned(),
            entity_type: entity_type.to_owned(),
            entity_id: entity_id.to_owned(),
            before,
            after,
        };
        self.append(record).await
    }

    pub(crate) async fn audit_at(
        &mut self,
        at: String,
        action: &str,
        entity_type: &str,
        entity_id: &str,
        before: Option<serde_json::Value>,
        after: Option<serde_json::Value>,
    ) -> Result<AuditEntry> {
        let after = match (&self.annotation, after) {
            (Some((k, v)), Some(serde_json::Value::Object(mut map))) => {
                map.insert(k.clone(), serde_json::Value::String(v.clone()));
                Some(serde_json::Value::Object(map))
            }
            (Some((k, v)), None) => Some(serde_json::json!({ k.as_str(): v })),
            (_, other) => other,
        };
        let text = |v: Option<serde_json::Value>| {
            v.map(|mut v| {
                redact(&mut v);
                v.to_string()
            })
        };
        self.audit_text(
            at,
            action,
            entity_type,
            entity_id,
            text(before),
            text(after),
        )
        .await
    }

    /// Chains `record` to the head of the trail and queues it for writing.
    async fn append(&mut self, record: AuditRecord) -> Result<AuditEntry> {
        if self.backend == Backend::Postgres && self.first_seq.is_none() {
            // Serialise appenders so that each links to the true head; readers are not blocked.
            sqlx::query("LOCK TABLE audit_log IN EXCLUSIVE MODE")
                .execute(&mut *self.tx)
                .await?;
        }
        // Appends are serialised (SQLite's writer lock, PostgreSQL's table lock), so once read
        // the head only moves by this transaction's own appends.
        let head: Option<(i64, String)> = match self.first_seq {
            Some(_) => self.head.clone(),
            None => {
                sqlx::query_as("SELECT seq, hash FROM audit_log ORDER BY seq DESC LIMIT 1")
                    .fetch_optional(&mut *self.tx)
                    .await?
            }
        };
        let entry = AuditEntry::chain(head.as_ref().map(|(s, h)| (*s, h.as_str())), record);
        self.first_seq.get_or_insert(entry.seq);
        self.head = Some((entry.seq, entry.hash.clone()));
        self.pending.push(entry.clone());
        if self.pending.len() >= crate::audit::ENTRIES_PER_INSERT {
            self.write_pending().await?;
        }
        Ok(entry)
    }

    /// Writes the entries chained so far.
    async fn write_pending(&mut self) -> Result<()> {
        let postgres = self.is_postgres();
        crate::audit::insert_entries(&mut self.tx, postgres, &self.pending).await?;
        self.pending.clear();
        Ok(())
    }

    /// Commits, provided at least one audit entry was appended. Returns the sequence numbers
    /// of the first and last entries appended.
    pub async fn commit(mut self) -> Result<(i64, i64)> {
        let (Some(first), Some((last, _))) = (self.first_seq, self.head.clone()) else {
            return Err(StoreError::Unaudited);
        };
        self.write_pending().await?;
        self.tx.commit().await?;
        Ok((first, last))
    }

    /// True on PostgreSQL (for the few statements that differ).
    pub(crate) fn is_postgres(&self) -> bool {
        self.backend == Backend::Postgres
    }

    /// Gives the underlying connection for statements in this transaction.
    pub(crate) fn conn(&mut self) -> &mut sqlx::AnyConnection {
        &mut self.tx
    }
}

/// The audit text of a record whose fields hold no secrets (such as an asset), serialised
/// directly instead of through a JSON value redacted first — a large import audits 100,000
/// of them — with `annotation` added when given. Debug builds check that redacting would
/// have changed nothing.
pub(crate) fn plain_audit_json<T: serde::Serialize>(
    value: Option<&T>,
    annotation: Option<&(String, String)>,
) -> Result<Option<String>> {
    let Some(value) = value else {
        return Ok(annotation.map(|(k, v)| serde_json::json!({ k.as_str(): v }).to_string()));
    };
    let mut json = serde_json::to_string(value)
        .map_err(|e| StoreError::Corrupt(format!("audit record as JSON: {e}")))?;
    if let Some((key, value)) = annotation {
        annotate_object(&mut json, key, value)?;
    }
    debug_assert!(
        {
            let mut parsed: serde_json::Value = serde_json::from_str(&json).unwrap_or_default();
            let unredacted = parsed.clone();
            redact(&mut parsed);
            parsed == unredacted
        },
        "a record with secrets was audited as plain: {json}"
    );
    Ok(Some(json))
}

/// Adds `"key": "value"` to the JSON object written in `json` (the annotation of
/// [`WriteTx::annotate`]).
fn annotate_object(json: &mut String, key: &str, value: &str) -> Result<()> {
    if !(json.starts_with('{') && json.ends_with('}')) {
        return Err(StoreError::Corrupt(format!(
            "an annotated audit record must be a JSON object: {json}"
        )));
    }
    json.pop();
    if json.len() > 1 {
        json.push(',');
    }
    let pair = serde_json::json!({ key: value }).to_string();
    json.push_str(&pair[1..]);
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::annotate_object;

    #[test]
    fn an_annotation_joins_the_object() {
        let mut full = r#"{"id":1,"name":"台帳"}"#.to_owned();
        annotate_object(&mut full, "import_id", "import-\"7\"").unwrap();
        let parsed: serde_json::Value = serde_json::from_str(&full).unwrap();
        assert_eq!(
            parsed,
            serde_json::json!({"id": 1, "name": "台帳", "import_id": "import-\"7\""})
        );
        let mut empty = "{}".to_owned();
        annotate_object(&mut empty, "k", "v").unwrap();
        assert_eq!(empty, r#"{"k":"v"}"#);
        assert!(annotate_object(&mut "[1]".to_owned(), "k", "v").is_err());
    }
}
