//! OpenAPI 3.1 descriptions (docs/API.md §8), generated from the live catalog:
//! one typed record schema per table, the query parameters, a request body per
//! verb, the error envelope and the security schemes.
//!
//! A document is built for a caller: it shows the tables the caller's role may
//! read and leaves out the columns hidden from it, like `_table` and `_schema`.

pub mod system;

use gatehouse_core::catalog::IntRange;
use gatehouse_core::{ApiType, Column, Table};
use serde_json::{Map, Value, json};

/// The JSON Schema of one column's values.
pub fn column_schema(c: &Column) -> Value {
    let mut s = match c.api_type {
        ApiType::Integer => json!({"type": "integer", "format": "int32"}),
        ApiType::Bigint => json!({"type": "integer", "format": "int64"}),
        // exact decimals are JSON numbers written from the database's text
        ApiType::Decimal => json!({"type": "number"}),
        ApiType::Float => json!({"type": "number", "format": "double"}),
        ApiType::Boolean => json!({"type": "boolean"}),
        ApiType::String | ApiType::Text => json!({"type": "string"}),
        ApiType::Date => json!({"type": "string", "format": "date"}),
        ApiType::Time => json!({"type": "string", "format": "time"}),
        // a date and time that may lack a zone (SQLite keeps what it was given)
        ApiType::Datetime => {
            json!({"type": "string", "pattern": "^\\d{4}-\\d{2}-\\d{2}[T ]\\d{2}:\\d{2}:\\d{2}(\\.\\d+)?([Zz]|[+-]\\d{2}(:?\\d{2})?)?$"})
        }
        ApiType::Timestamp => json!({"type": "string", "format": "date-time"}),
        ApiType::Uuid => json!({"type": "string", "format": "uuid"}),
        ApiType::Binary => json!({"type": "string", "contentEncoding": "base64"}),
        ApiType::Json => json!({}),
        ApiType::ObjectId => json!({"type": "string", "pattern": "^[0-9a-fA-F]{24}$"}),
        ApiType::Array => json!({"type": "array"}),
        ApiType::Object => json!({"type": "object"}),
    };
    if let Some(o) = s.as_object_mut() {
        if let (Some(n), true) = (c.length, c.api_type.is_textual()) {
            o.insert("maxLength".into(), json!(n));
        }
        if let Some(values) = &c.values {
            let mut list: Vec<Value> = values.iter().map(|v| json!(v)).collect();
            if c.allow_null && !c.is_primary_key {
                list.push(Value::Null);
            }
            o.insert("enum".into(), Value::Array(list));
        }
        // single precision (24 binary digits, as information_schema counts
        // them) where the engine says so
        if c.api_type == ApiType::Float && c.precision.is_some_and(|p| p <= 24) {
            o.insert("format".into(), json!("float"));
        }
        if let Some(r) = c.range {
            // the format says 32 or 64 bits; a narrower or unsigned range is spelled out
            let (format, full) = if r.min >= i128::from(i32::MIN) && r.max <= i128::from(i32::MAX) {
                ("int32", IntRange::bits(32, false))
            } else {
                ("int64", IntRange::bits(64, false))
            };
            o.insert("format".into(), json!(format));
            if r != full {
                o.insert("minimum".into(), json!(r.min));
                o.insert("maximum".into(), json!(r.max));
            }
        }
        if c.allow_null && !c.is_primary_key {
            // 3.1: nullability is a type list
            if let Some(Value::String(t)) = o.get("type").cloned() {
                o.insert("type".into(), json!([t, "null"]));
            }
        }
        // what the server refuses to write; an auto-increment key may be given
        if c.generated {
            o.insert("readOnly".into(), json!(true));
        }
        if let Some(d) = &c.description {
            o.insert("description".into(), json!(d));
        }
    }
    s
}

