//! The asset register on both databases: writes, search, visibility, relations, files,
//! imports and scheme switches.

#![allow(missing_docs)]

mod common;

use mamori_domain::assets::classification::{suggest_mapping, Axis, Class, Scheme, CLASSIC};
use mamori_domain::assets::{AssetDraft, AssetStatus, AssetType, RelationKind, Segment};
use mamori_domain::interchange::asset_relations::AssetRelations;
use mamori_domain::interchange::assets::Assets;
use mamori_domain::interchange::kind::{read_file, write_csv};
use mamori_domain::interchange::table::Problem;
use mamori_domain::{AssetId, UnitId};
use mamori_store::{
    Actor, AssetFilter, AssetScope, AssetSort, FileWriter, ImportSummary, StatusFilter, Store,
    StoreError, UnitInput,
};

fn actor() -> Actor {
    Actor {
        name: "tester".into(),
        source: "127.0.0.1".into(),
    }
}

fn draft(name: &str, unit: UnitId, c: &str) -> AssetDraft {
    AssetDraft {
        name: name.into(),
        asset_type: AssetType::System,
        owner_unit: unit,
        custodian: None,
        segment: Segment::Lgwan,
        class: Class {
            confidentiality: c.into(),
            integrity: "2".into(),
            availability: "1".into(),
        },
        location: "本庁舎 3F".into(),
        description: String::new(),
        personal_data: false,
        rto_hours: None,
        review_on: None,
        status: AssetStatus::InUse,
        disposed_on: None,
        disposal_method: String::new(),
    }
}

async fn unit(store: &Store, code: &str) -> UnitId {
    store.unit_by_code(code).await.expect("q").expect("unit").id
}

async fn names(store: &Store, filter: &AssetFilter) -> Vec<String> {
    let (rows, total) = store.assets_page(filter, 100, 0).await.expect("page");
    assert_eq!(rows.len() as i64, total, "total counts the same rows");
    rows.into_iter().map(|r| r.name).collect()
}

/// Every asset, by id.
async fn every_asset(store: &Store) -> Vec<mamori_store::AssetRow> {
    let mut rows = Vec::new();
    store
        .assets_for_each(
            &AssetFilter {
                sort: AssetSort::Id,
                ..AssetFilter::default()
            },
            |a| {
                rows.push(a);
                Ok(())
            },
        )
        .await
        .expect("rows");
    rows
}

/// Imports an asset file as the command line does (every unit allowed): committed when every
/// row is right and something changed (a transaction without an audited change may not
/// commit), else nothing is written and every problem comes back.
async fn import_csv(store: &Store, csv: &str) -> Result<ImportSummary, Vec<Problem>> {
    let records = read_file::<Assets>(csv.as_bytes())?;
    let mut tx = store.begin(actor()).await.expect("begin");
    let outcome = Store::import_assets(&mut tx, &records, |c| c.to_owned(), None)
        .await
        .expect("import");
    if outcome.as_ref().is_ok_and(|s| s.added + s.updated > 0) {
        tx.commit().await.expect("commit");
    }
    outcome
}

/// Adds a regular employee of `unit`.
async fn add_person(store: &Store, unit: UnitId, staff_id: &str, name: &str) {
    let mut tx = store.begin(actor()).await.expect("begin");
    Store::create_person(
        &mut tx,
        &mamori_store::PersonInput {
            staff_id: staff_id.into(),
            name: name.into(),
            kana: String::new(),
            unit_id: unit,
            category: "regular".into(),
            email: String::new(),
            joined_on: None,
            left_on: None,
        },
    )
    .await
    .expect("person");
    tx.commit().await.expect("commit");
}

fn query(q: &str) -> AssetFilter {
    AssetFilter {
        query: Some(q.into()),
        ..AssetFilter::default()
    }
}

