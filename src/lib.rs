//! Gatehouse: any database as a secure, documented REST API.
//!
//! [`start`] turns a [`Config`] into a running application state and router.
//! The road of a request is in `http::table::handle`; docs/ARCHITECTURE.md is the map.

pub mod auth;
pub mod config;
pub mod connectors;
pub mod demo;
pub mod http;
pub mod query;
pub mod state;
pub mod system;

pub use config::Config;

use state::AppState;
use std::sync::Arc;
use system::secrets::{Cipher, hash_key, new_key};
use system::services::{Definition, open};
use system::store::Store;

#[derive(Debug, thiserror::Error)]
pub enum StartError {
    #[error("cannot create the data directory {0}: {1}")]
    DataDir(String, std::io::Error),
    #[error(transparent)]
    Secret(#[from] system::secrets::SecretError),
    #[error("cannot open the system store: {0}")]
    Store(#[from] sqlx::Error),
    #[error("declared service '{0}': {1}")]
    Declared(String, String),
}

/// Secrets that start-up may take from the environment.
#[derive(Debug, Default, Clone)]
pub struct Bootstrap {
    /// `GATEHOUSE_ADMIN_KEY`
    pub admin_key: Option<String>,
    /// `GATEHOUSE_SECRET_KEY`
    pub secret_key: Option<String>,
}

pub struct App {
    pub state: Arc<AppState>,
    pub router: axum::Router,
    /// A newly generated admin key, to print once.
    pub generated_admin_key: Option<String>,
}

const ADMIN_KEY_SETTING: &str = "admin_key_sha256";

/// Opens the data directory and system store, mounts declared and stored
/// services, and builds the router.
pub async fn start(config: Config, boot: Bootstrap) -> Result<App, StartError> {
    let dir = &config.data_dir.clone();
    std::fs::create_dir_all(dir).map_err(|e| StartError::DataDir(dir.display().to_string(), e))?;
    let cipher = Cipher::load(boot.secret_key.as_deref(), dir)?;
    let store = Store::open(dir).await?;

    let mut generated_admin_key = None;
    let admin_key_hash = match &boot.admin_key {
        Some(k) => hash_key(k),
        None => match store.setting(ADMIN_KEY_SETTING).await? {
            // The demo prints a key each start, so it cannot reuse one only its hash is known of.
            Some(h) if !config.demo => h,
            _ => {
                let key = new_key("gh_");
                let h = hash_key(&key);
                store.set_setting(ADMIN_KEY_SETTING, &h).await?;
                generated_admin_key = Some(key);
                h
            }
        },
    };

    let state = Arc::new(AppState {
        registry: Default::default(),
        config,
        store,
        cipher,
        admin_key_hash,
    });

    let mut declared: Vec<Definition> = state
        .config
        .services
        .iter()
        .map(|d| Definition {
            name: d.name.clone(),
            kind: d.kind.clone(),
            label: d.label.clone(),
            description: d.description.clone(),
            config: d.config.clone(),
        })
        .collect();
    if state.config.demo {
        let path = demo::ensure(dir)
            .await
            .map_err(|e| StartError::Declared("demo".into(), e.to_string()))?;
        declared.push(demo::definition(&path));
    }
    for def in declared {
        let name = def.name.clone();
        system::admin::check_name(&name)
            .map_err(|e| StartError::Declared(name.clone(), e.message.clone()))?;
        let svc = open(def, state.config.default_max_records, true, 0)
            .await
            .map_err(|e| StartError::Declared(name.clone(), e.message))?;
        state.registry.mount(svc);
    }
    state.sync_services().await?;

    let router = http::router(state.clone());
    Ok(App {
        state,
        router,
        generated_admin_key,
    })
}

/// Keeps this instance's services in line with the shared system store.
pub fn spawn_sync(state: Arc<AppState>) -> tokio::task::JoinHandle<()> {
    tokio::spawn(async move {
        let every = std::time::Duration::from_secs(state.config.sync_interval_secs.max(1));
        loop {
            tokio::time::sleep(every).await;
            if let Err(e) = state.sync_services().await {
                tracing::warn!("service sync with the system store failed: {e}");
            }
        }
    })
}
