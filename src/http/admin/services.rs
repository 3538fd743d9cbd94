//! `/api/system/service` (docs/API.md §2): register, inspect, change, remove and
//! refresh services. A change is verified (connect + introspect) before it is
//! saved, so a failed registration leaves nothing behind.

use crate::auth::Admin;
use crate::error::{ApiError, ApiResult, Code};
use crate::http::JsonBody;
use crate::state::AppState;
use crate::system::services::{Definition, Lookup, check_name, open, unmask_config};
use crate::system::store::StoredService;
use axum::Json;
use axum::extract::{Path, State};
use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use serde_json::{Map, Value, json};
use std::sync::Arc;

fn text_field(body: &Map<String, Value>, key: &str) -> ApiResult<Option<String>> {
    match body.get(key) {
        None | Some(Value::Null) => Ok(None),
        Some(Value::String(s)) => Ok(Some(s.clone())),
        Some(_) => Err(ApiError::new(
            Code::InvalidConfig,
            format!("'{key}' must be a string"),
        )),
    }
}

fn body_object(body: Option<Value>) -> ApiResult<Map<String, Value>> {
    match body {
        Some(Value::Object(o)) => Ok(o),
        _ => Err(ApiError::new(
            Code::InvalidConfig,
            "the body must be a JSON object",
        )),
    }
}

#[utoipa::path(operation_id = "system.service.list", get, path = "/system/service", tag = "system", summary = "List services", responses((status = 200, description = "The services", body = crate::openapi::system::ListBody), (status = 400, description = "Bad input", body = crate::openapi::system::ErrorBody), (status = 401, description = "No or bad credentials", body = crate::openapi::system::ErrorBody), (status = 403, description = "Not allowed", body = crate::openapi::system::ErrorBody)))]
pub async fn list(State(state): State<Arc<AppState>>, _: Admin) -> Json<Value> {
    let list: Vec<Value> = state.registry.all().iter().map(|s| s.describe()).collect();
    Json(json!({ "resource": list }))
}

#[utoipa::path(operation_id = "system.service.get", get, path = "/system/service/{name}", tag = "system", summary = "Show a service", params(("name" = String, Path, description = "Service name")), responses((status = 200, description = "The service (secrets masked)", body = crate::openapi::system::AnyJson), (status = 400, description = "Bad input", body = crate::openapi::system::ErrorBody), (status = 401, description = "No or bad credentials", body = crate::openapi::system::ErrorBody), (status = 403, description = "Not allowed", body = crate::openapi::system::ErrorBody), (status = 404, description = "Not found", body = crate::openapi::system::ErrorBody)))]
pub async fn get(
    State(state): State<Arc<AppState>>,
    _: Admin,
    Path(name): Path<String>,
) -> ApiResult<Json<Value>> {
    Ok(Json(state.service(&name)?.describe()))
}

async fn save(state: &AppState, def: Definition, create: bool) -> ApiResult<Value> {
    let sealed = state.cipher.encrypt(
        serde_json::to_string(&def.config)
            .unwrap_or_default()
            .as_bytes(),
    );
    let stored = StoredService {
        name: def.name.clone(),
        kind: def.kind.clone(),
        label: def.label.clone(),
        description: def.description.clone(),
        config_sealed: sealed,
        version: 0,
    };
    // Verify first: connect and introspect; nothing is saved if that fails.
    let mut svc = open(def, state.config.default_max_records, false, 0).await?;
    let version = match state.store.put_service(&stored, create).await {
        Ok(v) => v,
        Err(e) => {
            svc.connector.close().await;
            tracing::error!("system store write failed: {e}");
            return Err(ApiError::new(
                Code::Internal,
                "the service could not be saved",
            ));
        }
    };
    svc.version = version;
    let shown = svc.describe();
    state.registry.mount(svc);
    Ok(shown)
}

#[utoipa::path(operation_id = "system.service.create", post, path = "/system/service", tag = "system", summary = "Register a service", request_body = crate::openapi::system::ServiceInput, responses((status = 201, description = "Registered and introspected", body = crate::openapi::system::AnyJson), (status = 400, description = "Bad input", body = crate::openapi::system::ErrorBody), (status = 401, description = "No or bad credentials", body = crate::openapi::system::ErrorBody), (status = 403, description = "Not allowed", body = crate::openapi::system::ErrorBody)))]
pub async fn create(
    State(state): State<Arc<AppState>>,
    _: Admin,
    JsonBody(body): JsonBody,
) -> ApiResult<Response> {
    let body = body_object(body)?;
    let name = text_field(&body, "name")?
        .ok_or_else(|| ApiError::new(Code::InvalidConfig, "'name' is required"))?;
    check_name(&name)?;
    let kind = text_field(&body, "type")?
        .ok_or_else(|| ApiError::new(Code::InvalidConfig, "'type' is required"))?;
    let config = match body.get("config") {
        Some(Value::Object(c)) => c.clone(),
        _ => {
            return Err(ApiError::new(
                Code::InvalidConfig,
                "'config' must be an object with at least 'url'",
            ));
        }
    };
    let _guard = state.registry.changes.lock().await;
    if !matches!(state.registry.get(&name), Lookup::Missing) {
        return Err(ApiError::new(
            Code::Conflict,
            format!("a service named '{name}' already exists"),
        ));
    }
    let def = Definition {
        name,
        kind,
        label: text_field(&body, "label")?,
        description: text_field(&body, "description")?,
        config,
    };
    let shown = save(&state, def, true).await?;
    Ok((StatusCode::CREATED, Json(shown)).into_response())
}

