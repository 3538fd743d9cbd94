//! One printer per dialect: the shared [`Printer`] walks the AST and asks the
//! [`Dialect`] for everything engines spell differently (quoting, placeholders,
//! casts, how rows come back as JSON).

mod mysql;
mod postgres;
mod sqlite;
mod sqlserver;

pub use mysql::MySql;
pub use postgres::Postgres;
pub use sqlite::Sqlite;
pub use sqlserver::SqlServer;

use crate::ast::{
    Assign, ColRef, Cond, OutCol, Output, Param, Query, SqlValue, Statement, TableRef,
};
use gatehouse_core::cells::Cell;
use gatehouse_core::filter::CmpOp;
use std::fmt::Write as _;

/// How a dialect hands back the rows a write touched.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ReturningStyle {
    /// `... RETURNING cols` after the statement (PostgreSQL, SQLite).
    Returning,
    /// `OUTPUT INSERTED.cols` / `OUTPUT DELETED.cols` inside it (SQL Server).
    Output,
    /// Not at all (MySQL 8): the connector reads the rows back in the same
    /// transaction (see `SqlConnector`).
    None,
}

pub trait Dialect: Send + Sync + 'static {
    fn name(&self) -> &'static str;

    /// Quotes an identifier, doubling the quote character inside it.
    fn quote(&self, ident: &str) -> String;

    /// The placeholder for the `n`-th parameter (1-based).
    fn placeholder(&self, n: usize) -> String;

    /// Wraps a placeholder so the engine reads the parameter as the column's type.
    fn typed_param(&self, placeholder: String, _param: &Param) -> String {
        placeholder
    }

    /// The value bound for a parameter (a dialect may respell it, e.g. date-times).
    fn bind_value(&self, p: &Param) -> SqlValue {
        p.value.clone()
    }

    /// The expression that reads a column in the API's form.
    fn read_column(&self, col: &OutCol) -> String {
        self.quote(&col.name)
    }

    /// Whether reads and `RETURNING` select the columns of
    /// [`cell_column`](Self::cell_column) ([`Output::Cells`]) rather than
    /// [`read_column`](Self::read_column) ([`Output::Rows`]).
    fn reads_cells(&self) -> bool {
        false
    }

    /// How a column is read as one cell, for streaming and for dialects that
    /// [read cells](Self::reads_cells) ([`Output::Cells`]); `None`: the
    /// dialect does not read cells.
    fn cell_column(&self, _col: &OutCol) -> Option<(String, Cell)> {
        None
    }

    /// A column as the left side of LIKE.
    fn like_operand(&self, col: &ColRef) -> String {
        self.quote(&col.name)
    }

    /// Paging values are printed as validated integer literals, not parameters.
    fn inline_paging(&self) -> bool {
        false
    }

    /// Paging as (text right after `SELECT `, text after `ORDER BY`); `limit`
    /// and `offset` are placeholders or, with [`Dialect::inline_paging`], integers.
    fn paging(
        &self,
        limit: Option<String>,
        offset: Option<String>,
        _ordered: bool,
    ) -> (String, String) {
        let suffix = match (limit, offset) {
            (Some(l), Some(o)) => format!(" LIMIT {l} OFFSET {o}"),
            (Some(l), None) => format!(" LIMIT {l}"),
            (None, Some(o)) => format!(" LIMIT -1 OFFSET {o}"),
            (None, None) => String::new(),
        };
        (String::new(), suffix)
    }

    /// One `ORDER BY` term. The default spells `NULLS FIRST/LAST`; engines
    /// without it sort on "is null" first.
    /// One ORDER BY term; `expr` is the quoted (perhaps table-qualified) column.
    fn order_term(&self, expr: &str, descending: bool, nulls_first: Option<bool>) -> String {
        let mut x = format!("{expr} {}", direction(descending));
        match nulls_first {
            Some(true) => x += " NULLS FIRST",
            Some(false) => x += " NULLS LAST",
            None => {}
        }
        x
    }

    /// The `ESCAPE` clause for patterns built with `\` as the escape character.
    fn like_escape(&self) -> &'static str {
        " ESCAPE '\\'"
    }

    /// An insert of a record with no values.
    fn insert_defaults(&self) -> &'static str {
        " DEFAULT VALUES"
    }

    fn returning_style(&self) -> ReturningStyle {
        ReturningStyle::Returning
    }

    /// How many records of `params_per_row` values one insert may carry; more
    /// than one only where a multi-row insert returns its rows in the order
    /// of its `VALUES`, so a batch can be one statement (`SqlConnector::insert`).
    fn rows_per_insert(&self, _params_per_row: usize) -> usize {
        1
    }

    /// `SET col = <this>` to return a column to its default.
    fn default_value(&self, default_sql: Option<&str>) -> String;

    /// The most values one statement may bind (the protocol's or the
    /// engine's limit); a statement with more is refused before it is sent.
    fn max_params(&self) -> usize {
        u16::MAX as usize
    }
}

