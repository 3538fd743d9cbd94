//! `/docs`: Swagger UI over the API descriptions (docs/API.md §8), served from
//! the binary — the assets are vendored from npm's `swagger-ui-dist` (see
//! `assets/swagger-ui/README.md`), so no CDN is involved.
//!
//! The page keeps an API key in the browser's local storage and sends it
//! with every request it makes (the documents are built for the caller, and
//! "try it out" needs credentials too); it never reaches the server otherwise.

use axum::http::{HeaderValue, header};
use axum::response::{Html, IntoResponse, Response};

const BUNDLE: &[u8] = include_bytes!("../../assets/swagger-ui/swagger-ui-bundle.js");
const CSS: &[u8] = include_bytes!("../../assets/swagger-ui/swagger-ui.css");
const ICON: &[u8] = include_bytes!("../../assets/swagger-ui/favicon-32x32.png");

const PAGE: &str = include_str!("../../assets/docs.html");

fn asset(body: &'static [u8], kind: &'static str) -> Response {
    (
        [
            (header::CONTENT_TYPE, HeaderValue::from_static(kind)),
            (
                header::CACHE_CONTROL,
                HeaderValue::from_static("public, max-age=86400"),
            ),
        ],
        body,
    )
        .into_response()
}

/// `GET /docs`; `?url=/api/{service}/_spec` shows one service.
pub async fn page() -> Html<&'static str> {
    Html(PAGE)
}

pub async fn bundle() -> Response {
    asset(BUNDLE, "text/javascript; charset=utf-8")
}

pub async fn css() -> Response {
    asset(CSS, "text/css; charset=utf-8")
}

pub async fn icon() -> Response {
    asset(ICON, "image/png")
}
