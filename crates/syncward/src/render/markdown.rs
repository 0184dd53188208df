//! The diagnosis as a runbook to paste into a ticket: one owner, one test
//! record, one rollback path, the checks in the seed's order, and the
//! checklist with what the logs already settle marked as such.

use super::{cite, not_processed, plural, thousands};
use std::io::{self, Write};
use syncward_core::Layer;
use syncward_core::diagnose::{Action, Diagnosis, StopRuleId};

fn esc(s: &str) -> String {
    s.replace('|', "\\|")
        .replace('\n', " ")
        .replace('<', "&lt;")
        .replace('>', "&gt;")
}

pub fn write(out: &mut impl Write, d: &Diagnosis, files: &[String]) -> io::Result<()> {
    let dec = &d.decision;
    let b = &d.blast_radius;
    if dec.action == Action::None {
        writeln!(out, "# CRM sync check: nothing failed\n")?;
        writeln!(
            out,
            "{} in {} read; no record failed and none was changed after it was written.",
            plural(d.events.total, "event", "events"),
            plural(files.len() as u64, "log", "logs")
        )?;
        if d.events.skipped > 0 {
            writeln!(out, "\n{}", not_processed(d.events.skipped))?;
        }
        return Ok(());
    }
    writeln!(
        out,
        "# CRM sync repair: {} failure ({})\n",
        d.decision.layer.as_str(),
        d.pattern.plain()
    )?;
    writeln!(out, "| | |\n|---|---|")?;
    writeln!(
        out,
        "| **Owner** | {} |",
        d.context
            .owner
            .as_deref()
            .map(esc)
            .unwrap_or_else(|| "_not named yet: assign one person before anything changes_".into())
    )?;
    writeln!(
        out,
        "| **Next move** | **{}** ({}): {} |",
        dec.action.as_str(),
        esc(dec.action.plain()),
        esc(&dec.reason)
    )?;
    writeln!(
        out,
        "| **Test record** | {} |",
        dec.test_record
            .as_deref()
            .map(|r| format!("`{}`", esc(r)))
            .unwrap_or_else(|| "pick one failed record from the list below".into())
    )?;
    writeln!(out, "| **Rollback path** | {} |", esc(&rollback(d)))?;
    writeln!(
        out,
        "| **Blast radius** | {}: {} of {} records failed; objects: {}; fields: {} |",
        b.scope.as_str(),
        thousands(b.records_failed),
        thousands(b.records_seen),
        if b.objects_failed.is_empty() {
            "not named in the logs".into()
        } else {
            esc(&b.objects_failed.join(", "))
        },
        if b.fields.is_empty() {
            "none named".into()
        } else {
            esc(&b
                .fields
                .iter()
                .take(6)
                .cloned()
                .collect::<Vec<_>>()
                .join(", "))
        },
    )?;
    writeln!(
        out,
        "| **Logs** | {} ({} events, {} failed{}) |",
        esc(&files.join(", ")),
        thousands(d.events.total),
        thousands(
            d.events.failed
                + d.events.partial
                + d.events.changed_after_write
                + d.events.landed_twice
        ),
        if d.events.malformed > 0 {
            format!(", {} unreadable lines", thousands(d.events.malformed))
        } else {
            String::new()
        }
    )?;
    if !dec.forbidden.is_empty() {
        writeln!(out, "| **Do not** | {} |", esc(&dec.forbidden.join("; ")))?;
    }
    writeln!(out)?;

    writeln!(out, "## Stop rules\n")?;
    for r in &d.stop_rules {
        let mark = if r.tripped { "x" } else { " " };
        let ev = if r.evidence.is_empty() {
            String::new()
        } else {
            format!(" (see {})", cite(&r.evidence, 3))
        };
        writeln!(
            out,
            "- [{mark}] **{}**: {}. {}{}",
            r.id.as_str(),
            r.rule,
            esc(&r.detail),
            ev
        )?;
    }
    writeln!(out)?;

    writeln!(out, "## Checks, in the seed's order\n")?;
    let layer_line = |layer: Layer| -> String {
        let n = d.layers.get(layer);
        let group = d.groups.iter().find(|g| g.layer == layer && !g.side_effect);
        match (n, group) {
            (0, _) => "settled by the logs: no failure at this layer.".to_owned(),
            (n, Some(g)) => format!(
                "**{} failure(s)** here, e.g. `{}` at {}. {}",
                thousands(n),
                esc(g.code.as_deref().unwrap_or(&g.title)),
                g.first_seen.at,
                esc(&g.fix)
            ),
            (n, None) => format!("{} failure(s) here.", thousands(n)),
        }
    };
    writeln!(
        out,
        "1. **Auth and permissions** (scopes, expired tokens): {}",
        layer_line(Layer::Auth)
    )?;
    writeln!(
        out,
        "2. **Mapping** (required fields, picklists, date formats, IDs): {}",
        layer_line(Layer::Mapping)
    )?;
    writeln!(
        out,
        "3. **Rate limits and batch size**: {}",
        layer_line(Layer::Transport)
    )?;
    writeln!(
        out,
        "4. **Workflow side effects** (assignment, validation, scoring rules): {}",
        layer_line(Layer::Workflow)
    )?;
    writeln!(
        out,
        "5. **Duplicate rules and record keys**: {}",
        layer_line(Layer::Dedupe)
    )?;
    writeln!(out, "6. **Single records**: {}", layer_line(Layer::Record))?;
    writeln!(out)?;

    writeln!(out, "## Checklist before the next retry\n")?;
    let first = d
        .groups
        .iter()
        .map(|g| &g.first_seen)
        .min_by(|a, b| a.ts.cmp(&b.ts));
    let tripped = |id: StopRuleId| d.stop_rules.iter().any(|r| r.id == id && r.tripped);
    let items: [(bool, String); 7] = [
        (
            false,
            "Pause writes that depend on the sync, so no record is changed twice.".into(),
        ),
        (
            true,
            format!(
                "Capture the exact error text and timestamp. _Settled by the logs: first failure at {}{}._",
                first.map_or("?".into(), |f| f.at.clone()),
                first
                    .and_then(|f| f.ts.clone())
                    .map(|t| format!(" ({t})"))
                    .unwrap_or_default()
            ),
        ),
        (
            false,
            format!(
                "Test 1 record, not the full batch{}.",
                dec.test_record
                    .as_deref()
                    .map(|r| format!(": `{}`", esc(r)))
                    .unwrap_or_default()
            ),
        ),
        (
            true,
            format!(
                "Check auth, then mapping, then rate limits. _Settled by the logs: the failing layer is **{}**._",
                d.decision.layer.as_str()
            ),
        ),
        (
            false,
            "Inspect the CRM audit trail and the source app log for the test record.".into(),
        ),
        (
            tripped(StopRuleId::ThreeIdenticalFailures)
                || tripped(StopRuleId::FifteenMinutesSameError),
            format!(
                "Stop after 3 identical failures or 15 minutes.{}",
                if tripped(StopRuleId::ThreeIdenticalFailures)
                    || tripped(StopRuleId::FifteenMinutesSameError)
                {
                    " _Already reached: stop retrying._"
                } else {
                    ""
                }
            ),
        ),
        (
            true,
            format!(
                "Choose one path forward. _Chosen: **{}**._",
                dec.action.as_str()
            ),
        ),
    ];
    for (i, (done, text)) in items.iter().enumerate() {
        writeln!(
            out,
            "{}. [{}] {}",
            i + 1,
            if *done { "x" } else { " " },
            text
        )?;
    }
    writeln!(out)?;

    writeln!(out, "## Then\n")?;
    for step in &dec.then {
        writeln!(out, "- {}", esc(step))?;
    }
    writeln!(out)?;

    writeln!(out, "## Failures (largest first)\n")?;
    writeln!(
        out,
        "| count | layer | code | fields | example records | first seen | fix |"
    )?;
    writeln!(out, "|---:|---|---|---|---|---|---|")?;
    for g in d.groups.iter().take(20) {
        writeln!(
            out,
            "| {} | {} | {} | {} | {} | {} | {} |",
            thousands(g.count),
            g.layer.as_str(),
            esc(g.code.as_deref().unwrap_or("")),
            esc(&g.fields.join(", ")),
            esc(&g.records.join(", ")),
            g.first_seen.at,
            esc(&g.fix)
        )?;
    }
    if !d.problems.is_empty() {
        writeln!(out, "\n## Unreadable input (skipped, counted)\n")?;
        for p in d.problems.iter().take(20) {
            writeln!(out, "- {}", esc(p))?;
        }
    }
    Ok(())
}

fn rollback(d: &Diagnosis) -> String {
    let partial = d
        .stop_rules
        .iter()
        .any(|r| r.id == StopRuleId::PartialWrites && r.tripped);
    let mut s = String::from(
        "Keep today's source export as the restore point; rerun only with upserts on the stable key, so a rerun can be repeated without duplicates",
    );
    if partial {
        s.push_str("; the partly written records stay in the review queue until their ids and values are confirmed");
    }
    if d.decision.layer == Layer::Workflow {
        s.push_str("; revert fields the automation rewrote from the CRM's field history");
    }
    s.push_str("; if the fix fails, process today's records by hand with the CRM's own importer.");
    s
}
