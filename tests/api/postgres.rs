//! PostgreSQL reads decode each value's binary form in Gatehouse (no JSON
//! built by the server): every built-in type it decodes, at its edges, must
//! read as the server's own JSON spells it (`json_agg`), as JSON and as CSV.

use crate::common::{Engine, TestApp, fresh_db};
use axum::http::StatusCode;
use serde_json::Value;

const TABLE: &str = r#"
CREATE TABLE wire (
    id      integer PRIMARY KEY,
    s2      smallint,
    i8      bigint,
    n       numeric,
    n2      numeric(12,2),
    r4      real,
    f8      double precision,
    b       boolean,
    t       text,
    vc      varchar(20),
    ch      char(4),
    nm      name,
    u       uuid,
    j       json,
    jb      jsonb,
    by      bytea,
    ts      timestamp,
    tz      timestamptz,
    d       date,
    tm      time,
    ts3     timestamp(3),
    arr     integer[]
);
INSERT INTO wire VALUES
 (1, -32768, -9223372036854775808, 0, 0, 0, 0, false, '', '', 'a', 'n',
  '00000000-0000-0000-0000-000000000000', '{}', '{}', '\x', '2000-01-01', '2000-01-01Z', '2000-01-01', '00:00', '2000-01-01', '{}'),
 (2, 32767, 9223372036854775807, 'NaN', -0.01, 3.4028235e38, 1e100, true,
  E'tab\there "quoted" back\\slash \u00e9 \U0001F600 ctl\x01', 'x,y', 'ab', 'pg_class',
  'a0eebc99-9c0b-4ef8-bb6d-6bb9bd380a11', '{"b": [1, 2.50, null], "a": "x"}', '{"b": [1, 2.50], "a": "x"}',
  '\x00ff10', '1999-12-31 23:59:59.123456', '2024-02-29 12:00:00.5+02', '2024-02-29', '13:45:00.25',
  '1999-12-31 23:59:59.9994', '{1,NULL,3}'),
 (3, 1, 1, '123456789012345678901234567890.000000000000000000001', 9999999999.99, 1.5e-7, -2.2250738585072014e-308, NULL,
  NULL, NULL, NULL, NULL, NULL, 'null', '"s"', NULL, 'infinity', '-infinity', 'infinity', '24:00', '0044-03-15 10:00:00.5 BC', NULL),
 (4, NULL, NULL, '-0.000100', 1, 'NaN', 'Infinity', NULL,
  NULL, NULL, NULL, NULL, NULL, '[1,"2"]', '[]', NULL, '12345-01-01 00:00:01.000001', '0001-01-01 00:00 BC', '0044-03-15 BC', NULL, NULL, NULL),
 (5, NULL, NULL, 'Infinity', NULL, '-Infinity', 0.1, NULL,
  NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL, '-infinity', NULL, '-infinity', NULL),
 (6, NULL, NULL, '-Infinity', NULL, 1, 123456789012345680000, NULL,
  NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL, '1900-02-28 01:02:03', NULL, NULL);
"#;

/// Numbers compared by value (the server writes `1e+100`, Gatehouse `1e100`),
/// everything else exactly.
fn same(a: &Value, b: &Value) -> bool {
    match (a, b) {
        (Value::Number(x), Value::Number(y)) => {
            x.to_string() == y.to_string()
                || x.as_f64()
                    .zip(y.as_f64())
                    .is_some_and(|(x, y)| x.to_bits() == y.to_bits())
        }
        (Value::Array(x), Value::Array(y)) => {
            x.len() == y.len() && x.iter().zip(y).all(|(a, b)| same(a, b))
        }
        (Value::Object(x), Value::Object(y)) => {
            x.len() == y.len() && x.iter().all(|(k, v)| y.get(k).is_some_and(|w| same(v, w)))
        }
        _ => a == b,
    }
}

