//! Policy documents on both databases: the seeded basic policy, the version lifecycle as stored,
//! and who owes an acknowledgement on a given day.

#![allow(missing_docs)]

mod common;

use mamori_domain::policy::lifecycle::VersionState;
use mamori_domain::policy::markdown::outline;
use mamori_store::{
    AcknowledgementFilter, Actor, NewVersion, PersonInput, Store, StoreError, UnitInput,
};

fn actor() -> Actor {
    Actor {
        name: "tester".into(),
        source: "127.0.0.1".into(),
    }
}

async fn person(
    store: &Store,
    staff_id: &str,
    unit: mamori_domain::UnitId,
    category: &str,
    joined_on: Option<&str>,
    left_on: Option<&str>,
) -> i64 {
    let mut tx = store.begin(actor()).await.expect("begin");
    let p = Store::create_person(
        &mut tx,
        &PersonInput {
            staff_id: staff_id.into(),
            name: format!("職員 {staff_id}"),
            kana: String::new(),
            unit_id: unit,
            category: category.into(),
            email: String::new(),
            joined_on: joined_on.map(str::to_owned),
            left_on: left_on.map(str::to_owned),
        },
    )
    .await
    .expect("person");
    tx.commit().await.expect("commit");
    p.id.0
}

store_test!(the_seed_is_published_once_with_its_clause_tree, |db| {
    db.store.migrate().await.expect("migrate");
    db.store.migrate().await.expect("again");
    let docs = db.store.documents().await.expect("documents");
    assert_eq!(docs.len(), 1, "seeded once");
    let doc = &docs[0];
    assert_eq!(doc.code, "basic-policy");
    assert_eq!(doc.visibility, "public");
    let published = doc.published.as_ref().expect("in force");
    assert_eq!(published.edition, "初版");
    assert_eq!(published.published_on.as_deref(), Some("2026-03-25"));
    let version = db
        .store
        .version_by_id(published.id)
        .await
        .expect("q")
        .expect("v");
    assert_eq!(version.created_on, "2026-03-25");
    assert_eq!(version.author, "桑名・員弁広域連合");
    // The stored tree is the body's outline, clause for clause.
    let stored = db.store.clauses(version.id).await.expect("clauses");
    let parsed = outline(&version.body);
    assert_eq!(stored.len(), parsed.len());
    for (s, p) in stored.iter().zip(&parsed) {
        assert_eq!(
            (&s.anchor, &s.parent, &s.label, &s.title, &s.body),
            (&p.anchor, &p.parent, &p.label, &p.title, &p.text)
        );
    }
    let definitions: Vec<&str> = stored
        .iter()
        .filter(|c| c.parent.as_deref() == Some("2"))
        .filter_map(|c| c.title.as_deref())
        .collect();
    assert_eq!(definitions.len(), 8);
    assert_eq!(definitions[7], "インターネット接続系");
});

store_test!(a_version_moves_once_and_publishing_supersedes, |db| {
    db.store.migrate().await.expect("migrate");
    let doc = db
        .store
        .document_by_code("basic-policy")
        .await
        .expect("q")
        .expect("doc");
    let body = "## 1. 目的\n\n改定。\n";
    let clauses = outline(body);
    let mut tx = db.store.begin(actor()).await.expect("begin");
    let id = Store::add_version(
        &mut tx,
        doc.id,
        &NewVersion {
            body,
            clauses: &clauses,
            change_summary: "改定",
            created_on: "2026-11-26",
            author_user_id: None,
            historic: None,
        },
    )
    .await
    .expect("draft");
    tx.commit().await.expect("commit");
    let draft = db.store.version_by_id(id).await.expect("q").expect("v");
    assert_eq!((draft.number, draft.edition.as_str()), (2, "第2版"));

    let mut tx = db.store.begin(actor()).await.expect("begin");
    Store::move_version(
        &mut tx,
        &draft,
        VersionState::InReview,
        None,
        "2026-11-26",
        "",
    )
    .await
    .expect("submit");
    tx.commit().await.expect("commit");
    // A second move from the state read before is refused: the state changed meanwhile.
    let mut tx = db.store.begin(actor()).await.expect("begin");
    let stale = Store::move_version(
        &mut tx,
        &draft,
        VersionState::InReview,
        None,
        "2026-11-26",
        "",
    )
    .await
    .expect_err("stale");
    assert!(matches!(
        stale,
        StoreError::Rule("policy-refused-changed-meanwhile")
    ));
    drop(tx);

    for to in [VersionState::Approved, VersionState::Published] {
        let v = db.store.version_by_id(id).await.expect("q").expect("v");
        let mut tx = db.store.begin(actor()).await.expect("begin");
        Store::move_version(&mut tx, &v, to, None, "2026-11-27", "")
            .await
            .expect("move");
        tx.commit().await.expect("commit");
    }
    let versions = db.store.versions(doc.id).await.expect("versions");
    let states: Vec<(&str, &str)> = versions
        .iter()
        .map(|v| (v.edition.as_str(), v.state.as_str()))
        .collect();
    assert_eq!(states, [("第2版", "published"), ("初版", "superseded")]);
    assert_eq!(versions[0].published_on.as_deref(), Some("2026-11-27"));
    assert_eq!(db.store.clauses(id).await.expect("c").len(), 1);
});

