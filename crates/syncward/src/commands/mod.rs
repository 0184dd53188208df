mod check;
mod classify;
mod context;
mod demo;
mod diagnose;
mod queue;
mod rules;
mod sandbox;
mod schema;
mod sync;

use crate::cli::{Cli, Command};
use anyhow::{Context, Result};
use syncward_core::Classifier;
use syncward_core::classify::kb;

/// What a command reports back, as the exit-code contract.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Outcome {
    /// 0: nothing wrong.
    Clean,
    /// 1: failures found (a decision was made, findings exist).
    Failures,
    /// 2: the command could not do all of its job (it said why on stderr).
    CouldNotRun,
}

impl From<Outcome> for std::process::ExitCode {
    fn from(o: Outcome) -> Self {
        std::process::ExitCode::from(match o {
            Outcome::Clean => 0,
            Outcome::Failures => 1,
            Outcome::CouldNotRun => 2,
        })
    }
}

pub fn run(cli: Cli) -> Result<Outcome> {
    match cli.command {
        Command::Diagnose(args) => diagnose::run(&classifier(&cli.rules)?, args),
        Command::Classify(args) => classify::run(&classifier(&cli.rules)?, args),
        Command::Rules(args) => rules::run(&classifier(&cli.rules)?, args),
        Command::Sandbox(args) => sandbox::run(args),
        Command::Check(args) => check::run(args),
        Command::Schema(args) => schema::run(args),
        Command::Sync(args) => sync::run(&classifier(&cli.rules)?, args),
        Command::Queue(args) => queue::run(args),
        Command::Demo => demo::run(&classifier(&cli.rules)?),
    }
}

/// The built-in knowledge base plus the user's `--rules` files.
pub fn classifier(extra: &[std::path::PathBuf]) -> Result<Classifier> {
    let mut user = Vec::new();
    for path in extra {
        user.extend(kb::read_rules(path)?);
    }
    let builtin = kb::builtin_rules().context("the built-in rules did not load")?;
    Ok(Classifier::new(builtin, user)?)
}
