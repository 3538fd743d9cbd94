//! The HTTP conformance suite: `tests/conformance/*.json` hold request → expected
//! response cases; each file runs, in order, against a fresh database of every
//! engine. Where engines really differ a case carries a per-engine expectation
//! (`engines`), is limited to some engines (`only`) or left out on some
//! (`skip`), with the reason in `why`.
//!
//! A case: `{"name", "request": "METHOD /api/{svc}/...", "query": {...},
//! "body": ... (or "raw_body": "text sent as is"), "headers": {...}, "auth": false, "status": 200, "expect": ...,
//! "exact": true, "raw_contains": [...], "raw_excludes": [...]}`.
//! `expect` is matched as a subset (objects may have more keys) unless `exact`.

use crate::common::{ADMIN_KEY, Engine, TestApp, fresh_db, subset};
use serde_json::Value;
use std::path::PathBuf;

/// MongoDB names every document's key `_id`: the cases' key field `id` is
/// renamed for it — in field lists, filters, orders and JSON keys — and
/// everything else is compared as written.
fn mongo_keys(v: Value) -> Value {
    fn rename_words(s: &str) -> String {
        let mut out = String::with_capacity(s.len());
        let chars: Vec<char> = s.chars().collect();
        let word = |c: char| c.is_alphanumeric() || c == '_';
        let mut i = 0;
        while i < chars.len() {
            let before_ok = i == 0 || !word(chars[i - 1]);
            let after_ok = chars.get(i + 2).is_none_or(|c| !word(*c));
            if before_ok && after_ok && chars[i] == 'i' && chars.get(i + 1) == Some(&'d') {
                out.push_str("_id");
                i += 2;
            } else {
                out.push(chars[i]);
                i += 1;
            }
        }
        out
    }
    fn keys(v: Value) -> Value {
        match v {
            Value::Object(o) => Value::Object(
                o.into_iter()
                    .map(|(k, v)| (if k == "id" { "_id".into() } else { k }, keys(v)))
                    .collect(),
            ),
            Value::Array(a) => Value::Array(a.into_iter().map(keys).collect()),
            v => v,
        }
    }
    let mut c = v;
    if let Some(Value::Object(q)) = c.get_mut("query") {
        for k in [
            "fields", "select", "filter", "where", "order", "sort", "id_field",
        ] {
            if let Some(Value::String(s)) = q.get_mut(k) {
                *s = rename_words(s);
            }
        }
    }
    if let Some(Value::Object(b)) = c.get_mut("body") {
        for k in ["filter", "fields"] {
            if let Some(Value::String(s)) = b.get_mut(k) {
                *s = rename_words(s);
            }
        }
    }
    for k in ["body", "expect"] {
        if let Some(v) = c.get_mut(k) {
            *v = keys(v.take());
        }
    }
    c
}

async fn run(engine: Engine, file: &str) {
    let Some(db) = fresh_db(engine, None).await else {
        return;
    };
    let app = TestApp::new().await;
    app.register("svc", &db).await;
    let path =
        PathBuf::from(env!("CARGO_MANIFEST_DIR")).join(format!("tests/conformance/{file}.json"));
    let cases: Vec<Value> = serde_json::from_str(&std::fs::read_to_string(&path).unwrap()).unwrap();
    let mut failures = Vec::new();
    for case in &cases {
        let name = case["name"].as_str().unwrap_or("?");
        let names = [engine.name(), engine.label()];
        let listed = |key: &str| {
            case.get(key)
                .and_then(Value::as_array)
                .map(|l| l.iter().any(|e| names.iter().any(|n| e == n)))
        };
        if listed("only") == Some(false) || listed("skip") == Some(true) {
            continue;
        }
        let mut c = case.clone();
        if engine.is_mongo() {
            c = mongo_keys(c);
        }
        // Per-engine overrides (by type, then by server) replace top-level expectations.
        for n in names {
            if let Some(Value::Object(over)) = case.get("engines").and_then(|e| e.get(n)) {
                for (k, v) in over {
                    c[k] = v.clone();
                }
            }
        }
        let mut target = c["request"].as_str().unwrap().replace("{svc}", "svc");
        if let Some(Value::Object(q)) = c.get("query") {
            let mut ser = url::form_urlencoded::Serializer::new(String::new());
            for (k, v) in q {
                ser.append_pair(
                    k,
                    &match v {
                        Value::String(s) => s.clone(),
                        other => other.to_string(),
                    },
                );
            }
            target = format!("{target}?{}", ser.finish());
        }
        let mut headers: Vec<(String, String)> = Vec::new();
        if c.get("auth") != Some(&Value::Bool(false)) {
            headers.push(("x-api-key".into(), ADMIN_KEY.into()));
        }
        if let Some(Value::Object(h)) = c.get("headers") {
            headers.extend(
                h.iter()
                    .map(|(k, v)| (k.clone(), v.as_str().unwrap_or("").to_string())),
            );
        }
        let hdrs: Vec<(&str, &str)> = headers
            .iter()
            .map(|(k, v)| (k.as_str(), v.as_str()))
            .collect();
        // `raw_body`: sent as it is written (JSON that does not parse)
        let r = match c.get("raw_body").and_then(Value::as_str) {
            Some(raw) => app.call_raw_with(&target, raw, &hdrs).await,
            None => app.call_with(&target, c.get("body"), &hdrs).await,
        };
        let mut errors = Vec::new();
        if let Some(s) = c.get("status").and_then(Value::as_u64)
            && u64::from(r.status.as_u16()) != s
        {
            errors.push(format!("status {} (expected {s})", r.status));
        }
        if let Some(e) = c.get("expect") {
            if c.get("exact") == Some(&Value::Bool(true)) {
                let mut sub = Vec::new();
                subset(e, &r.json, "$", &mut sub);
                subset(&r.json, e, "$", &mut sub);
                errors.extend(sub);
            } else {
                subset(e, &r.json, "$", &mut errors);
            }
        }
        for s in c
            .get("raw_contains")
            .and_then(Value::as_array)
            .into_iter()
            .flatten()
        {
            if !r.text.contains(s.as_str().unwrap_or("")) {
                errors.push(format!("body lacks {s}"));
            }
        }
        for s in c
            .get("raw_excludes")
            .and_then(Value::as_array)
            .into_iter()
            .flatten()
        {
            if r.text
                .to_lowercase()
                .contains(&s.as_str().unwrap_or("").to_lowercase())
            {
                errors.push(format!("body contains {s}"));
            }
        }
        if !errors.is_empty() {
            failures.push(format!(
                "[{}] {name}: {}\n    got: {}",
                engine.name(),
                errors.join("; "),
                r.text
            ));
        }
    }
    assert!(
        failures.is_empty(),
        "{} of {} cases failed in {file}:\n{}",
        failures.len(),
        cases.len(),
        failures.join("\n")
    );
}

every_engine!(
    read => |e| run(e, "read"),
    filter => |e| run(e, "filter"),
    write => |e| run(e, "write"),
    batch => |e| run(e, "batch"),
    schema => |e| run(e, "schema"),
    values => |e| run(e, "values"),
    errors => |e| run(e, "errors"),
    validation => |e| run(e, "validation"),
);
