//! Every route, with its authorization decision, in one table — and the middleware that
//! enforces it.
//!
//! A route that is not in [`ROUTES`] is refused (500) even if a handler exists, and the
//! authorization-matrix test enumerates [`ROUTES`], so a new route cannot ship without a
//! decision. Decisions here are coarse (may this principal use the permission anywhere?);
//! handlers refine them per unit through [`crate::session::Principal::require`].

use crate::error::AppError;
use crate::net::ClientIp;
use crate::pages;
use crate::session::{Gate, Principal};
use crate::{api, AppState};
use axum::extract::{DefaultBodyLimit, MatchedPath, Request, State};
use axum::http::{header, HeaderValue, Method};
use axum::middleware::{self, Next};
use axum::response::{IntoResponse, Redirect, Response};
use axum::routing::{get, post};
use axum::Router;
use mamori_domain::authz::Target;
use mamori_domain::permission::Permission;
use mamori_domain::settings::OrgSettings;
use std::sync::Arc;

/// Who may use a route.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Access {
    /// Anyone, logged in or not.
    Public,
    /// A browser session whose second factor is pending.
    PendingMfa,
    /// Any logged-in account, even before it has changed its one-time password or enrolled
    /// MFA (the pages that let it do so, and logout).
    Setup,
    /// Any logged-in account that has passed its gates.
    LoggedIn,
    /// An account holding the permission in some scope.
    Permission(Permission),
    /// An account holding any of the permissions in some scope (the asset register, which
    /// everyone may read in part).
    AnyOf(&'static [Permission]),
}

/// One route and its decision.
#[derive(Debug, Clone, Copy)]
pub struct RouteSpec {
    /// HTTP method.
    pub method: &'static str,
    /// Path pattern as registered with axum.
    pub path: &'static str,
    /// The decision.
    pub access: Access,
}

const fn r(method: &'static str, path: &'static str, access: Access) -> RouteSpec {
    RouteSpec {
        method,
        path,
        access,
    }
}

use Access::{LoggedIn, PendingMfa, Public, Setup};
use Permission as P;

/// Reading the asset register, fully or in part.
const ASSET_READERS: Access = Access::AnyOf(&[P::AssetsRead, P::AssetsReadBasic]);
const ASSET_EDITORS: Access = Access::Permission(P::AssetsEdit);
/// Importing files (the kind decides the permission, checked by the handler).
const IMPORTERS: Access = Access::AnyOf(&[
    P::UnitsManage,
    P::PeopleManage,
    P::AssetsEdit,
    // Training
    P::TrainingManage,
    // Risk register
    P::RisksEdit,
    // Catalogue
    P::CatalogueManage,
    // Coverage
    P::ControlsUpdate,
]);
// Catalogue: the catalogues are the organisation's; statuses concern units.
const CATALOGUE_MANAGERS: Access = Access::Permission(P::CatalogueManage);
const STATUS_READERS: Access = Access::AnyOf(&[P::PeopleRead, P::AssetsRead, P::ControlsUpdate]);
const STATUS_UPDATERS: Access = Access::Permission(P::ControlsUpdate);
// Training: completion records and the report, for people in units where the reader holds
// either permission.
const TRAINING_READERS: Access = Access::AnyOf(&[P::TrainingManage, P::PeopleRead]);
const TRAINING_MANAGERS: Access = Access::Permission(P::TrainingManage);

// Risk register: readers of a unit's assets, and those who record its risks; the CISO decides
// acceptances. Handlers narrow every decision to the risk's unit.
const RISK_READERS: Access = Access::AnyOf(&[P::AssetsRead, P::RisksEdit]);
const RISK_EDITORS: Access = Access::Permission(P::RisksEdit);
const RISK_APPROVERS: Access = Access::Permission(P::RiskAccept);

/// Drafting, submitting and publishing policy documents.
const POLICY_EDITORS: Access = Access::Permission(P::PolicyEdit);
/// Those who take part in a version's review (editors, and the approver who sends it back).
const POLICY_STAFF: Access = Access::AnyOf(&[P::PolicyEdit, P::PolicyApprove]);
/// Following up acknowledgement: policy editors, and managers for the people they read.
const ACK_FOLLOWERS: Access = Access::AnyOf(&[P::PolicyEdit, P::PeopleRead]);

