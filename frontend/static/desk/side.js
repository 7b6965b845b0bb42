/* A ticket's side box: status, priority, category, team and assignee, changed
 * through the ticket API one change after another, in the order the agent made them.
 * Controls are looked up on every use: a reconnect re-reads the side column. */
import { $, callApi, el } from "./core.js";

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

  async function save(field, payload) {
    const select = control(field);
    if (removed) {
      if (select) restore(select);
      return;
    }
    clearErrors();
    const assign = field === "team" || field === "assignee";
    if (select) select.setAttribute("aria-busy", "true");
    try {
      const answer = await callApi(assign ? "POST" : "PATCH", assign ? API + "assign/" : API, payload);
      if (answer.ok) {
        showTicket(answer.data || {});
        if (field === "team" && answer.data && answer.data.team) {
          // A transfer may take the ticket out of this agent's teams: a 404 says so.
          const check = await callApi("GET", API);
          if (check.status === 404) {
            movedTo = answer.data.team.name;
            markMoved(movedTo);
          }
        }
      } else if (answer.status === 404) {
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
    if (event.target instanceof Element && event.target.closest('.ticket-box [data-testid="assign-me"]')) assignTo(ME);
  });

  return {
    control,
    change,
    assignTo,
    showTicket,
    markMoved,
    isRemoved: () => removed,
    movedTo: () => movedTo,
  };
}
