//! HTTP exchange logs (JSON Lines `{ts, method, url, status, headers?,
//! request?, response}`) and HAR 1.2 files. Each response is read the way its
//! vendor writes it, found from the URL: HubSpot CRM v3, Salesforce REST,
//! Zoho, Dataverse, Pipedrive, OAuth token endpoints. A batch response
//! becomes one event per record.

use crate::source::Input;
use crate::{IngestError, Problem, Sink};
use serde::Deserialize;
use serde::de::{self, DeserializeSeed, IgnoredAny, MapAccess, SeqAccess, Visitor};
use serde_json::Value;
use std::borrow::Cow;
use std::fmt;
use std::sync::Arc;
use syncward_core::event::{Op, Status, parse_ts, positional_key};
use syncward_core::{Crm, Event, Origin};

/// One API call, whatever log it came from.
#[derive(Debug, Default)]
pub struct Exchange {
    pub ts: Option<i64>,
    pub method: String,
    pub url: String,
    pub status: u16,
    pub retry_after: Option<u32>,
    pub request: Option<Value>,
    pub response: Option<Value>,
}

pub fn read_jsonl(reader: Input, name: &Arc<str>, sink: &mut dyn Sink) -> Result<(), IngestError> {
    crate::each_line(reader, name, sink, |text, number, sink| {
        let origin = Origin {
            file: name.clone(),
            line: number,
        };
        match parse_exchange_line(text) {
            Ok(ex) => interpret(&ex, &origin, sink),
            Err(message) => sink.problem(Problem {
                file: name.clone(),
                line: Some(number),
                message,
            }),
        }
    })
}

fn parse_exchange_line(text: &str) -> Result<Exchange, String> {
    let v: Value = serde_json::from_str(text).map_err(|e| format!("not a JSON exchange: {e}"))?;
    let Value::Object(obj) = v else {
        return Err("not a JSON object".into());
    };
    let url = obj
        .get("url")
        .and_then(Value::as_str)
        .ok_or("missing \"url\"")?
        .to_owned();
    let status = obj
        .get("status")
        .and_then(|s| {
            s.as_u64()
                .or_else(|| s.as_str().and_then(|x| x.trim().parse().ok()))
        })
        .and_then(|s| u16::try_from(s).ok())
        .ok_or("missing or invalid \"status\" (the HTTP status code)")?;
    let ts = obj.get("ts").and_then(|t| match t {
        Value::Number(n) => n
            .as_i64()
            .map(|n| if n < 100_000_000_000 { n * 1000 } else { n }),
        Value::String(s) => parse_ts(s),
        _ => None,
    });
    let headers = obj.get("headers");
    let retry_after = headers
        .and_then(|h| header(h, "retry-after"))
        .and_then(|v| v.trim().parse().ok());
    Ok(Exchange {
        ts,
        method: obj
            .get("method")
            .and_then(Value::as_str)
            .unwrap_or("GET")
            .to_ascii_uppercase(),
        url,
        status,
        retry_after,
        request: obj.get("request").map(body),
        response: obj.get("response").map(body),
    })
}

/// A header by name, case-insensitively, from a map, a list of
/// `{name, value}`, or `{request: ..., response: ...}`.
fn header<'v>(h: &'v Value, name: &str) -> Option<&'v str> {
    match h {
        Value::Object(m) => {
            for (k, v) in m {
                if k.eq_ignore_ascii_case(name) {
                    return v.as_str();
                }
            }
            m.get("response").and_then(|r| header(r, name))
        }
        Value::Array(list) => list.iter().find_map(|item| {
            let n = item.get("name")?.as_str()?;
            if n.eq_ignore_ascii_case(name) {
                item.get("value")?.as_str()
            } else {
                None
            }
        }),
        _ => None,
    }
}

/// A body given as JSON, or as a string that may hold JSON.
fn body(v: &Value) -> Value {
    match v {
        Value::String(s) => serde_json::from_str(s).unwrap_or_else(|_| v.clone()),
        other => other.clone(),
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Vendor {
    Hubspot,
    Salesforce,
    Zoho,
    Dynamics,
    Pipedrive,
    Other,
}

struct Url<'a> {
    host: &'a str,
    path: &'a str,
    query: &'a str,
}

fn split_url(url: &str) -> Url<'_> {
    let rest = url.split_once("://").map_or(url, |(_, r)| r);
    let (host, path_q) = if url.contains("://") {
        rest.split_once('/').map_or((rest, ""), |(h, p)| (h, p))
    } else {
        ("", rest.trim_start_matches('/'))
    };
    let (path, query) = path_q.split_once('?').unwrap_or((path_q, ""));
    Url { host, path, query }
}

