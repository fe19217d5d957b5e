//! The organisation: units, employment categories, roles, people, role assignments and the
//! organisation's settings.
//!
//! Rows derive `utoipa::ToSchema` because the JSON API serves them as they are; that keeps one
//! definition of each record's shape.

use crate::list::{Filter, ListQuery};
use crate::{format_ts, on_unique, Result, Store, StoreError, WriteTx};
use mamori_domain::authz::{Grant, Grants, Scope};
use mamori_domain::permission::parse_permission_list;
use mamori_domain::seed::EVERYONE_ROLE;
use mamori_domain::settings::OrgSettings;
use mamori_domain::{PersonId, UnitId, UserId};
use serde::Serialize;
use sqlx::any::AnyRow;
use sqlx::Row;
use time::OffsetDateTime;
use utoipa::ToSchema;

/// An organisation unit.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, ToSchema)]
pub struct UnitRow {
    /// Internal id.
    #[schema(value_type = i64)]
    pub id: UnitId,
    /// Stable code.
    pub code: String,
    /// Name.
    pub name: String,
    /// The parent unit's code.
    pub parent: Option<String>,
    /// Whether the unit is in the policy's scope.
    pub in_scope: bool,
    /// Created (RFC 3339).
    pub created_at: String,
    /// Last changed (RFC 3339).
    pub updated_at: String,
    #[serde(skip)]
    #[schema(ignore)]
    /// The parent's id (internal).
    pub parent_id: Option<UnitId>,
}

/// What a unit form or import supplies.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct UnitInput {
    /// Stable code (validated by the caller).
    pub code: String,
    /// Name.
    pub name: String,
    /// The parent's id.
    pub parent_id: Option<UnitId>,
    /// In scope of the policy.
    pub in_scope: bool,
}

/// An employment category (clause 5).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, ToSchema)]
pub struct CategoryRow {
    /// Code.
    pub code: String,
    /// Japanese label.
    pub label_ja: String,
    /// English label.
    pub label_en: String,
}

/// A role: data that grants permissions.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, ToSchema)]
pub struct RoleRow {
    /// Code.
    pub code: String,
    /// Japanese label.
    pub label_ja: String,
    /// English label.
    pub label_en: String,
    /// Permission codes, space-separated.
    pub permissions: String,
}

/// A person (職員等).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, ToSchema)]
pub struct PersonRow {
    /// Internal id.
    #[schema(value_type = i64)]
    pub id: PersonId,
    /// 職員番号 (text: leading zeros kept).
    pub staff_id: String,
    /// 氏名.
    pub name: String,
    /// ふりがな.
    pub kana: String,
    /// The unit's code.
    pub unit: String,
    /// The unit's name.
    pub unit_name: String,
    /// Employment category code.
    pub category: String,
    /// E-mail.
    pub email: String,
    /// 着任日 (YYYY-MM-DD).
    pub joined_on: Option<String>,
    /// 離任日 (YYYY-MM-DD).
    pub left_on: Option<String>,
    /// Role assignments as `role` or `role@unit`.
    pub roles: Vec<String>,
    #[serde(skip)]
    #[schema(ignore)]
    /// The unit's id (internal).
    pub unit_id: UnitId,
}

/// What a person form or import supplies.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PersonInput {
    /// 職員番号.
    pub staff_id: String,
    /// 氏名.
    pub name: String,
    /// ふりがな.
    pub kana: String,
    /// Unit.
    pub unit_id: UnitId,
    /// Employment category code.
    pub category: String,
    /// E-mail.
    pub email: String,
    /// 着任日.
    pub joined_on: Option<String>,
    /// 離任日.
    pub left_on: Option<String>,
}

/// One role held by a person or account, in a scope.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct RoleAssignmentRow {
    /// Internal id.
    pub id: i64,
    /// Role code.
    pub role_code: String,
    /// The unit's id, or `None` for the whole organisation.
    pub unit_id: Option<UnitId>,
    /// The unit's code.
    pub unit_code: Option<String>,
}

