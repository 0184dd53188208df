//! The analyzer: events in (from any reader, or from the live sync runner),
//! a diagnosis out: groups by signature, the blast radius, the seed's
//! patterns and stop rules, and the one decision (DESIGN.md §4).
//!
//! Memory is bounded: per-record, per-group and per-batch state is capped,
//! and distinct counts turn into estimates beyond the caps (`approximate`).

mod decide;
pub mod distinct;
pub mod report;

use crate::classify::{Classifier, Input, Memo};
use crate::event::{Direction, Event, Op, Origin, Status, format_ts, is_positional_key};
use crate::model::{Crm, Layer};
use crate::signature::signature;
use distinct::{Distinct, hash_of};
pub use report::*;
use std::borrow::Cow;
use std::collections::HashMap;
use std::sync::Arc;

/// How many distinct signatures are tracked; later new ones are counted together.
pub const MAX_GROUPS: usize = 10_000;
/// Records whose state is tracked individually: 7/8 of 2^18, the most a
/// table of 2^18 places holds before it doubles (the record and CRM-id
/// tables are touched at random once per event; at 6 MB each they stay
/// within reach of the processor's caches and address translation).
pub const MAX_RECORDS: usize = 229_376;
/// Batches tracked for partial writes.
pub const MAX_BATCHES: usize = 100_000;
const MAX_NAMES: usize = 1_000;
const EXAMPLES: usize = 5;

type Map<K, V> = HashMap<K, V, foldhash::fast::FixedState>;

fn map<K, V>() -> Map<K, V> {
    HashMap::with_hasher(foldhash::fast::FixedState::default())
}

/// What the logs cannot show: from flags or `syncward.toml`.
#[derive(Debug, Clone, Default)]
pub struct Context {
    pub direction: Option<Direction>,
    pub owner: Option<String>,
    /// Objects whose failures call for the manual fallback. Empty: the
    /// default revenue objects.
    pub critical_objects: Vec<String>,
    pub minutes_spent: Option<u32>,
    pub crm: Option<Crm>,
}

impl Context {
    /// The owner, unless the team said there is none.
    pub fn named_owner(&self) -> Option<&str> {
        self.owner.as_deref().filter(|_| !self.no_owner())
    }

    /// The team said no one owns the integration (`--owner none`).
    pub fn no_owner(&self) -> bool {
        self.owner.as_deref().is_some_and(|o| {
            matches!(
                o.trim().to_ascii_lowercase().as_str(),
                "none" | "nobody" | "no one" | "noone" | "-" | ""
            )
        })
    }
}

/// Revenue objects by default (the seed's "billing, contracts, or pipeline").
pub const DEFAULT_CRITICAL: &[&str] = &[
    "deal",
    "opportunity",
    "opportunities",
    "quote",
    "invoice",
    "contract",
    "order",
    "subscription",
    "payment",
    "billing",
    "line_item",
    "lineitem",
    "opportunitylineitem",
];

/// Normalises an object name for comparison: lower case, no `__c`, singular.
fn object_key(name: &str) -> String {
    let mut s = name.trim().to_ascii_lowercase();
    if let Some(stripped) = s.strip_suffix("__c") {
        s = stripped.to_owned();
    }
    if let Some(stripped) = s.strip_suffix("ies") {
        s = format!("{stripped}y");
    } else if s.len() > 3 && s.ends_with('s') && !s.ends_with("ss") {
        s.pop();
    }
    s
}

/// What the analyzer keeps per record: 8 bytes, because the table holds
/// up to [`MAX_RECORDS`] of them and is touched once per event at random
/// (its size decides how often that touch waits on memory).
#[derive(Debug, Default, Clone, Copy)]
struct RecState {
    /// [`fingerprint`] of the CRM id its first create or upsert got (0: none).
    created_id: u32,
    /// 16 bits of the hash of the run it was last seen in (0: no run).
    last_run: u16,
    /// Attempts and runs (2 bits each, saturating at 3: only "two or more"
    /// matters), the layer of its last failure (3 bits, 0: none) and flags.
    bits: u16,
}

impl RecState {
    const ATTEMPTS: u16 = 0b11;
    const RUNS_SHIFT: u16 = 2;
    const LAYER_SHIFT: u16 = 4;
    const FIRST_RUN_NONE: u16 = 1 << 7;
    const LAST_FAILED: u16 = 1 << 8;
    const CREATED_TWICE: u16 = 1 << 9;
    const EVER_FAILED: u16 = 1 << 10;
    const READ_BACK: u16 = 1 << 11;

    fn attempts(self) -> u16 {
        self.bits & Self::ATTEMPTS
    }

    fn bump_attempts(&mut self) {
        if self.attempts() < 3 {
            self.bits += 1;
        }
    }

    fn runs(self) -> u16 {
        (self.bits >> Self::RUNS_SHIFT) & 0b11
    }

    fn set_runs(&mut self, runs: u16) {
        self.bits = (self.bits & !(0b11 << Self::RUNS_SHIFT)) | (runs.min(3) << Self::RUNS_SHIFT);
    }