#[utoipa::path(operation_id = "system.service.update", patch, path = "/system/service/{name}", tag = "system", summary = "Change a service", params(("name" = String, Path, description = "Service name")), request_body = crate::openapi::system::ServiceInput, responses((status = 200, description = "Changed and re-introspected", body = crate::openapi::system::AnyJson), (status = 400, description = "Bad input", body = crate::openapi::system::ErrorBody), (status = 401, description = "No or bad credentials", body = crate::openapi::system::ErrorBody), (status = 403, description = "Not allowed", body = crate::openapi::system::ErrorBody), (status = 404, description = "Not found", body = crate::openapi::system::ErrorBody)))]
pub async fn update(
    State(state): State<Arc<AppState>>,
    _: Admin,
    Path(name): Path<String>,
    JsonBody(body): JsonBody,
) -> ApiResult<Json<Value>> {
    let body = body_object(body)?;
    let _guard = state.registry.changes.lock().await;
    let old = state.service(&name)?;
    if old.declared {
        return Err(ApiError::new(
            Code::Forbidden,
            format!("service '{name}' is declared in the configuration file and read-only here"),
        ));
    }
    if let Some(n) = text_field(&body, "name")?
        && n != name
    {
        return Err(ApiError::new(
            Code::InvalidConfig,
            "a service cannot be renamed; create a new one",
        ));
    }
    let mut config = old.config.clone();
    if let Some(c) = body.get("config") {
        let Value::Object(c) = c else {
            return Err(ApiError::new(
                Code::InvalidConfig,
                "'config' must be an object",
            ));
        };
        let mut c = c.clone();
        unmask_config(&mut c, &old.config);
        for (k, v) in c {
            config.insert(k, v);
        }
    }
    let def = Definition {
        name: name.clone(),
        kind: text_field(&body, "type")?.unwrap_or_else(|| old.kind.clone()),
        label: if body.contains_key("label") {
            text_field(&body, "label")?
        } else {
            old.label.clone()
        },
        description: if body.contains_key("description") {
            text_field(&body, "description")?
        } else {
            old.description.clone()
        },
        config,
    };
    Ok(Json(save(&state, def, false).await?))
}

#[utoipa::path(operation_id = "system.service.delete", delete, path = "/system/service/{name}", tag = "system", summary = "Remove a service", params(("name" = String, Path, description = "Service name")), responses((status = 200, description = "Removed", body = crate::openapi::system::AnyJson), (status = 400, description = "Bad input", body = crate::openapi::system::ErrorBody), (status = 401, description = "No or bad credentials", body = crate::openapi::system::ErrorBody), (status = 403, description = "Not allowed", body = crate::openapi::system::ErrorBody), (status = 404, description = "Not found", body = crate::openapi::system::ErrorBody)))]
pub async fn delete(
    State(state): State<Arc<AppState>>,
    _: Admin,
    Path(name): Path<String>,
) -> ApiResult<Json<Value>> {
    let _guard = state.registry.changes.lock().await;
    if let Lookup::Live(s) = state.registry.get(&name)
        && s.declared
    {
        return Err(ApiError::new(
            Code::Forbidden,
            format!("service '{name}' is declared in the configuration file and read-only here"),
        ));
    }
    let removed = state.store.delete_service(&name).await.map_err(|e| {
        tracing::error!("system store delete failed: {e}");
        ApiError::new(Code::Internal, "the service could not be removed")
    })?;
    if !removed {
        return Err(ApiError::not_found(format!("service '{name}' not found")));
    }
    state.registry.unmount(&name);
    Ok(Json(json!({ "name": name })))
}

#[utoipa::path(operation_id = "system.service.refresh", post, path = "/system/service/{name}/_refresh", tag = "system", summary = "Re-read a service catalog", params(("name" = String, Path, description = "Service name")), responses((status = 200, description = "Refreshed", body = crate::openapi::system::AnyJson), (status = 400, description = "Bad input", body = crate::openapi::system::ErrorBody), (status = 401, description = "No or bad credentials", body = crate::openapi::system::ErrorBody), (status = 403, description = "Not allowed", body = crate::openapi::system::ErrorBody), (status = 404, description = "Not found", body = crate::openapi::system::ErrorBody)))]
pub async fn refresh(
    State(state): State<Arc<AppState>>,
    _: Admin,
    Path(name): Path<String>,
) -> ApiResult<Json<Value>> {
    let svc = state.service(&name)?;
    svc.refresh()
        .await
        .map_err(|e| ApiError::from_connector(e, false))?;
    Ok(Json(
        json!({"name": name, "tables": svc.catalog().tables().len()}),
    ))
}
