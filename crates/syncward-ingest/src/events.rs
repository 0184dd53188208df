//! syncward events as JSON Lines (DESIGN.md §3.1). Only `status` is
//! required; unknown keys are accepted and ignored; strings and numbers are
//! taken where either is reasonable.

use crate::source::Input;
use crate::{IngestError, Problem, Sink};
use std::borrow::Cow;
use std::sync::Arc;
use syncward_core::event::{Changed, Direction, Op, Status, parse_ts};
use syncward_core::{Crm, Event, Origin};

pub fn read_jsonl(reader: Input, name: &Arc<str>, sink: &mut dyn Sink) -> Result<(), IngestError> {
    crate::each_line(reader, name, sink, |text, number, sink| {
        let origin = Origin {
            file: name.clone(),
            line: number,
        };
        match parse_event(text.trim(), origin) {
            Ok(ev) => sink.event(&ev),
            Err(message) => sink.problem(Problem {
                file: name.clone(),
                line: Some(number),
                message,
            }),
        }
    })
}

/// A value of a flat JSON event.
#[derive(Debug, Clone)]
enum Val<'a> {
    Str(Cow<'a, str>),
    Num(&'a str),
    Bool(bool),
    Null,
    /// A nested object or array, as JSON text.
    Nested(Cow<'a, str>),
}

impl<'a> Val<'a> {
    fn text(&self) -> Option<Cow<'a, str>> {
        match self {
            Val::Str(s) if !s.is_empty() => Some(s.clone()),
            Val::Num(n) => Some(Cow::Borrowed(*n)),
            Val::Bool(b) => Some(Cow::Owned(b.to_string())),
            _ => None,
        }
    }

    fn int(&self) -> Option<i64> {
        match self {
            Val::Num(n) => n.parse::<i64>().ok().or_else(|| {
                n.parse::<f64>()
                    .ok()
                    .filter(|f| f.is_finite())
                    .map(|f| f as i64)
            }),
            Val::Str(s) => s.trim().parse().ok(),
            _ => None,
        }
    }
}

/// The top-level keys of one JSON object, in order. A hand-written scanner
/// for the flat objects syncward writes (one pass, no allocation unless a
/// string has escapes); anything it does not expect falls back to
/// `serde_json` for the value or the whole line. It exists because parsing
/// is most of `diagnose`'s time on large logs (bench/RESULTS.md).
fn scan_object<'a>(line: &'a str, mut each: impl FnMut(&'a str, Val<'a>)) -> Result<(), String> {
    let b = line.as_bytes();
    let mut i = skip_ws(b, 0);
    if b.get(i) != Some(&b'{') {
        return Err(format!(
            "not a JSON event: expected an object, found {:?}",
            line.chars().next().unwrap_or(' ')
        ));
    }
    i += 1;
    let mut first = true;
    loop {
        i = skip_ws(b, i);
        match b.get(i) {
            Some(b'}') => {
                if skip_ws(b, i + 1) != b.len() {
                    return Err("not a JSON event: text after the closing brace".into());
                }
                return Ok(());
            }
            Some(b',') if !first => {
                i = skip_ws(b, i + 1);
            }
            _ if first => {}
            _ => {
                return Err(format!(
                    "not a JSON event: expected ',' or '}}' at column {}",
                    i + 1
                ));
            }
        }
        if b.get(i) != Some(&b'"') {
            return Err(format!(
                "not a JSON event: expected a key at column {}",
                i + 1
            ));
        }
        let (key, next) = string_at(line, i)?;
        i = skip_ws(b, next);
        if b.get(i) != Some(&b':') {
            return Err(format!(
                "not a JSON event: expected ':' at column {}",
                i + 1
            ));
        }
        i = skip_ws(b, i + 1);
        let (val, next) = match b.get(i) {
            Some(b'"') => {
                let (v, n) = string_at(line, i)?;
                (Val::Str(v), n)
            }
            Some(b'{' | b'[') => {
                let end = nested_end(b, i).ok_or_else(|| {
                    "not a JSON event: a nested value is not closed (cut short?)".to_owned()
                })?;
                (Val::Nested(Cow::Borrowed(&line[i..end])), end)
            }
            Some(b't') if line[i..].starts_with("true") => (Val::Bool(true), i + 4),
            Some(b'f') if line[i..].starts_with("false") => (Val::Bool(false), i + 5),
            Some(b'n') if line[i..].starts_with("null") => (Val::Null, i + 4),
            Some(c) if c.is_ascii_digit() || *c == b'-' => {
                let end = (i + 1..b.len())
                    .find(|&j| !matches!(b[j], b'0'..=b'9' | b'.' | b'e' | b'E' | b'+' | b'-'))
                    .unwrap_or(b.len());
                (Val::Num(&line[i..end]), end)
            }
            _ => {
                return Err(format!(
                    "not a JSON event: expected a value at column {}",
                    i + 1
                ));
            }
        };
        let key = match key {
            Cow::Borrowed(k) => k,
            // Keys with escapes are not ours; keep the scan going without them.
            Cow::Owned(_) => "",
        };
        first = false;
        each(key, val);
        i = next;
    }
}

