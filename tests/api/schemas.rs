//! Schemas nobody here wrote (docs/API.md §1 values, §5 schema): the column
//! types, names and shapes real databases have — Pagila, Sakila, PostgREST's
//! test schema — each written, read back and filtered as a client would.

use crate::common::{Engine, TestApp, fresh_db};
use axum::http::StatusCode;
use serde_json::json;

/// `character(n)` and `bit(n)` (and arrays of them) keep the whole value:
/// a parameter cast to the bare type name would be `character(1)`, which
/// keeps one character. A value too long is refused, naming the field.
#[tokio::test]
async fn postgres_fixed_width_text_and_bits_keep_the_whole_value() {
    let table = "CREATE TABLE lang (id serial PRIMARY KEY, name character(20) NOT NULL,
        flags bit(4), codes character(3)[], mask bit varying(8));";
    let Some(db) = fresh_db(Engine::Postgres, Some(table)).await else {
        return;
    };
    let app = TestApp::new().await;
    app.register("pg", &db).await;
    let body = json!({"name": "Klingon", "flags": "1010", "codes": ["tlh", "x"], "mask": "101"});
    let r = app
        .call("POST /api/pg/_table/lang?fields=*", Some(&body))
        .await;
    assert_eq!(r.status, StatusCode::CREATED, "{}", r.text);
    let row = &r.json["resource"][0];
    assert_eq!(
        row["name"],
        json!(format!("{:<20}", "Klingon")),
        "{}",
        r.text
    );
    assert_eq!(row["flags"], "1010", "{}", r.text);
    assert_eq!(row["codes"], json!(["tlh", "x  "]), "{}", r.text);
    assert_eq!(row["mask"], "101", "{}", r.text);
    for filter in [
        "name = 'Klingon'",
        "flags = '1010'",
        "name in ('Klingon', 'Vulcan')",
    ] {
        let r = app
            .call_query(
                "GET /api/pg/_table/lang",
                &[("filter", filter), ("fields", "id")],
            )
            .await;
        assert_eq!(r.status, StatusCode::OK, "{filter}: {}", r.text);
        assert_eq!(
            r.json["resource"],
            json!([{"id": 1}]),
            "{filter}: {}",
            r.text
        );
    }
    let r = app
        .call(
            "PATCH /api/pg/_table/lang/1?fields=name,flags",
            Some(&json!({"name": "Vulcan", "flags": "0001"})),
        )
        .await;
    assert_eq!(r.status, StatusCode::OK, "{}", r.text);
    assert_eq!(r.json["name"], json!(format!("{:<20}", "Vulcan")));
    assert_eq!(r.json["flags"], "0001");
    let body = json!({"name": "a name of more than twenty characters"});
    let r = app.call("POST /api/pg/_table/lang", Some(&body)).await;
    assert_eq!(r.status.as_u16(), 422, "{}", r.text);
    assert_eq!(r.json["error"]["context"]["field"], "name", "{}", r.text);
    // (PostgreSQL does not say which column a bit string of the wrong length is for)
    let r = app
        .call(
            "POST /api/pg/_table/lang",
            Some(&json!({"name": "x", "flags": "101"})),
        )
        .await;
    assert_eq!(r.status.as_u16(), 422, "{}", r.text);
    let r = app.call("GET /api/pg/_table/lang?fields=name", None).await;
    assert_eq!(
        r.json["resource"].as_array().map(Vec::len),
        Some(1),
        "nothing half-written: {}",
        r.text
    );
}

/// Pages cut without an order come in key order: PostgreSQL moves an
/// updated row to the end of its heap, so reading "as stored" would skip
/// one row and repeat another between `limit=3` and `offset=3`.
#[tokio::test]
async fn pages_without_an_order_neither_skip_nor_repeat_rows() {
    let table = "CREATE TABLE note (id integer PRIMARY KEY, body text);
        INSERT INTO note SELECT n, 'n' || n FROM generate_series(1, 6) n;
        UPDATE note SET body = 'changed' WHERE id IN (1, 2);";
    let Some(db) = fresh_db(Engine::Postgres, Some(table)).await else {
        return;
    };
    let app = TestApp::new().await;
    app.register("pg", &db).await;
    let ids = |r: &crate::common::Reply| {
        r.json["resource"]
            .as_array()
            .unwrap()
            .iter()
            .map(|x| x["id"].as_i64().unwrap())
            .collect::<Vec<_>>()
    };
    let first = app
        .call("GET /api/pg/_table/note?fields=id&limit=3", None)
        .await;
    let second = app
        .call("GET /api/pg/_table/note?fields=id&limit=3&offset=3", None)
        .await;
    assert_eq!(ids(&first), [1, 2, 3], "{}", first.text);
    assert_eq!(first.json["meta"]["next"], 3, "{}", first.text);
    assert_eq!(ids(&second), [4, 5, 6], "{}", second.text);
}

