//! All test infrastructure: real databases per test, the app in-process, and
//! a JSON-aware request helper. Every test owns its data: a fresh SQLite file
//! or a fresh PostgreSQL database loaded from `tests/fixtures/`.
#![allow(dead_code, clippy::unwrap_used, clippy::expect_used, clippy::panic)]

use axum::Router;
use axum::body::Body;
use axum::http::{HeaderMap, Method, Request, StatusCode};
use gatehouse::{App, Bootstrap, Config};
use http_body_util::BodyExt;
use serde_json::{Value, json};
use sqlx::Connection;
use std::path::PathBuf;
use tower::ServiceExt;

pub const ADMIN_KEY: &str = "test-admin-key-0123456789";

/// One test per engine for each `name => run`: a module `name` with a test
/// per engine, each awaiting `run(engine)`. The one list of engines the
/// per-engine suites (conformance, hardening) run on; a new engine is added
/// here. SQL Server runs only with GATEHOUSE_TEST_SQLSERVER_URL (a real
/// server; docker/compose.yaml).
macro_rules! every_engine {
    ($($name:ident => $run:expr),* $(,)?) => {$(
        mod $name {
            use super::*;
            #[tokio::test]
            async fn sqlite() {
                ($run)(Engine::Sqlite).await
            }
            #[tokio::test]
            async fn postgres() {
                ($run)(Engine::Postgres).await
            }
            #[tokio::test]
            async fn mysql() {
                ($run)(Engine::MySql).await
            }
            #[tokio::test]
            async fn sqlserver() {
                ($run)(Engine::SqlServer).await
            }
            #[tokio::test]
            async fn mongodb() {
                ($run)(Engine::MongoDb).await
            }
            #[tokio::test]
            async fn mongodb_nx() {
                ($run)(Engine::MongoNx).await
            }
        }
    )*};
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Engine {
    Sqlite,
    Postgres,
    MySql,
    /// SecantusDB, a MongoDB wire-protocol server.
    MongoDb,
    /// NX-27017, a second (quirkier) MongoDB wire-protocol server.
    MongoNx,
    /// A real SQL Server, only when GATEHOUSE_TEST_SQLSERVER_URL names one
    /// (none can run on the CI machine; see docker/compose.yaml).
    SqlServer,
}

impl Engine {
    /// The service type, and the key of per-engine expectations in the conformance cases.
    pub fn name(self) -> &'static str {
        match self {
            Engine::Sqlite => "sqlite",
            Engine::Postgres => "postgres",
            Engine::MySql => "mysql",
            Engine::MongoDb | Engine::MongoNx => "mongodb",
            Engine::SqlServer => "sqlserver",
        }
    }

    /// The server, where one type runs on several (`mongodb-nx`).
    pub fn label(self) -> &'static str {
        match self {
            Engine::MongoNx => "mongodb-nx",
            e => e.name(),
        }
    }

    pub fn is_mongo(self) -> bool {
        matches!(self, Engine::MongoDb | Engine::MongoNx)
    }
}

/// A database of its own for one test, loaded with the conformance fixture.
pub struct TestDb {
    pub engine: Engine,
    /// The connection string a service is registered with.
    pub url: String,
    _dir: Option<tempfile::TempDir>,
}

fn required() -> bool {
    std::env::var("GATEHOUSE_TEST_REQUIRE_ALL").is_ok_and(|v| v == "1")
}

/// The URL of a running server for `engine`, or `None` when the test should be
/// skipped (CI sets GATEHOUSE_TEST_REQUIRE_ALL=1, which turns a skip into a failure).
pub fn server_url(engine: Engine) -> Option<String> {
    if engine == Engine::SqlServer {
        // optional even in CI: no SQL Server can be installed there
        return std::env::var("GATEHOUSE_TEST_SQLSERVER_URL")
            .ok()
            .filter(|u| !u.is_empty());
    }
    env_url(match engine {
        Engine::Sqlite => return Some(String::new()),
        Engine::Postgres => "GATEHOUSE_TEST_POSTGRES_URL",
        Engine::MySql => "GATEHOUSE_TEST_MYSQL_URL",
        Engine::MongoDb => "GATEHOUSE_TEST_MONGODB_URL",
        Engine::MongoNx => "GATEHOUSE_TEST_MONGODB2_URL",
        Engine::SqlServer => "GATEHOUSE_TEST_SQLSERVER_URL",
    })
}

