//! The threat and control catalogues on both databases: seeding, editing with refusals,
//! statuses per unit (verification and its separation of duties), tallies, evidence and the
//! all-or-nothing import of an organisation's own catalogue.

#![allow(missing_docs)]

mod common;

use mamori_domain::catalogue::{ImplStatus, ThreatDraft};
use mamori_domain::interchange::catalogue::Controls;
use mamori_domain::interchange::kind::read_file;
use mamori_store::{Actor, ControlFilter, StatusInput, Store, StoreError, ThreatFilter};

fn actor(name: &str) -> Actor {
    Actor {
        name: name.into(),
        source: "127.0.0.1".into(),
    }
}

store_test!(catalogues_are_seeded_and_edited, |db| {
    db.store.migrate().await.expect("migrate");
    let (threats, total) = db
        .store
        .threats_page(&ThreatFilter::default(), 100, 0)
        .await
        .expect("threats");
    assert!(total >= 20, "{total}");
    assert_eq!(threats[0].code, "T1-01");
    assert_eq!(threats[0].category_name, "意図的な要因");
    assert_eq!(db.store.threat_categories().await.expect("c").len(), 5);
    let areas = db.store.measure_areas().await.expect("a");
    assert_eq!(areas.len(), 9);
    assert_eq!(areas[5].name_ja, "技術的セキュリティ");
    let (_, controls) = db
        .store
        .controls_page(&ControlFilter::default(), 10, 0)
        .await
        .expect("controls");
    assert!(controls >= 40);
    let m6 = db
        .store
        .controls_page(
            &ControlFilter {
                area: Some("M6".into()),
                ..ControlFilter::default()
            },
            100,
            0,
        )
        .await
        .expect("m6")
        .0;
    assert!(m6.iter().all(|c| c.area == "M6") && m6.len() >= 5);
    // Every seeded anchor is a clause of the seeded basic policy.
    let anchors = db
        .store
        .basic_policy_anchors()
        .await
        .expect("anchors")
        .expect("in force");
    for c in &m6 {
        for a in &c.clauses {
            assert!(anchors.contains(a), "{} cites {a}", c.code);
        }
    }

    // A threat is added, edited and retired; a taken code and an unknown category are refused.
    let mut tx = db.store.begin(actor("chief")).await.expect("b");
    let mut d = ThreatDraft {
        code: "T2-99".into(),
        category: "T2".into(),
        title: "誤廃棄".into(),
        description: String::new(),
        retired: false,
    };
    Store::create_threat(&mut tx, &d).await.expect("create");
    tx.commit().await.expect("c");
    // (A refused statement ends a PostgreSQL transaction: each refusal gets its own.)
    let mut tx = db.store.begin(actor("chief")).await.expect("b");
    d.code = "T1-01".into();
    assert!(matches!(
        Store::create_threat(&mut tx, &d).await,
        Err(StoreError::Duplicate("code"))
    ));
    drop(tx);
    let mut tx = db.store.begin(actor("chief")).await.expect("b");
    d.code = "T2-98".into();
    d.category = "T9".into();
    assert!(matches!(
        Store::create_threat(&mut tx, &d).await,
        Err(StoreError::Missing("category"))
    ));
    drop(tx);
    let mut tx = db.store.begin(actor("chief")).await.expect("b");
    d.category = "T2".into();
    d.retired = true;
    let (row, changed) = Store::update_threat(&mut tx, "T2-99", &d).await.expect("u");
    assert!(changed && row.retired);
    tx.commit().await.expect("c");
    let (_, shown) = db
        .store
        .threats_page(&ThreatFilter::default(), 100, 0)
        .await
        .expect("t");
    assert_eq!(shown, total, "retired threats are left out by default");

    // A control code that exists is refused naming the field.
    let existing = db
        .store
        .control_by_code("M6-04")
        .await
        .expect("q")
        .expect("seeded");
    let mut tx = db.store.begin(actor("chief")).await.expect("b");
    assert!(matches!(
        Store::create_control(&mut tx, &existing.draft()).await,
        Err(StoreError::Duplicate("code"))
    ));
    drop(tx);
});

