//! One test per row of the seed's tables (failure patterns, rule set,
//! rule of thumb, scenarios, checklist): events in, the pattern, stop rules
//! and decision out.

use super::*;
use crate::event::{Changed, Event, Op, Origin, Status, parse_ts};
use std::borrow::Cow;
use std::sync::{Arc, OnceLock};

fn engine() -> &'static Classifier {
    static C: OnceLock<Classifier> = OnceLock::new();
    C.get_or_init(|| Classifier::builtin().expect("built-in rules load"))
}

/// An event from `key=value|key=value` (keys: ts run batch size attempt crm
/// obj op rec id st http code msg f by field from to retry).
fn e(spec: &str, line: u64) -> Event<'static> {
    let mut ev = Event::new(
        Status::Ok,
        Origin {
            file: Arc::from("t.log"),
            line,
        },
    );
    let mut changed = Changed::default();
    for part in spec.split('|') {
        let (k, v) = part.split_once('=').expect("key=value");
        let own = || Some(Cow::Owned(v.to_owned()));
        match k {
            "ts" => ev.ts = parse_ts(v),
            "run" => ev.run = own(),
            "batch" => ev.batch = own(),
            "size" => ev.batch_size = v.parse().ok(),
            "attempt" => ev.attempt = v.parse().ok(),
            "crm" => ev.crm = Crm::parse_loose(v),
            "obj" => ev.object = own(),
            "op" => ev.op = Op::parse_loose(v),
            "rec" => ev.record = own(),
            "id" => ev.crm_id = own(),
            "st" => ev.status = Status::parse_loose(v).expect("status"),
            "http" => ev.http_status = v.parse().ok(),
            "code" => ev.code = own(),
            "msg" => ev.message = own(),
            "f" => ev.fields.push(Cow::Owned(v.to_owned())),
            "retry" => ev.retry_after = v.parse().ok(),
            "field" => changed.field = own(),
            "by" => changed.by = own(),
            "from" => changed.from = own(),
            "to" => changed.to = own(),
            other => panic!("unknown key {other}"),
        }
    }
    if changed.field.is_some() || changed.by.is_some() {
        ev.changed = Some(changed);
    }
    ev
}

fn diagnose_with(specs: &[String], ctx: &Context) -> Diagnosis {
    let mut a = Analyzer::new(engine(), ctx);
    for (i, s) in specs.iter().enumerate() {
        a.push(&e(s, i as u64 + 1));
    }
    a.finish(ctx)
}

fn diagnose(specs: &[String]) -> Diagnosis {
    diagnose_with(specs, &Context::default())
}

fn tripped(d: &Diagnosis) -> Vec<&'static str> {
    d.stop_rules
        .iter()
        .filter(|r| r.tripped)
        .map(|r| r.id.as_str())
        .collect()
}

fn evidence<'d>(d: &'d Diagnosis, rule: &str) -> Vec<&'d str> {
    d.stop_rules
        .iter()
        .filter(|r| r.id.as_str() == rule)
        .flat_map(|r| r.evidence.iter().map(String::as_str))
        .collect()
}

fn ok(rec: &str, obj: &str) -> String {
    format!("run=r1|obj={obj}|op=upsert|rec={rec}|st=ok|http=200")
}

// ---- Table 1: failure pattern -> what it points to -> first move -> stop rule

#[test]
fn every_object_fails_at_once_points_to_auth_and_reconnect() {
    let specs: Vec<String> = ["Lead", "Contact", "Account"]
        .iter()
        .enumerate()
        .map(|(i, o)| format!("run=r1|crm=salesforce|obj={o}|op=upsert|rec=k{i}|st=failed|http=401|code=INVALID_SESSION_ID|msg=Session expired or invalid"))
        .collect();
    let d = diagnose(&specs);
    assert_eq!(d.primary_layer, Some(Layer::Auth));
    assert_eq!(d.pattern, Pattern::AllObjectsFail);
    assert_eq!(d.blast_radius.scope, Scope::AllObjects);
    assert_eq!(d.decision.action, Action::Reconnect);
    assert!(tripped(&d).contains(&"three_identical_failures"));
}

#[test]
fn reconnect_failed_once_stops_and_escalates() {
    let specs = vec![
        "run=r1|obj=contacts|op=upsert|rec=a|st=failed|http=401|msg=The OAuth token used to make this call expired 7 second(s) ago.|code=EXPIRED_AUTHENTICATION".to_owned(),
        "run=r1|op=reconnect|st=failed|http=400|code=invalid_grant|msg=expired access/refresh token".to_owned(),
    ];
    let d = diagnose(&specs);
    assert_eq!(d.primary_layer, Some(Layer::Auth));
    assert!(tripped(&d).contains(&"reconnect_failed_once"));
    assert_eq!(d.decision.action, Action::Escalate);
    assert!(d.decision.evidence.iter().any(|e| e == "t.log:2"));
    assert!(
        d.decision
            .forbidden
            .iter()
            .any(|f| f.contains("no second reconnect"))
    );
}

