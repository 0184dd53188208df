//! `syncward check`: the mapping and the source rows against the CRM's
//! schema, before anything is sent.

use super::Outcome;
use crate::cli::{CheckArgs, Format};
use crate::output::Style;
use crate::render::{plural, thousands};
use anyhow::{Context, Result, bail};
use std::collections::BTreeMap;
use std::io::Write;
use syncward_core::check::mapping::Mapping;
use syncward_core::check::schema::Schema;
use syncward_core::check::{Checker, Finding, SetupInput, Severity, Summary};

/// Findings kept for the report; counts stay exact beyond it.
const MAX_FINDINGS: usize = 50_000;

pub fn run(args: CheckArgs) -> Result<Outcome> {
    let mapping = Mapping::read(&args.mapping)?;
    let crm = syncward_crm::Crm::parse(&mapping.crm)
        .context("the mapping's crm must be hubspot or salesforce")?;
    let (schema, scopes) = match (&args.schema, &args.crm_url) {
        (Some(path), _) => (
            super::schema::load_schema(path, Some(&mapping.object))?,
            None,
        ),
        (None, Some(url)) => {
            let client = syncward_crm::Client::new(url, super::schema::token(&args.token_env)?)?;
            let rt = super::schema::runtime()?;
            let text = rt.block_on(client.schema(crm, &mapping.object))?;
            let scopes = if crm == syncward_crm::Crm::Hubspot {
                rt.block_on(client.hubspot_scopes()).ok()
            } else {
                None
            };
            (Schema::parse(url, &text, Some(&mapping.object))?, scopes)
        }
        (None, None) => bail!("give --schema FILE or --crm-url URL"),
    };
    let baseline = args
        .baseline
        .as_ref()
        .map(|p| super::schema::load_schema(p, Some(&mapping.object)))
        .transpose()?;

    let source = args.source.to_string_lossy();
    // The error names the file and what went wrong; its cause is already in it.
    let file = syncward_ingest::open_text(&source).map_err(|e| anyhow::anyhow!("{e}"))?;
    let mut rdr = csv::ReaderBuilder::new().flexible(true).from_reader(file);
    let headers: Vec<String> = rdr
        .byte_headers()
        .with_context(|| format!("{}: cannot read the header line", args.source.display()))?
        .iter()
        .map(|h| {
            String::from_utf8_lossy(h)
                .trim_start_matches('\u{feff}')
                .trim()
                .to_owned()
        })
        .collect();
    if headers.iter().all(String::is_empty) {
        bail!(
            "{}: the file is empty (no header line)",
            args.source.display()
        );
    }
    let setup = SetupInput {
        scopes: scopes.as_deref(),
        baseline: baseline.as_ref(),
        batch_size: args.batch_size,
    };
    let mut checker = Checker::new(&mapping, &schema, &headers, &setup);
    checker.keep_fixed(args.fix.is_some());
    let mut summary = Summary::default();
    summary.add_setup(checker.setup_findings());
    let mut findings: Vec<Finding> = checker.setup_findings().to_vec();
    let mut truncated = false;

    let mut fix_out = args
        .fix
        .as_ref()
        .map(|p| csv::Writer::from_path(p).with_context(|| format!("cannot write {}", p.display())))
        .transpose()?;
    if let Some(w) = &mut fix_out {
        w.write_record(&headers)?;
    }
    let (mut clean_out, mut review_out) = match &args.split {
        Some(dir) => {
            std::fs::create_dir_all(dir)
                .with_context(|| format!("cannot create {}", dir.display()))?;
            let mut clean = csv::Writer::from_path(dir.join("clean.csv"))?;
            let mut review = csv::Writer::from_path(dir.join("review.csv"))?;
            let mut crm_header = vec![mapping.key.crm.clone()];
            crm_header.extend(
                checker
                    .crm_fields()
                    .into_iter()
                    .filter(|f| !f.eq_ignore_ascii_case(&mapping.key.crm)),
            );
            clean.write_record(&crm_header)?;
            let mut rh = headers.clone();
            rh.push("reason".into());
            review.write_record(&rh)?;
            (Some(clean), Some(review))
        }
        None => (None, None),
    };
    let key_pos = headers.iter().position(|h| h == checker.key_column());
    let crm_fields = checker.crm_fields();
    let mut changed_cells: BTreeMap<String, u64> = BTreeMap::new();
    let mut changed_rows = 0u64;

    let mut record = csv::ByteRecord::new();
    let mut row = 0u64;
    loop {
        match rdr.read_byte_record(&mut record) {
            Ok(false) => break,
            Ok(true) => {}
            Err(e) => {
                let line = e.position().map_or(0, csv::Position::line);
                if let csv::ErrorKind::Io(_) = e.kind() {
                    bail!(
                        "{}: read failed near line {line}: {e}",
                        args.source.display()
                    );
                }
                row += 1;
                let f = unreadable(row, format!("line {line}: malformed CSV: {e}"));
                summary.add_row(&syncward_core::check::RowOutcome {
                    has_error: true,
                    findings: vec![f.clone()],
                    ..Default::default()
                });
                findings.push(f);
                continue;
            }
        }
        row += 1;
        let cells: Vec<std::borrow::Cow<'_, str>> =
            record.iter().map(String::from_utf8_lossy).collect();
        let not_utf8 = record.iter().any(|c| std::str::from_utf8(c).is_err());
        let refs: Vec<&str> = cells.iter().map(|c| c.as_ref()).collect();
        let mut outcome = checker.check_row(row, &refs);
        if not_utf8 {
            let line = record.position().map_or(row + 1, csv::Position::line);
            outcome.has_error = true;
            outcome.findings.insert(
                0,
                unreadable(
                    row,
                    format!("line {line}: not valid UTF-8; save the file as UTF-8"),
                ),
            );
        }
        summary.add_row(&outcome);
        if !outcome.changes.is_empty() {
            changed_rows += 1;
            for (col, _, _) in &outcome.changes {
                *changed_cells.entry(col.clone()).or_default() += 1;
            }
        }
        if let Some(w) = &mut fix_out {
            w.write_record(&outcome.fixed)?;
        }
        if let (Some(clean), Some(review)) = (&mut clean_out, &mut review_out) {
            if outcome.has_error {
                let reason = outcome
                    .findings
                    .iter()
                    .filter(|f| f.severity == Severity::Error)
                    .map(|f| format!("{}: {}", f.column.as_deref().unwrap_or(f.kind), f.message))
                    .collect::<Vec<_>>()
                    .join("; ");
                let mut r: Vec<String> = refs.iter().map(|s| (*s).to_owned()).collect();
                r.resize(headers.len(), String::new());
                r.push(reason);
                review.write_record(&r)?;
            } else {
                let key = key_pos
                    .and_then(|i| refs.get(i))
                    .map(|k| k.trim().to_owned())
                    .unwrap_or_default();
                let mut r = vec![key];
                for (f, v) in crm_fields.iter().zip(&outcome.values) {
                    if !f.eq_ignore_ascii_case(&mapping.key.crm) {
                        r.push(v.clone().unwrap_or_default());
                    }
                }
                clean.write_record(&r)?;
            }
        }
        for f in outcome.findings {
            if findings.len() < MAX_FINDINGS {
                findings.push(f);
            } else {
                truncated = true;
            }
        }
    }
    for w in [&mut fix_out, &mut clean_out, &mut review_out]
        .into_iter()
        .flatten()
    {
        w.flush()?;
    }

    let has_errors = summary.setup_errors > 0 || summary.with_errors > 0;
    let mut out = std::io::BufWriter::new(std::io::stdout().lock());
    match args.format {
        Format::Json => {
            #[derive(serde::Serialize)]
            struct Report<'a> {
                summary: &'a Summary,
                findings: &'a [Finding],
                findings_truncated: bool,
            }
            serde_json::to_writer_pretty(
                &mut out,
                &Report {
                    summary: &summary,
                    findings: &findings,
                    findings_truncated: truncated,
                },
            )?;
            writeln!(out)?;
        }
        Format::Text => text(&mut out, &args, &schema, &summary, &findings, truncated)?,
    }
    if let Some(p) = &args.fix {
        let detail = changed_cells
            .iter()
            .map(|(c, n)| format!("{c}: {n}"))
            .collect::<Vec<_>>()
            .join(", ");
        writeln!(
            out,
            "\nWrote {}: {} changed in {} ({}).",
            p.display(),
            plural(changed_cells.values().sum(), "cell", "cells"),
            plural(changed_rows, "row", "rows"),
            if detail.is_empty() {
                "nothing needed fixing".into()
            } else {
                detail
            }
        )?;
    }
    if let Some(dir) = &args.split {
        writeln!(
            out,
            "Wrote {}/clean.csv ({} ready for the CRM's importer) and {}/review.csv ({} with the reason each needs a look).",
            dir.display(),
            plural(summary.clean, "row", "rows"),
            dir.display(),
            plural(summary.with_errors, "row", "rows")
        )?;
    }
    out.flush()?;
    Ok(if has_errors {
        Outcome::Failures
    } else {
        Outcome::Clean
    })
}

