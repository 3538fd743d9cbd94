//! The contract every Gatehouse connector implements.
//!
//! Requests reach a connector as data ([`SelectRequest`], [`InsertRequest`], ...)
//! carrying a filter expression tree ([`filter::Expr`]), never as SQL text, so a
//! document store implements the same [`Connector`] trait as a SQL engine.
//! The catalog model ([`catalog`]) is what introspection produces and what the
//! HTTP layer validates requests against; [`ConnectorError`] carries a shared
//! [`ErrorKind`] that the HTTP layer maps to a status in one place.

pub mod catalog;
pub mod cells;
pub mod connector;
pub mod error;
pub mod export;
pub mod filter;
pub mod request;
pub mod value;

pub use catalog::{ApiType, Catalog, Column, ForeignKey, Related, Table, TableKind};
pub use connector::{Capabilities, ConnectionConfig, Connector, NullsOrder};
pub use error::{ConnectorError, ErrorKind};
pub use export::{ExportFormat, ExportStream};
pub use filter::{Expr, FilterError};
pub use request::{
    BatchMode, CountMode, DeleteRequest, InsertRequest, ItemOutcome, OrderBy, Record, Rows,
    SelectRequest, SelectResult, UpdateRequest, WriteItem,
};