#[test]
fn a_fresh_login_that_fails_after_the_token_was_refused_is_a_failed_reconnect() {
    // Zoho's password or code grant, not a refresh: still the reconnect.
    let specs = vec![
        "run=r1|crm=zoho|obj=Leads|op=upsert|rec=a|st=failed|http=401|code=INVALID_TOKEN|msg=invalid oauth token".to_owned(),
        "run=r1|crm=zoho|op=auth|st=failed|http=200|code=invalid_code|msg=invalid_code".to_owned(),
    ];
    let d = diagnose(&specs);
    assert_eq!(d.primary_layer, Some(Layer::Auth));
    assert!(tripped(&d).contains(&"reconnect_failed_once"));
    assert_eq!(evidence(&d, "reconnect_failed_once"), ["t.log:2"]);
    assert_eq!(d.decision.action, Action::Escalate);
    // A first login that fails, with no refusal before it, is not a reconnect.
    let d = diagnose(&specs[1..]);
    assert!(!tripped(&d).contains(&"reconnect_failed_once"));
}

#[test]
fn one_field_across_records_points_to_mapping_and_pauses_the_batch() {
    let mut specs: Vec<String> = (0..3)
        .map(|i| format!("run=r1|crm=salesforce|obj=Lead|op=upsert|rec=l{i}|st=failed|http=400|code=REQUIRED_FIELD_MISSING|msg=Required fields are missing: [Company]|f=Company"))
        .collect();
    specs.push(ok("l9", "Lead"));
    let d = diagnose(&specs);
    assert_eq!(d.primary_layer, Some(Layer::Mapping));
    assert_eq!(d.pattern, Pattern::FieldAcrossRecords);
    assert_eq!(d.blast_radius.scope, Scope::SingleField);
    assert!(tripped(&d).contains(&"same_field_two_records"));
    assert_eq!(d.decision.action, Action::Remap);
    assert_eq!(d.groups.len(), 1);
    assert_eq!(d.groups[0].count, 3);
}

#[test]
fn sync_starts_then_times_out_points_to_transport_and_smaller_batches() {
    let mut specs: Vec<String> = (0..4)
        .map(|i| format!("run=r1|batch=1|size=200|obj=contacts|op=upsert|rec=c{i}|st=ok"))
        .collect();
    specs.extend((0..3).map(|i| format!("run=r1|batch=2|size=200|obj=contacts|op=upsert|rec=d{i}|st=failed|http=429|retry=10|msg=You have reached your ten_secondly_rolling limit.|code=RATE_LIMITS")));
    let d = diagnose(&specs);
    assert_eq!(d.primary_layer, Some(Layer::Transport));
    assert_eq!(d.pattern, Pattern::StartsThenTimesOut);
    assert_eq!(d.decision.action, Action::ReduceBatch);
    assert_eq!(d.decision.batch_size, Some(100));
    assert_eq!(d.decision.delay_seconds, Some(10));
}

#[test]
fn a_used_up_daily_quota_stops_rather_than_shrinking_batches() {
    let mut specs: Vec<String> = (0..3).map(|i| ok(&format!("c{i}"), "contacts")).collect();
    specs.extend((3..6).map(|i| format!("run=r1|crm=hubspot|obj=contacts|op=create|rec=c{i}|st=failed|http=429|code=RATE_LIMITS|msg=You have reached your daily limit. [RATE_LIMITS] [policyName: DAILY]")));
    let d = diagnose(&specs);
    assert_eq!(d.primary_layer, Some(Layer::Transport));
    assert_eq!(d.decision.action, Action::InspectTransport);
    assert!(d.decision.reason.contains("daily"));
    assert_eq!(d.decision.batch_size, None);
    // The ten-second limit is another failure, and smaller batches help.
    let mut specs: Vec<String> = (0..3).map(|i| ok(&format!("c{i}"), "contacts")).collect();
    specs.extend((3..6).map(|i| format!("run=r1|crm=hubspot|obj=contacts|op=create|rec=c{i}|st=failed|http=429|code=RATE_LIMITS|msg=You have reached your ten_secondly_rolling limit. [RATE_LIMITS] [policyName: TEN_SECONDLY_ROLLING]")));
    let d = diagnose(&specs);
    assert_eq!(d.decision.action, Action::ReduceBatch);
}

#[test]
fn a_smaller_batch_failing_too_stops_and_inspects_transport() {
    let specs = vec![
        "run=r1|batch=1|size=200|rec=a|st=ok".to_owned(),
        "run=r1|batch=2|size=200|rec=b|st=failed|msg=connect ETIMEDOUT 13.110.2.1:443".to_owned(),
        "run=r2|batch=1|size=50|rec=b|st=failed|msg=connect ETIMEDOUT 13.110.2.1:443".to_owned(),
    ];
    let d = diagnose(&specs);
    assert!(tripped(&d).contains(&"smaller_batch_failed"));
    assert_eq!(d.decision.action, Action::InspectTransport);
    assert_eq!(d.decision.evidence, vec!["t.log:2", "t.log:3"]);
}

