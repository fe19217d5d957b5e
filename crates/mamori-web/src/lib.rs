//! Mamori's HTTP side: server-rendered pages, the JSON API, sessions, CSRF, authorization and
//! i18n. This is the only crate that knows HTTP.
//!
//! Request path, outermost first: security headers → body limit → client address → principal
//! (session cookie or bearer token) → CSRF and Origin check for state-changing requests →
//! the route table's authorization decision ([`routes`]) → the handler. Handlers make
//! unit-level decisions through [`session::Principal::require`], the same single decision
//! function ([`mamori_domain::authz::Grants::allows`]).

pub mod accounts;
pub mod api;
pub mod api_assets;
// Catalogue
pub mod api_catalogue;
// Risk register
pub mod api_risks;
// Coverage
pub mod api_coverage;
pub mod api_policy;
// Training
pub mod api_training;
pub mod assets;
pub mod cache;
pub mod config;
pub mod credentials;
pub mod csrf;
pub mod error;
pub mod i18n;
pub mod net;
pub mod pages;
pub mod routes;
pub mod session;
pub mod view;

use mamori_domain::settings::OrgSettings;
use mamori_store::checkpoint::CheckpointWriter;
use mamori_store::Store;
use std::sync::Arc;

pub use config::WebConfig;

/// Everything a handler needs. Cheap to clone.
#[derive(Clone)]
pub struct AppState {
    /// The database.
    pub store: Store,
    /// Server configuration.
    pub config: Arc<WebConfig>,
    /// Where signed checkpoints go, when configured.
    pub checkpoints: Option<Arc<CheckpointWriter>>,
    settings_cache: Arc<std::sync::RwLock<Option<(std::time::Instant, OrgSettings)>>>,
    /// API-token principals by token hash, exact per data version.
    pub principals: Arc<cache::VersionedCache<String, Arc<session::Principal>>>,
    /// Serialised API list responses, exact per data version.
    pub responses: Arc<cache::VersionedCache<String, axum::body::Bytes>>,
}

/// How long settings are cached in a server process (other servers sharing the database see
/// a change within this time).
const SETTINGS_TTL: std::time::Duration = std::time::Duration::from_secs(5);

impl AppState {
    /// A state for `store` with `config`.
    pub fn new(store: Store, config: WebConfig, checkpoints: Option<CheckpointWriter>) -> Self {
        AppState {
            store,
            config: Arc::new(config),
            checkpoints: checkpoints.map(Arc::new),
            settings_cache: Arc::default(),
            principals: Arc::new(cache::VersionedCache::new(10_000)),
            responses: Arc::new(cache::VersionedCache::new(2_000)),
        }
    }

    /// The organisation's settings (cached for a few seconds).
    pub async fn settings(&self) -> Result<OrgSettings, mamori_store::StoreError> {
        if let Ok(guard) = self.settings_cache.read() {
            if let Some((at, s)) = guard.as_ref() {
                if at.elapsed() < SETTINGS_TTL {
                    return Ok(s.clone());
                }
            }
        }
        let fresh = self.store.settings().await?;
        if let Ok(mut guard) = self.settings_cache.write() {
            *guard = Some((std::time::Instant::now(), fresh.clone()));
        }
        Ok(fresh)
    }

    /// Forgets cached settings after a change.
    pub fn invalidate_settings(&self) {
        if let Ok(mut guard) = self.settings_cache.write() {
            *guard = None;
        }
    }

    /// Commits a write transaction, then writes a checkpoint if one is due. Every handler
    /// commits through here.
    pub async fn commit(&self, tx: mamori_store::WriteTx) -> Result<(), mamori_store::StoreError> {
        let (first, last) = tx.commit().await?;
        if let Some(cp) = &self.checkpoints {
            if let Err(e) = cp.after_append(&self.store, first - 1, last).await {
                tracing::error!(error = %e, "could not write the audit checkpoint");
            }
        }
        Ok(())
    }
}

/// The complete application router.
pub fn app(state: AppState) -> axum::Router {
    routes::router(state)
}
