//! Rows read straight off the wire. Reads and exports select plain columns
//! (the dialect's `cell_column`); each value arrives in PostgreSQL's binary
//! form and is turned into a [`CellValue`] here — integers and booleans as
//! they are, numbers, uuids and bytea spelled as text — so the answer's JSON
//! or CSV is written without a JSON tree and without the server converting
//! every value to text first.

use base64::Engine;
use gatehouse_core::ConnectorError;
use gatehouse_core::cells::{Cell, CellValue};
use sqlx::postgres::{PgRow, PgValueFormat};
use sqlx::{Column, Row, TypeInfo, ValueRef};

/// How a column's binary value is read, from the type the row description names.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Wire {
    Int2,
    Int4,
    Int8,
    Bool,
    Float4,
    Float8,
    Numeric,
    Uuid,
    Json,
    Jsonb,
    Bytea,
    Date,
    Timestamp,
    /// Spelled in UTC (the session's time zone) with `+00:00`.
    Timestamptz,
    Time,
    /// Text, varchar, bpchar, name: the binary form is the UTF-8 text.
    Text,
}

impl Wire {
    fn of(type_name: &str) -> Option<Wire> {
        Some(match type_name {
            "INT2" => Wire::Int2,
            "INT4" => Wire::Int4,
            "INT8" => Wire::Int8,
            "BOOL" => Wire::Bool,
            "FLOAT4" => Wire::Float4,
            "FLOAT8" => Wire::Float8,
            "NUMERIC" => Wire::Numeric,
            "UUID" => Wire::Uuid,
            "JSON" => Wire::Json,
            "JSONB" => Wire::Jsonb,
            "BYTEA" => Wire::Bytea,
            "DATE" => Wire::Date,
            "TIMESTAMP" => Wire::Timestamp,
            "TIMESTAMPTZ" => Wire::Timestamptz,
            "TIME" => Wire::Time,
            // sqlx names bpchar (`character(n)`) "CHAR"; the one-byte `"char"` is `"CHAR"`
            "TEXT" | "VARCHAR" | "CHAR" | "NAME" => Wire::Text,
            _ => return None,
        })
    }

    /// Spelled as text into a scratch buffer rather than borrowed from the row.
    fn spelled(self) -> bool {
        !matches!(
            self,
            Wire::Int2
                | Wire::Int4
                | Wire::Int8
                | Wire::Bool
                | Wire::Json
                | Wire::Jsonb
                | Wire::Text
        )
    }
}

/// Decodes the rows of one query: the cell kinds come from the dialect
/// (how each column is written in JSON), the wire types from the first row.
pub struct Decoder {
    kinds: Vec<Cell>,
    wires: Vec<Wire>,
    /// Per column, the text of a value spelled here; reused from row to row.
    scratch: Vec<String>,
}

fn bad(what: &str) -> ConnectorError {
    ConnectorError::internal(format!("postgres: cannot read a {what} value"))
}

fn fixed<const N: usize>(bytes: &[u8], what: &str) -> Result<[u8; N], ConnectorError> {
    bytes.try_into().map_err(|_| bad(what))
}

fn utf8<'r>(bytes: &'r [u8], what: &str) -> Result<&'r str, ConnectorError> {
    std::str::from_utf8(bytes).map_err(|_| bad(what))
}

impl Decoder {
    pub fn new(kinds: Vec<Cell>) -> Self {
        Self {
            scratch: vec![String::new(); kinds.len()],
            kinds,
            wires: Vec::new(),
        }
    }

    fn learn(&mut self, row: &PgRow) -> Result<(), ConnectorError> {
        if row.columns().len() != self.kinds.len() {
            return Err(ConnectorError::internal(
                "postgres: the row has other columns than the query named",
            ));
        }
        self.wires = row
            .columns()
            .iter()
            .map(|c| {
                let name = c.type_info().name();
                Wire::of(name).ok_or_else(|| {
                    ConnectorError::internal(format!(
                        "postgres: column {} arrived as {name}, which is not read natively",
                        c.name()
                    ))
                })
            })
            .collect::<Result<_, _>>()?;
        Ok(())
    }

