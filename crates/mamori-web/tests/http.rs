//! The web application end to end without a socket: login, gates, sessions, CSRF, throttling,
//! tokens, the API's JSON errors and bad input.

#![allow(missing_docs)]

#[macro_use]
mod common;

use axum::http::StatusCode;
use common::{TestApp, PASSWORD};
use mamori_store::AuditFilter;

/// Runs a test on SQLite, and on PostgreSQL when `MAMORI_TEST_POSTGRES_URL` is set.
async fn actions(app: &TestApp) -> Vec<String> {
    let (entries, _) = app
        .store()
        .audit_page(&AuditFilter::default(), 1000, 0)
        .await
        .expect("audit");
    entries.into_iter().map(|e| e.record.action).collect()
}

both!(
    login_sets_a_safe_cookie_and_logout_ends_the_session_on_the_server,
    |pg: bool| async move {
        let app = TestApp::with(pg, mamori_web::WebConfig::default()).await;
        app.no_mfa_policy().await;
        app.add_user("tanaka", "secretariat", &[]).await;
        let mut c = app.client();
        let res = c.login("tanaka").await;
        let cookie = res
            .headers
            .get_all("set-cookie")
            .iter()
            .map(|v| v.to_str().unwrap_or_default().to_owned())
            .find(|v| v.starts_with("mamori_session="));
        let cookie = cookie.expect("session cookie");
        assert!(
            cookie.contains("HttpOnly")
                && cookie.contains("SameSite=Lax")
                && cookie.contains("Path=/"),
            "{cookie}"
        );
        let value = cookie
            .split(';')
            .next()
            .unwrap_or_default()
            .trim_start_matches("mamori_session=")
            .to_owned();
        assert!(value.len() >= 22, "at least 128 bits");
        assert_eq!(c.get("/").await.status, StatusCode::OK);

        // The database holds only a hash of the cookie value.
        let sessions = app
            .store()
            .sessions_for_user(
                app.store()
                    .user_by_username("tanaka")
                    .await
                    .expect("q")
                    .expect("u")
                    .id,
            )
            .await
            .expect("s");
        assert_eq!(sessions.len(), 1);
        assert_ne!(sessions[0].id_hash, value);

        let res = c.post("/logout", &[]).await;
        assert_eq!(res.status, StatusCode::SEE_OTHER);
        // Replaying the old cookie does not work: the session is gone on the server.
        c.cookies.insert("mamori_session".into(), value);
        let res = c.get("/").await;
        assert_eq!(res.status, StatusCode::SEE_OTHER);
        assert!(res.location().unwrap_or_default().starts_with("/login"));
        let acts = actions(&app).await;
        assert!(acts.contains(&"login.success".into()) && acts.contains(&"logout".into()));
        app.close().await;
    }
);

both!(
    wrong_password_is_audited_and_says_nothing_about_the_account,
    |pg: bool| async move {
        let app = TestApp::with(pg, mamori_web::WebConfig::default()).await;
        app.add_user("suzuki", "secretariat", &[]).await;
        let mut c = app.client();
        c.get("/login").await;
        let wrong = c
            .post(
                "/login",
                &[("username", "suzuki"), ("password", "wrong password here")],
            )
            .await;
        let unknown = c
            .post(
                "/login",
                &[("username", "nobody"), ("password", "wrong password here")],
            )
            .await;
        assert_eq!(wrong.status, StatusCode::UNAUTHORIZED);
        assert_eq!(unknown.status, StatusCode::UNAUTHORIZED);
        assert!(wrong
            .body
            .contains("ユーザー名またはパスワードが正しくありません"));
        assert!(unknown
            .body
            .contains("ユーザー名またはパスワードが正しくありません"));
        assert!(
            !wrong.body.contains("wrong password here"),
            "the password is never echoed"
        );
        let (entries, _) = app
            .store()
            .audit_page(
                &AuditFilter {
                    action_prefix: Some("login.failure".into()),
                    ..Default::default()
                },
                10,
                0,
            )
            .await
            .expect("a");
        assert_eq!(entries.len(), 2);
        assert!(entries.iter().all(|e| !e
            .record
            .after
            .clone()
            .unwrap_or_default()
            .contains("wrong password")));
        app.close().await;
    }
);

