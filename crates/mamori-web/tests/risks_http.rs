//! The risk register over HTTP, on SQLite and PostgreSQL — the "done when": a
//! 情報セキュリティ管理者 records a risk for the 財務会計システム against ransomware, sees the
//! impact suggested from its class, links controls, requests acceptance, the CISO approves,
//! the heat map shows it, and reclassifying the system marks the risk for review. Also: who
//! may see and change risks, refusals by field with nothing saved, the API and the import page.

#![allow(missing_docs)]

mod common;

use common::TestApp;

both!(
    a_risk_is_recorded_accepted_and_called_for_review,
    |pg: bool| async move {
        let app = TestApp::with(pg, mamori_web::WebConfig::default()).await;
        app.no_mfa_policy().await;
        app.add_unit("zaisei", "secretariat").await;
        app.add_unit("kikaku", "secretariat").await;
        let zaimu = app
            .add_asset("財務会計システム", "system", "zaisei", "3B")
            .await;
        let id = zaimu.id.0.to_string();
        app.add_user("kanri", "zaisei", &["unit_manager@zaisei"])
            .await;
        app.add_user("ciso", "secretariat", &["ciso"]).await;
        app.add_user("tanaka", "zaisei", &[]).await;
        app.add_user("yoso", "kikaku", &["unit_manager@kikaku"])
            .await;
        app.add_user("both", "zaisei", &["ciso", "unit_manager@zaisei"])
            .await;

        let mut m = app.client();
        m.login("kanri").await;
        // Starting from the asset: the impact suggested by 3B is already chosen, and said.
        let form = m.get(&format!("/risks/new?asset={id}")).await;
        assert_eq!(form.status, 200);
        assert!(
            form.body.contains("対象資産の分類から推奨される影響度"),
            "{}",
            form.body
        );
        assert!(form
            .body
            .contains("<option value=\"3\" selected>3 甚大</option>"));
        assert!(form.body.contains("財務会計システム"));

        // An impact other than the suggestion needs a reason; nothing is saved meanwhile.
        let base = |impact: &'static str| {
            vec![
                ("title", "ランサムウェアで財務会計システムが止まる"),
                ("unit", "zaisei"),
                ("threat", "T1-01"),
                ("weakness", "バックアップが同じネットワーク上にある"),
                ("likelihood", "2"),
                ("impact", impact),
                ("treatment", "reduce"),
                ("control", "M6-01"),
                ("control", "M6-04"),
                ("residual_likelihood", "1"),
                ("residual_impact", "3"),
                ("review_on", "令和9年3月31日"),
                ("action", "save"),
            ]
        };
        let mut lower = base("2");
        lower.push(("assets", &id));
        let refused = m.post("/risks", &lower).await;
        assert_eq!(refused.status, 422);
        assert!(
            refused.body.contains("理由を書いてください"),
            "{}",
            refused.body
        );
        assert!(!m.get("/risks").await.body.contains("R-0001"));

        let mut good = base("3");
        good.push(("assets", &id));
        let saved = m.post("/risks", &good).await;
        assert_eq!(saved.status, 303, "{}", saved.body);
        assert_eq!(saved.location(), Some("/risks/R-0001"));
        let page = m.get("/risks/R-0001").await;
        assert!(page.body.contains("M6-04") && page.body.contains("財務会計システム"));
        assert!(page.body.contains("令和9年3月31日"), "和暦 review date");

        // 受容 straight from the form is refused (it needs the CISO); it is requested instead.
        let mut accept = good.clone();
        accept.retain(|(k, _)| *k != "treatment");
        accept.push(("treatment", "accept"));
        let refused = m.post("/risks/R-0001", &accept).await;
        assert_eq!(refused.status, 422);
        assert!(refused.body.contains("受容を申請"), "{}", refused.body);
        let requested = m
            .post(
                "/risks/R-0001/acceptance",
                &[("note", "サイバー保険で補う")],
            )
            .await;
        assert_eq!(requested.status, 303);
        assert!(m.get("/risks/R-0001").await.body.contains("承認待ち"));
        // Only the CISO decides.
        let not_mine = m
            .post(
                "/risks/R-0001/acceptance/decision",
                &[("decision", "approve"), ("note", "")],
            )
            .await;
        assert_eq!(not_mine.status, 403);

        let mut ciso = app.client();
        ciso.login("ciso").await;
        assert!(
            ciso.get("/")
                .await
                .body
                .contains("リスクの受容の承認待ち: 1 件"),
            "the CISO's tasks"
        );
        let page = ciso.get("/risks/R-0001").await;
        assert!(page.body.contains("承認する"), "the CISO sees the decision");
        let approved = ciso
            .post(
                "/risks/R-0001/acceptance/decision",
                &[("decision", "approve"), ("note", "年度内に再評価")],
            )
            .await;
        assert_eq!(approved.status, 303, "{}", approved.body);
        let page = ciso.get("/risks/R-0001").await;
        assert!(page.body.contains("承認済") && page.body.contains("ciso"));

        // The heat map counts it, in words as well as colour, and each cell lists its risks.
        let map = ciso.get("/risks/heatmap").await;
        assert_eq!(map.status, 200);
        assert!(map.body.contains("<svg"), "{}", map.body);
        assert!(
            map.body
                .contains("発生可能性 2 ときどき・影響度 3 甚大: 1 件（高）"),
            "{}",
            map.body
        );
        assert!(map
            .body
            .contains("発生可能性 1 まれ・影響度 3 甚大: 1 件（中）"));
        assert!(
            map.body.contains("href=\"/risks?l=2&#38;i=3\""),
            "{}",
            map.body
        );
        let cell = ciso.get("/risks?l=2&i=3").await;
        assert!(cell.body.contains("R-0001"));
        assert!(!ciso.get("/risks?l=3&i=3").await.body.contains("R-0001"));
        assert!(ciso.get("/risks?rl=1&ri=3").await.body.contains("R-0001"));

        // Reclassifying the system marks the risk for review, with the reason.
        assert!(!m.get("/risks?due=1").await.body.contains("R-0001"));
        let mut tx = app
            .store()
            .begin(mamori_store::Actor::system())
            .await
            .expect("b");
        let mut draft = zaimu.draft().expect("draft");
        draft.class.confidentiality = "3A".into();
        mamori_store::Store::update_asset(&mut tx, zaimu.id, &draft)
            .await
            .expect("update");
        tx.commit().await.expect("c");
        assert!(m.get("/risks?due=1").await.body.contains("R-0001"));
        assert!(
            m.get("/").await.body.contains("見直しが必要なリスク: 1 件"),
            "the manager's tasks"
        );
        let page = m.get("/risks/R-0001").await;
        assert!(page.body.contains("見直しが必要です"));
        assert!(
            page.body.contains("3B/1/1 → 3A/1/1"),
            "the reason is shown: {}",
            page.body
        );
        let reviewed = m
            .post("/risks/R-0001/review", &[("next_review_on", "2099-03-31")])
            .await;
        assert_eq!(reviewed.status, 303);
        assert!(!m.get("/risks?due=1").await.body.contains("R-0001"));

        // Who may see: staff without assets.read, and another unit's manager, do not.
        let mut t = app.client();
        t.login("tanaka").await;
        assert_eq!(t.get("/risks").await.status, 403);
        assert_eq!(t.get("/risks/R-0001").await.status, 403);
        let mut y = app.client();
        y.login("yoso").await;
        assert!(!y.get("/risks").await.body.contains("R-0001"));
        assert_eq!(y.get("/risks/R-0001").await.status, 403);
        let mut moved = good.clone();
        moved.retain(|(k, _)| *k != "unit");
        moved.push(("unit", "kikaku"));
        y.get("/risks/new").await;
        assert_eq!(
            y.post(
                "/risks",
                &[("title", "x"), ("unit", "zaisei"), ("threat", "T1-01")]
            )
            .await
            .status,
            403,
            "not for another unit"
        );
        // The heat map of another unit's manager counts none of it.
        assert!(y
            .get("/risks/heatmap")
            .await
            .body
            .contains("発生可能性 2 ときどき・影響度 3 甚大: 0 件（高）"));

        // The requester is never the approver, even holding both roles.
        let mut b = app.client();
        b.login("both").await;
        let mut second = base("3");
        second.push(("assets", &id));
        second.retain(|(k, _)| *k != "title");
        second.push(("title", "標的型メールによる情報漏えい"));
        assert_eq!(b.post("/risks", &second).await.status, 303);
        b.post("/risks/R-0002/acceptance", &[("note", "許容")])
            .await;
        let own = b
            .post(
                "/risks/R-0002/acceptance/decision",
                &[("decision", "approve"), ("note", "")],
            )
            .await;
        assert_eq!(own.status, 409);
        assert!(own
            .body
            .contains("受容を申請した人は、その受容を承認できません"));

        // The list exports what it shows, in the import format.
        let csv = m.get("/risks.csv").await;
        assert_eq!(csv.status, 200);
        assert!(csv.body.starts_with("\u{feff}リスクコード,名称,所管組織"));
        assert!(csv
            .body
            .contains("R-0001,ランサムウェアで財務会計システムが止まる,zaisei"));
        app.close().await;
    }
);

