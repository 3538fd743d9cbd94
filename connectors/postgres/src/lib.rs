//! The PostgreSQL connector: a [`SqlDriver`] on sqlx connections from its own
//! pool (`pool.rs`). Rows come back as cells in binary form, spelled in
//! `cells.rs` as the server's JSON would (numeric text exact); sessions run in
//! UTC so `timestamptz` values are RFC 3339 with a `+00:00` offset.

use async_trait::async_trait;
use bytes::Bytes;
use cells::Decoder;
use futures_util::StreamExt;
use futures_util::future::BoxFuture;
use gatehouse_core::catalog::{
    ApiType, Column, ForeignKey, IntRange, Table, TableKind, trigger_sets,
};
use gatehouse_core::cells::{Cell, JsonRows, JsonRowsWriter};
use gatehouse_core::export::LineWriter;
use gatehouse_core::{
    Capabilities, Catalog, ConnectionConfig, Connector, ConnectorError, ErrorKind, Record, Rows,
};
use gatehouse_core::{ExportFormat, ExportStream};
use gatehouse_sql::pool::{self, Backend};
use gatehouse_sql::sqlx_support::{code, connect_error, map_error};
use gatehouse_sql::{Dialect, Executed, Output, Query, SqlConnector, SqlDriver, SqlTransaction};
use sqlx::error::DatabaseError;
use sqlx::postgres::{PgConnectOptions, PgConnection, PgRow};
use sqlx::{Connection, Postgres, Row};
use std::collections::HashMap;
use std::str::FromStr;
use std::sync::Arc;
use std::time::Duration;

mod cells;

type Pool = pool::Pool<Pg>;
type Lease = pool::Lease<Pg>;

/// PostgreSQL to the pool: a connection knows its backend's pid, and a
/// statement its request left is cancelled with `pg_cancel_backend`.
struct Pg;

impl Backend for Pg {
    type Conn = PgConnection;
    type Options = PgConnectOptions;
    const NAME: &'static str = "postgres";

    async fn connect(opts: &PgConnectOptions) -> Result<(PgConnection, i64), sqlx::Error> {
        let mut conn = PgConnection::connect_with(opts).await?;
        let pid: i32 = sqlx::query_scalar("SELECT pg_backend_pid()")
            .fetch_one(&mut conn)
            .await?;
        Ok((conn, i64::from(pid)))
    }

    async fn cancel(opts: &PgConnectOptions, id: i64) -> Result<(), sqlx::Error> {
        let mut side = PgConnection::connect_with(opts).await?;
        sqlx::query("SELECT pg_cancel_backend($1)")
            .bind(i32::try_from(id).unwrap_or_default())
            .execute(&mut side)
            .await?;
        side.close().await
    }

    async fn forget_statements(conn: &mut PgConnection) -> Result<(), sqlx::Error> {
        conn.clear_cached_statements().await
    }

    fn refused(db: &dyn DatabaseError) -> Option<&'static str> {
        classify_connect(db)
    }

    fn simple<'c>(
        conn: &'c mut PgConnection,
        sql: &'static str,
    ) -> BoxFuture<'c, Result<(), sqlx::Error>> {
        Box::pin(async move { sqlx::raw_sql(sql).execute(conn).await.map(|_| ()) })
    }

    /// Connection failures, and the server ending the session: class 08
    /// (connection exception) and 57P01-04 (shutdown, crash, starting,
    /// database dropped).
    fn broken(e: &sqlx::Error) -> bool {
        match e {
            sqlx::Error::Io(_) | sqlx::Error::Protocol(_) | sqlx::Error::Tls(_) => true,
            sqlx::Error::Database(db) => db
                .code()
                .is_some_and(|c| c.starts_with("08") || c.starts_with("57P")),
            _ => false,
        }
    }
}

pub const CAPABILITIES: Capabilities = Capabilities::SQL;

