//! The sandbox against its contract: real wire shapes, every built-in
//! scenario's behaviour, and bad requests answered in the vendor's shape.

use reqwest::{Client, Method, StatusCode};
use serde_json::{Value, json};
use syncward_sandbox::{Sandbox, Scenario};

const SF: &str = "/services/data/v62.0";

struct T {
    sb: Sandbox,
    http: Client,
    token: String,
}

impl T {
    async fn new(scenario: &str) -> T {
        let sb = Sandbox::start(
            "127.0.0.1:0",
            Scenario::load(scenario).expect("scenario"),
            None,
        )
        .await
        .expect("starts");
        T {
            sb,
            http: Client::new(),
            token: "sandbox-token".into(),
        }
    }

    async fn call(
        &self,
        method: Method,
        path: &str,
        body: Option<Value>,
    ) -> (StatusCode, reqwest::header::HeaderMap, Value) {
        let mut req = self
            .http
            .request(method, format!("{}{path}", self.sb.url))
            .bearer_auth(&self.token);
        if let Some(b) = body {
            req = req.json(&b);
        }
        let resp = req.send().await.expect("response");
        let status = resp.status();
        let headers = resp.headers().clone();
        let text = resp.text().await.unwrap_or_default();
        (
            status,
            headers,
            serde_json::from_str(&text).unwrap_or(Value::Null),
        )
    }

    async fn upsert(&self, emails: &[String]) -> (StatusCode, reqwest::header::HeaderMap, Value) {
        let inputs: Vec<Value> = emails
            .iter()
            .map(|e| json!({"idProperty": "email", "id": e, "properties": {"firstname": "Sam"}}))
            .collect();
        self.call(
            Method::POST,
            "/crm/v3/objects/contacts/batch/upsert",
            Some(json!({"inputs": inputs})),
        )
        .await
    }

    async fn records(&self, object: &str) -> Vec<Value> {
        let v: Value = self
            .http
            .get(format!("{}/_sandbox/records/{object}", self.sb.url))
            .send()
            .await
            .expect("admin")
            .json()
            .await
            .expect("json");
        v.as_array().cloned().unwrap_or_default()
    }
}

fn emails(range: std::ops::Range<usize>) -> Vec<String> {
    range.map(|i| format!("p{i}@example.com")).collect()
}

#[tokio::test]
async fn hubspot_batch_upsert_creates_then_updates_by_id_property() {
    let t = T::new("healthy").await;
    let (s, _, v) = t.upsert(&emails(0..3)).await;
    assert_eq!(s, 200);
    assert_eq!(v["status"], "COMPLETE");
    assert!(
        v["results"]
            .as_array()
            .expect("results")
            .iter()
            .all(|r| r["new"] == true
                && r["id"].is_string()
                && r["createdAt"].is_string()
                && r["archived"] == false)
    );
    let (s, _, v) = t.upsert(&emails(2..4)).await;
    assert_eq!(s, 200);
    let news: Vec<bool> = v["results"]
        .as_array()
        .expect("results")
        .iter()
        .map(|r| r["new"].as_bool().unwrap_or(true))
        .collect();
    assert_eq!(news, vec![false, true]);
    assert_eq!(t.records("contacts").await.len(), 4);

    let (s, _, v) = t.call(Method::POST, "/crm/v3/objects/contacts/batch/read", Some(json!({"idProperty": "email", "inputs": [{"id": "p1@example.com"}, {"id": "nobody@example.com"}], "properties": ["email"]}))).await;
    assert_eq!(s, 207);
    assert_eq!(v["results"][0]["properties"]["email"], "p1@example.com");
    assert_eq!(v["errors"][0]["category"], "OBJECT_NOT_FOUND");
    let (s, _, v) = t
        .call(
            Method::GET,
            "/crm/v3/objects/contacts/p1@example.com?idProperty=email",
            None,
        )
        .await;
    assert_eq!(s, 200);
    assert_eq!(v["properties"]["firstname"], "Sam");
}

