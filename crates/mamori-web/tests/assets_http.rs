//! The asset register over HTTP, on both databases: who sees what, forms, the API, files,
//! imports and exports, and the classification scheme.

#![allow(missing_docs)]

#[macro_use]
mod common;

use axum::http::StatusCode;
use common::TestApp;

both!(
    staff_see_their_units_assets_up_to_level_two_and_roles_see_the_rest,
    |pg: bool| async move {
        let app = TestApp::with(pg, mamori_web::WebConfig::default()).await;
        app.no_mfa_policy().await;
        app.add_unit("soumu", "secretariat").await;
        app.add_unit("kansa", "audit_office").await;
        let open = app
            .add_asset("庁内掲示データ", "information", "soumu", "2")
            .await;
        let secret = app
            .add_asset("住民記録データ", "information", "soumu", "3B")
            .await;
        let other = app.add_asset("監査調書", "information", "kansa", "1").await;
        app.add_user("clerk", "soumu", &[]).await;
        app.add_user("manager", "soumu", &["unit_manager@soumu"])
            .await;
        app.add_user("auditor", "kansa", &["auditor"]).await;

        let mut clerk = app.client();
        clerk.login("clerk").await;
        let list = clerk.get("/assets").await;
        assert_eq!(list.status, StatusCode::OK, "{}", list.body);
        assert!(list.body.contains("庁内掲示データ"));
        assert!(
            !list.body.contains("住民記録データ"),
            "3B is hidden from staff"
        );
        assert!(
            !list.body.contains("監査調書"),
            "another unit's assets are hidden"
        );
        assert_eq!(
            clerk.get(&format!("/assets/{}", open.id)).await.status,
            StatusCode::OK
        );
        assert_eq!(
            clerk.get(&format!("/assets/{}", secret.id)).await.status,
            StatusCode::NOT_FOUND,
            "a hidden asset is not revealed"
        );
        assert_eq!(
            clerk.get(&format!("/assets/{}", other.id)).await.status,
            StatusCode::NOT_FOUND
        );
        assert_eq!(clerk.get("/assets/new").await.status, StatusCode::FORBIDDEN);

        let mut manager = app.client();
        manager.login("manager").await;
        let list = manager.get("/assets?sort=confidentiality&order=desc").await;
        let a = list.body.find("住民記録データ").expect("3B listed");
        let b = list.body.find("庁内掲示データ").expect("2 listed");
        assert!(a < b, "sorted strictest first");
        assert!(!list.body.contains("監査調書"));

        let mut auditor = app.client();
        auditor.login("auditor").await;
        let list = auditor.get("/assets").await;
        for name in ["庁内掲示データ", "住民記録データ", "監査調書"] {
            assert!(list.body.contains(name), "auditors read everything: {name}");
        }
        assert_eq!(
            auditor
                .get(&format!("/assets/{}/edit", secret.id))
                .await
                .status,
            StatusCode::FORBIDDEN,
            "but change nothing"
        );
        app.close().await;
    }
);

both!(
    the_form_shows_definitions_refuses_bad_input_and_saves_with_handling_rules,
    |pg: bool| async move {
        let app = TestApp::with(pg, mamori_web::WebConfig::default()).await;
        app.no_mfa_policy().await;
        app.add_unit("soumu", "secretariat").await;
        app.add_user("manager", "soumu", &["unit_manager@soumu"])
            .await;
        let mut c = app.client();
        c.login("manager").await;
        let form = c.get("/assets/new").await;
        assert!(
            form.body.contains("秘密文書に相当する"),
            "3A's definition is shown where the level is chosen"
        );
        let bad = c
            .post(
                "/assets",
                &[
                    ("name", ""),
                    ("asset_type", "system"),
                    ("owner_unit", "soumu"),
                    ("confidentiality", "9"),
                    ("integrity", "2"),
                    ("availability", "2"),
                    ("review_on", "H31.5.1"),
                ],
            )
            .await;
        assert_eq!(bad.status, StatusCode::UNPROCESSABLE_ENTITY);
        assert!(bad.body.contains("入力してください"), "{}", bad.body);
        assert!(bad.body.contains("分類基準にない格付けです"));
        assert_eq!(
            app.store()
                .assets_page(&Default::default(), 10, 0)
                .await
                .expect("q")
                .1,
            0,
            "nothing saved"
        );
        let other_unit = c
            .post(
                "/assets",
                &[
                    ("name", "他課の資産"),
                    ("asset_type", "system"),
                    ("owner_unit", "audit_office"),
                    ("confidentiality", "2"),
                    ("integrity", "1"),
                    ("availability", "1"),
                ],
            )
            .await;
        assert_eq!(other_unit.status, StatusCode::FORBIDDEN);
        let ok = c
            .post(
                "/assets",
                &[
                    ("name", "介護保険システム"),
                    ("asset_type", "system"),
                    ("owner_unit", "soumu"),
                    ("segment", "mynumber"),
                    ("confidentiality", "３ｂ"),
                    ("integrity", "2"),
                    ("availability", "2"),
                    ("review_on", "令和9年3月31日"),
                    ("personal_data", "on"),
                ],
            )
            .await;
        assert_eq!(ok.status, StatusCode::SEE_OTHER, "{}", ok.body);
        let page = c.get(ok.location().expect("to the asset")).await;
        assert!(page.body.contains("介護保険システム"));
        assert!(page.body.contains("令和9年3月31日"), "和暦 by default");
        assert!(
            page.body.contains("支給された端末でのみ取り扱う"),
            "3B needs issued devices"
        );
        assert!(
            page.body.contains("改ざん検知又は電子署名"),
            "I2 needs tamper detection"
        );
        app.close().await;
    }
);

