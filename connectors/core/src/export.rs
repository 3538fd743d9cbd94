//! Streaming export: a list result as NDJSON or CSV lines, produced in
//! chunks so any number of rows passes through in constant memory.
//!
//! Two sources write lines here: records (JSON values, the default for every
//! connector, which pages through [`Connector::select`](crate::Connector::select))
//! and text cells a driver reads straight off the wire (PostgreSQL), each with
//! the [`Cell`] kind saying how it is spelled in JSON.

use crate::cells::{Cell, CellValue, json_key, push_int, push_object};
use crate::error::ConnectorError;
use crate::request::Record;
use bytes::{Bytes, BytesMut};
use futures_core::Stream;
use serde_json::Value;
use std::pin::Pin;

/// Chunks of encoded lines; an error ends the stream.
pub type ExportStream = Pin<Box<dyn Stream<Item = Result<Bytes, ConnectorError>> + Send>>;

/// A chunk is handed on once it holds this much.
pub const CHUNK_BYTES: usize = 64 * 1024;

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ExportFormat {
    /// One JSON object per line (`application/x-ndjson`).
    Ndjson,
    /// RFC 4180 with a header line (`text/csv`).
    Csv,
}

impl ExportFormat {
    pub fn content_type(self) -> &'static str {
        match self {
            ExportFormat::Ndjson => "application/x-ndjson",
            ExportFormat::Csv => "text/csv; charset=utf-8",
        }
    }
}

/// Builds the lines of one export into chunks.
pub struct LineWriter {
    format: ExportFormat,
    buf: BytesMut,
    /// Column names, JSON-quoted with a trailing colon (NDJSON), or as
    /// CSV cells (for the header).
    keys: Vec<String>,
    started: bool,
    /// The line being written, kept between rows for its allocation.
    line: String,
}

impl LineWriter {
    pub fn new(format: ExportFormat, columns: &[String]) -> Self {
        let keys = columns
            .iter()
            .map(|c| match format {
                ExportFormat::Ndjson => json_key(c),
                ExportFormat::Csv => {
                    let mut k = String::new();
                    push_csv_text(&mut k, c);
                    k
                }
            })
            .collect();
        Self {
            format,
            buf: BytesMut::with_capacity(CHUNK_BYTES + 1024),
            keys,
            started: false,
            line: String::with_capacity(256),
        }
    }

    /// The CSV header, once, before the first row (also for no rows).
    fn start(&mut self) {
        if self.started {
            return;
        }
        self.started = true;
        if self.format == ExportFormat::Csv {
            let header = self.keys.join(",");
            self.buf.extend_from_slice(header.as_bytes());
            self.buf.extend_from_slice(b"\r\n");
        }
    }

    /// One row of cells, in column order.
    pub fn values<'a>(&mut self, cells: impl Iterator<Item = (Cell, CellValue<'a>)>) {
        self.start();
        let mut line = std::mem::take(&mut self.line);
        line.clear();
        match self.format {
            ExportFormat::Ndjson => {
                push_object(&mut line, &self.keys, cells);
                line.push('\n');
            }
            ExportFormat::Csv => {
                for (i, (kind, value)) in cells.enumerate() {
                    if i > 0 {
                        line.push(',');
                    }
                    match value {
                        CellValue::Null => {}
                        CellValue::Text(t) => push_csv_cell(&mut line, kind, Some(t)),
                        CellValue::Int(n) => push_int(&mut line, n),
                        CellValue::Bool(b) => line.push_str(if b { "true" } else { "false" }),
                    }
                }
                line.push_str("\r\n");
            }
        }
        self.buf.extend_from_slice(line.as_bytes());
        self.line = line;
    }

    /// One record (the columns of the writer, in order), through [`values`](Self::values):
    /// serde_json spells numbers, arrays and objects; strings and booleans are cells.
    pub fn record(&mut self, columns: &[String], record: &Record) {
        let spelled: Vec<Option<String>> = columns
            .iter()
            .map(|c| match record.get(c) {
                Some(v @ (Value::Number(_) | Value::Array(_) | Value::Object(_))) => {
                    Some(v.to_string())
                }
                _ => None,
            })
            .collect();
        let cells =
            columns
                .iter()
                .zip(&spelled)
                .map(|(c, spelled)| match (record.get(c), spelled) {
                    (Some(Value::Number(_)), Some(t)) => (Cell::Number, CellValue::Text(t)),
                    (_, Some(t)) => (Cell::Json, CellValue::Text(t)),
                    (Some(Value::String(t)), None) => (Cell::Text, CellValue::Text(t)),
                    (Some(Value::Bool(b)), None) => (Cell::Bool, CellValue::Bool(*b)),
                    _ => (Cell::Text, CellValue::Null),
                });
        self.values(cells);
    }

    /// A full chunk to send, if there is one.
    pub fn take_full(&mut self) -> Option<Bytes> {
        (self.buf.len() >= CHUNK_BYTES).then(|| self.buf.split().freeze())
    }

    /// What is left (the header alone when there were no rows).
    pub fn finish(&mut self) -> Option<Bytes> {
        self.start();
        (!self.buf.is_empty()).then(|| self.buf.split().freeze())
    }
}

