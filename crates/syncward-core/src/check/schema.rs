//! A CRM object's schema, read from the CRM's own format (a HubSpot
//! properties response or a Salesforce describe), and drift between two
//! snapshots.

use serde::Serialize;
use serde_json::Value;

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "lowercase")]
pub enum SchemaCrm {
    Hubspot,
    Salesforce,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "lowercase")]
pub enum FieldType {
    String,
    Text,
    Email,
    Phone,
    Url,
    Number,
    Bool,
    Date,
    DateTime,
    Picklist,
    MultiPicklist,
    Id,
    Reference,
    Other,
}

impl FieldType {
    pub fn as_str(self) -> &'static str {
        match self {
            FieldType::String => "string",
            FieldType::Text => "text",
            FieldType::Email => "email",
            FieldType::Phone => "phone",
            FieldType::Url => "url",
            FieldType::Number => "number",
            FieldType::Bool => "bool",
            FieldType::Date => "date",
            FieldType::DateTime => "datetime",
            FieldType::Picklist => "picklist",
            FieldType::MultiPicklist => "multipicklist",
            FieldType::Id => "id",
            FieldType::Reference => "reference",
            FieldType::Other => "other",
        }
    }
}

#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct PicklistOption {
    pub value: String,
    pub label: String,
}

#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct SchemaField {
    pub name: String,
    pub label: String,
    pub kind: FieldType,
    /// Must be given on create (Salesforce: createable, not nillable, not defaulted).
    pub required: bool,
    pub read_only: bool,
    /// Unique values, or a Salesforce external id: usable as an upsert key.
    pub unique: bool,
    pub length: Option<usize>,
    pub options: Vec<PicklistOption>,
    /// Only the listed options are accepted.
    pub restricted: bool,
}

#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Schema {
    pub crm: SchemaCrm,
    pub object: String,
    pub fields: Vec<SchemaField>,
}

#[derive(Debug, thiserror::Error)]
pub enum SchemaError {
    #[error("{source_name}: not JSON: {message}")]
    NotJson {
        source_name: String,
        message: String,
    },
    #[error(
        "{source_name}: neither a HubSpot properties response ({{\"results\": [...]}}) nor a Salesforce describe ({{\"name\", \"fields\": [...]}})"
    )]
    Unknown { source_name: String },
}

impl Schema {
    pub fn field(&self, name: &str) -> Option<&SchemaField> {
        self.fields.iter().find(|f| f.name == name).or_else(|| {
            (self.crm == SchemaCrm::Salesforce)
                .then(|| {
                    self.fields
                        .iter()
                        .find(|f| f.name.eq_ignore_ascii_case(name))
                })
                .flatten()
        })
    }

    /// The largest batch the CRM takes in one call (HubSpot batch 100, Salesforce collections 200).
    pub fn batch_cap(&self) -> usize {
        match self.crm {
            SchemaCrm::Hubspot => 100,
            SchemaCrm::Salesforce => 200,
        }
    }

    /// Detects the format from the content. `object` names a HubSpot object
    /// (its properties response does not say which object it describes).
    pub fn parse(
        source_name: &str,
        text: &str,
        object: Option<&str>,
    ) -> Result<Schema, SchemaError> {
        let v: Value = serde_json::from_str(text).map_err(|e| SchemaError::NotJson {
            source_name: source_name.to_owned(),
            message: e.to_string(),
        })?;
        if let Some(results) = v.get("results").and_then(Value::as_array) {
            return Ok(Schema {
                crm: SchemaCrm::Hubspot,
                object: object.unwrap_or("").to_owned(),
                fields: results
                    .iter()
                    .filter(|p| p.get("archived") != Some(&Value::Bool(true)))
                    .map(hubspot_field)
                    .collect(),
            });
        }
        if let (Some(name), Some(fields)) = (
            v.get("name").and_then(Value::as_str),
            v.get("fields").and_then(Value::as_array),
        ) {
            return Ok(Schema {
                crm: SchemaCrm::Salesforce,
                object: name.to_owned(),
                fields: fields.iter().map(salesforce_field).collect(),
            });
        }
        Err(SchemaError::Unknown {
            source_name: source_name.to_owned(),
        })
    }
}

