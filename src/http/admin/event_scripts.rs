//! `/api/system/event_script` (docs/API.md §7, admin): hook scripts kept in the
//! system store, so they reach every instance sharing it. A record replaces a
//! `scripts/` file of the same event; files are listed here too but are
//! changed in their folder. A script must compile to be saved.

use crate::auth::Admin;
use crate::error::{ApiError, ApiResult, Code};
use crate::hooks::{self, Origin, engine};
use crate::http::admin::fields::{given, non_empty, require};
use crate::http::extract::{Body, Input};
use crate::state::AppState;
use crate::system::store::{EventScript, is_unique_violation};
use axum::Json;
use axum::extract::{Path, State};
use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use serde::Deserialize;
use serde_json::{Value, json};
use std::sync::Arc;
use utoipa::ToSchema;

/// A hook script as the admin API takes it: POST and PUT need `content`;
/// PATCH changes the fields given.
#[derive(Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct ScriptInput {
    /// The event, as in the path (DreamFactory clients send it).
    #[serde(default, deserialize_with = "given")]
    name: Option<String>,
    /// javascript, v8js or nodejs: all run as JavaScript.
    #[serde(default, deserialize_with = "given", rename = "type")]
    kind: Option<String>,
    /// The script (at most 1 MiB); it must compile to be saved.
    #[serde(default, deserialize_with = "given")]
    content: Option<String>,
    #[serde(default, deserialize_with = "given")]
    is_active: Option<bool>,
}

impl Input for ScriptInput {
    const ENTITY: &'static str = "event_script";
}

/// Script languages accepted in `type` (DreamFactory's names for JavaScript included).
const TYPES: &[&str] = &["javascript", "v8js", "nodejs"];
const MAX_CONTENT: usize = 1024 * 1024;

/// A body's fields: `content` and `is_active` (`None` when absent).
struct Change {
    content: Option<String>,
    active: Option<bool>,
}

fn check_name(name: &str) -> ApiResult<()> {
    if hooks::parse_event(name).is_some() {
        return Ok(());
    }
    Err(ApiError::new(
        Code::InvalidValue,
        format!(
            "'{name}' is not an event name: {{service}}._table.{{table}}.{{verb}}.pre_process or .post_process, verb one of get, post, put, patch, delete"
        ),
    )
    .with_context(json!({"field": "name"})))
}

async fn change(name: &str, input: ScriptInput, creating: bool) -> ApiResult<Change> {
    check_name(name)?;
    if let Some(n) = non_empty("name", input.name)?
        && n != name
    {
        return Err(ApiError::new(
            Code::InvalidValue,
            "'name' differs from the event in the path",
        )
        .with_context(json!({"field": "name"})));
    }
    if let Some(t) = non_empty("type", input.kind)?
        && !TYPES.contains(&t.to_ascii_lowercase().as_str())
    {
        return Err(ApiError::new(
            Code::InvalidValue,
            "scripts are JavaScript: 'type' may be javascript, v8js or nodejs",
        )
        .with_context(json!({"field": "type"})));
    }
    let content = input.content;
    if creating {
        require(&[("content", content.is_none())])?;
    }
    if let Some(c) = &content {
        if c.len() > MAX_CONTENT {
            return Err(
                ApiError::new(Code::InvalidValue, "a script may be at most 1 MiB")
                    .with_context(json!({"field": "content"})),
            );
        }
        let (n, src) = (name.to_string(), c.clone());
        let compiled = tokio::task::spawn_blocking(move || engine::check(&n, &src))
            .await
            .map_err(|_| ApiError::new(Code::Internal, "the script could not be checked"))?;
        if let Err(e) = compiled {
            return Err(ApiError::new(
                Code::InvalidValue,
                format!("the script does not compile: {e}"),
            )
            .with_context(json!({"field": "content"})));
        }
    }
    Ok(Change {
        content,
        active: input.is_active,
    })
}

fn store_error(e: sqlx::Error) -> ApiError {
    if is_unique_violation(&e) {
        return ApiError::new(
            Code::DuplicateKey,
            "a script for this event already exists; use PUT or PATCH to change it",
        )
        .with_context(json!({"field": "name"}));
    }
    tracing::error!("system store failed on an event script: {e}");
    ApiError::new(Code::Internal, "the script could not be saved")
}

fn record_json(r: &EventScript, in_force: bool) -> Value {
    json!({
        "name": r.name,
        "type": "javascript",
        "content": r.content,
        "is_active": r.active,
        "origin": Origin::Record,
        "in_force": in_force,
        "created_at": r.created_at,
        "updated_at": r.updated_at,
    })
}

fn file_json(s: &hooks::Script, in_force: bool) -> Value {
    json!({
        "name": s.name,
        "type": "javascript",
        "content": &*s.source,
        "is_active": true,
        "origin": Origin::File,
        "in_force": in_force,
    })
}

/// Every script: records, and files of the scripts folder.
async fn everything(state: &AppState) -> ApiResult<Vec<Value>> {
    let records = state.store.event_scripts().await.map_err(store_error)?;
    let mut out: Vec<Value> = records.iter().map(|r| record_json(r, r.active)).collect();
    for f in state.hooks.files() {
        let replaced = records.iter().any(|r| r.name == f.name && r.active);
        out.push(file_json(&f, !replaced));
    }
    Ok(out)
}