both!(
    repeated_failures_lock_the_account_even_for_the_right_password_then_lift,
    |pg: bool| async move {
        let config = mamori_web::WebConfig {
            account_max_failures: 3,
            ..Default::default()
        };
        let app = TestApp::with(pg, config).await;
        app.no_mfa_policy().await;
        app.add_user("sato", "secretariat", &[]).await;
        let mut c = app.client();
        c.get("/login").await;
        for _ in 0..3 {
            let r = c
                .post(
                    "/login",
                    &[("username", "sato"), ("password", "not the password")],
                )
                .await;
            assert_eq!(r.status, StatusCode::UNAUTHORIZED);
        }
        let locked = c
            .post("/login", &[("username", "SATO"), ("password", PASSWORD)])
            .await;
        assert_eq!(
            locked.status,
            StatusCode::TOO_MANY_REQUESTS,
            "locked regardless of case"
        );
        assert!(locked.body.contains("一時的にログインを停止"));
        assert!(actions(&app).await.contains(&"login.lockout".into()));
        // Attempts while locked are not counted, so the lock cannot be extended by an attacker.
        let user_key_failures = app
            .store()
            .login_failures(
                "user:sato",
                time::OffsetDateTime::now_utc() - time::Duration::hours(1),
            )
            .await
            .expect("q");
        assert_eq!(user_key_failures.len(), 3);
        app.close().await;
    }
);

both!(
    one_time_password_forces_a_change_before_anything_else,
    |pg: bool| async move {
        let app = TestApp::with(pg, mamori_web::WebConfig::default()).await;
        app.no_mfa_policy().await;
        let user = app.add_user("kato", "secretariat", &[]).await;
        let mut tx = app
            .store()
            .begin(mamori_store::Actor::system())
            .await
            .expect("b");
        let hash = mamori_web::credentials::hash_password(PASSWORD).expect("h");
        mamori_store::Store::set_password(&mut tx, user.id, &hash, true, None)
            .await
            .expect("set");
        tx.commit().await.expect("c");
        let mut c = app.client();
        c.get("/login").await;
        c.post("/login", &[("username", "kato"), ("password", PASSWORD)])
            .await;
        let res = c.get("/").await;
        assert_eq!(res.location(), Some("/account/password"));
        let res = c.get("/account/password").await;
        assert!(res.body.contains("初回ログインです"));
        // Rules are enforced with messages next to the field.
        let res = c
            .post(
                "/account/password",
                &[
                    ("current", PASSWORD),
                    ("new_password", "kato12345678"),
                    ("confirm", "kato12345678"),
                ],
            )
            .await;
        assert_eq!(res.status, StatusCode::UNPROCESSABLE_ENTITY);
        assert!(res
            .body
            .contains("パスワードにユーザー名を含めないでください"));
        let res = c
            .post(
                "/account/password",
                &[
                    ("current", "wrong"),
                    ("new_password", "sakura no hana ga saku"),
                    ("confirm", "sakura no hana ga saku"),
                ],
            )
            .await;
        assert!(res.body.contains("現在のパスワードが正しくありません"));
        let res = c
            .post(
                "/account/password",
                &[
                    ("current", PASSWORD),
                    ("new_password", "sakura no hana ga saku"),
                    ("confirm", "sakura no hana ga saku"),
                ],
            )
            .await;
        assert_eq!(res.status, StatusCode::SEE_OTHER, "{}", res.body);
        assert_eq!(c.get("/").await.status, StatusCode::OK);
        app.close().await;
    }
);

both!(
    mfa_enrolment_and_login_accept_each_code_once,
    |pg: bool| async move {
        let app = TestApp::with(pg, mamori_web::WebConfig::default()).await;
        app.add_user("ito", "secretariat", &["ciso"]).await;
        let mut c = app.client();
        c.login("ito").await;
        // CISO must enrol before anything else.
        assert_eq!(c.get("/").await.location(), Some("/account/mfa"));
        let res = c
            .post("/account/mfa/setup", &[("password", PASSWORD)])
            .await;
        assert!(res.body.contains("<svg"), "QR code drawn server-side");
        let user = app
            .store()
            .user_by_username("ito")
            .await
            .expect("q")
            .expect("u");
        let secret = user
            .totp_pending_secret
            .expect("secret pending while enrolling");
        assert!(!user.totp_enabled, "not on before a code confirms it");
        let now = time::OffsetDateTime::now_utc().unix_timestamp() as u64;
        let code = mamori_web::credentials::totp::code_at(&secret, now).expect("code");
        let res = c.post("/account/mfa/confirm", &[("code", &code)]).await;
        assert_eq!(res.status, StatusCode::OK, "{}", res.body);
        assert_eq!(
            res.body.matches("<li><code>").count(),
            10,
            "ten recovery codes shown once"
        );
        let recovery = res
            .body
            .split("<li><code>")
            .nth(1)
            .and_then(|s| s.split('<').next())
            .expect("a code")
            .to_owned();
        assert_eq!(c.get("/").await.status, StatusCode::OK);
        c.post("/logout", &[]).await;

        // Logging in now asks for the second factor; the enrolment code cannot be replayed.
        c.get("/login").await;
        let res = c
            .post("/login", &[("username", "ito"), ("password", PASSWORD)])
            .await;
        assert!(res.location().unwrap_or_default().starts_with("/login/mfa"));
        let before_mfa = c.cookies.get("mamori_session").cloned();
        assert_eq!(c.get("/").await.location(), Some("/login/mfa"));
        c.get("/login/mfa").await;
        let res = c.post("/login/mfa", &[("code", &code)]).await;
        assert_eq!(
            res.status,
            StatusCode::UNAUTHORIZED,
            "a code is accepted only once"
        );
        // A recovery code works once, and the session id changes after the second factor.
        let res = c.post("/login/mfa", &[("code", &recovery)]).await;
        assert_eq!(res.status, StatusCode::SEE_OTHER, "{}", res.body);
        assert_ne!(c.cookies.get("mamori_session"), before_mfa.as_ref());
        assert_eq!(c.get("/").await.status, StatusCode::OK);
        let acts = actions(&app).await;
        for a in [
            "mfa.enable",
            "login.mfa_failure",
            "mfa.recovery_code_used",
            "login.success",
        ] {
            assert!(acts.contains(&a.to_string()), "missing {a}");
        }
        app.close().await;
    }
);

