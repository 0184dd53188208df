//! The diagnosis as data: the `diagnose --format json` contract
//! (DESIGN.md §5). Renderers for people read the same structure.

use crate::model::Layer;
use serde::Serialize;

#[derive(Debug, Clone, Serialize)]
pub struct Diagnosis {
    pub events: EventCounts,
    /// The layer to fix first; null when nothing failed.
    pub primary_layer: Option<Layer>,
    pub layers: LayerCounts,
    pub pattern: Pattern,
    /// Every pattern seen (more than one makes `pattern` "mixed").
    pub patterns: Vec<Pattern>,
    pub blast_radius: BlastRadius,
    pub groups: Vec<GroupReport>,
    pub stop_rules: Vec<StopRule>,
    pub decision: Decision,
    pub context: ContextReport,
    /// Inputs that could not be read, or lines that were skipped, with file:line.
    pub problems: Vec<String>,
    /// True when a count or list had to be capped (very large input).
    pub approximate: bool,
}

#[derive(Debug, Clone, Default, Serialize)]
pub struct EventCounts {
    pub total: u64,
    pub ok: u64,
    pub failed: u64,
    pub partial: u64,
    pub skipped: u64,
    /// Readbacks that found the record changed after the write.
    pub changed_after_write: u64,
    /// Writes that landed as a duplicate: a source record created again as
    /// a second CRM record, or one CRM record reached under a second source
    /// key (the key's source shifted). Counted as dedupe failures.
    pub landed_twice: u64,
    pub malformed: u64,
    pub files: u64,
}

#[derive(Debug, Clone, Default, Serialize)]
pub struct LayerCounts {
    pub auth: u64,
    pub mapping: u64,
    pub transport: u64,
    pub workflow: u64,
    pub dedupe: u64,
    pub record: u64,
    pub unknown: u64,
}

impl LayerCounts {
    pub fn add(&mut self, layer: Layer, n: u64) {
        *match layer {
            Layer::Auth => &mut self.auth,
            Layer::Mapping => &mut self.mapping,
            Layer::Transport => &mut self.transport,
            Layer::Workflow => &mut self.workflow,
            Layer::Dedupe => &mut self.dedupe,
            Layer::Record => &mut self.record,
            Layer::Unknown => &mut self.unknown,
        } += n;
    }

    pub fn get(&self, layer: Layer) -> u64 {
        match layer {
            Layer::Auth => self.auth,
            Layer::Mapping => self.mapping,
            Layer::Transport => self.transport,
            Layer::Workflow => self.workflow,
            Layer::Dedupe => self.dedupe,
            Layer::Record => self.record,
            Layer::Unknown => self.unknown,
        }
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum Pattern {
    AllObjectsFail,
    FieldAcrossRecords,
    StartsThenTimesOut,
    LandsThenChanges,
    DuplicatesAfterReruns,
    IsolatedRecord,
    Mixed,
    None,
}

impl Pattern {
    pub fn as_str(self) -> &'static str {
        match self {
            Pattern::AllObjectsFail => "all_objects_fail",
            Pattern::FieldAcrossRecords => "field_across_records",
            Pattern::StartsThenTimesOut => "starts_then_times_out",
            Pattern::LandsThenChanges => "lands_then_changes",
            Pattern::DuplicatesAfterReruns => "duplicates_after_reruns",
            Pattern::IsolatedRecord => "isolated_record",
            Pattern::Mixed => "mixed",
            Pattern::None => "none",
        }
    }

    /// The seed's words for the pattern.
    pub fn plain(self) -> &'static str {
        match self {
            Pattern::AllObjectsFail => "every object fails at once",
            Pattern::FieldAcrossRecords => "one field fails across several records",
            Pattern::StartsThenTimesOut => "the sync starts, then times out",
            Pattern::LandsThenChanges => "records land, then get changed by a rule",
            Pattern::DuplicatesAfterReruns => "duplicates rise after reruns",
            Pattern::IsolatedRecord => "one record fails and the rest move",
            Pattern::Mixed => "more than one thing is failing at once",
            Pattern::None => "nothing failed",
        }
    }

