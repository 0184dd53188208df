//! `syncward demo`: the whole story on the sandbox CRM, in plain language.
//! A nightly sync breaks (the CRM admin made a field required mid-run), the
//! diagnosis names the layer and the one next move, the source is fixed,
//! one test record goes first, then only the clean set, and what needs a
//! person waits in the review queue.

use super::Outcome;
use crate::output::Style;
use anyhow::{Context, Result};
use serde_json::{Map, Value};
use std::io::Write;
use std::path::PathBuf;
use syncward_core::Classifier;
use syncward_core::check::mapping::Mapping;
use syncward_core::diagnose::{Analyzer, Context as DiagContext};
use syncward_crm::{Client, Crm, Token};
use syncward_sandbox::{Sandbox, Scenario};
use syncward_store::{ReviewQueue, SqliteStore};

const LEADS: &str = include_str!("../../../../examples/demo/leads.csv");
const LEADS_FIXED: &str = include_str!("../../../../examples/demo/leads-fixed.csv");
const MAPPING: &str = include_str!("../../../../examples/demo/mapping.toml");

pub fn run(engine: &Classifier) -> Result<Outcome> {
    let rt = super::schema::runtime()?;
    rt.block_on(story(engine))
}

fn say(out: &mut impl Write, text: &str) -> std::io::Result<()> {
    writeln!(out, "{text}")
}

