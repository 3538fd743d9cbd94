//! Query parameters of the table API (docs/API.md §3), from the query string and,
//! for POST-tunnelled requests, from the JSON body — validated against the table.

use crate::config::RequestLimits;
use crate::error::{ApiError, ApiResult, Code};
use gatehouse_core::{ExportFormat, Expr, OrderBy, Table};
use serde_json::{Map, Value};
use std::collections::HashMap;

/// Parameter names and their aliases (DreamFactory's spellings included).
const NAMES: &[(&str, &str)] = &[
    ("fields", "fields"),
    ("select", "fields"),
    ("filter", "filter"),
    ("where", "filter"),
    ("params", "params"),
    // the name the OpenAPI documents publish (generated clients collide with `params`)
    ("filter_params", "params"),
    ("limit", "limit"),
    ("top", "limit"),
    ("offset", "offset"),
    ("skip", "offset"),
    ("order", "order"),
    ("sort", "order"),
    ("order_by", "order"),
    ("include_count", "include_count"),
    ("count_only", "count_only"),
    ("ids", "ids"),
    ("id_field", "id_field"),
    ("continue", "continue"),
    ("rollback", "rollback"),
    ("force", "force"),
    ("refresh", "refresh"),
    ("format", "format"),
    ("as_list", "as_list"),
    ("include_schema", "include_schema"),
    ("file", "file"),
];

fn canonical(name: &str) -> Option<&'static str> {
    NAMES.iter().find(|(n, _)| *n == name).map(|(_, c)| *c)
}

/// A parameter name one letter-edit away from `name` (`limt` → `limit`).
fn canonical_near(name: &str) -> Option<&'static str> {
    let close = |a: &str, b: &str| {
        let (a, b): (Vec<char>, Vec<char>) = (a.chars().collect(), b.chars().collect());
        if a.len().abs_diff(b.len()) > 1 {
            return false;
        }
        // one insertion, deletion, substitution or swap of neighbours
        let prefix = a.iter().zip(&b).take_while(|(x, y)| x == y).count();
        let (ra, rb) = (&a[prefix..], &b[prefix..]);
        ra.iter()
            .rev()
            .zip(rb.iter().rev())
            .take_while(|(x, y)| x == y)
            .count()
            + 1
            >= ra.len().max(rb.len())
            || (ra.len() == rb.len()
                && ra.len() >= 2
                && ra[0] == rb[1]
                && ra[1] == rb[0]
                && ra[2..] == rb[2..])
    };
    NAMES.iter().find(|(n, _)| close(name, n)).map(|(n, _)| *n)
}

const FILTER_PARAMS: &str =
    "a JSON object of values ({\"r\": \"north\"}), or a list of {\"name\", \"value\"} pairs";

/// The values of a filter's `:name` placeholders: `{"r": "north"}`, the
/// keys also written with their colon (`{":r": "north"}`) or as
/// DreamFactory's list of pairs (`[{"name": ":r", "value": "north"}]`).
fn filter_params(v: &Value) -> ApiResult<Map<String, Value>> {
    let unprefixed = |k: &str| k.strip_prefix(':').unwrap_or(k).to_string();
    match v {
        Value::Object(m) => Ok(m.iter().map(|(k, v)| (unprefixed(k), v.clone())).collect()),
        Value::Array(pairs) => pairs
            .iter()
            .map(
                |p| match (p.get("name").and_then(Value::as_str), p.get("value")) {
                    (Some(name), Some(value)) => Ok((unprefixed(name), value.clone())),
                    _ => Err(invalid("params", FILTER_PARAMS)),
                },
            )
            .collect(),
        _ => Err(invalid("params", FILTER_PARAMS)),
    }
}

