//! The classification scheme (`DOMAIN.md` §3): level definitions shown wherever a level is
//! chosen, the handling-rule table, and switching scheme on a populated register through a
//! level mapping that is previewed, then applied in one audited step.

use crate::error::{AppError, AppResult};
use crate::i18n::tr;
use crate::pages::assets::Vocab;
use crate::view::{Chrome, Ctx, FormErrors};
use askama::Template;
use axum::extract::Path;
use axum::http::StatusCode;
use axum::response::Response;
use axum::Form;
use mamori_domain::assets::classification::{
    preset, suggest_mapping, Axis, LevelMapping, MappingProblem, Scheme, PRESETS,
};
use mamori_domain::assets::handling::HandlingRule;
use mamori_domain::is_valid_code;
use mamori_store::{Store, SwitchPreview};
use std::collections::HashMap;

/// One row of the mapping form: a level in use, its count, the choices and the chosen target.
struct MappingRow {
    axis: Axis,
    from: String,
    count: i64,
    choices: Vec<String>,
    chosen: String,
}

#[derive(Template)]
#[template(path = "classification.html")]
struct Page {
    c: Chrome,
    v: Vocab,
    rules: Vec<HandlingRule>,
    presets: Vec<&'static str>,
    target: String,
    mapping: Vec<MappingRow>,
    preview: Option<SwitchPreview>,
    errors: FormErrors,
}

impl Page {
    fn tier_text(&self, t: &Option<u8>) -> String {
        t.map_or("—".to_owned(), |t| format!("≥ {t}"))
    }
    fn scheme_label(&self, code: &str) -> String {
        tr(self.c.lang, &format!("scheme-{code}"))
    }
    fn field_name(&self, row: &MappingRow) -> String {
        format!("map_{}_{}", row.axis.code(), row.from)
    }
    fn tiers(&self) -> [u8; 3] {
        [1, 2, 3]
    }
}

async fn mapping_rows(
    ctx: &Ctx,
    target: &str,
    chosen: &HashMap<String, String>,
) -> AppResult<(Vec<MappingRow>, LevelMapping)> {
    let current = ctx.state.store.scheme().await?;
    let to = Scheme::from_preset(preset(target).ok_or(AppError::BadRequest("error-bad-request"))?);
    let suggested = suggest_mapping(&current, &to);
    let counts = ctx.state.store.level_counts().await?;
    let mut rows = Vec::new();
    let mut mapping = LevelMapping::new();
    for (axis, from, count) in counts {
        let key = format!("map_{}_{from}", axis.code());
        let chosen = chosen
            .get(&key)
            .cloned()
            .or_else(|| suggested.get(&(axis, from.clone())).cloned())
            .unwrap_or_default();
        if !chosen.is_empty() {
            mapping.insert((axis, from.clone()), chosen.clone());
        }
        rows.push(MappingRow {
            axis,
            choices: to.axis(axis).map(|l| l.code.clone()).collect(),
            from,
            count,
            chosen,
        });
    }
    Ok((rows, mapping))
}

async fn page(
    ctx: &Ctx,
    target: String,
    chosen: &HashMap<String, String>,
    preview: Option<SwitchPreview>,
    errors: FormErrors,
) -> AppResult<Page> {
    let (mapping, _) = mapping_rows(ctx, &target, chosen).await?;
    Ok(Page {
        c: ctx.chrome(),
        v: Vocab::load(ctx).await?,
        rules: ctx.state.store.handling_rules().await?,
        presets: PRESETS.iter().map(|p| p.code).collect(),
        target,
        mapping,
        preview,
        errors,
    })
}

fn other_preset(current: &str) -> String {
    PRESETS
        .iter()
        .map(|p| p.code)
        .find(|c| *c != current)
        .unwrap_or(PRESETS[0].code)
        .to_owned()
}

/// GET `/admin/classification`.
pub async fn page_get(ctx: Ctx) -> AppResult<Response> {
    let current = ctx.state.store.scheme().await?;
    let p = page(
        &ctx,
        other_preset(&current.code),
        &HashMap::new(),
        None,
        FormErrors::default(),
    )
    .await?;
    Ok(ctx.page(&p))
}

/// The level definition form.
#[derive(Debug, serde::Deserialize)]
pub struct LevelForm {
    axis: String,
    code: String,
    #[serde(default)]
    definition_ja: String,
    #[serde(default)]
    definition_en: String,
}

/// POST `/admin/classification/levels`.
pub async fn save_level(ctx: Ctx, Form(form): Form<LevelForm>) -> AppResult<Response> {
    let p = ctx.principal()?;
    let axis = Axis::from_code(&form.axis).ok_or(AppError::BadRequest("error-bad-request"))?;
    let (ja, en) = (form.definition_ja.trim(), form.definition_en.trim());
    if ja.is_empty() || ja.chars().count() > 2000 || en.chars().count() > 2000 {
        let mut errors = FormErrors::default();
        errors.add(ctx.lang, "definition_ja", "error-required-text");
        let current = ctx.state.store.scheme().await?;
        let page = page(
            &ctx,
            other_preset(&current.code),
            &HashMap::new(),
            None,
            errors,
        )
        .await?;
        return Ok(ctx.page_with_status(StatusCode::UNPROCESSABLE_ENTITY, &page));
    }
    let mut tx = ctx.state.store.begin(p.actor(&ctx.ip)).await?;
    Store::set_level_definition(&mut tx, axis, &form.code, ja, en).await?;
    ctx.state.commit(tx).await?;
    Ok(ctx.redirect_flash("/admin/classification", "flash-saved"))
}

