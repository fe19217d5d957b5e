//! Uploaded files, kept in the database on both backends (`INTERCHANGE.md`): content-addressed
//! by SHA-256 and stored in chunks, so a large file never sits in memory whole, and a backup
//! holds everything. Files are attached to records with a name and a declared type; they are
//! only ever served as downloads.

use crate::{format_ts, Result, Store, StoreError, WriteTx};
use mamori_domain::AssetId;
use serde::Serialize;
use sha2::{Digest, Sha256};
use time::OffsetDateTime;
use utoipa::ToSchema;

/// Size of one stored chunk.
pub const FILE_CHUNK_BYTES: usize = 256 * 1024;

/// A file being written chunk by chunk inside a transaction. Chunks go under a temporary key
/// and are renamed to the content's hash when the file is complete; dropping the transaction
/// keeps nothing.
pub struct FileWriter {
    temp: String,
    hasher: Sha256,
    buffer: Vec<u8>,
    seq: i64,
    size: u64,
    max: u64,
}

impl FileWriter {
    /// Starts a file of at most `max` bytes.
    pub async fn begin(tx: &mut WriteTx, max: u64) -> Result<FileWriter> {
        let temp = format!("tmp-{}", hex::encode(rand::random::<[u8; 16]>()));
        sqlx::query("INSERT INTO files (sha256, size, created_at) VALUES ($1, 0, $2)")
            .bind(&temp)
            .bind(format_ts(OffsetDateTime::now_utc()))
            .execute(tx.conn())
            .await?;
        Ok(FileWriter {
            temp,
            hasher: Sha256::new(),
            buffer: Vec::with_capacity(FILE_CHUNK_BYTES),
            seq: 0,
            size: 0,
            max,
        })
    }

    /// Appends bytes; refuses (`error-file-too-large`) once the file passes its maximum.
    pub async fn write(&mut self, tx: &mut WriteTx, mut bytes: &[u8]) -> Result<()> {
        self.size += bytes.len() as u64;
        if self.size > self.max {
            return Err(StoreError::Rule("error-file-too-large"));
        }
        self.hasher.update(bytes);
        while !bytes.is_empty() {
            let room = FILE_CHUNK_BYTES - self.buffer.len();
            let take = room.min(bytes.len());
            self.buffer.extend_from_slice(&bytes[..take]);
            bytes = &bytes[take..];
            if self.buffer.len() == FILE_CHUNK_BYTES {
                self.flush(tx).await?;
            }
        }
        Ok(())
    }

    async fn flush(&mut self, tx: &mut WriteTx) -> Result<()> {
        if self.buffer.is_empty() {
            return Ok(());
        }
        sqlx::query("INSERT INTO file_chunks (sha256, seq, data) VALUES ($1, $2, $3)")
            .bind(&self.temp)
            .bind(self.seq)
            .bind(std::mem::take(&mut self.buffer))
            .execute(tx.conn())
            .await?;
        self.buffer.reserve(FILE_CHUNK_BYTES);
        self.seq += 1;
        Ok(())
    }

    /// Completes the file: returns its SHA-256 (hex) and size. A file already stored with the
    /// same content is kept once.
    pub async fn finish(mut self, tx: &mut WriteTx) -> Result<(String, u64)> {
        self.flush(tx).await?;
        let sha = hex::encode(self.hasher.finalize_reset());
        let exists: Option<String> =
            sqlx::query_scalar("SELECT sha256 FROM files WHERE sha256 = $1")
                .bind(&sha)
                .fetch_optional(tx.conn())
                .await?;
        if exists.is_none() {
            sqlx::query("INSERT INTO files (sha256, size, created_at) VALUES ($1, $2, $3)")
                .bind(&sha)
                .bind(self.size as i64)
                .bind(format_ts(OffsetDateTime::now_utc()))
                .execute(tx.conn())
                .await?;
            sqlx::query("UPDATE file_chunks SET sha256 = $1 WHERE sha256 = $2")
                .bind(&sha)
                .bind(&self.temp)
                .execute(tx.conn())
                .await?;
        } else {
            sqlx::query("DELETE FROM file_chunks WHERE sha256 = $1")
                .bind(&self.temp)
                .execute(tx.conn())
                .await?;
        }
        sqlx::query("DELETE FROM files WHERE sha256 = $1")
            .bind(&self.temp)
            .execute(tx.conn())
            .await?;
        Ok((sha, self.size))
    }
}

