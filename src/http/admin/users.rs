//! `/api/system/user` (docs/API.md §6, admin): users with an email, a name, a role,
//! an active flag and a password kept only as an argon2id hash.

use crate::auth::{Admin, password};
use crate::error::{ApiError, ApiResult, Code};
use crate::http::admin::fields::{check_id, given, non_empty, nullable, require};
use crate::http::extract::{Body, Input};
use crate::state::AppState;
use crate::system::store::{UserChange, is_unique_violation};
use axum::Json;
use axum::extract::{Path, State};
use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use serde::Deserialize;
use serde_json::{Value, json};
use std::sync::Arc;
use utoipa::ToSchema;

/// A user as the admin API takes it: POST needs `email`, `password` and
/// `role`; PATCH and PUT change the fields given.
#[derive(Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct UserInput {
    /// Stored lower-case; unique.
    #[serde(default, deserialize_with = "given")]
    email: Option<String>,
    /// `null` clears it.
    #[serde(default, deserialize_with = "nullable")]
    #[schema(value_type = Option<String>)]
    name: Option<Option<String>>,
    /// Kept only as an argon2id hash; a new one ends the user's sessions.
    #[serde(default, deserialize_with = "given")]
    password: Option<String>,
    #[serde(default, deserialize_with = "given")]
    role: Option<String>,
    /// `false` ends the user's sessions.
    #[serde(default, deserialize_with = "given")]
    active: Option<bool>,
    /// DreamFactory clients send it back: it must be the path's id (null or
    /// absent on create).
    #[serde(default)]
    #[schema(value_type = Option<i64>)]
    id: Option<Value>,
}

impl Input for UserInput {
    const ENTITY: &'static str = "user";
}

/// Role names: what policy files can name.
pub fn check_role(role: &str) -> ApiResult<()> {
    let ok = !role.is_empty()
        && role.len() <= 64
        && role
            .chars()
            .all(|c| c.is_ascii_alphanumeric() || c == '_' || c == '-' || c == '.');
    if ok {
        Ok(())
    } else {
        Err(ApiError::new(
            Code::InvalidValue,
            "a role is 1-64 characters of letters, digits, '_', '-' and '.'",
        )
        .with_context(json!({"field": "role"})))
    }
}

fn bad(field: &str, message: &str) -> ApiError {
    ApiError::new(Code::InvalidValue, message.to_string()).with_context(json!({"field": field}))
}

/// The user fields of a body; creating (`id` None) requires email, password and role.
async fn change(state: &AppState, input: UserInput, id: Option<i64>) -> ApiResult<UserChange> {
    check_id(input.id.as_ref(), id)?;
    let mut c = UserChange {
        email: non_empty("email", input.email)?.map(|e| e.to_lowercase()),
        name: input.name,
        password_hash: None,
        role: non_empty("role", input.role)?,
        active: input.active,
    };
    if let Some(e) = &c.email {
        let valid = e.len() <= 254
            && !e.contains(char::is_whitespace)
            && e.split_once('@')
                .is_some_and(|(a, b)| !a.is_empty() && !b.is_empty());
        if !valid {
            return Err(bad("email", "'email' must be an email address"));
        }
    }
    if let Some(r) = &c.role {
        check_role(r)?;
    }
    if let Some(p) = input.password {
        let min = state.config.auth.min_password_length;
        if p.chars().count() < min {
            return Err(bad(
                "password",
                &format!("a password has at least {min} characters"),
            ));
        }
        c.password_hash =
            Some(password::hash(p).await.ok_or_else(|| {
                ApiError::new(Code::Internal, "the password could not be hashed")
            })?);
    }
    if id.is_none() {
        require(&[
            ("email", c.email.is_none()),
            ("password", c.password_hash.is_none()),
            ("role", c.role.is_none()),
        ])?;
    }
    Ok(c)
}