store_test!(search_finds_japanese_fragments_and_folded_forms, |db| {
    db.store.migrate().await.expect("migrate");
    let u = unit(&db.store, "secretariat").await;
    let mut tx = db.store.begin(actor()).await.expect("begin");
    for name in [
        "介護保険システム",
        "監査資料",
        "ファイルサーバ",
        "Web SERVER 01",
        "財務会計システム",
    ] {
        Store::create_asset(&mut tx, &draft(name, u, "2"))
            .await
            .expect("create");
    }
    tx.commit().await.expect("commit");
    let s = &db.store;
    assert_eq!(names(s, &query("介護")).await, ["介護保険システム"]);
    assert_eq!(
        names(s, &query("監査")).await,
        ["監査資料"],
        "two characters"
    );
    assert_eq!(
        names(s, &query("ｻｰﾊﾞ")).await,
        ["ファイルサーバ"],
        "half-width kana"
    );
    assert_eq!(
        names(s, &query("ＳＥＲＶＥＲ")).await,
        ["Web SERVER 01"],
        "full-width latin"
    );
    assert_eq!(
        names(s, &query("server")).await,
        ["Web SERVER 01"],
        "case-folded"
    );
    assert_eq!(
        names(s, &query("システム")).await,
        ["介護保険システム", "財務会計システム"]
    );
    assert_eq!(
        names(s, &query("ム保")).await,
        Vec::<String>::new(),
        "grams must be adjacent"
    );
    assert_eq!(
        names(s, &query("険")).await,
        ["介護保険システム"],
        "one character"
    );
    assert_eq!(
        names(s, &query("3ｆ 会計")).await,
        ["財務会計システム"],
        "every word, across fields"
    );
    assert_eq!(
        names(s, &query("100%")).await,
        Vec::<String>::new(),
        "wildcards are literal"
    );
    // Renaming refreshes the index.
    let (rows, _) = s.assets_page(&query("監査"), 10, 0).await.expect("q");
    let mut tx = db.store.begin(actor()).await.expect("begin");
    Store::update_asset(&mut tx, rows[0].id, &draft("選挙人名簿", u, "2"))
        .await
        .expect("update");
    tx.commit().await.expect("commit");
    assert!(names(s, &query("監査")).await.is_empty());
    assert_eq!(names(s, &query("名簿")).await, ["選挙人名簿"]);
});

store_test!(
    a_search_pages_and_counts_like_the_list_in_every_order,
    |db| {
        db.store.migrate().await.expect("migrate");
        let a = unit(&db.store, "secretariat").await;
        let b = unit(&db.store, "audit_office").await;
        let mut tx = db.store.begin(actor()).await.expect("begin");
        // Eleven matches with repeated names (the id breaks ties), review dates with gaps, two
        // units, one disposed; and assets that do not match.
        for i in 0..11 {
            let mut d = draft(
                &format!("ファイルサーバ {}", i % 4),
                if i % 3 == 0 { b } else { a },
                "2",
            );
            d.review_on = (i % 2 == 0).then(|| {
                time::Date::from_calendar_date(2027, time::Month::January, 1 + i as u8)
                    .expect("date")
            });
            if i == 7 {
                d.status = AssetStatus::Disposed;
                d.disposed_on = Some(time::macros::date!(2026 - 04 - 01));
                d.disposal_method = "溶解".into();
            }
            Store::create_asset(&mut tx, &d).await.expect("create");
        }
        for name in ["会計システム", "サーバ室の鍵"] {
            Store::create_asset(&mut tx, &draft(name, a, "2"))
                .await
                .expect("create");
        }
        tx.commit().await.expect("commit");
        let s = &db.store;
        for (_, sort) in AssetSort::ALL {
            for descending in [false, true] {
                for status in [StatusFilter::Any, StatusFilter::Active] {
                    let list = AssetFilter {
                        sort: *sort,
                        descending,
                        status,
                        ..AssetFilter::default()
                    };
                    let (all, _) = s.assets_page(&list, 1000, 0).await.expect("list");
                    let expected: Vec<AssetId> = all
                        .iter()
                        .filter(|r| r.name.starts_with("ファイルサーバ"))
                        .map(|r| r.id)
                        .collect();
                    let search = AssetFilter {
                        query: Some("ﾌｧｲﾙｻｰﾊﾞ".into()),
                        ..list.clone()
                    };
                    let mut paged = Vec::new();
                    for offset in (0..14).step_by(4) {
                        let (rows, total) =
                            s.assets_page(&search, 4, offset).await.expect("search");
                        assert_eq!(
                            total,
                            expected.len() as i64,
                            "{sort:?} {descending} {offset}"
                        );
                        paged.extend(rows.into_iter().map(|r| r.id));
                    }
                    assert_eq!(paged, expected, "{sort:?} descending={descending}");
                }
            }
        }
        // A page beyond the last match still tells how many there are.
        let (rows, total) = s.assets_page(&query("サーバ"), 5, 50).await.expect("far");
        assert!(rows.is_empty());
        assert_eq!(total, 12);
        let (rows, total) = s
            .assets_page(&query("存在しない語"), 5, 0)
            .await
            .expect("none");
        assert!(rows.is_empty());
        assert_eq!(total, 0);
    }
);

