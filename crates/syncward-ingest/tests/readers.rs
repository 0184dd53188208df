//! Reader tests per format, with fixtures written from the vendors'
//! documented shapes (shared/reference/crm-error-formats.md).

use std::io::Write;
use syncward_core::event::{Op, Status};
use syncward_core::{Crm, Event};
use syncward_ingest::{Format, Problem, Sink, read_input};

#[derive(Default)]
struct Got {
    events: Vec<Owned>,
    problems: Vec<Problem>,
}

#[derive(Debug, Clone)]
struct Owned {
    status: Status,
    record: Option<String>,
    crm_id: Option<String>,
    crm: Option<Crm>,
    object: Option<String>,
    op: Option<Op>,
    code: Option<String>,
    message: Option<String>,
    fields: Vec<String>,
    http: Option<u16>,
    batch_size: Option<u32>,
    at: String,
    retry_after: Option<u32>,
    changed_by: Option<String>,
    batch: Option<String>,
}

impl Sink for Got {
    fn event(&mut self, e: &Event<'_>) {
        self.events.push(Owned {
            status: e.status,
            record: e.record.as_deref().map(str::to_owned),
            crm_id: e.crm_id.as_deref().map(str::to_owned),
            crm: e.crm,
            object: e.object.as_deref().map(str::to_owned),
            op: e.op,
            code: e.code.as_deref().map(str::to_owned),
            message: e.message.as_deref().map(str::to_owned),
            fields: e.fields.iter().map(|f| f.to_string()).collect(),
            http: e.http_status,
            batch_size: e.batch_size,
            at: e.origin.to_string(),
            retry_after: e.retry_after,
            changed_by: e
                .changed
                .as_ref()
                .and_then(|c| c.by.as_deref().map(str::to_owned)),
            batch: e.batch.as_deref().map(str::to_owned),
        });
    }
    fn problem(&mut self, p: Problem) {
        self.problems.push(p);
    }
}

fn read(name: &str, content: &[u8]) -> (Got, Option<Format>) {
    let dir = tempfile::tempdir().expect("tempdir");
    let path = dir.path().join(name);
    std::fs::File::create(&path)
        .and_then(|mut f| f.write_all(content))
        .expect("write");
    let mut got = Got::default();
    let summary =
        read_input(path.to_str().expect("utf8"), Format::Auto, &mut got).expect("readable");
    (got, summary.format)
}

#[test]
fn hubspot_batch_upsert_207_becomes_one_event_per_record() {
    let line = serde_json::json!({
        "ts": "2026-11-30T10:00:00Z", "method": "POST",
        "url": "https://api.hubapi.com/crm/v3/objects/contacts/batch/create",
        "status": 207,
        "request": {"inputs": [
            {"properties": {"email": "a@x.io"}, "objectWriteTraceId": "t1"},
            {"properties": {"email": "b@x.io"}, "objectWriteTraceId": "t2"},
            {"properties": {"email": "c@x.io"}, "objectWriteTraceId": "t3"}]},
        "response": {"status": "COMPLETE",
            "results": [{"id": "101", "properties": {"email": "a@x.io"}}, {"id": "102", "properties": {"email": "b@x.io"}}],
            "numErrors": 1,
            "errors": [{"status": "error", "category": "VALIDATION_ERROR", "message": "Property values were not valid",
                        "context": {"objectWriteTraceId": ["t3"]},
                        "errors": [{"message": "Email address c@x.io is invalid", "code": "INVALID_EMAIL", "context": {"propertyName": ["email"]}}]}]}
    });
    let (got, format) = read("exchanges.jsonl", format!("{line}\n").as_bytes());
    assert_eq!(format, Some(Format::Http));
    assert_eq!(got.events.len(), 3);
    let ok: Vec<_> = got
        .events
        .iter()
        .filter(|e| e.status == Status::Ok)
        .collect();
    assert_eq!(ok.len(), 2);
    assert_eq!(ok[0].record.as_deref(), Some("a@x.io"));
    assert_eq!(ok[0].crm_id.as_deref(), Some("101"));
    let failed = got
        .events
        .iter()
        .find(|e| e.status == Status::Failed)
        .expect("one failure");
    assert_eq!(failed.record.as_deref(), Some("t3"));
    assert_eq!(failed.code.as_deref(), Some("INVALID_EMAIL"));
    assert_eq!(failed.fields, vec!["email"]);
    assert_eq!(failed.crm, Some(Crm::Hubspot));
    assert_eq!(failed.object.as_deref(), Some("contacts"));
    assert_eq!(failed.batch_size, Some(3));
    assert!(got.events.iter().all(|e| e.at.ends_with(":1")));
}

