/* The support desk's chat widget for shop pages.
 *
 * A shop embeds it with one tag, on its own origin:
 *   <script src="https://desk.example.com/static/widget/widget.js" data-shop="demo" async></script>
 * and, for a signed-in customer, sets before it (hmac: the shop server's hex
 * HMAC-SHA256 of id with the shop's widget secret):
 *   window.HelpdeskWidget = {identity: {id: "c-1", email: "...", name: "...", hmac: "..."}};
 *
 * Everything renders in an open shadow root so the shop's CSS cannot reach it.
 * The wire protocol (session, frames, watermark, backoff) is docs/protocol.md.
 * Plain JavaScript, no build step, no dependencies.
 */
(function () {
  "use strict";

  // document.currentScript is only set while this file first runs.
  const script = document.currentScript || document.querySelector('script[src*="widget/widget.js"]');
  if (!script || window.__helpdeskWidget) return;
  const SHOP = script.getAttribute("data-shop");
  if (!SHOP) {
    console.error("Helpdesk widget: the script tag needs data-shop=\"<shop slug>\".");
    return;
  }
  const DESK = new URL(script.src, location.href).origin;
  const CONFIG = window.HelpdeskWidget || {};
  // Right to left when the shop's page is (Hebrew, Persian, Arabic shops), or when told: data-dir="rtl".
  const DIR = (script.getAttribute("data-dir") || CONFIG.dir || document.documentElement.dir || document.dir || "ltr").toLowerCase() === "rtl" ? "rtl" : "ltr";

  const PING_MS = 20000;
  const STABLE_MS = 10000; // a connection up this long resets the backoff
  const TYPING_SHOW_MS = 6000;
  const TYPING_IDLE_MS = 2000;
  const TYPING_REPEAT_MS = 3000;
  const RECEIPT_DELAY_MS = 300; // receipts for a burst of messages go as one frame
  const SYNC_STALE_MS = 15000; // a sync unanswered this long was lost (e.g. rate limited)

  // ---- storage: localStorage per shop, memory when it is unavailable ----

  const PREFIX = "helpdesk-widget:" + SHOP + ":";
  const memory = {};
  const store = {
    get(key) {
      try {
        const raw = localStorage.getItem(PREFIX + key);
        if (raw !== null) return JSON.parse(raw);
      } catch (e) {
        /* blocked storage or bad JSON: fall back to memory */
      }
      return key in memory ? memory[key] : null;
    },
    set(key, value) {
      memory[key] = value;
      try {
        localStorage.setItem(PREFIX + key, JSON.stringify(value));
      } catch (e) {
        /* memory only */
      }
    },
  };

  function newId() {
    if (window.crypto && typeof crypto.randomUUID === "function") return crypto.randomUUID();
    const bytes = new Uint8Array(16);
    (window.crypto || window.msCrypto).getRandomValues(bytes);
    return Array.from(bytes, (b) => b.toString(16).padStart(2, "0")).join("");
  }

  // Jittered exponential backoff (docs/protocol.md): random(0, min(30 s, 0.5 s * 2^attempt)).
  function backoffDelay(attempt) {
    return Math.random() * Math.min(30000, 500 * Math.pow(2, attempt));
  }

  // ---- state ----

  const state = {
    visitorToken: store.get("visitor") || "",
    customer: null, // {name, email, verified}
    availability: null,
    limits: { max_chars: 5000, messages_per_minute: 30 },
    conversations: new Map(), // ticket id -> {ticket, subject, status, channel, last_seq}
    prechatDone: !!store.get("prechat"),
    open: false,
    unread: 0,
    connected: false,
  };

  // The conversation on screen, with its watermark: every message with seq <= have is held.
  let view = freshView(null);
  function freshView(ticket) {
    return {
      ticket,
      have: 0,
      seqs: new Set(), // seqs held (for moving `have` over them)
      ids: new Set(), // message ids held (merge by id)
      syncing: 0, // syncs in flight
      syncAt: 0, // when the last one was sent
      syncUntil: 0, // highest seq they will fill (Infinity: to the newest)
      readSeq: 0, // agents read the customer's messages up to here
      othersSeq: 0, // newest message from the desk (agent or system)
      deliveredSent: 0,
      readSent: seenSeq(ticket), // also what the badge counts from
    };
  }

  // How far this browser has shown each conversation: unread counts survive reloads.
  function seenSeq(ticket) {
    const seen = store.get("seen");
    return seen && ticket !== null && seen.ticket === ticket ? seen.seq : 0;
  }

  // Files for the next message: {key, name, size, state: uploading|ready|error, id, content_type, error}.
  let chosen = [];

  // Unacked messages survive reloads; they belong to the visitor who wrote them.
  let outbox = loadOutbox();
  function loadOutbox() {
    const saved = store.get("outbox");
    return saved && saved.token === state.visitorToken && Array.isArray(saved.items) ? saved.items : [];
  }
  function saveOutbox() {
    store.set("outbox", { token: state.visitorToken, items: outbox });
  }

  // ---- DOM ----

  const CSS = `
:host { all: initial; }
*, *::before, *::after { box-sizing: border-box; }
[hidden] { display: none !important; }
.root { position: fixed; inset-inline-end: 20px; bottom: 20px; z-index: 2147483000; font: 14px/1.45 system-ui, -apple-system, "Segoe UI", Roboto, sans-serif; color: #1c2330; }
button { font: inherit; cursor: pointer; }
.launcher { position: relative; width: 56px; height: 56px; border-radius: 50%; border: 0; background: #1f5fbf; color: #fff; box-shadow: 0 4px 14px rgba(0,0,0,.25); display: grid; place-items: center; padding: 0; margin-inline-start: auto; }
.launcher:focus-visible, .win button:focus-visible, .win textarea:focus-visible, .win input:focus-visible, .win select:focus-visible { outline: 3px solid #f0b429; outline-offset: 2px; }
.launcher svg { width: 26px; height: 26px; fill: currentColor; }
.badge { position: absolute; top: -4px; inset-inline-end: -4px; min-width: 20px; height: 20px; padding: 0 5px; border-radius: 10px; background: #d93025; color: #fff; font-size: 12px; font-weight: 700; line-height: 20px; text-align: center; }
.win { position: absolute; inset-inline-end: 0; bottom: 72px; width: 360px; max-width: calc(100vw - 40px); height: 540px; max-height: calc(100vh - 112px); background: #fff; border-radius: 12px; box-shadow: 0 8px 32px rgba(0,0,0,.28); display: flex; flex-direction: column; overflow: hidden; }
.head { background: #1f5fbf; color: #fff; padding: 12px 14px; display: flex; gap: 8px; align-items: flex-start; }
.head .titles { flex: 1; min-width: 0; }
.head h2 { margin: 0; font-size: 16px; font-weight: 600; }
.availability { margin: 2px 0 0; font-size: 12.5px; opacity: .95; }
.availability::before { content: ""; display: inline-block; width: 8px; height: 8px; border-radius: 50%; margin-inline-end: 6px; background: #9aa4b2; vertical-align: 1px; }
.availability[data-online="true"]::before { background: #3ddc84; }
.close { background: transparent; color: #fff; border: 0; font-size: 22px; line-height: 1; padding: 2px 6px; border-radius: 6px; }
.conn { font-size: 12px; color: #5b6473; background: #f3f5f8; padding: 4px 14px; }
.error { margin: 8px 12px 0; padding: 8px 10px; border-radius: 8px; background: #fdecea; color: #8a1c12; font-size: 13px; }
.prechat { padding: 14px; display: grid; gap: 10px; overflow-y: auto; }
.prechat p { margin: 0; }
.prechat label { display: grid; gap: 4px; font-size: 13px; font-weight: 600; }
.prechat input { font: inherit; font-weight: 400; padding: 8px 10px; border: 1px solid #c5ccd6; border-radius: 8px; width: 100%; }
.prechat .field-error { color: #8a1c12; font-weight: 400; font-size: 12px; }
.primary { background: #1f5fbf; color: #fff; border: 0; border-radius: 8px; padding: 9px 14px; font-weight: 600; }
.primary:disabled { background: #9db5dc; cursor: default; }
.log { flex: 1; overflow-y: auto; padding: 12px; margin: 0; list-style: none; display: flex; flex-direction: column; gap: 8px; }
.empty { color: #5b6473; text-align: center; margin: auto 0; font-size: 13px; }
.msg { max-width: 85%; display: flex; gap: 6px; align-items: flex-end; }
.msg .bubble { padding: 8px 11px; border-radius: 14px; background: #eef1f5; white-space: pre-wrap; overflow-wrap: anywhere; }
.msg .name { font-size: 11.5px; color: #5b6473; margin: 0 0 2px 2px; }
.msg .state { font-size: 11px; color: #5b6473; text-align: end; margin-top: 2px; }
.msg.mine { align-self: flex-end; flex-direction: row-reverse; }
.msg.mine .bubble { background: #1f5fbf; color: #fff; border-end-end-radius: 4px; }
.msg.mine[data-state="sending"] .bubble { opacity: .65; }
.msg.agent .bubble { border-end-start-radius: 4px; }
.msg.system { align-self: center; max-width: 95%; }
.msg.system .bubble { background: transparent; color: #5b6473; font-size: 12.5px; text-align: center; }
.avatar { flex: none; width: 28px; height: 28px; border-radius: 50%; background: #2f855a; color: #fff; font-size: 11px; font-weight: 700; display: grid; place-items: center; }
.typing { padding: 0 14px 6px; font-size: 12.5px; color: #5b6473; font-style: italic; }
.compose { border-top: 1px solid #e3e7ed; padding: 8px 10px 10px; display: grid; grid-template-columns: 1fr auto; gap: 6px 8px; align-items: end; }
.compose textarea { font: inherit; resize: none; width: 100%; min-height: 40px; max-height: 120px; padding: 9px 10px; border: 1px solid #c5ccd6; border-radius: 10px; }
.counter { grid-column: 1 / -1; font-size: 11.5px; color: #5b6473; text-align: end; }
.counter[data-over="true"] { color: #b3261e; font-weight: 700; }
.files { list-style: none; margin: 4px 0 0; padding: 0; display: grid; gap: 4px; }
.files a { color: inherit; }
.msg.mine .files a, .msg.mine .file { color: #fff; }
.file { font-size: 12.5px; overflow-wrap: anywhere; }
.file img { display: block; max-inline-size: 200px; max-block-size: 160px; border-radius: 8px; background: #fff; }
.file .size { opacity: .8; margin-inline-start: 4px; }
.attach { grid-column: 1 / -1; display: flex; flex-wrap: wrap; gap: 6px; align-items: center; }
.attach input[type="file"] { position: absolute; inline-size: 1px; block-size: 1px; opacity: 0; overflow: hidden; }
.attach label { cursor: pointer; font-size: 12.5px; font-weight: 600; color: #1f5fbf; padding: 3px 8px; border: 1px solid #c5ccd6; border-radius: 8px; }
.attach:focus-within label { outline: 3px solid #f0b429; outline-offset: 2px; }
.chosen { list-style: none; margin: 0; padding: 0; display: contents; }
.chosen li { display: inline-flex; align-items: center; gap: 4px; font-size: 12px; background: #eef1f5; border-radius: 999px; padding-block: 2px; padding-inline: 8px 2px; max-inline-size: 100%; }
.chosen li[data-state="error"] { background: #fdecea; color: #8a1c12; }
.chosen button { border: 0; background: transparent; font-size: 15px; line-height: 1; padding: 0 5px; border-radius: 50%; color: inherit; }
.log { min-block-size: 88px; } /* the conversation stays in sight while a survey is open */
.surveys { flex: 0 1 auto; min-block-size: 0; max-block-size: 70%; overflow-y: auto; border-block-start: 1px solid #e3e7ed; background: #fafbfd; }
.survey { padding: 10px 14px 12px; display: grid; gap: 8px; }
.survey + .survey { border-block-start: 1px solid #e3e7ed; }
.survey h3 { margin: 0; font-size: 14px; font-weight: 600; }
.survey .about { margin: 0; font-size: 12.5px; color: #5b6473; overflow-wrap: anywhere; }
.survey form { display: grid; gap: 8px; }
.survey fieldset { border: 0; margin: 0; padding: 0; min-inline-size: 0; }
.scale { display: flex; gap: 4px; }
.scale button { flex: 1 1 0; min-inline-size: 0; padding-block: 6px; padding-inline: 0; border: 1px solid #c5ccd6; border-radius: 8px; background: #fff; color: #1c2330; }
.scale[data-kind="csat"] button { font-size: 22px; line-height: 1.1; }
.scale[data-kind="nps"] button { font-size: 12.5px; font-variant-numeric: tabular-nums; }
.scale button[aria-pressed="true"] { background: #1f5fbf; border-color: #1f5fbf; color: #fff; }
.scale-ends { display: flex; justify-content: space-between; margin-block-start: 2px; font-size: 11.5px; color: #5b6473; }
.survey .reasons { display: grid; gap: 8px; }
.survey label { display: grid; gap: 4px; font-size: 13px; font-weight: 600; }
.survey textarea, .survey select { font: inherit; font-weight: 400; padding: 6px 8px; border: 1px solid #c5ccd6; border-radius: 8px; inline-size: 100%; background: #fff; color: inherit; }
.survey textarea { resize: vertical; min-block-size: 44px; }
.survey [aria-invalid="true"] { border-color: #b3261e; }
.survey .field-error { color: #8a1c12; font-weight: 400; font-size: 12px; margin: 0; }
.survey .actions { display: flex; gap: 8px; justify-content: flex-end; align-items: center; }
.survey .later { background: transparent; border: 0; color: #1f5fbf; padding: 8px 6px; text-decoration: underline; }
.survey .result { margin: 0; font-size: 13px; }
.survey .result:focus { outline: none; }
.sr-only { position: absolute; width: 1px; height: 1px; padding: 0; margin: -1px; overflow: hidden; clip: rect(0,0,0,0); white-space: nowrap; border: 0; }
@media (max-width: 480px) {
  .root { inset-inline-end: 12px; bottom: 12px; }
  .win { position: fixed; inset: 0; width: 100vw; max-width: 100vw; height: 100%; max-height: 100%; border-radius: 0; }
  .root[data-open="true"] .launcher { display: none; }
}
@media (prefers-reduced-motion: no-preference) { .win { transition: opacity .15s; } }
`;

  function el(tag, attrs, ...children) {
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

  const host = el("div", { id: "helpdesk-widget" });
  const shadow = host.attachShadow({ mode: "open" });
  // A constructed stylesheet, not a <style> element: a shop whose CSP forbids
  // inline styles (no style-src 'unsafe-inline') still shows the widget styled.
  if ("adoptedStyleSheets" in shadow && typeof CSSStyleSheet === "function" && "replaceSync" in CSSStyleSheet.prototype) {
    const sheet = new CSSStyleSheet();
    sheet.replaceSync(CSS);
    shadow.adoptedStyleSheets = [sheet];
  } else {
    shadow.append(el("style", { text: CSS }));
  }

  const ui = {};
  ui.badge = el("span", { class: "badge", "aria-hidden": "true", hidden: true });
  ui.launcher = el("button", { type: "button", class: "launcher", "data-testid": "launcher", "aria-expanded": "false", "aria-label": "Open chat with support" }, ui.badge);
  ui.launcher.insertAdjacentHTML("afterbegin", '<svg viewBox="0 0 24 24" aria-hidden="true"><path d="M4 4h16a2 2 0 0 1 2 2v10a2 2 0 0 1-2 2H9l-5 4v-4a2 2 0 0 1-2-2V6a2 2 0 0 1 2-2z"/></svg>');

  ui.availability = el("p", { class: "availability", "data-testid": "availability", text: "Connecting…" });
  ui.close = el("button", { type: "button", class: "close", "aria-label": "Close chat", text: "×" });
  ui.conn = el("div", { class: "conn", role: "status", hidden: true });
  ui.error = el("div", { class: "error", "data-testid": "error", role: "alert", hidden: true });

  ui.prechatIntro = el("p", { text: "Tell us who you are and we'll get started." });
  ui.name = el("input", { id: "hdw-name", name: "name", autocomplete: "name", "data-testid": "prechat-name", maxlength: "200", dir: "auto" });
  ui.email = el("input", { id: "hdw-email", name: "email", type: "email", autocomplete: "email", "data-testid": "prechat-email", maxlength: "254" });
  ui.order = el("input", { id: "hdw-order", name: "order", autocomplete: "off", "data-testid": "prechat-order", maxlength: "50" });
  ui.emailLabel = el("span", { text: "Email" });
  ui.emailError = el("span", { class: "field-error", hidden: true });
  ui.nameError = el("span", { class: "field-error", hidden: true });
  ui.orderError = el("span", { class: "field-error", hidden: true });
  ui.prechatSubmit = el("button", { type: "submit", class: "primary", "data-testid": "prechat-submit", text: "Start chat" });
  ui.prechat = el(
    "form",
    { class: "prechat", hidden: true, novalidate: true, "aria-label": "Your details" },
    ui.prechatIntro,
    el("label", { for: "hdw-name" }, el("span", { text: "Name" }), ui.name, ui.nameError),
    el("label", { for: "hdw-email" }, ui.emailLabel, ui.email, ui.emailError),
    el("label", { for: "hdw-order" }, el("span", { text: "Order number (optional)" }), ui.order, ui.orderError),
    ui.prechatSubmit,
  );

  ui.empty = el("li", { class: "empty", text: "Ask us anything: orders, delivery, returns." });
  ui.log = el("ol", { class: "log", role: "log", "aria-live": "polite", "aria-label": "Conversation" }, ui.empty);
  ui.typing = el("div", { class: "typing", "data-testid": "typing", "aria-live": "polite", hidden: true });
  ui.composer = el("textarea", { id: "hdw-composer", rows: "1", "data-testid": "composer", placeholder: "Write a message…", dir: "auto", "aria-describedby": "hdw-counter" });
  ui.counter = el("div", { id: "hdw-counter", class: "counter" });
  ui.send = el("button", { type: "submit", class: "primary", "data-testid": "send", text: "Send" });
  ui.fileInput = el("input", { type: "file", id: "hdw-files", multiple: true, "data-testid": "attach-input" });
  ui.chosen = el("ul", { class: "chosen", "data-testid": "chosen-files", "aria-label": "Files to send" });
  ui.attach = el("div", { class: "attach", hidden: true }, ui.fileInput, el("label", { for: "hdw-files", text: "Attach a file" }), ui.chosen);
  ui.compose = el(
    "form",
    { class: "compose", hidden: true, "aria-label": "Send a message" },
    el("label", { for: "hdw-composer", class: "sr-only", text: "Message (Enter sends, Shift+Enter adds a line)" }),
    ui.composer,
    ui.send,
    ui.attach,
    ui.counter,
  );

  // Open CSAT/NPS surveys of solved conversations (frame `survey`), one section each.
  ui.surveys = el("div", { class: "surveys", "data-testid": "surveys", hidden: true });

  ui.win = el(
    "div",
    { class: "win", role: "dialog", "aria-label": "Chat with support", "data-testid": "window", hidden: true },
    el("div", { class: "head" }, el("div", { class: "titles" }, el("h2", { text: "Chat with us" }), ui.availability), ui.close),
    ui.conn,
    ui.error,
    ui.prechat,
    ui.log,
    ui.surveys,
    ui.typing,
    ui.compose,
  );
  ui.root = el("div", { class: "root", "data-open": "false", dir: DIR }, ui.win, ui.launcher);
  shadow.append(ui.root);

  // ---- rendering ----

  function describeWait(seconds) {
    if (seconds === null || seconds === undefined) return "";
    if (seconds < 60) return "Usually replies in under a minute";
    const minutes = Math.round(seconds / 60);
    if (minutes < 60) return minutes === 1 ? "Usually replies in about a minute" : `Usually replies in about ${minutes} minutes`;
    const hours = Math.round(minutes / 60);
    return hours === 1 ? "Usually replies in about an hour" : `Usually replies in about ${hours} hours`;
  }

  function away() {
    const a = state.availability;
    return !!a && (!a.online || a.email_required);
  }

  function renderAvailability() {
    const a = state.availability;
    if (!a) return;
    ui.availability.setAttribute("data-online", a.online ? "true" : "false");
    const email = state.customer && state.customer.email;
    ui.availability.textContent = a.online
      ? ["We're online", describeWait(a.expected_reply_seconds)].filter(Boolean).join(" · ")
      : email
        ? `We're away right now. We'll reply by email to ${email}.`
        : "We're away right now. Leave your email and we'll reply by email.";
  }

  function openConversation() {
    const c = view.ticket !== null ? state.conversations.get(view.ticket) : null;
    return c && c.status !== "closed" ? c : null;
  }

  function needsPrechat() {
    const c = state.customer;
    if (!c || c.verified || c.email) return false;
    if (away() && !openConversation()) return true; // an email ticket needs an address
    return !state.prechatDone && state.conversations.size === 0;
  }

  function renderPanels() {
    const ready = !!state.customer;
    const prechat = ready && needsPrechat();
    ui.prechat.hidden = !prechat;
    ui.log.hidden = prechat;
    ui.surveys.hidden = prechat || !ui.surveys.querySelector('[data-testid="survey"]:not([hidden])');
    ui.compose.hidden = !ready || prechat;
    if (prechat) {
      const emailNeeded = away();
      ui.prechatIntro.textContent = emailNeeded
        ? "We're away right now. Leave your email and we'll reply by email."
        : "Tell us who you are and we'll get started.";
      ui.emailLabel.textContent = emailNeeded ? "Email (required)" : "Email";
      ui.email.required = emailNeeded;
      ui.email.setAttribute("aria-required", emailNeeded ? "true" : "false");
      if (!ui.name.value && state.customer.name) ui.name.value = state.customer.name;
    }
    ui.prechatSubmit.disabled = !state.connected;
    // Files go into a conversation that exists: the first message starts it.
    ui.attach.hidden = !openConversation() && !chosen.length;
    renderCounter();
  }

  function renderCounter() {
    const length = ui.composer.value.length;
    const max = state.limits.max_chars;
    const over = length > max;
    ui.counter.textContent = over ? `${length} / ${max}: too long by ${length - max}` : `${length} / ${max}`;
    ui.counter.setAttribute("data-over", over ? "true" : "false");
    const uploading = chosen.some((f) => f.state === "uploading");
    const ready = chosen.some((f) => f.state === "ready");
    ui.send.disabled = over || uploading || (!ui.composer.value.trim() && !ready);
  }

  function renderBadge() {
    ui.badge.hidden = state.unread === 0;
    ui.badge.textContent = state.unread > 9 ? "9+" : String(state.unread);
    ui.launcher.setAttribute(
      "aria-label",
      (state.open ? "Close chat with support" : "Open chat with support") + (state.unread ? `, ${state.unread} unread` : ""),
    );
  }

  let errorKind = "";
  function showError(kind, text) {
    errorKind = kind;
    ui.error.textContent = text;
    ui.error.hidden = false;
  }
  function clearError(kind) {
    if (kind && errorKind !== kind) return;
    errorKind = "";
    ui.error.hidden = true;
    ui.error.textContent = "";
  }

  function setConnection(text) {
    ui.conn.hidden = !text;
    ui.conn.textContent = text || "";
  }

  function formatTime(iso) {
    const date = iso ? new Date(iso) : new Date();
    return date.toLocaleTimeString([], { hour: "2-digit", minute: "2-digit" });
  }

  function ownState(seq) {
    if (!seq) return "sending";
    return seq <= view.readSeq ? "read" : "delivered";
  }
  const STATE_TEXT = { sending: "Sending…", delivered: "Delivered", read: "Read" };

  function messageNode({ seq, id, kind, name, initials, body, createdAt, clientMsgId, files }) {
    const mine = kind === "customer";
    const node = el("li", {
      class: "msg " + (mine ? "mine" : kind === "agent" ? "agent" : "system"),
      "data-testid": "message",
      "data-seq": seq ? String(seq) : "",
      "data-id": id ? String(id) : "",
      "data-author": kind,
      "data-client-msg-id": clientMsgId || null,
    });
    const content = el("div", {});
    if (kind === "agent") {
      node.append(el("span", { class: "avatar", "aria-hidden": "true", text: initials || "?" }));
      content.append(el("div", { class: "name", text: name || "Support" }));
    }
    const bubble = el("div", { class: "bubble", dir: "auto", text: body });
    const list = filesNode(files || []);
    if (list) bubble.append(list);
    content.append(bubble);
    const time = el("time", { datetime: createdAt || null, text: formatTime(createdAt) });
    if (mine) {
      content.append(el("div", { class: "state" }, el("span", { class: "sr-only", text: "You, " }), time, document.createTextNode(" · "), el("span", { class: "state-text" })));
    } else {
      content.append(el("div", { class: "state" }, time));
    }
    node.append(content);
    if (mine) updateOwn(node, seq);
    return node;
  }
  function sizeText(size) {
    if (size >= 1024 * 1024) return `${(size / (1024 * 1024)).toFixed(1)} MB`;
    if (size >= 1024) return `${Math.round(size / 1024)} KB`;
    return `${size} bytes`;
  }
  // Links come signed from the desk; names are text, never markup.
  function filesNode(files) {
    if (!files.length) return null;
    const list = el("ul", { class: "files", "aria-label": "Files" });
    for (const file of files) {
      const image = (file.content_type || "").startsWith("image/");
      const item = el("li", { class: "file", "data-testid": "attachment", "data-kind": image ? "image" : "file" });
      const name = el("span", { class: "name", dir: "auto", text: file.name });
      const url = file.url ? new URL(file.url, DESK).href : "";
      if (url && image) {
        item.append(el("a", { href: url, target: "_blank", rel: "noopener noreferrer" }, el("img", { src: url, alt: file.name })));
      }
      item.append(url ? el("a", { href: url, target: "_blank", rel: "noopener noreferrer" }, name) : name);
      item.append(el("span", { class: "size", text: `(${sizeText(file.size || 0)})` }));
      list.append(item);
    }
    return list;
  }
  function replaceFiles(node, files) {
    const old = node.querySelector(".files");
    const fresh = filesNode(files || []);
    if (old) old.remove();
    if (fresh) node.querySelector(".bubble").append(fresh);
  }

  // Own messages keep their time and show the state beside it.
  function updateOwn(node, seq) {
    const stateName = ownState(seq);
    node.setAttribute("data-state", stateName);
    const text = node.querySelector(".state-text");
    if (text) text.textContent = STATE_TEXT[stateName];
  }

  // Messages stay in seq order; ones still sending (no seq) stay at the end.
  function placeMessage(node, seq) {
    ui.empty.hidden = true;
    if (seq) {
      for (const other of ui.log.querySelectorAll('[data-testid="message"]')) {
        const otherSeq = Number(other.getAttribute("data-seq"));
        if (!otherSeq || otherSeq > seq) {
          ui.log.insertBefore(node, other);
          return;
        }
      }
    }
    ui.log.append(node);
  }

  function scrollToEnd() {
    ui.log.scrollTop = ui.log.scrollHeight;
  }

  function pendingNode(clientMsgId) {
    return ui.log.querySelector(`[data-client-msg-id="${cssEscape(clientMsgId)}"]`);
  }
  function cssEscape(value) {
    return window.CSS && CSS.escape ? CSS.escape(value) : String(value).replace(/["\\]/g, "\\$&");
  }

  function clearLog() {
    for (const node of ui.log.querySelectorAll('[data-testid="message"]')) node.remove();
    ui.empty.hidden = false;
    for (const entry of outbox) placeMessage(messageNode({ kind: "customer", body: entry.body, clientMsgId: entry.client_msg_id, files: entry.files }));
  }

  // ---- the connection ----

  let ws = null;
  let attempt = 0;
  let reconnectTimer = 0;
  let stableTimer = 0;
  let pingTimer = 0;
  let stopped = false;

  function send(frame) {
    if (!ws || ws.readyState !== WebSocket.OPEN) return false;
    ws.send(JSON.stringify(frame));
    return true;
  }

  class Fatal extends Error {}

  async function sessionStart() {
    const body = { shop: SHOP };
    if (state.visitorToken) body.visitor_token = state.visitorToken;
    if (CONFIG.identity) body.identity = CONFIG.identity;
    const response = await fetch(DESK + "/widget/v1/session", {
      method: "POST",
      mode: "cors",
      credentials: "omit",
      headers: { "Content-Type": "application/json" },
      body: JSON.stringify(body),
    });
    if (response.status === 400 || response.status === 403 || response.status === 404) {
      // A misconfigured embed (unknown shop, bad identity, origin not allowed): retrying will not help.
      const detail = await response.text().catch(() => "");
      throw new Fatal(`session refused (${response.status}) ${detail}`);
    }
    if (!response.ok) throw new Error(`session failed (${response.status})`);
    return response.json();
  }

  async function connect() {
    clearTimeout(reconnectTimer);
    if (stopped || ws) return;
    setConnection(attempt ? "Reconnecting…" : "");
    let session;
    try {
      session = await sessionStart();
    } catch (error) {
      if (error instanceof Fatal) {
        stopped = true;
        console.error("Helpdesk widget:", error.message);
        showError("fatal", "Chat is not available on this site right now.");
        ui.availability.textContent = "Chat unavailable";
        setConnection("");
        return;
      }
      // A page on an origin the desk does not allow lands here too (no CORS answer).
      showError("connection", "We can't reach support right now. We'll keep trying…");
      setConnection("");
      if (!state.customer) {
        ui.availability.textContent = "Not connected";
        ui.empty.hidden = true;
      }
      scheduleReconnect();
      return;
    }
    if (session.visitor_token !== state.visitorToken) {
      state.visitorToken = session.visitor_token;
      store.set("visitor", state.visitorToken);
      outbox = loadOutbox(); // another visitor's unsent messages are not ours to send
      store.set("prechat", false);
      state.prechatDone = false;
      clearLog();
      view = freshView(null);
    }
    if (session.identity_rejected) console.warn("Helpdesk widget: the shop's identity signature was not accepted; chatting anonymously.");
    state.customer = session.customer;
    openSocket(session);
  }

  function openSocket(session) {
    const url = new URL(session.websocket, DESK);
    url.protocol = url.protocol === "https:" ? "wss:" : "ws:";
    url.searchParams.set("token", session.connect_token);
    const socket = new WebSocket(url.toString());
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
      const handler = HANDLERS[frame.type];
      if (handler) handler(frame);
    };
    socket.onclose = () => {
      if (ws !== socket) return;
      ws = null;
      clearTimeout(stableTimer);
      clearInterval(pingTimer);
      state.connected = false;
      renderPanels();
      setConnection("Reconnecting…");
      scheduleReconnect();
    };
  }

  function scheduleReconnect() {
    if (stopped) return;
    const delay = backoffDelay(attempt);
    attempt += 1;
    reconnectTimer = setTimeout(connect, delay);
  }

  // ---- watermark ----

  function advance() {
    while (view.seqs.has(view.have + 1)) view.have += 1;
  }

  function syncFrom(afterSeq, untilSeq) {
    if (view.ticket === null) return;
    const frame = { type: "sync", ticket: view.ticket, after_seq: afterSeq };
    if (untilSeq !== undefined) frame.until_seq = untilSeq;
    if (!send(frame)) return;
    view.syncing += 1;
    view.syncAt = Date.now();
    view.syncUntil = Math.max(view.syncUntil, untilSeq === undefined ? Infinity : untilSeq);
  }

  // A message past have + 1 means a gap: ask for it unless a sync already covers it.
  function noteSeq(seq) {
    view.seqs.add(seq);
    if (seq > view.have + 1 && seq - 1 > view.syncUntil) syncFrom(view.have, seq - 1);
    advance();
  }

  // Forget syncs that were never answered and ask again from the watermark.
  function resync() {
    view.syncing = 0;
    view.syncUntil = 0;
    syncFrom(view.have);
  }

  function switchTo(ticket) {
    if (view.ticket === ticket) return;
    view = freshView(ticket);
    clearLog();
    hideTyping();
    syncFrom(0);
  }

  // Newest first from the server; the newest conversation is the one on screen.
  function chooseConversation() {
    let newest = null;
    for (const id of state.conversations.keys()) if (newest === null || id > newest) newest = id;
    return newest;
  }

  // ---- receipts ----

  function visible() {
    return state.open && document.visibilityState === "visible";
  }

  let receiptTimer = 0;
  function queueReceipts() {
    if (!receiptTimer) {
      receiptTimer = setTimeout(() => {
        receiptTimer = 0;
        sendReceipts();
      }, RECEIPT_DELAY_MS);
    }
  }

  // Only the desk's messages need receipts: "delivered" when they arrive,
  // "read" once the window is open on a visible page.
  function sendReceipts() {
    const seq = view.othersSeq;
    if (view.ticket === null || !seq) return;
    if (visible()) {
      if (seq > view.readSent && send({ type: "receipt", ticket: view.ticket, seq, read: true })) {
        view.readSent = view.deliveredSent = seq;
        store.set("seen", { ticket: view.ticket, seq });
      }
    } else if (seq > view.deliveredSent && seq > view.readSent) {
      if (send({ type: "receipt", ticket: view.ticket, seq, read: false })) view.deliveredSent = seq;
    }
  }

  // ---- outbox ----

  function outboxSend(entry) {
    const frame = { type: "message.send", client_msg_id: entry.client_msg_id, body: entry.body, ticket: entry.ticket };
    if (entry.files && entry.files.length) frame.attachments = entry.files.map((f) => f.id);
    send(frame);
  }

  function outboxDrop(clientMsgId) {
    const entry = outbox.find((e) => e.client_msg_id === clientMsgId);
    outbox = outbox.filter((e) => e.client_msg_id !== clientMsgId);
    saveOutbox();
    return entry;
  }

  function submitMessage() {
    const body = ui.composer.value;
    const files = chosen.filter((f) => f.state === "ready");
    if ((!body.trim() && !files.length) || chosen.some((f) => f.state === "uploading")) return;
    if (body.length > state.limits.max_chars) {
      showError("message", `Your message is too long: at most ${state.limits.max_chars} characters.`);
      return;
    }
    const open = openConversation();
    const entry = { client_msg_id: newId(), body, ticket: open ? open.ticket : null, files };
    outbox.push(entry);
    saveOutbox();
    placeMessage(messageNode({ kind: "customer", body, clientMsgId: entry.client_msg_id, files }));
    scrollToEnd();
    ui.composer.value = "";
    chosen = chosen.filter((f) => f.state === "uploading");
    renderChosen();
    renderCounter();
    typingStop();
    clearError("message");
    outboxSend(entry);
  }

  // A refused message goes back to the composer so nothing typed is lost.
  function restoreToComposer(entry) {
    if (!entry) return;
    const node = pendingNode(entry.client_msg_id);
    if (node && !node.getAttribute("data-seq")) node.remove();
    if (!ui.composer.value.trim()) ui.composer.value = entry.body;
    else if (ui.composer.value !== entry.body) ui.composer.value = entry.body + "\n" + ui.composer.value;
    if (entry.files && entry.files.length) {
      chosen = [...entry.files, ...chosen];
      renderChosen();
    }
    renderCounter();
  }

  // ---- files: uploaded to the conversation first, then sent with the message ----

  const FILE_STATE = { uploading: "uploading…", ready: "", error: "not sent" };
  function renderChosen() {
    ui.chosen.replaceChildren(
      ...chosen.map((file) => {
        const remove = el("button", { type: "button", "aria-label": `Remove ${file.name}`, text: "×" });
        remove.addEventListener("click", () => {
          chosen = chosen.filter((f) => f !== file);
          renderChosen();
          ui.composer.focus();
        });
        const note = file.error || FILE_STATE[file.state];
        return el(
          "li",
          { "data-testid": "chosen-file", "data-state": file.state },
          el("span", { dir: "auto", text: file.name + (note ? ` (${note})` : "") }),
          remove,
        );
      }),
    );
    renderPanels();
  }

  function uploadError(data, status) {
    if (data && typeof data === "object") {
      for (const value of Object.values(data)) {
        if (Array.isArray(value) && value.length) return String(value[0]);
        if (typeof value === "string") return value;
      }
    }
    return status === 404 ? "This conversation has ended." : "The file could not be sent.";
  }

  async function uploadFile(file) {
    const open = openConversation();
    const item = { key: newId(), name: file.name, size: file.size, state: "uploading" };
    chosen.push(item);
    renderChosen();
    if (!open) {
      Object.assign(item, { state: "error", error: "send a message first" });
    } else {
      const form = new FormData();
      form.append("visitor_token", state.visitorToken);
      form.append("ticket", String(open.ticket));
      form.append("file", file);
      try {
        const response = await fetch(DESK + "/widget/v1/attachments", { method: "POST", mode: "cors", credentials: "omit", body: form });
        const data = await response.json().catch(() => null);
        if (response.ok && data) Object.assign(item, { state: "ready", id: data.id, name: data.name, size: data.size, content_type: data.content_type });
        else Object.assign(item, { state: "error", error: uploadError(data, response.status) });
      } catch (e) {
        Object.assign(item, { state: "error", error: "we can't reach support right now" });
      }
    }
    if (item.state === "error") showError("message", `${file.name}: ${item.error}. Your message is still in the box below.`);
    renderChosen();
  }
  ui.fileInput.addEventListener("change", () => {
    for (const file of Array.from(ui.fileInput.files || [])) uploadFile(file);
    ui.fileInput.value = "";
  });

  let retryTimer = 0;

  // ---- typing ----

  let typingSentAt = 0;
  let typingIdle = 0;
  function typingInput() {
    const open = openConversation();
    if (!open) return;
    const now = Date.now();
    if (now - typingSentAt > TYPING_REPEAT_MS && send({ type: "typing", ticket: open.ticket, typing: true })) typingSentAt = now;
    clearTimeout(typingIdle);
    typingIdle = setTimeout(typingStop, TYPING_IDLE_MS);
  }
  function typingStop() {
    clearTimeout(typingIdle);
    if (!typingSentAt) return;
    typingSentAt = 0;
    const open = openConversation();
    if (open) send({ type: "typing", ticket: open.ticket, typing: false });
  }

  let typingHide = 0;
  function hideTyping() {
    clearTimeout(typingHide);
    ui.typing.hidden = true;
    ui.typing.textContent = "";
  }

  // ---- surveys: CSAT/NPS of a solved conversation, answered over HTTP (docs/surveys.md) ----

  // Faces from Unicode 6, which every emoji font has.
  const CSAT_FACES = [
    [1, "😠", "very unhappy"],
    [2, "😞", "unhappy"],
    [3, "😐", "neutral"],
    [4, "😊", "happy"],
    [5, "😄", "very happy"],
  ];
  const NPS_ENDS = { 0: "not at all likely", 10: "extremely likely" };
  // survey id -> {ticket, status: open|sending|answered|closed|cancelled|dismissed, node}
  const surveys = new Map();

  function surveyShow(frame) {
    const id = Number(frame.survey);
    const known = surveys.get(id);
    // Once per survey: a reconnect's `welcome` repeats open ones. A survey
    // cancelled by a reopen comes back when the conversation is solved again.
    if (known && known.status !== "cancelled") return;
    if (known) known.node.remove();
    const entry = { ticket: Number(frame.ticket), status: "open", node: surveyNode(frame, id) };
    surveys.set(id, entry);
    ui.surveys.append(entry.node);
    renderPanels();
    if (!visible()) {
      state.unread += 1;
      renderBadge();
    }
  }

  function surveyNode(frame, id) {
    const csat = frame.kind === "csat";
    const prefix = `hdw-survey-${id}`;
    const reasonScores = new Set((frame.reason_scores || []).map(Number));
    let score = null;

    const title = el("h3", { id: `${prefix}-title`, text: csat ? "How would you rate the help you got?" : "How likely are you to recommend us?" });
    const about = el("p", { class: "about" }, document.createTextNode("About: "), el("span", { dir: "auto", text: frame.subject || `conversation #${frame.ticket}` }));
    const scale = el("div", { class: "scale", "data-kind": csat ? "csat" : "nps", role: "group", "aria-labelledby": `${prefix}-title`, "aria-describedby": `${prefix}-score-error` });
    const buttons = [];
    const [low, high] = frame.scale || (csat ? [1, 5] : [0, 10]);
    for (let value = low; value <= high; value += 1) {
      const face = csat ? CSAT_FACES.find((f) => f[0] === value) : null;
      const name = face ? `${value} – ${face[2]}` : NPS_ENDS[value] ? `${value} – ${NPS_ENDS[value]}` : String(value);
      const button = el("button", { type: "button", "aria-pressed": "false", "aria-label": name, "data-score": String(value), text: face ? face[1] : String(value) });
      button.addEventListener("click", () => choose(value));
      buttons.push(button);
      scale.append(button);
    }
    const ends = csat ? null : el("div", { class: "scale-ends", "aria-hidden": "true" }, el("span", { text: "Not likely" }), el("span", { text: "Very likely" }));
    const scoreError = el("p", { class: "field-error", id: `${prefix}-score-error`, role: "alert", hidden: true });

    const reason = el("select", { id: `${prefix}-reason`, name: "reason", "aria-describedby": `${prefix}-reason-error` });
    reason.append(el("option", { value: "", text: "Choose one (optional)" }));
    for (const option of frame.reasons || []) reason.append(el("option", { value: option.value, text: option.label }));
    const reasonText = el("textarea", { id: `${prefix}-reason-text`, name: "reason_text", rows: "2", dir: "auto", maxlength: "1000", "aria-describedby": `${prefix}-reason_text-error` });
    const comment = el("textarea", { id: `${prefix}-comment`, name: "comment", rows: "2", dir: "auto", maxlength: "2000", "aria-describedby": `${prefix}-comment-error` });
    const errors = {
      score: scoreError,
      reason: el("p", { class: "field-error", id: `${prefix}-reason-error`, hidden: true }),
      reason_text: el("p", { class: "field-error", id: `${prefix}-reason_text-error`, hidden: true }),
      comment: el("p", { class: "field-error", id: `${prefix}-comment-error`, hidden: true }),
    };
    const inputs = { reason, reason_text: reasonText, comment };
    const reasons = el(
      "div",
      { class: "reasons", hidden: true, "data-testid": "survey-reasons" },
      el("label", { for: `${prefix}-reason` }, el("span", { text: "What went wrong?" }), reason, errors.reason),
      el("label", { for: `${prefix}-reason-text` }, el("span", { text: "Tell us more (optional)" }), reasonText, errors.reason_text),
    );
    const submit = el("button", { type: "submit", class: "primary", "data-testid": "survey-submit", text: "Send answer" });
    const later = el("button", { type: "button", class: "later", text: "Not now" });
    const problem = el("p", { class: "field-error", role: "alert", hidden: true });
    const form = el(
      "form",
      { novalidate: true, "aria-labelledby": `${prefix}-title` },
      el("fieldset", {}, scale, ends, scoreError),
      reasons,
      el("label", { for: `${prefix}-comment` }, el("span", { text: "Anything else you'd like to tell us? (optional)" }), comment, errors.comment),
      problem,
      el("div", { class: "actions" }, later, submit),
    );
    const result = el("p", { class: "result", "data-testid": "survey-result", role: "status", tabindex: "-1", hidden: true });
    const node = el("section", { class: "survey", "data-testid": "survey", "data-survey": String(id), "data-kind": frame.kind, "aria-labelledby": `${prefix}-title` }, title, about, form, result);

    function choose(value) {
      score = value;
      for (const button of buttons) button.setAttribute("aria-pressed", Number(button.getAttribute("data-score")) === value ? "true" : "false");
      // What went wrong is asked only after a low score.
      reasons.hidden = !reasonScores.has(value);
      showErrors({});
    }

    function showErrors(fields) {
      for (const [key, node] of Object.entries(errors)) {
        const problems = fields[key];
        node.hidden = !problems;
        node.textContent = problems ? [].concat(problems).join(" ") : "";
        if (inputs[key]) {
          if (problems) inputs[key].setAttribute("aria-invalid", "true");
          else inputs[key].removeAttribute("aria-invalid");
        }
      }
    }

    function finish(status, text, { focus = true } = {}) {
      const entry = surveys.get(id);
      if (entry) entry.status = status;
      form.hidden = true;
      result.textContent = text;
      result.hidden = false;
      if (focus) result.focus();
    }

    later.addEventListener("click", () => {
      const entry = surveys.get(id);
      if (entry) entry.status = "dismissed";
      node.hidden = true;
      renderPanels();
      ui.composer.focus();
    });

    form.addEventListener("submit", async (event) => {
      event.preventDefault();
      const entry = surveys.get(id);
      if (!entry || entry.status !== "open") return;
      problem.hidden = true;
      if (score === null) {
        showErrors({ score: [csat ? "Choose a face first." : "Choose a number first."] });
        buttons[0].focus();
        return;
      }
      const low = reasonScores.has(score);
      const body = {
        visitor_token: state.visitorToken,
        score,
        comment: comment.value,
        reason: low ? reason.value : "",
        reason_text: low ? reasonText.value : "",
      };
      entry.status = "sending";
      submit.disabled = true;
      let response = null;
      let data = null;
      try {
        response = await fetch(`${DESK}/widget/v1/surveys/${id}/answer`, {
          method: "POST",
          mode: "cors",
          credentials: "omit",
          headers: { "Content-Type": "application/json" },
          body: JSON.stringify(body),
        });
        data = await response.json().catch(() => null);
      } catch (e) {
        response = null;
      }
      submit.disabled = false;
      entry.status = "open";
      if (response && response.ok) {
        const thanks = (data && data.thanks) || (low ? "Thank you for telling us. Someone from our team will get back to you." : "Thank you for your answer!");
        finish("answered", thanks);
      } else if (response && [404, 409, 410].includes(response.status)) {
        finish("closed", (data && data.detail) || "This survey is closed.");
      } else if (response && response.status === 400 && data && Object.keys(data).some((k) => k in errors)) {
        showErrors(data); // what was typed stays in the form
      } else {
        problem.textContent = !response
          ? "We can't reach support right now. Please try again."
          : (data && (data.detail || (data.visitor_token && data.visitor_token[0]))) || "Your answer was not sent. Please try again.";
        problem.hidden = false;
      }
    });

    // Not focused: the customer is typing in the composer.
    node.surveyCancel = () => finish("cancelled", "This conversation was reopened, so this survey is closed.", { focus: false });
    return node;
  }

  // The customer wrote again in a surveyed conversation, or the desk reopened it:
  // the desk cancelled its survey.
  function surveysCancel(ticket) {
    for (const entry of surveys.values()) {
      if (entry.ticket === ticket && entry.status === "open") {
        entry.node.surveyCancel();
        entry.status = "cancelled";
      }
    }
  }

  // ---- incoming frames ----

  const HANDLERS = {
    welcome(frame) {
      state.connected = true;
      clearError("connection");
      setConnection("");
      ui.empty.hidden = !!ui.log.querySelector('[data-testid="message"]');
      state.customer = frame.customer;
      if (frame.limits) state.limits = frame.limits;
      state.conversations = new Map((frame.conversations || []).map((c) => [c.ticket, c]));
      HANDLERS.availability(frame.availability || {});
      view.syncing = 0; // syncs asked on the old connection are lost with it
      view.syncUntil = 0;
      const ticket = chooseConversation();
      if (ticket !== null && ticket !== view.ticket) switchTo(ticket);
      else syncFrom(view.have); // resume: fetch what arrived while we were away
      const current = state.conversations.get(view.ticket);
      if (current && current.read_seq) HANDLERS.receipt({ ticket: view.ticket, read_seq: current.read_seq });
      for (const entry of outbox) outboxSend(entry);
      renderPanels();
    },

    availability(frame) {
      state.availability = frame;
      renderAvailability();
      renderPanels();
    },

    contact(frame) {
      state.customer = Object.assign({}, state.customer, { name: frame.name, email: frame.email });
      state.prechatDone = true;
      store.set("prechat", true);
      clearError("prechat");
      renderAvailability();
      renderPanels();
      if (state.open) ui.composer.focus();
    },

    conversation(frame) {
      const known = state.conversations.get(frame.ticket);
      state.conversations.set(frame.ticket, Object.assign({}, known, frame));
      if (frame.status !== "solved" && frame.status !== "closed") surveysCancel(frame.ticket);
      if (view.ticket === null || frame.ticket > view.ticket) switchTo(frame.ticket);
      else if (frame.ticket === view.ticket && frame.last_seq > view.have && !view.syncing) syncFrom(view.have);
      renderPanels();
    },

    ack(frame) {
      const entry = outboxDrop(frame.client_msg_id);
      if (!frame.duplicate) surveysCancel(frame.ticket); // a message to a solved conversation reopens it
      if (!state.conversations.has(frame.ticket)) {
        state.conversations.set(frame.ticket, { ticket: frame.ticket, status: "new", last_seq: frame.seq });
      }
      if (view.ticket === null || frame.ticket > view.ticket) switchTo(frame.ticket);
      if (frame.ticket !== view.ticket) return;
      const node = pendingNode(frame.client_msg_id);
      if (view.ids.has(frame.id)) {
        if (node && !node.getAttribute("data-seq")) node.remove(); // the message frame came first
        return;
      }
      view.ids.add(frame.id);
      if (node) {
        node.setAttribute("data-seq", String(frame.seq));
        node.setAttribute("data-id", String(frame.id));
        placeMessage(node, frame.seq);
        updateOwn(node, frame.seq);
      } else if (entry) {
        placeMessage(messageNode({ seq: frame.seq, id: frame.id, kind: "customer", body: entry.body, createdAt: frame.created_at, clientMsgId: frame.client_msg_id, files: entry.files }), frame.seq);
      }
      noteSeq(frame.seq);
      renderPanels();
    },

    message(frame) {
      if (view.ticket === null || frame.ticket > view.ticket) switchTo(frame.ticket);
      if (frame.ticket !== view.ticket) return;
      if (view.ids.has(frame.id)) {
        // Our own message, acked first: its files get their links now.
        const known = ui.log.querySelector(`[data-id="${Number(frame.id)}"]`);
        if (known && frame.attachments && frame.attachments.length) replaceFiles(known, frame.attachments);
        return;
      }
      view.ids.add(frame.id);
      const kind = frame.author.kind;
      const pending = frame.client_msg_id && kind === "customer" ? pendingNode(frame.client_msg_id) : null;
      if (pending) {
        outboxDrop(frame.client_msg_id);
        pending.setAttribute("data-seq", String(frame.seq));
        pending.setAttribute("data-id", String(frame.id));
        if (frame.attachments && frame.attachments.length) replaceFiles(pending, frame.attachments);
        placeMessage(pending, frame.seq);
        updateOwn(pending, frame.seq);
      } else {
        placeMessage(
          messageNode({
            seq: frame.seq,
            id: frame.id,
            kind,
            name: frame.author.name,
            initials: frame.author.initials,
            body: frame.body,
            createdAt: frame.created_at,
            clientMsgId: frame.client_msg_id,
            files: frame.attachments,
          }),
          frame.seq,
        );
      }
      noteSeq(frame.seq);
      const c = state.conversations.get(frame.ticket);
      if (c) c.last_seq = Math.max(c.last_seq || 0, frame.seq);
      if (kind !== "customer") {
        hideTyping();
        view.othersSeq = Math.max(view.othersSeq, frame.seq);
        if (!visible() && frame.seq > view.readSent) {
          state.unread += 1;
          renderBadge();
        }
      }
      scrollToEnd();
      if (!view.syncing) queueReceipts(); // a replay ends with synced, which sends them
    },

    synced(frame) {
      if (frame.ticket !== view.ticket) return;
      const before = view.have;
      view.have = Math.max(view.have, frame.through);
      view.syncing = Math.max(0, view.syncing - 1);
      if (view.syncing === 0) view.syncUntil = 0;
      advance();
      // A long history comes in pages: ask for the next one while each moves us on.
      if (frame.last_seq > view.have && view.have > before) syncFrom(view.have);
      sendReceipts();
    },

    receipt(frame) {
      if (frame.ticket !== view.ticket) return;
      view.readSeq = Math.max(view.readSeq, frame.read_seq);
      for (const node of ui.log.querySelectorAll('.mine[data-testid="message"]')) {
        updateOwn(node, Number(node.getAttribute("data-seq")) || 0);
      }
    },

    survey(frame) {
      surveyShow(frame);
    },

    typing(frame) {
      if (frame.ticket !== view.ticket) return;
      clearTimeout(typingHide);
      if (!frame.typing) return hideTyping();
      ui.typing.textContent = `${frame.name || "Support"} is typing…`;
      ui.typing.hidden = false;
      typingHide = setTimeout(hideTyping, TYPING_SHOW_MS);
    },

    pong(frame) {
      if (frame.availability) HANDLERS.availability(frame.availability);
      for (const [id, lastSeq] of Object.entries(frame.tickets || {})) {
        const ticket = Number(id);
        if (ticket > (view.ticket || 0)) switchTo(ticket);
        // A higher last_seq than we hold means a notification was lost.
        else if (ticket === view.ticket && lastSeq > view.have) {
          if (!view.syncing) syncFrom(view.have);
          else if (Date.now() - view.syncAt > SYNC_STALE_MS) resync();
        }
      }
    },

    error(frame) {
      const fields = frame.fields || {};
      if (frame.code === "rate_limited" || frame.code === "unavailable") {
        // The limit counts every frame, so the error may not say which was refused:
        // afterwards resend every unacked message (same client_msg_id, so never
        // stored twice) and any unanswered sync. "unavailable": the desk's database
        // could not be reached for a moment.
        const wait = Math.max(1, Math.ceil(frame.retry_after || 5));
        if (outbox.length)
          showError("message", frame.code === "unavailable"
            ? `We couldn't reach the desk just now. We'll send yours in ${wait} s.`
            : `You're sending messages too quickly. We'll send yours in ${wait} s.`);
        clearTimeout(retryTimer);
        retryTimer = setTimeout(() => {
          clearError("message");
          for (const e of outbox) outboxSend(e);
          if (view.syncing) resync();
        }, wait * 1000);
        return;
      }
      const entry = frame.client_msg_id ? outboxDrop(frame.client_msg_id) : null;
      if (entry) {
        // Refused for good: the text goes back to the composer, nothing typed is lost.
        restoreToComposer(entry);
        if (frame.code === "closed" || frame.code === "not_found") {
          const c = state.conversations.get(entry.ticket);
          if (c) c.status = "closed";
          showError("message", "This conversation has ended. Send your message again to start a new one.");
        } else if (frame.code === "too_long") {
          showError("message", `Your message is too long: at most ${state.limits.max_chars} characters. It is still in the box below.`);
        } else if (fields.email) {
          // Away, and no address to answer by email yet: ask for it.
          state.prechatDone = false;
          state.customer = Object.assign({}, state.customer, { email: "" });
          showFieldErrors(fields);
          showError("prechat", fields.email[0] || frame.message);
        } else {
          showError("message", frame.message || "Your message was not sent.");
        }
      } else if (!ui.prechat.hidden && (fields.name || fields.email || fields.order_number)) {
        showFieldErrors(fields);
        showError("prechat", frame.message || "Please check your details.");
      } else {
        showError("message", frame.message || "Something went wrong.");
      }
      renderPanels();
    },
  };

  function showFieldErrors(fields) {
    for (const [key, node] of [["name", ui.nameError], ["email", ui.emailError], ["order_number", ui.orderError]]) {
      const problems = fields[key];
      node.hidden = !problems;
      node.textContent = problems ? problems.join(" ") : "";
    }
  }

  // ---- user actions ----

  function setOpen(open) {
    state.open = open;
    ui.win.hidden = !open;
    ui.root.setAttribute("data-open", open ? "true" : "false");
    ui.launcher.setAttribute("aria-expanded", open ? "true" : "false");
    if (open) {
      state.unread = 0;
      scrollToEnd();
      sendReceipts();
      const target = ui.prechat.hidden ? ui.composer : ui.name.value ? ui.email : ui.name;
      setTimeout(() => target.focus(), 0);
    }
    renderBadge();
  }

  ui.launcher.addEventListener("click", () => setOpen(!state.open));
  ui.close.addEventListener("click", () => {
    setOpen(false);
    ui.launcher.focus();
  });
  ui.win.addEventListener("keydown", (event) => {
    if (event.key === "Escape") {
      setOpen(false);
      ui.launcher.focus();
    }
  });

  ui.prechat.addEventListener("submit", (event) => {
    event.preventDefault();
    const name = ui.name.value.trim();
    const email = ui.email.value.trim();
    const errors = {};
    if (!name) errors.name = ["Please tell us your name."];
    if (ui.email.required && !email) errors.email = ["We need your email to reply while we're away."];
    else if (email && !/^[^\s@]+@[^\s@]+\.[^\s@]+$/.test(email)) errors.email = ["Enter a valid email address."];
    showFieldErrors(errors);
    if (Object.keys(errors).length) return;
    const frame = { type: "contact", name, email };
    const order = ui.order.value.trim();
    if (order) frame.order_number = order;
    if (!send(frame)) showError("prechat", "Not connected yet; try again in a moment.");
  });

  ui.compose.addEventListener("submit", (event) => {
    event.preventDefault();
    submitMessage();
  });
  ui.composer.addEventListener("keydown", (event) => {
    if (event.key === "Enter" && !event.shiftKey && !event.isComposing) {
      event.preventDefault();
      submitMessage();
    }
  });
  ui.composer.addEventListener("input", () => {
    renderCounter();
    if (ui.composer.value) typingInput();
    else typingStop();
    if (errorKind === "message" && ui.composer.value.length <= state.limits.max_chars) clearError("message");
  });

  document.addEventListener("visibilitychange", sendReceipts);

  function mount() {
    document.body.append(host);
    window.__helpdeskWidget = { version: 1, shop: SHOP, desk: DESK };
    clearLog(); // unsent messages from an earlier page stay visible as "sending"
    renderBadge();
    renderCounter();
    connect();
  }
  window.__helpdeskWidget = true;
  if (document.body) mount();
  else document.addEventListener("DOMContentLoaded", mount);
})();