    fn last_layer(self) -> Option<Layer> {
        let i = usize::from((self.bits >> Self::LAYER_SHIFT) & 0b111);
        i.checked_sub(1).and_then(|i| Layer::ALL.get(i).copied())
    }

    fn set_last_layer(&mut self, layer: Layer) {
        let code = (layer as u16 + 1) & 0b111;
        self.bits = (self.bits & !(0b111 << Self::LAYER_SHIFT)) | (code << Self::LAYER_SHIFT);
    }

    fn has(self, flag: u16) -> bool {
        self.bits & flag != 0
    }

    fn set(&mut self, flag: u16, on: bool) {
        if on {
            self.bits |= flag;
        } else {
            self.bits &= !flag;
        }
    }
}

/// A 32-bit digest of a 64-bit hash, never 0 for a hash that is not 0.
/// Compared only in pairs (a record's CRM ids, a CRM id's first record),
/// where a false match has odds of one in four billion; never as a key.
fn fingerprint(h: u64) -> u32 {
    let f = (h ^ (h >> 32)) as u32;
    if f == 0 && h != 0 { 1 } else { f }
}

#[derive(Debug)]
struct Group {
    signature: String,
    layer: Layer,
    code: Option<String>,
    fields: Vec<String>,
    objects: Vec<String>,
    count: u64,
    records: Vec<String>,
    distinct: Distinct,
    first: (Origin, Option<i64>),
    last: (Origin, Option<i64>),
    min_ts: Option<i64>,
    max_ts: Option<i64>,
    runs: Vec<u64>,
    max_attempt: u32,
    transient: bool,
    rule: Option<String>,
    title: String,
    fix: String,
    fix_at_source: bool,
    side_effect: bool,
    evidence: Vec<Origin>,
    example: String,
}

#[derive(Debug, Default)]
struct NameStats {
    critical: Option<bool>,
    failures: u64,
    records: Vec<u64>,
    first_failure: Option<Origin>,
    layers: Vec<Layer>,
}

#[derive(Debug, Default)]
struct RunStats {
    order: usize,
    dedupe_failures: u64,
}

/// One batch of one run, in 40 bytes (up to [`MAX_BATCHES`] are kept).
#[derive(Debug, Default, Clone, Copy)]
struct BatchStats {
    ok: u32,
    failed: u32,
    first_failure: At,
    first_ok: At,
}

/// Where an event was, compactly: the file as an index into the analyzer's
/// `files`, and the line (0: not seen).
#[derive(Debug, Default, Clone, Copy, PartialEq, Eq)]
struct At {
    file: u32,
    line: u64,
}

/// What one failure is, before it joins its group.
struct Failure {
    layer: Layer,
    code: Option<Arc<str>>,
    fields: Vec<String>,
    transient: bool,
    rule: Option<Arc<str>>,
    title: Arc<str>,
    fix: Arc<str>,
    fix_at_source: bool,
}

/// A CRM id's first record and where it was seen, in 16 bytes (one per
/// CRM id, up to [`MAX_RECORDS`]); the file is an index into `files`.
#[derive(Debug, Clone, Copy)]
struct FirstSeen {
    /// [`fingerprint`] of the record key.
    record: u32,
    file: u32,
    line: u64,
}

/// How a write that the CRM accepted still landed as a duplicate.
#[derive(Debug, Clone, Copy)]
enum LandedTwice {
    /// The record already had a CRM id; this write made another.
    CreatedAgain,
    /// The CRM id was first written under another record key.
    KeyShifted,
}

/// A failure's classification and the group it joins.
struct Resolved {
    failure: Failure,
    /// Its index in `groups`; `None` when the group table was full.
    group: Option<usize>,
}

/// Distinct failure inputs kept resolved; when full the cache starts over
/// (bounds memory; inputs that repeat come back at once).
const MAX_RESOLVED: usize = 16_384;

/// The inputs of one resolved failure, owned, to recognise them again.
struct SeenInputs {
    hash: u64,
    code: Option<Box<str>>,
    message: Option<Box<str>>,
    crm: Option<Crm>,
    http_status: Option<u16>,
    fields: Box<[Box<str>]>,
    resolved: Arc<Resolved>,
}

impl SeenInputs {
    fn is(&self, ev: &Event<'_>, crm: Option<Crm>) -> bool {
        self.crm == crm
            && self.http_status == ev.http_status
            && self.code.as_deref() == ev.code.as_deref()
            && self.message.as_deref() == ev.message.as_deref()
            && self.fields.len() == ev.fields.len()
            && self.fields.iter().zip(&ev.fields).all(|(a, b)| **a == **b)
    }
}

