//! Mamori's storage, in domain terms, on SQLite (the embedded default) or PostgreSQL.
//!
//! One implementation serves both databases through sqlx's `Any` driver: the SQL Mamori uses is
//! the common subset (`$1` placeholders, `BIGINT` integers, text times), and each database has
//! its own migrations (`migrations/sqlite`, `migrations/postgres`) that must stay equivalent.
//! The conformance suite in `tests/` runs every test on both.
//!
//! Invariants kept here:
//! - every change goes through a [`WriteTx`], which refuses to commit unless it appended to the
//!   audit trail in the same transaction ([`WriteTx::audit`]);
//! - nothing updates or deletes `audit_log` rows (and PostgreSQL refuses it with a trigger);
//! - on SQLite the journal is WAL with `synchronous=FULL`, asserted at open.

mod assets;
mod audit;
mod auth;
pub mod backup;
// Catalogue
mod catalogue;
pub mod checkpoint;
mod classification;
// Coverage
mod coverage;
mod documents;
mod files;
mod holdings;
mod import;
mod import_assets;
mod list;
mod org;
// Risk register
mod risks;
mod seed;
mod time_fmt;
// Training
mod training;
mod tx;
mod values;
mod version;

pub use assets::{
    AssetBrief, AssetFilter, AssetRow, AssetScope, AssetSort, RelationRow, StatusFilter,
};
pub use audit::{AuditFilter, AuditVerifyReport};
pub use auth::{ApiTokenRow, NewSession, NewUser, SessionRow, UserRow};
// Catalogue
pub use catalogue::{
    ControlFilter, ControlRow, ControlStatusRow, EvidenceRow, GroupRow, StatusInput, StatusTally,
    ThreatFilter, ThreatRow,
};
pub use classification::SwitchPreview;
// Coverage
pub use coverage::{
    ControlStatusFilter, CoverageAsset, CoverageClause, CoverageControl, CoverageDetail,
    CoverageScope,
};
pub use documents::{
    AcknowledgementFilter, AcknowledgementRow, CompletionRow, DocumentInput, DocumentRow,
    HistoricFacts, NewVersion, PendingAcknowledgement, StoredClause, VersionBrief, VersionRow,
    BASIC_POLICY_CODE,
};
pub use files::{AttachmentRow, FileWriter, FILE_CHUNK_BYTES};
pub use holdings::{Holdings, LeaverRow, TransferPlan};
pub use import::{ImportOutcome, ImportSummary};
pub use import_assets::AllowedUnits;
pub use org::{
    CategoryRow, PeopleFilter, PersonInput, PersonRow, RoleAssignmentRow, RoleHolder, RoleRow,
    UnitInput, UnitRow,
};
// Risk register
pub use risks::{
    HeatMap, ReviewReasonRow, RiskAssetRow, RiskFilter, RiskOutcome, RiskProblem, RiskRow,
    RiskRules, RiskSort,
};
pub use time_fmt::{format_ts, parse_ts};
pub use tx::{Actor, WriteTx};
// Training
pub use training::{
    CompletionInput, CourseInput, CourseRow, MaterialRow, MyCourse, PendingRow, QuestionRow,
    RecordRow, Tally, TraineeRow, TrainingFilter, TrainingReport, TrainingSessionInput,
    TrainingSessionRow,
};

use sqlx::any::{AnyConnectOptions, AnyPoolOptions};
use sqlx::{AnyPool, Executor};
use std::path::Path;
use std::str::FromStr;
use std::sync::Arc;
use std::time::Duration;

/// Which database a [`Store`] talks to.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Backend {
    /// The embedded default.
    Sqlite,
    /// PostgreSQL, for larger installations and several servers.
    Postgres,
}

