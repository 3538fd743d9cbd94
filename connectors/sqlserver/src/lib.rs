//! The SQL Server connector: a [`SqlDriver`] on tiberius, pooled with bb8.
//! Statements come from the shared SQL Server printer (`[bracket]` quoting,
//! `@Pn` parameters, `TOP`/`OFFSET … FETCH` with inlined integers, `OUTPUT
//! INSERTED/DELETED`); rows are decoded from tiberius' typed column data.
//!
//! Connection string: `sqlserver://user:password@host:1433/database` with
//! optional `?encrypt=true|false|required` and `&trust_server_certificate=true`
//! (the login itself is always encrypted, as SQL Server requires).

use async_trait::async_trait;
use base64::Engine;
use base64::engine::general_purpose::STANDARD;
use gatehouse_core::catalog::{ApiType, Column, ForeignKey, IntRange, Table, TableKind};
use gatehouse_core::{
    Capabilities, Catalog, ConnectionConfig, Connector, ConnectorError, ErrorKind, Record,
};
use gatehouse_sql::{
    Dialect, Executed, OutCol, Output, Query, SqlConnector, SqlDriver, SqlTransaction, SqlType,
    SqlValue,
};
use serde_json::{Number, Value};
use std::str::FromStr;
use std::sync::Arc;
use std::time::Duration;
use tiberius::{AuthMethod, Client, ColumnData, Config, EncryptionLevel, FromSql, Row, ToSql};
use tokio::net::TcpStream;
use tokio_util::compat::{Compat, TokioAsyncWriteCompatExt};

pub const CAPABILITIES: Capabilities = Capabilities::SQL;

type Conn = Client<Compat<TcpStream>>;

/// Parses `sqlserver://user:pass@host:port/database?encrypt=…&trust_server_certificate=…`.
pub fn parse_url(url: &str) -> Result<Config, ConnectorError> {
    let bad = |why: &str| {
        ConnectorError::public(
            ErrorKind::InvalidInput,
            format!("cannot connect to the database: invalid connection string ({why})"),
        )
    };
    let u = url::Url::parse(url).map_err(|_| bad("not a URL"))?;
    if !matches!(u.scheme(), "sqlserver" | "mssql") {
        return Err(bad("the scheme must be sqlserver://"));
    }
    let mut cfg = Config::new();
    cfg.host(u.host_str().ok_or_else(|| bad("no host"))?);
    cfg.port(u.port().unwrap_or(1433));
    let db = u.path().trim_start_matches('/');
    if db.is_empty() {
        return Err(bad("no database: sqlserver://user:pass@host:1433/database"));
    }
    let decode = |s: &str| {
        url::form_urlencoded::parse(format!("x={s}").as_bytes())
            .next()
            .map(|(_, v)| v.into_owned())
            .unwrap_or_default()
    };
    cfg.database(decode(db));
    cfg.authentication(AuthMethod::sql_server(
        decode(u.username()),
        decode(u.password().unwrap_or("")),
    ));
    cfg.application_name("gatehouse");
    cfg.encryption(EncryptionLevel::Required);
    for (k, v) in u.query_pairs() {
        let on = matches!(v.to_ascii_lowercase().as_str(), "true" | "yes" | "1");
        match k.as_ref() {
            "encrypt" => cfg.encryption(match v.to_ascii_lowercase().as_str() {
                "false" | "no" | "0" | "off" => EncryptionLevel::Off,
                "required" | "strict" => EncryptionLevel::Required,
                _ => EncryptionLevel::On,
            }),
            "trust_server_certificate" | "trustservercertificate" if on => cfg.trust_cert(),
            "trust_server_certificate" | "trustservercertificate" => {}
            other => return Err(bad(&format!("unknown option '{other}'"))),
        }
    }
    Ok(cfg)
}

async fn open(cfg: &Config) -> Result<Conn, tiberius::error::Error> {
    let tcp = TcpStream::connect(cfg.get_addr()).await?;
    tcp.set_nodelay(true)?;
    Client::connect(cfg.clone(), tcp.compat_write()).await
}

struct Manager(Config);

impl bb8::ManageConnection for Manager {
    type Connection = Conn;
    type Error = tiberius::error::Error;

    async fn connect(&self) -> Result<Conn, Self::Error> {
        open(&self.0).await
    }

    async fn is_valid(&self, conn: &mut Conn) -> Result<(), Self::Error> {
        conn.simple_query("SELECT 1").await?.into_results().await?;
        Ok(())
    }

