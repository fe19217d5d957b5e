//! Policy bodies as safe HTML.
//!
//! The Markdown is rendered with pulldown-cmark (plain CommonMark, the same options as
//! [`super::markdown::outline`]), each clause heading and marked list item gets the id
//! [`super::markdown::html_id`] of its anchor, and the result is sanitised with ammonia:
//! raw HTML tags outside ammonia's allow-list, `<script>`/`<style>` with their content, event
//! attributes, `style`, and URLs other than `http`, `https`, `mailto` and relative ones are
//! removed; links get `rel="noopener noreferrer"`. Images are removed as well (pages load
//! nothing from another origin). `id` is kept only on `h2`, `h3` and `li`, and only when it has
//! the clause-id shape (`c` followed by `[0-9a-z-]`, see
//! [`super::markdown::is_clause_html_id`]).

use super::markdown::{html_id, is_clause_html_id, parser_options, walk};
use pulldown_cmark::{html, CowStr, Event, Parser, Tag};
use std::borrow::Cow;
use std::collections::HashSet;
use std::sync::LazyLock;

static CLEANER: LazyLock<ammonia::Builder<'static>> = LazyLock::new(|| {
    let mut builder = ammonia::Builder::default();
    builder
        .rm_tags(["img"])
        .url_schemes(HashSet::from(["http", "https", "mailto"]))
        .link_rel(Some("noopener noreferrer"))
        .add_tag_attributes("h2", ["id"])
        .add_tag_attributes("h3", ["id"])
        .add_tag_attributes("li", ["id"])
        .attribute_filter(|_element, attribute, value| {
            if attribute == "id" && !is_clause_html_id(value) {
                None
            } else {
                Some(Cow::Borrowed(value))
            }
        });
    builder
});

/// Renders a policy body to sanitised HTML with clause ids (see the [module](self)).
pub fn render_html(markdown: &str) -> String {
    let mut events: Vec<Event<'_>> = Parser::new_ext(markdown, parser_options()).collect();
    let marked = walk(&events).marked;
    for (index, anchor) in marked {
        let id = html_id(&anchor);
        let Some(event) = events.get_mut(index) else {
            continue;
        };
        match event {
            Event::Start(Tag::Heading { id: slot, .. }) => {
                *slot = Some(CowStr::from(id));
            }
            Event::Start(Tag::Item) => {
                *event = Event::Html(CowStr::from(format!("<li id=\"{id}\">")));
            }
            _ => {}
        }
    }
    let mut unsafe_html = String::with_capacity(markdown.len() * 2);
    html::push_html(&mut unsafe_html, events.into_iter());
    CLEANER.clean(&unsafe_html).to_string()
}
