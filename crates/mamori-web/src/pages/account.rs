//! The account's own pages: password, MFA, language, sessions, API tokens.
//!
//! Changing the password or MFA needs the current password again (re-authentication), even
//! within a session.

use crate::credentials::{self, recovery_code_hash, recovery_codes, totp};
use crate::error::{AppError, AppResult};
use crate::i18n::{tr, Lang};
use crate::session::Principal;
use crate::view::{Chrome, Ctx, FormErrors};
use askama::Template;
use axum::extract::Path;
use axum::http::StatusCode;
use axum::response::{IntoResponse, Redirect, Response};
use axum::Form;
use mamori_domain::password::check_password;
use mamori_store::{ApiTokenRow, SessionRow, Store};
use serde::Deserialize;
use time::OffsetDateTime;

/// How long a re-authentication lets MFA enrolment be confirmed.
const REAUTH_WINDOW: time::Duration = time::Duration::minutes(10);

#[derive(Template)]
#[template(path = "password.html")]
struct PasswordPage {
    c: Chrome,
    forced: bool,
    errors: FormErrors,
}

/// The password form.
#[derive(Debug, Deserialize)]
pub struct PasswordForm {
    #[serde(default)]
    current: String,
    #[serde(default)]
    new_password: String,
    #[serde(default)]
    confirm: String,
}

/// GET `/account/password`.
pub async fn password_form(ctx: Ctx) -> AppResult<Response> {
    let p = ctx.principal()?;
    let page = PasswordPage {
        c: ctx.chrome(),
        forced: p.user.must_change_password,
        errors: FormErrors::default(),
    };
    Ok(ctx.page(&page))
}

/// Checks the current password as re-authentication, auditing a failure.
async fn reauthenticate(ctx: &Ctx, p: &Principal, password: &str) -> AppResult<bool> {
    let ok = !password.is_empty()
        && password.len() <= 1024
        && credentials::verify_password_blocking(password.to_owned(), p.user.password_hash.clone())
            .await;
    let mut tx = ctx.state.store.begin(p.actor(&ctx.ip)).await?;
    if ok {
        if let Some(s) = p.session() {
            Store::mark_reauth(&mut tx, &s.id_hash, OffsetDateTime::now_utc()).await?;
        }
        tx.audit("reauth.success", "user", &p.user.username, None, None)
            .await?;
    } else {
        Store::record_login_failure(
            &mut tx,
            &format!("user:{}", p.user.username.to_lowercase()),
            OffsetDateTime::now_utc(),
        )
        .await?;
        tx.audit("reauth.failure", "user", &p.user.username, None, None)
            .await?;
    }
    ctx.state.commit(tx).await?;
    Ok(ok)
}

/// POST `/account/password`.
pub async fn password_submit(ctx: Ctx, Form(form): Form<PasswordForm>) -> AppResult<Response> {
    let p = ctx.principal()?.clone();
    let mut errors = FormErrors::default();
    if !reauthenticate(&ctx, &p, &form.current).await? {
        errors.add(ctx.lang, "current", "password-current-wrong");
    }
    if let Err(problem) = check_password(&form.new_password, &p.user.username) {
        errors.add(ctx.lang, "new_password", problem.message_id());
    } else if form.new_password == form.current {
        errors.add(ctx.lang, "new_password", "password-same-as-old");
    }
    if form.new_password != form.confirm {
        errors.add(ctx.lang, "confirm", "password-mismatch");
    }
    if !errors.is_empty() {
        let page = PasswordPage {
            c: ctx.chrome(),
            forced: p.user.must_change_password,
            errors,
        };
        return Ok(ctx.page_with_status(StatusCode::UNPROCESSABLE_ENTITY, &page));
    }
    let hash = credentials::hash_password_blocking(form.new_password)
        .await
        .map_err(AppError::Internal)?;
    let mut tx = ctx.state.store.begin(p.actor(&ctx.ip)).await?;
    Store::set_password(
        &mut tx,
        p.user.id,
        &hash,
        false,
        p.session().map(|s| s.id_hash.as_str()),
    )
    .await?;
    ctx.state.commit(tx).await?;
    Ok(ctx.redirect_flash("/", "flash-password-changed"))
}

