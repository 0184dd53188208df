//! One normalised line of a sync log (DESIGN.md §3.1): one attempt on one
//! record, one request, or one auth step. Readers build events borrowing
//! from their line buffer; the analyzer keeps only what it needs.

use crate::model::Crm;
use serde::{Deserialize, Serialize};
use std::borrow::Cow;
use std::fmt;
use std::sync::Arc;

#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Status {
    Ok,
    Failed,
    Partial,
    Skipped,
}

impl Status {
    /// Accepts the words logs use: ok, success, succeeded, true, error, failure...
    pub fn parse_loose(s: &str) -> Option<Status> {
        Self::word(s).or_else(|| Self::word(lower_word(s, &mut [0u8; WORD])?))
    }

    /// A name as written, already trimmed and lower-cased.
    fn word(s: &str) -> Option<Status> {
        Some(match s {
            "ok" | "success" | "succeeded" | "successful" | "true" | "created" | "updated"
            | "done" | "complete" | "completed" | "synced" | "200" | "201" | "204" => Status::Ok,
            "failed" | "fail" | "failure" | "error" | "errored" | "false" | "rejected"
            | "halted" | "stopped" => Status::Failed,
            "partial" | "partially" | "partial_success" | "multi-status" | "207" => Status::Partial,
            "skipped" | "skip" | "filtered" | "ignored" | "unprocessed" | "pending" | "held" => {
                Status::Skipped
            }
            _ => return None,
        })
    }

    pub fn is_failure(self) -> bool {
        matches!(self, Status::Failed | Status::Partial)
    }
}

#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Op {
    Create,
    Update,
    Upsert,
    Delete,
    Read,
    Readback,
    Auth,
    Reconnect,
    Test,
}

impl Op {
    pub fn parse_loose(s: &str) -> Option<Op> {
        Self::word(s).or_else(|| Self::word(lower_word(s, &mut [0u8; WORD])?))
    }

    /// A name as written, already trimmed and lower-cased.
    fn word(s: &str) -> Option<Op> {
        Some(match s {
            "create" | "insert" | "post" => Op::Create,
            "update" | "patch" | "put" => Op::Update,
            "upsert" => Op::Upsert,
            "delete" | "archive" | "hard_delete" | "harddelete" => Op::Delete,
            "read" | "get" | "query" | "search" => Op::Read,
            "readback" | "read_back" | "verify" => Op::Readback,
            "auth" | "login" | "token" => Op::Auth,
            "reconnect" | "refresh" | "token_refresh" | "reauth" => Op::Reconnect,
            "test" | "canary" => Op::Test,
            _ => return None,
        })
    }

    pub fn is_auth_step(self) -> bool {
        matches!(self, Op::Auth | Op::Reconnect)
    }
}

#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Direction {
    SourceToCrm,
    CrmToSource,
    Bi,
}

impl Direction {
    pub fn parse_loose(s: &str) -> Option<Direction> {
        Self::word(s).or_else(|| Self::word(lower_word(s, &mut [0u8; WORD])?))
    }

    /// A name as written, already trimmed and lower-cased.
    fn word(s: &str) -> Option<Direction> {
        Some(match s {
            "source_to_crm" | "to_crm" | "outbound" | "push" | "one_way" | "oneway"
            | "source-to-crm" | "to-crm" | "one-way" => Direction::SourceToCrm,
            "crm_to_source" | "from_crm" | "inbound" | "pull" | "crm-to-source" | "from-crm" => {
                Direction::CrmToSource
            }
            "bi" | "bidirectional" | "bi_directional" | "two_way" | "twoway" | "both"
            | "bi-directional" | "two-way" => Direction::Bi,
            _ => return None,
        })
    }
}

/// The longest word the loose parsers accept.
pub const WORD: usize = 24;

/// `s` trimmed and lower-cased into `buf`, without allocating; `None` when
/// it is longer than any word the loose parsers accept. They run once per
/// event on large logs, so this matters (bench/RESULTS.md).
pub fn lower_word<'b>(s: &str, buf: &'b mut [u8; WORD]) -> Option<&'b str> {
    // Callers try the text as written first; this is their slow path.
    let s = s.trim();
    let out = buf.get_mut(..s.len())?;
    out.copy_from_slice(s.as_bytes());
    out.make_ascii_lowercase();
    std::str::from_utf8(out).ok()
}

