//! The store's conformance suite: every test runs on SQLite and on PostgreSQL.

#![allow(missing_docs)]

mod common;

use mamori_domain::audit::{ChainBreak, Checkpoint};
use mamori_domain::authz::Target;
use mamori_domain::permission::Permission;
use mamori_store::{
    Actor, NewUser, PeopleFilter, PersonInput, RoleHolder, Store, StoreError, UnitInput,
};

fn actor() -> Actor {
    Actor {
        name: "tester".into(),
        source: "127.0.0.1".into(),
    }
}

store_test!(migrate_seeds_once, |db| {
    db.store.migrate().await.expect("migrate");
    db.store.migrate().await.expect("migrate again is harmless");
    let units = db.store.units().await.expect("units");
    let codes: Vec<_> = units.iter().map(|u| u.code.as_str()).collect();
    assert_eq!(
        codes,
        [
            "secretariat",
            "audit_office",
            "election_board",
            "assembly",
            "assembly_office"
        ]
    );
    assert_eq!(db.store.categories().await.expect("categories").len(), 8);
    assert!(db
        .store
        .roles()
        .await
        .expect("roles")
        .iter()
        .any(|r| r.code == "ciso"));
    // Seeding is audited, and seeding twice adds nothing.
    let (count, _) = db.store.audit_head().await.expect("head");
    // 8 categories, 12 roles, 5 units, the classification scheme, 11 handling rules, the basic
    // policy (its document and its 初版) and the 6 starting training courses.
    // Catalogue: 5 threat categories, 9 measure areas, 29 threats and 60 controls.
    assert_eq!(count, 8 + 12 + 5 + 1 + 11 + 2 + 6 + 5 + 9 + 29 + 60);
});

store_test!(backup_table_list_matches_schema, |db| {
    db.store.migrate().await.expect("migrate");
    let mut expected: Vec<String> = mamori_store::backup::TABLES
        .iter()
        .map(|s| s.to_string())
        .collect();
    expected.sort();
    assert_eq!(db.store.table_names().await.expect("tables"), expected);
});

store_test!(unit_changes_are_audited_and_cycles_refused, |db| {
    db.store.migrate().await.expect("migrate");
    let root = db
        .store
        .unit_by_code("secretariat")
        .await
        .expect("q")
        .expect("seeded");
    let mut tx = db.store.begin(actor()).await.expect("begin");
    let section = Store::create_unit(
        &mut tx,
        &UnitInput {
            code: "general-affairs".into(),
            name: "総務課".into(),
            parent_id: Some(root.id),
            in_scope: true,
        },
    )
    .await
    .expect("create");
    tx.commit().await.expect("commit");
    assert_eq!(section.parent.as_deref(), Some("secretariat"));
    assert_eq!(
        db.store.unit_lineage(section.id).await.expect("lineage"),
        vec![section.id, root.id]
    );

    // Making the root a child of its own child is refused, and nothing is saved.
    let mut tx = db.store.begin(actor()).await.expect("begin");
    let err = Store::update_unit(
        &mut tx,
        root.id,
        &UnitInput {
            code: root.code.clone(),
            name: root.name.clone(),
            parent_id: Some(section.id),
            in_scope: true,
        },
    )
    .await
    .expect_err("cycle");
    assert!(matches!(err, StoreError::Rule("error-unit-cycle")));
    drop(tx);

    // A duplicate code names the field.
    let mut tx = db.store.begin(actor()).await.expect("begin");
    let err = Store::create_unit(
        &mut tx,
        &UnitInput {
            code: "general-affairs".into(),
            name: "x".into(),
            parent_id: None,
            in_scope: true,
        },
    )
    .await
    .expect_err("duplicate");
    assert!(matches!(err, StoreError::Duplicate("code")), "{err:?}");
    drop(tx);

    let (page, total) = db
        .store
        .audit_page(
            &mamori_store::AuditFilter {
                actor: Some("tester".into()),
                ..Default::default()
            },
            10,
            0,
        )
        .await
        .expect("audit");
    assert_eq!(total, 1);
    assert_eq!(page[0].record.action, "unit.create");
    assert_eq!(page[0].record.entity_id, "general-affairs");
    assert_eq!(page[0].record.source, "127.0.0.1");
});

