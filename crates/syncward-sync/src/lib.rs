//! syncward-sync: a re-sync that cannot make the day worse. In the
//! checklist's order: preflight (bad rows go to the review queue), an auth
//! check, **one test record** read back and compared, then batches that are
//! deduplicated by key, sized to the CRM's cap and shrunk on transport
//! trouble, paced to its rate limit, written to the journal before they are
//! sent and after they are answered. Failures are classified by the same
//! engine as `diagnose`; the same stop rules stop the run.

use serde::Serialize;
use serde_json::{Map, Value};
use std::borrow::Cow;
use std::collections::HashSet;
use std::path::PathBuf;
use std::sync::Arc;
use std::time::{Duration, Instant};
use syncward_core::check::mapping::Mapping;
use syncward_core::check::schema::Schema;
use syncward_core::check::{Checker, SetupInput, Severity};
use syncward_core::diagnose::{Analyzer, Context, Diagnosis, StopRuleId};
use syncward_core::event::{Changed, Op, Origin, Status};
use syncward_core::{Classifier, Event, Input, Layer};
use syncward_crm::write::{CallError, Limits, WriteResult};
use syncward_crm::{Client, Crm, Token};
use syncward_store::Journal;

#[derive(Debug, thiserror::Error)]
pub enum SyncError {
    #[error("{0}")]
    Crm(#[from] syncward_crm::CrmError),
    #[error("{0}")]
    Store(#[from] syncward_store::StoreError),
    #[error("{0}")]
    Schema(#[from] syncward_core::check::schema::SchemaError),
    #[error("cannot read the source {file}: {message}")]
    Source { file: String, message: String },
}

pub struct Options {
    pub mapping: Mapping,
    pub mapping_path: String,
    pub source: PathBuf,
    pub crm_url: String,
    pub token: Token,
    /// Used once to get a new access token when the CRM says the token expired.
    pub refresh_token: Option<Token>,
    pub dry_run: bool,
    pub batch_size: Option<usize>,
    pub resume: bool,
    /// Every event of the run, as syncward JSON Lines (what `diagnose` reads).
    pub events_file: Option<PathBuf>,
    /// Called with (records done, records to do) as the run moves.
    pub progress: Option<Box<dyn Fn(u64, u64) + Send>>,
}

/// What happened to the test record.
#[derive(Debug, Clone, Serialize)]
pub struct TestRecord {
    pub key: String,
    pub landed: bool,
    /// Fields the CRM changed right after the write: (field, sent, now).
    pub rewritten: Vec<(String, String, String)>,
}

#[derive(Debug, Clone, Serialize)]
pub struct Report {
    pub run: i64,
    pub resumed: bool,
    pub dry_run: bool,
    pub source_rows: u64,
    /// Rows preflight held back (in the review queue).
    pub held_by_preflight: u64,
    pub confirmed: u64,
    /// Already confirmed by an earlier attempt of this run (resume).
    pub already_confirmed: u64,
    pub queued: u64,
    /// Not sent because the run stopped first.
    pub not_sent: u64,
    pub batches: u64,
    pub requests: u64,
    pub retries: u64,
    pub final_batch_size: usize,
    pub test_record: Option<TestRecord>,
    /// Why the run stopped early, in plain words.
    pub stopped: Option<String>,
    /// What went wrong around the records (the events file, the journal's run
    /// summary), in plain words. The records themselves are still accounted for.
    pub warnings: Vec<String>,
    #[serde(skip)]
    pub diagnosis: Option<Diagnosis>,
}

fn now_ms() -> i64 {
    std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map_or(0, |d| d.as_millis() as i64)
}

struct Pacer {
    min_gap: Duration,
    next: Instant,
    backed_off: bool,
}

impl Pacer {
    fn new(crm: Crm) -> Pacer {
        // HubSpot's lowest tier allows 100 requests per 10 s: start at that pace.
        let gap = match crm {
            Crm::Hubspot => Duration::from_millis(100),
            Crm::Salesforce => Duration::from_millis(0),
        };
        Pacer {
            min_gap: gap,
            next: Instant::now(),
            backed_off: false,
        }
    }

    async fn wait(&mut self) {
        let now = Instant::now();
        if self.next > now {
            tokio::time::sleep(self.next - now).await;
        }
        self.next = Instant::now() + self.min_gap;
    }

    /// Adapts to the CRM's own numbers; never sends inside a penalty window.
    fn observe(&mut self, limits: &Limits, retry_after: Option<Duration>) {
        if let (Some(max), Some(interval)) = (limits.max, limits.interval_ms)
            && max > 0
        {
            // A hair under the CRM's pace: its window rolls, so exactly at the
            // limit would meet a 429 now and then.
            let pace = Duration::from_micros(interval * 1000 / max) * 51 / 50;
            self.min_gap = if self.backed_off {
                self.min_gap.max(pace)
            } else {
                pace
            };
        }
        if let Some(rem) = limits.remaining
            && rem <= 1
        {
            self.next = self.next.max(Instant::now() + self.min_gap * 2);
        }
        if let Some(wait) = retry_after {
            // Never send inside a penalty window; slow down a little for good.
            self.next = self.next.max(Instant::now() + wait);
            self.backed_off = true;
            self.min_gap = (self.min_gap * 11 / 10).max(Duration::from_millis(10));
        }
    }
}

/// What to do about a failed write: the retry decision, by the error's layer.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Retry {
    /// Retry once, after this long (transient: timeouts, 5xx, resets, row locks).
    Once(Duration),
    /// Never retry automatically: mapping, dedupe, workflow, record errors go to the review queue.
    Never,
    /// Nothing more can go through today (a daily quota): stop the run.
    StopRun(String),
}

/// The retry decision as a trait, so a connector can say "retry only these".
pub trait RetryLogic {
    /// `status` is the HTTP status (None: no answer), `text` the CRM's error.
    fn decide(&self, status: Option<u16>, text: &str, attempt: u32) -> Retry;
}

/// The default: the classifier's layer and transient flag decide.
pub struct LayerRetry<'c> {
    pub engine: &'c Classifier,
    pub crm: Option<syncward_core::Crm>,
}

impl RetryLogic for LayerRetry<'_> {
    fn decide(&self, status: Option<u16>, text: &str, attempt: u32) -> Retry {
        let quota = text.contains("REQUEST_LIMIT_EXCEEDED")
            || text.contains("daily limit")
            || (text.contains("\"DAILY\"") && status == Some(429));
        if quota {
            return Retry::StopRun("the CRM's daily API allocation is used up: nothing more goes through today; resume after it resets (syncward sync --resume)".into());
        }
        if attempt > 1 {
            return Retry::Never;
        }
        let c = self.engine.classify(&Input {
            text,
            crm: self.crm,
            http_status: status,
        });
        let transient = status.is_none()
            || matches!(status, Some(408 | 429 | 500..=599))
            || (c.transient && c.layer == Layer::Transport);
        if transient {
            // Jittered, so several runners do not retry in step.
            let jitter = (text.len() as u64 * 37 + u64::from(attempt) * 101) % 250;
            Retry::Once(Duration::from_millis(250 + jitter))
        } else {
            Retry::Never
        }
    }
}

