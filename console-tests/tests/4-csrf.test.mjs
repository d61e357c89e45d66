// Cross-site request forgery: a page on another origin posts a form to the console while the admin is
// signed in. The session cookie is SameSite=Strict (not sent), the form has no CSRF token, and its Origin
// is not the console's: refused, and nothing changes. A same-origin request without the token is refused too.
import { test, before, after } from "node:test";
import assert from "node:assert/strict";
import http from "node:http";
import { base, browser, newPage, signIn, admin, api } from "./support.mjs";

let b, evil, evilUrl;
before(async () => {
  b = await browser();
  evil = http.createServer((req, res) => {
    res.writeHead(200, { "Content-Type": "text/html" });
    res.end(`<!doctype html><title>Win a prize</title><form id="f" method="post" action="${base}/admin/apps">
      <input name="label" value="Planted by another site"></form>
      <script>document.getElementById("f").submit()</script>`);
  });
  await new Promise((r) => evil.listen(0, "localhost", r));
  evilUrl = `http://localhost:${evil.address().port}/`;
});
after(async () => { await b?.close(); evil?.close(); });

test("a cross-site POST without the CSRF token is refused", async () => {
  const page = await newPage(b);
  await signIn(page, admin);
  const before = (await api("GET", "/api/v1/apps")).json.length;

  const refused = page.waitForResponse((r) => r.url() === `${base}/admin/apps` && r.request().method() === "POST");
  await page.goto(evilUrl);
  const response = await refused;
  assert.ok([401, 403].includes(response.status()), `refused, got ${response.status()}`);

  // From the console's own origin, with the session but without the token: refused by the token check.
  await page.goto(`${base}/admin/apps`);
  const status = await page.evaluate(async () => {
    const r = await fetch("/admin/apps", { method: "POST", body: new URLSearchParams({ label: "No token" }) });
    return r.status;
  });
  assert.equal(status, 403);
  const after = (await api("GET", "/api/v1/apps")).json;
  assert.equal(after.length, before);
  assert.ok(!after.some((a) => a.label === "Planted by another site" || a.label === "No token"));
  // Still signed in: the refusals did not end the session.
  await page.goto(`${base}/admin/apps`);
  await page.getByRole("heading", { name: "Applications", level: 1 }).waitFor();
});
