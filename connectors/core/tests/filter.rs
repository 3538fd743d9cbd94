#![allow(clippy::panic, clippy::unwrap_used, clippy::expect_used)]
//! Table tests for the filter language: every production and every error.

use gatehouse_core::filter::{Expr, FilterError};
use serde_json::json;

/// Parses and prints the canonical, fully parenthesised form.
fn canon(input: &str) -> String {
    match Expr::parse(input) {
        Ok(e) => e.to_string(),
        Err(e) => format!("ERR {e}"),
    }
}

#[test]
fn productions() {
    let cases: &[(&str, &str)] = &[
        // comparisons, symbolic and named
        ("a = 1", "a = 1"),
        ("a != 1", "a != 1"),
        ("a <> 1", "a != 1"),
        ("a > 1", "a > 1"),
        ("a >= 1", "a >= 1"),
        ("a < 1", "a < 1"),
        ("a <= 1", "a <= 1"),
        ("a eq 1", "a = 1"),
        ("a NE 1", "a != 1"),
        ("a gt 1", "a > 1"),
        ("a GTE 1", "a >= 1"),
        ("a lt 1", "a < 1"),
        ("a lte 1", "a <= 1"),
        // values
        ("a = 'x'", "a = 'x'"),
        ("a = \"x\"", "a = 'x'"),
        ("a = 'it''s'", "a = 'it''s'"),
        ("a = \"say \"\"hi\"\"\"", "a = 'say \"hi\"'"),
        ("a = ''", "a = ''"),
        // quoted field names: any text, printed quoted only when not an identifier
        ("\"zip code\" = '1'", "\"zip code\" = '1'"),
        ("\"do$llar$s\" > 2", "\"do$llar$s\" > 2"),
        ("\"field-with_sep\" is null", "\"field-with_sep\" IS NULL"),
        ("\"MixedCase\" in (1, 2)", "MixedCase IN (1, 2)"),
        ("\"and\" = 1", "\"and\" = 1"),
        (
            "\"say \"\"hi\"\"\" like 'x%'",
            "\"say \"\"hi\"\"\" LIKE 'x%'",
        ),
        ("\"a\" = \"b\"", "a = 'b'"),
        ("a = -12.50", "a = -12.50"),
        ("a = 1e3", "a = 1e+3"),
        ("a = 2.5E-3", "a = 2.5e-3"),
        ("a = true", "a = true"),
        ("a = FALSE", "a = false"),
        ("a = :p", "a = :p"),
        ("a = 'x AND b = 1'", "a = 'x AND b = 1'"),
        // null comparisons become IS [NOT] NULL
        ("a = null", "a IS NULL"),
        ("a != NULL", "a IS NOT NULL"),
        ("a is null", "a IS NULL"),
        ("a IS NOT NULL", "a IS NOT NULL"),
        // IN, LIKE, text matches, BETWEEN
        ("a in (1, 2, 3)", "a IN (1, 2, 3)"),
        ("a NOT IN ('x')", "a NOT IN ('x')"),
        ("a like 'J%'", "a LIKE 'J%'"),
        ("a not like '_x'", "a NOT LIKE '_x'"),
        ("a contains '50%'", "a CONTAINS '50%'"),
        ("a starts with 'ab'", "a STARTS WITH 'ab'"),
        ("a ENDS WITH :s", "a ENDS WITH :s"),
        ("a between 1 and 5", "a BETWEEN 1 AND 5"),
        ("a not between 'a' and 'm'", "a NOT BETWEEN 'a' AND 'm'"),
        // precedence: NOT > AND > OR
        ("a = 1 or b = 2 and c = 3", "(a = 1 OR (b = 2 AND c = 3))"),
        ("a = 1 and b = 2 or c = 3", "((a = 1 AND b = 2) OR c = 3)"),
        ("not a = 1 and b = 2", "(NOT a = 1 AND b = 2)"),
        ("not (a = 1 and b = 2)", "NOT (a = 1 AND b = 2)"),
        ("(a = 1 or b = 2) and c = 3", "((a = 1 OR b = 2) AND c = 3)"),
        ("a = 1 || b = 2 && c = 3", "(a = 1 OR (b = 2 AND c = 3))"),
        (
            "a between 1 and 2 and b = 3",
            "(a BETWEEN 1 AND 2 AND b = 3)",
        ),
        ("not not a = 1", "NOT NOT a = 1"),
        // DreamFactory's fully parenthesised style
        ("(a = 1) AND (b = 'x')", "(a = 1 AND b = 'x')"),
        ("((a = 1) OR (b = 2))", "(a = 1 OR b = 2)"),
        // fields: dotted paths, unicode, keywords as part of names
        ("address.city = 'Oslo'", "address.city = 'Oslo'"),
        ("items.0.qty > 1", "items.0.qty > 1"),
        ("prénom = 'Zoë'", "prénom = 'Zoë'"),
        ("order_id = 1", "order_id = 1"),
        ("android = 1", "android = 1"),
        ("  a=1  ", "a = 1"),
    ];
    for (input, want) in cases {
        assert_eq!(canon(input), *want, "filter: {input}");
    }
}

