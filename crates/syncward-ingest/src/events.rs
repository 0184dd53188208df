//! syncward events as JSON Lines (DESIGN.md §3.1). Only `status` is
//! required; unknown keys are accepted and ignored; strings and numbers are
//! taken where either is reasonable.

use crate::source::Input;
use crate::{IngestError, Problem, Sink};
use std::borrow::Cow;
use std::sync::{Arc, mpsc};
use syncward_core::event::{Changed, Direction, Op, Status, parse_ts};
use syncward_core::{Crm, Event, Origin};

/// Reads syncward events in two threads where two cores are free: this one
/// turns lines into events for the sink; a reader thread splits, checks
/// and scans the lines ahead of it (most of the work on a large log), in
/// chunks of a few thousand. On one core, or where no thread can be
/// started, this thread does both, a chunk at a time.
pub fn read_jsonl(reader: Input, name: &Arc<str>, sink: &mut dyn Sink) -> Result<(), IngestError> {
    if std::thread::available_parallelism().map_or(1, |n| n.get()) < 2 {
        return read_in_one_thread(reader, name, sink);
    }
    std::thread::scope(|scope| {
        let (chunks, received) = mpsc::sync_channel::<Chunk>(CHUNKS_AHEAD);
        // Delivered chunks go back to the reader thread to be filled again.
        let (spares, spare) = mpsc::channel::<Chunk>();
        // The reader goes to the thread through a shared slot, so that it is
        // still here if the thread cannot be started.
        let slot = Arc::new(std::sync::Mutex::new(Some(reader)));
        let theirs = slot.clone();
        let scanner = std::thread::Builder::new()
            .name("syncward-scan".into())
            .spawn_scoped(scope, move || {
                let reader = theirs.lock().ok().and_then(|mut r| r.take());
                reader.map(|r| {
                    // A closed channel means the receiving side stopped: stop too.
                    scan_lines_into(r, name, |chunk| {
                        chunks.send(chunk).ok()?;
                        Some(spare.try_recv().unwrap_or_default())
                    })
                })
            })
            .ok();
        let Some(scanner) = scanner else {
            return match slot.lock().ok().and_then(|mut r| r.take()) {
                Some(reader) => read_in_one_thread(reader, name, sink),
                None => Ok(()),
            };
        };
        for chunk in received {
            deliver(&chunk, name, sink);
            let _ = spares.send(chunk);
        }
        match scanner.join() {
            Ok(Some(result)) => result,
            Ok(None) => Ok(()),
            Err(panic) => std::panic::resume_unwind(panic),
        }
    })
}

fn read_in_one_thread(
    reader: Input,
    name: &Arc<str>,
    sink: &mut dyn Sink,
) -> Result<(), IngestError> {
    scan_lines_into(reader, name, |chunk| {
        deliver(&chunk, name, sink);
        Some(chunk)
    })
}

/// Chunks the reader thread may be ahead by (bounds memory: each holds
/// about [`CHUNK_BYTES`] of text and its spans).
const CHUNKS_AHEAD: usize = 4;
const CHUNK_BYTES: usize = 512 * 1024;
const CHUNK_ITEMS: usize = 2048;

/// Lines scanned by the reader thread: their text, and for each line its
/// value spans or why it could not be read.
#[derive(Default)]
struct Chunk {
    text: String,
    items: Vec<Item>,
}

// Nearly every item is an event; boxing its spans would cost an allocation
// per line to save space on the rare problem.
#[allow(clippy::large_enum_variant)]
enum Item {
    Event {
        line: u64,
        /// The line is `text[start..end]`; its spans count from `start`.
        start: usize,
        end: usize,
        spans: [Span; Slot::COUNT],
        scalars: Scalars,
    },
    Problem {
        line: u64,
        message: String,
    },
}