fn s(v: &Value, k: &str) -> String {
    v.get(k).and_then(Value::as_str).unwrap_or("").to_owned()
}

fn b(v: &Value, k: &str) -> bool {
    v.get(k).and_then(Value::as_bool).unwrap_or(false)
}

fn hubspot_field(p: &Value) -> SchemaField {
    let name = s(p, "name");
    let ty = s(p, "type");
    let field_type = s(p, "fieldType");
    let kind = match (ty.as_str(), field_type.as_str()) {
        ("number", _) => FieldType::Number,
        ("bool", _) => FieldType::Bool,
        ("date", _) => FieldType::Date,
        ("datetime", _) => FieldType::DateTime,
        ("enumeration", "checkbox") => FieldType::MultiPicklist,
        ("enumeration", "booleancheckbox") => FieldType::Bool,
        ("enumeration", _) => FieldType::Picklist,
        (_, "phonenumber") => FieldType::Phone,
        (_, "textarea") => FieldType::Text,
        _ if name == "email" => FieldType::Email,
        _ => FieldType::String,
    };
    let options = p
        .get("options")
        .and_then(Value::as_array)
        .map(|list| {
            list.iter()
                .filter(|o| o.get("hidden") != Some(&Value::Bool(true)))
                .map(|o| PicklistOption {
                    value: s(o, "value"),
                    label: s(o, "label"),
                })
                .collect()
        })
        .unwrap_or_default();
    let read_only = p
        .get("modificationMetadata")
        .is_some_and(|m| b(m, "readOnlyValue"))
        || b(p, "calculated");
    SchemaField {
        label: s(p, "label"),
        unique: b(p, "hasUniqueValue") || name == "email" || name == "hs_object_id",
        required: false,
        read_only,
        length: None,
        restricted: matches!(kind, FieldType::Picklist | FieldType::MultiPicklist),
        options,
        kind,
        name,
    }
}

fn salesforce_field(f: &Value) -> SchemaField {
    let ty = s(f, "type");
    let kind = match ty.as_str() {
        "string" | "encryptedstring" | "combobox" => FieldType::String,
        "textarea" => FieldType::Text,
        "email" => FieldType::Email,
        "phone" => FieldType::Phone,
        "url" => FieldType::Url,
        "double" | "currency" | "percent" | "int" | "long" => FieldType::Number,
        "boolean" => FieldType::Bool,
        "date" => FieldType::Date,
        "datetime" => FieldType::DateTime,
        "picklist" => FieldType::Picklist,
        "multipicklist" => FieldType::MultiPicklist,
        "id" => FieldType::Id,
        "reference" => FieldType::Reference,
        _ => FieldType::Other,
    };
    let createable = b(f, "createable");
    let options = f
        .get("picklistValues")
        .and_then(Value::as_array)
        .map(|list| {
            list.iter()
                .filter(|o| o.get("active") != Some(&Value::Bool(false)))
                .map(|o| PicklistOption {
                    value: s(o, "value"),
                    label: s(o, "label"),
                })
                .collect()
        })
        .unwrap_or_default();
    SchemaField {
        name: s(f, "name"),
        label: s(f, "label"),
        required: createable && !b(f, "nillable") && !b(f, "defaultedOnCreate"),
        read_only: !createable && !b(f, "updateable"),
        unique: b(f, "unique") || b(f, "externalId"),
        length: f
            .get("length")
            .and_then(Value::as_u64)
            .filter(|l| {
                *l > 0
                    && matches!(
                        kind,
                        FieldType::String
                            | FieldType::Email
                            | FieldType::Phone
                            | FieldType::Url
                            | FieldType::Text
                    )
            })
            .map(|l| l as usize),
        restricted: b(f, "restrictedPicklist"),
        options,
        kind,
    }
}