fn classify_connect(db: &dyn DatabaseError) -> Option<&'static str> {
    match code(db).as_str() {
        "28P01" | "28000" => Some("authentication failed"),
        "3D000" => Some("database does not exist"),
        "57P03" => Some("the database is starting up"),
        "53300" => Some("too many connections"),
        _ => None,
    }
}

/// Opens a pool on `cfg.url` (`postgres://user:pass@host:port/db`) and checks it answers.
pub async fn connect(cfg: &ConnectionConfig) -> Result<Arc<dyn Connector>, ConnectorError> {
    let opts = PgConnectOptions::from_str(&cfg.url)
        .map_err(|e| connect_error(e, classify_connect))?
        .application_name("gatehouse")
        .options([("TimeZone", "UTC")]);
    let opts = if cfg.read_only {
        opts.options([("default_transaction_read_only", "on")])
    } else {
        opts
    };
    // One direct attempt first: the pool would retry until its timeout and
    // hide the reason (refused, bad password, no such database).
    let probe = PgConnection::connect_with(&opts)
        .await
        .map_err(|e| connect_error(e, classify_connect))?;
    let _ = probe.close().await;
    let pool = pool::pool::<Pg>(opts, cfg.pool_max.max(1) as usize, Duration::from_secs(5))
        .map_err(ConnectorError::internal)?;
    let schemas = if cfg.schemas.is_empty() {
        vec!["public".to_string()]
    } else {
        cfg.schemas.clone()
    };
    Ok(Arc::new(SqlConnector::new(
        Driver { pool, schemas },
        "postgres",
        CAPABILITIES,
    )))
}

struct Driver {
    pool: Pool,
    schemas: Vec<String>,
}

impl Driver {
    /// `op` on a leased connection, with the lease for what follows. A
    /// connection that turns out broken (the server restarted, a network
    /// cut) is dropped and `op` tried once more on another: only for what is
    /// safe to repeat (a read, `BEGIN`).
    async fn retrying<T>(
        &self,
        mut op: impl for<'c> FnMut(&'c mut PgConnection) -> BoxFuture<'c, Result<T, sqlx::Error>>,
    ) -> Result<(Lease, T), ConnectorError> {
        let mut retried = false;
        loop {
            let mut lease = Lease::of(&self.pool).await?;
            let done = op(lease.conn()).await;
            match lease.settle(done) {
                Ok(v) => return Ok((lease, v)),
                Err(e) if !retried && Pg::broken(&e) => retried = true,
                // a statement prepared before a column changed type: every
                // connection forgets its statements, and this one is tried again
                Err(e) if !retried && stale_plan(&e) => {
                    pool::renew(&self.pool);
                    retried = true;
                }
                Err(e) => return Err(err(e)),
            }
        }
    }

    /// A read's rows, tried once more on a broken connection.
    async fn fetch(&self, q: &Query) -> Result<Vec<PgRow>, ConnectorError> {
        let (_, rows) = self
            .retrying(|conn| Box::pin(bind(q).fetch_all(conn)))
            .await?;
        Ok(rows)
    }
}

/// "cached plan must not change result type": the server refuses a prepared
/// statement whose result columns changed type since it was prepared.
fn stale_plan(e: &sqlx::Error) -> bool {
    matches!(e, sqlx::Error::Database(db) if db.code().as_deref() == Some("0A000")
        && db.message().contains("cached plan"))
}

fn err(e: sqlx::Error) -> ConnectorError {
    let field = named_column(&e);
    let mut err = map_error(e, |db| match code(db).as_str() {
        // class 22: data exception (bad number, date, text representation, out of range)
        c if c.starts_with("22") => Some(ErrorKind::InvalidValue),
        // class 08: connection exception; 57P0x: shutdown; 53300: too many connections
        c if c.starts_with("08") || c.starts_with("57P") || c == "53300" => {
            Some(ErrorKind::Unavailable)
        }
        "25006" => Some(ErrorKind::ReadOnly),
        // insufficient privilege, or a row-level security policy refusing the row
        "42501" => Some(ErrorKind::Forbidden),
        // serialization failure, deadlock, statement timeout: worth a retry
        "40001" | "40P01" | "57014" => Some(ErrorKind::Unavailable),
        // a value for a GENERATED ALWAYS column; an operator or comparison the
        // column's type lacks (e.g. `=` on json)
        "428C9" | "42883" | "42804" => Some(ErrorKind::InvalidInput),
        // undefined table: the catalog is older than the database
        "42P01" => Some(ErrorKind::NotFound),
        // object not in prerequisite state: a materialized view never refreshed
        "55000" => Some(ErrorKind::NotReady),
        _ => None,
    });
    if err.kind != ErrorKind::Internal && err.field.is_none() {
        err.field = field;
    }
    err
}

