//! Starting content shipped with Mamori (`DOMAIN.md` §2): units, employment categories and
//! roles. The store writes these as data when they are missing; organisations edit them
//! afterwards. Nothing here is consulted at run time except by the seeding step.

use crate::permission::Permission::{self, *};

/// A unit seeded on first start (the five bodies of clause 4(1)).
#[derive(Debug, Clone, Copy)]
pub struct UnitSeed {
    /// Stable code.
    pub code: &'static str,
    /// Japanese name.
    pub name: &'static str,
}

/// The five bodies in scope of the basic policy, clause 4(1).
pub const UNITS: &[UnitSeed] = &[
    UnitSeed {
        code: "secretariat",
        name: "事務局",
    },
    UnitSeed {
        code: "audit_office",
        name: "監査委員事務局",
    },
    UnitSeed {
        code: "election_board",
        name: "選挙管理委員会",
    },
    UnitSeed {
        code: "assembly",
        name: "議会",
    },
    UnitSeed {
        code: "assembly_office",
        name: "議会事務局",
    },
];

/// An employment category of 職員等 (clause 5).
#[derive(Debug, Clone, Copy)]
pub struct CategorySeed {
    /// Stable code.
    pub code: &'static str,
    /// Japanese label.
    pub label_ja: &'static str,
    /// English label.
    pub label_en: &'static str,
}

/// The eight employment categories of clause 5.
pub const CATEGORIES: &[CategorySeed] = &[
    CategorySeed {
        code: "regular",
        label_ja: "職員",
        label_en: "Regular staff",
    },
    CategorySeed {
        code: "assembly_member",
        label_ja: "議員",
        label_en: "Assembly member",
    },
    CategorySeed {
        code: "reappointed",
        label_ja: "再任用職員",
        label_en: "Reappointed staff",
    },
    CategorySeed {
        code: "fixed_term",
        label_ja: "任期付職員",
        label_en: "Fixed-term staff",
    },
    CategorySeed {
        code: "temporary",
        label_ja: "臨時的任用職員",
        label_en: "Temporary staff",
    },
    CategorySeed {
        code: "fiscal_year",
        label_ja: "会計年度任用職員",
        label_en: "Fiscal-year appointee",
    },
    CategorySeed {
        code: "special_part_time",
        label_ja: "特別職非常勤職員",
        label_en: "Special part-time official",
    },
    CategorySeed {
        code: "dispatched",
        label_ja: "派遣職員等（労働者派遣契約等により業務に従事する者）",
        label_en: "Dispatched worker (under a worker-dispatch or similar contract)",
    },
];

/// A role seeded on first start.
#[derive(Debug, Clone, Copy)]
pub struct RoleSeed {
    /// Stable code.
    pub code: &'static str,
    /// Japanese label.
    pub label_ja: &'static str,
    /// English label.
    pub label_en: &'static str,
    /// Permissions granted.
    pub permissions: &'static [Permission],
    /// Whether holders must use MFA by default.
    pub mfa_required: bool,
}

const READ_ORG: &[Permission] = &[UnitsRead, PeopleRead, AssetsRead];

