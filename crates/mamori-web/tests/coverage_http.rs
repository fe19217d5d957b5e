//! Coverage over HTTP, on SQLite and PostgreSQL: the clause table with its gaps, counts that
//! follow statuses and risks, a reader restricted to one unit, the clause page's drill-downs,
//! the `control-status` downloads and import.

#![allow(missing_docs)]

mod common;

use common::TestApp;
use mamori_domain::catalogue::ImplStatus;
use mamori_domain::interchange::control_status::ControlStatuses;
use mamori_domain::interchange::kind::parse_table;
use mamori_domain::interchange::xlsx::read_xlsx;
use mamori_store::{Actor, Store};

fn clause<'a>(api: &'a serde_json::Value, anchor: &str) -> &'a serde_json::Value {
    api["items"]
        .as_array()
        .expect("items")
        .iter()
        .find(|i| i["anchor"] == anchor)
        .expect("clause")
}

fn pairs(c: &serde_json::Value) -> i64 {
    ["implemented", "partial", "not_started", "not_applicable"]
        .iter()
        .map(|k| c["statuses"][*k].as_i64().expect("count"))
        .sum()
}

async fn add_risk(app: &TestApp, code: &str, unit: &str, control: i64, asset: i64) {
    let pool = app.store().pool();
    let unit = app.unit(unit).await;
    let threat: i64 = sqlx::query_scalar("SELECT id FROM threats WHERE code = 'T1-01'")
        .fetch_one(pool)
        .await
        .expect("threat");
    let id: i64 = sqlx::query_scalar(
        "INSERT INTO risks (code, title, unit_id, threat_id, likelihood, impact, level, treatment, \
         residual_likelihood, residual_impact, residual_level, status, created_at, updated_at) \
         VALUES ($1, 'リスク', $2, $3, 2, 2, 'medium', 'reduce', 1, 1, 'low', 'open', \
         '2026-04-01T00:00:00Z', '2026-04-01T00:00:00Z') RETURNING id",
    )
    .bind(code)
    .bind(unit.id.0)
    .bind(threat)
    .fetch_one(pool)
    .await
    .expect("risk");
    sqlx::query("INSERT INTO risk_controls (risk_id, control_id) VALUES ($1, $2)")
        .bind(id)
        .bind(control)
        .execute(pool)
        .await
        .expect("rc");
    sqlx::query("INSERT INTO risk_assets (risk_id, asset_id) VALUES ($1, $2)")
        .bind(id)
        .bind(asset)
        .execute(pool)
        .await
        .expect("ra");
}

both!(
    coverage_counts_gaps_and_drill_downs,
    |pg: bool| async move {
        let app = TestApp::with(pg, mamori_web::WebConfig::default()).await;
        app.no_mfa_policy().await;
        let soumu = app.add_unit("soumu", "secretariat").await;
        app.add_unit("kaikei", "secretariat").await;
        app.add_user("chief", "secretariat", &["chief_officer"])
            .await;
        app.add_user("mgr", "soumu", &["unit_manager@soumu"]).await;
        app.add_user("tanaka", "soumu", &[]).await;

        let mut c = app.client();
        c.login("chief").await;
        let page = c.get("/coverage").await;
        assert_eq!(page.status, 200, "{}", page.body);
        assert!(page.body.contains("<caption>"));
        assert!(page.body.contains("href=\"/coverage\""), "nav link");
        let api = c.get("/api/v1/coverage").await.json();
        let gap = api["items"]
            .as_array()
            .expect("items")
            .iter()
            .find(|i| i["covered"] == false)
            .expect("a clause no control cites");
        assert!(gap["controls"].as_array().is_some_and(|a| a.is_empty()));
        // The gap is flagged in words and with a class.
        assert!(page.body.contains("coverage-gap") && page.body.contains("未対応"));
        let gap_anchor = gap["anchor"].as_str().expect("anchor").to_owned();
        let gap_page = c.get(&format!("/coverage/{gap_anchor}")).await;
        assert_eq!(gap_page.status, 200);
        assert!(gap_page.body.contains("未対応"));

        // 6(4) and a control citing it.
        let c64 = clause(&api, "6(4)").clone();
        let code = c64["controls"][0].as_str().expect("a control").to_owned();
        let control = app
            .store()
            .control_by_code(&code)
            .await
            .expect("q")
            .expect("c");
        let mut tx = app.store().begin(Actor::system()).await.expect("b");
        Store::set_control_status(
            &mut tx,
            control.id,
            soumu.id,
            &mamori_store::StatusInput {
                status: ImplStatus::Implemented,
                note: String::new(),
                links: vec![],
                review_on: None,
            },
        )
        .await
        .expect("set");
        tx.commit().await.expect("c");
        let api = c.get("/api/v1/coverage").await.json();
        let now = clause(&api, "6(4)");
        assert_eq!(
            now["statuses"]["implemented"].as_i64(),
            c64["statuses"]["implemented"].as_i64().map(|n| n + 1)
        );
        assert_eq!(pairs(now), pairs(&c64));

        // A risk in kaikei treated by the control, naming one asset.
        let asset = app.add_asset("会計システム", "system", "kaikei", "2").await;
        add_risk(&app, "R-1", "kaikei", control.id, asset.id.0).await;
        let api = c.get("/api/v1/coverage").await.json();
        let now = clause(&api, "6(4)");
        assert_eq!(
            (now["open_risks"].as_i64(), now["assets"].as_i64()),
            (Some(1), Some(1))
        );
        let detail = c.get("/coverage/6(4)").await;
        assert_eq!(detail.status, 200);
        assert!(detail.body.contains(&format!("href=\"/controls/{code}\"")));
        assert!(
            detail.body.contains(&format!("/risks?control={code}")),
            "{}",
            detail.body
        );
        assert!(detail
            .body
            .contains(&format!("href=\"/assets/{}\"", asset.id.0)));
        assert!(detail.body.contains("会計システム"));
        assert_eq!(c.get("/coverage/99(9)").await.status, 404);

        // A reader restricted to soumu: only its statuses and none of kaikei's risks.
        let mut m = app.client();
        m.login("mgr").await;
        let mine = m.get("/api/v1/coverage").await.json();
        let m64 = clause(&mine, "6(4)");
        let controls = m64["controls"].as_array().expect("c").len() as i64;
        assert_eq!(pairs(m64), controls, "one unit");
        assert_eq!(m64["statuses"]["implemented"].as_i64(), Some(1));
        assert_eq!(m64["open_risks"].as_i64(), Some(0));
        assert!(pairs(clause(&api, "6(4)")) > pairs(m64));
        assert_eq!(m.get("/coverage?unit=kaikei").await.status, 403);
        assert_eq!(m.get("/api/v1/coverage?unit=kaikei").await.status, 403);
        let detail = m.get("/coverage/6(4)").await;
        assert!(!detail.body.contains("会計システム"));
        // Chief narrowed to kaikei sees the risk; to soumu does not.
        let k = c.get("/api/v1/coverage?unit=kaikei").await.json();
        assert_eq!(clause(&k, "6(4)")["open_risks"].as_i64(), Some(1));
        assert_eq!(
            clause(&k, "6(4)")["statuses"]["implemented"].as_i64(),
            Some(0)
        );

        // Staff without status-reading rights.
        let mut t = app.client();
        t.login("tanaka").await;
        assert_eq!(t.get("/coverage").await.status, 403);
        assert_eq!(t.get("/api/v1/coverage").await.status, 403);
        assert_eq!(t.get("/coverage/control-status.xlsx").await.status, 403);
        app.close().await;
    }
);