#[tokio::test]
async fn hubspot_batch_limits_and_whole_batch_rejections() {
    let t = T::new("healthy").await;
    let (s, _, v) = t.upsert(&emails(0..101)).await;
    assert_eq!(s, 400);
    assert_eq!(v["category"], "VALIDATION_ERROR");
    let mut dup = emails(0..3);
    dup.push("P1@example.com".into());
    let (s, _, v) = t.upsert(&dup).await;
    assert_eq!(s, 400);
    assert!(
        v["message"]
            .as_str()
            .expect("message")
            .contains("Duplicate IDs")
    );
    assert!(
        t.records("contacts").await.is_empty(),
        "a rejected batch writes nothing"
    );
    let (s, _, v) = t
        .call(
            Method::POST,
            "/crm/v3/objects/contacts/batch/upsert",
            Some(json!({"inputs": [{"idProperty": "firstname", "id": "Sam", "properties": {}}]})),
        )
        .await;
    assert_eq!(s, 400);
    assert!(
        v["message"]
            .as_str()
            .expect("message")
            .contains("non-unique")
    );
    // One bad value fails the whole batch, with HubSpot's nested message.
    let (s, _, v) = t
        .call(
            Method::POST,
            "/crm/v3/objects/contacts/batch/upsert",
            Some(json!({"inputs": [
        {"idProperty": "email", "id": "a@x.io", "properties": {"lifecyclestage": "Lead"}},
        {"idProperty": "email", "id": "b@x.io", "properties": {}}]})),
        )
        .await;
    assert_eq!(s, 400);
    assert!(
        v["message"]
            .as_str()
            .expect("m")
            .starts_with("Property values were not valid: [{")
    );
    assert_eq!(v["errors"][0]["code"], "INVALID_OPTION");
    assert!(v["correlationId"].is_string());
    assert!(t.records("contacts").await.is_empty());
}

#[tokio::test]
async fn hubspot_create_conflict_and_multi_status() {
    let t = T::new("duplicate-rule").await;
    let (s, _, _) = t
        .call(
            Method::POST,
            "/crm/v3/objects/contacts",
            Some(json!({"properties": {"email": "ana@x.io"}})),
        )
        .await;
    assert_eq!(s, 201);
    let (s, _, v) = t
        .call(
            Method::POST,
            "/crm/v3/objects/contacts",
            Some(json!({"properties": {"email": "ANA@x.io"}})),
        )
        .await;
    assert_eq!(s, 409);
    assert_eq!(v["category"], "CONFLICT");
    assert!(
        v["message"]
            .as_str()
            .expect("m")
            .starts_with("Contact already exists. Existing ID: ")
    );
    let (s, _, v) = t
        .call(
            Method::POST,
            "/crm/v3/objects/contacts/batch/create",
            Some(json!({"inputs": [
        {"properties": {"email": "new@x.io"}, "objectWriteTraceId": "t1"},
        {"properties": {"email": "bad"}, "objectWriteTraceId": "t2"}]})),
        )
        .await;
    assert_eq!(s, 207);
    assert_eq!(v["numErrors"], 1);
    assert_eq!(v["results"].as_array().expect("r").len(), 1);
    assert_eq!(v["errors"][0]["context"]["objectWriteTraceId"][0], "t2");
}

