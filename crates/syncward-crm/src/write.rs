//! Writing and reading records back: HubSpot batch upsert by idProperty and
//! batch read; Salesforce sObject Collections upsert by external id and
//! read by external id. One call each; the runner decides what to retry.

use super::{Client, Crm, SALESFORCE_API, Token, redact};
use serde_json::{Map, Value, json};
use std::collections::HashMap;
use std::time::Duration;

/// One record's outcome in a batch.
#[derive(Debug, Clone, PartialEq)]
pub struct WriteResult {
    pub key: String,
    pub ok: bool,
    pub crm_id: Option<String>,
    pub created: Option<bool>,
    pub code: Option<String>,
    pub message: Option<String>,
    pub fields: Vec<String>,
}

/// A call that did not give per-record results.
#[derive(Debug, Clone)]
pub struct CallError {
    /// HTTP status, or None when no answer came (timeout, reset).
    pub status: Option<u16>,
    pub body: String,
    pub retry_after: Option<Duration>,
    /// The request may have been applied (the connection broke after it was sent).
    pub maybe_committed: bool,
}

/// Headers the pacer reads: remaining requests in the window, its length.
#[derive(Debug, Clone, Default)]
pub struct Limits {
    pub remaining: Option<u64>,
    pub max: Option<u64>,
    pub interval_ms: Option<u64>,
    /// Salesforce `Sforce-Limit-Info: api-usage=used/max` (the daily allocation).
    pub daily_used: Option<u64>,
    pub daily_max: Option<u64>,
}

pub struct Answer<T> {
    pub value: Result<T, CallError>,
    pub limits: Limits,
}

impl Client {
    pub fn base_url(&self) -> &str {
        &self.base
    }

    pub fn set_token(&mut self, token: Token) {
        self.token = token;
    }

    async fn send(
        &self,
        method: reqwest::Method,
        path: &str,
        body: Option<Value>,
    ) -> (Result<(u16, String), CallError>, Limits) {
        let url = format!("{}{path}", self.base);
        let mut req = self
            .http
            .request(method, &url)
            .bearer_auth(self.token.expose());
        if let Some(b) = body {
            req = req.json(&b);
        }
        match req.send().await {
            Err(e) => (
                Err(CallError {
                    status: None,
                    body: redact(&e.to_string(), &self.token),
                    retry_after: None,
                    maybe_committed: !e.is_connect(),
                }),
                Limits::default(),
            ),
            Ok(resp) => {
                let status = resp.status().as_u16();
                let h = resp.headers();
                let num = |name: &str| {
                    h.get(name)
                        .and_then(|v| v.to_str().ok())
                        .and_then(|v| v.trim().parse::<u64>().ok())
                };
                let usage = h
                    .get("sforce-limit-info")
                    .and_then(|v| v.to_str().ok())
                    .and_then(|v| {
                        v.split(',')
                            .find_map(|p| p.trim().strip_prefix("api-usage="))
                    })
                    .and_then(|u| u.split_once('/'))
                    .and_then(|(a, b)| {
                        Some((a.trim().parse::<u64>().ok()?, b.trim().parse::<u64>().ok()?))
                    });
                let limits = Limits {
                    remaining: num("x-hubspot-ratelimit-remaining"),
                    max: num("x-hubspot-ratelimit-max"),
                    interval_ms: num("x-hubspot-ratelimit-interval-milliseconds"),
                    daily_used: usage.map(|u| u.0),
                    daily_max: usage.map(|u| u.1),
                };
                let retry_after = num("retry-after").map(Duration::from_secs);
                match resp.text().await {
                    Err(e) => (
                        Err(CallError {
                            status: Some(status),
                            body: e.to_string(),
                            retry_after,
                            maybe_committed: true,
                        }),
                        limits,
                    ),
                    Ok(text) if status >= 300 => (
                        Err(CallError {
                            status: Some(status),
                            body: redact(&text, &self.token),
                            retry_after,
                            maybe_committed: false,
                        }),
                        limits,
                    ),
                    Ok(text) => (Ok((status, text)), limits),
                }
            }
        }
    }