/// Whether `v` (not null) is a value of `c`'s schema, as [`column_schema`]
/// describes it: the check every write body goes through before a connector,
/// so every engine refuses the same values. `Err` says what was expected.
///
/// Two input forms are accepted beyond the schema, as the contract always
/// has: a number as numeric text (so a client whose numbers are doubles can
/// still send a 64-bit integer or an exact decimal; an integer column takes
/// integer text only), and 0/1 for a boolean.
pub fn check_value(c: &Column, v: &Value) -> Result<(), String> {
    use gatehouse_core::value::{
        decode_base64, is_date, is_datetime, is_decimal, is_time, is_uuid,
    };
    let ok = match c.api_type {
        ApiType::Integer | ApiType::Bigint => {
            let n = match v {
                Value::Number(n) => n.to_string().parse::<i128>().ok(),
                Value::String(s) => s.trim().parse::<i128>().ok(),
                _ => None,
            };
            let Some(n) = n else {
                return Err(expected(c.api_type).to_string());
            };
            let r = c.range.unwrap_or(IntRange::ANY);
            if n < r.min || n > r.max {
                return Err(format!("an integer between {} and {}", r.min, r.max));
            }
            true
        }
        ApiType::Decimal | ApiType::Float => {
            let text = match v {
                Value::Number(n) => n.to_string(),
                Value::String(s) if is_decimal(s.trim()) => s.trim().to_string(),
                _ => return Err(expected(c.api_type).to_string()),
            };
            check_number(c, &text)?;
            true
        }
        ApiType::Boolean => v.is_boolean() || matches!(v.as_u64(), Some(0 | 1)),
        ApiType::String | ApiType::Text => v.is_string(),
        ApiType::Date => v.as_str().is_some_and(is_date),
        ApiType::Time => v.as_str().is_some_and(is_time),
        ApiType::Datetime | ApiType::Timestamp => v.as_str().is_some_and(is_datetime),
        ApiType::Uuid => v.as_str().is_some_and(is_uuid),
        ApiType::Binary => v.as_str().and_then(decode_base64).is_some(),
        ApiType::Json => true,
        ApiType::ObjectId => v
            .as_str()
            .is_some_and(|s| s.len() == 24 && s.bytes().all(|b| b.is_ascii_hexdigit())),
        ApiType::Array => v.is_array(),
        ApiType::Object => v.is_object(),
    };
    if !ok {
        return Err(expected(c.api_type).to_string());
    }
    if let (Some(values), Some(s)) = (&c.values, v.as_str())
        && !values.iter().any(|x| x == s)
    {
        return Err(format!("one of {}", values.join(", ")));
    }
    if c.spatial
        && v.as_str()
            .is_none_or(|s| s.parse::<wkt::Wkt<f64>>().is_err())
    {
        return Err("WKT text such as 'POINT(1 2)'".into());
    }
    if let (Some(max), Some(s)) = (c.length, v.as_str())
        && c.api_type.is_textual()
        && i64::try_from(s.chars().count()).unwrap_or(i64::MAX) > max
    {
        return Err(format!("at most {max} characters"));
    }
    Ok(())
}

/// A number within what the column holds: an exact decimal's digits within
/// its precision and scale; otherwise (floats, decimals of no declared
/// precision) a finite double — `1e400` would be stored as infinity by some
/// engines and refused as out of range by others.
fn check_number(c: &Column, text: &str) -> Result<(), String> {
    use gatehouse_core::value::decimal_digits;
    if let (ApiType::Decimal, Some(p)) = (c.api_type, c.precision) {
        let scale = c.scale.unwrap_or(0).max(0) as u64;
        let whole = (p.max(0) as u64).saturating_sub(scale);
        return match decimal_digits(text) {
            Some((before, after)) if before <= whole && after <= scale => Ok(()),
            _ => Err(format!(
                "a number of at most {whole} digits before the point and {scale} after"
            )),
        };
    }
    if text.parse::<f64>().is_ok_and(f64::is_finite) {
        Ok(())
    } else {
        Err("a finite number (within a double's range)".into())
    }
}

/// What a value of `t` looks like, for error messages.
pub fn expected(t: ApiType) -> &'static str {
    match t {
        ApiType::Integer | ApiType::Bigint => "an integer",
        ApiType::Decimal | ApiType::Float => "a number",
        ApiType::Boolean => "true or false",
        ApiType::String | ApiType::Text => "a string",
        ApiType::Date => "a date (YYYY-MM-DD)",
        ApiType::Time => "a time (HH:MM[:SS])",
        ApiType::Datetime | ApiType::Timestamp => "an RFC 3339 date-time",
        ApiType::Uuid => "a UUID string",
        ApiType::Binary => "base64 text",
        ApiType::Json => "any JSON value",
        ApiType::ObjectId => "a 24-digit hex ObjectId string",
        ApiType::Array => "an array",
        ApiType::Object => "an object",
    }
}

