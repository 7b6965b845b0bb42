/* SLA countdowns (docs/sla.md). The server renders each clock from
 * templates/frontend/desk/_sla_clock.html:
 *
 *   <span class="sla-clock" data-sla-due="<ISO>" [data-sla-breached="<ISO>"] data-sla-ticket="<id>">
 *     <span class="sla-clock-time" aria-hidden="true">…</span><span class="sr-only" data-sla-label>…</span>
 *   </span>
 *
 * slaClocks(root) updates every such element under root once a second, so rows
 * the list adds later tick too: the visible text ("9:41", "⚠ 1:41",
 * "-2:05 overdue") and data-sla-state (ok, warning under the warning margin,
 * breached once due or recorded as breached), which the stylesheet colours.
 * The ticking text is hidden from screen readers; they get a sentence that
 * changes only when the state or the whole minutes change.
 * slaUpdate(ticket) takes a `ticket` frame's payload and moves its clocks.
 */

const WARN_MS = 2 * 60 * 1000; // the default policy's warning margin

function pad(n) {
  return String(n).padStart(2, "0");
}

export function formatRemaining(ms) {
  const overdue = ms < 0;
  let seconds = Math.floor(Math.abs(ms) / 1000);
  const hours = Math.floor(seconds / 3600);
  seconds -= hours * 3600;
  const minutes = Math.floor(seconds / 60);
  seconds -= minutes * 60;
  const text = hours ? `${hours}:${pad(minutes)}:${pad(seconds)}` : `${minutes}:${pad(seconds)}`;
  return overdue ? `-${text} overdue` : text;
}

export function slaState(ms, { breached = false, warnMs = WARN_MS } = {}) {
  if (breached || ms <= 0) return "breached";
  return ms <= warnMs ? "warning" : "ok";
}

function sentence(ms, state) {
  const minutes = Math.floor(Math.abs(ms) / 60000);
  const amount = minutes === 1 ? "1 minute" : `${minutes} minutes`;
  if (ms <= 0) return `SLA breached: ${amount} overdue`;
  if (state === "breached") return `SLA breached; next target in ${amount}`;
  return state === "warning" ? `SLA warning: ${amount} left` : `SLA: ${amount} left`;
}

function tick(node, now) {
  const due = Date.parse(node.getAttribute("data-sla-due") || "");
  if (Number.isNaN(due)) return;
  const ms = due - now;
  const warnMs = Number(node.getAttribute("data-sla-warn-seconds")) * 1000 || WARN_MS;
  const state = slaState(ms, { breached: node.hasAttribute("data-sla-breached"), warnMs });
  const time = node.querySelector(".sla-clock-time");
  if (time) time.textContent = (state === "warning" ? "⚠ " : "") + formatRemaining(ms);
  if (node.getAttribute("data-sla-state") !== state) node.setAttribute("data-sla-state", state);
  const label = node.querySelector("[data-sla-label]");
  const said = sentence(ms, state);
  if (label && label.textContent !== said) label.textContent = said; // at most once a minute
}

export function slaClocks(root = document, { now = () => Date.now(), everyMs = 1000 } = {}) {
  const run = () => {
    const at = now();
    for (const node of root.querySelectorAll("[data-sla-due]")) tick(node, at);
  };
  run();
  const timer = setInterval(run, everyMs);
  return () => clearInterval(timer);
}

export function slaUpdate(ticket, root = document) {
  if (!ticket || !("sla_due_at" in ticket)) return;
  for (const node of root.querySelectorAll(`.sla-clock[data-sla-ticket="${Number(ticket.id)}"]`)) {
    node.hidden = !ticket.sla_due_at;
    if (ticket.sla_due_at) node.setAttribute("data-sla-due", ticket.sla_due_at);
    else node.removeAttribute("data-sla-due");
    if (ticket.sla_breached_at) node.setAttribute("data-sla-breached", ticket.sla_breached_at);
    else node.removeAttribute("data-sla-breached");
    if (!ticket.sla_due_at) {
      node.setAttribute("data-sla-state", "none");
    }
  }
}
