//! Identity (docs/API.md §6): users, sessions, apps and API keys — every way of
//! sending a credential, and every way one stops working.

use crate::common::{ADMIN_KEY, Engine, TestApp, TestDb, fresh_db};
use axum::http::StatusCode;
use serde_json::json;

const READ_ALL: &str = "p, reader, *, _table/*, GET, allow\n";

async fn app_with_shop() -> Option<(TestApp, TestDb)> {
    let db = fresh_db(Engine::Sqlite, None).await?;
    let app = TestApp::with_policy(READ_ALL).await;
    app.register("shop", &db).await;
    Some((app, db))
}

#[tokio::test]
async fn sessions_three_ways_refresh_and_logout() {
    let Some((app, _db)) = app_with_shop().await else {
        return;
    };
    let token = app.session("Ann@Example.com", "reader").await;
    let path = "/api/shop/_table/customers?fields=id&limit=1";
    // Authorization: Bearer, X-DreamFactory-Session-Token, ?session_token=
    let ok = |s: StatusCode| assert_eq!(s, StatusCode::OK);
    ok(app
        .as_user(&token, &format!("GET {path}"), None)
        .await
        .status);
    ok(app
        .call_with(
            &format!("GET {path}"),
            None,
            &[("x-dreamfactory-session-token", &token)],
        )
        .await
        .status);
    ok(app
        .call_with(&format!("GET {path}&session_token={token}"), None, &[])
        .await
        .status);
    // the session, as the user sees it: email lower-cased, no password anywhere
    let s = app.as_user(&token, "GET /api/user/session", None).await;
    assert_eq!(s.json["user"]["email"], "ann@example.com", "{}", s.text);
    assert_eq!(s.json["role"], "reader");
    assert!(!s.text.contains("argon2") && !s.text.contains("pass-word"));

    // a refresh hands out a new token; the old one stops working
    let r = app.as_user(&token, "PUT /api/user/session", None).await;
    assert_eq!(r.status, StatusCode::OK, "{}", r.text);
    let fresh = r.json["session_token"].as_str().unwrap().to_string();
    assert_ne!(fresh, token);
    assert_eq!(
        app.as_user(&token, &format!("GET {path}"), None)
            .await
            .status,
        StatusCode::UNAUTHORIZED
    );
    ok(app
        .as_user(&fresh, &format!("GET {path}"), None)
        .await
        .status);

    // logout: the token stops working on this instance at once, and on another
    // sharing the store once what it remembered expires (auth.credential_cache_ms)
    let other = app.another_instance().await;
    ok(other
        .as_user(&fresh, &format!("GET {path}"), None)
        .await
        .status);
    let r = app.as_user(&fresh, "DELETE /api/user/session", None).await;
    assert_eq!(r.status, StatusCode::OK, "{}", r.text);
    let r = app.as_user(&fresh, &format!("GET {path}"), None).await;
    assert_eq!(r.status, StatusCode::UNAUTHORIZED, "{}", r.text);
    assert_eq!(r.json["error"]["code"], "unauthorized");
    ok(other
        .as_user(&fresh, &format!("GET {path}"), None)
        .await
        .status);
    tokio::time::sleep(std::time::Duration::from_millis(
        other.config.auth.credential_cache_ms + 50,
    ))
    .await;
    let r = other.as_user(&fresh, &format!("GET {path}"), None).await;
    assert_eq!(r.status, StatusCode::UNAUTHORIZED, "{}", r.text);
    // a logged-out token cannot be refreshed either
    assert_eq!(
        app.as_user(&fresh, "PUT /api/user/session", None)
            .await
            .status,
        StatusCode::UNAUTHORIZED
    );
}

