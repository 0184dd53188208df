//! Context the logs cannot show: `syncward.toml` and the flags that override it.

use crate::cli::ContextArgs;
use anyhow::{Context as _, Result, bail};
use serde::Deserialize;
use std::path::{Path, PathBuf};
use syncward_core::Crm;
use syncward_core::diagnose::Context;
use syncward_core::event::Direction;

#[derive(Debug, Default, Deserialize)]
#[serde(deny_unknown_fields)]
struct ConfigFile {
    #[serde(default)]
    context: ContextSection,
}

#[derive(Debug, Default, Deserialize)]
#[serde(deny_unknown_fields)]
struct ContextSection {
    direction: Option<String>,
    owner: Option<String>,
    #[serde(default)]
    critical_objects: Vec<String>,
    minutes_spent: Option<u32>,
    crm: Option<String>,
}

pub fn resolve(args: &ContextArgs) -> Result<Context> {
    let path: Option<PathBuf> = match &args.config {
        Some(p) => Some(p.clone()),
        None => Some(PathBuf::from("syncward.toml")).filter(|p| p.is_file()),
    };
    let file = match &path {
        Some(p) => read(p)?,
        None => ConfigFile::default(),
    };
    let c = file.context;
    let direction = args.direction.clone().or(c.direction);
    let crm = args.crm.clone().or(c.crm);
    Ok(Context {
        direction: match direction {
            None => None,
            Some(d) => Some(Direction::parse_loose(&d).with_context(|| {
                format!("unknown direction '{d}' (expected source_to_crm, crm_to_source or bi)")
            })?),
        },
        owner: args
            .owner
            .clone()
            .or(c.owner)
            .filter(|o| !o.trim().is_empty()),
        critical_objects: if args.critical_objects.is_empty() {
            c.critical_objects
        } else {
            args.critical_objects.clone()
        }
        .into_iter()
        .map(|o| o.trim().to_owned())
        .filter(|o| !o.is_empty())
        .collect(),
        minutes_spent: args.minutes_spent.or(c.minutes_spent),
        crm: match crm {
            None => None,
            Some(name) => match Crm::parse_loose(&name) {
                Some(c) => Some(c),
                None => bail!(
                    "unknown CRM '{name}' (expected salesforce, hubspot, zoho, dynamics or pipedrive)"
                ),
            },
        },
    })
}

fn read(path: &Path) -> Result<ConfigFile> {
    let text =
        std::fs::read_to_string(path).with_context(|| format!("cannot read {}", path.display()))?;
    toml::from_str(&text)
        .with_context(|| format!("{} is not a valid syncward.toml", path.display()))
}
