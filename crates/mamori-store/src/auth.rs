//! Accounts, sessions, API tokens, MFA state and login-failure counters.
//!
//! Secrets never leave as plain text: sessions and tokens are stored as SHA-256 hashes of
//! their random values, passwords as argon2id hashes (made by the web crate), recovery codes
//! as hashes. Bookkeeping writes that are not changes of record (a session's last-seen time,
//! a token's last use, pruning expired rows) are the only writes outside [`WriteTx`].

use crate::{format_ts, on_unique, Result, Store, StoreError, WriteTx};
use mamori_domain::{PersonId, UserId};
use serde::Serialize;
use sqlx::any::AnyRow;
use sqlx::Row;
use time::OffsetDateTime;

/// A login account.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct UserRow {
    /// Internal id.
    pub id: UserId,
    /// Login name.
    pub username: String,
    /// Name shown in the header.
    pub display_name: String,
    /// The person this account belongs to, if any.
    pub person_id: Option<PersonId>,
    /// argon2id PHC string.
    pub password_hash: String,
    /// The password is one-time and must be changed at next login.
    pub must_change_password: bool,
    /// Base32 TOTP secret in use.
    pub totp_secret: Option<String>,
    /// A secret being enrolled, not yet confirmed (MFA stays as it was meanwhile).
    pub totp_pending_secret: Option<String>,
    /// MFA is on.
    pub totp_enabled: bool,
    /// The last TOTP time step accepted (each code is accepted only once).
    pub totp_last_step: i64,
    /// Preferred language (`ja`, `en`).
    pub lang: String,
    /// The account may not log in.
    pub disabled: bool,
    /// Created.
    pub created_at: String,
}

/// A new account.
#[derive(Debug, Clone)]
pub struct NewUser {
    /// Login name (validated by the caller).
    pub username: String,
    /// Name shown.
    pub display_name: String,
    /// The person, if any.
    pub person_id: Option<PersonId>,
    /// argon2id hash.
    pub password_hash: String,
    /// One-time password.
    pub must_change_password: bool,
}

/// A stored session.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SessionRow {
    /// SHA-256 of the cookie value, hex.
    pub id_hash: String,
    /// The account.
    pub user_id: UserId,
    /// `mfa` (password accepted, second factor pending) or `full`.
    pub stage: String,
    /// The CSRF token bound to this session.
    pub csrf_token: String,
    /// Created.
    pub created_at: OffsetDateTime,
    /// Last request (coalesced).
    pub last_seen_at: OffsetDateTime,
    /// Absolute expiry.
    pub expires_at: OffsetDateTime,
    /// Last re-authentication.
    pub reauth_at: Option<OffsetDateTime>,
    /// Client address at login.
    pub source: String,
    /// Browser at login.
    pub user_agent: String,
}

impl SessionRow {
    /// A short public identifier, safe to show and to use for revoking.
    pub fn public_id(&self) -> &str {
        &self.id_hash[..16.min(self.id_hash.len())]
    }
}

/// A session to create.
#[derive(Debug, Clone)]
pub struct NewSession {
    /// SHA-256 of the cookie value.
    pub id_hash: String,
    /// The account.
    pub user_id: UserId,
    /// `mfa` or `full`.
    pub stage: String,
    /// CSRF token.
    pub csrf_token: String,
    /// Absolute expiry.
    pub expires_at: OffsetDateTime,
    /// Client address.
    pub source: String,
    /// Browser.
    pub user_agent: String,
}

/// An API token (without its secret).
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct ApiTokenRow {
    /// Internal id.
    pub id: i64,
    /// The owner.
    pub user_id: UserId,
    /// What it is for.
    pub label: String,
    /// The first characters of the token, to recognise it.
    pub prefix: String,
    /// Only reading permitted.
    pub read_only: bool,
    /// Expiry, if any.
    pub expires_at: Option<String>,
    /// Created.
    pub created_at: String,
    /// Last used.
    pub last_used_at: Option<String>,
    /// Revoked, if so.
    pub revoked_at: Option<String>,
}

const USER_COLUMNS: &str =
    "id, username, display_name, person_id, password_hash, must_change_password, \
    totp_secret, totp_pending_secret, totp_enabled, totp_last_step, lang, disabled, created_at";