impl RoleAssignmentRow {
    /// `role` or `role@unit`.
    pub fn label(&self) -> String {
        match &self.unit_code {
            Some(u) => format!("{}@{}", self.role_code, u),
            None => self.role_code.clone(),
        }
    }
}

const UNIT_SELECT: &str =
    "SELECT u.id, u.code, u.name, u.parent_id, p.code AS parent_code, u.in_scope, \
    u.created_at, u.updated_at FROM units u LEFT JOIN units p ON p.id = u.parent_id";

fn unit_from_row(r: &AnyRow) -> Result<UnitRow> {
    Ok(UnitRow {
        id: UnitId(r.try_get("id")?),
        code: r.try_get("code")?,
        name: r.try_get("name")?,
        parent_id: r.try_get::<Option<i64>, _>("parent_id")?.map(UnitId),
        parent: r.try_get("parent_code")?,
        in_scope: r.try_get::<i64, _>("in_scope")? != 0,
        created_at: r.try_get("created_at")?,
        updated_at: r.try_get("updated_at")?,
    })
}

const PERSON_COLUMNS: &str = "p.id, p.staff_id, p.name, p.kana, p.unit_id, u.code AS unit_code, \
    u.name AS unit_name, p.category, p.email, p.joined_on, p.left_on";
const PERSON_FROM: &str = "FROM people p JOIN units u ON u.id = p.unit_id";

fn person_from_row(r: &AnyRow) -> Result<PersonRow> {
    Ok(PersonRow {
        id: PersonId(r.try_get("id")?),
        staff_id: r.try_get("staff_id")?,
        name: r.try_get("name")?,
        kana: r.try_get("kana")?,
        unit_id: UnitId(r.try_get("unit_id")?),
        unit: r.try_get("unit_code")?,
        unit_name: r.try_get("unit_name")?,
        category: r.try_get("category")?,
        email: r.try_get("email")?,
        joined_on: r.try_get("joined_on")?,
        left_on: r.try_get("left_on")?,
        roles: Vec::new(),
    })
}

fn now() -> String {
    format_ts(OffsetDateTime::now_utc())
}

fn json<T: Serialize>(v: &T) -> Option<serde_json::Value> {
    serde_json::to_value(v).ok()
}

/// Filters for the people list.
#[derive(Debug, Clone, Default)]
pub struct PeopleFilter {
    /// Restrict to these units and their descendants (`None`: everywhere).
    pub unit_roots: Option<Vec<UnitId>>,
    /// Free text over staff id, name and kana.
    pub query: Option<String>,
    /// One unit and the units beneath it.
    pub unit: Option<UnitId>,
    /// Employment category code.
    pub category: Option<String>,
    /// `Some(day)`: only people who have not left before `day`; see `left_only`.
    pub on: Option<time::Date>,
    /// With `on`: only those who have left before it instead.
    pub left_only: bool,
}

impl Store {
    /// Every unit, parents before children where possible (by code within a level).
    pub async fn units(&self) -> Result<Vec<UnitRow>> {
        let rows = sqlx::query(&format!("{UNIT_SELECT} ORDER BY u.sort_order, u.id"))
            .fetch_all(&self.pool)
            .await?;
        rows.iter().map(unit_from_row).collect()
    }

    /// One unit by id.
    pub async fn unit(&self, id: UnitId) -> Result<Option<UnitRow>> {
        let row = sqlx::query(&format!("{UNIT_SELECT} WHERE u.id = $1"))
            .bind(id.0)
            .fetch_optional(&self.pool)
            .await?;
        row.as_ref().map(unit_from_row).transpose()
    }

    /// One unit by code.
    pub async fn unit_by_code(&self, code: &str) -> Result<Option<UnitRow>> {
        let row = sqlx::query(&format!("{UNIT_SELECT} WHERE u.code = $1"))
            .bind(code)
            .fetch_optional(&self.pool)
            .await?;
        row.as_ref().map(unit_from_row).transpose()
    }

