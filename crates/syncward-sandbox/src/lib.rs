//! syncward-sandbox: a local CRM that speaks the real HubSpot CRM v3 and
//! Salesforce REST wire formats, with scripted faults (rate limits, expiring
//! tokens, schema drift, duplicate rules, automations that rewrite records,
//! server errors, resets after commit, stalls). For the demo, the tests and
//! the benchmarks; it binds to loopback unless told otherwise.

mod hubspot;
mod salesforce;
pub mod scenario;
mod schema;
mod store;
mod world;

pub use scenario::{Scenario, ScenarioError};

use axum::Router;
use axum::body::{Body, Bytes};
use axum::http::{HeaderMap, HeaderValue, Method, StatusCode, Uri};
use axum::response::Response;
use serde_json::{Value, json};
use std::collections::VecDeque;
use std::net::SocketAddr;
use std::path::PathBuf;
use std::sync::{Arc, Mutex, MutexGuard};
use std::time::{Duration, Instant};
use store::Store;
use world::{Reply, World, iso, now_ms};

/// Exchanges kept for `GET /_sandbox/log` (oldest dropped first).
const LOG_ENTRIES: usize = 20_000;
const LOG_BYTES: usize = 32 << 20;

#[derive(Debug, thiserror::Error)]
pub enum SandboxError {
    #[error("cannot listen on {addr}: {source}")]
    Bind {
        addr: String,
        #[source]
        source: std::io::Error,
    },
    #[error("cannot read the state file {file}: {message}")]
    State { file: String, message: String },
}

struct Log {
    lines: VecDeque<String>,
    bytes: usize,
}

pub struct Shared {
    world: Mutex<World>,
    log: Mutex<Log>,
    base_url: String,
    state_file: Option<PathBuf>,
}

fn lock<T>(m: &Mutex<T>) -> MutexGuard<'_, T> {
    m.lock().unwrap_or_else(std::sync::PoisonError::into_inner)
}

/// A running sandbox.
pub struct Sandbox {
    pub url: String,
    pub addr: SocketAddr,
    shared: Arc<Shared>,
    shutdown: Option<tokio::sync::oneshot::Sender<()>>,
    task: Option<tokio::task::JoinHandle<()>>,
}

impl Sandbox {
    /// Starts serving on `addr` (port 0 picks a free port).
    pub async fn start(
        addr: &str,
        scenario: Scenario,
        state_file: Option<PathBuf>,
    ) -> Result<Sandbox, SandboxError> {
        let listener = tokio::net::TcpListener::bind(addr)
            .await
            .map_err(|source| SandboxError::Bind {
                addr: addr.to_owned(),
                source,
            })?;
        let local = listener.local_addr().map_err(|source| SandboxError::Bind {
            addr: addr.to_owned(),
            source,
        })?;
        let url = format!("http://{local}");
        let mut world = World::new(scenario);
        if let Some(path) = &state_file
            && path.exists()
        {
            let text = std::fs::read_to_string(path).map_err(|e| SandboxError::State {
                file: path.display().to_string(),
                message: e.to_string(),
            })?;
            let mut stores: std::collections::HashMap<String, Store> = serde_json::from_str(&text)
                .map_err(|e| SandboxError::State {
                    file: path.display().to_string(),
                    message: e.to_string(),
                })?;
            for s in stores.values_mut() {
                s.reindex();
            }
            world.stores = stores;
        }
        let shared = Arc::new(Shared {
            world: Mutex::new(world),
            log: Mutex::new(Log {
                lines: VecDeque::new(),
                bytes: 0,
            }),
            base_url: url.clone(),
            state_file,
        });
        let app = Router::new().fallback(handle).with_state(shared.clone());
        let (tx, rx) = tokio::sync::oneshot::channel::<()>();
        let task = tokio::spawn(async move {
            let _ = axum::serve(listener, app)
                .with_graceful_shutdown(async {
                    let _ = rx.await;
                })
                .await;
        });
        Ok(Sandbox {
            url,
            addr: local,
            shared,
            shutdown: Some(tx),
            task: Some(task),
        })
    }

    /// Saves the records to the state file (if any) and stops serving.
    pub async fn stop(mut self) -> Result<(), SandboxError> {
        if let Some(tx) = self.shutdown.take() {
            let _ = tx.send(());
        }
        if let Some(task) = self.task.take() {
            let _ = task.await;
        }
        self.save()
    }

