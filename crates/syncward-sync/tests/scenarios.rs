//! The guarded re-sync against the sandbox, per scenario: what was sent,
//! what stopped the run, what sits in the queue, and the CRM's final state.

use serde_json::Value;
use std::path::{Path, PathBuf};
use syncward_core::Classifier;
use syncward_core::check::mapping::Mapping;
use syncward_crm::Token;
use syncward_sandbox::{Sandbox, Scenario};
use syncward_store::{Journal, ReviewQueue, SqliteStore};
use syncward_sync::{Options, run};

fn engine() -> Classifier {
    Classifier::builtin().expect("rules")
}

const CONTACTS_MAPPING: &str = "crm = \"hubspot\"\nobject = \"contacts\"\n[key]\nsource = \"Email\"\ncrm = \"email\"\n[fields]\n\"First\" = \"firstname\"\n\"Stage\" = \"lifecyclestage\"\n";
const LEADS_MAPPING: &str = "crm = \"salesforce\"\nobject = \"Lead\"\n[key]\nsource = \"Key\"\ncrm = \"External_Id__c\"\n[fields]\n\"Last\" = \"LastName\"\n\"Company\" = \"Company\"\n\"Status\" = \"Status\"\n";

fn contacts_csv(dir: &Path, n: usize, bad: &[usize]) -> PathBuf {
    let mut s = String::from("Email,First,Stage\n");
    for i in 0..n {
        let stage = if bad.contains(&i) { "Prospect" } else { "lead" };
        s.push_str(&format!("p{i}@example.com,P{i},{stage}\n"));
    }
    let p = dir.join("contacts.csv");
    std::fs::write(&p, s).expect("write");
    p
}

fn leads_csv(dir: &Path, n: usize) -> PathBuf {
    let mut s = String::from("Key,Last,Company,Status\n");
    for i in 0..n {
        s.push_str(&format!("L-{i},Last{i},Co{i},Open - Not Contacted\n"));
    }
    let p = dir.join("leads.csv");
    std::fs::write(&p, s).expect("write");
    p
}

fn opts(mapping: &str, source: PathBuf, url: &str, dir: &Path) -> Options {
    Options {
        mapping: Mapping::parse("m.toml", mapping).expect("mapping"),
        mapping_path: "m.toml".into(),
        source,
        crm_url: url.to_owned(),
        token: Token::new("sandbox-token"),
        refresh_token: Some(Token::new("sandbox-refresh-token")),
        dry_run: false,
        batch_size: None,
        resume: false,
        events_file: Some(dir.join("events.jsonl")),
        progress: None,
    }
}

async fn records(url: &str, object: &str) -> Vec<Value> {
    let v: Value = reqwest::get(format!("{url}/_sandbox/records/{object}"))
        .await
        .expect("admin")
        .json()
        .await
        .expect("json");
    v.as_array().cloned().unwrap_or_default()
}

fn distinct(recs: &[Value], key: &str) -> usize {
    let mut keys: Vec<String> = recs
        .iter()
        .map(|r| {
            r.get("properties")
                .and_then(|p| p.get(key))
                .or_else(|| r.get(key))
                .and_then(Value::as_str)
                .unwrap_or("")
                .to_lowercase()
        })
        .collect();
    keys.sort();
    keys.dedup();
    keys.len()
}

#[tokio::test]
async fn healthy_sends_the_clean_set_queues_the_rest_and_reruns_without_duplicates() {
    let sb = Sandbox::start("127.0.0.1:0", Scenario::healthy(), None)
        .await
        .expect("sandbox");
    let dir = tempfile::tempdir().expect("tmp");
    let src = contacts_csv(dir.path(), 250, &[7, 120]);
    let mut store = SqliteStore::open(&dir.path().join("s.db")).expect("db");
    let o = opts(CONTACTS_MAPPING, src.clone(), &sb.url, dir.path());
    let r = run(&o, &engine(), &mut store).await.expect("runs");
    assert!(r.stopped.is_none(), "{:?}", r.stopped);
    assert_eq!(r.held_by_preflight, 2);
    assert_eq!(r.confirmed, 248);
    assert!(
        r.test_record
            .as_ref()
            .is_some_and(|t| t.landed && t.rewritten.is_empty())
    );
    assert_eq!(store.queue_list(Some("open")).expect("q").len(), 2);
    let recs = records(&sb.url, "contacts").await;
    assert_eq!(recs.len(), 248);
    assert_eq!(distinct(&recs, "email"), 248);
    // HubSpot's cap: 100 per batch (+ the test record).
    assert!(r.batches >= 4);
    // A second run updates; it creates nothing new and still holds the two.
    let r2 = run(&o, &engine(), &mut store).await.expect("reruns");
    assert_eq!(r2.confirmed, 248);
    assert_eq!(r2.queued, 0, "held rows are not queued twice");
    assert_eq!(records(&sb.url, "contacts").await.len(), 248);
    // The run's events are a log diagnose reads.
    assert!(
        std::fs::read_to_string(dir.path().join("events.jsonl"))
            .expect("events")
            .lines()
            .count()
            > 400
    );
}

