//! Test databases: a fresh SQLite file per test, and (when `MAMORI_TEST_POSTGRES_URL` is set) a
//! fresh PostgreSQL database per test, so tests run in parallel.

#![allow(dead_code, missing_docs)]

use mamori_store::Store;
use std::sync::atomic::{AtomicU64, Ordering};

pub struct TestDb {
    pub store: Store,
    pub url: Option<String>,
    admin_url: Option<String>,
    db_name: Option<String>,
    _dir: tempfile::TempDir,
}

static COUNTER: AtomicU64 = AtomicU64::new(0);

pub fn postgres_url() -> Option<String> {
    let url = std::env::var("MAMORI_TEST_POSTGRES_URL")
        .ok()
        .filter(|u| !u.is_empty());
    if url.is_none() && std::env::var("MAMORI_REQUIRE_POSTGRES").is_ok() {
        panic!("MAMORI_REQUIRE_POSTGRES is set but MAMORI_TEST_POSTGRES_URL is not");
    }
    url
}

/// A unique, empty PostgreSQL database; returns (its URL, the admin URL, its name).
pub async fn fresh_postgres_database(admin_url: &str) -> (String, String) {
    use sqlx::Connection;
    let name = format!(
        "mamori_test_{}_{}_{}",
        std::process::id(),
        COUNTER.fetch_add(1, Ordering::SeqCst),
        time::OffsetDateTime::now_utc().unix_timestamp_nanos() % 1_000_000_000
    );
    let mut conn = sqlx::PgConnection::connect(admin_url)
        .await
        .expect("connect to MAMORI_TEST_POSTGRES_URL");
    sqlx::query(&format!("CREATE DATABASE {name}"))
        .execute(&mut conn)
        .await
        .expect("create test database");
    let base = admin_url
        .rsplit_once('/')
        .map(|(b, _)| b)
        .unwrap_or(admin_url);
    (format!("{base}/{name}"), name)
}

impl TestDb {
    pub async fn new(postgres: bool) -> Option<TestDb> {
        sqlx::any::install_default_drivers();
        let dir = tempfile::tempdir().expect("tempdir");
        if postgres {
            let admin = postgres_url()?;
            let (url, name) = fresh_postgres_database(&admin).await;
            let store = Store::open(dir.path(), Some(&url))
                .await
                .expect("open postgres");
            Some(TestDb {
                store,
                url: Some(url),
                admin_url: Some(admin),
                db_name: Some(name),
                _dir: dir,
            })
        } else {
            let store = Store::open(dir.path(), None).await.expect("open sqlite");
            Some(TestDb {
                store,
                url: None,
                admin_url: None,
                db_name: None,
                _dir: dir,
            })
        }
    }

    pub fn dir(&self) -> &std::path::Path {
        self._dir.path()
    }

    pub async fn drop_db(self) {
        self.store.close().await;
        if let (Some(admin), Some(name)) = (self.admin_url, self.db_name) {
            use sqlx::Connection;
            if let Ok(mut conn) = sqlx::PgConnection::connect(&admin).await {
                let _ = sqlx::query(&format!("DROP DATABASE IF EXISTS {name} WITH (FORCE)"))
                    .execute(&mut conn)
                    .await;
            }
        }
    }
}

/// Defines a test that runs `$body` on SQLite, and a second that runs it on PostgreSQL when
/// `MAMORI_TEST_POSTGRES_URL` is set (and says so when it is not).
#[macro_export]
macro_rules! store_test {
    ($name:ident, |$db:ident| $body:block) => {
        mod $name {
            use super::*;
            async fn run($db: &common::TestDb) $body

            #[tokio::test]
            async fn sqlite() {
                let db = common::TestDb::new(false).await.expect("sqlite");
                run(&db).await;
                db.drop_db().await;
            }

            #[tokio::test]
            async fn postgres() {
                let Some(db) = common::TestDb::new(true).await else {
                    eprintln!("skipped: MAMORI_TEST_POSTGRES_URL is not set");
                    return;
                };
                run(&db).await;
                db.drop_db().await;
            }
        }
    };
}
