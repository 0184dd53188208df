//! Preflight: a mapping, the CRM's schema and the source rows in, findings
//! out, before anything is sent. Setup findings (the mapping against the
//! schema) come once; record findings come per row.

pub mod mapping;
pub mod normalize;
pub mod places;
pub mod schema;

use mapping::{FieldSpec, Mapping};
use schema::{Schema, SchemaField};
use serde::Serialize;
use std::collections::{BTreeMap, HashMap};

#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Serialize)]
#[serde(rename_all = "lowercase")]
pub enum Severity {
    Error,
    Warning,
}

#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Finding {
    pub kind: &'static str,
    pub severity: Severity,
    /// 1-based data row of the source file; null for setup findings.
    pub row: Option<u64>,
    /// The row's key value.
    pub record: Option<String>,
    /// The source column.
    pub column: Option<String>,
    /// The CRM field.
    pub field: Option<String>,
    pub value: Option<String>,
    pub message: String,
    pub fix: Option<String>,
}

impl Finding {
    fn setup(
        kind: &'static str,
        severity: Severity,
        column: Option<&str>,
        field: Option<&str>,
        message: String,
        fix: Option<String>,
    ) -> Finding {
        Finding {
            kind,
            severity,
            row: None,
            record: None,
            column: column.map(str::to_owned),
            field: field.map(str::to_owned),
            value: None,
            message,
            fix,
        }
    }
}

/// What one row becomes.
#[derive(Debug, Default)]
pub struct RowOutcome {
    pub findings: Vec<Finding>,
    /// Per mapped column (in mapping order): the value to send, None when blank.
    pub values: Vec<Option<String>>,
    /// The source row with every safe normalisation applied (for --fix).
    pub fixed: Vec<String>,
    /// (column, from, to) for every cell --fix changed (with `keep_fixed`).
    pub changes: Vec<(String, String, String)>,
    pub has_error: bool,
}

struct Column {
    name: String,
    index: Option<usize>,
    spec: FieldSpec,
    field: Option<SchemaField>,
    required: bool,
    wants_state: bool,
    wants_country: bool,
}

pub struct Checker {
    columns: Vec<Column>,
    key_index: Option<usize>,
    key_column: String,
    keep_fixed: bool,
    /// Key hash -> first row (u32 keeps the table small: 1M keys in about 16 MB).
    seen_keys: HashMap<u64, u32, foldhash::fast::FixedState>,
    setup: Vec<Finding>,
}

/// Extra setup facts the caller knows: the token's scopes, a baseline schema,
/// the batch size the sync will use.
#[derive(Debug, Default, Clone)]
pub struct SetupInput<'a> {
    pub scopes: Option<&'a [String]>,
    pub baseline: Option<&'a Schema>,
    pub batch_size: Option<usize>,
}

