/* The inbox (/inbox/): rows rendered by the server from _ticket_rows.html,
 * kept live from `ticket` events without moving what the agent is reading.
 *
 * - A row on the page updates in place from its event; a customer's message
 *   marks it unread and flashes it.
 * - Shortly after changes, the rows from the newest ticket down to the 100th
 *   shown, and the rows further down that events touched, are re-read from
 *   /inbox/rows/?through=<cursor>&ids=<ids> with the page's filters: rows that
 *   no longer match go, changed rows update in place, and pages loaded with
 *   "Load more" stay. Newer tickets go on top while the agent is at the top of
 *   the first page; otherwise a button says how many wait.
 * - "Load more" appends /inbox/rows/?after=<cursor of the last row>.
 * - Queue counts come from GET /api/v1/tickets/queues/.
 * A cursor is "<microseconds>_<id>" of a row: the list's order is newest first.
 */
import { $, body, callApi, el, formatTime, LABELS, localTimes, setPill, showError, TEAMS } from "./core.js";

const SYNC_DELAY_MS = 400; // let a burst of events settle
const SYNC_GAP_MS = 1500; // and re-read at most this often
const WINDOW = 100; // rows from the top that every re-read covers
const MAX_IDS = 100; // rows further down re-read by id (the server's limit)

