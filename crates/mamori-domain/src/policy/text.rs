//! Importing a policy written as plain text, in the shape of the organisation's own
//! 情報セキュリティポリシー（基本方針）(`content/policy/kuwana-inabe-basic-policy.txt`).
//!
//! # The shape
//!
//! ```text
//! 桑名・員弁広域連合                     ← organisation (first line of the first block)
//! 情報セキュリティポリシー               ← title lines (the rest of the first block)
//! (基本方針)
//!
//! 改版履歴                               ← optional: the revision history
//!
//! 版数<TAB>作成日<TAB>作成者<TAB>承認    ← header, then one row per edition, up to a blank line
//! 初版<TAB>令和8年3月25日<TAB>…<TAB>令和8年3月25日
//!
//! 情報セキュリティ基本方針               ← the document heading (one line)
//!
//! 1. 目的                                ← top clause `N. title`
//! paragraph…
//! (1) ネットワーク                       ← titled sub-item `(n) title`
//! paragraph…
//! - (1) text                             ← bullet `- (n) text`
//! - ① text                               ← circled bullet `- ① text` (the dash may be left out)
//! ```
//!
//! Blank lines separate paragraphs; consecutive non-blank lines are one paragraph (joined with
//! nothing, or with one space between two ASCII letters or digits). Markers accept full-width
//! digits, dots and parentheses (`（１）`, `１．`); labels and anchors are always written
//! half-width (`(1)`, `1.`).
//!
//! # Where things go
//!
//! * `(n) title` lines are children of the current top clause.
//! * Bullets (`- (n)`, `- ①`) are children of the innermost *titled* clause: the current
//!   `(n) title` sub-item if one is open, otherwise the top clause. A bullet is one paragraph.
//! * A paragraph belongs to the innermost titled clause, except when it continues a paragraph
//!   or bullet (below). A paragraph that follows bullets therefore belongs to the clause that
//!   contains the bullets and, in the clause tree, is listed after that clause's other
//!   paragraphs (the Markdown body keeps its place).
//! * Markers must be in sequence: top clauses 1, 2, 3…; within one parent the `(n)` children
//!   (titled or bullets) 1, 2, 3… and the circled children ①, ②, ③….
//!
//! # Page-break rejoin
//!
//! Printed documents break sentences across pages, and copying the text leaves a blank line in
//! the middle of a sentence. The rule: when a paragraph or bullet does **not** end a sentence,
//! and the next non-blank line after one or more blank lines is not a marker, that line
//! continues the paragraph or bullet (joined like consecutive lines, with no space between
//! Japanese characters). A text ends a sentence when its last character is one of
//! `。．.！？!?` or a colon `：:` (a colon introduces what follows, which is its own block), or
//! when it ends with closing brackets/quotes (`」』）)】〕〉》"”’`) preceded by one of those.
//! So `- (2) …設計・開発の不備、` / blank / `プログラム上の欠陥、…` is one bullet.

use crate::wareki::parse_date;
use time::Date;

/// The Fluent id: the file is empty (or only whitespace).
pub const MSG_EMPTY: &str = "policy-import-empty";
/// The Fluent id: the first block has no title line after the organisation name.
pub const MSG_MISSING_TITLE: &str = "policy-import-missing-title";
/// The Fluent id: a clause marker where the organisation and title were expected.
pub const MSG_EXPECTED_TITLE: &str = "policy-import-expected-title";
/// The Fluent id: a line this importer cannot place (arg `text`).
pub const MSG_UNEXPECTED_LINE: &str = "policy-import-unexpected-line";
/// The Fluent id: the revision history has no header line or an unknown one (arg `found`).
pub const MSG_HISTORY_HEADER: &str = "policy-import-history-header";
/// The Fluent id: a history row without the four cells (args `expected`, `found`).
pub const MSG_HISTORY_ROW: &str = "policy-import-history-row";
/// The Fluent id: the document heading is missing (a clause follows the title directly).
pub const MSG_MISSING_HEADING: &str = "policy-import-missing-heading";
/// The Fluent id: the document has no clauses (`1. …`).
pub const MSG_NO_CLAUSES: &str = "policy-import-no-clauses";
/// The Fluent id: a marker out of sequence (args `expected`, `found`).
pub const MSG_OUT_OF_SEQUENCE: &str = "policy-import-out-of-sequence";
/// The Fluent id: a `N.` or `(n)` clause line with no title (arg `label`).
pub const MSG_CLAUSE_WITHOUT_TITLE: &str = "policy-import-clause-without-title";
/// The Fluent id: a bullet line without a `(n)` or circled-number marker (arg `text`).
pub const MSG_UNMARKED_BULLET: &str = "policy-import-unmarked-bullet";