impl Checker {
    /// `headers` are the source file's column names.
    pub fn new(
        mapping: &Mapping,
        schema: &Schema,
        headers: &[String],
        setup: &SetupInput<'_>,
    ) -> Checker {
        let mut findings = Vec::new();
        let header_index = |name: &str| {
            headers.iter().position(|h| h == name).or_else(|| {
                headers
                    .iter()
                    .position(|h| h.trim().eq_ignore_ascii_case(name.trim()))
            })
        };
        let mut columns = Vec::new();
        for (col, spec) in &mapping.columns {
            let index = header_index(col);
            if index.is_none() {
                findings.push(Finding::setup(
                    "unknown_field",
                    Severity::Error,
                    Some(col),
                    Some(&spec.crm),
                    format!("the source file has no column \"{col}\""),
                    closest_header(col, headers).map(|h| format!("did you mean \"{h}\"?")),
                ));
            }
            let field = schema.field(&spec.crm).cloned();
            match &field {
                None => {
                    let guess = schema.fields.iter().map(|f| f.name.as_str()).find(|f| {
                        f.eq_ignore_ascii_case(&spec.crm.replace(' ', ""))
                            || f.replace('_', "")
                                .eq_ignore_ascii_case(&spec.crm.replace([' ', '_'], ""))
                    });
                    findings.push(Finding::setup(
                        "unknown_field",
                        Severity::Error,
                        Some(col),
                        Some(&spec.crm),
                        format!("{} {} has no field \"{}\"", crm_name(schema), schema.object, spec.crm),
                        Some(match guess {
                            Some(g) => format!("use \"{g}\""),
                            None => "use the field's API name (custom Salesforce fields end in __c; HubSpot uses internal names, not labels)".into(),
                        }),
                    ));
                }
                Some(f) if f.read_only => {
                    findings.push(Finding::setup(
                        "read_only_field",
                        Severity::Error,
                        Some(col),
                        Some(&f.name),
                        format!("{} is read-only in the CRM: writes to it fail", f.name),
                        Some("remove it from the mapping".into()),
                    ));
                }
                Some(_) => {}
            }
            let (wants_state, wants_country) = field.as_ref().map_or((false, false), |f| {
                (
                    normalize::wants_state_code(f),
                    normalize::wants_country_code(f),
                )
            });
            columns.push(Column {
                name: col.clone(),
                index,
                spec: spec.clone(),
                field,
                required: false,
                wants_state,
                wants_country,
            });
        }
        // The key.
        let key_index = header_index(&mapping.key.source);
        if key_index.is_none() {
            findings.push(Finding::setup(
                "missing_key",
                Severity::Error,
                Some(&mapping.key.source),
                Some(&mapping.key.crm),
                format!(
                    "the source file has no key column \"{}\"",
                    mapping.key.source
                ),
                closest_header(&mapping.key.source, headers)
                    .map(|h| format!("did you mean \"{h}\"?")),
            ));
        }
        match schema.field(&mapping.key.crm) {
            None => findings.push(Finding::setup("unknown_field", Severity::Error, Some(&mapping.key.source), Some(&mapping.key.crm), format!("the key field \"{}\" does not exist on {}", mapping.key.crm, schema.object), None)),
            Some(f) if !f.unique => findings.push(Finding::setup(
                "key_not_unique",
                Severity::Error,
                Some(&mapping.key.source),
                Some(&f.name),
                format!("the key field {} is not unique in the CRM: upserts on it can match several records", f.name),
                Some(match schema.crm {
                    schema::SchemaCrm::Salesforce => "mark the field External ID and Unique in Salesforce, or key on another one".into(),
                    schema::SchemaCrm::Hubspot => "key on a property with unique values (email for contacts), or make it unique in HubSpot".into(),
                }),
            )),
            Some(_) => {}
        }
        // Required fields nothing fills.
        let mapped = |name: &str| {
            columns
                .iter()
                .any(|c| c.spec.crm.eq_ignore_ascii_case(name))
                || mapping.key.crm.eq_ignore_ascii_case(name)
        };
        let required: Vec<String> = schema
            .fields
            .iter()
            .filter(|f| f.required && !f.read_only)
            .map(|f| f.name.clone())
            .collect();
        for name in &required {
            if !mapped(name) {
                findings.push(Finding::setup("unmapped_required", Severity::Error, None, Some(name), format!("{name} is required by the CRM and no column is mapped to it: every new record will bounce"), Some(format!("map a source column to {name} or give it a default at the source"))));
            }
        }
        // Batch size.
        let cap = schema.batch_cap();
        if let Some(n) = setup.batch_size.or(mapping.batch_size)
            && n > cap
        {
            findings.push(Finding::setup(
                "batch_too_large",
                Severity::Error,
                None,
                None,
                format!(
                    "batches of {n} are above {}'s cap of {cap} records per call",
                    crm_name(schema)
                ),
                Some(format!("use batch_size = {cap} or less")),
            ));
        }
        // Token scopes.
        if let Some(scopes) = setup.scopes {
            let object = mapping.object.to_ascii_lowercase();
            let needed = [
                format!("crm.objects.{object}.write"),
                format!("crm.objects.{object}.read"),
            ];
            let legacy = if object == "contacts" {
                Some("contacts")
            } else {
                None
            };
            for need in needed {
                if !scopes
                    .iter()
                    .any(|s| *s == need || Some(s.as_str()) == legacy)
                {
                    findings.push(Finding::setup(
                        "scope_missing",
                        Severity::Error,
                        None,
                        None,
                        format!("the token lacks the scope {need}"),
                        Some("add the scope to the app and reconnect it".into()),
                    ));
                }
            }
        }
        // Drift against a baseline.
        if let Some(base) = setup.baseline {
            for d in schema::diff(base, schema) {
                let touches = mapped(&d.field)
                    || d.change == schema::DriftKind::BecameRequired
                    || (d.change == schema::DriftKind::FieldAdded && d.breaking);
                let severity = if d.breaking && touches {
                    Severity::Error
                } else {
                    Severity::Warning
                };
                findings.push(Finding {
                    kind: "schema_drift",
                    severity,
                    row: None,
                    record: None,
                    column: columns
                        .iter()
                        .find(|c| c.spec.crm == d.field)
                        .map(|c| c.name.clone()),
                    field: Some(d.field.clone()),
                    value: d.after.clone(),
                    message: d.message.clone(),
                    fix: None,
                });
            }
        }
        let required: Vec<String> = required.into_iter().filter(|r| mapped(r)).collect();
        for c in &mut columns {
            c.required = required.iter().any(|r| r.eq_ignore_ascii_case(&c.spec.crm));
        }
        Checker {
            keep_fixed: false,
            key_index,
            key_column: mapping.key.source.clone(),
            columns,
            seen_keys: HashMap::with_hasher(foldhash::fast::FixedState::default()),
            setup: findings,
        }
    }

