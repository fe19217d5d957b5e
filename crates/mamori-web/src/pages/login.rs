//! Login (password, then TOTP or a recovery code), logout, and throttling.

use super::safe_next;
use crate::credentials::{self, random_token, recovery_code_hash, sha256_hex, totp};
use crate::error::AppResult;
use crate::i18n::{tr, tr_args};
use crate::session::{cookie_names, set_cookie};
use crate::view::{Chrome, Ctx};
use askama::Template;
use axum::extract::Query;
use axum::http::{header, StatusCode};
use axum::response::{IntoResponse, Redirect, Response};
use axum::Form;
use mamori_domain::throttle::ThrottlePolicy;
use mamori_store::{Actor, NewSession, Store, UserRow};
use serde::Deserialize;
use time::OffsetDateTime;

#[derive(Template)]
#[template(path = "login.html")]
struct LoginPage {
    c: Chrome,
    username: String,
    next: String,
    error: Option<String>,
}

#[derive(Template)]
#[template(path = "login_mfa.html")]
struct MfaPage {
    c: Chrome,
    next: String,
    error: Option<String>,
}

/// `?next=`.
#[derive(Debug, Deserialize)]
pub struct NextQuery {
    next: Option<String>,
}

/// The login form.
#[derive(Debug, Deserialize)]
pub struct LoginForm {
    #[serde(default)]
    username: String,
    #[serde(default)]
    password: String,
    next: Option<String>,
}

/// The second-factor form.
#[derive(Debug, Deserialize)]
pub struct MfaForm {
    #[serde(default)]
    code: String,
    next: Option<String>,
}

/// GET `/login`.
pub async fn form(ctx: Ctx, Query(q): Query<NextQuery>) -> Response {
    if ctx.principal.is_some() {
        return Redirect::to("/").into_response();
    }
    let page = LoginPage {
        c: ctx.chrome(),
        username: String::new(),
        next: safe_next(q.next.as_deref()),
        error: None,
    };
    ctx.page(&page)
}

fn throttle_keys(username: &str, ip: &str) -> [(String, ThrottlePolicy); 2] {
    [
        (
            format!("user:{}", username.to_lowercase()),
            ThrottlePolicy::ACCOUNT,
        ),
        (format!("ip:{ip}"), ThrottlePolicy::SOURCE),
    ]
}

/// The time a lock ends, if any key is locked.
async fn locked_until(ctx: &Ctx, username: &str) -> AppResult<Option<OffsetDateTime>> {
    let now = OffsetDateTime::now_utc();
    let mut until: Option<OffsetDateTime> = None;
    for (key, mut policy) in throttle_keys(username, &ctx.ip.0) {
        policy.max_failures = if key.starts_with("user:") {
            ctx.state.config.account_max_failures
        } else {
            ctx.state.config.source_max_failures
        };
        let failures = ctx
            .state
            .store
            .login_failures(&key, now - policy.window)
            .await?;
        if let Some(t) = policy.locked_until(&failures, now) {
            until = Some(until.map_or(t, |u| u.max(t)));
        }
    }
    Ok(until)
}

/// Records a failure for both keys (account and source) and audits it; audits the start of a
/// lockout when this failure causes one.
async fn record_failure(ctx: &Ctx, username: &str, action: &str, reason: &str) -> AppResult<()> {
    let now = OffsetDateTime::now_utc();
    let actor = Actor {
        name: "anonymous".into(),
        source: ctx.ip.0.clone(),
    };
    let mut tx = ctx.state.store.begin(actor).await?;
    for (key, _) in throttle_keys(username, &ctx.ip.0) {
        Store::record_login_failure(&mut tx, &key, now).await?;
    }
    tx.audit(
        action,
        "user",
        username,
        None,
        Some(serde_json::json!({"reason": reason})),
    )
    .await?;
    ctx.state.commit(tx).await?;
    if let Some(until) = locked_until(ctx, username).await? {
        let actor = Actor {
            name: "system".into(),
            source: ctx.ip.0.clone(),
        };
        let mut tx = ctx.state.store.begin(actor).await?;
        tx.audit(
            "login.lockout",
            "user",
            username,
            None,
            Some(serde_json::json!({"until": mamori_store::format_ts(until)})),
        )
        .await?;
        ctx.state.commit(tx).await?;
    }
    Ok(())
}

