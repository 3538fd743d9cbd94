//! Services: parsing and masking their configs, opening them (connect +
//! introspect), and the registry requests look them up in. The registry is
//! reconciled with the system store by a sync loop, so a service registered on
//! one instance goes live on every instance sharing the store.

use crate::connectors;
use crate::error::{ApiError, ApiResult, Code};
use crate::system::secrets::Cipher;
use crate::system::store::{Store, StoredService};
use arc_swap::ArcSwap;
use gatehouse_core::{Catalog, ConnectionConfig, Connector, ConnectorError, ErrorKind};
use serde_json::{Map, Value, json};
use std::collections::HashMap;
use std::sync::{Arc, RwLock};

/// Settings read from a service's `config` object.
#[derive(Debug, Clone)]
pub struct Settings {
    pub connection: ConnectionConfig,
    pub max_records: u64,
}

const MASK: &str = "****";
const KNOWN_KEYS: &[&str] = &[
    "url",
    "schemas",
    "max_records",
    "pool_max",
    "read_only",
    "sample_size",
];

fn bad(msg: impl Into<String>) -> ApiError {
    ApiError::new(Code::InvalidConfig, msg)
}

pub fn parse_settings(
    config: &Map<String, Value>,
    default_max_records: u64,
) -> ApiResult<Settings> {
    if let Some(k) = config.keys().find(|k| !KNOWN_KEYS.contains(&k.as_str())) {
        return Err(bad(format!(
            "unknown config key '{k}' (known: {})",
            KNOWN_KEYS.join(", ")
        )));
    }
    let url = match config.get("url") {
        Some(Value::String(s)) if !s.trim().is_empty() => s.trim().to_string(),
        _ => return Err(bad("config.url is required: the connection string")),
    };
    let schemas = match config.get("schemas") {
        None | Some(Value::Null) => Vec::new(),
        Some(Value::Array(a)) => a
            .iter()
            .map(|v| v.as_str().filter(|s| !s.is_empty()).map(str::to_string))
            .collect::<Option<Vec<_>>>()
            .ok_or_else(|| bad("config.schemas must be a list of schema names"))?,
        Some(_) => return Err(bad("config.schemas must be a list of schema names")),
    };
    let int = |key: &str, default: u64, max: u64| -> ApiResult<u64> {
        match config.get(key) {
            None | Some(Value::Null) => Ok(default),
            Some(v) => v
                .as_u64()
                .filter(|n| (1..=max).contains(n))
                .ok_or_else(|| bad(format!("config.{key} must be an integer from 1 to {max}"))),
        }
    };
    let read_only = match config.get("read_only") {
        None | Some(Value::Null) => false,
        Some(Value::Bool(b)) => *b,
        Some(_) => return Err(bad("config.read_only must be true or false")),
    };
    Ok(Settings {
        connection: ConnectionConfig {
            url,
            schemas,
            pool_max: int("pool_max", 10, 1000)? as u32,
            read_only,
            sample_size: int("sample_size", 100, 100_000)? as u32,
        },
        max_records: int("max_records", default_max_records, 1_000_000)?,
    })
}

/// The connection string with its password (and secret-looking query values) masked.
pub fn mask_url(raw: &str) -> String {
    let Ok(mut u) = url::Url::parse(raw) else {
        // Not a URL we can read: show nothing of it rather than risk a secret.
        return if raw.contains('@') {
            MASK.into()
        } else {
            raw.into()
        };
    };
    if u.password().is_some() {
        let _ = u.set_password(Some(MASK));
    }
    let pairs: Vec<(String, String)> = u
        .query_pairs()
        .map(|(k, v)| {
            let secret = is_secret_key(&k);
            (
                k.into_owned(),
                if secret { MASK.into() } else { v.into_owned() },
            )
        })
        .collect();
    if !pairs.is_empty() {
        u.query_pairs_mut().clear().extend_pairs(pairs);
    }
    u.to_string()
}

fn is_secret_key(k: &str) -> bool {
    let k = k.to_ascii_lowercase();
    ["pass", "secret", "token", "key", "pwd"]
        .iter()
        .any(|s| k.contains(s))
}

/// A config as shown to clients: secrets masked.
pub fn mask_config(config: &Map<String, Value>) -> Map<String, Value> {
    config
        .iter()
        .map(|(k, v)| {
            let v = match (k.as_str(), v) {
                ("url", Value::String(s)) => Value::String(mask_url(s)),
                (k, _) if is_secret_key(k) => Value::String(MASK.into()),
                _ => v.clone(),
            };
            (k.clone(), v)
        })
        .collect()
}

/// Puts back secrets a client sent masked (a PATCH that echoes a GET).
pub fn unmask_config(new: &mut Map<String, Value>, old: &Map<String, Value>) {
    if let (Some(Value::String(n)), Some(Value::String(o))) = (new.get("url"), old.get("url"))
        && let (Ok(mut nu), Ok(ou)) = (url::Url::parse(n), url::Url::parse(o))
        && nu.password() == Some(MASK)
    {
        let _ = nu.set_password(ou.password());
        new.insert("url".into(), Value::String(nu.to_string()));
    }
}