    /// Fill `RowOutcome::fixed` (the row as --fix writes it).
    pub fn keep_fixed(&mut self, keep: bool) {
        self.keep_fixed = keep;
    }

    pub fn setup_findings(&self) -> &[Finding] {
        &self.setup
    }

    /// The CRM field names, in mapping order (the header of clean.csv).
    pub fn crm_fields(&self) -> Vec<String> {
        self.columns.iter().map(|c| c.spec.crm.clone()).collect()
    }

    pub fn key_column(&self) -> &str {
        &self.key_column
    }

    /// Checks one data row (`row` is 1-based).
    pub fn check_row(&mut self, row: u64, cells: &[&str]) -> RowOutcome {
        let mut out = RowOutcome {
            fixed: if self.keep_fixed {
                cells.iter().map(|c| (*c).to_owned()).collect()
            } else {
                Vec::new()
            },
            values: Vec::with_capacity(self.columns.len()),
            ..RowOutcome::default()
        };
        let key = self
            .key_index
            .and_then(|i| cells.get(i))
            .map(|k| k.trim())
            .filter(|k| !k.is_empty());
        let record = key.map(str::to_owned);
        let push = |out: &mut RowOutcome,
                    kind,
                    severity,
                    column: &str,
                    field: Option<&str>,
                    value: Option<&str>,
                    message: String,
                    fix: Option<String>| {
            out.has_error |= severity == Severity::Error;
            out.findings.push(Finding {
                kind,
                severity,
                row: Some(row),
                record: record.clone(),
                column: Some(column.to_owned()),
                field: field.map(str::to_owned),
                value: value.map(str::to_owned),
                message,
                fix,
            });
        };
        match key {
            None if self.key_index.is_some() => push(
                &mut out,
                "missing_key",
                Severity::Error,
                &self.key_column.clone(),
                None,
                None,
                format!(
                    "no value in the key column {}: this record cannot be upserted safely",
                    self.key_column
                ),
                Some("fill the key at the source".into()),
            ),
            Some(k) => {
                let h = distinct::hash_key(k);
                match self.seen_keys.get(&h) {
                    Some(first) => push(
                        &mut out,
                        "duplicate_key",
                        Severity::Error,
                        &self.key_column.clone(),
                        None,
                        Some(k),
                        format!(
                            "the key {k} already appeared on row {first}: two rows would update one record"
                        ),
                        Some("merge the rows at the source, or fix one key".into()),
                    ),
                    None => {
                        self.seen_keys
                            .insert(h, u32::try_from(row).unwrap_or(u32::MAX));
                    }
                }
            }
            None => {}
        }
        for c in &self.columns {
            let raw = c.index.and_then(|i| cells.get(i)).copied().unwrap_or("");
            let field_name = c
                .field
                .as_ref()
                .map(|f| f.name.as_str())
                .unwrap_or(c.spec.crm.as_str());
            match normalize::normalise_with(
                raw,
                &c.spec,
                c.field.as_ref(),
                c.wants_state,
                c.wants_country,
            ) {
                Ok(n) => {
                    if n.value.is_none() && c.required {
                        push(
                            &mut out,
                            "required_missing",
                            Severity::Error,
                            &c.name,
                            Some(field_name),
                            None,
                            format!("{field_name} is required and this row has no {}", c.name),
                            Some(format!("fill {} at the source", c.name)),
                        );
                    }
                    if let Some(w) = n.warning {
                        push(
                            &mut out,
                            w.kind,
                            Severity::Warning,
                            &c.name,
                            Some(field_name),
                            Some(raw.trim()),
                            w.message,
                            w.fix,
                        );
                    }
                    if let (Some(i), Some(v)) = (c.index, &n.value)
                        && self.keep_fixed
                        && raw != v
                    {
                        if let Some(cell) = out.fixed.get_mut(i) {
                            *cell = v.clone();
                        }
                        out.changes
                            .push((c.name.clone(), raw.to_owned(), v.clone()));
                    }
                    out.values.push(n.value);
                }
                Err(b) => {
                    // A safe correction known for this value goes into --fix too.
                    if let (Some(i), true, Some(fix)) = (
                        c.index,
                        self.keep_fixed,
                        b.fix.as_deref().and_then(safe_fix),
                    ) {
                        if let Some(cell) = out.fixed.get_mut(i) {
                            *cell = fix.clone();
                        }
                        out.changes.push((c.name.clone(), raw.to_owned(), fix));
                    }
                    push(
                        &mut out,
                        b.kind,
                        Severity::Error,
                        &c.name,
                        Some(field_name),
                        Some(raw.trim()),
                        b.message,
                        b.fix,
                    );
                    out.values.push(None);
                }
            }
        }
        out
    }
}

