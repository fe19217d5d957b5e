//! What every page shares: the request context ([`Ctx`]), the layout data ([`Chrome`]), flash
//! messages, form errors and date formatting in the organisation's style.

use crate::credentials::random_token;
use crate::error::{AppError, AppResult};
use crate::i18n::{tr, tr_args, Lang};
use crate::net::ClientIp;
use crate::session::{cookie, cookie_names, set_cookie, Principal};
use crate::AppState;
use askama::Template;
use axum::extract::FromRequestParts;
use axum::http::request::Parts;
use axum::http::{header, HeaderValue, StatusCode};
use axum::response::{Html, IntoResponse, Redirect, Response};
use mamori_domain::authz::Target;
use mamori_domain::permission::Permission;
use mamori_domain::settings::{local_date, OrgSettings};
use mamori_domain::wareki::{format_date, parse_date};
use std::sync::Arc;

const FLASH_COOKIE: &str = "mamori_flash";

/// The request context every page handler takes.
pub struct Ctx {
    /// Application state.
    pub state: AppState,
    /// The logged-in account, if any.
    pub principal: Option<Arc<Principal>>,
    /// The language of this response.
    pub lang: Lang,
    /// Organisation settings.
    pub settings: Arc<OrgSettings>,
    /// Client address.
    pub ip: ClientIp,
    /// The request path.
    pub path: String,
    /// The query string, without `?`.
    pub query: String,
    /// A flash message id from the previous request.
    pub flash: Option<String>,
    /// The CSRF token for forms on this page.
    pub csrf: String,
    new_csrf_cookie: bool,
    /// The browser's user agent.
    pub user_agent: String,
    /// Policy versions in force the logged-in person has not acknowledged (the banner).
    pub pending_acks: Vec<mamori_store::PendingAcknowledgement>,
}

impl FromRequestParts<AppState> for Ctx {
    type Rejection = AppError;

    async fn from_request_parts(
        parts: &mut Parts,
        state: &AppState,
    ) -> Result<Self, Self::Rejection> {
        let principal = parts.extensions.get::<Arc<Principal>>().cloned();
        let lang = parts.extensions.get::<Lang>().copied().unwrap_or_default();
        let settings = parts
            .extensions
            .get::<Arc<OrgSettings>>()
            .cloned()
            .unwrap_or_default();
        let ip = parts
            .extensions
            .get::<ClientIp>()
            .cloned()
            .unwrap_or(ClientIp("unknown".into()));
        let flash = cookie(&parts.headers, FLASH_COOKIE)
            .filter(|id| {
                id.starts_with("flash-")
                    && id.len() < 64
                    && id.bytes().all(|b| b.is_ascii_lowercase() || b == b'-')
            })
            .map(str::to_owned);
        let (csrf, new_csrf_cookie) = match principal.as_ref().and_then(|p| p.session()) {
            Some(s) => (s.csrf_token.clone(), false),
            None => match cookie(&parts.headers, cookie_names(state.config.tls).csrf) {
                Some(v) if v.len() >= 22 && v.len() <= 64 => (v.to_owned(), false),
                _ => (random_token(24), true),
            },
        };
        let user_agent = parts
            .headers
            .get(header::USER_AGENT)
            .and_then(|v| v.to_str().ok())
            .map(|s| s.chars().take(200).collect())
            .unwrap_or_default();
        let pending_acks = pending_acknowledgements(state, principal.as_deref(), &settings).await?;
        Ok(Ctx {
            pending_acks,
            state: state.clone(),
            principal,
            lang,
            settings,
            ip,
            path: parts.uri.path().to_owned(),
            query: parts.uri.query().unwrap_or_default().to_owned(),
            flash,
            csrf,
            new_csrf_cookie,
            user_agent,
        })
    }
}

/// What a person in a browser session still has to acknowledge (nothing for API tokens, for
/// accounts without a person, or before the session is fully open).
async fn pending_acknowledgements(
    state: &AppState,
    principal: Option<&Principal>,
    settings: &OrgSettings,
) -> AppResult<Vec<mamori_store::PendingAcknowledgement>> {
    let Some(p) = principal.filter(|p| p.session().is_some()) else {
        return Ok(Vec::new());
    };
    let Some(person) = p.user.person_id else {
        return Ok(Vec::new());
    };
    if p.gate(settings) != crate::session::Gate::Open {
        return Ok(Vec::new());
    }
    let now = time::OffsetDateTime::now_utc();
    let today = local_date(now.unix_timestamp(), &settings.time_zone).unwrap_or(now.date());
    Ok(state
        .store
        .pending_acknowledgements(person.0, &today.to_string())
        .await?)
}