store_test!(commit_without_audit_is_refused, |db| {
    db.store.migrate().await.expect("migrate");
    let tx = db.store.begin(actor()).await.expect("begin");
    assert!(matches!(tx.commit().await, Err(StoreError::Unaudited)));
});

store_test!(people_roles_and_grants, |db| {
    db.store.migrate().await.expect("migrate");
    let sec = db
        .store
        .unit_by_code("secretariat")
        .await
        .expect("q")
        .expect("unit");
    let audit = db
        .store
        .unit_by_code("audit_office")
        .await
        .expect("q")
        .expect("unit");
    let mut tx = db.store.begin(actor()).await.expect("begin");
    let person = Store::create_person(
        &mut tx,
        &PersonInput {
            staff_id: "000123".into(),
            name: "長﨑 悠".into(),
            kana: "ながさき ゆう".into(),
            unit_id: sec.id,
            category: "fiscal_year".into(),
            email: String::new(),
            joined_on: Some("2025-04-01".into()),
            left_on: None,
        },
    )
    .await
    .expect("person");
    Store::assign_role(
        &mut tx,
        RoleHolder::Person(person.id),
        "unit_manager",
        Some(sec.id),
    )
    .await
    .expect("role");
    let user = Store::create_user(
        &mut tx,
        &NewUser {
            username: "nagasaki".into(),
            display_name: person.name.clone(),
            person_id: Some(person.id),
            password_hash: "$argon2id$secret".into(),
            must_change_password: true,
        },
    )
    .await
    .expect("user");
    tx.commit().await.expect("commit");

    let (people, total) = db
        .store
        .people_page(
            &PeopleFilter {
                query: Some("ながさき".into()),
                ..Default::default()
            },
            50,
            0,
        )
        .await
        .expect("page");
    assert_eq!(total, 1);
    assert_eq!(people[0].staff_id, "000123", "leading zeros kept");
    assert_eq!(people[0].roles, ["unit_manager@secretariat"]);

    let (grants, roles) = db.store.grants_for_user(user.id).await.expect("grants");
    assert!(roles.contains(&"unit_manager".to_string()) && roles.contains(&"staff".to_string()));
    let lineage = db.store.unit_lineage(sec.id).await.expect("lineage");
    assert!(grants.allows(
        Permission::PeopleManage,
        &Target::Unit { lineage: &lineage }
    ));
    let other = db.store.unit_lineage(audit.id).await.expect("lineage");
    assert!(!grants.allows(Permission::PeopleManage, &Target::Unit { lineage: &other }));
    assert!(!grants.allows(Permission::SettingsManage, &Target::Organisation));

    // The password hash never reaches the trail.
    let (entries, _) = db
        .store
        .audit_page(
            &mamori_store::AuditFilter {
                entity_type: Some("user".into()),
                ..Default::default()
            },
            10,
            0,
        )
        .await
        .expect("audit");
    assert!(entries.iter().all(|e| !e
        .record
        .after
        .clone()
        .unwrap_or_default()
        .contains("argon2")));
});

