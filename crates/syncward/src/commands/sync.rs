//! `syncward sync`: the guarded re-sync.

use super::Outcome;
use crate::cli::{Format, SyncArgs};
use crate::output::Style;
use crate::render::{plural, thousands};
use anyhow::{Context, Result};
use std::io::{IsTerminal, Write};
use syncward_core::Classifier;
use syncward_core::check::mapping::Mapping;
use syncward_sync::{Options, Report};

pub fn run(engine: &Classifier, args: SyncArgs) -> Result<Outcome> {
    let mapping = Mapping::read(&args.mapping)?;
    let token = super::schema::token(&args.token_env)?;
    let refresh_token = std::env::var(&args.refresh_token_env)
        .ok()
        .filter(|t| !t.trim().is_empty())
        .map(syncward_crm::Token::new);
    let mut store = syncward_store::open(&args.state.db)?;
    let events_dir = args.state.db.folder().join("runs");
    let progress: Option<Box<dyn Fn(u64, u64) + Send>> =
        std::io::stderr().is_terminal().then(|| {
            Box::new(|done: u64, total: u64| {
                eprint!("\r  sent {done} of {total} records ");
                if done >= total {
                    eprintln!();
                }
            }) as Box<dyn Fn(u64, u64) + Send>
        });
    let opts = Options {
        mapping,
        mapping_path: args.mapping.display().to_string(),
        source: args.source.clone(),
        crm_url: args.crm_url.clone(),
        token,
        refresh_token,
        dry_run: args.dry_run,
        batch_size: args.batch_size,
        resume: args.resume,
        events_file: Some(events_dir.join(format!("sync-{}.jsonl", std::process::id()))),
        progress,
    };
    let rt = super::schema::runtime()?;
    let report = rt
        .block_on(syncward_sync::run(&opts, engine, store.as_mut()))
        .context("the sync could not run")?;
    let mut out = std::io::stdout().lock();
    match args.format {
        Format::Json => {
            let mut v = serde_json::to_value(&report)?;
            if let Some(d) = &report.diagnosis {
                v["diagnosis"] = serde_json::to_value(d)?;
            }
            writeln!(out, "{}", serde_json::to_string_pretty(&v)?)?;
        }
        Format::Text => print(&mut out, &report, &args)?,
    }
    Ok(
        if report.stopped.is_some() && !report.dry_run || report.queued > 0 {
            Outcome::Failures
        } else {
            Outcome::Clean
        },
    )
}

pub fn print(out: &mut impl Write, r: &Report, args: &SyncArgs) -> std::io::Result<()> {
    let s = Style::detect();
    writeln!(
        out,
        "{} run {}{}: {} in the source.",
        s.bold("syncward sync"),
        r.run,
        if r.resumed { " (resumed)" } else { "" },
        plural(r.source_rows, "row", "rows")
    )?;
    writeln!(
        out,
        "  Preflight held back {} (they are in the review queue).",
        plural(r.held_by_preflight, "row", "rows")
    )?;
    if let Some(t) = &r.test_record {
        if !t.rewritten.is_empty() {
            for (f, from, to) in &t.rewritten {
                writeln!(
                    out,
                    "  {} the test record {}: the CRM changed {f} from \"{from}\" to \"{to}\" right after the write.",
                    s.red("STOP"),
                    t.key
                )?;
            }
        } else if t.landed {
            writeln!(
                out,
                "  Test record {} landed and read back unchanged.",
                t.key
            )?;
        } else {
            writeln!(out, "  Test record {} did not land.", t.key)?;
        }
    }
    writeln!(
        out,
        "  Confirmed in the CRM: {}{}. In the review queue: {}. Not sent: {}.",
        thousands(r.confirmed),
        if r.already_confirmed > 0 {
            format!(
                " (plus {} confirmed before the resume)",
                thousands(r.already_confirmed)
            )
        } else {
            String::new()
        },
        thousands(r.queued),
        thousands(r.not_sent)
    )?;
    writeln!(
        out,
        "  {} in {} ({} retried); batch size at the end: {}.",
        plural(r.batches, "batch", "batches"),
        plural(r.requests, "request", "requests"),
        r.retries,
        r.final_batch_size
    )?;
    if let Some(why) = &r.stopped {
        writeln!(
            out,
            "\n{} {why}",
            if r.dry_run {
                s.yellow("Dry run:")
            } else {
                s.red("The run stopped:")
            }
        )?;
    }
    for warning in &r.warnings {
        writeln!(out, "\n{} {warning}", s.yellow("Warning:"))?;
    }
    if let Some(d) = &r.diagnosis
        && d.decision.action != syncward_core::diagnose::Action::None
    {
        writeln!(
            out,
            "\n{} {}",
            s.bold("Your one next move:"),
            d.decision.action.plain()
        )?;
        writeln!(out, "  Why: {}", d.decision.reason)?;
        for step in &d.decision.then {
            writeln!(out, "  - {step}")?;
        }
    }
    if r.queued > 0 {
        writeln!(
            out,
            "\nSee what is held back: syncward queue list --db {}",
            args.state.db
        )?;
    }
    Ok(())
}