fn user_from_row(r: &AnyRow) -> Result<UserRow> {
    Ok(UserRow {
        id: UserId(r.try_get("id")?),
        username: r.try_get("username")?,
        display_name: r.try_get("display_name")?,
        person_id: r.try_get::<Option<i64>, _>("person_id")?.map(PersonId),
        password_hash: r.try_get("password_hash")?,
        must_change_password: r.try_get::<i64, _>("must_change_password")? != 0,
        totp_secret: r.try_get("totp_secret")?,
        totp_pending_secret: r.try_get("totp_pending_secret")?,
        totp_enabled: r.try_get::<i64, _>("totp_enabled")? != 0,
        totp_last_step: r.try_get("totp_last_step")?,
        lang: r.try_get("lang")?,
        disabled: r.try_get::<i64, _>("disabled")? != 0,
        created_at: r.try_get("created_at")?,
    })
}

fn ts(s: &str) -> Result<OffsetDateTime> {
    crate::parse_ts(s).ok_or_else(|| StoreError::Corrupt(format!("bad time {s}")))
}

fn session_from_row(r: &AnyRow) -> Result<SessionRow> {
    Ok(SessionRow {
        id_hash: r.try_get("id_hash")?,
        user_id: UserId(r.try_get("user_id")?),
        stage: r.try_get("stage")?,
        csrf_token: r.try_get("csrf_token")?,
        created_at: ts(&r.try_get::<String, _>("created_at")?)?,
        last_seen_at: ts(&r.try_get::<String, _>("last_seen_at")?)?,
        expires_at: ts(&r.try_get::<String, _>("expires_at")?)?,
        reauth_at: r
            .try_get::<Option<String>, _>("reauth_at")?
            .map(|s| ts(&s))
            .transpose()?,
        source: r.try_get("source")?,
        user_agent: r.try_get("user_agent")?,
    })
}

fn token_from_row(r: &AnyRow) -> Result<ApiTokenRow> {
    Ok(ApiTokenRow {
        id: r.try_get("id")?,
        user_id: UserId(r.try_get("user_id")?),
        label: r.try_get("label")?,
        prefix: r.try_get("prefix")?,
        read_only: r.try_get::<i64, _>("read_only")? != 0,
        expires_at: r.try_get("expires_at")?,
        created_at: r.try_get("created_at")?,
        last_used_at: r.try_get("last_used_at")?,
        revoked_at: r.try_get("revoked_at")?,
    })
}

fn public_user(u: &UserRow) -> serde_json::Value {
    serde_json::json!({
        "username": u.username, "display_name": u.display_name, "person_id": u.person_id,
        "must_change_password": u.must_change_password, "totp_enabled": u.totp_enabled,
        "lang": u.lang, "disabled": u.disabled,
    })
}

const SESSION_COLUMNS: &str =
    "id_hash, user_id, stage, csrf_token, created_at, last_seen_at, expires_at, reauth_at, source, user_agent";
const TOKEN_COLUMNS: &str =
    "id, user_id, label, prefix, read_only, expires_at, created_at, last_used_at, revoked_at";

impl Store {
    /// An account by login name.
    pub async fn user_by_username(&self, username: &str) -> Result<Option<UserRow>> {
        let row = sqlx::query(&format!(
            "SELECT {USER_COLUMNS} FROM users WHERE username = $1"
        ))
        .bind(username)
        .fetch_optional(&self.pool)
        .await?;
        row.as_ref().map(user_from_row).transpose()
    }

    /// An account by id.
    pub async fn user(&self, id: UserId) -> Result<Option<UserRow>> {
        let row = sqlx::query(&format!("SELECT {USER_COLUMNS} FROM users WHERE id = $1"))
            .bind(id.0)
            .fetch_optional(&self.pool)
            .await?;
        row.as_ref().map(user_from_row).transpose()
    }

    /// Every account, by username.
    pub async fn users(&self) -> Result<Vec<UserRow>> {
        let rows = sqlx::query(&format!(
            "SELECT {USER_COLUMNS} FROM users ORDER BY username"
        ))
        .fetch_all(&self.pool)
        .await?;
        rows.iter().map(user_from_row).collect()
    }

    /// The account linked to a person, if any.
    pub async fn user_for_person(&self, person: PersonId) -> Result<Option<UserRow>> {
        let row = sqlx::query(&format!(
            "SELECT {USER_COLUMNS} FROM users WHERE person_id = $1"
        ))
        .bind(person.0)
        .fetch_optional(&self.pool)
        .await?;
        row.as_ref().map(user_from_row).transpose()
    }

