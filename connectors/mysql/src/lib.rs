//! The MySQL / MariaDB connector: a [`SqlDriver`] on sqlx. Every column is
//! read as text (see [`gatehouse_sql::MySql`]) and typed here by its API type,
//! which keeps decimals exact and makes `tinyint(1)` a boolean on both servers.
//!
//! MySQL 8 has no `RETURNING`, so writes use `SqlConnector`'s read-back path
//! (insert, then select by key or `LAST_INSERT_ID()`, in one transaction). The
//! same path serves MariaDB, so the code tested here is the code MySQL runs.

use async_trait::async_trait;
use gatehouse_core::catalog::{
    ApiType, Column, ForeignKey, IntRange, Table, TableKind, trigger_sets,
};
use gatehouse_core::{
    Capabilities, Catalog, ConnectionConfig, Connector, ConnectorError, ErrorKind, Record,
};
use gatehouse_sql::convert::encode_binary;
use gatehouse_sql::pool::{self, Backend};
use gatehouse_sql::sqlx_support::{connect_error, map_error};
use gatehouse_sql::{
    Dialect, Executed, OutCol, Output, Query, SqlConnector, SqlDriver, SqlTransaction,
};
use serde_json::{Number, Value};
use sqlx::error::DatabaseError;
use sqlx::mysql::{MySql, MySqlConnectOptions, MySqlConnection, MySqlDatabaseError, MySqlRow};
use sqlx::{Connection, Decode, Executor, Row, ValueRef};
use std::collections::HashMap;
use std::str::FromStr;
use std::sync::Arc;
use std::time::Duration;

pub const CAPABILITIES: Capabilities = Capabilities::SQL;

/// The session's SQL mode, set on every connection: strict (a bad value is an
/// error, not a silent truncation) and without NO_BACKSLASH_ESCAPES, which the
/// dialect's `ESCAPE '\\'` relies on. Not inherited from the server's default.
const SESSION: &str = "SET SESSION sql_mode = 'STRICT_ALL_TABLES,NO_ZERO_IN_DATE,NO_ZERO_DATE,\
ERROR_FOR_DIVISION_BY_ZERO,NO_ENGINE_SUBSTITUTION', time_zone = '+00:00'";

fn number(db: &dyn DatabaseError) -> Option<u16> {
    db.try_downcast_ref::<MySqlDatabaseError>()
        .map(MySqlDatabaseError::number)
}

fn classify_connect(db: &dyn DatabaseError) -> Option<&'static str> {
    match number(db)? {
        1045 | 1044 | 1698 => Some("authentication failed"),
        1049 => Some("database does not exist"),
        1040 | 1203 => Some("too many connections"),
        _ => None,
    }
}

fn err(e: sqlx::Error) -> ConnectorError {
    map_error(e, |db| {
        Some(match number(db)? {
            // out of range, truncated, wrong integer/date/decimal text, too long,
            // invalid JSON (MySQL 8 and MariaDB)
            1264 | 1265 | 1292 | 1366 | 1367 | 1406 | 1411 | 3140 | 4038 | 1690 | 1918 => {
                ErrorKind::InvalidValue
            }
            // a check constraint (MariaDB's number)
            4025 => ErrorKind::Check,
            1146 => ErrorKind::NotFound,
            1054 | 1064 | 1348 | 1471 => ErrorKind::InvalidInput,
            1290 | 1792 | 1836 => ErrorKind::ReadOnly,
            // the service's account lacks a privilege
            1142 | 1143 => ErrorKind::Forbidden,
            1205 | 1213 | 1040 | 1053 | 2006 | 2013 | 3024 | 1317 => ErrorKind::Unavailable,
            _ => return None,
        })
    })
}

