//! Tables read from CSV or XLSX: headers by code or Japanese label in any order, every problem
//! reported with the row number a spreadsheet shows (the header is row 1) and the column as
//! written.
//!
//! What a file can make the reader hold is bounded, whatever its size: at most
//! [`MAX_PROBLEMS`] problems are collected (then one saying checking stopped), no row is kept
//! once a problem is found (the table would be refused anyway), no cell may hold more than
//! [`MAX_CELL_CHARS`] characters, and no row is read wider than its header.

use super::strip_formula_guard;
use super::values::fold;

/// One column a kind of record declares.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct ColumnSpec {
    /// Stable code (`name`).
    pub code: &'static str,
    /// Japanese label (`名称`).
    pub label: &'static str,
    /// Must be present (as a column, and with a value in each row).
    pub required: bool,
}

/// A column of a kind's table, in a `const` list.
pub const fn col(code: &'static str, label: &'static str, required: bool) -> ColumnSpec {
    ColumnSpec {
        code,
        label,
        required,
    }
}

/// The most problems collected from one file. Past this, one more problem
/// (`import-too-many-problems`, on the row where checking stopped) ends the list and reading
/// stops: a file with more problems needs fixing anyway, and a hostile one must not make the
/// reader hold a problem for every one of its million rows.
pub const MAX_PROBLEMS: usize = 1_000;

/// The most characters one cell may hold: Excel's own limit (32,767), so no workbook Excel
/// wrote is refused. A longer cell is a problem (`import-cell-too-long`), in CSV and XLSX.
pub const MAX_CELL_CHARS: usize = 32_767;

/// The most columns a header is read with: Excel's last column is `XFD` (16,384). Cells right
/// of that are read only for whether they hold something.
pub const MAX_COLUMNS: usize = 16_384;

/// A problem at one place of a file.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Problem {
    /// Row number as a spreadsheet shows it (header = 1).
    pub line: u64,
    /// The column, as the file names it (or its label when absent).
    pub column: String,
    /// Fluent message id.
    pub message_id: &'static str,
    /// The offending value or other detail, if useful.
    pub detail: Option<String>,
}

impl Problem {
    /// A problem without detail.
    pub fn new(line: u64, column: impl Into<String>, message_id: &'static str) -> Self {
        Problem {
            line,
            column: column.into(),
            message_id,
            detail: None,
        }
    }

    /// A problem naming a value.
    pub fn with(
        line: u64,
        column: impl Into<String>,
        message_id: &'static str,
        detail: impl Into<String>,
    ) -> Self {
        Problem {
            line,
            column: column.into(),
            message_id,
            detail: Some(detail.into()),
        }
    }
}

/// Problems as they are found, up to [`MAX_PROBLEMS`]; the one after that is replaced by
/// `import-too-many-problems` and the list is full.
#[derive(Debug, Default)]
pub(crate) struct Problems {
    list: Vec<Problem>,
}

impl Problems {
    /// Adds a problem, or ends the list when it already holds [`MAX_PROBLEMS`].
    pub(crate) fn push(&mut self, problem: Problem) {
        if self.list.len() < MAX_PROBLEMS {
            self.list.push(problem);
        } else if !self.is_full() {
            self.list
                .push(Problem::new(problem.line, "", "import-too-many-problems"));
        }
    }

    /// Adds problems in order, as far as there is room.
    pub(crate) fn extend(&mut self, problems: impl IntoIterator<Item = Problem>) {
        for p in problems {
            self.push(p);
        }
    }

    /// True once the list has ended: reading should stop.
    pub(crate) fn is_full(&self) -> bool {
        self.list.len() > MAX_PROBLEMS
    }

    pub(crate) fn is_empty(&self) -> bool {
        self.list.is_empty()
    }

    /// The problems, sorted by row when `sort` (the closing `import-too-many-problems` stays
    /// last).
    pub(crate) fn into_vec(mut self, sort: bool) -> Vec<Problem> {
        if sort {
            let end = self.list.len().min(MAX_PROBLEMS);
            self.list[..end].sort_by_key(|p| p.line);
        }
        self.list
    }
}

/// The problem for a cell longer than [`MAX_CELL_CHARS`], if it is: its length in characters.
/// Counted only when its bytes could be too many.
pub(crate) fn too_long(cell: &str) -> Option<usize> {
    if cell.len() <= MAX_CELL_CHARS {
        return None;
    }
    let chars = cell.chars().count();
    (chars > MAX_CELL_CHARS).then_some(chars)
}

