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
    /// Read sync logs and say which layer failed, how wide, which stop rules apply, and the one next move.
    Diagnose(DiagnoseArgs),
    /// Classify error texts: JSON Lines {"text","crm"?,"http_status"?} on stdin -> one JSON line each.
    Classify(ClassifyArgs),
    /// Show the classifier's rules.
    Rules(RulesArgs),
    /// Run a local CRM that speaks the HubSpot and Salesforce APIs, with scripted faults.
    Sandbox(SandboxArgs),
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum Format {
    Text,
    Json,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum ReportFormat {
    Text,
    Json,
    Markdown,
}

#[derive(Debug, Args)]
pub struct DiagnoseArgs {
    /// Log files (any mix of formats; gzip is fine). `-` or none reads standard input.
    #[arg(value_name = "FILE")]
    pub files: Vec<String>,
    /// text for people, json for machines, markdown for a ticket (a runbook).
    #[arg(long, value_enum, default_value_t = ReportFormat::Text)]
    pub format: ReportFormat,
    /// Force the input format instead of detecting it from the content.
    #[arg(long, default_value = "auto", value_parser = input_format_names())]
    pub input_format: String,
    #[command(flatten)]
    pub context: ContextArgs,
}

fn input_format_names() -> clap::builder::PossibleValuesParser {
    clap::builder::PossibleValuesParser::new(syncward_ingest::Format::NAMES.iter().map(|(n, _)| *n))
}

/// What the logs cannot show. Flags override `syncward.toml`.
#[derive(Debug, Args, Default)]
pub struct ContextArgs {
    /// Sync direction: source_to_crm, crm_to_source or bi.
    #[arg(long)]
    pub direction: Option<String>,
    /// The one person who owns this repair.
    #[arg(long)]
    pub owner: Option<String>,
    /// Objects whose failures call for the manual fallback (comma separated).
    /// Default: deals, opportunities, quotes, invoices, contracts, orders, subscriptions.
    #[arg(long, value_delimiter = ',')]
    pub critical_objects: Vec<String>,
    /// Minutes already spent on this repair.
    #[arg(long)]
    pub minutes_spent: Option<u32>,
    /// The CRM, when the logs do not say (salesforce, hubspot, zoho, dynamics, pipedrive).
    #[arg(long)]
    pub crm: Option<String>,
    /// Settings file (default: ./syncward.toml when it exists).
    #[arg(long, value_name = "FILE")]
    pub config: Option<std::path::PathBuf>,
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
pub struct SandboxArgs {
    /// Address to listen on; port 0 picks a free port. Loopback unless you say otherwise.
    #[arg(long, default_value = "127.0.0.1:0")]
    pub addr: String,
    /// A built-in scenario (healthy, schema-drift, rate-limited, expired-token,
    /// revoked-token, workflow-rewrite, duplicate-rule, flaky) or a scenario TOML file.
    #[arg(long, default_value = "healthy")]
    pub scenario: String,
    /// Keep records across restarts in this JSON file (loaded at start, saved at stop).
    #[arg(long, value_name = "FILE")]
    pub state: Option<std::path::PathBuf>,
    /// List the built-in scenarios and exit.
    #[arg(long)]
    pub list: bool,
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
