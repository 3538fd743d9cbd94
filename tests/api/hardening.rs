//! Hostile requests on every engine: filters nested or long enough to
//! overflow a recursive parser or occupy a database, parameter lists beyond
//! an engine's limits, bodies sent by callers who may not write. Each answer
//! must be a clear 4xx in the envelope, never a crash, a 5xx or a lost
//! connection, and the service must answer normally right after.

use crate::common::{ADMIN_KEY, Engine, Reply, TestApp, TestDb, fresh_db};
use axum::http::StatusCode;
use serde_json::{Value, json};

/// A list request with its parameters in a tunnelled body (long filters do
/// not fit a URL).
async fn list(app: &TestApp, table: &str, params: Value) -> Reply {
    app.call_with(
        &format!("POST /api/svc/_table/{table}"),
        Some(&params),
        &[("x-api-key", ADMIN_KEY), ("x-http-method", "GET")],
    )
    .await
}

fn error_of(r: &Reply) -> (&str, &Value) {
    (
        r.json["error"]["code"].as_str().unwrap_or(""),
        &r.json["error"]["context"],
    )
}

#[track_caller]
fn refused(r: &Reply, code: &str, limit: &str) {
    assert_eq!(r.status, StatusCode::BAD_REQUEST, "{}", r.text);
    let (got, ctx) = error_of(r);
    assert_eq!(got, code, "{}", r.text);
    assert_eq!(ctx["limit"], limit, "{}", r.text);
}

async fn served(
    engine: Engine,
    edit: impl FnOnce(&mut gatehouse::Config),
) -> Option<(TestApp, TestDb)> {
    let db = fresh_db(engine, None).await?;
    let app = TestApp::with_config(edit).await;
    app.register("svc", &db).await;
    Some((app, db))
}

/// The service still answers a plain read.
async fn still_serves(app: &TestApp, key: &str) {
    let r = list(app, "customers", json!({"filter": format!("{key} = 1")})).await;
    assert_eq!(r.status, StatusCode::OK, "{}", r.text);
    assert_eq!(
        r.json["resource"].as_array().map(Vec::len),
        Some(1),
        "{}",
        r.text
    );
}

async fn nested_and_long_filters(engine: Engine) {
    let Some((app, _db)) = served(engine, |_| {}).await else {
        return;
    };
    let key = if engine.is_mongo() { "_id" } else { "id" };
    let eq = format!("{key} = 1");
    // 1,250 parentheses (a 2.5 KB filter) used to overflow the parser's stack
    let parens = format!("{}{eq}{}", "(".repeat(1250), ")".repeat(1250));
    let r = list(&app, "customers", json!({ "filter": parens })).await;
    refused(&r, "filter_too_complex", "max_depth");
    assert_eq!(r.json["error"]["context"]["position"], 32, "{}", r.text);
    let nots = format!("{}{eq}", "not ".repeat(2000));
    refused(
        &list(&app, "customers", json!({ "filter": nots })).await,
        "filter_too_complex",
        "max_depth",
    );
    let ors = format!(
        "{}{eq}{}",
        format!("{eq} or (").repeat(1250),
        ")".repeat(1250)
    );
    refused(
        &list(&app, "customers", json!({ "filter": ors })).await,
        "filter_too_complex",
        "max_depth",
    );
    // deep, but within the limit: answered
    let deep = format!("{}{eq}{}", "(".repeat(31), ")".repeat(31));
    let r = list(&app, "customers", json!({ "filter": deep })).await;
    assert_eq!(r.status, StatusCode::OK, "{}", r.text);
    // 20,000 ORed terms kept PostgreSQL busy for 23 s: longer than 64 KiB
    let many = vec![eq.as_str(); 20_000].join(" or ");
    refused(
        &list(&app, "customers", json!({ "filter": many })).await,
        "filter_too_complex",
        "max_length",
    );
    let many = vec![eq.as_str(); 1001].join(" or ");
    refused(
        &list(&app, "customers", json!({ "filter": many })).await,
        "filter_too_complex",
        "max_terms",
    );
    let long = format!("name = '{}'", "x".repeat(70_000));
    refused(
        &list(&app, "customers", json!({ "filter": long })).await,
        "filter_too_complex",
        "max_length",
    );
    // 1,000 ANDed terms: SQLite refused the expression tree as too large (500)
    let anded = vec![format!("{key} > 0"); 1000].join(" and ");
    let r = list(&app, "customers", json!({ "filter": anded, "limit": 2 })).await;
    assert_eq!(r.status, StatusCode::OK, "{}", r.text);
    assert_eq!(r.json["resource"].as_array().map(Vec::len), Some(2));
    still_serves(&app, key).await;
}

