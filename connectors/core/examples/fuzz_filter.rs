//! A fuzz run of the filter parser, outside CI (stable Rust, no cargo-fuzz):
//!
//! ```text
//! cargo run --release -p gatehouse-core --example fuzz_filter -- 10000000 [seed]
//! ```
//!
//! Inputs come three ways: token soup (keywords, operators, quotes, deep runs
//! of `(` and `NOT`), mutations of filters the grammar allows (bytes
//! replaced, inserted, cut; pieces repeated), and random characters. For each:
//! the parser must return (no panic, no stack overflow: a crash ends the run),
//! and a filter it accepts must print a canonical form that parses back to the
//! same tree and binds. A filter it refuses for a limit must be beyond it.
//! Counts are printed at the end; the exit status is non-zero on a finding.

use gatehouse_core::filter::{Expr, Limits};
use serde_json::{Map, Value};
use std::time::Instant;

struct Rng(u64);

impl Rng {
    fn next(&mut self, n: usize) -> usize {
        // xorshift64*
        self.0 ^= self.0 >> 12;
        self.0 ^= self.0 << 25;
        self.0 ^= self.0 >> 27;
        (self.0.wrapping_mul(0x2545_f491_4f6c_dd1d) >> 33) as usize % n.max(1)
    }

    fn pick<'a>(&mut self, xs: &[&'a str]) -> &'a str {
        xs[self.next(xs.len())]
    }
}

const PIECES: &[&str] = &[
    "a",
    "b.c",
    "name",
    "x1",
    "_f",
    " ",
    "  ",
    "=",
    "!=",
    "<>",
    ">",
    ">=",
    "<",
    "<=",
    "eq",
    "NE",
    "gt",
    "GTE",
    "lt",
    "lte",
    "and",
    "AND",
    "or",
    "Or",
    "not",
    "NOT",
    "&&",
    "||",
    "(",
    ")",
    ",",
    "in",
    "like",
    "contains",
    "starts",
    "ends",
    "with",
    "between",
    "is",
    "null",
    "true",
    "false",
    "'x'",
    "'it''s'",
    "\"q\"",
    "'",
    "\"",
    "''",
    "1",
    "-2.5",
    "1e3",
    "1E-9",
    "1.",
    "-",
    ".",
    "e",
    ":p",
    ":",
    "{user.id}",
    "{role}",
    "{",
    "}",
    "{}",
    "é",
    "日本",
    "%",
    "_",
    ";",
    "\\",
    "\t",
    "\n",
    "99999999999999999999999999",
    "-0",
    "0.0000001",
];

const FIELDS: &[&str] = &["a", "b.c", "name", "x_1"];
const VALUES: &[&str] = &[
    "1", "-2.5", "'x'", "'it''s'", "true", "null", ":p", "{role}",
];
const CMP: &[&str] = &["=", "!=", "<>", ">", ">=", "<", "<=", "eq", "lte"];

fn valid(r: &mut Rng, depth: usize) -> String {
    if depth > 0 && r.next(3) == 0 {
        let op = r.pick(&[" and ", " or ", " && ", " || "]);
        return format!("({}{op}{})", valid(r, depth - 1), valid(r, depth - 1));
    }
    if depth > 0 && r.next(5) == 0 {
        return format!("not {}", valid(r, depth - 1));
    }
    let f = r.pick(FIELDS);
    match r.next(7) {
        0 => format!("{f} {} {}", r.pick(CMP), r.pick(VALUES)),
        1 => format!("{f} not in ({}, {})", r.pick(VALUES), r.pick(VALUES)),
        2 => format!("{f} like '%x_'"),
        3 => format!("{f} {} 'a%b'", r.pick(&["contains", "starts with"])),
        4 => format!("{f} between {} and {}", r.pick(VALUES), r.pick(VALUES)),
        5 => format!("{f} is {}null", r.pick(&["", "not "])),
        _ => format!("{f} in ({})", vec!["1"; 1 + r.next(20)].join(",")),
    }
}