    fn has_broken(&self, _conn: &mut Conn) -> bool {
        false
    }
}

fn connect_error(e: tiberius::error::Error) -> ConnectorError {
    let reason = match &e {
        tiberius::error::Error::Io { kind, .. } => match kind {
            std::io::ErrorKind::ConnectionRefused => "connection refused",
            std::io::ErrorKind::TimedOut => "connection timed out",
            _ => "network error",
        },
        tiberius::error::Error::Tls(_) => "TLS negotiation failed",
        tiberius::error::Error::Server(t) if t.code() == 18456 => "authentication failed",
        tiberius::error::Error::Server(t) if t.code() == 4060 => "database does not exist",
        _ => "could not connect",
    };
    let mut err = ConnectorError::new(ErrorKind::Unavailable, e.to_string());
    err.public = Some(format!("cannot connect to the database: {reason}"));
    err
}

/// SQL Server's error numbers to shared kinds.
fn err(e: tiberius::error::Error) -> ConnectorError {
    let kind = match &e {
        tiberius::error::Error::Server(t) => match t.code() {
            2627 | 2601 => ErrorKind::UniqueViolation,
            // 547 is both: the message names the kind of constraint
            547 if t.message().contains("CHECK") => ErrorKind::Check,
            547 => ErrorKind::ForeignKeyViolation,
            515 => ErrorKind::NotNull,
            8114 | 245 | 241 | 242 | 8115 | 220 | 2628 | 8152 | 8169 | 9455 | 517 => {
                ErrorKind::InvalidValue
            }
            208 => ErrorKind::NotFound,
            207 | 102 | 156 => ErrorKind::InvalidInput,
            // 3906: read-only database; 50000: a read-only TDS peer refusing writes
            3906 | 50000 => ErrorKind::ReadOnly,
            // permission denied to the service's login
            229 | 230 => ErrorKind::Forbidden,
            1205 | 1222 | 40613 | 40501 => ErrorKind::Unavailable,
            _ => ErrorKind::Internal,
        },
        tiberius::error::Error::Io { .. } | tiberius::error::Error::Tls(_) => {
            ErrorKind::Unavailable
        }
        _ => ErrorKind::Internal,
    };
    let mut out = ConnectorError::new(kind, e.to_string());
    if kind == ErrorKind::ReadOnly {
        out.public = Some("the database refuses writes".into());
    }
    out
}

fn pool_err(e: bb8::RunError<tiberius::error::Error>) -> ConnectorError {
    match e {
        bb8::RunError::User(e) => err(e),
        bb8::RunError::TimedOut => ConnectorError::public(
            ErrorKind::Unavailable,
            "timed out waiting for a database connection",
        ),
    }
}

/// Opens a pool on `cfg.url` and checks the database answers.
pub async fn connect(cfg: &ConnectionConfig) -> Result<Arc<dyn Connector>, ConnectorError> {
    let config = parse_url(&cfg.url)?;
    // One direct attempt first, so the reason a connection fails is not
    // hidden behind the pool's retries.
    let mut probe = open(&config).await.map_err(connect_error)?;
    probe
        .simple_query("SELECT 1")
        .await
        .map_err(connect_error)?
        .into_results()
        .await
        .map_err(connect_error)?;
    drop(probe);
    let pool = bb8::Pool::builder()
        .max_size(cfg.pool_max.max(1))
        .min_idle(Some(0))
        .connection_timeout(Duration::from_secs(5))
        .test_on_check_out(false)
        .build(Manager(config))
        .await
        .map_err(connect_error)?;
    let schemas = if cfg.schemas.is_empty() {
        vec!["dbo".to_string()]
    } else {
        cfg.schemas.clone()
    };
    Ok(Arc::new(SqlConnector::new(
        Driver {
            pool,
            schemas,
            read_only: cfg.read_only,
        },
        "sqlserver",
        CAPABILITIES,
    )))
}

struct Driver {
    pool: bb8::Pool<Manager>,
    schemas: Vec<String>,
    read_only: bool,
}