both!(
    forged_and_cross_origin_posts_are_refused,
    |pg: bool| async move {
        let app = TestApp::with(pg, mamori_web::WebConfig::default()).await;
        app.no_mfa_policy().await;
        app.add_user("admin2", "secretariat", &["admin"]).await;
        let mut c = app.client();
        c.login("admin2").await;
        let form = "code=forged&name=forged&parent=secretariat&in_scope=on";
        let no_token = c
            .post_raw("/admin/units", form.as_bytes().to_vec(), &[])
            .await;
        assert_eq!(no_token.status, StatusCode::FORBIDDEN);
        let token = c.csrf.clone().expect("token");
        let with_token = format!("{form}&csrf={token}");
        let cross = c
            .post_raw(
                "/admin/units",
                with_token.clone().into_bytes(),
                &[("origin", "http://evil.example")],
            )
            .await;
        assert_eq!(cross.status, StatusCode::FORBIDDEN);
        assert!(cross.body.contains("このフォームは受け付けられません"));
        let site = c
            .post_raw(
                "/admin/units",
                with_token.clone().into_bytes(),
                &[("sec-fetch-site", "cross-site")],
            )
            .await;
        assert_eq!(site.status, StatusCode::FORBIDDEN);
        assert!(app
            .store()
            .unit_by_code("forged")
            .await
            .expect("q")
            .is_none());
        let ok = c
            .post_raw(
                "/admin/units",
                with_token.into_bytes(),
                &[("origin", "http://mamori.test")],
            )
            .await;
        assert_eq!(ok.status, StatusCode::SEE_OTHER, "{}", ok.body);
        assert!(app
            .store()
            .unit_by_code("forged")
            .await
            .expect("q")
            .is_some());
        app.close().await;
    }
);

both!(
    bad_input_gets_clear_errors_never_a_panic,
    |pg: bool| async move {
        let config = mamori_web::WebConfig {
            max_body_bytes: 1024,
            ..Default::default()
        };
        let app = TestApp::with(pg, config).await;
        app.no_mfa_policy().await;
        app.add_user("admin3", "secretariat", &["admin"]).await;
        let mut c = app.client();
        c.login("admin3").await;
        let token = c.csrf.clone().unwrap_or_default();
        // Invalid UTF-8 in a form.
        let mut body = format!("csrf={token}&code=").into_bytes();
        body.extend_from_slice(&[0xff, 0xfe, 0x80]);
        let res = c.post_raw("/admin/units", body, &[]).await;
        assert!(res.status.is_client_error(), "{}", res.status);
        assert!(
            res.body.contains("<html"),
            "an error page, not a bare message"
        );
        // Oversized body.
        let big = format!("csrf={token}&name={}", "x".repeat(4096));
        let res = c.post_raw("/admin/units", big.into_bytes(), &[]).await;
        assert_eq!(res.status, StatusCode::PAYLOAD_TOO_LARGE);
        // Unknown page and unknown API path.
        let res = c.get("/no/such/page").await;
        assert_eq!(res.status, StatusCode::NOT_FOUND);
        assert!(res.body.contains("見つかりません"));
        let res = c.get("/api/v1/nope").await;
        assert_eq!(res.status, StatusCode::NOT_FOUND);
        assert_eq!(res.json()["error"]["code"], "not_found");
        // Validation errors name the field and are tied to it.
        let res = c
            .post(
                "/admin/units",
                &[
                    ("code", "Bad Code!"),
                    ("name", ""),
                    ("parent", "secretariat"),
                ],
            )
            .await;
        assert_eq!(res.status, StatusCode::UNPROCESSABLE_ENTITY);
        assert!(res.body.contains("href=\"#code\"") && res.body.contains("aria-invalid=\"true\""));
        // A forged session cookie is simply not a session.
        c.cookies.insert(
            "mamori_session".into(),
            "forged-session-value-xxxxxxxxxxxx".into(),
        );
        let res = c.get("/").await;
        assert_eq!(res.status, StatusCode::SEE_OTHER);
        app.close().await;
    }
);