fn vendor_of(u: &Url<'_>, response: Option<&Value>) -> Vendor {
    let host = u.host.to_ascii_lowercase();
    let path = u.path;
    if host.contains("hubapi.com")
        || host.contains("hubspot.com")
        || path.starts_with("crm/v3/objects")
        || path.starts_with("crm/v3/properties")
        || path.starts_with("crm/v4/")
        || path.starts_with("oauth/v1/")
        || path.starts_with("oauth/v2/private-apps")
    {
        Vendor::Hubspot
    } else if path.contains("services/data/")
        || path.contains("services/oauth2/")
        || host.contains("salesforce.com")
        || host.contains("force.com")
    {
        Vendor::Salesforce
    } else if host.contains("zoho")
        || path
            .split('/')
            .nth(2)
            .is_some_and(|m| m.chars().next().is_some_and(char::is_uppercase))
            && path.starts_with("crm/v")
    {
        Vendor::Zoho
    } else if path.starts_with("api/data/v")
        || host.contains("dynamics.com")
        || host.contains("crm.microsoft")
    {
        Vendor::Dynamics
    } else if host.contains("pipedrive.com")
        || response.is_some_and(|r| r.get("success").is_some_and(Value::is_boolean))
    {
        Vendor::Pipedrive
    } else {
        Vendor::Other
    }
}

fn crm_of(v: Vendor) -> Option<Crm> {
    match v {
        Vendor::Hubspot => Some(Crm::Hubspot),
        Vendor::Salesforce => Some(Crm::Salesforce),
        Vendor::Zoho => Some(Crm::Zoho),
        Vendor::Dynamics => Some(Crm::Dynamics),
        Vendor::Pipedrive => Some(Crm::Pipedrive),
        Vendor::Other => None,
    }
}

fn status_of(code: u16) -> Status {
    match code {
        207 => Status::Partial,
        100..=399 => Status::Ok,
        _ => Status::Failed,
    }
}

fn text(v: &Value) -> String {
    match v {
        Value::String(s) => s.clone(),
        Value::Null => String::new(),
        other => other.to_string(),
    }
}

fn s(v: Option<&Value>) -> Option<String> {
    v.and_then(|x| match x {
        Value::String(s) if !s.is_empty() => Some(s.clone()),
        Value::Number(n) => Some(n.to_string()),
        _ => None,
    })
}

/// Builds the events of one exchange and sends them to the sink.
pub fn interpret(ex: &Exchange, origin: &Origin, sink: &mut dyn Sink) {
    let u = split_url(&ex.url);
    let vendor = vendor_of(&u, ex.response.as_ref());
    let crm = crm_of(vendor);
    let base = |status: Status| {
        let mut ev = Event::new(status, origin.clone());
        ev.ts = ex.ts;
        ev.crm = crm;
        ev.http_status = Some(ex.status);
        ev.retry_after = ex.retry_after;
        ev
    };
    let path = u.path.trim_end_matches('/');
    let segs: Vec<&str> = path.split('/').filter(|s| !s.is_empty()).collect();

    // OAuth token endpoints: a login or a refresh (a reconnect).
    if path.ends_with("token")
        && (path.contains("oauth") || path.contains("token"))
        && !path.contains("introspect")
    {
        let refresh = ex
            .request
            .as_ref()
            .map(text)
            .unwrap_or_default()
            .contains("refresh_token")
            || u.query.contains("refresh_token");
        // Some token endpoints (Zoho's among them) answer 200 with an
        // `error` body and no token: the login failed all the same.
        let refused = ex.status >= 400
            || ex
                .response
                .as_ref()
                .is_some_and(|r| s(r.get("error")).is_some() && r.get("access_token").is_none());
        let mut ev = base(if refused {
            Status::Failed
        } else {
            status_of(ex.status)
        });
        ev.op = Some(if refresh { Op::Reconnect } else { Op::Auth });
        if refused {
            ev.message = Some(Cow::Owned(response_text(ex)));
            ev.code = ex
                .response
                .as_ref()
                .and_then(|r| s(r.get("error")))
                .map(Cow::Owned);
        }
        sink.event(&ev);
        return;
    }

    match vendor {
        Vendor::Hubspot => hubspot(ex, &segs, u.query, origin, &base, sink),
        Vendor::Salesforce => salesforce(ex, &segs, origin, &base, sink),
        Vendor::Zoho => zoho(ex, &segs, &base, sink),
        Vendor::Dynamics => {
            let table = segs.iter().skip_while(|s| !s.starts_with('v')).nth(1);
            // `contacts(<guid>)` or an alternate key `contacts(emailaddress1='a@b.io')`.
            let in_url = table
                .and_then(|t| t.split_once('('))
                .map(|(_, k)| k.trim_end_matches(')'))
                .map(|k| k.rsplit('=').next().unwrap_or(k).trim_matches('\''))
                .filter(|k| !k.is_empty())
                .map(str::to_owned);
            single(
                ex,
                table.map(|s| s.split('(').next().unwrap_or(s)),
                in_url.or_else(|| request_key(ex.request.as_ref())),
                &base,
                sink,
            )
        }
        Vendor::Pipedrive => {
            let object = segs
                .iter()
                .skip_while(|s| !s.starts_with('v'))
                .nth(1)
                .copied();
            let mut ev = base(status_of(ex.status));
            if ex
                .response
                .as_ref()
                .and_then(|r| r.get("success"))
                .and_then(Value::as_bool)
                == Some(false)
            {
                ev.status = Status::Failed;
            }
            ev.object = object.map(|o| Cow::Owned(o.to_owned()));
            ev.op = Some(op_of_method(&ex.method));
            ev.record = request_key(ex.request.as_ref()).map(Cow::Owned);
            if ev.status.is_failure() {
                let r = ex.response.as_ref();
                ev.message = Some(Cow::Owned(
                    r.and_then(|r| s(r.get("error")))
                        .unwrap_or_else(|| response_text(ex)),
                ));
                ev.code = r.and_then(|r| s(r.get("code"))).map(Cow::Owned);
            }
            ev.crm_id = ex
                .response
                .as_ref()
                .and_then(|r| r.get("data"))
                .and_then(|d| s(d.get("id")))
                .map(Cow::Owned);
            sink.event(&ev);
        }
        Vendor::Other => single(ex, None, request_key(ex.request.as_ref()), &base, sink),
    }
}

