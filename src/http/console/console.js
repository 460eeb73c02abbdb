// dynreg admin console: plain DOM, the admin REST API only. Data from the server is put into
// the page with textContent, never parsed as HTML (client names come from public registrations).
"use strict";

const TOKEN_KEY = "dynreg-admin-token";
const $ = (id) => document.getElementById(id);
let currentRealm = null;
let nextCursor = null;
// The settings as loaded: fields the form does not show are sent back unchanged.
let loadedSettings = {};

function token() { return sessionStorage.getItem(TOKEN_KEY); }

class ApiError extends Error {
  constructor(status, body) {
    super((body && body.error_description) || `HTTP ${status}`);
    this.status = status;
  }
}

async function api(method, path, body) {
  const headers = { Authorization: `Bearer ${token()}` };
  if (body !== undefined) headers["Content-Type"] = "application/json";
  const response = await fetch(path, { method, headers, body: body === undefined ? undefined : JSON.stringify(body) });
  const text = await response.text();
  const json = text ? JSON.parse(text) : null;
  if (response.status === 401) { signOut("The admin token was refused: check it and sign in again."); throw new ApiError(401, json); }
  if (!response.ok) throw new ApiError(response.status, json);
  return json;
}

function say(message, isError) {
  const status = $("status");
  status.textContent = message;
  status.className = isError ? "error" : "";
  clearTimeout(say.timer);
  say.timer = setTimeout(() => { status.textContent = ""; }, 6000);
}

async function guarded(action) {
  try { await action(); } catch (e) { if (e.status !== 401) say(e.message, true); }
}

function el(tag, text, attrs) {
  const node = document.createElement(tag);
  if (text !== undefined && text !== null) node.textContent = text;
  for (const [k, v] of Object.entries(attrs || {})) node.setAttribute(k, v);
  return node;
}

function button(label, onClick, cls) {
  const b = el("button", label, { type: "button" });
  if (cls) b.className = cls;
  b.addEventListener("click", () => guarded(onClick));
  return b;
}

const list = (text) => text.split(/[\s,]+/).filter(Boolean);
const realmPath = (suffix) => `/admin/realms/${encodeURIComponent(currentRealm)}${suffix || ""}`;

// ---- sign in / out ----

function signOut(message) {
  sessionStorage.removeItem(TOKEN_KEY);
  currentRealm = null;
  $("app-view").hidden = true;
  $("sign-out").hidden = true;
  $("realm-list").replaceChildren();
  $("sign-in-view").hidden = false;
  $("sign-in-error").textContent = message || "";
}

async function signIn(candidate) {
  sessionStorage.setItem(TOKEN_KEY, candidate);
  const response = await fetch("/admin/realms", { headers: { Authorization: `Bearer ${candidate}` } });
  if (response.status === 401) { signOut("The admin token was refused: check it and sign in again."); return; }
  if (!response.ok) { signOut(`The server answered ${response.status}.`); return; }
  $("sign-in-view").hidden = true;
  $("app-view").hidden = false;
  $("sign-out").hidden = false;
  $("sign-in-error").textContent = "";
  renderRealms((await response.json()).realms);
}

// ---- realms ----

async function loadRealms() { renderRealms((await api("GET", "/admin/realms")).realms); }

function renderRealms(names) {
  $("realm-list").replaceChildren(...names.map((name) => {
    const b = button(name, () => openRealm(name));
    b.dataset.realm = name;
    if (name === currentRealm) b.classList.add("active");
    return el("li").appendChild(b).parentNode;
  }));
}

async function openRealm(name) {
  currentRealm = name;
  document.querySelectorAll("#realm-list button").forEach((b) => b.classList.toggle("active", b.dataset.realm === name));
  $("no-realm").hidden = true;
  $("realm-panel").hidden = false;
  $("realm-title").textContent = `Realm ${name}`;
  await showTab("provider");
}

async function showTab(tab) {
  document.querySelectorAll(".tabs button").forEach((b) => b.classList.toggle("active", b.dataset.tab === tab));
  document.querySelectorAll(".tab").forEach((t) => { t.hidden = t.id !== `tab-${tab}`; });
  const loaders = { provider: loadProvider, services: loadServices, publishers: loadPublishers, clients: () => loadClients(false), keys: loadKeys };
  if (loaders[tab]) await loaders[tab]();
}

// ---- provider settings ----

