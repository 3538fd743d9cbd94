#![allow(clippy::panic, clippy::unwrap_used, clippy::expect_used)]
//! SQL translation snapshots: a connector request in (the table as each
//! engine's introspection describes it), SQL text and parameters out, per
//! dialect, without a database. Every value must appear as a parameter.

use gatehouse_core::catalog::{ApiType, Column, Table, TableKind};
use gatehouse_core::{CountMode, Expr, OrderBy, SelectRequest};
use gatehouse_sql::ast::Statement;
use gatehouse_sql::dialect::Printer;
use gatehouse_sql::{Dialect, MySql, Postgres, SqlServer, Sqlite, translate};
use serde_json::{Map, Value, json};

fn col(name: &str, api: ApiType, db: &str, cast: &str) -> Column {
    let mut c = Column::new(name, api, db);
    c.cast_type = cast.into();
    c
}

/// The test table as `dialect`'s introspection would describe it (cast types
/// are engine spellings).
fn table_for(dialect: &str) -> Table {
    let mut t = table();
    let casts: &[(&str, &str)] = match dialect {
        "mysql" => &[("total", "DECIMAL(10,2)")],
        "sqlserver" => &[("total", "decimal(10,2)"), ("placed_at", "datetimeoffset")],
        "postgres" => return t,
        _ => &[],
    };
    for c in &mut t.columns {
        c.cast_type = casts
            .iter()
            .find(|(n, _)| *n == c.name)
            .map(|(_, t)| t.to_string())
            .unwrap_or_default();
    }
    t
}

fn table() -> Table {
    let mut id = col("id", ApiType::Integer, "integer", "integer");
    id.is_primary_key = true;
    id.auto_increment = true;
    let mut status = col(
        "status",
        ApiType::String,
        "character varying(20)",
        "character varying",
    );
    status.default = Some("'new'::character varying".into());
    Table {
        name: "orders".into(),
        schema: Some("sales".into()),
        db_name: "order\"s".into(),
        kind: TableKind::Table,
        writable: true,
        description: None,
        columns: vec![
            id,
            status,
            col("total", ApiType::Decimal, "numeric(10,2)", "numeric"),
            col("paid", ApiType::Boolean, "boolean", "boolean"),
            col(
                "placed_at",
                ApiType::Timestamp,
                "timestamp with time zone",
                "timestamp with time zone",
            ),
            col("receipt", ApiType::Binary, "bytea", "bytea"),
            col("tags", ApiType::Array, "text[]", "text[]"),
        ],
        primary_key: vec!["id".into()],
        foreign_keys: vec![],
        related: vec![],
        inferred: false,
        withheld: Vec::new(),
    }
}

fn filter(text: &str, params: Value) -> Expr {
    let params: Map<String, Value> = params.as_object().cloned().unwrap_or_default();
    Expr::parse(text)
        .and_then(|e| e.bind(&params))
        .unwrap_or_else(|e| panic!("{e}"))
}

/// The statement pretty-printed for a reviewer (the `sqlformat` crate; the
/// SQL sent is the one line it reformats), its parameters and its output.
fn render(d: &dyn Dialect, stmt: &Statement) -> String {
    let q = Printer::print(d, stmt);
    let options = sqlformat::FormatOptions {
        indent: sqlformat::Indent::Spaces(2),
        lines_between_queries: 1,
        ..Default::default()
    };
    // sqlformat reads `'\'` (a backslash, in standard SQL) as an escaped
    // quote and would run the rest of the line into one string: the escape
    // character stands aside while it formats
    // (MySQL spells it `'\\'`)
    let escapes = [
        ("'\\\\'", "'<backslash, escaped>'"),
        ("'\\'", "'<backslash>'"),
    ];
    let mut sql = q.sql.clone();
    for (escape, standin) in escapes {
        sql = sql.replace(escape, standin);
    }
    let mut pretty = sqlformat::format(&sql, &sqlformat::QueryParams::None, &options);
    for (escape, standin) in escapes {
        pretty = pretty.replace(standin, escape);
    }
    // formatting moves only whitespace: the same tokens in the same order
    let squeeze = |s: &str| s.split_whitespace().collect::<String>();
    assert_eq!(
        squeeze(&pretty),
        squeeze(&q.sql),
        "sqlformat changed the statement: {}",
        q.sql
    );
    format!(
        "{pretty}\n-- params: {:?}\n-- output: {:?}",
        q.params, q.output
    )
}

/// Snapshots `stmt` printed by every dialect, for the table as that engine describes it.
fn all(name: &str, stmt: impl Fn(&Table) -> Statement) {
    let dialects: [&dyn Dialect; 4] = [&Postgres, &Sqlite, &MySql, &SqlServer];
    for d in dialects {
        let t = table_for(d.name());
        insta::assert_snapshot!(format!("{name}__{}", d.name()), render(d, &stmt(&t)));
    }
}

fn select(
    t: &Table,
    f: Option<Expr>,
    order: Vec<OrderBy>,
    limit: Option<u64>,
    offset: u64,
) -> Statement {
    let req = request(t, f, order, limit, offset);
    let filter = translate::opt_cond(req.filter.as_ref(), t).unwrap_or_else(|e| panic!("{e}"));
    translate::select_of(&req, filter, false).unwrap_or_else(|e| panic!("{e}"))
}

/// A read of every column of `t`, as the HTTP layer hands it to a connector.
fn request(
    t: &Table,
    filter: Option<Expr>,
    order: Vec<OrderBy>,
    limit: Option<u64>,
    offset: u64,
) -> SelectRequest {
    SelectRequest {
        table: std::sync::Arc::new(t.clone()),
        fields: t.columns.iter().map(|c| c.name.clone()).collect(),
        filter,
        order,
        limit,
        offset,
        count: CountMode::WithRows,
    }
}