    /// The cells of one row, in column order.
    pub fn row<'r>(
        &'r mut self,
        row: &'r PgRow,
    ) -> Result<Vec<(Cell, CellValue<'r>)>, ConnectorError> {
        if self.wires.is_empty() {
            self.learn(row)?;
        }
        // each value's bytes (None: NULL)
        let mut raw: Vec<Option<&'r [u8]>> = Vec::with_capacity(self.wires.len());
        for i in 0..self.wires.len() {
            let value = row
                .try_get_raw(i)
                .map_err(|e| ConnectorError::internal(format!("postgres: {e}")))?;
            raw.push(if value.is_null() {
                None
            } else if value.format() != PgValueFormat::Binary {
                // sqlx asks for every result column in binary
                return Err(ConnectorError::internal(
                    "postgres: a value arrived as text",
                ));
            } else {
                Some(
                    value
                        .as_bytes()
                        .map_err(|e| ConnectorError::internal(format!("postgres: {e}")))?,
                )
            });
        }
        for ((wire, b), out) in self.wires.iter().zip(&raw).zip(&mut self.scratch) {
            let Some(b) = *b else { continue };
            if !wire.spelled() {
                continue;
            }
            out.clear();
            match wire {
                Wire::Float4 => {
                    push_float(out, f64::from(f32::from_be_bytes(fixed(b, "real")?)), true);
                }
                Wire::Float8 => push_float(out, f64::from_be_bytes(fixed(b, "double")?), false),
                Wire::Numeric => numeric_text(b, out).ok_or_else(|| bad("numeric"))?,
                Wire::Uuid => {
                    let id = uuid::Uuid::from_bytes(fixed(b, "uuid")?);
                    out.push_str(
                        id.hyphenated()
                            .encode_lower(&mut uuid::Uuid::encode_buffer()),
                    );
                }
                Wire::Bytea => base64::engine::general_purpose::STANDARD.encode_string(b, out),
                Wire::Date => push_date(out, i32::from_be_bytes(fixed(b, "date")?)),
                Wire::Timestamp | Wire::Timestamptz => push_timestamp(
                    out,
                    i64::from_be_bytes(fixed(b, "timestamp")?),
                    *wire == Wire::Timestamptz,
                ),
                Wire::Time => push_time(out, i64::from_be_bytes(fixed(b, "time")?)),
                _ => {}
            }
        }
        let mut cells = Vec::with_capacity(self.wires.len());
        for (i, ((wire, kind), b)) in self.wires.iter().zip(&self.kinds).zip(raw).enumerate() {
            let Some(b) = b else {
                cells.push((*kind, CellValue::Null));
                continue;
            };
            let value = match wire {
                Wire::Int2 => CellValue::Int(i16::from_be_bytes(fixed(b, "smallint")?).into()),
                Wire::Int4 => CellValue::Int(i32::from_be_bytes(fixed(b, "integer")?).into()),
                Wire::Int8 => CellValue::Int(i64::from_be_bytes(fixed(b, "bigint")?)),
                Wire::Bool => CellValue::Bool(fixed::<1>(b, "boolean")? != [0]),
                Wire::Text | Wire::Json => CellValue::Text(utf8(b, "text")?),
                // jsonb: a version byte (1), then the text
                Wire::Jsonb => match b.split_first() {
                    Some((1, text)) => CellValue::Text(utf8(text, "jsonb")?),
                    _ => return Err(bad("jsonb")),
                },
                _ => CellValue::Text(&self.scratch[i]),
            };
            cells.push((*kind, value));
        }
        Ok(cells)
    }
}

