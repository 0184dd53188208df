//! Measures the classifier alone: reads JSON Lines {"text","crm"?,"http_status"?}
//! into memory, then classifies every line `--rounds` times on one thread and
//! prints messages per second. Used by bench/classify.sh.

use std::time::Instant;
use syncward_core::{Classifier, Crm, Input};

fn main() {
    let mut args = std::env::args().skip(1);
    let Some(path) = args.next() else {
        eprintln!("usage: classify_throughput FILE.jsonl [ROUNDS]");
        std::process::exit(2);
    };
    let rounds: usize = args.next().and_then(|r| r.parse().ok()).unwrap_or(3);
    let text = match std::fs::read_to_string(&path) {
        Ok(t) => t,
        Err(e) => {
            eprintln!("cannot read {path}: {e}");
            std::process::exit(2);
        }
    };
    let inputs: Vec<(String, Option<Crm>, Option<u16>)> = text
        .lines()
        .filter_map(|l| serde_json::from_str::<serde_json::Value>(l).ok())
        .map(|v| {
            (
                v["text"].as_str().unwrap_or_default().to_owned(),
                v["crm"].as_str().and_then(Crm::parse_loose),
                v["http_status"]
                    .as_u64()
                    .and_then(|n| u16::try_from(n).ok()),
            )
        })
        .collect();
    let engine = match Classifier::builtin() {
        Ok(e) => e,
        Err(e) => {
            eprintln!("{e}");
            std::process::exit(2);
        }
    };
    let mut best = f64::MAX;
    let mut checksum = 0usize;
    for _ in 0..rounds {
        let start = Instant::now();
        for (text, crm, status) in &inputs {
            let c = engine.classify(&Input {
                text,
                crm: *crm,
                http_status: *status,
            });
            checksum = checksum.wrapping_add(c.layer as usize + c.fields.len());
        }
        best = best.min(start.elapsed().as_secs_f64());
    }
    let per_sec = inputs.len() as f64 / best;
    // The same inputs through the memo, as `classify` and `diagnose` run them.
    let mut best_memo = f64::MAX;
    let mut hit_rate = 0.0;
    for _ in 0..rounds {
        let mut memo = syncward_core::Memo::new(&engine);
        let start = Instant::now();
        for (text, crm, status) in &inputs {
            let c = memo.classify(&Input {
                text,
                crm: *crm,
                http_status: *status,
            });
            checksum = checksum.wrapping_add(c.layer as usize + c.fields.len());
        }
        best_memo = best_memo.min(start.elapsed().as_secs_f64());
        let (h, m) = memo.stats();
        hit_rate = h as f64 / (h + m).max(1) as f64;
    }
    println!(
        "{{\"messages\": {}, \"messages_per_second\": {:.0}, \"memo_messages_per_second\": {:.0}, \"memo_hit_rate\": {:.3}, \"checksum\": {}}}",
        inputs.len(),
        per_sec,
        inputs.len() as f64 / best_memo,
        hit_rate,
        checksum
    );
}