/// The schema of a table's records; `required` lists what an insert must give.
pub fn record_schema(t: &Table) -> Value {
    let properties: Map<String, Value> = t
        .columns
        .iter()
        .map(|c| (c.name.clone(), column_schema(c)))
        .collect();
    let required: Vec<&str> = t
        .columns
        .iter()
        .filter(|c| c.is_required())
        .map(|c| c.name.as_str())
        .collect();
    let mut s = json!({
        "type": "object",
        "properties": properties,
        // a schemaless collection may hold fields its sample did not show
        "additionalProperties": t.inferred,
    });
    if let Some(o) = s.as_object_mut() {
        if !required.is_empty() && !t.inferred {
            o.insert("required".into(), json!(required));
        }
        if let Some(d) = &t.description {
            o.insert("description".into(), json!(d));
        }
    }
    s
}

/// What an operation takes as its body.
#[derive(Clone, Copy)]
enum Body {
    None,
    /// A whole record (create, replace).
    Full,
    /// Some fields (update).
    Partial,
}

/// One operation of the table API, as described.
struct Operation {
    method: &'static str,
    summary: &'static str,
    id: &'static str,
    body: Body,
    status: &'static str,
    answer: &'static str,
    errors: &'static [&'static str],
}

const fn operation(
    method: &'static str,
    summary: &'static str,
    id: &'static str,
    body: Body,
    status: &'static str,
    answer: &'static str,
    errors: &'static [&'static str],
) -> Operation {
    Operation {
        method,
        summary,
        id,
        body,
        status,
        answer,
        errors,
    }
}

/// `/{service}/_table/{table}`
const COLLECTION_OPS: &[Operation] = &[
    operation("get", "List", "list", Body::None, "200", "The records", &[]),
    operation(
        "post",
        "Create records of",
        "create",
        Body::Full,
        "201",
        "The created records (their keys, or `fields`)",
        &["409", "422"],
    ),
    operation(
        "patch",
        "Update records of",
        "update",
        Body::Partial,
        "200",
        "The updated records",
        &["404", "409", "422"],
    ),
    operation(
        "put",
        "Replace records of",
        "replace",
        Body::Full,
        "200",
        "The replaced records",
        &["404", "409", "422"],
    ),
    operation(
        "delete",
        "Delete records of",
        "delete",
        Body::None,
        "200",
        "The deleted records",
        &["404", "409"],
    ),
];

/// `/{service}/_table/{table}/{id}`
const RECORD_OPS: &[Operation] = &[
    operation(
        "get",
        "One record of",
        "get",
        Body::None,
        "200",
        "The record",
        &["404"],
    ),
    operation(
        "patch",
        "Update one record of",
        "updateOne",
        Body::Partial,
        "200",
        "The updated record",
        &["404", "409", "422"],
    ),
    operation(
        "put",
        "Replace one record of",
        "replaceOne",
        Body::Full,
        "200",
        "The replaced record",
        &["404", "409", "422"],
    ),
    operation(
        "delete",
        "Delete one record of",
        "deleteOne",
        Body::None,
        "200",
        "The deleted record",
        &["404", "409"],
    ),
];

/// A component name for `table` (OpenAPI allows `[A-Za-z0-9._-]`), distinct from `taken`.
fn component_name(table: &str, taken: &[String]) -> String {
    let base: String = table
        .chars()
        .map(|c| {
            if c.is_ascii_alphanumeric() || matches!(c, '.' | '_' | '-') {
                c
            } else {
                '_'
            }
        })
        .collect();
    let mut name = base.clone();
    let mut n = 2;
    while taken.contains(&name) {
        name = format!("{base}_{n}");
        n += 1;
    }
    name
}

/// `table` as a path segment.
fn segment(table: &str) -> String {
    url::form_urlencoded::byte_serialize(table.as_bytes())
        .collect::<String>()
        .replace('+', "%20")
}

fn reference(kind: &str, name: &str) -> Value {
    json!({"$ref": format!("#/components/{kind}/{name}")})
}

fn json_content(schema: Value) -> Value {
    json!({"application/json": {"schema": schema}})
}