both!(
    a_container_classified_lower_than_its_contents_is_flagged,
    |pg: bool| async move {
        let app = TestApp::with(pg, mamori_web::WebConfig::default()).await;
        app.no_mfa_policy().await;
        app.add_user("chief", "secretariat", &["chief_officer"])
            .await;
        let system = app
            .add_asset("住基システム", "system", "secretariat", "3C")
            .await;
        let info = app
            .add_asset("住民票データ", "information", "secretariat", "3A")
            .await;
        let mut c = app.client();
        c.login("chief").await;
        c.get(&format!("/assets/{}", system.id)).await;
        let res = c
            .post(
                &format!("/assets/{}/relations", system.id),
                &[
                    ("kind", "holds"),
                    ("direction", "from"),
                    ("other", &info.id.to_string()),
                ],
            )
            .await;
        assert_eq!(res.status, StatusCode::SEE_OTHER, "{}", res.body);
        let page = c.get(&format!("/assets/{}", info.id)).await;
        assert!(
            page.body
                .contains("「住基システム」の機密性が「住民票データ」より低い"),
            "{}",
            page.body
        );
        let api = c
            .get(&format!("/api/v1/assets/{}/relations", info.id))
            .await
            .json();
        assert_eq!(
            api["items"][0]["container_lower_on"],
            serde_json::json!(["c"])
        );
        let wrong = c
            .post(
                &format!("/assets/{}/relations", info.id),
                &[
                    ("kind", "runs_on"),
                    ("direction", "from"),
                    ("other", &system.id.to_string()),
                ],
            )
            .await;
        assert_eq!(wrong.status, StatusCode::UNPROCESSABLE_ENTITY);
        assert!(wrong.body.contains("この種別の組み合わせには"));
        app.close().await;
    }
);

