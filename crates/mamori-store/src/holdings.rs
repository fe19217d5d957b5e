//! What a person holds — assets in their custody, role assignments, a login account — and the
//! two moments it must move: a transfer (人事異動: a new unit) and leaving (離任). Both are one
//! audited step: everything the caller decided is applied in one transaction, or nothing.

use crate::{
    format_ts, AssetRow, PersonRow, Result, RoleAssignmentRow, Store, StoreError, UserRow, WriteTx,
};
use mamori_domain::{AssetId, PersonId, UnitId};
use time::OffsetDateTime;

/// Everything a person holds.
#[derive(Debug, Clone)]
pub struct Holdings {
    /// Assets (not disposed) they are custodian of.
    pub assets: Vec<AssetRow>,
    /// Their role assignments.
    pub roles: Vec<RoleAssignmentRow>,
    /// Their login account, if any.
    pub account: Option<UserRow>,
    /// Sessions and active API tokens of that account.
    pub active_credentials: i64,
}

impl Holdings {
    /// True when nothing is left to reassign or revoke.
    pub fn is_empty(&self) -> bool {
        self.assets.is_empty()
            && self.roles.is_empty()
            && self.account.as_ref().is_none_or(|a| a.disabled)
            && self.active_credentials == 0
    }
}

/// A person who has left and still holds something.
#[derive(Debug, Clone)]
pub struct LeaverRow {
    /// The person.
    pub person: PersonRow,
    /// Assets in their custody.
    pub assets: i64,
    /// Role assignments.
    pub roles: i64,
    /// An enabled account.
    pub has_account: bool,
}

/// What a transfer (or leaving) changes; everything else stays.
#[derive(Debug, Clone, Default)]
pub struct TransferPlan {
    /// The new unit (`None`: the unit stays).
    pub new_unit: Option<UnitId>,
    /// Assets to hand to another custodian (`None`: no custodian).
    pub reassign: Vec<(AssetId, Option<PersonId>)>,
    /// Role assignments to end.
    pub remove_roles: Vec<i64>,
    /// Disable the login account and end its sessions and tokens.
    pub disable_account: bool,
}

impl Store {
    /// What a person holds.
    pub async fn holdings(&self, person: PersonId) -> Result<Holdings> {
        let account = self.user_for_person(person).await?;
        let active_credentials = match &account {
            Some(u) => {
                sqlx::query_scalar::<_, i64>(
                    "SELECT (SELECT COUNT(*) FROM sessions WHERE user_id = $1) + \
                     (SELECT COUNT(*) FROM api_tokens WHERE user_id = $1 AND revoked_at IS NULL)",
                )
                .bind(u.id.0)
                .fetch_one(&self.pool)
                .await?
            }
            None => 0,
        };
        Ok(Holdings {
            assets: self.assets_in_custody(person).await?,
            roles: self.person_roles(person).await?,
            account,
            active_credentials,
        })
    }

    /// People whose 離任日 is before `today` and who still hold assets, roles or an enabled
    /// account, by staff id.
    pub async fn leavers_with_holdings(&self, today: time::Date) -> Result<Vec<LeaverRow>> {
        let rows: Vec<(i64, i64, i64, i64)> = sqlx::query_as(
            "SELECT p.id, \
               (SELECT COUNT(*) FROM assets a WHERE a.custodian_id = p.id AND a.status <> 'disposed'), \
               (SELECT COUNT(*) FROM role_assignments r WHERE r.person_id = p.id), \
               (SELECT COUNT(*) FROM users u WHERE u.person_id = p.id AND u.disabled = 0) \
             FROM people p WHERE p.left_on IS NOT NULL AND p.left_on < $1 ORDER BY p.staff_id",
        )
        .bind(today.to_string())
        .fetch_all(&self.pool)
        .await?;
        let mut out = Vec::new();
        for (id, assets, roles, accounts) in rows {
            if assets + roles + accounts == 0 {
                continue;
            }
            if let Some(person) = self.person(PersonId(id)).await? {
                out.push(LeaverRow {
                    person,
                    assets,
                    roles,
                    has_account: accounts > 0,
                });
            }
        }
        Ok(out)
    }

