//! The authorization matrix: every route in the route table, for every seeded role, granted
//! on the user's own unit and organisation-wide, against a record of the own unit and one of
//! another unit. The expected decisions are written here independently of the code (the
//! intended permissions of each role, and what each route needs), so a route without a
//! decision, or a decision that drifts, fails.

#![allow(missing_docs)]

mod common;

use axum::http::StatusCode;
use common::TestApp;
use mamori_store::{Actor, AuditFilter, RoleHolder, Store};
use mamori_web::routes::{Access, ROUTES};

/// The intended permissions of each seeded role (`DOMAIN.md` §2).
fn role_permissions(role: &str) -> &'static [&'static str] {
    match role {
        "ciso" => &[
            "units.read",
            "people.read",
            "assets.read",
            "audit.read",
            "policy.approve",
            "risk.accept",
            "incident.report",
        ],
        "chief_officer" => &[
            "units.read",
            "units.manage",
            "people.read",
            "people.manage",
            "assets.read",
            "assets.edit",
            "audit.read",
            "policy.edit",
            "training.manage",
            "incident.report",
            // Catalogue
            "catalogue.manage",
            "controls.update",
            // Risk register
            "risks.edit",
        ],
        "unit_officer" | "system_manager" => &[
            "units.read",
            "people.read",
            "assets.read",
            "assets.edit",
            "incident.report",
            // Catalogue
            "controls.update",
            // Risk register
            "risks.edit",
        ],
        "unit_manager" => &[
            "units.read",
            "people.read",
            "people.manage",
            "assets.read",
            "assets.edit",
            "training.manage",
            "incident.report",
            // Catalogue
            "controls.update",
            // Risk register
            "risks.edit",
        ],
        "system_staff" => &["units.read", "assets.read", "incident.report"],
        "csirt" => &[
            "units.read",
            "people.read",
            "assets.read",
            "incident.report",
        ],
        "audit_lead" | "auditor" => &["units.read", "people.read", "assets.read", "audit.read"],
        "committee" => &["units.read", "people.read", "assets.read"],
        "staff" => &["units.read", "assets.read_basic", "incident.report"],
        "admin" => &[
            "units.read",
            "units.manage",
            "people.read",
            "people.manage",
            "roles.assign",
            "accounts.manage",
            "settings.manage",
            "audit.read",
        ],
        "none" => &[],
        other => panic!("role {other} has no expectation in the matrix: add it"),
    }
}

/// Permissions that only count when held organisation-wide.
const ORG_WIDE: &[&str] = &[
    "accounts.manage",
    "settings.manage",
    "audit.read",
    "roles.assign",
    "policy.approve",
    "policy.edit",
    "risk.accept",
    // Catalogue
    "catalogue.manage",
];

/// What a route needs, stated independently of the route table.
#[derive(Debug, Clone, Copy)]
enum Rule {
    Public,
    /// Only for a session whose second factor is pending: a full principal is sent away.
    PendingMfaOnly,
    LoggedIn,
    /// The permission in some scope (list and "new" pages).
    Anywhere(&'static str),
    /// Any of the permissions in some scope.
    AnywhereAny(&'static [&'static str]),
    /// Every permission on the target record's unit.
    OnTarget(&'static [&'static str]),
    // Catalogue
    /// Any of the permissions on the target record's unit.
    OnTargetAny(&'static [&'static str]),
    /// Giving or removing the `staff` role on the target's unit.
    AssignOnTarget,
    /// The permission held organisation-wide (whole-register imports).
    OrgWide(&'static str),
    /// A step that never changes anything (an import preview): passes the gate with any of
    /// the permissions in some scope.
    GateAny(&'static [&'static str]),
}

const IMPORTERS: &[&str] = &[
    "units.manage",
    "people.manage",
    "assets.edit",
    // Training
    "training.manage",
    // Catalogue
    "catalogue.manage",
    // Coverage
    "controls.update",
    // Risk register
    "risks.edit",
];

