//! HTTP: the router, request-wide layers (request id, access log, body limit,
//! method tunnelling) and the small handlers that are not the table road.

pub mod access;
pub mod admin;
pub mod authenticate;
pub mod docs;
pub mod extract;
pub mod schema;
pub mod session;
pub mod spec;
pub mod table;

use crate::auth::{self, Principal};
use crate::rbac::Resource;
use crate::state::AppState;
use access::REQUEST_ID;
use admin::{apps, event_scripts, policy, services, users};
pub use extract::{JsonBody, Tunnelled};

use crate::error::{ApiError, ApiResult, Code};
use axum::extract::{DefaultBodyLimit, Request, State};
use axum::http::HeaderValue;
use axum::http::{HeaderName, Method, StatusCode};
use axum::response::{IntoResponse, Response};
use axum::routing::{get, put};
use axum::{Json, Router};
use serde_json::{Value, json};
use std::sync::Arc;
use tower::ServiceBuilder;
use tower_http::cors::{AllowOrigin, CorsLayer};
use tower_http::request_id::{MakeRequestUuid, PropagateRequestIdLayer, SetRequestIdLayer};
use utoipa_axum::{router::OpenApiRouter, routes};

/// The system API — `/api/system/*` and `/api/user/session` — as a router
/// that also describes itself: each handler's `#[utoipa::path]` gives its
/// route and its operation, so the document (`openapi::system`) cannot list a
/// route the router lacks, or miss one.
pub fn system_routes() -> OpenApiRouter<Arc<AppState>> {
    OpenApiRouter::new()
        .routes(routes!(
            session::show,
            session::login,
            session::refresh,
            session::logout
        ))
        .routes(routes!(session::admin_login))
        .routes(routes!(users::list, users::create))
        .routes(routes!(users::get, users::update, users::delete))
        // PUT is PATCH for users (DreamFactory clients send both); one
        // operation in the document
        .route("/system/user/{id}", put(users::update))
        .routes(routes!(apps::list, apps::create))
        .routes(routes!(apps::get, apps::update, apps::delete))
        .routes(routes!(apps::regenerate))
        .routes(routes!(event_scripts::list))
        .routes(routes!(
            event_scripts::get,
            event_scripts::create,
            event_scripts::replace,
            event_scripts::update,
            event_scripts::delete
        ))
        .routes(routes!(policy::show))
        .routes(routes!(policy::check))
        .routes(routes!(services::list, services::create))
        .routes(routes!(services::get, services::update, services::delete))
        .routes(routes!(services::refresh))
}

/// The `/api` routes; mounted at `/api` and at its alias `/api/v2`. Every one
/// of them is behind `auth::authenticate`.
fn api_routes(state: Arc<AppState>) -> Router<Arc<AppState>> {
    let (system, _) = system_routes().split_for_parts();
    Router::new()
        .route("/", get(list_services))
        .route("/_spec", get(spec::instance))
        .merge(system)
        .route("/{service}", get(service_resources))
        .route("/{service}/_table", get(table::list_tables))
        .route(
            "/{service}/_table/{table}",
            get(table::operation)
                .post(table::operation)
                .patch(table::operation)
                .put(table::operation)
                .delete(table::operation),
        )
        .route(
            "/{service}/_table/{table}/{id}",
            get(table::operation)
                .post(table::operation)
                .patch(table::operation)
                .put(table::operation)
                .delete(table::operation),
        )
        .route("/{service}/_spec", get(spec::service))
        .route("/{service}/_schema", get(schema::list))
        .route("/{service}/_schema/{table}", get(schema::table))
        .route_layer(axum::middleware::from_fn_with_state(
            state,
            authenticate::authenticate,
        ))
}