#[tokio::test]
async fn values_read_off_the_wire_as_the_server_spells_them() {
    let Some(db) = fresh_db(Engine::Postgres, Some(TABLE)).await else {
        return;
    };
    // what the server's JSON says (bytea as base64, as the API writes it)
    let expected: Vec<Value> = {
        use sqlx::Connection;
        let mut c = sqlx::PgConnection::connect(&db.url).await.unwrap();
        let text: String = sqlx::query_scalar(
            "SELECT json_agg(x ORDER BY id)::text FROM (SELECT id, s2, i8, n, n2, r4, f8, b, t, vc, \
             ch, nm, u, j, jb, translate(encode(by, 'base64'), E'\\n', '') AS by, ts, tz, d, tm, ts3, arr \
             FROM wire) x",
        )
        .fetch_one(&mut c)
        .await
        .unwrap();
        serde_json::from_str(&text).unwrap()
    };
    let app = TestApp::new().await;
    app.register("pg", &db).await;
    let r = app.call("GET /api/pg/_table/wire?order=id", None).await;
    assert_eq!(r.status, StatusCode::OK, "{}", r.text);
    let got = r.json["resource"].as_array().unwrap();
    assert_eq!(got.len(), expected.len());
    for (g, e) in got.iter().zip(&expected) {
        assert!(same(g, e), "\n got: {g}\nwant: {e}");
    }
    // exact numeric text, not rounded through a float
    assert!(
        r.text
            .contains("\"n\":123456789012345678901234567890.000000000000000000001"),
        "{}",
        r.text
    );
    assert!(r.text.contains("\"n\":-0.000100"), "{}", r.text);
    assert!(r.text.contains("\"n2\":-0.01"), "{}", r.text);
    assert!(r.text.contains("\"n\":\"NaN\""), "{}", r.text);
    assert!(r.text.contains("\"f8\":\"Infinity\""), "{}", r.text);
    // one record by key goes the same way
    let one = app.call("GET /api/pg/_table/wire/2", None).await;
    assert_eq!(one.status, StatusCode::OK, "{}", one.text);
    assert!(same(&one.json, &expected[1]), "{}", one.text);

    // the export writes the same values
    let nd = app
        .call("GET /api/pg/_table/wire?order=id&format=ndjson", None)
        .await;
    assert_eq!(nd.status, StatusCode::OK, "{}", nd.text);
    let lines: Vec<Value> = nd
        .text
        .lines()
        .map(|l| serde_json::from_str(l).unwrap())
        .collect();
    for (g, e) in lines.iter().zip(&expected) {
        assert!(same(g, e), "\n got: {g}\nwant: {e}");
    }
    let csv = app
        .call(
            "GET /api/pg/_table/wire?order=id&fields=id,n,ch,by,t&format=csv",
            None,
        )
        .await;
    assert_eq!(csv.status, StatusCode::OK, "{}", csv.text);
    let rows: Vec<&str> = csv.text.split("\r\n").collect();
    assert_eq!(rows[0], "id,n,ch,by,t");
    assert_eq!(rows[1], "1,0,a   ,,");
    assert!(
        rows[2].starts_with("2,NaN,ab  ,AP8Q,\"tab\there \"\"quoted\"\""),
        "{}",
        rows[2]
    );
}

