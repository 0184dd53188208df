//! Value normalisers: what a source value becomes before it is sent, and why
//! it cannot be sent when it cannot. Every normaliser is idempotent: its
//! output, normalised again, comes back unchanged (property-tested).

use super::mapping::{FieldSpec, Transform};
use super::places;
use super::schema::{FieldType, SchemaField};

/// Why a value cannot be sent.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Bad {
    pub kind: &'static str,
    pub message: String,
    /// A corrected value, or advice, when there is one.
    pub fix: Option<String>,
}

fn bad(kind: &'static str, message: String, fix: Option<String>) -> Bad {
    Bad { kind, message, fix }
}

/// The value to send, or why it cannot be sent. `Ok(None)` is a blank value.
/// `warning` is set when a safe normalisation changed the meaning-bearing
/// form (a picklist's case), so the user hears about it.
pub struct Normalised {
    pub value: Option<String>,
    pub warning: Option<Bad>,
}

pub fn trim(v: &str) -> String {
    v.trim().to_owned()
}

pub fn number(v: &str) -> Result<String, Bad> {
    let t = v.trim();
    // Already canonical (plain digits, one optional dot, no padding): nothing to do.
    if !t.is_empty()
        && t.len() == v.len()
        && t.bytes()
            .all(|b| b.is_ascii_digit() || b == b'.' || b == b'-')
        && !t.starts_with('.')
        && !t.ends_with('.')
        && !(t.starts_with('0') && t.len() > 1 && !t.starts_with("0."))
        && !(t.contains('.') && t.ends_with('0'))
        && t.rfind('-').is_none_or(|i| i == 0)
        && t.parse::<f64>().is_ok()
    {
        return Ok(t.to_owned());
    }
    let mut s: String = t
        .chars()
        .filter(|c| !matches!(c, '$' | '€' | '£' | '¥' | ' ' | '\u{a0}' | '\''))
        .collect();
    if s.ends_with('%') {
        s.pop();
    }
    let negative = s.starts_with('(') && s.ends_with(')');
    if negative {
        s = format!("-{}", &s[1..s.len() - 1]);
    }
    // 1,234.50 (thousands commas) or 1.234,50 (European) when unambiguous.
    let commas = s.matches(',').count();
    let dots = s.matches('.').count();
    if commas > 0 && dots == 1 && s.rfind(',') < s.rfind('.') {
        s = s.replace(',', "");
    } else if dots > 0 && commas == 1 && s.rfind('.') < s.rfind(',') {
        s = s.replace('.', "").replace(',', ".");
    } else if commas > 1 && dots == 0 {
        s = s.replace(',', "");
    } else if commas == 1 && dots == 0 {
        let after = s.len() - s.rfind(',').unwrap_or(0) - 1;
        if after == 3 {
            s = s.replace(',', "");
        } else {
            s = s.replace(',', ".");
        }
    }
    match s.parse::<f64>() {
        Ok(n) if n.is_finite() => Ok(canonical_number(&s, n)),
        _ => Err(bad("type_mismatch", format!("'{t}' is not a number"), None)),
    }
}

fn canonical_number(s: &str, n: f64) -> String {
    if s.contains(['e', 'E'])
        || s.starts_with('+')
        || s.starts_with('.')
        || s.starts_with("-.")
        || s.ends_with('.')
    {
        return format!("{n}");
    }
    // Keep the digits as written, without a leading + or redundant zeros.
    let t = s.trim_start_matches('+');
    let (neg, digits) = t.strip_prefix('-').map_or((false, t), |d| (true, d));
    let (int, frac) = digits.split_once('.').unwrap_or((digits, ""));
    let int = int.trim_start_matches('0');
    let int = if int.is_empty() { "0" } else { int };
    let frac = frac.trim_end_matches('0');
    let sign = if neg && (int != "0" || !frac.is_empty()) {
        "-"
    } else {
        ""
    };
    if frac.is_empty() {
        format!("{sign}{int}")
    } else {
        format!("{sign}{int}.{frac}")
    }
}