/// The table.
pub const ROUTES: &[RouteSpec] = &[
    r("GET", "/healthz", Public),
    // Risk register
    r("GET", "/risks", RISK_READERS),
    r("GET", "/risks.csv", RISK_READERS),
    r("GET", "/risks.xlsx", RISK_READERS),
    r("GET", "/risks/heatmap", RISK_READERS),
    r("GET", "/risks/new", RISK_EDITORS),
    r("POST", "/risks", RISK_EDITORS),
    r("GET", "/risks/{risk}", RISK_READERS),
    r("GET", "/risks/{risk}/edit", RISK_EDITORS),
    r("POST", "/risks/{risk}", RISK_EDITORS),
    r("POST", "/risks/{risk}/acceptance", RISK_EDITORS),
    r("POST", "/risks/{risk}/acceptance/decision", RISK_APPROVERS),
    r("POST", "/risks/{risk}/review", RISK_EDITORS),
    r("GET", "/api/v1/risks", RISK_READERS),
    r("POST", "/api/v1/risks", RISK_EDITORS),
    r("GET", "/api/v1/risks/heatmap", RISK_READERS),
    r("GET", "/api/v1/risks/{risk}", RISK_READERS),
    r("PUT", "/api/v1/risks/{risk}", RISK_EDITORS),
    r("POST", "/api/v1/risks/{risk}/acceptance", RISK_EDITORS),
    r(
        "POST",
        "/api/v1/risks/{risk}/acceptance/decision",
        RISK_APPROVERS,
    ),
    r("POST", "/api/v1/risks/{risk}/review", RISK_EDITORS),
    r("POST", "/api/v1/risks/{risk}/review-reasons", RISK_EDITORS),
    r("GET", "/static/{file}", Public),
    r("GET", "/login", Public),
    r("POST", "/login", Public),
    r("GET", "/api/v1/openapi.json", Public),
    r("GET", "/login/mfa", PendingMfa),
    r("POST", "/login/mfa", PendingMfa),
    r("POST", "/logout", Setup),
    r("GET", "/account/password", Setup),
    r("POST", "/account/password", Setup),
    r("GET", "/account/mfa", Setup),
    r("POST", "/account/mfa/setup", Setup),
    r("POST", "/account/mfa/confirm", Setup),
    r("POST", "/account/mfa/disable", Setup),
    r("POST", "/account/mfa/recovery", Setup),
    r("POST", "/account/language", Setup),
    r("GET", "/", LoggedIn),
    r("GET", "/account/sessions", LoggedIn),
    r("POST", "/account/sessions/{id}/revoke", LoggedIn),
    r("GET", "/account/tokens", LoggedIn),
    r("POST", "/account/tokens", LoggedIn),
    r("POST", "/account/tokens/{id}/revoke", LoggedIn),
    r("GET", "/admin/units", Access::Permission(P::UnitsRead)),
    r("GET", "/admin/units.csv", Access::Permission(P::UnitsRead)),
    r(
        "GET",
        "/admin/units/new",
        Access::Permission(P::UnitsManage),
    ),
    r("POST", "/admin/units", Access::Permission(P::UnitsManage)),
    r("GET", "/admin/units/{id}", Access::Permission(P::UnitsRead)),
    r(
        "POST",
        "/admin/units/{id}",
        Access::Permission(P::UnitsManage),
    ),
    r("GET", "/admin/people", Access::Permission(P::PeopleRead)),
    r(
        "GET",
        "/admin/people.csv",
        Access::Permission(P::PeopleRead),
    ),
    r(
        "GET",
        "/admin/people/new",
        Access::Permission(P::PeopleManage),
    ),
    r("POST", "/admin/people", Access::Permission(P::PeopleManage)),
    r(
        "GET",
        "/admin/people/leavers",
        Access::Permission(P::PeopleRead),
    ),
    r(
        "GET",
        "/admin/people/{id}/transfer",
        Access::Permission(P::PeopleManage),
    ),
    r(
        "POST",
        "/admin/people/{id}/transfer",
        Access::Permission(P::PeopleManage),
    ),
    r(
        "GET",
        "/admin/accounts/issue",
        Access::Permission(P::AccountsManage),
    ),
    r(
        "POST",
        "/admin/accounts/issue",
        Access::Permission(P::AccountsManage),
    ),
    r(
        "GET",
        "/admin/people/{id}",
        Access::Permission(P::PeopleRead),
    ),
    r(
        "POST",
        "/admin/people/{id}",
        Access::Permission(P::PeopleManage),
    ),
    r(
        "POST",
        "/admin/people/{id}/roles",
        Access::Permission(P::PeopleManage),
    ),
    r(
        "POST",
        "/admin/people/{id}/roles/{assignment}/delete",
        Access::Permission(P::PeopleManage),
    ),
    r(
        "GET",
        "/admin/settings",
        Access::Permission(P::SettingsManage),
    ),
    r(
        "POST",
        "/admin/settings",
        Access::Permission(P::SettingsManage),
    ),
    r("GET", "/admin/import", IMPORTERS),
    r("POST", "/admin/import/preview", IMPORTERS),
    r("POST", "/admin/import/apply", IMPORTERS),
    // Training
    r("GET", "/training", LoggedIn),
    r("GET", "/training/courses", LoggedIn),
    r("GET", "/training/courses/new", TRAINING_MANAGERS),
    r("POST", "/training/courses", TRAINING_MANAGERS),
    r("GET", "/training/courses/{course}", LoggedIn),
    r("POST", "/training/courses/{course}", TRAINING_MANAGERS),
    r("GET", "/training/courses/{course}/edit", TRAINING_MANAGERS),
    r(
        "POST",
        "/training/courses/{course}/questions",
        TRAINING_MANAGERS,
    ),
    r(
        "POST",
        "/training/courses/{course}/questions/{question}/delete",
        TRAINING_MANAGERS,
    ),
    r(
        "POST",
        "/training/courses/{course}/materials",
        TRAINING_MANAGERS,
    ),
    r(
        "GET",
        "/training/courses/{course}/materials/{material}",
        LoggedIn,
    ),
    r(
        "POST",
        "/training/courses/{course}/sessions",
        TRAINING_MANAGERS,
    ),
    r(
        "POST",
        "/training/sessions/{session}/attendees",
        TRAINING_MANAGERS,
    ),
    r("GET", "/training/courses/{course}/quiz", LoggedIn),
    r("POST", "/training/courses/{course}/quiz", LoggedIn),
    r("GET", "/training/records/new", TRAINING_MANAGERS),
    r("POST", "/training/records", TRAINING_MANAGERS),
    r("GET", "/training/records.csv", TRAINING_READERS),
    r("GET", "/training/report", TRAINING_READERS),
    r("GET", "/api/v1/courses", LoggedIn),
    r("POST", "/api/v1/courses", TRAINING_MANAGERS),
    r("GET", "/api/v1/courses/{code}", LoggedIn),
    r("GET", "/api/v1/training-records", TRAINING_READERS),
    r("POST", "/api/v1/training-records", TRAINING_MANAGERS),
    // Catalogue
    r("GET", "/threats", LoggedIn),
    r("GET", "/threats.csv", LoggedIn),
    r("GET", "/threats.xlsx", LoggedIn),
    r("GET", "/controls.csv", LoggedIn),
    r("GET", "/controls.xlsx", LoggedIn),
    r("GET", "/threats/new", CATALOGUE_MANAGERS),
    r("POST", "/threats", CATALOGUE_MANAGERS),
    r("GET", "/threats/{threat}/edit", CATALOGUE_MANAGERS),
    r("POST", "/threats/{threat}", CATALOGUE_MANAGERS),
    r("GET", "/controls", LoggedIn),
    r("GET", "/controls/new", CATALOGUE_MANAGERS),
    r("POST", "/controls", CATALOGUE_MANAGERS),
    r("GET", "/controls/{control}", LoggedIn),
    r("GET", "/controls/{control}/edit", CATALOGUE_MANAGERS),
    r("POST", "/controls/{control}", CATALOGUE_MANAGERS),
    r("GET", "/controls/unit/{unit}", STATUS_READERS),
    r("GET", "/controls/{control}/units/{unit}", STATUS_READERS),
    r("POST", "/controls/{control}/units/{unit}", STATUS_UPDATERS),
    r(
        "POST",
        "/controls/{control}/units/{unit}/verify",
        STATUS_UPDATERS,
    ),
    r(
        "POST",
        "/controls/{control}/units/{unit}/evidence",
        STATUS_UPDATERS,
    ),
    r(
        "GET",
        "/controls/{control}/units/{unit}/evidence/{evidence}",
        STATUS_READERS,
    ),
    r("GET", "/api/v1/threats", LoggedIn),
    r("GET", "/api/v1/controls", LoggedIn),
    // Coverage: for status readers; counts are narrowed per unit by the handlers.
    r("GET", "/coverage", STATUS_READERS),
    r("GET", "/coverage/control-status.xlsx", STATUS_READERS),
    r("GET", "/coverage/control-status.csv", STATUS_READERS),
    r("GET", "/coverage/{anchor}", STATUS_READERS),
    r("GET", "/api/v1/coverage", STATUS_READERS),
    r("GET", "/admin/audit", Access::Permission(P::AuditRead)),
    r("GET", "/admin/audit.csv", Access::Permission(P::AuditRead)),
    r("GET", "/assets", ASSET_READERS),
    r("GET", "/assets/export/{format}", ASSET_READERS),
    r("GET", "/assets/new", ASSET_EDITORS),
    r("POST", "/assets", ASSET_EDITORS),
    r("GET", "/assets/{id}", ASSET_READERS),
    r("POST", "/assets/{id}", ASSET_EDITORS),
    r("GET", "/assets/{id}/edit", ASSET_EDITORS),
    r("POST", "/assets/{id}/dispose", ASSET_EDITORS),
    r("POST", "/assets/{id}/relations", ASSET_EDITORS),
    r(
        "POST",
        "/assets/{id}/relations/{relation}/delete",
        ASSET_EDITORS,
    ),
    r("POST", "/assets/{id}/attachments", ASSET_EDITORS),
    r(
        "GET",
        "/assets/{id}/attachments/{attachment}",
        ASSET_READERS,
    ),
    r(
        "GET",
        "/admin/classification",
        Access::Permission(P::SettingsManage),
    ),
    r(
        "POST",
        "/admin/classification/levels",
        Access::Permission(P::SettingsManage),
    ),
    r(
        "POST",
        "/admin/classification/rules",
        Access::Permission(P::SettingsManage),
    ),
    r(
        "POST",
        "/admin/classification/rules/{code}/delete",
        Access::Permission(P::SettingsManage),
    ),
    r(
        "POST",
        "/admin/classification/switch",
        Access::Permission(P::SettingsManage),
    ),
    r("GET", "/api/v1/assets", ASSET_READERS),
    r("POST", "/api/v1/assets", ASSET_EDITORS),
    r("GET", "/api/v1/assets/{id}", ASSET_READERS),
    r("PUT", "/api/v1/assets/{id}", ASSET_EDITORS),
    r("POST", "/api/v1/assets/{id}/dispose", ASSET_EDITORS),
    r("GET", "/api/v1/assets/{id}/relations", ASSET_READERS),
    r("GET", "/api/v1/units", Access::Permission(P::UnitsRead)),
    r("POST", "/api/v1/units", Access::Permission(P::UnitsManage)),
    r(
        "GET",
        "/api/v1/units/{code}",
        Access::Permission(P::UnitsRead),
    ),
    r(
        "PUT",
        "/api/v1/units/{code}",
        Access::Permission(P::UnitsManage),
    ),
    r("GET", "/api/v1/people", Access::Permission(P::PeopleRead)),
    r(
        "POST",
        "/api/v1/people",
        Access::Permission(P::PeopleManage),
    ),
    r(
        "GET",
        "/api/v1/people/{staff_id}",
        Access::Permission(P::PeopleRead),
    ),
    r(
        "PUT",
        "/api/v1/people/{staff_id}",
        Access::Permission(P::PeopleManage),
    ),
    // Policy documents and acknowledgement (issue 4). Reading is decided per document by
    // its visibility (`pages::policy::may_read`), so these are open to every logged-in person.
    r("GET", "/public/policy", Public),
    r("GET", "/policy", LoggedIn),
    r("GET", "/policy/new", POLICY_EDITORS),
    r("POST", "/policy", POLICY_EDITORS),
    r("GET", "/policy/acknowledgements", ACK_FOLLOWERS),
    r("GET", "/policy/{code}", LoggedIn),
    r("GET", "/policy/{code}/settings", POLICY_EDITORS),
    r("POST", "/policy/{code}/settings", POLICY_EDITORS),
    r("POST", "/policy/{code}/review", POLICY_EDITORS),
    r("GET", "/policy/{code}/diff", LoggedIn),
    r("GET", "/policy/{code}/versions/new", POLICY_EDITORS),
    r("POST", "/policy/{code}/versions", POLICY_EDITORS),
    r("GET", "/policy/{code}/versions/{number}", LoggedIn),
    r("POST", "/policy/{code}/versions/{number}", POLICY_EDITORS),
    r(
        "GET",
        "/policy/{code}/versions/{number}/edit",
        POLICY_EDITORS,
    ),
    r("GET", "/policy/{code}/versions/{number}/print", LoggedIn),
    r(
        "POST",
        "/policy/{code}/versions/{number}/submit",
        POLICY_EDITORS,
    ),
    r(
        "POST",
        "/policy/{code}/versions/{number}/return",
        POLICY_STAFF,
    ),
    r(
        "POST",
        "/policy/{code}/versions/{number}/approve",
        Access::Permission(P::PolicyApprove),
    ),
    r(
        "POST",
        "/policy/{code}/versions/{number}/publish",
        POLICY_STAFF,
    ),
    r(
        "POST",
        "/policy/{code}/versions/{number}/acknowledge",
        LoggedIn,
    ),
    r("GET", "/policy/{code}/acknowledgements", ACK_FOLLOWERS),
    r("GET", "/policy/{code}/acknowledgements.csv", ACK_FOLLOWERS),
    r(
        "POST",
        "/policy/{code}/acknowledgements/remind",
        POLICY_EDITORS,
    ),
    r("GET", "/api/v1/documents", LoggedIn),
    r("POST", "/api/v1/documents", POLICY_EDITORS),
    r("GET", "/api/v1/documents/{id}", LoggedIn),
    r("GET", "/api/v1/documents/{id}/versions", LoggedIn),
    r("POST", "/api/v1/documents/{id}/versions", POLICY_EDITORS),
    r("GET", "/api/v1/acknowledgements", ACK_FOLLOWERS),
    r("POST", "/api/v1/acknowledgements", LoggedIn),
];