    /// The unit followed by its ancestors up to the root.
    pub async fn unit_lineage(&self, id: UnitId) -> Result<Vec<UnitId>> {
        let ids: Vec<i64> = sqlx::query_scalar(
            "WITH RECURSIVE up(id, parent_id, depth) AS ( \
               SELECT id, parent_id, 0 FROM units WHERE id = $1 \
               UNION ALL SELECT u.id, u.parent_id, up.depth + 1 FROM units u JOIN up ON u.id = up.parent_id \
               WHERE up.depth < 64) SELECT id FROM up ORDER BY depth",
        )
        .bind(id.0)
        .fetch_all(&self.pool)
        .await?;
        Ok(ids.into_iter().map(UnitId).collect())
    }

    /// The given units and every unit beneath them.
    pub async fn unit_subtrees(&self, roots: &[UnitId]) -> Result<Vec<UnitId>> {
        let all = self.units().await?;
        let mut out: Vec<UnitId> = roots.to_vec();
        let mut i = 0;
        while i < out.len() {
            let parent = out[i];
            for u in all.iter().filter(|u| u.parent_id == Some(parent)) {
                if !out.contains(&u.id) {
                    out.push(u.id);
                }
            }
            i += 1;
        }
        Ok(out)
    }

    /// Creates a unit.
    pub async fn create_unit(tx: &mut WriteTx, input: &UnitInput) -> Result<UnitRow> {
        let at = now();
        let id: i64 = sqlx::query_scalar(
            "INSERT INTO units (code, name, parent_id, in_scope, created_at, updated_at) \
             VALUES ($1, $2, $3, $4, $5, $5) RETURNING id",
        )
        .bind(&input.code)
        .bind(&input.name)
        .bind(input.parent_id.map(|p| p.0))
        .bind(i64::from(input.in_scope))
        .bind(&at)
        .fetch_one(tx.conn())
        .await
        .map_err(on_unique("code"))?;
        let row = Self::unit_in_tx(tx, UnitId(id)).await?;
        tx.audit("unit.create", "unit", &row.code, None, json(&row))
            .await?;
        Ok(row)
    }

    /// A unit by code, seeing this transaction's own changes.
    pub async fn unit_by_code_in_tx(tx: &mut WriteTx, code: &str) -> Result<Option<UnitRow>> {
        let row = sqlx::query(&format!("{UNIT_SELECT} WHERE u.code = $1"))
            .bind(code)
            .fetch_optional(tx.conn())
            .await?;
        row.as_ref().map(unit_from_row).transpose()
    }

    async fn unit_in_tx(tx: &mut WriteTx, id: UnitId) -> Result<UnitRow> {
        let row = sqlx::query(&format!("{UNIT_SELECT} WHERE u.id = $1"))
            .bind(id.0)
            .fetch_optional(tx.conn())
            .await?
            .ok_or(StoreError::Missing("unit"))?;
        unit_from_row(&row)
    }

    /// Changes a unit. A unit cannot become its own ancestor.
    pub async fn update_unit(tx: &mut WriteTx, id: UnitId, input: &UnitInput) -> Result<UnitRow> {
        let before = Self::unit_in_tx(tx, id).await?;
        if let Some(parent) = input.parent_id {
            let mut cursor = Some(parent);
            let mut hops = 0;
            while let Some(c) = cursor {
                if c == id || hops > 64 {
                    return Err(StoreError::Rule("error-unit-cycle"));
                }
                cursor = Self::unit_in_tx(tx, c).await?.parent_id;
                hops += 1;
            }
        }
        sqlx::query("UPDATE units SET code = $1, name = $2, parent_id = $3, in_scope = $4, updated_at = $5 WHERE id = $6")
            .bind(&input.code)
            .bind(&input.name)
            .bind(input.parent_id.map(|p| p.0))
            .bind(i64::from(input.in_scope))
            .bind(now())
            .bind(id.0)
            .execute(tx.conn())
            .await
            .map_err(on_unique("code"))?;
        let after = Self::unit_in_tx(tx, id).await?;
        tx.audit(
            "unit.update",
            "unit",
            &after.code,
            json(&before),
            json(&after),
        )
        .await?;
        Ok(after)
    }

