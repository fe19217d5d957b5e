//! The tamper-evident audit trail: hashing, chain verification, signed checkpoints, redaction.
//!
//! Each entry's hash covers its sequence number, the previous entry's hash and every field, so
//! changing, removing or reordering any entry breaks the chain at that point. Because someone
//! with database access could rewrite the whole chain (or cut its tail), Mamori also signs
//! [`Checkpoint`]s (head hash and count) with an Ed25519 key kept outside the database; a
//! checkpoint kept elsewhere detects both.

use ed25519_dalek::{Signature, Signer, SigningKey, Verifier, VerifyingKey};
use serde::{Deserialize, Serialize};
use sha2::{Digest, Sha256};

/// The `prev_hash` of the first entry.
pub const GENESIS_HASH: &str = "0000000000000000000000000000000000000000000000000000000000000000";

/// The value that replaces secrets in `before` / `after`.
pub const REDACTED: &str = "[redacted]";

/// What is appended: everything but the position in the chain.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct AuditRecord {
    /// When, as RFC 3339 UTC with microseconds (`2026-11-26T12:00:00.000000Z`).
    pub at: String,
    /// Who: a username, `cli:<OS user>`, or `system`.
    pub actor: String,
    /// The client address, or `cli` / `system`.
    pub source: String,
    /// What happened, e.g. `unit.create`, `login.failure`.
    pub action: String,
    /// The kind of record affected, e.g. `unit`.
    pub entity_type: String,
    /// Its identifier (code, id or username), or empty.
    pub entity_id: String,
    /// The record before the change, as JSON text (secrets redacted).
    pub before: Option<String>,
    /// The record after the change, as JSON text (secrets redacted).
    pub after: Option<String>,
}

/// A stored entry: the record and its place in the chain.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct AuditEntry {
    /// 1, 2, 3… without gaps.
    pub seq: i64,
    /// The record.
    #[serde(flatten)]
    pub record: AuditRecord,
    /// The hash of the entry before (or [`GENESIS_HASH`]).
    pub prev_hash: String,
    /// The SHA-256 of this entry, hex.
    pub hash: String,
}

/// The hash of an entry at `seq` following `prev_hash`.
pub fn entry_hash(seq: i64, prev_hash: &str, r: &AuditRecord) -> String {
    // A JSON array is an unambiguous, stable encoding of the fields.
    let canonical = serde_json::json!([
        "mamori-audit-v1",
        seq,
        prev_hash,
        r.at,
        r.actor,
        r.source,
        r.action,
        r.entity_type,
        r.entity_id,
        r.before,
        r.after
    ]);
    hex::encode(Sha256::digest(canonical.to_string().as_bytes()))
}

impl AuditEntry {
    /// Chains a record after the entry `(prev_seq, prev_hash)` (or the genesis when `None`).
    pub fn chain(prev: Option<(i64, &str)>, record: AuditRecord) -> AuditEntry {
        let (seq, prev_hash) = match prev {
            Some((s, h)) => (s + 1, h.to_owned()),
            None => (1, GENESIS_HASH.to_owned()),
        };
        let hash = entry_hash(seq, &prev_hash, &record);
        AuditEntry {
            seq,
            record,
            prev_hash,
            hash,
        }
    }
}

/// Why the chain does not verify, naming the first entry that fails.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum ChainBreak {
    /// An entry's sequence number is not the next one (an entry was removed or inserted).
    #[error(
        "entry {found}: expected sequence number {expected} (an entry is missing or out of order)"
    )]
    Gap {
        /// What should have come.
        expected: i64,
        /// What came.
        found: i64,
    },
    /// The entry's `prev_hash` is not the previous entry's hash.
    #[error("entry {seq}: does not follow the previous entry (prev_hash mismatch)")]
    Link {
        /// The entry.
        seq: i64,
    },
    /// The entry's content does not match its hash (it was edited).
    #[error("entry {seq}: content does not match its hash (edited)")]
    Content {
        /// The entry.
        seq: i64,
    },
}

/// Verifies a chain entry by entry, in order, without holding it in memory.
#[derive(Debug, Clone)]
pub struct ChainVerifier {
    count: i64,
    head: String,
}

impl Default for ChainVerifier {
    fn default() -> Self {
        ChainVerifier {
            count: 0,
            head: GENESIS_HASH.to_owned(),
        }
    }
}

impl ChainVerifier {
    /// Checks the next entry.
    pub fn push(&mut self, e: &AuditEntry) -> Result<(), ChainBreak> {
        let expected = self.count + 1;
        if e.seq != expected {
            return Err(ChainBreak::Gap {
                expected,
                found: e.seq,
            });
        }
        if e.prev_hash != self.head {
            return Err(ChainBreak::Link { seq: e.seq });
        }
        if entry_hash(e.seq, &e.prev_hash, &e.record) != e.hash {
            return Err(ChainBreak::Content { seq: e.seq });
        }
        self.count = e.seq;
        self.head = e.hash.clone();
        Ok(())
    }

