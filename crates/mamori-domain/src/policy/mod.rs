//! Policy documents (ポリシー文書, `DOMAIN.md` §6): importing the organisation's existing
//! text, the Markdown body of versions with its clause outline and stable anchors, safe HTML,
//! side-by-side comparison, and the version lifecycle.
//!
//! * [`text`] reads a plain-text policy of the 基本方針's shape into a clause tree.
//! * [`markdown`] the body convention, [`markdown::outline`] and [`markdown::html_id`].
//! * [`render`] Markdown → sanitised HTML with clause ids.
//! * [`diff`] side-by-side line and character comparison.
//! * [`lifecycle`] states, transitions, layers, visibility, 版数 and review dates.

pub mod diff;
pub mod lifecycle;
pub mod markdown;
pub mod render;
pub mod text;

/// The organisation 桑名・員弁広域連合's own 情報セキュリティポリシー（基本方針）, embedded as the
/// starting document (`content/policy/kuwana-inabe-basic-policy.txt`). It is the
/// organisation's text, not Mamori's; read it with [`text::import_text`].
pub const SEED_BASIC_POLICY: &str =
    include_str!("../../../../content/policy/kuwana-inabe-basic-policy.txt");

#[cfg(test)]
mod tests;
