//! Database-neutral backup and restore.
//!
//! A backup is one tar archive: `manifest.json` first (format, schema version, and for each
//! table its row count and the SHA-256 of its data file), then `tables/<name>.jsonl` with one
//! JSON array of column values per row. It is written from a single read transaction, so it
//! is consistent while the server runs, and it never copies live database files. Because the
//! rows are plain values, a SQLite backup restores into PostgreSQL and back.
//!
//! Restoring refuses: a non-empty target, a newer schema, absolute paths, `..`, links or other
//! non-file entries, unknown files, oversized entries or too many entries, and any checksum
//! mismatch. All rows go in one transaction; afterwards the database's integrity is checked.

use crate::{format_ts, Backend, Result, Store, StoreError};
use base64::Engine as _;
use futures_util::TryStreamExt;
use serde::{Deserialize, Serialize};
use sha2::{Digest, Sha256};
use sqlx::any::AnyRow;
use sqlx::{Acquire, Row};
use std::io::{BufRead, BufReader, Read, Write};
use std::path::{Component, Path};
use time::OffsetDateTime;

/// Every table, parents before children (the order rows are restored in). A test checks this
/// list against the schema, so a new table cannot be forgotten.
pub const TABLES: &[&str] = &[
    "settings",
    "units",
    "employment_categories",
    "roles",
    "people",
    "users",
    "role_assignments",
    "recovery_codes",
    "sessions",
    "api_tokens",
    "login_failures",
    "audit_log",
    "classification_levels",
    "handling_rules",
    "files",
    "file_chunks",
    "assets",
    "asset_grams",
    "asset_relations",
    "asset_attachments",
    // Policy documents
    "documents",
    "document_versions",
    "document_clauses",
    "acknowledgements",
    "acknowledgement_reminders",
    // Training
    "training_courses",
    "training_materials",
    "training_questions",
    "training_sessions",
    "training_attendees",
    "training_records",
    // Catalogue
    "threat_categories",
    "threats",
    "measure_areas",
    "controls",
    "control_status",
    "control_evidence",
    // Risk register
    "risks",
    "risk_assets",
    "risk_controls",
    "risk_review_reasons",
];

/// The archive format name.
pub const FORMAT: &str = "mamori-backup";
const FORMAT_VERSION: u32 = 1;
/// Largest single entry a restore accepts (8 GiB).
pub const MAX_ENTRY_BYTES: u64 = 8 << 30;
/// Most entries a restore accepts.
pub const MAX_ENTRIES: usize = 1_000;
const MAX_MANIFEST_BYTES: u64 = 1 << 20;

/// What the archive holds.
#[derive(Debug, Clone, Serialize, Deserialize, PartialEq, Eq)]
pub struct Manifest {
    /// Always `mamori-backup`.
    pub format: String,
    /// Archive format version.
    pub format_version: u32,
    /// The schema version of the database it was taken from.
    pub schema_version: i64,
    /// When (RFC 3339).
    pub created_at: String,
    /// `sqlite` or `postgres`.
    pub source_backend: String,
    /// One entry per table.
    pub tables: Vec<TableEntry>,
}

/// One table in the archive.
#[derive(Debug, Clone, Serialize, Deserialize, PartialEq, Eq)]
pub struct TableEntry {
    /// Table name.
    pub name: String,
    /// Column names, in the order of each row's values.
    pub columns: Vec<String>,
    /// Rows.
    pub rows: u64,
    /// SHA-256 of the data file, hex.
    pub sha256: String,
}

