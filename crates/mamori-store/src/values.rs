//! Placeholders for multi-row `INSERT … VALUES` statements, the one shape every batched write
//! (imported assets, their grams, audit entries) uses, and the `INSERT` they start with.

/// `(…), (…)` for `rows` rows of `columns` parameters: `$n` on PostgreSQL, plain `?` on
/// SQLite, where sqlx looks each named parameter up by a linear scan (so `$n` would make
/// binding a statement of n parameters cost n²).
pub(crate) fn values_list(postgres: bool, rows: usize, columns: usize) -> String {
    let mut out = String::with_capacity(rows * columns * 6);
    for r in 0..rows {
        out.push_str(if r == 0 { "(" } else { ", (" });
        for c in 0..columns {
            if c > 0 {
                out.push_str(", ");
            }
            if postgres {
                out.push_str(&format!("${}", r * columns + c + 1));
            } else {
                out.push('?');
            }
        }
        out.push(')');
    }
    out
}

/// `INSERT` for a multi-row statement that fails as a whole transaction would: on SQLite
/// `INSERT OR FAIL`, which keeps no statement journal (a multi-row statement that may abort
/// otherwise journals every page it touches, to undo itself alone). Only for writes whose
/// failure fails the whole transaction, which is then rolled back — every batched write is
/// one: an error is returned and the dropped [`crate::WriteTx`] rolls back.
pub(crate) fn insert_failing(postgres: bool) -> &'static str {
    if postgres {
        "INSERT"
    } else {
        "INSERT OR FAIL"
    }
}

#[cfg(test)]
mod tests {
    use super::values_list;

    #[test]
    fn numbers_postgres_parameters_across_rows_and_leaves_sqlite_positional() {
        assert_eq!(values_list(true, 2, 2), "($1, $2), ($3, $4)");
        assert_eq!(values_list(false, 2, 3), "(?, ?, ?), (?, ?, ?)");
        assert_eq!(values_list(true, 1, 1), "($1)");
    }
}
