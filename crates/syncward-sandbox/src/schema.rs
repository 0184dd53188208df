//! The sandbox's standard objects and their fields, rendered in each
//! vendor's own schema format (HubSpot properties, Salesforce describe), and
//! the validation each vendor applies to a write.

use serde_json::{Map, Value, json};

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Vendor {
    Hubspot,
    Salesforce,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Kind {
    Text,
    TextArea,
    Email,
    Phone,
    Url,
    Number,
    Bool,
    Date,
    DateTime,
    Picklist,
    Id,
    Reference,
}

#[derive(Debug, Clone)]
pub struct Field {
    pub name: String,
    pub label: String,
    pub kind: Kind,
    pub length: Option<usize>,
    pub required: bool,
    pub unique: bool,
    pub external_id: bool,
    pub read_only: bool,
    pub options: Vec<String>,
    pub restricted: bool,
    pub default: Option<String>,
}

#[derive(Debug, Clone)]
pub struct Object {
    pub vendor: Vendor,
    pub name: String,
    pub label: String,
    /// Salesforce id prefix (`00Q` for Lead).
    pub prefix: &'static str,
    pub fields: Vec<Field>,
}

impl Object {
    pub fn field(&self, name: &str) -> Option<&Field> {
        self.fields.iter().find(|f| f.name == name)
    }

    pub fn field_mut(&mut self, name: &str) -> Option<&mut Field> {
        self.fields.iter_mut().find(|f| f.name == name)
    }

    /// Fields matched case-insensitively, as Salesforce does.
    pub fn field_ci(&self, name: &str) -> Option<&Field> {
        self.field(name).or_else(|| {
            self.fields
                .iter()
                .find(|f| f.name.eq_ignore_ascii_case(name))
        })
    }
}

fn f(name: &str, label: &str, kind: Kind) -> Field {
    Field {
        name: name.into(),
        label: label.into(),
        kind,
        length: match kind {
            Kind::Text | Kind::Phone | Kind::Url | Kind::Email => Some(255),
            Kind::TextArea => Some(32_000),
            _ => None,
        },
        required: false,
        unique: false,
        external_id: false,
        read_only: false,
        options: Vec::new(),
        restricted: false,
        default: None,
    }
}

fn len(mut field: Field, n: usize) -> Field {
    field.length = Some(n);
    field
}

fn required(mut field: Field) -> Field {
    field.required = true;
    field
}

fn unique(mut field: Field) -> Field {
    field.unique = true;
    field
}

fn read_only(mut field: Field) -> Field {
    field.read_only = true;
    field
}

fn external(mut field: Field) -> Field {
    field.external_id = true;
    field.unique = true;
    field
}

fn picklist(
    name: &str,
    label: &str,
    options: &[&str],
    restricted: bool,
    default: Option<&str>,
) -> Field {
    let mut field = f(name, label, Kind::Picklist);
    field.options = options.iter().map(|o| (*o).to_owned()).collect();
    field.restricted = restricted;
    field.default = default.map(str::to_owned);
    field
}

const LIFECYCLE: &[&str] = &[
    "subscriber",
    "lead",
    "marketingqualifiedlead",
    "salesqualifiedlead",
    "opportunity",
    "customer",
    "evangelist",
    "other",
];
const HS_LEAD_STATUS: &[&str] = &[
    "NEW",
    "OPEN",
    "IN_PROGRESS",
    "OPEN_DEAL",
    "UNQUALIFIED",
    "ATTEMPTED_TO_CONTACT",
    "CONNECTED",
    "BAD_TIMING",
];
const DEAL_STAGES: &[&str] = &[
    "appointmentscheduled",
    "qualifiedtobuy",
    "presentationscheduled",
    "decisionmakerboughtin",
    "contractsent",
    "closedwon",
    "closedlost",
];
const LEAD_SOURCE: &[&str] = &[
    "Web",
    "Phone Inquiry",
    "Partner Referral",
    "Purchased List",
    "Other",
    "Webinar",
    "Trade Show",
];
const LEAD_STATUS: &[&str] = &[
    "Open - Not Contacted",
    "Working - Contacted",
    "Closed - Converted",
    "Closed - Not Converted",
];
const STAGES: &[&str] = &[
    "Prospecting",
    "Qualification",
    "Needs Analysis",
    "Value Proposition",
    "Proposal/Price Quote",
    "Negotiation/Review",
    "Closed Won",
    "Closed Lost",
];
const INDUSTRY: &[&str] = &[
    "Agriculture",
    "Banking",
    "Education",
    "Healthcare",
    "Manufacturing",
    "Retail",
    "Technology",
    "Other",
];

fn hubspot_common() -> Vec<Field> {
    vec![
        read_only(f("hs_object_id", "Record ID", Kind::Id)),
        read_only(f("createdate", "Create Date", Kind::DateTime)),
        read_only(f("lastmodifieddate", "Last Modified Date", Kind::DateTime)),
        f("hubspot_owner_id", "Contact owner", Kind::Text),
    ]
}

/// The standard objects, as a fresh sandbox has them.
pub fn standard() -> Vec<Object> {
    let mut contacts = hubspot_common();
    contacts.extend([
        unique(f("email", "Email", Kind::Email)),
        f("firstname", "First Name", Kind::Text),
        f("lastname", "Last Name", Kind::Text),
        f("phone", "Phone Number", Kind::Phone),
        f("company", "Company Name", Kind::Text),
        f("jobtitle", "Job Title", Kind::Text),
        f("website", "Website URL", Kind::Url),
        f("city", "City", Kind::Text),
        f("state", "State/Region", Kind::Text),
        f("country", "Country/Region", Kind::Text),
        f("zip", "Postal Code", Kind::Text),
        f("date_of_birth", "Date of birth", Kind::Date),
        f("numemployees", "Number of Employees", Kind::Number),
        picklist("lifecyclestage", "Lifecycle Stage", LIFECYCLE, true, None),
        picklist("hs_lead_status", "Lead Status", HS_LEAD_STATUS, true, None),
    ]);
    let mut companies = hubspot_common();
    companies.extend([
        f("name", "Company name", Kind::Text),
        unique(f("domain", "Company Domain Name", Kind::Text)),
        f("phone", "Phone Number", Kind::Phone),
        f("city", "City", Kind::Text),
        f("state", "State/Region", Kind::Text),
        f("country", "Country/Region", Kind::Text),
        f("numberofemployees", "Number of Employees", Kind::Number),
        f("annualrevenue", "Annual Revenue", Kind::Number),
        picklist(
            "industry",
            "Industry",
            &[
                "ACCOUNTING",
                "COMPUTER_SOFTWARE",
                "EDUCATION_MANAGEMENT",
                "HOSPITAL_HEALTH_CARE",
                "RETAIL",
                "OTHER",
            ],
            true,
            None,
        ),
    ]);
    let mut deals = hubspot_common();
    deals.extend([
        f("dealname", "Deal Name", Kind::Text),
        f("amount", "Amount", Kind::Number),
        picklist("dealstage", "Deal Stage", DEAL_STAGES, true, None),
        picklist("pipeline", "Pipeline", &["default"], true, Some("default")),
        f("closedate", "Close Date", Kind::Date),
        unique(f("deal_external_id", "External Deal ID", Kind::Text)),
    ]);

    let sf_common = || {
        vec![
            read_only(f("Id", "Record ID", Kind::Id)),
            f("OwnerId", "Owner ID", Kind::Reference),
            read_only(f("CreatedDate", "Created Date", Kind::DateTime)),
            read_only(f("LastModifiedDate", "Last Modified Date", Kind::DateTime)),
        ]
    };
    let mut lead = sf_common();
    lead.extend([
        len(f("FirstName", "First Name", Kind::Text), 40),
        required(len(f("LastName", "Last Name", Kind::Text), 80)),
        len(f("Company", "Company", Kind::Text), 255),
        f("Email", "Email", Kind::Email),
        len(f("Phone", "Phone", Kind::Phone), 40),
        len(f("Title", "Title", Kind::Text), 128),
        len(f("City", "City", Kind::Text), 40),
        len(f("State", "State/Province", Kind::Text), 80),
        len(f("Country", "Country", Kind::Text), 80),
        picklist("LeadSource", "Lead Source", LEAD_SOURCE, true, None),
        picklist(
            "Status",
            "Lead Status",
            LEAD_STATUS,
            true,
            Some("Open - Not Contacted"),
        ),
        picklist("Industry", "Industry", INDUSTRY, false, None),
        f("NumberOfEmployees", "Employees", Kind::Number),
        f("Description", "Description", Kind::TextArea),
        external(len(f("External_Id__c", "External Id", Kind::Text), 64)),
    ]);
    let mut contact = sf_common();
    contact.extend([
        len(f("FirstName", "First Name", Kind::Text), 40),
        required(len(f("LastName", "Last Name", Kind::Text), 80)),
        f("Email", "Email", Kind::Email),
        len(f("Phone", "Business Phone", Kind::Phone), 40),
        len(f("Title", "Title", Kind::Text), 128),
        f("AccountId", "Account ID", Kind::Reference),
        f("Birthdate", "Birthdate", Kind::Date),
        len(f("MailingCity", "Mailing City", Kind::Text), 40),
        len(f("MailingState", "Mailing State/Province", Kind::Text), 80),
        len(f("MailingCountry", "Mailing Country", Kind::Text), 80),
        picklist("LeadSource", "Lead Source", LEAD_SOURCE, true, None),
        external(len(f("External_Id__c", "External Id", Kind::Text), 64)),
    ]);
    let mut account = sf_common();
    account.extend([
        required(len(f("Name", "Account Name", Kind::Text), 255)),
        len(f("Phone", "Account Phone", Kind::Phone), 40),
        f("Website", "Website", Kind::Url),
        len(f("BillingCity", "Billing City", Kind::Text), 40),
        len(f("BillingState", "Billing State/Province", Kind::Text), 80),
        len(f("BillingCountry", "Billing Country", Kind::Text), 80),
        picklist("Industry", "Industry", INDUSTRY, false, None),
        f("NumberOfEmployees", "Employees", Kind::Number),
        f("AnnualRevenue", "Annual Revenue", Kind::Number),
        external(len(f("External_Id__c", "External Id", Kind::Text), 64)),
    ]);
    let mut opportunity = sf_common();
    opportunity.extend([
        required(len(f("Name", "Name", Kind::Text), 120)),
        required(picklist("StageName", "Stage", STAGES, true, None)),
        required(f("CloseDate", "Close Date", Kind::Date)),
        f("Amount", "Amount", Kind::Number),
        f("AccountId", "Account ID", Kind::Reference),
        picklist("LeadSource", "Lead Source", LEAD_SOURCE, true, None),
        external(len(f("External_Id__c", "External Id", Kind::Text), 64)),
    ]);

    let hs = |name: &str, label: &str, fields: Vec<Field>| Object {
        vendor: Vendor::Hubspot,
        name: name.into(),
        label: label.into(),
        prefix: "",
        fields,
    };
    let sf = |name: &str, prefix: &'static str, fields: Vec<Field>| Object {
        vendor: Vendor::Salesforce,
        name: name.into(),
        label: name.into(),
        prefix,
        fields,
    };
    vec![
        hs("contacts", "Contact", contacts),
        hs("companies", "Company", companies),
        hs("deals", "Deal", deals),
        sf("Lead", "00Q", lead),
        sf("Contact", "003", contact),
        sf("Account", "001", account),
        sf("Opportunity", "006", opportunity),
    ]
}

