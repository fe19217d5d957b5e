//! Messages in Japanese (the default) and English, from Fluent files embedded in the binary.
//!
//! Every string a user reads comes from `locales/{ja,en}/main.ftl`; a test checks that both
//! files define the same message ids.

use fluent_templates::fluent_bundle::FluentValue;
use fluent_templates::{static_loader, Loader};
use std::borrow::Cow;
use std::collections::HashMap;

pub use mamori_domain::wareki::Lang;

static_loader! {
    static LOCALES = {
        locales: "./locales",
        fallback_language: "ja",
        customise: |bundle| bundle.set_use_isolating(false),
    };
}

fn langid(lang: Lang) -> unic_langid::LanguageIdentifier {
    match lang {
        Lang::Ja => unic_langid::langid!("ja"),
        Lang::En => unic_langid::langid!("en"),
    }
}

/// The message `id` in `lang`.
pub fn tr(lang: Lang, id: &str) -> String {
    LOCALES.lookup(&langid(lang), id)
}

/// The message `id` in `lang` with arguments.
pub fn tr_args(lang: Lang, id: &str, args: &[(&'static str, String)]) -> String {
    let map: HashMap<Cow<'static, str>, FluentValue<'_>> = args
        .iter()
        .map(|(k, v)| (Cow::Borrowed(*k), FluentValue::from(v.clone())))
        .collect();
    LOCALES.lookup_with_args(&langid(lang), id, &map)
}

/// The message ids defined in an ftl source (lines `id = …` at the start of a line).
pub fn message_ids(ftl: &str) -> std::collections::BTreeSet<String> {
    ftl.lines()
        .filter(|l| l.chars().next().is_some_and(|c| c.is_ascii_lowercase()))
        .filter_map(|l| l.split_once('=').map(|(id, _)| id.trim().to_owned()))
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    const JA: &str = include_str!("../locales/ja/main.ftl");
    const EN: &str = include_str!("../locales/en/main.ftl");

    #[test]
    fn ja_and_en_define_the_same_messages() {
        let ja = message_ids(JA);
        let en = message_ids(EN);
        let only_ja: Vec<_> = ja.difference(&en).collect();
        let only_en: Vec<_> = en.difference(&ja).collect();
        assert!(
            only_ja.is_empty() && only_en.is_empty(),
            "only in ja: {only_ja:?}; only in en: {only_en:?}"
        );
        assert!(ja.len() > 50);
    }

    #[test]
    fn lookups_differ_by_language_and_take_arguments() {
        assert_eq!(tr(Lang::Ja, "nav-home"), "ホーム");
        assert_eq!(tr(Lang::En, "nav-home"), "Home");
        assert!(tr_args(Lang::En, "list-count", &[("count", "3".into())]).contains('3'));
    }

    #[test]
    fn every_id_used_in_code_and_templates_exists() {
        // Ids referenced as "t(\"id\")" in templates and tr(…, "id") in code must be defined.
        let ja = message_ids(JA);
        let mut sources = String::new();
        for dir in ["templates", "src", "src/pages"] {
            let path = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join(dir);
            for entry in std::fs::read_dir(path).into_iter().flatten().flatten() {
                if entry.path().is_file() {
                    sources.push_str(&std::fs::read_to_string(entry.path()).unwrap_or_default());
                }
            }
        }
        let mut missing = Vec::new();
        for marker in ["t(\"", "tr(lang, \"", "tr(c.lang, \"", "tr(self.lang, \""] {
            for part in sources.split(marker).skip(1) {
                let id: String = part.chars().take_while(|c| *c != '"').collect();
                if !id.is_empty() && !ja.contains(&id) && !id.contains('{') {
                    missing.push(id);
                }
            }
        }
        missing.sort();
        missing.dedup();
        assert!(
            missing.is_empty(),
            "message ids used but not defined: {missing:?}"
        );
    }
}
