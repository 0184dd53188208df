//! Everything the sandbox CRM holds: schemas (which drift), records, tokens,
//! counters, and the scenario's rules applied on every write.

use crate::scenario::Scenario;
use crate::schema::{self, Object, Vendor};
use crate::store::{Record, Store};
use serde_json::{Map, Value, json};
use std::collections::{HashMap, VecDeque};
use std::time::Instant;

pub struct Reply {
    pub status: u16,
    pub headers: Vec<(&'static str, String)>,
    pub body: Value,
}

impl Reply {
    pub fn json(status: u16, body: Value) -> Reply {
        Reply {
            status,
            headers: Vec::new(),
            body,
        }
    }
}

#[derive(Debug, Default, Clone, serde::Serialize)]
pub struct Stats {
    pub requests: u64,
    pub responses: HashMap<u16, u64>,
    pub creates: u64,
    pub updates: u64,
    pub records: HashMap<String, u64>,
    pub resets_after_commit: u64,
    pub server_errors_injected: u64,
    pub stalls: u64,
    pub drifted: bool,
}

pub struct World {
    pub scenario: Scenario,
    pub objects: Vec<Object>,
    pub stores: HashMap<String, Store>,
    pub tokens: HashMap<String, u64>,
    next_id: u64,
    pub writes: u64,
    pub drifted: bool,
    pub hs_window: VecDeque<Instant>,
    pub hs_daily: u64,
    pub sf_daily: u64,
    rng: u64,
    pub stats: Stats,
}

pub fn now_ms() -> i64 {
    std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map_or(0, |d| d.as_millis() as i64)
}

pub fn iso(ms: i64) -> String {
    let secs = ms.div_euclid(1000);
    let days = secs.div_euclid(86_400);
    let rem = secs.rem_euclid(86_400);
    let z = days + 719_468;
    let era = z.div_euclid(146_097);
    let doe = z - era * 146_097;
    let yoe = (doe - doe / 1460 + doe / 36_524 - doe / 146_096) / 365;
    let doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
    let mp = (5 * doy + 2) / 153;
    let d = doy - (153 * mp + 2) / 5 + 1;
    let m = if mp < 10 { mp + 3 } else { mp - 9 };
    let y = yoe + era * 400 + i64::from(m <= 2);
    format!(
        "{y:04}-{m:02}-{d:02}T{:02}:{:02}:{:02}.{:03}Z",
        rem / 3600,
        (rem % 3600) / 60,
        rem % 60,
        ms.rem_euclid(1000)
    )
}

impl World {
    pub fn new(scenario: Scenario) -> World {
        let mut tokens = HashMap::new();
        tokens.insert(scenario.token.clone(), 0);
        let rng = scenario.faults.seed.max(1);
        World {
            scenario,
            objects: schema::standard(),
            stores: HashMap::new(),
            tokens,
            next_id: 0,
            writes: 0,
            drifted: false,
            hs_window: VecDeque::new(),
            hs_daily: 0,
            sf_daily: 0,
            rng,
            stats: Stats::default(),
        }
    }

    pub fn reset(&mut self) {
        let scenario = self.scenario.clone();
        *self = World::new(scenario);
    }

    /// A number in [0, 1) from the scenario's seeded generator (xorshift64*).
    pub fn roll(&mut self) -> f64 {
        let mut x = self.rng;
        x ^= x >> 12;
        x ^= x << 25;
        x ^= x >> 27;
        self.rng = x;
        (x.wrapping_mul(0x2545_F491_4F6C_DD1D) >> 11) as f64 / (1u64 << 53) as f64
    }

    pub fn object(&self, vendor: Vendor, name: &str) -> Option<&Object> {
        self.objects.iter().find(|o| {
            o.vendor == vendor
                && (o.name == name
                    || (vendor == Vendor::Salesforce && o.name.eq_ignore_ascii_case(name)))
        })
    }

    pub fn store(&mut self, object: &str) -> &mut Store {
        self.stores.entry(object.to_owned()).or_default()
    }

