use super::{Dialect, quote_with};

/// SQLite: `?` placeholders, no casts (type affinity converts bound text), rows
/// decoded by the driver from SQLite's five storage classes. SQLite has no
/// `SET col = DEFAULT`, so the catalog's default expression is printed instead.
pub struct Sqlite;

impl Dialect for Sqlite {
    fn name(&self) -> &'static str {
        "sqlite"
    }

    fn quote(&self, ident: &str) -> String {
        quote_with(ident, '"')
    }

    fn placeholder(&self, _n: usize) -> String {
        "?".into()
    }

    /// SQLITE_MAX_VARIABLE_NUMBER's default since SQLite 3.32.
    fn max_params(&self) -> usize {
        32_766
    }

    fn default_value(&self, default_sql: Option<&str>) -> String {
        // The default comes from the database's own schema, not from a request.
        default_sql.map_or_else(|| "NULL".into(), |d| format!("({d})"))
    }
}
