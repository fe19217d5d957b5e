//! The threat and control catalogues over HTTP, on SQLite and PostgreSQL: reading by everyone,
//! editing by `catalogue.manage` with refusals naming the field, statuses per unit with
//! evidence and verification (never one's own), the API filters and the import page.

#![allow(missing_docs)]

mod common;

use common::TestApp;

both!(
    catalogues_are_read_by_all_and_edited_by_managers,
    |pg: bool| async move {
        let app = TestApp::with(pg, mamori_web::WebConfig::default()).await;
        app.no_mfa_policy().await;
        app.add_unit("soumu", "secretariat").await;
        app.add_user("tanaka", "soumu", &[]).await;
        app.add_user("chief", "secretariat", &["chief_officer"])
            .await;

        let mut t = app.client();
        t.login("tanaka").await;
        let threats = t.get("/threats").await;
        assert_eq!(threats.status, 200);
        assert!(threats.body.contains("T1-01") && threats.body.contains("ランサムウェア"));
        assert!(threats.body.contains("意図的な要因"), "grouped by category");
        assert!(
            !threats.body.contains("/threats/new"),
            "no edit link for staff"
        );
        let controls = t.get("/controls?area=M6").await;
        assert!(controls.body.contains("M6-04") && !controls.body.contains("M1-01"));
        assert!(controls.body.contains("技術的セキュリティ"));
        assert_eq!(t.get("/controls/M6-04").await.status, 200);
        // "CSV で出力" gives exactly what the list shows, in the import format.
        let csv = t.get("/controls.csv?area=M6").await;
        assert_eq!(csv.status, 200);
        assert!(
            csv.body.starts_with("\u{feff}管理策コード,対策分野,名称"),
            "{}",
            csv.body
        );
        assert!(csv.body.contains("M6-04,技術的セキュリティ,") && !csv.body.contains("M1-01"));
        assert_eq!(t.get("/threats.xlsx").await.status, 200);
        assert_eq!(t.get("/threats/new").await.status, 403);
        assert_eq!(t.get("/controls/unit/soumu").await.status, 403);
        let api = t.get("/api/v1/threats?category=T3").await.json();
        assert!(api["items"].as_array().is_some_and(|a| a.len() >= 3));
        assert!(api["items"]
            .as_array()
            .expect("items")
            .iter()
            .all(|i| i["category"] == "T3"));
        let all = t.get("/api/v1/controls?limit=1").await.json();
        assert!(all["total"].as_i64() >= Some(40));
        assert_eq!(all["items"].as_array().map(Vec::len), Some(1));

        let mut c = app.client();
        c.login("chief").await;
        c.get("/threats/new").await;
        let made = c
            .post(
                "/threats",
                &[
                    ("code", "T2-11"),
                    ("category", "T2"),
                    ("title", "誤廃棄"),
                    ("description", ""),
                ],
            )
            .await;
        assert_eq!(made.status, 303, "{}", made.body);
        let taken = c
            .post(
                "/threats",
                &[("code", "T2-11"), ("category", "T2"), ("title", "重複")],
            )
            .await;
        assert_eq!(taken.status, 422);
        assert!(
            taken.body.contains("このコードはすでに使われています"),
            "{}",
            taken.body
        );
        let unknown = c
            .post(
                "/threats",
                &[("code", "T9-01"), ("category", "T9"), ("title", "不明")],
            )
            .await;
        assert_eq!(unknown.status, 422);
        assert!(unknown.body.contains("脅威の分類を選んでください"));
        let retired = c
            .post(
                "/threats/T2-11",
                &[("category", "T2"), ("title", "誤廃棄"), ("retired", "on")],
            )
            .await;
        assert_eq!(retired.status, 303);
        assert!(!c.get("/threats?category=T2").await.body.contains("T2-11"));
        assert!(c
            .get("/threats?category=T2&retired=1")
            .await
            .body
            .contains("T2-11"));

        // Controls: an existing code, an unknown clause, an unknown area are refused by field.
        c.get("/controls/new").await;
        let control = |code: &'static str, area: &'static str, clauses: &'static str| {
            vec![
                ("code", code),
                ("area", area),
                ("title", "独自の管理策"),
                ("clauses", clauses),
                ("owner_role", "system_manager"),
                ("segment", "lgwan"),
                ("min_tier", "2"),
            ]
        };
        let dup = c.post("/controls", &control("M6-04", "M6", "6(6)")).await;
        assert_eq!(dup.status, 422);
        assert!(dup.body.contains("このコードはすでに使われています"));
        let clause = c
            .post("/controls", &control("KI-01", "M6", "6(6); 6(10)"))
            .await;
        assert_eq!(clause.status, 422);
        assert!(
            clause
                .body
                .contains("施行中の基本方針にない条項です。 (6(10))"),
            "{}",
            clause.body
        );
        let area = c.post("/controls", &control("KI-01", "M10", "6(6)")).await;
        assert!(area.body.contains("対策分野を選んでください"));
        let ok = c
            .post("/controls", &control("KI-01", "M6", "６（６）"))
            .await;
        assert_eq!(ok.status, 303, "{}", ok.body);
        assert_eq!(ok.location(), Some("/controls/KI-01"));
        let shown = c.get("/controls/KI-01").await;
        assert!(shown.body.contains("基本方針 6(6)") && shown.body.contains("LGWAN接続系"));
        assert!(shown.body.contains("機密性2以上"));
        let edited = c
            .post("/controls/KI-01", &control("ignored", "M7", "6(7)"))
            .await;
        assert_eq!(edited.location(), Some("/controls/KI-01"));
        let k = app
            .store()
            .control_by_code("KI-01")
            .await
            .expect("q")
            .expect("row");
        assert_eq!(
            (k.area.as_str(), k.clauses.as_slice()),
            ("M7", ["6(7)".to_owned()].as_slice())
        );
        // Staff may not change the catalogue.
        t.get("/controls").await;
        let refused = t
            .post("/controls/KI-01", &control("KI-01", "M6", "6(6)"))
            .await;
        assert_eq!(refused.status, 403);
        app.close().await;
    }
);

