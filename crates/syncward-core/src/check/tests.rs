//! check against the bundled fixtures (examples/check/): a real-format
//! Salesforce describe, a mapping and form rows with known defects.

use super::mapping::Mapping;
use super::schema::{DriftKind, Schema, diff};
use super::*;

fn fixture(name: &str) -> String {
    let path = format!("{}/../../examples/check/{name}", env!("CARGO_MANIFEST_DIR"));
    std::fs::read_to_string(&path).unwrap_or_else(|e| panic!("{path}: {e}"))
}

fn rows() -> (Vec<String>, Vec<Vec<String>>) {
    let text = fixture("web-form-leads.csv");
    let mut lines = text.lines();
    let header: Vec<String> = split_csv(lines.next().expect("header"));
    (header, lines.map(split_csv).collect())
}

/// A tiny CSV splitter for the fixture (quoted cells without embedded quotes).
fn split_csv(line: &str) -> Vec<String> {
    let mut out = Vec::new();
    let mut cur = String::new();
    let mut quoted = false;
    for c in line.chars() {
        match c {
            '"' => quoted = !quoted,
            ',' if !quoted => out.push(std::mem::take(&mut cur)),
            _ => cur.push(c),
        }
    }
    out.push(cur);
    out
}

fn run() -> (Vec<Finding>, Vec<RowOutcome>) {
    let mapping =
        Mapping::parse("lead-mapping.toml", &fixture("lead-mapping.toml")).expect("mapping");
    let schema =
        Schema::parse("lead-describe.json", &fixture("lead-describe.json"), None).expect("schema");
    let (header, rows) = rows();
    let mut c = Checker::new(&mapping, &schema, &header, &SetupInput::default());
    c.keep_fixed(true);
    let setup = c.setup_findings().to_vec();
    let outcomes = rows
        .iter()
        .enumerate()
        .map(|(i, r)| {
            c.check_row(
                i as u64 + 1,
                &r.iter().map(String::as_str).collect::<Vec<_>>(),
            )
        })
        .collect();
    (setup, outcomes)
}

fn kinds(o: &RowOutcome) -> Vec<&'static str> {
    o.findings.iter().map(|f| f.kind).collect()
}

#[test]
fn salesforce_required_on_create_is_createable_not_nillable_not_defaulted() {
    let schema = Schema::parse("d", &fixture("lead-describe.json"), None).expect("schema");
    let required: Vec<&str> = schema
        .fields
        .iter()
        .filter(|f| f.required)
        .map(|f| f.name.as_str())
        .collect();
    assert_eq!(required, ["LastName", "Company"]);
    assert!(schema.field("LeadScore__c").is_some_and(|f| f.read_only));
    assert!(
        schema.field("external_id__c").is_some_and(|f| f.unique),
        "Salesforce names are case-insensitive"
    );
}

#[test]
fn the_clean_row_is_clean_and_normalised() {
    let (setup, out) = run();
    assert!(setup.is_empty(), "{setup:?}");
    let ana = &out[0];
    assert!(ana.findings.is_empty(), "{:?}", ana.findings);
    let values: Vec<Option<&str>> = ana.values.iter().map(Option::as_deref).collect();
    assert_eq!(values[4], Some("+14155550100"));
    assert_eq!(values[7], Some("US"));
    assert_eq!(values[8], Some("Web"), "mapped through the picklist map");
    assert_eq!(values[9], Some("1200"));
    assert_eq!(values[10], Some("1990-03-04"));
}

#[test]
fn record_level_defects_are_found_per_row() {
    let (_, out) = run();
    assert_eq!(kinds(&out[1]), ["state_not_code"]);
    assert!(
        out[1].findings[0]
            .fix
            .as_deref()
            .is_some_and(|f| f.starts_with("NY"))
    );
    let mut omar = kinds(&out[2]);
    omar.sort_unstable();
    assert_eq!(
        omar,
        [
            "bad_date",
            "bad_email",
            "bad_phone",
            "picklist_invalid",
            "required_missing",
            "type_mismatch"
        ]
    );
    let jane = kinds(&out[3]);
    assert_eq!(jane, ["required_missing", "picklist_invalid"]);
    assert_eq!(
        out[3].findings[1].severity,
        Severity::Warning,
        "'webinar' is sent as 'Webinar'"
    );
    assert!(!out[3].findings.is_empty() && out[3].has_error);
    let sam = kinds(&out[4]);
    assert_eq!(sam, ["duplicate_key", "state_not_code"]);
    assert!(out[4].findings[0].message.contains("row 1"));
    assert_eq!(kinds(&out[5]), ["too_long"]);
    assert_eq!(out[5].findings[0].row, Some(6));
    assert_eq!(out[5].findings[0].record.as_deref(), Some("kim@globex.com"));
}

