//! CSV inputs: syncward events as CSV, and Salesforce's result files
//! (Bulk API 2.0 failed/successful/unprocessed, Bulk API 1.0, Data Loader).

use crate::source::Input;
use crate::{IngestError, Problem, Sink};
use std::borrow::Cow;
use std::sync::Arc;
use syncward_core::event::{Changed, Direction, Op, Status, parse_ts, positional_key};
use syncward_core::{Crm, Event, Origin};

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Kind {
    Events,
    Bulk2Failed,
    Bulk2Success,
    Bulk2Unprocessed,
    Bulk1,
    DataLoaderError,
    DataLoaderSuccess,
}

/// Longest CSV record kept, in bytes; longer ones are reported and skipped.
const MAX_RECORD: usize = crate::MAX_LINE;

/// Columns that identify a record in a Salesforce file, best first.
const KEY_COLUMNS: &[&str] = &[
    "external_id__c",
    "externalid__c",
    "external_id",
    "email",
    "id",
    "name",
    "lastname",
];

pub fn read(
    reader: Input,
    name: &Arc<str>,
    kind: Kind,
    sink: &mut dyn Sink,
) -> Result<(), IngestError> {
    let mut rdr = csv::ReaderBuilder::new()
        .flexible(true)
        .has_headers(true)
        .from_reader(reader);
    let headers = match rdr.byte_headers() {
        Ok(h) => h
            .iter()
            .map(|c| {
                String::from_utf8_lossy(c)
                    .trim()
                    .trim_start_matches('\u{feff}')
                    .to_owned()
            })
            .collect::<Vec<_>>(),
        Err(e) => {
            sink.problem(Problem {
                file: name.clone(),
                line: Some(1),
                message: format!("cannot read the CSV header: {e}"),
            });
            return Ok(());
        }
    };
    let cols = Columns::new(&headers);
    // Salesforce's result files do not name their object: the file name or
    // the columns usually do.
    let file_object = if kind == Kind::Events {
        None
    } else {
        object_from_name(name).or_else(|| object_from_columns(&cols))
    };
    let mut record = csv::ByteRecord::new();
    let mut row = 0u64;
    loop {
        match rdr.read_byte_record(&mut record) {
            Ok(false) => return Ok(()),
            Ok(true) => {}
            Err(e) => {
                let line = e.position().map_or(0, csv::Position::line);
                if let csv::ErrorKind::Io(io) = e.kind() {
                    return Err(IngestError::Read {
                        file: name.to_string(),
                        line,
                        source: std::io::Error::new(io.kind(), io.to_string()),
                    });
                }
                sink.problem(Problem {
                    file: name.clone(),
                    line: Some(line),
                    message: format!("malformed CSV row: {e}"),
                });
                continue;
            }
        }
        row += 1;
        let line = record.position().map_or(row + 1, csv::Position::line);
        if record.as_slice().len() > MAX_RECORD {
            sink.problem(Problem {
                file: name.clone(),
                line: Some(line),
                message: format!("row is longer than {MAX_RECORD} bytes; skipped"),
            });
            continue;
        }
        let fields: Vec<&str> = match record
            .iter()
            .map(std::str::from_utf8)
            .collect::<Result<_, _>>()
        {
            Ok(f) => f,
            Err(e) => {
                sink.problem(Problem {
                    file: name.clone(),
                    line: Some(line),
                    message: format!("row is not valid UTF-8 (byte {}); skipped. Save the file as UTF-8 and try again", e.valid_up_to()),
                });
                continue;
            }
        };
        if fields.iter().all(|f| f.trim().is_empty()) {
            continue;
        }
        let origin = Origin {
            file: name.clone(),
            line,
        };
        match build(kind, &cols, &fields, row, origin) {
            Ok(mut ev) => {
                if ev.object.is_none() && kind != Kind::Events {
                    ev.object = ev
                        .crm_id
                        .as_deref()
                        .and_then(object_from_id)
                        .or(file_object)
                        .map(Cow::Borrowed);
                }
                sink.event(&ev)
            }
            Err(message) => sink.problem(Problem {
                file: name.clone(),
                line: Some(line),
                message,
            }),
        }
    }
}

struct Columns {
    names: Vec<String>,
    lower: Vec<String>,
}

impl Columns {
    fn new(headers: &[String]) -> Self {
        Columns {
            names: headers.to_vec(),
            lower: headers.iter().map(|h| h.to_ascii_lowercase()).collect(),
        }
    }

    fn idx(&self, name: &str) -> Option<usize> {
        self.names.iter().position(|h| h == name)
    }

    fn idx_ci(&self, name: &str) -> Option<usize> {
        self.lower.iter().position(|h| h == name)
    }