/// A NOT NULL column a BEFORE INSERT trigger fills (Pagila's
/// `film.fulltext`, Sakila's `customer.create_date`) is not required: the
/// insert without it succeeds, and the OpenAPI document does not require it.
async fn trigger_filled_columns_are_not_required(engine: Engine, table: &str) {
    let Some(db) = fresh_db(engine, Some(table)).await else {
        return;
    };
    let app = TestApp::new().await;
    app.register("db", &db).await;
    let r = app
        .call(
            "POST /api/db/_table/member?fields=name,joined",
            Some(&json!({"id": 1, "name": "Ada"})),
        )
        .await;
    assert_eq!(r.status, StatusCode::CREATED, "{}", r.text);
    assert!(r.json["resource"][0]["joined"].is_string(), "{}", r.text);
    let spec = app.call("GET /api/db/_spec", None).await;
    let required = &spec.json["components"]["schemas"]["member"]["required"];
    assert_eq!(
        required,
        &json!(["id", "name"]),
        "{}",
        spec.json["components"]["schemas"]["member"]
    );
    // without the trigger's help the database still says no, naming nothing we hid
    let r = app
        .call("POST /api/db/_table/member", Some(&json!({"id": 2})))
        .await;
    assert_eq!(r.status.as_u16(), 422, "{}", r.text);
    assert_eq!(r.json["error"]["context"]["field"], "name", "{}", r.text);
}

#[tokio::test]
async fn postgres_trigger_filled_columns_are_not_required() {
    trigger_filled_columns_are_not_required(
        Engine::Postgres,
        "CREATE TABLE member (id integer PRIMARY KEY, name text NOT NULL, joined text NOT NULL);
         CREATE FUNCTION stamp() RETURNS trigger LANGUAGE plpgsql AS
             $$ BEGIN NEW.joined := now()::text; RETURN NEW; END $$;
         CREATE TRIGGER stamped BEFORE INSERT ON member FOR EACH ROW EXECUTE FUNCTION stamp();",
    )
    .await;
}

#[tokio::test]
async fn mysql_trigger_filled_columns_are_not_required() {
    trigger_filled_columns_are_not_required(
        Engine::MySql,
        "CREATE TABLE member (id integer PRIMARY KEY, name varchar(50) NOT NULL, joined varchar(40) NOT NULL);
         CREATE TRIGGER stamped BEFORE INSERT ON member FOR EACH ROW SET NEW.joined = NOW();",
    )
    .await;
}

