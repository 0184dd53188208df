//! The mapping file (TOML): which source column feeds which CRM field, with
//! which transform, and the stable key every upsert matches on.

use serde::de::{self, Deserializer, MapAccess, Visitor};
use serde::{Deserialize, Serialize};
use std::collections::BTreeMap;
use std::fmt;

#[derive(Debug, Clone, Deserialize, Serialize)]
#[serde(deny_unknown_fields)]
pub struct Mapping {
    /// "hubspot" or "salesforce"
    pub crm: String,
    /// HubSpot object type or Salesforce SObject.
    pub object: String,
    pub key: Key,
    /// Records per request the sync will send (checked against the CRM's cap).
    #[serde(default)]
    pub batch_size: Option<usize>,
    /// Source column -> CRM field (in file order).
    #[serde(default)]
    pub fields: toml::Table,
    #[serde(skip)]
    pub columns: Vec<(String, FieldSpec)>,
}

#[derive(Debug, Clone, Deserialize, Serialize)]
#[serde(deny_unknown_fields)]
pub struct Key {
    /// The source column holding the key.
    pub source: String,
    /// The CRM field it matches: HubSpot idProperty, Salesforce external id.
    pub crm: String,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Deserialize, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum Transform {
    Trim,
    Lower,
    Upper,
    Number,
    Bool,
    Date,
    Datetime,
    UsStateCode,
    CountryCode,
    PhoneE164,
    Picklist,
}

#[derive(Debug, Clone, Default, Deserialize, Serialize, PartialEq)]
#[serde(deny_unknown_fields)]
pub struct FieldSpec {
    pub crm: String,
    #[serde(default)]
    pub transform: Option<Transform>,
    /// strftime-style format of the source's dates (`%d/%m/%Y`).
    #[serde(default)]
    pub format: Option<String>,
    /// IANA time zone of the source's dates and times (`Europe/Berlin`).
    #[serde(default)]
    pub tz: Option<String>,
    /// Source value -> CRM option, for picklists.
    #[serde(default)]
    pub map: BTreeMap<String, String>,
    /// Country assumed for phone numbers without a `+` (ISO code, default US).
    #[serde(default)]
    pub default_country: Option<String>,
}

impl<'de> Deserialize<'de> for FieldSpecOrName {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        struct V;
        impl<'de> Visitor<'de> for V {
            type Value = FieldSpecOrName;
            fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                f.write_str("a CRM field name, or a table { crm = \"...\", transform = \"...\" }")
            }
            fn visit_str<E: de::Error>(self, v: &str) -> Result<Self::Value, E> {
                Ok(FieldSpecOrName(FieldSpec {
                    crm: v.to_owned(),
                    ..FieldSpec::default()
                }))
            }
            fn visit_map<M: MapAccess<'de>>(self, map: M) -> Result<Self::Value, M::Error> {
                FieldSpec::deserialize(de::value::MapAccessDeserializer::new(map))
                    .map(FieldSpecOrName)
            }
        }
        d.deserialize_any(V)
    }
}

struct FieldSpecOrName(FieldSpec);

#[derive(Debug, thiserror::Error)]
pub enum MappingError {
    #[error("{file}: {message}")]
    Parse { file: String, message: String },
    #[error("{file}: field \"{column}\": {message}")]
    Field {
        file: String,
        column: String,
        message: String,
    },
    #[error("cannot read mapping file {file}: {source}")]
    Read {
        file: String,
        #[source]
        source: std::io::Error,
    },
}

