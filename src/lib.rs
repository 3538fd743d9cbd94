//! Gatehouse: any database as a secure, documented REST API.
//!
//! [`start`] turns a [`Config`] into a running application state and router.
//! The road of a request is in `http::table::handle`; docs/ARCHITECTURE.md is the map.

pub mod auth;
pub mod config;
pub mod connectors;
pub mod demo;
pub mod error;
pub mod hooks;
pub mod http;
pub mod limits;
pub mod openapi;
pub mod query;
pub mod rbac;
pub mod serve;
pub mod state;
pub mod system;
pub mod watch;

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
    #[error("configuration: {0}")]
    Config(String),
    #[error("cannot create the first admin: {0}")]
    FirstAdmin(String),
}

/// Secrets that start-up may take from the environment.
#[derive(Debug, Default, Clone)]
pub struct Bootstrap {
    /// `GATEHOUSE_ADMIN_KEY`: an API key with the admin role, for automation.
    pub admin_key: Option<String>,
    /// `GATEHOUSE_SECRET_KEY`
    pub secret_key: Option<String>,
    /// `GATEHOUSE_JWT_SECRET`
    pub jwt_secret: Option<String>,
    /// `GATEHOUSE_ADMIN_EMAIL` and `GATEHOUSE_ADMIN_PASSWORD`: the first admin user.
    pub admin_email: Option<String>,
    pub admin_password: Option<String>,
}

pub struct App {
    pub state: Arc<AppState>,
    pub router: axum::Router,
    /// The demo's admin API key, made anew at each start, to print.
    pub generated_admin_key: Option<String>,
    /// The first admin's email and generated password, to print once.
    pub generated_admin: Option<(String, String)>,
}

/// Creates the first admin user when the store has no users.
async fn first_admin(
    store: &Store,
    boot: &Bootstrap,
) -> Result<Option<(String, String)>, StartError> {
    if store.count_users().await? > 0 {
        return Ok(None);
    }
    let email = boot
        .admin_email
        .clone()
        .unwrap_or_else(|| "admin@localhost".into())
        .trim()
        .to_lowercase();
    let (password, generated) = match &boot.admin_password {
        Some(p) => (p.clone(), false),
        None => (new_key("").chars().take(24).collect::<String>(), true),
    };
    let hash = auth::password::hash(password.clone())
        .await
        .ok_or_else(|| StartError::FirstAdmin("the password could not be hashed".into()))?;
    let change = system::store::UserChange {
        email: Some(email.clone()),
        name: Some(Some("Administrator".into())),
        password_hash: Some(hash),
        role: Some(auth::ADMIN.into()),
        active: Some(true),
    };
    store.insert_user(&change).await?;
    tracing::info!(%email, "first admin user created");
    Ok(generated.then_some((email, password)))
}

/// Opens the data directory and system store, mounts declared and stored
/// services, and builds the router.
pub async fn start(config: Config, boot: Bootstrap) -> Result<App, StartError> {
    let dir = &config.data_dir.clone();
    std::fs::create_dir_all(dir).map_err(|e| StartError::DataDir(dir.display().to_string(), e))?;
    let cipher = Cipher::load(boot.secret_key.as_deref(), dir)?;
    let tokens = auth::token::Tokens::load(boot.jwt_secret.as_deref(), dir)?;
    let store = Store::open(
        dir,
        std::time::Duration::from_millis(config.auth.credential_cache_ms),
    )
    .await?;
    let limits = limits::Limits::new(&config.rate_limits).map_err(StartError::Config)?;
    let generated_admin = first_admin(&store, &boot).await?;

    // The demo prints a key to try at each start; it cannot reprint one it only has the hash of.
    let mut generated_admin_key = None;
    let admin_key_hash = match &boot.admin_key {
        Some(k) => Some(hash_key(k)),
        None if config.demo => {
            let key = new_key("gh_");
            let h = hash_key(&key);
            generated_admin_key = Some(key);
            Some(h)
        }
        None => None,
    };
    let policy = Arc::new(rbac::Policy::load(&config.policies_dir).await);
    {
        let policy = policy.clone();
        watch::spawn(policy.dir.clone(), "policy", move || {
            let policy = policy.clone();
            async move {
                policy.reload_when_settled().await;
            }
        });
    }

    let hooks = Arc::new(hooks::Hooks::load(
        &config.scripts_dir,
        config.scripting.limits(),
    ));
    {
        let hooks = hooks.clone();
        watch::spawn(hooks.dir.clone(), "scripts", move || {
            let hooks = hooks.clone();
            async move {
                hooks.reload_files();
            }
        });
    }

    let state = Arc::new(AppState {
        registry: Default::default(),
        config,
        store,
        cipher,
        admin_key_hash,
        tokens,
        policy,
        limits,
        hooks,
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
        system::services::check_name(&name)
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
        generated_admin,
    })
}

/// Keeps this instance's services in line with the shared system store,
/// and prunes the rate limiter's buckets every minute.
pub fn spawn_sync(state: Arc<AppState>) -> tokio::task::JoinHandle<()> {
    {
        let state = state.clone();
        tokio::spawn(async move {
            loop {
                tokio::time::sleep(std::time::Duration::from_mins(1)).await;
                state.limits.prune();
            }
        });
    }
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
