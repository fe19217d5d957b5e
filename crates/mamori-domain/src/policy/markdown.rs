//! The body of a policy version: Markdown with clause markers, and its clause outline.
//!
//! # The convention
//!
//! ```markdown
//! ## 1. 目的
//!
//! paragraph…
//!
//! ### (1) ネットワーク
//!
//! paragraph…
//!
//! - (1) bullet text
//! - ① bullet text
//! ```
//!
//! * A level-2 heading starting `N.` (digits, a dot, then the title) is a top clause, anchor
//!   `N`, label `N.`.
//! * A level-3 heading starting `(n)` under a top clause is a sub-item, anchor `N(n)`, label
//!   `(n)`.
//! * A list item whose text starts with `(n)` or a circled number ①–⑳ is a bullet clause. Its
//!   parent is the enclosing marked list item if the list is nested in one, otherwise the
//!   innermost heading clause (the current `###` sub-item, else the current `##` clause). Its
//!   anchor is the parent's anchor followed by the label: `3(2)`, `4(2)①`, `6(3)(1)`.
//! * Full-width digits and parentheses are accepted in markers; labels and anchors are written
//!   half-width. Headings of other levels, headings without a marker and unmarked list items are
//!   ordinary text.
//! * Text outside any marker is kept with the nearest clause: paragraphs (and unmarked items)
//!   belong to the innermost marked list item that contains them, else the innermost heading
//!   clause; text before the first clause is put at the start of the first clause.
//! * A bullet clause's first paragraph is the item's text after the marker; further paragraphs
//!   of the item (indented continuation) are its further paragraphs.
//! * Paragraph text is the text content (emphasis, links and code are reduced to their text;
//!   raw HTML is left out); line breaks inside a paragraph are kept as `\n`.
//!
//! [`clauses_to_markdown`] writes a clause tree in this convention, escaping text so that it
//! reads back unchanged: `outline(&clauses_to_markdown(c)) == clauses_to_rows(c)` for the trees
//! [`super::text::import_text`] produces.

use super::text::{circled_char, circled_value, parse_paren_marker, parse_top_marker, Clause};
use pulldown_cmark::{Event, HeadingLevel, Options, Parser, Tag, TagEnd};

/// One clause in the flat outline, in document order.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ClauseRow {
    /// The anchor (`6(8)`, `4(2)①`).
    pub anchor: String,
    /// The parent's anchor; `None` for top clauses.
    pub parent: Option<String>,
    /// 1 for top clauses, 2 for their children, and so on.
    pub depth: u8,
    /// 1-based position in document order across the whole outline (a sort key).
    pub ordinal: u32,
    /// The label (`1.`, `(1)`, `①`).
    pub label: String,
    /// The title of headings; `None` for bullets.
    pub title: Option<String>,
    /// The clause's own paragraphs joined with a blank line (`"\n\n"`); children excluded.
    pub text: String,
}

/// The Markdown parser options the body uses everywhere (plain CommonMark, no extensions).
pub(crate) fn parser_options() -> Options {
    Options::empty()
}

/// Flattens a clause tree into outline rows in document order (a clause before its children).
pub fn clauses_to_rows(clauses: &[Clause]) -> Vec<ClauseRow> {
    fn walk(clauses: &[Clause], parent: Option<&str>, depth: u8, rows: &mut Vec<ClauseRow>) {
        for clause in clauses {
            let ordinal = u32::try_from(rows.len())
                .unwrap_or(u32::MAX)
                .saturating_add(1);
            rows.push(ClauseRow {
                anchor: clause.anchor.clone(),
                parent: parent.map(str::to_string),
                depth,
                ordinal,
                label: clause.label.clone(),
                title: clause.title.clone(),
                text: clause.paragraphs.join("\n\n"),
            });
            walk(
                &clause.children,
                Some(&clause.anchor),
                depth.saturating_add(1),
                rows,
            );
        }
    }
    let mut rows = Vec::new();
    walk(clauses, None, 1, &mut rows);
    rows
}

