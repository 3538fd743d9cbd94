//! Error kinds shared by every connector.
//!
//! A connector maps its native codes (SQLSTATE 23505, SQLite's extended codes,
//! MySQL 1062, ...) to an [`ErrorKind`]; the HTTP layer maps kinds to statuses in
//! one table. `detail` is for the log only: it may hold driver text and must never
//! reach a client. `public` is a message written by us, safe to show.

use std::fmt;

/// What went wrong, independent of the engine.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ErrorKind {
    /// The addressed record does not exist.
    NotFound,
    /// A unique or primary-key constraint rejected the write.
    UniqueViolation,
    /// A foreign-key constraint rejected the write.
    ForeignKeyViolation,
    /// A NOT NULL column was given no value.
    NotNull,
    /// A CHECK constraint rejected the write.
    Check,
    /// A value cannot be converted to the column's type.
    InvalidValue,
    /// The request is malformed for this engine (e.g. a name it cannot accept).
    InvalidInput,
    /// The engine cannot do this operation.
    Unsupported,
    /// The object is read-only (a non-updatable view).
    ReadOnly,
    /// The write would leave a row the caller's row filter does not let them see.
    Forbidden,
    /// The request is beyond what the engine takes in one statement (bound
    /// values); refused before it reaches the database.
    LimitExceeded,
    /// The database cannot be reached, or the pool is exhausted.
    Unavailable,
    /// The object cannot be used in its present state (a materialized view
    /// never refreshed): not the caller's fault, and not fixed by a retry.
    NotReady,
    /// The connection failed after a write (or its `COMMIT`) was sent: it
    /// may or may not have been applied, so a blind retry could apply it twice.
    OutcomeUnknown,
    /// Anything else: a bug or an unexpected database state.
    Internal,
}

#[derive(Debug, Clone)]
pub struct ConnectorError {
    pub kind: ErrorKind,
    /// A message safe for clients; `None` lets the HTTP layer use the kind's default.
    pub public: Option<String>,
    /// The column concerned, when known (safe to show).
    pub field: Option<String>,
    /// Driver text for the log. Never sent to a client.
    pub detail: String,
}

impl ConnectorError {
    pub fn new(kind: ErrorKind, detail: impl Into<String>) -> Self {
        Self {
            kind,
            public: None,
            field: None,
            detail: detail.into(),
        }
    }

    /// An error whose message is written by us and safe to show.
    pub fn public(kind: ErrorKind, message: impl Into<String>) -> Self {
        let message = message.into();
        Self {
            kind,
            detail: message.clone(),
            public: Some(message),
            field: None,
        }
    }

    pub fn with_field(mut self, field: impl Into<String>) -> Self {
        self.field = Some(field.into());
        self
    }

    /// `self`, if it says the database became unreachable, as
    /// [`ErrorKind::OutcomeUnknown`]: for a failure after a write or its
    /// commit was sent.
    pub fn after_sending(self) -> Self {
        if self.kind == ErrorKind::Unavailable {
            ConnectorError {
                kind: ErrorKind::OutcomeUnknown,
                public: None,
                ..self
            }
        } else {
            self
        }
    }

    /// A checked write produced a row outside the caller's row filter.
    pub fn outside_row_filter() -> Self {
        Self::public(
            ErrorKind::Forbidden,
            "the record would be outside the rows this role may see (row filter)",
        )
    }

    pub fn internal(detail: impl Into<String>) -> Self {
        Self::new(ErrorKind::Internal, detail)
    }
}

impl fmt::Display for ConnectorError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{:?}: {}", self.kind, self.detail)
    }
}

impl std::error::Error for ConnectorError {}
