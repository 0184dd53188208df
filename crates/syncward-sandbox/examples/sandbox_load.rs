//! Load for bench/sandbox.sh: HubSpot batch upserts of 100 records against a
//! running sandbox, N requests in flight, for a fixed number of batches.
//! Prints records per second. usage: sandbox_load URL BATCHES CONCURRENCY

use serde_json::json;
use std::time::Instant;

#[tokio::main(flavor = "multi_thread", worker_threads = 1)]
async fn main() {
    let args: Vec<String> = std::env::args().collect();
    let (Some(url), Some(batches), Some(conc)) = (
        args.get(1),
        args.get(2).and_then(|b| b.parse::<usize>().ok()),
        args.get(3).and_then(|c| c.parse::<usize>().ok()),
    ) else {
        eprintln!("usage: sandbox_load URL BATCHES CONCURRENCY");
        std::process::exit(2);
    };
    let client = reqwest::Client::new();
    let bodies: Vec<String> = (0..batches)
        .map(|b| {
            let inputs: Vec<_> = (0..100)
                .map(|i| json!({"idProperty": "email", "id": format!("load{}@example.com", (b * 100 + i) % 50_000), "properties": {"firstname": "Load", "lastname": format!("N{i}"), "lifecyclestage": "lead", "city": "Berlin"}}))
                .collect();
            json!({"inputs": inputs}).to_string()
        })
        .collect();
    let target = format!("{url}/crm/v3/objects/contacts/batch/upsert");
    let start = Instant::now();
    let mut ok = 0usize;
    let mut failed = 0usize;
    for chunk in bodies.chunks(conc) {
        let futs = chunk.iter().map(|body| {
            client
                .post(&target)
                .bearer_auth("sandbox-token")
                .header("content-type", "application/json")
                .body(body.clone())
                .send()
        });
        for r in futures_util::future::join_all(futs).await {
            match r {
                Ok(resp) if resp.status().is_success() => {
                    let _ = resp.bytes().await;
                    ok += 1;
                }
                _ => failed += 1,
            }
        }
    }
    let secs = start.elapsed().as_secs_f64();
    println!(
        "{{\"batches\": {ok}, \"failed\": {failed}, \"seconds\": {secs:.3}, \"records_per_second\": {:.0}}}",
        (ok * 100) as f64 / secs
    );
}