#[tokio::test]
async fn bad_logins_and_forged_tokens_are_401() {
    let Some((app, _db)) = app_with_shop().await else {
        return;
    };
    let token = app.session("bob@example.com", "reader").await;
    for body in [
        json!({"email": "bob@example.com", "password": "wrong-password"}),
        json!({"email": "nobody@example.com", "password": "pass-word-1"}),
    ] {
        let r = app
            .call_with("POST /api/user/session", Some(&body), &[])
            .await;
        assert_eq!(r.status, StatusCode::UNAUTHORIZED, "{}", r.text);
        assert_eq!(r.json["error"]["message"], "invalid email or password");
    }
    let r = app
        .call_with("POST /api/user/session", Some(&json!({"email": 1})), &[])
        .await;
    assert_eq!(r.status, StatusCode::BAD_REQUEST);

    let path = "GET /api/shop/_table/customers?limit=1";
    let parts: Vec<&str> = token.split('.').collect();
    let b64 = |v: &serde_json::Value| {
        use base64::Engine;
        base64::engine::general_purpose::URL_SAFE_NO_PAD.encode(v.to_string())
    };
    let claims: serde_json::Value = {
        use base64::Engine;
        serde_json::from_slice(
            &base64::engine::general_purpose::URL_SAFE_NO_PAD
                .decode(parts[1])
                .unwrap(),
        )
        .unwrap()
    };
    let mut admin_claims = claims.clone();
    admin_claims["sub"] = json!("1");
    let forged = [
        // payload changed (another user), signature kept
        format!("{}.{}.{}", parts[0], b64(&admin_claims), parts[2]),
        // alg none
        format!(
            "{}.{}.",
            b64(&json!({"alg": "none", "typ": "JWT"})),
            parts[1]
        ),
        // signature of another secret
        format!("{}.{}.{}", parts[0], parts[1], "c2lnbmF0dXJl"),
        "not.a.token".to_string(),
    ];
    for f in &forged {
        let r = app.as_user(f, path, None).await;
        assert_eq!(r.status, StatusCode::UNAUTHORIZED, "{f}: {}", r.text);
    }
    // a bad credential is never downgraded to anonymous, even on an open resource
    let r = app
        .call_with(
            "GET /api/shop/_table/customers",
            None,
            &[("x-api-key", "nope")],
        )
        .await;
    assert_eq!(r.status, StatusCode::UNAUTHORIZED);
    // a deactivated user's sessions end
    let users = app.call("GET /api/system/user", None).await;
    let bob = users.json["resource"]
        .as_array()
        .unwrap()
        .iter()
        .find(|u| u["email"] == "bob@example.com")
        .unwrap()["id"]
        .clone();
    let r = app
        .call(
            &format!("PATCH /api/system/user/{bob}"),
            Some(&json!({"active": false})),
        )
        .await;
    assert_eq!(r.status, StatusCode::OK, "{}", r.text);
    assert_eq!(
        app.as_user(&token, path, None).await.status,
        StatusCode::UNAUTHORIZED
    );
    let r = app
        .call_with(
            "POST /api/user/session",
            Some(&json!({"email": "bob@example.com", "password": "pass-word-1"})),
            &[],
        )
        .await;
    assert_eq!(r.status, StatusCode::UNAUTHORIZED);
}

#[tokio::test]
async fn expired_tokens_are_401_and_refresh_while_allowed() {
    let Some(db) = fresh_db(Engine::Sqlite, None).await else {
        return;
    };
    let app = TestApp::with_policy_and(READ_ALL, |c| {
        c.auth.session_ttl_secs = 1;
    })
    .await;
    app.register("shop", &db).await;
    let token = app.session("cy@example.com", "reader").await;
    let path = "GET /api/shop/_table/customers?limit=1";
    assert_eq!(app.as_user(&token, path, None).await.status, StatusCode::OK);
    tokio::time::sleep(std::time::Duration::from_millis(2100)).await;
    let r = app.as_user(&token, path, None).await;
    assert_eq!(r.status, StatusCode::UNAUTHORIZED, "{}", r.text);
    // within the refresh window an expired token can be exchanged for a new one
    let r = app.as_user(&token, "PUT /api/user/session", None).await;
    assert_eq!(r.status, StatusCode::OK, "{}", r.text);
    let fresh = r.json["session_token"].as_str().unwrap();
    assert_eq!(app.as_user(fresh, path, None).await.status, StatusCode::OK);
}

