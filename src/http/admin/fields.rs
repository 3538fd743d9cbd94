//! Reading the JSON bodies of the system admin API (users, apps): one object,
//! known keys only, typed fields with errors that name the field.

use crate::error::{ApiError, ApiResult, Code};
use serde_json::{Map, Value, json};

pub struct Fields {
    map: Map<String, Value>,
}

fn bad(field: &str, message: String) -> ApiError {
    ApiError::new(Code::InvalidValue, message).with_context(json!({ "field": field }))
}

impl Fields {
    /// The body as an object of `entity` whose keys are all in `known`.
    pub fn of(body: Option<Value>, entity: &str, known: &[&str]) -> ApiResult<Fields> {
        let Some(Value::Object(map)) = body else {
            return Err(ApiError::new(
                Code::BadRequest,
                "the body must be a JSON object",
            ));
        };
        if let Some(k) = map.keys().find(|k| !known.contains(&k.as_str())) {
            return Err(ApiError::unknown_field(entity, k));
        }
        Ok(Fields { map })
    }

    /// A non-empty string, trimmed.
    pub fn text(&self, k: &str) -> ApiResult<Option<String>> {
        match self.map.get(k) {
            None => Ok(None),
            Some(Value::String(s)) if !s.trim().is_empty() => Ok(Some(s.trim().to_string())),
            Some(_) => Err(bad(k, format!("'{k}' must be a non-empty string"))),
        }
    }

    /// A string that may be set to null: `Some(None)` clears it.
    pub fn nullable_text(&self, k: &str) -> ApiResult<Option<Option<String>>> {
        match self.map.get(k) {
            None => Ok(None),
            Some(Value::Null) => Ok(Some(None)),
            Some(Value::String(s)) => Ok(Some(Some(s.clone()))),
            Some(_) => Err(bad(k, format!("'{k}' must be a string or null"))),
        }
    }

    /// A string taken as given (a password: spaces count).
    pub fn raw_text(&self, k: &str) -> ApiResult<Option<&str>> {
        match self.map.get(k) {
            None => Ok(None),
            Some(Value::String(s)) => Ok(Some(s)),
            Some(_) => Err(bad(k, format!("'{k}' must be a string"))),
        }
    }

    pub fn flag(&self, k: &str) -> ApiResult<Option<bool>> {
        match self.map.get(k) {
            None => Ok(None),
            Some(Value::Bool(b)) => Ok(Some(*b)),
            Some(_) => Err(bad(k, format!("'{k}' must be true or false"))),
        }
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