/// Opens a pool on `cfg.url` (`mysql://user:pass@host:3306/db`) and checks it answers.
pub async fn connect(cfg: &ConnectionConfig) -> Result<Arc<dyn Connector>, ConnectorError> {
    let opts = MySqlConnectOptions::from_str(&cfg.url)
        .map_err(|e| connect_error(e, classify_connect))?
        .pipes_as_concat(false)
        .no_engine_substitution(false)
        .timezone(None);
    // One direct attempt first: the pool would retry until its timeout and
    // hide the reason (refused, bad password, no such database).
    let mut probe = MySqlConnection::connect_with(&opts)
        .await
        .map_err(|e| connect_error(e, classify_connect))?;
    let has_db: Option<String> = sqlx::query_scalar("SELECT DATABASE()")
        .fetch_one(&mut probe)
        .await
        .map_err(|e| connect_error(e, classify_connect))?;
    let _ = probe.close().await;
    if has_db.is_none() {
        return Err(ConnectorError::public(
            ErrorKind::InvalidInput,
            "cannot connect to the database: the connection string names no database (mysql://user:pass@host:3306/database)",
        ));
    }
    let pool = pool::pool::<My>(
        (opts, cfg.read_only),
        cfg.pool_max.max(1) as usize,
        Duration::from_secs(5),
    )
    .map_err(ConnectorError::internal)?;
    Ok(Arc::new(SqlConnector::new(
        Driver { pool },
        "mysql",
        CAPABILITIES,
    )))
}

type Pool = pool::Pool<My>;
type Lease = pool::Lease<My>;

/// MySQL / MariaDB to the pool: each connection gets the session settings
/// and knows its `CONNECTION_ID()`; a statement its request left is ended
/// with `KILL QUERY`.
struct My;

impl Backend for My {
    type Conn = MySqlConnection;
    /// The options, and whether the session is read-only.
    type Options = (MySqlConnectOptions, bool);
    const NAME: &'static str = "mysql";

    async fn connect(
        (opts, read_only): &Self::Options,
    ) -> Result<(MySqlConnection, i64), sqlx::Error> {
        let mut conn = MySqlConnection::connect_with(opts).await?;
        conn.execute(SESSION).await?;
        if *read_only {
            conn.execute("SET SESSION TRANSACTION READ ONLY").await?;
        }
        let id: u64 = sqlx::query_scalar("SELECT CONNECTION_ID()")
            .fetch_one(&mut conn)
            .await?;
        Ok((conn, i64::try_from(id).unwrap_or(i64::MAX)))
    }

    async fn cancel((opts, _): &Self::Options, id: i64) -> Result<(), sqlx::Error> {
        let mut side = MySqlConnection::connect_with(opts).await?;
        // KILL takes no placeholder; the id is an integer of ours
        let killed = side
            .execute(sqlx::AssertSqlSafe(format!("KILL QUERY {id}")))
            .await;
        let _ = side.close().await;
        match killed {
            // 1094: no such thread (the statement ended, the connection closed)
            Err(sqlx::Error::Database(db)) if number(db.as_ref()) == Some(1094) => Ok(()),
            other => other.map(|_| ()),
        }
    }

    fn refused(db: &dyn DatabaseError) -> Option<&'static str> {
        classify_connect(db)
    }

    fn simple<'c>(
        conn: &'c mut MySqlConnection,
        sql: &'static str,
    ) -> futures_util::future::BoxFuture<'c, Result<(), sqlx::Error>> {
        Box::pin(async move { sqlx::raw_sql(sql).execute(conn).await.map(|_| ()) })
    }

    /// Connection failures, and the server ending the session (2006 gone
    /// away, 2013 lost, 1053 shutdown, 1927 connection killed).
    fn broken(e: &sqlx::Error) -> bool {
        match e {
            sqlx::Error::Io(_) | sqlx::Error::Protocol(_) | sqlx::Error::Tls(_) => true,
            sqlx::Error::Database(db) => {
                matches!(number(db.as_ref()), Some(2006 | 2013 | 1053 | 1927))
            }
            _ => false,
        }
    }
}

struct Driver {
    pool: Pool,
}

fn bind(q: &Query) -> sqlx::query::Query<'static, MySql, <MySql as sqlx::Database>::Arguments> {
    gatehouse_sql::sqlx_support::bind(q)
}

fn decode_rows(rows: Vec<MySqlRow>, output: &Output) -> Result<Vec<Record>, ConnectorError> {
    match output {
        Output::Rows(cols) => rows.iter().map(|r| decode_row(r, cols)).collect(),
        _ => Err(ConnectorError::internal("mysql expects row output")),
    }
}

