//! Salesforce REST on the wire: describe, sObject upsert by external id,
//! sObject Collections, records by id.

use crate::schema::{self, Object, Problem, Vendor};
use crate::world::{Reply, World};
use serde_json::{Map, Value, json};

pub const COLLECTION_LIMIT: usize = 200;

pub fn errors(status: u16, list: Vec<Value>) -> Reply {
    Reply::json(status, Value::Array(list))
}

pub fn error(status: u16, code: &str, message: &str, fields: &[String]) -> Reply {
    errors(
        status,
        vec![json!({"message": message, "errorCode": code, "fields": fields})],
    )
}

pub fn not_found() -> Reply {
    error(
        404,
        "NOT_FOUND",
        "The requested resource does not exist",
        &[],
    )
}

fn parse_body(body: &[u8]) -> Result<Value, Reply> {
    serde_json::from_slice(body).map_err(|e| {
        error(
            400,
            "JSON_PARSER_ERROR",
            &format!(
                "Unexpected character at [line:{}, column:{}]: {e}",
                e.line(),
                e.column()
            ),
            &[],
        )
    })
}

fn problem_fields(p: &Problem) -> Vec<String> {
    p.field
        .split(',')
        .filter(|s| !s.is_empty())
        .map(str::to_owned)
        .collect()
}

/// What a write fails on, as a Salesforce error object (`errorCode` for REST
/// errors, `statusCode` inside SaveResults).
enum Failure {
    Problem(Problem),
    Duplicate {
        rule: String,
        existing: String,
        object: String,
    },
    Validation {
        field: String,
        message: String,
    },
    DuplicateValue {
        field: String,
        existing: String,
    },
    MultipleMatches,
}

fn failure_json(f: &Failure, key: &str) -> Value {
    match f {
        Failure::Problem(p) => {
            json!({key: p.code, "message": p.message, "fields": problem_fields(p)})
        }
        Failure::Validation { field, message } => {
            json!({key: "FIELD_CUSTOM_VALIDATION_EXCEPTION", "message": message, "fields": [field]})
        }
        Failure::DuplicateValue { field, existing } => {
            json!({key: "DUPLICATE_VALUE", "message": format!("duplicate value found: {field} duplicates value on record with id: {existing}"), "fields": []})
        }
        Failure::MultipleMatches => {
            json!({key: "MULTIPLE_RECORDS_FOUND", "message": "The external ID provided matches more than one record", "fields": []})
        }
        Failure::Duplicate {
            rule,
            existing,
            object,
        } => json!({
            key: "DUPLICATES_DETECTED", "message": "Use one of these records?", "fields": [],
            "duplicateResult": {
                "allowSave": false, "duplicateRule": rule, "duplicateRuleEntityType": object,
                "errorMessage": "Use one of these records?",
                "matchResults": [{
                    "entityType": object, "errors": [], "matchEngine": "FuzzyMatchEngine",
                    "matchRecords": [{"additionalInformation": [], "fieldDiffs": [], "matchConfidence": 100.0,
                        "record": {"attributes": {"type": object, "url": format!("/services/data/v62.0/sobjects/{object}/{existing}")}, "Id": existing}}],
                    "rule": format!("{rule}_Match"), "size": 1, "success": true
                }]
            }
        }),
    }
}

/// Checks one record write; on success returns the existing record's position (for an update).
fn check(
    world: &mut World,
    o: &Object,
    props: &Map<String, Value>,
    existing: Option<usize>,
) -> Result<(), Failure> {
    let create = existing.is_none();
    if let Some(p) = schema::validate(o, props, create).into_iter().next() {
        return Err(Failure::Problem(p));
    }
    for fd in o.fields.iter().filter(|f| f.unique) {
        if let Some((_, v)) = props.iter().find(|(k, _)| k.eq_ignore_ascii_case(&fd.name))
            && !schema::blank(v)
        {
            let store = world.store(&o.name);
            let hits = store.find_by(&fd.name, v);
            if let Some(&other) = hits.iter().find(|&&h| Some(h) != existing) {
                return Err(Failure::DuplicateValue {
                    field: fd.name.clone(),
                    existing: store.at(other).id.clone(),
                });
            }
        }
    }
    if let Some((field, message)) = world.validation_rule(o, props, create) {
        return Err(Failure::Validation { field, message });
    }
    if create && let Some((rule, existing)) = world.duplicate_rule(o, props) {
        return Err(Failure::Duplicate {
            rule,
            existing,
            object: o.name.clone(),
        });
    }
    Ok(())
}

pub fn describe(world: &World, object: &str) -> Reply {
    match world.object(Vendor::Salesforce, object) {
        Some(o) => Reply::json(200, schema::salesforce_describe(o)),
        None => not_found(),
    }
}

pub fn get_by_id(world: &World, object: &str, id: &str) -> Reply {
    let Some(o) = world.object(Vendor::Salesforce, object) else {
        return not_found();
    };
    match world.stores.get(&o.name).and_then(|s| s.get(id)) {
        Some(rec) => Reply::json(200, world.record_json(o, rec)),
        None => not_found(),
    }
}

