//! `/api/user/session` (docs/API.md §6): log in, show, refresh and log out.

use crate::auth::{Credentials, Principal, password, token, unauthorized};
use crate::error::{ApiError, ApiResult, Code};
use crate::http::admin::fields::given;
use crate::http::extract::{Body, Input};
use crate::state::AppState;
use crate::system::secrets::new_key;
use crate::system::store::{SessionRow, User};
use axum::Json;
use axum::extract::{RawQuery, State};
use axum::http::HeaderMap;
use serde::Deserialize;
use serde_json::{Value, json};
use std::sync::Arc;
use utoipa::ToSchema;

/// A login: a user's email and password.
#[derive(Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct LoginInput {
    #[serde(default, deserialize_with = "given")]
    #[schema(value_type = String, required = true)]
    email: Option<String>,
    #[serde(default, deserialize_with = "given")]
    #[schema(value_type = String, required = true)]
    password: Option<String>,
    /// DreamFactory's; accepted, but a session always lasts
    /// `auth.session_ttl_secs` (refresh it with PUT).
    #[serde(default, deserialize_with = "given")]
    remember_me: Option<bool>,
}

impl Input for LoginInput {
    const ENTITY: &'static str = "session";
}

fn rfc3339(unix: i64) -> String {
    chrono::DateTime::from_timestamp(unix, 0)
        .map(|t| t.format("%Y-%m-%dT%H:%M:%SZ").to_string())
        .unwrap_or_default()
}

fn user_json(u: &User) -> Value {
    json!({"id": u.id, "email": u.email, "name": u.name, "role": u.role})
}

fn session_json(state: &AppState, row: &SessionRow, user: &User) -> Value {
    let token = state.tokens.issue(
        user.id,
        &row.id,
        row.generation,
        chrono::Utc::now().timestamp(),
        row.expires_at,
    );
    // DreamFactory's login answer carries the user's fields at the top
    // level too; its clients read them there
    let name = user.name.clone().unwrap_or_default();
    let (first, last) = name.split_once(' ').unwrap_or((name.as_str(), ""));
    let admin = user.role == crate::auth::ADMIN;
    json!({
        "session_token": token,
        "session_id": row.id,
        "expires_at": rfc3339(row.expires_at),
        "role": user.role,
        "user": user_json(user),
        "id": user.id,
        "name": user.name,
        "first_name": first,
        "last_name": last,
        "email": user.email,
        "is_sys_admin": admin,
        "role_id": if admin { Value::Null } else { Value::from(user.role.clone()) },
        "token_expiry_date": chrono::DateTime::from_timestamp(row.expires_at, 0)
            .map(|t| t.format("%Y-%m-%d %H:%M:%S").to_string()),
    })
}

fn store_failed(e: sqlx::Error) -> ApiError {
    tracing::error!("system store failed on a session: {e}");
    ApiError::new(Code::Internal, "the session could not be saved")
}

/// `POST /api/user/session {"email", "password"}`
#[utoipa::path(operation_id = "system.session.login", post, path = "/user/session", tag = "session", summary = "Log in", request_body = LoginInput, responses((status = 200, description = "A session token", body = crate::openapi::system::AnyJson), crate::openapi::system::Refused))]
pub async fn login(
    State(state): State<Arc<AppState>>,
    Body(input): Body<LoginInput>,
) -> ApiResult<Json<Value>> {
    start(&state, input, false).await
}

/// `POST /api/system/admin/session`: DreamFactory's admin login, for users
/// whose role is `admin` only (anyone else: 401, as a wrong password is).
#[utoipa::path(operation_id = "system.session.admin_login", post, path = "/system/admin/session", tag = "session", summary = "Log in as an admin", request_body = LoginInput, responses((status = 200, description = "A session token", body = crate::openapi::system::AnyJson), crate::openapi::system::Refused))]
pub async fn admin_login(
    State(state): State<Arc<AppState>>,
    Body(input): Body<LoginInput>,
) -> ApiResult<Json<Value>> {
    start(&state, input, true).await
}