store_test!(chain_verifies_and_checkpoints_hold, |db| {
    db.store.migrate().await.expect("migrate");
    let report = db.store.audit_verify(&[], |_| {}).await.expect("verify");
    assert!(report.ok());
    let (count, head) = db.store.audit_head().await.expect("head");
    assert_eq!(report.count, count);
    let key = ed25519_dalek::SigningKey::from_bytes(&[9u8; 32]);
    let cp = Checkpoint::sign(&key, count, &head, "2026-11-26T00:00:00Z");
    let mut tx = db.store.begin(actor()).await.expect("begin");
    tx.audit("test.event", "test", "1", None, None)
        .await
        .expect("audit");
    tx.commit().await.expect("commit");
    let report = db
        .store
        .audit_verify(std::slice::from_ref(&cp), |_| {})
        .await
        .expect("verify");
    assert!(report.ok(), "{report:?}");
    // A checkpoint naming more entries than exist detects truncation.
    let ahead = Checkpoint::sign(&key, count + 5, &head, "2026-11-26T00:00:00Z");
    let report = db
        .store
        .audit_verify(&[ahead], |_| {})
        .await
        .expect("verify");
    assert!(!report.ok());
});

store_test!(
    a_long_transaction_appends_every_entry_in_order_and_only_on_commit,
    |db| {
        db.store.migrate().await.expect("migrate");
        let (count, _) = db.store.audit_head().await.expect("head");
        // More entries than one multi-row statement holds, and not a multiple of it.
        const N: i64 = 613;
        let mut tx = db.store.begin(actor()).await.expect("begin");
        let mut seqs = Vec::new();
        for i in 0..N {
            let e = tx
                .audit("test.bulk", "test", &i.to_string(), None, None)
                .await
                .expect("audit");
            seqs.push(e.seq);
        }
        assert_eq!(seqs.first(), Some(&(count + 1)));
        assert_eq!(tx.commit().await.expect("commit"), (count + 1, count + N));
        let report = db.store.audit_verify(&[], |_| {}).await.expect("verify");
        assert!(report.ok(), "{report:?}");
        assert_eq!(report.count, count + N);
        let filter = mamori_store::AuditFilter {
            action_prefix: Some("test.bulk".into()),
            ..Default::default()
        };
        let (entries, total) = db.store.audit_page(&filter, 1000, 0).await.expect("page");
        assert_eq!(total, N);
        let mut ids: Vec<i64> = entries
            .iter()
            .map(|e| e.record.entity_id.parse().expect("id"))
            .collect();
        ids.sort_unstable();
        assert_eq!(ids, (0..N).collect::<Vec<_>>());

        // A transaction dropped before commit leaves nothing, buffered or written.
        let mut tx = db.store.begin(actor()).await.expect("begin");
        for i in 0..300 {
            tx.audit("test.dropped", "test", &i.to_string(), None, None)
                .await
                .expect("audit");
        }
        drop(tx);
        let (after, _) = db.store.audit_head().await.expect("head");
        assert_eq!(after, count + N);
        let report = db.store.audit_verify(&[], |_| {}).await.expect("verify");
        assert!(report.ok(), "{report:?}");
    }
);

store_test!(sessions_tokens_and_throttle_rows, |db| {
    db.store.migrate().await.expect("migrate");
    let now = time::OffsetDateTime::now_utc();
    let mut tx = db.store.begin(actor()).await.expect("begin");
    let user = Store::create_user(
        &mut tx,
        &NewUser {
            username: "svc".into(),
            display_name: "Service".into(),
            person_id: None,
            password_hash: "h".into(),
            must_change_password: false,
        },
    )
    .await
    .expect("user");
    Store::create_session(
        &mut tx,
        &mamori_store::NewSession {
            id_hash: "a".repeat(64),
            user_id: user.id,
            stage: "full".into(),
            csrf_token: "c".into(),
            expires_at: now + time::Duration::hours(12),
            source: "127.0.0.1".into(),
            user_agent: "test".into(),
        },
    )
    .await
    .expect("session");
    let token = Store::create_token(&mut tx, &user, "ci", &"b".repeat(64), "mmr_abc", true, None)
        .await
        .expect("token");
    Store::record_login_failure(&mut tx, "user:svc", now)
        .await
        .expect("failure");
    assert!(Store::consume_totp_step(&mut tx, user.id, 100)
        .await
        .expect("step"));
    assert!(!Store::consume_totp_step(&mut tx, user.id, 100)
        .await
        .expect("same step again"));
    assert!(!Store::consume_totp_step(&mut tx, user.id, 99)
        .await
        .expect("older step"));
    tx.commit().await.expect("commit");

    let s = db
        .store
        .session(&"a".repeat(64))
        .await
        .expect("q")
        .expect("session");
    assert_eq!(s.user_id, user.id);
    assert!(db
        .store
        .token_by_hash(&"b".repeat(64), now)
        .await
        .expect("q")
        .is_some());
    assert!(db
        .store
        .token_by_hash(&"b".repeat(64), now)
        .await
        .expect("q")
        .is_some_and(|t| t.read_only));
    assert_eq!(
        db.store
            .login_failures("user:svc", now - time::Duration::minutes(1))
            .await
            .expect("q")
            .len(),
        1
    );

    let mut tx = db.store.begin(actor()).await.expect("begin");
    assert!(Store::revoke_token(&mut tx, &user, token.id)
        .await
        .expect("revoke"));
    tx.commit().await.expect("commit");
    assert!(db
        .store
        .token_by_hash(&"b".repeat(64), now)
        .await
        .expect("q")
        .is_none());
});

