// The service-app guide, as clicks: sign in; Applications > Create App Integration > API Services > Next,
// a name, Save; Client Credentials Edit > Public key / Private key; Add key > Generate new key (the private
// key is shown once: kept from the page); Save, confirming that the client secret is deleted; Okta API
// Scopes > Grant okta.users.read. Then, outside the browser, the tollgate CLI signs an assertion with that
// key, /oauth2/v1/token gives an access token, and /api/v1/users answers with it.
import { test, before, after } from "node:test";
import assert from "node:assert/strict";
import { base, browser, newPage, shot, signIn, admin, createApp, tollgate, writeSecretFile, api } from "./support.mjs";

let b;
before(async () => { b = await browser(); });
after(async () => { await b?.close(); });

test("sign in, create an API Services app, generate a key, grant okta.users.read, then get a token and call /api/v1/users", async () => {
  const page = await newPage(b);
  await page.goto(`${base}/admin`);
  await shot(page, "01-sign-in");
  await signIn(page, admin);
  const clientId = await createApp(page, "Payroll sync", { screenshots: true });
  assert.match(clientId, /^0oa/);
  // New apps start with a client secret, shown once.
  await page.getByText("not shown again").first().waitFor();
  await shot(page, "05-app-general-client-secret");

  // Client Credentials > Edit > Public key / Private key > Save: a key is needed first.
  await page.getByRole("link", { name: "Edit Client Credentials" }).click();
  await page.getByRole("radio", { name: "Public key / Private key" }).check();
  await shot(page, "06-client-credentials-edit");
  await page.getByRole("button", { name: "Save" }).click();
  await page.getByText("Add at least one public key first").waitFor();
  await page.getByRole("link", { name: "Add key" }).click();
  await page.getByRole("heading", { name: "Add a public key" }).waitFor();
  await shot(page, "07-add-a-public-key");
  await page.getByRole("button", { name: "Generate new key" }).click();
  await page.getByRole("heading", { name: "New key generated" }).waitFor();
  const pem = (await page.locator("#private-pem").textContent()).trim();
  const jwk = JSON.parse(await page.locator("#private-jwk").textContent());
  assert.match(pem, /^-----BEGIN PRIVATE KEY-----/);
  assert.ok(jwk.d && jwk.kid, "the private JWK carries d and kid");
  await shot(page, "08-new-key-generated");
  await page.getByRole("link", { name: "Done" }).click();

  // Save, and confirm that the client secret goes.
  await page.getByRole("radio", { name: "Public key / Private key" }).check();
  await page.getByRole("radio", { name: "Save keys in Okta" }).check();
  await page.getByRole("button", { name: "Save" }).click();
  await page.getByText("Any existing client secrets for the app are deleted.").waitFor();
  await shot(page, "09-confirm-switch-to-keys");
  await page.getByRole("button", { name: "Save" }).click();
  await page.getByText("Client authentication is now Public key / Private key.").waitFor();
  await page.getByRole("cell", { name: jwk.kid, exact: true }).waitFor();
  await shot(page, "10-app-general-public-keys");

  // The private key never reached the server: the stored key is the public half.
  const keys = await api("GET", `/api/v1/apps/${clientId}/credentials/jwks`);
  assert.equal(keys.json.jwks.keys.length, 1);
  assert.equal(keys.json.jwks.keys[0].kid, jwk.kid);
  assert.equal(keys.json.jwks.keys[0].d, undefined);
  const secrets = await api("GET", `/api/v1/apps/${clientId}/credentials/secrets`);
  assert.equal(secrets.json.length, 0, "switching to keys deleted the secret");

  // Okta API Scopes > Grant okta.users.read.
  await page.getByRole("link", { name: "Okta API Scopes" }).click();
  await page.getByRole("button", { name: "Grant okta.users.read" }).click();
  await page.getByText("Granted okta.users.read.").waitFor();
  await page.getByRole("button", { name: "Revoke okta.users.read" }).waitFor();
  await shot(page, "11-okta-api-scopes");

  // Outside the browser: the CLI signs the assertion with the key the page showed once.
  const keyFile = writeSecretFile("payroll-sync.pem", pem + "\n");
  const assertion = tollgate(["assertion", "--org", base, "--client-id", clientId, "--private-key", keyFile]);
  const tokenResponse = await fetch(`${base}/oauth2/v1/token`, {
    method: "POST",
    headers: { "Content-Type": "application/x-www-form-urlencoded", Accept: "application/json" },
    body: new URLSearchParams({
      grant_type: "client_credentials",
      scope: "okta.users.read",
      client_assertion_type: "urn:ietf:params:oauth:client-assertion-type:jwt-bearer",
      client_assertion: assertion,
    }),
  });
  const token = await tokenResponse.json();
  assert.equal(tokenResponse.status, 200, JSON.stringify(token));
  assert.equal(token.scope, "okta.users.read");
  const users = await fetch(`${base}/api/v1/users`, { headers: { Authorization: `Bearer ${token.access_token}`, Accept: "application/json" } });
  assert.equal(users.status, 200);
  assert.ok(Array.isArray(await users.json()));

  // The token tester explains an assertion by the same rules (a fresh one: the first jti is used up).
  await page.getByRole("link", { name: "Token tester" }).click();
  await page.getByLabel("Client assertion (JWT)").fill(tollgate(["assertion", "--org", base, "--client-id", clientId, "--private-key", keyFile]));
  await shot(page, "12-token-tester");
  await page.getByRole("button", { name: "Check assertion" }).click();
  await page.getByText("The token endpoint would accept this assertion.").waitFor();
  await shot(page, "13-token-tester-result");
  // A tampered one fails the signature check, with the server's answer.
  await page.getByRole("link", { name: "Test another" }).click();
  await page.getByLabel("Client assertion (JWT)").fill(assertion.slice(0, -4) + "AAAA");
  await page.getByRole("button", { name: "Check assertion" }).click();
  await page.getByText("The client_assertion signature is invalid.").waitFor();

  // Admin roles tab.
  await page.goto(`${base}/admin/apps/${clientId}/roles`);
  await page.locator("#role-type").selectOption("READ_ONLY_ADMIN");
  await page.getByRole("button", { name: "Assign role" }).click();
  await page.getByText("Role assigned.").waitFor();
  await shot(page, "14-admin-roles");

  // Browse the rest of the console for the walkthrough.
  await page.getByRole("link", { name: "People" }).click();
  await page.getByRole("heading", { name: "People" }).waitFor();
  await shot(page, "20-people");
  await page.getByRole("link", { name: "System Log" }).click();
  await page.getByRole("heading", { name: "System Log" }).waitFor();
  await page.getByLabel("Event type").fill("app.oauth2.as.consent.grant");
  await page.getByRole("button", { name: "Search" }).click();
  await page.getByRole("cell", { name: /Grant scope to app/ }).first().waitFor();
  await shot(page, "22-system-log");
  await page.getByRole("link", { name: "Applications", exact: true }).click();
  await shot(page, "02-applications");

  // Phone width.
  const phone = await newPage(b, { phone: true });
  await signIn(phone, admin);
  await phone.goto(`${base}/admin/apps/${clientId}`);
  await shot(phone, "30-phone-app-general");
  await phone.goto(`${base}/admin/logs`);
  await shot(phone, "31-phone-system-log");
});