/// Writes a clause tree as Markdown in the [convention](self).
///
/// Top clauses become `##` headings, titled children of top clauses `###` headings, everything
/// else list items (a title below depth 2 is written as the item's first text). Text is
/// escaped so that it reads back as written.
pub fn clauses_to_markdown(clauses: &[Clause]) -> String {
    let mut out = String::new();
    for clause in clauses {
        push_heading(&mut out, "##", clause);
        let mut in_list = false;
        for child in &clause.children {
            if child.title.is_some() {
                if in_list {
                    out.push('\n');
                    in_list = false;
                }
                push_heading(&mut out, "###", child);
                if !child.children.is_empty() {
                    push_items(&mut out, &child.children, "");
                    out.push('\n');
                }
            } else {
                push_item(&mut out, child, "");
                in_list = true;
            }
        }
        if in_list {
            out.push('\n');
        }
    }
    let trimmed = out.trim_end_matches('\n').len();
    out.truncate(trimmed);
    if !out.is_empty() {
        out.push('\n');
    }
    out
}

fn push_heading(out: &mut String, hashes: &str, clause: &Clause) {
    out.push_str(hashes);
    out.push(' ');
    out.push_str(&clause.label);
    if let Some(title) = &clause.title {
        out.push(' ');
        out.push_str(&escape_inline(title));
    }
    out.push_str("\n\n");
    for paragraph in &clause.paragraphs {
        push_lines(out, paragraph, "");
        out.push_str("\n\n");
    }
}

fn push_items(out: &mut String, items: &[Clause], indent: &str) {
    for item in items {
        push_item(out, item, indent);
    }
}

fn push_item(out: &mut String, item: &Clause, indent: &str) {
    out.push_str(indent);
    out.push_str("- ");
    out.push_str(&item.label);
    let continuation = format!("{indent}  ");
    let mut first = true;
    let texts = item
        .title
        .iter()
        .chain(item.paragraphs.iter())
        .filter(|t| !t.trim().is_empty());
    for text in texts {
        if first {
            out.push(' ');
            push_lines_after_marker(out, text, &continuation);
            out.push('\n');
            first = false;
        } else {
            out.push('\n');
            out.push_str(&continuation);
            push_lines(out, text, &continuation);
            out.push('\n');
        }
    }
    if first {
        out.push('\n');
    }
    if !item.children.is_empty() {
        push_items(out, &item.children, &continuation);
    }
}

/// Writes a paragraph's lines, each escaped, continuation lines indented.
fn push_lines(out: &mut String, text: &str, indent: &str) {
    for (i, line) in text.trim().split('\n').enumerate() {
        if i > 0 {
            out.push('\n');
            out.push_str(indent);
        }
        out.push_str(&escape_line(line.trim()));
    }
}

/// Like [`push_lines`], for text that follows a list marker on the same line (its first line
/// cannot start a block, but is escaped the same way for simplicity).
fn push_lines_after_marker(out: &mut String, text: &str, indent: &str) {
    push_lines(out, text, indent);
}

/// Escapes the characters that could start Markdown inline syntax.
fn escape_inline(text: &str) -> String {
    let mut out = String::with_capacity(text.len());
    for c in text.chars() {
        if matches!(
            c,
            '\\' | '`' | '*' | '_' | '[' | ']' | '<' | '>' | '&' | '#' | '!' | '|' | '~'
        ) {
            out.push('\\');
        }
        out.push(c);
    }
    out
}

/// Escapes one line of a paragraph: inline syntax, and what would start a block at the
/// beginning of the line (`-`, `+`, `=`, `N.`, `N)`).
fn escape_line(line: &str) -> String {
    let escaped = escape_inline(line);
    if escaped.starts_with(['-', '+', '=']) {
        return format!("\\{escaped}");
    }
    let digits = escaped.chars().take_while(char::is_ascii_digit).count();
    if digits > 0 {
        if let Some(rest) = escaped.get(digits..) {
            if rest.starts_with(['.', ')']) {
                let (number, rest) = escaped.split_at(digits);
                return format!("{number}\\{rest}");
            }
        }
    }
    escaped
}

