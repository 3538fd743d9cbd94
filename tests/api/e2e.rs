//! End to end: the real binary over TCP.

use crate::common::{Engine, demo_binary, free_port, fresh_db, until_healthy};
use serde_json::{Value, json};
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

#[tokio::test]
async fn the_binary_registers_postgres_and_serves_it_at_once() {
    let Some(db) = fresh_db(Engine::Postgres, None).await else {
        return;
    };
    let dir = tempfile::tempdir().unwrap();
    let port = free_port();
    let mut child = Command::new(env!("CARGO_BIN_EXE_gatehouse"))
        .args([
            "serve",
            "--listen",
            &format!("127.0.0.1:{port}"),
            "--data-dir",
        ])
        .arg(dir.path())
        .env("GATEHOUSE_ADMIN_KEY", "e2e-key")
        .env("GATEHOUSE_ADMIN_EMAIL", "ops@example.com")
        .env("GATEHOUSE_ADMIN_PASSWORD", "e2e-admin-password")
        .env_remove("GATEHOUSE_CONFIG")
        .stdout(Stdio::null())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    let base = format!("http://127.0.0.1:{port}");
    let client = reqwest::Client::new();
    until_healthy(&client, &base).await;
    let r = client
        .post(format!("{base}/api/system/service"))
        .header("X-API-Key", "e2e-key")
        .json(&json!({"name": "northwind", "type": "postgres", "config": {"url": db.url}}))
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 201);
    let r = client
        .get(format!(
            "{base}/api/northwind/_table/customers?fields=name&filter=id%20%3D%201"
        ))
        .header("X-API-Key", "e2e-key")
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 200);
    assert!(r.headers().contains_key("x-request-id"));
    let body: Value = r.json().await.unwrap();
    assert_eq!(body, json!({"resource": [{"name": "Ada Lovelace"}]}));

    // the first admin, from the environment, logs in; credentials in a query
    // string work and are not logged
    let r = client
        .post(format!("{base}/api/user/session"))
        .json(&json!({"email": "ops@example.com", "password": "e2e-admin-password"}))
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 200);
    let session: Value = r.json().await.unwrap();
    let token = session["session_token"].as_str().unwrap().to_string();
    let r = client
        .get(format!("{base}/api/system/user?session_token={token}"))
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 200);

    // SIGTERM: a graceful stop with exit status 0
    let pid = child.id().to_string();
    assert!(
        Command::new("kill")
            .args(["-TERM", &pid])
            .status()
            .unwrap()
            .success()
    );
    let deadline = Instant::now() + Duration::from_secs(10);
    let status = loop {
        if let Some(s) = child.try_wait().unwrap() {
            break s;
        }
        assert!(
            Instant::now() < deadline,
            "the server did not stop on SIGTERM"
        );
        tokio::time::sleep(Duration::from_millis(50)).await;
    };
    assert!(status.success(), "exit status {status}");
    let mut log = String::new();
    std::io::Read::read_to_string(&mut child.stderr.take().unwrap(), &mut log).unwrap();
    assert!(!log.contains("apppass"), "the log holds a secret:\n{log}");
    for secret in ["e2e-key", "e2e-admin-password", token.as_str()] {
        assert!(!log.contains(secret), "the log holds a secret:\n{log}");
    }
}

/// schemathesis (PyPI) sends property-based requests built from the demo
/// service's document to the real binary: no answer may be a 5xx or break
/// the document's response schemas.
#[tokio::test]
async fn schemathesis_finds_no_server_errors_or_schema_breaks_on_the_demo() {
    let Some(st) = crate::common::env_url("GATEHOUSE_TEST_SCHEMATHESIS") else {
        return;
    };
    let srv = demo_binary("st-key").await;
    let (base, dir) = (&srv.base, &srv.dir);
    let spec = reqwest::Client::new()
        .get(format!("{base}/api/demo/_spec"))
        .header("X-API-Key", "st-key")
        .send()
        .await
        .unwrap()
        .text()
        .await
        .unwrap();
    let file = dir.path().join("demo-spec.json");
    std::fs::write(&file, spec).unwrap();
    let out = tokio::process::Command::new(st)
        .arg("run")
        .arg(&file)
        .args(["--url", &format!("{base}/api")])
        .args(["-H", "X-API-Key: st-key"])
        .args(["--checks", "not_a_server_error,response_schema_conformance"])
        .args(["--max-examples", "10", "--seed", "1"])
        .current_dir(dir.path())
        .env("NO_COLOR", "1")
        .output()
        .await
        .unwrap();
    drop(srv);
    let report = String::from_utf8_lossy(&out.stdout);
    assert!(
        out.status.success(),
        "schemathesis found failures:\n{report}\n{}",
        String::from_utf8_lossy(&out.stderr)
    );
    assert!(report.contains("Tested: 46"), "{report}");
}

/// Slowloris: 1,100 sockets that send nothing or half a request, against
/// the binary under a limit of 1,024 file descriptors. Before, accepting
/// failed with "Too many open files" and a normal client got no answer; now
/// the idle sockets are closed after the header timeout, connections beyond
/// the cap wait in the backlog, and every normal request is answered.
#[tokio::test]
async fn idle_and_half_sent_connections_do_not_starve_other_clients() {
    use tokio::io::AsyncWriteExt;
    let dir = tempfile::tempdir().unwrap();
    let config = dir.path().join("gatehouse.toml");
    std::fs::write(
        &config,
        "[server]\nheader_timeout_secs = 2\nidle_timeout_secs = 3\n",
    )
    .unwrap();
    let port = free_port();
    let mut child = Command::new("bash")
        .args(["-c", "ulimit -n 1024 && exec \"$0\" \"$@\""])
        .arg(env!("CARGO_BIN_EXE_gatehouse"))
        .args([
            "serve",
            "--listen",
            &format!("127.0.0.1:{port}"),
            "--config",
        ])
        .arg(&config)
        .arg("--data-dir")
        .arg(dir.path().join("data"))
        .env("GATEHOUSE_ADMIN_KEY", "e2e-key")
        .env_remove("GATEHOUSE_CONFIG")
        .stdout(Stdio::null())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    let base = format!("http://127.0.0.1:{port}");
    let client = reqwest::Client::builder()
        .pool_max_idle_per_host(0)
        .build()
        .unwrap();
    until_healthy(&client, &base).await;
    let mut idle = Vec::new();
    for i in 0..1100 {
        let mut s = tokio::net::TcpStream::connect(("127.0.0.1", port))
            .await
            .unwrap();
        if i % 2 == 0 {
            // half a request, never finished
            let _ = s.write_all(b"GET /api HTTP/1.1\r\nhost: x\r\n").await;
        }
        idle.push(s);
    }
    let started = Instant::now();
    for _ in 0..2 {
        let r = client
            .get(format!("{base}/api/system/service"))
            .header("X-API-Key", "e2e-key")
            .timeout(Duration::from_secs(20))
            .send()
            .await
            .expect("a normal client got no answer");
        assert_eq!(r.status(), 200);
    }
    assert!(started.elapsed() < Duration::from_secs(15));
    // the idle sockets were closed by the server
    let mut closed = 0;
    for s in &mut idle {
        let mut buf = [0u8; 64];
        if let Ok(Ok(0)) = tokio::time::timeout(
            Duration::from_millis(20),
            tokio::io::AsyncReadExt::read(s, &mut buf),
        )
        .await
        {
            closed += 1;
        }
    }
    assert!(closed > 500, "only {closed} idle sockets were closed");
    assert!(child.try_wait().unwrap().is_none(), "the server exited");
    let _ = child.kill();
    let _ = child.wait();
}
