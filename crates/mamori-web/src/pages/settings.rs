//! Organisation settings: name, date style, time zone, MFA policy, session lifetimes; and the
//! deployment's TLS / proxy settings, shown read-only (they live in `mamori.toml`).

use crate::error::AppResult;
use crate::i18n::Lang;
use crate::view::{Chrome, Ctx, FormErrors};
use askama::Template;
use axum::http::StatusCode;
use axum::response::Response;
use axum::Form;
use mamori_domain::settings::OrgSettings;
use mamori_domain::wareki::{format_date, DateStyle};
use mamori_store::{RoleRow, Store};

#[derive(Template)]
#[template(path = "settings.html")]
struct SettingsPage {
    c: Chrome,
    values: OrgSettings,
    roles: Vec<RoleRow>,
    errors: FormErrors,
    tls: bool,
    trusted_proxies: String,
    example_date: time::Date,
}

impl SettingsPage {
    fn style_example(&self, code: &str) -> String {
        code.parse::<DateStyle>()
            .map(|s| format_date(self.example_date, s, self.c.lang))
            .unwrap_or_default()
    }

    fn role_label(&self, r: &RoleRow) -> String {
        if self.c.lang == Lang::En {
            r.label_en.clone()
        } else {
            r.label_ja.clone()
        }
    }

    fn mfa_checked(&self, code: &str) -> bool {
        self.values.mfa_required_roles.iter().any(|r| r == code)
    }

    fn style_checked(&self, code: &str) -> bool {
        self.values.date_style.code() == code
    }
}

async fn page(ctx: &Ctx, values: OrgSettings, errors: FormErrors) -> AppResult<SettingsPage> {
    Ok(SettingsPage {
        c: ctx.chrome(),
        values,
        roles: ctx.state.store.roles().await?,
        errors,
        tls: ctx.state.config.tls,
        trusted_proxies: format!("{:?}", ctx.state.config.trusted_proxies),
        example_date: time::Date::from_calendar_date(2026, time::Month::March, 25)
            .unwrap_or(time::Date::MIN),
    })
}

/// GET `/admin/settings`.
pub async fn form(ctx: Ctx) -> AppResult<Response> {
    let values = ctx.state.store.settings().await?;
    let p = page(&ctx, values, FormErrors::default()).await?;
    Ok(ctx.page(&p))
}

/// POST `/admin/settings`. The form is parsed from pairs because checkboxes repeat a name.
pub async fn submit(ctx: Ctx, Form(pairs): Form<Vec<(String, String)>>) -> AppResult<Response> {
    let p = ctx.principal()?.clone();
    let get = |k: &str| {
        pairs
            .iter()
            .find(|(n, _)| n == k)
            .map(|(_, v)| v.trim().to_owned())
            .unwrap_or_default()
    };
    let mut errors = FormErrors::default();
    let before = ctx.state.store.settings().await?;
    let roles = ctx.state.store.roles().await?;
    let date_style = match get("date_style").parse::<DateStyle>() {
        Ok(s) => s,
        Err(_) => {
            errors.add(ctx.lang, "date_style", "error-bad-request");
            before.date_style
        }
    };
    let number = |errors: &mut FormErrors, field: &str, fallback: i64| -> i64 {
        match mamori_domain::wareki::fold_fullwidth(&get(field)).parse::<i64>() {
            Ok(n) => n,
            Err(_) => {
                errors.add(ctx.lang, field, "error-number");
                fallback
            }
        }
    };
    let session_idle_minutes = number(
        &mut errors,
        "session_idle_minutes",
        before.session_idle_minutes,
    );
    let session_absolute_hours = number(
        &mut errors,
        "session_absolute_hours",
        before.session_absolute_hours,
    );
    let mfa_required_roles: Vec<String> = pairs
        .iter()
        .filter(|(k, v)| k == "mfa_role" && roles.iter().any(|r| &r.code == v))
        .map(|(_, v)| v.clone())
        .collect();
    let after = OrgSettings {
        name: get("name"),
        date_style,
        time_zone: get("time_zone"),
        mfa_required_roles,
        session_idle_minutes,
        session_absolute_hours,
        // Risk register
        // Absent (an older form or a script): kept as it is.
        risk_scale: match mamori_domain::risk::RiskScale::from_code(&get("risk_scale")) {
            Some(scale) => scale,
            None if get("risk_scale").is_empty() => before.risk_scale,
            None => {
                errors.add(ctx.lang, "risk_scale", "error-bad-request");
                before.risk_scale
            }
        },
        risk_acceptance_threshold: match mamori_domain::risk::RiskLevel::from_code(&get(
            "risk_acceptance_threshold",
        )) {
            Some(level) => level,
            None if get("risk_acceptance_threshold").is_empty() => before.risk_acceptance_threshold,
            None => {
                errors.add(ctx.lang, "risk_acceptance_threshold", "error-bad-request");
                before.risk_acceptance_threshold
            }
        },
    };
    if let Err(problems) = after.validate() {
        for pr in problems {
            if !errors.has(pr.field) {
                errors.add(ctx.lang, pr.field, pr.message_id);
            }
        }
    }
    if !errors.is_empty() {
        let page = page(&ctx, after, errors).await?;
        return Ok(ctx.page_with_status(StatusCode::UNPROCESSABLE_ENTITY, &page));
    }
    let mut tx = ctx.state.store.begin(p.actor(&ctx.ip)).await?;
    if let Err(e) = Store::save_settings(&mut tx, &before, &after).await {
        // Risk register: the scale is locked while risks are recorded.
        if let mamori_store::StoreError::Rule(id @ "risk-error-scale-locked") = e {
            drop(tx);
            let page = page(&ctx, after, FormErrors::one(ctx.lang, "risk_scale", id)).await?;
            return Ok(ctx.page_with_status(StatusCode::CONFLICT, &page));
        }
        return Err(e.into());
    }
    ctx.state.commit(tx).await?;
    ctx.state.invalidate_settings();
    Ok(ctx.redirect_flash("/admin/settings", "flash-saved"))
}