pub fn boolean(v: &str) -> Result<String, Bad> {
    let t = v.trim().to_ascii_lowercase();
    match t.as_str() {
        "true" | "yes" | "y" | "1" | "x" | "checked" | "on" | "ja" | "oui" | "si" => {
            Ok("true".into())
        }
        "false" | "no" | "n" | "0" | "unchecked" | "off" | "nein" | "non" => Ok("false".into()),
        _ => Err(bad(
            "type_mismatch",
            format!("'{}' is not a yes/no value", v.trim()),
            Some("use true or false".into()),
        )),
    }
}

pub fn email(v: &str) -> Result<String, Bad> {
    let t = v
        .trim()
        .trim_matches(|c| c == '<' || c == '>')
        .to_lowercase();
    let ok = match t.split_once('@') {
        Some((local, domain)) => {
            !local.is_empty()
                && !domain.contains('@')
                && domain.contains('.')
                && !domain.starts_with('.')
                && !domain.ends_with('.')
                && !domain.contains("..")
                && !t.contains(char::is_whitespace)
                && !t.contains(',')
                && domain.rsplit('.').next().is_some_and(|tld| {
                    tld.len() >= 2 && tld.chars().all(|c| c.is_ascii_alphabetic())
                })
        }
        None => false,
    };
    if ok {
        Ok(t)
    } else {
        let fix = t.replace(' ', "").replace(",", ".");
        let fix = (fix != t && email(&fix).is_ok()).then_some(fix);
        Err(bad(
            "bad_email",
            format!("'{}' is not a valid email address", v.trim()),
            fix,
        ))
    }
}

/// E.164: `+` and 8 to 15 digits. Numbers without `+` get `default_country`'s code.
pub fn phone_e164(v: &str, default_country: &str) -> Result<String, Bad> {
    let t = v.trim();
    let cut = t
        .find(|c: char| c.is_ascii_alphabetic() && !matches!(c, 'x' | 'X'))
        .map_or(t, |i| &t[..i]);
    let main = cut
        .split(['x', 'X'])
        .next()
        .unwrap_or("")
        .split(" ext")
        .next()
        .unwrap_or("");
    let plus = main.trim_start().starts_with('+') || main.trim_start().starts_with("00");
    let mut digits: String = main.chars().filter(char::is_ascii_digit).collect();
    if main.trim_start().starts_with("00") {
        digits.drain(..2);
    }
    let full = if plus {
        digits
    } else {
        let Some(cc) = places::calling_code(default_country) else {
            return Err(bad(
                "bad_phone",
                format!("'{t}' has no country code"),
                Some("write it as +<country code><number>".into()),
            ));
        };
        let national = if cc == "1" {
            if digits.len() == 11 && digits.starts_with('1') {
                digits[1..].to_owned()
            } else {
                digits
            }
        } else {
            digits.trim_start_matches('0').to_owned()
        };
        if cc == "1" && national.len() != 10 {
            return Err(bad(
                "bad_phone",
                format!("'{t}' is not a valid phone number for {default_country}"),
                None,
            ));
        }
        format!("{cc}{national}")
    };
    if (8..=15).contains(&full.len()) && !full.starts_with('0') {
        Ok(format!("+{full}"))
    } else {
        Err(bad(
            "bad_phone",
            format!("'{t}' is not a valid phone number"),
            None,
        ))
    }
}

