/* The managers' reports page (/reports/).
 *
 * The server renders the filter bar and one empty section per report; this module
 * fills each section from GET /api/v1/reports/<name>/ (its data-url) with the bar's values as the
 * query (docs: the reports contract), and keeps the address bar in step so a view
 * can be shared and survives a reload. A section shows its headline figures (with
 * the change from the previous period), charts (charts.js), tables and a CSV link.
 * Each section's data-state says where it is: loading, ready, error or invalid.
 */
import { $, el } from "../desk/core.js";
import { chartFigure, formatChange, formatValue } from "./charts.js";

const FIELDS = ["from", "to", "team", "agent", "channel", "category"];
const DEBOUNCE_MS = 250;

const root = $('[data-testid="reports"]');
const form = $('[data-testid="report-filters"]');
const statusLine = $('[data-testid="reports-status"]');
const periodLine = $('[data-testid="report-period"]');
const sections = Array.from(document.querySelectorAll("section[data-report]"));
let controller = null;
let timer = 0;

const DATE = new Intl.DateTimeFormat(document.documentElement.lang || undefined, {
  day: "numeric",
  month: "short",
  year: "numeric",
  timeZone: "UTC",
});
function day(iso) {
  return DATE.format(new Date(iso + "T00:00:00Z"));
}

function currentQuery() {
  const params = new URLSearchParams();
  for (const name of FIELDS) {
    const value = form.elements[name].value;
    if (value) params.set(name, value);
  }
  return params;
}

// ---- errors of the filter bar ----

function showFieldErrors(errors) {
  for (const name of FIELDS) {
    const control = form.elements[name];
    const line = $(`.field-error[data-for="${name}"]`, form);
    const messages = errors[name] || [];
    line.textContent = messages.join(" ");
    line.hidden = !messages.length;
    control.closest(".filter").classList.toggle("has-error", messages.length > 0);
    if (messages.length) control.setAttribute("aria-invalid", "true");
    else control.removeAttribute("aria-invalid");
  }
  const others = Object.keys(errors).filter((name) => !FIELDS.includes(name));
  let box = $('[data-testid="filter-errors"]', form);
  if (!Object.keys(errors).length) {
    if (box) box.remove();
    return;
  }
  if (!box) {
    box = el("div", { class: "filter-errors", role: "alert", "data-testid": "filter-errors" });
    form.prepend(box);
  }
  box.replaceChildren(el("p", { text: "Some filters are not valid; fix them to see the reports." }));
  if (others.length) {
    box.append(el("ul", {}, ...others.map((name) => el("li", { text: `${name}: ${[].concat(errors[name]).join(" ")}` }))));
  }
}

// ---- one section ----

function setState(section, state, message, retry) {
  section.setAttribute("data-state", state);
  section.setAttribute("aria-busy", state === "loading" ? "true" : "false");
  const body = $(".report-body", section);
  if (state === "loading" && body.querySelector(".figures, .chart-card, .report-table")) return; // keep the old view, dimmed
  if (!message) return;
  const line = el("p", { class: "report-state", "data-state": state, text: message });
  if (retry) {
    const button = el("button", { type: "button", class: "retry", text: "Try again" });
    button.addEventListener("click", () => loadSection(section, currentQuery(), controller ? controller.signal : undefined));
    line.append(" ", button);
  }
  body.replaceChildren(line);
}

function csvHref(url, params) {
  const query = new URLSearchParams(params);
  query.set("format", "csv");
  return `${url}?${query}`;
}

async function loadSection(section, params, signal) {
  const url = section.getAttribute("data-url");
  const csv = $(".csv-link", section);
  csv.href = csvHref(url, params);
  csv.hidden = false;
  setState(section, "loading", "Loading…");
  let response;
  let data = null;
  try {
    response = await fetch(`${url}?${params}`, {
      credentials: "same-origin",
      headers: { Accept: "application/json" },
      signal,
    });
    data = await response.json().catch(() => null);
  } catch (error) {
    if (signal && signal.aborted) return { aborted: true };
    setState(section, "error", "The desk could not be reached.", true);
    return { failed: true };
  }
  if (signal && signal.aborted) return { aborted: true };
  if (response.status === 400 && data && data.errors) {
    csv.hidden = true;
    setState(section, "invalid", "Fix the filters above to see this report.");
    return { errors: data.errors };
  }
  if (!response.ok || !data) {
    setState(section, "error", `This report could not be loaded (HTTP ${response.status}).`, true);
    return { failed: true };
  }
  $(".report-body", section).replaceChildren(...renderReport(data));
  section.setAttribute("data-query", params.toString());
  setState(section, "ready");
  return { data };
}

// ---- what a report shows ----

function verdict(figure) {
  if (figure.change === null || figure.change === undefined) return "none";
  const change = Number(figure.change);
  if (change === 0) return "same";
  if (!figure.better) return "neutral";
  return (change > 0) === (figure.better === "up") ? "better" : "worse";
}