/// The record's key in a single-record request body: its email where it has
/// one (Dataverse's `emailaddress1`, Pipedrive's list of `{value}`), else
/// its name or title.
fn request_key(req: Option<&Value>) -> Option<String> {
    const KEYS: &[&str] = &[
        "email",
        "emailaddress1",
        "email_address",
        "external_id",
        "externalid",
        "name",
        "fullname",
        "lastname",
        "last_name",
        "title",
    ];
    let Value::Object(map) = req? else {
        return None;
    };
    let value_of = |v: &Value| match v {
        Value::Array(items) => items
            .first()
            .and_then(|i| s(i.get("value")).or_else(|| s(Some(i)))),
        other => s(Some(other)),
    };
    KEYS.iter().find_map(|want| {
        map.iter()
            .find(|(k, _)| k.eq_ignore_ascii_case(want))
            .and_then(|(_, v)| value_of(v))
            .filter(|v| !v.trim().is_empty())
    })
}

fn op_of_method(m: &str) -> Op {
    match m {
        "POST" => Op::Create,
        "PATCH" | "PUT" => Op::Update,
        "DELETE" => Op::Delete,
        _ => Op::Read,
    }
}

fn response_text(ex: &Exchange) -> String {
    let t = ex.response.as_ref().map(text).unwrap_or_default();
    if t.is_empty() {
        format!("HTTP {}", ex.status)
    } else {
        t
    }
}

fn single(
    ex: &Exchange,
    object: Option<&str>,
    record: Option<String>,
    base: &dyn Fn(Status) -> Event<'static>,
    sink: &mut dyn Sink,
) {
    let mut ev = base(status_of(ex.status));
    ev.object = object.map(|o| Cow::Owned(o.to_owned()));
    ev.op = Some(op_of_method(&ex.method));
    ev.record = record.map(Cow::Owned);
    if ev.status.is_failure() {
        ev.message = Some(Cow::Owned(response_text(ex)));
    }
    sink.event(&ev);
}