#[test]
fn records_land_then_change_points_to_workflow_and_freezing() {
    let specs = vec![
        "run=t|obj=Lead|op=upsert|rec=a|id=1|st=ok".to_owned(),
        "run=t|obj=Lead|op=readback|rec=a|id=1|st=ok|field=OwnerId|from=005A|to=005B|by=Round Robin".to_owned(),
        "run=t|obj=Lead|op=upsert|rec=b|id=2|st=ok".to_owned(),
        "run=t|obj=Lead|op=readback|rec=b|id=2|st=ok".to_owned(),
    ];
    let d = diagnose(&specs);
    assert_eq!(d.primary_layer, Some(Layer::Workflow));
    assert_eq!(d.pattern, Pattern::LandsThenChanges);
    assert_eq!(d.events.changed_after_write, 1);
    assert!(
        !tripped(&d).contains(&"rule_rewrites_every_test_record"),
        "one of two test records kept its owner"
    );
    assert_eq!(d.decision.action, Action::FreezeAutomations);
}

#[test]
fn the_same_rule_rewriting_every_test_record_switches_to_fallback() {
    let specs = vec![
        "run=t|obj=Lead|op=test|rec=a|id=1|st=ok".to_owned(),
        "run=t|obj=Lead|op=readback|rec=a|id=1|st=ok|field=Status|from=New|to=Working|by=Lead Status Rule".to_owned(),
        "run=t|obj=Lead|op=test|rec=b|id=2|st=ok".to_owned(),
        "run=t|obj=Lead|op=readback|rec=b|id=2|st=ok|field=Status|from=New|to=Working|by=Lead Status Rule".to_owned(),
    ];
    let d = diagnose(&specs);
    assert!(tripped(&d).contains(&"rule_rewrites_every_test_record"));
    assert_eq!(d.decision.action, Action::ManualFallback);
}

#[test]
fn duplicates_rising_after_reruns_point_to_dedupe_and_keys() {
    let mut specs: Vec<String> = (0..3)
        .map(|i| {
            format!(
                "run=import-1|obj=contacts|op=create|rec=row-{}|id={}|st=ok",
                i + 2,
                900 + i
            )
        })
        .collect();
    specs.extend((0..3).map(|i| format!("run=import-2|obj=contacts|op=create|rec=row-{}|st=failed|http=409|code=CONFLICT|msg=Contact already exists. Existing ID: {}", i + 2, 900 + i)));
    let d = diagnose(&specs);
    assert_eq!(d.primary_layer, Some(Layer::Dedupe));
    assert_eq!(d.pattern, Pattern::DuplicatesAfterReruns);
    assert_eq!(d.decision.action, Action::ReconcileKeys);
    assert_eq!(d.blast_radius.reruns, 3);
}

#[test]
fn a_shifting_id_source_forbids_a_full_rerun() {
    let specs = vec![
        "run=import-1|obj=contacts|op=create|rec=row-2|id=900|st=ok".to_owned(),
        "run=import-2|obj=contacts|op=upsert|rec=row-3|id=900|st=ok".to_owned(),
        "run=import-2|obj=contacts|op=create|rec=row-4|st=failed|http=409|code=CONFLICT|msg=Contact already exists. Existing ID: 901".to_owned(),
    ];
    let d = diagnose(&specs);
    assert!(tripped(&d).contains(&"id_source_shifted"));
    assert_eq!(evidence(&d, "id_source_shifted"), ["t.log:1", "t.log:2"]);
    assert_eq!(d.decision.action, Action::ReconcileKeys);
    assert!(
        d.decision
            .forbidden
            .iter()
            .any(|f| f.contains("no full rerun"))
    );
    assert!(
        d.decision
            .then
            .iter()
            .any(|t| t.contains("Do not rerun the full batch"))
    );
}