/// A mounted service: its connector and its current catalog.
pub struct Service {
    pub name: String,
    pub kind: String,
    pub label: Option<String>,
    pub description: Option<String>,
    pub config: Map<String, Value>,
    pub settings: Settings,
    pub connector: Arc<dyn Connector>,
    catalog: ArcSwap<Catalog>,
    /// Declared in the configuration file (read-only through the API).
    pub declared: bool,
    pub version: i64,
}

impl Service {
    pub fn catalog(&self) -> Arc<Catalog> {
        self.catalog.load_full()
    }

    /// Re-introspects and swaps the new catalog in; requests in flight keep the old one.
    pub async fn refresh(&self) -> Result<(), ConnectorError> {
        let fresh = self.connector.introspect().await?;
        self.catalog.store(Arc::new(fresh));
        Ok(())
    }

    /// The service as the admin API shows it.
    pub fn describe(&self) -> Value {
        json!({
            "name": self.name,
            "type": self.kind,
            "label": self.label,
            "description": self.description,
            "config": mask_config(&self.config),
            "read_only_definition": self.declared,
        })
    }
}

/// What an admin (or the config file) asks to mount.
pub struct Definition {
    pub name: String,
    pub kind: String,
    pub label: Option<String>,
    pub description: Option<String>,
    pub config: Map<String, Value>,
}

/// Connects and introspects; on failure nothing is kept open.
pub async fn open(
    def: Definition,
    default_max_records: u64,
    declared: bool,
    version: i64,
) -> ApiResult<Service> {
    if !connectors::TYPES.contains(&def.kind.as_str()) {
        return Err(bad(format!(
            "unknown service type '{}' (known: {})",
            def.kind,
            connectors::TYPES.join(", ")
        )));
    }
    let settings = parse_settings(&def.config, default_max_records)?;
    let unreachable = |e: ConnectorError| {
        tracing::warn!(service = %def.name, detail = %e.detail, "service unreachable");
        let code = match e.kind {
            ErrorKind::InvalidInput => Code::InvalidConfig,
            ErrorKind::Unsupported => Code::NotImplemented,
            _ => Code::ServiceUnreachable,
        };
        ApiError::new(
            code,
            e.public
                .unwrap_or_else(|| "cannot connect to the database".into()),
        )
    };
    let connector = connectors::connect(&def.kind, &settings.connection)
        .await
        .map_err(unreachable)?;
    let catalog = match connector.introspect().await {
        Ok(c) => c,
        Err(e) => {
            connector.close().await;
            return Err(unreachable(ConnectorError {
                public: Some("connected, but reading the catalog failed".into()),
                ..e
            }));
        }
    };
    Ok(Service {
        name: def.name,
        kind: def.kind,
        label: def.label,
        description: def.description,
        config: def.config,
        settings,
        connector,
        catalog: ArcSwap::from_pointee(catalog),
        declared,
        version,
    })
}

pub enum Lookup {
    Live(Arc<Service>),
    /// Registered, but its database could not be reached when last tried.
    Down,
    Missing,
}

#[derive(Default)]
pub struct Registry {
    live: RwLock<HashMap<String, Arc<Service>>>,
    down: RwLock<HashMap<String, i64>>,
    /// Serialises admin changes with the sync loop.
    pub changes: tokio::sync::Mutex<()>,
}

impl Registry {
    pub fn get(&self, name: &str) -> Lookup {
        if let Some(s) = self.live.read().ok().and_then(|m| m.get(name).cloned()) {
            return Lookup::Live(s);
        }
        if self.down.read().is_ok_and(|m| m.contains_key(name)) {
            return Lookup::Down;
        }
        Lookup::Missing
    }

    pub fn all(&self) -> Vec<Arc<Service>> {
        let mut v: Vec<Arc<Service>> = self
            .live
            .read()
            .map(|m| m.values().cloned().collect())
            .unwrap_or_default();
        v.sort_by(|a, b| a.name.cmp(&b.name));
        v
    }

    /// Mounts (or replaces) a service; the replaced one is closed once its requests finish.
    pub fn mount(&self, s: Service) {
        let name = s.name.clone();
        if let Ok(mut d) = self.down.write() {
            d.remove(&name);
        }
        let old = self
            .live
            .write()
            .ok()
            .and_then(|mut m| m.insert(name, Arc::new(s)));
        if let Some(old) = old {
            close_later(old);
        }
    }

    pub fn unmount(&self, name: &str) {
        if let Ok(mut d) = self.down.write() {
            d.remove(name);
        }
        let old = self.live.write().ok().and_then(|mut m| m.remove(name));
        if let Some(old) = old {
            close_later(old);
        }
    }

    fn mark_down(&self, name: &str, version: i64) {
        if let Ok(mut d) = self.down.write() {
            d.insert(name.to_string(), version);
        }
    }

