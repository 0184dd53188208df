//! `syncward rules list`.

use super::Outcome;
use crate::cli::{Format, RulesArgs, RulesCommand};
use anyhow::Result;
use std::io::{self, Write};
use syncward_core::Classifier;

pub fn run(engine: &Classifier, args: RulesArgs) -> Result<Outcome> {
    let RulesCommand::List { format } = args.command;
    let mut out = io::BufWriter::new(io::stdout().lock());
    match format {
        Format::Json => {
            for r in engine.rule_summaries() {
                serde_json::to_writer(&mut out, &r)?;
                out.write_all(b"\n")?;
            }
        }
        Format::Text => {
            let width = engine
                .rule_summaries()
                .map(|r| r.id.len())
                .max()
                .unwrap_or(0);
            writeln!(
                out,
                "{:width$}  {:9}  {:5}  what it recognises",
                "rule", "layer", "retry"
            )?;
            for r in engine.rule_summaries() {
                let retry = if r.transient { "yes" } else { "no" };
                let mine = if r.user { " (yours)" } else { "" };
                writeln!(
                    out,
                    "{:width$}  {:9}  {:5}  {}{mine}",
                    r.id,
                    r.layer.as_str(),
                    retry,
                    r.title
                )?;
            }
            writeln!(
                out,
                "\n{} rules. Add or override with --rules FILE (same format as kb/*.toml).",
                engine.len()
            )?;
        }
    }
    out.flush()?;
    Ok(Outcome::Clean)
}