/// Errors from the store. Each names what went wrong in terms a caller can act on.
#[derive(Debug, thiserror::Error)]
pub enum StoreError {
    /// The database could not be reached or answered with an error.
    #[error("database error: {0}")]
    Database(#[from] sqlx::Error),
    /// A migration failed.
    #[error("migration failed: {0}")]
    Migrate(#[from] sqlx::migrate::MigrateError),
    /// A unique key is already taken (field named).
    #[error("{0} is already in use")]
    Duplicate(&'static str),
    /// A referenced record does not exist (field named).
    #[error("{0} does not exist")]
    Missing(&'static str),
    /// The requested change would break a rule (message id for the user).
    #[error("rule violated: {0}")]
    Rule(&'static str),
    /// A write transaction was committed without an audit entry.
    #[error("a change was about to be committed without an audit entry")]
    Unaudited,
    /// The SQLite database is not in the durable mode Mamori requires.
    #[error("SQLite durability check failed: {0}")]
    Durability(String),
    /// Stored data could not be read back (corrupt or from another version).
    #[error("stored data is invalid: {0}")]
    Corrupt(String),
    /// A file could not be read or written.
    #[error("I/O error: {0}")]
    Io(#[from] std::io::Error),
}

/// Result alias for the store.
pub type Result<T, E = StoreError> = std::result::Result<T, E>;

/// The handle to Mamori's database. Cheap to clone.
#[derive(Clone, Debug)]
pub struct Store {
    pool: AnyPool,
    backend: Backend,
    /// SQLite has one writer at a time; serialising writers in the process avoids busy errors
    /// from lock upgrades. PostgreSQL serialises audit appends with a table lock instead.
    write_lock: Arc<tokio::sync::Mutex<()>>,
    /// Data-version reads shared between concurrent requests ([`Store::data_version`]).
    version_reads: Arc<version::SharedVersionReads>,
}

static MIGRATIONS_SQLITE: sqlx::migrate::Migrator = sqlx::migrate!("./migrations/sqlite");
static MIGRATIONS_POSTGRES: sqlx::migrate::Migrator = sqlx::migrate!("./migrations/postgres");

impl Store {
    /// Opens the database: `database_url` when given (`postgres://…` or `sqlite://…`), else
    /// `mamori.db` in `data_dir`. Does not migrate; call [`Store::migrate`].
    pub async fn open(data_dir: &Path, database_url: Option<&str>) -> Result<Store> {
        sqlx::any::install_default_drivers();
        let url = match database_url {
            Some(url) => url.to_owned(),
            None => {
                std::fs::create_dir_all(data_dir)?;
                format!("sqlite://{}?mode=rwc", data_dir.join("mamori.db").display())
            }
        };
        let backend = if url.starts_with("postgres:") || url.starts_with("postgresql:") {
            Backend::Postgres
        } else if url.starts_with("sqlite:") {
            Backend::Sqlite
        } else {
            return Err(StoreError::Rule("error-database-url"));
        };
        let options = AnyConnectOptions::from_str(&url)?;
        let pool_options = AnyPoolOptions::new()
            .max_connections(if backend == Backend::Sqlite { 8 } else { 16 })
            .acquire_timeout(Duration::from_secs(10));
        let pool = match backend {
            Backend::Sqlite => {
                pool_options
                    .after_connect(|conn, _| {
                        Box::pin(async move {
                            conn.execute("PRAGMA journal_mode = WAL").await?;
                            conn.execute("PRAGMA synchronous = FULL").await?;
                            conn.execute("PRAGMA foreign_keys = ON").await?;
                            conn.execute("PRAGMA busy_timeout = 10000").await?;
                            // Temporary tables, sorts and statement journals in memory: set
                            // once here, because SQLite refuses to change it inside a
                            // transaction once the connection has used temporary storage.
                            conn.execute("PRAGMA temp_store = MEMORY").await?;
                            Ok(())
                        })
                    })
                    .connect_with(options)
                    .await?
            }
            Backend::Postgres => pool_options.connect_with(options).await?,
        };
        let store = Store {
            pool,
            backend,
            write_lock: Arc::new(tokio::sync::Mutex::new(())),
            version_reads: Arc::default(),
        };
        if backend == Backend::Sqlite {
            store.assert_durable().await?;
        }
        Ok(store)
    }

    /// Checks that SQLite runs in WAL mode with `synchronous=FULL`, so that an acknowledged
    /// change survives a crash.
    async fn assert_durable(&self) -> Result<()> {
        let mut conn = self.pool.acquire().await?;
        let mode: String = sqlx::query_scalar("PRAGMA journal_mode")
            .fetch_one(&mut *conn)
            .await?;
        let sync: i64 = sqlx::query_scalar("PRAGMA synchronous")
            .fetch_one(&mut *conn)
            .await?;
        if !mode.eq_ignore_ascii_case("wal") || sync != 2 {
            return Err(StoreError::Durability(format!(
                "journal_mode={mode}, synchronous={sync}"
            )));
        }
        Ok(())
    }

    /// Applies pending migrations and seeds the starting content where it is missing.
    pub async fn migrate(&self) -> Result<()> {
        self.migrator().run(&self.pool).await?;
        seed::seed_starting_content(self).await
    }

    fn migrator(&self) -> &'static sqlx::migrate::Migrator {
        match self.backend {
            Backend::Sqlite => &MIGRATIONS_SQLITE,
            Backend::Postgres => &MIGRATIONS_POSTGRES,
        }
    }

    /// The newest schema version this build knows.
    pub fn schema_version(&self) -> i64 {
        self.migrator().iter().map(|m| m.version).max().unwrap_or(0)
    }

    /// Which database this is.
    pub fn backend(&self) -> Backend {
        self.backend
    }

    /// The connection pool, for the few read paths that stream.
    pub fn pool(&self) -> &AnyPool {
        &self.pool
    }

    /// True when the database answers.
    pub async fn ping(&self) -> bool {
        sqlx::query_scalar::<_, i64>("SELECT 1")
            .fetch_one(&self.pool)
            .await
            .is_ok()
    }

    /// True when the database holds no Mamori data (no tables, or empty tables), so that a
    /// restore may fill it.
    pub async fn is_empty(&self) -> Result<bool> {
        let tables: i64 = match self.backend {
            Backend::Sqlite => sqlx::query_scalar(
                "SELECT COUNT(*) FROM sqlite_master WHERE type = 'table' AND name = 'audit_log'",
            )
            .fetch_one(&self.pool)
            .await?,
            Backend::Postgres => {
                sqlx::query_scalar(
                    "SELECT COUNT(*) FROM information_schema.tables \
                     WHERE table_schema = current_schema() AND table_name = 'audit_log'",
                )
                .fetch_one(&self.pool)
                .await?
            }
        };
        if tables == 0 {
            return Ok(true);
        }
        let rows: i64 = sqlx::query_scalar(
            "SELECT (SELECT COUNT(*) FROM audit_log) + (SELECT COUNT(*) FROM users) + (SELECT COUNT(*) FROM people)",
        )
        .fetch_one(&self.pool)
        .await?;
        Ok(rows == 0)
    }

    /// Refreshes the query planner's statistics (after a large import, so that the asset
    /// list's filters use their indexes; SQLite never gathers them by itself). Bookkeeping, not
    /// a change: nothing is audited. On PostgreSQL the gram index is also vacuumed, so that
    /// search reads it without visiting the table (an index-only scan needs the visibility map
    /// that only VACUUM sets; autovacuum would get there later).
    ///
    /// On PostgreSQL the audit log is left to autovacuum: every query on it goes by an index
    /// whatever its statistics say, and sampling its entries (each with its before and after)
    /// was a third of the refresh.
    pub async fn refresh_statistics(&self) -> Result<()> {
        if self.backend == Backend::Sqlite {
            sqlx::query("ANALYZE").execute(&self.pool).await?;
            return Ok(());
        }
        sqlx::query("VACUUM (ANALYZE) asset_grams")
            .execute(&self.pool)
            .await?;
        // Names from the catalogue, quoted by the server.
        let tables: Vec<String> = sqlx::query_scalar(
            "SELECT quote_ident(tablename) FROM pg_tables WHERE schemaname = current_schema() \
             AND tablename NOT IN ('audit_log', 'asset_grams') ORDER BY tablename",
        )
        .fetch_all(&self.pool)
        .await?;
        if !tables.is_empty() {
            sqlx::query(&format!("ANALYZE {}", tables.join(", ")))
                .execute(&self.pool)
                .await?;
        }
        Ok(())
    }

    /// Closes the pool, waiting for connections to finish.
    pub async fn close(&self) {
        self.pool.close().await;
    }
}

/// Maps a database unique-constraint violation to [`StoreError::Duplicate`] naming `field`.
pub(crate) fn on_unique(field: &'static str) -> impl FnOnce(sqlx::Error) -> StoreError {
    move |e| match &e {
        sqlx::Error::Database(db) if db.is_unique_violation() => StoreError::Duplicate(field),
        sqlx::Error::Database(db) if db.is_foreign_key_violation() => StoreError::Missing(field),
        _ => StoreError::Database(e),
    }
}
