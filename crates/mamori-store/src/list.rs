//! The list shape every register shares: filters built as parameterised SQL, a count, and
//! one page in a stable order. Each kind of record declares only its table, columns, filters
//! and row mapping.

use crate::Result;
use futures_util::TryStreamExt;
use sqlx::any::AnyRow;
use sqlx::{AnyPool, Row};

/// A WHERE clause under construction. Values are always bound, never spliced into SQL.
#[derive(Debug, Default, Clone)]
pub(crate) struct Filter {
    clauses: Vec<String>,
    args: Vec<String>,
}

impl Filter {
    /// Adds `clause`, where each `?` stands for `value` (bound once as the next parameter).
    pub(crate) fn add(&mut self, clause: &str, value: impl Into<String>) {
        self.args.push(value.into());
        let n = self.args.len();
        self.clauses.push(clause.replace('?', &format!("${n}")));
    }

    /// Binds each value as the next parameter and returns their placeholders (`$3, $4`), for
    /// an `IN (…)` list.
    pub(crate) fn params(&mut self, values: impl IntoIterator<Item = String>) -> String {
        let mut placeholders = Vec::new();
        for v in values {
            self.args.push(v);
            placeholders.push(format!("${}", self.args.len()));
        }
        placeholders.join(", ")
    }

    /// Adds `column = value` when a non-empty value is given.
    pub(crate) fn eq(&mut self, column: &str, value: Option<&str>) {
        if let Some(v) = value.filter(|v| !v.is_empty()) {
            self.add(&format!("{column} = ?"), v);
        }
    }

    /// Adds `column LIKE 'value%'` (LIKE wildcards in the value are dropped).
    pub(crate) fn starts_with(&mut self, column: &str, value: Option<&str>) {
        if let Some(v) = value.filter(|v| !v.is_empty()) {
            self.add(
                &format!("{column} LIKE ?"),
                format!("{}%", v.replace(['%', '_'], "")),
            );
        }
    }

    /// Adds "any of `columns` contains `value`".
    pub(crate) fn contains_any(&mut self, columns: &[&str], value: Option<&str>) {
        if let Some(v) = value.map(str::trim).filter(|v| !v.is_empty()) {
            let ors: Vec<String> = columns.iter().map(|c| format!("{c} LIKE ?")).collect();
            self.add(
                &format!("({})", ors.join(" OR ")),
                format!("%{}%", v.replace(['%', '_'], "")),
            );
        }
    }

    /// Adds a clause without parameters (built from trusted values such as ids).
    pub(crate) fn raw(&mut self, clause: String) {
        self.clauses.push(clause);
    }

    /// Counts of the matching rows of `from` per pair of integer columns (`group`, e.g.
    /// `r.likelihood, r.impact`): (first, second, count).
    pub(crate) async fn grouped(
        &self,
        pool: &AnyPool,
        from: &str,
        group: &str,
    ) -> Result<Vec<(i64, i64, i64)>> {
        let sql = format!(
            "SELECT {group}, COUNT(*) {from}{} GROUP BY {group}",
            self.where_sql()
        );
        let mut q = sqlx::query_as::<_, (i64, i64, i64)>(&sql);
        for a in &self.args {
            q = q.bind(a);
        }
        Ok(q.fetch_all(pool).await?)
    }

    fn where_sql(&self) -> String {
        if self.clauses.is_empty() {
            String::new()
        } else {
            format!(" WHERE {}", self.clauses.join(" AND "))
        }
    }
}

/// The order of a page read in one pass ([`ListQuery::page_one_pass`]): one sort key, then the
/// unique id, both in one direction.
pub(crate) struct KeyOrder<'a> {
    /// The unique id column (`a.id`).
    pub id: &'a str,
    /// The sort key expression (`a.name`; the id itself when sorting by id).
    pub key: &'a str,
    /// Descending instead of ascending.
    pub descending: bool,
    /// `FROM …` holding the filter's tables and the key's, without the joins that only add
    /// columns.
    pub from: &'a str,
}

/// A list query: `SELECT {columns} {from}{where} ORDER BY {order}`.
pub(crate) struct ListQuery<'a> {
    /// Selected columns.
    pub columns: &'a str,
    /// `FROM …` with joins.
    pub from: &'a str,
    /// Stable order (end with a unique key).
    pub order: &'a str,
    /// A cheaper `FROM` for counting, when the joins only add columns (filters must use only
    /// its tables).
    pub count_from: Option<&'a str>,
}

