//! The state every request shares.

use crate::auth::token::Tokens;
use crate::config::Config;
use crate::error::{ApiError, ApiResult, Code};
use crate::hooks::Hooks;
use crate::limits::Limits;
use crate::rbac::Policy;
use crate::system::secrets::Cipher;
use crate::system::services::{Lookup, Registry, Service};
use crate::system::store::Store;
use std::sync::Arc;

pub struct AppState {
    pub config: Config,
    pub store: Store,
    pub cipher: Cipher,
    pub registry: Registry,
    /// SHA-256 of the bootstrap admin key (`GATEHOUSE_ADMIN_KEY`, or the demo's).
    pub admin_key_hash: Option<String>,
    pub tokens: Tokens,
    pub policy: Arc<Policy>,
    pub limits: Limits,
    pub hooks: Arc<Hooks>,
}

impl AppState {
    /// The live service `name`: 404 if unknown, 503 if registered but unreachable.
    pub fn service(&self, name: &str) -> ApiResult<Arc<Service>> {
        match self.registry.get(name) {
            Lookup::Live(s) => Ok(s),
            Lookup::Down => Err(ApiError::new(
                Code::Unavailable,
                format!("service '{name}' cannot reach its database; try again shortly"),
            )),
            Lookup::Missing => Err(ApiError::not_found(format!("service '{name}' not found"))),
        }
    }

    /// Takes what other instances changed in the shared system store:
    /// services and hook scripts.
    pub async fn sync_services(&self) -> Result<(), sqlx::Error> {
        self.registry
            .sync(&self.store, &self.cipher, self.config.default_max_records)
            .await?;
        self.hooks.reload_records(&self.store).await
    }
}
