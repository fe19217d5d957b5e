//! The fixed set of permissions. Roles (data) grant sets of these; code checks only these.
//!
//! A permission is either *unit-scoped* (it applies to records of a unit, and a grant on a unit
//! covers the units beneath it) or *organisation-wide* (it concerns Mamori as a whole, such as
//! its settings, and needs a grant scoped to the whole organisation).

use serde::{Deserialize, Serialize};

macro_rules! permissions {
    ($( $(#[$doc:meta])* $variant:ident = $code:literal, $wide:literal; )*) => {
        /// Something a person may do in Mamori. The set is fixed in code; roles are data.
        #[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
        pub enum Permission {
            $( $(#[$doc])* #[serde(rename = $code)] $variant, )*
        }

        impl Permission {
            /// Every permission, in declaration order.
            pub const ALL: &'static [Permission] = &[$(Permission::$variant),*];

            /// The stable code used in role definitions, files and the API.
            pub fn code(self) -> &'static str {
                match self { $(Permission::$variant => $code,)* }
            }

            /// True when the permission concerns the whole organisation and cannot be scoped
            /// to a unit.
            pub fn is_organisation_wide(self) -> bool {
                match self { $(Permission::$variant => $wide,)* }
            }

            /// Parses a permission code.
            pub fn from_code(code: &str) -> Option<Permission> {
                match code { $($code => Some(Permission::$variant),)* _ => None }
            }
        }
    };
}

permissions! {
    /// See organisation units.
    UnitsRead = "units.read", false;
    /// Create and edit organisation units beneath the scope.
    UnitsManage = "units.manage", false;
    /// See the people register.
    PeopleRead = "people.read", false;
    /// Create and edit people and their role assignments.
    PeopleManage = "people.manage", false;
    /// Give any role to anyone (bootstrapping the organisation: appointing the CISO).
    RolesAssign = "roles.assign", true;
    /// Create login accounts and API tokens for other users.
    AccountsManage = "accounts.manage", true;
    /// Change the organisation's settings (name, date style, time zone, MFA policy).
    SettingsManage = "settings.manage", true;
    /// Read and export the audit trail.
    AuditRead = "audit.read", true;
    /// See information assets.
    AssetsRead = "assets.read", false;
    /// See the assets of the unit whose confidentiality is at most tier 2 (everyone's role, on
    /// their own unit).
    AssetsReadBasic = "assets.read_basic", false;
    /// Create and edit information assets.
    AssetsEdit = "assets.edit", false;
    /// Approve a policy document version.
    /// Approve a version of a policy document (the CISO; never the version's author).
    PolicyApprove = "policy.approve", true;
    /// Draft, submit, publish and manage policy documents and follow up acknowledgements.
    PolicyEdit = "policy.edit", true;
    /// Run training: sessions and completion records for people of a unit; at the
    /// organisation's root unit also the course catalogue.
    TrainingManage = "training.manage", false;
    /// Accept a residual risk above the threshold.
    RiskAccept = "risk.accept", true;
    /// Report an incident.
    IncidentReport = "incident.report", false;
    // Catalogue
    /// Edit the organisation's threat and control catalogues (add, edit, retire, import).
    CatalogueManage = "catalogue.manage", true;
    /// Set a control's implementation status, evidence and verification for a unit.
    ControlsUpdate = "controls.update", false;
    // Risk register
    /// Record and change the risks of a unit, and request acceptance of a residual risk.
    RisksEdit = "risks.edit", false;
}

impl std::fmt::Display for Permission {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(self.code())
    }
}

/// Parses a whitespace-separated list of permission codes, naming the first unknown one.
pub fn parse_permission_list(text: &str) -> Result<Vec<Permission>, String> {
    text.split_whitespace()
        .map(|code| Permission::from_code(code).ok_or_else(|| code.to_owned()))
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn codes_round_trip_and_are_unique() {
        let mut seen = std::collections::HashSet::new();
        for p in Permission::ALL {
            assert_eq!(Permission::from_code(p.code()), Some(*p));
            assert!(seen.insert(p.code()), "duplicate code {}", p.code());
        }
        assert_eq!(Permission::from_code("nope"), None);
    }

    #[test]
    fn list_parsing_names_the_unknown_code() {
        assert_eq!(
            parse_permission_list("units.read  audit.read"),
            Ok(vec![Permission::UnitsRead, Permission::AuditRead])
        );
        assert_eq!(
            parse_permission_list("units.read bogus"),
            Err("bogus".into())
        );
    }
}