both!(
    api_lists_filters_creates_updates_and_disposes,
    |pg: bool| async move {
        let app = TestApp::with(pg, mamori_web::WebConfig::default()).await;
        app.no_mfa_policy().await;
        app.add_unit("soumu", "secretariat").await;
        app.add_asset("介護保険システム", "system", "soumu", "3B")
            .await;
        app.add_asset("監査資料", "information", "soumu", "2").await;
        app.add_asset("ファイルサーバ", "equipment", "soumu", "3C")
            .await;
        let user = app
            .add_user("manager", "soumu", &["unit_manager@soumu"])
            .await;
        let (_, token) = app.token(&user, false).await;
        let (_, read_only) = app.token(&user, true).await;
        let auth = format!("Bearer {token}");
        let ro = format!("Bearer {read_only}");
        let mut c = app.client();
        let list = c
            .get_with(
                "/api/v1/assets?q=%E4%BB%8B%E8%AD%B7",
                &[("authorization", &auth)],
            )
            .await;
        assert_eq!(list.status, StatusCode::OK, "{}", list.body);
        assert_eq!(list.json()["total"], 1);
        assert_eq!(list.json()["items"][0]["name"], "介護保険システム");
        let sorted = c
            .get_with(
                "/api/v1/assets?sort=confidentiality&order=desc&limit=2",
                &[("authorization", &auth)],
            )
            .await
            .json();
        assert_eq!(sorted["total"], 3);
        assert_eq!(sorted["items"][0]["confidentiality"], "3B");
        assert_eq!(sorted["items"][1]["confidentiality"], "3C");
        let typed = c
            .get_with(
                "/api/v1/assets?asset_type=equipment",
                &[("authorization", &auth)],
            )
            .await
            .json();
        assert_eq!(typed["total"], 1);
        let bad = c
            .get_with(
                "/api/v1/assets?confidentiality=9",
                &[("authorization", &auth)],
            )
            .await;
        assert_eq!(bad.status, StatusCode::UNPROCESSABLE_ENTITY);
        assert_eq!(bad.json()["error"]["fields"][0]["field"], "confidentiality");

        let body = serde_json::json!({
            "name": "選挙人名簿", "asset_type": "information", "owner_unit": "soumu",
            "confidentiality": "3B", "integrity": "2", "availability": "1", "personal_data": true,
            "review_on": "R9.4.1"
        });
        let refused = c
            .send_json("POST", "/api/v1/assets", &body, &[("authorization", &ro)])
            .await;
        assert_eq!(
            refused.status,
            StatusCode::FORBIDDEN,
            "read-only tokens change nothing"
        );
        let created = c
            .send_json("POST", "/api/v1/assets", &body, &[("authorization", &auth)])
            .await;
        assert_eq!(created.status, StatusCode::CREATED, "{}", created.body);
        let id = created.json()["id"].as_i64().expect("id");
        assert_eq!(created.json()["review_on"], "2027-04-01");
        let got = c
            .get_with(&format!("/api/v1/assets/{id}"), &[("authorization", &auth)])
            .await
            .json();
        let rules: Vec<&str> = got["handling_rules"]
            .as_array()
            .expect("rules")
            .iter()
            .filter_map(|r| r["code"].as_str())
            .collect();
        assert!(rules.contains(&"issued_devices_only") && rules.contains(&"tamper_detection"));

        let invalid = c
            .send_json(
                "PUT",
                &format!("/api/v1/assets/{id}"),
                &serde_json::json!({"name": "x", "asset_type": "nope", "owner_unit": "soumu",
                "confidentiality": "3B", "integrity": "2", "availability": "1"}),
                &[("authorization", &auth)],
            )
            .await;
        assert_eq!(invalid.status, StatusCode::UNPROCESSABLE_ENTITY);
        assert_eq!(invalid.json()["error"]["fields"][0]["field"], "asset_type");
        let moved = c
        .send_json(
            "PUT",
            &format!("/api/v1/assets/{id}"),
            &serde_json::json!({"name": "選挙人名簿", "asset_type": "information", "owner_unit": "audit_office",
                "confidentiality": "3B", "integrity": "2", "availability": "1"}),
            &[("authorization", &auth)],
        )
        .await;
        assert_eq!(
            moved.status,
            StatusCode::FORBIDDEN,
            "moving needs the permission on the new unit"
        );

        let no_method = c
            .send_json(
                "POST",
                &format!("/api/v1/assets/{id}/dispose"),
                &serde_json::json!({"disposed_on": "2026-11-26", "disposal_method": " "}),
                &[("authorization", &auth)],
            )
            .await;
        assert_eq!(no_method.status, StatusCode::UNPROCESSABLE_ENTITY);
        let disposed = c
        .send_json(
            "POST",
            &format!("/api/v1/assets/{id}/dispose"),
            &serde_json::json!({"disposed_on": "令和8年11月26日", "disposal_method": "溶解処理"}),
            &[("authorization", &auth)],
        )
        .await;
        assert_eq!(disposed.status, StatusCode::OK, "{}", disposed.body);
        assert_eq!(disposed.json()["status"], "disposed");
        let again = c
            .send_json(
                "POST",
                &format!("/api/v1/assets/{id}/dispose"),
                &serde_json::json!({"disposed_on": "2026-11-27", "disposal_method": "再"}),
                &[("authorization", &auth)],
            )
            .await;
        assert_eq!(again.status, StatusCode::CONFLICT);
        let active = c
            .get_with("/api/v1/assets?status=active", &[("authorization", &auth)])
            .await
            .json();
        assert_eq!(
            active["total"], 3,
            "disposed assets stay, but not among the active"
        );
        let all = c
            .get_with("/api/v1/assets", &[("authorization", &auth)])
            .await
            .json();
        assert_eq!(all["total"], 4);
        app.close().await;
    }
);