async fn story(engine: &Classifier) -> Result<Outcome> {
    let s = Style::detect();
    let mut out = std::io::stdout().lock();
    let dir = std::env::temp_dir().join(format!("syncward-demo-{}", std::process::id()));
    std::fs::create_dir_all(&dir)?;
    let sb = Sandbox::start("127.0.0.1:0", Scenario::load("schema-drift")?, None).await?;
    say(
        &mut out,
        &format!(
            "{} a local Salesforce sandbox is running at {} (scenario: schema-drift).",
            s.bold("syncward demo:"),
            sb.url
        ),
    )?;
    say(
        &mut out,
        "150 web-form leads are due in Salesforce tonight. Halfway through, the CRM admin makes Company a required field.\n",
    )?;

    // 1. The nightly sync, the way a plain connector does it: batches of 50, no checks.
    say(&mut out, &s.bold("1. The nightly sync breaks"))?;
    let mapping = Mapping::parse("mapping.toml", MAPPING)?;
    let leads = dir.join("leads.csv");
    std::fs::write(&leads, LEADS)?;
    let rows = read_rows(&leads, &mapping)?;
    let client = Client::new(&sb.url, Token::new("sandbox-token"))?;
    let (mut ok, mut failed) = (0, 0);
    for chunk in rows.chunks(50) {
        let ans = client
            .upsert(Crm::Salesforce, "Lead", &mapping.key.crm, chunk)
            .await;
        for w in ans.value.unwrap_or_default() {
            if w.ok { ok += 1 } else { failed += 1 }
        }
    }
    say(
        &mut out,
        &format!(
            "   The connector sent {} leads: {ok} landed, {failed} bounced. It would now retry them all, blindly.\n",
            rows.len()
        ),
    )?;

    // 2. The diagnosis, from the CRM's own log of those calls.
    say(&mut out, &s.bold("2. syncward diagnose reads the log"))?;
    let log_text = reqwest_get(&format!("{}/_sandbox/log", sb.url)).await?;
    let log = dir.join("nightly-sync.http.jsonl");
    std::fs::write(&log, log_text)?;
    let ctx = DiagContext::default();
    let mut sink = Collect(Analyzer::new(engine, &ctx));
    syncward_ingest::read_input(
        log.to_str().unwrap_or("-"),
        syncward_ingest::Format::Auto,
        &mut sink,
    )?;
    let d = sink.0.finish(&ctx);
    let top = d.groups.first();
    say(
        &mut out,
        &format!(
            "   What failed: {} ({}).",
            d.decision.layer.plain(),
            d.decision.layer.as_str()
        ),
    )?;
    if let Some(g) = top {
        say(
            &mut out,
            &format!(
                "   The error: {} x {} on {} ({}).",
                g.count,
                g.code.as_deref().unwrap_or("?"),
                g.fields.join(", "),
                g.title
            ),
        )?;
    }
    say(
        &mut out,
        &format!(
            "   Pattern: {}. Stop rules tripped: {}.",
            d.pattern.plain(),
            d.stop_rules
                .iter()
                .filter(|r| r.tripped)
                .map(|r| r.id.as_str())
                .collect::<Vec<_>>()
                .join(", ")
        ),
    )?;
    say(
        &mut out,
        &format!(
            "   {} {}: {}",
            s.bold("Your one next move:"),
            d.decision.action.plain(),
            d.decision.reason
        ),
    )?;
    say(
        &mut out,
        "   Company became required after the first 100 leads: configuration drift, not a connector problem. Retrying would fail the same way.\n",
    )?;

    // 3. The fix: the form now asks for Company, and the export fills it.
    say(&mut out, &s.bold("3. The fix"))?;
    say(
        &mut out,
        "   The office manager makes Company required on the web form and fills it in the export (leads-fixed.csv).\n",
    )?;

    // 4. The guarded re-sync: preflight, one test record, then only the clean set.
    say(
        &mut out,
        &s.bold("4. syncward sync: one test record, then only the clean set"),
    )?;
    let fixed = dir.join("leads-fixed.csv");
    std::fs::write(&fixed, LEADS_FIXED)?;
    let mut store = SqliteStore::open(&dir.join("syncward.db"))?;
    let opts = syncward_sync::Options {
        mapping,
        mapping_path: "examples/demo/mapping.toml".into(),
        source: fixed.clone(),
        crm_url: sb.url.clone(),
        token: Token::new("sandbox-token"),
        refresh_token: None,
        dry_run: false,
        batch_size: None,
        resume: false,
        events_file: Some(dir.join("runs/demo.jsonl")),
        progress: None,
    };
    let report = syncward_sync::run(&opts, engine, &mut store)
        .await
        .context("the guarded sync could not run")?;
    say(
        &mut out,
        &format!(
            "   Preflight checked all {} rows against the CRM's schema and held back {} in the review queue.",
            report.source_rows, report.held_by_preflight
        ),
    )?;
    if let Some(t) = &report.test_record {
        say(
            &mut out,
            &format!(
                "   The test record {} went first, alone: it {}.",
                t.key,
                if t.landed && t.rewritten.is_empty() {
                    "landed and read back unchanged"
                } else {
                    "did not come back as sent"
                }
            ),
        )?;
    }
    say(
        &mut out,
        &format!(
            "   Then the clean set: {} leads confirmed in {} batches ({} requests). Leads that landed last night were updated in place, not created twice.",
            report.confirmed, report.batches, report.requests
        ),
    )?;
    if let Some(why) = &report.stopped {
        say(&mut out, &format!("   The run stopped: {why}"))?;
    }

    // 5. The review queue.
    say(&mut out, &format!("\n{}", s.bold("5. The review queue")))?;
    let items = store.queue_list(Some("open"))?;
    for i in &items {
        say(
            &mut out,
            &format!(
                "   {} ({}): {}",
                i.record,
                i.layer,
                i.reason.chars().take(110).collect::<String>()
            ),
        )?;
    }
    say(
        &mut out,
        "   These wait for a person: fix them at the source, then `syncward queue release ID`, or `syncward queue export` to enter them by hand.\n",
    )?;

    // The CRM's final state: every lead once, nothing lost.
    let stored: Value =
        serde_json::from_str(&reqwest_get(&format!("{}/_sandbox/records/Lead", sb.url)).await?)?;
    let n = stored.as_array().map_or(0, Vec::len);
    let mut keys: Vec<String> = stored
        .as_array()
        .into_iter()
        .flatten()
        .filter_map(|r| {
            r.get("External_Id__c")
                .and_then(Value::as_str)
                .map(str::to_lowercase)
        })
        .collect();
    keys.sort();
    keys.dedup();
    say(
        &mut out,
        &format!(
            "{} Salesforce holds {n} leads, {} distinct keys: no duplicates. {} + {} in the review queue = {} rows: nothing lost.",
            s.green("Done."),
            keys.len(),
            n,
            items.len(),
            n + items.len()
        ),
    )?;
    sb.stop().await?;
    let _ = std::fs::remove_dir_all(&dir);
    Ok(Outcome::Clean)
}

struct Collect<'c>(Analyzer<'c>);

impl syncward_ingest::Sink for Collect<'_> {
    fn event(&mut self, e: &syncward_core::Event<'_>) {
        self.0.push(e);
    }
    fn problem(&mut self, p: syncward_ingest::Problem) {
        self.0.problem(p.line.is_some(), p.to_string());
    }
}

fn read_rows(path: &PathBuf, mapping: &Mapping) -> Result<Vec<(String, Map<String, Value>)>> {
    let mut rdr = csv::Reader::from_path(path)?;
    let headers: Vec<String> = rdr.headers()?.iter().map(str::to_owned).collect();
    let mut out = Vec::new();
    for rec in rdr.records() {
        let rec = rec?;
        let get = |col: &str| {
            headers
                .iter()
                .position(|h| h == col)
                .and_then(|i| rec.get(i))
                .unwrap_or("")
                .to_owned()
        };
        let mut props = Map::new();
        for (col, spec) in &mapping.columns {
            let v = get(col);
            if !v.is_empty() {
                props.insert(spec.crm.clone(), Value::String(v));
            }
        }
        out.push((get(&mapping.key.source), props));
    }
    Ok(out)
}

async fn reqwest_get(url: &str) -> Result<String> {
    Ok(syncward_crm::get_text(url).await?)
}
