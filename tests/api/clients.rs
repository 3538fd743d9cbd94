//! Clients generated from the OpenAPI documents, used as their users would:
//! openapi-python-client (PyPI) builds a Python client from the demo
//! service's document, and `tests/clients/python_client.py` filters with
//! bound parameters, creates, patches and deletes through it.

use std::process::Command;

#[tokio::test]
async fn a_generated_python_client_filters_creates_patches_and_deletes() {
    let Some(generator) = crate::common::env_url("GATEHOUSE_TEST_OPENAPI_PYTHON_CLIENT") else {
        return;
    };
    let python = std::path::Path::new(&generator).with_file_name("python");
    let srv = crate::common::demo_binary("client-key").await;
    let (base, dir) = (&srv.base, &srv.dir);
    let client = reqwest::Client::new();
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
        .arg(base)
        .arg("client-key")
        .arg(dir.path())
        .output()
        .unwrap();
    assert!(
        run.status.success(),
        "the generated client failed:\n{}{}",
        String::from_utf8_lossy(&run.stdout),
        String::from_utf8_lossy(&run.stderr)
    );
}