    /// The layer the pattern points to.
    pub fn layer(self) -> Option<Layer> {
        Some(match self {
            Pattern::AllObjectsFail => Layer::Auth,
            Pattern::FieldAcrossRecords => Layer::Mapping,
            Pattern::StartsThenTimesOut => Layer::Transport,
            Pattern::LandsThenChanges => Layer::Workflow,
            Pattern::DuplicatesAfterReruns => Layer::Dedupe,
            Pattern::IsolatedRecord => Layer::Record,
            Pattern::Mixed | Pattern::None => return None,
        })
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum Scope {
    None,
    SingleRecord,
    SingleField,
    SingleObject,
    AllObjects,
}

impl Scope {
    pub fn as_str(self) -> &'static str {
        match self {
            Scope::None => "none",
            Scope::SingleRecord => "single_record",
            Scope::SingleField => "single_field",
            Scope::SingleObject => "single_object",
            Scope::AllObjects => "all_objects",
        }
    }
}

#[derive(Debug, Clone, Serialize)]
pub struct BlastRadius {
    pub scope: Scope,
    pub records_failed: u64,
    pub records_seen: u64,
    pub fields: Vec<String>,
    pub objects_failed: Vec<String>,
    pub objects_seen: u64,
    pub runs: u64,
    pub reruns: u64,
    pub approximate: bool,
}

#[derive(Debug, Clone, Serialize)]
pub struct GroupReport {
    pub signature: String,
    pub layer: Layer,
    pub code: Option<String>,
    pub fields: Vec<String>,
    pub objects: Vec<String>,
    pub count: u64,
    /// Distinct records that hit this failure.
    pub distinct_records: u64,
    /// Up to 5 example record keys.
    pub records: Vec<String>,
    pub first_seen: Seen,
    pub last_seen: Seen,
    pub transient: bool,
    pub rule: Option<String>,
    pub title: String,
    pub fix: String,
    /// A consequence of another failure (an all-or-none rollback), not a cause.
    pub side_effect: bool,
    /// Up to 5 file:line where it appears.
    pub evidence: Vec<String>,
    /// An example of the full error text.
    pub example: String,
}

#[derive(Debug, Clone, Serialize)]
pub struct Seen {
    pub at: String,
    /// RFC 3339 time when the log had one.
    pub ts: Option<String>,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum StopRuleId {
    ReconnectFailedOnce,
    SameFieldTwoRecords,
    SmallerBatchFailed,
    RuleRewritesEveryTestRecord,
    IdSourceShifted,
    ThreeIdenticalFailures,
    FifteenMinutesSameError,
    HourOnLowVolume,
    RevenueRecordsAffected,
    PartialWrites,
}

impl StopRuleId {
    pub const ALL: [StopRuleId; 10] = [
        StopRuleId::ReconnectFailedOnce,
        StopRuleId::SameFieldTwoRecords,
        StopRuleId::SmallerBatchFailed,
        StopRuleId::RuleRewritesEveryTestRecord,
        StopRuleId::IdSourceShifted,
        StopRuleId::ThreeIdenticalFailures,
        StopRuleId::FifteenMinutesSameError,
        StopRuleId::HourOnLowVolume,
        StopRuleId::RevenueRecordsAffected,
        StopRuleId::PartialWrites,
    ];

    pub fn as_str(self) -> &'static str {
        match self {
            StopRuleId::ReconnectFailedOnce => "reconnect_failed_once",
            StopRuleId::SameFieldTwoRecords => "same_field_two_records",
            StopRuleId::SmallerBatchFailed => "smaller_batch_failed",
            StopRuleId::RuleRewritesEveryTestRecord => "rule_rewrites_every_test_record",
            StopRuleId::IdSourceShifted => "id_source_shifted",
            StopRuleId::ThreeIdenticalFailures => "three_identical_failures",
            StopRuleId::FifteenMinutesSameError => "fifteen_minutes_same_error",
            StopRuleId::HourOnLowVolume => "hour_on_low_volume",
            StopRuleId::RevenueRecordsAffected => "revenue_records_affected",
            StopRuleId::PartialWrites => "partial_writes",
        }
    }