#[test]
fn a_rerun_that_lands_twice_is_a_dedupe_failure_though_every_status_is_ok() {
    // The rerun created the same people again: new CRM ids, status ok.
    let mut specs: Vec<String> = (0..3)
        .map(|i| {
            format!(
                "run=nightly-1|obj=contacts|op=create|rec=p{i}@x.io|id={}|st=ok",
                700 + i
            )
        })
        .collect();
    specs.extend((0..3).map(|i| {
        format!(
            "run=nightly-2|obj=contacts|op=create|rec=p{i}@x.io|id={}|st=ok",
            800 + i
        )
    }));
    let d = diagnose(&specs);
    assert_eq!(d.events.landed_twice, 3);
    assert_eq!(d.primary_layer, Some(Layer::Dedupe));
    assert_eq!(d.pattern, Pattern::DuplicatesAfterReruns);
    assert_eq!(d.decision.action, Action::ReconcileKeys);
    assert_eq!(d.groups[0].code.as_deref(), Some("CREATED_AGAIN"));
    assert!(tripped(&d).contains(&"three_identical_failures"));

    // One CRM record reached under a second key (email, then customer id).
    let specs = vec![
        "run=r1|obj=contacts|op=upsert|rec=ana@x.io|id=501|st=ok".to_owned(),
        "run=r1|obj=contacts|op=upsert|rec=bo@x.io|id=502|st=ok".to_owned(),
        "run=r2|obj=contacts|op=upsert|rec=CUS-1|id=501|st=ok".to_owned(),
    ];
    let d = diagnose(&specs);
    assert_eq!(d.events.landed_twice, 1);
    assert_eq!(d.decision.action, Action::ReconcileKeys);
    assert!(tripped(&d).contains(&"id_source_shifted"));
    assert_eq!(evidence(&d, "id_source_shifted"), ["t.log:1", "t.log:3"]);

    // Keys a reader made from row numbers are never compared across runs.
    let specs = vec![
        "run=r1|obj=Contact|op=create|rec=row 2|id=003A|st=ok".to_owned(),
        "run=r2|obj=Contact|op=create|rec=row 2|id=003B|st=ok".to_owned(),
        "run=r2|obj=Contact|op=create|rec=row 3|id=003A|st=ok".to_owned(),
    ];
    let d = diagnose(&specs);
    assert_eq!(d.decision.action, Action::None);
    assert_eq!(d.events.landed_twice, 0);
}

#[test]
fn one_error_in_different_wrappers_counts_as_identical() {
    let specs = vec![
        "rec=a@x.io|st=failed|msg=Zap 'Typeform to Salesforce' step 2 Errored: Salesforce (1.3.1): INVALID_SESSION_ID: Session expired or invalid (lead a@x.io)".to_owned(),
        "rec=b@x.io|st=failed|msg=Zap 'Stripe to Salesforce' step 3 Errored: Salesforce (1.3.1): INVALID_SESSION_ID: Session expired or invalid (opportunity inv-100)".to_owned(),
        "rec=c@x.io|st=failed|msg=ERROR sync: INVALID_SESSION_ID: Session expired or invalid".to_owned(),
    ];
    let d = diagnose(&specs);
    assert_eq!(d.groups.len(), 1);
    assert_eq!(d.groups[0].count, 3);
    assert!(tripped(&d).contains(&"three_identical_failures"));
    // Validation rules keep their admin's words: two rules, two failures.
    let specs = vec![
        "rec=a|st=failed|msg=ERROR FIELD_CUSTOM_VALIDATION_EXCEPTION: Phone must be in E.164 format".to_owned(),
        "rec=b|st=failed|msg=WARN step 4 FIELD_CUSTOM_VALIDATION_EXCEPTION: Close date cannot be in the past".to_owned(),
        "rec=c|st=failed|msg=WARN step 9 FIELD_CUSTOM_VALIDATION_EXCEPTION: Phone must be in E.164 format".to_owned(),
    ];
    let d = diagnose(&specs);
    assert_eq!(d.groups.len(), 2);
    assert_eq!(d.groups[0].count, 2);
}

// ---- The rule set

#[test]
fn one_record_fails_and_the_rest_move_inspect_the_record() {
    let mut specs: Vec<String> = (0..4).map(|i| ok(&format!("a{i}"), "Account")).collect();
    specs.push("run=r1|obj=Account|op=upsert|rec=a9|st=failed|code=STRING_TOO_LONG|msg=Billing City: data value too large: xxxxx (max length=40)|f=BillingCity".into());
    let d = diagnose(&specs);
    assert_eq!(d.pattern, Pattern::IsolatedRecord);
    assert_eq!(d.blast_radius.scope, Scope::SingleRecord);
    assert_eq!(d.decision.action, Action::FixRecord);
    assert_eq!(d.decision.test_record.as_deref(), Some("a9"));
}

#[test]
fn the_same_record_error_on_most_records_is_a_mapping_problem() {
    let specs: Vec<String> = (0..4)
        .map(|i| format!("run=r1|obj=Account|op=upsert|rec=a{i}|st=failed|code=STRING_TOO_LONG|msg=Name: data value too large: tok_{i}xxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxx (max length=80)|f=Name"))
        .chain(std::iter::once(ok("a9", "Account")))
        .collect();
    let d = diagnose(&specs);
    assert_eq!(d.primary_layer, Some(Layer::Mapping));
    assert_eq!(d.decision.action, Action::Remap);
}

