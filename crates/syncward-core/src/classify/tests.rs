//! Per-family classifier tests. Fixtures are written from the shapes in
//! shared/reference/crm-error-formats.md and the vendors' docs.

use super::*;
use crate::model::Layer::*;
use std::sync::OnceLock;

fn engine() -> &'static Classifier {
    static C: OnceLock<Classifier> = OnceLock::new();
    C.get_or_init(|| Classifier::builtin().expect("built-in rules load"))
}

fn check(text: &str, layer: Layer) -> Classification {
    let c = engine().classify(&Input::text(text));
    assert_eq!(c.layer, layer, "layer of {text:?}: got {c:?}");
    c
}

fn code(c: &Classification) -> &str {
    c.code.as_deref().unwrap_or("")
}

#[test]
fn salesforce_rest_error_arrays() {
    let c = check(
        r#"[{"message":"Session expired or invalid","errorCode":"INVALID_SESSION_ID"}]"#,
        Auth,
    );
    assert_eq!(code(&c), "INVALID_SESSION_ID");
    assert!(!c.transient);
    let c = check(
        r#"[{"message":"duplicate value found: NozzleAccountId__c duplicates value on record with id: 001Vr00000m4eGCIAY","errorCode":"DUPLICATE_VALUE","fields":[]}]"#,
        Dedupe,
    );
    assert_eq!(c.fields, vec!["NozzleAccountId__c"]);
    let c = check(
        r#"[{"message":"Cannot deserialize instance of datetime from VALUE_STRING value 2046-04-05 17:00:00 or request may be missing a required field at [line:1, column:123]","errorCode":"JSON_PARSER_ERROR"}]"#,
        Mapping,
    );
    assert_eq!(code(&c), "JSON_PARSER_ERROR");
    let c = check(
        r#"[{"message":"No such column 'Region__c' on entity 'Lead'. If you are attempting to use a custom field, be sure to append the '__c' after the custom field name.","errorCode":"INVALID_FIELD"}]"#,
        Mapping,
    );
    assert_eq!(c.fields, vec!["Region__c"]);
    let c = check(
        r#"[{"message":"Required fields are missing: [LastName, Company]","errorCode":"REQUIRED_FIELD_MISSING","fields":["LastName","Company"]}]"#,
        Mapping,
    );
    assert_eq!(c.fields, vec!["LastName", "Company"]);
}

#[test]
fn salesforce_status_codes_from_the_reference() {
    for (code, layer) in [
        ("INSUFFICIENT_ACCESS_ON_CROSS_REFERENCE_ENTITY", Auth),
        ("INSUFFICIENT_ACCESS_OR_READONLY", Auth),
        ("LOGIN_MUST_USE_SECURITY_TOKEN", Auth),
        ("API_DISABLED_FOR_ORG", Auth),
        ("INACTIVE_OWNER_OR_USER", Auth),
        ("REQUIRED_FIELD_MISSING", Mapping),
        ("INVALID_FIELD", Mapping),
        ("INVALID_TYPE_ON_FIELD_IN_RECORD", Mapping),
        ("INVALID_OR_NULL_FOR_RESTRICTED_PICKLIST", Mapping),
        ("INVALID_FIELD_FOR_INSERT_UPDATE", Mapping),
        ("FIELD_INTEGRITY_EXCEPTION", Mapping),
        ("MALFORMED_ID", Mapping),
        ("NUMBER_OUTSIDE_VALID_RANGE", Record),
        ("INVALID_EMAIL_ADDRESS", Record),
        ("STRING_TOO_LONG", Record),
        ("ENTITY_IS_DELETED", Record),
        ("ENTITY_IS_LOCKED", Record),
        ("INVALID_CROSS_REFERENCE_KEY", Record),
        ("DUPLICATE_VALUE", Dedupe),
        ("DUPLICATES_DETECTED", Dedupe),
        ("DUPLICATE_EXTERNAL_ID", Dedupe),
        ("FIELD_CUSTOM_VALIDATION_EXCEPTION", Workflow),
        ("FIELD_FILTER_VALIDATION_EXCEPTION", Workflow),
        ("CANNOT_INSERT_UPDATE_ACTIVATE_ENTITY", Workflow),
        ("CANNOT_EXECUTE_FLOW_TRIGGER", Workflow),
        ("REQUEST_LIMIT_EXCEEDED", Transport),
        ("UNABLE_TO_LOCK_ROW", Transport),
        ("EXCEEDED_ID_LIMIT", Transport),
        ("QUERY_TIMEOUT", Transport),
        ("REQUEST_RUNNING_TOO_LONG", Transport),
        ("SERVER_UNAVAILABLE", Transport),
        ("OPERATION_TOO_LARGE", Transport),
        ("STORAGE_LIMIT_EXCEEDED", Transport),
        ("UNKNOWN_EXCEPTION", Transport),
    ] {
        let c = check(&format!("{code}: something went wrong"), layer);
        assert_eq!(code_of(&c), code, "{code}");
    }
}