/// The URL in `var`; unset is a skip, or a failure when every server is required.
pub fn env_url(var: &str) -> Option<String> {
    match std::env::var(var) {
        Ok(u) if !u.is_empty() => Some(u),
        _ if required() => panic!(
            "{var} is not set: run the tests with tools/test.sh, which starts the database servers"
        ),
        _ => {
            eprintln!("skipping: {var} is not set (tools/test.sh starts the servers)");
            None
        }
    }
}

/// Runs `sql` (several statements) over a fresh sqlx connection of type `$conn`.
macro_rules! sqlx_exec {
    ($conn:ty, $url:expr, $sql:expr) => {{
        let mut c = <$conn>::connect($url).await.unwrap();
        sqlx::raw_sql(sqlx::AssertSqlSafe($sql.to_string()))
            .execute(&mut c)
            .await
            .unwrap();
        c.close().await.unwrap();
    }};
}

fn fixture(engine: Engine) -> String {
    let file = if engine.is_mongo() {
        "mongodb.json".to_string()
    } else {
        format!("{}.sql", engine.name())
    };
    let path = PathBuf::from(env!("CARGO_MANIFEST_DIR")).join(format!("tests/fixtures/{file}"));
    std::fs::read_to_string(path).unwrap()
}

/// A fresh database with `sql` loaded (the conformance fixture by default).
pub async fn fresh_db(engine: Engine, sql: Option<&str>) -> Option<TestDb> {
    let server = server_url(engine)?;
    let sql = sql.map_or_else(|| fixture(engine), str::to_string);
    let db = if engine == Engine::Sqlite {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("test.sqlite");
        // an empty file is an empty SQLite database
        std::fs::File::create(&path).unwrap();
        let url = format!("sqlite://{}", path.display());
        TestDb {
            engine,
            url,
            _dir: Some(dir),
        }
    } else {
        // a database of its own on the shared server
        let name = format!("gh_{}", uuid::Uuid::new_v4().simple());
        let create = format!("CREATE DATABASE {name}");
        match engine {
            Engine::Postgres => sqlx_exec!(sqlx::PgConnection, &server, create),
            Engine::MySql => sqlx_exec!(sqlx::MySqlConnection, &server, create),
            Engine::SqlServer => mssql_batch(&server, &create).await,
            // a MongoDB database comes into being with its first write
            Engine::MongoDb | Engine::MongoNx | Engine::Sqlite => {}
        }
        let mut u = url::Url::parse(&server).unwrap();
        u.set_path(&name);
        TestDb {
            engine,
            url: u.to_string(),
            _dir: None,
        }
    };
    db.exec(&sql).await;
    Some(db)
}

impl TestDb {
    /// Runs SQL directly against the test database (setup and checks behind
    /// the API's back). For MongoDB, `sql` is a fixture document:
    /// `{"collections": {name: [extended JSON documents]}, "unique": {name: [fields]}}`.
    pub async fn exec(&self, sql: &str) {
        match self.engine {
            Engine::SqlServer => {
                for batch in sql.split("\nGO\n") {
                    mssql_batch(&self.url, batch).await;
                }
            }
            Engine::MongoDb | Engine::MongoNx => {
                use mongodb::bson::{Bson, Document, doc};
                let client = mongodb::Client::with_uri_str(&self.url).await.unwrap();
                let db = client.default_database().unwrap();
                let fixture: Value = serde_json::from_str(sql).unwrap();
                for (name, docs) in fixture["collections"].as_object().unwrap() {
                    let docs: Vec<Document> = docs
                        .as_array()
                        .unwrap()
                        .iter()
                        .map(|d| match Bson::try_from(d.clone()).unwrap() {
                            Bson::Document(d) => d,
                            other => panic!("not a document: {other}"),
                        })
                        .collect();
                    db.collection::<Document>(name)
                        .insert_many(docs)
                        .await
                        .unwrap();
                }
                if let Some(unique) = fixture.get("unique").and_then(Value::as_object) {
                    for (name, fields) in unique {
                        for f in fields.as_array().unwrap() {
                            let model = mongodb::IndexModel::builder()
                                .keys(doc! {f.as_str().unwrap(): 1})
                                .options(
                                    mongodb::options::IndexOptions::builder()
                                        .unique(true)
                                        .build(),
                                )
                                .build();
                            db.collection::<Document>(name)
                                .create_index(model)
                                .await
                                .unwrap();
                        }
                    }
                }
            }
            Engine::Sqlite => sqlx_exec!(sqlx::SqliteConnection, &self.url, sql),
            Engine::Postgres => sqlx_exec!(sqlx::PgConnection, &self.url, sql),
            Engine::MySql => sqlx_exec!(sqlx::MySqlConnection, &self.url, sql),
        }
    }
}