/// Days from 2000-01-01 (PostgreSQL's epoch) to the proleptic Gregorian
/// (year, month, day), the year astronomical (0 = 1 BC); exact for any i64
/// (Howard Hinnant's `civil_from_days`).
fn civil(days_since_2000: i64) -> (i64, i64, i64) {
    let z = days_since_2000 + 10_957 + 719_468;
    let era = z.div_euclid(146_097);
    let doe = z.rem_euclid(146_097);
    let yoe = (doe - doe / 1460 + doe / 36_524 - doe / 146_096) / 365;
    let doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
    let mp = (5 * doy + 2) / 153;
    let day = doy - (153 * mp + 2) / 5 + 1;
    let month = if mp < 10 { mp + 3 } else { mp - 9 };
    let year = yoe + era * 400 + i64::from(month <= 2);
    (year, month, day)
}

/// `n` in decimal, zero-padded to `width` digits.
fn push_padded(out: &mut String, n: u64, width: usize) {
    let mut buf = itoa::Buffer::new();
    let digits = buf.format(n);
    for _ in digits.len()..width {
        out.push('0');
    }
    out.push_str(digits);
}

/// `YYYY-MM-DD` (at least four year digits); the " BC" suffix is the caller's.
fn push_ymd(out: &mut String, days: i64) -> bool {
    let (year, month, day) = civil(days);
    let bc = year <= 0;
    let year = if bc { 1 - year } else { year };
    push_padded(out, year.unsigned_abs(), 4);
    out.push('-');
    push_padded(out, month.unsigned_abs(), 2);
    out.push('-');
    push_padded(out, day.unsigned_abs(), 2);
    bc
}

/// `HH:MM:SS` and the fraction without trailing zeros, as PostgreSQL writes a time.
fn push_time(out: &mut String, micros: i64) {
    let micros = micros.unsigned_abs();
    let secs = micros / 1_000_000;
    let frac = micros % 1_000_000;
    push_padded(out, secs / 3600, 2);
    out.push(':');
    push_padded(out, secs / 60 % 60, 2);
    out.push(':');
    push_padded(out, secs % 60, 2);
    if frac != 0 {
        out.push('.');
        let start = out.len();
        push_padded(out, frac, 6);
        while out.len() > start && out.ends_with('0') {
            out.pop();
        }
    }
}

/// A date as PostgreSQL's JSON spells it: `2024-02-29`, `0044-03-15 BC`, `infinity`.
fn push_date(out: &mut String, days: i32) {
    match days {
        i32::MAX => out.push_str("infinity"),
        i32::MIN => out.push_str("-infinity"),
        _ => {
            if push_ymd(out, i64::from(days)) {
                out.push_str(" BC");
            }
        }
    }
}

/// A timestamp (microseconds from 2000-01-01) as PostgreSQL's JSON spells
/// it: `2024-02-29T12:00:00.5`, with `+00:00` when it has a time zone (the
/// session's is UTC), ` BC` last.
fn push_timestamp(out: &mut String, micros: i64, zoned: bool) {
    match micros {
        i64::MAX => out.push_str("infinity"),
        i64::MIN => out.push_str("-infinity"),
        _ => {
            const DAY: i64 = 86_400_000_000;
            let bc = push_ymd(out, micros.div_euclid(DAY));
            out.push('T');
            push_time(out, micros.rem_euclid(DAY));
            if zoned {
                out.push_str("+00:00");
            }
            if bc {
                out.push_str(" BC");
            }
        }
    }
}

/// A float as PostgreSQL's JSON spells it: the shortest text that reads back
/// as the same value (`0.1`, `1e+100` as `1e100`), a whole number without
/// `.0`, and `NaN`/`Infinity`/`-Infinity` as words (written as JSON strings).
fn push_float(out: &mut String, f: f64, single: bool) {
    if f.is_nan() {
        out.push_str("NaN");
    } else if f.is_infinite() {
        out.push_str(if f > 0.0 { "Infinity" } else { "-Infinity" });
    } else {
        let mut buf = ryu::Buffer::new();
        // a real's shortest text is that of the f32, not of the widened f64
        #[allow(clippy::cast_possible_truncation)]
        let text = if single {
            buf.format_finite(f as f32)
        } else {
            buf.format_finite(f)
        };
        out.push_str(text.strip_suffix(".0").unwrap_or(text));
    }
}

