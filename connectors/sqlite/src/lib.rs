//! The SQLite connector: a [`SqlDriver`] on sqlx. SQLite values come in five
//! storage classes; the declared column type (via its API type) decides how
//! each is written as JSON (0/1 as booleans, JSON text embedded, blobs as base64).

use async_trait::async_trait;
use gatehouse_core::catalog::{ApiType, Column, ForeignKey, IntRange, Table, TableKind};
use gatehouse_core::{
    Capabilities, Catalog, ConnectionConfig, Connector, ConnectorError, ErrorKind, Record,
};
use gatehouse_sql::convert::encode_binary;
use gatehouse_sql::pool::{self, Backend};
use gatehouse_sql::sqlx_support::{code, connect_error, map_error};
use gatehouse_sql::{
    Dialect, Executed, OutCol, Output, Query, SqlConnector, SqlDriver, SqlTransaction,
};
use serde_json::{Number, Value};
use sqlx::error::DatabaseError;
use sqlx::sqlite::{SqliteConnectOptions, SqliteConnection, SqliteRow};
use sqlx::{Connection, Decode, Row, Sqlite, ValueRef};
use std::collections::HashMap;
use std::str::FromStr;
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, AtomicI64, Ordering};
use std::sync::{Mutex, Weak};
use std::time::Duration;

pub const CAPABILITIES: Capabilities = Capabilities::SQL;

/// Opens a pool on `cfg.url` (`sqlite://path/to/file.db`) and checks the file is a database.
pub async fn connect(cfg: &ConnectionConfig) -> Result<Arc<dyn Connector>, ConnectorError> {
    let classify = |_: &dyn DatabaseError| None;
    let opts = SqliteConnectOptions::from_str(&cfg.url)
        .map_err(|e| connect_error(e, classify))?
        .create_if_missing(false)
        .foreign_keys(true)
        .read_only(cfg.read_only)
        .busy_timeout(Duration::from_secs(5));
    // One direct attempt first, so the reason a file cannot be opened is not
    // hidden behind the pool's retries.
    let probe = SqliteConnection::connect_with(&opts)
        .await
        .map_err(|e| connect_error(e, classify))?;
    let _ = probe.close().await;
    let pool = pool::pool::<Lite>(
        (opts, Arc::default()),
        cfg.pool_max.max(1) as usize,
        Duration::from_secs(5),
    )
    .map_err(ConnectorError::internal)?;
    // A file that is not a database only fails on the first read.
    let mut probe = Lease::of(&pool).await?;
    let read = sqlx::query("SELECT COUNT(*) FROM sqlite_schema")
        .fetch_one(probe.conn())
        .await;
    probe
        .settle(read)
        .map_err(|e| connect_error(e, |_| Some("not an SQLite database")))?;
    drop(probe);
    Ok(Arc::new(SqlConnector::new(
        Driver { pool },
        "sqlite",
        CAPABILITIES,
    )))
}

type Pool = pool::Pool<Lite>;
type Lease = pool::Lease<Lite>;

/// The interrupt flag of each open connection, by its id.
#[derive(Default)]
struct Interrupts {
    next: AtomicI64,
    flags: Mutex<HashMap<i64, Weak<AtomicBool>>>,
}

/// SQLite to the pool. A statement runs on the connection's worker thread
/// and goes on when its future is dropped; so each connection has a progress
/// handler that interrupts it once its flag is raised, and a lease dropped
/// mid-statement raises it (the connection is not used again).
struct Lite;

impl Backend for Lite {
    type Conn = SqliteConnection;
    type Options = (SqliteConnectOptions, Arc<Interrupts>);
    const NAME: &'static str = "sqlite";

    async fn connect(
        (opts, interrupts): &Self::Options,
    ) -> Result<(SqliteConnection, i64), sqlx::Error> {
        let mut conn = SqliteConnection::connect_with(opts).await?;
        let flag = Arc::new(AtomicBool::new(false));
        let raised = flag.clone();
        // every 1,000 virtual-machine steps: microseconds
        conn.lock_handle()
            .await?
            .set_progress_handler(1000, move || !raised.load(Ordering::Relaxed));
        let id = interrupts.next.fetch_add(1, Ordering::Relaxed);
        if let Ok(mut flags) = interrupts.flags.lock() {
            flags.retain(|_, f| f.strong_count() > 0);
            flags.insert(id, Arc::downgrade(&flag));
        }
        Ok((conn, id))
    }

    async fn cancel((_, interrupts): &Self::Options, id: i64) -> Result<(), sqlx::Error> {
        let flag = interrupts
            .flags
            .lock()
            .ok()
            .and_then(|mut flags| flags.remove(&id))
            .and_then(|f| f.upgrade());
        if let Some(flag) = flag {
            flag.store(true, Ordering::Relaxed);
        }
        Ok(())
    }