/// Streams events into bounded state; `finish` produces the diagnosis.
pub struct Analyzer<'c> {
    memo: Memo<'c>,
    ctx_crm: Option<Crm>,
    seq: u64,
    counts: EventCounts,
    layers: LayerCounts,
    groups: Vec<Group>,
    group_index: Map<String, usize>,
    resolved: hashbrown::HashTable<SeenInputs>,
    /// Each way of landing twice, resolved on its first occurrence.
    landed_twice_resolved: [Option<Arc<Resolved>>; 2],
    overflow_groups: u64,
    records: Map<u64, RecState>,
    records_overflow: bool,
    seen_records: Distinct,
    failed_records: Distinct,
    objects: Map<String, NameStats>,
    fields: Map<String, NameStats>,
    runs: Map<u64, RunStats>,
    batches: Map<u64, BatchStats>,
    current_batch: Option<(u64, BatchStats)>,
    batches_overflow: bool,
    crm_ids: Map<u64, FirstSeen>,
    files: Vec<Arc<str>>,
    // evidence collected as events stream
    reconnect_failed: Vec<Origin>,
    last_ok_write_seq: u64,
    last_auth_failure_seq: u64,
    ok_writes: u64,
    ok_writes_before_first_transport: Option<u64>,
    ok_writes_after_first_transport: u64,
    transport_failures: u64,
    first_transport: Option<Origin>,
    largest_failed_batch: Option<(u32, Origin)>,
    smaller_batch_failed: Option<(u32, Origin, u32, Origin)>,
    partial_events: Vec<Origin>,
    id_shifts: Vec<Origin>,
    duplicate_creates: Vec<Origin>,
    readbacks: u64,
    readback_records: Distinct,
    rewrites_by_rule: Map<String, (Distinct, Vec<Origin>)>,
    revenue_failures: Vec<Origin>,
    revenue_nonblip: Vec<Origin>,
    min_ts: Option<i64>,
    max_ts: Option<i64>,
    /// The earliest and the latest failure by time, and where they are.
    failure_min_ts: Option<(i64, At)>,
    failure_max_ts: Option<(i64, At)>,
    runs_with_failures: Vec<u64>,
    max_batch_size: Option<u32>,
    max_retry_after: Option<u32>,
    direction_seen: Option<Direction>,
    crm_seen: Option<Crm>,
    problems: Vec<String>,
    problems_total: u64,
    critical: Vec<String>,
    last_run: (String, u64),
}

impl<'c> Analyzer<'c> {
    pub fn new(engine: &'c Classifier, ctx: &Context) -> Self {
        let critical = if ctx.critical_objects.is_empty() {
            DEFAULT_CRITICAL.iter().map(|s| object_key(s)).collect()
        } else {
            ctx.critical_objects.iter().map(|s| object_key(s)).collect()
        };
        Analyzer {
            memo: Memo::new(engine),
            ctx_crm: ctx.crm,
            seq: 0,
            counts: EventCounts::default(),
            layers: LayerCounts::default(),
            groups: Vec::new(),
            group_index: map(),
            resolved: hashbrown::HashTable::new(),
            landed_twice_resolved: [None, None],
            overflow_groups: 0,
            records: map(),
            records_overflow: false,
            seen_records: Distinct::estimate_only(),
            failed_records: Distinct::estimate_only(),
            objects: map(),
            fields: map(),
            runs: map(),
            batches: map(),
            current_batch: None,
            batches_overflow: false,
            crm_ids: map(),
            files: Vec::new(),
            reconnect_failed: Vec::new(),
            last_ok_write_seq: 0,
            last_auth_failure_seq: 0,
            ok_writes: 0,
            ok_writes_before_first_transport: None,
            ok_writes_after_first_transport: 0,
            transport_failures: 0,
            first_transport: None,
            largest_failed_batch: None,
            smaller_batch_failed: None,
            partial_events: Vec::new(),
            id_shifts: Vec::new(),
            duplicate_creates: Vec::new(),
            readbacks: 0,
            readback_records: Distinct::estimate_only(),
            rewrites_by_rule: map(),
            revenue_failures: Vec::new(),
            revenue_nonblip: Vec::new(),
            min_ts: None,
            max_ts: None,
            failure_min_ts: None,
            failure_max_ts: None,
            runs_with_failures: Vec::new(),
            max_batch_size: None,
            max_retry_after: None,
            direction_seen: None,
            crm_seen: None,
            problems: Vec::new(),
            problems_total: 0,
            critical,
            last_run: (String::new(), 0),
        }
    }

    /// A line or file that could not be read. Counted, and the first ones kept.
    pub fn problem(&mut self, malformed_line: bool, what: String) {
        if malformed_line {
            self.counts.malformed += 1;
        }
        self.problems_total += 1;
        if self.problems.len() < 50 {
            self.problems.push(what);
        }
    }

    pub fn file_done(&mut self) {
        self.counts.files += 1;
    }

    pub fn total_events(&self) -> u64 {
        self.counts.total
    }

    pub fn failures(&self) -> u64 {
        self.counts.failed
            + self.counts.partial
            + self.counts.changed_after_write
            + self.counts.landed_twice
    }

    /// Reads the table places of a record and a CRM id about to be pushed,
    /// so that their cache misses overlap: a reader that knows the next
    /// few events calls this for each of them first (the per-record tables
    /// are the one random memory access per event; see bench/RESULTS.md).
    pub fn warm(&self, record: Option<&str>, crm_id: Option<&str>) {
        if let Some(r) = record.filter(|r| !r.is_empty()) {
            std::hint::black_box(self.records.get(&hash_of(r)));
        }
        if let Some(id) = crm_id.filter(|id| !id.is_empty()) {
            std::hint::black_box(self.crm_ids.get(&hash_of(id)));
        }
    }