/// `GET /crm/v3/properties/{object}`
pub fn hubspot_properties(o: &Object) -> Value {
    let results: Vec<Value> = o
        .fields
        .iter()
        .map(|fd| {
            let (ty, field_type) = match fd.kind {
                Kind::Number => ("number", "number"),
                Kind::Bool => ("bool", "booleancheckbox"),
                Kind::Date => ("date", "date"),
                Kind::DateTime => ("datetime", "date"),
                Kind::Picklist => ("enumeration", "select"),
                Kind::Phone => ("string", "phonenumber"),
                Kind::TextArea => ("string", "textarea"),
                _ => ("string", "text"),
            };
            let options: Vec<Value> = fd
                .options
                .iter()
                .enumerate()
                .map(|(i, opt)| json!({"label": label_of(opt), "value": opt, "displayOrder": i, "hidden": false}))
                .collect();
            json!({
                "name": fd.name, "label": fd.label, "type": ty, "fieldType": field_type,
                "description": "", "groupName": format!("{}information", o.label.to_ascii_lowercase()),
                "options": options, "displayOrder": -1, "calculated": false, "externalOptions": false,
                "hasUniqueValue": fd.unique, "hidden": false, "hubspotDefined": true,
                "modificationMetadata": {"archivable": false, "readOnlyDefinition": true, "readOnlyValue": fd.read_only},
                "formField": !fd.read_only, "archived": false,
                "createdAt": "2020-01-01T00:00:00Z", "updatedAt": "2020-01-01T00:00:00Z"
            })
        })
        .collect();
    json!({ "results": results })
}