#[test]
fn list_with_every_operator() {
    all("list_every_operator", |t| {
        select(
            t,
            Some(filter(
                "(status = 'paid' or status in ('new', :s)) and not total between 1 and 99.95 and placed_at >= '2026-01-01T00:00:00Z' \
                 and status like 'p%' and status contains '50%_off\\' and status starts with 'a' and status ends with 'z' and paid = true and receipt is not null and total = null",
                json!({"s": "shipped"}),
            )),
            vec![
                OrderBy {
                    field: "total".into(),
                    descending: true,
                    nulls_first: Some(false),
                },
                OrderBy {
                    field: "id".into(),
                    descending: false,
                    nulls_first: None,
                },
            ],
            Some(21),
            40,
        )
    });
}

#[test]
fn injection_attempts_stay_parameters() {
    all("injection", |t| {
        select(
            t,
            Some(filter("status = 'x'' OR 1=1 --'", json!({}))),
            vec![],
            Some(10),
            0,
        )
    });
}

#[test]
fn like_on_a_non_text_column() {
    all("like_non_text", |t| {
        select(
            t,
            Some(filter("total contains '.5'", json!({}))),
            vec![],
            None,
            0,
        )
    });
}

#[test]
fn paging() {
    let by_id = || {
        vec![OrderBy {
            field: "id".into(),
            descending: false,
            nulls_first: None,
        }]
    };
    all("limit_only", |t| select(t, None, by_id(), Some(5), 0));
    all("offset_only", |t| select(t, None, by_id(), None, 10));
    all("page_unordered", |t| select(t, None, vec![], Some(5), 10));
    // a column read through a conversion (`to_json(x)::text AS x`) is sorted
    // by its value, named with its table, not by the converted alias
    let by_time = || {
        vec![OrderBy {
            field: "placed_at".into(),
            descending: true,
            nulls_first: None,
        }]
    };
    all("order_by_converted_column", |t| {
        select(t, None, by_time(), Some(5), 0)
    });
}

#[test]
fn count() {
    all("count", |t| {
        let req = request(t, Some(filter("paid = false", json!({}))), vec![], None, 0);
        let f = translate::opt_cond(req.filter.as_ref(), t).unwrap_or_else(|e| panic!("{e}"));
        translate::count_of(&req, f)
    });
}

#[test]
fn insert_update_delete() {
    let ret = |t: &Table| translate::returning_cols(t, &[]).unwrap_or_default();
    let rec: Map<String, Value> = json!({"status": "paid", "total": 12.50, "paid": true, "receipt": "aGVsbG8=", "tags": ["a", "b"]})
        .as_object()
        .cloned()
        .unwrap_or_default();
    all("insert", |t| {
        translate::insert(t, &rec, &ret(t)).unwrap_or_else(|e| panic!("{e}"))
    });
    // a batch as one statement: the records give the same fields, one null
    let second: Map<String, Value> =
        json!({"status": "new", "total": "0.50", "paid": null, "receipt": null, "tags": []})
            .as_object()
            .cloned()
            .unwrap_or_default();
    all("insert_rows", |t| {
        translate::insert_rows(t, &[rec.clone(), second.clone()], &ret(t))
            .unwrap_or_else(|e| panic!("{e}"))
            .unwrap_or_else(|| panic!("the same fields make one statement"))
    });
    let fewer: Map<String, Value> = json!({"status": "new"})
        .as_object()
        .cloned()
        .unwrap_or_default();
    assert!(
        translate::insert_rows(&table(), &[rec.clone(), fewer], &ret(&table()))
            .unwrap_or_else(|e| panic!("{e}"))
            .is_none(),
        "records with different fields go one by one"
    );
    all("insert_defaults", |t| {
        translate::insert(t, &Map::new(), &ret(t)).unwrap_or_else(|e| panic!("{e}"))
    });
    let key = Expr::eq("id", json!("7"));
    let patch: Map<String, Value> = json!({"total": "99.99"})
        .as_object()
        .cloned()
        .unwrap_or_default();
    all("patch", |t| {
        translate::update(t, &key, &patch, false, &ret(t)).unwrap_or_else(|e| panic!("{e}"))
    });
    all("put", |t| {
        translate::update(t, &key, &patch, true, &ret(t)).unwrap_or_else(|e| panic!("{e}"))
    });
    all("delete", |t| {
        translate::delete(t, &filter("id in (1, 2)", json!({})), &ret(t))
            .unwrap_or_else(|e| panic!("{e}"))
    });
    all("delete_all", |t| {
        translate::delete(t, &Expr::And(vec![]), &ret(t)).unwrap_or_else(|e| panic!("{e}"))
    });
}

#[test]
fn bad_values_are_refused_before_sql() {
    let t = table();
    for (f, field) in [
        ("id = 'seven'", "id"),
        ("total > 'lots'", "total"),
        ("placed_at < 'soon'", "placed_at"),
        ("paid = 'maybe'", "paid"),
    ] {
        let e = translate::cond(&filter(f, json!({})), &t)
            .err()
            .unwrap_or_else(|| panic!("{f} translated"));
        assert_eq!(e.kind, gatehouse_core::ErrorKind::InvalidValue, "{f}");
        assert_eq!(e.field.as_deref(), Some(field), "{f}");
    }
    let rec: Map<String, Value> = json!({"receipt": "not base64!"})
        .as_object()
        .cloned()
        .unwrap_or_default();
    assert!(translate::insert(&t, &rec, &[]).is_err());
}