#[tokio::test]
async fn an_events_file_that_cannot_be_written_is_a_warning_not_a_silent_loss() {
    let sb = Sandbox::start("127.0.0.1:0", Scenario::healthy(), None)
        .await
        .expect("sandbox");
    let dir = tempfile::tempdir().expect("tmp");
    let src = contacts_csv(dir.path(), 20, &[]);
    let mut store = SqliteStore::open(&dir.path().join("s.db")).expect("db");
    let mut o = opts(CONTACTS_MAPPING, src, &sb.url, dir.path());
    // Linux's /dev/full opens, then fails every write with "no space left".
    o.events_file = Some(PathBuf::from("/dev/full"));
    let r = run(&o, &engine(), &mut store).await.expect("runs");
    assert_eq!(r.confirmed, 20);
    assert_eq!(r.warnings.len(), 1, "{:?}", r.warnings);
    assert!(r.warnings[0].contains("/dev/full"), "{:?}", r.warnings);
}

#[tokio::test]
async fn workflow_rewrite_stops_before_the_batch() {
    let sb = Sandbox::start(
        "127.0.0.1:0",
        Scenario::load("workflow-rewrite").expect("s"),
        None,
    )
    .await
    .expect("sandbox");
    let dir = tempfile::tempdir().expect("tmp");
    let mut store = SqliteStore::open(&dir.path().join("s.db")).expect("db");
    let o = opts(
        LEADS_MAPPING,
        leads_csv(dir.path(), 40),
        &sb.url,
        dir.path(),
    );
    let r = run(&o, &engine(), &mut store).await.expect("runs");
    let t = r.test_record.clone().expect("test record");
    assert!(
        t.rewritten
            .iter()
            .any(|(f, _, to)| f == "Status" && to == "Working - Contacted"),
        "{t:?}"
    );
    assert!(
        r.stopped
            .as_deref()
            .is_some_and(|s| s.contains("rewrote the test record"))
    );
    assert_eq!(r.not_sent, 39);
    assert_eq!(
        records(&sb.url, "Lead").await.len(),
        1,
        "only the test record was written"
    );
    let d = r.diagnosis.expect("diagnosis");
    assert_eq!(d.primary_layer, Some(syncward_core::Layer::Workflow));
}

#[tokio::test]
async fn expired_token_is_refreshed_once_and_revoked_token_stops() {
    let sb = Sandbox::start(
        "127.0.0.1:0",
        Scenario::load("expired-token").expect("s"),
        None,
    )
    .await
    .expect("sandbox");
    let dir = tempfile::tempdir().expect("tmp");
    let mut store = SqliteStore::open(&dir.path().join("s.db")).expect("db");
    let mut o = opts(
        CONTACTS_MAPPING,
        contacts_csv(dir.path(), 300, &[]),
        &sb.url,
        dir.path(),
    );
    o.batch_size = Some(5);
    let r = run(&o, &engine(), &mut store).await.expect("runs");
    assert!(r.stopped.is_none(), "{:?}", r.stopped);
    assert_eq!(r.confirmed, 300);
    assert_eq!(distinct(&records(&sb.url, "contacts").await, "email"), 300);

    let sb = Sandbox::start(
        "127.0.0.1:0",
        Scenario::load("revoked-token").expect("s"),
        None,
    )
    .await
    .expect("sandbox");
    let dir = tempfile::tempdir().expect("tmp");
    let mut store = SqliteStore::open(&dir.path().join("s.db")).expect("db");
    let mut o = opts(
        CONTACTS_MAPPING,
        contacts_csv(dir.path(), 300, &[]),
        &sb.url,
        dir.path(),
    );
    o.batch_size = Some(5);
    let r = run(&o, &engine(), &mut store).await.expect("runs");
    assert!(
        r.stopped
            .as_deref()
            .is_some_and(|s| s.contains("refresh failed")),
        "{:?} confirmed {} queued {} not_sent {} requests {}",
        r.stopped,
        r.confirmed,
        r.queued,
        r.not_sent,
        r.requests
    );
    let d = r.diagnosis.clone().expect("diagnosis");
    assert!(
        d.stop_rules
            .iter()
            .any(|s| s.id == syncward_core::diagnose::StopRuleId::ReconnectFailedOnce && s.tripped)
    );
    assert_eq!(d.decision.action, syncward_core::diagnose::Action::Escalate);
    assert_eq!(
        r.confirmed + r.not_sent + r.queued,
        300,
        "every record accounted for: {:?}",
        r.stopped
    );
}