/// One value read as text (binary as bytes), typed by the column's API type.
fn decode_row(row: &MySqlRow, cols: &[OutCol]) -> Result<Record, ConnectorError> {
    let mut rec = Record::with_capacity(cols.len());
    for (i, c) in cols.iter().enumerate() {
        let raw = row.try_get_raw(i).map_err(err)?;
        let bad = |e: sqlx::error::BoxDynError| {
            ConnectorError::internal(format!("decode {}: {e}", c.name))
        };
        let v = if raw.is_null() {
            Value::Null
        } else if c.api_type == ApiType::Binary {
            Value::String(encode_binary(
                <&[u8] as Decode<MySql>>::decode(raw).map_err(bad)?,
            ))
        } else {
            let s = <String as Decode<MySql>>::decode(raw).map_err(bad)?;
            typed(c.api_type, s)
        };
        rec.insert(c.name.clone(), v);
    }
    Ok(rec)
}

/// The JSON value of a column's text.
fn typed(api: ApiType, s: String) -> Value {
    match api {
        ApiType::Integer | ApiType::Bigint | ApiType::Decimal => {
            Number::from_str(&s).map_or(Value::String(s), Value::Number)
        }
        ApiType::Float => s
            .parse::<f64>()
            .ok()
            .and_then(Number::from_f64)
            .map_or(Value::Null, Value::Number),
        ApiType::Boolean => Value::Bool(s != "0"),
        ApiType::Json | ApiType::Array | ApiType::Object => {
            serde_json::from_str(&s).unwrap_or(Value::String(s))
        }
        _ => Value::String(s),
    }
}

#[async_trait]
impl SqlDriver for Driver {
    fn dialect(&self) -> &'static dyn Dialect {
        &gatehouse_sql::MySql
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
struct Tx(pool::TxLease<My>);

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
            last_insert_id: Some(r.last_insert_id()),
        })
    }

    async fn commit(self: Box<Self>) -> Result<(), ConnectorError> {
        self.0.end("COMMIT").await.map_err(err)
    }

    async fn rollback(self: Box<Self>) -> Result<(), ConnectorError> {
        self.0.end("ROLLBACK").await.map_err(err)
    }
}

/// The labels of `enum('a','it''s')`, as `COLUMN_TYPE` spells them.
fn enum_values(column_type: &str) -> Option<Vec<String>> {
    let inner = column_type.strip_prefix("enum(")?.strip_suffix(')')?;
    let mut out = Vec::new();
    let mut chars = inner.chars().peekable();
    while let Some(c) = chars.next() {
        if c != '\'' {
            continue;
        }
        let mut label = String::new();
        loop {
            match chars.next()? {
                '\'' if chars.next_if_eq(&'\'').is_some() => label.push('\''),
                '\'' => break,
                '\\' => label.push(chars.next()?),
                ch => label.push(ch),
            }
        }
        out.push(label);
    }
    Some(out)
}

/// The API type of a MySQL column from its `DATA_TYPE` and `COLUMN_TYPE`.
pub fn api_type(data_type: &str, column_type: &str) -> ApiType {
    let unsigned = column_type.contains("unsigned");
    match data_type {
        "tinyint" if column_type.starts_with("tinyint(1)") => ApiType::Boolean,
        "bool" | "boolean" => ApiType::Boolean,
        "tinyint" | "smallint" | "mediumint" | "year" => ApiType::Integer,
        "int" | "integer" if unsigned => ApiType::Bigint,
        "int" | "integer" => ApiType::Integer,
        // an unsigned bigint above 2^63 still reads exactly (as a JSON number)
        "bigint" => ApiType::Bigint,
        "decimal" | "numeric" | "dec" | "fixed" => ApiType::Decimal,
        "float" | "double" | "real" | "double precision" => ApiType::Float,
        "date" => ApiType::Date,
        "time" => ApiType::Time,
        "datetime" => ApiType::Datetime,
        "timestamp" => ApiType::Timestamp,
        "json" => ApiType::Json,
        "text" | "tinytext" | "mediumtext" | "longtext" => ApiType::Text,
        "binary" | "varbinary" | "blob" | "tinyblob" | "mediumblob" | "longblob" | "bit" => {
            ApiType::Binary
        }
        "uuid" => ApiType::Uuid,
        _ => ApiType::String,
    }
}

