//! Reading one row's cells into typed values, collecting every problem with the row and the
//! column as the file names it. Each kind's `parse` reads through this, so the rules for
//! text, folding, dates and booleans are written once.

use super::table::{Problem, Row, Table};
use super::values::{fold, parse_bool};
use crate::wareki::parse_date;

/// A row being read, with the problems found so far.
pub struct Fields<'a> {
    table: &'a Table,
    row: &'a Row,
    /// Problems found so far.
    pub problems: Vec<Problem>,
}

impl<'a> Fields<'a> {
    /// Starts reading a row.
    pub fn new(table: &'a Table, row: &'a Row) -> Self {
        Fields {
            table,
            row,
            problems: Vec::new(),
        }
    }

    /// The row number.
    pub fn line(&self) -> u64 {
        self.row.line
    }

    /// Records a problem in a column.
    pub fn problem(&mut self, code: &str, message_id: &'static str, detail: Option<&str>) {
        let column = self.table.column_name(code);
        self.problems.push(match detail {
            Some(d) => Problem::with(self.row.line, column, message_id, d),
            None => Problem::new(self.row.line, column, message_id),
        });
    }

    /// The cell exactly as written (empty when absent), refused above `max` characters.
    pub fn text(&mut self, code: &str, max: usize) -> String {
        let value = self.raw(code).unwrap_or_default().to_owned();
        if value.chars().count() > max {
            self.problem(code, "error-too-long", None);
        }
        value
    }

    /// The raw cell, if present and not blank.
    pub fn raw(&self, code: &str) -> Option<&'a str> {
        self.row.raw(self.table.columns, code)
    }

    /// The cell folded (full-width to ASCII, trimmed); empty when absent.
    pub fn folded(&self, code: &str) -> String {
        self.raw(code).map(fold).unwrap_or_default()
    }

    /// A date in any spelling `INTERCHANGE.md` allows.
    pub fn date(&mut self, code: &str) -> Option<time::Date> {
        let raw = self.raw(code)?;
        match parse_date(&fold(raw)) {
            Ok(d) => Some(d),
            Err(e) => {
                self.problem(code, e.message_id(), Some(raw));
                None
            }
        }
    }

    /// A boolean; `default` when the cell is empty.
    pub fn boolean(&mut self, code: &str, default: bool) -> bool {
        match self.raw(code) {
            None => default,
            Some(v) => parse_bool(v).unwrap_or_else(|| {
                self.problem(code, "import-bad-boolean", Some(v));
                default
            }),
        }
    }

    /// A whole number from 0 to `max`.
    pub fn number(&mut self, code: &str, max: u32) -> Option<u32> {
        let raw = self.raw(code)?;
        match fold(raw).parse::<u32>() {
            Ok(n) if n <= max => Some(n),
            _ => {
                self.problem(code, "error-number", Some(raw));
                None
            }
        }
    }

    /// A value of a vocabulary (code or label), `default` when empty; an unknown value is a
    /// problem with `message_id`.
    pub fn choice<T: Copy>(
        &mut self,
        code: &str,
        parse: impl Fn(&str) -> Option<T>,
        default: Option<T>,
        message_id: &'static str,
    ) -> Option<T> {
        match self.raw(code) {
            None => default,
            Some(v) => {
                let found = parse(v);
                if found.is_none() {
                    self.problem(code, message_id, Some(v.trim()));
                }
                found
            }
        }
    }
}