fn rule(method: &str, path: &str) -> Option<Rule> {
    use Rule::*;
    Some(match (method, path) {
        ("GET", "/healthz" | "/static/{file}" | "/login" | "/api/v1/openapi.json")
        | ("POST", "/login") => Public,
        (_, "/login/mfa") => PendingMfaOnly,
        ("POST", "/logout") => LoggedIn,
        (_, p) if p.starts_with("/account") => LoggedIn,
        ("GET", "/") => LoggedIn,
        ("GET", "/admin/units" | "/admin/units.csv" | "/api/v1/units" | "/api/v1/units/{code}") => {
            Anywhere("units.read")
        }
        ("POST", "/api/v1/units") | ("PUT", "/api/v1/units/{code}") => OnTarget(&["units.manage"]),
        // The organisation tree is not secret: everyone may see every unit.
        ("GET", "/admin/units/{id}") => Anywhere("units.read"),
        ("GET", "/admin/units/new") => Anywhere("units.manage"),
        ("POST", "/admin/units") | ("POST", "/admin/units/{id}") => OnTarget(&["units.manage"]),
        ("GET", "/admin/people" | "/admin/people.csv" | "/api/v1/people") => {
            Anywhere("people.read")
        }
        ("GET", "/api/v1/people/{staff_id}") => OnTarget(&["people.read"]),
        ("POST", "/api/v1/people") => OnTarget(&["people.manage"]),
        ("PUT", "/api/v1/people/{staff_id}") => OnTarget(&["people.read", "people.manage"]),
        ("GET", "/admin/people/new") => Anywhere("people.manage"),
        ("GET", "/admin/people/leavers") => Anywhere("people.read"),
        (_, "/admin/people/{id}/transfer") => OnTarget(&["people.read", "people.manage"]),
        (_, "/admin/accounts/issue") => Anywhere("accounts.manage"),
        ("GET", "/admin/people/{id}") => OnTarget(&["people.read"]),
        ("POST", "/admin/people") => OnTarget(&["people.manage"]),
        ("POST", "/admin/people/{id}") => OnTarget(&["people.read", "people.manage"]),
        ("POST", "/admin/people/{id}/roles" | "/admin/people/{id}/roles/{assignment}/delete") => {
            AssignOnTarget
        }
        (_, "/admin/settings") => Anywhere("settings.manage"),
        ("GET", "/admin/import") => AnywhereAny(IMPORTERS),
        ("POST", "/admin/import/preview") => GateAny(IMPORTERS),
        // The asset register: everyone reads their own unit's assets up to level 2 (the
        // matrix's targets are 3B, so reading them needs `assets.read` on their unit).
        ("GET", "/assets" | "/assets/export/{format}" | "/api/v1/assets") => {
            AnywhereAny(&["assets.read", "assets.read_basic"])
        }
        (
            "GET",
            "/assets/{id}"
            | "/api/v1/assets/{id}"
            | "/api/v1/assets/{id}/relations"
            | "/assets/{id}/attachments/{attachment}",
        ) => OnTarget(&["assets.read"]),
        ("GET", "/assets/new") => Anywhere("assets.edit"),
        ("POST", "/assets" | "/api/v1/assets") => OnTarget(&["assets.edit"]),
        ("GET", "/assets/{id}/edit")
        | ("PUT", "/api/v1/assets/{id}")
        | (
            "POST",
            "/assets/{id}"
            | "/assets/{id}/dispose"
            | "/api/v1/assets/{id}/dispose"
            | "/assets/{id}/relations"
            | "/assets/{id}/relations/{relation}/delete"
            | "/assets/{id}/attachments",
        ) => OnTarget(&["assets.read", "assets.edit"]),
        (_, p) if p.starts_with("/admin/classification") => Anywhere("settings.manage"),
        ("POST", "/admin/import/apply") => OrgWide("people.manage"),
        ("GET", "/admin/audit" | "/admin/audit.csv") => Anywhere("audit.read"),
        // Training: the catalogue, materials and quizzes are for everyone; courses are the
        // organisation's; completions concern the person's unit.
        (
            "GET",
            "/training"
            | "/training/courses"
            | "/training/courses/{course}"
            | "/training/courses/{course}/materials/{material}"
            | "/training/courses/{course}/quiz"
            | "/api/v1/courses"
            | "/api/v1/courses/{code}",
        )
        | ("POST", "/training/courses/{course}/quiz") => LoggedIn,
        ("GET", "/training/courses/new" | "/training/courses/{course}/edit")
        | (
            "POST",
            "/training/courses"
            | "/api/v1/courses"
            | "/training/courses/{course}"
            | "/training/courses/{course}/questions"
            | "/training/courses/{course}/questions/{question}/delete"
            | "/training/courses/{course}/materials",
        ) => OrgWide("training.manage"),
        (
            "POST",
            "/training/courses/{course}/sessions"
            | "/training/sessions/{session}/attendees"
            | "/training/records"
            | "/api/v1/training-records",
        ) => OnTarget(&["training.manage"]),
        ("GET", "/training/records/new") => Anywhere("training.manage"),
        ("GET", "/training/report" | "/training/records.csv" | "/api/v1/training-records") => {
            AnywhereAny(&["training.manage", "people.read"])
        }
        // Policy documents: reading follows each document's visibility (the matrix's
        // documents are internal), drafting needs `policy.edit`, approving `policy.approve`.
        ("GET", "/public/policy") => Public,
        (
            "GET",
            "/policy"
            | "/policy/{code}"
            | "/policy/{code}/diff"
            | "/policy/{code}/versions/{number}"
            | "/policy/{code}/versions/{number}/print"
            | "/api/v1/documents"
            | "/api/v1/documents/{id}"
            | "/api/v1/documents/{id}/versions",
        )
        | ("POST", "/policy/{code}/versions/{number}/acknowledge" | "/api/v1/acknowledgements") => {
            LoggedIn
        }
        (
            "GET",
            "/policy/new"
            | "/policy/{code}/settings"
            | "/policy/{code}/versions/new"
            | "/policy/{code}/versions/{number}/edit",
        )
        | (
            "POST",
            "/policy"
            | "/policy/{code}/settings"
            | "/policy/{code}/review"
            | "/policy/{code}/versions"
            | "/policy/{code}/versions/{number}"
            | "/policy/{code}/versions/{number}/submit"
            | "/policy/{code}/acknowledgements/remind"
            | "/api/v1/documents"
            | "/api/v1/documents/{id}/versions",
        ) => Anywhere("policy.edit"),
        ("POST", "/policy/{code}/versions/{number}/approve") => Anywhere("policy.approve"),
        (
            "POST",
            "/policy/{code}/versions/{number}/return" | "/policy/{code}/versions/{number}/publish",
        ) => AnywhereAny(&["policy.edit", "policy.approve"]),
        (
            "GET",
            "/policy/acknowledgements"
            | "/policy/{code}/acknowledgements"
            | "/policy/{code}/acknowledgements.csv"
            | "/api/v1/acknowledgements",
        ) => AnywhereAny(&["policy.edit", "people.read"]),
        // Catalogue: the catalogues are for everyone and the organisation's to edit; statuses
        // are read with people.read, assets.read or controls.update on the unit, and set with
        // controls.update there.
        (
            "GET",
            "/threats"
            | "/threats.csv"
            | "/threats.xlsx"
            | "/controls"
            | "/controls.csv"
            | "/controls.xlsx"
            | "/controls/{control}"
            | "/api/v1/threats"
            | "/api/v1/controls",
        ) => LoggedIn,
        (
            "GET",
            "/threats/new"
            | "/threats/{threat}/edit"
            | "/controls/new"
            | "/controls/{control}/edit",
        )
        | ("POST", "/threats" | "/threats/{threat}" | "/controls" | "/controls/{control}") => {
            OrgWide("catalogue.manage")
        }
        (
            "GET",
            "/controls/unit/{unit}"
            | "/controls/{control}/units/{unit}"
            | "/controls/{control}/units/{unit}/evidence/{evidence}",
        ) => OnTargetAny(&["people.read", "assets.read", "controls.update"]),
        (
            "POST",
            "/controls/{control}/units/{unit}"
            | "/controls/{control}/units/{unit}/verify"
            | "/controls/{control}/units/{unit}/evidence",
        ) => OnTarget(&["controls.update"]),
        // Coverage: status readers in some scope; the counts are narrowed to their units.
        (
            "GET",
            "/coverage"
            | "/coverage/control-status.xlsx"
            | "/coverage/control-status.csv"
            | "/coverage/{anchor}"
            | "/api/v1/coverage",
        ) => AnywhereAny(&["people.read", "assets.read", "controls.update"]),
        // Risk register: read with assets.read or risks.edit on the risk's unit, changed with
        // risks.edit there; acceptances are decided by risk.accept (organisation-wide).
        (
            "GET",
            "/risks"
            | "/risks.csv"
            | "/risks.xlsx"
            | "/risks/heatmap"
            | "/api/v1/risks"
            | "/api/v1/risks/heatmap",
        ) => AnywhereAny(&["assets.read", "risks.edit"]),
        ("GET", "/risks/new") => Anywhere("risks.edit"),
        ("GET", "/risks/{risk}" | "/api/v1/risks/{risk}") => {
            OnTargetAny(&["assets.read", "risks.edit"])
        }
        ("GET", "/risks/{risk}/edit")
        | (
            "POST",
            "/risks"
            | "/risks/{risk}"
            | "/risks/{risk}/acceptance"
            | "/risks/{risk}/review"
            | "/api/v1/risks"
            | "/api/v1/risks/{risk}/acceptance"
            | "/api/v1/risks/{risk}/review"
            | "/api/v1/risks/{risk}/review-reasons",
        )
        | ("PUT", "/api/v1/risks/{risk}") => OnTarget(&["risks.edit"]),
        (
            "POST",
            "/risks/{risk}/acceptance/decision" | "/api/v1/risks/{risk}/acceptance/decision",
        ) => OrgWide("risk.accept"),
        _ => return None,
    })
}

