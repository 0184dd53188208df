//! `syncward diagnose`: logs in, the diagnosis out (text, JSON or a markdown runbook).

use super::Outcome;
use crate::cli::{DiagnoseArgs, ReportFormat};
use crate::render;
use anyhow::Result;
use indicatif::{ProgressBar, ProgressDrawTarget, ProgressStyle};
use std::io::{IsTerminal, Write};
use std::time::Duration;
use syncward_core::diagnose::Analyzer;
use syncward_core::{Classifier, Event};
use syncward_ingest::{Format, Problem, Sink};

struct Collect<'c> {
    analyzer: Analyzer<'c>,
    progress: Option<ProgressBar>,
}

impl Sink for Collect<'_> {
    fn ahead(&mut self, record: Option<&str>, crm_id: Option<&str>) {
        self.analyzer.warm(record, crm_id);
    }

    fn event(&mut self, event: &Event<'_>) {
        self.analyzer.push(event);
        if let Some(p) = &self.progress {
            let n = self.analyzer.total_events();
            if n.is_multiple_of(65_536) {
                p.set_message(format!("{n} events, {} failures", self.analyzer.failures()));
            }
        }
    }

    fn problem(&mut self, problem: Problem) {
        let malformed = problem.line.is_some();
        self.analyzer.problem(malformed, problem.to_string());
    }
}

pub fn run(engine: &Classifier, args: DiagnoseArgs) -> Result<Outcome> {
    let ctx = super::context::resolve(&args.context)?;
    let format = Format::parse(&args.input_format).unwrap_or(Format::Auto);
    let files: Vec<String> = if args.files.is_empty() {
        vec!["-".into()]
    } else {
        args.files.clone()
    };
    let progress = std::io::stderr().is_terminal().then(|| {
        let p = ProgressBar::with_draw_target(None, ProgressDrawTarget::stderr());
        p.set_style(
            ProgressStyle::with_template("{spinner} reading {prefix}: {msg}")
                .unwrap_or_else(|_| ProgressStyle::default_spinner()),
        );
        p.enable_steady_tick(Duration::from_millis(120));
        p
    });
    let mut sink = Collect {
        analyzer: Analyzer::new(engine, &ctx),
        progress,
    };
    let mut unreadable = 0;
    for file in &files {
        if let Some(p) = &sink.progress {
            p.set_prefix(file.clone());
        }
        match syncward_ingest::read_input(file, format, &mut sink) {
            Ok(summary) => {
                sink.analyzer.file_done();
                if summary.events == 0 && summary.format.is_some() && summary.malformed == 0 {
                    sink.analyzer.problem(
                        false,
                        format!(
                            "{file}: read as {}, but no line in it was a sync event",
                            summary.format.map_or("?", |f| f.describe())
                        ),
                    );
                }
            }
            Err(e) => {
                unreadable += 1;
                eprintln!("syncward: error: {e}");
                sink.analyzer.problem(false, e.to_string());
            }
        }
    }
    if let Some(p) = sink.progress.take() {
        p.finish_and_clear();
    }
    let diagnosis = sink.analyzer.finish(&ctx);
    let mut out = std::io::BufWriter::new(std::io::stdout().lock());
    match args.format {
        ReportFormat::Json => {
            serde_json::to_writer_pretty(&mut out, &diagnosis)?;
            writeln!(out)?;
        }
        ReportFormat::Text => render::text::write(&mut out, &diagnosis, &files)?,
        ReportFormat::Markdown => render::markdown::write(&mut out, &diagnosis, &files)?,
    }
    out.flush()?;
    if unreadable > 0 {
        return Ok(Outcome::CouldNotRun);
    }
    Ok(
        if diagnosis.events.total == 0 && !diagnosis.problems.is_empty() {
            Outcome::CouldNotRun
        } else if diagnosis.decision.action == syncward_core::diagnose::Action::None {
            Outcome::Clean
        } else {
            Outcome::Failures
        },
    )
}