/// Where the importer stopped understanding the file.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PolicyImportError {
    /// 1-based line number in the file.
    pub line: usize,
    /// The Fluent message id (`policy-import-…`).
    pub message: &'static str,
    /// The message's arguments.
    pub args: Vec<(&'static str, String)>,
}

impl PolicyImportError {
    fn new(line: usize, message: &'static str) -> Self {
        PolicyImportError {
            line,
            message,
            args: Vec::new(),
        }
    }

    fn arg(mut self, name: &'static str, value: impl Into<String>) -> Self {
        self.args.push((name, value.into()));
        self
    }
}

impl std::fmt::Display for PolicyImportError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "line {}: {}", self.line, self.message)?;
        for (name, value) in &self.args {
            write!(f, " {name}={value:?}")?;
        }
        Ok(())
    }
}

impl std::error::Error for PolicyImportError {}

/// One row of the 改版履歴 table, as written.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RevisionRow {
    /// 版数 as written (`初版`, `第2版`).
    pub edition: String,
    /// 作成日 as written.
    pub created: String,
    /// 作成日 parsed (和暦 or 西暦), if it is a date.
    pub created_on: Option<Date>,
    /// 作成者 as written (free text).
    pub author: String,
    /// 承認 as written (free text; in the seed, the approval date).
    pub approval: String,
    /// 承認 parsed as a date, if it is one.
    pub approved_on: Option<Date>,
}

/// A clause of a policy document: a numbered clause, a titled sub-item or a bullet.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Clause {
    /// The stable, citable anchor: `1`, `2(1)`, `3(2)`, `4(2)①`.
    pub anchor: String,
    /// The label as shown, half-width: `1.`, `(1)`, `①`.
    pub label: String,
    /// The title of numbered clauses and `(n) title` sub-items; `None` for bullets.
    pub title: Option<String>,
    /// The paragraphs, in order (a bullet has one).
    pub paragraphs: Vec<String>,
    /// Sub-items and bullets, in order.
    pub children: Vec<Clause>,
}

/// A policy read from plain text.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ImportedPolicy {
    /// The organisation name (the first line).
    pub organisation: String,
    /// The title: the title lines concatenated with nothing between them, with ASCII
    /// parentheses turned into full-width ones (`情報セキュリティポリシー` + `(基本方針)` →
    /// `情報セキュリティポリシー（基本方針）`).
    pub title: String,
    /// The title lines exactly as written (trimmed).
    pub title_lines: Vec<String>,
    /// The document heading (`情報セキュリティ基本方針`).
    pub heading: String,
    /// The 改版履歴 rows, in file order (empty when the file has no history).
    pub history: Vec<RevisionRow>,
    /// The clause tree.
    pub clauses: Vec<Clause>,
    /// The clauses as Markdown in the convention of [`super::markdown`] (no organisation,
    /// title, history or heading: those are the document's and version's own fields).
    pub body_markdown: String,
}

/// The line that starts the revision history.
const HISTORY_MARKER: &str = "改版履歴";
/// The history table's header cells.
const HISTORY_HEADER: [&str; 4] = ["版数", "作成日", "作成者", "承認"];