fn label_of(option: &str) -> String {
    let mut s = String::new();
    for (i, part) in option.split(['_', ' ']).enumerate() {
        if i > 0 {
            s.push(' ');
        }
        let mut c = part.chars();
        if let Some(first) = c.next() {
            s.extend(first.to_uppercase());
            s.push_str(&c.as_str().to_ascii_lowercase());
        }
    }
    s
}

/// `GET /services/data/vNN.0/sobjects/{S}/describe`
pub fn salesforce_describe(o: &Object) -> Value {
    let fields: Vec<Value> = o
        .fields
        .iter()
        .map(|fd| {
            let ty = match fd.kind {
                Kind::Text => "string",
                Kind::TextArea => "textarea",
                Kind::Email => "email",
                Kind::Phone => "phone",
                Kind::Url => "url",
                Kind::Number => "double",
                Kind::Bool => "boolean",
                Kind::Date => "date",
                Kind::DateTime => "datetime",
                Kind::Picklist => "picklist",
                Kind::Id => "id",
                Kind::Reference => "reference",
            };
            let picklist: Vec<Value> = fd
                .options
                .iter()
                .map(|v| json!({"active": true, "defaultValue": fd.default.as_deref() == Some(v.as_str()), "label": v, "validFor": null, "value": v}))
                .collect();
            let system = matches!(fd.name.as_str(), "Id" | "CreatedDate" | "LastModifiedDate");
            json!({
                "name": fd.name, "label": fd.label, "type": ty,
                "length": fd.length.unwrap_or(0), "precision": if fd.kind == Kind::Number { 18 } else { 0 }, "scale": if fd.kind == Kind::Number { 2 } else { 0 },
                "nillable": !fd.required && fd.kind != Kind::Bool && !system,
                "createable": !fd.read_only, "updateable": !fd.read_only,
                "defaultedOnCreate": fd.default.is_some() || system || fd.name == "OwnerId",
                "unique": fd.unique, "externalId": fd.external_id, "idLookup": fd.external_id || fd.name == "Id",
                "restrictedPicklist": fd.restricted, "picklistValues": picklist,
                "custom": fd.name.ends_with("__c"),
                "referenceTo": if fd.kind == Kind::Reference { vec![if fd.name == "AccountId" { "Account" } else { "User" }] } else { Vec::new() },
            })
        })
        .collect();
    json!({
        "name": o.name, "label": o.label, "labelPlural": format!("{}s", o.label), "keyPrefix": o.prefix,
        "createable": true, "updateable": true, "custom": false, "fields": fields,
        "urls": {"sobject": format!("/services/data/v62.0/sobjects/{}", o.name)}
    })
}