    pub fn new_id(&mut self, o: &Object) -> String {
        self.next_id += 1;
        match o.vendor {
            Vendor::Hubspot => (100_000 + self.next_id).to_string(),
            Vendor::Salesforce => {
                const ALPHABET: &[u8] =
                    b"0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz";
                let mut n = self.next_id;
                let mut body = [b'0'; 10];
                for slot in body.iter_mut().rev() {
                    *slot = ALPHABET[(n % 62) as usize];
                    n /= 62;
                }
                format!("{}5g{}AAA", o.prefix, String::from_utf8_lossy(&body))
            }
        }
    }

    /// Creates a record (the caller validated it) and applies the
    /// scenario's workflow rules; returns its position.
    pub fn create(&mut self, o: &Object, mut props: Map<String, Value>) -> usize {
        let now = now_ms();
        let id = self.new_id(o);
        match o.vendor {
            Vendor::Hubspot => {
                props.insert("hs_object_id".into(), Value::String(id.clone()));
                props.insert("createdate".into(), Value::String(iso(now)));
                props.insert("lastmodifieddate".into(), Value::String(iso(now)));
            }
            Vendor::Salesforce => {
                props.remove("attributes");
                for fd in &o.fields {
                    if let Some(def) = &fd.default
                        && !props.keys().any(|k| k.eq_ignore_ascii_case(&fd.name))
                    {
                        props.insert(fd.name.clone(), Value::String(def.clone()));
                    }
                }
                props
                    .entry("OwnerId")
                    .or_insert_with(|| Value::String("005000000000001AAA".into()));
            }
        }
        let crm = vendor_name(o.vendor);
        let rewrites: Vec<Map<String, Value>> = self
            .scenario
            .workflows
            .iter()
            .filter(|w| w.crm.eq_ignore_ascii_case(crm) && w.object.eq_ignore_ascii_case(&o.name))
            .map(|w| {
                w.set
                    .iter()
                    .map(|(k, v)| (k.clone(), toml_to_json(v)))
                    .collect()
            })
            .collect();
        let store = self.store(&o.name);
        let pos = store.insert(Record {
            id,
            properties: props,
            created_at: now,
            updated_at: now,
        });
        for set in rewrites {
            store.set(pos, &set, now);
        }
        self.stats.creates += 1;
        *self.stats.records.entry(o.name.clone()).or_default() += 1;
        self.wrote();
        pos
    }

    pub fn update(&mut self, o: &Object, pos: usize, mut props: Map<String, Value>) {
        let now = now_ms();
        props.remove("attributes");
        if o.vendor == Vendor::Hubspot {
            props.insert("lastmodifieddate".into(), Value::String(iso(now)));
        }
        self.store(&o.name).set(pos, &props, now);
        self.stats.updates += 1;
        self.wrote();
    }

    /// Counts a write; after the scenario's threshold the admin changes the schema.
    fn wrote(&mut self) {
        self.writes += 1;
        let Some(drift) = self.scenario.drift.clone() else {
            return;
        };
        if self.drifted || self.writes < drift.after_writes {
            return;
        }
        self.drifted = true;
        self.stats.drifted = true;
        for spec in &drift.required {
            if let Some((vendor, object, field)) = parse_spec(spec)
                && let Some(o) = self
                    .objects
                    .iter_mut()
                    .find(|o| o.vendor == vendor && o.name == object)
                && let Some(fd) = o.field_mut(field)
            {
                fd.required = true;
            }
        }
        for spec in &drift.remove_options {
            if let Some((target, option)) = spec.split_once('=')
                && let Some((vendor, object, field)) = parse_spec(target)
                && let Some(o) = self
                    .objects
                    .iter_mut()
                    .find(|o| o.vendor == vendor && o.name == object)
                && let Some(fd) = o.field_mut(field)
            {
                fd.options.retain(|opt| opt != option);
            }
        }
    }

