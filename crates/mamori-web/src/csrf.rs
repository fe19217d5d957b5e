//! Cross-site request forgery defence for every state-changing request, in one place.
//!
//! Two independent checks:
//! 1. **Origin**: a request whose `Origin` (or, without it, `Referer`) is another origin, or
//!    whose `Sec-Fetch-Site` is `cross-site`, is refused.
//! 2. **Token**: the form field `csrf` (or header `X-CSRF-Token`) must equal the session's
//!    token, or, before login, the value of the pre-session CSRF cookie (double submit).
//!
//! Requests authenticated by an API token carry no ambient credentials and skip both.

use crate::credentials::secure_eq;
use crate::error::AppError;
use crate::session::{cookie, cookie_names, Auth, Principal};
use crate::AppState;
use axum::body::Body;
use axum::extract::{Request, State};
use axum::http::{header, HeaderMap, Method};
use axum::middleware::Next;
use axum::response::{IntoResponse, Response};
use futures_util::StreamExt;
use std::sync::Arc;

/// The form field that carries the token.
pub const FIELD: &str = "csrf";

fn origin_of(url: &str) -> Option<String> {
    let (scheme, rest) = url.split_once("://")?;
    let host = rest.split(['/', '?', '#']).next()?;
    Some(format!(
        "{}://{}",
        scheme.to_ascii_lowercase(),
        host.to_ascii_lowercase()
    ))
}

/// True when the request comes from a page of this server (or says nothing about it).
pub fn same_origin(headers: &HeaderMap, tls: bool) -> bool {
    if headers.get("sec-fetch-site").and_then(|v| v.to_str().ok()) == Some("cross-site") {
        return false;
    }
    let host = match headers.get(header::HOST).and_then(|v| v.to_str().ok()) {
        Some(h) => h.to_ascii_lowercase(),
        None => return false,
    };
    let scheme = if tls { "https" } else { "http" };
    let expected = format!("{scheme}://{host}");
    if let Some(origin) = headers.get(header::ORIGIN) {
        return origin
            .to_str()
            .ok()
            .and_then(origin_of)
            .is_some_and(|o| o == expected);
    }
    if let Some(referer) = headers.get(header::REFERER) {
        return referer
            .to_str()
            .ok()
            .and_then(origin_of)
            .is_some_and(|o| o == expected);
    }
    true
}

/// How far into a multipart body the token must appear.
const MULTIPART_TOKEN_WINDOW: usize = 16 * 1024;

/// The middleware (see the module doc).
pub async fn protect(State(state): State<AppState>, req: Request, next: Next) -> Response {
    if matches!(*req.method(), Method::GET | Method::HEAD | Method::OPTIONS) {
        return next.run(req).await;
    }
    let principal = req.extensions().get::<Arc<Principal>>().cloned();
    if matches!(principal.as_deref().map(|p| &p.auth), Some(Auth::Token(_))) {
        return next.run(req).await;
    }
    if !same_origin(req.headers(), state.config.tls) {
        tracing::info!(path = %req.uri().path(), "refused a cross-origin request");
        return AppError::BadRequest("error-csrf")
            .into_response()
            .with_status(axum::http::StatusCode::FORBIDDEN);
    }
    let expected = match principal.as_deref().and_then(|p| p.session()) {
        Some(s) => Some(s.csrf_token.clone()),
        None => cookie(req.headers(), cookie_names(state.config.tls).csrf).map(str::to_owned),
    };
    let header_token = req
        .headers()
        .get("x-csrf-token")
        .and_then(|v| v.to_str().ok())
        .map(str::to_owned);
    let content_type = req
        .headers()
        .get(header::CONTENT_TYPE)
        .and_then(|v| v.to_str().ok())
        .unwrap_or_default()
        .to_owned();
    let is_form = content_type.starts_with("application/x-www-form-urlencoded");
    let multipart_boundary = content_type
        .strip_prefix("multipart/form-data")
        .and_then(|rest| {
            rest.split(';')
                .find_map(|p| p.trim().strip_prefix("boundary="))
        })
        .map(|b| b.trim_matches('"').to_owned());
    let (parts, body) = req.into_parts();
    if let (None, Some(boundary)) = (&header_token, &multipart_boundary) {
        // An upload may be far larger than any form: read only as far as the token (the
        // first field of every Mamori upload form), then pass the rest on as a stream.
        let mut stream = body.into_data_stream();
        let mut prefix: Vec<u8> = Vec::new();
        let mut submitted = None;
        while prefix.len() < MULTIPART_TOKEN_WINDOW {
            match stream.next().await {
                Some(Ok(chunk)) => prefix.extend_from_slice(&chunk),
                Some(Err(_)) => return AppError::BadRequest("error-bad-request").into_response(),
                None => break,
            }
            submitted = multipart_field(&prefix, boundary, FIELD);
            if submitted.is_some() {
                break;
            }
        }
        let ok = matches!((&expected, &submitted), (Some(e), Some(s)) if !e.is_empty() && secure_eq(e, s));
        if !ok {
            tracing::info!(path = %parts.uri.path(), "refused an upload without a valid CSRF token");
            return AppError::BadRequest("error-csrf")
                .into_response()
                .with_status(axum::http::StatusCode::FORBIDDEN);
        }
        let head = futures_util::stream::once(async move {
            Ok::<_, axum::Error>(axum::body::Bytes::from(prefix))
        });
        let body = Body::from_stream(head.chain(stream));
        return next.run(Request::from_parts(parts, body)).await;
    }
    let bytes = match axum::body::to_bytes(body, state.config.max_body_bytes).await {
        Ok(b) => b,
        Err(_) => {
            return AppError::BadRequest("error-too-large")
                .into_response()
                .with_status(axum::http::StatusCode::PAYLOAD_TOO_LARGE)
        }
    };
    let submitted = header_token.or_else(|| {
        if is_form {
            form_urlencoded_field(&bytes, FIELD)
        } else if let Some(boundary) = &multipart_boundary {
            multipart_field(&bytes, boundary, FIELD)
        } else {
            None
        }
    });
    let ok =
        matches!((&expected, &submitted), (Some(e), Some(s)) if !e.is_empty() && secure_eq(e, s));
    if !ok {
        tracing::info!(path = %parts.uri.path(), "refused a request without a valid CSRF token");
        return AppError::BadRequest("error-csrf")
            .into_response()
            .with_status(axum::http::StatusCode::FORBIDDEN);
    }
    next.run(Request::from_parts(parts, Body::from(bytes)))
        .await
}