store_test!(acknowledgement_is_owed_by_active_people_in_scope, |db| {
    db.store.migrate().await.expect("migrate");
    let secretariat = db
        .store
        .unit_by_code("secretariat")
        .await
        .expect("q")
        .expect("u")
        .id;
    let mut tx = db.store.begin(actor()).await.expect("begin");
    let outside = Store::create_unit(
        &mut tx,
        &UnitInput {
            code: "outside".into(),
            name: "対象外の組織".into(),
            parent_id: None,
            in_scope: false,
        },
    )
    .await
    .expect("unit")
    .id;
    tx.commit().await.expect("commit");
    let today = "2026-11-26";
    let staff = person(&db.store, "A1", secretariat, "regular", None, None).await;
    let dispatched = person(
        &db.store,
        "A2",
        secretariat,
        "dispatched",
        Some("2026-04-01"),
        None,
    )
    .await;
    let left = person(
        &db.store,
        "A3",
        secretariat,
        "regular",
        None,
        Some("2026-10-31"),
    )
    .await;
    let future = person(
        &db.store,
        "A4",
        secretariat,
        "fiscal_year",
        Some("2027-04-01"),
        None,
    )
    .await;
    let out = person(&db.store, "A5", outside, "regular", None, None).await;

    let doc = db
        .store
        .document_by_code("basic-policy")
        .await
        .expect("q")
        .expect("doc");
    let version = db
        .store
        .version_by_id(doc.published.expect("v").id)
        .await
        .expect("q")
        .expect("v");
    for (who, owes) in [
        (staff, true),
        (dispatched, true),
        (left, false),
        (future, false),
        (out, false),
    ] {
        let pending = db
            .store
            .pending_acknowledgements(who, today)
            .await
            .expect("pending");
        assert_eq!(!pending.is_empty(), owes, "person {who}");
    }
    // The person who joins later owes it once their day comes.
    assert_eq!(
        db.store
            .pending_acknowledgements(future, "2027-04-01")
            .await
            .expect("pending")
            .len(),
        1
    );

    let mut tx = db.store.begin(actor()).await.expect("begin");
    assert!(
        Store::acknowledge(&mut tx, &version, dispatched, None, "192.0.2.7")
            .await
            .expect("ack")
    );
    tx.commit().await.expect("commit");
    let mut tx = db.store.begin(actor()).await.expect("begin");
    assert!(
        !Store::acknowledge(&mut tx, &version, dispatched, None, "192.0.2.7")
            .await
            .expect("again"),
        "a second confirmation changes nothing"
    );
    drop(tx);

    let (by_unit, by_category) = db
        .store
        .acknowledgement_completion(version.id, today, None)
        .await
        .expect("completion");
    let secretariat_row = by_unit
        .iter()
        .find(|r| r.code == "secretariat")
        .expect("row");
    assert_eq!((secretariat_row.done, secretariat_row.total), (1, 2));
    assert!(by_unit.iter().all(|r| r.code != "outside"));
    let dispatched_row = by_category
        .iter()
        .find(|r| r.code == "dispatched")
        .expect("row");
    assert_eq!((dispatched_row.done, dispatched_row.total), (1, 1));

    let (pending, total) = db
        .store
        .acknowledgements_page(
            &AcknowledgementFilter {
                version_id: version.id,
                acknowledged: Some(false),
                ..Default::default()
            },
            today,
            50,
            0,
        )
        .await
        .expect("page");
    assert_eq!(total, 1);
    assert_eq!(pending[0].staff_id, "A1");
    let (done, _) = db
        .store
        .acknowledgements_page(
            &AcknowledgementFilter {
                version_id: version.id,
                acknowledged: Some(true),
                ..Default::default()
            },
            today,
            50,
            0,
        )
        .await
        .expect("page");
    assert_eq!(done[0].source.as_deref(), Some("192.0.2.7"));
    // Only the version in force can be acknowledged.
    let draft_body = "## 1. 目的\n\n案。\n";
    let mut tx = db.store.begin(actor()).await.expect("begin");
    let draft_id = Store::add_version(
        &mut tx,
        doc.id,
        &NewVersion {
            body: draft_body,
            clauses: &outline(draft_body),
            change_summary: "",
            created_on: today,
            author_user_id: None,
            historic: None,
        },
    )
    .await
    .expect("draft");
    tx.commit().await.expect("commit");
    let draft = db
        .store
        .version_by_id(draft_id)
        .await
        .expect("q")
        .expect("v");
    let mut tx = db.store.begin(actor()).await.expect("begin");
    let refused = Store::acknowledge(&mut tx, &draft, staff, None, "192.0.2.7")
        .await
        .expect_err("draft");
    assert!(matches!(
        refused,
        StoreError::Rule("ack-refused-not-in-force")
    ));
});