pub fn router(state: Arc<AppState>) -> Router {
    let limit = state.config.max_body_bytes;
    let cors = cors_layer(&state.config.cors);
    let app = Router::new()
        .route("/health", get(health))
        .route("/ready", get(ready))
        .route("/docs", get(docs::page))
        .route("/docs/", get(docs::page))
        .route("/docs/swagger-ui-bundle.js", get(docs::bundle))
        .route("/docs/swagger-ui.css", get(docs::css))
        .route("/docs/favicon-32x32.png", get(docs::icon))
        .nest("/api/v2", api_routes(state.clone()))
        .nest("/api", api_routes(state.clone()))
        .fallback(not_found)
        .method_not_allowed_fallback(method_not_allowed)
        .layer(DefaultBodyLimit::max(limit))
        .with_state(state);
    // Layers outside the router see every request, before routing: the method
    // tunnel must rewrite the verb before a route is chosen.
    Router::new().fallback_service(
        ServiceBuilder::new()
            .layer(SetRequestIdLayer::new(REQUEST_ID, MakeRequestUuid))
            .layer(axum::middleware::from_fn(access::log))
            .layer(PropagateRequestIdLayer::new(REQUEST_ID))
            // Preflight requests are answered here, before any credentials are asked for.
            .option_layer(cors)
            .layer(axum::middleware::from_fn(tunnel))
            .service(app),
    )
}

/// CORS from the configuration; `None` (no CORS headers at all) unless origins are listed.
fn cors_layer(c: &crate::config::CorsConfig) -> Option<CorsLayer> {
    if c.origins.is_empty() {
        return None;
    }
    let origins = if c.origins.iter().any(|o| o == "*") {
        AllowOrigin::any()
    } else {
        AllowOrigin::list(
            c.origins
                .iter()
                .filter_map(|o| HeaderValue::from_str(o).ok()),
        )
    };
    let layer = CorsLayer::new()
        .allow_origin(origins)
        .allow_methods(
            c.methods
                .iter()
                .filter_map(|m| Method::from_bytes(m.to_ascii_uppercase().as_bytes()).ok())
                .collect::<Vec<_>>(),
        )
        .allow_headers(
            c.headers
                .iter()
                .filter_map(|h| HeaderName::from_bytes(h.to_ascii_lowercase().as_bytes()).ok())
                .collect::<Vec<_>>(),
        )
        .expose_headers([
            REQUEST_ID,
            HeaderName::from_static("x-ratelimit-limit"),
            HeaderName::from_static("x-ratelimit-remaining"),
            HeaderName::from_static("retry-after"),
        ])
        .max_age(std::time::Duration::from_secs(c.max_age_secs));
    Some(if c.credentials {
        layer.allow_credentials(true)
    } else {
        layer
    })
}

/// `POST` with `X-HTTP-Method` (or `X-HTTP-Method-Override`, or `?method=`)
/// naming GET, PATCH, PUT, DELETE or MERGE is treated as that verb; MERGE is
/// PATCH (DreamFactory's name for it), sent directly or tunnelled. Any other
/// verb named is 400: the request would otherwise be a create.
async fn tunnel(mut req: Request, next: axum::middleware::Next) -> Response {
    if req.method().as_str() == "MERGE" {
        *req.method_mut() = Method::PATCH;
    } else if req.method() == Method::POST {
        let header = ["x-http-method", "x-http-method-override"]
            .iter()
            .find_map(|h| req.headers().get(*h))
            .map(|v| v.to_str().unwrap_or("").to_string());
        let query = || {
            url::form_urlencoded::parse(req.uri().query().unwrap_or("").as_bytes())
                .find(|(k, _)| k == "method")
                .map(|(_, v)| v.into_owned())
        };
        if let Some(asked) = header.or_else(query) {
            let verb = match asked.trim().to_ascii_uppercase().as_str() {
                "GET" => Method::GET,
                "PATCH" | "MERGE" => Method::PATCH,
                "PUT" => Method::PUT,
                "DELETE" => Method::DELETE,
                "POST" => Method::POST,
                _ => {
                    return ApiError::new(
                        Code::BadRequest,
                        format!(
                            "'{}' is not a method a POST can stand for: GET, PATCH, PUT, DELETE or MERGE",
                            asked.trim()
                        ),
                    )
                    .with_context(json!({"parameter": "X-HTTP-Method"}))
                    .into_response();
                }
            };
            if verb != Method::POST {
                *req.method_mut() = verb;
                req.extensions_mut().insert(Tunnelled);
            }
        }
    }
    next.run(req).await
}

