//! Reading `policies/`: `model.conf` (casbin's model; the shipped one when the
//! file is absent) and `policy.csv` (the rules of docs/API.md §6), validated line
//! by line. A file with any bad line is rejected whole, so a half-understood
//! policy never goes live.

use gatehouse_core::Expr;
use sha2::Digest;
use std::path::Path;

/// The model Gatehouse ships; also used when `model.conf` is absent.
pub const DEFAULT_MODEL: &str = include_str!("../../policies/model.conf");

/// Why a policy folder was rejected.
#[derive(Debug, Clone, serde::Serialize)]
pub struct PolicyError {
    pub file: String,
    /// 1-based line, when the error is on one.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub line: Option<usize>,
    pub message: String,
}

impl std::fmt::Display for PolicyError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self.line {
            Some(l) => write!(f, "{}:{l}: {}", self.file, self.message),
            None => write!(f, "{}: {}", self.file, self.message),
        }
    }
}

/// `p, role, service, resource, verbs, allow|deny`
#[derive(Debug, Clone)]
pub struct Permission {
    pub role: String,
    pub service: String,
    pub resource: String,
    pub verbs: String,
    pub effect: String,
    pub line: usize,
}

/// `p2, role, service, table, filter`
#[derive(Debug, Clone)]
pub struct RowFilter {
    pub role: String,
    pub service: String,
    pub table: String,
    pub text: String,
    /// Parsed, with `{user.id}`, `{user.email}` and `{role}` still unbound.
    pub expr: Expr,
    pub line: usize,
}

/// `p3, role, service, table, col1 col2 ...`
#[derive(Debug, Clone)]
pub struct Hidden {
    pub role: String,
    pub service: String,
    pub table: String,
    pub columns: Vec<String>,
    pub line: usize,
}

/// The rules of one version of `policy.csv`.
#[derive(Debug, Clone, Default)]
pub struct Rules {
    pub permissions: Vec<Permission>,
    /// `g, role, parent-role`
    pub groups: Vec<(String, String, usize)>,
    pub row_filters: Vec<RowFilter>,
    pub hidden: Vec<Hidden>,
}

/// The texts of the policy folder's files (`None`: the file is absent).
pub struct Files {
    pub model: Option<String>,
    pub policy: Option<String>,
}

impl Files {
    pub fn read(dir: &Path) -> Result<Files, PolicyError> {
        let read = |name: &str| match std::fs::read_to_string(dir.join(name)) {
            Ok(t) => Ok(Some(t)),
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => Ok(None),
            Err(e) => Err(PolicyError {
                file: name.into(),
                line: None,
                message: format!("cannot be read: {e}"),
            }),
        };
        Ok(Files {
            model: read("model.conf")?,
            policy: read("policy.csv")?,
        })
    }
}

/// The seal line `gatehouse policy seal` starts a `policy.csv` with: the
/// SHA-256 of every byte after it. At the top, so a file cut short anywhere
/// keeps it and fails it.
pub const SEAL: &str = "# gatehouse-sha256: ";

/// How to deny every role, for messages about empty files.
const DENY_ALL: &str =
    "to deny every role but admin, write a rule such as `p, anonymous, *, *, *, deny`";

impl Files {
    /// Refuses a policy that is missing, has no rules, or does not match its
    /// seal: a file being written, cut short or emptied by accident is far
    /// likelier than a policy meant to allow nothing, so such a file keeps
    /// the previous policy in force instead of replacing it.
    pub fn check_complete(&self) -> Result<(), PolicyError> {
        let fail = |message: String| PolicyError {
            file: "policy.csv".into(),
            line: None,
            message,
        };
        let Some(text) = &self.policy else {
            return Err(fail(format!("is missing; {DENY_ALL}")));
        };
        if let Some(sealed) = sealed_part(text) {
            let (body, seal) = sealed.map_err(fail)?;
            if hex::encode(sha2::Sha256::digest(body.as_bytes())) != seal {
                return Err(fail(
                    "does not match its seal line: it was cut short or changed after `gatehouse policy seal`; seal it again once complete".into(),
                ));
            }
        }
        let has_rule = text
            .lines()
            .map(str::trim)
            .any(|l| !l.is_empty() && !l.starts_with('#'));
        if !has_rule {
            return Err(fail(format!("has no rules; {DENY_ALL}")));
        }
        Ok(())
    }
}