/// Every line of `reader` scanned into chunks for `send`, which hands back
/// a chunk to fill next (or `None`: stop reading).
fn scan_lines_into(
    reader: Input,
    name: &Arc<str>,
    mut send: impl FnMut(Chunk) -> Option<Chunk>,
) -> Result<(), IngestError> {
    let mut lines = crate::LineReader::new(reader);
    let (mut layout, mut repeats) = (Layout::default(), Repeats::default());
    let mut chunk = Chunk::default();
    loop {
        let (number, text) = match crate::next_line(&mut lines, name) {
            Ok(Some(l)) => l,
            Ok(None) => break,
            Err(e) => {
                // What was read before the failure still counts.
                send(chunk);
                return Err(e);
            }
        };
        match text {
            Ok(t) if crate::is_blank(t) => continue,
            Ok(t) => match scan_line(t, &mut layout, &mut repeats) {
                Ok((spans, scalars)) => {
                    let start = chunk.text.len();
                    chunk.text.push_str(t);
                    chunk.items.push(Item::Event {
                        line: number,
                        start,
                        end: chunk.text.len(),
                        spans,
                        scalars,
                    });
                }
                Err(message) => chunk.items.push(Item::Problem {
                    line: number,
                    message,
                }),
            },
            Err(e) => chunk.items.push(Item::Problem {
                line: number,
                message: e.to_string(),
            }),
        }
        if chunk.text.len() >= CHUNK_BYTES || chunk.items.len() >= CHUNK_ITEMS {
            let Some(mut next) = send(std::mem::take(&mut chunk)) else {
                return Ok(());
            };
            next.text.clear();
            next.items.clear();
            chunk = next;
        }
    }
    if !chunk.items.is_empty() {
        send(chunk);
    }
    Ok(())
}

/// Events announced to the sink before they are delivered (see
/// [`Sink::ahead`]): enough for their memory reads to overlap.
const AHEAD: usize = 16;

/// The events and problems of one chunk, in line order, to the sink.
fn deliver(chunk: &Chunk, name: &Arc<str>, sink: &mut dyn Sink) {
    let mut windows = chunk.items.chunks(AHEAD).peekable();
    if let Some(first) = windows.peek() {
        announce(first, &chunk.text, sink);
    }
    while let Some(window) = windows.next() {
        // The next window's reads start while this one is delivered.
        if let Some(next) = windows.peek() {
            announce(next, &chunk.text, sink);
        }
        deliver_items(window, &chunk.text, name, sink);
    }
}

/// Tells the sink the record keys and CRM ids of the events in `items`.
fn announce(items: &[Item], text: &str, sink: &mut dyn Sink) {
    for item in items {
        if let Item::Event {
            start, end, spans, ..
        } = item
            && let Some(line) = text.get(*start..*end)
        {
            let plain = |slot: Slot| {
                let span = spans[slot as usize];
                (span.kind == Kind::Str)
                    .then(|| line.get(span.start as usize..span.end as usize))
                    .flatten()
            };
            sink.ahead(plain(Slot::Record), plain(Slot::CrmId));
        }
    }
}

fn deliver_items(items: &[Item], text: &str, name: &Arc<str>, sink: &mut dyn Sink) {
    for item in items {
        match item {
            Item::Event {
                line,
                start,
                end,
                spans,
                scalars,
            } => {
                let Some(line_text) = text.get(*start..*end) else {
                    continue;
                };
                let fields = Fields {
                    line: line_text,
                    spans,
                };
                let origin = Origin {
                    file: name.clone(),
                    line: *line,
                };
                // Matched by reference: the event is not moved again.
                match &build_event(&fields, scalars, origin) {
                    Ok(ev) => sink.event(ev),
                    Err(message) => sink.problem(Problem {
                        file: name.clone(),
                        line: Some(*line),
                        message: message.clone(),
                    }),
                }
            }
            Item::Problem { line, message } => sink.problem(Problem {
                file: name.clone(),
                line: Some(*line),
                message: message.clone(),
            }),
        }
    }
}

/// How a value was written.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
enum Kind {
    #[default]
    Absent,
    /// A string without escapes (its content between the quotes).
    Str,
    /// A string with escapes, still escaped.
    Escaped,
    Num,
    True,
    False,
    Null,
    /// A nested object or array, as JSON text.
    Nested,
}

/// Where a value is in the line: byte offsets, so the scanner never slices
/// text (only the values an event keeps become `&str`).
#[derive(Debug, Clone, Copy, Default)]
struct Span {
    kind: Kind,
    start: u32,
    end: u32,
}

