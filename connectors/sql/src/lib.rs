//! SQL for Gatehouse: a small AST ([`ast`]), one printer per dialect
//! ([`dialect`]), the translation of connector requests into that AST
//! ([`translate`]), and [`SqlConnector`], which implements the `Connector`
//! trait once for every SQL engine on top of a thin [`SqlDriver`].
//!
//! Values only ever enter SQL text as placeholders; identifiers come from the
//! introspected catalog and are quoted by the dialect.

pub mod ast;
pub mod connector;
pub mod convert;
pub mod dialect;
pub mod translate;

pub use ast::{OutCol, Output, Query, SqlType, SqlValue};
pub use connector::{Executed, SqlConnector, SqlDriver, SqlTransaction};
pub use dialect::{Dialect, MySql, Postgres, ReturningStyle, SqlServer, Sqlite};
#[cfg(feature = "sqlx")]
pub mod pool;
#[cfg(feature = "sqlx")]
pub mod sqlx_support;
