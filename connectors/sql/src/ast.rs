//! The SQL AST: just the statements the table API needs.

use gatehouse_core::ApiType;
use gatehouse_core::cells::Cell;
use gatehouse_core::filter::CmpOp;

/// A value bound as a query parameter.
#[derive(Debug, Clone, PartialEq)]
pub enum SqlValue {
    /// A NULL bound with the type of the column's other values: an engine
    /// that keeps a prepared statement's first parameter types (PostgreSQL)
    /// would otherwise refuse every later value of a statement first run
    /// with a NULL.
    Null(SqlType),
    Bool(bool),
    Int(i64),
    Float(f64),
    Text(String),
    Bytes(Vec<u8>),
}

/// The kind of a bound value, which a [`SqlValue::Null`] keeps.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum SqlType {
    Bool,
    Int,
    Float,
    Text,
    Bytes,
}

impl SqlType {
    /// How values for a column of `t` are bound (see `convert::param`).
    pub fn of(t: ApiType) -> Self {
        match t {
            ApiType::Integer | ApiType::Bigint => Self::Int,
            ApiType::Float => Self::Float,
            ApiType::Boolean => Self::Bool,
            ApiType::Binary => Self::Bytes,
            ApiType::Decimal
            | ApiType::String
            | ApiType::Text
            | ApiType::Date
            | ApiType::Time
            | ApiType::Datetime
            | ApiType::Timestamp
            | ApiType::Uuid
            | ApiType::Json
            | ApiType::ObjectId
            | ApiType::Array
            | ApiType::Object => Self::Text,
        }
    }
}

/// A placeholder with the value it binds and how the dialect should type it.
#[derive(Debug, Clone, PartialEq)]
pub struct Param {
    pub value: SqlValue,
    /// The column's type without modifiers (e.g. `numeric`), for dialects that cast.
    pub cast: Option<String>,
    /// The value is a JSON array to be turned into an engine array.
    pub json_array: bool,
    /// The API type of the column the value is for (`None`: free text such as a pattern).
    pub api_type: Option<ApiType>,
}

impl Param {
    pub fn plain(value: SqlValue) -> Self {
        Self {
            value,
            cast: None,
            json_array: false,
            api_type: None,
        }
    }
}

#[derive(Debug, Clone, PartialEq)]
pub struct TableRef {
    pub schema: Option<String>,
    pub name: String,
}

/// A column as read: the printer chooses how to encode it for the API.
#[derive(Debug, Clone, PartialEq)]
pub struct OutCol {
    pub name: String,
    pub api_type: ApiType,
    /// The database's type (`character(10)`), for dialects that read by it.
    pub db_type: String,
}

#[derive(Debug, Clone, PartialEq)]
pub struct ColRef {
    pub name: String,
    /// Text in the database: `LIKE` applies without a cast.
    pub textual: bool,
}

#[derive(Debug, Clone, PartialEq)]
pub enum Cond {
    And(Vec<Cond>),
    Or(Vec<Cond>),
    Not(Box<Cond>),
    Cmp {
        col: ColRef,
        op: CmpOp,
        value: Param,
    },
    In {
        col: ColRef,
        values: Vec<Param>,
        negated: bool,
    },
    /// `escaped`: the pattern was built from literal text with `\` as escape.
    Like {
        col: ColRef,
        pattern: Param,
        negated: bool,
        escaped: bool,
    },
    Between {
        col: ColRef,
        low: Param,
        high: Param,
        negated: bool,
    },
    IsNull {
        col: ColRef,
        negated: bool,
    },
}

#[derive(Debug, Clone, PartialEq)]
pub struct Order {
    pub col: String,
    pub descending: bool,
    pub nulls_first: Option<bool>,
}

#[derive(Debug, Clone, PartialEq)]
pub struct Select {
    pub table: TableRef,
    pub columns: Vec<OutCol>,
    pub filter: Option<Cond>,
    pub order: Vec<Order>,
    pub limit: Option<u64>,
    pub offset: u64,
    /// Rows one by one as text cells ([`Output::Cells`]), for streaming,
    /// where the dialect can (else as it reads rows normally).
    pub cells: bool,
}

#[derive(Debug, Clone, PartialEq)]
pub struct Count {
    pub table: TableRef,
    pub filter: Option<Cond>,
}

#[derive(Debug, Clone, PartialEq)]
pub struct Insert {
    pub table: TableRef,
    /// The columns given (none: every column takes its default).
    pub columns: Vec<String>,
    /// One row of values per record, in `columns` order.
    pub rows: Vec<Vec<Param>>,
    pub returning: Vec<OutCol>,
}

#[derive(Debug, Clone, PartialEq)]
pub enum Assign {
    Value(Param),
    /// Back to the column's default; `default_sql` is the catalog's default
    /// expression, for dialects without `SET col = DEFAULT`.
    Default {
        default_sql: Option<String>,
    },
}

#[derive(Debug, Clone, PartialEq)]
pub struct Update {
    pub table: TableRef,
    pub set: Vec<(String, Assign)>,
    pub filter: Option<Cond>,
    pub returning: Vec<OutCol>,
}

#[derive(Debug, Clone, PartialEq)]
pub struct Delete {
    pub table: TableRef,
    pub filter: Option<Cond>,
    pub returning: Vec<OutCol>,
}

#[derive(Debug, Clone, PartialEq)]
pub enum Statement {
    Select(Select),
    Count(Count),
    Insert(Insert),
    Update(Update),
    Delete(Delete),
}

/// What a printed statement returns, so the driver knows how to decode it.
#[derive(Debug, Clone, PartialEq)]
pub enum Output {
    /// Rows of these columns, decoded by the driver.
    Rows(Vec<OutCol>),
    /// One row, one integer column.
    Count,
    /// Rows of text cells, one per column, each written to JSON as its
    /// [`Cell`] says (see [`gatehouse_core::cells`]).
    Cells(Vec<(String, Cell)>),
}

/// Printed SQL with its parameters in placeholder order.
#[derive(Debug, Clone, PartialEq)]
pub struct Query {
    pub sql: String,
    pub params: Vec<SqlValue>,
    pub output: Output,
}
