/* The ticket list: rows kept current from live `ticket` events; queue counts
 * and filtered views re-read from the server shortly after changes. */
import { $, body, el, formatTime, refreshFromServer, setPill, TEAMS } from "./core.js";

export function ticketListPage() {
  const limit = Number(body.getAttribute("data-limit")) || 100;
  const filtered = body.getAttribute("data-filtered") === "true";
  let list = $('[data-testid="ticket-list"]');
  let refreshing = null; // events held while the list is re-read after a reconnect

  function row(id) {
    return $(`[data-testid="ticket-row"][data-ticket-id="${Number(id)}"]`, list);
  }

  function buildRow(t) {
    const link = el("a", { href: `/desk/tickets/${t.id}/`, dir: "auto" });
    return el(
      "tr",
      { "data-testid": "ticket-row", "data-ticket-id": String(t.id) },
      el("td", { class: "col-id", text: String(t.id) }),
      el("td", { class: "col-subject" }, link),
      el("td", { class: "col-customer", dir: "auto" }),
      el("td", { class: "col-status" }, el("span", { class: "pill" })),
      el("td", { class: "col-priority" }, el("span", { class: "pill" })),
      el("td", { class: "col-team" }),
      el("td", { class: "col-assignee" }),
      el("td", { class: "col-updated" }, el("time")),
    );
  }

  function fill(tr, t, event) {
    if (t.subject !== undefined) $(".col-subject a", tr).textContent = t.subject || "(no subject)";
    if (t.customer) $(".col-customer", tr).textContent = t.customer.name || "(anonymous)";
    if (t.status) setPill($(".col-status .pill", tr), "status", t.status);
    if (t.priority) setPill($(".col-priority .pill", tr), "priority", t.priority);
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
    if (event.message && !event.message.internal && event.message.author && event.message.author.kind === "customer") {
      tr.classList.add("unread");
    }
    if (event.change === "receipt") return; // read marks change nothing on the list
    tr.classList.remove("flash");
    void tr.offsetWidth; // restart the highlight animation
    tr.classList.add("flash");
  }

  function apply(event) {
    const t = event.ticket;
    const existing = row(t.id);
    if (event.removed) {
      if (existing) existing.remove();
    } else if (existing) {
      fill(existing, t, event);
    } else if (t.subject !== undefined && !filtered) {
      // Newest first: ids grow with creation, so a new row goes above the first older one.
      const tr = buildRow(t);
      fill(tr, t, event);
      const older = Array.from(list.querySelectorAll('[data-testid="ticket-row"]')).find(
        (r) => Number(r.getAttribute("data-ticket-id")) < t.id,
      );
      list.insertBefore(tr, older || null);
      const rows = list.querySelectorAll('[data-testid="ticket-row"]');
      for (let i = limit; i < rows.length; i += 1) rows[i].remove();
    }
    $('[data-testid="ticket-list-empty"]').hidden = !!list.querySelector('[data-testid="ticket-row"]');
    scheduleRecount();
  }

  // Queue counts, and the rows of a queue or search view (whose membership
  // events alone cannot tell), are re-read from the server shortly after changes.
  let recount = null;
  function scheduleRecount() {
    clearTimeout(recount);
    recount = setTimeout(async () => {
      const parts = ['[data-testid="queues"]'];
      if (filtered) parts.push('[data-testid="ticket-list"]');
      await refreshFromServer(parts);
      list = $('[data-testid="ticket-list"]');
    }, 400);
  }

  return {
    async welcome(frame, reconnected) {
      if (!reconnected) return;
      refreshing = [];
      try {
        await refreshFromServer(['[data-testid="ticket-list"]']);
        list = $('[data-testid="ticket-list"]');
      } finally {
        const held = refreshing;
        refreshing = null;
        held.forEach(apply);
      }
    },
    ticket(event) {
      if (refreshing) refreshing.push(event);
      else apply(event);
    },
  };
}