    pub fn push(&mut self, ev: &Event<'_>) {
        self.seq += 1;
        self.counts.total += 1;
        match ev.status {
            Status::Ok => self.counts.ok += 1,
            Status::Failed => self.counts.failed += 1,
            Status::Partial => self.counts.partial += 1,
            Status::Skipped => self.counts.skipped += 1,
        }
        if let Some(ts) = ev.ts {
            self.min_ts = Some(self.min_ts.map_or(ts, |m| m.min(ts)));
            self.max_ts = Some(self.max_ts.map_or(ts, |m| m.max(ts)));
        }
        if let Some(bs) = ev.batch_size {
            self.max_batch_size = Some(self.max_batch_size.map_or(bs, |m| m.max(bs)));
        }
        if let Some(ra) = ev.retry_after {
            self.max_retry_after = Some(self.max_retry_after.map_or(ra, |m| m.max(ra)));
        }
        // Events going both ways make a two-way sync.
        if let Some(d) = ev.direction {
            self.direction_seen = match self.direction_seen {
                Some(seen) if seen != d => Some(Direction::Bi),
                _ => Some(d),
            };
        }
        if ev.crm.is_some() {
            self.crm_seen = ev.crm;
        }
        // Runs change rarely from one event to the next: hash a run name once.
        let run_hash = match ev.run.as_deref() {
            None => 0,
            Some(r) if r == self.last_run.0 => self.last_run.1,
            Some(r) => {
                let h = hash_of(r);
                self.last_run = (r.to_owned(), h);
                h
            }
        };
        let record_hash = ev.record.as_deref().filter(|r| !r.is_empty()).map(hash_of);
        // A key a reader made from the row's place ("row 7") names no
        // person: it cannot show a duplicate or a shifting key.
        let keyed = ev.record.as_deref().is_some_and(|r| !is_positional_key(r));
        let mut landed_twice = None;
        let is_write = !matches!(
            ev.op,
            Some(Op::Auth | Op::Reconnect | Op::Read | Op::Readback)
        );
        let ok_write = ev.status == Status::Ok && is_write;
        if ok_write {
            self.ok_writes += 1;
            self.last_ok_write_seq = self.seq;
            if self.first_transport.is_some() {
                self.ok_writes_after_first_transport += 1;
            }
        }

        // Runs.
        if ev.run.is_some() && !self.runs.contains_key(&run_hash) && self.runs.len() < MAX_NAMES {
            let order = self.runs.len();
            self.runs.insert(
                run_hash,
                RunStats {
                    order,
                    ..RunStats::default()
                },
            );
        }

        // Readbacks: what the CRM did after the write.
        if ev.op == Some(Op::Readback) {
            self.readbacks += 1;
            if let Some(h) = record_hash {
                self.readback_records.insert_hash(h);
                if let Some(st) = self.records.get_mut(&h) {
                    st.set(RecState::READ_BACK, true);
                }
            }
        }

        // Records: attempts, reruns, creates.
        if let Some(h) = record_hash {
            self.seen_records.insert_hash(h);
            let room = self.records.len() < MAX_RECORDS;
            let st = match self.records.get_mut(&h) {
                Some(st) => Some(st),
                None if room => Some(self.records.entry(h).or_default()),
                None => None,
            };
            if let Some(st) = st {
                // 16 bits of the run: a record seen in two runs whose bits
                // agree (one in 65,536) counts as seen in one.
                let run = if run_hash == 0 {
                    0
                } else {
                    (fingerprint(run_hash) as u16).max(1)
                };
                if st.attempts() == 0 {
                    st.set(RecState::FIRST_RUN_NONE, run_hash == 0);
                    st.last_run = run;
                    st.set_runs(1);
                } else if st.last_run != run {
                    st.last_run = run;
                    st.set_runs(st.runs() + 1);
                }
                if is_write {
                    st.bump_attempts();
                }
                if ok_write {
                    st.set(RecState::LAST_FAILED, false);
                    if let Some(id) = ev.crm_id.as_deref().filter(|s| !s.is_empty())
                        && keyed
                        && matches!(ev.op, Some(Op::Create | Op::Upsert) | None)
                    {
                        let id = fingerprint(hash_of(id));
                        if st.created_id != 0 && st.created_id != id {
                            if !st.has(RecState::CREATED_TWICE)
                                && self.duplicate_creates.len() < EXAMPLES
                            {
                                self.duplicate_creates.push(ev.origin.clone());
                            }
                            st.set(RecState::CREATED_TWICE, true);
                            landed_twice = Some(LandedTwice::CreatedAgain);
                        } else {
                            st.created_id = id;
                        }
                    }
                }
            } else {
                self.records_overflow = true;
            }
        }

        // The same CRM record arriving under another source key.
        if let (Some(id), Some(rh)) = (ev.crm_id.as_deref().filter(|s| !s.is_empty()), record_hash)
            && keyed
            && self.note_crm_id(hash_of(id), rh, &ev.origin)
            && ok_write
        {
            landed_twice = landed_twice.or(Some(LandedTwice::KeyShifted));
        }

        // Objects.
        let object = ev.object.as_deref().filter(|o| !o.is_empty());
        if let Some(o) = object
            && !self.objects.contains_key(o)
            && self.objects.len() < MAX_NAMES
        {
            self.objects.insert(o.to_owned(), NameStats::default());
        }

        // Batches, for partial writes. Events of one batch usually come
        // together, so the current batch is counted in place and stored when
        // the next one starts.
        if ev.batch.is_some() && is_write {
            let key = hash_of(&(run_hash, ev.batch.as_deref().unwrap_or("")));
            if self.current_batch.as_ref().is_none_or(|(k, _)| *k != key) {
                self.flush_batch();
                let stats = self.batches.remove(&key).unwrap_or_default();
                self.current_batch = Some((key, stats));
            }
            let first = |seen: At, me: &mut Self| {
                if seen.line == 0 {
                    me.at(&ev.origin)
                } else {
                    seen
                }
            };
            if let Some((key, mut b)) = self.current_batch.take() {
                if ok_write {
                    b.ok += 1;
                    b.first_ok = first(b.first_ok, self);
                } else if ev.status.is_failure() {
                    b.failed += 1;
                    b.first_failure = first(b.first_failure, self);
                }
                self.current_batch = Some((key, b));
            }
        }
        if ev.status == Status::Partial && self.partial_events.len() < EXAMPLES {
            self.partial_events.push(ev.origin.clone());
        }

        let resolved = if ev.is_failure() {
            if ev.op == Some(Op::Readback) && ev.changed.is_some() && !ev.status.is_failure() {
                self.counts.changed_after_write += 1;
                self.resolve_change(ev, record_hash)
            } else {
                self.resolve_error(ev)
            }
        } else if let Some(how) = landed_twice {
            self.counts.landed_twice += 1;
            self.resolve_landed_twice(how, ev)
        } else {
            return;
        };
        self.failure(ev, &resolved, record_hash, run_hash, object);
    }

