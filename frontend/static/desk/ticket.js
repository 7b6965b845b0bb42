/* One ticket: the conversation kept current over /ws/agent/ with the protocol's
 * watermark (docs/protocol.md), the reply and note composer with its outbox,
 * receipts, presence and typing, canned replies and keyboard shortcuts. */
import { $, body, csrfToken, el, formatTime, newId, refreshFromServer, send, showError } from "./core.js";
import { moodTag, moodTags } from "./mood.js";
import { sideBox } from "./side.js";

const TYPING_SHOW_MS = 6000;
const TYPING_IDLE_MS = 2000;
const TYPING_REPEAT_MS = 3000;
const RECEIPT_DELAY_MS = 300; // receipts for a burst of messages go as one frame
const SYNC_STALE_MS = 15000; // a sync unanswered this long was lost (e.g. rate limited)

export function ticketDetailPage() {
  const TICKET = Number(body.getAttribute("data-ticket"));
  const MAX_CHARS = Number(body.getAttribute("data-max-chars")) || 5000;
  const ME = Number(body.getAttribute("data-agent-id"));
  const CUSTOMER = body.getAttribute("data-customer-name") || "Customer";
  const MY_NAME = $(".me-name").textContent.trim();
  const conversation = $('[data-testid="conversation"]');
  const form = $('[data-testid="reply-form"]');
  const replyBody = $('[data-testid="reply-body"]');
  const replySend = $('[data-testid="reply-send"]');
  const noteToggle = $('[data-testid="note-toggle"]');
  const counter = $(".reply .counter");
  const customerTyping = $('[data-testid="customer-typing"]');
  const presenceBox = $('[data-testid="presence"]');
  const fileInput = $('[data-testid="reply-files"]');
  const chosenList = $('[data-testid="chosen-files"]');
  const crossingNotice = $('[data-testid="crossing-notice"]');
  const MAX_FILES = Number(fileInput.getAttribute("data-max-files")) || 5;
  const MAX_BYTES = Number(fileInput.getAttribute("data-max-bytes")) || 10 * 1024 * 1024;

  // Watermark: every message with seq <= have is on the page.
  let have = Number(body.getAttribute("data-have")) || 0;
  const seqs = new Set();
  const ids = new Set();
  for (const node of conversation.querySelectorAll('[data-testid="message"]')) {
    seqs.add(Number(node.getAttribute("data-seq")));
    ids.add(Number(node.getAttribute("data-id")));
  }
  let syncing = 0; // syncs in flight
  let syncAt = 0; // when the last one was sent
  let syncUntil = 0; // the highest seq they will fill (Infinity: to the newest)
  let deliveredSeq = Number(body.getAttribute("data-customer-delivered-seq")) || 0;
  let readSeq = Number(body.getAttribute("data-customer-read-seq")) || 0;
  let receiptSent = 0;
  let subscribed = false;
  let removed = false;
  const outbox = new Map(); // client_msg_id -> {body, internal, files, seenSeq}: in memory, resent on reconnect
  let chosen = []; // files for the next message: {key, name, size, state: uploading|ready|error, id, content_type, url, error}
  const newerSeqs = new Set(); // customer messages a refused reply crossed: highlighted until the next send

  function advance() {
    while (seqs.has(have + 1)) have += 1;
  }
  function sync(afterSeq, untilSeq) {
    const frame = { type: "sync", ticket: TICKET, after_seq: afterSeq };
    if (untilSeq !== undefined) frame.until_seq = untilSeq;
    if (!send(frame)) return;
    syncing += 1;
    syncAt = Date.now();
    syncUntil = Math.max(syncUntil, untilSeq === undefined ? Infinity : untilSeq);
  }
  // Forget syncs that were never answered and ask again from the watermark.
  function resync() {
    syncing = 0;
    syncUntil = 0;
    sync(have);
  }
  function noteSeq(seq) {
    seqs.add(seq);
    if (seq > have + 1 && seq - 1 > syncUntil) sync(have, seq - 1);
    advance();
  }

  // ---- rendering ----

  function receiptState(node) {
    const seq = Number(node.getAttribute("data-seq"));
    if (!seq) return "sending";
    if (seq <= readSeq) return "read";
    if (seq <= deliveredSeq) return "delivered";
    return "sent";
  }
  const RECEIPT_TEXT = { sending: "Sending…", sent: "Sent", delivered: "Delivered", read: "Read" };
  function renderReceipts() {
    // Only public replies reach the customer, so only they get a mark.
    for (const node of conversation.querySelectorAll('[data-author="agent"][data-internal="false"]')) {
      const stateName = receiptState(node);
      node.setAttribute("data-receipt", stateName);
      const mark = $(".receipt", node);
      if (mark) mark.textContent = RECEIPT_TEXT[stateName];
    }
  }

  function messageNode(m) {
    const kind = m.author.kind;
    const meta = el("div", { class: "meta" });
    if (kind === "agent") {
      meta.append(el("span", { class: "avatar", "aria-hidden": "true", text: m.author.initials || "?" }));
      meta.append(el("span", { class: "author", text: m.author.name || "Agent" }));
    } else if (kind === "customer") {
      meta.append(el("span", { class: "author", dir: "auto", text: CUSTOMER }));
    } else {
      meta.append(el("span", { class: "author", text: "System" }));
    }
    if (m.internal) meta.append(el("span", { class: "badge note", text: "Internal note" }));
    meta.append(el("time", { datetime: m.created_at || null, text: formatTime(m.created_at) }));
    meta.append(el("span", { class: "receipt", "data-testid": "read-mark" }));
    if (kind === "customer") meta.append(moodTag(m.seq));
    return el(
      "li",
      {
        class: "message",
        "data-testid": "message",
        "data-id": m.id ? String(m.id) : "",
        "data-seq": m.seq ? String(m.seq) : "",
        "data-author": kind,
        "data-internal": m.internal ? "true" : "false",
        "data-client-msg-id": m.client_msg_id || "",
      },
      meta,
      m.body ? el("div", { class: "body", dir: "auto", text: m.body }) : null,
      attachmentsNode(m.attachments || []),
    );
  }

  // ---- attachments: images as thumbnails, other files as links; names are text ----

  function sizeText(size) {
    if (size >= 1024 * 1024) return `${(size / (1024 * 1024)).toFixed(1)} MB`;
    if (size >= 1024) return `${Math.round(size / 1024)} KB`;
    return `${size} bytes`;
  }
  function attachmentsNode(files) {
    if (!files.length) return null;
    const list = el("ul", { class: "attachments", "aria-label": "Attachments" });
    for (const file of files) {
      const image = (file.content_type || "").startsWith("image/");
      const item = el("li", {
        class: "attachment",
        "data-testid": "attachment",
        "data-id": file.id ? String(file.id) : "",
        "data-kind": image ? "image" : "file",
      });
      const name = el("span", { class: "attachment-name", dir: "auto", text: file.name });
      if (file.url) {
        if (image) {
          item.append(
            el(
              "a",
              { class: "attachment-image", href: file.url, target: "_blank", rel: "noopener noreferrer" },
              el("img", { src: file.url, alt: file.name, loading: "lazy" }),
            ),
          );
        }
        item.append(el("a", { class: "attachment-link", href: file.url, target: "_blank", rel: "noopener noreferrer" }, name));
      } else {
        item.append(name);
      }
      item.append(el("span", { class: "attachment-size muted", text: sizeText(file.size || 0) }));
      list.append(item);
    }
    return list;
  }

  function uploading() {
    return chosen.some((f) => f.state === "uploading");
  }
  function readyFiles() {
    return chosen.filter((f) => f.state === "ready");
  }
  const FILE_STATE = { uploading: "Uploading…", ready: "Ready", error: "Not uploaded" };
  function renderChosen() {
    chosenList.replaceChildren(
      ...chosen.map((file) => {
        const remove = el("button", {
          type: "button",
          class: "chosen-remove",
          "data-testid": "chosen-remove",
          "aria-label": `Remove ${file.name}`,
          text: "×",
        });
        remove.addEventListener("click", () => {
          chosen = chosen.filter((f) => f !== file);
          renderChosen();
          renderComposer();
          replyBody.focus();
        });
        return el(
          "li",
          { class: "chosen-file", "data-testid": "chosen-file", "data-state": file.state },
          el("span", { class: "attachment-name", dir: "auto", text: file.name }),
          el("span", { class: "attachment-size muted", text: sizeText(file.size || 0) }),
          el("span", { class: "chosen-state", text: file.error || FILE_STATE[file.state] }),
          remove,
        );
      }),
    );
    chosenList.hidden = !chosen.length;
  }

  function firstError(data) {
    if (!data || typeof data !== "object") return "";
    if (typeof data.detail === "string") return data.detail;
    for (const value of Object.values(data)) {
      if (Array.isArray(value) && value.length) return String(value[0]);
    }
    return "";
  }

  async function upload(file) {
    const item = { key: newId(), name: file.name, size: file.size, state: "uploading" };
    chosen.push(item);
    if (chosen.length > MAX_FILES) {
      Object.assign(item, { state: "error", error: `At most ${MAX_FILES} files a message.` });
    } else if (file.size > MAX_BYTES) {
      Object.assign(item, { state: "error", error: `Too large: at most ${sizeText(MAX_BYTES)}.` });
    } else if (!file.size) {
      Object.assign(item, { state: "error", error: "The file is empty." });
    }
    renderChosen();
    renderComposer();
    if (item.state === "error") {
      showError(`${file.name}: ${item.error}`);
      return;
    }
    const data = new FormData();
    data.append("file", file);
    try {
      const response = await fetch(`/api/v1/tickets/${TICKET}/attachments/`, {
        method: "POST",
        credentials: "same-origin",
        headers: { Accept: "application/json", "X-CSRFToken": csrfToken() },
        body: data,
      });
      const answer = await response.json().catch(() => null);
      if (response.ok && answer) {
        Object.assign(item, { state: "ready", id: answer.id, name: answer.name, content_type: answer.content_type, url: answer.url });
      } else {
        Object.assign(item, { state: "error", error: firstError(answer) || "The file was not uploaded." });
      }
    } catch (e) {
      Object.assign(item, { state: "error", error: "The desk could not be reached; try again." });
    }
    if (item.state === "error") showError(`${file.name}: ${item.error}`);
    renderChosen();
    renderComposer();
  }
  fileInput.addEventListener("change", () => {
    for (const file of Array.from(fileInput.files || [])) upload(file);
    fileInput.value = "";
  });

  // ---- crossing replies: the customer wrote while the agent was typing ----

  function markNewer(node) {
    const seq = Number(node.getAttribute("data-seq"));
    if (newerSeqs.has(seq)) {
      node.classList.add("newer");
      node.setAttribute("data-newer", "true");
    }
  }
  function clearNewer() {
    newerSeqs.clear();
    crossingNotice.hidden = true;
    for (const node of conversation.querySelectorAll('[data-newer="true"]')) {
      node.classList.remove("newer");
      node.removeAttribute("data-newer");
    }
  }

  function place(node, seq) {
    if (seq) {
      for (const other of conversation.querySelectorAll('[data-testid="message"]')) {
        const otherSeq = Number(other.getAttribute("data-seq"));
        if (other !== node && (!otherSeq || otherSeq > seq)) {
          conversation.insertBefore(node, other);
          return;
        }
      }
    }
    conversation.append(node);
  }

  function pendingNode(clientMsgId) {
    return Array.from(conversation.querySelectorAll('[data-testid="message"]')).find(
      (n) => n.getAttribute("data-client-msg-id") === clientMsgId && !n.getAttribute("data-seq"),
    );
  }

  function nearBottom() {
    return window.innerHeight + window.scrollY >= document.body.scrollHeight - 120;
  }
  function scrollToEnd(force) {
    if (force || nearBottom()) window.scrollTo(0, document.body.scrollHeight);
  }

  // ---- receipts: the customer's messages we have shown ----

  function sendReceipt() {
    if (!subscribed || document.visibilityState !== "visible") return;
    let seq = 0;
    for (const node of conversation.querySelectorAll('[data-author="customer"]')) {
      seq = Math.max(seq, Number(node.getAttribute("data-seq")) || 0);
    }
    if (seq > receiptSent && send({ type: "receipt", ticket: TICKET, seq })) receiptSent = seq;
  }
  document.addEventListener("visibilitychange", sendReceipt);
  let receiptTimer = 0;
  function queueReceipt() {
    if (!receiptTimer) {
      receiptTimer = setTimeout(() => {
        receiptTimer = 0;
        sendReceipt();
      }, RECEIPT_DELAY_MS);
    }
  }

  // ---- presence and typing ----

  let viewers = []; // other agents on this ticket: [{id, name, typing}]
  const typingAgents = new Map(); // id -> {name, internal, timer}
  function renderPresence() {
    const others = viewers.filter((v) => v.id !== ME);
    const typing = others.filter((v) => v.typing || typingAgents.has(v.id));
    const names = (list) => list.map((v) => v.name).join(", ");
    if (typing.length) {
      presenceBox.textContent = `Careful: ${names(typing)} ${typing.length > 1 ? "are" : "is"} typing on this ticket too.`;
    } else if (others.length) {
      presenceBox.textContent = `${names(others)} ${others.length > 1 ? "are" : "is"} also viewing this ticket.`;
    }
    presenceBox.hidden = !(typing.length || others.length);
    presenceBox.setAttribute("data-typing", typing.length ? "true" : "false");
  }

  let customerTypingTimer = 0;
  function hideCustomerTyping() {
    clearTimeout(customerTypingTimer);
    customerTyping.hidden = true;
  }

  let typingSentAt = 0;
  let typingIdle = 0;
  function typingInput() {
    const now = Date.now();
    if (now - typingSentAt > TYPING_REPEAT_MS) {
      if (send({ type: "typing", ticket: TICKET, typing: true, internal: noteToggle.checked })) typingSentAt = now;
    }
    clearTimeout(typingIdle);
    typingIdle = setTimeout(typingStop, TYPING_IDLE_MS);
  }
  function typingStop() {
    clearTimeout(typingIdle);
    if (!typingSentAt) return;
    typingSentAt = 0;
    send({ type: "typing", ticket: TICKET, typing: false, internal: noteToggle.checked });
  }

  // ---- the reply box ----

  function renderComposer() {
    const length = replyBody.value.length;
    const over = length > MAX_CHARS;
    counter.textContent = over ? `${length} / ${MAX_CHARS}: too long by ${length - MAX_CHARS}` : `${length} / ${MAX_CHARS}`;
    counter.setAttribute("data-over", over ? "true" : "false");
    const note = noteToggle.checked;
    form.classList.toggle("note-mode", note);
    replySend.textContent = note ? "Add note" : "Reply";
    replyBody.placeholder = note
      ? "Internal note: only agents see it… (Enter sends, Shift+Enter for a new line)"
      : "Write a reply… (Enter sends, Shift+Enter for a new line)";
    const empty = !replyBody.value.trim() && !readyFiles().length;
    replySend.disabled = over || empty || uploading() || removed;
    replySend.title = uploading() ? "Wait for the files to upload" : "";
  }

  function transmit(clientMsgId) {
    const entry = outbox.get(clientMsgId);
    const frame = {
      type: "message.send",
      ticket: TICKET,
      client_msg_id: clientMsgId,
      body: entry.body,
      internal: entry.internal,
      // What this page showed when the agent pressed send: a newer customer message holds a reply.
      seen_seq: entry.seenSeq,
    };
    if (entry.files.length) frame.attachments = entry.files.map((f) => f.id);
    send(frame);
  }

  function submit() {
    const text = replyBody.value;
    const files = readyFiles();
    if ((!text.trim() && !files.length) || text.length > MAX_CHARS || removed || uploading()) return;
    const clientMsgId = newId();
    const internal = noteToggle.checked;
    outbox.set(clientMsgId, { body: text, internal, files, seenSeq: have });
    const node = messageNode({ author: me(), body: text, internal, client_msg_id: clientMsgId, attachments: files });
    place(node);
    renderReceipts();
    scrollToEnd(true);
    replyBody.value = "";
    chosen = chosen.filter((f) => f.state === "uploading");
    renderChosen();
    cannedWarning.hidden = true;
    clearNewer();
    typingStop();
    renderComposer();
    transmit(clientMsgId);
  }
  function me() {
    const initials = MY_NAME.split(/\s+/)
      .filter((word) => /^\p{L}/u.test(word))
      .slice(0, 2)
      .map((word) => word[0].toUpperCase())
      .join("");
    return { kind: "agent", name: MY_NAME, initials: initials || "?" };
  }

  form.addEventListener("submit", (event) => {
    event.preventDefault();
    submit();
  });
  replyBody.addEventListener("keydown", (event) => {
    if (event.key === "Enter" && !event.shiftKey && !event.isComposing) {
      event.preventDefault();
      submit();
    }
  });
  replyBody.addEventListener("input", () => {
    renderComposer();
    if (replyBody.value) typingInput();
    else typingStop();
  });
  noteToggle.addEventListener("change", () => {
    typingStop();
    renderComposer();
  });
  renderComposer();
  renderReceipts();

  // ---- canned replies: fetched once, rendered by the server for this ticket and agent ----

  const cannedPicker = $('[data-testid="canned-picker"]');
  const cannedWarning = $('[data-testid="canned-warning"]');
  const canned = new Map();

  function cannedOption(value, text) {
    const option = document.createElement("option");
    option.value = value;
    option.textContent = text;
    return option;
  }
  async function cannedLoad() {
    let rows = [];
    try {
      const response = await fetch(`/api/v1/tickets/${TICKET}/canned/`, {
        credentials: "same-origin",
        headers: { Accept: "application/json" },
      });
      if (response.ok) rows = await response.json();
    } catch (e) {
      rows = [];
    }
    for (const row of rows) canned.set(String(row.id), row);
    cannedPicker.replaceChildren(cannedOption("", rows.length ? "Insert a canned reply…" : "No canned replies"));
    for (const row of rows) cannedPicker.append(cannedOption(String(row.id), row.title));
    cannedPicker.disabled = !rows.length;
  }
  function cannedInsert(row) {
    const start = replyBody.selectionStart ?? replyBody.value.length;
    const end = replyBody.selectionEnd ?? start;
    replyBody.setRangeText(row.body, start, end, "end");
    const missing = row.missing || [];
    cannedWarning.textContent = missing.length
      ? `No value for ${missing.join(", ")}: left empty, check the text before sending.`
      : "";
    cannedWarning.hidden = !missing.length;
    renderComposer();
    replyBody.focus();
  }
  cannedPicker.addEventListener("change", () => {
    const row = canned.get(cannedPicker.value);
    cannedPicker.value = "";
    if (row) cannedInsert(row);
  });
  cannedLoad();

  const mood = moodTags(TICKET, conversation);
  const side = sideBox(TICKET, ME, {
    onMoved() {
      removed = true;
      renderComposer();
    },
  });
  const { control, change, assignTo } = side;

  // ---- keyboard shortcuts (README: "Agent keyboard shortcuts") ----

  const help = $('[data-testid="shortcuts-help"]');
  const helpDialog = $('[role="dialog"]', help);
  const helpClose = $(".shortcuts-close", help);
  let helpReturn = null;
  function openHelp() {
    helpReturn = document.activeElement;
    help.hidden = false;
    helpClose.focus();
  }
  function closeHelp() {
    help.hidden = true;
    if (helpReturn && typeof helpReturn.focus === "function") helpReturn.focus();
    helpReturn = null;
  }
  helpClose.addEventListener("click", closeHelp);
  help.addEventListener("click", (event) => {
    if (event.target === help) closeHelp(); // a click on the backdrop
  });
  // Focus stays in the dialog while it is open.
  helpDialog.addEventListener("keydown", (event) => {
    if (event.key !== "Tab") return;
    const focusable = Array.from(helpDialog.querySelectorAll("button, [href], [tabindex]:not([tabindex='-1'])"));
    const first = focusable[0];
    const last = focusable[focusable.length - 1];
    if (event.shiftKey ? document.activeElement === first : document.activeElement === last) {
      event.preventDefault();
      (event.shiftKey ? last : first).focus();
    }
  });
  document.addEventListener("focusin", (event) => {
    if (!help.hidden && !help.contains(event.target)) helpClose.focus();
  });

  function typingIn(target) {
    return target instanceof Element && (target.matches("input, textarea, select") || target.isContentEditable);
  }
  function compose(note) {
    if (removed) return;
    if (noteToggle.checked !== note) {
      noteToggle.checked = note;
      typingStop();
      renderComposer();
    }
    replyBody.focus();
  }
  document.addEventListener("keydown", (event) => {
    if (event.key === "Escape") {
      if (!help.hidden) {
        event.preventDefault();
        closeHelp();
      }
      return;
    }
    if (event.defaultPrevented || event.isComposing || event.ctrlKey || event.metaKey) return;
    if (!help.hidden || typingIn(event.target)) return;
    // event.code: Alt+S types another character (ß) on some layouts.
    if (event.altKey) {
      if (event.code === "KeyS" && !event.shiftKey) {
        event.preventDefault();
        const select = control("status");
        if (select && !select.disabled) {
          select.value = "solved";
          change("status", { status: "solved" });
        }
      }
      return;
    }
    const action = {
      r: () => compose(false),
      n: () => compose(true),
      a: () => assignTo(ME),
      t: side.focusTags,
      "?": openHelp,
    }[event.key];
    if (!action) return;
    event.preventDefault();
    if (event.key === "a" && removed) return;
    action();
  });

  let retryTimer = 0;

  return {
    async welcome(frame, reconnected) {
      subscribed = false;
      syncing = 0;
      syncUntil = 0;
      send({ type: "subscribe", ticket: TICKET });
      if (reconnected) await refreshFromServer([".ticket-side"]);
    },
    subscribed(frame) {
      if (frame.ticket !== TICKET) return;
      subscribed = true;
      deliveredSeq = Math.max(deliveredSeq, frame.customer_delivered_seq || 0);
      readSeq = Math.max(readSeq, frame.customer_read_seq || 0);
      renderReceipts();
      sync(have); // resume: what was stored while the page was not listening
      for (const id of outbox.keys()) transmit(id);
      sendReceipt();
    },
    message(m) {
      if (m.ticket !== TICKET || ids.has(m.id)) return;
      ids.add(m.id);
      const pending = m.client_msg_id ? pendingNode(m.client_msg_id) : null;
      const node = messageNode(m);
      if (pending) {
        outbox.delete(m.client_msg_id);
        pending.replaceWith(node);
      }
      place(node, m.seq);
      markNewer(node);
      noteSeq(m.seq);
      if (m.author.kind === "customer") hideCustomerTyping();
      renderReceipts();
      scrollToEnd(false);
      if (!syncing) queueReceipt(); // a replay ends with synced, which sends it
    },
    ack(frame) {
      if (frame.ticket !== TICKET) return;
      const entry = outbox.get(frame.client_msg_id);
      outbox.delete(frame.client_msg_id);
      const pending = pendingNode(frame.client_msg_id);
      if (ids.has(frame.id)) {
        if (pending) pending.remove(); // the message frame came first
        return;
      }
      ids.add(frame.id);
      if (pending) {
        pending.setAttribute("data-seq", String(frame.seq));
        pending.setAttribute("data-id", String(frame.id));
        const time = $("time", pending);
        time.setAttribute("datetime", frame.created_at);
        time.textContent = formatTime(frame.created_at);
        place(pending, frame.seq);
      } else if (entry) {
        // Its bubble is gone (the page section was re-read): draw it again.
        place(
          messageNode({ ...frame, author: me(), body: entry.body, internal: entry.internal, attachments: entry.files }),
          frame.seq,
        );
      }
      noteSeq(frame.seq);
      renderReceipts();
    },
    synced(frame) {
      if (frame.ticket !== TICKET) return;
      const before = have;
      have = Math.max(have, frame.through);
      syncing = Math.max(0, syncing - 1);
      if (syncing === 0) syncUntil = 0;
      advance();
      if (frame.last_seq > have && have > before) sync(have); // the next page of a long history
      sendReceipt();
    },
    receipt(frame) {
      if (frame.ticket !== TICKET) return;
      deliveredSeq = Math.max(deliveredSeq, frame.customer_delivered_seq || 0);
      readSeq = Math.max(readSeq, frame.customer_read_seq || 0);
      renderReceipts();
    },
    typing(frame) {
      if (frame.ticket !== TICKET || !frame.who) return;
      if (frame.who.kind === "customer") {
        clearTimeout(customerTypingTimer);
        customerTyping.hidden = !frame.typing;
        customerTyping.textContent = `${frame.who.name || CUSTOMER} is typing…`;
        if (frame.typing) customerTypingTimer = setTimeout(hideCustomerTyping, TYPING_SHOW_MS);
        return;
      }
      if (frame.who.id === ME) return;
      const known = typingAgents.get(frame.who.id);
      if (known) clearTimeout(known.timer);
      if (frame.typing) {
        const timer = setTimeout(() => {
          typingAgents.delete(frame.who.id);
          renderPresence();
        }, TYPING_SHOW_MS);
        typingAgents.set(frame.who.id, { name: frame.who.name, internal: frame.internal, timer });
      } else {
        typingAgents.delete(frame.who.id);
      }
      renderPresence();
    },
    presence(frame) {
      if (frame.ticket !== TICKET) return;
      viewers = frame.viewers || [];
      for (const [id, who] of typingAgents) {
        if (!viewers.some((v) => v.id === id)) {
          clearTimeout(who.timer);
          typingAgents.delete(id); // they left
        }
      }
      renderPresence();
    },
    ticket(event) {
      const t = event.ticket;
      if (t.id !== TICKET) return;
      if (event.removed) {
        side.markMoved(side.movedTo());
        return;
      }
      side.onTicketEvent(event); // system lines, tags, the customer panel
      mood.onTicketEvent(event); // tags on messages, the conversation's mood
      // Events name the team by id; its option carries the id.
      const teamOption = t.team !== undefined ? $(`.ticket-box option[data-id="${Number(t.team)}"]`) : null;
      side.showTicket({ ...t, team: teamOption ? { slug: teamOption.value } : undefined });
      if (t.customer_read_seq !== undefined) {
        deliveredSeq = Math.max(deliveredSeq, t.customer_delivered_seq || 0);
        readSeq = Math.max(readSeq, t.customer_read_seq || 0);
        renderReceipts();
      }
    },
    pong(frame) {
      const lastSeq = (frame.tickets || {})[String(TICKET)];
      // A higher last_seq than we hold means a notification was lost.
      if (lastSeq > have) {
        if (!syncing) sync(have);
        else if (Date.now() - syncAt > SYNC_STALE_MS) resync();
      }
    },
    error(frame) {
      if (frame.code === "rate_limited" || frame.code === "unavailable") {
        // The limit counts every frame, so the error may not say which was refused:
        // afterwards resend every unacked message (same client_msg_id: stored once)
        // and any unanswered sync. "unavailable": the database was out of reach.
        const wait = Math.max(1, Math.ceil(frame.retry_after || 5));
        if (outbox.size)
          showError(frame.code === "unavailable"
            ? `The desk's database is out of reach: your message goes out in ${wait} s.`
            : `Sending too fast: your message goes out in ${wait} s.`);
        clearTimeout(retryTimer);
        retryTimer = setTimeout(() => {
          outbox.forEach((_, id) => transmit(id));
          if (syncing) resync();
        }, wait * 1000);
        return true;
      }
      if (frame.code === "not_found" && frame.ticket === TICKET) {
        side.markMoved(side.movedTo()); // it moved out of this agent's teams
        return true;
      }
      const entry = frame.client_msg_id ? outbox.get(frame.client_msg_id) : null;
      if (!entry) return false;
      // Refused: put the text and files back so nothing is lost.
      outbox.delete(frame.client_msg_id);
      const pending = pendingNode(frame.client_msg_id);
      if (pending) pending.remove();
      replyBody.value = replyBody.value.trim() ? entry.body + "\n" + replyBody.value : entry.body;
      noteToggle.checked = entry.internal;
      chosen = [...entry.files, ...chosen];
      renderChosen();
      renderComposer();
      if (frame.code === "newer_messages") {
        // Show what the customer wrote, highlighted; the next send goes through.
        for (const seq of frame.seqs || []) newerSeqs.add(seq);
        for (const node of conversation.querySelectorAll('[data-testid="message"]')) markNewer(node);
        const newest = Math.max(0, ...(frame.seqs || []));
        if (newest > have && !syncing) sync(have);
        crossingNotice.textContent = "The customer wrote again while you were typing. Read it, then send again.";
        crossingNotice.hidden = false;
        const first = conversation.querySelector('[data-newer="true"]');
        if (first) first.scrollIntoView({ block: "center" });
        replyBody.focus();
        return true;
      }
      showError(frame.message || "The message was not sent.");
      return true;
    },
  };
}
