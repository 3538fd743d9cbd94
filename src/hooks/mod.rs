//! Scripting hooks (docs/API.md §7): JavaScript run before and after a table
//! operation, to validate, reshape or reject it.
//!
//! A script belongs to an event named as in DreamFactory,
//! `{service}._table.{table}.{verb}.pre_process` or `.post_process`, with
//! `{table_name}` standing for every table of the service. Scripts come from
//! two places: `{scripts_dir}/{event}.js` files (hot-reloaded) and records in
//! the system store (`/api/system/event_script`); a record replaces a file of
//! the same event. The table road asks [`Hooks::matching`] once per request;
//! with no script for the event that is a lookup and nothing more.
//!
//! For one request the `{table_name}` script runs first, then the table's own;
//! each sees the event as the one before left it. Every call runs on a fresh
//! QuickJS runtime on a blocking thread, under the time and memory limits
//! (see [`engine`]).

pub mod engine;

use crate::auth::Principal;
use crate::error::{ApiError, ApiResult, Code};
use crate::system::store::{EventScript, Store};
use arc_swap::ArcSwap;
use axum::http::{HeaderMap, Method, StatusCode};
use engine::{Failure, Limits, Part};
use serde_json::{Map, Value, json};
use std::collections::HashMap;
use std::path::{Path, PathBuf};
use std::sync::Arc;

/// The table name that stands for every table of a service.
pub const ANY_TABLE: &str = "{table_name}";
/// The segment after a table that names its record events
/// (`shop._table.customers.{id}.get.post_process`).
pub const RECORD: &str = "{id}";

/// Largest script file read from the scripts folder.
const MAX_FILE_BYTES: u64 = 1024 * 1024;

/// Headers a script never sees: they carry credentials.
const CREDENTIAL_HEADERS: &[&str] = &[
    "authorization",
    "proxy-authorization",
    "cookie",
    "x-api-key",
    "x-dreamfactory-api-key",
    "x-dreamfactory-session-token",
];

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Stage {
    Pre,
    Post,
}

impl Stage {
    pub fn as_str(self) -> &'static str {
        match self {
            Stage::Pre => "pre_process",
            Stage::Post => "post_process",
        }
    }
}

/// Where a script came from.
#[derive(Debug, Clone, Copy, PartialEq, Eq, serde::Serialize)]
#[serde(rename_all = "snake_case")]
pub enum Origin {
    File,
    Record,
}

#[derive(Debug)]
pub struct Script {
    /// The event it answers to.
    pub name: String,
    pub source: Arc<str>,
    pub origin: Origin,
}

/// The parts of an event name.
#[derive(Debug, PartialEq, Eq)]
pub struct EventName<'a> {
    pub service: &'a str,
    pub table: &'a str,
    pub verb: &'a str,
    pub stage: Stage,
}

const VERBS: &[&str] = &["get", "post", "put", "patch", "delete"];

/// Reads `{service}._table.{table}.{verb}.{pre_process|post_process}`.
pub fn parse_event(name: &str) -> Option<EventName<'_>> {
    let (rest, stage) = if let Some(r) = name.strip_suffix(".pre_process") {
        (r, Stage::Pre)
    } else {
        (name.strip_suffix(".post_process")?, Stage::Post)
    };
    let (rest, verb) = rest.rsplit_once('.')?;
    let (service, table) = rest.split_once("._table.")?;
    let fine = |s: &str| !s.is_empty() && !s.contains(['/', '\\']) && !s.starts_with('.');
    (VERBS.contains(&verb) && fine(service) && !service.contains('.') && fine(table)).then_some(
        EventName {
            service,
            table,
            verb,
            stage,
        },
    )
}

/// The event name for a table, verb and stage.
pub fn event_name(service: &str, table: &str, method: &Method, stage: Stage) -> String {
    format!(
        "{service}._table.{table}.{}.{}",
        method.as_str().to_ascii_lowercase(),
        stage.as_str()
    )
}

type Scripts = HashMap<String, Arc<Script>>;

/// The scripts in force, and how they are run.
pub struct Hooks {
    pub dir: PathBuf,
    pub limits: Limits,
    files: ArcSwap<Scripts>,
    records: ArcSwap<Scripts>,
}

/// The scripts one request runs.
#[derive(Debug, Default)]
pub struct Matched {
    pub pre: Vec<Arc<Script>>,
    pub post: Vec<Arc<Script>>,
}

