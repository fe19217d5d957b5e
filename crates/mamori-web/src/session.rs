//! Who is asking: browser sessions (cookie) and API tokens (bearer), loaded once per request.
//!
//! Session cookies hold 128+ random bits; the database holds only their SHA-256. A session
//! ends after the organisation's idle timeout or absolute lifetime, at logout, or when revoked.
//! Last-seen times are written at most once a minute per session, so reading pages does not
//! queue a write per request.

use crate::credentials::sha256_hex;
use crate::error::AppError;
use crate::i18n::Lang;
use crate::net::{client_ip, ClientIp};
use crate::AppState;
use axum::extract::{ConnectInfo, Request, State};
use axum::http::{header, HeaderMap, HeaderValue};
use axum::middleware::Next;
use axum::response::{IntoResponse, Response};
use mamori_domain::authz::{Grants, Target};
use mamori_domain::permission::Permission;
use mamori_domain::settings::OrgSettings;
use mamori_store::{Actor, ApiTokenRow, SessionRow, Store, UserRow};
use std::net::SocketAddr;
use std::sync::Arc;
use time::OffsetDateTime;

/// The data version this request was served at (see [`crate::cache`]).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct DataVersion(pub i64);

/// How the principal authenticated.
#[derive(Debug, Clone)]
pub enum Auth {
    /// A browser session.
    Session(SessionRow),
    /// An API token.
    Token(ApiTokenRow),
}

/// The authenticated account making a request, with its permissions.
#[derive(Debug, Clone)]
pub struct Principal {
    /// The account.
    pub user: UserRow,
    /// What it may do, where.
    pub grants: Grants,
    /// Role codes held (for display and the MFA policy).
    pub roles: Vec<String>,
    /// Session or token.
    pub auth: Auth,
    /// The person's 離任日, if the account belongs to a person who has one.
    pub left_on: Option<String>,
}

/// What a browser session must do before anything else.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Gate {
    /// Nothing: full access per permissions.
    Open,
    /// The password was accepted; the second factor is pending.
    PendingMfa,
    /// The one-time password must be changed.
    ChangePassword,
    /// The account's roles require MFA, and it is not enrolled.
    EnrolMfa,
}

impl Principal {
    /// May the principal use `permission` on `target`?
    pub fn can(&self, permission: Permission, target: &Target<'_>) -> bool {
        self.grants.allows(permission, target)
    }

    /// Like [`Principal::can`], as an error for handlers.
    pub fn require(&self, permission: Permission, target: &Target<'_>) -> Result<(), AppError> {
        if self.can(permission, target) {
            Ok(())
        } else {
            Err(AppError::Forbidden)
        }
    }

    /// The session, if this is a browser request.
    pub fn session(&self) -> Option<&SessionRow> {
        match &self.auth {
            Auth::Session(s) => Some(s),
            Auth::Token(_) => None,
        }
    }

    /// An actor for audit entries.
    pub fn actor(&self, source: &ClientIp) -> Actor {
        Actor {
            name: self.user.username.clone(),
            source: source.0.clone(),
        }
    }

    /// Whether the organisation's MFA policy applies to this account.
    pub fn mfa_required(&self, settings: &OrgSettings) -> bool {
        self.roles
            .iter()
            .any(|r| settings.mfa_required_roles.contains(r))
    }

    /// What a browser session must do first. Tokens are never gated (see `INTERCHANGE.md`).
    pub fn gate(&self, settings: &OrgSettings) -> Gate {
        let Some(session) = self.session() else {
            return Gate::Open;
        };
        if session.stage == "mfa" {
            Gate::PendingMfa
        } else if self.user.must_change_password {
            Gate::ChangePassword
        } else if self.mfa_required(settings) && !self.user.totp_enabled {
            Gate::EnrolMfa
        } else {
            Gate::Open
        }
    }
}

/// Cookie names: `__Host-` prefixed (and `Secure`) when served over TLS.
pub struct CookieNames {
    /// The session cookie.
    pub session: &'static str,
    /// The pre-session CSRF cookie (login form).
    pub csrf: &'static str,
}

/// The cookie names for this deployment.
pub fn cookie_names(tls: bool) -> CookieNames {
    if tls {
        CookieNames {
            session: "__Host-mamori_session",
            csrf: "__Host-mamori_csrf",
        }
    } else {
        CookieNames {
            session: "mamori_session",
            csrf: "mamori_csrf",
        }
    }
}

/// A cookie's value from the request.
pub fn cookie<'a>(headers: &'a HeaderMap, name: &str) -> Option<&'a str> {
    headers
        .get_all(header::COOKIE)
        .iter()
        .filter_map(|v| v.to_str().ok())
        .flat_map(|v| v.split(';'))
        .filter_map(|pair| pair.trim().split_once('='))
        .find(|(k, _)| *k == name)
        .map(|(_, v)| v)
}

