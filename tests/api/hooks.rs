//! Scripting hooks (docs/API.md §7), each capability and each limit, through the
//! whole HTTP stack: the same scripts on every engine, hostile scripts, files
//! hot-reloaded and records in the system store.

use crate::common::{Engine, TestApp, TestDb, fresh_db};
use axum::http::StatusCode;
use serde_json::{Value, json};
use std::time::{Duration, Instant};

fn key_of(engine: Engine) -> &'static str {
    if engine.is_mongo() { "_id" } else { "id" }
}

async fn hooks_reshape_answer_and_reject(engine: Engine) {
    let Some(db) = fresh_db(engine, None).await else {
        return;
    };
    let app = TestApp::new().await;
    app.register("shop", &db).await;
    let id = key_of(engine);

    // pre_process reshapes the payload: the database stores what the script left
    app.script(
        "shop._table.customers.post.pre_process",
        r"
        var recs = event.request.payload.resource || [event.request.payload];
        recs.forEach(function (r) {
            r.email = String(r.email).toLowerCase();
            r.notes = 'stamped for ' + event.session.role;
        });
        ",
    )
    .await;
    let r = app
        .call(
            "POST /api/shop/_table/customers",
            Some(&json!({id: 70, "name": "Ray", "email": "RAY@Example.COM", "region": "west"})),
        )
        .await;
    assert_eq!(r.status, StatusCode::CREATED, "{}", r.text);
    let r = app.call("GET /api/shop/_table/customers/70", None).await;
    assert_eq!(r.json["email"], "ray@example.com", "{}", r.text);
    assert_eq!(r.json["notes"], "stamped for admin", "{}", r.text);

    // post_process reshapes the answer: the `{table_name}` script first, then the table's
    app.script(
        "shop._table.{table_name}.get.post_process",
        "event.response.content.hooked = event.resource; event.response.content.order = ['any'];",
    )
    .await;
    app.script(
        "shop._table.customers.get.post_process",
        r"
        (event.response.content.resource || []).forEach(function (r) { delete r.credit; });
        event.response.content.order.push('customers');
        ",
    )
    .await;
    let r = app
        .call(&format!("GET /api/shop/_table/customers?order={id}"), None)
        .await;
    assert_eq!(r.status, StatusCode::OK, "{}", r.text);
    assert_eq!(r.json["hooked"], "customers");
    assert_eq!(r.json["order"], json!(["any", "customers"]));
    let rows = r.json["resource"].as_array().unwrap();
    assert!(rows.len() >= 4, "{}", r.text);
    assert!(rows.iter().all(|r| r.get("credit").is_none()), "{}", r.text);
    let r = app.call("GET /api/shop/_table/products", None).await;
    assert_eq!(r.json["hooked"], "products", "{}", r.text);
    assert!(r.json.get("order").is_some());

    // pre_process changes parameters
    app.script(
        "shop._table.orders.get.pre_process",
        "event.request.params.limit = 1;",
    )
    .await;
    let r = app.call("GET /api/shop/_table/orders", None).await;
    assert_eq!(
        r.json["resource"].as_array().unwrap().len(),
        1,
        "{}",
        r.text
    );

    // pre_process answers without the database
    app.script(
        "shop._table.products.get.pre_process",
        "if (event.request.id === '999') event.response = {status_code: 200, content: {name: 'virtual'}};",
    )
    .await;
    let r = app.call("GET /api/shop/_table/products/999", None).await;
    assert_eq!(r.status, StatusCode::OK, "{}", r.text);
    assert_eq!(r.json, json!({"name": "virtual"}));
    let r = app.call("GET /api/shop/_table/products/998", None).await;
    assert_eq!(r.status, StatusCode::NOT_FOUND, "{}", r.text);

    // a rejection aborts with its status and message, and deletes nothing
    app.script(
        "shop._table.customers.delete.pre_process",
        "throw {status_code: 409, message: 'customers are never deleted'};",
    )
    .await;
    let r = app.call("DELETE /api/shop/_table/customers/1", None).await;
    assert_eq!(r.status, StatusCode::CONFLICT, "{}", r.text);
    assert_eq!(r.json["error"]["code"], "script_rejected");
    assert_eq!(r.json["error"]["message"], "customers are never deleted");
    assert_eq!(
        app.call("GET /api/shop/_table/customers/1", None)
            .await
            .status,
        StatusCode::OK
    );

    // a script that never ends is stopped; the write it guarded never happens
    app.script("shop._table.products.patch.pre_process", "for (;;) {}")
        .await;
    let r = app
        .call(
            "PATCH /api/shop/_table/products/1",
            Some(&json!({"stock": 0})),
        )
        .await;
    assert_eq!(r.status, StatusCode::INTERNAL_SERVER_ERROR, "{}", r.text);
    assert_eq!(r.json["error"]["code"], "script_error");
    assert_eq!(
        r.json["error"]["context"]["event"],
        "shop._table.products.patch.pre_process"
    );
    let r = app.call("GET /api/shop/_table/products/1", None).await;
    assert_ne!(r.json["stock"], json!(0), "{}", r.text);
}