async fn long_parameter_lists(engine: Engine) {
    let Some((app, _db)) = served(engine, |_| {}).await else {
        return;
    };
    let key = if engine.is_mongo() { "_id" } else { "id" };
    // 1,000 ids: SQLite answered 500 (an expression tree too large)
    let ids = vec!["1"; 1000].join(",");
    let r = list(&app, "customers", json!({ "ids": ids, "fields": key })).await;
    assert_eq!(r.status, StatusCode::OK, "{}", r.text);
    assert_eq!(r.json["resource"].as_array().map(Vec::len), Some(1000));
    assert_eq!(r.json["resource"][999][key], 1, "{}", r.text);
    let ids = vec!["1"; 1001].join(",");
    let r = list(&app, "customers", json!({ "ids": ids })).await;
    refused(&r, "limit_exceeded", "max_ids");
    assert_eq!(r.json["error"]["context"]["parameter"], "ids");
    let fields = vec![key; 1001].join(",");
    refused(
        &list(&app, "customers", json!({ "fields": fields })).await,
        "limit_exceeded",
        "max_fields",
    );
    let order = vec![key; 33].join(",");
    refused(
        &list(&app, "customers", json!({ "order": order })).await,
        "limit_exceeded",
        "max_order",
    );
    // a write by ids has the same limit
    let ids = vec!["1"; 1001].join(",");
    let r = app
        .call(
            &format!("PATCH /api/svc/_table/customers?ids={ids}"),
            Some(&json!({"notes": "x"})),
        )
        .await;
    refused(&r, "limit_exceeded", "max_ids");
    still_serves(&app, key).await;
}

/// Limits raised by an admin still meet the engine's own: those are 400s
/// decided before the database, and the connection the request would have
/// used keeps serving.
async fn past_the_engine_limits(engine: Engine) {
    let Some((app, _db)) = served(engine, |c| {
        c.limits.max_fields = 5000;
        c.limits.max_filter_values = 200_000;
        c.limits.max_filter_length = 2_000_000;
    })
    .await
    else {
        return;
    };
    let key = if engine.is_mongo() { "_id" } else { "id" };
    // a name given 2,000 times is one column (PostgreSQL takes at most 1,664)
    let fields = vec![key; 2000].join(",");
    let r = list(&app, "customers", json!({ "fields": fields, "limit": 1 })).await;
    assert_eq!(r.status, StatusCode::OK, "{}", r.text);
    assert_eq!(
        r.json["resource"][0].as_object().map(serde_json::Map::len),
        Some(1)
    );
    // 70,000 bound values: more than PostgreSQL's and MySQL's 65,535 and
    // SQLite's 32,766; sqlx failed it as a protocol error (503) and dropped
    // a healthy connection each time
    let values = vec!["1"; 70_000].join(",");
    let filter = format!("{key} in ({values})");
    for _ in 0..12 {
        let r = list(&app, "customers", json!({ "filter": filter })).await;
        if engine.is_mongo() {
            // why: a MongoDB query takes any number of values within its 16 MB document
            assert_eq!(r.status, StatusCode::OK, "{}", r.text);
            continue;
        }
        assert_eq!(r.status, StatusCode::BAD_REQUEST, "{}", r.text);
        assert_eq!(error_of(&r).0, "limit_exceeded", "{}", r.text);
        assert!(
            r.json["error"]["message"]
                .as_str()
                .is_some_and(|m| m.contains("at most")),
            "{}",
            r.text
        );
    }
    still_serves(&app, key).await;
}

every_engine!(
    nested_and_long_filters => nested_and_long_filters,
    long_parameter_lists => long_parameter_lists,
    past_the_engine_limits => past_the_engine_limits,
);