#[derive(Template)]
#[template(path = "mfa.html")]
struct MfaPage {
    c: Chrome,
    enabled: bool,
    required: bool,
    /// Enrolment in progress: (QR SVG, secret).
    enrolling: Option<(String, String)>,
    /// Freshly issued recovery codes, shown once.
    new_codes: Vec<String>,
    unused_codes: i64,
    errors: FormErrors,
}

impl MfaPage {
    async fn new(ctx: &Ctx, p: &Principal) -> AppResult<MfaPage> {
        Ok(MfaPage {
            c: ctx.chrome(),
            enabled: p.user.totp_enabled,
            required: p.mfa_required(&ctx.settings),
            enrolling: None,
            new_codes: Vec::new(),
            unused_codes: ctx.state.store.unused_recovery_codes(p.user.id).await?,
            errors: FormErrors::default(),
        })
    }
}

/// A form with the current password.
#[derive(Debug, Deserialize)]
pub struct PasswordOnly {
    #[serde(default)]
    password: String,
}

/// A TOTP code.
#[derive(Debug, Deserialize)]
pub struct CodeForm {
    #[serde(default)]
    code: String,
}

/// GET `/account/mfa`.
pub async fn mfa_page(ctx: Ctx) -> AppResult<Response> {
    let p = ctx.principal()?;
    Ok(ctx.page(&MfaPage::new(&ctx, p).await?))
}

fn enrolment_view(ctx: &Ctx, p: &Principal, secret: &str) -> (String, String) {
    let uri = totp::otpauth_uri(
        secret,
        &format!("Mamori {}", ctx.settings.name),
        &p.user.username,
    );
    let grouped: Vec<String> = secret
        .as_bytes()
        .chunks(4)
        .map(|c| String::from_utf8_lossy(c).into_owned())
        .collect();
    (totp::qr_svg(&uri).unwrap_or_default(), grouped.join(" "))
}

/// POST `/account/mfa/setup`: re-authenticate, then show a new secret as a QR code.
pub async fn mfa_setup(ctx: Ctx, Form(form): Form<PasswordOnly>) -> AppResult<Response> {
    let p = ctx.principal()?.clone();
    let mut page = MfaPage::new(&ctx, &p).await?;
    if !reauthenticate(&ctx, &p, &form.password).await? {
        page.errors
            .add(ctx.lang, "password", "password-current-wrong");
        return Ok(ctx.page_with_status(StatusCode::UNPROCESSABLE_ENTITY, &page));
    }
    let secret = totp::new_secret();
    let mut tx = ctx.state.store.begin(p.actor(&ctx.ip)).await?;
    Store::begin_totp(&mut tx, p.user.id, &secret).await?;
    ctx.state.commit(tx).await?;
    // MFA stays as it was until the new secret is confirmed (switching phones is safe).
    page.enrolling = Some(enrolment_view(&ctx, &p, &secret));
    Ok(ctx.page(&page))
}

/// POST `/account/mfa/confirm`: the first code from the app turns MFA on.
pub async fn mfa_confirm(ctx: Ctx, Form(form): Form<CodeForm>) -> AppResult<Response> {
    let p = ctx.principal()?.clone();
    let mut page = MfaPage::new(&ctx, &p).await?;
    let fresh = p
        .session()
        .and_then(|s| s.reauth_at)
        .is_some_and(|t| OffsetDateTime::now_utc() - t < REAUTH_WINDOW);
    let Some(secret) = p.user.totp_pending_secret.clone().filter(|_| fresh) else {
        page.errors.add(ctx.lang, "password", "mfa-start-again");
        return Ok(ctx.page_with_status(StatusCode::UNPROCESSABLE_ENTITY, &page));
    };
    let code = mamori_domain::wareki::fold_fullwidth(&form.code);
    let Some(step) = totp::matching_step(
        &secret,
        &code,
        OffsetDateTime::now_utc().unix_timestamp() as u64,
    ) else {
        page.errors.add(ctx.lang, "code", "mfa-code-wrong");
        page.enrolling = Some(enrolment_view(&ctx, &p, &secret));
        return Ok(ctx.page_with_status(StatusCode::UNPROCESSABLE_ENTITY, &page));
    };
    let codes = recovery_codes();
    let hashes: Vec<String> = codes.iter().map(|c| recovery_code_hash(c)).collect();
    let mut tx = ctx.state.store.begin(p.actor(&ctx.ip)).await?;
    Store::enable_totp(&mut tx, p.user.id, step, &hashes).await?;
    ctx.state.commit(tx).await?;
    page.enabled = true;
    page.unused_codes = codes.len() as i64;
    page.new_codes = codes;
    page.c.flash = Some(tr(ctx.lang, "flash-mfa-enabled"));
    Ok(ctx.page(&page))
}

