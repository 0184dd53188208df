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
        match parse_event(text, origin) {
            Ok(ev) => sink.event(&ev),
            Err(message) => sink.problem(Problem {
                file: name.clone(),
                line: Some(number),
                message,
            }),
        }
    })
}

/// A value of a flat JSON event, still as text of the line.
#[derive(Debug, Clone, Copy)]
enum Val<'a> {
    /// A string's content between its quotes; `true` when it has escapes.
    Str(&'a str, bool),
    Num(&'a str),
    Bool(bool),
    Null,
    /// A nested object or array, as JSON text.
    Nested(&'a str),
}

impl<'a> Val<'a> {
    fn text(self) -> Option<Cow<'a, str>> {
        match self {
            Val::Str("", _) => None,
            Val::Str(s, false) => Some(Cow::Borrowed(s)),
            // The scanner checked the quotes; a bad escape reads as absent.
            Val::Str(s, true) => unescape(s).filter(|u| !u.is_empty()).map(Cow::Owned),
            Val::Num(n) => Some(Cow::Borrowed(n)),
            Val::Bool(b) => Some(Cow::Borrowed(if b { "true" } else { "false" })),
            Val::Null | Val::Nested(_) => None,
        }
    }

    fn int(self) -> Option<i64> {
        match self {
            Val::Num(n) => parse_int(n).or_else(|| {
                n.parse::<f64>()
                    .ok()
                    .filter(|f| f.is_finite())
                    .map(|f| f as i64)
            }),
            Val::Str(s, _) => parse_int(s.trim()),
            _ => None,
        }
    }
}

/// A plain decimal integer, without the general parser's overhead.
fn parse_int(n: &str) -> Option<i64> {
    let (neg, digits) = match n.as_bytes() {
        [b'-', rest @ ..] => (true, rest),
        rest => (false, rest),
    };
    if digits.is_empty() || digits.len() > 18 {
        return n.parse().ok();
    }
    let mut v: i64 = 0;
    for &d in digits {
        if !d.is_ascii_digit() {
            return None;
        }
        v = v * 10 + i64::from(d - b'0');
    }
    Some(if neg { -v } else { v })
}

fn unescape(raw: &str) -> Option<String> {
    serde_json::from_str::<String>(&format!("\"{raw}\"")).ok()
}

/// Why a line is not a JSON event, and where (a 0-based byte offset).
#[derive(Debug, Clone, Copy)]
enum Bad {
    NotObject,
    TextAfter,
    Separator(usize),
    Key(usize),
    Colon(usize),
    Value(usize),
    OpenString,
    OpenNested,
}

impl Bad {
    #[cold]
    fn message(self, line: &str) -> String {
        let what = match self {
            Bad::NotObject => {
                return format!(
                    "not a JSON event: expected an object, found {:?}",
                    line.chars().next().unwrap_or(' ')
                );
            }
            Bad::TextAfter => return "not a JSON event: text after the closing brace".into(),
            Bad::OpenString => {
                return "not a JSON event: a string is not closed (cut short?)".into();
            }
            Bad::OpenNested => {
                return "not a JSON event: a nested value is not closed (cut short?)".into();
            }
            Bad::Separator(i) => ("',' or '}'", i),
            Bad::Key(i) => ("a key", i),
            Bad::Colon(i) => ("':'", i),
            Bad::Value(i) => ("a value", i),
        };
        format!(
            "not a JSON event: expected {} at column {}",
            what.0,
            what.1 + 1
        )
    }
}

/// The values of the keys syncward reads, in their slots (the first of a
/// key and its aliases wins). A hand-written scanner for the flat objects
/// syncward writes: one pass, no allocation; nested values are kept as text
/// for `serde_json`. It exists because parsing is most of `diagnose`'s time
/// on large logs (bench/RESULTS.md).
fn scan_object<'a>(line: &'a str, slots: &mut [Option<Val<'a>>; Slot::COUNT]) -> Result<(), Bad> {
    let b = line.as_bytes();
    let mut i = skip_ws(b, 0);
    if b.get(i) != Some(&b'{') {
        return Err(Bad::NotObject);
    }
    i = skip_ws(b, i + 1);
    if b.get(i) == Some(&b'}') {
        return end_of_object(b, i);
    }
    loop {
        if b.get(i) != Some(&b'"') {
            return Err(Bad::Key(i));
        }
        let (key_end, key_escaped) = string_end(b, i).ok_or(Bad::OpenString)?;
        // Keys with escapes or over 16 bytes are not ours.
        let slot = if key_escaped {
            None
        } else {
            key_word_at(b, i + 1, key_end - 1).and_then(Slot::of)
        };
        i = skip_ws(b, key_end);
        if b.get(i) != Some(&b':') {
            return Err(Bad::Colon(i));
        }
        i = skip_ws(b, i + 1);
        let (val, next) = match b.get(i) {
            Some(b'"') => {
                let (end, escaped) = string_end(b, i).ok_or(Bad::OpenString)?;
                (Val::Str(&line[i + 1..end - 1], escaped), end)
            }
            Some(c) if c.is_ascii_digit() || *c == b'-' => {
                let mut end = i + 1;
                while end < b.len()
                    && matches!(b[end], b'0'..=b'9' | b'.' | b'e' | b'E' | b'+' | b'-')
                {
                    end += 1;
                }
                (Val::Num(&line[i..end]), end)
            }
            Some(b'{' | b'[') => {
                let end = nested_end(b, i).ok_or(Bad::OpenNested)?;
                (Val::Nested(&line[i..end]), end)
            }
            Some(b't') if b[i..].starts_with(b"true") => (Val::Bool(true), i + 4),
            Some(b'f') if b[i..].starts_with(b"false") => (Val::Bool(false), i + 5),
            Some(b'n') if b[i..].starts_with(b"null") => (Val::Null, i + 4),
            _ => return Err(Bad::Value(i)),
        };
        if let Some(s) = slot {
            slots[s as usize].get_or_insert(val);
        }
        i = skip_ws(b, next);
        match b.get(i) {
            Some(b',') => i = skip_ws(b, i + 1),
            Some(b'}') => return end_of_object(b, i),
            _ => return Err(Bad::Separator(i)),
        }
    }
}

/// Only blanks may follow the closing brace at `i`.
fn end_of_object(b: &[u8], i: usize) -> Result<(), Bad> {
    if skip_ws(b, i + 1) == b.len() {
        Ok(())
    } else {
        Err(Bad::TextAfter)
    }
}

/// The key in `b[start..end]` as a word (see [`key_word`]), read straight
/// from the line when 16 bytes are there.
#[inline(always)]
fn key_word_at(b: &[u8], start: usize, end: usize) -> Option<u128> {
    let len = end - start;
    if len > 16 {
        return None;
    }
    match b.get(start..).and_then(<[u8]>::first_chunk::<16>) {
        Some(bytes) => {
            let mask = if len == 16 {
                !0
            } else {
                (1u128 << (len * 8)) - 1
            };
            Some(u128::from_le_bytes(*bytes) & mask)
        }
        None => key_word(&b[start..end]),
    }
}

#[inline(always)]
fn skip_ws(b: &[u8], mut i: usize) -> usize {
    while let Some(b' ' | b'\t' | b'\r' | b'\n') = b.get(i) {
        i += 1;
    }
    i
}

/// For the string whose opening quote is at `i`: the index after its
/// closing quote, and whether it has escapes.
#[inline(always)]
fn string_end(b: &[u8], i: usize) -> Option<(usize, bool)> {
    let mut j = i + 1;
    let mut escaped = false;
    loop {
        j = quote_or_backslash(b, j);
        match b.get(j)? {
            b'"' => return Some((j + 1, escaped)),
            _ => {
                escaped = true;
                j += 2;
            }
        }
    }
}

/// The index of the first `"` or `\\` at or after `j` (or the length),
/// eight bytes at a time: the classic "has a zero byte" test on a word.
#[inline(always)]
fn quote_or_backslash(b: &[u8], mut j: usize) -> usize {
    const ONES: u64 = 0x0101_0101_0101_0101;
    const HIGH: u64 = 0x8080_8080_8080_8080;
    while let Some(word) = b.get(j..).and_then(<[u8]>::first_chunk::<8>) {
        let x = u64::from_le_bytes(*word);
        let q = x ^ (ONES * u64::from(b'"'));
        let s = x ^ (ONES * u64::from(b'\\'));
        let hits = (q.wrapping_sub(ONES) & !q | s.wrapping_sub(ONES) & !s) & HIGH;
        if hits != 0 {
            // Only bytes above the first hit can be false positives.
            return j + (hits.trailing_zeros() / 8) as usize;
        }
        j += 8;
    }
    while j < b.len() && b[j] != b'"' && b[j] != b'\\' {
        j += 1;
    }
    j
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

/// The event fields syncward reads.
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

    /// The slot of a key: one probe, mostly, in a table built at compile
    /// time (this runs ~15 times per event on large logs).
    fn of(word: u128) -> Option<Slot> {
        let mut i = key_hash(word);
        loop {
            match KEY_TABLE[i] {
                Some((w, slot)) if w == word => return Some(slot),
                Some(_) => i = (i + 1) % KEY_TABLE.len(),
                None => return None,
            }
        }
    }
}

/// The keys syncward reads, with the aliases other tools use.
const KEYS: &[(Slot, &[&[u8]])] = &[
    (Slot::Ts, &[b"ts", b"timestamp", b"time", b"@timestamp"]),
    (Slot::Run, &[b"run", b"run_id", b"job", b"job_id"]),
    (Slot::Batch, &[b"batch", b"batch_id"]),
    (Slot::BatchSize, &[b"batch_size"]),
    (Slot::Attempt, &[b"attempt", b"retry", b"try"]),
    (Slot::Direction, &[b"direction"]),
    (Slot::Crm, &[b"crm"]),
    (
        Slot::Object,
        &[b"object", b"object_type", b"sobject", b"entity", b"module"],
    ),
    (Slot::Op, &[b"op", b"operation", b"action"]),
    (
        Slot::Record,
        &[b"record", b"record_id", b"record_key", b"key", b"source_id"],
    ),
    (Slot::CrmId, &[b"crm_id", b"crmId", b"target_id"]),
    (Slot::Status, &[b"status", b"result", b"outcome"]),
    (
        Slot::HttpStatus,
        &[b"http_status", b"status_code", b"statusCode", b"http"],
    ),
    (Slot::Code, &[b"code", b"error_code", b"errorCode"]),
    (
        Slot::Message,
        &[b"message", b"error", b"error_message", b"msg"],
    ),
    (Slot::Field, &[b"field"]),
    (Slot::Fields, &[b"fields"]),
    (Slot::Changed, &[b"changed"]),
    (Slot::RetryAfter, &[b"retry_after"]),
];

/// A key of at most 16 bytes as one zero-padded word (keys have no NUL).
const fn key_word(key: &[u8]) -> Option<u128> {
    if key.len() > 16 {
        return None;
    }
    let mut word = [0u8; 16];
    let mut i = 0;
    while i < key.len() {
        word[i] = key[i];
        i += 1;
    }
    Some(u128::from_le_bytes(word))
}

const fn key_hash(word: u128) -> usize {
    let folded = (word as u64) ^ ((word >> 64) as u64).rotate_left(29);
    (folded.wrapping_mul(0x9e37_79b9_7f4a_7c15) >> 57) as usize
}

/// Open addressing over 128 places for the 50 keys, built by the compiler.
const KEY_TABLE: [Option<(u128, Slot)>; 128] = {
    let mut table: [Option<(u128, Slot)>; 128] = [None; 128];
    let mut s = 0;
    while s < KEYS.len() {
        let mut k = 0;
        while k < KEYS[s].1.len() {
            let Some(word) = key_word(KEYS[s].1[k]) else {
                panic!("a key longer than 16 bytes");
            };
            let mut i = key_hash(word);
            while table[i].is_some() {
                i = (i + 1) % 128;
            }
            table[i] = Some((word, KEYS[s].0));
            k += 1;
        }
        s += 1;
    }
    table
};

/// One syncward event line, or why it is not one.
pub fn parse_event(line: &str, origin: Origin) -> Result<Event<'_>, String> {
    // One pass over the keys into slots (names and their aliases).
    let mut slot: [Option<Val<'_>>; Slot::COUNT] = Default::default();
    scan_object(line, &mut slot).map_err(|bad| bad.message(line))?;
    let get = |s: Slot| slot[s as usize];
    let text = |s: Slot| get(s).and_then(Val::text);
    let http_status = get(Slot::HttpStatus)
        .and_then(Val::int)
        .and_then(|v| u16::try_from(v).ok());
    let raw_status = get(Slot::Status);
    let status = match raw_status {
        Some(Val::Num(n)) => parse_int(n).map(status_from_http),
        Some(Val::Bool(b)) => Some(if b { Status::Ok } else { Status::Failed }),
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
        Some(Val::Nested(n)) => Some(Cow::Borrowed(n)),
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
        Some(v @ Val::Str(..)) => {
            let t = v.text().unwrap_or_default();
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

    #[test]
    fn every_alias_finds_its_slot() {
        for (slot, names) in KEYS {
            for name in *names {
                let word = key_word(name).expect("short key");
                assert_eq!(
                    Slot::of(word).map(|s| s as usize),
                    Some(*slot as usize),
                    "{}",
                    String::from_utf8_lossy(name)
                );
            }
        }
        let unknown = key_word(b"statuses").expect("short key");
        assert!(Slot::of(unknown).is_none());
        // A key read from the middle of a line is masked to its length.
        let line = br#"{"record":"a","recordx":"b"}"#;
        assert_eq!(key_word_at(line, 2, 8), key_word(b"record"));
    }

    #[test]
    fn escapes_and_spacing() {
        let ev = parse_event(
            "  { \"status\" : \"failed\" , \"record\":\"a\\\"b\\\\c\",\"message\":\"caf\\u00e9 \\\"x\\\"\", \"odd\\u0020key\":1 }  ",
            origin(),
        )
        .expect("parses");
        assert_eq!(ev.record.as_deref(), Some("a\"b\\c"));
        assert_eq!(ev.message.as_deref(), Some("café \"x\""));
        for cut in [
            r#"{"status":"ok","record":"abc"#,
            r#"{"status":"ok","record":"abc\"}"#,
            r#"{"status":"ok""#,
            r#"{"status":"ok",}"#,
            r#"{"status":"ok"} x"#,
        ] {
            assert!(
                parse_event(cut, origin())
                    .unwrap_err()
                    .starts_with("not a JSON event"),
                "{cut}"
            );
        }
    }

    proptest::proptest! {
        /// Whatever the strings hold (quotes, backslashes, any Unicode, any
        /// length around the scanner's 8-byte steps), the scanner reads what
        /// a JSON writer wrote.
        #[test]
        fn reads_what_serde_json_writes(
            record in "\\PC{0,40}",
            message in "[a-z\"\\\\é ]{0,30}",
            pad in "[a-z]{0,9}",
            batch in 0u32..100_000,
        ) {
            let line = serde_json::json!({
                "pad": pad,
                "status": "failed",
                "record": record,
                "batch": batch,
                "message": message,
            })
            .to_string();
            let ev = parse_event(&line, origin()).expect("parses");
            let none_if_empty = |s: &str| (!s.is_empty()).then(|| s.to_owned());
            proptest::prop_assert_eq!(ev.record.as_deref().map(str::to_owned), none_if_empty(&record));
            proptest::prop_assert_eq!(ev.message.as_deref().map(str::to_owned), none_if_empty(&message));
            let batch_text = batch.to_string();
            proptest::prop_assert_eq!(ev.batch.as_deref(), Some(batch_text.as_str()));
        }
    }
}