fn code_of(c: &Classification) -> String {
    c.code.as_deref().unwrap_or("").to_owned()
}

#[test]
fn salesforce_bulk_and_data_loader_texts() {
    let c = check(
        "REQUIRED_FIELD_MISSING:Required fields are missing: [LastName]:LastName --",
        Mapping,
    );
    assert_eq!(c.fields, vec!["LastName"]);
    check(
        "INVALID_CROSS_REFERENCE_KEY:invalid cross reference id:--",
        Record,
    );
    let c = check(
        "INVALID_FIELD:Failed to deserialize field at col 3. Due to, 'x' is not a valid value for the type xsd:date:Birthdate --",
        Mapping,
    );
    assert_eq!(c.fields, vec!["Birthdate"]);
    let c = check(
        "UNABLE_TO_LOCK_ROW:unable to obtain exclusive access to this record or 1 records",
        Transport,
    );
    assert!(c.transient);
    let c = check(
        "INVALID_TYPE_ON_FIELD_IN_RECORD:Amount: value not of required type",
        Mapping,
    );
    assert_eq!(c.fields, vec!["Amount"]);
    check(
        "FIELD_CUSTOM_VALIDATION_EXCEPTION:Please enter a phone number",
        Workflow,
    );
    // SOAP-mode Data Loader drops the code.
    check("Required fields are missing: [LastName]", Mapping);
    check(
        "ERROR [INSERT_QUOTE] client.PartnerClient processResult (PartnerClient.java:434) - Error code is:FIELD_INTEGRITY_EXCEPTION",
        Mapping,
    );
    check("InvalidBatch : Field name not found : Id", Transport);
    check(
        "Failed to read request. Exceeded max size limit of 10000000",
        Transport,
    );
    let c = check(
        "Day of Month: bad value for restricted picklist field: 30: [npsp__DayOfMonth__c]",
        Mapping,
    );
    assert_eq!(c.fields, vec!["npsp__DayOfMonth__c"]);
}

#[test]
fn precedence_innermost_cause_decides() {
    // A trigger's own DML failed: workflow, whatever the inner code.
    let text = "System.DmlException: Insert failed. First exception on row 0; first error: CANNOT_INSERT_UPDATE_ACTIVATE_ENTITY, npsp.TDTM_Opportunity: execution of AfterInsert\n\ncaused by: System.DmlException: Insert failed. First exception on row 0; first error: UNKNOWN_EXCEPTION, invalid parameter value: []";
    let c = check(text, Workflow);
    assert_eq!(code(&c), "UNKNOWN_EXCEPTION");
    // A row lock inside a trigger is still transport: retrying fixes it.
    let text = r"first error: CANNOT_INSERT_UPDATE_ACTIVATE_ENTITY, LeadTrigger: execution of AfterUpdate\n\ncaused by: System.DmlException: Update failed. First exception on row 0 with id 00Q5g00000ABCDE; first error: UNABLE_TO_LOCK_ROW, unable to obtain exclusive access to this record or 1 records: []";
    let c = check(text, Transport);
    assert!(c.transient);
    // A duplicate raised by the automation's own insert is the automation's failure.
    check(
        "CANNOT_INSERT_UPDATE_ACTIVATE_ENTITY, ContactTrigger: execution of AfterInsert caused by: System.DmlException: Insert failed. First exception on row 0; first error: DUPLICATE_VALUE, duplicate value found: Email__c",
        Workflow,
    );
    check(
        "This error occurred when the flow tried to create records: FIELD_CUSTOM_VALIDATION_EXCEPTION: Close date must be in the future",
        Workflow,
    );
    check(
        "We can't save this record because the “Lead Assignment” process failed. Give your Salesforce admin these details. Error ID: 1234567 (-98765)",
        Workflow,
    );
    check(
        "An Apex error occurred: System.LimitException: Too many SOQL queries: 101",
        Workflow,
    );
}