/// One problem with one field of one write.
#[derive(Debug, Clone, PartialEq)]
pub struct Problem {
    pub code: &'static str,
    pub message: String,
    pub field: String,
}

/// Checks a write as the vendor would. `create` adds the required-field check.
pub fn validate(o: &Object, props: &Map<String, Value>, create: bool) -> Vec<Problem> {
    let mut problems = Vec::new();
    let hs = o.vendor == Vendor::Hubspot;
    for (name, value) in props {
        if name == "attributes" && !hs {
            continue;
        }
        let Some(fd) = (if hs { o.field(name) } else { o.field_ci(name) }) else {
            problems.push(if hs {
                Problem {
                    code: "PROPERTY_DOESNT_EXIST",
                    message: format!("Property \"{name}\" does not exist"),
                    field: name.clone(),
                }
            } else {
                Problem {
                    code: "INVALID_FIELD",
                    message: format!("No such column '{name}' on sobject of type {}", o.name),
                    field: name.clone(),
                }
            });
            continue;
        };
        if fd.read_only {
            problems.push(if hs {
                Problem { code: "READ_ONLY_VALUE", message: format!("\"{name}\" is a read only property; its value cannot be set."), field: fd.name.clone() }
            } else {
                Problem { code: "INVALID_FIELD_FOR_INSERT_UPDATE", message: format!("Unable to create/update fields: {}. Please check the security settings of this field and verify that it is read/write for your profile or permission set.", fd.name), field: fd.name.clone() }
            });
            continue;
        }
        if let Some(p) = check_value(o, fd, value) {
            problems.push(p);
        }
    }
    if create && !hs {
        let missing: Vec<String> = o
            .fields
            .iter()
            .filter(|fd| fd.required && fd.default.is_none())
            .filter(|fd| {
                props
                    .iter()
                    .find(|(k, _)| k.eq_ignore_ascii_case(&fd.name))
                    .is_none_or(|(_, v)| blank(v))
            })
            .map(|fd| fd.name.clone())
            .collect();
        if !missing.is_empty() {
            problems.push(Problem {
                code: "REQUIRED_FIELD_MISSING",
                message: format!("Required fields are missing: [{}]", missing.join(", ")),
                field: missing.join(","),
            });
        }
    }
    if create && hs {
        for fd in o.fields.iter().filter(|fd| fd.required) {
            if props.get(&fd.name).is_none_or(blank) {
                problems.push(Problem {
                    code: "REQUIRED_PROPERTY",
                    message: format!("Required property '{}' is missing", fd.name),
                    field: fd.name.clone(),
                });
            }
        }
    }
    problems
}

