//! Connector requests to SQL statements. Field names are resolved against the
//! table (defence in depth: the HTTP layer has already rejected unknown ones).

use crate::ast::{
    Assign, ColRef, Cond, Count, Delete, Insert, Order, OutCol, Param, Select, Statement, TableRef,
    Update,
};
use crate::convert::{escape_like, param, text_param};
use gatehouse_core::filter::{Expr, Field, Operand, TextMatch};
use gatehouse_core::{Column, ConnectorError, ErrorKind, OrderBy, Record, SelectRequest, Table};
use serde_json::Value;

/// The `SELECT` of a read whose filter is already translated (it is also
/// the count's, so it is translated once); `cells`: read as cells where the
/// dialect can (streaming).
pub fn select_of(
    req: &SelectRequest,
    filter: Option<Cond>,
    cells: bool,
) -> Result<Statement, ConnectorError> {
    let t = &req.table;
    Ok(Statement::Select(Select {
        table: table_ref(t),
        columns: out_cols(t, &req.fields)?,
        filter,
        order: order(t, &req.order)?,
        limit: req.limit,
        offset: req.offset,
        cells,
    }))
}

/// The count of the rows a read's (translated) filter selects.
pub fn count_of(req: &SelectRequest, filter: Option<Cond>) -> Statement {
    Statement::Count(Count {
        table: table_ref(&req.table),
        filter,
    })
}

pub fn table_ref(t: &Table) -> TableRef {
    TableRef {
        schema: t.schema.clone(),
        name: t.db_name.clone(),
    }
}

fn column<'t>(t: &'t Table, name: &str) -> Result<&'t Column, ConnectorError> {
    t.column(name).ok_or_else(|| {
        ConnectorError::public(ErrorKind::InvalidInput, format!("unknown field '{name}'"))
            .with_field(name)
    })
}

pub fn out_cols(t: &Table, names: &[String]) -> Result<Vec<OutCol>, ConnectorError> {
    names
        .iter()
        .map(|n| {
            column(t, n).map(|c| OutCol {
                name: c.name.clone(),
                api_type: c.api_type,
                db_type: c.db_type.clone(),
            })
        })
        .collect()
}

/// Columns a write returns: those asked for, else the key, else every column.
pub fn returning_cols(t: &Table, asked: &[String]) -> Result<Vec<OutCol>, ConnectorError> {
    if !asked.is_empty() {
        return out_cols(t, asked);
    }
    if !t.primary_key.is_empty() {
        return out_cols(t, &t.primary_key);
    }
    let all: Vec<String> = t.columns.iter().map(|c| c.name.clone()).collect();
    out_cols(t, &all)
}

fn col_ref(c: &Column) -> ColRef {
    ColRef {
        name: c.name.clone(),
        textual: c.db_text,
    }
}

fn operand_value(o: &Operand) -> Result<&Value, ConnectorError> {
    match o {
        Operand::Value(v) => Ok(v),
        Operand::Param { name, .. } => Err(ConnectorError::internal(format!(
            "unbound parameter :{name}"
        ))),
    }
}

fn operand_param(o: &Operand, c: &Column) -> Result<Param, ConnectorError> {
    param(operand_value(o)?, c)
}

fn operand_text(o: &Operand) -> Result<String, ConnectorError> {
    match operand_value(o)? {
        Value::String(s) => Ok(s.clone()),
        other => Ok(other.to_string()),
    }
}

pub fn cond(e: &Expr, t: &Table) -> Result<Cond, ConnectorError> {
    let col = |f: &Field| column(t, &f.name);
    Ok(match e {
        Expr::And(v) => Cond::And(v.iter().map(|x| cond(x, t)).collect::<Result<_, _>>()?),
        Expr::Or(v) => Cond::Or(v.iter().map(|x| cond(x, t)).collect::<Result<_, _>>()?),
        Expr::Not(x) => Cond::Not(Box::new(cond(x, t)?)),
        Expr::Cmp { field, op, value } => {
            let c = col(field)?;
            Cond::Cmp {
                col: col_ref(c),
                op: *op,
                value: operand_param(value, c)?,
            }
        }
        Expr::In {
            field,
            values,
            negated,
        } => {
            let c = col(field)?;
            Cond::In {
                col: col_ref(c),
                values: values
                    .iter()
                    .map(|v| operand_param(v, c))
                    .collect::<Result<_, _>>()?,
                negated: *negated,
            }
        }
        Expr::Like {
            field,
            pattern,
            negated,
        } => Cond::Like {
            col: col_ref(col(field)?),
            pattern: text_param(operand_text(pattern)?),
            negated: *negated,
            escaped: false,
        },
        Expr::Text { field, mode, text } => {
            let lit = escape_like(&operand_text(text)?);
            let pattern = match mode {
                TextMatch::Contains => format!("%{lit}%"),
                TextMatch::StartsWith => format!("{lit}%"),
                TextMatch::EndsWith => format!("%{lit}"),
            };
            Cond::Like {
                col: col_ref(col(field)?),
                pattern: text_param(pattern),
                negated: false,
                escaped: true,
            }
        }
        Expr::Between {
            field,
            low,
            high,
            negated,
        } => {
            let c = col(field)?;
            Cond::Between {
                col: col_ref(c),
                low: operand_param(low, c)?,
                high: operand_param(high, c)?,
                negated: *negated,
            }
        }
        Expr::IsNull { field, negated } => Cond::IsNull {
            col: col_ref(col(field)?),
            negated: *negated,
        },
    })
}