/// The text after a seal line and the digest it names, when the file starts
/// with one.
fn sealed_part(text: &str) -> Option<Result<(&str, &str), String>> {
    let rest = text.strip_prefix(SEAL)?;
    let (seal, body) = rest.split_once('\n').unwrap_or((rest, ""));
    let seal = seal.trim();
    if seal.len() != 64 || !seal.bytes().all(|b| b.is_ascii_hexdigit()) {
        return Some(Err("has a seal line that is not a SHA-256 digest".into()));
    }
    Some(Ok((body, seal)))
}

/// `text` with a seal line for its current content (replacing an old one).
pub fn seal(text: &str) -> String {
    let body = match sealed_part(text) {
        Some(Ok((body, _))) => body,
        _ => text,
    };
    let digest = hex::encode(sha2::Sha256::digest(body.as_bytes()));
    format!("{SEAL}{digest}\n{body}")
}

/// Splits one line of casbin's policy format: comma-separated fields, trimmed;
/// a field in double quotes may hold commas (`""` is a literal quote).
pub fn split_line(line: &str) -> Result<Vec<String>, String> {
    let mut fields = Vec::new();
    let mut chars = line.chars().peekable();
    loop {
        while chars.peek().is_some_and(|c| c.is_whitespace()) {
            chars.next();
        }
        let mut field = String::new();
        if chars.peek() == Some(&'"') {
            chars.next();
            loop {
                match chars.next() {
                    None => return Err("a quoted field is not closed".into()),
                    Some('"') if chars.peek() == Some(&'"') => {
                        chars.next();
                        field.push('"');
                    }
                    Some('"') => break,
                    Some(c) => field.push(c),
                }
            }
            while chars.peek().is_some_and(|c| c.is_whitespace()) {
                chars.next();
            }
            match chars.next() {
                None => {
                    fields.push(field);
                    return Ok(fields);
                }
                Some(',') => fields.push(field),
                Some(_) => return Err("text after a closing quote".into()),
            }
        } else {
            loop {
                match chars.next() {
                    None => {
                        fields.push(field.trim().to_string());
                        return Ok(fields);
                    }
                    Some(',') => break,
                    Some(c) => field.push(c),
                }
            }
            fields.push(field.trim().to_string());
        }
    }
}

/// Placeholders a row filter may name.
pub const PLACEHOLDERS: &[&str] = &["user.id", "user.email", "role"];

/// Parses `policy.csv`.
pub fn parse_rules(text: &str) -> Result<Rules, PolicyError> {
    let mut rules = Rules::default();
    for (i, raw) in text.lines().enumerate() {
        let line = i + 1;
        let fail = |message: String| PolicyError {
            file: "policy.csv".into(),
            line: Some(line),
            message,
        };
        let trimmed = raw.trim();
        if trimmed.is_empty() || trimmed.starts_with('#') {
            continue;
        }
        let f = split_line(trimmed).map_err(fail)?;
        let arity = |n: usize, shape: &str| {
            if f.len() != n {
                Err(fail(format!(
                    "'{}' takes {} fields ({shape}), found {}",
                    f[0],
                    n - 1,
                    f.len() - 1
                )))
            } else if let Some(i) = f.iter().position(String::is_empty) {
                Err(fail(format!("field {i} is empty")))
            } else {
                Ok(())
            }
        };
        match f[0].as_str() {
            "p" => {
                arity(6, "role, service, resource, verbs, allow|deny")?;
                let effect = f[5].to_ascii_lowercase();
                if effect != "allow" && effect != "deny" {
                    return Err(fail(format!(
                        "the effect must be allow or deny, found '{}'",
                        f[5]
                    )));
                }
                let verbs = f[4].to_ascii_uppercase();
                if verbs != "*" {
                    regex::Regex::new(&format!("^({verbs})$")).map_err(|_| {
                        fail(format!(
                            "verbs must be '*' or a pattern such as GET|POST, found '{}'",
                            f[4]
                        ))
                    })?;
                }
                if f[3].contains(char::is_whitespace) {
                    return Err(fail("a resource has no spaces (e.g. _table/orders)".into()));
                }
                rules.permissions.push(Permission {
                    role: f[1].clone(),
                    service: f[2].clone(),
                    resource: f[3].trim_matches('/').to_string(),
                    verbs,
                    effect,
                    line,
                });
            }
            "g" => {
                arity(3, "role, parent-role")?;
                rules.groups.push((f[1].clone(), f[2].clone(), line));
            }
            "p2" => {
                arity(5, "role, service, table, filter")?;
                let expr = row_filter_expr(&f[4]).map_err(fail)?;
                rules.row_filters.push(RowFilter {
                    role: f[1].clone(),
                    service: f[2].clone(),
                    table: f[3].clone(),
                    text: f[4].clone(),
                    expr,
                    line,
                });
            }
            "p3" => {
                arity(5, "role, service, table, columns separated by spaces")?;
                rules.hidden.push(Hidden {
                    role: f[1].clone(),
                    service: f[2].clone(),
                    table: f[3].clone(),
                    columns: f[4]
                        .split(|c: char| c.is_whitespace() || c == ',')
                        .filter(|c| !c.is_empty())
                        .map(str::to_string)
                        .collect(),
                    line,
                });
            }
            other => {
                return Err(fail(format!(
                    "unknown rule type '{other}' (expected p, g, p2 or p3)"
                )));
            }
        }
    }
    Ok(rules)
}