impl Mapping {
    pub fn parse(file: &str, text: &str) -> Result<Mapping, MappingError> {
        let mut m: Mapping = toml::from_str(text).map_err(|e| MappingError::Parse {
            file: file.to_owned(),
            message: e.to_string(),
        })?;
        let crm = m.crm.to_ascii_lowercase();
        if crm != "hubspot" && crm != "salesforce" {
            return Err(MappingError::Parse {
                file: file.to_owned(),
                message: format!(
                    "crm = \"{}\": expected \"hubspot\" or \"salesforce\"",
                    m.crm
                ),
            });
        }
        m.crm = crm;
        // Keep the file's column order: toml::Table preserves insertion order only with
        // the preserve_order feature, so read the order from the text itself.
        let order = column_order(text);
        let mut columns = Vec::new();
        for (column, value) in &m.fields {
            let spec = FieldSpecOrName::deserialize(value.clone())
                .map_err(|e| MappingError::Field {
                    file: file.to_owned(),
                    column: column.clone(),
                    message: e.to_string(),
                })?
                .0;
            if spec.crm.trim().is_empty() {
                return Err(MappingError::Field {
                    file: file.to_owned(),
                    column: column.clone(),
                    message: "needs a CRM field name (crm = \"...\")".into(),
                });
            }
            if let Some(tz) = &spec.tz
                && jiff::tz::TimeZone::get(tz).is_err()
            {
                return Err(MappingError::Field {
                    file: file.to_owned(),
                    column: column.clone(),
                    message: format!(
                        "unknown time zone '{tz}' (use an IANA name such as Europe/Berlin)"
                    ),
                });
            }
            columns.push((column.clone(), spec));
        }
        columns.sort_by_key(|(c, _)| order.iter().position(|o| o == c).unwrap_or(usize::MAX));
        m.columns = columns;
        Ok(m)
    }

    pub fn read(path: &std::path::Path) -> Result<Mapping, MappingError> {
        let text = std::fs::read_to_string(path).map_err(|source| MappingError::Read {
            file: path.display().to_string(),
            source,
        })?;
        Mapping::parse(&path.display().to_string(), &text)
    }

    /// The spec of the column that feeds `crm_field`, if any.
    pub fn column_for(&self, crm_field: &str) -> Option<&(String, FieldSpec)> {
        self.columns
            .iter()
            .find(|(_, s)| s.crm.eq_ignore_ascii_case(crm_field))
    }
}

/// Column names in the order the `[fields]` table lists them.
fn column_order(text: &str) -> Vec<String> {
    let mut in_fields = false;
    let mut out = Vec::new();
    for line in text.lines() {
        let t = line.trim();
        if t.starts_with('[') {
            in_fields = t == "[fields]";
            continue;
        }
        if !in_fields || t.is_empty() || t.starts_with('#') {
            continue;
        }
        let key = if let Some(rest) = t.strip_prefix('"') {
            rest.split('"').next().unwrap_or("")
        } else {
            t.split('=').next().unwrap_or("").trim()
        };
        if !key.is_empty() {
            out.push(key.to_owned());
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    const EXAMPLE: &str = r#"
crm = "hubspot"
object = "contacts"
[key]
source = "Email"
crm = "email"
[fields]
"First Name" = "firstname"
"State" = { crm = "state", transform = "us_state_code" }
"Signed up" = { crm = "signup_date", transform = "date", format = "%d/%m/%Y", tz = "Europe/Berlin" }
"Source" = { crm = "leadsource", transform = "picklist", map = { "Webinar" = "webinar" } }
"#;

    #[test]
    fn parses_the_design_example_in_order() {
        let m = Mapping::parse("m.toml", EXAMPLE).expect("parses");
        let cols: Vec<&str> = m.columns.iter().map(|(c, _)| c.as_str()).collect();
        assert_eq!(cols, ["First Name", "State", "Signed up", "Source"]);
        assert_eq!(m.columns[1].1.transform, Some(Transform::UsStateCode));
        assert_eq!(m.columns[3].1.map["Webinar"], "webinar");
    }

    #[test]
    fn unknown_keys_and_bad_values_are_clear_errors_with_the_line() {
        let e = Mapping::parse(
            "m.toml",
            &EXAMPLE.replace("[key]", "colour = \"red\"\n[key]"),
        )
        .expect_err("unknown key");
        assert!(
            e.to_string().contains("line") && e.to_string().contains("colour"),
            "{e}"
        );
        let e = Mapping::parse("m.toml", &EXAMPLE.replace("us_state_code", "state_magic"))
            .expect_err("bad transform");
        assert!(
            e.to_string().contains("State") && e.to_string().contains("state_magic"),
            "{e}"
        );
        let e = Mapping::parse("m.toml", &EXAMPLE.replace("Europe/Berlin", "Mars/Olympus"))
            .expect_err("bad tz");
        assert!(e.to_string().contains("unknown time zone"), "{e}");
        let e = Mapping::parse("m.toml", &EXAMPLE.replace("\"hubspot\"", "\"notacrm\""))
            .expect_err("bad crm");
        assert!(
            e.to_string()
                .contains("expected \"hubspot\" or \"salesforce\""),
            "{e}"
        );
    }
}
