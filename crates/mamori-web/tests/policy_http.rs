//! Policy documents over HTTP, on both databases: the seeded basic policy, the version
//! lifecycle with separation of duties, acknowledgement and its completion, visibility,
//! safe rendering, the API and the CSV export.

#![allow(missing_docs)]

#[macro_use]
mod common;

use axum::http::StatusCode;
use common::TestApp;

/// Staff in `unit` of employment category `category`, with an account.
async fn staff(app: &TestApp, username: &str, unit: &str, category: &str) {
    let user = app.add_user(username, unit, &[]).await;
    let person = app
        .store()
        .person(user.person_id.expect("linked"))
        .await
        .expect("q")
        .expect("person");
    let input = mamori_store::PersonInput {
        staff_id: person.staff_id.clone(),
        name: person.name.clone(),
        kana: String::new(),
        unit_id: person.unit_id,
        category: category.into(),
        email: String::new(),
        joined_on: None,
        left_on: None,
    };
    let mut tx = app
        .store()
        .begin(mamori_store::Actor::system())
        .await
        .expect("begin");
    mamori_store::Store::update_person(&mut tx, person.id, &input)
        .await
        .expect("update");
    tx.commit().await.expect("commit");
}

both!(
    the_seed_is_the_published_basic_policy_and_public,
    |pg: bool| async move {
        let app = TestApp::with(pg, mamori_web::WebConfig::default()).await;
        let mut anonymous = app.client();
        let page = anonymous.get("/public/policy").await;
        assert_eq!(page.status, StatusCode::OK, "no login, no redirect");
        assert!(page.body.contains("情報セキュリティ"), "{}", page.body);
        assert!(page.body.contains("改版履歴"));
        assert!(page.body.contains("初版"));
        assert!(
            page.body.contains("令和8年3月25日"),
            "作成日 and 承認 in 和暦"
        );
        assert!(page.body.contains("桑名・員弁広域連合"));
        assert!(
            page.body.contains("設計・開発の不備、プログラム上の欠陥"),
            "clause 3(2) rejoined across the page break"
        );
        assert!(page.body.contains("id=\"c6-8\""), "clause anchors");

        let doc = app
            .store()
            .document_by_code("basic-policy")
            .await
            .expect("q")
            .expect("seeded");
        let published = doc.published.expect("in force");
        assert_eq!(published.edition, "初版");
        let clauses = app.store().clauses(published.id).await.expect("clauses");
        let top: Vec<&str> = clauses
            .iter()
            .filter(|c| c.parent.is_none())
            .map(|c| c.anchor.as_str())
            .collect();
        assert_eq!(top, ["1", "2", "3", "4", "5", "6", "7", "8"]);
        assert!(clauses.iter().any(|c| c.anchor == "6(8)"));
        let version = app
            .store()
            .version(doc.id, published.number)
            .await
            .expect("q")
            .expect("v");
        assert!(version.imported);
        assert_eq!(version.author, "桑名・員弁広域連合", "historic 作成者 kept");
        assert_eq!(version.approval_text, "令和8年3月25日");
        app.close().await;
    }
);

