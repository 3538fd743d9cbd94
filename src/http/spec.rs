//! The API description (docs/API.md §8): `GET /api/{service}/_spec` for one
//! service and `GET /api/_spec` for the whole instance, each as the caller may
//! see it, in JSON or (`?format=yaml`) YAML.

use crate::auth::Principal;
use crate::error::{ApiError, ApiResult, Code};
use crate::openapi;
use crate::rbac::Resource;
use crate::state::AppState;
use crate::system::services::Service;
use axum::Json;
use axum::extract::{Path, RawQuery, State};
use axum::http::header;
use axum::response::{IntoResponse, Response};
use serde_json::Value;
use std::collections::HashMap;
use std::sync::Arc;

/// The query parameters (`format`).
fn query(raw: Option<String>) -> HashMap<String, String> {
    url::form_urlencoded::parse(raw.unwrap_or_default().as_bytes())
        .into_owned()
        .collect()
}

/// `GET /api/{service}/_spec`
pub async fn service(
    State(state): State<Arc<AppState>>,
    caller: Principal,
    Path(service): Path<String>,
    RawQuery(raw): RawQuery,
) -> ApiResult<Response> {
    let q = query(raw);
    let svc = state.service(&service)?;
    if let Some(doc) = service_document(&state, &caller, &svc) {
        respond(doc, &q)
    } else {
        state
            .policy
            .authorize(&caller, &service, Resource::Spec, "GET")?;
        let doc = openapi::service_document(
            &service,
            &title(&svc),
            svc.description.as_deref(),
            &[],
            &|_, _| false,
        );
        respond(doc, &q)
    }
}

/// `GET /api/_spec`: the services the caller may read something of, and the
/// system API (its session endpoints for everyone, the rest for the admin).
pub async fn instance(
    State(state): State<Arc<AppState>>,
    caller: Principal,
    RawQuery(raw): RawQuery,
) -> ApiResult<Response> {
    let q = query(raw);
    let services = state
        .registry
        .all()
        .iter()
        .filter_map(|svc| Some((svc.name.clone(), service_document(&state, &caller, svc)?)))
        .collect();
    let mut system = openapi::system::document();
    if !caller.is_admin()
        && let Some(Value::Object(paths)) = system.get_mut("paths")
    {
        paths.retain(|p, _| p.starts_with("/user/"));
    }
    respond(openapi::instance_document(services, system), &q)
}

fn title(svc: &Service) -> String {
    svc.label.clone().unwrap_or_else(|| svc.name.clone())
}

/// A service's document for the caller; `None` when they may read none of its tables.
fn service_document(state: &AppState, caller: &Principal, svc: &Service) -> Option<Value> {
    let service = &svc.name;
    let catalog = svc.catalog();
    let tables: Vec<Arc<gatehouse_core::Table>> = state
        .policy
        .visible_tables(caller, service, catalog.tables(), Resource::Table)
        .into_iter()
        .map(|t| state.policy.grants(caller, service, &t.name).view(t))
        .collect();
    if tables.is_empty() {
        return None;
    }
    let allows = |table: &str, verb: &str| {
        state
            .policy
            .allows(caller, service, Resource::Table(table), verb)
    };
    Some(openapi::service_document(
        service,
        &title(svc),
        svc.description.as_deref(),
        &tables,
        &allows,
    ))
}

/// The document in the format asked for.
fn respond(doc: Value, q: &HashMap<String, String>) -> ApiResult<Response> {
    match q.get("format").map(|f| f.to_ascii_lowercase()).as_deref() {
        None | Some("json") => Ok(Json(doc).into_response()),
        Some("yaml" | "yml") => {
            let text = openapi::to_yaml(&doc).map_err(|e| {
                tracing::error!("the API description could not be written as YAML: {e}");
                ApiError::new(Code::Internal, "the document could not be written as YAML")
            })?;
            Ok((
                [(header::CONTENT_TYPE, "application/yaml; charset=utf-8")],
                text,
            )
                .into_response())
        }
        Some(_) => Err(ApiError::new(
            Code::InvalidParameter,
            "parameter 'format' must be json or yaml",
        )
        .with_context(serde_json::json!({"parameter": "format"}))),
    }
}
