//! Which format a file is in, from its content (DESIGN.md §3).

use crate::IngestError;
use crate::source::Input;
use std::io::BufRead;
use std::path::Path;

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Format {
    Auto,
    /// syncward events, JSON Lines
    Events,
    /// syncward events, CSV
    EventsCsv,
    SfBulk2Failed,
    SfBulk2Success,
    SfBulk2Unprocessed,
    SfBulk1,
    DataLoaderError,
    DataLoaderSuccess,
    /// HTTP exchange log, JSON Lines
    Http,
    Har,
    Text,
}

impl Format {
    pub const NAMES: &'static [(&'static str, Format)] = &[
        ("auto", Format::Auto),
        ("events", Format::Events),
        ("events-csv", Format::EventsCsv),
        ("sf-bulk2-failed", Format::SfBulk2Failed),
        ("sf-bulk2-success", Format::SfBulk2Success),
        ("sf-bulk2-unprocessed", Format::SfBulk2Unprocessed),
        ("sf-bulk1", Format::SfBulk1),
        ("dataloader-error", Format::DataLoaderError),
        ("dataloader-success", Format::DataLoaderSuccess),
        ("http", Format::Http),
        ("har", Format::Har),
        ("text", Format::Text),
    ];

    pub fn name(self) -> &'static str {
        Format::NAMES
            .iter()
            .find(|(_, f)| *f == self)
            .map_or("auto", |(n, _)| n)
    }

    pub fn parse(s: &str) -> Option<Format> {
        Format::NAMES.iter().find(|(n, _)| *n == s).map(|(_, f)| *f)
    }

    /// Plain words for reports.
    pub fn describe(self) -> &'static str {
        match self {
            Format::Auto => "auto-detected",
            Format::Events => "syncward events (JSON Lines)",
            Format::EventsCsv => "syncward events (CSV)",
            Format::SfBulk2Failed => "Salesforce Bulk API 2.0 failed results",
            Format::SfBulk2Success => "Salesforce Bulk API 2.0 successful results",
            Format::SfBulk2Unprocessed => "Salesforce Bulk API 2.0 unprocessed records",
            Format::SfBulk1 => "Salesforce Bulk API 1.0 batch results",
            Format::DataLoaderError => "Salesforce Data Loader error file",
            Format::DataLoaderSuccess => "Salesforce Data Loader success file",
            Format::Http => "HTTP exchange log (JSON Lines)",
            Format::Har => "HAR (browser or proxy export)",
            Format::Text => "plain text log",
        }
    }
}

/// Peeks at the start of the input (without consuming it) and names the format.
/// `None` for an empty input.
pub fn detect(reader: &mut Input, path: &Path, name: &str) -> Result<Option<Format>, IngestError> {
    let head = reader.fill_buf().map_err(|source| IngestError::Read {
        file: name.to_owned(),
        line: 0,
        source,
    })?;
    let head = String::from_utf8_lossy(head);
    let head = head.trim_start_matches('\u{feff}');
    if head.trim().is_empty() {
        return Ok(None);
    }
    let first = head
        .lines()
        .map(str::trim)
        .find(|l| !l.is_empty())
        .unwrap_or("");
    Ok(Some(classify_head(first, head, path)))
}

fn classify_head(first: &str, head: &str, path: &Path) -> Format {
    if first.starts_with('{') {
        if let Ok(serde_json::Value::Object(obj)) = serde_json::from_str::<serde_json::Value>(first)
        {
            if obj.contains_key("log") {
                return Format::Har;
            }
            if (obj.contains_key("method") || obj.contains_key("url")) && obj.contains_key("status")
            {
                return Format::Http;
            }
            return Format::Events;
        }
        // A JSON document across lines: HAR is the one we read.
        if head.contains("\"log\"")
            && (head.contains("\"entries\"") || head.contains("\"creator\""))
        {
            return Format::Har;
        }
        if head.contains("\"method\"") && head.contains("\"url\"") {
            return Format::Http;
        }
        return Format::Events;
    }
    let cells = header_cells(first);
    if cells.len() >= 2 {
        let has = |name: &str| cells.iter().any(|c| c == name);
        let has_ci = |name: &str| cells.iter().any(|c| c.eq_ignore_ascii_case(name));
        if has("sf__Error") {
            return Format::SfBulk2Failed;
        }
        if has("sf__Created") || has("sf__Id") {
            return Format::SfBulk2Success;
        }
        let lower: Vec<String> = cells.iter().map(|c| c.to_ascii_lowercase()).collect();
        if lower.len() == 4 && lower == ["id", "success", "created", "error"] {
            return Format::SfBulk1;
        }
        if has("ERROR") {
            return Format::DataLoaderError;
        }
        if has("STATUS") && has("ID") {
            return Format::DataLoaderSuccess;
        }
        if has_ci("status")
            && [
                "record", "run", "op", "object", "message", "code", "ts", "crm", "batch",
            ]
            .iter()
            .any(|k| has_ci(k))
        {
            return Format::EventsCsv;
        }
        let stem = path
            .file_name()
            .map(|f| f.to_string_lossy().to_ascii_lowercase())
            .unwrap_or_default();
        if stem.contains("unprocessed") {
            return Format::SfBulk2Unprocessed;
        }
    }
    Format::Text
}

/// The cells of a CSV header line (quoted or not).
fn header_cells(line: &str) -> Vec<String> {
    if !line.contains(',') && !line.contains('\t') && !line.contains(';') {
        return Vec::new();
    }
    let sep = if line.contains(',') {
        b','
    } else if line.contains('\t') {
        b'\t'
    } else {
        b';'
    };
    let mut rdr = csv::ReaderBuilder::new()
        .has_headers(false)
        .delimiter(sep)
        .from_reader(line.as_bytes());
    rdr.records()
        .next()
        .and_then(Result::ok)
        .map(|r| r.iter().map(|c| c.trim().to_owned()).collect())
        .unwrap_or_default()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn fmt(first: &str) -> Format {
        classify_head(first, first, Path::new("x"))
    }

    #[test]
    fn detects_by_content() {
        assert_eq!(
            fmt(r#"{"ts":"2026-01-01T00:00:00Z","status":"failed"}"#),
            Format::Events
        );
        assert_eq!(
            fmt(
                r#"{"ts":1,"method":"POST","url":"https://api.hubapi.com/x","status":429,"response":{}}"#
            ),
            Format::Http
        );
        assert_eq!(
            fmt(r#"{"log":{"version":"1.2","entries":[]}}"#),
            Format::Har
        );
        assert_eq!(
            classify_head("{", "{\n  \"log\": {\n \"creator\": {}", Path::new("x")),
            Format::Har
        );
        assert_eq!(
            fmt(r#""sf__Id","sf__Error",Id,Phone"#),
            Format::SfBulk2Failed
        );
        assert_eq!(
            fmt(r#""sf__Id","sf__Created",Email"#),
            Format::SfBulk2Success
        );
        assert_eq!(fmt(r#""Id","Success","Created","Error""#), Format::SfBulk1);
        assert_eq!(
            fmt("FirstName,LastName,Email,ERROR"),
            Format::DataLoaderError
        );
        assert_eq!(fmt("ID,FirstName,Email,STATUS"), Format::DataLoaderSuccess);
        assert_eq!(fmt("ts,run,record,status,message"), Format::EventsCsv);
        assert_eq!(
            fmt("2026-01-01 10:00:00 ERROR something broke"),
            Format::Text
        );
        assert_eq!(
            classify_head(
                "Email,LastName",
                "",
                Path::new("job-unprocessedrecords.csv")
            ),
            Format::SfBulk2Unprocessed
        );
    }
}
