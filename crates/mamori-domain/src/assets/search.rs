//! Search keys that make Japanese findable on both databases without database extensions.
//!
//! Stored text stays as written; its *key* is NFKC-normalised and lower-cased, so `ｻｰﾊﾞ` and
//! `サーバ`, `ＳＥＲＶＥＲ` and `server` meet. The key is cut into overlapping two-character
//! grams, which the store indexes: a query of two or more characters is answered from the
//! index (every gram of the query must be present) and then confirmed as a substring of the
//! key, so `監査` and `介護` both work and gram order cannot produce false matches. A
//! one-character query is answered by the substring test alone.

use std::collections::BTreeSet;
use unicode_normalization::UnicodeNormalization;

/// The key text is compared on: NFKC, lower case.
pub fn search_key(text: &str) -> String {
    text.nfkc().flat_map(char::to_lowercase).collect()
}

/// The key of several fields, one per line (a gram never spans two fields).
pub fn record_key<'a>(fields: impl IntoIterator<Item = &'a str>) -> String {
    fields
        .into_iter()
        .map(search_key)
        .collect::<Vec<_>>()
        .join("\n")
}

/// The distinct two-character grams of a key; whitespace separates words (no gram spans it).
/// A word of one character gives no gram.
pub fn grams(key: &str) -> BTreeSet<String> {
    let mut out = BTreeSet::new();
    for word in key.split(char::is_whitespace) {
        let chars: Vec<char> = word.chars().collect();
        for pair in chars.windows(2) {
            out.insert(pair.iter().collect());
        }
    }
    out
}

/// How to answer a query: words that must all occur in the key, and the grams that must all
/// be indexed for the record (empty when every word is a single character).
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct SearchPlan {
    /// Folded words; each must be a substring of the key.
    pub words: Vec<String>,
    /// Grams of those words (deduplicated, at most [`MAX_QUERY_GRAMS`]).
    pub grams: Vec<String>,
}

impl SearchPlan {
    /// The words a candidate found through `gram` must still be checked for as substrings of
    /// the key: all of them, except a two-character word that *is* that gram (an asset indexed
    /// under a gram contains it, since grams never span whitespace and words have none).
    pub fn words_to_confirm(&self, gram: &str) -> Vec<&str> {
        self.words
            .iter()
            .map(String::as_str)
            .filter(|w| *w != gram)
            .collect()
    }
}

/// Enough grams to narrow any query; more only make the index query slower.
pub const MAX_QUERY_GRAMS: usize = 8;

/// Plans a free-text query (whitespace-separated words, all required).
pub fn plan(query: &str) -> SearchPlan {
    let key = search_key(query);
    let words: Vec<String> = key.split_whitespace().map(str::to_owned).collect();
    let mut all = BTreeSet::new();
    for w in &words {
        all.extend(grams(w));
    }
    SearchPlan {
        words,
        grams: all.into_iter().take(MAX_QUERY_GRAMS).collect(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_two_character_word_is_its_own_gram_and_needs_no_confirmation() {
        let p = plan("介護 保険システム");
        assert_eq!(p.words_to_confirm("介護"), ["保険システム"]);
        assert_eq!(p.words_to_confirm("険シ"), ["介護", "保険システム"]);
        assert_eq!(plan("ｻｰﾊﾞ").words_to_confirm("サー"), ["サーバ"]);
    }

    #[test]
    fn half_width_kana_and_full_width_latin_fold_to_the_same_key() {
        assert_eq!(search_key("ｻｰﾊﾞ"), search_key("サーバ"));
        assert_eq!(search_key("ＳＥＲＶＥＲ"), "server");
        assert_eq!(search_key("①"), "1");
    }

    #[test]
    fn two_character_queries_use_the_index_and_one_character_ones_do_not() {
        let p = plan("監査");
        assert_eq!(p.grams, ["監査"]);
        assert_eq!(p.words, ["監査"]);
        let one = plan("介");
        assert!(one.grams.is_empty());
        assert_eq!(one.words, ["介"]);
        let g = grams(&record_key(["介護保険システム", "本庁 3F"]));
        assert!(plan("介護").grams.iter().all(|x| g.contains(x)));
        assert!(!g.contains("ム\n"), "no gram spans two fields");
    }

    #[test]
    fn every_gram_of_a_substring_is_a_gram_of_the_text() {
        let text = search_key("財務会計システム（サーバ室）Server-01");
        let g = grams(&text);
        let chars: Vec<char> = text.chars().collect();
        for start in 0..chars.len() {
            for end in start + 2..=chars.len() {
                let sub: String = chars[start..end].iter().collect();
                assert!(plan(&sub).grams.iter().all(|x| g.contains(x)), "{sub}");
            }
        }
    }
}
