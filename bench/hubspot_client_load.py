"""The official HubSpot Python client with its documented retry setting
(urllib3 Retry on 429/5xx, honouring Retry-After), upserting the same data as
syncward against the rate-limited sandbox. Prints seconds and records.
usage: hubspot_client_load.py URL CSV"""
import csv, sys, time
from hubspot import HubSpot
from hubspot.crm.contacts import BatchInputSimplePublicObjectBatchInputUpsert, SimplePublicObjectBatchInputUpsert
from urllib3.util.retry import Retry

url, path = sys.argv[1], sys.argv[2]
retry = Retry(total=10, backoff_factor=0.3, status_forcelist=(429, 500, 502, 504), respect_retry_after_header=True, allowed_methods=None)
api = HubSpot(access_token="sandbox-token", retry=retry).crm.contacts.batch_api
api.api_client.configuration.host = url
rows = list(csv.DictReader(open(path)))
start = time.time()
sent = 0
for i in range(0, len(rows), 100):
    chunk = rows[i:i + 100]
    inputs = [SimplePublicObjectBatchInputUpsert(id_property="email", id=r["Email"], properties={"firstname": r["First"], "lifecyclestage": r["Stage"]}) for r in chunk]
    api.upsert(batch_input_simple_public_object_batch_input_upsert=BatchInputSimplePublicObjectBatchInputUpsert(inputs=inputs))
    sent += len(chunk)
print(f"{time.time() - start:.3f} {sent}")