both!(
    evidence_files_are_stored_and_only_downloaded,
    |pg: bool| async move {
        let config = mamori_web::WebConfig {
            max_upload_bytes: 4 * 1024 * 1024,
            ..mamori_web::WebConfig::default()
        };
        let app = TestApp::with(pg, config).await;
        app.no_mfa_policy().await;
        app.add_user("chief", "secretariat", &["chief_officer"])
            .await;
        let asset = app
            .add_asset("USBメモリ", "media", "secretariat", "2")
            .await;
        let mut c = app.client();
        c.login("chief").await;
        c.get(&format!("/assets/{}", asset.id)).await;
        let csrf = c.csrf.clone().expect("csrf");
        // Larger than the 2 MiB form limit, within the 4 MiB file limit: streamed, not buffered.
        let content: Vec<u8> = (0..3_000_000u32).map(|i| (i % 253) as u8).collect();
        let html = b"<html><script>alert(1)</script></html>";
        for (name, bytes, ty) in [
            ("report.bin", content.as_slice(), "application/octet-stream"),
            ("x.html", html.as_slice(), "text/html"),
        ] {
            let (ct, body) = common::multipart(&[("csrf", &csrf)], Some(("file", name, ty, bytes)));
            let res = c
                .post_multipart(&format!("/assets/{}/attachments", asset.id), &ct, body)
                .await;
            assert_eq!(res.status, StatusCode::SEE_OTHER, "{}", res.body);
        }
        let files = app
            .store()
            .asset_attachments(asset.id)
            .await
            .expect("files");
        assert_eq!(files.len(), 2);
        let big = files
            .iter()
            .find(|f| f.filename == "report.bin")
            .expect("stored");
        use sha2::Digest;
        assert_eq!(big.sha256, hex::encode(sha2::Sha256::digest(&content)));
        let page = c.get(&format!("/assets/{}", asset.id)).await;
        assert!(page.body.contains(&big.sha256), "the hash is shown");
        let script = files
            .iter()
            .find(|f| f.filename == "x.html")
            .expect("stored");
        let dl = c
            .get(&format!("/assets/{}/attachments/{}", asset.id, script.id))
            .await;
        assert_eq!(dl.status, StatusCode::OK);
        assert_eq!(
            dl.headers["content-type"], "application/octet-stream",
            "never rendered as HTML"
        );
        assert!(dl.headers["content-disposition"]
            .to_str()
            .unwrap_or("")
            .starts_with("attachment;"));
        assert_eq!(dl.body.as_bytes(), html);
        let dl = c
            .get(&format!("/assets/{}/attachments/{}", asset.id, big.id))
            .await;
        assert_eq!(
            dl.headers["content-length"],
            content.len().to_string().as_str()
        );

        // Over the limit: refused, nothing kept.
        let huge = vec![7u8; 4 * 1024 * 1024 + 1];
        let (ct, body) = common::multipart(
            &[("csrf", &csrf)],
            Some(("file", "huge.bin", "application/octet-stream", &huge)),
        );
        let res = c
            .post_multipart(&format!("/assets/{}/attachments", asset.id), &ct, body)
            .await;
        assert_eq!(res.status, StatusCode::BAD_REQUEST);
        assert!(res.body.contains("ファイルが大きすぎます"), "{}", res.body);
        assert_eq!(
            app.store()
                .asset_attachments(asset.id)
                .await
                .expect("f")
                .len(),
            2
        );
        // Without the token: refused before anything is read.
        let (ct, body) = common::multipart(
            &[("csrf", "forged")],
            Some(("file", "a.txt", "text/plain", b"x")),
        );
        let res = c
            .post_multipart(&format!("/assets/{}/attachments", asset.id), &ct, body)
            .await;
        assert_eq!(res.status, StatusCode::FORBIDDEN);

        // Disposal with a certificate, in one step.
        let (ct, body) = common::multipart(
            &[
                ("csrf", &csrf),
                ("disposed_on", "R8.11.26"),
                ("disposal_method", "物理破壊"),
            ],
            Some((
                "certificate",
                "証明書.pdf",
                "application/pdf",
                b"%PDF-1.4 test",
            )),
        );
        let res = c
            .post_multipart(&format!("/assets/{}/dispose", asset.id), &ct, body)
            .await;
        assert_eq!(res.status, StatusCode::SEE_OTHER, "{}", res.body);
        let a = app.store().asset(asset.id).await.expect("q").expect("kept");
        assert_eq!(a.status, "disposed");
        assert_eq!(a.disposed_on.as_deref(), Some("2026-11-26"));
        let files = app
            .store()
            .asset_attachments(asset.id)
            .await
            .expect("files");
        assert!(files
            .iter()
            .any(|f| f.purpose == "disposal_certificate" && f.filename == "証明書.pdf"));
        app.close().await;
    }
);

