//! Configuration: a TOML file (see docs/CONFIGURATION.md) with command-line and
//! `GATEHOUSE_*` environment overrides applied by `main`.

use serde::Deserialize;
use serde_json::{Map, Value};
use std::net::SocketAddr;
use std::path::{Path, PathBuf};

#[derive(Debug, Clone, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct Config {
    /// Address to listen on.
    pub listen: SocketAddr,
    /// Where the system store, the secret key and the demo database live.
    pub data_dir: PathBuf,
    pub policies_dir: PathBuf,
    pub scripts_dir: PathBuf,
    /// Largest accepted request body, in bytes.
    pub max_body_bytes: usize,
    /// Page size cap for services that do not set `max_records`.
    pub default_max_records: u64,
    /// `text` or `json`.
    pub log_format: String,
    /// Seconds between checks of the system store for services changed by other instances.
    pub sync_interval_secs: u64,
    /// Mount the bundled demo database as service `demo`.
    pub demo: bool,
    /// Services declared here are read-only through the admin API.
    pub services: Vec<ServiceDecl>,
}

#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ServiceDecl {
    pub name: String,
    #[serde(rename = "type")]
    pub kind: String,
    #[serde(default)]
    pub label: Option<String>,
    #[serde(default)]
    pub description: Option<String>,
    pub config: Map<String, Value>,
}

impl Default for Config {
    fn default() -> Self {
        Self {
            listen: SocketAddr::from(([127, 0, 0, 1], 8080)),
            data_dir: PathBuf::from("./gatehouse-data"),
            policies_dir: PathBuf::from("./policies"),
            scripts_dir: PathBuf::from("./scripts"),
            max_body_bytes: 10 * 1024 * 1024,
            default_max_records: 1000,
            log_format: "text".into(),
            sync_interval_secs: 2,
            demo: false,
            services: Vec::new(),
        }
    }
}

impl Config {
    pub fn from_file(path: &Path) -> Result<Config, String> {
        let text = std::fs::read_to_string(path)
            .map_err(|e| format!("cannot read {}: {e}", path.display()))?;
        toml::from_str(&text)
            .map_err(|e| format!("invalid configuration in {}: {e}", path.display()))
    }
}