/// A link in the navigation.
#[derive(Debug, Clone)]
pub struct NavItem {
    /// Text.
    pub label: String,
    /// Target.
    pub href: String,
    /// The current page is this item (or beneath it).
    pub current: bool,
}

/// A group of links, named as the policy groups its work.
#[derive(Debug, Clone)]
pub struct NavGroup {
    /// Heading.
    pub label: String,
    /// Links the user may follow; empty for modules still to come.
    pub items: Vec<NavItem>,
}

/// The layout's data.
pub struct Chrome {
    /// Response language.
    pub lang: Lang,
    /// Organisation's name.
    pub org_name: String,
    /// The user's display name, if logged in with full access.
    pub user_name: Option<String>,
    /// The user's roles (labels).
    pub user_roles: String,
    /// Navigation groups.
    pub nav: Vec<NavGroup>,
    /// CSRF token for forms.
    pub csrf: String,
    /// Flash message text.
    pub flash: Option<String>,
    /// The request path (for the language switch).
    pub path: String,
    /// The request's query string, without `?`.
    pub query: String,
    /// Whether the user is logged in (shows logout).
    pub logged_in: bool,
    /// Versions in force awaiting the person's acknowledgement (shown as a banner).
    pub pending_acks: Vec<mamori_store::PendingAcknowledgement>,
    settings: Arc<OrgSettings>,
}

impl Chrome {
    /// A message in the page's language.
    pub fn t(&self, id: &str) -> String {
        tr(self.lang, id)
    }

    /// A message with one argument.
    pub fn t1(&self, id: &str, name: &'static str, value: impl std::fmt::Display) -> String {
        tr_args(self.lang, id, &[(name, value.to_string())])
    }

    /// A `YYYY-MM-DD` date in the organisation's style (和暦 by default).
    pub fn date(&self, ymd: &str) -> String {
        match parse_date(ymd) {
            Ok(d) => format_date(d, self.settings.date_style, self.lang),
            Err(_) => ymd.to_owned(),
        }
    }

    /// A stored time as a local date and time in the organisation's time zone.
    pub fn datetime(&self, ts: &str) -> String {
        let Some(t) = mamori_store::parse_ts(ts) else {
            return ts.to_owned();
        };
        let Some(date) = local_date(t.unix_timestamp(), &self.settings.time_zone) else {
            return ts.to_owned();
        };
        let offset = jiff_offset_seconds(t.unix_timestamp(), &self.settings.time_zone);
        let local = t
            .to_offset(time::UtcOffset::from_whole_seconds(offset).unwrap_or(time::UtcOffset::UTC));
        format!(
            "{} {:02}:{:02}",
            format_date(date, self.settings.date_style, self.lang),
            local.hour(),
            local.minute()
        )
    }

    /// A time as a local date and time.
    pub fn time(&self, t: &time::OffsetDateTime) -> String {
        self.datetime(&mamori_store::format_ts(*t))
    }

    /// The language-switch link target for `lang`.
    /// Other query parameters (filters, page, `next`) are kept.
    pub fn lang_link(&self, lang: &str) -> String {
        let mut pairs: Vec<(String, String)> =
            serde_urlencoded::from_str::<Vec<(String, String)>>(&self.query)
                .unwrap_or_default()
                .into_iter()
                .filter(|(k, _)| k != "lang")
                .collect();
        pairs.push(("lang".into(), lang.into()));
        format!(
            "{}?{}",
            self.path,
            serde_urlencoded::to_string(pairs).unwrap_or_default()
        )
    }

    /// True when the page is in English.
    pub fn is_en(&self) -> bool {
        self.lang == Lang::En
    }
}

fn jiff_offset_seconds(unix: i64, tz: &str) -> i32 {
    // The offset in force at that instant (Asia/Tokyo: always +09:00).
    mamori_domain::settings::utc_offset_seconds(unix, tz)
}

