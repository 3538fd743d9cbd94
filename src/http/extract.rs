//! Extractors and request marks shared by the handlers.

use crate::error::{ApiError, Code};
use axum::body::Bytes;
use axum::extract::{FromRequest, Request};
use axum::http::StatusCode;
use serde_json::{Value, json};

/// Marks a request whose verb came from `X-HTTP-Method`.
#[derive(Clone, Copy)]
pub struct Tunnelled;

/// A request body as JSON: `None` when empty; errors in the contract's envelope.
pub struct JsonBody(pub Option<Value>);

impl<S: Send + Sync> FromRequest<S> for JsonBody {
    type Rejection = ApiError;

    async fn from_request(req: Request, state: &S) -> Result<Self, ApiError> {
        let bytes = Bytes::from_request(req, state).await.map_err(|rejection| {
            if rejection.status() == StatusCode::PAYLOAD_TOO_LARGE {
                ApiError::new(Code::PayloadTooLarge, "the request body is too large")
            } else {
                ApiError::new(Code::BadRequest, "the request body could not be read")
            }
        })?;
        if bytes.iter().all(u8::is_ascii_whitespace) {
            return Ok(JsonBody(None));
        }
        serde_json::from_slice(&bytes)
            .map(|v| JsonBody(Some(v)))
            .map_err(|e| {
                ApiError::new(
                    Code::InvalidJson,
                    format!("the request body is not valid JSON: {e}"),
                )
                .with_context(json!({"line": e.line(), "column": e.column()}))
            })
    }
}

/// A documented input body (`Body<T>`): the struct the OpenAPI document
/// describes is the one the handler reads, so the two cannot disagree.
pub trait Input: serde::de::DeserializeOwned {
    /// What the body describes, for "'x' is not a field of 'user'".
    const ENTITY: &'static str;
    /// The code for a body that is not an object of this shape (a wrong
    /// value is `invalid_value` unless this says otherwise).
    const CODE: Code = Code::BadRequest;
}

/// A JSON object read into `T`: unknown keys are 400 `unknown_field`, a
/// value of the wrong type names its field (`context.field`), an empty
/// body is "must be a JSON object".
pub struct Body<T>(pub T);

impl<T: Input> Body<T> {
    pub fn of(body: Option<Value>) -> Result<T, ApiError> {
        let Some(body @ Value::Object(_)) = body else {
            return Err(ApiError::new(T::CODE, "the body must be a JSON object"));
        };
        serde_path_to_error::deserialize(body).map_err(|e| {
            let field = e.path().to_string();
            let reason = e.inner().to_string();
            // serde's own wording for a key the struct does not have
            if reason.starts_with("unknown field") {
                return ApiError::unknown_field(T::ENTITY, &field);
            }
            let code = if T::CODE == Code::BadRequest {
                Code::InvalidValue
            } else {
                T::CODE
            };
            ApiError::new(code, format!("'{field}': {reason}"))
                .with_context(json!({ "field": field }))
        })
    }
}

impl<S: Send + Sync, T: Input> FromRequest<S> for Body<T> {
    type Rejection = ApiError;

    async fn from_request(req: Request, state: &S) -> Result<Self, ApiError> {
        let JsonBody(body) = JsonBody::from_request(req, state).await?;
        Body::<T>::of(body).map(Body)
    }
}
