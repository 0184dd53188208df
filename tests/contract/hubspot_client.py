"""Contract test: the official HubSpot Python client (hubspot-api-client from
PyPI), unchanged but for its host, against the syncward sandbox.
usage: python3 hubspot_client.py http://127.0.0.1:PORT"""
import sys

from hubspot import HubSpot
from hubspot.crm.contacts import (
    ApiException,
    BatchInputSimplePublicObjectBatchInputUpsert,
    BatchReadInputSimplePublicObjectId,
    SimplePublicObjectBatchInputUpsert,
    SimplePublicObjectId,
)

BASE = sys.argv[1]
checks = 0


def api(token, get):
    client = HubSpot(access_token=token)
    a = get(client)
    a.api_client.configuration.host = BASE
    return a


def check(cond, what):
    global checks
    if not cond:
        raise SystemExit(f"FAILED: {what}")
    checks += 1


batch = api("sandbox-token", lambda c: c.crm.contacts.batch_api)
props = api("sandbox-token", lambda c: c.crm.properties.core_api)

# Batch upsert by idProperty: creates, then updates.
inputs = [SimplePublicObjectBatchInputUpsert(id_property="email", id=f"py{i}@example.com", properties={"firstname": "Py", "lifecyclestage": "lead"}) for i in range(3)]
res = batch.upsert(batch_input_simple_public_object_batch_input_upsert=BatchInputSimplePublicObjectBatchInputUpsert(inputs=inputs))
check(res.status == "COMPLETE" and len(res.results) == 3, "upsert creates three contacts")
check(all(r.new for r in res.results), "upsert results say new=true")
res = batch.upsert(batch_input_simple_public_object_batch_input_upsert=BatchInputSimplePublicObjectBatchInputUpsert(inputs=inputs[:1]))
check(res.results[0].new is False, "a second upsert updates (new=false)")

# Read by idProperty.
read = batch.read(batch_read_input_simple_public_object_id=BatchReadInputSimplePublicObjectId(id_property="email", inputs=[SimplePublicObjectId(id="py1@example.com")], properties=["email", "firstname"]))
check(read.results[0].properties["firstname"] == "Py", "batch read by email returns the contact")

# Property definitions.
defs = props.get_all(object_type="contacts")
names = {p.name: p for p in defs.results}
check(names["email"].has_unique_value is True, "email is a unique property")
check(any(o.value == "lead" for o in names["lifecyclestage"].options), "lifecyclestage lists its options")

# The 100-input cap.
try:
    many = [SimplePublicObjectBatchInputUpsert(id_property="email", id=f"cap{i}@example.com", properties={}) for i in range(101)]
    batch.upsert(batch_input_simple_public_object_batch_input_upsert=BatchInputSimplePublicObjectBatchInputUpsert(inputs=many))
    check(False, "101 inputs are rejected")
except ApiException as e:
    check(e.status == 400, "101 inputs are rejected with 400")

# Duplicate ids in one batch reject the whole batch.
try:
    dup = [SimplePublicObjectBatchInputUpsert(id_property="email", id="dup@example.com", properties={}) for _ in range(2)]
    batch.upsert(batch_input_simple_public_object_batch_input_upsert=BatchInputSimplePublicObjectBatchInputUpsert(inputs=dup))
    check(False, "duplicate ids are rejected")
except ApiException as e:
    check(e.status == 400 and "Duplicate IDs" in e.body, "duplicate ids are rejected with 400")

# A bad token.
bad = api("not-a-token", lambda c: c.crm.contacts.batch_api)
try:
    bad.read(batch_read_input_simple_public_object_id=BatchReadInputSimplePublicObjectId(inputs=[SimplePublicObjectId(id="1")], properties=[]))
    check(False, "a bad token is refused")
except ApiException as e:
    check(e.status == 401 and "INVALID_AUTHENTICATION" in e.body, "a bad token gets 401 INVALID_AUTHENTICATION")

print(f"hubspot-api-client contract: {checks} checks passed")