store_test!(staff_see_their_units_assets_up_to_level_two, |db| {
    db.store.migrate().await.expect("migrate");
    let sec = unit(&db.store, "secretariat").await;
    let audit = unit(&db.store, "audit_office").await;
    let mut tx = db.store.begin(actor()).await.expect("begin");
    let child = Store::create_unit(
        &mut tx,
        &UnitInput {
            code: "soumu".into(),
            name: "総務課".into(),
            parent_id: Some(sec),
            in_scope: true,
        },
    )
    .await
    .expect("unit");
    Store::create_asset(&mut tx, &draft("公開情報", child.id, "1"))
        .await
        .expect("a");
    Store::create_asset(&mut tx, &draft("住民記録", child.id, "3B"))
        .await
        .expect("a");
    Store::create_asset(&mut tx, &draft("監査調書", audit, "2"))
        .await
        .expect("a");
    tx.commit().await.expect("commit");
    let scheme = db.store.scheme().await.expect("scheme");
    let staff = AssetFilter {
        scope: Some(AssetScope {
            full: vec![],
            basic: vec![sec],
            basic_levels: scheme
                .basic_confidentiality_levels()
                .into_iter()
                .map(String::from)
                .collect(),
        }),
        ..AssetFilter::default()
    };
    assert_eq!(names(&db.store, &staff).await, ["公開情報"]);
    let manager = AssetFilter {
        scope: Some(AssetScope {
            full: vec![child.id],
            basic: vec![sec],
            basic_levels: vec!["2".into(), "1".into()],
        }),
        sort: AssetSort::Confidentiality,
        descending: true,
        ..AssetFilter::default()
    };
    assert_eq!(names(&db.store, &manager).await, ["住民記録", "公開情報"]);
    let nobody = AssetFilter {
        scope: Some(AssetScope::default()),
        ..AssetFilter::default()
    };
    assert!(names(&db.store, &nobody).await.is_empty());
});

store_test!(
    disposal_keeps_the_record_and_overdue_reviews_are_listed,
    |db| {
        db.store.migrate().await.expect("migrate");
        let u = unit(&db.store, "secretariat").await;
        let mut tx = db.store.begin(actor()).await.expect("begin");
        let mut old = draft("旧端末", u, "2");
        old.review_on = time::Date::from_calendar_date(2025, time::Month::April, 1).ok();
        let old = Store::create_asset(&mut tx, &old).await.expect("a");
        let mut fresh = draft("新端末", u, "2");
        fresh.review_on = time::Date::from_calendar_date(2030, time::Month::April, 1).ok();
        Store::create_asset(&mut tx, &fresh).await.expect("a");
        tx.commit().await.expect("commit");
        let today = time::Date::from_calendar_date(2026, time::Month::November, 26).expect("d");
        let overdue = AssetFilter {
            overdue_on: Some(today),
            ..AssetFilter::default()
        };
        assert_eq!(names(&db.store, &overdue).await, ["旧端末"]);
        let mut tx = db.store.begin(actor()).await.expect("begin");
        let bad = Store::dispose_asset(&mut tx, old.id, today, "").await;
        assert!(matches!(
            bad,
            Err(StoreError::Rule("error-disposal-method-required"))
        ));
        drop(tx);
        let mut tx = db.store.begin(actor()).await.expect("begin");
        let gone = Store::dispose_asset(&mut tx, old.id, today, "物理破壊（業者立会い）")
            .await
            .expect("dispose");
        tx.commit().await.expect("commit");
        assert_eq!(gone.status, "disposed");
        assert!(
            names(&db.store, &overdue).await.is_empty(),
            "disposed is not overdue"
        );
        let active = AssetFilter {
            status: StatusFilter::Active,
            ..AssetFilter::default()
        };
        assert_eq!(names(&db.store, &active).await, ["新端末"]);
        let history = db
            .store
            .audit_page(
                &mamori_store::AuditFilter {
                    entity_type: Some("asset".into()),
                    entity_id: Some(old.id.to_string()),
                    ..Default::default()
                },
                10,
                0,
            )
            .await
            .expect("audit");
        let actions: Vec<&str> = history.0.iter().map(|e| e.record.action.as_str()).collect();
        assert_eq!(actions, ["asset.dispose", "asset.create"]);
    }
);