both!(
    browser_import_and_export_of_assets_round_trip,
    |pg: bool| async move {
        let app = TestApp::with(pg, mamori_web::WebConfig::default()).await;
        app.no_mfa_policy().await;
        app.add_unit("soumu", "secretariat").await;
        app.add_user("manager", "soumu", &["unit_manager@soumu"])
            .await;
        let mut c = app.client();
        c.login("manager").await;
        c.get("/admin/import?kind=assets").await;
        let csrf = c.csrf.clone().expect("csrf");
        let bad = "名称,種別,所管組織,機密性,完全性,可用性\n台帳,information,soumu,3B,2,1\n他課,information,audit_office,2,1,1\n不明,information,soumu,4,1,1\n";
        let (ct, body) = common::multipart(
            &[("csrf", &csrf), ("kind", "assets")],
            Some(("file", "assets.csv", "text/csv", bad.as_bytes())),
        );
        let res = c.post_multipart("/admin/import/preview", &ct, body).await;
        assert!(
            res.body
                .contains("assets.csv:3: 所管組織: この組織の情報資産を変更する権限がありません"),
            "{}",
            res.body
        );
        assert!(
            res.body
                .contains("assets.csv:4: 機密性: 分類基準にない格付けです (4)"),
            "{}",
            res.body
        );
        assert!(!res.body.contains("/admin/import/apply"));

        let good = "名称,種別,所管組織,機密性,完全性,可用性,保管場所\n台帳,information,soumu,3B,2,1,=書庫\nサーバ,equipment,soumu,3C,2,2,\"本庁舎\n3F\"\n";
        use base64::Engine as _;
        let content = base64::engine::general_purpose::STANDARD.encode(good);
        let res = c
            .post(
                "/admin/import/apply",
                &[
                    ("kind", "assets"),
                    ("filename", "a.csv"),
                    ("content", &content),
                ],
            )
            .await;
        assert!(res.body.contains("追加 2 件"), "{}", res.body);

        // Export as XLSX exactly what the list shows; importing it back changes nothing.
        let xlsx = c.get("/assets/export/xlsx?sort=id").await;
        assert_eq!(xlsx.status, StatusCode::OK);
        let bytes = c.get_bytes("/assets/export/xlsx?sort=id").await;
        assert!(bytes.starts_with(b"PK"), "a workbook");
        let records = mamori_domain::interchange::xlsx::read_any_file::<
            mamori_domain::interchange::assets::Assets,
        >(&bytes)
        .expect("reads back");
        assert_eq!(records.len(), 2);
        assert_eq!(
            records[0].1.location, "=書庫",
            "text stays text, no formula, no apostrophe"
        );
        assert_eq!(records[1].1.location, "本庁舎\n3F");
        let (ct, body) = common::multipart(
            &[("csrf", &csrf), ("kind", "assets")],
            Some((
                "file",
                "back.xlsx",
                "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet",
                &bytes,
            )),
        );
        let res = c.post_multipart("/admin/import/preview", &ct, body).await;
        assert!(
            res.body.contains("変更なし 2 件") && res.body.contains("追加 0 件"),
            "{}",
            res.body
        );
        let list = c.get("/assets?q=%E5%8F%B0%E5%B8%B3").await;
        assert!(
            list.body
                .contains("href=\"/assets/export/csv?q=%E5%8F%B0%E5%B8%B3\""),
            "the list links to an export of what it shows"
        );
        let csv = c.get("/assets/export/csv?q=%E5%8F%B0%E5%B8%B3").await;
        assert!(csv.body.starts_with('\u{feff}'));
        assert!(csv.body.contains("'=書庫"), "formula-safe CSV");
        assert!(!csv.body.contains("サーバ"), "only what the filter shows");
        app.close().await;
    }
);

both!(
    switching_scheme_previews_then_maps_every_asset,
    |pg: bool| async move {
        let app = TestApp::with(pg, mamori_web::WebConfig::default()).await;
        app.no_mfa_policy().await;
        app.add_user("admin1", "secretariat", &["admin"]).await;
        let a = app
            .add_asset("秘密A", "information", "secretariat", "3A")
            .await;
        app.add_asset("秘密C", "information", "secretariat", "3C")
            .await;
        let mut c = app.client();
        c.login("admin1").await;
        let page = c.get("/admin/classification").await;
        assert_eq!(page.status, StatusCode::OK, "{}", page.body);
        let preview = c
            .post(
                "/admin/classification/switch",
                &[
                    ("target", "classic"),
                    ("action", "preview"),
                    ("map_c_3A", "3"),
                    ("map_c_3C", ""),
                ],
            )
            .await;
        assert!(
            preview
                .body
                .contains("機密性 3C の読み替え先を指定してください"),
            "{}",
            preview.body
        );
        assert!(
            !preview.body.contains("value=\"apply\""),
            "no apply while the mapping is incomplete"
        );
        let apply = c
            .post(
                "/admin/classification/switch",
                &[
                    ("target", "classic"),
                    ("action", "apply"),
                    ("map_c_3A", "3"),
                    ("map_c_3C", "3"),
                    ("map_i_1", "1"),
                    ("map_a_1", "1"),
                ],
            )
            .await;
        assert_eq!(apply.status, StatusCode::SEE_OTHER, "{}", apply.body);
        assert_eq!(app.store().scheme().await.expect("s").code, "classic");
        assert_eq!(
            app.store()
                .asset(a.id)
                .await
                .expect("q")
                .expect("a")
                .confidentiality,
            "3"
        );
        let form = c.get("/assets/new").await;
        assert_eq!(
            form.status,
            StatusCode::FORBIDDEN,
            "admin does not edit assets by default"
        );
        app.close().await;
    }
);