    fn get<'a>(&self, fields: &[&'a str], name: &str) -> Option<&'a str> {
        self.idx_ci(name)
            .and_then(|i| fields.get(i))
            .map(|s| s.trim())
            .filter(|s| !s.is_empty())
    }

    /// The record's key from its own columns (Salesforce files carry the input
    /// columns). `skip` is a column that must not count, such as the CRM id.
    fn record_key<'a>(&self, fields: &[&'a str], skip: Option<usize>) -> Option<&'a str> {
        let value = |i: usize| fields.get(i).map(|s| s.trim()).filter(|s| !s.is_empty());
        let column = |wanted: &dyn Fn(&str) -> bool| {
            (0..self.lower.len()).find(|&i| Some(i) != skip && wanted(&self.lower[i]))
        };
        KEY_COLUMNS
            .iter()
            .find_map(|key| column(&|h| h == *key).and_then(value))
            .or_else(|| column(&|h| h.contains("external") && h.ends_with("id__c")).and_then(value))
    }
}

/// The object a Salesforce id belongs to, from its three-character key
/// prefix (the standard objects a sync writes).
fn object_from_id(id: &str) -> Option<&'static str> {
    if !(id.len() == 15 || id.len() == 18) || !id.bytes().all(|b| b.is_ascii_alphanumeric()) {
        return None;
    }
    Some(match id.get(..3)? {
        "001" => "Account",
        "003" => "Contact",
        "00Q" => "Lead",
        "006" => "Opportunity",
        "00k" => "OpportunityLineItem",
        "800" => "Contract",
        "801" => "Order",
        "0Q0" => "Quote",
        "500" => "Case",
        "00T" => "Task",
        "701" => "Campaign",
        _ => return None,
    })
}

/// The object a result file's name speaks of, such as
/// `opportunities-failedResults.csv` or `error_contact_0412.csv`.
fn object_from_name(name: &str) -> Option<&'static str> {
    let stem = name
        .rsplit(['/', '\\'])
        .next()
        .unwrap_or(name)
        .to_ascii_lowercase();
    stem.split(|c: char| !c.is_ascii_alphanumeric())
        .find_map(|word| {
            Some(match word {
                "opportunity" | "opportunities" | "opp" | "opps" | "deal" | "deals" => {
                    "Opportunity"
                }
                "contact" | "contacts" => "Contact",
                "lead" | "leads" => "Lead",
                "account" | "accounts" => "Account",
                "contract" | "contracts" => "Contract",
                "quote" | "quotes" => "Quote",
                "order" | "orders" => "Order",
                "invoice" | "invoices" => "Invoice",
                "case" | "cases" => "Case",
                _ => return None,
            })
        })
}

/// The object a file's columns belong to, from the fields only it has.
fn object_from_columns(cols: &Columns) -> Option<&'static str> {
    let has = |c: &str| cols.idx_ci(c).is_some();
    if has("stagename") || has("closedate") {
        Some("Opportunity")
    } else if has("contractterm") || has("contractnumber") {
        Some("Contract")
    } else if has("quotenumber") {
        Some("Quote")
    } else if has("ordernumber") {
        Some("Order")
    } else if has("company") && has("lastname") {
        Some("Lead")
    } else if has("lastname") {
        Some("Contact")
    } else {
        None
    }
}

/// A column's trimmed value by exact header name, when not blank.
fn cell<'a>(cols: &Columns, f: &[&'a str], name: &str) -> Option<&'a str> {
    cols.idx(name)
        .and_then(|i| f.get(i))
        .map(|s| s.trim())
        .filter(|s| !s.is_empty())
}

/// A failed event from a Salesforce error cell (`CODE:message:fields --`).
fn sf_failure<'a>(err: &'a str, origin: Origin) -> Event<'a> {
    let mut ev = Event::new(Status::Failed, origin);
    ev.crm = Some(Crm::Salesforce);
    let (code, fields) = split_sf_error(err);
    ev.code = code.map(Cow::Borrowed);
    ev.fields = fields.into_iter().map(Cow::Borrowed).collect();
    ev.message = Some(Cow::Borrowed(err));
    ev
}