store_test!(backup_restores_into_both_backends, |db| {
    db.store.migrate().await.expect("migrate");
    let mut tx = db.store.begin(actor()).await.expect("begin");
    let sec = db
        .store
        .unit_by_code("secretariat")
        .await
        .expect("q")
        .expect("unit");
    Store::create_unit(
        &mut tx,
        &UnitInput {
            code: "kaigo".into(),
            name: "介護保険課\n①".into(),
            parent_id: Some(sec.id),
            in_scope: false,
        },
    )
    .await
    .expect("unit");
    tx.commit().await.expect("commit");
    let file = db.dir().join("backup.tar");
    let manifest = db.store.backup(&file, |_, _| {}).await.expect("backup");
    assert!(manifest
        .tables
        .iter()
        .any(|t| t.name == "audit_log" && t.rows > 0));

    // Into SQLite, and (when available) into PostgreSQL: the same rows, the chain verifies.
    let mut targets = vec![common::TestDb::new(false).await.expect("sqlite")];
    if let Some(pg) = common::TestDb::new(true).await {
        targets.push(pg);
    }
    for target in targets {
        target
            .store
            .restore(&file, |_, _| {})
            .await
            .expect("restore");
        let unit = target
            .store
            .unit_by_code("kaigo")
            .await
            .expect("q")
            .expect("restored");
        assert_eq!(unit.name, "介護保険課\n①");
        assert!(!unit.in_scope);
        assert_eq!(unit.parent.as_deref(), Some("secretariat"));
        assert!(target
            .store
            .audit_verify(&[], |_| {})
            .await
            .expect("verify")
            .ok());
        assert_eq!(
            target.store.audit_head().await.expect("h"),
            db.store.audit_head().await.expect("h")
        );
        // New rows after a restore get fresh ids (sequences were reset).
        let mut tx = target.store.begin(actor()).await.expect("begin");
        Store::create_unit(
            &mut tx,
            &UnitInput {
                code: "new".into(),
                name: "新".into(),
                parent_id: None,
                in_scope: true,
            },
        )
        .await
        .expect("insert after restore");
        tx.commit().await.expect("commit");
        // Restoring again over data is refused.
        assert!(matches!(
            target.store.restore(&file, |_, _| {}).await,
            Err(mamori_store::backup::RestoreError::NotEmpty)
        ));
        target.drop_db().await;
    }
});