fn hubspot(
    ex: &Exchange,
    segs: &[&str],
    query: &str,
    origin: &Origin,
    base: &dyn Fn(Status) -> Event<'static>,
    sink: &mut dyn Sink,
) {
    // crm/v3/objects/{object}[/batch/{action} | /{id}] ; crm/v3/properties/{object}
    let object = segs.get(3).copied();
    let is_batch = segs.get(4) == Some(&"batch");
    let action = if is_batch { segs.get(5).copied() } else { None };
    let resp = ex.response.as_ref();
    let req = ex.request.as_ref();
    if segs.get(2) == Some(&"properties")
        || action == Some("read")
        || (ex.method == "GET" && !is_batch)
    {
        let mut ev = base(status_of(ex.status));
        ev.object = object.map(|o| Cow::Owned(o.to_owned()));
        ev.op = Some(Op::Read);
        if ev.status.is_failure() {
            ev.message = Some(Cow::Owned(response_text(ex)));
            ev.code = resp.and_then(|r| s(r.get("category"))).map(Cow::Owned);
        }
        sink.event(&ev);
        return;
    }
    let op = match action {
        Some("create") => Op::Create,
        Some("update") => Op::Update,
        Some("upsert") => Op::Upsert,
        Some("archive") => Op::Delete,
        _ => op_of_method(&ex.method),
    };
    let id_property = query
        .split('&')
        .find_map(|kv| kv.strip_prefix("idProperty="))
        .map(str::to_owned);
    let inputs: Vec<&Value> = req
        .and_then(|r| r.get("inputs"))
        .and_then(Value::as_array)
        .map(|a| a.iter().collect())
        .unwrap_or_default();
    let key_of = |input: &Value, i: usize| -> String {
        let prop = input
            .get("idProperty")
            .and_then(Value::as_str)
            .map(str::to_owned)
            .or_else(|| id_property.clone());
        if let Some(p) = &prop
            && let Some(v) = input.get("properties").and_then(|ps| s(ps.get(p)))
        {
            return v;
        }
        s(input.get("id"))
            .or_else(|| input.get("properties").and_then(|ps| s(ps.get("email"))))
            .or_else(|| s(input.get("objectWriteTraceId")))
            .unwrap_or_else(|| format!("input {}", i + 1))
    };
    let batch_id = format!("{}:{}", origin.file, origin.line);
    let make = |status: Status| {
        let mut ev = base(status);
        ev.object = object.map(|o| Cow::Owned(o.to_owned()));
        ev.op = Some(op);
        if is_batch {
            ev.batch = Some(Cow::Owned(batch_id.clone()));
            ev.batch_size = u32::try_from(inputs.len()).ok().filter(|n| *n > 0);
        }
        ev
    };

    if !is_batch {
        // Single create / update.
        let mut ev = make(status_of(ex.status));
        let single_input = req.cloned().unwrap_or(Value::Null);
        ev.record = Some(Cow::Owned(
            segs.get(4)
                .map(|s| (*s).to_owned())
                .unwrap_or_else(|| key_of(&single_input, 0)),
        ));
        ev.crm_id = resp.and_then(|r| s(r.get("id"))).map(Cow::Owned);
        if ev.status.is_failure() {
            fill_hubspot_error(&mut ev, resp.unwrap_or(&Value::Null));
        }
        sink.event(&ev);
        return;
    }

    if ex.status >= 400 {
        // The whole batch was rejected. HubSpot fails every input for one
        // bad one: where the error names the bad values, those inputs carry
        // the error and the rest failed only because they shared the batch.
        let body = resp.unwrap_or(&Value::Null);
        if inputs.is_empty() {
            let mut ev = make(Status::Failed);
            fill_hubspot_error(&mut ev, body);
            sink.event(&ev);
        }
        let culprits = hubspot_culprits(body, &inputs);
        for (i, input) in inputs.iter().enumerate() {
            let mut ev = make(Status::Failed);
            ev.record = Some(Cow::Owned(key_of(input, i)));
            if culprits.as_ref().is_none_or(|c| c[i]) {
                fill_hubspot_error(&mut ev, body);
            } else {
                ev.code = Some(Cow::Borrowed(BATCH_REJECTED));
                ev.message = Some(Cow::Borrowed(
                    "BATCH_REJECTED: not written because another input of the same batch was invalid (HubSpot rejects the whole batch for one bad input)",
                ));
            }
            sink.event(&ev);
        }
        return;
    }

    let results = resp
        .and_then(|r| r.get("results"))
        .and_then(Value::as_array);
    for (i, r) in results.into_iter().flatten().enumerate() {
        let mut ev = make(Status::Ok);
        ev.crm_id = s(r.get("id")).map(Cow::Owned);
        let key = id_property
            .as_ref()
            .and_then(|p| r.get("properties").and_then(|ps| s(ps.get(p))))
            .or_else(|| r.get("properties").and_then(|ps| s(ps.get("email"))))
            .or_else(|| s(r.get("objectWriteTraceId")))
            .or_else(|| inputs.get(i).map(|inp| key_of(inp, i)))
            .or_else(|| ev.crm_id.as_ref().map(|c| c.to_string()));
        ev.record = key.map(Cow::Owned);
        if op == Op::Upsert {
            ev.op = Some(if r.get("new").and_then(Value::as_bool) == Some(true) {
                Op::Create
            } else {
                Op::Update
            });
        }
        sink.event(&ev);
    }
    let errors = resp.and_then(|r| r.get("errors")).and_then(Value::as_array);
    for err in errors.into_iter().flatten() {
        let ids: Vec<String> = err
            .get("context")
            .and_then(|c| c.get("ids").or_else(|| c.get("objectWriteTraceId")))
            .map(|v| match v {
                Value::Array(a) => a.iter().filter_map(|x| s(Some(x))).collect(),
                other => s(Some(other)).into_iter().collect(),
            })
            .or_else(|| s(err.get("objectWriteTraceId")).map(|x| vec![x]))
            .unwrap_or_default();
        if ids.is_empty() {
            let mut ev = make(Status::Failed);
            fill_hubspot_error(&mut ev, err);
            sink.event(&ev);
        }
        for id in ids {
            let mut ev = make(Status::Failed);
            ev.record = Some(Cow::Owned(id));
            fill_hubspot_error(&mut ev, err);
            sink.event(&ev);
        }
    }
}

/// HubSpot's error body: `{status, message, category, subCategory, errors[]}`.
/// The code of a record that failed only because its batch was rejected
/// for another record (a consequence, not a cause).
pub const BATCH_REJECTED: &str = "BATCH_REJECTED";