    /// The employment categories.
    pub async fn categories(&self) -> Result<Vec<CategoryRow>> {
        let rows: Vec<(String, String, String)> = sqlx::query_as(
            "SELECT code, label_ja, label_en FROM employment_categories ORDER BY sort_order, code",
        )
        .fetch_all(&self.pool)
        .await?;
        Ok(rows
            .into_iter()
            .map(|(code, label_ja, label_en)| CategoryRow {
                code,
                label_ja,
                label_en,
            })
            .collect())
    }

    /// The roles.
    pub async fn roles(&self) -> Result<Vec<RoleRow>> {
        let rows: Vec<(String, String, String, String)> = sqlx::query_as(
            "SELECT code, label_ja, label_en, permissions FROM roles ORDER BY sort_order, code",
        )
        .fetch_all(&self.pool)
        .await?;
        Ok(rows
            .into_iter()
            .map(|(code, label_ja, label_en, permissions)| RoleRow {
                code,
                label_ja,
                label_en,
                permissions,
            })
            .collect())
    }

    /// A page of people matching the filter, ordered by staff id, and the total.
    pub async fn people_page(
        &self,
        filter: &PeopleFilter,
        limit: i64,
        offset: i64,
    ) -> Result<(Vec<PersonRow>, i64)> {
        let mut f = Filter::default();
        if let Some(roots) = &filter.unit_roots {
            let units = self.unit_subtrees(roots).await?;
            if units.is_empty() {
                return Ok((Vec::new(), 0));
            }
            let list: Vec<String> = units.iter().map(|u| u.0.to_string()).collect();
            f.raw(format!("p.unit_id IN ({})", list.join(",")));
        }
        if let Some(unit) = filter.unit {
            let units = self.unit_subtrees(&[unit]).await?;
            let list: Vec<String> = units.iter().map(|u| u.0.to_string()).collect();
            f.raw(format!("p.unit_id IN ({})", list.join(",")));
        }
        f.eq("p.category", filter.category.as_deref());
        if let Some(day) = filter.on {
            if filter.left_only {
                f.add("(p.left_on IS NOT NULL AND p.left_on < ?)", day.to_string());
            } else {
                f.add("(p.left_on IS NULL OR p.left_on >= ?)", day.to_string());
            }
        }
        f.contains_any(&["p.staff_id", "p.name", "p.kana"], filter.query.as_deref());
        let query = ListQuery {
            columns: PERSON_COLUMNS,
            from: PERSON_FROM,
            order: "p.staff_id",
            count_from: Some("FROM people p"),
        };
        let (mut people, total) = query
            .page(&self.pool, &f, limit, offset, person_from_row)
            .await?;
        self.attach_roles(&mut people).await?;
        Ok((people, total))
    }

    async fn attach_roles(&self, people: &mut [PersonRow]) -> Result<()> {
        if people.is_empty() {
            return Ok(());
        }
        let ids: Vec<String> = people.iter().map(|p| p.id.0.to_string()).collect();
        let rows: Vec<(i64, String, Option<String>)> = sqlx::query_as(&format!(
            "SELECT a.person_id, a.role_code, u.code FROM role_assignments a LEFT JOIN units u ON u.id = a.unit_id \
             WHERE a.person_id IN ({}) ORDER BY a.id",
            ids.join(",")
        ))
        .fetch_all(&self.pool)
        .await?;
        for (pid, role, unit) in rows {
            if let Some(p) = people.iter_mut().find(|p| p.id.0 == pid) {
                p.roles.push(match unit {
                    Some(u) => format!("{role}@{u}"),
                    None => role,
                });
            }
        }
        Ok(())
    }

    /// One person by id.
    pub async fn person(&self, id: PersonId) -> Result<Option<PersonRow>> {
        let row = sqlx::query(&format!(
            "SELECT {PERSON_COLUMNS} {PERSON_FROM} WHERE p.id = $1"
        ))
        .bind(id.0)
        .fetch_optional(&self.pool)
        .await?;
        let Some(row) = row else { return Ok(None) };
        let mut people = vec![person_from_row(&row)?];
        self.attach_roles(&mut people).await?;
        Ok(people.pop())
    }

