//! Password rules: length, no username, not a common password, not repetitive.
//!
//! Length is counted in Unicode characters, not bytes, so a Japanese passphrase such as
//! `やまのぼり大好き2026年` counts 13. Full-width ASCII is folded to ASCII before the
//! username and common-password checks, so `ｐａｓｓｗｏｒｄ１２３４` is no better than
//! `password1234`.
//!
//! The common-password list is data: `data/common-passwords.txt`, embedded and loaded once.

use std::collections::HashSet;
use std::sync::OnceLock;

use serde::{Deserialize, Serialize};

use crate::wareki::fold_fullwidth;

/// The fewest characters (Unicode scalar values) a password may have.
pub const MIN_PASSWORD_CHARS: usize = 12;

/// The most characters a password may have; bounds the cost of hashing.
pub const MAX_PASSWORD_CHARS: usize = 256;

/// The fewest distinct characters a password must contain.
pub const MIN_DISTINCT_CHARS: usize = 5;

/// The shortest username that is looked for inside passwords (shorter ones would match by
/// accident; a password equal to the username is refused whatever its length).
pub const MIN_USERNAME_CHARS_CHECKED: usize = 3;

/// The embedded common-password list (`data/common-passwords.txt`).
const COMMON_PASSWORDS_TXT: &str = include_str!("../data/common-passwords.txt");

/// Why a password is refused.
///
/// Serialised with a `problem` tag, e.g. `{"problem":"too_short","min":12}`.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error, Serialize, Deserialize)]
#[serde(tag = "problem", rename_all = "snake_case")]
pub enum PasswordProblem {
    /// Fewer than `min` characters.
    #[error("the password must have at least {min} characters")]
    TooShort {
        /// The minimum number of characters.
        min: usize,
    },
    /// More than `max` characters.
    #[error("the password must have at most {max} characters")]
    TooLong {
        /// The maximum number of characters.
        max: usize,
    },
    /// The password contains or equals the username (ignoring case).
    #[error("the password must not contain the username")]
    ContainsUsername,
    /// The password is a common one, or a common word padded with digits or punctuation.
    #[error("the password is too common")]
    Common,
    /// The password uses too few distinct characters.
    #[error("the password uses too few different characters")]
    Repetitive,
}

impl PasswordProblem {
    /// The Fluent message id: `password-too-short` (with `$min`), `password-too-long` (with
    /// `$max`), `password-contains-username`, `password-common`, `password-repetitive`.
    pub fn message_id(&self) -> &'static str {
        match self {
            PasswordProblem::TooShort { .. } => "password-too-short",
            PasswordProblem::TooLong { .. } => "password-too-long",
            PasswordProblem::ContainsUsername => "password-contains-username",
            PasswordProblem::Common => "password-common",
            PasswordProblem::Repetitive => "password-repetitive",
        }
    }
}

/// The common-password set, loaded once from the embedded list (comment lines skipped).
fn common_passwords() -> &'static HashSet<&'static str> {
    static SET: OnceLock<HashSet<&'static str>> = OnceLock::new();
    SET.get_or_init(|| {
        COMMON_PASSWORDS_TXT
            .lines()
            .map(str::trim)
            .filter(|line| !line.is_empty() && !line.starts_with('#'))
            .collect()
    })
}

/// Whether `password` is on the common-password list: as typed (ignoring case and full-width),
/// or once trailing — and then also leading — digits, punctuation and spaces are stripped
/// (`Password1234!` → `password`, `2026sakura!!` → `sakura`).
pub fn is_common_password(password: &str) -> bool {
    let set = common_passwords();
    let lower = fold_fullwidth(password).to_lowercase();
    let padding = |c: char| c.is_ascii_digit() || c.is_ascii_punctuation() || c.is_whitespace();
    let trailing_stripped = lower.trim_end_matches(padding);
    let both_stripped = trailing_stripped.trim_start_matches(padding);
    let candidates = [lower.as_str(), trailing_stripped, both_stripped];
    candidates
        .iter()
        .any(|candidate| !candidate.is_empty() && set.contains(candidate))
}

/// Whether the password contains the username (or, for `name@example.jp`, its local part
/// `name`), ignoring case and full-width; only usernames of at least
/// [`MIN_USERNAME_CHARS_CHECKED`] characters are looked for, but equality always counts.
fn contains_username(password: &str, username: &str) -> bool {
    let password = fold_fullwidth(password).to_lowercase();
    let username = fold_fullwidth(username.trim()).to_lowercase();
    if username.is_empty() {
        return false;
    }
    let local_part = username.split('@').next().unwrap_or_default();
    let names = [username.as_str(), local_part];
    names.iter().any(|name| {
        !name.is_empty()
            && (password == *name
                || (name.chars().count() >= MIN_USERNAME_CHARS_CHECKED && password.contains(name)))
    })
}