fn input(r: &mut Rng) -> String {
    match r.next(10) {
        // token soup
        0..=3 => {
            let len = 1 + r.next(40);
            (0..len)
                .map(|_| r.pick(PIECES))
                .collect::<Vec<_>>()
                .join(" ")
        }
        // deep runs: near and past the depth limit
        4 => {
            let n = r.next(80);
            let open = r.pick(&["(", "not ", "not (", "a = 1 or (", "a = 1 and not ("]);
            let close = if open.contains('(') { ")" } else { "" };
            let closes = r.next(n + 2);
            format!("{}{}{}", open.repeat(n), valid(r, 2), close.repeat(closes))
        }
        // long flat lists: near the term and value limits
        5 => {
            let n = 900 + r.next(200);
            let sep = r.pick(&[" or ", " and ", ","]);
            if sep == "," {
                format!("a in ({})", vec!["1"; n * 10].join(","))
            } else {
                vec!["a = 1"; n].join(sep)
            }
        }
        // mutations of a valid filter
        6..=8 => {
            let mut chars: Vec<char> = valid(r, 4).chars().collect();
            for _ in 0..=r.next(4) {
                let at = r.next(chars.len() + 1);
                match r.next(4) {
                    0 if at < chars.len() => {
                        chars.remove(at);
                    }
                    1 => {
                        let piece: Vec<char> = r.pick(PIECES).chars().collect();
                        chars.splice(at..at, piece);
                    }
                    2 if at < chars.len() => chars.truncate(at),
                    _ => {
                        let c = char::from_u32(r.next(0x3000) as u32).unwrap_or('?');
                        chars.insert(at.min(chars.len()), c);
                    }
                }
            }
            chars.into_iter().collect()
        }
        // random characters
        _ => (0..r.next(60))
            .map(|_| char::from_u32(r.next(0x250) as u32).unwrap_or(' '))
            .collect(),
    }
}

fn depth(e: &Expr) -> usize {
    match e {
        Expr::And(v) | Expr::Or(v) => 1 + v.iter().map(depth).max().unwrap_or(0),
        Expr::Not(x) => 1 + depth(x),
        _ => 0,
    }
}

fn main() {
    let args: Vec<String> = std::env::args().collect();
    let runs: u64 = args
        .get(1)
        .and_then(|a| a.parse().ok())
        .unwrap_or(1_000_000);
    let seed: u64 = args
        .get(2)
        .and_then(|a| a.parse().ok())
        .unwrap_or(0x9e37_79b9_7f4a_7c15);
    let limits = Limits::default();
    let mut params = Map::new();
    for p in ["p", "user.id", "role"] {
        params.insert(p.into(), Value::from("v"));
    }
    let mut r = Rng(seed | 1);
    let (mut accepted, mut syntax, mut limited, mut findings) = (0u64, 0u64, 0u64, 0u64);
    let started = Instant::now();
    for i in 0..runs {
        let text = input(&mut r);
        match Expr::parse_within(&text, &limits) {
            Ok(e) => {
                accepted += 1;
                // a tree nests at most max_depth NOTs and parentheses, and
                // AND/OR levels alternate between them
                if depth(&e) > 2 * limits.max_depth + 2 {
                    findings += 1;
                    eprintln!("#{i}: a tree {} deep from {text:?}", depth(&e));
                }
                let canonical = e.to_string();
                match Expr::parse(&canonical) {
                    Ok(again) if again.to_string() == canonical => {}
                    Ok(again) => {
                        findings += 1;
                        eprintln!("#{i}: {text:?} -> {canonical:?} -> {again}");
                    }
                    Err(err) => {
                        findings += 1;
                        eprintln!("#{i}: {text:?} -> {canonical:?} does not parse: {err}");
                    }
                }
                let _ = e.bind(&params);
            }
            Err(err) if err.limit.is_some() => limited += 1,
            Err(_) => syntax += 1,
        }
    }
    let secs = started.elapsed().as_secs_f64();
    println!(
        "{runs} inputs in {secs:.1} s ({:.0}/s), seed {seed}: {accepted} accepted, {syntax} syntax errors, {limited} beyond a limit, {findings} findings",
        runs as f64 / secs
    );
    if findings > 0 {
        std::process::exit(1);
    }
}
