//! `/api/system/policy` (admin): the policy in force, the last load error,
//! and explanations of single decisions.

use crate::auth::Admin;
use crate::error::{ApiError, ApiResult, Code};
use crate::state::AppState;
use axum::Json;
use axum::extract::{RawQuery, State};
use serde_json::{Value, json};
use std::sync::Arc;

/// `GET /api/system/policy`
#[utoipa::path(operation_id = "system.policy.show", get, path = "/system/policy", tag = "system", summary = "The policy in force and its status", responses((status = 200, description = "Status, error and rules", body = crate::openapi::system::AnyJson), crate::openapi::system::Refused))]
pub async fn show(State(state): State<Arc<AppState>>, _: Admin) -> Json<Value> {
    let status = state.policy.status();
    let set = state.policy.current();
    Json(json!({
        "dir": state.policy.dir.display().to_string(),
        "status": if status.error.is_some() { "error" } else { "ok" },
        "loaded_at": status.loaded_at,
        "error": status.error,
        "failed_at": status.failed_at,
        "rules": set.describe(),
    }))
}

/// `GET /api/system/policy/check?role=&service=&resource=&verb=`
#[utoipa::path(operation_id = "system.policy.check", get, path = "/system/policy/check", tag = "system", summary = "Explain a decision", params(("role" = String, Query), ("service" = String, Query), ("resource" = String, Query), ("verb" = String, Query)), responses((status = 200, description = "Allowed or not, and why", body = crate::openapi::system::AnyJson), crate::openapi::system::Refused))]
pub async fn check(
    State(state): State<Arc<AppState>>,
    _: Admin,
    RawQuery(q): RawQuery,
) -> ApiResult<Json<Value>> {
    let params: std::collections::HashMap<String, String> =
        url::form_urlencoded::parse(q.as_deref().unwrap_or("").as_bytes())
            .into_owned()
            .collect();
    let get = |k: &str| {
        params
            .get(k)
            .map(|v| v.trim().to_string())
            .filter(|v| !v.is_empty())
            .ok_or_else(|| {
                ApiError::new(
                    Code::InvalidParameter,
                    format!("parameter '{k}' is required"),
                )
                .with_context(json!({"parameter": k}))
            })
    };
    let role = get("role")?;
    let service = get("service")?;
    let resource = get("resource")?.trim_matches('/').to_string();
    let verb = get("verb")?.to_ascii_uppercase();
    let set = state.policy.current();
    let mut out = if role == crate::auth::ADMIN {
        json!({"allowed": true, "rule": null, "reason": "admin is the built-in role with full access"})
    } else {
        json!(set.explain(&role, &service, &resource, &verb))
    };
    if let (Some(o), Some(table)) = (out.as_object_mut(), resource.strip_prefix("_table/"))
        && role != crate::auth::ADMIN
    {
        let g = set.grants(&role, &service, table);
        o.insert(
            "row_filter".into(),
            json!(g.row_filter.as_ref().map(ToString::to_string)),
        );
        o.insert("hidden".into(), json!(g.hidden));
    }
    if let Some(o) = out.as_object_mut() {
        o.insert(
            "request".into(),
            json!({"role": role, "service": service, "resource": resource, "verb": verb}),
        );
        o.insert("roles".into(), json!(set.roles(&role)));
    }
    Ok(Json(out))
}
