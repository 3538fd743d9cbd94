use super::{Dialect, quote_with};
use crate::ast::{ColRef, OutCol, Param, SqlValue};
use gatehouse_core::ApiType;
use gatehouse_core::cells::Cell;
use serde_json::Value;
use std::fmt::Write as _;

/// PostgreSQL: `$n` placeholders cast to the column's type, and rows read as
/// cells (`cell_column`) that the driver spells from their binary form.
pub struct Postgres;

/// `[[1, 2], [3, null]]` as `{{"1","2"},{"3",NULL}}`: every element quoted
/// (each type's input reads its quoted text), nested arrays as nested braces.
fn array_literal(v: &Value) -> String {
    match v {
        Value::Array(items) => {
            let inner: Vec<String> = items.iter().map(array_literal).collect();
            format!("{{{}}}", inner.join(","))
        }
        Value::Null => "NULL".into(),
        Value::String(s) => quote_element(s),
        other => quote_element(&other.to_string()),
    }
}

fn quote_element(s: &str) -> String {
    format!("\"{}\"", s.replace('\\', "\\\\").replace('"', "\\\""))
}

impl Dialect for Postgres {
    fn name(&self) -> &'static str {
        "postgres"
    }

    fn quote(&self, ident: &str) -> String {
        quote_with(ident, '"')
    }

    fn placeholder(&self, n: usize) -> String {
        format!("${n}")
    }

    /// The executor inserts the rows of `VALUES` in order and hands back each
    /// row's `RETURNING` as it goes (what Django's `bulk_create` relies on too;
    /// the connector also checks it got one row per record); a statement
    /// binds at most 65,535 parameters.
    fn rows_per_insert(&self, params_per_row: usize) -> usize {
        u16::MAX as usize / params_per_row.max(1)
    }

    fn typed_param(&self, placeholder: String, p: &Param) -> String {
        match (&p.cast, p.api_type) {
            // a composite from its JSON object, nested ones included
            (Some(t), Some(ApiType::Object)) => {
                format!("jsonb_populate_record(NULL::{t}, {placeholder}::jsonb)")
            }
            (Some(t), _) => format!("{placeholder}::{t}"),
            (None, _) => placeholder,
        }
    }

    /// An array is bound as PostgreSQL's array literal, which nests (a
    /// JSON array of arrays is a multi-dimensional array).
    fn bind_value(&self, p: &Param) -> SqlValue {
        match (&p.value, p.json_array) {
            (SqlValue::Text(s), true) => match serde_json::from_str::<Value>(s) {
                Ok(v @ Value::Array(_)) => SqlValue::Text(array_literal(&v)),
                _ => p.value.clone(),
            },
            (v, _) => v.clone(),
        }
    }

    fn read_column(&self, col: &OutCol) -> String {
        let q = self.quote(&col.name);
        match col.api_type {
            // encode() wraps lines at 76 characters; the API wants plain base64
            ApiType::Binary => format!("translate(encode({q}, 'base64'), E'\\n', '')"),
            _ => q,
        }
    }

    /// Reads select plain columns: built-in types the driver decodes from
    /// their binary form (integers, booleans, floats, numeric, text, uuid,
    /// json, bytea, dates, times without zone, timestamps) come as stored — a cast would make the server convert
    /// every value to text first. The rest (times with a zone, intervals,
    /// arrays, composites, enums, domains, whose `db_type` is their own name) are
    /// converted here: scalars the API spells as PostgreSQL's text output
    /// through `::text`, others through `to_json`, the spelling `json_agg` gives.
    fn reads_cells(&self) -> bool {
        true
    }

    fn cell_column(&self, col: &OutCol) -> Option<(String, Cell)> {
        let q = self.quote(&col.name);
        let t = col.db_type.as_str();
        let native = matches!(
            t,
            "smallint"
                | "integer"
                | "bigint"
                | "boolean"
                | "real"
                | "double precision"
                | "text"
                | "name"
                | "uuid"
                | "json"
                | "jsonb"
                | "bytea"
        ) || t.starts_with("numeric")
            || t.starts_with("character varying")
            || t.starts_with("character(")
            || t == "date"
            || t.starts_with("timestamp")
            || (t.starts_with("time") && t.ends_with("without time zone"));
        Some(match col.api_type {
            ApiType::Integer | ApiType::Bigint | ApiType::Float | ApiType::Decimal => {
                (if native { q } else { format!("{q}::text") }, Cell::Number)
            }
            ApiType::Boolean => (if native { q } else { format!("{q}::text") }, Cell::Bool),
            ApiType::Json => (if native { q } else { format!("{q}::text") }, Cell::Json),
            ApiType::Binary if !native => (self.read_column(col), Cell::Text),
            ApiType::Uuid if !native => (format!("{q}::text"), Cell::Text),
            ApiType::Binary
            | ApiType::Uuid
            | ApiType::Text
            | ApiType::String
            | ApiType::Date
            | ApiType::Time
            | ApiType::Datetime
            | ApiType::Timestamp
                if native =>
            {
                (q, Cell::Text)
            }
            _ => (format!("to_json({q})::text"), Cell::Json),
        })
    }

    fn like_operand(&self, col: &ColRef) -> String {
        if col.textual {
            self.quote(&col.name)
        } else {
            format!("{}::text", self.quote(&col.name))
        }
    }

    fn paging(
        &self,
        limit: Option<String>,
        offset: Option<String>,
        _ordered: bool,
    ) -> (String, String) {
        let mut s = String::new();
        if let Some(l) = limit {
            let _ = write!(s, " LIMIT {l}");
        }
        if let Some(o) = offset {
            let _ = write!(s, " OFFSET {o}");
        }
        (String::new(), s)
    }

    fn default_value(&self, _default_sql: Option<&str>) -> String {
        "DEFAULT".into()
    }
}
