//! The table API (API.md §3). [`handle`] is the road every table request walks:
//! service → authorize (casbin) → table → the caller's view of it (row filter,
//! hidden columns) → pre hooks → parameters and body checks → connector →
//! post hooks → envelope.

use crate::auth::Principal;
use crate::error::{ApiError, ApiResult, Code};
use crate::hooks::{self, PreOutcome, RequestView, Stage};
use crate::http::{JsonBody, Tunnelled};
use crate::openapi;
use crate::query::{Params, check_fields, split_key};
use crate::rbac;
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
    if Params::from_query(query.as_deref()).flag("refresh")? {
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
    let list: Vec<Value> = svc
        .catalog()
        .tables()
        .iter()
        .filter(|t| {
            state
                .policy
                .allows(&caller, &service, &format!("_table/{}", t.name), "GET")
        })
        .map(|t| json!({"name": t.name}))
        .collect();
    if list.is_empty() {
        state.policy.authorize(&caller, &service, "_table", "GET")?;
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
    /// tunnelled GET, and the keys beside `resource` for any write envelope.
    async fn read_body(&mut self) -> ApiResult<()> {
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
                body = None;
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

/// What the caller may see of a table.
struct Access {
    /// The table without the columns hidden from the caller: what parameters
    /// and bodies are checked against.
    view: Arc<Table>,
    /// The caller's row filter, bound to their values.
    filter: Option<Expr>,
    hidden: Vec<String>,
}

impl Access {
    fn of(
        state: &AppState,
        caller: &Principal,
        service: &str,
        table: &Arc<Table>,
    ) -> ApiResult<Access> {
        let grants = state.policy.grants(caller, service, &table.name);
        let filter = match &grants.row_filter {
            None => None,
            Some(e) => {
                let bound = rbac::bind_caller(e, caller);
                if let Err(err) = check_fields(&bound, table) {
                    tracing::error!(role = %caller.role, table = %table.name, "a row filter names a field the table lacks: {}", err.message);
                    return Err(ApiError::new(
                        Code::Forbidden,
                        "this role's row filter does not fit this table; the policy needs fixing",
                    ));
                }
                Some(bound)
            }
        };
        Ok(Access {
            view: grants.view(table),
            filter,
            hidden: grants.hidden.clone(),
        })
    }

    /// `filter` narrowed to the rows the caller may see.
    fn narrow(&self, filter: Expr) -> Expr {
        match &self.filter {
            Some(f) => Expr::And(vec![filter, f.clone()]),
            None => filter,
        }
    }

    /// Every record must fit the caller's view of the table's schema, the one
    /// `_spec` publishes (`openapi::check_value`), before any connector sees it,
    /// so every engine answers alike: a hidden column is 403; a field the view
    /// lacks 400 `unknown_field`; a wrong value 422 `type_mismatch`; null in a
    /// non-null column 422 `not_null_violation`; on insert a missing required
    /// field 422 `missing_field`. `context` has the field, the record's index
    /// and the JSON pointer to the value in the body.
    ///
    /// Names decide for the whole request (`Err`); a wrong value fails its
    /// record (returned), which a `continue=true` batch reports beside the
    /// records that were written.
    fn check_records(
        &self,
        records: &[Record],
        insert: bool,
        body: Option<&Value>,
    ) -> ApiResult<Vec<(usize, ApiError)>> {
        let at = |i: usize, f: &str| json!({"field": f, "index": i, "path": pointer(body, i, f)});
        for (i, r) in records.iter().enumerate() {
            if let Some(f) = r.keys().find(|f| self.view.is_withheld(f)) {
                return Err(ApiError::new(
                    Code::Forbidden,
                    format!("this role may not write '{f}'"),
                )
                .with_context(at(i, f)));
            }
        }
        let view = &self.view;
        for (i, r) in records.iter().enumerate() {
            if let Some(f) = r.keys().find(|f| !view.accepts_field(f, !insert)) {
                return Err(ApiError::unknown_field(&view.name, f).with_context(at(i, f)));
            }
            // a schemaless collection requires nothing: its schema is only a sample
            if insert
                && !view.inferred
                && let Some(c) = view
                    .columns
                    .iter()
                    .find(|c| c.is_required() && r.get(&c.name).is_none_or(Value::is_null))
            {
                return Err(
                    ApiError::new(Code::MissingField, format!("'{}' is required", c.name))
                        .with_context(at(i, &c.name)),
                );
            }
        }
        let mut invalid = Vec::new();
        for (i, r) in records.iter().enumerate() {
            let wrong = r.iter().find_map(|(f, v)| {
                let c = view.column(f)?;
                if v.is_null() {
                    return (!c.allow_null).then(|| {
                        ApiError::new(Code::NotNullViolation, format!("'{f}' may not be null"))
                            .with_context(at(i, f))
                    });
                }
                let expected = openapi::check_value(c, v).err()?;
                let mut ctx = at(i, f);
                ctx["expected"] = json!(expected);
                Some(
                    ApiError::new(Code::TypeMismatch, format!("'{f}' expects {expected}"))
                        .with_context(ctx),
                )
            });
            if let Some(e) = wrong {
                invalid.push((i, e));
            }
        }
        Ok(invalid)
    }

    /// Rows without the hidden columns (a key the caller may not see included).
    fn strip(&self, rows: &mut [Record]) {
        if self.hidden.is_empty() {
            return;
        }
        for r in rows {
            r.retain(|k, _| !self.hidden.contains(k));
        }
    }
}

/// The road of a table request.
async fn handle(state: &AppState, caller: &Principal, mut op: TableOp) -> ApiResult<Response> {
    // 1. The service, and 2. may this caller use this verb on this table?
    let service = state.service(&op.service)?;
    state.policy.authorize(
        caller,
        &op.service,
        &format!("_table/{}", op.table),
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
    let access = Access::of(state, caller, &op.service, &table)?;
    op.read_body().await?;
    let limits = state.config.limits;
    op.params.bound_to(limits, rbac::caller_values(caller));
    // 4. Pre-process hooks: they may reshape the request, answer it, or reject it.
    let scripts = state.hooks.matching(&op.service, &table.name, &op.method);
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
                    op.params = Params::from_object(&p);
                    op.params.bound_to(limits, rbac::caller_values(caller));
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

// ------------------------------------------------------------------ keys

fn require_key(table: &Table) -> ApiResult<Vec<String>> {
    if table.primary_key.is_empty() {
        Err(ApiError::new(
            Code::NoPrimaryKey,
            format!("'{}' has no primary key; use a filter", table.name),
        ))
    } else {
        Ok(table.primary_key.clone())
    }
}

/// The filter selecting one record by its key values.
fn key_filter(key: &[String], values: Vec<Value>) -> Expr {
    let mut parts: Vec<Expr> = key
        .iter()
        .zip(values)
        .map(|(k, v)| Expr::eq(k, v))
        .collect();
    if parts.len() == 1 {
        parts.remove(0)
    } else {
        Expr::And(parts)
    }
}

/// The filter selecting every record of `ids`: `key IN (...)` for a simple
/// key (one condition, however many ids), else one `AND` of the key's
/// columns per id, `OR`ed.
fn ids_filter(key: &[String], ids: &[Vec<Value>]) -> Expr {
    match key {
        [one] => Expr::In {
            field: gatehouse_core::filter::Field::new(one.clone()),
            values: ids
                .iter()
                .filter_map(|id| id.first().cloned())
                .map(gatehouse_core::filter::Operand::Value)
                .collect(),
            negated: false,
        },
        _ => Expr::Or(ids.iter().map(|v| key_filter(key, v.clone())).collect()),
    }
}

/// The key values of a path `{id}`.
fn path_key(table: &Table, id: &str) -> ApiResult<(Vec<String>, Vec<Value>)> {
    let key = require_key(table)?;
    let values = if key.len() == 1 {
        vec![Value::String(id.to_string())]
    } else {
        split_key(id)
    };
    if values.len() != key.len() {
        return Err(ApiError::new(
            Code::InvalidValue,
            format!(
                "'{}' has a composite key ({}): give its values joined by commas",
                table.name,
                key.join(", ")
            ),
        ));
    }
    Ok((key, values))
}

/// The key columns `ids` refer to: `id_field` or the primary key.
fn ids_key(table: &Table, params: &Params) -> ApiResult<Vec<String>> {
    match params.id_field()? {
        Some(f) => {
            let f: Vec<String> = f.split(',').map(|x| x.trim().to_string()).collect();
            for c in &f {
                if table.column(c).is_none() {
                    return Err(ApiError::unknown_field(&table.name, c));
                }
            }
            Ok(f)
        }
        None => require_key(table),
    }
}

/// Key columns, and one tuple of key values per id.
type Ids = (Vec<String>, Vec<Vec<Value>>);

/// The `ids` asked for, with the key columns they refer to.
fn requested_ids(table: &Table, p: &Params) -> ApiResult<Option<Ids>> {
    if !p.has("ids") {
        return Ok(None);
    }
    let key = ids_key(table, p)?;
    Ok(p.ids(key.len())?.map(|ids| (key, ids)))
}

/// Text of a key value, for matching records to the ids asked for.
fn key_text(v: &Value) -> String {
    match v {
        Value::String(s) => s.to_ascii_lowercase(),
        other => other.to_string().to_ascii_lowercase(),
    }
}

// ------------------------------------------------------------------ reads

async fn read(
    service: &Service,
    table: &Arc<Table>,
    access: &Access,
    op: &TableOp,
) -> ApiResult<(StatusCode, Content)> {
    let p = &op.params;
    let view = &access.view;
    let all_fields = || {
        view.columns
            .iter()
            .map(|c| c.name.clone())
            .collect::<Vec<_>>()
    };
    let fields = p.fields(view)?.unwrap_or_else(all_fields);
    let max = service.settings.max_records;

    if let Some(id) = &op.id {
        let (key, values) = path_key(view, id)?;
        let req = SelectRequest {
            table: table.clone(),
            fields,
            filter: Some(access.narrow(key_filter(&key, values))),
            order: Vec::new(),
            limit: Some(1),
            offset: 0,
            count: CountMode::None,
        };
        let out = service
            .connector
            .select(&req)
            .await
            .map_err(connector_err(false))?;
        let found = match out.rows {
            Rows::Json(rows) => rows.get(0).map(|r| Content::Text(r.to_string())),
            Rows::Records(mut rows) => rows.pop().map(|r| Content::Value(Value::Object(r))),
        };
        return found.map(|c| (StatusCode::OK, c)).ok_or_else(|| {
            ApiError::not_found(format!("record '{id}' not found in '{}'", table.name))
        });
    }

    let list = List::of(service, table, access, p, &fields, Paging::Page(max))?;
    let (req, ids, count, offset, limit) =
        (list.req, list.ids, list.count, list.offset, list.limit);
    let out = service
        .connector
        .select(&req)
        .await
        .map_err(connector_err(false))?;
    if count == CountMode::Only {
        return Ok((
            StatusCode::OK,
            Content::Value(json!(out.count.unwrap_or(0))),
        ));
    }
    let mut meta = serde_json::Map::new();
    if let Some(c) = out.count
        && count == CountMode::WithRows
    {
        meta.insert("count".into(), json!(c));
    }
    let next = |meta: &mut serde_json::Map<String, Value>| {
        meta.insert("next".into(), json!(offset + limit));
    };
    let rows = match (out.rows, ids) {
        (rows, Some((key, ids))) => order_by_ids(
            rows.into_records().map_err(connector_err(false))?,
            &key,
            &ids,
            &fields,
            &table.name,
        )?,
        (Rows::Json(mut rows), None) => {
            // the envelope around the rows' text, which is copied as it is
            if rows.len() as u64 > limit {
                rows.truncate(usize::try_from(limit).unwrap_or(usize::MAX));
                next(&mut meta);
            }
            let meta = if meta.is_empty() {
                String::new()
            } else {
                Value::Object(meta).to_string()
            };
            let mut text = String::with_capacity(rows.array_len() + meta.len() + 24);
            text.push_str("{\"resource\":");
            rows.write_array(&mut text);
            if !meta.is_empty() {
                text.push_str(",\"meta\":");
                text.push_str(&meta);
            }
            text.push('}');
            return Ok((StatusCode::OK, Content::Text(text)));
        }
        (Rows::Records(mut rows), None) => {
            if rows.len() as u64 > limit {
                rows.truncate(limit as usize);
                next(&mut meta);
            }
            rows
        }
    };
    let mut body = json!({ "resource": rows });
    if !meta.is_empty()
        && let Some(o) = body.as_object_mut()
    {
        o.insert("meta".into(), Value::Object(meta));
    }
    Ok((StatusCode::OK, Content::Value(body)))
}

/// `GET` as NDJSON or CSV, streamed. A role allowed `GET` on `_export/{table}`
/// gets every row (or `limit`); others a page capped by `max_records`, as in JSON.
async fn export(
    state: &AppState,
    caller: &Principal,
    service: &Service,
    table: &Arc<Table>,
    access: &Access,
    op: &TableOp,
    format: ExportFormat,
) -> ApiResult<Response> {
    let p = &op.params;
    let view = &access.view;
    let fields = p
        .fields(view)?
        .unwrap_or_else(|| view.columns.iter().map(|c| c.name.clone()).collect());
    let uncapped = state
        .policy
        .authorize(
            caller,
            &op.service,
            &format!("_export/{}", table.name),
            "GET",
        )
        .is_ok();
    let paging = if uncapped {
        Paging::All
    } else {
        Paging::Page(service.settings.max_records)
    };
    let mut list = List::of(service, table, access, p, &fields, paging)?;
    list.req.count = CountMode::None;
    if !uncapped {
        list.req.limit = Some(list.limit);
    }
    let mut rows = service.connector.clone().export(list.req, format).fuse();
    // Until the first chunk, a failure can still be a proper error answer.
    let first = match rows.next().await {
        Some(Err(e)) => return Err(ApiError::from_connector(e, false)),
        Some(Ok(chunk)) => Some(Ok(chunk)),
        None => None,
    };
    let name = table.name.clone();
    let body = futures_util::stream::iter(first)
        .chain(rows)
        .map(move |chunk| {
            chunk.map_err(|e| {
                // the status is sent: all that is left is to cut the stream short
                tracing::error!(table = %name, detail = %e.detail, "export failed midway");
                std::io::Error::other("export failed")
            })
        });
    Ok((
        [(header::CONTENT_TYPE, format.content_type())],
        axum::body::Body::from_stream(body),
    )
        .into_response())
}

/// How many rows a list may return.
enum Paging {
    /// A page: `limit`, at most this many (the service's `max_records`).
    Page(u64),
    /// An export: `limit` if given, else every row.
    All,
}

/// A list request (`GET` on a table without an id), as the connector gets it.
struct List {
    req: SelectRequest,
    /// `ids=`: the key and the values asked for, in the order asked.
    ids: Option<(Vec<String>, Vec<Vec<Value>>)>,
    count: CountMode,
    offset: u64,
    /// The page size (for `Paging::All`, `u64::MAX` without a `limit`).
    limit: u64,
}

impl List {
    fn of(
        service: &Service,
        table: &Arc<Table>,
        access: &Access,
        p: &Params,
        fields: &[String],
        paging: Paging,
    ) -> ApiResult<List> {
        let view = &access.view;
        let mut filter = p.filter(view)?;
        let order = p.order(view)?;
        if order.iter().any(|o| o.nulls_first.is_some())
            && !service.connector.capabilities().nulls_ordering
        {
            return Err(ApiError::new(
                Code::NotImplemented,
                "this database cannot order nulls first or last",
            ));
        }
        let ids = match requested_ids(view, p)? {
            Some((key, ids)) => {
                filter = Expr::and_opt(Some(ids_filter(&key, &ids)), filter);
                Some((key, ids))
            }
            None => None,
        };
        filter = Expr::and_opt(filter, access.filter.clone());
        let count = if p.flag("count_only")? {
            CountMode::Only
        } else if p.flag("include_count")? {
            CountMode::WithRows
        } else {
            CountMode::None
        };
        let offset = p.uint("offset")?.unwrap_or(0);
        let asked = p.uint("limit")?.filter(|l| *l > 0);
        let (limit, query_limit) = match paging {
            // Asking for one row more tells whether a next page exists.
            Paging::Page(max) => {
                let l = asked.unwrap_or(max).min(max);
                (l, (ids.is_none()).then(|| l.saturating_add(1)))
            }
            Paging::All => (asked.unwrap_or(u64::MAX), asked),
        };
        let paged = matches!(paging, Paging::Page(_));
        let req = SelectRequest {
            table: table.clone(),
            fields: match &ids {
                // The key is needed to put the records in the order asked for.
                Some((key, _)) if paged => {
                    let mut f = fields.to_vec();
                    f.extend(key.iter().filter(|k| !fields.contains(k)).cloned());
                    f
                }
                _ => fields.to_vec(),
            },
            filter,
            order,
            limit: query_limit,
            offset: if ids.is_some() && paged { 0 } else { offset },
            count,
        };
        Ok(List {
            req,
            ids,
            count,
            offset,
            limit,
        })
    }
}

/// The records for `ids`, in the order asked; 404 when one does not exist.
fn order_by_ids(
    rows: Vec<Record>,
    key: &[String],
    ids: &[Vec<Value>],
    fields: &[String],
    table: &str,
) -> ApiResult<Vec<Record>> {
    let text = |vals: Vec<&Value>| vals.into_iter().map(key_text).collect::<Vec<_>>().join(",");
    let mut out = Vec::with_capacity(ids.len());
    for id in ids {
        let want = text(id.iter().collect());
        let found = rows.iter().find(|r| {
            text(
                key.iter()
                    .map(|k| r.get(k).unwrap_or(&Value::Null))
                    .collect(),
            ) == want
        });
        match found {
            Some(r) => out.push(
                r.iter()
                    .filter(|(k, _)| fields.contains(k))
                    .map(|(k, v)| (k.clone(), v.clone()))
                    .collect(),
            ),
            None => {
                return Err(
                    ApiError::not_found(format!("record '{want}' not found in '{table}'"))
                        .with_context(json!({"id": want})),
                );
            }
        }
    }
    Ok(out)
}

// ------------------------------------------------------------------ writes

/// The JSON pointer to field `f` of record `i` in a write body as it was sent.
fn pointer(body: Option<&Value>, i: usize, f: &str) -> String {
    let f = f.replace('~', "~0").replace('/', "~1");
    match body {
        Some(Value::Array(_)) => format!("/{i}/{f}"),
        Some(Value::Object(o)) if o.contains_key("resource") => {
            if o.get("resource").is_some_and(Value::is_array) {
                format!("/resource/{i}/{f}")
            } else {
                format!("/resource/{f}")
            }
        }
        _ => format!("/{f}"),
    }
}

/// The records of a write body: `{"resource": [...]}`, a bare array, or one object.
fn body_records(body: Option<&Value>) -> ApiResult<Vec<Record>> {
    let list = match body {
        None => {
            return Err(ApiError::new(
                Code::BadRequest,
                "a JSON body with the record(s) is required",
            ));
        }
        Some(Value::Object(o)) if o.contains_key("resource") => match o.get("resource") {
            Some(Value::Array(a)) => a.clone(),
            Some(Value::Object(one)) => vec![Value::Object(one.clone())],
            _ => {
                return Err(ApiError::new(
                    Code::BadRequest,
                    "'resource' must be a list of records",
                ));
            }
        },
        Some(Value::Array(a)) => a.clone(),
        Some(o @ Value::Object(_)) => vec![o.clone()],
        Some(_) => {
            return Err(ApiError::new(
                Code::BadRequest,
                "the body must be a record, a list of records, or {\"resource\": [...]}",
            ));
        }
    };
    if list.is_empty() {
        return Err(ApiError::new(Code::BadRequest, "no records given"));
    }
    list.into_iter()
        .enumerate()
        .map(|(i, v)| match v {
            Value::Object(o) => Ok(o),
            _ => Err(
                ApiError::new(Code::BadRequest, format!("record {i} is not a JSON object"))
                    .with_context(json!({"index": i})),
            ),
        })
        .collect()
}

fn batch_mode(p: &Params) -> ApiResult<BatchMode> {
    let cont = p.flag("continue")?;
    if cont && p.flag("rollback")? {
        return Err(ApiError::new(
            Code::InvalidParameter,
            "continue=true and rollback=true contradict each other",
        ));
    }
    Ok(if cont {
        BatchMode::Continue
    } else {
        BatchMode::Atomic
    })
}

/// Columns a write answers with: the key unless `fields` asks for more.
fn returning(table: &Table, p: &Params) -> ApiResult<Vec<String>> {
    Ok(p.fields(table)?.unwrap_or_default())
}

async fn create(service: &Service, table: &Arc<Table>, access: &Access, op: &TableOp) -> Answer {
    let view = &access.view;
    let records = body_records(op.body.as_ref())?;
    let invalid = access.check_records(&records, true, op.body.as_ref())?;
    let (returning, batch) = (returning(view, &op.params)?, batch_mode(&op.params)?);
    let outcomes = write_checked(records, invalid, batch, |records| async move {
        let req = InsertRequest {
            table: table.clone(),
            records,
            returning,
            batch,
            check: access.filter.clone(),
        };
        service.connector.insert(&req).await
    })
    .await?;
    write_response(outcomes, batch, StatusCode::CREATED, false, access)
}

/// The items of an update or delete, from the selector the request used,
/// each narrowed to the rows the caller may see.
fn write_items(access: &Access, op: &TableOp, updating: bool) -> ApiResult<(Vec<WriteItem>, bool)> {
    let (mut items, bare) = selected_items(&access.view, op, updating)?;
    for i in &mut items {
        i.filter = access.narrow(std::mem::replace(&mut i.filter, Expr::And(Vec::new())));
    }
    Ok((items, bare))
}

fn selected_items(
    table: &Table,
    op: &TableOp,
    updating: bool,
) -> ApiResult<(Vec<WriteItem>, bool)> {
    let p = &op.params;
    // The values of a selector-based update: one record.
    let single_values = || -> ApiResult<Record> {
        if !updating {
            return Ok(Record::new());
        }
        let mut recs = body_records(op.body.as_ref())?;
        if recs.len() != 1 {
            return Err(ApiError::new(
                Code::BadRequest,
                "give one record of new values with ids or filter",
            ));
        }
        Ok(recs.remove(0))
    };
    if let Some(id) = &op.id {
        let (key, values) = path_key(table, id)?;
        let item = WriteItem {
            filter: key_filter(&key, values),
            values: single_values()?,
            expect_row: true,
        };
        return Ok((vec![item], true));
    }
    if let Some((key, ids)) = requested_ids(table, p)? {
        let values = single_values()?;
        let items = ids
            .into_iter()
            .map(|id| WriteItem {
                filter: key_filter(&key, id),
                values: values.clone(),
                expect_row: true,
            })
            .collect();
        return Ok((items, false));
    }
    if let Some(filter) = p.filter(table)? {
        return Ok((
            vec![WriteItem {
                filter,
                values: single_values()?,
                expect_row: false,
            }],
            false,
        ));
    }
    if op.body.is_none()
        || (!updating && matches!(&op.body, Some(Value::Object(o)) if o.is_empty()))
    {
        if p.flag("force")? {
            return Ok((
                vec![WriteItem {
                    filter: Expr::And(Vec::new()),
                    values: single_values()?,
                    expect_row: false,
                }],
                false,
            ));
        }
        return Err(ApiError::new(
            Code::MissingSelector,
            "say which records: an id, ids, a filter, or records with their keys (force=true with no selector means every record)",
        ));
    }
    // Records carrying their own keys.
    let records = body_records(op.body.as_ref())?;
    if table.primary_key.is_empty() {
        return Err(ApiError::new(
            Code::NoPrimaryKey,
            format!(
                "'{}' has no primary key; select records with a filter",
                table.name
            ),
        ));
    }
    let key = table.primary_key.clone();
    let mut items = Vec::with_capacity(records.len());
    for (i, mut r) in records.into_iter().enumerate() {
        let mut values = Vec::with_capacity(key.len());
        for k in &key {
            match r.remove(k) {
                Some(v) if !v.is_null() => values.push(v),
                _ => {
                    return Err(ApiError::new(
                        Code::MissingSelector,
                        format!("record {i} lacks its key field '{k}'"),
                    )
                    .with_context(json!({"index": i, "field": k})));
                }
            }
        }
        items.push(WriteItem {
            filter: key_filter(&key, values),
            values: r,
            expect_row: true,
        });
    }
    Ok((items, false))
}

async fn update(service: &Service, table: &Arc<Table>, access: &Access, op: &TableOp) -> Answer {
    if op.body.is_none() {
        return Err(ApiError::new(
            Code::BadRequest,
            "a JSON body with the new values is required",
        ));
    }
    let replace = op.method == Method::PUT;
    if replace && !access.hidden.is_empty() {
        // A replacement would reset the columns the role cannot see.
        return Err(ApiError::new(
            Code::Forbidden,
            format!(
                "this role may not replace whole records of '{}' (some of its fields are hidden); use PATCH",
                table.name
            ),
        ));
    }
    let (items, bare) = write_items(access, op, true)?;
    let values: Vec<Record> = items.iter().map(|i| i.values.clone()).collect();
    let invalid = access.check_records(&values, false, op.body.as_ref())?;
    let (returning, batch) = (
        returning(&access.view, &op.params)?,
        batch_mode(&op.params)?,
    );
    let outcomes = write_checked(items, invalid, batch, |items| async move {
        let req = UpdateRequest {
            table: table.clone(),
            items,
            replace,
            returning,
            batch,
            check: access.filter.clone(),
        };
        service.connector.update(&req).await
    })
    .await?;
    write_response(outcomes, batch, StatusCode::OK, bare, access)
}

async fn delete(service: &Service, table: &Arc<Table>, access: &Access, op: &TableOp) -> Answer {
    let (items, bare) = write_items(access, op, false)?;
    let (returning, batch) = (
        returning(&access.view, &op.params)?,
        batch_mode(&op.params)?,
    );
    let outcomes = write_checked(items, Vec::new(), batch, |items| async move {
        let req = DeleteRequest {
            table: table.clone(),
            items,
            returning,
            batch,
        };
        service.connector.delete(&req).await
    })
    .await?;
    write_response(outcomes, batch, StatusCode::OK, bare, access)
}

/// One record's part in a write.
enum Outcome {
    /// Written; the affected rows.
    Done(Vec<Record>),
    Failed(ApiError),
    /// Not attempted (an atomic batch that failed elsewhere).
    Skipped,
}

/// Writes the items that passed the checks with `write` (unless an atomic
/// batch already failed them) and puts each outcome back at its item's index.
async fn write_checked<T, F, Fut>(
    items: Vec<T>,
    invalid: Vec<(usize, ApiError)>,
    mode: BatchMode,
    write: F,
) -> ApiResult<Vec<Outcome>>
where
    F: FnOnce(Vec<T>) -> Fut,
    Fut: std::future::Future<Output = Result<Vec<ItemOutcome>, gatehouse_core::ConnectorError>>,
{
    let total = items.len();
    let mut out: Vec<Outcome> = (0..total).map(|_| Outcome::Skipped).collect();
    let mut bad = vec![false; total];
    for (i, e) in invalid {
        bad[i] = true;
        out[i] = Outcome::Failed(e);
    }
    let stop = bad.iter().any(|b| *b) && mode == BatchMode::Atomic;
    let (indexes, good): (Vec<usize>, Vec<T>) = items
        .into_iter()
        .enumerate()
        .filter(|(i, _)| !bad[*i])
        .unzip();
    if stop || good.is_empty() {
        return Ok(out);
    }
    let done = write(good).await.map_err(connector_err(true))?;
    for (i, o) in indexes.into_iter().zip(done) {
        out[i] = match o {
            ItemOutcome::Done(rows) => Outcome::Done(rows),
            ItemOutcome::Failed(e) => Outcome::Failed(ApiError::from_connector(e, true)),
            ItemOutcome::Skipped => Outcome::Skipped,
        };
    }
    Ok(out)
}

/// The answer to a write: the affected records, or the contract's batch error.
fn write_response(
    mut outcomes: Vec<Outcome>,
    mode: BatchMode,
    ok: StatusCode,
    bare: bool,
    access: &Access,
) -> Answer {
    for o in &mut outcomes {
        if let Outcome::Done(rows) = o {
            access.strip(rows);
        }
    }
    let single = outcomes.len() == 1;
    let mut failed: Vec<(usize, ApiError)> = Vec::new();
    let mut results: Vec<Value> = Vec::with_capacity(outcomes.len());
    let mut rows: Vec<Value> = Vec::new();
    for (i, o) in outcomes.into_iter().enumerate() {
        match o {
            Outcome::Done(rs) => {
                let rs: Vec<Value> = rs.into_iter().map(Value::Object).collect();
                rows.extend(rs.iter().cloned());
                results.push(Value::Array(rs));
            }
            Outcome::Failed(e) => {
                failed.push((i, e));
                results.push(Value::Null);
            }
            Outcome::Skipped => results.push(Value::Null),
        }
    }
    if failed.is_empty() {
        if bare {
            return Ok((ok, rows.into_iter().next().unwrap_or_else(|| json!({}))));
        }
        return Ok((ok, json!({ "resource": rows })));
    }
    if single {
        return Err(failed.remove(0).1);
    }
    let indexes: Vec<usize> = failed.iter().map(|(i, _)| *i).collect();
    let errors: Vec<Value> = failed.iter().map(|(i, e)| e.to_item(*i)).collect();
    let first = &failed[0];
    match mode {
        BatchMode::Atomic => {
            let mut e = ApiError::new(
                Code::BatchFailed,
                format!(
                    "record {} failed ({}); the batch was rolled back and nothing was written",
                    first.0, first.1.message
                ),
            )
            .with_context(json!({"failed": indexes, "errors": errors}));
            e.status = Some(first.1.status());
            Err(e)
        }
        BatchMode::Continue => Err(ApiError::new(
            Code::BatchFailed,
            format!(
                "{} of {} records failed; the others were written",
                indexes.len(),
                results.len()
            ),
        )
        .with_context(json!({"failed": indexes, "errors": errors, "resource": results}))),
    }
}
