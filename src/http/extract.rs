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
                ApiError::new(Code::InvalidJson, "the request body is not valid JSON")
                    .with_context(json!({"line": e.line(), "column": e.column()}))
            })
    }
}