/// The terms of `order`: each a field (bare, or `"double quoted"` with `""`
/// for a quote, so a name may hold spaces and commas) and the words after
/// it. `None` for an unclosed quote or a term without a field.
fn order_terms(text: &str) -> Option<Vec<(String, Vec<String>)>> {
    let mut terms = Vec::new();
    let mut chars = text.chars().peekable();
    loop {
        while chars.next_if(|c| c.is_whitespace() || *c == ',').is_some() {}
        let Some(&first) = chars.peek() else {
            return Some(terms);
        };
        let field = if first == '"' {
            chars.next();
            let mut name = String::new();
            loop {
                match chars.next()? {
                    '"' if chars.next_if_eq(&'"').is_some() => name.push('"'),
                    '"' => break,
                    c => name.push(c),
                }
            }
            name
        } else {
            let mut name = String::new();
            while let Some(c) = chars.next_if(|c| !c.is_whitespace() && *c != ',') {
                name.push(c);
            }
            name
        };
        if field.is_empty() {
            return None;
        }
        let mut rest = String::new();
        while let Some(c) = chars.next_if(|c| *c != ',') {
            rest.push(c);
        }
        terms.push((field, rest.split_whitespace().map(str::to_string).collect()));
    }
}

/// Credentials in the query string (docs/API.md §6), read by authentication,
/// and `method` (a tunnelled verb, read by the router): never parameters,
/// and never shown to a hook script.
const NOT_PARAMETERS: &[&str] = &["api_key", "session_token", "method"];

#[derive(Debug, Default)]
pub struct Params {
    map: HashMap<&'static str, Value>,
    /// Names the table API does not take, in the order given: refused
    /// unless a hook script may read them (they reach `event.request.params`).
    others: Vec<(String, Value)>,
    /// The records of a tunnelled GET's body ([`Params::set_records`]).
    records: Option<Value>,
    limits: RequestLimits,
    /// `{user.id}`, `{user.email}`, `{role}`: the caller's values, which a
    /// filter may name like a row filter does (they win over `params`).
    caller: Map<String, Value>,
}

/// 400 `limit_exceeded`: parameter `name` has more than `max` entries.
fn too_many(name: &str, limit: &str, max: usize, what: &str) -> ApiError {
    ApiError::new(
        Code::LimitExceeded,
        format!("parameter '{name}' has more than {max} {what} ({limit})"),
    )
    .with_context(serde_json::json!({ "parameter": name, "limit": limit, "max": max }))
}

fn invalid(name: &str, expected: &str) -> ApiError {
    ApiError::new(
        Code::InvalidParameter,
        format!("parameter '{name}' must be {expected}"),
    )
    .with_context(serde_json::json!({ "parameter": name }))
}

impl Params {
    /// Reads the query string. Names it does not know are kept aside
    /// ([`Params::refuse_unknown`]); credentials are left to authentication.
    pub fn from_query(raw: Option<&str>) -> Self {
        let mut p = Params::default();
        for (k, v) in url::form_urlencoded::parse(raw.unwrap_or("").as_bytes()) {
            p.set(&k, Value::String(v.into_owned()));
        }
        p
    }

    fn set(&mut self, name: &str, v: Value) {
        match canonical(name) {
            Some(c) => {
                self.map.insert(c, v);
            }
            None if NOT_PARAMETERS.contains(&name) => {}
            None => match self.others.iter_mut().find(|(n, _)| n == name) {
                Some(slot) => slot.1 = v,
                None => self.others.push((name.to_string(), v)),
            },
        }
    }

    /// Takes parameters given in a JSON body object (tunnelled requests,
    /// and the keys beside `resource` in a write envelope: `resource` is the
    /// body, not a parameter).
    pub fn merge_body(&mut self, body: &Map<String, Value>) {
        for (k, v) in body.iter().filter(|(k, _)| *k != "resource") {
            self.set(k, v.clone());
        }
    }

    /// The records a tunnelled GET names (`{"resource": [{"id": 1}, ...]}`,
    /// as DreamFactory sends them): read as `ids` of their keys.
    pub fn set_records(&mut self, records: Value) {
        self.records = Some(records);
    }

    pub fn records(&self) -> Option<&Value> {
        self.records.as_ref()
    }