    /// One person by staff id.
    pub async fn person_by_staff_id(&self, staff_id: &str) -> Result<Option<PersonRow>> {
        let id: Option<i64> = sqlx::query_scalar("SELECT id FROM people WHERE staff_id = $1")
            .bind(staff_id)
            .fetch_optional(&self.pool)
            .await?;
        match id {
            Some(id) => self.person(PersonId(id)).await,
            None => Ok(None),
        }
    }

    pub(crate) async fn person_in_tx(tx: &mut WriteTx, id: PersonId) -> Result<PersonRow> {
        let row = sqlx::query(&format!(
            "SELECT {PERSON_COLUMNS} {PERSON_FROM} WHERE p.id = $1"
        ))
        .bind(id.0)
        .fetch_optional(tx.conn())
        .await?
        .ok_or(StoreError::Missing("person"))?;
        let mut person = person_from_row(&row)?;
        let roles: Vec<(String, Option<String>)> = sqlx::query_as(
            "SELECT a.role_code, u.code FROM role_assignments a LEFT JOIN units u ON u.id = a.unit_id \
             WHERE a.person_id = $1 ORDER BY a.id",
        )
        .bind(id.0)
        .fetch_all(tx.conn())
        .await?;
        person.roles = roles
            .into_iter()
            .map(|(r, u)| u.map_or(r.clone(), |u| format!("{r}@{u}")))
            .collect();
        Ok(person)
    }

    /// Creates a person.
    pub async fn create_person(tx: &mut WriteTx, input: &PersonInput) -> Result<PersonRow> {
        let at = now();
        let id: i64 = sqlx::query_scalar(
            "INSERT INTO people (staff_id, name, kana, unit_id, category, email, joined_on, left_on, created_at, updated_at) \
             VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $9) RETURNING id",
        )
        .bind(&input.staff_id)
        .bind(&input.name)
        .bind(&input.kana)
        .bind(input.unit_id.0)
        .bind(&input.category)
        .bind(&input.email)
        .bind(&input.joined_on)
        .bind(&input.left_on)
        .bind(&at)
        .fetch_one(tx.conn())
        .await
        .map_err(on_unique("staff_id"))?;
        let row = Self::person_in_tx(tx, PersonId(id)).await?;
        tx.audit("person.create", "person", &row.staff_id, None, json(&row))
            .await?;
        Ok(row)
    }

    /// Changes a person.
    pub async fn update_person(
        tx: &mut WriteTx,
        id: PersonId,
        input: &PersonInput,
    ) -> Result<PersonRow> {
        let before = Self::person_in_tx(tx, id).await?;
        sqlx::query(
            "UPDATE people SET staff_id = $1, name = $2, kana = $3, unit_id = $4, category = $5, email = $6, \
             joined_on = $7, left_on = $8, updated_at = $9 WHERE id = $10",
        )
        .bind(&input.staff_id)
        .bind(&input.name)
        .bind(&input.kana)
        .bind(input.unit_id.0)
        .bind(&input.category)
        .bind(&input.email)
        .bind(&input.joined_on)
        .bind(&input.left_on)
        .bind(now())
        .bind(id.0)
        .execute(tx.conn())
        .await
        .map_err(on_unique("staff_id"))?;
        let after = Self::person_in_tx(tx, id).await?;
        tx.audit(
            "person.update",
            "person",
            &after.staff_id,
            json(&before),
            json(&after),
        )
        .await?;
        Ok(after)
    }

    /// Role assignments of a person.
    pub async fn person_roles(&self, id: PersonId) -> Result<Vec<RoleAssignmentRow>> {
        self.assignments("a.person_id = $1", id.0).await
    }

    /// Role assignments held directly by an account (not through its person).
    pub async fn user_roles(&self, id: UserId) -> Result<Vec<RoleAssignmentRow>> {
        self.assignments("a.user_id = $1", id.0).await
    }

    async fn assignments(&self, clause: &str, id: i64) -> Result<Vec<RoleAssignmentRow>> {
        let rows: Vec<(i64, String, Option<i64>, Option<String>)> = sqlx::query_as(&format!(
            "SELECT a.id, a.role_code, a.unit_id, u.code FROM role_assignments a \
             LEFT JOIN units u ON u.id = a.unit_id WHERE {clause} ORDER BY a.id"
        ))
        .bind(id)
        .fetch_all(&self.pool)
        .await?;
        Ok(rows
            .into_iter()
            .map(|(id, role_code, unit_id, unit_code)| RoleAssignmentRow {
                id,
                role_code,
                unit_id: unit_id.map(UnitId),
                unit_code,
            })
            .collect())
    }

