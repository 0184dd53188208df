//! `syncward schema snapshot` and `syncward schema diff`.

use super::Outcome;
use crate::cli::{Format, SchemaArgs, SchemaCommand};
use crate::output::Style;
use anyhow::{Context, Result, bail};
use std::io::Write;
use std::path::Path;
use syncward_core::check::mapping::Mapping;
use syncward_core::check::schema::{Schema, diff};

pub fn run(args: SchemaArgs) -> Result<Outcome> {
    match args.command {
        SchemaCommand::Snapshot {
            crm_url,
            crm,
            object,
            token_env,
            output,
        } => {
            let Some(which) = syncward_crm::Crm::parse(&crm) else {
                bail!("unknown CRM '{crm}' (expected hubspot or salesforce)");
            };
            let text = fetch_schema(&crm_url, which, &object, &token_env)?;
            let pretty = serde_json::from_str::<serde_json::Value>(&text)
                .and_then(|v| serde_json::to_string_pretty(&v))
                .unwrap_or(text);
            match output {
                Some(path) => {
                    std::fs::write(&path, pretty + "\n")
                        .with_context(|| format!("cannot write {}", path.display()))?;
                    eprintln!("saved the {object} schema to {}", path.display());
                }
                None => println!("{pretty}"),
            }
            Ok(Outcome::Clean)
        }
        SchemaCommand::Diff {
            old,
            new,
            mapping,
            format,
        } => {
            let object_hint = mapping.as_ref().map(|m| Mapping::read(m)).transpose()?;
            let obj = object_hint.as_ref().map(|m| m.object.clone());
            let a = load_schema(&old, obj.as_deref())?;
            let b = load_schema(&new, obj.as_deref())?;
            let drift = diff(&a, &b);
            let mapped = |field: &str| match &object_hint {
                Some(m) => {
                    m.columns
                        .iter()
                        .any(|(_, s)| s.crm.eq_ignore_ascii_case(field))
                        || m.key.crm.eq_ignore_ascii_case(field)
                }
                None => true,
            };
            let breaks: Vec<&syncward_core::check::schema::Drift> = drift
                .iter()
                .filter(|d| {
                    d.breaking
                        && (mapped(&d.field)
                            || d.change == syncward_core::check::schema::DriftKind::BecameRequired
                            || d.change == syncward_core::check::schema::DriftKind::FieldAdded)
                })
                .collect();
            let mut out = std::io::stdout().lock();
            match format {
                Format::Json => {
                    let v = serde_json::json!({"object": b.object, "drift": drift, "breaks_mapping": !breaks.is_empty()});
                    writeln!(out, "{}", serde_json::to_string_pretty(&v)?)?;
                }
                Format::Text => {
                    let s = Style::detect();
                    if drift.is_empty() {
                        writeln!(out, "{}", s.green("No drift: the two schemas match."))?;
                    } else {
                        writeln!(
                            out,
                            "{} change(s) to {} since {}:",
                            drift.len(),
                            b.object,
                            old.display()
                        )?;
                        for d in &drift {
                            let mark = if breaks.iter().any(|x| std::ptr::eq(*x, d)) {
                                s.red("BREAKS")
                            } else if d.breaking {
                                s.yellow("breaks writes that set it")
                            } else {
                                s.dim("fine")
                            };
                            writeln!(out, "  {:<22} {}  ({mark})", d.field, d.message)?;
                        }
                        if !breaks.is_empty() {
                            writeln!(
                                out,
                                "\n{} change(s) break the sync as mapped. Update the mapping (or ask the CRM admin) before the next run; this is configuration drift, not a connector problem.",
                                breaks.len()
                            )?;
                        }
                    }
                }
            }
            Ok(if breaks.is_empty() {
                Outcome::Clean
            } else {
                Outcome::Failures
            })
        }
    }
}

pub fn load_schema(path: &Path, object: Option<&str>) -> Result<Schema> {
    let text = std::fs::read_to_string(path)
        .with_context(|| format!("cannot read the schema file {}", path.display()))?;
    Ok(Schema::parse(&path.display().to_string(), &text, object)?)
}

pub fn token(token_env: &str) -> Result<syncward_crm::Token> {
    match std::env::var(token_env) {
        Ok(t) if !t.trim().is_empty() => Ok(syncward_crm::Token::new(t.trim())),
        _ => bail!(
            "set the access token in the environment variable {token_env} (or name another with --token-env); it is never printed"
        ),
    }
}

pub fn runtime() -> Result<tokio::runtime::Runtime> {
    tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .context("cannot start the async runtime")
}

pub fn fetch_schema(
    url: &str,
    crm: syncward_crm::Crm,
    object: &str,
    token_env: &str,
) -> Result<String> {
    let client = syncward_crm::Client::new(url, token(token_env)?)?;
    Ok(runtime()?.block_on(client.schema(crm, object))?)
}