#[derive(Debug, Clone, Copy, PartialEq)]
enum Scope {
    OwnUnit,
    Organisation,
}

#[derive(Debug, Clone, Copy, PartialEq)]
enum TargetSide {
    Own,
    Other,
}

/// Does the user (role in scope, plus the everyone role on their own unit) hold `perm` on the
/// target side?
fn holds(role: &str, scope: Scope, perm: &str, side: Option<TargetSide>) -> bool {
    let via_role = role_permissions(role).contains(&perm)
        && match scope {
            Scope::Organisation => true,
            Scope::OwnUnit => !ORG_WIDE.contains(&perm) && side != Some(TargetSide::Other),
        };
    let via_staff = role_permissions("staff").contains(&perm) && side != Some(TargetSide::Other);
    via_role || via_staff
}

fn expected(rule: Rule, role: &str, scope: Scope, side: TargetSide) -> bool {
    match rule {
        Rule::Public | Rule::LoggedIn => true,
        Rule::PendingMfaOnly => false,
        Rule::Anywhere(p) => holds(role, scope, p, None),
        Rule::OnTarget(perms) => perms.iter().all(|p| holds(role, scope, p, Some(side))),
        // Catalogue
        Rule::OnTargetAny(perms) => perms.iter().any(|p| holds(role, scope, p, Some(side))),
        Rule::OrgWide(p) => scope == Scope::Organisation && role_permissions(role).contains(&p),
        Rule::AnywhereAny(ps) | Rule::GateAny(ps) => ps.iter().any(|p| holds(role, scope, p, None)),
        Rule::AssignOnTarget => {
            (role == "admin" && scope == Scope::Organisation)
                || (holds(role, scope, "people.read", Some(side))
                    && holds(role, scope, "people.manage", Some(side))
                    && role_permissions("staff")
                        .iter()
                        .all(|p| holds(role, scope, p, Some(side))))
        }
    }
}

fn is_change(action: &str) -> bool {
    !(action.starts_with("access.")
        || action.starts_with("login.")
        || action.starts_with("reauth."))
}