/// The application in-process, on a data directory of its own.
pub struct TestApp {
    pub app: App,
    pub router: Router,
    /// Shared by the instances of [`TestApp::another_instance`].
    pub data_dir: std::sync::Arc<tempfile::TempDir>,
    pub config: Config,
}

pub struct Reply {
    pub status: StatusCode,
    pub headers: HeaderMap,
    pub text: String,
    pub json: Value,
}

impl TestApp {
    pub async fn new() -> TestApp {
        Self::with_config(|_| {}).await
    }

    pub async fn with_config(edit: impl FnOnce(&mut Config)) -> TestApp {
        let data_dir = std::sync::Arc::new(tempfile::tempdir().unwrap());
        let mut config = Config {
            data_dir: data_dir.path().to_path_buf(),
            // an empty policy folder of its own: nothing but admin is allowed
            policies_dir: data_dir.path().join("policies"),
            // and an empty scripts folder: no hooks
            scripts_dir: data_dir.path().join("scripts"),
            ..Config::default()
        };
        std::fs::create_dir_all(&config.policies_dir).unwrap();
        std::fs::create_dir_all(&config.scripts_dir).unwrap();
        edit(&mut config);
        Self::start(config, data_dir).await
    }

    async fn start(config: Config, data_dir: std::sync::Arc<tempfile::TempDir>) -> TestApp {
        let boot = Bootstrap {
            admin_key: Some(ADMIN_KEY.into()),
            ..Bootstrap::default()
        };
        let app = gatehouse::start(config.clone(), boot).await.unwrap();
        let router = app.router.clone();
        TestApp {
            app,
            router,
            data_dir,
            config,
        }
    }

    /// An instance whose `policies/policy.csv` is `policy`.
    pub async fn with_policy(policy: &str) -> TestApp {
        Self::with_policy_and(policy, |_| {}).await
    }

    pub async fn with_policy_and(policy: &str, edit: impl FnOnce(&mut Config)) -> TestApp {
        let policy = policy.to_string();
        Self::with_config(move |c| {
            std::fs::write(c.policies_dir.join("policy.csv"), policy).unwrap();
            edit(c);
        })
        .await
    }

    /// A second instance on the same data directory (system store, secrets).
    pub async fn another_instance(&self) -> TestApp {
        Self::start(self.config.clone(), self.data_dir.clone()).await
    }

    /// The file of the hook script for `event`.
    pub fn script_file(&self, event: &str) -> PathBuf {
        self.config.scripts_dir.join(format!("{event}.js"))
    }

    /// Saves the hook script for `event` as a record (`PUT /api/system/event_script`).
    pub async fn script(&self, event: &str, content: &str) {
        let r = self
            .call(
                &format!("PUT /api/system/event_script/{event}"),
                Some(&json!({ "content": content })),
            )
            .await;
        assert_eq!(r.status, StatusCode::OK, "saving {event}: {}", r.text);
    }

    pub fn policy_file(&self) -> PathBuf {
        self.config.policies_dir.join("policy.csv")
    }

    /// A new app with `role`; its API key.
    pub async fn api_key(&self, role: &str) -> String {
        let name = format!("{role}-{}", uuid::Uuid::new_v4().simple());
        let r = self
            .call(
                "POST /api/system/app",
                Some(&json!({"name": name, "role": role})),
            )
            .await;
        assert_eq!(r.status, StatusCode::CREATED, "{}", r.text);
        r.json["api_key"].as_str().unwrap().to_string()
    }

