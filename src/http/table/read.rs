//! Reads: one record by key, a page of a list (filter, order, paging, `ids`
//! in the order asked, counts), and the streamed export.

use super::{
    Access, ApiError, ApiResult, AppState, Arc, Code, Content, CountMode, ExportFormat, Expr,
    IntoResponse, Params, Principal, Record, Resource, Response, Rows, SelectRequest, Service,
    StatusCode, StreamExt, Table, TableOp, Value, connector_err, header, ids_filter, json,
    key_filter, key_text, path_key, requested_ids,
};

pub(super) async fn read(
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
        let (key, values) = path_key(view, id, p, false)?;
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

    // DreamFactory's list options: the keys alone, or the schema beside the rows
    let as_list = p.flag("as_list")?;
    let include_schema = p.flag("include_schema")?;
    if as_list || include_schema {
        let key = super::keys::ids_key(view, p)?;
        let fields = if as_list { key.clone() } else { fields };
        let list = List::of(service, table, access, p, &fields, Paging::Page(max))?;
        let (status, content) = page(service, table, list, p, &fields).await?;
        let mut v = content.into_value()?;
        if as_list && let Some(Value::Array(rows)) = v.get_mut("resource") {
            for r in rows.iter_mut() {
                let mut parts: Vec<Value> = key.iter().map(|k| r[k].take()).collect();
                *r = if parts.len() == 1 {
                    parts.remove(0)
                } else {
                    Value::String(
                        parts
                            .iter()
                            .map(|x| x.as_str().map_or_else(|| x.to_string(), str::to_string))
                            .collect::<Vec<_>>()
                            .join(","),
                    )
                };
            }
        }
        if include_schema && let Some(o) = v.as_object_mut() {
            let meta = o.entry("meta").or_insert_with(|| json!({}));
            meta["schema"] = crate::http::schema::describe(view);
        }
        return Ok((status, Content::Value(v)));
    }
    let list = List::of(service, table, access, p, &fields, Paging::Page(max))?;
    page(service, table, list, p, &fields).await
}

/// One page of a list, enveloped.
async fn page(
    service: &Service,
    table: &Arc<Table>,
    list: List,
    p: &Params,
    fields: &[String],
) -> ApiResult<(StatusCode, Content)> {
    let (req, ids, count, offset, limit) =
        (list.req, list.ids, list.count, list.offset, list.limit);
    let chose_values = p.has("filter") || ids.is_some();
    let out = service
        .connector
        .select(&req)
        .await
        .map_err(|e| read_err(table, chose_values, e))?;
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
            fields,
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
pub(super) async fn export(
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
        .authorize(caller, &op.service, Resource::Export(&table.name), "GET")
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
    let mut resp = (
        [(header::CONTENT_TYPE, format.content_type())],
        axum::body::Body::from_stream(body),
    )
        .into_response();
    if let Some((file, _)) = op.params.file()?
        && let Ok(v) = header::HeaderValue::from_str(&format!("attachment; filename=\"{file}\""))
    {
        resp.headers_mut().insert(header::CONTENT_DISPOSITION, v);
    }
    Ok(resp)
}

/// How many rows a list may return.
pub(super) enum Paging {
    /// A page: `limit`, at most this many (the service's `max_records`).
    Page(u64),
    /// An export: `limit` if given, else every row.
    All,
}

/// A list request (`GET` on a table without an id), as the connector gets it.
/// A list's error. A data exception the database raised while computing
/// rows the caller chose no values for is the database's (a view whose own
/// SQL fails: division by zero, a bad cast): 500, logged with the table,
/// rather than 400 blaming the caller.
fn read_err(table: &Table, chose_values: bool, e: gatehouse_core::ConnectorError) -> ApiError {
    if !chose_values
        && e.kind == gatehouse_core::ErrorKind::InvalidValue
        && e.public.is_none()
        && e.field.is_none()
    {
        return ApiError::internal(format_args!(
            "the database could not compute the rows of '{}': {}",
            table.name, e.detail
        ));
    }
    connector_err(false)(e)
}

/// An order that gives every row one place: the primary key, else a unique
/// column; none for a table with neither (a view), which pages as the
/// database reads it.
fn stable_order(table: &Table) -> Vec<gatehouse_core::OrderBy> {
    let key: Vec<String> = if table.primary_key.is_empty() {
        table
            .columns
            .iter()
            .find(|c| c.is_unique)
            .map(|c| vec![c.name.clone()])
            .unwrap_or_default()
    } else {
        table.primary_key.clone()
    };
    key.into_iter()
        .map(|field| gatehouse_core::OrderBy {
            field,
            descending: false,
            nulls_first: None,
        })
        .collect()
}

pub(super) struct List {
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
        let nulls = service.connector.capabilities().nulls;
        if let Some(o) = order
            .iter()
            .find(|o| o.nulls_first.is_some_and(|f| !nulls.can(o.descending, f)))
        {
            let (dir, place) = if o.descending {
                ("desc", "last")
            } else {
                ("asc", "first")
            };
            return Err(ApiError::new(
                Code::NotImplemented,
                format!(
                    "this database sorts nulls as the lowest values: '{} {dir}' puts them {place}",
                    o.field
                ),
            )
            .with_context(json!({"parameter": "order", "field": o.field})));
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
        // A page cut without an order would be cut from whatever order the
        // database reads in, which an update changes (PostgreSQL moves the
        // row): pages would skip and repeat rows. The key orders them.
        let mut order = order;
        let cut = matches!(paging, Paging::Page(_)) || asked.is_some() || offset > 0;
        if order.is_empty() && ids.is_none() && count != CountMode::Only && cut {
            order = stable_order(table);
        }
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
pub(super) fn order_by_ids(
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