    /// True when some account holds the `admin` role.
    pub async fn admin_exists(&self) -> Result<bool> {
        let n: i64 = sqlx::query_scalar(
            "SELECT COUNT(*) FROM role_assignments a LEFT JOIN users u ON u.id = a.user_id \
             LEFT JOIN users pu ON pu.person_id = a.person_id WHERE a.role_code = 'admin' \
             AND (u.id IS NOT NULL OR pu.id IS NOT NULL)",
        )
        .fetch_one(&self.pool)
        .await?;
        Ok(n > 0)
    }

    /// Creates an account.
    pub async fn create_user(tx: &mut WriteTx, new: &NewUser) -> Result<UserRow> {
        let at = format_ts(OffsetDateTime::now_utc());
        let id: i64 = sqlx::query_scalar(
            "INSERT INTO users (username, display_name, person_id, password_hash, must_change_password, created_at, updated_at) \
             VALUES ($1, $2, $3, $4, $5, $6, $6) RETURNING id",
        )
        .bind(&new.username)
        .bind(&new.display_name)
        .bind(new.person_id.map(|p| p.0))
        .bind(&new.password_hash)
        .bind(i64::from(new.must_change_password))
        .bind(&at)
        .fetch_one(tx.conn())
        .await
        .map_err(on_unique("username"))?;
        let user = Self::user_in_tx(tx, UserId(id)).await?;
        tx.audit(
            "user.create",
            "user",
            &user.username,
            None,
            Some(public_user(&user)),
        )
        .await?;
        Ok(user)
    }

    async fn user_in_tx(tx: &mut WriteTx, id: UserId) -> Result<UserRow> {
        let row = sqlx::query(&format!("SELECT {USER_COLUMNS} FROM users WHERE id = $1"))
            .bind(id.0)
            .fetch_optional(tx.conn())
            .await?
            .ok_or(StoreError::Missing("user"))?;
        user_from_row(&row)
    }

    /// Sets a new password hash; `one_time` marks it for change at next login. Other sessions
    /// of the account are ended.
    pub async fn set_password(
        tx: &mut WriteTx,
        user: UserId,
        hash: &str,
        one_time: bool,
        keep_session: Option<&str>,
    ) -> Result<()> {
        let u = Self::user_in_tx(tx, user).await?;
        sqlx::query("UPDATE users SET password_hash = $1, must_change_password = $2, updated_at = $3 WHERE id = $4")
            .bind(hash)
            .bind(i64::from(one_time))
            .bind(format_ts(OffsetDateTime::now_utc()))
            .bind(user.0)
            .execute(tx.conn())
            .await?;
        sqlx::query("DELETE FROM sessions WHERE user_id = $1 AND id_hash <> $2")
            .bind(user.0)
            .bind(keep_session.unwrap_or(""))
            .execute(tx.conn())
            .await?;
        let action = if one_time {
            "user.password_reset"
        } else {
            "user.password_change"
        };
        tx.audit(
            action,
            "user",
            &u.username,
            None,
            Some(serde_json::json!({"password": "changed", "one_time": one_time})),
        )
        .await?;
        Ok(())
    }

    /// Sets the preferred language.
    pub async fn set_user_lang(tx: &mut WriteTx, user: UserId, lang: &str) -> Result<()> {
        let u = Self::user_in_tx(tx, user).await?;
        sqlx::query("UPDATE users SET lang = $1 WHERE id = $2")
            .bind(lang)
            .bind(user.0)
            .execute(tx.conn())
            .await?;
        tx.audit(
            "user.language",
            "user",
            &u.username,
            Some(serde_json::json!({"lang": u.lang})),
            Some(serde_json::json!({"lang": lang})),
        )
        .await?;
        Ok(())
    }

    /// Stores a TOTP secret being enrolled. MFA stays as it was (on with the old secret, or
    /// off) until the new secret is confirmed with a code.
    pub async fn begin_totp(tx: &mut WriteTx, user: UserId, secret: &str) -> Result<()> {
        let u = Self::user_in_tx(tx, user).await?;
        sqlx::query("UPDATE users SET totp_pending_secret = $1 WHERE id = $2")
            .bind(secret)
            .bind(user.0)
            .execute(tx.conn())
            .await?;
        tx.audit("mfa.enrol_start", "user", &u.username, None, None)
            .await?;
        Ok(())
    }