    fn flush_batch(&mut self) {
        if let Some((key, stats)) = self.current_batch.take() {
            if self.batches.len() < MAX_BATCHES {
                self.batches.insert(key, stats);
            } else {
                self.batches_overflow = true;
            }
        }
    }

    fn is_critical(&mut self, object: &str) -> bool {
        if let Some(stats) = self.objects.get_mut(object) {
            if let Some(c) = stats.critical {
                return c;
            }
            let c = self.critical.iter().any(|k| *k == object_key(object));
            stats.critical = Some(c);
            return c;
        }
        self.critical.iter().any(|k| *k == object_key(object))
    }

    /// Distinct records seen, failed and read back: exact from the record
    /// table while it holds every record, estimated beyond.
    fn record_counts(&self) -> (u64, u64, u64, bool) {
        if self.records_overflow {
            return (
                self.seen_records.count(),
                self.failed_records.count(),
                self.readback_records.count(),
                true,
            );
        }
        let mut failed = 0;
        let mut read_back = 0;
        for st in self.records.values() {
            failed += u64::from(st.has(RecState::EVER_FAILED));
            read_back += u64::from(st.has(RecState::READ_BACK));
        }
        (self.records.len() as u64, failed, read_back, false)
    }

    /// Notes the record a CRM id belongs to; true when the id was first
    /// seen under another record key (the key's source shifted).
    fn note_crm_id(&mut self, idh: u64, rh: u64, origin: &Origin) -> bool {
        let record = fingerprint(rh);
        match self.crm_ids.get(&idh) {
            Some(&first) if first.record != record => {
                if self.id_shifts.len() < EXAMPLES {
                    if self.id_shifts.is_empty() {
                        let first = self.origin_at(At {
                            file: first.file,
                            line: first.line,
                        });
                        self.id_shifts.push(first);
                    }
                    self.id_shifts.push(origin.clone());
                }
                return true;
            }
            Some(_) => {}
            None => {
                if self.crm_ids.len() < MAX_RECORDS {
                    let file = self.file_index(&origin.file);
                    self.crm_ids.insert(
                        idh,
                        FirstSeen {
                            record,
                            file,
                            line: origin.line,
                        },
                    );
                }
            }
        }
        false
    }

    fn at(&mut self, origin: &Origin) -> At {
        At {
            file: self.file_index(&origin.file),
            line: origin.line,
        }
    }

    fn origin_at(&self, at: At) -> Origin {
        Origin {
            file: self
                .files
                .get(at.file as usize)
                .cloned()
                .unwrap_or_else(|| Arc::from("?")),
            line: at.line,
        }
    }

    fn file_index(&mut self, file: &Arc<str>) -> u32 {
        let i = match self.files.iter().rposition(|f| Arc::ptr_eq(f, file)) {
            Some(i) => i,
            None => {
                self.files.push(file.clone());
                self.files.len() - 1
            }
        };
        u32::try_from(i).unwrap_or(u32::MAX)
    }