/// The column a PostgreSQL error names: its `column` field (NOT NULL), or
/// the first column of `Key (email)=(…) already exists` (unique, foreign key).
fn named_column(e: &sqlx::Error) -> Option<String> {
    let sqlx::Error::Database(db) = e else {
        return None;
    };
    let pg = db.try_downcast_ref::<sqlx::postgres::PgDatabaseError>()?;
    if let Some(c) = pg.column() {
        return Some(c.to_string());
    }
    let cols = pg.detail()?.strip_prefix("Key (")?.split(")=").next()?;
    let first = cols.split(", ").next()?.trim_matches('"');
    (!first.is_empty()).then(|| first.to_string())
}

fn bind(
    q: &Query,
) -> sqlx::query::Query<'static, Postgres, <Postgres as sqlx::Database>::Arguments> {
    gatehouse_sql::sqlx_support::bind(q)
}

/// The rows of a read, written from their cells ([`Output::Cells`]).
fn json_rows(rows: &[PgRow], cells: &[(String, Cell)]) -> Result<JsonRows, ConnectorError> {
    let mut out = JsonRowsWriter::new(cells.iter().map(|(name, _)| name.as_str()));
    let mut decoder = Decoder::new(cells.iter().map(|(_, kind)| *kind).collect());
    for row in rows {
        out.row(decoder.row(row)?.into_iter());
    }
    Ok(out.finish())
}

/// The cells of a query's output (the dialect reads every row as cells).
fn cells_of(output: &Output) -> Result<&[(String, Cell)], ConnectorError> {
    match output {
        Output::Cells(cells) => Ok(cells),
        _ => Err(ConnectorError::internal("postgres reads rows as cells")),
    }
}

/// Rows as records (writes, and reads a hook or `ids=` ordering needs parsed).
fn decode(rows: &[PgRow], output: &Output) -> Result<Vec<Record>, ConnectorError> {
    json_rows(rows, cells_of(output)?)?.into_records()
}