#[tokio::test]
async fn sqlite_hooks() {
    hooks_reshape_answer_and_reject(Engine::Sqlite).await;
}

#[tokio::test]
async fn postgres_hooks() {
    hooks_reshape_answer_and_reject(Engine::Postgres).await;
}

#[tokio::test]
async fn mysql_hooks() {
    hooks_reshape_answer_and_reject(Engine::MySql).await;
}

#[tokio::test]
async fn mongodb_hooks() {
    hooks_reshape_answer_and_reject(Engine::MongoDb).await;
}

#[tokio::test]
async fn nx_hooks() {
    hooks_reshape_answer_and_reject(Engine::MongoNx).await;
}

/// An instance with the conformance database as service `shop` (SQLite).
async fn shop() -> Option<(TestApp, TestDb)> {
    let db = fresh_db(Engine::Sqlite, None).await?;
    let app = TestApp::with_config(|c| c.scripting.time_limit_ms = 100).await;
    app.register("shop", &db).await;
    Some((app, db))
}

#[tokio::test]
async fn limits_stop_hostile_scripts_and_the_server_stays_healthy() {
    let Some((app, _db)) = shop().await else {
        return;
    };

    // an endless loop: 500 within the limit, while other requests go on
    app.script("shop._table.products.get.pre_process", "while (true) {}")
        .await;
    let started = Instant::now();
    let (looped, other) = tokio::join!(
        app.call("GET /api/shop/_table/products", None),
        app.call("GET /api/shop/_table/customers/1", None)
    );
    assert_eq!(looped.status, StatusCode::INTERNAL_SERVER_ERROR);
    assert_eq!(looped.json["error"]["code"], "script_error");
    assert!(
        looped.json["error"]["message"]
            .as_str()
            .unwrap()
            .contains("time limit"),
        "{}",
        looped.text
    );
    assert!(started.elapsed() < Duration::from_secs(2));
    assert_eq!(other.status, StatusCode::OK, "{}", other.text);
    assert_eq!(app.call("GET /health", None).await.status, StatusCode::OK);

    // catching the interruption does not save a script
    app.script(
        "shop._table.products.get.pre_process",
        "for (;;) { try { for (;;) {} } catch (e) {} }",
    )
    .await;
    let r = app.call("GET /api/shop/_table/products", None).await;
    assert_eq!(r.json["error"]["code"], "script_error", "{}", r.text);

    // a huge allocation ends at the memory limit
    for hog in [
        "var a = []; for (;;) a.push(new Array(1e5).fill(event));",
        "var s = 'x'.repeat(1 << 28);",
        "new ArrayBuffer(1 << 30);",
    ] {
        app.script("shop._table.products.get.pre_process", hog)
            .await;
        let r = app.call("GET /api/shop/_table/products", None).await;
        assert_eq!(r.status, StatusCode::INTERNAL_SERVER_ERROR, "{hog}");
        assert_eq!(r.json["error"]["code"], "script_error");
        assert!(
            r.json["error"]["message"]
                .as_str()
                .unwrap()
                .contains("memory limit"),
            "{hog}: {}",
            r.text
        );
    }

    // no files, network, processes or timers to reach
    app.script(
        "shop._table.products.get.pre_process",
        r"
        var reach = {};
        ['require', 'process', 'std', 'os', 'fetch', 'XMLHttpRequest', 'WebSocket',
         'setTimeout', 'setInterval', 'Deno', 'Bun', 'module', 'importScripts'].forEach(function (n) {
            reach[n] = typeof globalThis[n];
        });
        try { new Function('return this')().x = 1; reach.function_ctor = 'ok'; } catch (e) { reach.function_ctor = 'blocked'; }
        event.response = {content: reach};
        ",
    )
    .await;
    let r = app.call("GET /api/shop/_table/products", None).await;
    assert_eq!(r.status, StatusCode::OK, "{}", r.text);
    for (name, kind) in r.json.as_object().unwrap() {
        if name != "function_ctor" {
            assert_eq!(kind, "undefined", "{name} is reachable from a script");
        }
    }
    // a dynamic import has no loader behind it
    app.script(
        "shop._table.products.get.pre_process",
        "import('/etc/passwd').then(function (m) { event.response = {content: m}; });",
    )
    .await;
    let r = app.call("GET /api/shop/_table/products", None).await;
    assert_eq!(r.status, StatusCode::OK, "{}", r.text);
    assert!(r.json["resource"].is_array(), "{}", r.text);

    // a script's own error is a 500 naming the event, its detail only logged
    app.script(
        "shop._table.products.get.pre_process",
        "null.secret_detail;",
    )
    .await;
    let r = app.call("GET /api/shop/_table/products", None).await;
    assert_eq!(r.json["error"]["code"], "script_error");
    assert!(!r.text.contains("secret_detail"), "{}", r.text);

    // nothing a script left behind reaches the next call
    app.script(
        "shop._table.products.get.pre_process",
        "event.response = {content: {seen: typeof globalThis.leftover}}; globalThis.leftover = 1;",
    )
    .await;
    for _ in 0..2 {
        let r = app.call("GET /api/shop/_table/products", None).await;
        assert_eq!(r.json, json!({"seen": "undefined"}));
    }
}

