// Shared by the console browser tests: the server run.sh started, a headless chromium, sign-in, and
// screenshots into docs/console/.
import { chromium } from "playwright-core";
import { execFileSync } from "node:child_process";
import { writeFileSync } from "node:fs";
import path from "node:path";

export const base = process.env.CONSOLE_URL;
export const adminToken = process.env.CONSOLE_ADMIN_TOKEN;
export const work = process.env.CONSOLE_WORK;
export const shots = process.env.CONSOLE_SHOTS;
export const admin = { login: process.env.CONSOLE_ADMIN_LOGIN, password: process.env.CONSOLE_ADMIN_PASSWORD };
export const reader = { login: process.env.CONSOLE_READER_LOGIN, password: process.env.CONSOLE_READER_PASSWORD };

export async function browser() {
  return chromium.launch({ executablePath: process.env.CHROMIUM, headless: true, args: ["--no-sandbox"] });
}

/** A laptop-sized page (1280×800), or a phone-sized one. */
export async function newPage(b, { phone = false } = {}) {
  const context = await b.newContext(phone ? { viewport: { width: 390, height: 844 }, deviceScaleFactor: 2, isMobile: true } : { viewport: { width: 1280, height: 800 } });
  return context.newPage();
}

export async function shot(page, name) {
  if (!shots) return;
  await page.screenshot({ path: path.join(shots, `${name}.png`), fullPage: true });
}

export async function signIn(page, who) {
  await page.goto(`${base}/admin`);
  await page.getByLabel("Username").fill(who.login);
  await page.getByLabel("Password", { exact: true }).fill(who.password);
  await page.getByRole("button", { name: "Sign in", exact: true }).click();
  await page.getByRole("heading", { name: "Applications", level: 1 }).waitFor();
}

/** A management API call with the admin API token. */
export async function api(method, p, body) {
  const r = await fetch(`${base}${p}`, {
    method,
    headers: { Authorization: `SSWS ${adminToken}`, Accept: "application/json", ...(body ? { "Content-Type": "application/json" } : {}) },
    body: body ? JSON.stringify(body) : undefined,
  });
  const text = await r.text();
  return { status: r.status, json: text ? JSON.parse(text) : null };
}

/** Runs the tollgate CLI binary; its stdout. */
export function tollgate(args, env = {}) {
  return execFileSync(process.env.TOLLGATE_BIN, args, { env: { ...process.env, ...env }, encoding: "utf8" }).trim();
}

export function writeSecretFile(name, text) {
  const file = path.join(work, name);
  writeFileSync(file, text, { mode: 0o600 });
  return file;
}

/** Creates an API Services app through the console's clicks; its General tab is open after. */
export async function createApp(page, name, { screenshots = false } = {}) {
  await page.getByRole("link", { name: "Applications", exact: true }).click();
  await page.getByRole("link", { name: "Create App Integration" }).click();
  await page.getByRole("heading", { name: "Create a new app integration" }).waitFor();
  await page.getByRole("radio", { name: /API Services/ }).check();
  if (screenshots) await shot(page, "03-create-app-integration");
  await page.getByRole("button", { name: "Next" }).click();
  await page.getByLabel("App integration name").fill(name);
  if (screenshots) await shot(page, "04-new-api-services-app");
  await page.getByRole("button", { name: "Save" }).click();
  await page.getByRole("heading", { name, level: 1 }).waitFor();
  return (await page.locator("#client-id").textContent()).trim();
}
