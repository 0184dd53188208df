use clap::{Args, Parser, Subcommand, ValueEnum};
use std::path::PathBuf;

#[derive(Debug, Parser)]
#[command(
    name = "syncward",
    version,
    about = "Find which layer of a CRM sync failed, how wide the damage is, and the one next move.",
    after_help = "Exit codes: 0 nothing wrong, 1 failures found, 2 could not run."
)]
pub struct Cli {
    /// Extra rules file(s) in the kb/*.toml format; a rule with a built-in id replaces it.
    #[arg(long = "rules", global = true, value_name = "FILE")]
    pub rules: Vec<PathBuf>,

    #[command(subcommand)]
    pub command: Command,
}

#[derive(Debug, Subcommand)]
pub enum Command {
    /// Classify error texts: JSON Lines {"text","crm"?,"http_status"?} on stdin -> one JSON line each.
    Classify(ClassifyArgs),
    /// Show the classifier's rules.
    Rules(RulesArgs),
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum Format {
    Text,
    Json,
}

#[derive(Debug, Args)]
pub struct ClassifyArgs {
    /// Explain one error message in plain language instead of reading stdin.
    #[arg(long, value_name = "MESSAGE")]
    pub text: Option<String>,
    /// The CRM the message came from (salesforce, hubspot, zoho, dynamics, pipedrive).
    #[arg(long, requires = "text")]
    pub crm: Option<String>,
    /// The HTTP status that came with the message.
    #[arg(long, requires = "text", value_name = "STATUS")]
    pub http_status: Option<u16>,
    /// Output for --text: text for people, json for machines.
    #[arg(long, value_enum, default_value_t = Format::Text)]
    pub format: Format,
}

#[derive(Debug, Args)]
pub struct RulesArgs {
    #[command(subcommand)]
    pub command: RulesCommand,
}

#[derive(Debug, Subcommand)]
pub enum RulesCommand {
    /// List every rule: id, layer, whether a retry can succeed, and what it recognises.
    List {
        #[arg(long, value_enum, default_value_t = Format::Text)]
        format: Format,
    },
}