#[async_trait]
impl SqlDriver for Driver {
    fn dialect(&self) -> &'static dyn Dialect {
        &gatehouse_sql::Postgres
    }

    async fn records(&self, q: &Query) -> Result<Vec<Record>, ConnectorError> {
        let mut lease = Lease::of(&self.pool).await?;
        let rows = bind(q).fetch_all(lease.conn()).await;
        decode(&lease.settle(rows).map_err(err)?, &q.output)
    }

    /// Once a connection was had, a connection failure leaves the write's
    /// outcome unknown (it commits by itself).
    async fn write(&self, q: &Query) -> Result<Vec<Record>, ConnectorError> {
        let mut lease = Lease::of(&self.pool).await?;
        let rows = bind(q).fetch_all(lease.conn()).await;
        let rows = lease.settle(rows).map_err(|e| {
            let sent = Pg::broken(&e);
            let e = err(e);
            if sent { e.after_sending() } else { e }
        })?;
        decode(&rows, &q.output)
    }

    async fn rows(&self, q: &Query) -> Result<Rows, ConnectorError> {
        let rows = self.fetch(q).await?;
        json_rows(&rows, cells_of(&q.output)?).map(Rows::Json)
    }

    async fn count(&self, q: &Query) -> Result<u64, ConnectorError> {
        let rows = self.fetch(q).await?;
        let n: i64 = match rows.first() {
            Some(row) => row.try_get(0).map_err(err)?,
            None => 0,
        };
        Ok(n.max(0) as u64)
    }

    async fn begin(&self) -> Result<Box<dyn SqlTransaction>, ConnectorError> {
        let (lease, _) = self
            .retrying(|conn| Box::pin(sqlx::raw_sql("BEGIN").execute(conn)))
            .await?;
        Ok(Box::new(Tx(pool::TxLease::begun(lease))))
    }

    async fn introspect(&self) -> Result<Catalog, ConnectorError> {
        let mut lease = Lease::of(&self.pool).await?;
        let rows = CatalogRows::read(lease.conn(), &self.schemas).await;
        let rows = lease.settle(rows).map_err(err)?;
        drop(lease);
        // the schema may have changed: statements prepared before are forgotten
        pool::renew(&self.pool);
        let schemas = self.schemas.clone();
        // A big database is tens of thousands of rows: they are turned into
        // the catalog off the threads that answer requests.
        tokio::task::spawn_blocking(move || rows.catalog(&schemas))
            .await
            .map_err(|e| {
                ConnectorError::new(ErrorKind::Internal, format!("building the catalog: {e}"))
            })?
            .map_err(err)
    }

    async fn ping(&self) -> Result<(), ConnectorError> {
        let mut lease = Lease::of(&self.pool).await?;
        let pong = lease.conn().ping().await;
        lease.settle(pong).map_err(err)
    }

    async fn close(&self) {
        self.pool.close();
    }

    /// One query, its rows read as they arrive and written as lines into
    /// chunks; a bounded channel holds the reading back while the client is
    /// slow, so memory stays flat however many rows there are.
    fn stream(&self, q: Query, format: ExportFormat) -> Option<ExportStream> {
        let Output::Cells(cells) = &q.output else {
            return None;
        };
        let names: Vec<String> = cells.iter().map(|(n, _)| n.clone()).collect();
        let mut decoder = Decoder::new(cells.iter().map(|(_, k)| *k).collect());
        let pool = self.pool.clone();
        let (tx, rx) = tokio::sync::mpsc::channel::<Result<Bytes, ConnectorError>>(4);
        tokio::spawn(async move {
            let mut lease = match Lease::of(&pool).await {
                Ok(lease) => lease,
                Err(e) => {
                    let _ = tx.send(Err(e)).await;
                    return;
                }
            };
            let mut lines = LineWriter::new(format, &names);
            let query = bind(&q);
            // a lease left before the last row is not settled: the
            // connection is dropped rather than reused mid-result
            let mut rows = query.fetch(lease.conn());
            while let Some(row) = rows.next().await {
                let chunk = match row.map_err(err).and_then(|row| {
                    lines.values(decoder.row(&row)?.into_iter());
                    Ok(())
                }) {
                    Ok(()) => lines.take_full(),
                    Err(e) => {
                        let _ = tx.send(Err(e)).await;
                        return;
                    }
                };
                if let Some(chunk) = chunk
                    && tx.send(Ok(chunk)).await.is_err()
                {
                    return; // the client went away
                }
            }
            drop(rows);
            let _ = lease.settle(Ok(()));
            if let Some(chunk) = lines.finish() {
                let _ = tx.send(Ok(chunk)).await;
            }
        });
        Some(Box::pin(futures_util::stream::unfold(
            rx,
            |mut rx| async move { rx.recv().await.map(|item| (item, rx)) },
        )))
    }
}

/// A transaction on a leased connection.
struct Tx(pool::TxLease<Pg>);

#[async_trait]
impl SqlTransaction for Tx {
    async fn records(&mut self, q: &Query) -> Result<Vec<Record>, ConnectorError> {
        let lease = self.0.lease();
        let rows = bind(q).fetch_all(lease.conn()).await;
        decode(&lease.settle(rows).map_err(err)?, &q.output)
    }

