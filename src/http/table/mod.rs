//! The table API (docs/API.md §3). [`handle`] is the road every table request walks:
//! service → authorize (casbin) → table → the caller's view of it (row filter,
//! hidden columns) → pre hooks → parameters and body checks → connector →
//! post hooks → envelope.

use crate::auth::Principal;
use crate::error::{ApiError, ApiResult, Code};
use crate::hooks::{self, PreOutcome, RequestView, Stage};
use crate::http::{JsonBody, Tunnelled};
use crate::openapi;
use crate::query::{Params, check_fields, split_key};
use crate::rbac::{self, Resource};
use crate::state::AppState;
use crate::system::services::Service;
use axum::Json;
use axum::extract::{FromRequest, FromRequestParts, Path, RawQuery, Request, State};
use axum::http::{HeaderMap, Method, StatusCode, header};
use axum::response::{IntoResponse, Response};
use futures_util::StreamExt;
use gatehouse_core::{
    BatchMode, CountMode, DeleteRequest, ExportFormat, Expr, InsertRequest, ItemOutcome, Record,
    Rows, SelectRequest, Table, UpdateRequest, WriteItem,
};
use serde_json::{Value, json};
use std::collections::HashMap;
use std::sync::Arc;

mod access;
mod keys;
mod read;
mod write;

use access::Access;
use keys::{ids_filter, key_filter, key_text, path_key, requested_ids};
use read::{export, read};
use write::{create, delete, pointer, update};

/// One table request, as extracted from HTTP. Its body is read only once the
/// caller may use the table ([`TableOp::read_body`]): nobody is made to wait
/// for, or gets an answer about, a body they had no right to send.
pub struct TableOp {
    method: Method,
    service: String,
    table: String,
    id: Option<String>,
    params: Params,
    body: Option<Value>,
    /// The request with its body still unread (the headers taken out); in a
    /// mutex only to be `Sync`, as the road holds `&TableOp` across awaits.
    unread: std::sync::Mutex<Option<Request>>,
    tunnelled: bool,
    headers: HeaderMap,
}

/// `GET /api/{service}/_table`: the tables and views the caller may read.
pub async fn list_tables(
    State(state): State<Arc<AppState>>,
    caller: Principal,
    Path(service): Path<String>,
    RawQuery(query): RawQuery,
) -> ApiResult<Json<Value>> {
    let svc = state.service(&service)?;
    let params = Params::from_query(query.as_deref());
    params.refuse_unknown()?;
    if params.flag("refresh")? {
        if !caller.is_admin() {
            return Err(ApiError::new(
                Code::Forbidden,
                "only an admin may refresh a service's schema",
            ));
        }
        svc.refresh()
            .await
            .map_err(|e| ApiError::from_connector(e, false))?;
    }
    let catalog = svc.catalog();
    // `as_list=true`: the names alone (DreamFactory's form)
    let as_list = params.flag("as_list")?;
    let list: Vec<Value> = state
        .policy
        .visible_tables(&caller, &service, catalog.tables(), Resource::Table)
        .into_iter()
        .map(|t| {
            if as_list {
                json!(t.name)
            } else {
                json!({"name": t.name})
            }
        })
        .collect();
    if list.is_empty() {
        state
            .policy
            .authorize(&caller, &service, Resource::Tables, "GET")?;
    }
    Ok(Json(json!({ "resource": list })))
}

/// `/api/{service}/_table/{table}` and `/api/{service}/_table/{table}/{id}`
pub async fn operation(
    State(state): State<Arc<AppState>>,
    caller: Principal,
    op: TableOp,
) -> ApiResult<Response> {
    handle(&state, &caller, op).await
}

impl<S: Send + Sync> FromRequest<S> for TableOp {
    type Rejection = ApiError;