#[test]
fn hubspot_rejected_batch_fails_every_input_and_keeps_retry_after() {
    let line = serde_json::json!({
        "ts": 1764496800000u64, "method": "POST",
        "url": "https://api.hubapi.com/crm/v3/objects/contacts/batch/upsert",
        "status": 429, "headers": {"Retry-After": "10", "X-HubSpot-RateLimit-Remaining": "0"},
        "request": {"inputs": [{"idProperty": "email", "id": "a@x.io", "properties": {}}, {"idProperty": "email", "id": "b@x.io", "properties": {}}]},
        "response": "{\"status\":\"error\",\"message\":\"You have reached your ten_secondly_rolling limit.\",\"errorType\":\"RATE_LIMIT\",\"policyName\":\"TEN_SECONDLY_ROLLING\",\"category\":\"RATE_LIMITS\"}"
    });
    let (got, _) = read("x.jsonl", format!("{line}\n").as_bytes());
    assert_eq!(got.events.len(), 2);
    assert!(
        got.events.iter().all(|e| e.status == Status::Failed
            && e.retry_after == Some(10)
            && e.http == Some(429))
    );
    assert_eq!(got.events[1].record.as_deref(), Some("b@x.io"));
    assert!(
        got.events[0]
            .message
            .as_deref()
            .is_some_and(|m| m.contains("TEN_SECONDLY_ROLLING"))
    );
}

#[test]
fn salesforce_collections_save_results_in_input_order() {
    let line = serde_json::json!({
        "method": "PATCH", "url": "https://acme.my.salesforce.com/services/data/v62.0/composite/sobjects/Contact/Ext_Id__c",
        "status": 200,
        "request": {"allOrNone": false, "records": [
            {"attributes": {"type": "Contact"}, "Ext_Id__c": "E-1", "LastName": "Ruiz"},
            {"attributes": {"type": "Contact"}, "Ext_Id__c": "E-2"}]},
        "response": [
            {"id": "003A", "success": true, "errors": [], "created": true},
            {"success": false, "errors": [{"statusCode": "REQUIRED_FIELD_MISSING", "message": "Required fields are missing: [LastName]", "fields": ["LastName"]}]}]
    });
    let (got, _) = read("sf.jsonl", format!("{line}\n").as_bytes());
    assert_eq!(got.events.len(), 2);
    assert_eq!(got.events[0].record.as_deref(), Some("E-1"));
    assert_eq!(got.events[0].op, Some(Op::Create));
    assert_eq!(got.events[1].record.as_deref(), Some("E-2"));
    assert_eq!(
        got.events[1].code.as_deref(),
        Some("REQUIRED_FIELD_MISSING")
    );
    assert_eq!(got.events[1].fields, vec!["LastName"]);
    assert_eq!(got.events[1].object.as_deref(), Some("Contact"));
}