/// Reads a policy of the shape described in the [module documentation](self).
///
/// Accepts UTF-8 with or without BOM, LF or CRLF, trailing spaces, leading blank lines and
/// full-width markers. Never panics.
pub fn import_text(text: &str) -> Result<ImportedPolicy, PolicyImportError> {
    let text = text.strip_prefix('\u{FEFF}').unwrap_or(text);
    let lines: Vec<Line<'_>> = text
        .split('\n')
        .enumerate()
        .map(|(i, raw)| Line {
            number: i + 1,
            text: raw.trim_end_matches(|c: char| c.is_whitespace() && c != '\t'),
        })
        .collect();
    let mut cursor = Cursor {
        lines: &lines,
        at: 0,
    };

    // Organisation and title lines: the first block.
    cursor.skip_blank();
    let Some(first) = cursor.peek() else {
        return Err(PolicyImportError::new(1, MSG_EMPTY));
    };
    let header = cursor.take_block();
    for line in &header {
        if classify(line.text).is_marker() {
            return Err(PolicyImportError::new(line.number, MSG_EXPECTED_TITLE)
                .arg("text", excerpt(line.text)));
        }
    }
    let organisation = first.text.trim().to_string();
    let title_lines: Vec<String> = header
        .iter()
        .skip(1)
        .map(|l| l.text.trim().to_string())
        .collect();
    if title_lines.is_empty() {
        return Err(PolicyImportError::new(first.number, MSG_MISSING_TITLE));
    }
    let title = title_lines
        .iter()
        .map(|l| l.replace('(', "（").replace(')', "）"))
        .collect::<String>();

    // The revision history.
    cursor.skip_blank();
    let mut history = Vec::new();
    if cursor
        .peek()
        .is_some_and(|l| normalise_cell(l.text) == HISTORY_MARKER)
    {
        let marker = cursor.next_line();
        cursor.skip_blank();
        let Some(head) = cursor.next_line() else {
            let line = marker.map_or(1, |l| l.number);
            return Err(PolicyImportError::new(line, MSG_HISTORY_HEADER).arg("found", ""));
        };
        let cells: Vec<String> = split_cells(head.text)
            .iter()
            .map(|c| normalise_cell(c))
            .collect();
        if cells != HISTORY_HEADER {
            return Err(PolicyImportError::new(head.number, MSG_HISTORY_HEADER)
                .arg("found", excerpt(head.text)));
        }
        while let Some(line) = cursor.peek() {
            if is_blank(line.text) {
                break;
            }
            cursor.at += 1;
            let cells = split_cells(line.text);
            let [edition, created, author, approval] = cells.as_slice() else {
                return Err(PolicyImportError::new(line.number, MSG_HISTORY_ROW)
                    .arg("expected", HISTORY_HEADER.len().to_string())
                    .arg("found", cells.len().to_string()));
            };
            history.push(RevisionRow {
                edition: edition.to_string(),
                created: created.to_string(),
                created_on: parse_date(created).ok(),
                author: author.to_string(),
                approval: approval.to_string(),
                approved_on: parse_date(approval).ok(),
            });
        }
        cursor.skip_blank();
    }

    // The heading.
    let last_text_line = lines
        .iter()
        .rev()
        .find(|l| !is_blank(l.text))
        .map_or(1, |l| l.number);
    let Some(heading_line) = cursor.next_line() else {
        return Err(PolicyImportError::new(last_text_line, MSG_NO_CLAUSES));
    };
    if classify(heading_line.text).is_marker() {
        return Err(PolicyImportError::new(
            heading_line.number,
            MSG_MISSING_HEADING,
        ));
    }
    let heading = heading_line.text.trim().to_string();
    if let Some(extra) = cursor.peek() {
        if !is_blank(extra.text) {
            return Err(PolicyImportError::new(extra.number, MSG_UNEXPECTED_LINE)
                .arg("text", excerpt(extra.text)));
        }
    }
    cursor.skip_blank();
    match cursor.peek() {
        None => return Err(PolicyImportError::new(last_text_line, MSG_NO_CLAUSES)),
        Some(line) if !matches!(classify(line.text), Kind::Top(..)) => {
            return Err(PolicyImportError::new(line.number, MSG_UNEXPECTED_LINE)
                .arg("text", excerpt(line.text)));
        }
        Some(_) => {}
    }

    let clauses = parse_body(&mut cursor)?;
    let body_markdown = super::markdown::clauses_to_markdown(&clauses);
    Ok(ImportedPolicy {
        organisation,
        title,
        title_lines,
        heading,
        history,
        clauses,
        body_markdown,
    })
}

#[derive(Debug, Clone, Copy)]
struct Line<'a> {
    number: usize,
    text: &'a str,
}

struct Cursor<'l, 'a> {
    lines: &'l [Line<'a>],
    at: usize,
}

impl<'a> Cursor<'_, 'a> {
    fn peek(&self) -> Option<Line<'a>> {
        self.lines.get(self.at).copied()
    }

    fn next_line(&mut self) -> Option<Line<'a>> {
        let line = self.peek();
        if line.is_some() {
            self.at += 1;
        }
        line
    }

    fn skip_blank(&mut self) {
        while self.peek().is_some_and(|l| is_blank(l.text)) {
            self.at += 1;
        }
    }

    fn take_block(&mut self) -> Vec<Line<'a>> {
        let mut block = Vec::new();
        while let Some(line) = self.peek() {
            if is_blank(line.text) {
                break;
            }
            block.push(line);
            self.at += 1;
        }
        block
    }
}

