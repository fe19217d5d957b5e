//! Errors, and how they reach the client — decided in exactly one place.
//!
//! Policy: a handler returns [`AppError`]; it becomes a response carrying an [`ErrorInfo`]
//! extension and no body. The [`render_errors`] middleware then writes the body: JSON
//! `{"error":{"code","message"}}` under `/api/`, an HTML error page elsewhere, in the user's
//! language. Responses that axum itself produces for bad input (a malformed form, invalid
//! UTF-8, an oversized body, an unknown route) get the same treatment from their status. The
//! cause chain of internal errors is logged; the client sees only a stable code and message.

use crate::i18n::{tr, Lang};
use axum::extract::Request;
use axum::http::{header, HeaderValue, StatusCode};
use axum::middleware::Next;
use axum::response::{IntoResponse, Response};

/// What went wrong, in terms of the response.
#[derive(Debug, Clone)]
pub struct ErrorInfo {
    /// HTTP status.
    pub status: StatusCode,
    /// Stable machine-readable code.
    pub code: &'static str,
    /// Fluent message id for people.
    pub message_id: &'static str,
    /// Extra detail safe to show (a field name, a limit).
    pub detail: Option<String>,
    /// Problems with named fields (already in the user's language).
    pub fields: Vec<(String, String)>,
}

/// A handler's error.
#[derive(Debug)]
pub enum AppError {
    /// No such page or record.
    NotFound,
    /// Not logged in, or the credentials are not valid.
    Unauthorized,
    /// Logged in, but not permitted.
    Forbidden,
    /// The request is malformed (message id).
    BadRequest(&'static str),
    /// The request conflicts with existing data (message id, detail).
    Conflict(&'static str, String),
    /// Something failed on our side (logged, not shown).
    Internal(String),
    /// Input with problems in named fields (field, message in the user's language).
    Invalid(Vec<(String, String)>),
}

impl std::fmt::Display for AppError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            AppError::Internal(cause) => write!(f, "internal error: {cause}"),
            other => write!(f, "{}", other.info().code),
        }
    }
}

impl From<mamori_store::StoreError> for AppError {
    fn from(e: mamori_store::StoreError) -> Self {
        use mamori_store::StoreError as E;
        match e {
            E::Duplicate(field) => AppError::Conflict("error-duplicate", field.to_owned()),
            E::Missing(field) => AppError::Conflict("error-missing-reference", field.to_owned()),
            E::Rule(id) => AppError::Conflict(id, String::new()),
            other => AppError::Internal(other.to_string()),
        }
    }
}

impl AppError {
    /// The response description.
    pub fn info(&self) -> ErrorInfo {
        let (status, code, message_id, detail) = match self {
            AppError::NotFound => (StatusCode::NOT_FOUND, "not_found", "error-not-found", None),
            AppError::Unauthorized => (
                StatusCode::UNAUTHORIZED,
                "unauthorized",
                "error-unauthorized",
                None,
            ),
            AppError::Forbidden => (StatusCode::FORBIDDEN, "forbidden", "error-forbidden", None),
            AppError::BadRequest(id) => (StatusCode::BAD_REQUEST, "bad_request", *id, None),
            AppError::Conflict(id, d) => (
                StatusCode::CONFLICT,
                "conflict",
                *id,
                Some(d.clone()).filter(|d| !d.is_empty()),
            ),
            AppError::Internal(_) => (
                StatusCode::INTERNAL_SERVER_ERROR,
                "internal",
                "error-internal",
                None,
            ),
            AppError::Invalid(_) => (
                StatusCode::UNPROCESSABLE_ENTITY,
                "invalid",
                "form-has-errors",
                None,
            ),
        };
        let fields = match self {
            AppError::Invalid(f) => f.clone(),
            _ => Vec::new(),
        };
        ErrorInfo {
            status,
            code,
            message_id,
            detail,
            fields,
        }
    }
}

impl IntoResponse for AppError {
    fn into_response(self) -> Response {
        if let AppError::Internal(cause) = &self {
            tracing::error!(%cause, "internal error");
        }
        let info = self.info();
        let mut res = info.status.into_response();
        res.extensions_mut().insert(info);
        res
    }
}