fn build<'a>(
    kind: Kind,
    cols: &Columns,
    f: &[&'a str],
    row: u64,
    origin: Origin,
) -> Result<Event<'a>, String> {
    let row_key = || Cow::Owned(positional_key("row", row));
    let key = |cols: &Columns| cols.record_key(f, None).map(Cow::Borrowed);
    match kind {
        Kind::Events => events_row(cols, f, origin),
        Kind::Bulk2Failed => {
            let mut ev = sf_failure(cell(cols, f, "sf__Error").unwrap_or(""), origin);
            ev.crm_id = cell(cols, f, "sf__Id").map(Cow::Borrowed);
            ev.record = key(cols)
                .or_else(|| ev.crm_id.clone())
                .or_else(|| Some(row_key()));
            Ok(ev)
        }
        Kind::Bulk2Success => {
            let mut ev = Event::new(Status::Ok, origin);
            ev.crm = Some(Crm::Salesforce);
            ev.crm_id = cell(cols, f, "sf__Id").map(Cow::Borrowed);
            ev.op = cell(cols, f, "sf__Created").map(|c| {
                if c.eq_ignore_ascii_case("true") {
                    Op::Create
                } else {
                    Op::Update
                }
            });
            ev.record = key(cols)
                .or_else(|| ev.crm_id.clone())
                .or_else(|| Some(row_key()));
            Ok(ev)
        }
        Kind::Bulk2Unprocessed => {
            let mut ev = Event::new(Status::Skipped, origin);
            ev.crm = Some(Crm::Salesforce);
            ev.message = Some(Cow::Borrowed(
                "not processed: the job ended or was aborted before this record",
            ));
            ev.record = key(cols).or_else(|| Some(row_key()));
            Ok(ev)
        }
        Kind::Bulk1 => {
            let success = cols
                .get(f, "success")
                .map(|s| s.eq_ignore_ascii_case("true"));
            let Some(success) = success else {
                return Err("no Success value (expected true or false)".into());
            };
            let mut ev = Event::new(if success { Status::Ok } else { Status::Failed }, origin);
            ev.crm = Some(Crm::Salesforce);
            ev.crm_id = cols.get(f, "id").map(Cow::Borrowed);
            if success {
                ev.op = cols.get(f, "created").map(|c| {
                    if c.eq_ignore_ascii_case("true") {
                        Op::Create
                    } else {
                        Op::Update
                    }
                });
            } else if let Some(err) = cols.get(f, "error") {
                let failed = sf_failure(err, ev.origin.clone());
                ev.code = failed.code;
                ev.fields = failed.fields;
                ev.message = failed.message;
            }
            // Bulk 1.0 results are in request order: the row is the record.
            ev.record = Some(row_key());
            // One file holds one batch's results, so a file with both
            // outcomes is a batch written partly.
            ev.batch = Some(Cow::Owned(ev.origin.file.to_string()));
            Ok(ev)
        }
        Kind::DataLoaderError => {
            let mut ev = sf_failure(cell(cols, f, "ERROR").unwrap_or(""), origin);
            ev.record = key(cols).or_else(|| Some(row_key()));
            Ok(ev)
        }
        Kind::DataLoaderSuccess => {
            let mut ev = Event::new(Status::Ok, origin);
            ev.crm = Some(Crm::Salesforce);
            ev.crm_id = cell(cols, f, "ID").map(Cow::Borrowed);
            let status = cell(cols, f, "STATUS").unwrap_or("").to_ascii_lowercase();
            ev.op = if status.contains("created") {
                Some(Op::Create)
            } else if status.contains("updated") {
                Some(Op::Update)
            } else {
                None
            };
            // "ID" here is the CRM's id; the record's key is among the input columns.
            ev.record = cols
                .record_key(f, cols.idx("ID"))
                .map(Cow::Borrowed)
                .or_else(|| ev.crm_id.clone())
                .or_else(|| Some(row_key()));
            Ok(ev)
        }
    }
}

/// `CODE:message:Field1,Field2 --` -> (code, fields). SOAP-mode messages
/// have no code prefix.
pub fn split_sf_error(err: &str) -> (Option<&str>, Vec<&str>) {
    let e = err.trim();
    let code = e
        .split(':')
        .next()
        .map(str::trim)
        .filter(|c| c.len() >= 3 && c.bytes().all(|b| b.is_ascii_uppercase() || b == b'_'));
    let mut fields = Vec::new();
    if let Some(body) = e.strip_suffix("--").map(str::trim_end)
        && code.is_some()
        && let Some(tail) = body.rsplit(':').next().map(str::trim)
        && (!tail.contains(' ') || tail.contains(','))
    {
        fields.extend(tail.split(',').map(str::trim).filter(|x| {
            !x.is_empty()
                && x.bytes()
                    .all(|b| b.is_ascii_alphanumeric() || b == b'_' || b == b'.')
        }));
    }
    (code, fields)
}