    /// 400 `limit_exceeded` when `n` records are more than `ids` may name.
    pub fn check_id_count(&self, n: usize) -> ApiResult<()> {
        if n > self.limits.max_ids {
            return Err(too_many(
                "resource",
                "max_ids",
                self.limits.max_ids,
                "records",
            ));
        }
        Ok(())
    }

    /// 400 `unknown_parameter` for the first name the API does not take: a
    /// typo (`limt=5`) must not answer the whole table.
    pub fn refuse_unknown(&self) -> ApiResult<()> {
        let Some((name, _)) = self.others.first() else {
            return Ok(());
        };
        let hint = canonical_near(name)
            .map(|n| format!("; did you mean '{n}'?"))
            .unwrap_or_default();
        Err(ApiError::new(
            Code::UnknownParameter,
            format!("'{name}' is not a parameter of this endpoint{hint}"),
        )
        .with_context(serde_json::json!({ "parameter": name })))
    }

    /// The limits the parameters are read within, and the caller whose
    /// values `{user.id}`, `{user.email}` and `{role}` stand for.
    pub fn bound_to(&mut self, limits: RequestLimits, caller: Map<String, Value>) {
        self.limits = limits;
        self.caller = caller;
    }

    /// The parameters as a JSON object (what a hook script sees): those the
    /// API takes, by their canonical names, and every other one given.
    pub fn to_object(&self) -> Map<String, Value> {
        let mut names: Vec<&&str> = self.map.keys().collect();
        names.sort();
        let known = names
            .into_iter()
            .filter_map(|k| Some((k.to_string(), self.map.get(*k)?.clone())));
        known.chain(self.others.iter().cloned()).collect()
    }

    /// The parameters a hook script left (a JSON object) in place of these.
    /// The limits and the caller stay.
    pub fn replace(&mut self, obj: &Map<String, Value>) {
        self.map.clear();
        self.others.clear();
        self.merge_body(obj);
        if let Some(r) = obj.get("resource") {
            self.records = Some(r.clone());
        }
    }

    fn text(&self, name: &str) -> ApiResult<Option<String>> {
        match self.map.get(name) {
            None | Some(Value::Null) => Ok(None),
            Some(Value::String(s)) => Ok(Some(s.clone())),
            Some(Value::Number(n)) => Ok(Some(n.to_string())),
            Some(Value::Bool(b)) => Ok(Some(b.to_string())),
            Some(_) => Err(invalid(name, "text")),
        }
    }

    /// Whether the parameter was given (and is not null).
    pub fn has(&self, name: &str) -> bool {
        self.map.get(name).is_some_and(|v| !v.is_null())
    }

    pub fn flag(&self, name: &str) -> ApiResult<bool> {
        match self
            .text(name)?
            .as_deref()
            .map(str::to_ascii_lowercase)
            .as_deref()
        {
            None | Some("false" | "0" | "") => Ok(false),
            Some("true" | "1") => Ok(true),
            Some(_) => Err(invalid(name, "true or false")),
        }
    }

    pub fn uint(&self, name: &str) -> ApiResult<Option<u64>> {
        match self.text(name)? {
            None => Ok(None),
            Some(s) => s
                .trim()
                .parse::<u64>()
                .map(Some)
                .map_err(|_| invalid(name, "a non-negative integer")),
        }
    }

    /// A streamed export asked for by `format=ndjson|csv` or, without
    /// `format`, by an `Accept` of `application/x-ndjson` or `text/csv`.
    pub fn export_format(&self, accept: Option<&str>) -> ApiResult<Option<ExportFormat>> {
        // DreamFactory's `file=name.csv`: the format from the extension
        if !self.map.contains_key("format")
            && let Some((_, ext)) = self.file()?
        {
            return match ext.as_str() {
                "csv" => Ok(Some(ExportFormat::Csv)),
                "ndjson" | "jsonl" => Ok(Some(ExportFormat::Ndjson)),
                _ => Err(invalid("file", "a name ending in .csv or .ndjson")),
            };
        }
        if let Some(f) = self.text("format")? {
            return match f.trim().to_ascii_lowercase().as_str() {
                "" | "json" => Ok(None),
                "ndjson" => Ok(Some(ExportFormat::Ndjson)),
                "csv" => Ok(Some(ExportFormat::Csv)),
                _ => Err(invalid("format", "json, ndjson or csv")),
            };
        }
        let wanted = accept.unwrap_or("").split(',').find_map(|m| {
            match m
                .split(';')
                .next()
                .unwrap_or("")
                .trim()
                .to_ascii_lowercase()
                .as_str()
            {
                "application/x-ndjson" => Some(ExportFormat::Ndjson),
                "text/csv" => Some(ExportFormat::Csv),
                _ => None,
            }
        });
        Ok(wanted)
    }