#[tokio::test]
async fn scripts_see_the_session_and_no_credentials() {
    let Some((app, _db)) = shop().await else {
        return;
    };
    std::fs::write(
        app.policy_file(),
        "p, clerk, shop, _table/*, GET|POST, allow\n",
    )
    .unwrap();
    app.app.state.policy.reload().await;
    app.script(
        "shop._table.customers.get.pre_process",
        "event.response = {content: {session: event.session, headers: event.request.headers, method: event.request.method, params: event.request.params}};",
    )
    .await;
    let token = app.session("clerk@example.com", "clerk").await;
    let r = app
        .call_with(
            "GET /api/shop/_table/customers?limit=5&filter=id%3E1&session_token=x&probe=1",
            None,
            &[
                ("authorization", &format!("Bearer {token}")),
                ("x-trace", "t-1"),
            ],
        )
        .await;
    assert_eq!(r.status, StatusCode::OK, "{}", r.text);
    assert_eq!(r.json["session"]["role"], "clerk");
    assert_eq!(r.json["session"]["user"]["email"], "clerk@example.com");
    assert_eq!(r.json["method"], "GET");
    // every parameter reaches the script, those the API does not take too
    // (the script is there to read them); credentials do not
    assert_eq!(
        r.json["params"],
        json!({"filter": "id>1", "limit": "5", "probe": "1"})
    );
    assert_eq!(r.json["headers"]["x-trace"], "t-1");
    assert!(!r.text.contains(&token), "the token reached a script");
    // an API key caller: no user, the app's name
    let key = app.api_key("clerk").await;
    let r = app
        .as_key(&key, "GET /api/shop/_table/customers", None)
        .await;
    assert_eq!(r.json["session"]["user"], Value::Null);
    assert!(
        r.json["session"]["app"]
            .as_str()
            .unwrap()
            .starts_with("clerk-")
    );
    assert!(!r.text.contains(&key), "the key reached a script");
    // hooks run after authorization: a denied verb never reaches a script
    app.script(
        "shop._table.customers.delete.pre_process",
        "event.response = {content: 'should not run'};",
    )
    .await;
    let r = app
        .as_key(&key, "DELETE /api/shop/_table/customers/1", None)
        .await;
    assert_eq!(r.status, StatusCode::FORBIDDEN, "{}", r.text);
}