#[tokio::test]
async fn every_route_for_every_role_on_own_and_other_units() {
    let app = TestApp::new().await;
    app.no_mfa_policy().await;
    let own_unit = app.add_unit("own-unit", "secretariat").await;
    let other_unit = app.add_unit("other-unit", "audit_office").await;
    let own_person = app.add_person("P-own", "own-unit").await;
    let other_person = app.add_person("P-other", "other-unit").await;
    for code in ["own-unit", "other-unit"] {
        policy_document(&app, code).await;
    }

    // Every route has an expectation here.
    for r in ROUTES {
        assert!(
            rule(r.method, r.path).is_some(),
            "route {} {} has no expectation in the matrix",
            r.method,
            r.path
        );
        if let Access::Public = r.access {
            assert!(
                matches!(rule(r.method, r.path), Some(Rule::Public)),
                "{} is public in code but not here",
                r.path
            );
        }
    }

    let mut roles: Vec<String> = app
        .store()
        .roles()
        .await
        .expect("roles")
        .into_iter()
        .map(|r| r.code)
        .collect();
    roles.push("none".into());
    let mut failures = Vec::new();
    let mut checked = 0;
    let mut counter = 0;
    for role in &roles {
        for scope in [Scope::OwnUnit, Scope::Organisation] {
            if role == "none" && scope == Scope::Organisation {
                continue;
            }
            let username = format!("{role}-{}", if scope == Scope::OwnUnit { "u" } else { "o" });
            let spec = match (role.as_str(), scope) {
                ("none", _) => None,
                (r, Scope::OwnUnit) => Some(format!("{r}@own-unit")),
                (r, Scope::Organisation) => Some(r.to_owned()),
            };
            let specs: Vec<&str> = spec.iter().map(String::as_str).collect();
            let user = app.add_user(&username, "own-unit", &specs).await;
            let (_, token) = app.token(&user, false).await;
            let auth = format!("Bearer {token}");
            let mut client = app.client();

            for route in ROUTES {
                let rule = rule(route.method, route.path).expect("checked above");
                for side in [TargetSide::Own, TargetSide::Other] {
                    counter += 1;
                    let (unit, person) = match side {
                        TargetSide::Own => (&own_unit, &own_person),
                        TargetSide::Other => (&other_unit, &other_person),
                    };
                    let mut path = route
                        .path
                        .replace("{file}", "app.css")
                        .replace("{assignment}", "0")
                        .replace("{code}", &unit.code)
                        .replace("{staff_id}", &person.staff_id);
                    path = path.replace("{format}", "csv");
                    let mut partner = None;
                    if route.path.contains("/assets/{id}") {
                        let a = app
                            .add_asset(&format!("資産{counter}"), "system", &unit.code, "3B")
                            .await;
                        path = path.replace("{id}", &a.id.to_string());
                        if route.path.contains("/relations") {
                            let p = app
                                .add_asset(
                                    &format!("相手{counter}"),
                                    "information",
                                    &unit.code,
                                    "3B",
                                )
                                .await;
                            if route.path.ends_with("/delete") {
                                let mut tx = app.store().begin(Actor::system()).await.expect("b");
                                let id = Store::add_relation(
                                    &mut tx,
                                    a.id,
                                    p.id,
                                    mamori_domain::assets::RelationKind::Holds,
                                )
                                .await
                                .expect("relate");
                                tx.commit().await.expect("c");
                                path = path.replace("{relation}", &id.to_string());
                            }
                            partner = Some(p);
                        }
                        if route.path.ends_with("{attachment}") {
                            let mut tx = app.store().begin(Actor::system()).await.expect("b");
                            let mut w = mamori_store::FileWriter::begin(&mut tx, 1024)
                                .await
                                .expect("f");
                            w.write(&mut tx, b"evidence").await.expect("w");
                            let (sha, size) = w.finish(&mut tx).await.expect("f");
                            let att = Store::attach_to_asset(
                                &mut tx,
                                a.id,
                                "evidence",
                                &sha,
                                size,
                                "e.txt",
                                "text/plain",
                            )
                            .await
                            .expect("attach");
                            tx.commit().await.expect("c");
                            path = path.replace("{attachment}", &att.id.to_string());
                        }
                    }
                    if route.path.contains("{number}") {
                        let number =
                            policy_version_for(&app, &unit.code, route.method, route.path).await;
                        path = path.replace("{number}", &number.to_string());
                    }
                    if route.path.starts_with("/api/v1/documents/{id}") {
                        path = path.replace("{id}", &unit.code);
                    }
                    if route.path == "/admin/accounts/issue" && route.method == "POST" {
                        app.add_person(&format!("ISS{counter}"), &unit.code).await;
                    }
                    if route.path == "/admin/classification/rules/{code}/delete" {
                        let mut tx = app.store().begin(Actor::system()).await.expect("b");
                        let code = format!("m{counter}");
                        Store::save_handling_rule(
                            &mut tx,
                            &mamori_domain::assets::handling::HandlingRule {
                                code: code.clone(),
                                label_ja: "規則".into(),
                                label_en: "rule".into(),
                                min_c: Some(2),
                                min_i: None,
                                min_a: None,
                            },
                        )
                        .await
                        .expect("rule");
                        tx.commit().await.expect("c");
                        path = format!("/admin/classification/rules/{code}/delete");
                    }
                    if path.starts_with("/admin/units/{id}") {
                        path = path.replace("{id}", &unit.id.to_string());
                    } else if path.starts_with("/admin/people/{id}") {
                        path = path.replace("{id}", &person.id.to_string());
                    } else {
                        path = path.replace("{id}", "0");
                    }
                    if path.ends_with("/delete") {
                        let mut tx = app.store().begin(Actor::system()).await.expect("b");
                        let id = Store::assign_role(
                            &mut tx,
                            RoleHolder::Person(person.id),
                            "staff",
                            Some(unit.id),
                        )
                        .await
                        .expect("a");
                        tx.commit().await.expect("c");
                        path = path.replace("/roles/0/", &format!("/roles/{id}/"));
                    }
                    // Training: a seeded course, and a question, material or session of it.
                    if route.path.contains("{course}")
                        || route.path.contains("{session}")
                        || route.path == "/api/v1/courses/{code}"
                    {
                        let course = app
                            .store()
                            .course_by_code("security-annual")
                            .await
                            .expect("c")
                            .expect("seeded");
                        path = path.replace("{course}", &course.code);
                        if route.path == "/api/v1/courses/{code}" {
                            path = format!("/api/v1/courses/{}", course.code);
                        }
                        let mut tx = app.store().begin(Actor::system()).await.expect("b");
                        if route.path.contains("{question}") {
                            let q = mamori_domain::training::Question {
                                text: "問".into(),
                                choices: vec!["a".into(), "b".into()],
                                correct: 0,
                            };
                            let id = Store::add_question(&mut tx, course.id, &q)
                                .await
                                .expect("q");
                            path = path.replace("{question}", &id.to_string());
                        }
                        if route.path.contains("{material}") {
                            let mut w = mamori_store::FileWriter::begin(&mut tx, 1024)
                                .await
                                .expect("f");
                            w.write(&mut tx, b"material").await.expect("w");
                            let (sha, size) = w.finish(&mut tx).await.expect("f");
                            let m = Store::add_material(
                                &mut tx,
                                course.id,
                                &sha,
                                size,
                                "m.txt",
                                "text/plain",
                            )
                            .await
                            .expect("m");
                            path = path.replace("{material}", &m.id.to_string());
                        }
                        if route.path.contains("{session}") {
                            let id = Store::create_training_session(
                                &mut tx,
                                course.id,
                                &mamori_store::TrainingSessionInput {
                                    held_on: time::macros::date!(2026 - 05 - 01),
                                    place: "会議室".into(),
                                    notes: String::new(),
                                    unit_id: Some(unit.id),
                                },
                            )
                            .await
                            .expect("s");
                            path = path.replace("{session}", &id.to_string());
                        }
                        if route.path.contains("{question}")
                            || route.path.contains("{material}")
                            || route.path.contains("{session}")
                        {
                            tx.commit().await.expect("c");
                        }
                    }
                    // Catalogue: a seeded threat and control, the target unit, and for verifying a
                    // status recorded by someone else; for downloads an evidence file.
                    if route.path.contains("{threat}")
                        || route.path.contains("{control}")
                        || route.path.contains("{unit}")
                    {
                        path = path
                            .replace("{threat}", "T1-01")
                            .replace("{control}", "M6-04")
                            .replace("{unit}", &unit.code);
                        let control = app
                            .store()
                            .control_by_code("M6-04")
                            .await
                            .expect("c")
                            .expect("seeded");
                        if route.path.ends_with("/verify") {
                            let mut tx = app.store().begin(Actor::system()).await.expect("b");
                            Store::set_control_status(
                                &mut tx,
                                control.id,
                                unit.id,
                                &mamori_store::StatusInput {
                                    status: mamori_domain::catalogue::ImplStatus::Implemented,
                                    note: format!("確認待ち{counter}"),
                                    links: vec![],
                                    review_on: None,
                                },
                            )
                            .await
                            .expect("status");
                            tx.commit().await.expect("c");
                        }
                        if route.path.ends_with("{evidence}") {
                            let mut tx = app.store().begin(Actor::system()).await.expect("b");
                            let mut w = mamori_store::FileWriter::begin(&mut tx, 1024)
                                .await
                                .expect("f");
                            w.write(&mut tx, b"evidence").await.expect("w");
                            let (sha, size) = w.finish(&mut tx).await.expect("f");
                            let e = Store::add_control_evidence(
                                &mut tx,
                                control.id,
                                unit.id,
                                (&sha, size),
                                "e.txt",
                                "text/plain",
                            )
                            .await
                            .expect("evidence");
                            tx.commit().await.expect("c");
                            path = path.replace("{evidence}", &e.id.to_string());
                        }
                    }
                    // Risk register: a fresh risk of the target unit for each request (a pending
                    // acceptance, requested by someone else, for the decisions).
                    if route.path.contains("{risk}") {
                        let code =
                            risk_for(&app, &unit.code, route.path.ends_with("/decision")).await;
                        path = path.replace("{risk}", &code);
                    }
                    // Coverage: a clause of the seeded basic policy.
                    path = path.replace("{anchor}", "6(4)");
                    // Training: a different past date for every completion, so each is a change.
                    let training_day = (time::macros::date!(2000 - 01 - 01)
                        + time::Duration::days(counter as i64))
                    .to_string();
                    let (head_before, _) = app.store().audit_head().await.expect("h");
                    let res = if route.method == "GET" {
                        client.get_with(&path, &[("authorization", &auth)]).await
                    } else if route.path.starts_with("/api/") {
                        let body = match route.path {
                            "/api/v1/units" => {
                                serde_json::json!({"code": format!("api-{counter}"), "name": "新", "parent": unit.code})
                            }
                            "/api/v1/people" => serde_json::json!({
                                "staff_id": format!("A{counter}"), "name": "新人", "unit": unit.code, "category": "regular"
                            }),
                            "/api/v1/assets" | "/api/v1/assets/{id}" => serde_json::json!({
                                "name": format!("API資産{counter}"), "asset_type": "system", "owner_unit": unit.code,
                                "confidentiality": "3B", "integrity": "1", "availability": "1"
                            }),
                            "/api/v1/assets/{id}/dispose" => serde_json::json!({
                                "disposed_on": "2026-11-26", "disposal_method": "破砕"
                            }),
                            "/api/v1/documents" => serde_json::json!({
                                "code": format!("api-doc-{counter}"), "layer": "standards",
                                "title": "対策基準", "visibility": "internal"
                            }),
                            "/api/v1/documents/{id}/versions" => {
                                serde_json::json!({"body": format!("## 1. 総則\n\n本文{counter}。\n")})
                            }
                            "/api/v1/acknowledgements" => {
                                serde_json::json!({"document": unit.code, "version": 1})
                            }
                            // Training
                            "/api/v1/courses" => serde_json::json!({
                                "code": format!("api-course-{counter}"), "title": "研修", "recurrence": "annual"
                            }),
                            "/api/v1/training-records" => serde_json::json!({
                                "staff_id": person.staff_id, "course": "security-annual", "completed_on": training_day
                            }),
                            // Risk register
                            "/api/v1/risks" | "/api/v1/risks/{risk}" => serde_json::json!({
                                "title": format!("API リスク{counter}"), "unit": unit.code, "threat": "T1-01",
                                "asset_group": "窓口端末一式", "likelihood": 1, "impact": 1
                            }),
                            "/api/v1/risks/{risk}/acceptance" => {
                                serde_json::json!({"note": "許容"})
                            }
                            "/api/v1/risks/{risk}/acceptance/decision" => {
                                serde_json::json!({"approve": true, "note": "承認"})
                            }
                            "/api/v1/risks/{risk}/review" => {
                                serde_json::json!({"next_review_on": "2099-01-01"})
                            }
                            "/api/v1/risks/{risk}/review-reasons" => serde_json::json!({
                                "kind": "incident", "reference": format!("INC-{counter}"), "reason": "感染"
                            }),
                            "/api/v1/people/{staff_id}" => serde_json::json!({
                                "staff_id": person.staff_id, "name": format!("改名{counter}"), "unit": person.unit, "category": "regular"
                            }),
                            _ => {
                                serde_json::json!({"code": unit.code, "name": format!("改{counter}"), "parent": unit.parent})
                            }
                        };
                        client
                            .send_json(route.method, &path, &body, &[("authorization", &auth)])
                            .await
                    } else if route.path == "/training/courses/{course}/materials" // Training
                        || route.path == "/controls/{control}/units/{unit}/evidence" // Catalogue
                        || route.path == "/assets/{id}/dispose"
                        || route.path == "/assets/{id}/attachments"
                    {
                        let (ct, body) = common::multipart(
                            &[("disposed_on", "2026-11-26"), ("disposal_method", "破砕")],
                            Some(("file", "e.txt", "text/plain", b"evidence")),
                        );
                        client
                            .post_raw_typed(&path, &ct, body, &[("authorization", &auth)])
                            .await
                    } else {
                        let fields: Vec<(&str, String)> = match route.path {
                            "/assets" | "/assets/{id}" => vec![
                                ("name", format!("資産改{counter}")),
                                ("asset_type", "system".into()),
                                ("owner_unit", unit.code.clone()),
                                ("confidentiality", "3B".into()),
                                ("integrity", "1".into()),
                                ("availability", "1".into()),
                            ],
                            "/assets/{id}/relations" => vec![
                                ("kind", "holds".into()),
                                ("direction", "from".into()),
                                (
                                    "other",
                                    partner
                                        .as_ref()
                                        .map(|p| p.id.to_string())
                                        .unwrap_or_default(),
                                ),
                            ],
                            "/admin/classification/levels" => vec![
                                ("axis", "c".into()),
                                ("code", "2".into()),
                                ("definition_ja", format!("定義{counter}")),
                                ("definition_en", "definition".into()),
                            ],
                            "/admin/classification/rules" => vec![
                                ("code", format!("r{counter}")),
                                ("label_ja", "規則".into()),
                                ("min_c", "2".into()),
                            ],
                            "/admin/accounts/issue" => vec![("unit", unit.code.clone())],
                            "/admin/people/{id}/transfer" => vec![("unit", person.unit.clone())],
                            "/admin/classification/switch" => vec![
                                ("target", "guideline-r6".into()),
                                ("action", "apply".into()),
                            ],
                            "/admin/units" => vec![
                                ("code", format!("new-{counter}")),
                                ("name", "新".into()),
                                ("parent", unit.code.clone()),
                                ("in_scope", "on".into()),
                            ],
                            "/admin/units/{id}" => vec![
                                ("code", unit.code.clone()),
                                ("name", format!("改{counter}")),
                                ("parent", unit.parent.clone().unwrap_or_default()),
                            ],
                            "/admin/people" => vec![
                                ("staff_id", format!("N{counter}")),
                                ("name", "新人".into()),
                                ("unit", unit.code.clone()),
                                ("category", "regular".into()),
                            ],
                            "/admin/people/{id}" => vec![
                                ("staff_id", person.staff_id.clone()),
                                ("name", format!("改名{counter}")),
                                ("unit", person.unit.clone()),
                                ("category", "regular".into()),
                            ],
                            "/admin/people/{id}/roles" => {
                                vec![("role", "staff".into()), ("scope", unit.code.clone())]
                            }
                            "/admin/import/apply" => {
                                use base64::Engine as _;
                                let csv = format!(
                                    "職員番号,氏名,所属,任用区分\nI{counter},取込,{},regular\n",
                                    unit.code
                                );
                                vec![
                                    ("kind", "people".into()),
                                    ("filename", "m.csv".into()),
                                    (
                                        "content",
                                        base64::engine::general_purpose::STANDARD.encode(csv),
                                    ),
                                ]
                            }
                            // Training
                            "/training/courses" | "/training/courses/{course}" => vec![
                                ("code", format!("t{counter}")),
                                ("title", format!("研修{counter}")),
                                ("recurrence", "annual".into()),
                                ("category", "regular".into()),
                                ("active", "on".into()),
                            ],
                            "/training/courses/{course}/questions" => vec![
                                ("text", format!("問{counter}")),
                                ("choices", "はい\nいいえ".into()),
                                ("correct", "1".into()),
                            ],
                            "/training/courses/{course}/sessions" => vec![
                                ("held_on", "2026-05-01".into()),
                                ("place", "会議室".into()),
                                ("unit", unit.code.clone()),
                            ],
                            "/training/sessions/{session}/attendees" => {
                                vec![("staff_ids", person.staff_id.clone())]
                            }
                            "/training/records" => vec![
                                ("staff_id", person.staff_id.clone()),
                                ("course", "security-annual".into()),
                                ("completed_on", training_day.clone()),
                            ],
                            // Catalogue
                            "/threats" | "/threats/{threat}" => vec![
                                ("code", format!("X{counter}")),
                                ("category", "T2".into()),
                                ("title", format!("脅威{counter}")),
                            ],
                            "/controls" | "/controls/{control}" => vec![
                                ("code", format!("C{counter}")),
                                ("area", "M6".into()),
                                ("title", format!("管理策{counter}")),
                                ("clauses", "6(6)".into()),
                                ("owner_role", "system_manager".into()),
                            ],
                            "/controls/{control}/units/{unit}" => vec![
                                ("status", "partial".into()),
                                ("note", format!("メモ{counter}")),
                            ],
                            // Risk register
                            "/risks" | "/risks/{risk}" => vec![
                                ("title", format!("リスク{counter}")),
                                ("unit", unit.code.clone()),
                                ("threat", "T1-01".into()),
                                ("asset_group", "窓口端末一式".into()),
                                ("likelihood", "1".into()),
                                ("impact", "1".into()),
                                ("action", "save".into()),
                            ],
                            "/risks/{risk}/acceptance" => vec![("note", "許容".into())],
                            "/risks/{risk}/acceptance/decision" => {
                                vec![("decision", "approve".into()), ("note", "承認".into())]
                            }
                            "/risks/{risk}/review" => {
                                vec![("next_review_on", "2099-01-01".into())]
                            }
                            "/admin/settings" => vec![
                                ("name", "桑名・員弁広域連合".into()),
                                ("date_style", "wareki".into()),
                                ("time_zone", "Asia/Tokyo".into()),
                                ("session_idle_minutes", "30".into()),
                                ("session_absolute_hours", "12".into()),
                            ],
                            "/login" => {
                                vec![("username", "nobody".into()), ("password", "x".into())]
                            }
                            "/policy" => vec![
                                ("code", format!("doc-{counter}")),
                                ("layer", "standards".into()),
                                ("title", "対策基準".into()),
                                ("visibility", "internal".into()),
                                ("review_interval_months", "12".into()),
                            ],
                            "/policy/{code}/settings" => vec![
                                ("layer", "standards".into()),
                                ("title", format!("改{counter}")),
                                ("visibility", "internal".into()),
                                ("review_interval_months", "12".into()),
                            ],
                            "/policy/{code}/review" | "/policy/{code}/versions/{number}/return" => {
                                vec![("reason", format!("理由{counter}"))]
                            }
                            "/policy/{code}/versions" | "/policy/{code}/versions/{number}" => {
                                vec![("body", format!("## 1. 総則\n\n本文{counter}。\n"))]
                            }
                            "/policy/{code}/acknowledgements/remind" => {
                                vec![("message", format!("督促{counter}"))]
                            }
                            _ => vec![],
                        };
                        let body = serde_urlencoded::to_string(&fields).expect("form");
                        client
                            .post_raw(&path, body.into_bytes(), &[("authorization", &auth)])
                            .await
                    };
                    checked += 1;
                    let want = expected(rule, role, scope, side);
                    if res.status == StatusCode::INTERNAL_SERVER_ERROR {
                        failures.push(format!(
                            "{username} {} {path}: 500 {}",
                            route.method,
                            res.body.chars().take(200).collect::<String>()
                        ));
                        continue;
                    }
                    let got = match (route.method, rule) {
                        // A public route may still answer 401 to bad credentials (POST /login).
                        (_, Rule::Public) => res.status != StatusCode::FORBIDDEN,
                        (_, Rule::LoggedIn) => {
                            res.status != StatusCode::FORBIDDEN
                                && res.status != StatusCode::UNAUTHORIZED
                        }
                        (_, Rule::GateAny(_)) => {
                            res.status != StatusCode::FORBIDDEN
                                && res.status != StatusCode::UNAUTHORIZED
                        }
                        (_, Rule::PendingMfaOnly) => {
                            !(res.status == StatusCode::SEE_OTHER && res.location() == Some("/"))
                        }
                        ("GET", _) => res.status.is_success(),
                        _ => {
                            let (entries, _) = app
                                .store()
                                .audit_page(
                                    &AuditFilter {
                                        actor: Some(username.clone()),
                                        ..Default::default()
                                    },
                                    20,
                                    0,
                                )
                                .await
                                .expect("audit");
                            entries
                                .iter()
                                .any(|e| e.seq > head_before && is_change(&e.record.action))
                        }
                    };
                    if got != want {
                        failures.push(format!(
                            "{username} {} {path} ({side:?}): expected {}, got {} ({} {})",
                            route.method,
                            if want { "allowed" } else { "denied" },
                            if got { "allowed" } else { "denied" },
                            res.status,
                            res.body.chars().take(160).collect::<String>()
                        ));
                    }
                }
            }
        }
    }
    assert!(checked > 1000, "the matrix covered {checked} requests");
    assert!(
        failures.is_empty(),
        "{} mismatches:\n{}",
        failures.len(),
        failures.join("\n")
    );
    // Refusals are security events in the trail.
    let (denied, _) = app
        .store()
        .audit_page(
            &AuditFilter {
                action_prefix: Some("access.denied".into()),
                ..Default::default()
            },
            5,
            0,
        )
        .await
        .expect("a");
    assert!(!denied.is_empty());
    app.close().await;
}