#[test]
fn one_field_too_long_on_several_records_is_the_mapping_even_when_most_move() {
    // 4 of 20 accounts: BillingCity over 40 characters every time.
    let mut specs: Vec<String> = (0..16).map(|i| ok(&format!("a{i}"), "Account")).collect();
    specs.extend((0..4).map(|i| format!("run=r1|crm=salesforce|obj=Account|op=upsert|rec=b{i}|st=failed|http=400|code=STRING_TOO_LONG|msg=Billing City: data value too large: {}{i} (max length=40)|f=BillingCity", "X".repeat(44))));
    let d = diagnose(&specs);
    assert_eq!(d.primary_layer, Some(Layer::Mapping));
    assert_eq!(d.pattern, Pattern::FieldAcrossRecords);
    assert_eq!(d.blast_radius.scope, Scope::SingleField);
    assert!(tripped(&d).contains(&"same_field_two_records"));
    // Deleted targets name no field: each record's own problem.
    let mut specs: Vec<String> = (0..16).map(|i| ok(&format!("a{i}"), "Account")).collect();
    specs.extend((0..3).map(|i| format!("run=r1|crm=salesforce|obj=Account|op=update|rec=d{i}|st=failed|http=404|code=ENTITY_IS_DELETED|msg=entity is deleted")));
    assert_eq!(diagnose(&specs).primary_layer, Some(Layer::Record));
}

#[test]
fn a_mapping_error_on_the_one_record_that_failed_is_that_records_data() {
    // The same mapping carried four records; one bounced on a picklist value.
    let mut specs: Vec<String> = (0..4).map(|i| ok(&format!("l{i}"), "Lead")).collect();
    specs.push("run=r1|crm=salesforce|obj=Lead|op=upsert|rec=l9|st=failed|http=400|code=INVALID_OR_NULL_FOR_RESTRICTED_PICKLIST|msg=Lead Source: bad value for restricted picklist field: Fax: [LeadSource]|f=LeadSource".into());
    let d = diagnose(&specs);
    assert_eq!(d.primary_layer, Some(Layer::Record));
    assert_eq!(d.pattern, Pattern::IsolatedRecord);
    assert_eq!(d.blast_radius.scope, Scope::SingleRecord);
    assert_eq!(d.decision.action, Action::FixRecord);
    assert_eq!(d.decision.test_record.as_deref(), Some("l9"));
    // The same error on two records is the mapping again.
    specs.push("run=r1|crm=salesforce|obj=Lead|op=upsert|rec=l8|st=failed|http=400|code=INVALID_OR_NULL_FOR_RESTRICTED_PICKLIST|msg=Lead Source: bad value for restricted picklist field: Fax: [LeadSource]|f=LeadSource".into());
    let d = diagnose(&specs);
    assert_eq!(d.primary_layer, Some(Layer::Mapping));
    assert!(tripped(&d).contains(&"same_field_two_records"));
}

// ---- The rule of thumb

#[test]
fn retry_once_for_a_single_transient_blip_without_partial_writes() {
    let specs = vec![
        ok("a", "contacts"),
        ok("b", "contacts"),
        "run=r1|obj=contacts|op=upsert|rec=c|st=failed|msg=Error: read ECONNRESET".into(),
    ];
    let d = diagnose(&specs);
    assert_eq!(d.decision.action, Action::RetryOnce);
}

#[test]
fn no_retry_once_when_the_failed_batch_wrote_partially() {
    let specs = vec![
        "run=r1|batch=7|obj=contacts|op=upsert|rec=a|st=ok".to_owned(),
        "run=r1|batch=7|obj=contacts|op=upsert|rec=b|st=failed|msg=Error: read ECONNRESET"
            .to_owned(),
    ];
    let d = diagnose(&specs);
    assert!(tripped(&d).contains(&"partial_writes"));
    assert_eq!(evidence(&d, "partial_writes"), ["t.log:1", "t.log:2"]);
    assert_ne!(d.decision.action, Action::RetryOnce);
    assert!(d.decision.then.iter().any(|t| t.contains("review queue")));
    // One batch response (one HAR entry, one line) holds both: cited once.
    let ctx = Context::default();
    let mut a = Analyzer::new(engine(), &ctx);
    for spec in &specs {
        a.push(&e(spec, 1));
    }
    assert_eq!(evidence(&a.finish(&ctx), "partial_writes"), ["t.log:1"]);
}

#[test]
fn test_one_record_before_any_batch_rerun() {
    let specs = vec![ok("a", "Lead"), "run=r1|obj=Lead|op=upsert|rec=b|st=failed|code=INVALID_EMAIL_ADDRESS|msg=Email: invalid email address: b@".into()];
    let d = diagnose(&specs);
    let then = d.decision.then.join("\n");
    let test = then.find("Test one record").expect("a test record step");
    let rerun = then
        .find("rerun only the clean set")
        .expect("a clean rerun step");
    assert!(test < rerun);
}

#[test]
fn three_identical_unexplained_failures_switch_to_log_review() {
    let specs: Vec<String> = (0..3)
        .map(|i| {
            format!(
                "run=r1|rec=x{i}|st=failed|msg=sync step 4 returned nothing useful (job {i}7731)"
            )
        })
        .collect();
    let d = diagnose(&specs);
    assert_eq!(d.primary_layer, Some(Layer::Unknown));
    assert!(tripped(&d).contains(&"three_identical_failures"));
    assert_eq!(d.decision.action, Action::ReviewLogs);
}