#[test]
fn precedence_status_code_beats_admin_wording() {
    let c = check(
        "FIELD_CUSTOM_VALIDATION_EXCEPTION, Required field: [AccountId]",
        Workflow,
    );
    assert_eq!(code(&c), "FIELD_CUSTOM_VALIDATION_EXCEPTION");
    check(
        "INVALID_FIELD_FOR_INSERT_UPDATE: Unable to create/update fields: Name. Please check the security settings of this field and verify that it is read/write for your profile or permission set.",
        Mapping,
    );
    check(
        "INVALID_CROSS_REFERENCE_KEY: Record Type ID: this ID value isn't valid for the user: 0125g000000ABC",
        Auth,
    );
}

#[test]
fn client_wrappers_around_salesforce_bodies() {
    check(
        "Response content: [{u'errorCode': u'QUERY_TOO_COMPLICATED', u'message': u'Query is too complicated'}]",
        Transport,
    );
    check(
        "Restforce::ErrorCode::JsonParserError: Cannot deserialize instance of date",
        Mapping,
    );
    check(
        "Restforce::UnauthorizedError: INVALID_SESSION_ID: Session expired or invalid",
        Auth,
    );
    check(
        r#"{"errorCode": "INVALID_SESSION_ID", "messageBody": "Session expired", "statusCode": 401}"#,
        Auth,
    );
    check(
        "Uncaught SoapFault exception: [sf:INVALID_FIELD] INVALID_FIELD: No such column 'Foo__c'",
        Mapping,
    );
    check(
        r#"{ body = ( { errorCode = "JSON_PARSER_ERROR"; message = "Unexpected character"; } ); httpHeaders = { }; httpStatusCode = 400; referenceId = ref1; }"#,
        Mapping,
    );
    let c = check(
        r#"{"error":{"message":"[{\"message\":\"No such column 'Score__c' on entity 'Contact'\",\"errorCode\":\"INVALID_FIELD\"}]","code":400}}"#,
        Mapping,
    );
    assert_eq!(c.fields, vec!["Score__c"]);
    // HTML-escaped with typographic quotes (Formie/Freeform).
    check(
        "API error: “[{&quot;message&quot;:&quot;Use one of these records?&quot;,&quot;errorCode&quot;:&quot;DUPLICATES_DETECTED&quot;}]”",
        Dedupe,
    );
    // Collections SaveResult uses statusCode, not errorCode.
    check(
        r#"{"success":false,"errors":[{"statusCode":"DUPLICATES_DETECTED","message":"Use one of these records?","fields":[]}]}"#,
        Dedupe,
    );
}

#[test]
fn salesforce_oauth_errors() {
    for text in [
        r#"{"error":"invalid_grant","error_description":"expired access/refresh token"}"#,
        r#"{"error":"invalid_grant","error_description":"Audience validation failed"}"#,
        "invalid_grant: authentication failure",
        r#"{"error": "invalid_client_id", "error_description": "client identifier invalid"}"#,
        "invalid_grant: inactive user",
        "invalid username, password, security token; or user locked out.",
        r#"Error Domain=com.salesforce.OAuth.ErrorDomain Code=672 "expired access/refresh token" UserInfo={error=invalid_grant}"#,
    ] {
        check(text, Auth);
    }
}

#[test]
fn near_miss_codes() {
    let c = check(
        "CANNOT_UPDATE_INSERT_ACTIVATE_ENTITY: trigger failed",
        Workflow,
    );
    assert_eq!(code(&c), "CANNOT_INSERT_UPDATE_ACTIVATE_ENTITY");
    check(
        "REQUIRED_FIELD_MISING: Required fields are missing",
        Mapping,
    );
    check("UNABLE_TO_LOK_ROW: try later", Transport);
}

