//! The risk register on both databases: recording with the impact suggested from the linked
//! assets, refusals by field with nothing saved, acceptance requested and decided by someone
//! else, review due when a linked asset's class changes or a reason is linked, the heat map,
//! the scale lock, and the all-or-nothing import that round-trips an export.

#![allow(missing_docs)]

mod common;

use mamori_domain::assets::classification::Class;
use mamori_domain::assets::{AssetDraft, AssetStatus, AssetType, Segment};
use mamori_domain::interchange::kind::{read_file, write_csv};
use mamori_domain::interchange::risks::Risks;
use mamori_domain::risk::register::RiskDraft;
use mamori_domain::risk::{RiskLevel, RiskScale, Treatment};
use mamori_domain::UnitId;
use mamori_store::{Actor, RiskFilter, RiskRules, RiskSort, Store, StoreError};
use time::macros::date;

fn actor(name: &str) -> Actor {
    Actor {
        name: name.into(),
        source: "127.0.0.1".into(),
    }
}

fn asset(name: &str, unit: UnitId, c: &str, personal: bool) -> AssetDraft {
    AssetDraft {
        name: name.into(),
        asset_type: AssetType::System,
        owner_unit: unit,
        custodian: None,
        segment: Segment::Lgwan,
        class: Class {
            confidentiality: c.into(),
            integrity: "2".into(),
            availability: "2".into(),
        },
        location: String::new(),
        description: String::new(),
        personal_data: personal,
        rto_hours: None,
        review_on: None,
        status: AssetStatus::InUse,
        disposed_on: None,
        disposal_method: String::new(),
    }
}

fn rules() -> RiskRules {
    RiskRules {
        scale: RiskScale::ThreeByThree,
        threshold: RiskLevel::Medium,
        today: date!(2026 - 12 - 03),
    }
}

fn ransomware(asset: i64) -> RiskDraft {
    RiskDraft {
        title: "ランサムウェアで財務会計システムが止まる".into(),
        unit: "secretariat".into(),
        threat: "T1-01".into(),
        weakness: "バックアップが同じネットワーク上にある".into(),
        assets: vec![asset],
        controls: vec!["M6-01".into()],
        likelihood: 2,
        impact: 3,
        review_on: Some(date!(2027 - 03 - 31)),
        ..RiskDraft::default()
    }
}

