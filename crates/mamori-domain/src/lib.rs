//! Mamori's domain: the words of the 情報セキュリティポリシー as types and rules.
//!
//! This crate is pure: no I/O, no database, no HTTP, no async runtime. Everything here can be
//! property-tested in isolation. Starting content (roles, units, categories) is data the store
//! seeds ([`seed`]); only the permission set ([`permission`]) is fixed in code.

pub mod assets;
pub mod audit;
pub mod authz;
// Catalogue
pub mod catalogue;
pub mod interchange;
pub mod password;
pub mod permission;
pub mod policy;
pub mod risk;
pub mod seed;
pub mod settings;
pub mod throttle;
// Training
pub mod training;
pub mod wareki;

use serde::{Deserialize, Serialize};

macro_rules! id_type {
    ($(#[$doc:meta])* $name:ident) => {
        $(#[$doc])*
        #[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
        #[serde(transparent)]
        pub struct $name(pub i64);

        impl std::fmt::Display for $name {
            fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
                self.0.fmt(f)
            }
        }
    };
}

id_type!(
    /// An organisation unit (a body, department, section…).
    UnitId
);
id_type!(
    /// A person (職員等) in the people register.
    PersonId
);
id_type!(
    /// A login account.
    UserId
);
id_type!(
    /// An information asset (情報資産), Mamori's `資産ID`.
    AssetId
);

/// A string that is a stable ASCII code: 1–64 characters of `a-z`, `0-9`, `_`, `-`, `.`.
pub fn is_valid_code(code: &str) -> bool {
    !code.is_empty()
        && code.len() <= 64
        && code
            .bytes()
            .all(|b| b.is_ascii_lowercase() || b.is_ascii_digit() || b"_-.".contains(&b))
}

/// A username: 1–64 characters of ASCII letters, digits, `_`, `-`, `.`, `@`.
pub fn is_valid_username(name: &str) -> bool {
    !name.is_empty()
        && name.len() <= 64
        && name
            .bytes()
            .all(|b| b.is_ascii_alphanumeric() || b"_-.@".contains(&b))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn codes_and_usernames() {
        assert!(is_valid_code("assembly_office"));
        assert!(!is_valid_code("Assembly"));
        assert!(!is_valid_code(""));
        assert!(!is_valid_code("事務局"));
        assert!(is_valid_username("s.tanaka@kuwana"));
        assert!(!is_valid_username("tanaka taro"));
    }
}