#[test]
fn oauth_zoho_dataverse_pipedrive_responses() {
    let lines = [
        serde_json::json!({"method": "POST", "url": "https://login.salesforce.com/services/oauth2/token", "status": 400, "request": "grant_type=refresh_token&refresh_token=x", "response": {"error": "invalid_grant", "error_description": "expired access/refresh token"}}),
        serde_json::json!({"method": "POST", "url": "https://www.zohoapis.eu/crm/v7/Leads", "status": 202, "request": {"data": [{"Last_Name": "Ruiz", "Email": "a@x.io"}, {"Email": "b@x.io"}]}, "response": {"data": [{"code": "SUCCESS", "details": {"id": "5551"}, "status": "success"}, {"code": "MANDATORY_NOT_FOUND", "details": {"api_name": "Last_Name"}, "message": "required field not found", "status": "error"}]}}),
        serde_json::json!({"method": "POST", "url": "https://org.crm4.dynamics.com/api/data/v9.2/contacts", "status": 412, "response": {"error": {"code": "0x80040237", "message": "A record with matching key values already exists."}}}),
        serde_json::json!({"method": "POST", "url": "https://acme.pipedrive.com/api/v1/persons", "status": 400, "response": {"success": false, "error": "Name must be given.", "error_info": "Please check developers.pipedrive.com", "data": null}}),
    ];
    let body: String = lines.iter().map(|l| format!("{l}\n")).collect();
    let (got, _) = read("mixed.jsonl", body.as_bytes());
    assert_eq!(got.events.len(), 5);
    assert_eq!(got.events[0].op, Some(Op::Reconnect));
    assert_eq!(got.events[0].status, Status::Failed);
    assert_eq!(got.events[0].code.as_deref(), Some("invalid_grant"));
    assert_eq!(got.events[1].status, Status::Ok);
    assert_eq!(got.events[2].status, Status::Failed);
    assert_eq!(got.events[2].record.as_deref(), Some("b@x.io"));
    assert_eq!(got.events[2].fields, vec!["Last_Name"]);
    assert_eq!(got.events[2].crm, Some(Crm::Zoho));
    assert_eq!(got.events[3].crm, Some(Crm::Dynamics));
    assert_eq!(got.events[3].object.as_deref(), Some("contacts"));
    assert!(
        got.events[3]
            .message
            .as_deref()
            .is_some_and(|m| m.contains("0x80040237"))
    );
    assert_eq!(got.events[4].crm, Some(Crm::Pipedrive));
    assert_eq!(
        got.events[4].message.as_deref(),
        Some("Name must be given.")
    );
}

#[test]
fn salesforce_result_files() {
    let (got, f) = read("r.csv", b"\"Id\",\"Success\",\"Created\",\"Error\"\n\"003D000000Q89kQIAR\",\"true\",\"true\",\"\"\n\"\",\"false\",\"false\",\"REQUIRED_FIELD_MISSING:Required fields are missing: [LastName]:LastName --\"\n");
    assert_eq!(f, Some(Format::SfBulk1));
    assert_eq!(got.events.len(), 2);
    assert_eq!(got.events[1].fields, vec!["LastName"]);
    assert_eq!(got.events[1].record.as_deref(), Some("row 2"));
    // The file is one batch's results: a success beside a failure is a
    // batch written partly.
    assert!(got.events[0].batch.is_some());
    assert_eq!(got.events[0].batch, got.events[1].batch);

    let (got, f) = read(
        "s.csv",
        b"ID,FirstName,Email,STATUS\n003A,Ana,ana@x.io,Item Created\n",
    );
    assert_eq!(f, Some(Format::DataLoaderSuccess));
    assert_eq!(got.events[0].op, Some(Op::Create));
    assert_eq!(got.events[0].record.as_deref(), Some("ana@x.io"));
    // The CRM's "ID" is not the record's key; an input "Id" column is.
    let (got, _) = read(
        "s.csv",
        b"ID,Id,LastName,STATUS\n003B,src-7,Ng,Item Updated\n",
    );
    assert_eq!(got.events[0].op, Some(Op::Update));
    assert_eq!(got.events[0].crm_id.as_deref(), Some("003B"));
    assert_eq!(got.events[0].record.as_deref(), Some("src-7"));

    let (got, f) = read(
        "job-unprocessedrecords.csv",
        b"Email,LastName\nz@x.io,Zed\n",
    );
    assert_eq!(f, Some(Format::SfBulk2Unprocessed));
    assert_eq!(got.events[0].status, Status::Skipped);

    let (got, _) = read("f.csv", b"\"sf__Id\",\"sf__Error\",Id,Phone\n\"\",\"UNABLE_TO_LOCK_ROW:unable to obtain exclusive access to this record or 1 records\",003A,555\n");
    assert_eq!(got.events[0].code.as_deref(), Some("UNABLE_TO_LOCK_ROW"));
    assert_eq!(got.events[0].record.as_deref(), Some("003A"));
}