/// A parameter as tiberius binds it; a NULL typed as its column's values.
fn as_sql(v: &SqlValue) -> &dyn ToSql {
    const NULL_BOOL: Option<bool> = None;
    const NULL_INT: Option<i64> = None;
    const NULL_FLOAT: Option<f64> = None;
    const NULL_TEXT: Option<&str> = None;
    const NULL_BYTES: Option<&[u8]> = None;
    match v {
        SqlValue::Null(SqlType::Bool) => &NULL_BOOL,
        SqlValue::Null(SqlType::Int) => &NULL_INT,
        SqlValue::Null(SqlType::Float) => &NULL_FLOAT,
        SqlValue::Null(SqlType::Text) => &NULL_TEXT,
        SqlValue::Null(SqlType::Bytes) => &NULL_BYTES,
        SqlValue::Bool(b) => b,
        SqlValue::Int(i) => i,
        SqlValue::Float(f) => f,
        SqlValue::Text(s) => s,
        SqlValue::Bytes(b) => b,
    }
}

async fn rows(conn: &mut Conn, q: &Query) -> Result<Vec<Row>, ConnectorError> {
    let refs: Vec<&dyn ToSql> = q.params.iter().map(as_sql).collect();
    conn.query(q.sql.as_str(), &refs)
        .await
        .map_err(err)?
        .into_first_result()
        .await
        .map_err(err)
}

async fn records(conn: &mut Conn, q: &Query) -> Result<Vec<Record>, ConnectorError> {
    let Output::Rows(cols) = &q.output else {
        return Err(ConnectorError::internal("sqlserver expects row output"));
    };
    rows(conn, q)
        .await?
        .iter()
        .map(|r| decode(r, cols))
        .collect()
}

fn decode(row: &Row, cols: &[OutCol]) -> Result<Record, ConnectorError> {
    let mut rec = Record::with_capacity(cols.len());
    for (c, data) in cols.iter().zip(row.cells().map(|(_, d)| d)) {
        rec.insert(c.name.clone(), value(c.api_type, data)?);
    }
    Ok(rec)
}

/// One cell as the API writes it.
pub fn value(api: ApiType, data: &ColumnData<'static>) -> Result<Value, ConnectorError> {
    let bad = |e: tiberius::error::Error| ConnectorError::internal(format!("decode: {e}"));
    let num = |n: Option<Number>| n.map_or(Value::Null, Value::Number);
    Ok(match data {
        ColumnData::U8(v) => v.map_or(Value::Null, Value::from),
        ColumnData::I16(v) => v.map_or(Value::Null, Value::from),
        ColumnData::I32(v) => v.map_or(Value::Null, Value::from),
        ColumnData::I64(v) => v.map_or(Value::Null, Value::from),
        ColumnData::F32(v) => num(v.and_then(|f| Number::from_f64(f64::from(f)))),
        ColumnData::F64(v) => num(v.and_then(Number::from_f64)),
        ColumnData::Bit(v) => v.map_or(Value::Null, Value::Bool),
        ColumnData::Numeric(v) => num(v.and_then(|n| Number::from_str(&n.to_string()).ok())),
        ColumnData::Guid(v) => v.map_or(Value::Null, |g| Value::String(g.to_string())),
        ColumnData::Binary(v) => v
            .as_ref()
            .map_or(Value::Null, |b| Value::String(STANDARD.encode(b))),
        ColumnData::String(v) => match v {
            None => Value::Null,
            Some(s) => text(api, s),
        },
        ColumnData::Xml(v) => v
            .as_ref()
            .map_or(Value::Null, |x| Value::String(x.to_string())),
        ColumnData::Date(_) => chrono::NaiveDate::from_sql(data)
            .map_err(bad)?
            .map_or(Value::Null, |d| {
                Value::String(d.format("%Y-%m-%d").to_string())
            }),
        ColumnData::Time(_) => chrono::NaiveTime::from_sql(data)
            .map_err(bad)?
            .map_or(Value::Null, |t| {
                Value::String(t.format("%H:%M:%S%.f").to_string())
            }),
        ColumnData::DateTime(_) | ColumnData::SmallDateTime(_) | ColumnData::DateTime2(_) => {
            chrono::NaiveDateTime::from_sql(data)
                .map_err(bad)?
                .map_or(Value::Null, |t| {
                    Value::String(t.format("%Y-%m-%dT%H:%M:%S%.f").to_string())
                })
        }
        ColumnData::DateTimeOffset(_) => chrono::DateTime::<chrono::FixedOffset>::from_sql(data)
            .map_err(bad)?
            .map_or(Value::Null, |t| Value::String(t.to_rfc3339())),
    })
}

