//! A test application: a fresh database (SQLite, or PostgreSQL when
//! `MAMORI_TEST_POSTGRES_URL` is set and the test asks for it), the real router, and a tiny
//! cookie-carrying client that drives it without a socket.

#![allow(dead_code, missing_docs)]

use axum::body::Body;
use axum::http::{header, Request, StatusCode};
use http_body_util::BodyExt;
use mamori_store::{Actor, NewUser, PersonInput, RoleHolder, Store, UnitInput};
use mamori_web::{AppState, WebConfig};
use std::collections::HashMap;
use std::sync::atomic::{AtomicU64, Ordering};
use tower::ServiceExt;

pub struct TestApp {
    pub state: AppState,
    pub router: axum::Router,
    _dir: tempfile::TempDir,
    pg: Option<(String, String)>,
}

static COUNTER: AtomicU64 = AtomicU64::new(0);

pub fn postgres_url() -> Option<String> {
    let url = std::env::var("MAMORI_TEST_POSTGRES_URL")
        .ok()
        .filter(|u| !u.is_empty());
    if url.is_none() && std::env::var("MAMORI_REQUIRE_POSTGRES").is_ok() {
        panic!("MAMORI_REQUIRE_POSTGRES is set but MAMORI_TEST_POSTGRES_URL is not");
    }
    url
}

pub struct Response {
    pub status: StatusCode,
    pub headers: axum::http::HeaderMap,
    pub body: String,
}

impl Response {
    pub fn location(&self) -> Option<&str> {
        self.headers
            .get(header::LOCATION)
            .and_then(|v| v.to_str().ok())
    }
    pub fn json(&self) -> serde_json::Value {
        serde_json::from_str(&self.body).unwrap_or(serde_json::Value::Null)
    }
}

impl TestApp {
    pub async fn new() -> TestApp {
        Self::with(false, WebConfig::default()).await
    }

    /// `None` when PostgreSQL is not configured.
    pub async fn postgres() -> Option<TestApp> {
        postgres_url()?;
        Some(Self::with(true, WebConfig::default()).await)
    }

    pub async fn with(postgres: bool, config: WebConfig) -> TestApp {
        sqlx::any::install_default_drivers();
        let dir = tempfile::tempdir().expect("tempdir");
        let (store, pg) = if postgres {
            let admin = postgres_url().expect("postgres url");
            use sqlx::Connection;
            let name = format!(
                "mamori_web_{}_{}",
                std::process::id(),
                COUNTER.fetch_add(1, Ordering::SeqCst)
            );
            let mut conn = sqlx::PgConnection::connect(&admin).await.expect("connect");
            sqlx::query(&format!("CREATE DATABASE {name}"))
                .execute(&mut conn)
                .await
                .expect("create db");
            let base = admin
                .rsplit_once('/')
                .map(|(b, _)| b)
                .unwrap_or(&admin)
                .to_owned();
            let store = Store::open(dir.path(), Some(&format!("{base}/{name}")))
                .await
                .expect("open");
            (store, Some((admin, name)))
        } else {
            (Store::open(dir.path(), None).await.expect("open"), None)
        };
        store.migrate().await.expect("migrate");
        let state = AppState::new(store, config, None);
        let router = mamori_web::app(state.clone());
        TestApp {
            state,
            router,
            _dir: dir,
            pg,
        }
    }

    pub fn store(&self) -> &Store {
        &self.state.store
    }

    pub async fn close(self) {
        self.state.store.close().await;
        if let Some((admin, name)) = self.pg {
            use sqlx::Connection;
            if let Ok(mut conn) = sqlx::PgConnection::connect(&admin).await {
                let _ = sqlx::query(&format!("DROP DATABASE IF EXISTS {name} WITH (FORCE)"))
                    .execute(&mut conn)
                    .await;
            }
        }
    }

    pub async fn unit(&self, code: &str) -> mamori_store::UnitRow {
        self.store()
            .unit_by_code(code)
            .await
            .expect("q")
            .expect("unit exists")
    }

    pub async fn add_unit(&self, code: &str, parent: &str) -> mamori_store::UnitRow {
        let parent = self.unit(parent).await;
        let mut tx = self.store().begin(Actor::system()).await.expect("begin");
        let u = Store::create_unit(
            &mut tx,
            &UnitInput {
                code: code.into(),
                name: code.into(),
                parent_id: Some(parent.id),
                in_scope: true,
            },
        )
        .await
        .expect("unit");
        tx.commit().await.expect("commit");
        u
    }