impl Ctx {
    /// Today in the organisation's time zone.
    pub fn today(&self) -> time::Date {
        let now = time::OffsetDateTime::now_utc();
        local_date(now.unix_timestamp(), &self.settings.time_zone).unwrap_or(now.date())
    }

    /// The principal, or 401.
    pub fn principal(&self) -> AppResult<&Principal> {
        self.principal.as_deref().ok_or(AppError::Unauthorized)
    }

    /// The layout data for this request.
    pub fn chrome(&self) -> Chrome {
        let lang = self.lang;
        let full = self
            .principal
            .as_deref()
            .filter(|p| p.gate(&self.settings) == crate::session::Gate::Open);
        let can = |perm: Permission| full.is_some_and(|p| p.can(perm, &Target::Anywhere));
        let item = |id: &str, href: &str| NavItem {
            label: tr(lang, id),
            href: href.to_owned(),
            current: if href == "/" {
                self.path == "/"
            } else {
                self.path.starts_with(href)
            },
        };
        let mut nav = Vec::new();
        if full.is_some() {
            nav.push(NavGroup {
                label: tr(lang, "nav-home"),
                items: vec![item("nav-my-tasks", "/")],
            });
            if can(Permission::AssetsRead) || can(Permission::AssetsReadBasic) {
                nav.push(NavGroup {
                    label: tr(lang, "nav-assets"),
                    items: vec![item("assets-title", "/assets")],
                });
            }
            let mut policy = vec![item("nav-documents", "/policy")];
            if can(Permission::PeopleRead) || can(Permission::PolicyEdit) {
                policy.push(item("nav-acknowledgements", "/policy/acknowledgements"));
            }
            // Training
            policy.push(NavItem {
                current: self.path == "/training",
                ..item("nav-my-training", "/training")
            });
            policy.push(item("nav-training-courses", "/training/courses"));
            if can(Permission::TrainingManage) || can(Permission::PeopleRead) {
                policy.push(item("nav-training-report", "/training/report"));
            }
            nav.push(NavGroup {
                label: tr(lang, "nav-policy"),
                items: policy,
            });
            // Catalogue: the threat and control catalogues open the リスク group.
            nav.push(NavGroup {
                label: tr(lang, "nav-risks"),
                items: vec![
                    item("nav-threats", "/threats"),
                    item("nav-controls", "/controls"),
                    // Risk register
                    NavItem {
                        current: self.path == "/risks" || self.path.starts_with("/risks/R"),
                        ..item("nav-risk-register", "/risks")
                    },
                    item("nav-risk-heatmap", "/risks/heatmap"),
                ],
            });
            // Coverage: for those who read statuses.
            if can(Permission::PeopleRead)
                || can(Permission::AssetsRead)
                || can(Permission::ControlsUpdate)
            {
                if let Some(group) = nav.last_mut() {
                    group.items.push(item("coverage-nav", "/coverage"));
                }
            }
            for soon in [
                "nav-evaluation",
                "nav-incidents",
                "nav-outsourcing",
                "nav-monitoring",
                "nav-reports",
            ] {
                nav.push(NavGroup {
                    label: tr(lang, soon),
                    items: Vec::new(),
                });
            }
            let mut admin = Vec::new();
            if can(Permission::UnitsRead) {
                admin.push(item("nav-units", "/admin/units"));
            }
            if can(Permission::PeopleRead) {
                admin.push(item("nav-people", "/admin/people"));
                admin.push(item("nav-leavers", "/admin/people/leavers"));
            }
            if can(Permission::PeopleManage)
                || can(Permission::UnitsManage)
                || can(Permission::AssetsEdit)
            {
                admin.push(item("nav-import", "/admin/import"));
            }
            if can(Permission::AccountsManage) {
                admin.push(item("nav-issue", "/admin/accounts/issue"));
            }
            if can(Permission::SettingsManage) {
                admin.push(item("nav-settings", "/admin/settings"));
                admin.push(item("nav-classification", "/admin/classification"));
            }
            if can(Permission::AuditRead) {
                admin.push(item("nav-audit", "/admin/audit"));
            }
            if !admin.is_empty() {
                nav.push(NavGroup {
                    label: tr(lang, "nav-admin"),
                    items: admin,
                });
            }
            nav.push(NavGroup {
                label: tr(lang, "nav-account"),
                items: vec![
                    item("nav-password", "/account/password"),
                    item("nav-mfa", "/account/mfa"),
                    item("nav-sessions", "/account/sessions"),
                    item("nav-tokens", "/account/tokens"),
                ],
            });
        }
        let user_roles = self
            .principal
            .as_deref()
            .map(|p| {
                p.roles
                    .iter()
                    .filter(|r| r.as_str() != mamori_domain::seed::EVERYONE_ROLE)
                    .cloned()
                    .collect::<Vec<_>>()
                    .join(", ")
            })
            .unwrap_or_default();
        Chrome {
            lang,
            org_name: self.settings.name.clone(),
            user_name: self
                .principal
                .as_deref()
                .map(|p| p.user.display_name.clone()),
            user_roles,
            nav,
            csrf: self.csrf.clone(),
            flash: self.flash.as_deref().map(|id| tr(lang, id)),
            path: self.path.clone(),
            query: self.query.clone(),
            logged_in: self.principal.is_some(),
            pending_acks: self.pending_acks.clone(),
            settings: self.settings.clone(),
        }
    }