/// One data row: values by declared column (absent column or empty cell: `None`).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Row {
    /// Row number as a spreadsheet shows it.
    pub line: u64,
    /// The row in one allocation, so that a table of many short values costs their text, not
    /// a string and a slot for every cell: how many declared columns (a `u32`), where each
    /// one's value ends in the text (a `u32` each; a value starts where the previous one
    /// ends, and an empty value is an absent one), then the values' UTF-8 one after another.
    data: Box<[u8]>,
}

impl Row {
    /// A row of the declared columns' values (`None`: absent or blank).
    fn new(line: u64, values: &[Option<&str>]) -> Row {
        let text: usize = values.iter().flatten().map(|v| v.len()).sum();
        let head = 4 * (values.len() + 1);
        let mut data = Vec::with_capacity(head + text);
        // A row holds a few dozen columns of at most `MAX_CELL_CHARS` characters each.
        let word = |n: usize| u32::try_from(n).unwrap_or(u32::MAX).to_le_bytes();
        data.extend_from_slice(&word(values.len()));
        let mut end = 0;
        for value in values {
            end += value.map_or(0, str::len);
            data.extend_from_slice(&word(end));
        }
        for value in values.iter().flatten() {
            data.extend_from_slice(value.as_bytes());
        }
        Row {
            line,
            data: data.into_boxed_slice(),
        }
    }

    /// The `u32` at word `i` of the row's data.
    fn word(&self, i: usize) -> Option<usize> {
        let bytes = self.data.get(4 * i..4 * i + 4)?;
        let word: [u8; 4] = bytes.try_into().ok()?;
        Some(u32::from_le_bytes(word) as usize)
    }

    /// The raw value (formula guard removed, otherwise as written) of a column.
    pub fn raw(&self, columns: &[ColumnSpec], code: &str) -> Option<&str> {
        let i = columns.iter().position(|c| c.code == code)?;
        let count = self.word(0)?;
        if i >= count {
            return None;
        }
        let text = 4 * (count + 1);
        let start = if i == 0 { 0 } else { self.word(i)? };
        let end = self.word(i + 1)?;
        let value = self.data.get(text + start..text + end)?;
        // Whole values were written, so this is always UTF-8.
        std::str::from_utf8(value).ok().filter(|v| !v.is_empty())
    }
}

/// A read table.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Table {
    /// The declared columns.
    pub columns: &'static [ColumnSpec],
    /// How the file names each declared column (`None`: not in the file).
    pub headers: Vec<Option<String>>,
    /// Data rows; rows whose cells are all empty are skipped.
    pub rows: Vec<Row>,
}

impl Table {
    /// The column as the file names it, or its Japanese label.
    pub fn column_name(&self, code: &str) -> String {
        self.columns
            .iter()
            .position(|c| c.code == code)
            .and_then(|i| {
                self.headers[i]
                    .clone()
                    .or_else(|| Some(self.columns[i].label.to_owned()))
            })
            .unwrap_or_else(|| code.to_owned())
    }

    /// True when the file has the column.
    pub fn has(&self, code: &str) -> bool {
        self.columns
            .iter()
            .position(|c| c.code == code)
            .is_some_and(|i| self.headers[i].is_some())
    }
}

/// Reads CSV text (RFC 4180: quoted cells may hold commas, quotes and line breaks). A row is
/// taken only as wide as the header (at most [`MAX_COLUMNS`] cells): cells right of that count
/// only for whether they hold something.
pub fn read_csv(text: &str, columns: &'static [ColumnSpec]) -> Result<Table, Vec<Problem>> {
    let mut kept = Vec::new();
    let table = read_csv_into(text, columns, &mut kept)?;
    Ok(Table {
        rows: kept,
        ..table
    })
}