    pub fn save(&self) -> Result<(), SandboxError> {
        let Some(path) = &self.shared.state_file else {
            return Ok(());
        };
        let text = {
            let world = lock(&self.shared.world);
            serde_json::to_string(&world.stores).unwrap_or_else(|_| "{}".into())
        };
        std::fs::write(path, text).map_err(|e| SandboxError::State {
            file: path.display().to_string(),
            message: e.to_string(),
        })
    }

    /// The scenario's name.
    pub fn scenario(&self) -> String {
        lock(&self.shared.world).scenario.name.clone()
    }
}

fn reply_hs_or_sf(
    hs: bool,
    world: &mut World,
    status: u16,
    hs_category: &str,
    sf_code: &str,
    message: &str,
) -> Reply {
    if hs {
        hubspot::error(world, status, hs_category, message, Vec::new())
    } else {
        salesforce::error(status, sf_code, message, &[])
    }
}

async fn handle(
    axum::extract::State(shared): axum::extract::State<Arc<Shared>>,
    method: Method,
    uri: Uri,
    headers: HeaderMap,
    body: Bytes,
) -> Response {
    let started = now_ms();
    let path = uri.path().to_owned();
    let query = uri.query().unwrap_or("").to_owned();
    if let Some(rest) = path.strip_prefix("/_sandbox/") {
        return admin(&shared, &method, rest);
    }
    let hs = path.starts_with("/crm/") || path.starts_with("/oauth/");
    let sf = path.starts_with("/services/");
    let is_write = matches!(
        method,
        Method::POST | Method::PATCH | Method::PUT | Method::DELETE
    ) && !path.ends_with("/token");

    // Latency and stalls happen before the lock is taken.
    let (latency, stall, server_error, reset) = {
        let mut w = lock(&shared.world);
        let limits = if hs {
            &w.scenario.hubspot
        } else {
            &w.scenario.salesforce
        };
        let latency = limits.latency_ms;
        let faults = w.scenario.faults.clone();
        let stall = faults.stall_rate > 0.0 && w.roll() < faults.stall_rate;
        let server_error =
            is_write && faults.server_error_rate > 0.0 && w.roll() < faults.server_error_rate;
        let reset = is_write
            && !server_error
            && faults.reset_after_commit_rate > 0.0
            && w.roll() < faults.reset_after_commit_rate;
        if stall {
            w.stats.stalls += 1;
        }
        (
            latency,
            stall.then_some(faults.stall_ms),
            server_error,
            reset,
        )
    };
    if latency > 0 {
        tokio::time::sleep(Duration::from_millis(latency)).await;
    }
    if let Some(ms) = stall {
        tokio::time::sleep(Duration::from_millis(ms)).await;
    }

    let reply = {
        let mut w = lock(&shared.world);
        w.stats.requests += 1;
        let reply = if !hs && !sf {
            Reply::json(
                404,
                json!({"status": "error", "message": format!("No such endpoint: {path}"), "category": "OBJECT_NOT_FOUND"}),
            )
        } else if path.ends_with("/token")
            && (path.starts_with("/oauth/") || path.starts_with("/services/oauth2/"))
        {
            token(&mut w, hs, &body, &shared.base_url)
        } else if let Some(r) = gate(&mut w, hs, &headers) {
            r
        } else if server_error {
            w.stats.server_errors_injected += 1;
            reply_hs_or_sf(
                hs,
                &mut w,
                if hs { 502 } else { 503 },
                "INTERNAL_ERROR",
                "SERVER_UNAVAILABLE",
                "internal error: the server is temporarily unable to handle the request",
            )
        } else if hs {
            route_hubspot(&mut w, &method, &path, &query, &body)
        } else {
            route_salesforce(&mut w, &method, &path, &body)
        };
        let mut reply = reply;
        add_limit_headers(&mut w, hs, &mut reply);
        *w.stats.responses.entry(reply.status).or_default() += 1;
        if reset && reply.status < 300 {
            w.stats.resets_after_commit += 1;
        }
        reply
    };

    record(&shared, started, &method, &uri, &body, &reply, hs);
    if reset && reply.status < 300 {
        // The write committed; the client never hears back.
        let stream = futures_util::stream::once(async {
            Err::<Bytes, std::io::Error>(std::io::Error::new(
                std::io::ErrorKind::ConnectionReset,
                "connection reset after commit",
            ))
        });
        return Response::builder()
            .status(StatusCode::OK)
            .header("content-type", "application/json")
            .header("content-length", "64")
            .body(Body::from_stream(stream))
            .unwrap_or_else(|_| Response::new(Body::empty()));
    }
    to_response(reply)
}