/// One change between two snapshots of a schema.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Drift {
    pub change: DriftKind,
    pub field: String,
    pub before: Option<String>,
    pub after: Option<String>,
    /// The change breaks writes that worked before.
    pub breaking: bool,
    pub message: String,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum DriftKind {
    FieldAdded,
    FieldRemoved,
    BecameRequired,
    NoLongerRequired,
    TypeChanged,
    OptionRemoved,
    OptionAdded,
    LengthShrunk,
    BecameReadOnly,
    NoLongerUnique,
}

/// What changed from `old` to `new`.
pub fn diff(old: &Schema, new: &Schema) -> Vec<Drift> {
    let mut out = Vec::new();
    let d = |change,
             field: &str,
             before: Option<String>,
             after: Option<String>,
             breaking,
             message: String| Drift {
        change,
        field: field.to_owned(),
        before,
        after,
        breaking,
        message,
    };
    for of in &old.fields {
        let Some(nf) = new.fields.iter().find(|f| f.name == of.name) else {
            out.push(d(
                DriftKind::FieldRemoved,
                &of.name,
                Some(of.kind.as_str().into()),
                None,
                true,
                format!("{} was removed: writes that set it now fail", of.name),
            ));
            continue;
        };
        if !of.required && nf.required {
            out.push(d(
                DriftKind::BecameRequired,
                &of.name,
                Some("optional".into()),
                Some("required".into()),
                true,
                format!("{} became required: records without it now bounce", of.name),
            ));
        }
        if of.required && !nf.required {
            out.push(d(
                DriftKind::NoLongerRequired,
                &of.name,
                Some("required".into()),
                Some("optional".into()),
                false,
                format!("{} is no longer required", of.name),
            ));
        }
        if of.kind != nf.kind {
            out.push(d(
                DriftKind::TypeChanged,
                &of.name,
                Some(of.kind.as_str().into()),
                Some(nf.kind.as_str().into()),
                true,
                format!(
                    "{} changed type from {} to {}",
                    of.name,
                    of.kind.as_str(),
                    nf.kind.as_str()
                ),
            ));
        }
        for opt in &of.options {
            if !nf.options.iter().any(|o| o.value == opt.value) && nf.restricted {
                out.push(d(
                    DriftKind::OptionRemoved,
                    &of.name,
                    Some(opt.value.clone()),
                    None,
                    true,
                    format!("{} lost the option '{}'", of.name, opt.value),
                ));
            }
        }
        for opt in &nf.options {
            if !of.options.iter().any(|o| o.value == opt.value) {
                out.push(d(
                    DriftKind::OptionAdded,
                    &of.name,
                    None,
                    Some(opt.value.clone()),
                    false,
                    format!("{} gained the option '{}'", of.name, opt.value),
                ));
            }
        }
        if let (Some(a), Some(b)) = (of.length, nf.length)
            && b < a
        {
            out.push(d(
                DriftKind::LengthShrunk,
                &of.name,
                Some(a.to_string()),
                Some(b.to_string()),
                true,
                format!("{} now holds at most {b} characters (was {a})", of.name),
            ));
        }
        if !of.read_only && nf.read_only {
            out.push(d(
                DriftKind::BecameReadOnly,
                &of.name,
                None,
                None,
                true,
                format!("{} became read-only", of.name),
            ));
        }
        if of.unique && !nf.unique {
            out.push(d(
                DriftKind::NoLongerUnique,
                &of.name,
                None,
                None,
                true,
                format!(
                    "{} is no longer unique: it cannot be an upsert key",
                    of.name
                ),
            ));
        }
    }
    for nf in &new.fields {
        if !old.fields.iter().any(|f| f.name == nf.name) {
            out.push(d(
                DriftKind::FieldAdded,
                &nf.name,
                None,
                Some(nf.kind.as_str().into()),
                nf.required,
                if nf.required {
                    format!(
                        "{} was added as a required field: records without it now bounce",
                        nf.name
                    )
                } else {
                    format!("{} was added", nf.name)
                },
            ));
        }
    }
    out
}
