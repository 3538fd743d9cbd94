#![allow(clippy::panic, clippy::unwrap_used, clippy::expect_used)]
//! SQL translation goldenfiles: a case file in `tests/translation/` (the
//! connector request, as JSON) and the table of `table.json` (as each
//! engine's introspection describes it) in; SQL text, parameters and the
//! output's reading per dialect out (`snapshots/translation__{case}__{dialect}.snap`),
//! without a database. Every value must appear as a parameter. A new case is
//! a new file: `cargo insta test -p gatehouse-sql` writes its snapshots.

use gatehouse_core::catalog::{ApiType, Column, Table, TableKind};
use gatehouse_core::{CountMode, Expr, OrderBy, Record, SelectRequest};
use gatehouse_sql::ast::Statement;
use gatehouse_sql::dialect::Printer;
use gatehouse_sql::{Dialect, MySql, Postgres, SqlServer, Sqlite, translate};
use serde::Deserialize;
use serde_json::{Map, Value};
use std::collections::BTreeMap;
use std::path::Path;

const DIR: &str = concat!(env!("CARGO_MANIFEST_DIR"), "/tests/translation");

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct TableFile {
    /// For the reader only.
    #[serde(rename = "why")]
    _why: String,
    name: String,
    schema: Option<String>,
    db_name: String,
    primary_key: Vec<String>,
    columns: Vec<ColumnFile>,
    /// Per dialect: column name to that engine's cast type.
    casts: BTreeMap<String, BTreeMap<String, String>>,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct ColumnFile {
    name: String,
    api: ApiType,
    db_type: String,
    cast: String,
    #[serde(default)]
    primary_key: bool,
    #[serde(default)]
    auto_increment: bool,
    default: Option<String>,
}

/// A case: one request, with `why` it is worth a goldenfile when the name
/// does not say.
#[derive(Deserialize)]
#[serde(deny_unknown_fields, rename_all = "snake_case")]
struct Case {
    #[serde(default, rename = "why")]
    _why: Option<String>,
    #[serde(flatten)]
    request: Request,
}

#[derive(Deserialize)]
#[serde(rename_all = "snake_case")]
enum Request {
    Select(Read),
    Count(Read),
    /// One record: `translate::insert`; several: one statement for all.
    Insert {
        records: Vec<Record>,
    },
    Update {
        filter: String,
        record: Record,
        #[serde(default)]
        replace: bool,
    },
    /// `filter: null` is an empty AND: every record.
    Delete {
        filter: Option<String>,
    },
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct Read {
    filter: Option<String>,
    #[serde(default)]
    params: Map<String, Value>,
    #[serde(default)]
    order: Vec<Order>,
    limit: Option<u64>,
    #[serde(default)]
    offset: u64,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct Order {
    field: String,
    #[serde(default)]
    descending: bool,
    nulls_first: Option<bool>,
}

fn read_json<T: serde::de::DeserializeOwned>(path: &Path) -> T {
    let text = std::fs::read_to_string(path).unwrap_or_else(|e| panic!("{}: {e}", path.display()));
    serde_json::from_str(&text).unwrap_or_else(|e| panic!("{}: {e}", path.display()))
}

/// The test table as `dialect`'s introspection would describe it.
fn table_for(file: &TableFile, dialect: &str) -> Table {
    let casts = file.casts.get(dialect);
    let columns = file
        .columns
        .iter()
        .map(|c| {
            let mut col = Column::new(&c.name, c.api, &c.db_type);
            col.cast_type = match casts {
                Some(casts) => casts.get(&c.name).cloned().unwrap_or_default(),
                None => c.cast.clone(),
            };
            col.is_primary_key = c.primary_key;
            col.auto_increment = c.auto_increment;
            col.default.clone_from(&c.default);
            col
        })
        .collect();
    Table {
        name: file.name.clone(),
        schema: file.schema.clone(),
        db_name: file.db_name.clone(),
        kind: TableKind::Table,
        writable: true,
        description: None,
        columns,
        primary_key: file.primary_key.clone(),
        foreign_keys: vec![],
        related: vec![],
        inferred: false,
        withheld: Vec::new(),
    }
}

fn filter(text: &str, params: &Map<String, Value>) -> Expr {
    Expr::parse(text)
        .and_then(|e| e.bind(params))
        .unwrap_or_else(|e| panic!("{text}: {e}"))
}

/// A read of every column of `t`, as the HTTP layer hands it to a connector.
fn select_request(t: &Table, r: &Read, count: CountMode) -> SelectRequest {
    SelectRequest {
        table: std::sync::Arc::new(t.clone()),
        fields: t.columns.iter().map(|c| c.name.clone()).collect(),
        filter: r.filter.as_deref().map(|f| filter(f, &r.params)),
        order: r
            .order
            .iter()
            .map(|o| OrderBy {
                field: o.field.clone(),
                descending: o.descending,
                nulls_first: o.nulls_first,
            })
            .collect(),
        limit: r.limit,
        offset: r.offset,
        count,
    }
}

/// The statement `request` translates to for table `t`.
fn statement(t: &Table, request: &Request) -> Statement {
    let fail = |e: gatehouse_core::ConnectorError| -> Statement { panic!("{e}") };
    let ret = translate::returning_cols(t, &[]).unwrap_or_else(|e| panic!("{e}"));
    let no_params = Map::new();
    match request {
        Request::Select(r) => {
            let req = select_request(t, r, CountMode::WithRows);
            let f = translate::opt_cond(req.filter.as_ref(), t).unwrap_or_else(|e| panic!("{e}"));
            translate::select_of(&req, f, false).unwrap_or_else(fail)
        }
        Request::Count(r) => {
            let req = select_request(t, r, CountMode::Only);
            let f = translate::opt_cond(req.filter.as_ref(), t).unwrap_or_else(|e| panic!("{e}"));
            translate::count_of(&req, f)
        }
        Request::Insert { records } => match records.as_slice() {
            [one] => translate::insert(t, one, &ret).unwrap_or_else(fail),
            many => translate::insert_rows(t, many, &ret)
                .unwrap_or_else(|e| panic!("{e}"))
                .unwrap_or_else(|| panic!("the records give different fields")),
        },
        Request::Update {
            filter: f,
            record,
            replace,
        } => translate::update(t, &filter(f, &no_params), record, *replace, &ret)
            .unwrap_or_else(fail),
        Request::Delete { filter: f } => {
            let f = f
                .as_deref()
                .map_or(Expr::And(vec![]), |f| filter(f, &no_params));
            translate::delete(t, &f, &ret).unwrap_or_else(fail)
        }
    }
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

/// Every case file, each printed by every dialect.
#[test]
fn goldenfiles() {
    let file: TableFile = read_json(&Path::new(DIR).join("table.json"));
    let mut cases: Vec<_> = std::fs::read_dir(DIR)
        .unwrap()
        .map(|e| e.unwrap().path())
        .filter(|p| p.extension().is_some_and(|x| x == "json") && !p.ends_with("table.json"))
        .collect();
    cases.sort();
    assert!(cases.len() >= 15, "the cases are in {DIR}");
    let dialects: [&dyn Dialect; 4] = [&Postgres, &Sqlite, &MySql, &SqlServer];
    for path in cases {
        let case: Case = read_json(&path);
        let name = path.file_stem().unwrap().to_string_lossy().to_string();
        for d in dialects {
            let t = table_for(&file, d.name());
            let stmt = statement(&t, &case.request);
            insta::assert_snapshot!(format!("{name}__{}", d.name()), render(d, &stmt));
        }
    }
}

fn table() -> Table {
    table_for(&read_json(&Path::new(DIR).join("table.json")), "postgres")
}

fn no_params() -> Map<String, Value> {
    Map::new()
}

#[test]
fn records_with_different_fields_go_one_by_one() {
    let t = table();
    let rec = |v: Value| v.as_object().cloned().unwrap_or_default();
    let ret = translate::returning_cols(&t, &[]).unwrap_or_default();
    let records = [
        rec(serde_json::json!({"status": "paid", "total": 1})),
        rec(serde_json::json!({"status": "new"})),
    ];
    assert!(
        translate::insert_rows(&t, &records, &ret)
            .unwrap_or_else(|e| panic!("{e}"))
            .is_none()
    );
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
        let e = translate::cond(&filter(f, &no_params()), &t)
            .err()
            .unwrap_or_else(|| panic!("{f} translated"));
        assert_eq!(e.kind, gatehouse_core::ErrorKind::InvalidValue, "{f}");
        assert_eq!(e.field.as_deref(), Some(field), "{f}");
    }
    let rec: Map<String, Value> = serde_json::json!({"receipt": "not base64!"})
        .as_object()
        .cloned()
        .unwrap_or_default();
    assert!(translate::insert(&t, &rec, &[]).is_err());
}