    fn broken(e: &sqlx::Error) -> bool {
        matches!(e, sqlx::Error::Io(_) | sqlx::Error::WorkerCrashed)
    }

    fn simple<'c>(
        conn: &'c mut SqliteConnection,
        sql: &'static str,
    ) -> futures_util::future::BoxFuture<'c, Result<(), sqlx::Error>> {
        Box::pin(async move { sqlx::raw_sql(sql).execute(conn).await.map(|_| ()) })
    }
}

struct Driver {
    pool: Pool,
}

fn err(e: sqlx::Error) -> ConnectorError {
    map_error(e, |db| match code(db).as_str() {
        // SQLITE_MISMATCH, SQLITE_TOOBIG, SQLITE_RANGE
        "20" | "18" | "25" => Some(ErrorKind::InvalidValue),
        // SQLITE_BUSY, SQLITE_LOCKED, SQLITE_CANTOPEN
        "5" | "6" | "14" => Some(ErrorKind::Unavailable),
        _ => None,
    })
}

fn bind(q: &Query) -> sqlx::query::Query<'static, Sqlite, <Sqlite as sqlx::Database>::Arguments> {
    gatehouse_sql::sqlx_support::bind(q)
}

fn decode_rows(rows: Vec<SqliteRow>, output: &Output) -> Result<Vec<Record>, ConnectorError> {
    let Output::Rows(cols) = output else {
        return Err(ConnectorError::internal("sqlite expects row output"));
    };
    rows.iter().map(|r| decode_row(r, cols)).collect()
}

fn decode_row(row: &SqliteRow, cols: &[OutCol]) -> Result<Record, ConnectorError> {
    let mut rec = Record::with_capacity(cols.len());
    for (i, c) in cols.iter().enumerate() {
        let raw = row.try_get_raw(i).map_err(err)?;
        let v = if raw.is_null() {
            Value::Null
        } else {
            let class = raw.type_info().to_string();
            let d = |e: sqlx::error::BoxDynError| {
                ConnectorError::internal(format!("decode {}: {e}", c.name))
            };
            match class.as_str() {
                "INTEGER" => {
                    let n = <i64 as Decode<Sqlite>>::decode(raw).map_err(d)?;
                    if c.api_type == ApiType::Boolean {
                        Value::Bool(n != 0)
                    } else {
                        Value::Number(n.into())
                    }
                }
                "REAL" => {
                    let f = <f64 as Decode<Sqlite>>::decode(raw).map_err(d)?;
                    Number::from_f64(f).map_or(Value::Null, Value::Number)
                }
                "BLOB" => Value::String(encode_binary(
                    <&[u8] as Decode<Sqlite>>::decode(raw).map_err(d)?,
                )),
                _ => {
                    let s = <String as Decode<Sqlite>>::decode(raw).map_err(d)?;
                    match c.api_type {
                        // JSON documents are parsed; other text stays text
                        ApiType::Json if s.trim_start().starts_with(['{', '[']) => {
                            serde_json::from_str(&s).unwrap_or(Value::String(s))
                        }
                        ApiType::Boolean if s == "true" || s == "false" => Value::Bool(s == "true"),
                        _ => Value::String(s),
                    }
                }
            }
        };
        rec.insert(c.name.clone(), v);
    }
    Ok(rec)
}

#[async_trait]
impl SqlDriver for Driver {
    fn dialect(&self) -> &'static dyn Dialect {
        &gatehouse_sql::Sqlite
    }

    async fn records(&self, q: &Query) -> Result<Vec<Record>, ConnectorError> {
        let mut lease = Lease::of(&self.pool).await?;
        let rows = bind(q).fetch_all(lease.conn()).await;
        decode_rows(lease.settle(rows).map_err(err)?, &q.output)
    }

    async fn count(&self, q: &Query) -> Result<u64, ConnectorError> {
        let mut lease = Lease::of(&self.pool).await?;
        let row = bind(q).fetch_one(lease.conn()).await;
        let n: i64 = lease.settle(row).map_err(err)?.try_get(0).map_err(err)?;
        Ok(n.max(0) as u64)
    }

    async fn begin(&self) -> Result<Box<dyn SqlTransaction>, ConnectorError> {
        let lease = Lease::of(&self.pool).await?;
        Ok(Box::new(Tx(pool::TxLease::begin(lease)
            .await
            .map_err(err)?)))
    }

    async fn introspect(&self) -> Result<Catalog, ConnectorError> {
        let mut lease = Lease::of(&self.pool).await?;
        let catalog = introspect(lease.conn()).await;
        lease.settle(catalog).map_err(err)
    }

    async fn ping(&self) -> Result<(), ConnectorError> {
        let mut lease = Lease::of(&self.pool).await?;
        let pong = lease.conn().ping().await;
        lease.settle(pong).map_err(err)
    }

    async fn close(&self) {
        self.pool.close();
    }
}