/// Which inputs of a rejected HubSpot batch the error names: an input whose
/// property holds the value a validation error quotes ("Customer was not
/// one of the allowed options"), or whose id is listed as a duplicate.
/// `None` when the error names none, or all of them.
fn hubspot_culprits(body: &Value, inputs: &[&Value]) -> Option<Vec<bool>> {
    if inputs.len() < 2 {
        return None;
    }
    let message = s(body.get("message")).unwrap_or_default();
    // (property, what the error says of its value)
    let mut named: Vec<(String, String)> = embedded_property_errors(&message)
        .iter()
        .filter_map(|item| Some((s(item.get("name"))?, s(item.get("message"))?)))
        .collect();
    for e in body
        .get("errors")
        .and_then(Value::as_array)
        .into_iter()
        .flatten()
    {
        if let (Some(name), Some(m)) = (error_property(e), s(e.get("message"))) {
            named.push((name, m));
        }
    }
    let quoted = |said: &str, value: &str| {
        // The value stands before any list of allowed options.
        let head = said.split(':').next().unwrap_or(said);
        !value.is_empty()
            && head.match_indices(value).any(|(at, _)| {
                let before = head[..at].chars().next_back();
                let after = head[at + value.len()..].chars().next();
                before.is_none_or(|c| !c.is_alphanumeric())
                    && after.is_none_or(|c| !c.is_alphanumeric())
            })
    };
    let dup_ids: Vec<&str> = message
        .strip_prefix("Duplicate IDs found in batch input: ")
        .and_then(|rest| rest.split(']').next())
        .map(|list| {
            list.trim_start_matches('[')
                .split(',')
                .map(|x| x.trim().trim_matches('"'))
                .filter(|x| !x.is_empty())
                .collect()
        })
        .unwrap_or_default();
    let marks: Vec<bool> = inputs
        .iter()
        .map(|input| {
            let props = input.get("properties");
            named.iter().any(|(name, said)| {
                props
                    .and_then(|p| s(p.get(name)))
                    .is_some_and(|v| quoted(said, &v))
            }) || s(input.get("id")).is_some_and(|id| dup_ids.contains(&id.as_str()))
        })
        .collect();
    let hits = marks.iter().filter(|m| **m).count();
    (hits > 0 && hits < inputs.len()).then_some(marks)
}

/// The list HubSpot embeds, as JSON text, in a validation message:
/// `Property values were not valid: [{"isValid":false,"message":...,
/// "error":"INVALID_OPTION","name":"lifecyclestage"}]`.
fn embedded_property_errors(message: &str) -> Vec<Value> {
    message
        .find('[')
        .and_then(|start| serde_json::from_str::<Value>(&message[start..]).ok())
        .and_then(|v| match v {
            Value::Array(items) => Some(items),
            _ => None,
        })
        .unwrap_or_default()
}

/// The property a HubSpot error detail names (`context.propertyName`, a
/// string or a list, or `name`).
fn error_property(e: &Value) -> Option<String> {
    e.get("context")
        .and_then(|c| c.get("propertyName"))
        .and_then(|p| match p {
            Value::Array(list) => list.first().and_then(Value::as_str).map(str::to_owned),
            other => other.as_str().map(str::to_owned),
        })
        .or_else(|| s(e.get("name")))
}

fn fill_hubspot_error(ev: &mut Event<'static>, body: &Value) {
    let message = s(body.get("message")).unwrap_or_else(|| text(body));
    let sub_code = body.get("errors").and_then(Value::as_array).and_then(|a| {
        a.iter()
            .find_map(|e| s(e.get("code")).or_else(|| s(e.get("error"))))
    });
    let category = s(body.get("category"));
    let policy = s(body.get("policyName"));
    ev.code = sub_code.clone().or(category.clone()).map(Cow::Owned);
    let mut full = message;
    for extra in [
        category,
        sub_code,
        policy.map(|p| format!("policyName: {p}")),
    ]
    .into_iter()
    .flatten()
    {
        if !full.contains(&extra) {
            full.push_str(&format!(" [{extra}]"));
        }
    }
    ev.message = Some(Cow::Owned(full));
    let mut fields: Vec<String> = body
        .get("errors")
        .and_then(Value::as_array)
        .map(|a| {
            a.iter()
                .filter_map(|e| error_property(e).or_else(|| s(e.get("in"))))
                .collect()
        })
        .unwrap_or_default();
    // A batch error carries its properties only inside its message.
    if fields.is_empty() {
        let embedded = body
            .get("message")
            .and_then(Value::as_str)
            .map(embedded_property_errors);
        for item in embedded.iter().flatten() {
            if let Some(name) = s(item.get("name"))
                && !fields.contains(&name)
            {
                fields.push(name);
            }
        }
    }
    ev.fields = fields.into_iter().map(Cow::Owned).collect();
}