/// A new session for the user `input` names, if the password is theirs
/// (and, `admin_only`, their role is `admin`).
async fn start(state: &AppState, input: LoginInput, admin_only: bool) -> ApiResult<Json<Value>> {
    let _ = input.remember_me;
    let (Some(email), Some(pw)) = (input.email, input.password) else {
        return Err(ApiError::new(
            Code::BadRequest,
            "give 'email' and 'password' as strings",
        ));
    };
    let found = state
        .store
        .user_login(&email.trim().to_lowercase())
        .await
        .map_err(store_failed)?;
    let (user, hash) = match found {
        Some((u, h)) => (Some(u), Some(h)),
        None => (None, None),
    };
    let ok = password::verify(pw, hash).await;
    let user = match user {
        Some(u) if ok && u.active && (!admin_only || u.role == crate::auth::ADMIN) => u,
        _ => return Err(unauthorized("invalid email or password")),
    };
    let now = chrono::Utc::now().timestamp();
    let row = SessionRow {
        id: new_key(""),
        user_id: user.id,
        generation: 1,
        created_at: now,
        expires_at: now + ttl(state),
    };
    state
        .store
        .insert_session(&row)
        .await
        .map_err(store_failed)?;
    tracing::info!(user = user.id, "session started");
    Ok(Json(session_json(state, &row, &user)))
}

fn ttl(state: &AppState) -> i64 {
    i64::try_from(state.config.auth.session_ttl_secs).unwrap_or(i64::MAX / 2)
}

/// `GET /api/user/session`: the caller's session, as `authenticate` found it.
#[utoipa::path(operation_id = "system.session.show", get, path = "/user/session", tag = "session", summary = "The current session", responses((status = 200, description = "The session", body = crate::openapi::system::AnyJson), crate::openapi::system::Refused))]
pub async fn show(principal: Principal) -> ApiResult<Json<Value>> {
    let Some(su) = &principal.user else {
        return Err(unauthorized(
            "no session: log in with POST /api/user/session",
        ));
    };
    Ok(Json(json!({
        "session_id": su.session,
        "expires_at": rfc3339(su.expires_at),
        "role": principal.role,
        "user": {"id": su.id, "email": su.email, "name": su.name, "role": principal.role},
    })))
}

/// The session token sent, checked for signature only (it may have expired).
fn presented_session(
    state: &AppState,
    headers: &HeaderMap,
    query: Option<&str>,
) -> ApiResult<token::Claims> {
    let creds = Credentials::from_request(headers, query);
    let token = creds
        .session
        .ok_or_else(|| unauthorized("send the session token to refresh or end it"))?;
    state
        .tokens
        .verify(&token, true)
        .ok_or_else(|| unauthorized("the session token is not valid"))
}

/// `PUT /api/user/session`: a new token for the session, while it may still be
/// refreshed (`refresh_ttl_secs` after login); the previous token stops working.
#[utoipa::path(operation_id = "system.session.refresh", put, path = "/user/session", tag = "session", summary = "Exchange a token for a new one", responses((status = 200, description = "A new session token", body = crate::openapi::system::AnyJson), crate::openapi::system::Refused))]
pub async fn refresh(
    State(state): State<Arc<AppState>>,
    headers: HeaderMap,
    RawQuery(query): RawQuery,
) -> ApiResult<Json<Value>> {
    let claims = presented_session(&state, &headers, query.as_deref())?;
    let ended = || unauthorized("the session has ended; log in again");
    let (row, user) = state
        .store
        .session(&claims.sid)
        .await
        .map_err(store_failed)?
        .ok_or_else(ended)?;
    let now = chrono::Utc::now().timestamp();
    let refresh_until = row
        .created_at
        .saturating_add(i64::try_from(state.config.auth.refresh_ttl_secs).unwrap_or(i64::MAX / 2));
    if row.generation != claims.generation || !user.active || now >= refresh_until {
        return Err(ended());
    }
    let next = SessionRow {
        generation: row.generation + 1,
        expires_at: now + ttl(&state),
        ..row
    };
    if !state
        .store
        .renew_session(&next.id, next.generation, next.expires_at)
        .await
        .map_err(store_failed)?
    {
        // refreshed concurrently with another request holding the same token
        return Err(ended());
    }
    Ok(Json(session_json(&state, &next, &user)))
}

/// `DELETE /api/user/session`: log out; the token stops working everywhere.
/// Only a live token gets here (`authenticate` checked it).
#[utoipa::path(operation_id = "system.session.logout", delete, path = "/user/session", tag = "session", summary = "Log out", responses((status = 200, description = "Logged out", body = crate::openapi::system::AnyJson), crate::openapi::system::Refused))]
pub async fn logout(
    State(state): State<Arc<AppState>>,
    principal: Principal,
) -> ApiResult<Json<Value>> {
    let Some(su) = &principal.user else {
        return Err(unauthorized("send the session token to log out"));
    };
    state
        .store
        .delete_session(&su.session)
        .await
        .map_err(store_failed)?;
    Ok(Json(json!({"success": true})))
}
