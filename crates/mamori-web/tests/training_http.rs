//! Training over HTTP, on SQLite and PostgreSQL: manager entry, quizzes (pass, fail, refusal
//! when not assigned), report figures, material refusals and the API list filters.

#![allow(missing_docs)]

mod common;

use common::TestApp;
use mamori_store::{Actor, Store};

both!(
    manager_records_quiz_completes_and_the_report_follows,
    |pg: bool| async move {
        let app = TestApp::with(pg, mamori_web::WebConfig::default()).await;
        app.no_mfa_policy().await;
        app.add_unit("soumu", "secretariat").await;
        app.add_unit("kansa", "audit_office").await;
        app.add_user("manager", "soumu", &["unit_manager@soumu"])
            .await;
        app.add_user("tanaka", "soumu", &[]).await;
        app.add_user("chief", "secretariat", &["chief_officer"])
            .await;
        let other = app.add_person("K-1", "kansa").await;
        let course = app
            .store()
            .course_by_code("security-annual")
            .await
            .expect("c")
            .expect("seeded");
        let csirt = app
            .store()
            .course_by_code("csirt")
            .await
            .expect("c")
            .expect("seeded");
        let mut tx = app.store().begin(Actor::system()).await.expect("b");
        for (c, correct) in [(course.id, 0), (course.id, 1), (csirt.id, 0)] {
            let q = mamori_domain::training::Question {
                text: "問".into(),
                choices: vec!["a".into(), "b".into()],
                correct,
            };
            Store::add_question(&mut tx, c, &q).await.expect("q");
        }
        tx.commit().await.expect("c");
        let qs = app.store().course_questions(course.id).await.expect("q");

        // The report before anything is done.
        let mut m = app.client();
        m.login("manager").await;
        let before = m.get("/training/report?list=pending").await;
        assert_eq!(before.status, 200);
        assert!(before.body.contains("S-tanaka"), "tanaka has not done it");
        assert!(
            !before.body.contains("K-1"),
            "another unit's people are not shown"
        );

        // Self-completion: a failed quiz records nothing, a passed one records the completion.
        let mut t = app.client();
        t.login("tanaka").await;
        let mine = t.get("/training").await;
        assert!(mine.body.contains("情報セキュリティ研修"), "{}", mine.body);
        let (q1, q2) = (format!("q{}", qs[0].id), format!("q{}", qs[1].id));
        let fail = t
            .post(
                "/training/courses/security-annual/quiz",
                &[(&q1, "1"), (&q2, "0")],
            )
            .await;
        assert_eq!(fail.status, 200);
        assert!(fail.body.contains("不合格"), "{}", fail.body);
        let pass = t
            .post(
                "/training/courses/security-annual/quiz",
                &[(&q1, "0"), (&q2, "1")],
            )
            .await;
        assert!(pass.body.contains("合格です"), "{}", pass.body);
        // Not assigned (csirt is for the CSIRT role): refused with a message.
        let refused = t.post("/training/courses/csirt/quiz", &[("q1", "0")]).await;
        assert_eq!(refused.status, 422);
        assert!(
            refused.body.contains("割り当てられていない"),
            "{}",
            refused.body
        );

        // The manager records a completion for their unit; not for another unit.
        let ok = m
            .post(
                "/training/records",
                &[
                    ("staff_id", "S-manager"),
                    ("course", "security-annual"),
                    ("completed_on", "R8.4.10"),
                    ("score", "90"),
                ],
            )
            .await;
        assert_eq!(ok.status, 303, "{}", ok.body);
        let denied = m
            .post(
                "/training/records",
                &[
                    ("staff_id", &other.staff_id),
                    ("course", "security-annual"),
                    ("completed_on", "2026-04-10"),
                ],
            )
            .await;
        assert_eq!(denied.status, 403);

        // The figures follow: both soumu people are done for 2026 (if the course runs then).
        let report = app
            .store()
            .training_report(
                &mamori_store::TrainingFilter {
                    unit: Some(app.unit("soumu").await.id),
                    course: Some("security-annual".into()),
                    ..Default::default()
                },
                2026,
                time::macros::date!(2026 - 06 - 01),
            )
            .await
            .expect("report");
        if mamori_domain::wareki::fiscal_year(time::OffsetDateTime::now_utc().date()) == 2026 {
            assert_eq!(
                (report.total.done, report.total.assigned),
                (2, 2),
                "{report:?}"
            );
        }

        // The API list and its filters.
        let (_, token) = app
            .token(
                &app.store()
                    .user_by_username("chief")
                    .await
                    .expect("u")
                    .expect("u"),
                true,
            )
            .await;
        let auth = format!("Bearer {token}");
        let mut api = app.client();
        let all = api
            .get_with("/api/v1/training-records", &[("authorization", &auth)])
            .await;
        assert_eq!(all.status, 200, "{}", all.body);
        assert_eq!(all.json()["total"], 2);
        let one = api
            .get_with("/api/v1/training-records?person=S-manager&fiscal_year=R8&course=security-annual&unit=soumu", &[("authorization", &auth)])
            .await;
        assert_eq!(one.json()["total"], 1, "{}", one.body);
        assert_eq!(one.json()["items"][0]["source"], "manager");
        let none = api
            .get_with(
                "/api/v1/training-records?unit=kansa",
                &[("authorization", &auth)],
            )
            .await;
        assert_eq!(none.json()["total"], 0);
        let bad = api
            .get_with(
                "/api/v1/training-records?fiscal_year=someday",
                &[("authorization", &auth)],
            )
            .await;
        assert_eq!(bad.status, 422);
        let courses = api
            .get_with("/api/v1/courses", &[("authorization", &auth)])
            .await;
        assert_eq!(courses.json()["total"], 6);

        // Materials: an executable is refused with a message; a PDF is stored.
        let mut chief = app.client();
        chief.login("chief").await;
        chief.get("/training/courses/security-annual").await;
        let csrf = chief.csrf.clone().expect("csrf");
        let (ct, body) = common::multipart(
            &[("csrf", &csrf)],
            Some((
                "file",
                "setup.exe",
                "application/octet-stream",
                b"MZ\x90\0\x03",
            )),
        );
        let exe = chief
            .post_raw_typed(
                "/training/courses/security-annual/materials",
                &ct,
                body,
                &[("origin", "http://mamori.test")],
            )
            .await;
        assert_eq!(exe.status, 422);
        assert!(
            exe.body.contains("教材として登録できません"),
            "{}",
            exe.body
        );
        let (ct, body) = common::multipart(
            &[("csrf", &csrf)],
            Some(("file", "slides.pdf", "application/pdf", b"%PDF-1.4 slides")),
        );
        let pdf = chief
            .post_raw_typed(
                "/training/courses/security-annual/materials",
                &ct,
                body,
                &[("origin", "http://mamori.test")],
            )
            .await;
        assert_eq!(pdf.status, 303, "{}", pdf.body);
        app.close().await;
    }
);