/// Maps an anchor to an ASCII HTML id: `c` then the top number, `-n` for each `(n)` and `-cn`
/// for each circled number: `6(8)` → `c6-8`, `4(2)①` → `c4-2-c1`. Other characters are
/// written as `-x` and their code point in hex, so distinct anchors give distinct ids.
pub fn html_id(anchor: &str) -> String {
    let mut id = String::from("c");
    let mut in_paren = false;
    for c in anchor.chars() {
        match c {
            '0'..='9' => id.push(c),
            '(' if !in_paren => {
                id.push('-');
                in_paren = true;
            }
            ')' if in_paren => in_paren = false,
            _ => {
                if let Some(n) = circled_value(c) {
                    id.push_str(&format!("-c{n}"));
                } else {
                    id.push_str(&format!("-x{:x}", u32::from(c)));
                }
            }
        }
    }
    id
}

/// Whether an HTML id has the shape [`html_id`] produces (`c` followed by `[0-9a-z-]`).
pub fn is_clause_html_id(id: &str) -> bool {
    let mut bytes = id.bytes();
    bytes.next() == Some(b'c')
        && id.len() > 1
        && id.len() <= 128
        && bytes.all(|b| b.is_ascii_digit() || b.is_ascii_lowercase() || b == b'-')
}

/// The flat clause outline of a Markdown body, in document order (see the
/// [convention](self)).
pub fn outline(markdown: &str) -> Vec<ClauseRow> {
    let events: Vec<Event<'_>> = Parser::new_ext(markdown, parser_options()).collect();
    walk(&events).rows
}

/// The outline plus, for each marked heading or list item, the index of its `Start` event and
/// its anchor (used to put ids on the rendered HTML).
pub(crate) struct Walked {
    pub(crate) rows: Vec<ClauseRow>,
    pub(crate) marked: Vec<(usize, String)>,
}

/// A clause being built.
struct Building {
    anchor: String,
    parent: Option<String>,
    depth: u8,
    label: String,
    title: Option<String>,
    paragraphs: Vec<String>,
}

/// An open list item.
struct ItemFrame {
    start_event: usize,
    /// `None` until decided; `Some(Some(i))` a marked item (clause index), `Some(None)`
    /// unmarked.
    decided: Option<Option<usize>>,
}

struct Walker {
    clauses: Vec<Building>,
    marked: Vec<(usize, String)>,
    preamble: Vec<String>,
    top: Option<usize>,
    sub: Option<usize>,
    items: Vec<ItemFrame>,
    buf: String,
    heading: Option<(HeadingLevel, usize)>,
}

impl Walker {
    /// The clause plain text goes to: the innermost marked item, else the heading clause.
    fn nearest(&self) -> Option<usize> {
        self.items
            .iter()
            .rev()
            .find_map(|f| f.decided.flatten())
            .or(self.sub)
            .or(self.top)
    }

    fn push_paragraph(&mut self, target: Option<usize>, text: String) {
        if text.trim().is_empty() {
            return;
        }
        match target.and_then(|i| self.clauses.get_mut(i)) {
            Some(clause) => clause.paragraphs.push(text),
            None => self.preamble.push(text),
        }
    }

    fn add_clause(&mut self, building: Building) -> usize {
        self.clauses.push(building);
        let index = self.clauses.len() - 1;
        if !self.preamble.is_empty() {
            let preamble = std::mem::take(&mut self.preamble);
            if let Some(clause) = self.clauses.get_mut(index) {
                clause.paragraphs.splice(0..0, preamble);
            }
        }
        index
    }

    /// At the start of a block: files text left over from before it.
    fn start_block(&mut self) {
        if !self.buf.trim().is_empty() {
            self.flush();
        }
    }

    /// At the end of a block (or the start of a nested one): files pending text, and decides
    /// a pending list item even when it has no text.
    fn end_block(&mut self) {
        if !self.buf.trim().is_empty() || self.items.last().is_some_and(|f| f.decided.is_none()) {
            self.flush();
        }
    }