fn form_urlencoded_field(body: &[u8], name: &str) -> Option<String> {
    serde_urlencoded::from_bytes::<Vec<(String, String)>>(body)
        .ok()?
        .into_iter()
        .find(|(k, _)| k == name)
        .map(|(_, v)| v)
}

/// The value of a small text field of a multipart body (the CSRF token of an upload form).
fn multipart_field(body: &[u8], boundary: &str, name: &str) -> Option<String> {
    let delimiter = format!("--{boundary}");
    let text = body;
    let wanted = format!("name=\"{name}\"");
    let mut rest = text;
    while let Some(start) = find(rest, delimiter.as_bytes()) {
        rest = &rest[start + delimiter.len()..];
        let headers_end = find(rest, b"\r\n\r\n")?;
        let headers = std::str::from_utf8(&rest[..headers_end]).ok()?;
        let value_start = headers_end + 4;
        let value_end = find(&rest[value_start..], delimiter.as_bytes())? + value_start;
        if headers.contains(&wanted) && !headers.contains("filename=") {
            let value = &rest[value_start..value_end];
            let value = value.strip_suffix(b"\r\n").unwrap_or(value);
            return std::str::from_utf8(value).ok().map(str::to_owned);
        }
    }
    None
}

fn find(haystack: &[u8], needle: &[u8]) -> Option<usize> {
    haystack.windows(needle.len()).position(|w| w == needle)
}

trait WithStatus {
    fn with_status(self, status: axum::http::StatusCode) -> Self;
}

impl WithStatus for Response {
    fn with_status(mut self, status: axum::http::StatusCode) -> Self {
        *self.status_mut() = status;
        if let Some(info) = self.extensions_mut().get_mut::<crate::error::ErrorInfo>() {
            info.status = status;
            info.code = if status == axum::http::StatusCode::FORBIDDEN {
                "csrf"
            } else {
                "payload_too_large"
            };
        }
        self
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn headers(pairs: &[(&'static str, &'static str)]) -> HeaderMap {
        let mut h = HeaderMap::new();
        for (k, v) in pairs {
            h.insert(*k, axum::http::HeaderValue::from_static(v));
        }
        h
    }

    #[test]
    fn origin_rules() {
        assert!(same_origin(
            &headers(&[
                ("host", "mamori.local:8080"),
                ("origin", "http://mamori.local:8080")
            ]),
            false
        ));
        assert!(!same_origin(
            &headers(&[
                ("host", "mamori.local:8080"),
                ("origin", "http://evil.example")
            ]),
            false
        ));
        assert!(!same_origin(
            &headers(&[("host", "mamori.local"), ("origin", "http://mamori.local")]),
            true
        ));
        assert!(!same_origin(
            &headers(&[("host", "a"), ("origin", "null")]),
            false
        ));
        assert!(!same_origin(
            &headers(&[("host", "a"), ("sec-fetch-site", "cross-site")]),
            false
        ));
        assert!(!same_origin(
            &headers(&[("host", "a"), ("referer", "http://evil/x")]),
            false
        ));
        assert!(same_origin(
            &headers(&[("host", "a"), ("referer", "http://a/login")]),
            false
        ));
    }

    #[test]
    fn multipart_token_extraction() {
        let body = b"--XyZ\r\nContent-Disposition: form-data; name=\"csrf\"\r\n\r\ntok123\r\n--XyZ\r\nContent-Disposition: form-data; name=\"file\"; filename=\"a.csv\"\r\n\r\ncsrf\r\n--XyZ--\r\n";
        assert_eq!(multipart_field(body, "XyZ", "csrf"), Some("tok123".into()));
        assert_eq!(multipart_field(body, "XyZ", "other"), None);
        assert_eq!(multipart_field(b"garbage", "XyZ", "csrf"), None);
    }

    #[test]
    fn form_field_extraction() {
        assert_eq!(
            form_urlencoded_field(b"a=1&csrf=xyz%2B", "csrf"),
            Some("xyz+".into())
        );
        assert_eq!(form_urlencoded_field(b"\xff\xfe", "csrf"), None);
    }
}