fn to_response(reply: Reply) -> Response {
    let status = StatusCode::from_u16(reply.status).unwrap_or(StatusCode::INTERNAL_SERVER_ERROR);
    let body = if reply.status == 204 {
        Body::empty()
    } else {
        Body::from(reply.body.to_string())
    };
    let mut resp = Response::builder().status(status);
    if reply.status != 204 {
        resp = resp.header("content-type", "application/json;charset=UTF-8");
    }
    for (k, v) in &reply.headers {
        if let Ok(v) = HeaderValue::from_str(v) {
            resp = resp.header(*k, v);
        }
    }
    resp.body(body)
        .unwrap_or_else(|_| Response::new(Body::empty()))
}

/// Bearer token, expiry and rate limits. `Some` is the refusal.
fn gate(w: &mut World, hs: bool, headers: &HeaderMap) -> Option<Reply> {
    let token = headers
        .get("authorization")
        .and_then(|v| v.to_str().ok())
        .and_then(|v| {
            v.strip_prefix("Bearer ")
                .or_else(|| v.strip_prefix("OAuth "))
        })
        .map(str::trim)
        .unwrap_or("");
    let expire_after = w.scenario.tokens.expire_after_requests;
    let state = w.tokens.get_mut(token).map(|n| {
        *n += 1;
        *n
    });
    match state {
        None => {
            return Some(if hs {
                hubspot::error(
                    w,
                    401,
                    "INVALID_AUTHENTICATION",
                    "Authentication credentials not found. This API supports OAuth 2.0 authentication and you can find more details at https://developers.hubspot.com/docs/methods/auth/oauth-overview",
                    Vec::new(),
                )
            } else {
                salesforce::error(401, "INVALID_SESSION_ID", "Session expired or invalid", &[])
            });
        }
        Some(n) if expire_after.is_some_and(|max| n > max) => {
            return Some(if hs {
                hubspot::error(
                    w,
                    401,
                    "EXPIRED_AUTHENTICATION",
                    &format!(
                        "The OAuth token used to make this call expired {} second(s) ago.",
                        n - expire_after.unwrap_or(0)
                    ),
                    Vec::new(),
                )
            } else {
                salesforce::error(401, "INVALID_SESSION_ID", "Session expired or invalid", &[])
            });
        }
        Some(_) => {}
    }
    if hs {
        let limits = w.scenario.hubspot.clone();
        if let Some(max) = limits.daily_requests
            && w.hs_daily >= max
        {
            let mut r = hubspot::error(
                w,
                429,
                "RATE_LIMITS",
                "You have reached your daily limit.",
                Vec::new(),
            );
            r.body["errorType"] = json!("RATE_LIMIT");
            r.body["policyName"] = json!("DAILY");
            return Some(r);
        }
        if let Some(max) = limits.window_requests {
            let now = Instant::now();
            let window = Duration::from_millis(limits.window_ms);
            while w
                .hs_window
                .front()
                .is_some_and(|t| now.duration_since(*t) >= window)
            {
                w.hs_window.pop_front();
            }
            if w.hs_window.len() >= max as usize {
                let wait = w
                    .hs_window
                    .front()
                    .map_or(window, |t| window.saturating_sub(now.duration_since(*t)));
                let mut r = hubspot::error(
                    w,
                    429,
                    "RATE_LIMITS",
                    "You have reached your ten_secondly_rolling limit.",
                    Vec::new(),
                );
                r.body["errorType"] = json!("RATE_LIMIT");
                r.body["policyName"] = json!("TEN_SECONDLY_ROLLING");
                r.body["groupName"] = json!("publicapi:private-app-id:1234567");
                r.headers.push((
                    "Retry-After",
                    wait.as_secs_f64().ceil().max(1.0).to_string(),
                ));
                return Some(r);
            }
            w.hs_window.push_back(now);
        }
        w.hs_daily += 1;
    } else {
        if let Some(max) = w.scenario.salesforce.daily_requests
            && w.sf_daily >= max
        {
            return Some(salesforce::error(
                403,
                "REQUEST_LIMIT_EXCEEDED",
                "TotalRequests Limit exceeded.",
                &[],
            ));
        }
        w.sf_daily += 1;
    }
    None
}