/// A caller who may not write gets 401/403 whatever the body: it is not read
/// (it used to be parsed first: anonymous bad JSON was a 400, a huge body 413).
#[tokio::test]
async fn bodies_are_read_after_authorization() {
    let Some((app, _db)) = served(Engine::Sqlite, |c| c.max_body_bytes = 1024).await else {
        return;
    };
    let post = "POST /api/svc/_table/customers";
    let big = "x".repeat(10_000);
    let r = app.call_raw_with(post, "{not json", &[]).await;
    assert_eq!(r.status, StatusCode::UNAUTHORIZED, "{}", r.text);
    let r = app.call_raw_with(post, &big, &[]).await;
    assert_eq!(r.status, StatusCode::UNAUTHORIZED, "{}", r.text);
    // a role without write access: 403, not 400
    let key = app.api_key("reader").await;
    let r = app
        .call_raw_with(post, "{not json", &[("x-api-key", key.as_str())])
        .await;
    assert_eq!(r.status, StatusCode::FORBIDDEN, "{}", r.text);
    // the admin still gets the body's errors
    let r = app.call_raw(post, "{not json").await;
    assert_eq!(r.status, StatusCode::BAD_REQUEST, "{}", r.text);
    assert_eq!(r.json["error"]["code"], "invalid_json");
    let r = app.call_raw(post, &big).await;
    assert_eq!(r.status, StatusCode::PAYLOAD_TOO_LARGE, "{}", r.text);
}

/// `{role}`, `{user.id}` and `{user.email}` mean the caller in a request's
/// filter as in a row filter (they were 400: a parameter without a value).
#[tokio::test]
async fn caller_placeholders_in_request_filters() {
    let Some((app, _db)) = served(Engine::Sqlite, |_| {}).await else {
        return;
    };
    let r = list(
        &app,
        "customers",
        json!({"filter": "name != {role} and id = 1"}),
    )
    .await;
    assert_eq!(r.status, StatusCode::OK, "{}", r.text);
    assert_eq!(r.json["resource"].as_array().map(Vec::len), Some(1));
    let r = list(&app, "customers", json!({"filter": "notes = {role}"})).await;
    assert_eq!(
        r.json["resource"].as_array().map(Vec::len),
        Some(0),
        "{}",
        r.text
    );
    let token = app.session("ada@example.com", "admin").await;
    let bearer = format!("Bearer {token}");
    let r = app
        .call_with(
            "POST /api/svc/_table/customers",
            Some(&json!({"filter": "email = {user.email} or id = {user.id}"})),
            &[("authorization", bearer.as_str()), ("x-http-method", "GET")],
        )
        .await;
    assert_eq!(r.status, StatusCode::OK, "{}", r.text);
    let names: Vec<&str> = r.json["resource"]
        .as_array()
        .unwrap()
        .iter()
        .filter_map(|c| c["email"].as_str())
        .collect();
    assert!(names.contains(&"ada@example.com"), "{}", r.text);
    // an API key has no user: {user.id} has no value, which says so
    let r = list(&app, "customers", json!({"filter": "id = {user.id}"})).await;
    assert_eq!(r.status, StatusCode::BAD_REQUEST, "{}", r.text);
    assert!(r.text.contains("user.id"), "{}", r.text);
}

/// `/ready` tells anyone whether the instance is ready, and only an admin
/// which services there are.
#[tokio::test]
async fn ready_names_services_only_to_an_admin() {
    let Some((app, _db)) = served(Engine::Sqlite, |_| {}).await else {
        return;
    };
    let r = app.call_with("GET /ready", None, &[]).await;
    assert_eq!(r.status, StatusCode::OK);
    assert_eq!(r.json, json!({"status": "ready"}), "{}", r.text);
    let key = app.api_key("reader").await;
    let r = app.as_key(&key, "GET /ready", None).await;
    assert_eq!(r.json, json!({"status": "ready"}), "{}", r.text);
    let r = app.call("GET /ready", None).await;
    assert_eq!(r.json["services"]["svc"], "ok", "{}", r.text);
}