pub fn get_by_external(world: &mut World, object: &str, field: &str, value: &str) -> Reply {
    let Some(o) = world.object(Vendor::Salesforce, object).cloned() else {
        return not_found();
    };
    let hits = world
        .store(&o.name)
        .find_by(field, &Value::String(value.to_owned()));
    match hits.as_slice() {
        [pos] => {
            let rec = world.store(&o.name).at(*pos).clone();
            Reply::json(200, world.record_json(&o, &rec))
        }
        [] => not_found(),
        _ => Reply::json(
            300,
            json!(
                hits.iter()
                    .map(|&p| format!(
                        "/services/data/v62.0/sobjects/{}/{}",
                        o.name,
                        world.stores[&o.name].at(p).id
                    ))
                    .collect::<Vec<_>>()
            ),
        ),
    }
}

pub fn create(world: &mut World, object: &str, body: &[u8]) -> Reply {
    let Some(o) = world.object(Vendor::Salesforce, object).cloned() else {
        return not_found();
    };
    let props = match parse_body(body) {
        Ok(Value::Object(m)) => m,
        Ok(_) => return error(400, "JSON_PARSER_ERROR", "Expected a JSON object", &[]),
        Err(r) => return r,
    };
    match check(world, &o, &props, None) {
        Ok(()) => {
            let pos = world.create(&o, props);
            let id = world.store(&o.name).at(pos).id.clone();
            Reply::json(201, json!({"id": id, "success": true, "errors": []}))
        }
        Err(f) => errors(400, vec![failure_json(&f, "errorCode")]),
    }
}

pub fn update_by_id(world: &mut World, object: &str, id: &str, body: &[u8]) -> Reply {
    let Some(o) = world.object(Vendor::Salesforce, object).cloned() else {
        return not_found();
    };
    let props = match parse_body(body) {
        Ok(Value::Object(m)) => m,
        Ok(_) => return error(400, "JSON_PARSER_ERROR", "Expected a JSON object", &[]),
        Err(r) => return r,
    };
    let Some(pos) = world.store(&o.name).position(id) else {
        return error(404, "ENTITY_IS_DELETED", "entity is deleted", &[]);
    };
    match check(world, &o, &props, Some(pos)) {
        Ok(()) => {
            world.update(&o, pos, props);
            Reply::json(204, Value::Null)
        }
        Err(f) => errors(400, vec![failure_json(&f, "errorCode")]),
    }
}

/// `PATCH .../sobjects/{S}/{extField}/{value}`: upsert one record.
pub fn upsert_one(world: &mut World, object: &str, field: &str, value: &str, body: &[u8]) -> Reply {
    let Some(o) = world.object(Vendor::Salesforce, object).cloned() else {
        return not_found();
    };
    if !o
        .field_ci(field)
        .is_some_and(|f| f.external_id || f.name == "Id")
    {
        return error(
            400,
            "INVALID_FIELD",
            &format!("Provided external ID field does not exist or is not accessible: {field}"),
            &[],
        );
    }
    let mut props = match parse_body(body) {
        Ok(Value::Object(m)) => m,
        Ok(_) => return error(400, "JSON_PARSER_ERROR", "Expected a JSON object", &[]),
        Err(r) => return r,
    };
    match upsert_record(world, &o, field, value, &mut props) {
        Ok((id, created)) => Reply::json(
            if created { 201 } else { 200 },
            json!({"id": id, "success": true, "errors": [], "created": created}),
        ),
        Err(Failure::MultipleMatches) => Reply::json(
            300,
            json!(["The external ID provided matches more than one record"]),
        ),
        Err(f) => errors(400, vec![failure_json(&f, "errorCode")]),
    }
}

fn upsert_record(
    world: &mut World,
    o: &Object,
    field: &str,
    value: &str,
    props: &mut Map<String, Value>,
) -> Result<(String, bool), Failure> {
    let hits = world
        .store(&o.name)
        .find_by(field, &Value::String(value.to_owned()));
    if hits.len() > 1 {
        return Err(Failure::MultipleMatches);
    }
    let existing = hits.first().copied();
    props.remove("attributes");
    let canonical = o
        .field_ci(field)
        .map_or_else(|| field.to_owned(), |f| f.name.clone());
    props.retain(|k, _| !k.eq_ignore_ascii_case(&canonical));
    if existing.is_none() {
        props.insert(canonical, Value::String(value.to_owned()));
    }
    check(world, o, props, existing)?;
    Ok(match existing {
        Some(pos) => {
            world.update(o, pos, props.clone());
            (world.store(&o.name).at(pos).id.clone(), false)
        }
        None => {
            let pos = world.create(o, props.clone());
            (world.store(&o.name).at(pos).id.clone(), true)
        }
    })
}

