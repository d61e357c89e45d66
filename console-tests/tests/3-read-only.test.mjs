// A read-only admin sees everything and no button that would change anything; a change forged with the
// page's own CSRF token is refused by the server anyway (the management API's answer).
import { test, before, after } from "node:test";
import assert from "node:assert/strict";
import { base, browser, newPage, shot, signIn, reader, api } from "./support.mjs";

let b;
before(async () => { b = await browser(); });
after(async () => { await b?.close(); });

test("a read-only admin cannot change anything", async () => {
  const made = await api("POST", "/api/v1/apps", {
    name: "oidc_client", label: "Read me", signOnMode: "OPENID_CONNECT",
    credentials: { oauthClient: { token_endpoint_auth_method: "client_secret_basic" } },
    settings: { oauthClient: { application_type: "service", grant_types: ["client_credentials"] } },
  });
  assert.equal(made.status, 200, JSON.stringify(made.json));
  const appId = made.json.id;
  const page = await newPage(b);
  await signIn(page, reader);
  await page.getByText("Read-only Administrator").waitFor();
  assert.equal(await page.getByRole("link", { name: "Create App Integration" }).count(), 0);
  await page.getByRole("link", { name: "Read me" }).click();
  await page.getByRole("heading", { name: "Read me", level: 1 }).waitFor();
  await shot(page, "23-read-only-app");
  for (const name of ["Edit", "Add key", "Generate new secret", "Deactivate", "Activate", "Delete"]) {
    assert.equal(await page.getByRole("button", { name }).count(), 0, `no ${name} button`);
    assert.equal(await page.getByRole("link", { name, exact: true }).count(), 0, `no ${name} link`);
  }
  await page.getByRole("link", { name: "Okta API Scopes" }).click();
  await page.getByRole("cell", { name: "okta.users.read" }).waitFor();
  assert.equal(await page.getByRole("button", { name: /^Grant/ }).count(), 0);
  await page.getByRole("link", { name: "Admin roles" }).click();
  assert.equal(await page.getByRole("button", { name: "Assign role" }).count(), 0);
  await page.getByRole("link", { name: "Authorization Servers" }).click();
  await page.getByRole("link", { name: "default", exact: true }).click();
  assert.equal(await page.getByRole("link", { name: "Edit" }).count(), 0);
  await page.getByRole("link", { name: "Keys", exact: true }).click();
  assert.equal(await page.getByRole("button", { name: "Rotate signing keys" }).count(), 0);
  await page.getByRole("link", { name: "People" }).click();
  await page.getByLabel("Search").fill("nobody-matches-this");
  await page.getByRole("button", { name: "Search" }).click();
  await page.getByText("No people match").waitFor();

  // Forge the changes with the page's own CSRF token: the server refuses each.
  await page.goto(`${base}/admin/apps/${appId}`);
  const csrf = await page.locator("input[name=csrf]").first().inputValue();
  const statuses = await page.evaluate(async ({ appId, csrf }) => {
    const post = async (p, fields) => {
      const r = await fetch(p, { method: "POST", body: new URLSearchParams({ csrf, ...fields }), redirect: "follow" });
      return { status: r.status, url: r.url, text: await r.text() };
    };
    return [
      await post("/admin/apps", { label: "Should not exist" }),
      await post(`/admin/apps/${appId}/secrets`, {}),
      await post(`/admin/apps/${appId}/scopes/grant`, { scope: "okta.users.read" }),
      await post(`/admin/apps/${appId}/lifecycle/deactivate`, {}),
      await post("/admin/servers/default/rotate", {}),
    ];
  }, { appId, csrf });
  for (const s of statuses) {
    assert.ok(s.status >= 400 || s.url.includes("error="), `refused: ${s.status} ${s.url}`);
    assert.match(s.text, /You do not have permission/);
  }
  const apps = await api("GET", "/api/v1/apps");
  assert.deepEqual(apps.json.map((a) => a.label).filter((l) => l === "Should not exist"), []);
  const secrets = await api("GET", `/api/v1/apps/${appId}/credentials/secrets`);
  assert.equal(secrets.json.length, 1);
  const grants = await api("GET", `/api/v1/apps/${appId}/grants`);
  assert.equal(grants.json.length, 0);
  const app = await api("GET", `/api/v1/apps/${appId}`);
  assert.equal(app.json.status, "ACTIVE");
});
