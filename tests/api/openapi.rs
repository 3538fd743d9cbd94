//! OpenAPI documents (API.md §8): valid OpenAPI 3.1 by an independent
//! validator, stable (snapshot), and shaped by the caller's role.

use crate::common::{Engine, TestApp, env_url, fresh_db};
use axum::http::StatusCode;
use serde_json::Value;

/// Runs `openapi-spec-validator` (PyPI) on `doc`.
fn validate(doc: &Value) {
    let Some(validator) = env_url("GATEHOUSE_TEST_OPENAPI_VALIDATOR") else {
        return;
    };
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("openapi.json");
    std::fs::write(&path, serde_json::to_vec_pretty(doc).unwrap()).unwrap();
    let out = std::process::Command::new(validator)
        .arg(&path)
        .output()
        .unwrap();
    assert!(
        out.status.success(),
        "not a valid OpenAPI document:\n{}{}",
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr)
    );
}

#[tokio::test]
async fn the_service_document_is_valid_openapi_and_stable() {
    let Some(db) = fresh_db(Engine::Sqlite, None).await else {
        return;
    };
    let app = TestApp::new().await;
    app.register("shop", &db).await;
    let r = app.call("GET /api/shop/_spec", None).await;
    assert_eq!(r.status, StatusCode::OK, "{}", r.text);
    assert_eq!(r.json["openapi"], "3.1.0");
    validate(&r.json);
    // pretty JSON text: insta's own JSON serializer mangles arbitrary-precision numbers
    insta::assert_snapshot!(
        "sqlite_service",
        serde_json::to_string_pretty(&r.json).unwrap()
    );
    // typed record schemas
    let c = &r.json["components"]["schemas"]["customers"];
    assert_eq!(c["properties"]["email"]["type"], "string");
    assert_eq!(c["required"], serde_json::json!(["name", "email"]));
}

#[tokio::test]
async fn the_document_shows_what_the_role_may_do() {
    let Some(db) = fresh_db(Engine::Sqlite, None).await else {
        return;
    };
    let app = TestApp::with_policy(
        "p, analyst, shop, _table/customers, GET|PATCH, allow\np3, analyst, shop, customers, credit\n",
    )
    .await;
    app.register("shop", &db).await;
    let key = app.api_key("analyst").await;
    let r = app.as_key(&key, "GET /api/shop/_spec", None).await;
    assert_eq!(r.status, StatusCode::OK, "{}", r.text);
    validate(&r.json);
    let paths: Vec<&String> = r.json["paths"].as_object().unwrap().keys().collect();
    assert_eq!(
        paths,
        ["/shop/_table/customers", "/shop/_table/customers/{id}"]
    );
    let ops: Vec<&String> = r.json["paths"]["/shop/_table/customers"]
        .as_object()
        .unwrap()
        .keys()
        .collect();
    assert_eq!(ops, ["get", "patch"]);
    let props = r.json["components"]["schemas"]["customers"]["properties"]
        .as_object()
        .unwrap();
    assert!(
        props.contains_key("email") && !props.contains_key("credit"),
        "{}",
        r.text
    );
    // a role that may read nothing gets no document
    let none = app.api_key("nobody").await;
    assert_eq!(
        app.as_key(&none, "GET /api/shop/_spec", None).await.status,
        StatusCode::FORBIDDEN
    );
    assert_eq!(
        app.call_with("GET /api/shop/_spec", None, &[]).await.status,
        StatusCode::UNAUTHORIZED
    );
}