/// POST `/account/mfa/disable`.
pub async fn mfa_disable(ctx: Ctx, Form(form): Form<PasswordOnly>) -> AppResult<Response> {
    let p = ctx.principal()?.clone();
    let mut page = MfaPage::new(&ctx, &p).await?;
    if page.required {
        page.errors
            .add(ctx.lang, "password", "mfa-required-cannot-disable");
        return Ok(ctx.page_with_status(StatusCode::UNPROCESSABLE_ENTITY, &page));
    }
    if !reauthenticate(&ctx, &p, &form.password).await? {
        page.errors
            .add(ctx.lang, "password", "password-current-wrong");
        return Ok(ctx.page_with_status(StatusCode::UNPROCESSABLE_ENTITY, &page));
    }
    let mut tx = ctx.state.store.begin(p.actor(&ctx.ip)).await?;
    Store::disable_totp(&mut tx, p.user.id).await?;
    ctx.state.commit(tx).await?;
    Ok(ctx.redirect_flash("/account/mfa", "flash-mfa-disabled"))
}

/// POST `/account/mfa/recovery`: new recovery codes (the old ones stop working).
pub async fn mfa_recovery(ctx: Ctx, Form(form): Form<PasswordOnly>) -> AppResult<Response> {
    let p = ctx.principal()?.clone();
    let mut page = MfaPage::new(&ctx, &p).await?;
    if !p.user.totp_enabled {
        return Ok(Redirect::to("/account/mfa").into_response());
    }
    if !reauthenticate(&ctx, &p, &form.password).await? {
        page.errors
            .add(ctx.lang, "recovery_password", "password-current-wrong");
        return Ok(ctx.page_with_status(StatusCode::UNPROCESSABLE_ENTITY, &page));
    }
    let codes = recovery_codes();
    let hashes: Vec<String> = codes.iter().map(|c| recovery_code_hash(c)).collect();
    let mut tx = ctx.state.store.begin(p.actor(&ctx.ip)).await?;
    Store::replace_recovery_codes(&mut tx, p.user.id, &hashes).await?;
    tx.audit(
        "mfa.recovery_codes_replaced",
        "user",
        &p.user.username,
        None,
        None,
    )
    .await?;
    ctx.state.commit(tx).await?;
    page.unused_codes = codes.len() as i64;
    page.new_codes = codes;
    Ok(ctx.page(&page))
}

/// The language form.
#[derive(Debug, Deserialize)]
pub struct LanguageForm {
    lang: String,
    back: Option<String>,
}

/// POST `/account/language`: remembered for the account.
pub async fn language(ctx: Ctx, Form(form): Form<LanguageForm>) -> AppResult<Response> {
    let p = ctx.principal()?;
    let lang: Lang = form
        .lang
        .parse()
        .map_err(|_| AppError::BadRequest("error-bad-request"))?;
    let mut tx = ctx.state.store.begin(p.actor(&ctx.ip)).await?;
    Store::set_user_lang(&mut tx, p.user.id, lang.code()).await?;
    ctx.state.commit(tx).await?;
    Ok(Redirect::to(&super::safe_next(form.back.as_deref())).into_response())
}

#[derive(Template)]
#[template(path = "sessions.html")]
struct SessionsPage {
    c: Chrome,
    sessions: Vec<SessionRow>,
    current: String,
}

/// GET `/account/sessions`.
pub async fn sessions(ctx: Ctx) -> AppResult<Response> {
    let p = ctx.principal()?;
    let sessions = ctx.state.store.sessions_for_user(p.user.id).await?;
    let current = p
        .session()
        .map(|s| s.public_id().to_owned())
        .unwrap_or_default();
    Ok(ctx.page(&SessionsPage {
        c: ctx.chrome(),
        sessions,
        current,
    }))
}