    /// Scenario validation rules that reject this write: (field, message).
    pub fn validation_rule(
        &self,
        o: &Object,
        props: &Map<String, Value>,
        create: bool,
    ) -> Option<(String, String)> {
        let crm = vendor_name(o.vendor);
        for rule in &self.scenario.validation_rules {
            if !rule.crm.eq_ignore_ascii_case(crm) || !rule.object.eq_ignore_ascii_case(&o.name) {
                continue;
            }
            let value = props
                .iter()
                .find(|(k, _)| k.eq_ignore_ascii_case(&rule.field))
                .map(|(_, v)| v);
            let blank = value.is_none_or(schema::blank);
            let bad = (rule.required && blank && (create || value.is_some()))
                || value
                    .and_then(Value::as_str)
                    .is_some_and(|v| rule.reject.iter().any(|r| r == v));
            if bad {
                return Some((rule.field.clone(), rule.message.clone()));
            }
        }
        None
    }

    /// A Salesforce duplicate rule that matches this new record: (rule, existing id).
    pub fn duplicate_rule(
        &mut self,
        o: &Object,
        props: &Map<String, Value>,
    ) -> Option<(String, String)> {
        let crm = vendor_name(o.vendor);
        let rules: Vec<(String, String)> = self
            .scenario
            .duplicate_rules
            .iter()
            .filter(|r| r.crm.eq_ignore_ascii_case(crm) && r.object.eq_ignore_ascii_case(&o.name))
            .map(|r| (r.field.clone(), r.rule.clone()))
            .collect();
        for (field, rule) in rules {
            let Some(value) = props
                .iter()
                .find(|(k, _)| k.eq_ignore_ascii_case(&field))
                .map(|(_, v)| v.clone())
            else {
                continue;
            };
            let store = self.store(&o.name);
            if let Some(&pos) = store.find_by(&field, &value).first() {
                return Some((rule, store.at(pos).id.clone()));
            }
        }
        None
    }

    pub fn record_json(&self, o: &Object, rec: &Record) -> Value {
        match o.vendor {
            Vendor::Hubspot => json!({
                "id": rec.id, "properties": rec.properties,
                "createdAt": iso(rec.created_at), "updatedAt": iso(rec.updated_at), "archived": false
            }),
            Vendor::Salesforce => {
                let mut m = Map::new();
                m.insert("attributes".into(), json!({"type": o.name, "url": format!("/services/data/v62.0/sobjects/{}/{}", o.name, rec.id)}));
                m.insert("Id".into(), Value::String(rec.id.clone()));
                for (k, v) in &rec.properties {
                    m.insert(k.clone(), v.clone());
                }
                m.insert(
                    "CreatedDate".into(),
                    Value::String(iso(rec.created_at).replace('Z', "+0000")),
                );
                m.insert(
                    "LastModifiedDate".into(),
                    Value::String(iso(rec.updated_at).replace('Z', "+0000")),
                );
                Value::Object(m)
            }
        }
    }
}

pub fn vendor_name(v: Vendor) -> &'static str {
    match v {
        Vendor::Hubspot => "hubspot",
        Vendor::Salesforce => "salesforce",
    }
}

/// `salesforce:Lead.Company` -> (Salesforce, "Lead", "Company")
fn parse_spec(spec: &str) -> Option<(Vendor, &str, &str)> {
    let (crm, rest) = spec.split_once(':')?;
    let (object, field) = rest.split_once('.')?;
    let vendor = match crm {
        "hubspot" => Vendor::Hubspot,
        "salesforce" => Vendor::Salesforce,
        _ => return None,
    };
    Some((vendor, object, field))
}

fn toml_to_json(v: &toml::Value) -> Value {
    match v {
        toml::Value::String(s) => Value::String(s.clone()),
        toml::Value::Integer(i) => json!(i),
        toml::Value::Float(f) => json!(f),
        toml::Value::Boolean(b) => json!(b),
        other => Value::String(other.to_string()),
    }
}
