//! Configuration: command-line options and environment variables (see `INTERCHANGE.md`), and
//! `mamori.toml` in the data directory for the deployment's settings.

use anyhow::{Context, Result};
use serde::Deserialize;
use std::path::{Path, PathBuf};

/// `mamori.toml`. Every key is optional.
#[derive(Debug, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct FileConfig {
    /// Address to listen on (`--listen` overrides).
    pub listen: Option<String>,
    /// Users reach Mamori over HTTPS (a TLS-terminating proxy in front): secure cookies, HSTS.
    pub tls: Option<bool>,
    /// Reverse proxies whose `X-Forwarded-For` is believed (addresses or CIDR ranges).
    pub trusted_proxies: Option<Vec<String>>,
    /// Largest request body, in bytes (default 2 MiB).
    pub max_body_bytes: Option<usize>,
    /// The largest uploaded file (evidence, certificates), in bytes (default 20 MiB).
    pub max_upload_bytes: Option<u64>,
    /// Where signed audit checkpoints are appended (default `audit-checkpoints.jsonl` in the
    /// data directory). Point it at storage outside the database server.
    pub checkpoint_file: Option<PathBuf>,
    /// Write a checkpoint every this many audit entries (default 1000; also at least daily).
    pub checkpoint_every: Option<i64>,
    /// The Ed25519 signing key (default `audit-signing.key` in the data directory; created
    /// with mode 0600 on first use; never included in backups).
    pub signing_key_file: Option<PathBuf>,
}

impl FileConfig {
    /// Loads `path`, or the default `mamori.toml` in `data_dir` when present.
    pub fn load(explicit: Option<&Path>, data_dir: &Path) -> Result<FileConfig> {
        let path = match explicit {
            Some(p) => p.to_path_buf(),
            None => {
                let default = data_dir.join("mamori.toml");
                if !default.exists() {
                    return Ok(FileConfig::default());
                }
                default
            }
        };
        let text = std::fs::read_to_string(&path).with_context(|| format!("{}", path.display()))?;
        toml::from_str(&text).with_context(|| format!("{}", path.display()))
    }

    /// The signing key's path.
    pub fn signing_key_path(&self, data_dir: &Path) -> PathBuf {
        self.signing_key_file
            .clone()
            .unwrap_or_else(|| data_dir.join("audit-signing.key"))
    }

    /// The checkpoint file's path.
    pub fn checkpoint_path(&self, data_dir: &Path) -> PathBuf {
        self.checkpoint_file
            .clone()
            .unwrap_or_else(|| data_dir.join("audit-checkpoints.jsonl"))
    }

    /// The web server's settings.
    pub fn web_config(&self) -> Result<mamori_web::WebConfig> {
        let mut c = mamori_web::WebConfig::default();
        if let Some(tls) = self.tls {
            c.tls = tls;
        }
        if let Some(max) = self.max_body_bytes {
            c.max_body_bytes = max;
        }
        if let Some(max) = self.max_upload_bytes {
            c.max_upload_bytes = max;
        }
        for p in self.trusted_proxies.iter().flatten() {
            c.trusted_proxies.push(
                p.parse()
                    .map_err(|e: String| anyhow::anyhow!("trusted_proxies: {e}"))?,
            );
        }
        Ok(c)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn unknown_keys_are_refused_and_proxies_parsed() {
        assert!(toml::from_str::<FileConfig>("lisen = \"x\"").is_err());
        let c: FileConfig =
            toml::from_str("tls = true\ntrusted_proxies = [\"10.0.0.0/8\"]").unwrap_or_default();
        let web = c.web_config().ok();
        assert!(web
            .as_ref()
            .is_some_and(|w| w.tls && w.trusted_proxies.len() == 1));
        let bad: FileConfig =
            toml::from_str("trusted_proxies = [\"nonsense\"]").unwrap_or_default();
        assert!(bad.web_config().is_err());
    }
}
