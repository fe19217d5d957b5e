//! Side-by-side comparison of two versions' bodies.
//!
//! Lines are compared with `similar` (Myers); a run of removed lines followed by a run of
//! added lines is shown as changed pairs, and in each pair the characters that differ are
//! emphasised (character level, since Japanese has no spaces between words). Very long lines
//! (more than [`CHAR_DIFF_LIMIT`] characters on either side) are emphasised as a whole.

use similar::{ChangeTag, DiffOp, TextDiff};

/// Above this many characters on either side, a changed pair is emphasised as a whole.
pub const CHAR_DIFF_LIMIT: usize = 4000;

/// A run of text in one cell.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Segment {
    /// The text.
    pub text: String,
    /// Whether it differs from the other side.
    pub emphasised: bool,
}

/// What a row shows.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum DiffKind {
    /// The line is the same on both sides.
    Same,
    /// The line was changed: both sides, differences emphasised.
    Changed,
    /// The line exists only in the new version.
    Added,
    /// The line exists only in the old version.
    Removed,
}

impl DiffKind {
    /// A stable code for templates and CSS classes.
    pub fn code(self) -> &'static str {
        match self {
            DiffKind::Same => "same",
            DiffKind::Changed => "changed",
            DiffKind::Added => "added",
            DiffKind::Removed => "removed",
        }
    }
}

/// One row: the old line (1-based number and segments) on the left, the new on the right.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct DiffRow {
    /// The old line, if any.
    pub left: Option<(usize, Vec<Segment>)>,
    /// The new line, if any.
    pub right: Option<(usize, Vec<Segment>)>,
    /// What the row shows.
    pub kind: DiffKind,
}

fn plain(text: &str) -> Vec<Segment> {
    vec![Segment {
        text: text.to_string(),
        emphasised: false,
    }]
}

fn whole(text: &str) -> Vec<Segment> {
    if text.is_empty() {
        return Vec::new();
    }
    vec![Segment {
        text: text.to_string(),
        emphasised: true,
    }]
}

fn push_segment(segments: &mut Vec<Segment>, text: &str, emphasised: bool) {
    if text.is_empty() {
        return;
    }
    match segments.last_mut() {
        Some(last) if last.emphasised == emphasised => last.text.push_str(text),
        _ => segments.push(Segment {
            text: text.to_string(),
            emphasised,
        }),
    }
}

/// Character-level emphasis of a changed pair.
fn char_diff(old: &str, new: &str) -> (Vec<Segment>, Vec<Segment>) {
    if old.chars().count() > CHAR_DIFF_LIMIT || new.chars().count() > CHAR_DIFF_LIMIT {
        return (whole(old), whole(new));
    }
    let diff = TextDiff::from_chars(old, new);
    let mut left = Vec::new();
    let mut right = Vec::new();
    for change in diff.iter_all_changes() {
        let text = change.value();
        match change.tag() {
            ChangeTag::Equal => {
                push_segment(&mut left, text, false);
                push_segment(&mut right, text, false);
            }
            ChangeTag::Delete => push_segment(&mut left, text, true),
            ChangeTag::Insert => push_segment(&mut right, text, true),
        }
    }
    (left, right)
}

fn strip_newline(line: &str) -> &str {
    let line = line.strip_suffix('\n').unwrap_or(line);
    line.strip_suffix('\r').unwrap_or(line)
}

/// Compares two texts line by line (LF or CRLF); see the [module](self).
pub fn side_by_side(old: &str, new: &str) -> Vec<DiffRow> {
    let old = old.replace("\r\n", "\n");
    let new = new.replace("\r\n", "\n");
    let diff = TextDiff::from_lines(old.as_str(), new.as_str());
    let old_lines: Vec<&str> = diff.old_slices().iter().map(|l| strip_newline(l)).collect();
    let new_lines: Vec<&str> = diff.new_slices().iter().map(|l| strip_newline(l)).collect();
    let mut rows = Vec::new();
    let mut removed: Vec<usize> = Vec::new();
    let mut added: Vec<usize> = Vec::new();

    let flush = |rows: &mut Vec<DiffRow>, removed: &mut Vec<usize>, added: &mut Vec<usize>| {
        let pairs = removed.len().min(added.len());
        for (&o, &n) in removed.iter().zip(added.iter()) {
            let old_text = old_lines.get(o).copied().unwrap_or("");
            let new_text = new_lines.get(n).copied().unwrap_or("");
            let (left, right) = char_diff(old_text, new_text);
            rows.push(DiffRow {
                left: Some((o + 1, left)),
                right: Some((n + 1, right)),
                kind: DiffKind::Changed,
            });
        }
        for &o in removed.iter().skip(pairs) {
            rows.push(DiffRow {
                left: Some((o + 1, whole(old_lines.get(o).copied().unwrap_or("")))),
                right: None,
                kind: DiffKind::Removed,
            });
        }
        for &n in added.iter().skip(pairs) {
            rows.push(DiffRow {
                left: None,
                right: Some((n + 1, whole(new_lines.get(n).copied().unwrap_or("")))),
                kind: DiffKind::Added,
            });
        }
        removed.clear();
        added.clear();
    };

    for op in diff.ops() {
        match *op {
            DiffOp::Equal {
                old_index,
                new_index,
                len,
            } => {
                flush(&mut rows, &mut removed, &mut added);
                for k in 0..len {
                    let text = old_lines.get(old_index + k).copied().unwrap_or("");
                    rows.push(DiffRow {
                        left: Some((old_index + k + 1, plain(text))),
                        right: Some((new_index + k + 1, plain(text))),
                        kind: DiffKind::Same,
                    });
                }
            }
            DiffOp::Delete {
                old_index, old_len, ..
            } => {
                if !added.is_empty() {
                    flush(&mut rows, &mut removed, &mut added);
                }
                removed.extend(old_index..old_index + old_len);
            }
            DiffOp::Insert {
                new_index, new_len, ..
            } => added.extend(new_index..new_index + new_len),
            DiffOp::Replace {
                old_index,
                old_len,
                new_index,
                new_len,
            } => {
                if !added.is_empty() {
                    flush(&mut rows, &mut removed, &mut added);
                }
                removed.extend(old_index..old_index + old_len);
                added.extend(new_index..new_index + new_len);
            }
        }
    }
    flush(&mut rows, &mut removed, &mut added);
    rows
}