#[tokio::test]
async fn api_keys_three_ways_regenerated_and_revoked() {
    let Some((app, _db)) = app_with_shop().await else {
        return;
    };
    let r = app
        .call(
            "POST /api/system/app",
            Some(&json!({"name": "web", "role": "reader"})),
        )
        .await;
    assert_eq!(r.status, StatusCode::CREATED, "{}", r.text);
    let id = r.json["id"].clone();
    let key = r.json["api_key"].as_str().unwrap().to_string();
    // shown once: never again
    let shown = app.call(&format!("GET /api/system/app/{id}"), None).await;
    assert!(
        shown.json.get("api_key").is_none() && !shown.text.contains(&key),
        "{}",
        shown.text
    );
    let list = app.call("GET /api/system/app", None).await;
    assert!(!list.text.contains(&key));

    let path = "/api/shop/_table/customers?fields=id&limit=1";
    for headers in [
        vec![("x-api-key", key.as_str())],
        vec![("x-dreamfactory-api-key", key.as_str())],
    ] {
        assert_eq!(
            app.call_with(&format!("GET {path}"), None, &headers)
                .await
                .status,
            StatusCode::OK
        );
    }
    assert_eq!(
        app.call_with(&format!("GET {path}&api_key={key}"), None, &[])
            .await
            .status,
        StatusCode::OK
    );
    // the key acts with the app's role: reads, but no writes and no /api/system
    let r = app
        .as_key(
            &key,
            "POST /api/shop/_table/customers",
            Some(&json!({"name": "x", "email": "x@x"})),
        )
        .await;
    assert_eq!(r.status, StatusCode::FORBIDDEN, "{}", r.text);
    let r = app.as_key(&key, "GET /api/system/service", None).await;
    assert_eq!(r.status, StatusCode::FORBIDDEN, "{}", r.text);

    // regenerated: the old key stops working, the new one works
    let r = app
        .call(&format!("POST /api/system/app/{id}/_regenerate"), None)
        .await;
    assert_eq!(r.status, StatusCode::OK, "{}", r.text);
    let new_key = r.json["api_key"].as_str().unwrap().to_string();
    assert_eq!(
        app.as_key(&key, &format!("GET {path}"), None).await.status,
        StatusCode::UNAUTHORIZED
    );
    assert_eq!(
        app.as_key(&new_key, &format!("GET {path}"), None)
            .await
            .status,
        StatusCode::OK
    );
    // deactivated, then deleted: revoked
    app.call(
        &format!("PATCH /api/system/app/{id}"),
        Some(&json!({"active": false})),
    )
    .await;
    assert_eq!(
        app.as_key(&new_key, &format!("GET {path}"), None)
            .await
            .status,
        StatusCode::UNAUTHORIZED
    );
    app.call(
        &format!("PATCH /api/system/app/{id}"),
        Some(&json!({"active": true})),
    )
    .await;
    assert_eq!(
        app.as_key(&new_key, &format!("GET {path}"), None)
            .await
            .status,
        StatusCode::OK
    );
    // deleted: revoked here at once, on another instance within credential_cache_ms
    let other = app.another_instance().await;
    let status = other
        .as_key(&new_key, &format!("GET {path}"), None)
        .await
        .status;
    assert_eq!(status, StatusCode::OK);
    let r = app
        .call(&format!("DELETE /api/system/app/{id}"), None)
        .await;
    assert_eq!(r.status, StatusCode::OK);
    let r = app.as_key(&new_key, &format!("GET {path}"), None).await;
    assert_eq!(r.status, StatusCode::UNAUTHORIZED, "{}", r.text);
    tokio::time::sleep(std::time::Duration::from_millis(
        other.config.auth.credential_cache_ms + 50,
    ))
    .await;
    let r = other.as_key(&new_key, &format!("GET {path}"), None).await;
    assert_eq!(r.status, StatusCode::UNAUTHORIZED, "{}", r.text);
}

#[tokio::test]
async fn secrets_are_never_stored_or_shown() {
    let Some((app, _db)) = app_with_shop().await else {
        return;
    };
    let password = "Very-Secret-Passw0rd";
    let r = app
        .call("POST /api/system/user", Some(&json!({"email": "dee@example.com", "password": password, "role": "reader", "name": "Dee"})))
        .await;
    assert_eq!(r.status, StatusCode::CREATED, "{}", r.text);
    assert!(
        !r.text.contains(password) && !r.text.contains("password"),
        "{}",
        r.text
    );
    let key = app.api_key("reader").await;
    let token = app.login("dee@example.com", password).await;
    // short passwords, bad emails, duplicates and unknown fields are refused
    for (body, status) in [
        (
            json!({"email": "e@example.com", "password": "short", "role": "reader"}),
            StatusCode::BAD_REQUEST,
        ),
        (
            json!({"email": "not-an-email", "password": "long-enough", "role": "reader"}),
            StatusCode::BAD_REQUEST,
        ),
        (
            json!({"email": "dee@example.com", "password": "long-enough", "role": "reader"}),
            StatusCode::CONFLICT,
        ),
        (
            json!({"email": "f@example.com", "password": "long-enough"}),
            StatusCode::UNPROCESSABLE_ENTITY,
        ),
        (
            json!({"email": "g@example.com", "password": "long-enough", "role": "x", "is_admin": true}),
            StatusCode::BAD_REQUEST,
        ),
    ] {
        let r = app.call("POST /api/system/user", Some(&body)).await;
        assert_eq!(r.status, status, "{body}: {}", r.text);
    }
    // the system store (and its write-ahead log) holds no password, key or token
    let mut bytes = Vec::new();
    for f in std::fs::read_dir(app.data_dir.path()).unwrap() {
        let p = f.unwrap().path();
        if p.file_name()
            .unwrap()
            .to_string_lossy()
            .starts_with("system.sqlite")
        {
            bytes.extend(std::fs::read(&p).unwrap());
        }
    }
    let text = String::from_utf8_lossy(&bytes);
    assert!(text.contains("dee@example.com"), "the store was read");
    for secret in [password, key.as_str(), token.as_str(), ADMIN_KEY] {
        assert!(!text.contains(secret), "a secret is stored in clear");
    }
}