/// The handling-rule form.
#[derive(Debug, serde::Deserialize)]
pub struct RuleForm {
    code: String,
    label_ja: String,
    #[serde(default)]
    label_en: String,
    #[serde(default)]
    min_c: String,
    #[serde(default)]
    min_i: String,
    #[serde(default)]
    min_a: String,
}

/// POST `/admin/classification/rules`: creates or changes a rule (by code).
pub async fn save_rule(ctx: Ctx, Form(form): Form<RuleForm>) -> AppResult<Response> {
    let p = ctx.principal()?;
    let mut errors = FormErrors::default();
    let code = form.code.trim().to_owned();
    if !is_valid_code(&code) {
        errors.add(ctx.lang, "code", "error-code-format");
    }
    if form.label_ja.trim().is_empty() || form.label_ja.chars().count() > 500 {
        errors.add(ctx.lang, "label_ja", "error-required-text");
    }
    let tier = |v: &str| -> Result<Option<u8>, ()> {
        match v.trim() {
            "" => Ok(None),
            t => t
                .parse::<u8>()
                .ok()
                .filter(|t| (1..=3).contains(t))
                .map(Some)
                .ok_or(()),
        }
    };
    let (c, i, a) = (tier(&form.min_c), tier(&form.min_i), tier(&form.min_a));
    if c.is_err() || i.is_err() || a.is_err() {
        errors.add(ctx.lang, "min_c", "error-bad-request");
    }
    if matches!((c, i, a), (Ok(None), Ok(None), Ok(None))) {
        errors.add(ctx.lang, "min_c", "error-rule-needs-tier");
    }
    if !errors.is_empty() {
        let current = ctx.state.store.scheme().await?;
        let page = page(
            &ctx,
            other_preset(&current.code),
            &HashMap::new(),
            None,
            errors,
        )
        .await?;
        return Ok(ctx.page_with_status(StatusCode::UNPROCESSABLE_ENTITY, &page));
    }
    let rule = HandlingRule {
        code,
        label_ja: form.label_ja.trim().to_owned(),
        label_en: form.label_en.trim().to_owned(),
        min_c: c.unwrap_or(None),
        min_i: i.unwrap_or(None),
        min_a: a.unwrap_or(None),
    };
    let mut tx = ctx.state.store.begin(p.actor(&ctx.ip)).await?;
    Store::save_handling_rule(&mut tx, &rule).await?;
    ctx.state.commit(tx).await?;
    Ok(ctx.redirect_flash("/admin/classification#rules", "flash-saved"))
}

/// POST `/admin/classification/rules/{code}/delete`.
pub async fn delete_rule(ctx: Ctx, Path(code): Path<String>) -> AppResult<Response> {
    let p = ctx.principal()?;
    let mut tx = ctx.state.store.begin(p.actor(&ctx.ip)).await?;
    match Store::delete_handling_rule(&mut tx, &code).await {
        Ok(()) => {}
        Err(mamori_store::StoreError::Missing(_)) => return Err(AppError::NotFound),
        Err(e) => return Err(e.into()),
    }
    ctx.state.commit(tx).await?;
    Ok(ctx.redirect_flash("/admin/classification#rules", "flash-saved"))
}

/// POST `/admin/classification/switch`: `action=preview` shows what would change; `apply`
/// switches, re-classifying every asset, in one transaction.
pub async fn switch(ctx: Ctx, Form(form): Form<HashMap<String, String>>) -> AppResult<Response> {
    let p = ctx.principal()?;
    let target = form.get("target").cloned().unwrap_or_default();
    if preset(&target).is_none() {
        return Err(AppError::BadRequest("error-bad-request"));
    }
    let (_, mapping) = mapping_rows(&ctx, &target, &form).await?;
    let mut tx = ctx.state.store.begin(p.actor(&ctx.ip)).await?;
    let preview = Store::preview_scheme_switch(&mut tx, &target, &mapping).await?;
    let apply = form.get("action").map(String::as_str) == Some("apply");
    if apply && preview.problems.is_empty() {
        Store::switch_scheme(&mut tx, &target, &mapping).await?;
        ctx.state.commit(tx).await?;
        return Ok(ctx.redirect_flash("/admin/classification", "flash-scheme-switched"));
    }
    drop(tx);
    let mut errors = FormErrors::default();
    for problem in &preview.problems {
        let (axis, code) = match problem {
            MappingProblem::Unmapped(a, c) | MappingProblem::UnknownTarget(a, c) => (a, c),
        };
        errors.add_text(
            &format!("map_{}_{code}", axis.code()),
            crate::i18n::tr_args(
                ctx.lang,
                "error-mapping-level",
                &[(
                    "level",
                    format!("{} {code}", tr(ctx.lang, &format!("axis-{}", axis.code()))),
                )],
            ),
        );
    }
    let page = page(&ctx, target, &form, Some(preview), errors).await?;
    Ok(ctx.page(&page))
}