/// An internal document named `code` with a published 初版, as the matrix's target.
async fn policy_document(app: &TestApp, code: &str) {
    let mut tx = app.store().begin(Actor::system()).await.expect("b");
    let id = Store::create_document(
        &mut tx,
        &mamori_store::DocumentInput {
            code: code.into(),
            layer: "standards".into(),
            title: format!("文書 {code}"),
            visibility: "internal".into(),
            restricted_roles: vec![],
            asset_id: None,
            requires_ack: true,
            review_interval_months: 12,
        },
    )
    .await
    .expect("document");
    Store::add_version(
        &mut tx,
        id,
        &mamori_store::NewVersion {
            body: "## 1. 総則\n\n本文。\n",
            clauses: &[],
            change_summary: "",
            created_on: "2026-04-01",
            author_user_id: None,
            historic: Some(mamori_store::HistoricFacts {
                edition: "初版",
                author: "作成者",
                approval: "令和8年4月1日",
                approved_on: Some("2026-04-01"),
                in_force: true,
            }),
        },
    )
    .await
    .expect("version");
    tx.commit().await.expect("c");
}

/// The version number a route about one version acts on: a fresh version in the state the
/// route needs (a draft to edit or submit, one in review to approve or send back, an approved
/// one to publish), or the published 初版 for reading and acknowledging.
async fn policy_version_for(app: &TestApp, code: &str, method: &str, path: &str) -> i64 {
    use mamori_domain::policy::lifecycle::VersionState;
    let target = if path.ends_with("/return") || path.ends_with("/approve") {
        VersionState::InReview
    } else if path.ends_with("/publish") {
        VersionState::Approved
    } else if path.ends_with("/submit")
        || path.ends_with("/edit")
        || (method == "POST" && path.ends_with("{number}"))
    {
        VersionState::Draft
    } else {
        return 1;
    };
    let doc = app
        .store()
        .document_by_code(code)
        .await
        .expect("q")
        .expect("document");
    let mut tx = app.store().begin(Actor::system()).await.expect("b");
    let id = Store::add_version(
        &mut tx,
        doc.id,
        &mamori_store::NewVersion {
            body: "## 1. 総則\n\n改定案。\n",
            clauses: &[],
            change_summary: "",
            created_on: "2026-11-26",
            author_user_id: None,
            historic: None,
        },
    )
    .await
    .expect("draft");
    tx.commit().await.expect("c");
    let mut steps = Vec::new();
    if target != VersionState::Draft {
        steps.push(VersionState::InReview);
    }
    if target == VersionState::Approved {
        steps.push(VersionState::Approved);
    }
    for to in steps {
        let v = app
            .store()
            .version_by_id(id)
            .await
            .expect("q")
            .expect("version");
        let mut tx = app.store().begin(Actor::system()).await.expect("b");
        Store::move_version(&mut tx, &v, to, None, "2026-11-26", "")
            .await
            .expect("move");
        tx.commit().await.expect("c");
    }
    app.store()
        .version_by_id(id)
        .await
        .expect("q")
        .expect("version")
        .number
}

/// Risk register: a new open risk of `unit` rated 3×3 (high), recorded by the system; with
/// `pending`, its acceptance requested by the system too (for the CISO's decision).
async fn risk_for(app: &TestApp, unit: &str, pending: bool) -> String {
    let rules = mamori_store::RiskRules {
        scale: mamori_domain::risk::RiskScale::ThreeByThree,
        threshold: mamori_domain::risk::RiskLevel::Medium,
        today: time::macros::date!(2026 - 12 - 03),
    };
    let draft = mamori_domain::risk::register::RiskDraft {
        title: "マトリクスのリスク".into(),
        unit: unit.into(),
        threat: "T1-01".into(),
        asset_group: "窓口端末一式".into(),
        likelihood: 3,
        impact: 3,
        ..Default::default()
    };
    let mut tx = app.store().begin(Actor::system()).await.expect("b");
    let risk = Store::create_risk(&mut tx, &draft, &rules)
        .await
        .expect("db")
        .expect("risk");
    if pending {
        Store::request_risk_acceptance(&mut tx, &risk.code, "許容", &rules)
            .await
            .expect("db")
            .expect("requested");
    }
    tx.commit().await.expect("c");
    risk.code
}