/// A transaction on a leased connection.
struct Tx(pool::TxLease<Lite>);

#[async_trait]
impl SqlTransaction for Tx {
    async fn records(&mut self, q: &Query) -> Result<Vec<Record>, ConnectorError> {
        let lease = self.0.lease();
        let rows = bind(q).fetch_all(lease.conn()).await;
        decode_rows(lease.settle(rows).map_err(err)?, &q.output)
    }

    async fn execute(&mut self, q: &Query) -> Result<Executed, ConnectorError> {
        let lease = self.0.lease();
        let r = bind(q).execute(lease.conn()).await;
        let r = lease.settle(r).map_err(err)?;
        Ok(Executed {
            last_insert_id: u64::try_from(r.last_insert_rowid()).ok(),
        })
    }

    async fn commit(self: Box<Self>) -> Result<(), ConnectorError> {
        self.0.end("COMMIT").await.map_err(err)
    }

    async fn rollback(self: Box<Self>) -> Result<(), ConnectorError> {
        self.0.end("ROLLBACK").await.map_err(err)
    }
}

/// The API type of a declared SQLite column type (SQLite's affinity rules,
/// refined by common type names).
pub fn api_type(declared: &str) -> ApiType {
    let t = declared.to_ascii_uppercase();
    let base = t.split('(').next().unwrap_or("").trim();
    match base {
        "BOOLEAN" | "BOOL" => ApiType::Boolean,
        "BIGINT" | "INT8" | "UNSIGNED BIG INT" => ApiType::Bigint,
        "DATE" => ApiType::Date,
        "TIME" => ApiType::Time,
        "DATETIME" => ApiType::Datetime,
        "TIMESTAMP" => ApiType::Timestamp,
        "JSON" | "JSONB" => ApiType::Json,
        "UUID" => ApiType::Uuid,
        "TEXT" | "CLOB" => ApiType::Text,
        "DECIMAL" | "NUMERIC" | "MONEY" => ApiType::Decimal,
        _ if t.contains("INT") => ApiType::Integer,
        _ if t.contains("CHAR") || t.contains("CLOB") || t.contains("TEXT") => ApiType::String,
        _ if t.contains("BLOB") => ApiType::Binary,
        _ if t.contains("REAL") || t.contains("FLOA") || t.contains("DOUB") => ApiType::Float,
        // no declared type (a view's expression): any storage class, so any value
        "" => ApiType::Json,
        _ => ApiType::Decimal,
    }
}

/// The (length, precision, scale) written in a declared type like `VARCHAR(40)`.
fn type_modifiers(declared: &str, api: ApiType) -> (Option<i64>, Option<i64>, Option<i64>) {
    let Some(args) = declared
        .split_once('(')
        .and_then(|(_, r)| r.split_once(')'))
        .map(|(a, _)| a)
    else {
        return (None, None, None);
    };
    let nums: Vec<i64> = args
        .split(',')
        .filter_map(|a| a.trim().parse().ok())
        .collect();
    match (api, nums.as_slice()) {
        (ApiType::Decimal, [p]) => (None, Some(*p), Some(0)),
        (ApiType::Decimal, [p, s]) => (None, Some(*p), Some(*s)),
        (ApiType::String, [l]) => (Some(*l), None, None),
        _ => (None, None, None),
    }
}

