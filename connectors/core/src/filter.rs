//! The filter language of docs/API.md §4: a lexer, a recursive-descent parser and the
//! expression tree every connector translates (to SQL with bound parameters, or
//! to BSON).
//!
//! Grammar (keywords case-insensitive; precedence `NOT` > `AND` > `OR`):
//!
//! ```text
//! filter    := or
//! or        := and { ("OR" | "||") and }
//! and       := unary { ("AND" | "&&") unary }
//! unary     := "NOT" unary | "(" or ")" | predicate
//! predicate := field cmp value
//!            | field ["NOT"] "IN" "(" value { "," value } ")"
//!            | field ["NOT"] "LIKE" text
//!            | field ("CONTAINS" | "STARTS" "WITH" | "ENDS" "WITH") text
//!            | field ["NOT"] "BETWEEN" value "AND" value
//!            | field "IS" ["NOT"] "NULL"
//! cmp       := "=" | "!=" | "<>" | ">" | ">=" | "<" | "<="
//!            | "EQ" | "NE" | "GT" | "GTE" | "LT" | "LTE"
//! value     := string | number | "true" | "false" | "null" | ":" name | "{" name "}"
//! text      := string | ":" name | "{" name "}"
//! string    := "'" chars "'" | '"' chars '"'   (a doubled quote is a literal quote)
//! number    := ["-"] digits ["." digits] [("e" | "E") ["+" | "-"] digits]
//! field     := identifier { "." identifier } | '"' chars '"'
//! ```
//!
//! A double-quoted token names a field where a field is expected (`"zip code"
//! = '1'`, a name that is not an identifier: spaces, `$`, `-`, a keyword) and
//! is a string where a value is (as it always was: `name = "Ada"`).
//!
//! `field = null` means `field IS NULL` and `field != null` means `IS NOT NULL`;
//! any other comparison with null is an error. Positions in errors are 0-based
//! character offsets into the filter text.
//!
//! `:name` parameters stay in the tree until [`Expr::bind`] replaces them with
//! values from the request's `params`; connectors only ever see bound trees.
//! `{name}` is the same kind of parameter with a dotted name, DreamFactory's
//! spelling for values of the caller (`{user.id}`, `{user.email}`, `{role}`).

use serde_json::{Map, Number, Value};
use std::fmt;

/// A syntax error (or an unbound parameter) at a character position.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct FilterError {
    pub position: usize,
    pub expected: String,
    pub found: String,
    /// The [`Limits`] field a filter went beyond (`max_depth`, ...); `None`
    /// for a syntax error.
    pub limit: Option<&'static str>,
}

/// How large a filter may be. The parser refuses a filter beyond any of them
/// before building its tree, so a tree never nests deeper than `max_depth`
/// (plus the few levels code adds: a row filter, keys), which is what lets
/// every recursion over it — binding, printing, translation to BSON, dropping
/// — stay far from the end of the stack; and no database is handed a
/// statement that would occupy it for minutes. The defaults are far above
/// what people and clients write; each is configurable (`[limits]`).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Limits {
    /// Characters of filter text.
    pub max_length: usize,
    /// Nesting of parentheses and `NOT`s.
    pub max_depth: usize,
    /// Predicates (`a = 1`, `b IN (...)`, ...).
    pub max_terms: usize,
    /// Values written in the filter (each value of an `IN` list counts).
    pub max_values: usize,
}

impl Default for Limits {
    fn default() -> Self {
        Limits {
            max_length: 64 * 1024,
            max_depth: 32,
            max_terms: 1000,
            max_values: 10_000,
        }
    }
}

impl FilterError {
    fn too_complex(position: usize, limit: &'static str, max: usize, what: &str) -> Self {
        FilterError {
            position,
            expected: format!("at most {max} {what} ({limit})"),
            found: "more".into(),
            limit: Some(limit),
        }
    }
}

impl fmt::Display for FilterError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(
            f,
            "expected {} at position {}, found {}",
            self.expected, self.position, self.found
        )
    }
}

impl std::error::Error for FilterError {}

/// A column (or, for documents, a dotted path) named in a filter.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Field {
    pub name: String,
    /// Where the name starts in the filter text (0 for fields made by code).
    pub position: usize,
}

impl Field {
    pub fn new(name: impl Into<String>) -> Self {
        Self {
            name: name.into(),
            position: 0,
        }
    }