/// The pool hands a connection back without a round trip, so it must know
/// when one is unfit: an export the client left mid-way, a connection the
/// server ended. With one connection in the pool, every request after those
/// needs a sound connection.
#[tokio::test]
async fn the_pool_drops_connections_left_mid_result_or_ended_by_the_server() {
    use axum::body::Body;
    use axum::http::Request;
    use http_body_util::BodyExt;
    use tower::ServiceExt;

    let table = "CREATE TABLE line (id integer PRIMARY KEY, label text NOT NULL);
                 INSERT INTO line SELECT i, repeat('x', 100) || i FROM generate_series(1, 200000) i;";
    let Some(db) = fresh_db(Engine::Postgres, Some(table)).await else {
        return;
    };
    let app = TestApp::new().await;
    let body = serde_json::json!({"name": "pg", "type": "postgres",
        "config": {"url": db.url, "max_records": 10, "pool_max": 1}});
    let r = app.call("POST /api/system/service", Some(&body)).await;
    assert_eq!(r.status, StatusCode::CREATED, "{}", r.text);

    for round in 0..3 {
        // an export (the admin's: no page cap) read for one chunk, then abandoned
        let req = Request::builder()
            .uri("/api/pg/_table/line?order=id&format=ndjson")
            .header("x-api-key", crate::common::ADMIN_KEY)
            .body(Body::empty())
            .unwrap();
        let resp = app.router.clone().oneshot(req).await.unwrap();
        assert_eq!(resp.status(), StatusCode::OK);
        let mut body = resp.into_body();
        let first = body.frame().await.unwrap().unwrap();
        assert!(first.is_data());
        drop(body);
        // the next reads and a write find a sound connection
        for id in [1, 199_999, 77] {
            let r = app
                .call(&format!("GET /api/pg/_table/line/{id}"), None)
                .await;
            assert_eq!(r.status, StatusCode::OK, "round {round}: {}", r.text);
            assert_eq!(r.json["id"], id, "round {round}: {}", r.text);
        }
        let r = app
            .call(
                "POST /api/pg/_table/line",
                Some(&serde_json::json!({"resource": [{"id": 300_000 + round, "label": "new"}]})),
            )
            .await;
        assert_eq!(r.status, StatusCode::CREATED, "round {round}: {}", r.text);
    }

    // the server ends the pooled connection: the next read is tried again on a new one
    db.exec(
        "SELECT pg_terminate_backend(pid) FROM pg_stat_activity \
         WHERE application_name = 'gatehouse' AND datname = current_database()",
    )
    .await;
    let r = app.call("GET /api/pg/_table/line/5", None).await;
    assert_eq!(r.status, StatusCode::OK, "{}", r.text);
    assert_eq!(r.json["id"], 5);
}

/// An all-or-nothing batch whose records give the same fields is one
/// multi-row INSERT on PostgreSQL (a statement-level trigger counts the
/// statements); its rows come back matched to their records. A batch a
/// trigger thins out (a row skipped) is undone and goes record by record,
/// writing nothing twice.
#[tokio::test]
async fn an_atomic_batch_is_one_insert_with_its_rows_in_order() {
    let table = "
        CREATE TABLE item (id serial PRIMARY KEY, label text NOT NULL, n integer);
        CREATE TABLE statements (n integer NOT NULL);
        INSERT INTO statements VALUES (0);
        CREATE FUNCTION count_statement() RETURNS trigger LANGUAGE plpgsql AS
            $$ BEGIN UPDATE statements SET n = n + 1; RETURN NULL; END $$;
        CREATE TRIGGER counted AFTER INSERT ON item FOR EACH STATEMENT EXECUTE FUNCTION count_statement();
        CREATE FUNCTION skip_marked() RETURNS trigger LANGUAGE plpgsql AS
            $$ BEGIN IF NEW.label = 'skip' THEN RETURN NULL; END IF; RETURN NEW; END $$;
        CREATE TRIGGER skipping BEFORE INSERT ON item FOR EACH ROW EXECUTE FUNCTION skip_marked();";
    let Some(db) = fresh_db(Engine::Postgres, Some(table)).await else {
        return;
    };
    let app = TestApp::new().await;
    app.register("pg", &db).await;
    let statements = || async {
        app.call("GET /api/pg/_table/statements", None).await.json["resource"][0]["n"].clone()
    };

    let records: Vec<Value> = (0..50)
        .map(|i| serde_json::json!({"label": format!("r{}", 49 - i), "n": if i % 7 == 0 { Value::Null } else { Value::from(i) }}))
        .collect();
    let body = serde_json::json!({"resource": records});
    let r = app
        .call("POST /api/pg/_table/item?fields=id,label,n", Some(&body))
        .await;
    assert_eq!(r.status, StatusCode::CREATED, "{}", r.text);
    let got = r.json["resource"].as_array().unwrap();
    assert_eq!(got.len(), 50);
    for (i, (rec, row)) in records.iter().zip(got).enumerate() {
        assert_eq!(row["label"], rec["label"], "record {i}");
        assert_eq!(row["n"], rec["n"], "record {i}");
        assert_eq!(row["id"], i + 1, "record {i}");
    }
    assert_eq!(statements().await, 1, "one INSERT for the batch");

    // a row the trigger skips: the one statement is undone, the records go one by one
    let body = serde_json::json!({"resource": [{"label": "a", "n": 1}, {"label": "skip", "n": 2}, {"label": "b", "n": 3}]});
    let r = app
        .call("POST /api/pg/_table/item?fields=label", Some(&body))
        .await;
    assert_eq!(r.status, StatusCode::CREATED, "{}", r.text);
    assert_eq!(statements().await, 1 + 3, "{}", r.text);
    let r = app
        .call(
            "GET /api/pg/_table/item?filter=id%20%3E%2050&fields=label&order=id",
            None,
        )
        .await;
    assert_eq!(
        r.json["resource"],
        serde_json::json!([{"label": "a"}, {"label": "b"}]),
        "{}",
        r.text
    );
}

