//! `/docs` in a real browser (headless Chromium through chromedriver): the
//! Swagger UI page loads the documents with the key the user enters, lists
//! every operation of the chosen document, and a "Try it out" call answers.

use serde_json::{Value, json};
use std::fmt::Write as _;
use std::time::{Duration, Instant};

use fantoccini::{ClientBuilder, Locator};

/// The real binary with its demo, and a second SQLite service of 20 tables.
async fn server() -> crate::common::DemoBinary {
    let srv = crate::common::demo_binary("browser-key").await;
    let (base, dir) = (&srv.base, &srv.dir);
    let client = reqwest::Client::new();
    let file = dir.path().join("wide.sqlite");
    let url = format!("sqlite://{}?mode=rwc", file.display());
    let mut conn = <sqlx::SqliteConnection as sqlx::Connection>::connect(&url)
        .await
        .unwrap();
    let mut ddl = String::new();
    for i in 0..20 {
        let _ = write!(
            ddl,
            "CREATE TABLE t{i:02} (id INTEGER PRIMARY KEY, label TEXT NOT NULL);"
        );
    }
    sqlx::raw_sql(sqlx::AssertSqlSafe(ddl))
        .execute(&mut conn)
        .await
        .unwrap();
    drop(conn);
    let r = client
        .post(format!("{base}/api/system/service"))
        .header("X-API-Key", "browser-key")
        .json(&json!({"name": "wide", "type": "sqlite", "config": {"url": format!("sqlite://{}", file.display())}}))
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 201, "{}", r.text().await.unwrap());
    srv
}

/// How many operations a document has.
async fn operations(base: &str, path: &str) -> usize {
    let doc: Value = reqwest::Client::new()
        .get(format!("{base}{path}"))
        .header("X-API-Key", "browser-key")
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    doc["paths"]
        .as_object()
        .unwrap()
        .values()
        .flat_map(|p| p.as_object().unwrap().keys())
        .filter(|m| ["get", "post", "put", "patch", "delete"].contains(&m.as_str()))
        .count()
}

/// The operations the page lists, scrolling through it: Swagger UI renders
/// a long list (150 entries or more) only where the window shows it.
async fn listed_operations(page: &fantoccini::Client, want: usize) -> usize {
    let deadline = Instant::now() + Duration::from_secs(30);
    let mut seen = std::collections::HashSet::new();
    page.execute("window.scrollTo(0, 0)", vec![]).await.unwrap();
    while seen.len() < want && Instant::now() < deadline {
        let ids = page
            .execute(
                "const ids = Array.from(document.querySelectorAll('.opblock')).map(e => e.id); \
                 const end = window.scrollY + window.innerHeight >= document.documentElement.scrollHeight - 2; \
                 window.scrollBy(0, window.innerHeight / 2); return [ids, end];",
                vec![],
            )
            .await
            .unwrap();
        for id in ids[0].as_array().unwrap() {
            seen.insert(id.as_str().unwrap().to_string());
        }
        if ids[1] == true && seen.len() < want {
            // at the bottom: the list may still be loading
            tokio::time::sleep(Duration::from_millis(300)).await;
            page.execute("window.scrollTo(0, 0)", vec![]).await.unwrap();
        }
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    seen.len()
}

/// Waits until `count` of `css` elements are on the page, and says how many.
async fn until_shown(page: &fantoccini::Client, css: &str, at_least: usize) -> usize {
    let deadline = Instant::now() + Duration::from_secs(20);
    loop {
        let n = page.find_all(Locator::Css(css)).await.unwrap().len();
        if n >= at_least || Instant::now() > deadline {
            return n;
        }
        tokio::time::sleep(Duration::from_millis(200)).await;
    }
}

#[tokio::test]
async fn swagger_ui_lists_every_operation_and_tries_one() {
    let Some(webdriver) = crate::common::env_url("GATEHOUSE_TEST_WEBDRIVER_URL") else {
        return;
    };
    let srv = server().await;
    let mut caps = serde_json::Map::new();
    caps.insert(
        "goog:chromeOptions".into(),
        json!({"args": ["--headless=new", "--no-sandbox", "--disable-dev-shm-usage", "--disable-gpu", "--window-size=1280,900"]}),
    );
    let page = ClientBuilder::native()
        .capabilities(caps)
        .connect(&webdriver)
        .await
        .expect("chromedriver");
    let result = async {
        page.goto(&format!("{}/docs", srv.base)).await.unwrap();
        let key = page.find(Locator::Id("api-key")).await.unwrap();
        key.send_keys("browser-key").await.unwrap();
        page.find(Locator::Css("#key button[type=submit]"))
            .await
            .unwrap()
            .click()
            .await
            .unwrap();
        // the whole instance: every operation of its document is listed
        let want = operations(&srv.base, "/api/_spec").await;
        until_shown(&page, ".opblock", 1).await;
        let shown = listed_operations(&page, want).await;
        assert_eq!(shown, want, "operations listed for the whole instance");
        // the selector offers each service; choosing one shows its document
        let option = page
            .find(Locator::Css("#doc option[value='/api/wide/_spec']"))
            .await
            .unwrap();
        option.click().await.unwrap();
        let want = operations(&srv.base, "/api/wide/_spec").await;
        tokio::time::sleep(Duration::from_millis(500)).await;
        until_shown(
            &page,
            "#operations-wide\\.t19-wide\\.t19\\.list, .opblock",
            1,
        )
        .await;
        let shown = listed_operations(&page, want).await;
        assert_eq!(shown, want, "operations listed for one service");
        let url = page.current_url().await.unwrap();
        assert!(url.as_str().ends_with("url=%2Fapi%2Fwide%2F_spec"), "{url}");
        // Try it out: GET the demo's customers through the page, with the key
        page.goto(&format!("{}/docs?url=/api/demo/_spec", srv.base))
            .await
            .unwrap();
        until_shown(&page, ".opblock-get", 1).await;
        let op = page
            .find(Locator::Css(".opblock-get .opblock-summary"))
            .await
            .unwrap();
        op.click().await.unwrap();
        page.wait()
            .for_element(Locator::Css(".try-out__btn"))
            .await
            .unwrap()
            .click()
            .await
            .unwrap();
        page.wait()
            .for_element(Locator::Css(".execute"))
            .await
            .unwrap()
            .click()
            .await
            .unwrap();
        let status = page
            .wait()
            .for_element(Locator::Css(
                ".live-responses-table .response .response-col_status",
            ))
            .await
            .unwrap()
            .text()
            .await
            .unwrap();
        assert_eq!(status.trim(), "200", "the call made from the page");
    };
    let outcome = tokio::time::timeout(Duration::from_mins(2), result).await;
    page.close().await.ok();
    outcome.expect("the browser test took over two minutes");
}