    fn failure(
        &mut self,
        ev: &Event<'_>,
        resolved: &Resolved,
        record_hash: Option<u64>,
        run_hash: u64,
        object: Option<&str>,
    ) {
        let Failure {
            layer,
            ref fields,
            transient,
            ..
        } = resolved.failure;

        self.layers.add(layer, 1);
        if let Some(ts) = ev.ts {
            if self.failure_min_ts.is_none_or(|(m, _)| ts < m) {
                self.failure_min_ts = Some((ts, self.at(&ev.origin)));
            }
            if self.failure_max_ts.is_none_or(|(m, _)| ts > m) {
                self.failure_max_ts = Some((ts, self.at(&ev.origin)));
            }
        }
        if self.runs_with_failures.len() < 64 && !self.runs_with_failures.contains(&run_hash) {
            self.runs_with_failures.push(run_hash);
        }
        if let Some(h) = record_hash {
            self.failed_records.insert_hash(h);
            if let Some(st) = self.records.get_mut(&h) {
                st.set(RecState::LAST_FAILED, true);
                st.set(RecState::EVER_FAILED, true);
                st.set_last_layer(layer);
            }
        }
        // A login that fails after the CRM already refused the credentials
        // is a reconnect that failed, whatever grant it used.
        let relogin = ev.op == Some(Op::Auth) && self.last_auth_failure_seq > 0;
        if layer == Layer::Auth {
            self.last_auth_failure_seq = self.seq;
        }
        if (ev.op == Some(Op::Reconnect) || relogin)
            && ev.status.is_failure()
            && self.reconnect_failed.len() < EXAMPLES
        {
            self.reconnect_failed.push(ev.origin.clone());
        }

        // Transport timeline.
        if layer == Layer::Transport {
            self.transport_failures += 1;
            if self.first_transport.is_none() {
                self.first_transport = Some(ev.origin.clone());
                self.ok_writes_before_first_transport = Some(self.ok_writes);
            }
            if let Some(bs) = ev.batch_size {
                match &self.largest_failed_batch {
                    Some((largest, origin)) if bs < *largest => {
                        if self.smaller_batch_failed.is_none() {
                            self.smaller_batch_failed =
                                Some((*largest, origin.clone(), bs, ev.origin.clone()));
                        }
                    }
                    Some((largest, _)) if bs <= *largest => {}
                    _ => self.largest_failed_batch = Some((bs, ev.origin.clone())),
                }
            }
        }

        // Runs.
        if layer == Layer::Dedupe
            && ev.run.is_some()
            && let Some(stats) = self.runs.get_mut(&run_hash)
        {
            stats.dedupe_failures += 1;
        }

        // Revenue objects.
        if let Some(o) = object
            && self.is_critical(o)
        {
            if self.revenue_failures.len() < EXAMPLES {
                self.revenue_failures.push(ev.origin.clone());
            }
            let blip = layer == Layer::Auth || (layer == Layer::Transport && transient);
            if !blip && self.revenue_nonblip.len() < EXAMPLES {
                self.revenue_nonblip.push(ev.origin.clone());
            }
        }

        // Objects and fields.
        if let Some(o) = object
            && let Some(stats) = self.objects.get_mut(o)
        {
            stats.failures += 1;
            if !stats.layers.contains(&layer) {
                stats.layers.push(layer);
            }
            if stats.first_failure.is_none() {
                stats.first_failure = Some(ev.origin.clone());
            }
        }
        for f in fields {
            if !self.fields.contains_key(f.as_str()) {
                if self.fields.len() >= MAX_NAMES {
                    continue;
                }
                self.fields.insert(f.clone(), NameStats::default());
            }
            let Some(stats) = self.fields.get_mut(f.as_str()) else {
                continue;
            };
            stats.failures += 1;
            if !stats.layers.contains(&layer) {
                stats.layers.push(layer);
            }
            if let Some(h) = record_hash
                && stats.records.len() < 64
                && !stats.records.contains(&h)
            {
                stats.records.push(h);
            }
            if stats.first_failure.is_none() {
                stats.first_failure = Some(ev.origin.clone());
            }
        }

        // Its group.
        let Some(g) = resolved.group.and_then(|i| self.groups.get_mut(i)) else {
            self.overflow_groups += 1;
            return;
        };
        g.count += 1;
        g.last = (ev.origin.clone(), ev.ts);
        if let Some(ts) = ev.ts {
            g.min_ts = Some(g.min_ts.map_or(ts, |m| m.min(ts)));
            g.max_ts = Some(g.max_ts.map_or(ts, |m| m.max(ts)));
        }
        for f in fields {
            if g.fields.len() < 10 && !g.fields.contains(f) {
                g.fields.push(f.clone());
            }
        }
        if let Some(o) = object
            && g.objects.len() < 10
            && !g.objects.iter().any(|x| x == o)
        {
            g.objects.push(o.to_owned());
        }
        if let Some(h) = record_hash {
            g.distinct.insert_hash(h);
            if let Some(r) = ev.record.as_deref()
                && g.records.len() < EXAMPLES
                && !g.records.iter().any(|x| x == r)
            {
                g.records.push(r.to_owned());
            }
        }
        if g.runs.len() < 16 && !g.runs.contains(&run_hash) {
            g.runs.push(run_hash);
        }
        g.max_attempt = g.max_attempt.max(ev.attempt.unwrap_or(0));
        if g.evidence.len() < EXAMPLES && g.evidence.last() != Some(&ev.origin) {
            g.evidence.push(ev.origin.clone());
        }
    }