    /// Upserts records keyed by `key_field` (HubSpot idProperty, Salesforce external id).
    pub async fn upsert(
        &self,
        crm: Crm,
        object: &str,
        key_field: &str,
        records: &[(String, Map<String, Value>)],
    ) -> Answer<Vec<WriteResult>> {
        match crm {
            Crm::Hubspot => {
                let inputs: Vec<Value> = records.iter().map(|(k, p)| json!({"idProperty": key_field, "id": k, "properties": without(p, key_field)})).collect();
                let (r, limits) = self
                    .send(
                        reqwest::Method::POST,
                        &format!("/crm/v3/objects/{object}/batch/upsert"),
                        Some(json!({"inputs": inputs})),
                    )
                    .await;
                let value = r.and_then(|(_, text)| {
                    let v: Value = serde_json::from_str(&text).map_err(|e| CallError {
                        status: Some(200),
                        body: format!("not JSON: {e}"),
                        retry_after: None,
                        maybe_committed: true,
                    })?;
                    let mut by_key: HashMap<String, WriteResult> = HashMap::new();
                    for r in v
                        .get("results")
                        .and_then(Value::as_array)
                        .into_iter()
                        .flatten()
                    {
                        let key = r
                            .get("properties")
                            .and_then(|p| p.get(key_field))
                            .and_then(Value::as_str)
                            .map(str::to_lowercase)
                            .unwrap_or_default();
                        by_key.insert(
                            key.clone(),
                            WriteResult {
                                key,
                                ok: true,
                                crm_id: r.get("id").and_then(Value::as_str).map(str::to_owned),
                                created: r.get("new").and_then(Value::as_bool),
                                code: None,
                                message: None,
                                fields: Vec::new(),
                            },
                        );
                    }
                    Ok(records
                        .iter()
                        .map(|(k, _)| {
                            by_key
                                .remove(&k.to_lowercase())
                                .map(|mut w| {
                                    w.key = k.clone();
                                    w
                                })
                                .unwrap_or(WriteResult {
                                    key: k.clone(),
                                    ok: false,
                                    crm_id: None,
                                    created: None,
                                    code: Some("MISSING_RESULT".into()),
                                    message: Some(
                                        "the CRM returned no result for this record".into(),
                                    ),
                                    fields: Vec::new(),
                                })
                        })
                        .collect())
                });
                Answer { value, limits }
            }
            Crm::Salesforce => {
                let list: Vec<Value> = records
                    .iter()
                    .map(|(k, p)| {
                        let mut m = p.clone();
                        m.insert("attributes".into(), json!({"type": object}));
                        m.insert(key_field.into(), Value::String(k.clone()));
                        Value::Object(m)
                    })
                    .collect();
                let (r, limits) = self
                    .send(reqwest::Method::PATCH, &format!("/services/data/{SALESFORCE_API}/composite/sobjects/{object}/{key_field}"), Some(json!({"allOrNone": false, "records": list})))
                    .await;
                let value = r.and_then(|(_, text)| {
                    let v: Vec<Value> = serde_json::from_str(&text).map_err(|e| CallError {
                        status: Some(200),
                        body: format!("not a SaveResult list: {e}"),
                        retry_after: None,
                        maybe_committed: true,
                    })?;
                    Ok(records
                        .iter()
                        .zip(v.iter().map(Some).chain(std::iter::repeat(None)))
                        .map(|((k, _), r)| match r {
                            Some(r) if r.get("success").and_then(Value::as_bool) == Some(true) => {
                                WriteResult {
                                    key: k.clone(),
                                    ok: true,
                                    crm_id: r.get("id").and_then(Value::as_str).map(str::to_owned),
                                    created: r.get("created").and_then(Value::as_bool),
                                    code: None,
                                    message: None,
                                    fields: Vec::new(),
                                }
                            }
                            Some(r) => {
                                let e = r
                                    .get("errors")
                                    .and_then(|e| e.get(0))
                                    .cloned()
                                    .unwrap_or(Value::Null);
                                WriteResult {
                                    key: k.clone(),
                                    ok: false,
                                    crm_id: None,
                                    created: None,
                                    code: e
                                        .get("statusCode")
                                        .and_then(Value::as_str)
                                        .map(str::to_owned),
                                    message: Some(e.to_string()),
                                    fields: e
                                        .get("fields")
                                        .and_then(Value::as_array)
                                        .map(|f| {
                                            f.iter()
                                                .filter_map(Value::as_str)
                                                .map(str::to_owned)
                                                .collect()
                                        })
                                        .unwrap_or_default(),
                                }
                            }
                            None => WriteResult {
                                key: k.clone(),
                                ok: false,
                                crm_id: None,
                                created: None,
                                code: Some("MISSING_RESULT".into()),
                                message: Some("the CRM returned no result for this record".into()),
                                fields: Vec::new(),
                            },
                        })
                        .collect())
                });
                Answer { value, limits }
            }
        }
    }