#[test]
fn fewer_than_three_unexplained_failures_escalate() {
    let specs = vec![
        "run=r1|rec=x|st=failed|msg=sync step 4 returned nothing useful".to_owned(),
        ok("y", "Lead"),
    ];
    let d = diagnose(&specs);
    assert_eq!(d.decision.action, Action::Escalate);
}

#[test]
fn revenue_records_switch_to_manual_entry() {
    let specs = vec![
        ok("d0", "deals"),
        "run=r1|obj=deals|op=upsert|rec=d1|st=failed|code=INVALID_OPTION|msg=Closed Won Q4 was not one of the allowed options|f=dealstage".into(),
    ];
    let d = diagnose(&specs);
    assert!(tripped(&d).contains(&"revenue_records_affected"));
    assert_eq!(d.decision.action, Action::ManualFallback);
    assert!(
        d.decision
            .then
            .iter()
            .any(|t| t.contains("still needs its own fix"))
    );
}

#[test]
fn revenue_records_hit_by_a_transient_blip_are_retried_not_moved_by_hand() {
    let specs = vec![
        ok("o0", "Opportunity"),
        "run=r1|obj=Opportunity|op=upsert|rec=o1|st=failed|http=503|msg=Service Unavailable".into(),
    ];
    let d = diagnose(&specs);
    assert!(tripped(&d).contains(&"revenue_records_affected"));
    assert_eq!(d.decision.action, Action::RetryOnce);
}

// ---- What changes the answer for small teams (scenarios)

#[test]
fn few_contact_records_fix_test_one_then_rerun() {
    let mut specs: Vec<String> = (0..5).map(|i| ok(&format!("c{i}"), "contacts")).collect();
    specs.push("run=r1|obj=contacts|op=upsert|rec=c7|st=failed|code=INVALID_OPTION|msg=Lead was not one of the allowed options|f=lifecyclestage".into());
    specs.push("run=r1|obj=contacts|op=upsert|rec=c8|st=failed|code=INVALID_OPTION|msg=Cold was not one of the allowed options|f=lifecyclestage".into());
    let d = diagnose(&specs);
    assert_eq!(d.decision.action, Action::Remap);
    let then = d.decision.then.join(" ");
    assert!(then.contains("Test one record"));
    assert!(then.contains("rerun only the clean set"));
}

#[test]
fn bi_directional_sync_freezes_one_direction_first() {
    let specs = vec![ok("a", "Lead"), "run=r1|obj=Lead|op=upsert|rec=b|st=failed|code=REQUIRED_FIELD_MISSING|msg=Required fields are missing: [Company]|f=Company".into()];
    let ctx = Context {
        direction: Some(Direction::Bi),
        ..Context::default()
    };
    let d = diagnose_with(&specs, &ctx);
    assert!(
        d.decision
            .then
            .iter()
            .any(|t| t.contains("freeze writes in one direction first"))
    );
    assert_eq!(d.context.direction.as_deref(), Some("bi"));
    // A log with events going both ways shows a two-way sync by itself.
    let mut e1 = e(&specs[0], 1);
    e1.direction = Some(Direction::SourceToCrm);
    let mut e2 = e(&specs[1], 2);
    e2.direction = Some(Direction::CrmToSource);
    let ctx = Context::default();
    let mut a = Analyzer::new(engine(), &ctx);
    a.push(&e1);
    a.push(&e2);
    let d = a.finish(&ctx);
    assert_eq!(d.context.direction.as_deref(), Some("bi"));
}

#[test]
fn billing_contracts_pipeline_use_the_manual_fallback() {
    let specs = vec!["run=r1|obj=Invoice__c|op=upsert|rec=i1|st=failed|code=FIELD_CUSTOM_VALIDATION_EXCEPTION|msg=Amount must be positive".into()];
    let d = diagnose(&specs);
    assert_eq!(d.decision.action, Action::ManualFallback);
    let ctx = Context {
        critical_objects: vec!["Lead".into()],
        ..Context::default()
    };
    let d = diagnose_with(&specs, &ctx);
    assert_eq!(
        d.decision.action,
        Action::FreezeAutomations,
        "Invoice__c is not critical when the user names other objects"
    );
}