async fn introspect(pool: &mut SqliteConnection) -> Result<Catalog, sqlx::Error> {
    let tables = sqlx::query(include_str!("sql/tables.sql"))
        .fetch_all(&mut *pool)
        .await?;
    let mut out = Vec::with_capacity(tables.len());
    for t in tables {
        let name: String = t.try_get("name")?;
        let kind: String = t.try_get("type")?;
        let mut columns = Vec::new();
        let mut pk: Vec<(i64, String)> = Vec::new();
        for c in sqlx::query(include_str!("sql/columns.sql"))
            .bind(&name)
            .fetch_all(&mut *pool)
            .await?
        {
            let cname: String = c.try_get("name")?;
            let declared: String = c.try_get::<Option<String>, _>("type")?.unwrap_or_default();
            let api = api_type(&declared);
            let mut col = Column::new(cname.clone(), api, declared.clone());
            col.allow_null = c.try_get::<i64, _>("notnull")? == 0;
            col.default = c.try_get("dflt_value")?;
            col.generated = c.try_get::<i64, _>("hidden")? >= 2;
            let pos: i64 = c.try_get("pk")?;
            if pos > 0 {
                col.is_primary_key = true;
                pk.push((pos, cname));
            }
            (col.length, col.precision, col.scale) = type_modifiers(&declared, api);
            // every SQLite integer is 64-bit; beyond that it would be stored as a REAL
            if matches!(api, ApiType::Integer | ApiType::Bigint) {
                col.range = Some(IntRange::bits(64, false));
            }
            columns.push(col);
        }
        pk.sort();
        let primary_key: Vec<String> = pk.into_iter().map(|(_, n)| n).collect();
        // A single INTEGER PRIMARY KEY is the rowid: the database assigns it.
        if let [only] = primary_key.as_slice()
            && let Some(c) = columns.iter_mut().find(|c| &c.name == only)
            && c.db_type.eq_ignore_ascii_case("INTEGER")
        {
            c.auto_increment = true;
            c.allow_null = false;
        }
        for c in &mut columns {
            if c.is_primary_key {
                c.allow_null = false;
            }
        }
        let mut foreign_keys: Vec<(i64, ForeignKey)> = Vec::new();
        let mut unique: Vec<String> = Vec::new();
        if kind == "table" {
            for f in sqlx::query(include_str!("sql/foreign_keys.sql"))
                .bind(&name)
                .fetch_all(&mut *pool)
                .await?
            {
                let id: i64 = f.try_get("id")?;
                let col: String = f.try_get("col")?;
                let ref_col: Option<String> = f.try_get("ref_col")?;
                let ref_table: String = f.try_get("ref_table")?;
                match foreign_keys.iter_mut().find(|(i, _)| *i == id) {
                    Some((_, fk)) => {
                        fk.columns.push(col);
                        fk.ref_columns.extend(ref_col);
                    }
                    None => foreign_keys.push((
                        id,
                        ForeignKey {
                            columns: vec![col],
                            ref_table,
                            ref_columns: ref_col.into_iter().collect(),
                        },
                    )),
                }
            }
            for u in sqlx::query(include_str!("sql/unique.sql"))
                .bind(&name)
                .fetch_all(&mut *pool)
                .await?
            {
                unique.push(u.try_get("col")?);
            }
        }
        for c in &mut columns {
            c.is_unique = unique.contains(&c.name) || (c.is_primary_key && primary_key.len() == 1);
        }
        out.push(Table {
            name: name.clone(),
            schema: None,
            db_name: name,
            kind: if kind == "view" {
                TableKind::View
            } else {
                TableKind::Table
            },
            writable: kind == "table",
            description: None,
            columns,
            primary_key,
            foreign_keys: foreign_keys.into_iter().map(|(_, f)| f).collect(),
            related: Vec::new(),
            inferred: false,
            withheld: Vec::new(),
        });
    }
    // Keys that reference a parent's primary key implicitly name no columns.
    let pks: Vec<(String, Vec<String>)> = out
        .iter()
        .map(|t| (t.name.clone(), t.primary_key.clone()))
        .collect();
    for t in &mut out {
        for fk in &mut t.foreign_keys {
            if fk.ref_columns.is_empty()
                && let Some((_, pk)) = pks.iter().find(|(n, _)| n == &fk.ref_table)
            {
                fk.ref_columns = pk.clone();
            }
        }
    }
    Ok(Catalog::new(out))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn declared_types() {
        for (t, want) in [
            ("INTEGER", ApiType::Integer),
            ("int", ApiType::Integer),
            ("BIGINT", ApiType::Bigint),
            ("VARCHAR(40)", ApiType::String),
            ("NVARCHAR(120)", ApiType::String),
            ("TEXT", ApiType::Text),
            ("NUMERIC(10,2)", ApiType::Decimal),
            ("REAL", ApiType::Float),
            ("DOUBLE PRECISION", ApiType::Float),
            ("BOOLEAN", ApiType::Boolean),
            ("BLOB", ApiType::Binary),
            ("DATETIME", ApiType::Datetime),
            ("DATE", ApiType::Date),
            ("JSON", ApiType::Json),
            ("", ApiType::Json),
        ] {
            assert_eq!(api_type(t), want, "{t}");
        }
        assert_eq!(
            type_modifiers("NUMERIC(10,2)", ApiType::Decimal),
            (None, Some(10), Some(2))
        );
        assert_eq!(
            type_modifiers("VARCHAR(40)", ApiType::String),
            (Some(40), None, None)
        );
    }
}