/// A file attached to an asset.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, ToSchema)]
pub struct AttachmentRow {
    /// Internal id.
    pub id: i64,
    /// The asset.
    #[schema(value_type = i64)]
    pub asset_id: AssetId,
    /// `evidence` or `disposal_certificate`.
    pub purpose: String,
    /// SHA-256 of the content (hex).
    pub sha256: String,
    /// The file's name as uploaded.
    pub filename: String,
    /// The declared type.
    pub content_type: String,
    /// Bytes.
    pub size: i64,
    /// Who uploaded it.
    pub uploaded_by: String,
    /// When (RFC 3339).
    pub uploaded_at: String,
}

type AttachmentTuple = (
    i64,
    i64,
    String,
    String,
    String,
    String,
    i64,
    String,
    String,
);

fn attachment(t: AttachmentTuple) -> AttachmentRow {
    AttachmentRow {
        id: t.0,
        asset_id: AssetId(t.1),
        purpose: t.2,
        sha256: t.3,
        filename: t.4,
        content_type: t.5,
        size: t.6,
        uploaded_by: t.7,
        uploaded_at: t.8,
    }
}

const ATTACHMENT_SELECT: &str = "SELECT id, asset_id, purpose, sha256, filename, content_type, size, uploaded_by, uploaded_at FROM asset_attachments";

impl Store {
    /// Attaches a stored file to an asset.
    pub async fn attach_to_asset(
        tx: &mut WriteTx,
        asset: AssetId,
        purpose: &str,
        sha256: &str,
        size: u64,
        filename: &str,
        content_type: &str,
    ) -> Result<AttachmentRow> {
        let at = format_ts(OffsetDateTime::now_utc());
        let by = tx.actor().name.clone();
        let id: i64 = sqlx::query_scalar(
            "INSERT INTO asset_attachments (asset_id, purpose, sha256, filename, content_type, size, uploaded_by, uploaded_at) \
             VALUES ($1, $2, $3, $4, $5, $6, $7, $8) RETURNING id",
        )
        .bind(asset.0)
        .bind(purpose)
        .bind(sha256)
        .bind(filename)
        .bind(content_type)
        .bind(size as i64)
        .bind(&by)
        .bind(&at)
        .fetch_one(tx.conn())
        .await
        .map_err(crate::on_unique("asset"))?;
        let row = AttachmentRow {
            id,
            asset_id: asset,
            purpose: purpose.to_owned(),
            sha256: sha256.to_owned(),
            filename: filename.to_owned(),
            content_type: content_type.to_owned(),
            size: size as i64,
            uploaded_by: by,
            uploaded_at: at,
        };
        tx.audit(
            "asset.attach",
            "asset",
            &asset.to_string(),
            None,
            serde_json::to_value(&row).ok(),
        )
        .await?;
        Ok(row)
    }

    /// The files attached to an asset, newest first.
    pub async fn asset_attachments(&self, asset: AssetId) -> Result<Vec<AttachmentRow>> {
        let rows: Vec<AttachmentTuple> = sqlx::query_as(&format!(
            "{ATTACHMENT_SELECT} WHERE asset_id = $1 ORDER BY id DESC"
        ))
        .bind(asset.0)
        .fetch_all(&self.pool)
        .await?;
        Ok(rows.into_iter().map(attachment).collect())
    }

    /// One attachment.
    pub async fn attachment(&self, id: i64) -> Result<Option<AttachmentRow>> {
        let row: Option<AttachmentTuple> =
            sqlx::query_as(&format!("{ATTACHMENT_SELECT} WHERE id = $1"))
                .bind(id)
                .fetch_optional(&self.pool)
                .await?;
        Ok(row.map(attachment))
    }

    /// One chunk of a stored file (`None` after the last).
    pub async fn file_chunk(&self, sha256: &str, seq: i64) -> Result<Option<Vec<u8>>> {
        Ok(
            sqlx::query_scalar("SELECT data FROM file_chunks WHERE sha256 = $1 AND seq = $2")
                .bind(sha256)
                .bind(seq)
                .fetch_optional(&self.pool)
                .await?,
        )
    }
}