#[test]
fn no_owner_means_assign_one_first() {
    let specs = vec![
        ok("a", "Lead"),
        "run=r1|obj=Lead|op=upsert|rec=b|st=failed|code=INVALID_EMAIL_ADDRESS|msg=invalid email"
            .into(),
    ];
    let d = diagnose(&specs);
    assert!(d.decision.then[0].contains("Name one owner"));
    let ctx = Context {
        owner: Some("Dana".into()),
        ..Context::default()
    };
    let d = diagnose_with(&specs, &ctx);
    assert!(d.decision.then[0].starts_with("Dana owns this repair"));
    // "No single integration owner": document, fallback, assign one.
    let ctx = Context {
        owner: Some("none".into()),
        ..Context::default()
    };
    let d = diagnose_with(&specs, &ctx);
    assert_eq!(d.decision.action, Action::ManualFallback);
    assert!(d.decision.then[0].starts_with("Document the failure"));
    assert_eq!(d.context.owner, None);
    // An expired token is still one reconnect, owner or not.
    let auth = vec!["run=r1|obj=Lead|rec=b|st=failed|http=401|code=INVALID_SESSION_ID|msg=Session expired or invalid".to_owned()];
    assert_eq!(
        diagnose_with(&auth, &ctx).decision.action,
        Action::Reconnect
    );
}

#[test]
fn the_same_error_after_fifteen_minutes_of_fixes_escalates() {
    let specs = vec![
        "ts=2026-03-01T10:00:00Z|run=r1|obj=Lead|rec=a|st=failed|code=REQUIRED_FIELD_MISSING|msg=Required fields are missing: [Company]|f=Company".to_owned(),
        "ts=2026-03-01T10:20:00Z|run=r2|obj=Lead|rec=a|st=failed|code=REQUIRED_FIELD_MISSING|msg=Required fields are missing: [Company]|f=Company".to_owned(),
    ];
    let d = diagnose(&specs);
    assert!(tripped(&d).contains(&"fifteen_minutes_same_error"));
    assert_eq!(d.decision.action, Action::Escalate);
    // Or when the team says so.
    let one = vec![specs[0].clone()];
    let ctx = Context {
        minutes_spent: Some(20),
        ..Context::default()
    };
    let d = diagnose_with(&one, &ctx);
    assert_eq!(d.decision.action, Action::Escalate);
    assert_eq!(
        evidence(&d, "fifteen_minutes_same_error"),
        ["--minutes-spent 20", "t.log:1"]
    );
    assert_eq!(diagnose(&one).decision.action, Action::Remap);
}

#[test]
fn an_hour_on_a_low_volume_failure_goes_manual_today() {
    let specs = vec![
        "run=r1|obj=Lead|rec=a|st=failed|code=INVALID_EMAIL_ADDRESS|msg=invalid email".to_owned(),
    ];
    let ctx = Context {
        minutes_spent: Some(75),
        ..Context::default()
    };
    let d = diagnose_with(&specs, &ctx);
    assert!(tripped(&d).contains(&"hour_on_low_volume"));
    // fifteen_minutes_same_error holds too, but the hour is the later cutoff.
    assert!(tripped(&d).contains(&"fifteen_minutes_same_error"));
    assert_eq!(d.decision.action, Action::ManualFallback);
    assert_eq!(
        evidence(&d, "hour_on_low_volume"),
        ["--minutes-spent 75", "t.log:1"]
    );
    // Many records failing is not low volume: the escalation stands.
    let many: Vec<String> = (0..25)
        .map(|i| {
            format!(
                "run=r1|obj=Lead|rec=m{i}|st=failed|code=INVALID_EMAIL_ADDRESS|msg=invalid email"
            )
        })
        .collect();
    let d = diagnose_with(&many, &ctx);
    assert!(!tripped(&d).contains(&"hour_on_low_volume"));
    assert_eq!(d.decision.action, Action::Escalate);
    let specs = vec![
        "ts=2026-03-01T09:00:00Z|run=r1|obj=Lead|rec=a|st=failed|code=INVALID_EMAIL_ADDRESS|msg=invalid email".to_owned(),
        "ts=2026-03-01T10:05:00Z|run=r2|obj=Lead|rec=b|st=failed|code=STRING_TOO_LONG|msg=Name: data value too large|f=Name".to_owned(),
    ];
    let d = diagnose(&specs);
    assert!(tripped(&d).contains(&"hour_on_low_volume"));
    assert_eq!(d.decision.action, Action::ManualFallback);
    assert_eq!(evidence(&d, "hour_on_low_volume"), ["t.log:1", "t.log:2"]);
}

// ---- The checklist

#[test]
fn checklist_auth_then_mapping_then_rate_limits() {
    let auth = "run=r1|obj=Lead|rec=a|st=failed|http=401|code=INVALID_SESSION_ID|msg=Session expired or invalid".to_owned();
    let mapping = "run=r1|obj=Lead|rec=b|st=failed|code=REQUIRED_FIELD_MISSING|msg=Required fields are missing: [Company]|f=Company".to_owned();
    let transport = "run=r1|obj=Lead|rec=c|st=failed|http=503|msg=Service Unavailable".to_owned();
    let d = diagnose(&[transport.clone(), mapping.clone(), auth.clone()]);
    assert_eq!(d.primary_layer, Some(Layer::Auth));
    assert_eq!(d.pattern, Pattern::Mixed);
    assert_eq!(
        d.decision.action,
        Action::Reconnect,
        "one path forward, the first layer in the checklist"
    );
    let d = diagnose(&[ok("z", "Lead"), transport, mapping]);
    assert_eq!(d.primary_layer, Some(Layer::Mapping));
    assert_eq!(d.decision.action, Action::Remap);
}