store_test!(
    relations_refuse_nonsense_and_report_lower_containers,
    |db| {
        db.store.migrate().await.expect("migrate");
        let u = unit(&db.store, "secretariat").await;
        let mut tx = db.store.begin(actor()).await.expect("begin");
        let system = Store::create_asset(&mut tx, &draft("住基システム", u, "3C"))
            .await
            .expect("a");
        let mut info = draft("住民票データ", u, "3B");
        info.asset_type = AssetType::Information;
        let info = Store::create_asset(&mut tx, &info).await.expect("a");
        let id = Store::add_relation(&mut tx, system.id, info.id, RelationKind::Holds)
            .await
            .expect("relate");
        tx.commit().await.expect("commit");
        // (On PostgreSQL an error aborts the transaction, so each refusal gets its own.)
        let mut tx = db.store.begin(actor()).await.expect("begin");
        let twice = Store::add_relation(&mut tx, system.id, info.id, RelationKind::Holds).await;
        assert!(matches!(twice, Err(StoreError::Duplicate(_))));
        drop(tx);
        let mut tx = db.store.begin(actor()).await.expect("begin");
        let wrong = Store::add_relation(&mut tx, info.id, system.id, RelationKind::RunsOn).await;
        assert!(matches!(
            wrong,
            Err(StoreError::Rule("error-relation-types"))
        ));
        drop(tx);
        let rels = db.store.asset_relations(info.id).await.expect("rels");
        assert_eq!(rels.len(), 1);
        assert_eq!(rels[0].id, id);
        let scheme = db.store.scheme().await.expect("scheme");
        let (container, part) = RelationKind::Holds.container_first(&rels[0].from, &rels[0].to);
        assert_eq!(
            mamori_domain::assets::classification::lower_axes(
                &scheme,
                &container.class(),
                &part.class()
            ),
            [Axis::Confidentiality]
        );
    }
);

store_test!(
    files_are_chunked_content_addressed_and_all_or_nothing,
    |db| {
        db.store.migrate().await.expect("migrate");
        let u = unit(&db.store, "secretariat").await;
        let mut tx = db.store.begin(actor()).await.expect("begin");
        let a = Store::create_asset(&mut tx, &draft("媒体", u, "2"))
            .await
            .expect("a");
        let content: Vec<u8> = (0..600_000u32).map(|i| (i % 251) as u8).collect();
        let mut w = FileWriter::begin(&mut tx, 1 << 20)
            .await
            .expect("begin file");
        for piece in content.chunks(70_000) {
            w.write(&mut tx, piece).await.expect("write");
        }
        let (sha, size) = w.finish(&mut tx).await.expect("finish");
        Store::attach_to_asset(
            &mut tx,
            a.id,
            "evidence",
            &sha,
            size,
            "証跡.pdf",
            "application/pdf",
        )
        .await
        .expect("attach");
        tx.commit().await.expect("commit");
        use sha2::Digest;
        assert_eq!(sha, hex::encode(sha2::Sha256::digest(&content)));
        let mut back = Vec::new();
        let mut seq = 0;
        while let Some(chunk) = db.store.file_chunk(&sha, seq).await.expect("chunk") {
            assert!(chunk.len() <= mamori_store::FILE_CHUNK_BYTES);
            back.extend(chunk);
            seq += 1;
        }
        assert_eq!(seq, 3, "600 kB in 256 KiB chunks");
        assert_eq!(back, content);
        // Too large: refused, and the transaction keeps nothing.
        let before = db.store.table_names().await.expect("t").len();
        let mut tx = db.store.begin(actor()).await.expect("begin");
        let mut w = FileWriter::begin(&mut tx, 1000).await.expect("begin file");
        let err = w.write(&mut tx, &[0u8; 1001]).await;
        assert!(matches!(err, Err(StoreError::Rule("error-file-too-large"))));
        drop(tx);
        assert_eq!(db.store.table_names().await.expect("t").len(), before);
        let files: i64 = sqlx::query_scalar("SELECT COUNT(*) FROM files")
            .fetch_one(db.store.pool())
            .await
            .expect("count");
        assert_eq!(files, 1);
    }
);

