//! The access log: one event per answered request (target `gatehouse::access`:
//! method, path, status, milliseconds, request id), at `error` for 5xx,
//! `warn` for 4xx and `info` otherwise, so the log filter chooses which are
//! written (`access_log` in the configuration). No span is opened per
//! request — entering one on every poll costs more than the event — so events
//! logged while a request runs name its id themselves ([`request_id`]).

use axum::extract::Request;
use axum::http::HeaderName;
use axum::middleware::Next;
use axum::response::Response;
use std::time::Instant;

/// The header that carries a request's id (set when the client sends none).
pub const REQUEST_ID: HeaderName = HeaderName::from_static("x-request-id");

/// The log target of the access events.
pub const TARGET: &str = "gatehouse::access";

pub use crate::error::request_id;

/// Middleware: runs the request with its id at hand, then logs the answer.
pub async fn log(req: Request, next: Next) -> Response {
    let id = req
        .headers()
        .get(&REQUEST_ID)
        .and_then(|v| v.to_str().ok())
        .unwrap_or("")
        .to_owned();
    let method = req.method().clone();
    // the path only: query strings may carry credentials (`api_key`)
    let uri = req.uri().clone();
    let started = Instant::now();
    let response = crate::error::REQUEST.scope(id.clone(), next.run(req)).await;
    let status = response.status().as_u16();
    let ms = started.elapsed().as_secs_f64() * 1000.0;
    let path = uri.path();
    match status {
        500.. => {
            tracing::error!(target: TARGET, %method, path, status, ms, request_id = %id, "request failed");
        }
        400..=499 => {
            tracing::warn!(target: TARGET, %method, path, status, ms, request_id = %id, "request refused");
        }
        _ => tracing::info!(target: TARGET, %method, path, status, ms, request_id = %id, "request"),
    }
    response
}
