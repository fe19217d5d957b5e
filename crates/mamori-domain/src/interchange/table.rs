//! Tables read from CSV: headers by code or Japanese label in any order, every problem reported
//! with the row number a spreadsheet shows (the header is row 1) and the column as written.

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

/// One data row: values by declared column (absent column or empty cell: `None`).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Row {
    /// Row number as a spreadsheet shows it.
    pub line: u64,
    values: Vec<Option<String>>,
}

impl Row {
    /// The raw value (formula guard removed, otherwise as written) of a column.
    pub fn raw(&self, columns: &[ColumnSpec], code: &str) -> Option<&str> {
        let i = columns.iter().position(|c| c.code == code)?;
        self.values.get(i)?.as_deref()
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

/// Reads CSV text (RFC 4180: quoted cells may hold commas, quotes and line breaks).
pub fn read_csv(text: &str, columns: &'static [ColumnSpec]) -> Result<Table, Vec<Problem>> {
    let mut reader = csv::ReaderBuilder::new()
        .has_headers(false)
        .flexible(true)
        .from_reader(text.as_bytes());
    let mut records = reader.records();
    let header = match records.next() {
        Some(Ok(h)) => h,
        Some(Err(e)) => {
            return Err(vec![Problem::with(
                1,
                "",
                "import-malformed-csv",
                e.to_string(),
            )])
        }
        None => return Err(vec![Problem::new(1, "", "import-empty-file")]),
    };
    let mut problems = Vec::new();
    let mut map: Vec<Option<usize>> = Vec::new();
    let mut headers: Vec<Option<String>> = vec![None; columns.len()];
    for cell in header.iter() {
        let written = cell.trim().trim_start_matches('\u{feff}').to_owned();
        let folded = fold(&written).to_ascii_lowercase();
        let found = columns
            .iter()
            .position(|c| c.code == folded || c.label == written);
        match found {
            Some(i) if headers[i].is_some() => {
                problems.push(Problem::new(1, written.clone(), "import-duplicate-column"));
                map.push(None);
            }
            Some(i) => {
                headers[i] = Some(written);
                map.push(Some(i));
            }
            None if written.is_empty() => map.push(None),
            None => {
                problems.push(Problem::new(1, written, "import-unknown-column"));
                map.push(None);
            }
        }
    }
    for (i, c) in columns.iter().enumerate() {
        if c.required && headers[i].is_none() {
            problems.push(Problem::new(1, c.label, "import-missing-column"));
        }
    }
    if !problems.is_empty() {
        return Err(problems);
    }
    let mut rows = Vec::new();
    for (index, record) in records.enumerate() {
        let line = index as u64 + 2;
        let record = match record {
            Ok(r) => r,
            Err(e) => {
                problems.push(Problem::with(
                    line,
                    "",
                    "import-malformed-csv",
                    e.to_string(),
                ));
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
        for (cell, target) in record.iter().zip(&map) {
            if let Some(i) = target {
                let value = strip_formula_guard(cell);
                if !value.trim().is_empty() {
                    values[*i] = Some(value.to_owned());
                }
            }
        }
        for (i, c) in columns.iter().enumerate() {
            if c.required && values[i].is_none() {
                problems.push(Problem::new(
                    line,
                    headers[i].clone().unwrap_or_else(|| c.label.to_owned()),
                    "import-required-value",
                ));
            }
        }
        rows.push(Row { line, values });
    }
    if problems.is_empty() {
        Ok(Table {
            columns,
            headers,
            rows,
        })
    } else {
        Err(problems)
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
    fn missing_values_name_row_and_column() {
        let err = read_csv("code,name\na,\n,b\n", COLS).expect_err("missing");
        assert_eq!(err[0], Problem::new(2, "name", "import-required-value"));
        assert_eq!(err[1], Problem::new(3, "code", "import-required-value"));
    }
}