both!(
    a_transfer_hands_over_assets_and_roles_in_one_step,
    |pg: bool| async move {
        let app = TestApp::with(pg, mamori_web::WebConfig::default()).await;
        app.no_mfa_policy().await;
        app.add_unit("soumu", "secretariat").await;
        app.add_unit("zaimu", "secretariat").await;
        app.add_user("hr", "secretariat", &["unit_manager@secretariat"])
            .await;
        let mover = app
            .add_user("mover", "soumu", &["system_staff@soumu"])
            .await;
        let successor = app.add_person("S-NEXT", "soumu").await;
        let asset = app.add_asset("給与システム", "system", "soumu", "3B").await;
        {
            let mut tx = app
                .store()
                .begin(mamori_store::Actor::system())
                .await
                .expect("b");
            let mut d = asset.draft().expect("draft");
            d.custodian = mover.person_id;
            mamori_store::Store::update_asset(&mut tx, asset.id, &d)
                .await
                .expect("custodian");
            tx.commit().await.expect("c");
        }
        let person_id = mover.person_id.expect("person");
        let mut c = app.client();
        c.login("hr").await;
        let form = c.get(&format!("/admin/people/{person_id}/transfer")).await;
        assert_eq!(form.status, StatusCode::OK, "{}", form.body);
        assert!(
            form.body.contains("給与システム"),
            "what they hold is listed"
        );
        let roles = app.store().person_roles(person_id).await.expect("roles");
        let bad = c
            .post(
                &format!("/admin/people/{person_id}/transfer"),
                &[
                    ("unit", "zaimu"),
                    (&format!("custodian_{}", asset.id), "NOBODY"),
                ],
            )
            .await;
        assert_eq!(bad.status, StatusCode::UNPROCESSABLE_ENTITY);
        assert!(bad.body.contains("該当する職員等がいません"));
        assert_eq!(
            app.store()
                .person(person_id)
                .await
                .expect("q")
                .expect("p")
                .unit,
            "soumu",
            "nothing changed"
        );
        let remove = format!("remove_{}", roles[0].id);
        let ok = c
            .post(
                &format!("/admin/people/{person_id}/transfer"),
                &[
                    ("unit", "zaimu"),
                    ("custodian_all", "S-NEXT"),
                    (&remove, "on"),
                ],
            )
            .await;
        assert_eq!(ok.status, StatusCode::SEE_OTHER, "{}", ok.body);
        assert_eq!(
            app.store()
                .person(person_id)
                .await
                .expect("q")
                .expect("p")
                .unit,
            "zaimu"
        );
        let a = app.store().asset(asset.id).await.expect("q").expect("a");
        assert_eq!(a.custodian_id, Some(successor.id));
        assert!(app
            .store()
            .person_roles(person_id)
            .await
            .expect("r")
            .is_empty());
        let (entries, _) = app
            .store()
            .audit_page(
                &mamori_store::AuditFilter {
                    action_prefix: Some("person.transfer".into()),
                    ..Default::default()
                },
                5,
                0,
            )
            .await
            .expect("audit");
        assert_eq!(entries.len(), 1, "one summary entry names the whole step");
        app.close().await;
    }
);