#[test]
fn csv_rows_that_are_bad_are_reported_and_skipped() {
    let (got, f) = read("e.csv", b"ts,run,record,status,message\n2026-01-01T00:00:00Z,r1,a,ok,\n2026-01-01T00:00:01Z,r1,b,\xff\xfe,x\n2026-01-01T00:00:02Z,r1,c,exploded,x\n2026-01-01T00:00:03Z,r1,d,failed,Session expired or invalid\n");
    assert_eq!(f, Some(Format::EventsCsv));
    assert_eq!(got.events.len(), 2);
    assert_eq!(got.problems.len(), 2);
    assert_eq!(got.problems[0].line, Some(3));
    assert!(got.problems[0].message.contains("UTF-8"));
    assert_eq!(got.problems[1].line, Some(4));
    assert!(
        got.problems[1]
            .message
            .contains("unknown status \"exploded\"")
    );
}

#[test]
fn truncated_jsonl_last_line_is_reported() {
    let (got, _) = read(
        "t.jsonl",
        b"{\"status\":\"ok\"}\n{\"status\":\"failed\",\"mess",
    );
    assert_eq!(got.events.len(), 1);
    assert_eq!(got.problems.len(), 1);
    assert_eq!(got.problems[0].line, Some(2));
}

#[test]
fn har_entries_are_read_one_by_one_and_damage_is_reported() {
    let har = serde_json::json!({"log": {"version": "1.2", "creator": {"name": "x"}, "entries": [
        {"startedDateTime": "2026-11-30T13:00:00.000Z", "request": {"method": "GET", "url": "https://api.hubapi.com/crm/v3/objects/contacts/77"}, "response": {"status": 404, "headers": [], "content": {"text": "{\"status\":\"error\",\"message\":\"Object not found.  objectId are usually numeric.\",\"category\":\"OBJECT_NOT_FOUND\"}"}}},
        {"startedDateTime": "2026-11-30T13:00:01.000Z", "request": {"method": "GET", "url": "https://api.hubapi.com/crm/v3/objects/contacts/78"}, "response": {"status": 0, "headers": [], "content": {}}}
    ]}});
    let text = serde_json::to_string_pretty(&har).expect("json");
    let (got, f) = read("x.har", text.as_bytes());
    assert_eq!(f, Some(Format::Har));
    assert_eq!(got.events.len(), 2);
    assert_eq!(got.events[0].status, Status::Failed);
    assert_eq!(
        got.events[0].at,
        format!(
            "{}#entry:1",
            got.events[0].at.split('#').next().unwrap_or("")
        )
    );
    assert!(
        got.events[1]
            .message
            .as_deref()
            .is_some_and(|m| m.contains("no response"))
    );

    let cut = &text[..text.len() / 2 + 200];
    let (got, _) = read("cut.har", cut.as_bytes());
    assert_eq!(
        got.events.len(),
        1,
        "the entry before the damage still counts"
    );
    assert_eq!(got.problems.len(), 1);
    assert!(got.problems[0].message.contains("not a valid HAR document"));
}

#[test]
fn empty_and_blank_files_are_a_clear_problem() {
    for content in [&b""[..], b"\n\n   \n"] {
        let (got, f) = read("empty.log", content);
        assert_eq!(f, None);
        assert!(got.events.is_empty());
        assert!(got.problems[0].message.contains("the file is empty"));
    }
}