/// A row filter's expression. DreamFactory writes placeholders in quotes
/// (`owner = '{user.email}'`); both spellings mean the caller's value.
fn row_filter_expr(text: &str) -> Result<Expr, String> {
    let mut t = text.to_string();
    for p in PLACEHOLDERS {
        for q in ['\'', '"'] {
            t = t.replace(&format!("{q}{{{p}}}{q}"), &format!("{{{p}}}"));
        }
    }
    let expr = Expr::parse(&t).map_err(|e| format!("row filter: {e}"))?;
    // Only the caller's placeholders may appear; `:name` has no value here.
    let probe: serde_json::Map<String, serde_json::Value> = PLACEHOLDERS
        .iter()
        .map(|p| (p.to_string(), serde_json::Value::from("x")))
        .collect();
    expr.clone().bind(&probe).map_err(|e| {
        format!(
            "row filter: {e}; a row filter may use {{user.id}}, {{user.email}} and {{role}} only"
        )
    })?;
    Ok(expr)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn splits_casbin_lines() {
        let ok = |l: &str| split_line(l).unwrap_or_else(|e| panic!("{l}: {e}"));
        assert_eq!(ok("p, a, b"), ["p", "a", "b"]);
        assert_eq!(ok("p,a ,  b  "), ["p", "a", "b"]);
        assert_eq!(
            ok(r#"p2, r, s, t, "id in (1, 2) and n = ""x""""#),
            ["p2", "r", "s", "t", r#"id in (1, 2) and n = "x""#]
        );
        assert_eq!(ok("p, , x"), ["p", "", "x"]);
        assert!(split_line(r#"p, "open"#).is_err());
        assert!(split_line(r#"p, "a" b"#).is_err());
    }

    #[test]
    fn parses_every_rule_kind() {
        let r = parse_rules(
            "# comment\n\np, analyst, demo, _table/*, get, allow\ng, lead, analyst\n\
             p2, sales, demo, orders, region = '{user.email}'\np3, analyst, demo, employees, salary bonus\n",
        )
        .unwrap_or_else(|e| panic!("{e}"));
        assert_eq!(r.permissions[0].verbs, "GET");
        assert_eq!(r.permissions[0].line, 3);
        assert_eq!(r.groups, [("lead".to_string(), "analyst".to_string(), 4)]);
        assert_eq!(r.row_filters[0].expr.to_string(), "region = {user.email}");
        assert_eq!(r.hidden[0].columns, ["salary", "bonus"]);
    }

    #[test]
    fn rejects_bad_lines_with_their_number() {
        let err = |t: &str| {
            parse_rules(t)
                .err()
                .map(|e| (e.line, e.message))
                .unwrap_or_default()
        };
        assert_eq!(err("p, a, b, c, GET\n").0, Some(1));
        assert!(err("p, a, b, c, GET, maybe").1.contains("allow or deny"));
        assert!(err("\np, a, b, c, GET(, allow").1.contains("verbs"));
        assert!(err("p2, a, b, c, x = = 1").1.contains("row filter"));
        assert!(err("p2, a, b, c, x = :p").1.contains("{user.id}"));
        assert!(err("q, a, b").1.contains("unknown rule type"));
        assert_eq!(err("g, a, b\ng, a").0, Some(2));
        assert!(err("p, a, , c, GET, allow").1.contains("empty"));
    }
}