/// Every problem with a password, in the order [`check_password`] reports them; empty when the
/// password is acceptable. A password that is too short or too long is not checked further.
pub fn password_problems(password: &str, username: &str) -> Vec<PasswordProblem> {
    let chars = password.chars().count();
    if chars < MIN_PASSWORD_CHARS {
        return vec![PasswordProblem::TooShort {
            min: MIN_PASSWORD_CHARS,
        }];
    }
    if chars > MAX_PASSWORD_CHARS {
        return vec![PasswordProblem::TooLong {
            max: MAX_PASSWORD_CHARS,
        }];
    }
    let mut problems = Vec::new();
    if contains_username(password, username) {
        problems.push(PasswordProblem::ContainsUsername);
    }
    let distinct: HashSet<char> = password.chars().collect();
    if distinct.len() < MIN_DISTINCT_CHARS {
        problems.push(PasswordProblem::Repetitive);
    }
    if is_common_password(password) {
        problems.push(PasswordProblem::Common);
    }
    problems
}

/// Checks a new password for the user `username`, returning the first problem found, in this
/// order: [`TooShort`](PasswordProblem::TooShort), [`TooLong`](PasswordProblem::TooLong),
/// [`ContainsUsername`](PasswordProblem::ContainsUsername),
/// [`Repetitive`](PasswordProblem::Repetitive), [`Common`](PasswordProblem::Common).
///
/// Lengths count Unicode characters, not bytes: between [`MIN_PASSWORD_CHARS`] and
/// [`MAX_PASSWORD_CHARS`]. Never panics.
pub fn check_password(password: &str, username: &str) -> Result<(), PasswordProblem> {
    match password_problems(password, username).into_iter().next() {
        Some(problem) => Err(problem),
        None => Ok(()),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    #[test]
    fn good_passphrases_pass() {
        assert_eq!(
            check_password("correct horse battery staple", "tanaka"),
            Ok(())
        );
        assert_eq!(check_password("Kuwana-river at dawn 7", "suzuki"), Ok(()));
        let japanese = "やまのぼり大好き2026年";
        assert_eq!(japanese.chars().count(), 13);
        assert!(japanese.len() > 30);
        assert_eq!(check_password(japanese, "yamada"), Ok(()));
    }

    #[test]
    fn too_short_counts_chars_not_bytes() {
        let short = PasswordProblem::TooShort { min: 12 };
        assert_eq!(check_password("", "u"), Err(short.clone()));
        assert_eq!(check_password("Xq7#pL2!vR9", "u"), Err(short.clone()));
        // 8 characters but 24 bytes.
        assert_eq!(check_password("やまのぼり大好き", "u"), Err(short));
        assert_eq!(check_password("Xq7#pL2!vR9z", "u"), Ok(()));
    }

    #[test]
    fn too_long() {
        let long: String = "abcdefghij".repeat(26); // 260 chars
        assert_eq!(
            check_password(&long, "user"),
            Err(PasswordProblem::TooLong { max: 256 })
        );
        let ok: String = "abcdefghij".repeat(25) + "klmnop"; // 256 chars
        assert_eq!(check_password(&ok, "user"), Ok(()));
        let japanese: String = "山川".repeat(129); // 258 chars, 774 bytes
        assert_eq!(
            check_password(&japanese, "user"),
            Err(PasswordProblem::TooLong { max: 256 })
        );
    }

    #[test]
    fn contains_username() {
        assert_eq!(
            check_password("adminadmin12", "admin"),
            Err(PasswordProblem::ContainsUsername)
        );
        assert_eq!(
            check_password("my TANAKA is great 99", "tanaka"),
            Err(PasswordProblem::ContainsUsername)
        );
        assert_eq!(
            check_password("xyz-ｔａｎａｋａ-river", "Tanaka"),
            Err(PasswordProblem::ContainsUsername)
        );
        assert_eq!(
            check_password("walk with tanaka today", "tanaka@city.example.lg.jp"),
            Err(PasswordProblem::ContainsUsername)
        );
        assert_eq!(
            check_password("longusername12", "LongUserName12"),
            Err(PasswordProblem::ContainsUsername)
        );
        // Usernames shorter than 3 chars are not looked for inside the password.
        assert_eq!(check_password("correct horse battery staple", "or"), Ok(()));
        assert_eq!(check_password("correct horse battery staple", ""), Ok(()));
    }

    #[test]
    fn common_passwords_are_refused() {
        for pw in [
            "Password1234",
            "password1234",
            "PASSWORD1234!",
            "password123!",
            "P@ssw0rd2026!",
            "passw0rd12345",
            "qwertyuiop12",
            "1qaz2wsx3edc",
            "qazwsxedc123",
            "iloveyou2026",
            "sakura123456",
            "doraemon2026",
            "pokemon12345",
            "arigatou1234",
            "tokyo1234567",
            "mamori202604",
            "kuwana2026!!",
            "administrator",
            "admin123456!",
            "ｐａｓｓｗｏｒｄ１２３４",
            "2026sakura!!",
            "パスワード1234567",
        ] {
            assert_eq!(
                check_password(pw, "someone"),
                Err(PasswordProblem::Common),
                "{pw}"
            );
        }
    }

    #[test]
    fn repetitive() {
        assert_eq!(
            check_password("aaaaaaaaaaaa", "user"),
            Err(PasswordProblem::Repetitive)
        );
        assert_eq!(
            check_password("abcdabcdabcdabcd", "user"),
            Err(PasswordProblem::Repetitive)
        );
        assert_eq!(
            check_password("ああいいううええ", "user").map_err(|p| p.message_id()),
            Err("password-too-short")
        );
        assert_eq!(
            check_password("ああいいううええああいい", "user"),
            Err(PasswordProblem::Repetitive)
        );
    }

    #[test]
    fn all_problems_are_listed() {
        assert_eq!(
            password_problems("qweqweqweqwe", "qwe"),
            vec![
                PasswordProblem::ContainsUsername,
                PasswordProblem::Repetitive
            ]
        );
        assert_eq!(
            password_problems("Password1234", "password"),
            vec![PasswordProblem::ContainsUsername, PasswordProblem::Common]
        );
        assert_eq!(
            password_problems("11111111111111", "user"),
            vec![PasswordProblem::Repetitive]
        );
        assert!(password_problems("correct horse battery staple", "x").is_empty());
    }

    #[test]
    fn message_ids() {
        let cases = [
            (PasswordProblem::TooShort { min: 12 }, "password-too-short"),
            (PasswordProblem::TooLong { max: 256 }, "password-too-long"),
            (
                PasswordProblem::ContainsUsername,
                "password-contains-username",
            ),
            (PasswordProblem::Common, "password-common"),
            (PasswordProblem::Repetitive, "password-repetitive"),
        ];
        for (problem, id) in cases {
            assert_eq!(problem.message_id(), id);
        }
    }

    #[test]
    fn serde_shape() {
        let json = serde_json::to_string(&PasswordProblem::TooShort { min: 12 }).expect("json");
        assert_eq!(json, r#"{"problem":"too_short","min":12}"#);
        let json = serde_json::to_string(&PasswordProblem::Common).expect("json");
        assert_eq!(json, r#"{"problem":"common"}"#);
        let back: PasswordProblem =
            serde_json::from_str(r#"{"problem":"too_long","max":256}"#).expect("parses");
        assert_eq!(back, PasswordProblem::TooLong { max: 256 });
    }

    #[test]
    fn common_list_is_well_formed() {
        assert!(COMMON_PASSWORDS_TXT.len() < 300 * 1024);
        assert!(COMMON_PASSWORDS_TXT.starts_with('#'), "source header first");
        let set = common_passwords();
        assert!(set.len() >= 1000, "only {} entries", set.len());
        for entry in set {
            assert_eq!(*entry, entry.trim(), "{entry:?}");
            assert_eq!(*entry, entry.to_lowercase(), "{entry:?}");
        }
        for word in [
            "password",
            "qwerty",
            "iloveyou",
            "admin",
            "welcome",
            "letmein",
            "dragon",
            "monkey",
            "baseball",
            "football",
            "abc123",
            "111111",
            "123456",
            "sunshine",
            "princess",
            "sakura",
            "doraemon",
            "pokemon",
            "arigatou",
            "tokyo",
            "qwertyuiop",
            "asdfghjkl",
            "1qaz2wsx3edc",
            "qazwsxedc",
            "password123!",
            "passw0rd",
            "p@ssw0rd",
            "mamori",
            "kuwana",
            "inabe",
            "admin123456",
            "administrator",
        ] {
            assert!(set.contains(word), "{word} missing");
        }
    }

    proptest! {
        #[test]
        fn never_panics(password in "\\PC{0,300}", username in "\\PC{0,20}") {
            let _ = check_password(&password, &username);
        }

        #[test]
        fn length_rules_count_chars(password in "\\PC{0,300}") {
            let n = password.chars().count();
            let result = check_password(&password, "");
            if n < MIN_PASSWORD_CHARS {
                prop_assert_eq!(result, Err(PasswordProblem::TooShort { min: MIN_PASSWORD_CHARS }));
            } else if n > MAX_PASSWORD_CHARS {
                prop_assert_eq!(result, Err(PasswordProblem::TooLong { max: MAX_PASSWORD_CHARS }));
            } else {
                let length_problem = matches!(
                    result,
                    Err(PasswordProblem::TooShort { .. } | PasswordProblem::TooLong { .. })
                );
                prop_assert!(!length_problem, "{} chars: {:?}", n, result);
            }
        }
    }
}
