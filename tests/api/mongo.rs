//! MongoDB beyond the shared conformance cases, on both wire-protocol servers:
//! ObjectId keys, schemaless fields, operator names refused, and atomic batches
//! undone by compensation.

use crate::common::{Engine, TestApp, TestDb, fresh_db};
use axum::http::StatusCode;
use serde_json::{Value, json};

const FIXTURE: &str = r#"{"unique": {"people": ["email"]}, "collections": {"people": [
  {"_id": {"$oid": "65a1b2c3d4e5f60718293a4b"}, "name": "Ada", "email": "ada@example.com", "age": 36, "tags": ["math"]},
  {"_id": {"$oid": "65a1b2c3d4e5f60718293a4c"}, "name": "Alan", "email": "alan@example.com", "age": 41, "address": {"city": "London"}}
]}}"#;

async fn setup(engine: Engine) -> Option<(TestApp, TestDb)> {
    let db = fresh_db(engine, Some(FIXTURE)).await?;
    let app = TestApp::new().await;
    app.register("m", &db).await;
    Some((app, db))
}

async fn count(app: &TestApp) -> Value {
    app.call("GET /api/m/_table/people?count_only=true", None)
        .await
        .json
}

async fn object_ids_and_schemaless_fields(engine: Engine) {
    let Some((app, _db)) = setup(engine).await else {
        return;
    };
    let s = app.call("GET /api/m/_schema/people", None).await;
    assert_eq!(s.json["primary_key"], json!(["_id"]), "{}", s.text);
    assert_eq!(s.json["field"][0]["type"], "object_id");
    // a record by its ObjectId, given as 24 hex digits
    let r = app
        .call(
            "GET /api/m/_table/people/65a1b2c3d4e5f60718293a4c?fields=name",
            None,
        )
        .await;
    assert_eq!(r.json, json!({"name": "Alan"}), "{}", r.text);
    // a new document gets an ObjectId, answered as hex
    let r = app
        .call(
            "POST /api/m/_table/people",
            Some(&json!({"name": "Grace", "email": "grace@example.com", "rank": "admiral"})),
        )
        .await;
    assert_eq!(r.status, StatusCode::CREATED, "{}", r.text);
    let id = r.json["resource"][0]["_id"].as_str().unwrap().to_string();
    assert!(
        id.len() == 24 && id.bytes().all(|b| b.is_ascii_hexdigit()),
        "{id}"
    );
    // a field the sample never saw can be filtered on, and dotted paths reach inside
    let r = app
        .call(
            "GET /api/m/_table/people?filter=rank%20%3D%20%27admiral%27&fields=_id",
            None,
        )
        .await;
    assert_eq!(r.json, json!({"resource": [{"_id": id}]}), "{}", r.text);
    let r = app
        .call("GET /api/m/_table/people?filter=address.city%20%3D%20%27London%27&fields=name,address.city", None)
        .await;
    assert_eq!(
        r.json,
        json!({"resource": [{"name": "Alan", "address.city": "London"}]}),
        "{}",
        r.text
    );
    // operator names are refused wherever a field is named
    for target in [
        "GET /api/m/_table/people?filter=%24where%20%3D%201",
        "GET /api/m/_table/people?fields=%24where",
        "GET /api/m/_table/people?order=a.%24b",
    ] {
        let r = app.call(target, None).await;
        assert_eq!(r.status, StatusCode::BAD_REQUEST, "{target}: {}", r.text);
    }
    let r = app
        .call(
            "POST /api/m/_table/people",
            Some(&json!({"$set": {"x": 1}})),
        )
        .await;
    assert_eq!(r.status, StatusCode::BAD_REQUEST, "{}", r.text);
    // an operator hidden in a value is refused, not run
    let r = app
        .call(
            "PATCH /api/m/_table/people/65a1b2c3d4e5f60718293a4b",
            Some(&json!({"address": {"$gt": ""}})),
        )
        .await;
    assert_eq!(r.status, StatusCode::UNPROCESSABLE_ENTITY, "{}", r.text);
    // values of sampled fields keep their type
    let r = app
        .call(
            "PATCH /api/m/_table/people/65a1b2c3d4e5f60718293a4b",
            Some(&json!({"age": "old"})),
        )
        .await;
    assert_eq!(r.json["error"]["code"], "type_mismatch", "{}", r.text);
    // a unique index is a 409
    let r = app
        .call(
            "POST /api/m/_table/people",
            Some(&json!({"name": "Copy", "email": "ada@example.com"})),
        )
        .await;
    assert_eq!(r.status, StatusCode::CONFLICT, "{}", r.text);
    assert!(!r.text.contains("E11000"), "driver text leaked: {}", r.text);
}

async fn atomic_batches_are_undone(engine: Engine) {
    let Some((app, _db)) = setup(engine).await else {
        return;
    };
    // the third record breaks the unique index: the first two are taken back
    let r = app
        .call(
            "POST /api/m/_table/people",
            Some(&json!([{"name": "A", "email": "a@x"}, {"name": "B", "email": "b@x"}, {"name": "C", "email": "ada@example.com"}])),
        )
        .await;
    assert_eq!(r.status, StatusCode::CONFLICT, "{}", r.text);
    assert_eq!(r.json["error"]["code"], "batch_failed", "{}", r.text);
    assert_eq!(count(&app).await, json!(2));
    // an update batch: the first record's change is put back when the second fails
    let r = app
        .call(
            "PATCH /api/m/_table/people",
            Some(&json!([
                {"_id": "65a1b2c3d4e5f60718293a4b", "name": "Changed"},
                {"_id": "65a1b2c3d4e5f60718293a4c", "email": "ada@example.com"}
            ])),
        )
        .await;
    assert_eq!(r.status, StatusCode::CONFLICT, "{}", r.text);
    let r = app
        .call(
            "GET /api/m/_table/people/65a1b2c3d4e5f60718293a4b?fields=name,tags",
            None,
        )
        .await;
    assert_eq!(
        r.json,
        json!({"name": "Ada", "tags": ["math"]}),
        "{}",
        r.text
    );
    // a delete batch with a missing record deletes nothing
    let r = app
        .call(
            "DELETE /api/m/_table/people",
            Some(
                &json!([{"_id": "65a1b2c3d4e5f60718293a4b"}, {"_id": "65a1b2c3d4e5f60718293aff"}]),
            ),
        )
        .await;
    assert_eq!(r.status, StatusCode::NOT_FOUND, "{}", r.text);
    assert_eq!(count(&app).await, json!(2));
    // continue=true keeps the good records
    let r = app
        .call(
            "POST /api/m/_table/people?continue=true",
            Some(
                &json!([{"name": "D", "email": "d@x"}, {"name": "E", "email": "alan@example.com"}]),
            ),
        )
        .await;
    assert_eq!(r.status, StatusCode::BAD_REQUEST, "{}", r.text);
    assert_eq!(count(&app).await, json!(3));
}

#[tokio::test]
async fn secantus_object_ids_and_schemaless_fields() {
    object_ids_and_schemaless_fields(Engine::MongoDb).await;
}

#[tokio::test]
async fn nx_object_ids_and_schemaless_fields() {
    object_ids_and_schemaless_fields(Engine::MongoNx).await;
}

#[tokio::test]
async fn secantus_atomic_batches_are_undone() {
    atomic_batches_are_undone(Engine::MongoDb).await;
}

#[tokio::test]
async fn nx_atomic_batches_are_undone() {
    atomic_batches_are_undone(Engine::MongoNx).await;
}
