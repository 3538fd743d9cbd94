//! One script call on QuickJS (through rquickjs), under a time and a memory limit.
//!
//! Every call gets a fresh runtime: nothing a script leaves behind reaches the next
//! call, and a runtime that ran out of memory is simply dropped. QuickJS without its
//! `std`/`os` modules has no file, network, process or timer access; `console` is the
//! only thing added (it writes to the log). Values cross the boundary as JSON text, and
//! a part of the event the script did not change is kept as Rust had it (so numbers
//! wider than a JavaScript double survive a script that only reads them).

use rquickjs::convert::Coerced;
use rquickjs::function::Rest;
use rquickjs::{Context, Ctx, Function, Object, Runtime};
use serde_json::Value;
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};
use std::time::{Duration, Instant};

/// Per-call limits (docs/API.md §7: 100 ms and 32 MiB unless configured).
#[derive(Debug, Clone, Copy)]
pub struct Limits {
    pub time: Duration,
    pub memory: usize,
}

/// Why a call did not finish normally.
#[derive(Debug, Clone, PartialEq)]
pub enum Failure {
    /// The script threw `{status_code, message}`.
    Rejected {
        status: u16,
        message: String,
    },
    Timeout,
    OutOfMemory,
    /// A syntax error, a thrown `Error`, or anything else: the detail is for the log only.
    Error(String),
}

/// A part of the event: its path from the event's root.
pub type Part = &'static [&'static str];

/// Runs `source` (the body of `function (event) { ... }`) on `event`, and returns,
/// for each of `parts`, its new value if the script changed it.
pub fn run(
    name: &str,
    source: &str,
    event: &Value,
    parts: &[Part],
    limits: Limits,
) -> Result<Vec<Option<Value>>, Failure> {
    let rt = Runtime::new().map_err(|e| Failure::Error(format!("no runtime: {e}")))?;
    rt.set_memory_limit(limits.memory);
    rt.set_max_stack_size(512 * 1024);
    let timed_out = Arc::new(AtomicBool::new(false));
    let deadline = Instant::now() + limits.time;
    let flag = timed_out.clone();
    rt.set_interrupt_handler(Some(Box::new(move || {
        let late = Instant::now() >= deadline;
        if late {
            flag.store(true, Ordering::Relaxed);
        }
        late
    })));
    let ctx = Context::full(&rt).map_err(|e| Failure::Error(format!("no context: {e}")))?;
    let event_text = event.to_string();
    let outcome = ctx.with(|ctx| call(&ctx, name, source, &event_text, parts));
    // An interrupted or exhausted runtime may surface as any kind of error.
    let outcome = match outcome {
        Err(_) if timed_out.load(Ordering::Relaxed) => Err(Failure::Timeout),
        Err(Failure::Error(m)) if is_oom(&m) => Err(Failure::OutOfMemory),
        other => other,
    };
    drop(ctx);
    drop(rt);
    outcome
}

/// Compiles `source` without running it: `Err` with the syntax error.
pub fn check(name: &str, source: &str) -> Result<(), String> {
    let rt = Runtime::new().map_err(|e| e.to_string())?;
    rt.set_memory_limit(32 * 1024 * 1024);
    let ctx = Context::full(&rt).map_err(|e| e.to_string())?;
    ctx.with(|ctx| {
        compile(&ctx, name, source)
            .map(|_| ())
            .map_err(|e| match failure(&ctx, e) {
                Failure::Error(m) => m,
                other => format!("{other:?}"),
            })
    })
}

/// The script as a function: its source is a function body, so that `return`
/// ends it early (as in DreamFactory); the prefix shares the first line, which
/// keeps line numbers in errors true.
fn compile<'js>(ctx: &Ctx<'js>, name: &str, source: &str) -> rquickjs::Result<Function<'js>> {
    let wrapped = format!("(function (event) {{{source}\n}})");
    let mut opts = rquickjs::context::EvalOptions::default();
    opts.filename = Some(format!("{name}.js"));
    ctx.eval_with_options(wrapped, opts)
}

fn is_oom(message: &str) -> bool {
    message.to_ascii_lowercase().contains("out of memory")
}

