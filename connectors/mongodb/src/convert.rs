//! JSON ↔ BSON. Values for a known field are checked against its inferred
//! type (so a bad value is refused as on the SQL engines); values for fields
//! outside the sample keep their JSON type. Object keys that are operators
//! (`$`-prefixed) are refused anywhere in a value, so a value can never turn
//! into a query operator.

use base64::Engine;
use base64::engine::general_purpose::STANDARD;
use gatehouse_core::value::{is_datetime, is_decimal};
use gatehouse_core::{ApiType, Column, ConnectorError, ErrorKind};
use mongodb::bson::oid::ObjectId;
use mongodb::bson::{Binary, Bson, DateTime, Decimal128, Document, spec::BinarySubtype};
use serde_json::{Number, Value};
use std::str::FromStr;

fn invalid(field: &str, expected: &str) -> ConnectorError {
    ConnectorError::public(
        ErrorKind::InvalidValue,
        format!("'{field}' expects {expected}"),
    )
    .with_field(field)
}

/// `value` as BSON for `field` (whose column, if the sample saw it, is `col`).
pub fn json_to_bson(
    value: &Value,
    col: Option<&Column>,
    field: &str,
) -> Result<Bson, ConnectorError> {
    let Some(col) = col else {
        return plain(value, field);
    };
    Ok(match (col.api_type, value) {
        (_, Value::Null) => Bson::Null,
        (ApiType::ObjectId, Value::String(s)) => match ObjectId::parse_str(s) {
            Ok(oid) => Bson::ObjectId(oid),
            // other `_id` values are kept as they are
            Err(_) if field == "_id" => Bson::String(s.clone()),
            Err(_) => return Err(invalid(field, "an ObjectId (24 hex digits)")),
        },
        (ApiType::Integer | ApiType::Bigint, v) => {
            let n = match v {
                Value::Number(n) => n.as_i64(),
                Value::String(s) => s.trim().parse::<i64>().ok(),
                _ => None,
            }
            .ok_or_else(|| invalid(field, "an integer"))?;
            match i32::try_from(n) {
                Ok(small) if col.api_type == ApiType::Integer => Bson::Int32(small),
                _ => Bson::Int64(n),
            }
        }
        (ApiType::Float, v) => Bson::Double(
            match v {
                Value::Number(n) => n.as_f64(),
                Value::String(s) => s.trim().parse().ok(),
                _ => None,
            }
            .ok_or_else(|| invalid(field, "a number"))?,
        ),
        (ApiType::Decimal, v) => {
            let text = match v {
                Value::Number(n) => n.to_string(),
                Value::String(s) if is_decimal(s.trim()) => s.trim().to_string(),
                _ => return Err(invalid(field, "a number")),
            };
            Bson::Decimal128(Decimal128::from_str(&text).map_err(|_| invalid(field, "a number"))?)
        }
        (ApiType::Boolean, v) => Bson::Boolean(match v {
            Value::Bool(b) => *b,
            Value::Number(n) if n.as_i64() == Some(0) => false,
            Value::Number(n) if n.as_i64() == Some(1) => true,
            Value::String(s) => match s.to_ascii_lowercase().as_str() {
                "true" | "t" | "1" => true,
                "false" | "f" | "0" => false,
                _ => return Err(invalid(field, "a boolean")),
            },
            _ => return Err(invalid(field, "a boolean")),
        }),
        (ApiType::Timestamp | ApiType::Datetime, Value::String(s)) if is_datetime(s) => {
            Bson::DateTime(
                parse_datetime(s).ok_or_else(|| invalid(field, "an RFC 3339 date-time"))?,
            )
        }
        (ApiType::Timestamp | ApiType::Datetime, _) => {
            return Err(invalid(field, "an RFC 3339 date-time"));
        }
        (ApiType::String | ApiType::Text, v) => match v {
            Value::String(s) => Bson::String(s.clone()),
            Value::Number(n) => Bson::String(n.to_string()),
            Value::Bool(b) => Bson::String(b.to_string()),
            _ => return Err(invalid(field, "a string")),
        },
        (ApiType::Binary, Value::String(s)) => Bson::Binary(Binary {
            subtype: BinarySubtype::Generic,
            bytes: STANDARD
                .decode(s)
                .map_err(|_| invalid(field, "base64 text"))?,
        }),
        (ApiType::Binary, _) => return Err(invalid(field, "base64 text")),
        (ApiType::Object, Value::Object(_))
        | (ApiType::Array, Value::Array(_))
        | (ApiType::Json, _) => plain(value, field)?,
        (ApiType::Object, _) => return Err(invalid(field, "an object")),
        (ApiType::Array, _) => return Err(invalid(field, "an array")),
        (_, v) => plain(v, field)?,
    })
}