store_test!(statuses_per_unit_verification_and_tallies, |db| {
    db.store.migrate().await.expect("migrate");
    let c = db
        .store
        .control_by_code("M6-04")
        .await
        .expect("q")
        .expect("seeded");
    let unit = db
        .store
        .unit_by_code("secretariat")
        .await
        .expect("u")
        .expect("seeded");
    let status = db
        .store
        .control_status(c.id, unit.id)
        .await
        .expect("s")
        .expect("row");
    assert!(!status.recorded);
    assert_eq!(status.status(), ImplStatus::NotStarted);

    let input = StatusInput {
        status: ImplStatus::Partial,
        note: "月次で適用".into(),
        links: vec!["https://intra.example/patch".into()],
        review_on: Some(time::macros::date!(2027 - 03 - 31)),
    };
    let mut tx = db.store.begin(actor("manager")).await.expect("b");
    let (row, changed) = Store::set_control_status(&mut tx, c.id, unit.id, &input)
        .await
        .expect("set");
    assert!(changed && row.recorded);
    tx.commit().await.expect("c");
    // The same again changes nothing.
    let mut tx = db.store.begin(actor("manager")).await.expect("b");
    let (_, changed) = Store::set_control_status(&mut tx, c.id, unit.id, &input)
        .await
        .expect("set");
    assert!(!changed);
    // Nobody verifies their own status.
    assert!(matches!(
        Store::verify_control_status(&mut tx, c.id, unit.id, time::macros::date!(2026 - 12 - 01))
            .await,
        Err(StoreError::Rule("catalogue-verify-own"))
    ));
    drop(tx);
    let mut tx = db.store.begin(actor("chief")).await.expect("b");
    let v =
        Store::verify_control_status(&mut tx, c.id, unit.id, time::macros::date!(2026 - 12 - 01))
            .await
            .expect("verify");
    assert_eq!(v.verified_by.as_deref(), Some("chief"));
    tx.commit().await.expect("c");
    // A new status clears the verification; a new note alone would not.
    let mut tx = db.store.begin(actor("manager")).await.expect("b");
    let (row, _) = Store::set_control_status(
        &mut tx,
        c.id,
        unit.id,
        &StatusInput {
            status: ImplStatus::Implemented,
            ..input.clone()
        },
    )
    .await
    .expect("set");
    assert_eq!(row.verified_by, None);
    // Evidence.
    let mut w = mamori_store::FileWriter::begin(&mut tx, 1024)
        .await
        .expect("f");
    w.write(&mut tx, b"evidence").await.expect("w");
    let (sha, size) = w.finish(&mut tx).await.expect("f");
    Store::add_control_evidence(&mut tx, c.id, unit.id, (&sha, size), "e.txt", "text/plain")
        .await
        .expect("evidence");
    tx.commit().await.expect("c");
    assert_eq!(
        db.store
            .control_evidence(c.id, unit.id)
            .await
            .expect("e")
            .len(),
        1
    );

    // Tallies over in-scope units; a unit with nothing recorded counts as 未実施.
    let tallies = db.store.control_tallies(None).await.expect("t");
    let t = &tallies[&c.id];
    assert_eq!((t.implemented, t.not_started), (1, 4));
    let only = db.store.control_tallies(Some(&[unit.id])).await.expect("t");
    assert_eq!(only[&c.id].implemented, 1);
    assert_eq!(only[&c.id].not_started, 0);
    // Filters by status in a unit.
    let (rows, n) = db
        .store
        .controls_page(
            &ControlFilter {
                unit: Some(unit.id),
                status: Some(ImplStatus::Implemented),
                ..ControlFilter::default()
            },
            50,
            0,
        )
        .await
        .expect("p");
    assert_eq!((n, rows[0].code.as_str()), (1, "M6-04"));
    let (_, not_started) = db
        .store
        .unit_control_statuses(unit.id, None, Some(ImplStatus::NotStarted), 10, 0)
        .await
        .expect("p");
    let (_, all) = db
        .store
        .unit_control_statuses(unit.id, None, None, 10, 0)
        .await
        .expect("p");
    assert_eq!(not_started, all - 1);
    let per_unit = db.store.control_statuses(c.id, None).await.expect("s");
    assert_eq!(per_unit.len(), 5);
});

store_test!(control_import_is_all_or_nothing, |db| {
    db.store.migrate().await.expect("migrate");
    let anchors = db.store.basic_policy_anchors().await.expect("a");
    let bad = "管理策コード,対策分野,名称,基本方針の条項,責任者の役割\n\
               KI-01,技術的セキュリティ,独自の管理策,6(6),情報システム管理者\n\
               KI-02,M10,分野なし,6(6),system_manager\n\
               KI-03,M6,役割なし,6(6),janitor\n\
               KI-04,M6,条項なし,6(10),system_manager\n";
    let records = read_file::<Controls>(bad.as_bytes()).expect("parse");
    let mut tx = db.store.begin(actor("cli")).await.expect("b");
    let problems = Store::import_controls(&mut tx, &records, |c| c.to_owned(), anchors.as_ref())
        .await
        .expect("run")
        .expect_err("refused");
    drop(tx);
    let got: Vec<(u64, &str, &str)> = problems
        .iter()
        .map(|p| (p.line, p.column.as_str(), p.message_id))
        .collect();
    assert_eq!(
        got,
        [
            (3, "area", "catalogue-error-area"),
            (4, "owner_role", "error-unknown-role"),
            (5, "clauses", "catalogue-error-unknown-clause"),
        ]
    );
    assert!(db
        .store
        .control_by_code("KI-01")
        .await
        .expect("q")
        .is_none());

    let good = "code,area,title,clauses,owner_role\n\
                KI-01,技術的セキュリティ,独自の管理策,6(6),情報システム管理者\n\
                M6-04,M6,パッチ適用（改）,6(6),system_manager\n";
    let records = read_file::<Controls>(good.as_bytes()).expect("parse");
    let mut tx = db.store.begin(actor("cli")).await.expect("b");
    let summary = Store::import_controls(&mut tx, &records, |c| c.to_owned(), anchors.as_ref())
        .await
        .expect("run")
        .expect("ok");
    tx.commit().await.expect("c");
    assert_eq!((summary.added, summary.updated), (1, 1));
    let k = db
        .store
        .control_by_code("KI-01")
        .await
        .expect("q")
        .expect("added");
    assert_eq!(
        (k.area.as_str(), k.owner_role.as_str()),
        ("M6", "system_manager")
    );
});