async function loadProvider() {
  const settings = await api("GET", realmPath("/oauth2-provider"));
  loadedSettings = settings;
  const form = $("provider-form");
  for (const input of form.querySelectorAll("input")) {
    const value = settings[input.name];
    if (input.type === "checkbox") input.checked = Boolean(value);
    else if (input.hasAttribute("data-list")) input.value = (value || []).join(" ");
    else input.value = value ?? "";
  }
}

async function saveProvider(form) {
  const settings = { ...loadedSettings };
  for (const input of form.querySelectorAll("input")) {
    if (input.type === "checkbox") settings[input.name] = input.checked;
    else if (input.hasAttribute("data-list")) settings[input.name] = list(input.value);
    else if (input.type === "number") settings[input.name] = Number(input.value);
    else settings[input.name] = input.value;
  }
  await api("PUT", realmPath("/oauth2-provider"), settings);
  say("Settings saved");
}

// ---- clients (service applications are static clients) ----

async function clientPage(after) {
  const query = after ? `?page_size=100&after=${encodeURIComponent(after)}` : "?page_size=100";
  return api("GET", realmPath(`/clients${query}`));
}

async function loadServices() {
  const rows = [];
  let after = null;
  for (let pages = 0; pages < 20; pages++) {
    const page = await clientPage(after);
    for (const c of page.clients.filter((c) => c.client_origin === "static")) {
      rows.push(el("tr"));
      const row = rows[rows.length - 1];
      row.append(el("td", c.client_id), el("td", (c.scopes || []).join(" ")), el("td", (c.grant_types || []).join(" ")),
        el("td").appendChild(button("Delete", async () => {
          if (!confirm(`Delete service application ${c.client_id}?`)) return;
          await api("DELETE", realmPath(`/clients/${encodeURIComponent(c.client_id)}`));
          say("Deleted"); await loadServices();
        })).parentNode);
    }
    if (!page.next) break;
    after = page.next;
  }
  $("service-list").replaceChildren(...rows);
}

