//! Plain text logs: the fallback when nothing else matches. Each line that
//! carries an error becomes a failed event; a line that reports a success
//! becomes an ok event; other lines are context and are not counted as events.
//! A leading timestamp is parsed when present, and `key=value` hints
//! (record, object, run, status) are picked up.

use crate::source::Input;
use crate::{IngestError, Sink};
use std::borrow::Cow;
use std::sync::Arc;
use syncward_core::event::{Op, Status, parse_ts};
use syncward_core::{Event, Origin};

const ERROR_WORDS: &[&str] = &[
    "error",
    "fail",
    "exception",
    "fatal",
    "critical",
    "denied",
    "refused",
    "invalid",
    "timed out",
    "timeout",
    "unable to",
    "cannot",
    "can't",
    "rejected",
    "not found",
    "limit exceeded",
    "too many requests",
    "unauthorized",
    "forbidden",
    "duplicate",
    "econnreset",
    "etimedout",
    "halted",
    "missing",
];
const SUCCESS_WORDS: &[&str] = &[
    "success",
    "succeeded",
    "synced",
    "created",
    "updated",
    "upserted",
    " ok ",
    "(ok)",
    "status=ok",
    "200 ok",
    "completed",
    "processed",
    "inserted",
    "imported",
    "saved",
];

pub fn read(reader: Input, name: &Arc<str>, sink: &mut dyn Sink) -> Result<(), IngestError> {
    crate::each_line(reader, name, sink, |text, number, sink| {
        if let Some(ev) = parse_line(
            text,
            Origin {
                file: name.clone(),
                line: number,
            },
        ) {
            sink.event(&ev);
        }
    })
}

pub fn parse_line(line: &str, origin: Origin) -> Option<Event<'_>> {
    let trimmed = line.trim();
    if trimmed.is_empty() {
        return None;
    }
    let (ts, rest) = leading_ts(trimmed);
    let lower = rest.to_ascii_lowercase();
    let padded = format!(" {lower} ");
    let informational = is_level(rest, &["INFO", "DEBUG", "TRACE", "NOTICE", "VERBOSE"]);
    let status = if let Some(s) = hint(rest, "status").and_then(Status::parse_loose) {
        s
    } else if is_level(
        rest,
        &[
            "ERROR", "FATAL", "CRITICAL", "SEVERE", "ERR", "CRIT", "EMERG", "ALERT",
        ],
    ) {
        Status::Failed
    } else if informational {
        // Summaries such as "INFO job finished: 4 synced, 2 failed" are context.
        if SUCCESS_WORDS.iter().any(|w| padded.contains(w))
            && !ERROR_WORDS.iter().any(|w| lower.contains(w))
        {
            Status::Ok
        } else {
            return None;
        }
    } else if ERROR_WORDS.iter().any(|w| lower.contains(w)) {
        Status::Failed
    } else if SUCCESS_WORDS.iter().any(|w| padded.contains(w)) {
        Status::Ok
    } else {
        return None;
    };
    let mut ev = Event::new(status, origin);
    ev.ts = ts;
    ev.record = hint(rest, "record")
        .or_else(|| hint(rest, "record_id"))
        .or_else(|| hint(rest, "email"))
        .or_else(|| first_email(rest))
        .map(Cow::Borrowed);
    ev.object = hint(rest, "object")
        .or_else(|| hint(rest, "sobject"))
        .map(Cow::Borrowed);
    ev.run = hint(rest, "run")
        .or_else(|| hint(rest, "job"))
        .map(Cow::Borrowed);
    ev.batch = hint(rest, "batch").map(Cow::Borrowed);
    ev.batch_size = hint(rest, "batch_size").and_then(|s| s.parse().ok());
    if status.is_failure() {
        ev.message = Some(Cow::Borrowed(rest));
    }
    // A token refresh or a reconnect names no record: it is the auth step.
    let refresh = lower.contains("refresh")
        && ["token", "oauth", "invalid_grant", "credential"]
            .iter()
            .any(|w| lower.contains(w));
    if ev.record.is_none() && (refresh || lower.contains("reconnect")) {
        ev.op = Some(Op::Reconnect);
    }
    Some(ev)
}

/// A timestamp at the start of the line, with or without brackets.
fn leading_ts(line: &str) -> (Option<i64>, &str) {
    let l = line.trim_start_matches('[');
    for len in [35usize, 32, 29, 28, 26, 25, 24, 23, 20, 19] {
        if let Some(cand) = l.get(..len)
            && let Some(ts) = parse_ts(cand)
        {
            let rest = l[len..].trim_start_matches([']', ' ', '\t', '|', '-', ':']);
            return (Some(ts), rest.trim_start());
        }
    }
    (None, line)
}

fn is_level(rest: &str, levels: &[&str]) -> bool {
    rest.split(|c: char| !c.is_ascii_alphanumeric())
        .filter(|w| !w.is_empty())
        .take(4)
        .any(|w| levels.contains(&w))
}