store_test!(asset_import_is_all_or_nothing_and_round_trips, |db| {
    db.store.migrate().await.expect("migrate");
    let csv = "名称,種別,所管組織,管理者,機密性,完全性,可用性,状態,廃棄日,廃棄方法\n\
               住民基本台帳システム,system,secretariat,,3B,2,2,,,\n\
               古いUSBメモリ,media,事務局,,2,1,1,廃棄済,R8.3.31,物理破壊\n";
    let summary = import_csv(&db.store, csv).await.expect("valid");
    assert_eq!(summary.added, 2);

    // Export, then import the export: nothing changes.
    let exported: Vec<_> = every_asset(&db.store)
        .await
        .iter()
        .map(|a| a.to_record().expect("record"))
        .collect();
    let file = write_csv::<Assets>(&exported, true).expect("csv");
    let summary = import_csv(&db.store, &file).await.expect("valid");
    assert_eq!(
        (summary.added, summary.updated, summary.unchanged),
        (0, 0, 2)
    );

    // Bad references and levels: every problem, nothing written.
    let bad = "資産ID,名称,種別,所管組織,管理者,機密性,完全性,可用性\n\
               ,良い行,system,secretariat,,2,1,1\n\
               ,悪い行,system,nowhere,nobody,3,1,9\n";
    let problems = import_csv(&db.store, bad).await.expect_err("invalid");
    let got: Vec<(u64, &str, &str)> = problems
        .iter()
        .map(|p| (p.line, p.column.as_str(), p.message_id))
        .collect();
    assert_eq!(
        got,
        [
            (3, "owner_unit", "error-unknown-unit"),
            (3, "custodian", "error-unknown-person"),
            (3, "confidentiality", "error-unknown-level"),
            (3, "availability", "error-unknown-level"),
        ]
    );
    let (_, total) = db
        .store
        .assets_page(&AssetFilter::default(), 10, 0)
        .await
        .expect("q");
    assert_eq!(total, 2, "the good row was not written either");
});

store_test!(a_new_asset_keeps_the_files_id_so_relations_travel, |db| {
    db.store.migrate().await.expect("migrate");
    let csv = "資産ID,名称,種別,所管組織,機密性,完全性,可用性\n\
               500,基幹系サーバ,equipment,secretariat,3B,2,2\n\
               501,住記システム,system,secretariat,3B,2,2\n";
    let records = read_file::<Assets>(csv.as_bytes()).expect("parse");
    let rels =
        read_file::<AssetRelations>("from,to,kind\n501,500,runs_on\n".as_bytes()).expect("parse");
    let mut tx = db.store.begin(actor()).await.expect("begin");
    Store::import_assets(&mut tx, &records, |c| c.to_owned(), None)
        .await
        .expect("import")
        .expect("valid");
    let s = Store::import_relations(&mut tx, &rels, |c| c.to_owned(), None)
        .await
        .expect("import")
        .expect("valid");
    assert_eq!(s.added, 1);
    tx.commit().await.expect("commit");
    assert_eq!(
        db.store
            .asset_relations(AssetId(500))
            .await
            .expect("r")
            .len(),
        1
    );
    // The id sequence moved past the imported ids.
    let mut tx = db.store.begin(actor()).await.expect("begin");
    let next = Store::create_asset(&mut tx, &draft("次", UnitId(1), "1"))
        .await
        .expect("a");
    tx.commit().await.expect("commit");
    assert!(next.id.0 > 501, "got {}", next.id);
});

store_test!(switching_scheme_maps_every_asset_in_one_step, |db| {
    db.store.migrate().await.expect("migrate");
    let u = unit(&db.store, "secretariat").await;
    let mut tx = db.store.begin(actor()).await.expect("begin");
    Store::create_asset(&mut tx, &draft("A", u, "3A"))
        .await
        .expect("a");
    Store::create_asset(&mut tx, &draft("B", u, "3C"))
        .await
        .expect("a");
    Store::create_asset(&mut tx, &draft("C", u, "2"))
        .await
        .expect("a");
    tx.commit().await.expect("commit");
    let current = db.store.scheme().await.expect("scheme");
    let classic = Scheme::from_preset(&CLASSIC);
    let mut mapping = suggest_mapping(&current, &classic);
    mapping.remove(&(Axis::Confidentiality, "3C".into()));
    let mut tx = db.store.begin(actor()).await.expect("begin");
    let refused = Store::switch_scheme(&mut tx, "classic", &mapping).await;
    assert!(matches!(
        refused,
        Err(StoreError::Rule("error-mapping-incomplete"))
    ));
    drop(tx);
    let mapping = suggest_mapping(&current, &classic);
    let mut tx = db.store.begin(actor()).await.expect("begin");
    let preview = Store::preview_scheme_switch(&mut tx, "classic", &mapping)
        .await
        .expect("p");
    assert!(preview.problems.is_empty());
    assert!(preview
        .moves
        .contains(&(Axis::Confidentiality, "3A".into(), "3".into(), 1)));
    Store::switch_scheme(&mut tx, "classic", &mapping)
        .await
        .expect("switch");
    tx.commit().await.expect("commit");
    assert_eq!(db.store.scheme().await.expect("s").code, "classic");
    let (rows, _) = db
        .store
        .assets_page(
            &AssetFilter {
                sort: AssetSort::Name,
                ..AssetFilter::default()
            },
            10,
            0,
        )
        .await
        .expect("q");
    let cs: Vec<&str> = rows.iter().map(|r| r.confidentiality.as_str()).collect();
    assert_eq!(cs, ["3", "3", "2"]);
    let found = db
        .store
        .assets_page(
            &AssetFilter {
                levels: vec![(Axis::Confidentiality, "3".into())],
                ..AssetFilter::default()
            },
            10,
            0,
        )
        .await
        .expect("q");
    assert_eq!(found.1, 2);
});