store_test!(risks_are_recorded_accepted_and_called_for_review, |db| {
    db.store.migrate().await.expect("migrate");
    let unit = db
        .store
        .unit_by_code("secretariat")
        .await
        .expect("q")
        .expect("unit")
        .id;
    let mut tx = db.store.begin(actor("sato")).await.expect("b");
    let zaimu = Store::create_asset(&mut tx, &asset("財務会計システム", unit, "3B", false))
        .await
        .expect("asset");
    let old = Store::create_asset(&mut tx, &asset("旧サーバ", unit, "2", false))
        .await
        .expect("asset");
    Store::dispose_asset(&mut tx, old.id, date!(2026 - 11 - 01), "物理破壊")
        .await
        .expect("dispose");
    tx.commit().await.expect("c");

    // The impact suggested from 3B is 3.
    assert_eq!(
        db.store
            .suggested_impact(RiskScale::ThreeByThree, &[zaimu.id.0])
            .await
            .expect("s"),
        Some(3)
    );

    // Refusals name their fields, and nothing is written.
    let mut tx = db.store.begin(actor("sato")).await.expect("b");
    let bad = RiskDraft {
        threat: "T9-99".into(),
        assets: vec![zaimu.id.0, old.id.0, 999_999],
        controls: vec!["M0-00".into()],
        likelihood: 4,
        impact: 2,
        ..ransomware(zaimu.id.0)
    };
    let problems = Store::create_risk(&mut tx, &bad, &rules())
        .await
        .expect("db")
        .expect_err("refused");
    let got: Vec<(&str, &str)> = problems.iter().map(|p| (p.field, p.message_id)).collect();
    assert_eq!(
        got,
        [
            ("threat", "risk-error-unknown-threat"),
            ("controls", "risk-error-unknown-control"),
            ("assets", "risk-error-disposed-asset"),
            ("assets", "risk-error-unknown-asset"),
            ("likelihood", "risk-likelihood-out-of-scale"),
            ("impact_reason", "risk-error-impact-reason"),
        ]
    );
    drop(tx);
    let (_, total) = db
        .store
        .risks_page(&RiskFilter::default(), RiskSort::Code, 50, 0)
        .await
        .expect("list");
    assert_eq!(total, 0, "nothing half-saved");

    // Recorded: numbered, levelled, linked.
    let mut tx = db.store.begin(actor("sato")).await.expect("b");
    let risk = Store::create_risk(&mut tx, &ransomware(zaimu.id.0), &rules())
        .await
        .expect("db")
        .expect("recorded");
    tx.commit().await.expect("c");
    assert_eq!(risk.code, "R-0001");
    assert_eq!(
        (risk.level.as_str(), risk.residual_level.as_str()),
        ("high", "high")
    );
    assert_eq!(risk.assets, [zaimu.id.0]);
    assert_eq!(risk.controls, ["M6-01"]);

    // 受容 above the threshold by a plain edit is refused; it must be requested.
    let accept = RiskDraft {
        treatment: Some(Treatment::Accept),
        residual_likelihood: Some(1),
        residual_impact: Some(3),
        ..ransomware(zaimu.id.0)
    };
    let mut tx = db.store.begin(actor("sato")).await.expect("b");
    let refused = Store::update_risk(&mut tx, "R-0001", &accept, &rules())
        .await
        .expect("db")
        .expect_err("needs a request");
    assert_eq!(refused[0].message_id, "risk-error-accept-needs-request");
    drop(tx);
    let lowered = RiskDraft {
        residual_likelihood: Some(1),
        residual_impact: Some(3),
        ..ransomware(zaimu.id.0)
    };
    let mut tx = db.store.begin(actor("sato")).await.expect("b");
    Store::update_risk(&mut tx, "R-0001", &lowered, &rules())
        .await
        .expect("db")
        .expect("lowered residual");
    let pending = Store::request_risk_acceptance(&mut tx, "R-0001", "保険で補う", &rules())
        .await
        .expect("db")
        .expect("requested");
    tx.commit().await.expect("c");
    assert_eq!(pending.treatment, "accept");
    assert_eq!(pending.acceptance.as_deref(), Some("pending"));
    assert_eq!(pending.acceptance_requested_by.as_deref(), Some("sato"));

    // The requester cannot approve; the CISO can. An unchanged edit keeps the approval.
    let mut tx = db.store.begin(actor("sato")).await.expect("b");
    assert_eq!(
        Store::decide_risk_acceptance(&mut tx, "R-0001", true, "")
            .await
            .expect("db"),
        Err("risk-refused-approver-is-requester")
    );
    drop(tx);
    let mut tx = db.store.begin(actor("ciso")).await.expect("b");
    let approved = Store::decide_risk_acceptance(&mut tx, "R-0001", true, "承認する")
        .await
        .expect("db")
        .expect("approved");
    tx.commit().await.expect("c");
    assert_eq!(approved.acceptance.as_deref(), Some("approved"));
    assert_eq!(approved.acceptance_decided_by.as_deref(), Some("ciso"));
    let mut tx = db.store.begin(actor("sato")).await.expect("b");
    let kept = Store::update_risk(
        &mut tx,
        "R-0001",
        &RiskDraft {
            treatment_note: "サイバー保険".into(),
            ..approved.draft()
        },
        &rules(),
    )
    .await
    .expect("db")
    .expect("kept");
    tx.commit().await.expect("c");
    assert_eq!(kept.acceptance.as_deref(), Some("approved"));

    // The heat map counts the risk in its inherent and residual cells.
    let map = db
        .store
        .risk_heat_map(&RiskFilter::default(), RiskScale::ThreeByThree)
        .await
        .expect("map");
    assert_eq!(map.inherent[1][2], 1, "L2 × I3");
    assert_eq!(map.residual[0][2], 1, "L1 × I3");
    assert_eq!(map.inherent.iter().flatten().sum::<i64>(), 1);

    // Changing the system's classification calls the risk into question, with the reason.
    let due = RiskFilter {
        due_on: Some(date!(2026 - 12 - 03)),
        ..RiskFilter::default()
    };
    assert_eq!(
        db.store
            .risks_page(&due, RiskSort::Code, 50, 0)
            .await
            .expect("due")
            .1,
        0
    );
    let mut tx = db.store.begin(actor("sato")).await.expect("b");
    Store::update_asset(
        &mut tx,
        zaimu.id,
        &asset("財務会計システム", unit, "3A", true),
    )
    .await
    .expect("reclassified");
    tx.commit().await.expect("c");
    let (rows, n) = db
        .store
        .risks_page(&due, RiskSort::Code, 50, 0)
        .await
        .expect("due");
    assert_eq!(n, 1);
    assert!(rows[0].due_for_review(date!(2026 - 12 - 03)));
    let reasons = db
        .store
        .risk_review_reasons(rows[0].id, true)
        .await
        .expect("reasons");
    assert_eq!(reasons.len(), 1);
    assert_eq!(reasons[0].kind, "asset");
    assert_eq!(reasons[0].reference, zaimu.id.0.to_string());
    assert_eq!(reasons[0].reason, "3B/2/2 → 3A/2/2/PD");

    // The same mechanism for anything else that is linked as a reason.
    let mut tx = db.store.begin(actor("csirt")).await.expect("b");
    Store::raise_risk_review(&mut tx, "R-0001", "incident", "INC-2026-004", "感染が発生")
        .await
        .expect("raised");
    tx.commit().await.expect("c");
    assert_eq!(
        db.store
            .risk_review_reasons(rows[0].id, true)
            .await
            .expect("r")
            .len(),
        2
    );

    // Reviewing clears the reasons and sets the next date (after today).
    let mut tx = db.store.begin(actor("sato")).await.expect("b");
    assert_eq!(
        Store::review_risk(
            &mut tx,
            "R-0001",
            date!(2026 - 12 - 01),
            date!(2026 - 12 - 03)
        )
        .await
        .expect("db")
        .map(|_| ()),
        Err("risk-error-next-review")
    );
    let reviewed = Store::review_risk(
        &mut tx,
        "R-0001",
        date!(2027 - 06 - 30),
        date!(2026 - 12 - 03),
    )
    .await
    .expect("db")
    .expect("reviewed");
    tx.commit().await.expect("c");
    assert_eq!(reviewed.open_review_reasons, 0);
    assert_eq!(reviewed.reviewed_on.as_deref(), Some("2026-12-03"));
    assert_eq!(
        db.store
            .risks_page(&due, RiskSort::Code, 50, 0)
            .await
            .expect("due")
            .1,
        0
    );

    // The scale cannot change under recorded risks.
    let before = db.store.settings().await.expect("settings");
    let after = mamori_domain::settings::OrgSettings {
        risk_scale: RiskScale::FiveByFive,
        ..before.clone()
    };
    let mut tx = db.store.begin(actor("admin")).await.expect("b");
    assert!(matches!(
        Store::save_settings(&mut tx, &before, &after).await,
        Err(StoreError::Rule("risk-error-scale-locked"))
    ));
    drop(tx);

    // Every change is in the audit trail.
    let actions: Vec<String> = db
        .store
        .audit_page(&Default::default(), 200, 0)
        .await
        .expect("audit")
        .0
        .into_iter()
        .map(|e| e.record.action)
        .filter(|a| a.starts_with("risk."))
        .collect();
    for expected in [
        "risk.create",
        "risk.update",
        "risk.acceptance_request",
        "risk.acceptance_approve",
        "risk.review_required",
        "risk.review",
    ] {
        assert!(
            actions.iter().any(|a| a == expected),
            "{expected}: {actions:?}"
        );
    }
});

