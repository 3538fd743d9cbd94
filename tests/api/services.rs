//! Service administration (docs/API.md §2) and request-wide behaviour, against real databases.

use crate::common::{Engine, TestApp, fresh_db, server_url};
use axum::http::StatusCode;
use serde_json::{Value, json};

#[tokio::test]
async fn an_unreachable_database_is_422_and_nothing_is_saved() {
    let app = TestApp::new().await;
    let body = json!({"name": "down", "type": "postgres", "config": {"url": "postgres://app:secret@127.0.0.1:1/nope"}});
    let r = app.call("POST /api/system/service", Some(&body)).await;
    assert_eq!(r.status, StatusCode::UNPROCESSABLE_ENTITY, "{}", r.text);
    assert_eq!(r.json["error"]["code"], "service_unreachable");
    assert!(
        r.json["error"]["message"]
            .as_str()
            .unwrap()
            .contains("connection refused"),
        "{}",
        r.text
    );
    assert!(!r.text.contains("secret"), "{}", r.text);
    assert_eq!(
        app.call("GET /api/system/service/down", None).await.status,
        StatusCode::NOT_FOUND
    );
    assert_eq!(app.app.state.store.services().await.unwrap().len(), 0);
    // a missing SQLite file is unreachable too (and is not created)
    let path = app.data_dir.path().join("missing.sqlite");
    let body = json!({"name": "gone", "type": "sqlite", "config": {"url": format!("sqlite://{}", path.display())}});
    let r = app.call("POST /api/system/service", Some(&body)).await;
    assert_eq!(r.status, StatusCode::UNPROCESSABLE_ENTITY, "{}", r.text);
    assert!(!path.exists());
}

#[tokio::test]
async fn malformed_definitions_are_400() {
    let app = TestApp::new().await;
    for (body, code) in [
        (
            json!({"name": "x", "type": "postgres", "config": {}}),
            "invalid_config",
        ),
        (
            json!({"name": "x", "type": "oracle", "config": {"url": "x"}}),
            "invalid_config",
        ),
        (
            json!({"name": "Bad Name", "type": "sqlite", "config": {"url": "sqlite://x"}}),
            "invalid_config",
        ),
        (
            json!({"name": "system", "type": "sqlite", "config": {"url": "sqlite://x"}}),
            "invalid_config",
        ),
        (
            json!({"name": "x", "type": "sqlite", "config": {"url": "sqlite://x", "pool_max": 0}}),
            "invalid_config",
        ),
        (
            json!({"name": "x", "type": "sqlite", "config": {"url": "sqlite://x", "colour": "red"}}),
            "invalid_config",
        ),
        (
            json!({"type": "sqlite", "config": {"url": "sqlite://x"}}),
            "invalid_config",
        ),
    ] {
        let r = app.call("POST /api/system/service", Some(&body)).await;
        assert_eq!(r.status, StatusCode::BAD_REQUEST, "{body}: {}", r.text);
        assert_eq!(r.json["error"]["code"], code, "{body}");
    }
    let r = app
        .call_with(
            "POST /api/system/service",
            None,
            &[("x-api-key", crate::common::ADMIN_KEY)],
        )
        .await;
    assert_eq!(r.status, StatusCode::BAD_REQUEST);
}

