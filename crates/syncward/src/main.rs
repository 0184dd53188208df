//! syncward: find which layer of a CRM sync failed, and the one next move.
//!
//! A thin binary: arguments in `cli`, one file per subcommand in
//! `commands/`, all logic in the library crates. Exit codes: 0 nothing wrong,
//! 1 failures found, 2 the command could not do its job.

mod cli;
mod commands;
mod output;
mod render;

use clap::Parser;
use std::process::ExitCode;

fn main() -> ExitCode {
    let cli = cli::Cli::parse();
    match commands::run(cli) {
        Ok(code) => code.into(),
        Err(err) => {
            if output::is_broken_pipe(&err) {
                return ExitCode::SUCCESS;
            }
            eprintln!("syncward: error: {}", plain_chain(&err));
            ExitCode::from(2)
        }
    }
}

/// The error and its causes joined by ": ", leaving out a cause whose
/// text the message before it already holds (library errors name their
/// cause in their own message).
fn plain_chain(err: &anyhow::Error) -> String {
    let mut out = String::new();
    for cause in err.chain() {
        let text = cause.to_string();
        if !out.contains(&text) {
            if !out.is_empty() {
                out.push_str(": ");
            }
            out.push_str(&text);
        }
    }
    out
}