function figureCard(figure) {
  const hasValue = figure.value !== null && figure.value !== undefined;
  const judged = verdict(figure);
  const change = el("span", { class: "figure-change", "data-testid": "figure-change", "data-verdict": judged });
  if (judged === "none") {
    change.textContent = hasValue ? "no data for the previous period" : "";
  } else {
    const arrow = Number(figure.change) > 0 ? "▲" : Number(figure.change) < 0 ? "▼" : "▶";
    change.append(
      el("span", { class: "arrow", "aria-hidden": "true", text: arrow }),
      " ",
      // bdi: a signed number with its unit keeps its order in a right-to-left desk.
      el("bdi", { text: formatChange(figure.change, figure.unit, figure.currency) }),
    );
    if (judged === "better" || judged === "worse") change.append(el("span", { class: "sr-only", text: ` (${judged})` }));
    change.append(
      el("span", { class: "figure-previous" }, " vs ", el("bdi", { text: formatValue(figure.previous, figure.unit, figure.currency) })),
    );
  }
  const value = el("bdi", {
    class: hasValue ? "figure-value" : "figure-value no-data",
    "data-testid": "figure-value",
    text: hasValue ? formatValue(figure.value, figure.unit, figure.currency) : "No data",
  });
  const link = el(
    "a",
    { class: "figure-link", href: figure.tickets, "data-testid": "figure-link" },
    el("span", { class: "figure-label", text: figure.label }),
    value,
    change,
  );
  const notes = [figure.help, typeof figure.count === "number" ? `based on ${figure.count}${figure.count_of && figure.count_of !== "tickets" ? ` ${figure.count_of}` : ""}` : ""].filter(Boolean);
  return el(
    "li",
    { class: "figure-card", "data-testid": "figure", "data-key": figure.key, "data-verdict": judged },
    link,
    notes.length ? el("p", { class: "figure-help", text: notes.join(" · ") }) : null,
  );
}

function cellText(value, column) {
  if (value === null || value === undefined || value === "") return column.unit ? "no data" : "";
  // Columns of changes from the previous period ("tickets_change") read like the figures' changes: signed.
  if (typeof value === "number" && column.key.endsWith("_change")) return formatChange(value, column.unit);
  if (typeof value === "number") return formatValue(value, column.unit === "count" ? "" : column.unit);
  return String(value);
}

function reportTable(table) {
  const numeric = table.columns.map((column) => column.unit !== "");
  const head = el(
    "tr",
    {},
    ...table.columns.map((column, i) => el("th", { scope: "col", class: numeric[i] ? "num" : null, text: column.label })),
  );
  const rows = table.rows.map((row) => {
    const cells = table.columns.map((column, i) => {
      const text = cellText(row.cells[column.key], column);
      if (i === 0) {
        return el("th", { scope: "row", dir: "auto" }, el("a", { href: row.tickets, "data-testid": "row-link", text: text || "(none)" }));
      }
      return el("td", { class: numeric[i] ? "num" : null, dir: numeric[i] ? null : "auto", text });
    });
    return el("tr", { "data-testid": "table-row", "data-key": row.key }, ...cells);
  });
  const body = rows.length
    ? el("tbody", {}, ...rows)
    : el("tbody", {}, el("tr", {}, el("td", { colspan: String(table.columns.length), class: "muted", text: "No rows in this period." })));
  return el(
    "div",
    { class: "table-card" },
    el(
      "div",
      { class: "table-scroll" },
      el(
        "table",
        { class: "report-table", "data-testid": "report-table", "data-table": table.key },
        el("caption", { text: table.title }),
        el("thead", {}, head),
        body,
      ),
    ),
  );
}

function renderReport(report) {
  const parts = [];
  if (report.figures && report.figures.length) {
    parts.push(el("ul", { class: "figures", "data-testid": "figures" }, ...report.figures.map(figureCard)));
  }
  if (report.charts && report.charts.length) {
    parts.push(el("div", { class: "chart-grid" }, ...report.charts.map(chartFigure)));
  }
  if (report.tables && report.tables.length) {
    parts.push(el("div", { class: "table-grid" }, ...report.tables.map(reportTable)));
  }
  if (!parts.length) parts.push(el("p", { class: "report-state", text: "Nothing to show for this period." }));
  return parts;
}

// ---- the whole page ----

async function loadAll() {
  const params = currentQuery();
  history.replaceState(history.state, "", location.pathname + (params.toString() ? `?${params}` : ""));
  if (controller) controller.abort();
  controller = new AbortController();
  const signal = controller.signal;
  statusLine.textContent = "Loading the reports…";
  const results = await Promise.all(sections.map((section) => loadSection(section, params, signal)));
  if (signal.aborted) return;
  const invalid = results.find((result) => result.errors);
  showFieldErrors(invalid ? invalid.errors : {});
  const loaded = results.find((result) => result.data);
  if (loaded) {
    const period = loaded.data.period;
    periodLine.textContent = `${day(period.from)} – ${day(period.to)}, compared with ${day(period.previous_from)} – ${day(period.previous_to)}`;
  }
  const failed = results.filter((result) => result.failed).length;
  statusLine.textContent = invalid
    ? "Some filters are not valid."
    : failed
      ? `Reports updated; ${failed} could not be loaded.`
      : "Reports updated.";
}

function soon() {
  clearTimeout(timer);
  timer = setTimeout(loadAll, DEBOUNCE_MS);
}

form.addEventListener("change", soon);
form.addEventListener("submit", (event) => {
  event.preventDefault();
  clearTimeout(timer);
  loadAll();
});

if (root.getAttribute("data-valid") === "true") loadAll();
