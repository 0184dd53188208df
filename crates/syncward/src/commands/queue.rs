//! `syncward queue list|show|release|drop|export`.

use super::Outcome;
use crate::cli::{Format, QueueArgs, QueueCommand};
use anyhow::{Context, Result};
use std::io::Write;

fn now_ms() -> i64 {
    std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map_or(0, |d| d.as_millis() as i64)
}

pub fn run(args: QueueArgs) -> Result<Outcome> {
    if !args.state.db.exists() {
        anyhow::bail!(
            "no state database at {} (run syncward sync first, or pass --db)",
            args.state.db
        );
    }
    let mut store = syncward_store::open(&args.state.db)?;
    let mut out = std::io::stdout().lock();
    match args.command {
        QueueCommand::List { all, format } => {
            let items = store.queue_list(if all { None } else { Some("open") })?;
            match format {
                Format::Json => {
                    for i in &items {
                        writeln!(
                            out,
                            "{}",
                            serde_json::json!({"id": i.id, "record": i.record, "layer": i.layer, "reason": i.reason, "run": i.run, "status": i.status, "evidence": i.evidence})
                        )?;
                    }
                }
                Format::Text => {
                    if items.is_empty() {
                        writeln!(out, "The review queue is empty.")?;
                    }
                    for i in &items {
                        // With --all, each item's status (open, released,
                        // synced, dropped) comes first.
                        let status = if all {
                            format!("{:<9}", i.status)
                        } else {
                            String::new()
                        };
                        writeln!(
                            out,
                            "{:>5}  {status}run {:<4} {:<10} {:<32} {}",
                            i.id,
                            i.run,
                            i.layer,
                            i.record,
                            i.reason.chars().take(120).collect::<String>()
                        )?;
                    }
                    let open = items.iter().filter(|i| i.status == "open").count();
                    if open > 0 {
                        writeln!(
                            out,
                            "\n{open} item(s) held. Fix the cause, then `syncward queue release ID...` to send them with the next run, or `syncward queue export -o file.csv` to enter them by hand.",
                        )?;
                    }
                }
            }
            Ok(Outcome::Clean)
        }
        QueueCommand::Show { id } => {
            let i = store.queue_item(id)?;
            writeln!(out, "{}", serde_json::to_string_pretty(&i)?)?;
            Ok(Outcome::Clean)
        }
        QueueCommand::Release { ids } => {
            for id in &ids {
                store.set_queue_status(*id, "released", now_ms())?;
            }
            writeln!(
                out,
                "Released {} item(s): the next `syncward sync` sends them again.",
                ids.len()
            )?;
            Ok(Outcome::Clean)
        }
        QueueCommand::Drop { ids } => {
            for id in &ids {
                store.set_queue_status(*id, "dropped", now_ms())?;
            }
            writeln!(out, "Dropped {} item(s).", ids.len())?;
            Ok(Outcome::Clean)
        }
        QueueCommand::Export { output } => {
            let items = store.queue_list(Some("open"))?;
            let mut columns: Vec<String> = Vec::new();
            for i in &items {
                if let Some(m) = i.payload.as_object() {
                    for k in m.keys() {
                        if !columns.contains(k) {
                            columns.push(k.clone());
                        }
                    }
                }
            }
            let mut w = csv::Writer::from_path(&output)
                .with_context(|| format!("cannot write {}", output.display()))?;
            let mut header = columns.clone();
            header.push("syncward_reason".into());
            w.write_record(&header)?;
            for i in &items {
                let mut row: Vec<String> = columns
                    .iter()
                    .map(|c| {
                        i.payload
                            .get(c)
                            .map(|v| v.as_str().map_or_else(|| v.to_string(), str::to_owned))
                            .unwrap_or_default()
                    })
                    .collect();
                row.push(i.reason.clone());
                w.write_record(&row)?;
            }
            w.flush()?;
            writeln!(
                out,
                "Wrote {} item(s) to {} with the CRM's field names as headers, for the CRM's own importer.",
                items.len(),
                output.display()
            )?;
            Ok(Outcome::Clean)
        }
    }
}
