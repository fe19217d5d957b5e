//! The organisation's classification scheme, its level definitions and handling rules, and
//! switching scheme with a level mapping in one audited step.

use crate::{Result, Store, StoreError, WriteTx};
use mamori_domain::assets::classification::{
    check_mapping, preset, Axis, Level, LevelMapping, MappingProblem, Scheme, PRESETS,
};
use mamori_domain::assets::handling::{HandlingRule, RULES};

/// The settings key holding the scheme's code.
const SCHEME_KEY: &str = "classification_scheme";

/// How many assets a scheme switch changes, per (axis, old level, new level).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SwitchPreview {
    /// (axis, from, to, number of assets).
    pub moves: Vec<(Axis, String, String, i64)>,
    /// Levels in use that the mapping does not cover, or targets the new scheme lacks.
    pub problems: Vec<MappingProblem>,
}

impl Store {
    /// The organisation's scheme with its current definitions.
    pub async fn scheme(&self) -> Result<Scheme> {
        let mut conn = self.pool.acquire().await?;
        load_scheme(&mut conn).await
    }

    /// The scheme as this transaction sees it.
    pub(crate) async fn scheme_in_tx(tx: &mut WriteTx) -> Result<Scheme> {
        load_scheme(tx.conn()).await
    }

    /// Seeds the default scheme and the handling rules when absent.
    pub(crate) async fn seed_classification(tx: &mut WriteTx) -> Result<bool> {
        let mut changed = false;
        let levels: i64 = sqlx::query_scalar("SELECT COUNT(*) FROM classification_levels")
            .fetch_one(tx.conn())
            .await?;
        if levels == 0 {
            let scheme = Scheme::from_preset(&PRESETS[0]);
            write_levels(tx, &scheme).await?;
            tx.audit(
                "classification.seed",
                "classification_scheme",
                &scheme.code,
                None,
                Some(scheme_json(&scheme)),
            )
            .await?;
            changed = true;
        }
        let rules: i64 = sqlx::query_scalar("SELECT COUNT(*) FROM handling_rules")
            .fetch_one(tx.conn())
            .await?;
        if rules == 0 {
            for (i, r) in RULES.iter().enumerate() {
                let rule = HandlingRule::from(r);
                insert_rule(tx, &rule, i as i64).await?;
                tx.audit(
                    "handling_rule.seed",
                    "handling_rule",
                    &rule.code,
                    None,
                    Some(rule_json(&rule)),
                )
                .await?;
            }
            changed = true;
        }
        Ok(changed)
    }

    /// Changes a level's definitions.
    pub async fn set_level_definition(
        tx: &mut WriteTx,
        axis: Axis,
        code: &str,
        definition_ja: &str,
        definition_en: &str,
    ) -> Result<()> {
        let before: Option<(String, String)> = sqlx::query_as(
            "SELECT definition_ja, definition_en FROM classification_levels WHERE axis = $1 AND code = $2",
        )
        .bind(axis.code())
        .bind(code)
        .fetch_optional(tx.conn())
        .await?;
        let Some(before) = before else {
            return Err(StoreError::Missing("level"));
        };
        sqlx::query(
            "UPDATE classification_levels SET definition_ja = $1, definition_en = $2 WHERE axis = $3 AND code = $4",
        )
        .bind(definition_ja)
        .bind(definition_en)
        .bind(axis.code())
        .bind(code)
        .execute(tx.conn())
        .await?;
        tx.audit(
            "classification.level.update",
            "classification_level",
            &format!("{}:{code}", axis.code()),
            Some(serde_json::json!({"definition_ja": before.0, "definition_en": before.1})),
            Some(
                serde_json::json!({"definition_ja": definition_ja, "definition_en": definition_en}),
            ),
        )
        .await?;
        Ok(())
    }

    /// The levels in use by assets, per axis.
    async fn levels_in_use(tx: &mut WriteTx) -> Result<Vec<(Axis, String, i64)>> {
        let mut out = Vec::new();
        for axis in Axis::ALL {
            let rows: Vec<(String, i64)> = sqlx::query_as(&format!(
                "SELECT {col}, COUNT(*) FROM assets GROUP BY {col} ORDER BY {col}",
                col = axis.column()
            ))
            .fetch_all(tx.conn())
            .await?;
            out.extend(rows.into_iter().map(|(c, n)| (axis, c, n)));
        }
        Ok(out)
    }