/// The OpenAPI document's `readOnly` is what the server refuses: a column
/// the database computes (generated, identity ALWAYS) is refused up front,
/// naming it; an auto-increment key may be given. A record's key in a batch
/// update selects it and is not a write.
#[tokio::test]
async fn read_only_means_what_the_server_refuses() {
    let table = "CREATE TABLE item (id integer GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
        seq serial NOT NULL, name text NOT NULL, price numeric NOT NULL,
        doubled numeric GENERATED ALWAYS AS (price * 2) STORED);
        CREATE TABLE tag (id serial PRIMARY KEY, label text NOT NULL);";
    let Some(db) = fresh_db(Engine::Postgres, Some(table)).await else {
        return;
    };
    let app = TestApp::new().await;
    app.register("pg", &db).await;
    let spec = app.call("GET /api/pg/_spec", None).await;
    let props = &spec.json["components"]["schemas"]["item"]["properties"];
    assert_eq!(props["id"]["readOnly"], true, "{props}");
    assert_eq!(props["doubled"]["readOnly"], true, "{props}");
    assert_eq!(props["seq"].get("readOnly"), None, "{props}");
    let tag = &spec.json["components"]["schemas"]["tag"]["properties"];
    assert_eq!(
        tag["id"].get("readOnly"),
        None,
        "an auto-increment key may be given: {tag}"
    );

    for (body, field) in [
        (json!({"id": 5, "name": "a", "price": 1}), "id"),
        (json!({"name": "a", "price": 1, "doubled": 2}), "doubled"),
    ] {
        let r = app.call("POST /api/pg/_table/item", Some(&body)).await;
        assert_eq!(r.status.as_u16(), 422, "{body}: {}", r.text);
        assert_eq!(
            r.json["error"]["code"], "read_only_field",
            "{body}: {}",
            r.text
        );
        assert_eq!(
            r.json["error"]["context"]["field"], field,
            "{body}: {}",
            r.text
        );
    }
    let r = app
        .call(
            "POST /api/pg/_table/item?fields=*",
            Some(&json!({"name": "a", "price": 1, "seq": 40})),
        )
        .await;
    assert_eq!(r.status, StatusCode::CREATED, "{}", r.text);
    assert_eq!(r.json["resource"][0]["doubled"], 2, "{}", r.text);
    let r = app
        .call(
            "POST /api/pg/_table/tag?fields=id",
            Some(&json!({"id": 9, "label": "given"})),
        )
        .await;
    assert_eq!(r.status, StatusCode::CREATED, "{}", r.text);
    assert_eq!(r.json["resource"][0]["id"], 9, "{}", r.text);
    let r = app
        .call("PATCH /api/pg/_table/item/1", Some(&json!({"doubled": 3})))
        .await;
    assert_eq!(r.status.as_u16(), 422, "{}", r.text);
    assert_eq!(r.json["error"]["context"]["field"], "doubled", "{}", r.text);
    let r = app
        .call(
            "PATCH /api/pg/_table/item?fields=name",
            Some(&json!({"resource": [{"id": 1, "name": "b"}]})),
        )
        .await;
    assert_eq!(r.status, StatusCode::OK, "a key selects: {}", r.text);
    let r = app
        .call(
            "POST /api/pg/_table/item",
            Some(&json!({"name": null, "price": 1})),
        )
        .await;
    assert_eq!(r.status.as_u16(), 422, "{}", r.text);
    assert_eq!(r.json["error"]["code"], "not_null_violation", "{}", r.text);
    assert_eq!(
        r.json["error"]["message"], "'name' must not be null",
        "{}",
        r.text
    );
}

/// MariaDB spatial columns (Sakila's `address.location`) are read and
/// written as WKT text; text that is not WKT is 422, not a NULL stored.
#[tokio::test]
async fn mariadb_geometry_is_wkt_text() {
    let table =
        "CREATE TABLE place (id integer PRIMARY KEY, location geometry NOT NULL, spot point);
        INSERT INTO place VALUES (1, ST_GeomFromText('POINT(1 2)'), NULL);";
    let Some(db) = fresh_db(Engine::MySql, Some(table)).await else {
        return;
    };
    let app = TestApp::new().await;
    app.register("my", &db).await;
    let r = app.call("GET /api/my/_table/place", None).await;
    assert_eq!(r.status, StatusCode::OK, "{}", r.text);
    assert_eq!(
        r.json["resource"],
        json!([{"id": 1, "location": "POINT(1 2)", "spot": null}])
    );
    let body = json!({"id": 2, "location": "POLYGON((0 0,1 0,1 1,0 0))", "spot": "POINT(3 4)"});
    let r = app
        .call("POST /api/my/_table/place?fields=*", Some(&body))
        .await;
    assert_eq!(r.status, StatusCode::CREATED, "{}", r.text);
    assert_eq!(r.json["resource"][0]["spot"], "POINT(3 4)", "{}", r.text);
    let r = app
        .call(
            "PATCH /api/my/_table/place/2",
            Some(&json!({"spot": "somewhere"})),
        )
        .await;
    assert_eq!(r.status.as_u16(), 422, "{}", r.text);
    assert_eq!(r.json["error"]["context"]["field"], "spot", "{}", r.text);
    let r = app
        .call("GET /api/my/_table/place/2?fields=spot", None)
        .await;
    assert_eq!(r.json["spot"], "POINT(3 4)", "kept: {}", r.text);
}

