//! `syncward sandbox`: the local CRM, until Ctrl-C.

use super::Outcome;
use crate::cli::SandboxArgs;
use anyhow::{Context, Result};
use std::io::Write;
use syncward_sandbox::{Sandbox, Scenario, scenario::BUILTIN};

pub fn run(args: SandboxArgs) -> Result<Outcome> {
    if args.list {
        for (name, _) in BUILTIN {
            let s = Scenario::load(name)?;
            println!("{name:18} {}", s.description);
        }
        return Ok(Outcome::Clean);
    }
    let scenario = Scenario::load(&args.scenario)?;
    let rt = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(2)
        .enable_all()
        .build()
        .context("cannot start the async runtime")?;
    rt.block_on(async move {
        let sandbox = Sandbox::start(&args.addr, scenario, args.state.clone()).await?;
        let mut out = std::io::stdout().lock();
        writeln!(out, "sandbox listening on {}", sandbox.url)?;
        writeln!(
            out,
            "scenario: {}; token: Bearer {}; admin: {}/_sandbox/stats",
            sandbox.scenario(),
            token_of(&args.scenario),
            sandbox.url
        )?;
        out.flush()?;
        drop(out);
        shutdown_signal().await;
        sandbox.stop().await?;
        Ok::<_, anyhow::Error>(())
    })?;
    Ok(Outcome::Clean)
}

fn token_of(scenario: &str) -> String {
    Scenario::load(scenario)
        .map(|s| s.token)
        .unwrap_or_else(|_| "sandbox-token".into())
}

async fn shutdown_signal() {
    let ctrl_c = tokio::signal::ctrl_c();
    #[cfg(unix)]
    {
        let mut term =
            match tokio::signal::unix::signal(tokio::signal::unix::SignalKind::terminate()) {
                Ok(s) => s,
                Err(_) => {
                    let _ = ctrl_c.await;
                    return;
                }
            };
        tokio::select! {
            _ = ctrl_c => {}
            _ = term.recv() => {}
        }
    }
    #[cfg(not(unix))]
    {
        let _ = ctrl_c.await;
    }
}
