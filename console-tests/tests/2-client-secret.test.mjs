// The custom-server guide, as clicks: Security > API > Authorization Servers > default, a scope added on
// its Scopes tab; an API Services app keeps its client secret (shown once); then a token from
// /oauth2/default/v1/token with client_secret_basic. Also the server's other tabs and key rotation, and
// client secret rotation on the app's General tab.
import { test, before, after } from "node:test";
import assert from "node:assert/strict";
import { base, browser, newPage, shot, signIn, admin, createApp } from "./support.mjs";

let b;
before(async () => { b = await browser(); });
after(async () => { await b?.close(); });

function claims(jwt) {
  return JSON.parse(Buffer.from(jwt.split(".")[1], "base64url").toString("utf8"));
}

async function token(clientId, secret) {
  const r = await fetch(`${base}/oauth2/default/v1/token`, {
    method: "POST",
    headers: {
      "Content-Type": "application/x-www-form-urlencoded",
      Accept: "application/json",
      Authorization: "Basic " + Buffer.from(`${encodeURIComponent(clientId)}:${encodeURIComponent(secret)}`).toString("base64"),
    },
    body: new URLSearchParams({ grant_type: "client_credentials", scope: "reports:read" }),
  });
  return { status: r.status, json: await r.json() };
}

test("a client-secret app on the default server gets a token with client_secret_basic", async () => {
  const page = await newPage(b);
  await signIn(page, admin);

  await page.getByRole("link", { name: "Authorization Servers" }).click();
  await page.getByRole("heading", { name: "Authorization Servers" }).waitFor();
  await page.getByRole("cell", { name: /Okta org authorization server/ }).waitFor();
  await shot(page, "15-authorization-servers");
  await page.getByRole("link", { name: "default", exact: true }).click();
  await page.getByRole("heading", { name: "default", level: 1 }).waitFor();
  await page.getByText("api://default").first().waitFor();
  await shot(page, "16-server-settings");
  await page.getByRole("link", { name: "Scopes", exact: true }).click();
  await page.getByLabel("Name").fill("reports:read");
  await page.getByLabel("Description").fill("Read the reports");
  await page.getByRole("button", { name: "Add Scope" }).click();
  await page.getByText("Scope added.").waitFor();
  await page.getByRole("cell", { name: "reports:read", exact: true }).waitFor();
  await shot(page, "17-server-scopes");
  await page.getByRole("link", { name: "Access Policies" }).click();
  await page.getByRole("heading", { name: "Access Policies" }).waitFor();
  await shot(page, "18-server-access-policies");
  await page.getByRole("link", { name: "Keys", exact: true }).click();
  const before = await page.locator("tbody tr").count();
  await page.getByRole("button", { name: "Rotate signing keys" }).click();
  await page.getByText("Keys rotated").waitFor();
  assert.ok((await page.locator("tbody tr").count()) >= before);
  await shot(page, "19-server-keys");

  const clientId = await createApp(page, "Report exporter");
  const secret = (await page.locator("#new-secret").textContent()).trim();
  assert.ok(secret.length >= 32, "a client secret is shown once");
  const first = await token(clientId, secret);
  assert.equal(first.status, 200, JSON.stringify(first.json));
  const c = claims(first.json.access_token);
  assert.equal(c.aud, "api://default");
  assert.deepEqual(c.scp, ["reports:read"]);
  assert.equal(c.cid, clientId);
  assert.equal((await token(clientId, "not-the-secret-at-all")).status, 401);

  // Reloading never shows the secret again.
  await page.goto(`${base}/admin/apps/${clientId}`);
  assert.equal(await page.locator("#new-secret").count(), 0);
  // Rotate: a second secret, shown once; deactivate the first; the old one stops working.
  await page.getByRole("button", { name: "Generate new secret" }).click();
  const second = (await page.locator("#new-secret").textContent()).trim();
  assert.notEqual(second, secret);
  await shot(page, "21-client-secrets");
  await page.getByRole("button", { name: /^Deactivate secret/ }).first().click();
  await page.getByText("Client secret deactivated.").waitFor();
  assert.equal((await token(clientId, secret)).status, 401);
  assert.equal((await token(clientId, second)).status, 200);
});