fn store_error(e: sqlx::Error) -> ApiError {
    if is_unique_violation(&e) {
        return ApiError::new(Code::DuplicateKey, "a user with this email already exists")
            .with_context(json!({"field": "email"}));
    }
    tracing::error!("system store failed on a user: {e}");
    ApiError::new(Code::Internal, "the user could not be saved")
}

fn not_found(id: i64) -> ApiError {
    ApiError::not_found(format!("user {id} not found"))
}

#[utoipa::path(operation_id = "system.user.list", get, path = "/system/user", tag = "system", summary = "List users", responses((status = 200, description = "The users", body = super::List<crate::system::store::User>), crate::openapi::system::Refused))]
pub async fn list(
    State(state): State<Arc<AppState>>,
    _: Admin,
) -> ApiResult<Json<super::List<crate::system::store::User>>> {
    let resource = state.store.users().await.map_err(store_error)?;
    Ok(Json(super::List { resource }))
}

#[utoipa::path(operation_id = "system.user.get", get, path = "/system/user/{id}", tag = "system", summary = "Show a user", params(("id" = i64, Path, description = "User id")), responses((status = 200, description = "The user", body = crate::system::store::User), crate::openapi::system::RefusedOrMissing))]
pub async fn get(
    State(state): State<Arc<AppState>>,
    _: Admin,
    Path(id): Path<i64>,
) -> ApiResult<Json<Value>> {
    let u = state
        .store
        .user(id)
        .await
        .map_err(store_error)?
        .ok_or_else(|| not_found(id))?;
    Ok(Json(json!(u)))
}

#[utoipa::path(operation_id = "system.user.create", post, path = "/system/user", tag = "system", summary = "Create a user", request_body = UserInput, responses((status = 201, description = "Created", body = crate::system::store::User), crate::openapi::system::Refused))]
pub async fn create(
    State(state): State<Arc<AppState>>,
    _: Admin,
    Body(input): Body<UserInput>,
) -> ApiResult<Response> {
    let c = change(&state, input, None).await?;
    let u = state.store.insert_user(&c).await.map_err(store_error)?;
    tracing::info!(user = u.id, role = %u.role, "user created");
    Ok((StatusCode::CREATED, Json(json!(u))).into_response())
}

/// PATCH or PUT: the fields given change; a new password or `active: false`
/// ends the user's sessions.
#[utoipa::path(operation_id = "system.user.update", patch, path = "/system/user/{id}", tag = "system", summary = "Change a user (PUT too)", params(("id" = i64, Path, description = "User id")), request_body = UserInput, responses((status = 200, description = "Changed", body = crate::system::store::User), crate::openapi::system::RefusedOrMissing))]
pub async fn update(
    State(state): State<Arc<AppState>>,
    _: Admin,
    Path(id): Path<i64>,
    Body(input): Body<UserInput>,
) -> ApiResult<Json<Value>> {
    let c = change(&state, input, Some(id)).await?;
    let u = state
        .store
        .update_user(id, &c)
        .await
        .map_err(store_error)?
        .ok_or_else(|| not_found(id))?;
    Ok(Json(json!(u)))
}

#[utoipa::path(operation_id = "system.user.delete", delete, path = "/system/user/{id}", tag = "system", summary = "Delete a user", params(("id" = i64, Path, description = "User id")), responses((status = 200, description = "Deleted", body = crate::openapi::system::AnyJson), crate::openapi::system::RefusedOrMissing))]
pub async fn delete(
    State(state): State<Arc<AppState>>,
    Admin(me): Admin,
    Path(id): Path<i64>,
) -> ApiResult<Json<Value>> {
    if me.user.as_ref().is_some_and(|u| u.id == id) {
        return Err(ApiError::new(
            Code::Conflict,
            "you cannot delete the user you are signed in as",
        ));
    }
    if !state.store.delete_user(id).await.map_err(store_error)? {
        return Err(not_found(id));
    }
    Ok(Json(json!({ "id": id })))
}