#[tokio::test]
async fn secrets_are_masked_and_encrypted_at_rest() {
    let Some(db) = fresh_db(Engine::Postgres, None).await else {
        return;
    };
    let app = TestApp::new().await;
    let r = app.register("pg", &db).await;
    assert!(!r.text.contains("apppass"), "{}", r.text);
    assert!(
        r.json["config"]["url"].as_str().unwrap().contains(":****@"),
        "{}",
        r.text
    );
    for target in ["GET /api/system/service", "GET /api/system/service/pg"] {
        let r = app.call(target, None).await;
        assert_eq!(r.status, StatusCode::OK);
        assert!(
            !r.text.contains("apppass") && r.text.contains("****"),
            "{}",
            r.text
        );
    }
    // nothing in the data directory holds the password in plain text
    for entry in std::fs::read_dir(app.data_dir.path()).unwrap() {
        let bytes = std::fs::read(entry.unwrap().path()).unwrap_or_default();
        assert!(!String::from_utf8_lossy(&bytes).contains("apppass"));
    }
    // a PATCH that echoes the masked URL keeps the real password
    let masked = r.json["config"]["url"].clone();
    let r = app
        .call(
            "PATCH /api/system/service/pg",
            Some(&json!({"label": "renamed", "config": {"url": masked}})),
        )
        .await;
    assert_eq!(r.status, StatusCode::OK, "{}", r.text);
    assert_eq!(r.json["label"], "renamed");
    assert_eq!(
        app.call("GET /api/pg/_table/products/1", None).await.status,
        StatusCode::OK
    );
}

#[tokio::test]
async fn a_refresh_shows_a_new_column() {
    let Some(db) = fresh_db(Engine::Postgres, None).await else {
        return;
    };
    let app = TestApp::new().await;
    app.register("pg", &db).await;
    db.exec("ALTER TABLE customers ADD COLUMN loyalty integer DEFAULT 3")
        .await;
    let fields = |r: &crate::common::Reply| -> Vec<String> {
        r.json["field"]
            .as_array()
            .unwrap()
            .iter()
            .map(|f| f["name"].as_str().unwrap().to_string())
            .collect()
    };
    assert!(
        !fields(&app.call("GET /api/pg/_schema/customers", None).await).contains(&"loyalty".into())
    );
    let r = app.call("POST /api/system/service/pg/_refresh", None).await;
    assert_eq!(r.status, StatusCode::OK, "{}", r.text);
    assert!(
        fields(&app.call("GET /api/pg/_schema/customers", None).await).contains(&"loyalty".into())
    );
    let r = app
        .call("GET /api/pg/_table/customers/1?fields=loyalty", None)
        .await;
    assert_eq!(r.json, json!({"loyalty": 3}));
    // and through ?refresh=true
    db.exec("CREATE TABLE extra (id int PRIMARY KEY)").await;
    let r = app.call("GET /api/pg/_table?refresh=true", None).await;
    assert!(r.text.contains("\"extra\""), "{}", r.text);
}

#[tokio::test]
async fn delete_unmounts_and_names_are_unique() {
    let Some(db) = fresh_db(Engine::Sqlite, None).await else {
        return;
    };
    let app = TestApp::new().await;
    app.register("shop", &db).await;
    let body = json!({"name": "shop", "type": "sqlite", "config": {"url": db.url}});
    let r = app.call("POST /api/system/service", Some(&body)).await;
    assert_eq!(r.status, StatusCode::CONFLICT, "{}", r.text);
    let r = app.call("GET /api", None).await;
    assert_eq!(r.json["resource"][0]["name"], "shop");
    assert_eq!(
        app.call("DELETE /api/system/service/shop", None)
            .await
            .status,
        StatusCode::OK
    );
    assert_eq!(
        app.call("GET /api/shop/_table", None).await.status,
        StatusCode::NOT_FOUND
    );
    assert_eq!(
        app.call("DELETE /api/system/service/shop", None)
            .await
            .status,
        StatusCode::NOT_FOUND
    );
    assert!(app.app.state.store.services().await.unwrap().is_empty());
}

#[tokio::test]
async fn a_service_goes_live_on_every_instance_sharing_the_store() {
    let Some(db) = fresh_db(Engine::Sqlite, None).await else {
        return;
    };
    let first = TestApp::new().await;
    let dir = first.data_dir.path().to_path_buf();
    let second = TestApp::with_config(|c| c.data_dir = dir).await;
    first.register("shared", &db).await;
    assert_eq!(
        second
            .call("GET /api/shared/_table/products/1", None)
            .await
            .status,
        StatusCode::NOT_FOUND
    );
    second.app.state.sync_services().await.unwrap();
    assert_eq!(
        second
            .call("GET /api/shared/_table/products/1", None)
            .await
            .status,
        StatusCode::OK
    );
    first.call("DELETE /api/system/service/shared", None).await;
    second.app.state.sync_services().await.unwrap();
    assert_eq!(
        second
            .call("GET /api/shared/_table/products/1", None)
            .await
            .status,
        StatusCode::NOT_FOUND
    );
}