fn skip_ws(b: &[u8], mut i: usize) -> usize {
    while i < b.len() && matches!(b[i], b' ' | b'\t' | b'\r' | b'\n') {
        i += 1;
    }
    i
}

/// The string starting at the quote `i`, and the index after its closing quote.
fn string_at(line: &str, i: usize) -> Result<(Cow<'_, str>, usize), String> {
    let b = line.as_bytes();
    let mut j = i + 1;
    let mut escaped = false;
    // Keys and values are short: a plain loop beats a vectorised search here.
    while j < b.len() {
        match b[j] {
            b'"' => {
                let s = if escaped {
                    Cow::Owned(
                        serde_json::from_str::<String>(&line[i..=j])
                            .map_err(|e| format!("not a JSON event: {e}"))?,
                    )
                } else {
                    Cow::Borrowed(&line[i + 1..j])
                };
                return Ok((s, j + 1));
            }
            b'\\' => {
                escaped = true;
                j += 2;
            }
            _ => j += 1,
        }
    }
    Err("not a JSON event: a string is not closed (cut short?)".into())
}

/// The index after the object or array starting at `i`.
fn nested_end(b: &[u8], i: usize) -> Option<usize> {
    let mut depth = 0usize;
    let mut j = i;
    while j < b.len() {
        match b[j] {
            b'{' | b'[' => depth += 1,
            b'}' | b']' => {
                depth -= 1;
                if depth == 0 {
                    return Some(j + 1);
                }
            }
            b'"' => {
                j += 1;
                while j < b.len() && b[j] != b'"' {
                    if b[j] == b'\\' {
                        j += 1;
                    }
                    j += 1;
                }
            }
            _ => {}
        }
        j += 1;
    }
    None
}

/// The event keys syncward reads, with the aliases other tools use.
#[derive(Clone, Copy)]
enum Slot {
    Ts,
    Run,
    Batch,
    BatchSize,
    Attempt,
    Direction,
    Crm,
    Object,
    Op,
    Record,
    CrmId,
    Status,
    HttpStatus,
    Code,
    Message,
    Field,
    Fields,
    Changed,
    RetryAfter,
}

impl Slot {
    const COUNT: usize = 19;

    fn of(key: &str) -> Option<Slot> {
        Some(match key {
            "ts" | "timestamp" | "time" | "@timestamp" => Slot::Ts,
            "run" | "run_id" | "job" | "job_id" => Slot::Run,
            "batch" | "batch_id" => Slot::Batch,
            "batch_size" => Slot::BatchSize,
            "attempt" | "retry" | "try" => Slot::Attempt,
            "direction" => Slot::Direction,
            "crm" => Slot::Crm,
            "object" | "object_type" | "sobject" | "entity" | "module" => Slot::Object,
            "op" | "operation" | "action" => Slot::Op,
            "record" | "record_id" | "record_key" | "key" | "source_id" => Slot::Record,
            "crm_id" | "crmId" | "target_id" => Slot::CrmId,
            "status" | "result" | "outcome" => Slot::Status,
            "http_status" | "status_code" | "statusCode" | "http" => Slot::HttpStatus,
            "code" | "error_code" | "errorCode" => Slot::Code,
            "message" | "error" | "error_message" | "msg" => Slot::Message,
            "field" => Slot::Field,
            "fields" => Slot::Fields,
            "changed" => Slot::Changed,
            "retry_after" => Slot::RetryAfter,
            _ => return None,
        })
    }
}