    async fn from_request(req: Request, state: &S) -> Result<Self, ApiError> {
        let (mut parts, body) = req.into_parts();
        let Path(mut path) = Path::<HashMap<String, String>>::from_request_parts(&mut parts, state)
            .await
            .map_err(|_| ApiError::new(Code::BadRequest, "the path could not be read"))?;
        let method = parts.method.clone();
        let tunnelled = parts.extensions.get::<Tunnelled>().is_some();
        let params = Params::from_query(parts.uri.query());
        // the headers are only read by hook scripts: taken, not copied
        let headers = std::mem::take(&mut parts.headers);
        Ok(TableOp {
            method,
            service: path.remove("service").unwrap_or_default(),
            table: path.remove("table").unwrap_or_default(),
            id: path.remove("id"),
            params,
            body: None,
            unread: std::sync::Mutex::new(Some(Request::from_parts(parts, body))),
            tunnelled,
            headers,
        })
    }
}

impl TableOp {
    /// Reads the JSON body. Parameters may travel in it: all of it for a
    /// tunnelled GET, the keys beside `resource` for any write envelope, and
    /// DreamFactory's `ids` in a PATCH, PUT or DELETE body (`{"ids": [1, 2]}`,
    /// unless `table` has a column of that name).
    async fn read_body(&mut self, table: &Table) -> ApiResult<()> {
        let unread = match self.unread.get_mut() {
            Ok(r) => r.take(),
            Err(poisoned) => poisoned.into_inner().take(),
        };
        let Some(req) = unread else {
            return Ok(());
        };
        let JsonBody(mut body) = JsonBody::from_request(req, &()).await?;
        if let Some(Value::Object(obj)) = &body {
            if self.tunnelled && self.method == Method::GET {
                self.params.merge_body(obj);
                if let Some(records) = obj.get("resource") {
                    self.params.set_records(records.clone());
                }
                body = None;
            } else if matches!(self.method, Method::PATCH | Method::PUT | Method::DELETE)
                && !obj.contains_key("resource")
                && table.column("ids").is_none()
                && let Some(ids) = obj.get("ids")
            {
                let mut rest = obj.clone();
                rest.remove("ids");
                self.params.merge_body(&serde_json::Map::from_iter([(
                    "ids".to_string(),
                    ids.clone(),
                )]));
                body = (!rest.is_empty()).then_some(Value::Object(rest));
            } else if obj.contains_key("resource") {
                self.params.merge_body(obj);
            }
        }
        self.body = body;
        Ok(())
    }

    /// The event hook scripts of `stage` see for this request.
    fn event(&self, table: &str, caller: &Principal, stage: Stage) -> Value {
        let request = RequestView {
            method: &self.method,
            params: Value::Object(self.params.to_object()),
            headers: &self.headers,
            payload: self.body.as_ref(),
            id: self.id.as_deref(),
        };
        let name = hooks::event_name(&self.service, table, &self.method, stage);
        hooks::event(&name, &self.service, table, &request, caller)
    }
}