#[tokio::test]
async fn declared_services_are_read_only_through_the_api() {
    let Some(db) = fresh_db(Engine::Sqlite, None).await else {
        return;
    };
    let url = db.url.clone();
    let app = TestApp::with_config(|c| {
        c.services.push(gatehouse::config::ServiceDecl {
            name: "fixed".into(),
            kind: "sqlite".into(),
            label: None,
            description: None,
            config: json!({"url": url}).as_object().unwrap().clone(),
        });
    })
    .await;
    assert_eq!(
        app.call("GET /api/fixed/_table/products/1", None)
            .await
            .status,
        StatusCode::OK
    );
    let r = app
        .call(
            "PATCH /api/system/service/fixed",
            Some(&json!({"label": "x"})),
        )
        .await;
    assert_eq!(r.status, StatusCode::FORBIDDEN, "{}", r.text);
    assert_eq!(
        app.call("DELETE /api/system/service/fixed", None)
            .await
            .status,
        StatusCode::FORBIDDEN
    );
}

#[tokio::test]
async fn a_read_only_service_refuses_writes() {
    let Some(db) = fresh_db(Engine::Sqlite, None).await else {
        return;
    };
    let app = TestApp::new().await;
    let body =
        json!({"name": "ro", "type": "sqlite", "config": {"url": db.url, "read_only": true}});
    assert_eq!(
        app.call("POST /api/system/service", Some(&body))
            .await
            .status,
        StatusCode::CREATED
    );
    let r = app
        .call(
            "POST /api/ro/_table/products",
            Some(&json!({"sku": "Z", "name": "Z", "price": 1})),
        )
        .await;
    assert_eq!(r.status, StatusCode::METHOD_NOT_ALLOWED, "{}", r.text);
    assert_eq!(
        app.call("GET /api/ro/_table/products/1", None).await.status,
        StatusCode::OK
    );
}

#[tokio::test]
async fn max_records_caps_the_page() {
    let Some(db) = fresh_db(Engine::Sqlite, None).await else {
        return;
    };
    let app = TestApp::new().await;
    let body =
        json!({"name": "small", "type": "sqlite", "config": {"url": db.url, "max_records": 2}});
    assert_eq!(
        app.call("POST /api/system/service", Some(&body))
            .await
            .status,
        StatusCode::CREATED
    );
    let r = app
        .call(
            "GET /api/small/_table/customers?fields=id&order=id&limit=50",
            None,
        )
        .await;
    assert_eq!(
        r.json,
        json!({"resource": [{"id": 1}, {"id": 2}], "meta": {"next": 2}})
    );
    let r = app
        .call(
            "GET /api/small/_table/customers?fields=id&order=id&offset=4",
            None,
        )
        .await;
    assert_eq!(r.json, json!({"resource": [{"id": 5}]}));
}

#[tokio::test]
async fn a_database_that_goes_away_is_503_with_retry_after() {
    let Some(db) = fresh_db(Engine::Postgres, None).await else {
        return;
    };
    let app = TestApp::new().await;
    app.register("pg", &db).await;
    assert_eq!(
        app.call("GET /api/pg/_table/products/1", None).await.status,
        StatusCode::OK
    );
    let dbname = db.url.rsplit('/').next().unwrap().to_string();
    let admin = server_url(Engine::Postgres).unwrap();
    let mut c = <sqlx::PgConnection as sqlx::Connection>::connect(&admin)
        .await
        .unwrap();
    let sql = format!(
        "ALTER DATABASE {dbname} CONNECTION LIMIT 0; SELECT pg_terminate_backend(pid) FROM pg_stat_activity WHERE datname = '{dbname}' AND pid <> pg_backend_pid();"
    );
    sqlx::raw_sql(sqlx::AssertSqlSafe(sql))
        .execute(&mut c)
        .await
        .unwrap();
    let r = app.call("GET /api/pg/_table/products/1", None).await;
    assert_eq!(r.status, StatusCode::SERVICE_UNAVAILABLE, "{}", r.text);
    assert_eq!(r.json["error"]["code"], "service_unavailable");
    assert!(r.headers.get("retry-after").is_some());
    assert!(
        !r.text.to_lowercase().contains("terminat") && !r.text.contains("FATAL"),
        "{}",
        r.text
    );
}