#[test]
fn fix_applies_safe_normalisations_only() {
    let (_, out) = run();
    // Row 2: "New York" becomes NY in the fixed file; the phone gets E.164.
    assert!(
        out[1]
            .changes
            .iter()
            .any(|(c, f, t)| c == "State" && f == "New York" && t == "NY")
    );
    // Row 3: a bad email is not invented.
    assert!(out[2].changes.iter().all(|(c, _, _)| c != "Email"));
    // Row 6: the trimmed email.
    assert!(
        out[5]
            .changes
            .iter()
            .any(|(c, _, t)| c == "Email" && t == "kim@globex.com")
    );
}

#[test]
fn setup_findings_mapping_against_schema() {
    let schema = Schema::parse("d", &fixture("lead-describe.json"), None).expect("schema");
    let text = r#"
crm = "salesforce"
object = "Lead"
batch_size = 500
[key]
source = "Email"
crm = "Email"
[fields]
"Last name" = "LastName"
"Score" = "LeadScore__c"
"Region" = "Region__c"
"Missing column" = "City"
"#;
    let mapping = Mapping::parse("m.toml", text).expect("mapping");
    let header: Vec<String> = ["Email", "Last name", "Score", "Region"]
        .iter()
        .map(|s| s.to_string())
        .collect();
    let scopes = vec!["crm.objects.contacts.read".to_owned()];
    let c = Checker::new(
        &mapping,
        &schema,
        &header,
        &SetupInput {
            scopes: Some(&scopes),
            baseline: None,
            batch_size: None,
        },
    );
    let mut k: Vec<&str> = c.setup_findings().iter().map(|f| f.kind).collect();
    k.sort_unstable();
    k.dedup();
    assert_eq!(
        k,
        [
            "batch_too_large",
            "key_not_unique",
            "read_only_field",
            "scope_missing",
            "unknown_field",
            "unmapped_required"
        ]
    );
}

#[test]
fn drift_against_last_months_describe() {
    let old = Schema::parse("old", &fixture("lead-describe-last-month.json"), None).expect("old");
    let new = Schema::parse("new", &fixture("lead-describe.json"), None).expect("new");
    let d = diff(&old, &new);
    let has = |k: DriftKind, f: &str| d.iter().any(|x| x.change == k && x.field == f);
    assert!(has(DriftKind::BecameRequired, "Company"));
    assert!(has(DriftKind::OptionRemoved, "LeadSource"));
    assert!(has(DriftKind::LengthShrunk, "City"));
    assert!(has(DriftKind::FieldAdded, "Birthdate__c"));
    assert!(d.iter().filter(|x| x.breaking).count() >= 3);
    assert!(diff(&new, &new).is_empty());
}

#[test]
fn hubspot_properties_response() {
    let text = r#"{"results":[
        {"name":"email","label":"Email","type":"string","fieldType":"text","options":[],"hasUniqueValue":false,"modificationMetadata":{"readOnlyValue":false}},
        {"name":"lifecyclestage","label":"Lifecycle Stage","type":"enumeration","fieldType":"radio","options":[{"label":"Lead","value":"lead","hidden":false},{"label":"Customer","value":"customer","hidden":false}],"hasUniqueValue":false,"modificationMetadata":{"readOnlyValue":false}},
        {"name":"createdate","label":"Create Date","type":"datetime","fieldType":"date","options":[],"modificationMetadata":{"readOnlyValue":true}}
    ]}"#;
    let s = Schema::parse("props.json", text, Some("contacts")).expect("hubspot");
    assert_eq!(s.crm, schema::SchemaCrm::Hubspot);
    assert!(
        s.field("email")
            .is_some_and(|f| f.unique && f.kind == schema::FieldType::Email)
    );
    assert!(s.field("createdate").is_some_and(|f| f.read_only));
    let lc = s.field("lifecyclestage").expect("field");
    let n = normalize::normalise("Lead", &mapping::FieldSpec::default(), Some(lc))
        .expect("loose match");
    assert_eq!(n.value.as_deref(), Some("lead"));
    assert!(n.warning.is_some());
    let e = normalize::normalise("Prospect", &mapping::FieldSpec::default(), Some(lc))
        .err()
        .expect("invalid");
    assert_eq!(e.kind, "picklist_invalid");
    assert!(Schema::parse("x", "{\"foo\": 1}", None).is_err());
}
