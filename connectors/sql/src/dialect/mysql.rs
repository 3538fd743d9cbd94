use super::{Dialect, ReturningStyle, order_term_emulated, quote_with};
use crate::ast::{OutCol, Param, SqlValue};
use crate::convert::naive_datetime;
use gatehouse_core::ApiType;

/// MySQL 8 and MariaDB: backtick quoting, `?` placeholders, no `NULLS
/// FIRST/LAST` (emulated), and no `RETURNING` on MySQL 8 — so the connector
/// reads written rows back inside the write's transaction, on both servers.
///
/// Values are read as text (`CAST(... AS CHAR)`) and typed by the driver from
/// the column's API type: decimals stay exact, `tinyint(1)` becomes a boolean,
/// JSON is embedded, and date-times come back in ISO 8601 (`TIMESTAMP` in UTC,
/// the session time zone the driver sets).
pub struct MySql;

impl MySql {
    /// A spatial type (`geometry`, `point`, …, as `DATA_TYPE` or
    /// `COLUMN_TYPE` spells it): WKT text in the API. Introspection marks
    /// such columns by it, and reads select them through it.
    pub fn is_spatial(db_type: &str) -> bool {
        let base = db_type.split([' ', '(']).next().unwrap_or("");
        matches!(
            base,
            "geometry"
                | "point"
                | "linestring"
                | "polygon"
                | "multipoint"
                | "multilinestring"
                | "multipolygon"
                | "geometrycollection"
                | "geomcollection"
        )
    }
}

impl Dialect for MySql {
    fn name(&self) -> &'static str {
        "mysql"
    }

    fn quote(&self, ident: &str) -> String {
        quote_with(ident, '`')
    }

    fn placeholder(&self, _n: usize) -> String {
        "?".into()
    }

    fn typed_param(&self, placeholder: String, p: &Param) -> String {
        // spatial columns take WKT text (checked before it gets here: MySQL
        // answers NULL for text that is not WKT)
        if p.cast.as_deref() == Some("geometry") {
            return format!("ST_GeomFromText({placeholder})");
        }
        match p.api_type {
            // Decimals as decimals, not doubles (MySQL's rule for text against
            // a number). The widest type: a narrower one would clamp
            // out-of-range values on insert instead of refusing them.
            Some(ApiType::Decimal) => format!("CAST({placeholder} AS DECIMAL(65,30))"),
            _ => placeholder,
        }
    }

    fn bind_value(&self, p: &Param) -> SqlValue {
        match (&p.value, p.api_type) {
            // MySQL literals take no offset: TIMESTAMP columns hold UTC (the
            // session time zone), DATETIME columns have no zone at all.
            (SqlValue::Text(s), Some(ApiType::Timestamp)) => {
                SqlValue::Text(naive_datetime(s, true, ' '))
            }
            (SqlValue::Text(s), Some(ApiType::Datetime)) => {
                SqlValue::Text(naive_datetime(s, false, ' '))
            }
            (v, _) => v.clone(),
        }
    }

    fn read_column(&self, col: &OutCol) -> String {
        let q = self.quote(&col.name);
        if MySql::is_spatial(&col.db_type) {
            return format!("ST_AsText({q})");
        }
        match col.api_type {
            ApiType::Binary => q,
            ApiType::Datetime => format!("REPLACE(CAST({q} AS CHAR), ' ', 'T')"),
            ApiType::Timestamp => format!("CONCAT(REPLACE(CAST({q} AS CHAR), ' ', 'T'), '+00:00')"),
            _ => format!("CAST({q} AS CHAR)"),
        }
    }

    fn paging(
        &self,
        limit: Option<String>,
        offset: Option<String>,
        _ordered: bool,
    ) -> (String, String) {
        let suffix = match (limit, offset) {
            (Some(l), Some(o)) => format!(" LIMIT {l} OFFSET {o}"),
            (Some(l), None) => format!(" LIMIT {l}"),
            // MySQL has no "no limit" with an offset: the documented idiom
            (None, Some(o)) => format!(" LIMIT 18446744073709551615 OFFSET {o}"),
            (None, None) => String::new(),
        };
        (String::new(), suffix)
    }

    fn order_term(&self, expr: &str, descending: bool, nulls_first: Option<bool>) -> String {
        order_term_emulated(expr, descending, nulls_first)
    }

    fn like_escape(&self) -> &'static str {
        // a backslash inside a MySQL string literal is itself escaped
        " ESCAPE '\\\\'"
    }

    fn insert_defaults(&self) -> &'static str {
        " () VALUES ()"
    }

    fn returning_style(&self) -> ReturningStyle {
        ReturningStyle::None
    }

    fn default_value(&self, _default_sql: Option<&str>) -> String {
        "DEFAULT".into()
    }
}