/// The values of one line in their slots.
struct Fields<'a, 's> {
    line: &'a str,
    spans: &'s [Span; Slot::COUNT],
}

impl<'a> Fields<'a, '_> {
    #[inline(always)]
    fn kind(&self, slot: Slot) -> Kind {
        self.spans[slot as usize].kind
    }

    #[inline(always)]
    fn bytes(&self, slot: Slot) -> &'a [u8] {
        let Span { start, end, .. } = self.spans[slot as usize];
        self.line
            .as_bytes()
            .get(start as usize..end as usize)
            .unwrap_or_default()
    }

    #[inline(always)]
    fn raw(&self, slot: Slot) -> &'a str {
        let Span { start, end, .. } = self.spans[slot as usize];
        self.line
            .get(start as usize..end as usize)
            .unwrap_or_default()
    }

    /// A value of at most 16 bytes as one word, with its kind and length.
    #[inline(always)]
    fn word(&self, slot: Slot) -> Option<(Kind, u128, u8)> {
        let Span { kind, start, end } = self.spans[slot as usize];
        let len = end.saturating_sub(start) as usize;
        let word = word_at(self.line.as_bytes(), start as usize, len)?;
        Some((kind, word, len as u8))
    }

    /// A value as text; empty strings, null and nested values are absent.
    #[inline(always)]
    fn text(&self, slot: Slot) -> Option<Cow<'a, str>> {
        match self.kind(slot) {
            Kind::Str | Kind::Num => Some(self.raw(slot))
                .filter(|s| !s.is_empty())
                .map(Cow::Borrowed),
            // The scanner checked the quotes; a bad escape reads as absent.
            Kind::Escaped => unescape(self.raw(slot))
                .filter(|u| !u.is_empty())
                .map(Cow::Owned),
            Kind::True => Some(Cow::Borrowed("true")),
            Kind::False => Some(Cow::Borrowed("false")),
            Kind::Absent | Kind::Null | Kind::Nested => None,
        }
    }

    /// A number, or a string holding one.
    #[inline(always)]
    fn int(&self, slot: Slot) -> Option<i64> {
        match self.kind(slot) {
            Kind::Num => parse_int(self.bytes(slot)).or_else(|| {
                self.raw(slot)
                    .parse::<f64>()
                    .ok()
                    .filter(|f| f.is_finite())
                    .map(|f| f as i64)
            }),
            Kind::Str => parse_int(self.raw(slot).trim().as_bytes()),
            _ => None,
        }
    }

    #[inline(always)]
    fn small<T: TryFrom<i64>>(&self, slot: Slot) -> Option<T> {
        self.int(slot).and_then(|v| T::try_from(v).ok())
    }
}