fn is_blank(text: &str) -> bool {
    text.trim().is_empty()
}

/// The first 40 characters of a line, for error messages.
fn excerpt(text: &str) -> String {
    let trimmed = text.trim();
    let mut out: String = trimmed.chars().take(40).collect();
    if trimmed.chars().nth(40).is_some() {
        out.push('…');
    }
    out
}

/// Table cells: split on tabs; a line without tabs is split on runs of two or more spaces or
/// on ideographic spaces. Cells are trimmed.
fn split_cells(line: &str) -> Vec<String> {
    if line.contains('\t') {
        return line.split('\t').map(|c| c.trim().to_string()).collect();
    }
    let mut cells = Vec::new();
    let mut current = String::new();
    let mut spaces = 0usize;
    for c in line.trim().chars() {
        if c == '\u{3000}' || (c.is_whitespace() && spaces >= 1) {
            if !current.trim().is_empty() {
                cells.push(current.trim().to_string());
            }
            current.clear();
            spaces = 0;
            continue;
        }
        if c.is_whitespace() {
            spaces += 1;
        } else {
            spaces = 0;
        }
        current.push(c);
    }
    if !current.trim().is_empty() {
        cells.push(current.trim().to_string());
    }
    cells
}

fn normalise_cell(cell: &str) -> String {
    crate::wareki::fold_fullwidth(cell).trim().to_string()
}

/// Folds one full-width ASCII character (and the ideographic space) to ASCII.
pub(crate) fn fold_char(c: char) -> char {
    match c {
        '\u{FF01}'..='\u{FF5E}' => char::from_u32(u32::from(c) - 0xFEE0).unwrap_or(c),
        '\u{3000}' => ' ',
        _ => c,
    }
}

/// The value of a circled number ①–⑳.
pub(crate) fn circled_value(c: char) -> Option<u32> {
    let v = u32::from(c);
    (0x2460..=0x2473).contains(&v).then(|| v - 0x2460 + 1)
}

/// The circled number for 1–20.
pub(crate) fn circled_char(n: u32) -> Option<char> {
    if (1..=20).contains(&n) {
        char::from_u32(0x2460 + n - 1)
    } else {
        None
    }
}

/// Reads up to three (full- or half-width) digits at the start of `s`: the value and the rest.
fn leading_number(s: &str) -> Option<(u32, &str)> {
    let mut value = 0u32;
    let mut end = 0usize;
    let mut digits = 0usize;
    for (i, c) in s.char_indices() {
        let folded = fold_char(c);
        if let Some(d) = folded.to_digit(10) {
            digits += 1;
            if digits > 3 {
                return None;
            }
            value = value * 10 + d;
            end = i + c.len_utf8();
        } else {
            break;
        }
    }
    (digits > 0).then(|| (value, s.get(end..).unwrap_or("")))
}

fn strip_char_folded<'s>(s: &'s str, wanted: &[char]) -> Option<&'s str> {
    let c = s.chars().next()?;
    wanted
        .contains(&fold_char(c))
        .then(|| s.get(c.len_utf8()..).unwrap_or(""))
}

/// `N.` at the start: the number and the rest (the dot must not be followed by a digit).
pub(crate) fn parse_top_marker(s: &str) -> Option<(u32, &str)> {
    let s = s.trim_start();
    let (n, rest) = leading_number(s)?;
    let rest = strip_char_folded(rest, &['.'])?;
    if rest
        .chars()
        .next()
        .is_some_and(|c| fold_char(c).is_ascii_digit())
    {
        return None;
    }
    Some((n, rest.trim()))
}

/// `(n)` at the start: the number and the rest.
pub(crate) fn parse_paren_marker(s: &str) -> Option<(u32, &str)> {
    let s = s.trim_start();
    let rest = strip_char_folded(s, &['('])?;
    let (n, rest) = leading_number(rest)?;
    let rest = strip_char_folded(rest, &[')'])?;
    Some((n, rest.trim()))
}