store_test!(risk_files_are_all_or_nothing_and_round_trip, |db| {
    db.store.migrate().await.expect("migrate");
    let unit = db
        .store
        .unit_by_code("secretariat")
        .await
        .expect("q")
        .expect("unit")
        .id;
    let mut tx = db.store.begin(actor("sato")).await.expect("b");
    let zaimu = Store::create_asset(&mut tx, &asset("財務会計システム", unit, "3B", false))
        .await
        .expect("asset");
    tx.commit().await.expect("c");
    let id = zaimu.id.0;
    let csv = format!(
        "リスクコード,名称,所管組織,脅威コード,対象資産,管理策,発生可能性,影響度,対応\n\
         ,停止,secretariat,T1-01,{id},M6-01,2,3,低減\n\
         R-0100,漏えい,事務局,T2-01,{id},,1,3,\n\
         R-0101,不明な脅威,secretariat,T9-01,{id},,1,3,\n\
         R-0102,受容,secretariat,T1-01,{id},,3,3,受容\n\
         R-0103,不明な資産,secretariat,T1-01,424242,,1,3,\n"
    );
    let records = read_file::<Risks>(csv.as_bytes()).expect("parsed");
    let mut tx = db.store.begin(actor("sato")).await.expect("b");
    let outcome = Store::import_risks(&mut tx, &records, |c| c.to_owned(), &rules(), None)
        .await
        .expect("db");
    let problems = outcome.expect_err("refused");
    let got: Vec<(u64, &str, &str)> = problems
        .iter()
        .map(|p| (p.line, p.column.as_str(), p.message_id))
        .collect();
    assert_eq!(
        got,
        [
            (4, "threat", "risk-error-unknown-threat"),
            (5, "treatment", "risk-error-accept-needs-request"),
            (6, "assets", "risk-error-unknown-asset"),
        ]
    );
    drop(tx);
    assert_eq!(
        db.store
            .risks_page(&RiskFilter::default(), RiskSort::Code, 50, 0)
            .await
            .expect("l")
            .1,
        0,
        "nothing written"
    );

    // The good rows go in; an export of them imports back without a change.
    let good: Vec<_> = records.into_iter().take(2).collect();
    let mut tx = db.store.begin(actor("sato")).await.expect("b");
    let summary = Store::import_risks(&mut tx, &good, |c| c.to_owned(), &rules(), None)
        .await
        .expect("db")
        .expect("imported");
    tx.commit().await.expect("c");
    assert_eq!(summary.added, 2);
    let mut exported = Vec::new();
    db.store
        .risks_for_each(&RiskFilter::default(), |r| {
            exported.push(r.to_record());
            Ok(())
        })
        .await
        .expect("export");
    let codes: Vec<&str> = exported.iter().map(|r| r.draft.code.as_str()).collect();
    assert_eq!(
        codes,
        ["R-0100", "R-0101"],
        "the empty code was numbered after R-0100"
    );
    for labels in [true, false] {
        let file = write_csv::<Risks>(&exported, labels).expect("csv");
        let back = read_file::<Risks>(file.as_bytes()).expect("read back");
        let mut tx = db.store.begin(actor("sato")).await.expect("b");
        let again = Store::import_risks(&mut tx, &back, |c| c.to_owned(), &rules(), None)
            .await
            .expect("db")
            .expect("ok");
        assert_eq!((again.added, again.updated, again.unchanged), (0, 0, 2));
        assert!(
            matches!(tx.commit().await, Err(StoreError::Unaudited)),
            "nothing changed, nothing to commit"
        );
    }
});
