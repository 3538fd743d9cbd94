//! `/api/system/service` (docs/API.md §2): register, inspect, change, remove and
//! refresh services. A change is verified (connect + introspect) before it is
//! saved, so a failed registration leaves nothing behind.

use crate::auth::Admin;
use crate::error::{ApiError, ApiResult, Code};
use crate::http::admin::fields::{given, nullable};
use crate::http::extract::{Body, Input};
use crate::state::AppState;
use crate::system::services::{Definition, Lookup, check_name, open, unmask_config};
use crate::system::store::StoredService;
use axum::Json;
use axum::extract::{Path, State};
use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use serde::Deserialize;
use serde_json::{Map, Value, json};
use std::sync::Arc;
use utoipa::ToSchema;

/// A service as the admin API takes it: POST needs `name`, `type` and
/// `config`; PATCH changes the fields given and merges `config` key by key
/// (a masked secret sent back keeps the stored one).
#[derive(Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct ServiceInput {
    /// Letters, digits and `_`; not a reserved name. Cannot change.
    #[serde(default)]
    name: Option<String>,
    /// postgres, mysql, sqlite, sqlserver or mongodb.
    #[serde(default, rename = "type")]
    kind: Option<String>,
    /// `null` clears it.
    #[serde(default, deserialize_with = "nullable")]
    #[schema(value_type = Option<String>)]
    label: Option<Option<String>>,
    /// `null` clears it.
    #[serde(default, deserialize_with = "nullable")]
    #[schema(value_type = Option<String>)]
    description: Option<Option<String>>,
    /// `url` (or host, port, database, username, password), `schemas`,
    /// `max_records`, `pool_max`, `read_only`.
    #[serde(default, deserialize_with = "given")]
    #[schema(value_type = Option<Object>)]
    config: Option<Map<String, Value>>,
}

impl Input for ServiceInput {
    const ENTITY: &'static str = "service";
    const CODE: Code = Code::InvalidConfig;
}

#[utoipa::path(operation_id = "system.service.list", get, path = "/system/service", tag = "system", summary = "List services", responses((status = 200, description = "The services", body = super::List<crate::openapi::system::AnyJson>), crate::openapi::system::Refused))]
pub async fn list(State(state): State<Arc<AppState>>, _: Admin) -> Json<super::List<Value>> {
    let resource = state.registry.all().iter().map(|s| s.describe()).collect();
    Json(super::List { resource })
}

#[utoipa::path(operation_id = "system.service.get", get, path = "/system/service/{name}", tag = "system", summary = "Show a service", params(("name" = String, Path, description = "Service name")), responses((status = 200, description = "The service (secrets masked)", body = crate::openapi::system::AnyJson), crate::openapi::system::RefusedOrMissing))]
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

#[utoipa::path(operation_id = "system.service.create", post, path = "/system/service", tag = "system", summary = "Register a service", request_body = ServiceInput, responses((status = 201, description = "Registered and introspected", body = crate::openapi::system::AnyJson), crate::openapi::system::Refused))]
pub async fn create(
    State(state): State<Arc<AppState>>,
    _: Admin,
    Body(input): Body<ServiceInput>,
) -> ApiResult<Response> {
    let name = input
        .name
        .ok_or_else(|| ApiError::new(Code::InvalidConfig, "'name' is required"))?;
    check_name(&name)?;
    let kind = input
        .kind
        .ok_or_else(|| ApiError::new(Code::InvalidConfig, "'type' is required"))?;
    let config = input.config.ok_or_else(|| {
        ApiError::new(
            Code::InvalidConfig,
            "'config' must be an object with at least 'url'",
        )
    })?;
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
        label: input.label.flatten(),
        description: input.description.flatten(),
        config,
    };
    let shown = save(&state, def, true).await?;
    Ok((StatusCode::CREATED, Json(shown)).into_response())
}

#[utoipa::path(operation_id = "system.service.update", patch, path = "/system/service/{name}", tag = "system", summary = "Change a service", params(("name" = String, Path, description = "Service name")), request_body = ServiceInput, responses((status = 200, description = "Changed and re-introspected", body = crate::openapi::system::AnyJson), crate::openapi::system::RefusedOrMissing))]
pub async fn update(
    State(state): State<Arc<AppState>>,
    _: Admin,
    Path(name): Path<String>,
    Body(input): Body<ServiceInput>,
) -> ApiResult<Json<Value>> {
    let _guard = state.registry.changes.lock().await;
    let old = state.service(&name)?;
    if old.declared {
        return Err(ApiError::new(
            Code::Forbidden,
            format!("service '{name}' is declared in the configuration file and read-only here"),
        ));
    }
    if let Some(n) = input.name
        && n != name
    {
        return Err(ApiError::new(
            Code::InvalidConfig,
            "a service cannot be renamed; create a new one",
        ));
    }
    let mut config = old.config.clone();
    if let Some(mut c) = input.config {
        unmask_config(&mut c, &old.config);
        for (k, v) in c {
            config.insert(k, v);
        }
    }
    let def = Definition {
        name: name.clone(),
        kind: input.kind.unwrap_or_else(|| old.kind.clone()),
        label: input.label.unwrap_or_else(|| old.label.clone()),
        description: input.description.unwrap_or_else(|| old.description.clone()),
        config,
    };
    Ok(Json(save(&state, def, false).await?))
}

#[utoipa::path(operation_id = "system.service.delete", delete, path = "/system/service/{name}", tag = "system", summary = "Remove a service", params(("name" = String, Path, description = "Service name")), responses((status = 200, description = "Removed", body = crate::openapi::system::AnyJson), crate::openapi::system::RefusedOrMissing))]
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

#[utoipa::path(operation_id = "system.service.refresh", post, path = "/system/service/{name}/_refresh", tag = "system", summary = "Re-read a service catalog", params(("name" = String, Path, description = "Service name")), responses((status = 200, description = "Refreshed", body = crate::openapi::system::AnyJson), crate::openapi::system::RefusedOrMissing))]
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
