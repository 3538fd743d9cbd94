//! `/api/system/app` (docs/API.md §6, admin): apps and their API keys. A key is
//! bound to a role, shown once (at creation or regeneration) and stored only
//! as a SHA-256 hash; deleting the app or setting `active: false` revokes it.

use crate::auth::Admin;
use crate::error::{ApiError, ApiResult, Code};
use crate::http::admin::fields::{check_id, given, non_empty, nullable, require};
use crate::http::admin::users::check_role;
use crate::http::extract::{Body, Input};
use crate::state::AppState;
use crate::system::secrets::{hash_key, new_key};
use crate::system::store::{AppChange, KeyHash, is_unique_violation};
use axum::Json;
use axum::extract::{Path, State};
use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use serde::Deserialize;
use serde_json::{Value, json};
use std::sync::Arc;
use utoipa::ToSchema;

/// An app as the admin API takes it: POST needs `name` and `role`; PATCH
/// and PUT change the fields given.
#[derive(Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct AppInput {
    /// Unique.
    #[serde(default, deserialize_with = "given")]
    name: Option<String>,
    /// `null` clears it.
    #[serde(default, deserialize_with = "nullable")]
    #[schema(value_type = Option<String>)]
    description: Option<Option<String>>,
    /// The role the app's key acts as.
    #[serde(default, deserialize_with = "given")]
    role: Option<String>,
    /// `false` revokes the key until it is set back.
    #[serde(default, deserialize_with = "given")]
    active: Option<bool>,
    /// DreamFactory clients send it back: it must be the path's id (null or
    /// absent on create).
    #[serde(default)]
    #[schema(value_type = Option<i64>)]
    id: Option<Value>,
}

impl Input for AppInput {
    const ENTITY: &'static str = "app";
}

/// A new key and what is stored of it.
fn new_app_key() -> (String, KeyHash) {
    let key = new_key("gh_");
    let stored = KeyHash {
        hash: hash_key(&key),
        prefix: key.chars().take(10).collect(),
    };
    (key, stored)
}

/// The app fields of a body; creating (`id` None) requires name and role.
fn change(input: AppInput, id: Option<i64>) -> ApiResult<AppChange> {
    check_id(input.id.as_ref(), id)?;
    let c = AppChange {
        name: non_empty("name", input.name)?,
        description: input.description,
        role: non_empty("role", input.role)?,
        active: input.active,
    };
    if let Some(r) = &c.role {
        check_role(r)?;
    }
    if id.is_none() {
        require(&[("name", c.name.is_none()), ("role", c.role.is_none())])?;
    }
    Ok(c)
}

fn store_error(e: sqlx::Error) -> ApiError {
    if is_unique_violation(&e) {
        return ApiError::new(Code::DuplicateKey, "an app with this name already exists")
            .with_context(json!({"field": "name"}));
    }
    tracing::error!("system store failed on an app: {e}");
    ApiError::new(Code::Internal, "the app could not be saved")
}

fn not_found(id: i64) -> ApiError {
    ApiError::not_found(format!("app {id} not found"))
}

/// The app with its new key, the only time the key is shown.
fn with_key(app: &crate::system::store::App, key: String) -> Value {
    let mut v = json!(app);
    if let Some(o) = v.as_object_mut() {
        o.insert("api_key".into(), Value::String(key));
    }
    v
}

#[utoipa::path(operation_id = "system.app.list", get, path = "/system/app", tag = "system", summary = "List apps", responses((status = 200, description = "The apps (never their keys)", body = super::List<crate::system::store::App>), crate::openapi::system::Refused))]
pub async fn list(
    State(state): State<Arc<AppState>>,
    _: Admin,
) -> ApiResult<Json<super::List<crate::system::store::App>>> {
    let resource = state.store.apps().await.map_err(store_error)?;
    Ok(Json(super::List { resource }))
}

#[utoipa::path(operation_id = "system.app.get", get, path = "/system/app/{id}", tag = "system", summary = "Show an app", params(("id" = i64, Path, description = "App id")), responses((status = 200, description = "The app", body = crate::system::store::App), crate::openapi::system::RefusedOrMissing))]
pub async fn get(
    State(state): State<Arc<AppState>>,
    _: Admin,
    Path(id): Path<i64>,
) -> ApiResult<Json<Value>> {
    let a = state
        .store
        .app(id)
        .await
        .map_err(store_error)?
        .ok_or_else(|| not_found(id))?;
    Ok(Json(json!(a)))
}

#[utoipa::path(operation_id = "system.app.create", post, path = "/system/app", tag = "system", summary = "Create an app and its API key", request_body = AppInput, responses((status = 201, description = "Created; `api_key` is shown this once", body = crate::openapi::system::AnyJson), crate::openapi::system::Refused))]
pub async fn create(
    State(state): State<Arc<AppState>>,
    _: Admin,
    Body(input): Body<AppInput>,
) -> ApiResult<Response> {
    let c = change(input, None)?;
    let (key, stored) = new_app_key();
    let app = state
        .store
        .insert_app(&c, &stored)
        .await
        .map_err(store_error)?;
    tracing::info!(app = %app.name, role = %app.role, "app created");
    Ok((StatusCode::CREATED, Json(with_key(&app, key))).into_response())
}

#[utoipa::path(operation_id = "system.app.update", patch, path = "/system/app/{id}", tag = "system", summary = "Change an app", params(("id" = i64, Path, description = "App id")), request_body = AppInput, responses((status = 200, description = "Changed", body = crate::system::store::App), crate::openapi::system::RefusedOrMissing))]
pub async fn update(
    State(state): State<Arc<AppState>>,
    _: Admin,
    Path(id): Path<i64>,
    Body(input): Body<AppInput>,
) -> ApiResult<Json<Value>> {
    let c = change(input, Some(id))?;
    let app = state
        .store
        .update_app(id, &c, None)
        .await
        .map_err(store_error)?
        .ok_or_else(|| not_found(id))?;
    Ok(Json(json!(app)))
}

/// `POST /api/system/app/{id}/_regenerate`: a new key; the old one stops working.
#[utoipa::path(operation_id = "system.app.regenerate", post, path = "/system/app/{id}/_regenerate", tag = "system", summary = "Replace an app key", params(("id" = i64, Path, description = "App id")), responses((status = 200, description = "The new `api_key`, shown this once", body = crate::openapi::system::AnyJson), crate::openapi::system::RefusedOrMissing))]
pub async fn regenerate(
    State(state): State<Arc<AppState>>,
    _: Admin,
    Path(id): Path<i64>,
) -> ApiResult<Json<Value>> {
    let (key, stored) = new_app_key();
    let app = state
        .store
        .update_app(id, &AppChange::default(), Some(&stored))
        .await
        .map_err(store_error)?
        .ok_or_else(|| not_found(id))?;
    tracing::info!(app = %app.name, "app key regenerated");
    Ok(Json(with_key(&app, key)))
}

#[utoipa::path(operation_id = "system.app.delete", delete, path = "/system/app/{id}", tag = "system", summary = "Delete an app (revokes its key)", params(("id" = i64, Path, description = "App id")), responses((status = 200, description = "Deleted", body = crate::openapi::system::AnyJson), crate::openapi::system::RefusedOrMissing))]
pub async fn delete(
    State(state): State<Arc<AppState>>,
    _: Admin,
    Path(id): Path<i64>,
) -> ApiResult<Json<Value>> {
    if !state.store.delete_app(id).await.map_err(store_error)? {
        return Err(not_found(id));
    }
    Ok(Json(json!({ "id": id })))
}
