// Okta's Node SDK (@okta/okta-sdk-nodejs) against a tollgate with a tiny rate limit: the users bucket allows
// the API token two calls per three-second window, so of six listUsers calls in a row most meet a 429. The
// SDK retries a 429 only when it carries exactly one X-Rate-Limit-Reset (and waits reset*1000 - Date +
// 1000 ms); every call must succeed within its default two retries, and its `backoff` event must fire.
//
// Usage: node okta_sdk_ratelimit.mjs ISSUER ADMIN_TOKEN
import okta from '@okta/okta-sdk-nodejs';

const [issuer, token] = process.argv.slice(2);
function fail(msg) {
  console.log(msg);
  process.exit(1);
}

const client = new okta.Client({ orgUrl: issuer, token });
let backoffs = 0;
client.requestExecutor.on('backoff', () => {
  backoffs += 1;
});
const calls = 6;
const start = Date.now();
for (let i = 0; i < calls; i++) {
  try {
    const collection = await client.userApi.listUsers({ limit: 5 });
    let n = 0;
    await collection.each(() => {
      n += 1;
      return n < 5;
    });
  } catch (e) {
    fail(`listUsers #${i + 1} failed: ${e.message || e}`);
  }
}
const waited = (Date.now() - start) / 1000;
if (backoffs < 1) fail(`${calls} calls and no backoff: the 429s were not seen or not retried`);
console.log(
  `${calls} listUsers calls against a limit of 2 per 3 s window: all succeeded, ${backoffs} backoffs on 429s (${waited.toFixed(1)} s)`,
);
