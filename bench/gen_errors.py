#!/usr/bin/env python3
"""Generate a realistic mix of CRM error texts as classify input (JSON Lines).

Real sync logs repeat a few hundred distinct errors: the same templates with
different record ids, emails, values and fields. Templates follow the shapes
in shared/reference/crm-error-formats.md. Deterministic for a given seed.
usage: gen_errors.py N [SEED] > file.jsonl
"""
import json, random, sys

n = int(sys.argv[1]); rnd = random.Random(int(sys.argv[2]) if len(sys.argv) > 2 else 7)
FIELDS = ["LastName", "Company", "Email", "Phone", "LeadSource", "Industry", "Region__c", "Score__c", "Amount", "CloseDate", "StageName", "BillingState"]
HS = ["email", "firstname", "lastname", "lifecyclestage", "hs_lead_status", "closedate", "amount", "dealstage", "state", "country"]
ZAP = ['Required field "Email" (email) is missing.', 'Request failed with status code 502', 'You have reached your secondly limit.']
def sfid(p="003"): return p + "".join(rnd.choice("ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789") for _ in range(15))
def email(): return f"{rnd.choice(['jane','li','omar','ana','sam'])}.{rnd.randint(1,99999)}@{rnd.choice(['example.com','acme.io','mail.de'])}"
T = [
 (12, lambda: (f'[{{"message":"Required fields are missing: [{rnd.choice(FIELDS)}]","errorCode":"REQUIRED_FIELD_MISSING","fields":["{rnd.choice(FIELDS)}"]}}]', "salesforce", 400)),
 (8, lambda: (f"REQUIRED_FIELD_MISSING:Required fields are missing: [{rnd.choice(FIELDS)}]:{rnd.choice(FIELDS)} --", "salesforce", None)),
 (6, lambda: (f"DUPLICATE_VALUE:duplicate value found: {rnd.choice(FIELDS)} duplicates value on record with id: {sfid()}", "salesforce", None)),
 (6, lambda: (f"INVALID_OR_NULL_FOR_RESTRICTED_PICKLIST:{rnd.choice(FIELDS)}: bad value for restricted picklist field: {rnd.choice(['Webinar','Trade Show','web','Partner'])}:{rnd.choice(FIELDS)} --", "salesforce", None)),
 (5, lambda: (f'[{{"message":"No such column \'{rnd.choice(FIELDS)}\' on entity \'Lead\'. If you are attempting to use a custom field, be sure to append the \'__c\' after the custom field name.","errorCode":"INVALID_FIELD"}}]', "salesforce", 400)),
 (5, lambda: (f"UNABLE_TO_LOCK_ROW:unable to obtain exclusive access to this record or {rnd.randint(1,200)} records", "salesforce", None)),
 (4, lambda: (f"System.DmlException: Insert failed. First exception on row {rnd.randint(0,199)}; first error: CANNOT_INSERT_UPDATE_ACTIVATE_ENTITY, LeadTrigger: execution of AfterInsert\n\ncaused by: System.DmlException: Insert failed. First exception on row 0; first error: FIELD_CUSTOM_VALIDATION_EXCEPTION, Region must be set: [{rnd.choice(FIELDS)}]", "salesforce", None)),
 (4, lambda: ('[{"message":"Session expired or invalid","errorCode":"INVALID_SESSION_ID"}]', "salesforce", 401)),
 (3, lambda: (f"STRING_TOO_LONG:Billing City: data value too large: {'x'*rnd.randint(41,80)} (max length=40):BillingCity --", "salesforce", None)),
 (10, lambda: (json.dumps({"status":"error","message":"Property values were not valid: " + json.dumps([{"isValid":False,"message":f"{rnd.choice(['Webinar','Lead','Cold'])} was not one of the allowed options","error":"INVALID_OPTION","name":rnd.choice(HS)}]),"correlationId":"a43683b0-5717-4ceb-80b4-%012x" % rnd.getrandbits(48),"category":"VALIDATION_ERROR"}), "hubspot", 400)),
 (6, lambda: (json.dumps({"status":"error","message":f"Contact already exists. Existing ID: {rnd.randint(10**9,10**11)}","correlationId":"c0ffee00-5717-4ceb-80b4-%012x" % rnd.getrandbits(48),"category":"CONFLICT"}), "hubspot", 409)),
 (8, lambda: (json.dumps({"status":"error","message":"You have reached your ten_secondly_rolling limit.","errorType":"RATE_LIMIT","correlationId":"%08x-0000-4000-8000-000000000000" % rnd.getrandbits(32),"policyName":"TEN_SECONDLY_ROLLING","category":"RATE_LIMITS"}), "hubspot", 429)),
 (3, lambda: (json.dumps({"status":"error","message":f"The OAuth token used to make this call expired {rnd.randint(1,3600)} second(s) ago.","category":"EXPIRED_AUTHENTICATION"}), "hubspot", 401)),
 (3, lambda: (json.dumps({"status":"error","message":f"Property values were not valid: [{{\"isValid\":false,\"message\":\"Email address {email()}x is invalid\",\"error\":\"INVALID_EMAIL\",\"name\":\"email\"}}]","category":"VALIDATION_ERROR"}), "hubspot", 400)),
 (3, lambda: (json.dumps({"data":[{"code":rnd.choice(["MANDATORY_NOT_FOUND","INVALID_DATA","DUPLICATE_DATA"]),"details":{"api_name":rnd.choice(["Last_Name","Email","Phone","Lead_Source"])},"message":"invalid data","status":"error"}]}), "zoho", 202)),
 (2, lambda: (json.dumps({"error":{"code":rnd.choice(["0x80040237","0x80048d19","0x80072321"]),"message":"A record with matching key values already exists."}}), "dynamics", None)),
 (2, lambda: (json.dumps({"success":False,"error":rnd.choice(["Name must be given.","Internal Server Error"]),"data":None}), "pipedrive", None)),
 (5, lambda: (rnd.choice(["Error: read ECONNRESET", f"connect ETIMEDOUT 13.110.{rnd.randint(0,255)}.{rnd.randint(0,255)}:443", "socket hang up", f"HTTPSConnectionPool(host='acme.my.salesforce.com', port=443): Read timed out. (read timeout={rnd.randint(10,120)})"]), None, None)),
 (4, lambda: (f"{rnd.choice(['Zap','Task'])} {rnd.randint(1,10**6)}: HubSpot (2.{rnd.randint(0,9)}.0): {rnd.choice(ZAP)}", None, None)),
 (1, lambda: (f"something unexpected happened in job {rnd.randint(1,10**6)}", None, None)),
]
weights = [w for w, _ in T]
out = sys.stdout
for _ in range(n):
    _, make = rnd.choices(T, weights)[0]
    text, crm, status = make()
    rec = {"text": text}
    if crm: rec["crm"] = crm
    if status: rec["http_status"] = status
    out.write(json.dumps(rec) + "\n")