/// `POST .../composite/sobjects` (create) and `PATCH .../composite/sobjects/{S}/{extField}` (upsert).
pub fn collections(world: &mut World, upsert: Option<(&str, &str)>, body: &[u8]) -> Reply {
    let v = match parse_body(body) {
        Ok(v) => v,
        Err(r) => return r,
    };
    let all_or_none = v.get("allOrNone").and_then(Value::as_bool).unwrap_or(false);
    let Some(records) = v.get("records").and_then(Value::as_array).cloned() else {
        return error(
            400,
            "INVALID_FIELD",
            "The \"records\" list is required",
            &[],
        );
    };
    if records.len() > COLLECTION_LIMIT {
        return error(
            400,
            "EXCEEDED_ID_LIMIT",
            &format!(
                "record limit reached. cannot submit more than {COLLECTION_LIMIT} records into this call"
            ),
            &[],
        );
    }
    let object_of = |rec: &Value| -> Option<String> {
        upsert.map(|(s, _)| s.to_owned()).or_else(|| {
            rec.get("attributes")
                .and_then(|a| a.get("type"))
                .and_then(Value::as_str)
                .map(str::to_owned)
        })
    };
    if let Some((object, field)) = upsert {
        match world.object(Vendor::Salesforce, object) {
            None => return not_found(),
            Some(o) if !o.field_ci(field).is_some_and(|f| f.external_id) => {
                return error(
                    400,
                    "INVALID_FIELD",
                    &format!(
                        "Provided external ID field does not exist or is not accessible: {field}"
                    ),
                    &[],
                );
            }
            Some(_) => {}
        }
    }

    // allOrNone: check everything first and write nothing if anything fails.
    if all_or_none {
        let mut failures: Vec<Option<Failure>> = Vec::with_capacity(records.len());
        for rec in &records {
            failures.push(dry_check(world, upsert, object_of(rec).as_deref(), rec));
        }
        if failures.iter().any(Option::is_some) {
            let results: Vec<Value> = failures
                .into_iter()
                .map(|f| match f {
                    Some(f) => json!({"success": false, "errors": [failure_json(&f, "statusCode")]}),
                    None => json!({"success": false, "errors": [{"statusCode": "ALL_OR_NONE_OPERATION_ROLLED_BACK", "message": "Record rolled back because not all records were valid and the request was using AllOrNone header", "fields": []}]}),
                })
                .collect();
            return Reply::json(200, Value::Array(results));
        }
    }

    let mut results = Vec::with_capacity(records.len());
    for rec in &records {
        let Some(object) = object_of(rec) else {
            results.push(json!({"success": false, "errors": [{"statusCode": "INVALID_TYPE", "message": "Must send a concrete entity type.", "fields": []}]}));
            continue;
        };
        let Some(o) = world.object(Vendor::Salesforce, &object).cloned() else {
            results.push(json!({"success": false, "errors": [{"statusCode": "INVALID_TYPE", "message": format!("sObject type '{object}' is not supported."), "fields": []}]}));
            continue;
        };
        let mut props = rec.as_object().cloned().unwrap_or_default();
        let outcome = match upsert {
            Some((_, field)) => {
                let value = props
                    .iter()
                    .find(|(k, _)| k.eq_ignore_ascii_case(field))
                    .map(|(_, v)| v.as_str().map_or_else(|| v.to_string(), str::to_owned));
                match value {
                    Some(value) => upsert_record(world, &o, field, &value, &mut props),
                    None => Err(Failure::Problem(Problem {
                        code: "MISSING_ARGUMENT",
                        message: format!("{field} not specified"),
                        field: field.to_owned(),
                    })),
                }
            }
            None => {
                props.remove("attributes");
                check(world, &o, &props, None).map(|()| {
                    let pos = world.create(&o, props.clone());
                    (world.store(&o.name).at(pos).id.clone(), true)
                })
            }
        };
        results.push(match outcome {
            Ok((id, created)) => {
                json!({"id": id, "success": true, "errors": [], "created": created})
            }
            Err(f) => json!({"success": false, "errors": [failure_json(&f, "statusCode")]}),
        });
    }
    Reply::json(200, Value::Array(results))
}

fn dry_check(
    world: &mut World,
    upsert: Option<(&str, &str)>,
    object: Option<&str>,
    rec: &Value,
) -> Option<Failure> {
    let o = world.object(Vendor::Salesforce, object?)?.clone();
    let mut props = rec.as_object().cloned().unwrap_or_default();
    props.remove("attributes");
    let existing = match upsert {
        Some((_, field)) => {
            let value = props
                .iter()
                .find(|(k, _)| k.eq_ignore_ascii_case(field))
                .map(|(_, v)| v.clone())?;
            let hits = world.store(&o.name).find_by(field, &value);
            if hits.len() > 1 {
                return Some(Failure::MultipleMatches);
            }
            hits.first().copied()
        }
        None => None,
    };
    check(world, &o, &props, existing).err()
}