async fn health() -> Json<Value> {
    Json(json!({"status": "ok"}))
}

/// Ready when the system store answers and every mounted service's database
/// does. Only an admin's request learns which services there are and how
/// each is; anyone else gets the verdict alone (a load balancer needs no more).
async fn ready(State(state): State<Arc<AppState>>, req: Request) -> Response {
    let creds = auth::Credentials::from_request(req.headers(), req.uri().query());
    let admin = creds.key.is_some() || creds.session.is_some();
    let admin = admin
        && authenticate::resolve(&state, &creds)
            .await
            .is_ok_and(|p| p.is_admin());
    let store_ok = state.store.ping().await.is_ok();
    let mut services = serde_json::Map::new();
    let mut all_ok = store_ok;
    for s in state.registry.all() {
        let ok = s.connector.ping().await.is_ok();
        all_ok &= ok;
        services.insert(s.name.clone(), json!(if ok { "ok" } else { "unavailable" }));
    }
    let status = if all_ok { "ready" } else { "not_ready" };
    let body = if admin {
        json!({"status": status, "system_store": if store_ok { "ok" } else { "unavailable" }, "services": services})
    } else {
        json!({ "status": status })
    };
    let code = if all_ok {
        StatusCode::OK
    } else {
        StatusCode::SERVICE_UNAVAILABLE
    };
    (code, Json(body)).into_response()
}

/// `GET /api`: the services the caller may see; on `/api/v2` also under
/// `services`, where DreamFactory's clients read them.
async fn list_services(
    State(state): State<Arc<AppState>>,
    caller: Principal,
    axum::extract::OriginalUri(uri): axum::extract::OriginalUri,
) -> Json<Value> {
    let list: Vec<Value> = state
        .registry
        .all()
        .iter()
        .filter(|s| !visible_resources(&state, &caller, s).is_empty())
        .map(|s| json!({"name": s.name, "type": s.kind, "label": s.label, "description": s.description}))
        .collect();
    if uri.path().trim_end_matches('/') == "/api/v2" {
        return Json(json!({ "resource": list, "services": list }));
    }
    Json(json!({ "resource": list }))
}

/// Which of a service's resources (`_table`, `_schema`) the caller may read anything of.
fn visible_resources(
    state: &AppState,
    caller: &Principal,
    svc: &crate::system::services::Service,
) -> Vec<&'static str> {
    let catalog = svc.catalog();
    let (p, name) = (&state.policy, svc.name.as_str());
    let mut out = Vec::new();
    if p.allows(caller, name, Resource::Tables, "GET")
        || !p
            .visible_tables(caller, name, catalog.tables(), Resource::Table)
            .is_empty()
    {
        out.push("_table");
    }
    if p.allows(caller, name, Resource::Schemas, "GET")
        || !p
            .visible_tables(caller, name, catalog.tables(), Resource::Schema)
            .is_empty()
    {
        out.push("_schema");
    }
    out
}

/// `GET /api/{service}`: what the service offers the caller.
async fn service_resources(
    State(state): State<Arc<AppState>>,
    caller: Principal,
    axum::extract::Path(service): axum::extract::Path<String>,
) -> ApiResult<Json<Value>> {
    let svc = state.service(&service)?;
    let visible = visible_resources(&state, &caller, &svc);
    if visible.is_empty() {
        state
            .policy
            .authorize(&caller, &service, Resource::Any, "GET")?;
    }
    let list: Vec<Value> = visible.iter().map(|r| json!({"name": r})).collect();
    Ok(Json(json!({ "resource": list })))
}

async fn not_found() -> ApiError {
    ApiError::not_found("no such resource")
}

async fn method_not_allowed() -> ApiError {
    ApiError::new(
        Code::MethodNotAllowed,
        "this method is not allowed on this resource",
    )
}