    /// Turns MFA on and stores hashed recovery codes.
    pub async fn enable_totp(
        tx: &mut WriteTx,
        user: UserId,
        step: i64,
        recovery_hashes: &[String],
    ) -> Result<()> {
        let u = Self::user_in_tx(tx, user).await?;
        // The pending secret becomes the one in use.
        sqlx::query(
            "UPDATE users SET totp_secret = totp_pending_secret, totp_pending_secret = NULL, \
             totp_enabled = 1, totp_last_step = $1 WHERE id = $2 AND totp_pending_secret IS NOT NULL",
        )
            .bind(step)
            .bind(user.0)
            .execute(tx.conn())
            .await?;
        Self::replace_recovery_codes(tx, user, recovery_hashes).await?;
        tx.audit(
            "mfa.enable",
            "user",
            &u.username,
            Some(serde_json::json!({"totp_enabled": u.totp_enabled})),
            Some(serde_json::json!({"totp_enabled": true})),
        )
        .await?;
        Ok(())
    }

    /// Turns MFA off.
    pub async fn disable_totp(tx: &mut WriteTx, user: UserId) -> Result<()> {
        let u = Self::user_in_tx(tx, user).await?;
        sqlx::query("UPDATE users SET totp_enabled = 0, totp_secret = NULL, totp_pending_secret = NULL WHERE id = $1")
            .bind(user.0)
            .execute(tx.conn())
            .await?;
        sqlx::query("DELETE FROM recovery_codes WHERE user_id = $1")
            .bind(user.0)
            .execute(tx.conn())
            .await?;
        tx.audit(
            "mfa.disable",
            "user",
            &u.username,
            Some(serde_json::json!({"totp_enabled": u.totp_enabled})),
            Some(serde_json::json!({"totp_enabled": false})),
        )
        .await?;
        Ok(())
    }

    /// Records that TOTP step `step` was used; false when it (or a later one) was used
    /// already, so a code is accepted only once.
    pub async fn consume_totp_step(tx: &mut WriteTx, user: UserId, step: i64) -> Result<bool> {
        let done = sqlx::query(
            "UPDATE users SET totp_last_step = $1 WHERE id = $2 AND totp_last_step < $1",
        )
        .bind(step)
        .bind(user.0)
        .execute(tx.conn())
        .await?;
        Ok(done.rows_affected() == 1)
    }

    /// Replaces the recovery codes.
    pub async fn replace_recovery_codes(
        tx: &mut WriteTx,
        user: UserId,
        hashes: &[String],
    ) -> Result<()> {
        sqlx::query("DELETE FROM recovery_codes WHERE user_id = $1")
            .bind(user.0)
            .execute(tx.conn())
            .await?;
        for h in hashes {
            sqlx::query("INSERT INTO recovery_codes (user_id, code_hash) VALUES ($1, $2)")
                .bind(user.0)
                .bind(h)
                .execute(tx.conn())
                .await?;
        }
        Ok(())
    }

    /// Uses a recovery code; false when it is unknown or used.
    pub async fn consume_recovery_code(tx: &mut WriteTx, user: UserId, hash: &str) -> Result<bool> {
        let done = sqlx::query(
            "UPDATE recovery_codes SET used_at = $1 WHERE user_id = $2 AND code_hash = $3 AND used_at IS NULL",
        )
        .bind(format_ts(OffsetDateTime::now_utc()))
        .bind(user.0)
        .bind(hash)
        .execute(tx.conn())
        .await?;
        Ok(done.rows_affected() >= 1)
    }

    /// Recovery codes not yet used.
    pub async fn unused_recovery_codes(&self, user: UserId) -> Result<i64> {
        Ok(sqlx::query_scalar(
            "SELECT COUNT(*) FROM recovery_codes WHERE user_id = $1 AND used_at IS NULL",
        )
        .bind(user.0)
        .fetch_one(&self.pool)
        .await?)
    }