both!(
    a_second_edition_is_approved_by_another_published_and_acknowledged,
    |pg: bool| async move {
        let app = TestApp::with(pg, mamori_web::WebConfig::default()).await;
        app.no_mfa_policy().await;
        app.add_user("chief", "secretariat", &["chief_officer"])
            .await;
        app.add_user("ciso", "secretariat", &["ciso"]).await;
        staff(&app, "parttime", "secretariat", "fiscal_year").await;
        let doc = app
            .store()
            .document_by_code("basic-policy")
            .await
            .expect("q")
            .expect("doc");
        let first = doc.published.clone().expect("first");

        // Everyone in scope owes the seed's 初版 first; acknowledge it to start clean.
        let mut worker = app.client();
        worker.login("parttime").await;
        let home = worker.get("/").await;
        assert!(home.body.contains("ack-banner"), "{}", home.body);
        let ack = worker
            .post(
                &format!("/policy/basic-policy/versions/{}/acknowledge", first.number),
                &[],
            )
            .await;
        assert_eq!(ack.status, StatusCode::SEE_OTHER, "{}", ack.body);
        assert!(!worker.get("/").await.body.contains("ack-banner"));

        // The 統括情報セキュリティ責任者 drafts 第2版 and submits it.
        let mut chief = app.client();
        chief.login("chief").await;
        let form = chief.get("/policy/basic-policy/versions/new").await;
        assert_eq!(form.status, StatusCode::OK, "{}", form.body);
        let body = "## 1. 目的\n\n改定した目的の文。\n\n## 2. 定義\n\n### (1) ネットワーク\n\n通信網をいう。\n";
        let saved = chief
            .post(
                "/policy/basic-policy/versions",
                &[("body", body), ("change_summary", "目的を改定")],
            )
            .await;
        assert_eq!(saved.status, StatusCode::SEE_OTHER, "{}", saved.body);
        let second = first.number + 1;
        let path = format!("/policy/basic-policy/versions/{second}");
        let draft = chief.get(&path).await;
        assert!(draft.body.contains("第2版"), "{}", draft.body);

        // Publishing an unapproved version is refused with a reason.
        let early = chief.post(&format!("{path}/publish"), &[]).await;
        assert_eq!(early.status, StatusCode::CONFLICT, "{}", early.body);
        assert_eq!(
            chief.post(&format!("{path}/submit"), &[]).await.status,
            StatusCode::SEE_OTHER
        );
        // The author may not approve (and lacks the permission anyway).
        assert_eq!(
            chief.post(&format!("{path}/approve"), &[]).await.status,
            StatusCode::FORBIDDEN
        );

        // The CISO approves; a second approval is refused.
        let mut ciso = app.client();
        ciso.login("ciso").await;
        let approved = ciso.post(&format!("{path}/approve"), &[]).await;
        assert_eq!(approved.status, StatusCode::SEE_OTHER, "{}", approved.body);
        let again = ciso.post(&format!("{path}/approve"), &[]).await;
        assert_eq!(again.status, StatusCode::CONFLICT, "{}", again.body);

        // Completion before publication is of 初版; after, 第2版 starts at 0.
        assert_eq!(
            chief.post(&format!("{path}/publish"), &[]).await.status,
            StatusCode::SEE_OTHER
        );
        let doc = app
            .store()
            .document_by_code("basic-policy")
            .await
            .expect("q")
            .expect("doc");
        assert_eq!(doc.published.as_ref().map(|v| v.number), Some(second));
        let old = app
            .store()
            .version(doc.id, first.number)
            .await
            .expect("q")
            .expect("v");
        assert_eq!(old.state, "superseded");

        let completion = chief.get("/policy/basic-policy/acknowledgements").await;
        assert_eq!(completion.status, StatusCode::OK, "{}", completion.body);
        let total = app
            .store()
            .acknowledgement_completion(doc.published.as_ref().expect("v").id, "2099-01-01", None)
            .await
            .expect("completion")
            .0
            .iter()
            .map(|r| r.total)
            .sum::<i64>();
        assert!(total >= 3, "chief, ciso and the worker are in scope");
        assert!(
            completion.body.contains(&format!(
                "<span class=\"ack-done\">0</span>/<span class=\"ack-total\">{total}</span>"
            )),
            "{}",
            completion.body
        );

        // The worker sees the banner again, reads and acknowledges 第2版.
        let home = worker.get("/").await;
        assert!(home.body.contains("第2版"), "{}", home.body);
        let ack = worker.post(&format!("{path}/acknowledge"), &[]).await;
        assert_eq!(ack.status, StatusCode::SEE_OTHER);
        let completion = chief.get("/policy/basic-policy/acknowledgements").await;
        assert!(
            completion.body.contains(&format!(
                "<span class=\"ack-done\">1</span>/<span class=\"ack-total\">{total}</span>"
            )),
            "{}",
            completion.body
        );
        // Acknowledging twice changes nothing.
        assert_eq!(
            worker
                .post(&format!("{path}/acknowledge"), &[])
                .await
                .status,
            StatusCode::SEE_OTHER
        );
        let (rows, _) = app
            .store()
            .acknowledgements_page(
                &mamori_store::AcknowledgementFilter {
                    version_id: doc.published.as_ref().expect("v").id,
                    acknowledged: Some(true),
                    ..Default::default()
                },
                "2099-01-01",
                50,
                0,
            )
            .await
            .expect("rows");
        assert_eq!(rows.len(), 1);
        assert_eq!(rows[0].category, "fiscal_year");
        assert!(rows[0].source.is_some(), "source address recorded");

        // The CSV names who has not acknowledged.
        let csv = chief
            .get("/policy/basic-policy/acknowledgements.csv?status=pending")
            .await;
        assert_eq!(csv.status, StatusCode::OK);
        assert!(csv.body.contains("未確認"));
        assert!(!csv.body.contains("S-parttime"), "{}", csv.body);
        assert!(csv.body.contains("S-chief"));

        // The trail has the acknowledgement and the approval.
        let trail = app
            .store()
            .audit_page(&Default::default(), 1000, 0)
            .await
            .expect("audit")
            .0;
        assert!(trail
            .iter()
            .any(|e| e.record.action == "acknowledgement.confirm"));
        assert!(trail
            .iter()
            .any(|e| e.record.action == "document_version.approved"));
        app.close().await;
    }
);