fn add_limit_headers(w: &mut World, hs: bool, reply: &mut Reply) {
    if hs {
        let lim = &w.scenario.hubspot;
        if let Some(max) = lim.window_requests {
            let remaining = (max as usize).saturating_sub(w.hs_window.len());
            reply
                .headers
                .push(("X-HubSpot-RateLimit-Max", max.to_string()));
            reply
                .headers
                .push(("X-HubSpot-RateLimit-Remaining", remaining.to_string()));
            reply.headers.push((
                "X-HubSpot-RateLimit-Interval-Milliseconds",
                lim.window_ms.to_string(),
            ));
            reply.headers.push((
                "X-HubSpot-RateLimit-Secondly",
                (max as u64 * 1000 / lim.window_ms.max(1)).to_string(),
            ));
        }
        if let Some(daily) = lim.daily_requests {
            reply
                .headers
                .push(("X-HubSpot-RateLimit-Daily", daily.to_string()));
            reply.headers.push((
                "X-HubSpot-RateLimit-Daily-Remaining",
                daily.saturating_sub(w.hs_daily).to_string(),
            ));
        }
    } else {
        let cap = w.scenario.salesforce.daily_requests.unwrap_or(15_000);
        reply.headers.push((
            "Sforce-Limit-Info",
            format!("api-usage={}/{cap}", w.sf_daily),
        ));
    }
}

fn form_value<'a>(body: &'a str, key: &str) -> Option<&'a str> {
    body.split('&')
        .find_map(|kv| kv.strip_prefix(key).and_then(|r| r.strip_prefix('=')))
}

/// OAuth token endpoints: a password or client-credentials login gives the
/// scenario's token; a refresh gives a fresh one (or `invalid_grant`).
fn token(w: &mut World, hs: bool, body: &[u8], base_url: &str) -> Reply {
    let text = String::from_utf8_lossy(body).to_string();
    let grant = form_value(&text, "grant_type")
        .map(str::to_owned)
        .or_else(|| {
            serde_json::from_str::<Value>(&text).ok().and_then(|v| {
                v.get("grant_type")
                    .and_then(Value::as_str)
                    .map(str::to_owned)
            })
        })
        .unwrap_or_default();
    let invalid = |desc: &str| {
        Reply::json(
            400,
            json!({"error": "invalid_grant", "error_description": desc}),
        )
    };
    match grant.as_str() {
        "refresh_token" => {
            if w.scenario.tokens.refresh_revoked {
                return if hs {
                    Reply::json(
                        400,
                        json!({"status": "BAD_REFRESH_TOKEN", "message": "missing or invalid refresh token", "correlationId": "00000000-0000-4000-8000-000000000000", "error": "invalid_grant", "error_description": "missing or invalid refresh token"}),
                    )
                } else {
                    invalid("expired access/refresh token")
                };
            }
            let fresh = format!("sandbox-token-{}", w.tokens.len() + 1);
            w.tokens.insert(fresh.clone(), 0);
            issue(hs, &fresh, base_url)
        }
        "password"
        | "client_credentials"
        | "authorization_code"
        | "urn:ietf:params:oauth:grant-type:jwt-bearer" => {
            let t = w.scenario.token.clone();
            w.tokens.entry(t.clone()).or_insert(0);
            issue(hs, &t, base_url)
        }
        "" => Reply::json(
            400,
            json!({"error": "invalid_request", "error_description": "grant type is missing"}),
        ),
        other => Reply::json(
            400,
            json!({"error": "unsupported_grant_type", "error_description": format!("grant type not supported: {other}")}),
        ),
    }
}