/// Text typed by the column: JSON is embedded; a peer that serves every
/// value as text (pySQLbridge's CSV) still yields numbers and booleans.
fn text(api: ApiType, s: &str) -> Value {
    match api {
        ApiType::Json | ApiType::Object | ApiType::Array => {
            serde_json::from_str(s).unwrap_or_else(|_| Value::String(s.to_string()))
        }
        ApiType::Integer | ApiType::Bigint | ApiType::Decimal | ApiType::Float => {
            Number::from_str(s).map_or_else(|_| Value::String(s.to_string()), Value::Number)
        }
        ApiType::Boolean => match s {
            "1" | "true" | "True" => Value::Bool(true),
            "0" | "false" | "False" => Value::Bool(false),
            _ => Value::String(s.to_string()),
        },
        _ => Value::String(s.to_string()),
    }
}

#[async_trait]
impl SqlDriver for Driver {
    fn dialect(&self) -> &'static dyn Dialect {
        &gatehouse_sql::SqlServer
    }

    async fn records(&self, q: &Query) -> Result<Vec<Record>, ConnectorError> {
        let mut conn = self.pool.get().await.map_err(pool_err)?;
        if self.read_only && !q.sql.starts_with("SELECT") {
            return Err(ConnectorError::public(
                ErrorKind::ReadOnly,
                "the service is read-only",
            ));
        }
        records(&mut conn, q).await
    }

    async fn count(&self, q: &Query) -> Result<u64, ConnectorError> {
        let mut conn = self.pool.get().await.map_err(pool_err)?;
        let rows = rows(&mut conn, q).await?;
        let n = match rows.first().and_then(|r| r.cells().next().map(|(_, d)| d)) {
            Some(ColumnData::I32(Some(n))) => i64::from(*n),
            Some(ColumnData::I64(Some(n))) => *n,
            _ => 0,
        };
        Ok(n.max(0) as u64)
    }

    async fn begin(&self) -> Result<Box<dyn SqlTransaction>, ConnectorError> {
        let mut conn = self.pool.get_owned().await.map_err(pool_err)?;
        simple(&mut conn, "BEGIN TRANSACTION").await?;
        Ok(Box::new(Tx(conn)))
    }

    async fn introspect(&self) -> Result<Catalog, ConnectorError> {
        let mut conn = self.pool.get().await.map_err(pool_err)?;
        introspect(&mut conn, &self.schemas).await
    }

    async fn ping(&self) -> Result<(), ConnectorError> {
        let mut conn = self.pool.get().await.map_err(pool_err)?;
        simple(&mut conn, "SELECT 1").await
    }

    async fn close(&self) {}
}

async fn simple(conn: &mut Conn, sql: &str) -> Result<(), ConnectorError> {
    conn.simple_query(sql)
        .await
        .map_err(err)?
        .into_results()
        .await
        .map_err(err)?;
    Ok(())
}

