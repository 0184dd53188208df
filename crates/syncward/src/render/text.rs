//! The diagnosis in plain language, for someone who is not an engineer.

use super::{cite, not_processed, plural, thousands};
use crate::output::Style;
use std::io::{self, Write};
use syncward_core::diagnose::{Action, Diagnosis, Scope};

pub fn write(out: &mut impl Write, d: &Diagnosis, files: &[String]) -> io::Result<()> {
    let s = Style::detect();
    let e = &d.events;
    writeln!(
        out,
        "{} {} read: {} ({} ok, {} failed{}{}{}{}).",
        s.bold("syncward diagnosis:"),
        plural(files.len() as u64, "log", "logs"),
        plural(e.total, "event", "events"),
        thousands(e.ok),
        thousands(e.failed + e.partial),
        if e.changed_after_write > 0 {
            format!(
                ", {} changed after the write",
                thousands(e.changed_after_write)
            )
        } else {
            String::new()
        },
        if e.landed_twice > 0 {
            format!(", {} landed as a duplicate", thousands(e.landed_twice))
        } else {
            String::new()
        },
        if e.skipped > 0 {
            format!(", {} not processed", thousands(e.skipped))
        } else {
            String::new()
        },
        if e.malformed > 0 {
            format!(", {} unreadable", plural(e.malformed, "line", "lines"))
        } else {
            String::new()
        },
    )?;
    writeln!(out)?;

    if e.total == 0 {
        writeln!(
            out,
            "{}",
            s.yellow("No sync events were found in the input, so there is nothing to diagnose.")
        )?;
        writeln!(
            out,
            "Check that these are the sync's logs or result files (see the README for the formats syncward reads)."
        )?;
        problems(out, d, &s)?;
        return Ok(());
    }
    if d.decision.action == Action::None {
        writeln!(out, "{}", s.green("Nothing failed."))?;
        if e.skipped > 0 {
            writeln!(out, "But {}", not_processed(e.skipped))?;
        } else {
            writeln!(
                out,
                "Your one next move: none. The sync looks healthy in these logs."
            )?;
        }
        if e.malformed > 0 {
            writeln!(
                out,
                "But {} could not be read, and what they said is not in this diagnosis: fix or re-export them and run it again.",
                plural(e.malformed, "line", "lines")
            )?;
        }
        problems(out, d, &s)?;
        return Ok(());
    }

    writeln!(out, "{}", s.bold("What failed"))?;
    writeln!(
        out,
        "  {}: {}.",
        s.yellow(&capitalise(d.decision.layer.as_str())),
        d.decision.layer.plain()
    )?;
    writeln!(
        out,
        "  Pattern: {} ({}).",
        d.pattern.plain(),
        d.pattern.as_str()
    )?;
    if d.patterns.len() > 1 {
        let list: Vec<&str> = d.patterns.iter().map(|p| p.plain()).collect();
        writeln!(out, "  Seen together: {}.", list.join("; "))?;
    }
    writeln!(out)?;

    let b = &d.blast_radius;
    writeln!(out, "{}", s.bold("How wide"))?;
    let scope = match b.scope {
        Scope::None => "nothing".to_owned(),
        Scope::SingleRecord => "one record".to_owned(),
        Scope::SingleField => format!(
            "one field ({})",
            b.fields.first().map_or("", String::as_str)
        ),
        Scope::SingleObject => format!(
            "one object ({})",
            b.objects_failed.first().map_or("unnamed", String::as_str)
        ),
        Scope::AllObjects => "every object it touched".to_owned(),
    };
    writeln!(out, "  {} ({}).", capitalise(&scope), b.scope.as_str())?;
    writeln!(
        out,
        "  {} of {} failed{}{}{}.",
        plural(b.records_failed, "record", "records"),
        thousands(b.records_seen),
        if b.fields.is_empty() {
            String::new()
        } else {
            format!(
                "; fields: {}",
                b.fields
                    .iter()
                    .take(6)
                    .cloned()
                    .collect::<Vec<_>>()
                    .join(", ")
            )
        },
        if b.objects_failed.is_empty() {
            String::new()
        } else {
            format!("; objects: {}", b.objects_failed.join(", "))
        },
        if b.runs > 1 {
            format!(
                "; {} runs, {} re-sent",
                b.runs,
                plural(b.reruns, "record", "records")
            )
        } else {
            String::new()
        },
    )?;
    if b.approximate {
        writeln!(
            out,
            "  (Counts above a quarter of a million distinct records are estimates.)"
        )?;
    }
    writeln!(out)?;

    writeln!(out, "{}", s.bold("Stop rules"))?;
    let tripped: Vec<_> = d.stop_rules.iter().filter(|r| r.tripped).collect();
    if tripped.is_empty() {
        writeln!(out, "  None tripped.")?;
    }
    for r in &tripped {
        writeln!(out, "  {} {}: {}.", s.red("STOP"), r.rule, r.detail)?;
        if !r.evidence.is_empty() {
            writeln!(
                out,
                "       {}",
                s.dim(&format!("see {}", cite(&r.evidence, 3)))
            )?;
        }
    }
    let clear: Vec<&str> = d
        .stop_rules
        .iter()
        .filter(|r| !r.tripped)
        .map(|r| r.id.as_str())
        .collect();
    if !clear.is_empty() {
        writeln!(
            out,
            "  {}",
            s.dim(&format!("Not tripped: {}.", clear.join(", ")))
        )?;
    }
    writeln!(out)?;

    let dec = &d.decision;
    writeln!(
        out,
        "{} {}",
        s.bold("Your one next move:"),
        s.bold(&capitalise(dec.action.plain()))
    )?;
    writeln!(out, "  Why: {}", dec.reason)?;
    if !dec.evidence.is_empty() {
        writeln!(out, "  Evidence: {}", cite(&dec.evidence, 4))?;
    }
    if !dec.forbidden.is_empty() {
        writeln!(out, "  Do not: {}.", dec.forbidden.join("; "))?;
    }
    writeln!(out, "  Then:")?;
    for (i, step) in dec.then.iter().enumerate() {
        writeln!(out, "    {}. {step}", i + 1)?;
    }
    writeln!(out)?;

    writeln!(out, "{}", s.bold("What the failures were (largest first)"))?;
    for g in d.groups.iter().take(8) {
        let mut head = format!("  {:>6}x  {}", thousands(g.count), g.layer.as_str());
        if let Some(code) = &g.code {
            head.push_str(&format!("  {code}"));
        }
        if !g.fields.is_empty() {
            head.push_str(&format!("  [{}]", g.fields.join(", ")));
        }
        if g.side_effect {
            head.push_str("  (a side effect of another failure)");
        }
        writeln!(out, "{head}")?;
        writeln!(out, "           {}", g.title)?;
        if !g.records.is_empty() {
            writeln!(
                out,
                "           records: {}{}",
                g.records.join(", "),
                if g.distinct_records > g.records.len() as u64 {
                    format!(" (of {})", thousands(g.distinct_records))
                } else {
                    String::new()
                }
            )?;
        }
        writeln!(
            out,
            "           {}",
            s.dim(&format!(
                "first at {}: {}",
                g.first_seen.at,
                shorten(&g.example, 140)
            ))
        )?;
    }
    if d.groups.len() > 8 {
        writeln!(
            out,
            "  ... and {} more kinds of failure (--format json lists them all).",
            d.groups.len() - 8
        )?;
    }
    problems(out, d, &s)
}

fn problems(out: &mut impl Write, d: &Diagnosis, s: &Style) -> io::Result<()> {
    if d.problems.is_empty() {
        return Ok(());
    }
    writeln!(out)?;
    writeln!(
        out,
        "{}",
        s.bold("Input syncward could not read (skipped, and counted above)")
    )?;
    for p in d.problems.iter().take(10) {
        writeln!(out, "  {p}")?;
    }
    if d.problems.len() > 10 {
        writeln!(out, "  ... and {} more", d.problems.len() - 10)?;
    }
    Ok(())
}

fn capitalise(s: &str) -> String {
    let mut c = s.chars();
    match c.next() {
        Some(f) => f.to_uppercase().collect::<String>() + c.as_str(),
        None => String::new(),
    }
}

fn shorten(s: &str, max: usize) -> String {
    let one_line: String = s.split_whitespace().collect::<Vec<_>>().join(" ");
    if one_line.chars().count() > max {
        format!("{}...", one_line.chars().take(max - 3).collect::<String>())
    } else {
        one_line
    }
}
