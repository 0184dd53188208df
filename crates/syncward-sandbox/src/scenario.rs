//! Scenarios: what the sandbox CRM does besides storing records. A documented
//! TOML format (docs/sandbox.md) and the built-in scenarios by name.

use serde::Deserialize;
use std::path::Path;

#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Scenario {
    #[serde(default = "default_name")]
    pub name: String,
    #[serde(default)]
    pub description: String,
    /// The access token accepted from the start.
    #[serde(default = "default_token")]
    pub token: String,
    /// The scopes token introspection reports (default: read and write on every object).
    #[serde(default)]
    pub scopes: Option<Vec<String>>,
    #[serde(default)]
    pub hubspot: Limits,
    #[serde(default)]
    pub salesforce: Limits,
    #[serde(default)]
    pub faults: Faults,
    #[serde(default)]
    pub tokens: Tokens,
    #[serde(default)]
    pub drift: Option<Drift>,
    #[serde(default, rename = "workflow")]
    pub workflows: Vec<Workflow>,
    #[serde(default, rename = "duplicate_rule")]
    pub duplicate_rules: Vec<DuplicateRule>,
    #[serde(default, rename = "validation_rule")]
    pub validation_rules: Vec<ValidationRule>,
}

fn default_name() -> String {
    "custom".into()
}

fn default_token() -> String {
    "sandbox-token".into()
}

#[derive(Debug, Clone, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Limits {
    /// Requests allowed per rolling window (HubSpot's burst limit).
    pub window_requests: Option<u32>,
    #[serde(default = "default_window")]
    pub window_ms: u64,
    /// Requests allowed in total (the daily cap).
    pub daily_requests: Option<u64>,
    /// Added to every response.
    #[serde(default)]
    pub latency_ms: u64,
}

fn default_window() -> u64 {
    10_000
}

#[derive(Debug, Clone, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Faults {
    /// Share of write requests answered with a 5xx before anything is written.
    #[serde(default)]
    pub server_error_rate: f64,
    /// Share of write requests whose connection is reset after the write committed.
    #[serde(default)]
    pub reset_after_commit_rate: f64,
    /// Share of requests that stall before they are answered.
    #[serde(default)]
    pub stall_rate: f64,
    #[serde(default = "default_stall")]
    pub stall_ms: u64,
    /// Seed of the fault generator: the same seed gives the same faults.
    #[serde(default = "default_seed")]
    pub seed: u64,
}

fn default_stall() -> u64 {
    1000
}

fn default_seed() -> u64 {
    0x5eed
}

#[derive(Debug, Clone, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Tokens {
    /// An access token stops working after this many requests.
    pub expire_after_requests: Option<u64>,
    /// Refresh at the token endpoint fails with `invalid_grant` (a revoked grant).
    #[serde(default)]
    pub refresh_revoked: bool,
}

#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Drift {
    /// The admin changes the schema after this many records were written.
    pub after_writes: u64,
    /// `salesforce:Lead.Company` or `hubspot:contacts.phone` become required.
    #[serde(default)]
    pub required: Vec<String>,
    /// `hubspot:contacts.lifecyclestage=evangelist` loses that option.
    #[serde(default)]
    pub remove_options: Vec<String>,
}

#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Workflow {
    pub crm: String,
    pub object: String,
    /// The rule's name, as an audit trail would show it.
    pub rule: String,
    /// Fields set right after each create.
    pub set: toml::Table,
}

#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct DuplicateRule {
    pub crm: String,
    pub object: String,
    pub field: String,
    #[serde(default = "default_dup_rule")]
    pub rule: String,
}

fn default_dup_rule() -> String {
    "Standard_Duplicate_Rule".into()
}

#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ValidationRule {
    pub crm: String,
    pub object: String,
    pub field: String,
    /// The value must not be blank.
    #[serde(default)]
    pub required: bool,
    /// The value must not be one of these.
    #[serde(default)]
    pub reject: Vec<String>,
    pub message: String,
}

#[derive(Debug, thiserror::Error)]
pub enum ScenarioError {
    #[error(
        "unknown scenario '{0}' (built-in: healthy, schema-drift, rate-limited, expired-token, revoked-token, workflow-rewrite, duplicate-rule, flaky; or a .toml file)"
    )]
    Unknown(String),
    #[error("cannot read scenario file {file}: {source}")]
    Read {
        file: String,
        #[source]
        source: std::io::Error,
    },
    #[error("scenario {file}: {message}")]
    Parse { file: String, message: String },
}

pub const BUILTIN: &[(&str, &str)] = &[
    ("healthy", include_str!("../scenarios/healthy.toml")),
    (
        "schema-drift",
        include_str!("../scenarios/schema-drift.toml"),
    ),
    (
        "rate-limited",
        include_str!("../scenarios/rate-limited.toml"),
    ),
    (
        "expired-token",
        include_str!("../scenarios/expired-token.toml"),
    ),
    (
        "revoked-token",
        include_str!("../scenarios/revoked-token.toml"),
    ),
    (
        "workflow-rewrite",
        include_str!("../scenarios/workflow-rewrite.toml"),
    ),
    (
        "duplicate-rule",
        include_str!("../scenarios/duplicate-rule.toml"),
    ),
    ("flaky", include_str!("../scenarios/flaky.toml")),
];

impl Scenario {
    pub fn parse(file: &str, text: &str) -> Result<Scenario, ScenarioError> {
        let s: Scenario = toml::from_str(text).map_err(|e| ScenarioError::Parse {
            file: file.to_owned(),
            message: e.to_string(),
        })?;
        for rate in [
            s.faults.server_error_rate,
            s.faults.reset_after_commit_rate,
            s.faults.stall_rate,
        ] {
            if !(0.0..=1.0).contains(&rate) {
                return Err(ScenarioError::Parse {
                    file: file.to_owned(),
                    message: format!("fault rates are shares between 0 and 1, got {rate}"),
                });
            }
        }
        Ok(s)
    }

    /// A built-in name or a path to a TOML file.
    pub fn load(name_or_path: &str) -> Result<Scenario, ScenarioError> {
        if let Some((_, text)) = BUILTIN.iter().find(|(n, _)| *n == name_or_path) {
            return Scenario::parse(name_or_path, text);
        }
        let path = Path::new(name_or_path);
        if path.extension().is_some_and(|e| e == "toml") || path.exists() {
            let text = std::fs::read_to_string(path).map_err(|source| ScenarioError::Read {
                file: name_or_path.to_owned(),
                source,
            })?;
            return Scenario::parse(name_or_path, &text);
        }
        Err(ScenarioError::Unknown(name_or_path.to_owned()))
    }

    pub fn healthy() -> Scenario {
        Scenario::load("healthy").unwrap_or_else(|_| Scenario {
            name: "healthy".into(),
            description: String::new(),
            token: default_token(),
            scopes: None,
            hubspot: Limits::default(),
            salesforce: Limits::default(),
            faults: Faults::default(),
            tokens: Tokens::default(),
            drift: None,
            workflows: Vec::new(),
            duplicate_rules: Vec::new(),
            validation_rules: Vec::new(),
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_builtin_parses() {
        for (name, _) in BUILTIN {
            let s = Scenario::load(name).expect(name);
            assert_eq!(&s.name, name);
        }
        assert!(matches!(
            Scenario::load("nope"),
            Err(ScenarioError::Unknown(_))
        ));
        assert!(Scenario::parse("x", "faults = { server_error_rate = 2.0 }").is_err());
        assert!(Scenario::parse("x", "bogus = 1").is_err());
    }
}