both!(
    api_tokens_authenticate_alone_and_errors_are_json,
    |pg: bool| async move {
        let app = TestApp::with(pg, mamori_web::WebConfig::default()).await;
        app.add_user("api", "secretariat", &["unit_manager@secretariat"])
            .await;
        let user = app
            .store()
            .user_by_username("api")
            .await
            .expect("q")
            .expect("u");
        let (_, token) = app.token(&user, true).await;
        let mut c = app.client();
        let auth = format!("Bearer {token}");
        let res = c
            .get_with("/api/v1/people?limit=10", &[("authorization", &auth)])
            .await;
        assert_eq!(res.status, StatusCode::OK, "{}", res.body);
        let json = res.json();
        assert_eq!(
            json["total"], 1,
            "only people of the token owner's unit: {json}"
        );
        assert_eq!(json["items"][0]["staff_id"], "S-api");
        let res = c
            .get_with("/api/v1/people?limit=abc", &[("authorization", &auth)])
            .await;
        assert_eq!(res.status, StatusCode::BAD_REQUEST);
        assert_eq!(res.json()["error"]["code"], "bad_request");
        let res = c
            .get_with("/api/v1/people?limit=5000", &[("authorization", &auth)])
            .await;
        assert_eq!(res.status, StatusCode::BAD_REQUEST);
        let res = c
            .get_with("/api/v1/units", &[("authorization", "Bearer mmr_forged")])
            .await;
        assert_eq!(res.status, StatusCode::UNAUTHORIZED);
        assert_eq!(res.json()["error"]["code"], "unauthorized");
        let res = c.get("/api/v1/units").await;
        assert_eq!(res.status, StatusCode::UNAUTHORIZED);
        // English when asked.
        let res = c
            .get_with(
                "/api/v1/units?lang=en",
                &[("authorization", "Bearer mmr_forged")],
            )
            .await;
        assert_eq!(res.status, StatusCode::UNAUTHORIZED);
        app.close().await;
    }
);

both!(
    pages_carry_security_headers_and_load_nothing_from_elsewhere,
    |pg: bool| async move {
        let app = TestApp::with(pg, mamori_web::WebConfig::default()).await;
        let mut c = app.client();
        let res = c.get("/login").await;
        let csp = res
            .headers
            .get("content-security-policy")
            .and_then(|v| v.to_str().ok())
            .unwrap_or_default()
            .to_owned();
        assert!(
            csp.contains("frame-ancestors 'none'")
                && csp.contains("script-src 'self'")
                && !csp.contains("unsafe-inline")
        );
        assert_eq!(
            res.headers
                .get("x-content-type-options")
                .map(|v| v.as_bytes()),
            Some(&b"nosniff"[..])
        );
        assert!(res.headers.get("referrer-policy").is_some());
        assert!(
            res.headers.get("strict-transport-security").is_none(),
            "HSTS only with TLS"
        );
        assert!(
            !res.body.contains("http://") && !res.body.contains("https://"),
            "no outside resources"
        );
        assert!(res.body.contains("lang=\"ja\""));
        let res = c.get("/login?lang=en").await;
        assert!(res.body.contains("lang=\"en\"") && res.body.contains("Log in"));
        // The anonymous choice is remembered in a cookie.
        let res = c.get("/login").await;
        assert!(res.body.contains("lang=\"en\""));

        let tls = mamori_web::WebConfig {
            tls: true,
            ..Default::default()
        };
        let app2 = TestApp::with(pg, tls).await;
        let mut c2 = app2.client();
        let res = c2.get("/login").await;
        assert!(res.headers.get("strict-transport-security").is_some());
        let set = res
            .headers
            .get_all("set-cookie")
            .iter()
            .map(|v| v.to_str().unwrap_or_default().to_owned())
            .collect::<Vec<_>>()
            .join("\n");
        assert!(
            set.contains("__Host-mamori_csrf=") && set.contains("Secure"),
            "{set}"
        );
        app.close().await;
        app2.close().await;
    }
);