    /// An asset of `asset_type` in `unit` with confidentiality `c` (integrity and availability
    /// 1), named `name`.
    pub async fn add_asset(
        &self,
        name: &str,
        asset_type: &str,
        unit: &str,
        c: &str,
    ) -> mamori_store::AssetRow {
        let unit = self.unit(unit).await;
        let mut tx = self.store().begin(Actor::system()).await.expect("begin");
        let a = Store::create_asset(
            &mut tx,
            &mamori_domain::assets::AssetDraft {
                name: name.into(),
                asset_type: mamori_domain::assets::AssetType::parse(asset_type).expect("type"),
                owner_unit: unit.id,
                custodian: None,
                segment: mamori_domain::assets::Segment::Lgwan,
                class: mamori_domain::assets::classification::Class {
                    confidentiality: c.into(),
                    integrity: "1".into(),
                    availability: "1".into(),
                },
                location: String::new(),
                description: String::new(),
                personal_data: false,
                rto_hours: None,
                review_on: None,
                status: mamori_domain::assets::AssetStatus::InUse,
                disposed_on: None,
                disposal_method: String::new(),
            },
        )
        .await
        .expect("asset");
        tx.commit().await.expect("commit");
        a
    }

    pub async fn add_person(&self, staff_id: &str, unit: &str) -> mamori_store::PersonRow {
        let unit = self.unit(unit).await;
        let mut tx = self.store().begin(Actor::system()).await.expect("begin");
        let p = Store::create_person(
            &mut tx,
            &PersonInput {
                staff_id: staff_id.into(),
                name: format!("職員 {staff_id}"),
                kana: String::new(),
                unit_id: unit.id,
                category: "regular".into(),
                email: String::new(),
                joined_on: None,
                left_on: None,
            },
        )
        .await
        .expect("person");
        tx.commit().await.expect("commit");
        p
    }

    /// An account for a new person in `unit` holding `roles` (`role` or `role@unit`), with a
    /// known password, no forced change and no MFA.
    pub async fn add_user(
        &self,
        username: &str,
        unit: &str,
        roles: &[&str],
    ) -> mamori_store::UserRow {
        let person = self.add_person(&format!("S-{username}"), unit).await;
        let hash = mamori_web::credentials::hash_password(PASSWORD).expect("hash");
        let mut tx = self.store().begin(Actor::system()).await.expect("begin");
        let user = Store::create_user(
            &mut tx,
            &NewUser {
                username: username.into(),
                display_name: username.into(),
                person_id: Some(person.id),
                password_hash: hash,
                must_change_password: false,
            },
        )
        .await
        .expect("user");
        for spec in roles {
            let (role, scope) = match spec.split_once('@') {
                Some((r, u)) => (r, Some(self.unit(u).await.id)),
                None => (*spec, None),
            };
            Store::assign_role(&mut tx, RoleHolder::Person(person.id), role, scope)
                .await
                .expect("role");
        }
        tx.commit().await.expect("commit");
        user
    }

    /// A new API token for `user` (row and secret).
    pub async fn token(
        &self,
        user: &mamori_store::UserRow,
        read_only: bool,
    ) -> (mamori_store::ApiTokenRow, String) {
        let (token, prefix) = mamori_web::credentials::new_api_token();
        let mut tx = self.store().begin(Actor::system()).await.expect("begin");
        let row = Store::create_token(
            &mut tx,
            user,
            "test",
            &mamori_web::credentials::sha256_hex(&token),
            &prefix,
            read_only,
            None,
        )
        .await
        .expect("token");
        tx.commit().await.expect("commit");
        (row, token)
    }

    /// Records a 離任日 for the person behind `user`.
    pub async fn set_left_on(&self, user: &mamori_store::UserRow, date: &str) {
        let person = self
            .store()
            .person(user.person_id.expect("linked"))
            .await
            .expect("q")
            .expect("person");
        let input = PersonInput {
            staff_id: person.staff_id.clone(),
            name: person.name.clone(),
            kana: person.kana.clone(),
            unit_id: person.unit_id,
            category: person.category.clone(),
            email: person.email.clone(),
            joined_on: person.joined_on.clone(),
            left_on: Some(date.to_owned()),
        };
        let mut tx = self.store().begin(Actor::system()).await.expect("begin");
        Store::update_person(&mut tx, person.id, &input)
            .await
            .expect("update");
        tx.commit().await.expect("commit");
    }

