//! Placeholders for multi-row `INSERT … VALUES` statements, the one shape every batched write
//! (imported assets, their grams, audit entries) uses.

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