both!(
    admin_creates_units_and_people_and_finds_them_in_the_audit_log,
    |pg: bool| async move {
        let app = TestApp::with(pg, mamori_web::WebConfig::default()).await;
        app.no_mfa_policy().await;
        app.add_user("boss", "secretariat", &["admin"]).await;
        let mut c = app.client();
        c.login("boss").await;
        let res = c
            .post(
                "/admin/units",
                &[
                    ("code", "kaikei"),
                    ("name", "会計課"),
                    ("parent", "secretariat"),
                    ("in_scope", "on"),
                ],
            )
            .await;
        assert_eq!(res.status, StatusCode::SEE_OTHER, "{}", res.body);
        let res = c
            .post(
                "/admin/people",
                &[
                    ("staff_id", "０００７"),
                    ("name", "髙橋 ①"),
                    ("kana", "たかはし"),
                    ("unit", "kaikei"),
                    ("category", "dispatched"),
                    ("email", ""),
                    ("joined_on", "令和元年5月1日"),
                    ("left_on", ""),
                ],
            )
            .await;
        assert_eq!(res.status, StatusCode::SEE_OTHER, "{}", res.body);
        let p = app
            .store()
            .person_by_staff_id("0007")
            .await
            .expect("q")
            .expect("person with folded staff id");
        assert_eq!(p.name, "髙橋 ①", "names are stored exactly as written");
        assert_eq!(p.joined_on.as_deref(), Some("2019-05-01"));
        // An impossible date is refused with a message at the field, nothing saved.
        let res = c
            .post(
                "/admin/people",
                &[
                    ("staff_id", "0008"),
                    ("name", "x"),
                    ("unit", "kaikei"),
                    ("category", "regular"),
                    ("joined_on", "H31.5.1"),
                ],
            )
            .await;
        assert_eq!(res.status, StatusCode::UNPROCESSABLE_ENTITY);
        assert!(res.body.contains("元号の期間外"));
        assert!(app
            .store()
            .person_by_staff_id("0008")
            .await
            .expect("q")
            .is_none());
        let res = c.get("/admin/audit?entity_type=person").await;
        assert!(res.body.contains("person.create") && res.body.contains("0007"));
        let res = c
            .get("/admin/audit.csv?entity_type=unit&entity_id=kaikei")
            .await;
        assert_eq!(res.status, StatusCode::OK);
        assert!(res.body.starts_with('\u{feff}'), "BOM for Excel");
        assert!(res.body.contains("\r\n") && res.body.contains("unit.create"));
        let res = c.get("/admin/people?q=たかはし").await;
        assert!(res.body.contains("髙橋"));
        app.close().await;
    }
);

both!(
    starting_a_new_enrolment_keeps_mfa_on_until_confirmed,
    |pg: bool| async move {
        let app = TestApp::with(pg, mamori_web::WebConfig::default()).await;
        let user = app.add_user("mori", "secretariat", &["ciso"]).await;
        let mut tx = app
            .store()
            .begin(mamori_store::Actor::system())
            .await
            .expect("b");
        mamori_store::Store::begin_totp(&mut tx, user.id, "JBSWY3DPEHPK3PXPJBSWY3DPEHPK3PXP")
            .await
            .expect("begin");
        mamori_store::Store::enable_totp(&mut tx, user.id, 1, &[])
            .await
            .expect("enable");
        tx.commit().await.expect("c");
        let mut c = app.client();
        c.get("/login").await;
        c.post("/login", &[("username", "mori"), ("password", PASSWORD)])
            .await;
        c.get("/login/mfa").await;
        let now = time::OffsetDateTime::now_utc().unix_timestamp() as u64;
        let code = mamori_web::credentials::totp::code_at("JBSWY3DPEHPK3PXPJBSWY3DPEHPK3PXP", now)
            .expect("code");
        let res = c.post("/login/mfa", &[("code", &code)]).await;
        assert_eq!(res.status, StatusCode::SEE_OTHER, "{}", res.body);
        c.get("/account/mfa").await;
        let res = c
            .post("/account/mfa/setup", &[("password", PASSWORD)])
            .await;
        assert!(res.body.contains("<svg"));
        let u = app.store().user(user.id).await.expect("q").expect("u");
        assert!(
            u.totp_enabled,
            "MFA stays on while a new device is being enrolled"
        );
        assert_eq!(
            u.totp_secret.as_deref(),
            Some("JBSWY3DPEHPK3PXPJBSWY3DPEHPK3PXP")
        );
        assert!(u.totp_pending_secret.is_some());
        let res = c.get("/login?next=%2Fadmin%2Faudit").await;
        assert_eq!(
            res.status,
            StatusCode::SEE_OTHER,
            "logged in: /login sends home"
        );
        app.close().await;
    }
);

#[test]
fn language_link_keeps_filters() {
    // Chrome::lang_link is exercised through a page: the audit filters survive a switch.
    let rt = tokio::runtime::Runtime::new().expect("rt");
    rt.block_on(async {
        let app = TestApp::new().await;
        let mut c = app.client();
        let res = c.get("/login?next=%2Fadmin%2Faudit").await;
        assert!(
            res.body
                .contains("href=\"/login?next=%2Fadmin%2Faudit&#38;lang=en\""),
            "{}",
            res.body
        );
        app.close().await;
    });
}

