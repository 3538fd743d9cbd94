//! Writes: the records of a body, the items an update or delete selects,
//! batches and their outcomes, the answer's envelope.

use super::{
    Access, Answer, ApiError, ApiResult, Arc, BatchMode, Code, DeleteRequest, Expr, InsertRequest,
    ItemOutcome, Method, Params, Record, Service, StatusCode, Table, TableOp, UpdateRequest, Value,
    WriteItem, connector_err, json, key_filter, path_key, requested_ids,
};

/// The JSON pointer to field `f` of record `i` in a write body as it was sent.
pub(super) fn pointer(body: Option<&Value>, i: usize, f: &str) -> String {
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
pub(super) fn body_records(body: Option<&Value>) -> ApiResult<Vec<Record>> {
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

pub(super) fn batch_mode(p: &Params) -> ApiResult<BatchMode> {
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
pub(super) fn returning(table: &Table, p: &Params) -> ApiResult<Vec<String>> {
    Ok(p.fields(table)?.unwrap_or_default())
}

pub(super) async fn create(
    service: &Service,
    table: &Arc<Table>,
    access: &Access,
    op: &TableOp,
) -> Answer {
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
pub(super) fn write_items(
    access: &Access,
    op: &TableOp,
    updating: bool,
) -> ApiResult<(Vec<WriteItem>, bool)> {
    let (mut items, bare) = selected_items(&access.view, op, updating)?;
    for i in &mut items {
        i.filter = access.narrow(std::mem::replace(&mut i.filter, Expr::And(Vec::new())));
    }
    Ok((items, bare))
}

pub(super) fn selected_items(
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
        let (key, values) = path_key(table, id, &op.params, true)?;
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

pub(super) async fn update(
    service: &Service,
    table: &Arc<Table>,
    access: &Access,
    op: &TableOp,
) -> Answer {
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

pub(super) async fn delete(
    service: &Service,
    table: &Arc<Table>,
    access: &Access,
    op: &TableOp,
) -> Answer {
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
pub(super) enum Outcome {
    /// Written; the affected rows.
    Done(Vec<Record>),
    Failed(ApiError),
    /// Not attempted (an atomic batch that failed elsewhere).
    Skipped,
}

/// Writes the items that passed the checks with `write` (unless an atomic
/// batch already failed them) and puts each outcome back at its item's index.
pub(super) async fn write_checked<T, F, Fut>(
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
pub(super) fn write_response(
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
