//! The filter language (§4) as a MongoDB query document.
//!
//! SQL's three-valued logic is kept where it shows: a comparison never
//! matches a null or missing field (`region != 'north'` leaves out documents
//! without a region, as on the SQL engines), and NOT is pushed down to the
//! comparisons so it keeps that rule. Every value goes through
//! [`json_to_bson`], which refuses operator keys; equality uses `$eq`, so an
//! object value is compared, never interpreted.

use crate::convert::json_to_bson;
use gatehouse_core::filter::{CmpOp, Expr, Operand, TextMatch};
use gatehouse_core::{ConnectorError, ErrorKind, Table};
use mongodb::bson::{Bson, Document, doc};
use serde_json::Value;

fn value(o: &Operand) -> Result<&Value, ConnectorError> {
    match o {
        Operand::Value(v) => Ok(v),
        Operand::Param { name, .. } => Err(ConnectorError::internal(format!(
            "unbound parameter :{name}"
        ))),
    }
}

fn field(t: &Table, name: &str) -> Result<(), ConnectorError> {
    if t.accepts_field(name, true) {
        Ok(())
    } else {
        Err(
            ConnectorError::public(ErrorKind::InvalidInput, format!("unknown field '{name}'"))
                .with_field(name),
        )
    }
}

fn bson(t: &Table, name: &str, o: &Operand) -> Result<Bson, ConnectorError> {
    json_to_bson(value(o)?, t.column(name), name)
}

fn text(o: &Operand) -> Result<String, ConnectorError> {
    Ok(match value(o)? {
        Value::String(s) => s.clone(),
        other => other.to_string(),
    })
}

/// Matches nothing (SQL's `1 = 0`): every document has an `_id`.
fn nothing() -> Document {
    doc! {"_id": {"$in": []}}
}

fn regex_escape(text: &str) -> String {
    let mut s = String::with_capacity(text.len());
    for c in text.chars() {
        if "\\.^$|?*+()[]{}/-".contains(c) {
            s.push('\\');
        }
        s.push(c);
    }
    s
}

/// A SQL LIKE pattern (`%`, `_`) as an anchored regular expression.
pub fn like_regex(pattern: &str) -> String {
    let mut s = String::from("^");
    for c in pattern.chars() {
        match c {
            '%' => s.push_str(".*"),
            '_' => s.push('.'),
            c => s.push_str(&regex_escape(&c.to_string())),
        }
    }
    s.push('$');
    s
}

/// `{$regex, $options}` rather than a BSON regex value, which NX-27017 cannot
/// bind. `s`: `.` also matches a newline, as `%` and `_` do in SQL.
fn regex(pattern: String) -> Document {
    doc! {"$regex": pattern, "$options": "s"}
}

fn op_name(op: CmpOp) -> &'static str {
    match op {
        CmpOp::Eq => "$eq",
        CmpOp::Ne => "$ne",
        CmpOp::Gt => "$gt",
        CmpOp::Ge => "$gte",
        CmpOp::Lt => "$lt",
        CmpOp::Le => "$lte",
    }
}

fn negate_op(op: CmpOp) -> CmpOp {
    match op {
        CmpOp::Eq => CmpOp::Ne,
        CmpOp::Ne => CmpOp::Eq,
        CmpOp::Gt => CmpOp::Le,
        CmpOp::Ge => CmpOp::Lt,
        CmpOp::Lt => CmpOp::Ge,
        CmpOp::Le => CmpOp::Gt,
    }
}

/// `field op value`, false for null or missing fields (as in SQL).
fn cmp(name: &str, op: CmpOp, v: Bson) -> Document {
    if v == Bson::Null {
        // `= NULL` is never true in SQL; IS NULL is the way to ask
        return nothing();
    }
    match op {
        // $ne alone would match documents without the field
        CmpOp::Ne => doc! {name: {"$exists": true, "$nin": [v, Bson::Null]}},
        op => doc! {name: {op_name(op): v}},
    }
}

fn all(parts: Vec<Document>) -> Document {
    match parts.len() {
        0 => Document::new(),
        1 => parts.into_iter().next().unwrap_or_default(),
        _ => doc! {"$and": parts},
    }
}