#[tokio::test]
async fn bad_requests_get_the_vendor_shape_not_a_panic() {
    let t = T::new("healthy").await;
    let resp = t
        .http
        .post(format!("{}/crm/v3/objects/contacts/batch/upsert", t.sb.url))
        .bearer_auth("sandbox-token")
        .header("content-type", "application/json")
        .body("{\"inputs\": [")
        .send()
        .await
        .expect("r");
    assert_eq!(resp.status(), 400);
    let v: Value = resp.json().await.expect("json");
    assert!(
        v["message"]
            .as_str()
            .expect("m")
            .starts_with("Invalid input JSON")
    );
    let (s, _, v) = t
        .call(Method::GET, "/crm/v3/properties/widgets", None)
        .await;
    assert_eq!(s, 400);
    assert_eq!(v["category"], "VALIDATION_ERROR");
    let (s, _, v) = t
        .call(
            Method::DELETE,
            "/crm/v3/objects/contacts/batch/upsert",
            None,
        )
        .await;
    assert_eq!(s, 405);
    assert_eq!(v["status"], "error");
    let (s, _, v) = t
        .call(
            Method::GET,
            &format!("{SF}/sobjects/Widget__c/describe"),
            None,
        )
        .await;
    assert_eq!(s, 404);
    assert_eq!(v[0]["errorCode"], "NOT_FOUND");
    let (s, _, v) = t
        .call(
            Method::PATCH,
            &format!("{SF}/sobjects/Lead/External_Id__c/E1"),
            Some(json!(["not", "an", "object"])),
        )
        .await;
    assert_eq!(s, 400);
    assert_eq!(v[0]["errorCode"], "JSON_PARSER_ERROR");
    let (s, _, v) = t
        .call(
            Method::PATCH,
            &format!("{SF}/sobjects/Lead/External_Id__c/E1"),
            Some(json!({"LastName": "X", "Nope__c": 1})),
        )
        .await;
    assert_eq!(s, 400);
    assert_eq!(v[0]["errorCode"], "INVALID_FIELD");
    let resp = t
        .http
        .get(format!("{}/crm/v3/properties/contacts", t.sb.url))
        .bearer_auth("wrong")
        .send()
        .await
        .expect("r");
    assert_eq!(resp.status(), 401);
    let v: Value = resp.json().await.expect("json");
    assert_eq!(v["category"], "INVALID_AUTHENTICATION");
    let resp = t
        .http
        .get(format!("{}{SF}/sobjects/Lead/describe", t.sb.url))
        .send()
        .await
        .expect("r");
    assert_eq!(resp.status(), 401);
    let v: Value = resp.json().await.expect("json");
    assert_eq!(v[0]["errorCode"], "INVALID_SESSION_ID");
}

#[tokio::test]
async fn salesforce_describe_upsert_and_collections() {
    let t = T::new("healthy").await;
    let (s, _, d) = t
        .call(Method::GET, &format!("{SF}/sobjects/Lead/describe"), None)
        .await;
    assert_eq!(s, 200);
    let field = |n: &str| {
        d["fields"]
            .as_array()
            .expect("fields")
            .iter()
            .find(|f| f["name"] == n)
            .cloned()
            .expect("field")
    };
    assert_eq!(field("LastName")["nillable"], false);
    assert_eq!(field("External_Id__c")["externalId"], true);
    assert_eq!(field("LeadSource")["restrictedPicklist"], true);
    let (s, h, v) = t
        .call(
            Method::PATCH,
            &format!("{SF}/sobjects/Lead/External_Id__c/E-1"),
            Some(json!({"LastName": "Ruiz", "Company": "Acme"})),
        )
        .await;
    assert_eq!(s, 201);
    assert_eq!(v["created"], true);
    assert!(h.get("sforce-limit-info").is_some());
    let id = v["id"].as_str().expect("id").to_owned();
    assert_eq!(id.len(), 18);
    let (s, _, v) = t
        .call(
            Method::PATCH,
            &format!("{SF}/sobjects/Lead/External_Id__c/E-1"),
            Some(json!({"Title": "CFO"})),
        )
        .await;
    assert_eq!((s.as_u16(), v["created"].clone()), (200, json!(false)));
    let (s, _, v) = t
        .call(Method::GET, &format!("{SF}/sobjects/Lead/{id}"), None)
        .await;
    assert_eq!(s, 200);
    assert_eq!(v["Title"], "CFO");
    assert_eq!(v["attributes"]["type"], "Lead");

    let recs = |n: usize| -> Value {
        json!({"allOrNone": false, "records": (0..n).map(|i| json!({"attributes": {"type": "Lead"}, "External_Id__c": format!("C-{i}"), "LastName": "L", "Email": if i == 1 { "broken" } else { "ok@x.io" }})).collect::<Vec<_>>()})
    };
    let (s, _, v) = t
        .call(
            Method::PATCH,
            &format!("{SF}/composite/sobjects/Lead/External_Id__c"),
            Some(recs(3)),
        )
        .await;
    assert_eq!(s, 200);
    let results = v.as_array().expect("SaveResults");
    assert_eq!(results.len(), 3);
    assert_eq!(
        results[1]["errors"][0]["statusCode"],
        "INVALID_EMAIL_ADDRESS"
    );
    assert_eq!(results[2]["success"], true);
    let (s, _, v) = t
        .call(
            Method::PATCH,
            &format!("{SF}/composite/sobjects/Lead/External_Id__c"),
            Some(recs(201)),
        )
        .await;
    assert_eq!(s, 400);
    assert_eq!(v[0]["errorCode"], "EXCEEDED_ID_LIMIT");
    let mut all = recs(3);
    all["allOrNone"] = json!(true);
    all["records"][0]["External_Id__c"] = json!("N-0");
    let before = t.records("Lead").await.len();
    let (_, _, v) = t
        .call(
            Method::PATCH,
            &format!("{SF}/composite/sobjects/Lead/External_Id__c"),
            Some(all),
        )
        .await;
    assert_eq!(
        v[0]["errors"][0]["statusCode"],
        "ALL_OR_NONE_OPERATION_ROLLED_BACK"
    );
    assert_eq!(
        t.records("Lead").await.len(),
        before,
        "allOrNone wrote nothing"
    );
    let (_, _, v) = t.call(Method::POST, &format!("{SF}/composite/sobjects"), Some(json!({"records": [{"attributes": {"type": "Account"}, "Name": "Acme"}, {"attributes": {"type": "Account"}}]}))).await;
    assert_eq!(v[0]["success"], true);
    assert_eq!(v[1]["errors"][0]["statusCode"], "REQUIRED_FIELD_MISSING");
}