#[tokio::test]
async fn wide_numbers_survive_a_script_that_only_reads() {
    let Some((app, _db)) = shop().await else {
        return;
    };
    app.script(
        "shop._table.typed.get.post_process",
        "var n = event.response.content.resource.length;",
    )
    .await;
    let r = app
        .call("GET /api/shop/_table/typed?fields=id,big", None)
        .await;
    assert_eq!(r.status, StatusCode::OK, "{}", r.text);
    assert!(r.text.contains("9007199254740993"), "{}", r.text);
}

/// Polls `f` until it is true, for at most `limit`.
async fn within<F, Fut>(limit: Duration, mut f: F) -> bool
where
    F: FnMut() -> Fut,
    Fut: std::future::Future<Output = bool>,
{
    let start = Instant::now();
    while start.elapsed() < limit {
        if f().await {
            return true;
        }
        tokio::time::sleep(Duration::from_millis(25)).await;
    }
    false
}

#[tokio::test]
async fn script_files_reload_and_records_replace_them() {
    let Some((app, _db)) = shop().await else {
        return;
    };
    let event = "shop._table.products.get.post_process";
    let by = || async { app.call("GET /api/shop/_table/products", None).await.json["by"].clone() };
    // a new file takes effect without a restart
    std::fs::write(
        app.script_file(event),
        "event.response.content.by = 'file';",
    )
    .unwrap();
    assert!(
        within(Duration::from_secs(3), || async { by().await == "file" }).await,
        "the new script file was not picked up"
    );
    // a record for the same event replaces it; deleting the record brings it back
    app.script(event, "event.response.content.by = 'record';")
        .await;
    assert_eq!(by().await, "record");
    let r = app.call("GET /api/system/event_script", None).await;
    let list = r.json["resource"].as_array().unwrap();
    let origins: Vec<(&str, bool)> = list
        .iter()
        .map(|s| {
            (
                s["origin"].as_str().unwrap(),
                s["in_force"].as_bool().unwrap(),
            )
        })
        .collect();
    assert_eq!(origins, [("record", true), ("file", false)], "{}", r.text);
    let r = app
        .call(&format!("DELETE /api/system/event_script/{event}"), None)
        .await;
    assert_eq!(r.status, StatusCode::OK, "{}", r.text);
    assert_eq!(by().await, "file");
    // a file that does not compile fails its event rather than letting requests through
    std::fs::write(app.script_file(event), "this is ( not javascript").unwrap();
    assert!(
        within(Duration::from_secs(3), || async {
            app.call("GET /api/shop/_table/products", None).await.status
                == StatusCode::INTERNAL_SERVER_ERROR
        })
        .await,
        "a broken script file was skipped"
    );
    // removing the file removes the hook
    std::fs::remove_file(app.script_file(event)).unwrap();
    assert!(
        within(Duration::from_secs(3), || async {
            let r = app.call("GET /api/shop/_table/products", None).await;
            r.status == StatusCode::OK && r.json.get("by").is_none()
        })
        .await
    );
}

