//! Authorization (docs/API.md §6, §9): an allow/deny matrix from a real policy
//! file, row filters and hidden columns on every engine, hot reload, the
//! policy endpoints, rate limits and CORS.

use crate::common::{ADMIN_KEY, Engine, Reply, TestApp, fresh_db};
use axum::http::StatusCode;
use serde_json::{Value, json};
use std::path::PathBuf;
use std::time::{Duration, Instant};

fn fixture_policy(name: &str) -> String {
    let path =
        PathBuf::from(env!("CARGO_MANIFEST_DIR")).join(format!("tests/fixtures/policies/{name}"));
    std::fs::read_to_string(path).unwrap()
}

/// Sends with `key` (an API key), or no credentials at all for `None`.
async fn send(app: &TestApp, key: Option<&str>, target: &str, body: Option<&Value>) -> Reply {
    match key {
        Some(k) => app.as_key(k, target, body).await,
        None => app.call_with(target, body, &[]).await,
    }
}

#[tokio::test]
async fn allow_deny_matrix() {
    let (Some(shop), Some(hr)) = (
        fresh_db(Engine::Sqlite, None).await,
        fresh_db(Engine::Sqlite, None).await,
    ) else {
        return;
    };
    let app = TestApp::with_policy(&fixture_policy("matrix.csv")).await;
    app.register("shop", &shop).await;
    app.register("hr", &hr).await;
    let mut keys = std::collections::HashMap::new();
    for role in ["analyst", "sales", "lead", "hr", "ops", "nobody"] {
        keys.insert(role, app.api_key(role).await);
    }
    keys.insert("admin", ADMIN_KEY.to_string());
    let none = json!({"id": -1});
    let order = json!({"customer_id": 1, "ordered_at": "2024-05-01T10:00:00Z"});
    // (role, request, allowed); writes aim at nothing (id -1) or are complete records
    let cases: &[(&str, &str, Option<&Value>, bool)] = &[
        ("analyst", "GET /api/shop/_table/orders", None, true),
        ("analyst", "GET /api/shop/_table/orders/1", None, true),
        ("analyst", "GET /api/shop/_schema/orders", None, true),
        (
            "analyst",
            "POST /api/shop/_table/orders",
            Some(&order),
            false,
        ),
        (
            "analyst",
            "DELETE /api/shop/_table/customers?filter=id%3D-1",
            None,
            false,
        ),
        ("analyst", "GET /api/hr/_table/customers", None, false),
        ("sales", "GET /api/shop/_table/orders", None, true),
        ("sales", "POST /api/shop/_table/orders", Some(&order), true),
        (
            "sales",
            "PATCH /api/shop/_table/customers?filter=id%3D-1",
            Some(&json!({"notes": "x"})),
            true,
        ),
        (
            "sales",
            "DELETE /api/shop/_table/orders?filter=id%3D-1",
            None,
            false,
        ),
        (
            "sales",
            "DELETE /api/shop/_table/customers?filter=id%3D-1",
            None,
            false,
        ),
        (
            "sales",
            "PUT /api/shop/_table/orders/1",
            Some(&order),
            false,
        ),
        ("sales", "GET /api/shop/_table/products", None, false),
        ("sales", "GET /api/shop/_schema/orders", None, false),
        (
            "lead",
            "DELETE /api/shop/_table/orders?filter=id%3D-1",
            None,
            true,
        ),
        (
            "lead",
            "DELETE /api/shop/_table/customers?filter=id%3D-1",
            None,
            false,
        ),
        ("lead", "GET /api/shop/_table/products", None, true),
        ("lead", "POST /api/shop/_table/orders", Some(&order), true),
        ("hr", "GET /api/hr/_table/customers", None, true),
        (
            "hr",
            "DELETE /api/hr/_table/orders?filter=id%3D-1",
            None,
            true,
        ),
        ("hr", "GET /api/hr/_schema/customers", None, true),
        ("hr", "GET /api/shop/_table/customers", None, false),
        ("anonymous", "GET /api/shop/_table/products", None, true),
        ("anonymous", "GET /api/shop/_table/customers", None, false),
        (
            "anonymous",
            "POST /api/shop/_table/products",
            Some(&none),
            false,
        ),
        ("ops", "GET /api/hr/_table/orders", None, true),
        (
            "ops",
            "DELETE /api/shop/_table/products?filter=id%3D-1",
            None,
            true,
        ),
        ("ops", "GET /api/shop/_table/customers", None, false),
        ("ops", "GET /api/hr/_table/customers/1", None, false),
        ("nobody", "GET /api/shop/_table/orders", None, false),
        (
            "admin",
            "DELETE /api/shop/_table/customers?filter=id%3D-1",
            None,
            true,
        ),
        ("admin", "GET /api/hr/_schema/orders", None, true),
    ];
    let mut failures = Vec::new();
    for (role, target, body, allowed) in cases {
        let key = keys.get(role).map(String::as_str);
        let r = send(&app, key, target, *body).await;
        let denied = matches!(r.status, StatusCode::FORBIDDEN | StatusCode::UNAUTHORIZED);
        let expected_denial = if *role == "anonymous" {
            StatusCode::UNAUTHORIZED
        } else {
            StatusCode::FORBIDDEN
        };
        if *allowed == denied
            || (denied && r.status != expected_denial)
            || (r.status.is_server_error())
        {
            failures.push(format!("{role} {target}: {} {}", r.status, r.text));
        }
    }
    assert!(failures.is_empty(), "{failures:#?}");

    // listings show only what the role may read
    let names = |r: &Reply| -> Vec<String> {
        r.json["resource"]
            .as_array()
            .unwrap()
            .iter()
            .map(|t| t["name"].as_str().unwrap().to_string())
            .collect()
    };
    let r = send(&app, Some(&keys["sales"]), "GET /api/shop/_table", None).await;
    assert_eq!(names(&r), ["customers", "orders"], "{}", r.text);
    let r = send(&app, None, "GET /api/shop/_table", None).await;
    assert_eq!(names(&r), ["products"], "{}", r.text);
    let r = send(&app, Some(&keys["hr"]), "GET /api", None).await;
    assert_eq!(names(&r), ["hr"], "{}", r.text);
    let r = send(&app, Some(&keys["nobody"]), "GET /api", None).await;
    assert_eq!(names(&r), Vec::<String>::new(), "{}", r.text);
    let r = send(&app, Some(&keys["sales"]), "GET /api/shop/_schema", None).await;
    assert_eq!(r.status, StatusCode::FORBIDDEN, "{}", r.text);
    let r = send(&app, Some(&keys["analyst"]), "GET /api/shop/_schema", None).await;
    assert!(names(&r).len() > 3, "{}", r.text);
    let r = send(&app, Some(&keys["nobody"]), "GET /api/shop/_table", None).await;
    assert_eq!(r.status, StatusCode::FORBIDDEN, "{}", r.text);

    // the check endpoint explains a decision with the rule that made it
    let r = app.call("GET /api/system/policy/check?role=lead&service=shop&resource=_table/customers&verb=DELETE", None).await;
    assert_eq!(r.json["allowed"], false, "{}", r.text);
    assert_eq!(r.json["rule"]["line"], 10, "{}", r.text);
    assert_eq!(
        r.json["rule"]["text"],
        "p, sales, shop, _table/customers, DELETE, deny"
    );
    let r = app
        .call(
            "GET /api/system/policy/check?role=lead&service=shop&resource=_table/products&verb=get",
            None,
        )
        .await;
    assert_eq!(r.json["allowed"], true, "{}", r.text);
    assert_eq!(r.json["rule"]["line"], 4, "{}", r.text);
    let r = app.call("GET /api/system/policy/check?role=nobody&service=shop&resource=_table/products&verb=GET", None).await;
    assert_eq!(r.json["allowed"], false);
    assert!(
        r.json["rule"].is_null() && r.json["reason"].as_str().unwrap().contains("no rule"),
        "{}",
        r.text
    );
    let r = app.call("GET /api/system/policy/check?role=x", None).await;
    assert_eq!(r.status, StatusCode::BAD_REQUEST);
}