/// Takes the store's records into the registry and answers with `name`'s.
async fn saved(state: &AppState, name: &str) -> ApiResult<Value> {
    let records = state.store.event_scripts().await.map_err(store_error)?;
    let saved = records
        .iter()
        .find(|r| r.name == name)
        .map(|r| record_json(r, r.active))
        .ok_or_else(|| not_found(name));
    state.hooks.set_records(records);
    saved
}

fn not_found(name: &str) -> ApiError {
    ApiError::not_found(format!("no script for event '{name}'"))
}

#[utoipa::path(operation_id = "system.event_script.list", get, path = "/system/event_script", tag = "system", summary = "List hook scripts (records and files)", responses((status = 200, description = "The scripts", body = super::List<crate::openapi::system::AnyJson>), crate::openapi::system::Refused))]
pub async fn list(
    State(state): State<Arc<AppState>>,
    _: Admin,
) -> ApiResult<Json<super::List<Value>>> {
    let resource = everything(&state).await?;
    Ok(Json(super::List { resource }))
}

/// The record of `name` if there is one, else its file.
#[utoipa::path(operation_id = "system.event_script.get", get, path = "/system/event_script/{name}", tag = "system", summary = "Show a hook script", params(("name" = String, Path, description = "Event name")), responses((status = 200, description = "The script", body = crate::openapi::system::AnyJson), crate::openapi::system::RefusedOrMissing))]
pub async fn get(
    State(state): State<Arc<AppState>>,
    _: Admin,
    Path(name): Path<String>,
) -> ApiResult<Json<Value>> {
    let all = everything(&state).await?;
    all.into_iter()
        .find(|s| s["name"] == name.as_str())
        .map(Json)
        .ok_or_else(|| not_found(&name))
}

/// `POST /{event}`: a new record (409 when one exists).
#[utoipa::path(operation_id = "system.event_script.create", post, path = "/system/event_script/{name}", tag = "system", summary = "Create a hook script", params(("name" = String, Path, description = "Event name")), request_body = ScriptInput, responses((status = 201, description = "Created", body = crate::openapi::system::AnyJson), crate::openapi::system::Refused))]
pub async fn create(
    State(state): State<Arc<AppState>>,
    _: Admin,
    Path(name): Path<String>,
    Body(input): Body<ScriptInput>,
) -> ApiResult<Response> {
    let c = change(&name, input, true).await?;
    let content = c.content.unwrap_or_default();
    state
        .store
        .put_event_script(&name, &content, c.active.unwrap_or(true), true)
        .await
        .map_err(store_error)?;
    tracing::info!(event = %name, "event script created");
    Ok((StatusCode::CREATED, Json(saved(&state, &name).await?)).into_response())
}

/// `PUT /{event}`: creates or replaces the record.
#[utoipa::path(operation_id = "system.event_script.replace", put, path = "/system/event_script/{name}", tag = "system", summary = "Create or replace a hook script", params(("name" = String, Path, description = "Event name")), request_body = ScriptInput, responses((status = 200, description = "Saved", body = crate::openapi::system::AnyJson), crate::openapi::system::Refused))]
pub async fn replace(
    State(state): State<Arc<AppState>>,
    _: Admin,
    Path(name): Path<String>,
    Body(input): Body<ScriptInput>,
) -> ApiResult<Json<Value>> {
    let c = change(&name, input, true).await?;
    let content = c.content.unwrap_or_default();
    state
        .store
        .put_event_script(&name, &content, c.active.unwrap_or(true), false)
        .await
        .map_err(store_error)?;
    tracing::info!(event = %name, "event script replaced");
    Ok(Json(saved(&state, &name).await?))
}

/// `PATCH /{event}`: changes `content` and/or `is_active` of a record.
#[utoipa::path(operation_id = "system.event_script.update", patch, path = "/system/event_script/{name}", tag = "system", summary = "Change a hook script", params(("name" = String, Path, description = "Event name")), request_body = ScriptInput, responses((status = 200, description = "Changed", body = crate::openapi::system::AnyJson), crate::openapi::system::RefusedOrMissing))]
pub async fn update(
    State(state): State<Arc<AppState>>,
    _: Admin,
    Path(name): Path<String>,
    Body(input): Body<ScriptInput>,
) -> ApiResult<Json<Value>> {
    let c = change(&name, input, false).await?;
    let records = state.store.event_scripts().await.map_err(store_error)?;
    let old = records
        .into_iter()
        .find(|r| r.name == name)
        .ok_or_else(|| not_found(&name))?;
    state
        .store
        .put_event_script(
            &name,
            c.content.as_deref().unwrap_or(&old.content),
            c.active.unwrap_or(old.active),
            false,
        )
        .await
        .map_err(store_error)?;
    Ok(Json(saved(&state, &name).await?))
}

#[utoipa::path(operation_id = "system.event_script.delete", delete, path = "/system/event_script/{name}", tag = "system", summary = "Delete a hook script", params(("name" = String, Path, description = "Event name")), responses((status = 200, description = "Deleted", body = crate::openapi::system::AnyJson), crate::openapi::system::RefusedOrMissing))]
pub async fn delete(
    State(state): State<Arc<AppState>>,
    _: Admin,
    Path(name): Path<String>,
) -> ApiResult<Json<Value>> {
    if !state
        .store
        .delete_event_script(&name)
        .await
        .map_err(store_error)?
    {
        return Err(not_found(&name));
    }
    state
        .hooks
        .reload_records(&state.store)
        .await
        .map_err(store_error)?;
    tracing::info!(event = %name, "event script deleted");
    Ok(Json(json!({ "name": name })))
}