/// Dates as `YYYY-MM-DD`. With a `format` the source is read that way; without
/// one, ISO dates pass and day/month orders are flagged, never guessed.
pub fn date(v: &str, format: Option<&str>) -> Result<String, Bad> {
    let t = v.trim();
    // An ISO date needs no format (and is what a transform already produced).
    if let Some(d) = iso_date(t) {
        return Ok(d);
    }
    if let Some(fmt) = format {
        if let Ok(d) = jiff::civil::Date::strptime(fmt, t) {
            return Ok(d.to_string());
        }
        if let Ok(dt) = jiff::civil::DateTime::strptime(fmt, t) {
            return Ok(dt.date().to_string());
        }
        if iso_date(t).is_some() {
            return Ok(iso_date(t).unwrap_or_default());
        }
        return Err(bad(
            "bad_date",
            format!("'{t}' does not match the date format {fmt}"),
            None,
        ));
    }
    if let Some(d) = iso_date(t) {
        return Ok(d);
    }
    let parts: Vec<&str> = t.split(['/', '.', '-']).collect();
    if parts.len() == 3
        && parts
            .iter()
            .all(|p| !p.is_empty() && p.len() <= 4 && p.bytes().all(|b| b.is_ascii_digit()))
    {
        let a: u32 = parts[0].parse().unwrap_or(0);
        let b: u32 = parts[1].parse().unwrap_or(0);
        let sep = t
            .chars()
            .find(|c| matches!(c, '/' | '.' | '-'))
            .unwrap_or('/');
        let year = if parts[2].len() == 4 { "%Y" } else { "%y" };
        if (1..=12).contains(&a) && (1..=12).contains(&b) && a != b {
            return Err(bad(
                "ambiguous_date",
                format!("'{t}' could be day/month or month/day"),
                Some(format!(
                    "set format = \"%d{sep}%m{sep}{year}\" or \"%m{sep}%d{sep}{year}\" for this column in the mapping"
                )),
            ));
        }
        let guess = if a > 12 {
            format!("%d{sep}%m{sep}{year}")
        } else {
            format!("%m{sep}%d{sep}{year}")
        };
        if let Ok(d) = jiff::civil::Date::strptime(&guess, t) {
            return Err(bad(
                "bad_date",
                format!("'{t}' is not an ISO date (YYYY-MM-DD)"),
                Some(format!("{d} (set format = \"{guess}\" in the mapping)")),
            ));
        }
    }
    Err(bad(
        "bad_date",
        format!("'{t}' is not a date"),
        Some("use YYYY-MM-DD, or set the column's format in the mapping".into()),
    ))
}

fn iso_date(t: &str) -> Option<String> {
    t.parse::<jiff::civil::Date>()
        .ok()
        .map(|d| d.to_string())
        .filter(|_| t.len() == 10)
}

/// Datetimes as RFC 3339 in UTC; a `tz` places zone-less source times.
pub fn datetime(v: &str, format: Option<&str>, tz: Option<&str>) -> Result<String, Bad> {
    let t = v.trim();
    if let Ok(ts) = t.parse::<jiff::Timestamp>() {
        return Ok(ts.to_string());
    }
    let zone = tz.unwrap_or("UTC");
    let civil = match format {
        Some(fmt) => jiff::civil::DateTime::strptime(fmt, t).ok(),
        None => t.parse::<jiff::civil::DateTime>().ok(),
    };
    match civil.and_then(|dt| dt.in_tz(zone).ok()) {
        Some(z) => Ok(z.timestamp().to_string()),
        None => Err(bad(
            "bad_date",
            format!("'{t}' is not a date and time"),
            Some(format!(
                "use ISO 8601 (2026-03-01T09:30:00Z){}",
                if format.is_none() {
                    ", or set the column's format"
                } else {
                    ""
                }
            )),
        )),
    }
}

/// Closest option for "did you mean": case and spacing first, then edit distance.
pub fn did_you_mean<'a>(value: &str, field: &'a SchemaField) -> Option<&'a str> {
    let fold = |s: &str| {
        s.to_lowercase()
            .chars()
            .filter(|c| c.is_alphanumeric())
            .collect::<String>()
    };
    let want = fold(value);
    if want.is_empty() {
        return None;
    }
    if let Some(o) = field
        .options
        .iter()
        .find(|o| fold(&o.value) == want || fold(&o.label) == want)
    {
        return Some(&o.value);
    }
    field
        .options
        .iter()
        .map(|o| {
            (
                levenshtein(&want, &fold(&o.value)).min(levenshtein(&want, &fold(&o.label))),
                o,
            )
        })
        .filter(|(d, _)| *d <= 2 || (*d <= 3 && want.len() > 8))
        .min_by_key(|(d, _)| *d)
        .map(|(_, o)| o.value.as_str())
}

