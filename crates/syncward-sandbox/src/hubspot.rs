//! HubSpot CRM v3 on the wire: objects, batch endpoints, properties, OAuth.

use crate::schema::{self, Object, Problem, Vendor};
use crate::world::{Reply, World, iso, now_ms};
use serde_json::{Map, Value, json};

pub const BATCH_LIMIT: usize = 100;

fn correlation(world: &mut World) -> String {
    let a = (world.roll() * u32::MAX as f64) as u32;
    let b = (world.roll() * u64::MAX as f64) as u64;
    format!(
        "{a:08x}-{:04x}-4{:03x}-8{:03x}-{:012x}",
        (b >> 48) & 0xffff,
        (b >> 36) & 0xfff,
        (b >> 24) & 0xfff,
        b & 0xffff_ffff_ffff
    )
}

pub fn error(
    world: &mut World,
    status: u16,
    category: &str,
    message: &str,
    errors: Vec<Value>,
) -> Reply {
    let mut body = json!({"status": "error", "message": message, "correlationId": correlation(world), "category": category});
    if !errors.is_empty() {
        body["errors"] = Value::Array(errors);
    }
    Reply::json(status, body)
}

fn validation_error(world: &mut World, problems: &[Problem]) -> Reply {
    let list: Vec<Value> = problems
        .iter()
        .map(|p| json!({"isValid": false, "message": p.message, "error": p.code, "name": p.field}))
        .collect();
    let errors: Vec<Value> = problems
        .iter()
        .map(|p| json!({"message": p.message, "code": p.code, "context": {"propertyName": [p.field]}}))
        .collect();
    let message = format!("Property values were not valid: {}", Value::Array(list));
    error(world, 400, "VALIDATION_ERROR", &message, errors)
}

pub fn unknown_object(world: &mut World, name: &str) -> Reply {
    error(
        world,
        400,
        "VALIDATION_ERROR",
        &format!("Unable to infer object type from: {name}"),
        Vec::new(),
    )
}

fn parse_body(world: &mut World, body: &[u8]) -> Result<Value, Reply> {
    serde_json::from_slice(body).map_err(|e| {
        error(
            world,
            400,
            "VALIDATION_ERROR",
            &format!(
                "Invalid input JSON on line {}, column {}: {e}",
                e.line(),
                e.column()
            ),
            Vec::new(),
        )
    })
}

fn props_of(v: &Value) -> Map<String, Value> {
    v.get("properties")
        .and_then(Value::as_object)
        .cloned()
        .unwrap_or_default()
}

fn query<'q>(q: &'q str, key: &str) -> Option<&'q str> {
    q.split('&')
        .find_map(|kv| kv.strip_prefix(key).and_then(|r| r.strip_prefix('=')))
}

/// The property an upsert or lookup matches on must hold unique values.
fn id_property_ok(o: &Object, prop: &str) -> bool {
    prop == "hs_object_id" || o.field(prop).is_some_and(|f| f.unique)
}

fn find(world: &mut World, o: &Object, id: &str, id_property: Option<&str>) -> Option<usize> {
    match id_property {
        Some(p) if p != "hs_object_id" => world
            .store(&o.name)
            .find_by(p, &Value::String(id.to_owned()))
            .first()
            .copied(),
        _ => world.store(&o.name).position(id),
    }
}

fn result_json(world: &World, o: &Object, pos: usize, new: Option<bool>) -> Value {
    let rec = world.stores.get(&o.name).map(|s| s.at(pos).clone());
    let mut v = rec.map(|r| world.record_json(o, &r)).unwrap_or(Value::Null);
    if let Some(n) = new {
        v["new"] = Value::Bool(n);
    }
    v
}

/// A create would collide with a unique property: the existing id.
fn conflict(world: &mut World, o: &Object, props: &Map<String, Value>) -> Option<String> {
    for fd in o.fields.iter().filter(|f| f.unique) {
        if let Some(v) = props.get(&fd.name).filter(|v| !schema::blank(v)) {
            let store = world.store(&o.name);
            if let Some(&pos) = store.find_by(&fd.name, v).first() {
                return Some(store.at(pos).id.clone());
            }
        }
    }
    None
}

