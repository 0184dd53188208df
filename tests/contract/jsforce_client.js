// Contract test: jsforce (npm), the widely used Salesforce client, against
// the syncward sandbox: describe, upsert by external id, an sObject
// Collections upsert, retrieve, and a refused token.
// usage: node jsforce_client.js http://127.0.0.1:PORT
const jsforce = require('jsforce');

const base = process.argv[2];
let checks = 0;
function check(cond, what) {
  if (!cond) {
    console.error(`FAILED: ${what}`);
    process.exit(1);
  }
  checks += 1;
}

(async () => {
  const conn = new jsforce.Connection({ instanceUrl: base, accessToken: 'sandbox-token', version: '62.0' });

  const d = await conn.sobject('Lead').describe();
  const field = (n) => d.fields.find((f) => f.name === n);
  check(d.name === 'Lead', 'describe names the object');
  check(field('LastName').nillable === false && field('External_Id__c').externalId === true, 'describe has required and external id fields');

  const one = await conn.sobject('Lead').upsert({ External_Id__c: 'J-1', LastName: 'Node', Company: 'Acme' }, 'External_Id__c');
  check(one.success === true && one.created === true && one.id.length === 18, 'single upsert creates');
  const again = await conn.sobject('Lead').upsert({ External_Id__c: 'J-1', Title: 'CTO' }, 'External_Id__c');
  check(again.success === true && again.created === false, 'single upsert updates');

  const many = await conn.sobject('Lead').upsert(
    [
      { External_Id__c: 'J-2', LastName: 'A', Company: 'Acme' },
      { External_Id__c: 'J-3', LastName: 'B', LeadSource: 'Billboard' },
    ],
    'External_Id__c',
    { allOrNone: false },
  );
  check(Array.isArray(many) && many.length === 2, 'collections upsert returns one SaveResult per record');
  check(many[0].success === true, 'the valid record is saved');
  check(many[1].success === false && many[1].errors[0].statusCode === 'INVALID_OR_NULL_FOR_RESTRICTED_PICKLIST', 'the bad picklist value is refused with its status code');

  const rec = await conn.sobject('Lead').retrieve(one.id);
  check(rec.Title === 'CTO' && rec.LastName === 'Node', 'retrieve reads the record back');

  const bad = new jsforce.Connection({ instanceUrl: base, accessToken: 'wrong-token', version: '62.0' });
  try {
    await bad.sobject('Lead').describe();
    check(false, 'a bad token is refused');
  } catch (e) {
    check(e.errorCode === 'INVALID_SESSION_ID' || /Session expired/.test(e.message), 'a bad token gets INVALID_SESSION_ID');
  }
  console.log(`jsforce contract: ${checks} checks passed`);
})().catch((e) => {
  console.error(`FAILED: ${e.stack || e}`);
  process.exit(1);
});
