//! The shape every importable kind of record shares: it declares its columns, how a row
//! becomes a record, its key, and how a record is written back. Reading and writing files is
//! built once here.

use super::decode::decode;
use super::table::{read_csv, ColumnSpec, Problem, Row, Table};
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

/// Reads a whole file: decoding, header, every row; all problems or all records. A key
/// repeated within the file is a problem on each repetition.
pub fn read_file<K: Kind>(bytes: &[u8]) -> Result<Parsed<K::Record>, Vec<Problem>> {
    let (text, _) = decode(bytes).map_err(|e| vec![Problem::new(1, "", e.message_id())])?;
    let table = read_csv(&text, K::COLUMNS)?;
    let mut problems = Vec::new();
    let mut records = Vec::new();
    let mut seen: HashMap<String, u64> = HashMap::new();
    for row in &table.rows {
        match K::parse(&table, row) {
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
                records.push((row.line, record));
            }
            Err(mut p) => problems.append(&mut p),
        }
    }
    if problems.is_empty() {
        Ok(records)
    } else {
        problems.sort_by_key(|p| p.line);
        Err(problems)
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