impl ListQuery<'_> {
    /// One page (`limit` clamped to 1–1000) and the total matching.
    pub(crate) async fn page<T>(
        &self,
        pool: &AnyPool,
        filter: &Filter,
        limit: i64,
        offset: i64,
        map: impl Fn(&AnyRow) -> Result<T>,
    ) -> Result<(Vec<T>, i64)> {
        let where_sql = filter.where_sql();
        let count_sql = format!(
            "SELECT COUNT(*) {}{where_sql}",
            self.count_from.unwrap_or(self.from)
        );
        let mut count = sqlx::query_scalar::<_, i64>(&count_sql);
        for a in &filter.args {
            count = count.bind(a);
        }
        let total = count.fetch_one(pool).await?;
        let sql = format!(
            "SELECT {} {}{where_sql} ORDER BY {} LIMIT {} OFFSET {}",
            self.columns,
            self.from,
            self.order,
            limit.clamp(1, 1000),
            offset.max(0)
        );
        let mut q = sqlx::query(&sql);
        for a in &filter.args {
            q = q.bind(a);
        }
        let rows = q.fetch_all(pool).await?;
        let items = rows.iter().map(map).collect::<Result<Vec<_>>>()?;
        Ok((items, total))
    }

    /// One page and the total, visiting the matching rows once: their ids and sort keys are
    /// materialised, counted and sorted, and only the page's rows are joined for their
    /// columns. For filters that pick thousands of rows by a condition no index serves in
    /// order (free-text search), where [`ListQuery::page`] would visit every match twice —
    /// once to count, once to sort them with every column.
    pub(crate) async fn page_one_pass<T>(
        &self,
        pool: &AnyPool,
        filter: &Filter,
        order: &KeyOrder<'_>,
        limit: i64,
        offset: i64,
        map: impl Fn(&AnyRow) -> Result<T>,
    ) -> Result<(Vec<T>, i64)> {
        let where_sql = filter.where_sql();
        let dir = if order.descending { "DESC" } else { "ASC" };
        let matches = format!(
            "m AS MATERIALIZED (SELECT {} AS m_id, {} AS m_key {}{where_sql})",
            order.id, order.key, order.from
        );
        let offset = offset.max(0);
        let sql = format!(
            "WITH {matches}, pg AS (SELECT m_id, m_key FROM m ORDER BY m_key {dir}, m_id {dir} \
             LIMIT {} OFFSET {offset}) \
             SELECT (SELECT COUNT(*) FROM m) AS m_total, {} {} JOIN pg ON pg.m_id = {} \
             ORDER BY pg.m_key {dir}, pg.m_id {dir}",
            limit.clamp(1, 1000),
            self.columns,
            self.from,
            order.id
        );
        let mut q = sqlx::query(&sql);
        for a in &filter.args {
            q = q.bind(a);
        }
        let rows = q.fetch_all(pool).await?;
        let total = match rows.first() {
            Some(row) => row.try_get::<i64, _>("m_total")?,
            // Nothing matches, or the page lies beyond the last match: count on its own.
            None if offset == 0 => 0,
            None => {
                let count_sql = format!("WITH {matches} SELECT COUNT(*) FROM m");
                let mut count = sqlx::query_scalar::<_, i64>(&count_sql);
                for a in &filter.args {
                    count = count.bind(a);
                }
                count.fetch_one(pool).await?
            }
        };
        let items = rows.iter().map(map).collect::<Result<Vec<_>>>()?;
        Ok((items, total))
    }

    /// Every matching row, streamed in order to `sink` (exports of any size).
    pub(crate) async fn for_each<T>(
        &self,
        pool: &AnyPool,
        filter: &Filter,
        map: impl Fn(&AnyRow) -> Result<T>,
        mut sink: impl FnMut(T) -> Result<()>,
    ) -> Result<()> {
        let sql = format!(
            "SELECT {} {}{} ORDER BY {}",
            self.columns,
            self.from,
            filter.where_sql(),
            self.order
        );
        let mut q = sqlx::query(&sql);
        for a in &filter.args {
            q = q.bind(a);
        }
        let mut rows = q.fetch(pool);
        while let Some(row) = rows.try_next().await? {
            sink(map(&row)?)?;
        }
        Ok(())
    }
}