#[test]
fn localised_messages_classify_by_code() {
    check(
        "INVALID_TYPE_ON_FIELD_IN_RECORD: 金額: 必須種別以外の値",
        Mapping,
    );
    check(
        "DUPLICATES_DETECTED: Verwenden Sie einen dieser Datensätze?",
        Dedupe,
    );
}

#[test]
fn hubspot_bodies() {
    check(
        r#"{"status":"error","message":"Authentication credentials not found. This API supports OAuth 2.0 authentication and you can find more details at https://developers.hubspot.com/docs/methods/auth/oauth-overview","correlationId":"a43683b0-5717-4ceb-80b4-104d02915d8c","category":"INVALID_AUTHENTICATION"}"#,
        Auth,
    );
    check(
        r#"{"status":"error","message":"The OAuth token used to make this call expired 7 second(s) ago.","correlationId":"x","category":"EXPIRED_AUTHENTICATION"}"#,
        Auth,
    );
    let c = check(
        r#"{"status":"error","message":"This app hasn't been granted all required scopes to make this call. Read more about required scopes here: https://developers.hubspot.com/scopes.","correlationId":"x","errors":[{"message":"One or more of the following scopes are required.","context":{"requiredScopes":["contacts"]}}],"links":{"scopes":"https://developers.hubspot.com/scopes"},"category":"MISSING_SCOPES"}"#,
        Auth,
    );
    assert_eq!(code(&c), "MISSING_SCOPES");
    let c = check(
        r#"{"status":"error","message":"Property values were not valid: [{\"isValid\":false,\"message\":\"1635535865 is at 22:18:55.865 UTC, not midnight!\",\"error\":\"INVALID_DATE\",\"name\":\"closedate\"}]","correlationId":"x","category":"VALIDATION_ERROR"}"#,
        Mapping,
    );
    assert_eq!(code(&c), "INVALID_DATE");
    assert_eq!(c.fields, vec!["closedate"]);
    let c = check(
        r#"{"status":"error","message":"Property values were not valid: [{\"isValid\":false,\"message\":\"Webinar was not one of the allowed options: [label: \\\"Web\\\"]\",\"error\":\"INVALID_OPTION\",\"name\":\"lifecyclestage\"}]","category":"VALIDATION_ERROR"}"#,
        Mapping,
    );
    assert_eq!(c.fields, vec!["lifecyclestage"]);
    let c = check(
        r#"{"status":"error","message":"Property \"properties\" does not exist","correlationId":"x","category":"VALIDATION_ERROR"}"#,
        Mapping,
    );
    assert_eq!(c.fields, vec!["properties"]);
    check(
        r#"{"status":"error","message":"Property values were not valid: [{\"isValid\":false,\"message\":\"Email address jane@@x is invalid\",\"error\":\"INVALID_EMAIL\",\"name\":\"email\"}]","category":"VALIDATION_ERROR"}"#,
        Record,
    );
    check(
        r#"{"status":"error","message":"Contact already exists. Existing ID: 37765128953","correlationId":"x","category":"CONFLICT"}"#,
        Dedupe,
    );
    check(
        r#"{"status":"error","message":"Unable to perform update/upsert by non-unique 0-1 property","category":"VALIDATION_ERROR"}"#,
        Dedupe,
    );
    check(
        r#"{"status":"error","message":"Object not found.  objectId are usually numeric.","category":"OBJECT_NOT_FOUND","context":{"id":["abc"]}}"#,
        Record,
    );
    check(
        r#"{"status":"error","message":"Some required properties were not set.","category":"VALIDATION_ERROR","errors":[{"message":"Required property 'dealname' is missing","code":"REQUIRED_PROPERTY","in":"dealname"}]}"#,
        Mapping,
    );
    let c = check(
        r#"{"status":"error","message":"You have reached your ten_secondly_rolling limit.","errorType":"RATE_LIMIT","correlationId":"x","policyName":"TEN_SECONDLY_ROLLING","category":"RATE_LIMITS"}"#,
        Transport,
    );
    assert!(c.transient);
    let c = check(
        r#"{"status":"error","message":"You have reached your daily limit.","errorType":"RATE_LIMIT","policyName":"DAILY","category":"RATE_LIMITS"}"#,
        Transport,
    );
    assert!(!c.transient, "a DAILY limit does not clear with a retry");
    check(
        r#"{"status":"error","message":"You have reached your secondly limit.","errorType":"RATE_LIMIT","groupName":"publicapi:hapikey-secondly:2431623","policyName":"SECONDLY"}"#,
        Transport,
    );
    check(
        r#"{"status":"error","message":"One or more associations are invalid","category":"VALIDATION_ERROR"}"#,
        Record,
    );
}