#[test]
fn errors() {
    // (input, position, expected-substring)
    let cases: &[(&str, usize, &str)] = &[
        ("", 0, "a field name"),
        ("a", 1, "an operator"),
        ("a =", 3, "a value"),
        ("a = 1 b = 2", 6, "an operator (AND, OR) or the end"),
        ("a = 'x", 6, "closing ' of the string opened at position 4"),
        ("a = \"x", 6, "closing \""),
        ("(a = 1", 6, "')'"),
        ("a = 1)", 5, "the end of the filter"),
        ("a in 1", 5, "'(' after IN"),
        ("a in (1 2)", 8, "',' or ')'"),
        ("a in ()", 6, "a value"),
        ("a like 5", 7, "a quoted string"),
        ("a contains", 10, "a quoted string"),
        ("a starts 'x'", 9, "WITH"),
        ("a between 1 or 2", 12, "AND between"),
        ("a is 5", 5, "NULL or NOT NULL"),
        ("a is not 5", 9, "NULL"),
        ("a not = 1", 6, "IN, LIKE or BETWEEN after NOT"),
        ("a > null", 4, "null compares only"),
        ("a = 1.", 6, "a digit after the decimal point"),
        ("a = 1e", 6, "a digit in the exponent"),
        ("a = 12abc", 6, "a space or operator"),
        ("a = :", 5, "a parameter name"),
        ("a = 1 and", 9, "a field name"),
        ("and = 1", 0, "a field name"),
        ("a ! 1", 2, "a field, value or operator"),
        ("a == 1", 2, "'=' (equality is one '=' here, not '==')"),
        ("a = 1; drop table x", 5, "a field, value or operator"),
        ("é = 'x' or", 10, "a field name"),
    ];
    for (input, pos, expected) in cases {
        match Expr::parse(input) {
            Ok(e) => panic!("{input:?} parsed as {e}"),
            Err(FilterError {
                position,
                expected: exp,
                ..
            }) => {
                assert_eq!(position, *pos, "position for {input:?} ({exp})");
                assert!(
                    exp.contains(expected),
                    "{input:?}: {exp:?} lacks {expected:?}"
                );
            }
        }
    }
}

#[test]
fn binding_params() {
    let params = json!({"n": 5, "s": "x%", "nothing": null, "list": [1]});
    let params = params.as_object().cloned().unwrap_or_default();
    let bind = |f: &str| match Expr::parse(f).and_then(|e| e.bind(&params)) {
        Ok(e) => e.to_string(),
        Err(e) => format!("ERR {} @{}", e.expected, e.position),
    };
    assert_eq!(bind("a = :n"), "a = 5");
    assert_eq!(bind("a in (:n, 7)"), "a IN (5, 7)");
    assert_eq!(bind("a contains :s"), "a CONTAINS 'x%'");
    assert_eq!(bind("a = :nothing"), "a IS NULL");
    assert_eq!(bind("a != :nothing"), "a IS NOT NULL");
    assert_eq!(bind("a between :n and :n"), "a BETWEEN 5 AND 5");
    assert_eq!(
        bind("a = :missing"),
        "ERR a value for parameter :missing in params @4"
    );
    assert_eq!(
        bind("a = :list"),
        "ERR a scalar value for parameter :list @4"
    );
    assert_eq!(bind("a like :n"), "ERR a string @7");
    assert_eq!(
        bind("a > :nothing"),
        "ERR a non-null value (null compares only with = or !=) @4"
    );
}