both!(
    the_risk_api_and_import_refuse_by_field,
    |pg: bool| async move {
        let app = TestApp::with(pg, mamori_web::WebConfig::default()).await;
        app.no_mfa_policy().await;
        app.add_unit("zaisei", "secretariat").await;
        let zaimu = app
            .add_asset("財務会計システム", "system", "zaisei", "3B")
            .await;
        let old = app.add_asset("旧サーバ", "equipment", "zaisei", "2").await;
        let mut tx = app
            .store()
            .begin(mamori_store::Actor::system())
            .await
            .expect("b");
        mamori_store::Store::dispose_asset(
            &mut tx,
            old.id,
            time::macros::date!(2026 - 01 - 05),
            "破砕",
        )
        .await
        .expect("dispose");
        tx.commit().await.expect("c");
        let user = app
            .add_user("kanri", "zaisei", &["unit_manager@zaisei"])
            .await;
        let (_, token) = app.token(&user, false).await;
        let auth = format!("Bearer {token}");
        let mut c = app.client();

        let body = |assets: Vec<i64>, likelihood: i64| {
            serde_json::json!({
                "title": "ランサムウェア", "unit": "zaisei", "threat": "T1-01",
                "assets": assets, "controls": ["M6-04"], "likelihood": likelihood, "impact": 3,
            })
        };
        let bad = c
            .send_json(
                "POST",
                "/api/v1/risks",
                &body(vec![zaimu.id.0, old.id.0], 7),
                &[("authorization", &auth)],
            )
            .await;
        assert_eq!(bad.status, 422);
        let fields: Vec<String> = bad.json()["error"]["fields"]
            .as_array()
            .expect("fields")
            .iter()
            .map(|f| f["field"].as_str().unwrap_or_default().to_owned())
            .collect();
        assert_eq!(fields, ["assets", "likelihood"], "{}", bad.body);
        let made = c
            .send_json(
                "POST",
                "/api/v1/risks",
                &body(vec![zaimu.id.0], 2),
                &[("authorization", &auth)],
            )
            .await;
        assert_eq!(made.status, 201, "{}", made.body);
        assert_eq!(made.json()["code"], "R-0001");
        assert_eq!(made.json()["level"], "high");

        // The one mechanism for anything linked as a reason for review.
        let reason = c
        .send_json(
            "POST",
            "/api/v1/risks/R-0001/review-reasons",
            &serde_json::json!({"kind": "incident", "reference": "INC-2026-004", "reason": "感染が発生"}),
            &[("authorization", &auth)],
        )
        .await;
        assert_eq!(reason.status, 201, "{}", reason.body);
        let got = c
            .get_with("/api/v1/risks/R-0001", &[("authorization", &auth)])
            .await
            .json();
        assert_eq!(got["due_for_review"], true);
        assert_eq!(got["suggested_impact"], 3);
        assert_eq!(got["review_reasons"][0]["reference"], "INC-2026-004");
        let list = c
            .get_with(
                "/api/v1/risks?due=true&control=M6-04",
                &[("authorization", &auth)],
            )
            .await
            .json();
        assert_eq!(list["total"], 1);
        assert_eq!(list["items"][0]["controls"][0], "M6-04");
        assert_eq!(
            c.get_with("/api/v1/risks?level=extreme", &[("authorization", &auth)])
                .await
                .status,
            422
        );
        let map = c
            .get_with("/api/v1/risks/heatmap", &[("authorization", &auth)])
            .await
            .json();
        assert_eq!(map["inherent"][1][2], 1);

        // The import page shows every bad row before anything is written.
        let mut w = app.client();
        w.login("kanri").await;
        w.get("/admin/import?kind=risks").await;
        let csrf = w.csrf.clone().expect("csrf");
        let csv = format!(
            "リスクコード,名称,所管組織,脅威コード,対象資産,発生可能性,影響度\n\
         R-0100,漏えい,zaisei,T2-01,{},1,3\n\
         R-0101,不明,zaisei,T9-99,{},1,3\n\
         R-0102,廃棄済,zaisei,T2-01,{},1,3\n",
            zaimu.id.0, zaimu.id.0, old.id.0
        );
        let (ct, body) = common::multipart(
            &[("csrf", &csrf), ("kind", "risks")],
            Some(("file", "risks.csv", "text/csv", csv.as_bytes())),
        );
        let preview = w
            .post_raw_typed(
                "/admin/import/preview",
                &ct,
                body,
                &[("origin", "http://mamori.test")],
            )
            .await;
        assert_eq!(preview.status, 200);
        assert!(
            preview.body.contains("risks.csv:3: 脅威コード:"),
            "{}",
            preview.body
        );
        assert!(preview.body.contains("risks.csv:4: 対象資産:"));
        assert!(app
            .store()
            .risk_by_code("R-0100")
            .await
            .expect("q")
            .is_none());
        app.close().await;
    }
);
