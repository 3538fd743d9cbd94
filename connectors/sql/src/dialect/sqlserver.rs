use super::{Dialect, ReturningStyle, order_term_emulated};
use crate::ast::{ColRef, Param, SqlValue};
use crate::convert::naive_datetime;
use gatehouse_core::ApiType;
use std::fmt::Write as _;

/// SQL Server (T-SQL): `[bracket]` quoting, `@Pn` placeholders, `TOP` and
/// `OFFSET … FETCH` with validated integers inlined, `OUTPUT INSERTED/DELETED`
/// for the rows a write touched, and nulls ordering emulated.
pub struct SqlServer;

impl Dialect for SqlServer {
    fn name(&self) -> &'static str {
        "sqlserver"
    }

    fn quote(&self, ident: &str) -> String {
        let mut s = String::with_capacity(ident.len() + 2);
        s.push('[');
        for c in ident.chars() {
            if c == ']' {
                s.push(']');
            }
            s.push(c);
        }
        s.push(']');
        s
    }

    fn placeholder(&self, n: usize) -> String {
        format!("@P{n}")
    }

    fn typed_param(&self, placeholder: String, p: &Param) -> String {
        match &p.cast {
            Some(t) if p.api_type.is_some() => format!("CAST({placeholder} AS {t})"),
            _ => placeholder,
        }
    }

    fn bind_value(&self, p: &Param) -> SqlValue {
        match (&p.value, p.api_type) {
            // datetime2 takes no offset; datetimeoffset keeps it
            (SqlValue::Text(s), Some(ApiType::Datetime)) => {
                SqlValue::Text(naive_datetime(s, false, 'T'))
            }
            (v, _) => v.clone(),
        }
    }

    fn like_operand(&self, col: &ColRef) -> String {
        if col.textual {
            self.quote(&col.name)
        } else {
            format!("CAST({} AS nvarchar(max))", self.quote(&col.name))
        }
    }

    fn inline_paging(&self) -> bool {
        true
    }

    fn paging(
        &self,
        limit: Option<String>,
        offset: Option<String>,
        ordered: bool,
    ) -> (String, String) {
        match (limit, offset) {
            (None, None) => (String::new(), String::new()),
            (Some(l), None) => (format!("TOP ({l}) "), String::new()),
            (limit, Some(o)) => {
                // OFFSET needs an ORDER BY; "no particular order" is spelled so
                let mut s = if ordered {
                    String::new()
                } else {
                    " ORDER BY (SELECT NULL)".into()
                };
                let _ = write!(s, " OFFSET {o} ROWS");
                if let Some(l) = limit {
                    let _ = write!(s, " FETCH NEXT {l} ROWS ONLY");
                }
                (String::new(), s)
            }
        }
    }

    fn order_term(&self, expr: &str, descending: bool, nulls_first: Option<bool>) -> String {
        order_term_emulated(expr, descending, nulls_first)
    }

    fn returning_style(&self) -> ReturningStyle {
        ReturningStyle::Output
    }

    /// A call takes at most 2,100 parameters, and `sp_executesql` spends two
    /// of them on the statement and its parameter list.
    fn max_params(&self) -> usize {
        2_098
    }

    fn default_value(&self, _default_sql: Option<&str>) -> String {
        "DEFAULT".into()
    }
}
