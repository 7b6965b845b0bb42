/* A ticket's side box: status, priority, category, team, assignee, tags, the
 * linked order and merging, changed through the ticket API one change after
 * another, in the order the agent made them. Also keeps the conversation's
 * system lines and the customer panel current from the server's fragments.
 * Controls are looked up on every use: a reconnect re-reads the side column. */
import { $, callApi, el, localTimes } from "./core.js";

export function sideBox(TICKET, ME, { onMoved }) {
  let removed = false;
  const API = `/api/v1/tickets/${TICKET}/`;
  const FIELD_SELECTOR = ".ticket-box .ticket-field";
  let movedTo = ""; // the team this agent moved the ticket to, for the notice

  function control(field) {
    return $(`${FIELD_SELECTOR}[data-field="${field}"]`);
  }
  function errorFor(field) {
    return $(`.ticket-box [data-testid="action-error"][data-for="${field}"]`);
  }
  function clearErrors() {
    for (const node of document.querySelectorAll('.ticket-box [data-testid="action-error"]')) {
      node.hidden = true;
      node.textContent = "";
    }
    for (const select of document.querySelectorAll(FIELD_SELECTOR)) select.removeAttribute("aria-invalid");
  }
  // Show a value the server holds (a live event, an answer): the select and what a failure restores.
  function showValue(field, value) {
    const select = control(field);
    if (!select) return;
    const text = value === null || value === undefined ? "" : String(value);
    select.setAttribute("data-current", text);
    if (!select.disabled) select.value = text;
  }
  function restore(select) {
    select.value = select.getAttribute("data-current") || "";
  }

  // Field errors go next to their control; anything else next to the one the agent changed.
  function showErrors(changed, data) {
    const errors = data && typeof data === "object" ? data : {};
    let shown = false;
    for (const [key, value] of Object.entries(errors)) {
      const target = errorFor(key) ? key : changed;
      const node = errorFor(target);
      if (!node) continue;
      const text = Array.isArray(value) ? value.join(" ") : String(value);
      node.textContent = node.textContent ? `${node.textContent} ${text}` : text;
      node.hidden = false;
      const select = control(target);
      if (select) select.setAttribute("aria-invalid", "true");
      shown = true;
    }
    if (!shown) {
      const node = errorFor(changed);
      node.textContent = "The change was not saved. Try again.";
      node.hidden = false;
    }
  }

  function showTicket(t) {
    if (t.status) showValue("status", t.status);
    if (t.priority) showValue("priority", t.priority);
    if (t.category !== undefined) showValue("category", t.category);
    if (t.team && typeof t.team === "object") showValue("team", t.team.slug);
    if (Array.isArray(t.tags)) showTags(t.tags);
    if (t.merged_into) showMerged(t.merged_into);
    if (t.order !== undefined) {
      const order = t.order ? String(t.order.id) : "";
      const panel = $('[data-testid="customer-panel"]');
      if (panel && panel.getAttribute("data-ticket-order") !== order) refreshContext();
    }
    if (t.assignee !== undefined) {
      const select = control("assignee");
      if (t.assignee && select && !select.querySelector(`option[value="${Number(t.assignee.id)}"]`)) {
        select.append(el("option", { value: String(t.assignee.id), text: t.assignee.name }));
      }
      showValue("assignee", t.assignee ? t.assignee.id : "");
    }
  }

  function markMoved(teamName) {
    removed = true;
    onMoved();
    const notice = $('[data-testid="ticket-moved"]');
    notice.textContent = teamName
      ? `This ticket moved to ${teamName}; you can no longer see it.`
      : "This ticket moved to another team; you can no longer see it.";
    const wasHidden = notice.hidden;
    notice.hidden = false;
    for (const node of document.querySelectorAll(`${FIELD_SELECTOR}, .ticket-box button`)) node.disabled = true;
    if (wasHidden) notice.focus();
  }

  // Changes are sent one after another, in the order the agent made them.
  let pending = Promise.resolve();
  function change(field, payload) {
    pending = pending.then(() => save(field, payload));
    return pending;
  }

  // ``payload`` may be a function, read when the change's turn comes (tags build on the previous answer).
  async function save(field, payload) {
    if (typeof payload === "function") payload = payload();
    if (!payload) return;
    const select = control(field);
    if (removed) {
      if (select) restore(select);
      return;
    }
    clearErrors();
    const assign = field === "team" || field === "assignee";
    const action = assign ? "assign/" : field === "into" ? "merge/" : "";
    if (select) select.setAttribute("aria-busy", "true");
    try {
      const answer = await callApi(action ? "POST" : "PATCH", API + action, payload);
      if (answer.ok) {
        showTicket(answer.data || {});
        fetchEvents(); // its line, without waiting for the live event
        if (field === "team" && answer.data && answer.data.team) {
          // A transfer may take the ticket out of this agent's teams: a 404 says so.
          const check = await callApi("GET", API);
          if (check.status === 404) {
            movedTo = answer.data.team.name;
            markMoved(movedTo);
          }
        }
      } else if (answer.status === 404 && field !== "into") {
        markMoved(movedTo);
      } else {
        if (select) restore(select);
        showErrors(field, answer.data);
      }
    } catch (e) {
      if (select) restore(select);
      showErrors(field, { [field]: ["The desk could not be reached. Try again."] });
    } finally {
      if (select) select.removeAttribute("aria-busy");
    }
  }

  function assignTo(agentId) {
    const select = control("assignee");
    if (select) select.value = agentId === null ? "" : String(agentId);
    return change("assignee", { assignee: agentId });
  }

  // Transfer: keep the assignee when they may work in the new team, else back to its queue.
  function transfer(slug) {
    const assignee = control("assignee");
    const option = assignee && assignee.value ? assignee.selectedOptions[0] : null;
    const stays =
      option &&
      (option.getAttribute("data-manager") === "true" ||
        (option.getAttribute("data-teams") || "").split(" ").includes(slug));
    return change("team", { team: slug, assignee: stays ? Number(option.value) : null });
  }

  document.addEventListener("change", (event) => {
    const select = event.target;
    if (!(select instanceof HTMLSelectElement) || !select.matches(FIELD_SELECTOR)) return;
    const field = select.getAttribute("data-field");
    if (field === "team") transfer(select.value);
    else if (field === "assignee") assignTo(select.value ? Number(select.value) : null);
    else change(field, { [field]: select.value });
  });
  document.addEventListener("click", (event) => {
    if (!(event.target instanceof Element)) return;
    if (event.target.closest('.ticket-box [data-testid="assign-me"]')) assignTo(ME);
    const removeTag = event.target.closest(".ticket-box .tag-remove");
    if (removeTag) {
      const name = removeTag.closest("[data-tag]").getAttribute("data-tag");
      change("tags", () => ({ tags: currentTags().filter((tag) => tag !== name) }));
      $(".ticket-box .tag-input").focus();
    }
    const link = event.target.closest(".customer-panel .link-order");
    if (link) change("order", { order: link.getAttribute("data-order") || null });
    if (event.target.closest('.ticket-box [data-testid="merge-start"]')) askMerge();
    if (event.target.closest('.ticket-box [data-testid="merge-cancel"]')) closeMerge(true);
    if (event.target.closest('.ticket-box [data-testid="merge-confirm-yes"]')) {
      const target = $('.ticket-box [data-testid="merge-target"]');
      closeMerge(false);
      if (target.value) change("into", { into: Number(target.value) });
    }
  });

  // ---- tags: chips from the server's answer, an input that adds one on Enter ----

  function currentTags() {
    return Array.from(document.querySelectorAll(".ticket-box .tag-chip"), (chip) => chip.getAttribute("data-tag"));
  }
  function showTags(tags) {
    const list = $('.ticket-box [data-testid="ticket-tags"]');
    if (!list) return;
    list.replaceChildren(
      ...tags.map((name) =>
        el(
          "li",
          { class: "tag-chip", "data-tag": name },
          el("span", { dir: "auto", text: name }),
          el("button", {
            type: "button",
            class: "tag-remove",
            "data-testid": "tag-remove",
            "aria-label": `Remove tag ${name}`,
            text: "×",
          }),
        ),
      ),
    );
    const options = $("#tag-options");
    for (const name of tags) {
      if (options && !Array.from(options.options).some((o) => o.value === name)) options.append(el("option", { value: name }));
    }
  }
  document.addEventListener("keydown", (event) => {
    const input = event.target;
    if (!(input instanceof HTMLInputElement) || !input.matches(".ticket-box .tag-input")) return;
    if (event.key !== "Enter" || event.isComposing) return;
    event.preventDefault();
    const name = input.value.trim().toLowerCase();
    if (!name) return;
    input.value = "";
    change("tags", () => (currentTags().includes(name) ? null : { tags: [...currentTags(), name] }));
  });

  // ---- merging: pick a ticket, confirm, then this page points at it ----

  function askMerge() {
    const target = $('.ticket-box [data-testid="merge-target"]');
    if (!target || !target.value) return;
    const box = $('.ticket-box [data-testid="merge-confirm"]');
    $("#merge-question").textContent =
      `Merge #${TICKET} into ${target.selectedOptions[0].textContent}? ` +
      "This ticket closes, its conversation is copied there as an internal note, and the customer's new messages go there.";
    box.hidden = false;
    $('[data-testid="merge-confirm-yes"]', box).focus();
  }
  function closeMerge(refocus) {
    const box = $('.ticket-box [data-testid="merge-confirm"]');
    if (box) box.hidden = true;
    if (refocus) $('.ticket-box [data-testid="merge-target"]').focus();
  }
  document.addEventListener("change", (event) => {
    if (!(event.target instanceof Element) || !event.target.matches('.ticket-box [data-testid="merge-target"]')) return;
    $('.ticket-box [data-testid="merge-start"]').disabled = !event.target.value;
    closeMerge(false);
  });
  function showMerged(into) {
    const banner = $('[data-testid="merged-banner"]');
    const link = $('[data-testid="merged-link"]', banner);
    link.href = `/desk/tickets/${Number(into)}/`;
    link.textContent = `#${Number(into)}`;
    banner.hidden = false;
    for (const node of document.querySelectorAll('.ticket-box [data-testid^="merge-"]')) node.disabled = true;
    closeMerge(false);
  }

  // ---- live: system lines and the customer panel, rendered by the server ----

  const conversation = $('[data-testid="conversation"]');
  let lastEvent = Number(document.body.getAttribute("data-last-event")) || 0;
  let eventsRunning = null;
  let eventsAgain = false;
  async function fetchEvents() {
    if (eventsRunning) {
      eventsAgain = true;
      return eventsRunning;
    }
    eventsRunning = (async () => {
      do {
        eventsAgain = false;
        const html = await fragment(`/desk/tickets/${TICKET}/events/?after=${lastEvent}`);
        if (html === null) break;
        const parsed = new DOMParser().parseFromString(html, "text/html");
        for (const line of Array.from(parsed.querySelectorAll('[data-testid="system-event"]'))) {
          const id = Number(line.getAttribute("data-event-id"));
          lastEvent = Math.max(lastEvent, id);
          if (conversation.querySelector(`[data-testid="system-event"][data-event-id="${id}"]`)) continue;
          const node = document.importNode(line, true);
          localTimes(node);
          placeLine(node);
        }
      } while (eventsAgain);
    })();
    try {
      await eventsRunning;
    } finally {
      eventsRunning = null;
    }
  }
  // Before the first item shown later than the line; a message still being sent has no time yet.
  function placeLine(line) {
    const at = Date.parse(line.querySelector("time").getAttribute("datetime"));
    for (const item of conversation.children) {
      const time = item.querySelector("time[datetime]");
      const pending = item.matches('[data-testid="message"]') && !item.getAttribute("data-seq");
      if (pending || (time && time.getAttribute("datetime") && Date.parse(time.getAttribute("datetime")) > at)) {
        conversation.insertBefore(line, item);
        return;
      }
    }
    conversation.append(line);
  }

  async function fragment(url) {
    try {
      const response = await fetch(url, { credentials: "same-origin", headers: { Accept: "text/html" } });
      return response.ok && !response.redirected ? await response.text() : null;
    } catch (e) {
      return null;
    }
  }

  // An earlier conversation opens inline in the panel, read the first time its box opens.
  // (toggle does not bubble: listen in the capture phase.)
  document.addEventListener(
    "toggle",
    async (event) => {
      const box = event.target;
      if (!(box instanceof HTMLDetailsElement) || !box.open || !box.matches(".past-thread-box")) return;
      if (box.getAttribute("data-loaded")) return;
      box.setAttribute("data-loaded", "true");
      const slot = $(".past-thread-slot", box);
      const html = await fragment(box.getAttribute("data-thread-url"));
      const list = html && new DOMParser().parseFromString(html, "text/html").querySelector('[data-testid="past-thread"]');
      if (!list) {
        box.removeAttribute("data-loaded");
        slot.textContent = "The conversation could not be loaded. Close and open to try again.";
        return;
      }
      const node = document.importNode(list, true);
      localTimes(node);
      slot.replaceChildren(node);
    },
    true,
  );

  // The panel is re-rendered whole; open sections, scroll and focus are carried over.
  let contextRunning = false;
  let contextAgain = false;
  async function refreshContext() {
    if (contextRunning) {
      contextAgain = true;
      return;
    }
    contextRunning = true;
    try {
      do {
        contextAgain = false;
        const html = await fragment(`/desk/tickets/${TICKET}/context/`);
        const current = $('[data-testid="customer-panel"]');
        if (html === null || !current) break;
        const next = new DOMParser().parseFromString(html, "text/html").querySelector('[data-testid="customer-panel"]');
        if (!next) break;
        swapPanel(current, document.importNode(next, true));
      } while (contextAgain);
    } finally {
      contextRunning = false;
    }
  }
  function keyOf(node, root) {
    // Where a node sits in the panel: its nearest keyed ancestor and its position there.
    const owner = node.closest("[data-order-number], [data-ticket-id]") || root;
    const key = owner === root ? "" : owner.getAttribute("data-order-number") ? "o" + owner.getAttribute("data-order-number") : "t" + owner.getAttribute("data-ticket-id");
    const index = Array.from(owner.querySelectorAll(node.tagName)).indexOf(node);
    return `${key}|${node.tagName}|${index}`;
  }
  function findKey(root, key) {
    const [owner, tag, index] = key.split("|");
    let scope = root;
    if (owner) {
      const attr = owner[0] === "o" ? "data-order-number" : "data-ticket-id";
      scope = Array.from(root.querySelectorAll(`[${attr}]`)).find((n) => n.getAttribute(attr) === owner.slice(1));
    }
    return scope ? scope.querySelectorAll(tag)[Number(index)] || null : null;
  }
  function swapPanel(current, next) {
    const open = Array.from(current.querySelectorAll("details[open]"), (d) => keyOf(d, current));
    const active = current.contains(document.activeElement) ? keyOf(document.activeElement, current) : null;
    const scrollX = window.scrollX;
    const scrollY = window.scrollY;
    const side = current.closest(".ticket-side");
    const sideScroll = side ? side.scrollTop : 0;
    for (const key of open) {
      const details = findKey(next, key);
      if (details) details.open = true;
    }
    localTimes(next);
    current.replaceWith(next);
    if (side) side.scrollTop = sideScroll;
    window.scrollTo(scrollX, scrollY);
    if (active) {
      const target = findKey(next, active);
      if (target && typeof target.focus === "function") target.focus({ preventScroll: true });
    }
  }

  // A `ticket` event for this ticket: fetch what the side and the thread show of it.
  function onTicketEvent(event) {
    if (event.change === "receipt") return;
    fetchEvents();
    if (["order", "merged", "context"].includes(event.change)) refreshContext();
    if (["tags", "merged", "order"].includes(event.change)) {
      callApi("GET", API).then((answer) => answer.ok && showTicket(answer.data || {}), () => {});
    }
  }

  return {
    control,
    change,
    assignTo,
    showTicket,
    markMoved,
    onTicketEvent,
    focusTags: () => {
      const input = $(".ticket-box .tag-input");
      if (input && !input.disabled) input.focus();
    },
    isRemoved: () => removed,
    movedTo: () => movedTo,
  };
}
