//! JSON values (request bodies, filter literals) to bound SQL parameters,
//! checked against the column's API type so every engine rejects the same
//! wrong values — SQLite would otherwise store text in an integer column.

use crate::ast::{Param, SqlType, SqlValue};
use base64::Engine;
use gatehouse_core::value::{decode_base64, is_date, is_datetime, is_decimal, is_time, is_uuid};
use gatehouse_core::{ApiType, Column, ConnectorError, ErrorKind};
use serde_json::Value;

fn invalid(col: &Column, expected: &str) -> ConnectorError {
    ConnectorError::public(
        ErrorKind::InvalidValue,
        format!("'{}' expects {expected}", col.name),
    )
    .with_field(&col.name)
}

/// The parameter for `value` written to or compared with `col`.
pub fn param(value: &Value, col: &Column) -> Result<Param, ConnectorError> {
    let cast = (!col.cast_type.is_empty()).then(|| col.cast_type.clone());
    let mut json_array = false;
    let v = match (col.api_type, value) {
        (t, Value::Null) => SqlValue::Null(SqlType::of(t)),
        (ApiType::Integer | ApiType::Bigint, v) => {
            let n = match v {
                Value::Number(n) => n.as_i64(),
                Value::String(s) => s.trim().parse::<i64>().ok(),
                _ => None,
            };
            SqlValue::Int(n.ok_or_else(|| invalid(col, "an integer"))?)
        }
        (ApiType::Decimal, v) => match v {
            Value::Number(n) => SqlValue::Text(n.to_string()),
            Value::String(s) if is_decimal(s.trim()) => SqlValue::Text(s.trim().to_string()),
            _ => return Err(invalid(col, "a number")),
        },
        (ApiType::Float, v) => match v {
            Value::Number(n) => {
                SqlValue::Float(n.as_f64().ok_or_else(|| invalid(col, "a number"))?)
            }
            Value::String(s) => {
                SqlValue::Float(s.trim().parse().map_err(|_| invalid(col, "a number"))?)
            }
            _ => return Err(invalid(col, "a number")),
        },
        (ApiType::Boolean, v) => SqlValue::Bool(match v {
            Value::Bool(b) => *b,
            Value::Number(n) if n.as_i64() == Some(0) => false,
            Value::Number(n) if n.as_i64() == Some(1) => true,
            Value::String(s) => match s.to_ascii_lowercase().as_str() {
                "true" | "t" | "1" => true,
                "false" | "f" | "0" => false,
                _ => return Err(invalid(col, "a boolean")),
            },
            _ => return Err(invalid(col, "a boolean")),
        }),
        (ApiType::String | ApiType::Text, v) => match v {
            Value::String(s) => SqlValue::Text(s.clone()),
            Value::Number(n) => SqlValue::Text(n.to_string()),
            Value::Bool(b) => SqlValue::Text(b.to_string()),
            _ => return Err(invalid(col, "a string")),
        },
        (ApiType::Date, Value::String(s)) if is_date(s) => SqlValue::Text(s.clone()),
        (ApiType::Date, _) => return Err(invalid(col, "a date (YYYY-MM-DD)")),
        (ApiType::Time, Value::String(s)) if is_time(s) => SqlValue::Text(s.clone()),
        (ApiType::Time, _) => return Err(invalid(col, "a time (HH:MM:SS)")),
        (ApiType::Datetime | ApiType::Timestamp, Value::String(s)) if is_datetime(s) => {
            SqlValue::Text(s.clone())
        }
        (ApiType::Datetime | ApiType::Timestamp, _) => {
            return Err(invalid(col, "an RFC 3339 date-time"));
        }
        (ApiType::Uuid, Value::String(s)) if is_uuid(s) => SqlValue::Text(s.clone()),
        (ApiType::Uuid, _) => return Err(invalid(col, "a UUID string")),
        (ApiType::Binary, Value::String(s)) => {
            SqlValue::Bytes(decode_base64(s).ok_or_else(|| invalid(col, "base64 text"))?)
        }
        (ApiType::Binary, _) => return Err(invalid(col, "base64 text")),
        (ApiType::Json, v) => SqlValue::Text(v.to_string()),
        (ApiType::Array, Value::Array(_)) => {
            json_array = true;
            SqlValue::Text(value.to_string())
        }
        (ApiType::Array | ApiType::Object | ApiType::ObjectId, Value::String(s)) => {
            SqlValue::Text(s.clone())
        }
        (ApiType::Array | ApiType::Object | ApiType::ObjectId, v) => SqlValue::Text(v.to_string()),
    };
    Ok(Param {
        value: v,
        cast,
        json_array,
        api_type: Some(col.api_type),
    })
}