#[tokio::test]
async fn event_script_records_are_admin_only_and_checked() {
    let Some((app, _db)) = shop().await else {
        return;
    };
    let path = "/api/system/event_script/shop._table.products.get.post_process";
    let body = json!({"type": "v8js", "content": "event.response.content.x = 1;"});
    let r = app.call(&format!("POST {path}"), Some(&body)).await;
    assert_eq!(r.status, StatusCode::CREATED, "{}", r.text);
    assert_eq!(r.json["is_active"], true);
    let r = app.call(&format!("POST {path}"), Some(&body)).await;
    assert_eq!(r.status, StatusCode::CONFLICT, "{}", r.text);
    assert_eq!(
        app.call("GET /api/shop/_table/products", None).await.json["x"],
        1
    );

    // what cannot be saved
    let r = app
        .call(
            "POST /api/system/event_script/shop.products.get",
            Some(&body),
        )
        .await;
    assert_eq!(r.status, StatusCode::BAD_REQUEST, "{}", r.text);
    assert_eq!(r.json["error"]["context"]["field"], "name");
    let r = app
        .call(&format!("PUT {path}"), Some(&json!({"content": "if ( {"})))
        .await;
    assert_eq!(r.status, StatusCode::BAD_REQUEST, "{}", r.text);
    assert_eq!(r.json["error"]["context"]["field"], "content");
    let r = app
        .call(
            &format!("PUT {path}"),
            Some(&json!({"content": "1", "type": "php"})),
        )
        .await;
    assert_eq!(r.status, StatusCode::BAD_REQUEST, "{}", r.text);
    let r = app
        .call(&format!("PUT {path}"), Some(&json!({"contents": "1"})))
        .await;
    assert_eq!(r.json["error"]["code"], "unknown_field", "{}", r.text);
    let r = app.call(&format!("PUT {path}"), Some(&json!({}))).await;
    assert_eq!(r.json["error"]["code"], "missing_field", "{}", r.text);
    // the old script is still in force after the refused changes
    assert_eq!(
        app.call("GET /api/shop/_table/products", None).await.json["x"],
        1
    );

    // admin only
    let key = app.api_key("clerk").await;
    let r = app.as_key(&key, &format!("GET {path}"), None).await;
    assert_eq!(r.status, StatusCode::FORBIDDEN, "{}", r.text);
    let r = app
        .call_with(&format!("PUT {path}"), Some(&body), &[])
        .await;
    assert_eq!(r.status, StatusCode::UNAUTHORIZED, "{}", r.text);

    // another instance on the same store takes the record at its next sync
    let other = app.another_instance().await;
    assert_eq!(
        other.call("GET /api/shop/_table/products", None).await.json["x"],
        1
    );
    let r = app
        .call(&format!("PATCH {path}"), Some(&json!({"is_active": false})))
        .await;
    assert_eq!(r.status, StatusCode::OK, "{}", r.text);
    assert_eq!(r.json["is_active"], false);
    assert!(
        app.call("GET /api/shop/_table/products", None)
            .await
            .json
            .get("x")
            .is_none()
    );
    other.app.state.sync_services().await.unwrap();
    assert!(
        other
            .call("GET /api/shop/_table/products", None)
            .await
            .json
            .get("x")
            .is_none()
    );

    let r = app.call(&format!("DELETE {path}"), None).await;
    assert_eq!(r.status, StatusCode::OK, "{}", r.text);
    let r = app.call(&format!("DELETE {path}"), None).await;
    assert_eq!(r.status, StatusCode::NOT_FOUND, "{}", r.text);
}

