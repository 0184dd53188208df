//! syncward events as JSON Lines (DESIGN.md §3.1). Only `status` is
//! required; unknown keys are accepted and ignored; strings and numbers are
//! taken where either is reasonable.

use crate::loose::Loose;
use crate::source::Input;
use crate::{IngestError, LineReader, Problem, Sink};
use serde::Deserialize;
use std::borrow::Cow;
use std::sync::Arc;
use syncward_core::event::{Changed, Direction, Op, Status, parse_ts};
use syncward_core::{Crm, Event, Origin};

#[derive(Deserialize)]
struct Raw<'a> {
    #[serde(
        borrow,
        default,
        alias = "timestamp",
        alias = "time",
        alias = "@timestamp"
    )]
    ts: Option<Loose<'a>>,
    #[serde(borrow, default, alias = "run_id", alias = "job", alias = "job_id")]
    run: Option<Loose<'a>>,
    #[serde(borrow, default, alias = "batch_id")]
    batch: Option<Loose<'a>>,
    #[serde(borrow, default)]
    batch_size: Option<Loose<'a>>,
    #[serde(borrow, default, alias = "retry", alias = "try")]
    attempt: Option<Loose<'a>>,
    #[serde(borrow, default)]
    direction: Option<Loose<'a>>,
    #[serde(borrow, default)]
    crm: Option<Loose<'a>>,
    #[serde(
        borrow,
        default,
        alias = "object_type",
        alias = "sobject",
        alias = "entity",
        alias = "module"
    )]
    object: Option<Loose<'a>>,
    #[serde(borrow, default, alias = "operation", alias = "action")]
    op: Option<Loose<'a>>,
    #[serde(
        borrow,
        default,
        alias = "record_id",
        alias = "record_key",
        alias = "key",
        alias = "source_id"
    )]
    record: Option<Loose<'a>>,
    #[serde(borrow, default, alias = "crmId", alias = "target_id")]
    crm_id: Option<Loose<'a>>,
    #[serde(borrow, default, alias = "result", alias = "outcome")]
    status: Option<Loose<'a>>,
    #[serde(
        borrow,
        default,
        alias = "status_code",
        alias = "statusCode",
        alias = "http"
    )]
    http_status: Option<Loose<'a>>,
    #[serde(borrow, default, alias = "error_code", alias = "errorCode")]
    code: Option<Loose<'a>>,
    #[serde(
        borrow,
        default,
        alias = "error",
        alias = "error_message",
        alias = "msg"
    )]
    message: Option<Loose<'a>>,
    #[serde(borrow, default)]
    field: Option<Loose<'a>>,
    #[serde(borrow, default)]
    fields: Option<FieldList<'a>>,
    #[serde(borrow, default)]
    changed: Option<Changed<'a>>,
    #[serde(borrow, default)]
    retry_after: Option<Loose<'a>>,
}

/// `fields` as a JSON list or a `;`/`,`-separated string.
#[derive(Deserialize)]
#[serde(untagged)]
enum FieldList<'a> {
    List(#[serde(borrow)] Vec<Cow<'a, str>>),
    Text(#[serde(borrow)] Cow<'a, str>),
}

pub fn read_jsonl(reader: Input, name: &Arc<str>, sink: &mut dyn Sink) -> Result<(), IngestError> {
    let mut lines = LineReader::new(reader);
    loop {
        let line = match lines.next_line() {
            Ok(Some(l)) => l,
            Ok(None) => return Ok(()),
            Err(source) => {
                return Err(IngestError::Read {
                    file: name.to_string(),
                    line: 0,
                    source,
                });
            }
        };
        let origin = Origin {
            file: name.clone(),
            line: line.number,
        };
        let text = match line.text {
            Ok(t) => t,
            Err(e) => {
                sink.problem(Problem {
                    file: name.clone(),
                    line: Some(line.number),
                    message: e.to_string(),
                });
                continue;
            }
        };
        let trimmed = text.trim();
        if trimmed.is_empty() {
            continue;
        }
        match parse_event(trimmed, origin) {
            Ok(ev) => sink.event(&ev),
            Err(message) => sink.problem(Problem {
                file: name.clone(),
                line: Some(line.number),
                message,
            }),
        }
    }
}

/// One syncward event line, or why it is not one.
pub fn parse_event(line: &str, origin: Origin) -> Result<Event<'_>, String> {
    let raw: Raw<'_> = serde_json::from_str(line).map_err(|e| format!("not a JSON event: {e}"))?;
    let http_status = raw
        .http_status
        .as_ref()
        .and_then(Loose::as_i64)
        .and_then(|v| u16::try_from(v).ok());
    let status = match &raw.status {
        Some(Loose::Int(n)) => Some(status_from_http(*n)),
        Some(Loose::Bool(b)) => Some(if *b { Status::Ok } else { Status::Failed }),
        Some(s) => s.as_str().and_then(|s| Status::parse_loose(&s)),
        None => None,
    }
    .or_else(|| http_status.map(|h| status_from_http(i64::from(h))));
    let Some(status) = status else {
        return Err(match raw.status {
            None => "missing \"status\" (ok, failed, partial or skipped)".into(),
            Some(s) => format!(
                "unknown status {:?} (expected ok, failed, partial or skipped)",
                s.as_str().unwrap_or_default()
            ),
        });
    };
    let mut ev = Event::new(status, origin);
    ev.http_status = http_status;
    ev.ts = raw.ts.as_ref().and_then(|t| match t {
        Loose::Int(n) => Some(if *n < 100_000_000_000 { n * 1000 } else { *n }),
        Loose::Float(f) => Some((*f * if *f < 1e11 { 1000.0 } else { 1.0 }) as i64),
        other => other.as_str().and_then(|s| parse_ts(&s)),
    });
    ev.run = raw.run.and_then(|v| v.as_str());
    ev.batch = raw.batch.and_then(|v| v.as_str());
    ev.batch_size = raw.batch_size.as_ref().and_then(Loose::as_u32);
    ev.attempt = raw.attempt.as_ref().and_then(Loose::as_u32);
    ev.direction = raw
        .direction
        .and_then(|v| v.as_str())
        .and_then(|s| Direction::parse_loose(&s));
    ev.crm = raw
        .crm
        .and_then(|v| v.as_str())
        .and_then(|s| Crm::parse_loose(&s));
    ev.object = raw.object.and_then(|v| v.as_str());
    ev.op = raw
        .op
        .and_then(|v| v.as_str())
        .and_then(|s| Op::parse_loose(&s));
    ev.record = raw.record.and_then(|v| v.as_str());
    ev.crm_id = raw.crm_id.and_then(|v| v.as_str());
    ev.code = raw.code.and_then(|v| v.as_str());
    ev.message = raw.message.and_then(|v| v.as_str());
    ev.retry_after = raw.retry_after.as_ref().and_then(Loose::as_u32);
    if let Some(f) = raw.field.and_then(|v| v.as_str()) {
        ev.fields.push(f);
    }
    match raw.fields {
        Some(FieldList::List(list)) => {
            for f in list {
                if !f.is_empty() && !ev.fields.contains(&f) {
                    ev.fields.push(f);
                }
            }
        }
        Some(FieldList::Text(t)) => {
            for f in t.split([';', ',']).map(str::trim).filter(|f| !f.is_empty()) {
                if !ev.fields.iter().any(|x| x == f) {
                    ev.fields.push(Cow::Owned(f.to_owned()));
                }
            }
        }
        None => {}
    }
    ev.changed = raw
        .changed
        .filter(|c| c.field.is_some() || c.by.is_some() || c.to.is_some());
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