/// What the pre_process scripts decided.
pub enum PreOutcome {
    /// Go on to the database, with these changes (`None`: unchanged).
    Continue {
        payload: Option<Value>,
        params: Option<Value>,
    },
    /// A script set `event.response`: answer with it, without the database.
    Answer(StatusCode, Value),
}

/// The request as a script sees it.
pub struct RequestView<'a> {
    pub method: &'a Method,
    pub params: Value,
    pub headers: &'a HeaderMap,
    pub payload: Option<&'a Value>,
    pub id: Option<&'a str>,
}

impl Hooks {
    /// Loads the scripts folder (the store's records come with [`Hooks::reload_records`]).
    pub fn load(dir: &Path, limits: Limits) -> Hooks {
        let hooks = Hooks {
            dir: dir.to_path_buf(),
            limits,
            files: Default::default(),
            records: Default::default(),
        };
        hooks.reload_files();
        hooks
    }

    /// Reads `{event}.js` files again. Other files are ignored; a file whose
    /// name is not an event, or that does not compile, is logged (one that
    /// does not compile stays in force and fails its calls with
    /// `script_error`, so a broken validation never lets a request through).
    pub fn reload_files(&self) {
        let mut found = Scripts::new();
        let entries = match std::fs::read_dir(&self.dir) {
            Ok(e) => e,
            Err(e) => {
                if self.dir.exists() {
                    tracing::warn!(dir = %self.dir.display(), "cannot read the scripts folder: {e}");
                }
                self.files.store(Arc::new(found));
                return;
            }
        };
        for entry in entries.flatten() {
            let path = entry.path();
            let Some(name) = path
                .file_name()
                .and_then(|n| n.to_str())
                .and_then(|n| n.strip_suffix(".js"))
            else {
                continue;
            };
            if parse_event(name).is_none() {
                tracing::warn!(file = %path.display(), "ignoring a script whose name is not an event ({{service}}._table.{{table}}.{{verb}}.pre_process|post_process)");
                continue;
            }
            if entry.metadata().map_or(0, |m| m.len()) > MAX_FILE_BYTES {
                tracing::warn!(file = %path.display(), "ignoring a script larger than 1 MiB");
                continue;
            }
            match std::fs::read_to_string(&path) {
                Ok(source) => {
                    if let Err(e) = engine::check(name, &source) {
                        tracing::error!(file = %path.display(), "script does not compile; its event will fail until it is fixed: {e}");
                    }
                    found.insert(
                        name.to_string(),
                        Arc::new(Script {
                            name: name.to_string(),
                            source: source.into(),
                            origin: Origin::File,
                        }),
                    );
                }
                Err(e) => tracing::warn!(file = %path.display(), "cannot read script: {e}"),
            }
        }
        tracing::info!(dir = %self.dir.display(), scripts = found.len(), "hook scripts loaded");
        self.files.store(Arc::new(found));
    }

    /// Takes the active records of the store.
    pub fn set_records(&self, records: Vec<EventScript>) {
        let map: Scripts = records
            .into_iter()
            .filter(|r| r.active)
            .map(|r| {
                let script = Script {
                    name: r.name.clone(),
                    source: r.content.into(),
                    origin: Origin::Record,
                };
                (r.name, Arc::new(script))
            })
            .collect();
        self.records.store(Arc::new(map));
    }

    pub async fn reload_records(&self, store: &Store) -> Result<(), sqlx::Error> {
        self.set_records(store.event_scripts().await?);
        Ok(())
    }

    /// The script in force for `event`: its record, else its file.
    pub fn get(&self, event: &str) -> Option<Arc<Script>> {
        if let Some(s) = self.records.load().get(event) {
            return Some(s.clone());
        }
        self.files.load().get(event).cloned()
    }

    /// The file scripts, for the admin listing.
    pub fn files(&self) -> Vec<Arc<Script>> {
        let mut v: Vec<_> = self.files.load().values().cloned().collect();
        v.sort_by(|a, b| a.name.cmp(&b.name));
        v
    }