/// The corrected value at the front of a fix ("CA (add transform ...)").
fn safe_fix(fix: &str) -> Option<String> {
    let first = fix.split(" (").next()?.trim();
    let looks_like_value = !first.is_empty()
        && !first.contains(' ')
        && !first.starts_with("did")
        && !first.starts_with("use")
        && !first.starts_with("set")
        && !first.starts_with("fill")
        && !first.starts_with("shorten")
        && !first.starts_with("allowed")
        && !first.starts_with("write");
    looks_like_value.then(|| first.to_owned())
}

fn crm_name(s: &Schema) -> &'static str {
    match s.crm {
        schema::SchemaCrm::Hubspot => "HubSpot",
        schema::SchemaCrm::Salesforce => "Salesforce",
    }
}

fn closest_header<'a>(want: &str, headers: &'a [String]) -> Option<&'a str> {
    let fold = |s: &str| {
        s.to_lowercase()
            .chars()
            .filter(|c| c.is_alphanumeric())
            .collect::<String>()
    };
    let w = fold(want);
    headers
        .iter()
        .find(|h| fold(h) == w || (!w.is_empty() && (fold(h).contains(&w) || w.contains(&fold(h)))))
        .map(String::as_str)
}

mod distinct {
    use std::hash::BuildHasher;
    pub fn hash_key(k: &str) -> u64 {
        foldhash::fast::FixedState::with_seed(7).hash_one(k.to_lowercase())
    }
}

/// Totals for the report: records, clean, with errors, counts by kind.
#[derive(Debug, Clone, Default, Serialize)]
pub struct Summary {
    pub records: u64,
    pub clean: u64,
    pub with_errors: u64,
    pub with_warnings: u64,
    pub setup_errors: u64,
    pub by_kind: BTreeMap<String, u64>,
}

impl Summary {
    pub fn add_setup(&mut self, findings: &[Finding]) {
        for f in findings {
            *self.by_kind.entry(f.kind.to_owned()).or_default() += 1;
            if f.severity == Severity::Error {
                self.setup_errors += 1;
            }
        }
    }

    pub fn add_row(&mut self, outcome: &RowOutcome) {
        self.records += 1;
        if outcome.has_error {
            self.with_errors += 1;
        } else {
            self.clean += 1;
        }
        if outcome
            .findings
            .iter()
            .any(|f| f.severity == Severity::Warning)
        {
            self.with_warnings += 1;
        }
        for f in &outcome.findings {
            *self.by_kind.entry(f.kind.to_owned()).or_default() += 1;
        }
    }
}

#[cfg(test)]
mod tests;
