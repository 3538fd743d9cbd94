//! The schema API (docs/API.md §5): the catalog as the caller may see it — the
//! tables whose `_schema/{table}` the role may read, without hidden columns.

use crate::auth::Principal;
use crate::error::{ApiError, ApiResult};
use crate::query::Params;
use crate::rbac::Resource;
use crate::state::AppState;
use axum::Json;
use axum::extract::{Path, RawQuery, State};
use gatehouse_core::Table;
use serde_json::{Value, json};
use std::sync::Arc;

pub async fn list(
    State(state): State<Arc<AppState>>,
    caller: Principal,
    Path(service): Path<String>,
    RawQuery(query): RawQuery,
) -> ApiResult<Json<Value>> {
    let params = Params::from_query(query.as_deref());
    params.refuse_unknown()?;
    // `as_list=true`: the names alone (DreamFactory's form)
    let as_list = params.flag("as_list")?;
    let svc = state.service(&service)?;
    let catalog = svc.catalog();
    let list: Vec<Value> = state
        .policy
        .visible_tables(&caller, &service, catalog.tables(), Resource::Schema)
        .into_iter()
        .map(|t| {
            if as_list {
                json!(t.name)
            } else {
                json!({"name": t.name, "is_view": t.is_view(), "description": t.description})
            }
        })
        .collect();
    if list.is_empty() {
        state
            .policy
            .authorize(&caller, &service, Resource::Schemas, "GET")?;
    }
    Ok(Json(json!({ "resource": list })))
}

pub async fn table(
    State(state): State<Arc<AppState>>,
    caller: Principal,
    Path((service, table)): Path<(String, String)>,
) -> ApiResult<Json<Value>> {
    let svc = state.service(&service)?;
    state
        .policy
        .authorize(&caller, &service, Resource::Schema(&table), "GET")?;
    let catalog = svc.catalog();
    let t = catalog
        .table(&table)
        .ok_or_else(|| ApiError::not_found(format!("table '{table}' not found")))?;
    let grants = state.policy.grants(&caller, &service, &t.name);
    if grants.hidden.is_empty() {
        return Ok(Json(describe(t)));
    }
    let mut view = t.without(&grants.hidden);
    view.primary_key.retain(|k| !grants.hidden.contains(k));
    view.related
        .retain(|r| !r.field.iter().any(|f| grants.hidden.contains(f)));
    Ok(Json(describe(&view)))
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