    /// A field the CRM rewrote after the write: a workflow failure named
    /// by the field and the automation that did it.
    fn resolve_change(&mut self, ev: &Event<'_>, record_hash: Option<u64>) -> Arc<Resolved> {
        let ch = ev.changed.as_ref().cloned().unwrap_or_default();
        let field = ch.field.as_deref().unwrap_or("a field").to_owned();
        let by = ch.by.as_deref().unwrap_or("an automation").to_owned();
        let entry = self
            .rewrites_by_rule
            .entry(by.clone())
            .or_insert_with(|| (Distinct::with_cap(MAX_RECORDS), Vec::new()));
        if let Some(h) = record_hash {
            entry.0.insert_hash(h);
        }
        if entry.1.len() < EXAMPLES {
            entry.1.push(ev.origin.clone());
        }
        let text = format!(
            "{field} changed from {} to {} by {by}",
            ch.from.as_deref().unwrap_or("?"),
            ch.to.as_deref().unwrap_or("?")
        );
        let sig = format!("{field} rewritten after the write by {by}");
        let failure = Failure {
            layer: Layer::Workflow,
            code: Some(Arc::from("CHANGED_AFTER_WRITE")),
            fields: vec![field.clone()],
            transient: false,
            rule: Some(Arc::from("syncward.changed_after_write")),
            title: Arc::from(format!(
                "The CRM changed {field} right after the write ({by})"
            )),
            fix: Arc::from(
                "Freeze that automation and review its assignment logic; test one record again. If the same rule rewrites every test record, switch to the manual fallback.",
            ),
            fix_at_source: false,
        };
        let group = self.group_of(sig, &failure, &text, ev);
        Arc::new(Resolved { failure, group })
    }

    /// A write that landed as a duplicate, in one group per way it happened.
    fn resolve_landed_twice(&mut self, how: LandedTwice, ev: &Event<'_>) -> Arc<Resolved> {
        if let Some(seen) = &self.landed_twice_resolved[how as usize] {
            return seen.clone();
        }
        let (code, title, sig) = match how {
            LandedTwice::CreatedAgain => (
                "CREATED_AGAIN",
                "The same source record was created again as a second CRM record",
                "created again as a second CRM record (a duplicate)",
            ),
            LandedTwice::KeyShifted => (
                "KEY_SHIFTED",
                "A CRM record was reached under a second source key",
                "one CRM record written under two source keys (the key's source shifted)",
            ),
        };
        let failure = Failure {
            layer: Layer::Dedupe,
            code: Some(Arc::from(code)),
            fields: Vec::new(),
            transient: false,
            rule: Some(Arc::from("syncward.landed_twice")),
            title: Arc::from(title),
            fix: Arc::from(
                "Pause retries and reconcile the record key: pick one stable key (an email or the source app's own id), merge the duplicates in the CRM, and do not rerun the full batch.",
            ),
            fix_at_source: false,
        };
        let text = format!(
            "{title}: {} is CRM record {}",
            ev.record.as_deref().unwrap_or("?"),
            ev.crm_id.as_deref().unwrap_or("?")
        );
        let group = self.group_of(sig.to_owned(), &failure, &text, ev);
        let resolved = Arc::new(Resolved { failure, group });
        self.landed_twice_resolved[how as usize] = Some(resolved.clone());
        resolved
    }