/// One syncward event line, or why it is not one.
pub fn parse_event(line: &str, origin: Origin) -> Result<Event<'_>, String> {
    // One pass over the keys into slots (names and their aliases).
    let mut slot: [Option<Val<'_>>; Slot::COUNT] = Default::default();
    scan_object(line, |k, v| {
        if let Some(s) = Slot::of(k) {
            slot[s as usize].get_or_insert(v);
        }
    })?;
    let get = |s: Slot| slot[s as usize].as_ref();
    let text = |s: Slot| get(s).and_then(Val::text);
    let http_status = get(Slot::HttpStatus)
        .and_then(Val::int)
        .and_then(|v| u16::try_from(v).ok());
    let raw_status = get(Slot::Status);
    let status = match raw_status {
        Some(Val::Num(n)) => n.parse::<i64>().ok().map(status_from_http),
        Some(Val::Bool(b)) => Some(if *b { Status::Ok } else { Status::Failed }),
        Some(v) => v.text().and_then(|s| Status::parse_loose(&s)),
        None => None,
    }
    .or_else(|| http_status.map(|h| status_from_http(i64::from(h))));
    let Some(status) = status else {
        return Err(match raw_status.and_then(Val::text) {
            None => "missing \"status\" (ok, failed, partial or skipped)".into(),
            Some(s) => format!("unknown status {s:?} (expected ok, failed, partial or skipped)"),
        });
    };
    let mut ev = Event::new(status, origin);
    ev.http_status = http_status;
    ev.ts = get(Slot::Ts).and_then(|t| match t {
        Val::Num(_) => t
            .int()
            .map(|n| if n < 100_000_000_000 { n * 1000 } else { n }),
        other => other.text().and_then(|s| parse_ts(&s)),
    });
    ev.run = text(Slot::Run);
    ev.batch = text(Slot::Batch);
    ev.batch_size = get(Slot::BatchSize)
        .and_then(Val::int)
        .and_then(|v| u32::try_from(v).ok());
    ev.attempt = get(Slot::Attempt)
        .and_then(Val::int)
        .and_then(|v| u32::try_from(v).ok());
    ev.direction = text(Slot::Direction).and_then(|s| Direction::parse_loose(&s));
    ev.crm = text(Slot::Crm).and_then(|s| Crm::parse_loose(&s));
    ev.object = text(Slot::Object);
    ev.op = text(Slot::Op).and_then(|s| Op::parse_loose(&s));
    ev.record = text(Slot::Record);
    ev.crm_id = text(Slot::CrmId);
    ev.code = text(Slot::Code);
    ev.message = match get(Slot::Message) {
        Some(Val::Nested(n)) => Some(n.clone()),
        Some(v) => v.text(),
        None => None,
    };
    ev.retry_after = get(Slot::RetryAfter)
        .and_then(Val::int)
        .and_then(|v| u32::try_from(v).ok());
    if let Some(f) = text(Slot::Field) {
        ev.fields.push(f);
    }
    match get(Slot::Fields) {
        Some(Val::Nested(list)) => {
            let parsed: Vec<String> = serde_json::from_str(list)
                .map_err(|e| format!("\"fields\" is not a list of names: {e}"))?;
            for f in parsed {
                if !f.is_empty() && !ev.fields.iter().any(|x| *x == f) {
                    ev.fields.push(Cow::Owned(f));
                }
            }
        }
        Some(Val::Str(t)) => {
            for f in t.split([';', ',']).map(str::trim).filter(|f| !f.is_empty()) {
                if !ev.fields.iter().any(|x| x == f) {
                    ev.fields.push(Cow::Owned(f.to_owned()));
                }
            }
        }
        _ => {}
    }
    if let Some(Val::Nested(c)) = get(Slot::Changed) {
        let c: Changed<'_> = serde_json::from_str(c)
            .map_err(|e| format!("\"changed\" is not {{field, from, to, by}}: {e}"))?;
        let own = |v: Option<Cow<'_, str>>| v.map(|s| Cow::Owned(s.into_owned()));
        let c = Changed {
            field: own(c.field),
            from: own(c.from),
            to: own(c.to),
            by: own(c.by),
        };
        if c.field.is_some() || c.by.is_some() || c.to.is_some() {
            ev.changed = Some(c);
        }
    }
    Ok(ev)
}

pub fn status_from_http(code: i64) -> Status {
    match code {
        207 => Status::Partial,
        100..=399 => Status::Ok,
        _ => Status::Failed,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn origin() -> Origin {
        Origin {
            file: Arc::from("t.jsonl"),
            line: 1,
        }
    }

    #[test]
    fn full_event() {
        let line = r#"{"ts":"2026-03-01T10:00:00Z","run":"r2","batch":3,"batch_size":"50","attempt":2,"direction":"bi","crm":"HubSpot","object":"contacts","op":"upsert","record":"a@x.io","crm_id":101,"status":"failed","http_status":400,"code":"INVALID_OPTION","message":"bad","fields":"lifecyclestage;hs_lead_status","extra":{"kept":true}}"#;
        let ev = parse_event(line, origin()).expect("parses");
        assert_eq!(ev.status, Status::Failed);
        assert_eq!(ev.batch.as_deref(), Some("3"));
        assert_eq!(ev.batch_size, Some(50));
        assert_eq!(ev.crm, Some(Crm::Hubspot));
        assert_eq!(ev.crm_id.as_deref(), Some("101"));
        assert_eq!(ev.fields, vec!["lifecyclestage", "hs_lead_status"]);
        assert_eq!(ev.ts, Some(1_772_359_200_000));
    }

    #[test]
    fn only_status_is_required() {
        assert!(parse_event(r#"{"status":"ok"}"#, origin()).is_ok());
        assert_eq!(
            parse_event(r#"{"message":"x"}"#, origin()).unwrap_err(),
            "missing \"status\" (ok, failed, partial or skipped)"
        );
        assert!(
            parse_event(r#"{"status":"weird"}"#, origin())
                .unwrap_err()
                .contains("unknown status")
        );
        assert!(
            parse_event("{not json", origin())
                .unwrap_err()
                .starts_with("not a JSON event")
        );
        // An HTTP status alone is enough.
        assert_eq!(
            parse_event(r#"{"http_status":503}"#, origin()).map(|e| e.status),
            Ok(Status::Failed)
        );
    }

    #[test]
    fn readback_changes() {
        let ev = parse_event(
            r#"{"op":"readback","status":"ok","record":"r1","changed":{"field":"OwnerId","from":"005A","to":"005B","by":"Lead Assignment Rule"}}"#,
            origin(),
        )
        .expect("parses");
        assert!(ev.is_failure());
        assert_eq!(
            ev.changed.and_then(|c| c.by).as_deref(),
            Some("Lead Assignment Rule")
        );
    }
}