/// LIKE and its kin on PostgreSQL strings that are not text in the database
/// (an enum, xml, money, tsvector, a range, ltree-like domains) cast to
/// text, as other non-text columns do; multi-dimensional arrays, composite
/// values and geometric types are written in the JSON forms they are read as.
#[tokio::test]
async fn postgres_strings_that_are_not_text_and_nested_values() {
    let table = "CREATE TYPE mood AS ENUM ('happy', 'sad');
        CREATE TYPE complex AS (r double precision, i double precision);
        CREATE TABLE odd (id integer PRIMARY KEY, m mood, x xml, price money, doc tsvector,
            span int4range, grid integer[][], z complex, spot point);
        INSERT INTO odd (id, m, x, price, doc, span) VALUES
            (1, 'happy', '<a>hi</a>', 12.5, 'fat cat', '[1,5)'),
            (2, 'sad', '<b/>', 3, 'lean dog', '[7,9)');";
    let Some(db) = fresh_db(Engine::Postgres, Some(table)).await else {
        return;
    };
    let app = TestApp::new().await;
    app.register("pg", &db).await;
    for (filter, ids) in [
        ("m like 'ha%'", json!([{"id": 1}])),
        ("m contains 'ad'", json!([{"id": 2}])),
        ("x starts with '<a'", json!([{"id": 1}])),
        ("price like '%12%'", json!([{"id": 1}])),
        ("doc contains 'cat'", json!([{"id": 1}])),
        ("span like '[7%'", json!([{"id": 2}])),
        ("m = 'sad'", json!([{"id": 2}])),
    ] {
        let r = app
            .call_query(
                "GET /api/pg/_table/odd",
                &[("filter", filter), ("fields", "id")],
            )
            .await;
        assert_eq!(r.status, StatusCode::OK, "{filter}: {}", r.text);
        assert_eq!(r.json["resource"], ids, "{filter}: {}", r.text);
    }
    let body =
        json!({"id": 3, "grid": [[1, 2], [3, 4]], "z": {"r": 1.5, "i": -2}, "spot": "(1,2)"});
    let r = app
        .call("POST /api/pg/_table/odd?fields=grid,z,spot", Some(&body))
        .await;
    assert_eq!(r.status, StatusCode::CREATED, "{}", r.text);
    assert_eq!(
        r.json["resource"][0],
        json!({"grid": [[1, 2], [3, 4]], "z": {"r": 1.5, "i": -2}, "spot": "(1,2)"}),
        "{}",
        r.text
    );
    let r = app
        .call(
            "PATCH /api/pg/_table/odd/3?fields=grid,z",
            Some(&json!({"grid": [[5]], "z": {"r": 0, "i": 1}})),
        )
        .await;
    assert_eq!(r.status, StatusCode::OK, "{}", r.text);
    assert_eq!(
        r.json,
        json!({"grid": [[5]], "z": {"r": 0, "i": 1}}),
        "{}",
        r.text
    );
}

/// Column names that are not identifiers (PostgREST's test schema has
/// `"zip code"`, `"do$llar$s"`, `"field-with_sep"`, mixed case) are named
/// in double quotes in `filter` and `order`.
async fn names_that_are_not_identifiers(engine: Engine, table: &str) {
    let Some(db) = fresh_db(engine, Some(table)).await else {
        return;
    };
    let app = TestApp::new().await;
    app.register("db", &db).await;
    for (filter, order, want) in [
        ("\"zip code\" = '2'", "id", json!([{"id": 2}])),
        (
            "\"do$llar$s\" > 1",
            "\"do$llar$s\" desc",
            json!([{"id": 3}, {"id": 2}]),
        ),
        (
            "\"field-with_sep\" starts with 'b'",
            "\"zip code\"",
            json!([{"id": 2}]),
        ),
        (
            "\"MixedCase\" in (1, 3)",
            "\"MixedCase\" desc, id",
            json!([{"id": 3}, {"id": 1}]),
        ),
    ] {
        let r = app
            .call_query(
                "GET /api/db/_table/odd_names",
                &[("filter", filter), ("order", order), ("fields", "id")],
            )
            .await;
        assert_eq!(r.status, StatusCode::OK, "{filter} / {order}: {}", r.text);
        assert_eq!(r.json["resource"], want, "{filter} / {order}: {}", r.text);
    }
    let r = app
        .call_query("GET /api/db/_table/odd_names", &[("order", "\"zip code")])
        .await;
    assert_eq!(r.status.as_u16(), 400, "{}", r.text);
    assert_eq!(r.json["error"]["code"], "invalid_parameter", "{}", r.text);
}