/// [`read_csv`], handing each row to `sink` as it is read (see [`read_rows_into`]).
pub(crate) fn read_csv_into(
    text: &str,
    columns: &'static [ColumnSpec],
    sink: &mut impl RowSink,
) -> Result<Table, Vec<Problem>> {
    let mut reader = csv::ReaderBuilder::new()
        .has_headers(false)
        .flexible(true)
        .from_reader(text.as_bytes());
    let mut width: Option<usize> = None;
    let rows = reader.records().enumerate().map(move |(index, record)| {
        // A record is one spreadsheet row even when a quoted cell holds line breaks.
        let line = index as u64 + 1;
        match record {
            Ok(r) => {
                let keep = *width.get_or_insert(r.len().min(MAX_COLUMNS));
                let mut cells: Vec<String> = r.iter().take(keep).map(str::to_owned).collect();
                // Right of the header: only whether something is there matters.
                if let Some(extra) = r.iter().skip(keep).find(|c| !c.trim().is_empty()) {
                    cells.resize(keep, String::new());
                    cells.push(extra.to_owned());
                }
                Ok((line, cells))
            }
            Err(e) => Err(vec![Problem::with(
                line,
                "",
                "import-malformed-csv",
                e.to_string(),
            )]),
        }
    });
    read_rows_into(rows, columns, sink)
}