/// The road of a table request.
async fn handle(state: &AppState, caller: &Principal, mut op: TableOp) -> ApiResult<Response> {
    // 1. The service, and 2. may this caller use this verb on this table?
    let service = state.service(&op.service)?;
    state.policy.authorize(
        caller,
        &op.service,
        Resource::Table(&op.table),
        op.method.as_str(),
    )?;
    if service.settings.connection.read_only && op.method != Method::GET {
        return Err(ApiError::new(
            Code::ReadOnly,
            format!("service '{}' is read-only", service.name),
        ));
    }
    // 3. The table, from the catalog snapshot this request keeps to the end,
    // as the caller may see it.
    let catalog = service.catalog();
    let table = catalog.table(&op.table).cloned().ok_or_else(|| {
        ApiError::not_found(format!(
            "table '{}' not found in service '{}'",
            op.table, op.service
        ))
    })?;
    // a write to a read-only view is refused first, whatever else is wrong with it
    if op.method != Method::GET && !table.writable {
        return Err(ApiError::new(
            Code::ReadOnly,
            format!("'{}' is a read-only view", table.name),
        ));
    }
    let access = Access::of(state, caller, &op.service, &table)?;
    op.read_body(&table).await?;
    op.params
        .bound_to(state.config.limits, rbac::caller_values(caller));
    // 4. Pre-process hooks: they may reshape the request, answer it, or reject it.
    // A parameter the API does not take is refused, unless a script of this
    // table and verb is there to read it.
    let scripts = state
        .hooks
        .matching(&op.service, &table.name, &op.method, op.id.is_some());
    if scripts.pre.is_empty() && scripts.post.is_empty() {
        op.params.refuse_unknown()?;
    }
    if !scripts.pre.is_empty() {
        let event = op.event(&table.name, caller, Stage::Pre);
        match state.hooks.pre(&scripts.pre, event).await? {
            PreOutcome::Answer(status, content) => {
                return Ok((status, Json(content)).into_response());
            }
            PreOutcome::Continue { payload, params } => {
                if let Some(p) = payload {
                    op.body = (!p.is_null()).then_some(p);
                }
                if let Some(Value::Object(p)) = params {
                    op.params.replace(&p);
                }
            }
        }
    }
    // An export streams rows as they come; a post_process script needs the
    // whole answer, so a table with one is not exported (rather than unfiltered).
    if op.method == Method::GET && op.id.is_none() {
        let accept = op.headers.get(header::ACCEPT).and_then(|v| v.to_str().ok());
        if let Some(format) = op.params.export_format(accept)? {
            if !scripts.post.is_empty() {
                return Err(ApiError::new(
                    Code::NotImplemented,
                    "this table's answers go through post_process scripts; it cannot be exported as a stream",
                ));
            }
            return export(state, caller, &service, &table, &access, &op, format).await;
        }
    }
    // 5. Parameters and bodies are checked against the caller's view, then the connector.
    let (status, content) = match op.method {
        Method::GET => read(&service, &table, &access, &op).await,
        Method::POST if op.id.is_some() => Err(ApiError::new(
            Code::MethodNotAllowed,
            "POST creates records on the table, not on one record",
        )),
        Method::POST => create(&service, &table, &access, &op)
            .await
            .map(Content::of),
        Method::PATCH | Method::PUT => update(&service, &table, &access, &op)
            .await
            .map(Content::of),
        Method::DELETE => delete(&service, &table, &access, &op)
            .await
            .map(Content::of),
        _ => Err(ApiError::new(
            Code::MethodNotAllowed,
            "this method is not allowed on a table",
        )),
    }?;
    // 6. Post-process hooks: they may reshape the answer.
    if scripts.post.is_empty() {
        return Ok(content.into_response(status));
    }
    let mut event = op.event(&table.name, caller, Stage::Post);
    event["response"] = json!({"status_code": status.as_u16()});
    let content = state
        .hooks
        .post(&scripts.post, event, content.into_value()?)
        .await?;
    Ok((status, Json(content)).into_response())
}

/// An answer before it becomes HTTP: hooks may still change its content.
type Answer = ApiResult<(StatusCode, Value)>;

/// What an answer carries: a value, or JSON text a read got from the database
/// and sends on without building a tree of it (parsed only for a post hook).
enum Content {
    Value(Value),
    Text(String),
}

impl Content {
    fn of((status, v): (StatusCode, Value)) -> (StatusCode, Content) {
        (status, Content::Value(v))
    }

    fn into_value(self) -> ApiResult<Value> {
        match self {
            Content::Value(v) => Ok(v),
            Content::Text(t) => serde_json::from_str(&t).map_err(|e| {
                ApiError::internal(format_args!(
                    "an answer built from the database's JSON: {e}"
                ))
            }),
        }
    }

    fn into_response(self, status: StatusCode) -> Response {
        match self {
            Content::Value(v) => (status, Json(v)).into_response(),
            Content::Text(t) => (
                status,
                [(
                    axum::http::header::CONTENT_TYPE,
                    axum::http::HeaderValue::from_static("application/json"),
                )],
                t,
            )
                .into_response(),
        }
    }
}

fn connector_err(writing: bool) -> impl Fn(gatehouse_core::ConnectorError) -> ApiError {
    move |e| ApiError::from_connector(e, writing)
}
