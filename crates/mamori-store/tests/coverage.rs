//! Coverage on both databases: the `control-status` export (applicable controls per unit,
//! including units with nothing recorded) and its all-or-nothing import through the audited
//! status path, and the clause → control → risk → asset counts.

#![allow(missing_docs)]

mod common;

use mamori_domain::assets::classification::Class;
use mamori_domain::assets::{AssetDraft, AssetStatus, AssetType, Segment};
use mamori_domain::catalogue::{ControlDraft, ImplStatus};
use mamori_domain::interchange::control_status::ControlStatuses;
use mamori_domain::interchange::kind::{read_file, write_csv};
use mamori_domain::UnitId;
use mamori_store::{Actor, ControlStatusFilter, ControlStatusRow, CoverageScope, Store, UnitInput};
use std::collections::HashSet;

fn actor(name: &str) -> Actor {
    Actor {
        name: name.into(),
        source: "127.0.0.1".into(),
    }
}

fn asset(name: &str, unit: UnitId, segment: Segment, c: &str) -> AssetDraft {
    AssetDraft {
        name: name.into(),
        asset_type: AssetType::System,
        owner_unit: unit,
        custodian: None,
        segment,
        class: Class {
            confidentiality: c.into(),
            integrity: "1".into(),
            availability: "1".into(),
        },
        location: String::new(),
        description: String::new(),
        personal_data: false,
        rto_hours: None,
        review_on: None,
        status: AssetStatus::InUse,
        disposed_on: None,
        disposal_method: String::new(),
    }
}

fn control(
    code: &str,
    clauses: &[&str],
    segments: Vec<Segment>,
    min_tier: Option<u8>,
) -> ControlDraft {
    ControlDraft {
        code: code.into(),
        area: "M6".into(),
        title: format!("管理策 {code}"),
        description: String::new(),
        clauses: clauses.iter().map(|c| (*c).to_owned()).collect(),
        owner_role: "system_manager".into(),
        segments,
        min_tier,
        retired: false,
    }
}

struct Setup {
    soumu: UnitId,
    kaikei: UnitId,
    assets: Vec<i64>,
}

async fn setup(store: &Store) -> Setup {
    store.migrate().await.expect("migrate");
    let sec = store
        .unit_by_code("secretariat")
        .await
        .expect("q")
        .expect("seeded")
        .id;
    let mut tx = store.begin(actor("chief")).await.expect("b");
    let unit = |code: &str, name: &str| UnitInput {
        code: code.into(),
        name: name.into(),
        parent_id: Some(sec),
        in_scope: true,
    };
    let soumu = Store::create_unit(&mut tx, &unit("soumu", "総務課"))
        .await
        .expect("u")
        .id;
    let kaikei = Store::create_unit(&mut tx, &unit("kaikei", "会計課"))
        .await
        .expect("u")
        .id;
    // X-ALL: every unit; X-LG3: LGWAN assets of tier 3 only (soumu has one, kaikei has a
    // tier-2 one and a disposed tier-3 one).
    Store::create_control(&mut tx, &control("X-ALL", &["6(4)"], vec![], None))
        .await
        .expect("c");
    Store::create_control(
        &mut tx,
        &control("X-LG3", &["6(4)"], vec![Segment::Lgwan], Some(3)),
    )
    .await
    .expect("c");
    let mut assets = Vec::new();
    for d in [
        asset("住民記録システム", soumu, Segment::Lgwan, "3B"),
        asset("会計システム", kaikei, Segment::Lgwan, "2"),
    ] {
        assets.push(Store::create_asset(&mut tx, &d).await.expect("a").id.0);
    }
    let mut gone = asset("旧財務サーバ", kaikei, Segment::Lgwan, "3A");
    gone.status = AssetStatus::Disposed;
    gone.disposed_on = Some(time::macros::date!(2025 - 01 - 10));
    gone.disposal_method = "破砕".into();
    assets.push(Store::create_asset(&mut tx, &gone).await.expect("a").id.0);
    tx.commit().await.expect("c");
    Setup {
        soumu,
        kaikei,
        assets,
    }
}

async fn exported(store: &Store, filter: &ControlStatusFilter) -> Vec<ControlStatusRow> {
    let mut rows = Vec::new();
    store
        .control_statuses_for_each(filter, |r| {
            rows.push(r);
            Ok(())
        })
        .await
        .expect("export");
    rows
}