#[test]
fn zoho_codes() {
    check(
        r#"{"code":"INVALID_TOKEN","details":{},"message":"invalid oauth token","status":"error"}"#,
        Auth,
    );
    check(
        r#"{"code":"OAUTH_SCOPE_MISMATCH","details":{},"message":"invalid oauth scope to access this URL","status":"error"}"#,
        Auth,
    );
    check(
        r#"{"code":"INVALID_URL_PATTERN","details":{},"message":"Please check if the URL trying to access is a correct one","status":"error"}"#,
        Auth,
    );
    let c = check(
        r#"{"data":[{"code":"MANDATORY_NOT_FOUND","details":{"api_name":"Last_Name","json_path":"$.data[0].Last_Name"},"message":"required field not found","status":"error"}]}"#,
        Mapping,
    );
    assert_eq!(c.fields, vec!["Last_Name"]);
    let c = check(
        r#"{"data":[{"code":"INVALID_DATA","details":{"expected_data_type":"jsonarray","api_name":"Destination"},"message":"invalid data","status":"error"}]}"#,
        Mapping,
    );
    assert_eq!(c.fields, vec!["Destination"]);
    check(
        r#"{"data":[{"code":"DUPLICATE_DATA","details":{"api_name":"Email","duplicate_record":{"id":"5551"}},"message":"duplicate data","status":"error"}]}"#,
        Dedupe,
    );
    check(
        r#"{"code":"RECORD_NOT_FOUND","message":"the related id given seems to be invalid","status":"error"}"#,
        Record,
    );
    check(
        r#"{"code":"LIMIT_EXCEEDED","message":"concurrency limit exceeded","status":"error"}"#,
        Transport,
    );
    check(
        r#"<response><error><code>4834</code><message>Invalid Ticket Id</message></error></response>"#,
        Unknown,
    );
    check(
        r#"{"response":{"error":{"code":"4834","message":"Invalid Ticket Id"}}}"#,
        Auth,
    );
}

#[test]
fn dataverse_codes() {
    check(
        r#"{"error":{"code":"0x80040237","message":"A record with matching key values already exists."}}"#,
        Dedupe,
    );
    check(
        "OrganizationServiceFault -2147220937: Cannot insert duplicate key",
        Dedupe,
    );
    let c = check(
        r#"{"error":{"code":"0x0","message":"An undeclared property 'parentcustomerid_account' which only has property annotations in the payload but no property value was found in the payload."}}"#,
        Mapping,
    );
    assert_eq!(c.fields, vec!["parentcustomerid_account"]);
    check(
        r#"{"error":{"code":"0x80048d19","message":"Error identified in Payload provided by the user for Entity :'contacts', For more information on this error please follow this help link https://go.microsoft.com/fwlink/?linkid=2195293  ---->  InnerException : Microsoft.OData.ODataException: Cannot convert the literal 'Charity' to the expected type 'Edm.Int32'."}}"#,
        Mapping,
    );
    check(
        r#"{"error":{"code":"0x8006088a","message":"Resource not found for the segment 'Account'."}}"#,
        Mapping,
    );
    check(
        "Principal user (Id=3f1e..., type=8, roleCount=1) is missing prvCreateContact privilege (Id=...)",
        Auth,
    );
    check(
        "-2147220969: Contact With Ids = 8a9e1c52-3f1e-4c57-9d0e-1b2c3d4e5f60 Do Not Exist",
        Record,
    );
    check(
        "Unexpected exception from plug-in (Execute): Contoso.Plugins.AccountPreCreate: System.Exception: something broke",
        Workflow,
    );
    let c = check(
        r#"{"error":{"code":"0x80072321","message":"Combined execution time of incoming requests exceeded limit of 1,200,000 milliseconds over time window of 300 seconds. Decrease number of concurrent requests or reduce the duration of requests and try again later."}}"#,
        Transport,
    );
    assert!(c.transient);
    check(
        "ErrorCode: -2147015902 Number of requests exceeded the limit of 6000 over time window of 300 seconds.",
        Transport,
    );
    check(
        "ExecuteMultiple Request batch size exceeds the maximum batch size allowed!",
        Transport,
    );
}