/// `key=value` or `key: value` in the line.
fn hint<'a>(line: &'a str, key: &str) -> Option<&'a str> {
    let mut from = 0;
    while let Some(pos) = line[from..].find(key) {
        let start = from + pos;
        let before_ok = start == 0
            || !line.as_bytes()[start - 1].is_ascii_alphanumeric()
                && line.as_bytes()[start - 1] != b'_';
        let after = &line[start + key.len()..];
        if before_ok
            && (after.starts_with('=') || after.starts_with(": ") || after.starts_with(':'))
        {
            let v = after
                .trim_start_matches(['=', ':', ' '])
                .trim_start_matches(['"', '\'']);
            let end = v
                .find(|c: char| {
                    c.is_whitespace()
                        || c == ','
                        || c == ';'
                        || c == '"'
                        || c == '\''
                        || c == ']'
                        || c == ')'
                })
                .unwrap_or(v.len());
            let value = v[..end].trim_end_matches([':', '.']);
            if value.chars().any(char::is_alphanumeric) {
                return Some(value);
            }
        }
        from = start + key.len();
    }
    None
}

/// The first email address in the line: most logs name the person they
/// were syncing by it even without a `record=` hint.
fn first_email(line: &str) -> Option<&str> {
    let is_part = |c: char| c.is_ascii_alphanumeric() || "._%+-".contains(c);
    line.match_indices('@').find_map(|(at, _)| {
        let start = line[..at]
            .char_indices()
            .rev()
            .take_while(|(_, c)| is_part(*c))
            .last()
            .map(|(i, _)| i)?;
        let end = line[at + 1..]
            .char_indices()
            .find(|(_, c)| !is_part(*c))
            .map_or(line.len(), |(i, _)| at + 1 + i);
        let domain = line[at + 1..end].trim_end_matches('.');
        let ok = domain.contains('.')
            && !domain.starts_with('.')
            && domain
                .rsplit('.')
                .next()
                .is_some_and(|tld| tld.len() >= 2 && tld.chars().all(|c| c.is_ascii_alphabetic()));
        ok.then(|| &line[start..at + 1 + domain.len()])
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn o() -> Origin {
        Origin {
            file: Arc::from("app.log"),
            line: 7,
        }
    }

    #[test]
    fn error_lines_with_timestamps_and_hints() {
        let ev = parse_line("2026-03-01 10:00:05,120 ERROR sync record=lead-17 object=Lead: REQUIRED_FIELD_MISSING: Required fields are missing: [Company]", o()).expect("event");
        assert_eq!(ev.status, Status::Failed);
        assert_eq!(ev.ts, Some(1_772_359_205_120));
        assert_eq!(ev.record.as_deref(), Some("lead-17"));
        assert_eq!(ev.object.as_deref(), Some("Lead"));
        assert!(
            ev.message
                .as_deref()
                .is_some_and(|m| m.starts_with("ERROR sync"))
        );
    }

    #[test]
    fn success_and_context_lines() {
        assert_eq!(
            parse_line(
                "[2026-03-01T10:00:00Z] INFO contact synced record=a@b.co",
                o()
            )
            .map(|e| e.status),
            Some(Status::Ok)
        );
        assert!(parse_line("starting job with 200 records", o()).is_none());
        assert!(parse_line("   ", o()).is_none());
        assert_eq!(
            parse_line("Error: read ECONNRESET", o()).map(|e| e.status),
            Some(Status::Failed)
        );
        // A summary that counts failures is context, not a success.
        assert!(parse_line("INFO job finished: 4 synced, 2 failed", o()).is_none());
        assert_eq!(
            parse_line(
                "[2026-12-01 10:00:00] INFO Bundle 1 processed: HubSpot CRM - Create a Contact (ok)",
                o()
            )
            .map(|e| e.status),
            Some(Status::Ok)
        );
    }

    #[test]
    fn a_failed_token_refresh_is_the_reconnect() {
        let ev = parse_line(
            "2026-12-01 09:00:02 ERROR token refresh failed: invalid_grant: expired access/refresh token",
            o(),
        )
        .expect("event");
        assert_eq!(ev.op, Some(Op::Reconnect));
        assert_eq!(ev.status, Status::Failed);
        let ev = parse_line(
            "ERROR record=lead-4 INVALID_SESSION_ID: Session expired or invalid",
            o(),
        )
        .expect("event");
        assert_eq!(ev.op, None);
    }

    #[test]
    fn the_record_is_the_hinted_key_or_else_the_first_email() {
        let ev = parse_line(
            "2026-12-01 09:00:01 Zap 'Typeform to Salesforce' Errored: INVALID_SESSION_ID: Session expired or invalid (lead ana.ruiz+web@acme.co.uk).",
            o(),
        )
        .expect("event");
        assert_eq!(ev.record.as_deref(), Some("ana.ruiz+web@acme.co.uk"));
        // Punctuation after "record:" is no key.
        let ev = parse_line(
            "ERROR upsert failed: unable to obtain exclusive access to this record: []",
            o(),
        )
        .expect("event");
        assert_eq!(ev.record, None);
        assert_eq!(
            parse_line("ERROR bad address user@localhost for record=r-9", o())
                .and_then(|e| e.record.map(|r| r.into_owned())),
            Some("r-9".to_owned())
        );
        assert_eq!(
            parse_line("ERROR bad address user@localhost", o()).and_then(|e| e.record),
            None
        );
    }
}
