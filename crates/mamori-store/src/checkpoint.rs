//! Signed checkpoints of the audit chain, handed outside the database.
//!
//! The signing key is the one secret Mamori keeps outside the database: a file readable only
//! by the server's user (created on first use), never included in backups. Checkpoints are
//! appended, one JSON line each, to a file the administrator chooses.

use crate::{format_ts, Result, Store, StoreError};
use ed25519_dalek::SigningKey;
use mamori_domain::audit::Checkpoint;
use std::io::Write;
use std::path::{Path, PathBuf};
use time::OffsetDateTime;

/// Loads the signing key from `path`, creating it (mode 0600) when absent. `random` supplies
/// 32 random bytes for a new key.
pub fn load_or_create_signing_key(
    path: &Path,
    random: impl FnOnce() -> [u8; 32],
) -> Result<SigningKey> {
    match std::fs::read(path) {
        Ok(bytes) => {
            let text = String::from_utf8_lossy(&bytes);
            let raw: [u8; 32] = hex::decode(text.trim())
                .ok()
                .and_then(|b| b.try_into().ok())
                .ok_or_else(|| {
                    StoreError::Corrupt(format!("{}: not a Mamori signing key", path.display()))
                })?;
            Ok(SigningKey::from_bytes(&raw))
        }
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => {
            let key = SigningKey::from_bytes(&random());
            if let Some(dir) = path.parent() {
                std::fs::create_dir_all(dir)?;
            }
            let mut options = std::fs::OpenOptions::new();
            options.write(true).create_new(true);
            #[cfg(unix)]
            {
                use std::os::unix::fs::OpenOptionsExt;
                options.mode(0o600);
            }
            let mut file = options.open(path)?;
            file.write_all(hex::encode(key.to_bytes()).as_bytes())?;
            file.sync_all()?;
            Ok(key)
        }
        Err(e) => Err(e.into()),
    }
}

/// Signs checkpoints and appends them to a file.
#[derive(Clone)]
pub struct CheckpointWriter {
    key: SigningKey,
    file: PathBuf,
    every: i64,
}

impl std::fmt::Debug for CheckpointWriter {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("CheckpointWriter")
            .field("file", &self.file)
            .field("every", &self.every)
            .finish()
    }
}

impl CheckpointWriter {
    /// A writer that signs with `key`, appends to `file`, and checkpoints every `every` entries.
    pub fn new(key: SigningKey, file: PathBuf, every: i64) -> Self {
        CheckpointWriter {
            key,
            file,
            every: every.max(1),
        }
    }

    /// The file checkpoints go to.
    pub fn file(&self) -> &Path {
        &self.file
    }

    /// Signs the current head.
    pub async fn sign_head(&self, store: &Store) -> Result<Checkpoint> {
        let (count, head) = store.audit_head().await?;
        Ok(Checkpoint::sign(
            &self.key,
            count,
            &head,
            &format_ts(OffsetDateTime::now_utc()),
        ))
    }

    /// Signs the current head and appends it to the file.
    pub async fn write_now(&self, store: &Store) -> Result<Checkpoint> {
        let cp = self.sign_head(store).await?;
        let mut line =
            serde_json::to_string(&cp).map_err(|e| StoreError::Corrupt(e.to_string()))?;
        line.push('\n');
        let mut f = std::fs::OpenOptions::new()
            .create(true)
            .append(true)
            .open(&self.file)?;
        f.write_all(line.as_bytes())?;
        f.sync_all()?;
        Ok(cp)
    }

    /// Writes a checkpoint when the chain has passed a multiple of `every` since `before`
    /// entries, or when the last one in the file is older than a day.
    pub async fn after_append(&self, store: &Store, before: i64, after: i64) -> Result<()> {
        let crossed = before / self.every != after / self.every;
        if crossed || self.last_is_older_than(time::Duration::days(1)) {
            self.write_now(store).await?;
        }
        Ok(())
    }

    /// True when the newest checkpoint in the file is older than `age` (or there is none).
    pub fn last_is_older_than(&self, age: time::Duration) -> bool {
        let last = read_checkpoints(&self.file)
            .ok()
            .and_then(|v| v.into_iter().last());
        match last.and_then(|c| crate::parse_ts(&c.signed_at)) {
            Some(t) => OffsetDateTime::now_utc() - t > age,
            None => true,
        }
    }
}

/// Reads a checkpoint file: one JSON checkpoint per line (blank lines ignored).
pub fn read_checkpoints(path: &Path) -> Result<Vec<Checkpoint>> {
    let text = std::fs::read_to_string(path)?;
    text.lines()
        .enumerate()
        .filter(|(_, l)| !l.trim().is_empty())
        .map(|(i, l)| {
            serde_json::from_str(l).map_err(|e| {
                StoreError::Corrupt(format!(
                    "{}:{}: not a checkpoint: {e}",
                    path.display(),
                    i + 1
                ))
            })
        })
        .collect()
}