export function ticketListPage() {
  const rowsUrl = new URL(body.getAttribute("data-rows-url"), location.href);
  const list = $('[data-testid="ticket-list"]');
  const more = $('[data-testid="load-more"]');
  const newer = $('[data-testid="new-tickets"]');
  const status = $('[data-testid="list-status"]');
  const empty = $('[data-testid="ticket-list-empty"]');
  let loadedMore = false;
  let held = []; // newer rows kept off the list while the agent reads further down
  const touched = new Set(); // ids of rows live events changed since the last re-read

  const shownRows = () => Array.from(list.querySelectorAll('[data-testid="ticket-row"]'));
  const row = (id) => $(`[data-testid="ticket-row"][data-ticket-id="${Number(id)}"]`, list);
  const position = (tr) => tr.getAttribute("data-cursor").split("_").map(Number);
  function isNewer(a, b) {
    const [am, ai] = position(a);
    const [bm, bi] = position(b);
    return am > bm || (am === bm && ai > bi);
  }
  const updateEmpty = () => (empty.hidden = !!list.querySelector('[data-testid="ticket-row"]'));

  async function fetchRows(params) {
    const url = new URL(rowsUrl);
    for (const [name, value] of Object.entries(params)) url.searchParams.set(name, value);
    const response = await fetch(url, { credentials: "same-origin", headers: { Accept: "text/html" } });
    if (!response.ok || response.redirected) return null;
    const template = document.createElement("template");
    template.innerHTML = await response.text();
    localTimes(template.content);
    return {
      rows: Array.from(template.content.querySelectorAll('[data-testid="ticket-row"]')),
      next: response.headers.get("X-Next-Cursor") || "",
    };
  }

  // ---- one row from a live event ----

  function markUnread(tr) {
    tr.classList.add("unread");
    tr.setAttribute("data-unread", "true");
    if (!$(".unread-mark", tr)) {
      const mark = el("span", { class: "unread-mark", "data-testid": "unread-mark" }, el("span", { class: "sr-only", text: "Unread" }));
      $(".col-subject", tr).prepend(mark);
    }
  }

  function flash(tr) {
    tr.classList.remove("flash");
    void tr.offsetWidth; // restart the highlight animation
    tr.classList.add("flash");
  }

  function fill(tr, t, event) {
    if (t.subject !== undefined) $(".col-subject a", tr).textContent = t.subject || "(no subject)";
    if (t.customer) $(".col-customer", tr).textContent = t.customer.name || "(anonymous)";
    if (t.status) setPill($(".col-status .pill", tr), "status", t.status);
    if (t.priority) setPill($(".col-priority .pill", tr), "priority", t.priority);
    if (t.channel) $(".col-channel", tr).textContent = LABELS.channel[t.channel] || t.channel;
    if (t.sentiment !== undefined) {
      const cell = $(".col-mood", tr);
      cell.textContent = "";
      const arrow = { improving: " ↗", worsening: " ↘" }[t.sentiment_trend] || "";
      if (t.sentiment) {
        cell.append(el("span", { class: "mood-pill", "data-sentiment": t.sentiment, text: ((LABELS.sentiment || {})[t.sentiment] || t.sentiment) + arrow }));
        if (t.sentiment_trend) cell.append(el("span", { class: "sr-only", text: `, ${t.sentiment_trend}` }));
      } else {
        cell.append(el("span", { class: "muted", "aria-hidden": "true", text: "–" }), el("span", { class: "sr-only", text: "Not tagged yet" }));
      }
    }
    if (t.category !== undefined) {
      const cell = $(".col-category", tr);
      cell.setAttribute("data-category", t.category);
      cell.textContent = "";
      const label = (LABELS.category || {})[t.category] || t.category;
      if (t.category) cell.append(label);
      else cell.append(el("span", { class: "muted", "aria-hidden": "true", text: "–" }), el("span", { class: "sr-only", text: label }));
    }
    if (t.team !== undefined) $(".col-team", tr).textContent = TEAMS[t.team] || "";
    if (t.assignee !== undefined) {
      const cell = $(".col-assignee", tr);
      cell.textContent = "";
      cell.append(t.assignee ? t.assignee.name : el("span", { class: "muted", text: "Unassigned" }));
    }
    if (t.updated_at) {
      const time = $(".col-updated time", tr);
      time.setAttribute("datetime", t.updated_at);
      time.textContent = formatTime(t.updated_at);
    }
    const message = event.message;
    if (message && !message.internal && message.author && message.author.kind === "customer") markUnread(tr);
    flash(tr);
  }

  // ---- re-reading the list ----

  // Rows already on the page keep their node (and so the browser's scroll
  // anchor); only their content changes.
  function update(tr, fresh) {
    if (tr.innerHTML !== fresh.innerHTML) tr.innerHTML = fresh.innerHTML;
    tr.setAttribute("data-unread", fresh.getAttribute("data-unread"));
    tr.classList.toggle("unread", fresh.classList.contains("unread"));
  }

  function insertInOrder(fresh) {
    const older = shownRows().find((tr) => isNewer(fresh, tr));
    list.insertBefore(fresh, older || null);
  }

  function atTop() {
    return !loadedMore && list.getBoundingClientRect().top >= 0;
  }

  function showOnTop(rows) {
    const fresh = rows.filter((tr) => !row(tr.getAttribute("data-ticket-id")));
    list.prepend(...fresh);
    fresh.forEach(flash);
    updateEmpty();
    return fresh;
  }

  function hold(rows) {
    held = rows;
    const n = rows.length;
    newer.hidden = n === 0;
    newer.textContent = n === 1 ? "1 new ticket, show it" : `${n} new tickets, show them`;
  }

  newer.addEventListener("click", () => {
    const shown = showOnTop(held);
    hold([]);
    list.closest("table").scrollIntoView({ block: "start" });
    const link = shown.length ? $(".col-subject a", shown[0]) : null;
    if (link) link.focus();
  });

  // What a re-read covers: the newest rows down to the WINDOW-th one shown,
  // and further down only the rows that live events touched since the last.
  async function syncRows() {
    const before = shownRows();
    const edge = before.length ? before[Math.min(before.length, WINDOW) - 1] : null;
    const asked = before.slice(WINDOW).map((tr) => tr.getAttribute("data-ticket-id")).filter((id) => touched.has(id));
    touched.clear();
    const params = edge ? { through: edge.getAttribute("data-cursor") } : {};
    if (asked.length) params.ids = asked.slice(0, MAX_IDS).join(",");
    const page = await fetchRows(params);
    if (!page) return;
    const shown = shownRows();
    const top = shown[0];
    const incoming = top ? page.rows.filter((tr) => isNewer(tr, top)) : page.rows;
    const rest = page.rows.filter((tr) => !incoming.includes(tr));
    // A re-read cut short (very many new tickets) says nothing below its last row.
    const cutAt = page.next && page.rows.length ? page.rows[page.rows.length - 1] : null;
    const askedSet = new Set(params.ids ? params.ids.split(",") : []);
    const covered = (tr) =>
      (!cutAt || !isNewer(cutAt, tr)) && ((edge && !isNewer(edge, tr)) || askedSet.has(tr.getAttribute("data-ticket-id")));
    const keep = new Set(rest.map((tr) => tr.getAttribute("data-ticket-id")));
    for (const tr of shown) {
      if (covered(tr) && !keep.has(tr.getAttribute("data-ticket-id"))) tr.remove();
    }
    for (const fresh of rest) {
      const existing = row(fresh.getAttribute("data-ticket-id"));
      if (existing) update(existing, fresh);
      else insertInOrder(fresh);
    }
    if (!edge) {
      // The list was empty: this is its first page now.
      more.setAttribute("data-after", page.next);
      more.hidden = !page.next;
    }
    if (incoming.length && top && !atTop()) {
      hold(incoming);
    } else {
      showOnTop(incoming);
      hold([]);
    }
    updateEmpty();
  }

  async function syncCounts() {
    const answer = await callApi("GET", "/api/v1/tickets/queues/");
    if (!answer.ok || !answer.data) return;
    for (const [queue, count] of Object.entries(answer.data)) {
      const node = $(`[data-testid="queue-count"][data-queue="${queue}"]`);
      if (node) node.textContent = String(count);
    }
  }

  let timer = 0;
  let running = false;
  let again = false;
  let lastSync = 0;
  function scheduleSync() {
    clearTimeout(timer);
    const wait = Math.max(SYNC_DELAY_MS, lastSync + SYNC_GAP_MS - Date.now());
    timer = setTimeout(sync, wait);
  }
  async function sync() {
    if (running) {
      again = true; // changes came in while reading: read once more after
      return;
    }
    running = true;
    lastSync = Date.now();
    try {
      await Promise.all([syncRows(), syncCounts()]);
    } catch (e) {
      // Unreachable for now; the next change or reconnect tries again.
    } finally {
      running = false;
      if (again) {
        again = false;
        scheduleSync();
      }
    }
  }

  // ---- more rows ----

  more.addEventListener("click", async () => {
    const after = more.getAttribute("data-after");
    if (!after || more.disabled) return;
    more.disabled = true;
    try {
      const page = await fetchRows({ after });
      if (!page) {
        showError("Could not load more tickets; try again.");
        return;
      }
      const fresh = page.rows.filter((tr) => !row(tr.getAttribute("data-ticket-id")));
      list.append(...fresh);
      loadedMore = true;
      more.setAttribute("data-after", page.next);
      more.hidden = !page.next;
      status.textContent = `${fresh.length} more tickets loaded${page.next ? "" : "; that is all"}.`;
      updateEmpty();
    } catch (e) {
      showError("Could not load more tickets; try again.");
    } finally {
      more.disabled = false;
    }
  });

  // Back on this tab (a ticket read in another one): read marks may have changed.
  document.addEventListener("visibilitychange", () => {
    if (document.visibilityState === "visible") scheduleSync();
  });
  window.addEventListener("pageshow", (event) => {
    if (event.persisted) scheduleSync();
  });

  return {
    welcome(frame, reconnected) {
      if (reconnected) sync(); // events sent meanwhile were lost
    },
    ticket(event) {
      const t = event.ticket;
      const tr = row(t.id);
      if (event.removed) {
        if (tr) tr.remove();
        updateEmpty();
      } else if (event.change === "receipt") {
        return; // the customer's read marks change nothing on the list
      } else if (tr) {
        fill(tr, t, event);
        touched.add(String(t.id));
      }
      scheduleSync();
    },
  };
}