    /// The scripts a request on `table` with `method` runs, `{table_name}` ones first.
    /// The scripts of a request on `table` (`by_id`: on one record by its
    /// path id, which also runs DreamFactory's `{table}.{id}` events), in
    /// order: every table's, this table's, this table's record's.
    pub fn matching(&self, service: &str, table: &str, method: &Method, by_id: bool) -> Matched {
        if self.files.load().is_empty() && self.records.load().is_empty() {
            return Matched::default();
        }
        let mut tables = vec![ANY_TABLE.to_string(), table.to_string()];
        if by_id {
            tables.push(format!("{ANY_TABLE}.{RECORD}"));
            tables.push(format!("{table}.{RECORD}"));
        }
        let pick = |stage| {
            tables
                .iter()
                .filter_map(|t| self.get(&event_name(service, t, method, stage)))
                .collect()
        };
        Matched {
            pre: pick(Stage::Pre),
            post: pick(Stage::Post),
        }
    }

    /// Runs the pre_process scripts in order.
    pub async fn pre(&self, scripts: &[Arc<Script>], mut event: Value) -> ApiResult<PreOutcome> {
        const PARTS: &[Part] = &[
            &["request", "payload"],
            &["request", "params"],
            &["response"],
        ];
        let (mut payload, mut params) = (None, None);
        for script in scripts {
            let changed = self.call(script, &event, PARTS).await?;
            let mut changed = changed.into_iter();
            if let Some(Some(p)) = changed.next() {
                set(&mut event, &["request", "payload"], p.clone());
                payload = Some(p);
            }
            if let Some(Some(p)) = changed.next() {
                if !p.is_object() {
                    return Err(script_error(
                        &script.name,
                        "event.request.params must stay an object",
                    ));
                }
                set(&mut event, &["request", "params"], p.clone());
                params = Some(p);
            }
            if let Some(Some(r)) = changed.next()
                && !r.is_null()
            {
                return answer(&script.name, r);
            }
        }
        Ok(PreOutcome::Continue { payload, params })
    }

    /// Runs the post_process scripts in order; the content they leave.
    pub async fn post(
        &self,
        scripts: &[Arc<Script>],
        mut event: Value,
        content: Value,
    ) -> ApiResult<Value> {
        const PARTS: &[Part] = &[&["response", "content"]];
        let mut content = content;
        set(&mut event, &["response", "content"], content.clone());
        for script in scripts {
            if let Some(Some(c)) = self.call(script, &event, PARTS).await?.pop() {
                set(&mut event, &["response", "content"], c.clone());
                content = c;
            }
        }
        Ok(content)
    }

    /// One call on a blocking thread. The engine stops a script at its time
    /// limit; the outer timeout only guards against one stuck in native code.
    async fn call(
        &self,
        script: &Arc<Script>,
        event: &Value,
        parts: &'static [Part],
    ) -> ApiResult<Vec<Option<Value>>> {
        let limits = self.limits;
        let (s, ev) = (script.clone(), event.clone());
        let job = tokio::task::spawn_blocking(move || {
            engine::run(&s.name, &s.source, &ev, parts, limits)
        });
        let guard = limits.time * 4 + std::time::Duration::from_millis(250);
        let outcome = match tokio::time::timeout(guard, job).await {
            Ok(Ok(r)) => r,
            Ok(Err(e)) => Err(Failure::Error(format!("the script's thread failed: {e}"))),
            Err(_) => Err(Failure::Timeout),
        };
        outcome.map_err(|f| self.failure(script, f))
    }

    fn failure(&self, script: &Script, f: Failure) -> ApiError {
        let name = &script.name;
        match f {
            Failure::Rejected { status, message } => {
                let mut e = ApiError::new(Code::ScriptRejected, message)
                    .with_context(json!({"event": name}));
                e.status = StatusCode::from_u16(status).ok();
                e
            }
            Failure::Timeout => {
                tracing::warn!(event = %name, "script stopped at its time limit");
                script_error(
                    name,
                    &format!(
                        "exceeded its time limit ({} ms)",
                        self.limits.time.as_millis()
                    ),
                )
            }
            Failure::OutOfMemory => {
                tracing::warn!(event = %name, "script stopped at its memory limit");
                script_error(
                    name,
                    &format!(
                        "exceeded its memory limit ({} MiB)",
                        self.limits.memory / (1024 * 1024)
                    ),
                )
            }
            Failure::Error(detail) => {
                tracing::error!(event = %name, origin = ?script.origin, "script failed: {detail}");
                script_error(name, "failed")
            }
        }
    }
}