/// Builds a table from rows of cells, whatever file they came from (CSV, XLSX): the first row
/// is the header, each row comes with the row number a spreadsheet shows, or with the problems
/// that kept it from being read. Empty cells are empty strings; cells are taken as written
/// except that the formula guard is removed.
///
/// At most [`MAX_PROBLEMS`] problems are collected, then `import-too-many-problems` and no
/// more rows are read. Once there is a problem no row is kept (the table will not be
/// returned), so a file of bad rows costs its problems, not its rows.
pub fn read_rows<I>(rows: I, columns: &'static [ColumnSpec]) -> Result<Table, Vec<Problem>>
where
    I: IntoIterator<Item = Result<(u64, Vec<String>), Vec<Problem>>>,
{
    let mut kept = Vec::new();
    let table = read_rows_into(rows, columns, &mut kept)?;
    Ok(Table {
        rows: kept,
        ..table
    })
}

/// What becomes of the rows of a table as it is read (see [`read_rows_into`]).
pub(crate) trait RowSink {
    /// A row that reads well, while every row before it did; `table` has the header only.
    fn take(&mut self, table: &Table, row: Row);
    /// The table will be refused: what was taken is no longer worth its memory.
    fn refuse(&mut self);
}

impl RowSink for Vec<Row> {
    fn take(&mut self, _: &Table, row: Row) {
        self.push(row);
    }

    fn refuse(&mut self) {
        *self = Vec::new();
    }
}

/// [`read_rows`], handing each row to `sink` as it is read instead of keeping them: returns the
/// header (a table without rows) or every problem found.
pub(crate) fn read_rows_into<I>(
    rows: I,
    columns: &'static [ColumnSpec],
    sink: &mut impl RowSink,
) -> Result<Table, Vec<Problem>>
where
    I: IntoIterator<Item = Result<(u64, Vec<String>), Vec<Problem>>>,
{
    let mut rows = rows.into_iter();
    let (header_line, header) = match rows.next() {
        Some(Ok(h)) => h,
        Some(Err(problems)) => {
            let mut collected = Problems::default();
            collected.extend(problems);
            return Err(collected.into_vec(false));
        }
        None => return Err(vec![Problem::new(1, "", "import-empty-file")]),
    };
    let mut problems = Problems::default();
    let mut map: Vec<Option<usize>> = Vec::new();
    let mut headers: Vec<Option<String>> = vec![None; columns.len()];
    // How the file names each of its columns, for problems in cells.
    let mut names: Vec<String> = Vec::new();
    for cell in &header {
        let written = cell.trim().trim_start_matches('\u{feff}').to_owned();
        if let Some(chars) = too_long(&written) {
            problems.push(Problem::with(
                header_line,
                "",
                "import-cell-too-long",
                chars.to_string(),
            ));
            map.push(None);
            names.push(String::new());
            continue;
        }
        let folded = fold(&written).to_ascii_lowercase();
        let found = columns
            .iter()
            .position(|c| c.code == folded || c.label == written);
        names.push(written.clone());
        match found {
            Some(i) if headers[i].is_some() => {
                problems.push(Problem::new(
                    header_line,
                    written.clone(),
                    "import-duplicate-column",
                ));
                map.push(None);
            }
            Some(i) => {
                headers[i] = Some(written);
                map.push(Some(i));
            }
            None if written.is_empty() => map.push(None),
            None => {
                problems.push(Problem::new(header_line, written, "import-unknown-column"));
                map.push(None);
            }
        }
    }
    for (i, c) in columns.iter().enumerate() {
        if c.required && headers[i].is_none() {
            problems.push(Problem::new(header_line, c.label, "import-missing-column"));
        }
    }
    if !problems.is_empty() {
        return Err(problems.into_vec(false));
    }
    let header = Table {
        columns,
        headers,
        rows: Vec::new(),
    };
    let headers = &header.headers;
    let mut refused = false;
    for row in rows {
        if problems.is_full() {
            break;
        }
        let (line, record) = match row {
            Ok(r) => r,
            Err(p) => {
                problems.extend(p);
                continue;
            }
        };
        if record.iter().all(|c| c.trim().is_empty()) {
            continue;
        }
        if record.len() > map.len() && record.iter().skip(map.len()).any(|c| !c.trim().is_empty()) {
            problems.push(Problem::new(line, "", "import-too-many-cells"));
            continue;
        }
        let mut values = vec![None; columns.len()];
        // Declared columns whose cell is too long (a problem already: not also a missing value).
        let mut long = Vec::new();
        for (c, (cell, target)) in record.iter().zip(&map).enumerate() {
            if let Some(chars) = too_long(cell) {
                problems.push(Problem::with(
                    line,
                    names[c].clone(),
                    "import-cell-too-long",
                    chars.to_string(),
                ));
                long.extend(*target);
                continue;
            }
            if let Some(i) = target {
                let value = strip_formula_guard(cell);
                if !value.trim().is_empty() {
                    values[*i] = Some(value);
                }
            }
        }
        for (i, c) in columns.iter().enumerate() {
            if c.required && values[i].is_none() && !long.contains(&i) {
                problems.push(Problem::new(
                    line,
                    headers[i].clone().unwrap_or_else(|| c.label.to_owned()),
                    "import-required-value",
                ));
            }
        }
        if problems.is_empty() {
            sink.take(&header, Row::new(line, &values));
        } else if !refused {
            sink.refuse();
            refused = true;
        }
    }
    if problems.is_empty() {
        Ok(header)
    } else {
        Err(problems.into_vec(false))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const COLS: &[ColumnSpec] = &[
        ColumnSpec {
            code: "code",
            label: "組織コード",
            required: true,
        },
        ColumnSpec {
            code: "name",
            label: "名称",
            required: true,
        },
        ColumnSpec {
            code: "parent",
            label: "上位組織コード",
            required: false,
        },
    ];

    #[test]
    fn labels_or_codes_in_any_order_and_spreadsheet_line_numbers() {
        let t = read_csv(
            "名称,CODE\r\n\"事務局,本部\",secretariat\r\n\"複数\n行\",'=x\r\n,\r\n",
            COLS,
        )
        .expect("reads");
        assert_eq!(t.rows.len(), 2, "the empty row is skipped");
        assert_eq!(t.rows[0].raw(COLS, "name"), Some("事務局,本部"));
        assert_eq!(
            t.rows[1].line, 3,
            "a line break inside quotes does not start a row"
        );
        assert_eq!(
            t.rows[1].raw(COLS, "code"),
            Some("=x"),
            "formula guard removed"
        );
        assert_eq!(t.rows[1].raw(COLS, "name"), Some("複数\n行"));
        assert!(!t.has("parent"));
        assert_eq!(t.column_name("code"), "CODE");
    }

    #[test]
    fn header_problems_are_all_reported() {
        let err = read_csv("名称,色,名称\n", COLS).expect_err("bad header");
        let ids: Vec<_> = err
            .iter()
            .map(|p| (p.column.as_str(), p.message_id))
            .collect();
        assert_eq!(
            ids,
            [
                ("色", "import-unknown-column"),
                ("名称", "import-duplicate-column"),
                ("組織コード", "import-missing-column")
            ]
        );
    }

    #[test]
    fn rows_hold_their_values_in_one_allocation() {
        let row = Row::new(7, &[Some("a"), None, Some("髙橋 ①")]);
        assert_eq!(row.line, 7);
        assert_eq!(row.raw(COLS, "code"), Some("a"));
        assert_eq!(row.raw(COLS, "name"), None);
        assert_eq!(row.raw(COLS, "parent"), Some("髙橋 ①"));
        assert_eq!(row.raw(COLS, "other"), None);
        let empty = Row::new(1, &[None, None, None]);
        assert_eq!(empty.raw(COLS, "code"), None);
        assert_eq!(empty.raw(COLS, "parent"), None);
        // Fewer values than columns (never built so, but read safely).
        assert_eq!(Row::new(1, &[Some("x")]).raw(COLS, "parent"), None);
    }

    #[test]
    fn problems_stop_at_the_cap_with_one_saying_so() {
        let mut csv = String::from("code,name\n");
        for _ in 0..5_000 {
            csv.push_str("a,\n");
        }
        let err = read_csv(&csv, COLS).expect_err("missing names");
        assert_eq!(err.len(), MAX_PROBLEMS + 1);
        assert_eq!(
            err[MAX_PROBLEMS - 1],
            Problem::new(1_001, "name", "import-required-value")
        );
        assert_eq!(
            err[MAX_PROBLEMS],
            Problem::new(1_002, "", "import-too-many-problems")
        );
        // Exactly at the cap: every problem, and no closing one.
        let mut csv = String::from("code,name\n");
        for _ in 0..MAX_PROBLEMS {
            csv.push_str("a,\n");
        }
        let err = read_csv(&csv, COLS).expect_err("missing names");
        assert_eq!(err.len(), MAX_PROBLEMS);
        assert!(err.iter().all(|p| p.message_id == "import-required-value"));
        // A header of thousands of unknown columns.
        let header = vec!["色"; 20_000].join(",");
        let err = read_csv(&header, COLS).expect_err("unknown");
        assert_eq!(err.len(), MAX_PROBLEMS + 1);
        assert_eq!(err[MAX_PROBLEMS].message_id, "import-too-many-problems");
    }

    #[test]
    fn a_cell_past_excels_limit_is_a_problem_in_its_column() {
        let ok = "長".repeat(MAX_CELL_CHARS);
        let long = "長".repeat(MAX_CELL_CHARS + 1);
        let t = read_csv(&format!("code,名称\na,{ok}\n"), COLS).expect("at the limit");
        assert_eq!(t.rows[0].raw(COLS, "name"), Some(ok.as_str()));
        let err = read_csv(&format!("code,名称\na,{long}\nb,\n"), COLS).expect_err("too long");
        assert_eq!(
            err,
            [
                // Not also a missing value.
                Problem::with(2, "名称", "import-cell-too-long", "32768"),
                Problem::new(3, "名称", "import-required-value"),
            ]
        );
        let err = read_csv(&format!("code,name,{long}\n"), COLS).expect_err("header");
        assert_eq!(err, [Problem::with(1, "", "import-cell-too-long", "32768")]);
        assert_eq!(too_long(&"a".repeat(MAX_CELL_CHARS)), None);
        assert_eq!(
            too_long(&"a".repeat(MAX_CELL_CHARS + 1)),
            Some(MAX_CELL_CHARS + 1)
        );
    }

    #[test]
    fn csv_rows_are_read_no_wider_than_the_header() {
        let extra = ",".repeat(100_000);
        let t = read_csv(&format!("code,name\na,b{extra}\n"), COLS).expect("blank cells");
        assert_eq!(t.rows.len(), 1);
        let err = read_csv(&format!("code,name\na,b{extra}x\n"), COLS).expect_err("a value");
        assert_eq!(err, [Problem::new(2, "", "import-too-many-cells")]);
    }

    #[test]
    fn the_messages_name_the_limits_they_stand_for() {
        for ftl in [
            include_str!("../../../mamori-web/locales/ja/main.ftl"),
            include_str!("../../../mamori-web/locales/en/main.ftl"),
        ] {
            let message = |id: &str| {
                ftl.lines()
                    .find_map(|l| l.strip_prefix(id)?.trim_start().strip_prefix('='))
                    .unwrap_or_else(|| panic!("{id}"))
                    .to_owned()
            };
            assert!(message("import-too-many-problems").contains("1,000"));
            assert_eq!(MAX_PROBLEMS, 1_000);
            assert!(message("import-cell-too-long").contains("32,767"));
            assert_eq!(MAX_CELL_CHARS, 32_767);
        }
    }

    #[test]
    fn missing_values_name_row_and_column() {
        let err = read_csv("code,name\na,\n,b\n", COLS).expect_err("missing");
        assert_eq!(err[0], Problem::new(2, "name", "import-required-value"));
        assert_eq!(err[1], Problem::new(3, "code", "import-required-value"));
    }
}