#[tokio::test]
async fn schema_drift_after_100_writes() {
    let t = T::new("schema-drift").await;
    let (s, _, v) = t
        .call(
            Method::PATCH,
            &format!("{SF}/sobjects/Lead/External_Id__c/D-0"),
            Some(json!({"LastName": "Early"})),
        )
        .await;
    assert_eq!(s, 201, "{v}");
    for chunk in 0..4 {
        let (s, _, _) = t.upsert(&emails(chunk * 25..chunk * 25 + 25)).await;
        assert_eq!(s, 200);
    }
    let (s, _, v) = t
        .call(
            Method::PATCH,
            &format!("{SF}/sobjects/Lead/External_Id__c/D-1"),
            Some(json!({"LastName": "Late"})),
        )
        .await;
    assert_eq!(s, 400);
    assert_eq!(v[0]["errorCode"], "REQUIRED_FIELD_MISSING");
    assert_eq!(v[0]["fields"], json!(["Company"]));
    let (s, _, v) = t
        .call(
            Method::POST,
            "/crm/v3/objects/contacts",
            Some(json!({"properties": {"email": "z@x.io", "lifecyclestage": "subscriber"}})),
        )
        .await;
    assert_eq!(s, 400);
    assert_eq!(v["errors"][0]["code"], "INVALID_OPTION");
    let (_, _, d) = t
        .call(Method::GET, &format!("{SF}/sobjects/Lead/describe"), None)
        .await;
    let company = d["fields"]
        .as_array()
        .expect("f")
        .iter()
        .find(|f| f["name"] == "Company")
        .cloned()
        .expect("Company");
    assert_eq!(company["nillable"], false, "describe shows the drift");
}