#[tokio::test]
async fn the_first_admin_comes_from_the_environment() {
    let dir = tempfile::tempdir().unwrap();
    let config = gatehouse::Config {
        data_dir: dir.path().to_path_buf(),
        policies_dir: dir.path().join("policies"),
        ..gatehouse::Config::default()
    };
    let boot = gatehouse::Bootstrap {
        admin_email: Some("Boss@Example.com".into()),
        admin_password: Some("boss-password".into()),
        ..Default::default()
    };
    let app = gatehouse::start(config.clone(), boot).await.unwrap();
    assert!(
        app.generated_admin.is_none(),
        "a given password is not printed"
    );
    let router = app.router.clone();
    let t = TestApp {
        app,
        router,
        data_dir: std::sync::Arc::new(dir),
        config,
    };
    let token = t.login("boss@example.com", "boss-password").await;
    let r = t.as_user(&token, "GET /api/system/user", None).await;
    assert_eq!(r.status, StatusCode::OK, "{}", r.text);
    assert_eq!(r.json["resource"][0]["role"], "admin");
    // no bootstrap key was configured: none works
    let r = t.call("GET /api/system/user", None).await;
    assert_eq!(r.status, StatusCode::UNAUTHORIZED);
    // without a configured password one is generated, printed once, and works
    let dir2 = tempfile::tempdir().unwrap();
    let cfg2 = gatehouse::Config {
        data_dir: dir2.path().to_path_buf(),
        ..t.config.clone()
    };
    let app2 = gatehouse::start(cfg2.clone(), gatehouse::Bootstrap::default())
        .await
        .unwrap();
    let (email, password) = app2.generated_admin.clone().unwrap();
    assert_eq!(email, "admin@localhost");
    let t2 = TestApp {
        router: app2.router.clone(),
        app: app2,
        data_dir: std::sync::Arc::new(dir2),
        config: cfg2.clone(),
    };
    t2.login(&email, &password).await;
    // and is not made again at the next start
    let again = gatehouse::start(cfg2, gatehouse::Bootstrap::default())
        .await
        .unwrap();
    assert!(again.generated_admin.is_none());
}

#[tokio::test]
async fn system_resources_need_an_admin() {
    let Some((app, _db)) = app_with_shop().await else {
        return;
    };
    let key = app.api_key("reader").await;
    for target in [
        "GET /api/system/service",
        "GET /api/system/user",
        "GET /api/system/app",
        "GET /api/system/policy",
    ] {
        let r = app.call_with(target, None, &[]).await;
        assert_eq!(r.status, StatusCode::UNAUTHORIZED, "{target}: {}", r.text);
        let r = app.as_key(&key, target, None).await;
        assert_eq!(r.status, StatusCode::FORBIDDEN, "{target}: {}", r.text);
        assert_eq!(
            app.call(target, None).await.status,
            StatusCode::OK,
            "{target}"
        );
    }
    // an admin user's session is as good as the admin key
    let token = app.session("root@example.com", "admin").await;
    assert_eq!(
        app.as_user(&token, "GET /api/system/app", None)
            .await
            .status,
        StatusCode::OK
    );
}