/// A `numeric`'s binary form as its exact text (what `numeric_out` writes):
/// `ndigits`, `weight`, `sign`, `dscale` (16 bits each), then `ndigits`
/// base-10,000 digits, the first worth 10,000^weight. `None` if malformed.
fn numeric_text(b: &[u8], out: &mut String) -> Option<()> {
    let word = |i: usize| -> Option<u16> { Some(u16::from_be_bytes([*b.get(i)?, *b.get(i + 1)?])) };
    let ndigits = usize::from(word(0)?);
    let weight = i32::from(word(2)? as i16);
    let sign = word(4)?;
    let dscale = usize::from(word(6)?);
    if b.len() != 8 + 2 * ndigits {
        return None;
    }
    let digit = |k: i32| -> Option<u16> {
        if k < 0 || k as usize >= ndigits {
            return Some(0);
        }
        let d = word(8 + 2 * k as usize)?;
        (d < 10_000).then_some(d)
    };
    match sign {
        0x0000 => {}
        0x4000 => out.push('-'),
        0xC000 => {
            out.push_str("NaN");
            return Some(());
        }
        0xD000 => {
            out.push_str("Infinity");
            return Some(());
        }
        0xF000 => {
            out.push_str("-Infinity");
            return Some(());
        }
        _ => return None,
    }
    if weight < 0 {
        out.push('0');
    } else {
        for k in 0..=weight {
            let d = digit(k)?;
            if k == 0 {
                push_padded(out, u64::from(d), 1);
            } else {
                push_padded(out, u64::from(d), 4);
            }
        }
    }
    if dscale > 0 {
        out.push('.');
        let mut left = dscale;
        let mut k = weight + 1;
        while left > 0 {
            let d = digit(k)?;
            let four = [d / 1000, d / 100 % 10, d / 10 % 10, d % 10];
            for digit in four.iter().take(left.min(4)) {
                out.push(char::from(b'0' + *digit as u8));
            }
            left = left.saturating_sub(4);
            k += 1;
        }
    }
    Some(())
}

#[cfg(test)]
mod tests {
    use super::*;

    /// The binary form of a numeric, from its parts.
    fn numeric(weight: i16, sign: u16, dscale: u16, digits: &[u16]) -> Vec<u8> {
        let mut b = Vec::new();
        b.extend_from_slice(&(digits.len() as u16).to_be_bytes());
        b.extend_from_slice(&weight.to_be_bytes());
        b.extend_from_slice(&sign.to_be_bytes());
        b.extend_from_slice(&dscale.to_be_bytes());
        for d in digits {
            b.extend_from_slice(&d.to_be_bytes());
        }
        b
    }

    fn text(b: &[u8]) -> Option<String> {
        let mut s = String::new();
        numeric_text(b, &mut s).map(|()| s)
    }

    #[test]
    fn numerics_as_postgres_writes_them() {
        let cases: &[(i16, u16, u16, &[u16], &str)] = &[
            (0, 0, 0, &[], "0"),
            (0, 0, 2, &[], "0.00"),
            (0, 0, 2, &[1500, 5000], "1500.50"),
            (0, 0, 2, &[99, 9900], "99.99"),
            (1, 0, 6, &[1, 2345, 6789, 100], "12345.678901"),
            (-1, 0, 4, &[1], "0.0001"),
            (-2, 0, 5, &[1000], "0.00001"),
            (-1, 0x4000, 1, &[5000], "-0.5"),
            (2, 0, 0, &[1], "100000000"),
            (2, 0x4000, 0, &[9, 9999, 9999], "-999999999"),
            (0, 0, 9, &[3, 1415, 9265, 3589], "3.141592653"),
            (0, 0xC000, 0, &[], "NaN"),
            (0, 0xD000, 0, &[], "Infinity"),
            (0, 0xF000, 0, &[], "-Infinity"),
        ];
        for (weight, sign, dscale, digits, want) in cases {
            assert_eq!(
                text(&numeric(*weight, *sign, *dscale, digits)).as_deref(),
                Some(*want),
                "{digits:?} weight {weight}"
            );
        }
    }

