//! The one trait every engine implements, used as `Arc<dyn Connector>`.

use crate::catalog::Catalog;
use crate::error::ConnectorError;
use crate::export::{ExportFormat, ExportStream, LineWriter};
use crate::request::{
    CountMode, DeleteRequest, InsertRequest, ItemOutcome, OrderBy, SelectRequest, SelectResult,
    UpdateRequest,
};
use async_trait::async_trait;
use std::sync::Arc;

/// Rows per query when an export pages through [`Connector::select`].
pub const EXPORT_PAGE: u64 = 1000;

/// What an engine cannot do as every other can. The router consults this
/// before calling a connector (`http/table/read.rs`), so an unsupported use is
/// answered (501 `not_implemented`) in one place and no connector has to
/// refuse it deep in its own code. A flag belongs here only if some engine
/// lacks it and the router reads it; coming features (related records,
/// aggregates, procedures) add theirs here.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Capabilities {
    /// Where NULLs may be put when sorting.
    pub nulls: NullsOrder,
}

/// Where an engine can put NULLs when it sorts.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum NullsOrder {
    /// First or last, as asked (natively, or emulated by the SQL dialect).
    Either,
    /// Only as the lowest values: first ascending, last descending (MongoDB).
    Lowest,
}

impl NullsOrder {
    /// Whether a sort `descending` can put NULLs first (`nulls_first`) or last.
    pub fn can(self, descending: bool, nulls_first: bool) -> bool {
        match self {
            NullsOrder::Either => true,
            NullsOrder::Lowest => nulls_first != descending,
        }
    }
}

impl Capabilities {
    /// What the SQL engines can do (each emulates what it lacks natively).
    pub const SQL: Capabilities = Capabilities {
        nulls: NullsOrder::Either,
    };
}

/// The part of a service's configuration a connector needs.
#[derive(Debug, Clone)]
pub struct ConnectionConfig {
    /// The connection string (contains secrets: never log it).
    pub url: String,
    /// Schemas to expose (Postgres); empty means the engine's default.
    pub schemas: Vec<String>,
    /// Maximum pool size.
    pub pool_max: u32,
    /// Open the database read-only where the engine allows it.
    pub read_only: bool,
    /// Documents sampled per collection to infer its schema (MongoDB).
    pub sample_size: u32,
}

/// One connected database. Every method takes requests as data; implementations
/// bind every value as a parameter (or typed document value) and never splice
/// request text into queries.
#[async_trait]
pub trait Connector: Send + Sync + 'static {
    /// The service type this connector serves (`postgres`, `sqlite`, ...).
    fn engine(&self) -> &'static str;

    fn capabilities(&self) -> Capabilities;

    /// Reads the catalog: tables, views, columns, keys.
    async fn introspect(&self) -> Result<Catalog, ConnectorError>;

    /// Checks the database answers.
    async fn ping(&self) -> Result<(), ConnectorError>;

    async fn select(&self, req: &SelectRequest) -> Result<SelectResult, ConnectorError>;

    /// Inserts each record. In [`crate::BatchMode::Atomic`] the first failure
    /// undoes the whole batch and the records after it are [`ItemOutcome::Skipped`].
    async fn insert(&self, req: &InsertRequest) -> Result<Vec<ItemOutcome>, ConnectorError>;

    async fn update(&self, req: &UpdateRequest) -> Result<Vec<ItemOutcome>, ConnectorError>;

    async fn delete(&self, req: &DeleteRequest) -> Result<Vec<ItemOutcome>, ConnectorError>;

    /// Closes the pool; requests already running finish first.
    async fn close(&self);

    /// The rows `req` selects (its `limit` and `offset` included, `count`
    /// ignored) as NDJSON or CSV, in constant memory. This default pages
    /// through [`select`](Connector::select), [`EXPORT_PAGE`] rows a query,
    /// ordered by the request's order and then the primary key so pages
    /// neither skip nor repeat rows; an engine that can stream one query's
    /// rows overrides it.
    fn export(self: Arc<Self>, req: SelectRequest, format: ExportFormat) -> ExportStream {
        paged_export(self, req, format)
    }
}

/// [`Connector::export`] by pages of [`Connector::select`].
pub fn paged_export<C: Connector + ?Sized>(
    connector: Arc<C>,
    mut req: SelectRequest,
    format: ExportFormat,
) -> ExportStream {
    for k in &req.table.primary_key {
        if !req.order.iter().any(|o| &o.field == k) {
            req.order.push(OrderBy {
                field: k.clone(),
                descending: false,
                nulls_first: None,
            });
        }
    }
    req.count = CountMode::None;
    let writer = LineWriter::new(format, &req.fields);
    let remaining = req.limit;
    let state = (connector, req, writer, remaining, false);
    Box::pin(futures_util::stream::unfold(
        state,
        |(connector, mut req, mut writer, remaining, done)| async move {
            if done {
                return None;
            }
            let page = remaining.map_or(EXPORT_PAGE, |r| r.min(EXPORT_PAGE));
            let rows = if page == 0 {
                Vec::new()
            } else {
                req.limit = Some(page);
                match connector
                    .select(&req)
                    .await
                    .and_then(|r| r.rows.into_records())
                {
                    Ok(rows) => rows,
                    Err(e) => return Some((Err(e), (connector, req, writer, remaining, true))),
                }
            };
            for r in &rows {
                writer.record(&req.fields, r);
            }
            let got = rows.len() as u64;
            let last = got < page || remaining.is_some_and(|r| r <= got);
            req.offset += got;
            let remaining = remaining.map(|r| r - got.min(r));
            let chunk = writer.finish();
            Some((
                Ok(chunk.unwrap_or_default()),
                (connector, req, writer, remaining, last),
            ))
        },
    ))
}
