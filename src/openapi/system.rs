//! The static part of the API — `/api/system/*` and `/api/user/session` —
//! described with utoipa from the handlers' own `#[utoipa::path]` attributes.
//! The bodies below exist for the description only: the handlers read their
//! JSON field by field (`system::fields`), to name the field in each error.
#![allow(dead_code)]

use utoipa::{OpenApi, ToSchema};

/// Any JSON value.
pub type AnyJson = serde_json::Value;

/// `{"resource": [...]}`
#[derive(ToSchema)]
pub struct ListBody {
    resource: Vec<AnyJson>,
}

/// The error envelope.
#[derive(ToSchema)]
pub struct ErrorBody {
    error: ErrorDetail,
}

#[derive(ToSchema)]
pub struct ErrorDetail {
    code: String,
    status_code: u16,
    message: String,
    context: Option<AnyJson>,
}

/// A service: `type` is postgres, mysql, sqlite, sqlserver or mongodb.
#[derive(ToSchema)]
pub struct ServiceInput {
    name: String,
    #[schema(rename = "type")]
    kind: String,
    label: Option<String>,
    description: Option<String>,
    /// `url` (or host, port, database, username, password), `schemas`,
    /// `max_records`, `pool_max`, `read_only`.
    config: AnyJson,
}

#[derive(ToSchema)]
pub struct UserInput {
    email: Option<String>,
    name: Option<String>,
    password: Option<String>,
    role: Option<String>,
    active: Option<bool>,
}

#[derive(ToSchema)]
pub struct AppInput {
    name: Option<String>,
    description: Option<String>,
    role: Option<String>,
    active: Option<bool>,
}

/// A hook script; `type` may be javascript, v8js or nodejs.
#[derive(ToSchema)]
pub struct ScriptInput {
    content: Option<String>,
    is_active: Option<bool>,
    #[schema(rename = "type")]
    kind: Option<String>,
}

#[derive(ToSchema)]
pub struct LoginInput {
    email: String,
    password: String,
}

#[derive(OpenApi)]
#[openapi(
    info(title = "Gatehouse system API"),
    components(schemas(crate::system::store::User, crate::system::store::App))
)]
pub struct SystemApi;

/// The system API's document, as JSON: the operations the router serves
/// (`http::system_routes`), with the title and shared schemas above.
pub fn document() -> serde_json::Value {
    let mut api = SystemApi::openapi();
    api.merge(crate::http::system_routes().into_openapi());
    serde_json::to_value(api).unwrap_or_default()
}