fn salesforce(
    ex: &Exchange,
    segs: &[&str],
    origin: &Origin,
    base: &dyn Fn(Status) -> Event<'static>,
    sink: &mut dyn Sink,
) {
    // services/data/vNN.0/{sobjects|composite}/...
    let rest: Vec<&str> = segs
        .iter()
        .skip_while(|s| !s.starts_with('v'))
        .skip(1)
        .copied()
        .collect();
    let resp = ex.response.as_ref();
    let req = ex.request.as_ref();
    match rest.as_slice() {
        ["composite", "sobjects", tail @ ..] => {
            let object_from_url = tail.first().copied();
            let ext_field = tail.get(1).copied();
            let records: Vec<&Value> = req
                .and_then(|r| r.get("records"))
                .and_then(Value::as_array)
                .map(|a| a.iter().collect())
                .unwrap_or_default();
            let op = match (ex.method.as_str(), ext_field) {
                ("PATCH", Some(_)) => Op::Upsert,
                ("PATCH", None) => Op::Update,
                ("DELETE", _) => Op::Delete,
                ("GET", _) => Op::Read,
                _ => Op::Create,
            };
            let batch_id = format!("{}:{}", origin.file, origin.line);
            let key_of = |rec: &Value, i: usize| -> String {
                ext_field
                    .and_then(|f| s(rec.get(f)))
                    .or_else(|| s(rec.get("Email")))
                    .or_else(|| s(rec.get("Id")))
                    .or_else(|| s(rec.get("Name")))
                    .unwrap_or_else(|| positional_key("record", i + 1))
            };
            let object_of = |rec: Option<&Value>| -> Option<String> {
                rec.and_then(|r| r.get("attributes"))
                    .and_then(|a| s(a.get("type")))
                    .or_else(|| object_from_url.map(str::to_owned))
            };
            let make = |status: Status, i: usize| {
                let mut ev = base(status);
                ev.op = Some(op);
                ev.batch = Some(Cow::Owned(batch_id.clone()));
                ev.batch_size = u32::try_from(records.len()).ok().filter(|n| *n > 0);
                ev.object = object_of(records.get(i).copied()).map(Cow::Owned);
                ev.record = records.get(i).map(|r| Cow::Owned(key_of(r, i)));
                ev
            };
            match resp {
                Some(Value::Array(results)) if ex.status < 400 => {
                    for (i, r) in results.iter().enumerate() {
                        let ok = r.get("success").and_then(Value::as_bool).unwrap_or(false);
                        let mut ev = make(if ok { Status::Ok } else { Status::Failed }, i);
                        ev.crm_id = s(r.get("id")).map(Cow::Owned);
                        if ok && op == Op::Upsert {
                            ev.op =
                                Some(if r.get("created").and_then(Value::as_bool) == Some(true) {
                                    Op::Create
                                } else {
                                    Op::Update
                                });
                        }
                        if ev.record.is_none() {
                            ev.record = ev
                                .crm_id
                                .clone()
                                .or(Some(Cow::Owned(positional_key("record", i + 1))));
                        }
                        if !ok {
                            fill_sf_errors(&mut ev, r.get("errors").unwrap_or(&Value::Null));
                        }
                        sink.event(&ev);
                    }
                }
                _ => {
                    let n = records.len().max(1);
                    for i in 0..n {
                        let mut ev = make(status_of(ex.status), i);
                        if ev.status.is_failure() {
                            fill_sf_errors(&mut ev, resp.unwrap_or(&Value::Null));
                        }
                        sink.event(&ev);
                    }
                }
            }
        }
        ["composite"] => {
            let subs = resp
                .and_then(|r| r.get("compositeResponse"))
                .and_then(Value::as_array);
            for sub in subs.into_iter().flatten() {
                let code = sub
                    .get("httpStatusCode")
                    .and_then(Value::as_u64)
                    .and_then(|c| u16::try_from(c).ok())
                    .unwrap_or(ex.status);
                let mut ev = base(status_of(code));
                ev.http_status = Some(code);
                ev.record = s(sub.get("referenceId")).map(Cow::Owned);
                ev.op = Some(Op::Upsert);
                if ev.status.is_failure() {
                    fill_sf_errors(&mut ev, sub.get("body").unwrap_or(&Value::Null));
                } else {
                    ev.crm_id = sub.get("body").and_then(|b| s(b.get("id"))).map(Cow::Owned);
                }
                sink.event(&ev);
            }
        }
        ["sobjects", object, rest @ ..] => {
            let mut ev = base(status_of(ex.status));
            ev.object = Some(Cow::Owned((*object).to_owned()));
            ev.op = Some(match (ex.method.as_str(), rest.len()) {
                (_, _) if rest.first() == Some(&"describe") => Op::Read,
                ("PATCH", 2) => Op::Upsert,
                ("PATCH", _) => Op::Update,
                ("POST", _) => Op::Create,
                ("DELETE", _) => Op::Delete,
                _ => Op::Read,
            });
            ev.record = match rest {
                [_, value] => Some(Cow::Owned((*value).to_owned())),
                [id] if *id != "describe" => Some(Cow::Owned((*id).to_owned())),
                _ => req
                    .and_then(|r| s(r.get("Email")).or_else(|| s(r.get("Name"))))
                    .map(Cow::Owned),
            };
            ev.crm_id = resp.and_then(|r| s(r.get("id"))).map(Cow::Owned);
            if ev.status == Status::Ok {
                if ev.op == Some(Op::Upsert) {
                    ev.op = Some(
                        if ex.status == 201
                            || resp.and_then(|r| r.get("created")).and_then(Value::as_bool)
                                == Some(true)
                        {
                            Op::Create
                        } else {
                            Op::Update
                        },
                    );
                }
            } else {
                fill_sf_errors(&mut ev, resp.unwrap_or(&Value::Null));
            }
            sink.event(&ev);
        }
        _ => {
            let mut ev = base(status_of(ex.status));
            ev.op = Some(op_of_method(&ex.method));
            if ev.status.is_failure() {
                fill_sf_errors(&mut ev, resp.unwrap_or(&Value::Null));
            }
            sink.event(&ev);
        }
    }
}