    /// What switching to `target` with `mapping` would change (nothing is kept: the caller
    /// drops the transaction).
    pub async fn preview_scheme_switch(
        tx: &mut WriteTx,
        target: &str,
        mapping: &LevelMapping,
    ) -> Result<SwitchPreview> {
        let to = Scheme::from_preset(preset(target).ok_or(StoreError::Missing("scheme"))?);
        let in_use = Self::levels_in_use(tx).await?;
        let codes: Vec<(Axis, String)> = in_use.iter().map(|(a, c, _)| (*a, c.clone())).collect();
        let problems = check_mapping(&to, &codes, mapping);
        let moves = in_use
            .into_iter()
            .filter_map(|(axis, from, n)| {
                let to = mapping.get(&(axis, from.clone()))?.clone();
                Some((axis, from, to, n))
            })
            .collect();
        Ok(SwitchPreview { moves, problems })
    }

    /// Switches to the preset `target`, re-classifying every asset through `mapping`, in the
    /// caller's transaction: one audit entry for the scheme and one per changed asset.
    pub async fn switch_scheme(
        tx: &mut WriteTx,
        target: &str,
        mapping: &LevelMapping,
    ) -> Result<SwitchPreview> {
        let before = Self::scheme_in_tx(tx).await?;
        let to = Scheme::from_preset(preset(target).ok_or(StoreError::Missing("scheme"))?);
        let preview = Self::preview_scheme_switch(tx, target, mapping).await?;
        if !preview.problems.is_empty() {
            return Err(StoreError::Rule("error-mapping-incomplete"));
        }
        let ids: Vec<i64> = sqlx::query_scalar("SELECT id FROM assets ORDER BY id")
            .fetch_all(tx.conn())
            .await?;
        write_levels(tx, &to).await?;
        tx.audit(
            "classification.switch",
            "classification_scheme",
            &to.code,
            Some(scheme_json(&before)),
            Some(serde_json::json!({
                "scheme": to.code,
                "mapping": mapping.iter().map(|((a, f), t)| format!("{}:{f}->{t}", a.code())).collect::<Vec<_>>(),
            })),
        )
        .await?;
        for id in ids {
            let asset = Self::asset_in_tx(tx, mamori_domain::AssetId(id)).await?;
            let mut draft = asset.draft()?;
            let mut changed = false;
            for axis in Axis::ALL {
                let from = draft.class.get(axis).to_owned();
                if let Some(target) = mapping.get(&(axis, from.clone())) {
                    if *target != from {
                        draft.class.set(axis, target.clone());
                        changed = true;
                    }
                }
            }
            if changed {
                Self::write_asset(tx, &to, Some(asset), &draft, "asset.reclassify").await?;
            }
        }
        Ok(preview)
    }

    /// The handling rules, in table order.
    pub async fn handling_rules(&self) -> Result<Vec<HandlingRule>> {
        let rows: Vec<RuleTuple> = sqlx::query_as(
            "SELECT code, label_ja, label_en, min_c, min_i, min_a FROM handling_rules ORDER BY sort_order, code",
        )
        .fetch_all(&self.pool)
        .await?;
        Ok(rows.into_iter().map(rule_from).collect())
    }

    /// Creates or replaces a handling rule (by code).
    pub async fn save_handling_rule(tx: &mut WriteTx, rule: &HandlingRule) -> Result<()> {
        let before: Option<RuleTuple> = sqlx::query_as(
            "SELECT code, label_ja, label_en, min_c, min_i, min_a FROM handling_rules WHERE code = $1",
        )
        .bind(&rule.code)
        .fetch_optional(tx.conn())
        .await?;
        let order: i64 =
            sqlx::query_scalar("SELECT COALESCE(MAX(sort_order), 0) + 1 FROM handling_rules")
                .fetch_one(tx.conn())
                .await?;
        sqlx::query("DELETE FROM handling_rules WHERE code = $1")
            .bind(&rule.code)
            .execute(tx.conn())
            .await?;
        insert_rule(tx, rule, order).await?;
        let action = if before.is_some() {
            "handling_rule.update"
        } else {
            "handling_rule.create"
        };
        tx.audit(
            action,
            "handling_rule",
            &rule.code,
            before.map(rule_from).as_ref().map(rule_json),
            Some(rule_json(rule)),
        )
        .await?;
        Ok(())
    }

    /// Removes a handling rule.
    pub async fn delete_handling_rule(tx: &mut WriteTx, code: &str) -> Result<()> {
        let before: Option<RuleTuple> = sqlx::query_as(
            "SELECT code, label_ja, label_en, min_c, min_i, min_a FROM handling_rules WHERE code = $1",
        )
        .bind(code)
        .fetch_optional(tx.conn())
        .await?;
        let Some(before) = before else {
            return Err(StoreError::Missing("handling_rule"));
        };
        sqlx::query("DELETE FROM handling_rules WHERE code = $1")
            .bind(code)
            .execute(tx.conn())
            .await?;
        tx.audit(
            "handling_rule.delete",
            "handling_rule",
            code,
            Some(rule_json(&rule_from(before))),
            None,
        )
        .await?;
        Ok(())
    }
}