/// What the CRM changed after a write, and which rule did it.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct Changed<'a> {
    #[serde(borrow, default)]
    pub field: Option<Cow<'a, str>>,
    #[serde(borrow, default)]
    pub from: Option<Cow<'a, str>>,
    #[serde(borrow, default)]
    pub to: Option<Cow<'a, str>>,
    #[serde(borrow, default)]
    pub by: Option<Cow<'a, str>>,
}

/// Where an event came from: `file:line`.
#[derive(Clone, Debug, PartialEq, Eq, Hash)]
pub struct Origin {
    pub file: Arc<str>,
    pub line: u64,
}

impl fmt::Display for Origin {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}:{}", self.file, self.line)
    }
}

#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Event<'a> {
    /// Epoch milliseconds.
    pub ts: Option<i64>,
    pub run: Option<Cow<'a, str>>,
    pub batch: Option<Cow<'a, str>>,
    pub batch_size: Option<u32>,
    pub attempt: Option<u32>,
    pub direction: Option<Direction>,
    pub crm: Option<Crm>,
    pub object: Option<Cow<'a, str>>,
    pub op: Option<Op>,
    pub record: Option<Cow<'a, str>>,
    pub crm_id: Option<Cow<'a, str>>,
    pub status: Status,
    pub http_status: Option<u16>,
    pub code: Option<Cow<'a, str>>,
    pub message: Option<Cow<'a, str>>,
    pub fields: Vec<Cow<'a, str>>,
    pub changed: Option<Changed<'a>>,
    /// Seconds the server asked to wait (Retry-After), when known.
    pub retry_after: Option<u32>,
    pub origin: Origin,
}

impl<'a> Event<'a> {
    pub fn new(status: Status, origin: Origin) -> Self {
        Event {
            ts: None,
            run: None,
            batch: None,
            batch_size: None,
            attempt: None,
            direction: None,
            crm: None,
            object: None,
            op: None,
            record: None,
            crm_id: None,
            status,
            http_status: None,
            code: None,
            message: None,
            fields: Vec::new(),
            changed: None,
            retry_after: None,
            origin,
        }
    }

    /// A failure: `failed` or `partial`, or a readback that found the record
    /// changed after the write (a workflow failure of that record).
    pub fn is_failure(&self) -> bool {
        self.status.is_failure() || (self.op == Some(Op::Readback) && self.changed.is_some())
    }

    /// The text the classifier reads: the code and the message together.
    pub fn error_text(&self) -> Cow<'_, str> {
        match (&self.code, &self.message) {
            (Some(c), Some(m)) if !m.contains(c.as_ref()) => Cow::Owned(format!("{c}: {m}")),
            (_, Some(m)) => Cow::Borrowed(m.as_ref()),
            (Some(c), None) => Cow::Borrowed(c.as_ref()),
            (None, None) => Cow::Borrowed(""),
        }
    }
}

/// Parse a timestamp: RFC 3339 / ISO 8601 (with or without zone, `T` or
/// space), or epoch seconds or milliseconds. Returns epoch milliseconds.
/// The key a reader gives a record whose log names none: its place in the
/// file or the request ("row 7", "record 3"). Counted as a record, but
/// never compared across runs: the same place may hold another person.
pub fn positional_key(kind: &str, n: impl std::fmt::Display) -> String {
    format!("{kind} {n}")
}

/// Whether a record key is one [`positional_key`] made.
pub fn is_positional_key(key: &str) -> bool {
    key.split_once(' ').is_some_and(|(kind, n)| {
        matches!(kind, "row" | "record") && !n.is_empty() && n.bytes().all(|b| b.is_ascii_digit())
    })
}

