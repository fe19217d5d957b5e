//! Writes the starting content of `DOMAIN.md` where it is missing, audited as `system`.

use crate::{Actor, Result, Store, UnitInput};
use mamori_domain::seed::{CATEGORIES, ROLES, UNITS};

pub(crate) async fn seed_starting_content(store: &Store) -> Result<()> {
    let mut tx = store.begin(Actor::system()).await?;
    let mut changed = false;
    for (i, c) in CATEGORIES.iter().enumerate() {
        let exists: Option<String> =
            sqlx::query_scalar("SELECT code FROM employment_categories WHERE code = $1")
                .bind(c.code)
                .fetch_optional(tx.conn())
                .await?;
        if exists.is_none() {
            sqlx::query("INSERT INTO employment_categories (code, label_ja, label_en, sort_order) VALUES ($1, $2, $3, $4)")
                .bind(c.code)
                .bind(c.label_ja)
                .bind(c.label_en)
                .bind(i as i64)
                .execute(tx.conn())
                .await?;
            tx.audit(
                "category.seed",
                "employment_category",
                c.code,
                None,
                Some(serde_json::json!({"label_ja": c.label_ja})),
            )
            .await?;
            changed = true;
        }
    }
    for (i, r) in ROLES.iter().enumerate() {
        let exists: Option<String> = sqlx::query_scalar("SELECT code FROM roles WHERE code = $1")
            .bind(r.code)
            .fetch_optional(tx.conn())
            .await?;
        if exists.is_none() {
            let perms: Vec<&str> = r.permissions.iter().map(|p| p.code()).collect();
            sqlx::query("INSERT INTO roles (code, label_ja, label_en, permissions, sort_order) VALUES ($1, $2, $3, $4, $5)")
                .bind(r.code)
                .bind(r.label_ja)
                .bind(r.label_en)
                .bind(perms.join(" "))
                .bind(i as i64)
                .execute(tx.conn())
                .await?;
            tx.audit(
                "role.seed",
                "role",
                r.code,
                None,
                Some(serde_json::json!({"label_ja": r.label_ja, "permissions": perms})),
            )
            .await?;
            changed = true;
        }
    }
    let has_units: i64 = sqlx::query_scalar("SELECT COUNT(*) FROM units")
        .fetch_one(tx.conn())
        .await?;
    if has_units == 0 {
        for u in UNITS {
            Store::create_unit(
                &mut tx,
                &UnitInput {
                    code: u.code.into(),
                    name: u.name.into(),
                    parent_id: None,
                    in_scope: true,
                },
            )
            .await?;
        }
        changed = true;
    }
    changed |= Store::seed_classification(&mut tx).await?;
    // Training
    changed |= Store::seed_training(&mut tx).await?;
    changed |= Store::seed_basic_policy(&mut tx).await?;
    // Catalogue
    changed |= Store::seed_catalogue(&mut tx).await?;
    if changed {
        tx.commit().await?;
    }
    Ok(())
}