    /// Ends the current text block: decides a pending list item, then files the text.
    fn flush(&mut self) {
        let text = std::mem::take(&mut self.buf).trim().to_string();
        let pending = self
            .items
            .last()
            .is_some_and(|frame| frame.decided.is_none());
        if pending {
            self.decide_item(text);
        } else {
            let target = self.nearest();
            self.push_paragraph(target, text);
        }
    }

    /// Decides whether the innermost (pending) list item is a clause, from its first text.
    fn decide_item(&mut self, text: String) {
        let parent = self
            .items
            .iter()
            .rev()
            .skip(1)
            .find_map(|f| f.decided.flatten())
            .or(self.sub)
            .or(self.top);
        let marker = parse_paren_marker(&text)
            .map(|(n, rest)| (n, format!("({n})"), rest))
            .or_else(|| {
                super::text::parse_circled_marker(&text)
                    .and_then(|(n, rest)| circled_char(n).map(|c| (n, c.to_string(), rest)))
            });
        let decision = match (parent, marker) {
            (Some(parent), Some((_, label, rest))) => {
                let rest = rest.to_string();
                let (parent_anchor, depth) = match self.clauses.get(parent) {
                    Some(p) => (p.anchor.clone(), p.depth.saturating_add(1)),
                    None => (String::new(), 1),
                };
                let index = self.add_clause(Building {
                    anchor: format!("{parent_anchor}{label}"),
                    parent: Some(parent_anchor),
                    depth,
                    label,
                    title: None,
                    paragraphs: Vec::new(),
                });
                self.push_paragraph(Some(index), rest);
                Some(index)
            }
            _ => {
                let target = self.nearest();
                self.push_paragraph(target, text);
                None
            }
        };
        if let Some(frame) = self.items.last_mut() {
            frame.decided = Some(decision);
            if let Some(index) = decision {
                if let Some(clause) = self.clauses.get(index) {
                    self.marked.push((frame.start_event, clause.anchor.clone()));
                }
            }
        }
    }

    fn end_heading(&mut self, level: HeadingLevel, start_event: usize) {
        let text = std::mem::take(&mut self.buf).trim().to_string();
        if level == HeadingLevel::H2 {
            if let Some((n, title)) = parse_top_marker(&text) {
                let title = (!title.is_empty()).then(|| title.to_string());
                let index = self.add_clause(Building {
                    anchor: n.to_string(),
                    parent: None,
                    depth: 1,
                    label: format!("{n}."),
                    title,
                    paragraphs: Vec::new(),
                });
                self.marked.push((start_event, n.to_string()));
                self.top = Some(index);
                self.sub = None;
                return;
            }
        }
        if level == HeadingLevel::H3 {
            if let (Some(top), Some((n, title))) = (self.top, parse_paren_marker(&text)) {
                let title = (!title.is_empty()).then(|| title.to_string());
                let top_anchor = self
                    .clauses
                    .get(top)
                    .map(|c| c.anchor.clone())
                    .unwrap_or_default();
                let anchor = format!("{top_anchor}({n})");
                let index = self.add_clause(Building {
                    anchor: anchor.clone(),
                    parent: Some(top_anchor),
                    depth: 2,
                    label: format!("({n})"),
                    title,
                    paragraphs: Vec::new(),
                });
                self.marked.push((start_event, anchor));
                self.sub = Some(index);
                return;
            }
        }
        let target = self.nearest();
        self.push_paragraph(target, text);
    }
}

