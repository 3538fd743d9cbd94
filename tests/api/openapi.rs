//! OpenAPI documents (docs/API.md §8): valid OpenAPI 3.1 by an independent
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

/// The whole instance document, system half included, as a snapshot: a
/// change to any system route's description shows in review.
#[tokio::test]
async fn the_instance_document_is_stable() {
    let Some(db) = fresh_db(Engine::Sqlite, None).await else {
        return;
    };
    let app = TestApp::new().await;
    app.register("shop", &db).await;
    let r = app.call("GET /api/_spec", None).await;
    assert_eq!(r.status, StatusCode::OK, "{}", r.text);
    validate(&r.json);
    insta::assert_snapshot!(
        "sqlite_instance",
        serde_json::to_string_pretty(&r.json).unwrap()
    );
}

#[tokio::test]
async fn the_instance_document_has_every_service_and_the_system_api() {
    let (Some(a), Some(b)) = (
        fresh_db(Engine::Sqlite, None).await,
        fresh_db(Engine::Sqlite, None).await,
    ) else {
        return;
    };
    let app = TestApp::with_policy("p, clerk, shop, _table/products, GET, allow\n").await;
    app.register("shop", &a).await;
    let r = app.call("GET /api/_spec", None).await;
    assert_eq!(r.status, StatusCode::OK, "{}", r.text);
    validate(&r.json);
    let paths = r.json["paths"].as_object().unwrap();
    for p in [
        "/shop/_table/customers",
        "/system/service",
        "/system/event_script/{name}",
        "/user/session",
    ] {
        assert!(paths.contains_key(p), "{p} missing");
    }
    assert!(r.json["components"]["schemas"]["shop.customers"].is_object());
    assert!(r.json["components"]["schemas"]["User"].is_object());

    // the same table names in two services keep their own components
    app.register("depot", &b).await;
    let r = app.call("GET /api/_spec", None).await;
    validate(&r.json);
    let refs = |svc: &str| {
        r.json["paths"][format!("/{svc}/_table/customers/{{id}}")]["get"]["responses"]["200"]
            ["content"]["application/json"]["schema"]["anyOf"]
            .clone()
    };
    // a read answers the whole record, or the fields asked for
    assert_eq!(
        refs("shop"),
        serde_json::json!([{"$ref": "#/components/schemas/shop.customers"}, {"$ref": "#/components/schemas/shop.customers.partial"}])
    );
    assert_eq!(
        refs("depot"),
        serde_json::json!([{"$ref": "#/components/schemas/depot.customers"}, {"$ref": "#/components/schemas/depot.customers.partial"}])
    );

    // removed and refreshed services change the document
    let r = app.call("DELETE /api/system/service/depot", None).await;
    assert_eq!(r.status, StatusCode::OK, "{}", r.text);
    a.exec("CREATE TABLE suppliers (id INTEGER PRIMARY KEY, name TEXT NOT NULL)")
        .await;
    let r = app
        .call("POST /api/system/service/shop/_refresh", None)
        .await;
    assert_eq!(r.status, StatusCode::OK, "{}", r.text);
    let r = app.call("GET /api/_spec", None).await;
    let paths = r.json["paths"].as_object().unwrap();
    assert!(paths.contains_key("/shop/_table/suppliers"));
    assert!(!paths.keys().any(|p| p.starts_with("/depot/")));

    // a role sees its own part, and the session endpoints only
    let key = app.api_key("clerk").await;
    let r = app.as_key(&key, "GET /api/_spec", None).await;
    assert_eq!(r.status, StatusCode::OK, "{}", r.text);
    validate(&r.json);
    let paths: Vec<&String> = r.json["paths"].as_object().unwrap().keys().collect();
    assert!(paths.iter().any(|p| *p == "/shop/_table/products"));
    assert!(
        !paths.iter().any(|p| p.starts_with("/system/")),
        "{paths:?}"
    );
    assert!(!paths.iter().any(|p| p.contains("customers")), "{paths:?}");
}

#[tokio::test]
async fn documents_come_as_yaml_too() {
    let Some(db) = fresh_db(Engine::Sqlite, None).await else {
        return;
    };
    let app = TestApp::new().await;
    app.register("shop", &db).await;
    for path in ["/api/shop/_spec", "/api/_spec"] {
        let json = app.call(&format!("GET {path}"), None).await.json;
        let r = app.call(&format!("GET {path}?format=yaml"), None).await;
        assert_eq!(r.status, StatusCode::OK, "{}", r.text);
        assert!(
            r.headers["content-type"]
                .to_str()
                .unwrap()
                .starts_with("application/yaml")
        );
        let yaml: Value = serde_norway::from_str(&r.text).unwrap();
        assert_eq!(yaml, json, "{path}: YAML and JSON differ");
    }
    let r = app.call("GET /api/shop/_spec?format=xml", None).await;
    assert_eq!(r.status, StatusCode::BAD_REQUEST, "{}", r.text);
    assert_eq!(r.json["error"]["code"], "invalid_parameter");
}

#[tokio::test]
async fn swagger_ui_is_served_from_the_binary() {
    let app = TestApp::new().await;
    let r = app.call_with("GET /docs", None, &[]).await;
    assert_eq!(r.status, StatusCode::OK);
    assert!(r.text.contains("/docs/swagger-ui-bundle.js"));
    assert!(r.text.contains("/api/_spec"));
    // nothing from elsewhere
    assert!(
        !r.text.contains("http://") && !r.text.contains("https://"),
        "{}",
        r.text
    );
    for (path, kind, min) in [
        ("/docs/swagger-ui-bundle.js", "text/javascript", 1_000_000),
        ("/docs/swagger-ui.css", "text/css", 100_000),
        ("/docs/favicon-32x32.png", "image/png", 100),
    ] {
        let r = app.call_with(&format!("GET {path}"), None, &[]).await;
        assert_eq!(r.status, StatusCode::OK, "{path}");
        assert!(
            r.headers["content-type"]
                .to_str()
                .unwrap()
                .starts_with(kind),
            "{path}"
        );
        assert!(r.text.len() > min, "{path} is {} bytes", r.text.len());
    }
    assert!(
        app.call_with("GET /docs/swagger-ui-bundle.js", None, &[])
            .await
            .text
            .contains("SwaggerUIBundle")
    );
}