store_test!(
    a_large_import_writes_in_batches_what_single_writes_would,
    |db| {
        use mamori_domain::assets::search::{grams, record_key};
        db.store.migrate().await.expect("migrate");
        let sec = unit(&db.store, "secretariat").await;
        add_person(&db.store, sec, "000123", "長﨑 悠").await;
        // Statistics of the still-empty register, as `ANALYZE` after an import of people leaves
        // them (on PostgreSQL this once made the grams' foreign-key checks scan the whole table).
        sqlx::query("ANALYZE")
            .execute(db.store.pool())
            .await
            .expect("analyze");

        // 1,100 rows with ids (enough for the large-import settings, several multi-row INSERTs and
        // gram statements), custodians by staff id and by name, units by code and by name, and 5
        // rows without an id.
        let mut csv = String::from(
            "資産ID,名称,種別,所管組織,管理者,機密性,完全性,可用性,保管場所,説明,次回見直し日\n",
        );
        for i in 1..=1100 {
            let custodian = match i % 3 {
                0 => "000123",
                1 => "長﨑 悠",
                _ => "",
            };
            let unit = if i % 2 == 0 {
                "secretariat"
            } else {
                "事務局"
            };
            csv.push_str(&format!(
            "{},文書管理システム{i:04},system,{unit},{custodian},3B,2,1,サーバ室 {i},月次 バックアップ,2027-03-31\n",
            1000 + i
        ));
        }
        for i in 1..=5 {
            csv.push_str(&format!(
                ",番号なし資産{i},information,secretariat,,2,1,1,,,\n"
            ));
        }
        let records = read_file::<Assets>(csv.as_bytes()).expect("parse");
        let mut tx = db.store.begin(actor()).await.expect("begin");
        let mut seen = Vec::new();
        let summary = Store::import_assets_with_progress(
            &mut tx,
            &records,
            |c| c.to_owned(),
            None,
            |n| seen.push(n),
        )
        .await
        .expect("import")
        .expect("valid");
        assert_eq!(summary.added, 1105);
        assert!(
            seen.len() >= 4 && seen.windows(2).all(|w| w[0] < w[1]),
            "progress rises in steps: {seen:?}"
        );
        assert_eq!(seen.last(), Some(&1105), "progress ends at every record");
        tx.commit().await.expect("commit");

        // Every audited `after` is exactly the row as it reads back, and every row has the grams
        // of its search key.
        let pool = db.store.pool();
        let audited: Vec<(String, String)> = sqlx::query_as(
        "SELECT entity_id, after_json FROM audit_log WHERE action = 'asset.create' ORDER BY seq",
    )
    .fetch_all(pool)
    .await
    .expect("audit");
        assert_eq!(audited.len(), 1105);
        let rows = every_asset(&db.store).await;
        assert_eq!(rows.len(), 1105);
        for row in &rows {
            let (_, after) = audited
                .iter()
                .find(|(id, _)| *id == row.id.to_string())
                .expect("audited");
            let after: serde_json::Value = serde_json::from_str(after).expect("json");
            assert_eq!(
                after,
                serde_json::to_value(row).expect("row"),
                "asset {}",
                row.id
            );
        }
        // Every asset has exactly the grams of its search key.
        let grams_match = |rows: Vec<mamori_store::AssetRow>| async move {
            for row in &rows {
                let key = record_key([
                    row.name.as_str(),
                    row.location.as_str(),
                    row.description.as_str(),
                ]);
                let mut stored: Vec<String> = sqlx::query_scalar(
                    "SELECT gram FROM asset_grams WHERE asset_id = $1 ORDER BY gram",
                )
                .bind(row.id.0)
                .fetch_all(pool)
                .await
                .expect("grams");
                stored.sort();
                assert_eq!(
                    stored,
                    grams(&key).into_iter().collect::<Vec<_>>(),
                    "asset {}",
                    row.id
                );
            }
            let total: i64 = sqlx::query_scalar("SELECT COUNT(*) FROM asset_grams")
                .fetch_one(pool)
                .await
                .expect("count");
            let expected: usize = rows
                .iter()
                .map(|r| {
                    grams(&record_key([
                        r.name.as_str(),
                        r.location.as_str(),
                        r.description.as_str(),
                    ]))
                    .len()
                })
                .sum();
            assert_eq!(
                total,
                i64::try_from(expected).expect("count"),
                "no other grams"
            );
        };
        grams_match(rows.clone()).await;
        assert_eq!(rows[0].id, AssetId(1001), "given ids are kept");
        assert_eq!(
            rows[2].custodian.as_deref(),
            Some("000123"),
            "custodian by staff id"
        );
        assert_eq!(
            rows[0].custodian_name.as_deref(),
            Some("長﨑 悠"),
            "custodian by name"
        );
        assert_eq!(
            rows[1100..].iter().map(|r| r.id.0).collect::<Vec<_>>(),
            (2101..=2105).collect::<Vec<_>>(),
            "unnumbered rows are numbered after every given id, in file order"
        );
        let mut tx = db.store.begin(actor()).await.expect("begin");
        let next = Store::create_asset(&mut tx, &draft("次", UnitId(1), "1"))
            .await
            .expect("create after import");
        tx.commit().await.expect("commit");
        assert_eq!(next.id, AssetId(2106), "a later create takes the next id");
        assert_eq!(
            names(&db.store, &query("ム0137")).await,
            ["文書管理システム0137"]
        );

        // Importing the export changes nothing but the renamed assets: each is one update with
        // new grams (275 renames make several sorted runs of grams to merge).
        let mut exported: Vec<_> = rows
            .iter()
            .map(|r| r.to_record().expect("record"))
            .collect();
        exported[136].name = "財務会計システム".into();
        for (i, record) in exported.iter_mut().enumerate().take(1100) {
            if i % 4 == 1 {
                record.name = format!("改名資産{i:04}");
            }
        }
        let file = write_csv::<Assets>(&exported, true).expect("csv");
        let summary = import_csv(&db.store, &file).await.expect("valid");
        assert_eq!(
            (summary.added, summary.updated, summary.unchanged),
            (0, 276, 829)
        );
        let renamed = every_asset(&db.store).await;
        assert_eq!(renamed[5].name, "改名資産0005");
        grams_match(renamed).await;
        assert_eq!(
            names(&db.store, &query("改名資産0005")).await,
            ["改名資産0005"]
        );
        assert!(
            names(&db.store, &query("ム0137")).await.is_empty(),
            "old grams are gone"
        );
        assert_eq!(names(&db.store, &query("財務")).await, ["財務会計システム"]);
        let updates: Vec<(Option<String>, String)> = sqlx::query_as(
            "SELECT before_json, after_json FROM audit_log WHERE action = 'asset.update'",
        )
        .fetch_all(pool)
        .await
        .expect("audit");
        assert_eq!(updates.len(), 276);
        let update = updates
            .iter()
            .find(|(before, _)| {
                before
                    .as_deref()
                    .is_some_and(|b| b.contains("文書管理システム0137"))
            })
            .expect("the rename of 1137 is audited");
        let fresh = db
            .store
            .asset(AssetId(1137))
            .await
            .expect("q")
            .expect("asset");
        let after: serde_json::Value = serde_json::from_str(&update.1).expect("json");
        assert_eq!(after, serde_json::to_value(&fresh).expect("row"));
    }
);