    /// Turns the MFA requirement off (for tests about other things).
    pub async fn no_mfa_policy(&self) {
        let before = self.store().settings().await.expect("settings");
        let after = mamori_domain::settings::OrgSettings {
            mfa_required_roles: vec![],
            ..before.clone()
        };
        let mut tx = self.store().begin(Actor::system()).await.expect("begin");
        Store::save_settings(&mut tx, &before, &after)
            .await
            .expect("save");
        tx.commit().await.expect("commit");
        self.state.invalidate_settings();
    }

    pub fn client(&self) -> Client {
        Client {
            router: self.router.clone(),
            cookies: HashMap::new(),
            csrf: None,
        }
    }
}

pub const PASSWORD: &str = "a long enough passphrase 2026";

/// A browser-like client: keeps cookies and the last CSRF token seen in a page.
pub struct Client {
    router: axum::Router,
    pub cookies: HashMap<String, String>,
    pub csrf: Option<String>,
}

impl Client {
    fn cookie_header(&self) -> String {
        self.cookies
            .iter()
            .map(|(k, v)| format!("{k}={v}"))
            .collect::<Vec<_>>()
            .join("; ")
    }

    pub async fn send(&mut self, req: Request<Body>) -> Response {
        let res = self.router.clone().oneshot(req).await.expect("infallible");
        let status = res.status();
        let headers = res.headers().clone();
        for v in headers.get_all(header::SET_COOKIE) {
            let s = v.to_str().unwrap_or_default();
            let pair = s.split(';').next().unwrap_or_default();
            if let Some((k, val)) = pair.split_once('=') {
                if val.is_empty() || s.contains("Max-Age=0") {
                    self.cookies.remove(k);
                } else {
                    self.cookies.insert(k.to_owned(), val.to_owned());
                }
            }
        }
        let bytes = res.into_body().collect().await.expect("body").to_bytes();
        let body = String::from_utf8_lossy(&bytes).into_owned();
        if let Some(token) = extract_csrf(&body) {
            self.csrf = Some(token);
        }
        Response {
            status,
            headers,
            body,
        }
    }

    pub async fn get(&mut self, path: &str) -> Response {
        let req = Request::get(path)
            .header(header::HOST, "mamori.test")
            .header(header::COOKIE, self.cookie_header())
            .body(Body::empty())
            .expect("req");
        self.send(req).await
    }

    /// GETs a binary body (downloads) with this client's cookies.
    pub async fn get_bytes(&mut self, path: &str) -> Vec<u8> {
        let req = Request::get(path)
            .header(header::HOST, "mamori.test")
            .header(header::COOKIE, self.cookie_header())
            .body(Body::empty())
            .expect("req");
        let res = self.router.clone().oneshot(req).await.expect("infallible");
        res.into_body()
            .collect()
            .await
            .expect("body")
            .to_bytes()
            .to_vec()
    }

    pub async fn get_with(&mut self, path: &str, headers: &[(&str, &str)]) -> Response {
        let mut b = Request::get(path)
            .header(header::HOST, "mamori.test")
            .header(header::COOKIE, self.cookie_header());
        for (k, v) in headers {
            b = b.header(*k, *v);
        }
        self.send(b.body(Body::empty()).expect("req")).await
    }

    /// POSTs a form with the current CSRF token added.
    pub async fn post(&mut self, path: &str, fields: &[(&str, &str)]) -> Response {
        let mut pairs: Vec<(&str, &str)> = fields.to_vec();
        let token = self.csrf.clone().unwrap_or_default();
        pairs.push(("csrf", &token));
        let body = serde_urlencoded::to_string(&pairs).expect("form");
        self.post_raw(path, body.into_bytes(), &[("origin", "http://mamori.test")])
            .await
    }