    /// Whether the name can be written bare (an identifier, dotted or not,
    /// that is not a keyword); else it is written in double quotes.
    pub fn is_plain(name: &str) -> bool {
        let mut segments = name.split('.');
        let first_ok = segments.next().is_some_and(|s| {
            s.chars().next().is_some_and(is_ident_start) && s.chars().all(is_ident_char)
        });
        first_ok
            && segments.all(|s| !s.is_empty() && s.chars().all(is_ident_char))
            && !RESERVED.iter().any(|r| r.eq_ignore_ascii_case(name))
    }
}

/// The field as the filter language writes it: bare, or `"double quoted"`.
impl fmt::Display for Field {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        if Field::is_plain(&self.name) {
            f.write_str(&self.name)
        } else {
            write!(f, "\"{}\"", self.name.replace('"', "\"\""))
        }
    }
}

#[derive(Debug, Clone, PartialEq)]
pub enum Operand {
    Value(Value),
    /// `:name`, replaced by [`Expr::bind`].
    Param {
        name: String,
        position: usize,
    },
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum CmpOp {
    Eq,
    Ne,
    Gt,
    Ge,
    Lt,
    Le,
}

impl CmpOp {
    pub fn symbol(self) -> &'static str {
        match self {
            CmpOp::Eq => "=",
            CmpOp::Ne => "!=",
            CmpOp::Gt => ">",
            CmpOp::Ge => ">=",
            CmpOp::Lt => "<",
            CmpOp::Le => "<=",
        }
    }
}

/// CONTAINS, STARTS WITH, ENDS WITH: match literal text (no wildcards).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum TextMatch {
    Contains,
    StartsWith,
    EndsWith,
}

#[derive(Debug, Clone, PartialEq)]
pub enum Expr {
    And(Vec<Expr>),
    Or(Vec<Expr>),
    Not(Box<Expr>),
    Cmp {
        field: Field,
        op: CmpOp,
        value: Operand,
    },
    In {
        field: Field,
        values: Vec<Operand>,
        negated: bool,
    },
    Like {
        field: Field,
        pattern: Operand,
        negated: bool,
    },
    Text {
        field: Field,
        mode: TextMatch,
        text: Operand,
    },
    Between {
        field: Field,
        low: Operand,
        high: Operand,
        negated: bool,
    },
    IsNull {
        field: Field,
        negated: bool,
    },
}

impl Expr {
    /// Parses filter text within the default [`Limits`].
    pub fn parse(input: &str) -> Result<Expr, FilterError> {
        Self::parse_within(input, &Limits::default())
    }

    /// Parses filter text, refusing one beyond `limits`.
    pub fn parse_within(input: &str, limits: &Limits) -> Result<Expr, FilterError> {
        if input.len() > limits.max_length && input.chars().count() > limits.max_length {
            return Err(FilterError::too_complex(
                limits.max_length,
                "max_length",
                limits.max_length,
                "characters",
            ));
        }
        let tokens = lex(input)?;
        let mut p = Parser {
            tokens,
            pos: 0,
            limits: *limits,
            depth: 0,
            terms: 0,
            values: 0,
        };
        let expr = p.or()?;
        let t = p.peek();
        if t.kind != Tok::End {
            return Err(p.error("an operator (AND, OR) or the end of the filter"));
        }
        Ok(expr)
    }

    /// `field = value`, for filters built by code (keys, ids).
    pub fn eq(field: &str, value: Value) -> Expr {
        Expr::Cmp {
            field: Field::new(field),
            op: CmpOp::Eq,
            value: Operand::Value(value),
        }
    }

    /// Conjunction of two optional filters.
    pub fn and_opt(a: Option<Expr>, b: Option<Expr>) -> Option<Expr> {
        match (a, b) {
            (Some(a), Some(b)) => Some(Expr::And(vec![a, b])),
            (a, b) => a.or(b),
        }
    }