/// The query parameters of the table API (docs/API.md §3).
fn parameters() -> Map<String, Value> {
    let p = |name: &str, schema: Value, description: &str| {
        (
            name.to_string(),
            json!({"name": name, "in": "query", "required": false, "schema": schema, "description": description}),
        )
    };
    [
        p(
            "fields",
            json!({"type": "string"}),
            "Comma-separated fields to return, or `*`.",
        ),
        p(
            "filter",
            json!({"type": "string"}),
            "A filter in the filter language, e.g. `price > 10 and name like 'A%'`.",
        ),
        // published as `filter_params`: generated clients (openapi-python-client,
        // and others with a local named `params`) collide with `params`; the
        // server takes both names
        p(
            "filter_params",
            json!({"type": "string"}),
            "A JSON object of values for `:name` parameters in `filter` (`{\"r\": \"north\"}`); also accepted as `params`.",
        ),
        p(
            "limit",
            json!({"type": "integer", "minimum": 0}),
            "Page size (capped by the service's max_records).",
        ),
        p(
            "offset",
            json!({"type": "integer", "minimum": 0}),
            "Records to skip.",
        ),
        p(
            "order",
            json!({"type": "string"}),
            "`field [asc|desc] [nulls first|nulls last]`, comma separated.",
        ),
        p(
            "include_count",
            json!({"type": "boolean"}),
            "Add `meta.count`, the number of matching records.",
        ),
        p(
            "format",
            json!({"type": "string", "enum": ["json", "ndjson", "csv"]}),
            "`ndjson` or `csv` (or `Accept: application/x-ndjson`, `text/csv`): the records \
             streamed as lines, without the page cap when the role may `GET` `_export/{table}`.",
        ),
        p(
            "count_only",
            json!({"type": "boolean"}),
            "Answer only the number of matching records.",
        ),
        p(
            "ids",
            json!({"type": "string"}),
            "Comma-separated keys (`;` between composite keys).",
        ),
        p(
            "id_field",
            json!({"type": "string"}),
            "The field(s) `ids` refers to, instead of the primary key.",
        ),
        p(
            "continue",
            json!({"type": "boolean"}),
            "Write each record on its own; the good ones are kept.",
        ),
        p(
            "rollback",
            json!({"type": "boolean"}),
            "Write all records or none (the default).",
        ),
        p(
            "force",
            json!({"type": "boolean"}),
            "With no other selector: update or delete every record.",
        ),
    ]
    .into_iter()
    .collect()
}

fn error_schema() -> Value {
    json!({
        "type": "object",
        "required": ["error"],
        "properties": {"error": {
            "type": "object",
            "required": ["code", "status_code", "message"],
            "properties": {
                "code": {"type": "string"},
                "status_code": {"type": "integer"},
                "message": {"type": "string"},
                "context": {"type": "object"}
            }
        }}
    })
}

fn security_schemes() -> Value {
    json!({
        "api_key": {"type": "apiKey", "in": "header", "name": "X-API-Key"},
        "api_key_query": {"type": "apiKey", "in": "query", "name": "api_key"},
        "session": {"type": "http", "scheme": "bearer", "bearerFormat": "JWT"},
        "session_header": {"type": "apiKey", "in": "header", "name": "X-DreamFactory-Session-Token"}
    })
}

/// Error responses every operation may answer.
fn error_responses(extra: &[&str]) -> Map<String, Value> {
    ["400", "401", "403", "429", "503"]
        .iter()
        .chain(extra)
        .map(|code| (code.to_string(), reference("responses", "Error")))
        .collect()
}

