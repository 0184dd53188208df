#!/usr/bin/env python3
"""Generate a realistic syncward event log (JSON Lines) for benchmarks.

About 16% of events fail, with a mix of the errors real syncs see (mapping,
transport, dedupe, auth, workflow rewrites, single bad records, a few
writes that land as a second CRM record); runs,
batches of 100, objects and record keys look like a nightly contact/deal sync
with reruns. Deterministic for a given seed.
usage: gen_events.py N [SEED] > events.jsonl
"""
import json, random, sys

n = int(sys.argv[1]); rnd = random.Random(int(sys.argv[2]) if len(sys.argv) > 2 else 11)
OBJECTS = [("contacts", "hubspot", 6), ("deals", "hubspot", 1), ("Lead", "salesforce", 3)]
FAIL = [
    (30, "REQUIRED_FIELD_MISSING", "Required fields are missing: [{f}]", 400, ["Company", "LastName"]),
    (25, "INVALID_OPTION", "{v} was not one of the allowed options: [label: \\\"Subscriber\\\", value: \\\"subscriber\\\"]", 400, ["lifecyclestage", "hs_lead_status"]),
    (15, "RATE_LIMITS", "You have reached your ten_secondly_rolling limit.", 429, []),
    (8, "UNABLE_TO_LOCK_ROW", "unable to obtain exclusive access to this record or {k} records", 400, []),
    (8, "CONFLICT", "Contact already exists. Existing ID: {id}", 409, []),
    (5, "INVALID_EMAIL_ADDRESS", "Email: invalid email address: {e}", 400, ["Email"]),
    (4, "STRING_TOO_LONG", "Billing City: data value too large: {v}{v}{v} (max length=40)", 400, ["BillingCity"]),
    (3, None, "read ECONNRESET", None, []),
    (2, "INVALID_SESSION_ID", "Session expired or invalid", 401, []),
]
FW = [f[0] for f in FAIL]
VALUES = ["Webinar", "Trade Show", "web", "Partner", "Cold Call", "Referral"]
out = sys.stdout
ts = 1764450000000
run = 1
for i in range(n):
    if i and i % 200000 == 0:
        run += 1
    ts += rnd.randint(1, 40)
    obj, crm, _ = rnd.choices(OBJECTS, [o[2] for o in OBJECTS])[0]
    num = rnd.randint(1, 600000)
    rec = f"{obj[:1].lower()}-{num}"
    # The CRM's id for this record: stable across writes and reruns, as an
    # upsert on a stable key gives; 1 write in 1,000 lands as a second CRM
    # record (a duplicate from a rerun).
    crm_id = str(10**10 + num * 7919 + ord(obj[0]))
    batch = i // 100
    ev = {"ts": ts, "run": f"nightly-{run}", "batch": batch, "batch_size": 100, "attempt": 1, "direction": "source_to_crm",
          "crm": crm, "object": obj, "op": "upsert", "record": rec}
    r = rnd.random()
    if r < 0.16:
        _, code, msg, http, fields = rnd.choices(FAIL, FW)[0]
        f = rnd.choice(fields) if fields else None
        ev["status"] = "failed"
        if http: ev["http_status"] = http
        if code: ev["code"] = code
        ev["message"] = msg.format(f=f, v=rnd.choice(VALUES), k=rnd.randint(1, 200), id=rnd.randint(10**9, 10**11),
                                   e=f"user{rnd.randint(1, 99999)}@example")
        if f: ev["field"] = f
    elif r < 0.165:
        ev["op"] = "readback"; ev["status"] = "ok"; ev["crm_id"] = crm_id
        ev["changed"] = {"field": "hubspot_owner_id", "from": "101", "to": str(rnd.choice([202, 303])), "by": "Round robin assignment"}
    else:
        ev["status"] = "ok"; ev["http_status"] = 200
        ev["crm_id"] = crm_id if rnd.random() >= 0.001 else str(rnd.randint(10**9, 10**11) * 10 + 1)
    out.write(json.dumps(ev, separators=(",", ":")) + "\n")