/// The decision for a method and matched path, if the route is known.
pub fn access_for(method: &Method, path: &str) -> Option<Access> {
    let method = if method == Method::HEAD {
        "GET"
    } else {
        method.as_str()
    };
    ROUTES
        .iter()
        .find(|r| r.method == method && r.path == path)
        .map(|r| r.access)
}

/// Builds the router with every layer.
pub fn router(state: AppState) -> Router {
    let max_body = state.config.max_body_bytes;
    // Uploads stream into the database; the body may be as large as the file limit plus the
    // form's other fields.
    let upload_body_limit = usize::try_from(state.config.max_upload_bytes)
        .unwrap_or(usize::MAX)
        .saturating_add(64 * 1024);
    Router::new()
        .route("/healthz", get(pages::health))
        // Risk register
        .route("/risks", get(pages::risks::list).post(pages::risks::create))
        .route("/risks.csv", get(pages::risks::list_csv))
        .route("/risks.xlsx", get(pages::risks::list_xlsx))
        .route("/risks/heatmap", get(pages::risks::heat_map))
        .route("/risks/new", get(pages::risks::new_form))
        .route(
            "/risks/{risk}",
            get(pages::risks::show).post(pages::risks::update),
        )
        .route("/risks/{risk}/edit", get(pages::risks::edit_form))
        .route(
            "/risks/{risk}/acceptance",
            post(pages::risks::request_acceptance),
        )
        .route(
            "/risks/{risk}/acceptance/decision",
            post(pages::risks::decide_acceptance),
        )
        .route("/risks/{risk}/review", post(pages::risks::review))
        .route(
            "/api/v1/risks",
            get(crate::api_risks::list).post(crate::api_risks::create),
        )
        .route("/api/v1/risks/heatmap", get(crate::api_risks::heat_map))
        .route(
            "/api/v1/risks/{risk}",
            get(crate::api_risks::get).put(crate::api_risks::update),
        )
        .route(
            "/api/v1/risks/{risk}/acceptance",
            post(crate::api_risks::request_acceptance),
        )
        .route(
            "/api/v1/risks/{risk}/acceptance/decision",
            post(crate::api_risks::decide_acceptance),
        )
        .route(
            "/api/v1/risks/{risk}/review",
            post(crate::api_risks::review),
        )
        .route(
            "/api/v1/risks/{risk}/review-reasons",
            post(crate::api_risks::raise_review),
        )
        .route("/static/{file}", get(pages::static_file))
        .route("/login", get(pages::login::form).post(pages::login::submit))
        .route(
            "/login/mfa",
            get(pages::login::mfa_form).post(pages::login::mfa_submit),
        )
        .route("/logout", post(pages::login::logout))
        .route("/", get(pages::home))
        .route(
            "/account/password",
            get(pages::account::password_form).post(pages::account::password_submit),
        )
        .route("/account/mfa", get(pages::account::mfa_page))
        .route("/account/mfa/setup", post(pages::account::mfa_setup))
        .route("/account/mfa/confirm", post(pages::account::mfa_confirm))
        .route("/account/mfa/disable", post(pages::account::mfa_disable))
        .route("/account/mfa/recovery", post(pages::account::mfa_recovery))
        .route("/account/language", post(pages::account::language))
        .route("/account/sessions", get(pages::account::sessions))
        .route(
            "/account/sessions/{id}/revoke",
            post(pages::account::revoke_session),
        )
        .route(
            "/account/tokens",
            get(pages::account::tokens).post(pages::account::create_token),
        )
        .route(
            "/account/tokens/{id}/revoke",
            post(pages::account::revoke_token),
        )
        .route(
            "/admin/units",
            get(pages::units::list).post(pages::units::create),
        )
        .route("/admin/units.csv", get(pages::units::export_csv))
        .route("/admin/units/new", get(pages::units::new_form))
        .route(
            "/admin/units/{id}",
            get(pages::units::edit_form).post(pages::units::update),
        )
        .route(
            "/admin/people",
            get(pages::people::list).post(pages::people::create),
        )
        .route("/admin/people.csv", get(pages::people::export_csv))
        .route("/admin/people/new", get(pages::people::new_form))
        .route(
            "/admin/people/{id}",
            get(pages::people::edit_form).post(pages::people::update),
        )
        .route("/admin/people/leavers", get(pages::transfer::leavers))
        .route(
            "/admin/people/{id}/transfer",
            get(pages::transfer::form).post(pages::transfer::submit),
        )
        .route(
            "/admin/accounts/issue",
            get(pages::accounts::form).post(pages::accounts::submit),
        )
        .route("/admin/people/{id}/roles", post(pages::people::add_role))
        .route(
            "/admin/people/{id}/roles/{assignment}/delete",
            post(pages::people::remove_role),
        )
        .route(
            "/admin/settings",
            get(pages::settings::form).post(pages::settings::submit),
        )
        .route("/admin/import", get(pages::import::form))
        .route("/admin/import/preview", post(pages::import::preview))
        .route("/admin/import/apply", post(pages::import::apply))
        // Training
        .route("/training", get(pages::training::my_training))
        .route(
            "/training/courses",
            get(pages::training::courses).post(pages::training::create),
        )
        .route("/training/courses/new", get(pages::training::new_form))
        .route(
            "/training/courses/{course}",
            get(pages::training::show).post(pages::training::update),
        )
        .route(
            "/training/courses/{course}/edit",
            get(pages::training::edit_form),
        )
        .route(
            "/training/courses/{course}/questions",
            post(pages::training::add_question),
        )
        .route(
            "/training/courses/{course}/questions/{question}/delete",
            post(pages::training::delete_question),
        )
        .merge(
            Router::new()
                .route(
                    "/training/courses/{course}/materials",
                    post(pages::training::upload_material),
                )
                .layer(DefaultBodyLimit::max(upload_body_limit)),
        )
        .route(
            "/training/courses/{course}/materials/{material}",
            get(pages::training::download_material),
        )
        .route(
            "/training/courses/{course}/sessions",
            post(pages::training::create_session),
        )
        .route(
            "/training/sessions/{session}/attendees",
            post(pages::training::record_attendees),
        )
        .route(
            "/training/courses/{course}/quiz",
            get(pages::training::quiz).post(pages::training::answer_quiz),
        )
        .route("/training/records/new", get(pages::training::record_form))
        .route("/training/records", post(pages::training::record))
        .route("/training/records.csv", get(pages::training::export_csv))
        .route("/training/report", get(pages::training::report))
        .route(
            "/api/v1/courses",
            get(crate::api_training::list_courses).post(crate::api_training::create_course),
        )
        .route(
            "/api/v1/courses/{code}",
            get(crate::api_training::get_course),
        )
        .route(
            "/api/v1/training-records",
            get(crate::api_training::list_records).post(crate::api_training::create_record),
        )
        // Catalogue
        .route(
            "/threats",
            get(pages::catalogue::threats).post(pages::catalogue::threat_create),
        )
        .route("/threats/new", get(pages::catalogue::threat_new_form))
        .route("/threats.csv", get(pages::catalogue::threats_csv))
        .route("/threats.xlsx", get(pages::catalogue::threats_xlsx))
        .route("/controls.csv", get(pages::catalogue::controls_csv))
        .route("/controls.xlsx", get(pages::catalogue::controls_xlsx))
        .route(
            "/threats/{threat}/edit",
            get(pages::catalogue::threat_edit_form),
        )
        .route("/threats/{threat}", post(pages::catalogue::threat_update))
        .route(
            "/controls",
            get(pages::catalogue::controls).post(pages::catalogue::control_create),
        )
        .route("/controls/new", get(pages::catalogue::control_new_form))
        .route(
            "/controls/{control}",
            get(pages::catalogue::control_show).post(pages::catalogue::control_update),
        )
        .route(
            "/controls/{control}/edit",
            get(pages::catalogue::control_edit_form),
        )
        .route(
            "/controls/unit/{unit}",
            get(pages::catalogue::unit_statuses),
        )
        .route(
            "/controls/{control}/units/{unit}",
            get(pages::catalogue::status_show).post(pages::catalogue::status_update),
        )
        .route(
            "/controls/{control}/units/{unit}/verify",
            post(pages::catalogue::verify),
        )
        .merge(
            Router::new()
                .route(
                    "/controls/{control}/units/{unit}/evidence",
                    post(pages::catalogue::evidence_upload),
                )
                .layer(DefaultBodyLimit::max(upload_body_limit)),
        )
        .route(
            "/controls/{control}/units/{unit}/evidence/{evidence}",
            get(pages::catalogue::evidence_download),
        )
        .route("/api/v1/threats", get(crate::api_catalogue::list_threats))
        .route("/api/v1/controls", get(crate::api_catalogue::list_controls))
        // Coverage
        .route("/coverage", get(pages::coverage::index))
        .route(
            "/coverage/control-status.xlsx",
            get(pages::coverage::export_xlsx),
        )
        .route(
            "/coverage/control-status.csv",
            get(pages::coverage::export_csv),
        )
        .route("/coverage/{anchor}", get(pages::coverage::clause))
        .route("/api/v1/coverage", get(crate::api_coverage::coverage))
        .route("/admin/audit", get(pages::audit::list))
        .route("/admin/audit.csv", get(pages::audit::export_csv))
        .route(
            "/assets",
            get(pages::assets::list).post(pages::assets::create),
        )
        .route("/assets/export/{format}", get(pages::assets::export))
        .route("/assets/new", get(pages::assets::new_form))
        .route(
            "/assets/{id}",
            get(pages::assets::show).post(pages::assets::update),
        )
        .route("/assets/{id}/edit", get(pages::assets::edit_form))
        .route("/assets/{id}/relations", post(pages::assets::relate))
        .route(
            "/assets/{id}/relations/{relation}/delete",
            post(pages::assets::unrelate),
        )
        .route(
            "/assets/{id}/attachments/{attachment}",
            get(pages::assets::download_attachment),
        )
        .merge(
            Router::new()
                .route("/assets/{id}/attachments", post(pages::assets::upload))
                .route("/assets/{id}/dispose", post(pages::assets::dispose))
                .layer(DefaultBodyLimit::max(upload_body_limit)),
        )
        .route(
            "/admin/classification",
            get(pages::classification::page_get),
        )
        .route(
            "/admin/classification/levels",
            post(pages::classification::save_level),
        )
        .route(
            "/admin/classification/rules",
            post(pages::classification::save_rule),
        )
        .route(
            "/admin/classification/rules/{code}/delete",
            post(pages::classification::delete_rule),
        )
        .route(
            "/admin/classification/switch",
            post(pages::classification::switch),
        )
        .route(
            "/api/v1/assets",
            get(crate::api_assets::list).post(crate::api_assets::create),
        )
        .route(
            "/api/v1/assets/{id}",
            get(crate::api_assets::get).put(crate::api_assets::update),
        )
        .route(
            "/api/v1/assets/{id}/dispose",
            post(crate::api_assets::dispose),
        )
        .route(
            "/api/v1/assets/{id}/relations",
            get(crate::api_assets::relations),
        )
        .route("/api/v1/openapi.json", get(api::openapi_json))
        .route("/api/v1/units", get(api::list_units).post(api::create_unit))
        .route(
            "/api/v1/units/{code}",
            get(api::get_unit).put(api::update_unit),
        )
        .route(
            "/api/v1/people",
            get(api::list_people).post(api::create_person),
        )
        .route(
            "/api/v1/people/{staff_id}",
            get(api::get_person).put(api::update_person),
        )
        // Policy documents and acknowledgement.
        .route("/public/policy", get(pages::policy::public_policy))
        .route(
            "/policy",
            get(pages::policy::list).post(pages::policy::create_document),
        )
        .route("/policy/new", get(pages::policy::new_document_form))
        .route(
            "/policy/acknowledgements",
            get(pages::policy::acknowledgements_overview),
        )
        .route("/policy/{code}", get(pages::policy::show))
        .route(
            "/policy/{code}/settings",
            get(pages::policy::settings_form).post(pages::policy::update_settings),
        )
        .route("/policy/{code}/review", post(pages::policy::flag_review))
        .route("/policy/{code}/diff", get(pages::policy::diff))
        .route(
            "/policy/{code}/versions/new",
            get(pages::policy::new_version_form),
        )
        .route(
            "/policy/{code}/versions",
            post(pages::policy::create_version),
        )
        .route(
            "/policy/{code}/versions/{number}",
            get(pages::policy::version_page).post(pages::policy::update_version),
        )
        .route(
            "/policy/{code}/versions/{number}/edit",
            get(pages::policy::edit_version_form),
        )
        .route(
            "/policy/{code}/versions/{number}/print",
            get(pages::policy::print),
        )
        .route(
            "/policy/{code}/versions/{number}/submit",
            post(pages::policy::submit),
        )
        .route(
            "/policy/{code}/versions/{number}/return",
            post(pages::policy::send_back),
        )
        .route(
            "/policy/{code}/versions/{number}/approve",
            post(pages::policy::approve),
        )
        .route(
            "/policy/{code}/versions/{number}/publish",
            post(pages::policy::publish),
        )
        .route(
            "/policy/{code}/versions/{number}/acknowledge",
            post(pages::policy::acknowledge),
        )
        .route(
            "/policy/{code}/acknowledgements",
            get(pages::policy::completion),
        )
        .route(
            "/policy/{code}/acknowledgements.csv",
            get(pages::policy::completion_csv),
        )
        .route(
            "/policy/{code}/acknowledgements/remind",
            post(pages::policy::remind),
        )
        .route(
            "/api/v1/documents",
            get(crate::api_policy::list_documents).post(crate::api_policy::create_document),
        )
        .route(
            "/api/v1/documents/{id}",
            get(crate::api_policy::get_document),
        )
        .route(
            "/api/v1/documents/{id}/versions",
            get(crate::api_policy::list_versions).post(crate::api_policy::create_version),
        )
        .route(
            "/api/v1/acknowledgements",
            get(crate::api_policy::list_acknowledgements).post(crate::api_policy::acknowledge),
        )
        .route_layer(middleware::from_fn_with_state(state.clone(), authorize))
        .fallback(fallback)
        .layer(middleware::from_fn_with_state(
            state.clone(),
            crate::csrf::protect,
        ))
        .layer(middleware::from_fn_with_state(
            state.clone(),
            crate::session::load_principal,
        ))
        .layer(middleware::from_fn(crate::error::render_errors))
        .layer(middleware::from_fn_with_state(
            state.clone(),
            security_headers,
        ))
        .layer(DefaultBodyLimit::max(max_body))
        .with_state(state)
}

