//! The knowledge base: rules as data (`kb/*.toml`), embedded in the binary
//! and extendable with user files in the same format.

use crate::model::{Crm, Layer};
use serde::Deserialize;
use std::path::Path;

/// The built-in rule files, one per family.
pub const BUILTIN: &[(&str, &str)] = &[
    ("salesforce.toml", include_str!("../../kb/salesforce.toml")),
    ("hubspot.toml", include_str!("../../kb/hubspot.toml")),
    ("zoho.toml", include_str!("../../kb/zoho.toml")),
    ("dynamics.toml", include_str!("../../kb/dynamics.toml")),
    ("pipedrive.toml", include_str!("../../kb/pipedrive.toml")),
    ("oauth.toml", include_str!("../../kb/oauth.toml")),
    ("tools.toml", include_str!("../../kb/tools.toml")),
    ("network.toml", include_str!("../../kb/network.toml")),
    ("http.toml", include_str!("../../kb/http.toml")),
    ("generic.toml", include_str!("../../kb/generic.toml")),
];

/// One rule file.
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct RuleFile {
    #[serde(default)]
    pub family: Option<String>,
    #[serde(default, rename = "rule")]
    pub rules: Vec<Rule>,
}

/// One rule. See `docs/rules.md` for the format.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Rule {
    /// Stable id, `family.name`. A user rule with a built-in id replaces it.
    pub id: String,
    /// The CRM the rule belongs to; a tie-break when the input names its CRM.
    #[serde(default)]
    pub crm: Option<Crm>,
    /// Vendor code tokens (`INVALID_FIELD`, `0x80040237`, `invalid_grant`).
    #[serde(default)]
    pub codes: Vec<String>,
    /// A generic code (a category, a tool's error type) that yields to a keyword.
    #[serde(default)]
    pub weak: bool,
    /// A wrapper (trigger, flow): the innermost cause decides.
    #[serde(default)]
    pub wrapper: bool,
    /// With `codes`: the text must also match this regex (case-insensitive).
    #[serde(default)]
    pub when: Option<String>,
    /// Literal phrases, matched case-insensitively.
    #[serde(default)]
    pub keywords: Vec<String>,
    /// Regexes, matched case-insensitively.
    #[serde(default)]
    pub patterns: Vec<String>,
    /// HTTP statuses this rule explains when nothing more specific does.
    #[serde(default)]
    pub http: Vec<u16>,
    /// Rank among keyword, pattern and status matches (higher wins). Default 50.
    #[serde(default)]
    pub priority: Option<i32>,
    pub layer: Layer,
    #[serde(default)]
    pub transient: bool,
    /// The layer when this code is the inner cause of a wrapper (trigger,
    /// flow). Default: transport stays transport (a retry fixes it), any other
    /// layer becomes workflow (the automation's own write failed).
    #[serde(default)]
    pub inside_wrapper: Option<Layer>,
    /// Regexes whose first group holds field names (comma or space separated).
    #[serde(default)]
    pub fields: Vec<String>,
    pub title: String,
    /// The fix, in the seed's terms. Empty means the layer's default fix.
    #[serde(default)]
    pub fix: String,
}

#[derive(Debug, thiserror::Error)]
pub enum KbError {
    #[error("{file}: {message}")]
    Parse { file: String, message: String },
    #[error("{file}: rule '{rule}': {message}")]
    Rule {
        file: String,
        rule: String,
        message: String,
    },
    #[error("cannot read rules file {file}: {source}")]
    Read {
        file: String,
        #[source]
        source: std::io::Error,
    },
}

/// Parse one rules file's text; `file` names it in errors.
pub fn parse_rules(file: &str, text: &str) -> Result<Vec<Rule>, KbError> {
    let parsed: RuleFile = toml::from_str(text).map_err(|e| KbError::Parse {
        file: file.to_owned(),
        message: e.to_string(),
    })?;
    for rule in &parsed.rules {
        let fail = |message: &str| KbError::Rule {
            file: file.to_owned(),
            rule: rule.id.clone(),
            message: message.to_owned(),
        };
        if rule.codes.is_empty()
            && rule.keywords.is_empty()
            && rule.patterns.is_empty()
            && rule.http.is_empty()
        {
            return Err(fail(
                "matches nothing: give it codes, keywords, patterns or http",
            ));
        }
        if rule.when.is_some() && rule.codes.is_empty() {
            return Err(fail("'when' narrows 'codes', but the rule has no codes"));
        }
        if rule.title.trim().is_empty() {
            return Err(fail("needs a title"));
        }
    }
    Ok(parsed.rules)
}

/// Read a user rules file.
pub fn read_rules(path: &Path) -> Result<Vec<Rule>, KbError> {
    let text = std::fs::read_to_string(path).map_err(|source| KbError::Read {
        file: path.display().to_string(),
        source,
    })?;
    parse_rules(&path.display().to_string(), &text)
}

/// All built-in rules, in file order.
pub fn builtin_rules() -> Result<Vec<Rule>, KbError> {
    let mut all = Vec::new();
    for (file, text) in BUILTIN {
        all.extend(parse_rules(file, text)?);
    }
    Ok(all)
}