#[tokio::test]
async fn rate_limited_hubspot_window_and_salesforce_daily_cap() {
    let t = T::new("rate-limited").await;
    for i in 0..100 {
        let (s, h, _) = t
            .call(Method::GET, "/crm/v3/properties/contacts", None)
            .await;
        assert_eq!(s, 200, "request {i}");
        assert_eq!(h["x-hubspot-ratelimit-max"], "100");
    }
    let (s, h, v) = t
        .call(Method::GET, "/crm/v3/properties/contacts", None)
        .await;
    assert_eq!(s, 429);
    assert_eq!(v["policyName"], "TEN_SECONDLY_ROLLING");
    assert_eq!(v["category"], "RATE_LIMITS");
    assert!(
        h["retry-after"]
            .to_str()
            .expect("retry-after")
            .parse::<u64>()
            .expect("seconds")
            >= 1
    );
    assert_eq!(h["x-hubspot-ratelimit-remaining"], "0");
    for _ in 0..500 {
        t.call(Method::GET, &format!("{SF}/sobjects/Lead/describe"), None)
            .await;
    }
    let (s, _, v) = t
        .call(Method::GET, &format!("{SF}/sobjects/Lead/describe"), None)
        .await;
    assert_eq!(s, 403);
    assert_eq!(v[0]["errorCode"], "REQUEST_LIMIT_EXCEEDED");
}

#[tokio::test]
async fn expired_token_refreshes_and_revoked_token_does_not() {
    let mut t = T::new("expired-token").await;
    for _ in 0..50 {
        assert_eq!(
            t.call(Method::GET, "/crm/v3/properties/contacts", None)
                .await
                .0,
            200
        );
    }
    let (s, _, v) = t
        .call(Method::GET, "/crm/v3/properties/contacts", None)
        .await;
    assert_eq!(s, 401);
    assert_eq!(v["category"], "EXPIRED_AUTHENTICATION");
    let tok: Value = t.http.post(format!("{}/oauth/v1/token", t.sb.url)).body("grant_type=refresh_token&refresh_token=sandbox-refresh-token&client_id=x&client_secret=y").header("content-type", "application/x-www-form-urlencoded").send().await.expect("r").json().await.expect("json");
    t.token = tok["access_token"].as_str().expect("token").to_owned();
    assert_eq!(
        t.call(Method::GET, "/crm/v3/properties/contacts", None)
            .await
            .0,
        200
    );
    let log = t
        .http
        .get(format!("{}/_sandbox/log", t.sb.url))
        .send()
        .await
        .expect("r")
        .text()
        .await
        .expect("text");
    assert!(
        !log.contains("sandbox-refresh-token") && !log.contains("client_secret=y"),
        "secrets stay out of the log"
    );

    let t = T::new("revoked-token").await;
    let resp = t
        .http
        .post(format!("{}/services/oauth2/token", t.sb.url))
        .body("grant_type=refresh_token&refresh_token=x")
        .send()
        .await
        .expect("r");
    assert_eq!(resp.status(), 400);
    let v: Value = resp.json().await.expect("json");
    assert_eq!(v["error"], "invalid_grant");
}

#[tokio::test]
async fn workflow_rewrite_changes_owner_and_status_after_create() {
    let t = T::new("workflow-rewrite").await;
    let (_, _, v) = t
        .call(
            Method::PATCH,
            &format!("{SF}/sobjects/Lead/External_Id__c/W-1"),
            Some(json!({"LastName": "Ruiz", "Company": "Acme", "OwnerId": "005OWNER000000AAAA"})),
        )
        .await;
    let id = v["id"].as_str().expect("id").to_owned();
    let (_, _, lead) = t
        .call(Method::GET, &format!("{SF}/sobjects/Lead/{id}"), None)
        .await;
    assert_eq!(lead["OwnerId"], "005RR0000000001AAA");
    assert_eq!(lead["Status"], "Working - Contacted");
    let (_, _, v) = t.upsert(&["w@x.io".to_owned()]).await;
    assert_eq!(v["results"][0]["properties"]["hubspot_owner_id"], "90001");
}

