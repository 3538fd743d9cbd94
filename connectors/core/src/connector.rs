//! The one trait every engine implements, used as `Arc<dyn Connector>`.

use crate::catalog::Catalog;
use crate::error::ConnectorError;
use crate::request::{
    DeleteRequest, InsertRequest, ItemOutcome, SelectRequest, SelectResult, UpdateRequest,
};
use async_trait::async_trait;

/// What an engine can do. The router consults this before calling a connector,
/// so an unsupported operation is answered (501) in one place.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Capabilities {
    /// Multi-record writes can be made atomic.
    pub transactions: bool,
    /// `NULLS FIRST` / `NULLS LAST` in ordering.
    pub nulls_ordering: bool,
    /// `LIKE` patterns (`%`, `_`) in filters.
    pub like: bool,
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
}