const ODD_NAMES_ROWS: &str =
    "INSERT INTO odd_names VALUES (1, '1', 1, 'a', 1), (2, '2', 2, 'b', 2), (3, '3', 3, 'c', 3);";

#[tokio::test]
async fn sqlite_names_that_are_not_identifiers() {
    names_that_are_not_identifiers(
        Engine::Sqlite,
        &format!("CREATE TABLE odd_names (id INTEGER PRIMARY KEY, \"zip code\" TEXT, \"do$llar$s\" INTEGER, \"field-with_sep\" TEXT, \"MixedCase\" INTEGER); {ODD_NAMES_ROWS}"),
    )
    .await;
}

#[tokio::test]
async fn postgres_names_that_are_not_identifiers() {
    names_that_are_not_identifiers(
        Engine::Postgres,
        &format!("CREATE TABLE odd_names (id integer PRIMARY KEY, \"zip code\" text, \"do$llar$s\" integer, \"field-with_sep\" text, \"MixedCase\" integer); {ODD_NAMES_ROWS}"),
    )
    .await;
}

/// `_schema.related` names only tables the service serves: not PostgreSQL's
/// per-partition copies of a partitioned table's keys, not a table in a
/// schema the service does not expose; a composite key marks each of its
/// columns as a foreign key.
#[tokio::test]
async fn related_names_only_served_tables() {
    let table = "CREATE SCHEMA hidden;
        CREATE TABLE hidden.secret (id integer PRIMARY KEY);
        CREATE TABLE region (code text, country text, PRIMARY KEY (code, country));
        CREATE TABLE shop (id integer PRIMARY KEY, secret_id integer REFERENCES hidden.secret,
            code text, country text, FOREIGN KEY (code, country) REFERENCES region);
        CREATE TABLE sale (id integer, shop_id integer REFERENCES shop, at date NOT NULL,
            PRIMARY KEY (id, at)) PARTITION BY RANGE (at);
        CREATE TABLE sale_2025 PARTITION OF sale FOR VALUES FROM ('2025-01-01') TO ('2026-01-01');
        CREATE TABLE sale_2026 PARTITION OF sale FOR VALUES FROM ('2026-01-01') TO ('2027-01-01');
        CREATE TABLE refund (id integer PRIMARY KEY, sale_id integer, sale_at date,
            FOREIGN KEY (sale_id, sale_at) REFERENCES sale);";
    let Some(db) = fresh_db(Engine::Postgres, Some(table)).await else {
        return;
    };
    let app = TestApp::new().await;
    app.register("pg", &db).await;
    let served: Vec<String> = app.call("GET /api/pg/_table", None).await.json["resource"]
        .as_array()
        .unwrap()
        .iter()
        .map(|t| t["name"].as_str().unwrap().to_string())
        .collect();
    for t in &served {
        let s = app.call(&format!("GET /api/pg/_schema/{t}"), None).await;
        for r in s.json["related"].as_array().unwrap() {
            let target = r["ref_table"].as_str().unwrap();
            assert!(
                served.iter().any(|n| n == target),
                "{t} relates to {target}, which is not served: {}",
                s.text
            );
        }
    }
    let shop = app.call("GET /api/pg/_schema/shop", None).await;
    let mut related: Vec<&str> = shop.json["related"]
        .as_array()
        .unwrap()
        .iter()
        .map(|r| r["name"].as_str().unwrap())
        .collect();
    related.sort_unstable();
    assert_eq!(
        related,
        ["region_by_code_country", "sale_by_shop_id"],
        "{}",
        shop.text
    );
    let fields = shop.json["field"].as_array().unwrap();
    let field = |n: &str| fields.iter().find(|f| f["name"] == n).unwrap();
    assert_eq!(field("code")["is_foreign_key"], true, "{}", shop.text);
    assert_eq!(field("country")["is_foreign_key"], true, "{}", shop.text);
    assert_eq!(field("country")["ref_field"], "country", "{}", shop.text);
    let refund = app.call("GET /api/pg/_schema/refund", None).await;
    assert_eq!(
        refund.json["related"].as_array().map(Vec::len),
        Some(1),
        "one key to the partitioned table, not one per partition: {}",
        refund.text
    );
}