fn issue(hs: bool, token: &str, base_url: &str) -> Reply {
    if hs {
        Reply::json(
            200,
            json!({"access_token": token, "refresh_token": "sandbox-refresh-token", "expires_in": 1800, "token_type": "bearer"}),
        )
    } else {
        Reply::json(
            200,
            json!({"access_token": token, "refresh_token": "sandbox-refresh-token", "instance_url": base_url, "id": format!("{base_url}/id/00D000000000001AAA/005000000000001AAA"), "token_type": "Bearer", "issued_at": now_ms().to_string(), "signature": "c2FuZGJveA=="}),
        )
    }
}

fn method_not_allowed(w: &mut World, hs: bool, method: &Method, allowed: &str) -> Reply {
    if hs {
        hubspot::error(
            w,
            405,
            "VALIDATION_ERROR",
            &format!("HTTP {method} is not supported by this endpoint; allowed: {allowed}"),
            Vec::new(),
        )
    } else {
        salesforce::error(
            405,
            "METHOD_NOT_ALLOWED",
            &format!("HTTP Method '{method}' not allowed. Allowed are {allowed}"),
            &[],
        )
    }
}

fn route_hubspot(w: &mut World, method: &Method, path: &str, query: &str, body: &[u8]) -> Reply {
    let segs: Vec<&str> = path.trim_matches('/').split('/').collect();
    match segs.as_slice() {
        ["crm", "v3", "properties", object] => match *method {
            Method::GET => hubspot::properties(w, object),
            _ => method_not_allowed(w, true, method, "GET"),
        },
        ["crm", "v3", "objects", object] => match *method {
            Method::POST => hubspot::create_one(w, object, body),
            _ => method_not_allowed(w, true, method, "POST"),
        },
        ["crm", "v3", "objects", object, "batch", action] => match *method {
            Method::POST => hubspot::batch(w, object, action, body),
            _ => method_not_allowed(w, true, method, "POST"),
        },
        ["crm", "v3", "objects", object, id] => match *method {
            Method::GET => hubspot::get_one(w, object, id, query),
            Method::PATCH => hubspot::update_one(w, object, id, query, body),
            _ => method_not_allowed(w, true, method, "GET, PATCH"),
        },
        ["oauth", "v1", "access-tokens", token] => hubspot::token_info(w, token),
        _ => hubspot::error(
            w,
            404,
            "OBJECT_NOT_FOUND",
            &format!("No such endpoint: {path}"),
            Vec::new(),
        ),
    }
}

fn route_salesforce(w: &mut World, method: &Method, path: &str, body: &[u8]) -> Reply {
    let segs: Vec<&str> = path.trim_matches('/').split('/').collect();
    let rest: &[&str] = match segs.as_slice() {
        ["services", "data", version, rest @ ..] if version.starts_with('v') => rest,
        _ => return salesforce::not_found(),
    };
    match rest {
        [] => Reply::json(
            200,
            json!({"sobjects": "/services/data/v62.0/sobjects", "composite": "/services/data/v62.0/composite"}),
        ),
        ["sobjects", object, "describe"] => match *method {
            Method::GET => salesforce::describe(w, object),
            _ => method_not_allowed(w, false, method, "GET"),
        },
        ["sobjects", object] => match *method {
            Method::POST => salesforce::create(w, object, body),
            Method::GET => salesforce::describe(w, object),
            _ => method_not_allowed(w, false, method, "GET, POST"),
        },
        ["sobjects", object, id] => match *method {
            Method::GET => salesforce::get_by_id(w, object, id),
            Method::PATCH => salesforce::update_by_id(w, object, id, body),
            _ => method_not_allowed(w, false, method, "GET, PATCH"),
        },
        ["sobjects", object, field, value] => match *method {
            Method::GET => salesforce::get_by_external(w, object, field, value),
            Method::PATCH => salesforce::upsert_one(w, object, field, value, body),
            _ => method_not_allowed(w, false, method, "GET, PATCH"),
        },
        ["composite", "sobjects"] => match *method {
            Method::POST => salesforce::collections(w, None, body),
            _ => method_not_allowed(w, false, method, "POST"),
        },
        ["composite", "sobjects", object, field] => match *method {
            Method::PATCH => salesforce::collections(w, Some((object, field)), body),
            _ => method_not_allowed(w, false, method, "PATCH"),
        },
        _ => salesforce::not_found(),
    }
}