async fn fallback() -> AppError {
    AppError::NotFound
}

/// Enforces [`ROUTES`].
async fn authorize(State(state): State<AppState>, req: Request, next: Next) -> Response {
    let Some(path) = req
        .extensions()
        .get::<MatchedPath>()
        .map(|m| m.as_str().to_owned())
    else {
        return AppError::NotFound.into_response();
    };
    let Some(access) = access_for(req.method(), &path) else {
        tracing::error!(%path, method = %req.method(), "route has no authorization decision");
        return AppError::Internal(format!(
            "route {} {path} has no authorization decision",
            req.method()
        ))
        .into_response();
    };
    if access == Access::Public {
        return next.run(req).await;
    }
    let is_api = path.starts_with("/api/");
    let Some(principal) = req.extensions().get::<Arc<Principal>>().cloned() else {
        if is_api || req.method() != Method::GET {
            return AppError::Unauthorized.into_response();
        }
        let next_path = req
            .uri()
            .path_and_query()
            .map(|p| p.as_str())
            .unwrap_or("/");
        let target = format!("/login?next={}", urlencode(next_path));
        return Redirect::to(&target).into_response();
    };
    let settings = req
        .extensions()
        .get::<Arc<OrgSettings>>()
        .cloned()
        .unwrap_or_default();
    let gate = principal.gate(&settings);
    let allowed_by_gate = match (gate, access) {
        (Gate::PendingMfa, PendingMfa) => true,
        (Gate::PendingMfa, _) => false,
        (_, PendingMfa) => false,
        (Gate::Open, _) => true,
        (Gate::ChangePassword | Gate::EnrolMfa, Setup) => true,
        (Gate::ChangePassword | Gate::EnrolMfa, _) => false,
    };
    if !allowed_by_gate {
        if is_api {
            return AppError::Forbidden.into_response();
        }
        let to = match gate {
            Gate::PendingMfa => "/login/mfa",
            Gate::ChangePassword => "/account/password",
            Gate::EnrolMfa => "/account/mfa",
            Gate::Open => "/",
        };
        return Redirect::to(to).into_response();
    }
    let needed: &[Permission] = match &access {
        Access::Permission(p) => std::slice::from_ref(p),
        Access::AnyOf(ps) => ps,
        _ => &[],
    };
    if !needed.is_empty() && !needed.iter().any(|p| principal.can(*p, &Target::Anywhere)) {
        let ip = req
            .extensions()
            .get::<ClientIp>()
            .cloned()
            .unwrap_or(ClientIp("unknown".into()));
        audit_denied(&state, &principal, &ip, req.method().as_str(), &path).await;
        return AppError::Forbidden.into_response();
    }
    next.run(req).await
}