/// Handler result.
pub type AppResult<T> = Result<T, AppError>;

fn info_for_status(status: StatusCode) -> ErrorInfo {
    let (code, message_id) = match status {
        StatusCode::NOT_FOUND => ("not_found", "error-not-found"),
        StatusCode::METHOD_NOT_ALLOWED => ("method_not_allowed", "error-method"),
        StatusCode::PAYLOAD_TOO_LARGE => ("payload_too_large", "error-too-large"),
        StatusCode::UNSUPPORTED_MEDIA_TYPE => ("unsupported_media_type", "error-bad-request"),
        StatusCode::UNPROCESSABLE_ENTITY => ("invalid", "error-bad-request"),
        StatusCode::UNAUTHORIZED => ("unauthorized", "error-unauthorized"),
        StatusCode::FORBIDDEN => ("forbidden", "error-forbidden"),
        StatusCode::TOO_MANY_REQUESTS => ("too_many_requests", "error-too-many"),
        s if s.is_server_error() => ("internal", "error-internal"),
        _ => ("bad_request", "error-bad-request"),
    };
    ErrorInfo {
        status,
        code,
        message_id,
        detail: None,
        fields: Vec::new(),
    }
}

/// Writes error bodies (see the module doc).
pub async fn render_errors(req: Request, next: Next) -> Response {
    let is_api = req.uri().path().starts_with("/api/");
    let cookie_lang =
        crate::session::cookie(req.headers(), "mamori_lang").and_then(|v| v.parse::<Lang>().ok());
    let mut res = next.run(req).await;
    // The principal middleware (inside this one) records the language it chose.
    let lang = res
        .extensions()
        .get::<Lang>()
        .copied()
        .or(cookie_lang)
        .unwrap_or_default();
    let status = res.status();
    if !(status.is_client_error() || status.is_server_error()) {
        return res;
    }
    let info = match res.extensions_mut().remove::<ErrorInfo>() {
        Some(info) => info,
        // Our own pages render their own 4xx bodies (e.g. a form with errors); only bare
        // responses from axum's extractors and fallbacks are rewritten.
        None if res
            .headers()
            .get(header::CONTENT_TYPE)
            .is_some_and(|v| v.as_bytes().starts_with(b"text/html")) =>
        {
            return res
        }
        None if res
            .headers()
            .get(header::CONTENT_TYPE)
            .is_some_and(|v| v.as_bytes().starts_with(b"application/json")) =>
        {
            return res
        }
        None => info_for_status(status),
    };
    let message = match &info.detail {
        Some(d) => format!("{} ({d})", tr(lang, info.message_id)),
        None => tr(lang, info.message_id),
    };
    let mut out = if is_api {
        let mut error = serde_json::json!({"code": info.code, "message": message});
        if !info.fields.is_empty() {
            error["fields"] = info
                .fields
                .iter()
                .map(|(field, message)| serde_json::json!({"field": field, "message": message}))
                .collect();
        }
        let body = serde_json::json!({ "error": error });
        (info.status, axum::Json(body)).into_response()
    } else {
        let page = crate::view::ErrorPage::new(lang, info.status, &message);
        let mut r = (info.status, axum::response::Html(page.render_html())).into_response();
        r.headers_mut()
            .insert(header::CACHE_CONTROL, HeaderValue::from_static("no-store"));
        r
    };
    // Keep headers that matter to the client (a login challenge, Retry-After).
    for name in [
        header::WWW_AUTHENTICATE,
        header::RETRY_AFTER,
        header::LOCATION,
        header::SET_COOKIE,
    ] {
        for v in res.headers().get_all(&name) {
            out.headers_mut().append(name.clone(), v.clone());
        }
    }
    out
}

/// A multipart body that could not be read: too large (the configured limit), or malformed.
pub fn multipart_error(e: axum::extract::multipart::MultipartError) -> AppError {
    if e.status() == StatusCode::PAYLOAD_TOO_LARGE {
        AppError::BadRequest("error-too-large")
    } else {
        AppError::BadRequest("error-bad-request")
    }
}
