//! Checks of value forms shared by every connector (docs/API.md §1 value mapping).
//!
//! These validate the text forms the contract accepts as input, so a bad date
//! is rejected the same way on an engine that would store anything (SQLite).

fn digits(s: &str) -> bool {
    !s.is_empty() && s.bytes().all(|b| b.is_ascii_digit())
}

/// `YYYY-MM-DD`
#[allow(clippy::many_single_char_names)] // y, m, d: a date's parts
pub fn is_date(s: &str) -> bool {
    let p: Vec<&str> = s.split('-').collect();
    let [y, m, d] = p.as_slice() else {
        return false;
    };
    // the form first (chrono also takes `2024-1-1`), then a day the
    // calendar has (not 2024-02-31, which SQLite would store as it is)
    y.len() == 4
        && m.len() == 2
        && d.len() == 2
        && digits(y)
        && digits(m)
        && digits(d)
        && chrono::NaiveDate::parse_from_str(s, "%Y-%m-%d").is_ok()
}

/// `HH:MM[:SS[.ffffff]]`, optionally followed by a zone (`Z`, `+HH[:MM]`).
pub fn is_time(s: &str) -> bool {
    let (clock, _) = split_zone(s);
    let (hms, frac) = match clock.split_once('.') {
        Some((a, f)) => (a, Some(f)),
        None => (clock, None),
    };
    if frac.is_some_and(|f| !digits(f)) {
        return false;
    }
    let p: Vec<&str> = hms.split(':').collect();
    let num = |x: &&str, max: u32| {
        (x.len() == 2 && digits(x))
            .then(|| x.parse::<u32>().ok())
            .flatten()
            .filter(|v| *v <= max)
    };
    let (h, m, sec) = match p.as_slice() {
        [h, m] if frac.is_none() => (num(h, 24), num(m, 59), Some(0)),
        // 60: a leap second
        [h, m, sec] => (num(h, 24), num(m, 59), num(sec, 60)),
        _ => return false,
    };
    match (h, m, sec) {
        // 24:00 (the end of a day, as PostgreSQL takes it) but no later
        (Some(24), Some(0), Some(0)) => frac.is_none_or(|f| f.bytes().all(|b| b == b'0')),
        (Some(h), Some(_), Some(_)) => h < 24,
        _ => false,
    }
}

fn split_zone(s: &str) -> (&str, Option<&str>) {
    if let Some(stripped) = s.strip_suffix('Z').or_else(|| s.strip_suffix('z')) {
        return (stripped, Some("Z"));
    }
    if let Some(i) = s.rfind(['+', '-']) {
        let zone = &s[i + 1..];
        let ok = match zone.split_once(':') {
            Some((h, m)) => h.len() == 2 && m.len() == 2 && digits(h) && digits(m),
            None => (zone.len() == 2 || zone.len() == 4) && digits(zone),
        };
        if ok {
            return (&s[..i], Some(zone));
        }
    }
    (s, None)
}

/// RFC 3339 date-time (`T` or a space between date and time; zone optional,
/// since `timestamp without time zone` columns have none).
pub fn is_datetime(s: &str) -> bool {
    let Some((date, time)) = s.split_once(['T', 't', ' ']) else {
        return is_date(s);
    };
    is_date(date) && is_time(time)
}

/// A UUID in its 8-4-4-4-12 hex form (braces and case accepted).
pub fn is_uuid(s: &str) -> bool {
    let s = s.trim_start_matches('{').trim_end_matches('}');
    let groups: Vec<&str> = s.split('-').collect();
    groups.len() == 5
        && groups
            .iter()
            .zip([8, 4, 4, 4, 12])
            .all(|(g, n)| g.len() == n && g.bytes().all(|b| b.is_ascii_hexdigit()))
}

/// Base64 as the API takes binary values: the standard alphabet, padding optional.
pub const BASE64: base64::engine::GeneralPurpose = base64::engine::GeneralPurpose::new(
    &base64::alphabet::STANDARD,
    base64::engine::GeneralPurposeConfig::new()
        .with_decode_padding_mode(base64::engine::DecodePaddingMode::Indifferent),
);