/// The API's date-time spellings (RFC 3339; a space for the `T`; no offset
/// meaning UTC; a bare date meaning midnight) through the bson crate's parser.
fn parse_datetime(s: &str) -> Option<DateTime> {
    let mut t = s.replacen(' ', "T", 1);
    if t.len() == 10 {
        t += "T00:00:00";
    }
    let time = t.get(10..).unwrap_or("");
    let has_offset = time.ends_with(['Z', 'z']) || time.contains(['+', '-']);
    if !has_offset {
        t += "Z";
    }
    DateTime::parse_rfc3339_str(&t).ok()
}

/// JSON as BSON by its own type.
fn plain(value: &Value, field: &str) -> Result<Bson, ConnectorError> {
    Ok(match value {
        Value::Null => Bson::Null,
        Value::Bool(b) => Bson::Boolean(*b),
        Value::Number(n) => number(n),
        Value::String(s) => Bson::String(s.clone()),
        Value::Array(a) => Bson::Array(
            a.iter()
                .map(|v| plain(v, field))
                .collect::<Result<_, _>>()?,
        ),
        Value::Object(o) => {
            let mut d = Document::new();
            for (k, v) in o {
                if k.starts_with('$') || k.is_empty() {
                    return Err(ConnectorError::public(
                        ErrorKind::InvalidValue,
                        format!(
                            "'{field}' holds a key '{k}': keys may not be empty or start with '$'"
                        ),
                    )
                    .with_field(field));
                }
                d.insert(k.clone(), plain(v, field)?);
            }
            Bson::Document(d)
        }
    })
}

fn number(n: &Number) -> Bson {
    if let Some(i) = n.as_i64() {
        return i32::try_from(i).map_or(Bson::Int64(i), Bson::Int32);
    }
    n.as_f64().map_or(Bson::Null, Bson::Double)
}

/// A BSON value as the API writes it: ObjectId as hex, dates in RFC 3339
/// (UTC), Decimal128 as an exact JSON number, binary as base64.
pub fn bson_to_json(b: &Bson) -> Value {
    match b {
        Bson::Null | Bson::Undefined => Value::Null,
        Bson::Boolean(v) => Value::Bool(*v),
        Bson::Int32(v) => Value::from(*v),
        Bson::Int64(v) => Value::from(*v),
        Bson::Double(v) => Number::from_f64(*v).map_or(Value::Null, Value::Number),
        Bson::Decimal128(d) => {
            let s = d.to_string();
            Number::from_str(&s).map_or(Value::String(s), Value::Number)
        }
        Bson::String(s) => Value::String(s.clone()),
        Bson::ObjectId(o) => Value::String(o.to_hex()),
        Bson::DateTime(d) => Value::String(rfc3339(*d)),
        Bson::Binary(bin) => Value::String(STANDARD.encode(&bin.bytes)),
        Bson::Array(a) => Value::Array(a.iter().map(bson_to_json).collect()),
        Bson::Document(d) => Value::Object(
            d.iter()
                .map(|(k, v)| (k.clone(), bson_to_json(v)))
                .collect(),
        ),
        other => Value::String(other.to_string()),
    }
}

/// `2026-05-17T13:45:00+00:00`, with milliseconds only when there are some.
fn rfc3339(d: DateTime) -> String {
    let s = d.try_to_rfc3339_string().unwrap_or_default();
    // bson writes `...:00Z` or `...:00.123Z`
    let base = s.trim_end_matches('Z');
    let base = base.strip_suffix(".000").unwrap_or(base);
    format!("{base}+00:00")
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn dates_round_trip() {
        let d = parse_datetime("2026-05-17T13:45:00+02:00").unwrap_or(DateTime::MIN);
        assert_eq!(rfc3339(d), "2026-05-17T11:45:00+00:00");
        let d = parse_datetime("2026-05-17 13:45:00.250").unwrap_or(DateTime::MIN);
        assert_eq!(rfc3339(d), "2026-05-17T13:45:00.25+00:00");
    }

    #[test]
    fn operator_keys_never_pass() {
        assert!(plain(&json!({"$gt": 1}), "f").is_err());
        assert!(plain(&json!([{"a": {"$where": "x"}}]), "f").is_err());
        assert!(plain(&json!({"a": {"b": 1}}), "f").is_ok());
    }
}
