//! The words every part of syncward shares (DESIGN.md §1).

use serde::{Deserialize, Serialize};
use std::fmt;
use std::str::FromStr;

/// Where a failure sits. The order is the checklist's order: auth is checked
/// first, then mapping, then transport, then workflow, dedupe and record.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Layer {
    Auth,
    Mapping,
    Transport,
    Workflow,
    Dedupe,
    Record,
    Unknown,
}

impl Layer {
    pub const ALL: [Layer; 7] = [
        Layer::Auth,
        Layer::Mapping,
        Layer::Transport,
        Layer::Workflow,
        Layer::Dedupe,
        Layer::Record,
        Layer::Unknown,
    ];

    pub fn as_str(self) -> &'static str {
        match self {
            Layer::Auth => "auth",
            Layer::Mapping => "mapping",
            Layer::Transport => "transport",
            Layer::Workflow => "workflow",
            Layer::Dedupe => "dedupe",
            Layer::Record => "record",
            Layer::Unknown => "unknown",
        }
    }

    /// One plain sentence a non-engineer can act on.
    pub fn plain(self) -> &'static str {
        match self {
            Layer::Auth => {
                "the CRM refused the connection itself (login, expired access or missing permissions)"
            }
            Layer::Mapping => {
                "the data does not fit the CRM's fields (a required field, a type, a picklist or a format)"
            }
            Layer::Transport => {
                "the CRM or the network was too busy or too slow (rate limits, timeouts, server errors)"
            }
            Layer::Workflow => {
                "the CRM's own automation rejected or rewrote the record after it was written"
            }
            Layer::Dedupe => {
                "the CRM thinks the record is a duplicate, or the record key is not unique"
            }
            Layer::Record => "one record's own data is bad while the rest of the setup is fine",
            Layer::Unknown => "the logs do not say enough to tell which layer failed",
        }
    }

    /// The seed's first move for this layer.
    pub fn default_fix(self) -> &'static str {
        match self {
            Layer::Auth => {
                "Reconnect the account once, confirm its scopes and permissions, and check for an expired token. If the reconnect fails once, stop and escalate."
            }
            Layer::Mapping => {
                "Compare required fields, picklists, date formats and IDs between the mapping and the CRM. If the same field fails on 2 records, pause the batch."
            }
            Layer::Transport => {
                "Reduce the batch size and delay the retry; inspect queue timing. If a smaller batch fails too, stop and inspect transport."
            }
            Layer::Workflow => {
                "Freeze automations and review assignment and validation logic. If the same rule rewrites every test record, switch to the manual fallback."
            }
            Layer::Dedupe => {
                "Pause retries and reconcile the record key. If the ID source shifts, do not rerun the full batch."
            }
            Layer::Record => {
                "Inspect this record itself and fix its value at the source; the rest can move."
            }
            Layer::Unknown => {
                "The logs lack field-level detail: capture the exact error text and timestamp, and escalate instead of editing blindly."
            }
        }
    }
}

impl fmt::Display for Layer {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

impl FromStr for Layer {
    type Err = String;
    fn from_str(s: &str) -> Result<Self, Self::Err> {
        Layer::ALL
            .into_iter()
            .find(|l| l.as_str().eq_ignore_ascii_case(s.trim()))
            .ok_or_else(|| {
                format!("unknown layer '{s}' (expected auth, mapping, transport, workflow, dedupe, record or unknown)")
            })
    }
}

/// The CRMs syncward knows by name.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Crm {
    Salesforce,
    Hubspot,
    Zoho,
    Dynamics,
    Pipedrive,
}

impl Crm {
    pub fn as_str(self) -> &'static str {
        match self {
            Crm::Salesforce => "salesforce",
            Crm::Hubspot => "hubspot",
            Crm::Zoho => "zoho",
            Crm::Dynamics => "dynamics",
            Crm::Pipedrive => "pipedrive",
        }
    }

    /// Accepts the names people use: "sfdc", "HubSpot", "dataverse", "d365"...
    pub fn parse_loose(s: &str) -> Option<Crm> {
        use crate::event::{WORD, lower_word};
        Self::word(s).or_else(|| Self::word(lower_word(s, &mut [0u8; WORD])?))
    }

    /// A name as written, already trimmed and lower-cased.
    fn word(s: &str) -> Option<Crm> {
        Some(match s {
            "salesforce" | "sfdc" | "sf" | "force.com" => Crm::Salesforce,
            "hubspot" | "hs" => Crm::Hubspot,
            "zoho" | "zohocrm" | "zoho crm" => Crm::Zoho,
            "dynamics" | "dynamics365" | "dynamics 365" | "d365" | "dataverse" | "crm dynamics" => {
                Crm::Dynamics
            }
            "pipedrive" => Crm::Pipedrive,
            _ => return None,
        })
    }
}

impl fmt::Display for Crm {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}