/// Appends the exchange to the log in the HTTP exchange format `diagnose` reads.
fn record(
    shared: &Shared,
    ts: i64,
    method: &Method,
    uri: &Uri,
    body: &[u8],
    reply: &Reply,
    hs: bool,
) {
    let url = format!("{}{}", shared.base_url, uri);
    let mut request: Value = serde_json::from_slice(body).unwrap_or_else(|_| {
        if body.is_empty() {
            Value::Null
        } else {
            Value::String(redact(&String::from_utf8_lossy(body)))
        }
    });
    let mut response = reply.body.clone();
    for v in [&mut request, &mut response] {
        if let Some(obj) = v.as_object_mut() {
            for key in ["access_token", "refresh_token", "client_secret", "password"] {
                if obj.contains_key(key) {
                    obj.insert(key.into(), json!("**REDACTED**"));
                }
            }
        }
    }
    let headers: serde_json::Map<String, Value> = reply
        .headers
        .iter()
        .map(|(k, v)| ((*k).to_owned(), Value::String(v.clone())))
        .collect();
    let _ = hs;
    let line = json!({"ts": iso(ts), "method": method.as_str(), "url": url, "status": reply.status, "headers": headers, "request": request, "response": response}).to_string();
    let mut log = lock(&shared.log);
    log.bytes += line.len();
    log.lines.push_back(line);
    while log.lines.len() > LOG_ENTRIES || log.bytes > LOG_BYTES {
        match log.lines.pop_front() {
            Some(old) => log.bytes -= old.len(),
            None => break,
        }
    }
}

/// Form bodies carry secrets: keep the keys, hide the values.
fn redact(form: &str) -> String {
    form.split('&')
        .map(|kv| match kv.split_once('=') {
            Some((k, _))
                if [
                    "refresh_token",
                    "client_secret",
                    "password",
                    "code",
                    "assertion",
                    "client_assertion",
                ]
                .contains(&k) =>
            {
                format!("{k}=**REDACTED**")
            }
            _ => kv.to_owned(),
        })
        .collect::<Vec<_>>()
        .join("&")
}

fn admin(shared: &Shared, method: &Method, rest: &str) -> Response {
    let reply = match (method.as_str(), rest.trim_end_matches('/')) {
        ("GET", "stats") => {
            let w = lock(&shared.world);
            let mut v = serde_json::to_value(&w.stats).unwrap_or(Value::Null);
            v["scenario"] = json!(w.scenario.name);
            v["writes"] = json!(w.writes);
            v["records"] = json!(
                w.stores
                    .iter()
                    .map(|(k, s)| (k.clone(), s.records.len()))
                    .collect::<std::collections::HashMap<_, _>>()
            );
            Reply::json(200, v)
        }
        ("GET", "log") => {
            let log = lock(&shared.log);
            let mut text = String::with_capacity(log.bytes + log.lines.len());
            for l in &log.lines {
                text.push_str(l);
                text.push('\n');
            }
            return Response::builder()
                .header("content-type", "application/x-ndjson")
                .body(Body::from(text))
                .unwrap_or_else(|_| Response::new(Body::empty()));
        }
        ("POST", "reset") => {
            lock(&shared.world).reset();
            let mut log = lock(&shared.log);
            log.lines.clear();
            log.bytes = 0;
            Reply::json(200, json!({"reset": true}))
        }
        ("GET", r) if r.starts_with("records/") => {
            let object = &r["records/".len()..];
            let w = lock(&shared.world);
            let vendor_obj = w
                .objects
                .iter()
                .find(|o| o.name == object || o.name.eq_ignore_ascii_case(object))
                .cloned();
            match vendor_obj {
                Some(o) => {
                    let list: Vec<Value> = w
                        .stores
                        .get(&o.name)
                        .map(|s| s.records.iter().map(|r| w.record_json(&o, r)).collect())
                        .unwrap_or_default();
                    Reply::json(200, Value::Array(list))
                }
                None => Reply::json(404, json!({"error": format!("unknown object {object}")})),
            }
        }
        _ => Reply::json(
            404,
            json!({"error": format!("unknown admin endpoint /_sandbox/{rest} (records/OBJECT, stats, log, reset)")}),
        ),
    };
    to_response(reply)
}