    /// Renders a page (status 200), adding the cookies this request needs.
    pub fn page(&self, template: &impl Template) -> Response {
        self.page_with_status(StatusCode::OK, template)
    }

    /// Renders a page with a status (e.g. 422 for a form with errors).
    pub fn page_with_status(&self, status: StatusCode, template: &impl Template) -> Response {
        match template.render() {
            Ok(html) => {
                let mut res = (status, Html(html)).into_response();
                self.add_cookies(&mut res);
                res
            }
            Err(e) => AppError::Internal(format!("template: {e}")).into_response(),
        }
    }

    fn add_cookies(&self, res: &mut Response) {
        let tls = self.state.config.tls;
        if self.flash.is_some() {
            res.headers_mut().append(
                header::SET_COOKIE,
                set_cookie(tls, FLASH_COOKIE, "", Some(0)),
            );
        }
        if self.new_csrf_cookie {
            res.headers_mut().append(
                header::SET_COOKIE,
                set_cookie(tls, cookie_names(tls).csrf, &self.csrf, None),
            );
        }
    }

    /// Back to the login page with the session cookie cleared (after logout or revoking the
    /// current session).
    pub fn logged_out(&self) -> Response {
        let tls = self.state.config.tls;
        let mut res = self.redirect_flash("/login", "flash-logged-out");
        res.headers_mut().append(
            header::SET_COOKIE,
            set_cookie(tls, cookie_names(tls).session, "", Some(0)),
        );
        res
    }

    /// Redirects (303) after a change, with a flash message for the next page.
    pub fn redirect_flash(&self, to: &str, flash_id: &'static str) -> Response {
        let mut res = Redirect::to(to).into_response();
        res.headers_mut().append(
            header::SET_COOKIE,
            set_cookie(self.state.config.tls, FLASH_COOKIE, flash_id, Some(60)),
        );
        res
    }
}

/// A problem with one form field, shown next to it and in the summary.
#[derive(Debug, Clone)]
pub struct FieldError {
    /// The field's name (and the id of its input).
    pub field: String,
    /// The message.
    pub message: String,
}

/// Errors of one form.
#[derive(Debug, Clone, Default)]
pub struct FormErrors(pub Vec<FieldError>);

impl FormErrors {
    /// Errors holding one problem with one field.
    pub fn one(lang: Lang, field: &str, message_id: &str) -> Self {
        let mut errors = FormErrors::default();
        errors.add(lang, field, message_id);
        errors
    }

    /// Adds an error.
    pub fn add(&mut self, lang: Lang, field: &str, message_id: &str) {
        self.0.push(FieldError {
            field: field.to_owned(),
            message: tr(lang, message_id),
        });
    }

    /// Adds an error with a ready message.
    pub fn add_text(&mut self, field: &str, message: String) {
        self.0.push(FieldError {
            field: field.to_owned(),
            message,
        });
    }

    /// True when there are none.
    pub fn is_empty(&self) -> bool {
        self.0.is_empty()
    }

    /// The message for a field, if any.
    pub fn for_field(&self, field: &str) -> Option<String> {
        self.0
            .iter()
            .find(|e| e.field == field)
            .map(|e| e.message.clone())
    }