fn unreadable(row: u64, message: String) -> Finding {
    Finding {
        kind: "unreadable_row",
        severity: Severity::Error,
        row: Some(row),
        record: None,
        column: None,
        field: None,
        value: None,
        message,
        fix: Some("fix the row in the source file".into()),
    }
}

/// One line per field problem, with the rows it hits: the way a person fixes them.
fn text(
    out: &mut impl Write,
    args: &CheckArgs,
    schema: &Schema,
    summary: &Summary,
    findings: &[Finding],
    truncated: bool,
) -> std::io::Result<()> {
    let s = Style::detect();
    writeln!(
        out,
        "{} {} rows from {} against {} {}: {} clean, {} with errors{}.",
        s.bold("syncward check:"),
        thousands(summary.records),
        args.source.display(),
        match schema.crm {
            syncward_core::check::schema::SchemaCrm::Hubspot => "HubSpot",
            syncward_core::check::schema::SchemaCrm::Salesforce => "Salesforce",
        },
        schema.object,
        thousands(summary.clean),
        thousands(summary.with_errors),
        if summary.with_warnings > 0 {
            format!(", {} with warnings", thousands(summary.with_warnings))
        } else {
            String::new()
        }
    )?;
    let setup: Vec<&Finding> = findings.iter().filter(|f| f.row.is_none()).collect();
    if !setup.is_empty() {
        writeln!(
            out,
            "\n{}",
            s.bold("The setup (fix these first: they hit every record)")
        )?;
        for f in setup {
            let tag = if f.severity == Severity::Error {
                s.red("ERROR")
            } else {
                s.yellow("note ")
            };
            writeln!(
                out,
                "  {tag} {}: {}{}",
                f.kind,
                f.message,
                f.fix
                    .as_ref()
                    .map(|x| format!(" -> {x}"))
                    .unwrap_or_default()
            )?;
        }
    }
    // Group record findings by (severity, kind, column, field).
    let mut groups: BTreeMap<(Severity, &str, String, String), Vec<&Finding>> = BTreeMap::new();
    for f in findings.iter().filter(|f| f.row.is_some()) {
        groups
            .entry((
                f.severity,
                f.kind,
                f.column.clone().unwrap_or_default(),
                f.field.clone().unwrap_or_default(),
            ))
            .or_default()
            .push(f);
    }
    if !groups.is_empty() {
        writeln!(
            out,
            "\n{}",
            s.bold("The records (one line per field problem, with the rows it hits)")
        )?;
    }
    for ((sev, kind, column, field), list) in &groups {
        let rows: Vec<String> = list
            .iter()
            .take(8)
            .filter_map(|f| f.row.map(|r| r.to_string()))
            .collect();
        let more = if list.len() > 8 {
            format!(" and {} more", list.len() - 8)
        } else {
            String::new()
        };
        let tag = if *sev == Severity::Error {
            s.red("ERROR")
        } else {
            s.yellow("warn ")
        };
        let target = if field.is_empty() || field == column {
            column.clone()
        } else {
            format!("{column} -> {field}")
        };
        writeln!(
            out,
            "  {tag} {target}: {kind} on {} (row {}{more})",
            plural(list.len() as u64, "row", "rows"),
            rows.join(", ")
        )?;
        for f in list.iter().take(3) {
            writeln!(
                out,
                "        row {}: {}{}",
                f.row.unwrap_or(0),
                f.message,
                f.fix
                    .as_ref()
                    .map(|x| format!(" -> {x}"))
                    .unwrap_or_default()
            )?;
        }
    }
    if truncated {
        writeln!(
            out,
            "  (only the first {MAX_FINDINGS} findings are listed; the counts are complete)"
        )?;
    }
    if summary.setup_errors == 0 && summary.with_errors == 0 {
        writeln!(
            out,
            "\n{}",
            s.green("Nothing here would bounce. Test one record, then sync.")
        )?;
    } else {
        writeln!(
            out,
            "\nNext: fix the setup first, then the source values (or use --fix for the safe ones); test one record; send only the clean rows (--split writes them)."
        )?;
    }
    Ok(())
}