function generatedSecret() {
  const bytes = crypto.getRandomValues(new Uint8Array(32));
  return btoa(String.fromCharCode(...bytes)).replace(/\+/g, "-").replace(/\//g, "_").replace(/=+$/, "");
}

async function saveService(form) {
  const data = new FormData(form);
  const clientId = data.get("client_id").trim();
  const given = data.get("client_secret");
  const secret = given || generatedSecret();
  await api("PUT", realmPath(`/clients/${encodeURIComponent(clientId)}`), {
    client_secret: secret,
    grant_types: ["client_credentials"],
    token_endpoint_auth_method: "client_secret_basic",
    scopes: list(data.get("scopes")),
  });
  $("service-secret").textContent = given ? `Saved ${clientId}.` : `Saved ${clientId}. Its generated secret (shown once): ${secret}`;
  form.reset();
  await loadServices();
}

// ---- software publishers ----

async function loadPublishers() {
  const { software_publishers: publishers } = await api("GET", realmPath("/software-publishers"));
  $("publisher-list").replaceChildren(...publishers.map((p) => {
    const row = el("tr");
    row.append(el("td", p.agent_id), el("td", p.issuer), el("td", p.signing_algorithm), el("td", p.public_key_selector || "secret"),
      el("td").appendChild(button("Delete", async () => {
        if (!confirm(`Delete software publisher ${p.agent_id}?`)) return;
        await api("DELETE", realmPath(`/software-publishers/${encodeURIComponent(p.agent_id)}`));
        say("Deleted"); await loadPublishers();
      })).parentNode);
    return row;
  }));
}

async function savePublisher(form) {
  const data = new FormData(form);
  const doc = { agent_id: data.get("agent_id").trim(), issuer: data.get("issuer").trim(), signing_algorithm: data.get("signing_algorithm") };
  if (data.get("secret")) doc.secret = data.get("secret");
  if (data.get("public_key_selector")) doc.public_key_selector = data.get("public_key_selector");
  if (data.get("jwks").trim()) {
    try { doc.jwks = JSON.parse(data.get("jwks")); } catch (e) { say(`JWKs is not JSON: ${e.message}`, true); return; }
  }
  if (data.get("jwks_uri").trim()) doc.jwks_uri = data.get("jwks_uri").trim();
  await api("PUT", realmPath(`/software-publishers/${encodeURIComponent(doc.agent_id)}`), doc);
  say("Publisher saved");
  form.reset();
  await loadPublishers();
}

// ---- dynamic clients ----

function clientRow(c) {
  const row = el("tr");
  row.dataset.clientId = c.client_id;
  row.append(el("td", c.client_id), el("td", c.client_name ?? ""), el("td", c.client_origin),
    el("td").appendChild(button("View", () => viewClient(c.client_id))).parentNode);
  row.lastChild.appendChild(button("Delete", async () => {
    if (!confirm(`Delete client ${c.client_id}?`)) return;
    await api("DELETE", realmPath(`/clients/${encodeURIComponent(c.client_id)}`));
    say("Client deleted");
    $("client-detail").hidden = true;
    await loadClients(false);
  }));
  return row;
}

async function loadClients(more, filter) {
  const page = await clientPage(more ? nextCursor : null);
  nextCursor = page.next;
  let clients = page.clients.filter((c) => c.client_origin === "dynamic");
  if (filter) clients = clients.filter(filter);
  const rows = clients.map(clientRow);
  if (more) $("client-list").append(...rows); else $("client-list").replaceChildren(...rows);
  $("client-more").hidden = !nextCursor;
}

async function searchClients(term) {
  term = term.trim();
  if (!term) return loadClients(false);
  try {
    const client = await api("GET", realmPath(`/clients/${encodeURIComponent(term)}`));
    $("client-list").replaceChildren(clientRow(client));
    $("client-more").hidden = true;
    return;
  } catch (e) { if (e.status !== 404 && e.status !== 400) throw e; }
  const needle = term.toLowerCase();
  const matches = [];
  let after = null;
  for (let pages = 0; pages < 50; pages++) {
    const page = await clientPage(after);
    matches.push(...page.clients.filter((c) => String(c.client_name ?? "").toLowerCase().includes(needle)));
    if (!page.next) break;
    after = page.next;
  }
  $("client-list").replaceChildren(...matches.map(clientRow));
  $("client-more").hidden = true;
  if (!matches.length) say(`No client with id or name ${term}`);
}

async function viewClient(id) {
  const client = await api("GET", realmPath(`/clients/${encodeURIComponent(id)}`));
  $("client-detail").textContent = JSON.stringify(client, null, 2);
  $("client-detail").hidden = false;
}

// ---- keys and realm deletion ----

async function loadKeys() {
  const jwks = await fetch(`${currentRealm === "root" ? "/am/oauth2/realms/root" : `/am/oauth2/realms/root/realms/${encodeURIComponent(currentRealm)}`}/connect/jwk_uri`);
  $("jwks-view").textContent = JSON.stringify(await jwks.json(), null, 2);
}

async function rotateKeys() {
  const jwks = await api("POST", realmPath("/keys/rotate"));
  $("jwks-view").textContent = JSON.stringify(jwks, null, 2);
  say("Signing key rotated");
}

async function deleteRealm() {
  if (!confirm(`Delete realm ${currentRealm} and everything in it?`)) return;
  await api("DELETE", realmPath());
  say(`Realm ${currentRealm} deleted`);
  currentRealm = null;
  $("realm-panel").hidden = true;
  $("no-realm").hidden = false;
  await loadRealms();
}

// ---- wiring ----

function onSubmit(id, handler) {
  $(id).addEventListener("submit", (event) => { event.preventDefault(); guarded(() => handler(event.target)); });
}

document.addEventListener("DOMContentLoaded", () => {
  onSubmit("sign-in-form", () => signIn($("admin-token").value.trim()));
  onSubmit("create-realm-form", async () => {
    const name = $("new-realm-name").value.trim();
    await api("PUT", `/admin/realms/${encodeURIComponent(name)}`, {});
    $("new-realm-name").value = "";
    await loadRealms();
    say(`Realm ${name} created`);
    await openRealm(name);
  });
  onSubmit("provider-form", saveProvider);
  onSubmit("service-form", saveService);
  onSubmit("publisher-form", savePublisher);
  onSubmit("client-search-form", () => searchClients($("client-search").value));
  $("client-refresh").addEventListener("click", () => guarded(() => loadClients(false)));
  $("client-more").addEventListener("click", () => guarded(() => loadClients(true)));
  $("rotate-keys").addEventListener("click", () => guarded(rotateKeys));
  $("delete-realm").addEventListener("click", () => guarded(deleteRealm));
  $("sign-out").addEventListener("click", () => signOut(""));
  document.querySelectorAll(".tabs button").forEach((b) => b.addEventListener("click", () => guarded(() => showTab(b.dataset.tab))));
  if (token()) guarded(() => signIn(token()));
});
