// Okta's Node SDK (@okta/okta-sdk-nodejs), unchanged but for orgUrl, with an SSWS API token: the System Log
// through `systemLogApi.listLogEvents` — `since`/`until`, a `filter`, and `limit: 2`, so that reading every
// app registration of the setup means following the `Link: rel="next"` pages, which the SDK's collection
// does by itself. Every event must be one of the filter's, with the API token as actor and a target, in
// time order, none repeated.
//
// Usage: node okta_sdk_logs.mjs WORKDIR ADMIN_TOKEN
import okta from '@okta/okta-sdk-nodejs';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';

const [work, token] = process.argv.slice(2);
const { issuer, apps } = JSON.parse(readFileSync(join(work, 'state.json'), 'utf8'));

function fail(msg) {
  console.log(msg);
  process.exit(1);
}

const client = new okta.Client({ orgUrl: issuer, token });
const wanted = 'app.oauth2.client.lifecycle.create';
// The SDK's typed parameters: Date objects (it serialises them with toISOString).
const since = new Date(Date.now() - 3600_000);
const until = new Date(Date.now() + 300_000);
// The setup registered one app per client through DCR; wait until the batched writer has stored them all.
const expected = Object.keys(apps).length;
let events = [];
for (let attempt = 0; attempt < 30; attempt++) {
  let collection;
  try {
    collection = await client.systemLogApi.listLogEvents({ since, until, filter: `eventType eq "${wanted}"`, limit: 2 });
    events = [];
    for await (const event of collection) {
      events.push(event);
    }
  } catch (e) {
    fail(`listLogEvents failed: ${e.name}: ${e.message}${e.body ? ` ${JSON.stringify(e.body)}` : ''}`);
  }
  if (events.length >= expected) break;
  await new Promise((r) => setTimeout(r, 200));
}
if (events.length < Math.max(expected, 3)) {
  fail(`listLogEvents found ${events.length} app registrations, expected ${expected} (over several pages of 2)`);
}
const seen = new Set();
let previous = 0;
for (const e of events) {
  if (e.eventType !== wanted || e.outcome?.result !== 'SUCCESS') fail(`unexpected event ${e.eventType} / ${e.outcome?.result}`);
  if (e.actor?.type !== 'ApiToken' || !e.target?.length) fail(`event without the API token as actor or a target: ${e.uuid}`);
  if (seen.has(e.uuid)) fail(`event ${e.uuid} came twice across pages`);
  seen.add(e.uuid);
  const at = new Date(e.published).getTime();
  if (!(at >= previous)) fail(`events out of time order at ${e.uuid}`);
  previous = at;
}
const pages = Math.ceil(events.length / 2);
console.log(`systemLogApi.listLogEvents with since/until/filter, limit 2: ${events.length} events over ${pages} pages followed by the SDK`);
