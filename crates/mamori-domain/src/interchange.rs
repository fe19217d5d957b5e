//! Rules for files people exchange with spreadsheets (`INTERCHANGE.md`).

/// A text cell that would start a spreadsheet formula gets a leading apostrophe on export, so
/// opening an export never runs a formula; import removes exactly one again.
pub fn formula_safe(cell: &str) -> std::borrow::Cow<'_, str> {
    if cell.starts_with(['=', '+', '-', '@', '\t', '\r']) {
        std::borrow::Cow::Owned(format!("'{cell}"))
    } else {
        std::borrow::Cow::Borrowed(cell)
    }
}

/// Undoes [`formula_safe`] on import.
pub fn strip_formula_guard(cell: &str) -> &str {
    match cell.strip_prefix('\'') {
        Some(rest) if rest.starts_with(['=', '+', '-', '@', '\t', '\r']) => rest,
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