/// Walks parsed events: the outline and the marked events.
pub(crate) fn walk(events: &[Event<'_>]) -> Walked {
    let mut w = Walker {
        clauses: Vec::new(),
        marked: Vec::new(),
        preamble: Vec::new(),
        top: None,
        sub: None,
        items: Vec::new(),
        buf: String::new(),
        heading: None,
    };
    for (index, event) in events.iter().enumerate() {
        match event {
            Event::Start(Tag::Heading { level, .. }) => {
                if !w.buf.trim().is_empty() {
                    w.flush();
                }
                w.buf.clear();
                w.heading = Some((*level, index));
            }
            Event::End(TagEnd::Heading(_)) => {
                if let Some((level, start)) = w.heading.take() {
                    w.end_heading(level, start);
                }
            }
            Event::Start(Tag::Item) => {
                w.end_block();
                w.items.push(ItemFrame {
                    start_event: index,
                    decided: None,
                });
            }
            Event::End(TagEnd::Item) => {
                w.end_block();
                w.items.pop();
            }
            Event::Start(Tag::List(_))
            | Event::End(TagEnd::Paragraph | TagEnd::CodeBlock | TagEnd::BlockQuote(_)) => {
                w.end_block();
            }
            Event::Start(Tag::Paragraph | Tag::CodeBlock(_) | Tag::BlockQuote(_)) => {
                w.start_block();
            }
            Event::Text(text) | Event::Code(text) => w.buf.push_str(text),
            Event::SoftBreak | Event::HardBreak => w.buf.push('\n'),
            _ => {}
        }
    }
    if !w.buf.trim().is_empty() {
        w.flush();
    }
    let rows = w
        .clauses
        .into_iter()
        .enumerate()
        .map(|(i, b)| ClauseRow {
            anchor: b.anchor,
            parent: b.parent,
            depth: b.depth,
            ordinal: u32::try_from(i).unwrap_or(u32::MAX).saturating_add(1),
            label: b.label,
            title: b.title,
            text: b.paragraphs.join("\n\n"),
        })
        .collect();
    Walked {
        rows,
        marked: w.marked,
    }
}

/// The Fluent id: two clauses have the same anchor (arg `anchor`).
pub const MSG_DUPLICATE_ANCHOR: &str = "policy-outline-duplicate-anchor";
/// The Fluent id: a clause number out of sequence (args `anchor`, `expected`, `found`).
pub const MSG_OUTLINE_OUT_OF_SEQUENCE: &str = "policy-outline-out-of-sequence";

/// Something in an outline that would make anchors ambiguous or surprising.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct OutlineProblem {
    /// The anchor of the clause concerned.
    pub anchor: String,
    /// The Fluent message id (`policy-outline-…`).
    pub message: &'static str,
    /// The message's arguments.
    pub args: Vec<(&'static str, String)>,
}

/// Checks an outline before a body is saved: anchors must be unique (citations and HTML ids
/// depend on it), and numbers must run 1, 2, 3… among top clauses and, within each parent,
/// among its `(n)` children and among its circled children. Returns the problems in document
/// order (empty when the outline is fine).
pub fn check_outline(rows: &[ClauseRow]) -> Vec<OutlineProblem> {
    use std::collections::{HashMap, HashSet};
    let mut problems = Vec::new();
    let mut seen: HashSet<&str> = HashSet::new();
    // (parent, kind) → last number; kind 0 top, 1 paren, 2 circled.
    let mut last: HashMap<(Option<&str>, u8), u32> = HashMap::new();
    for row in rows {
        if !seen.insert(row.anchor.as_str()) {
            problems.push(OutlineProblem {
                anchor: row.anchor.clone(),
                message: MSG_DUPLICATE_ANCHOR,
                args: vec![("anchor", row.anchor.clone())],
            });
            continue;
        }
        let (kind, number) = if let Some((n, _)) = parse_top_marker(&row.label) {
            (0u8, n)
        } else if let Some((n, _)) = parse_paren_marker(&row.label) {
            (1, n)
        } else if let Some(n) = row.label.chars().next().and_then(circled_value) {
            (2, n)
        } else {
            continue;
        };
        let previous = last.entry((row.parent.as_deref(), kind)).or_insert(0);
        let expected = previous.saturating_add(1);
        if number != expected {
            let label = |n: u32| match kind {
                0 => format!("{n}."),
                1 => format!("({n})"),
                _ => circled_char(n).map_or_else(|| n.to_string(), String::from),
            };
            problems.push(OutlineProblem {
                anchor: row.anchor.clone(),
                message: MSG_OUTLINE_OUT_OF_SEQUENCE,
                args: vec![
                    ("anchor", row.anchor.clone()),
                    ("expected", label(expected)),
                    ("found", label(number)),
                ],
            });
        }
        *previous = number;
    }
    problems
}