    /// `file`: the name an export is downloaded as (an attachment), and its
    /// extension, lower-case. Only a plain file name: no path, no quotes.
    pub fn file(&self) -> ApiResult<Option<(String, String)>> {
        let Some(name) = self.text("file")? else {
            return Ok(None);
        };
        let name = name.trim().to_string();
        let plain = !name.is_empty()
            && name.len() <= 255
            && name
                .chars()
                .all(|c| c.is_ascii_alphanumeric() || matches!(c, '.' | '_' | '-'));
        let ext = name.rsplit_once('.').map(|(_, e)| e.to_ascii_lowercase());
        match ext {
            Some(ext) if plain => Ok(Some((name, ext))),
            _ => Err(invalid(
                "file",
                "a file name of letters, digits, '.', '_' and '-' with an extension",
            )),
        }
    }

    /// `fields`: `None` when absent, every column for `*`.
    pub fn fields(&self, table: &Table) -> ApiResult<Option<Vec<String>>> {
        let list: Vec<String> = match self.map.get("fields") {
            None | Some(Value::Null) => return Ok(None),
            Some(Value::Array(a)) => a
                .iter()
                .map(|v| v.as_str().map(str::to_string))
                .collect::<Option<_>>()
                .ok_or_else(|| invalid("fields", "a list of field names"))?,
            Some(_) => match self.text("fields")? {
                Some(s) => s
                    .split(',')
                    .map(str::trim)
                    .filter(|f| !f.is_empty())
                    // one more than allowed is enough to refuse (and a long
                    // list is not copied whole first)
                    .take(self.limits.max_fields.saturating_add(1))
                    .map(str::to_string)
                    .collect(),
                None => return Ok(None),
            },
        };
        if list.len() > self.limits.max_fields {
            return Err(too_many(
                "fields",
                "max_fields",
                self.limits.max_fields,
                "names",
            ));
        }
        if list.is_empty() || list.iter().any(|f| f == "*") {
            return Ok(Some(table.columns.iter().map(|c| c.name.clone()).collect()));
        }
        for f in &list {
            if !table.accepts_field(f, true) {
                return Err(ApiError::unknown_field(&table.name, f));
            }
        }
        // A name given twice is one column of the answer (and one of the
        // statement: PostgreSQL takes at most 1,664 output columns).
        let mut seen = std::collections::HashSet::with_capacity(list.len());
        let mut list = list;
        list.retain(|f| seen.insert(f.clone()));
        Ok(Some(list))
    }

    /// `filter`, parsed, with `params` bound and every field checked.
    pub fn filter(&self, table: &Table) -> ApiResult<Option<Expr>> {
        let Some(text) = self.text("filter")? else {
            return Ok(None);
        };
        if text.trim().is_empty() {
            return Ok(None);
        }
        let mut params = match self.map.get("params") {
            None | Some(Value::Null) => Map::new(),
            Some(Value::String(s)) => match serde_json::from_str::<Value>(s) {
                Ok(v) => filter_params(&v)?,
                Err(_) => return Err(invalid("params", FILTER_PARAMS)),
            },
            Some(v) => filter_params(v)?,
        };
        params.extend(self.caller.iter().map(|(k, v)| (k.clone(), v.clone())));
        let expr = Expr::parse_within(&text, &self.limits.filter())?.bind(&params)?;
        check_fields(&expr, table)?;
        Ok(Some(expr))
    }