/// A plain decimal integer, without the general parser's overhead.
fn parse_int(n: &[u8]) -> Option<i64> {
    let (neg, digits) = match n {
        [b'-', rest @ ..] => (true, rest),
        rest => (false, rest),
    };
    if digits.is_empty() || digits.len() > 18 {
        return std::str::from_utf8(n).ok()?.parse().ok();
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
/// syncward writes: one pass over the bytes, no allocation; nested values
/// are kept as text for `serde_json`. It exists because parsing is most of
/// `diagnose`'s time on large logs (bench/RESULTS.md).
fn scan_object(b: &[u8], spans: &mut [Span; Slot::COUNT], layout: &mut Layout) -> Result<(), Bad> {
    let mut i = skip_ws(b, 0);
    if b.get(i) != Some(&b'{') {
        return Err(Bad::NotObject);
    }
    i = skip_ws(b, i + 1);
    if b.get(i) == Some(&b'}') {
        return end_of_object(b, i);
    }
    let mut k = 0;
    loop {
        let slot = match layout.keys.get(k).filter(|key| key.is_at(b, i)) {
            Some(key) => {
                i = skip_ws(b, i + usize::from(key.len));
                key.slot
            }
            None => {
                if b.get(i) != Some(&b'"') {
                    return Err(Bad::Key(i));
                }
                let key_start = i;
                let (key_end, key_escaped) = string_end(b, i).ok_or(Bad::OpenString)?;
                // Keys with escapes or over 16 bytes are not ours.
                let slot = if key_escaped {
                    None
                } else {
                    word_at(b, i + 1, key_end - 1 - (i + 1)).and_then(Slot::of)
                };
                i = skip_ws(b, key_end);
                if b.get(i) != Some(&b':') {
                    return Err(Bad::Colon(i));
                }
                layout.learn(k, b, key_start, i + 1, slot);
                i = skip_ws(b, i + 1);
                slot
            }
        };
        k += 1;
        let (kind, start, end, next) = match b.get(i) {
            Some(b'"') => {
                let (end, escaped) = string_end(b, i).ok_or(Bad::OpenString)?;
                let kind = if escaped { Kind::Escaped } else { Kind::Str };
                (kind, i + 1, end - 1, end)
            }
            Some(c) if c.is_ascii_digit() || *c == b'-' => {
                let mut end = i + 1;
                while end < b.len()
                    && matches!(b[end], b'0'..=b'9' | b'.' | b'e' | b'E' | b'+' | b'-')
                {
                    end += 1;
                }
                (Kind::Num, i, end, end)
            }
            Some(b'{' | b'[') => {
                let end = nested_end(b, i).ok_or(Bad::OpenNested)?;
                (Kind::Nested, i, end, end)
            }
            Some(b't') if b[i..].starts_with(b"true") => (Kind::True, i, i, i + 4),
            Some(b'f') if b[i..].starts_with(b"false") => (Kind::False, i, i, i + 5),
            Some(b'n') if b[i..].starts_with(b"null") => (Kind::Null, i, i, i + 4),
            _ => return Err(Bad::Value(i)),
        };
        if let Some(s) = slot {
            let span = &mut spans[s as usize];
            if span.kind == Kind::Absent {
                // Lines are at most MAX_LINE bytes, far below u32::MAX.
                *span = Span {
                    kind,
                    start: start as u32,
                    end: end as u32,
                };
            }
        }
        i = skip_ws(b, next);
        match b.get(i) {
            Some(b',') => i = skip_ws(b, i + 1),
            Some(b'}') => return end_of_object(b, i),
            _ => return Err(Bad::Separator(i)),
        }
    }
}

/// The keys of the previous line, in order, as the bytes `"key":`. Most
/// logs write every line with the same keys in the same order, so a key is
/// recognised with one comparison of up to 16 bytes instead of being
/// scanned and looked up.
#[derive(Default)]
struct Layout {
    keys: Vec<KeyAt>,
}

/// Values that mostly repeat from line to line, with what they read as.
#[derive(Default)]
struct Repeats {
    http_status: Last<Option<u16>>,
    status: Last<Option<Status>>,
    batch_size: Last<Option<u32>>,
    attempt: Last<Option<u32>>,
    direction: Last<Option<Direction>>,
    crm: Last<Option<Crm>>,
    op: Last<Option<Op>>,
}

/// The last value of one slot (up to 16 bytes, as written) and what it
/// read as, so a repeated value is one comparison instead of a parse.
#[derive(Default)]
struct Last<T> {
    seen: Option<(Kind, u128, u8)>,
    value: T,
}

impl<T: Copy> Last<T> {
    #[inline(always)]
    fn get(
        &mut self,
        f: &Fields<'_, '_>,
        slot: Slot,
        read: impl FnOnce(&Fields<'_, '_>) -> T,
    ) -> T {
        let now = f.word(slot);
        if now.is_some() && now == self.seen {
            return self.value;
        }
        self.value = read(f);
        self.seen = now;
        self.value
    }
}

#[derive(Clone, Copy)]
struct KeyAt {
    /// `"key":`, zero-padded.
    word: u128,
    len: u8,
    slot: Option<Slot>,
}

/// `MASKS[n]` keeps the first `n` bytes of a little-endian word.
const MASKS: [u128; 17] = {
    let mut masks = [0u128; 17];
    let mut n = 1;
    while n < 17 {
        masks[n] = if n == 16 { !0 } else { (1u128 << (n * 8)) - 1 };
        n += 1;
    }
    masks
};

impl KeyAt {
    #[inline(always)]
    fn is_at(&self, b: &[u8], i: usize) -> bool {
        word_at(b, i, usize::from(self.len)) == Some(self.word)
    }
}

/// Most keys a line is expected to have; keys beyond are read the slow way.
const LAYOUT_KEYS: usize = 32;

impl Layout {
    /// Remember the `k`-th key of this line, `b[start..end]` (from its
    /// opening quote to its colon), when it fits in a word.
    fn learn(&mut self, k: usize, b: &[u8], start: usize, end: usize, slot: Option<Slot>) {
        let len = end - start;
        if k > self.keys.len() || k >= LAYOUT_KEYS {
            return;
        }
        let Some(word) = word_at(b, start, len) else {
            return;
        };
        let key = KeyAt {
            word,
            len: len as u8,
            slot,
        };
        match self.keys.get_mut(k) {
            Some(old) => *old = key,
            None => self.keys.push(key),
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

/// `len` (at most 16) bytes of `b` from `start` as one zero-padded word
/// (see [`key_word`]), read straight from the line when 16 bytes are there.
#[inline(always)]
fn word_at(b: &[u8], start: usize, len: usize) -> Option<u128> {
    if len > 16 {
        return None;
    }
    match b.get(start..).and_then(<[u8]>::first_chunk::<16>) {
        Some(bytes) => Some(u128::from_le_bytes(*bytes) & MASKS[len]),
        None => key_word(b.get(start..start + len)?),
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

/// The spans of one line's values and its scalars, or why it is not an
/// event. `layout` and `repeats` carry the keys and values of the file's
/// previous lines (any reads any line; matching ones read it faster).
fn scan_line(
    line: &str,
    layout: &mut Layout,
    repeats: &mut Repeats,
) -> Result<([Span; Slot::COUNT], Scalars), String> {
    if u32::try_from(line.len()).is_err() {
        return Err("not a JSON event: the line is too long".into());
    }
    let mut spans = [Span::default(); Slot::COUNT];
    scan_object(line.as_bytes(), &mut spans, layout).map_err(|bad| bad.message(line))?;
    let scalars = read_scalars(
        &Fields {
            line,
            spans: &spans,
        },
        repeats,
    )?;
    Ok((spans, scalars))
}

/// The event a scanned line holds, or why it is not one. `layout` carries
/// the values of the file's previous lines.
/// The values of a line that are not text: read on the reader thread,
/// where repeated values are recognised (see [`Repeats`]).
#[derive(Debug, Clone, Copy)]
struct Scalars {
    status: Status,
    http_status: Option<u16>,
    ts: Option<i64>,
    batch_size: Option<u32>,
    attempt: Option<u32>,
    retry_after: Option<u32>,
    direction: Option<Direction>,
    crm: Option<Crm>,
    op: Option<Op>,
}

/// A line's scalars, or why it is not an event (no status it can read).
fn read_scalars(f: &Fields<'_, '_>, repeats: &mut Repeats) -> Result<Scalars, String> {
    let http_status = repeats
        .http_status
        .get(f, Slot::HttpStatus, |f| f.small::<u16>(Slot::HttpStatus));
    let status = repeats
        .status
        .get(f, Slot::Status, |f| match f.kind(Slot::Status) {
            Kind::Num => parse_int(f.bytes(Slot::Status)).map(status_from_http),
            Kind::True => Some(Status::Ok),
            Kind::False => Some(Status::Failed),
            _ => f.text(Slot::Status).and_then(|s| Status::parse_loose(&s)),
        })
        .or_else(|| http_status.map(|h| status_from_http(i64::from(h))));
    let Some(status) = status else {
        return Err(match f.text(Slot::Status) {
            None => "missing \"status\" (ok, failed, partial or skipped)".into(),
            Some(s) => format!("unknown status {s:?} (expected ok, failed, partial or skipped)"),
        });
    };
    Ok(Scalars {
        status,
        http_status,
        ts: match f.kind(Slot::Ts) {
            Kind::Num => f
                .int(Slot::Ts)
                .map(|n| if n < 100_000_000_000 { n * 1000 } else { n }),
            _ => f.text(Slot::Ts).and_then(|s| parse_ts(&s)),
        },
        batch_size: repeats
            .batch_size
            .get(f, Slot::BatchSize, |f| f.small(Slot::BatchSize)),
        attempt: repeats
            .attempt
            .get(f, Slot::Attempt, |f| f.small(Slot::Attempt)),
        retry_after: f.small(Slot::RetryAfter),
        direction: repeats.direction.get(f, Slot::Direction, |f| {
            f.text(Slot::Direction)
                .and_then(|s| Direction::parse_loose(&s))
        }),
        crm: repeats.crm.get(f, Slot::Crm, |f| {
            f.text(Slot::Crm).and_then(|s| Crm::parse_loose(&s))
        }),
        op: repeats.op.get(f, Slot::Op, |f| {
            f.text(Slot::Op).and_then(|s| Op::parse_loose(&s))
        }),
    })
}

/// The event of a scanned line, or why it is not one (a `fields` or
/// `changed` value that does not read).
fn build_event<'a>(f: &Fields<'a, '_>, s: &Scalars, origin: Origin) -> Result<Event<'a>, String> {
    let mut ev = Event::new(s.status, origin);
    ev.http_status = s.http_status;
    ev.ts = s.ts;
    ev.batch_size = s.batch_size;
    ev.attempt = s.attempt;
    ev.retry_after = s.retry_after;
    ev.direction = s.direction;
    ev.crm = s.crm;
    ev.op = s.op;
    ev.run = f.text(Slot::Run);
    ev.batch = f.text(Slot::Batch);
    ev.object = f.text(Slot::Object);
    ev.record = f.text(Slot::Record);
    ev.crm_id = f.text(Slot::CrmId);
    ev.code = f.text(Slot::Code);
    ev.message = match f.kind(Slot::Message) {
        Kind::Nested => Some(Cow::Borrowed(f.raw(Slot::Message))),
        _ => f.text(Slot::Message),
    };
    if let Some(field) = f.text(Slot::Field) {
        ev.fields.push(field);
    }
    match f.kind(Slot::Fields) {
        Kind::Nested => {
            let parsed: Vec<String> = serde_json::from_str(f.raw(Slot::Fields))
                .map_err(|e| format!("\"fields\" is not a list of names: {e}"))?;
            for name in parsed {
                if !name.is_empty() && !ev.fields.iter().any(|x| *x == name) {
                    ev.fields.push(Cow::Owned(name));
                }
            }
        }
        Kind::Str | Kind::Escaped => {
            let list = f.text(Slot::Fields).unwrap_or_default();
            for name in list
                .split([';', ','])
                .map(str::trim)
                .filter(|n| !n.is_empty())
            {
                if !ev.fields.iter().any(|x| x == name) {
                    ev.fields.push(Cow::Owned(name.to_owned()));
                }
            }
        }
        _ => {}
    }
    if f.kind(Slot::Changed) == Kind::Nested {
        let c: Changed<'_> = serde_json::from_str(f.raw(Slot::Changed))
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

    fn parse_event(line: &str, origin: Origin) -> Result<Event<'_>, String> {
        parse_with(
            line,
            origin,
            &mut Layout::default(),
            &mut Repeats::default(),
        )
    }

    fn parse_with<'a>(
        line: &'a str,
        origin: Origin,
        layout: &mut Layout,
        repeats: &mut Repeats,
    ) -> Result<Event<'a>, String> {
        let (spans, scalars) = scan_line(line, layout, repeats)?;
        build_event(
            &Fields {
                line,
                spans: &spans,
            },
            &scalars,
            origin,
        )
    }

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
        assert_eq!(word_at(line, 2, 6), key_word(b"record"));
        assert_eq!(
            word_at(b"ab\"record", 3, 6),
            key_word(b"record"),
            "near the end"
        );
        assert_eq!(word_at(b"abc", 1, 6), None, "past the end");
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

    proptest::proptest! {
        /// Lines read one after another (keys learnt from the previous
        /// line, repeated values reused) read exactly as each line alone:
        /// keys reordered, dropped, renamed to aliases, spaced out, values
        /// changed in kind and length.
        #[test]
        fn a_file_reads_as_its_lines_alone(
            lines in proptest::collection::vec(
                (
                    proptest::sample::subsequence(
                        vec!["ts", "run", "status", "op", "crm", "direction", "batch_size",
                             "attempt", "http_status", "record", "result", "statusCode"],
                        0..=12,
                    ),
                    proptest::collection::vec(0usize..8, 12),
                    proptest::bool::ANY,
                ),
                1..12,
            ),
        ) {
            let values = [
                r#""ok""#, r#""failed""#, "200", "429", r#""upsert""#, r#""HubSpot""#,
                r#""source_to_crm""#, "true",
            ];
            let mut layout = Layout::default();
            let mut repeats = Repeats::default();
            for (keys, picks, spaced) in &lines {
                let sep = if *spaced { " , " } else { "," };
                let colon = if *spaced { " : " } else { ":" };
                let body: Vec<String> = keys
                    .iter()
                    .zip(picks)
                    .map(|(k, p)| format!("\"{k}\"{colon}{}", values[*p]))
                    .collect();
                let line = format!("{{{}}}", body.join(sep));
                let alone = parse_event(&line, origin()).map(|e| format!("{e:?}"));
                let in_file = parse_with(&line, origin(), &mut layout, &mut repeats)
                    .map(|e| format!("{e:?}"));
                proptest::prop_assert_eq!(in_file, alone, "{}", line);
            }
        }
    }

    /// What a sink saw: events as (line, record) and problem lines.
    #[derive(Default)]
    struct Seen {
        events: Vec<(u64, String)>,
        problems: Vec<u64>,
        announced: usize,
    }

    impl Sink for Seen {
        fn event(&mut self, event: &Event<'_>) {
            let record = event.record.as_deref().unwrap_or_default().to_owned();
            self.events.push((event.origin.line, record));
        }
        fn problem(&mut self, problem: Problem) {
            self.problems.extend(problem.line);
        }
        fn ahead(&mut self, record: Option<&str>, _crm_id: Option<&str>) {
            self.announced += usize::from(record.is_some());
        }
    }

    #[test]
    fn many_chunks_arrive_whole_and_in_order() {
        // 10,000 lines over several chunks, with blank and broken lines.
        let mut text = String::new();
        let (mut want_events, mut want_problems) = (Vec::new(), Vec::new());
        for line in 1..=10_000u64 {
            match line % 997 {
                0 => {
                    text.push_str("{not json");
                    want_problems.push(line);
                }
                1 => {}
                _ => {
                    text.push_str(&format!(
                        r#"{{"status":"ok","record":"r-{line}","op":"upsert","crm_id":"{line}"}}"#
                    ));
                    want_events.push((line, format!("r-{line}")));
                }
            }
            text.push('\n');
        }
        let name: Arc<str> = Arc::from("big.jsonl");
        type Read = fn(Input, &Arc<str>, &mut dyn Sink) -> Result<(), IngestError>;
        for read in [read_jsonl as Read, read_in_one_thread] {
            let mut seen = Seen::default();
            let input: Input = Box::new(std::io::Cursor::new(text.clone().into_bytes()));
            read(input, &name, &mut seen).expect("reads");
            assert_eq!(seen.problems, want_problems);
            assert_eq!(seen.events, want_events);
            assert_eq!(seen.announced, want_events.len());
        }
    }

    /// Reads its data, then fails.
    struct FailsAfter {
        data: std::io::Cursor<Vec<u8>>,
    }

    impl std::io::Read for FailsAfter {
        fn read(&mut self, buf: &mut [u8]) -> std::io::Result<usize> {
            match self.data.read(buf)? {
                0 => Err(std::io::Error::other("the disk went away")),
                n => Ok(n),
            }
        }
    }

    #[test]
    fn a_failed_read_keeps_what_came_before_and_says_where() {
        let text: String = (1..=5000)
            .map(|n| format!("{{\"status\":\"ok\",\"record\":\"r-{n}\"}}\n"))
            .collect();
        let input: Input = Box::new(std::io::BufReader::with_capacity(
            4096,
            FailsAfter {
                data: std::io::Cursor::new(text.into_bytes()),
            },
        ));
        let name: Arc<str> = Arc::from("cut.jsonl");
        let mut seen = Seen::default();
        let err = read_jsonl(input, &name, &mut seen).expect_err("fails");
        assert_eq!(seen.events.len(), 5000);
        assert!(
            err.to_string()
                .starts_with("cut.jsonl: read failed after 5000 lines"),
            "{err}"
        );
    }
}