/// The OpenAPI document of one service, over the tables given (the caller's view).
pub fn service_document(
    service: &str,
    title: &str,
    description: Option<&str>,
    tables: &[std::sync::Arc<Table>],
    allows: &dyn Fn(&str, &str) -> bool,
) -> Value {
    let params = parameters();
    let list_params: Vec<Value> = [
        "fields",
        "filter",
        "filter_params",
        "limit",
        "offset",
        "order",
        "include_count",
        "count_only",
        "ids",
        "id_field",
        "format",
    ]
    .iter()
    .map(|n| reference("parameters", n))
    .collect();
    let write_params: Vec<Value> = [
        "fields",
        "filter",
        "filter_params",
        "ids",
        "id_field",
        "continue",
        "rollback",
        "force",
    ]
    .iter()
    .map(|n| reference("parameters", n))
    .collect();
    let mut schemas = Map::new();
    schemas.insert("Error".into(), error_schema());
    let mut paths = Map::new();
    let mut taken: Vec<String> = vec!["Error".into()];
    for t in tables {
        let name = component_name(&t.name, &taken);
        let patch = format!("{name}.patch");
        let part = format!("{name}.partial");
        taken.push(name.clone());
        taken.push(patch.clone());
        taken.push(part.clone());
        let record = record_schema(t);
        let mut partial = record.clone();
        if let Some(o) = partial.as_object_mut() {
            o.remove("required");
        }
        // three names for three uses: `{table}` a whole record (a read's
        // answer, a create's body), `{table}.patch` an update's body,
        // `{table}.partial` an answer holding only the fields asked for
        // (`fields=`; a write's answer, which holds the key by default)
        schemas.insert(name.clone(), record);
        schemas.insert(patch.clone(), partial.clone());
        if let Some(o) = partial.as_object_mut() {
            o.insert(
                "description".into(),
                json!("A record with only the fields asked for (`fields`)."),
            );
        }
        schemas.insert(part.clone(), partial);
        let one = reference("schemas", &name);
        let some = reference("schemas", &patch);
        let fewer = reference("schemas", &part);
        // anyOf: a whole record is also a partial one (oneOf would refuse it)
        let read = json!({"anyOf": [one.clone(), fewer.clone()]});
        let envelope = |item: &Value| {
            json!({"type": "object", "properties": {
                "resource": {"type": "array", "items": item},
                "meta": {"type": "object", "properties": {"count": {"type": "integer"}, "next": {"type": "integer"}}}
            }})
        };
        let body = |item: &Value| {
            json!({"required": true, "content": json_content(json!({"oneOf": [
                item, {"type": "array", "items": item}, {"type": "object", "required": ["resource"], "properties": {"resource": {"type": "array", "items": item}}}
            ]}))})
        };
        let ok = |code: &str, what: &str, schema: Value, extra: &[&str]| {
            let mut r = error_responses(extra);
            r.insert(
                code.into(),
                json!({"description": what, "content": json_content(schema)}),
            );
            Value::Object(r)
        };
        let tag = t.name.clone();
        let op = |summary: String,
                  id: String,
                  params: &[Value],
                  responses: Value,
                  body: Option<Value>| {
            let mut o = json!({"tags": [tag.clone()], "summary": summary, "operationId": id, "parameters": params, "responses": responses});
            if let (Some(b), Some(m)) = (body, o.as_object_mut()) {
                m.insert("requestBody".into(), b);
            }
            o
        };
        let id_param = json!({"name": "id", "in": "path", "required": true, "schema": {"type": "string"},
            "description": "The primary key; a composite key's values joined by commas."});
        let fields = vec![reference("parameters", "fields")];
        for (on_record, ops) in [(false, COLLECTION_OPS), (true, RECORD_OPS)] {
            if on_record && t.primary_key.is_empty() {
                continue;
            }
            let mut item = Map::new();
            if on_record {
                item.insert("parameters".into(), json!([id_param]));
            }
            for o in ops {
                if o.method != "get"
                    && !(t.writable && allows(&t.name, &o.method.to_ascii_uppercase()))
                {
                    continue;
                }
                // answers hold the fields asked for (`fields`), so no field is required in them
                let (request, answer) = match (o.body, on_record) {
                    // a read answers whole records, or the fields asked for
                    (Body::None, _) if o.method == "get" => (None, &read),
                    (Body::None, _) => (None, &fewer),
                    (Body::Full, false) => (Some(body(&one)), &fewer),
                    (Body::Partial, false) => (Some(body(&some)), &fewer),
                    (Body::Full, true) => (
                        Some(json!({"required": true, "content": json_content(one.clone())})),
                        &fewer,
                    ),
                    (Body::Partial, true) => (
                        Some(json!({"required": true, "content": json_content(some.clone())})),
                        &fewer,
                    ),
                };
                let answer = if on_record {
                    answer.clone()
                } else if o.method == "get" {
                    json!({"oneOf": [envelope(answer), {"type": "integer", "minimum": 0, "description": "with count_only=true: the number of records"}]})
                } else {
                    envelope(answer)
                };
                let params = if on_record {
                    &fields
                } else if o.method == "get" {
                    &list_params
                } else {
                    &write_params
                };
                let mut responses = ok(o.status, o.answer, answer, o.errors);
                if !on_record
                    && o.method == "get"
                    && let Some(content) = responses
                        .pointer_mut(&format!("/{}/content", o.status))
                        .and_then(Value::as_object_mut)
                {
                    // `format=ndjson|csv`: one record per line
                    content.insert(
                        "application/x-ndjson".into(),
                        json!({"schema": {"type": "string"}}),
                    );
                    content.insert("text/csv".into(), json!({"schema": {"type": "string"}}));
                }
                item.insert(
                    o.method.into(),
                    op(
                        format!("{} {}", o.summary, t.name),
                        format!("{name}.{}", o.id),
                        params,
                        responses,
                        request,
                    ),
                );
            }
            let path = if on_record {
                format!("/{service}/_table/{}/{{id}}", segment(&t.name))
            } else {
                format!("/{service}/_table/{}", segment(&t.name))
            };
            paths.insert(path, Value::Object(item));
        }
    }
    let mut info = json!({"title": title, "version": env!("CARGO_PKG_VERSION")});
    if let (Some(d), Some(o)) = (description, info.as_object_mut()) {
        o.insert("description".into(), json!(d));
    }
    json!({
        "openapi": "3.1.0",
        "info": info,
        "servers": [{"url": "/api"}],
        "paths": paths,
        "components": {
            "schemas": schemas,
            "parameters": params,
            "responses": {"Error": {"description": "An error, in the contract's envelope", "content": json_content(reference("schemas", "Error"))}},
            "securitySchemes": security_schemes(),
        },
        "security": [{"api_key": []}, {"api_key_query": []}, {"session": []}, {"session_header": []}, {}],
    })
}