/// One row ready to send.
#[derive(Clone)]
struct Row {
    key: String,
    line: u64,
    props: Map<String, Value>,
}

struct Run<'a> {
    opts: &'a Options,
    crm: Crm,
    client: Client,
    analyzer: Analyzer<'a>,
    engine: &'a Classifier,
    ctx: Context,
    journal: &'a mut dyn Journal,
    run: i64,
    events: Option<std::io::BufWriter<std::fs::File>>,
    origin_file: Arc<str>,
    seq: u64,
    pacer: Pacer,
    report: Report,
    refreshed: bool,
    /// The CRM said the day's allocation is used (Sforce-Limit-Info).
    quota_exhausted: bool,
    /// Failures seen when the stop rules were last evaluated.
    failures_checked: u64,
}

pub async fn run(
    opts: &Options,
    engine: &Classifier,
    journal: &mut dyn Journal,
) -> Result<Report, SyncError> {
    let crm = Crm::parse(&opts.mapping.crm).unwrap_or(Crm::Hubspot);
    let client = Client::new(&opts.crm_url, opts.token.clone())?;
    let source_name = opts.source.display().to_string();
    let resumed_run = if opts.resume {
        journal.unfinished_run(&source_name, &opts.mapping_path)?
    } else {
        None
    };
    let resumed = resumed_run.is_some();
    let run_id = match &resumed_run {
        Some(r) => r.id,
        None if opts.dry_run => 0,
        None => journal.begin_run(
            &opts.mapping.crm,
            &opts.mapping.object,
            &source_name,
            &opts.mapping_path,
            now_ms(),
        )?,
    };
    let ctx = Context {
        crm: syncward_core::Crm::parse_loose(&opts.mapping.crm),
        ..Context::default()
    };
    let events = match &opts.events_file {
        Some(p) => {
            if let Some(dir) = p.parent() {
                let _ = std::fs::create_dir_all(dir);
            }
            Some(std::io::BufWriter::new(
                std::fs::OpenOptions::new()
                    .create(true)
                    .append(true)
                    .open(p)
                    .map_err(|e| SyncError::Source {
                        file: p.display().to_string(),
                        message: e.to_string(),
                    })?,
            ))
        }
        None => None,
    };
    let origin_file: Arc<str> = Arc::from(
        opts.events_file
            .as_ref()
            .map_or_else(|| format!("run-{run_id}"), |p| p.display().to_string()),
    );

    // 1. The schema, which is also the auth check.
    let mut r = Run::new(
        opts,
        crm,
        client,
        engine,
        ctx,
        journal,
        run_id,
        events,
        origin_file,
        resumed,
    );
    let schema_text = match r.client.schema(crm, &opts.mapping.object).await {
        Ok(t) => t,
        Err(syncward_crm::CrmError::Refused { status: 401, .. })
            if opts.refresh_token.is_some() =>
        {
            let refresh = opts.refresh_token.clone().unwrap_or_else(|| Token::new(""));
            match syncward_crm::write::refresh_token(&opts.crm_url, crm, &refresh).await {
                Ok(t) => {
                    r.client.set_token(t);
                    r.refreshed = true;
                    r.client.schema(crm, &opts.mapping.object).await?
                }
                Err(e) => {
                    let mut ev = r.new_event(Status::Failed, Op::Reconnect, None, e.status);
                    ev.message = Some(Cow::Owned(e.body.clone()));
                    r.emit(ev);
                    return Ok(r.stop("the token expired and the refresh failed: reconnect the account (a person must do it)").await);
                }
            }
        }
        Err(e) => return Err(e.into()),
    };
    let schema = Schema::parse(&opts.crm_url, &schema_text, Some(&opts.mapping.object))?;
    let ev = r.new_event(Status::Ok, Op::Auth, None, Some(200));
    r.emit(ev);

    // 2. Preflight: bad rows go to the review queue, the clean set continues.
    // The token's scopes must cover the object (HubSpot says which it has).
    let scopes = if crm == Crm::Hubspot {
        r.client.hubspot_scopes().await.ok()
    } else {
        None
    };
    let (rows, held, total) = r.preflight(&schema, scopes.as_deref())?;
    r.report.source_rows = total;
    r.report.held_by_preflight = held;
    if r.report.stopped.is_some() {
        return Ok(r.finish().await);
    }

    // 3. Resume: what is confirmed stays; in-flight batches are resolved by reading back.
    let mut todo: Vec<Row> = rows;
    if resumed {
        let confirmed = r.resolve_in_flight(&todo).await?;
        let queued = r.journal.queued(run_id)?;
        let before = todo.len();
        todo.retain(|row| !confirmed.contains(&row.key) && !queued.contains(&row.key));
        r.report.already_confirmed = (before - todo.len()) as u64;
    }
    if opts.dry_run {
        r.report.not_sent += todo.len() as u64;
        r.report.stopped = Some(format!(
            "dry run: {} record(s) would be sent; nothing was written",
            todo.len()
        ));
        return Ok(r.finish().await);
    }
    if todo.is_empty() {
        return Ok(r.finish().await);
    }

    // 4. One test record, read back and compared.
    let first = todo.remove(0);
    let test = r.test_record(&first).await?;
    let landed = test.landed;
    let rewritten = !test.rewritten.is_empty();
    r.report.test_record = Some(test);
    if rewritten {
        r.report.not_sent += todo.len() as u64;
        return Ok(r.stop("the CRM rewrote the test record right after the write (a workflow or assignment rule): freeze that automation before sending the batch").await);
    }
    if !landed && r.report.stopped.is_some() {
        r.report.not_sent += todo.len() as u64;
        return Ok(r.finish().await);
    }

    // 5. The batches.
    let cap = schema.batch_cap();
    // The chosen size is the ceiling: shrink on transport trouble, grow back to it.
    let ceiling = opts
        .batch_size
        .or(opts.mapping.batch_size)
        .unwrap_or(cap)
        .clamp(1, cap);
    let mut size = ceiling;
    let mut queue_at = 0usize;
    while queue_at < todo.len() {
        let end = (queue_at + size).min(todo.len());
        let batch: Vec<Row> = todo[queue_at..end].to_vec();
        queue_at = end;
        match r.send_batch(batch, size).await? {
            Flow::Continue { transport_trouble } => {
                size = if transport_trouble {
                    (size / 2).max(1)
                } else {
                    (size + size / 4 + 1).min(ceiling)
                };
            }
            Flow::Stop(why) => {
                r.report.not_sent += (todo.len() - queue_at) as u64;
                r.report.final_batch_size = size;
                return Ok(r.stop(&why).await);
            }
        }
        if let Some(p) = &opts.progress {
            p(queue_at as u64 + 1, todo.len() as u64 + 1);
        }
    }
    r.report.final_batch_size = size;
    Ok(r.finish().await)
}