/// The connection dies while the database commits (here a deferred trigger
/// ends its own session at COMMIT): the answer is 503 `outcome_unknown`,
/// without the advice to try again, for a batch's COMMIT and for a single
/// write that commits by itself.
#[tokio::test]
async fn a_connection_lost_at_commit_leaves_the_outcome_unknown() {
    let table = "CREATE TABLE ledger (id integer PRIMARY KEY, memo text NOT NULL);
        CREATE FUNCTION hang_up() RETURNS trigger LANGUAGE plpgsql AS
          $$ BEGIN IF NEW.memo = 'hang up' THEN PERFORM pg_terminate_backend(pg_backend_pid()); END IF; RETURN NULL; END $$;
        CREATE CONSTRAINT TRIGGER at_commit AFTER INSERT ON ledger
          DEFERRABLE INITIALLY DEFERRED FOR EACH ROW EXECUTE FUNCTION hang_up();";
    let Some(db) = fresh_db(Engine::Postgres, Some(table)).await else {
        return;
    };
    let app = TestApp::new().await;
    app.register("pg", &db).await;
    let batch = serde_json::json!({"resource": [
        {"id": 1, "memo": "a"}, {"id": 2, "memo": "hang up"}, {"id": 3, "memo": "c"}]});
    let single = serde_json::json!({"id": 4, "memo": "hang up"});
    for body in [batch, single] {
        let r = app.call("POST /api/pg/_table/ledger", Some(&body)).await;
        assert_eq!(r.status, StatusCode::SERVICE_UNAVAILABLE, "{}", r.text);
        assert_eq!(r.json["error"]["code"], "outcome_unknown", "{}", r.text);
        assert!(r.headers.get("retry-after").is_none());
    }
    // and the service goes on
    let r = app
        .call(
            "POST /api/pg/_table/ledger",
            Some(&serde_json::json!({"id": 5, "memo": "fine"})),
        )
        .await;
    assert_eq!(r.status, StatusCode::CREATED, "{}", r.text);
}

/// A column changes type and the service is refreshed: pooled connections
/// had the old statement prepared, and PostgreSQL answered "cached plan must
/// not change result type" (500) until they were replaced.
#[tokio::test]
async fn a_column_that_changed_type_is_read_after_a_refresh() {
    let table = "CREATE TABLE gauge (id integer PRIMARY KEY, reading integer);
                 INSERT INTO gauge VALUES (1, 7);";
    let Some(db) = fresh_db(Engine::Postgres, Some(table)).await else {
        return;
    };
    let app = TestApp::new().await;
    let body = serde_json::json!({"name": "pg", "type": "postgres",
        "config": {"url": db.url, "pool_max": 1}});
    let r = app.call("POST /api/system/service", Some(&body)).await;
    assert_eq!(r.status, StatusCode::CREATED, "{}", r.text);
    for _ in 0..2 {
        let r = app.call("GET /api/pg/_table/gauge/1", None).await;
        assert_eq!(r.json["reading"], 7, "{}", r.text);
    }
    db.exec("ALTER TABLE gauge ALTER COLUMN reading TYPE text USING reading::text")
        .await;
    let r = app.call("POST /api/system/service/pg/_refresh", None).await;
    assert_eq!(r.status, StatusCode::OK, "{}", r.text);
    let r = app.call("GET /api/pg/_table/gauge/1", None).await;
    assert_eq!(r.status, StatusCode::OK, "{}", r.text);
    assert_eq!(r.json["reading"], "7", "{}", r.text);
}