/// Imports control statuses from CSV text as tanaka and commits; the file must be valid.
async fn import_as_tanaka(store: &Store, csv: &str) {
    let records = read_file::<ControlStatuses>(csv.as_bytes()).expect("parse");
    let mut tx = store.begin(actor("tanaka")).await.expect("begin");
    Store::import_control_statuses(&mut tx, &records, |c| c.to_owned(), None)
        .await
        .expect("import")
        .expect("valid");
    tx.commit().await.expect("commit");
}

/// The stored status of a control in a unit (which must exist).
async fn status_of(store: &Store, control: i64, unit: UnitId) -> ControlStatusRow {
    store
        .control_status(control, unit)
        .await
        .expect("query")
        .expect("status row")
}

fn pairs(rows: &[ControlStatusRow]) -> Vec<(String, String, String)> {
    rows.iter()
        .filter(|r| r.control.starts_with("X-"))
        .map(|r| (r.control.clone(), r.unit.clone(), r.status.clone()))
        .collect()
}

store_test!(control_status_export_and_import, |db| {
    let s = setup(&db.store).await;
    let all = exported(&db.store, &ControlStatusFilter::default()).await;
    let mine = pairs(&all);
    // X-ALL for every in-scope unit, with nothing recorded; X-LG3 only where a live LGWAN tier-3
    // asset is held.
    assert!(mine.contains(&("X-ALL".into(), "kaikei".into(), "not_started".into())));
    assert!(mine.contains(&("X-ALL".into(), "assembly".into(), "not_started".into())));
    assert!(mine.contains(&("X-LG3".into(), "soumu".into(), "not_started".into())));
    assert!(
        !mine.iter().any(|p| p.0 == "X-LG3" && p.1 != "soumu"),
        "{mine:?}"
    );
    let only = exported(
        &db.store,
        &ControlStatusFilter {
            units: Some(vec![s.kaikei]),
        },
    )
    .await;
    assert!(only.iter().all(|r| r.unit == "kaikei") && !only.is_empty());

    // Import: codes or names, labels or codes; a not_started row for nothing recorded is
    // unchanged and writes nothing.
    let csv = "管理策コード,組織コード,実施状況,備考,根拠リンク,次回見直し日,確認者,確認日\n\
               X-ALL,soumu,実施済,済み,https://example.jp/a,R8.4.1,偽の確認者,2026-01-01\n\
               X-ALL,会計課,partial,,,,,\n\
               X-LG3,soumu,未実施,,,,,\n";
    let records = read_file::<ControlStatuses>(csv.as_bytes()).expect("parse");
    let mut tx = db.store.begin(actor("tanaka")).await.expect("b");
    let summary = Store::import_control_statuses(&mut tx, &records, |c| c.to_owned(), None)
        .await
        .expect("import")
        .expect("no problems");
    assert_eq!(
        (summary.added, summary.updated, summary.unchanged),
        (2, 0, 1)
    );
    tx.commit().await.expect("c");
    let x_all = db
        .store
        .control_by_code("X-ALL")
        .await
        .expect("q")
        .expect("c");
    let st = status_of(&db.store, x_all.id, s.soumu).await;
    assert_eq!(st.status, "implemented");
    assert_eq!(st.updated_by.as_deref(), Some("tanaka"));
    assert_eq!(st.verified_by, None, "verification is not imported");
    assert_eq!(st.review_on.as_deref(), Some("2026-04-01"));

    // Verified by someone else; re-importing the same file changes nothing, a new note keeps
    // the verification, a new status clears it.
    let mut tx = db.store.begin(actor("auditor")).await.expect("b");
    Store::verify_control_status(
        &mut tx,
        x_all.id,
        s.soumu,
        time::macros::date!(2026 - 05 - 01),
    )
    .await
    .expect("verify");
    tx.commit().await.expect("c");
    let mut tx = db.store.begin(actor("tanaka")).await.expect("b");
    let again = Store::import_control_statuses(&mut tx, &records, |c| c.to_owned(), None)
        .await
        .expect("import")
        .expect("ok");
    assert_eq!((again.added, again.updated, again.unchanged), (0, 0, 3));
    drop(tx);
    let changed = "control,unit,status,note\nX-ALL,soumu,implemented,メモ変更\n";
    import_as_tanaka(&db.store, changed).await;
    let st = status_of(&db.store, x_all.id, s.soumu).await;
    assert_eq!(
        st.verified_by.as_deref(),
        Some("auditor"),
        "a note keeps it"
    );
    let downgraded = "control,unit,status\nX-ALL,soumu,partial\n";
    import_as_tanaka(&db.store, downgraded).await;
    let st = status_of(&db.store, x_all.id, s.soumu).await;
    assert_eq!((st.status.as_str(), st.verified_by), ("partial", None));

    // Refusals by row and column; nothing written.
    let (head, _) = db.store.audit_head().await.expect("h");
    let bad = "control,unit,status\nNOPE-1,soumu,implemented\nX-ALL,nowhere,implemented\n\
               X-ALL,kaikei,implemented\nX-LG3,総務課,implemented\n";
    let r = read_file::<ControlStatuses>(bad.as_bytes()).expect("p");
    let allowed: HashSet<UnitId> = [s.soumu].into_iter().collect();
    let mut tx = db.store.begin(actor("tanaka")).await.expect("b");
    let problems =
        Store::import_control_statuses(&mut tx, &r, |c| format!("[{c}]"), Some(&allowed))
            .await
            .expect("import")
            .expect_err("refused");
    drop(tx);
    let got: Vec<(u64, &str, &str)> = problems
        .iter()
        .map(|p| (p.line, p.column.as_str(), p.message_id))
        .collect();
    assert_eq!(
        got,
        [
            (2, "[control]", "coverage-error-unknown-control"),
            (3, "[unit]", "error-unknown-unit"),
            (4, "[unit]", "coverage-error-unit-not-permitted"),
        ]
    );
    assert_eq!(db.store.audit_head().await.expect("h").0, head);
    // The same pair by code and by name.
    let twice = "control,unit,status\nX-LG3,soumu,implemented\nX-LG3,総務課,partial\n";
    let r = read_file::<ControlStatuses>(twice.as_bytes()).expect("p");
    let mut tx = db.store.begin(actor("tanaka")).await.expect("b");
    let problems = Store::import_control_statuses(&mut tx, &r, |c| c.to_owned(), None)
        .await
        .expect("i")
        .expect_err("refused");
    drop(tx);
    assert_eq!(problems[0].line, 3);
    assert_eq!(problems[0].message_id, "import-duplicate-key");

    // Exporting and importing changes nothing.
    let rows = exported(&db.store, &ControlStatusFilter::default()).await;
    let records: Vec<_> = rows.iter().map(|r| r.to_record().expect("r")).collect();
    assert!(records
        .iter()
        .any(|r| r.verified_by.is_none() && r.control == "X-ALL"));
    let csv = write_csv::<ControlStatuses>(&records, true).expect("csv");
    let back = read_file::<ControlStatuses>(csv.as_bytes()).expect("read");
    let mut tx = db.store.begin(actor("tanaka")).await.expect("b");
    let summary = Store::import_control_statuses(&mut tx, &back, |c| c.to_owned(), None)
        .await
        .expect("i")
        .expect("ok");
    assert_eq!(summary.added + summary.updated, 0);
    assert_eq!(summary.unchanged, rows.len());
    drop(tx);
});