fn locked_message(ctx: &Ctx, until: OffsetDateTime) -> String {
    let minutes = ((until - OffsetDateTime::now_utc()).whole_seconds() + 59) / 60;
    tr_args(
        ctx.lang,
        "login-locked",
        &[("minutes", minutes.max(1).to_string())],
    )
}

/// Starts a session for `user` at `stage`, ending `old` if given. Returns the cookie value.
async fn start_session(
    ctx: &Ctx,
    user: &UserRow,
    stage: &str,
    old: Option<&str>,
    action: &str,
) -> AppResult<String> {
    let value = random_token(32);
    let settings = ctx.settings.clone();
    let mut tx = ctx
        .state
        .store
        .begin(Actor {
            name: user.username.clone(),
            source: ctx.ip.0.clone(),
        })
        .await?;
    if let Some(old) = old {
        Store::delete_session(&mut tx, old).await?;
    }
    Store::create_session(
        &mut tx,
        &NewSession {
            id_hash: sha256_hex(&value),
            user_id: user.id,
            stage: stage.to_owned(),
            csrf_token: random_token(24),
            expires_at: OffsetDateTime::now_utc()
                + time::Duration::hours(settings.session_absolute_hours),
            source: ctx.ip.0.clone(),
            user_agent: ctx.user_agent.clone(),
        },
    )
    .await?;
    tx.audit(
        action,
        "user",
        &user.username,
        None,
        Some(serde_json::json!({"stage": stage})),
    )
    .await?;
    ctx.state.commit(tx).await?;
    Ok(value)
}

fn with_session_cookie(ctx: &Ctx, mut res: Response, value: &str) -> Response {
    let tls = ctx.state.config.tls;
    res.headers_mut().append(
        header::SET_COOKIE,
        set_cookie(tls, cookie_names(tls).session, value, None),
    );
    res
}

/// POST `/login`.
pub async fn submit(ctx: Ctx, Form(form): Form<LoginForm>) -> AppResult<Response> {
    let username = form.username.trim().to_owned();
    let next = safe_next(form.next.as_deref());
    let fail = |ctx: &Ctx, status: StatusCode, message: String| {
        let page = LoginPage {
            c: ctx.chrome(),
            username: username.clone(),
            next: next.clone(),
            error: Some(message),
        };
        ctx.page_with_status(status, &page)
    };
    if username.is_empty()
        || form.password.is_empty()
        || username.len() > 64
        || form.password.len() > 1024
    {
        return Ok(fail(
            &ctx,
            StatusCode::UNPROCESSABLE_ENTITY,
            tr(ctx.lang, "login-missing"),
        ));
    }
    if let Some(until) = locked_until(&ctx, &username).await? {
        tracing::info!(source = %ctx.ip.0, "login refused while locked");
        return Ok(fail(
            &ctx,
            StatusCode::TOO_MANY_REQUESTS,
            locked_message(&ctx, until),
        ));
    }
    let user = ctx.state.store.user_by_username(&username).await?;
    let hash = user.as_ref().map_or_else(
        || credentials::dummy_hash().to_owned(),
        |u| u.password_hash.clone(),
    );
    let password_ok = credentials::verify_password_blocking(form.password.clone(), hash).await;
    let active = match &user {
        Some(u) if !u.disabled => match u.person_id {
            Some(pid) => {
                let left_on = ctx.state.store.person(pid).await?.and_then(|p| p.left_on);
                !crate::session::has_left(
                    left_on.as_deref(),
                    &ctx.settings,
                    OffsetDateTime::now_utc(),
                )
            }
            None => true,
        },
        _ => false,
    };
    let Some(user) = user.filter(|_| password_ok && active) else {
        let reason = if !password_ok {
            "bad_credentials"
        } else {
            "inactive"
        };
        record_failure(&ctx, &username, "login.failure", reason).await?;
        return Ok(fail(
            &ctx,
            StatusCode::UNAUTHORIZED,
            tr(ctx.lang, "login-failed"),
        ));
    };
    let old = ctx
        .principal
        .as_deref()
        .and_then(|p| p.session())
        .map(|s| s.id_hash.clone());
    let (stage, action, to) = if user.totp_enabled {
        (
            "mfa",
            "login.password_ok",
            format!(
                "/login/mfa?next={}",
                serde_urlencoded::to_string([("", &next)])
                    .unwrap_or_default()
                    .trim_start_matches('=')
            ),
        )
    } else {
        ("full", "login.success", next.clone())
    };
    let value = start_session(&ctx, &user, stage, old.as_deref(), action).await?;
    Ok(with_session_cookie(
        &ctx,
        Redirect::to(&to).into_response(),
        &value,
    ))
}