/// The bytes of a binary value given as base64 text.
pub fn decode_base64(s: &str) -> Option<Vec<u8>> {
    use base64::Engine;
    BASE64.decode(s).ok()
}

/// A JSON number's text: `-?digits[.digits][e[+-]digits]`.
pub fn is_decimal(s: &str) -> bool {
    s.parse::<serde_json::Number>().is_ok() && !s.starts_with('+')
}

/// The digits of a decimal's text (`-12.50`, `1e400`, `0.0012`): how many
/// before the point and after it, as an exact decimal would hold it (leading
/// and trailing zeros do not count). `None` if it is not a number.
pub fn decimal_digits(s: &str) -> Option<(u64, u64)> {
    if !is_decimal(s) {
        return None;
    }
    let s = s.trim_start_matches('-');
    let (mantissa, exp) = match s.find(['e', 'E']) {
        Some(i) => (&s[..i], s[i + 1..].parse::<i64>().ok()?),
        None => (s, 0),
    };
    let (int, frac) = mantissa.split_once('.').unwrap_or((mantissa, ""));
    let digits = format!("{int}{frac}");
    let digits = digits.trim_start_matches('0');
    if digits.trim_end_matches('0').is_empty() {
        return Some((0, 0));
    }
    // the point sits `point` digits into `digits` (may be outside it)
    let leading_zeros = (int.len() + frac.len() - digits.len()) as i64;
    let point = int.len() as i64 - leading_zeros + exp;
    let significant = digits.trim_end_matches('0').len() as i64;
    let before = point.max(0);
    let after = (significant - point).max(0);
    Some((before as u64, after as u64))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn decimal_digits_count_as_an_exact_decimal_holds_them() {
        for (s, want) in [
            ("12.50", Some((2, 1))),
            ("-12.345", Some((2, 3))),
            ("0.0012", Some((0, 4))),
            ("1e400", Some((401, 0))),
            ("1.5E-3", Some((0, 4))),
            ("100", Some((3, 0))),
            ("0", Some((0, 0))),
            ("0.000", Some((0, 0))),
            ("12.0", Some((2, 0))),
            ("12e-1", Some((1, 1))),
            ("x", None),
        ] {
            assert_eq!(decimal_digits(s), want, "{s}");
        }
    }

    #[test]
    fn forms() {
        for (s, ok) in [
            ("2024-01-31", true),
            ("2024-13-01", false),
            ("2024-02-29", true),
            ("2023-02-29", false),
            ("2024-02-31", false),
            ("2024-04-31", false),
            ("2024-00-10", false),
            ("2024-1-01", false),
            ("x", false),
        ] {
            assert_eq!(is_date(s), ok, "{s}");
        }
        for (s, ok) in [
            ("10:30", true),
            ("10:30:00", true),
            ("10:30:00.123456", true),
            ("10:30:00+02:00", true),
            ("25:00", false),
            ("24:59", false),
            ("24:00:01", false),
            ("24:00", true),
            ("24:00:00", true),
            ("23:59:60", true),
            ("23:60", false),
            ("10:3", false),
            ("10:30.5", false),
        ] {
            assert_eq!(is_time(s), ok, "{s}");
        }
        for (s, ok) in [
            ("2024-01-31T10:30:00Z", true),
            ("2024-01-31 10:30:00", true),
            ("2024-01-31T10:30:00.5+05:30", true),
            ("2024-01-31", true),
            ("2024-01-31T", false),
            ("yesterday", false),
        ] {
            assert_eq!(is_datetime(s), ok, "{s}");
        }
        assert!(is_uuid("123e4567-e89b-12d3-a456-426614174000"));
        assert!(!is_uuid("123e4567-e89b-12d3-a456-42661417400"));
        assert!(
            is_decimal("-12.50") && is_decimal("1e5") && !is_decimal("1,5") && !is_decimal("abc")
        );
    }
}