async fn add_risk(
    store: &Store,
    code: &str,
    unit: UnitId,
    status: &str,
    controls: &[i64],
    assets: &[i64],
) {
    let threat: i64 = sqlx::query_scalar("SELECT id FROM threats WHERE code = 'T1-01'")
        .fetch_one(store.pool())
        .await
        .expect("threat");
    let id: i64 = sqlx::query_scalar(
        "INSERT INTO risks (code, title, unit_id, threat_id, likelihood, impact, level, treatment, \
         residual_likelihood, residual_impact, residual_level, status, created_at, updated_at) \
         VALUES ($1, $2, $3, $4, 2, 2, 'medium', 'reduce', 1, 1, 'low', $5, '2026-04-01T00:00:00Z', \
         '2026-04-01T00:00:00Z') RETURNING id",
    )
    .bind(code)
    .bind(format!("リスク {code}"))
    .bind(unit.0)
    .bind(threat)
    .bind(status)
    .fetch_one(store.pool())
    .await
    .expect("risk");
    for c in controls {
        sqlx::query("INSERT INTO risk_controls (risk_id, control_id) VALUES ($1, $2)")
            .bind(id)
            .bind(*c)
            .execute(store.pool())
            .await
            .expect("rc");
    }
    for a in assets {
        sqlx::query("INSERT INTO risk_assets (risk_id, asset_id) VALUES ($1, $2)")
            .bind(id)
            .bind(*a)
            .execute(store.pool())
            .await
            .expect("ra");
    }
}