/// A circled number ①–⑳ at the start: the number and the rest.
pub(crate) fn parse_circled_marker(s: &str) -> Option<(u32, &str)> {
    let s = s.trim_start();
    let c = s.chars().next()?;
    let n = circled_value(c)?;
    Some((n, s.get(c.len_utf8()..).unwrap_or("").trim()))
}

/// The kind of one body line.
#[derive(Debug, Clone, PartialEq, Eq)]
enum Kind<'a> {
    Blank,
    Top(u32, &'a str),
    Sub(u32, &'a str),
    ParenBullet(u32, &'a str),
    CircledBullet(u32, &'a str),
    UnmarkedBullet,
    Text(&'a str),
}

impl Kind<'_> {
    fn is_marker(&self) -> bool {
        !matches!(self, Kind::Blank | Kind::Text(_))
    }
}

fn classify(line: &str) -> Kind<'_> {
    let trimmed = line.trim();
    if trimmed.is_empty() {
        return Kind::Blank;
    }
    if let Some(rest) = strip_bullet(trimmed) {
        if let Some((n, text)) = parse_paren_marker(rest) {
            return Kind::ParenBullet(n, text);
        }
        if let Some((n, text)) = parse_circled_marker(rest) {
            return Kind::CircledBullet(n, text);
        }
        return Kind::UnmarkedBullet;
    }
    if let Some((n, text)) = parse_top_marker(trimmed) {
        return Kind::Top(n, text);
    }
    if let Some((n, text)) = parse_paren_marker(trimmed) {
        return Kind::Sub(n, text);
    }
    if let Some((n, text)) = parse_circled_marker(trimmed) {
        return Kind::CircledBullet(n, text);
    }
    Kind::Text(trimmed)
}

/// A bullet: `-`, `－`, `*`, `・` or `•` followed by whitespace (or nothing).
fn strip_bullet(s: &str) -> Option<&str> {
    let c = s.chars().next()?;
    if !matches!(fold_char(c), '-' | '*' | '・' | '•' | '‐' | '−') {
        return None;
    }
    let rest = s.get(c.len_utf8()..).unwrap_or("");
    if rest.is_empty() || rest.starts_with(char::is_whitespace) {
        Some(rest.trim_start())
    } else {
        None
    }
}

/// Whether a text ends a sentence (see the module documentation).
pub fn ends_sentence(text: &str) -> bool {
    const ENDS: &[char] = &['。', '．', '.', '！', '？', '!', '?', '：', ':'];
    const CLOSERS: &[char] = &['」', '』', '）', ')', '】', '〕', '〉', '》', '"', '”', '’'];
    for c in text.trim_end().chars().rev() {
        if CLOSERS.contains(&c) {
            continue;
        }
        return ENDS.contains(&c);
    }
    false
}

/// Joins a continuation line: nothing between, except one space between ASCII alphanumerics.
fn join_into(target: &mut String, next: &str) {
    let next = next.trim();
    if target
        .chars()
        .last()
        .is_some_and(|c| c.is_ascii_alphanumeric())
        && next
            .chars()
            .next()
            .is_some_and(|c| c.is_ascii_alphanumeric())
    {
        target.push(' ');
    }
    target.push_str(next);
}

fn node_mut<'c>(clauses: &'c mut [Clause], path: &[usize]) -> Option<&'c mut Clause> {
    let (first, rest) = path.split_first()?;
    let mut node = clauses.get_mut(*first)?;
    for i in rest {
        node = node.children.get_mut(*i)?;
    }
    Some(node)
}

fn next_in_sequence(parent: &Clause, circled: bool) -> u32 {
    let count = parent
        .children
        .iter()
        .filter(|c| c.label.starts_with('(') != circled)
        .count();
    u32::try_from(count).unwrap_or(u32::MAX).saturating_add(1)
}

fn circled_label(n: u32) -> String {
    circled_char(n).map_or_else(|| format!("({n})"), String::from)
}