fn conflict_reply(world: &mut World, o: &Object, existing: &str) -> Reply {
    let what = if o.name == "contacts" {
        "Contact"
    } else {
        &o.label
    };
    error(
        world,
        409,
        "CONFLICT",
        &format!("{what} already exists. Existing ID: {existing}"),
        Vec::new(),
    )
}

fn workflow_reject(
    world: &mut World,
    o: &Object,
    props: &Map<String, Value>,
    create: bool,
) -> Option<Reply> {
    let (field, message) = world.validation_rule(o, props, create)?;
    let errors = vec![
        json!({"message": message, "code": "VALIDATION_RULE", "context": {"propertyName": [field]}}),
    ];
    Some(error(world, 400, "VALIDATION_ERROR", &message, errors))
}

pub fn properties(world: &mut World, object: &str) -> Reply {
    match world.object(Vendor::Hubspot, object) {
        Some(o) => Reply::json(200, schema::hubspot_properties(o)),
        None => unknown_object(world, object),
    }
}

pub fn create_one(world: &mut World, object: &str, body: &[u8]) -> Reply {
    let Some(o) = world.object(Vendor::Hubspot, object).cloned() else {
        return unknown_object(world, object);
    };
    let v = match parse_body(world, body) {
        Ok(v) => v,
        Err(r) => return r,
    };
    let props = props_of(&v);
    let problems = schema::validate(&o, &props, true);
    if !problems.is_empty() {
        return validation_error(world, &problems);
    }
    if let Some(existing) = conflict(world, &o, &props) {
        return conflict_reply(world, &o, &existing);
    }
    if let Some(r) = workflow_reject(world, &o, &props, true) {
        return r;
    }
    let pos = world.create(&o, props);
    Reply::json(201, result_json(world, &o, pos, None))
}

pub fn get_one(world: &mut World, object: &str, id: &str, query_string: &str) -> Reply {
    let Some(o) = world.object(Vendor::Hubspot, object).cloned() else {
        return unknown_object(world, object);
    };
    match find(world, &o, id, query(query_string, "idProperty")) {
        Some(pos) => Reply::json(200, result_json(world, &o, pos, None)),
        None => not_found(world, id),
    }
}

fn not_found(world: &mut World, id: &str) -> Reply {
    let mut r = error(
        world,
        404,
        "OBJECT_NOT_FOUND",
        "Object not found.  objectId are usually numeric.",
        Vec::new(),
    );
    r.body["context"] = json!({"id": [id]});
    r
}

pub fn update_one(
    world: &mut World,
    object: &str,
    id: &str,
    query_string: &str,
    body: &[u8],
) -> Reply {
    let Some(o) = world.object(Vendor::Hubspot, object).cloned() else {
        return unknown_object(world, object);
    };
    let v = match parse_body(world, body) {
        Ok(v) => v,
        Err(r) => return r,
    };
    let props = props_of(&v);
    let problems = schema::validate(&o, &props, false);
    if !problems.is_empty() {
        return validation_error(world, &problems);
    }
    let Some(pos) = find(world, &o, id, query(query_string, "idProperty")) else {
        return not_found(world, id);
    };
    if let Some(r) = workflow_reject(world, &o, &props, false) {
        return r;
    }
    world.update(&o, pos, props);
    Reply::json(200, result_json(world, &o, pos, None))
}