/// How many statements on the view `slow` the server is running.
async fn running_slow(engine: Engine, url: &str) -> i64 {
    use sqlx::Connection;
    match engine {
        // SQLite runs in this process (nextest gives each test its own): a
        // statement running is a thread busy on a core
        Engine::Sqlite => {
            let cpu = || {
                let stat = std::fs::read_to_string("/proc/self/stat").unwrap();
                let after = stat.rsplit(')').next().unwrap();
                let f: Vec<&str> = after.split_whitespace().collect();
                // utime + stime, in clock ticks (fields 14 and 15; f[0] is field 3)
                f[11].parse::<u64>().unwrap() + f[12].parse::<u64>().unwrap()
            };
            let before = cpu();
            tokio::time::sleep(std::time::Duration::from_millis(500)).await;
            // ticks are 10 ms: a busy core is ~50 over half a second
            i64::from(cpu() - before > 25)
        }
        Engine::Postgres => {
            let mut c = sqlx::PgConnection::connect(url).await.unwrap();
            sqlx::query_scalar(
                "SELECT count(*) FROM pg_stat_activity WHERE datname = current_database() \
                 AND state = 'active' AND query LIKE '%slow%' AND pid <> pg_backend_pid()",
            )
            .fetch_one(&mut c)
            .await
            .unwrap()
        }
        _ => {
            let mut c = sqlx::MySqlConnection::connect(url).await.unwrap();
            sqlx::query_scalar(
                "SELECT COUNT(*) FROM information_schema.PROCESSLIST WHERE INFO LIKE '%slow%' \
                 AND ID <> CONNECTION_ID() AND COMMAND <> 'Sleep'",
            )
            .fetch_one(&mut c)
            .await
            .unwrap()
        }
    }
}

/// A client that hangs up mid-query has its query cancelled in the database
/// (it used to run on to its end: minutes for a slow one). Over real TCP,
/// where hyper drops the request when the connection closes.
async fn a_query_whose_client_left_is_cancelled(engine: Engine) {
    use tokio::io::AsyncWriteExt;
    let view = match engine {
        Engine::Postgres => "CREATE VIEW slow AS SELECT 1 AS id, pg_sleep(60)::text AS nap;",
        Engine::Sqlite => {
            "CREATE VIEW slow AS WITH RECURSIVE c(x) AS (SELECT 1 UNION ALL SELECT x + 1 FROM c \
             WHERE x < 5000000000) SELECT 1 AS id, max(x) AS nap FROM c;"
        }
        _ => "CREATE VIEW slow AS SELECT 1 AS id, SLEEP(60) AS nap;",
    };
    let Some(db) = fresh_db(engine, Some(view)).await else {
        return;
    };
    let app = TestApp::new().await;
    app.register("svc", &db).await;
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let addr = listener.local_addr().unwrap();
    let router = app.router.clone();
    tokio::spawn(async move { axum::serve(listener, router).await });

    let mut client = tokio::net::TcpStream::connect(addr).await.unwrap();
    let request =
        format!("GET /api/svc/_table/slow HTTP/1.1\r\nhost: x\r\nx-api-key: {ADMIN_KEY}\r\n\r\n");
    client.write_all(request.as_bytes()).await.unwrap();
    let started = std::time::Instant::now();
    while running_slow(engine, &db.url).await == 0 {
        assert!(started.elapsed().as_secs() < 10, "the query never started");
        tokio::time::sleep(std::time::Duration::from_millis(50)).await;
    }
    drop(client);
    let left = std::time::Instant::now();
    while running_slow(engine, &db.url).await > 0 {
        assert!(
            left.elapsed().as_secs() < 5,
            "the query runs on after its client left"
        );
        tokio::time::sleep(std::time::Duration::from_millis(50)).await;
    }
    // the service answers the next request
    let r = app.call("GET /api/svc/_table", None).await;
    assert_eq!(r.status, StatusCode::OK, "{}", r.text);
}

mod client_left {
    use super::*;
    #[tokio::test]
    async fn postgres() {
        a_query_whose_client_left_is_cancelled(Engine::Postgres).await;
    }
    #[tokio::test]
    async fn mysql() {
        a_query_whose_client_left_is_cancelled(Engine::MySql).await;
    }
    #[tokio::test]
    async fn sqlite() {
        a_query_whose_client_left_is_cancelled(Engine::Sqlite).await;
    }
}