both!(
    idle_and_absolute_limits_end_sessions,
    |pg: bool| async move {
        let app = TestApp::with(pg, mamori_web::WebConfig::default()).await;
        app.no_mfa_policy().await;
        let user = app.add_user("idle", "secretariat", &[]).await;
        let mut c = app.client();
        c.login("idle").await;
        assert_eq!(c.get("/").await.status, StatusCode::OK);
        // 31 minutes without a request (the default idle limit is 30).
        let sessions = app.store().sessions_for_user(user.id).await.expect("s");
        let past =
            mamori_store::format_ts(time::OffsetDateTime::now_utc() - time::Duration::minutes(31));
        sqlx::query("UPDATE sessions SET last_seen_at = $1 WHERE id_hash = $2")
            .bind(&past)
            .bind(&sessions[0].id_hash)
            .execute(app.store().pool())
            .await
            .expect("age the session");
        let res = c.get("/").await;
        assert_eq!(res.status, StatusCode::SEE_OTHER);
        assert!(res.location().unwrap_or_default().starts_with("/login"));
        // Absolute limit: active, but past its expiry.
        c.login("idle").await;
        let sessions = app.store().sessions_for_user(user.id).await.expect("s");
        sqlx::query("UPDATE sessions SET expires_at = $1")
            .bind(&past)
            .execute(app.store().pool())
            .await
            .expect("expire");
        assert!(sessions
            .iter()
            .all(|s| s.expires_at > time::OffsetDateTime::now_utc()));
        let res = c.get("/").await;
        assert_eq!(res.status, StatusCode::SEE_OTHER);
        app.close().await;
    }
);

both!(a_person_who_has_left_cannot_log_in, |pg: bool| async move {
    let app = TestApp::with(pg, mamori_web::WebConfig::default()).await;
    app.no_mfa_policy().await;
    let user = app.add_user("leaver", "secretariat", &[]).await;
    app.set_left_on(&user, "2020-03-31").await;
    let mut c = app.client();
    c.get("/login").await;
    let res = c
        .post("/login", &[("username", "leaver"), ("password", PASSWORD)])
        .await;
    assert_eq!(res.status, StatusCode::UNAUTHORIZED);
    app.close().await;
});

both!(
    cached_answers_follow_every_change_at_once,
    |pg: bool| async move {
        let app = TestApp::with(pg, mamori_web::WebConfig::default()).await;
        let user = app
            .add_user("cache", "secretariat", &["unit_manager@secretariat"])
            .await;
        let (row, token) = app.token(&user, false).await;
        let mut c = app.client();
        let auth = format!("Bearer {token}");
        for _ in 0..3 {
            let res = c
                .get_with("/api/v1/people", &[("authorization", &auth)])
                .await;
            assert_eq!(res.json()["total"], 1);
        }
        // A change made elsewhere (here: directly through the store) shows at once.
        app.add_person("NEW-1", "secretariat").await;
        let res = c
            .get_with("/api/v1/people", &[("authorization", &auth)])
            .await;
        assert_eq!(res.json()["total"], 2);
        // Losing the role shows at once too.
        let roles = app
            .store()
            .person_roles(user.person_id.expect("p"))
            .await
            .expect("roles");
        let mut tx = app
            .store()
            .begin(mamori_store::Actor::system())
            .await
            .expect("b");
        mamori_store::Store::unassign_role(&mut tx, roles[0].id)
            .await
            .expect("unassign");
        tx.commit().await.expect("c");
        let res = c
            .get_with("/api/v1/people", &[("authorization", &auth)])
            .await;
        assert_eq!(res.status, StatusCode::FORBIDDEN);
        // And a revoked token stops working at once.
        let mut tx = app
            .store()
            .begin(mamori_store::Actor::system())
            .await
            .expect("b");
        assert!(mamori_store::Store::revoke_token(&mut tx, &user, row.id)
            .await
            .expect("revoke"));
        tx.commit().await.expect("c");
        let res = c
            .get_with("/api/v1/units", &[("authorization", &auth)])
            .await;
        assert_eq!(res.status, StatusCode::UNAUTHORIZED);
        app.close().await;
    }
);

both!(a_leavers_api_token_stops_working, |pg: bool| async move {
    let app = TestApp::with(pg, mamori_web::WebConfig::default()).await;
    let user = app
        .add_user("tokenleaver", "secretariat", &["unit_manager@secretariat"])
        .await;
    let (_, token) = app.token(&user, false).await;
    let mut c = app.client();
    let auth = format!("Bearer {token}");
    assert_eq!(
        c.get_with("/api/v1/units", &[("authorization", &auth)])
            .await
            .status,
        StatusCode::OK
    );
    app.set_left_on(&user, "2021-03-31").await;
    assert_eq!(
        c.get_with("/api/v1/units", &[("authorization", &auth)])
            .await
            .status,
        StatusCode::UNAUTHORIZED
    );
    app.close().await;
});

