//! The formula guard for cells written to and read from spreadsheets.

/// True when a spreadsheet would read the cell as a formula, or when the cell is already an
/// apostrophe-guarded formula (so that a stored `'=x` survives a round trip as `''=x`).
fn needs_guard(cell: &str) -> bool {
    match cell.strip_prefix('\'') {
        Some(rest) => needs_guard(rest),
        None => cell.starts_with(['=', '+', '-', '@', '\t', '\r']),
    }
}

/// A text cell that would start a spreadsheet formula gets a leading apostrophe on export, so
/// opening an export never runs a formula; import removes exactly one again.
///
/// `INTERCHANGE.md` removes one apostrophe followed by `=`, `+`, `-`, `@`, tab or CR; Mamori
/// also removes one followed by further apostrophes and then such a character. Without that, a
/// stored value beginning `'=` could not round-trip.
pub fn formula_safe(cell: &str) -> std::borrow::Cow<'_, str> {
    if needs_guard(cell) {
        std::borrow::Cow::Owned(format!("'{cell}"))
    } else {
        std::borrow::Cow::Borrowed(cell)
    }
}

/// Undoes [`formula_safe`] on import.
pub fn strip_formula_guard(cell: &str) -> &str {
    match cell.strip_prefix('\'') {
        Some(rest) if needs_guard(rest) => rest,
        _ => cell,
    }
}

/// The byte-order mark written at the start of UTF-8 CSV exports (Excel needs it).
pub const UTF8_BOM: &str = "\u{feff}";

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    #[test]
    fn formulas_are_defused() {
        assert_eq!(formula_safe("=SUM(A1)"), "'=SUM(A1)");
        assert_eq!(formula_safe("-1"), "'-1");
        assert_eq!(formula_safe("事務局"), "事務局");
        assert_eq!(formula_safe("'quoted"), "'quoted");
        assert_eq!(formula_safe("'=x"), "''=x");
        assert_eq!(strip_formula_guard("''=x"), "'=x");
        assert_eq!(strip_formula_guard("'=x"), "=x");
        assert_eq!(strip_formula_guard("'x"), "'x");
    }

    proptest! {
        /// Export then import gives back exactly what was stored.
        #[test]
        fn round_trip(s in ".*") {
            let exported = formula_safe(&s);
            prop_assert_eq!(strip_formula_guard(&exported), s.as_str());
        }
    }
}