fn call(
    ctx: &Ctx<'_>,
    name: &str,
    source: &str,
    event_text: &str,
    parts: &[Part],
) -> Result<Vec<Option<Value>>, Failure> {
    let fail = |e: rquickjs::Error| failure(ctx, e);
    install_console(ctx, name).map_err(fail)?;
    let event: Object = ctx
        .json_parse(event_text)
        .and_then(|v| v.get())
        .map_err(fail)?;
    let before: Vec<Option<String>> = parts
        .iter()
        .map(|p| part_text(ctx, &event, p))
        .collect::<Result<_, _>>()
        .map_err(fail)?;
    ctx.globals().set("event", event.clone()).map_err(fail)?;
    let f = compile(ctx, name, source).map_err(fail)?;
    let _: rquickjs::Value = f.call((event.clone(),)).map_err(fail)?;
    let mut changed = Vec::with_capacity(parts.len());
    for (p, was) in parts.iter().zip(before) {
        let now = part_text(ctx, &event, p).map_err(fail)?;
        changed.push(if now == was {
            None
        } else {
            Some(match now {
                None => Value::Null,
                Some(text) => serde_json::from_str(&text).map_err(|e| {
                    Failure::Error(format!("the script left a value that is not JSON: {e}"))
                })?,
            })
        });
    }
    Ok(changed)
}

/// The JSON text of the part at `path`, `None` when absent or `undefined`.
fn part_text<'js>(
    ctx: &Ctx<'js>,
    event: &Object<'js>,
    path: &[&str],
) -> rquickjs::Result<Option<String>> {
    let mut v: rquickjs::Value = event.clone().into_value();
    for k in path {
        match v.as_object() {
            Some(o) => v = o.get(*k)?,
            None => return Ok(None),
        }
    }
    if v.is_undefined() {
        return Ok(None);
    }
    ctx.json_stringify(v)?.map(|s| s.to_string()).transpose()
}

/// The thrown value as a [`Failure`].
fn failure(ctx: &Ctx<'_>, e: rquickjs::Error) -> Failure {
    match e {
        rquickjs::Error::Exception => {}
        rquickjs::Error::Allocation => return Failure::OutOfMemory,
        other => return Failure::Error(other.to_string()),
    }
    let thrown = ctx.catch();
    if thrown.is_uncatchable_error() {
        return Failure::Error("interrupted".into());
    }
    if let Some(ex) = thrown.as_exception() {
        let text = ex.message().unwrap_or_default();
        let at = ex.stack().unwrap_or_default();
        return Failure::Error(format!("{text} {at}").trim().to_string());
    }
    if let Some(obj) = thrown.as_object() {
        let status = obj.get::<_, Option<f64>>("status_code").ok().flatten();
        let message = obj
            .get::<_, Option<Coerced<String>>>("message")
            .ok()
            .flatten()
            .map(|m| m.0);
        if status.is_some() || message.is_some() {
            let status = status
                .filter(|s| s.fract() == 0.0 && (400.0..600.0).contains(s))
                .map_or(400, |s| s as u16);
            return Failure::Rejected {
                status,
                message: message.unwrap_or_else(|| "rejected by a script".into()),
            };
        }
    }
    let text = thrown
        .get::<Coerced<String>>()
        .map(|s| s.0)
        .unwrap_or_default();
    Failure::Error(format!("threw {text}"))
}

