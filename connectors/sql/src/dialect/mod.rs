//! One printer per dialect: the shared [`Printer`] walks the AST and asks the
//! [`Dialect`] for everything engines spell differently (quoting, placeholders,
//! casts, how rows come back as JSON).

mod postgres;
mod sqlite;

pub use postgres::Postgres;
pub use sqlite::Sqlite;

use crate::ast::*;
use gatehouse_core::filter::CmpOp;

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

    /// The expression that reads a column in the API's form.
    fn read_column(&self, col: &OutCol) -> String {
        self.quote(&col.name)
    }

    /// A column as the left side of LIKE.
    fn like_operand(&self, col: &ColRef) -> String {
        self.quote(&col.name)
    }

    /// `LIMIT … OFFSET …` with placeholders already rendered.
    fn limit_offset(&self, limit: Option<String>, offset: Option<String>) -> String {
        match (limit, offset) {
            (Some(l), Some(o)) => format!(" LIMIT {l} OFFSET {o}"),
            (Some(l), None) => format!(" LIMIT {l}"),
            (None, Some(o)) => format!(" LIMIT -1 OFFSET {o}"),
            (None, None) => String::new(),
        }
    }

    /// `SET col = <this>` to return a column to its default.
    fn default_value(&self, default_sql: Option<&str>) -> String;

    /// Turns a row-returning statement into the final query text and its output.
    fn finish_rows(&self, sql: String, columns: &[OutCol], is_select: bool) -> (String, Output);
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
        let ph = self.bind(p.value.clone());
        self.d.typed_param(ph, p)
    }

    fn table(&self, t: &TableRef) -> String {
        match &t.schema {
            Some(s) => format!("{}.{}", self.d.quote(s), self.d.quote(&t.name)),
            None => self.d.quote(&t.name),
        }
    }

    fn columns(&self, cols: &[OutCol]) -> String {
        cols.iter()
            .map(|c| {
                let read = self.d.read_column(c);
                let quoted = self.d.quote(&c.name);
                if read == quoted {
                    read
                } else {
                    format!("{read} AS {quoted}")
                }
            })
            .collect::<Vec<_>>()
            .join(", ")
    }

    fn where_clause(&mut self, filter: &Option<Cond>) -> String {
        match filter {
            Some(c) => format!(" WHERE {}", self.cond(c)),
            None => String::new(),
        }
    }

    fn returning(&self, cols: &[OutCol]) -> String {
        if cols.is_empty() {
            String::new()
        } else {
            format!(" RETURNING {}", self.columns(cols))
        }
    }

    fn statement(&mut self, stmt: &Statement) -> Output {
        match stmt {
            Statement::Select(s) => {
                let mut sql = format!(
                    "SELECT {} FROM {}",
                    self.columns(&s.columns),
                    self.table(&s.table)
                );
                sql += &self.where_clause(&s.filter);
                if !s.order.is_empty() {
                    let parts: Vec<String> = s
                        .order
                        .iter()
                        .map(|o| {
                            let mut x = format!(
                                "{} {}",
                                self.d.quote(&o.col),
                                if o.descending { "DESC" } else { "ASC" }
                            );
                            match o.nulls_first {
                                Some(true) => x += " NULLS FIRST",
                                Some(false) => x += " NULLS LAST",
                                None => {}
                            }
                            x
                        })
                        .collect();
                    sql += &format!(" ORDER BY {}", parts.join(", "));
                }
                let limit = s.limit.map(|l| self.bind(SqlValue::Int(clamp(l))));
                let offset = (s.offset > 0).then(|| self.bind(SqlValue::Int(clamp(s.offset))));
                sql += &self.d.limit_offset(limit, offset);
                let (sql, out) = self.d.finish_rows(sql, &s.columns, true);
                self.sql = sql;
                out
            }
            Statement::Count(c) => {
                let w = self.where_clause(&c.filter);
                self.sql = format!("SELECT COUNT(*) FROM {}{w}", self.table(&c.table));
                Output::Count
            }
            Statement::Insert(i) => {
                let mut sql = format!("INSERT INTO {}", self.table(&i.table));
                if i.values.is_empty() {
                    sql += " DEFAULT VALUES";
                } else {
                    let names: Vec<String> =
                        i.values.iter().map(|(n, _)| self.d.quote(n)).collect();
                    let vals: Vec<String> = i.values.iter().map(|(_, p)| self.param(p)).collect();
                    sql += &format!(" ({}) VALUES ({})", names.join(", "), vals.join(", "));
                }
                sql += &self.returning(&i.returning);
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
                sql += &self.where_clause(&u.filter);
                sql += &self.returning(&u.returning);
                self.finish_dml(sql, &u.returning)
            }
            Statement::Delete(d) => {
                let mut sql = format!("DELETE FROM {}", self.table(&d.table));
                sql += &self.where_clause(&d.filter);
                sql += &self.returning(&d.returning);
                self.finish_dml(sql, &d.returning)
            }
        }
    }

    fn finish_dml(&mut self, sql: String, returning: &[OutCol]) -> Output {
        let (sql, out) = self.d.finish_rows(sql, returning, false);
        self.sql = sql;
        out
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
                let parts: Vec<String> = v.iter().map(|x| self.cond(x)).collect();
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
                let esc = if *escaped { " ESCAPE '\\'" } else { "" };
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