async fn load_scheme(conn: &mut sqlx::AnyConnection) -> Result<Scheme> {
    let code: Option<String> = sqlx::query_scalar("SELECT value FROM settings WHERE key = $1")
        .bind(SCHEME_KEY)
        .fetch_optional(&mut *conn)
        .await?;
    let code = code
        .and_then(|v| serde_json::from_str::<String>(&v).ok())
        .unwrap_or_else(|| PRESETS[0].code.to_owned());
    let rows: Vec<(String, String, i64, i64, String, String)> = sqlx::query_as(
        "SELECT axis, code, rank, tier, definition_ja, definition_en FROM classification_levels",
    )
    .fetch_all(&mut *conn)
    .await?;
    let mut levels = rows
        .into_iter()
        .map(|(axis, code, rank, tier, dja, den)| {
            Ok(Level {
                axis: Axis::from_code(&axis)
                    .ok_or_else(|| StoreError::Corrupt(format!("level axis {axis}")))?,
                code,
                rank: u8::try_from(rank).unwrap_or(0),
                tier: u8::try_from(tier).unwrap_or(0),
                definition_ja: dja,
                definition_en: den,
            })
        })
        .collect::<Result<Vec<Level>>>()?;
    levels.sort_by(|a, b| a.axis.cmp(&b.axis).then(b.rank.cmp(&a.rank)));
    Ok(Scheme { code, levels })
}

type RuleTuple = (
    String,
    String,
    String,
    Option<i64>,
    Option<i64>,
    Option<i64>,
);

fn rule_from((code, label_ja, label_en, c, i, a): RuleTuple) -> HandlingRule {
    let tier = |v: Option<i64>| v.and_then(|v| u8::try_from(v).ok());
    HandlingRule {
        code,
        label_ja,
        label_en,
        min_c: tier(c),
        min_i: tier(i),
        min_a: tier(a),
    }
}

fn rule_json(r: &HandlingRule) -> serde_json::Value {
    serde_json::json!({"label_ja": r.label_ja, "label_en": r.label_en, "min_c": r.min_c, "min_i": r.min_i, "min_a": r.min_a})
}

fn scheme_json(s: &Scheme) -> serde_json::Value {
    serde_json::json!({
        "scheme": s.code,
        "levels": s.levels.iter().map(|l| format!("{}:{}", l.axis.code(), l.code)).collect::<Vec<_>>(),
    })
}

async fn insert_rule(tx: &mut WriteTx, r: &HandlingRule, order: i64) -> Result<()> {
    sqlx::query(
        "INSERT INTO handling_rules (code, label_ja, label_en, min_c, min_i, min_a, sort_order) VALUES ($1, $2, $3, $4, $5, $6, $7)",
    )
    .bind(&r.code)
    .bind(&r.label_ja)
    .bind(&r.label_en)
    .bind(r.min_c.map(i64::from))
    .bind(r.min_i.map(i64::from))
    .bind(r.min_a.map(i64::from))
    .bind(order)
    .execute(tx.conn())
    .await?;
    Ok(())
}

async fn write_levels(tx: &mut WriteTx, scheme: &Scheme) -> Result<()> {
    sqlx::query("DELETE FROM classification_levels")
        .execute(tx.conn())
        .await?;
    for l in &scheme.levels {
        sqlx::query(
            "INSERT INTO classification_levels (axis, code, rank, tier, definition_ja, definition_en) VALUES ($1, $2, $3, $4, $5, $6)",
        )
        .bind(l.axis.code())
        .bind(&l.code)
        .bind(i64::from(l.rank))
        .bind(i64::from(l.tier))
        .bind(&l.definition_ja)
        .bind(&l.definition_en)
        .execute(tx.conn())
        .await?;
    }
    sqlx::query("DELETE FROM settings WHERE key = $1")
        .bind(SCHEME_KEY)
        .execute(tx.conn())
        .await?;
    sqlx::query("INSERT INTO settings (key, value) VALUES ($1, $2)")
        .bind(SCHEME_KEY)
        .bind(serde_json::Value::String(scheme.code.clone()).to_string())
        .execute(tx.conn())
        .await?;
    Ok(())
}

impl Store {
    /// How many assets use each level, per axis (for the mapping form).
    pub async fn level_counts(&self) -> Result<Vec<(Axis, String, i64)>> {
        let mut out = Vec::new();
        for axis in Axis::ALL {
            let rows: Vec<(String, i64)> = sqlx::query_as(&format!(
                "SELECT {col}, COUNT(*) FROM assets GROUP BY {col} ORDER BY {col}",
                col = axis.column()
            ))
            .fetch_all(&self.pool)
            .await?;
            out.extend(rows.into_iter().map(|(c, n)| (axis, c, n)));
        }
        Ok(out)
    }
}