both!(
    a_leaver_loses_access_at_once_and_is_listed_until_handed_over,
    |pg: bool| async move {
        let app = TestApp::with(pg, mamori_web::WebConfig::default()).await;
        app.no_mfa_policy().await;
        app.add_unit("soumu", "secretariat").await;
        app.add_user("hr", "secretariat", &["unit_manager@secretariat"])
            .await;
        let leaver = app.add_user("leaver", "soumu", &["csirt@soumu"]).await;
        let (_, token) = app.token(&leaver, false).await;
        let mut l = app.client();
        l.login("leaver").await;
        let person = app
            .store()
            .person(leaver.person_id.expect("p"))
            .await
            .expect("q")
            .expect("p");
        let mut c = app.client();
        c.login("hr").await;
        c.get(&format!("/admin/people/{}", person.id)).await;
        let res = c
            .post(
                &format!("/admin/people/{}", person.id),
                &[
                    ("staff_id", &person.staff_id),
                    ("name", &person.name),
                    ("unit", "soumu"),
                    ("category", "regular"),
                    ("left_on", "R7.3.31"),
                ],
            )
            .await;
        assert_eq!(res.status, StatusCode::SEE_OTHER, "{}", res.body);
        let sessions = app.store().sessions_for_user(leaver.id).await.expect("s");
        assert!(sessions.is_empty(), "sessions ended in the same step");
        let api = l
            .get_with(
                "/api/v1/units",
                &[("authorization", &format!("Bearer {token}"))],
            )
            .await;
        assert_eq!(api.status, StatusCode::UNAUTHORIZED);
        let list = c.get("/admin/people/leavers").await;
        assert!(
            list.body.contains(&person.staff_id),
            "still holds a role: {}",
            list.body
        );
        let roles = app.store().person_roles(person.id).await.expect("r");
        let remove = format!("remove_{}", roles[0].id);
        let res = c
            .post(
                &format!("/admin/people/{}/transfer", person.id),
                &[("unit", "soumu"), (&remove, "on")],
            )
            .await;
        assert_eq!(res.status, StatusCode::SEE_OTHER, "{}", res.body);
        let list = c.get("/admin/people/leavers").await;
        assert!(
            !list.body.contains(&person.staff_id),
            "handed over: {}",
            list.body
        );
        app.close().await;
    }
);

both!(
    accounts_are_issued_for_a_unit_with_one_time_passwords,
    |pg: bool| async move {
        let app = TestApp::with(pg, mamori_web::WebConfig::default()).await;
        app.no_mfa_policy().await;
        app.add_unit("soumu", "secretariat").await;
        app.add_unit("kakari", "soumu").await;
        app.add_user("admin1", "secretariat", &["admin"]).await;
        app.add_person("K-001", "soumu").await;
        app.add_person("K-002", "kakari").await;
        app.add_person("職員003", "soumu").await;
        let mut c = app.client();
        c.login("admin1").await;
        let preview = c.get("/admin/accounts/issue?unit=soumu").await;
        assert!(
            preview.body.contains("交付の対象: 2 人"),
            "{}",
            preview.body
        );
        assert!(preview
            .body
            .contains("職員番号がログイン名に使えない文字を含みます"));
        let sheet = c.post("/admin/accounts/issue", &[("unit", "soumu")]).await;
        assert_eq!(sheet.status, StatusCode::OK, "{}", sheet.body);
        assert_eq!(sheet.headers["cache-control"], "no-store");
        let marker = "<code class=\"secret\">";
        let start = sheet.body.find(marker).expect("a password on the sheet") + marker.len();
        let password = &sheet.body[start..start + 20];
        let user = app
            .store()
            .user_by_username("k-001")
            .await
            .expect("q")
            .expect("issued");
        assert!(user.must_change_password, "must be changed at first login");
        assert!(
            mamori_web::credentials::verify_password(password, &user.password_hash)
                || mamori_web::credentials::verify_password(
                    password,
                    &app.store()
                        .user_by_username("k-002")
                        .await
                        .expect("q")
                        .expect("u")
                        .password_hash
                ),
            "the sheet's password is the account's"
        );
        let again = c.get("/admin/accounts/issue?unit=soumu").await;
        assert!(again.body.contains("交付の対象: 0 人"), "issued once");
        app.close().await;
    }
);