    /// Creates a session.
    pub async fn create_session(tx: &mut WriteTx, s: &NewSession) -> Result<()> {
        let now = format_ts(OffsetDateTime::now_utc());
        sqlx::query(&format!(
            "INSERT INTO sessions ({SESSION_COLUMNS}) VALUES ($1, $2, $3, $4, $5, $5, $6, NULL, $7, $8)"
        ))
        .bind(&s.id_hash)
        .bind(s.user_id.0)
        .bind(&s.stage)
        .bind(&s.csrf_token)
        .bind(&now)
        .bind(format_ts(s.expires_at))
        .bind(&s.source)
        .bind(&s.user_agent)
        .execute(tx.conn())
        .await?;
        Ok(())
    }

    /// A session by the hash of its cookie value.
    pub async fn session(&self, id_hash: &str) -> Result<Option<SessionRow>> {
        let row = sqlx::query(&format!(
            "SELECT {SESSION_COLUMNS} FROM sessions WHERE id_hash = $1"
        ))
        .bind(id_hash)
        .fetch_optional(&self.pool)
        .await?;
        row.as_ref().map(session_from_row).transpose()
    }

    /// The sessions of an account, newest first.
    pub async fn sessions_for_user(&self, user: UserId) -> Result<Vec<SessionRow>> {
        let rows = sqlx::query(&format!(
            "SELECT {SESSION_COLUMNS} FROM sessions WHERE user_id = $1 ORDER BY created_at DESC"
        ))
        .bind(user.0)
        .fetch_all(&self.pool)
        .await?;
        rows.iter().map(session_from_row).collect()
    }

    /// Ends a session (logout, revoke, rotation).
    pub async fn delete_session(tx: &mut WriteTx, id_hash: &str) -> Result<bool> {
        let done = sqlx::query("DELETE FROM sessions WHERE id_hash = $1")
            .bind(id_hash)
            .execute(tx.conn())
            .await?;
        Ok(done.rows_affected() == 1)
    }

    /// Ends every session of an account.
    pub async fn delete_user_sessions(tx: &mut WriteTx, user: UserId) -> Result<u64> {
        let done = sqlx::query("DELETE FROM sessions WHERE user_id = $1")
            .bind(user.0)
            .execute(tx.conn())
            .await?;
        Ok(done.rows_affected())
    }

    /// Records a re-authentication on a session.
    pub async fn mark_reauth(tx: &mut WriteTx, id_hash: &str, at: OffsetDateTime) -> Result<()> {
        sqlx::query("UPDATE sessions SET reauth_at = $1 WHERE id_hash = $2")
            .bind(format_ts(at))
            .bind(id_hash)
            .execute(tx.conn())
            .await?;
        Ok(())
    }

    /// Bookkeeping: moves last-seen forward, but only when the stored value is older than
    /// `coalesce_before`, so that reading pages does not queue a write per request.
    pub async fn touch_session(
        &self,
        id_hash: &str,
        now: OffsetDateTime,
        coalesce_before: OffsetDateTime,
    ) -> Result<()> {
        sqlx::query(
            "UPDATE sessions SET last_seen_at = $1 WHERE id_hash = $2 AND last_seen_at < $3",
        )
        .bind(format_ts(now))
        .bind(id_hash)
        .bind(format_ts(coalesce_before))
        .execute(&self.pool)
        .await?;
        Ok(())
    }

    /// Bookkeeping: removes sessions past their absolute expiry or idle limit, and old
    /// login-failure rows.
    pub async fn prune(
        &self,
        now: OffsetDateTime,
        idle: time::Duration,
        failures_older_than: OffsetDateTime,
    ) -> Result<()> {
        sqlx::query("DELETE FROM sessions WHERE expires_at < $1 OR last_seen_at < $2")
            .bind(format_ts(now))
            .bind(format_ts(now - idle))
            .execute(&self.pool)
            .await?;
        sqlx::query("DELETE FROM login_failures WHERE at < $1")
            .bind(format_ts(failures_older_than))
            .execute(&self.pool)
            .await?;
        Ok(())
    }