#[test]
fn damaged_gzip_is_an_error_not_a_panic() {
    let dir = tempfile::tempdir().expect("tempdir");
    let path = dir.path().join("x.jsonl.gz");
    std::fs::write(
        &path,
        [
            0x1f, 0x8b, 0x08, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x03, 0xff, 0xff,
        ],
    )
    .expect("write");
    let mut got = Got::default();
    let err = read_input(path.to_str().expect("utf8"), Format::Auto, &mut got);
    assert!(err.is_err() || !got.problems.is_empty());
}

/// Windows tools start files with a UTF-8 byte order mark, and PowerShell 5
/// writes UTF-16; every example log reads the same either way.
#[test]
fn byte_order_marks_and_utf16_change_nothing_in_any_format() {
    let dir = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("../../examples/logs");
    // The same events, at the same lines (the files sit in different temporary folders).
    let summary = |g: &Got| {
        g.events
            .iter()
            .map(|e| {
                let mut e = e.clone();
                e.at = e.at.rsplit('/').next().unwrap_or_default().to_owned();
                e.batch = e
                    .batch
                    .map(|b| b.rsplit('/').next().unwrap_or_default().to_owned());
                format!("{e:?}")
            })
            .collect::<Vec<_>>()
    };
    let mut checked = 0;
    for entry in std::fs::read_dir(&dir).expect("examples/logs") {
        let path = entry.expect("entry").path();
        let name = path
            .file_name()
            .and_then(|n| n.to_str())
            .unwrap_or_default()
            .to_owned();
        let plain = std::fs::read(&path).expect("readable");
        let text = String::from_utf8(plain.clone()).expect("examples are UTF-8");
        let mut marked = b"\xEF\xBB\xBF".to_vec();
        marked.extend_from_slice(&plain);
        let mut utf16le = b"\xFF\xFE".to_vec();
        utf16le.extend(text.encode_utf16().flat_map(u16::to_le_bytes));
        let mut utf16be = b"\xFE\xFF".to_vec();
        utf16be.extend(text.encode_utf16().flat_map(u16::to_be_bytes));
        let (a, fa) = read(&name, &plain);
        for other in [marked, utf16le, utf16be] {
            let (b, fb) = read(&name, &other);
            assert_eq!(fa, fb, "{name}");
            assert_eq!(
                a.problems.len(),
                b.problems.len(),
                "{name}: {:?}",
                b.problems
            );
            assert_eq!(summary(&a), summary(&b), "{name}");
        }
        checked += 1;
    }
    assert!(checked >= 8, "examples/logs holds the formats");
}

#[test]
fn a_token_endpoint_that_answers_200_with_an_error_is_a_failed_login() {
    // Zoho's accounts server answers 200 with `{"error": "invalid_code"}`.
    let line = serde_json::json!({"ts": "2026-11-30T09:00:00Z", "method": "POST",
        "url": "https://accounts.zoho.eu/oauth/v2/token", "status": 200,
        "request": "grant_type=authorization_code&code=1000.x",
        "response": {"error": "invalid_code"}});
    let (got, _) = read("zoho-token.jsonl", format!("{line}\n").as_bytes());
    assert_eq!(got.events.len(), 1);
    assert_eq!(got.events[0].op, Some(Op::Auth));
    assert_eq!(got.events[0].status, Status::Failed);
    assert_eq!(got.events[0].code.as_deref(), Some("invalid_code"));

    // A 200 that carries the token is a login that worked.
    let ok = serde_json::json!({"method": "POST", "url": "https://accounts.zoho.eu/oauth/v2/token",
        "status": 200, "response": {"access_token": "1000.abc", "expires_in": 3600}});
    let (got, _) = read("zoho-token.jsonl", format!("{ok}\n").as_bytes());
    assert_eq!(got.events[0].status, Status::Ok);
}