/// GET `/login/mfa`.
pub async fn mfa_form(ctx: Ctx, Query(q): Query<NextQuery>) -> Response {
    let page = MfaPage {
        c: ctx.chrome(),
        next: safe_next(q.next.as_deref()),
        error: None,
    };
    ctx.page(&page)
}

/// POST `/login/mfa`: a TOTP code (each accepted once) or a recovery code.
pub async fn mfa_submit(ctx: Ctx, Form(form): Form<MfaForm>) -> AppResult<Response> {
    let p = ctx.principal()?.clone();
    let next = safe_next(form.next.as_deref());
    let fail = |ctx: &Ctx, status: StatusCode, message: String| {
        let page = MfaPage {
            c: ctx.chrome(),
            next: next.clone(),
            error: Some(message),
        };
        ctx.page_with_status(status, &page)
    };
    if let Some(until) = locked_until(&ctx, &p.user.username).await? {
        return Ok(fail(
            &ctx,
            StatusCode::TOO_MANY_REQUESTS,
            locked_message(&ctx, until),
        ));
    }
    let code: String = mamori_domain::wareki::fold_fullwidth(&form.code)
        .chars()
        .filter(|c| !c.is_whitespace())
        .collect();
    let mut tx = ctx.state.store.begin(p.actor(&ctx.ip)).await?;
    let mut used_recovery = false;
    let accepted = match (p.user.totp_secret.as_deref(), code.len()) {
        (Some(secret), 6) => match totp::matching_step(
            secret,
            &code,
            OffsetDateTime::now_utc().unix_timestamp() as u64,
        ) {
            Some(step) => Store::consume_totp_step(&mut tx, p.user.id, step).await?,
            None => false,
        },
        (_, n) if n >= 10 => {
            used_recovery =
                Store::consume_recovery_code(&mut tx, p.user.id, &recovery_code_hash(&code))
                    .await?;
            used_recovery
        }
        _ => false,
    };
    if !accepted {
        drop(tx);
        record_failure(&ctx, &p.user.username, "login.mfa_failure", "bad_code").await?;
        return Ok(fail(
            &ctx,
            StatusCode::UNAUTHORIZED,
            tr(ctx.lang, "mfa-code-wrong"),
        ));
    }
    if used_recovery {
        tx.audit(
            "mfa.recovery_code_used",
            "user",
            &p.user.username,
            None,
            None,
        )
        .await?;
        ctx.state.commit(tx).await?;
    } else {
        tx.audit("mfa.code_accepted", "user", &p.user.username, None, None)
            .await?;
        ctx.state.commit(tx).await?;
    }
    let old = p.session().map(|s| s.id_hash.clone());
    let value = start_session(&ctx, &p.user, "full", old.as_deref(), "login.success").await?;
    Ok(with_session_cookie(
        &ctx,
        Redirect::to(&next).into_response(),
        &value,
    ))
}

/// POST `/logout`: ends the session on the server.
pub async fn logout(ctx: Ctx) -> AppResult<Response> {
    let p = ctx.principal()?;
    if let Some(s) = p.session() {
        let mut tx = ctx.state.store.begin(p.actor(&ctx.ip)).await?;
        Store::delete_session(&mut tx, &s.id_hash).await?;
        tx.audit("logout", "user", &p.user.username, None, None)
            .await?;
        ctx.state.commit(tx).await?;
    }
    Ok(ctx.logged_out())
}