/// POST `/account/sessions/{id}/revoke`: ends one of the account's sessions.
pub async fn revoke_session(ctx: Ctx, Path(public_id): Path<String>) -> AppResult<Response> {
    let p = ctx.principal()?;
    let sessions = ctx.state.store.sessions_for_user(p.user.id).await?;
    let target = sessions
        .iter()
        .find(|s| s.public_id() == public_id)
        .ok_or(AppError::NotFound)?;
    let mut tx = ctx.state.store.begin(p.actor(&ctx.ip)).await?;
    Store::delete_session(&mut tx, &target.id_hash).await?;
    tx.audit(
        "session.revoke",
        "user",
        &p.user.username,
        None,
        Some(serde_json::json!({"session": public_id})),
    )
    .await?;
    ctx.state.commit(tx).await?;
    let is_current = p.session().is_some_and(|s| s.id_hash == target.id_hash);
    if is_current {
        return Ok(ctx.logged_out());
    }
    Ok(ctx.redirect_flash("/account/sessions", "flash-session-revoked"))
}

#[derive(Template)]
#[template(path = "tokens.html")]
struct TokensPage {
    c: Chrome,
    tokens: Vec<ApiTokenRow>,
    new_token: Option<String>,
    errors: FormErrors,
}

/// The new-token form.
#[derive(Debug, Deserialize)]
pub struct TokenForm {
    #[serde(default)]
    label: String,
    #[serde(default)]
    expires_days: String,
    read_only: Option<String>,
}

/// GET `/account/tokens`.
pub async fn tokens(ctx: Ctx) -> AppResult<Response> {
    let p = ctx.principal()?;
    let tokens = ctx.state.store.tokens_for_user(p.user.id).await?;
    Ok(ctx.page(&TokensPage {
        c: ctx.chrome(),
        tokens,
        new_token: None,
        errors: FormErrors::default(),
    }))
}

/// POST `/account/tokens`: the token is shown once.
pub async fn create_token(ctx: Ctx, Form(form): Form<TokenForm>) -> AppResult<Response> {
    let p = ctx.principal()?.clone();
    let mut errors = FormErrors::default();
    let label = form.label.trim().to_owned();
    if label.chars().count() > 100 {
        errors.add(ctx.lang, "label", "error-too-long");
    }
    let days = mamori_domain::wareki::fold_fullwidth(form.expires_days.trim());
    let expires = if days.is_empty() {
        None
    } else {
        match days.parse::<i64>() {
            Ok(d) if (1..=3650).contains(&d) => {
                Some(OffsetDateTime::now_utc() + time::Duration::days(d))
            }
            _ => {
                errors.add(ctx.lang, "expires_days", "token-expiry-range");
                None
            }
        }
    };
    if !errors.is_empty() {
        let tokens = ctx.state.store.tokens_for_user(p.user.id).await?;
        let page = TokensPage {
            c: ctx.chrome(),
            tokens,
            new_token: None,
            errors,
        };
        return Ok(ctx.page_with_status(StatusCode::UNPROCESSABLE_ENTITY, &page));
    }
    let (token, prefix) = credentials::new_api_token();
    let mut tx = ctx.state.store.begin(p.actor(&ctx.ip)).await?;
    Store::create_token(
        &mut tx,
        &p.user,
        &label,
        &credentials::sha256_hex(&token),
        &prefix,
        form.read_only.is_some(),
        expires,
    )
    .await?;
    ctx.state.commit(tx).await?;
    let tokens = ctx.state.store.tokens_for_user(p.user.id).await?;
    let mut page = TokensPage {
        c: ctx.chrome(),
        tokens,
        new_token: Some(token),
        errors: FormErrors::default(),
    };
    page.c.flash = Some(tr(ctx.lang, "flash-token-created"));
    Ok(ctx.page(&page))
}

/// POST `/account/tokens/{id}/revoke`.
pub async fn revoke_token(ctx: Ctx, Path(id): Path<i64>) -> AppResult<Response> {
    let p = ctx.principal()?;
    let mut tx = ctx.state.store.begin(p.actor(&ctx.ip)).await?;
    if !Store::revoke_token(&mut tx, &p.user, id).await? {
        return Err(AppError::NotFound);
    }
    ctx.state.commit(tx).await?;
    Ok(ctx.redirect_flash("/account/tokens", "flash-token-revoked"))
}