    /// True when the field has an error.
    pub fn has(&self, field: &str) -> bool {
        self.0.iter().any(|e| e.field == field)
    }
}

/// The error page.
#[derive(Template)]
#[template(path = "error.html")]
pub struct ErrorPage {
    lang: Lang,
    status: u16,
    title: String,
    message: String,
    home: String,
}

impl ErrorPage {
    /// An error page for a status and message.
    pub fn new(lang: Lang, status: StatusCode, message: &str) -> Self {
        ErrorPage {
            lang,
            status: status.as_u16(),
            title: tr(lang, "error-title"),
            message: message.to_owned(),
            home: tr(lang, "error-back-home"),
        }
    }

    /// The page as HTML (a fixed text if rendering fails).
    pub fn render_html(&self) -> String {
        self.render()
            .unwrap_or_else(|_| format!("<!doctype html><title>{}</title>", self.status))
    }
}

/// A CSV download (the body already has its BOM).
pub fn csv_download(filename: &'static str, body: String) -> Response {
    let mut res = body.into_response();
    res.headers_mut().insert(
        header::CONTENT_TYPE,
        HeaderValue::from_static("text/csv; charset=utf-8"),
    );
    if let Ok(v) = HeaderValue::from_str(&format!("attachment; filename=\"{filename}\"")) {
        res.headers_mut().insert(header::CONTENT_DISPOSITION, v);
    }
    res
}

/// An XLSX download of `records` in kind `K`'s import format (Japanese labels), written on a
/// blocking thread: a workbook of 100,000 rows takes seconds of CPU and a temporary file,
/// which must not hold up the runtime's workers.
pub async fn xlsx_download<K>(
    filename: &'static str,
    records: Vec<K::Record>,
) -> AppResult<Response>
where
    K: mamori_domain::interchange::kind::Kind + 'static,
    K::Record: Send + 'static,
{
    let bytes = tokio::task::spawn_blocking(move || {
        mamori_domain::interchange::xlsx::write_xlsx::<K>(&records, true)
    })
    .await
    .map_err(|e| AppError::Internal(e.to_string()))?
    .map_err(AppError::Internal)?;
    Ok(crate::pages::assets::download(
        filename,
        "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet",
        axum::body::Body::from(bytes),
    ))
}

/// Static header value helper.
pub fn header_value(s: &str) -> HeaderValue {
    HeaderValue::from_str(s).unwrap_or_else(|_| HeaderValue::from_static(""))
}

/// Server-side pagination shared by every list page.
#[derive(Debug, Clone)]
pub struct Pager {
    /// 1-based page number.
    pub page: i64,
    /// Rows per page.
    pub per_page: i64,
    /// Rows matching.
    pub total: i64,
    /// The query string without `page`, for building links.
    pub base_query: String,
}

impl Pager {
    /// A pager for `page` (1-based, clamped) with `per_page` rows.
    pub fn new(page: Option<i64>, per_page: i64, base_query: String) -> Self {
        Pager {
            page: page.unwrap_or(1).max(1),
            per_page,
            total: 0,
            base_query,
        }
    }

    /// The SQL offset.
    pub fn offset(&self) -> i64 {
        (self.page - 1).saturating_mul(self.per_page)
    }

    /// The number of pages.
    pub fn pages(&self) -> i64 {
        ((self.total + self.per_page - 1) / self.per_page).max(1)
    }

    /// A link to page `n`.
    pub fn link(&self, n: i64) -> String {
        if self.base_query.is_empty() {
            format!("?page={n}")
        } else {
            format!("?{}&page={n}", self.base_query)
        }
    }

    /// True when there is a previous page.
    pub fn has_prev(&self) -> bool {
        self.page > 1
    }

    /// True when there is a next page.
    pub fn has_next(&self) -> bool {
        self.page < self.pages()
    }
}

/// Builds a query string from non-empty pairs.
pub fn query_string(pairs: &[(&str, &str)]) -> String {
    let kept: Vec<(&str, &str)> = pairs
        .iter()
        .filter(|(_, v)| !v.is_empty())
        .copied()
        .collect();
    serde_urlencoded::to_string(kept).unwrap_or_default()
}
