//! Authorization decisions: who may do what, where.
//!
//! A [`Grant`] is one permission from one role assignment, scoped to the whole organisation or
//! to a unit (which covers that unit and every unit beneath it, `DOMAIN.md` §2). Every decision
//! in Mamori is made by [`Grants::allows`]; the web layer only asks.

use crate::permission::Permission;
use crate::UnitId;
use serde::{Deserialize, Serialize};

/// Where a role assignment applies.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
pub enum Scope {
    /// The whole organisation.
    Organisation,
    /// One unit and every unit beneath it.
    Unit(UnitId),
}

/// What a request acts on.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Target<'a> {
    /// Something that belongs to no unit (settings, the audit trail, accounts).
    Organisation,
    /// A record of a unit; `lineage` is that unit followed by its ancestors up to the root.
    Unit {
        /// The unit itself first, then its parent, and so on.
        lineage: &'a [UnitId],
    },
    /// "Anywhere": the question is whether the permission is held in any scope at all (used to
    /// decide whether a list page may be opened; the list is then filtered per unit).
    Anywhere,
}

/// One permission held in one scope.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub struct Grant {
    /// The permission.
    pub permission: Permission,
    /// Where it applies.
    pub scope: Scope,
}

/// The permissions a principal holds, with their scopes.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Grants {
    grants: Vec<Grant>,
}

impl Grants {
    /// Builds the set from individual grants (duplicates are harmless).
    pub fn new(grants: impl IntoIterator<Item = Grant>) -> Self {
        let mut grants: Vec<Grant> = grants.into_iter().collect();
        grants.sort_by_key(|g| (g.permission, format!("{:?}", g.scope)));
        grants.dedup();
        Grants { grants }
    }

    /// Grants for every permission of a role in one scope.
    pub fn from_role(permissions: &[Permission], scope: Scope) -> impl Iterator<Item = Grant> + '_ {
        permissions
            .iter()
            .map(move |&permission| Grant { permission, scope })
    }

    /// Keeps only the permissions that do not change anything (for read-only API tokens).
    pub fn read_only(self) -> Self {
        Grants::new(
            self.grants
                .into_iter()
                .filter(|g| is_read_permission(g.permission)),
        )
    }

    /// The decision: may this principal use `permission` on `target`?
    pub fn allows(&self, permission: Permission, target: &Target<'_>) -> bool {
        self.grants
            .iter()
            .filter(|g| g.permission == permission)
            .any(|g| match (g.scope, target) {
                (Scope::Organisation, _) => true,
                // An organisation-wide permission held only on a unit counts nowhere.
                (Scope::Unit(_), Target::Anywhere) => !permission.is_organisation_wide(),
                (Scope::Unit(_), Target::Organisation) => false,
                (Scope::Unit(_), _) if permission.is_organisation_wide() => false,
                (Scope::Unit(unit), Target::Unit { lineage }) => lineage.contains(&unit),
            })
    }

    /// May this principal give a role with `role_permissions` in `target` (a unit's lineage,
    /// or the organisation)? Either it may assign any role, or it manages people there and
    /// holds every permission the role grants there — nobody hands out more than they have.
    pub fn may_assign(&self, role_permissions: &[Permission], target: &Target<'_>) -> bool {
        if self.allows(Permission::RolesAssign, &Target::Organisation) {
            return true;
        }
        self.allows(Permission::PeopleManage, target)
            && role_permissions.iter().all(|p| self.allows(*p, target))
    }

    /// The units (roots of subtrees) in which `permission` is held, or `None` when it is held
    /// organisation-wide. Lists use this to filter rows.
    pub fn unit_roots(&self, permission: Permission) -> Option<Vec<UnitId>> {
        let mut roots = Vec::new();
        for g in self.grants.iter().filter(|g| g.permission == permission) {
            match g.scope {
                Scope::Organisation => return None,
                Scope::Unit(u) => roots.push(u),
            }
        }
        Some(roots)
    }

    /// Every grant, for display.
    pub fn iter(&self) -> impl Iterator<Item = &Grant> {
        self.grants.iter()
    }
}

