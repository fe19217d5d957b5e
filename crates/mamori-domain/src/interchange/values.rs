//! Cell values: codes, levels, booleans, dates and references are folded (full-width to ASCII,
//! surrounding spaces trimmed); names and descriptions are kept exactly as written.

use crate::wareki::fold_fullwidth;

/// A code, level, boolean, date or reference as compared: full-width folded and trimmed.
pub fn fold(value: &str) -> String {
    fold_fullwidth(value).trim().to_owned()
}

/// `true`/`false`, `有`/`無`, `○`/`×`, `はい`/`いいえ` (also `yes`/`no`, `1`/`0`).
pub fn parse_bool(value: &str) -> Option<bool> {
    match fold(value).to_lowercase().as_str() {
        "true" | "有" | "○" | "〇" | "はい" | "yes" | "1" => Some(true),
        "false" | "無" | "×" | "いいえ" | "no" | "0" => Some(false),
        _ => None,
    }
}

/// How a boolean is written in a file: labels (`有`/`無`) or codes (`true`/`false`).
pub fn write_bool(value: bool, labels: bool) -> &'static str {
    match (value, labels) {
        (true, true) => "有",
        (false, true) => "無",
        (true, false) => "true",
        (false, false) => "false",
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn booleans_in_every_spelling() {
        for t in ["true", "TRUE", "有", "○", "はい", " ｔｒｕｅ "] {
            assert_eq!(parse_bool(t), Some(true), "{t}");
        }
        for f in ["false", "無", "×", "いいえ"] {
            assert_eq!(parse_bool(f), Some(false), "{f}");
        }
        assert_eq!(parse_bool("maybe"), None);
        assert_eq!(fold(" ３Ａ "), "3A");
    }
}