    /// Applies a transfer plan in the caller's transaction: the unit, each reassigned asset,
    /// each ended role, the account — each audited — and one `person.transfer` entry that
    /// names them all.
    pub async fn transfer_person(
        tx: &mut WriteTx,
        person: PersonId,
        plan: &TransferPlan,
    ) -> Result<()> {
        let before = Self::person_in_tx(tx, person).await?;
        if let Some(unit) = plan.new_unit.filter(|u| *u != before.unit_id) {
            let input = crate::PersonInput {
                staff_id: before.staff_id.clone(),
                name: before.name.clone(),
                kana: before.kana.clone(),
                unit_id: unit,
                category: before.category.clone(),
                email: before.email.clone(),
                joined_on: before.joined_on.clone(),
                left_on: before.left_on.clone(),
            };
            Self::update_person(tx, person, &input).await?;
        }
        for (asset, custodian) in &plan.reassign {
            let current = Self::asset_in_tx(tx, *asset).await?;
            if current.custodian_id != Some(person) {
                return Err(StoreError::Rule("error-not-custodian"));
            }
            if *custodian == Some(person) {
                continue;
            }
            let mut draft = current.draft()?;
            draft.custodian = *custodian;
            let scheme = Self::scheme_in_tx(tx).await?;
            Self::write_asset(tx, &scheme, Some(current), &draft, "asset.reassign").await?;
        }
        for assignment in &plan.remove_roles {
            let owner: Option<Option<i64>> =
                sqlx::query_scalar("SELECT person_id FROM role_assignments WHERE id = $1")
                    .bind(assignment)
                    .fetch_optional(tx.conn())
                    .await?;
            if owner.flatten() != Some(person.0) {
                return Err(StoreError::Rule("error-not-holder"));
            }
            Self::unassign_role(tx, *assignment).await?;
        }
        if plan.disable_account {
            Self::disable_account_of(tx, person).await?;
        }
        tx.audit(
            "person.transfer",
            "person",
            &before.staff_id,
            Some(serde_json::json!({"unit": before.unit})),
            Some(serde_json::json!({
                "unit_id": plan.new_unit.map(|u| u.0),
                "reassigned": plan.reassign.iter().map(|(a, p)| serde_json::json!({"asset": a.0, "custodian": p.map(|p| p.0)})).collect::<Vec<_>>(),
                "roles_removed": plan.remove_roles,
                "account_disabled": plan.disable_account,
            })),
        )
        .await?;
        Ok(())
    }

    /// Disables the person's account and ends its sessions and API tokens (audited).
    pub async fn disable_account_of(tx: &mut WriteTx, person: PersonId) -> Result<bool> {
        let user: Option<(i64, String)> =
            sqlx::query_as("SELECT id, username FROM users WHERE person_id = $1")
                .bind(person.0)
                .fetch_optional(tx.conn())
                .await?;
        let Some((user, username)) = user else {
            return Ok(false);
        };
        let now = format_ts(OffsetDateTime::now_utc());
        sqlx::query("UPDATE users SET disabled = 1, updated_at = $1 WHERE id = $2")
            .bind(&now)
            .bind(user)
            .execute(tx.conn())
            .await?;
        let sessions = sqlx::query("DELETE FROM sessions WHERE user_id = $1")
            .bind(user)
            .execute(tx.conn())
            .await?
            .rows_affected();
        let tokens = sqlx::query(
            "UPDATE api_tokens SET revoked_at = $1 WHERE user_id = $2 AND revoked_at IS NULL",
        )
        .bind(&now)
        .bind(user)
        .execute(tx.conn())
        .await?
        .rows_affected();
        tx.audit(
            "user.disable",
            "user",
            &username,
            None,
            Some(serde_json::json!({"sessions_ended": sessions, "tokens_revoked": tokens})),
        )
        .await?;
        Ok(true)
    }

    /// Ends the sessions and API tokens of everyone whose 離任日 is before `today` (what a
    /// change of 離任日 requires at once); returns how many accounts it touched.
    pub async fn revoke_access_of_leavers(tx: &mut WriteTx, today: time::Date) -> Result<u64> {
        let people: Vec<i64> = sqlx::query_scalar(
            "SELECT p.id FROM people p JOIN users u ON u.person_id = p.id \
             WHERE p.left_on IS NOT NULL AND p.left_on < $1 AND ( \
               EXISTS (SELECT 1 FROM sessions s WHERE s.user_id = u.id) OR \
               EXISTS (SELECT 1 FROM api_tokens t WHERE t.user_id = u.id AND t.revoked_at IS NULL))",
        )
        .bind(today.to_string())
        .fetch_all(tx.conn())
        .await?;
        for p in &people {
            Self::disable_account_of(tx, PersonId(*p)).await?;
        }
        Ok(people.len() as u64)
    }
}