store_test!(restore_refuses_tampered_archives, |db| {
    db.store.migrate().await.expect("migrate");
    let file = db.dir().join("backup.tar");
    db.store.backup(&file, |_, _| {}).await.expect("backup");
    // Flip one byte inside a table file: the checksum catches it and nothing is kept.
    let mut bytes = std::fs::read(&file).expect("read");
    let pos = bytes
        .windows(9)
        .position(|w| w == "事務局".as_bytes())
        .expect("unit name in archive");
    bytes[pos + 8] ^= 0x01;
    let bad = db.dir().join("bad.tar");
    std::fs::write(&bad, &bytes).expect("write");
    let target = common::TestDb::new(false).await.expect("sqlite");
    let err = target
        .store
        .restore(&bad, |_, _| {})
        .await
        .expect_err("tampered");
    assert!(
        err.to_string().contains("checksum") || err.to_string().contains("tables/"),
        "{err}"
    );
    assert!(
        target.store.is_empty().await.expect("empty"),
        "nothing half saved"
    );

    // An archive with a path escaping the target is refused.
    let evil = db.dir().join("evil.tar");
    {
        let f = std::fs::File::create(&evil).expect("create");
        let mut b = tar::Builder::new(f);
        let mut h = tar::Header::new_gnu();
        let data = b"{}";
        h.set_size(data.len() as u64);
        h.set_entry_type(tar::EntryType::Regular);
        // Header::set_path refuses "..", so write the name bytes directly.
        h.as_old_mut().name[..16].copy_from_slice(b"../manifest.json");
        h.set_cksum();
        b.append(&h, &data[..]).expect("append");
        b.finish().expect("finish");
    }
    let err = target
        .store
        .restore(&evil, |_, _| {})
        .await
        .expect_err("evil");
    assert!(err.to_string().contains("unsafe path"), "{err}");

    // A link entry is refused.
    let link = db.dir().join("link.tar");
    {
        let f = std::fs::File::create(&link).expect("create");
        let mut b = tar::Builder::new(f);
        let mut h = tar::Header::new_gnu();
        h.set_size(0);
        h.set_entry_type(tar::EntryType::Symlink);
        b.append_link(&mut h, "manifest.json", "/etc/passwd")
            .expect("append");
        b.finish().expect("finish");
    }
    let err = target
        .store
        .restore(&link, |_, _| {})
        .await
        .expect_err("link");
    assert!(err.to_string().contains("only plain files"), "{err}");

    // A backup from a newer schema is refused; the archive is rebuilt with an edited manifest.
    let marker = format!("\"schema_version\": {}", db.store.schema_version());
    let newer = db.dir().join("newer.tar");
    {
        let mut src = tar::Archive::new(std::fs::File::open(&file).expect("open"));
        let f = std::fs::File::create(&newer).expect("create");
        let mut b = tar::Builder::new(f);
        for entry in src.entries().expect("entries") {
            let mut entry = entry.expect("entry");
            let path = entry.path().expect("path").into_owned();
            let mut data = Vec::new();
            std::io::Read::read_to_end(&mut entry, &mut data).expect("read");
            if path.to_str() == Some("manifest.json") {
                let text = String::from_utf8_lossy(&data).into_owned();
                assert!(text.contains(&marker), "manifest names the schema version");
                data = text
                    .replacen(&marker, "\"schema_version\": 99999999999999", 1)
                    .into_bytes();
            }
            let mut h = tar::Header::new_gnu();
            h.set_size(data.len() as u64);
            h.set_entry_type(tar::EntryType::Regular);
            b.append_data(&mut h, &path, data.as_slice())
                .expect("append");
        }
        b.finish().expect("finish");
    }
    let err = target
        .store
        .restore(&newer, |_, _| {})
        .await
        .expect_err("newer");
    assert!(
        matches!(err, mamori_store::backup::RestoreError::NewerSchema { .. }),
        "{err}"
    );
    assert!(target.store.is_empty().await.expect("empty"));
    target.drop_db().await;
});

#[test]
fn chain_break_type_is_reexported_for_callers() {
    // Callers match on the domain's ChainBreak; make sure it stays the same type.
    let b = ChainBreak::Content { seq: 1 };
    assert_eq!(
        b.to_string(),
        "entry 1: content does not match its hash (edited)"
    );
}