    /// Replaces every `:name` with its value from `params`.
    pub fn bind(self, params: &Map<String, Value>) -> Result<Expr, FilterError> {
        let value = |o: Operand| -> Result<Value, FilterError> {
            match o {
                Operand::Value(v) => Ok(v),
                Operand::Param { name, position } => match params.get(&name) {
                    Some(v @ (Value::Array(_) | Value::Object(_))) => Err(FilterError {
                        position,
                        expected: format!("a scalar value for parameter :{name}"),
                        found: if v.is_array() {
                            "an array"
                        } else {
                            "an object"
                        }
                        .into(),
                        limit: None,
                    }),
                    Some(v) => Ok(v.clone()),
                    None => Err(FilterError {
                        position,
                        expected: format!("a value for parameter :{name} in params"),
                        found: "none".into(),
                        limit: None,
                    }),
                },
            }
        };
        let text = |o: Operand, field: &Field| -> Result<Operand, FilterError> {
            let position = match &o {
                Operand::Param { position, .. } => *position,
                Operand::Value(_) => field.position,
            };
            match value(o)? {
                v @ Value::String(_) => Ok(Operand::Value(v)),
                _ => Err(FilterError {
                    position,
                    expected: "a string".into(),
                    found: "another kind of value".into(),
                    limit: None,
                }),
            }
        };
        Ok(match self {
            Expr::And(v) => Expr::And(
                v.into_iter()
                    .map(|e| e.bind(params))
                    .collect::<Result<_, _>>()?,
            ),
            Expr::Or(v) => Expr::Or(
                v.into_iter()
                    .map(|e| e.bind(params))
                    .collect::<Result<_, _>>()?,
            ),
            Expr::Not(e) => Expr::Not(Box::new(e.bind(params)?)),
            Expr::Cmp {
                field,
                op,
                value: o,
            } => {
                let position = match &o {
                    Operand::Param { position, .. } => *position,
                    Operand::Value(_) => field.position,
                };
                let v = value(o)?;
                cmp_or_null(field, op, v, position)?
            }
            Expr::In {
                field,
                values,
                negated,
            } => Expr::In {
                field,
                values: values
                    .into_iter()
                    .map(|o| value(o).map(Operand::Value))
                    .collect::<Result<_, _>>()?,
                negated,
            },
            Expr::Like {
                field,
                pattern,
                negated,
            } => Expr::Like {
                pattern: text(pattern, &field)?,
                field,
                negated,
            },
            Expr::Text {
                field,
                mode,
                text: t,
            } => Expr::Text {
                text: text(t, &field)?,
                field,
                mode,
            },
            Expr::Between {
                field,
                low,
                high,
                negated,
            } => Expr::Between {
                field,
                low: Operand::Value(value(low)?),
                high: Operand::Value(value(high)?),
                negated,
            },
            e @ Expr::IsNull { .. } => e,
        })
    }

    /// Every field the expression names, in order of appearance.
    pub fn fields(&self) -> Vec<&Field> {
        let mut out = Vec::new();
        self.collect_fields(&mut out);
        out
    }

    fn collect_fields<'a>(&'a self, out: &mut Vec<&'a Field>) {
        match self {
            Expr::And(v) | Expr::Or(v) => v.iter().for_each(|e| e.collect_fields(out)),
            Expr::Not(e) => e.collect_fields(out),
            Expr::Cmp { field, .. }
            | Expr::In { field, .. }
            | Expr::Like { field, .. }
            | Expr::Text { field, .. }
            | Expr::Between { field, .. }
            | Expr::IsNull { field, .. } => out.push(field),
        }
    }
}

fn cmp_or_null(field: Field, op: CmpOp, v: Value, position: usize) -> Result<Expr, FilterError> {
    if v.is_null() {
        return match op {
            CmpOp::Eq => Ok(Expr::IsNull {
                field,
                negated: false,
            }),
            CmpOp::Ne => Ok(Expr::IsNull {
                field,
                negated: true,
            }),
            _ => Err(FilterError {
                position,
                expected: "a non-null value (null compares only with = or !=)".into(),
                found: "null".into(),
                limit: None,
            }),
        };
    }
    Ok(Expr::Cmp {
        field,
        op,
        value: Operand::Value(v),
    })
}

impl fmt::Display for Operand {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Operand::Value(Value::String(s)) => write!(f, "'{}'", s.replace('\'', "''")),
            Operand::Value(v) => write!(f, "{v}"),
            // `:name` takes identifier characters only; a dotted name such
            // as `user.id` is written the other way, `{user.id}`
            Operand::Param { name, .. } if name.chars().all(is_ident_char) => {
                write!(f, ":{name}")
            }
            Operand::Param { name, .. } => write!(f, "{{{name}}}"),
        }
    }
}