/// `POST /crm/v3/objects/{object}/batch/{create|read|update|upsert}`
pub fn batch(world: &mut World, object: &str, action: &str, body: &[u8]) -> Reply {
    let Some(o) = world.object(Vendor::Hubspot, object).cloned() else {
        return unknown_object(world, object);
    };
    let v = match parse_body(world, body) {
        Ok(v) => v,
        Err(r) => return r,
    };
    let Some(inputs) = v.get("inputs").and_then(Value::as_array).cloned() else {
        return error(
            world,
            400,
            "VALIDATION_ERROR",
            "Invalid input JSON: \"inputs\" is required and must be a list",
            Vec::new(),
        );
    };
    if inputs.is_empty() || inputs.len() > BATCH_LIMIT {
        return error(
            world,
            400,
            "VALIDATION_ERROR",
            &format!(
                "Batch input must contain between 1 and {BATCH_LIMIT} inputs; got {}.",
                inputs.len()
            ),
            Vec::new(),
        );
    }
    let started = iso(now_ms());
    match action {
        "read" => batch_read(world, &o, &v, &inputs, started),
        "create" => batch_write(world, &o, &inputs, Mode::Create, None, started),
        "update" | "upsert" => {
            let id_property = v
                .get("idProperty")
                .and_then(Value::as_str)
                .map(str::to_owned);
            let mode = if action == "update" {
                Mode::Update
            } else {
                Mode::Upsert
            };
            batch_write(world, &o, &inputs, mode, id_property, started)
        }
        other => error(
            world,
            404,
            "OBJECT_NOT_FOUND",
            &format!("Unknown batch action: {other}"),
            Vec::new(),
        ),
    }
}

fn batch_read(
    world: &mut World,
    o: &Object,
    v: &Value,
    inputs: &[Value],
    started: String,
) -> Reply {
    let id_property = v
        .get("idProperty")
        .and_then(Value::as_str)
        .map(str::to_owned);
    if let Some(p) = &id_property
        && !id_property_ok(o, p)
    {
        return error(
            world,
            400,
            "VALIDATION_ERROR",
            &format!("Unable to perform read by non-unique {p} property"),
            Vec::new(),
        );
    }
    let mut results = Vec::new();
    let mut missing = Vec::new();
    for input in inputs {
        let id = input
            .get("id")
            .map(|i| i.as_str().map_or_else(|| i.to_string(), str::to_owned))
            .unwrap_or_default();
        match find(world, o, &id, id_property.as_deref()) {
            Some(pos) => results.push(result_json(world, o, pos, None)),
            None => missing.push(Value::String(id)),
        }
    }
    let mut body = json!({"status": "COMPLETE", "results": results, "startedAt": started, "completedAt": iso(now_ms())});
    if missing.is_empty() {
        return Reply::json(200, body);
    }
    body["numErrors"] = json!(1);
    body["errors"] = json!([{
        "status": "error", "category": "OBJECT_NOT_FOUND",
        "message": format!("Could not get some {} objects, they may be deleted or not exist. Check that ids are valid.", o.label.to_uppercase()),
        "context": {"ids": missing}
    }]);
    Reply::json(207, body)
}

#[derive(Clone, Copy, PartialEq, Eq)]
enum Mode {
    Create,
    Update,
    Upsert,
}