/// Salesforce errors: `[{message, errorCode|statusCode, fields}]`.
fn fill_sf_errors(ev: &mut Event<'static>, body: &Value) {
    let list: Vec<&Value> = match body {
        Value::Array(a) => a.iter().collect(),
        Value::Object(_) => vec![body],
        _ => Vec::new(),
    };
    let first = list.first().copied();
    let code = first.and_then(|e| s(e.get("errorCode")).or_else(|| s(e.get("statusCode"))));
    let message = first
        .and_then(|e| s(e.get("message")))
        .unwrap_or_else(|| text(body));
    ev.code = code.clone().map(Cow::Owned);
    ev.message = Some(Cow::Owned(match code {
        Some(c) if !message.contains(&c) => format!("{c}: {message}"),
        _ => message,
    }));
    if let Some(fields) = first
        .and_then(|e| e.get("fields"))
        .and_then(Value::as_array)
    {
        ev.fields = fields
            .iter()
            .filter_map(Value::as_str)
            .map(|f| Cow::Owned(f.to_owned()))
            .collect();
    }
}

fn zoho(
    ex: &Exchange,
    segs: &[&str],
    base: &dyn Fn(Status) -> Event<'static>,
    sink: &mut dyn Sink,
) {
    let object = segs.get(2).copied();
    let resp = ex.response.as_ref();
    let inputs: Vec<&Value> = ex
        .request
        .as_ref()
        .and_then(|r| r.get("data"))
        .and_then(Value::as_array)
        .map(|a| a.iter().collect())
        .unwrap_or_default();
    let op = if segs.get(3) == Some(&"upsert") {
        Op::Upsert
    } else {
        op_of_method(&ex.method)
    };
    if let Some(data) = resp.and_then(|r| r.get("data")).and_then(Value::as_array) {
        for (i, item) in data.iter().enumerate() {
            let ok = item.get("status").and_then(Value::as_str) == Some("success");
            let mut ev = base(if ok { Status::Ok } else { Status::Failed });
            ev.object = object.map(|o| Cow::Owned(o.to_owned()));
            ev.op = Some(op);
            ev.record = inputs
                .get(i)
                .and_then(|inp| zoho_key(inp))
                .or_else(|| item.get("details").and_then(|d| s(d.get("id"))))
                .or_else(|| Some(positional_key("record", i + 1)))
                .map(Cow::Owned);
            ev.crm_id = item
                .get("details")
                .and_then(|d| s(d.get("id")))
                .map(Cow::Owned);
            if !ok {
                ev.code = s(item.get("code")).map(Cow::Owned);
                ev.message = Some(Cow::Owned(text(item)));
                if let Some(f) = item.get("details").and_then(|d| s(d.get("api_name"))) {
                    ev.fields.push(Cow::Owned(f));
                }
            }
            sink.event(&ev);
        }
        return;
    }
    // One answer for the whole request (a refused token, a bad body): it
    // holds for every record sent.
    let mut ev = base(status_of(ex.status));
    ev.object = object.map(|o| Cow::Owned(o.to_owned()));
    ev.op = Some(op);
    if resp.and_then(|r| r.get("status")).and_then(Value::as_str) == Some("error") {
        ev.status = Status::Failed;
    }
    if ev.status.is_failure() {
        ev.code = resp.and_then(|r| s(r.get("code"))).map(Cow::Owned);
        ev.message = Some(Cow::Owned(response_text(ex)));
    }
    if inputs.is_empty() {
        sink.event(&ev);
    }
    for (i, input) in inputs.iter().enumerate() {
        ev.record = zoho_key(input).map(Cow::Owned);
        if inputs.len() > 1 {
            ev.batch_size = u32::try_from(inputs.len()).ok();
        }
        if ev.record.is_none() {
            ev.record = Some(Cow::Owned(positional_key("record", i + 1)));
        }
        sink.event(&ev);
    }
}

fn zoho_key(input: &Value) -> Option<String> {
    s(input.get("Email"))
        .or_else(|| s(input.get("Last_Name")))
        .or_else(|| s(input.get("id")))
}

// ---- HAR ----------------------------------------------------------------

#[derive(Deserialize, Default)]
#[serde(rename_all = "camelCase")]
struct HarEntry {
    #[serde(default)]
    started_date_time: Option<String>,
    #[serde(default)]
    request: HarRequest,
    #[serde(default)]
    response: HarResponse,
}

#[derive(Deserialize, Default)]
#[serde(rename_all = "camelCase")]
struct HarRequest {
    #[serde(default)]
    method: String,
    #[serde(default)]
    url: String,
    #[serde(default)]
    post_data: Option<HarContent>,
}

#[derive(Deserialize, Default)]
#[serde(rename_all = "camelCase")]
struct HarResponse {
    #[serde(default)]
    status: i64,
    #[serde(default)]
    headers: Vec<Value>,
    #[serde(default)]
    content: Option<HarContent>,
}

