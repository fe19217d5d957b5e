//! The shape every importable kind of record shares: it declares its columns, how a row
//! becomes a record, its key, and how a record is written back. Reading and writing files is
//! built once here.

use super::decode::decode;
use super::table::{read_csv_into, ColumnSpec, Problem, Problems, Row, RowSink, Table};
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
/// repeated within the file is a problem on each repetition. Each row becomes its record as it
/// is read, so the file's rows are never all held besides their records.
pub fn read_file<K: Kind>(bytes: &[u8]) -> Result<Parsed<K::Record>, Vec<Problem>> {
    let (text, _) = decode(bytes).map_err(|e| vec![Problem::new(1, "", e.message_id())])?;
    let mut records = Records::<K>::default();
    read_csv_into(&text, K::COLUMNS, &mut records)?;
    records.finish()
}

/// Turns every row of a read table (CSV or XLSX) into a record: all problems or all records.
/// A key repeated within the table is a problem on each repetition.
///
/// At most [`MAX_PROBLEMS`](super::table::MAX_PROBLEMS) problems are collected, then
/// `import-too-many-problems` ends the list and no more rows are read; once there is a problem
/// no record is kept (none will be returned).
pub fn parse_table<K: Kind>(table: &Table) -> Result<Parsed<K::Record>, Vec<Problem>> {
    let mut records = Records::<K>::default();
    for row in &table.rows {
        if records.problems.is_full() {
            break;
        }
        records.parse(table, row);
    }
    records.finish()
}

/// Records made of rows one at a time, with the problems of the rows that do not make one.
struct Records<K: Kind> {
    records: Parsed<K::Record>,
    /// Keys seen, with the row that first had each.
    seen: HashMap<String, u64>,
    problems: Problems,
    /// The table is refused for its rows' shape (see [`RowSink::refuse`]): no more parsing.
    refused: bool,
}

impl<K: Kind> Default for Records<K> {
    fn default() -> Self {
        Records {
            records: Vec::new(),
            seen: HashMap::new(),
            problems: Problems::default(),
            refused: false,
        }
    }
}

impl<K: Kind> Records<K> {
    /// Makes `row` a record, or notes its problems.
    fn parse(&mut self, table: &Table, row: &Row) {
        match K::parse(table, row) {
            Ok(record) => {
                if let Some(key) = K::key(&record) {
                    if let Some(first) = self.seen.insert(key.to_owned(), row.line) {
                        self.problems.push(Problem::with(
                            row.line,
                            table.column_name(K::KEY),
                            "import-duplicate-key",
                            format!("{key} ({first})"),
                        ));
                    }
                }
                if self.problems.is_empty() {
                    self.records.push((row.line, record));
                }
            }
            Err(p) => self.problems.extend(p),
        }
        if !self.problems.is_empty() && !self.records.is_empty() {
            // The table will be refused: its records are no longer worth their memory.
            self.records = Vec::new();
        }
    }

    /// Every record, or every problem in row order.
    fn finish(self) -> Result<Parsed<K::Record>, Vec<Problem>> {
        if self.problems.is_empty() {
            Ok(self.records)
        } else {
            Err(self.problems.into_vec(true))
        }
    }
}

impl<K: Kind> RowSink for Records<K> {
    fn take(&mut self, table: &Table, row: Row) {
        if !self.refused && !self.problems.is_full() {
            self.parse(table, &row);
        }
    }

    fn refuse(&mut self) {
        // The table's own problems are what the reader reports; parsing stops.
        self.refused = true;
        self.records = Vec::new();
        self.seen = HashMap::new();
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

    #[test]
    fn reading_row_by_row_gives_what_reading_the_table_gives() {
        let mut csv = String::from("code,name,parent,in_scope\n");
        for i in 0..500 {
            csv.push_str(&format!("u{i},\"組織 {i}, 課\",,{}\n", i % 2 == 0));
            if i % 50 == 0 {
                // Blank rows are skipped by both.
                csv.push_str(",,,\n");
            }
        }
        let streamed = read_file::<Units>(csv.as_bytes()).expect("streamed");
        let table = crate::interchange::table::read_csv(&csv, Units::COLUMNS).expect("table");
        let parsed = parse_table::<Units>(&table).expect("parsed");
        assert_eq!(streamed.len(), 500);
        assert_eq!(streamed, parsed);
        assert_eq!(streamed[499].1.name, "組織 499, 課");
        assert_eq!(streamed[499].0, 511, "row numbers count the blank rows");
    }

    #[test]
    fn a_row_of_the_wrong_shape_is_reported_alone_as_before() {
        // Row 2 has a bad flag (a record problem); row 4 has a cell beyond the header (a problem
        // of the table's shape). The shape is reported, as when the table was read whole first.
        let csv = "code,name,in_scope\nk1,n,maybe\nk2,n,true\nk3,n,true,extra\nk2,n,true\n";
        let err = read_file::<Units>(csv.as_bytes()).expect_err("bad");
        let got: Vec<(u64, &str)> = err.iter().map(|p| (p.line, p.message_id)).collect();
        assert_eq!(got, [(4, "import-too-many-cells")]);
        // Without it, the record problems: the bad flag and the repeated key.
        let csv = csv.replace(",extra", "");
        let err = read_file::<Units>(csv.as_bytes()).expect_err("bad");
        let got: Vec<(u64, &str)> = err.iter().map(|p| (p.line, p.message_id)).collect();
        assert_eq!(
            got,
            [(2, "import-bad-boolean"), (5, "import-duplicate-key")]
        );
    }
}