pub fn opt_cond(e: Option<&Expr>, t: &Table) -> Result<Option<Cond>, ConnectorError> {
    e.map(|e| cond(e, t)).transpose()
}

pub fn order(t: &Table, order: &[OrderBy]) -> Result<Vec<Order>, ConnectorError> {
    order
        .iter()
        .map(|o| {
            column(t, &o.field).map(|c| Order {
                col: c.name.clone(),
                descending: o.descending,
                nulls_first: o.nulls_first,
            })
        })
        .collect()
}

/// Values of a record as parameters, in the table's column order.
pub fn values(t: &Table, record: &Record) -> Result<Vec<(String, Param)>, ConnectorError> {
    let mut out = Vec::with_capacity(record.len());
    for (name, v) in record {
        let c = column(t, name)?;
        out.push((c.name.clone(), param(v, c)?));
    }
    Ok(out)
}

pub fn insert(
    t: &Table,
    record: &Record,
    returning: &[OutCol],
) -> Result<Statement, ConnectorError> {
    insert_of(t, std::slice::from_ref(record), returning)
}

/// One insert of several records that give the same fields in the same
/// order; `None` when they do not (or give none), so each is inserted alone.
pub fn insert_rows(
    t: &Table,
    records: &[Record],
    returning: &[OutCol],
) -> Result<Option<Statement>, ConnectorError> {
    let Some(first) = records.first() else {
        return Ok(None);
    };
    if first.is_empty() || records.iter().any(|r| !r.keys().eq(first.keys())) {
        return Ok(None);
    }
    insert_of(t, records, returning).map(Some)
}

/// An insert of `records`, which give the same fields in the same order.
fn insert_of(
    t: &Table,
    records: &[Record],
    returning: &[OutCol],
) -> Result<Statement, ConnectorError> {
    let mut columns = Vec::new();
    let mut rows = Vec::with_capacity(records.len());
    for r in records {
        let (names, row): (Vec<String>, Vec<Param>) = values(t, r)?.into_iter().unzip();
        columns = names;
        rows.push(row);
    }
    Ok(Statement::Insert(Insert {
        table: table_ref(t),
        columns,
        rows,
        returning: returning.to_vec(),
    }))
}

/// An update; with `replace`, every writable non-key column not given returns to its default.
pub fn update(
    t: &Table,
    filter: &Expr,
    record: &Record,
    replace: bool,
    returning: &[OutCol],
) -> Result<Statement, ConnectorError> {
    let mut set: Vec<(String, Assign)> = values(t, record)?
        .into_iter()
        .map(|(n, p)| (n, Assign::Value(p)))
        .collect();
    if replace {
        for c in &t.columns {
            if !c.is_primary_key && !c.generated && !record.contains_key(&c.name) {
                set.push((
                    c.name.clone(),
                    Assign::Default {
                        default_sql: c.default.clone(),
                    },
                ));
            }
        }
    }
    if set.is_empty() {
        return Err(ConnectorError::public(
            ErrorKind::InvalidInput,
            "no fields to update",
        ));
    }
    Ok(Statement::Update(Update {
        table: table_ref(t),
        set,
        filter: Some(cond(filter, t)?),
        returning: returning.to_vec(),
    }))
}

pub fn delete(t: &Table, filter: &Expr, returning: &[OutCol]) -> Result<Statement, ConnectorError> {
    Ok(Statement::Delete(Delete {
        table: table_ref(t),
        filter: Some(cond(filter, t)?),
        returning: returning.to_vec(),
    }))
}

/// The filter matching exactly the records whose keys are `keys` (each a
/// record holding the table's key columns).
pub fn keys_filter(t: &Table, keys: &[Record]) -> Expr {
    Expr::Or(
        keys.iter()
            .map(|k| {
                Expr::And(
                    t.primary_key
                        .iter()
                        .map(|c| Expr::eq(c, k.get(c).cloned().unwrap_or(Value::Null)))
                        .collect(),
                )
            })
            .collect(),
    )
}

/// A select of `columns` of the rows matching `filter`.
pub fn select_where(
    t: &Table,
    columns: Vec<OutCol>,
    filter: &Expr,
) -> Result<Statement, ConnectorError> {
    Ok(Statement::Select(Select {
        table: table_ref(t),
        columns,
        filter: Some(cond(filter, t)?),
        order: Vec::new(),
        limit: None,
        offset: 0,
        cells: false,
    }))
}