/// Why a restore was refused or failed.
#[derive(Debug, thiserror::Error)]
pub enum RestoreError {
    /// The target already holds data.
    #[error(
        "the target database is not empty; restore only into an empty database or data directory"
    )]
    NotEmpty,
    /// The archive is malformed, unsafe or does not match its manifest.
    #[error("the archive is not acceptable: {0}")]
    Archive(String),
    /// The backup comes from a newer Mamori.
    #[error("the backup has schema version {found}, newer than this Mamori's {supported}; upgrade Mamori first")]
    NewerSchema {
        /// In the archive.
        found: i64,
        /// Known here.
        supported: i64,
    },
    /// A store error.
    #[error(transparent)]
    Store(#[from] StoreError),
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum ColType {
    Int,
    Text,
    Bytes,
}

async fn columns(
    store: &Store,
    conn: &mut sqlx::AnyConnection,
    table: &str,
) -> Result<Vec<(String, ColType)>> {
    let rows: Vec<(String, String)> = match store.backend {
        Backend::Sqlite => {
            sqlx::query_as("SELECT name, type FROM pragma_table_info($1) ORDER BY cid")
                .bind(table)
                .fetch_all(&mut *conn)
                .await?
        }
        Backend::Postgres => {
            sqlx::query_as(
                "SELECT column_name::text, data_type::text FROM information_schema.columns \
             WHERE table_schema = current_schema() AND table_name = $1 ORDER BY ordinal_position",
            )
            .bind(table)
            .fetch_all(&mut *conn)
            .await?
        }
    };
    rows.into_iter()
        .map(|(name, ty)| {
            let ty = ty.to_ascii_lowercase();
            let t = if ty.contains("int") {
                ColType::Int
            } else if ty.contains("blob") || ty.contains("bytea") {
                ColType::Bytes
            } else if ty.contains("text") || ty.contains("char") {
                ColType::Text
            } else {
                return Err(StoreError::Corrupt(format!(
                    "{table}.{name}: unsupported column type {ty}"
                )));
            };
            Ok((name, t))
        })
        .collect()
}

fn value_of(row: &AnyRow, i: usize, t: ColType) -> Result<serde_json::Value> {
    Ok(match t {
        ColType::Int => row
            .try_get::<Option<i64>, _>(i)?
            .map_or(serde_json::Value::Null, Into::into),
        ColType::Text => row
            .try_get::<Option<String>, _>(i)?
            .map_or(serde_json::Value::Null, Into::into),
        ColType::Bytes => row
            .try_get::<Option<Vec<u8>>, _>(i)?
            .map_or(serde_json::Value::Null, |b| {
                base64::engine::general_purpose::STANDARD.encode(b).into()
            }),
    })
}

impl Store {
    /// The tables that exist in the database (excluding migration bookkeeping).
    pub async fn table_names(&self) -> Result<Vec<String>> {
        let mut names: Vec<String> = match self.backend {
            Backend::Sqlite => sqlx::query_scalar(
                "SELECT name FROM sqlite_master WHERE type = 'table' AND name NOT LIKE 'sqlite_%' AND name NOT LIKE '_sqlx%'",
            )
            .fetch_all(&self.pool)
            .await?,
            Backend::Postgres => sqlx::query_scalar(
                "SELECT table_name::text FROM information_schema.tables WHERE table_schema = current_schema() \
                 AND table_type = 'BASE TABLE' AND table_name NOT LIKE '\\_sqlx%'",
            )
            .fetch_all(&self.pool)
            .await?,
        };
        names.sort();
        Ok(names)
    }

    /// Writes a backup to `path` (via a temporary file renamed into place). `progress` is
    /// called with each table's name as it is written.
    pub async fn backup(
        &self,
        path: &Path,
        mut progress: impl FnMut(&str, u64),
    ) -> Result<Manifest> {
        let dir = path
            .parent()
            .filter(|p| !p.as_os_str().is_empty())
            .unwrap_or(Path::new("."));
        let mut conn = self.pool.acquire().await?;
        let mut tx = conn.begin().await?;
        if self.backend == Backend::Postgres {
            sqlx::query("SET TRANSACTION ISOLATION LEVEL REPEATABLE READ, READ ONLY")
                .execute(&mut *tx)
                .await?;
        }
        let mut entries = Vec::new();
        let mut data_files = Vec::new();
        for &table in TABLES {
            let cols = columns(self, &mut tx, table).await?;
            let names: Vec<String> = cols.iter().map(|(n, _)| n.clone()).collect();
            let mut file = tempfile::NamedTempFile::new_in(dir)?;
            let mut hasher = Sha256::new();
            let mut count = 0u64;
            {
                let order = if table == "settings" {
                    "key"
                } else if table == "audit_log" {
                    "seq"
                } else {
                    names[0].as_str()
                };
                let sql = format!("SELECT {} FROM {table} ORDER BY {order}", names.join(", "));
                let mut rows = sqlx::query(&sql).fetch(&mut *tx);
                let mut out = std::io::BufWriter::new(file.as_file_mut());
                while let Some(row) = rows.try_next().await? {
                    let values = cols
                        .iter()
                        .enumerate()
                        .map(|(i, (_, t))| value_of(&row, i, *t))
                        .collect::<Result<Vec<_>>>()?;
                    let mut line = serde_json::to_vec(&values)
                        .map_err(|e| StoreError::Corrupt(e.to_string()))?;
                    line.push(b'\n');
                    hasher.update(&line);
                    out.write_all(&line)?;
                    count += 1;
                }
                out.flush()?;
            }
            progress(table, count);
            entries.push(TableEntry {
                name: table.into(),
                columns: names,
                rows: count,
                sha256: hex::encode(hasher.finalize()),
            });
            data_files.push(file);
        }
        tx.commit().await?;
        let manifest = Manifest {
            format: FORMAT.into(),
            format_version: FORMAT_VERSION,
            schema_version: self.schema_version(),
            created_at: format_ts(OffsetDateTime::now_utc()),
            source_backend: match self.backend {
                Backend::Sqlite => "sqlite".into(),
                Backend::Postgres => "postgres".into(),
            },
            tables: entries,
        };
        let out = tempfile::NamedTempFile::new_in(dir)?;
        {
            let mut builder = tar::Builder::new(std::io::BufWriter::new(out.as_file()));
            let manifest_json = serde_json::to_vec_pretty(&manifest)
                .map_err(|e| StoreError::Corrupt(e.to_string()))?;
            append(
                &mut builder,
                "manifest.json",
                &mut manifest_json.as_slice(),
                manifest_json.len() as u64,
            )?;
            for (entry, file) in manifest.tables.iter().zip(data_files.iter_mut()) {
                let len = file.as_file().metadata()?.len();
                let mut reader = std::fs::File::open(file.path())?;
                append(
                    &mut builder,
                    &format!("tables/{}.jsonl", entry.name),
                    &mut reader,
                    len,
                )?;
            }
            builder.into_inner()?.flush()?;
        }
        out.as_file().sync_all()?;
        out.persist(path).map_err(|e| StoreError::Io(e.error))?;
        Ok(manifest)
    }

    /// Applies migrations without seeding (for a restore target).
    pub async fn migrate_schema_only(&self) -> Result<()> {
        self.migrator().run(&self.pool).await?;
        Ok(())
    }

    /// Restores an archive into this (empty) database.
    pub async fn restore(
        &self,
        archive: &Path,
        mut progress: impl FnMut(&str, u64),
    ) -> Result<Manifest, RestoreError> {
        if !self.is_empty().await? {
            return Err(RestoreError::NotEmpty);
        }
        let file = std::fs::File::open(archive).map_err(StoreError::Io)?;
        let mut tar = tar::Archive::new(BufReader::new(file));
        let mut entries = tar
            .entries()
            .map_err(|e| RestoreError::Archive(e.to_string()))?;
        let bad = |m: String| RestoreError::Archive(m);

        // The manifest comes first.
        let mut first = entries
            .next()
            .ok_or_else(|| bad("empty archive".into()))?
            .map_err(|e| bad(e.to_string()))?;
        check_entry(&first)?;
        if entry_path(&first)? != "manifest.json" {
            return Err(bad("manifest.json must be the first entry".into()));
        }
        if first.size() > MAX_MANIFEST_BYTES {
            return Err(bad("manifest.json is too large".into()));
        }
        let mut text = String::new();
        first
            .read_to_string(&mut text)
            .map_err(|e| bad(format!("manifest.json: {e}")))?;
        let manifest: Manifest =
            serde_json::from_str(&text).map_err(|e| bad(format!("manifest.json: {e}")))?;
        if manifest.format != FORMAT || manifest.format_version != FORMAT_VERSION {
            return Err(bad(format!(
                "not a Mamori backup (format {} v{})",
                manifest.format, manifest.format_version
            )));
        }
        if manifest.schema_version > self.schema_version() {
            return Err(RestoreError::NewerSchema {
                found: manifest.schema_version,
                supported: self.schema_version(),
            });
        }
        if manifest.tables.len() > MAX_ENTRIES {
            return Err(bad("too many tables".into()));
        }
        for t in &manifest.tables {
            if !TABLES.contains(&t.name.as_str()) {
                return Err(bad(format!("unknown table {}", t.name)));
            }
        }

        self.migrate_schema_only().await?;
        let mut conn = self.pool.acquire().await.map_err(StoreError::from)?;
        let mut tx = conn.begin().await.map_err(StoreError::from)?;
        let mut seen = std::collections::HashSet::new();
        let mut count = 1usize;
        for entry in entries {
            count += 1;
            if count > MAX_ENTRIES {
                return Err(bad("too many entries".into()));
            }
            let entry = entry.map_err(|e| bad(e.to_string()))?;
            check_entry(&entry)?;
            let path = entry_path(&entry)?;
            let name = path
                .strip_prefix("tables/")
                .and_then(|p| p.strip_suffix(".jsonl"))
                .ok_or_else(|| bad(format!("unexpected file {path}")))?
                .to_owned();
            let meta = manifest
                .tables
                .iter()
                .find(|t| t.name == name)
                .ok_or_else(|| bad(format!("{path} is not in the manifest")))?;
            if !seen.insert(name.clone()) {
                return Err(bad(format!("{path} appears twice")));
            }
            let target_cols = columns(self, &mut tx, &name).await?;
            let mut types = Vec::new();
            for c in &meta.columns {
                let t = target_cols
                    .iter()
                    .find(|(n, _)| n == c)
                    .map(|(_, t)| *t)
                    .ok_or_else(|| bad(format!("{name}: column {c} does not exist here")))?;
                types.push(t);
            }
            let placeholders: Vec<String> =
                (1..=meta.columns.len()).map(|i| format!("${i}")).collect();
            let sql = format!(
                "INSERT INTO {name} ({}) VALUES ({})",
                meta.columns.join(", "),
                placeholders.join(", ")
            );
            let mut hasher = Sha256::new();
            let mut rows = 0u64;
            let mut reader = BufReader::new(entry);
            let mut line = Vec::new();
            loop {
                line.clear();
                let n = reader
                    .read_until(b'\n', &mut line)
                    .map_err(|e| bad(format!("{path}: {e}")))?;
                if n == 0 {
                    break;
                }
                hasher.update(&line);
                rows += 1;
                let values: Vec<serde_json::Value> = serde_json::from_slice(&line)
                    .map_err(|e| bad(format!("{path}:{rows}: {e}")))?;
                if values.len() != types.len() {
                    return Err(bad(format!(
                        "{path}:{rows}: expected {} values",
                        types.len()
                    )));
                }
                let mut q = sqlx::query(&sql);
                for (v, t) in values.iter().zip(&types) {
                    q = match (t, v) {
                        (ColType::Int, serde_json::Value::Number(n)) => q.bind(
                            n.as_i64()
                                .ok_or_else(|| bad(format!("{path}:{rows}: not an integer")))?,
                        ),
                        (ColType::Int, serde_json::Value::Null) => q.bind(None::<i64>),
                        (ColType::Text, serde_json::Value::String(s)) => q.bind(s.clone()),
                        (ColType::Text, serde_json::Value::Null) => q.bind(None::<String>),
                        (ColType::Bytes, serde_json::Value::String(s)) => q.bind(
                            base64::engine::general_purpose::STANDARD
                                .decode(s)
                                .map_err(|e| bad(format!("{path}:{rows}: {e}")))?,
                        ),
                        (ColType::Bytes, serde_json::Value::Null) => q.bind(None::<Vec<u8>>),
                        _ => return Err(bad(format!("{path}:{rows}: value of the wrong type"))),
                    };
                }
                q.execute(&mut *tx).await.map_err(StoreError::from)?;
            }
            if hex::encode(hasher.finalize()) != meta.sha256 || rows != meta.rows {
                return Err(bad(format!(
                    "{path}: checksum or row count does not match the manifest"
                )));
            }
            progress(&name, rows);
        }
        for t in &manifest.tables {
            if !seen.contains(&t.name) {
                return Err(bad(format!("tables/{}.jsonl is missing", t.name)));
            }
        }
        if self.backend == Backend::Postgres {
            for table in TABLES {
                let has_id: i64 = sqlx::query_scalar(
                    "SELECT COUNT(*) FROM information_schema.columns WHERE table_schema = current_schema() \
                     AND table_name = $1 AND column_name = 'id'",
                )
                .bind(*table)
                .fetch_one(&mut *tx)
                .await
                .map_err(StoreError::from)?;
                if has_id > 0 {
                    sqlx::query(&format!(
                        "SELECT setval(pg_get_serial_sequence('{table}', 'id'), COALESCE((SELECT MAX(id) FROM {table}), 0) + 1, false)"
                    ))
                    .execute(&mut *tx)
                    .await
                    .map_err(StoreError::from)?;
                }
            }
        }
        if self.backend == Backend::Sqlite {
            let problems: Vec<String> =
                sqlx::query_scalar("SELECT \"table\" FROM pragma_foreign_key_check")
                    .fetch_all(&mut *tx)
                    .await
                    .map_err(StoreError::from)?;
            if !problems.is_empty() {
                return Err(bad(format!("broken references in {}", problems.join(", "))));
            }
        }
        tx.commit().await.map_err(StoreError::from)?;
        if self.backend == Backend::Sqlite {
            let check: String = sqlx::query_scalar("PRAGMA integrity_check")
                .fetch_one(&self.pool)
                .await
                .map_err(StoreError::from)?;
            if check != "ok" {
                return Err(RestoreError::Store(StoreError::Corrupt(format!(
                    "integrity check: {check}"
                ))));
            }
        }
        Ok(manifest)
    }
}

fn append<W: Write>(
    builder: &mut tar::Builder<W>,
    name: &str,
    data: &mut impl Read,
    len: u64,
) -> Result<()> {
    let mut header = tar::Header::new_gnu();
    header.set_size(len);
    header.set_mode(0o600);
    header.set_mtime(OffsetDateTime::now_utc().unix_timestamp().max(0) as u64);
    header.set_entry_type(tar::EntryType::Regular);
    builder.append_data(&mut header, name, data)?;
    Ok(())
}

fn check_entry<R: Read>(entry: &tar::Entry<'_, R>) -> Result<(), RestoreError> {
    let kind = entry.header().entry_type();
    if kind != tar::EntryType::Regular {
        return Err(RestoreError::Archive(format!(
            "entry of type {kind:?} is not allowed (only plain files)"
        )));
    }
    if entry.size() > MAX_ENTRY_BYTES {
        return Err(RestoreError::Archive(
            "an entry is larger than the limit".into(),
        ));
    }
    Ok(())
}

fn entry_path<R: Read>(entry: &tar::Entry<'_, R>) -> Result<String, RestoreError> {
    let path = entry
        .path()
        .map_err(|e| RestoreError::Archive(e.to_string()))?;
    for c in path.components() {
        match c {
            Component::Normal(_) => {}
            _ => {
                return Err(RestoreError::Archive(format!(
                    "unsafe path {}",
                    path.display()
                )))
            }
        }
    }
    path.to_str()
        .map(str::to_owned)
        .ok_or_else(|| RestoreError::Archive("path is not UTF-8".into()))
}