enum Flow {
    Continue { transport_trouble: bool },
    Stop(String),
}

impl<'a> Run<'a> {
    #[allow(clippy::too_many_arguments)]
    fn new(
        opts: &'a Options,
        crm: Crm,
        client: Client,
        engine: &'a Classifier,
        ctx: Context,
        journal: &'a mut dyn Journal,
        run: i64,
        events: Option<std::io::BufWriter<std::fs::File>>,
        origin_file: Arc<str>,
        resumed: bool,
    ) -> Run<'a> {
        Run {
            opts,
            crm,
            client,
            analyzer: Analyzer::new(engine, &ctx),
            engine,
            ctx,
            journal,
            run,
            events,
            origin_file,
            seq: 0,
            pacer: Pacer::new(crm),
            report: Report {
                run,
                resumed,
                dry_run: opts.dry_run,
                source_rows: 0,
                held_by_preflight: 0,
                confirmed: 0,
                already_confirmed: 0,
                queued: 0,
                not_sent: 0,
                batches: 0,
                requests: 0,
                retries: 0,
                final_batch_size: 0,
                test_record: None,
                stopped: None,
                warnings: Vec::new(),
                diagnosis: None,
            },
            refreshed: false,
            quota_exhausted: false,
            failures_checked: 0,
        }
    }

    /// A new event of this run, stamped with its time, run, CRM and object;
    /// the caller fills in the rest and hands it to [`Runner::emit`].
    fn new_event(
        &mut self,
        status: Status,
        op: Op,
        record: Option<&str>,
        http: Option<u16>,
    ) -> Event<'static> {
        self.seq += 1;
        let mut ev = Event::new(
            status,
            Origin {
                file: self.origin_file.clone(),
                line: self.seq,
            },
        );
        ev.ts = Some(now_ms());
        ev.run = Some(Cow::Owned(format!("run-{}", self.run)));
        ev.crm = syncward_core::Crm::parse_loose(&self.opts.mapping.crm);
        ev.object = Some(Cow::Owned(self.opts.mapping.object.clone()));
        ev.op = Some(op);
        ev.record = record.map(|r| Cow::Owned(r.to_owned()));
        ev.http_status = http.filter(|h| *h > 0);
        ev
    }

    /// A record the CRM confirmed, as one event of batch `batch_no`.
    fn emit_landed(&mut self, key: &str, w: &WriteResult, batch_no: u64, size: usize) {
        let op = if w.created == Some(true) {
            Op::Create
        } else {
            Op::Upsert
        };
        let mut ev = self.new_event(Status::Ok, op, Some(key), Some(200));
        ev.crm_id = w.crm_id.clone().map(Cow::Owned);
        in_batch(&mut ev, batch_no, size);
        self.emit(ev);
    }

    /// The events file stopped taking writes: say so once and stop writing to it.
    fn events_failed(&mut self, e: &std::io::Error) {
        self.events = None;
        self.report.warnings.push(format!(
            "could not write the events file {} ({e}); it is missing this run's later events",
            self.origin_file
        ));
    }

    /// Records one event: into the analyzer (live stop rules) and the events file.
    fn emit(&mut self, ev: Event<'static>) {
        self.analyzer.push(&ev);
        if let Some(w) = &mut self.events {
            use std::io::Write;
            let mut obj = serde_json::json!({
                "ts": ev.ts, "run": ev.run, "crm": self.opts.mapping.crm, "object": ev.object, "op": ev.op.map(|op| format!("{op:?}").to_lowercase()),
                "record": ev.record, "crm_id": ev.crm_id, "status": format!("{:?}", ev.status).to_lowercase(), "http_status": ev.http_status,
                "code": ev.code, "message": ev.message, "fields": ev.fields, "batch": ev.batch, "batch_size": ev.batch_size,
            });
            if let Some(c) = &ev.changed {
                obj["changed"] =
                    serde_json::json!({"field": c.field, "from": c.from, "to": c.to, "by": c.by});
            }
            if let Err(e) = writeln!(w, "{obj}") {
                self.events_failed(&e);
            }
        }
    }

    fn preflight(
        &mut self,
        schema: &Schema,
        scopes: Option<&[String]>,
    ) -> Result<(Vec<Row>, u64, u64), SyncError> {
        let src = &self.opts.source;
        let err = |e: &dyn std::fmt::Display| SyncError::Source {
            file: src.display().to_string(),
            message: e.to_string(),
        };
        let file = syncward_ingest::open_text(&src.to_string_lossy()).map_err(|e| err(&e))?;
        let mut rdr = csv::ReaderBuilder::new().flexible(true).from_reader(file);
        let headers: Vec<String> = rdr
            .headers()
            .map_err(|e| err(&e))?
            .iter()
            .map(|h| h.trim_start_matches('\u{feff}').trim().to_owned())
            .collect();
        let mut checker = Checker::new(
            &self.opts.mapping,
            schema,
            &headers,
            &SetupInput {
                batch_size: self.opts.batch_size,
                scopes,
                ..SetupInput::default()
            },
        );
        let setup_errors: Vec<String> = checker
            .setup_findings()
            .iter()
            .filter(|f| f.severity == Severity::Error)
            .map(|f| format!("{}: {}", f.kind, f.message))
            .collect();
        if !setup_errors.is_empty() {
            self.report.stopped = Some(format!(
                "the mapping does not fit the CRM's schema: {}",
                setup_errors.join("; ")
            ));
            return Ok((Vec::new(), 0, 0));
        }
        let fields = checker.crm_fields();
        let key_pos = headers.iter().position(|h| h == checker.key_column());
        let mut rows = Vec::new();
        let mut held = 0;
        let mut total = 0;
        // Rows a person has not looked at yet stay held; released ones come back.
        let already_queued = self.journal.held()?;
        for (i, rec) in rdr.records().enumerate() {
            total += 1;
            let row_no = i as u64 + 1;
            let rec = match rec {
                Ok(r) => r,
                Err(e) => {
                    held += 1;
                    if !self.opts.dry_run {
                        self.journal.enqueue(&syncward_store::NewItem {
                            run: self.run,
                            key: &format!("row {row_no}"),
                            layer: "record",
                            reason: &format!("unreadable row: {e}"),
                            evidence: &format!("{}:{}", src.display(), row_no + 1),
                            payload: &Value::Null,
                            now_ms: now_ms(),
                        })?;
                        self.report.queued += 1;
                    }
                    continue;
                }
            };
            let cells: Vec<&str> = rec.iter().collect();
            let out = checker.check_row(row_no, &cells);
            let key = key_pos
                .and_then(|p| cells.get(p))
                .map(|k| k.trim().to_owned())
                .unwrap_or_default();
            let mut props = Map::new();
            for (f, v) in fields.iter().zip(&out.values) {
                if let Some(v) = v {
                    props.insert(f.clone(), Value::String(v.clone()));
                }
            }
            if already_queued.contains(&key) {
                held += 1;
                continue;
            }
            if out.has_error {
                held += 1;
                let reason = out
                    .findings
                    .iter()
                    .filter(|f| f.severity == Severity::Error)
                    .map(|f| {
                        format!(
                            "{} ({}): {}",
                            f.column.as_deref().unwrap_or(f.kind),
                            f.kind,
                            f.message
                        )
                    })
                    .collect::<Vec<_>>()
                    .join("; ");
                let layer = if out
                    .findings
                    .iter()
                    .any(|f| f.kind == "duplicate_key" || f.kind == "missing_key")
                {
                    "dedupe"
                } else {
                    "mapping"
                };
                let k = if key.is_empty() {
                    format!("row {row_no}")
                } else {
                    key.clone()
                };
                if !self.opts.dry_run && !already_queued.contains(&k) {
                    self.journal.enqueue(&syncward_store::NewItem {
                        run: self.run,
                        key: &k,
                        layer,
                        reason: &reason,
                        evidence: &format!("{}:{}", src.display(), row_no + 1),
                        payload: &Value::Object(props),
                        now_ms: now_ms(),
                    })?;
                    self.report.queued += 1;
                }
                continue;
            }
            rows.push(Row {
                key,
                line: row_no,
                props,
            });
        }
        Ok((rows, held, total))
    }

    async fn resolve_in_flight(&mut self, rows: &[Row]) -> Result<HashSet<String>, SyncError> {
        let mut confirmed = self.journal.confirmed(self.run)?;
        for batch in self.journal.in_flight(self.run)? {
            let fields: Vec<String> = Vec::new();
            self.pacer.wait().await;
            self.report.requests += 1;
            let ans = self
                .client
                .read_back(
                    self.crm,
                    &self.opts.mapping.object,
                    &self.opts.mapping.key.crm,
                    &batch.keys,
                    &fields,
                )
                .await;
            let found = match ans.value {
                Ok(f) => f,
                Err(_) => continue,
            };
            let lower: HashSet<String> = found.keys().map(|k| k.to_lowercase()).collect();
            let results: Vec<(String, bool, Option<String>)> = batch
                .keys
                .iter()
                .map(|k| (k.clone(), lower.contains(&k.to_lowercase()), None))
                .collect();
            for (k, ok, _) in &results {
                if *ok {
                    confirmed.insert(k.clone());
                }
            }
            // Keys not found are resent below: the upsert is idempotent on the key.
            self.journal.batch_done(
                self.run,
                batch.id,
                &results
                    .iter()
                    .filter(|(_, ok, _)| *ok)
                    .cloned()
                    .collect::<Vec<_>>(),
                now_ms(),
            )?;
        }
        let _ = rows;
        Ok(confirmed)
    }

    async fn test_record(&mut self, row: &Row) -> Result<TestRecord, SyncError> {
        let mut test = TestRecord {
            key: row.key.clone(),
            landed: false,
            rewritten: Vec::new(),
        };
        match self.send_batch(vec![row.clone()], 1).await? {
            Flow::Stop(why) => {
                self.report.stopped = Some(format!("the test record failed: {why}"));
                return Ok(test);
            }
            Flow::Continue { .. } => {}
        }
        let fields: Vec<String> = row.props.keys().cloned().collect();
        self.pacer.wait().await;
        self.report.requests += 1;
        let ans = self
            .client
            .read_back(
                self.crm,
                &self.opts.mapping.object,
                &self.opts.mapping.key.crm,
                std::slice::from_ref(&row.key),
                &fields,
            )
            .await;
        let found = ans.value.ok().and_then(|m| {
            m.into_iter()
                .find(|(k, _)| k.eq_ignore_ascii_case(&row.key))
                .map(|(_, v)| v)
        });
        let Some(now) = found else {
            return Ok(test);
        };
        test.landed = true;
        for (field, sent) in &row.props {
            let Some(have) = now
                .iter()
                .find(|(k, _)| k.eq_ignore_ascii_case(field))
                .map(|(_, v)| v)
            else {
                continue;
            };
            if !same(sent, have) {
                test.rewritten.push((field.clone(), text(sent), text(have)));
            }
        }
        // Fields the record did not send but an automation set (owner, status) are not a rewrite.
        let rewritten = test.rewritten.clone();
        if rewritten.is_empty() {
            let ev = self.new_event(Status::Ok, Op::Readback, Some(&row.key), Some(200));
            self.emit(ev);
        }
        for (field, from, to) in rewritten {
            let changed = Changed {
                field: Some(Cow::Owned(field.clone())),
                from: Some(Cow::Owned(from)),
                to: Some(Cow::Owned(to)),
                by: Some(Cow::Borrowed(
                    "a CRM automation (workflow or assignment rule)",
                )),
            };
            let mut ev = self.new_event(Status::Ok, Op::Readback, Some(&row.key), Some(200));
            ev.fields = vec![Cow::Owned(field)];
            ev.changed = Some(changed);
            self.emit(ev);
        }
        Ok(test)
    }

    /// One upsert call: paced, counted, and read for the CRM's limits.
    async fn upsert_paced(
        &mut self,
        rows: &[Row],
    ) -> syncward_crm::write::Answer<Vec<WriteResult>> {
        self.pacer.wait().await;
        self.report.requests += 1;
        let records: Vec<(String, Map<String, Value>)> = rows
            .iter()
            .map(|r| (r.key.clone(), r.props.clone()))
            .collect();
        let ans = self
            .client
            .upsert(
                self.crm,
                &self.opts.mapping.object,
                &self.opts.mapping.key.crm,
                &records,
            )
            .await;
        self.pacer.observe(
            &ans.limits,
            ans.value.as_ref().err().and_then(|e| e.retry_after),
        );
        if let (Some(used), Some(max)) = (ans.limits.daily_used, ans.limits.daily_max)
            && used >= max
        {
            self.quota_exhausted = true;
        }
        ans
    }

    /// Sends one batch (journal first), retries what may succeed once, queues the rest.
    async fn send_batch(&mut self, batch: Vec<Row>, size: usize) -> Result<Flow, SyncError> {
        let keys: Vec<String> = batch.iter().map(|r| r.key.clone()).collect();
        self.report.batches += 1;
        let batch_no = self.report.batches;
        let id = self
            .journal
            .batch_sending(self.run, batch_no as i64, &keys, now_ms())?;
        let mut pending: Vec<Row> = batch;
        let mut attempt = 0;
        let mut transport_trouble = false;
        let mut results: Vec<(String, bool, Option<String>)> = Vec::new();
        while !pending.is_empty() {
            attempt += 1;
            let ans = self.upsert_paced(&pending).await;
            match ans.value {
                Ok(list) => {
                    let mut retry = Vec::new();
                    for (row, w) in pending.iter().zip(list) {
                        if w.ok {
                            self.report.confirmed += 1;
                            self.emit_landed(&row.key, &w, batch_no, size);
                            results.push((row.key.clone(), true, w.crm_id));
                        } else {
                            let c = self.classify(&w);
                            let mut ev = self.new_event(
                                Status::Failed,
                                Op::Upsert,
                                Some(&row.key),
                                Some(400),
                            );
                            ev.code = w.code.clone().map(Cow::Owned);
                            ev.message = w.message.clone().map(Cow::Owned);
                            ev.fields = w.fields.iter().cloned().map(Cow::Owned).collect();
                            in_batch(&mut ev, batch_no, size);
                            self.emit(ev);
                            let text = format!(
                                "{}: {}",
                                w.code.as_deref().unwrap_or(""),
                                w.message.as_deref().unwrap_or("")
                            );
                            if matches!(
                                LayerRetry {
                                    engine: self.engine,
                                    crm: self.ctx.crm
                                }
                                .decide(
                                    None.or(Some(400)),
                                    &text,
                                    attempt
                                ),
                                Retry::Once(_)
                            ) {
                                retry.push(row.clone());
                            } else {
                                self.queue(row, c.layer, &c.title, &w)?;
                                results.push((row.key.clone(), false, None));
                            }
                        }
                    }
                    pending = retry;
                    if !pending.is_empty() {
                        self.report.retries += 1;
                        tokio::time::sleep(Duration::from_millis(200 + (self.seq % 7) * 50)).await;
                    }
                }
                Err(e) => {
                    let flow = self
                        .call_failed(&e, &mut pending, &mut results, attempt, batch_no, size)
                        .await?;
                    transport_trouble |= e.status.is_none_or(|s| s == 429 || s >= 500 || s == 413);
                    if let Some(f) = flow {
                        // Records still pending when the run stops are reported as not sent.
                        self.report.not_sent += pending.len() as u64;
                        self.journal.batch_done(self.run, id, &results, now_ms())?;
                        return Ok(f);
                    }
                }
            }
            if attempt > 3 {
                break;
            }
        }
        self.journal.batch_done(self.run, id, &results, now_ms())?;
        if let Some(why) = self.tripped() {
            return Ok(Flow::Stop(why));
        }
        Ok(Flow::Continue { transport_trouble })
    }

    /// A call without per-record answers: transport trouble, auth, or a whole-batch rejection.
    async fn call_failed(
        &mut self,
        e: &CallError,
        pending: &mut Vec<Row>,
        results: &mut Vec<(String, bool, Option<String>)>,
        attempt: u32,
        batch_no: u64,
        size: usize,
    ) -> Result<Option<Flow>, SyncError> {
        let status = e.status;
        // One call, one event: a whole-call failure is one attempt, however
        // many records rode on it (so one 429 is not "3 identical failures").
        let first_key = pending.first().map(|r| r.key.clone());
        let (op, record) = if status == Some(401) {
            (Op::Auth, None)
        } else {
            (Op::Upsert, first_key.as_deref())
        };
        let mut ev = self.new_event(Status::Failed, op, record, status);
        ev.message = Some(Cow::Owned(if e.body.is_empty() {
            "no answer".into()
        } else {
            e.body.chars().take(400).collect()
        }));
        in_batch(&mut ev, batch_no, size);
        self.emit(ev);
        if status == Some(401) {
            if self.refreshed || self.opts.refresh_token.is_none() {
                return Ok(Some(Flow::Stop(
                    "the CRM refused the token: reconnect the account".into(),
                )));
            }
            self.refreshed = true;
            let refresh = self
                .opts
                .refresh_token
                .clone()
                .unwrap_or_else(|| Token::new(""));
            match syncward_crm::write::refresh_token(&self.opts.crm_url, self.crm, &refresh).await {
                Ok(t) => {
                    self.client.set_token(t);
                    let ev = self.new_event(Status::Ok, Op::Reconnect, None, Some(200));
                    self.emit(ev);
                    return Ok(None);
                }
                Err(re) => {
                    let mut ev = self.new_event(Status::Failed, Op::Reconnect, None, re.status);
                    ev.code = Some(Cow::Borrowed("invalid_grant"));
                    ev.message = Some(Cow::Owned(re.body.clone()));
                    self.emit(ev);
                    return Ok(Some(Flow::Stop("the token expired and the refresh failed: reconnect the account once, and escalate if that fails".into())));
                }
            }
        }
        let decision = LayerRetry {
            engine: self.engine,
            crm: self.ctx.crm,
        }
        .decide(status, &e.body, attempt);
        if let Retry::StopRun(why) = decision {
            return Ok(Some(Flow::Stop(why)));
        }
        if matches!(decision, Retry::Once(_))
            || (attempt >= 2 && status.is_none_or(|s| s == 429 || s >= 500 || s == 408))
        {
            // The write may have committed (a reset after the request): read back first.
            if e.maybe_committed {
                self.pacer.wait().await;
                self.report.requests += 1;
                let keys: Vec<String> = pending.iter().map(|r| r.key.clone()).collect();
                if let Ok(found) = self
                    .client
                    .read_back(
                        self.crm,
                        &self.opts.mapping.object,
                        &self.opts.mapping.key.crm,
                        &keys,
                        &[],
                    )
                    .await
                    .value
                {
                    let lower: HashSet<String> = found.keys().map(|k| k.to_lowercase()).collect();
                    let mut landed_now = 0;
                    pending.retain(|row| {
                        let landed = lower.contains(&row.key.to_lowercase());
                        if landed {
                            results.push((row.key.clone(), true, None));
                            landed_now += 1;
                        }
                        !landed
                    });
                    self.report.confirmed += landed_now;
                }
            }
            if attempt >= 2 {
                for row in pending.drain(..) {
                    self.enqueue_raw(
                        &row,
                        Layer::Transport,
                        &format!(
                            "still failing after one retry: {}",
                            e.body.chars().take(200).collect::<String>()
                        ),
                    )?;
                    results.push((row.key.clone(), false, None));
                }
                return Ok(None);
            }
            self.report.retries += 1;
            let wait = e.retry_after.unwrap_or(match decision {
                Retry::Once(d) => d,
                _ => Duration::from_millis(500),
            });
            tokio::time::sleep(wait).await;
            return Ok(None);
        }
        // A whole-batch rejection (HubSpot fails the whole batch for one bad
        // input): send the records one by one, so only the bad ones are held.
        if pending.len() > 1 {
            for row in std::mem::take(pending) {
                let ans = self.upsert_paced(std::slice::from_ref(&row)).await;
                let w = match ans.value {
                    Ok(list) => list.into_iter().next(),
                    Err(e1) => Some(WriteResult {
                        key: row.key.clone(),
                        ok: false,
                        crm_id: None,
                        created: None,
                        code: None,
                        message: Some(e1.body),
                        fields: Vec::new(),
                    }),
                };
                match w {
                    Some(w) if w.ok => {
                        self.report.confirmed += 1;
                        self.emit_landed(&row.key, &w, batch_no, 1);
                        results.push((row.key.clone(), true, w.crm_id));
                    }
                    other => {
                        let w = other.unwrap_or(WriteResult {
                            key: row.key.clone(),
                            ok: false,
                            crm_id: None,
                            created: None,
                            code: None,
                            message: None,
                            fields: Vec::new(),
                        });
                        let c = self.classify(&w);
                        let mut ev =
                            self.new_event(Status::Failed, Op::Upsert, Some(&row.key), Some(400));
                        ev.code = c.code.as_deref().map(|c| Cow::Owned(c.to_owned()));
                        ev.message = w.message.clone().map(Cow::Owned);
                        ev.fields = c.fields.iter().cloned().map(Cow::Owned).collect();
                        in_batch(&mut ev, batch_no, 1);
                        self.emit(ev);
                        self.queue(&row, c.layer, &c.title, &w)?;
                        results.push((row.key.clone(), false, None));
                    }
                }
            }
            return Ok(None);
        }
        for row in pending.drain(..) {
            let w = WriteResult {
                key: row.key.clone(),
                ok: false,
                crm_id: None,
                created: None,
                code: None,
                message: Some(e.body.clone()),
                fields: Vec::new(),
            };
            let c = self.classify(&w);
            self.queue(&row, c.layer, &c.title, &w)?;
            results.push((row.key.clone(), false, None));
        }
        Ok(None)
    }

    fn classify(&self, w: &WriteResult) -> syncward_core::Classification {
        let text = match (&w.code, &w.message) {
            (Some(c), Some(m)) => format!("{c}: {m}"),
            (Some(c), None) => c.clone(),
            (None, Some(m)) => m.clone(),
            (None, None) => String::new(),
        };
        let mut c = self.engine.classify(&Input {
            text: &text,
            crm: self.ctx.crm,
            http_status: None,
        });
        if c.fields.is_empty() {
            c.fields = w.fields.clone();
        }
        c
    }

    fn queue(
        &mut self,
        row: &Row,
        layer: Layer,
        reason: &str,
        w: &WriteResult,
    ) -> Result<(), SyncError> {
        let detail = w.message.clone().unwrap_or_default();
        let reason = if detail.is_empty() {
            reason.to_owned()
        } else {
            format!("{reason}: {}", detail.chars().take(300).collect::<String>())
        };
        self.enqueue_raw(row, layer, &reason)
    }

    fn enqueue_raw(&mut self, row: &Row, layer: Layer, reason: &str) -> Result<(), SyncError> {
        let evidence = format!(
            "{}:{} (source row {})",
            self.origin_file, self.seq, row.line
        );
        self.journal.enqueue(&syncward_store::NewItem {
            run: self.run,
            key: &row.key,
            layer: layer.as_str(),
            reason,
            evidence: &evidence,
            payload: &Value::Object(row.props.clone()),
            now_ms: now_ms(),
        })?;
        self.report.queued += 1;
        Ok(())
    }

    /// The stop rules that stop a live run.
    fn tripped(&mut self) -> Option<String> {
        if self.quota_exhausted {
            return Some("the CRM's daily API allocation is used up (Sforce-Limit-Info): resume after it resets (syncward sync --resume)".into());
        }
        // Stop rules only change when a failure arrives: a clean batch skips
        // the (whole-table) snapshot.
        let failures = self.analyzer.failures();
        if failures == self.failures_checked {
            return None;
        }
        self.failures_checked = failures;
        let probe = self.analyzer.snapshot(&self.ctx);
        for id in [
            StopRuleId::ReconnectFailedOnce,
            StopRuleId::ThreeIdenticalFailures,
            StopRuleId::SameFieldTwoRecords,
            StopRuleId::SmallerBatchFailed,
        ] {
            if let Some(r) = probe.stop_rules.iter().find(|r| r.id == id && r.tripped) {
                return Some(format!("{}: {}", r.rule, r.detail));
            }
        }
        None
    }

    async fn stop(mut self, why: &str) -> Report {
        self.report.stopped = Some(why.to_owned());
        self.finish().await
    }

    async fn finish(mut self) -> Report {
        if let Some(w) = &mut self.events {
            use std::io::Write;
            if let Err(e) = w.flush() {
                self.events_failed(&e);
            }
        }
        let status = if self.report.stopped.is_some() {
            "stopped"
        } else {
            "done"
        };
        if !self.opts.dry_run {
            let summary = serde_json::to_string(&self.report).unwrap_or_default();
            if let Err(e) = self
                .journal
                .finish_run(self.run, status, &summary, now_ms())
            {
                self.report.warnings.push(format!(
                    "the journal could not mark the run as {status} ({e}); every record's outcome was already saved"
                ));
            }
        }
        let diagnosis = self.analyzer.finish(&self.ctx);
        if self.report.stopped.is_some()
            || diagnosis.decision.action != syncward_core::diagnose::Action::None
        {
            self.report.diagnosis = Some(diagnosis);
        }
        self.report
    }
}

/// Marks an event as part of batch `batch_no` of `size` records.
fn in_batch(ev: &mut Event<'_>, batch_no: u64, size: usize) {
    ev.batch = Some(Cow::Owned(batch_no.to_string()));
    ev.batch_size = u32::try_from(size).ok();
}

fn text(v: &Value) -> String {
    match v {
        Value::String(s) => s.clone(),
        Value::Null => String::new(),
        other => other.to_string(),
    }
}

/// Sent and read-back values compare loosely: numbers as numbers, text case-insensitively.
fn same(sent: &Value, have: &Value) -> bool {
    let (a, b) = (text(sent), text(have));
    if a.eq_ignore_ascii_case(&b) {
        return true;
    }
    match (a.parse::<f64>(), b.parse::<f64>()) {
        (Ok(x), Ok(y)) => (x - y).abs() < 1e-9,
        _ => false,
    }
}