fn batch_write(
    world: &mut World,
    o: &Object,
    inputs: &[Value],
    mode: Mode,
    id_property: Option<String>,
    started: String,
) -> Reply {
    // The key each input is matched on.
    let keyed: Vec<(Option<String>, Option<String>)> = inputs
        .iter()
        .map(|i| {
            let prop = i
                .get("idProperty")
                .and_then(Value::as_str)
                .map(str::to_owned)
                .or_else(|| id_property.clone());
            let id = i
                .get("id")
                .map(|x| x.as_str().map_or_else(|| x.to_string(), str::to_owned));
            (id, prop)
        })
        .collect();
    if mode != Mode::Create {
        if let Some(bad) = keyed
            .iter()
            .find_map(|(_, p)| p.as_ref().filter(|p| !id_property_ok(o, p)))
        {
            let bad = bad.clone();
            return error(
                world,
                400,
                "VALIDATION_ERROR",
                &format!("Unable to perform update/upsert by non-unique 0-1 property: {bad}"),
                Vec::new(),
            );
        }
        if keyed
            .iter()
            .any(|(id, _)| id.as_deref().is_none_or(str::is_empty))
        {
            return error(
                world,
                400,
                "VALIDATION_ERROR",
                "Each input needs an \"id\"",
                Vec::new(),
            );
        }
        // Two inputs for one record: HubSpot rejects the whole batch.
        let mut seen = std::collections::HashSet::new();
        let dups: Vec<String> = keyed
            .iter()
            .filter_map(|(id, _)| id.as_ref().map(|s| s.to_lowercase()))
            .filter(|id| !seen.insert(id.clone()))
            .collect();
        if !dups.is_empty() {
            return error(
                world,
                400,
                "VALIDATION_ERROR",
                &format!("Duplicate IDs found in batch input: {dups:?}. IDs must be unique"),
                Vec::new(),
            );
        }
    }
    let trace_ids: Vec<Option<String>> = inputs
        .iter()
        .map(|i| {
            i.get("objectWriteTraceId")
                .and_then(Value::as_str)
                .map(str::to_owned)
        })
        .collect();
    let multi_status = mode == Mode::Create && trace_ids.iter().all(Option::is_some);

    // Validate every input before writing any (the batch is one unit).
    let mut failures: Vec<(usize, Reply)> = Vec::new();
    let mut plan: Vec<(usize, Option<usize>, Map<String, Value>)> = Vec::new();
    for (i, input) in inputs.iter().enumerate() {
        let mut props = props_of(input);
        let (id, prop) = &keyed[i];
        let existing = match mode {
            Mode::Create => None,
            _ => find(world, o, id.as_deref().unwrap_or(""), prop.as_deref()),
        };
        if mode == Mode::Update && existing.is_none() {
            failures.push((i, not_found(world, id.as_deref().unwrap_or(""))));
            continue;
        }
        let problems = schema::validate(o, &props, existing.is_none());
        if !problems.is_empty() {
            failures.push((i, validation_error(world, &problems)));
            continue;
        }
        if existing.is_none() {
            if let (Some(id), Some(p)) = (id, prop)
                && p != "hs_object_id"
            {
                props.insert(p.clone(), Value::String(id.clone()));
            }
            if let Some(existing_id) = conflict(world, o, &props) {
                failures.push((i, conflict_reply(world, o, &existing_id)));
                continue;
            }
        }
        if let Some(r) = workflow_reject(world, o, &props, existing.is_none()) {
            failures.push((i, r));
            continue;
        }
        plan.push((i, existing, props));
    }
    if !failures.is_empty() && !multi_status {
        // One bad input fails the whole batch; the first problem is reported.
        let (_, first) = failures.swap_remove(0);
        return first;
    }
    let mut results = Vec::with_capacity(plan.len());
    for (_, existing, props) in plan {
        let (pos, new) = match existing {
            Some(pos) => {
                world.update(o, pos, props);
                (pos, false)
            }
            None => (world.create(o, props), true),
        };
        results.push(result_json(
            world,
            o,
            pos,
            (mode == Mode::Upsert).then_some(new),
        ));
    }
    let mut body = json!({"status": "COMPLETE", "results": results, "startedAt": started, "completedAt": iso(now_ms())});
    if failures.is_empty() {
        return Reply::json(if mode == Mode::Create { 201 } else { 200 }, body);
    }
    let errors: Vec<Value> = failures
        .into_iter()
        .map(|(i, r)| {
            let mut e = r.body;
            e["context"] =
                json!({"objectWriteTraceId": [trace_ids[i].clone().unwrap_or_default()]});
            e
        })
        .collect();
    body["numErrors"] = json!(errors.len());
    body["errors"] = Value::Array(errors);
    Reply::json(207, body)
}

/// `GET /oauth/v1/access-tokens/{token}`: what a token may do.
pub fn token_info(world: &mut World, token: &str) -> Reply {
    if world.tokens.contains_key(token) {
        let all = [
            "crm.objects.contacts.read",
            "crm.objects.contacts.write",
            "crm.objects.companies.read",
            "crm.objects.companies.write",
            "crm.objects.deals.read",
            "crm.objects.deals.write",
            "crm.schemas.contacts.read",
            "oauth",
        ];
        let scopes: Vec<String> = world
            .scenario
            .scopes
            .clone()
            .unwrap_or_else(|| all.iter().map(|s| (*s).to_owned()).collect());
        Reply::json(
            200,
            json!({
                "token": token, "user": "sandbox@example.com", "hub_domain": "sandbox.example.com", "hub_id": 1_234_567,
                "app_id": 42, "expires_in": 1800, "user_id": 1, "token_type": "access",
                "scopes": scopes
            }),
        )
    } else {
        error(
            world,
            404,
            "OBJECT_NOT_FOUND",
            "The token could not be found",
            Vec::new(),
        )
    }
}