#[test]
fn pipedrive_bodies() {
    check(
        r#"{"success":false,"error":"Invalid token: access token is invalid","error_info":"Please check developers.pipedrive.com for more information about Pipedrive API.","data":null,"additional_data":null}"#,
        Auth,
    );
    check(
        r#"{"success":false,"error":"Name must be given.","error_info":"Please check developers.pipedrive.com","data":null}"#,
        Mapping,
    );
    check(
        r#"{"success":false,"error":"Couldn't add the deal. Open deals limit reached.","code":"feature_capping_deals_limit"}"#,
        Transport,
    );
    check(
        r#"{"success":false,"error":"Internal Server Error","code":"ERR_UNKNOWN"}"#,
        Transport,
    );
}

#[test]
fn network_and_http() {
    for text in [
        "Error: read ECONNRESET",
        "connect ETIMEDOUT 13.110.2.1:443",
        "requests.exceptions.ReadTimeout: HTTPSConnectionPool(host='x.my.salesforce.com', port=443): Read timed out. (read timeout=30)",
        "java.net.SocketTimeoutException: Read timed out",
        "socket hang up",
        "getaddrinfo ENOTFOUND api.hubapi.com",
        "HTTP 503 Service Unavailable",
        "502 Bad Gateway",
        "AxiosError - Request failed with status code 429",
        "The remote server returned an error: (504) Gateway Timeout.",
        "Max retries exceeded with url: /crm/v3/objects/contacts (Caused by NewConnectionError: Failed to establish a new connection: [Errno 111] Connection refused)",
    ] {
        let c = check(text, Transport);
        assert!(c.transient, "{text}");
    }
    check(
        "tap - CRITICAL Invalid response from API, status code is 401",
        Auth,
    );
    check("AxiosError - Request failed with status code 409", Dedupe);
    check("HTTP 413 Payload Too Large", Transport);
    let c = engine().classify(&Input {
        text: "Internal error",
        crm: None,
        http_status: Some(500),
    });
    assert_eq!(c.layer, Transport);
    assert_eq!(code(&c), "HTTP 500");
    // A 500 is transport even when its body reads like a payload problem.
    let c = engine().classify(&Input {
        text: "something about the request",
        crm: None,
        http_status: Some(500),
    });
    assert_eq!(c.layer, Transport);
}

#[test]
fn integration_tool_wrappers() {
    check(
        r#"Salesforce (1.3.1): Required field "Search Value" (searchValue) is missing."#,
        Mapping,
    );
    check("[AccountValidationError] Invalid access token.", Auth);
    check(
        "ConnectionError: The request failed due to failure of a connection.",
        Transport,
    );
    check("RateLimitError: 429 Too Many Requests", Transport);
    check("ModuleTimeoutError: The operation timed out.", Transport);
    // The vendor code inside a tool's wrapper decides.
    check(
        "DataError: [400] INVALID_EMAIL_ADDRESS: Email: invalid email address: jane@",
        Record,
    );
    check(
        "DataError: [400] REQUIRED_FIELD_MISSING: Required fields are missing: [LastName]",
        Mapping,
    );
    check(
        "mautic.ERROR: INTEGRATION ERROR: Hubspot - {\"status\":\"error\",\"message\":\"Contact already exists. Existing ID: 501\",\"category\":\"CONFLICT\"}",
        Dedupe,
    );
    check(
        "2024-03-01 12:00:01 ERROR i.a.w.i.DefaultAirbyteStreamFactory(internalLog):114 - Request failed with status code 401",
        Auth,
    );
    check(
        "ErrorCode=DynamicsOperationFailed,'Type=Microsoft.DataTransfer.Common.Shared.HybridDeliveryException,Message=Dynamics operation failed with error code: -2147220937, error message: A record with matching key values already exists.",
        Dedupe,
    );
}

#[test]
fn unknown_is_an_answer() {
    let c = check("something odd happened", Unknown);
    assert!(c.rule.is_none());
    assert!(!c.advice.is_empty());
    check("", Unknown);
}