/// A `Set-Cookie` value: HttpOnly, SameSite=Lax, Path=/, Secure when TLS; `max_age` 0 clears.
pub fn set_cookie(tls: bool, name: &str, value: &str, max_age: Option<i64>) -> HeaderValue {
    let mut s = format!("{name}={value}; Path=/; HttpOnly; SameSite=Lax");
    if tls {
        s.push_str("; Secure");
    }
    if let Some(age) = max_age {
        s.push_str(&format!("; Max-Age={age}"));
    }
    HeaderValue::from_str(&s).unwrap_or_else(|_| HeaderValue::from_static("invalid=; Max-Age=0"))
}

/// Loads the principal (if any), the client address and the language into the request's
/// extensions.
pub async fn load_principal(
    State(state): State<AppState>,
    mut req: Request,
    next: Next,
) -> Response {
    // Embedded assets are the same for everyone: no database work for them.
    if req.uri().path().starts_with("/static/") {
        return next.run(req).await;
    }
    let peer = req
        .extensions()
        .get::<ConnectInfo<SocketAddr>>()
        .map(|c| c.0);
    let forwarded = req
        .headers()
        .get("x-forwarded-for")
        .and_then(|v| v.to_str().ok());
    let ip = ClientIp(client_ip(peer, forwarded, &state.config.trusted_proxies));
    req.extensions_mut().insert(ip.clone());

    let settings = match state.settings().await {
        Ok(s) => s,
        Err(e) => return AppError::Internal(e.to_string()).into_response(),
    };
    let version = match state.store.data_version().await {
        Ok(v) => DataVersion(v),
        Err(e) => return AppError::Internal(e.to_string()).into_response(),
    };
    req.extensions_mut().insert(version);
    let mut clear_session_cookie = false;
    let principal = match authenticate(&state, req.headers(), &settings, version).await {
        Ok(Some(p)) => Some(p),
        Ok(None) => None,
        Err(AuthFailure::BadToken) => return AppError::Unauthorized.into_response(),
        Err(AuthFailure::Expired) => {
            clear_session_cookie = true;
            None
        }
        Err(AuthFailure::Store(e)) => return AppError::Internal(e).into_response(),
    };

    // Language: ?lang= overrides and is remembered (per user, or in a cookie when anonymous).
    let asked = req
        .uri()
        .query()
        .and_then(|q| serde_urlencoded::from_str::<Vec<(String, String)>>(q).ok())
        .and_then(|pairs| pairs.into_iter().find(|(k, _)| k == "lang").map(|(_, v)| v))
        .and_then(|v| v.parse::<Lang>().ok());
    let mut remember_lang = None;
    let lang = match (&asked, &principal) {
        (Some(l), Some(p)) => {
            if p.user.lang != l.code() && p.session().is_some() {
                if let Err(e) = remember_user_lang(&state, p, *l, &ip).await {
                    tracing::warn!(error = %e, "could not save the language choice");
                }
            }
            *l
        }
        (Some(l), None) => {
            remember_lang = Some(*l);
            *l
        }
        (None, Some(p)) => p.user.lang.parse().unwrap_or_default(),
        (None, None) => cookie(req.headers(), "mamori_lang")
            .and_then(|v| v.parse().ok())
            .unwrap_or_default(),
    };
    req.extensions_mut().insert(lang);
    req.extensions_mut().insert(Arc::new(settings));
    if let Some(p) = principal {
        req.extensions_mut().insert(p);
    }
    let mut res = next.run(req).await;
    res.extensions_mut().insert(lang);
    if clear_session_cookie {
        let names = cookie_names(state.config.tls);
        res.headers_mut().append(
            header::SET_COOKIE,
            set_cookie(state.config.tls, names.session, "", Some(0)),
        );
    }
    if let Some(l) = remember_lang {
        res.headers_mut().append(
            header::SET_COOKIE,
            set_cookie(
                state.config.tls,
                "mamori_lang",
                l.code(),
                Some(365 * 24 * 3600),
            ),
        );
    }
    res
}

async fn remember_user_lang(
    state: &AppState,
    p: &Principal,
    lang: Lang,
    ip: &ClientIp,
) -> Result<(), AppError> {
    let mut tx = state.store.begin(p.actor(ip)).await?;
    Store::set_user_lang(&mut tx, p.user.id, lang.code()).await?;
    state.commit(tx).await?;
    Ok(())
}

enum AuthFailure {
    BadToken,
    Expired,
    Store(String),
}

impl From<mamori_store::StoreError> for AuthFailure {
    fn from(e: mamori_store::StoreError) -> Self {
        AuthFailure::Store(e.to_string())
    }
}