fn any(parts: Vec<Document>) -> Document {
    match parts.len() {
        0 => nothing(),
        1 => parts.into_iter().next().unwrap_or_default(),
        _ => doc! {"$or": parts},
    }
}

/// The query document for `e`; `negated` turns it into its SQL negation.
pub fn to_doc(e: &Expr, t: &Table) -> Result<Document, ConnectorError> {
    build(e, t, false)
}

fn build(e: &Expr, t: &Table, negated: bool) -> Result<Document, ConnectorError> {
    Ok(match e {
        Expr::And(v) | Expr::Or(v) => {
            let parts = v
                .iter()
                .map(|x| build(x, t, negated))
                .collect::<Result<Vec<_>, _>>()?;
            // De Morgan: NOT (a AND b) = NOT a OR NOT b
            if matches!(e, Expr::And(_)) == negated {
                any(parts)
            } else {
                all(parts)
            }
        }
        Expr::Not(x) => build(x, t, !negated)?,
        Expr::Cmp {
            field: f,
            op,
            value: v,
        } => {
            field(t, &f.name)?;
            let op = if negated { negate_op(*op) } else { *op };
            cmp(&f.name, op, bson(t, &f.name, v)?)
        }
        Expr::In {
            field: f,
            values,
            negated: n,
        } => {
            field(t, &f.name)?;
            let vs: Vec<Bson> = values
                .iter()
                .map(|v| bson(t, &f.name, v))
                .collect::<Result<_, _>>()?;
            if *n == negated {
                doc! {&f.name: {"$in": vs}}
            } else {
                let mut vs = vs;
                vs.push(Bson::Null);
                doc! {&f.name: {"$exists": true, "$nin": vs}}
            }
        }
        Expr::Like {
            field: f,
            pattern,
            negated: n,
        } => {
            field(t, &f.name)?;
            matches(&f.name, regex(like_regex(&text(pattern)?)), *n != negated)
        }
        Expr::Text {
            field: f,
            mode,
            text: x,
        } => {
            field(t, &f.name)?;
            let lit = regex_escape(&text(x)?);
            let pattern = match mode {
                TextMatch::Contains => lit,
                TextMatch::StartsWith => format!("^{lit}"),
                TextMatch::EndsWith => format!("{lit}$"),
            };
            matches(&f.name, regex(pattern), negated)
        }
        Expr::Between {
            field: f,
            low,
            high,
            negated: n,
        } => {
            field(t, &f.name)?;
            let (lo, hi) = (bson(t, &f.name, low)?, bson(t, &f.name, high)?);
            if lo == Bson::Null || hi == Bson::Null {
                nothing()
            } else if *n != negated {
                any(vec![
                    doc! {&f.name: {"$lt": lo}},
                    doc! {&f.name: {"$gt": hi}},
                ])
            } else {
                doc! {&f.name: {"$gte": lo, "$lte": hi}}
            }
        }
        Expr::IsNull {
            field: f,
            negated: n,
        } => {
            field(t, &f.name)?;
            if *n == negated {
                doc! {&f.name: Bson::Null}
            } else {
                not_null(&f.name)
            }
        }
    })
}

/// `field` matches (or, negated, is a value that does not match) `re`.
fn matches(name: &str, re: Document, negated: bool) -> Document {
    if negated {
        doc! {"$and": [not_null(name), {"$nor": [{name: re}]}]}
    } else {
        doc! {name: re}
    }
}

/// The field holds a value (`$exists` too: NX-27017's `$ne: null` matches a
/// missing field).
fn not_null(name: &str) -> Document {
    doc! {name: {"$exists": true, "$ne": Bson::Null}}
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn like_patterns_become_anchored_regexes() {
        assert_eq!(like_regex("a%b_c"), "^a.*b.c$");
        assert_eq!(like_regex("50%.(x)"), "^50.*\\.\\(x\\)$");
        assert_eq!(regex_escape("a.b*c"), "a\\.b\\*c");
    }
}
