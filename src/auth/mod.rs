//! Authentication: who is calling (docs/API.md §6).
//!
//! [`authenticate`] runs before every `/api` route. It reads the credentials
//! (a session token and/or an API key, each accepted three ways), resolves
//! them against the system store into a [`Principal`], applies the rate limits
//! and hands the principal to the handlers. A request without credentials acts
//! as role `anonymous`; a credential that does not check out is a 401, never a
//! silent fall-back to anonymous.

pub mod password;
pub mod token;

use crate::error::{ApiError, Code};
use axum::extract::FromRequestParts;
use axum::http::HeaderMap;
use axum::http::request::Parts;

/// The built-in role with full access, `/api/system` included.
pub const ADMIN: &str = "admin";
/// The role of a request without credentials.
pub const ANONYMOUS: &str = "anonymous";

/// Who is calling, and with which role.
#[derive(Debug, Clone)]
pub struct Principal {
    pub role: String,
    /// The signed-in user (session token).
    pub user: Option<SessionUser>,
    /// The app whose API key came with the request.
    pub app: Option<String>,
}

#[derive(Debug, Clone)]
pub struct SessionUser {
    pub id: i64,
    pub email: String,
    pub name: Option<String>,
    pub session: String,
    /// When the session's current token expires (unix seconds).
    pub expires_at: i64,
}

impl Principal {
    pub fn anonymous() -> Principal {
        Principal {
            role: ANONYMOUS.into(),
            user: None,
            app: None,
        }
    }

    pub fn is_admin(&self) -> bool {
        self.role == ADMIN
    }

    pub fn is_anonymous(&self) -> bool {
        self.user.is_none() && self.app.is_none()
    }
}

/// The credentials a request carries.
#[derive(Debug, Default)]
pub struct Credentials {
    pub session: Option<String>,
    pub key: Option<String>,
}

impl Credentials {
    /// Session token: `Authorization: Bearer <jwt>`, `X-DreamFactory-Session-Token`
    /// or `?session_token=`. API key: `X-API-Key`, `X-DreamFactory-API-Key`,
    /// `?api_key=`, or a Bearer value that is not a JWT.
    pub fn from_request(headers: &HeaderMap, query: Option<&str>) -> Credentials {
        let h = |name: &str| {
            headers
                .get(name)
                .and_then(|v| v.to_str().ok())
                .map(str::trim)
                .filter(|v| !v.is_empty())
                .map(str::to_string)
        };
        let q = |name: &str| {
            url::form_urlencoded::parse(query.unwrap_or("").as_bytes())
                .find(|(k, _)| k == name)
                .map(|(_, v)| v.trim().to_string())
                .filter(|v| !v.is_empty())
        };
        let bearer = h("authorization").and_then(|a| {
            let (scheme, rest) = a.split_once(' ')?;
            scheme
                .eq_ignore_ascii_case("bearer")
                .then(|| rest.trim().to_string())
        });
        let (bearer_jwt, bearer_key) = match bearer {
            Some(b) if token::looks_like_jwt(&b) => (Some(b), None),
            other => (None, other),
        };
        Credentials {
            session: bearer_jwt
                .or_else(|| h("x-dreamfactory-session-token"))
                .or_else(|| q("session_token")),
            key: h("x-api-key")
                .or_else(|| h("x-dreamfactory-api-key"))
                .or_else(|| q("api_key"))
                .or(bearer_key),
        }
    }
}

pub fn unauthorized(message: &str) -> ApiError {
    ApiError::new(Code::Unauthorized, message)
}

impl<S: Send + Sync> FromRequestParts<S> for Principal {
    type Rejection = ApiError;

    async fn from_request_parts(parts: &mut Parts, _: &S) -> Result<Self, ApiError> {
        // Set by `authenticate`; its absence is a routing bug, and fails closed.
        parts
            .extensions
            .get::<Principal>()
            .cloned()
            .ok_or_else(|| unauthorized("credentials are required"))
    }
}

/// A caller with the built-in admin role: what `/api/system` requires.
pub struct Admin(pub Principal);

impl<S: Send + Sync> FromRequestParts<S> for Admin {
    type Rejection = ApiError;

    async fn from_request_parts(parts: &mut Parts, state: &S) -> Result<Self, ApiError> {
        let p = Principal::from_request_parts(parts, state).await?;
        if p.is_admin() {
            Ok(Admin(p))
        } else if p.is_anonymous() {
            Err(unauthorized(
                "this resource requires an admin: send a session token or an API key",
            ))
        } else {
            Err(ApiError::new(
                Code::Forbidden,
                "this resource requires the admin role",
            ))
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn credentials_three_ways_each() {
        let headers = |pairs: &[(&'static str, &str)]| {
            let mut h = HeaderMap::new();
            for (k, v) in pairs {
                h.insert(*k, v.parse().unwrap_or_else(|_| panic!("{v}")));
            }
            h
        };
        let jwt = "aaa.bbb.ccc";
        let c =
            Credentials::from_request(&headers(&[("authorization", "Bearer aaa.bbb.ccc")]), None);
        assert_eq!((c.session.as_deref(), c.key.as_deref()), (Some(jwt), None));
        let c = Credentials::from_request(&headers(&[("authorization", "bearer gh_key")]), None);
        assert_eq!(
            (c.session.as_deref(), c.key.as_deref()),
            (None, Some("gh_key"))
        );
        let c = Credentials::from_request(
            &headers(&[
                ("x-dreamfactory-session-token", jwt),
                ("x-dreamfactory-api-key", "k"),
            ]),
            None,
        );
        assert_eq!(
            (c.session.as_deref(), c.key.as_deref()),
            (Some(jwt), Some("k"))
        );
        let c = Credentials::from_request(
            &HeaderMap::new(),
            Some("session_token=aaa.bbb.ccc&api_key=k2"),
        );
        assert_eq!(
            (c.session.as_deref(), c.key.as_deref()),
            (Some(jwt), Some("k2"))
        );
        let c = Credentials::from_request(&headers(&[("x-api-key", " ")]), Some("api_key="));
        assert!(c.session.is_none() && c.key.is_none());
    }
}
