//! Records addressed by key: a path `{id}`, `ids` (with `id_field`), and the
//! filters that select them.

use super::{ApiError, ApiResult, Code, Expr, Params, Table, Value, split_key};

pub(super) fn require_key(table: &Table) -> ApiResult<Vec<String>> {
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
pub(super) fn key_filter(key: &[String], values: Vec<Value>) -> Expr {
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
pub(super) fn ids_filter(key: &[String], ids: &[Vec<Value>]) -> Expr {
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

/// The key values of a path `{id}`: of the primary key, or of the columns
/// `id_field` names (`/customers/a@x.test?id_field=email`), which for a
/// write must be the primary key or one unique column (a write by path
/// changes one record).
pub(super) fn path_key(
    table: &Table,
    id: &str,
    p: &Params,
    writing: bool,
) -> ApiResult<(Vec<String>, Vec<Value>)> {
    let key = ids_key(table, p)?;
    let unique = key == table.primary_key
        || matches!(key.as_slice(), [one] if table.column(one).is_some_and(|c| c.is_unique));
    if writing && !unique {
        return Err(ApiError::new(
            Code::InvalidParameter,
            format!(
                "a write by path changes one record: 'id_field' must be the primary key or a unique column of '{}'",
                table.name
            ),
        )
        .with_context(serde_json::json!({"parameter": "id_field"})));
    }
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
pub(super) fn ids_key(table: &Table, params: &Params) -> ApiResult<Vec<String>> {
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
pub(super) type Ids = (Vec<String>, Vec<Vec<Value>>);

/// The `ids` asked for, with the key columns they refer to.
/// The `ids` asked for, with the key columns they refer to; a tunnelled GET
/// may name them as records instead (`{"resource": [{"id": 1}, ...]}`).
pub(super) fn requested_ids(table: &Table, p: &Params) -> ApiResult<Option<Ids>> {
    if let Some(records) = p.records() {
        if p.has("ids") {
            return Err(ApiError::new(
                Code::BadRequest,
                "give the records to read either as 'ids' or as 'resource', not both",
            ));
        }
        let key = ids_key(table, p)?;
        let ids = records_keys(table, &key, records)?;
        p.check_id_count(ids.len())?;
        return Ok(Some((key, ids)));
    }
    if !p.has("ids") {
        return Ok(None);
    }
    let key = ids_key(table, p)?;
    Ok(p.ids(key.len())?.map(|ids| (key, ids)))
}

/// The key values of each record in `records` (a JSON array of objects).
fn records_keys(table: &Table, key: &[String], records: &Value) -> ApiResult<Vec<Vec<Value>>> {
    let Value::Array(records) = records else {
        return Err(ApiError::new(
            Code::BadRequest,
            "'resource' must be an array of records",
        ));
    };
    records
        .iter()
        .enumerate()
        .map(|(i, r)| {
            key.iter()
                .map(|k| match r.get(k) {
                    Some(v) if !v.is_null() => Ok(v.clone()),
                    _ => Err(ApiError::new(
                        Code::MissingField,
                        format!(
                            "record {i} of 'resource' lacks its key '{k}' ('{}')",
                            table.name
                        ),
                    )
                    .with_context(serde_json::json!({"field": k, "index": i}))),
                })
                .collect()
        })
        .collect()
}

/// Text of a key value, for matching records to the ids asked for.
pub(super) fn key_text(v: &Value) -> String {
    match v {
        Value::String(s) => s.to_ascii_lowercase(),
        other => other.to_string().to_ascii_lowercase(),
    }
}