both!(
    units_api_creates_and_updates_with_json_errors,
    |pg: bool| async move {
        let app = TestApp::with(pg, mamori_web::WebConfig::default()).await;
        let user = app
            .add_user("unitsapi", "secretariat", &["chief_officer@secretariat"])
            .await;
        let (_, token) = app.token(&user, false).await;
        let auth = format!("Bearer {token}");
        let h = [("authorization", auth.as_str())];
        let mut c = app.client();
        let res = c
            .send_json(
                "POST",
                "/api/v1/units",
                &serde_json::json!({"code": "soumu", "name": "総務課", "parent": "secretariat"}),
                &h,
            )
            .await;
        assert_eq!(res.status, StatusCode::CREATED, "{}", res.body);
        assert_eq!(res.json()["parent"], "secretariat");
        let res = c
            .send_json(
                "POST",
                "/api/v1/units",
                &serde_json::json!({"code": "Bad Code", "name": "", "parent": "secretariat"}),
                &h,
            )
            .await;
        assert_eq!(res.status, StatusCode::UNPROCESSABLE_ENTITY);
        let fields: Vec<String> = res.json()["error"]["fields"]
            .as_array()
            .expect("fields")
            .iter()
            .map(|f| f["field"].as_str().unwrap_or_default().to_owned())
            .collect();
        assert_eq!(fields, ["code", "name"]);
        let res = c
            .send_json(
                "POST",
                "/api/v1/units",
                &serde_json::json!({"code": "soumu", "name": "again", "parent": "secretariat"}),
                &h,
            )
            .await;
        assert_eq!(res.status, StatusCode::CONFLICT, "{}", res.body);
        // A unit outside the grant cannot be the parent.
        let res = c
            .send_json(
                "POST",
                "/api/v1/units",
                &serde_json::json!({"code": "x", "name": "x", "parent": "audit_office"}),
                &h,
            )
            .await;
        assert_eq!(res.status, StatusCode::FORBIDDEN);
        let res = c.send_json("PUT", "/api/v1/units/soumu", &serde_json::json!({"code": "soumu", "name": "総務課（改）", "parent": "secretariat", "in_scope": false}), &h).await;
        assert_eq!(res.status, StatusCode::OK, "{}", res.body);
        assert_eq!(res.json()["in_scope"], false);
        let res = c.get_with("/api/v1/units/soumu", &h).await;
        assert_eq!(res.json()["name"], "総務課（改）");
        let res = c.get_with("/api/v1/units/nope", &h).await;
        assert_eq!(res.status, StatusCode::NOT_FOUND);
        // Malformed JSON is a JSON error too.
        let res = c
            .send_json(
                "POST",
                "/api/v1/units",
                &serde_json::json!("not an object"),
                &h,
            )
            .await;
        assert!(res.status.is_client_error());
        assert!(res.json()["error"]["code"].is_string(), "{}", res.body);
        app.close().await;
    }
);

both!(
    people_api_reads_creates_and_updates_within_the_grant,
    |pg: bool| async move {
        let app = TestApp::with(pg, mamori_web::WebConfig::default()).await;
        let user = app
            .add_user("peopleapi", "secretariat", &["unit_manager@secretariat"])
            .await;
        let (_, token) = app.token(&user, false).await;
        let auth = format!("Bearer {token}");
        let h = [("authorization", auth.as_str())];
        let mut c = app.client();
        let body = serde_json::json!({"staff_id": "０１２３", "name": "髙橋 ①", "unit": "secretariat", "category": "fiscal_year", "joined_on": "R7.4.1"});
        let res = c.send_json("POST", "/api/v1/people", &body, &h).await;
        assert_eq!(res.status, StatusCode::CREATED, "{}", res.body);
        assert_eq!(res.json()["staff_id"], "0123");
        assert_eq!(res.json()["joined_on"], "2025-04-01");
        let res = c.get_with("/api/v1/people/0123", &h).await;
        assert_eq!(res.json()["name"], "髙橋 ①");
        let other = serde_json::json!({"staff_id": "X1", "name": "x", "unit": "audit_office", "category": "regular"});
        let res = c.send_json("POST", "/api/v1/people", &other, &h).await;
        assert_eq!(res.status, StatusCode::UNPROCESSABLE_ENTITY, "{}", res.body);
        assert_eq!(res.json()["error"]["fields"][0]["field"], "unit");
        let mut update = body.clone();
        update["staff_id"] = "0123".into();
        update["left_on"] = "令和8年3月31日".into();
        let res = c.send_json("PUT", "/api/v1/people/0123", &update, &h).await;
        assert_eq!(res.status, StatusCode::OK, "{}", res.body);
        assert_eq!(res.json()["left_on"], "2026-03-31");
        // A person of another unit is not found, rather than revealed.
        app.add_person("HIDDEN", "audit_office").await;
        assert_eq!(
            c.get_with("/api/v1/people/HIDDEN", &h).await.status,
            StatusCode::NOT_FOUND
        );
        app.close().await;
    }
);