store_test!(custodians_resolve_alike_one_by_one_and_all_at_once, |db| {
    db.store.migrate().await.expect("migrate");
    let sec = unit(&db.store, "secretariat").await;
    // Two people share a name; one person's name is another's staff id.
    for (staff_id, name) in [
        ("000123", "長﨑 悠"),
        ("000124", "山田 花子"),
        ("000125", "山田 花子"),
        ("000126", "000123"),
    ] {
        add_person(&db.store, sec, staff_id, name).await;
    }
    let header = "名称,種別,所管組織,管理者,機密性,完全性,可用性\n";
    let cases = ["000123", "長﨑 悠", "山田 花子", "誰でもない", "000126"];
    // A small file looks each custodian up; a large one (1,000 rows or more) reads everyone
    // at once. Both must answer alike, problems and all.
    let file = |filler: usize| {
        let mut csv = String::from(header);
        for i in 0..filler {
            csv.push_str(&format!("埋め草{i},information,secretariat,,1,1,1\n"));
        }
        for (i, c) in cases.iter().enumerate() {
            csv.push_str(&format!("資産{i},information,secretariat,{c},1,1,1\n"));
        }
        csv
    };
    let mut outcomes = Vec::new();
    for filler in [0, 1_000] {
        let problems = import_csv(&db.store, &file(filler))
            .await
            .expect_err("invalid");
        let got: Vec<(u64, String, &str)> = problems
            .iter()
            .map(|p| (p.line - filler as u64, p.column.clone(), p.message_id))
            .collect();
        outcomes.push(got);
    }
    assert_eq!(
        outcomes[0],
        [
            (4, "custodian".to_owned(), "import-ambiguous-person"),
            (5, "custodian".to_owned(), "error-unknown-person"),
        ]
    );
    assert_eq!(outcomes[1], outcomes[0]);

    // Without the bad rows, a staff id wins over a name that reads the same.
    let mut csv = file(1_000);
    csv = csv
        .replace(",山田 花子,", ",000124,")
        .replace(",誰でもない,", ",,");
    import_csv(&db.store, &csv).await.expect("valid");
    let mut custodians = Vec::new();
    for name in ["資産0", "資産1", "資産2", "資産4"] {
        let found = names(&db.store, &query(name)).await;
        assert_eq!(found, [name]);
        let (page, _) = db.store.assets_page(&query(name), 1, 0).await.expect("q");
        custodians.push(page[0].custodian.clone());
    }
    assert_eq!(
        custodians,
        [
            Some("000123".to_owned()),
            Some("000123".to_owned()),
            Some("000124".to_owned()),
            Some("000126".to_owned()),
        ]
    );
});

