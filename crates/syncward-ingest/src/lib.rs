//! syncward-ingest: reading the logs people already have. Every event keeps
//! its origin (`file:line`) so a report can cite evidence, and bad input is
//! reported line by line, never dropped silently. Memory does not grow with
//! the file: lines are read one at a time, with a length cap.

mod csvfmt;
mod detect;
mod events;
mod http;
pub mod lines;
mod source;
mod text;

pub use detect::Format;
pub use lines::{Line, LineError, LineReader, MAX_LINE};

use std::path::Path;
use std::sync::Arc;
use syncward_core::Event;

/// A problem with the input: a whole file, or one line of it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Problem {
    pub file: Arc<str>,
    pub line: Option<u64>,
    pub message: String,
}

impl std::fmt::Display for Problem {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self.line {
            Some(l) => write!(f, "{}:{}: {}", self.file, l, self.message),
            None => write!(f, "{}: {}", self.file, self.message),
        }
    }
}

/// Where readers send what they find.
pub trait Sink {
    fn event(&mut self, event: &Event<'_>);
    /// The record key and CRM id of an event that comes soon, for a sink
    /// that can get ready for it (the analyzer warms its tables).
    fn ahead(&mut self, _record: Option<&str>, _crm_id: Option<&str>) {}
    /// A malformed line (`line` set) or a file-level note; reading goes on.
    fn problem(&mut self, problem: Problem);
}

#[derive(Debug, thiserror::Error)]
pub enum IngestError {
    #[error("{file}: cannot open: {source}")]
    Open {
        file: String,
        #[source]
        source: std::io::Error,
    },
    #[error("{file}: read failed after {line} lines: {source}")]
    Read {
        file: String,
        line: u64,
        #[source]
        source: std::io::Error,
    },
}

/// What one input held.
#[derive(Debug, Clone, Default)]
pub struct Summary {
    pub format: Option<Format>,
    pub events: u64,
    pub lines: u64,
    pub malformed: u64,
}

/// Read one input (`-` is standard input; gzip is read transparently),
/// detecting its format from its content unless `format` says otherwise.
pub fn read_input(path: &str, format: Format, sink: &mut dyn Sink) -> Result<Summary, IngestError> {
    let name = if path == "-" { "stdin" } else { path };
    read_from(source::open(path)?, name, format, sink)
}

/// A text input (`-` is standard input) ready to read as UTF-8: gzip is
/// unpacked, a byte order mark skipped and UTF-16 decoded, as for the logs.
/// For the readers of other files (source CSVs for `check` and `sync`).
pub fn open_text(path: &str) -> Result<Box<dyn std::io::BufRead + Send>, IngestError> {
    let name = if path == "-" { "stdin" } else { path };
    let reader = source::maybe_gunzip(source::open(path)?, name)?;
    source::as_utf8(reader, name)
}

/// [`read_input`] for an input already open (`name` is what problems and
/// origins call it; its extension is a hint for the format, as a path's is).
pub fn read_from(
    reader: Box<dyn std::io::BufRead + Send>,
    name: &str,
    format: Format,
    sink: &mut dyn Sink,
) -> Result<Summary, IngestError> {
    let path = name;
    let name: Arc<str> = Arc::from(name);
    let reader = source::maybe_gunzip(reader, &name)?;
    let mut reader = source::as_utf8(reader, &name)?;
    let format = match format {
        Format::Auto => detect::detect(&mut reader, Path::new(path), &name)?,
        f => Some(f),
    };
    let Some(format) = format else {
        sink.problem(Problem {
            file: name,
            line: None,
            message: "the file is empty: no events to read".into(),
        });
        return Ok(Summary::default());
    };
    let mut counting = Counting {
        inner: sink,
        summary: Summary {
            format: Some(format),
            ..Summary::default()
        },
    };
    match format {
        Format::Events => events::read_jsonl(reader, &name, &mut counting)?,
        Format::EventsCsv => csvfmt::read(reader, &name, csvfmt::Kind::Events, &mut counting)?,
        Format::SfBulk2Failed => {
            csvfmt::read(reader, &name, csvfmt::Kind::Bulk2Failed, &mut counting)?
        }
        Format::SfBulk2Success => {
            csvfmt::read(reader, &name, csvfmt::Kind::Bulk2Success, &mut counting)?
        }
        Format::SfBulk2Unprocessed => {
            csvfmt::read(reader, &name, csvfmt::Kind::Bulk2Unprocessed, &mut counting)?
        }
        Format::SfBulk1 => csvfmt::read(reader, &name, csvfmt::Kind::Bulk1, &mut counting)?,
        Format::DataLoaderError => {
            csvfmt::read(reader, &name, csvfmt::Kind::DataLoaderError, &mut counting)?
        }
        Format::DataLoaderSuccess => csvfmt::read(
            reader,
            &name,
            csvfmt::Kind::DataLoaderSuccess,
            &mut counting,
        )?,
        Format::Http => http::read_jsonl(reader, &name, &mut counting)?,
        Format::Har => http::read_har(reader, &name, &mut counting)?,
        Format::Text | Format::Auto => text::read(reader, &name, &mut counting)?,
    }
    Ok(counting.summary)
}

/// Calls `f` with every readable, non-blank line and its number; lines
/// that are too long or not UTF-8 become problems; a failed read ends it.
pub(crate) fn each_line(
    reader: source::Input,
    name: &Arc<str>,
    sink: &mut dyn Sink,
    mut f: impl FnMut(&str, u64, &mut dyn Sink),
) -> Result<(), IngestError> {
    let mut lines = LineReader::new(reader);
    while let Some((number, text)) = next_line(&mut lines, name)? {
        match text {
            Ok(t) if is_blank(t) => {}
            Ok(t) => f(t, number, sink),
            Err(e) => sink.problem(Problem {
                file: name.clone(),
                line: Some(number),
                message: e.to_string(),
            }),
        }
    }
    Ok(())
}

/// A line's number and its text, or why it could not be read.
pub(crate) type NumberedLine<'r> = (u64, Result<&'r str, LineError>);

/// The next line of `lines` (see [`LineReader::next_borrowed`]), a failed
/// read worded with the file and the last line read.
pub(crate) fn next_line<'r, R: std::io::BufRead>(
    lines: &'r mut LineReader<R>,
    name: &str,
) -> Result<Option<NumberedLine<'r>>, IngestError> {
    let last = lines.lines_read();
    lines.next_borrowed().map_err(|source| IngestError::Read {
        file: name.to_owned(),
        line: last,
        source,
    })
}

/// A line with nothing but white space (the common case, a line starting
/// with a visible ASCII character, costs one comparison).
pub(crate) fn is_blank(line: &str) -> bool {
    match line.as_bytes().first() {
        Some(c) if c.is_ascii_graphic() => false,
        _ => line.trim().is_empty(),
    }
}

struct Counting<'s> {
    inner: &'s mut dyn Sink,
    summary: Summary,
}

impl Sink for Counting<'_> {
    fn ahead(&mut self, record: Option<&str>, crm_id: Option<&str>) {
        self.inner.ahead(record, crm_id);
    }

    fn event(&mut self, event: &Event<'_>) {
        self.summary.events += 1;
        self.inner.event(event);
    }
    fn problem(&mut self, problem: Problem) {
        if problem.line.is_some() {
            self.summary.malformed += 1;
        }
        self.inner.problem(problem);
    }
}
