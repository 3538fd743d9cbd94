//! The `gatehouse` command line.

use anyhow::Context;
use clap::{Parser, Subcommand};
use gatehouse::config::AccessLog;
use gatehouse::{Bootstrap, Config};
use std::net::SocketAddr;
use std::path::PathBuf;

#[derive(Parser)]
#[command(
    name = "gatehouse",
    version,
    about = "Any database as a secure, documented REST API"
)]
struct Cli {
    #[command(subcommand)]
    command: Command,
}

#[derive(Subcommand)]
enum Command {
    /// Serve the API.
    Serve(ServeArgs),
    /// Policy file tools.
    Policy {
        #[command(subcommand)]
        command: PolicyCommand,
    },
}

#[derive(clap::Args)]
struct ServeArgs {
    /// TOML configuration file (docs/CONFIGURATION.md).
    #[arg(long, env = "GATEHOUSE_CONFIG")]
    config: Option<PathBuf>,
    /// Address to listen on [default: 127.0.0.1:8080].
    #[arg(long, env = "GATEHOUSE_LISTEN")]
    listen: Option<SocketAddr>,
    /// Data directory (system store, secret key, demo database) [default: ./gatehouse-data].
    #[arg(long, env = "GATEHOUSE_DATA_DIR")]
    data_dir: Option<PathBuf>,
    /// Mount the bundled demo shop database as service `demo`.
    #[arg(long, env = "GATEHOUSE_DEMO", value_parser = clap::builder::BoolishValueParser::new())]
    demo: bool,
    /// Folder of casbin policies [default: ./policies].
    #[arg(long, env = "GATEHOUSE_POLICIES_DIR")]
    policies_dir: Option<PathBuf>,
    /// Folder of hook scripts [default: ./scripts].
    #[arg(long, env = "GATEHOUSE_SCRIPTS_DIR")]
    scripts_dir: Option<PathBuf>,
    /// Log format: text or json.
    #[arg(long, env = "GATEHOUSE_LOG_FORMAT")]
    log_format: Option<String>,
    /// Which requests the access log records [default: errors].
    #[arg(long, env = "GATEHOUSE_ACCESS_LOG", value_enum)]
    access_log: Option<AccessLog>,
}

#[derive(Subcommand)]
enum PolicyCommand {
    /// Starts policy.csv with a seal line (the SHA-256 of the rest), written by rename: a
    /// running instance refuses the file if it is ever cut short or edited
    /// without sealing again.
    Seal {
        /// Folder of casbin policies [default: ./policies].
        #[arg(long, env = "GATEHOUSE_POLICIES_DIR", default_value = "./policies")]
        policies_dir: PathBuf,
    },
}

/// Seals `dir/policy.csv`: written beside it, then renamed over it, so a
/// reader sees the old file or the new one, never part of one.
fn seal_policy(dir: &std::path::Path) -> anyhow::Result<()> {
    let path = dir.join("policy.csv");
    let text = std::fs::read_to_string(&path)
        .with_context(|| format!("cannot read {}", path.display()))?;
    let tmp = dir.join(".policy.csv.sealing");
    std::fs::write(&tmp, gatehouse::rbac::load::seal(&text))
        .with_context(|| format!("cannot write {}", tmp.display()))?;
    std::fs::rename(&tmp, &path).with_context(|| format!("cannot replace {}", path.display()))?;
    println!("sealed {}", path.display());
    Ok(())
}

/// jemalloc: a request allocates and frees many small blocks, which glibc's
/// allocator served at about a fifth of Gatehouse's CPU per by-key read
/// (bench/README.md). Unlike mimalloc it hands large blocks (argon2's 19 MiB
/// per password hash) straight back to the system, so idle RSS stays low.
#[cfg(not(target_env = "msvc"))]
#[global_allocator]
static ALLOCATOR: tikv_jemallocator::Jemalloc = tikv_jemallocator::Jemalloc;

