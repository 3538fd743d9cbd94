//! SQL Server over pySQLbridge, a read-only TDS peer serving the conformance
//! customers and products (tests/fixtures/sqlserver-bridge): introspection
//! through sys.* and every read feature, through the whole HTTP stack. The
//! bridge has no key metadata and takes no writes; writes are covered by the
//! SQL Server translation snapshots and, given GATEHOUSE_TEST_SQLSERVER_URL,
//! by the conformance suite against a real server.

use crate::common::{TestApp, env_url};
use axum::http::StatusCode;
use serde_json::{Value, json};

async fn bridge() -> Option<TestApp> {
    let url = env_url("GATEHOUSE_TEST_SQLSERVER_BRIDGE_URL")?;
    let app = TestApp::new().await;
    let body = json!({"name": "mssql", "type": "sqlserver", "config": {"url": url}});
    let r = app.call("POST /api/system/service", Some(&body)).await;
    assert_eq!(r.status, StatusCode::CREATED, "{}", r.text);
    assert!(
        !r.text.contains("apppass"),
        "the password is echoed: {}",
        r.text
    );
    Some(app)
}

async fn get(app: &TestApp, path: &str) -> Value {
    let r = app.call(&format!("GET /api/mssql/{path}"), None).await;
    assert_eq!(r.status, StatusCode::OK, "{path}: {}", r.text);
    r.json
}

fn ids(v: &Value) -> Vec<i64> {
    v["resource"]
        .as_array()
        .unwrap()
        .iter()
        .map(|r| r["id"].as_i64().unwrap())
        .collect()
}

#[tokio::test]
async fn introspection_through_sys_catalog() {
    let Some(app) = bridge().await else { return };
    let tables = get(&app, "_table").await;
    assert_eq!(
        tables,
        json!({"resource": [{"name": "customers"}, {"name": "products"}]})
    );
    let s = get(&app, "_schema/customers").await;
    let types: Vec<(&str, &str)> = s["field"]
        .as_array()
        .unwrap()
        .iter()
        .map(|f| (f["name"].as_str().unwrap(), f["type"].as_str().unwrap()))
        .collect();
    assert_eq!(
        types,
        [
            ("id", "integer"),
            ("name", "string"),
            ("email", "string"),
            ("region", "string"),
            ("credit", "float"),
            // the bridge serves a JSON file's booleans as text
            ("active", "string"),
            ("notes", "string"),
        ]
    );
}

#[tokio::test]
async fn reads_filters_order_and_pages() {
    let Some(app) = bridge().await else { return };
    // TOP
    let v = get(&app, "_table/customers?fields=id,name&order=id&limit=2").await;
    assert_eq!(
        v,
        json!({"resource": [{"id": 1, "name": "Ada Lovelace"}, {"id": 2, "name": "Alan Turing"}], "meta": {"next": 2}})
    );
    // OFFSET … FETCH, nulls ordering emulated
    let v = get(
        &app,
        "_table/customers?fields=id&order=credit%20desc%20nulls%20last&offset=1&limit=3",
    )
    .await;
    assert_eq!(ids(&v), [2, 4, 5]);
    let v = get(
        &app,
        "_table/customers?fields=id&order=credit%20asc%20nulls%20first",
    )
    .await;
    assert_eq!(ids(&v), [3, 5, 4, 2, 1]);
    for (filter, want) in [
        ("region = 'north'", vec![1, 3]),
        ("region != 'north'", vec![2, 4]),
        ("region is null", vec![5]),
        ("credit between 50 and 300", vec![2, 4]),
        ("id in (5, 1)", vec![1, 5]),
        ("name like 'A%'", vec![1, 2]),
        ("notes contains '50%'", vec![3]),
        ("notes contains '_'", vec![4]),
        ("email starts with 'a'", vec![1, 2]),
        // NOT keeps SQL's rule: a null region is neither 'west' nor not 'west'
        ("id = 3 or (id > 3 and not region = 'west')", vec![3, 4]),
        ("name = 'Edsger O''Dijkstra'", vec![4]),
    ] {
        let enc: String = url::form_urlencoded::byte_serialize(filter.as_bytes()).collect();
        let v = get(
            &app,
            &format!("_table/customers?fields=id&order=id&filter={enc}"),
        )
        .await;
        assert_eq!(ids(&v), want, "{filter}");
    }
    let v = get(
        &app,
        "_table/products?count_only=true&filter=stock%20%3E%200",
    )
    .await;
    assert_eq!(v, json!(3));
    let v = get(
        &app,
        "_table/products?include_count=true&fields=sku&order=price%20desc&limit=1",
    )
    .await;
    assert_eq!(
        v,
        json!({"resource": [{"sku": "TEN-1"}], "meta": {"count": 4, "next": 1}})
    );
}

#[tokio::test]
async fn a_refused_write_is_an_envelope_not_a_driver_message() {
    let Some(app) = bridge().await else { return };
    let r = app
        .call(
            "PATCH /api/mssql/_table/customers?filter=id%20%3D%201",
            Some(&json!({"notes": "x"})),
        )
        .await;
    assert_eq!(r.status, StatusCode::METHOD_NOT_ALLOWED, "{}", r.text);
    assert_eq!(r.json["error"]["code"], "read_only");
    assert!(!r.text.contains("UPDATE"), "SQL leaked: {}", r.text);
    let v = get(&app, "_table/customers?fields=notes&filter=id%20%3D%201").await;
    assert_eq!(v, json!({"resource": [{"notes": "first programmer"}]}));
}
