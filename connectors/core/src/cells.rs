//! Rows written as text from cells: the values a driver decodes off the wire
//! (PostgreSQL), each with the [`Cell`] kind saying how it is spelled in
//! JSON. Reads collect them into [`JsonRows`]; exports write them as NDJSON
//! or CSV lines ([`crate::export::LineWriter`]).

use crate::error::ConnectorError;
use crate::request::Record;
use serde_json::Value;

/// How a cell's database text is written as JSON.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Cell {
    /// A number as the database spells it; text that is not a JSON number
    /// (`NaN`, `Infinity`) becomes a string.
    Number,
    /// `t`/`true` or `f`/`false`.
    Bool,
    /// Text, written as a JSON string.
    Text,
    /// Already JSON (json columns, arrays, values converted in SQL).
    Json,
}

/// One cell's value as a driver read it.
#[derive(Debug, Clone, Copy)]
pub enum CellValue<'a> {
    Null,
    /// The database's text, spelled in JSON as the column's [`Cell`] says.
    Text(&'a str),
    Int(i64),
    Bool(bool),
}

/// The rows of a read as JSON text, one object per row, with where each row
/// ends: passed to the client as they are, cut to a page, or parsed into
/// records only when something (a hook, ordering by `ids`) needs them.
#[derive(Debug, Clone)]
pub struct JsonRows {
    /// `[` and the objects separated by commas; the closing bracket is
    /// added when the array is written.
    text: String,
    /// The byte offset just past each row's object.
    ends: Vec<usize>,
}

impl Default for JsonRows {
    fn default() -> Self {
        Self {
            text: "[".into(),
            ends: Vec::new(),
        }
    }
}

impl JsonRows {
    pub fn len(&self) -> usize {
        self.ends.len()
    }

    pub fn is_empty(&self) -> bool {
        self.ends.is_empty()
    }

    /// Row `i`'s object.
    pub fn get(&self, i: usize) -> Option<&str> {
        let end = *self.ends.get(i)?;
        let start = match i {
            0 => 1,
            _ => self.ends[i - 1] + 1,
        };
        self.text.get(start..end)
    }

    /// Keeps the first `n` rows.
    pub fn truncate(&mut self, n: usize) {
        if n < self.ends.len() {
            self.text
                .truncate(if n == 0 { 1 } else { self.ends[n - 1] });
            self.ends.truncate(n);
        }
    }

    /// The array's text, appended to `out`.
    pub fn write_array(&self, out: &mut String) {
        out.push_str(&self.text);
        out.push(']');
    }

    /// The length of the array's text.
    pub fn array_len(&self) -> usize {
        self.text.len() + 1
    }

    pub fn into_records(mut self) -> Result<Vec<Record>, ConnectorError> {
        self.text.push(']');
        serde_json::from_str(&self.text)
            .map_err(|e| ConnectorError::internal(format!("rows from the database: {e}")))
    }
}

/// Builds [`JsonRows`] from rows of cells.
pub struct JsonRowsWriter {
    /// Column names, JSON-quoted with a trailing colon.
    keys: Vec<String>,
    rows: JsonRows,
}

impl JsonRowsWriter {
    pub fn new<'a>(columns: impl Iterator<Item = &'a str>) -> Self {
        Self {
            keys: columns.map(json_key).collect(),
            rows: JsonRows::default(),
        }
    }

    /// One row of cells, in column order.
    pub fn row<'a>(&mut self, cells: impl Iterator<Item = (Cell, CellValue<'a>)>) {
        let rows = &mut self.rows;
        if !rows.ends.is_empty() {
            rows.text.push(',');
        }
        push_object(&mut rows.text, &self.keys, cells);
        rows.ends.push(rows.text.len());
    }

    pub fn finish(self) -> JsonRows {
        self.rows
    }
}

/// `"name":`, the key of an object member.
pub(crate) fn json_key(name: &str) -> String {
    let mut k = json_string(name);
    k.push(':');
    k
}

/// One row as a JSON object; `keys` are [`json_key`]s in column order.
pub(crate) fn push_object<'a>(
    out: &mut String,
    keys: &[String],
    cells: impl Iterator<Item = (Cell, CellValue<'a>)>,
) {
    out.push('{');
    for (i, (kind, value)) in cells.enumerate() {
        if i > 0 {
            out.push(',');
        }
        out.push_str(keys.get(i).map_or("\"\":", String::as_str));
        match value {
            CellValue::Null => out.push_str("null"),
            CellValue::Text(t) => push_json_cell(out, kind, Some(t)),
            CellValue::Int(n) => push_int(out, n),
            CellValue::Bool(b) => out.push_str(if b { "true" } else { "false" }),
        }
    }
    out.push('}');
}

pub(crate) fn push_int(out: &mut String, n: i64) {
    out.push_str(itoa::Buffer::new().format(n));
}