    /// Creates an API token (stored hashed).
    #[allow(clippy::too_many_arguments)]
    pub async fn create_token(
        tx: &mut WriteTx,
        user: &UserRow,
        label: &str,
        token_hash: &str,
        prefix: &str,
        read_only: bool,
        expires_at: Option<OffsetDateTime>,
    ) -> Result<ApiTokenRow> {
        let id: i64 = sqlx::query_scalar(
            "INSERT INTO api_tokens (user_id, label, token_hash, prefix, read_only, expires_at, created_at) \
             VALUES ($1, $2, $3, $4, $5, $6, $7) RETURNING id",
        )
        .bind(user.id.0)
        .bind(label)
        .bind(token_hash)
        .bind(prefix)
        .bind(i64::from(read_only))
        .bind(expires_at.map(format_ts))
        .bind(format_ts(OffsetDateTime::now_utc()))
        .fetch_one(tx.conn())
        .await
        .map_err(on_unique("token"))?;
        let row = sqlx::query(&format!(
            "SELECT {TOKEN_COLUMNS} FROM api_tokens WHERE id = $1"
        ))
        .bind(id)
        .fetch_one(tx.conn())
        .await?;
        let token = token_from_row(&row)?;
        tx.audit(
            "token.create",
            "user",
            &user.username,
            None,
            serde_json::to_value(&token).ok(),
        )
        .await?;
        Ok(token)
    }

    /// A live token by hash: not revoked and not expired at `now`.
    pub async fn token_by_hash(
        &self,
        hash: &str,
        now: OffsetDateTime,
    ) -> Result<Option<ApiTokenRow>> {
        let row = sqlx::query(&format!(
            "SELECT {TOKEN_COLUMNS} FROM api_tokens WHERE token_hash = $1 AND revoked_at IS NULL \
             AND (expires_at IS NULL OR expires_at > $2)"
        ))
        .bind(hash)
        .bind(format_ts(now))
        .fetch_optional(&self.pool)
        .await?;
        row.as_ref().map(token_from_row).transpose()
    }

    /// Tokens of an account, newest first.
    pub async fn tokens_for_user(&self, user: UserId) -> Result<Vec<ApiTokenRow>> {
        let rows = sqlx::query(&format!(
            "SELECT {TOKEN_COLUMNS} FROM api_tokens WHERE user_id = $1 ORDER BY id DESC"
        ))
        .bind(user.0)
        .fetch_all(&self.pool)
        .await?;
        rows.iter().map(token_from_row).collect()
    }

    /// Revokes one of the account's tokens; false when there is no such live token.
    pub async fn revoke_token(tx: &mut WriteTx, user: &UserRow, token_id: i64) -> Result<bool> {
        let done = sqlx::query("UPDATE api_tokens SET revoked_at = $1 WHERE id = $2 AND user_id = $3 AND revoked_at IS NULL")
            .bind(format_ts(OffsetDateTime::now_utc()))
            .bind(token_id)
            .bind(user.id.0)
            .execute(tx.conn())
            .await?;
        if done.rows_affected() == 1 {
            tx.audit(
                "token.revoke",
                "user",
                &user.username,
                None,
                Some(serde_json::json!({"token_id": token_id})),
            )
            .await?;
        }
        Ok(done.rows_affected() == 1)
    }

    /// Bookkeeping: records a token's use (at most once a minute).
    pub async fn touch_token(&self, id: i64, now: OffsetDateTime) -> Result<()> {
        sqlx::query("UPDATE api_tokens SET last_used_at = $1 WHERE id = $2 AND (last_used_at IS NULL OR last_used_at < $3)")
            .bind(format_ts(now))
            .bind(id)
            .bind(format_ts(now - time::Duration::minutes(1)))
            .execute(&self.pool)
            .await?;
        Ok(())
    }

    /// Records a failed login for a throttling key, in the transaction that audits it.
    pub async fn record_login_failure(
        tx: &mut WriteTx,
        key: &str,
        at: OffsetDateTime,
    ) -> Result<()> {
        sqlx::query("INSERT INTO login_failures (key, at) VALUES ($1, $2)")
            .bind(key)
            .bind(format_ts(at))
            .execute(tx.conn())
            .await?;
        Ok(())
    }

    /// Failure times of a key since `since`.
    pub async fn login_failures(
        &self,
        key: &str,
        since: OffsetDateTime,
    ) -> Result<Vec<OffsetDateTime>> {
        let rows: Vec<String> =
            sqlx::query_scalar("SELECT at FROM login_failures WHERE key = $1 AND at > $2")
                .bind(key)
                .bind(format_ts(since))
                .fetch_all(&self.pool)
                .await?;
        Ok(rows.iter().filter_map(|s| crate::parse_ts(s)).collect())
    }
}