#[tokio::main]
async fn main() -> anyhow::Result<()> {
    let ServeArgs {
        config,
        listen,
        data_dir,
        demo,
        policies_dir,
        scripts_dir,
        log_format,
        access_log,
    } = match Cli::parse().command {
        Command::Serve(args) => args,
        Command::Policy {
            command: PolicyCommand::Seal { policies_dir },
        } => return seal_policy(&policies_dir),
    };
    let mut cfg = match &config {
        Some(path) => Config::from_file(path).map_err(anyhow::Error::msg)?,
        None => Config::default(),
    };
    if let Some(l) = listen {
        cfg.listen = l;
    }
    if let Some(d) = data_dir {
        cfg.data_dir = d;
    }
    if let Some(d) = policies_dir {
        cfg.policies_dir = d;
    }
    if let Some(d) = scripts_dir {
        cfg.scripts_dir = d;
    }
    if let Some(f) = log_format {
        cfg.log_format = f;
    }
    if let Some(a) = access_log {
        cfg.access_log = a;
    }
    cfg.demo |= demo;
    init_logging(&cfg.log_format, cfg.access_log);

    let env = |k: &str| std::env::var(k).ok().filter(|v| !v.is_empty());
    let boot = Bootstrap {
        admin_key: env("GATEHOUSE_ADMIN_KEY"),
        secret_key: env("GATEHOUSE_SECRET_KEY"),
        jwt_secret: env("GATEHOUSE_JWT_SECRET"),
        admin_email: env("GATEHOUSE_ADMIN_EMAIL"),
        admin_password: env("GATEHOUSE_ADMIN_PASSWORD"),
    };
    let listen = cfg.listen;
    let demo = cfg.demo;
    let server = cfg.server;
    let app = gatehouse::start(cfg, boot)
        .await
        .context("start-up failed")?;
    let listener = tokio::net::TcpListener::bind(listen)
        .await
        .with_context(|| format!("cannot listen on {listen}"))?;
    let addr = listener.local_addr()?;
    tracing::info!(%addr, "gatehouse listening");
    announce(&app, addr, demo);
    gatehouse::spawn_sync(app.state.clone());
    gatehouse::serve::serve(listener, app.router, server, shutdown()).await;
    app.state.store.close().await;
    for s in app.state.registry.all() {
        s.connector.close().await;
    }
    tracing::info!("stopped");
    Ok(())
}

/// Prints what a new user needs: the first admin's generated password (once),
/// and for the demo a key and commands to try.
fn announce(app: &gatehouse::App, addr: SocketAddr, demo: bool) {
    if let Some((email, password)) = &app.generated_admin {
        println!("\nFirst admin user (the password is shown once, stored only as a hash):");
        println!("  email:    {email}\n  password: {password}");
        println!(
            "Log in: curl -X POST http://{addr}/api/user/session -H 'Content-Type: application/json' -d '{{\"email\": \"{email}\", \"password\": \"...\"}}'"
        );
    }
    if demo {
        let k = app
            .generated_admin_key
            .clone()
            .unwrap_or_else(|| "$GATEHOUSE_ADMIN_KEY".into());
        let base = format!("http://{addr}/api/demo/_table");
        println!(
            "\nThe demo shop is mounted as service 'demo'. An admin API key for this run: {k}\nTry:\n"
        );
        println!("  curl -H 'X-API-Key: {k}' {base}\n");
        println!(
            "  curl -G -H 'X-API-Key: {k}' {base}/products --data-urlencode \"filter=price > 50 and category = 'garden'\" --data-urlencode 'order=price desc' -d limit=5\n"
        );
        println!(
            "  curl -H 'X-API-Key: {k}' -H 'Content-Type: application/json' {base}/customers -d '{{\"name\": \"Ada Lovelace\", \"email\": \"ada@example.com\", \"region\": \"north\"}}'\n"
        );
    }
}

/// `RUST_LOG` when set; otherwise `info`, sqlx's warnings, and the access
/// lines `access_log` asks for.
fn init_logging(format: &str, access: AccessLog) {
    let filter = tracing_subscriber::EnvFilter::try_from_default_env().unwrap_or_else(|_| {
        tracing_subscriber::EnvFilter::new(format!("info,sqlx=warn,{}", access.directive()))
    });
    // colours only for a terminal: a log file or journal gets plain text
    let builder = tracing_subscriber::fmt()
        .with_env_filter(filter)
        .with_ansi(std::io::IsTerminal::is_terminal(&std::io::stderr()))
        .with_writer(std::io::stderr);
    if format == "json" {
        builder.json().init();
    } else {
        builder.init();
    }
}

async fn shutdown() {
    let ctrl_c = async {
        let _ = tokio::signal::ctrl_c().await;
    };
    #[cfg(unix)]
    let term = async {
        match tokio::signal::unix::signal(tokio::signal::unix::SignalKind::terminate()) {
            Ok(mut s) => {
                s.recv().await;
            }
            Err(_) => std::future::pending::<()>().await,
        }
    };
    #[cfg(not(unix))]
    let term = std::future::pending::<()>();
    tokio::select! { () = ctrl_c => {}, () = term => {} }
    tracing::info!("shutting down: finishing requests in flight");
}