pub fn parse_ts(s: &str) -> Option<i64> {
    let s = s.trim();
    if s.is_empty() {
        return None;
    }
    if s.bytes().all(|b| b.is_ascii_digit()) {
        let n: i64 = s.parse().ok()?;
        return Some(if n < 100_000_000_000 { n * 1000 } else { n });
    }
    let b = s.as_bytes();
    if b.len() < 19 || b[4] != b'-' || b[7] != b'-' || !(b[10] == b'T' || b[10] == b' ') {
        return None;
    }
    let num = |r: std::ops::Range<usize>| -> Option<i64> { s.get(r)?.parse().ok() };
    let (y, mo, d, h, mi, se) = (
        num(0..4)?,
        num(5..7)?,
        num(8..10)?,
        num(11..13)?,
        num(14..16)?,
        num(17..19)?,
    );
    if !(1..=12).contains(&mo) || !(1..=31).contains(&d) || h > 23 || mi > 59 || se > 60 {
        return None;
    }
    let mut rest = &s[19..];
    let mut ms = 0i64;
    if let Some(frac) = rest.strip_prefix(['.', ',']) {
        let digits = frac.bytes().take_while(u8::is_ascii_digit).count();
        let take = &frac[..digits.min(3)];
        ms = take.parse::<i64>().unwrap_or(0) * 10i64.pow(3 - take.len() as u32);
        rest = &frac[digits..];
    }
    let rest = rest.trim_start();
    let offset_min: i64 =
        if rest.is_empty() || rest == "Z" || rest == "z" || rest == "UTC" || rest == "GMT" {
            0
        } else if let Some(sign) = rest.chars().next().filter(|c| *c == '+' || *c == '-') {
            let zone = &rest[1..];
            let digits: String = zone.chars().filter(char::is_ascii_digit).collect();
            let well_formed = zone.len() <= 5
                && zone.chars().all(|c| c.is_ascii_digit() || c == ':')
                && (digits.len() == 2 || digits.len() == 4);
            if !well_formed {
                return None;
            }
            let hh: i64 = digits[..2].parse().ok()?;
            let mm: i64 = digits.get(2..4).and_then(|m| m.parse().ok()).unwrap_or(0);
            let v = hh * 60 + mm;
            if sign == '-' { -v } else { v }
        } else {
            return None;
        };
    let days = days_from_civil(y, mo, d);
    Some(((days * 86_400 + h * 3600 + mi * 60 + se) - offset_min * 60) * 1000 + ms)
}

/// Days since 1970-01-01 (Howard Hinnant's algorithm).
fn days_from_civil(y: i64, m: i64, d: i64) -> i64 {
    let y = if m <= 2 { y - 1 } else { y };
    let era = if y >= 0 { y } else { y - 399 } / 400;
    let yoe = y - era * 400;
    let mp = (m + 9) % 12;
    let doy = (153 * mp + 2) / 5 + d - 1;
    let doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
    era * 146_097 + doe - 719_468
}

/// Epoch milliseconds as RFC 3339 UTC, for reports.
pub fn format_ts(ms: i64) -> String {
    let secs = ms.div_euclid(1000);
    let days = secs.div_euclid(86_400);
    let rem = secs.rem_euclid(86_400);
    // civil_from_days
    let z = days + 719_468;
    let era = if z >= 0 { z } else { z - 146_096 } / 146_097;
    let doe = z - era * 146_097;
    let yoe = (doe - doe / 1460 + doe / 36_524 - doe / 146_096) / 365;
    let y = yoe + era * 400;
    let doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
    let mp = (5 * doy + 2) / 153;
    let d = doy - (153 * mp + 2) / 5 + 1;
    let m = if mp < 10 { mp + 3 } else { mp - 9 };
    let y = if m <= 2 { y + 1 } else { y };
    format!(
        "{y:04}-{m:02}-{d:02}T{:02}:{:02}:{:02}Z",
        rem / 3600,
        (rem % 3600) / 60,
        rem % 60
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn timestamps() {
        assert_eq!(parse_ts("1970-01-01T00:00:00Z"), Some(0));
        assert_eq!(
            parse_ts("2026-03-01T10:15:30.250Z"),
            Some(1_772_360_130_250)
        );
        assert_eq!(
            parse_ts("2026-03-01 11:15:30+01:00"),
            Some(1_772_360_130_000)
        );
        assert_eq!(
            parse_ts("2026-03-01T05:15:30-0500"),
            Some(1_772_360_130_000)
        );
        assert_eq!(parse_ts("1772360130"), Some(1_772_360_130_000));
        assert_eq!(parse_ts("1772360130250"), Some(1_772_360_130_250));
        assert_eq!(parse_ts("yesterday"), None);
        assert_eq!(parse_ts("2026-13-01T00:00:00Z"), None);
        assert_eq!(format_ts(1_772_360_130_250), "2026-03-01T10:15:30Z");
    }

    #[test]
    fn loose_words() {
        assert_eq!(Status::parse_loose("Success"), Some(Status::Ok));
        assert_eq!(Status::parse_loose("ERROR"), Some(Status::Failed));
        assert_eq!(Op::parse_loose("insert"), Some(Op::Create));
        assert_eq!(
            Direction::parse_loose("bi-directional"),
            Some(Direction::Bi)
        );
    }
}