fn levenshtein(a: &str, b: &str) -> usize {
    let a: Vec<char> = a.chars().collect();
    let b: Vec<char> = b.chars().collect();
    let mut prev: Vec<usize> = (0..=b.len()).collect();
    for i in 1..=a.len() {
        let mut cur = vec![i; b.len() + 1];
        for j in 1..=b.len() {
            cur[j] = (prev[j] + 1)
                .min(cur[j - 1] + 1)
                .min(prev[j - 1] + usize::from(a[i - 1] != b[j - 1]));
        }
        prev = cur;
    }
    prev[b.len()]
}

/// Does the CRM field expect two-letter codes?
pub fn wants_state_code(field: &SchemaField) -> bool {
    let n = field.name.to_ascii_lowercase();
    if n.contains("country") {
        return false;
    }
    let codes = field
        .options
        .iter()
        .filter(|o| places::is_us_state_code(&o.value))
        .count();
    n.contains("statecode")
        || n.contains("state_code")
        || ((n.contains("state") || n.contains("province"))
            && codes >= 5
            && codes * 10 >= field.options.len() * 8)
}

pub fn wants_country_code(field: &SchemaField) -> bool {
    let n = field.name.to_ascii_lowercase();
    n.contains("countrycode")
        || n.contains("country_code")
        || (n.contains("country")
            && !field.options.is_empty()
            && field
                .options
                .iter()
                .all(|o| places::is_country_code(&o.value)))
}

/// Normalises one value for one CRM field under the column's spec.
pub fn normalise(
    raw: &str,
    spec: &FieldSpec,
    field: Option<&SchemaField>,
) -> Result<Normalised, Bad> {
    let (state, country) = field.map_or((false, false), |f| {
        (wants_state_code(f), wants_country_code(f))
    });
    normalise_with(raw, spec, field, state, country)
}

