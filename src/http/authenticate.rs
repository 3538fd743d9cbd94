//! Authentication on every `/api` route ([`authenticate`]): the request's
//! credentials resolved against the system store into a [`Principal`], then
//! the rate limits. A request without credentials acts as role `anonymous`; a
//! credential that does not check out is a 401, never a silent fall-back.

use crate::auth::{ADMIN, Credentials, Principal, SessionUser, unauthorized};
use crate::error::{ApiError, Code};
use crate::state::AppState;
use crate::system::secrets::hash_key;
use crate::system::services::Lookup;
use crate::system::store::User;
use axum::extract::{Request, State};
use axum::http::Method;
use axum::middleware::Next;
use axum::response::{IntoResponse, Response};
use std::sync::Arc;
use subtle::ConstantTimeEq;

fn store_error(e: sqlx::Error) -> ApiError {
    tracing::error!("system store read failed during authentication: {e}");
    ApiError::new(Code::Unavailable, "credentials cannot be checked right now")
}

/// The user of a live session token.
pub async fn session_user(state: &AppState, token: &str) -> Result<(SessionUser, User), ApiError> {
    let invalid = || unauthorized("the session token is not valid or has expired; log in again");
    let claims = state.tokens.verify(token, false).ok_or_else(invalid)?;
    let (row, user) = state
        .store
        .session(&claims.sid)
        .await
        .map_err(store_error)?
        .ok_or_else(invalid)?;
    let now = chrono::Utc::now().timestamp();
    if row.generation != claims.generation
        || row.user_id.to_string() != claims.sub
        || row.expires_at <= now
        || !user.active
    {
        return Err(invalid());
    }
    let su = SessionUser {
        id: user.id,
        email: user.email.clone(),
        name: user.name.clone(),
        session: row.id,
        expires_at: row.expires_at,
    };
    Ok((su, user))
}

/// Resolves the credentials into a principal.
pub async fn resolve(state: &AppState, creds: &Credentials) -> Result<Principal, ApiError> {
    let mut principal = Principal::anonymous();
    if let Some(key) = &creds.key {
        let hash = hash_key(key);
        let bootstrap = state
            .admin_key_hash
            .as_ref()
            .is_some_and(|h| bool::from(hash.as_bytes().ct_eq(h.as_bytes())));
        if bootstrap {
            principal.role = ADMIN.into();
            principal.app = Some("bootstrap".into());
        } else {
            let app = state
                .store
                .app_by_key(&hash)
                .await
                .map_err(store_error)?
                .ok_or_else(|| unauthorized("the API key is not valid"))?;
            principal.role = app.role;
            principal.app = Some(app.name);
        }
    }
    if let Some(token) = &creds.session {
        // A session acts with the user's role, with or without an app key.
        let (su, user) = session_user(state, token).await?;
        principal.role = user.role;
        principal.user = Some(su);
    }
    Ok(principal)
}

/// Requests whose handler reads the credentials itself: logging in (an old
/// token may still be sent) and refreshing (the token may have expired).
fn handles_own_credentials(method: &Method, path: &str) -> bool {
    let path = path.trim_end_matches('/');
    (path.ends_with("/user/session") && (method == Method::POST || method == Method::PUT))
        || (path.ends_with("/system/admin/session") && method == Method::POST)
}

/// The first path segment below `/api` (or `/api/v2`): the service. Routers
/// nested at `/api` may see the path with or without the prefix.
pub fn service_of(path: &str) -> Option<&str> {
    let mut segments = path.split('/').filter(|s| !s.is_empty()).peekable();
    if segments.peek() == Some(&"api") {
        segments.next();
        if segments.peek() == Some(&"v2") {
            segments.next();
        }
    }
    segments.next()
}

/// Middleware on `/api`: authenticate, rate-limit, then run the handler.
pub async fn authenticate(
    State(state): State<Arc<AppState>>,
    mut req: Request,
    next: Next,
) -> Response {
    let creds = Credentials::from_request(req.headers(), req.uri().query());
    let principal = match resolve(&state, &creds).await {
        Ok(p) => p,
        Err(_) if handles_own_credentials(req.method(), req.uri().path()) => Principal::anonymous(),
        Err(e) => return e.into_response(),
    };
    // Only mounted services have limits of their own: unknown names make no buckets.
    let service = service_of(req.uri().path())
        .filter(|s| !matches!(state.registry.get(s), Lookup::Missing))
        .map(str::to_string);
    let quota = match state.limits.check(&principal, service.as_deref()) {
        Ok(q) => q,
        Err(limited) => return limited.into_response(),
    };
    req.extensions_mut().insert(principal);
    let mut resp = next.run(req).await;
    if let Some(q) = quota {
        q.apply(resp.headers_mut());
    }
    resp
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_service_of_a_path() {
        for (path, service) in [
            ("/api/shop/_table/x", Some("shop")),
            ("/api/v2/shop/_table", Some("shop")),
            ("/shop/_table/x", Some("shop")),
            ("/apiary/_table", Some("apiary")),
            ("/api", None),
            ("/", None),
        ] {
            assert_eq!(service_of(path), service, "{path}");
        }
    }
}