    /// The seed's rule, in its words.
    pub fn rule(self) -> &'static str {
        match self {
            StopRuleId::ReconnectFailedOnce => "a reconnect failed once: stop and escalate",
            StopRuleId::SameFieldTwoRecords => {
                "the same field failed on 2 records: pause the batch"
            }
            StopRuleId::SmallerBatchFailed => {
                "a smaller batch failed too: stop and inspect transport"
            }
            StopRuleId::RuleRewritesEveryTestRecord => {
                "the same rule rewrote every test record: switch to the fallback"
            }
            StopRuleId::IdSourceShifted => {
                "the record key's source shifts between runs: do not rerun the full batch"
            }
            StopRuleId::ThreeIdenticalFailures => {
                "3 identical failures: stop and switch to log review"
            }
            StopRuleId::FifteenMinutesSameError => {
                "the same error persists after 15 minutes of fixes: pause and escalate"
            }
            StopRuleId::HourOnLowVolume => {
                "over an hour of repair on a low-volume failure: process manually today"
            }
            StopRuleId::RevenueRecordsAffected => {
                "billing, contract or pipeline records are affected: use the manual fallback"
            }
            StopRuleId::PartialWrites => {
                "some records of a failed batch were written: no blind retry; review them first"
            }
        }
    }
}

#[derive(Debug, Clone, Serialize)]
pub struct StopRule {
    pub id: StopRuleId,
    pub tripped: bool,
    pub rule: &'static str,
    /// What in the logs tripped it, in plain words.
    pub detail: String,
    /// file:line of the events behind it.
    pub evidence: Vec<String>,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum Action {
    None,
    RetryOnce,
    Reconnect,
    Escalate,
    Remap,
    FixRecord,
    ReduceBatch,
    InspectTransport,
    FreezeAutomations,
    ReconcileKeys,
    ManualFallback,
    ReviewLogs,
    FixSource,
}

impl Action {
    pub fn as_str(self) -> &'static str {
        match self {
            Action::None => "none",
            Action::RetryOnce => "retry_once",
            Action::Reconnect => "reconnect",
            Action::Escalate => "escalate",
            Action::Remap => "remap",
            Action::FixRecord => "fix_record",
            Action::ReduceBatch => "reduce_batch",
            Action::InspectTransport => "inspect_transport",
            Action::FreezeAutomations => "freeze_automations",
            Action::ReconcileKeys => "reconcile_keys",
            Action::ManualFallback => "manual_fallback",
            Action::ReviewLogs => "review_logs",
            Action::FixSource => "fix_source",
        }
    }

    /// The move in a few plain words.
    pub fn plain(self) -> &'static str {
        match self {
            Action::None => "nothing to do: the sync is healthy",
            Action::RetryOnce => "retry once",
            Action::Reconnect => "reconnect the account once",
            Action::Escalate => "stop and escalate",
            Action::Remap => "fix the field mapping",
            Action::FixRecord => "fix the one bad record",
            Action::ReduceBatch => "reduce the batch size and slow down",
            Action::InspectTransport => "stop and inspect the transport",
            Action::FreezeAutomations => "freeze the CRM's automations",
            Action::ReconcileKeys => "reconcile the record key",
            Action::ManualFallback => "switch to the manual fallback",
            Action::ReviewLogs => "stop retrying and review the logs",
            Action::FixSource => "fix the value at the source app",
        }
    }
}

#[derive(Debug, Clone, Serialize)]
pub struct Decision {
    pub action: Action,
    /// The layer the move fixes.
    pub layer: Layer,
    pub reason: String,
    pub evidence: Vec<String>,
    /// What to do after the move, in order.
    pub then: Vec<String>,
    /// Moves the tripped stop rules forbid.
    pub forbidden: Vec<String>,
    /// For reduce_batch: the suggested batch size and delay.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub batch_size: Option<u32>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub delay_seconds: Option<u32>,
    /// A record to test first, when the logs name one.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub test_record: Option<String>,
}

#[derive(Debug, Clone, Serialize)]
pub struct ContextReport {
    pub direction: Option<String>,
    pub owner: Option<String>,
    pub critical_objects: Vec<String>,
    pub minutes_spent: Option<u32>,
    pub crm: Option<String>,
}