/// The body: clauses from the first `1.` to the end.
fn parse_body(cursor: &mut Cursor<'_, '_>) -> Result<Vec<Clause>, PolicyImportError> {
    let mut tops: Vec<Clause> = Vec::new();
    // Path of the innermost titled clause (top, or top + titled sub-item).
    let mut titled: Vec<usize> = Vec::new();
    // The paragraph the last text went into: clause path and paragraph index.
    let mut last_text: Option<(Vec<usize>, usize)> = None;
    // Whether the previous line was text of `last_text` (no blank line in between).
    let mut adjacent = false;

    while let Some(line) = cursor.next_line() {
        let kind = classify(line.text);
        match kind {
            Kind::Blank => {
                adjacent = false;
                continue;
            }
            Kind::Top(n, title) => {
                let expected = u32::try_from(tops.len())
                    .unwrap_or(u32::MAX)
                    .saturating_add(1);
                if n != expected {
                    return Err(PolicyImportError::new(line.number, MSG_OUT_OF_SEQUENCE)
                        .arg("expected", format!("{expected}."))
                        .arg("found", format!("{n}.")));
                }
                if title.is_empty() {
                    return Err(
                        PolicyImportError::new(line.number, MSG_CLAUSE_WITHOUT_TITLE)
                            .arg("label", format!("{n}.")),
                    );
                }
                tops.push(Clause {
                    anchor: n.to_string(),
                    label: format!("{n}."),
                    title: Some(title.to_string()),
                    paragraphs: Vec::new(),
                    children: Vec::new(),
                });
                titled = vec![tops.len() - 1];
                last_text = None;
            }
            Kind::Sub(n, title) => {
                let top_index = titled.first().copied().unwrap_or(0);
                let Some(top) = tops.get_mut(top_index) else {
                    return Err(unexpected(line));
                };
                let expected = next_in_sequence(top, false);
                if n != expected {
                    return Err(PolicyImportError::new(line.number, MSG_OUT_OF_SEQUENCE)
                        .arg("expected", format!("({expected})"))
                        .arg("found", format!("({n})")));
                }
                if title.is_empty() {
                    return Err(
                        PolicyImportError::new(line.number, MSG_CLAUSE_WITHOUT_TITLE)
                            .arg("label", format!("({n})")),
                    );
                }
                top.children.push(Clause {
                    anchor: format!("{}({n})", top.anchor),
                    label: format!("({n})"),
                    title: Some(title.to_string()),
                    paragraphs: Vec::new(),
                    children: Vec::new(),
                });
                titled = vec![top_index, top.children.len() - 1];
                last_text = None;
            }
            Kind::ParenBullet(n, text) | Kind::CircledBullet(n, text) => {
                let circled = matches!(kind, Kind::CircledBullet(..));
                let Some(parent) = node_mut(&mut tops, &titled) else {
                    return Err(unexpected(line));
                };
                let expected = next_in_sequence(parent, circled);
                let (label, expected_label) = if circled {
                    (circled_label(n), circled_label(expected))
                } else {
                    (format!("({n})"), format!("({expected})"))
                };
                if n != expected {
                    return Err(PolicyImportError::new(line.number, MSG_OUT_OF_SEQUENCE)
                        .arg("expected", expected_label)
                        .arg("found", label));
                }
                parent.children.push(Clause {
                    anchor: format!("{}{label}", parent.anchor),
                    label,
                    title: None,
                    paragraphs: vec![text.to_string()],
                    children: Vec::new(),
                });
                let mut path = titled.clone();
                path.push(parent.children.len() - 1);
                last_text = Some((path, 0));
            }
            Kind::UnmarkedBullet => {
                return Err(PolicyImportError::new(line.number, MSG_UNMARKED_BULLET)
                    .arg("text", excerpt(line.text)));
            }
            Kind::Text(text) => {
                let continues = last_text.as_ref().and_then(|(path, index)| {
                    let node = node_mut(&mut tops, path)?;
                    let paragraph = node.paragraphs.get_mut(*index)?;
                    (adjacent || !ends_sentence(paragraph)).then_some(paragraph)
                });
                if let Some(paragraph) = continues {
                    join_into(paragraph, text);
                } else {
                    let Some(node) = node_mut(&mut tops, &titled) else {
                        return Err(unexpected(line));
                    };
                    node.paragraphs.push(text.to_string());
                    last_text = Some((titled.clone(), node.paragraphs.len() - 1));
                }
            }
        }
        adjacent = matches!(
            kind,
            Kind::Text(_) | Kind::ParenBullet(..) | Kind::CircledBullet(..)
        );
    }
    Ok(tops)
}

fn unexpected(line: Line<'_>) -> PolicyImportError {
    PolicyImportError::new(line.number, MSG_UNEXPECTED_LINE).arg("text", excerpt(line.text))
}
