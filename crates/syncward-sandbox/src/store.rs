//! Records of one object, with lookups by id and by any field (indexes are
//! built on first use and kept up to date), so upserts by a unique key stay
//! fast as the store grows.

use serde_json::{Map, Value};
use std::collections::HashMap;

#[derive(Debug, Clone, serde::Serialize, serde::Deserialize)]
pub struct Record {
    pub id: String,
    pub properties: Map<String, Value>,
    pub created_at: i64,
    pub updated_at: i64,
}

#[derive(Debug, Default, Clone, serde::Serialize, serde::Deserialize)]
pub struct Store {
    pub records: Vec<Record>,
    #[serde(skip)]
    by_id: HashMap<String, usize>,
    /// field (lower case) -> normalised value -> record positions
    #[serde(skip)]
    indexes: HashMap<String, HashMap<String, Vec<usize>>>,
}

/// Values compare case-insensitively for uniqueness (emails, external ids).
pub fn norm(v: &Value) -> Option<String> {
    match v {
        Value::String(s) if !s.trim().is_empty() => Some(s.trim().to_lowercase()),
        Value::Number(n) => Some(n.to_string()),
        _ => None,
    }
}

fn prop<'a>(props: &'a Map<String, Value>, field_lower: &str) -> Option<&'a Value> {
    props
        .iter()
        .find(|(k, _)| k.to_ascii_lowercase() == field_lower)
        .map(|(_, v)| v)
}

impl Store {
    pub fn reindex(&mut self) {
        self.by_id = self
            .records
            .iter()
            .enumerate()
            .map(|(i, r)| (r.id.clone(), i))
            .collect();
        self.indexes.clear();
    }

    pub fn position(&self, id: &str) -> Option<usize> {
        self.by_id.get(id).copied()
    }

    pub fn get(&self, id: &str) -> Option<&Record> {
        self.position(id).map(|i| &self.records[i])
    }

    pub fn at(&self, i: usize) -> &Record {
        &self.records[i]
    }

    /// Positions of the records whose `field` holds `value` (case-insensitively).
    pub fn find_by(&mut self, field: &str, value: &Value) -> Vec<usize> {
        let Some(want) = norm(value) else {
            return Vec::new();
        };
        let key = field.to_ascii_lowercase();
        if !self.indexes.contains_key(&key) {
            let mut idx: HashMap<String, Vec<usize>> = HashMap::new();
            for (i, r) in self.records.iter().enumerate() {
                if let Some(v) = prop(&r.properties, &key).and_then(norm) {
                    idx.entry(v).or_default().push(i);
                }
            }
            self.indexes.insert(key.clone(), idx);
        }
        self.indexes
            .get(&key)
            .and_then(|m| m.get(&want))
            .cloned()
            .unwrap_or_default()
    }

    pub fn insert(&mut self, record: Record) -> usize {
        let i = self.records.len();
        self.by_id.insert(record.id.clone(), i);
        for (field, idx) in &mut self.indexes {
            if let Some(v) = prop(&record.properties, field).and_then(norm) {
                idx.entry(v).or_default().push(i);
            }
        }
        self.records.push(record);
        i
    }

    /// Sets properties on the record at `i`, keeping the indexes right.
    pub fn set(&mut self, i: usize, changes: &Map<String, Value>, now: i64) {
        for (field, idx) in &mut self.indexes {
            let Some(new) = prop(changes, field) else {
                continue;
            };
            if let Some(old) = prop(&self.records[i].properties, field).and_then(norm)
                && let Some(list) = idx.get_mut(&old)
            {
                list.retain(|&p| p != i);
            }
            if let Some(v) = norm(new) {
                idx.entry(v).or_default().push(i);
            }
        }
        let r = &mut self.records[i];
        for (k, v) in changes {
            // Salesforce matches field names case-insensitively: keep one spelling.
            let existing = r
                .properties
                .keys()
                .find(|e| e.eq_ignore_ascii_case(k))
                .cloned();
            r.properties
                .insert(existing.unwrap_or_else(|| k.clone()), v.clone());
        }
        r.updated_at = now;
    }
}