    /// A new user with `role`, logged in; their session token.
    pub async fn session(&self, email: &str, role: &str) -> String {
        let body = json!({"email": email, "password": "pass-word-1", "role": role});
        let r = self.call("POST /api/system/user", Some(&body)).await;
        assert_eq!(r.status, StatusCode::CREATED, "{}", r.text);
        self.login(email, "pass-word-1").await
    }

    pub async fn login(&self, email: &str, password: &str) -> String {
        let r = self
            .call_with(
                "POST /api/user/session",
                Some(&json!({"email": email, "password": password})),
                &[],
            )
            .await;
        assert_eq!(r.status, StatusCode::OK, "{}", r.text);
        r.json["session_token"].as_str().unwrap().to_string()
    }

    /// A request with an API key.
    pub async fn as_key(&self, key: &str, target: &str, body: Option<&Value>) -> Reply {
        self.call_with(target, body, &[("x-api-key", key)]).await
    }

    /// A request with a session token.
    pub async fn as_user(&self, token: &str, target: &str, body: Option<&Value>) -> Reply {
        let bearer = format!("Bearer {token}");
        self.call_with(target, body, &[("authorization", bearer.as_str())])
            .await
    }

    /// Sends a request with the admin key. `target` is "METHOD /path".
    pub async fn call(&self, target: &str, body: Option<&Value>) -> Reply {
        self.call_with(target, body, &[("x-api-key", ADMIN_KEY)])
            .await
    }

    /// `target` (`VERB /path`) with `query` encoded as its query string, as the admin.
    pub async fn call_query(&self, target: &str, query: &[(&str, &str)]) -> Reply {
        let qs: String = url::form_urlencoded::Serializer::new(String::new())
            .extend_pairs(query)
            .finish();
        self.call(&format!("{target}?{qs}"), None).await
    }

    pub async fn call_with(
        &self,
        target: &str,
        body: Option<&Value>,
        headers: &[(&str, &str)],
    ) -> Reply {
        let (method, path) = target.split_once(' ').unwrap();
        let mut req = Request::builder()
            .method(Method::from_bytes(method.as_bytes()).unwrap())
            .uri(path);
        for (k, v) in headers {
            req = req.header(*k, *v);
        }
        let body = match body {
            Some(b) => {
                req = req.header("content-type", "application/json");
                Body::from(serde_json::to_vec(b).unwrap())
            }
            None => Body::empty(),
        };
        self.send(req.body(body).unwrap()).await
    }

    /// Sends a raw (possibly broken) JSON body with the admin key.
    pub async fn call_raw(&self, target: &str, body: &str) -> Reply {
        self.call_raw_with(target, body, &[("x-api-key", ADMIN_KEY)])
            .await
    }

    /// Sends a raw (possibly broken) JSON body with these headers only.
    pub async fn call_raw_with(&self, target: &str, body: &str, headers: &[(&str, &str)]) -> Reply {
        let (method, path) = target.split_once(' ').unwrap();
        let mut req = Request::builder()
            .method(Method::from_bytes(method.as_bytes()).unwrap())
            .uri(path)
            .header("content-type", "application/json");
        for (k, v) in headers {
            req = req.header(*k, *v);
        }
        self.send(req.body(Body::from(body.to_string())).unwrap())
            .await
    }

    pub async fn send(&self, req: Request<Body>) -> Reply {
        let resp = self.router.clone().oneshot(req).await.unwrap();
        let status = resp.status();
        let headers = resp.headers().clone();
        let bytes = resp.into_body().collect().await.unwrap().to_bytes();
        let text = String::from_utf8_lossy(&bytes).to_string();
        let json = serde_json::from_slice(&bytes).unwrap_or(Value::Null);
        Reply {
            status,
            headers,
            text,
            json,
        }
    }

    /// Registers `db` as service `name` through the admin API.
    pub async fn register(&self, name: &str, db: &TestDb) -> Reply {
        let body = json!({"name": name, "type": db.engine.name(), "label": "test", "config": {"url": db.url, "max_records": 100}});
        let r = self.call("POST /api/system/service", Some(&body)).await;
        assert_eq!(
            r.status,
            StatusCode::CREATED,
            "registering {name}: {}",
            r.text
        );
        r
    }
}