#[tokio::test]
async fn salesforce_duplicate_rule_body() {
    let t = T::new("duplicate-rule").await;
    let (s, _, _) = t
        .call(
            Method::PATCH,
            &format!("{SF}/sobjects/Contact/External_Id__c/K-1"),
            Some(json!({"LastName": "Ruiz", "Email": "ana@x.io"})),
        )
        .await;
    assert_eq!(s, 201);
    let (s, _, v) = t
        .call(
            Method::PATCH,
            &format!("{SF}/sobjects/Contact/External_Id__c/K-2"),
            Some(json!({"LastName": "Ruiz", "Email": "ana@x.io"})),
        )
        .await;
    assert_eq!(s, 400);
    assert_eq!(v[0]["errorCode"], "DUPLICATES_DETECTED");
    assert_eq!(
        v[0]["duplicateResult"]["duplicateRule"],
        "Standard_Contact_Duplicate_Rule"
    );
    assert!(
        v[0]["duplicateResult"]["matchResults"][0]["matchRecords"][0]["record"]["Id"].is_string()
    );
    // The same key again is an update, not a duplicate.
    let (s, _, _) = t
        .call(
            Method::PATCH,
            &format!("{SF}/sobjects/Contact/External_Id__c/K-1"),
            Some(json!({"Email": "ana@x.io"})),
        )
        .await;
    assert_eq!(s, 200);
}

#[tokio::test]
async fn flaky_injects_server_errors_resets_after_commit_and_stalls() {
    let t = T::new("flaky").await;
    let mut server_errors = 0;
    let mut resets = 0;
    for i in 0..300 {
        let r = t
            .http
            .patch(format!(
                "{}{SF}/sobjects/Lead/External_Id__c/F-{i}",
                t.sb.url
            ))
            .bearer_auth("sandbox-token")
            .json(&json!({"LastName": "F", "Company": "C"}))
            .send()
            .await;
        match r {
            Ok(resp) if resp.status().is_server_error() => {
                server_errors += 1;
                let v: Value = resp.json().await.expect("json");
                assert_eq!(v[0]["errorCode"], "SERVER_UNAVAILABLE");
            }
            Ok(resp) => {
                if resp.bytes().await.is_err() {
                    resets += 1;
                }
            }
            Err(_) => resets += 1,
        }
    }
    let stats: Value = t
        .http
        .get(format!("{}/_sandbox/stats", t.sb.url))
        .send()
        .await
        .expect("r")
        .json()
        .await
        .expect("json");
    assert!(server_errors > 0 && server_errors < 30, "{server_errors}");
    assert_eq!(stats["server_errors_injected"], server_errors);
    assert_eq!(stats["resets_after_commit"].as_u64(), Some(resets));
    // A reset came after the commit: those records exist.
    assert_eq!(t.records("Lead").await.len() as u64, 300 - server_errors);
}

#[tokio::test]
async fn the_admin_log_is_an_http_exchange_log_diagnose_reads() {
    let t = T::new("healthy").await;
    t.upsert(&emails(0..2)).await;
    t.call(Method::POST, "/crm/v3/objects/contacts/batch/upsert", Some(json!({"inputs": [{"idProperty": "email", "id": "a@x.io", "properties": {"lifecyclestage": "nope"}}]}))).await;
    let log = t
        .http
        .get(format!("{}/_sandbox/log", t.sb.url))
        .send()
        .await
        .expect("r")
        .text()
        .await
        .expect("text");
    let dir = tempfile::tempdir().expect("tmp");
    let path = dir.path().join("sandbox.jsonl");
    std::fs::write(&path, log).expect("write");
    struct Count(Vec<(syncward_core::Status, Option<String>)>);
    impl syncward_ingest::Sink for Count {
        fn event(&mut self, e: &syncward_core::Event<'_>) {
            self.0
                .push((e.status, e.code.as_deref().map(str::to_owned)));
        }
        fn problem(&mut self, p: syncward_ingest::Problem) {
            panic!("{p}");
        }
    }
    let mut c = Count(Vec::new());
    let summary = syncward_ingest::read_input(
        path.to_str().expect("p"),
        syncward_ingest::Format::Auto,
        &mut c,
    )
    .expect("read");
    assert_eq!(summary.format, Some(syncward_ingest::Format::Http));
    assert_eq!(c.0.len(), 3);
    assert_eq!(
        c.0[2],
        (
            syncward_core::Status::Failed,
            Some("INVALID_OPTION".to_owned())
        )
    );
    let reset = t
        .http
        .post(format!("{}/_sandbox/reset", t.sb.url))
        .send()
        .await
        .expect("r");
    assert_eq!(reset.status(), 200);
    assert!(t.records("contacts").await.is_empty());
}
