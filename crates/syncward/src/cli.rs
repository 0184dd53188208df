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
    /// Preflight: check a mapping and source rows against the CRM's schema before anything is sent.
    Check(CheckArgs),
    /// Snapshot a CRM object's schema, or list the drift between two snapshots.
    Schema(SchemaArgs),
    /// The guarded re-sync: preflight, one test record, adaptive batches, a journal, a review queue.
    Sync(SyncArgs),
    /// The review queue: records held back from automatic retries until a person looks.
    Queue(QueueArgs),
    /// The whole story on a local sandbox CRM, in one command.
    Demo,
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
pub struct CheckArgs {
    /// The mapping file (TOML).
    #[arg(long, value_name = "FILE")]
    pub mapping: std::path::PathBuf,
    /// The source rows (CSV with a header line).
    #[arg(long, value_name = "FILE")]
    pub source: std::path::PathBuf,
    /// A saved schema: a HubSpot properties response or a Salesforce describe.
    #[arg(
        long,
        value_name = "FILE",
        conflicts_with = "crm_url",
        required_unless_present = "crm_url"
    )]
    pub schema: Option<std::path::PathBuf>,
    /// Read the schema live from the CRM (or the sandbox) at this URL.
    #[arg(long, value_name = "URL")]
    pub crm_url: Option<String>,
    /// Environment variable holding the access token for --crm-url.
    #[arg(long, value_name = "VAR", default_value = "SYNCWARD_TOKEN")]
    pub token_env: String,
    /// A schema saved earlier: report what drifted since.
    #[arg(long, value_name = "FILE")]
    pub baseline: Option<std::path::PathBuf>,
    /// The batch size the sync will use (overrides the mapping's batch_size).
    #[arg(long)]
    pub batch_size: Option<usize>,
    #[arg(long, value_enum, default_value_t = Format::Text)]
    pub format: Format,
    /// Write the source with every safe normalisation applied to this CSV.
    #[arg(long, value_name = "OUT.csv")]
    pub fix: Option<std::path::PathBuf>,
    /// Write clean.csv (CRM field names, ready to import) and review.csv (the rest, with reasons) here.
    #[arg(long, value_name = "DIR")]
    pub split: Option<std::path::PathBuf>,
}

#[derive(Debug, Args)]
pub struct SchemaArgs {
    #[command(subcommand)]
    pub command: SchemaCommand,
}

#[derive(Debug, Subcommand)]
pub enum SchemaCommand {
    /// Save an object's schema from a CRM (or the sandbox), in the CRM's own format.
    Snapshot {
        #[arg(long, value_name = "URL")]
        crm_url: String,
        /// hubspot or salesforce
        #[arg(long)]
        crm: String,
        /// HubSpot object type (contacts) or Salesforce SObject (Lead).
        #[arg(long)]
        object: String,
        #[arg(long, value_name = "VAR", default_value = "SYNCWARD_TOKEN")]
        token_env: String,
        /// Write here instead of standard output.
        #[arg(long, short, value_name = "FILE")]
        output: Option<std::path::PathBuf>,
    },
    /// What changed between two snapshots: fields added or removed, became required, type
    /// changed, option removed, length shrunk.
    Diff {
        old: std::path::PathBuf,
        new: std::path::PathBuf,
        /// Judge breakage against this mapping (only drift in mapped fields breaks it).
        #[arg(long, value_name = "FILE")]
        mapping: Option<std::path::PathBuf>,
        #[arg(long, value_enum, default_value_t = Format::Text)]
        format: Format,
    },
}

#[derive(Debug, Args)]
pub struct SyncArgs {
    #[arg(long, value_name = "FILE")]
    pub mapping: std::path::PathBuf,
    #[arg(long, value_name = "FILE")]
    pub source: std::path::PathBuf,
    #[arg(long, value_name = "URL")]
    pub crm_url: String,
    /// Environment variable holding the access token.
    #[arg(long, value_name = "VAR", default_value = "SYNCWARD_TOKEN")]
    pub token_env: String,
    /// Environment variable holding a refresh token (used once when the access token expires).
    #[arg(long, value_name = "VAR", default_value = "SYNCWARD_REFRESH_TOKEN")]
    pub refresh_token_env: String,
    /// Do everything but write.
    #[arg(long)]
    pub dry_run: bool,
    /// Records per request (capped at the CRM's limit; shrinks on transport trouble).
    #[arg(long)]
    pub batch_size: Option<usize>,
    /// Continue the last unfinished run of this source and mapping.
    #[arg(long)]
    pub resume: bool,
    #[command(flatten)]
    pub state: StateArgs,
    #[arg(long, value_enum, default_value_t = Format::Text)]
    pub format: Format,
}

/// Where `sync` and `queue` keep their state.
#[derive(Debug, Args)]
pub struct StateArgs {
    /// The state (journal, runs, review queue): a SQLite file, or a
    /// PostgreSQL URL (postgres://user@host/db) that a team shares.
    #[arg(
        long,
        value_name = "PATH|URL",
        env = "SYNCWARD_DB",
        hide_env_values = true,
        default_value = ".syncward/syncward.db",
        global = true,
        value_parser = parse_db
    )]
    pub db: syncward_store::Location,
}

#[derive(Debug, Args)]
pub struct QueueArgs {
    #[command(flatten)]
    pub state: StateArgs,
    #[command(subcommand)]
    pub command: QueueCommand,
}

#[derive(Debug, Subcommand)]
pub enum QueueCommand {
    /// The items waiting for a person (all with --all).
    List {
        #[arg(long)]
        all: bool,
        #[arg(long, value_enum, default_value_t = Format::Text)]
        format: Format,
    },
    /// One item, with its reason, evidence and the record as it would be sent.
    Show { id: i64 },
    /// Send the item again with the next run (after the cause is fixed).
    Release { ids: Vec<i64> },
    /// Give the item up (it will not be sent).
    Drop { ids: Vec<i64> },
    /// Write the open items as a CSV in the CRM's own import format (the manual fallback).
    Export {
        #[arg(long, short, value_name = "FILE")]
        output: std::path::PathBuf,
    },
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

fn parse_db(text: &str) -> Result<syncward_store::Location, std::convert::Infallible> {
    Ok(syncward_store::Location::parse(text))
}