#[tokio::test]
async fn flaky_loses_nothing_and_doubles_nothing() {
    let sb = Sandbox::start("127.0.0.1:0", Scenario::load("flaky").expect("s"), None)
        .await
        .expect("sandbox");
    let dir = tempfile::tempdir().expect("tmp");
    let mut store = SqliteStore::open(&dir.path().join("s.db")).expect("db");
    let mut o = opts(
        LEADS_MAPPING,
        leads_csv(dir.path(), 400),
        &sb.url,
        dir.path(),
    );
    o.batch_size = Some(20);
    let r = run(&o, &engine(), &mut store).await.expect("runs");
    let recs = records(&sb.url, "Lead").await;
    assert_eq!(
        recs.len(),
        distinct(&recs, "External_Id__c"),
        "no duplicates"
    );
    let queued = store.queue_list(Some("open")).expect("q").len();
    assert_eq!(
        recs.len() + queued + r.not_sent as usize,
        400,
        "nothing lost: {:?}",
        r.stopped
    );
}

#[tokio::test]
async fn duplicate_rule_failures_go_to_the_queue_never_retried() {
    let sb = Sandbox::start(
        "127.0.0.1:0",
        Scenario::load("duplicate-rule").expect("s"),
        None,
    )
    .await
    .expect("sandbox");
    let dir = tempfile::tempdir().expect("tmp");
    // Two leads with different keys and the same email: the second is a duplicate.
    let src = dir.path().join("dups.csv");
    std::fs::write(&src, "Key,Last,Company,Email\nD-1,Ruiz,Acme,ana@x.io\nD-2,Ruiz,Acme,ana@x.io\nD-3,Wei,Northwind,li@x.io\n").expect("write");
    let mapping = "crm = \"salesforce\"\nobject = \"Lead\"\n[key]\nsource = \"Key\"\ncrm = \"External_Id__c\"\n[fields]\n\"Last\" = \"LastName\"\n\"Company\" = \"Company\"\n\"Email\" = \"Email\"\n";
    let mut store = SqliteStore::open(&dir.path().join("s.db")).expect("db");
    let r = run(
        &opts(mapping, src, &sb.url, dir.path()),
        &engine(),
        &mut store,
    )
    .await
    .expect("runs");
    assert_eq!(r.confirmed, 2);
    let q = store.queue_list(Some("open")).expect("q");
    assert_eq!(q.len(), 1);
    assert_eq!(q[0].record, "D-2");
    assert_eq!(q[0].layer, "dedupe");
    assert_eq!(r.retries, 0, "a duplicate is never retried");
    assert!(store.queued(r.run).expect("queued").contains("D-2"));
}

#[tokio::test]
async fn schema_drift_mid_run_stops_on_the_same_field_and_queues_the_bounced() {
    let sb = Sandbox::start(
        "127.0.0.1:0",
        Scenario::load("schema-drift").expect("s"),
        None,
    )
    .await
    .expect("sandbox");
    let dir = tempfile::tempdir().expect("tmp");
    // 150 leads; from row 100 on some come without a company.
    let mut s = String::from("Key,Last,Company,Status\n");
    for i in 0..150 {
        let company = if i >= 100 && i % 2 == 0 {
            String::new()
        } else {
            format!("Co{i}")
        };
        s.push_str(&format!("L-{i},Last{i},{company},Open - Not Contacted\n"));
    }
    let src = dir.path().join("leads.csv");
    std::fs::write(&src, s).expect("write");
    let mut store = SqliteStore::open(&dir.path().join("s.db")).expect("db");
    let mut o = opts(LEADS_MAPPING, src, &sb.url, dir.path());
    o.batch_size = Some(25);
    let r = run(&o, &engine(), &mut store).await.expect("runs");
    // Company was optional at preflight; the admin made it required after 100 writes.
    assert!(
        r.stopped
            .as_deref()
            .is_some_and(|s| s.contains("same field failed on 2 records")
                || s.contains("3 identical failures")),
        "{:?}",
        r.stopped
    );
    let queued = store.queue_list(Some("open")).expect("q");
    assert!(
        queued.len() >= 2 && queued.iter().all(|q| q.layer == "mapping"),
        "{queued:?}"
    );
    let d = r.diagnosis.clone().expect("diagnosis");
    assert_eq!(d.decision.action, syncward_core::diagnose::Action::Remap);
    let stored = records(&sb.url, "Lead").await.len();
    assert_eq!(
        stored + queued.len() + r.not_sent as usize,
        150,
        "nothing lost"
    );
}

