//! Server-rendered pages, one module per area. Handlers parse, ask the principal, call the
//! store in a write transaction, and render; rules live in the domain crate.

pub mod account;
pub mod accounts;
pub mod assets;
pub mod audit;
// Catalogue
pub mod catalogue;
// Coverage
pub mod classification;
pub mod coverage;
pub mod import;
pub mod login;
pub mod people;
pub mod policy;
// Risk register
pub mod risks;
pub mod settings;
// Training
pub mod training;
pub mod transfer;
pub mod units;

use crate::error::{AppError, AppResult};
use crate::view::{Chrome, Ctx};
use crate::AppState;
use askama::Template;
use axum::extract::{Path, State};
use axum::http::{header, HeaderValue, StatusCode};
use axum::response::{IntoResponse, Response};

/// `/healthz`: 200 when the database answers.
pub async fn health(State(state): State<AppState>) -> Response {
    if state.store.ping().await {
        (StatusCode::OK, "ok").into_response()
    } else {
        (StatusCode::SERVICE_UNAVAILABLE, "database unavailable").into_response()
    }
}

/// Assets embedded in the binary.
const STATIC_FILES: &[(&str, &str, &[u8])] = &[
    (
        "app.css",
        "text/css; charset=utf-8",
        include_bytes!("../../static/app.css"),
    ),
    (
        "app.js",
        "text/javascript; charset=utf-8",
        include_bytes!("../../static/app.js"),
    ),
    (
        "print.css",
        "text/css; charset=utf-8",
        include_bytes!("../../static/print.css"),
    ),
    (
        "favicon.svg",
        "image/svg+xml",
        include_bytes!("../../static/favicon.svg"),
    ),
];

/// `/static/{file}`.
pub async fn static_file(Path(file): Path<String>) -> Response {
    match STATIC_FILES.iter().find(|(name, _, _)| *name == file) {
        Some((_, mime, body)) => {
            let mut res = body.to_vec().into_response();
            res.headers_mut()
                .insert(header::CONTENT_TYPE, HeaderValue::from_static(mime));
            res.headers_mut().insert(
                header::CACHE_CONTROL,
                HeaderValue::from_static("public, max-age=3600"),
            );
            res
        }
        None => AppError::NotFound.into_response(),
    }
}

#[derive(Template)]
#[template(path = "home.html")]
struct HomePage {
    c: Chrome,
    needs_mfa_suggestion: bool,
    /// Courses assigned to the person and not yet completed (due or overdue), soonest first.
    training: Vec<mamori_store::MyCourse>,
    /// Risk register: acceptances waiting for this CISO's decision.
    risk_decisions: i64,
    /// Risk register: risks due for review in the units where the person records risks.
    risk_reviews: i64,
}

impl HomePage {
    /// Whether there is anything to do.
    fn has_tasks(&self) -> bool {
        self.needs_mfa_suggestion
            || !self.training.is_empty()
            || !self.c.pending_acks.is_empty()
            || self.risk_decisions > 0
            || self.risk_reviews > 0
    }
}

/// `/`: the person's open tasks first.
pub async fn home(ctx: Ctx) -> AppResult<Response> {
    let p = ctx.principal()?;
    let mut training = match p.user.person_id {
        Some(person) => ctx.state.store.my_training(person, ctx.today()).await?,
        None => Vec::new(),
    };
    training.retain(|c| {
        matches!(
            c.status,
            mamori_domain::training::Status::Due | mamori_domain::training::Status::Overdue
        )
    });
    training.sort_by_key(|c| c.due_on);
    let (risk_decisions, risk_reviews) = risk_tasks(&ctx, p).await?;
    let page = HomePage {
        c: ctx.chrome(),
        needs_mfa_suggestion: !p.user.totp_enabled,
        training,
        risk_decisions,
        risk_reviews,
    };
    Ok(ctx.page(&page))
}

/// Risk register: (acceptances waiting for the person's decision as CISO, risks due for review
/// in the units where they record risks).
async fn risk_tasks(ctx: &Ctx, p: &crate::session::Principal) -> AppResult<(i64, i64)> {
    use mamori_domain::authz::Target;
    use mamori_domain::permission::Permission;
    let store = &ctx.state.store;
    let decisions = if p.can(Permission::RiskAccept, &Target::Organisation) {
        let filter = mamori_store::RiskFilter {
            acceptance: Some("pending".into()),
            ..Default::default()
        };
        let (rows, _) = store
            .risks_page(&filter, mamori_store::RiskSort::Code, 1000, 0)
            .await?;
        // Never one's own request: someone else decides it.
        rows.iter()
            .filter(|r| r.acceptance_requested_by.as_deref() != Some(p.user.username.as_str()))
            .count() as i64
    } else {
        0
    };
    let reviews = if p.can(Permission::RisksEdit, &Target::Anywhere) {
        let filter = mamori_store::RiskFilter {
            visible_units: units_with_any(store, p, &[Permission::RisksEdit]).await?,
            due_on: Some(ctx.today()),
            ..Default::default()
        };
        store
            .risks_page(&filter, mamori_store::RiskSort::Code, 1, 0)
            .await?
            .1
    } else {
        0
    };
    Ok((decisions, reviews))
}

/// The units on which the principal holds any of `perms`, with the units beneath them
/// (`None`: every unit, from an organisation-wide grant).
pub(crate) async fn units_with_any(
    store: &mamori_store::Store,
    p: &crate::session::Principal,
    perms: &[mamori_domain::permission::Permission],
) -> AppResult<Option<Vec<mamori_domain::UnitId>>> {
    let mut roots = Vec::new();
    for perm in perms {
        match p.grants.unit_roots(*perm) {
            None => return Ok(None),
            Some(r) => roots.extend(r),
        }
    }
    roots.sort();
    roots.dedup();
    Ok(Some(store.unit_subtrees(&roots).await?))
}

/// Only local paths are followed after login (no open redirect).
pub fn safe_next(next: Option<&str>) -> String {
    match next {
        Some(n)
            if n.starts_with('/')
                && !n.starts_with("//")
                && !n.contains('\\')
                && !n.starts_with("/login") =>
        {
            n.to_owned()
        }
        _ => "/".to_owned(),
    }
}

#[cfg(test)]
mod tests {
    use super::safe_next;

    #[test]
    fn next_is_local_only() {
        assert_eq!(safe_next(Some("/admin/units?x=1")), "/admin/units?x=1");
        assert_eq!(safe_next(Some("//evil.example/")), "/");
        assert_eq!(safe_next(Some("https://evil.example/")), "/");
        assert_eq!(safe_next(Some("/\\evil")), "/");
        assert_eq!(safe_next(None), "/");
    }
}