    #[test]
    fn malformed_numerics_are_refused() {
        assert_eq!(text(&[0, 1]), None);
        let mut long = numeric(0, 0, 0, &[1]);
        long.push(0);
        assert_eq!(text(&long), None);
        assert_eq!(text(&numeric(0, 0x1234, 0, &[1])), None);
        assert_eq!(text(&numeric(0, 0, 0, &[10_000])), None);
    }

    #[test]
    fn dates_and_times_as_postgres_writes_them() {
        const DAY: i64 = 86_400_000_000;
        let day = |s: &str| -> i64 {
            // days from 2000-01-01, found by walking `civil` (test only)
            let (y, m, d): (i64, i64, i64) = {
                let p: Vec<i64> = s.rsplitn(3, '-').map(|x| x.parse().unwrap()).collect();
                (p[2], p[1], p[0])
            };
            let guess = (y - 2000) * 365 + (y - 2000) / 4;
            (guess - 800..guess + 800)
                .find(|n| civil(*n) == (y, m, d))
                .unwrap_or_else(|| panic!("{s}"))
        };
        let date = |d: i32| {
            let mut s = String::new();
            push_date(&mut s, d);
            s
        };
        let ts = |m: i64, z: bool| {
            let mut s = String::new();
            push_timestamp(&mut s, m, z);
            s
        };
        assert_eq!(civil(0), (2000, 1, 1));
        assert_eq!(civil(-1), (1999, 12, 31));
        assert_eq!(civil(59), (2000, 2, 29));
        assert_eq!(date(0), "2000-01-01");
        assert_eq!(date(day("2024-02-29") as i32), "2024-02-29");
        assert_eq!(date(day("-43-03-15") as i32), "0044-03-15 BC");
        assert_eq!(date(i32::MAX), "infinity");
        assert_eq!(date(i32::MIN), "-infinity");
        assert_eq!(ts(-1, false), "1999-12-31T23:59:59.999999");
        assert_eq!(
            ts(day("2024-01-01") * DAY + 36_000_120_000, true),
            "2024-01-01T10:00:00.12+00:00"
        );
        assert_eq!(
            ts(day("0-01-01") * DAY, true),
            "0001-01-01T00:00:00+00:00 BC"
        );
        assert_eq!(
            ts(day("-43-03-15") * DAY + 36_000_500_000, false),
            "0044-03-15T10:00:00.5 BC"
        );
        assert_eq!(
            ts(day("12345-01-01") * DAY + 1_000_001, false),
            "12345-01-01T00:00:01.000001"
        );
        assert_eq!(ts(i64::MAX, true), "infinity");
        let mut t = String::new();
        push_time(&mut t, DAY);
        assert_eq!(t, "24:00:00");
        t.clear();
        push_time(&mut t, 49_500_250_000);
        assert_eq!(t, "13:45:00.25");
    }

    #[test]
    fn floats_as_json_numbers() {
        let cases: &[(f64, bool, &str)] = &[
            (0.25, false, "0.25"),
            (1.0, false, "1"),
            (-3.0, false, "-3"),
            (0.1, false, "0.1"),
            (1e100, false, "1e100"),
            (f64::from(0.1f32), true, "0.1"),
            (f64::NAN, false, "NaN"),
            (f64::INFINITY, false, "Infinity"),
            (f64::NEG_INFINITY, true, "-Infinity"),
        ];
        for (f, single, want) in cases {
            let mut s = String::new();
            push_float(&mut s, *f, *single);
            assert_eq!(s, *want);
        }
    }
}
