// End-to-end test of /console in a real browser (Debian chromium driven by playwright-core).
// Usage: node console-test.mjs BASE_URL ADMIN_TOKEN SCREENSHOT_DIR
import { chromium } from "playwright-core";
import { mkdirSync } from "node:fs";

const [base, adminToken, shots] = process.argv.slice(2);
mkdirSync(shots, { recursive: true });
const realm = "console-e2e";
const step = (what) => console.log(`console-test: ${what}`);
function check(condition, what) {
  if (!condition) throw new Error(`console-test FAILED: ${what}`);
  step(`ok: ${what}`);
}
async function adminGet(path) {
  const r = await fetch(`${base}${path}`, { headers: { Authorization: `Bearer ${adminToken}` } });
  return { status: r.status, body: await r.json() };
}

const browser = await chromium.launch({
  executablePath: process.env.CHROMIUM || "/usr/bin/chromium",
  args: ["--no-sandbox", "--disable-dev-shm-usage"],
});
try {
  const page = await browser.newPage({ viewport: { width: 1280, height: 860 } });
  page.on("dialog", (dialog) => dialog.accept());
  const errors = [];
  page.on("pageerror", (e) => errors.push(e.message));
  // The API's 401 (wrong token) and 404 (a name searched as an id first) are expected answers.
  page.on("console", (m) => {
    if (m.type() === "error" && !/status of (401|404)/.test(m.text())) errors.push(m.text());
  });

  // A wrong token: a clear message, nothing of the admin view.
  await page.goto(`${base}/console`);
  await page.fill("#admin-token", "not-the-admin-token");
  await page.click("#sign-in-form button[type=submit]");
  await page.waitForFunction(() => document.querySelector("#sign-in-error").textContent.length > 0);
  check((await page.textContent("#sign-in-error")).includes("admin token was refused"), "wrong token says it was refused");
  check(await page.isHidden("#app-view"), "wrong token shows no realms");
  check((await page.$$("#realm-list li")).length === 0, "no realm rendered after a wrong token");
  await page.screenshot({ path: `${shots}/01-wrong-token.png` });

  // Sign in.
  await page.fill("#admin-token", adminToken);
  await page.click("#sign-in-form button[type=submit]");
  await page.waitForSelector("#realm-list button[data-realm=alpha]");
  check(await page.isVisible("#app-view"), "the right token shows the console");

  // Create a realm.
  await page.fill("#new-realm-name", realm);
  await page.click("#create-realm-form button[type=submit]");
  await page.waitForSelector(`#realm-list button[data-realm=${realm}].active`);
  await page.waitForFunction(() => document.querySelector("#provider-form [name=dynamic_client_registration_scope]").value !== "");
  check((await adminGet(`/admin/realms/${realm}`)).status === 200, "realm created through the console");

  // Turn on open registration.
  await page.check("#provider-form [name=allow_open_dynamic_registration]");
  await page.click("#provider-form button[type=submit]");
  await page.waitForFunction(() => document.querySelector("#status").textContent.includes("Settings saved"));
  check((await adminGet(`/admin/realms/${realm}/oauth2-provider`)).body.allow_open_dynamic_registration === true, "open registration is on");
  await page.screenshot({ path: `${shots}/02-provider-settings.png` });

  // A software publisher agent with the seed's fields.
  await page.click(".tabs button[data-tab=publishers]");
  await page.fill("#publisher-form [name=agent_id]", "Console Publisher");
  await page.fill("#publisher-form [name=secret]", "console-publisher-secret-0123456789");
  await page.fill("#publisher-form [name=issuer]", "https://publisher.console.example");
  await page.selectOption("#publisher-form [name=signing_algorithm]", "HS256");
  await page.click("#publisher-form button[type=submit]");
  await page.waitForFunction(() => document.querySelector("#publisher-list").textContent.includes("Console Publisher"));
  const publisher = await adminGet(`/admin/realms/${realm}/software-publishers/Console%20Publisher`);
  check(publisher.status === 200 && publisher.body.issuer === "https://publisher.console.example", "publisher saved");
  await page.screenshot({ path: `${shots}/03-software-publisher.png` });

  // A service application with a generated secret.
  await page.click(".tabs button[data-tab=services]");
  await page.fill("#service-form [name=client_id]", "registration-service");
  await page.fill("#service-form [name=scopes]", "dynamic_client_registration");
  await page.click("#service-form button[type=submit]");
  await page.waitForFunction(() => document.querySelector("#service-list").textContent.includes("registration-service"));
  const notice = await page.textContent("#service-secret");
  const secret = notice.split("(shown once): ")[1];
  check(secret && secret.length >= 40, "a secret was generated and shown once");
  const tokenResponse = await fetch(`${base}/am/oauth2/realms/root/realms/${realm}/access_token`, {
    method: "POST",
    headers: { "Content-Type": "application/x-www-form-urlencoded", Authorization: `Basic ${Buffer.from(`registration-service:${secret}`).toString("base64")}` },
    body: "grant_type=client_credentials&scope=dynamic_client_registration",
  });
  check(tokenResponse.status === 200, "the service application gets a token with its generated secret");
  await page.screenshot({ path: `${shots}/04-service-application.png` });

  // A client registered over the public API, found in the console, deleted there.
  const registered = await (await fetch(`${base}/am/oauth2/realms/root/realms/${realm}/register`, {
    method: "POST",
    headers: { "Content-Type": "application/json" },
    body: JSON.stringify({ client_name: "Console E2E <b>Client</b>", redirect_uris: ["https://e2e.example.com/cb"] }),
  })).json();
  check(typeof registered.client_id === "string", "open registration over the public API");
  await page.click(".tabs button[data-tab=clients]");
  await page.fill("#client-search", "console e2e");
  await page.click("#client-search-form button[type=submit]");
  const row = `#client-list tr[data-client-id="${registered.client_id}"]`;
  await page.waitForSelector(row);
  check((await page.textContent(row)).includes("Console E2E <b>Client</b>"), "found by name, the name shown as text (no HTML injection)");
  await page.fill("#client-search", registered.client_id);
  await page.click("#client-search-form button[type=submit]");
  await page.waitForSelector(row);
  await page.click(`${row} button:text("View")`);
  await page.waitForFunction((id) => document.querySelector("#client-detail").textContent.includes(id), registered.client_id);
  await page.screenshot({ path: `${shots}/05-dynamic-client.png` });
  await page.click(`${row} button:text("Delete")`);
  await page.waitForSelector(row, { state: "detached" });
  check((await adminGet(`/admin/realms/${realm}/clients/${registered.client_id}`)).status === 404, "client deleted through the console");

  // Key rotation.
  await page.click(".tabs button[data-tab=keys]");
  await page.waitForFunction(() => document.querySelector("#jwks-view").textContent.includes("keys"));
  const before = JSON.parse(await page.textContent("#jwks-view")).keys.length;
  await page.click("#rotate-keys");
  await page.waitForFunction(() => document.querySelector("#status").textContent.includes("rotated"));
  const after = JSON.parse(await page.textContent("#jwks-view")).keys.length;
  check(after > before, `rotation publishes a new key (${before} -> ${after})`);
  await page.screenshot({ path: `${shots}/06-keys.png` });

  check(errors.length === 0, `no page errors (${errors.join("; ")})`);
  console.log(`console-test: PASSED, screenshots in ${shots}`);
} finally {
  await browser.close();
}