/// A key constraint as introspection reads it: (table, constraint) -> kind, columns,
/// referenced table and columns.
struct Key {
    table: String,
    name: String,
    kind: String,
    cols: Vec<String>,
    ref_table: Option<String>,
    ref_cols: Vec<String>,
}

async fn introspect(conn: &mut MySqlConnection) -> Result<Catalog, sqlx::Error> {
    let json_checks: Vec<(String, String)> = match sqlx::query(include_str!("sql/json_columns.sql"))
        .fetch_all(&mut *conn)
        .await
    {
        Ok(rows) => rows
            .iter()
            .filter_map(|r| Some((r.try_get("table_name").ok()?, r.try_get("name").ok()?)))
            .collect(),
        // MySQL 8: no TABLE_NAME in CHECK_CONSTRAINTS, and a native JSON type
        Err(sqlx::Error::Database(_)) => Vec::new(),
        Err(e) => return Err(e),
    };
    let mut columns: HashMap<String, Vec<Column>> = HashMap::new();
    for c in sqlx::query(include_str!("sql/columns.sql"))
        .fetch_all(&mut *conn)
        .await?
    {
        let table: String = c.try_get("table_name")?;
        let name: String = c.try_get("name")?;
        let data_type: String = c.try_get("data_type")?;
        let column_type: String = c.try_get("column_type")?;
        let is_json = json_checks.iter().any(|(t, n)| *t == table && *n == name);
        let api = if is_json {
            ApiType::Json
        } else {
            api_type(&data_type, &column_type)
        };
        let unsigned = column_type.contains("unsigned");
        let bits = match data_type.as_str() {
            "tinyint" => Some(8),
            "smallint" => Some(16),
            "mediumint" => Some(24),
            "int" | "integer" => Some(32),
            "bigint" => Some(64),
            _ => None,
        };
        let spatial = gatehouse_sql::MySql::is_spatial(&data_type);
        let mut col = Column::new(name, api, column_type);
        col.cast_type = if spatial {
            "geometry".into()
        } else {
            String::new()
        };
        col.spatial = spatial;
        if data_type == "enum" {
            col.values = enum_values(&col.db_type);
        }
        if matches!(api, ApiType::Integer | ApiType::Bigint) {
            col.range = bits.map(|b| IntRange::bits(b, unsigned));
        }
        let extra: String = c.try_get::<Option<String>, _>("extra")?.unwrap_or_default();
        let extra = extra.to_ascii_lowercase();
        col.allow_null = c.try_get::<String, _>("nullable")? == "YES";
        col.default = c
            .try_get::<Option<String>, _>("dflt")?
            .filter(|d| !d.eq_ignore_ascii_case("NULL"));
        col.auto_increment = extra.contains("auto_increment");
        col.generated = extra.contains("generated") && !extra.contains("default_generated");
        col.length = c
            .try_get::<Option<i64>, _>("length")?
            .filter(|_| api == ApiType::String);
        if api == ApiType::Decimal {
            col.precision = c.try_get("num_precision")?;
            col.scale = c.try_get("num_scale")?;
        }
        col.description = c
            .try_get::<Option<String>, _>("description")?
            .filter(|d| !d.is_empty());
        columns.entry(table).or_default().push(col);
    }
    let mut keys: Vec<Key> = Vec::new();
    for k in sqlx::query(include_str!("sql/keys.sql"))
        .fetch_all(&mut *conn)
        .await?
    {
        let table: String = k.try_get("table_name")?;
        let name: String = k.try_get("name")?;
        let col: String = k.try_get("col")?;
        let ref_col: Option<String> = k.try_get("ref_col")?;
        match keys.iter_mut().find(|x| x.table == table && x.name == name) {
            Some(x) => {
                x.cols.push(col);
                x.ref_cols.extend(ref_col);
            }
            None => keys.push(Key {
                table,
                name,
                kind: k.try_get("kind")?,
                cols: vec![col],
                ref_table: k.try_get("ref_table")?,
                ref_cols: ref_col.into_iter().collect(),
            }),
        }
    }
    let mut out = Vec::new();
    for t in sqlx::query(include_str!("sql/tables.sql"))
        .fetch_all(&mut *conn)
        .await?
    {
        let name: String = t.try_get("name")?;
        let kind: String = t.try_get("kind")?;
        let is_view = kind == "VIEW";
        let updatable: String = t.try_get("updatable")?;
        let triggers: Option<String> = t.try_get("insert_triggers")?;
        let mut cols = columns.remove(&name).unwrap_or_default();
        let own = |k: &&Key| k.table == name;
        let primary_key: Vec<String> = keys
            .iter()
            .filter(own)
            .find(|k| k.kind == "PRIMARY KEY")
            .map(|k| k.cols.clone())
            .unwrap_or_default();
        let unique: Vec<&String> = keys
            .iter()
            .filter(own)
            .filter(|k| k.kind == "UNIQUE" && k.cols.len() == 1)
            .flat_map(|k| &k.cols)
            .collect();
        for c in &mut cols {
            c.filled_on_insert = triggers
                .as_deref()
                .is_some_and(|t| trigger_sets(t, &c.name));
            c.is_primary_key = primary_key.contains(&c.name);
            c.is_unique = unique.contains(&&c.name) || (c.is_primary_key && primary_key.len() == 1);
        }
        let foreign_keys = keys
            .iter()
            .filter(own)
            .filter(|k| k.kind == "FOREIGN KEY")
            .filter_map(|k| {
                Some(ForeignKey {
                    columns: k.cols.clone(),
                    ref_table: k.ref_table.clone()?,
                    ref_columns: k.ref_cols.clone(),
                })
            })
            .collect();
        let description: Option<String> = t.try_get("description")?;
        out.push(Table {
            name: name.clone(),
            schema: None,
            db_name: name,
            kind: if is_view {
                TableKind::View
            } else {
                TableKind::Table
            },
            writable: !is_view || updatable == "YES",
            // MySQL puts "VIEW" in a view's comment
            description: description.filter(|d| !(d.is_empty() || is_view && d == "VIEW")),
            columns: cols,
            primary_key,
            foreign_keys,
            related: Vec::new(),
            inferred: false,
            withheld: Vec::new(),
        });
    }
    Ok(Catalog::new(out))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn column_types() {
        for (dt, ct, want) in [
            ("tinyint", "tinyint(1)", ApiType::Boolean),
            ("tinyint", "tinyint(4)", ApiType::Integer),
            ("int", "int(11)", ApiType::Integer),
            ("int", "int(10) unsigned", ApiType::Bigint),
            ("bigint", "bigint(20)", ApiType::Bigint),
            ("decimal", "decimal(10,2)", ApiType::Decimal),
            ("double", "double", ApiType::Float),
            ("varchar", "varchar(20)", ApiType::String),
            ("enum", "enum('a','b')", ApiType::String),
            ("text", "text", ApiType::Text),
            ("json", "json", ApiType::Json),
            ("datetime", "datetime(6)", ApiType::Datetime),
            ("timestamp", "timestamp", ApiType::Timestamp),
            ("blob", "blob", ApiType::Binary),
            ("year", "year(4)", ApiType::Integer),
        ] {
            assert_eq!(api_type(dt, ct), want, "{ct}");
        }
    }

    #[test]
    fn typed_values() {
        assert_eq!(
            typed(ApiType::Decimal, "98765.432100".into()).to_string(),
            "98765.432100"
        );
        assert_eq!(typed(ApiType::Boolean, "0".into()), Value::Bool(false));
        assert_eq!(typed(ApiType::Boolean, "1".into()), Value::Bool(true));
        assert_eq!(
            typed(ApiType::Bigint, "18446744073709551615".into()).to_string(),
            "18446744073709551615"
        );
        assert_eq!(
            typed(ApiType::Json, r#"{"a": [1]}"#.into()),
            serde_json::json!({"a": [1]})
        );
    }
}