    /// Gives a role to a person or an account (exactly one), scoped to a unit or everywhere.
    pub async fn assign_role(
        tx: &mut WriteTx,
        holder: RoleHolder,
        role_code: &str,
        unit_id: Option<UnitId>,
    ) -> Result<i64> {
        let (person, user, entity_type, entity_id) = match holder {
            RoleHolder::Person(p) => (Some(p.0), None, "person", p.0.to_string()),
            RoleHolder::User(u) => (None, Some(u.0), "user", u.0.to_string()),
        };
        let id: i64 = sqlx::query_scalar(
            "INSERT INTO role_assignments (person_id, user_id, role_code, unit_id) VALUES ($1, $2, $3, $4) RETURNING id",
        )
        .bind(person)
        .bind(user)
        .bind(role_code)
        .bind(unit_id.map(|u| u.0))
        .fetch_one(tx.conn())
        .await
        .map_err(on_unique("role"))?;
        let after = serde_json::json!({"role": role_code, "unit_id": unit_id.map(|u| u.0)});
        tx.audit("role.assign", entity_type, &entity_id, None, Some(after))
            .await?;
        Ok(id)
    }

    /// Removes a role assignment.
    pub async fn unassign_role(tx: &mut WriteTx, assignment_id: i64) -> Result<()> {
        let row: Option<AssignmentParts> = sqlx::query_as(
            "SELECT person_id, user_id, role_code, unit_id FROM role_assignments WHERE id = $1",
        )
        .bind(assignment_id)
        .fetch_optional(tx.conn())
        .await?;
        let (person, user, role, unit) = row.ok_or(StoreError::Missing("role assignment"))?;
        sqlx::query("DELETE FROM role_assignments WHERE id = $1")
            .bind(assignment_id)
            .execute(tx.conn())
            .await?;
        let (entity_type, entity_id) = match (person, user) {
            (Some(p), _) => ("person", p.to_string()),
            (_, Some(u)) => ("user", u.to_string()),
            _ => ("role_assignment", assignment_id.to_string()),
        };
        let before = serde_json::json!({"role": role, "unit_id": unit});
        tx.audit("role.unassign", entity_type, &entity_id, Some(before), None)
            .await?;
        Ok(())
    }

    /// The permissions an account holds: its own assignments, its person's assignments, and
    /// the everyone role on its person's unit.
    pub async fn grants_for_user(&self, user: UserId) -> Result<(Grants, Vec<String>)> {
        let rows: Vec<(String, Option<i64>, String)> = sqlx::query_as(
            "SELECT r.code, a.unit_id, r.permissions FROM role_assignments a JOIN roles r ON r.code = a.role_code \
             WHERE a.user_id = $1 OR a.person_id = (SELECT person_id FROM users WHERE id = $1) \
             UNION ALL SELECT r.code, p.unit_id, r.permissions FROM users us JOIN people p ON p.id = us.person_id \
             JOIN roles r ON r.code = $2 WHERE us.id = $1",
        )
        .bind(user.0)
        .bind(EVERYONE_ROLE)
        .fetch_all(&self.pool)
        .await?;
        let mut grants = Vec::new();
        let mut role_codes = Vec::new();
        for (role, unit, perms) in rows {
            let scope = unit.map_or(Scope::Organisation, |u| Scope::Unit(UnitId(u)));
            let perms = parse_permission_list(&perms).map_err(|bad| {
                StoreError::Corrupt(format!("role {role}: unknown permission {bad}"))
            })?;
            grants.extend(
                perms
                    .into_iter()
                    .map(|permission| Grant { permission, scope }),
            );
            if !role_codes.contains(&role) {
                role_codes.push(role);
            }
        }
        Ok((Grants::new(grants), role_codes))
    }