pub(crate) fn json_string(s: &str) -> String {
    Value::String(s.to_string()).to_string()
}

/// A JSON string literal of `s` appended to `out` (serde_json's escapes),
/// copying the runs between escapes whole.
pub(crate) fn push_json_text(out: &mut String, s: &str) {
    out.push('"');
    let mut start = 0;
    for (i, b) in s.bytes().enumerate() {
        let escape = match b {
            b'"' => "\\\"",
            b'\\' => "\\\\",
            b'\n' => "\\n",
            b'\r' => "\\r",
            b'\t' => "\\t",
            0x08 => "\\b",
            0x0c => "\\f",
            0..=0x1f => "",
            _ => continue,
        };
        // `b` is ASCII, so `i` is a character boundary
        out.push_str(&s[start..i]);
        if escape.is_empty() {
            use std::fmt::Write;
            let _ = write!(out, "\\u{b:04x}");
        } else {
            out.push_str(escape);
        }
        start = i + 1;
    }
    out.push_str(&s[start..]);
    out.push('"');
}

/// Whether `s` is a number in JSON's grammar.
fn is_json_number(s: &str) -> bool {
    let b = s.as_bytes();
    let mut i = 0;
    if b.get(i) == Some(&b'-') {
        i += 1;
    }
    match b.get(i) {
        Some(b'0') => i += 1,
        Some(b'1'..=b'9') => {
            while b.get(i).is_some_and(u8::is_ascii_digit) {
                i += 1;
            }
        }
        _ => return false,
    }
    if b.get(i) == Some(&b'.') {
        i += 1;
        if !b.get(i).is_some_and(u8::is_ascii_digit) {
            return false;
        }
        while b.get(i).is_some_and(u8::is_ascii_digit) {
            i += 1;
        }
    }
    if matches!(b.get(i), Some(b'e' | b'E')) {
        i += 1;
        if matches!(b.get(i), Some(b'+' | b'-')) {
            i += 1;
        }
        if !b.get(i).is_some_and(u8::is_ascii_digit) {
            return false;
        }
        while b.get(i).is_some_and(u8::is_ascii_digit) {
            i += 1;
        }
    }
    i == b.len()
}

/// A cell as JSON, appended to `out`.
fn push_json_cell(out: &mut String, kind: Cell, text: Option<&str>) {
    let Some(t) = text else {
        out.push_str("null");
        return;
    };
    match kind {
        Cell::Number if is_json_number(t) => out.push_str(t),
        Cell::Bool if t == "t" || t == "true" => out.push_str("true"),
        Cell::Bool if t == "f" || t == "false" => out.push_str("false"),
        Cell::Json => out.push_str(t),
        _ => push_json_text(out, t),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn json_numbers() {
        for ok in ["0", "-0", "12", "1.5", "1e+100", "-2.5E-3", "10.00"] {
            assert!(is_json_number(ok), "{ok}");
        }
        for bad in [
            "",
            "-",
            "01",
            "1.",
            ".5",
            "NaN",
            "Infinity",
            "-Infinity",
            "1e",
            "0x1",
            "1 ",
        ] {
            assert!(!is_json_number(bad), "{bad}");
        }
    }

    #[test]
    fn rows_as_one_array_cut_and_read() {
        let mut w = JsonRowsWriter::new(["id", "name"].into_iter());
        for (id, name) in [(1, "a\u{8}\u{c}\u{1f}\"\\é"), (2, "b"), (3, "c")] {
            w.row(
                [
                    (Cell::Number, CellValue::Int(id)),
                    (Cell::Text, CellValue::Text(name)),
                ]
                .into_iter(),
            );
        }
        let mut rows = w.finish();
        assert_eq!(rows.len(), 3);
        assert_eq!(rows.get(0), Some(r#"{"id":1,"name":"a\b\f\u001f\"\\é"}"#));
        assert_eq!(rows.get(2), Some(r#"{"id":3,"name":"c"}"#));
        assert_eq!(rows.get(3), None);
        // the same escapes as serde_json
        let parsed: Vec<Value> = rows
            .clone()
            .into_records()
            .unwrap()
            .into_iter()
            .map(Value::Object)
            .collect();
        assert_eq!(
            serde_json::to_string(&parsed[0]).unwrap(),
            rows.get(0).unwrap()
        );
        rows.truncate(2);
        let mut text = String::new();
        rows.write_array(&mut text);
        assert_eq!(
            text,
            format!("[{},{}]", rows.get(0).unwrap(), r#"{"id":2,"name":"b"}"#)
        );
        assert_eq!(text.len(), rows.array_len());
        rows.truncate(0);
        let mut text = String::new();
        rows.write_array(&mut text);
        assert_eq!(text, "[]");
        assert!(rows.into_records().unwrap().is_empty());
        let mut none = String::new();
        JsonRows::default().write_array(&mut none);
        assert_eq!(none, "[]");
    }
}