/// Admin bodies are the documented input structs: an unknown key, a value of
/// the wrong type, null where a value is needed or an `id` that is not the
/// path's is a 4xx naming the field; absent leaves a field alone, null
/// clears what may be cleared.
#[tokio::test]
async fn admin_bodies_name_the_field_they_refuse() {
    let app = TestApp::new().await;
    let made = app
        .call(
            "POST /api/system/user",
            Some(&json!({"email": "h@example.com", "password": "long-enough", "role": "reader", "name": "H"})),
        )
        .await;
    assert_eq!(made.status, StatusCode::CREATED, "{}", made.text);
    let id = made.json["id"].as_i64().unwrap();
    let path = format!("PATCH /api/system/user/{id}");
    for (body, status, code, field) in [
        (json!({"colour": "red"}), 400, "unknown_field", "colour"),
        (json!({"active": "yes"}), 400, "invalid_value", "active"),
        (json!({"email": null}), 400, "invalid_value", "email"),
        (json!({"role": 7}), 400, "invalid_value", "role"),
        (json!({"role": "  "}), 400, "invalid_value", "role"),
        (json!({"id": id + 1}), 400, "invalid_value", "id"),
    ] {
        let r = app.call(&path, Some(&body)).await;
        assert_eq!(r.status.as_u16(), status, "{body}: {}", r.text);
        assert_eq!(r.json["error"]["code"], code, "{body}: {}", r.text);
        assert_eq!(
            r.json["error"]["context"]["field"], field,
            "{body}: {}",
            r.text
        );
    }
    // a DreamFactory client sends the record back, id included
    let r = app
        .call(&path, Some(&json!({"id": id, "name": null})))
        .await;
    assert_eq!(r.status, StatusCode::OK, "{}", r.text);
    assert_eq!(
        r.json["name"],
        serde_json::Value::Null,
        "null clears the name"
    );
    assert_eq!(r.json["email"], "h@example.com", "absent leaves the email");
    let r = app
        .call(
            "POST /api/system/app",
            Some(&json!({"name": "x", "role": "reader", "id": 5})),
        )
        .await;
    assert_eq!(r.status, StatusCode::BAD_REQUEST, "{}", r.text);
    assert_eq!(r.json["error"]["context"]["field"], "id");
    let r = app.call("POST /api/system/user", None).await;
    assert_eq!(r.status, StatusCode::BAD_REQUEST, "{}", r.text);
    // a service key nobody reads is refused, not dropped
    let r = app
        .call(
            "POST /api/system/service",
            Some(&json!({"name": "x", "type": "sqlite", "config": {"url": "sqlite://x"}, "is_actve": true})),
        )
        .await;
    assert_eq!(r.status, StatusCode::BAD_REQUEST, "{}", r.text);
    assert_eq!(r.json["error"]["code"], "unknown_field");
    assert_eq!(r.json["error"]["context"]["field"], "is_actve");
    let r = app
        .call(
            "POST /api/system/service",
            Some(&json!({"name": "x", "type": "sqlite", "config": "sqlite://x"})),
        )
        .await;
    assert_eq!(r.status, StatusCode::BAD_REQUEST, "{}", r.text);
    assert_eq!(r.json["error"]["code"], "invalid_config");
    assert_eq!(r.json["error"]["context"]["field"], "config");
    let r = app
        .call_with(
            "POST /api/user/session",
            Some(&json!({"email": "h@example.com", "password": "long-enough", "remember": true})),
            &[],
        )
        .await;
    assert_eq!(r.status, StatusCode::BAD_REQUEST, "{}", r.text);
    assert_eq!(r.json["error"]["context"]["field"], "remember");
}

/// DreamFactory's login answer (the user's fields at the top level, the
/// expiry as `token_expiry_date`) and its admin login, for admins only.
#[tokio::test]
async fn dreamfactory_logins() {
    let Some((app, _db)) = app_with_shop().await else {
        return;
    };
    app.session("ann@example.com", "reader").await;
    let r = app
        .call("POST /api/system/user", Some(&json!({"email": "root@example.com", "password": "pass-word-1", "role": "admin", "name": "Ada Lovelace"})))
        .await;
    assert_eq!(r.status, StatusCode::CREATED, "{}", r.text);
    let body = json!({"email": "root@example.com", "password": "pass-word-1"});
    for path in [
        "POST /api/user/session",
        "POST /api/v2/system/admin/session",
    ] {
        let r = app.call_with(path, Some(&body), &[]).await;
        assert_eq!(r.status, StatusCode::OK, "{path}: {}", r.text);
        for (k, v) in [
            ("email", json!("root@example.com")),
            ("first_name", json!("Ada")),
            ("last_name", json!("Lovelace")),
            ("is_sys_admin", json!(true)),
            ("role_id", serde_json::Value::Null),
        ] {
            assert_eq!(r.json[k], v, "{path} {k}: {}", r.text);
        }
        assert!(
            r.json["id"].is_i64() && r.json["session_token"].is_string(),
            "{}",
            r.text
        );
        let expiry = r.json["token_expiry_date"].as_str().unwrap();
        assert!(
            chrono::NaiveDateTime::parse_from_str(expiry, "%Y-%m-%d %H:%M:%S").is_ok(),
            "{expiry}"
        );
    }
    // the admin login is for admins only
    let r = app
        .call_with(
            "POST /api/v2/system/admin/session",
            Some(&json!({"email": "ann@example.com", "password": "pass-word-1"})),
            &[],
        )
        .await;
    assert_eq!(r.status, StatusCode::UNAUTHORIZED, "{}", r.text);
}