/// `expected` ⊆ `actual`: objects may have more keys; arrays must match element by element.
/// Numbers compare by value (12.5 = 12.50), since engines spell decimals differently.
pub fn subset(expected: &Value, actual: &Value, path: &str, errors: &mut Vec<String>) {
    match (expected, actual) {
        (Value::Object(e), Value::Object(a)) => {
            for (k, ev) in e {
                match a.get(k) {
                    Some(av) => subset(ev, av, &format!("{path}.{k}"), errors),
                    None => errors.push(format!("{path}.{k}: missing (expected {ev})")),
                }
            }
        }
        (Value::Array(e), Value::Array(a)) => {
            if e.len() != a.len() {
                errors.push(format!(
                    "{path}: expected {} items, got {}: {actual}",
                    e.len(),
                    a.len()
                ));
                return;
            }
            for (i, (ev, av)) in e.iter().zip(a).enumerate() {
                subset(ev, av, &format!("{path}[{i}]"), errors);
            }
        }
        (Value::Number(e), Value::Number(a)) => {
            let (ef, af) = (
                e.to_string().parse::<f64>().ok(),
                a.to_string().parse::<f64>().ok(),
            );
            if ef != af {
                errors.push(format!("{path}: expected {e}, got {a}"));
            }
        }
        (e, a) if e == a => {}
        (e, a) => errors.push(format!("{path}: expected {e}, got {a}")),
    }
}

/// Runs one T-SQL batch on the SQL Server at `url`.
async fn mssql_batch(url: &str, sql: &str) {
    use tokio_util::compat::TokioAsyncWriteCompatExt;
    let cfg = gatehouse_sqlserver::parse_url(url).unwrap();
    let tcp = tokio::net::TcpStream::connect(cfg.get_addr())
        .await
        .unwrap();
    let mut client = tiberius::Client::connect(cfg, tcp.compat_write())
        .await
        .unwrap();
    client
        .simple_query(sql)
        .await
        .unwrap()
        .into_results()
        .await
        .unwrap();
}

/// The real binary serving its demo over TCP (`serve --demo`), with `key`
/// as the admin key and its own data, scripts and policies folders; killed
/// when dropped.
pub struct DemoBinary {
    child: std::process::Child,
    pub base: String,
    pub dir: tempfile::TempDir,
}

impl Drop for DemoBinary {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

/// A free loopback port.
pub fn free_port() -> u16 {
    std::net::TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port()
}

/// Waits until the binary at `base` answers `/health`.
pub async fn until_healthy(client: &reqwest::Client, base: &str) {
    let deadline = std::time::Instant::now() + std::time::Duration::from_secs(30);
    while !client
        .get(format!("{base}/health"))
        .send()
        .await
        .is_ok_and(|r| r.status().is_success())
    {
        assert!(
            std::time::Instant::now() < deadline,
            "the server did not come up"
        );
        tokio::time::sleep(std::time::Duration::from_millis(100)).await;
    }
}

/// Starts the binary with its demo and waits until it answers.
pub async fn demo_binary(key: &str) -> DemoBinary {
    let dir = tempfile::tempdir().unwrap();
    let port = free_port();
    let child = std::process::Command::new(env!("CARGO_BIN_EXE_gatehouse"))
        .args(["serve", "--demo", "--listen", &format!("127.0.0.1:{port}")])
        .arg("--data-dir")
        .arg(dir.path())
        .env("GATEHOUSE_ADMIN_KEY", key)
        .env("GATEHOUSE_SCRIPTS_DIR", dir.path().join("scripts"))
        .env("GATEHOUSE_POLICIES_DIR", dir.path().join("policies"))
        .env_remove("GATEHOUSE_CONFIG")
        .stdout(std::process::Stdio::null())
        .stderr(std::process::Stdio::null())
        .spawn()
        .unwrap();
    let base = format!("http://127.0.0.1:{port}");
    until_healthy(&reqwest::Client::new(), &base).await;
    DemoBinary { child, base, dir }
}