    async fn execute(&mut self, q: &Query) -> Result<Executed, ConnectorError> {
        let lease = self.0.lease();
        let done = bind(q).execute(lease.conn()).await;
        lease.settle(done).map_err(err)?;
        Ok(Executed::default())
    }

    async fn commit(self: Box<Self>) -> Result<(), ConnectorError> {
        self.0.end("COMMIT").await.map_err(err)
    }

    async fn rollback(self: Box<Self>) -> Result<(), ConnectorError> {
        self.0.end("ROLLBACK").await.map_err(err)
    }
}

/// The API type of a Postgres type, by its (base) type name and category.
pub fn api_type(base_type: &str, category: &str, typtype: &str) -> ApiType {
    match base_type {
        "int2" | "int4" => ApiType::Integer,
        "int8" => ApiType::Bigint,
        "numeric" => ApiType::Decimal,
        "float4" | "float8" => ApiType::Float,
        "bool" => ApiType::Boolean,
        "text" => ApiType::Text,
        "varchar" | "bpchar" | "char" | "name" | "citext" => ApiType::String,
        "date" => ApiType::Date,
        "time" | "timetz" => ApiType::Time,
        "timestamp" => ApiType::Datetime,
        "timestamptz" => ApiType::Timestamp,
        "uuid" => ApiType::Uuid,
        "bytea" => ApiType::Binary,
        "json" | "jsonb" => ApiType::Json,
        _ if category == "A" => ApiType::Array,
        _ if typtype == "c" => ApiType::Object,
        _ => ApiType::String,
    }
}

/// Length, precision and scale from a type modifier (`atttypmod`).
fn modifiers(base_type: &str, typmod: i32) -> (Option<i64>, Option<i64>, Option<i64>) {
    if typmod < 0 {
        return (None, None, None);
    }
    let m = i64::from(typmod) - 4;
    match base_type {
        "varchar" | "bpchar" | "char" => (Some(m), None, None),
        "numeric" => (None, Some((m >> 16) & 0xffff), Some(m & 0xffff)),
        _ => (None, None, None),
    }
}

/// The catalog queries' rows, read on one connection.
struct CatalogRows {
    tables: Vec<PgRow>,
    columns: Vec<PgRow>,
    keys: Vec<PgRow>,
    foreign_keys: Vec<PgRow>,
}

impl CatalogRows {
    async fn read(conn: &mut PgConnection, schemas: &[String]) -> Result<Self, sqlx::Error> {
        let mut read =
            async |sql: &'static str| sqlx::query(sql).bind(schemas).fetch_all(&mut *conn).await;
        Ok(Self {
            tables: read(include_str!("sql/tables.sql")).await?,
            columns: read(include_str!("sql/columns.sql")).await?,
            keys: read(include_str!("sql/keys.sql")).await?,
            foreign_keys: read(include_str!("sql/foreign_keys.sql")).await?,
        })
    }