    /// How many entries verified so far.
    pub fn count(&self) -> i64 {
        self.count
    }

    /// The hash of the last verified entry.
    pub fn head(&self) -> &str {
        &self.head
    }
}

/// A signed statement that the chain had `count` entries ending in `head_hash`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Checkpoint {
    /// Format version (1).
    pub version: u32,
    /// Number of entries.
    pub count: i64,
    /// Hash of entry `count` (or the genesis hash for an empty chain).
    pub head_hash: String,
    /// When it was signed (RFC 3339 UTC).
    pub signed_at: String,
    /// The Ed25519 public key, hex.
    pub public_key: String,
    /// The signature over [`Checkpoint::message`], hex.
    pub signature: String,
}

/// Why a checkpoint does not hold.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum CheckpointError {
    /// The checkpoint is malformed or its signature is wrong.
    #[error("checkpoint signature is invalid")]
    BadSignature,
    /// The checkpoint was signed by another key than the one expected.
    #[error("checkpoint was signed by another key ({0})")]
    ForeignKey(String),
    /// The chain is shorter than the checkpoint: entries were cut off.
    #[error("chain has {actual} entries but the checkpoint of {signed_at} names {count}: the chain was truncated")]
    Truncated {
        /// Entries in the chain.
        actual: i64,
        /// Entries named by the checkpoint.
        count: i64,
        /// When the checkpoint was signed.
        signed_at: String,
    },
    /// The entry the checkpoint names has another hash: the chain was rewritten.
    #[error("entry {count} has another hash than the checkpoint of {signed_at} names: the chain was rewritten")]
    Rewritten {
        /// The entry.
        count: i64,
        /// When the checkpoint was signed.
        signed_at: String,
    },
}

impl Checkpoint {
    fn message(count: i64, head_hash: &str, signed_at: &str) -> String {
        format!("mamori-checkpoint-v1\n{count}\n{head_hash}\n{signed_at}")
    }

    /// Signs the head of a chain.
    pub fn sign(key: &SigningKey, count: i64, head_hash: &str, signed_at: &str) -> Checkpoint {
        let signature = key.sign(Self::message(count, head_hash, signed_at).as_bytes());
        Checkpoint {
            version: 1,
            count,
            head_hash: head_hash.to_owned(),
            signed_at: signed_at.to_owned(),
            public_key: hex::encode(key.verifying_key().to_bytes()),
            signature: hex::encode(signature.to_bytes()),
        }
    }

    /// Checks the signature (with the key the checkpoint names).
    pub fn verify_signature(&self) -> Result<(), CheckpointError> {
        let key: [u8; 32] = hex::decode(&self.public_key)
            .ok()
            .and_then(|b| b.try_into().ok())
            .ok_or(CheckpointError::BadSignature)?;
        let sig: [u8; 64] = hex::decode(&self.signature)
            .ok()
            .and_then(|b| b.try_into().ok())
            .ok_or(CheckpointError::BadSignature)?;
        let key = VerifyingKey::from_bytes(&key).map_err(|_| CheckpointError::BadSignature)?;
        key.verify(
            Self::message(self.count, &self.head_hash, &self.signed_at).as_bytes(),
            &Signature::from_bytes(&sig),
        )
        .map_err(|_| CheckpointError::BadSignature)
    }

    /// Checks the checkpoint against a chain: `hash_at(n)` gives the hash of entry `n` if the
    /// chain has it; `chain_len` is the number of entries.
    pub fn check_against(
        &self,
        chain_len: i64,
        hash_at_count: Option<&str>,
    ) -> Result<(), CheckpointError> {
        self.verify_signature()?;
        if chain_len < self.count {
            return Err(CheckpointError::Truncated {
                actual: chain_len,
                count: self.count,
                signed_at: self.signed_at.clone(),
            });
        }
        let expected = if self.count == 0 {
            Some(GENESIS_HASH)
        } else {
            hash_at_count
        };
        if expected != Some(self.head_hash.as_str()) {
            return Err(CheckpointError::Rewritten {
                count: self.count,
                signed_at: self.signed_at.clone(),
            });
        }
        Ok(())
    }
}

