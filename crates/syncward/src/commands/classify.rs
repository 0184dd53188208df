//! `syncward classify`: JSON Lines in, one classification per line out, in
//! order; or `--text` to explain one message in plain language.

use super::Outcome;
use crate::cli::{ClassifyArgs, Format};
use crate::output::Style;
use anyhow::{Result, bail};
use serde::Deserialize;
use std::io::{self, BufWriter, Write};
use syncward_core::{Classification, Classifier, Crm, Input, Memo};
use syncward_ingest::LineReader;

#[derive(Deserialize)]
struct Request {
    text: Option<String>,
    #[serde(default)]
    crm: Option<String>,
    #[serde(default)]
    http_status: Option<serde_json::Value>,
}

pub fn run(engine: &Classifier, args: ClassifyArgs) -> Result<Outcome> {
    if let Some(text) = &args.text {
        let crm = match args.crm.as_deref() {
            None => None,
            Some(name) => match Crm::parse_loose(name) {
                Some(c) => Some(c),
                None => bail!(
                    "unknown CRM '{name}' (expected salesforce, hubspot, zoho, dynamics or pipedrive)"
                ),
            },
        };
        let c = engine.classify(&Input {
            text,
            crm,
            http_status: args.http_status,
        });
        let mut out = io::stdout().lock();
        match args.format {
            Format::Json => writeln!(out, "{}", serde_json::to_string(&c)?)?,
            Format::Text => explain(&mut out, &c)?,
        }
        return Ok(Outcome::Clean);
    }

    let stdin = io::stdin().lock();
    let mut out = BufWriter::new(io::stdout().lock());
    let mut bad = 0u64;
    let mut memo = Memo::new(engine);
    for line in LineReader::new(stdin) {
        let line = line?;
        let result = line.text.map_err(|e| e.to_string()).and_then(|text| {
            if text.trim().is_empty() {
                return Ok(None);
            }
            parse_request(&text).map(Some)
        });
        match result {
            Ok(None) => {}
            Ok(Some(req)) => {
                let c = memo.classify(&Input {
                    text: &req.0,
                    crm: req.1,
                    http_status: req.2,
                });
                serde_json::to_writer(&mut out, &c)?;
                out.write_all(b"\n")?;
            }
            Err(message) => {
                bad += 1;
                let error = serde_json::json!({
                    "error": format!("stdin:{}: {message}", line.number),
                    "line": line.number,
                });
                serde_json::to_writer(&mut out, &error)?;
                out.write_all(b"\n")?;
            }
        }
    }
    out.flush()?;
    if bad > 0 {
        eprintln!(
            "syncward: {bad} input line(s) could not be read; each got an error line in place"
        );
        return Ok(Outcome::CouldNotRun);
    }
    Ok(Outcome::Clean)
}

type Parsed = (String, Option<Crm>, Option<u16>);

fn parse_request(line: &str) -> Result<Parsed, String> {
    let req: Request = serde_json::from_str(line).map_err(|e| format!("not a JSON object: {e}"))?;
    let text = req
        .text
        .ok_or_else(|| "missing \"text\" (expected {\"text\": \"...\"})".to_owned())?;
    let crm = match req.crm.as_deref() {
        None | Some("") => None,
        Some(name) => Some(Crm::parse_loose(name).ok_or_else(|| {
            format!(
                "unknown crm '{name}' (expected salesforce, hubspot, zoho, dynamics or pipedrive)"
            )
        })?),
    };
    let http_status = match req.http_status {
        None | Some(serde_json::Value::Null) => None,
        Some(serde_json::Value::Number(n)) => n.as_u64().and_then(|n| u16::try_from(n).ok()),
        Some(serde_json::Value::String(s)) => s.trim().parse().ok(),
        Some(_) => None,
    };
    Ok((text, crm, http_status))
}

fn explain(out: &mut impl Write, c: &Classification) -> io::Result<()> {
    let s = Style::detect();
    writeln!(out, "{}  {}", s.bold("What failed:"), c.layer.plain())?;
    writeln!(
        out,
        "{}  {}",
        s.bold("Layer:      "),
        s.yellow(c.layer.as_str())
    )?;
    writeln!(out, "{}  {}", s.bold("In short:   "), c.title)?;
    if let Some(code) = &c.code {
        writeln!(out, "{}  {code}", s.bold("Code:       "))?;
    }
    if !c.fields.is_empty() {
        writeln!(out, "{}  {}", s.bold("Fields:     "), c.fields.join(", "))?;
    }
    let retry = if c.transient {
        "may help once, if no records were written partially"
    } else {
        "will not help: it repeats the same defect"
    };
    writeln!(out, "{}  {retry}", s.bold("A retry:    "))?;
    writeln!(out, "{}  {}", s.bold("Next move:  "), c.advice)?;
    writeln!(
        out,
        "{}",
        s.dim(&format!(
            "(rule: {})",
            c.rule.as_deref().unwrap_or("none matched")
        ))
    )?;
    Ok(())
}