    pub async fn send_json(
        &mut self,
        method: &str,
        path: &str,
        body: &serde_json::Value,
        headers: &[(&str, &str)],
    ) -> Response {
        let mut b = Request::builder()
            .method(method)
            .uri(path)
            .header(header::HOST, "mamori.test")
            .header(header::CONTENT_TYPE, "application/json")
            .header(header::COOKIE, self.cookie_header());
        for (k, v) in headers {
            b = b.header(*k, *v);
        }
        self.send(b.body(Body::from(body.to_string())).expect("req"))
            .await
    }

    pub async fn post_multipart(
        &mut self,
        path: &str,
        content_type: &str,
        body: Vec<u8>,
    ) -> Response {
        let req = Request::post(path)
            .header(header::HOST, "mamori.test")
            .header(header::CONTENT_TYPE, content_type)
            .header(header::COOKIE, self.cookie_header())
            .body(Body::from(body))
            .expect("req");
        self.send(req).await
    }

    /// POSTs a body of the given content type with extra headers.
    pub async fn post_raw_typed(
        &mut self,
        path: &str,
        content_type: &str,
        body: Vec<u8>,
        headers: &[(&str, &str)],
    ) -> Response {
        let mut b = Request::post(path)
            .header(header::HOST, "mamori.test")
            .header(header::CONTENT_TYPE, content_type)
            .header(header::COOKIE, self.cookie_header());
        for (k, v) in headers {
            b = b.header(*k, *v);
        }
        self.send(b.body(Body::from(body)).expect("req")).await
    }

    pub async fn post_raw(
        &mut self,
        path: &str,
        body: Vec<u8>,
        headers: &[(&str, &str)],
    ) -> Response {
        let mut b = Request::post(path)
            .header(header::HOST, "mamori.test")
            .header(header::CONTENT_TYPE, "application/x-www-form-urlencoded")
            .header(header::COOKIE, self.cookie_header());
        for (k, v) in headers {
            b = b.header(*k, *v);
        }
        self.send(b.body(Body::from(body)).expect("req")).await
    }

    /// Logs in with the test password (loads the login page first for the CSRF cookie).
    pub async fn login(&mut self, username: &str) -> Response {
        self.get("/login").await;
        let res = self
            .post("/login", &[("username", username), ("password", PASSWORD)])
            .await;
        assert_eq!(
            res.status,
            StatusCode::SEE_OTHER,
            "login of {username} failed: {}",
            res.body
        );
        // Load a page to pick up the session's CSRF token.
        self.get("/account/password").await;
        res
    }
}

fn extract_csrf(html: &str) -> Option<String> {
    let marker = "name=\"csrf\" value=\"";
    let start = html.find(marker)? + marker.len();
    let end = html[start..].find('"')? + start;
    Some(html[start..end].to_owned())
}

/// Runs an async test body on SQLite and, when configured, on PostgreSQL.
#[macro_export]
macro_rules! both {
    ($name:ident, $body:expr) => {
        mod $name {
            use super::*;

            #[tokio::test]
            async fn sqlite() {
                ($body)(false).await
            }

            #[tokio::test]
            async fn postgres() {
                if common::postgres_url().is_none() {
                    eprintln!("skipped: MAMORI_TEST_POSTGRES_URL is not set");
                    return;
                }
                ($body)(true).await
            }
        }
    };
}

/// A multipart body: text fields first (the CSRF token must come first), then an optional
/// file `(field, filename, content type, bytes)`. Returns (content type, body).
pub fn multipart(
    fields: &[(&str, &str)],
    file: Option<(&str, &str, &str, &[u8])>,
) -> (String, Vec<u8>) {
    let boundary = "MamoriTestBoundary7";
    let mut body = Vec::new();
    for (name, value) in fields {
        body.extend_from_slice(format!("--{boundary}\r\nContent-Disposition: form-data; name=\"{name}\"\r\n\r\n{value}\r\n").as_bytes());
    }
    if let Some((name, filename, content_type, content)) = file {
        body.extend_from_slice(
            format!("--{boundary}\r\nContent-Disposition: form-data; name=\"{name}\"; filename=\"{filename}\"\r\nContent-Type: {content_type}\r\n\r\n").as_bytes(),
        );
        body.extend_from_slice(content);
        body.extend_from_slice(b"\r\n");
    }
    body.extend_from_slice(format!("--{boundary}--\r\n").as_bytes());
    (format!("multipart/form-data; boundary={boundary}"), body)
}
