//! Training on both databases: the seeded courses, completion records keyed by person, course
//! and 年度, and the report that computes who must take what.

#![allow(missing_docs)]

mod common;

use mamori_domain::training::Source;
use mamori_domain::PersonId;
use mamori_store::{Actor, CompletionInput, PersonInput, Store, TrainingFilter};
use time::macros::date;

fn actor() -> Actor {
    Actor {
        name: "tester".into(),
        source: "127.0.0.1".into(),
    }
}

store_test!(
    completions_count_once_per_year_and_the_report_follows,
    |db| {
        db.store.migrate().await.expect("migrate");
        let codes: Vec<String> = db
            .store
            .courses()
            .await
            .expect("courses")
            .into_iter()
            .map(|c| c.code)
            .collect();
        for code in [
            "security-annual",
            "onboarding",
            "manager",
            "csirt",
            "phishing-drill",
            "emergency-exercise",
        ] {
            assert!(codes.iter().any(|c| c == code), "seeded {code}: {codes:?}");
        }
        db.store.migrate().await.expect("again");
        assert_eq!(
            db.store.courses().await.expect("courses").len(),
            codes.len(),
            "seeded once"
        );

        let unit = db
            .store
            .unit_by_code("secretariat")
            .await
            .expect("q")
            .expect("u")
            .id;
        let mut tx = db.store.begin(actor()).await.expect("begin");
        let p = Store::create_person(
            &mut tx,
            &PersonInput {
                staff_id: "T1".into(),
                name: "研修 太郎".into(),
                kana: String::new(),
                unit_id: unit,
                category: "fiscal_year".into(),
                email: String::new(),
                joined_on: Some("2026-04-01".into()),
                left_on: None,
            },
        )
        .await
        .expect("person");
        tx.commit().await.expect("commit");

        let annual = db
            .store
            .course_by_code("security-annual")
            .await
            .expect("q")
            .expect("course");
        let filter = TrainingFilter {
            course: Some("security-annual".into()),
            ..Default::default()
        };
        let before = db
            .store
            .training_report(&filter, 2026, date!(2026 - 11 - 26))
            .await
            .expect("report");
        assert_eq!((before.total.done, before.total.assigned), (0, 1));

        let input = CompletionInput {
            person: PersonId(p.id.0),
            course_id: annual.id,
            completed_on: date!(2026 - 06 - 10),
            source: Source::Manager,
            score: None,
            session_id: None,
        };
        let mut tx = db.store.begin(actor()).await.expect("begin");
        let (_, changed) = Store::record_completion(&mut tx, &input)
            .await
            .expect("record");
        assert!(changed);
        tx.commit().await.expect("commit");
        let mut tx = db.store.begin(actor()).await.expect("begin");
        let (_, changed) = Store::record_completion(&mut tx, &input)
            .await
            .expect("again");
        assert!(!changed, "the same completion again changes nothing");
        drop(tx);

        let after = db
            .store
            .training_report(&filter, 2026, date!(2026 - 11 - 26))
            .await
            .expect("report");
        assert_eq!((after.total.done, after.total.assigned), (1, 1));
        // An annual course counts for its own 年度 only: 令和9年度 starts with nothing done.
        let next_year = db
            .store
            .training_report(&filter, 2027, date!(2027 - 05 - 01))
            .await
            .expect("report");
        assert_eq!((next_year.total.done, next_year.total.assigned), (0, 1));
        let (records, total) = db
            .store
            .training_records_page(
                &TrainingFilter {
                    fiscal_year: Some(2026),
                    ..Default::default()
                },
                50,
                0,
            )
            .await
            .expect("records");
        assert_eq!(total, 1);
        assert_eq!(records[0].staff_id, "T1");
        assert_eq!(records[0].source, "manager");
    }
);