#[test]
fn single_record_calls_name_their_record_from_the_url_or_the_body() {
    let lines = [
        // Dataverse upsert by alternate key.
        serde_json::json!({"method": "PATCH", "url": "https://org.crm4.dynamics.com/api/data/v9.2/contacts(emailaddress1='kim@x.io')", "status": 400,
            "request": {"firstname": "Kim"},
            "response": {"error": {"code": "0x80048d19", "message": "Error identified in Payload provided by the user for Entity :'contacts'"}}}),
        // Dataverse create: the key is in the body.
        serde_json::json!({"method": "POST", "url": "https://org.crm4.dynamics.com/api/data/v9.2/contacts", "status": 204,
            "request": {"emailaddress1": "lee@x.io", "lastname": "Lee"}}),
        // Pipedrive person: emails are a list of {value}.
        serde_json::json!({"method": "POST", "url": "https://acme.pipedrive.com/api/v1/persons", "status": 400,
            "request": {"name": "Ana Ruiz", "email": [{"value": "ana@x.io", "primary": true}]},
            "response": {"success": false, "error": "Name must be given.", "data": null}}),
    ];
    let body: String = lines.iter().map(|l| format!("{l}\n")).collect();
    let (got, _) = read("calls.jsonl", body.as_bytes());
    let records: Vec<Option<&str>> = got.events.iter().map(|e| e.record.as_deref()).collect();
    assert_eq!(
        records,
        vec![Some("kim@x.io"), Some("lee@x.io"), Some("ana@x.io")]
    );
    assert_eq!(got.events[0].object.as_deref(), Some("contacts"));
    assert_eq!(got.events[0].status, Status::Failed);
    assert_eq!(got.events[1].status, Status::Ok);
}

#[test]
fn a_zoho_request_refused_whole_fails_every_record_sent() {
    let line = serde_json::json!({"method": "POST", "url": "https://www.zohoapis.com/crm/v7/Contacts/upsert", "status": 401,
        "request": {"data": [{"Email": "a@x.io", "Last_Name": "A"}, {"Email": "b@x.io", "Last_Name": "B"}, {"Last_Name": "C"}]},
        "response": {"code": "INVALID_TOKEN", "details": {}, "message": "invalid oauth token", "status": "error"}});
    let (got, _) = read("zoho.jsonl", format!("{line}\n").as_bytes());
    let records: Vec<Option<&str>> = got.events.iter().map(|e| e.record.as_deref()).collect();
    assert_eq!(records, vec![Some("a@x.io"), Some("b@x.io"), Some("C")]);
    assert!(got.events.iter().all(|e| e.status == Status::Failed
        && e.code.as_deref() == Some("INVALID_TOKEN")
        && e.batch_size == Some(3)));
}

#[test]
fn salesforce_result_files_name_their_object() {
    // From the record ids' key prefix.
    let (got, _) = read("results.csv", b"\"sf__Id\",\"sf__Created\",Email\n\"003A000000AbCdEIAZ\",\"true\",a@x.io\n\"00QA000000AbCdEIAZ\",\"true\",b@x.io\n");
    let objects: Vec<Option<&str>> = got.events.iter().map(|e| e.object.as_deref()).collect();
    assert_eq!(objects, vec![Some("Contact"), Some("Lead")]);
    // From the file's name when the failed rows have no id.
    let (got, _) = read("opportunities-failedResults.csv", b"\"sf__Id\",\"sf__Error\",Name,Amount\n\"\",\"INVALID_TYPE_ON_FIELD_IN_RECORD:Amount: value not of required type:Amount --\",Renewal,12k\n");
    assert_eq!(got.events[0].object.as_deref(), Some("Opportunity"));
    // From columns only one object has.
    let (got, _) = read("error.csv", b"LastName,Company,Email,ERROR\nNg,Acme,ng@x.io,Required fields are missing: [LeadSource]\n");
    assert_eq!(got.events[0].object.as_deref(), Some("Lead"));
}