/// The whole instance in one document: each service's document under its
/// own names (component `{service}.{name}`, tags `{service}.{table}`), and the
/// system API (utoipa) beside them.
pub fn instance_document(services: Vec<(String, Value)>, system: Value) -> Value {
    let mut doc = json!({
        "openapi": "3.1.0",
        "info": {"title": "Gatehouse", "version": env!("CARGO_PKG_VERSION"),
                 "description": "Every service this caller may see, and the system API."},
        "servers": [{"url": "/api"}],
        "paths": {},
        "components": {
            "schemas": {"Error": error_schema()},
            "parameters": parameters(),
            "responses": {"Error": {"description": "An error, in the contract's envelope", "content": json_content(reference("schemas", "Error"))}},
            "securitySchemes": security_schemes(),
        },
        "security": [{"api_key": []}, {"api_key_query": []}, {"session": []}, {"session_header": []}, {}],
    });
    let mut add = |part: Value| {
        for section in ["paths", "components/schemas"] {
            let from = part
                .pointer(&format!("/{section}"))
                .and_then(Value::as_object);
            if let (Some(from), Some(Value::Object(to))) =
                (from, doc.pointer_mut(&format!("/{section}")))
            {
                for (k, v) in from {
                    to.entry(k.clone()).or_insert_with(|| v.clone());
                }
            }
        }
    };
    add(system);
    for (service, mut d) in services {
        let prefix = format!("{service}.");
        let renamed = |name: &str| {
            if name == "Error" {
                name.to_string()
            } else {
                format!("{prefix}{name}")
            }
        };
        if let Some(Value::Object(schemas)) = d.pointer_mut("/components/schemas") {
            let old = std::mem::take(schemas);
            *schemas = old.into_iter().map(|(k, v)| (renamed(&k), v)).collect();
        }
        rename_refs(&mut d, &|name| renamed(name), &prefix);
        add(d);
    }
    doc
}

/// Rewrites `$ref`s to component schemas, operation ids and tags of one
/// service's document for the instance document.
fn rename_refs(v: &mut Value, renamed: &dyn Fn(&str) -> String, prefix: &str) {
    const SCHEMAS: &str = "#/components/schemas/";
    match v {
        Value::Object(o) => {
            for (k, x) in o.iter_mut() {
                match (k.as_str(), x) {
                    ("$ref", Value::String(r)) if r.starts_with(SCHEMAS) => {
                        *r = format!("{SCHEMAS}{}", renamed(&r[SCHEMAS.len()..]));
                    }
                    ("operationId", Value::String(id)) => *id = format!("{prefix}{id}"),
                    ("tags", Value::Array(tags)) => {
                        for t in tags.iter_mut() {
                            if let Value::String(s) = t {
                                *s = format!("{prefix}{s}");
                            }
                        }
                    }
                    (_, x) => rename_refs(x, renamed, prefix),
                }
            }
        }
        Value::Array(a) => a.iter_mut().for_each(|x| rename_refs(x, renamed, prefix)),
        _ => {}
    }
}