both!(control_status_downloads_and_import, |pg: bool| async move {
    let app = TestApp::with(pg, mamori_web::WebConfig::default()).await;
    app.no_mfa_policy().await;
    let soumu = app.add_unit("soumu", "secretariat").await;
    app.add_unit("kaikei", "secretariat").await;
    app.add_user("chief", "secretariat", &["chief_officer"])
        .await;
    app.add_user("mgr", "soumu", &["unit_manager@soumu"]).await;
    let control = app
        .store()
        .control_by_code("M1-01")
        .await
        .expect("q")
        .expect("seeded");

    let mut m = app.client();
    m.login("mgr").await;
    m.get("/admin/import?kind=control-status").await;
    let csrf = m.csrf.clone().expect("csrf");
    let preview = |csv: &'static str, csrf: String| {
        common::multipart(
            &[("csrf", &csrf), ("kind", "control-status")],
            Some(("file", "status.csv", "text/csv", csv.as_bytes())),
        )
    };
    // A row for a unit the importer may not update is refused by row; nothing written.
    let (ct, body) = preview(
            "管理策コード,組織コード,実施状況\nM1-01,soumu,実施済\nM1-01,kaikei,実施済\nNOPE,soumu,未実施\n",
            csrf.clone(),
        );
    let res = m
        .post_raw_typed(
            "/admin/import/preview",
            &ct,
            body,
            &[("origin", "http://mamori.test")],
        )
        .await;
    assert_eq!(res.status, 200);
    assert!(
        res.body.contains("status.csv:3: 組織コード:"),
        "{}",
        res.body
    );
    assert!(
        res.body.contains("status.csv:4: 管理策コード:"),
        "{}",
        res.body
    );
    use base64::Engine as _;
    let good = "管理策コード,組織コード,実施状況,備考\nM1-01,soumu,一部実施,取り込み\n";
    let applied = m
        .post(
            "/admin/import/apply",
            &[
                ("kind", "control-status"),
                ("filename", "status.csv"),
                (
                    "content",
                    &base64::engine::general_purpose::STANDARD.encode(good),
                ),
            ],
        )
        .await;
    assert_eq!(applied.status, 200, "{}", applied.body);
    let st = app
        .store()
        .control_status(control.id, soumu.id)
        .await
        .expect("q")
        .expect("r");
    assert_eq!(
        (st.status.as_str(), st.note.as_str()),
        ("partial", "取り込み")
    );
    assert_eq!(st.updated_by.as_deref(), Some("mgr"));

    // The workbook for one unit: every applicable control, recorded or not.
    let mut c = app.client();
    c.login("chief").await;
    let bytes = c
        .get_bytes("/coverage/control-status.xlsx?unit=soumu")
        .await;
    let table = read_xlsx(
        &bytes,
        <ControlStatuses as mamori_domain::interchange::kind::Kind>::COLUMNS,
    )
    .expect("a workbook");
    let rows = parse_table::<ControlStatuses>(&table).expect("rows");
    assert!(rows.iter().all(|(_, r)| r.unit == "soumu"));
    assert!(rows.iter().any(|(_, r)| r.control == "M1-01"
        && r.status == ImplStatus::Partial
        && r.note == "取り込み"));
    assert!(
        rows.iter()
            .filter(|(_, r)| r.status == ImplStatus::NotStarted)
            .count()
            > 5,
        "units with nothing recorded are listed as 未実施"
    );
    let csv = c.get("/coverage/control-status.csv").await;
    assert_eq!(csv.status, 200);
    assert!(csv
        .body
        .starts_with("\u{feff}管理策コード,組織コード,実施状況"));
    assert!(csv.body.contains("M1-01,kaikei,未実施"));
    // The unit manager's export holds only soumu.
    let mine = m.get("/coverage/control-status.csv").await;
    assert!(mine.body.contains("M1-01,soumu,一部実施") && !mine.body.contains(",kaikei,"));
    app.close().await;
});