    /// `order`: `col [asc|desc] [nulls first|nulls last]`, comma separated.
    pub fn order(&self, table: &Table) -> ApiResult<Vec<OrderBy>> {
        let Some(text) = self.text("order")? else {
            return Ok(Vec::new());
        };
        let mut out = Vec::new();
        let terms = order_terms(&text).ok_or_else(|| {
            invalid(
                "order",
                "'field [asc|desc] [nulls first|nulls last]', comma separated (a name with spaces or commas in double quotes)",
            )
        })?;
        for (field, words) in terms {
            if out.len() == self.limits.max_order {
                return Err(too_many(
                    "order",
                    "max_order",
                    self.limits.max_order,
                    "terms",
                ));
            }
            if !table.accepts_field(&field, true) {
                return Err(ApiError::unknown_field(&table.name, &field));
            }
            let rest: Vec<String> = words.iter().map(|w| w.to_ascii_lowercase()).collect();
            let rest: Vec<&str> = rest.iter().map(String::as_str).collect();
            let (descending, tail) = match rest.as_slice() {
                ["asc", t @ ..] => (false, t),
                ["desc", t @ ..] => (true, t),
                t => (false, t),
            };
            let nulls_first = match tail {
                [] => None,
                ["nulls", "first"] => Some(true),
                ["nulls", "last"] => Some(false),
                _ => {
                    return Err(invalid(
                        "order",
                        "'field [asc|desc] [nulls first|nulls last]', comma separated",
                    ));
                }
            };
            out.push(OrderBy {
                field,
                descending,
                nulls_first,
            });
        }
        Ok(out)
    }

    /// `ids` as key tuples. Simple keys: `1,2,3`. Composite keys: each id's
    /// values joined by commas, ids separated by `;` (or a JSON array of arrays).
    pub fn ids(&self, key_len: usize) -> ApiResult<Option<Vec<Vec<Value>>>> {
        let expected = if key_len > 1 {
            "key values joined by ',' with ids separated by ';'"
        } else {
            "a comma-separated list"
        };
        let ids = match self.map.get("ids") {
            None | Some(Value::Null) => return Ok(None),
            Some(Value::Array(a)) => a
                .iter()
                .map(|v| match v {
                    Value::Array(parts) => parts.clone(),
                    other => vec![other.clone()],
                })
                .collect(),
            Some(_) => {
                let Some(s) = self.text("ids")? else {
                    return Ok(None);
                };
                let most = self.limits.max_ids.saturating_add(1);
                if key_len > 1 {
                    s.split(';')
                        .filter(|x| !x.trim().is_empty())
                        .take(most)
                        .map(split_key)
                        .collect()
                } else {
                    s.split(',')
                        .take(most)
                        .map(|v| vec![Value::String(v.trim().to_string())])
                        .collect::<Vec<_>>()
                }
            }
        };
        if ids.len() > self.limits.max_ids {
            return Err(too_many("ids", "max_ids", self.limits.max_ids, "ids"));
        }
        if ids.iter().any(|k: &Vec<Value>| k.len() != key_len) {
            return Err(invalid("ids", expected));
        }
        Ok(Some(ids))
    }

    pub fn id_field(&self) -> ApiResult<Option<String>> {
        self.text("id_field")
    }
}

/// The values of a key written as `a,b` in a path or `ids` list.
pub fn split_key(s: &str) -> Vec<Value> {
    s.split(',')
        .map(|v| Value::String(v.trim().to_string()))
        .collect()
}

/// Every field a filter names must be a column of the table.
pub fn check_fields(expr: &Expr, table: &Table) -> ApiResult<()> {
    for f in expr.fields() {
        if !table.accepts_field(&f.name, true) {
            return Err(ApiError::unknown_field(&table.name, &f.name)
                .with_context(serde_json::json!({"field": f.name, "position": f.position})));
        }
    }
    Ok(())
}