/// A canonical, fully parenthesised form (used by tests and policy explanations).
impl fmt::Display for Expr {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let not = |n: &bool| if *n { "NOT " } else { "" };
        match self {
            Expr::And(v) | Expr::Or(v) => {
                let sep = if matches!(self, Expr::And(_)) {
                    " AND "
                } else {
                    " OR "
                };
                let parts: Vec<String> = v.iter().map(std::string::ToString::to_string).collect();
                write!(f, "({})", parts.join(sep))
            }
            Expr::Not(e) => write!(f, "NOT {e}"),
            Expr::Cmp { field, op, value } => write!(f, "{} {} {value}", field, op.symbol()),
            Expr::In {
                field,
                values,
                negated,
            } => {
                let parts: Vec<String> = values
                    .iter()
                    .map(std::string::ToString::to_string)
                    .collect();
                write!(f, "{} {}IN ({})", field, not(negated), parts.join(", "))
            }
            Expr::Like {
                field,
                pattern,
                negated,
            } => write!(f, "{} {}LIKE {pattern}", field, not(negated)),
            Expr::Text { field, mode, text } => {
                let kw = match mode {
                    TextMatch::Contains => "CONTAINS",
                    TextMatch::StartsWith => "STARTS WITH",
                    TextMatch::EndsWith => "ENDS WITH",
                };
                write!(f, "{field} {kw} {text}")
            }
            Expr::Between {
                field,
                low,
                high,
                negated,
            } => write!(f, "{} {}BETWEEN {low} AND {high}", field, not(negated)),
            Expr::IsNull { field, negated } => {
                write!(f, "{} IS {}NULL", field, not(negated))
            }
        }
    }
}

// ---------------------------------------------------------------- lexer

#[derive(Debug, Clone, PartialEq)]
enum Tok {
    Ident(String),
    Str(String),
    /// A double-quoted token: a field name or a string, by its place.
    Quoted(String),
    Num(String),
    Param(String),
    Sym(&'static str),
    End,
}

#[derive(Debug, Clone)]
struct Token {
    kind: Tok,
    position: usize,
}

impl Token {
    fn describe(&self) -> String {
        match &self.kind {
            Tok::Ident(s) => format!("'{s}'"),
            Tok::Str(_) => "a string".into(),
            Tok::Quoted(s) => format!("\"{s}\""),
            Tok::Num(n) => format!("number {n}"),
            Tok::Param(p) => format!(":{p}"),
            Tok::Sym(s) => format!("'{s}'"),
            Tok::End => "end of filter".into(),
        }
    }