/// The guideline's standard roles (`DOMAIN.md` §2) with their starting permissions.
pub const ROLES: &[RoleSeed] = &[
    RoleSeed {
        code: "ciso",
        label_ja: "最高情報セキュリティ責任者（CISO）",
        label_en: "Chief Information Security Officer (CISO)",
        permissions: &[
            UnitsRead,
            PeopleRead,
            AssetsRead,
            AuditRead,
            PolicyApprove,
            RiskAccept,
            IncidentReport,
        ],
        mfa_required: true,
    },
    RoleSeed {
        code: "chief_officer",
        label_ja: "統括情報セキュリティ責任者",
        label_en: "Chief Information Security Officer's deputy (統括情報セキュリティ責任者)",
        permissions: &[
            UnitsRead,
            UnitsManage,
            PeopleRead,
            PeopleManage,
            AssetsRead,
            AssetsEdit,
            AuditRead,
            PolicyEdit,
            TrainingManage,
            IncidentReport,
            // Catalogue
            CatalogueManage,
            ControlsUpdate,
            // Risk register
            RisksEdit,
        ],
        mfa_required: true,
    },
    RoleSeed {
        code: "unit_officer",
        label_ja: "情報セキュリティ責任者",
        label_en: "Information security officer (department)",
        permissions: &[
            UnitsRead,
            PeopleRead,
            AssetsRead,
            AssetsEdit,
            IncidentReport,
            // Catalogue
            ControlsUpdate,
            // Risk register
            RisksEdit,
        ],
        mfa_required: false,
    },
    RoleSeed {
        code: "unit_manager",
        label_ja: "情報セキュリティ管理者",
        label_en: "Information security manager (section)",
        permissions: &[
            UnitsRead,
            PeopleRead,
            PeopleManage,
            AssetsRead,
            AssetsEdit,
            TrainingManage,
            IncidentReport,
            // Catalogue
            ControlsUpdate,
            // Risk register
            RisksEdit,
        ],
        mfa_required: false,
    },
    RoleSeed {
        code: "system_manager",
        label_ja: "情報システム管理者",
        label_en: "Information system manager",
        permissions: &[
            UnitsRead,
            PeopleRead,
            AssetsRead,
            AssetsEdit,
            IncidentReport,
            // Catalogue
            ControlsUpdate,
            // Risk register
            RisksEdit,
        ],
        mfa_required: false,
    },
    RoleSeed {
        code: "system_staff",
        label_ja: "情報システム担当者",
        label_en: "Information system staff",
        permissions: &[UnitsRead, AssetsRead, IncidentReport],
        mfa_required: false,
    },
    RoleSeed {
        code: "csirt",
        label_ja: "CSIRT要員",
        label_en: "CSIRT member",
        permissions: &[UnitsRead, PeopleRead, AssetsRead, IncidentReport],
        mfa_required: false,
    },
    RoleSeed {
        code: "audit_lead",
        label_ja: "情報セキュリティ監査統括責任者",
        label_en: "Chief information security auditor",
        permissions: &[UnitsRead, PeopleRead, AssetsRead, AuditRead],
        mfa_required: false,
    },
    RoleSeed {
        code: "auditor",
        label_ja: "監査人",
        label_en: "Auditor",
        permissions: &[UnitsRead, PeopleRead, AssetsRead, AuditRead],
        mfa_required: false,
    },
    RoleSeed {
        code: "committee",
        label_ja: "情報セキュリティ委員会委員",
        label_en: "Information security committee member",
        permissions: READ_ORG,
        mfa_required: false,
    },
    RoleSeed {
        code: "staff",
        label_ja: "職員等",
        label_en: "Staff",
        permissions: &[UnitsRead, AssetsReadBasic, IncidentReport],
        mfa_required: false,
    },
    RoleSeed {
        code: "admin",
        label_ja: "Mamoriシステム管理者",
        label_en: "Mamori administrator",
        permissions: &[
            UnitsRead,
            UnitsManage,
            PeopleRead,
            PeopleManage,
            RolesAssign,
            AccountsManage,
            SettingsManage,
            AuditRead,
        ],
        mfa_required: true,
    },
];

/// The role every person holds implicitly, scoped to their own unit.
pub const EVERYONE_ROLE: &str = "staff";

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn five_bodies_and_eight_categories() {
        assert_eq!(UNITS.len(), 5);
        assert_eq!(CATEGORIES.len(), 8);
        assert!(ROLES.iter().any(|r| r.code == EVERYONE_ROLE));
    }

    #[test]
    fn admin_has_no_business_approvals_by_default() {
        let admin = ROLES
            .iter()
            .find(|r| r.code == "admin")
            .map(|r| r.permissions)
            .unwrap_or(&[]);
        assert!(!admin.contains(&PolicyApprove));
        assert!(!admin.contains(&RiskAccept));
    }

    #[test]
    fn mfa_required_by_default_for_admin_ciso_chief_officer() {
        let mut required: Vec<&str> = ROLES
            .iter()
            .filter(|r| r.mfa_required)
            .map(|r| r.code)
            .collect();
        required.sort();
        assert_eq!(required, ["admin", "chief_officer", "ciso"]);
    }
}
