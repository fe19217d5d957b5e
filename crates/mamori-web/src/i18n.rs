//! Messages in Japanese (the default) and English, from Fluent files embedded in the binary.
//!
//! Every string a user reads comes from `locales/{ja,en}/*.ftl` (`main.ftl`, and one file per
//! area such as `risk.ftl`); a test checks that both languages define the same message ids.

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

    /// Every ftl file of a language, concatenated (the loader reads them all).
    fn ftl(lang: &str) -> String {
        let dir = std::path::Path::new(env!("CARGO_MANIFEST_DIR"))
            .join("locales")
            .join(lang);
        let mut paths: Vec<_> = std::fs::read_dir(dir)
            .expect("locales")
            .flatten()
            .map(|e| e.path())
            .filter(|p| p.extension().is_some_and(|e| e == "ftl"))
            .collect();
        paths.sort();
        paths
            .iter()
            .map(|p| std::fs::read_to_string(p).expect("ftl"))
            .collect::<Vec<_>>()
            .join("\n")
    }

    #[test]
    fn ja_and_en_define_the_same_messages() {
        let ja = message_ids(&ftl("ja"));
        let en = message_ids(&ftl("en"));
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
        // Templates: every `c.t("id")` / `c.t1("id", …)`. Rust sources: every string literal
        // shaped like a message id whose prefix is one the files use (`error-…`, `flash-…`).
        let ja = message_ids(&ftl("ja"));
        let prefixes: std::collections::BTreeSet<&str> =
            ja.iter().filter_map(|id| id.split('-').next()).collect();
        let root = std::path::Path::new(env!("CARGO_MANIFEST_DIR"));
        let read_dir = |dir: &str| -> Vec<String> {
            std::fs::read_dir(root.join(dir))
                .into_iter()
                .flatten()
                .flatten()
                .filter(|e| e.path().is_file())
                .map(|e| std::fs::read_to_string(e.path()).unwrap_or_default())
                .collect()
        };
        let mut used = Vec::new();
        for text in read_dir("templates") {
            for marker in ["c.t(\"", "c.t1(\""] {
                used.extend(
                    text.split(marker)
                        .skip(1)
                        .map(|p| p.chars().take_while(|c| *c != '"').collect::<String>()),
                );
            }
        }
        let mut rust_sources = read_dir("src");
        rust_sources.extend(read_dir("src/pages"));
        rust_sources.extend(read_dir("../mamori/src"));
        rust_sources.extend(read_dir("../mamori-domain/src"));
        rust_sources.extend(read_dir("../mamori-domain/src/interchange"));
        for text in rust_sources {
            for part in text.split('"').skip(1).step_by(2) {
                // Strings of that shape that are not messages: a CLI command, a header value.
                let not_messages = ["audit-log", "no-store"];
                let shaped = part.contains('-')
                    && !part.ends_with('-')
                    && !not_messages.contains(&part)
                    && part
                        .bytes()
                        .all(|b| b.is_ascii_lowercase() || b.is_ascii_digit() || b == b'-')
                    && part.split('-').next().is_some_and(|p| prefixes.contains(p));
                if shaped {
                    used.push(part.to_owned());
                }
            }
        }
        let mut missing: Vec<String> = used.into_iter().filter(|id| !ja.contains(id)).collect();
        missing.sort();
        missing.dedup();
        assert!(
            missing.is_empty(),
            "message ids used but not defined: {missing:?}"
        );
    }
}