async fn load_token_principal(
    state: &AppState,
    hash: &str,
    now: OffsetDateTime,
) -> Result<Principal, AuthFailure> {
    let row = state
        .store
        .token_by_hash(hash, now)
        .await?
        .ok_or(AuthFailure::BadToken)?;
    let user = state
        .store
        .user(row.user_id)
        .await?
        .filter(|u| !u.disabled)
        .ok_or(AuthFailure::BadToken)?;
    let left_on = match user.person_id {
        Some(pid) => state.store.person(pid).await?.and_then(|p| p.left_on),
        None => None,
    };
    let (grants, roles) = state.store.grants_for_user(user.id).await?;
    let grants = if row.read_only {
        grants.read_only()
    } else {
        grants
    };
    Ok(Principal {
        user,
        grants,
        roles,
        auth: Auth::Token(row),
        left_on,
    })
}

async fn authenticate(
    state: &AppState,
    headers: &HeaderMap,
    settings: &OrgSettings,
    version: DataVersion,
) -> Result<Option<Arc<Principal>>, AuthFailure> {
    let now = OffsetDateTime::now_utc();
    if let Some(auth) = headers.get(header::AUTHORIZATION) {
        let token = auth
            .to_str()
            .ok()
            .and_then(|v| {
                v.strip_prefix("Bearer ")
                    .or_else(|| v.strip_prefix("bearer "))
            })
            .map(str::trim)
            .filter(|t| !t.is_empty() && t.len() <= 200)
            .ok_or(AuthFailure::BadToken)?;
        let hash = sha256_hex(token);
        // A revocation, a role or account change appends to the trail and so changes the
        // version: a cached principal is exactly what the database would give now, except
        // for time, which is checked here.
        let principal = match state.principals.get(&hash, version.0) {
            Some(p) => p,
            None => Arc::new(load_token_principal(state, &hash, now).await?),
        };
        let Auth::Token(row) = &principal.auth else {
            return Err(AuthFailure::BadToken);
        };
        // A person who has left loses API access too, even on a cached principal.
        if has_left(principal.left_on.as_deref(), settings, now) {
            return Err(AuthFailure::BadToken);
        }
        if row
            .expires_at
            .as_deref()
            .and_then(mamori_store::parse_ts)
            .is_some_and(|t| t <= now)
        {
            return Err(AuthFailure::BadToken);
        }
        // Record use at most once a minute, deciding in memory so reads do not write.
        let stale = row
            .last_used_at
            .as_deref()
            .and_then(mamori_store::parse_ts)
            .is_none_or(|t| now - t > time::Duration::minutes(1));
        let principal = if stale {
            if let Err(e) = state.store.touch_token(row.id, now).await {
                tracing::warn!(error = %e, "could not record token use");
            }
            let mut touched = (*principal).clone();
            if let Auth::Token(t) = &mut touched.auth {
                t.last_used_at = Some(mamori_store::format_ts(now));
            }
            Arc::new(touched)
        } else {
            principal
        };
        state.principals.insert(hash, version.0, principal.clone());
        return Ok(Some(principal));
    }
    let names = cookie_names(state.config.tls);
    let Some(value) = cookie(headers, names.session) else {
        return Ok(None);
    };
    if value.len() > 100 {
        return Err(AuthFailure::Expired);
    }
    let hash = sha256_hex(value);
    let Some(session) = state.store.session(&hash).await? else {
        return Err(AuthFailure::Expired);
    };
    let idle = time::Duration::minutes(settings.session_idle_minutes);
    if session.expires_at <= now || session.last_seen_at + idle <= now {
        return Err(AuthFailure::Expired);
    }
    let Some(user) = state
        .store
        .user(session.user_id)
        .await?
        .filter(|u| !u.disabled)
    else {
        return Err(AuthFailure::Expired);
    };
    let left_on = match user.person_id {
        Some(pid) => state.store.person(pid).await?.and_then(|p| p.left_on),
        None => None,
    };
    if has_left(left_on.as_deref(), settings, now) {
        return Err(AuthFailure::Expired);
    }
    // Last-seen moves at most once a minute, decided in memory: reading pages does not write.
    if now - session.last_seen_at > time::Duration::minutes(1) {
        state
            .store
            .touch_session(&hash, now, now - time::Duration::minutes(1))
            .await?;
    }
    let (grants, roles) = state.store.grants_for_user(user.id).await?;
    Ok(Some(Arc::new(Principal {
        user,
        grants,
        roles,
        auth: Auth::Session(session),
        left_on,
    })))
}

/// True when a 離任日 has passed in the organisation's time zone: the person may no longer
/// log in or use tokens.
pub fn has_left(left_on: Option<&str>, settings: &OrgSettings, now: OffsetDateTime) -> bool {
    let Some(left) = left_on else { return false };
    let today = mamori_domain::settings::local_date(now.unix_timestamp(), &settings.time_zone);
    match (today, mamori_domain::wareki::parse_date(left)) {
        (Some(today), Ok(left)) => left < today,
        _ => false,
    }
}