    fn is_kw(&self, kw: &str) -> bool {
        matches!(&self.kind, Tok::Ident(s) if s.eq_ignore_ascii_case(kw))
    }
}

fn is_ident_start(c: char) -> bool {
    c.is_alphabetic() || c == '_'
}

fn is_ident_char(c: char) -> bool {
    c.is_alphanumeric() || c == '_'
}

fn lex(input: &str) -> Result<Vec<Token>, FilterError> {
    let chars: Vec<char> = input.chars().collect();
    let mut out = Vec::new();
    let mut i = 0;
    let err = |position: usize, expected: &str, found: String| FilterError {
        position,
        expected: expected.into(),
        found,
        limit: None,
    };
    while i < chars.len() {
        let c = chars[i];
        let start = i;
        if c.is_whitespace() {
            i += 1;
            continue;
        }
        let kind = if is_ident_start(c) {
            // identifier { "." identifier }; segments after a dot may start with a digit
            let mut s = String::new();
            loop {
                while i < chars.len() && is_ident_char(chars[i]) {
                    s.push(chars[i]);
                    i += 1;
                }
                if i + 1 < chars.len() && chars[i] == '.' && is_ident_char(chars[i + 1]) {
                    s.push('.');
                    i += 1;
                } else {
                    break;
                }
            }
            Tok::Ident(s)
        } else if c.is_ascii_digit()
            || (c == '-' && chars.get(i + 1).is_some_and(char::is_ascii_digit))
        {
            let mut s = String::new();
            if c == '-' {
                s.push(c);
                i += 1;
            }
            let digits = |i: &mut usize, s: &mut String| {
                let before = *i;
                while *i < chars.len() && chars[*i].is_ascii_digit() {
                    s.push(chars[*i]);
                    *i += 1;
                }
                *i > before
            };
            digits(&mut i, &mut s);
            if i < chars.len() && chars[i] == '.' {
                s.push('.');
                i += 1;
                if !digits(&mut i, &mut s) {
                    return Err(err(
                        i,
                        "a digit after the decimal point",
                        found_at(&chars, i),
                    ));
                }
            }
            if i < chars.len() && (chars[i] == 'e' || chars[i] == 'E') {
                s.push('e');
                i += 1;
                if i < chars.len() && (chars[i] == '+' || chars[i] == '-') {
                    s.push(chars[i]);
                    i += 1;
                }
                if !digits(&mut i, &mut s) {
                    return Err(err(i, "a digit in the exponent", found_at(&chars, i)));
                }
            }
            if i < chars.len() && is_ident_char(chars[i]) {
                return Err(err(
                    i,
                    "a space or operator after a number",
                    found_at(&chars, i),
                ));
            }
            Tok::Num(s)
        } else if c == '\'' || c == '"' {
            let quote = c;
            i += 1;
            let mut s = String::new();
            loop {
                match chars.get(i) {
                    None => {
                        return Err(err(
                            i,
                            &format!("closing {quote} of the string opened at position {start}"),
                            "end of filter".into(),
                        ));
                    }
                    Some(&q) if q == quote => {
                        if chars.get(i + 1) == Some(&quote) {
                            s.push(quote);
                            i += 2;
                        } else {
                            i += 1;
                            break;
                        }
                    }
                    Some(&ch) => {
                        s.push(ch);
                        i += 1;
                    }
                }
            }
            if quote == '"' {
                Tok::Quoted(s)
            } else {
                Tok::Str(s)
            }
        } else if c == ':' {
            i += 1;
            let mut s = String::new();
            while i < chars.len() && is_ident_char(chars[i]) {
                s.push(chars[i]);
                i += 1;
            }
            if s.is_empty() {
                return Err(err(i, "a parameter name after ':'", found_at(&chars, i)));
            }
            Tok::Param(s)
        } else if c == '{' {
            let start = i;
            i += 1;
            let mut s = String::new();
            while i < chars.len() && (is_ident_char(chars[i]) || chars[i] == '.') {
                s.push(chars[i]);
                i += 1;
            }
            if s.is_empty() || chars.get(i) != Some(&'}') {
                return Err(err(
                    start,
                    "a name in braces such as {user.id}",
                    found_at(&chars, start),
                ));
            }
            i += 1;
            Tok::Param(s)
        } else {
            let two: String = chars[i..chars.len().min(i + 2)].iter().collect();
            if two == "==" {
                return Err(err(
                    i,
                    "'=' (equality is one '=' here, not '==')",
                    "'=='".into(),
                ));
            }
            let sym = match two.as_str() {
                "!=" | "<>" | ">=" | "<=" | "||" | "&&" => Some(match two.as_str() {
                    "!=" => "!=",
                    "<>" => "<>",
                    ">=" => ">=",
                    "<=" => "<=",
                    "||" => "||",
                    _ => "&&",
                }),
                _ => None,
            };
            if let Some(s) = sym {
                i += 2;
                Tok::Sym(s)
            } else {
                let s = match c {
                    '=' => "=",
                    '>' => ">",
                    '<' => "<",
                    '(' => "(",
                    ')' => ")",
                    ',' => ",",
                    _ => {
                        return Err(err(i, "a field, value or operator", format!("'{c}'")));
                    }
                };
                i += 1;
                Tok::Sym(s)
            }
        };
        out.push(Token {
            kind,
            position: start,
        });
    }
    out.push(Token {
        kind: Tok::End,
        position: chars.len(),
    });
    Ok(out)
}

fn found_at(chars: &[char], i: usize) -> String {
    chars
        .get(i)
        .map_or_else(|| "end of filter".into(), |c| format!("'{c}'"))
}

// ---------------------------------------------------------------- parser

struct Parser {
    tokens: Vec<Token>,
    pos: usize,
    limits: Limits,
    /// Parentheses and `NOT`s open around the current position.
    depth: usize,
    terms: usize,
    values: usize,
}

const RESERVED: &[&str] = &[
    "and", "or", "not", "in", "like", "contains", "starts", "ends", "with", "between", "is",
    "null", "true", "false",
];

impl Parser {
    fn peek(&self) -> &Token {
        &self.tokens[self.pos.min(self.tokens.len() - 1)]
    }