/// True for permissions that only read.
pub fn is_read_permission(permission: Permission) -> bool {
    let code = permission.code();
    code.ends_with(".read") || code.ends_with(".read_basic")
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    const ROOT: UnitId = UnitId(1);
    const CHILD: UnitId = UnitId(2);
    const OTHER: UnitId = UnitId(3);

    #[test]
    fn unit_scope_covers_descendants_not_siblings() {
        let g = Grants::new([Grant {
            permission: Permission::PeopleManage,
            scope: Scope::Unit(ROOT),
        }]);
        assert!(g.allows(
            Permission::PeopleManage,
            &Target::Unit {
                lineage: &[CHILD, ROOT]
            }
        ));
        assert!(g.allows(Permission::PeopleManage, &Target::Unit { lineage: &[ROOT] }));
        assert!(!g.allows(
            Permission::PeopleManage,
            &Target::Unit { lineage: &[OTHER] }
        ));
        assert!(!g.allows(Permission::PeopleRead, &Target::Unit { lineage: &[ROOT] }));
        assert!(!g.allows(Permission::PeopleManage, &Target::Organisation));
        assert!(g.allows(Permission::PeopleManage, &Target::Anywhere));
    }

    #[test]
    fn organisation_wide_permissions_need_an_organisation_grant() {
        let unit = Grants::new([Grant {
            permission: Permission::AuditRead,
            scope: Scope::Unit(ROOT),
        }]);
        assert!(!unit.allows(Permission::AuditRead, &Target::Organisation));
        assert!(!unit.allows(Permission::AuditRead, &Target::Unit { lineage: &[ROOT] }));
        let org = Grants::new([Grant {
            permission: Permission::AuditRead,
            scope: Scope::Organisation,
        }]);
        assert!(org.allows(Permission::AuditRead, &Target::Organisation));
    }

    #[test]
    fn read_only_drops_writes() {
        let g = Grants::new([
            Grant {
                permission: Permission::PeopleManage,
                scope: Scope::Organisation,
            },
            Grant {
                permission: Permission::PeopleRead,
                scope: Scope::Organisation,
            },
        ])
        .read_only();
        assert!(g.allows(Permission::PeopleRead, &Target::Organisation));
        assert!(!g.allows(Permission::PeopleManage, &Target::Organisation));
    }

    #[test]
    fn nobody_hands_out_more_than_they_hold() {
        let manager = Grants::new(Grants::from_role(
            &[Permission::PeopleManage, Permission::PeopleRead],
            Scope::Unit(ROOT),
        ));
        let target = Target::Unit {
            lineage: &[CHILD, ROOT],
        };
        assert!(manager.may_assign(&[Permission::PeopleRead], &target));
        assert!(!manager.may_assign(&[Permission::PeopleRead, Permission::AuditRead], &target));
        assert!(!manager.may_assign(
            &[Permission::PeopleRead],
            &Target::Unit { lineage: &[OTHER] }
        ));
        let admin = Grants::new([Grant {
            permission: Permission::RolesAssign,
            scope: Scope::Organisation,
        }]);
        assert!(admin.may_assign(&[Permission::PolicyApprove], &Target::Organisation));
    }

    proptest! {
        /// An empty set of grants allows nothing, anywhere.
        #[test]
        fn nothing_without_grants(idx in 0..Permission::ALL.len(), unit in 0i64..100) {
            let g = Grants::default();
            let lineage = [UnitId(unit)];
            let on_unit = g.allows(Permission::ALL[idx], &Target::Unit { lineage: &lineage });
            let anywhere = g.allows(Permission::ALL[idx], &Target::Anywhere);
            prop_assert!(!on_unit);
            prop_assert!(!anywhere);
        }

        /// A unit grant allows a target exactly when the unit is in the target's lineage.
        #[test]
        fn unit_grant_matches_lineage(idx in 0..Permission::ALL.len(), granted in 0i64..20,
                                      lineage in proptest::collection::vec(0i64..20, 1..6)) {
            let p = Permission::ALL[idx];
            let g = Grants::new([Grant { permission: p, scope: Scope::Unit(UnitId(granted)) }]);
            let lineage: Vec<UnitId> = lineage.into_iter().map(UnitId).collect();
            let expected = !p.is_organisation_wide() && lineage.contains(&UnitId(granted));
            let allowed = g.allows(p, &Target::Unit { lineage: &lineage });
            prop_assert_eq!(allowed, expected);
        }
    }
}