/// Replaces secrets (passwords, hashes, tokens, TOTP secrets, recovery codes) anywhere in a
/// JSON value before it enters the trail.
pub fn redact(value: &mut serde_json::Value) {
    match value {
        serde_json::Value::Object(map) => {
            for (key, v) in map.iter_mut() {
                if is_secret_key(key) {
                    if !v.is_null() {
                        *v = serde_json::Value::String(REDACTED.to_owned());
                    }
                } else {
                    redact(v);
                }
            }
        }
        serde_json::Value::Array(items) => items.iter_mut().for_each(redact),
        _ => {}
    }
}

fn is_secret_key(key: &str) -> bool {
    let k = key.to_ascii_lowercase();
    k.contains("password")
        || k.contains("secret")
        || k.contains("token")
        || k.ends_with("_hash")
        || k.contains("recovery")
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    fn record(action: &str) -> AuditRecord {
        AuditRecord {
            at: "2026-11-26T12:00:00.000000Z".into(),
            actor: "admin".into(),
            source: "127.0.0.1".into(),
            action: action.into(),
            entity_type: "unit".into(),
            entity_id: "secretariat".into(),
            before: None,
            after: Some("{\"name\":\"事務局\"}".into()),
        }
    }

    fn chain(n: usize) -> Vec<AuditEntry> {
        let mut out: Vec<AuditEntry> = Vec::new();
        for i in 0..n {
            let prev = out.last().map(|e| (e.seq, e.hash.as_str()));
            let e = AuditEntry::chain(prev, record(&format!("a{i}")));
            out.push(e);
        }
        out
    }

    fn verify(entries: &[AuditEntry]) -> Result<i64, ChainBreak> {
        let mut v = ChainVerifier::default();
        for e in entries {
            v.push(e)?;
        }
        Ok(v.count())
    }

    #[test]
    fn intact_chain_verifies() {
        assert_eq!(verify(&chain(5)), Ok(5));
    }

    #[test]
    fn edit_names_the_edited_entry() {
        let mut c = chain(5);
        c[2].record.actor = "mallory".into();
        assert_eq!(verify(&c), Err(ChainBreak::Content { seq: 3 }));
    }

    #[test]
    fn removal_is_a_gap() {
        let mut c = chain(5);
        c.remove(1);
        assert_eq!(
            verify(&c),
            Err(ChainBreak::Gap {
                expected: 2,
                found: 3
            })
        );
    }

    #[test]
    fn checkpoint_detects_truncation_and_rewrite() {
        let key = SigningKey::from_bytes(&[7u8; 32]);
        let c = chain(5);
        let cp = Checkpoint::sign(&key, 5, &c[4].hash, "2026-11-26T00:00:00Z");
        assert_eq!(cp.check_against(5, Some(&c[4].hash)), Ok(()));
        assert!(matches!(
            cp.check_against(3, Some(&c[2].hash)),
            Err(CheckpointError::Truncated { .. })
        ));
        // A whole rewrite yields a chain that verifies on its own but not against the checkpoint.
        let mut rewritten: Vec<AuditEntry> = Vec::new();
        for i in 0..5 {
            let prev = rewritten.last().map(|e| (e.seq, e.hash.as_str()));
            let mut r = record(&format!("a{i}"));
            if i == 1 {
                r.actor = "mallory".into();
            }
            rewritten.push(AuditEntry::chain(prev, r));
        }
        assert_eq!(verify(&rewritten), Ok(5));
        assert!(matches!(
            cp.check_against(5, Some(&rewritten[4].hash)),
            Err(CheckpointError::Rewritten { .. })
        ));
        let mut forged = cp.clone();
        forged.count = 4;
        assert_eq!(
            forged.verify_signature(),
            Err(CheckpointError::BadSignature)
        );
    }

    #[test]
    fn redaction_reaches_nested_secrets() {
        let mut v = serde_json::json!({"username": "a", "password_hash": "$argon2id$...",
            "nested": [{"totp_secret": "X", "token_hash": "Y", "label": "ok"}], "none_secret": null});
        redact(&mut v);
        assert_eq!(v["password_hash"], REDACTED);
        assert_eq!(v["nested"][0]["totp_secret"], REDACTED);
        assert_eq!(v["nested"][0]["token_hash"], REDACTED);
        assert_eq!(v["nested"][0]["label"], "ok");
        assert_eq!(v["username"], "a");
        assert!(v["none_secret"].is_null());
    }

    proptest! {
        /// Changing any single entry's action is detected at exactly that entry.
        #[test]
        fn any_edit_is_found_where_it_is(n in 1usize..20, pick in 0usize..20, text in "[a-z]{1,8}") {
            let mut c = chain(n);
            let i = pick % n;
            prop_assume!(c[i].record.action != text);
            c[i].record.action = text;
            prop_assert_eq!(verify(&c), Err(ChainBreak::Content { seq: i as i64 + 1 }));
        }
    }
}