    fn next(&mut self) -> Token {
        let t = self.peek().clone();
        if self.pos < self.tokens.len() - 1 {
            self.pos += 1;
        }
        t
    }

    fn error(&self, expected: &str) -> FilterError {
        let t = self.peek();
        FilterError {
            position: t.position,
            expected: expected.into(),
            found: t.describe(),
            limit: None,
        }
    }

    /// One level deeper (a parenthesis or `NOT` at the current token).
    fn descend(&mut self) -> Result<(), FilterError> {
        self.depth += 1;
        if self.depth > self.limits.max_depth {
            let at = self.tokens[self.pos.saturating_sub(1)].position;
            return Err(FilterError::too_complex(
                at,
                "max_depth",
                self.limits.max_depth,
                "levels of parentheses and NOT",
            ));
        }
        Ok(())
    }

    fn eat_kw(&mut self, kw: &str) -> bool {
        if self.peek().is_kw(kw) {
            self.pos += 1;
            true
        } else {
            false
        }
    }

    fn eat_sym(&mut self, sym: &str) -> bool {
        if self.peek().kind
            == Tok::Sym(match sym {
                "(" => "(",
                ")" => ")",
                "," => ",",
                "||" => "||",
                "&&" => "&&",
                _ => return false,
            })
        {
            self.pos += 1;
            true
        } else {
            false
        }
    }

    fn or(&mut self) -> Result<Expr, FilterError> {
        let mut parts = vec![self.and()?];
        while self.eat_kw("or") || self.eat_sym("||") {
            parts.push(self.and()?);
        }
        Ok(if parts.len() == 1 {
            parts.remove(0)
        } else {
            Expr::Or(parts)
        })
    }

    fn and(&mut self) -> Result<Expr, FilterError> {
        let mut parts = vec![self.unary()?];
        while self.eat_kw("and") || self.eat_sym("&&") {
            parts.push(self.unary()?);
        }
        Ok(if parts.len() == 1 {
            parts.remove(0)
        } else {
            Expr::And(parts)
        })
    }

    fn unary(&mut self) -> Result<Expr, FilterError> {
        if self.eat_kw("not") {
            self.descend()?;
            let e = Expr::Not(Box::new(self.unary()?));
            self.depth -= 1;
            return Ok(e);
        }
        if self.eat_sym("(") {
            self.descend()?;
            let e = self.or()?;
            if !self.eat_sym(")") {
                return Err(self.error("')'"));
            }
            self.depth -= 1;
            return Ok(e);
        }
        let at = self.peek().position;
        self.terms += 1;
        if self.terms > self.limits.max_terms {
            return Err(FilterError::too_complex(
                at,
                "max_terms",
                self.limits.max_terms,
                "conditions",
            ));
        }
        self.predicate()
    }

    fn field(&mut self) -> Result<Field, FilterError> {
        let t = self.peek().clone();
        match t.kind {
            Tok::Ident(name) if !RESERVED.iter().any(|r| r.eq_ignore_ascii_case(&name)) => {
                self.pos += 1;
                Ok(Field {
                    name,
                    position: t.position,
                })
            }
            Tok::Quoted(name) if !name.is_empty() => {
                self.pos += 1;
                Ok(Field {
                    name,
                    position: t.position,
                })
            }
            _ => Err(self.error("a field name")),
        }
    }