both!(
    list_downloads_are_exactly_what_is_shown_and_re_import_cleanly,
    |pg: bool| async move {
        let app = TestApp::with(pg, mamori_web::WebConfig::default()).await;
        app.no_mfa_policy().await;
        app.add_user("lister", "secretariat", &["unit_manager@secretariat"])
            .await;
        app.add_person("VISIBLE-1", "secretariat").await;
        app.add_person("HIDDEN-1", "audit_office").await;
        let mut c = app.client();
        c.login("lister").await;
        let res = c.get("/admin/people.csv?q=VISIBLE").await;
        assert_eq!(res.status, StatusCode::OK);
        assert!(
            res.body
                .starts_with("\u{feff}職員番号,氏名,ふりがな,所属,任用区分"),
            "{}",
            res.body
        );
        assert!(
            res.body.contains("VISIBLE-1") && !res.body.contains("S-lister"),
            "the search applies"
        );
        let all = c.get("/admin/people.csv").await;
        assert!(
            !all.body.contains("HIDDEN-1"),
            "only units the reader may see"
        );
        let records = mamori_domain::interchange::kind::read_file::<
            mamori_domain::interchange::people::People,
        >(all.body.as_bytes())
        .expect("the download reads back as an import file");
        assert_eq!(records.len(), 2);
        let units = c.get("/admin/units.csv").await;
        let records = mamori_domain::interchange::kind::read_file::<
            mamori_domain::interchange::units::Units,
        >(units.body.as_bytes())
        .expect("units read back");
        assert_eq!(records.len(), 5);
        app.close().await;
    }
);

fn multipart(csrf: &str, kind: &str, filename: &str, content: &[u8]) -> (String, Vec<u8>) {
    common::multipart(
        &[("csrf", csrf), ("kind", kind)],
        Some(("file", filename, "text/csv", content)),
    )
}

both!(
    browser_import_previews_then_applies_all_or_nothing,
    |pg: bool| async move {
        let app = TestApp::with(pg, mamori_web::WebConfig::default()).await;
        app.no_mfa_policy().await;
        app.add_user("importer", "secretariat", &["admin"]).await;
        let mut c = app.client();
        c.login("importer").await;
        let page = c.get("/admin/import").await;
        assert_eq!(page.status, StatusCode::OK);
        let csrf = c.csrf.clone().expect("csrf");
        let sample = std::fs::read(concat!(
            env!("CARGO_MANIFEST_DIR"),
            "/../../../shared/samples/units.cp932.csv"
        ))
        .expect("sample");
        let (ct, body) = multipart(&csrf, "units", "units.cp932.csv", &sample);
        let res = c.post_multipart("/admin/import/preview", &ct, body).await;
        assert_eq!(res.status, StatusCode::OK, "{}", res.body);
        assert!(
            res.body.contains("追加 1 件") && res.body.contains("変更なし 2 件"),
            "{}",
            res.body
        );
        assert!(
            app.store()
                .unit_by_code("general-affairs")
                .await
                .expect("q")
                .is_none(),
            "a preview writes nothing"
        );
        // A bad file lists every problem with row and column, and offers no confirmation.
        let (ct, body) = multipart(
            &csrf,
            "units",
            "bad.csv",
            "code,name,色\nok,x,\n".as_bytes(),
        );
        let res = c.post_multipart("/admin/import/preview", &ct, body).await;
        assert!(
            res.body.contains("bad.csv:1: 色: この列名は使えません。"),
            "{}",
            res.body
        );
        assert!(!res.body.contains("/admin/import/apply"));
        // Confirming applies exactly the previewed file.
        use base64::Engine as _;
        let content = base64::engine::general_purpose::STANDARD.encode(&sample);
        let res = c
            .post(
                "/admin/import/apply",
                &[
                    ("kind", "units"),
                    ("filename", "units.cp932.csv"),
                    ("content", &content),
                ],
            )
            .await;
        assert_eq!(res.status, StatusCode::OK, "{}", res.body);
        assert!(res.body.contains("取り込みました"));
        assert_eq!(
            app.store()
                .unit_by_code("general-affairs")
                .await
                .expect("q")
                .expect("imported")
                .name,
            "総務係"
        );
        // Without the CSRF token an upload is refused.
        let (ct, body) = multipart("wrong", "units", "units.csv", &sample);
        let res = c.post_multipart("/admin/import/preview", &ct, body).await;
        assert_eq!(res.status, StatusCode::FORBIDDEN);
        app.close().await;
    }
);