/// Database states that are nobody's typo: an unpopulated materialized view
/// is 409 `object_not_ready`; a view whose own SQL fails is a 500 (the
/// caller sent nothing wrong); an error the database raises during a write
/// names the field when the database does (`unique_violation` on `email`).
#[tokio::test]
async fn database_states_get_their_own_answers() {
    let table = "CREATE TABLE person (id integer PRIMARY KEY, email text UNIQUE, boss integer REFERENCES person);
        INSERT INTO person VALUES (1, 'a@x.test', NULL), (2, 'b@x.test', 1);
        CREATE MATERIALIZED VIEW stale AS SELECT id FROM person WITH NO DATA;
        CREATE VIEW broken AS SELECT id, 1 / (id - id) AS ratio FROM person;";
    let Some(db) = fresh_db(Engine::Postgres, Some(table)).await else {
        return;
    };
    let app = TestApp::new().await;
    app.register("pg", &db).await;
    let r = app.call("GET /api/pg/_table/stale", None).await;
    assert_eq!(r.status.as_u16(), 409, "{}", r.text);
    assert_eq!(r.json["error"]["code"], "object_not_ready", "{}", r.text);
    let r = app.call("GET /api/pg/_table/broken", None).await;
    assert_eq!(r.status.as_u16(), 500, "{}", r.text);
    assert!(!r.text.contains("division"), "no driver text: {}", r.text);
    let r = app
        .call(
            "POST /api/pg/_table/person",
            Some(&json!({"id": 3, "email": "a@x.test"})),
        )
        .await;
    assert_eq!(r.status.as_u16(), 409, "{}", r.text);
    assert_eq!(r.json["error"]["context"]["field"], "email", "{}", r.text);
    let r = app
        .call(
            "POST /api/pg/_table/person",
            Some(&json!({"id": 4, "boss": 99})),
        )
        .await;
    assert_eq!(r.status.as_u16(), 409, "{}", r.text);
    assert_eq!(r.json["error"]["context"]["field"], "boss", "{}", r.text);
}

/// OpenAPI details a generated client relies on: enum columns list their
/// values (and a value outside them is 422 naming the field before the
/// database), `real` is a single-precision float.
async fn enums_are_listed_and_checked(engine: Engine, table: &str) {
    let Some(db) = fresh_db(engine, Some(table)).await else {
        return;
    };
    let app = TestApp::new().await;
    app.register("db", &db).await;
    let spec = app.call("GET /api/db/_spec", None).await;
    let props = &spec.json["components"]["schemas"]["feeling"]["properties"];
    assert_eq!(props["m"]["enum"], json!(["happy", "sad", null]), "{props}");
    let r = app
        .call(
            "POST /api/db/_table/feeling",
            Some(&json!({"id": 1, "m": "angry"})),
        )
        .await;
    assert_eq!(r.status.as_u16(), 422, "{}", r.text);
    assert_eq!(r.json["error"]["context"]["field"], "m", "{}", r.text);
    assert_eq!(
        r.json["error"]["context"]["expected"], "one of happy, sad",
        "{}",
        r.text
    );
    let r = app
        .call(
            "POST /api/db/_table/feeling",
            Some(&json!({"id": 2, "m": "sad"})),
        )
        .await;
    assert_eq!(r.status, StatusCode::CREATED, "{}", r.text);
}

#[tokio::test]
async fn postgres_enums_are_listed_and_checked() {
    enums_are_listed_and_checked(
        Engine::Postgres,
        "CREATE TYPE mood AS ENUM ('happy', 'sad'); CREATE TABLE feeling (id integer PRIMARY KEY, m mood, r real);",
    )
    .await;
    let Some(db) = fresh_db(
        Engine::Postgres,
        Some("CREATE TABLE f (id integer PRIMARY KEY, r real, d double precision);"),
    )
    .await
    else {
        return;
    };
    let app = TestApp::new().await;
    app.register("db", &db).await;
    let spec = app.call("GET /api/db/_spec", None).await;
    let props = &spec.json["components"]["schemas"]["f"]["properties"];
    assert_eq!(props["r"]["format"], "float", "{props}");
    assert_eq!(props["d"]["format"], "double", "{props}");
}

#[tokio::test]
async fn mysql_enums_are_listed_and_checked() {
    enums_are_listed_and_checked(
        Engine::MySql,
        "CREATE TABLE feeling (id integer PRIMARY KEY, m enum('happy','sad'));",
    )
    .await;
}