store_test!(
    relation_import_checks_what_adding_one_checks_and_only_adds,
    |db| {
        db.store.migrate().await.expect("migrate");
        let csv = "資産ID,名称,種別,所管組織,機密性,完全性,可用性,状態,廃棄日,廃棄方法\n\
               10,基幹系サーバ,equipment,secretariat,3B,2,2,,,\n\
               11,住記システム,system,secretariat,3B,2,2,,,\n\
               12,住民票データ,information,secretariat,3B,2,2,,,\n\
               13,古いサーバ,equipment,secretariat,2,1,1,廃棄済,2025-03-31,物理破壊\n";
        import_csv(&db.store, csv).await.expect("valid");

        let bad = "from,to,kind\n11,10,runs_on\n12,11,holds\n11,13,runs_on\n11,99,holds\n";
        let rels = read_file::<AssetRelations>(bad.as_bytes()).expect("parse");
        let mut tx = db.store.begin(actor()).await.expect("begin");
        let problems = Store::import_relations(&mut tx, &rels, |c| c.to_owned(), None)
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
                (3, "kind", "error-relation-types"),
                (4, "kind", "error-asset-disposed"),
                (5, "to", "error-unknown-asset"),
            ]
        );
        assert!(
            db.store
                .asset_relations(AssetId(11))
                .await
                .expect("r")
                .is_empty(),
            "nothing kept"
        );

        let good = "from,to,kind\n11,10,runs_on\n11,12,holds\n";
        let rels = read_file::<AssetRelations>(good.as_bytes()).expect("parse");
        let mut tx = db.store.begin(actor()).await.expect("begin");
        let s = Store::import_relations(&mut tx, &rels, |c| c.to_owned(), None)
            .await
            .expect("import")
            .expect("valid");
        assert_eq!((s.added, s.unchanged), (2, 0));
        tx.commit().await.expect("commit");
        let held = db.store.asset_relations(AssetId(11)).await.expect("r");
        assert_eq!(held.len(), 2);
        let audited: Vec<(String, String)> = sqlx::query_as(
        "SELECT entity_id, after_json FROM audit_log WHERE action = 'asset.relate' ORDER BY seq",
    )
    .fetch_all(db.store.pool())
    .await
    .expect("audit");
        assert_eq!(audited.len(), 2);
        for rel in &held {
            let (_, after) = audited
                .iter()
                .find(|(id, _)| *id == rel.id.to_string())
                .expect("each relation audited under its own id");
            let after: serde_json::Value = serde_json::from_str(after).expect("json");
            assert_eq!(after["from"], rel.from.id.0);
            assert_eq!(after["to"], rel.to.id.0);
            assert_eq!(after["kind"], rel.kind);
        }

        // Again, with one more: held relations are unchanged, and none is ever removed.
        let again = "from,to,kind\n11,10,runs_on\n";
        let rels = read_file::<AssetRelations>(again.as_bytes()).expect("parse");
        let mut tx = db.store.begin(actor()).await.expect("begin");
        let s = Store::import_relations(&mut tx, &rels, |c| c.to_owned(), None)
            .await
            .expect("import")
            .expect("valid");
        assert_eq!((s.added, s.unchanged), (0, 1));
        drop(tx);
        assert_eq!(
            db.store
                .asset_relations(AssetId(11))
                .await
                .expect("r")
                .len(),
            2
        );
    }
);
