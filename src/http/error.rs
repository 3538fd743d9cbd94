//! The only place errors become HTTP: one code table (code → status), the
//! contract's envelope, and the censoring of internal detail, which goes to the
//! log (inside the request's span, so with its request id) and never to the client.

use axum::http::{HeaderValue, StatusCode, header};
use axum::response::{IntoResponse, Response};
use gatehouse_core::{ConnectorError, ErrorKind, FilterError};
use serde_json::{Value, json};

/// Every error code the API returns, with its status. The table is `status()`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Code {
    BadRequest,
    InvalidJson,
    InvalidFilter,
    FilterTooComplex,
    LimitExceeded,
    InvalidValue,
    InvalidParameter,
    UnknownField,
    MissingSelector,
    NoPrimaryKey,
    BatchFailed,
    InvalidConfig,
    Unauthorized,
    Forbidden,
    NotFound,
    MethodNotAllowed,
    ReadOnly,
    Conflict,
    DuplicateKey,
    ForeignKeyViolation,
    PayloadTooLarge,
    MissingField,
    TypeMismatch,
    NotNullViolation,
    CheckViolation,
    ServiceUnreachable,
    RateLimited,
    ScriptRejected,
    ScriptError,
    NotImplemented,
    Unavailable,
    OutcomeUnknown,
    Internal,
}

impl Code {
    pub fn status(self) -> StatusCode {
        use Code::*;
        match self {
            BadRequest | InvalidJson | InvalidFilter | FilterTooComplex | LimitExceeded
            | InvalidValue | InvalidParameter | UnknownField | MissingSelector | NoPrimaryKey
            | BatchFailed | InvalidConfig | ScriptRejected => StatusCode::BAD_REQUEST,
            Unauthorized => StatusCode::UNAUTHORIZED,
            Forbidden => StatusCode::FORBIDDEN,
            NotFound => StatusCode::NOT_FOUND,
            MethodNotAllowed | ReadOnly => StatusCode::METHOD_NOT_ALLOWED,
            Conflict | DuplicateKey | ForeignKeyViolation => StatusCode::CONFLICT,
            PayloadTooLarge => StatusCode::PAYLOAD_TOO_LARGE,
            MissingField | TypeMismatch | NotNullViolation | CheckViolation
            | ServiceUnreachable => StatusCode::UNPROCESSABLE_ENTITY,
            RateLimited => StatusCode::TOO_MANY_REQUESTS,
            NotImplemented => StatusCode::NOT_IMPLEMENTED,
            Unavailable | OutcomeUnknown => StatusCode::SERVICE_UNAVAILABLE,
            Internal | ScriptError => StatusCode::INTERNAL_SERVER_ERROR,
        }
    }

    pub fn as_str(self) -> &'static str {
        use Code::*;
        match self {
            BadRequest => "bad_request",
            InvalidJson => "invalid_json",
            InvalidFilter => "invalid_filter",
            FilterTooComplex => "filter_too_complex",
            LimitExceeded => "limit_exceeded",
            InvalidValue => "invalid_value",
            InvalidParameter => "invalid_parameter",
            UnknownField => "unknown_field",
            MissingSelector => "missing_selector",
            NoPrimaryKey => "no_primary_key",
            BatchFailed => "batch_failed",
            InvalidConfig => "invalid_config",
            Unauthorized => "unauthorized",
            Forbidden => "forbidden",
            NotFound => "not_found",
            MethodNotAllowed => "method_not_allowed",
            ReadOnly => "read_only",
            Conflict => "conflict",
            DuplicateKey => "duplicate_key",
            ForeignKeyViolation => "foreign_key_violation",
            PayloadTooLarge => "payload_too_large",
            MissingField => "missing_field",
            TypeMismatch => "type_mismatch",
            NotNullViolation => "not_null_violation",
            CheckViolation => "check_violation",
            ServiceUnreachable => "service_unreachable",
            RateLimited => "rate_limited",
            ScriptRejected => "script_rejected",
            ScriptError => "script_error",
            NotImplemented => "not_implemented",
            Unavailable => "service_unavailable",
            OutcomeUnknown => "outcome_unknown",
            Internal => "internal_error",
        }
    }
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
            ErrorKind::OutcomeUnknown => Code::OutcomeUnknown,
            ErrorKind::Internal => Code::Internal,
        };
        match code {
            Code::Internal => {
                tracing::error!(detail = %e.detail, request_id = %super::access::request_id(), "internal connector error")
            }
            Code::Unavailable | Code::OutcomeUnknown => {
                tracing::warn!(detail = %e.detail, request_id = %super::access::request_id(), "database unavailable")
            }
            _ => {
                tracing::debug!(detail = %e.detail, code = code.as_str(), "connector rejected request")
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

impl IntoResponse for ApiError {
    fn into_response(self) -> Response {
        let status = self.status();
        let mut body = json!({
            "code": self.code.as_str(),
            "status_code": status.as_u16(),
            "message": self.message,
        });
        if let (Some(ctx), Some(obj)) = (self.context, body.as_object_mut()) {
            obj.insert("context".into(), ctx);
        }
        let mut resp = (status, axum::Json(json!({ "error": body }))).into_response();
        // "try again" is only advice when trying again is safe
        if status == StatusCode::SERVICE_UNAVAILABLE && self.code != Code::OutcomeUnknown {
            resp.headers_mut()
                .insert(header::RETRY_AFTER, HeaderValue::from_static("5"));
        }
        resp
    }
}
