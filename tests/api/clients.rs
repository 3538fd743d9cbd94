//! Clients generated from the OpenAPI documents, used as their users would:
//! openapi-python-client (PyPI) builds a Python client from the demo
//! service's document, and `tests/clients/python_client.py` filters with
//! bound parameters, creates, patches and deletes through it.

use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

#[tokio::test]
async fn a_generated_python_client_filters_creates_patches_and_deletes() {
    let Some(generator) = crate::common::env_url("GATEHOUSE_TEST_OPENAPI_PYTHON_CLIENT") else {
        return;
    };
    let python = std::path::Path::new(&generator).with_file_name("python");
    let dir = tempfile::tempdir().unwrap();
    let port = std::net::TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port();
    let mut child = Command::new(env!("CARGO_BIN_EXE_gatehouse"))
        .args(["serve", "--demo", "--listen", &format!("127.0.0.1:{port}")])
        .arg("--data-dir")
        .arg(dir.path())
        .env("GATEHOUSE_ADMIN_KEY", "client-key")
        .env("GATEHOUSE_SCRIPTS_DIR", dir.path().join("scripts"))
        .env("GATEHOUSE_POLICIES_DIR", dir.path().join("policies"))
        .env_remove("GATEHOUSE_CONFIG")
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .spawn()
        .unwrap();
    let base = format!("http://127.0.0.1:{port}");
    let client = reqwest::Client::new();
    let deadline = Instant::now() + Duration::from_secs(30);
    while !client
        .get(format!("{base}/health"))
        .send()
        .await
        .is_ok_and(|r| r.status().is_success())
    {
        assert!(Instant::now() < deadline, "the server did not come up");
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    let doc = client
        .get(format!("{base}/api/demo/_spec"))
        .header("X-API-Key", "client-key")
        .send()
        .await
        .unwrap()
        .text()
        .await
        .unwrap();
    let spec = dir.path().join("demo.json");
    std::fs::write(&spec, doc).unwrap();
    let generated = Command::new(&generator)
        .args(["generate", "--meta", "none", "--output-path"])
        .arg(dir.path().join("demo_client"))
        .arg("--path")
        .arg(&spec)
        .output()
        .unwrap();
    assert!(
        generated.status.success(),
        "openapi-python-client failed:\n{}{}",
        String::from_utf8_lossy(&generated.stdout),
        String::from_utf8_lossy(&generated.stderr)
    );
    let script = concat!(
        env!("CARGO_MANIFEST_DIR"),
        "/tests/clients/python_client.py"
    );
    let run = Command::new(&python)
        .arg(script)
        .arg(&base)
        .arg("client-key")
        .arg(dir.path())
        .output()
        .unwrap();
    let _ = child.kill();
    let _ = child.wait();
    assert!(
        run.status.success(),
        "the generated client failed:\n{}{}",
        String::from_utf8_lossy(&run.stdout),
        String::from_utf8_lossy(&run.stderr)
    );
}