    fn predicate(&mut self) -> Result<Expr, FilterError> {
        let field = self.field()?;
        let t = self.peek().clone();
        // comparison operators, symbolic or named
        let op = match &t.kind {
            Tok::Sym("=") => Some(CmpOp::Eq),
            Tok::Sym("!=" | "<>") => Some(CmpOp::Ne),
            Tok::Sym(">") => Some(CmpOp::Gt),
            Tok::Sym(">=") => Some(CmpOp::Ge),
            Tok::Sym("<") => Some(CmpOp::Lt),
            Tok::Sym("<=") => Some(CmpOp::Le),
            Tok::Ident(s) => match s.to_ascii_lowercase().as_str() {
                "eq" => Some(CmpOp::Eq),
                "ne" => Some(CmpOp::Ne),
                "gt" => Some(CmpOp::Gt),
                "gte" => Some(CmpOp::Ge),
                "lt" => Some(CmpOp::Lt),
                "lte" => Some(CmpOp::Le),
                _ => None,
            },
            _ => None,
        };
        if let Some(op) = op {
            self.pos += 1;
            let at = self.peek().position;
            let value = self.value()?;
            return match value {
                Operand::Value(v) => cmp_or_null(field, op, v, at),
                p @ Operand::Param { .. } => Ok(Expr::Cmp {
                    field,
                    op,
                    value: p,
                }),
            };
        }
        if self.eat_kw("is") {
            let negated = self.eat_kw("not");
            if !self.eat_kw("null") {
                return Err(self.error(if negated { "NULL" } else { "NULL or NOT NULL" }));
            }
            return Ok(Expr::IsNull { field, negated });
        }
        if self.eat_kw("contains") {
            let text = self.text()?;
            return Ok(Expr::Text {
                field,
                mode: TextMatch::Contains,
                text,
            });
        }
        for (kw, mode) in [
            ("starts", TextMatch::StartsWith),
            ("ends", TextMatch::EndsWith),
        ] {
            if self.eat_kw(kw) {
                if !self.eat_kw("with") {
                    return Err(self.error("WITH"));
                }
                let text = self.text()?;
                return Ok(Expr::Text { field, mode, text });
            }
        }
        let negated = self.eat_kw("not");
        if self.eat_kw("in") {
            if !self.eat_sym("(") {
                return Err(self.error("'(' after IN"));
            }
            let mut values = vec![self.value()?];
            while self.eat_sym(",") {
                values.push(self.value()?);
            }
            if !self.eat_sym(")") {
                return Err(self.error("',' or ')'"));
            }
            return Ok(Expr::In {
                field,
                values,
                negated,
            });
        }
        if self.eat_kw("like") {
            let pattern = self.text()?;
            return Ok(Expr::Like {
                field,
                pattern,
                negated,
            });
        }
        if self.eat_kw("between") {
            let low = self.value()?;
            if !self.eat_kw("and") {
                return Err(self.error("AND between the two bounds of BETWEEN"));
            }
            let high = self.value()?;
            return Ok(Expr::Between {
                field,
                low,
                high,
                negated,
            });
        }
        Err(self.error(if negated {
            "IN, LIKE or BETWEEN after NOT"
        } else {
            "an operator (=, !=, <, >, IN, LIKE, CONTAINS, STARTS WITH, ENDS WITH, BETWEEN, IS)"
        }))
    }

    fn value(&mut self) -> Result<Operand, FilterError> {
        self.count_value()?;
        let t = self.peek().clone();
        let v = match &t.kind {
            Tok::Str(s) | Tok::Quoted(s) => Value::String(s.clone()),
            Tok::Num(n) => match n.parse::<Number>() {
                Ok(n) => Value::Number(n),
                Err(_) => return Err(self.error("a number")),
            },
            Tok::Param(p) => {
                self.pos += 1;
                return Ok(Operand::Param {
                    name: p.clone(),
                    position: t.position,
                });
            }
            Tok::Ident(s) if s.eq_ignore_ascii_case("true") => Value::Bool(true),
            Tok::Ident(s) if s.eq_ignore_ascii_case("false") => Value::Bool(false),
            Tok::Ident(s) if s.eq_ignore_ascii_case("null") => Value::Null,
            _ => return Err(self.error("a value (string, number, true, false, null or :param)")),
        };
        self.next();
        Ok(Operand::Value(v))
    }

    fn count_value(&mut self) -> Result<(), FilterError> {
        self.values += 1;
        if self.values > self.limits.max_values {
            return Err(FilterError::too_complex(
                self.peek().position,
                "max_values",
                self.limits.max_values,
                "values",
            ));
        }
        Ok(())
    }

    fn text(&mut self) -> Result<Operand, FilterError> {
        self.count_value()?;
        let t = self.peek().clone();
        match t.kind {
            Tok::Str(s) | Tok::Quoted(s) => {
                self.pos += 1;
                Ok(Operand::Value(Value::String(s)))
            }
            Tok::Param(name) => {
                self.pos += 1;
                Ok(Operand::Param {
                    name,
                    position: t.position,
                })
            }
            _ => Err(self.error("a quoted string or :param")),
        }
    }
}