#[test]
fn caller_placeholders_in_braces() {
    let params = json!({"user.id": 7, "user.email": "ann@example.com", "role": "sales"});
    let params = params.as_object().cloned().unwrap_or_default();
    let bind = |f: &str| match Expr::parse(f).and_then(|e| e.bind(&params)) {
        Ok(e) => e.to_string(),
        Err(e) => format!("ERR {} @{}", e.expected, e.position),
    };
    assert_eq!(bind("owner_id = {user.id}"), "owner_id = 7");
    assert_eq!(
        bind("email = {user.email} or team in ({role}, 'all')"),
        "(email = 'ann@example.com' OR team IN ('sales', 'all'))"
    );
    // a value in quotes stays text: only the bare form is a placeholder
    assert_eq!(bind("email = '{user.email}'"), "email = '{user.email}'");
    assert_eq!(
        bind("a = {user.name}"),
        "ERR a value for parameter :user.name in params @4"
    );
    assert_eq!(
        bind("a = {user.id"),
        "ERR a name in braces such as {user.id} @4"
    );
    assert_eq!(bind("a = {}"), "ERR a name in braces such as {user.id} @4");
}

#[test]
fn fields_are_listed_in_order() {
    let e =
        Expr::parse("a = 1 or (b.c in (1) and not d is null)").unwrap_or_else(|e| panic!("{e}"));
    let names: Vec<&str> = e.fields().iter().map(|f| f.name.as_str()).collect();
    assert_eq!(names, ["a", "b.c", "d"]);
    let positions: Vec<usize> = e.fields().iter().map(|f| f.position).collect();
    assert_eq!(positions, [0, 10, 29]);
}

struct Rng(u64);

impl Rng {
    fn next(&mut self, n: usize) -> usize {
        self.0 ^= self.0 << 13;
        self.0 ^= self.0 >> 7;
        self.0 ^= self.0 << 17;
        (self.0 % n as u64) as usize
    }

    fn pick<'a>(&mut self, xs: &[&'a str]) -> &'a str {
        xs[self.next(xs.len())]
    }
}

/// A random filter from the grammar (valid by construction).
fn valid(r: &mut Rng, depth: usize) -> String {
    const FIELDS: &[&str] = &["a", "b.c", "Name", "x_1", "\"zip code\"", "\"a\"\"b\""];
    const VALUES: &[&str] = &[
        "1", "-2.5", "'x'", "'it''s'", "\"q\"", "true", "false", ":p", "0.10",
    ];
    const CMP: &[&str] = &[
        "=", "!=", "<>", ">", ">=", "<", "<=", "eq", "ne", "GT", "gte", "lt", "LTE",
    ];
    if depth > 0 && r.next(3) == 0 {
        let op = r.pick(&[" and ", " OR ", " && ", " || "]);
        return format!("{}{op}{}", valid(r, depth - 1), valid(r, depth - 1));
    }
    if depth > 0 && r.next(4) == 0 {
        return format!("not ({})", valid(r, depth - 1));
    }
    let f = r.pick(FIELDS);
    match r.next(8) {
        0 => format!("{f} {} {}", r.pick(CMP), r.pick(VALUES)),
        1 => format!(
            "{f} {}in ({}, {})",
            r.pick(&["", "not "]),
            r.pick(VALUES),
            r.pick(VALUES)
        ),
        2 => format!("{f} {}like '%x_'", r.pick(&["", "NOT "])),
        3 => format!(
            "{f} {} 'a%b'",
            r.pick(&["contains", "starts with", "ENDS WITH"])
        ),
        4 => format!(
            "{f} {}between {} and {}",
            r.pick(&["", "not "]),
            r.pick(VALUES),
            r.pick(VALUES)
        ),
        5 => format!("{f} is {}null", r.pick(&["", "not "])),
        6 => format!("({f} = null)"),
        _ => format!("{f} = {}", r.pick(VALUES)),
    }
}