#[tokio::test]
async fn request_ids_bodies_and_limits() {
    let app = TestApp::with_config(|c| c.max_body_bytes = 1024).await;
    let r = app.call("GET /health", None).await;
    assert_eq!(r.status, StatusCode::OK);
    let id = r
        .headers
        .get("x-request-id")
        .unwrap()
        .to_str()
        .unwrap()
        .to_string();
    assert_eq!(id.len(), 36);
    let r = app
        .call_with("GET /health", None, &[("x-request-id", "abc-123")])
        .await;
    assert_eq!(r.headers.get("x-request-id").unwrap(), "abc-123");
    assert_eq!(app.call("GET /ready", None).await.status, StatusCode::OK);
    // every /api endpoint needs the key
    let r = app.call_with("GET /api/system/service", None, &[]).await;
    assert_eq!(r.status, StatusCode::UNAUTHORIZED);
    let big = json!({"name": "x".repeat(4096)});
    let r = app.call("POST /api/system/service", Some(&big)).await;
    assert_eq!(r.status, StatusCode::PAYLOAD_TOO_LARGE, "{}", r.text);
    assert_eq!(r.json["error"]["code"], "payload_too_large");
    let r = app.call_raw("POST /api/system/service", "{not json").await;
    assert_eq!(r.status, StatusCode::BAD_REQUEST);
    assert_eq!(r.json["error"]["code"], "invalid_json");
    // the v2 path also answers under `services`, where DreamFactory's clients read
    let r: Value = app.call("GET /api/v2", None).await.json;
    assert_eq!(r, json!({"resource": [], "services": []}));
    let r: Value = app.call("GET /api", None).await.json;
    assert_eq!(r, json!({"resource": []}));
}

#[tokio::test]
async fn several_postgres_schemas_name_tables_schema_dot_table() {
    let Some(db) = fresh_db(Engine::Postgres, None).await else {
        return;
    };
    db.exec(
        "CREATE SCHEMA inventory;
         CREATE TABLE inventory.stock (product_id int PRIMARY KEY REFERENCES public.products(id), bin text NOT NULL);
         INSERT INTO inventory.stock VALUES (1, 'A-1'), (3, 'C-7');",
    )
    .await;
    let app = TestApp::new().await;
    let body = json!({"name": "pg", "type": "postgres", "config": {"url": db.url, "schemas": ["public", "inventory"]}});
    let r = app.call("POST /api/system/service", Some(&body)).await;
    assert_eq!(r.status, StatusCode::CREATED, "{}", r.text);
    let r = app.call("GET /api/pg/_table", None).await;
    assert!(
        r.text.contains("\"public.customers\"") && r.text.contains("\"inventory.stock\""),
        "{}",
        r.text
    );
    let r = app.call("GET /api/pg/_table/inventory.stock/3", None).await;
    assert_eq!(r.json, json!({"product_id": 3, "bin": "C-7"}));
    let r = app.call("GET /api/pg/_schema/inventory.stock", None).await;
    assert_eq!(
        r.json["field"][0]["ref_table"], "public.products",
        "{}",
        r.text
    );
    let r = app.call("GET /api/pg/_table/customers", None).await;
    assert_eq!(
        r.status,
        StatusCode::NOT_FOUND,
        "with several schemas, names are qualified"
    );
    // the default: public only, unqualified names
    let body = json!({"name": "pub", "type": "postgres", "config": {"url": db.url}});
    assert_eq!(
        app.call("POST /api/system/service", Some(&body))
            .await
            .status,
        StatusCode::CREATED
    );
    let r = app.call("GET /api/pub/_table", None).await;
    assert!(
        r.text.contains("\"customers\"") && !r.text.contains("stock"),
        "{}",
        r.text
    );
}