const ROW_POLICY: &str = "\
p, sales, shop, _table/customers, *, allow
p2, sales, shop, customers, region = 'north'
p, mine, shop, _table/customers, *, allow
p2, mine, shop, customers, email = '{user.email}'
p, analyst, shop, _table/customers, GET|PATCH|PUT|POST, allow
p, analyst, shop, _schema/*, GET, allow
p3, analyst, shop, customers, credit notes
";

/// The key field of the fixture's customers (MongoDB's is `_id`).
fn key_of(engine: Engine) -> &'static str {
    if engine.is_mongo() { "_id" } else { "id" }
}

async fn row_filters_and_hidden_columns(engine: Engine) {
    let Some(db) = fresh_db(engine, None).await else {
        return;
    };
    let app = TestApp::with_policy(ROW_POLICY).await;
    app.register("shop", &db).await;
    let id = key_of(engine);
    let sales = app.api_key("sales").await;
    let analyst = app.api_key("analyst").await;
    let ids = |r: &Reply| -> Vec<i64> {
        let mut v: Vec<i64> = r.json["resource"]
            .as_array()
            .unwrap_or_else(|| panic!("{}", r.text))
            .iter()
            .map(|x| x[id].as_i64().unwrap())
            .collect();
        v.sort_unstable();
        v
    };
    let admin_get = |n: i64| {
        let app = &app;
        async move {
            app.call(&format!("GET /api/shop/_table/customers/{n}"), None)
                .await
        }
    };

    // reads: only the north rows, whatever the request asks
    let r = app
        .as_key(
            &sales,
            &format!("GET /api/shop/_table/customers?fields={id}"),
            None,
        )
        .await;
    assert_eq!(ids(&r), [1, 3], "{}", r.text);
    let r = app
        .as_key(
            &sales,
            "GET /api/shop/_table/customers?filter=region%3D%27south%27",
            None,
        )
        .await;
    assert_eq!(ids(&r), Vec::<i64>::new(), "{}", r.text);
    let r = app
        .as_key(
            &sales,
            "GET /api/shop/_table/customers?count_only=true",
            None,
        )
        .await;
    assert_eq!(r.json, json!(2), "{}", r.text);
    let r = app
        .as_key(&sales, "GET /api/shop/_table/customers/2", None)
        .await;
    assert_eq!(r.status, StatusCode::NOT_FOUND, "{}", r.text);
    let r = app
        .as_key(&sales, "GET /api/shop/_table/customers?ids=1,2", None)
        .await;
    assert_eq!(r.status, StatusCode::NOT_FOUND, "{}", r.text);

    // updates and deletes reach only visible rows
    let r = app
        .as_key(
            &sales,
            "PATCH /api/shop/_table/customers/2",
            Some(&json!({"notes": "x"})),
        )
        .await;
    assert_eq!(r.status, StatusCode::NOT_FOUND, "{}", r.text);
    let r = app
        .as_key(&sales, "DELETE /api/shop/_table/customers/2", None)
        .await;
    assert_eq!(r.status, StatusCode::NOT_FOUND, "{}", r.text);
    assert_eq!(admin_get(2).await.json["region"], "south");
    // a write that would move a row out of sight is 403, and nothing changes
    let r = app
        .as_key(
            &sales,
            "PATCH /api/shop/_table/customers/1",
            Some(&json!({"region": "south"})),
        )
        .await;
    assert_eq!(r.status, StatusCode::FORBIDDEN, "{}", r.text);
    assert_eq!(r.json["error"]["code"], "forbidden");
    assert_eq!(admin_get(1).await.json["region"], "north");
    let r = app
        .as_key(
            &sales,
            "POST /api/shop/_table/customers",
            Some(&json!({id: 60, "name": "Sam", "email": "sam@example.com", "region": "south"})),
        )
        .await;
    assert_eq!(r.status, StatusCode::FORBIDDEN, "{}", r.text);
    assert_eq!(admin_get(60).await.status, StatusCode::NOT_FOUND);
    // ...and in a batch, nothing of it is kept
    let batch = json!([{id: 61, "name": "Nia", "email": "nia@example.com", "region": "north"}, {id: 62, "name": "Sid", "email": "sid@example.com", "region": "west"}]);
    let r = app
        .as_key(&sales, "POST /api/shop/_table/customers", Some(&batch))
        .await;
    assert_eq!(r.status, StatusCode::FORBIDDEN, "{}", r.text);
    assert_eq!(admin_get(61).await.status, StatusCode::NOT_FOUND);
    let r = app
        .as_key(
            &sales,
            "POST /api/shop/_table/customers",
            Some(&json!({id: 63, "name": "Noor", "email": "noor@example.com", "region": "north"})),
        )
        .await;
    assert_eq!(r.status, StatusCode::CREATED, "{}", r.text);
    // a delete with a broad filter removes only the visible rows
    let r = app
        .call(
            "POST /api/shop/_table/customers",
            Some(&json!({id: 64, "name": "Sol", "email": "sol@example.com", "region": "south"})),
        )
        .await;
    assert_eq!(r.status, StatusCode::CREATED, "{}", r.text);
    let r = app
        .as_key(
            &sales,
            &format!("DELETE /api/shop/_table/customers?filter={id}%20%3E%2060"),
            None,
        )
        .await;
    assert_eq!(r.status, StatusCode::OK, "{}", r.text);
    assert_eq!(ids(&r), [63], "{}", r.text);
    assert_eq!(admin_get(64).await.status, StatusCode::OK);
    assert_eq!(admin_get(2).await.status, StatusCode::OK);

    // hidden columns: never returned, filtered, ordered on or written
    let r = app
        .as_key(&analyst, "GET /api/shop/_table/customers/2", None)
        .await;
    assert_eq!(r.status, StatusCode::OK, "{}", r.text);
    assert!(
        r.json.get("credit").is_none() && r.json.get("notes").is_none(),
        "{}",
        r.text
    );
    assert_eq!(r.json["name"], "Alan Turing");
    for q in [
        "fields=credit",
        "fields=name,notes",
        "filter=credit%20%3E%200",
        "order=credit%20desc",
        "fields=*&filter=notes%20is%20null",
    ] {
        let r = app
            .as_key(
                &analyst,
                &format!("GET /api/shop/_table/customers?{q}"),
                None,
            )
            .await;
        assert_eq!(r.status, StatusCode::BAD_REQUEST, "{q}: {}", r.text);
        assert_eq!(r.json["error"]["code"], "unknown_field", "{q}: {}", r.text);
    }
    let r = app
        .as_key(&analyst, "GET /api/shop/_table/customers?fields=*", None)
        .await;
    assert!(
        !r.text.contains("credit") && !r.text.contains("first programmer"),
        "{}",
        r.text
    );
    let r = app
        .as_key(
            &analyst,
            "PATCH /api/shop/_table/customers/2",
            Some(&json!({"credit": 1})),
        )
        .await;
    assert_eq!(r.status, StatusCode::FORBIDDEN, "{}", r.text);
    let r = app
        .as_key(
            &analyst,
            "PUT /api/shop/_table/customers/2",
            Some(&json!({"name": "A", "email": "a@a"})),
        )
        .await;
    assert_eq!(r.status, StatusCode::FORBIDDEN, "{}", r.text);
    let r = app
        .as_key(
            &analyst,
            "POST /api/shop/_table/customers",
            Some(&json!({id: 70, "name": "Val", "email": "val@example.com", "notes": "x"})),
        )
        .await;
    assert_eq!(r.status, StatusCode::FORBIDDEN, "{}", r.text);
    let r = app
        .as_key(
            &analyst,
            "PATCH /api/shop/_table/customers/2?fields=*",
            Some(&json!({"name": "Alan M. Turing"})),
        )
        .await;
    assert_eq!(r.status, StatusCode::OK, "{}", r.text);
    assert!(
        r.json.get("credit").is_none() && r.json["name"] == "Alan M. Turing",
        "{}",
        r.text
    );
    assert_eq!(
        admin_get(2).await.json["credit"].as_f64(),
        Some(250.0),
        "the hidden value is kept"
    );
    let s = app
        .as_key(&analyst, "GET /api/shop/_schema/customers", None)
        .await;
    assert!(
        !s.text.contains("credit") && s.text.contains("email"),
        "{}",
        s.text
    );

    // {user.email}: each user sees their own row; a key without a user sees none
    let ada = app.session("ada@example.com", "mine").await;
    let r = app
        .as_user(
            &ada,
            &format!("GET /api/shop/_table/customers?fields={id},email"),
            None,
        )
        .await;
    assert_eq!(
        r.json["resource"],
        json!([{id: 1, "email": "ada@example.com"}]),
        "{}",
        r.text
    );
    let mine_key = app.api_key("mine").await;
    let r = app
        .as_key(&mine_key, "GET /api/shop/_table/customers", None)
        .await;
    assert_eq!(ids(&r), Vec::<i64>::new(), "{}", r.text);
    let r = app
        .as_key(
            &mine_key,
            "POST /api/shop/_table/customers",
            Some(&json!({id: 80, "name": "K", "email": "k@example.com"})),
        )
        .await;
    assert_eq!(r.status, StatusCode::FORBIDDEN, "{}", r.text);
}

#[tokio::test]
async fn sqlite_row_filters_and_hidden_columns() {
    Box::pin(row_filters_and_hidden_columns(Engine::Sqlite)).await;
}

#[tokio::test]
async fn postgres_row_filters_and_hidden_columns() {
    Box::pin(row_filters_and_hidden_columns(Engine::Postgres)).await;
}

#[tokio::test]
async fn mysql_row_filters_and_hidden_columns() {
    Box::pin(row_filters_and_hidden_columns(Engine::MySql)).await;
}

#[tokio::test]
async fn mongodb_row_filters_and_hidden_columns() {
    Box::pin(row_filters_and_hidden_columns(Engine::MongoDb)).await;
}

#[tokio::test]
async fn nx_row_filters_and_hidden_columns() {
    Box::pin(row_filters_and_hidden_columns(Engine::MongoNx)).await;
}

/// Polls `f` until it holds, for at most `limit`; how long it took.
async fn within<F, Fut>(limit: Duration, mut f: F) -> Option<Duration>
where
    F: FnMut() -> Fut,
    Fut: std::future::Future<Output = bool>,
{
    let start = Instant::now();
    while start.elapsed() < limit {
        if f().await {
            return Some(start.elapsed());
        }
        tokio::time::sleep(Duration::from_millis(25)).await;
    }
    None
}

#[tokio::test]
async fn edits_take_effect_and_broken_files_do_not() {
    let Some(db) = fresh_db(Engine::Sqlite, None).await else {
        return;
    };
    let app = TestApp::with_policy("p, reader, shop, _table/products, GET, allow\n").await;
    app.register("shop", &db).await;
    let key = app.api_key("reader").await;
    let status = |path: &'static str| {
        let (app, key) = (&app, key.clone());
        async move { app.as_key(&key, path, None).await.status }
    };
    assert_eq!(
        status("GET /api/shop/_table/products").await,
        StatusCode::OK
    );
    assert_eq!(
        status("GET /api/shop/_table/orders").await,
        StatusCode::FORBIDDEN
    );

    // an edit takes effect within a second, without a restart
    std::fs::write(
        app.policy_file(),
        "p, reader, shop, _table/orders, GET, allow\n",
    )
    .unwrap();
    let took = within(Duration::from_secs(1), || async {
        status("GET /api/shop/_table/orders").await == StatusCode::OK
    })
    .await;
    assert!(
        took.is_some(),
        "the edit did not take effect within a second"
    );
    assert_eq!(
        status("GET /api/shop/_table/products").await,
        StatusCode::FORBIDDEN
    );
    let p = app.call("GET /api/system/policy", None).await;
    assert_eq!(p.json["status"], "ok", "{}", p.text);
    assert_eq!(p.json["rules"]["p"][0]["resource"], "_table/orders");

    // a file that does not parse leaves the previous policy in force, and says why
    std::fs::write(
        app.policy_file(),
        "p, reader, shop, _table/products, GET, allow\np, reader, shop, _table/*, GET, sometimes\n",
    )
    .unwrap();
    let reported = within(Duration::from_secs(1), || async {
        app.call("GET /api/system/policy", None).await.json["status"] == "error"
    })
    .await;
    assert!(reported.is_some(), "the broken file was not reported");
    let p = app.call("GET /api/system/policy", None).await;
    assert_eq!(p.json["error"]["file"], "policy.csv", "{}", p.text);
    assert_eq!(p.json["error"]["line"], 2, "{}", p.text);
    assert!(
        p.json["error"]["message"]
            .as_str()
            .unwrap()
            .contains("allow or deny"),
        "{}",
        p.text
    );
    assert_eq!(
        status("GET /api/shop/_table/orders").await,
        StatusCode::OK,
        "previous policy in force"
    );
    assert_eq!(
        status("GET /api/shop/_table/products").await,
        StatusCode::FORBIDDEN
    );
    // a bad row filter and a broken model are refused too
    std::fs::write(
        app.policy_file(),
        "p2, reader, shop, orders, status = = 'x'\n",
    )
    .unwrap();
    assert!(
        within(Duration::from_secs(1), || async {
            app.call("GET /api/system/policy", None).await.json["error"]["message"]
                .as_str()
                .is_some_and(|m| m.contains("row filter"))
        })
        .await
        .is_some()
    );
    std::fs::write(app.policy_file(), "p, reader, shop, _table/*, GET, allow\n").unwrap();
    std::fs::write(
        app.config.policies_dir.join("model.conf"),
        "[request_definition]\nr = sub\n",
    )
    .unwrap();
    assert!(
        within(Duration::from_secs(1), || async {
            app.call("GET /api/system/policy", None).await.json["error"]["file"] == "model.conf"
        })
        .await
        .is_some()
    );
    assert_eq!(
        status("GET /api/shop/_table/orders").await,
        StatusCode::OK,
        "previous policy in force"
    );

    // fixed: the new policy applies and the error is gone
    std::fs::remove_file(app.config.policies_dir.join("model.conf")).unwrap();
    std::fs::write(
        app.policy_file(),
        "p, reader, shop, _table/*, GET, allow\np, reader, shop, _table/orders, GET, deny\n",
    )
    .unwrap();
    let took = within(Duration::from_secs(1), || async {
        status("GET /api/shop/_table/products").await == StatusCode::OK
    })
    .await;
    assert!(took.is_some());
    assert_eq!(
        status("GET /api/shop/_table/orders").await,
        StatusCode::FORBIDDEN
    );
    let p = app.call("GET /api/system/policy", None).await;
    assert_eq!(p.json["status"], "ok", "{}", p.text);
    assert!(p.json["error"].is_null());
}

#[tokio::test]
async fn rate_limits_reach_429_and_recover() {
    let Some(db) = fresh_db(Engine::Sqlite, None).await else {
        return;
    };
    let app = TestApp::with_policy_and("p, reader, shop, _table/*, GET, allow\n", |c| {
        c.rate_limits = vec![
            gatehouse::config::RateLimit {
                scope: gatehouse::config::LimitScope::Role,
                name: Some("reader".into()),
                limit: 3,
                per: gatehouse::config::LimitPeriod::Second,
            },
            gatehouse::config::RateLimit {
                scope: gatehouse::config::LimitScope::Instance,
                name: None,
                limit: 1000,
                per: gatehouse::config::LimitPeriod::Hour,
            },
            gatehouse::config::RateLimit {
                scope: gatehouse::config::LimitScope::Service,
                name: Some("other".into()),
                limit: 1,
                per: gatehouse::config::LimitPeriod::Day,
            },
        ];
    })
    .await;
    app.register("shop", &db).await;
    let key = app.api_key("reader").await;
    let path = "GET /api/shop/_table/products?limit=1";
    let mut remaining = Vec::new();
    for _ in 0..3 {
        let r = app.as_key(&key, path, None).await;
        assert_eq!(r.status, StatusCode::OK, "{}", r.text);
        assert_eq!(r.headers["x-ratelimit-limit"], "3");
        remaining.push(
            r.headers["x-ratelimit-remaining"]
                .to_str()
                .unwrap()
                .to_string(),
        );
    }
    assert_eq!(remaining, ["2", "1", "0"]);
    let r = app.as_key(&key, path, None).await;
    assert_eq!(r.status, StatusCode::TOO_MANY_REQUESTS, "{}", r.text);
    assert_eq!(r.json["error"]["code"], "rate_limited");
    assert_eq!(r.headers["retry-after"], "1");
    assert_eq!(r.headers["x-ratelimit-remaining"], "0");
    // another role is not limited by the reader's limit (only by the instance's)
    let r = app.call(path, None).await;
    assert_eq!(r.status, StatusCode::OK);
    assert_eq!(r.headers["x-ratelimit-limit"], "1000");
    // one request per third of a second comes back
    tokio::time::sleep(Duration::from_millis(400)).await;
    assert_eq!(app.as_key(&key, path, None).await.status, StatusCode::OK);
    assert_eq!(
        app.as_key(&key, path, None).await.status,
        StatusCode::TOO_MANY_REQUESTS
    );
    // a service's limit counts every caller of that service, and only of it
    app.register("other", &db).await;
    let other = "GET /api/other/_table/products?limit=1";
    assert_eq!(app.call(other, None).await.status, StatusCode::OK);
    let r = app.call(other, None).await;
    assert_eq!(r.status, StatusCode::TOO_MANY_REQUESTS, "{}", r.text);
    let wait: u64 = r.headers["retry-after"].to_str().unwrap().parse().unwrap();
    assert!(wait > 80_000, "a day's limit waits most of a day: {wait}");
    assert_eq!(app.call(path, None).await.status, StatusCode::OK);
}

#[tokio::test]
async fn cors_preflight_needs_no_credentials() {
    let app = TestApp::with_config(|c| {
        c.cors.origins = vec!["https://app.example.com".into()];
    })
    .await;
    let preflight = |origin: &'static str| {
        let app = &app;
        async move {
            app.call_with(
                "OPTIONS /api/system/service",
                None,
                &[
                    ("origin", origin),
                    ("access-control-request-method", "GET"),
                    ("access-control-request-headers", "x-api-key"),
                ],
            )
            .await
        }
    };
    let r = preflight("https://app.example.com").await;
    assert!(r.status.is_success(), "{} {}", r.status, r.text);
    assert_eq!(
        r.headers["access-control-allow-origin"],
        "https://app.example.com"
    );
    assert!(
        r.headers["access-control-allow-headers"]
            .to_str()
            .unwrap()
            .contains("x-api-key")
    );
    let r = preflight("https://evil.example.com").await;
    assert!(r.headers.get("access-control-allow-origin").is_none());
    // actual requests carry the header, and still need credentials
    let r = app
        .call_with(
            "GET /api/system/service",
            None,
            &[("origin", "https://app.example.com")],
        )
        .await;
    assert_eq!(r.status, StatusCode::UNAUTHORIZED);
    assert_eq!(
        r.headers["access-control-allow-origin"],
        "https://app.example.com"
    );
    // without configured origins there are no CORS headers at all
    let plain = TestApp::new().await;
    let r = plain
        .call_with(
            "GET /health",
            None,
            &[("origin", "https://app.example.com")],
        )
        .await;
    assert!(r.headers.get("access-control-allow-origin").is_none());
}

#[tokio::test]
async fn the_shipped_example_policy_loads() {
    let dir = PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("policies");
    let app = TestApp::with_config(|c| c.policies_dir = dir).await;
    let p = app.call("GET /api/system/policy", None).await;
    assert_eq!(p.json["status"], "ok", "{}", p.text);
    assert!(
        !p.json["rules"]["p2"].as_array().unwrap().is_empty(),
        "{}",
        p.text
    );
    assert!(
        !p.json["rules"]["p3"].as_array().unwrap().is_empty(),
        "{}",
        p.text
    );
    // and grants anonymous nothing
    let r = app.call("GET /api/system/policy/check?role=anonymous&service=demo&resource=_table/products&verb=GET", None).await;
    assert_eq!(r.json["allowed"], false, "{}", r.text);
}

/// A policy file read while it is still being written, cut short, emptied
/// or deleted never replaces the policy in force; the status follows the file.
#[tokio::test]
async fn torn_empty_and_missing_policy_files_keep_the_policy_in_force() {
    let Some(db) = fresh_db(Engine::Sqlite, None).await else {
        return;
    };
    let head = "p, reader, shop, _table/customers, GET, allow\n";
    let hide = "p3, reader, shop, customers, notes\n";
    let app = TestApp::with_policy(&format!("{head}{hide}")).await;
    app.register("shop", &db).await;
    let key = app.api_key("reader").await;
    let notes_seen = || {
        let (app, key) = (&app, key.clone());
        async move {
            let r = app
                .as_key(&key, "GET /api/shop/_table/customers?ids=1", None)
                .await;
            assert_eq!(r.status, StatusCode::OK, "{}", r.text);
            r.json["resource"][0].get("notes").is_some()
        }
    };
    let policy_status = || async { app.call("GET /api/system/policy", None).await.json };
    assert!(!notes_seen().await);

    // A writer that pauses mid-file (a slow copy, an editor's two writes):
    // the part before the p3 line must never go live.
    let more = "p, reader, shop, _table/products, GET, allow\n";
    std::fs::write(app.policy_file(), head).unwrap();
    let until = Instant::now() + Duration::from_millis(200);
    while Instant::now() < until {
        assert!(!notes_seen().await, "a torn policy went live");
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
    std::fs::write(app.policy_file(), format!("{head}{more}{hide}")).unwrap();
    let products = || {
        let (app, key) = (&app, key.clone());
        async move {
            app.as_key(&key, "GET /api/shop/_table/products", None)
                .await
                .status
                == StatusCode::OK
        }
    };
    assert!(within(Duration::from_secs(2), products).await.is_some());
    assert!(!notes_seen().await);

    // emptied, or only comments: refused, the policy stays
    for empty in ["", "# nothing yet\n\n"] {
        std::fs::write(app.policy_file(), empty).unwrap();
        let refused = within(Duration::from_secs(2), || async {
            policy_status().await["status"] == "error"
        })
        .await;
        assert!(refused.is_some(), "an empty file was accepted");
        let p = policy_status().await;
        assert!(
            p["error"]["message"]
                .as_str()
                .is_some_and(|m| m.contains("no rules") && m.contains("deny")),
            "{p}"
        );
        assert!(products().await && !notes_seen().await);
    }
    // restored to the policy in force: ok again (it said "error" before)
    std::fs::write(app.policy_file(), format!("{head}{more}{hide}")).unwrap();
    let ok = within(Duration::from_secs(2), || async {
        policy_status().await["status"] == "ok"
    })
    .await;
    assert!(ok.is_some(), "{}", policy_status().await);
    // deleted: refused as missing
    std::fs::remove_file(app.policy_file()).unwrap();
    let missing = within(Duration::from_secs(2), || async {
        policy_status().await["error"]["message"]
            .as_str()
            .is_some_and(|m| m.contains("missing"))
    })
    .await;
    assert!(missing.is_some(), "{}", policy_status().await);
    assert!(products().await && !notes_seen().await);
}

/// A sealed file (`gatehouse policy seal`) cut at a line boundary parses, but
/// no longer matches its seal: refused.
#[tokio::test]
async fn a_sealed_policy_cut_short_is_refused() {
    let Some(db) = fresh_db(Engine::Sqlite, None).await else {
        return;
    };
    let full =
        "p, reader, shop, _table/customers, GET, allow\np3, reader, shop, customers, notes\n";
    let sealed = gatehouse::rbac::load::seal(full);
    assert_eq!(
        gatehouse::rbac::load::seal(&sealed),
        sealed,
        "sealing twice"
    );
    let app = TestApp::with_policy(&sealed).await;
    app.register("shop", &db).await;
    let p = app.call("GET /api/system/policy", None).await;
    assert_eq!(p.json["status"], "ok", "{}", p.text);
    let cut = &sealed[..sealed.find("p3,").unwrap()];
    std::fs::write(app.policy_file(), cut).unwrap();
    let refused = within(Duration::from_secs(2), || async {
        app.call("GET /api/system/policy", None).await.json["error"]["message"]
            .as_str()
            .is_some_and(|m| m.contains("seal"))
    })
    .await;
    assert!(refused.is_some());
    let key = app.api_key("reader").await;
    let r = app
        .as_key(&key, "GET /api/shop/_table/customers?ids=1", None)
        .await;
    assert!(r.json["resource"][0].get("notes").is_none(), "{}", r.text);
}