pub fn blank(v: &Value) -> bool {
    match v {
        Value::Null => true,
        Value::String(s) => s.trim().is_empty(),
        _ => false,
    }
}

fn as_text(v: &Value) -> String {
    match v {
        Value::String(s) => s.clone(),
        other => other.to_string(),
    }
}

fn check_value(o: &Object, fd: &Field, value: &Value) -> Option<Problem> {
    if blank(value) {
        return None;
    }
    let hs = o.vendor == Vendor::Hubspot;
    let text = as_text(value);
    let field = fd.name.clone();
    let json_err = |ty: &str| Problem {
        code: "JSON_PARSER_ERROR",
        message: format!(
            "Cannot deserialize instance of {ty} from VALUE_STRING value {text} or request may be missing a required field at [line:1, column:1]"
        ),
        field: field.clone(),
    };
    match fd.kind {
        Kind::Number => {
            let numeric_string = value
                .as_str()
                .is_some_and(|s| s.trim() == s && s.parse::<f64>().is_ok());
            if !(value.is_number() || numeric_string) {
                return Some(if hs {
                    Problem {
                        code: "INVALID_DOUBLE",
                        message: format!("{text} was not a valid number."),
                        field,
                    }
                } else {
                    json_err("double")
                });
            }
        }
        Kind::Bool => {
            let ok = value.is_boolean() || (hs && matches!(text.as_str(), "true" | "false"));
            if !ok {
                return Some(if hs {
                    Problem {
                        code: "INVALID_BOOLEAN",
                        message: format!("{text} was not a valid boolean."),
                        field,
                    }
                } else {
                    json_err("boolean")
                });
            }
        }
        Kind::Date if !valid_date(&text, hs) => {
            return Some(if hs {
                Problem {
                    code: "INVALID_DATE",
                    message: format!(
                        "{text} is not a valid date: dates are midnight UTC, as YYYY-MM-DD or epoch milliseconds"
                    ),
                    field,
                }
            } else {
                json_err("date")
            });
        }
        Kind::DateTime if !valid_datetime(&text) => {
            return Some(if hs {
                Problem {
                    code: "INVALID_DATETIME",
                    message: format!("{text} is not a valid datetime"),
                    field,
                }
            } else {
                json_err("datetime")
            });
        }
        Kind::Picklist if fd.restricted && !fd.options.contains(&text) => {
            return Some(if hs {
                let allowed: Vec<String> = fd
                    .options
                    .iter()
                    .map(|opt| format!("label: \"{}\", value: \"{opt}\"", label_of(opt)))
                    .collect();
                Problem {
                    code: "INVALID_OPTION",
                    message: format!(
                        "{text} was not one of the allowed options: [{}]",
                        allowed.join(", ")
                    ),
                    field,
                }
            } else {
                Problem {
                    code: "INVALID_OR_NULL_FOR_RESTRICTED_PICKLIST",
                    message: format!(
                        "{}: bad value for restricted picklist field: {text}",
                        fd.label
                    ),
                    field,
                }
            });
        }
        Kind::Email if !valid_email(&text) => {
            return Some(if hs {
                Problem {
                    code: "INVALID_EMAIL",
                    message: format!("Email address {text} is invalid"),
                    field,
                }
            } else {
                Problem {
                    code: "INVALID_EMAIL_ADDRESS",
                    message: format!("{}: invalid email address: {text}", fd.label),
                    field,
                }
            });
        }
        _ => {}
    }
    if let Some(max) = fd.length
        && text.chars().count() > max
        && !hs
    {
        return Some(Problem {
            code: "STRING_TOO_LONG",
            message: format!(
                "{}: data value too large: {text} (max length={max})",
                fd.label
            ),
            field,
        });
    }
    None
}