both!(
    statuses_evidence_and_verification_per_unit,
    |pg: bool| async move {
        let app = TestApp::with(pg, mamori_web::WebConfig::default()).await;
        app.no_mfa_policy().await;
        app.add_unit("soumu", "secretariat").await;
        app.add_unit("kansa", "audit_office").await;
        app.add_user("manager", "soumu", &["unit_manager@soumu"])
            .await;
        app.add_user("chief", "secretariat", &["chief_officer"])
            .await;
        app.add_user("auditor", "kansa", &["auditor"]).await;

        let mut m = app.client();
        m.login("manager").await;
        let unit = m.get("/controls/unit/soumu").await;
        assert_eq!(unit.status, 200);
        assert!(unit.body.contains("M6-04") && unit.body.contains("未実施"));
        assert_eq!(m.get("/controls/unit/kansa").await.status, 403);
        m.get("/controls/M6-04/units/soumu").await;
        let bad = m
            .post(
                "/controls/M6-04/units/soumu",
                &[
                    ("status", "done"),
                    ("links", "javascript:alert(1)"),
                    ("review_on", "R9.2.30"),
                ],
            )
            .await;
        assert_eq!(bad.status, 422);
        assert!(bad.body.contains("実施状況を選んでください"));
        assert!(bad.body.contains("http:// または https://"));
        let set = m
            .post(
                "/controls/M6-04/units/soumu",
                &[
                    ("status", "partial"),
                    ("note", "月次で適用"),
                    ("links", "https://intra.example/patch\n"),
                    ("review_on", "令和9年3月31日"),
                ],
            )
            .await;
        assert_eq!(set.status, 303, "{}", set.body);
        let other = m
            .post("/controls/M6-04/units/kansa", &[("status", "implemented")])
            .await;
        assert_eq!(other.status, 403);
        // Evidence: stored, served only as a download.
        let page = m.get("/controls/M6-04/units/soumu").await;
        assert!(
            page.body.contains("一部実施") && page.body.contains("https://intra.example/patch")
        );
        let csrf = m.csrf.clone().expect("csrf");
        let (ct, body) = common::multipart(
            &[("csrf", &csrf)],
            Some((
                "file",
                "報告.html",
                "text/html",
                b"<script>alert(1)</script>",
            )),
        );
        let up = m
            .post_raw_typed(
                "/controls/M6-04/units/soumu/evidence",
                &ct,
                body,
                &[("origin", "http://mamori.test")],
            )
            .await;
        assert_eq!(up.status, 303, "{}", up.body);
        let c = app
            .store()
            .control_by_code("M6-04")
            .await
            .expect("q")
            .expect("c");
        let soumu = app.unit("soumu").await;
        let ev = app
            .store()
            .control_evidence(c.id, soumu.id)
            .await
            .expect("e");
        let dl = m
            .get(&format!(
                "/controls/M6-04/units/soumu/evidence/{}",
                ev[0].id
            ))
            .await;
        assert_eq!(dl.status, 200);
        assert_eq!(
            dl.headers.get("content-type").and_then(|v| v.to_str().ok()),
            Some("application/octet-stream")
        );
        assert!(dl
            .headers
            .get("content-disposition")
            .and_then(|v| v.to_str().ok())
            .is_some_and(|v| v.starts_with("attachment")));
        // Nobody verifies their own status; someone else may.
        let own = m.post("/controls/M6-04/units/soumu/verify", &[]).await;
        assert_eq!(own.status, 422);
        assert!(
            own.body.contains("自分で記録した実施状況は確認できません"),
            "{}",
            own.body
        );
        let mut chief = app.client();
        chief.login("chief").await;
        chief.get("/controls/M6-04/units/soumu").await;
        let verified = chief.post("/controls/M6-04/units/soumu/verify", &[]).await;
        assert_eq!(verified.status, 303, "{}", verified.body);
        let s = app
            .store()
            .control_status(c.id, soumu.id)
            .await
            .expect("s")
            .expect("row");
        assert_eq!(s.verified_by.as_deref(), Some("chief"));
        let page = chief.get("/controls/M6-04/units/soumu").await;
        for want in [
            "実施状況を記録",
            "確認済みにした",
            "証跡を追加",
            "報告.html",
        ] {
            assert!(page.body.contains(want), "{want}");
        }

        // The catalogue page sums statuses over the units the reader may see.
        let list = chief.get("/controls?area=M6").await;
        assert!(list.body.contains("/controls/unit/soumu"), "unit links");
        // The API: filters, the unit's status, refusals.
        let mut a = app.client();
        a.login("auditor").await;
        let json = a
            .get("/api/v1/controls?unit=soumu&status=partial")
            .await
            .json();
        assert_eq!(json["total"], 1, "{json}");
        assert_eq!(json["items"][0]["code"], "M6-04");
        assert_eq!(json["items"][0]["unit_status"]["status"], "partial");
        assert_eq!(json["items"][0]["unit_status"]["verified_by"], "chief");
        assert_eq!(a.get("/api/v1/controls?status=partial").await.status, 422);
        assert_eq!(a.get("/api/v1/controls?area=M99").await.status, 422);
        assert_eq!(
            a.get("/api/v1/controls?unit=soumu&status=done")
                .await
                .status,
            422
        );
        let mut m2 = app.client();
        m2.login("manager").await;
        assert_eq!(m2.get("/api/v1/controls?unit=kansa").await.status, 403);
        let not_started = m2
            .get("/api/v1/controls?unit=soumu&status=not_started&area=M6")
            .await
            .json();
        assert!(not_started["items"]
            .as_array()
            .expect("items")
            .iter()
            .all(|i| i["code"] != "M6-04"));
        app.close().await;
    }
);

