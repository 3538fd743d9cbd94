//! The schema API (API.md §5): the catalog as clients see it.

use crate::auth::Caller;
use crate::http::error::{ApiError, ApiResult};
use crate::state::AppState;
use axum::Json;
use axum::extract::{Path, State};
use gatehouse_core::Table;
use serde_json::{Value, json};
use std::sync::Arc;

pub async fn list(
    State(state): State<Arc<AppState>>,
    _caller: Caller,
    Path(service): Path<String>,
) -> ApiResult<Json<Value>> {
    let svc = state.service(&service)?;
    let list: Vec<Value> = svc
        .catalog()
        .tables()
        .iter()
        .map(|t| json!({"name": t.name, "is_view": t.is_view(), "description": t.description}))
        .collect();
    Ok(Json(json!({ "resource": list })))
}

pub async fn table(
    State(state): State<Arc<AppState>>,
    _caller: Caller,
    Path((service, table)): Path<(String, String)>,
) -> ApiResult<Json<Value>> {
    let svc = state.service(&service)?;
    let catalog = svc.catalog();
    let t = catalog
        .table(&table)
        .ok_or_else(|| ApiError::not_found(format!("table '{table}' not found")))?;
    Ok(Json(describe(t)))
}

pub fn describe(t: &Table) -> Value {
    let mut v = json!({
        "name": t.name,
        "description": t.description,
        "is_view": t.is_view(),
        "writable": t.writable,
        "primary_key": t.primary_key,
        "field": t.columns,
        "related": t.related,
    });
    if t.inferred
        && let Some(o) = v.as_object_mut()
    {
        o.insert("inferred".into(), json!(true));
    }
    v
}
