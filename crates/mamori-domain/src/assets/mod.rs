//! Information assets (`DOMAIN.md` §3): their vocabulary (types, network segments, lifecycle,
//! relations), the classification scheme and its levels, the handling rules that follow from a
//! class, the "container lower than its contents" warning, and the search keys that make
//! Japanese text findable.

pub mod classification;
pub mod handling;
pub mod search;
mod vocabulary;

pub use vocabulary::{AssetStatus, AssetType, RelationKind, Segment};

use crate::{PersonId, UnitId};
use classification::{Axis, Class, Scheme};

/// An asset as a form, the API or an import supplies it, with references resolved.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct AssetDraft {
    /// 名称.
    pub name: String,
    /// 種別.
    pub asset_type: AssetType,
    /// 所管組織.
    pub owner_unit: UnitId,
    /// 管理者.
    pub custodian: Option<PersonId>,
    /// ネットワーク区分.
    pub segment: Segment,
    /// C/I/A level codes.
    pub class: Class,
    /// 保管場所.
    pub location: String,
    /// 説明.
    pub description: String,
    /// 個人情報.
    pub personal_data: bool,
    /// 目標復旧時間（時間）.
    pub rto_hours: Option<u32>,
    /// 次回見直し日.
    pub review_on: Option<time::Date>,
    /// 状態.
    pub status: AssetStatus,
    /// 廃棄日.
    pub disposed_on: Option<time::Date>,
    /// 廃棄方法.
    pub disposal_method: String,
}

impl AssetDraft {
    /// Every rule the draft breaks, as (field code, message id): a name, levels of the
    /// organisation's scheme, a sensible recovery time, and a disposal record exactly when
    /// disposed.
    pub fn problems(&self, scheme: &Scheme) -> Vec<(&'static str, &'static str)> {
        let mut out = Vec::new();
        if self.name.trim().is_empty() {
            out.push(("name", "error-required"));
        } else if self.name.chars().count() > 200 {
            out.push(("name", "error-too-long"));
        }
        for axis in Axis::ALL {
            if scheme.level(axis, self.class.get(axis)).is_none() {
                out.push((axis.column(), "error-unknown-level"));
            }
        }
        if self
            .rto_hours
            .is_some_and(|h| h > crate::interchange::assets::MAX_RTO_HOURS)
        {
            out.push(("rto_hours", "error-number"));
        }
        out.extend(crate::interchange::assets::disposal_problems(
            self.status,
            self.disposed_on,
            &self.disposal_method,
        ));
        out
    }
}

/// Who may see an asset, decided from the grants of a principal (see [`crate::authz`]):
/// `assets.read` on the owning unit shows every asset; `assets.read_basic` (everyone's role on
/// their own unit) shows those whose confidentiality tier is at most 2.
pub fn may_see_asset(
    grants: &crate::authz::Grants,
    lineage: &[UnitId],
    confidentiality_tier: u8,
) -> bool {
    use crate::authz::Target;
    use crate::permission::Permission;
    let target = Target::Unit { lineage };
    grants.allows(Permission::AssetsRead, &target)
        || (confidentiality_tier <= BASIC_READ_MAX_TIER
            && grants.allows(Permission::AssetsReadBasic, &target))
}

/// The highest confidentiality tier everyone on a unit may see without a role there: 2 (not
/// secret, but not for publication). Tier 3 (3A–3C, classic 3) needs `assets.read`.
pub const BASIC_READ_MAX_TIER: u8 = 2;

#[cfg(test)]
mod tests {
    use super::*;
    use crate::authz::{Grant, Grants, Scope};
    use crate::permission::Permission;

    #[test]
    fn everyone_sees_up_to_tier_two_and_a_role_shows_the_rest() {
        let unit = UnitId(7);
        let lineage = [unit, UnitId(1)];
        let staff = Grants::new([Grant {
            permission: Permission::AssetsReadBasic,
            scope: Scope::Unit(unit),
        }]);
        assert!(may_see_asset(&staff, &lineage, 2));
        assert!(!may_see_asset(&staff, &lineage, 3));
        assert!(
            !may_see_asset(&staff, &[UnitId(8), UnitId(1)], 1),
            "another unit's assets stay hidden"
        );
        let manager = Grants::new([Grant {
            permission: Permission::AssetsRead,
            scope: Scope::Unit(UnitId(1)),
        }]);
        assert!(
            may_see_asset(&manager, &lineage, 3),
            "a role above covers it"
        );
    }
}
