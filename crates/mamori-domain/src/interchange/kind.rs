//! The shape every importable kind of record shares: it declares its columns, how a row
//! becomes a record, its key, and how a record is written back. Reading and writing files is
//! built once here.

use super::decode::decode;
use super::table::{read_csv, ColumnSpec, Problem, Problems, Row, Table};
use super::{formula_safe, UTF8_BOM};
use std::collections::HashMap;

/// A kind of record that travels in CSV/JSON files.
pub trait Kind {
    /// The record.
    type Record;
    /// The kind's name on the command line (`units`).
    const NAME: &'static str;
    /// The columns, in file order.
    const COLUMNS: &'static [ColumnSpec];
    /// The key column's code (what a row updates by).
    const KEY: &'static str;

    /// Turns a row into a record, or the row's problems.
    fn parse(table: &Table, row: &Row) -> Result<Self::Record, Vec<Problem>>;
    /// The record's key.
    fn key(record: &Self::Record) -> Option<&str>;
    /// The record's cells in column order (`labels`: Japanese labels for values, else codes).
    fn cells(record: &Self::Record, labels: bool) -> Vec<String>;
    /// The record as JSON (codes as keys and values).
    fn json(record: &Self::Record) -> serde_json::Value;
}

/// Records read from a file, each with its row number.
pub type Parsed<R> = Vec<(u64, R)>;

/// Reads a whole CSV file: decoding, header, every row; all problems or all records. A key
/// repeated within the file is a problem on each repetition.
pub fn read_file<K: Kind>(bytes: &[u8]) -> Result<Parsed<K::Record>, Vec<Problem>> {
    let (text, _) = decode(bytes).map_err(|e| vec![Problem::new(1, "", e.message_id())])?;
    let table = read_csv(&text, K::COLUMNS)?;
    parse_table::<K>(&table)
}

/// Turns every row of a read table (CSV or XLSX) into a record: all problems or all records.
/// A key repeated within the table is a problem on each repetition.
///
/// At most [`MAX_PROBLEMS`](super::table::MAX_PROBLEMS) problems are collected, then
/// `import-too-many-problems` ends the list and no more rows are read; once there is a problem
/// no record is kept (none will be returned).
pub fn parse_table<K: Kind>(table: &Table) -> Result<Parsed<K::Record>, Vec<Problem>> {
    let mut problems = Problems::default();
    let mut records = Vec::new();
    let mut seen: HashMap<String, u64> = HashMap::new();
    for row in &table.rows {
        if problems.is_full() {
            break;
        }
        match K::parse(table, row) {
            Ok(record) => {
                if let Some(key) = K::key(&record) {
                    if let Some(first) = seen.insert(key.to_owned(), row.line) {
                        problems.push(Problem::with(
                            row.line,
                            table.column_name(K::KEY),
                            "import-duplicate-key",
                            format!("{key} ({first})"),
                        ));
                    }
                }
                if problems.is_empty() {
                    records.push((row.line, record));
                }
            }
            Err(p) => problems.extend(p),
        }
        if !problems.is_empty() && !records.is_empty() {
            // The table will be refused: its records are no longer worth their memory.
            records = Vec::new();
        }
    }
    if problems.is_empty() {
        Ok(records)
    } else {
        Err(problems.into_vec(true))
    }
}

/// Writes CSV as `INTERCHANGE.md` says: UTF-8 with BOM, CRLF, labels or codes in the header,
/// formula-safe text cells, line breaks kept.
pub fn write_csv<K: Kind>(records: &[K::Record], labels: bool) -> Result<String, String> {
    let mut w = csv::WriterBuilder::new()
        .terminator(csv::Terminator::CRLF)
        .from_writer(Vec::new());
    let header: Vec<&str> = K::COLUMNS
        .iter()
        .map(|c| if labels { c.label } else { c.code })
        .collect();
    w.write_record(&header).map_err(|e| e.to_string())?;
    for r in records {
        let cells = K::cells(r, labels);
        w.write_record(cells.iter().map(|c| formula_safe(c).into_owned()))
            .map_err(|e| e.to_string())?;
    }
    let body = w.into_inner().map_err(|e| e.to_string())?;
    let text = String::from_utf8(body).map_err(|e| e.to_string())?;
    Ok(format!("{UTF8_BOM}{text}"))
}

/// Encodes CSV text as CP932, naming the characters CP932 cannot hold.
pub fn to_cp932(text: &str) -> Result<Vec<u8>, Vec<char>> {
    let body = text.strip_prefix(UTF8_BOM).unwrap_or(text);
    let (bytes, _, had_errors) = encoding_rs::SHIFT_JIS.encode(body);
    if had_errors {
        let mut bad: Vec<char> = body
            .chars()
            .filter(|c| encoding_rs::SHIFT_JIS.encode(&c.to_string()).2)
            .collect();
        bad.dedup();
        return Err(bad);
    }
    Ok(bytes.into_owned())
}

/// `{"items": [...]}` with codes as keys and values.
pub fn write_json<K: Kind>(records: &[K::Record]) -> serde_json::Value {
    serde_json::json!({ "items": records.iter().map(K::json).collect::<Vec<_>>() })
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::interchange::table::MAX_PROBLEMS;
    use crate::interchange::units::Units;

    #[test]
    fn record_problems_stop_at_the_cap_in_row_order() {
        let mut csv = String::from("code,name\n");
        for i in 0..3_000 {
            // A bad flag on every third row, and every other row repeats a key.
            let flag = if i % 3 == 0 { "maybe" } else { "true" };
            csv.push_str(&format!("k{},n,{flag}\n", i / 2));
        }
        let csv = csv.replacen("code,name", "code,name,in_scope", 1);
        let err = read_file::<Units>(csv.as_bytes()).expect_err("bad");
        assert_eq!(err.len(), MAX_PROBLEMS + 1);
        assert!(err.windows(2).all(|w| w[0].line <= w[1].line), "sorted");
        assert_eq!(err[0].line, 2);
        assert_eq!(err[MAX_PROBLEMS].message_id, "import-too-many-problems");
        let ids: std::collections::BTreeSet<_> =
            err[..MAX_PROBLEMS].iter().map(|p| p.message_id).collect();
        assert_eq!(ids.len(), 2, "{ids:?}");
    }
}
