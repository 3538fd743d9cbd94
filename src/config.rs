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
    /// Which requests the access log records.
    pub access_log: AccessLog,
    /// Seconds between checks of the system store for services changed by other instances.
    pub sync_interval_secs: u64,
    /// Mount the bundled demo database as service `demo`.
    pub demo: bool,
    /// Services declared here are read-only through the admin API.
    pub services: Vec<ServiceDecl>,
    pub auth: AuthConfig,
    pub cors: CorsConfig,
    pub rate_limits: Vec<RateLimit>,
    pub scripting: ScriptingConfig,
    pub limits: RequestLimits,
    pub server: ServerConfig,
}

/// Which answered requests get an access log line (target `gatehouse::access`).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Deserialize, clap::ValueEnum)]
#[serde(rename_all = "lowercase")]
pub enum AccessLog {
    /// Every request.
    All,
    /// Requests answered 4xx or 5xx.
    Errors,
    /// None.
    Off,
}

impl AccessLog {
    /// The log filter directive that lets these lines through.
    pub fn directive(self) -> &'static str {
        match self {
            AccessLog::All => "gatehouse::access=info",
            AccessLog::Errors => "gatehouse::access=warn",
            AccessLog::Off => "gatehouse::access=off",
        }
    }
}

/// Hook scripts (docs/API.md §7): the limits of each call.
#[derive(Debug, Clone, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct ScriptingConfig {
    /// Longest a script call may run.
    pub time_limit_ms: u64,
    /// Most memory a script call may use.
    pub memory_limit_mb: usize,
}

impl Default for ScriptingConfig {
    fn default() -> Self {
        Self {
            time_limit_ms: 100,
            memory_limit_mb: 32,
        }
    }
}

impl ScriptingConfig {
    pub fn limits(&self) -> crate::hooks::engine::Limits {
        crate::hooks::engine::Limits {
            time: std::time::Duration::from_millis(self.time_limit_ms.max(1)),
            memory: self.memory_limit_mb.max(1) * 1024 * 1024,
        }
    }
}

/// How large one request's parameters may be (docs/CONFIGURATION.md). Each
/// bounds the work a single request can give a database; the defaults are far
/// above what a real client sends. Beyond one: 400 naming it.
#[derive(Debug, Clone, Copy, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct RequestLimits {
    /// Characters of `filter` text.
    pub max_filter_length: usize,
    /// Nesting of parentheses and `NOT`s in a filter.
    pub max_filter_depth: usize,
    /// Conditions in a filter.
    pub max_filter_terms: usize,
    /// Values written in a filter (each value of an `IN` list counts).
    pub max_filter_values: usize,
    /// Entries of `ids`.
    pub max_ids: usize,
    /// Names in `fields`.
    pub max_fields: usize,
    /// Terms of `order`.
    pub max_order: usize,
}

impl Default for RequestLimits {
    fn default() -> Self {
        let f = gatehouse_core::filter::Limits::default();
        Self {
            max_filter_length: f.max_length,
            max_filter_depth: f.max_depth,
            max_filter_terms: f.max_terms,
            max_filter_values: f.max_values,
            max_ids: 1000,
            max_fields: 1000,
            max_order: 32,
        }
    }
}

impl RequestLimits {
    pub fn filter(&self) -> gatehouse_core::filter::Limits {
        gatehouse_core::filter::Limits {
            max_length: self.max_filter_length,
            max_depth: self.max_filter_depth,
            max_terms: self.max_filter_terms,
            max_values: self.max_filter_values,
        }
    }
}

/// The HTTP server's guards against connections that hold resources without
/// finishing requests (docs/CONFIGURATION.md).
#[derive(Debug, Clone, Copy, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct ServerConfig {
    /// A connection must send a request's complete headers within this time
    /// of opening or of its previous answer, or it is closed.
    pub header_timeout_secs: u64,
    /// A keep-alive connection with no request in flight is closed after this long.
    pub idle_timeout_secs: u64,
    /// Most client connections open at once; 0: derived from the process's
    /// file-descriptor limit, leaving room for database pools and files.
    pub max_connections: usize,
}

impl Default for ServerConfig {
    fn default() -> Self {
        Self {
            header_timeout_secs: 10,
            idle_timeout_secs: 60,
            max_connections: 0,
        }
    }
}