/// A pattern parameter for LIKE (always text).
pub fn text_param(text: String) -> Param {
    Param {
        value: SqlValue::Text(text),
        cast: Some("text".into()),
        json_array: false,
        api_type: None,
    }
}

/// Escapes `%`, `_`, `[` (a class in SQL Server) and the escape character
/// `\` so text matches literally; an escaped character is literal in every dialect.
pub fn escape_like(text: &str) -> String {
    let mut s = String::with_capacity(text.len());
    for c in text.chars() {
        if matches!(c, '%' | '_' | '[' | '\\') {
            s.push('\\');
        }
        s.push(c);
    }
    s
}

/// Base64 of binary column values, as the API writes them.
pub fn encode_binary(bytes: &[u8]) -> String {
    base64::engine::general_purpose::STANDARD.encode(bytes)
}

/// A date-time as engines without offsets in literals take it (`YYYY-MM-DD
/// HH:MM:SS[.f]`, with `sep` between date and time). With `to_utc` an offset
/// is applied (the column holds UTC); without, it is dropped, as PostgreSQL
/// does for `timestamp without time zone`. Text that is not a date-time is
/// returned unchanged (the database then rejects it).
pub fn naive_datetime(text: &str, to_utc: bool, sep: char) -> String {
    let fmt = format!("%Y-%m-%d{sep}%H:%M:%S%.f");
    if let Ok(dt) = chrono::DateTime::parse_from_rfc3339(text) {
        let naive = if to_utc {
            dt.naive_utc()
        } else {
            dt.naive_local()
        };
        return naive.format(&fmt).to_string();
    }
    for f in ["%Y-%m-%dT%H:%M:%S%.f", "%Y-%m-%d %H:%M:%S%.f"] {
        if let Ok(n) = chrono::NaiveDateTime::parse_from_str(text, f) {
            return n.format(&fmt).to_string();
        }
    }
    if let Ok(d) = chrono::NaiveDate::parse_from_str(text, "%Y-%m-%d") {
        return d.and_time(chrono::NaiveTime::MIN).format(&fmt).to_string();
    }
    text.to_string()
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used)]
    use super::*;
    use serde_json::json;

    fn kind(v: &SqlValue) -> SqlType {
        match v {
            SqlValue::Null(t) => *t,
            SqlValue::Bool(_) => SqlType::Bool,
            SqlValue::Int(_) => SqlType::Int,
            SqlValue::Float(_) => SqlType::Float,
            SqlValue::Text(_) => SqlType::Text,
            SqlValue::Bytes(_) => SqlType::Bytes,
        }
    }

    /// A NULL is bound as the same kind as the column's values (and every
    /// accepted spelling of a value binds as one kind), so a statement
    /// prepared with either takes the other.
    #[test]
    fn nulls_bind_as_the_column_values_kind() {
        let cases = [
            (ApiType::Integer, vec![json!(1), json!("2")]),
            (
                ApiType::Bigint,
                vec![json!(-9_007_199_254_740_993_i64), json!(" 3 ")],
            ),
            (ApiType::Decimal, vec![json!(1.5), json!("98765.4321")]),
            (ApiType::Float, vec![json!(1.5), json!("2.5")]),
            (ApiType::Boolean, vec![json!(true), json!(0), json!("f")]),
            (ApiType::String, vec![json!("x"), json!(1), json!(false)]),
            (ApiType::Text, vec![json!("x")]),
            (ApiType::Date, vec![json!("2024-02-29")]),
            (ApiType::Time, vec![json!("23:59:59")]),
            (ApiType::Datetime, vec![json!("2024-02-29T23:59:59Z")]),
            (ApiType::Timestamp, vec![json!("2024-02-29T23:59:59+02:00")]),
            (
                ApiType::Uuid,
                vec![json!("00000000-0000-4000-8000-000000000001")],
            ),
            (ApiType::Binary, vec![json!("AAEC/w==")]),
            (ApiType::Json, vec![json!({"a": [1]}), json!("s"), json!(2)]),
            (ApiType::ObjectId, vec![json!("0123456789abcdef01234567")]),
            (ApiType::Array, vec![json!([1, 2]), json!("{1,2}")]),
            (ApiType::Object, vec![json!({"a": 1}), json!("(1,2)")]),
        ];
        for (t, values) in cases {
            let col = Column::new("c", t, "t");
            let null = param(&Value::Null, &col).unwrap().value;
            assert_eq!(null, SqlValue::Null(SqlType::of(t)), "{t:?}");
            for v in values {
                let bound = param(&v, &col).unwrap().value;
                assert_eq!(kind(&bound), kind(&null), "{t:?} {v}");
            }
        }
    }
}