#[tokio::test]
async fn the_shipped_examples_work_on_the_demo() {
    let app = TestApp::with_config(|c| {
        c.demo = true;
        let examples = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("scripts/examples");
        for f in std::fs::read_dir(examples).unwrap() {
            let f = f.unwrap().path();
            std::fs::copy(&f, c.scripts_dir.join(f.file_name().unwrap())).unwrap();
        }
    })
    .await;
    assert_eq!(app.app.state.hooks.files().len(), 4);

    // validate an email
    let r = app
        .call(
            "POST /api/demo/_table/customers",
            Some(&json!({"name": "Nobody", "email": "not-an-email"})),
        )
        .await;
    assert_eq!(r.status, StatusCode::UNPROCESSABLE_ENTITY, "{}", r.text);
    assert_eq!(r.json["error"]["code"], "script_rejected");
    let r = app
        .call(
            "POST /api/demo/_table/customers",
            Some(&json!({"resource": [{"name": "Some One", "email": " Some.One@Example.com "}]})),
        )
        .await;
    assert_eq!(r.status, StatusCode::CREATED, "{}", r.text);
    let id = r.json["resource"][0]["id"].as_i64().unwrap();
    let r = app
        .call(&format!("GET /api/demo/_table/customers/{id}"), None)
        .await;
    assert_eq!(r.json["email"], "some.one@example.com");

    // stamp updated_at
    let r = app
        .call(
            "PATCH /api/demo/_table/orders/1",
            Some(&json!({"status": "paid"})),
        )
        .await;
    assert_eq!(r.status, StatusCode::OK, "{}", r.text);
    let r = app.call("GET /api/demo/_table/orders/1", None).await;
    assert!(
        r.json["updated_at"]
            .as_str()
            .is_some_and(|t| t.starts_with("20")),
        "{}",
        r.text
    );

    // drop a field from responses (for everyone but admin)
    std::fs::write(app.policy_file(), "p, hr, demo, _table/*, GET, allow\n").unwrap();
    app.app.state.policy.reload().await;
    let key = app.api_key("hr").await;
    let r = app
        .as_key(&key, "GET /api/demo/_table/employees", None)
        .await;
    assert_eq!(r.status, StatusCode::OK, "{}", r.text);
    let rows = r.json["resource"].as_array().unwrap();
    assert!(
        !rows.is_empty()
            && rows
                .iter()
                .all(|e| e.get("salary").is_none() && e.get("name").is_some())
    );
    let r = app.call("GET /api/demo/_table/employees/1", None).await;
    assert!(r.json.get("salary").is_some(), "{}", r.text);

    // reject deletes on weekends (UTC), on every table
    let weekend = matches!(
        chrono::Utc::now().format("%u").to_string().as_str(),
        "6" | "7"
    );
    let r = app
        .call("DELETE /api/demo/_table/order_items/1,1", None)
        .await;
    if weekend {
        assert_eq!(r.status, StatusCode::FORBIDDEN, "{}", r.text);
        assert_eq!(r.json["error"]["code"], "script_rejected");
    } else {
        assert_eq!(r.status, StatusCode::OK, "{}", r.text);
    }
}

/// DreamFactory's record events (`{table}.{id}`): they run for a request on
/// one record by its path id, after the table's own, and not for the table.
#[tokio::test]
async fn record_events_fire_for_one_record() {
    let Some((app, _db)) = shop().await else {
        return;
    };
    app.script(
        "shop._table.customers.{id}.get.post_process",
        "event.response.content.seen_by = 'record';",
    )
    .await;
    app.script(
        "shop._table.customers.get.post_process",
        "if (event.response.content.resource === undefined) { event.response.content.table_first = event.response.content.seen_by === undefined; }",
    )
    .await;
    let r = app.call("GET /api/shop/_table/customers/1", None).await;
    assert_eq!(r.status, StatusCode::OK, "{}", r.text);
    assert_eq!(r.json["seen_by"], "record", "{}", r.text);
    assert_eq!(r.json["table_first"], true, "{}", r.text);
    let r = app
        .call("GET /api/shop/_table/customers?limit=1", None)
        .await;
    assert_eq!(r.json.get("seen_by"), None, "{}", r.text);
    // the admin API takes the name
    let r = app
        .call(
            "POST /api/system/event_script/shop._table.orders.{id}.patch.pre_process",
            Some(&json!({"content": "event.request.payload.status = 'x';"})),
        )
        .await;
    assert_eq!(r.status, StatusCode::CREATED, "{}", r.text);
}