/// Sessions (docs/API.md §6).
#[derive(Debug, Clone, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct AuthConfig {
    /// Lifetime of a session token.
    pub session_ttl_secs: u64,
    /// How long after login a session may still be refreshed (`PUT /api/user/session`),
    /// even with an expired token.
    pub refresh_ttl_secs: u64,
    /// Shortest password accepted for a user.
    pub min_password_length: usize,
    /// How long a resolved API key or session is remembered, in milliseconds
    /// (0: look it up in the system store on every request). A revoked key or a
    /// logout takes effect on other instances within this time.
    pub credential_cache_ms: u64,
}

impl Default for AuthConfig {
    fn default() -> Self {
        Self {
            session_ttl_secs: 24 * 3600,
            refresh_ttl_secs: 14 * 24 * 3600,
            min_password_length: 8,
            credential_cache_ms: 1000,
        }
    }
}

/// Cross-origin requests (docs/API.md §9). Off unless origins are listed.
#[derive(Debug, Clone, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct CorsConfig {
    /// Allowed origins (`https://app.example.com`), or `["*"]` for any.
    pub origins: Vec<String>,
    /// Request headers allowed beyond the CORS-safelisted ones.
    pub headers: Vec<String>,
    pub methods: Vec<String>,
    /// Allow cookies and `Authorization` on cross-origin requests (not with `*`).
    pub credentials: bool,
    pub max_age_secs: u64,
}

impl Default for CorsConfig {
    fn default() -> Self {
        Self {
            origins: Vec::new(),
            headers: [
                "content-type",
                "authorization",
                "x-api-key",
                "x-dreamfactory-api-key",
                "x-dreamfactory-session-token",
                "x-http-method",
                "x-request-id",
            ]
            .map(String::from)
            .to_vec(),
            methods: ["GET", "POST", "PUT", "PATCH", "DELETE"]
                .map(String::from)
                .to_vec(),
            credentials: false,
            max_age_secs: 600,
        }
    }
}

/// One `[[rate_limits]]` table (docs/API.md §10).
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct RateLimit {
    pub scope: LimitScope,
    /// Which role / user email / app name / service; omitted: each one separately
    /// (for `instance`, the whole instance).
    #[serde(default)]
    pub name: Option<String>,
    pub limit: u32,
    pub per: LimitPeriod,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum LimitScope {
    Instance,
    Role,
    User,
    ApiKey,
    Service,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum LimitPeriod {
    Second,
    Minute,
    Hour,
    Day,
}

impl LimitPeriod {
    pub fn seconds(self) -> u64 {
        match self {
            LimitPeriod::Second => 1,
            LimitPeriod::Minute => 60,
            LimitPeriod::Hour => 3600,
            LimitPeriod::Day => 86_400,
        }
    }
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
            access_log: AccessLog::Errors,
            sync_interval_secs: 2,
            demo: false,
            services: Vec::new(),
            auth: AuthConfig::default(),
            cors: CorsConfig::default(),
            rate_limits: Vec::new(),
            scripting: ScriptingConfig::default(),
            limits: RequestLimits::default(),
            server: ServerConfig::default(),
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

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_example_file_and_the_policy_keys_parse() {
        let example = Path::new(env!("CARGO_MANIFEST_DIR")).join("gatehouse.example.toml");
        let c = Config::from_file(&example).unwrap_or_else(|e| panic!("{e}"));
        assert_eq!(c.auth.session_ttl_secs, 86_400);
        let c: Config = toml::from_str(
            r#"
            [cors]
            origins = ["https://app.example.com"]
            [[rate_limits]]
            scope = "api_key"
            name = "dashboard"
            limit = 10
            per = "hour"
            [[rate_limits]]
            scope = "instance"
            limit = 5000
            per = "second"
            "#,
        )
        .unwrap_or_else(|e| panic!("{e}"));
        assert_eq!(c.cors.origins, ["https://app.example.com"]);
        assert_eq!(c.rate_limits[0].scope, LimitScope::ApiKey);
        assert_eq!(c.rate_limits[1].per.seconds(), 1);
        assert_eq!(c.access_log, AccessLog::Errors);
        let c: Config = toml::from_str("access_log = \"all\"").unwrap_or_else(|e| panic!("{e}"));
        assert_eq!(c.access_log.directive(), "gatehouse::access=info");
        assert!(toml::from_str::<Config>("access_log = \"some\"").is_err());
        assert!(
            toml::from_str::<Config>(
                "[[rate_limits]]\nscope = \"planet\"\nlimit = 1\nper = \"day\""
            )
            .is_err()
        );
    }
}
