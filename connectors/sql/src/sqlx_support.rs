//! What the sqlx-based drivers share: mapping `sqlx::Error` to shared kinds
//! and describing connection failures without echoing driver text.

use crate::ast::{Query, SqlType, SqlValue};
use gatehouse_core::{ConnectorError, ErrorKind};
use sqlx::error::{DatabaseError, ErrorKind as SqlxKind};
use sqlx::{AssertSqlSafe, Database, Encode, Type};

/// Statements longer than this are not kept prepared on their connection.
/// sqlx keeps up to 100 per connection with their text and parameter types,
/// and so does the server: long statements come from long filters, which are
/// rarely repeated, and a stream of different ones kept tens of MB per
/// connection alive after a burst (on both sides). Ordinary requests print
/// far shorter statements and keep being prepared once.
pub const PERSIST_MAX_SQL: usize = 4096;

/// The printed statement with its parameters bound, in order. A NULL is
/// bound as its column's kind ([`SqlValue::Null`]).
pub fn bind<DB: Database + sqlx::database::HasStatementCache>(
    q: &Query,
) -> sqlx::query::Query<'static, DB, DB::Arguments>
where
    for<'t> bool: Encode<'t, DB> + Type<DB>,
    for<'t> i64: Encode<'t, DB> + Type<DB>,
    for<'t> f64: Encode<'t, DB> + Type<DB>,
    for<'t> String: Encode<'t, DB> + Type<DB>,
    for<'t> Vec<u8>: Encode<'t, DB> + Type<DB>,
    for<'t> Option<bool>: Encode<'t, DB>,
    for<'t> Option<i64>: Encode<'t, DB>,
    for<'t> Option<f64>: Encode<'t, DB>,
    for<'t> Option<String>: Encode<'t, DB>,
    for<'t> Option<Vec<u8>>: Encode<'t, DB>,
{
    let mut query = sqlx::query(AssertSqlSafe(q.sql.clone()));
    if q.sql.len() > PERSIST_MAX_SQL {
        query = query.persistent(false);
    }
    for p in &q.params {
        query = match p {
            SqlValue::Null(SqlType::Bool) => query.bind(None::<bool>),
            SqlValue::Null(SqlType::Int) => query.bind(None::<i64>),
            SqlValue::Null(SqlType::Float) => query.bind(None::<f64>),
            SqlValue::Null(SqlType::Text) => query.bind(None::<String>),
            SqlValue::Null(SqlType::Bytes) => query.bind(None::<Vec<u8>>),
            SqlValue::Bool(b) => query.bind(*b),
            SqlValue::Int(i) => query.bind(*i),
            SqlValue::Float(f) => query.bind(*f),
            SqlValue::Text(s) => query.bind(s.clone()),
            SqlValue::Bytes(b) => query.bind(b.clone()),
        };
    }
    query
}

/// Maps a sqlx error to a connector error. `classify` lets an engine map its
/// own codes (e.g. Postgres SQLSTATE class 22, MySQL error numbers) where the
/// generic kinds do not apply.
pub fn map_error(
    e: sqlx::Error,
    classify: impl Fn(&dyn DatabaseError) -> Option<ErrorKind>,
) -> ConnectorError {
    let kind = match &e {
        sqlx::Error::Database(db) => match db.kind() {
            SqlxKind::UniqueViolation => ErrorKind::UniqueViolation,
            SqlxKind::ForeignKeyViolation => ErrorKind::ForeignKeyViolation,
            SqlxKind::NotNullViolation => ErrorKind::NotNull,
            SqlxKind::CheckViolation | SqlxKind::ExclusionViolation => ErrorKind::Check,
            _ => classify(db.as_ref()).unwrap_or(ErrorKind::Internal),
        },
        sqlx::Error::Io(_)
        | sqlx::Error::Tls(_)
        | sqlx::Error::PoolTimedOut
        | sqlx::Error::PoolClosed
        | sqlx::Error::WorkerCrashed
        | sqlx::Error::Protocol(_) => ErrorKind::Unavailable,
        _ => ErrorKind::Internal,
    };
    let field = match &e {
        sqlx::Error::Database(db) if kind != ErrorKind::Internal => {
            db.constraint().map(str::to_string)
        }
        _ => None,
    };
    let mut err = ConnectorError::new(kind, e.to_string());
    err.public = field.map(|c| format!("constraint '{c}' rejected the write"));
    err
}

/// A short, safe reason a connection could not be opened (no driver text,
/// which may include host names or user names the admin did not intend to share).
pub fn connect_error(
    e: sqlx::Error,
    classify: impl Fn(&dyn DatabaseError) -> Option<&'static str>,
) -> ConnectorError {
    let reason = match &e {
        sqlx::Error::Io(io) => match io.kind() {
            std::io::ErrorKind::ConnectionRefused => "connection refused",
            std::io::ErrorKind::NotFound => "host or file not found",
            std::io::ErrorKind::TimedOut => "connection timed out",
            std::io::ErrorKind::PermissionDenied => "permission denied",
            _ => "network error",
        },
        sqlx::Error::Tls(_) => "TLS negotiation failed",
        sqlx::Error::PoolTimedOut => "timed out while connecting",
        sqlx::Error::Configuration(_) => "invalid connection string",
        sqlx::Error::Database(db) => {
            classify(db.as_ref()).unwrap_or("the database refused the connection")
        }
        _ => "could not connect",
    };
    let kind = if matches!(e, sqlx::Error::Configuration(_)) {
        ErrorKind::InvalidInput
    } else {
        ErrorKind::Unavailable
    };
    let mut err = ConnectorError::new(kind, e.to_string());
    err.public = Some(format!("cannot connect to the database: {reason}"));
    err
}

/// The SQLSTATE (or engine code) of a database error, for code-based classifiers.
pub fn code(db: &dyn DatabaseError) -> String {
    db.code().map(|c| c.to_string()).unwrap_or_default()
}