pub fn valid_email(s: &str) -> bool {
    let Some((local, domain)) = s.split_once('@') else {
        return false;
    };
    !local.is_empty()
        && !domain.contains('@')
        && domain.contains('.')
        && !domain.starts_with('.')
        && !domain.ends_with('.')
        && !s.contains(char::is_whitespace)
}

fn valid_date(s: &str, allow_epoch_ms: bool) -> bool {
    if allow_epoch_ms && s.bytes().all(|b| b.is_ascii_digit()) {
        return s.parse::<i64>().is_ok_and(|ms| ms % 86_400_000 == 0);
    }
    let b = s.as_bytes();
    b.len() == 10
        && b[4] == b'-'
        && b[7] == b'-'
        && s[..4].parse::<u32>().is_ok()
        && s[5..7].parse::<u32>().is_ok_and(|m| (1..=12).contains(&m))
        && s[8..10].parse::<u32>().is_ok_and(|d| (1..=31).contains(&d))
}

fn valid_datetime(s: &str) -> bool {
    if s.bytes().all(|b| b.is_ascii_digit()) {
        return true;
    }
    s.len() >= 19 && valid_date(&s[..10], false) && s.as_bytes()[10] == b'T'
}

#[cfg(test)]
mod tests {
    use super::*;

    fn obj(name: &str) -> Object {
        standard()
            .into_iter()
            .find(|o| o.name == name)
            .expect("standard object")
    }

    #[test]
    fn salesforce_validation_uses_salesforce_codes() {
        let lead = obj("Lead");
        let props: Map<String, Value> = serde_json::from_value(json!({"Email": "nope", "LeadSource": "Billboard", "Bogus__c": 1, "City": "x".repeat(41)})).expect("map");
        let codes: Vec<&str> = validate(&lead, &props, true)
            .iter()
            .map(|p| p.code)
            .collect();
        assert!(codes.contains(&"INVALID_EMAIL_ADDRESS"));
        assert!(codes.contains(&"INVALID_OR_NULL_FOR_RESTRICTED_PICKLIST"));
        assert!(codes.contains(&"INVALID_FIELD"));
        assert!(codes.contains(&"STRING_TOO_LONG"));
        assert!(codes.contains(&"REQUIRED_FIELD_MISSING"));
    }

    #[test]
    fn hubspot_validation_uses_hubspot_codes() {
        let contacts = obj("contacts");
        let props: Map<String, Value> = serde_json::from_value(json!({"email": "a@", "lifecyclestage": "Lead", "date_of_birth": "03/04/1990", "createdate": "x", "nope": "1"})).expect("map");
        let codes: Vec<&str> = validate(&contacts, &props, true)
            .iter()
            .map(|p| p.code)
            .collect();
        assert_eq!(codes.len(), 5, "{codes:?}");
        for c in [
            "INVALID_EMAIL",
            "INVALID_OPTION",
            "INVALID_DATE",
            "READ_ONLY_VALUE",
            "PROPERTY_DOESNT_EXIST",
        ] {
            assert!(codes.contains(&c), "{c}");
        }
    }
}