#[test]
fn checklist_capture_the_exact_error_text_and_timestamp() {
    let specs = vec!["ts=2026-03-01T10:00:00Z|run=r1|obj=Lead|rec=a|st=failed|code=INVALID_FIELD|msg=No such column 'Region__c' on entity 'Lead'".to_owned()];
    let d = diagnose(&specs);
    let g = &d.groups[0];
    assert_eq!(g.first_seen.at, "t.log:1");
    assert_eq!(g.first_seen.ts.as_deref(), Some("2026-03-01T10:00:00Z"));
    assert!(g.example.contains("No such column 'Region__c'"));
    assert_eq!(g.fields, vec!["Region__c"]);
}

#[test]
fn side_effects_do_not_choose_the_layer() {
    let specs = vec![
        "run=r1|batch=1|obj=Contact|rec=a|st=failed|code=REQUIRED_FIELD_MISSING|msg=Required fields are missing: [LastName]|f=LastName".to_owned(),
        "run=r1|batch=1|obj=Contact|rec=b|st=failed|code=ALL_OR_NONE_OPERATION_ROLLED_BACK|msg=Record rolled back because not all records were valid and the request was using AllOrNone header".to_owned(),
        "run=r1|batch=1|obj=Contact|rec=c|st=failed|code=ALL_OR_NONE_OPERATION_ROLLED_BACK|msg=Record rolled back because not all records were valid and the request was using AllOrNone header".to_owned(),
    ];
    let d = diagnose(&specs);
    // The rollback is not a transport failure, and the records rolled back
    // would have moved: the one record that failed is the cause.
    assert_eq!(d.primary_layer, Some(Layer::Record));
    assert_eq!(d.pattern, Pattern::IsolatedRecord);
    assert_eq!(d.blast_radius.scope, Scope::SingleRecord);
    assert_eq!(d.blast_radius.records_failed, 3);
    assert_eq!(d.decision.action, Action::FixRecord);
    assert_eq!(d.decision.test_record.as_deref(), Some("a"));
    assert!(d.groups.iter().any(|g| g.side_effect));
    assert!(!tripped(&d).contains(&"three_identical_failures"));
    // Two records missing the field is the mapping again.
    let mut specs = specs;
    specs.push("run=r1|batch=1|obj=Contact|rec=d|st=failed|code=REQUIRED_FIELD_MISSING|msg=Required fields are missing: [LastName]|f=LastName".to_owned());
    let d = diagnose(&specs);
    assert_eq!(d.primary_layer, Some(Layer::Mapping));
}

#[test]
fn nothing_failed_means_none() {
    let d = diagnose(&[ok("a", "Lead"), ok("b", "Lead")]);
    assert_eq!(d.pattern, Pattern::None);
    assert_eq!(d.primary_layer, None);
    assert_eq!(d.decision.action, Action::None);
    assert_eq!(d.blast_radius.scope, Scope::None);
    assert!(d.stop_rules.iter().all(|r| !r.tripped));
    assert_eq!(d.stop_rules.len(), 10);
}

#[test]
fn memory_stays_bounded_on_many_distinct_records() {
    let ctx = Context::default();
    let mut a = Analyzer::new(engine(), &ctx);
    for i in 0..(MAX_RECORDS as u64 + 20_000) {
        let ev = e(&format!("run=r1|obj=Lead|rec=r{i}|st=ok"), i);
        a.push(&ev);
    }
    let d = a.finish(&ctx);
    assert!(d.approximate);
    let seen = d.blast_radius.records_seen as f64;
    assert!(
        (seen - (MAX_RECORDS as f64 + 20_000.0)).abs() / seen < 0.05,
        "{seen}"
    );
}

#[test]
fn record_state_packs_its_counters_and_flags_apart() {
    assert_eq!(std::mem::size_of::<RecState>(), 8);
    let mut st = RecState::default();
    assert_eq!((st.attempts(), st.runs(), st.last_layer()), (0, 0, None));
    for _ in 0..5 {
        st.bump_attempts();
    }
    st.set_runs(2);
    st.set_runs(st.runs() + 5);
    for layer in Layer::ALL {
        st.set_last_layer(layer);
        assert_eq!(st.last_layer(), Some(layer));
    }
    st.set(RecState::EVER_FAILED, true);
    st.set(RecState::READ_BACK, true);
    st.set(RecState::READ_BACK, false);
    assert_eq!((st.attempts(), st.runs()), (3, 3), "both saturate");
    assert_eq!(st.last_layer(), Some(Layer::Unknown));
    assert!(st.has(RecState::EVER_FAILED));
    assert!(!st.has(RecState::READ_BACK));
    assert!(!st.has(RecState::LAST_FAILED) && !st.has(RecState::CREATED_TWICE));
}