store_test!(coverage_counts_clauses_controls_risks_and_assets, |db| {
    let s = setup(&db.store).await;
    let scope = CoverageScope::default();
    let before = db.store.coverage(&scope).await.expect("coverage");
    assert!(!before.is_empty(), "the seeded basic policy is in force");
    let c64 = before
        .iter()
        .find(|c| c.anchor == "6(4)")
        .expect("6(4)")
        .clone();
    assert!(c64.covered && c64.controls.contains(&"X-ALL".to_owned()));
    let six = before.iter().find(|c| c.anchor == "6").expect("6");
    assert_eq!(c64.depth, six.depth + 1);
    assert!(six.covered, "covered through its sub-clauses");
    let gap = before
        .iter()
        .find(|c| !c.covered)
        .expect("a clause no control cites");
    assert!(gap.controls.is_empty());
    assert_eq!(c64.open_risks, 0);

    // A status changes the count.
    let x_all = db
        .store
        .control_by_code("X-ALL")
        .await
        .expect("q")
        .expect("c");
    let x_lg3 = db
        .store
        .control_by_code("X-LG3")
        .await
        .expect("q")
        .expect("c");
    let mut tx = db.store.begin(actor("tanaka")).await.expect("b");
    Store::set_control_status(
        &mut tx,
        x_all.id,
        s.soumu,
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
    let after = db.store.coverage(&scope).await.expect("coverage");
    let a64 = after.iter().find(|c| c.anchor == "6(4)").expect("6(4)");
    assert_eq!(a64.statuses.implemented, c64.statuses.implemented + 1);
    assert_eq!(a64.statuses.not_started, c64.statuses.not_started - 1);

    // Risks: two open (one in each unit, one treated by both controls), one closed.
    add_risk(
        &db.store,
        "R-1",
        s.soumu,
        "open",
        &[x_all.id, x_lg3.id],
        &[s.assets[0]],
    )
    .await;
    add_risk(
        &db.store,
        "R-2",
        s.kaikei,
        "open",
        &[x_all.id],
        &[s.assets[1], s.assets[0]],
    )
    .await;
    add_risk(
        &db.store,
        "R-3",
        s.kaikei,
        "closed",
        &[x_all.id],
        &[s.assets[2]],
    )
    .await;
    let now = db.store.coverage(&scope).await.expect("coverage");
    let n64 = now.iter().find(|c| c.anchor == "6(4)").expect("6(4)");
    assert_eq!((n64.open_risks, n64.assets), (2, 2));
    // A reader restricted to one unit.
    let narrow = CoverageScope {
        status_units: Some(vec![s.soumu]),
        risk_units: Some(vec![s.soumu]),
    };
    let n = db.store.coverage(&narrow).await.expect("coverage");
    let m64 = n.iter().find(|c| c.anchor == "6(4)").expect("6(4)");
    assert_eq!((m64.open_risks, m64.assets), (1, 1));
    let pairs = m64.statuses.implemented
        + m64.statuses.partial
        + m64.statuses.not_started
        + m64.statuses.not_applicable;
    assert_eq!(pairs, m64.controls.len() as i64, "one unit per control");
    assert_eq!(m64.statuses.implemented, 1);

    let detail = db
        .store
        .coverage_detail("6(4)", &scope, 1, 0)
        .await
        .expect("detail")
        .expect("clause");
    let x = detail
        .controls
        .iter()
        .find(|c| c.code == "X-ALL")
        .expect("X-ALL");
    assert_eq!(x.open_risks, 2);
    let y = detail
        .controls
        .iter()
        .find(|c| c.code == "X-LG3")
        .expect("X-LG3");
    assert_eq!(y.open_risks, 1);
    assert_eq!(detail.assets_total, 2);
    assert_eq!(detail.assets.len(), 1, "paged");
    assert_eq!(detail.assets[0].id, s.assets[0]);
    let second = db
        .store
        .coverage_detail("6(4)", &scope, 1, 1)
        .await
        .expect("detail")
        .expect("clause");
    assert_eq!(second.assets[0].id, s.assets[1]);
    assert!(db
        .store
        .coverage_detail("99(9)", &scope, 10, 0)
        .await
        .expect("d")
        .is_none());
    let parent = db
        .store
        .coverage_detail("6", &scope, 10, 0)
        .await
        .expect("d")
        .expect("6");
    assert!(parent.children.iter().any(|c| c.anchor == "6(4)"));
});