/// A document as YAML text.
pub fn to_yaml(doc: &Value) -> Result<String, serde_norway::Error> {
    fn convert(v: &Value) -> serde_norway::Value {
        use serde_norway::Value as Y;
        match v {
            Value::Null => Y::Null,
            Value::Bool(b) => Y::Bool(*b),
            // arbitrary-precision numbers: through their text, exactly where they fit
            Value::Number(n) => {
                if let Some(i) = n.as_i64() {
                    Y::Number(i.into())
                } else if let Some(u) = n.as_u64() {
                    Y::Number(u.into())
                } else {
                    Y::Number(n.as_f64().unwrap_or(f64::NAN).into())
                }
            }
            Value::String(s) => Y::String(s.clone()),
            Value::Array(a) => Y::Sequence(a.iter().map(convert).collect()),
            Value::Object(o) => Y::Mapping(
                o.iter()
                    .map(|(k, v)| (Y::String(k.clone()), convert(v)))
                    .collect(),
            ),
        }
    }
    serde_norway::to_string(&convert(doc))
}

#[cfg(test)]
mod tests {

    #[test]
    fn values_are_checked_as_the_schema_says() {
        use gatehouse_core::ApiType as T;
        let col = |t: T, len: Option<i64>| {
            let mut c = Column::new("f", t, "x");
            c.length = len;
            c
        };
        for (t, v, ok) in [
            (T::Integer, json!(5), true),
            (T::Integer, json!("5"), true),
            (T::Integer, json!(5.5), false),
            (T::Integer, json!("five"), false),
            (T::Bigint, json!(9_007_199_254_740_993_u64), true),
            (T::Decimal, json!("98765.432100"), true),
            (T::Decimal, json!("-1e5"), true),
            (T::Decimal, json!("1,5"), false),
            (T::Decimal, json!(true), false),
            (T::Float, json!(0.25), true),
            (T::Float, json!([1]), false),
            (T::Boolean, json!(false), true),
            (T::Boolean, json!(1), true),
            (T::Boolean, json!(2), false),
            (T::Boolean, json!("yes"), false),
            (T::String, json!("x"), true),
            (T::String, json!(5), false),
            (T::Date, json!("2024-02-29"), true),
            (T::Date, json!("29/02/2024"), false),
            (T::Time, json!("23:59:59"), true),
            (T::Timestamp, json!("2024-02-29T23:59:59Z"), true),
            (T::Datetime, json!("yesterday"), false),
            (T::Uuid, json!("123e4567-e89b-12d3-a456-426614174000"), true),
            (T::Uuid, json!("123"), false),
            (T::Binary, json!("AAEC/w=="), true),
            (T::Binary, json!("not base64!"), false),
            (T::Json, json!({"any": [1]}), true),
            (T::ObjectId, json!("65a1b2c3d4e5f60718293a4b"), true),
            (T::ObjectId, json!("65a1"), false),
            (T::Array, json!([1]), true),
            (T::Array, json!({}), false),
            (T::Object, json!({}), true),
        ] {
            assert_eq!(check_value(&col(t, None), &v).is_ok(), ok, "{t:?} {v}");
        }
        // lengths count characters, not bytes
        let c = col(T::String, Some(3));
        assert!(check_value(&c, &json!("äöü")).is_ok());
        assert_eq!(
            check_value(&c, &json!("abcd")),
            Err("at most 3 characters".to_string())
        );
    }

    use super::*;

    #[test]
    fn column_types_become_json_schema() {
        let mut id = Column::new("id", ApiType::Integer, "integer");
        id.is_primary_key = true;
        id.allow_null = false;
        id.auto_increment = true;
        // an auto-increment key may be given on insert: not readOnly
        assert_eq!(
            column_schema(&id),
            json!({"type": "integer", "format": "int32"})
        );
        id.generated = true;
        assert_eq!(
            column_schema(&id),
            json!({"type": "integer", "format": "int32", "readOnly": true})
        );
        id.generated = false;
        let mut name = Column::new("name", ApiType::String, "varchar(100)");
        name.length = Some(100);
        assert_eq!(
            column_schema(&name),
            json!({"type": ["string", "null"], "maxLength": 100})
        );
        let doc = Column::new("doc", ApiType::Json, "jsonb");
        assert_eq!(column_schema(&doc), json!({}));
    }
}