/// Longest run of `AND`/`OR` terms printed side by side; longer lists are
/// printed as nested groups of at most this many, so the expression tree an
/// engine's parser builds stays shallow (SQLite refuses a tree deeper than
/// 1,000: "Expression tree is too large", which 1,000 `OR`ed ids reached).
const GROUP: usize = 64;

/// The output of rows read as `cells`, one per column of `cols`.
fn named_cells(cells: Vec<(String, Cell)>, cols: &[OutCol]) -> Output {
    Output::Cells(
        cells
            .into_iter()
            .zip(cols)
            .map(|((_, kind), c)| (c.name.clone(), kind))
            .collect(),
    )
}

/// Prints one statement for one dialect, collecting parameters in order.
pub struct Printer<'d> {
    d: &'d dyn Dialect,
    sql: String,
    params: Vec<SqlValue>,
}

impl<'d> Printer<'d> {
    pub fn print(d: &'d dyn Dialect, stmt: &Statement) -> Query {
        let mut p = Printer {
            d,
            sql: String::new(),
            params: Vec::new(),
        };
        let output = p.statement(stmt);
        Query {
            sql: p.sql,
            params: p.params,
            output,
        }
    }

    fn bind(&mut self, value: SqlValue) -> String {
        self.params.push(value);
        self.d.placeholder(self.params.len())
    }

    fn param(&mut self, p: &Param) -> String {
        let ph = self.bind(self.d.bind_value(p));
        self.d.typed_param(ph, p)
    }

    fn table(&self, t: &TableRef) -> String {
        match &t.schema {
            Some(s) => format!("{}.{}", self.d.quote(s), self.d.quote(&t.name)),
            None => self.d.quote(&t.name),
        }
    }

    /// How each of `cols` is read as one cell, when the statement reads cells
    /// (`streaming`, or a dialect that [reads cells](Dialect::reads_cells));
    /// `None`: it reads them with `read_column`, as [`Output::Rows`].
    fn cells(&self, cols: &[OutCol], streaming: bool) -> Option<Vec<(String, Cell)>> {
        if streaming || self.d.reads_cells() {
            cols.iter().map(|c| self.d.cell_column(c)).collect()
        } else {
            None
        }
    }

    /// The expression each of `cols` is read by: its cell's, or `read_column`.
    fn reads(&self, cols: &[OutCol], cells: Option<&[(String, Cell)]>) -> Vec<String> {
        match cells {
            Some(cells) => cells.iter().map(|(read, _)| read.clone()).collect(),
            None => cols.iter().map(|c| self.d.read_column(c)).collect(),
        }
    }

    /// `read AS "name", …`; a column read as itself is just named.
    fn select_list(&self, reads: &[String], cols: &[OutCol]) -> String {
        reads
            .iter()
            .zip(cols)
            .map(|(read, c)| {
                let quoted = self.d.quote(&c.name);
                if *read == quoted {
                    quoted
                } else {
                    format!("{read} AS {quoted}")
                }
            })
            .collect::<Vec<_>>()
            .join(", ")
    }

    fn where_clause(&mut self, filter: Option<&Cond>) -> String {
        match filter {
            Some(c) => format!(" WHERE {}", self.cond(c)),
            None => String::new(),
        }
    }

    /// `OUTPUT INSERTED.cols` inside a statement, for dialects that use it.
    fn output(&self, cols: &[OutCol], source: &str) -> String {
        if cols.is_empty() || self.d.returning_style() != ReturningStyle::Output {
            return String::new();
        }
        let list: Vec<String> = cols
            .iter()
            .map(|c| {
                let read = self.d.read_column(c);
                let quoted = self.d.quote(&c.name);
                format!("{source}.{read} AS {quoted}")
            })
            .collect();
        format!(" OUTPUT {}", list.join(", "))
    }