/// A cheap fuzz run: random token soup must never panic, and every filter the
/// grammar allows parses and prints to a canonical form that parses back to itself.
#[test]
fn random_input_never_panics_and_canonical_form_round_trips() {
    const PIECES: &[&str] = &[
        "a", "b.c", "name", " ", "=", "!=", "<>", ">", ">=", "<", "<=", "eq", "GTE", "and", "OR",
        "not", "&&", "||", "(", ")", ",", "in", "like", "contains", "starts", "ends", "with",
        "between", "is", "null", "true", "false", "'x'", "'it''s'", "\"q\"", "'", "\"", "1",
        "-2.5", "1e3", "1.", ":p", ":", "é", "%", ";", "\\",
    ];
    let mut r = Rng(0x9e37_79b9_7f4a_7c15);
    for _ in 0..20_000 {
        let len = 1 + r.next(12);
        let input: String = (0..len)
            .map(|_| r.pick(PIECES))
            .collect::<Vec<_>>()
            .join(" ");
        if let Ok(e) = Expr::parse(&input) {
            let canonical = e.to_string();
            assert!(
                Expr::parse(&canonical).is_ok(),
                "{input:?} -> {canonical:?}"
            );
        }
    }
    for _ in 0..5_000 {
        let input = valid(&mut r, 3);
        let e = Expr::parse(&input).unwrap_or_else(|err| panic!("{input:?} should parse: {err}"));
        let canonical = e.to_string();
        let again = Expr::parse(&canonical)
            .unwrap_or_else(|err| panic!("{input:?} -> {canonical:?} does not parse: {err}"));
        assert_eq!(
            again.to_string(),
            canonical,
            "{input:?}: the canonical form is a fixed point"
        );
    }
}

/// Filters beyond a limit are refused with the limit's name, before a tree
/// is built: a deep one used to overflow the parser's stack and end the process.
#[test]
fn limits_refuse_deep_long_and_wide_filters() {
    use gatehouse_core::filter::Limits;
    let l = Limits::default();
    let limit = |input: &str| Expr::parse(input).err().and_then(|e| e.limit);
    let nested = |n: usize| format!("{}a = 1{}", "(".repeat(n), ")".repeat(n));
    assert!(Expr::parse(&nested(l.max_depth)).is_ok());
    let e = Expr::parse(&nested(l.max_depth + 1))
        .err()
        .unwrap_or_else(|| panic!("too deep"));
    assert_eq!((e.limit, e.position), (Some("max_depth"), l.max_depth));
    assert_eq!(limit(&nested(20_000)), Some("max_depth"));
    assert_eq!(
        limit(&format!("{}a = 1", "not ".repeat(15_000))),
        Some("max_depth")
    );
    assert!(Expr::parse(&format!("{}a = 1", "not ".repeat(l.max_depth))).is_ok());
    let terms = |n: usize| vec!["a = 1"; n].join(" or ");
    assert!(Expr::parse(&terms(l.max_terms)).is_ok());
    assert_eq!(limit(&terms(l.max_terms + 1)), Some("max_terms"));
    let values = |n: usize| format!("a in ({})", vec!["1"; n].join(","));
    assert!(Expr::parse(&values(l.max_values)).is_ok());
    assert_eq!(limit(&values(l.max_values + 1)), Some("max_values"));
    let long = format!("a = '{}'", "é".repeat(l.max_length));
    assert_eq!(limit(&long), Some("max_length"));
    // counted in characters, not bytes
    assert!(Expr::parse(&format!("a = '{}'", "é".repeat(l.max_length - 8))).is_ok());
    // a syntax error is not a limit
    assert_eq!(limit("a = "), None);
    let tight = Limits { max_depth: 2, ..l };
    assert!(Expr::parse_within("not (a = 1)", &tight).is_ok());
    assert!(Expr::parse_within("not (not a = 1)", &tight).is_err());
}