#[tokio::test]
async fn rate_limited_is_paced_without_429s() {
    let sb = Sandbox::start(
        "127.0.0.1:0",
        Scenario::load("rate-limited").expect("s"),
        None,
    )
    .await
    .expect("sandbox");
    let dir = tempfile::tempdir().expect("tmp");
    let mut store = SqliteStore::open(&dir.path().join("s.db")).expect("db");
    let mut o = opts(
        CONTACTS_MAPPING,
        contacts_csv(dir.path(), 1200, &[]),
        &sb.url,
        dir.path(),
    );
    o.batch_size = Some(10);
    let r = run(&o, &engine(), &mut store).await.expect("runs");
    assert!(r.stopped.is_none(), "{:?}", r.stopped);
    assert_eq!(r.confirmed, 1200);
    let stats: Value = reqwest::get(format!("{}/_sandbox/stats", sb.url))
        .await
        .expect("stats")
        .json()
        .await
        .expect("json");
    let answered_429 = stats["responses"]["429"].as_u64().unwrap_or(0);
    let requests = stats["requests"].as_u64().unwrap_or(1);
    assert!(
        answered_429 * 100 <= requests,
        "{answered_429} of {requests} requests answered 429"
    );
}

#[tokio::test]
async fn salesforce_daily_cap_stops_the_run_and_accounts_for_everything() {
    let scenario = Scenario::parse(
        "cap.toml",
        "name = \"cap\"\n[salesforce]\ndaily_requests = 30\n",
    )
    .expect("scenario");
    let sb = Sandbox::start("127.0.0.1:0", scenario, None)
        .await
        .expect("sandbox");
    let dir = tempfile::tempdir().expect("tmp");
    let mut store = SqliteStore::open(&dir.path().join("s.db")).expect("db");
    let mut o = opts(
        LEADS_MAPPING,
        leads_csv(dir.path(), 200),
        &sb.url,
        dir.path(),
    );
    o.batch_size = Some(5);
    let r = run(&o, &engine(), &mut store).await.expect("runs");
    assert!(
        r.stopped
            .as_deref()
            .is_some_and(|s| s.contains("daily API allocation")),
        "{:?}",
        r.stopped
    );
    let stored = records(&sb.url, "Lead").await.len();
    let queued = store.queue_list(Some("open")).expect("q").len();
    assert_eq!(stored + queued + r.not_sent as usize, 200, "nothing lost");
    assert!(
        r.requests <= 32,
        "it stopped instead of hammering a closed door: {} requests",
        r.requests
    );
}

#[tokio::test]
async fn a_token_without_the_write_scope_stops_at_preflight() {
    let scenario = Scenario::parse(
        "ro.toml",
        "name = \"read-only\"\nscopes = [\"crm.objects.contacts.read\"]\n",
    )
    .expect("scenario");
    let sb = Sandbox::start("127.0.0.1:0", scenario, None)
        .await
        .expect("sandbox");
    let dir = tempfile::tempdir().expect("tmp");
    let mut store = SqliteStore::open(&dir.path().join("s.db")).expect("db");
    let r = run(
        &opts(
            CONTACTS_MAPPING,
            contacts_csv(dir.path(), 10, &[]),
            &sb.url,
            dir.path(),
        ),
        &engine(),
        &mut store,
    )
    .await
    .expect("runs");
    assert!(
        r.stopped.as_deref().is_some_and(
            |s| s.contains("scope_missing") && s.contains("crm.objects.contacts.write")
        ),
        "{:?}",
        r.stopped
    );
    assert!(
        records(&sb.url, "contacts").await.is_empty(),
        "nothing was written"
    );
}