    fn paging_value(&mut self, n: u64) -> String {
        if self.d.inline_paging() {
            clamp(n).to_string()
        } else {
            self.bind(SqlValue::Int(clamp(n)))
        }
    }

    fn statement(&mut self, stmt: &Statement) -> Output {
        match stmt {
            Statement::Select(s) => {
                let table = self.table(&s.table);
                let cells = self.cells(&s.columns, s.cells);
                let reads = self.reads(&s.columns, cells.as_deref());
                let cols = self.select_list(&reads, &s.columns);
                let filter = self.where_clause(s.filter.as_ref());
                let order = if s.order.is_empty() {
                    String::new()
                } else {
                    let parts: Vec<String> = s
                        .order
                        .iter()
                        .map(|o| {
                            // A column the select list reads through an expression
                            // (`CAST(x AS CHAR) AS x`, `x::text AS x`) is named by
                            // its table here: the bare name would sort by the
                            // alias, as text.
                            let quoted = self.d.quote(&o.col);
                            let aliased = s
                                .columns
                                .iter()
                                .zip(&reads)
                                .any(|(c, read)| c.name == o.col && *read != quoted);
                            let expr = if aliased {
                                format!("{table}.{quoted}")
                            } else {
                                quoted
                            };
                            self.d.order_term(&expr, o.descending, o.nulls_first)
                        })
                        .collect();
                    format!(" ORDER BY {}", parts.join(", "))
                };
                let limit = s.limit.map(|l| self.paging_value(l));
                let offset = (s.offset > 0).then(|| self.paging_value(s.offset));
                let (top, suffix) = self.d.paging(limit, offset, !s.order.is_empty());
                let sql = format!("SELECT {top}{cols} FROM {table}{filter}{order}{suffix}");
                self.sql = sql;
                match cells {
                    Some(cells) => named_cells(cells, &s.columns),
                    None => Output::Rows(s.columns.clone()),
                }
            }
            Statement::Count(c) => {
                let w = self.where_clause(c.filter.as_ref());
                self.sql = format!("SELECT COUNT(*) FROM {}{w}", self.table(&c.table));
                Output::Count
            }
            Statement::Insert(i) => {
                let mut sql = format!("INSERT INTO {}", self.table(&i.table));
                let output = self.output(&i.returning, "INSERTED");
                if i.columns.is_empty() {
                    sql += &output;
                    sql += self.d.insert_defaults();
                } else {
                    let names: Vec<String> = i.columns.iter().map(|n| self.d.quote(n)).collect();
                    let rows: Vec<String> = i
                        .rows
                        .iter()
                        .map(|row| {
                            let vals: Vec<String> = row.iter().map(|p| self.param(p)).collect();
                            format!("({})", vals.join(", "))
                        })
                        .collect();
                    let _ = write!(
                        sql,
                        " ({}){output} VALUES {}",
                        names.join(", "),
                        rows.join(", ")
                    );
                }
                self.finish_dml(sql, &i.returning)
            }
            Statement::Update(u) => {
                let sets: Vec<String> = u
                    .set
                    .iter()
                    .map(|(n, a)| {
                        let v = match a {
                            Assign::Value(p) => self.param(p),
                            Assign::Default { default_sql } => {
                                self.d.default_value(default_sql.as_deref())
                            }
                        };
                        format!("{} = {v}", self.d.quote(n))
                    })
                    .collect();
                let mut sql = format!("UPDATE {} SET {}", self.table(&u.table), sets.join(", "));
                sql += &self.output(&u.returning, "INSERTED");
                sql += &self.where_clause(u.filter.as_ref());
                self.finish_dml(sql, &u.returning)
            }
            Statement::Delete(d) => {
                let mut sql = format!("DELETE FROM {}", self.table(&d.table));
                sql += &self.output(&d.returning, "DELETED");
                sql += &self.where_clause(d.filter.as_ref());
                self.finish_dml(sql, &d.returning)
            }
        }
    }

