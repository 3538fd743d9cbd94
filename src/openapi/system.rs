//! The static part of the API — `/api/system/*` and `/api/user/session` —
//! described with utoipa: the operations come from the router
//! (`http::system_routes`) and the handlers' `#[utoipa::path]` attributes,
//! the bodies from the input structs the handlers read (`http::extract::Body`).

use std::collections::BTreeMap;
use utoipa::openapi::{Ref, RefOr, Response, ResponseBuilder, content::ContentBuilder};
use utoipa::{IntoResponses, OpenApi};

/// Any JSON value.
pub type AnyJson = serde_json::Value;

/// The error answers every admin operation may give.
pub struct Refused;

/// `Refused`, and 404 for a record that is not there.
pub struct RefusedOrMissing;

fn error_response(description: &str) -> RefOr<Response> {
    let content = ContentBuilder::new()
        .schema(Some(Ref::from_schema_name("ErrorBody")))
        .build();
    ResponseBuilder::new()
        .description(description)
        .content("application/json", content)
        .build()
        .into()
}

impl IntoResponses for Refused {
    fn responses() -> BTreeMap<String, RefOr<Response>> {
        [
            ("400", "Bad input"),
            ("401", "No or bad credentials"),
            ("403", "Not allowed"),
        ]
        .into_iter()
        .map(|(status, description)| (status.to_string(), error_response(description)))
        .collect()
    }
}

impl IntoResponses for RefusedOrMissing {
    fn responses() -> BTreeMap<String, RefOr<Response>> {
        let mut all = Refused::responses();
        all.insert("404".into(), error_response("Not found"));
        all
    }
}

#[derive(OpenApi)]
#[openapi(
    info(title = "Gatehouse system API"),
    components(schemas(
        crate::system::store::User,
        crate::system::store::App,
        crate::error::ErrorBody,
        crate::error::ErrorDetail
    ))
)]
pub struct SystemApi;

/// The system API's document, as JSON: the operations the router serves
/// (`http::system_routes`), with the title and shared schemas above.
pub fn document() -> serde_json::Value {
    let mut api = SystemApi::openapi();
    api.merge(crate::http::system_routes().into_openapi());
    serde_json::to_value(api).unwrap_or_default()
}