/// A CSV cell: quoted when it holds a comma, quote, or line break.
fn push_csv_text(out: &mut String, s: &str) {
    if s.contains([',', '"', '\n', '\r']) {
        out.push('"');
        for (i, part) in s.split('"').enumerate() {
            if i > 0 {
                out.push_str("\"\"");
            }
            out.push_str(part);
        }
        out.push('"');
    } else {
        out.push_str(s);
    }
}

/// A cell as CSV: NULL is empty, booleans `true`/`false`, JSON as its text.
fn push_csv_cell(out: &mut String, kind: Cell, text: Option<&str>) {
    let Some(t) = text else { return };
    match kind {
        Cell::Bool if t == "t" || t == "true" => out.push_str("true"),
        Cell::Bool if t == "f" || t == "false" => out.push_str("false"),
        // a JSON string (a date, an enum label) is its text; other JSON stays JSON
        // a string without escapes is its inner text
        Cell::Json
            if t.len() >= 2 && t.starts_with('"') && t.ends_with('"') && !t.contains('\\') =>
        {
            push_csv_text(out, &t[1..t.len() - 1]);
        }
        Cell::Json if t.starts_with('"') => match serde_json::from_str::<String>(t) {
            Ok(s) => push_csv_text(out, &s),
            Err(_) => push_csv_text(out, t),
        },
        Cell::Json if t == "null" => {}
        _ => push_csv_text(out, t),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    /// One row of text cells (`None` = NULL).
    fn cells<'a>(w: &mut LineWriter, row: impl IntoIterator<Item = (Cell, Option<&'a str>)>) {
        w.values(
            row.into_iter()
                .map(|(k, t)| (k, t.map_or(CellValue::Null, CellValue::Text))),
        );
    }

    fn text(mut w: LineWriter) -> String {
        String::from_utf8(w.finish().unwrap_or_default().to_vec()).unwrap()
    }

    #[test]
    fn cells_as_ndjson_and_csv() {
        let cols = [
            "id".to_string(),
            "name".to_string(),
            "ok".to_string(),
            "x".to_string(),
        ];
        let row = [
            (Cell::Number, Some("1")),
            (Cell::Text, Some("a \"b\",\nc\t\u{1}")),
            (Cell::Bool, Some("t")),
            (Cell::Number, Some("NaN")),
        ];
        let mut w = LineWriter::new(ExportFormat::Ndjson, &cols);
        cells(&mut w, row);
        cells(
            &mut w,
            [
                (Cell::Number, None),
                (Cell::Json, Some("[1,{\"a\":2}]")),
                (Cell::Bool, Some("false")),
                (Cell::Text, None),
            ],
        );
        let out = text(w);
        let lines: Vec<Value> = out
            .lines()
            .map(|l| serde_json::from_str(l).unwrap())
            .collect();
        assert_eq!(
            lines[0],
            json!({"id": 1, "name": "a \"b\",\nc\t\u{1}", "ok": true, "x": "NaN"})
        );
        assert_eq!(
            lines[1],
            json!({"id": null, "name": [1, {"a": 2}], "ok": false, "x": null})
        );

        let mut w = LineWriter::new(ExportFormat::Csv, &cols);
        cells(&mut w, row);
        cells(
            &mut w,
            [
                (Cell::Json, Some("\"2020-01-01T00:00:01\"")),
                (Cell::Json, Some("[1,2]")),
                (Cell::Json, Some("null")),
                (Cell::Json, Some("\"a,b\"")),
            ],
        );
        assert_eq!(
            text(w),
            "id,name,ok,x\r\n1,\"a \"\"b\"\",\nc\t\u{1}\",true,NaN\r\n2020-01-01T00:00:01,\"[1,2]\",,\"a,b\"\r\n"
        );
    }

    #[test]
    fn records_and_an_empty_export() {
        let cols = ["a".to_string(), "b".to_string()];
        let rec: Record = serde_json::from_value(json!({"a": "x,y", "b": {"k": [1]}})).unwrap();
        let mut w = LineWriter::new(ExportFormat::Csv, &cols);
        w.record(&cols, &rec);
        assert_eq!(text(w), "a,b\r\n\"x,y\",\"{\"\"k\"\":[1]}\"\r\n");
        let mut w = LineWriter::new(ExportFormat::Ndjson, &cols);
        w.record(&cols, &rec);
        assert_eq!(text(w), "{\"a\":\"x,y\",\"b\":{\"k\":[1]}}\n");
        assert_eq!(text(LineWriter::new(ExportFormat::Csv, &cols)), "a,b\r\n");
        assert_eq!(text(LineWriter::new(ExportFormat::Ndjson, &cols)), "");
    }
}