    /// The organisation's settings (defaults for anything not stored).
    pub async fn settings(&self) -> Result<OrgSettings> {
        let rows: Vec<(String, String)> = sqlx::query_as("SELECT key, value FROM settings")
            .fetch_all(&self.pool)
            .await?;
        let mut value = serde_json::to_value(OrgSettings::default())
            .map_err(|e| StoreError::Corrupt(e.to_string()))?;
        if let Some(map) = value.as_object_mut() {
            for (k, v) in rows {
                if map.contains_key(&k) {
                    let parsed = serde_json::from_str(&v)
                        .map_err(|e| StoreError::Corrupt(format!("setting {k}: {e}")))?;
                    map.insert(k, parsed);
                }
            }
        }
        serde_json::from_value(value).map_err(|e| StoreError::Corrupt(e.to_string()))
    }

    /// Saves the settings (every field), auditing before and after. The risk scale may change
    /// only while the risk register is empty (`risk-error-scale-locked`).
    pub async fn save_settings(
        tx: &mut WriteTx,
        before: &OrgSettings,
        after: &OrgSettings,
    ) -> Result<()> {
        if before.risk_scale != after.risk_scale {
            // Risk register: stored ratings and levels belong to the scale they were made on.
            let risks: i64 = sqlx::query_scalar("SELECT COUNT(*) FROM risks")
                .fetch_one(tx.conn())
                .await?;
            if risks > 0 {
                return Err(StoreError::Rule("risk-error-scale-locked"));
            }
        }
        let value = serde_json::to_value(after).map_err(|e| StoreError::Corrupt(e.to_string()))?;
        if let Some(map) = value.as_object() {
            for (k, v) in map {
                sqlx::query("DELETE FROM settings WHERE key = $1")
                    .bind(k)
                    .execute(tx.conn())
                    .await?;
                sqlx::query("INSERT INTO settings (key, value) VALUES ($1, $2)")
                    .bind(k)
                    .bind(v.to_string())
                    .execute(tx.conn())
                    .await?;
            }
        }
        tx.audit(
            "settings.update",
            "settings",
            "organisation",
            json(before),
            json(after),
        )
        .await?;
        Ok(())
    }
}

/// (person, user, role, unit) of a stored assignment.
type AssignmentParts = (Option<i64>, Option<i64>, String, Option<i64>);

impl UnitRow {
    /// The unit as a file holds it.
    pub fn to_record(&self) -> mamori_domain::interchange::units::UnitRecord {
        mamori_domain::interchange::units::UnitRecord {
            code: self.code.clone(),
            name: self.name.clone(),
            parent: self.parent.clone(),
            in_scope: self.in_scope,
        }
    }
}

impl PersonRow {
    /// The person as a file holds it (references as codes).
    pub fn to_record(&self) -> mamori_domain::interchange::people::PersonRecord {
        let date = |d: &Option<String>| {
            d.as_deref()
                .and_then(|d| mamori_domain::wareki::parse_date(d).ok())
        };
        mamori_domain::interchange::people::PersonRecord {
            staff_id: self.staff_id.clone(),
            name: self.name.clone(),
            kana: self.kana.clone(),
            unit: self.unit.clone(),
            category: self.category.clone(),
            email: self.email.clone(),
            roles: Some(mamori_domain::interchange::people::parse_roles(
                &self.roles.join(";"),
            )),
            joined_on: date(&self.joined_on),
            left_on: date(&self.left_on),
        }
    }
}

impl Store {
    /// Every person matching the filter, in staff-id order (for exports).
    pub async fn people_all(&self, filter: &PeopleFilter) -> Result<Vec<PersonRow>> {
        let mut out = Vec::new();
        loop {
            let (page, total) = self.people_page(filter, 1000, out.len() as i64).await?;
            let done = page.is_empty() || out.len() + page.len() >= total as usize;
            out.extend(page);
            if done {
                return Ok(out);
            }
        }
    }
}

/// Who holds a role assignment.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum RoleHolder {
    /// A person in the register (the usual case).
    Person(PersonId),
    /// An account without a person (the first `admin`, service accounts).
    User(UserId),
}
