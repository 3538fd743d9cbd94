//! The only place errors become HTTP: one code table (code → status), the
//! contract's envelope, and the censoring of internal detail, which goes to the
//! log (inside the request's span, so with its request id) and never to the client.

use axum::http::{HeaderValue, StatusCode, header};
use axum::response::{IntoResponse, Response};
use gatehouse_core::{ConnectorError, ErrorKind, FilterError};
use serde_json::{Value, json};

tokio::task_local! {
    /// The id of the request this task answers (set by the access log,
    /// `crate::http::access`), for log lines written while it runs.
    pub static REQUEST: String;
}

/// The id of the request being answered on this task ("" outside one).
pub fn request_id() -> String {
    REQUEST.try_with(Clone::clone).unwrap_or_default()
}

/// Declares [`Code`] from its table: one row per code, with the name the API
/// sends and its HTTP status, so a code cannot lack either.
macro_rules! codes {
    ($($(#[$doc:meta])* $code:ident = $name:literal, $status:ident;)*) => {
        /// Every error code the API returns (docs/API.md lists them all).
        #[derive(Debug, Clone, Copy, PartialEq, Eq)]
        pub enum Code {
            $($(#[$doc])* $code,)*
        }

        impl Code {
            /// Every code, in the table's order.
            pub const ALL: &'static [Code] = &[$(Code::$code,)*];

            pub fn status(self) -> StatusCode {
                match self {
                    $(Code::$code => StatusCode::$status,)*
                }
            }

            pub fn as_str(self) -> &'static str {
                match self {
                    $(Code::$code => $name,)*
                }
            }
        }
    };
}

codes! {
    BadRequest = "bad_request", BAD_REQUEST;
    InvalidJson = "invalid_json", BAD_REQUEST;
    InvalidFilter = "invalid_filter", BAD_REQUEST;
    /// A filter beyond a `[limits]` bound (depth, length, terms, values).
    FilterTooComplex = "filter_too_complex", BAD_REQUEST;
    /// `ids`, `fields`, `order` beyond their limit, or more values than the engine binds.
    LimitExceeded = "limit_exceeded", BAD_REQUEST;
    InvalidValue = "invalid_value", BAD_REQUEST;
    InvalidParameter = "invalid_parameter", BAD_REQUEST;
    /// A parameter the endpoint does not take (a typo such as `limt`).
    UnknownParameter = "unknown_parameter", BAD_REQUEST;
    UnknownField = "unknown_field", BAD_REQUEST;
    MissingSelector = "missing_selector", BAD_REQUEST;
    NoPrimaryKey = "no_primary_key", BAD_REQUEST;
    BatchFailed = "batch_failed", BAD_REQUEST;
    InvalidConfig = "invalid_config", BAD_REQUEST;
    /// A hook script threw `{status_code, message}`; the status is the script's.
    ScriptRejected = "script_rejected", BAD_REQUEST;
    Unauthorized = "unauthorized", UNAUTHORIZED;
    Forbidden = "forbidden", FORBIDDEN;
    NotFound = "not_found", NOT_FOUND;
    MethodNotAllowed = "method_not_allowed", METHOD_NOT_ALLOWED;
    ReadOnly = "read_only", METHOD_NOT_ALLOWED;
    Conflict = "conflict", CONFLICT;
    /// The table cannot be read in its present state (a materialized view
    /// not yet populated: `REFRESH MATERIALIZED VIEW`).
    ObjectNotReady = "object_not_ready", CONFLICT;
    DuplicateKey = "duplicate_key", CONFLICT;
    ForeignKeyViolation = "foreign_key_violation", CONFLICT;
    PayloadTooLarge = "payload_too_large", PAYLOAD_TOO_LARGE;
    MissingField = "missing_field", UNPROCESSABLE_ENTITY;
    TypeMismatch = "type_mismatch", UNPROCESSABLE_ENTITY;
    /// A value for a column the database computes (generated, identity ALWAYS).
    ReadOnlyField = "read_only_field", UNPROCESSABLE_ENTITY;
    NotNullViolation = "not_null_violation", UNPROCESSABLE_ENTITY;
    CheckViolation = "check_violation", UNPROCESSABLE_ENTITY;
    ServiceUnreachable = "service_unreachable", UNPROCESSABLE_ENTITY;
    RateLimited = "rate_limited", TOO_MANY_REQUESTS;
    NotImplemented = "not_implemented", NOT_IMPLEMENTED;
    Unavailable = "service_unavailable", SERVICE_UNAVAILABLE;
    /// The connection failed after a write or its COMMIT was sent.
    OutcomeUnknown = "outcome_unknown", SERVICE_UNAVAILABLE;
    Internal = "internal_error", INTERNAL_SERVER_ERROR;
    ScriptError = "script_error", INTERNAL_SERVER_ERROR;
}

/// An error on its way to the client.
#[derive(Debug)]
pub struct ApiError {
    pub code: Code,
    pub message: String,
    pub context: Option<Value>,
    /// Overrides the code's status (a failed batch answers with its first failure's status).
    pub status: Option<StatusCode>,
}

pub type ApiResult<T> = Result<T, ApiError>;

impl ApiError {
    pub fn new(code: Code, message: impl Into<String>) -> Self {
        Self {
            code,
            message: message.into(),
            context: None,
            status: None,
        }
    }

    pub fn with_context(mut self, context: Value) -> Self {
        self.context = Some(context);
        self
    }

    pub fn status(&self) -> StatusCode {
        self.status.unwrap_or_else(|| self.code.status())
    }

    /// A fault of ours: `detail` is logged with the request's id, the
    /// client gets a plain 500.
    pub fn internal(detail: impl std::fmt::Display) -> Self {
        tracing::error!(%detail, request_id = %request_id(), "internal error");
        Self::new(Code::Internal, "internal error")
    }

    pub fn not_found(what: impl Into<String>) -> Self {
        Self::new(Code::NotFound, what)
    }

    pub fn unknown_field(table: &str, field: &str) -> Self {
        Self::new(
            Code::UnknownField,
            format!("'{field}' is not a field of '{table}'"),
        )
        .with_context(json!({ "field": field }))
    }

    /// The error as it appears in a batch answer's `context.errors`.
    pub fn to_item(&self, index: usize) -> Value {
        json!({"index": index, "code": self.code.as_str(), "status_code": self.status().as_u16(), "message": self.message})
    }

    /// Maps a connector error, logging what the client must not see. `writing`
    /// tells a bad value in a body (422) from one in a filter (400).
    pub fn from_connector(e: ConnectorError, writing: bool) -> Self {
        let code = match e.kind {
            ErrorKind::NotFound => Code::NotFound,
            ErrorKind::UniqueViolation => Code::DuplicateKey,
            ErrorKind::ForeignKeyViolation => Code::ForeignKeyViolation,
            ErrorKind::NotNull => Code::NotNullViolation,
            ErrorKind::Check => Code::CheckViolation,
            ErrorKind::InvalidValue if writing => Code::TypeMismatch,
            ErrorKind::InvalidValue => Code::InvalidValue,
            ErrorKind::InvalidInput => Code::BadRequest,
            ErrorKind::Unsupported => Code::NotImplemented,
            ErrorKind::ReadOnly => Code::ReadOnly,
            ErrorKind::Forbidden => Code::Forbidden,
            ErrorKind::LimitExceeded => Code::LimitExceeded,
            ErrorKind::Unavailable => Code::Unavailable,
            ErrorKind::NotReady => Code::ObjectNotReady,
            ErrorKind::OutcomeUnknown => Code::OutcomeUnknown,
            ErrorKind::Internal => Code::Internal,
        };
        match code {
            Code::Internal => {
                tracing::error!(detail = %e.detail, request_id = %request_id(), "internal connector error");
            }
            Code::Unavailable | Code::OutcomeUnknown => {
                tracing::warn!(detail = %e.detail, request_id = %request_id(), "database unavailable");
            }
            _ => {
                tracing::debug!(detail = %e.detail, code = code.as_str(), "connector rejected request");
            }
        }
        let message = e
            .public
            .unwrap_or_else(|| default_message(e.kind).to_string());
        let mut err = ApiError::new(code, message);
        if let Some(f) = e.field {
            err = err.with_context(json!({ "field": f }));
        }
        err
    }
}

fn default_message(kind: ErrorKind) -> &'static str {
    match kind {
        ErrorKind::NotFound => "record not found",
        ErrorKind::UniqueViolation => "a record with this key already exists",
        ErrorKind::ForeignKeyViolation => "the write breaks a reference to another record",
        ErrorKind::NotNull => "a required field is null",
        ErrorKind::Check => "a value breaks a check constraint",
        ErrorKind::InvalidValue => "a value cannot be converted to the field's type",
        ErrorKind::InvalidInput => {
            "the database cannot apply this request to these fields (a generated column, or an operator the type lacks)"
        }
        ErrorKind::Unsupported => "this database does not support the operation",
        ErrorKind::ReadOnly => "the resource is read-only",
        ErrorKind::Forbidden => "the database does not allow this operation",
        ErrorKind::LimitExceeded => "the request is too large for this database",
        ErrorKind::Unavailable => "the database is unavailable; try again shortly",
        ErrorKind::NotReady => {
            "the table cannot be read in its present state (a materialized view that has not been refreshed)"
        }
        ErrorKind::OutcomeUnknown => {
            "the connection to the database was lost after the write was sent: it may or may not have been applied; read the records before writing again"
        }
        ErrorKind::Internal => "internal error",
    }
}

impl From<FilterError> for ApiError {
    fn from(e: FilterError) -> Self {
        match e.limit {
            Some(limit) => ApiError::new(
                Code::FilterTooComplex,
                format!("the filter is too complex: {}", e.expected),
            )
            .with_context(json!({"parameter": "filter", "position": e.position, "limit": limit})),
            None => ApiError::new(Code::InvalidFilter, format!("invalid filter: {e}"))
                .with_context(
                    json!({"position": e.position, "expected": e.expected, "found": e.found}),
                ),
        }
    }
}

/// The error envelope, as every error answer carries it.
#[derive(serde::Serialize, utoipa::ToSchema)]
pub struct ErrorBody {
    error: ErrorDetail,
}

#[derive(serde::Serialize, utoipa::ToSchema)]
pub struct ErrorDetail {
    /// One of the codes in docs/API.md §11.
    #[schema(value_type = String)]
    code: &'static str,
    status_code: u16,
    message: String,
    /// What the error is about: `field`, `index`, `position`, `limit`, …
    #[serde(skip_serializing_if = "Option::is_none")]
    #[schema(value_type = Option<Object>)]
    context: Option<Value>,
}

impl IntoResponse for ApiError {
    fn into_response(self) -> Response {
        let status = self.status();
        let body = ErrorBody {
            error: ErrorDetail {
                code: self.code.as_str(),
                status_code: status.as_u16(),
                message: self.message,
                context: self.context,
            },
        };
        let mut resp = (status, axum::Json(body)).into_response();
        // "try again" is only advice when trying again is safe
        if status == StatusCode::SERVICE_UNAVAILABLE && self.code != Code::OutcomeUnknown {
            resp.headers_mut()
                .insert(header::RETRY_AFTER, HeaderValue::from_static("5"));
        }
        resp
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// docs/API.md's code table lists every code with its status, and no
    /// code that does not exist.
    #[test]
    fn the_api_document_lists_every_code() {
        let doc = std::fs::read_to_string(concat!(env!("CARGO_MANIFEST_DIR"), "/docs/API.md"))
            .unwrap_or_else(|e| panic!("docs/API.md: {e}"));
        let table = doc
            .split("## 11. Error codes")
            .nth(1)
            .unwrap_or_else(|| panic!("docs/API.md has no error code table"));
        let rows: Vec<(&str, &str)> = table
            .lines()
            .filter_map(|l| {
                let cells: Vec<&str> = l.split('|').map(str::trim).collect();
                let code = cells.get(1)?.strip_prefix('`')?.strip_suffix('`')?;
                Some((code, *cells.get(2)?))
            })
            .collect();
        for code in Code::ALL {
            let Some((_, status)) = rows.iter().find(|(c, _)| *c == code.as_str()) else {
                panic!("docs/API.md does not list '{}'", code.as_str());
            };
            let expected = code.status().as_u16().to_string();
            assert!(
                status.contains(&expected) || *code == Code::ScriptRejected,
                "docs/API.md gives '{}' status {status}, not {expected}",
                code.as_str()
            );
        }
        for (c, _) in &rows {
            assert!(
                Code::ALL.iter().any(|k| k.as_str() == *c),
                "docs/API.md lists '{c}', which is not a code"
            );
        }
    }
}