struct Tx(bb8::PooledConnection<'static, Manager>);

#[async_trait]
impl SqlTransaction for Tx {
    async fn records(&mut self, q: &Query) -> Result<Vec<Record>, ConnectorError> {
        records(&mut self.0, q).await
    }

    async fn execute(&mut self, q: &Query) -> Result<Executed, ConnectorError> {
        let refs: Vec<&dyn ToSql> = q.params.iter().map(as_sql).collect();
        self.0.execute(q.sql.as_str(), &refs).await.map_err(err)?;
        Ok(Executed::default())
    }

    async fn commit(mut self: Box<Self>) -> Result<(), ConnectorError> {
        simple(&mut self.0, "COMMIT TRANSACTION").await
    }

    async fn rollback(mut self: Box<Self>) -> Result<(), ConnectorError> {
        simple(&mut self.0, "IF @@TRANCOUNT > 0 ROLLBACK TRANSACTION").await
    }
}

/// The API type of a SQL Server type name.
pub fn api_type(type_name: &str) -> ApiType {
    match type_name.to_ascii_lowercase().as_str() {
        "bit" => ApiType::Boolean,
        "tinyint" | "smallint" | "int" => ApiType::Integer,
        "bigint" => ApiType::Bigint,
        "decimal" | "numeric" | "money" | "smallmoney" => ApiType::Decimal,
        "float" | "real" => ApiType::Float,
        "date" => ApiType::Date,
        "time" => ApiType::Time,
        "datetime" | "datetime2" | "smalldatetime" => ApiType::Datetime,
        "datetimeoffset" => ApiType::Timestamp,
        "uniqueidentifier" => ApiType::Uuid,
        "text" | "ntext" | "xml" => ApiType::Text,
        "binary" | "varbinary" | "image" | "timestamp" | "rowversion" => ApiType::Binary,
        _ => ApiType::String,
    }
}

/// The cast a parameter needs to compare with or be stored in `type_name`
/// (empty: none; text converts implicitly).
fn cast_type(type_name: &str, precision: i32, scale: i32) -> String {
    match type_name {
        "decimal" | "numeric" => format!("{type_name}({precision},{scale})"),
        "money" | "smallmoney" | "date" | "time" | "datetime" | "datetime2" | "smalldatetime"
        | "datetimeoffset" | "uniqueidentifier" => type_name.to_string(),
        _ => String::new(),
    }
}

fn get_str(r: &Row, col: &str) -> Option<String> {
    r.try_get::<&str, _>(col).ok().flatten().map(str::to_string)
}

/// An integer column, whatever width the peer chose for it.
fn get_int(r: &Row, col: &str) -> Option<i64> {
    let i = r.columns().iter().position(|c| c.name() == col)?;
    match r.cells().nth(i).map(|(_, d)| d)? {
        ColumnData::U8(v) => v.map(i64::from),
        ColumnData::I16(v) => v.map(i64::from),
        ColumnData::I32(v) => v.map(i64::from),
        ColumnData::I64(v) => *v,
        ColumnData::Bit(v) => v.map(i64::from),
        ColumnData::String(Some(s)) => s.parse().ok(),
        _ => None,
    }
}

async fn query_rows(conn: &mut Conn, sql: &str) -> Result<Vec<Row>, ConnectorError> {
    conn.simple_query(sql)
        .await
        .map_err(err)?
        .into_first_result()
        .await
        .map_err(err)
}

async fn introspect(conn: &mut Conn, schemas: &[String]) -> Result<Catalog, ConnectorError> {
    let mut objects: Vec<(i64, String, String, bool)> = Vec::new();
    for r in query_rows(conn, include_str!("sql/tables.sql")).await? {
        if let (Some(s), Some(n), Some(id)) = (
            get_str(&r, "schema_name"),
            get_str(&r, "name"),
            get_int(&r, "object_id"),
        ) {
            objects.push((id, s, n, false));
        }
    }
    // Optional catalog views: a read-only TDS peer may not answer them.
    let optional = |r: Result<Vec<Row>, ConnectorError>| r.unwrap_or_default();
    for r in optional(query_rows(conn, include_str!("sql/views.sql")).await) {
        if let (Some(s), Some(n), Some(id)) = (
            get_str(&r, "schema_name"),
            get_str(&r, "name"),
            get_int(&r, "object_id"),
        ) {
            objects.push((id, s, n, true));
        }
    }
    objects.retain(|(_, s, _, _)| schemas.contains(s));
    let columns = query_rows(conn, include_str!("sql/columns.sql")).await?;
    let defaults = optional(query_rows(conn, include_str!("sql/defaults.sql")).await);
    let keys = optional(query_rows(conn, include_str!("sql/keys.sql")).await);
    let fks = optional(query_rows(conn, include_str!("sql/foreign_keys.sql")).await);
    let qualify = schemas.len() > 1;
    let mut tables = Vec::with_capacity(objects.len());
    for (id, schema, name, is_view) in objects {
        let own = |r: &&Row| get_int(r, "object_id") == Some(id);
        let mut pk: Vec<String> = Vec::new();
        let mut unique: Vec<(String, Vec<String>)> = Vec::new();
        for k in keys.iter().filter(own) {
            let (Some(kname), Some(col)) = (get_str(k, "name"), get_str(k, "col")) else {
                continue;
            };
            if get_int(k, "is_primary_key") == Some(1) {
                pk.push(col);
            } else {
                match unique.iter_mut().find(|(n, _)| *n == kname) {
                    Some((_, cols)) => cols.push(col),
                    None => unique.push((kname, vec![col])),
                }
            }
        }
        let mut cols = Vec::new();
        for c in columns.iter().filter(own) {
            let Some(cname) = get_str(c, "name") else {
                continue;
            };
            let tname = get_str(c, "type_name").unwrap_or_default();
            let api = api_type(&tname);
            let (prec, scale) = (
                get_int(c, "num_precision").unwrap_or(0),
                get_int(c, "num_scale").unwrap_or(0),
            );
            let max_len = get_int(c, "max_length").unwrap_or(0);
            let db_type = match tname.as_str() {
                "decimal" | "numeric" => format!("{tname}({prec},{scale})"),
                "nvarchar" | "nchar" if max_len > 0 => format!("{tname}({})", max_len / 2),
                "varchar" | "char" | "varbinary" | "binary" if max_len > 0 => {
                    format!("{tname}({max_len})")
                }
                "nvarchar" | "varchar" | "varbinary" => format!("{tname}(max)"),
                _ => tname.clone(),
            };
            let mut col = Column::new(cname.clone(), api, db_type);
            col.cast_type = cast_type(
                &tname,
                i32::try_from(prec).unwrap_or(18),
                i32::try_from(scale).unwrap_or(0),
            );
            col.allow_null = get_int(c, "is_nullable") != Some(0);
            col.auto_increment = get_int(c, "is_identity") == Some(1);
            // an IDENTITY takes no value (short of IDENTITY_INSERT), like a computed column
            col.generated = get_int(c, "is_computed") == Some(1)
                || col.auto_increment
                || matches!(tname.as_str(), "timestamp" | "rowversion");
            let column_id = get_int(c, "column_id");
            col.default = defaults
                .iter()
                .filter(own)
                .find(|d| get_int(d, "column_id") == column_id)
                .and_then(|d| get_str(d, "definition"));
            if api == ApiType::String && max_len > 0 {
                col.length = Some(if tname.starts_with('n') {
                    max_len / 2
                } else {
                    max_len
                });
            }
            if api == ApiType::Decimal {
                col.precision = Some(prec);
                col.scale = Some(scale);
            }
            col.range = match tname.as_str() {
                "tinyint" => Some(IntRange::bits(8, true)),
                "smallint" => Some(IntRange::bits(16, false)),
                "int" => Some(IntRange::bits(32, false)),
                "bigint" => Some(IntRange::bits(64, false)),
                _ => None,
            };
            col.is_primary_key = pk.contains(&cname);
            col.is_unique = (col.is_primary_key && pk.len() == 1)
                || unique.iter().any(|(_, u)| u.len() == 1 && u[0] == cname);
            cols.push(col);
        }
        let mut foreign_keys: Vec<(String, ForeignKey)> = Vec::new();
        for f in fks.iter().filter(own) {
            let (Some(fname), Some(col), Some(rt), Some(rc)) = (
                get_str(f, "name"),
                get_str(f, "col"),
                get_str(f, "ref_table"),
                get_str(f, "ref_col"),
            ) else {
                continue;
            };
            match foreign_keys.iter_mut().find(|(n, _)| *n == fname) {
                Some((_, fk)) => {
                    fk.columns.push(col);
                    fk.ref_columns.push(rc);
                }
                None => foreign_keys.push((
                    fname,
                    ForeignKey {
                        columns: vec![col],
                        ref_table: rt,
                        ref_columns: vec![rc],
                    },
                )),
            }
        }
        tables.push(Table {
            name: if qualify {
                format!("{schema}.{name}")
            } else {
                name.clone()
            },
            schema: Some(schema),
            db_name: name,
            kind: if is_view {
                TableKind::View
            } else {
                TableKind::Table
            },
            writable: !is_view,
            description: None,
            columns: cols,
            primary_key: pk,
            foreign_keys: foreign_keys.into_iter().map(|(_, f)| f).collect(),
            related: Vec::new(),
            inferred: false,
            withheld: Vec::new(),
        });
    }
    Ok(Catalog::new(tables))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn connection_strings() {
        assert!(
            parse_url("sqlserver://sa:p%40ss@db:1433/shop?trust_server_certificate=true").is_ok()
        );
        assert!(parse_url("sqlserver://sa:x@db/shop?encrypt=false").is_ok());
        for bad in [
            "postgres://a:b@h/d",
            "sqlserver://sa:x@db:1433/",
            "sqlserver://sa:x@db/shop?colour=red",
            "not a url",
        ] {
            assert!(parse_url(bad).is_err(), "{bad}");
        }
    }

    #[test]
    fn types() {
        assert_eq!(api_type("bit"), ApiType::Boolean);
        assert_eq!(api_type("datetimeoffset"), ApiType::Timestamp);
        assert_eq!(api_type("nvarchar"), ApiType::String);
        assert_eq!(api_type("uniqueidentifier"), ApiType::Uuid);
        assert_eq!(cast_type("decimal", 10, 2), "decimal(10,2)");
        assert_eq!(cast_type("nvarchar", 0, 0), "");
    }

    #[test]
    fn text_cells_take_the_column_type() {
        assert_eq!(text(ApiType::Integer, "42"), Value::from(42));
        assert_eq!(text(ApiType::Boolean, "1"), Value::Bool(true));
        assert_eq!(text(ApiType::String, "42"), Value::from("42"));
    }
}