#[test]
fn a_hubspot_batch_rejected_for_one_bad_input_names_that_input() {
    let inputs: Vec<serde_json::Value> = ["lead", "Customer", "lead"]
        .iter()
        .enumerate()
        .map(|(i, stage)| {
            serde_json::json!({"idProperty": "email", "id": format!("h{i}@x.io"),
            "properties": {"email": format!("h{i}@x.io"), "lifecyclestage": stage}})
        })
        .collect();
    let line = serde_json::json!({"method": "POST",
        "url": "https://api.hubapi.com/crm/v3/objects/contacts/batch/upsert", "status": 400,
        "request": {"inputs": inputs},
        "response": {"status": "error", "category": "VALIDATION_ERROR", "correlationId": "c1",
            "message": "Property values were not valid: [{\"isValid\":false,\"message\":\"Customer was not one of the allowed options: [lead, customer]\",\"error\":\"INVALID_OPTION\",\"name\":\"lifecyclestage\"}]"}});
    let (got, _) = read("hs.jsonl", format!("{line}\n").as_bytes());
    let codes: Vec<Option<&str>> = got.events.iter().map(|e| e.code.as_deref()).collect();
    assert_eq!(
        codes,
        vec![
            Some("BATCH_REJECTED"),
            Some("VALIDATION_ERROR"),
            Some("BATCH_REJECTED")
        ]
    );
    assert!(got.events.iter().all(|e| e.status == Status::Failed));
    // The property named only inside the message is the failure's field.
    assert_eq!(got.events[1].fields, vec!["lifecyclestage"]);

    // Duplicate ids in one batch: the repeated inputs carry the error.
    let line = serde_json::json!({"method": "POST",
        "url": "https://api.hubapi.com/crm/v3/objects/contacts/batch/upsert", "status": 400,
        "request": {"inputs": [{"idProperty": "email", "id": "a@x.io", "properties": {}}, {"idProperty": "email", "id": "b@x.io", "properties": {}}, {"idProperty": "email", "id": "a@x.io", "properties": {}}]},
        "response": {"status": "error", "category": "VALIDATION_ERROR",
            "message": "Duplicate IDs found in batch input: [a@x.io]. IDs must be unique"}});
    let (got, _) = read("hs.jsonl", format!("{line}\n").as_bytes());
    let codes: Vec<Option<&str>> = got.events.iter().map(|e| e.code.as_deref()).collect();
    assert_eq!(
        codes,
        vec![
            Some("VALIDATION_ERROR"),
            Some("BATCH_REJECTED"),
            Some("VALIDATION_ERROR")
        ]
    );

    // An error every input shares (an unknown property) is every input's.
    let line = serde_json::json!({"method": "POST",
        "url": "https://api.hubapi.com/crm/v3/objects/contacts/batch/create", "status": 400,
        "request": {"inputs": [{"properties": {"email": "a@x.io", "fav": "x"}}, {"properties": {"email": "b@x.io", "fav": "y"}}]},
        "response": {"status": "error", "category": "VALIDATION_ERROR",
            "message": "Property values were not valid: [{\"isValid\":false,\"message\":\"Property \\\"fav\\\" does not exist\",\"error\":\"PROPERTY_DOESNT_EXIST\",\"name\":\"fav\"}]"}});
    let (got, _) = read("hs.jsonl", format!("{line}\n").as_bytes());
    assert!(
        got.events
            .iter()
            .all(|e| e.code.as_deref() != Some("BATCH_REJECTED"))
    );
}

#[test]
fn events_csv_takes_flat_change_columns() {
    let (got, f) = read(
        "events.csv",
        b"ts,run,object,op,record,crm_id,status,field,from,to,by\n2026-12-01T09:00:00Z,t1,deals,test,deal-1,9001,ok,,,,\n2026-12-01T09:00:01Z,t1,deals,readback,deal-1,9001,ok,dealstage,appointmentscheduled,closedlost,Workflow: Stale deal cleanup\n",
    );
    assert_eq!(f, Some(Format::EventsCsv));
    assert_eq!(got.events.len(), 2);
    assert_eq!(got.events[1].op, Some(Op::Readback));
    assert_eq!(
        got.events[1].changed_by.as_deref(),
        Some("Workflow: Stale deal cleanup")
    );
    assert_eq!(got.events[0].changed_by, None);
}