fn events_row<'a>(cols: &Columns, f: &[&'a str], origin: Origin) -> Result<Event<'a>, String> {
    let get = |n: &str| cols.get(f, n);
    let http_status = get("http_status").and_then(|s| s.parse::<u16>().ok());
    let status = match get("status") {
        Some(s) => match s.parse::<i64>() {
            Ok(n) => crate::events::status_from_http(n),
            Err(_) => Status::parse_loose(s).ok_or_else(|| {
                format!("unknown status {s:?} (expected ok, failed, partial or skipped)")
            })?,
        },
        None => match http_status {
            Some(h) => crate::events::status_from_http(i64::from(h)),
            None => return Err("missing status (ok, failed, partial or skipped)".into()),
        },
    };
    let mut ev = Event::new(status, origin);
    ev.http_status = http_status;
    ev.ts = get("ts").and_then(parse_ts);
    ev.run = get("run").map(Cow::Borrowed);
    ev.batch = get("batch").map(Cow::Borrowed);
    ev.batch_size = get("batch_size").and_then(|s| s.parse().ok());
    ev.attempt = get("attempt").and_then(|s| s.parse().ok());
    ev.direction = get("direction").and_then(Direction::parse_loose);
    ev.crm = get("crm").and_then(Crm::parse_loose);
    ev.object = get("object").map(Cow::Borrowed);
    ev.op = get("op").and_then(Op::parse_loose);
    ev.record = get("record").map(Cow::Borrowed);
    ev.crm_id = get("crm_id").map(Cow::Borrowed);
    ev.code = get("code").map(Cow::Borrowed);
    ev.message = get("message").map(Cow::Borrowed);
    ev.retry_after = get("retry_after").and_then(|s| s.parse().ok());
    if let Some(fl) = get("field") {
        ev.fields.push(Cow::Borrowed(fl));
    }
    if let Some(list) = get("fields") {
        for x in list.split(';').map(str::trim).filter(|x| !x.is_empty()) {
            if !ev.fields.iter().any(|e| e == x) {
                ev.fields.push(Cow::Borrowed(x));
            }
        }
    }
    let changed = Changed {
        field: get("changed_field")
            .or_else(|| get("changed.field"))
            .map(Cow::Borrowed),
        from: get("changed_from")
            .or_else(|| get("changed.from"))
            .map(Cow::Borrowed),
        to: get("changed_to")
            .or_else(|| get("changed.to"))
            .map(Cow::Borrowed),
        by: get("changed_by")
            .or_else(|| get("changed.by"))
            .map(Cow::Borrowed),
    };
    // Flat `from`, `to`, `by` columns beside `field` say the same.
    let flat = Changed {
        field: get("field").map(Cow::Borrowed),
        from: get("from").map(Cow::Borrowed),
        to: get("to").map(Cow::Borrowed),
        by: get("by").map(Cow::Borrowed),
    };
    if changed.field.is_some() || changed.by.is_some() {
        ev.changed = Some(changed);
    } else if flat.by.is_some() || flat.from.is_some() || flat.to.is_some() {
        ev.changed = Some(flat);
    } else if let Some(json) = get("changed")
        && let Ok(c) = serde_json::from_str::<Changed<'_>>(json)
    {
        ev.changed = Some(Changed {
            field: c.field.map(|s| Cow::Owned(s.into_owned())),
            from: c.from.map(|s| Cow::Owned(s.into_owned())),
            to: c.to.map(|s| Cow::Owned(s.into_owned())),
            by: c.by.map(|s| Cow::Owned(s.into_owned())),
        });
    }
    Ok(ev)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn salesforce_error_grammar() {
        assert_eq!(
            split_sf_error(
                "REQUIRED_FIELD_MISSING:Required fields are missing: [LastName]:LastName --"
            ),
            (Some("REQUIRED_FIELD_MISSING"), vec!["LastName"])
        );
        assert_eq!(
            split_sf_error("INVALID_CROSS_REFERENCE_KEY:invalid cross reference id:--"),
            (Some("INVALID_CROSS_REFERENCE_KEY"), vec![])
        );
        assert_eq!(
            split_sf_error(
                "INVALID_FIELD:Failed to deserialize field at col 3. Due to, 'x' is not a valid value for the type xsd:date:Birthdate --"
            ),
            (Some("INVALID_FIELD"), vec!["Birthdate"])
        );
        assert_eq!(
            split_sf_error(
                "UNABLE_TO_LOCK_ROW:unable to obtain exclusive access to this record or 1 records"
            ),
            (Some("UNABLE_TO_LOCK_ROW"), vec![])
        );
        assert_eq!(
            split_sf_error("Required fields are missing: [LastName]"),
            (None, vec![])
        );
        assert_eq!(
            split_sf_error(
                "REQUIRED_FIELD_MISSING:Required fields are missing: [LastName, Company]:LastName,Company --"
            ),
            (Some("REQUIRED_FIELD_MISSING"), vec!["LastName", "Company"])
        );
    }
}