    /// Reads records back by key: key -> the CRM's field values (missing keys are absent).
    pub async fn read_back(
        &self,
        crm: Crm,
        object: &str,
        key_field: &str,
        keys: &[String],
        fields: &[String],
    ) -> Answer<HashMap<String, Map<String, Value>>> {
        match crm {
            Crm::Hubspot => {
                let mut props: Vec<&str> = fields.iter().map(String::as_str).collect();
                props.push(key_field);
                let body = json!({"idProperty": key_field, "inputs": keys.iter().map(|k| json!({"id": k})).collect::<Vec<_>>(), "properties": props});
                let (r, limits) = self
                    .send(
                        reqwest::Method::POST,
                        &format!("/crm/v3/objects/{object}/batch/read"),
                        Some(body),
                    )
                    .await;
                let value = match r {
                    Ok((_, text)) => parse_hubspot_read(&text, key_field),
                    // 207 with not-found errors is an answer, not a failure.
                    Err(e) if e.status == Some(207) => parse_hubspot_read(&e.body, key_field),
                    Err(e) => Err(e),
                };
                Answer { value, limits }
            }
            Crm::Salesforce => {
                let mut found = HashMap::new();
                let mut limits = Limits::default();
                for k in keys {
                    let (r, l) = self
                        .send(
                            reqwest::Method::GET,
                            &format!(
                                "/services/data/{SALESFORCE_API}/sobjects/{object}/{key_field}/{}",
                                urlencode(k)
                            ),
                            None,
                        )
                        .await;
                    limits = l;
                    match r {
                        Ok((_, text)) => {
                            if let Ok(Value::Object(m)) = serde_json::from_str::<Value>(&text) {
                                found.insert(k.clone(), m);
                            }
                        }
                        Err(e) if e.status == Some(404) => {}
                        Err(e) => {
                            return Answer {
                                value: Err(e),
                                limits,
                            };
                        }
                    }
                }
                Answer {
                    value: Ok(found),
                    limits,
                }
            }
        }
    }
}

fn parse_hubspot_read(
    text: &str,
    key_field: &str,
) -> Result<HashMap<String, Map<String, Value>>, CallError> {
    let v: Value = serde_json::from_str(text).map_err(|e| CallError {
        status: Some(200),
        body: format!("not JSON: {e}"),
        retry_after: None,
        maybe_committed: false,
    })?;
    let mut out = HashMap::new();
    for r in v
        .get("results")
        .and_then(Value::as_array)
        .into_iter()
        .flatten()
    {
        if let Some(props) = r.get("properties").and_then(Value::as_object) {
            let key = props
                .get(key_field)
                .and_then(Value::as_str)
                .unwrap_or_default()
                .to_owned();
            out.insert(key, props.clone());
        }
    }
    Ok(out)
}

fn without(p: &Map<String, Value>, key_field: &str) -> Map<String, Value> {
    p.iter()
        .filter(|(k, _)| k.as_str() != key_field)
        .map(|(k, v)| (k.clone(), v.clone()))
        .collect()
}

fn urlencode(s: &str) -> String {
    s.bytes()
        .map(|b| match b {
            b'A'..=b'Z' | b'a'..=b'z' | b'0'..=b'9' | b'-' | b'_' | b'.' | b'~' | b'@' => {
                (b as char).to_string()
            }
            _ => format!("%{b:02X}"),
        })
        .collect()
}

/// Refreshes an OAuth token at the CRM's token endpoint. The refresh token
/// comes from the caller (an environment variable); neither is printed.
pub async fn refresh_token(base_url: &str, crm: Crm, refresh: &Token) -> Result<Token, CallError> {
    let path = match crm {
        Crm::Hubspot => "/oauth/v1/token",
        Crm::Salesforce => "/services/oauth2/token",
    };
    let http = reqwest::Client::builder()
        .timeout(Duration::from_secs(30))
        .build()
        .map_err(|e| CallError {
            status: None,
            body: e.to_string(),
            retry_after: None,
            maybe_committed: false,
        })?;
    let body = format!(
        "grant_type=refresh_token&refresh_token={}",
        urlencode(refresh.expose())
    );
    let resp = http
        .post(format!("{}{path}", base_url.trim_end_matches('/')))
        .header("content-type", "application/x-www-form-urlencoded")
        .body(body)
        .send()
        .await
        .map_err(|e| CallError {
            status: None,
            body: redact(&e.to_string(), refresh),
            retry_after: None,
            maybe_committed: false,
        })?;
    let status = resp.status().as_u16();
    let text = resp.text().await.unwrap_or_default();
    if status >= 300 {
        return Err(CallError {
            status: Some(status),
            body: redact(&text, refresh),
            retry_after: None,
            maybe_committed: false,
        });
    }
    let v: Value = serde_json::from_str(&text).unwrap_or(Value::Null);
    v.get("access_token")
        .and_then(Value::as_str)
        .map(Token::new)
        .ok_or(CallError {
            status: Some(status),
            body: "no access_token in the answer".into(),
            retry_after: None,
            maybe_committed: false,
        })
}