    fn catalog(self, schemas: &[String]) -> Result<Catalog, sqlx::Error> {
        let qualified = schemas.len() > 1;
        let api_name = |schema: &str, table: &str| {
            if qualified || !schemas.iter().any(|s| s == schema) {
                format!("{schema}.{table}")
            } else {
                table.to_string()
            }
        };
        let mut tables: Vec<Table> = Vec::new();
        let mut index: HashMap<(String, String), usize> = HashMap::new();
        let mut triggers: Vec<Option<String>> = Vec::new();
        for r in self.tables {
            let schema: String = r.try_get("schema_name")?;
            let name: String = r.try_get("name")?;
            let kind: String = r.try_get("kind")?;
            triggers.push(r.try_get("insert_triggers")?);
            index.insert((schema.clone(), name.clone()), tables.len());
            tables.push(Table {
                name: api_name(&schema, &name),
                schema: Some(schema),
                db_name: name,
                kind: if matches!(kind.as_str(), "r" | "p" | "f") {
                    TableKind::Table
                } else {
                    TableKind::View
                },
                writable: r.try_get("writable")?,
                description: r.try_get("description")?,
                columns: Vec::new(),
                primary_key: Vec::new(),
                foreign_keys: Vec::new(),
                related: Vec::new(),
                inferred: false,
                withheld: Vec::new(),
            });
        }
        let find = |r: &PgRow| -> Result<Option<usize>, sqlx::Error> {
            Ok(index
                .get(&(r.try_get("schema_name")?, r.try_get("table_name")?))
                .copied())
        };
        for r in self.columns {
            let Some(i) = find(&r)? else { continue };
            let base: String = r.try_get("base_type")?;
            let category: String = r.try_get("category")?;
            let typtype: String = r.try_get("typtype")?;
            let api = api_type(&base, &category, &typtype);
            let mut c = Column::new(
                r.try_get::<String, _>("name")?,
                api,
                r.try_get::<String, _>("db_type")?,
            );
            c.cast_type = r.try_get("cast_type")?;
            // a string in the API, but not text in the database: LIKE casts it
            c.db_text = matches!(
                base.as_str(),
                "text" | "varchar" | "bpchar" | "char" | "name" | "citext"
            );
            c.range = match base.as_str() {
                "int2" => Some(IntRange::bits(16, false)),
                "int4" => Some(IntRange::bits(32, false)),
                "int8" => Some(IntRange::bits(64, false)),
                _ => None,
            };
            c.allow_null = r.try_get("allow_null")?;
            c.default = r.try_get("default_expr")?;
            // an identity GENERATED ALWAYS refuses a value as a generated column does
            c.generated =
                r.try_get::<bool, _>("is_generated")? || r.try_get::<bool, _>("identity_always")?;
            c.filled_on_insert = triggers[i]
                .as_deref()
                .is_some_and(|t| trigger_sets(t, &c.name));
            let identity: bool = r.try_get("is_identity")?;
            c.auto_increment = identity
                || c.default
                    .as_deref()
                    .is_some_and(|d| d.starts_with("nextval("));
            c.description = r.try_get("description")?;
            c.values = r.try_get("enum_values")?;

            (c.length, c.precision, c.scale) = modifiers(&base, r.try_get("typmod")?);
            if base == "float4" {
                c.precision = Some(24);
            }
            tables[i].columns.push(c);
        }
        for r in self.keys {
            let Some(i) = find(&r)? else { continue };
            let cols: Vec<String> = r.try_get("columns")?;
            let t = &mut tables[i];
            if r.try_get("is_primary")? {
                for c in t.columns.iter_mut().filter(|c| cols.contains(&c.name)) {
                    c.is_primary_key = true;
                    c.allow_null = false;
                }
                t.primary_key.clone_from(&cols);
            }
            if let [only] = cols.as_slice()
                && let Some(c) = t.columns.iter_mut().find(|c| &c.name == only)
            {
                c.is_unique = true;
            }
        }
        for r in self.foreign_keys {
            let Some(i) = find(&r)? else { continue };
            let ref_schema: String = r.try_get("ref_schema")?;
            let ref_table: String = r.try_get("ref_table")?;
            tables[i].foreign_keys.push(ForeignKey {
                columns: r.try_get("columns")?,
                ref_table: api_name(&ref_schema, &ref_table),
                ref_columns: r.try_get("ref_columns")?,
            });
        }
        Ok(Catalog::new(tables))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn types_and_modifiers() {
        assert_eq!(api_type("int4", "N", "b"), ApiType::Integer);
        assert_eq!(api_type("timestamptz", "D", "b"), ApiType::Timestamp);
        assert_eq!(api_type("_int4", "A", "b"), ApiType::Array);
        assert_eq!(api_type("mood", "E", "e"), ApiType::String);
        assert_eq!(
            modifiers("numeric", (10 << 16 | 2) + 4),
            (None, Some(10), Some(2))
        );
        assert_eq!(modifiers("varchar", 44), (Some(40), None, None));
        assert_eq!(modifiers("numeric", -1), (None, None, None));
    }
}
