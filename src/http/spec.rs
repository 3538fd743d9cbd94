//! `GET /api/{service}/_spec` (API.md §8): the service's OpenAPI 3.1 document,
//! as the caller may see the service.

use crate::auth::Principal;
use crate::http::error::ApiResult;
use crate::openapi;
use crate::state::AppState;
use axum::Json;
use axum::extract::{Path, State};
use serde_json::Value;
use std::sync::Arc;

pub async fn service(
    State(state): State<Arc<AppState>>,
    caller: Principal,
    Path(service): Path<String>,
) -> ApiResult<Json<Value>> {
    let svc = state.service(&service)?;
    let catalog = svc.catalog();
    let resource = |t: &str| format!("_table/{t}");
    let tables: Vec<Arc<gatehouse_core::Table>> = catalog
        .tables()
        .iter()
        .filter(|t| {
            state
                .policy
                .allows(&caller, &service, &resource(&t.name), "GET")
        })
        .map(|t| state.policy.grants(&caller, &service, &t.name).view(t))
        .collect();
    if tables.is_empty() {
        state.policy.authorize(&caller, &service, "_spec", "GET")?;
    }
    let allows = |table: &str, verb: &str| {
        state
            .policy
            .allows(&caller, &service, &resource(table), verb)
    };
    let title = svc.label.clone().unwrap_or_else(|| service.clone());
    Ok(Json(openapi::service_document(
        &service,
        &title,
        svc.description.as_deref(),
        &tables,
        &allows,
    )))
}