    /// Ends a write: `RETURNING cols` for dialects that use it (read as
    /// cells where the dialect reads cells), and how its rows are decoded.
    fn finish_dml(&mut self, mut sql: String, returning: &[OutCol]) -> Output {
        let cells =
            if !returning.is_empty() && self.d.returning_style() == ReturningStyle::Returning {
                let cells = self.cells(returning, false);
                let reads = self.reads(returning, cells.as_deref());
                sql += " RETURNING ";
                sql += &self.select_list(&reads, returning);
                cells
            } else {
                None
            };
        self.sql = sql;
        match cells {
            Some(cells) => named_cells(cells, returning),
            None => Output::Rows(returning.to_vec()),
        }
    }

    fn cond(&mut self, c: &Cond) -> String {
        match c {
            Cond::And(v) | Cond::Or(v) if v.is_empty() => if matches!(c, Cond::And(_)) {
                "1 = 1"
            } else {
                "1 = 0"
            }
            .into(),
            Cond::And(v) | Cond::Or(v) => {
                let sep = if matches!(c, Cond::And(_)) {
                    " AND "
                } else {
                    " OR "
                };
                let mut parts: Vec<String> = v.iter().map(|x| self.cond(x)).collect();
                // AND and OR are associative (with NULLs too): grouping
                // changes the tree's depth, not its meaning
                while parts.len() > GROUP {
                    parts = parts
                        .chunks(GROUP)
                        .map(|g| {
                            if g.len() == 1 {
                                g[0].clone()
                            } else {
                                format!("({})", g.join(sep))
                            }
                        })
                        .collect();
                }
                format!("({})", parts.join(sep))
            }
            Cond::Not(x) => format!("NOT ({})", self.cond(x)),
            Cond::Cmp { col, op, value } => {
                let v = self.param(value);
                let op = match op {
                    CmpOp::Eq => "=",
                    CmpOp::Ne => "<>",
                    CmpOp::Gt => ">",
                    CmpOp::Ge => ">=",
                    CmpOp::Lt => "<",
                    CmpOp::Le => "<=",
                };
                format!("{} {op} {v}", self.d.quote(&col.name))
            }
            Cond::In {
                col,
                values,
                negated,
            } => {
                let vs: Vec<String> = values.iter().map(|p| self.param(p)).collect();
                format!(
                    "{} {}IN ({})",
                    self.d.quote(&col.name),
                    not(*negated),
                    vs.join(", ")
                )
            }
            Cond::Like {
                col,
                pattern,
                negated,
                escaped,
            } => {
                let v = self.param(pattern);
                let esc = if *escaped { self.d.like_escape() } else { "" };
                format!(
                    "{} {}LIKE {v}{esc}",
                    self.d.like_operand(col),
                    not(*negated)
                )
            }
            Cond::Between {
                col,
                low,
                high,
                negated,
            } => {
                let l = self.param(low);
                let h = self.param(high);
                format!(
                    "{} {}BETWEEN {l} AND {h}",
                    self.d.quote(&col.name),
                    not(*negated)
                )
            }
            Cond::IsNull { col, negated } => {
                format!("{} IS {}NULL", self.d.quote(&col.name), not(*negated))
            }
        }
    }
}

fn direction(descending: bool) -> &'static str {
    if descending { "DESC" } else { "ASC" }
}

/// `ORDER BY` terms for engines without `NULLS FIRST/LAST`: a leading sort
/// key puts nulls where asked (portable `CASE`, no boolean values needed).
pub(crate) fn order_term_emulated(
    quoted: &str,
    descending: bool,
    nulls_first: Option<bool>,
) -> String {
    let term = format!("{quoted} {}", direction(descending));
    match nulls_first {
        None => term,
        Some(first) => format!(
            "CASE WHEN {quoted} IS NULL THEN 0 ELSE 1 END {}, {term}",
            direction(!first)
        ),
    }
}

fn not(n: bool) -> &'static str {
    if n { "NOT " } else { "" }
}

fn clamp(n: u64) -> i64 {
    i64::try_from(n).unwrap_or(i64::MAX)
}

/// Quotes with `q`, doubling any `q` inside (the SQL standard's rule).
pub(crate) fn quote_with(ident: &str, q: char) -> String {
    let mut s = String::with_capacity(ident.len() + 2);
    s.push(q);
    for c in ident.chars() {
        if c == q {
            s.push(q);
        }
        s.push(c);
    }
    s.push(q);
    s
}