#[test]
fn user_rules_override_and_extend() {
    let user = kb::parse_rules(
        "mine.toml",
        r#"
[[rule]]
id = "acme.sync_paused"
keywords = ["ACME sync paused by admin"]
priority = 90
layer = "workflow"
title = "An admin paused the ACME sync"
fix = "Ask the admin to resume it."

[[rule]]
id = "salesforce.unable_to_lock_row"
codes = ["UNABLE_TO_LOCK_ROW"]
layer = "record"
title = "Overridden"
"#,
    )
    .expect("parses");
    let engine = Classifier::new(kb::builtin_rules().expect("builtin"), user).expect("builds");
    let c = engine.classify(&Input::text("ACME sync paused by admin at 10:00"));
    assert_eq!(c.layer, Workflow);
    assert_eq!(c.rule.as_deref(), Some("acme.sync_paused"));
    let c = engine.classify(&Input::text("UNABLE_TO_LOCK_ROW: x"));
    assert_eq!(c.layer, Record);
    assert_eq!(&*c.advice, Layer::Record.default_fix());
}

#[test]
fn bad_user_rules_are_clear_errors() {
    let e = kb::parse_rules(
        "mine.toml",
        "[[rule]]\nid = \"x\"\nlayer = \"auth\"\ntitle = \"t\"\n",
    )
    .expect_err("matches nothing");
    assert!(e.to_string().contains("mine.toml"), "{e}");
    let e = kb::parse_rules(
        "mine.toml",
        "[[rule]]\nid = \"x\"\nlayer = \"sky\"\ntitle = \"t\"\ncodes=[\"A\"]\n",
    )
    .expect_err("bad layer");
    assert!(e.to_string().contains("line"), "{e}");
    let bad = kb::parse_rules(
        "mine.toml",
        "[[rule]]\nid = \"x\"\nlayer = \"auth\"\ntitle = \"t\"\npatterns=[\"(\"]\n",
    )
    .expect("parses");
    let e = Classifier::new(Vec::new(), bad).expect_err("bad regex");
    assert!(e.to_string().contains("rule 'x'"), "{e}");
}

#[test]
fn crm_hint_breaks_ties() {
    let c = engine().classify(&Input {
        text: "NOT_FOUND: The requested resource does not exist",
        crm: Some(Crm::Salesforce),
        http_status: Some(404),
    });
    assert_eq!(c.layer, Record);
}

mod properties {
    use super::*;
    use proptest::prelude::*;

    proptest! {
        #[test]
        fn total_and_deterministic(text in ".{0,300}", status in proptest::option::of(100u16..600)) {
            let input = Input { text: &text, crm: None, http_status: status };
            let a = engine().classify(&input);
            let b = engine().classify(&input);
            prop_assert_eq!(a, b);
        }

        #[test]
        fn escaped_json_text_is_total(text in r#"[\\"&;:\[\]{}A-Z_a-z0-9 ]{0,200}"#) {
            let _ = engine().classify(&Input::text(&text));
            let _ = crate::signature(&text);
        }

        #[test]
        fn signature_ignores_record_ids(id in "[0-9][0-9A-Za-z]{14,17}", email_user in "[a-z]{1,10}", n in 0u64..10_000_000) {
            let a = format!("DUPLICATE_VALUE: duplicate value found: Email__c duplicates value on record with id: {id} ({email_user}@example.com) row {n}");
            let b = "DUPLICATE_VALUE: duplicate value found: Email__c duplicates value on record with id: 0035g00000ZZZZZ (x@example.org) row 1";
            prop_assert_eq!(crate::signature(&a), crate::signature(b));
        }

        #[test]
        fn signature_is_stable(text in ".{0,300}") {
            let s = crate::signature(&text);
            prop_assert!(s.len() <= crate::signature::MAX_SIGNATURE);
            prop_assert_eq!(crate::signature(&text), s);
        }
    }
}

mod memo_agrees {
    use super::*;
    use proptest::prelude::*;

