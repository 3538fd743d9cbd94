//! The connector factories, by service type. Adding an engine means one arm here
//! (see docs/ARCHITECTURE.md, "Adding a connector").

use gatehouse_core::{ConnectionConfig, Connector, ConnectorError, ErrorKind};
use std::sync::Arc;

/// Service types the API accepts.
pub const TYPES: &[&str] = &["postgres", "mysql", "sqlite", "sqlserver", "mongodb"];

pub async fn connect(
    kind: &str,
    cfg: &ConnectionConfig,
) -> Result<Arc<dyn Connector>, ConnectorError> {
    match kind {
        "sqlite" => gatehouse_sqlite::connect(cfg).await,
        "postgres" => gatehouse_postgres::connect(cfg).await,
        "mysql" => gatehouse_mysql::connect(cfg).await,
        "mongodb" => gatehouse_mongodb::connect(cfg).await,
        "sqlserver" => gatehouse_sqlserver::connect(cfg).await,
        _ => Err(ConnectorError::public(
            ErrorKind::Unsupported,
            format!("service type '{kind}' is not available in this build"),
        )),
    }
}