    /// An error, classified and placed in its group once per distinct
    /// (code, message, CRM, HTTP status, fields): logs repeat a few errors
    /// many times, so most failures are one lookup.
    fn resolve_error(&mut self, ev: &Event<'_>) -> Arc<Resolved> {
        let crm = ev.crm.or(self.ctx_crm);
        let hash = hash_of(&(
            ev.code.as_deref(),
            ev.message.as_deref(),
            crm,
            ev.http_status,
            &ev.fields[..],
        ));
        if let Some(seen) = self.resolved.find(hash, |s| s.is(ev, crm)) {
            return seen.resolved.clone();
        }
        let t = ev.error_text();
        let text = if t.trim().is_empty() {
            match ev.http_status {
                Some(s) => Cow::Owned(format!("HTTP {s}")),
                None => Cow::Borrowed("(no error text)"),
            }
        } else {
            t
        };
        let c = self.memo.classify(&Input {
            text: &text,
            crm,
            http_status: ev.http_status,
        });
        let fields: Vec<String> = if ev.fields.is_empty() {
            c.fields
        } else {
            ev.fields.iter().map(|f| f.to_string()).collect()
        };
        // A reader's word that the record failed for another's sake stands.
        let code = match ev.code.as_deref() {
            Some(own) if decide::is_side_effect_code(own) => Some(Arc::from(own)),
            own => c.code.or_else(|| own.map(Arc::from)),
        };
        // A vendor code with its fields names a failure exactly, whatever
        // value each record carried ("bad value ...: Webinar" and "...: web"
        // are one failure); otherwise the text's signature does.
        let sig = match &code {
            Some(code)
                if !fields.is_empty()
                    && !matches!(c.layer, Layer::Workflow | Layer::Unknown)
                    && !code.starts_with("HTTP") =>
            {
                format!("{code} [{}]", fields.join(", "))
            }
            // An expired session, a rate limit or a duplicate is one failure
            // however each log words around it.
            Some(code)
                if !code.starts_with("HTTP")
                    && matches!(c.layer, Layer::Auth | Layer::Transport | Layer::Dedupe) =>
            {
                format!("{code}: {}", c.title)
            }
            // A log line wraps the vendor's error in its own words (a Zap's
            // name, a step number, a log level): the error starts at its code.
            Some(code) if !code.starts_with("HTTP") => signature(from_code(&text, code)),
            _ => signature(&text),
        };
        let failure = Failure {
            fix_at_source: c.rule.as_deref().is_some_and(decide::is_value_rule),
            layer: c.layer,
            code,
            fields,
            transient: c.transient,
            rule: c.rule,
            title: c.title,
            fix: c.advice,
        };
        let group = self.group_of(sig, &failure, &text, ev);
        let resolved = Arc::new(Resolved { failure, group });
        {
            if self.resolved.len() >= MAX_RESOLVED {
                // Mostly one-off inputs (ids in messages): start over.
                self.resolved.clear();
            }
            let seen = SeenInputs {
                hash,
                code: ev.code.as_deref().map(Box::from),
                message: ev.message.as_deref().map(Box::from),
                crm,
                http_status: ev.http_status,
                fields: ev.fields.iter().map(|f| Box::from(f.as_ref())).collect(),
                resolved: resolved.clone(),
            };
            self.resolved.insert_unique(hash, seen, |s| s.hash);
        }
        resolved
    }

    /// The index of the group with this signature, made on its first
    /// failure; `None` once [`MAX_GROUPS`] groups exist.
    fn group_of(
        &mut self,
        sig: String,
        failure: &Failure,
        text: &str,
        ev: &Event<'_>,
    ) -> Option<usize> {
        if let Some(&i) = self.group_index.get(&sig) {
            return Some(i);
        }
        if self.groups.len() >= MAX_GROUPS {
            return None;
        }
        let code = failure.code.as_deref();
        self.groups.push(Group {
            signature: sig.clone(),
            layer: failure.layer,
            code: code.map(str::to_owned),
            fields: Vec::new(),
            objects: Vec::new(),
            count: 0,
            records: Vec::new(),
            distinct: Distinct::with_cap(4096),
            first: (ev.origin.clone(), ev.ts),
            last: (ev.origin.clone(), ev.ts),
            min_ts: None,
            max_ts: None,
            runs: Vec::new(),
            max_attempt: 0,
            transient: failure.transient,
            rule: failure.rule.as_deref().map(str::to_owned),
            title: failure.title.to_string(),
            fix: failure.fix.to_string(),
            fix_at_source: failure.fix_at_source,
            side_effect: code.is_some_and(decide::is_side_effect_code)
                || ev.http_status == Some(412),
            evidence: Vec::new(),
            example: text.chars().take(500).collect(),
        });
        self.group_index.insert(sig, self.groups.len() - 1);
        Some(self.groups.len() - 1)
    }

    /// The diagnosis of everything pushed so far.
    pub fn finish(mut self, ctx: &Context) -> Diagnosis {
        self.flush_batch();
        decide::finish(&self, ctx)
    }

    /// The diagnosis so far, without ending the analysis (the live runner
    /// checks its stop rules after every batch).
    pub fn snapshot(&self, ctx: &Context) -> Diagnosis {
        decide::finish(self, ctx)
    }
}

/// The text from the first place its vendor code stands as a word, or all
/// of it when the code is not in it.
fn from_code<'t>(text: &'t str, code: &str) -> &'t str {
    let is_word = |b: u8| b.is_ascii_alphanumeric() || b == b'_';
    let bytes = text.as_bytes();
    let mut from = 0;
    while let Some(pos) = text[from..].find(code) {
        let start = from + pos;
        let end = start + code.len();
        if (start == 0 || !is_word(bytes[start - 1])) && bytes.get(end).is_none_or(|&b| !is_word(b))
        {
            return &text[start..];
        }
        from = end;
    }
    text
}

fn seen(o: &(Origin, Option<i64>)) -> Seen {
    Seen {
        at: o.0.to_string(),
        ts: o.1.map(format_ts),
    }
}

fn origins(list: &[Origin]) -> Vec<String> {
    list.iter().map(Origin::to_string).collect()
}

#[cfg(test)]
mod tests;