fn script_error(event: &str, what: &str) -> ApiError {
    ApiError::new(
        Code::ScriptError,
        format!("the script for event '{event}' {what}"),
    )
    .with_context(json!({"event": event}))
}

/// `event.response` set by a pre_process script: `{status_code, content}`.
fn answer(event: &str, r: Value) -> ApiResult<PreOutcome> {
    let Value::Object(mut o) = r else {
        return Err(script_error(
            event,
            "set event.response to something other than {status_code, content}",
        ));
    };
    let status = match o.remove("status_code") {
        None | Some(Value::Null) => StatusCode::OK,
        Some(v) => v
            .as_u64()
            .and_then(|s| u16::try_from(s).ok())
            .and_then(|s| StatusCode::from_u16(s).ok())
            .filter(|s| s.as_u16() >= 200)
            .ok_or_else(|| script_error(event, "set an invalid event.response.status_code"))?,
    };
    Ok(PreOutcome::Answer(
        status,
        o.remove("content").unwrap_or(Value::Null),
    ))
}

/// Sets `path` in `v`, making objects on the way.
fn set(v: &mut Value, path: &[&str], new: Value) {
    let mut at = v;
    for k in path {
        if !at.is_object() {
            *at = Value::Object(Map::new());
        }
        let Value::Object(o) = at else { return };
        at = o.entry(k.to_string()).or_insert(Value::Null);
    }
    *at = new;
}

/// The event a script sees (docs/API.md §7).
pub fn event(
    name: &str,
    service: &str,
    table: &str,
    request: &RequestView<'_>,
    caller: &Principal,
) -> Value {
    let headers: Map<String, Value> = request
        .headers
        .iter()
        .filter(|(k, _)| !CREDENTIAL_HEADERS.contains(&k.as_str()))
        .filter_map(|(k, v)| Some((k.to_string(), Value::String(v.to_str().ok()?.to_string()))))
        .collect();
    let user = caller
        .user
        .as_ref()
        .map(|u| json!({"id": u.id, "email": u.email, "name": u.name}));
    json!({
        "name": name,
        "service": service,
        "resource": table,
        "request": {
            "method": request.method.as_str(),
            "id": request.id,
            "params": request.params,
            "headers": headers,
            "payload": request.payload,
        },
        "session": {
            "user": user,
            "role": caller.role,
            "app": caller.app,
        },
        "response": null,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn event_names() {
        let e = parse_event("demo._table.customers.post.pre_process");
        assert_eq!(
            e,
            Some(EventName {
                service: "demo",
                table: "customers",
                verb: "post",
                stage: Stage::Pre
            })
        );
        let e = parse_event("pg._table.sales.orders.get.post_process");
        assert_eq!(
            e.map(|e| (e.table, e.stage)),
            Some(("sales.orders", Stage::Post))
        );
        assert_eq!(
            parse_event("demo._table.{table_name}.delete.pre_process").map(|e| e.table),
            Some(ANY_TABLE)
        );
        for bad in [
            "demo._table.customers.post",
            "demo._table.customers.fetch.pre_process",
            "demo._schema.customers.get.pre_process",
            "._table.t.get.pre_process",
            "a.b._table.t.get.pre_process",
            "demo._table..get.pre_process",
            "demo._table.../x.get.pre_process",
            "demo._table.a/b.get.pre_process",
        ] {
            assert_eq!(parse_event(bad), None, "{bad}");
        }
        assert_eq!(
            event_name("demo", "t", &Method::PATCH, Stage::Post),
            "demo._table.t.patch.post_process"
        );
    }

    #[test]
    fn set_makes_the_path() {
        let mut v = json!({"request": null});
        set(&mut v, &["request", "payload"], json!(1));
        assert_eq!(v, json!({"request": {"payload": 1}}));
    }

    #[test]
    fn credentials_never_reach_a_script() {
        let mut h = HeaderMap::new();
        h.insert("x-api-key", "k".parse().unwrap());
        h.insert("authorization", "Bearer t".parse().unwrap());
        h.insert("x-trace", "1".parse().unwrap());
        let req = RequestView {
            method: &Method::GET,
            params: json!({}),
            headers: &h,
            payload: None,
            id: None,
        };
        let ev = event("n", "s", "t", &req, &Principal::anonymous());
        assert_eq!(ev["request"]["headers"], json!({"x-trace": "1"}));
        assert_eq!(ev["session"]["role"], json!("anonymous"));
    }
}
