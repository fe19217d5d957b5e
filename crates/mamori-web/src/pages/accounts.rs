//! Issuing accounts for a unit's people, and the printable distribution sheet of their
//! one-time passwords (see [`crate::accounts`]). Needs `accounts.manage`.

use crate::accounts::{candidates, issue, Issued, Skipped};
use crate::error::{AppError, AppResult};
use crate::view::{Chrome, Ctx};
use askama::Template;
use axum::extract::Query;
use axum::http::{header, HeaderValue};
use axum::response::Response;
use axum::Form;
use mamori_domain::interchange::values::fold;
use mamori_store::{PersonRow, UnitRow};
use serde::Deserialize;

#[derive(Template)]
#[template(path = "accounts_issue.html")]
struct IssuePage {
    c: Chrome,
    units: Vec<UnitRow>,
    unit: String,
    eligible: Vec<PersonRow>,
    skipped: Vec<Skipped>,
}

#[derive(Template)]
#[template(path = "accounts_sheet.html")]
struct SheetPage {
    c: Chrome,
    issued: Vec<Issued>,
    login_url: String,
    issued_on: String,
}

/// The login address as this request reached the server (what staff type in).
fn login_url(headers: &axum::http::HeaderMap, tls: bool) -> String {
    let host = headers
        .get(header::HOST)
        .and_then(|h| h.to_str().ok())
        .filter(|h| h.len() < 256 && h.bytes().all(|b| b.is_ascii_graphic()))
        .unwrap_or("localhost");
    format!("{}://{host}/login", if tls { "https" } else { "http" })
}

/// The unit chosen.
#[derive(Debug, Deserialize)]
pub struct UnitQuery {
    #[serde(default)]
    unit: String,
}

async fn scope(ctx: &Ctx, unit: &str) -> AppResult<Option<UnitRow>> {
    let code = fold(unit);
    if code.is_empty() {
        return Ok(None);
    }
    ctx.state
        .store
        .unit_by_code(&code)
        .await?
        .map(Some)
        .ok_or(AppError::BadRequest("error-unknown-unit"))
}

/// GET `/admin/accounts/issue?unit=CODE`: who would get an account (the unit and those
/// beneath it).
pub async fn form(ctx: Ctx, Query(q): Query<UnitQuery>) -> AppResult<Response> {
    let unit = scope(&ctx, &q.unit).await?;
    let (eligible, skipped) = match &unit {
        Some(u) => candidates(&ctx.state.store, &[u.id], ctx.today()).await?,
        None => (Vec::new(), Vec::new()),
    };
    Ok(ctx.page(&IssuePage {
        c: ctx.chrome(),
        units: ctx.state.store.units().await?,
        unit: unit.map(|u| u.code).unwrap_or_default(),
        eligible,
        skipped,
    }))
}

/// POST `/admin/accounts/issue` (`unit`): issues the accounts in one step and shows the
/// distribution sheet — the only time the passwords are shown.
pub async fn submit(
    ctx: Ctx,
    headers: axum::http::HeaderMap,
    Form(q): Form<UnitQuery>,
) -> AppResult<Response> {
    let p = ctx.principal()?;
    let unit = scope(&ctx, &q.unit)
        .await?
        .ok_or(AppError::BadRequest("error-unknown-unit"))?;
    let (eligible, _) = candidates(&ctx.state.store, &[unit.id], ctx.today()).await?;
    if eligible.is_empty() {
        return Ok(ctx.redirect_flash(
            &format!("/admin/accounts/issue?unit={}", unit.code),
            "flash-nothing-to-issue",
        ));
    }
    let mut tx = ctx.state.store.begin(p.actor(&ctx.ip)).await?;
    let issued = issue(&mut tx, eligible, |_| {}).await?;
    ctx.state.commit(tx).await?;
    let mut res = ctx.page(&SheetPage {
        c: ctx.chrome(),
        issued,
        login_url: login_url(&headers, ctx.state.config.tls),
        issued_on: ctx.today().to_string(),
    });
    res.headers_mut()
        .insert(header::CACHE_CONTROL, HeaderValue::from_static("no-store"));
    Ok(res)
}