#[derive(Deserialize, Default)]
#[serde(rename_all = "camelCase")]
struct HarContent {
    #[serde(default)]
    text: Option<String>,
    #[serde(default)]
    encoding: Option<String>,
}

/// Reads a HAR file one entry at a time: memory holds one entry, not the file.
pub fn read_har(reader: Input, name: &Arc<str>, sink: &mut dyn Sink) -> Result<(), IngestError> {
    let origin_file: Arc<str> = Arc::from(format!("{name}#entry"));
    let mut de = serde_json::Deserializer::from_reader(reader);
    let result = HarSeed {
        sink: &mut *sink,
        file: origin_file,
        count: 0,
    }
    .deserialize(&mut de);
    if let Err(e) = result {
        if e.is_io() {
            return Err(IngestError::Read {
                file: name.to_string(),
                line: e.line() as u64,
                source: std::io::Error::other(e.to_string()),
            });
        }
        // Entries before the damage were read; say where the rest stopped.
        sink.problem(Problem {
            file: name.clone(),
            line: Some(e.line() as u64),
            message: format!(
                "not a valid HAR document from here on ({e}); the entries before it were read"
            ),
        });
    }
    Ok(())
}

struct HarSeed<'s> {
    sink: &'s mut dyn Sink,
    file: Arc<str>,
    count: u64,
}

impl<'de> DeserializeSeed<'de> for HarSeed<'_> {
    type Value = ();
    fn deserialize<D: de::Deserializer<'de>>(self, d: D) -> Result<(), D::Error> {
        d.deserialize_map(self)
    }
}

impl<'de> Visitor<'de> for HarSeed<'_> {
    type Value = ();
    fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("a HAR document {\"log\": {\"entries\": [...]}}")
    }
    fn visit_map<M: MapAccess<'de>>(mut self, mut map: M) -> Result<(), M::Error> {
        while let Some(key) = map.next_key::<Cow<'_, str>>()? {
            if key == "log" {
                map.next_value_seed(LogSeed { inner: &mut self })?;
            } else {
                map.next_value::<IgnoredAny>()?;
            }
        }
        Ok(())
    }
}

struct LogSeed<'a, 's> {
    inner: &'a mut HarSeed<'s>,
}

impl<'de> DeserializeSeed<'de> for LogSeed<'_, '_> {
    type Value = ();
    fn deserialize<D: de::Deserializer<'de>>(self, d: D) -> Result<(), D::Error> {
        d.deserialize_map(self)
    }
}

impl<'de> Visitor<'de> for LogSeed<'_, '_> {
    type Value = ();
    fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("the HAR log object")
    }
    fn visit_map<M: MapAccess<'de>>(self, mut map: M) -> Result<(), M::Error> {
        while let Some(key) = map.next_key::<Cow<'_, str>>()? {
            if key == "entries" {
                map.next_value_seed(EntriesSeed {
                    inner: &mut *self.inner,
                })?;
            } else {
                map.next_value::<IgnoredAny>()?;
            }
        }
        Ok(())
    }
}

struct EntriesSeed<'a, 's> {
    inner: &'a mut HarSeed<'s>,
}

impl<'de> DeserializeSeed<'de> for EntriesSeed<'_, '_> {
    type Value = ();
    fn deserialize<D: de::Deserializer<'de>>(self, d: D) -> Result<(), D::Error> {
        d.deserialize_seq(self)
    }
}

impl<'de> Visitor<'de> for EntriesSeed<'_, '_> {
    type Value = ();
    fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("the HAR entries list")
    }
    fn visit_seq<S: SeqAccess<'de>>(self, mut seq: S) -> Result<(), S::Error> {
        while let Some(entry) = seq.next_element::<HarEntry>()? {
            self.inner.count += 1;
            let origin = Origin {
                file: self.inner.file.clone(),
                line: self.inner.count,
            };
            let content = |c: &Option<HarContent>| -> Option<Value> {
                let c = c.as_ref()?;
                let t = c.text.as_ref()?;
                if c.encoding.as_deref() == Some("base64") {
                    return None;
                }
                Some(serde_json::from_str(t).unwrap_or_else(|_| Value::String(t.clone())))
            };
            let headers = Value::Array(entry.response.headers.clone());
            let ex = Exchange {
                ts: entry.started_date_time.as_deref().and_then(parse_ts),
                method: entry.request.method.to_ascii_uppercase(),
                url: entry.request.url.clone(),
                status: u16::try_from(entry.response.status).unwrap_or(0),
                retry_after: header(&headers, "retry-after").and_then(|v| v.trim().parse().ok()),
                request: content(&entry.request.post_data),
                response: content(&entry.response.content),
            };
            if ex.status == 0 {
                // The browser got no answer (blocked, cancelled, network error).
                let mut ev = Event::new(Status::Failed, origin.clone());
                ev.ts = ex.ts;
                ev.message = Some(Cow::Borrowed(
                    "no response: the connection failed or was cancelled",
                ));
                self.inner.sink.event(&ev);
                continue;
            }
            interpret(&ex, &origin, self.inner.sink);
        }
        Ok(())
    }
}