/// Records a refused request in the audit trail (a security event).
pub async fn audit_denied(
    state: &AppState,
    principal: &Principal,
    ip: &ClientIp,
    method: &str,
    path: &str,
) {
    let result = async {
        let mut tx = state.store.begin(principal.actor(ip)).await?;
        tx.audit(
            "access.denied",
            "route",
            &format!("{method} {path}"),
            None,
            None,
        )
        .await?;
        state.commit(tx).await
    }
    .await;
    if let Err(e) = result {
        tracing::error!(error = %e, "could not audit a denied request");
    }
}

fn urlencode(s: &str) -> String {
    serde_urlencoded::to_string([("", s)])
        .map(|e| e.trim_start_matches('=').to_owned())
        .unwrap_or_default()
}

/// The Content-Security-Policy: nothing inline, nothing from elsewhere, no framing.
pub const CSP: &str = "default-src 'none'; script-src 'self'; style-src 'self'; img-src 'self' data:; \
    font-src 'self'; connect-src 'self'; form-action 'self'; frame-ancestors 'none'; base-uri 'none'";

async fn security_headers(State(state): State<AppState>, req: Request, next: Next) -> Response {
    let is_static = req.uri().path().starts_with("/static/");
    let mut res = next.run(req).await;
    let h = res.headers_mut();
    h.insert(
        header::CONTENT_SECURITY_POLICY,
        HeaderValue::from_static(CSP),
    );
    h.insert(
        header::X_CONTENT_TYPE_OPTIONS,
        HeaderValue::from_static("nosniff"),
    );
    h.insert(
        header::REFERRER_POLICY,
        HeaderValue::from_static("same-origin"),
    );
    h.insert(header::X_FRAME_OPTIONS, HeaderValue::from_static("DENY"));
    h.insert(
        "cross-origin-opener-policy",
        HeaderValue::from_static("same-origin"),
    );
    h.insert(
        "permissions-policy",
        HeaderValue::from_static("camera=(), microphone=(), geolocation=()"),
    );
    if state.config.tls {
        h.insert(
            header::STRICT_TRANSPORT_SECURITY,
            HeaderValue::from_static("max-age=31536000; includeSubDomains"),
        );
    }
    if !is_static && !h.contains_key(header::CACHE_CONTROL) {
        h.insert(header::CACHE_CONTROL, HeaderValue::from_static("no-store"));
    }
    res
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Every route registered in [`router`] has a decision in [`ROUTES`], and every decision
    /// names a registered route: read from this file's own source, so adding a `.route(…)`
    /// without a decision fails here (the matrix test then checks the decision itself).
    #[test]
    fn registered_routes_and_decisions_match() {
        let source = include_str!("routes.rs");
        let body = source
            .split("pub fn router(")
            .nth(1)
            .and_then(|s| s.split(".route_layer(").next())
            .unwrap_or_default();
        let mut registered = Vec::new();
        for call in body.split(".route(").skip(1) {
            let path: String = call
                .trim_start()
                .trim_start_matches('"')
                .chars()
                .take_while(|c| *c != '"')
                .collect();
            for (token, method) in [
                ("get(", "GET"),
                ("post(", "POST"),
                ("put(", "PUT"),
                ("delete(", "DELETE"),
            ] {
                if call.contains(token) {
                    registered.push((method.to_owned(), path.clone()));
                }
            }
        }
        assert!(
            registered.len() >= ROUTES.len() - 1,
            "parsed {} registrations",
            registered.len()
        );
        for (method, path) in &registered {
            let m = Method::from_bytes(method.as_bytes()).unwrap_or(Method::GET);
            assert!(
                access_for(&m, path).is_some(),
                "{method} {path} is registered without a decision in ROUTES"
            );
        }
        for r in ROUTES {
            assert!(
                registered.iter().any(|(m, p)| m == r.method && p == r.path),
                "{} {} has a decision but is not registered",
                r.method,
                r.path
            );
        }
    }
}