    /// Brings the registry in line with the system store: mounts new and changed
    /// services, unmounts deleted ones, retries those that were down.
    pub async fn sync(
        &self,
        store: &Store,
        cipher: &Cipher,
        default_max_records: u64,
    ) -> Result<(), sqlx::Error> {
        let _guard = self.changes.lock().await;
        let versions: HashMap<String, i64> = store.versions().await?.into_iter().collect();
        let live: HashMap<String, (i64, bool)> = self
            .live
            .read()
            .map(|m| {
                m.iter()
                    .map(|(k, s)| (k.clone(), (s.version, s.declared)))
                    .collect()
            })
            .unwrap_or_default();
        for (name, (_, declared)) in &live {
            if !declared && !versions.contains_key(name) {
                tracing::info!(service = %name, "service removed from the system store; unmounting");
                self.unmount(name);
            }
        }
        let down: HashMap<String, i64> = self.down.read().map(|d| d.clone()).unwrap_or_default();
        if let Ok(mut d) = self.down.write() {
            d.retain(|name, _| versions.contains_key(name));
        }
        let stale: Vec<&String> = versions
            .iter()
            .filter(|(n, v)| match live.get(*n) {
                Some((lv, declared)) => !declared && lv != *v,
                None => true,
            })
            .map(|(n, _)| n)
            .collect();
        if stale.is_empty() {
            return Ok(());
        }
        for s in store.services().await? {
            if !stale.contains(&&s.name) {
                continue;
            }
            let def = match decode(&s, cipher) {
                Ok(d) => d,
                Err(e) => {
                    tracing::error!(service = %s.name, "cannot read stored service: {e}");
                    self.mark_down(&s.name, s.version);
                    continue;
                }
            };
            match open(def, default_max_records, false, s.version).await {
                Ok(svc) => {
                    tracing::info!(service = %s.name, "service mounted");
                    self.mount(svc);
                }
                Err(e) => {
                    if !down.contains_key(&s.name) {
                        tracing::warn!(service = %s.name, "cannot mount service: {}", e.message);
                    }
                    self.mark_down(&s.name, s.version);
                }
            }
        }
        Ok(())
    }
}

/// Decrypts a stored service into a definition.
pub fn decode(s: &StoredService, cipher: &Cipher) -> Result<Definition, String> {
    let plain = cipher
        .decrypt(&s.config_sealed)
        .map_err(|e| e.to_string())?;
    let config: Map<String, Value> =
        serde_json::from_slice(&plain).map_err(|e| format!("stored config is not JSON: {e}"))?;
    Ok(Definition {
        name: s.name.clone(),
        kind: s.kind.clone(),
        label: s.label.clone(),
        description: s.description.clone(),
        config,
    })
}

fn close_later(s: Arc<Service>) {
    // Requests holding the service keep it alive; close the pool when they are done.
    tokio::spawn(async move {
        let mut s = s;
        loop {
            match Arc::try_unwrap(s) {
                Ok(svc) => {
                    svc.connector.close().await;
                    return;
                }
                Err(still) => {
                    s = still;
                    tokio::time::sleep(std::time::Duration::from_millis(200)).await;
                }
            }
        }
    });
}

const RESERVED: &[&str] = &["system", "user", "v2", "api", "_spec", "docs"];

/// Service names are URL path segments: lower-case letters, digits, `_` and `-`.
pub fn check_name(name: &str) -> ApiResult<()> {
    let ok = !name.is_empty()
        && name.len() <= 64
        && name
            .chars()
            .all(|c| c.is_ascii_lowercase() || c.is_ascii_digit() || c == '_' || c == '-')
        && !name.starts_with('-');
    if !ok {
        return Err(ApiError::new(
            Code::InvalidConfig,
            "a service name is 1-64 characters of a-z, 0-9, '_' and '-'",
        ));
    }
    if RESERVED.contains(&name) {
        return Err(ApiError::new(
            Code::InvalidConfig,
            format!("'{name}' is a reserved name"),
        ));
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn masking() {
        assert_eq!(
            mask_url("postgres://app:s3cret@db:5432/x?sslmode=require&password=p"),
            "postgres://app:****@db:5432/x?sslmode=require&password=****"
        );
        assert_eq!(mask_url("sqlite:///tmp/a.db"), "sqlite:///tmp/a.db");
        assert_eq!(mask_url("not a url user:pw@host"), "****");
        let cfg = json!({"url": "postgres://a:b@h/d", "api_token": "t", "pool_max": 3});
        let masked = mask_config(cfg.as_object().unwrap_or(&Map::new()));
        assert_eq!(
            Value::Object(masked),
            json!({"url": "postgres://a:****@h/d", "api_token": "****", "pool_max": 3})
        );
        let mut new = json!({"url": "postgres://a:****@h2/d"})
            .as_object()
            .cloned()
            .unwrap_or_default();
        unmask_config(&mut new, cfg.as_object().unwrap_or(&Map::new()));
        assert_eq!(new["url"], "postgres://a:b@h2/d");
    }
}
