/* What every desk page shares: DOM helpers, the live connection to
 * /ws/agent/ (docs/protocol.md) with backoff and heartbeat, and the agent REST
 * API (session cookie + CSRF header). Plain ES modules, no build step.
 */
const PING_MS = 20000;
const STABLE_MS = 10000; // a connection up this long resets the backoff
// The server closes with this once the sign-in behind the socket ended (docs/protocol.md).
const CLOSE_SIGNED_OUT = 4401;

export const body = document.body;
export const LABELS = readJson("desk-labels") || { status: {}, priority: {}, channel: {} };
export const TEAMS = readJson("desk-teams") || {};

export function readJson(id) {
  const node = document.getElementById(id);
  return node ? JSON.parse(node.textContent) : null;
}

export function $(selector, root) {
  return (root || document).querySelector(selector);
}

export function el(tag, attrs, ...children) {
  const node = document.createElement(tag);
  for (const [key, value] of Object.entries(attrs || {})) {
    if (value === null || value === undefined || value === false) continue;
    if (key === "class") node.className = value;
    else if (key === "text") node.textContent = value;
    else node.setAttribute(key, value === true ? "" : value);
  }
  for (const child of children) if (child) node.append(child);
  return node;
}

export function newId() {
  if (window.crypto && typeof crypto.randomUUID === "function") return crypto.randomUUID();
  return Array.from(crypto.getRandomValues(new Uint8Array(16)), (b) => b.toString(16).padStart(2, "0")).join("");
}

// The server writes times in the desk's zone; the page shows them in the agent's own, like live ones.
export function formatTime(iso) {
  const date = iso ? new Date(iso) : new Date();
  return date.toLocaleString([], { month: "short", day: "numeric", hour: "2-digit", minute: "2-digit", hourCycle: "h23" });
}
export function localTimes(root) {
  for (const time of (root || document).querySelectorAll("time[datetime]")) {
    time.textContent = formatTime(time.getAttribute("datetime"));
  }
}

// ---- errors ----

const errorBox = $('[data-testid="error"]');
let errorTimer = 0;
export function showError(text) {
  errorBox.textContent = text;
  errorBox.hidden = false;
  clearTimeout(errorTimer);
  errorTimer = setTimeout(() => (errorBox.hidden = true), 10000);
}

// ---- the connection: backoff, heartbeat, state shown in the top bar ----

const stateBadge = $('[data-testid="connection-state"]');
const STATE_TEXT = {
  connecting: "Connecting…",
  online: "Live",
  offline: "Offline, reconnecting…",
  signed_out: "You were signed out",
};
function setState(name) {
  stateBadge.setAttribute("data-state", name);
  stateBadge.textContent = STATE_TEXT[name];
}

// Reconnecting would be refused: say so, and offer to sign in again (a
// reload of this page goes through the sign-in page when it has to).
function showSignedOut() {
  setState("signed_out");
  stateBadge.append(" · ", el("a", { href: location.href, "data-testid": "sign-in-again", text: "Sign in" }));
  statusPicker.disabled = true;
}

let ws = null;
let attempt = 0;
let stableTimer = 0;
let pingTimer = 0;
let welcomed = 0; // how many times the server said welcome: more than one is a reconnect

export function send(frame) {
  if (!ws || ws.readyState !== WebSocket.OPEN) return false;
  ws.send(JSON.stringify(frame));
  return true;
}

function connect() {
  setState(welcomed ? "offline" : "connecting");
  const socket = new WebSocket((location.protocol === "https:" ? "wss://" : "ws://") + location.host + "/ws/agent/");
  ws = socket;
  socket.onopen = () => {
    stableTimer = setTimeout(() => (attempt = 0), STABLE_MS);
    pingTimer = setInterval(() => send({ type: "ping" }), PING_MS);
  };
  socket.onmessage = (event) => {
    let frame;
    try {
      frame = JSON.parse(event.data);
    } catch (e) {
      return;
    }
    const handler = handlers[frame.type];
    if (handler) handler(frame);
  };
  socket.onclose = (event) => {
    if (ws !== socket) return;
    ws = null;
    clearTimeout(stableTimer);
    clearInterval(pingTimer);
    if (event.code === CLOSE_SIGNED_OUT) {
      showSignedOut();
      return;
    }
    setState("offline");
    // Jittered exponential backoff: random(0, min(30 s, 0.5 s * 2^attempt)).
    const delay = Math.random() * Math.min(30000, 500 * Math.pow(2, attempt));
    attempt += 1;
    setTimeout(connect, delay);
  };
}

// The page being shown: its handlers for frames, set by start().
let page = {};

// What every page does with the frames; the page's own handlers come on top.
const statusPicker = $('[data-testid="agent-status"]');
const handlers = {
  welcome(frame) {
    welcomed += 1;
    setState("online");
    if (frame.agent && frame.agent.status) statusPicker.value = frame.agent.status === "online" ? "online" : "away";
    statusPicker.disabled = false;
    if (page.welcome) page.welcome(frame, welcomed > 1);
  },
  status(frame) {
    statusPicker.value = frame.status === "online" ? "online" : "away";
  },
  error(frame) {
    if (frame.code === "signed_out") return; // the close that follows says it
    if (page.error && page.error(frame)) return;
    showError(frame.message || "Something went wrong.");
  },
};
statusPicker.addEventListener("change", () => send({ type: "status", status: statusPicker.value }));

// After a reconnect, events sent meanwhile are lost: take the parts that
// events keep current from a fresh render of this page.
export async function refreshFromServer(selectors) {
  const response = await fetch(location.href, { credentials: "same-origin", headers: { Accept: "text/html" } });
  if (!response.ok || response.redirected) return false;
  const fresh = new DOMParser().parseFromString(await response.text(), "text/html");
  for (const selector of selectors) {
    const next = $(selector, fresh);
    const current = $(selector);
    if (next && current) {
      const node = document.importNode(next, true);
      localTimes(node);
      current.replaceWith(node);
    }
  }
  return true;
}

export function setPill(node, field, value) {
  if (!node) return;
  node.setAttribute("data-" + field, value);
  node.textContent = (LABELS[field] || {})[value] || value;
}

export function csrfToken() {
  const input = $('input[name="csrfmiddlewaretoken"]');
  if (input) return input.value;
  const match = document.cookie.match(/(?:^|;\s*)csrftoken=([^;]+)/);
  return match ? decodeURIComponent(match[1]) : "";
}

// A JSON call to the agent API; never throws for an HTTP error, only when the desk is unreachable.
export async function callApi(method, url, payload) {
  const response = await fetch(url, {
    method,
    credentials: "same-origin",
    headers: { "Content-Type": "application/json", Accept: "application/json", "X-CSRFToken": csrfToken() },
    body: payload === undefined ? undefined : JSON.stringify(payload),
  });
  let data = null;
  try {
    data = await response.json();
  } catch (e) {
    data = null;
  }
  return { status: response.status, ok: response.ok, data };
}

// Show the page live: its handlers (welcome, message, ticket, ...) receive the frames of their type.
export function start(pageHandlers) {
  page = pageHandlers;
  localTimes();
  for (const type of Object.keys(page)) {
    if (!(type in handlers)) handlers[type] = page[type];
  }
  connect();
}