#[tokio::test]
async fn postgres_specific_types_identity_and_updatable_views() {
    let Some(db) = fresh_db(Engine::Postgres, None).await else {
        return;
    };
    db.exec(
        "CREATE TYPE mood AS ENUM ('sad', 'happy');
         CREATE TABLE exotic (
             id int GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
             m mood, tags text[], span interval, addr inet, doc json,
             doubled int GENERATED ALWAYS AS (cardinality(tags) * 2) STORED);
         CREATE VIEW simple_customers AS SELECT id, name, email FROM customers;",
    )
    .await;
    let app = TestApp::new().await;
    app.register("pg", &db).await;
    let body = json!({"m": "happy", "tags": ["a", "b"], "span": "1 day", "addr": "10.0.0.1", "doc": {"x": 1}});
    let r = app
        .call("POST /api/pg/_table/exotic?fields=*", Some(&body))
        .await;
    assert_eq!(r.status, StatusCode::CREATED, "{}", r.text);
    assert_eq!(
        r.json["resource"][0],
        json!({"id": 1, "m": "happy", "tags": ["a", "b"], "span": "1 day", "addr": "10.0.0.1", "doc": {"x": 1}, "doubled": 4})
    );
    let r = app
        .call(
            "GET /api/pg/_table/exotic?filter=m%20%3D%20'happy'&fields=id",
            None,
        )
        .await;
    assert_eq!(r.json, json!({"resource": [{"id": 1}]}), "{}", r.text);
    let r = app
        .call("GET /api/pg/_table/exotic?filter=m%20%3D%20'angry'", None)
        .await;
    assert_eq!(
        r.status,
        StatusCode::BAD_REQUEST,
        "an impossible enum value: {}",
        r.text
    );
    let r = app
        .call(
            "POST /api/pg/_table/exotic",
            Some(&json!({"id": 5, "m": "sad"})),
        )
        .await;
    // refused before the database, naming the column (it was 400 from the database)
    assert_eq!(r.json["error"]["code"], "read_only_field", "{}", r.text);
    assert_eq!(r.json["error"]["context"]["field"], "id", "{}", r.text);
    assert_eq!(
        r.status,
        StatusCode::UNPROCESSABLE_ENTITY,
        "an identity ALWAYS column: {}",
        r.text
    );
    assert!(!r.text.contains("GENERATED"), "{}", r.text);
    let r = app
        .call(
            "GET /api/pg/_table/exotic?filter=doc%20%3D%20'%7B%7D'",
            None,
        )
        .await;
    assert_eq!(
        r.status,
        StatusCode::BAD_REQUEST,
        "json has no equality: {}",
        r.text
    );
    let r = app.call("GET /api/pg/_schema/exotic", None).await;
    let types: Vec<&str> = r.json["field"]
        .as_array()
        .unwrap()
        .iter()
        .map(|f| f["type"].as_str().unwrap())
        .collect();
    assert_eq!(
        types,
        [
            "integer", "string", "array", "string", "string", "json", "integer"
        ]
    );
    // an auto-updatable view accepts writes
    let r = app.call("GET /api/pg/_schema/simple_customers", None).await;
    assert_eq!(r.json["writable"], true);
    let r = app
        .call(
            "POST /api/pg/_table/simple_customers",
            Some(&json!({"name": "Via View", "email": "view@example.com"})),
        )
        .await;
    assert_eq!(r.status, StatusCode::CREATED, "{}", r.text);
    assert_eq!(r.json["resource"][0]["email"], "view@example.com");
    let r = app
        .call(
            "GET /api/pg/_table/customers?filter=email%20%3D%20'view@example.com'&fields=name",
            None,
        )
        .await;
    assert_eq!(r.json, json!({"resource": [{"name": "Via View"}]}));
}
