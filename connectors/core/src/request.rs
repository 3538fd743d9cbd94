//! Requests as data: what the HTTP layer asks of a connector.

use crate::catalog::Table;
use crate::cells::JsonRows;
use crate::error::ConnectorError;
use crate::filter::Expr;
use std::sync::Arc;

/// A record as JSON: column name to value, in column order.
pub type Record = serde_json::Map<String, serde_json::Value>;

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct OrderBy {
    pub field: String,
    pub descending: bool,
    /// `Some(true)` = NULLS FIRST, `Some(false)` = NULLS LAST, `None` = engine default.
    pub nulls_first: Option<bool>,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum CountMode {
    /// Rows only.
    None,
    /// Rows and the number of matching rows, ignoring limit/offset.
    WithRows,
    /// The number of matching rows only.
    Only,
}

#[derive(Debug, Clone)]
pub struct SelectRequest {
    pub table: Arc<Table>,
    /// Columns to return, validated against the table; never empty.
    pub fields: Vec<String>,
    pub filter: Option<Expr>,
    pub order: Vec<OrderBy>,
    pub limit: Option<u64>,
    pub offset: u64,
    pub count: CountMode,
}

#[derive(Debug, Clone, Default)]
pub struct SelectResult {
    pub rows: Rows,
    pub count: Option<u64>,
}

/// The rows of a read.
#[derive(Debug, Clone)]
pub enum Rows {
    Records(Vec<Record>),
    /// JSON objects written straight from the values a driver read
    /// (PostgreSQL): passed on to the client without being parsed into
    /// records unless something (a hook, ordering by `ids`) needs them.
    Json(JsonRows),
}

impl Default for Rows {
    fn default() -> Self {
        Rows::Records(Vec::new())
    }
}

impl Rows {
    pub fn into_records(self) -> Result<Vec<Record>, ConnectorError> {
        match self {
            Rows::Records(r) => Ok(r),
            Rows::Json(rows) => rows.into_records(),
        }
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum BatchMode {
    /// One transaction: every record or none.
    Atomic,
    /// Every record on its own; the good ones commit.
    Continue,
}

#[derive(Debug, Clone)]
pub struct InsertRequest {
    pub table: Arc<Table>,
    pub records: Vec<Record>,
    /// Columns to return for each created record.
    pub returning: Vec<String>,
    pub batch: BatchMode,
    /// A row filter every written row must satisfy (PostgreSQL's `WITH CHECK`):
    /// checked in the write's own transaction, a row outside it fails its item
    /// with [`ErrorKind::Forbidden`](crate::ErrorKind::Forbidden) and is not kept.
    pub check: Option<Expr>,
}

/// One unit of an update or delete: the rows `filter` selects.
#[derive(Debug, Clone)]
pub struct WriteItem {
    pub filter: Expr,
    /// New values (updates only).
    pub values: Record,
    /// The item addresses one record by key: matching none is `NotFound`.
    pub expect_row: bool,
}

#[derive(Debug, Clone)]
pub struct UpdateRequest {
    pub table: Arc<Table>,
    pub items: Vec<WriteItem>,
    /// PUT: columns not given return to their default.
    pub replace: bool,
    pub returning: Vec<String>,
    pub batch: BatchMode,
    /// As for [`InsertRequest::check`], on the rows after the update.
    pub check: Option<Expr>,
}

#[derive(Debug, Clone)]
pub struct DeleteRequest {
    pub table: Arc<Table>,
    pub items: Vec<WriteItem>,
    pub returning: Vec<String>,
    pub batch: BatchMode,
}

/// What became of one record (or one item) of a write.
#[derive(Debug, Clone)]
pub enum ItemOutcome {
    /// Done; the affected rows with the `returning` columns.
    Done(Vec<Record>),
    Failed(ConnectorError),
    /// Not attempted because an earlier record of an atomic batch failed.
    Skipped,
}
