//! Authentication. Until users and roles exist (the identity issue), every
//! `/api` request must carry the bootstrap admin key; there are no open endpoints.
//!
//! The key is accepted as `X-API-Key`, `X-DreamFactory-API-Key`,
//! `Authorization: Bearer <key>` or `?api_key=`. Only its SHA-256 is kept.

use crate::http::error::{ApiError, Code};
use crate::state::AppState;
use crate::system::secrets::hash_key;
use axum::extract::FromRequestParts;
use axum::http::request::Parts;
use std::sync::Arc;
use subtle::ConstantTimeEq;

/// Who is calling. Roles arrive with the identity issue; today there is one.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Caller {
    Admin,
}

fn presented_key(parts: &Parts) -> Option<String> {
    let h = |name: &str| {
        parts
            .headers
            .get(name)
            .and_then(|v| v.to_str().ok())
            .map(str::trim)
    };
    if let Some(k) = h("x-api-key").or_else(|| h("x-dreamfactory-api-key")) {
        return Some(k.to_string());
    }
    if let Some(auth) = h("authorization")
        && let Some(k) = auth
            .strip_prefix("Bearer ")
            .or_else(|| auth.strip_prefix("bearer "))
    {
        return Some(k.trim().to_string());
    }
    let query = parts.uri.query()?;
    url::form_urlencoded::parse(query.as_bytes())
        .find(|(k, _)| k == "api_key")
        .map(|(_, v)| v.into_owned())
}

impl FromRequestParts<Arc<AppState>> for Caller {
    type Rejection = ApiError;

    async fn from_request_parts(
        parts: &mut Parts,
        state: &Arc<AppState>,
    ) -> Result<Self, ApiError> {
        let Some(key) = presented_key(parts) else {
            return Err(ApiError::new(
                Code::Unauthorized,
                "an API key is required (X-API-Key header)",
            ));
        };
        let given = hash_key(&key);
        if bool::from(given.as_bytes().ct_eq(state.admin_key_hash.as_bytes())) {
            Ok(Caller::Admin)
        } else {
            Err(ApiError::new(
                Code::Unauthorized,
                "the API key is not valid",
            ))
        }
    }
}