both!(
    bad_uploads_are_refused_with_a_message_and_nothing_written,
    |pg: bool| async move {
        let config = mamori_web::WebConfig {
            max_body_bytes: 64 * 1024,
            ..mamori_web::WebConfig::default()
        };
        let app = TestApp::with(pg, config).await;
        app.no_mfa_policy().await;
        app.add_user("chief", "secretariat", &["chief_officer"])
            .await;
        let mut c = app.client();
        c.login("chief").await;
        c.get("/admin/import?kind=assets").await;
        let csrf = c.csrf.clone().expect("csrf");
        let header = "名称,種別,所管組織,機密性,完全性,可用性\n";
        let cases: Vec<(&str, Vec<u8>, &str)> = vec![
            // UTF-16 (with BOM): refused, never guessed.
            (
                "utf16.csv",
                {
                    let mut b = vec![0xFF, 0xFE];
                    for u in format!("{header}台帳,system,secretariat,2,1,1\n").encode_utf16() {
                        b.extend_from_slice(&u.to_le_bytes());
                    }
                    b
                },
                "UTF-8",
            ),
            (
                "junk.csv",
                (0..4000u32).map(|i| (i * 7919 % 256) as u8).collect(),
                "utf16.csv",
            ),
            (
                "fake.xlsx",
                format!("{header}台帳,system,secretariat,2,1,1\n").into_bytes(),
                "拡張子",
            ),
            (
                "dup.csv",
                format!(
                    "資産ID,{header}7,a,system,secretariat,2,1,1\n7,b,system,secretariat,2,1,1\n"
                )
                .into_bytes(),
                "dup.csv:3: 資産ID:",
            ),
            (
                "date.csv",
                format!(
                    "{}\n台帳,system,secretariat,2,1,1,H31.5.1\n",
                    "名称,種別,所管組織,機密性,完全性,可用性,次回見直し日"
                )
                .into_bytes(),
                "date.csv:2: 次回見直し日:",
            ),
            (
                "missing.csv",
                "名称,種別,機密性,完全性,可用性\n台帳,system,2,1,1\n"
                    .as_bytes()
                    .to_vec(),
                "missing.csv:1: 所管組織:",
            ),
            (
                "custodian.csv",
                format!(
                    "{}\n台帳,system,secretariat,2,1,1,X-404\n",
                    "名称,種別,所管組織,機密性,完全性,可用性,管理者"
                )
                .into_bytes(),
                "custodian.csv:2: 管理者: 該当する職員等がいません",
            ),
        ];
        for (name, bytes, expect) in &cases {
            let (ct, body) = common::multipart(
                &[("csrf", &csrf), ("kind", "assets")],
                Some(("file", name, "text/csv", bytes)),
            );
            let res = c.post_multipart("/admin/import/preview", &ct, body).await;
            if *name == "junk.csv" {
                // Binary junk is refused as not being text, whatever it is called.
                assert!(res.body.contains("junk.csv:1:"), "{name}: {}", res.body);
            } else {
                assert!(
                    res.body.contains(expect),
                    "{name}: expected {expect:?} in {}",
                    res.body
                );
            }
            assert!(
                !res.body.contains("/admin/import/apply"),
                "{name}: no confirmation"
            );
        }
        // Over the configured limit.
        let big = format!("{header}{}", "台帳,system,secretariat,2,1,1\n".repeat(3000));
        let (ct, body) = common::multipart(
            &[("csrf", &csrf), ("kind", "assets")],
            Some(("file", "big.csv", "text/csv", big.as_bytes())),
        );
        let res = c.post_multipart("/admin/import/preview", &ct, body).await;
        assert!(
            res.status == StatusCode::BAD_REQUEST || res.status == StatusCode::PAYLOAD_TOO_LARGE,
            "{}",
            res.status
        );
        assert!(res.body.contains("大きすぎます"), "{}", res.body);
        assert_eq!(
            app.store()
                .assets_page(&Default::default(), 1, 0)
                .await
                .expect("q")
                .1,
            0,
            "nothing written"
        );
        app.close().await;
    }
);

both!(
    the_people_api_filters_by_unit_category_and_leaving,
    |pg: bool| async move {
        let app = TestApp::with(pg, mamori_web::WebConfig::default()).await;
        app.no_mfa_policy().await;
        app.add_unit("soumu", "secretariat").await;
        app.add_unit("kakari", "soumu").await;
        let user = app
            .add_user("hr", "secretariat", &["unit_manager@secretariat"])
            .await;
        app.add_person("P-1", "soumu").await;
        app.add_person("P-2", "kakari").await;
        let left = app.add_user("gone", "kakari", &[]).await;
        app.set_left_on(&left, "2020-03-31").await;
        let (_, token) = app.token(&user, true).await;
        let auth = format!("Bearer {token}");
        let mut c = app.client();
        let get = |body: serde_json::Value| -> Vec<String> {
            body["items"]
                .as_array()
                .expect("items")
                .iter()
                .filter_map(|p| p["staff_id"].as_str().map(str::to_owned))
                .collect()
        };
        let under = c
            .get_with("/api/v1/people?unit=soumu", &[("authorization", &auth)])
            .await
            .json();
        assert_eq!(
            get(under),
            ["P-1", "P-2", "S-gone"],
            "the unit and those beneath it"
        );
        let active = c
            .get_with(
                "/api/v1/people?unit=kakari&status=active",
                &[("authorization", &auth)],
            )
            .await
            .json();
        assert_eq!(get(active), ["P-2"]);
        let gone = c
            .get_with("/api/v1/people?status=left", &[("authorization", &auth)])
            .await
            .json();
        assert_eq!(get(gone), ["S-gone"]);
        let none = c
            .get_with(
                "/api/v1/people?category=fiscal_year",
                &[("authorization", &auth)],
            )
            .await
            .json();
        assert_eq!(none["total"], 0);
        let bad = c
            .get_with("/api/v1/people?status=maybe", &[("authorization", &auth)])
            .await;
        assert_eq!(bad.status, StatusCode::UNPROCESSABLE_ENTITY);
        app.close().await;
    }
);