    const TEMPLATES: &[&str] = &[
        "DUPLICATE_VALUE:duplicate value found: Email__c duplicates value on record with id: {ID}",
        r#"{"status":"error","message":"Contact already exists. Existing ID: {N}","correlationId":"{UUID}","category":"CONFLICT"}"#,
        r#"{"status":"error","message":"Property values were not valid: [{\"isValid\":false,\"message\":\"Email address {EMAIL} is invalid\",\"error\":\"INVALID_EMAIL\",\"name\":\"email\"}]","category":"VALIDATION_ERROR"}"#,
        "-2147220969: Contact With Ids = {UUID} Do Not Exist",
        "UNABLE_TO_LOCK_ROW:unable to obtain exclusive access to this record or {N} records: {ID}",
        "Request failed with status code {STATUS} for {EMAIL}",
        "Zap {N}: HubSpot ({V}): You have reached your secondly limit.",
        "{EMAIL} is not a valid email; row {N}",
        "The OAuth token used to make this call expired {N} second(s) ago.",
        "something else entirely {ID} {N}",
    ];

    proptest! {
        #[test]
        fn memo_returns_what_a_fresh_classification_would(
            picks in proptest::collection::vec((0usize..TEMPLATES.len(), "[0-9][0-9A-Za-z]{14,17}", 0u64..u64::MAX, "[a-z]{1,8}", 100u16..600, 0u8..10), 1..40)
        ) {
            let mut memo = Memo::new(engine());
            for (t, id, n, user, status, v) in picks {
                let text = TEMPLATES[t]
                    .replace("{ID}", &id)
                    .replace("{N}", &n.to_string())
                    .replace("{UUID}", &format!("{:08x}-5717-4ceb-80b4-{:012x}", n as u32, n >> 16))
                    .replace("{EMAIL}", &format!("{user}@example.com"))
                    .replace("{STATUS}", &status.to_string())
                    .replace("{V}", &format!("{v}.{v}.1"));
                let input = Input::text(&text);
                prop_assert_eq!(memo.classify(&input), engine().classify(&input), "{}", text);
            }
        }
    }
}

#[test]
fn client_library_exception_texts() {
    check(
        "requests.exceptions.HTTPError: 400 Client Error: Bad Request for url: https://api.hubapi.com/crm/v3/objects/contacts",
        Mapping,
    );
    check(
        "HTTPError: 503 Server Error: Service Unavailable for url: https://x.my.salesforce.com",
        Transport,
    );
    check(
        "hubspot.crm.contacts.exceptions.ApiException: (409)\nReason: Conflict\nHTTP response body: {\"status\":\"error\",\"message\":\"Contact already exists. Existing ID: 123\",\"category\":\"CONFLICT\"}",
        Dedupe,
    );
    check(
        "The user with id 1f2e has not been assigned any roles. They need a role with the prvReadAccount privilege.",
        Auth,
    );
    check(
        "Your HubSpot connection has expired. Please reconnect.",
        Auth,
    );
}

#[test]
fn plain_messages_from_tools_and_forums() {
    check("HubSpot: This hapikey (abc) does not exist.", Auth);
    check("Validation error: Phone must be 10 digits", Mapping);
    check(
        "The record could not be saved because it failed to trigger a flow.",
        Workflow,
    );
    check(
        "Exceeded the maximum number of API calls per day",
        Transport,
    );
    check(
        "Unable to create contact: lifecyclestage cannot be moved backwards",
        Mapping,
    );
    check(
        "Record Currently Unavailable: The record you are attempting to edit, or one of its related records, is currently being modified by another user.",
        Transport,
    );
    check(
        "Your request was throttled. Try again in 30 seconds.",
        Transport,
    );
    check(
        "The user does not have permission to access this object",
        Auth,
    );
    check("Contact with email already exists", Dedupe);
    check("Cannot find field 'Industry__c' on object Account", Mapping);
    check(
        "This deal's stage changed to Closed Lost by a workflow",
        Workflow,
    );
    check("Unable to find record with id 12345", Record);
    check("Connection pool timeout", Transport);
    check(
        "simple_salesforce.exceptions.SalesforceExpiredSession: Expired session for https://x.my.salesforce.com",
        Auth,
    );
    check(
        "Make: RuntimeError: [403] You do not have permission to perform this action",
        Auth,
    );
    check(
        "n8n: The resource you are requesting could not be found",
        Record,
    );
    check("The field 'AnnualRevenue' value is too large", Record);
}