/// [`normalise`] with the field's code expectations worked out once by the caller.
pub fn normalise_with(
    raw: &str,
    spec: &FieldSpec,
    field: Option<&SchemaField>,
    wants_state: bool,
    wants_country: bool,
) -> Result<Normalised, Bad> {
    let trimmed = raw.trim();
    if trimmed.is_empty() {
        return Ok(Normalised {
            value: None,
            warning: None,
        });
    }
    let mut warning = None;
    let mut value = trimmed.to_owned();
    // The mapping's own value map comes first (picklists and anything else).
    if let Some(mapped) = spec.map.get(trimmed) {
        value = mapped.clone();
    }
    let kind = field.map(|f| f.kind);
    match spec.transform {
        Some(Transform::Trim) => {}
        Some(Transform::Lower) => value = value.to_lowercase(),
        Some(Transform::Upper) => value = value.to_uppercase(),
        Some(Transform::Number) => value = number(&value)?,
        Some(Transform::Bool) => value = boolean(&value)?,
        Some(Transform::Date) => value = date(&value, spec.format.as_deref())?,
        Some(Transform::Datetime) => {
            value = datetime(&value, spec.format.as_deref(), spec.tz.as_deref())?
        }
        Some(Transform::UsStateCode) => {
            value = places::us_state_code(&value)
                .map(str::to_owned)
                .ok_or_else(|| {
                    bad(
                        "state_not_code",
                        format!("'{value}' is not a US state"),
                        None,
                    )
                })?;
        }
        Some(Transform::CountryCode) => {
            value = places::country_code(&value)
                .map(str::to_owned)
                .ok_or_else(|| {
                    bad(
                        "country_not_code",
                        format!("'{value}' is not a country name or ISO code"),
                        None,
                    )
                })?;
        }
        Some(Transform::PhoneE164) => {
            value = phone_e164(&value, spec.default_country.as_deref().unwrap_or("US"))?
        }
        Some(Transform::Picklist) | None => {}
    }
    let Some(field) = field else {
        return Ok(Normalised {
            value: Some(value),
            warning,
        });
    };
    if spec.transform != Some(Transform::UsStateCode)
        && wants_state
        && !places::is_us_state_code(&value)
    {
        return Err(bad(
            "state_not_code",
            format!(
                "'{value}' is a state name where {} expects a two-letter code",
                field.name
            ),
            places::us_state_code(&value)
                .map(|c| format!("{c} (add transform = \"us_state_code\")")),
        ));
    }
    if spec.transform != Some(Transform::CountryCode)
        && wants_country
        && !places::is_country_code(&value)
    {
        return Err(bad(
            "country_not_code",
            format!(
                "'{value}' is a country name where {} expects an ISO code",
                field.name
            ),
            places::country_code(&value).map(|c| format!("{c} (add transform = \"country_code\")")),
        ));
    }
    // What the CRM field itself needs, whatever the transform.
    match kind {
        Some(FieldType::Number) => value = number(&value)?,
        Some(FieldType::Bool) => value = boolean(&value)?,
        Some(FieldType::Email) => value = email(&value)?,
        Some(FieldType::Date) => value = date(&value, spec.format.as_deref())?,
        Some(FieldType::DateTime) => {
            value = datetime(&value, spec.format.as_deref(), spec.tz.as_deref())?
        }
        Some(FieldType::Phone) if spec.transform != Some(Transform::PhoneE164) => {
            let digits = value.chars().filter(char::is_ascii_digit).count();
            if !(7..=15).contains(&digits) {
                let fix = phone_e164(&value, spec.default_country.as_deref().unwrap_or("US")).ok();
                return Err(bad(
                    "bad_phone",
                    format!("'{value}' is not a valid phone number"),
                    fix,
                ));
            }
        }
        Some(FieldType::Picklist)
            if field.restricted
                && !field.options.is_empty()
                && !field.options.iter().any(|o| o.value == value) =>
        {
            match did_you_mean(&value, field) {
                Some(opt)
                    if opt.to_lowercase().replace([' ', '_', '-'], "")
                        == value.to_lowercase().replace([' ', '_', '-'], "") =>
                {
                    warning = Some(bad(
                        "picklist_invalid",
                        format!(
                            "'{value}' matches the option '{opt}' only loosely (case or spacing); it is sent as '{opt}'"
                        ),
                        Some(opt.to_owned()),
                    ));
                    value = opt.to_owned();
                }
                other => {
                    return Err(bad(
                        "picklist_invalid",
                        format!(
                            "'{value}' is not one of the allowed options of {}",
                            field.name
                        ),
                        Some(match other {
                            Some(o) => format!(
                                "did you mean '{o}'? Or map it in the mapping's map = {{ ... }}"
                            ),
                            None => format!(
                                "allowed: {}",
                                field
                                    .options
                                    .iter()
                                    .take(12)
                                    .map(|o| o.value.as_str())
                                    .collect::<Vec<_>>()
                                    .join(", ")
                            ),
                        }),
                    ));
                }
            }
        }
        _ => {}
    }
    if let Some(max) = field.length
        && value.chars().count() > max
    {
        return Err(bad(
            "too_long",
            format!(
                "{} characters where {} holds at most {max}",
                value.chars().count(),
                field.name
            ),
            Some(format!("shorten to {max} characters")),
        ));
    }
    Ok(Normalised {
        value: Some(value),
        warning,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn numbers_booleans_emails() {
        assert_eq!(number("$1,234.50").as_deref(), Ok("1234.5"));
        assert_eq!(number("1.234,50").as_deref(), Ok("1234.5"));
        assert_eq!(number(" 42 ").as_deref(), Ok("42"));
        assert_eq!(number("(12)").as_deref(), Ok("-12"));
        assert_eq!(number("12,5").as_deref(), Ok("12.5"));
        assert_eq!(
            number("about ten").map_err(|b| b.kind),
            Err("type_mismatch")
        );
        assert_eq!(boolean("Yes").as_deref(), Ok("true"));
        assert_eq!(boolean("maybe").map_err(|b| b.kind), Err("type_mismatch"));
        assert_eq!(email(" Ana@Example.COM ").as_deref(), Ok("ana@example.com"));
        assert_eq!(email("ana@example").map_err(|b| b.kind), Err("bad_email"));
        assert_eq!(
            email("ana@example,com").map_err(|b| b.fix),
            Err(Some("ana@example.com".into()))
        );
    }

    #[test]
    fn phones() {
        assert_eq!(
            phone_e164("(415) 555-0100", "US").as_deref(),
            Ok("+14155550100")
        );
        assert_eq!(
            phone_e164("+49 30 1234567", "US").as_deref(),
            Ok("+49301234567")
        );
        assert_eq!(
            phone_e164("030 1234567", "DE").as_deref(),
            Ok("+49301234567")
        );
        assert_eq!(
            phone_e164("0044 20 7946 0958", "US").as_deref(),
            Ok("+442079460958")
        );
        assert_eq!(
            phone_e164("555-0100", "US").map_err(|b| b.kind),
            Err("bad_phone")
        );
        assert_eq!(
            phone_e164("+1 415 555 0100 x12", "US").as_deref(),
            Ok("+14155550100")
        );
    }

    #[test]
    fn dates_are_never_guessed() {
        assert_eq!(date("2026-03-04", None).as_deref(), Ok("2026-03-04"));
        assert_eq!(
            date("04/03/2026", Some("%d/%m/%Y")).as_deref(),
            Ok("2026-03-04")
        );
        assert_eq!(
            date("04/03/2026", None).map_err(|b| b.kind),
            Err("ambiguous_date")
        );
        let e = date("31/03/2026", None).expect_err("not ISO");
        assert_eq!(e.kind, "bad_date");
        assert!(
            e.fix
                .as_deref()
                .is_some_and(|f| f.starts_with("2026-03-31")),
            "{e:?}"
        );
        assert_eq!(
            date("next tuesday", None).map_err(|b| b.kind),
            Err("bad_date")
        );
        assert_eq!(
            datetime("2026-03-01 09:30:00", None, Some("Europe/Berlin")).as_deref(),
            Ok("2026-03-01T08:30:00Z")
        );
        assert_eq!(
            datetime(
                "01.03.2026 09:30",
                Some("%d.%m.%Y %H:%M"),
                Some("America/New_York")
            )
            .as_deref(),
            Ok("2026-03-01T14:30:00Z")
        );
    }

    mod idempotent {
        use super::super::*;
        use proptest::prelude::*;

        proptest! {
            #[test]
            fn normalising_twice_changes_nothing(v in "[ $€0-9,.()a-zA-Z@+/-]{0,24}") {
                for f in [number as fn(&str) -> Result<String, Bad>, boolean, email] {
                    if let Ok(once) = f(&v) {
                        let twice = f(&once);
                        prop_assert_eq!(twice, Ok(once.clone()));
                    }
                }
                if let Ok(once) = phone_e164(&v, "US") {
                    prop_assert_eq!(phone_e164(&once, "US"), Ok(once.clone()));
                }
                if let Ok(once) = date(&v, None) {
                    prop_assert_eq!(date(&once, None), Ok(once.clone()));
                }
                if let Some(code) = places::us_state_code(&v) {
                    prop_assert_eq!(places::us_state_code(code), Some(code));
                }
                if let Some(code) = places::country_code(&v) {
                    prop_assert_eq!(places::country_code(code), Some(code));
                }
            }
        }
    }
}