both!(
    an_author_who_may_approve_is_still_refused_with_the_reason,
    |pg: bool| async move {
        let app = TestApp::with(pg, mamori_web::WebConfig::default()).await;
        app.no_mfa_policy().await;
        app.add_user("both", "secretariat", &["chief_officer", "ciso"])
            .await;
        let mut both = app.client();
        both.login("both").await;
        let saved = both
            .post(
                "/policy/basic-policy/versions",
                &[("body", "## 1. 目的\n\n自分で書いた案。\n")],
            )
            .await;
        assert_eq!(saved.status, StatusCode::SEE_OTHER, "{}", saved.body);
        let path = "/policy/basic-policy/versions/2";
        assert_eq!(
            both.post(&format!("{path}/submit"), &[]).await.status,
            StatusCode::SEE_OTHER
        );
        let refused = both.post(&format!("{path}/approve"), &[]).await;
        assert_eq!(refused.status, StatusCode::CONFLICT, "{}", refused.body);
        assert!(
            refused.body.contains("作成者は自分の版を承認できません"),
            "the reason is shown: {}",
            refused.body
        );
        let doc = app
            .store()
            .document_by_code("basic-policy")
            .await
            .expect("q")
            .expect("doc");
        let v = app.store().version(doc.id, 2).await.expect("q").expect("v");
        assert_eq!(v.state, "in_review", "nothing changed");
        // A body whose clause numbers repeat is refused, naming the clause.
        let dup = both
            .post(
                "/policy/basic-policy/versions",
                &[("body", "## 1. 目的\n\nA\n\n## 1. 目的\n\nB\n")],
            )
            .await;
        assert_eq!(dup.status, StatusCode::UNPROCESSABLE_ENTITY);
        assert!(
            dup.body.contains("条項番号 1 が重複しています"),
            "{}",
            dup.body
        );
        app.close().await;
    }
);

both!(
    staff_cannot_draft_or_see_drafts_and_restricted_documents_stay_hidden,
    |pg: bool| async move {
        let app = TestApp::with(pg, mamori_web::WebConfig::default()).await;
        app.no_mfa_policy().await;
        app.add_user("chief", "secretariat", &["chief_officer"])
            .await;
        app.add_user("clerk", "secretariat", &[]).await;
        let mut chief = app.client();
        chief.login("chief").await;
        let created = chief
            .post(
                "/policy",
                &[
                    ("code", "standards"),
                    ("layer", "standards"),
                    ("title", "情報セキュリティ対策基準"),
                    ("visibility", "restricted"),
                    ("restricted_roles", "csirt"),
                    ("requires_ack", "on"),
                    ("review_interval_months", "12"),
                ],
            )
            .await;
        assert_eq!(created.status, StatusCode::SEE_OTHER, "{}", created.body);
        let draft = chief
            .post(
                "/policy/standards/versions",
                &[(
                    "body",
                    "## 1. 総則\n\n<script>alert(1)</script><img src=x onerror=alert(1)>\n\n[x](javascript:alert(1)) <a href=\"javascript:alert(2)\">y</a>\n",
                )],
            )
            .await;
        assert_eq!(draft.status, StatusCode::SEE_OTHER, "{}", draft.body);
        let shown = chief.get("/policy/standards/versions/1").await;
        assert_eq!(shown.status, StatusCode::OK);
        assert!(!shown.body.contains("<script>alert"), "sanitised");
        assert!(!shown.body.contains("onerror"), "sanitised");
        assert!(
            !shown.body.contains("href=\"javascript:"),
            "sanitised: {}",
            shown.body
        );

        let mut clerk = app.client();
        clerk.login("clerk").await;
        assert_eq!(
            clerk.get("/policy/standards").await.status,
            StatusCode::NOT_FOUND,
            "restricted to csirt"
        );
        assert_eq!(
            clerk.get("/policy/standards/versions/1").await.status,
            StatusCode::NOT_FOUND
        );
        let list = clerk.get("/policy").await;
        assert!(list.body.contains("basic-policy"));
        assert!(!list.body.contains("情報セキュリティ対策基準"));
        assert_eq!(
            clerk.get("/policy/basic-policy/versions/new").await.status,
            StatusCode::FORBIDDEN
        );
        let api = clerk.get("/api/v1/documents").await;
        assert_eq!(api.status, StatusCode::OK);
        let codes: Vec<String> = api.json()["items"]
            .as_array()
            .expect("items")
            .iter()
            .map(|d| d["code"].as_str().unwrap_or_default().to_owned())
            .collect();
        assert_eq!(codes, ["basic-policy"]);
        // A binary body is refused with a message and nothing saved.
        let binary = chief
            .post("/policy/standards/versions", &[("body", "abc\u{0}def")])
            .await;
        assert_eq!(binary.status, StatusCode::UNPROCESSABLE_ENTITY);
        let doc = app
            .store()
            .document_by_code("standards")
            .await
            .expect("q")
            .expect("d");
        assert_eq!(app.store().versions(doc.id).await.expect("v").len(), 1);
        app.close().await;
    }
);

