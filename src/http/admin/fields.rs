//! Helpers for the admin API's input structs (read by `http::extract::Body`):
//! absent, null and given kept apart, and the checks serde cannot spell.

use crate::error::{ApiError, ApiResult, Code};
use serde::{Deserialize, Deserializer};
use serde_json::json;

/// A key that may be absent (`None`, with `#[serde(default)]`) or given, but
/// not null: null is an error naming the key, not "no change".
pub fn given<'de, D: Deserializer<'de>, T: Deserialize<'de>>(d: D) -> Result<Option<T>, D::Error> {
    T::deserialize(d).map(Some)
}

/// A key that may be absent (`None`), null (`Some(None)`: clear it) or given.
pub fn nullable<'de, D: Deserializer<'de>, T: Deserialize<'de>>(
    d: D,
) -> Result<Option<Option<T>>, D::Error> {
    Option::<T>::deserialize(d).map(Some)
}

/// The string trimmed, refused when nothing is left.
pub fn non_empty(field: &str, v: Option<String>) -> ApiResult<Option<String>> {
    match v {
        None => Ok(None),
        Some(s) if !s.trim().is_empty() => Ok(Some(s.trim().to_string())),
        Some(_) => Err(
            ApiError::new(Code::InvalidValue, format!("'{field}' must not be empty"))
                .with_context(json!({ "field": field })),
        ),
    }
}

/// 422 `missing_field` for the first `(name, missing)` that is missing.
pub fn require(fields: &[(&str, bool)]) -> ApiResult<()> {
    match fields.iter().find(|(_, missing)| *missing) {
        Some((k, _)) => Err(
            ApiError::new(Code::MissingField, format!("'{k}' is required"))
                .with_context(json!({ "field": k })),
        ),
        None => Ok(()),
    }
}

/// A body's `id`, which DreamFactory clients send back with a record: on a
/// change it must be the path's (`path`), on a create it must be absent or
/// null (the store assigns it).
pub fn check_id(id: Option<&serde_json::Value>, path: Option<i64>) -> ApiResult<()> {
    let fine = match (id, path) {
        (None | Some(serde_json::Value::Null), _) => true,
        (Some(v), Some(p)) => v.as_i64() == Some(p) || v.as_str() == Some(&p.to_string()),
        (Some(_), None) => false,
    };
    if fine {
        return Ok(());
    }
    let message = match path {
        Some(_) => "'id' differs from the id in the path",
        None => "'id' is assigned by the server",
    };
    Err(ApiError::new(Code::InvalidValue, message).with_context(json!({ "field": "id" })))
}