/// `console.log/info/warn/error/debug` write to the log, naming the event.
fn install_console(ctx: &Ctx<'_>, name: &str) -> rquickjs::Result<()> {
    const MAX: usize = 2000;
    let console = Object::new(ctx.clone())?;
    for level in ["log", "info", "warn", "error", "debug"] {
        let event = name.to_string();
        let f = Function::new(ctx.clone(), move |args: Rest<Coerced<String>>| {
            let mut text = args
                .0
                .into_iter()
                .map(|a| a.0)
                .collect::<Vec<_>>()
                .join(" ");
            if text.len() > MAX {
                let cut = (0..=MAX)
                    .rev()
                    .find(|i| text.is_char_boundary(*i))
                    .unwrap_or(0);
                text.truncate(cut);
                text.push('…');
            }
            match level {
                "warn" => tracing::warn!(event = %event, "script: {text}"),
                "error" => tracing::error!(event = %event, "script: {text}"),
                "debug" => tracing::debug!(event = %event, "script: {text}"),
                _ => tracing::info!(event = %event, "script: {text}"),
            }
        })?;
        console.set(level, f)?;
    }
    ctx.globals().set("console", console)
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    const LIMITS: Limits = Limits {
        time: Duration::from_millis(100),
        memory: 32 * 1024 * 1024,
    };
    const PAYLOAD: Part = &["request", "payload"];
    const RESPONSE: Part = &["response"];

    fn go(src: &str, event: Value) -> Result<Vec<Option<Value>>, Failure> {
        run(
            "t._table.x.get.pre_process",
            src,
            &event,
            &[PAYLOAD, RESPONSE],
            LIMITS,
        )
    }

    #[test]
    fn unchanged_parts_are_none_and_keep_wide_numbers() {
        let ev = json!({"request": {"payload": {"n": 9_007_199_254_740_993_u64}}});
        assert_eq!(
            go("var x = event.request.payload.n;", ev),
            Ok(vec![None, None])
        );
    }

    #[test]
    fn changes_come_back() {
        let ev = json!({"request": {"payload": {"a": 1}}});
        let out = go(
            "event.request.payload.b = 'x'; event.response = {status_code: 200, content: [1]};",
            ev,
        );
        assert_eq!(
            out,
            Ok(vec![
                Some(json!({"a": 1, "b": "x"})),
                Some(json!({"status_code": 200, "content": [1]}))
            ])
        );
    }

    #[test]
    fn return_ends_early() {
        let out = go("return; event.response = 1;", json!({"request": {}}));
        assert_eq!(out, Ok(vec![None, None]));
    }

    #[test]
    fn thrown_objects_reject() {
        let out = go("throw {status_code: 422, message: 'bad email'};", json!({}));
        assert_eq!(
            out,
            Err(Failure::Rejected {
                status: 422,
                message: "bad email".into()
            })
        );
        let out = go("throw {message: 'no'};", json!({}));
        assert_eq!(
            out,
            Err(Failure::Rejected {
                status: 400,
                message: "no".into()
            })
        );
        // a status outside 4xx/5xx is not the script's to choose
        let out = go("throw {status_code: 200, message: 'no'};", json!({}));
        assert!(matches!(out, Err(Failure::Rejected { status: 400, .. })));
    }

    #[test]
    fn errors_are_errors() {
        assert!(matches!(go("null.x;", json!({})), Err(Failure::Error(_))));
        assert!(matches!(
            go("throw new Error('x');", json!({})),
            Err(Failure::Error(_))
        ));
        assert!(matches!(
            go("this is not js", json!({})),
            Err(Failure::Error(_))
        ));
        assert!(matches!(
            go("throw 'text';", json!({})),
            Err(Failure::Error(_))
        ));
    }

    #[test]
    fn endless_loop_times_out() {
        let t = Instant::now();
        assert_eq!(go("for (;;) {}", json!({})), Err(Failure::Timeout));
        assert!(t.elapsed() < Duration::from_secs(2));
        // catching the interruption does not help
        assert_eq!(
            go("for (;;) { try { for (;;) {} } catch (e) {} }", json!({})),
            Err(Failure::Timeout)
        );
    }

    #[test]
    fn huge_allocation_runs_out_of_memory() {
        assert_eq!(
            go(
                "var a = []; for (;;) a.push(new Array(100000).fill(1));",
                json!({})
            ),
            Err(Failure::OutOfMemory)
        );
        assert_eq!(
            go("'x'.repeat(64 * 1024 * 1024)", json!({})),
            Err(Failure::OutOfMemory)
        );
    }

    #[test]
    fn no_file_network_or_module_access() {
        for src in [
            "require('fs')",
            "std.open('/etc/passwd')",
            "os.exec(['ls'])",
            "fetch('http://example.com')",
            "new XMLHttpRequest()",
            "setTimeout(function(){}, 1)",
        ] {
            assert!(
                matches!(go(src, json!({})), Err(Failure::Error(_))),
                "{src} should fail"
            );
        }
        // dynamic import has no loader to reach files with
        let out = go(
            "import('/etc/passwd').then(m => { event.response = m; });",
            json!({}),
        );
        assert_eq!(out, Ok(vec![None, None]));
    }
}