both!(
    the_api_lists_versions_with_clauses_and_acknowledgements,
    |pg: bool| async move {
        let app = TestApp::with(pg, mamori_web::WebConfig::default()).await;
        app.no_mfa_policy().await;
        let chief = app
            .add_user("chief", "secretariat", &["chief_officer"])
            .await;
        let (_, token) = app.token(&chief, false).await;
        let auth = format!("Bearer {token}");
        let mut client = app.client();
        let versions = client
            .get_with(
                "/api/v1/documents/basic-policy/versions",
                &[("authorization", &auth)],
            )
            .await;
        assert_eq!(versions.status, StatusCode::OK, "{}", versions.body);
        let json = versions.json();
        let first = &json["items"][0];
        assert_eq!(first["edition"], "初版");
        assert!(first["clauses"]
            .as_array()
            .expect("clauses")
            .iter()
            .any(|c| c["anchor"] == "4(2)①"));
        let acks = client
            .get_with(
                "/api/v1/acknowledgements?status=pending",
                &[("authorization", &auth)],
            )
            .await;
        assert_eq!(acks.status, StatusCode::OK, "{}", acks.body);
        assert_eq!(acks.json()["total"], 1, "the chief has not acknowledged");
        let created = client
            .send_json(
                "POST",
                "/api/v1/documents/basic-policy/versions",
                &serde_json::json!({"body": "## 1. 目的\n\n新しい本文。\n"}),
                &[("authorization", &auth)],
            )
            .await;
        assert_eq!(created.status, StatusCode::CREATED, "{}", created.body);
        assert_eq!(created.json()["state"], "draft");
        assert_eq!(created.json()["clauses"][0]["anchor"], "1");
        let bad = client
            .get_with(
                "/api/v1/acknowledgements?status=maybe",
                &[("authorization", &auth)],
            )
            .await;
        assert_eq!(bad.status, StatusCode::UNPROCESSABLE_ENTITY, "{}", bad.body);
        app.close().await;
    }
);

both!(
    home_lists_the_acknowledgement_and_training_a_person_owes,
    |pg: bool| async move {
        let app = TestApp::with(pg, mamori_web::WebConfig::default()).await;
        app.no_mfa_policy().await;
        staff(&app, "worker", "secretariat", "fiscal_year").await;
        let mut worker = app.client();
        worker.login("worker").await;
        let home = worker.get("/").await;
        assert_eq!(home.status, StatusCode::OK);
        assert!(
            home.body.contains("ポリシーを読んで確認する"),
            "the acknowledgement is a task: {}",
            home.body
        );
        assert!(
            home.body.contains("研修を受講する"),
            "the annual course is a task: {}",
            home.body
        );
        let doc = app
            .store()
            .document_by_code("basic-policy")
            .await
            .expect("q")
            .expect("doc");
        let number = doc.published.expect("in force").number;
        worker
            .post(
                &format!("/policy/basic-policy/versions/{number}/acknowledge"),
                &[],
            )
            .await;
        let home = worker.get("/").await;
        assert!(
            !home.body.contains("ポリシーを読んで確認する"),
            "done tasks leave the list"
        );
        app.close().await;
    }
);