both!(
    control_import_page_is_all_or_nothing,
    |pg: bool| async move {
        let app = TestApp::with(pg, mamori_web::WebConfig::default()).await;
        app.no_mfa_policy().await;
        app.add_user("chief", "secretariat", &["chief_officer"])
            .await;
        app.add_user("manager", "secretariat", &["unit_manager@secretariat"])
            .await;
        let mut c = app.client();
        c.login("chief").await;
        c.get("/admin/import?kind=controls").await;
        let csrf = c.csrf.clone().expect("csrf");
        let bad = "管理策コード,対策分野,名称,基本方針の条項,責任者の役割\n\
               KI-01,M6,独自,6(6),system_manager\n\
               KI-02,M10,分野なし,6(6),system_manager\n\
               KI-01,M6,重複,6(6),janitor\n";
        let (ct, body) = common::multipart(
            &[("csrf", &csrf), ("kind", "controls")],
            Some(("file", "controls.csv", "text/csv", bad.as_bytes())),
        );
        let preview = c
            .post_raw_typed(
                "/admin/import/preview",
                &ct,
                body,
                &[("origin", "http://mamori.test")],
            )
            .await;
        assert_eq!(preview.status, 200);
        assert!(
            preview.body.contains("controls.csv:4: 管理策コード:"),
            "{}",
            preview.body
        );
        let good = "code,area,title,clauses,owner_role\nKI-01,技術的セキュリティ,独自,6(6),情報システム管理者\n";
        let (ct, body) = common::multipart(
            &[("csrf", &csrf), ("kind", "controls")],
            Some(("file", "controls.csv", "text/csv", good.as_bytes())),
        );
        let preview = c
            .post_raw_typed(
                "/admin/import/preview",
                &ct,
                body,
                &[("origin", "http://mamori.test")],
            )
            .await;
        assert!(
            app.store()
                .control_by_code("KI-01")
                .await
                .expect("q")
                .is_none(),
            "preview writes nothing"
        );
        use base64::Engine as _;
        let applied = c
            .post(
                "/admin/import/apply",
                &[
                    ("kind", "controls"),
                    ("filename", "controls.csv"),
                    (
                        "content",
                        &base64::engine::general_purpose::STANDARD.encode(good),
                    ),
                ],
            )
            .await;
        assert_eq!(applied.status, 200, "{}", preview.body);
        assert!(app
            .store()
            .control_by_code("KI-01")
            .await
            .expect("q")
            .is_some());
        // A unit manager may not import the organisation's catalogue.
        let mut m = app.client();
        m.login("manager").await;
        m.get("/controls").await;
        let refused = m
            .post(
                "/admin/import/apply",
                &[
                    ("kind", "controls"),
                    ("filename", "controls.csv"),
                    (
                        "content",
                        &base64::engine::general_purpose::STANDARD.encode(good),
                    ),
                ],
            )
            .await;
        assert_eq!(refused.status, 403);
        app.close().await;
    }
);
